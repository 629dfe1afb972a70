/* The forward pass of the llama-family decoders (llama, phi3, openelm), for a batch of
 * tokens from any number of sequences.
 *
 *   x = embed(tokens)
 *   for each layer:
 *       h = rmsnorm(x) * attn_norm
 *       q, k, v = h Wq, h Wk, h Wv          (or one fused Wqkv)
 *       q, k = rmsnorm per head (openelm); rope(q, k, pos)
 *       cache k, v at (slot, pos); a = softmax(q K^T / sqrt(hd)) V over the slot's positions
 *       x += a Wo
 *       h = rmsnorm(x) * ffn_norm
 *       x += (silu(h Wgate) * h Wup) Wdown   (gate and up fused in phi3)
 *   logits = (rmsnorm(x) * output_norm) Wout  for the tokens that want them
 *
 * Speed lives in the matmul kernels and the threaded attention below, not here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kv_cache.h"
#include "model_internal.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "util/checked.h"

struct slm_forward_ctx {
    const slm_model *m;
    uint32_t max_tokens;
    /* activations, [max_tokens][width] */
    float *x;    /* residual stream, n_embd */
    float *h;    /* normed input of a sub-layer, n_embd */
    float *q;    /* n_head * hd */
    float *k;    /* n_head_kv * hd */
    float *v;    /* n_head_kv * hd */
    float *qkv;  /* fused projection output, nq + 2 nkv */
    float *attn; /* attention output, n_head * hd */
    float *ff1;  /* gate (or gate|up fused), up to 2 n_ff */
    float *ff2;  /* up, n_ff */
    float *rope_cos, *rope_sin; /* [max_tokens][n_rot / 2] */
    float *inv_freq;            /* [n_rot / 2] */
    float *scores;              /* per thread: n_ctx attention weights */
    size_t scores_ctx;
    int scores_threads;
    struct slm_matmul_scratch mm;
    bool mm_ready;
    bool (*should_abort)(void *);
    void *abort_ud;
    bool aborted; /* set once should_abort said so; the rest of the pass is skipped */
    void *encoder_scratch;
};

static void *alloc_floats(size_t n_rows, size_t width, bool *ok)
{
    size_t n;
    if (slm_mul_size(n_rows, width, &n) || slm_mul_size(n, sizeof(float), &n)) {
        *ok = false;
        return NULL;
    }
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) {
        *ok = false;
        return NULL;
    }
    return p;
}

slm_forward_ctx *slm_forward_ctx_new(const slm_model *m, uint32_t max_tokens, slm_error *err)
{
    if (max_tokens == 0 || max_tokens > 65536) {
        slm_errorf(err, SLM_ERR_INVALID, "forward batch of %u tokens is out of range",
                   max_tokens);
        return NULL;
    }
    slm_forward_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->m = m;
    c->max_tokens = max_tokens;
    if (m->info.kind == SLM_MODEL_ENCODER) {
        c->encoder_scratch = encoder_scratch_new(m, max_tokens, err);
        if (!c->encoder_scratch) {
            free(c);
            return NULL;
        }
        return c;
    }
    const struct decoder_hparams *hp = &m->hp;
    size_t nq = (size_t)hp->max_n_head * hp->head_dim;
    size_t nkv = (size_t)hp->max_n_head_kv * hp->head_dim;
    bool ok = true;
    c->x = alloc_floats(max_tokens, hp->n_embd, &ok);
    c->h = alloc_floats(max_tokens, hp->n_embd, &ok);
    c->q = alloc_floats(max_tokens, nq, &ok);
    c->k = alloc_floats(max_tokens, nkv, &ok);
    c->v = alloc_floats(max_tokens, nkv, &ok);
    c->qkv = alloc_floats(max_tokens, nq + 2 * nkv, &ok);
    c->attn = alloc_floats(max_tokens, nq, &ok);
    c->ff1 = alloc_floats(max_tokens, 2 * (size_t)hp->max_n_ff, &ok);
    c->ff2 = alloc_floats(max_tokens, hp->max_n_ff, &ok);
    c->rope_cos = alloc_floats(max_tokens, hp->n_rot / 2 + 1, &ok);
    c->rope_sin = alloc_floats(max_tokens, hp->n_rot / 2 + 1, &ok);
    c->inv_freq = alloc_floats(1, hp->n_rot / 2 + 1, &ok);
    if (!ok) {
        slm_forward_ctx_free(c);
        slm_errorf(err, SLM_ERR_NOMEM, "forward pass of %u tokens: out of memory", max_tokens);
        return NULL;
    }
    return c;
}

