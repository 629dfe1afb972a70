/* 512-bit gemm tiles for Q4_0 and Q8_0 weights, on activations regrouped by four blocks.
 * Included by kernels_avx512.c and kernels_avx512_vnni.c; the integer dots use vpdpbusd
 * when the including file is built with AVX512-VNNI, vpmaddubsw + vpmaddwd otherwise.
 *
 * Activation layout "x4" (rows have the size of Q8_0 rows): every group of four Q8_0
 * blocks is stored as its 4 fp16 scales (8 bytes) followed by the 128 quants, so that a
 * group is two zmm loads and one 8-byte load. For Q4_0 the quants are ordered
 * [b0 q0..15 | b1 q0..15 | b2 q0..15 | b3 q0..15][b0 q16..31 | b1 ... ] to match the
 * nibble halves of four weight blocks; for Q8_0 they keep block order. Blocks past the
 * last whole group stay plain block_q8_0. The layout is the same whether a row is
 * quantized whole or in pieces starting at multiples of 128 elements. */
#ifndef SLM_ARCH_X86_TILES512_H
#define SLM_ARCH_X86_TILES512_H

#include "arch/x86/x86_quants.h"

#define X4_BLOCKS 4
#define X4_GROUP_BYTES (X4_BLOCKS * sizeof(block_q8_0)) /* 136 */
#define X4_QS_OFFSET 8

#if defined(__AVX512VNNI__)
static inline __m512i dot_u8s8_add512(__m512i acc, __m512i u, __m512i s)
{
    return _mm512_dpbusd_epi32(acc, u, s);
}
#else
/* Exact while u * s pair sums fit int16: callers pass u <= 15 or |u|, |s| <= 127. */
static inline __m512i dot_u8s8_add512(__m512i acc, __m512i u, __m512i s)
{
    __m512i p = _mm512_maddubs_epi16(u, s);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(p, _mm512_set1_epi16(1)));
}
#endif

/* 4 fp16 scales -> 16 floats, each repeated for the 4 int32 lanes of its block. */
static inline __m512 expand_scales4(__m128 s4)
{
    const __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(s4));
}

/* ... each repeated for the 8 lanes of a 32-quant block, two zmm for four blocks. */
static inline void expand_scales8(__m128 s4, __m512 *s01, __m512 *s23)
{
    const __m512i lo = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i hi = _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    *s01 = _mm512_permutexvar_ps(lo, _mm512_castps128_ps512(s4));
    *s23 = _mm512_permutexvar_ps(hi, _mm512_castps128_ps512(s4));
}

static inline __m128 load_half4(const void *p)
{
    return _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)p));
}

/* ------------------------------------------------------------- activations ---- */

static inline void x4_q4_0_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    int64_t nb = n / QK8_0, groups = nb / X4_BLOCKS;
    uint8_t *out = dst;
    for (int64_t g = 0; g < groups; g++, src += X4_BLOCKS * QK8_0, out += X4_GROUP_BYTES) {
        block_q8_0 b[X4_BLOCKS];
        x86_q8_0_from_float(src, b, X4_BLOCKS * QK8_0);
        uint16_t *d = (uint16_t *)out;
        int8_t *qs = (int8_t *)(out + X4_QS_OFFSET);
        for (int k = 0; k < X4_BLOCKS; k++) {
            d[k] = b[k].d;
            memcpy(qs + 16 * k, b[k].qs, 16);
            memcpy(qs + 64 + 16 * k, b[k].qs + 16, 16);
        }
    }
    x86_q8_0_from_float(src, out, (nb - groups * X4_BLOCKS) * QK8_0);
}

static inline void x4_q8_0_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    int64_t nb = n / QK8_0, groups = nb / X4_BLOCKS;
    uint8_t *out = dst;
    for (int64_t g = 0; g < groups; g++, src += X4_BLOCKS * QK8_0, out += X4_GROUP_BYTES) {
        block_q8_0 b[X4_BLOCKS];
        x86_q8_0_from_float(src, b, X4_BLOCKS * QK8_0);
        uint16_t *d = (uint16_t *)out;
        for (int k = 0; k < X4_BLOCKS; k++) {
            d[k] = b[k].d;
            memcpy(out + X4_QS_OFFSET + 32 * k, b[k].qs, 32);
        }
    }
    x86_q8_0_from_float(src, out, (nb - groups * X4_BLOCKS) * QK8_0);
}

/* --------------------------------------------------------------- weights ---- */

/* Four Q4_0 blocks (72 bytes): their 64 nibble bytes gathered by one word permute (each
 * block's quants start at an even offset), low and high nibbles split, and the four
 * scales. */
