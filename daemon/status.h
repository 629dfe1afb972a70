/* The STATUS= line `systemctl status slmd` shows, built from the engine's model table:
 *   Serving 2 models (tinyllama: ready, sentiment: loading); 0 requests queued
 * followed by "; reload failed: FILE:LINE:COLUMN: message" while the last reload was
 * refused. A pure function, so that the wording is tested without a running engine. */
#ifndef SLMD_STATUS_H
#define SLMD_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "slm/engine.h"

/* Long enough for a handful of models and an error; longer lines are cut with "…". */
#define SLMD_STATUS_MAX 1024

/* The word shown for a model's state: "not loaded", "loading", "ready", "failed",
 * "draining". */
const char *slmd_status_state_word(enum slm_model_state state);

/* Writes the line into `buf` (SLMD_STATUS_MAX bytes). `problem` may be NULL. */
void slmd_status_format(char *buf, const struct slm_model_status *models, size_t n_models,
                        uint32_t queued, const char *problem);

#endif
