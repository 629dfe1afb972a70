/* Encoder tasks on raw texts: tokenize (truncating to the model's maximum length), pad and
 * batch, run the encoder once for all texts, and post-process (softmax over labels, BIO
 * entity merging with byte spans, pooling and normalisation). The engine and `slm
 * classify` / `slm embed` both call these. */
#ifndef SLM_TASKS_H
#define SLM_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "slm/model.h"
#include "slm/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

struct slm_text {
    const char *text; /* UTF-8 bytes, need not be NUL-terminated */
    size_t len;
};

/* Sequence classification: probs receives n x n_labels softmax probabilities (label order
 * of the model, see slm_model_info()->labels); truncated[i] tells whether text i was cut to
 * the model's maximum length and n_tokens[i] how many tokens it ran as (both optional). */
int slm_task_classify(slm_forward_ctx *ctx, slm_pool *pool, size_t n,
                      const struct slm_text *texts, float *probs, bool *truncated,
                      uint32_t *n_tokens, slm_error *err);

struct slm_entity_span {
    const char *label; /* entity type without its B-/I- prefix ("PER"); owned by the model */
    uint32_t start;    /* byte span in the original text */
    uint32_t end;
    float score;       /* mean probability of the entity's tokens */
};

struct slm_entity_list {
    struct slm_entity_span *items;
    size_t n;
};
void slm_entity_list_free(struct slm_entity_list *list);

/* Token classification: out[i] receives the entities of text i, in text order. */
int slm_task_classify_tokens(slm_forward_ctx *ctx, slm_pool *pool, size_t n,
                             const struct slm_text *texts, struct slm_entity_list *out,
                             bool *truncated, uint32_t *n_tokens, slm_error *err);

/* Embeddings: out receives n x n_embd floats, pooled as the model says (mean when it does
 * not say) and L2-normalised when `normalize` or when the model's own config asks. */
int slm_task_embed(slm_forward_ctx *ctx, slm_pool *pool, size_t n, const struct slm_text *texts,
                   bool normalize, float *out, bool *truncated, uint32_t *n_tokens,
                   slm_error *err);

#ifdef __cplusplus
}
#endif
#endif
