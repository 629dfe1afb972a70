/* Quantized dot products and activation quantizers on NEON. Included by kernels_neon.c
 * and (with SDOT) kernels_neon_dotprod.c; every function mirrors the generic kernel of the
 * same name in core/quant and is tested against it. */
#ifndef SLM_ARCH_ARM_QUANTS_H
#define SLM_ARCH_ARM_QUANTS_H

#include "arch/arm/arm_common.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/quants.h"

#define ARM_FN static inline __attribute__((unused))

/* ------------------------------------------------------------- activations ---- */

/* 32 floats -> int8 with scale id, nearest even. */
static inline void round_pack_32(const float *x, float id, int8_t *out)
{
    for (int k = 0; k < 32; k += 8) {
        int32x4_t a = round_f32_s32(vmulq_n_f32(vld1q_f32(x + k), id));
        int32x4_t b = round_f32_s32(vmulq_n_f32(vld1q_f32(x + k + 4), id));
        int16x8_t h = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b));
        vst1_s8(out + k, vqmovn_s16(h));
    }
}

static inline float absmax_n(const float *x, int n)
{
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int k = 0; k < n; k += 4)
        m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + k)));
    return hmax_f32x4(m);
}

ARM_FN void arm_q8_0_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++, src += QK8_0) {
        float d = absmax_n(src, QK8_0) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = slm_f32_to_fp16(d);
        round_pack_32(src, id, b[i].qs);
    }
}

ARM_FN void arm_q8_1_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++, src += QK8_1) {
        float d = absmax_n(src, QK8_1) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = slm_f32_to_fp16(d);
        round_pack_32(src, id, b[i].qs);
        int16x8_t s = vaddq_s16(vpaddlq_s8(vld1q_s8(b[i].qs)), vpaddlq_s8(vld1q_s8(b[i].qs + 16)));
        int sum = hsum_s32x4(vpaddlq_s16(s));
        b[i].s = slm_f32_to_fp16((float)sum * d);
    }
}

ARM_FN void arm_q8_K_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q8_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float amax = absmax_n(src, QK_K);
        if (!amax) {
            memset(&b[i], 0, sizeof(b[i]));
            continue;
        }
        /* the first element of largest magnitude, with its sign, as the generic code */
        float max = amax;
        for (int k = 0; k < QK_K; k++) {
            if (src[k] == amax || src[k] == -amax) {
                max = src[k];
                break;
            }
        }
        float iscale = -127.f / max;
        for (int k = 0; k < QK_K; k += 32)
            round_pack_32(src + k, iscale, b[i].qs + k);
        for (int j = 0; j < QK_K / 16; j++) {
            int16x8_t s = vpaddlq_s8(vld1q_s8(b[i].qs + 16 * j));
            b[i].bsums[j] = (int16_t)hsum_s32x4(vpaddlq_s16(s));
        }
        b[i].d = 1 / iscale;
    }
}

/* --------------------------------------------------------- 32-element blocks ---- */

/* Q4_0 quants as int8: elements 0..15 and 16..31, offset removed. */
static inline void q4_0_unpack(const block_q4_0 *b, int8x16_t *lo, int8x16_t *hi)
{
    uint8x16_t q = vld1q_u8(b->qs);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F))), vdupq_n_s8(8));
    *hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), vdupq_n_s8(8));
}

/* Bit 4 of the 32 elements of a Q5 block, as 0x10 / 0x00 bytes. */
static inline void q5_high_bits(const uint8_t qh[4], uint8x16_t *lo, uint8x16_t *hi)
{
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t mask = vld1q_u8(bit), ten = vdupq_n_u8(0x10);
    *lo = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1])), mask), ten);
    *hi = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3])), mask), ten);
}

static inline int32x4_t dot_block32(int8x16_t a0, int8x16_t a1, const int8_t *x)
{
    return dot_s8x16(dot_s8x16(vdupq_n_s32(0), a0, vld1q_s8(x)), a1, vld1q_s8(x + 16));
}

