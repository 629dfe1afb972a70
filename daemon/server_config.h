/* What the transports (ipc/: D-Bus and HTTP on the Unix socket) need to know from the
 * `server:` section of slmd.yaml, already validated and resolved (group names → gids,
 * sizes → bytes, durations → microseconds). Plain data, copyable by value, no libyaml
 * or libsystemd types, so ipc/ can include it without depending on the config parser. */
#ifndef SLMD_SERVER_CONFIG_H
#define SLMD_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* sizeof(struct sockaddr_un.sun_path) on Linux: the longest path a Unix socket can bind,
 * including the terminating NUL. */
#define SLMD_SOCKET_PATH_MAX 108
/* More groups than a gateway's admin will list; bounds the array below. */
#define SLMD_MAX_ALLOWED_GROUPS 32

enum slmd_bus {
    SLMD_BUS_SYSTEM = 0,
    SLMD_BUS_SESSION,
    SLMD_BUS_NONE,
};

struct slmd_server_config {
    char socket_path[SLMD_SOCKET_PATH_MAX]; /* absolute */
    mode_t socket_mode;                     /* permission bits, e.g. 0660 */
    bool has_socket_group;                  /* false: leave the socket's group alone */
    gid_t socket_group;
    enum slmd_bus bus;
    /* Callers allowed besides root and slmd's own uid (checked with SO_PEERCRED or the
     * bus credentials): members of any of these groups. Empty: nobody else. */
    gid_t allowed_groups[SLMD_MAX_ALLOWED_GROUPS];
    size_t n_allowed_groups;
    uint32_t max_queue;            /* waiting requests; past this: busy error at once */
    uint64_t max_body;             /* bytes of one HTTP request body */
    uint64_t request_timeout_usec; /* 0: no timeout */
};

/* The built-in defaults (DESIGN.md "Config"): /run/slmd/slmd.sock, 0660, no group change,
 * system bus, no extra groups, max_queue 64, max_body 1 MiB, request_timeout 300 s. */
void slmd_server_config_init(struct slmd_server_config *config);

/* "system", "session", "none". */
const char *slmd_bus_name(enum slmd_bus bus);

#endif
