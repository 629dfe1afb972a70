/* Internals shared by gguf.c (parsing) and gguf_meta.c (typed access). */
#ifndef SLM_FORMAT_GGUF_PRIVATE_H
#define SLM_FORMAT_GGUF_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "slm/gguf.h"

struct gguf_kv {
    char *key;
    enum slm_gguf_value_type type;
    union {
        uint64_t u; /* unsigned integers and bool */
        int64_t i;  /* signed integers */
        double f;   /* F32 / F64 */
        struct slm_gguf_str str;
        struct {
            enum slm_gguf_value_type type;
            uint64_t count;
            const uint8_t *data;       /* scalar arrays: packed little-endian elements */
            struct slm_gguf_str *strs; /* string arrays: one entry per element */
        } arr;
    } v;
};

/* NULL when i is out of range. */
const struct gguf_kv *gguf_entry(const slm_gguf *g, size_t i);
/* Bytes of one scalar of this type; 0 for strings, arrays and unknown types. */
size_t gguf_scalar_size(uint32_t type);
/* Decodes one little-endian scalar at p into kv->v. */
void gguf_decode_scalar(uint32_t type, const uint8_t *p, struct gguf_kv *kv);

#endif
