/* POST /v1/completions and POST /v1/chat/completions, plain and streamed.
 *
 * A streamed request sends nothing until the engine produces its first piece, so that an
 * error found before generation (context exceeded, bad template) is still an ordinary
 * error response with its status; after that, chunks follow OpenAI's shapes and the
 * stream ends with `data: [DONE]`. */
#include <string.h>

#include "ipc/http_server.h"
#include "ipc/json_util.h"

static bool is_chat(const struct http_exchange *x) { return x->req.kind == HTTP_API_CHAT; }

static json_object *envelope(struct http_exchange *x, const char *object)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "id", json_object_new_string(x->id));
    json_object_object_add(o, "object", json_object_new_string(object));
    json_object_object_add(o, "created", json_object_new_int64((int64_t)x->created));
    json_object_object_add(o, "model", json_new_text(x->req.model, strlen(x->req.model)));
    return o;
}

static json_object *usage(const struct slm_result *r)
{
    json_object *u = json_object_new_object(), *details = json_object_new_object();
    if (!u || !details) {
        json_object_put(u);
        json_object_put(details);
        return NULL;
    }
    json_object_object_add(u, "prompt_tokens", json_object_new_int64(r->prompt_tokens));
    json_object_object_add(u, "completion_tokens", json_object_new_int64(r->completion_tokens));
    json_object_object_add(u, "total_tokens",
                           json_object_new_int64((int64_t)r->prompt_tokens + r->completion_tokens));
    json_object_object_add(details, "cached_tokens", json_object_new_int64(r->cached_tokens));
    json_object_object_add(u, "prompt_tokens_details", details);
    /* slmd's additions (clients that do not know them ignore them, as with OpenAI's own
     * newer fields): where the time went, for `slm ps` style monitoring and benchmarks */
    json_object_object_add(u, "prompt_ms", json_object_new_double(r->prompt_ms));
    json_object_object_add(u, "generate_ms", json_object_new_double(r->generate_ms));
    return u;
}

/* A choice: the text (or for chat a message or a delta) and the finish reason. */
static json_object *choice(struct http_exchange *x, const char *text, size_t len,
                           const char *finish_reason, bool delta, bool with_role)
{
    json_object *c = json_object_new_object();
    if (!c)
        return NULL;
    json_object_object_add(c, "index", json_object_new_int(0));
    if (is_chat(x)) {
        json_object *m = json_object_new_object();
        if (m && (!delta || with_role))
            json_object_object_add(m, "role", json_object_new_string("assistant"));
        if (m && text)
            json_object_object_add(m, "content", json_new_text(text, len));
        json_object_object_add(c, delta ? "delta" : "message", m);
    } else {
        json_object_object_add(c, "text", json_new_text(text ? text : "", text ? len : 0));
    }
    json_object_object_add(c, "logprobs", NULL);
    json_object_object_add(c, "finish_reason",
                           finish_reason ? json_object_new_string(finish_reason) : NULL);
    return c;
}

static void stream_chunk(struct http_exchange *x, json_object *choice_object)
{
    json_object *chunk = envelope(x, is_chat(x) ? "chat.completion.chunk" : "text_completion");
    json_object *choices = json_object_new_array();
    if (!chunk || !choices) {
        json_object_put(chunk);
        json_object_put(choices);
        json_object_put(choice_object);
        http_stream_event(x, NULL);
        return;
    }
    json_object_array_add(choices, choice_object);
    json_object_object_add(chunk, "choices", choices);
    http_stream_event(x, chunk);
}

/* Chat streams open with the assistant's role, as OpenAI's do. */
static void stream_open(struct http_exchange *x)
{
    if (x->stream_started)
        return;
    x->stream_started = true;
    if (is_chat(x))
        stream_chunk(x, choice(x, "", 0, NULL, true, true));
}

static void start(struct http_exchange *x, const char *url)
{
    bool chat = x->route == &http_route_chat;
    slm_error err;
    if (http_api_parse(chat ? HTTP_API_CHAT : HTTP_API_COMPLETION, x->body.data, x->body.len,
                       &x->req, &err) < 0) {
        http_reply_error(x, err.status, "%s", err.message);
        return;
    }
    http_exchange_name(x, chat ? "chatcmpl" : "cmpl");
    struct slm_request_params p;
    slm_request_params_init(&p, chat ? SLM_REQ_CHAT : SLM_REQ_GENERATE);
    if (chat) {
        p.messages = x->req.messages;
        p.n_messages = x->req.n_messages;
    } else if (x->req.tokens) {
        p.tokens = x->req.tokens;
        p.n_tokens = x->req.n_tokens;
    } else {
        p.text = x->req.prompt;
        p.text_len = x->req.prompt_len;
    }
    ipc_generation_apply(&x->req.gen, &p);
    p.stream = x->req.stream;
    if (http_submit(x, x->req.model, &p, 0, &err) < 0)
        http_reply_error(x, err.status, "%s", err.message);
}

static void job_token(struct http_exchange *x, struct http_job *job, const char *piece,
                      size_t len)
{
    stream_open(x);
    stream_chunk(x, choice(x, piece, len, NULL, true, false));
    x->stream_tokens++;
}

static void job_done(struct http_exchange *x, struct http_job *job, const struct slm_result *r)
{
    if (r->status != SLM_OK) {
        if (!x->streaming) {
            http_fail_jobs(x, r->status, r->error); /* an ordinary error response */
            return;
        }
        json_object *event = json_object_new_object(), *error = json_object_new_object();
        if (event && error) {
            json_object_object_add(error, "message", json_new_text(r->error, strlen(r->error)));
            json_object_object_add(error, "type", json_object_new_string("server_error"));
            json_object_object_add(error, "code", json_object_new_string(
                                                      slm_status_name(r->status)));
            json_object_object_add(event, "error", error);
        } else {
            json_object_put(error);
            json_object_put(event);
            event = NULL;
        }
        http_stream_event(x, event);
        http_stream_end(x);
        return;
    }
    if (x->req.stream) {
        stream_open(x);
        stream_chunk(x, choice(x, NULL, 0, r->finish_reason, true, false));
        if (x->req.include_usage) {
            json_object *chunk = envelope(x, is_chat(x) ? "chat.completion.chunk"
                                                        : "text_completion");
            if (chunk) {
                json_object_object_add(chunk, "choices", json_object_new_array());
                json_object_object_add(chunk, "usage", usage(r));
            }
            http_stream_event(x, chunk);
        }
        http_stream_end(x);
        return;
    }
    json_object *o = envelope(x, is_chat(x) ? "chat.completion" : "text_completion");
    json_object *choices = json_object_new_array();
    if (o && choices) {
        json_object_array_add(choices, choice(x, r->text, r->text_len, r->finish_reason, false,
                                              true));
        json_object_object_add(o, "choices", choices);
        json_object_object_add(o, "usage", usage(r));
        x->parts = o;
    } else {
        json_object_put(o);
        json_object_put(choices);
        http_fail_jobs(x, SLM_ERR_NOMEM, "out of memory");
    }
}

static void finish(struct http_exchange *x)
{
    http_reply_json(x, 200, json_object_get(x->parts));
}

const struct http_route http_route_completions = {
    .method = "POST",
    .path = "/v1/completions",
    .start = start,
    .job_token = job_token,
    .job_done = job_done,
    .finish = finish,
};

const struct http_route http_route_chat = {
    .method = "POST",
    .path = "/v1/chat/completions",
    .start = start,
    .job_token = job_token,
    .job_done = job_done,
    .finish = finish,
};
