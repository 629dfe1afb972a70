/* The D-Bus transport: connects to the configured bus, owns org.slmd.Slmd1, learns each
 * caller's uid from the bus (asynchronously: a call waits in its caller's queue until
 * GetConnectionUnixUser answers), checks it against allowed_groups, and routes the call
 * by object path to the Manager, a Model or a Request object. A caller that leaves the
 * bus (NameOwnerChanged with an empty new owner) has its requests cancelled. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/transport.h"
#include "ipc/auth.h"
#include "ipc/common/path_escape.h"
#include "ipc/common/protocol.h"
#include "ipc/dbus_loop.h"
#include "ipc/dbus_service.h"
#include "ipc/model_list.h"
#include "ipc/transports.h"
#include "util/cleanup.h"

#define BUS_NAME "org.freedesktop.DBus"
#define BUS_PATH "/org/freedesktop/DBus"
#define ERROR_UNKNOWN_OBJECT "org.freedesktop.DBus.Error.UnknownObject"
/* Calls of one caller that may wait for its uid; more at once is a misbehaving client. */
#define CALLER_QUEUE_MAX 64
/* Unique names remembered at once; past this, the oldest idle entry is forgotten (and
 * asked again if it calls again). Every caller that leaves the bus is forgotten anyway. */
#define CALLERS_MAX 1024
/* Request objects listed as child nodes of the requests node. */
#define REQUEST_NODES_MAX 1024
/* After losing the bus, try to come back this often. */
#define RECONNECT_USEC (5ULL * 1000000)

struct dbus_caller {
    struct dbus_caller *next;
    char *name;
    bool known; /* uid looked up (or the lookup failed: allowed stays false) */
    uid_t uid;
    bool allowed;
    char problem[160]; /* why the lookup failed */
    DBusPendingCall *lookup;
    DBusMessage *queued[CALLER_QUEUE_MAX];
    size_t n_queued;
};

struct dbus_transport_state {
    struct dbus_service service;
    sd_event_source *reconnect_timer;
};

static const DBusObjectPathVTable vtable;

/* ---- routing ---- */

static const struct dbus_interface *const manager_interfaces[] = {&dbus_manager_interface,
                                                                   NULL};
static const struct dbus_interface *const model_interfaces[] = {&dbus_model_interface, NULL};
static const struct dbus_interface *const request_interfaces[] = {&dbus_request_interface,
                                                                   NULL};
static const struct dbus_object_type manager_type = {manager_interfaces};
static const struct dbus_object_type model_type = {model_interfaces};
static const struct dbus_object_type request_type = {request_interfaces};
static const struct dbus_object_type plain_node = {NULL};

static void route_models_node(struct dbus_call *call)
{
    static struct slm_model_status rows[IPC_MODELS_MAX]; /* loop thread only */
    static char labels[IPC_MODELS_MAX][SLM_DBUS_PATH_MAX];
    const char *children[IPC_MODELS_MAX];
    size_t n = ipc_model_list(call->service->engine, rows);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (slm_path_label_escape(rows[i].name, labels[k], sizeof(labels[k])))
            children[k] = labels[k], k++;
    dbus_object_dispatch(call, &plain_node, children, k);
}

static void route_requests_node(struct dbus_call *call)
{
    static char labels[REQUEST_NODES_MAX][24];
    const char *children[REQUEST_NODES_MAX];
    size_t n = dbus_job_labels(call->service, labels, REQUEST_NODES_MAX);
    for (size_t i = 0; i < n; i++)
        children[i] = labels[i];
    dbus_object_dispatch(call, &plain_node, children, n);
}

static bool parse_request_id(const char *s, uint64_t *id)
{
    if (*s < '1' || *s > '9' || strlen(s) > 20)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *id = v;
    return true;
}

