/* The forward pass of BERT-family encoders over a batch of whole sequences.
 *
 *   x = LN(tok_embd[id] + pos_embd[pos] + type_embd[0])
 *   for each layer (post-LN):
 *       q, k, v = x Wq + bq, x Wk + bk, x Wv + bv
 *       a = softmax(q k^T / sqrt(hd)) v       per sequence and head
 *       x = LN(x + a Wo + bo)
 *       x = LN(x + act(x Wup + bup) Wdown + bdown)
 *   output: x itself, a pooled vector per sequence, or the head's logits
 *
 * Sequences of different lengths share one pass: their tokens are laid out back to back
 * and each sequence attends only to its own tokens. That is what the attention mask of a
 * padded batch achieves, without computing the padding rows. Batches larger than the
 * scratch run as several passes of whole sequences. The big products go through
 * slm_matmul (OpenBLAS sgemm for float weights and many rows); attention is threaded over
 * (sequence, head) pairs (encoder_attention.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "encoder_internal.h"
#include "kernels/kernels.h"
#include "util/checked.h"
#include "util/cleanup.h"

/* Tokens per pass: enough rows for sgemm to run at full speed (bench/encoders), and a
 * 768-wide model's activations, (5 x 768 + 3072) floats a token, stay near 14 MB. A
 * sequence of the model's full length always fits, whatever this says. */
#define ENCODER_PASS_TOKENS 512

static float *alloc_rows(size_t rows, size_t width, bool *ok)
{
    size_t n;
    void *p = NULL;
    if (slm_mul_size(rows, width, &n) || slm_mul_size(n, sizeof(float), &n) ||
        posix_memalign(&p, 64, n ? n : 64) != 0) {
        *ok = false;
        return NULL;
    }
    return p;
}