static inline void q4_0_load_group(const uint8_t *g, __m512i *lo, __m512i *hi, __m128 *d)
{
    /* word 9k + 1 + j holds bytes 2j, 2j + 1 of block k's quants; words 0, 9, 18, 27 are
     * the scales */
    static const uint16_t gather_idx[32] = {1,  2,  3,  4,  5,  6,  7,  8,  10, 11, 12,
                                            13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24,
                                            25, 26, 28, 29, 30, 31, 32, 33, 34, 35};
    static const uint16_t scale_idx[32] = {0, 9, 18, 27};
    const __m512i gather = _mm512_loadu_si512(gather_idx);
    const __m512i scales = _mm512_loadu_si512(scale_idx);
    __m512i a = _mm512_loadu_si512(g);
    __m512i b = _mm512_castsi128_si512(_mm_loadl_epi64((const __m128i *)(g + 64)));
    __m512i q = _mm512_permutex2var_epi16(a, gather, b);
    *lo = _mm512_and_si512(q, _mm512_set1_epi8(0x0F));
    *hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), _mm512_set1_epi8(0x0F));
    *d = _mm_cvtph_ps(_mm512_castsi512_si128(_mm512_permutexvar_epi16(scales, a)));
}

/* Four Q8_0 blocks (136 bytes): quants in block order, and the scales. */
static inline void q8_0_load_group(const uint8_t *g, __m512i *q01, __m512i *q23, __m128 *d)
{
    const block_q8_0 *b = (const block_q8_0 *)g;
    *q01 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)b[0].qs)),
                              _mm256_loadu_si256((const __m256i *)b[1].qs), 1);
    *q23 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)b[2].qs)),
                              _mm256_loadu_si256((const __m256i *)b[3].qs), 1);
    *d = _mm_cvtph_ps(_mm_setr_epi16((short)b[0].d, (short)b[1].d, (short)b[2].d, (short)b[3].d,
                                     0, 0, 0, 0));
}

/* Sum of w * x over one trailing (ungrouped) block, as a float with both scales. */
static inline float q4_0_tail_block(const block_q4_0 *w, const block_q8_0 *x)
{
    __m256i p = dot_s8s8_add(_mm256_setzero_si256(), load_q4_0(w),
                             _mm256_loadu_si256((const __m256i *)x->qs));
    return (float)hsum_epi32_256(p) * half_to_float(w->d) * half_to_float(x->d);
}

static inline float q8_0_tail_block(const block_q8_0 *w, const block_q8_0 *x)
{
    __m256i p = dot_s8s8_add(_mm256_setzero_si256(), _mm256_loadu_si256((const __m256i *)w->qs),
                             _mm256_loadu_si256((const __m256i *)x->qs));
    return (float)hsum_epi32_256(p) * half_to_float(w->d) * half_to_float(x->d);
}

#define X512_ROW(base, stride, i) ((const uint8_t *)(base) + (size_t)(i) * (stride))

/* Q4_0 x x4: per group and token the activation side is prepared once (the -8 offset of
 * Q4_0 as -8 * sum(x) in the accumulator's start value, the scales spread over lanes);
 * per group and row the weights once; per (row, token) two integer dots, a conversion and
 * a fused multiply-add. */
