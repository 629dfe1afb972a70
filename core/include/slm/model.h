/* Models: loading (GGUF files, Hugging Face directories), their description, and the
 * forward passes — batched decoding over a KV cache for decoders, batched encoding for
 * encoders. The engine (slm/engine.h) is built on this; `slm` uses it directly. */
#ifndef SLM_MODEL_H
#define SLM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "slm/pool.h"
#include "slm/tokenizer.h"
#include "slm/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_model slm_model;

enum slm_model_kind {
    SLM_MODEL_DECODER = 0, /* causal LM: generate, chat */
    SLM_MODEL_ENCODER,     /* BERT family: classify, token-classify, embed */
};

enum slm_encoder_head {
    SLM_HEAD_NONE = 0,       /* base model: hidden states / embeddings */
    SLM_HEAD_SEQUENCE_CLASS, /* one label per text */
    SLM_HEAD_TOKEN_CLASS,    /* one label per token */
};

enum slm_pooling {
    SLM_POOL_NONE = 0,
    SLM_POOL_MEAN,
    SLM_POOL_CLS,
    SLM_POOL_LAST,
    SLM_POOL_MAX, /* element-wise maximum over tokens (sentence-transformers) */
};

/* Layer counts, widths and the like beyond these are refused at load: no small model
 * comes close, and they bound what a crafted file can make us allocate. */
#define SLM_MAX_LAYERS 512
#define SLM_MAX_EMBD 65536
#define SLM_MAX_HEADS 1024
#define SLM_MAX_VOCAB 1048576
#define SLM_MAX_LABELS 4096

struct slm_model_info {
    const char *architecture; /* "llama", "phi3", "openelm", "bert", "distilbert" */
    const char *name;         /* general.name or the directory name */
    const char *path;
    enum slm_model_kind kind;
    enum slm_encoder_head head;
    enum slm_pooling pooling;
    bool normalize_embeddings; /* sentence-transformers Normalize module */
    uint32_t n_vocab;
    uint32_t n_embd;
    uint32_t n_layer;
    uint32_t n_head;    /* layer 0's for per-layer models */
    uint32_t n_head_kv; /* layer 0's */
    uint32_t head_dim;
    uint32_t n_ff;      /* layer 0's */
    uint32_t n_ctx_train;
    uint32_t n_labels;
    const char *const *labels; /* n_labels names (id2label) */
    uint64_t n_params;
    uint64_t weight_bytes;
    uint64_t bytes_per_token; /* weight bytes one decode step reads (the bandwidth bound) */
    enum slm_type weight_type; /* the most common weight matrix type */
    const char *chat_template; /* NULL if the model has none */
};

/* How model files are held in memory, for every load after the call (process-wide):
 *   SLM_WEIGHTS_PRIVATE  read into memory of the process's own, on transparent huge
 *                        pages: decode runs faster, the file may change on disk without
 *                        affecting the loaded model;
 *   SLM_WEIGHTS_MAPPED   mapped from the page cache: shared with other processes using
 *                        the same file, paged in on first use, loads at once;
 *   SLM_WEIGHTS_DEFAULT  what the environment variable SLM_WEIGHTS says (`private` or
 *                        `mapped`), else private. The initial setting. */
enum slm_weight_memory {
    SLM_WEIGHTS_DEFAULT,
    SLM_WEIGHTS_PRIVATE,
    SLM_WEIGHTS_MAPPED,
};
void slm_set_weight_memory(enum slm_weight_memory mode);
/* The setting in force: SLM_WEIGHTS_PRIVATE or SLM_WEIGHTS_MAPPED. */
enum slm_weight_memory slm_get_weight_memory(void);
const char *slm_weight_memory_name(enum slm_weight_memory mode);
/* Parses "private" or "mapped"; false for anything else. */
bool slm_weight_memory_parse(const char *text, enum slm_weight_memory *mode);

slm_model *slm_model_load(const char *path, slm_error *err);
void slm_model_free(slm_model *model);

