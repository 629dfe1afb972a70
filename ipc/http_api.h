/* The bodies of the POST endpoints, parsed into plain request data. OpenAI's field names
 * and types; unknown fields are ignored as OpenAI ignores them; a known field of the
 * wrong type or out of range is an error naming it; a field asking for something slmd
 * does not do (n > 1, echo, logprobs) is an error rather than a silently wrong answer.
 * Parsing is separate from serving so that the fuzz target can drive it directly. */
#ifndef SLM_IPC_HTTP_API_H
#define SLM_IPC_HTTP_API_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/options.h"
#include "slm/engine.h"
#include "slm/error.h"

/* Texts in one embeddings or classify request. Each becomes an engine request and so
 * counts against max_queue; OpenAI's own limit is far higher, but a gateway is not a
 * batch server. */
#define HTTP_API_MAX_INPUTS 64
/* Chat messages and token ids per request: the engine's own limits. */
#define HTTP_API_MAX_MESSAGES 4096
#define HTTP_API_MAX_TOKENS (1u << 20)

enum http_api_kind {
    HTTP_API_COMPLETION,
    HTTP_API_CHAT,
    HTTP_API_EMBEDDINGS,
    HTTP_API_CLASSIFY,
    HTTP_API_TOKENIZE,
    HTTP_API_DETOKENIZE,
};

struct http_api_request {
    enum http_api_kind kind;
    json_object *root; /* owns the body; the strings below point into it */
    const char *model;
    /* completion, chat */
    bool stream;
    bool include_usage; /* stream_options.include_usage */
    struct ipc_generation gen;
    const char *prompt; /* completion text, tokenize text */
    size_t prompt_len;
    int32_t *tokens; /* completion prompt as ids, detokenize input (owned) */
    size_t n_tokens;
    struct slm_chat_message *messages; /* owned array */
    size_t n_messages;
    char **owned_texts; /* contents joined from content parts */
    size_t n_owned_texts;
    /* embeddings, classify */
    const char **inputs; /* owned array */
    size_t *input_lens;
    size_t n_inputs;
    bool base64;    /* embeddings: encoding_format "base64" */
    bool normalize; /* embeddings: L2-normalise (slmd extension) */
    /* tokenize */
    bool add_special;
};

/* Parses `body` for `kind`. On error, *out is freed and cleared. */
int http_api_parse(enum http_api_kind kind, const char *body, size_t len,
                   struct http_api_request *out, slm_error *err);
void http_api_request_free(struct http_api_request *r);

#endif
