/* The HTTP transport's shared state: the server (libmicrohttpd in sd-event), one
 * exchange per HTTP request, and the interface between the server core (http_server.c)
 * and the endpoints (http_routes_*.c).
 *
 * An exchange lives as long as anyone needs it: libmicrohttpd until its request-completed
 * callback, each engine request until its on_done, a streamed response until
 * libmicrohttpd frees it. Each holds a reference. */
#ifndef SLM_IPC_HTTP_SERVER_H
#define SLM_IPC_HTTP_SERVER_H

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "daemon/server_config.h"
#include "ipc/common/buf.h"
#include "ipc/http_api.h"
#include "ipc/metrics.h"
#include "slm/engine.h"

struct http_exchange;

struct http_server {
    sd_event *event;
    slm_engine *engine;
    struct slmd_server_config config; /* a copy: the daemon's may be freed on reload */
    struct MHD_Daemon *mhd;
    sd_event_source *epoll_source;
    sd_event_source *timer_source;
    sd_event_source *run_source; /* runs MHD after we resumed a connection */
    struct http_exchange *exchanges; /* every live exchange (for shutdown) */
    struct ipc_http_counters counters;
    uint64_t next_exchange; /* for response ids */
};

/* Per connection (MHD's socket context): who is on the other end. */
struct http_peer {
    pid_t pid;
    uid_t uid;
    gid_t gid;
    bool known;
    bool allowed;
};

struct http_route;

/* Engine requests per exchange: one per input, and each classify input may be sent
 * once more as token classification. */
#define HTTP_MAX_JOBS (2 * HTTP_API_MAX_INPUTS)

/* One engine request of an exchange (embeddings of three texts make three). */
struct http_job {
    struct http_exchange *x;
    size_t index;
    uint64_t id;
    enum slm_request_kind kind;
    bool done;
};

struct http_exchange {
    struct http_exchange *next, *prev;
    struct http_server *server;
    struct MHD_Connection *conn; /* NULL once MHD completed the request */
    struct http_peer peer;       /* copied: the connection may close before the jobs end */
    const struct http_route *route;
    int refs;
    char id[48]; /* "chatcmpl-..." */
    time_t created;
    /* the request */
    struct slm_buf body;
    bool body_too_large;
    bool started; /* the endpoint ran */
    struct http_api_request req;
    /* the engine requests */
    struct http_job *jobs;
    size_t n_jobs, n_done;
    bool failed; /* one job failed: the others are cancelled and the error is the reply */
    enum slm_status fail_status;
    char fail_message[SLM_ERROR_MSG_MAX];
    json_object *parts; /* per-job results, assembled when all are done */
    uint64_t usage_prompt_tokens; /* summed over the jobs */
    /* the response */
    unsigned status;
    struct MHD_Response *response; /* ready to queue */
    bool suspended;
    bool client_gone;
    sd_event_source *hangup_watch;
    /* streaming (server-sent events) */
    bool streaming; /* the response is a stream */
    struct slm_buf stream;
    bool stream_ended;
    bool stream_started; /* the first chunk (role) was written */
    size_t stream_tokens;
};

/* An endpoint. `start` runs once the whole body is in; it replies (http_reply_*) or
 * submits jobs (http_submit). The job callbacks run on the loop thread. */
struct http_route {
    const char *method;
    const char *path;
    bool path_is_prefix; /* GET /v1/models/{model} */
    void (*start)(struct http_exchange *x, const char *url);
    /* A piece of streamed text (stream requests only). */
    void (*job_token)(struct http_exchange *x, struct http_job *job, const char *piece,
                      size_t len);
    /* A job finished; `r` is valid during the call only. */
    void (*job_done)(struct http_exchange *x, struct http_job *job, const struct slm_result *r);
    /* Every job finished and none failed: build the reply from x->parts. */
    void (*finish)(struct http_exchange *x);
};

/* ---- http_routes.c ---- */
/* The route for method and url; NULL with *allowed set to the method the path takes
 * (405) or NULL (404). */
const struct http_route *http_route_find(const char *method, const char *url,
                                         const char **allowed);

/* ---- http_server.c: used by the endpoints ---- */

/* Submits one engine request for the exchange; 0 or a negative status with err set. */
int http_submit(struct http_exchange *x, const char *model, struct slm_request_params *p,
                size_t index, slm_error *err);
/* Records a failed job: the reply becomes this error; other jobs are cancelled. */
void http_fail_jobs(struct http_exchange *x, enum slm_status status, const char *message);
/* Replies. They build the response now; it goes out as soon as MHD can send it. */
void http_reply_json(struct http_exchange *x, unsigned status, json_object *body);
void http_reply_text(struct http_exchange *x, unsigned status, const char *content_type,
                     const char *text, size_t len);
void http_reply_error(struct http_exchange *x, enum slm_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An error with an explicit HTTP status and OpenAI type/code (403, 404, 405, 413). */
void http_reply_error_status(struct http_exchange *x, unsigned http_status, const char *type,
                             const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Server-sent events: switches the exchange to a stream (the 200 response is sent once
 * the first event is written), appends "data: JSON\n\n", ends with "data: [DONE]". */
void http_stream_event(struct http_exchange *x, json_object *event);
void http_stream_end(struct http_exchange *x);

/* The time used for "created" fields and the id prefix ("cmpl", "chatcmpl"). */
void http_exchange_name(struct http_exchange *x, const char *prefix);

/* ---- endpoints (http_routes_*.c) ---- */
void http_route_models(struct http_exchange *x, const char *url);
void http_route_health(struct http_exchange *x, const char *url);
void http_route_metrics(struct http_exchange *x, const char *url);
extern const struct http_route http_route_completions, http_route_chat;
extern const struct http_route http_route_embeddings, http_route_classify;
extern const struct http_route http_route_tokenize, http_route_detokenize;

#endif
