/* The transports this slmd serves (see transport.h): the D-Bus service and the HTTP API
 * of ipc/. */
#include "daemon/transport.h"

#include <stddef.h>

#include "ipc/transports.h"

const struct slmd_transport *const slmd_transports[] = {
    &slm_dbus_transport,
    &slm_http_transport,
    NULL,
};
