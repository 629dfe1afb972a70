/* Engine requests made over D-Bus, and org.slmd.Slmd1.Request objects.
 *
 * A method call is answered when the engine finishes: the job keeps a reference to the
 * call's message and replies from on_done, so a long generation never blocks the loop or
 * other callers. StartGenerate/StartChat answer at once with the path of a request object
 * /org/slmd/Slmd1/requests/<id>, then send Token(s) signals and one Finished(s, a{ss})
 * as unicast signals to the caller only; Cancel() on the object stops it. A caller that
 * leaves the bus has its jobs cancelled, and nothing is sent to it any more. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "ipc/common/protocol.h"
#include "ipc/dbus_args.h"
#include "ipc/dbus_service.h"
#include "ipc/status_map.h"
#include "util/cleanup.h"

/* Bytes libdbus may hold for sending before a stream is cancelled: a caller that does
 * not read its Token signals makes the bus daemon's queue (and then ours) grow; past
 * this the caller is clearly not keeping up. */
#define STREAM_OUTGOING_MAX (8u << 20)

struct dbus_job {
    struct dbus_job *next;
    struct dbus_service *service;
    uint64_t id; /* the engine's request id */
    enum dbus_reply_kind kind;
    DBusMessage *call; /* to reply to; NULL for streams (answered at submit) */
    char *sender;
    uid_t uid;
    char *model;
    char path[64]; /* streams: the request object */
    bool orphaned; /* the caller left or the stream was cut: say nothing more */
};

static void unlink_job(struct dbus_service *s, struct dbus_job *job)
{
    for (struct dbus_job **p = &s->jobs; *p; p = &(*p)->next)
        if (*p == job) {
            *p = job->next;
            s->n_jobs--;
            return;
        }
}

static void free_job(struct dbus_job *job)
{
    if (job->call)
        dbus_message_unref(job->call);
    free(job->sender);
    free(job->model);
    free(job);
}

static struct dbus_job *find_job(struct dbus_service *s, uint64_t id)
{
    for (struct dbus_job *j = s->jobs; j; j = j->next)
        if (j->id == id)
            return j;
    return NULL;
}

bool dbus_job_exists(struct dbus_service *s, uint64_t id)
{
    struct dbus_job *j = find_job(s, id);
    return j && j->kind == DBUS_REPLY_STREAM;
}

size_t dbus_job_labels(struct dbus_service *s, char (*labels)[24], size_t cap)
{
    size_t n = 0;
    for (struct dbus_job *j = s->jobs; j && n < cap; j = j->next)
        if (j->kind == DBUS_REPLY_STREAM)
            snprintf(labels[n++], sizeof(labels[0]), "%" PRIu64, j->id);
    return n;
}

/* ---- results → replies ---- */

static bool append_labels(DBusMessageIter *iter, const struct slm_result *r)
{
    DBusMessageIter array;
    if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "(sd)", &array))
        return false;
    for (size_t i = 0; i < r->n_labels; i++) {
        DBusMessageIter entry;
        double score = r->labels[i].score;
        const char *label = r->labels[i].label ? r->labels[i].label : "";
        if (!dbus_message_iter_open_container(&array, DBUS_TYPE_STRUCT, NULL, &entry))
            goto fail;
        if (!dbus_args_append_text(&entry, label, strlen(label)) ||
            !dbus_message_iter_append_basic(&entry, DBUS_TYPE_DOUBLE, &score)) {
            dbus_message_iter_abandon_container(&array, &entry);
            goto fail;
        }
        if (!dbus_message_iter_close_container(&array, &entry))
            goto fail;
    }
    return dbus_message_iter_close_container(iter, &array);
fail:
    dbus_message_iter_abandon_container(iter, &array);
    return false;
}

static bool append_entities(DBusMessageIter *iter, const struct slm_result *r)
{
    DBusMessageIter array;
    if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "(suud)", &array))
        return false;
    for (size_t i = 0; i < r->n_entities; i++) {
        const struct slm_entity *e = &r->entities[i];
        DBusMessageIter entry;
        dbus_uint32_t start = e->start, end = e->end;
        double score = e->score;
        const char *label = e->label ? e->label : "";
        if (!dbus_message_iter_open_container(&array, DBUS_TYPE_STRUCT, NULL, &entry))
            goto fail;
        if (!dbus_args_append_text(&entry, label, strlen(label)) ||
            !dbus_message_iter_append_basic(&entry, DBUS_TYPE_UINT32, &start) ||
            !dbus_message_iter_append_basic(&entry, DBUS_TYPE_UINT32, &end) ||
            !dbus_message_iter_append_basic(&entry, DBUS_TYPE_DOUBLE, &score)) {
            dbus_message_iter_abandon_container(&array, &entry);
            goto fail;
        }
        if (!dbus_message_iter_close_container(&array, &entry))
            goto fail;
    }
    return dbus_message_iter_close_container(iter, &array);
fail:
    dbus_message_iter_abandon_container(iter, &array);
    return false;
}

