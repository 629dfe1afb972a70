/* Request bodies of the POST endpoints (see http_api.h). */
#include "ipc/http_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/common/buf.h"
#include "ipc/json_util.h"

/* A joined chat content (text parts concatenated) may be as long as a body. */
#define CONTENT_JOIN_LIMIT (64u << 20)

static json_object *get(json_object *obj, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* ---- generation options ---- */

static int read_stop(json_object *root, struct ipc_generation *g, slm_error *err)
{
    json_object *v = get(root, "stop");
    if (!v)
        return 0;
    if (json_object_is_type(v, json_type_string))
        return ipc_option_add_stop(g, json_object_get_string(v),
                                   (size_t)json_object_get_string_len(v), err);
    if (!json_object_is_type(v, json_type_array))
        return slm_errorf(err, SLM_ERR_INVALID, "'stop' must be a string or a list of strings");
    size_t n = json_object_array_length(v);
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(v, i);
        if (!json_object_is_type(s, json_type_string))
            return slm_errorf(err, SLM_ERR_INVALID, "'stop' must be a string or a list of "
                              "strings");
        int r = ipc_option_add_stop(g, json_object_get_string(s),
                                    (size_t)json_object_get_string_len(s), err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int read_generation(json_object *root, enum http_api_kind kind,
                           struct ipc_generation *g, slm_error *err)
{
    static const char *const numbers[] = {"temperature", "top_p", "top_k", "min_p",
                                          "repeat_penalty", "repeat_last_n",
                                          "frequency_penalty", "presence_penalty"};
    int r;
    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        double v;
        if ((r = json_field_number(root, numbers[i], &v, err)) < 0)
            return r;
        if (r && (r = ipc_option_set_number(g, ipc_option_find(numbers[i]), v, err)) < 0)
            return r;
    }
    /* chat: max_completion_tokens is the newer name; max_tokens still works */
    const struct ipc_option *max_tokens = ipc_option_find("max_tokens");
    int64_t n;
    if ((r = json_field_int(root, "max_tokens", (int64_t)max_tokens->min,
                            (int64_t)max_tokens->max, &n, err)) < 0)
        return r;
    if (r)
        ipc_option_set_number(g, max_tokens, (double)n, err);
    if (kind == HTTP_API_CHAT) {
        if ((r = json_field_int(root, "max_completion_tokens", (int64_t)max_tokens->min,
                                (int64_t)max_tokens->max, &n, err)) < 0)
            return r;
        if (r)
            ipc_option_set_number(g, max_tokens, (double)n, err);
    }
    int64_t seed;
    if ((r = json_field_int(root, "seed", 0, INT64_MAX, &seed, err)) < 0)
        return r;
    if (r)
        ipc_option_set_seed(g, (uint64_t)seed);
    bool ignore_eos;
    if ((r = json_field_bool(root, "ignore_eos", &ignore_eos, err)) < 0)
        return r;
    if (r)
        ipc_option_set_bool(g, ipc_option_find("ignore_eos"), ignore_eos);
    return read_stop(root, g, err);
}

/* Fields with a meaning slmd does not implement: refused unless at their default. */
static int refuse_unsupported(json_object *root, slm_error *err)
{
    int64_t n = 1;
    int r;
    if ((r = json_field_int(root, "n", 1, 128, &n, err)) < 0)
        return r;
    if (n != 1)
        return slm_errorf(err, SLM_ERR_INVALID, "'n' must be 1: slmd returns one choice per "
                          "request");
    if ((r = json_field_int(root, "best_of", 1, 128, &n, err)) < 0)
        return r;
    if (r && n != 1)
        return slm_errorf(err, SLM_ERR_INVALID, "'best_of' must be 1");
    bool flag = false;
    if ((r = json_field_bool(root, "echo", &flag, err)) < 0)
        return r;
    if (flag)
        return slm_errorf(err, SLM_ERR_INVALID, "'echo' is not supported");
    json_object *lp = get(root, "logprobs");
    if (lp && !(json_object_is_type(lp, json_type_boolean) && !json_object_get_boolean(lp)) &&
        !(json_object_is_type(lp, json_type_int) && json_object_get_int64(lp) == 0))
        return slm_errorf(err, SLM_ERR_INVALID, "'logprobs' is not supported");
    const char *suffix = NULL;
    if ((r = json_field_string(root, "suffix", &suffix, NULL, err)) < 0)
        return r;
    if (suffix && *suffix)
        return slm_errorf(err, SLM_ERR_INVALID, "'suffix' is not supported");
    return 0;
}

static int read_stream(json_object *root, struct http_api_request *out, slm_error *err)
{
    int r = json_field_bool(root, "stream", &out->stream, err);
    if (r < 0)
        return r;
    json_object *opts = get(root, "stream_options");
    if (!opts)
        return 0;
    if (!json_object_is_type(opts, json_type_object))
        return slm_errorf(err, SLM_ERR_INVALID, "'stream_options' must be an object");
    return json_field_bool(opts, "include_usage", &out->include_usage, err) < 0 ? -1 : 0;
}

/* ---- inputs ---- */

static int read_token_array(json_object *v, const char *what, int32_t **ids, size_t *n,
                            slm_error *err)
{
    size_t count = json_object_array_length(v);
    if (count > HTTP_API_MAX_TOKENS)
        return slm_errorf(err, SLM_ERR_INVALID, "'%s' has more than %u token ids", what,
                          HTTP_API_MAX_TOKENS);
    *ids = malloc((count ? count : 1) * sizeof(**ids));
    if (!*ids)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        json_object *t = json_object_array_get_idx(v, i);
        if (!json_object_is_type(t, json_type_int))
            return slm_errorf(err, SLM_ERR_INVALID, "'%s' must be a list of token ids", what);
        int64_t id = json_object_get_int64(t);
        if (id < 0 || id > INT32_MAX)
            return slm_errorf(err, SLM_ERR_INVALID, "'%s': token id %lld is out of range",
                              what, (long long)id);
        (*ids)[i] = (int32_t)id;
    }
    *n = count;
    return 0;
}

/* "prompt": a string, a list of one string, or a list of token ids. */
static int read_prompt(json_object *root, struct http_api_request *out, slm_error *err)
{
    json_object *v = get(root, "prompt");
    if (!v)
        return slm_errorf(err, SLM_ERR_INVALID, "'prompt' is required");
    if (json_object_is_type(v, json_type_string)) {
        out->prompt = json_object_get_string(v);
        out->prompt_len = (size_t)json_object_get_string_len(v);
        return 0;
    }
    if (!json_object_is_type(v, json_type_array))
        return slm_errorf(err, SLM_ERR_INVALID, "'prompt' must be a string, a list of one "
                          "string or a list of token ids");
    size_t n = json_object_array_length(v);
    json_object *first = n ? json_object_array_get_idx(v, 0) : NULL;
    if (first && json_object_is_type(first, json_type_string)) {
        if (n != 1)
            return slm_errorf(err, SLM_ERR_INVALID, "'prompt' holds %zu prompts; slmd takes "
                              "one per request", n);
        out->prompt = json_object_get_string(first);
        out->prompt_len = (size_t)json_object_get_string_len(first);
        return 0;
    }
    if (first && json_object_is_type(first, json_type_array))
        return slm_errorf(err, SLM_ERR_INVALID, "'prompt' holds several token lists; slmd "
                          "takes one prompt per request");
    if (!n)
        return slm_errorf(err, SLM_ERR_INVALID, "'prompt' is empty");
    return read_token_array(v, "prompt", &out->tokens, &out->n_tokens, err);
}

static int keep_text(struct http_api_request *out, char *text)
{
    char **bigger = realloc(out->owned_texts, (out->n_owned_texts + 1) * sizeof(*bigger));
    if (!bigger) {
        free(text);
        return -1;
    }
    out->owned_texts = bigger;
    out->owned_texts[out->n_owned_texts++] = text;
    return 0;
}

/* A message's content: a string, or a list of {"type": "text", "text": ...} parts. */
static int read_content(json_object *content, size_t index, struct http_api_request *out,
                        const char **text, slm_error *err)
{
    if (json_object_is_type(content, json_type_string)) {
        *text = json_object_get_string(content);
        if (memchr(*text, '\0', (size_t)json_object_get_string_len(content)))
            return slm_errorf(err, SLM_ERR_INVALID, "messages[%zu].content contains a NUL "
                              "character", index);
        return 0;
    }
    if (!content || json_object_is_type(content, json_type_null)) {
        *text = ""; /* an assistant message with only tool calls */
        return 0;
    }
    if (!json_object_is_type(content, json_type_array))
        return slm_errorf(err, SLM_ERR_INVALID, "messages[%zu].content must be a string or a "
                          "list of text parts", index);
    struct slm_buf joined;
    slm_buf_init(&joined, CONTENT_JOIN_LIMIT);
    size_t n = json_object_array_length(content);
    for (size_t i = 0; i < n; i++) {
        json_object *part = json_object_array_get_idx(content, i);
        const char *type = NULL, *part_text = NULL;
        size_t part_len = 0;
        if (!json_object_is_type(part, json_type_object) ||
            json_field_string(part, "type", &type, NULL, err) < 0 || !type ||
            strcmp(type, "text") ||
            json_field_string(part, "text", &part_text, &part_len, err) <= 0) {
            slm_buf_deinit(&joined);
            return slm_errorf(err, SLM_ERR_INVALID, "messages[%zu].content[%zu]: slmd takes "
                              "only {\"type\": \"text\", \"text\": ...} parts", index, i);
        }
        if (memchr(part_text, '\0', part_len)) {
            slm_buf_deinit(&joined);
            return slm_errorf(err, SLM_ERR_INVALID, "messages[%zu].content contains a NUL "
                              "character", index);
        }
        slm_buf_append(&joined, part_text, part_len);
    }
    char *s = slm_buf_steal(&joined, NULL);
    if (!s || keep_text(out, s) < 0)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    *text = s;
    return 0;
}

static int read_messages(json_object *root, struct http_api_request *out, slm_error *err)
{
    json_object *v = get(root, "messages");
    if (!v)
        return slm_errorf(err, SLM_ERR_INVALID, "'messages' is required");
    if (!json_object_is_type(v, json_type_array))
        return slm_errorf(err, SLM_ERR_INVALID, "'messages' must be a list");
    size_t n = json_object_array_length(v);
    if (!n)
        return slm_errorf(err, SLM_ERR_INVALID, "'messages' is empty");
    if (n > HTTP_API_MAX_MESSAGES)
        return slm_errorf(err, SLM_ERR_INVALID, "'messages' has more than %u messages",
                          HTTP_API_MAX_MESSAGES);
    out->messages = calloc(n, sizeof(*out->messages));
    if (!out->messages)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(v, i);
        if (!json_object_is_type(m, json_type_object))
            return slm_errorf(err, SLM_ERR_INVALID, "messages[%zu] must be an object", i);
        const char *role = NULL;
        if (json_field_string(m, "role", &role, NULL, err) < 0 || !role || !*role ||
            strlen(role) != (size_t)json_object_get_string_len(get(m, "role")))
            return slm_errorf(err, SLM_ERR_INVALID, "messages[%zu].role must be a non-empty "
                              "string", i);
        int r = read_content(get(m, "content"), i, out, &out->messages[i].content, err);
        if (r < 0)
            return r;
        out->messages[i].role = role;
        out->n_messages = i + 1;
    }
    return 0;
}

