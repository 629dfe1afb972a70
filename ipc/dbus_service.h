/* The D-Bus service's state, shared by its parts: dbus_service.c (connection, bus name,
 * callers and their uids, routing by object path), dbus_manager.c, dbus_model.c and
 * dbus_request.c (the interfaces). Everything runs on the loop thread. */
#ifndef SLM_IPC_DBUS_SERVICE_H
#define SLM_IPC_DBUS_SERVICE_H

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "daemon/server_config.h"
#include "ipc/dbus_object.h"
#include "slm/engine.h"

struct dbus_caller;
struct dbus_job;
struct dbus_pending_op;

struct dbus_service {
    sd_event *event;
    slm_engine *engine;
    struct slmd_server_config config; /* a copy: the daemon's may be freed on reload */
    void (*request_reload)(void *daemon);
    void *daemon;
    DBusConnection *conn;
    struct dbus_loop *loop;
    struct dbus_caller *callers; /* unique names we know the uid of, or are asking */
    struct dbus_job *jobs;       /* engine requests in flight */
    struct dbus_pending_op *ops; /* LoadModel/UnloadModel waiting for the new state */
    size_t n_jobs;
};

/* ---- dbus_manager.c ---- */
extern const struct dbus_interface dbus_manager_interface;
/* A model changed state: answers the LoadModel/UnloadModel calls waiting for it. */
void dbus_manager_model_state(struct dbus_service *s, const char *model,
                              enum slm_model_state state, const char *message);
/* Answers every waiting call with an error (shutdown). */
void dbus_manager_drop_ops(struct dbus_service *s);

/* ---- dbus_model.c ---- */
extern const struct dbus_interface dbus_model_interface;
/* The model whose escaped label is `label`; false if there is none. */
bool dbus_model_lookup(struct dbus_service *s, const char *label, char *name, size_t cap);
/* PropertiesChanged for a model's state properties. */
void dbus_model_emit_changed(struct dbus_service *s, const char *model);

/* ---- dbus_request.c ---- */
extern const struct dbus_interface dbus_request_interface;

/* How the answer of an engine request goes back to the caller. */
enum dbus_reply_kind {
    DBUS_REPLY_TEXT,        /* (s text, a{ss} info) */
    DBUS_REPLY_LABELS,      /* a(sd) */
    DBUS_REPLY_ENTITIES,    /* a(suud) */
    DBUS_REPLY_EMBEDDING,   /* ad */
    DBUS_REPLY_TOKENS,      /* au */
    DBUS_REPLY_STREAM,      /* o now; Token and Finished signals later */
};

/* Submits to the engine and arranges the reply. Errors are answered at once. */
void dbus_job_submit(struct dbus_call *call, const char *model, enum dbus_reply_kind kind,
                     struct slm_request_params *params);
/* "1 2 3": the ids of the requests in flight, for the request node's children. */
size_t dbus_job_labels(struct dbus_service *s, char (*labels)[24], size_t cap);
bool dbus_job_exists(struct dbus_service *s, uint64_t id);
/* The caller left the bus: cancel its requests, and reply to nothing. */
void dbus_jobs_caller_gone(struct dbus_service *s, const char *sender);
/* The bus went away: cancels everything; the jobs go when the engine says done. */
void dbus_jobs_cancel_all(struct dbus_service *s);
/* Shutdown: cancels and frees everything (the engine is freed next and runs no more
 * callbacks). */
void dbus_jobs_free_all(struct dbus_service *s);

#endif
