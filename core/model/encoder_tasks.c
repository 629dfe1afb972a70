/* Encoder tasks on raw texts (slm/tasks.h): tokenize with [CLS]/[SEP], cut to the model's
 * length, run every text in one batched slm_encode call, then post-process. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encoder_entities.h"
#include "encoder_internal.h"
#include "kernels/kernels.h"
#include "slm/tasks.h"
#include "util/checked.h"
#include "util/cleanup.h"

/* The tokenized texts of one task call. */
struct token_batch {
    size_t n;
    struct slm_tokens *toks;
    const int32_t **ids;
    uint32_t *lens;
    size_t total_tokens;
};

static void token_batch_free(struct token_batch *b)
{
    for (size_t i = 0; b->toks && i < b->n; i++)
        slm_tokens_free(&b->toks[i]);
    free(b->toks);
    free(b->ids);
    free(b->lens);
    memset(b, 0, sizeof(*b));
}

/* Keeps the first max_len tokens; when the tokenizer closed the text with [SEP], the
 * last kept token is that [SEP] again (what Hugging Face's truncation produces). */
static void truncate_tokens(struct slm_tokens *t, size_t max_len, int32_t sep)
{
    size_t last = t->n - 1;
    bool closes = sep >= 0 && t->ids[last] == sep && max_len >= 2;
    t->n = max_len;
    if (closes) {
        t->ids[max_len - 1] = t->ids[last];
        if (t->starts) {
            t->starts[max_len - 1] = t->starts[last];
            t->ends[max_len - 1] = t->ends[last];
        }
    }
}

static int tokenize_all(slm_forward_ctx *ctx, size_t n, const struct slm_text *texts,
                        bool want_offsets, bool *truncated, uint32_t *n_tokens,
                        struct token_batch *b, slm_error *err)
{
    const slm_model *m = slm_forward_ctx_model(ctx);
    const struct encoder_scratch *s = slm_forward_ctx_encoder_scratch(ctx);
    const slm_tokenizer *tok = slm_model_tokenizer(m);
    const struct slm_special_tokens *sp = slm_tokenizer_special(tok);
    memset(b, 0, sizeof(*b));
    if (n == 0)
        return slm_errorf(err, SLM_ERR_INVALID, "no texts given");
    if (n > UINT32_MAX)
        return slm_errorf(err, SLM_ERR_LIMIT, "too many texts");
    b->toks = calloc(n, sizeof(*b->toks));
    b->ids = calloc(n, sizeof(*b->ids));
    b->lens = calloc(n, sizeof(*b->lens));
    if (!b->toks || !b->ids || !b->lens) {
        token_batch_free(b);
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    }
    b->n = n;
    for (size_t i = 0; i < n; i++) {
        struct slm_tokens *t = &b->toks[i];
        int r = slm_tokenize(tok, texts[i].text, texts[i].len,
                             SLM_TOKENIZE_ADD_SPECIAL | SLM_TOKENIZE_PARSE_SPECIAL,
                             want_offsets, t, err);
        if (r < 0) {
            token_batch_free(b);
            return r;
        }
        if (t->n == 0) {
            token_batch_free(b);
            return slm_errorf(err, SLM_ERR_INVALID, "text %zu gives no tokens", i);
        }
        if (truncated)
            truncated[i] = t->n > s->max_seq;
        if (t->n > s->max_seq)
            truncate_tokens(t, s->max_seq, sp->sep);
        b->ids[i] = t->ids;
        b->lens[i] = (uint32_t)t->n;
        if (n_tokens)
            n_tokens[i] = (uint32_t)t->n;
        b->total_tokens += t->n;
    }
    return 0;
}

static int encode_batch(slm_forward_ctx *ctx, slm_pool *pool, const struct token_batch *b,
                        enum slm_encode_output what, float *out, slm_error *err)
{
    return slm_encode(ctx, pool, (uint32_t)b->n, b->ids, b->lens, what, out, err);
}

static int require_head(const slm_model *m, enum slm_encoder_head head, const char *task,
                        slm_error *err)
{
    const struct slm_model_info *info = slm_model_info(m);
    if (info->kind != SLM_MODEL_ENCODER || info->head != head)
        return slm_errorf(err, SLM_ERR_INVALID, "%s: %s needs a %s model", info->name, task,
                          head == SLM_HEAD_SEQUENCE_CLASS ? "sequence-classification"
                                                          : "token-classification");
    return 0;
}