ARM_FN void arm_q4_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q4_0 *wb = w;
    const block_q8_0 *xb = x;
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    int64_t nb = n / QK4_0, i = 0;
    for (; i + 1 < nb; i += 2) {
        int8x16_t l0, h0, l1, h1;
        q4_0_unpack(&wb[i], &l0, &h0);
        q4_0_unpack(&wb[i + 1], &l1, &h1);
        int32x4_t p0 = dot_block32(l0, h0, xb[i].qs), p1 = dot_block32(l1, h1, xb[i + 1].qs);
        acc0 = mla_n_f32(acc0, vcvtq_f32_s32(p0), half_to_float(wb[i].d) * half_to_float(xb[i].d));
        acc1 = mla_n_f32(acc1, vcvtq_f32_s32(p1),
                         half_to_float(wb[i + 1].d) * half_to_float(xb[i + 1].d));
    }
    for (; i < nb; i++) {
        int8x16_t l, h;
        q4_0_unpack(&wb[i], &l, &h);
        acc0 = mla_n_f32(acc0, vcvtq_f32_s32(dot_block32(l, h, xb[i].qs)),
                         half_to_float(wb[i].d) * half_to_float(xb[i].d));
    }
    *s = hsum_f32x4(vaddq_f32(acc0, acc1));
}

ARM_FN void arm_q8_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q8_0 *wb = w;
    const block_q8_0 *xb = x;
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    int64_t nb = n / QK8_0, i = 0;
    for (; i + 1 < nb; i += 2) {
        int32x4_t p0 = dot_block32(vld1q_s8(wb[i].qs), vld1q_s8(wb[i].qs + 16), xb[i].qs);
        int32x4_t p1 = dot_block32(vld1q_s8(wb[i + 1].qs), vld1q_s8(wb[i + 1].qs + 16), xb[i + 1].qs);
        acc0 = mla_n_f32(acc0, vcvtq_f32_s32(p0), half_to_float(wb[i].d) * half_to_float(xb[i].d));
        acc1 = mla_n_f32(acc1, vcvtq_f32_s32(p1),
                         half_to_float(wb[i + 1].d) * half_to_float(xb[i + 1].d));
    }
    for (; i < nb; i++) {
        int32x4_t p = dot_block32(vld1q_s8(wb[i].qs), vld1q_s8(wb[i].qs + 16), xb[i].qs);
        acc0 = mla_n_f32(acc0, vcvtq_f32_s32(p), half_to_float(wb[i].d) * half_to_float(xb[i].d));
    }
    *s = hsum_f32x4(vaddq_f32(acc0, acc1));
}

ARM_FN void arm_q4_1_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q4_1 *wb = w;
    const block_q8_1 *xb = x;
    float32x4_t acc = vdupq_n_f32(0);
    float mins = 0;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        uint8x16_t q = vld1q_u8(wb[i].qs);
        int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(0x0F)));
        int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
        acc = mla_n_f32(acc, vcvtq_f32_s32(dot_block32(lo, hi, xb[i].qs)),
                        half_to_float(wb[i].d) * half_to_float(xb[i].d));
        mins += half_to_float(wb[i].m) * half_to_float(xb[i].s);
    }
    *s = hsum_f32x4(acc) + mins;
}

static inline void q5_unpack(const uint8_t qs[16], const uint8_t qh[4], int offset,
                             int8x16_t *lo, int8x16_t *hi)
{
    uint8x16_t hl, hh, q = vld1q_u8(qs);
    q5_high_bits(qh, &hl, &hh);
    *lo = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, vdupq_n_u8(0x0F)), hl)),
                   vdupq_n_s8((int8_t)offset));
    *hi = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), hh)), vdupq_n_s8((int8_t)offset));
}

ARM_FN void arm_q5_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q5_0 *wb = w;
    const block_q8_0 *xb = x;
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t i = 0; i < n / QK5_0; i++) {
        int8x16_t lo, hi;
        q5_unpack(wb[i].qs, wb[i].qh, 16, &lo, &hi);
        acc = mla_n_f32(acc, vcvtq_f32_s32(dot_block32(lo, hi, xb[i].qs)),
                        half_to_float(wb[i].d) * half_to_float(xb[i].d));
    }
    *s = hsum_f32x4(acc);
}

