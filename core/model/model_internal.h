/* What a loaded model holds. Like llama2.c's Config / TransformerWeights / RunState, the
 * hyper-parameters, the weights (pointers into the mapped file, every one commented with
 * its shape) and the scratch state of a forward pass are three separate structs. */
#ifndef SLM_MODEL_INTERNAL_H
#define SLM_MODEL_INTERNAL_H

#include "kernels/matmul.h"
#include "slm/gguf.h"
#include "slm/model.h"

struct slm_arch;

/* A decoder layer. d = n_embd, hd = head_dim, nq = n_head * hd, nkv = n_head_kv * hd. */
struct decoder_layer {
    uint32_t n_head, n_head_kv, n_ff;
    const float *attn_norm; /* [d] */
    struct slm_weight wq;   /* d -> nq   (absent when wqkv is used) */
    struct slm_weight wk;   /* d -> nkv */
    struct slm_weight wv;   /* d -> nkv */
    struct slm_weight wqkv; /* d -> nq + 2 nkv, rows q, then k, then v (phi3, openelm) */
    const float *bq, *bk, *bv; /* optional biases [nq], [nkv], [nkv] */
    const float *q_norm;    /* [hd] RMS norm per head before RoPE (openelm), or NULL */
    const float *k_norm;    /* [hd] */
    struct slm_weight wo;   /* nq -> d */
    const float *ffn_norm;  /* [d] */
    struct slm_weight w_gate;    /* d -> ff */
    struct slm_weight w_up;      /* d -> ff */
    struct slm_weight w_gate_up; /* d -> 2 ff, gate rows first (phi3) */
    struct slm_weight w_down;    /* ff -> d */
};

struct decoder_hparams {
    uint32_t n_embd, n_layer, n_vocab, head_dim, n_rot;
    uint32_t n_ctx_train;
    uint32_t n_ctx_orig;      /* LongRoPE: original context (phi3 128k) */
    uint32_t sliding_window;  /* 0 = none; else attend to the last `sliding_window` tokens */
    uint32_t max_n_head, max_n_head_kv, max_n_ff; /* over layers (openelm varies them) */
    float rms_eps;
    float rope_base;
    float rope_attn_factor; /* scales cos/sin (LongRoPE) */
    bool rope_neox;         /* rotate halves (neox) instead of adjacent pairs */
};

struct decoder_weights {
    struct slm_weight tok_embd; /* d x n_vocab rows */
    const float *output_norm;   /* [d] */
    struct slm_weight output;   /* d -> n_vocab (tok_embd when tied) */
    const float *rope_short;    /* [n_rot/2] LongRoPE frequency divisors, or NULL */
    const float *rope_long;
    struct decoder_layer *layers; /* [n_layer] */
};

/* Float copies the model owns (norm weights stored as F16 in a file, labels ...). */
struct owned_block {
    struct owned_block *next;
    max_align_t align;
    unsigned char data[];
};

struct slm_model {
    struct slm_model_info info;
    const struct slm_arch *arch;
    char *path;
    char *name;
    char *chat_template;
    slm_gguf *gguf; /* NULL for Hugging Face directories */
    slm_tokenizer *tok;
    struct owned_block *owned;
    struct decoder_hparams hp;
    struct decoder_weights w;
    void *encoder; /* encoder models: their own weights (core/model/encoder*.c) */
    void (*encoder_free)(void *encoder);
    /* Files that must stay intact while the model is used (besides gguf's own). */
    struct slm_mapped_file *files[4];
    unsigned n_files;
    /* Tensors regrouped in place (model_load.c), so that one bound twice is not moved
     * again; the GGUF copy stays writable until the load ends. */
    const void **regrouped;
    size_t n_regrouped;
    bool gguf_writable;
};

/* One entry per supported architecture: how to bind a GGUF file's tensors and metadata,
 * and which forward pass runs it. */
struct slm_arch {
    const char *name;
    enum slm_model_kind kind;
    int (*load_gguf)(slm_model *m, slm_error *err);
};
const struct slm_arch *slm_arch_find(const char *name);
/* "llama, phi3, openelm, bert" for error messages. */
const char *slm_arch_names(void);

/* ---- helpers for loaders (model_load.c) ---- */

/* Allocates n bytes freed with the model. */
void *model_alloc(slm_model *m, size_t n);
char *model_strdup(slm_model *m, const char *s);

/* Binds a 2-D weight "name" of shape [n_in] x n_out rows. Absent and !required: zeroed
 * weight, returns 0. Wrong shape or a type with no dot kernel: error naming both. */
int model_weight(slm_model *m, const char *name, int64_t n_in, int64_t n_out, bool required,
                 struct slm_weight *w, slm_error *err);
/* A 1-D float vector of n elements (F32 used in place; F16/BF16 converted to an owned
 * copy). Absent and !required: *out = NULL, returns 0. */
int model_vector(slm_model *m, const char *name, int64_t n, bool required, const float **out,
                 slm_error *err);
/* "blk.%u.attn_q.weight" style names. */
const char *tensor_name(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Architectures (their files). */
int llama_load_gguf(slm_model *m, slm_error *err);
int phi3_load_gguf(slm_model *m, slm_error *err);
int openelm_load_gguf(slm_model *m, slm_error *err);
int bert_load_gguf(slm_model *m, slm_error *err);
int hf_model_load(slm_model *m, const char *dir, slm_error *err);

/* Forward passes. */
int decoder_forward(slm_forward_ctx *ctx, slm_kv_cache *kv, slm_pool *pool,
                    const struct slm_batch *batch, float *logits, slm_error *err);
int encoder_forward(slm_forward_ctx *ctx, slm_pool *pool, uint32_t n_seqs,
                    const int32_t *const *ids, const uint32_t *lens,
                    enum slm_encode_output what, float *out, slm_error *err);
/* Scratch for encoders (allocated by slm_forward_ctx_new for encoder models). */
void *encoder_scratch_new(const slm_model *m, uint32_t max_tokens, slm_error *err);
void encoder_scratch_free(void *scratch);
void *slm_forward_ctx_encoder_scratch(slm_forward_ctx *c);
const slm_model *slm_forward_ctx_model(const slm_forward_ctx *c);

#endif
