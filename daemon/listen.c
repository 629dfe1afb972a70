/* Socket activation or bind (see listen.h). */
#include "daemon/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon/log.h"
#include "util/cleanup.h"

/* The name slmd.socket gives the API socket (FileDescriptorName=api). */
#define SLMD_LISTEN_FD_NAME "api"
/* Pending connections the kernel keeps for us (capped by net.core.somaxconn). */
#define SLMD_LISTEN_BACKLOG 128

static void free_names(char **names)
{
    if (!names)
        return;
    for (char **n = names; *n; n++)
        free(*n);
    free(names);
}

/* Sets *out to the descriptor to use from those systemd passed, or to -1 if none was
 * passed. Fails if some were passed but none is usable. */
static int take_activated(int *out, slm_error *err)
{
    *out = -1;
    char **names = NULL;
    int n = sd_listen_fds_with_names(1, &names);
    if (n < 0)
        return slm_errorf(err, SLM_ERR_IO, "socket activation: %s", strerror(-n));
    if (n == 0) {
        free_names(names);
        return 0;
    }
    int chosen = -1;
    for (int i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        const char *name = names && names[i] ? names[i] : "unknown";
        bool wanted = strcmp(name, SLMD_LISTEN_FD_NAME) == 0 ||
                      (n == 1 && strcmp(name, "unknown") == 0);
        if (wanted && chosen < 0 && sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0) {
            chosen = fd;
            continue;
        }
        slmd_log_warning("ignoring file descriptor %d (\"%s\") passed by the service manager",
                         fd, name);
        close(fd);
    }
    free_names(names);
    if (chosen < 0)
        return slm_errorf(err, SLM_ERR_INVALID,
                          "socket activation passed %d descriptor%s but no listening Unix "
                          "stream socket named \"%s\"",
                          n, n == 1 ? "" : "s", SLMD_LISTEN_FD_NAME);
    int flags = fcntl(chosen, F_GETFD);
    if (flags >= 0)
        fcntl(chosen, F_SETFD, flags | FD_CLOEXEC);
    *out = chosen;
    return 0;
}

/* A socket file already at `path`: refuse if a server answers there, remove it if it is
 * a leftover from a process that died, refuse to touch anything that is not a socket. */
static int clear_stale_socket(const char *path, slm_error *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        return slm_errorf(err, SLM_ERR_INVALID, "%s exists and is not a socket; not replacing it",
                          path);
    _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return slm_errorf(err, SLM_ERR_IO, "socket: %s", strerror(errno));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, path, strlen(path) + 1);
    if (connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0)
        return slm_errorf(err, SLM_ERR_BUSY,
                          "%s: another server is already listening there (is slmd running?)",
                          path);
    if (errno != ECONNREFUSED)
        return slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(errno));
    if (unlink(path) < 0 && errno != ENOENT)
        return slm_errorf(err, SLM_ERR_IO, "%s: cannot remove the stale socket: %s", path,
                          strerror(errno));
    slmd_log_info("removed stale socket %s", path);
    return 0;
}

/* Creates the socket's directory if it is missing (one level, like RuntimeDirectory=). */
static int ensure_parent_dir(const char *path, slm_error *err)
{
    char dir[SLMD_SOCKET_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return slm_errorf(err, SLM_ERR_IO, "%s: cannot create the socket's directory: %s", dir,
                          strerror(errno));
    return 0;
}

int slmd_listener_apply_access(struct slmd_listener *listener,
                               const struct slmd_server_config *config, slm_error *err)
{
    if (listener->activated)
        return 0;
    /* chown only when the group differs: the service runs as group slmd, so its sockets
     * usually have the right group already, and its system-call filter refuses chown */
    struct stat st;
    bool regroup = config->has_socket_group &&
                   (stat(listener->path, &st) < 0 || st.st_gid != config->socket_group);
    if (regroup && chown(listener->path, (uid_t)-1, config->socket_group) < 0)
        return slm_errorf(err, SLM_ERR_IO, "%s: cannot set group %u: %s", listener->path,
                          (unsigned)config->socket_group, strerror(errno));
    if (chmod(listener->path, config->socket_mode) < 0)
        return slm_errorf(err, SLM_ERR_IO, "%s: cannot set mode %04o: %s", listener->path,
                          (unsigned)config->socket_mode, strerror(errno));
    return 0;
}

static int bind_path(struct slmd_listener *listener, const struct slmd_server_config *config,
                     slm_error *err)
{
    const char *path = config->socket_path;
    size_t len = strlen(path);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (len == 0 || len >= sizeof(addr.sun_path))
        return slm_errorf(err, SLM_ERR_INVALID, "socket path '%s' is empty or too long", path);
    memcpy(addr.sun_path, path, len + 1);
    int r = ensure_parent_dir(path, err);
    if (r < 0)
        return r;
    r = clear_stale_socket(path, err);
    if (r < 0)
        return r;

    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return slm_errorf(err, SLM_ERR_IO, "socket: %s", strerror(errno));
    /* Created owner-only and opened up after chown: nobody outside the configured group can
     * connect in between. */
    mode_t old_umask = umask(0177);
    int bound = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    int bind_errno = errno;
    umask(old_umask);
    if (bound < 0)
        return slm_errorf(err, SLM_ERR_IO, "%s: cannot bind: %s", path, strerror(bind_errno));

    struct stat st;
    if (stat(path, &st) < 0) {
        int e = errno;
        unlink(path);
        return slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(e));
    }
    snprintf(listener->path, sizeof(listener->path), "%s", path);
    listener->dev = st.st_dev;
    listener->ino = st.st_ino;
    listener->activated = false;
    r = slmd_listener_apply_access(listener, config, err);
    if (r == 0 && listen(fd, SLMD_LISTEN_BACKLOG) < 0)
        r = slm_errorf(err, SLM_ERR_IO, "%s: cannot listen: %s", path, strerror(errno));
    if (r < 0) {
        unlink(path);
        return r;
    }
    listener->fd = TAKE_FD(fd);
    return 0;
}

int slmd_listener_open(struct slmd_listener *listener, const struct slmd_server_config *config,
                       slm_error *err)
{
    memset(listener, 0, sizeof(*listener));
    listener->fd = -1;
    int fd;
    int r = take_activated(&fd, err);
    if (r < 0)
        return r;
    if (fd >= 0) {
        listener->fd = fd;
        listener->activated = true;
        struct sockaddr_un addr;
        socklen_t len = sizeof(addr);
        if (getsockname(fd, (struct sockaddr *)&addr, &len) == 0 &&
            len > offsetof(struct sockaddr_un, sun_path) && addr.sun_path[0])
            snprintf(listener->path, sizeof(listener->path), "%.*s",
                     (int)(len - offsetof(struct sockaddr_un, sun_path)), addr.sun_path);
        slmd_log_info("using the socket passed by the service manager: %s",
                      listener->path[0] ? listener->path : "(unnamed)");
        return 0;
    }
    r = bind_path(listener, config, err);
    if (r < 0)
        return r;
    slmd_log_info("listening on %s (mode %04o)", listener->path, (unsigned)config->socket_mode);
    return 0;
}

void slmd_listener_close(struct slmd_listener *listener)
{
    if (listener->fd < 0)
        return;
    close(listener->fd);
    listener->fd = -1;
    if (listener->activated || !listener->path[0])
        return;
    /* only our own file: a newer slmd may already have bound the path again */
    struct stat st;
    if (stat(listener->path, &st) == 0 && st.st_dev == listener->dev &&
        st.st_ino == listener->ino)
        unlink(listener->path);
}
