/* Tensor element types. The numbering is GGUF's (ggml_type), so a type read from a file
 * is used as is after `slm_type_known()` says slmd implements it. */
#ifndef SLM_TYPES_H
#define SLM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum slm_type {
    SLM_TYPE_F32 = 0,
    SLM_TYPE_F16 = 1,
    SLM_TYPE_Q4_0 = 2,
    SLM_TYPE_Q4_1 = 3,
    SLM_TYPE_Q5_0 = 6,
    SLM_TYPE_Q5_1 = 7,
    SLM_TYPE_Q8_0 = 8,
    SLM_TYPE_Q8_1 = 9,
    SLM_TYPE_Q2_K = 10,
    SLM_TYPE_Q3_K = 11,
    SLM_TYPE_Q4_K = 12,
    SLM_TYPE_Q5_K = 13,
    SLM_TYPE_Q6_K = 14,
    SLM_TYPE_Q8_K = 15,
    SLM_TYPE_I8 = 24,
    SLM_TYPE_I16 = 25,
    SLM_TYPE_I32 = 26,
    SLM_TYPE_BF16 = 30,
    /* Layouts of our own, made in memory at load (quant/blocks.h); a file holding these
     * numbers is refused like any unknown type. */
    SLM_TYPE_Q4_0_R16 = 36,
    SLM_TYPE_Q8_0_R16 = 37,
    SLM_TYPE_COUNT = 40 /* bound for tables indexed by type */
};

/* True for types slmd can read (a tensor of another type is a clear load error). */
bool slm_type_known(uint32_t type);

/* "Q4_K" etc.; "type-N" for unknown numbers (static storage, thread-safe). */
const char *slm_type_name(uint32_t type);

/* Parses "q4_k", "Q4_K", "f16" ... ; returns false if unknown. */
bool slm_type_from_name(const char *name, enum slm_type *out);

/* Elements per block and bytes per block (1 and sizeof(element) for plain types).
 * Both 0 for unknown types. */
uint32_t slm_type_block_size(enum slm_type type);
uint32_t slm_type_block_bytes(enum slm_type type);

/* Bytes of a row of `n` elements; false if `n` is not a whole number of blocks or the
 * size overflows. */
bool slm_type_row_bytes(enum slm_type type, uint64_t n, uint64_t *bytes);

#ifdef __cplusplus
}
#endif
#endif
