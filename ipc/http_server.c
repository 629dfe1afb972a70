/* The HTTP transport: libmicrohttpd on the daemon's sd-event loop (DESIGN.md "slmd").
 *
 * MHD runs in external-epoll mode: its epoll fd is one I/O source of our loop, MHD_run()
 * runs when it is readable, and a timer follows MHD_get_timeout(). A request that waits
 * for the engine suspends its connection; the engine's callbacks resume it. While a
 * connection is suspended MHD does not watch its socket, so we do (EPOLLRDHUP): a client
 * that hangs up cancels its engine requests at once, queued or running. Streams are
 * bounded: a client that does not read loses its stream rather than growing our memory. */
#include "ipc/http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/transport.h"
#include "ipc/auth.h"
#include "ipc/json_util.h"
#include "ipc/status_map.h"
#include "ipc/transports.h"
#include "util/checked.h"
#include "util/cleanup.h"

/* Bytes past server.max_body that are still read (and dropped) to answer 413 reliably. */
#define DRAIN_BYTES ((unsigned long long)1 << 20)

/* Seconds a connection may sit idle (a half-sent request, or keep-alive between
 * requests) before MHD closes it. Suspended connections (waiting for the engine) do not
 * time out; the per-request timeout bounds them. */
#define HTTP_IDLE_TIMEOUT_SEC 30
/* Open connections at once. Each holds a file descriptor and MHD's per-connection
 * buffer; systemd's default soft limit is 1024 descriptors. */
#define HTTP_MAX_CONNECTIONS 256
/* Server-sent event bytes buffered for one stream that the client has not read yet.
 * Generation produces a few kB/s; a megabyte is minutes of a client not reading. */
#define HTTP_STREAM_BUFFER_MAX (1u << 20)
/* Bytes MHD asks the stream reader for at most. */
#define HTTP_STREAM_BLOCK 4096

struct http_transport_state {
    struct http_server server;
    struct http_peer_node *peers;
    uint64_t id_salt;
};

struct http_peer_node {
    struct http_peer peer; /* first: MHD's socket context points here */
    struct http_peer_node *next, *prev;
    struct http_transport_state *owner;
};

/* ---- the loop ---- */

static void update_timer(struct http_server *s)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (!s->mhd || MHD_get_timeout(s->mhd, &ms) != MHD_YES) {
        sd_event_source_set_enabled(s->timer_source, SD_EVENT_OFF);
        return;
    }
    uint64_t usec = ms > UINT64_MAX / 1000 ? UINT64_MAX / 2 : (uint64_t)ms * 1000;
    sd_event_source_set_time_relative(s->timer_source, usec);
    sd_event_source_set_enabled(s->timer_source, SD_EVENT_ONESHOT);
}

static void run_mhd(struct http_server *s)
{
    if (!s->mhd)
        return;
    MHD_run(s->mhd);
    update_timer(s);
}

static int on_epoll(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    run_mhd(userdata);
    return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
    run_mhd(userdata);
    return 0;
}

static int on_run(sd_event_source *src, void *userdata)
{
    run_mhd(userdata);
    return 0;
}

static void kick(struct http_server *s)
{
    sd_event_source_set_enabled(s->run_source, SD_EVENT_ONESHOT);
}

/* ---- exchanges ---- */

static void job_cancel_all(struct http_exchange *x)
{
    for (size_t i = 0; i < x->n_jobs; i++)
        if (!x->jobs[i].done)
            slm_engine_cancel(x->server->engine, x->jobs[i].id);
}

static void unwatch_hangup(struct http_exchange *x)
{
    x->hangup_watch = sd_event_source_disable_unref(x->hangup_watch);
}

static void exchange_free(struct http_exchange *x)
{
    struct http_server *s = x->server;
    if (x->prev)
        x->prev->next = x->next;
    else
        s->exchanges = x->next;
    if (x->next)
        x->next->prev = x->prev;
    unwatch_hangup(x);
    if (x->response)
        MHD_destroy_response(x->response);
    if (x->streaming && s->counters.streams_open)
        s->counters.streams_open--;
    slm_buf_deinit(&x->body);
    slm_buf_deinit(&x->stream);
    http_api_request_free(&x->req);
    json_object_put(x->parts);
    free(x->jobs);
    free(x);
}

