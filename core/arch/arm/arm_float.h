/* Float kernels on NEON: F32/F16/BF16 rows against F32 activations, conversions and the
 * vector operations. F16 conversion instructions are AArch64-only here; AArch32 keeps
 * the generic F16 paths. */
#ifndef SLM_ARCH_ARM_FLOAT_H
#define SLM_ARCH_ARM_FLOAT_H

#include <math.h>

#include "arch/arm/arm_common.h"
#include "kernels/kernels.h"

#define ARM_FN static inline __attribute__((unused))

static inline float32x4_t load_bf16x4(const uint16_t *p)
{
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}

#if defined(__aarch64__)
static inline float32x4_t load_f16x4(const uint16_t *p)
{
    return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}
#endif

#define ARM_DOT_BODY(load_a)                                                               \
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;                            \
    int64_t i = 0;                                                                         \
    for (; i + 16 <= n; i += 16) {                                                         \
        s0 = mla_f32(s0, load_a(a + i), vld1q_f32(b + i));                                 \
        s1 = mla_f32(s1, load_a(a + i + 4), vld1q_f32(b + i + 4));                         \
        s2 = mla_f32(s2, load_a(a + i + 8), vld1q_f32(b + i + 8));                         \
        s3 = mla_f32(s3, load_a(a + i + 12), vld1q_f32(b + i + 12));                       \
    }                                                                                      \
    for (; i + 4 <= n; i += 4)                                                             \
        s0 = mla_f32(s0, load_a(a + i), vld1q_f32(b + i));                                 \
    float sum = hsum_f32x4(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));

ARM_FN float arm_dot_f32(const float *a, const float *b, int n)
{
    ARM_DOT_BODY(vld1q_f32)
    for (; i < n; i++)
        sum += a[i] * b[i];
    return sum;
}

ARM_FN float arm_dot_bf16_f32(const uint16_t *a, const float *b, int64_t n)
{
    ARM_DOT_BODY(load_bf16x4)
    for (; i < n; i++)
        sum += slm_bf16_to_f32(a[i]) * b[i];
    return sum;
}

ARM_FN void arm_f32_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                            const void *restrict x)
{
    *s = arm_dot_f32(w, x, (int)n);
}

ARM_FN void arm_bf16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    *s = arm_dot_bf16_f32(w, x, n);
}

ARM_FN void arm_bf16_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, load_bf16x4(h + i));
    for (; i < n; i++)
        dst[i] = slm_bf16_to_f32(h[i]);
}

#if defined(__aarch64__)
ARM_FN float arm_dot_f16_f32(const uint16_t *a, const float *b, int n)
{
    ARM_DOT_BODY(load_f16x4)
    for (; i < n; i++)
        sum += slm_fp16_to_f32(a[i]) * b[i];
    return sum;
}

ARM_FN void arm_f16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                            const void *restrict x)
{
    *s = arm_dot_f16_f32(w, x, (int)n);
}

ARM_FN void arm_f16_to_f32(const uint16_t *src, float *dst, int64_t n)
{
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(dst + i, load_f16x4(src + i));
    for (; i < n; i++)
        dst[i] = slm_fp16_to_f32(src[i]);
}

/* The conversion instruction rounds to nearest even like slm_f32_to_fp16. */
ARM_FN void arm_f32_to_f16(const float *src, uint16_t *dst, int64_t n)
{
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        vst1_u16(dst + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
    for (; i < n; i++)
        dst[i] = slm_f32_to_fp16(src[i]);
}

ARM_FN void arm_f16_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    arm_f16_to_f32(src, dst, n);
}

ARM_FN void arm_f16_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    arm_f32_to_f16(src, dst, n);
}

ARM_FN void arm_axpy_f16(float *y, float a, const uint16_t *x, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, mla_n_f32(vld1q_f32(y + i), load_f16x4(x + i), a));
    for (; i < n; i++)
        y[i] += a * slm_fp16_to_f32(x[i]);
}
#endif

ARM_FN void arm_axpy_f32(float *y, float a, const float *x, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vst1q_f32(y + i, mla_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++)
        y[i] += a * x[i];
}