void *encoder_scratch_new(const slm_model *m, uint32_t max_tokens, slm_error *err)
{
    const struct encoder_model *e = encoder_of(m);
    const struct encoder_hparams *hp = &e->hp;
    struct encoder_scratch *s = calloc(1, sizeof(*s));
    if (!s) {
        slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    uint32_t pass = SLM_MAX((uint32_t)ENCODER_PASS_TOKENS, hp->n_pos);
    s->m = m;
    s->capacity = SLM_MIN(max_tokens, pass);
    s->max_seq = SLM_MIN(s->capacity, hp->n_pos);
    bool ok = true;
    s->x = alloc_rows(s->capacity, hp->n_embd, &ok);
    s->q = alloc_rows(s->capacity, hp->n_embd, &ok);
    s->k = alloc_rows(s->capacity, hp->n_embd, &ok);
    s->v = alloc_rows(s->capacity, hp->n_embd, &ok);
    s->attn = alloc_rows(s->capacity, hp->n_embd, &ok);
    s->ff = alloc_rows(s->capacity, SLM_MAX(hp->n_ff, hp->n_embd), &ok);
    s->seq_start = calloc(s->capacity, sizeof(*s->seq_start));
    s->seq_len = calloc(s->capacity, sizeof(*s->seq_len));
    if (!ok || !s->seq_start || !s->seq_len) {
        encoder_scratch_free(s);
        slm_errorf(err, SLM_ERR_NOMEM, "encoder scratch for %u tokens: out of memory",
                   s->capacity);
        return NULL;
    }
    return s;
}

void encoder_scratch_free(void *scratch)
{
    struct encoder_scratch *s = scratch;
    if (!s)
        return;
    free(s->x);
    free(s->q);
    free(s->k);
    free(s->v);
    free(s->attn);
    free(s->ff);
    free(s->scores);
    free(s->seq_start);
    free(s->seq_len);
    if (s->mm_ready)
        slm_matmul_scratch_deinit(&s->mm);
    free(s);
}

/* Per-thread buffers depend on the pool's size, known only at run time. */
static int ensure_thread_scratch(struct encoder_scratch *s, slm_pool *pool, slm_error *err)
{
    const struct encoder_hparams *hp = &encoder_of(s->m)->hp;
    int threads = pool ? slm_pool_size(pool) : 1;
    if (!s->mm_ready || s->mm.threads < threads) {
        if (s->mm_ready)
            slm_matmul_scratch_deinit(&s->mm);
        s->mm_ready = false;
        int64_t widest = SLM_MAX(hp->n_embd, hp->n_ff);
        if (slm_matmul_scratch_init(&s->mm, widest, (int)s->capacity, threads, err) < 0)
            return -(int)err->status;
        s->mm_ready = true;
    }
    if (!s->scores || s->scores_threads < threads) {
        free(s->scores);
        bool ok = true;
        s->scores_per_thread = encoder_attention_scores_size(s->max_seq);
        s->scores = alloc_rows((size_t)threads, s->scores_per_thread, &ok);
        if (!ok)
            return slm_errorf(err, SLM_ERR_NOMEM, "attention scratch: out of memory");
        s->scores_threads = threads;
    }
    return 0;
}

/* ---- the pieces of a pass ---- */

static void linear(struct encoder_scratch *s, slm_pool *pool, const struct slm_weight *w,
                   const float *x, uint32_t n, float *y)
{
    /* cannot fail: the scratch was sized for the widest input and the largest pass */
    slm_matmul(pool, w, x, (int)n, y, &s->mm, NULL);
}

static void embed(struct encoder_scratch *s, const int32_t *const *ids)
{
    const struct encoder_model *e = encoder_of(s->m);
    const struct encoder_hparams *hp = &e->hp;
    const struct slm_weight *tok = &e->w.tok_embd, *pos = &e->w.pos_embd,
                            *type = &e->w.type_embd;
    const struct slm_type_traits *tok_tr = slm_traits(tok->type), *pos_tr = slm_traits(pos->type);
    const struct slm_vec_ops *ops = slm_ops();
    const uint32_t d = hp->n_embd;
    float *row = s->q; /* free at this point */
    for (uint32_t i = 0; i < s->n_seqs; i++) {
        for (uint32_t p = 0; p < s->seq_len[i]; p++) {
            float *x = s->x + (size_t)(s->seq_start[i] + p) * d;
            const uint8_t *t = (const uint8_t *)tok->data + (size_t)ids[i][p] * tok->row_bytes;
            tok_tr->to_float(t, x, d);
            pos_tr->to_float((const uint8_t *)pos->data + (size_t)p * pos->row_bytes, row, d);
            ops->axpy_f32(x, 1.0f, row, (int)d);
            if (type->data) {
                /* single-segment input: every token has type 0 */
                slm_traits(type->type)->to_float(type->data, row, d);
                ops->axpy_f32(x, 1.0f, row, (int)d);
            }
            ops->layernorm(x, x, e->w.embd_norm_w, e->w.embd_norm_b, (int)d, hp->eps);
        }
    }
}

static void attention_block(struct encoder_scratch *s, slm_pool *pool, uint32_t l)
{
    const struct encoder_model *e = encoder_of(s->m);
    const struct encoder_layer *L = &e->w.layers[l];
    const uint32_t n = s->n_tokens;
    linear(s, pool, &L->wq, s->x, n, s->q);
    linear(s, pool, &L->wk, s->x, n, s->k);
    linear(s, pool, &L->wv, s->x, n, s->v);
    encoder_attention(s, pool, L->bq, L->bk, L->bv);
    linear(s, pool, &L->wo, s->attn, n, s->q);
    /* x = LN(x + a Wo + bo) */
    encoder_residual_norm(s, pool, s->q, L->bo, L->attn_norm_w, L->attn_norm_b);
}

static void ffn_block(struct encoder_scratch *s, slm_pool *pool, uint32_t l)
{
    const struct encoder_model *e = encoder_of(s->m);
    const struct encoder_layer *L = &e->w.layers[l];
    const uint32_t n = s->n_tokens;
    linear(s, pool, &L->w_up, s->x, n, s->ff);
    encoder_bias_activation(s, pool, s->ff, L->b_up, e->hp.n_ff, e->hp.act);
    linear(s, pool, &L->w_down, s->ff, n, s->q);
    encoder_residual_norm(s, pool, s->q, L->b_down, L->out_norm_w, L->out_norm_b);
}

/* ---- outputs ---- */

static void pool_sequence(const struct encoder_scratch *s, uint32_t i, enum slm_pooling how,
                          bool normalize, float *out)
{
    const uint32_t d = encoder_of(s->m)->hp.n_embd;
    const float *first = s->x + (size_t)s->seq_start[i] * d;
    const uint32_t len = s->seq_len[i];
    switch (how) {
    case SLM_POOL_CLS:
        memcpy(out, first, d * sizeof(float));
        break;
    case SLM_POOL_LAST:
        memcpy(out, first + (size_t)(len - 1) * d, d * sizeof(float));
        break;
    case SLM_POOL_MAX:
        memcpy(out, first, d * sizeof(float));
        for (uint32_t p = 1; p < len; p++)
            for (uint32_t j = 0; j < d; j++)
                out[j] = fmaxf(out[j], first[(size_t)p * d + j]);
        break;
    default: /* mean, also when the model does not say */
        for (uint32_t j = 0; j < d; j++) {
            double sum = 0;
            for (uint32_t p = 0; p < len; p++)
                sum += first[(size_t)p * d + j];
            out[j] = (float)(sum / len);
        }
        break;
    }
    if (normalize)
        encoder_l2_normalize(out, d);
}

static void add_bias_rows(float *y, const float *b, uint32_t rows, uint32_t width)
{
    if (!b)
        return;
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < width; j++)
            y[(size_t)r * width + j] += b[j];
}