ARM_FN void arm_q5_1_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q5_1 *wb = w;
    const block_q8_1 *xb = x;
    float32x4_t acc = vdupq_n_f32(0);
    float mins = 0;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        int8x16_t lo, hi;
        q5_unpack(wb[i].qs, wb[i].qh, 0, &lo, &hi);
        acc = mla_n_f32(acc, vcvtq_f32_s32(dot_block32(lo, hi, xb[i].qs)),
                        half_to_float(wb[i].d) * half_to_float(xb[i].d));
        mins += half_to_float(wb[i].m) * half_to_float(xb[i].s);
    }
    *s = hsum_f32x4(acc) + mins;
}

/* ----------------------------------------------------------------- K-quants ---- */

/* sum_j mins[j] * (bsums[2j] + bsums[2j + 1]) */
static inline int k4_min_term(const uint8_t mins[8], const int16_t bsums[16])
{
    int sum = 0;
    for (int j = 0; j < 8; j++)
        sum += mins[j] * (bsums[2 * j] + bsums[2 * j + 1]);
    return sum;
}

/* Group g (64 elements) of a Q4_K block: q[0], q[1] the low nibbles (sub-block 2g),
 * q[2], q[3] the high ones (sub-block 2g + 1). */
static inline void q4_K_group(const block_q4_K *b, int g, int8x16_t q[4])
{
    uint8x16_t a = vld1q_u8(b->qs + 32 * g), c = vld1q_u8(b->qs + 32 * g + 16);
    const uint8x16_t low = vdupq_n_u8(0x0F);
    q[0] = vreinterpretq_s8_u8(vandq_u8(a, low));
    q[1] = vreinterpretq_s8_u8(vandq_u8(c, low));
    q[2] = vreinterpretq_s8_u8(vshrq_n_u8(a, 4));
    q[3] = vreinterpretq_s8_u8(vshrq_n_u8(c, 4));
}

/* Q5_K: the same plus bit 4 = bit 2g (low half) or 2g + 1 (high half) of qh[l]. */
static inline void q5_K_group(const block_q5_K *b, int g, int8x16_t q[4])
{
    uint8x16_t a = vld1q_u8(b->qs + 32 * g), c = vld1q_u8(b->qs + 32 * g + 16);
    uint8x16_t h0 = vld1q_u8(b->qh), h1 = vld1q_u8(b->qh + 16);
    const uint8x16_t low = vdupq_n_u8(0x0F), ten = vdupq_n_u8(0x10);
    const uint8x16_t blo = vdupq_n_u8((uint8_t)(1u << (2 * g)));
    const uint8x16_t bhi = vdupq_n_u8((uint8_t)(1u << (2 * g + 1)));
    q[0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(a, low), vandq_u8(vtstq_u8(h0, blo), ten)));
    q[1] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(c, low), vandq_u8(vtstq_u8(h1, blo), ten)));
    q[2] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(a, 4), vandq_u8(vtstq_u8(h0, bhi), ten)));
    q[3] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(c, 4), vandq_u8(vtstq_u8(h1, bhi), ten)));
}

/* The integer sum of scale * dot over a Q4_K/Q5_K block. */
#define ARM_K4_BLOCK_DOT(group_fn, wblock, xblock, sc, result)                             \
    do {                                                                                   \
        int32x4_t sum_ = vdupq_n_s32(0);                                                   \
        for (int g_ = 0; g_ < 4; g_++) {                                                   \
            int8x16_t q_[4];                                                               \
            group_fn(wblock, g_, q_);                                                      \
            const int8_t *xq_ = (xblock)->qs + 64 * g_;                                    \
            int32x4_t lo_ = dot_block32(q_[0], q_[1], xq_);                                \
            int32x4_t hi_ = dot_block32(q_[2], q_[3], xq_ + 32);                           \
            sum_ = vmlaq_n_s32(sum_, lo_, (sc)[2 * g_]);                                   \
            sum_ = vmlaq_n_s32(sum_, hi_, (sc)[2 * g_ + 1]);                               \
        }                                                                                  \
        (result) = sum_;                                                                   \
    } while (0)

/* Q4_K and Q5_K share the super-block layout (scales, mins, d, dmin); only how a group's
 * quants are loaded differs. */
