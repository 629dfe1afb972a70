/* Bidirectional self-attention of the encoder, threaded over (sequence, head) pairs:
 *
 *   attn[i, h] = sum_j softmax_j(q[i, h] . k[j, h] / sqrt(hd)) v[j, h]
 *
 * for tokens i, j of the same sequence. With OpenBLAS each pair is two small sgemm calls
 * (scores = Q K^T over the whole sequence, then scores V), reading the head's columns in
 * place through the leading dimension; without it, dot products and axpys per query. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "encoder_internal.h"
#include "kernels/kernels.h"

#ifdef SLM_HAVE_BLAS
#include <cblas.h>

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
/* The pool already runs one product per thread; OpenBLAS's own threads would fight it. */
static void blas_single_threaded(void) { openblas_set_num_threads(1); }
#endif

struct attention_job {
    struct encoder_scratch *s;
    const float *bq, *bk, *bv;
    uint32_t n_head, head_dim, d;
    struct slm_work work;
};

size_t encoder_attention_scores_size(uint32_t max_seq)
{
#ifdef SLM_HAVE_BLAS
    return (size_t)max_seq * max_seq; /* a whole score matrix */
#else
    return max_seq; /* one query's row */
#endif
}

/* The projections' biases, on the columns of head h for the tokens of one sequence: no
 * other work item touches them. */
static void add_head_bias(float *x, const float *b, uint32_t len, uint32_t d, uint32_t hd)
{
    if (!b)
        return;
    for (uint32_t t = 0; t < len; t++)
        for (uint32_t i = 0; i < hd; i++)
            x[(size_t)t * d + i] += b[i];
}

static void attend(const struct attention_job *j, float *scores, uint32_t seq, uint32_t h)
{
    const struct encoder_scratch *s = j->s;
    const struct slm_vec_ops *ops = slm_ops();
    const uint32_t d = j->d, hd = j->head_dim, len = s->seq_len[seq];
    const size_t first = (size_t)s->seq_start[seq] * d + (size_t)h * hd;
    float *q = s->q + first, *k = s->k + first, *v = s->v + first;
    float *out = s->attn + first;
    const float scale = 1.0f / sqrtf((float)hd);
    add_head_bias(q, j->bq ? j->bq + (size_t)h * hd : NULL, len, d, hd);
    add_head_bias(k, j->bk ? j->bk + (size_t)h * hd : NULL, len, d, hd);
    add_head_bias(v, j->bv ? j->bv + (size_t)h * hd : NULL, len, d, hd);
#ifdef SLM_HAVE_BLAS
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)len, (int)len, (int)hd, scale, q,
                (int)d, k, (int)d, 0.0f, scores, (int)len);
    for (uint32_t i = 0; i < len; i++)
        ops->softmax(scores + (size_t)i * len, (int)len);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)len, (int)hd, (int)len, 1.0f,
                scores, (int)len, v, (int)d, 0.0f, out, (int)d);
#else
    for (uint32_t i = 0; i < len; i++) {
        for (uint32_t t = 0; t < len; t++)
            scores[t] = ops->dot_f32(q + (size_t)i * d, k + (size_t)t * d, (int)hd) * scale;
        ops->softmax(scores, (int)len);
        float *o = out + (size_t)i * d;
        memset(o, 0, hd * sizeof(float));
        for (uint32_t t = 0; t < len; t++)
            ops->axpy_f32(o, scores[t], v + (size_t)t * d, (int)hd);
    }
#endif
}

static void attention_worker(void *ctx, int ith, int nth)
{
    struct attention_job *j = ctx;
    float *scores = j->s->scores + (size_t)ith * j->s->scores_per_thread;
    const int64_t total = (int64_t)j->s->n_seqs * j->n_head;
    for (;;) {
        int64_t item = slm_work_next(&j->work, 1);
        if (item >= total)
            break;
        attend(j, scores, (uint32_t)(item / j->n_head), (uint32_t)(item % j->n_head));
    }
}

void encoder_attention(struct encoder_scratch *s, slm_pool *pool, const float *bq,
                       const float *bk, const float *bv)
{
    const struct encoder_hparams *hp = &encoder_of(s->m)->hp;
#ifdef SLM_HAVE_BLAS
    pthread_once(&blas_once, blas_single_threaded);
#endif
    struct attention_job j = {.s = s, .bq = bq, .bk = bk, .bv = bv, .n_head = hp->n_head,
                              .head_dim = hp->head_dim, .d = hp->n_embd};
    /* multiply-adds of the two products, over every sequence */
    size_t work = 0;
    for (uint32_t i = 0; i < s->n_seqs; i++)
        work += (size_t)s->seq_len[i] * s->seq_len[i] * 2 * hp->n_embd;
    slm_work_reset(&j.work);
    encoder_run(pool, work, attention_worker, &j);
}
