/* Quantized dot products, activation quantizers and gemm tiles on 256-bit registers.
 * Included by kernels_avx2.c and (with VNNI integer dots) kernels_avx512_vnni.c; every
 * function mirrors the generic kernel of the same name in core/quant and is tested
 * against it. */
#ifndef SLM_ARCH_X86_QUANTS_H
#define SLM_ARCH_X86_QUANTS_H

#include "arch/x86/x86_common.h"
#include "quant/blocks.h"
#include "quant/quants.h"

/* ---------------------------------------------------------------- activations ---- */

/* Largest |x| over 32 floats. */
static inline float absmax_32(const float *x, __m256 v[4])
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_loadu_ps(x + 8 * k);
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[k]));
    }
    return hmax_ps256(m);
}

/* 32 floats * id, rounded to nearest even, packed to int8 in element order. */
static inline __m256i round_pack_32(const __m256 v[4], __m256 id)
{
    __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v[0], id));
    __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v[1], id));
    __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v[2], id));
    __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v[3], id));
    /* packs work within 128-bit lanes; the permute restores the order */
    __m256i p01 = _mm256_packs_epi32(i0, i1), p23 = _mm256_packs_epi32(i2, i3);
    __m256i p = _mm256_packs_epi16(p01, p23);
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static inline void x86_q8_0_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++, src += QK8_0) {
        __m256 v[4];
        float d = absmax_32(src, v) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_si256((__m256i *)b[i].qs, round_pack_32(v, _mm256_set1_ps(id)));
    }
}

static inline void x86_q8_1_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++, src += QK8_1) {
        __m256 v[4];
        float d = absmax_32(src, v) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        __m256i q = round_pack_32(v, _mm256_set1_ps(id));
        _mm256_storeu_si256((__m256i *)b[i].qs, q);
        int sum = hsum_epi32_256(dot_s8s8_add(_mm256_setzero_si256(), _mm256_set1_epi8(1), q));
        b[i].s = _cvtss_sh((float)sum * d, _MM_FROUND_TO_NEAREST_INT);
    }
}

static inline void x86_q8_K_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    block_q8_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < QK_K; k += 8)
            m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(src + k)));
        float amax = hmax_ps256(m);
        if (!amax) {
            memset(&b[i], 0, sizeof(b[i]));
            continue;
        }
        /* The generic quantizer scales by the first element of largest magnitude, sign
         * included. */
        float max = amax;
        for (int k = 0; k < QK_K; k++) {
            if (src[k] == amax || src[k] == -amax) {
                max = src[k];
                break;
            }
        }
        float iscale = -127.f / max;
        __m256 vs = _mm256_set1_ps(iscale);
        for (int k = 0; k < QK_K; k += 32) {
            __m256 v[4];
            for (int j = 0; j < 4; j++)
                v[j] = _mm256_loadu_ps(src + k + 8 * j);
            __m256i q = round_pack_32(v, vs);
            /* iscale * x can round to 128 only for x = -max (it is then -127 exactly), but
             * keep the generic clamp for bit equality. */
            q = _mm256_min_epi8(q, _mm256_set1_epi8(127));
            _mm256_storeu_si256((__m256i *)(b[i].qs + k), q);
            /* sums of 16: pairs via maddubs with ones, then pairs of pairs */
            __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), q);
            __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1)); /* 8 sums of 4 */
            int32_t part[8];
            _mm256_storeu_si256((__m256i *)part, s32);
            b[i].bsums[k / 16] = (int16_t)(part[0] + part[1] + part[2] + part[3]);
            b[i].bsums[k / 16 + 1] = (int16_t)(part[4] + part[5] + part[6] + part[7]);
        }
        b[i].d = 1 / iscale;
    }
}

/* --------------------------------------------------------- 32-element blocks ---- */

static inline __m256i load_q4_0(const block_q4_0 *b)
{
    return _mm256_sub_epi8(unpack_nibbles_128(b->qs), _mm256_set1_epi8(8));
}

