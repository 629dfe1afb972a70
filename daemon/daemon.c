/* The slmd process (see daemon.h). Everything here runs on the loop thread; the engine's
 * threads only make its event fd readable, and on_engine_event() dispatches their work. */
#include "daemon/daemon.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "daemon/config.h"
#include "daemon/listen.h"
#include "daemon/log.h"
#include "daemon/signals.h"
#include "daemon/specs.h"
#include "daemon/status.h"
#include "daemon/transport.h"
#include "daemon/watch.h"
#include "util/cleanup.h"

/* EXTEND_TIMEOUT_USEC while models load: every 10 s ask for 30 s more, so a slow load is
 * never cut off while a stuck one still times out 30 s after its last sign of life. */
#define SLMD_EXTEND_INTERVAL_USEC (10ULL * 1000000)
#define SLMD_EXTEND_BY_USEC (30ULL * 1000000)
/* The queue length in STATUS= changes without model events; refresh it this often. */
#define SLMD_STATUS_INTERVAL_USEC (5ULL * 1000000)
/* Transports slmd can host (D-Bus, HTTP, and room to spare). */
#define SLMD_MAX_TRANSPORTS 8
/* A reload keeps removed models draining next to the new ones. */
#define SLMD_MAX_MODEL_ROWS (2 * SLMD_MAX_MODELS)

struct slmd_daemon {
    char *config_path;
    struct slmd_options options; /* strings point into this struct's copies */
    char *socket_override;

    sd_event *event;
    slm_engine *engine;
    struct slmd_config *config;
    struct slmd_listener listener;
    struct slmd_model_watch *watch;

    struct slmd_transport_context transport_context;
    void *transport_state[SLMD_MAX_TRANSPORTS];
    size_t n_transports;

    sd_event_source *engine_source;
    struct slmd_signals *signals;
    sd_event_source *status_timer;
    sd_event_source *extend_timer;
    sd_event_source *reload_request;

    bool ready_pending; /* READY=1 goes out once the current preloads are done */
    bool stopping;
    char problem[SLM_ERROR_MSG_MAX + 32]; /* shown in STATUS= until the next good reload */
    char status[SLMD_STATUS_MAX];         /* last STATUS= sent */
};

static uint64_t now_usec(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* ---- STATUS= and READY=1 ---- */

/* The engine's model table in the config's order (what an operator reads top to bottom),
 * models no longer configured (draining) last. Returns the number of rows. */
static size_t model_rows(struct slmd_daemon *d, struct slm_model_status *rows)
{
    static struct slm_model_status unsorted[SLMD_MAX_MODEL_ROWS]; /* loop thread only */
    size_t n = SLM_MIN(slm_engine_models(d->engine, unsorted, SLMD_MAX_MODEL_ROWS),
                       (size_t)SLMD_MAX_MODEL_ROWS);
    bool taken[SLMD_MAX_MODEL_ROWS] = {false};
    size_t out = 0;
    for (size_t c = 0; d->config && c < d->config->n_models; c++)
        for (size_t i = 0; i < n; i++)
            if (!taken[i] && strcmp(unsorted[i].name, d->config->models[c].name) == 0) {
                rows[out++] = unsorted[i];
                taken[i] = true;
                break;
            }
    for (size_t i = 0; i < n; i++)
        if (!taken[i])
            rows[out++] = unsorted[i];
    return out;
}

static bool find_model_row(struct slmd_daemon *d, const char *model,
                           struct slm_model_status *row)
{
    static struct slm_model_status rows[SLMD_MAX_MODEL_ROWS]; /* loop thread only */
    size_t n = model_rows(d, rows);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].name, model) == 0) {
            *row = rows[i];
            return true;
        }
    }
    return false;
}

/* Sends STATUS= when the line changed, or always when `also` (e.g. "READY=1") must go out:
 * then in the same datagram, so the manager sees the state and its description at once. */
static void notify_status(struct slmd_daemon *d, const char *also)
{
    if (!d->engine || d->stopping)
        return;
    static struct slm_model_status rows[SLMD_MAX_MODEL_ROWS]; /* loop thread only */
    size_t n = model_rows(d, rows);
    struct slm_engine_stats stats;
    slm_engine_stats(d->engine, &stats);
    char line[SLMD_STATUS_MAX];
    slmd_status_format(line, rows, n, stats.queue_depth, d->problem);
    if (!also && strcmp(line, d->status) == 0)
        return;
    memcpy(d->status, line, sizeof(line));
    sd_notifyf(0, "%s%sSTATUS=%s", also ? also : "", also ? "\n" : "", line);
}