static bool append_embedding(DBusMessageIter *iter, const struct slm_result *r)
{
    DBusMessageIter array;
    if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "d", &array))
        return false;
    for (size_t i = 0; i < r->n_embedding; i++) {
        double v = r->embedding[i];
        if (!dbus_message_iter_append_basic(&array, DBUS_TYPE_DOUBLE, &v)) {
            dbus_message_iter_abandon_container(iter, &array);
            return false;
        }
    }
    return dbus_message_iter_close_container(iter, &array);
}

static bool append_tokens(DBusMessageIter *iter, const struct slm_result *r)
{
    DBusMessageIter array;
    if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "u", &array))
        return false;
    for (size_t i = 0; i < r->n_tokens; i++) {
        dbus_uint32_t v = (dbus_uint32_t)r->tokens[i];
        if (!dbus_message_iter_append_basic(&array, DBUS_TYPE_UINT32, &v)) {
            dbus_message_iter_abandon_container(iter, &array);
            return false;
        }
    }
    return dbus_message_iter_close_container(iter, &array);
}

static DBusMessage *build_reply(struct dbus_job *job, const struct slm_result *r)
{
    if (r->status != SLM_OK)
        return dbus_message_new_error(job->call, ipc_dbus_error_name(r->status),
                                      r->error && *r->error ? r->error : "the request failed");
    DBusMessage *reply = dbus_message_new_method_return(job->call);
    if (!reply)
        return NULL;
    DBusMessageIter iter;
    dbus_message_iter_init_append(reply, &iter);
    bool ok = false;
    switch (job->kind) {
    case DBUS_REPLY_TEXT:
        ok = dbus_args_append_text(&iter, r->text, r->text_len) &&
             dbus_args_append_info(&iter, job->model, r);
        break;
    case DBUS_REPLY_LABELS: ok = append_labels(&iter, r); break;
    case DBUS_REPLY_ENTITIES: ok = append_entities(&iter, r); break;
    case DBUS_REPLY_EMBEDDING: ok = append_embedding(&iter, r); break;
    case DBUS_REPLY_TOKENS: ok = append_tokens(&iter, r); break;
    case DBUS_REPLY_STREAM: ok = false; break;
    }
    if (!ok) {
        dbus_message_unref(reply);
        return dbus_message_new_error(job->call, SLM_DBUS_ERROR_FAILED,
                                      "out of memory building the reply");
    }
    return reply;
}

/* ---- signals of request objects ---- */

static void send_signal(struct dbus_job *job, DBusMessage *signal)
{
    if (!signal || !dbus_message_set_destination(signal, job->sender)) {
        if (signal)
            dbus_message_unref(signal);
        slmd_log_warning("D-Bus: out of memory sending a signal");
        return;
    }
    dbus_send_reply(job->service, signal);
}

static void on_token(void *userdata, const char *piece, size_t len)
{
    struct dbus_job *job = userdata;
    struct dbus_service *s = job->service;
    if (job->orphaned || !s->conn)
        return;
    if (dbus_connection_get_outgoing_size(s->conn) > STREAM_OUTGOING_MAX) {
        slmd_logf(LOG_WARNING,
                  &(struct slmd_log_fields){.model = job->model, .request_id = job->id,
                                            .has_client_uid = true, .client_uid = job->uid},
                  "D-Bus: %s does not read its Token signals; cancelling the request",
                  job->sender);
        job->orphaned = true;
        slm_engine_cancel(s->engine, job->id);
        return;
    }
    DBusMessage *signal = dbus_message_new_signal(job->path, SLM_DBUS_REQUEST_INTERFACE, "Token");
    DBusMessageIter iter;
    if (signal) {
        dbus_message_iter_init_append(signal, &iter);
        if (!dbus_args_append_text(&iter, piece, len)) {
            dbus_message_unref(signal);
            signal = NULL;
        }
    }
    send_signal(job, signal);
}

static void send_finished(struct dbus_job *job, const struct slm_result *r)
{
    DBusMessage *signal =
        dbus_message_new_signal(job->path, SLM_DBUS_REQUEST_INTERFACE, "Finished");
    DBusMessageIter iter;
    if (signal) {
        const char *reason = r->finish_reason ? r->finish_reason : "error";
        dbus_message_iter_init_append(signal, &iter);
        if (!dbus_args_append_text(&iter, reason, strlen(reason)) ||
            !dbus_args_append_info(&iter, job->model, r)) {
            dbus_message_unref(signal);
            signal = NULL;
        }
    }
    send_signal(job, signal);
}

static void on_done(void *userdata, const struct slm_result *r)
{
    struct dbus_job *job = userdata;
    struct dbus_service *s = job->service;
    unlink_job(s, job);
    if (r->status != SLM_OK && r->status != SLM_ERR_CANCELLED)
        slmd_logf(LOG_INFO,
                  &(struct slmd_log_fields){.model = job->model, .request_id = job->id,
                                            .has_client_uid = true, .client_uid = job->uid},
                  "D-Bus request failed: %s", r->error);
    if (!job->orphaned && s->conn) {
        if (job->kind == DBUS_REPLY_STREAM)
            send_finished(job, r);
        else if (!dbus_message_get_no_reply(job->call))
            dbus_send_reply(s, build_reply(job, r));
    }
    free_job(job);
}

