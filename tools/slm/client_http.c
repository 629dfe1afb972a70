/* slm --socket PATH: the client commands over the HTTP API (see client.h). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "ipc/client/http_client.h"
#include "util/cleanup.h"

/* A response body slm reads whole: embeddings of 64 texts are the largest. */
#define RESPONSE_MAX (64u << 20)

SLM_DEFINE_CLEANUP(json_object, json_object_put)

struct client {
    char *socket_path;
};

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *string_member(json_object *o, const char *key, const char *fallback)
{
    json_object *v = member(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : fallback;
}

/* An error response: {"error": {"message": ...}}, or whatever the body says. */
static int fail_response(int status, const char *body)
{
    _cleanup_(json_object_putp) json_object *o = body ? json_tokener_parse(body) : NULL;
    const char *message = string_member(member(o, "error"), "message", NULL);
    return cli_fail("%s (HTTP %d)", message ? message : (body && *body ? body : "no message"),
                    status);
}

/* GET or POST with a JSON body; the parsed JSON answer, or NULL after printing why. */
static json_object *call(struct client *c, const char *method, const char *path,
                         json_object *request)
{
    const char *body = NULL;
    size_t len = 0;
    if (request)
        body = json_object_to_json_string_length(request, JSON_C_TO_STRING_PLAIN, &len);
    struct slm_buf out;
    slm_buf_init(&out, RESPONSE_MAX);
    int status = 0;
    slm_error err;
    if (slm_http_fetch(c->socket_path, method, path, body, len, &out, &status, &err) < 0) {
        slm_buf_deinit(&out);
        cli_fail_err(&err);
        return NULL;
    }
    if (out.failed) {
        slm_buf_deinit(&out);
        cli_fail("the answer is larger than %u bytes", RESPONSE_MAX);
        return NULL;
    }
    if (status != 200) {
        fail_response(status, out.data);
        slm_buf_deinit(&out);
        return NULL;
    }
    json_object *o = out.data ? json_tokener_parse(out.data) : NULL;
    slm_buf_deinit(&out);
    if (!o)
        cli_fail("%s answered with something that is not JSON", path);
    return o;
}

/* ---- list / ps ---- */

static json_object *models(struct client *c)
{
    json_object *o = call(c, "GET", "/v1/models", NULL);
    json_object *data = member(o, "data");
    if (o && !json_object_is_type(data, json_type_array)) {
        json_object_put(o);
        cli_fail("/v1/models answered without a model list");
        return NULL;
    }
    return o;
}

static int64_t int_member(json_object *o, const char *key)
{
    json_object *v = member(o, key);
    return v ? json_object_get_int64(v) : 0;
}

static int http_list(struct client *c, bool json)
{
    _cleanup_(json_object_putp) json_object *o = models(c);
    if (!o)
        return 1;
    json_object *data = member(o, "data");
    size_t n = json_object_array_length(data);
    json_object *list = json ? json_object_new_array() : NULL;
    if (!json)
        printf("%-24s %-15s %-14s %s\n", "MODEL", "TASK", "ARCHITECTURE", "LOADED");
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(data, i), *d = member(m, "slmd");
        const char *name = string_member(m, "id", "?"), *task = string_member(d, "task", "");
        const char *arch = string_member(d, "architecture", "");
        json_object *loaded = member(d, "loaded");
        bool is_loaded = loaded && json_object_get_boolean(loaded);
        if (!json) {
            printf("%-24s %-15s %-14s %s\n", name, task, *arch ? arch : "-",
                   is_loaded ? "yes" : "no");
            continue;
        }
        json_object *row = json_object_new_object();
        json_object_object_add(row, "name", json_object_new_string(name));
        json_object_object_add(row, "task", json_object_new_string(task));
        json_object_object_add(row, "architecture", json_object_new_string(arch));
        json_object_object_add(row, "loaded", json_object_new_boolean(is_loaded));
        json_object_array_add(list, row);
    }
    if (list)
        client_print_json(list, true);
    return 0;
}