static void update_status(struct slmd_daemon *d)
{
    notify_status(d, NULL);
}

static void send_ready_when_loaded(struct slmd_daemon *d)
{
    if (!d->ready_pending || d->stopping || !slm_engine_preloads_done(d->engine))
        return;
    d->ready_pending = false;
    sd_event_source_set_enabled(d->extend_timer, SD_EVENT_OFF);
    notify_status(d, "READY=1");
    slmd_log_info("ready: %s", d->status);
}

static int on_extend_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
    struct slmd_daemon *d = userdata;
    if (!d->ready_pending)
        return 0;
    sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%" PRIu64, (uint64_t)SLMD_EXTEND_BY_USEC);
    sd_event_source_set_time_relative(source, SLMD_EXTEND_INTERVAL_USEC);
    return sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
}

/* READY=1 will follow once the preloads that the last configure started are done. */
static void expect_ready(struct slmd_daemon *d)
{
    /* run the callbacks of what already happened first, so that their log lines and the
     * transports' updates come before READY=1 */
    slm_engine_dispatch(d->engine);
    d->ready_pending = true;
    if (slm_engine_preloads_done(d->engine)) {
        send_ready_when_loaded(d);
        return;
    }
    sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%" PRIu64, (uint64_t)SLMD_EXTEND_BY_USEC);
    sd_event_source_set_time_relative(d->extend_timer, SLMD_EXTEND_INTERVAL_USEC);
    sd_event_source_set_enabled(d->extend_timer, SD_EVENT_ONESHOT);
    update_status(d);
}

static int on_status_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
    struct slmd_daemon *d = userdata;
    update_status(d);
    sd_event_source_set_time_relative(source, SLMD_STATUS_INTERVAL_USEC);
    return sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
}

/* ---- the engine ---- */

static void on_model_state(void *userdata, const char *model, enum slm_model_state state,
                           const char *message)
{
    struct slmd_daemon *d = userdata;
    /* the engine's messages say what happened ("loading PATH", "ready: llama, ..."); a
     * failure's message is only the reason */
    if (state == SLM_MODEL_FAILED)
        slmd_log_model(LOG_WARNING, model, "failed to load: %s", message ? message : "");
    else if (message && *message)
        slmd_log_model(LOG_INFO, model, "%s", message);
    else
        slmd_log_model(LOG_INFO, model, "%s", slmd_status_state_word(state));
    for (size_t i = 0; i < d->n_transports; i++)
        if (slmd_transports[i]->model_state_changed)
            slmd_transports[i]->model_state_changed(d->transport_state[i], model, state,
                                                    message);
    update_status(d);
    send_ready_when_loaded(d);
}

static int on_engine_event(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
    struct slmd_daemon *d = userdata;
    slm_engine_dispatch(d->engine);
    return 0;
}

/* A model's file changed on disk and has settled. The engine itself notices that a
 * loaded model's file changed (it checks while serving) and reloads it; what it cannot
 * know is that a file which failed to load, or was missing, is now worth trying again.
 * So a preloaded model that is not loaded is loaded now; one that loads on demand
 * picks the new file up at its next request. */
static void on_model_file_changed(void *userdata, const char *model, const char *path)
{
    struct slmd_daemon *d = userdata;
    const struct slmd_model_config *m = slmd_config_find_model(d->config, model);
    struct slm_model_status row;
    if (!m || !find_model_row(d, model, &row))
        return;
    if (row.state == SLM_MODEL_READY || row.state == SLM_MODEL_LOADING) {
        slmd_log_model(LOG_DEBUG, model, "%s changed on disk; the engine reloads it", path);
        return;
    }
    if (!m->preload) {
        slmd_log_model(LOG_INFO, model, "%s changed on disk; it is read at the next request",
                       path);
        return;
    }
    slmd_log_model(LOG_NOTICE, model, "%s changed on disk; loading it", path);
    slm_error err = {0};
    if (slm_engine_load(d->engine, model, &err) < 0)
        slmd_log_model(LOG_WARNING, model, "cannot load after the change: %s", err.message);
}