void slm_forward_ctx_free(slm_forward_ctx *c)
{
    if (!c)
        return;
    if (c->encoder_scratch)
        encoder_scratch_free(c->encoder_scratch);
    free(c->x);
    free(c->h);
    free(c->q);
    free(c->k);
    free(c->v);
    free(c->qkv);
    free(c->attn);
    free(c->ff1);
    free(c->ff2);
    free(c->rope_cos);
    free(c->rope_sin);
    free(c->inv_freq);
    free(c->scores);
    if (c->mm_ready)
        slm_matmul_scratch_deinit(&c->mm);
    free(c);
}

/* ---- small pieces ---- */

void slm_forward_ctx_set_abort(slm_forward_ctx *c, bool (*should_abort)(void *), void *ud)
{
    c->should_abort = should_abort;
    c->abort_ud = ud;
}

static bool aborting(slm_forward_ctx *c)
{
    if (!c->aborted && c->should_abort && c->should_abort(c->abort_ud))
        c->aborted = true;
    return c->aborted;
}

static void linear(slm_forward_ctx *c, slm_pool *pool, const struct slm_weight *w,
                   const float *x, uint32_t n, float *y)
{
    if (aborting(c))
        return;
    /* cannot fail: the scratch was sized for the model's widest input and the batch */
    slm_matmul(pool, w, x, (int)n, y, &c->mm, NULL);
}

/* Several projections of the same input in one pass over the pool (q, k, v; gate, up). */
static void linear_many(slm_forward_ctx *c, slm_pool *pool, const struct slm_weight *const w[],
                        int count, const float *x, uint32_t n, float *const y[])
{
    if (aborting(c))
        return;
    slm_matmul_many(pool, w, count, x, (int)n, y, &c->mm, NULL);
}

/* Sizes the matmul scratch for this pool (its per-thread buffers depend on the count). */
static int ensure_matmul_scratch(slm_forward_ctx *c, slm_pool *pool, slm_error *err)
{
    int threads = slm_pool_size(pool);
    if (c->mm_ready && c->mm.threads >= threads)
        return 0;
    if (c->mm_ready)
        slm_matmul_scratch_deinit(&c->mm);
    c->mm_ready = false;
    const struct decoder_hparams *hp = &c->m->hp;
    int64_t widest = hp->n_embd;
    int64_t nq = (int64_t)hp->max_n_head * hp->head_dim;
    if (nq > widest)
        widest = nq;
    if ((int64_t)hp->max_n_ff > widest)
        widest = hp->max_n_ff;
    if (slm_matmul_scratch_init(&c->mm, widest, (int)c->max_tokens, threads, err) < 0)
        return -(int)err->status;
    c->mm_ready = true;
    return 0;
}

static void add_bias(float *y, const float *b, uint32_t n_rows, uint32_t width)
{
    if (!b)
        return;
    for (uint32_t t = 0; t < n_rows; t++)
        for (uint32_t i = 0; i < width; i++)
            y[(size_t)t * width + i] += b[i];
}

/* Frequencies of the rotary embedding, with LongRoPE's per-dimension divisors: the long
 * factors when the sequence context exceeds the original training context. */
static void rope_setup(slm_forward_ctx *c, const slm_kv_cache *kv)
{
    const slm_model *m = c->m;
    const struct decoder_hparams *hp = &m->hp;
    const float *factors = m->w.rope_short;
    if (m->w.rope_long && hp->n_ctx_orig && kv->n_ctx > hp->n_ctx_orig)
        factors = m->w.rope_long;
    for (uint32_t i = 0; i < hp->n_rot / 2; i++) {
        float f = powf(hp->rope_base, -2.0f * (float)i / (float)hp->n_rot);
        c->inv_freq[i] = factors ? f / factors[i] : f;
    }
}

