/* Watches the configured model paths with inotify so that a model replaced on disk
 * (package upgrade, `cp` or `mv` over it) is reloaded from the new file.
 *
 * A model file is watched through its directory (a replacement by rename leaves a watch
 * on the old inode behind); a Hugging Face model directory is watched itself. Events are
 * settled for SLMD_WATCH_SETTLE_USEC so that a copy in progress is seen once, finished. */
#ifndef SLMD_WATCH_H
#define SLMD_WATCH_H

#include <systemd/sd-event.h>

#include "daemon/config.h"

/* Long enough to see a multi-gigabyte copy's last close and a rename that follows it as
 * one change; short enough that an operator sees the reload at once. */
#define SLMD_WATCH_SETTLE_USEC (2ULL * 1000000)

struct slmd_model_watch;

/* Called on the loop thread once a model's file has settled after a change. */
typedef void (*slmd_model_changed_fn)(void *userdata, const char *model, const char *path);

/* Watches every model of `config`. A path that cannot be watched is logged and skipped:
 * watching is a convenience, never a reason not to serve. Returns NULL only when out of
 * memory. */
struct slmd_model_watch *slmd_model_watch_new(sd_event *event, const struct slmd_config *config,
                                              slmd_model_changed_fn changed, void *userdata);
void slmd_model_watch_free(struct slmd_model_watch *watch);

#endif