static void rewatch_models(struct slmd_daemon *d)
{
    slmd_model_watch_free(d->watch);
    d->watch = slmd_model_watch_new(d->event, d->config, on_model_file_changed, d);
    if (!d->watch)
        slmd_log_warning("out of memory: model files are not watched for changes");
}

/* Hands the config's models to the engine. */
static int configure_engine(struct slmd_daemon *d, const struct slmd_config *config,
                            slm_error *err)
{
    struct slm_model_spec specs[SLMD_MAX_MODELS];
    slmd_model_specs_from_config(config, specs);
    return slm_engine_configure(d->engine, specs, config->n_models, err);
}

/* ---- reload ---- */

static void apply_options(const struct slmd_daemon *d, struct slmd_config *config)
{
    if (d->options.has_bus)
        config->server.bus = d->options.bus;
    if (d->options.socket_path)
        snprintf(config->server.socket_path, sizeof(config->server.socket_path), "%s",
                 d->options.socket_path);
}

static void reload_failed(struct slmd_daemon *d, const char *message, size_t more)
{
    if (more)
        snprintf(d->problem, sizeof(d->problem), "reload failed: %s (and %zu more errors)",
                 message, more);
    else
        snprintf(d->problem, sizeof(d->problem), "reload failed: %s", message);
    slmd_log_error("%s; still serving the previous configuration", d->problem);
    notify_status(d, "READY=1");
}

/* Settings that stay as they were until a restart: say so rather than pretend. */
static void keep_restart_only_settings(struct slmd_daemon *d, struct slmd_config *next)
{
    struct slmd_server_config *now = &d->config->server, *then = &next->server;
    if (strcmp(now->socket_path, then->socket_path) != 0)
        slmd_log_warning("server.socket changed to %s; slmd keeps %s until it is restarted",
                         then->socket_path, now->socket_path);
    if (now->bus != then->bus)
        slmd_log_warning("server.dbus changed to %s; it takes effect when slmd restarts",
                         slmd_bus_name(then->bus));
    memcpy(then->socket_path, now->socket_path, sizeof(then->socket_path));
    then->bus = now->bus;
}

/* threads, memory_limit, max_queue and request_timeout apply to the running engine. */
static void apply_engine_settings(struct slmd_daemon *d, const struct slmd_config *next)
{
    char what[128];
    if (!slmd_engine_config_differs(d->config, next, what, sizeof(what)))
        return;
    struct slm_engine_config engine_config;
    slmd_engine_config_from_config(next, &engine_config);
    engine_config.on_model_state = on_model_state;
    engine_config.userdata = d;
    slm_error err;
    if (slm_engine_set_config(d->engine, &engine_config, &err) < 0)
        slmd_log_warning("%s changed but could not be applied: %s", what, err.message);
    else
        slmd_log_info("%s changed; applied", what);
}

static void reload(struct slmd_daemon *d)
{
    if (d->stopping)
        return;
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64 "\nSTATUS=Reloading %s",
               now_usec(CLOCK_MONOTONIC), d->config_path);
    slmd_log_info("reloading %s", d->config_path);

    struct slmd_config *next = NULL;
    struct slmd_diagnostics diag;
    if (slmd_config_load(d->config_path, SLMD_CONFIG_FULL, &next, &diag) < 0) {
        for (size_t i = 0; i < diag.n; i++)
            slmd_log_error("%s", diag.lines[i]);
        reload_failed(d, slmd_diagnostics_first(&diag), diag.n - 1 + diag.n_dropped);
        slmd_diagnostics_clear(&diag);
        return;
    }
    apply_options(d, next);
    keep_restart_only_settings(d, next);

    slm_error err = {0};
    if (configure_engine(d, next, &err) < 0) {
        slmd_config_free(next);
        reload_failed(d, err.message, 0);
        return;
    }
    if (slmd_listener_apply_access(&d->listener, &next->server, &err) < 0)
        slmd_log_warning("%s", err.message);
    apply_engine_settings(d, next);

    struct slmd_config *old = d->config;
    d->config = next;
    d->transport_context.config = &next->server;
    for (size_t i = 0; i < d->n_transports; i++)
        if (slmd_transports[i]->config_changed)
            slmd_transports[i]->config_changed(d->transport_state[i], &next->server);
    slmd_config_free(old);
    rewatch_models(d);

    d->problem[0] = '\0';
    slmd_log_info("reloaded %s: %zu model%s configured", d->config_path, d->config->n_models,
                  d->config->n_models == 1 ? "" : "s");
    expect_ready(d);
}