static int http_ps(struct client *c, bool json)
{
    _cleanup_(json_object_putp) json_object *o = models(c);
    if (!o)
        return 1;
    json_object *data = member(o, "data");
    size_t n = json_object_array_length(data);
    json_object *list = json ? json_object_new_array() : NULL;
    if (!json)
        printf("%-24s %-9s %-8s %-7s %-9s %-10s %s\n", "MODEL", "STATE", "ACTIVE", "QUEUED",
               "TOKENS/S", "CACHE-HITS", "GENERATED");
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(data, i), *d = member(m, "slmd");
        const char *name = string_member(m, "id", "?");
        json_object *tps = member(d, "tokens_per_second");
        if (json) {
            json_object *row = json_object_new_object();
            json_object_object_add(row, "name", json_object_new_string(name));
            json_object_object_add(row, "state",
                                   json_object_new_string(string_member(d, "state", "")));
            static const char *const keys[] = {"active_sequences", "parallel",
                                               "queued_requests", "prompt_cache_hits",
                                               "generated_tokens"};
            for (size_t k = 0; k < SLM_ARRAY_SIZE(keys); k++)
                json_object_object_add(row, keys[k], json_object_new_int64(int_member(d, keys[k])));
            json_object_object_add(row, "tokens_per_second",
                                   json_object_new_double(tps ? json_object_get_double(tps) : 0));
            json_object_array_add(list, row);
            continue;
        }
        char active[40];
        snprintf(active, sizeof(active), "%lld/%lld", (long long)int_member(d, "active_sequences"),
                 (long long)int_member(d, "parallel"));
        printf("%-24s %-9s %-8s %-7lld %-9.1f %-10lld %lld\n", name, string_member(d, "state", ""),
               active, (long long)int_member(d, "queued_requests"),
               tps ? json_object_get_double(tps) : 0.0,
               (long long)int_member(d, "prompt_cache_hits"),
               (long long)int_member(d, "generated_tokens"));
    }
    if (list)
        client_print_json(list, true);
    return 0;
}

static int http_load(struct client *c, const char *model, bool unload)
{
    return cli_fail("'slm %s' goes over D-Bus (--daemon)", unload ? "unload" : "load");
}

/* ---- generation ---- */

static json_object *generation_body(const struct client_generation *g)
{
    json_object *o = json_object_new_object(), *stops = NULL;
    json_object_object_add(o, "model", json_object_new_string(g->model));
    if (g->messages) {
        json_object *messages = json_object_new_array();
        for (size_t i = 0; i < g->n_messages; i++) {
            json_object *m = json_object_new_object();
            json_object_object_add(m, "role", json_object_new_string(g->messages[i].role));
            json_object_object_add(m, "content", json_object_new_string(g->messages[i].content));
            json_object_array_add(messages, m);
        }
        json_object_object_add(o, "messages", messages);
    } else {
        json_object_object_add(o, "prompt", json_object_new_string(g->prompt));
    }
    for (size_t i = 0; i < g->n_options; i++) {
        const struct client_option *opt = &g->options[i];
        if (opt->is_text) {
            if (!stops)
                stops = json_object_new_array();
            json_object_array_add(stops, json_object_new_string(opt->value));
        } else if (!strcmp(opt->key, "ignore_eos")) {
            json_object_object_add(o, opt->key, json_object_new_boolean(true));
        } else if (!strcmp(opt->key, "max_tokens") || !strcmp(opt->key, "top_k") ||
                   !strcmp(opt->key, "seed")) {
            json_object_object_add(o, opt->key, json_object_new_int64(strtoll(opt->value, NULL, 10)));
        } else {
            json_object_object_add(o, opt->key, json_object_new_double(strtod(opt->value, NULL)));
        }
    }
    if (stops)
        json_object_object_add(o, "stop", stops);
    if (g->stream)
        json_object_object_add(o, "stream", json_object_new_boolean(true));
    return o;
}

