/* org.slmd.Slmd1.Manager at /org/slmd/Slmd1: the model list, loading and unloading, and
 * reloading the configuration. LoadModel and UnloadModel answer when the model reached
 * the state asked for (or failed to), so that `slm load` can report a load error. */
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "ipc/common/protocol.h"
#include "ipc/dbus_args.h"
#include "ipc/dbus_service.h"
#include "ipc/model_list.h"
#include "ipc/status_map.h"
#include "util/cleanup.h"

/* LoadModel/UnloadModel calls waiting at once; more means a runaway script. */
#define PENDING_OPS_MAX 256

enum op_kind { OP_LOAD, OP_UNLOAD };

struct dbus_pending_op {
    struct dbus_pending_op *next;
    enum op_kind kind;
    char *model;
    DBusMessage *call;
};

static size_t list_models(struct dbus_service *s, struct slm_model_status **rows)
{
    static struct slm_model_status buffer[IPC_MODELS_MAX]; /* loop thread only */
    *rows = buffer;
    return ipc_model_list(s->engine, buffer);
}

static const struct slm_model_status *find_model(struct dbus_service *s, const char *name)
{
    struct slm_model_status *rows;
    size_t n = list_models(s, &rows);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].name, name))
            return &rows[i];
    return NULL;
}

static bool is_loaded(enum slm_model_state state)
{
    return state == SLM_MODEL_READY || state == SLM_MODEL_DRAINING;
}

/* ---- methods ---- */

static void list_models_method(struct dbus_call *call)
{
    struct slm_model_status *rows;
    size_t n = list_models(call->service, &rows);
    DBusMessage *reply = dbus_message_new_method_return(call->message);
    DBusMessageIter iter, array = DBUS_MESSAGE_ITER_INIT_CLOSED;
    bool ok = reply != NULL;
    if (ok) {
        dbus_message_iter_init_append(reply, &iter);
        ok = dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "(sssb)", &array);
    }
    for (size_t i = 0; ok && i < n; i++) {
        DBusMessageIter entry;
        const char *name = rows[i].name, *task = slm_task_name(rows[i].task);
        dbus_bool_t loaded = is_loaded(rows[i].state);
        ok = dbus_message_iter_open_container(&array, DBUS_TYPE_STRUCT, NULL, &entry);
        if (!ok)
            break;
        ok = dbus_args_append_text(&entry, name, strlen(name)) &&
             dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &task) &&
             dbus_args_append_text(&entry, rows[i].architecture,
                                   strlen(rows[i].architecture)) &&
             dbus_message_iter_append_basic(&entry, DBUS_TYPE_BOOLEAN, &loaded);
        if (ok)
            ok = dbus_message_iter_close_container(&array, &entry);
        else
            dbus_message_iter_abandon_container(&array, &entry);
    }
    if (ok)
        ok = dbus_message_iter_close_container(&iter, &array);
    else if (reply)
        dbus_message_iter_abandon_container_if_open(&iter, &array);
    if (!ok && reply) {
        dbus_message_unref(reply);
        reply = NULL;
    }
    dbus_send_reply(call->service, reply);
}

static size_t count_ops(struct dbus_service *s)
{
    size_t n = 0;
    for (struct dbus_pending_op *op = s->ops; op; op = op->next)
        n++;
    return n;
}

static void wait_for_state(struct dbus_call *call, enum op_kind kind, const char *model)
{
    struct dbus_service *s = call->service;
    if (count_ops(s) >= PENDING_OPS_MAX) {
        dbus_reply_error(call, SLM_DBUS_ERROR_BUSY, "%d load/unload calls are already "
                         "waiting; try again later", PENDING_OPS_MAX);
        return;
    }
    struct dbus_pending_op *op = calloc(1, sizeof(*op));
    if (!op || !(op->model = strdup(model))) {
        free(op);
        dbus_reply_error(call, SLM_DBUS_ERROR_FAILED, "out of memory");
        return;
    }
    op->kind = kind;
    op->call = dbus_message_ref(call->message);
    op->next = s->ops;
    s->ops = op;
}

static void name_argument(struct dbus_call *call, const char **name)
{
    *name = NULL;
    dbus_message_get_args(call->message, NULL, DBUS_TYPE_STRING, name, DBUS_TYPE_INVALID);
}

static void load_model(struct dbus_call *call)
{
    const char *name;
    name_argument(call, &name);
    const struct slm_model_status *m = find_model(call->service, name);
    if (!m) {
        dbus_reply_error(call, SLM_DBUS_ERROR_NO_SUCH_MODEL,
                         "no model named '%s' is configured (ListModels lists them)", name);
        return;
    }
    if (m->state == SLM_MODEL_READY) {
        dbus_reply_empty(call);
        return;
    }
    if (m->state == SLM_MODEL_DRAINING) {
        dbus_reply_error(call, SLM_DBUS_ERROR_NO_SUCH_MODEL,
                         "model '%s' was removed from the configuration", name);
        return;
    }
    slm_error err;
    if (slm_engine_load(call->service->engine, name, &err) < 0) {
        dbus_reply_error(call, ipc_dbus_error_name(err.status), "%s", err.message);
        return;
    }
    slmd_logf(LOG_INFO,
              &(struct slmd_log_fields){.model = name, .has_client_uid = true,
                                        .client_uid = call->uid},
              "D-Bus: LoadModel");
    wait_for_state(call, OP_LOAD, name);
}

