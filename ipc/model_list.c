/* Sorted model snapshots (see model_list.h). */
#include "ipc/model_list.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct slm_model_status *)a)->name,
                  ((const struct slm_model_status *)b)->name);
}

size_t ipc_model_list(slm_engine *engine, struct slm_model_status *rows)
{
    size_t n = SLM_MIN(slm_engine_models(engine, rows, IPC_MODELS_MAX), (size_t)IPC_MODELS_MAX);
    qsort(rows, n, sizeof(*rows), by_name);
    return n;
}