static void exchange_unref(struct http_exchange *x)
{
    if (--x->refs == 0)
        exchange_free(x);
}

static struct http_exchange *exchange_new(struct http_server *s, struct MHD_Connection *conn)
{
    struct http_exchange *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->server = s;
    x->conn = conn;
    x->refs = 1; /* MHD's, until on_completed */
    slm_buf_init(&x->body, (size_t)SLM_MIN(s->config.max_body, (uint64_t)SIZE_MAX / 2));
    slm_buf_init(&x->stream, HTTP_STREAM_BUFFER_MAX);
    x->next = s->exchanges;
    if (s->exchanges)
        s->exchanges->prev = x;
    s->exchanges = x;
    return x;
}

static void resume(struct http_exchange *x);

static int on_hangup(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
    struct http_exchange *x = userdata;
    unwatch_hangup(x);
    if (!x->client_gone) {
        x->client_gone = true;
        x->server->counters.client_disconnects++;
        slmd_logf(LOG_INFO,
                  &(struct slmd_log_fields){.has_client_uid = x->peer.known,
                                            .client_uid = x->peer.uid,
                                            .request_id = x->n_jobs ? x->jobs[0].id : 0},
                  "HTTP: the client closed its connection; cancelling its request");
        job_cancel_all(x);
    }
    resume(x); /* MHD then sees the closed socket and completes the request */
    return 0;
}

static void watch_hangup(struct http_exchange *x)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(x->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info || x->hangup_watch)
        return;
    if (sd_event_add_io(x->server->event, &x->hangup_watch, info->connect_fd, EPOLLRDHUP,
                        on_hangup, x) < 0)
        x->hangup_watch = NULL; /* then a hang-up is noticed when the answer is sent */
}

static void suspend(struct http_exchange *x)
{
    if (x->suspended || !x->conn)
        return;
    MHD_suspend_connection(x->conn);
    x->suspended = true;
    watch_hangup(x);
}

static void resume(struct http_exchange *x)
{
    if (!x->suspended || !x->conn)
        return;
    unwatch_hangup(x);
    x->suspended = false;
    MHD_resume_connection(x->conn);
    kick(x->server);
}

/* ---- responses ---- */

static void set_response(struct http_exchange *x, unsigned status, struct MHD_Response *r)
{
    if (!r) {
        slmd_log_warning("HTTP: out of memory building a response");
        x->client_gone = true; /* nothing to say: close the connection */
        job_cancel_all(x);
        resume(x);
        return;
    }
    if (x->response)
        MHD_destroy_response(x->response);
    x->response = r;
    x->status = status;
    resume(x);
}

static struct MHD_Response *buffer_response(const char *content_type, const char *data,
                                            size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    return r;
}

void http_reply_text(struct http_exchange *x, unsigned status, const char *content_type,
                     const char *text, size_t len)
{
    set_response(x, status, buffer_response(content_type, text, len));
}

void http_reply_json(struct http_exchange *x, unsigned status, json_object *body)
{
    size_t len = 0;
    const char *text = body ? json_to_text(body, &len) : NULL;
    if (!text) {
        set_response(x, status, NULL);
    } else {
        struct slm_buf line;
        slm_buf_init(&line, 0);
        slm_buf_append(&line, text, len);
        slm_buf_puts(&line, "\n");
        set_response(x, status,
                     line.failed ? NULL : buffer_response("application/json", line.data, line.len));
        slm_buf_deinit(&line);
    }
    json_object_put(body);
}

