/* 512-bit gemm tiles for float weights (F32, F16, BF16) on F32 activations (no
 * quantization of either).
 *
 * Encoders and small float decoders multiply a few to a few hundred token rows by F32
 * weight matrices. OpenBLAS sgemm packs a slice of the weights for every call, which for
 * 16 tokens costs as much as the arithmetic (sgemm_incopy was 39% of a DistilBERT pass
 * at 16 tokens), and Debian's OpenBLAS 0.3.21 runs its AVX2 kernels on AVX-512 CPUs it
 * does not know. These tiles read R weight rows and C token rows in place and keep R x C
 * dot products in registers: each weight vector loaded once serves C tokens, each token
 * vector R rows. Rows of any length: the last partial vector is loaded with a mask. */
#ifndef SLM_ARCH_X86_FTILES512_H
#define SLM_ARCH_X86_FTILES512_H

#include <immintrin.h>
#include <stdint.h>

#include "arch/x86/x86_common.h"

#define X512F_ROW(T, base, stride, i) ((const T *)((const uint8_t *)(base) + (size_t)(i) * (stride)))

/* 16 weights as floats, whole or the first bits of mask m (the rest zero) */
#define X512F_LOAD_F32(p) _mm512_loadu_ps(p)
#define X512F_MLOAD_F32(m, p) _mm512_maskz_loadu_ps(m, p)
#define X512F_LOAD_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#define X512F_MLOAD_F16(m, p) _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p))
#define X512F_BF16_WIDEN(h) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16))
#define X512F_LOAD_BF16(p) X512F_BF16_WIDEN(_mm256_loadu_si256((const __m256i *)(p)))
#define X512F_MLOAD_BF16(m, p) X512F_BF16_WIDEN(_mm256_maskz_loadu_epi16(m, p))

/* out[c * out_stride + r] = dot(w row r, x row c) for r < nr <= R, c < nc <= C. Missing
 * rows and columns repeat the last one (computed, not stored), so one instantiation of
 * the loop serves every edge of the matrix. */
#define X512_DEFINE_FLOAT_TILE(name, R, C, T, LOAD, MLOAD)                                 \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        const T *wr[R];                                                                    \
        const float *xr[C];                                                                \
        for (int r = 0; r < (R); r++)                                                      \
            wr[r] = X512F_ROW(T, w, w_stride, r < nr ? r : nr - 1);                        \
        for (int c = 0; c < (C); c++)                                                      \
            xr[c] = X512F_ROW(float, x, x_stride, c < nc ? c : nc - 1);                    \
        X512_TILE_ACC(R, C)                                                                \
        int64_t k = 0;                                                                     \
        for (; k + 16 <= n; k += 16) {                                                     \
            __m512 xv[C];                                                                  \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) xv[c] =                 \
                _mm512_loadu_ps(xr[c] + k);                                                \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                __m512 wv = LOAD(wr[r] + k);                                               \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =         \
                    _mm512_fmadd_ps(wv, xv[c], acc[r][c]);                                 \
            }                                                                              \
        }                                                                                  \
        if (k < n) {                                                                       \
            __mmask16 m = (__mmask16)((1u << (n - k)) - 1);                                \
            __m512 xv[C];                                                                  \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) xv[c] =                 \
                _mm512_maskz_loadu_ps(m, xr[c] + k);                                       \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                __m512 wv = MLOAD(m, wr[r] + k);                                            \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =         \
                    _mm512_fmadd_ps(wv, xv[c], acc[r][c]);                                 \
            }                                                                              \
        }                                                                                  \
        X512_TILE_STORE()                                                                  \
    }

#endif
