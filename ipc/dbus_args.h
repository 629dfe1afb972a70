/* Reading the arguments slmd's methods take and writing the ones they return: options
 * a{ss} (strict: unknown keys and bad values are errors naming the option), chat
 * messages a(ss), and the a{ss} info of a finished generation. Strings that come from
 * models are made valid UTF-8 on the way out (libdbus aborts on invalid strings). */
#ifndef SLM_IPC_DBUS_ARGS_H
#define SLM_IPC_DBUS_ARGS_H

#include <dbus/dbus.h>
#include <stdbool.h>
#include <stddef.h>

#include "ipc/options.h"
#include "slm/engine.h"
#include "slm/error.h"

/* Options per call: the table has a dozen keys; a caller sending more is confused. */
#define DBUS_ARGS_MAX_OPTIONS 64
/* Chat messages per call (the engine's own limit). */
#define DBUS_ARGS_MAX_MESSAGES 4096

/* iter is at an a{ss}. */
int dbus_args_read_options(DBusMessageIter *iter, struct ipc_generation *g, slm_error *err);

/* iter is at an a(ss) of (role, content). The messages point into the D-Bus message,
 * valid while it is. */
struct dbus_chat {
    struct slm_chat_message *messages; /* malloc'd */
    size_t n;
};
int dbus_args_read_messages(DBusMessageIter *iter, struct dbus_chat *chat, slm_error *err);
void dbus_chat_deinit(struct dbus_chat *chat);

/* Appends a string, replacing ill-formed UTF-8 and NUL bytes with U+FFFD. */
bool dbus_args_append_text(DBusMessageIter *iter, const char *text, size_t len);

/* Appends the a{ss} info of a finished generation: finish_reason, prompt_tokens,
 * completion_tokens, total_tokens, cached_tokens, prompt_ms, generate_ms, truncated,
 * model, and when it failed error (the message) and error_name (the D-Bus error name a
 * method call would have returned). */
bool dbus_args_append_info(DBusMessageIter *iter, const char *model,
                           const struct slm_result *result);

#endif
