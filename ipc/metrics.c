/* Prometheus text format for GET /metrics (see metrics.h). */
#include "ipc/metrics.h"

#include <inttypes.h>

/* Label values are model names (restricted by the engine to [A-Za-z0-9._-]), but escape
 * them as the format requires anyway: backslash, double quote and newline. */
static void put_label_value(struct slm_buf *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\')
            slm_buf_puts(out, "\\\\");
        else if (*p == '"')
            slm_buf_puts(out, "\\\"");
        else if (*p == '\n')
            slm_buf_puts(out, "\\n");
        else
            slm_buf_append(out, p, 1);
    }
}

static void header(struct slm_buf *out, const char *name, const char *type, const char *help)
{
    slm_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void model_sample(struct slm_buf *out, const char *name, const char *model,
                         uint64_t value)
{
    slm_buf_printf(out, "%s{model=\"", name);
    put_label_value(out, model);
    slm_buf_printf(out, "\"} %" PRIu64 "\n", value);
}

enum model_field {
    F_LOADED,
    F_ACTIVE,
    F_QUEUED,
    F_PARALLEL,
    F_PROMPT_TOKENS,
    F_GENERATED_TOKENS,
    F_CACHE_HITS,
    F_WEIGHT_BYTES,
    F_KV_BYTES,
};

static uint64_t field(const struct slm_model_status *m, enum model_field f)
{
    switch (f) {
    case F_LOADED: return m->state == SLM_MODEL_READY || m->state == SLM_MODEL_DRAINING;
    case F_ACTIVE: return m->active_sequences;
    case F_QUEUED: return m->queued;
    case F_PARALLEL: return m->parallel;
    case F_PROMPT_TOKENS: return m->prompt_tokens_total;
    case F_GENERATED_TOKENS: return m->generated_tokens_total;
    case F_CACHE_HITS: return m->prompt_cache_hits;
    case F_WEIGHT_BYTES: return m->weight_bytes;
    case F_KV_BYTES: return m->kv_bytes;
    }
    return 0;
}

static const struct {
    const char *name, *type, *help;
    enum model_field field;
} model_metrics[] = {
    {"slmd_model_loaded", "gauge", "1 when the model is resident and serving", F_LOADED},
    {"slmd_sequences_active", "gauge", "Sequences (or encoder batches) running now", F_ACTIVE},
    {"slmd_queue_depth", "gauge", "Requests waiting for a sequence slot", F_QUEUED},
    {"slmd_sequences_parallel", "gauge", "Sequence slots of the model (parallel)", F_PARALLEL},
    {"slmd_prompt_tokens_total", "counter", "Prompt tokens processed", F_PROMPT_TOKENS},
    {"slmd_generated_tokens_total", "counter", "Tokens generated", F_GENERATED_TOKENS},
    {"slmd_prompt_cache_hits_total", "counter", "Requests that reused a cached prompt prefix",
     F_CACHE_HITS},
    {"slmd_model_weight_bytes", "gauge", "Bytes of weights (mapped or repacked)",
     F_WEIGHT_BYTES},
    {"slmd_model_kv_cache_bytes", "gauge", "Bytes of KV caches", F_KV_BYTES},
};

static void requests_total(struct slm_buf *out, const struct slm_model_status *models, size_t n)
{
    header(out, "slmd_requests_total", "counter", "Requests finished, by outcome");
    for (size_t i = 0; i < n; i++) {
        const struct slm_model_status *m = &models[i];
        const struct {
            const char *status;
            uint64_t value;
        } rows[] = {{"ok", m->requests_ok},
                    {"failed", m->requests_failed},
                    {"cancelled", m->requests_cancelled},
                    {"busy", m->requests_busy}};
        for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
            slm_buf_puts(out, "slmd_requests_total{model=\"");
            put_label_value(out, m->name);
            slm_buf_printf(out, "\",status=\"%s\"} %" PRIu64 "\n", rows[k].status,
                           rows[k].value);
        }
    }
}

static void tokens_per_second(struct slm_buf *out, const struct slm_model_status *models,
                              size_t n)
{
    header(out, "slmd_generate_tokens_per_second", "gauge",
           "Generation speed over the last completed requests");
    for (size_t i = 0; i < n; i++) {
        slm_buf_puts(out, "slmd_generate_tokens_per_second{model=\"");
        put_label_value(out, models[i].name);
        slm_buf_printf(out, "\"} %.3f\n", models[i].generate_tokens_per_second);
    }
}

static void http_metrics(struct slm_buf *out, const struct ipc_http_counters *h)
{
    header(out, "slmd_http_responses_total", "counter", "HTTP responses, by status class");
    for (int c = 2; c <= 5; c++)
        slm_buf_printf(out, "slmd_http_responses_total{code=\"%dxx\"} %" PRIu64 "\n", c,
                       h->requests_by_class[c]);
    header(out, "slmd_http_connections_total", "counter", "Connections accepted");
    slm_buf_printf(out, "slmd_http_connections_total %" PRIu64 "\n", h->connections_total);
    header(out, "slmd_http_connections_open", "gauge", "Connections open now");
    slm_buf_printf(out, "slmd_http_connections_open %" PRIu32 "\n", h->connections_open);
    header(out, "slmd_http_streams_open", "gauge", "Server-sent event streams open now");
    slm_buf_printf(out, "slmd_http_streams_open %" PRIu32 "\n", h->streams_open);
    header(out, "slmd_http_refused_peers_total", "counter",
           "Connections refused because the peer is not in allowed_groups");
    slm_buf_printf(out, "slmd_http_refused_peers_total %" PRIu64 "\n", h->refused_peers);
    header(out, "slmd_http_client_disconnects_total", "counter",
           "Requests cancelled because the client closed its connection");
    slm_buf_printf(out, "slmd_http_client_disconnects_total %" PRIu64 "\n",
                   h->client_disconnects);
}

void ipc_metrics_render(struct slm_buf *out, const struct slm_model_status *models, size_t n,
                        const struct slm_engine_stats *stats,
                        const struct ipc_http_counters *http)
{
    for (size_t k = 0; k < sizeof(model_metrics) / sizeof(model_metrics[0]); k++) {
        header(out, model_metrics[k].name, model_metrics[k].type, model_metrics[k].help);
        for (size_t i = 0; i < n; i++)
            model_sample(out, model_metrics[k].name, models[i].name,
                         field(&models[i], model_metrics[k].field));
    }
    requests_total(out, models, n);
    tokens_per_second(out, models, n);

    header(out, "slmd_queue_depth_all", "gauge", "Requests waiting over all models");
    slm_buf_printf(out, "slmd_queue_depth_all %" PRIu32 "\n", stats->queue_depth);
    header(out, "slmd_resident_bytes", "gauge", "Resident memory of the slmd process");
    slm_buf_printf(out, "slmd_resident_bytes %" PRIu64 "\n", stats->resident_bytes);
    header(out, "slmd_memory_used_bytes", "gauge",
           "Weights and KV caches counted against memory_limit");
    slm_buf_printf(out, "slmd_memory_used_bytes %" PRIu64 "\n", stats->memory_used);
    header(out, "slmd_memory_limit_bytes", "gauge", "memory_limit (0: none)");
    slm_buf_printf(out, "slmd_memory_limit_bytes %" PRIu64 "\n", stats->memory_limit);
    header(out, "slmd_compute_threads", "gauge", "Threads of the compute pool");
    slm_buf_printf(out, "slmd_compute_threads %" PRIu32 "\n", stats->n_threads);
    if (http)
        http_metrics(out, http);
}