static inline void x86_q4_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q4_0 *wb = w;
    const block_q8_0 *xb = x;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t nb = n / QK4_0, i = 0;
    for (; i + 1 < nb; i += 2) {
        __m256i p0 = dot_s8s8_add(_mm256_setzero_si256(), load_q4_0(&wb[i]),
                                  _mm256_loadu_si256((const __m256i *)xb[i].qs));
        __m256i p1 = dot_s8s8_add(_mm256_setzero_si256(), load_q4_0(&wb[i + 1]),
                                  _mm256_loadu_si256((const __m256i *)xb[i + 1].qs));
        float d0 = half_to_float(wb[i].d) * half_to_float(xb[i].d);
        float d1 = half_to_float(wb[i + 1].d) * half_to_float(xb[i + 1].d);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; i++) {
        __m256i p = dot_s8s8_add(_mm256_setzero_si256(), load_q4_0(&wb[i]),
                                 _mm256_loadu_si256((const __m256i *)xb[i].qs));
        float d = half_to_float(wb[i].d) * half_to_float(xb[i].d);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc0);
    }
    *s = hsum_ps256(_mm256_add_ps(acc0, acc1));
}

static inline void x86_q8_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q8_0 *wb = w;
    const block_q8_0 *xb = x;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t nb = n / QK8_0, i = 0;
    for (; i + 1 < nb; i += 2) {
        __m256i p0 = dot_s8s8_add(_mm256_setzero_si256(),
                                  _mm256_loadu_si256((const __m256i *)wb[i].qs),
                                  _mm256_loadu_si256((const __m256i *)xb[i].qs));
        __m256i p1 = dot_s8s8_add(_mm256_setzero_si256(),
                                  _mm256_loadu_si256((const __m256i *)wb[i + 1].qs),
                                  _mm256_loadu_si256((const __m256i *)xb[i + 1].qs));
        float d0 = half_to_float(wb[i].d) * half_to_float(xb[i].d);
        float d1 = half_to_float(wb[i + 1].d) * half_to_float(xb[i + 1].d);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; i < nb; i++) {
        __m256i p = dot_s8s8_add(_mm256_setzero_si256(),
                                 _mm256_loadu_si256((const __m256i *)wb[i].qs),
                                 _mm256_loadu_si256((const __m256i *)xb[i].qs));
        float d = half_to_float(wb[i].d) * half_to_float(xb[i].d);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc0);
    }
    *s = hsum_ps256(_mm256_add_ps(acc0, acc1));
}

static inline void x86_q4_1_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q4_1 *wb = w;
    const block_q8_1 *xb = x;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        __m256i p = dot_u8s8_add(_mm256_setzero_si256(), unpack_nibbles_128(wb[i].qs),
                                 _mm256_loadu_si256((const __m256i *)xb[i].qs));
        float d = half_to_float(wb[i].d) * half_to_float(xb[i].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc);
        mins += half_to_float(wb[i].m) * half_to_float(xb[i].s);
    }
    *s = hsum_ps256(acc) + mins;
}

/* Q5 elements 0..31 as bytes: nibble | bit 4 from qh. */
static inline __m256i load_q5(const uint8_t qs[16], const uint8_t qh[4])
{
    __m256i high = _mm256_and_si256(expand_bits_32(qh), _mm256_set1_epi8(0x10));
    return _mm256_or_si256(unpack_nibbles_128(qs), high);
}

static inline void x86_q5_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q5_0 *wb = w;
    const block_q8_0 *xb = x;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK5_0; i++) {
        __m256i q = _mm256_sub_epi8(load_q5(wb[i].qs, wb[i].qh), _mm256_set1_epi8(16));
        __m256i p = dot_s8s8_add(_mm256_setzero_si256(), q,
                                 _mm256_loadu_si256((const __m256i *)xb[i].qs));
        float d = half_to_float(wb[i].d) * half_to_float(xb[i].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc);
    }
    *s = hsum_ps256(acc);
}

static inline void x86_q5_1_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q5_1 *wb = w;
    const block_q8_1 *xb = x;
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        __m256i p = dot_u8s8_add(_mm256_setzero_si256(), load_q5(wb[i].qs, wb[i].qh),
                                 _mm256_loadu_si256((const __m256i *)xb[i].qs));
        float d = half_to_float(wb[i].d) * half_to_float(xb[i].d);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc);
        mins += half_to_float(wb[i].m) * half_to_float(xb[i].s);
    }
    *s = hsum_ps256(acc) + mins;
}

/* ----------------------------------------------------------------- K-quants ---- */

/* Broadcast the two int16 scales of a 32-element group: lanes 0..7 get a, 8..15 get b
 * (maddubs of 32 bytes gives 16 pair sums: 0..7 from bytes 0..15, 8..15 from 16..31). */
static inline __m256i scale_pair(int a, int b)
{
    return _mm256_setr_m128i(_mm_set1_epi16((short)a), _mm_set1_epi16((short)b));
}

