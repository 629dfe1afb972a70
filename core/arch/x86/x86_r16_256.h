/* 256-bit kernels for Q4_0_R16 weights on Q8_0_R16 activations (quant/blocks.h), for the
 * AVX2 set. A 64-byte chunk of a group is two ymm halves: blocks 0-7 and blocks 8-15.
 *
 * Per half, the eight u8 x s8 pair products of a block's lane (vpmaddubsw: nibble 0..15
 * times quant -127..127, at most 3810 per pair) are summed as int16 first: eight of them
 * stay within 30480, so a single vpmaddwd per half widens them to the block sums, where the
 * file layout widens every product. Decode and the tile do the same float work in the
 * same order. */
#ifndef SLM_ARCH_X86_R16_256_H
#define SLM_ARCH_X86_R16_256_H

#include "arch/x86/x86_tiles.h"
#include "quant/quants.h"

/* Activations for every Q4_0_R16 kernel set: the AVX2 Q8_0 quantizer (same bytes as the
 * generic one), then the interleave. */
static inline void x86_q8_0_r16_from_float(const float *restrict src, void *restrict dst,
                                           int64_t n)
{
    block_q8_0_r16 *g = dst;
    for (int64_t k = 0; k < n / QK_R16; k++, src += QK_R16) {
        block_q8_0 blocks[QR16_BLOCKS];
        x86_q8_0_from_float(src, blocks, QK_R16);
        slm_q8_0_r16_pack(blocks, &g[k]);
    }
}

/* Half h (blocks 8h..8h+7) of a weight group: low nibbles of chunks 0-3, then high. */
static inline void r16h_unpack(const block_q4_0_r16 *g, int h, __m256i q[8], __m256 *dw)
{
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(g->qs + 64 * k + 32 * h));
        q[k] = _mm256_and_si256(v, nibble);
        q[4 + k] = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
    }
    *dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(g->d + 8 * h)));
}

/* The eight block sums of half h, -8 * sum(x) included. */
static inline __m256i r16h_block_sums(const __m256i q[8], const block_q8_0_r16 *x, int h)
{
    const int8_t *xs = x->qs + 32 * h;
    __m256i a = _mm256_maddubs_epi16(q[0], _mm256_loadu_si256((const __m256i *)xs));
    __m256i b = _mm256_maddubs_epi16(q[1], _mm256_loadu_si256((const __m256i *)(xs + 64)));
    _Pragma("GCC unroll 4") for (int k = 2; k < 8; k += 2) {
        a = _mm256_add_epi16(a, _mm256_maddubs_epi16(
                                    q[k], _mm256_loadu_si256((const __m256i *)(xs + 64 * k))));
        b = _mm256_add_epi16(b, _mm256_maddubs_epi16(q[k + 1], _mm256_loadu_si256(
                                                                   (const __m256i *)(xs + 64 * (k + 1)))));
    }
    __m256i s = _mm256_madd_epi16(_mm256_add_epi16(a, b), _mm256_set1_epi16(1));
    return _mm256_add_epi32(s, _mm256_loadu_si256((const __m256i *)(x->sum8 + 8 * h)));
}

static inline __m256 r16h_accumulate(__m256 acc, __m256i sums, __m256 dw,
                                     const block_q8_0_r16 *x, int h)
{
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums),
                           _mm256_mul_ps(dw, _mm256_loadu_ps(x->d + 8 * h)), acc);
}

static inline float r16_row_dot256(int64_t groups, const block_q4_0_r16 *w,
                                   const block_q8_0_r16 *x)
{
    __m256 acc = _mm256_setzero_ps();
    for (int64_t g = 0; g < groups; g++)
        for (int h = 0; h < 2; h++) {
            __m256i q[8];
            __m256 dw;
            r16h_unpack(&w[g], h, q, &dw);
            acc = r16h_accumulate(acc, r16h_block_sums(q, &x[g], h), dw, &x[g], h);
        }
    return hsum_ps256(acc);
}

static inline void x86_q4_0_r16_vec_dot256(int64_t n, float *restrict s,
                                           const void *restrict w, const void *restrict x)
{
    *s = r16_row_dot256(n / QK_R16, w, x);
}

#define X256_DEFINE_R16_TILE(name, R, C)                                                   \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        if (nc == 1) { /* decode: one row after the other */                              \
            for (int r = 0; r < nr; r++)                                                   \
                out[r] = r16_row_dot256(n / QK_R16,                                        \
                                        (const block_q4_0_r16 *)X86_ROW(w, w_stride, r), x); \
            return;                                                                        \
        }                                                                                  \
        X86_TILE_ROWS(R, C, block_q4_0_r16, block_q8_0_r16)                                \
        __m256 acc[R][C];                                                                  \
        _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =             \
                _mm256_setzero_ps();                                                       \
        for (int64_t g = 0; g < n / QK_R16; g++)                                           \
            for (int h = 0; h < 2; h++) {                                                  \
                _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                      \
                {                                                                          \
                    __m256i q[8];                                                          \
                    __m256 dw;                                                             \
                    r16h_unpack(&wr[r][g], h, q, &dw);                                     \
                    _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =     \
                        r16h_accumulate(acc[r][c], r16h_block_sums(q, &xr[c][g], h), dw,   \
                                        &xr[c][g], h);                                     \
                }                                                                          \
            }                                                                              \
        X86_TILE_STORE(R, C)                                                               \
    }

#endif