static json_object *error_body(const char *message, const char *type, const char *code)
{
    json_object *error = json_object_new_object(), *body = json_object_new_object();
    if (!error || !body) {
        json_object_put(error);
        json_object_put(body);
        return NULL;
    }
    json_object_object_add(error, "message", json_new_text(message, strlen(message)));
    json_object_object_add(error, "type", json_object_new_string(type));
    json_object_object_add(error, "param", NULL);
    json_object_object_add(error, "code", json_object_new_string(code));
    json_object_object_add(body, "error", error);
    return body;
}

__attribute__((format(printf, 5, 0))) static void
reply_error_v(struct http_exchange *x, unsigned status, const char *type, const char *code,
              const char *fmt, va_list ap)
{
    char message[SLM_ERROR_MSG_MAX + 128];
    vsnprintf(message, sizeof(message), fmt, ap);
    http_reply_json(x, status, error_body(message, type, code));
}

void http_reply_error_status(struct http_exchange *x, unsigned http_status, const char *type,
                             const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_error_v(x, http_status, type, code, fmt, ap);
    va_end(ap);
}

void http_reply_error(struct http_exchange *x, enum slm_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_error_v(x, ipc_http_status(status), ipc_openai_error_type(status),
                  ipc_openai_error_code(status), fmt, ap);
    va_end(ap);
}

/* ---- streams ---- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct http_exchange *x = cls;
    if (x->client_gone)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (x->stream.len) {
        size_t n = SLM_MIN(max, x->stream.len);
        memcpy(buf, x->stream.data, n);
        slm_buf_consume(&x->stream, n);
        return (ssize_t)n;
    }
    if (x->stream_ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    suspend(x); /* until the next event */
    return 0;
}

static void stream_free(void *cls) { exchange_unref(cls); }

static bool start_stream(struct http_exchange *x)
{
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, HTTP_STREAM_BLOCK, stream_read, x, stream_free);
    if (!r)
        return false;
    x->refs++; /* the reader's, released by stream_free */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    x->streaming = true;
    x->server->counters.streams_open++;
    set_response(x, MHD_HTTP_OK, r);
    return true;
}

static void stream_append(struct http_exchange *x, const char *data, size_t len)
{
    if (x->client_gone || x->stream_ended)
        return;
    if (!x->streaming && !start_stream(x)) {
        set_response(x, 500, NULL);
        return;
    }
    if (!slm_buf_append(&x->stream, data, len)) {
        /* the client stopped reading (or memory ran out): drop the stream */
        slmd_logf(LOG_WARNING,
                  &(struct slmd_log_fields){.has_client_uid = x->peer.known,
                                            .client_uid = x->peer.uid,
                                            .request_id = x->n_jobs ? x->jobs[0].id : 0},
                  "HTTP: the client does not read its stream (%u bytes waiting); cancelling",
                  HTTP_STREAM_BUFFER_MAX);
        x->client_gone = true;
        x->server->counters.client_disconnects++;
        job_cancel_all(x);
    }
    resume(x);
}

void http_stream_event(struct http_exchange *x, json_object *event)
{
    size_t len = 0;
    const char *text = event ? json_to_text(event, &len) : NULL;
    if (text) {
        stream_append(x, "data: ", 6);
        stream_append(x, text, len);
        stream_append(x, "\n\n", 2);
    }
    json_object_put(event);
}

void http_stream_end(struct http_exchange *x)
{
    stream_append(x, "data: [DONE]\n\n", 14);
    x->stream_ended = true;
    resume(x);
}

/* ---- engine requests ---- */

static void maybe_finish(struct http_exchange *x)
{
    if (x->n_done < x->n_jobs || x->response || x->streaming || x->client_gone || !x->conn)
        return;
    if (x->failed)
        http_reply_error(x, x->fail_status, "%s", x->fail_message);
    else
        x->route->finish(x);
}

static void on_job_token(void *userdata, const char *piece, size_t len)
{
    struct http_job *job = userdata;
    struct http_exchange *x = job->x;
    if (x->client_gone || !x->conn || x->stream_ended || !x->route->job_token)
        return;
    x->route->job_token(x, job, piece, len);
}

