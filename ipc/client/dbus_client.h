/* The D-Bus side of `slm --daemon`: connecting to the bus slmd serves on, calling a
 * method and turning an error reply into an slm_error, and following a request object's
 * Token and Finished signals. Blocking calls: slm is a command, not a service. */
#ifndef SLM_IPC_DBUS_CLIENT_H
#define SLM_IPC_DBUS_CLIENT_H

#include <dbus/dbus.h>
#include <stdbool.h>

#include "slm/error.h"

/* "system" (the default) or "session". */
DBusConnection *slm_dbus_client_connect(const char *bus, slm_error *err);
void slm_dbus_client_close(DBusConnection *conn);

/* Calls and waits (timeout_ms < 0: no timeout); returns the reply, or NULL with err
 * holding the daemon's message and a status matching its error name. Takes `call`. */
DBusMessage *slm_dbus_client_call(DBusConnection *conn, DBusMessage *call, int timeout_ms,
                                  slm_error *err);

/* Calls a method of a model object (path from its name) with no arguments added yet:
 * the caller appends them. NULL when out of memory. */
DBusMessage *slm_dbus_client_model_call(const char *model, const char *method);

/* Follows the request object at `path` (returned by StartGenerate/StartChat) until its
 * Finished signal: on_token gets each piece; `finished` (if not NULL) receives the
 * Finished message (unref it). A finish reason other than "stop" or "length" is an
 * error with the info's message. */
int slm_dbus_client_follow(DBusConnection *conn, const char *path,
                           void (*on_token)(void *userdata, const char *piece),
                           void *userdata, DBusMessage **finished, slm_error *err);

/* The status an slmd error name stands for (SLM_ERR_IO for names from elsewhere). */
enum slm_status slm_dbus_client_status(const char *error_name);

#endif
