/* KV cache internals shared with the forward pass. */
#ifndef SLM_MODEL_KV_CACHE_H
#define SLM_MODEL_KV_CACHE_H

#include "model_internal.h"

/* Sequences per cache and tokens per sequence: far above what a gateway runs, and low
 * enough that size arithmetic stays well inside 64 bits. */
#define SLM_KV_MAX_SLOTS 256u
#define SLM_KV_MAX_CTX (1u << 20)

struct kv_layer {
    size_t k_off, v_off; /* byte offsets of this layer's K and V planes */
    size_t row_bytes;    /* one position of one slot: n_head_kv * head_dim elements */
};

struct slm_kv_cache {
    const slm_model *model;
    enum slm_type type; /* F16 or F32 */
    uint32_t n_slots, n_ctx;
    struct kv_layer *layers;
    uint8_t *data;
    size_t bytes;
};

static inline void *kv_k_row(const slm_kv_cache *kv, uint32_t l, uint32_t slot, uint32_t pos)
{
    const struct kv_layer *L = &kv->layers[l];
    return kv->data + L->k_off + ((size_t)slot * kv->n_ctx + pos) * L->row_bytes;
}

static inline void *kv_v_row(const slm_kv_cache *kv, uint32_t l, uint32_t slot, uint32_t pos)
{
    const struct kv_layer *L = &kv->layers[l];
    return kv->data + L->v_off + ((size_t)slot * kv->n_ctx + pos) * L->row_bytes;
}

void slm_kv_cache_release_slot(slm_kv_cache *kv, uint32_t slot);

#endif
