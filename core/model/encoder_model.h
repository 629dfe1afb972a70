/* BERT-family encoders (BERT, DistilBERT, GGUF `bert`): hyper-parameters and weights, in
 * the spirit of llama2.c's Config / TransformerWeights. The loaders (encoder_gguf.c,
 * hf_load.c) fill these; encoder_forward.c runs them.
 *
 * d = n_embd, ff = n_ff, V = n_vocab, P = n_pos. A weight "a -> b" is a matrix of b rows
 * of a elements (PyTorch's Linear layout), used through slm_matmul. */
#ifndef SLM_MODEL_ENCODER_MODEL_H
#define SLM_MODEL_ENCODER_MODEL_H

#include "model_internal.h"

enum encoder_activation {
    ENCODER_ACT_GELU = 0,  /* 0.5 x (1 + erf(x / sqrt 2)) */
    ENCODER_ACT_GELU_TANH, /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    ENCODER_ACT_RELU,
};

/* What turns the [CLS] hidden state into the sequence classifier's input. */
enum encoder_pooler {
    ENCODER_POOLER_NONE = 0,
    ENCODER_POOLER_TANH, /* BERT: tanh(h W + b) */
    ENCODER_POOLER_RELU, /* DistilBERT's pre_classifier: relu(h W + b) */
};

struct encoder_hparams {
    uint32_t n_embd, n_layer, n_head, head_dim, n_ff;
    uint32_t n_vocab, n_pos, n_token_types; /* n_token_types 0: no token-type embedding */
    float eps;                              /* every LayerNorm */
    enum encoder_activation act;
};

/* One post-LN block:
 *   x = LN(x + (softmax(q k^T / sqrt(hd)) v) Wo + bo)
 *   x = LN(x + act(x Wup + bup) Wdown + bdown) */
struct encoder_layer {
    struct slm_weight wq, wk, wv; /* d -> d */
    const float *bq, *bk, *bv;    /* [d] */
    struct slm_weight wo;         /* d -> d */
    const float *bo;              /* [d] */
    const float *attn_norm_w, *attn_norm_b; /* [d] */
    struct slm_weight w_up;       /* d -> ff */
    const float *b_up;            /* [ff] */
    struct slm_weight w_down;     /* ff -> d */
    const float *b_down;          /* [d] */
    const float *out_norm_w, *out_norm_b; /* [d] */
};

struct encoder_weights {
    struct slm_weight tok_embd;  /* V rows of d (looked up, never multiplied) */
    struct slm_weight pos_embd;  /* P rows of d */
    struct slm_weight type_embd; /* n_token_types rows of d; data NULL when absent */
    const float *embd_norm_w, *embd_norm_b; /* [d] */
    struct encoder_layer *layers;           /* [n_layer] */
    enum encoder_pooler pooler;
    struct slm_weight pool_w;    /* d -> d (pooler / pre_classifier) */
    const float *pool_b;         /* [d] */
    struct slm_weight cls_w;     /* d -> n_labels */
    const float *cls_b;          /* [n_labels] */
};

struct encoder_model {
    struct encoder_hparams hp;
    struct encoder_weights w;
};

static inline struct encoder_model *encoder_of(const slm_model *m)
{
    return (struct encoder_model *)m->encoder;
}

/* Allocates the model's encoder_model (freed with the model) and its layer array. */
struct encoder_model *encoder_model_new(slm_model *m, uint32_t n_layer, slm_error *err);

/* Checks the hyper-parameters against slm/model.h's limits and fills m->info from them
 * (kind, dims, labels must already be set by the loader). */
int encoder_finish_load(slm_model *m, slm_error *err);

#endif
