/* GET /v1/models, /v1/models/{model}, /health and /metrics. */
#include <string.h>
#include <sys/stat.h>

#include "ipc/json_util.h"
#include "ipc/http_server.h"
#include "ipc/metrics.h"
#include "ipc/model_list.h"
#include "util/cleanup.h"

/* /metrics text: a few hundred bytes per model. */
#define METRICS_TEXT_MAX (1u << 20)

static size_t all_models(struct http_server *s, struct slm_model_status **rows)
{
    static struct slm_model_status buffer[IPC_MODELS_MAX]; /* loop thread only */
    *rows = buffer;
    return ipc_model_list(s->engine, buffer);
}

static json_object *model_object(const struct slm_model_status *m)
{
    json_object *o = json_object_new_object(), *d = json_object_new_object();
    if (!o || !d) {
        json_object_put(o);
        json_object_put(d);
        return NULL;
    }
    struct stat st;
    /* OpenAI's "created" is when the model was made: the file's time is the closest */
    int64_t created = stat(m->path, &st) == 0 ? (int64_t)st.st_mtime : 0;
    json_object_object_add(o, "id", json_new_text(m->name, strlen(m->name)));
    json_object_object_add(o, "object", json_object_new_string("model"));
    json_object_object_add(o, "created", json_object_new_int64(created));
    json_object_object_add(o, "owned_by", json_object_new_string("slmd"));
    json_object_object_add(d, "task", json_object_new_string(slm_task_name(m->task)));
    json_object_object_add(d, "architecture",
                           json_new_text(m->architecture, strlen(m->architecture)));
    json_object_object_add(d, "state", json_object_new_string(slm_model_state_name(m->state)));
    json_object_object_add(d, "loaded", json_object_new_boolean(m->state == SLM_MODEL_READY ||
                                                                m->state == SLM_MODEL_DRAINING));
    json_object_object_add(d, "context_length", json_object_new_int64(m->context));
    json_object_object_add(d, "parallel", json_object_new_int64(m->parallel));
    json_object_object_add(d, "active_sequences", json_object_new_int64(m->active_sequences));
    json_object_object_add(d, "queued_requests", json_object_new_int64(m->queued));
    json_object_object_add(d, "tokens_per_second", json_new_real(m->generate_tokens_per_second));
    json_object_object_add(d, "prompt_cache_hits",
                           json_object_new_int64((int64_t)m->prompt_cache_hits));
    json_object_object_add(d, "prompt_tokens",
                           json_object_new_int64((int64_t)m->prompt_tokens_total));
    json_object_object_add(d, "generated_tokens",
                           json_object_new_int64((int64_t)m->generated_tokens_total));
    json_object_object_add(d, "weight_bytes", json_object_new_int64((int64_t)m->weight_bytes));
    json_object_object_add(d, "kv_cache_bytes", json_object_new_int64((int64_t)m->kv_bytes));
    if (m->error[0])
        json_object_object_add(d, "error", json_new_text(m->error, strlen(m->error)));
    json_object_object_add(o, "slmd", d);
    return o;
}

void http_route_models(struct http_exchange *x, const char *url)
{
    struct slm_model_status *rows;
    size_t n = all_models(x->server, &rows);
    const char *prefix = "/v1/models/";
    if (!strncmp(url, prefix, strlen(prefix))) {
        const char *name = url + strlen(prefix);
        for (size_t i = 0; i < n; i++)
            if (!strcmp(rows[i].name, name)) {
                http_reply_json(x, 200, model_object(&rows[i]));
                return;
            }
        http_reply_error(x, SLM_ERR_NOT_FOUND, "no model named '%s' is configured", name);
        return;
    }
    json_object *list = json_object_new_object(), *data = json_object_new_array();
    if (!list || !data) {
        json_object_put(data);
        http_reply_json(x, 200, list); /* NULL list → out of memory path */
        return;
    }
    for (size_t i = 0; i < n; i++)
        json_object_array_add(data, model_object(&rows[i]));
    json_object_object_add(list, "object", json_object_new_string("list"));
    json_object_object_add(list, "data", data);
    http_reply_json(x, 200, list);
}

void http_route_health(struct http_exchange *x, const char *url)
{
    struct slm_model_status *rows;
    size_t n = all_models(x->server, &rows), ready = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        ready += rows[i].state == SLM_MODEL_READY;
        failed += rows[i].state == SLM_MODEL_FAILED;
    }
    struct slm_engine_stats stats;
    slm_engine_stats(x->server->engine, &stats);
    json_object *o = json_object_new_object();
    if (o) {
        json_object_object_add(o, "status", json_object_new_string("ok"));
        json_object_object_add(o, "models", json_object_new_int64((int64_t)n));
        json_object_object_add(o, "models_ready", json_object_new_int64((int64_t)ready));
        json_object_object_add(o, "models_failed", json_object_new_int64((int64_t)failed));
        json_object_object_add(o, "queue_depth", json_object_new_int64(stats.queue_depth));
    }
    http_reply_json(x, 200, o);
}

void http_route_metrics(struct http_exchange *x, const char *url)
{
    struct slm_model_status *rows;
    size_t n = all_models(x->server, &rows);
    struct slm_engine_stats stats;
    slm_engine_stats(x->server->engine, &stats);
    struct slm_buf text;
    slm_buf_init(&text, METRICS_TEXT_MAX);
    ipc_metrics_render(&text, rows, n, &stats, &x->server->counters);
    if (text.failed)
        http_reply_error(x, SLM_ERR_NOMEM, "out of memory");
    else
        http_reply_text(x, 200, "text/plain; version=0.0.4; charset=utf-8", text.data,
                        text.len);
    slm_buf_deinit(&text);
}