static void route(struct dbus_call *call)
{
    static const struct {
        const char *path;
        const char *child;
    } ancestors[] = {{"/", "org"}, {"/org", "slmd"}, {"/org/slmd", "Slmd1"}};
    const char *path = call->path;
    for (size_t i = 0; i < SLM_ARRAY_SIZE(ancestors); i++)
        if (!strcmp(path, ancestors[i].path)) {
            dbus_object_dispatch(call, &plain_node, &ancestors[i].child, 1);
            return;
        }
    if (!strcmp(path, SLM_DBUS_MANAGER_PATH)) {
        static const char *const children[] = {"models", "requests"};
        dbus_object_dispatch(call, &manager_type, children, 2);
        return;
    }
    if (!strcmp(path, SLM_DBUS_MODELS_PATH)) {
        route_models_node(call);
        return;
    }
    if (!strcmp(path, SLM_DBUS_REQUESTS_PATH)) {
        route_requests_node(call);
        return;
    }
    size_t models_len = strlen(SLM_DBUS_MODELS_PATH), requests_len =
                                                           strlen(SLM_DBUS_REQUESTS_PATH);
    if (!strncmp(path, SLM_DBUS_MODELS_PATH "/", models_len + 1)) {
        const char *label = path + models_len + 1;
        char name[SLM_DBUS_PATH_MAX];
        if (!dbus_model_lookup(call->service, label, name, sizeof(name))) {
            char shown[SLM_DBUS_PATH_MAX];
            if (!slm_path_label_unescape(label, shown, sizeof(shown)))
                snprintf(shown, sizeof(shown), "%s", label);
            dbus_reply_error(call, SLM_DBUS_ERROR_NO_SUCH_MODEL,
                             "no model named '%s' is configured (ListModels on %s lists them)",
                             shown, SLM_DBUS_MANAGER_PATH);
            return;
        }
        call->object = name;
        dbus_object_dispatch(call, &model_type, NULL, 0);
        return;
    }
    if (!strncmp(path, SLM_DBUS_REQUESTS_PATH "/", requests_len + 1)) {
        const char *label = path + requests_len + 1;
        uint64_t id;
        if (!parse_request_id(label, &id) || !dbus_job_exists(call->service, id)) {
            dbus_reply_error(call, ERROR_UNKNOWN_OBJECT,
                             "no request %s: it has finished or never existed", label);
            return;
        }
        call->object = label;
        dbus_object_dispatch(call, &request_type, NULL, 0);
        return;
    }
    dbus_reply_error(call, ERROR_UNKNOWN_OBJECT, "slmd has no object at %s", path);
}

static void process(struct dbus_service *s, DBusMessage *msg, struct dbus_caller *caller)
{
    struct dbus_call call = {
        .service = s,
        .message = msg,
        .path = dbus_message_get_path(msg),
        .sender = dbus_message_get_sender(msg),
        .uid = caller ? caller->uid : (uid_t)-1,
    };
    if (!call.path)
        return;
    if (caller && !caller->allowed) {
        if (caller->problem[0])
            dbus_reply_error(&call, SLM_DBUS_ERROR_ACCESS_DENIED,
                             "cannot tell who is calling: %s", caller->problem);
        else
            dbus_reply_error(&call, SLM_DBUS_ERROR_ACCESS_DENIED,
                             "uid %u may not use slmd: only root, slmd's own user and "
                             "members of server.allowed_groups in slmd.yaml may",
                             (unsigned)caller->uid);
        return;
    }
    route(&call);
}

/* ---- callers ---- */

