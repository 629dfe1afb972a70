/* The kernel table: one entry per tensor type plus the vector operations of a forward pass.
 *
 * The generic C kernels (quant/quants_*.c, quant/kquant_search.c, kernels/ops_generic.c)
 * are the oracle. At start `slm_kernels_init()` detects the CPU (cpuid + xgetbv /
 * getauxval(AT_HWCAP)) and builds the table of every level it supports: the generic one
 * patched by each SIMD installer up to that level (arch/x86, arch/arm). The best is
 * active; the environment variable SLM_CPU_LEVEL (generic, avx2, avx512, avx512-vnni,
 * neon, neon-dotprod) selects a lower one for testing, never a higher one. Callers fetch
 * entries through `slm_traits()` / `slm_ops()` once per operation, never per element;
 * `slm_traits_at()` reaches any supported level (tests, benchmarks). */
#ifndef SLM_KERNELS_KERNELS_H
#define SLM_KERNELS_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/types.h"

/* Rows of n elements; n is a multiple of the type's block size. */
typedef void (*slm_to_float_fn)(const void *restrict src, float *restrict dst, int64_t n);
typedef void (*slm_from_float_fn)(const float *restrict src, void *restrict dst, int64_t n);
/* *s = dot(w, x) over n elements; w has the weight type, x the type's vec_dot_type. */
typedef void (*slm_vec_dot_fn)(int64_t n, float *restrict s, const void *restrict w,
                               const void *restrict x);
/* A tile of dot products: out[c * out_stride + r] = dot(w row r, x row c) for r < nr,
 * c < nc. Weight rows are w_stride bytes apart, activation rows x_stride bytes apart.
 * Lets a kernel read each weight block once for several activation rows (batched decode,
 * prompt processing). */
typedef void (*slm_gemm_tile_fn)(int64_t n, int nr, int nc, float *restrict out,
                                 size_t out_stride, const void *restrict w, size_t w_stride,
                                 const void *restrict x, size_t x_stride);

struct slm_type_traits {
    const char *name;
    uint32_t block_size;  /* elements per block */
    uint32_t block_bytes; /* bytes per block */
    bool quantized;
    enum slm_type vec_dot_type; /* activations are converted to this type for vec_dot */
    slm_to_float_fn to_float;     /* dequantize; NULL if the type is not readable */
    slm_from_float_fn from_float; /* quantize (reference rounding); NULL if not writable */
    slm_vec_dot_fn vec_dot;       /* NULL if the type cannot be a weight */
    slm_gemm_tile_fn gemm_tile;   /* NULL: the matmul driver loops over vec_dot */
    uint8_t tile_rows, tile_cols; /* largest nr and nc gemm_tile accepts */
    /* Quantizes activation rows into the layout gemm_tile reads, when that differs from
     * vec_dot_type's own (a SIMD level may regroup the blocks); rows have the byte size
     * of vec_dot_type rows. NULL: vec_dot_type's from_float. */
    slm_from_float_fn tile_from_float;
};

/* Vector operations used by the forward passes. All lengths in elements. */
struct slm_vec_ops {
    /* out = x / rms(x) * w   (w may be NULL: no scaling) */
    void (*rmsnorm)(float *out, const float *x, const float *w, int n, float eps);
    /* out = (x - mean) / sqrt(var + eps) * w + b  (w, b may be NULL) */
    void (*layernorm)(float *out, const float *x, const float *w, const float *b, int n,
                      float eps);
    /* in place, numerically stable */
    void (*softmax)(float *x, int n);
    /* out[i] = silu(gate[i]) * up[i] */
    void (*swiglu)(float *out, const float *gate, const float *up, int n);
    /* in place, tanh-free erf GELU as BERT uses it */
    void (*gelu)(float *x, int n);
    float (*dot_f32)(const float *a, const float *b, int n);
    float (*dot_f16_f32)(const uint16_t *a, const float *b, int n);
    /* y += a * x */
    void (*axpy_f32)(float *y, float a, const float *x, int n);
    void (*axpy_f16)(float *y, float a, const uint16_t *x, int n);
    void (*f16_to_f32)(const uint16_t *src, float *dst, int64_t n);
    void (*f32_to_f16)(const float *src, uint16_t *dst, int64_t n);
};

enum slm_cpu_level {
    SLM_CPU_GENERIC = 0,
    SLM_CPU_AVX2,        /* AVX2 + FMA + F16C */
    SLM_CPU_AVX512,      /* F, BW, VL, DQ */
    SLM_CPU_AVX512_VNNI, /* + VNNI (+ BF16 where present) */
    SLM_CPU_NEON,        /* armv8-a baseline (also armv7 with NEON) */
    SLM_CPU_NEON_DOTPROD /* armv8.2-a dotprod */
};

/* Idempotent and thread-safe; every other function here calls it. */
void slm_kernels_init(void);

/* The active level, and the best one this CPU and build support. */
enum slm_cpu_level slm_cpu_level(void);
enum slm_cpu_level slm_cpu_level_best(void);
const char *slm_cpu_level_name(enum slm_cpu_level level);
/* Why SLM_CPU_LEVEL was ignored (it may only lower the level), or NULL. The same line is
 * printed once on stderr when the kernels start. */
const char *slm_cpu_level_note(void);
/* True for GENERIC and every level of this architecture up to the best one. */
bool slm_cpu_level_supported(enum slm_cpu_level level);
/* Space-separated features the CPU reports that matter to us ("avx2 fma f16c ..."). */
const char *slm_cpu_features(void);

/* Active kernels (SIMD where available). NULL for a type slmd cannot use. */
const struct slm_type_traits *slm_traits(enum slm_type type);
const struct slm_vec_ops *slm_ops(void);

/* The kernels of one level, whatever the active one is (tests and benchmarks compare
 * levels); NULL if the level is not supported here or the type is unusable. */
const struct slm_type_traits *slm_traits_at(enum slm_cpu_level level, enum slm_type type);
const struct slm_vec_ops *slm_ops_at(enum slm_cpu_level level);

/* The generic C kernels, for tests that compare fast paths against them. */
const struct slm_type_traits *slm_traits_generic(enum slm_type type);
const struct slm_vec_ops *slm_ops_generic(void);

#endif