static void rope_tables(slm_forward_ctx *c, const struct slm_batch *b)
{
    const struct decoder_hparams *hp = &c->m->hp;
    uint32_t half = hp->n_rot / 2;
    for (uint32_t t = 0; t < b->n_tokens; t++) {
        for (uint32_t i = 0; i < half; i++) {
            float theta = (float)b->pos[t] * c->inv_freq[i];
            c->rope_cos[(size_t)t * half + i] = cosf(theta) * hp->rope_attn_factor;
            c->rope_sin[(size_t)t * half + i] = sinf(theta) * hp->rope_attn_factor;
        }
    }
}

/* Rotates the first n_rot dims of each of n_heads heads of one token. */
static void rope_apply(const struct decoder_hparams *hp, float *vec, uint32_t n_heads,
                       const float *cs, const float *sn)
{
    uint32_t half = hp->n_rot / 2;
    for (uint32_t h = 0; h < n_heads; h++) {
        float *x = vec + (size_t)h * hp->head_dim;
        for (uint32_t i = 0; i < half; i++) {
            uint32_t a = hp->rope_neox ? i : 2 * i;
            uint32_t b = hp->rope_neox ? i + half : 2 * i + 1;
            float x0 = x[a], x1 = x[b];
            x[a] = x0 * cs[i] - x1 * sn[i];
            x[b] = x0 * sn[i] + x1 * cs[i];
        }
    }
}

/* ---- attention, threaded over (token, head) ---- */

/* One head's slice of a cached row, whatever the cache type. */
static const void *head_slice(const slm_kv_cache *kv, const void *row, uint32_t kvh,
                              uint32_t hd)
{
    switch (kv->type) {
    case SLM_TYPE_F16: return (const uint16_t *)row + (size_t)kvh * hd;
    case SLM_TYPE_Q8_0: return (const block_q8_0 *)row + (size_t)kvh * hd / QK8_0;
    default: return (const float *)row + (size_t)kvh * hd;
    }
}

static float dot_q8_0_f32(const block_q8_0 *k, const float *q, uint32_t n)
{
    float sum = 0;
    for (uint32_t b = 0; b < n / QK8_0; b++) {
        float s = 0;
        for (int i = 0; i < QK8_0; i++)
            s += q[b * QK8_0 + i] * (float)k[b].qs[i];
        sum += s * slm_fp16_to_f32(k[b].d);
    }
    return sum;
}

static void axpy_q8_0(float *out, float w, const block_q8_0 *v, uint32_t n)
{
    for (uint32_t b = 0; b < n / QK8_0; b++) {
        float wd = w * slm_fp16_to_f32(v[b].d);
        for (int i = 0; i < QK8_0; i++)
            out[b * QK8_0 + i] += wd * (float)v[b].qs[i];
    }
}

static float kv_dot(const slm_kv_cache *kv, const void *k, const float *q, uint32_t hd)
{
    switch (kv->type) {
    case SLM_TYPE_F16: return slm_ops()->dot_f16_f32(k, q, (int)hd);
    case SLM_TYPE_Q8_0: return dot_q8_0_f32(k, q, hd);
    default: return slm_ops()->dot_f32(k, q, (int)hd);
    }
}

static void kv_axpy(const slm_kv_cache *kv, float *out, float w, const void *v, uint32_t hd)
{
    switch (kv->type) {
    case SLM_TYPE_F16: slm_ops()->axpy_f16(out, w, v, (int)hd); break;
    case SLM_TYPE_Q8_0: axpy_q8_0(out, w, v, hd); break;
    default: slm_ops()->axpy_f32(out, w, v, (int)hd); break;
    }
}

struct attn_job {
    slm_forward_ctx *c;
    const slm_kv_cache *kv;
    const struct slm_batch *b;
    uint32_t layer, n_head, n_head_kv;
    struct slm_work work;
};