static struct dbus_caller *find_caller(struct dbus_service *s, const char *name)
{
    for (struct dbus_caller *c = s->callers; c; c = c->next)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

static void free_caller(struct dbus_caller *c)
{
    if (c->lookup) {
        dbus_pending_call_cancel(c->lookup);
        dbus_pending_call_unref(c->lookup);
    }
    for (size_t i = 0; i < c->n_queued; i++)
        dbus_message_unref(c->queued[i]);
    free(c->name);
    free(c);
}

static void forget_caller(struct dbus_service *s, const char *name)
{
    for (struct dbus_caller **pc = &s->callers; *pc; pc = &(*pc)->next)
        if (!strcmp((*pc)->name, name)) {
            struct dbus_caller *c = *pc;
            *pc = c->next;
            free_caller(c);
            return;
        }
}

/* Keeps the list bounded: drops the oldest entry with nothing in flight. */
static void trim_callers(struct dbus_service *s)
{
    size_t n = 0;
    struct dbus_caller **oldest = NULL;
    for (struct dbus_caller **pc = &s->callers; *pc; pc = &(*pc)->next) {
        n++;
        if ((*pc)->known && !(*pc)->n_queued)
            oldest = pc; /* new callers go to the front: the last idle one is the oldest */
    }
    if (n > CALLERS_MAX && oldest) {
        struct dbus_caller *c = *oldest;
        *oldest = c->next;
        free_caller(c);
    }
}

static void on_uid_reply(DBusPendingCall *pending, void *data)
{
    struct dbus_transport_state *t = data;
    struct dbus_service *s = &t->service;
    struct dbus_caller *c = NULL;
    for (struct dbus_caller *it = s->callers; it && !c; it = it->next)
        if (it->lookup == pending)
            c = it;
    DBusMessage *reply = dbus_pending_call_steal_reply(pending);
    if (!c) {
        if (reply)
            dbus_message_unref(reply);
        return;
    }
    dbus_pending_call_unref(c->lookup);
    c->lookup = NULL;
    c->known = true;
    DBusError error;
    dbus_error_init(&error);
    dbus_uint32_t uid = 0;
    if (reply && dbus_set_error_from_message(&error, reply)) {
        snprintf(c->problem, sizeof(c->problem), "%s", error.message);
        dbus_error_free(&error);
    } else if (!reply || !dbus_message_get_args(reply, &error, DBUS_TYPE_UINT32, &uid,
                                                DBUS_TYPE_INVALID)) {
        snprintf(c->problem, sizeof(c->problem), "the bus did not say (%s)",
                 error.message ? error.message : "no reply");
        dbus_error_free(&error);
    } else {
        c->uid = (uid_t)uid;
        c->allowed = ipc_caller_allowed(&s->config, c->uid, (gid_t)-1);
        if (!c->allowed)
            slmd_logf(LOG_NOTICE,
                      &(struct slmd_log_fields){.has_client_uid = true, .client_uid = c->uid},
                      "D-Bus: refusing %s (uid %u): not in allowed_groups", c->name, uid);
    }
    if (reply)
        dbus_message_unref(reply);
    /* process() may end in the caller leaving; take the queue first */
    size_t n = c->n_queued;
    DBusMessage *queued[CALLER_QUEUE_MAX];
    memcpy(queued, c->queued, n * sizeof(*queued));
    c->n_queued = 0;
    for (size_t i = 0; i < n; i++) {
        struct dbus_caller *again = find_caller(s, dbus_message_get_sender(queued[i]));
        if (again)
            process(s, queued[i], again);
        dbus_message_unref(queued[i]);
    }
}

static bool start_lookup(struct dbus_transport_state *t, struct dbus_caller *c)
{
    DBusMessage *m = dbus_message_new_method_call(BUS_NAME, BUS_PATH, BUS_NAME,
                                                  "GetConnectionUnixUser");
    const char *name = c->name;
    if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID)) {
        if (m)
            dbus_message_unref(m);
        return false;
    }
    bool ok = dbus_connection_send_with_reply(t->service.conn, m, &c->lookup,
                                              DBUS_TIMEOUT_USE_DEFAULT) &&
              c->lookup &&
              dbus_pending_call_set_notify(c->lookup, on_uid_reply, t, NULL);
    dbus_message_unref(m);
    return ok;
}

/* ---- messages ---- */

static bool is_introspect(DBusMessage *msg)
{
    const char *iface = dbus_message_get_interface(msg);
    return dbus_message_has_member(msg, "Introspect") &&
           (!iface || !strcmp(iface, "org.freedesktop.DBus.Introspectable"));
}

