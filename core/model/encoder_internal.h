/* The encoder's forward-pass state and the threaded pieces it is built from. */
#ifndef SLM_MODEL_ENCODER_INTERNAL_H
#define SLM_MODEL_ENCODER_INTERNAL_H

#include "encoder_model.h"

/* Scratch of one forward context: activations for `capacity` tokens, laid out as the
 * sequences of the current pass back to back (sequence i at rows seq_start[i] ..
 * seq_start[i] + seq_len[i] - 1). */
struct encoder_scratch {
    const slm_model *m;
    uint32_t capacity; /* tokens per pass */
    uint32_t max_seq;  /* longest sequence accepted */
    float *x;          /* [capacity][d] residual stream */
    float *q, *k, *v;  /* [capacity][d]; q doubles as the sub-layer output */
    float *attn;       /* [capacity][d] attention output (heads side by side) */
    float *ff;         /* [capacity][max(ff, d)] */
    float *scores;     /* per thread: encoder_attention_scores_size(max_seq) floats */
    size_t scores_per_thread;
    int scores_threads;
    struct slm_matmul_scratch mm;
    bool mm_ready;
    /* the current pass */
    uint32_t n_seqs, n_tokens;
    uint32_t *seq_start, *seq_len; /* [capacity] */
};

/* Runs fn on the pool's threads, or on this one when pool is NULL or the step (`work`
 * elements) is too small to be worth waking them. */
void encoder_run(slm_pool *pool, size_t work, slm_pool_fn fn, void *ctx);

/* x = LN(x + y + b) row by row, with LayerNorm weight w and bias nb. */
void encoder_residual_norm(struct encoder_scratch *s, slm_pool *pool, const float *y,
                           const float *b, const float *w, const float *nb);
/* y = act(y + b) over n_tokens rows of `width`. */
void encoder_bias_activation(struct encoder_scratch *s, slm_pool *pool, float *y,
                             const float *b, uint32_t width, enum encoder_activation act);
void encoder_l2_normalize(float *v, uint32_t n);

/* q += bq, k += bk, v += bv (NULL biases skipped), then
 * attn = softmax(q k^T / sqrt(hd)) v for every (sequence, head) of the pass. */
size_t encoder_attention_scores_size(uint32_t max_seq);
void encoder_attention(struct encoder_scratch *s, slm_pool *pool, const float *bq,
                       const float *bk, const float *bv);

#endif