static int on_reload_request(sd_event_source *source, void *userdata)
{
    reload(userdata);
    return 0;
}

/* From a transport (D-Bus Manager.Reload): run the reload on the next loop iteration, not
 * inside the transport's handler. */
static void request_reload(void *daemon)
{
    struct slmd_daemon *d = daemon;
    if (sd_event_source_set_enabled(d->reload_request, SD_EVENT_ONESHOT) < 0)
        slmd_log_warning("cannot schedule the requested reload");
}

/* ---- signals ---- */

static void on_signal(void *userdata, int signo)
{
    struct slmd_daemon *d = userdata;
    if (signo == SIGHUP) {
        reload(d);
        return;
    }
    if (d->stopping)
        return;
    slmd_log_info("received %s, stopping", signo == SIGINT ? "SIGINT" : "SIGTERM");
    d->stopping = true;
    sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
    sd_event_exit(d->event, 0);
}

/* ---- set-up ---- */

static int fail(slm_error *err, int r)
{
    slmd_log_error("%s", err->message);
    sd_notifyf(0, "STATUS=Failed to start: %s", err->message);
    return r;
}

static int load_config(struct slmd_daemon *d, slm_error *err)
{
    struct slmd_diagnostics diag;
    if (slmd_config_load(d->config_path, SLMD_CONFIG_FULL, &d->config, &diag) < 0) {
        for (size_t i = 1; i < diag.n; i++) /* the first one becomes the start error */
            slmd_log_error("%s", diag.lines[i]);
        if (diag.n_dropped)
            slmd_log_error("... and %zu more errors", diag.n_dropped);
        slm_errorf(err, SLM_ERR_FORMAT, "%s", slmd_diagnostics_first(&diag));
        slmd_diagnostics_clear(&diag);
        return -SLM_ERR_FORMAT;
    }
    apply_options(d, d->config);
    return 0;
}

static int setup_loop(struct slmd_daemon *d, slm_error *err)
{
    int r = sd_event_default(&d->event);
    if (r < 0)
        return slm_errorf(err, SLM_ERR_IO, "sd_event: %s", strerror(-r));
    r = sd_event_set_watchdog(d->event, true);
    if (r < 0)
        return slm_errorf(err, SLM_ERR_IO, "watchdog: %s", strerror(-r));
    if (r > 0)
        slmd_log_debug("watchdog enabled");
    r = sd_event_add_time_relative(d->event, &d->status_timer, CLOCK_MONOTONIC,
                                   SLMD_STATUS_INTERVAL_USEC, 0, on_status_timer, d);
    if (r >= 0)
        r = sd_event_add_time_relative(d->event, &d->extend_timer, CLOCK_MONOTONIC,
                                       SLMD_EXTEND_INTERVAL_USEC, 0, on_extend_timer, d);
    if (r >= 0)
        r = sd_event_source_set_enabled(d->extend_timer, SD_EVENT_OFF);
    if (r >= 0)
        r = sd_event_add_defer(d->event, &d->reload_request, on_reload_request, d);
    if (r >= 0)
        r = sd_event_source_set_enabled(d->reload_request, SD_EVENT_OFF);
    if (r < 0)
        return slm_errorf(err, SLM_ERR_IO, "timers: %s", strerror(-r));
    return 0;
}

static int setup_engine(struct slmd_daemon *d, slm_error *err)
{
    struct slm_engine_config engine_config;
    slmd_engine_config_from_config(d->config, &engine_config);
    engine_config.on_model_state = on_model_state;
    engine_config.userdata = d;
    d->engine = slm_engine_new(&engine_config, err);
    if (!d->engine)
        return -(int)(err->status ? err->status : SLM_ERR_INTERNAL);
    int r = sd_event_add_io(d->event, &d->engine_source, slm_engine_event_fd(d->engine), EPOLLIN,
                            on_engine_event, d);
    if (r < 0)
        return slm_errorf(err, SLM_ERR_IO, "engine event fd: %s", strerror(-r));
    return 0;
}

