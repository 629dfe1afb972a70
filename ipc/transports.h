/* The transports ipc/ provides to slmd (listed in daemon/transports.c). */
#ifndef SLM_IPC_TRANSPORTS_H
#define SLM_IPC_TRANSPORTS_H

#include "daemon/transport.h"

/* org.slmd.Slmd1 on the configured bus; does nothing with `dbus: none`. */
extern const struct slmd_transport slm_dbus_transport;
/* The OpenAI-compatible HTTP API on the listening Unix socket. */
extern const struct slmd_transport slm_http_transport;

#endif
