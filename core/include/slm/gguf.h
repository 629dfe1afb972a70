/* GGUF v2/v3 reader.
 *
 * The whole file is validated when it is opened: header counts against the bytes left,
 * every string and array length, unique keys, metadata value types (nested arrays are
 * refused), the tensor table (1..4 dimensions, each > 0, products that fit, known types,
 * rows of whole blocks, unique names) and the data section (tensor ranges aligned to
 * general.alignment, inside the file, not overlapping). After that, every accessor is a
 * bounds-checked lookup and nothing can read outside the mapping.
 *
 * Strings in the file are not NUL-terminated; accessors return pointer + length into the
 * mapping. Keys and tensor names are copied and NUL-terminated. */
#ifndef SLM_GGUF_H
#define SLM_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "slm/types.h"

#ifdef __cplusplus
extern "C" {
#endif

enum slm_gguf_value_type {
    SLM_GGUF_U8 = 0,
    SLM_GGUF_I8 = 1,
    SLM_GGUF_U16 = 2,
    SLM_GGUF_I16 = 3,
    SLM_GGUF_U32 = 4,
    SLM_GGUF_I32 = 5,
    SLM_GGUF_F32 = 6,
    SLM_GGUF_BOOL = 7,
    SLM_GGUF_STRING = 8,
    SLM_GGUF_ARRAY = 9,
    SLM_GGUF_U64 = 10,
    SLM_GGUF_I64 = 11,
    SLM_GGUF_F64 = 12,
    SLM_GGUF_TYPE_COUNT
};
const char *slm_gguf_value_type_name(uint32_t type);

/* Limits that keep a crafted file from costing unbounded memory or time. Real files are
 * far below them: the largest vocabularies hold ~260k tokens, names are < 100 bytes. */
#define SLM_GGUF_MAX_KEY_LEN 65535u
#define SLM_GGUF_MAX_TENSOR_NAME_LEN 4096u
#define SLM_GGUF_MAX_DIMS 4u
#define SLM_GGUF_MAX_ALIGNMENT (1u << 20)
#define SLM_GGUF_DEFAULT_ALIGNMENT 32u

typedef struct slm_gguf slm_gguf;

struct slm_gguf_tensor {
    const char *name;   /* NUL-terminated copy */
    enum slm_type type;
    uint32_t n_dims;
    int64_t ne[SLM_GGUF_MAX_DIMS]; /* ne[0] is the row length; unused dims are 1 */
    uint64_t offset;    /* from the start of the file */
    uint64_t nbytes;
    const void *data;   /* into the mapping */
};

struct slm_gguf_str {
    const char *ptr; /* not NUL-terminated */
    uint64_t len;
};

/* Opens and validates a file. Errors read "PATH: reason". */
slm_gguf *slm_gguf_open(const char *path, slm_error *err);
/* Validates a buffer that the caller keeps alive (fuzzing, tests). `name` prefixes errors. */
slm_gguf *slm_gguf_open_memory(const void *data, size_t size, const char *name,
                               slm_error *err);
void slm_gguf_close(slm_gguf *gguf);

const char *slm_gguf_name(const slm_gguf *gguf); /* the path or name given at open */
uint32_t slm_gguf_version(const slm_gguf *gguf);
uint32_t slm_gguf_alignment(const slm_gguf *gguf);
uint64_t slm_gguf_data_offset(const slm_gguf *gguf);
uint64_t slm_gguf_file_size(const slm_gguf *gguf);
/* The underlying mapping (NULL for open_memory), for damage checks and page release. */
struct slm_mapped_file *slm_gguf_mapping(const slm_gguf *gguf);

/* ---- metadata ---- */
size_t slm_gguf_n_kv(const slm_gguf *gguf);
const char *slm_gguf_key(const slm_gguf *gguf, size_t i);
enum slm_gguf_value_type slm_gguf_kv_type(const slm_gguf *gguf, size_t i);
/* Index of a key, or -1. */
int64_t slm_gguf_find(const slm_gguf *gguf, const char *key);
bool slm_gguf_has(const slm_gguf *gguf, const char *key);

/* Typed getters. Each returns 0, or SLM_ERR_NOT_FOUND if the key is absent (without
 * touching *out, so callers can pre-set defaults), or SLM_ERR_FORMAT naming the key and
 * both types when the stored type does not fit: integer getters accept any integer type
 * whose value fits, the float getter accepts F32/F64, nothing converts between strings,
 * bools and numbers. */
int slm_gguf_get_u32(const slm_gguf *g, const char *key, uint32_t *out, slm_error *err);
int slm_gguf_get_i64(const slm_gguf *g, const char *key, int64_t *out, slm_error *err);
int slm_gguf_get_f32(const slm_gguf *g, const char *key, float *out, slm_error *err);
int slm_gguf_get_bool(const slm_gguf *g, const char *key, bool *out, slm_error *err);
int slm_gguf_get_str(const slm_gguf *g, const char *key, struct slm_gguf_str *out,
                     slm_error *err);
/* Malloc'd NUL-terminated copy; refuses strings containing NUL bytes. */
int slm_gguf_get_str_dup(const slm_gguf *g, const char *key, char **out, slm_error *err);

/* Arrays: element type and count. */
int slm_gguf_get_arr(const slm_gguf *g, const char *key, enum slm_gguf_value_type *elem_type,
                     uint64_t *count, slm_error *err);
/* Element i of an integer/float array converted (checked) to the asked type. */
int slm_gguf_arr_u32(const slm_gguf *g, const char *key, uint64_t i, uint32_t *out,
                     slm_error *err);
int slm_gguf_arr_i64(const slm_gguf *g, const char *key, uint64_t i, int64_t *out,
                     slm_error *err);
int slm_gguf_arr_f32(const slm_gguf *g, const char *key, uint64_t i, float *out,
                     slm_error *err);
int slm_gguf_arr_str(const slm_gguf *g, const char *key, uint64_t i, struct slm_gguf_str *out,
                     slm_error *err);
/* A per-layer value that files give either as one scalar or as an array of n_layer values
 * (OpenELM head counts, FFN widths): fills out[0..n) or fails naming the key. */
int slm_gguf_get_u32_per_layer(const slm_gguf *g, const char *key, uint32_t n, uint32_t *out,
                               slm_error *err);

/* Index-based access to the same values (for dumping every key, as `slm info` does). */
int slm_gguf_kv_scalar_u64(const slm_gguf *g, size_t i, uint64_t *out);
int slm_gguf_kv_scalar_i64(const slm_gguf *g, size_t i, int64_t *out);
int slm_gguf_kv_scalar_f64(const slm_gguf *g, size_t i, double *out);
int slm_gguf_kv_str(const slm_gguf *g, size_t i, struct slm_gguf_str *out);
int slm_gguf_kv_arr(const slm_gguf *g, size_t i, enum slm_gguf_value_type *elem_type,
                    uint64_t *count);

/* ---- tensors ---- */
size_t slm_gguf_n_tensors(const slm_gguf *gguf);
const struct slm_gguf_tensor *slm_gguf_tensor(const slm_gguf *gguf, size_t i);
/* NULL if absent. */
const struct slm_gguf_tensor *slm_gguf_find_tensor(const slm_gguf *gguf, const char *name);


/* ---- writing (slm quantize, slm mkmodel, tests) ---- */

typedef struct slm_gguf_writer slm_gguf_writer;

/* Fills `dst` (nbytes) with tensor `index`'s data when the file is written, so that large
 * models are produced tensor by tensor instead of all in memory. */
typedef int (*slm_gguf_fill_fn)(void *userdata, size_t index, void *dst, size_t nbytes,
                                slm_error *err);

slm_gguf_writer *slm_gguf_writer_new(void);
void slm_gguf_writer_free(slm_gguf_writer *w);
/* Setting a key twice replaces the value. Strings are copied. */
int slm_gguf_writer_set_u32(slm_gguf_writer *w, const char *key, uint32_t v);
int slm_gguf_writer_set_i32(slm_gguf_writer *w, const char *key, int32_t v);
int slm_gguf_writer_set_f32(slm_gguf_writer *w, const char *key, float v);
int slm_gguf_writer_set_bool(slm_gguf_writer *w, const char *key, bool v);
int slm_gguf_writer_set_str(slm_gguf_writer *w, const char *key, const char *v);
int slm_gguf_writer_set_arr_str(slm_gguf_writer *w, const char *key, const char *const *v,
                                size_t n);
int slm_gguf_writer_set_arr_i32(slm_gguf_writer *w, const char *key, const int32_t *v, size_t n);
int slm_gguf_writer_set_arr_f32(slm_gguf_writer *w, const char *key, const float *v, size_t n);
/* Copies metadata entry i of an open file (any type, arrays included). */
int slm_gguf_writer_copy_kv(slm_gguf_writer *w, const slm_gguf *from, size_t i);
/* Adds a tensor whose bytes come from `fill` at write time (index = order of addition). */
int slm_gguf_writer_add_tensor(slm_gguf_writer *w, const char *name, enum slm_type type,
                               uint32_t n_dims, const int64_t *ne, slm_gguf_fill_fn fill,
                               void *userdata, slm_error *err);
/* Writes a GGUF v3 file: to PATH.tmp, then renamed over PATH, so a failed or interrupted
 * write never leaves a half-written model behind. */
int slm_gguf_writer_write(slm_gguf_writer *w, const char *path, slm_error *err);

#ifdef __cplusplus
}
#endif
#endif