#define X512_DEFINE_Q4_0_TILE(name, R, C)                                                  \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        const uint8_t *wr[R], *xr[C];                                                      \
        for (int r = 0; r < (R); r++)                                                      \
            wr[r] = X512_ROW(w, w_stride, r < nr ? r : nr - 1);                            \
        for (int c = 0; c < (C); c++)                                                      \
            xr[c] = X512_ROW(x, x_stride, c < nc ? c : nc - 1);                            \
        X512_TILE_ACC(R, C)                                                                \
        const __m512i eight = _mm512_set1_epi8(8);                                         \
        int64_t groups = n / QK4_0 / X4_BLOCKS;                                            \
        for (int64_t g = 0; g < groups; g++) {                                             \
            __m512i xlo[C], xhi[C], base[C];                                               \
            __m512 dx[C];                                                                  \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                          \
            {                                                                              \
                const uint8_t *xg = xr[c] + (size_t)g * X4_GROUP_BYTES;                    \
                xlo[c] = _mm512_loadu_si512(xg + X4_QS_OFFSET);                            \
                xhi[c] = _mm512_loadu_si512(xg + X4_QS_OFFSET + 64);                       \
                base[c] = dot_u8s8_add512(dot_u8s8_add512(_mm512_setzero_si512(), eight,   \
                                                          xlo[c]),                         \
                                          eight, xhi[c]);                                  \
                base[c] = _mm512_sub_epi32(_mm512_setzero_si512(), base[c]);               \
                dx[c] = expand_scales4(load_half4(xg));                                    \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                __m512i lo, hi;                                                            \
                __m128 d4;                                                                 \
                q4_0_load_group(wr[r] + (size_t)g * X4_BLOCKS * sizeof(block_q4_0), &lo,   \
                                &hi, &d4);                                                 \
                __m512 dw = expand_scales4(d4);                                            \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                      \
                {                                                                          \
                    __m512i p = dot_u8s8_add512(dot_u8s8_add512(base[c], lo, xlo[c]), hi,  \
                                                xhi[c]);                                   \
                    acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(dw, dx[c]),                  \
                                                _mm512_cvtepi32_ps(p), acc[r][c]);         \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        int64_t tail = groups * X4_BLOCKS;                                                 \
        for (int r = 0; r < nr; r++)                                                       \
            for (int c = 0; c < nc; c++) {                                                 \
                float s = _mm512_reduce_add_ps(acc[r][c]);                                 \
                const block_q4_0 *wb = (const block_q4_0 *)wr[r];                          \
                const block_q8_0 *xb =                                                     \
                    (const block_q8_0 *)(xr[c] + (size_t)groups * X4_GROUP_BYTES);         \
                for (int64_t i = tail; i < n / QK4_0; i++)                                 \
                    s += q4_0_tail_block(&wb[i], &xb[i - tail]);                           \
                out[(size_t)c * out_stride + (size_t)r] = s;                               \
            }                                                                              \
    }

/* Q8_0 x x4: signed weights; the activations are made unsigned (x + 128) per group and
 * token, and each row's accumulators start at -128 * sum(w) per block. */
#define X512_DEFINE_Q8_0_TILE(name, R, C)                                                  \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        const uint8_t *wr[R], *xr[C];                                                      \
        for (int r = 0; r < (R); r++)                                                      \
            wr[r] = X512_ROW(w, w_stride, r < nr ? r : nr - 1);                            \
        for (int c = 0; c < (C); c++)                                                      \
            xr[c] = X512_ROW(x, x_stride, c < nc ? c : nc - 1);                            \
        X512_TILE_ACC(R, C)                                                                \
        const __m512i flip = _mm512_set1_epi8((char)0x80);                                 \
        int64_t groups = n / QK8_0 / X4_BLOCKS;                                            \
        for (int64_t g = 0; g < groups; g++) {                                             \
            __m512i x01[C], x23[C];                                                        \
            __m512 dx01[C], dx23[C];                                                       \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                          \
            {                                                                              \
                const uint8_t *xg = xr[c] + (size_t)g * X4_GROUP_BYTES;                    \
                x01[c] = _mm512_xor_si512(_mm512_loadu_si512(xg + X4_QS_OFFSET), flip);    \
                x23[c] = _mm512_xor_si512(_mm512_loadu_si512(xg + X4_QS_OFFSET + 64), flip); \
                expand_scales8(load_half4(xg), &dx01[c], &dx23[c]);                        \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                __m512i q01, q23;                                                          \
                __m128 d4;                                                                 \
                q8_0_load_group(wr[r] + (size_t)g * X4_BLOCKS * sizeof(block_q8_0), &q01,  \
                                &q23, &d4);                                                \
                __m512 dw01, dw23;                                                         \
                expand_scales8(d4, &dw01, &dw23);                                          \
                __m512i b01 = _mm512_sub_epi32(                                            \
                    _mm512_setzero_si512(), dot_u8s8_add512(_mm512_setzero_si512(), flip, q01)); \
                __m512i b23 = _mm512_sub_epi32(                                            \
                    _mm512_setzero_si512(), dot_u8s8_add512(_mm512_setzero_si512(), flip, q23)); \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                      \
                {                                                                          \
                    __m512i p01 = dot_u8s8_add512(b01, x01[c], q01);                       \
                    __m512i p23 = dot_u8s8_add512(b23, x23[c], q23);                       \
                    acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(dw01, dx01[c]),              \
                                                _mm512_cvtepi32_ps(p01), acc[r][c]);       \
                    acc[r][c] = _mm512_fmadd_ps(_mm512_mul_ps(dw23, dx23[c]),              \
                                                _mm512_cvtepi32_ps(p23), acc[r][c]);       \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        int64_t tail = groups * X4_BLOCKS;                                                 \
        for (int r = 0; r < nr; r++)                                                       \
            for (int c = 0; c < nc; c++) {                                                 \
                float s = _mm512_reduce_add_ps(acc[r][c]);                                 \
                const block_q8_0 *wb = (const block_q8_0 *)wr[r];                          \
                const block_q8_0 *xb =                                                     \
                    (const block_q8_0 *)(xr[c] + (size_t)groups * X4_GROUP_BYTES);         \
                for (int64_t i = tail; i < n / QK8_0; i++)                                 \
                    s += q8_0_tail_block(&wb[i], &xb[i - tail]);                           \
                out[(size_t)c * out_stride + (size_t)r] = s;                               \
            }                                                                              \
    }

/* Decode (one token) of Q4_0: the activation side of every group (the -8 offset's start
 * value and the spread scales) is prepared once per call into a small table, then the
 * rows are read one after the other, so the weights stream sequentially while the
 * per-group activation work is shared by all the call's rows. Rows longer than the table
 * fall back to the 1 x 1 tile. */
#define X512_DECODE_MAX_GROUPS 128 /* 16384-element rows: 16 KB of table on the stack */

#define X512_DEFINE_Q4_0_DECODE(name, fallback)                                            \
    static void name(int64_t n, int nr, float *restrict out, const void *restrict w,      \
                     size_t w_stride, const void *restrict x)                              \
    {                                                                                      \
        int64_t groups = n / QK4_0 / X4_BLOCKS;                                            \
        if (groups > X512_DECODE_MAX_GROUPS) {                                             \
            for (int r = 0; r < nr; r++)                                                   \
                fallback(n, 1, 1, out + r, 1, X512_ROW(w, w_stride, r), w_stride, x, 0);   \
            return;                                                                        \
        }                                                                                  \
        __m512i base[X512_DECODE_MAX_GROUPS];                                              \
        __m512 dx[X512_DECODE_MAX_GROUPS];                                                 \
        const __m512i eight = _mm512_set1_epi8(8);                                         \
        const uint8_t *xb = x;                                                             \
        for (int64_t g = 0; g < groups; g++) {                                             \
            const uint8_t *xg = xb + (size_t)g * X4_GROUP_BYTES;                           \
            __m512i s = dot_u8s8_add512(_mm512_setzero_si512(), eight,                     \
                                        _mm512_loadu_si512(xg + X4_QS_OFFSET));            \
            s = dot_u8s8_add512(s, eight, _mm512_loadu_si512(xg + X4_QS_OFFSET + 64));     \
            base[g] = _mm512_sub_epi32(_mm512_setzero_si512(), s);                         \
            dx[g] = expand_scales4(load_half4(xg));                                        \
        }                                                                                  \
        const block_q8_0 *xtail = (const block_q8_0 *)(xb + (size_t)groups * X4_GROUP_BYTES); \
        for (int r = 0; r < nr; r++) {                                                     \
            const uint8_t *wrow = X512_ROW(w, w_stride, r);                                \
            __m512 acc = _mm512_setzero_ps();                                              \
            for (int64_t g = 0; g < groups; g++) {                                         \
                const uint8_t *xg = xb + (size_t)g * X4_GROUP_BYTES;                       \
                __m512i lo, hi;                                                            \
                __m128 d4;                                                                 \
                q4_0_load_group(wrow + (size_t)g * X4_BLOCKS * sizeof(block_q4_0), &lo, &hi, \
                                &d4);                                                      \
                __m512i p = dot_u8s8_add512(base[g], lo, _mm512_loadu_si512(xg + X4_QS_OFFSET)); \
                p = dot_u8s8_add512(p, hi, _mm512_loadu_si512(xg + X4_QS_OFFSET + 64));    \
                acc = _mm512_fmadd_ps(_mm512_mul_ps(expand_scales4(d4), dx[g]),            \
                                      _mm512_cvtepi32_ps(p), acc);                         \
            }                                                                              \
            float sum = _mm512_reduce_add_ps(acc);                                         \
            const block_q4_0 *wb = (const block_q4_0 *)wrow;                               \
            for (int64_t i = groups * X4_BLOCKS; i < n / QK4_0; i++)                       \
                sum += q4_0_tail_block(&wb[i], &xtail[i - groups * X4_BLOCKS]);            \
            out[r] = sum;                                                                  \
        }                                                                                  \
    }

/* Tile entry whose decode path is a dedicated function (name_decode above). */
#define X512_DEFINE_TILE_ENTRY_DECODE(name, full, decode)                                  \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        if (nc == 1)                                                                       \
            decode(n, nr, out, w, w_stride, x);                                            \
        else                                                                               \
            full(n, nr, nc, out, out_stride, w, w_stride, x, x_stride);                    \
    }

#endif
