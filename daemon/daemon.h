/* The slmd process: the sd-event loop, the engine, the API socket, the transports, and
 * the systemd protocol around them (READY, RELOADING, STOPPING, STATUS, watchdog).
 *
 *   start:   config → engine → socket → transports → configure models → READY=1 once
 *            the preloaded models are mapped (EXTEND_TIMEOUT_USEC while they load)
 *   SIGHUP:  RELOADING=1 + MONOTONIC_USEC, parse the file completely, then either apply it
 *            (slm_engine_configure) or keep everything and show the error; READY=1
 *   SIGTERM: STOPPING=1, leave the loop, stop transports, free the engine */
#ifndef SLMD_DAEMON_H
#define SLMD_DAEMON_H

#include <stdbool.h>

#include "daemon/server_config.h"
#include "slm/error.h"

/* Command-line settings that override the config file. */
struct slmd_options {
    const char *config_path; /* SLMD_DEFAULT_CONFIG_PATH if NULL */
    bool has_bus;            /* --bus */
    enum slmd_bus bus;
    const char *socket_path; /* --socket, absolute; NULL: from the config */
};

struct slmd_daemon;

/* Sets everything up short of serving: on failure logs why and returns a negative
 * slm_status with `err` set (also sent as STATUS= so `systemctl status` shows it). */
int slmd_daemon_new(const struct slmd_options *options, struct slmd_daemon **out,
                    slm_error *err);
/* Runs the loop until SIGTERM/SIGINT; returns the process exit status. */
int slmd_daemon_run(struct slmd_daemon *daemon);
void slmd_daemon_free(struct slmd_daemon *daemon);

#endif