#define ARM_DEFINE_K4_VEC_DOT(name, block_t, group)                                        \
    ARM_FN void name(int64_t n, float *restrict s, const void *restrict w,                \
                     const void *restrict x)                                               \
    {                                                                                      \
        const block_t *wb = w;                                                             \
        const block_q8_K *xb = x;                                                          \
        float32x4_t acc = vdupq_n_f32(0);                                                  \
        float mins = 0;                                                                    \
        for (int64_t i = 0; i < n / QK_K; i++) {                                           \
            uint8_t sc[8], mn[8];                                                          \
            slm_k4_unpack_scales(wb[i].scales, sc, mn);                                    \
            int32x4_t p;                                                                   \
            ARM_K4_BLOCK_DOT(group, &wb[i], &xb[i], sc, p);                                \
            acc = mla_n_f32(acc, vcvtq_f32_s32(p), half_to_float(wb[i].d) * xb[i].d);      \
            mins += half_to_float(wb[i].dmin) * xb[i].d *                                  \
                    (float)k4_min_term(mn, xb[i].bsums);                                   \
        }                                                                                  \
        *s = hsum_f32x4(acc) - mins;                                                       \
    }

ARM_DEFINE_K4_VEC_DOT(arm_q4_K_vec_dot, block_q4_K, q4_K_group)
ARM_DEFINE_K4_VEC_DOT(arm_q5_K_vec_dot, block_q5_K, q5_K_group)

/* Quarter k (32 elements, two sub-blocks of 16) of half h of a Q6_K block, centred. */
static inline void q6_K_quarter(const block_q6_K *b, int h, int k, int8x16_t q[2])
{
    const uint8_t *ql = b->ql + 64 * h + 32 * (k & 1), *qh = b->qh + 32 * h;
    for (int t = 0; t < 2; t++) {
        uint8x16_t l = vld1q_u8(ql + 16 * t), hb = vld1q_u8(qh + 16 * t);
        uint8x16_t lo4 = k < 2 ? vandq_u8(l, vdupq_n_u8(0x0F)) : vshrq_n_u8(l, 4);
        uint8x16_t hi2;
        switch (k) {
        case 0: hi2 = vandq_u8(hb, vdupq_n_u8(3)); break;
        case 1: hi2 = vandq_u8(vshrq_n_u8(hb, 2), vdupq_n_u8(3)); break;
        case 2: hi2 = vandq_u8(vshrq_n_u8(hb, 4), vdupq_n_u8(3)); break;
        default: hi2 = vshrq_n_u8(hb, 6); break;
        }
        q[t] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo4, vshlq_n_u8(hi2, 4))), vdupq_n_s8(32));
    }
}

ARM_FN void arm_q6_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q6_K *wb = w;
    const block_q8_K *xb = x;
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t i = 0; i < n / QK_K; i++) {
        int32x4_t sum = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            for (int k = 0; k < 4; k++) {
                int8x16_t q[2];
                q6_K_quarter(&wb[i], h, k, q);
                const int8_t *xq = xb[i].qs + 128 * h + 32 * k;
                int j = 8 * h + 2 * k;
                sum = vmlaq_n_s32(sum, dot_s8x16(vdupq_n_s32(0), q[0], vld1q_s8(xq)), wb[i].scales[j]);
                sum = vmlaq_n_s32(sum, dot_s8x16(vdupq_n_s32(0), q[1], vld1q_s8(xq + 16)),
                                  wb[i].scales[j + 1]);
            }
        }
        acc = mla_n_f32(acc, vcvtq_f32_s32(sum), half_to_float(wb[i].d) * xb[i].d);
    }
    *s = hsum_f32x4(acc);
}

ARM_FN void arm_q2_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q2_K *wb = w;
    const block_q8_K *xb = x;
    float32x4_t acc = vdupq_n_f32(0);
    float mins_total = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int mins = 0;
        for (int j = 0; j < 16; j++)
            mins += (wb[i].scales[j] >> 4) * xb[i].bsums[j];
        int32x4_t sum = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            uint8x16_t q0 = vld1q_u8(wb[i].qs + 32 * h), q1 = vld1q_u8(wb[i].qs + 32 * h + 16);
            for (int k = 0; k < 4; k++) {
                int8x16_t v0 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q0, vdupq_n_s8((int8_t)(-2 * k))), vdupq_n_u8(3)));
                int8x16_t v1 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(q1, vdupq_n_s8((int8_t)(-2 * k))), vdupq_n_u8(3)));
                const int8_t *xq = xb[i].qs + 128 * h + 32 * k;
                int j = 8 * h + 2 * k;
                sum = vmlaq_n_s32(sum, dot_s8x16(vdupq_n_s32(0), v0, vld1q_s8(xq)), wb[i].scales[j] & 0xF);
                sum = vmlaq_n_s32(sum, dot_s8x16(vdupq_n_s32(0), v1, vld1q_s8(xq + 16)),
                                  wb[i].scales[j + 1] & 0xF);
            }
        }
        acc = mla_n_f32(acc, vcvtq_f32_s32(sum), half_to_float(wb[i].d) * xb[i].d);
        mins_total += half_to_float(wb[i].dmin) * xb[i].d * (float)mins;
    }
    *s = hsum_f32x4(acc) - mins_total;
}