static void on_job_done(void *userdata, const struct slm_result *r)
{
    struct http_job *job = userdata;
    struct http_exchange *x = job->x;
    job->done = true;
    x->n_done++;
    /* after a failure the other jobs were cancelled: their ends say nothing new */
    if (!x->client_gone && !x->failed && x->conn && (!x->response || x->streaming) &&
        !x->stream_ended)
        x->route->job_done(x, job, r);
    maybe_finish(x);
    exchange_unref(x);
}

int http_submit(struct http_exchange *x, const char *model, struct slm_request_params *p,
                size_t index, slm_error *err)
{
    struct http_server *s = x->server;
    if (!x->jobs) {
        x->jobs = calloc(HTTP_MAX_JOBS, sizeof(*x->jobs));
        if (!x->jobs)
            return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    }
    if (x->n_jobs == HTTP_MAX_JOBS)
        return slm_errorf(err, SLM_ERR_INVALID, "too many engine requests for one exchange");
    struct http_job *job = &x->jobs[x->n_jobs];
    *job = (struct http_job){.x = x, .index = index, .kind = p->kind};
    p->client_id = x->peer.uid;
    p->timeout_usec = s->config.request_timeout_usec;
    struct slm_request_callbacks cb = {p->stream ? on_job_token : NULL, on_job_done, job};
    job->id = slm_engine_submit(s->engine, model, p, &cb, err);
    if (!job->id)
        return -(int)err->status;
    x->n_jobs++;
    x->refs++; /* the job's, released in on_job_done */
    return 0;
}

void http_fail_jobs(struct http_exchange *x, enum slm_status status, const char *message)
{
    if (x->failed)
        return;
    x->failed = true;
    x->fail_status = status;
    snprintf(x->fail_message, sizeof(x->fail_message), "%s", message);
    job_cancel_all(x);
}

void http_exchange_name(struct http_exchange *x, const char *prefix)
{
    struct http_transport_state *t = (struct http_transport_state *)x->server;
    x->created = time(NULL);
    snprintf(x->id, sizeof(x->id), "%s-%016" PRIx64, prefix,
             (uint64_t)(t->id_salt ^ (x->server->next_exchange++ * UINT64_C(0x9e3779b97f4a7c15))));
}

/* ---- MHD callbacks ---- */

static enum MHD_Result queue(struct http_exchange *x)
{
    struct MHD_Response *r = x->response;
    x->response = NULL;
    unsigned cls = x->status / 100;
    if (cls >= 2 && cls <= 5)
        x->server->counters.requests_by_class[cls]++;
    enum MHD_Result result = MHD_queue_response(x->conn, x->status, r);
    MHD_destroy_response(r);
    return result;
}