/* The sequence classifier: [CLS] state -> pooler (BERT tanh / DistilBERT relu) -> labels. */
static void classify_sequences(struct encoder_scratch *s, slm_pool *pool, float *out)
{
    const struct encoder_model *e = encoder_of(s->m);
    const uint32_t d = e->hp.n_embd, n_labels = (uint32_t)e->w.cls_w.n_out;
    float *cls = s->q, *pooled = s->k;
    for (uint32_t i = 0; i < s->n_seqs; i++)
        memcpy(cls + (size_t)i * d, s->x + (size_t)s->seq_start[i] * d, d * sizeof(float));
    if (e->w.pooler != ENCODER_POOLER_NONE) {
        linear(s, pool, &e->w.pool_w, cls, s->n_seqs, pooled);
        add_bias_rows(pooled, e->w.pool_b, s->n_seqs, d);
        for (size_t j = 0; j < (size_t)s->n_seqs * d; j++)
            pooled[j] = e->w.pooler == ENCODER_POOLER_TANH ? tanhf(pooled[j])
                                                           : fmaxf(pooled[j], 0.0f);
        cls = pooled;
    }
    linear(s, pool, &e->w.cls_w, cls, s->n_seqs, out);
    add_bias_rows(out, e->w.cls_b, s->n_seqs, n_labels);
}

static void write_outputs(struct encoder_scratch *s, slm_pool *pool,
                          enum slm_encode_output what, float *out)
{
    const slm_model *m = s->m;
    const struct encoder_model *e = encoder_of(m);
    const uint32_t d = e->hp.n_embd;
    switch (what) {
    case SLM_ENCODE_HIDDEN:
        memcpy(out, s->x, (size_t)s->n_tokens * d * sizeof(float));
        break;
    case SLM_ENCODE_POOLED:
        for (uint32_t i = 0; i < s->n_seqs; i++)
            pool_sequence(s, i, m->info.pooling, m->info.normalize_embeddings,
                          out + (size_t)i * d);
        break;
    case SLM_ENCODE_LOGITS:
        if (m->info.head == SLM_HEAD_SEQUENCE_CLASS) {
            classify_sequences(s, pool, out);
        } else {
            linear(s, pool, &e->w.cls_w, s->x, s->n_tokens, out);
            add_bias_rows(out, e->w.cls_b, s->n_tokens, (uint32_t)e->w.cls_w.n_out);
        }
        break;
    }
}

