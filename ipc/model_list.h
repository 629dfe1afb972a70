/* The engine's models as both transports show them: sorted by name, so that ListModels,
 * the Models property, /v1/models and /metrics list them in one stable order whatever
 * order the engine keeps them in. */
#ifndef SLM_IPC_MODEL_LIST_H
#define SLM_IPC_MODEL_LIST_H

#include <stddef.h>

#include "slm/engine.h"

/* Models shown at most: the config's limit with room for models a reload removed that
 * still finish their requests. */
#define IPC_MODELS_MAX 128

/* Fills rows (IPC_MODELS_MAX entries) and returns how many. */
size_t ipc_model_list(slm_engine *engine, struct slm_model_status *rows);

#endif
