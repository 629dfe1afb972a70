/* Float kernels on 256-bit registers: F32/F16/BF16 rows against F32 activations,
 * conversions, and the vector operations. Included by the x86 level files. */
#ifndef SLM_ARCH_X86_FLOAT_H
#define SLM_ARCH_X86_FLOAT_H

#include <math.h>

#include "arch/x86/x86_common.h"
#include "kernels/ops_generic.h"
#include "quant/fp16.h"

static inline __m256 load_f16x8(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline __m256 load_bf16x8(const uint16_t *p)
{
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

/* Four independent accumulators hide the FMA latency. */
#define X86_DOT_BODY(load_a)                                                               \
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;                            \
    int64_t i = 0;                                                                         \
    for (; i + 32 <= n; i += 32) {                                                         \
        s0 = _mm256_fmadd_ps(load_a(a + i), _mm256_loadu_ps(b + i), s0);                   \
        s1 = _mm256_fmadd_ps(load_a(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);           \
        s2 = _mm256_fmadd_ps(load_a(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);         \
        s3 = _mm256_fmadd_ps(load_a(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);         \
    }                                                                                      \
    for (; i + 8 <= n; i += 8)                                                             \
        s0 = _mm256_fmadd_ps(load_a(a + i), _mm256_loadu_ps(b + i), s0);                   \
    float sum = hsum_ps256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));

static inline float x86_dot_f32(const float *a, const float *b, int n)
{
    X86_DOT_BODY(_mm256_loadu_ps)
    for (; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

static inline float x86_dot_f16_f32(const uint16_t *a, const float *b, int n)
{
    X86_DOT_BODY(load_f16x8)
    for (; i < n; i++)
        sum += slm_fp16_to_f32(a[i]) * b[i];
    return sum;
}

static inline float x86_dot_bf16_f32(const uint16_t *a, const float *b, int64_t n)
{
    X86_DOT_BODY(load_bf16x8)
    for (; i < n; i++)
        sum += slm_bf16_to_f32(a[i]) * b[i];
    return sum;
}

static inline void x86_f32_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                            const void *restrict x)
{
    *s = x86_dot_f32(w, x, (int)n);
}

static inline void x86_f16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                            const void *restrict x)
{
    *s = x86_dot_f16_f32(w, x, (int)n);
}

static inline void x86_bf16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    *s = x86_dot_bf16_f32(w, x, n);
}

static inline void x86_f16_to_f32(const uint16_t *src, float *dst, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, load_f16x8(src + i));
    for (; i < n; i++)
        dst[i] = slm_fp16_to_f32(src[i]);
}

static inline void x86_f32_to_f16(const float *src, uint16_t *dst, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++)
        dst[i] = slm_f32_to_fp16(src[i]);
}

static inline void x86_f16_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    x86_f16_to_f32(src, dst, n);
}

static inline void x86_f16_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    x86_f32_to_f16(src, dst, n);
}

static inline void x86_bf16_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, load_bf16x8(h + i));
    for (; i < n; i++)
        dst[i] = slm_bf16_to_f32(h[i]);
}

static inline void x86_axpy_f32(float *y, float a, const float *x, int n)
{
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] += a * x[i];
}

static inline void x86_axpy_f16(float *y, float a, const uint16_t *x, int n)
{
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, load_f16x8(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++)
        y[i] += a * slm_fp16_to_f32(x[i]);
}

static inline float x86_sum_squares(const float *x, int n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        s0 = _mm256_fmadd_ps(a, a, s0);
        s1 = _mm256_fmadd_ps(b, b, s1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_loadu_ps(x + i);
        s0 = _mm256_fmadd_ps(a, a, s0);
    }
    float sum = hsum_ps256(_mm256_add_ps(s0, s1));
    for (; i < n; i++)
        sum += x[i] * x[i];
    return sum;
}

static inline void x86_rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
    float scale = 1.0f / sqrtf(x86_sum_squares(x, n) / (float)n + eps);
    __m256 vs = _mm256_set1_ps(scale);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
        if (w)
            v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
        _mm256_storeu_ps(out + i, v);
    }
    for (; i < n; i++)
        out[i] = w ? x[i] * scale * w[i] : x[i] * scale;
}

static inline void x86_softmax(float *x, int n)
{
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    float max = hmax_ps256(vmax);
    for (; i < n; i++)
        max = fmaxf(max, x[i]);
    __m256 vm = _mm256_set1_ps(max), vsum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp_ps256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum_ps256(vsum);
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    float inv = sum > 0 ? 1.0f / sum : 0.0f;
    __m256 vi = _mm256_set1_ps(inv);
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vi));
    for (; i < n; i++)
        x[i] *= inv;
}

static inline void x86_swiglu(float *out, const float *gate, const float *up, int n)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 e = exp_ps256(_mm256_sub_ps(_mm256_setzero_ps(), g));
        __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, e));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++)
        out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

static inline void x86_gelu(float *x, int n)
{
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f),
                 inv_sqrt2 = _mm256_set1_ps((float)M_SQRT1_2);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 e = erf_ps256(_mm256_mul_ps(v, inv_sqrt2));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, e)));
    }
    for (; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

/* layernorm stays generic: it runs once per BERT layer on a few hundred floats. */
static inline void x86_install_float(struct slm_type_traits traits[SLM_TYPE_COUNT],
                              struct slm_vec_ops *ops)
{
    traits[SLM_TYPE_F32].vec_dot = x86_f32_vec_dot;
    traits[SLM_TYPE_F16].vec_dot = x86_f16_vec_dot;
    traits[SLM_TYPE_F16].to_float = x86_f16_to_float;
    traits[SLM_TYPE_F16].from_float = x86_f16_from_float;
    traits[SLM_TYPE_BF16].vec_dot = x86_bf16_vec_dot;
    traits[SLM_TYPE_BF16].to_float = x86_bf16_to_float;
    ops->rmsnorm = x86_rmsnorm;
    ops->softmax = x86_softmax;
    ops->swiglu = x86_swiglu;
    ops->gelu = x86_gelu;
    ops->dot_f32 = x86_dot_f32;
    ops->dot_f16_f32 = x86_dot_f16_f32;
    ops->axpy_f32 = x86_axpy_f32;
    ops->axpy_f16 = x86_axpy_f16;
    ops->f16_to_f32 = x86_f16_to_f32;
    ops->f32_to_f16 = x86_f32_to_f16;
}

#endif