ARM_FN void arm_rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);
        s0 = mla_f32(s0, a, a);
        s1 = mla_f32(s1, b, b);
    }
    float sum = hsum_f32x4(vaddq_f32(s0, s1));
    for (; i < n; i++)
        sum += x[i] * x[i];
    float scale = 1.0f / sqrtf(sum / (float)n + eps);
    for (i = 0; i + 4 <= n; i += 4) {
        float32x4_t v = vmulq_n_f32(vld1q_f32(x + i), scale);
        if (w)
            v = vmulq_f32(v, vld1q_f32(w + i));
        vst1q_f32(out + i, v);
    }
    for (; i < n; i++)
        out[i] = w ? x[i] * scale * w[i] : x[i] * scale;
}

ARM_FN void arm_softmax(float *x, int n)
{
    float32x4_t vmax = vdupq_n_f32(-INFINITY);
    int i = 0;
    for (; i + 4 <= n; i += 4)
        vmax = vmaxq_f32(vmax, vld1q_f32(x + i));
    float max = hmax_f32x4(vmax);
    for (; i < n; i++)
        max = fmaxf(max, x[i]);
    float32x4_t vsum = vdupq_n_f32(0);
    for (i = 0; i + 4 <= n; i += 4) {
        float32x4_t e = exp_f32x4(vsubq_f32(vld1q_f32(x + i), vdupq_n_f32(max)));
        vst1q_f32(x + i, e);
        vsum = vaddq_f32(vsum, e);
    }
    float sum = hsum_f32x4(vsum);
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    float inv = sum > 0 ? 1.0f / sum : 0.0f;
    for (i = 0; i + 4 <= n; i += 4)
        vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
    for (; i < n; i++)
        x[i] *= inv;
}

ARM_FN void arm_swiglu(float *out, const float *gate, const float *up, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t g = vld1q_f32(gate + i);
        float32x4_t e = exp_f32x4(vnegq_f32(g));
        float32x4_t silu = vmulq_f32(g, recip_f32x4(vaddq_f32(vdupq_n_f32(1.0f), e)));
        vst1q_f32(out + i, vmulq_f32(silu, vld1q_f32(up + i)));
    }
    for (; i < n; i++)
        out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

/* erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7). */
static inline float32x4_t erf_f32x4(float32x4_t x)
{
    uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
    float32x4_t ax = vabsq_f32(x);
    float32x4_t t = recip_f32x4(mla_f32(vdupq_n_f32(1.0f), vdupq_n_f32(0.3275911f), ax));
    float32x4_t p = vdupq_n_f32(1.061405429f);
    p = mla_f32(vdupq_n_f32(-1.453152027f), p, t);
    p = mla_f32(vdupq_n_f32(1.421413741f), p, t);
    p = mla_f32(vdupq_n_f32(-0.284496736f), p, t);
    p = mla_f32(vdupq_n_f32(0.254829592f), p, t);
    p = vmulq_f32(p, t);
    float32x4_t e = exp_f32x4(vnegq_f32(vmulq_f32(ax, ax)));
    float32x4_t y = vmlsq_f32(vdupq_n_f32(1.0f), p, e);
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(y), sign));
}

ARM_FN void arm_gelu(float *x, int n)
{
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(x + i);
        float32x4_t e = erf_f32x4(vmulq_n_f32(v, (float)M_SQRT1_2));
        vst1q_f32(x + i, vmulq_f32(vmulq_n_f32(v, 0.5f), vaddq_f32(vdupq_n_f32(1.0f), e)));
    }
    for (; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

static inline void arm_install_float(struct slm_type_traits traits[SLM_TYPE_COUNT],
                                     struct slm_vec_ops *ops)
{
    traits[SLM_TYPE_F32].vec_dot = arm_f32_vec_dot;
    traits[SLM_TYPE_BF16].vec_dot = arm_bf16_vec_dot;
    traits[SLM_TYPE_BF16].to_float = arm_bf16_to_float;
#if defined(__aarch64__)
    traits[SLM_TYPE_F16].vec_dot = arm_f16_vec_dot;
    traits[SLM_TYPE_F16].to_float = arm_f16_to_float;
    traits[SLM_TYPE_F16].from_float = arm_f16_from_float;
    ops->dot_f16_f32 = arm_dot_f16_f32;
    ops->axpy_f16 = arm_axpy_f16;
    ops->f16_to_f32 = arm_f16_to_f32;
    ops->f32_to_f16 = arm_f32_to_f16;
#endif
    ops->rmsnorm = arm_rmsnorm;
    ops->softmax = arm_softmax;
    ops->swiglu = arm_swiglu;
    ops->gelu = arm_gelu;
    ops->dot_f32 = arm_dot_f32;
    ops->axpy_f32 = arm_axpy_f32;
}

#endif
