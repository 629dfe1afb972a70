/* Fuzz target: D-Bus method arguments as slmd reads them (ipc/dbus_args.c): any message
 * libdbus accepts off the wire, with its a{ss} option dictionaries and a(ss) chat
 * messages parsed strictly; and the reply side, where arbitrary bytes (model output,
 * labels from model files) must become strings libdbus accepts, since libdbus aborts on
 * invalid UTF-8. */
#include <dbus/dbus.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "ipc/dbus_args.h"

static void read_arguments(DBusMessage *m)
{
    DBusMessageIter iter;
    if (!dbus_message_iter_init(m, &iter))
        return;
    do {
        if (dbus_message_iter_get_arg_type(&iter) != DBUS_TYPE_ARRAY)
            continue;
        char *sig = dbus_message_iter_get_signature(&iter);
        slm_error err;
        if (sig && !strcmp(sig, "a{ss}")) {
            struct ipc_generation g;
            ipc_generation_init(&g);
            if (dbus_args_read_options(&iter, &g, &err) < 0 && err.status != SLM_ERR_INVALID &&
                err.status != SLM_ERR_NOMEM)
                __builtin_trap();
            ipc_generation_deinit(&g);
        } else if (sig && !strcmp(sig, "a(ss)")) {
            struct dbus_chat chat;
            if (dbus_args_read_messages(&iter, &chat, &err) == 0 &&
                (!chat.n || chat.n > DBUS_ARGS_MAX_MESSAGES))
                __builtin_trap();
            dbus_chat_deinit(&chat);
        }
        dbus_free(sig);
    } while (dbus_message_iter_next(&iter));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    DBusError error;
    dbus_error_init(&error);
    DBusMessage *m = dbus_message_demarshal((const char *)data, (int)size, &error);
    if (m) {
        read_arguments(m);
        dbus_message_unref(m);
    }
    dbus_error_free(&error);

    /* replies built from arbitrary bytes */
    DBusMessage *reply = dbus_message_new_signal("/org/slmd/Slmd1/requests/1",
                                                 "org.slmd.Slmd1.Request", "Finished");
    if (!reply)
        return 0;
    DBusMessageIter iter;
    dbus_message_iter_init_append(reply, &iter);
    char *text = (char *)data;
    struct slm_result r = {.status = size & 1 ? SLM_OK : SLM_ERR_CONTEXT,
                           .error = "error",
                           .finish_reason = "stop",
                           .text = text,
                           .text_len = size};
    if (!dbus_args_append_text(&iter, text, size) || !dbus_args_append_info(&iter, "model", &r))
        __builtin_trap();
    /* the message must survive its own round trip (as sent: with a serial) */
    dbus_message_set_serial(reply, 1);
    char *wire = NULL;
    int len = 0;
    if (dbus_message_marshal(reply, &wire, &len)) {
        DBusMessage *back = dbus_message_demarshal(wire, len, &error);
        if (!back)
            __builtin_trap();
        dbus_message_unref(back);
        dbus_free(wire);
    }
    dbus_error_free(&error);
    dbus_message_unref(reply);
    return 0;
}