static void refuse_early(struct http_exchange *x, const char *method, const char *url,
                         struct MHD_Connection *conn)
{
    struct http_server *s = x->server;
    const char *allowed = NULL;
    if (!x->peer.allowed) {
        http_reply_error_status(
            x, 403, "permission_error", "access_denied",
            "uid %u may not use slmd: only root, slmd's own user and members of "
            "server.allowed_groups in slmd.yaml may",
            (unsigned)x->peer.uid);
        return;
    }
    x->route = http_route_find(method, url, &allowed);
    if (!x->route) {
        if (allowed)
            http_reply_error_status(x, 405, "invalid_request_error", "method_not_allowed",
                                    "%s does not take %s", url, method);
        else
            http_reply_error_status(x, 404, "invalid_request_error", "unknown_url",
                                    "no endpoint %s %s (see docs/api.md)", method, url);
        if (allowed && x->response)
            MHD_add_response_header(x->response, MHD_HTTP_HEADER_ALLOW, allowed);
        return;
    }
    const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
        errno = 0;
        char *end;
        unsigned long long n = strtoull(length, &end, 10);
        if (!errno && !*end && n > s->config.max_body) {
            /* A client writing its body does not read until it is sent: answered now and
             * closed, it may get EPIPE and lose the answer. A body up to DRAIN_BYTES past
             * the limit is read and dropped so the 413 arrives; a larger one is refused
             * at once (nobody waits for a gigabyte to be discarded). */
            if (n - s->config.max_body <= DRAIN_BYTES)
                x->body_too_large = true;
            else
                http_reply_error_status(x, 413, "invalid_request_error", "body_too_large",
                                        "the body has %llu bytes; server.max_body is %" PRIu64,
                                        n, s->config.max_body);
        }
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct http_server *s = cls;
    struct http_exchange *x = *con_cls;
    if (!x) {
        x = exchange_new(s, conn);
        if (!x)
            return MHD_NO;
        *con_cls = x;
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (info && info->socket_context)
            x->peer = *(const struct http_peer *)info->socket_context;
        refuse_early(x, method, url, conn);
        return x->response ? queue(x) : MHD_YES;
    }
    if (*upload_data_size) {
        if (!x->body_too_large && !slm_buf_append(&x->body, upload_data, *upload_data_size))
            x->body_too_large = true; /* keep reading (and dropping) to answer 413 */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!x->started) {
        x->started = true;
        if (x->body_too_large)
            http_reply_error_status(x, 413, "invalid_request_error", "body_too_large",
                                    "the body is larger than server.max_body (%" PRIu64
                                    " bytes)",
                                    s->config.max_body);
        else
            x->route->start(x, url);
    }
    if (x->response)
        return queue(x);
    if (x->client_gone)
        return MHD_NO; /* closes the connection */
    suspend(x);        /* until the engine answers */
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_exchange *x = *con_cls;
    if (!x)
        return;
    *con_cls = NULL;
    if (x->n_done < x->n_jobs && !x->client_gone) {
        x->client_gone = true;
        x->server->counters.client_disconnects++;
        slmd_logf(LOG_INFO,
                  &(struct slmd_log_fields){.has_client_uid = x->peer.known,
                                            .client_uid = x->peer.uid,
                                            .request_id = x->n_jobs ? x->jobs[0].id : 0},
                  "HTTP: the connection ended before the answer (code %d); cancelling",
                  (int)toe);
        job_cancel_all(x);
    }
    unwatch_hangup(x);
    x->suspended = false;
    x->conn = NULL;
    exchange_unref(x);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_transport_state *t = cls;
    struct http_server *s = &t->server;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct http_peer_node *node = *socket_context;
        if (node) {
            if (node->prev)
                node->prev->next = node->next;
            else
                t->peers = node->next;
            if (node->next)
                node->next->prev = node->prev;
            free(node);
        }
        *socket_context = NULL;
        if (s->counters.connections_open)
            s->counters.connections_open--;
        /* At the descriptor limit (EMFILE on accept) or at HTTP_MAX_CONNECTIONS, MHD takes
         * its listening socket out of its epoll set, and puts it back only at a run after
         * a connection closed. Nothing else may wake the loop for that run (the closed
         * connection's events are already consumed), so without this one the socket
         * would accept nothing ever again. */
        kick(s);
        return;
    }
    s->counters.connections_total++;
    s->counters.connections_open++;
    struct http_peer_node *node = calloc(1, sizeof(*node));
    *socket_context = node;
    if (!node)
        return; /* no peer: every request is refused */
    node->owner = t;
    node->next = t->peers;
    if (t->peers)
        t->peers->prev = node;
    t->peers = node;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (info && getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        node->peer.known = true;
        node->peer.pid = cred.pid;
        node->peer.uid = cred.uid;
        node->peer.gid = cred.gid;
        node->peer.allowed = ipc_caller_allowed(&s->config, cred.uid, cred.gid);
    }
    if (!node->peer.allowed) {
        s->counters.refused_peers++;
        slmd_logf(LOG_NOTICE,
                  &(struct slmd_log_fields){.has_client_uid = node->peer.known,
                                            .client_uid = node->peer.uid},
                  "HTTP: refusing a connection from %s %u (pid %d): not in allowed_groups",
                  node->peer.known ? "uid" : "an unknown peer", (unsigned)node->peer.uid,
                  (int)node->peer.pid);
    }
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt,
                                                              va_list ap)
{
    char text[512];
    vsnprintf(text, sizeof(text), fmt, ap);
    size_t n = strlen(text);
    while (n && text[n - 1] == '\n')
        text[--n] = '\0';
    slmd_log_debug("HTTP: %s", text);
}

