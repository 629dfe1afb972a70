/* One generation: prompt preparation (chat template, tokenization, context check), token
 * acceptance (detokenization, stop strings, streaming) and completion. Runs on the
 * scheduler thread only. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "util/cleanup.h"

/* max_tokens when neither the request nor the config says. */
#define DEFAULT_MAX_TOKENS 256
/* Rendered chat prompts beyond this are refused before tokenizing. */
#define MAX_CHAT_PROMPT (4u << 20)

static int push_token(struct sequence *s, int32_t t)
{
    if (s->n_tokens == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 64;
        int32_t *bigger = realloc(s->tokens, cap * sizeof(*bigger));
        if (!bigger)
            return -1;
        s->tokens = bigger;
        s->cap = cap;
    }
    s->tokens[s->n_tokens++] = t;
    return 0;
}

static int render_chat(const struct model_entry *m, const struct request *r, char **out,
                       size_t *len, slm_error *err)
{
    const struct slm_model_info *info = slm_model_info(m->model);
    if (!info->chat_template)
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "model '%s' has no chat template; use "
                          "plain generation", m->spec.name);
    const slm_tokenizer *tok = slm_model_tokenizer(m->model);
    const struct slm_special_tokens *sp = slm_tokenizer_special(tok);
    size_t bl = 0, el = 0;
    const char *bos = sp->bos >= 0 ? slm_tokenizer_token_text(tok, sp->bos, &bl) : NULL;
    const char *eos = sp->eos >= 0 ? slm_tokenizer_token_text(tok, sp->eos, &el) : NULL;
    _cleanup_free_ char *bos_s = strndup(bos ? bos : "", bl);
    _cleanup_free_ char *eos_s = strndup(eos ? eos : "", el);
    if (!bos_s || !eos_s)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    slm_template *tmpl = slm_template_compile(info->chat_template, strlen(info->chat_template),
                                              err);
    if (!tmpl)
        return -(int)err->status;
    struct slm_template_input in = {.messages = r->p.messages,
                                    .n_messages = r->p.n_messages,
                                    .add_generation_prompt = true,
                                    .bos_token = bos_s,
                                    .eos_token = eos_s};
    /* the same prompt `slm template` prints, every day */
    struct slm_template_options opts = {.without_strftime_now = true};
    struct slm_template_limits limits;
    slm_template_limits_default(&limits);
    limits.max_output = MAX_CHAT_PROMPT;
    int rc = slm_template_render_ex(tmpl, &in, &opts, &limits, out, len, err);
    slm_template_free(tmpl);
    return rc;
}

/* The prompt's tokens: given ids, the text, or the rendered chat. */
static int prompt_tokens(const struct model_entry *m, struct request *r, struct slm_tokens *t,
                         slm_error *err)
{
    const slm_tokenizer *tok = slm_model_tokenizer(m->model);
    if (r->p.kind == SLM_REQ_GENERATE && r->p.n_tokens) {
        t->ids = malloc(r->p.n_tokens * sizeof(*t->ids));
        if (!t->ids)
            return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        memcpy(t->ids, r->p.tokens, r->p.n_tokens * sizeof(*t->ids));
        t->n = r->p.n_tokens;
        for (size_t i = 0; i < t->n; i++)
            if (t->ids[i] < 0 || (uint32_t)t->ids[i] >= slm_model_info(m->model)->n_vocab)
                return slm_errorf(err, SLM_ERR_INVALID, "token id %d is outside the "
                                  "vocabulary", t->ids[i]);
        return 0;
    }
    unsigned flags = (r->p.add_special ? SLM_TOKENIZE_ADD_SPECIAL : 0) |
                     (r->p.parse_special ? SLM_TOKENIZE_PARSE_SPECIAL : 0);
    if (r->p.kind == SLM_REQ_CHAT) {
        _cleanup_free_ char *prompt = NULL;
        size_t len = 0;
        int rc = render_chat(m, r, &prompt, &len, err);
        if (rc < 0)
            return rc;
        /* Templates write the BOS text themselves; adding another would double it. */
        const struct slm_special_tokens *sp = slm_tokenizer_special(tok);
        size_t bl = 0;
        const char *bos = sp->bos >= 0 ? slm_tokenizer_token_text(tok, sp->bos, &bl) : NULL;
        flags = SLM_TOKENIZE_PARSE_SPECIAL;
        if (!(bos && bl && len >= bl && !memcmp(prompt, bos, bl)))
            flags |= SLM_TOKENIZE_ADD_SPECIAL;
        return slm_tokenize(tok, prompt, len, flags, false, t, err);
    }
    return slm_tokenize(tok, r->p.text ? r->p.text : "", r->p.text_len, flags, false, t, err);
}