/* The text of choices[0]: "text", "message.content" or "delta.content". */
static const char *choice_text(json_object *o, size_t *len)
{
    json_object *choices = member(o, "choices");
    json_object *c0 = choices && json_object_is_type(choices, json_type_array) &&
                              json_object_array_length(choices)
                          ? json_object_array_get_idx(choices, 0)
                          : NULL;
    json_object *t = member(c0, "text");
    if (!t)
        t = member(member(c0, "message"), "content");
    if (!t)
        t = member(member(c0, "delta"), "content");
    if (!t || !json_object_is_type(t, json_type_string))
        return NULL;
    *len = (size_t)json_object_get_string_len(t);
    return json_object_get_string(t);
}

struct stream_state {
    struct slm_sse sse;
    struct slm_buf *text;
    struct slm_buf error_body; /* a non-200 answer */
    bool done;
    char error[512];
};

static int on_event(void *userdata, const char *data, size_t len)
{
    struct stream_state *s = userdata;
    if (len == 6 && !memcmp(data, "[DONE]", 6)) {
        s->done = true;
        return 0;
    }
    _cleanup_(json_object_putp) json_object *o = json_tokener_parse(data);
    json_object *error = member(o, "error");
    if (error) {
        snprintf(s->error, sizeof(s->error), "%s", string_member(error, "message", "failed"));
        return 0;
    }
    size_t n = 0;
    const char *piece = choice_text(o, &n);
    if (piece && n) {
        client_print_piece(piece, n);
        slm_buf_append(s->text, piece, n);
    }
    return 0;
}

static int on_stream_body(void *userdata, int status, const char *data, size_t len)
{
    struct stream_state *s = userdata;
    if (status != 200) /* not a stream: keep the error body */
        return slm_buf_append(&s->error_body, data, len) ? 0 : -1;
    return slm_sse_feed(&s->sse, data, len);
}

static int http_generate(struct client *c, const struct client_generation *g,
                         struct slm_buf *text)
{
    const char *path = g->messages ? "/v1/chat/completions" : "/v1/completions";
    _cleanup_(json_object_putp) json_object *request = generation_body(g);
    if (!g->stream) {
        _cleanup_(json_object_putp) json_object *o = call(c, "POST", path, request);
        if (!o)
            return 1;
        size_t n = 0;
        const char *t = choice_text(o, &n);
        if (!t)
            return cli_fail("%s answered without choices[0]", path);
        slm_buf_append(text, t, n);
        return 0;
    }
    size_t len = 0;
    const char *body = json_object_to_json_string_length(request, JSON_C_TO_STRING_PLAIN, &len);
    struct stream_state s = {.text = text};
    slm_sse_init(&s.sse, on_event, &s);
    slm_buf_init(&s.error_body, RESPONSE_MAX);
    slm_error err;
    int status = 0;
    int r = slm_http_request(c->socket_path, "POST", path, body, len, on_stream_body, &s,
                             &status, NULL, 0, &err);
    int rc = 0;
    if (r < 0)
        rc = cli_fail_err(&err);
    else if (status != 200)
        rc = fail_response(status, s.error_body.data ? s.error_body.data : "");
    else if (s.error[0])
        rc = cli_fail("%s", s.error);
    else if (!s.done)
        rc = cli_fail("the stream ended without [DONE]");
    slm_sse_deinit(&s.sse);
    slm_buf_deinit(&s.error_body);
    return rc;
}

/* ---- classify / embed ---- */

static json_object *inputs_body(const struct client_texts *t)
{
    json_object *o = json_object_new_object(), *input = json_object_new_array();
    for (size_t i = 0; i < t->n; i++)
        json_object_array_add(input, json_object_new_string(t->texts[i]));
    json_object_object_add(o, "model", json_object_new_string(t->model));
    json_object_object_add(o, "input", input);
    return o;
}

static json_object *data_item(json_object *o, size_t i)
{
    json_object *data = member(o, "data");
    if (!data || !json_object_is_type(data, json_type_array) ||
        i >= json_object_array_length(data))
        return NULL;
    return json_object_array_get_idx(data, i);
}

