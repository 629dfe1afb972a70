/* Defaults of the server section (DESIGN.md "Config"). */
#include "daemon/server_config.h"

#include <string.h>

void slmd_server_config_init(struct slmd_server_config *config)
{
    memset(config, 0, sizeof(*config));
    strcpy(config->socket_path, "/run/slmd/slmd.sock");
    config->socket_mode = 0660;
    config->bus = SLMD_BUS_SYSTEM;
    config->max_queue = 64;
    config->max_body = 1024 * 1024;
    config->request_timeout_usec = 300ULL * 1000000;
}

const char *slmd_bus_name(enum slmd_bus bus)
{
    switch (bus) {
    case SLMD_BUS_SYSTEM:
        return "system";
    case SLMD_BUS_SESSION:
        return "session";
    case SLMD_BUS_NONE:
        return "none";
    }
    return "unknown";
}