static int start_transports(struct slmd_daemon *d, slm_error *err)
{
    d->transport_context = (struct slmd_transport_context){
        .event = d->event,
        .engine = d->engine,
        .listen_fd = d->listener.fd,
        .config = &d->config->server,
        .request_reload = request_reload,
        .daemon = d,
    };
    for (size_t i = 0; slmd_transports[i] && i < SLMD_MAX_TRANSPORTS; i++) {
        int r = slmd_transports[i]->start(&d->transport_context, &d->transport_state[i], err);
        if (r < 0) {
            slm_error_prefix(err, slmd_transports[i]->name);
            return r;
        }
        d->n_transports = i + 1;
    }
    return 0;
}

static const int handled_signals[] = {SIGTERM, SIGINT, SIGHUP};

int slmd_daemon_new(const struct slmd_options *options, struct slmd_daemon **out,
                    slm_error *err)
{
    struct slmd_daemon *d = calloc(1, sizeof(*d));
    if (!d)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    d->listener.fd = -1;
    d->options = *options;
    d->config_path = strdup(options->config_path ? options->config_path
                                                 : SLMD_DEFAULT_CONFIG_PATH);
    d->socket_override = options->socket_path ? strdup(options->socket_path) : NULL;
    d->options.config_path = d->config_path;
    d->options.socket_path = d->socket_override;
    if (!d->config_path || (options->socket_path && !d->socket_override)) {
        slmd_daemon_free(d);
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    }

    /* Blocked while the engine starts its threads, so that they inherit the block; the
     * loop thread takes them once everything is set up (signals.h says why not signalfd). */
    slmd_signals_block(handled_signals, SLM_ARRAY_SIZE(handled_signals));

    int r = load_config(d, err);
    if (r == 0)
        r = setup_loop(d, err);
    if (r == 0)
        r = setup_engine(d, err);
    if (r == 0)
        r = slmd_listener_open(&d->listener, &d->config->server, err);
    if (r == 0)
        r = start_transports(d, err);
    if (r == 0) {
        r = configure_engine(d, d->config, err);
        if (r < 0)
            slm_error_prefix(err, d->config_path);
    }
    if (r == 0) {
        int e = slmd_signals_new(d->event, handled_signals, SLM_ARRAY_SIZE(handled_signals),
                                 on_signal, d, &d->signals);
        if (e < 0)
            r = slm_errorf(err, SLM_ERR_IO, "signal handlers: %s", strerror(-e));
    }
    if (r < 0) {
        fail(err, r);
        slmd_daemon_free(d);
        return r;
    }
    rewatch_models(d);
    if (!slmd_transports[0])
        slmd_log_warning("built without the D-Bus and HTTP transports (ipc/): the API socket "
                         "accepts connections but nothing answers them yet");
    slmd_log_info("started with %s: %zu model%s configured, socket %s, D-Bus %s",
                  d->config_path, d->config->n_models, d->config->n_models == 1 ? "" : "s",
                  d->listener.path[0] ? d->listener.path : "(passed by systemd)",
                  slmd_bus_name(d->config->server.bus));
    *out = d;
    return 0;
}

int slmd_daemon_run(struct slmd_daemon *d)
{
    expect_ready(d);
    int r = sd_event_loop(d->event);
    if (r < 0) {
        slmd_log_error("event loop: %s", strerror(-r));
        return 1;
    }
    return r;
}

void slmd_daemon_free(struct slmd_daemon *d)
{
    if (!d)
        return;
    for (size_t i = d->n_transports; i > 0; i--)
        slmd_transports[i - 1]->stop(d->transport_state[i - 1]);
    slmd_model_watch_free(d->watch);
    sd_event_source_disable_unref(d->engine_source);
    if (d->engine)
        slm_engine_free(d->engine);
    slmd_listener_close(&d->listener);
    sd_event_source_disable_unref(d->status_timer);
    sd_event_source_disable_unref(d->extend_timer);
    sd_event_source_disable_unref(d->reload_request);
    slmd_signals_free(d->signals); /* last: a second SIGTERM meanwhile is not fatal */
    sd_event_unref(d->event);
    slmd_config_free(d->config);
    free(d->config_path);
    free(d->socket_override);
    free(d);
}
