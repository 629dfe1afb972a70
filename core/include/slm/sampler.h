/* Choosing the next token from logits: repetition penalties, then greedy (temperature 0)
 * or top-k → temperature → softmax → top-p → min-p → a draw from a seeded generator. */
#ifndef SLM_SAMPLER_H
#define SLM_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "slm/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sampling settings. A field left at its "unset" value (negative numbers, NAN penalties,
 * has_seed false) takes the model's configured default, then slmd's built-in default. */
struct slm_sampling {
    float temperature;       /* 0 = greedy; unset < 0 */
    int32_t top_k;           /* 0 = off; unset < 0 */
    float top_p;             /* 1 = off; unset < 0 */
    float min_p;             /* 0 = off; unset < 0 */
    float repeat_penalty;    /* 1 = off; unset < 0 */
    int32_t repeat_last_n;   /* tokens the penalties look back over; unset < 0 */
    float frequency_penalty; /* 0 = off; NAN = unset */
    float presence_penalty;  /* 0 = off; NAN = unset */
    bool has_seed;
    uint64_t seed;
};
/* All fields unset. */
void slm_sampling_unset(struct slm_sampling *s);
/* Fills every unset field of `s` from `fallback` (which may itself have unset fields). */
void slm_sampling_merge(struct slm_sampling *s, const struct slm_sampling *fallback);
/* Fills every still-unset field with slmd's defaults (temperature 0.8, top_k 40,
 * top_p 0.95, min_p 0.05, penalties off, repeat_last_n 64, seed from the system). */
void slm_sampling_resolve(struct slm_sampling *s);
/* SLM_ERR_INVALID naming the field when a value is out of range (temperature 0..100,
 * top_k 0..1e6, top_p and min_p 0..1, repeat_penalty 0.01..100, penalties -100..100,
 * repeat_last_n 0..1e6). Unset fields pass. */
int slm_sampling_validate(const struct slm_sampling *s, slm_error *err);

typedef struct slm_sampler slm_sampler;

/* `s` must be resolved. */
slm_sampler *slm_sampler_new(const struct slm_sampling *s, uint32_t n_vocab, slm_error *err);
void slm_sampler_free(slm_sampler *smp);
/* Records a token of the context (prompt or generated) for the penalties. */
void slm_sampler_accept(slm_sampler *smp, int32_t token);
/* Picks a token; `logits` (n_vocab) is used as scratch and modified. */
int32_t slm_sampler_sample(slm_sampler *smp, float *logits);

#ifdef __cplusplus
}
#endif
#endif