/* ---- submitting ---- */

void dbus_job_submit(struct dbus_call *call, const char *model, enum dbus_reply_kind kind,
                     struct slm_request_params *params)
{
    struct dbus_service *s = call->service;
    struct dbus_job *job = calloc(1, sizeof(*job));
    if (!job || !(job->sender = strdup(call->sender)) || !(job->model = strdup(model))) {
        if (job)
            free_job(job);
        dbus_reply_error(call, SLM_DBUS_ERROR_FAILED, "out of memory");
        return;
    }
    job->service = s;
    job->kind = kind;
    job->uid = call->uid;
    params->client_id = call->uid;
    params->timeout_usec = s->config.request_timeout_usec;
    struct slm_request_callbacks callbacks = {kind == DBUS_REPLY_STREAM ? on_token : NULL,
                                              on_done, job};
    slm_error err;
    job->id = slm_engine_submit(s->engine, model, params, &callbacks, &err);
    if (!job->id) {
        free_job(job);
        dbus_reply_error(call, ipc_dbus_error_name(err.status), "%s", err.message);
        return;
    }
    job->next = s->jobs;
    s->jobs = job;
    s->n_jobs++;
    if (kind != DBUS_REPLY_STREAM) {
        job->call = dbus_message_ref(call->message);
        return;
    }
    /* the reply goes out before any Token signal: both are queued in this order */
    snprintf(job->path, sizeof(job->path), "%s/%" PRIu64, SLM_DBUS_REQUESTS_PATH, job->id);
    DBusMessage *reply = dbus_message_new_method_return(call->message);
    const char *path = job->path;
    if (reply && !dbus_message_append_args(reply, DBUS_TYPE_OBJECT_PATH, &path,
                                           DBUS_TYPE_INVALID)) {
        dbus_message_unref(reply);
        reply = NULL;
    }
    if (!reply) {
        job->orphaned = true;
        slm_engine_cancel(s->engine, job->id);
    }
    dbus_send_reply(s, reply);
}

/* ---- Cancel() ---- */

static void cancel(struct dbus_call *call)
{
    struct dbus_service *s = call->service;
    uint64_t id = strtoull(call->object, NULL, 10);
    struct dbus_job *job = find_job(s, id);
    if (!job) {
        dbus_reply_empty(call); /* finished meanwhile: nothing left to cancel */
        return;
    }
    /* its caller, another connection of the same user (a shell cancelling what an app
     * started), or root */
    if (strcmp(job->sender, call->sender) && call->uid != job->uid && call->uid != 0) {
        dbus_reply_error(call, SLM_DBUS_ERROR_ACCESS_DENIED,
                         "request %s belongs to another client", call->object);
        return;
    }
    slm_engine_cancel(s->engine, job->id);
    dbus_reply_empty(call);
}

void dbus_jobs_caller_gone(struct dbus_service *s, const char *sender)
{
    for (struct dbus_job *j = s->jobs; j; j = j->next) {
        if (j->orphaned || strcmp(j->sender, sender))
            continue;
        j->orphaned = true;
        slmd_logf(LOG_INFO,
                  &(struct slmd_log_fields){.model = j->model, .request_id = j->id,
                                            .has_client_uid = true, .client_uid = j->uid},
                  "D-Bus: %s left the bus; cancelling its request", sender);
        slm_engine_cancel(s->engine, j->id);
    }
}

void dbus_jobs_cancel_all(struct dbus_service *s)
{
    /* The engine calls back until each request's on_done, with the job as its userdata:
     * the jobs stay (orphaned, sending nothing) until then. */
    for (struct dbus_job *j = s->jobs; j; j = j->next) {
        j->orphaned = true;
        slm_engine_cancel(s->engine, j->id);
    }
}

void dbus_jobs_free_all(struct dbus_service *s)
{
    dbus_jobs_cancel_all(s);
    while (s->jobs) {
        struct dbus_job *j = s->jobs;
        s->jobs = j->next;
        free_job(j);
    }
    s->n_jobs = 0;
}

/* ---- the table ---- */

static const struct dbus_arg no_args[] = {{NULL, NULL}};
static const struct dbus_arg token_args[] = {{"s", "piece"}, {NULL, NULL}};
static const struct dbus_arg finished_args[] = {{"s", "reason"}, {"a{ss}", "info"}, {NULL, NULL}};

static const struct dbus_method methods[] = {
    {"Cancel", no_args, no_args, cancel, false},
};

static const struct dbus_signal signals[] = {
    {"Token", token_args},
    {"Finished", finished_args},
};

const struct dbus_interface dbus_request_interface = {
    .name = SLM_DBUS_REQUEST_INTERFACE,
    .methods = methods,
    .n_methods = SLM_ARRAY_SIZE(methods),
    .signals = signals,
    .n_signals = SLM_ARRAY_SIZE(signals),
};
