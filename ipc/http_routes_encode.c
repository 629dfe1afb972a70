/* POST /v1/embeddings (OpenAI's shape, float or base64) and POST /v1/classify (slmd's:
 * labels and scores, or entities for token classifiers). Each input text is one engine
 * request; the encoder batches them. */
#include <stdlib.h>
#include <string.h>

#include "ipc/http_server.h"
#include "ipc/json_util.h"
#include "ipc/model_list.h"


static json_object *usage_object(uint64_t prompt_tokens)
{
    json_object *u = json_object_new_object();
    if (u) {
        json_object_object_add(u, "prompt_tokens", json_object_new_int64((int64_t)prompt_tokens));
        json_object_object_add(u, "total_tokens", json_object_new_int64((int64_t)prompt_tokens));
    }
    return u;
}

/* Submits one request per input; on a refusal answers at once (the others are
 * cancelled). */
static void submit_inputs(struct http_exchange *x, enum slm_request_kind kind)
{
    x->parts = json_object_new_array_ext((int)x->req.n_inputs);
    if (!x->parts) {
        http_reply_error(x, SLM_ERR_NOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < x->req.n_inputs; i++)
        json_object_array_add(x->parts, NULL);
    for (size_t i = 0; i < x->req.n_inputs; i++) {
        struct slm_request_params p;
        slm_request_params_init(&p, kind);
        p.text = x->req.inputs[i];
        p.text_len = x->req.input_lens[i];
        p.embed_normalize = x->req.normalize;
        slm_error err;
        if (http_submit(x, x->req.model, &p, i, &err) < 0) {
            http_fail_jobs(x, err.status, err.message);
            http_reply_error(x, err.status, "%s", err.message);
            return;
        }
    }
}

static bool put_part(struct http_exchange *x, size_t index, json_object *part)
{
    if (!part) {
        http_fail_jobs(x, SLM_ERR_NOMEM, "out of memory");
        return false;
    }
    json_object_array_put_idx(x->parts, index, part);
    return true;
}

/* ---- embeddings ---- */

static char *base64_floats(const float *v, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t bytes = n * sizeof(float);
    char *out = malloc((bytes + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    /* little-endian float32, as OpenAI sends them (and as numpy reads them) */
    const unsigned char *in = (const unsigned char *)v;
    size_t o = 0;
    for (size_t i = 0; i < bytes; i += 3) {
        unsigned b0 = in[i], b1 = i + 1 < bytes ? in[i + 1] : 0, b2 = i + 2 < bytes ? in[i + 2] : 0;
        out[o++] = alphabet[b0 >> 2];
        out[o++] = alphabet[((b0 & 3) << 4) | (b1 >> 4)];
        out[o++] = i + 1 < bytes ? alphabet[((b1 & 15) << 2) | (b2 >> 6)] : '=';
        out[o++] = i + 2 < bytes ? alphabet[b2 & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static void embeddings_start(struct http_exchange *x, const char *url)
{
    slm_error err;
    if (http_api_parse(HTTP_API_EMBEDDINGS, x->body.data, x->body.len, &x->req, &err) < 0) {
        http_reply_error(x, err.status, "%s", err.message);
        return;
    }
    submit_inputs(x, SLM_REQ_EMBED);
}

static void embeddings_done(struct http_exchange *x, struct http_job *job,
                            const struct slm_result *r)
{
    if (r->status != SLM_OK) {
        http_fail_jobs(x, r->status, r->error);
        return;
    }
    x->usage_prompt_tokens += r->prompt_tokens;
    json_object *part = json_object_new_object();
    if (!part) {
        put_part(x, job->index, NULL);
        return;
    }
    json_object_object_add(part, "object", json_object_new_string("embedding"));
    json_object_object_add(part, "index", json_object_new_int64((int64_t)job->index));
    if (x->req.base64) {
        char *text = base64_floats(r->embedding, r->n_embedding);
        json_object_object_add(part, "embedding", text ? json_object_new_string(text) : NULL);
        free(text);
    } else {
        json_object *v = json_object_new_array_ext((int)r->n_embedding);
        for (size_t i = 0; v && i < r->n_embedding; i++)
            json_object_array_add(v, json_new_real(r->embedding[i]));
        json_object_object_add(part, "embedding", v);
    }
    if (r->truncated)
        json_object_object_add(part, "truncated", json_object_new_boolean(true));
    put_part(x, job->index, part);
}

static void embeddings_finish(struct http_exchange *x)
{
    json_object *o = json_object_new_object();
    if (o) {
        json_object_object_add(o, "object", json_object_new_string("list"));
        json_object_object_add(o, "data", json_object_get(x->parts));
        json_object_object_add(o, "model", json_new_text(x->req.model, strlen(x->req.model)));
        json_object_object_add(o, "usage", usage_object(x->usage_prompt_tokens));
    }
    http_reply_json(x, 200, o);
}

const struct http_route http_route_embeddings = {
    .method = "POST",
    .path = "/v1/embeddings",
    .start = embeddings_start,
    .job_done = embeddings_done,
    .finish = embeddings_finish,
};

/* ---- classify ---- */

static enum slm_task model_task(struct http_exchange *x)
{
    static struct slm_model_status rows[IPC_MODELS_MAX]; /* loop thread only */
    size_t n = ipc_model_list(x->server->engine, rows);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].name, x->req.model))
            return rows[i].task;
    return SLM_TASK_AUTO;
}

static void classify_start(struct http_exchange *x, const char *url)
{
    slm_error err;
    if (http_api_parse(HTTP_API_CLASSIFY, x->body.data, x->body.len, &x->req, &err) < 0) {
        http_reply_error(x, err.status, "%s", err.message);
        return;
    }
    /* a model not loaded yet says "auto": try sequence classification, and if the model
     * turns out to classify tokens, ask again (classify_done) */
    submit_inputs(x, model_task(x) == SLM_TASK_TOKEN_CLASSIFY ? SLM_REQ_CLASSIFY_TOKENS
                                                              : SLM_REQ_CLASSIFY);
}

static json_object *labels_part(const struct slm_result *r)
{
    json_object *part = json_object_new_object(), *labels = json_object_new_array();
    if (!part || !labels) {
        json_object_put(part);
        json_object_put(labels);
        return NULL;
    }
    for (size_t i = 0; i < r->n_labels; i++) {
        json_object *l = json_object_new_object();
        const char *name = r->labels[i].label ? r->labels[i].label : "";
        if (!l)
            continue;
        json_object_object_add(l, "label", json_new_text(name, strlen(name)));
        json_object_object_add(l, "score", json_new_real(r->labels[i].score));
        json_object_array_add(labels, l);
    }
    if (r->n_labels) {
        const char *best = r->labels[0].label ? r->labels[0].label : "";
        json_object_object_add(part, "label", json_new_text(best, strlen(best)));
        json_object_object_add(part, "score", json_new_real(r->labels[0].score));
    }
    json_object_object_add(part, "labels", labels);
    return part;
}

static json_object *entities_part(struct http_exchange *x, size_t index,
                                  const struct slm_result *r)
{
    json_object *part = json_object_new_object(), *entities = json_object_new_array();
    if (!part || !entities) {
        json_object_put(part);
        json_object_put(entities);
        return NULL;
    }
    const char *text = x->req.inputs[index];
    size_t len = x->req.input_lens[index];
    for (size_t i = 0; i < r->n_entities; i++) {
        const struct slm_entity *e = &r->entities[i];
        json_object *o = json_object_new_object();
        if (!o)
            continue;
        const char *label = e->label ? e->label : "";
        json_object_object_add(o, "label", json_new_text(label, strlen(label)));
        json_object_object_add(o, "start", json_object_new_int64(e->start));
        json_object_object_add(o, "end", json_object_new_int64(e->end));
        json_object_object_add(o, "score", json_new_real(e->score));
        if (e->start <= e->end && e->end <= len)
            json_object_object_add(o, "text", json_new_text(text + e->start, e->end - e->start));
        json_object_array_add(entities, o);
    }
    json_object_object_add(part, "entities", entities);
    return part;
}

static void classify_done(struct http_exchange *x, struct http_job *job,
                          const struct slm_result *r)
{
    if (r->status != SLM_OK) {
        if (job->kind == SLM_REQ_CLASSIFY && model_task(x) == SLM_TASK_TOKEN_CLASSIFY) {
            struct slm_request_params p;
            slm_request_params_init(&p, SLM_REQ_CLASSIFY_TOKENS);
            p.text = x->req.inputs[job->index];
            p.text_len = x->req.input_lens[job->index];
            slm_error err;
            if (http_submit(x, x->req.model, &p, job->index, &err) == 0)
                return;
            http_fail_jobs(x, err.status, err.message);
            return;
        }
        http_fail_jobs(x, r->status, r->error);
        return;
    }
    x->usage_prompt_tokens += r->prompt_tokens;
    json_object *part = job->kind == SLM_REQ_CLASSIFY_TOKENS ? entities_part(x, job->index, r)
                                                             : labels_part(r);
    if (part) {
        json_object_object_add(part, "index", json_object_new_int64((int64_t)job->index));
        if (r->truncated)
            json_object_object_add(part, "truncated", json_object_new_boolean(true));
    }
    put_part(x, job->index, part);
}

static void classify_finish(struct http_exchange *x)
{
    json_object *o = json_object_new_object();
    if (o) {
        json_object_object_add(o, "object", json_object_new_string("list"));
        json_object_object_add(o, "model", json_new_text(x->req.model, strlen(x->req.model)));
        json_object_object_add(o, "data", json_object_get(x->parts));
        json_object_object_add(o, "usage", usage_object(x->usage_prompt_tokens));
    }
    http_reply_json(x, 200, o);
}

const struct http_route http_route_classify = {
    .method = "POST",
    .path = "/v1/classify",
    .start = classify_start,
    .job_done = classify_done,
    .finish = classify_finish,
};
