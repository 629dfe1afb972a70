/* Helpers shared by the Arm kernel files (AArch64 NEON, AArch64 with dotprod, and 32-bit
 * NEON on armhf). Each level file includes them, so the integer dot uses SDOT when the
 * file is built with +dotprod and widening multiplies otherwise; AArch32 gets portable
 * replacements for the AArch64-only intrinsics. */
#ifndef SLM_ARCH_ARM_COMMON_H
#define SLM_ARCH_ARM_COMMON_H

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "quant/fp16.h"

#if defined(__ARM_FEATURE_DOTPROD)
#define SLM_ARM_DOTPROD 1
#else
#define SLM_ARM_DOTPROD 0
#endif

static inline int32_t hsum_s32x4(int32x4_t v)
{
#if defined(__aarch64__)
    return vaddvq_s32(v);
#else
    int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

static inline float hsum_f32x4(float32x4_t v)
{
#if defined(__aarch64__)
    return vaddvq_f32(v);
#else
    float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(s, s), 0);
#endif
}

static inline float hmax_f32x4(float32x4_t v)
{
#if defined(__aarch64__)
    return vmaxvq_f32(v);
#else
    float32x2_t m = vmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(m, m), 0);
#endif
}

/* acc + a * b; fused on AArch64, multiply-accumulate on AArch32 NEON (no VFPv4 needed). */
static inline float32x4_t mla_f32(float32x4_t acc, float32x4_t a, float32x4_t b)
{
#if defined(__aarch64__)
    return vfmaq_f32(acc, a, b);
#else
    return vmlaq_f32(acc, a, b);
#endif
}

static inline float32x4_t mla_n_f32(float32x4_t acc, float32x4_t a, float b)
{
    return mla_f32(acc, a, vdupq_n_f32(b));
}

/* acc + the sums of each group of 4 products of int8 a and b (16 lanes). */
static inline int32x4_t dot_s8x16(int32x4_t acc, int8x16_t a, int8x16_t b)
{
#if SLM_ARM_DOTPROD
    return vdotq_s32(acc, a, b);
#else
    int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    int16x8_t hi = vmull_s8(vget_high_s8(a), vget_high_s8(b));
    return vpadalq_s16(vpadalq_s16(acc, lo), hi);
#endif
}

/* Round to nearest, ties to even, as the generic quantizers (|x| < 2^22). */
static inline int32x4_t round_f32_s32(float32x4_t x)
{
#if defined(__aarch64__)
    return vcvtnq_s32_f32(x);
#else
    const float32x4_t magic = vdupq_n_f32(12582912.0f); /* 1.5 * 2^23 */
    int32x4_t bits = vreinterpretq_s32_f32(vaddq_f32(x, magic));
    return vsubq_s32(bits, vreinterpretq_s32_f32(magic));
#endif
}

/* exp(x), 4 lanes: 2^n * p(r), n = round(x / ln 2), r reduced with ln 2 in two parts, p a
 * degree-6 Taylor polynomial (relative error below 2e-7); below -87.3 gives 0. */
static inline float32x4_t exp_f32x4(float32x4_t x)
{
    const float32x4_t lo = vdupq_n_f32(-87.3f), hi = vdupq_n_f32(88.7f);
    uint32x4_t under = vcltq_f32(x, lo);
    x = vminq_f32(vmaxq_f32(x, lo), hi);
    int32x4_t n = round_f32_s32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t nf = vcvtq_f32_s32(n);
    float32x4_t r = vmlsq_f32(x, nf, vdupq_n_f32(0.693359375f));
    r = vmlsq_f32(r, nf, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.0f / 720);
    p = mla_f32(vdupq_n_f32(1.0f / 120), p, r);
    p = mla_f32(vdupq_n_f32(1.0f / 24), p, r);
    p = mla_f32(vdupq_n_f32(1.0f / 6), p, r);
    p = mla_f32(vdupq_n_f32(0.5f), p, r);
    p = mla_f32(vdupq_n_f32(1.0f), p, r);
    p = mla_f32(vdupq_n_f32(1.0f), p, r);
    /* 2^n in two halves so that n = 128 does not overflow the exponent */
    int32x4_t h1 = vshrq_n_s32(n, 1), h2 = vsubq_s32(n, h1);
    float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(h1, vdupq_n_s32(127)), 23));
    float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(h2, vdupq_n_s32(127)), 23));
    float32x4_t result = vmulq_f32(vmulq_f32(p, s1), s2);
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(result), under));
}

/* 1 / x to full float precision: the estimate refined by two Newton steps. */
static inline float32x4_t recip_f32x4(float32x4_t x)
{
#if defined(__aarch64__)
    return vdivq_f32(vdupq_n_f32(1.0f), x);
#else
    float32x4_t r = vrecpeq_f32(x);
    r = vmulq_f32(vrecpsq_f32(x, r), r);
    r = vmulq_f32(vrecpsq_f32(x, r), r);
    return r;
#endif
}

/* Scalar fp16 -> float: one instruction on AArch64, the portable conversion elsewhere. */
static inline float half_to_float(uint16_t h)
{
#if defined(__aarch64__)
    __fp16 v;
    memcpy(&v, &h, sizeof(v));
    return (float)v;
#else
    return slm_fp16_to_f32(h);
#endif
}

#endif
