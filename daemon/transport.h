/* Where the transports plug into the daemon.
 *
 * A transport (the D-Bus service and the HTTP API of ipc/) is a table of functions the
 * daemon calls from its loop thread. The daemon owns the sd-event loop, the engine and the
 * listening socket and hands them over in `struct slmd_transport_context`; the transport
 * adds its own event sources to that loop (one loop, no locks: DESIGN.md "slmd").
 *
 * To add one: define a `const struct slmd_transport slm_xxx_transport` in ipc/ and list
 * it in daemon/transports.c. */
#ifndef SLMD_TRANSPORT_H
#define SLMD_TRANSPORT_H

#include <systemd/sd-event.h>

#include "daemon/server_config.h"
#include "slm/engine.h"
#include "slm/error.h"

struct slmd_transport_context {
    sd_event *event;
    slm_engine *engine;
    int listen_fd; /* the API socket, already listening; owned by the daemon */
    const struct slmd_server_config *config; /* valid until config_changed or stop */
    /* Asks the daemon to reload slmd.yaml exactly as SIGHUP does (D-Bus
     * Manager.Reload()). The reload runs later on the loop; its outcome shows in the
     * model states and in the log. */
    void (*request_reload)(void *daemon);
    void *daemon;
};

struct slmd_transport {
    const char *name; /* "D-Bus", "HTTP" for log messages */
    /* Starts serving. Returns 0 and the transport's state in *state, or a negative
     * slm_status with `err` set: the daemon then stops with that message. */
    int (*start)(const struct slmd_transport_context *context, void **state, slm_error *err);
    /* A model changed state (same arguments as slm_engine_config.on_model_state); the
     * transport updates what it shows (D-Bus objects, PropertiesChanged). May be NULL. */
    void (*model_state_changed)(void *state, const char *model, enum slm_model_state new_state,
                                const char *message);
    /* A reload changed the model set or the server section (limits, allowed groups).
     * The socket path, bus and listening fd never change without a restart. May be
     * NULL. */
    void (*config_changed)(void *state, const struct slmd_server_config *config);
    /* Stops and frees; called before the engine is freed. */
    void (*stop)(void *state);
};

/* The transports built into this slmd, NULL-terminated. */
extern const struct slmd_transport *const slmd_transports[];

#endif
