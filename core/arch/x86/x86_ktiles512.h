/* 512-bit gemm tiles for Q4_K, Q5_K and Q6_K weights against Q8_K activations.
 * Included by the AVX-512 level files; pair sums are scaled with vpdpwssd under VNNI and
 * vpmaddwd + vpaddd otherwise.
 *
 * A zmm load of 64 quant bytes of a Q4_K/Q5_K block yields sub-blocks 0 and 2 in its low
 * nibbles and 1 and 3 in its high ones, so these tiles read activations whose 32-byte
 * chunks are reordered to match: "Q8_K k4 layout" = block_q8_K with qs chunks in the
 * order 0 2 1 3 4 6 5 7 (d and bsums unchanged, bsums still in element order). Q6_K
 * reads plain Q8_K. */
#ifndef SLM_ARCH_X86_KTILES512_H
#define SLM_ARCH_X86_KTILES512_H

#include "arch/x86/x86_quants.h"

#if defined(__AVX512VNNI__)
static inline __m512i madd_i16_add512(__m512i acc, __m512i a, __m512i b)
{
    return _mm512_dpwssd_epi32(acc, a, b);
}
#else
static inline __m512i madd_i16_add512(__m512i acc, __m512i a, __m512i b)
{
    return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
}
#endif

static inline void k4_layout_from_float(const float *restrict src, void *restrict dst,
                                        int64_t n)
{
    static const int order[8] = {0, 2, 1, 3, 4, 6, 5, 7};
    block_q8_K *b = dst;
    x86_q8_K_from_float(src, dst, n);
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t qs[QK_K];
        memcpy(qs, b[i].qs, QK_K);
        for (int k = 0; k < 8; k++)
            memcpy(b[i].qs + 32 * k, qs + 32 * order[k], 32);
    }
}

/* The scales and mins of a Q4_K/Q5_K block straight into vectors (the same unpacking as
 * slm_k4_unpack_scales, on 32-bit lanes): s[k] are the scale pairs of the k4 layout -
 * sub-blocks (0,2), (1,3), (4,6), (5,7), 16 int16 lanes each - and *mins16 the 8 mins,
 * each twice, as int16 (for a madd with the 16 bsums). Reads 16 bytes from `packed`:
 * the 12 scale bytes and 4 bytes of the quants that follow them in the block. */
static inline __attribute__((always_inline)) void k4_scales512(const uint8_t *packed,
                                                               __m512i s[4], __m256i *mins16)
{
    static const uint16_t idx[5][32] = {
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
        {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
        {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6},
        {5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7},
        {8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15}};
    __m128i v = _mm_loadu_si128((const __m128i *)packed); /* words a, b, c */
    /* lanes [a, c, b, c >> 4] masked to the low bits, [-, a, -, b] >> 2 for the top bits */
    __m128i low = _mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0)),
                                 _mm_setr_epi32(0, 0, 0, 4));
    low = _mm_and_si128(low, _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
    __m128i high = _mm_srli_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0)), 2);
    high = _mm_and_si128(high, _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
    /* int16 lanes 0..7: scales 0..7; 8..15: mins 0..7 */
    __m256i all = _mm256_cvtepu8_epi16(_mm_or_si128(low, high));
    __m512i all512 = _mm512_castsi256_si512(all);
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++)
        s[k] = _mm512_permutexvar_epi16(_mm512_loadu_si512(idx[k]), all512);
    *mins16 = _mm256_permutexvar_epi16(_mm256_loadu_si256((const __m256i *)idx[4]), all);
}

/* The per-(row, token) step shared by the three types: four 64-byte quant vectors times
 * the token's four activation vectors, each pair sum scaled per lane. */
static inline __attribute__((always_inline)) __m512i k_dot4(const __m512i q[4], const __m512i x[4], const __m512i s[4])
{
    __m512i acc = _mm512_setzero_si512();
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++)
        acc = madd_i16_add512(acc, _mm512_maddubs_epi16(q[k], x[k]), s[k]);
    return acc;
}

/* Weight quants of a Q4_K block for the k4 layout: q[0] = sub-blocks 0|2, q[1] = 1|3,
 * q[2] = 4|6, q[3] = 5|7; s[k] the matching scale pairs. */