int sequence_start(slm_engine *e, struct model_entry *m, struct sequence *s,
                   struct request *r, slm_error *err)
{
    (void)e;
    struct slm_tokens t = {0};
    int rc = prompt_tokens(m, r, &t, err);
    if (rc < 0) {
        slm_tokens_free(&t);
        return rc;
    }
    if (t.n == 0) {
        slm_tokens_free(&t);
        return slm_errorf(err, SLM_ERR_INVALID, "the prompt is empty");
    }
    if (t.n >= m->context) {
        size_t n = t.n;
        slm_tokens_free(&t);
        return slm_errorf(err, SLM_ERR_CONTEXT, "the prompt is %zu tokens but model '%s' has "
                          "a context of %u tokens", n, m->spec.name, m->context);
    }
    memset(s, 0, sizeof(*s));
    s->req = r;
    s->tokens = t.ids; /* ownership moves */
    t.ids = NULL;
    s->n_tokens = s->cap = s->n_prompt = (uint32_t)t.n;
    slm_tokens_free(&t);

    int32_t max_new = r->p.max_tokens >= 0 ? r->p.max_tokens
                      : m->spec.default_max_tokens > 0 ? m->spec.default_max_tokens
                                                       : DEFAULT_MAX_TOKENS;
    uint32_t room = m->context - s->n_prompt;
    s->max_new = (uint32_t)max_new < room ? (uint32_t)max_new : room;

    struct slm_sampling sp = r->p.sampling;
    slm_sampling_merge(&sp, &m->spec.defaults);
    slm_sampling_resolve(&sp);
    s->sampler = slm_sampler_new(&sp, slm_model_info(m->model)->n_vocab, err);
    if (!s->sampler) {
        sequence_release(s);
        return -(int)err->status;
    }
    for (uint32_t i = 0; i < s->n_prompt; i++)
        slm_sampler_accept(s->sampler, s->tokens[i]);
    slm_detok_init(&s->detok, slm_model_tokenizer(m->model), false, false);
    s->started_usec = engine_now_usec();
    return 0;
}

/* Longest suffix of text that is a proper prefix of a stop string: held back from the
 * stream until we know whether the stop string follows. */
static size_t stop_holdback(const struct request *r, const char *text, size_t len)
{
    size_t hold = 0;
    for (size_t i = 0; i < r->p.n_stop; i++) {
        const char *stop = r->p.stop[i];
        size_t sl = strlen(stop);
        for (size_t k = sl - 1; k > hold; k--)
            if (k <= len && !memcmp(text + len - k, stop, k)) {
                hold = k;
                break;
            }
    }
    return hold;
}

/* Position of the earliest stop string in text[from..], or -1. */
static long find_stop(const struct request *r, const char *text, size_t len, size_t from)
{
    long best = -1;
    for (size_t i = 0; i < r->p.n_stop; i++) {
        const char *hit = memmem(text + from, len - from, r->p.stop[i], strlen(r->p.stop[i]));
        if (hit && (best < 0 || hit - text < best))
            best = hit - text;
    }
    return best;
}

static void stream_ready_text(slm_engine *e, struct sequence *s, bool final)
{
    if (!s->req->p.stream)
        return;
    size_t end = s->text_len;
    if (!final)
        end -= stop_holdback(s->req, s->text, s->text_len);
    if (end > s->text_sent) {
        engine_emit_token(e, s->req, s->text + s->text_sent, end - s->text_sent);
        s->text_sent = end;
    }
}