static void attention_one(struct attn_job *j, float *scores, uint32_t t, uint32_t h)
{
    const slm_forward_ctx *c = j->c;
    const struct decoder_hparams *hp = &c->m->hp;
    const uint32_t hd = hp->head_dim;
    const uint32_t slot = j->b->slot[t], pos = j->b->pos[t];
    const uint32_t kvh = h / (j->n_head / j->n_head_kv);
    const float *q = c->q + (size_t)t * j->n_head * hd + (size_t)h * hd;
    float *out = c->attn + (size_t)t * j->n_head * hd + (size_t)h * hd;
    const float scale = 1.0f / sqrtf((float)hd);
    uint32_t first = 0;
    if (hp->sliding_window && pos >= hp->sliding_window)
        first = pos - hp->sliding_window + 1;
    for (uint32_t p = first; p <= pos; p++) {
        const void *k = head_slice(j->kv, kv_k_row(j->kv, j->layer, slot, p), kvh, hd);
        scores[p - first] = kv_dot(j->kv, k, q, hd) * scale;
    }
    uint32_t n = pos - first + 1;
    slm_ops()->softmax(scores, (int)n);
    memset(out, 0, hd * sizeof(float));
    for (uint32_t p = first; p <= pos; p++) {
        const void *v = head_slice(j->kv, kv_v_row(j->kv, j->layer, slot, p), kvh, hd);
        kv_axpy(j->kv, out, scores[p - first], v, hd);
    }
}

static void attention_worker(void *p, int ith, int nth)
{
    struct attn_job *j = p;
    float *scores = j->c->scores + (size_t)ith * j->c->scores_ctx;
    const int64_t total = (int64_t)j->b->n_tokens * j->n_head;
    for (;;) {
        int64_t item = slm_work_next(&j->work, 1);
        if (item >= total)
            break;
        attention_one(j, scores, (uint32_t)(item / j->n_head), (uint32_t)(item % j->n_head));
    }
}

static int ensure_scores(slm_forward_ctx *c, const slm_kv_cache *kv, slm_pool *pool,
                         slm_error *err)
{
    int threads = slm_pool_size(pool);
    if (c->scores && c->scores_ctx >= kv->n_ctx && c->scores_threads >= threads)
        return 0;
    free(c->scores);
    bool ok = true;
    c->scores = alloc_floats((size_t)threads, kv->n_ctx, &ok);
    if (!ok)
        return slm_errorf(err, SLM_ERR_NOMEM, "attention scratch: out of memory");
    c->scores_ctx = kv->n_ctx;
    c->scores_threads = threads;
    return 0;
}

/* ---- one layer ---- */

static void store_kv(slm_forward_ctx *c, slm_kv_cache *kv, const struct slm_batch *b,
                     uint32_t l, uint32_t nkv)
{
    const struct slm_vec_ops *ops = slm_ops();
    for (uint32_t t = 0; t < b->n_tokens; t++) {
        void *kd = kv_k_row(kv, l, b->slot[t], b->pos[t]);
        void *vd = kv_v_row(kv, l, b->slot[t], b->pos[t]);
        const float *ks = c->k + (size_t)t * nkv, *vs = c->v + (size_t)t * nkv;
        if (kv->type == SLM_TYPE_F16) {
            ops->f32_to_f16(ks, kd, nkv);
            ops->f32_to_f16(vs, vd, nkv);
        } else if (kv->type == SLM_TYPE_Q8_0) {
            const struct slm_type_traits *q8 = slm_traits(SLM_TYPE_Q8_0);
            q8->from_float(ks, kd, nkv);
            q8->from_float(vs, vd, nkv);
        } else {
            memcpy(kd, ks, nkv * sizeof(float));
            memcpy(vd, vs, nkv * sizeof(float));
        }
    }
}

static void project_qkv(slm_forward_ctx *c, slm_pool *pool, const struct decoder_layer *L,
                        uint32_t n, uint32_t nq, uint32_t nkv)
{
    if (!L->wqkv.data) {
        const struct slm_weight *w[3] = {&L->wq, &L->wk, &L->wv};
        float *const y[3] = {c->q, c->k, c->v};
        linear_many(c, pool, w, 3, c->h, n, y);
        add_bias(c->q, L->bq, n, nq);
        add_bias(c->k, L->bk, n, nkv);
        add_bias(c->v, L->bv, n, nkv);
        return;
    }
    const uint32_t width = nq + 2 * nkv;
    linear(c, pool, &L->wqkv, c->h, n, c->qkv);
    for (uint32_t t = 0; t < n; t++) {
        const float *row = c->qkv + (size_t)t * width;
        memcpy(c->q + (size_t)t * nq, row, nq * sizeof(float));
        memcpy(c->k + (size_t)t * nkv, row + nq, nkv * sizeof(float));
        memcpy(c->v + (size_t)t * nkv, row + nq + nkv, nkv * sizeof(float));
    }
}