ARM_FN void arm_q3_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q3_K *wb = w;
    const block_q8_K *xb = x;
    float32x4_t acc = vdupq_n_f32(0);
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8x16_t m0 = vld1q_u8(wb[i].hmask), m1 = vld1q_u8(wb[i].hmask + 16);
        int32x4_t sum = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            uint8x16_t q0 = vld1q_u8(wb[i].qs + 32 * h), q1 = vld1q_u8(wb[i].qs + 32 * h + 16);
            for (int k = 0; k < 4; k++) {
                int8x16_t shift = vdupq_n_s8((int8_t)(-2 * k));
                uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << (4 * h + k)));
                /* low 2 bits, plus 4 where the high bit is set, minus 4 */
                uint8x16_t u0 = vorrq_u8(vandq_u8(vshlq_u8(q0, shift), vdupq_n_u8(3)),
                                         vandq_u8(vtstq_u8(m0, bit), vdupq_n_u8(4)));
                uint8x16_t u1 = vorrq_u8(vandq_u8(vshlq_u8(q1, shift), vdupq_n_u8(3)),
                                         vandq_u8(vtstq_u8(m1, bit), vdupq_n_u8(4)));
                int8x16_t v0 = vsubq_s8(vreinterpretq_s8_u8(u0), vdupq_n_s8(4));
                int8x16_t v1 = vsubq_s8(vreinterpretq_s8_u8(u1), vdupq_n_s8(4));
                const int8_t *xq = xb[i].qs + 128 * h + 32 * k;
                int j = 8 * h + 2 * k;
                sum = vmlaq_n_s32(sum, dot_s8x16(vdupq_n_s32(0), v0, vld1q_s8(xq)),
                                  slm_q3_K_scale(j, wb[i].scales));
                sum = vmlaq_n_s32(sum, dot_s8x16(vdupq_n_s32(0), v1, vld1q_s8(xq + 16)),
                                  slm_q3_K_scale(j + 1, wb[i].scales));
            }
        }
        acc = mla_n_f32(acc, vcvtq_f32_s32(sum), half_to_float(wb[i].d) * xb[i].d);
    }
    *s = hsum_f32x4(acc);
}

/* The vec_dot of every quantized type; each kernel file that includes this header
 * (baseline NEON, dotprod) installs its own compilation of them. */
static inline void arm_install_quant_dots(struct slm_type_traits traits[SLM_TYPE_COUNT])
{
    traits[SLM_TYPE_Q4_0].vec_dot = arm_q4_0_vec_dot;
    traits[SLM_TYPE_Q4_1].vec_dot = arm_q4_1_vec_dot;
    traits[SLM_TYPE_Q5_0].vec_dot = arm_q5_0_vec_dot;
    traits[SLM_TYPE_Q5_1].vec_dot = arm_q5_1_vec_dot;
    traits[SLM_TYPE_Q8_0].vec_dot = arm_q8_0_vec_dot;
    traits[SLM_TYPE_Q2_K].vec_dot = arm_q2_K_vec_dot;
    traits[SLM_TYPE_Q3_K].vec_dot = arm_q3_K_vec_dot;
    traits[SLM_TYPE_Q4_K].vec_dot = arm_q4_K_vec_dot;
    traits[SLM_TYPE_Q5_K].vec_dot = arm_q5_K_vec_dot;
    traits[SLM_TYPE_Q6_K].vec_dot = arm_q6_K_vec_dot;
}

#endif