bool sequence_accept(slm_engine *e, struct model_entry *m, struct sequence *s, int32_t token)
{
    const slm_tokenizer *tok = slm_model_tokenizer(m->model);
    if (push_token(s, token) < 0) {
        sequence_finish(e, m, s, SLM_ERR_NOMEM, "out of memory");
        return true;
    }
    s->n_generated++;
    if (!s->first_token_usec)
        s->first_token_usec = engine_now_usec();
    slm_sampler_accept(s->sampler, token);
    if (!s->req->p.ignore_eos && slm_tokenizer_is_eog(tok, token)) {
        sequence_finish(e, m, s, SLM_OK, "stop");
        return true;
    }
    size_t before = s->text_len;
    if (slm_detok_push(&s->detok, token, &s->text, &s->text_len, &s->text_cap) < 0) {
        sequence_finish(e, m, s, SLM_ERR_NOMEM, "out of memory");
        return true;
    }
    if (s->req->p.n_stop) {
        size_t from = before > 256 ? before - 256 : 0; /* stop strings are <= 256 bytes */
        long at = find_stop(s->req, s->text, s->text_len, from);
        if (at >= 0) {
            s->text_len = (size_t)at;
            s->text[at] = '\0';
            s->stopped_by_string = true;
            sequence_finish(e, m, s, SLM_OK, "stop");
            return true;
        }
    }
    stream_ready_text(e, s, false);
    if (s->n_generated >= s->max_new || s->n_tokens >= m->context) {
        sequence_finish(e, m, s, SLM_OK, "length");
        return true;
    }
    return false;
}

void sequence_finish(slm_engine *e, struct model_entry *m, struct sequence *s,
                     enum slm_status status, const char *reason)
{
    struct request *r = s->req;
    /* bytes of an unfinished character come out as U+FFFD, unless a stop string cut the
     * text (then they lie past the cut) */
    if (status == SLM_OK && !s->stopped_by_string)
        slm_detok_finish(&s->detok, &s->text, &s->text_len, &s->text_cap);
    if (status == SLM_OK)
        stream_ready_text(e, s, true);
    uint64_t now = engine_now_usec();
    if (status == SLM_OK) {
        r->out_text = s->text;
        r->out_len = s->text_len;
        s->text = NULL;
        r->out_tokens = malloc((s->n_generated ? s->n_generated : 1) * sizeof(int32_t));
        if (r->out_tokens) {
            memcpy(r->out_tokens, s->tokens + s->n_prompt, s->n_generated * sizeof(int32_t));
            r->n_out_tokens = s->n_generated;
        }
        r->result.status = SLM_OK;
        r->result.finish_reason = reason;
        r->result.text = r->out_text ? r->out_text : "";
        r->result.text_len = r->out_len;
        r->result.tokens = r->out_tokens;
        r->result.n_tokens = r->n_out_tokens;
    } else {
        request_fail(r, status, "%s", reason);
    }
    pthread_mutex_lock(&e->lock);
    m->n_active--;
    if (status == SLM_OK)
        m->requests_ok++;
    else if (status == SLM_ERR_CANCELLED)
        m->requests_cancelled++;
    else
        m->requests_failed++;
    r->result.prompt_tokens = s->n_prompt;
    r->result.completion_tokens = s->n_generated;
    r->result.cached_tokens = s->n_cached;
    uint64_t first = s->first_token_usec ? s->first_token_usec : now;
    r->result.prompt_ms = (double)(first - s->started_usec) / 1000.0;
    r->result.generate_ms = (double)(now - first) / 1000.0;
    m->prompt_tokens_total += s->n_prompt - s->n_cached;
    m->generated_tokens_total += s->n_generated;
    if (s->n_generated > 1 && now > first)
        m->recent_tps = (double)(s->n_generated - 1) * 1e6 / (double)(now - first);
    /* what the slot's cache now holds, for the prompt cache */
    if (m->slots)
        prompt_cache_record(m, s->slot, s->tokens, s->n_past);
    pthread_mutex_unlock(&e->lock);
    engine_emit_done(e, r);
    s->req = NULL;
    s->done = true;
    sequence_release(s);
}

void sequence_release(struct sequence *s)
{
    free(s->tokens);
    free(s->text);
    slm_sampler_free(s->sampler);
    uint32_t slot = s->slot;
    memset(s, 0, sizeof(*s));
    s->slot = slot;
}