/* "input": a string or a list of strings (1..HTTP_API_MAX_INPUTS). */
static int read_inputs(json_object *root, struct http_api_request *out, slm_error *err)
{
    json_object *v = get(root, "input");
    if (!v)
        return slm_errorf(err, SLM_ERR_INVALID, "'input' is required");
    bool single = json_object_is_type(v, json_type_string);
    if (!single && !json_object_is_type(v, json_type_array))
        return slm_errorf(err, SLM_ERR_INVALID, "'input' must be a string or a list of strings");
    size_t n = single ? 1 : json_object_array_length(v);
    if (!n)
        return slm_errorf(err, SLM_ERR_INVALID, "'input' is empty");
    if (n > HTTP_API_MAX_INPUTS)
        return slm_errorf(err, SLM_ERR_INVALID, "'input' has %zu texts; at most %d per request",
                          n, HTTP_API_MAX_INPUTS);
    out->inputs = calloc(n, sizeof(*out->inputs));
    out->input_lens = calloc(n, sizeof(*out->input_lens));
    if (!out->inputs || !out->input_lens)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_object *s = single ? v : json_object_array_get_idx(v, i);
        if (!json_object_is_type(s, json_type_string))
            return slm_errorf(err, SLM_ERR_INVALID, "'input' must be a string or a list of "
                              "strings (token lists are not supported)");
        out->inputs[i] = json_object_get_string(s);
        out->input_lens[i] = (size_t)json_object_get_string_len(s);
    }
    out->n_inputs = n;
    return 0;
}