/* sum over 32 elements of u * x scaled per 16 (u <= 63 unsigned, x int8). */
static inline __m256i dot_scaled_16(__m256i acc, __m256i u, __m256i x, __m256i scales)
{
    return madd_i16_add(acc, _mm256_maddubs_epi16(u, x), scales);
}

/* The same with one scale for all 32 elements. */
static inline __m256i dot_scaled_32(__m256i acc, __m256i u, __m256i x, int scale)
{
    return madd_i16_add(acc, _mm256_maddubs_epi16(u, x), _mm256_set1_epi16((short)scale));
}

/* Q4_K/Q5_K mins against the activations' sums of 16: sum_j min_j * (bsums[2j] +
 * bsums[2j + 1]). */
static inline int k4_min_term(const uint8_t mins[8], const int16_t bsums[16])
{
    int sum = 0;
    for (int j = 0; j < 8; j++)
        sum += mins[j] * (bsums[2 * j] + bsums[2 * j + 1]);
    return sum;
}

static inline void k4_scales(const uint8_t packed[12], uint8_t scales[8], uint8_t mins[8])
{
    slm_k4_unpack_scales(packed, scales, mins);
}

/* One Q4_K super-block against one Q8_K block: the integer sum of scale * dot. */
static inline __m256i q4_K_block_dot(const block_q4_K *w, const block_q8_K *x,
                                     const uint8_t sc[8])
{
    const __m256i low = _mm256_set1_epi8(0x0F);
    __m256i acc = _mm256_setzero_si256();
    for (int g = 0; g < 4; g++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(w->qs + 32 * g));
        __m256i qlo = _mm256_and_si256(q, low);
        __m256i qhi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
        acc = dot_scaled_32(acc, qlo, _mm256_loadu_si256((const __m256i *)(x->qs + 64 * g)),
                            sc[2 * g]);
        acc = dot_scaled_32(acc, qhi,
                            _mm256_loadu_si256((const __m256i *)(x->qs + 64 * g + 32)),
                            sc[2 * g + 1]);
    }
    return acc;
}

static inline void x86_q4_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q4_K *wb = w;
    const block_q8_K *xb = x;
    __m256 acc = _mm256_setzero_ps();
    float mins_total = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        k4_scales(wb[i].scales, sc, mn);
        __m256i p = q4_K_block_dot(&wb[i], &xb[i], sc);
        float d = half_to_float(wb[i].d) * xb[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc);
        mins_total += half_to_float(wb[i].dmin) * xb[i].d * (float)k4_min_term(mn, xb[i].bsums);
    }
    *s = hsum_ps256(acc) - mins_total;
}

static inline __m256i q5_K_block_dot(const block_q5_K *w, const block_q8_K *x,
                                     const uint8_t sc[8])
{
    const __m256i low = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    __m256i qh = _mm256_loadu_si256((const __m256i *)w->qh);
    __m256i acc = _mm256_setzero_si256();
    for (int g = 0; g < 4; g++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)(w->qs + 32 * g));
        /* bit 2g of qh[l] is bit 4 of element 64g + l, bit 2g + 1 of element 64g + 32 + l */
        __m256i hlo = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), one), 4);
        __m256i hhi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g + 1), one), 4);
        __m256i qlo = _mm256_or_si256(_mm256_and_si256(q, low), hlo);
        __m256i qhi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low), hhi);
        acc = dot_scaled_32(acc, qlo, _mm256_loadu_si256((const __m256i *)(x->qs + 64 * g)),
                            sc[2 * g]);
        acc = dot_scaled_32(acc, qhi,
                            _mm256_loadu_si256((const __m256i *)(x->qs + 64 * g + 32)),
                            sc[2 * g + 1]);
    }
    return acc;
}

static inline void x86_q5_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q5_K *wb = w;
    const block_q8_K *xb = x;
    __m256 acc = _mm256_setzero_ps();
    float mins_total = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t sc[8], mn[8];
        k4_scales(wb[i].scales, sc, mn);
        __m256i p = q5_K_block_dot(&wb[i], &xb[i], sc);
        float d = half_to_float(wb[i].d) * xb[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc);
        mins_total += half_to_float(wb[i].dmin) * xb[i].d * (float)k4_min_term(mn, xb[i].bsums);
    }
    *s = hsum_ps256(acc) - mins_total;
}

/* Q6_K: the integer sum of scale * q * x with q unsigned (0..63); the caller subtracts
 * 32 * sum(scale * bsums). */
