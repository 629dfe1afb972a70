/* GET /metrics: the Prometheus text exposition format (version 0.0.4) of the engine's
 * per-model counters and the transports' own counters. A pure function of its inputs,
 * so a unit test can check the text. */
#ifndef SLM_IPC_METRICS_H
#define SLM_IPC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/common/buf.h"
#include "slm/engine.h"

/* What the HTTP transport counts itself. */
struct ipc_http_counters {
    uint64_t requests_by_class[6]; /* responses by status class: [2] = 2xx ... [5] = 5xx */
    uint64_t connections_total;
    uint32_t connections_open;
    uint32_t streams_open;
    uint64_t refused_peers; /* connections refused by the allowed_groups check */
    uint64_t client_disconnects; /* requests cancelled because the client went away */
};

/* Appends the exposition to out (check out->failed). */
void ipc_metrics_render(struct slm_buf *out, const struct slm_model_status *models, size_t n,
                        const struct slm_engine_stats *stats,
                        const struct ipc_http_counters *http);

#endif
