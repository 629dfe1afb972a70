/* libdbus client helpers for slm (see dbus_client.h). */
#include "ipc/client/dbus_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/common/path_escape.h"
#include "ipc/common/protocol.h"

DBusConnection *slm_dbus_client_connect(const char *bus, slm_error *err)
{
    bool session = bus && !strcmp(bus, "session");
    if (bus && !session && strcmp(bus, "system")) {
        slm_errorf(err, SLM_ERR_INVALID, "--daemon=%s: the bus is 'system' or 'session'", bus);
        return NULL;
    }
    DBusError error;
    dbus_error_init(&error);
    DBusConnection *conn = dbus_bus_get_private(session ? DBUS_BUS_SESSION : DBUS_BUS_SYSTEM,
                                                &error);
    if (!conn) {
        slm_errorf(err, SLM_ERR_IO, "cannot connect to the %s bus: %s",
                   session ? "session" : "system", error.message);
        dbus_error_free(&error);
        return NULL;
    }
    dbus_connection_set_exit_on_disconnect(conn, FALSE);
    return conn;
}

void slm_dbus_client_close(DBusConnection *conn)
{
    if (!conn)
        return;
    dbus_connection_close(conn);
    dbus_connection_unref(conn);
}

enum slm_status slm_dbus_client_status(const char *name)
{
    static const struct {
        const char *name;
        enum slm_status status;
    } map[] = {
        {SLM_DBUS_ERROR_NO_SUCH_MODEL, SLM_ERR_NOT_FOUND},
        {SLM_DBUS_ERROR_INVALID_ARGS, SLM_ERR_INVALID},
        {SLM_DBUS_ERROR_BUSY, SLM_ERR_BUSY},
        {SLM_DBUS_ERROR_CONTEXT_EXCEEDED, SLM_ERR_CONTEXT},
        {SLM_DBUS_ERROR_CANCELLED, SLM_ERR_CANCELLED},
        {SLM_DBUS_ERROR_FAILED, SLM_ERR_INTERNAL},
        {SLM_DBUS_ERROR_ACCESS_DENIED, SLM_ERR_INVALID},
    };
    for (size_t i = 0; name && i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(name, map[i].name))
            return map[i].status;
    return SLM_ERR_IO;
}

static void set_error(const DBusError *error, slm_error *err)
{
    const char *name = error->name ? error->name : "";
    if (!strcmp(name, DBUS_ERROR_SERVICE_UNKNOWN) || !strcmp(name, DBUS_ERROR_NAME_HAS_NO_OWNER))
        slm_errorf(err, SLM_ERR_IO, "slmd is not running on this bus (%s is not there)",
                   SLM_DBUS_NAME);
    else if (!strncmp(name, SLM_DBUS_ERROR_PREFIX, strlen(SLM_DBUS_ERROR_PREFIX)))
        slm_errorf(err, slm_dbus_client_status(name), "%s", error->message);
    else
        slm_errorf(err, SLM_ERR_IO, "%s (%s)", error->message ? error->message : "failed",
                   name);
}

DBusMessage *slm_dbus_client_call(DBusConnection *conn, DBusMessage *call, int timeout_ms,
                                  slm_error *err)
{
    if (!call) {
        slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    DBusError error;
    dbus_error_init(&error);
    DBusMessage *reply = dbus_connection_send_with_reply_and_block(
        conn, call, timeout_ms < 0 ? DBUS_TIMEOUT_INFINITE : timeout_ms, &error);
    dbus_message_unref(call);
    if (!reply) {
        set_error(&error, err);
        dbus_error_free(&error);
    }
    return reply;
}

DBusMessage *slm_dbus_client_model_call(const char *model, const char *method)
{
    char path[SLM_DBUS_PATH_MAX];
    if (!slm_model_object_path(model, path, sizeof(path)))
        return NULL;
    return dbus_message_new_method_call(SLM_DBUS_NAME, path, SLM_DBUS_MODEL_INTERFACE, method);
}

struct follow {
    const char *path;
    void (*on_token)(void *, const char *);
    void *userdata;
    DBusMessage *finished;
    bool disconnected;
};

static DBusHandlerResult on_signal(DBusConnection *conn, DBusMessage *msg, void *data)
{
    struct follow *f = data;
    if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
        f->disconnected = true;
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    if (!dbus_message_has_path(msg, f->path))
        return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
    if (dbus_message_is_signal(msg, SLM_DBUS_REQUEST_INTERFACE, "Token")) {
        const char *piece;
        if (dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &piece, DBUS_TYPE_INVALID))
            f->on_token(f->userdata, piece);
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    if (dbus_message_is_signal(msg, SLM_DBUS_REQUEST_INTERFACE, "Finished") && !f->finished) {
        f->finished = dbus_message_ref(msg);
        return DBUS_HANDLER_RESULT_HANDLED;
    }
    return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* The value of `key` in the a{ss} at iter, or NULL. */
static const char *info_value(DBusMessageIter *iter, const char *key)
{
    DBusMessageIter array, entry;
    if (dbus_message_iter_get_arg_type(iter) != DBUS_TYPE_ARRAY)
        return NULL;
    dbus_message_iter_recurse(iter, &array);
    for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_DICT_ENTRY;
         dbus_message_iter_next(&array)) {
        const char *k, *v;
        dbus_message_iter_recurse(&array, &entry);
        dbus_message_iter_get_basic(&entry, &k);
        dbus_message_iter_next(&entry);
        dbus_message_iter_get_basic(&entry, &v);
        if (!strcmp(k, key))
            return v;
    }
    return NULL;
}

int slm_dbus_client_follow(DBusConnection *conn, const char *path,
                           void (*on_token)(void *userdata, const char *piece),
                           void *userdata, DBusMessage **finished, slm_error *err)
{
    struct follow f = {.path = path, .on_token = on_token, .userdata = userdata};
    if (!dbus_connection_add_filter(conn, on_signal, &f, NULL))
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    while (!f.finished && !f.disconnected && dbus_connection_read_write_dispatch(conn, -1))
        ;
    dbus_connection_remove_filter(conn, on_signal, &f);
    if (!f.finished)
        return slm_errorf(err, SLM_ERR_IO, "lost the bus before the request finished");
    DBusMessageIter iter;
    const char *reason = "";
    if (dbus_message_iter_init(f.finished, &iter) &&
        dbus_message_iter_get_arg_type(&iter) == DBUS_TYPE_STRING) {
        dbus_message_iter_get_basic(&iter, &reason);
        dbus_message_iter_next(&iter);
    }
    int r = 0;
    if (strcmp(reason, "stop") && strcmp(reason, "length")) {
        const char *message = info_value(&iter, "error");
        const char *name = info_value(&iter, "error_name");
        r = slm_errorf(err, name ? slm_dbus_client_status(name) : SLM_ERR_INTERNAL, "%s",
                       message ? message : reason);
    }
    if (finished)
        *finished = f.finished;
    else
        dbus_message_unref(f.finished);
    return r;
}