static void attention_block(slm_forward_ctx *c, slm_kv_cache *kv, slm_pool *pool,
                            const struct slm_batch *b, uint32_t l)
{
    const slm_model *m = c->m;
    const struct decoder_hparams *hp = &m->hp;
    const struct decoder_layer *L = &m->w.layers[l];
    const struct slm_vec_ops *ops = slm_ops();
    const uint32_t n = b->n_tokens, d = hp->n_embd, hd = hp->head_dim;
    const uint32_t nq = L->n_head * hd, nkv = L->n_head_kv * hd, half = hp->n_rot / 2;

    for (uint32_t t = 0; t < n; t++)
        ops->rmsnorm(c->h + (size_t)t * d, c->x + (size_t)t * d, L->attn_norm, (int)d,
                     hp->rms_eps);
    project_qkv(c, pool, L, n, nq, nkv);
    for (uint32_t t = 0; t < n; t++) {
        float *q = c->q + (size_t)t * nq, *k = c->k + (size_t)t * nkv;
        if (L->q_norm) {
            for (uint32_t h = 0; h < L->n_head; h++)
                ops->rmsnorm(q + h * hd, q + h * hd, L->q_norm, (int)hd, hp->rms_eps);
            for (uint32_t h = 0; h < L->n_head_kv; h++)
                ops->rmsnorm(k + h * hd, k + h * hd, L->k_norm, (int)hd, hp->rms_eps);
        }
        const float *cs = c->rope_cos + (size_t)t * half, *sn = c->rope_sin + (size_t)t * half;
        rope_apply(hp, q, L->n_head, cs, sn);
        rope_apply(hp, k, L->n_head_kv, cs, sn);
    }
    store_kv(c, kv, b, l, nkv);

    struct attn_job job = {.c = c, .kv = kv, .b = b, .layer = l, .n_head = L->n_head,
                           .n_head_kv = L->n_head_kv};
    slm_work_reset(&job.work);
    slm_pool_run(pool, attention_worker, &job);

    linear(c, pool, &L->wo, c->attn, n, c->h);
    for (size_t i = 0; i < (size_t)n * d; i++)
        c->x[i] += c->h[i];
}

static void ffn_block(slm_forward_ctx *c, slm_pool *pool, uint32_t n, uint32_t l)
{
    const slm_model *m = c->m;
    const struct decoder_hparams *hp = &m->hp;
    const struct decoder_layer *L = &m->w.layers[l];
    const struct slm_vec_ops *ops = slm_ops();
    const uint32_t d = hp->n_embd, ff = L->n_ff;

    for (uint32_t t = 0; t < n; t++)
        ops->rmsnorm(c->h + (size_t)t * d, c->x + (size_t)t * d, L->ffn_norm, (int)d,
                     hp->rms_eps);
    if (L->w_gate_up.data) {
        linear(c, pool, &L->w_gate_up, c->h, n, c->ff1);
        for (uint32_t t = 0; t < n; t++) {
            const float *row = c->ff1 + (size_t)t * 2 * ff;
            ops->swiglu(c->ff2 + (size_t)t * ff, row, row + ff, (int)ff);
        }
    } else {
        const struct slm_weight *w[2] = {&L->w_gate, &L->w_up};
        float *const y[2] = {c->ff1, c->ff2};
        linear_many(c, pool, w, 2, c->h, n, y);
        ops->swiglu(c->ff2, c->ff1, c->ff2, (int)(n * ff));
    }
    linear(c, pool, &L->w_down, c->ff2, n, c->h);
    for (size_t i = 0; i < (size_t)n * d; i++)
        c->x[i] += c->h[i];
}

/* ---- the whole pass ---- */