/* ---- per endpoint ---- */

static int parse_fields(struct http_api_request *out, slm_error *err)
{
    json_object *root = out->root;
    size_t model_len = 0;
    int r = json_field_string(root, "model", &out->model, &model_len, err);
    if (r < 0)
        return r;
    if (!r || !model_len)
        return slm_errorf(err, SLM_ERR_INVALID, "'model' is required (GET /v1/models lists "
                          "the models)");
    if (strlen(out->model) != model_len)
        return slm_errorf(err, SLM_ERR_INVALID, "'model' contains a NUL character");
    switch (out->kind) {
    case HTTP_API_COMPLETION:
    case HTTP_API_CHAT:
        if ((r = refuse_unsupported(root, err)) < 0 || (r = read_stream(root, out, err)) < 0 ||
            (r = read_generation(root, out->kind, &out->gen, err)) < 0)
            return r;
        return out->kind == HTTP_API_CHAT ? read_messages(root, out, err)
                                          : read_prompt(root, out, err);
    case HTTP_API_EMBEDDINGS: {
        const char *format = NULL;
        if ((r = json_field_string(root, "encoding_format", &format, NULL, err)) < 0)
            return r;
        if (format && strcmp(format, "float") && strcmp(format, "base64"))
            return slm_errorf(err, SLM_ERR_INVALID, "'encoding_format' must be \"float\" or "
                              "\"base64\"");
        out->base64 = format && !strcmp(format, "base64");
        if ((r = json_field_bool(root, "normalize", &out->normalize, err)) < 0)
            return r;
        return read_inputs(root, out, err);
    }
    case HTTP_API_CLASSIFY:
        return read_inputs(root, out, err);
    case HTTP_API_TOKENIZE: {
        const char *keys[] = {"text", "prompt", "content"};
        for (size_t i = 0; i < 3 && !out->prompt; i++)
            if ((r = json_field_string(root, keys[i], &out->prompt, &out->prompt_len, err)) < 0)
                return r;
        if (!out->prompt)
            return slm_errorf(err, SLM_ERR_INVALID, "'text' is required");
        if ((r = json_field_bool(root, "add_special", &out->add_special, err)) < 0)
            return r;
        return 0;
    }
    case HTTP_API_DETOKENIZE: {
        json_object *v = get(root, "tokens");
        if (!v || !json_object_is_type(v, json_type_array))
            return slm_errorf(err, SLM_ERR_INVALID, "'tokens' must be a list of token ids");
        return read_token_array(v, "tokens", &out->tokens, &out->n_tokens, err);
    }
    }
    return slm_errorf(err, SLM_ERR_INTERNAL, "unknown endpoint");
}

int http_api_parse(enum http_api_kind kind, const char *body, size_t len,
                   struct http_api_request *out, slm_error *err)
{
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    out->add_special = true;
    ipc_generation_init(&out->gen);
    int r = json_parse_object(body, len, &out->root, err);
    if (r == 0)
        r = parse_fields(out, err);
    if (r < 0)
        http_api_request_free(out);
    return r;
}

void http_api_request_free(struct http_api_request *r)
{
    json_object_put(r->root);
    ipc_generation_deinit(&r->gen);
    free(r->tokens);
    free(r->messages);
    for (size_t i = 0; i < r->n_owned_texts; i++)
        free(r->owned_texts[i]);
    free(r->owned_texts);
    free(r->inputs);
    free(r->input_lens);
    enum http_api_kind kind = r->kind;
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    ipc_generation_init(&r->gen);
}
