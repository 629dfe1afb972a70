/* KV cache: for every layer, keys and values of n_slots sequences of up to n_ctx tokens.
 *
 * Layout per layer: K[slot][pos][n_head_kv * head_dim], then V the same way. Memory comes
 * from an anonymous mapping, so pages are only committed as sequences grow: a cache sized
 * for 4 × 2048 tokens costs nothing until it is used. F16 by default (half the memory of
 * F32, and the reference engine's default), Q8_0 to halve it again (heads of a multiple
 * of 32 dimensions), F32 for exactness tests. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kv_cache.h"
#include "util/checked.h"

/* Bytes of one cached position of layer l: n_head_kv heads of head_dim elements. */
static uint64_t row_bytes_of(const slm_model *m, uint32_t l, enum slm_type type)
{
    uint64_t bytes = 0;
    uint64_t n = (uint64_t)m->w.layers[l].n_head_kv * m->hp.head_dim;
    return slm_type_row_bytes(type, n, &bytes) ? bytes : 0;
}

static bool layer_bytes(const slm_model *m, uint32_t l, uint32_t n_slots, uint32_t n_ctx,
                        enum slm_type type, size_t *row, size_t *plane)
{
    size_t r, p;
    if (slm_u64_to_size(row_bytes_of(m, l, type), &r) || slm_mul_size(r, n_ctx, &p) ||
        slm_mul_size(p, n_slots, &p))
        return false;
    *row = r;
    *plane = p;
    return true;
}

uint64_t slm_kv_cache_bytes_for(const slm_model *m, uint32_t n_slots, uint32_t n_ctx,
                                enum slm_type type)
{
    if (m->info.kind != SLM_MODEL_DECODER)
        return 0;
    uint64_t total = 0;
    for (uint32_t l = 0; l < m->hp.n_layer; l++) {
        total += 2 * row_bytes_of(m, l, type) * n_ctx * n_slots;
    }
    return total;
}

slm_kv_cache *slm_kv_cache_new(const slm_model *m, uint32_t n_slots, uint32_t n_ctx,
                               enum slm_type type, slm_error *err)
{
    if (m->info.kind != SLM_MODEL_DECODER) {
        slm_errorf(err, SLM_ERR_INVALID, "%s: an encoder has no KV cache", m->path);
        return NULL;
    }
    if (type != SLM_TYPE_F16 && type != SLM_TYPE_F32 && type != SLM_TYPE_Q8_0) {
        slm_errorf(err, SLM_ERR_UNSUPPORTED, "KV cache type %s is not supported (F16, Q8_0, "
                   "F32)", slm_type_name(type));
        return NULL;
    }
    if (type == SLM_TYPE_Q8_0 && m->hp.head_dim % 32) {
        slm_errorf(err, SLM_ERR_UNSUPPORTED, "a Q8_0 KV cache needs heads of a multiple of 32 "
                   "dimensions; this model's have %u (use F16)", m->hp.head_dim);
        return NULL;
    }
    if (!n_slots || !n_ctx || n_slots > SLM_KV_MAX_SLOTS || n_ctx > SLM_KV_MAX_CTX) {
        slm_errorf(err, SLM_ERR_INVALID, "KV cache of %u slots x %u tokens is out of range",
                   n_slots, n_ctx);
        return NULL;
    }
    slm_kv_cache *kv = calloc(1, sizeof(*kv));
    uint32_t n_layer = m->hp.n_layer;
    if (!kv || !(kv->layers = calloc(n_layer, sizeof(*kv->layers)))) {
        free(kv);
        slm_errorf(err, SLM_ERR_NOMEM, "KV cache: out of memory");
        return NULL;
    }
    kv->model = m;
    kv->type = type;
    kv->n_slots = n_slots;
    kv->n_ctx = n_ctx;
    size_t total = 0;
    for (uint32_t l = 0; l < n_layer; l++) {
        size_t row, plane;
        if (!layer_bytes(m, l, n_slots, n_ctx, type, &row, &plane) ||
            slm_add_size(total, plane, &kv->layers[l].v_off) ||
            slm_add_size(kv->layers[l].v_off, plane, &total)) {
            slm_kv_cache_free(kv);
            slm_errorf(err, SLM_ERR_LIMIT, "KV cache size overflows");
            return NULL;
        }
        kv->layers[l].k_off = kv->layers[l].v_off - plane;
        kv->layers[l].row_bytes = row;
    }
    void *p = mmap(NULL, total ? total : 1, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        slm_kv_cache_free(kv);
        slm_errorf(err, SLM_ERR_NOMEM, "KV cache: cannot reserve %zu bytes", total);
        return NULL;
    }
    kv->data = p;
    kv->bytes = total;
    return kv;
}

void slm_kv_cache_free(slm_kv_cache *kv)
{
    if (!kv)
        return;
    if (kv->data)
        munmap(kv->data, kv->bytes ? kv->bytes : 1);
    free(kv->layers);
    free(kv);
}

uint32_t slm_kv_cache_n_ctx(const slm_kv_cache *kv) { return kv->n_ctx; }
uint32_t slm_kv_cache_n_slots(const slm_kv_cache *kv) { return kv->n_slots; }
uint64_t slm_kv_cache_bytes(const slm_kv_cache *kv) { return kv->bytes; }

int slm_kv_cache_copy_prefix(slm_kv_cache *kv, uint32_t src, uint32_t dst, uint32_t n)
{
    if (src >= kv->n_slots || dst >= kv->n_slots || n > kv->n_ctx)
        return -SLM_ERR_INVALID;
    if (src == dst || n == 0)
        return 0;
    for (uint32_t l = 0; l < kv->model->hp.n_layer; l++) {
        size_t bytes = kv->layers[l].row_bytes * n;
        memcpy(kv_k_row(kv, l, dst, 0), kv_k_row(kv, l, src, 0), bytes);
        memcpy(kv_v_row(kv, l, dst, 0), kv_v_row(kv, l, src, 0), bytes);
    }
    return 0;
}

void slm_kv_cache_release_slot(slm_kv_cache *kv, uint32_t slot)
{
    /* Give the pages of a finished long sequence back to the system. */
    for (uint32_t l = 0; l < kv->model->hp.n_layer; l++) {
        size_t bytes = kv->layers[l].row_bytes * kv->n_ctx;
        uintptr_t page = 4096;
        uintptr_t k0 = ((uintptr_t)kv_k_row(kv, l, slot, 0) + page - 1) & ~(page - 1);
        uintptr_t k1 = ((uintptr_t)kv_k_row(kv, l, slot, 0) + bytes) & ~(page - 1);
        if (k1 > k0)
            madvise((void *)k0, k1 - k0, MADV_DONTNEED);
        uintptr_t v0 = ((uintptr_t)kv_v_row(kv, l, slot, 0) + page - 1) & ~(page - 1);
        uintptr_t v1 = ((uintptr_t)kv_v_row(kv, l, slot, 0) + bytes) & ~(page - 1);
        if (v1 > v0)
            madvise((void *)v0, v1 - v0, MADV_DONTNEED);
    }
}
