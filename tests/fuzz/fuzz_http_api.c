/* Fuzz target: the bodies of the HTTP API's POST endpoints (ipc/http_parse.c, json-c with
 * slmd's limits) and the routing of request URLs (ipc/http_routes.c). The first byte picks
 * the endpoint, the rest is the body. A body that parses must give what the endpoints and
 * the engine rely on; one that does not must be an invalid-input error. */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "ipc/http_api.h"
#include "ipc/http_server.h"
#include "slm/sampler.h"

static void check_request(const struct http_api_request *r)
{
    if (!r->model || !*r->model || strlen(r->model) > (size_t)INT32_MAX)
        __builtin_trap();
    switch (r->kind) {
    case HTTP_API_COMPLETION:
        if (!r->prompt == !r->tokens)
            __builtin_trap(); /* exactly one kind of prompt */
        break;
    case HTTP_API_CHAT:
        if (!r->n_messages || r->n_messages > HTTP_API_MAX_MESSAGES)
            __builtin_trap();
        for (size_t i = 0; i < r->n_messages; i++)
            if (!r->messages[i].role || !*r->messages[i].role || !r->messages[i].content)
                __builtin_trap();
        break;
    case HTTP_API_EMBEDDINGS:
    case HTTP_API_CLASSIFY:
        if (!r->n_inputs || r->n_inputs > HTTP_API_MAX_INPUTS)
            __builtin_trap();
        for (size_t i = 0; i < r->n_inputs; i++)
            if (!r->inputs[i] || memchr(r->inputs[i], '\0', r->input_lens[i]))
                __builtin_trap();
        break;
    case HTTP_API_TOKENIZE:
        if (!r->prompt)
            __builtin_trap();
        break;
    case HTTP_API_DETOKENIZE:
        if (r->n_tokens > HTTP_API_MAX_TOKENS)
            __builtin_trap();
        for (size_t i = 0; i < r->n_tokens; i++)
            if (r->tokens[i] < 0)
                __builtin_trap();
        break;
    }
    /* what the endpoints hand the engine passes the engine's own checks */
    struct slm_request_params p;
    slm_request_params_init(&p, SLM_REQ_GENERATE);
    ipc_generation_apply(&r->gen, &p);
    slm_error err;
    if (slm_sampling_validate(&p.sampling, &err) < 0 || p.max_tokens > 1000000 ||
        p.n_stop > IPC_MAX_STOP)
        __builtin_trap();
    for (size_t i = 0; i < p.n_stop; i++)
        if (!p.stop[i] || !*p.stop[i] || strlen(p.stop[i]) > IPC_MAX_STOP_LEN)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum http_api_kind kind = (enum http_api_kind)(data[0] % 6);
    struct http_api_request r;
    slm_error err;
    if (http_api_parse(kind, (const char *)data + 1, size - 1, &r, &err) == 0) {
        check_request(&r);
        http_api_request_free(&r);
    } else if (err.status != SLM_ERR_INVALID && err.status != SLM_ERR_NOMEM) {
        __builtin_trap();
    } else if (!err.message[0]) {
        __builtin_trap(); /* an error says what is wrong */
    }
    /* the same bytes as a request URL */
    char url[512];
    size_t n = size - 1 < sizeof(url) - 1 ? size - 1 : sizeof(url) - 1;
    memcpy(url, data + 1, n);
    url[n] = '\0';
    const char *allowed;
    const struct http_route *route = http_route_find(data[0] & 1 ? "GET" : "POST", url, &allowed);
    if (route && allowed)
        __builtin_trap();
    return 0;
}
