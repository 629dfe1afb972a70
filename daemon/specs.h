/* The config as the engine takes it: struct slmd_config → struct slm_model_spec[] and
 * struct slm_engine_config (core/include/slm/engine.h). */
#ifndef SLMD_SPECS_H
#define SLMD_SPECS_H

#include "daemon/config.h"
#include "slm/engine.h"

/* Fills specs[0..config->n_models). The strings point into `config`; the engine copies
 * them during slm_engine_configure(), so `config` need only live across that call. */
void slmd_model_specs_from_config(const struct slmd_config *config,
                                  struct slm_model_spec *specs);

/* Fills the engine settings from the config; callbacks are left to the caller. */
void slmd_engine_config_from_config(const struct slmd_config *config,
                                    struct slm_engine_config *engine_config);

/* True if a restart is needed for `next` to take effect over `current` (settings that
 * slm_engine_configure() does not change: threads, memory_limit, max_queue,
 * request_timeout). Names what differs in `what` for the log. */
bool slmd_engine_config_differs(const struct slmd_config *current,
                                const struct slmd_config *next, char *what, size_t what_len);

#endif