static DBusHandlerResult on_message(DBusConnection *conn, DBusMessage *msg, void *data)
{
    struct dbus_transport_state *t = data;
    struct dbus_service *s = &t->service;
    if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    const char *sender = dbus_message_get_sender(msg);
    /* introspection describes the API, not the models' data: anyone may read it */
    if (is_introspect(msg)) {
        process(s, msg, NULL);
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    if (!sender) { /* the bus names every sender; without one there is no one to check */
        struct dbus_call call = {.service = s, .message = msg, .path = "", .sender = ""};
        dbus_reply_error(&call, SLM_DBUS_ERROR_ACCESS_DENIED, "a call without a sender");
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    struct dbus_caller *c = find_caller(s, sender);
    if (c && c->known) {
        process(s, msg, c);
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c || !(c->name = strdup(sender))) {
            free(c);
            return DBUS_HANDLER_RESULT_NEED_MEMORY;
        }
        c->uid = (uid_t)-1;
        c->next = s->callers;
        s->callers = c;
        trim_callers(s);
        if (!start_lookup(t, c)) {
            c->known = true;
            snprintf(c->problem, sizeof(c->problem), "cannot ask the bus (out of memory)");
            process(s, msg, c);
            forget_caller(s, sender);
            return DBUS_HANDLER_RESULT_HANDLED;
        }
    }
    if (c->n_queued == CALLER_QUEUE_MAX) {
        struct dbus_call call = {.service = s, .message = msg, .path = "", .sender = sender};
        dbus_reply_error(&call, SLM_DBUS_ERROR_BUSY,
                         "%d calls are already waiting for the bus to name their caller",
                         CALLER_QUEUE_MAX);
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    c->queued[c->n_queued++] = dbus_message_ref(msg);
    return DBUS_HANDLER_RESULT_HANDLED;
}

static const DBusObjectPathVTable vtable = {.message_function = on_message};

static void lost_bus(struct dbus_transport_state *t);
static int on_reconnect_timer(sd_event_source *source, uint64_t usec, void *data);

static DBusHandlerResult on_filter(DBusConnection *conn, DBusMessage *msg, void *data)
{
    struct dbus_transport_state *t = data;
    struct dbus_service *s = &t->service;
    if (dbus_message_is_signal(msg, BUS_NAME, "NameOwnerChanged") &&
        dbus_message_has_sender(msg, BUS_NAME)) {
        const char *name, *old_owner, *new_owner;
        if (dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_STRING,
                                  &old_owner, DBUS_TYPE_STRING, &new_owner,
                                  DBUS_TYPE_INVALID) &&
            name[0] == ':' && !new_owner[0]) {
            dbus_jobs_caller_gone(s, name);
            forget_caller(s, name);
        }
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    }
    if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
        lost_bus(t);
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* ---- the connection ---- */

static void disconnect(struct dbus_transport_state *t)
{
    struct dbus_service *s = &t->service;
    while (s->callers) {
        struct dbus_caller *c = s->callers;
        s->callers = c->next;
        free_caller(c);
    }
    if (!s->conn)
        return;
    dbus_connection_remove_filter(s->conn, on_filter, t);
    dbus_connection_unregister_object_path(s->conn, "/");
    dbus_loop_detach(s->loop);
    s->loop = NULL;
    dbus_connection_close(s->conn);
    dbus_connection_unref(s->conn);
    s->conn = NULL;
}

static int connect_bus(struct dbus_transport_state *t, slm_error *err)
{
    struct dbus_service *s = &t->service;
    DBusError error;
    dbus_error_init(&error);
    DBusBusType type = s->config.bus == SLMD_BUS_SESSION ? DBUS_BUS_SESSION : DBUS_BUS_SYSTEM;
    s->conn = dbus_bus_get_private(type, &error);
    if (!s->conn) {
        int r = slm_errorf(err, SLM_ERR_IO, "cannot connect to the %s bus: %s",
                           slmd_bus_name(s->config.bus), error.message);
        dbus_error_free(&error);
        return r;
    }
    dbus_connection_set_exit_on_disconnect(s->conn, FALSE);
    int owned = dbus_bus_request_name(s->conn, SLM_DBUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE,
                                      &error);
    if (owned < 0) {
        int r = slm_errorf(err, SLM_ERR_IO, "cannot own %s on the %s bus: %s", SLM_DBUS_NAME,
                           slmd_bus_name(s->config.bus), error.message);
        dbus_error_free(&error);
        disconnect(t);
        return r;
    }
    if (owned != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER &&
        owned != DBUS_REQUEST_NAME_REPLY_ALREADY_OWNER) {
        disconnect(t);
        return slm_errorf(err, SLM_ERR_IO, "%s is already owned on the %s bus: is another slmd "
                          "running?", SLM_DBUS_NAME, slmd_bus_name(s->config.bus));
    }
    if (!dbus_connection_add_filter(s->conn, on_filter, t, NULL) ||
        !dbus_connection_register_fallback(s->conn, "/", &vtable, t)) {
        disconnect(t);
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    }
    /* no error argument: the match is sent without waiting for the bus to confirm it */
    dbus_bus_add_match(s->conn,
                       "type='signal',sender='" BUS_NAME "',path='" BUS_PATH "',interface='"
                       BUS_NAME "',member='NameOwnerChanged',arg2=''",
                       NULL);
    s->loop = dbus_loop_attach(s->conn, s->event, err);
    if (!s->loop) {
        disconnect(t);
        return -(int)err->status;
    }
    return 0;
}

static void arm_reconnect(struct dbus_transport_state *t, uint64_t usec)
{
    if (!t->reconnect_timer &&
        sd_event_add_time_relative(t->service.event, &t->reconnect_timer, CLOCK_MONOTONIC,
                                   usec, 0, on_reconnect_timer, t) < 0) {
        slmd_log_error("D-Bus: cannot schedule reconnecting; restart slmd to get D-Bus back");
        return;
    }
    sd_event_source_set_time_relative(t->reconnect_timer, usec);
    sd_event_source_set_enabled(t->reconnect_timer, SD_EVENT_ONESHOT);
}

/* Two stages: right after the bus went away, drop what was on it (outside libdbus's
 * dispatch, which is where the news arrives); then try to come back every few seconds. */
static int on_reconnect_timer(sd_event_source *source, uint64_t usec, void *data)
{
    struct dbus_transport_state *t = data;
    if (t->service.conn) {
        dbus_jobs_cancel_all(&t->service);
        dbus_manager_drop_ops(&t->service);
        disconnect(t);
        arm_reconnect(t, RECONNECT_USEC);
        return 0;
    }
    slm_error err;
    if (connect_bus(t, &err) < 0) {
        slmd_log_debug("D-Bus: still cannot reconnect: %s", err.message);
        arm_reconnect(t, RECONNECT_USEC);
        return 0;
    }
    slmd_log_notice("D-Bus: reconnected to the %s bus as %s",
                    slmd_bus_name(t->service.config.bus), SLM_DBUS_NAME);
    return 0;
}

/* The bus went away (dbus-daemon restarted): requests on it cannot be answered any more.
 * HTTP keeps serving; D-Bus comes back when the bus does. */
static void lost_bus(struct dbus_transport_state *t)
{
    slmd_log_error("D-Bus: disconnected from the %s bus; retrying every %llu s",
                   slmd_bus_name(t->service.config.bus),
                   (unsigned long long)(RECONNECT_USEC / 1000000));
    arm_reconnect(t, 0);
}

/* ---- the transport ---- */

static int dbus_start(const struct slmd_transport_context *ctx, void **state, slm_error *err)
{
    *state = NULL;
    if (ctx->config->bus == SLMD_BUS_NONE)
        return 0;
    struct dbus_transport_state *t = calloc(1, sizeof(*t));
    if (!t)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    t->service.event = ctx->event;
    t->service.engine = ctx->engine;
    t->service.config = *ctx->config;
    t->service.request_reload = ctx->request_reload;
    t->service.daemon = ctx->daemon;
    int r = connect_bus(t, err);
    if (r < 0) {
        free(t);
        return r;
    }
    slmd_log_info("D-Bus: serving %s on the %s bus", SLM_DBUS_NAME,
                  slmd_bus_name(ctx->config->bus));
    *state = t;
    return 0;
}

static void dbus_model_state_changed(void *state, const char *model,
                                     enum slm_model_state new_state, const char *message)
{
    struct dbus_transport_state *t = state;
    if (!t || !t->service.conn)
        return;
    dbus_model_emit_changed(&t->service, model);
    dbus_manager_model_state(&t->service, model, new_state, message);
}

static void dbus_config_changed(void *state, const struct slmd_server_config *config)
{
    struct dbus_transport_state *t = state;
    if (!t)
        return;
    struct dbus_service *s = &t->service;
    s->config = *config;
    /* allowed_groups may have changed: judge the known callers again */
    for (struct dbus_caller *c = s->callers; c; c = c->next)
        if (c->known && !c->problem[0])
            c->allowed = ipc_caller_allowed(&s->config, c->uid, (gid_t)-1);
    if (!s->conn)
        return;
    static const char *const models[] = {"Models"};
    dbus_send_reply(s, dbus_object_properties_changed(s, SLM_DBUS_MANAGER_PATH, NULL,
                                                      &dbus_manager_interface, models, 1));
}

static void dbus_stop(void *state)
{
    struct dbus_transport_state *t = state;
    if (!t)
        return;
    dbus_jobs_free_all(&t->service);
    dbus_manager_drop_ops(&t->service);
    if (t->service.conn)
        dbus_connection_flush(t->service.conn);
    disconnect(t);
    sd_event_source_disable_unref(t->reconnect_timer);
    free(t);
}

const struct slmd_transport slm_dbus_transport = {
    .name = "D-Bus",
    .start = dbus_start,
    .model_state_changed = dbus_model_state_changed,
    .config_changed = dbus_config_changed,
    .stop = dbus_stop,
};
