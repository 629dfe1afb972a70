/* inotify on model paths (see watch.h). */
#include "daemon/watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "daemon/log.h"
#include "util/cleanup.h"

struct watched_model {
    struct slmd_model_watch *owner;
    char *name;
    char *path;
    const char *file_name; /* inside `path`: the entry to look for in directory events;
                              NULL when `path` itself is a directory being watched */
    sd_event_source *inotify;
    sd_event_source *settle; /* armed by a change, fires once things are quiet */
};

struct slmd_model_watch {
    sd_event *event;
    slmd_model_changed_fn changed;
    void *userdata;
    struct watched_model *models;
    size_t n_models;
};

static int on_settled(sd_event_source *source, uint64_t usec, void *userdata)
{
    struct watched_model *m = userdata;
    m->owner->changed(m->owner->userdata, m->name, m->path);
    return 0;
}

static void arm_settle_timer(struct watched_model *m)
{
    int r;
    if (m->settle)
        r = sd_event_source_set_time_relative(m->settle, SLMD_WATCH_SETTLE_USEC);
    else
        r = sd_event_add_time_relative(m->owner->event, &m->settle, CLOCK_MONOTONIC,
                                       SLMD_WATCH_SETTLE_USEC, 0, on_settled, m);
    if (r >= 0)
        r = sd_event_source_set_enabled(m->settle, SD_EVENT_ONESHOT);
    if (r < 0)
        slmd_log_model(LOG_WARNING, m->name, "cannot watch %s for changes: %s", m->path,
                       strerror(-r));
}

static int on_inotify(sd_event_source *source, const struct inotify_event *ev, void *userdata)
{
    struct watched_model *m = userdata;
    if (m->file_name && (ev->len == 0 || strcmp(ev->name, m->file_name) != 0))
        return 0;
    if (ev->mask & (IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF)) {
        slmd_log_model(LOG_WARNING, m->name,
                       "%s was removed or renamed; a loaded copy keeps serving until it is "
                       "unloaded",
                       m->path);
        return 0;
    }
    arm_settle_timer(m);
    return 0;
}

static int watch_one(struct slmd_model_watch *watch, struct watched_model *m,
                     const struct slmd_model_config *config)
{
    m->owner = watch;
    m->name = strdup(config->name);
    m->path = strdup(config->path);
    if (!m->name || !m->path)
        return -ENOMEM;
    struct stat st;
    bool is_dir = stat(m->path, &st) == 0 && S_ISDIR(st.st_mode);
    _cleanup_free_ char *dir = NULL;
    uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM;
    if (is_dir) {
        dir = strdup(m->path);
        mask |= IN_DELETE_SELF | IN_MOVE_SELF;
        m->file_name = NULL;
    } else {
        const char *slash = strrchr(m->path, '/');
        dir = slash == m->path ? strdup("/")
              : slash          ? strndup(m->path, (size_t)(slash - m->path))
                               : strdup(".");
        m->file_name = slash ? slash + 1 : m->path;
    }
    if (!dir)
        return -ENOMEM;
    int r = sd_event_add_inotify(watch->event, &m->inotify, dir, mask | IN_ONLYDIR, on_inotify,
                                 m);
    if (r < 0)
        slmd_log_model(LOG_WARNING, m->name, "cannot watch %s for changes: %s", dir,
                       strerror(-r));
    return 0;
}

struct slmd_model_watch *slmd_model_watch_new(sd_event *event, const struct slmd_config *config,
                                              slmd_model_changed_fn changed, void *userdata)
{
    struct slmd_model_watch *watch = calloc(1, sizeof(*watch));
    if (!watch)
        return NULL;
    watch->event = sd_event_ref(event);
    watch->changed = changed;
    watch->userdata = userdata;
    watch->models = calloc(config->n_models ? config->n_models : 1, sizeof(*watch->models));
    if (!watch->models) {
        slmd_model_watch_free(watch);
        return NULL;
    }
    for (size_t i = 0; i < config->n_models; i++) {
        watch->n_models++;
        if (watch_one(watch, &watch->models[i], &config->models[i]) < 0) {
            slmd_model_watch_free(watch);
            return NULL;
        }
    }
    return watch;
}

void slmd_model_watch_free(struct slmd_model_watch *watch)
{
    if (!watch)
        return;
    for (size_t i = 0; i < watch->n_models; i++) {
        struct watched_model *m = &watch->models[i];
        sd_event_source_disable_unref(m->inotify);
        sd_event_source_disable_unref(m->settle);
        free(m->name);
        free(m->path);
    }
    free(watch->models);
    sd_event_unref(watch->event);
    free(watch);
}
