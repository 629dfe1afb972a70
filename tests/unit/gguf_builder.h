/* Writes GGUF bytes into memory, field by field, so tests can craft valid files and every
 * kind of broken one. Header-only: used by test_gguf.c and the corpus generator. */
#ifndef SLM_TEST_GGUF_BUILDER_H
#define SLM_TEST_GGUF_BUILDER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct gb {
    uint8_t *data;
    size_t len, cap;
};

static inline void gb_bytes(struct gb *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data)
            abort(); /* test code: running out of memory is not the case under test */
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
static inline void gb_u8(struct gb *b, uint8_t v) { gb_bytes(b, &v, 1); }
static inline void gb_u32(struct gb *b, uint32_t v) { gb_bytes(b, &v, 4); }
static inline void gb_u64(struct gb *b, uint64_t v) { gb_bytes(b, &v, 8); }
static inline void gb_f32(struct gb *b, float v) { gb_bytes(b, &v, 4); }
static inline void gb_str(struct gb *b, const char *s)
{
    gb_u64(b, strlen(s));
    gb_bytes(b, s, strlen(s));
}
static inline void gb_header(struct gb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    gb_bytes(b, "GGUF", 4);
    gb_u32(b, version);
    gb_u64(b, n_tensors);
    gb_u64(b, n_kv);
}
static inline void gb_kv_u32(struct gb *b, const char *key, uint32_t v)
{
    gb_str(b, key);
    gb_u32(b, 4);
    gb_u32(b, v);
}
static inline void gb_kv_f32(struct gb *b, const char *key, float v)
{
    gb_str(b, key);
    gb_u32(b, 6);
    gb_f32(b, v);
}
static inline void gb_kv_str(struct gb *b, const char *key, const char *v)
{
    gb_str(b, key);
    gb_u32(b, 8);
    gb_str(b, v);
}
static inline void gb_kv_bool(struct gb *b, const char *key, uint8_t v)
{
    gb_str(b, key);
    gb_u32(b, 7);
    gb_u8(b, v);
}
/* tensor info with up to 4 dims (n_dims of them used) */
static inline void gb_tensor(struct gb *b, const char *name, uint32_t n_dims,
                             const uint64_t *dims, uint32_t type, uint64_t offset)
{
    gb_str(b, name);
    gb_u32(b, n_dims);
    for (uint32_t i = 0; i < n_dims; i++)
        gb_u64(b, dims[i]);
    gb_u32(b, type);
    gb_u64(b, offset);
}
static inline void gb_pad(struct gb *b, size_t align)
{
    while (b->len % align)
        gb_u8(b, 0);
}
static inline void gb_zeros(struct gb *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gb_u8(b, 0);
}

#endif
