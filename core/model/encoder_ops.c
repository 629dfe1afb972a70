/* Row-wise steps of the encoder's forward pass, shared out over the thread pool: residual
 * + LayerNorm, and the FFN's bias + activation. Each is cheap per element but runs
 * over every token of every layer, so on one thread they would cost as much as a
 * matrix product at batch sizes of a few hundred tokens. */
#include <math.h>
#include <string.h>

#include "encoder_internal.h"
#include "kernels/kernels.h"
#include "util/cleanup.h"

/* Rows per work item: small enough to balance two to eight threads over a pass of a few
 * dozen tokens, large enough that the atomic counter is noise. */
#define ROWS_PER_ITEM 4

/* Below this many elements of work a step runs on the calling thread: waking the pool
 * and meeting at its end costs a few microseconds on an idle machine (and up to a
 * scheduler tick on a busy one), about what one core needs for 32K simple float steps. */
#define POOL_MIN_WORK 32768

void encoder_run(slm_pool *pool, size_t work, slm_pool_fn fn, void *ctx)
{
    if (pool && slm_pool_size(pool) > 1 && work >= POOL_MIN_WORK)
        slm_pool_run(pool, fn, ctx);
    else
        fn(ctx, 0, 1);
}

enum row_op { ROW_RESIDUAL_NORM, ROW_BIAS_ACT };

struct row_job {
    enum row_op op;
    struct encoder_scratch *s;
    const float *y, *b, *w, *nb; /* operands as the op uses them */
    float *out;
    uint32_t width;
    enum encoder_activation act;
    struct slm_work work;
};

static void add_bias(float *row, const float *b, uint32_t n)
{
    if (b)
        for (uint32_t j = 0; j < n; j++)
            row[j] += b[j];
}

/* GELU's tanh approximation ("gelu_new"): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
static void gelu_tanh(float *x, uint32_t n)
{
    const float k = 0.7978845608028654f; /* sqrt(2/pi) */
    for (uint32_t j = 0; j < n; j++)
        x[j] = 0.5f * x[j] * (1.0f + tanhf(k * (x[j] + 0.044715f * x[j] * x[j] * x[j])));
}

static void row_op(const struct row_job *j, uint32_t t)
{
    struct encoder_scratch *s = j->s;
    const uint32_t d = encoder_of(s->m)->hp.n_embd;
    const size_t at = (size_t)t * d;
    switch (j->op) {
    case ROW_RESIDUAL_NORM: {
        float *x = s->x + at;
        const float *y = j->y + at;
        if (j->b)
            for (uint32_t i = 0; i < d; i++)
                x[i] += y[i] + j->b[i];
        else
            for (uint32_t i = 0; i < d; i++)
                x[i] += y[i];
        slm_ops()->layernorm(x, x, j->w, j->nb, (int)d, encoder_of(s->m)->hp.eps);
        break;
    }
    case ROW_BIAS_ACT: {
        float *row = j->out + (size_t)t * j->width;
        add_bias(row, j->b, j->width);
        if (j->act == ENCODER_ACT_GELU)
            slm_ops()->gelu(row, (int)j->width); /* erf GELU, as BERT defines it */
        else if (j->act == ENCODER_ACT_GELU_TANH)
            gelu_tanh(row, j->width);
        else
            for (uint32_t i = 0; i < j->width; i++)
                row[i] = fmaxf(row[i], 0.0f);
        break;
    }
    }
}

static void row_worker(void *ctx, int ith, int nth)
{
    struct row_job *j = ctx;
    const uint32_t n = j->s->n_tokens;
    for (;;) {
        int64_t t0 = slm_work_next(&j->work, ROWS_PER_ITEM);
        if (t0 >= n)
            break;
        uint32_t t1 = (uint32_t)SLM_MIN((int64_t)n, t0 + ROWS_PER_ITEM);
        for (uint32_t t = (uint32_t)t0; t < t1; t++)
            row_op(j, t);
    }
}

static void run_rows(struct row_job *j, slm_pool *pool, uint32_t width)
{
    slm_work_reset(&j->work);
    encoder_run(pool, (size_t)j->s->n_tokens * width, row_worker, j);
}

void encoder_residual_norm(struct encoder_scratch *s, slm_pool *pool, const float *y,
                           const float *b, const float *w, const float *nb)
{
    struct row_job j = {.op = ROW_RESIDUAL_NORM, .s = s, .y = y, .b = b, .w = w, .nb = nb};
    run_rows(&j, pool, encoder_of(s->m)->hp.n_embd);
}

void encoder_bias_activation(struct encoder_scratch *s, slm_pool *pool, float *y,
                             const float *b, uint32_t width, enum encoder_activation act)
{
    struct row_job j = {.op = ROW_BIAS_ACT, .s = s, .out = y, .b = b, .width = width,
                        .act = act};
    run_rows(&j, pool, width);
}

void encoder_l2_normalize(float *v, uint32_t n)
{
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += (double)v[i] * v[i];
    /* sentence-transformers divides by max(norm, 1e-12) */
    float inv = (float)(1.0 / fmax(sqrt(sum), 1e-12));
    for (uint32_t i = 0; i < n; i++)
        v[i] *= inv;
}