static inline __attribute__((always_inline)) void q4_K_load512(const block_q4_K *b, __m512i q[4],
                                                                __m512i s[4], __m256i *mins16)
{
    const __m512i low = _mm512_set1_epi8(0x0F);
    __m512i a = _mm512_loadu_si512(b->qs), c = _mm512_loadu_si512(b->qs + 64);
    q[0] = _mm512_and_si512(a, low);
    q[1] = _mm512_and_si512(_mm512_srli_epi16(a, 4), low);
    q[2] = _mm512_and_si512(c, low);
    q[3] = _mm512_and_si512(_mm512_srli_epi16(c, 4), low);
    k4_scales512(b->scales, s, mins16);
}

/* Q5_K: as Q4_K, plus bit 4 of element (sub-block j, l) = bit j of qh[l]. */
static inline __attribute__((always_inline)) void q5_K_load512(const block_q5_K *b, __m512i q[4],
                                                                __m512i s[4], __m256i *mins16)
{
    const __m512i low = _mm512_set1_epi8(0x0F), one = _mm512_set1_epi8(1);
    __m512i a = _mm512_loadu_si512(b->qs), c = _mm512_loadu_si512(b->qs + 64);
    __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)b->qh));
    /* vector k holds sub-blocks (j0, j1) = (0,2), (1,3), (4,6), (5,7) */
    static const int j0[4] = {0, 1, 4, 5};
    __m512i nib[4] = {_mm512_and_si512(a, low), _mm512_and_si512(_mm512_srli_epi16(a, 4), low),
                      _mm512_and_si512(c, low), _mm512_and_si512(_mm512_srli_epi16(c, 4), low)};
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
        __m512i shift = _mm512_inserti64x4(_mm512_set1_epi16((short)j0[k]),
                                           _mm256_set1_epi16((short)(j0[k] + 2)), 1);
        __m512i bit = _mm512_and_si512(_mm512_srlv_epi16(qh, shift), one);
        q[k] = _mm512_or_si512(nib[k], _mm512_slli_epi16(bit, 4));
    }
    k4_scales512(b->scales, s, mins16);
}

#define X512_K_ROW(base, stride, i) ((const uint8_t *)(base) + (size_t)(i) * (stride))

/* Q4_K / Q5_K tile. Per block and row: the quants and scale vectors once; per (row,
 * token): four pair-sum dots, the min term (mins against the token's bsums, 8 lanes)
 * and two fused multiply-adds into the row's accumulator. */
