/* 256-bit (AVX2 + FMA + F16C) gemm tiles for float weights (F32, F16, BF16) on F32
 * activations: the AVX2 counterpart of x86_ftiles512.h, for the x86 gateways without
 * AVX-512. R x C dot products stay in registers (16 ymm: 3 x 3 accumulators, 3
 * activation vectors, one weight vector); the last partial vector of a row is copied
 * into a zeroed buffer first, as AVX2 has no masked 16-bit loads. */
#ifndef SLM_ARCH_X86_FTILES256_H
#define SLM_ARCH_X86_FTILES256_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define X256F_ROW(T, base, stride, i) ((const T *)((const uint8_t *)(base) + (size_t)(i) * (stride)))

/* 8 weights as floats */
#define X256F_LOAD_F32(p) _mm256_loadu_ps(p)
#define X256F_LOAD_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define X256F_LOAD_BF16(p)                                                                  \
    _mm256_castsi256_ps(                                                                   \
        _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))

static inline float x256f_hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* out[c * out_stride + r] = dot(w row r, x row c) for r < nr <= R, c < nc <= C; missing
 * rows and columns repeat the last one (computed, not stored). */
#define X256_DEFINE_FLOAT_TILE(name, R, C, T, LOAD)                                        \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        const T *wr[R];                                                                    \
        const float *xr[C];                                                                \
        for (int r = 0; r < (R); r++)                                                      \
            wr[r] = X256F_ROW(T, w, w_stride, r < nr ? r : nr - 1);                        \
        for (int c = 0; c < (C); c++)                                                      \
            xr[c] = X256F_ROW(float, x, x_stride, c < nc ? c : nc - 1);                    \
        __m256 acc[R][C];                                                                  \
        _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =             \
                _mm256_setzero_ps();                                                       \
        int64_t k = 0;                                                                     \
        for (; k + 8 <= n; k += 8) {                                                       \
            __m256 xv[C];                                                                  \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) xv[c] =                 \
                _mm256_loadu_ps(xr[c] + k);                                                \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                __m256 wv = LOAD(wr[r] + k);                                               \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =         \
                    _mm256_fmadd_ps(wv, xv[c], acc[r][c]);                                 \
            }                                                                              \
        }                                                                                  \
        if (k < n) {                                                                       \
            size_t left = (size_t)(n - k);                                                 \
            float xt[C][8];                                                                \
            T wt[8];                                                                       \
            __m256 xv[C];                                                                  \
            for (int c = 0; c < (C); c++) {                                                \
                memset(xt[c], 0, sizeof(xt[c]));                                           \
                memcpy(xt[c], xr[c] + k, left * sizeof(float));                           \
                xv[c] = _mm256_loadu_ps(xt[c]);                                            \
            }                                                                              \
            for (int r = 0; r < (R); r++) {                                                \
                memset(wt, 0, sizeof(wt));                                                 \
                memcpy(wt, wr[r] + k, left * sizeof(T));                                   \
                __m256 wv = LOAD(wt);                                                      \
                for (int c = 0; c < (C); c++)                                              \
                    acc[r][c] = _mm256_fmadd_ps(wv, xv[c], acc[r][c]);                     \
            }                                                                              \
        }                                                                                  \
        for (int r = 0; r < nr; r++)                                                       \
            for (int c = 0; c < nc; c++)                                                   \
                out[(size_t)c * out_stride + (size_t)r] = x256f_hsum(acc[r][c]);           \
    }

#endif