static int check_batch(const slm_forward_ctx *c, const slm_kv_cache *kv,
                       const struct slm_batch *b, slm_error *err)
{
    if (b->n_tokens == 0 || b->n_tokens > c->max_tokens)
        return slm_errorf(err, SLM_ERR_INVALID, "batch of %u tokens (this context takes 1 to "
                          "%u)", b->n_tokens, c->max_tokens);
    if (kv->model != c->m)
        return slm_errorf(err, SLM_ERR_INVALID, "KV cache belongs to another model");
    for (uint32_t t = 0; t < b->n_tokens; t++) {
        if (b->tokens[t] < 0 || (uint32_t)b->tokens[t] >= c->m->hp.n_vocab)
            return slm_errorf(err, SLM_ERR_INVALID, "token id %d is outside the vocabulary "
                              "(0..%u)", b->tokens[t], c->m->hp.n_vocab - 1);
        if (b->slot[t] >= kv->n_slots)
            return slm_errorf(err, SLM_ERR_INVALID, "sequence slot %u does not exist",
                              b->slot[t]);
        if (b->pos[t] >= kv->n_ctx)
            return slm_errorf(err, SLM_ERR_CONTEXT, "position %u is past the context of %u "
                              "tokens", b->pos[t], kv->n_ctx);
    }
    return 0;
}

static void embed_tokens(slm_forward_ctx *c, const struct slm_batch *b)
{
    const struct slm_weight *e = &c->m->w.tok_embd;
    const struct slm_type_traits *tr = slm_traits(e->type);
    for (uint32_t t = 0; t < b->n_tokens; t++) {
        const uint8_t *row = (const uint8_t *)e->data + (size_t)b->tokens[t] * e->row_bytes;
        tr->to_float(row, c->x + (size_t)t * e->n_in, e->n_in);
    }
}

static void output_logits(slm_forward_ctx *c, slm_pool *pool, const struct slm_batch *b,
                          float *logits)
{
    const slm_model *m = c->m;
    const struct slm_vec_ops *ops = slm_ops();
    const uint32_t d = m->hp.n_embd;
    uint32_t n_out = 0;
    for (uint32_t t = 0; t < b->n_tokens; t++) {
        bool want = b->want_logits ? b->want_logits[t] : t + 1 == b->n_tokens;
        if (want)
            ops->rmsnorm(c->h + (size_t)n_out++ * d, c->x + (size_t)t * d, m->w.output_norm,
                         (int)d, m->hp.rms_eps);
    }
    if (n_out)
        linear(c, pool, &m->w.output, c->h, n_out, logits);
}

int decoder_forward(slm_forward_ctx *c, slm_kv_cache *kv, slm_pool *pool,
                    const struct slm_batch *b, float *logits, slm_error *err)
{
    int r = check_batch(c, kv, b, err);
    if (r < 0 || (r = ensure_scores(c, kv, pool, err)) < 0 ||
        (r = ensure_matmul_scratch(c, pool, err)) < 0)
        return r;
    rope_setup(c, kv);
    rope_tables(c, b);
    embed_tokens(c, b);
    c->aborted = false;
    for (uint32_t l = 0; l < c->m->hp.n_layer && !aborting(c); l++) {
        attention_block(c, kv, pool, b, l);
        ffn_block(c, pool, b->n_tokens, l);
    }
    output_logits(c, pool, b, logits);
    if (c->aborted)
        return slm_errorf(err, SLM_ERR_CANCELLED, "forward pass aborted");
    return 0;
}

int slm_decode(slm_forward_ctx *c, slm_kv_cache *kv, slm_pool *pool,
               const struct slm_batch *b, float *logits, slm_error *err)
{
    if (c->m->info.kind != SLM_MODEL_DECODER)
        return slm_errorf(err, SLM_ERR_INVALID, "%s is an encoder: it does not generate",
                          c->m->path);
    return decoder_forward(c, kv, pool, b, logits, err);
}

int slm_encode(slm_forward_ctx *c, slm_pool *pool, uint32_t n_seqs, const int32_t *const *ids,
               const uint32_t *lens, enum slm_encode_output what, float *out, slm_error *err)
{
    if (c->m->info.kind != SLM_MODEL_ENCODER)
        return slm_errorf(err, SLM_ERR_INVALID, "%s is a decoder: use generation",
                          c->m->path);
    return encoder_forward(c, pool, n_seqs, ids, lens, what, out, err);
}

void *slm_forward_ctx_encoder_scratch(slm_forward_ctx *c) { return c->encoder_scratch; }
const slm_model *slm_forward_ctx_model(const slm_forward_ctx *c) { return c->m; }