#define X512_DEFINE_K4_TILE(name, R, C, wtype, load512)                                    \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        const wtype *wr[R];                                                                \
        const block_q8_K *xr[C];                                                           \
        for (int r = 0; r < (R); r++)                                                      \
            wr[r] = (const wtype *)X512_K_ROW(w, w_stride, r < nr ? r : nr - 1);           \
        for (int c = 0; c < (C); c++)                                                      \
            xr[c] = (const block_q8_K *)X512_K_ROW(x, x_stride, c < nc ? c : nc - 1);     \
        X512_TILE_ACC(R, C)                                                                \
        for (int64_t i = 0; i < n / QK_K; i++) {                                           \
            __m512i xv[C][4];                                                              \
            __m256i bsums[C];                                                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                          \
            {                                                                              \
                _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) xv[c][k] =            \
                    _mm512_loadu_si512(xr[c][i].qs + 64 * k);                              \
                bsums[c] = _mm256_loadu_si256((const __m256i *)xr[c][i].bsums);            \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                __m512i q[4], s[4];                                                        \
                __m256i mins16;                                                            \
                load512(&wr[r][i], q, s, &mins16);                                         \
                float d = half_to_float(wr[r][i].d), dmin = half_to_float(wr[r][i].dmin);  \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                      \
                {                                                                          \
                    __m512i p = k_dot4(q, xv[c], s);                                       \
                    __m256 m = _mm256_cvtepi32_ps(_mm256_madd_epi16(mins16, bsums[c]));    \
                    acc[r][c] = _mm512_fmadd_ps(_mm512_set1_ps(d * xr[c][i].d),            \
                                                _mm512_cvtepi32_ps(p), acc[r][c]);         \
                    acc[r][c] = _mm512_fmadd_ps(_mm512_set1_ps(-dmin * xr[c][i].d),        \
                                                _mm512_zextps256_ps512(m), acc[r][c]);     \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        X512_TILE_STORE()                                                                  \
    }

/* Q6_K quants of one 128-element half: q[0] = elements 0..63, q[1] = 64..127 (the low
 * and high nibbles of ql, each lane's top bits from qh: bits 2k of qh[l] for quarter k). */
static inline __attribute__((always_inline)) void q6_K_load_half512(const block_q6_K *b, int h, __m512i q[2], __m512i s[2])
{
    const __m512i low = _mm512_set1_epi8(0x0F), three = _mm512_set1_epi8(3);
    __m512i ql = _mm512_loadu_si512(b->ql + 64 * h);
    __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(b->qh + 32 * h)));
    const __m512i shift_lo = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
    const __m512i shift_hi = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
    __m512i hlo = _mm512_and_si512(_mm512_srlv_epi16(qh, shift_lo), three);
    __m512i hhi = _mm512_and_si512(_mm512_srlv_epi16(qh, shift_hi), three);
    q[0] = _mm512_or_si512(_mm512_and_si512(ql, low), _mm512_slli_epi16(hlo, 4));
    q[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low),
                           _mm512_slli_epi16(hhi, 4));
    /* scales per 16 elements: int16 lanes 8k..8k+7 of vector v use scale 4v + k */
    const int8_t *sc = b->scales + 8 * h;
    __m512i all = _mm512_broadcast_i64x4(_mm256_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)sc)));
    static const uint16_t idx0[32] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                      2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
    static const uint16_t idx1[32] = {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5,
                                      6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7};
    s[0] = _mm512_permutexvar_epi16(_mm512_loadu_si512(idx0), all);
    s[1] = _mm512_permutexvar_epi16(_mm512_loadu_si512(idx1), all);
}

#define X512_DEFINE_Q6_K_TILE(name, R, C)                                                  \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        const block_q6_K *wr[R];                                                           \
        const block_q8_K *xr[C];                                                           \
        for (int r = 0; r < (R); r++)                                                      \
            wr[r] = (const block_q6_K *)X512_K_ROW(w, w_stride, r < nr ? r : nr - 1);      \
        for (int c = 0; c < (C); c++)                                                      \
            xr[c] = (const block_q8_K *)X512_K_ROW(x, x_stride, c < nc ? c : nc - 1);     \
        X512_TILE_ACC(R, C)                                                                \
        for (int64_t i = 0; i < n / QK_K; i++) {                                           \
            __m512i xv[C][4];                                                              \
            __m256i bsums[C];                                                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                          \
            {                                                                              \
                _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) xv[c][k] =            \
                    _mm512_loadu_si512(xr[c][i].qs + 64 * k);                              \
                bsums[c] = _mm256_loadu_si256((const __m256i *)xr[c][i].bsums);            \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                __m512i q[4], s[4];                                                        \
                q6_K_load_half512(&wr[r][i], 0, q, s);                                     \
                q6_K_load_half512(&wr[r][i], 1, q + 2, s + 2);                             \
                __m256i sc16 =                                                             \
                    _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wr[r][i].scales)); \
                float d = half_to_float(wr[r][i].d);                                       \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                      \
                {                                                                          \
                    __m512i p = k_dot4(q, xv[c], s);                                       \
                    __m256 off = _mm256_cvtepi32_ps(_mm256_madd_epi16(sc16, bsums[c]));    \
                    float dd = d * xr[c][i].d;                                             \
                    acc[r][c] = _mm512_fmadd_ps(_mm512_set1_ps(dd), _mm512_cvtepi32_ps(p), \
                                                acc[r][c]);                                \
                    acc[r][c] = _mm512_fmadd_ps(_mm512_set1_ps(-32.0f * dd),               \
                                                _mm512_zextps256_ps512(off), acc[r][c]);   \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        X512_TILE_STORE()                                                                  \
    }

#endif