/* ---- the transport ---- */

static void http_stop(void *state);

static int http_start(const struct slmd_transport_context *ctx, void **state, slm_error *err)
{
    struct http_transport_state *t = calloc(1, sizeof(*t));
    if (!t)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    struct http_server *s = &t->server;
    s->event = ctx->event;
    s->engine = ctx->engine;
    s->config = *ctx->config;
    if (getrandom(&t->id_salt, sizeof(t->id_salt), GRND_NONBLOCK) != sizeof(t->id_salt))
        t->id_salt = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
    /* MHD closes its listening socket when it stops; the daemon owns this one */
    int fd = fcntl(ctx->listen_fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
        free(t);
        return slm_errorf(err, SLM_ERR_IO, "cannot duplicate the API socket: %s",
                          strerror(errno));
    }
    s->mhd = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, s, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, t, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)HTTP_IDLE_TIMEOUT_SEC, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)HTTP_MAX_CONNECTIONS, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_END);
    if (!s->mhd) {
        close(fd);
        free(t);
        return slm_errorf(err, SLM_ERR_IO, "libmicrohttpd could not start on the API socket");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    int r = info ? sd_event_add_io(s->event, &s->epoll_source, info->epoll_fd, EPOLLIN,
                                   on_epoll, s)
                 : -EINVAL;
    if (r >= 0)
        r = sd_event_add_time_relative(s->event, &s->timer_source, CLOCK_MONOTONIC,
                                       UINT64_MAX / 2, 1000, on_timer, s);
    if (r >= 0)
        r = sd_event_add_defer(s->event, &s->run_source, on_run, s);
    if (r < 0) {
        http_stop(t);
        return slm_errorf(err, SLM_ERR_IO, "cannot add the HTTP server to the loop: %s",
                          strerror(-r));
    }
    sd_event_source_set_description(s->epoll_source, "http-epoll");
    sd_event_source_set_description(s->timer_source, "http-timer");
    sd_event_source_set_description(s->run_source, "http-run");
    sd_event_source_set_enabled(s->run_source, SD_EVENT_OFF);
    run_mhd(s);
    slmd_log_info("HTTP: serving the OpenAI-compatible API on the socket");
    *state = t;
    return 0;
}

static void http_config_changed(void *state, const struct slmd_server_config *config)
{
    struct http_transport_state *t = state;
    t->server.config = *config;
    /* allowed_groups may have changed: judge the open connections again */
    for (struct http_peer_node *n = t->peers; n; n = n->next)
        if (n->peer.known)
            n->peer.allowed = ipc_caller_allowed(config, n->peer.uid, n->peer.gid);
}

static void http_stop(void *state)
{
    struct http_transport_state *t = state;
    if (!t)
        return;
    struct http_server *s = &t->server;
    /* MHD must not stop with suspended connections: resume them all, cancelled */
    for (struct http_exchange *x = s->exchanges; x; x = x->next) {
        x->client_gone = true;
        job_cancel_all(x);
        resume(x);
    }
    if (s->mhd) {
        MHD_run(s->mhd);
        MHD_stop_daemon(s->mhd);
        s->mhd = NULL;
    }
    /* what is left waits for engine callbacks that will not come (the engine goes next) */
    while (s->exchanges)
        exchange_free(s->exchanges);
    while (t->peers) {
        struct http_peer_node *n = t->peers;
        t->peers = n->next;
        free(n);
    }
    sd_event_source_disable_unref(s->epoll_source);
    sd_event_source_disable_unref(s->timer_source);
    sd_event_source_disable_unref(s->run_source);
    free(t);
}

const struct slmd_transport slm_http_transport = {
    .name = "HTTP",
    .start = http_start,
    .config_changed = http_config_changed,
    .stop = http_stop,
};