static void unload_model(struct dbus_call *call)
{
    const char *name;
    name_argument(call, &name);
    const struct slm_model_status *m = find_model(call->service, name);
    if (!m) {
        dbus_reply_error(call, SLM_DBUS_ERROR_NO_SUCH_MODEL,
                         "no model named '%s' is configured (ListModels lists them)", name);
        return;
    }
    if (m->state == SLM_MODEL_DECLARED || m->state == SLM_MODEL_FAILED) {
        dbus_reply_empty(call);
        return;
    }
    slm_error err;
    if (slm_engine_unload(call->service->engine, name, &err) < 0) {
        dbus_reply_error(call, ipc_dbus_error_name(err.status), "%s", err.message);
        return;
    }
    slmd_logf(LOG_INFO,
              &(struct slmd_log_fields){.model = name, .has_client_uid = true,
                                        .client_uid = call->uid},
              "D-Bus: UnloadModel");
    /* the engine may have unloaded it synchronously (it was idle) */
    m = find_model(call->service, name);
    if (!m || m->state == SLM_MODEL_DECLARED) {
        dbus_reply_empty(call);
        return;
    }
    wait_for_state(call, OP_UNLOAD, name);
}

static void reload(struct dbus_call *call)
{
    struct dbus_service *s = call->service;
    slmd_logf(LOG_INFO, &(struct slmd_log_fields){.has_client_uid = true, .client_uid = call->uid},
              "D-Bus: Reload");
    if (s->request_reload)
        s->request_reload(s->daemon);
    dbus_reply_empty(call);
}

/* ---- waiting calls ---- */

static void answer(struct dbus_service *s, struct dbus_pending_op *op, const char *error_name,
                   const char *message)
{
    if (!dbus_message_get_no_reply(op->call)) {
        DBusMessage *reply = error_name ? dbus_message_new_error(op->call, error_name, message)
                                        : dbus_message_new_method_return(op->call);
        dbus_send_reply(s, reply);
    }
    dbus_message_unref(op->call);
    free(op->model);
    free(op);
}

void dbus_manager_model_state(struct dbus_service *s, const char *model,
                              enum slm_model_state state, const char *message)
{
    char text[SLM_ERROR_MSG_MAX + 64];
    for (struct dbus_pending_op **p = &s->ops; *p;) {
        struct dbus_pending_op *op = *p;
        const char *error = NULL;
        bool done = false;
        if (strcmp(op->model, model)) {
            p = &op->next;
            continue;
        }
        if (op->kind == OP_LOAD) {
            done = state != SLM_MODEL_LOADING;
            if (state == SLM_MODEL_FAILED) {
                error = SLM_DBUS_ERROR_FAILED;
                snprintf(text, sizeof(text), "loading '%s' failed: %s", model,
                         message && *message ? message : "no reason given");
            } else if (state == SLM_MODEL_DECLARED || state == SLM_MODEL_DRAINING) {
                error = SLM_DBUS_ERROR_FAILED;
                snprintf(text, sizeof(text), "'%s' was unloaded or removed before it was "
                         "ready", model);
            }
        } else {
            done = state == SLM_MODEL_DECLARED || state == SLM_MODEL_FAILED ||
                   state == SLM_MODEL_READY;
            if (state == SLM_MODEL_READY) {
                error = SLM_DBUS_ERROR_FAILED;
                snprintf(text, sizeof(text), "'%s' finished loading and stays loaded; call "
                         "UnloadModel again", model);
            }
        }
        if (!done) {
            p = &op->next;
            continue;
        }
        *p = op->next;
        answer(s, op, error, text);
    }
}

void dbus_manager_drop_ops(struct dbus_service *s)
{
    while (s->ops) {
        struct dbus_pending_op *op = s->ops;
        s->ops = op->next;
        answer(s, op, SLM_DBUS_ERROR_FAILED, "slmd is stopping");
    }
}

/* ---- properties ---- */

static bool get_version(struct dbus_service *s, const char *object, DBusMessageIter *iter)
{
    const char *version = SLMD_VERSION;
    return dbus_message_iter_append_basic(iter, DBUS_TYPE_STRING, &version);
}

static bool get_models(struct dbus_service *s, const char *object, DBusMessageIter *iter)
{
    struct slm_model_status *rows;
    size_t n = list_models(s, &rows);
    DBusMessageIter array;
    if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "s", &array))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!dbus_args_append_text(&array, rows[i].name, strlen(rows[i].name))) {
            dbus_message_iter_abandon_container(iter, &array);
            return false;
        }
    return dbus_message_iter_close_container(iter, &array);
}

/* ---- the table ---- */

static const struct dbus_arg no_args[] = {{NULL, NULL}};
static const struct dbus_arg name_arg[] = {{"s", "name"}, {NULL, NULL}};
static const struct dbus_arg models_out[] = {{"a(sssb)", "models"}, {NULL, NULL}};

static const struct dbus_method methods[] = {
    {"ListModels", no_args, models_out, list_models_method, false},
    {"LoadModel", name_arg, no_args, load_model, true},
    {"UnloadModel", name_arg, no_args, unload_model, true},
    {"Reload", no_args, no_args, reload, true},
};

static const struct dbus_property properties[] = {
    {"Version", "s", get_version, true},
    {"Models", "as", get_models, true},
};

const struct dbus_interface dbus_manager_interface = {
    .name = SLM_DBUS_MANAGER_INTERFACE,
    .methods = methods,
    .n_methods = SLM_ARRAY_SIZE(methods),
    .properties = properties,
    .n_properties = SLM_ARRAY_SIZE(properties),
};
