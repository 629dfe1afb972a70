/* The listening Unix socket of the HTTP API: the one systemd passed (socket activation,
 * FileDescriptorName=api), or one slmd binds itself at the configured path with the
 * configured mode and group. */
#ifndef SLMD_LISTEN_H
#define SLMD_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

#include "daemon/server_config.h"
#include "slm/error.h"

struct slmd_listener {
    int fd;         /* listening SOCK_STREAM socket, close-on-exec */
    bool activated; /* passed by the service manager: not ours to unlink or chmod */
    char path[SLMD_SOCKET_PATH_MAX]; /* bound path ("" if unknown) */
    dev_t dev;      /* the socket file we created, so that we only remove our own */
    ino_t ino;
};

/* Takes the socket named "api" from sd_listen_fds_with_names() (or the only socket passed,
 * if it has no name), closing any other passed descriptors; otherwise binds
 * config->socket_path. Returns 0 or a negative slm_status with `err` set. */
int slmd_listener_open(struct slmd_listener *listener, const struct slmd_server_config *config,
                       slm_error *err);

/* Applies socket_mode and socket_group again (reload). No-op for an activated socket,
 * whose unit file owns those settings. */
int slmd_listener_apply_access(struct slmd_listener *listener,
                               const struct slmd_server_config *config, slm_error *err);

/* Closes the socket and removes the file if slmd created it and it is still the same. */
void slmd_listener_close(struct slmd_listener *listener);

#endif
