/* slmd [--config FILE] [--bus system|session|none] [--socket PATH] [--check-config]
 * (DESIGN.md "slmd"; docs/slmd.8). Exit status: 0 success, 1 failure, 2 usage error. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/log.h"
#include "util/cleanup.h"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: slmd [OPTION]...\n"
            "Keeps small language models resident and serves them over D-Bus and a Unix "
            "socket.\n\n"
            "  -c, --config FILE     configuration file (default %s)\n"
            "      --bus BUS         D-Bus bus to serve on: system, session or none\n"
            "                        (overrides server.dbus)\n"
            "      --socket PATH     Unix socket of the HTTP API (overrides server.socket)\n"
            "      --check-config    validate the configuration and exit: 0 if it is valid,\n"
            "                        1 with FILE:LINE:COLUMN: messages if not\n"
            "  -v, --verbose         log debug messages too\n"
            "  -h, --help            show this help and exit\n"
            "      --version         show the version and exit\n\n"
            "SIGHUP reloads the configuration; SIGTERM stops. See slmd(8), slmd.yaml(5).\n",
            SLMD_DEFAULT_CONFIG_PATH);
}

static int check_config(const char *path)
{
    struct slmd_config *config = NULL;
    struct slmd_diagnostics diag;
    if (slmd_config_load(path, SLMD_CONFIG_FULL, &config, &diag) < 0) {
        for (size_t i = 0; i < diag.n; i++)
            fprintf(stderr, "%s\n", diag.lines[i]);
        if (diag.n_dropped)
            fprintf(stderr, "%s: ... and %zu more errors\n", path, diag.n_dropped);
        slmd_diagnostics_clear(&diag);
        return 1;
    }
    printf("%s: valid, %zu model%s\n", path, config->n_models, config->n_models == 1 ? "" : "s");
    slmd_config_free(config);
    return 0;
}

/* --socket may be relative (handy in a build tree); the daemon wants it absolute. */
static char *absolute_socket_path(const char *path)
{
    char *abs;
    if (path[0] == '/')
        abs = strdup(path);
    else {
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        if (!cwd || asprintf(&abs, "%s/%s", cwd, path) < 0)
            return NULL;
    }
    if (abs && strlen(abs) >= SLMD_SOCKET_PATH_MAX) {
        fprintf(stderr, "slmd: --socket: %s is longer than a Unix socket path can be (%d bytes)\n",
                abs, SLMD_SOCKET_PATH_MAX - 1);
        free(abs);
        return NULL;
    }
    return abs;
}

int main(int argc, char **argv)
{
    enum { OPT_BUS = 256, OPT_SOCKET, OPT_CHECK, OPT_VERSION };
    static const struct option long_options[] = {
        {"config", required_argument, NULL, 'c'},
        {"bus", required_argument, NULL, OPT_BUS},
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"check-config", no_argument, NULL, OPT_CHECK},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    struct slmd_options options = {.config_path = SLMD_DEFAULT_CONFIG_PATH};
    _cleanup_free_ char *socket_path = NULL;
    bool check = false, verbose = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:vh", long_options, NULL)) != -1) {
        switch (c) {
        case 'c':
            options.config_path = optarg;
            break;
        case OPT_BUS:
            options.has_bus = true;
            if (strcmp(optarg, "system") == 0)
                options.bus = SLMD_BUS_SYSTEM;
            else if (strcmp(optarg, "session") == 0)
                options.bus = SLMD_BUS_SESSION;
            else if (strcmp(optarg, "none") == 0)
                options.bus = SLMD_BUS_NONE;
            else {
                fprintf(stderr, "slmd: --bus: expected system, session or none, got '%s'\n",
                        optarg);
                return 2;
            }
            break;
        case OPT_SOCKET:
            free(socket_path);
            socket_path = absolute_socket_path(optarg);
            if (!socket_path)
                return 2;
            options.socket_path = socket_path;
            break;
        case OPT_CHECK:
            check = true;
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case OPT_VERSION:
            printf("slmd %s\n", SLMD_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "slmd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (check)
        return check_config(options.config_path);

    slmd_log_setup(SLMD_LOG_AUTO, verbose ? LOG_DEBUG : LOG_INFO);
    /* a client that hangs up mid-reply must not kill the daemon */
    signal(SIGPIPE, SIG_IGN);

    struct slmd_daemon *daemon = NULL;
    slm_error err = {0};
    if (slmd_daemon_new(&options, &daemon, &err) < 0)
        return 1;
    int status = slmd_daemon_run(daemon);
    slmd_daemon_free(daemon);
    slmd_log_info("stopped");
    return status;
}