static inline __m256i q6_K_block_dot(const block_q6_K *w, const block_q8_K *x)
{
    const __m256i low = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3);
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = w->ql + 64 * h;
        const int8_t *sc = w->scales + 8 * h;
        const int8_t *xq = x->qs + 128 * h;
        __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
        __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
        __m256i hb = _mm256_loadu_si256((const __m256i *)(w->qh + 32 * h));
        __m256i q[4];
        q[0] = _mm256_or_si256(_mm256_and_si256(l0, low),
                               _mm256_slli_epi16(_mm256_and_si256(hb, three), 4));
        q[1] = _mm256_or_si256(_mm256_and_si256(l1, low),
                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), three), 4));
        q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low),
                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), three), 4));
        q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low),
                               _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), three), 4));
        for (int k = 0; k < 4; k++)
            acc = dot_scaled_16(acc, q[k], _mm256_loadu_si256((const __m256i *)(xq + 32 * k)),
                                scale_pair(sc[2 * k], sc[2 * k + 1]));
    }
    return acc;
}

static inline int q6_K_offset_term(const int8_t scales[16], const int16_t bsums[16])
{
    int sum = 0;
    for (int j = 0; j < 16; j++)
        sum += scales[j] * bsums[j];
    return 32 * sum;
}

static inline void x86_q6_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q6_K *wb = w;
    const block_q8_K *xb = x;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i p = q6_K_block_dot(&wb[i], &xb[i]);
        p = _mm256_sub_epi32(p, _mm256_setr_epi32(q6_K_offset_term(wb[i].scales, xb[i].bsums),
                                                  0, 0, 0, 0, 0, 0, 0));
        float d = half_to_float(wb[i].d) * xb[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc);
    }
    *s = hsum_ps256(acc);
}

static inline void x86_q2_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q2_K *wb = w;
    const block_q8_K *xb = x;
    const __m256i three = _mm256_set1_epi8(3);
    __m256 acc = _mm256_setzero_ps();
    float mins_total = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        __m256i p = _mm256_setzero_si256();
        int mins = 0;
        for (int j = 0; j < 16; j++)
            mins += (wb[i].scales[j] >> 4) * xb[i].bsums[j];
        for (int h = 0; h < 2; h++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(wb[i].qs + 32 * h));
            for (int k = 0; k < 4; k++) {
                __m256i v = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), three);
                int j = 8 * h + 2 * k;
                p = dot_scaled_16(p, v,
                                  _mm256_loadu_si256((const __m256i *)(xb[i].qs + 128 * h + 32 * k)),
                                  scale_pair(wb[i].scales[j] & 0xF, wb[i].scales[j + 1] & 0xF));
            }
        }
        float d = half_to_float(wb[i].d) * xb[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc);
        mins_total += half_to_float(wb[i].dmin) * xb[i].d * (float)mins;
    }
    *s = hsum_ps256(acc) - mins_total;
}

static inline void x86_q3_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                             const void *restrict x)
{
    const block_q3_K *wb = w;
    const block_q8_K *xb = x;
    const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; i++) {
        int sc[16], offset = 0;
        for (int j = 0; j < 16; j++) {
            sc[j] = slm_q3_K_scale(j, wb[i].scales);
            offset += sc[j] * xb[i].bsums[j];
        }
        __m256i hm = _mm256_loadu_si256((const __m256i *)wb[i].hmask);
        __m256i p = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(wb[i].qs + 32 * h));
            for (int k = 0; k < 4; k++) {
                /* q + 4 in 0..7: low 2 bits, plus 4 when the high bit (4h + k) is set */
                __m256i lo2 = _mm256_and_si256(_mm256_srli_epi16(q, 2 * k), three);
                __m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, 4 * h + k), one);
                __m256i v = _mm256_or_si256(lo2, _mm256_slli_epi16(hb, 2));
                int j = 8 * h + 2 * k;
                p = dot_scaled_16(p, v,
                                  _mm256_loadu_si256((const __m256i *)(xb[i].qs + 128 * h + 32 * k)),
                                  scale_pair(sc[j], sc[j + 1]));
            }
        }
        /* the stored values are q + 4 */
        p = _mm256_sub_epi32(p, _mm256_setr_epi32(4 * offset, 0, 0, 0, 0, 0, 0, 0));
        float d = half_to_float(wb[i].d) * xb[i].d;
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(p), acc);
    }
    *s = hsum_ps256(acc);
}

#endif