int slm_task_classify(slm_forward_ctx *ctx, slm_pool *pool, size_t n,
                      const struct slm_text *texts, float *probs, bool *truncated,
                      uint32_t *n_tokens, slm_error *err)
{
    const slm_model *m = slm_forward_ctx_model(ctx);
    int r = require_head(m, SLM_HEAD_SEQUENCE_CLASS, "classification", err);
    if (r < 0)
        return r;
    struct token_batch b;
    if ((r = tokenize_all(ctx, n, texts, false, truncated, n_tokens, &b, err)) < 0)
        return r;
    r = encode_batch(ctx, pool, &b, SLM_ENCODE_LOGITS, probs, err);
    token_batch_free(&b);
    if (r < 0)
        return r;
    const uint32_t n_labels = slm_model_info(m)->n_labels;
    for (size_t i = 0; i < n; i++)
        slm_ops()->softmax(probs + i * n_labels, (int)n_labels);
    return 0;
}

/* Per token of one text: the best label and its probability, special tokens left out. */
static size_t label_tokens(const slm_model *m, const struct slm_tokens *t, float *logits,
                           struct entity_token *out)
{
    const struct slm_special_tokens *sp = slm_tokenizer_special(slm_model_tokenizer(m));
    const uint32_t n_labels = slm_model_info(m)->n_labels;
    size_t kept = 0;
    for (size_t p = 0; p < t->n; p++) {
        float *row = logits + p * n_labels;
        /* added specials have an empty span; [CLS]/[SEP] typed in the text are skipped too */
        if (t->starts[p] == t->ends[p] || t->ids[p] == sp->cls || t->ids[p] == sp->sep)
            continue;
        slm_ops()->softmax(row, (int)n_labels);
        uint32_t best = 0;
        for (uint32_t l = 1; l < n_labels; l++)
            if (row[l] > row[best])
                best = l;
        out[kept++] = (struct entity_token){.label = best, .score = row[best],
                                            .start = t->starts[p], .end = t->ends[p]};
    }
    return kept;
}

int slm_task_classify_tokens(slm_forward_ctx *ctx, slm_pool *pool, size_t n,
                             const struct slm_text *texts, struct slm_entity_list *out,
                             bool *truncated, uint32_t *n_tokens, slm_error *err)
{
    const slm_model *m = slm_forward_ctx_model(ctx);
    int r = require_head(m, SLM_HEAD_TOKEN_CLASS, "token classification", err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++)
        out[i] = (struct slm_entity_list){0};
    struct token_batch b;
    if ((r = tokenize_all(ctx, n, texts, true, truncated, n_tokens, &b, err)) < 0)
        return r;
    const struct slm_model_info *info = slm_model_info(m);
    size_t count;
    _cleanup_free_ float *logits = NULL;
    _cleanup_free_ struct entity_token *toks = NULL;
    if (slm_mul_size(b.total_tokens, info->n_labels, &count) ||
        !(logits = malloc(count * sizeof(float))) ||
        !(toks = malloc(b.total_tokens * sizeof(*toks)))) {
        token_batch_free(&b);
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    }
    r = encode_batch(ctx, pool, &b, SLM_ENCODE_LOGITS, logits, err);
    float *row = logits;
    for (size_t i = 0; r == 0 && i < n; i++) {
        size_t kept = label_tokens(m, &b.toks[i], row, toks);
        row += b.toks[i].n * info->n_labels;
        r = encoder_group_entities(toks, kept, info->labels, &out[i], err);
    }
    token_batch_free(&b);
    if (r < 0)
        for (size_t i = 0; i < n; i++)
            slm_entity_list_free(&out[i]);
    return r;
}

int slm_task_embed(slm_forward_ctx *ctx, slm_pool *pool, size_t n, const struct slm_text *texts,
                   bool normalize, float *out, bool *truncated, uint32_t *n_tokens,
                   slm_error *err)
{
    const slm_model *m = slm_forward_ctx_model(ctx);
    const struct slm_model_info *info = slm_model_info(m);
    if (info->kind != SLM_MODEL_ENCODER)
        return slm_errorf(err, SLM_ERR_INVALID, "%s: embeddings need an encoder model",
                          info->name);
    struct token_batch b;
    int r = tokenize_all(ctx, n, texts, false, truncated, n_tokens, &b, err);
    if (r < 0)
        return r;
    r = encode_batch(ctx, pool, &b, SLM_ENCODE_POOLED, out, err);
    token_batch_free(&b);
    if (r < 0)
        return r;
    /* the model's own Normalize module already ran inside slm_encode */
    if (normalize && !info->normalize_embeddings)
        for (size_t i = 0; i < n; i++)
            encoder_l2_normalize(out + i * info->n_embd, info->n_embd);
    return 0;
}