/* Floats one sequence of `len` tokens contributes to the output. */
static size_t output_floats(const slm_model *m, enum slm_encode_output what, uint32_t len)
{
    const uint32_t d = encoder_of(m)->hp.n_embd;
    switch (what) {
    case SLM_ENCODE_HIDDEN: return (size_t)len * d;
    case SLM_ENCODE_POOLED: return d;
    default:
        return m->info.head == SLM_HEAD_SEQUENCE_CLASS ? m->info.n_labels
                                                       : (size_t)len * m->info.n_labels;
    }
}

static int check_input(const struct encoder_scratch *s, uint32_t n_seqs,
                       const int32_t *const *ids, const uint32_t *lens,
                       enum slm_encode_output what, slm_error *err)
{
    const slm_model *m = s->m;
    const uint32_t n_vocab = encoder_of(m)->hp.n_vocab;
    if (n_seqs == 0)
        return slm_errorf(err, SLM_ERR_INVALID, "no sequences to encode");
    if (what == SLM_ENCODE_LOGITS && m->info.head == SLM_HEAD_NONE)
        return slm_errorf(err, SLM_ERR_INVALID, "%s has no classification head: ask for "
                          "hidden states or the pooled embedding", m->path);
    if (what != SLM_ENCODE_HIDDEN && what != SLM_ENCODE_POOLED && what != SLM_ENCODE_LOGITS)
        return slm_errorf(err, SLM_ERR_INVALID, "unknown encoder output %d", (int)what);
    for (uint32_t i = 0; i < n_seqs; i++) {
        if (lens[i] == 0 || lens[i] > s->max_seq)
            return slm_errorf(err, lens[i] ? SLM_ERR_CONTEXT : SLM_ERR_INVALID,
                              "sequence %u has %u tokens (this model takes 1 to %u)", i, lens[i],
                              s->max_seq);
        for (uint32_t p = 0; p < lens[i]; p++)
            if (ids[i][p] < 0 || (uint32_t)ids[i][p] >= n_vocab)
                return slm_errorf(err, SLM_ERR_INVALID, "token id %d is outside the vocabulary "
                                  "(0..%u)", ids[i][p], n_vocab - 1);
    }
    return 0;
}

int encoder_forward(slm_forward_ctx *ctx, slm_pool *pool, uint32_t n_seqs,
                    const int32_t *const *ids, const uint32_t *lens,
                    enum slm_encode_output what, float *out, slm_error *err)
{
    struct encoder_scratch *s = slm_forward_ctx_encoder_scratch(ctx);
    const struct encoder_model *e = encoder_of(s->m);
    int r = check_input(s, n_seqs, ids, lens, what, err);
    if (r < 0 || (r = ensure_thread_scratch(s, pool, err)) < 0)
        return r;
    for (uint32_t first = 0; first < n_seqs;) {
        /* as many whole sequences as fit in one pass */
        s->n_seqs = 0;
        s->n_tokens = 0;
        size_t n_out = 0;
        while (first + s->n_seqs < n_seqs &&
               s->n_tokens + lens[first + s->n_seqs] <= s->capacity) {
            uint32_t len = lens[first + s->n_seqs];
            s->seq_start[s->n_seqs] = s->n_tokens;
            s->seq_len[s->n_seqs] = len;
            s->n_tokens += len;
            n_out += output_floats(s->m, what, len);
            s->n_seqs++;
        }
        embed(s, ids + first);
        for (uint32_t l = 0; l < e->hp.n_layer; l++) {
            attention_block(s, pool, l);
            ffn_block(s, pool, l);
        }
        write_outputs(s, pool, what, out);
        out += n_out;
        first += s->n_seqs;
    }
    return 0;
}
