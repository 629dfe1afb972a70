/* The API socket (daemon/listen.c) for real: binding a path with mode and group, refusing
 * to replace a file or a live server, clearing a stale socket, removing only our own file,
 * and taking a socket passed the way systemd passes it (LISTEN_FDS, LISTEN_PID,
 * LISTEN_FDNAMES, descriptors from 3). */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/listen.h"
#include "daemon/log.h"

static char dir[] = "/tmp/slmd-test-listen-XXXXXX";

static void config_at(struct slmd_server_config *config, const char *name)
{
    slmd_server_config_init(config);
    snprintf(config->socket_path, sizeof(config->socket_path), "%s/%s", dir, name);
}

static bool can_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    bool ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(fd);
    return ok;
}

/* A socket file left behind by a process that died: bound, never listening, closed. */
static void make_stale_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    REQUIRE(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
    close(fd);
}

static void test_bind(void)
{
    struct slmd_server_config config;
    config_at(&config, "sub/api.sock"); /* the directory is created */
    config.socket_mode = 0640;
    config.has_socket_group = true;
    config.socket_group = getegid();
    struct slmd_listener l;
    slm_error err = {0};
    REQUIRE(slmd_listener_open(&l, &config, &err) == 0);
    CHECK(!l.activated);
    CHECK(strcmp(l.path, config.socket_path) == 0);
    struct stat st;
    REQUIRE(stat(config.socket_path, &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECKF((st.st_mode & 07777) == 0640, "mode %o", st.st_mode & 07777);
    CHECK(st.st_gid == getegid());
    CHECK(fcntl(l.fd, F_GETFD) & FD_CLOEXEC);
    CHECK(can_connect(config.socket_path)); /* listening: the kernel queues the client */

    /* reload with another mode */
    config.socket_mode = 0600;
    CHECK(slmd_listener_apply_access(&l, &config, &err) == 0);
    REQUIRE(stat(config.socket_path, &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);

    /* a second server on the same path is refused while the first one listens */
    struct slmd_listener second;
    CHECK(slmd_listener_open(&second, &config, &err) < 0);
    CHECKF(strstr(err.message, "another server is already listening there") != NULL, "%s",
           err.message);

    slmd_listener_close(&l);
    CHECK(stat(config.socket_path, &st) < 0 && errno == ENOENT); /* our file is removed */
}

static void test_stale_and_foreign(void)
{
    struct slmd_server_config config;
    config_at(&config, "stale.sock");
    make_stale_socket(config.socket_path);
    struct slmd_listener l;
    slm_error err = {0};
    REQUIRE(slmd_listener_open(&l, &config, &err) == 0);
    CHECK(can_connect(config.socket_path));

    /* somebody else replaced the file meanwhile: it is not ours to remove */
    REQUIRE(unlink(config.socket_path) == 0);
    make_stale_socket(config.socket_path);
    slmd_listener_close(&l);
    struct stat st;
    CHECK(stat(config.socket_path, &st) == 0);
    unlink(config.socket_path);

    /* a regular file where the socket should go is never deleted */
    config_at(&config, "file");
    FILE *f = fopen(config.socket_path, "w");
    REQUIRE(f);
    fclose(f);
    CHECK(slmd_listener_open(&l, &config, &err) < 0);
    CHECKF(strstr(err.message, "exists and is not a socket") != NULL, "%s", err.message);
    CHECK(stat(config.socket_path, &st) == 0 && S_ISREG(st.st_mode));
    unlink(config.socket_path);
}

/* Puts `fd` at descriptor 3 and sets the environment as systemd does for our pid. */
static void pass_like_systemd(int fd, const char *names)
{
    REQUIRE(dup2(fd, 3) == 3);
    if (fd != 3)
        close(fd);
    char pid[32];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
    if (names)
        setenv("LISTEN_FDNAMES", names, 1);
    else
        unsetenv("LISTEN_FDNAMES");
}

static int listening_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    REQUIRE(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
    REQUIRE(listen(fd, 4) == 0);
    return fd;
}

static void test_activation(void)
{
    char passed[128];
    snprintf(passed, sizeof(passed), "%s/passed.sock", dir);
    struct slmd_server_config config;
    config_at(&config, "not-used.sock");

    pass_like_systemd(listening_socket(passed), "api");
    struct slmd_listener l;
    slm_error err = {0};
    REQUIRE(slmd_listener_open(&l, &config, &err) == 0);
    CHECK(l.activated);
    CHECK(l.fd == 3);
    CHECK(strcmp(l.path, passed) == 0);
    CHECK(getenv("LISTEN_FDS") == NULL); /* consumed, not inherited by children */
    struct stat st;
    CHECK(stat(config.socket_path, &st) < 0); /* the configured path was not bound */
    CHECK(can_connect(passed));
    slmd_listener_close(&l);
    CHECK(stat(passed, &st) == 0); /* the manager's socket file is left alone */
    unlink(passed);

    /* a descriptor under another name is closed and refused */
    pass_like_systemd(listening_socket(passed), "metrics");
    CHECK(slmd_listener_open(&l, &config, &err) < 0);
    CHECKF(strstr(err.message, "no listening Unix stream socket named \"api\"") != NULL, "%s",
           err.message);
    CHECK(fcntl(3, F_GETFD) < 0); /* closed */
    unlink(passed);

    /* a single socket without a name (systemd-socket-activate without --fdname) is used */
    pass_like_systemd(listening_socket(passed), NULL);
    REQUIRE(slmd_listener_open(&l, &config, &err) == 0);
    CHECK(l.activated && l.fd == 3);
    slmd_listener_close(&l);
    unlink(passed);
}

int main(void)
{
    slmd_log_setup(SLMD_LOG_STDERR, LOG_WARNING);
    REQUIRE(mkdtemp(dir));
    test_bind();
    test_stale_and_foreign();
    test_activation();
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/sub", dir);
    rmdir(sub);
    CHECKF(rmdir(dir) == 0, "%s left files behind", dir);
    return test_report();
}