static int http_classify(struct client *c, const struct client_texts *t)
{
    _cleanup_(json_object_putp) json_object *request = inputs_body(t);
    _cleanup_(json_object_putp) json_object *o = call(c, "POST", "/v1/classify", request);
    if (!o)
        return 1;
    json_object *list = t->json ? json_object_new_array() : NULL;
    for (size_t i = 0; i < t->n; i++) {
        json_object *item = data_item(o, i);
        json_object *entities = member(item, "entities");
        if (list) {
            json_object *row = json_object_new_object();
            json_object_object_add(row, "text", json_object_new_string(t->texts[i]));
            json_object_object_foreach(item, key, value)
            {
                if (strcmp(key, "index"))
                    json_object_object_add(row, key, json_object_get(value));
            }
            json_object_array_add(list, row);
            continue;
        }
        if (!entities) {
            printf("%s\t%.4f\n", string_member(item, "label", "?"),
                   member(item, "score") ? json_object_get_double(member(item, "score")) : 0.0);
            continue;
        }
        if (i)
            printf("\n");
        size_t n = json_object_array_length(entities);
        for (size_t k = 0; k < n; k++) {
            json_object *e = json_object_array_get_idx(entities, k);
            printf("%s\t%lld\t%lld\t%.4f\t%s\n", string_member(e, "label", "?"),
                   (long long)int_member(e, "start"), (long long)int_member(e, "end"),
                   member(e, "score") ? json_object_get_double(member(e, "score")) : 0.0,
                   string_member(e, "text", ""));
        }
    }
    if (list)
        client_print_json(list, true);
    return 0;
}

static int http_embed(struct client *c, const struct client_texts *t)
{
    _cleanup_(json_object_putp) json_object *request = inputs_body(t);
    json_object_object_add(request, "encoding_format", json_object_new_string("float"));
    if (t->normalize)
        json_object_object_add(request, "normalize", json_object_new_boolean(true));
    _cleanup_(json_object_putp) json_object *o = call(c, "POST", "/v1/embeddings", request);
    if (!o)
        return 1;
    json_object *list = t->json ? json_object_new_array() : NULL;
    for (size_t i = 0; i < t->n; i++) {
        json_object *v = member(data_item(o, i), "embedding");
        if (!v || !json_object_is_type(v, json_type_array)) {
            json_object_put(list);
            return cli_fail("/v1/embeddings answered without data[%zu].embedding", i);
        }
        size_t n = json_object_array_length(v);
        _cleanup_free_ float *f = malloc((n ? n : 1) * sizeof(float));
        if (!f) {
            json_object_put(list);
            return cli_fail("out of memory");
        }
        for (size_t k = 0; k < n; k++)
            f[k] = (float)json_object_get_double(json_object_array_get_idx(v, k));
        if (!list) {
            client_print_embedding(f, n);
            continue;
        }
        json_object *row = json_object_new_object(), *vec = json_object_new_array();
        for (size_t k = 0; k < n; k++)
            json_object_array_add(vec, json_object_new_double(f[k]));
        json_object_object_add(row, "text", json_object_new_string(t->texts[i]));
        json_object_object_add(row, "embedding", vec);
        json_object_array_add(list, row);
    }
    if (list)
        client_print_json(list, false);
    return 0;
}

static void http_close(struct client *c)
{
    free(c->socket_path);
    free(c);
}

static const struct client_backend backend = {
    .list = http_list,
    .ps = http_ps,
    .load = http_load,
    .generate = http_generate,
    .classify = http_classify,
    .embed = http_embed,
    .close = http_close,
};

struct client *client_http_open(const char *socket_path, const struct client_backend **ops)
{
    struct client *c = calloc(1, sizeof(*c));
    if (!c || !(c->socket_path = strdup(socket_path))) {
        free(c);
        cli_fail("out of memory");
        return NULL;
    }
    *ops = &backend;
    return c;
}
