/* Builds small GGUF files in memory for tokenizer tests: only metadata, no tensors.
 *
 *   struct gguf_builder b;
 *   gb_init(&b);
 *   gb_str(&b, "tokenizer.ggml.model", "llama");
 *   gb_strs(&b, "tokenizer.ggml.tokens", tokens, n);
 *   slm_tokenizer *tok = gb_tokenizer(&b, &err);   // frees the builder
 *
 * Allocation failures abort the test (this is test code, not a parser of input). */
#ifndef SLM_TEST_VOCAB_BUILDER_H
#define SLM_TEST_VOCAB_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slm/gguf.h"
#include "slm/tokenizer.h"

struct gguf_builder {
    uint8_t *kv;
    size_t n, cap;
    uint64_t n_kv;
};

static inline void gb_init(struct gguf_builder *b) { memset(b, 0, sizeof(*b)); }

static inline void gb_bytes(struct gguf_builder *b, const void *p, size_t len)
{
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + len)
            cap *= 2;
        b->kv = (uint8_t *)realloc(b->kv, cap);
        if (!b->kv) {
            fprintf(stderr, "vocab_builder: out of memory\n");
            exit(2);
        }
        b->cap = cap;
    }
    memcpy(b->kv + b->n, p, len);
    b->n += len;
}

static inline void gb_u32v(struct gguf_builder *b, uint32_t v) { gb_bytes(b, &v, 4); }
static inline void gb_u64v(struct gguf_builder *b, uint64_t v) { gb_bytes(b, &v, 8); }
static inline void gb_strv(struct gguf_builder *b, const char *s, size_t len)
{
    gb_u64v(b, len);
    gb_bytes(b, s, len);
}
static inline void gb_key(struct gguf_builder *b, const char *key, uint32_t type)
{
    gb_strv(b, key, strlen(key));
    gb_u32v(b, type);
    b->n_kv++;
}

static inline void gb_str(struct gguf_builder *b, const char *key, const char *value)
{
    gb_key(b, key, SLM_GGUF_STRING);
    gb_strv(b, value, strlen(value));
}
static inline void gb_u32(struct gguf_builder *b, const char *key, uint32_t v)
{
    gb_key(b, key, SLM_GGUF_U32);
    gb_u32v(b, v);
}
static inline void gb_bool(struct gguf_builder *b, const char *key, int v)
{
    uint8_t x = v ? 1 : 0;
    gb_key(b, key, SLM_GGUF_BOOL);
    gb_bytes(b, &x, 1);
}
/* Strings given NUL-terminated; lens (optional) overrides for texts with NUL bytes. */
static inline void gb_strs_len(struct gguf_builder *b, const char *key, const char *const *v,
                               const size_t *lens, size_t n)
{
    gb_key(b, key, SLM_GGUF_ARRAY);
    gb_u32v(b, SLM_GGUF_STRING);
    gb_u64v(b, n);
    for (size_t i = 0; i < n; i++)
        gb_strv(b, v[i], lens ? lens[i] : strlen(v[i]));
}
static inline void gb_strs(struct gguf_builder *b, const char *key, const char *const *v,
                           size_t n)
{
    gb_strs_len(b, key, v, NULL, n);
}
static inline void gb_f32s(struct gguf_builder *b, const char *key, const float *v, size_t n)
{
    gb_key(b, key, SLM_GGUF_ARRAY);
    gb_u32v(b, SLM_GGUF_F32);
    gb_u64v(b, n);
    gb_bytes(b, v, n * sizeof(float));
}
static inline void gb_i32s(struct gguf_builder *b, const char *key, const int32_t *v, size_t n)
{
    gb_key(b, key, SLM_GGUF_ARRAY);
    gb_u32v(b, SLM_GGUF_I32);
    gb_u64v(b, n);
    gb_bytes(b, v, n * sizeof(int32_t));
}

/* The whole file: header (v3, no tensors), the key/values, padding to the alignment. */
static inline uint8_t *gb_finish(struct gguf_builder *b, size_t *size)
{
    size_t n = 24 + b->n;
    size_t padded = (n + 31) / 32 * 32;
    uint8_t *out = (uint8_t *)calloc(1, padded);
    if (!out) {
        fprintf(stderr, "vocab_builder: out of memory\n");
        exit(2);
    }
    uint32_t version = 3;
    uint64_t n_tensors = 0;
    memcpy(out, "GGUF", 4);
    memcpy(out + 4, &version, 4);
    memcpy(out + 8, &n_tensors, 8);
    memcpy(out + 16, &b->n_kv, 8);
    memcpy(out + 24, b->kv, b->n);
    free(b->kv);
    memset(b, 0, sizeof(*b));
    *size = padded;
    return out;
}

/* Opens the built file and makes its tokenizer (NULL with err set on failure); the file
 * is closed again, the tokenizer keeps its own copy of everything. */
static inline slm_tokenizer *gb_tokenizer(struct gguf_builder *b, slm_error *err)
{
    size_t size;
    uint8_t *data = gb_finish(b, &size);
    slm_gguf *g = slm_gguf_open_memory(data, size, "test.gguf", err);
    slm_tokenizer *tok = g ? slm_tokenizer_from_gguf(g, err) : NULL;
    slm_gguf_close(g);
    free(data);
    return tok;
}

#endif
