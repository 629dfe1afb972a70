/* POST /v1/tokenize and POST /v1/detokenize (slmd's, in the shape llama.cpp's and
 * vLLM's servers use). */
#include <string.h>

#include "ipc/http_server.h"
#include "ipc/json_util.h"

static void tokenize_start(struct http_exchange *x, const char *url)
{
    slm_error err;
    if (http_api_parse(HTTP_API_TOKENIZE, x->body.data, x->body.len, &x->req, &err) < 0) {
        http_reply_error(x, err.status, "%s", err.message);
        return;
    }
    struct slm_request_params p;
    slm_request_params_init(&p, SLM_REQ_TOKENIZE);
    p.text = x->req.prompt;
    p.text_len = x->req.prompt_len;
    /* as `slm tokenize --no-bos`: without specials, special-token text is plain text */
    p.add_special = x->req.add_special;
    p.parse_special = x->req.add_special;
    if (http_submit(x, x->req.model, &p, 0, &err) < 0)
        http_reply_error(x, err.status, "%s", err.message);
}

static void tokenize_done(struct http_exchange *x, struct http_job *job,
                          const struct slm_result *r)
{
    if (r->status != SLM_OK) {
        http_fail_jobs(x, r->status, r->error);
        return;
    }
    json_object *o = json_object_new_object(), *ids = json_object_new_array_ext((int)r->n_tokens);
    if (!o || !ids) {
        json_object_put(o);
        json_object_put(ids);
        http_fail_jobs(x, SLM_ERR_NOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < r->n_tokens; i++)
        json_object_array_add(ids, json_object_new_int64(r->tokens[i]));
    json_object_object_add(o, "model", json_new_text(x->req.model, strlen(x->req.model)));
    json_object_object_add(o, "tokens", ids);
    json_object_object_add(o, "count", json_object_new_int64((int64_t)r->n_tokens));
    x->parts = o;
}

static void detokenize_start(struct http_exchange *x, const char *url)
{
    slm_error err;
    if (http_api_parse(HTTP_API_DETOKENIZE, x->body.data, x->body.len, &x->req, &err) < 0) {
        http_reply_error(x, err.status, "%s", err.message);
        return;
    }
    struct slm_request_params p;
    slm_request_params_init(&p, SLM_REQ_DETOKENIZE);
    p.tokens = x->req.tokens;
    p.n_tokens = x->req.n_tokens;
    if (http_submit(x, x->req.model, &p, 0, &err) < 0)
        http_reply_error(x, err.status, "%s", err.message);
}

static void detokenize_done(struct http_exchange *x, struct http_job *job,
                            const struct slm_result *r)
{
    if (r->status != SLM_OK) {
        http_fail_jobs(x, r->status, r->error);
        return;
    }
    json_object *o = json_object_new_object();
    if (!o) {
        http_fail_jobs(x, SLM_ERR_NOMEM, "out of memory");
        return;
    }
    json_object_object_add(o, "model", json_new_text(x->req.model, strlen(x->req.model)));
    json_object_object_add(o, "text", json_new_text(r->text, r->text_len));
    x->parts = o;
}

static void reply_parts(struct http_exchange *x)
{
    http_reply_json(x, 200, json_object_get(x->parts));
}

const struct http_route http_route_tokenize = {
    .method = "POST",
    .path = "/v1/tokenize",
    .start = tokenize_start,
    .job_done = tokenize_done,
    .finish = reply_parts,
};

const struct http_route http_route_detokenize = {
    .method = "POST",
    .path = "/v1/detokenize",
    .start = detokenize_start,
    .job_done = detokenize_done,
    .finish = reply_parts,
};
