/* How an engine status is told to a client: the D-Bus error name and the HTTP status and
 * OpenAI error type/code. One table, so both transports say the same thing
 * (docs/api.md lists it). */
#ifndef SLM_IPC_STATUS_MAP_H
#define SLM_IPC_STATUS_MAP_H

#include "slm/error.h"

const char *ipc_dbus_error_name(enum slm_status status);
unsigned ipc_http_status(enum slm_status status);
const char *ipc_openai_error_type(enum slm_status status);
const char *ipc_openai_error_code(enum slm_status status);

#endif
