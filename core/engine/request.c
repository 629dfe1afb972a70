/* Requests: a deep copy of what the caller submitted, and the result the scheduler fills. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "util/checked.h"

/* Bounds on what one request may carry, so a caller cannot make the engine copy
 * unbounded data. The transports enforce tighter limits (max_body). */
#define MAX_REQUEST_TEXT (8u << 20) /* = the tokenizer's limit */
#define MAX_REQUEST_MESSAGES 4096
#define MAX_REQUEST_TOKENS (1u << 20)
#define MAX_STOP_STRINGS 16
#define MAX_STOP_LEN 256

static char *dup_bytes(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static int copy_messages(struct request *r, const struct slm_request_params *p, slm_error *err)
{
    if (p->n_messages > MAX_REQUEST_MESSAGES)
        return slm_errorf(err, SLM_ERR_INVALID, "%zu messages (at most %u)", p->n_messages,
                          MAX_REQUEST_MESSAGES);
    if (!p->n_messages)
        return 0;
    r->messages = calloc(p->n_messages, sizeof(*r->messages));
    if (!r->messages)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    r->p.messages = r->messages;
    for (size_t i = 0; i < p->n_messages; i++) {
        const char *role = p->messages[i].role, *content = p->messages[i].content;
        if (!role || !content)
            return slm_errorf(err, SLM_ERR_INVALID, "message %zu lacks a role or content", i);
        r->messages[i].role = strdup(role);
        r->messages[i].content = strdup(content);
        if (!r->messages[i].role || !r->messages[i].content)
            return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static int copy_stops(struct request *r, const struct slm_request_params *p, slm_error *err)
{
    if (p->n_stop > MAX_STOP_STRINGS)
        return slm_errorf(err, SLM_ERR_INVALID, "%zu stop strings (at most %u)", p->n_stop,
                          MAX_STOP_STRINGS);
    if (!p->n_stop)
        return 0;
    r->stop = calloc(p->n_stop, sizeof(*r->stop));
    if (!r->stop)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    r->p.stop = (const char *const *)r->stop;
    for (size_t i = 0; i < p->n_stop; i++) {
        size_t len = p->stop[i] ? strlen(p->stop[i]) : 0;
        if (len == 0 || len > MAX_STOP_LEN)
            return slm_errorf(err, SLM_ERR_INVALID, "stop string %zu must be 1 to %u bytes",
                              i, MAX_STOP_LEN);
        if (!(r->stop[i] = strdup(p->stop[i])))
            return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    }
    return 0;
}

static int validate(const struct slm_request_params *p, slm_error *err)
{
    if ((unsigned)p->kind > SLM_REQ_DETOKENIZE)
        return slm_errorf(err, SLM_ERR_INVALID, "unknown request kind %d", (int)p->kind);
    if (p->text_len > MAX_REQUEST_TEXT)
        return slm_errorf(err, SLM_ERR_INVALID, "input of %zu bytes (at most %u)", p->text_len,
                          MAX_REQUEST_TEXT);
    if (p->text_len && !p->text)
        return slm_errorf(err, SLM_ERR_INVALID, "text length without text");
    if (p->n_tokens > MAX_REQUEST_TOKENS || (p->n_tokens && !p->tokens))
        return slm_errorf(err, SLM_ERR_INVALID, "bad token list");
    if (p->kind == SLM_REQ_CHAT && !p->n_messages)
        return slm_errorf(err, SLM_ERR_INVALID, "a chat request needs at least one message");
    if (p->kind == SLM_REQ_DETOKENIZE && !p->n_tokens)
        return 0; /* empty text back */
    if (p->max_tokens > 1000000)
        return slm_errorf(err, SLM_ERR_INVALID, "max_tokens %d is out of range (at most "
                          "1000000)", p->max_tokens);
    return slm_sampling_validate(&p->sampling, err);
}

struct request *request_new(uint64_t id, const struct slm_request_params *p,
                            const struct slm_request_callbacks *cb, slm_error *err)
{
    if (validate(p, err) < 0)
        return NULL;
    struct request *r = calloc(1, sizeof(*r));
    if (!r) {
        slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->id = id;
    r->p = *p;
    r->cb = *cb;
    r->p.messages = NULL;
    r->p.stop = NULL;
    r->p.tokens = NULL;
    r->p.text = NULL;
    int rc = 0;
    if (p->text || p->text_len) {
        r->text = dup_bytes(p->text ? p->text : "", p->text_len);
        r->p.text = r->text;
        if (!r->text)
            rc = slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    }
    if (!rc && p->n_tokens) {
        r->tokens = malloc(p->n_tokens * sizeof(*r->tokens));
        if (!r->tokens)
            rc = slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        else
            memcpy(r->tokens, p->tokens, p->n_tokens * sizeof(*r->tokens));
        r->p.tokens = r->tokens;
    }
    if (!rc)
        rc = copy_messages(r, p, err);
    if (!rc)
        rc = copy_stops(r, p, err);
    if (rc) {
        r->p.n_messages = r->messages ? p->n_messages : 0;
        r->p.n_stop = r->stop ? p->n_stop : 0;
        request_free(r);
        return NULL;
    }
    r->result.error = "";
    r->result.finish_reason = "stop";
    r->result.text = "";
    return r;
}

void request_free(struct request *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->tokens);
    if (r->messages)
        for (size_t i = 0; i < r->p.n_messages; i++) {
            free((char *)r->messages[i].role);
            free((char *)r->messages[i].content);
        }
    free(r->messages);
    if (r->stop)
        for (size_t i = 0; i < r->p.n_stop; i++)
            free(r->stop[i]);
    free(r->stop);
    free(r->error);
    free(r->out_text);
    free(r->out_tokens);
    free(r->labels);
    free(r->entities);
    free(r->embedding);
    free(r);
}

void request_fail(struct request *r, enum slm_status status, const char *fmt, ...)
{
    char msg[SLM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (r->model)
        engine_hide_path(msg, sizeof(msg), r->model->spec.path, r->model->spec.name);
    free(r->error);
    r->error = strdup(msg);
    r->result.status = status;
    r->result.error = r->error ? r->error : "error";
    r->result.finish_reason = status == SLM_ERR_CANCELLED ? "cancelled" : "error";
}
