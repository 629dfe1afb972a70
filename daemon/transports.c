/* The transports this slmd serves (see transport.h). The D-Bus service and the HTTP API
 * live in ipc/ and are listed here as they land; until then slmd keeps the API socket
 * bound and listening (connections wait in its backlog) and serves no requests. */
#include "daemon/transport.h"

#include <stddef.h>

const struct slmd_transport *const slmd_transports[] = {
    NULL,
};
