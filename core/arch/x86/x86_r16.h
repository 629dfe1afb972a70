/* 512-bit kernels for Q4_0 regrouped by sixteen blocks (Q4_0_R16, quant/blocks.h), on
 * Q8_0_R16 activations. Included by kernels_avx512.c and kernels_avx512_vnni.c; the
 * integer dots are x86_tiles512.h's (vpdpbusd with VNNI, vpmaddubsw + vpmaddwd without).
 *
 * Per group of 512 elements a weight row is four 64-byte loads split into low and high
 * nibbles; eight integer dots with the activation's chunks, started from its -8 * sum
 * terms, leave one exact block sum per 32-bit lane; one conversion and one multiply-add
 * by the sixteen products of scales fold them into the row's float accumulator. The file
 * layout needs the same float work for every four blocks. Decode and the tiles do the same
 * float operations in the same order, so a token's result does not depend on how many
 * tokens share the call. */
#ifndef SLM_ARCH_X86_R16_H
#define SLM_ARCH_X86_R16_H

#include "arch/x86/x86_r16_256.h"
#include "arch/x86/x86_tiles512.h"

static inline void r16_unpack(const block_q4_0_r16 *g, __m512i q[8], __m512 *dw)
{
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
        __m512i v = _mm512_loadu_si512(g->qs + 64 * k);
        q[k] = _mm512_and_si512(v, nibble);
        q[4 + k] = _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble);
    }
    *dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)g->d));
}

/* The sixteen block sums of one group, in two independent chains. */
static inline __m512i r16_block_sums(const __m512i q[8], const block_q8_0_r16 *x)
{
    __m512i a = _mm512_loadu_si512(x->sum8), b = _mm512_setzero_si512();
    _Pragma("GCC unroll 4") for (int k = 0; k < 8; k += 2) {
        a = dot_u8s8_add512(a, q[k], _mm512_loadu_si512(x->qs + 64 * k));
        b = dot_u8s8_add512(b, q[k + 1], _mm512_loadu_si512(x->qs + 64 * (k + 1)));
    }
    return _mm512_add_epi32(a, b);
}

static inline __m512 r16_accumulate(__m512 acc, __m512i sums, __m512 dw,
                                    const block_q8_0_r16 *x)
{
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(dw, _mm512_loadu_ps(x->d)),
                           acc);
}

static inline float r16_row_dot(int64_t groups, const block_q4_0_r16 *w,
                                const block_q8_0_r16 *x)
{
    __m512 acc = _mm512_setzero_ps();
    for (int64_t g = 0; g < groups; g++) {
        __m512i q[8];
        __m512 dw;
        r16_unpack(&w[g], q, &dw);
        acc = r16_accumulate(acc, r16_block_sums(q, &x[g]), dw, &x[g]);
    }
    return _mm512_reduce_add_ps(acc);
}

static inline void x86_q4_0_r16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                                        const void *restrict x)
{
    *s = r16_row_dot(n / QK_R16, w, x);
}

/* R weight rows x C tokens: each row's group is unpacked once for the C tokens. */
#define X512_DEFINE_R16_TILE(name, R, C)                                                   \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        if (nc == 1) { /* decode: one row after the other */                              \
            for (int r = 0; r < nr; r++)                                                   \
                out[r] = r16_row_dot(n / QK_R16,                                           \
                                     (const block_q4_0_r16 *)X512_ROW(w, w_stride, r), x); \
            return;                                                                        \
        }                                                                                  \
        X86_TILE_ROWS(R, C, block_q4_0_r16, block_q8_0_r16)                                \
        X512_TILE_ACC(R, C)                                                                \
        for (int64_t g = 0; g < n / QK_R16; g++) {                                         \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                __m512i q[8];                                                              \
                __m512 dw;                                                                 \
                r16_unpack(&wr[r][g], q, &dw);                                             \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =         \
                    r16_accumulate(acc[r][c], r16_block_sums(q, &xr[c][g]), dw, &xr[c][g]); \
            }                                                                              \
        }                                                                                  \
        X512_TILE_STORE()                                                                  \
    }

#endif
