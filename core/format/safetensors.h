/* safetensors reader (Hugging Face's weight format).
 *
 *   [u64 little-endian N][N bytes of JSON header][data section]
 *
 * The header maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} with
 * offsets relative to the data section, plus an optional "__metadata__" object of strings.
 * Everything is validated when the file is opened: the header length (at most 100 MB and
 * inside the file), the JSON itself (strict, no duplicate keys at any level — json-c would
 * silently keep the last one), every dtype and shape, byte counts equal to shape x dtype
 * size with overflow checks, and the data ranges: in order from 0, each starting where
 * the previous one ends (no gap, no overlap) and the last one ending at the end of the file
 * (no trailing bytes). Afterwards every tensor's bytes lie inside the mapping.
 *
 * Errors read "PATH: reason" and name the tensor or key at fault. */
#ifndef SLM_FORMAT_SAFETENSORS_H
#define SLM_FORMAT_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "slm/types.h"

/* The header-size limit of the reference reader (the safetensors crate): no real header
 * comes near it (a 7B model's header is ~30 KB), and it bounds what a crafted file can
 * make the JSON parser allocate. */
#define SLM_SAFETENSORS_MAX_HEADER (100u * 1000u * 1000u)
/* PyTorch tensors in checkpoints have at most 5 dimensions (conv3d weights); 8 leaves room
 * and keeps the shape inline. */
#define SLM_SAFETENSORS_MAX_DIMS 8u
/* Nesting of a valid header is 3 (header, tensor entry, shape array). */
#define SLM_SAFETENSORS_MAX_DEPTH 8

/* Element types of the format. Only the float ones can be model weights; the others
 * (e.g. the I64 `position_ids` buffers older checkpoints carry) are validated and
 * skipped. */
enum slm_st_dtype {
    SLM_ST_BOOL = 0,
    SLM_ST_U8,
    SLM_ST_I8,
    SLM_ST_F8_E5M2,
    SLM_ST_F8_E4M3,
    SLM_ST_I16,
    SLM_ST_U16,
    SLM_ST_F16,
    SLM_ST_BF16,
    SLM_ST_I32,
    SLM_ST_U32,
    SLM_ST_F32,
    SLM_ST_F64,
    SLM_ST_I64,
    SLM_ST_U64,
    SLM_ST_DTYPE_COUNT
};

const char *slm_st_dtype_name(enum slm_st_dtype dtype);
/* SLM_TYPE_F32 / F16 / BF16 for the float dtypes slmd computes with; false otherwise. */
bool slm_st_dtype_to_type(enum slm_st_dtype dtype, enum slm_type *type);

struct slm_st_tensor {
    const char *name; /* NUL-terminated, owned by the reader */
    enum slm_st_dtype dtype;
    uint32_t n_dims;  /* 0 for a scalar */
    int64_t shape[SLM_SAFETENSORS_MAX_DIMS]; /* PyTorch order: shape[n_dims-1] varies fastest */
    uint64_t n_elements;
    uint64_t offset;  /* from the start of the file */
    uint64_t nbytes;
    const void *data; /* into the mapping; not necessarily aligned */
};

typedef struct slm_safetensors slm_safetensors;

slm_safetensors *slm_safetensors_open(const char *path, slm_error *err);
/* Validates a buffer the caller keeps alive (tests, fuzzing); `name` prefixes errors. */
slm_safetensors *slm_safetensors_open_memory(const void *data, size_t size, const char *name,
                                             slm_error *err);
void slm_safetensors_close(slm_safetensors *st);

const char *slm_safetensors_name(const slm_safetensors *st);
size_t slm_safetensors_n_tensors(const slm_safetensors *st);
/* Tensors in data order (ascending offsets). */
const struct slm_st_tensor *slm_safetensors_tensor(const slm_safetensors *st, size_t i);
/* NULL if absent. */
const struct slm_st_tensor *slm_safetensors_find(const slm_safetensors *st, const char *name);
/* A __metadata__ value, or NULL. */
const char *slm_safetensors_metadata(const slm_safetensors *st, const char *key);

/* Hands the file mapping to the caller (who registers it with the model and closes it
 * with slm_mapped_file_close after the last use of any tensor). The reader keeps working;
 * closing it no longer unmaps. NULL for open_memory. */
struct slm_mapped_file *slm_safetensors_take_mapping(slm_safetensors *st);

#endif