const struct slm_model_info *slm_model_info(const slm_model *model);
const slm_tokenizer *slm_model_tokenizer(const slm_model *model);
/* True while the model's files are the ones loaded (see util/mapped_file.h). */
bool slm_model_files_intact(const slm_model *model);
/* One line per tensor type with counts and bytes, for `slm info`. */
int slm_model_describe_tensors(const slm_model *model, char **out, slm_error *err);

/* ---- decoders ---- */

typedef struct slm_kv_cache slm_kv_cache;

/* Bytes a cache of n_slots sequences of n_ctx tokens would take (for memory_limit). */
uint64_t slm_kv_cache_bytes_for(const slm_model *model, uint32_t n_slots, uint32_t n_ctx,
                                enum slm_type type);
/* type: SLM_TYPE_F16 or SLM_TYPE_F32 (SLM_TYPE_Q8_0 where supported). */
slm_kv_cache *slm_kv_cache_new(const slm_model *model, uint32_t n_slots, uint32_t n_ctx,
                               enum slm_type type, slm_error *err);
void slm_kv_cache_free(slm_kv_cache *kv);
uint32_t slm_kv_cache_n_ctx(const slm_kv_cache *kv);
uint32_t slm_kv_cache_n_slots(const slm_kv_cache *kv);
uint64_t slm_kv_cache_bytes(const slm_kv_cache *kv);
/* Copies the first n positions of slot src into slot dst (prompt-cache reuse). */
int slm_kv_cache_copy_prefix(slm_kv_cache *kv, uint32_t src, uint32_t dst, uint32_t n);

/* Tokens of several sequences in one forward pass. Token i belongs to KV slot slot[i] at
 * position pos[i]; tokens of one slot appear in increasing position order, and positions
 * before a slot's first token in the batch must already be in the cache. */
struct slm_batch {
    uint32_t n_tokens;
    const int32_t *tokens;
    const uint32_t *pos;
    const uint32_t *slot;
    const bool *want_logits; /* NULL: only the last token of the batch */
};

/* Scratch memory for forward passes of up to max_tokens tokens at once. One per thread
 * that runs forward passes (the engine's scheduler). */
typedef struct slm_forward_ctx slm_forward_ctx;
slm_forward_ctx *slm_forward_ctx_new(const slm_model *model, uint32_t max_tokens,
                                     slm_error *err);
void slm_forward_ctx_free(slm_forward_ctx *ctx);

/* Lets a long forward pass stop early: `should_abort` is polled between the matrix
 * products of the pass; when it returns true the pass ends with SLM_ERR_CANCELLED and the
 * KV cache positions it was writing must be treated as unwritten. */
void slm_forward_ctx_set_abort(slm_forward_ctx *ctx, bool (*should_abort)(void *), void *ud);

/* Runs the batch; writes n_vocab logits per token that wants them, in batch order, to
 * `logits`. SLM_ERR_CONTEXT when a position is past the cache. */
int slm_decode(slm_forward_ctx *ctx, slm_kv_cache *kv, slm_pool *pool,
               const struct slm_batch *batch, float *logits, slm_error *err);

/* ---- encoders ---- */

enum slm_encode_output {
    SLM_ENCODE_HIDDEN = 0, /* n_tokens x n_embd last hidden state */
    SLM_ENCODE_POOLED,     /* n_embd, pooled (and normalised if the model says so) */
    SLM_ENCODE_LOGITS,     /* head output: n_labels, or n_tokens x n_labels */
};

/* Encodes n_seqs sequences (ids[s], lens[s]) in one padded batch; out receives each
 * sequence's output back to back. */
int slm_encode(slm_forward_ctx *ctx, slm_pool *pool, uint32_t n_seqs,
               const int32_t *const *ids, const uint32_t *lens, enum slm_encode_output what,
               float *out, slm_error *err);

#ifdef __cplusplus
}
#endif
#endif
