/* NEON gemm tiles: out[c * out_stride + r] = dot(weight row r, activation row c) for R
 * rows x C tokens, each weight block unpacked once for C tokens and each activation block
 * loaded once for R rows. Edge tiles repeat their last row / column (the extra results
 * are dropped), so every output is computed the same way wherever it lies; one token
 * (decode) has its own 1 x 1 instance. Activations are the plain vec_dot_type blocks. */
#ifndef SLM_ARCH_ARM_TILES_H
#define SLM_ARCH_ARM_TILES_H

#include "arch/arm/arm_quants.h"

#define ARM_ROW(base, stride, i) ((const void *)((const uint8_t *)(base) + (size_t)(i) * (stride)))

#define ARM_TILE_HEAD(R, C, wtype, xtype)                                                  \
    const wtype *wr[R];                                                                    \
    const xtype *xr[C];                                                                    \
    for (int r = 0; r < (R); r++)                                                          \
        wr[r] = ARM_ROW(w, w_stride, r < nr ? r : nr - 1);                                 \
    for (int c = 0; c < (C); c++)                                                          \
        xr[c] = ARM_ROW(x, x_stride, c < nc ? c : nc - 1);                                 \
    float32x4_t acc[R][C];                                                                 \
    _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                                  \
        _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] = vdupq_n_f32(0);

#define ARM_TILE_STORE(R, C, extra)                                                        \
    for (int r = 0; r < nr; r++)                                                           \
        for (int c = 0; c < nc; c++)                                                       \
            out[(size_t)c * out_stride + (size_t)r] = hsum_f32x4(acc[r][c]) extra;

#define ARM_TILE_SIGNATURE(name)                                                           \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)

/* Q4_0 / Q8_0: per block, two int8x16 per row, dotted with each token's two halves. */
#define ARM_DEFINE_Q32_TILE(name, R, C, wtype, unpack)                                     \
    ARM_TILE_SIGNATURE(name)                                                               \
    {                                                                                      \
        ARM_TILE_HEAD(R, C, wtype, block_q8_0)                                             \
        for (int64_t i = 0; i < n / QK8_0; i++) {                                          \
            int8x16_t wl[R], wh[R];                                                        \
            float dw[R];                                                                   \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                unpack(&wr[r][i], &wl[r], &wh[r]);                                         \
                dw[r] = half_to_float(wr[r][i].d);                                         \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                          \
            {                                                                              \
                int8x16_t x0 = vld1q_s8(xr[c][i].qs), x1 = vld1q_s8(xr[c][i].qs + 16);     \
                float dx = half_to_float(xr[c][i].d);                                      \
                _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                      \
                {                                                                          \
                    int32x4_t p = dot_s8x16(dot_s8x16(vdupq_n_s32(0), wl[r], x0), wh[r], x1); \
                    acc[r][c] = mla_n_f32(acc[r][c], vcvtq_f32_s32(p), dw[r] * dx);        \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        ARM_TILE_STORE(R, C, )                                                             \
    }

static inline void q8_0_unpack(const block_q8_0 *b, int8x16_t *lo, int8x16_t *hi)
{
    *lo = vld1q_s8(b->qs);
    *hi = vld1q_s8(b->qs + 16);
}

/* Q4_K / Q5_K: per block and (row, token) an int32 sum of scale * dot, then one float
 * update; the min term comes from the token's bsums. */
#define ARM_DEFINE_K4_TILE(name, R, C, wtype, group_fn)                                    \
    ARM_TILE_SIGNATURE(name)                                                               \
    {                                                                                      \
        ARM_TILE_HEAD(R, C, wtype, block_q8_K)                                             \
        float mins[R][C];                                                                  \
        for (int r = 0; r < (R); r++)                                                      \
            for (int c = 0; c < (C); c++)                                                  \
                mins[r][c] = 0;                                                            \
        for (int64_t i = 0; i < n / QK_K; i++) {                                           \
            uint8_t sc[R][8], mn[R][8];                                                    \
            int32x4_t isum[R][C];                                                          \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                slm_k4_unpack_scales(wr[r][i].scales, sc[r], mn[r]);                       \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) isum[r][c] =        \
                    vdupq_n_s32(0);                                                        \
            }                                                                              \
            for (int g = 0; g < 4; g++) {                                                  \
                _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                      \
                {                                                                          \
                    int8x16_t q[4];                                                        \
                    group_fn(&wr[r][i], g, q);                                             \
                    _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                  \
                    {                                                                      \
                        const int8_t *xq = xr[c][i].qs + 64 * g;                           \
                        int32x4_t lo = dot_block32(q[0], q[1], xq);                        \
                        int32x4_t hi = dot_block32(q[2], q[3], xq + 32);                   \
                        isum[r][c] = vmlaq_n_s32(isum[r][c], lo, sc[r][2 * g]);            \
                        isum[r][c] = vmlaq_n_s32(isum[r][c], hi, sc[r][2 * g + 1]);        \
                    }                                                                      \
                }                                                                          \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                float d = half_to_float(wr[r][i].d), dmin = half_to_float(wr[r][i].dmin);  \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                      \
                {                                                                          \
                    acc[r][c] = mla_n_f32(acc[r][c], vcvtq_f32_s32(isum[r][c]),            \
                                          d * xr[c][i].d);                                 \
                    mins[r][c] += dmin * xr[c][i].d *                                      \
                                  (float)k4_min_term(mn[r], xr[c][i].bsums);               \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        ARM_TILE_STORE(R, C, -mins[r][c])                                                  \
    }

#define ARM_DEFINE_Q6_K_TILE(name, R, C)                                                   \
    ARM_TILE_SIGNATURE(name)                                                               \
    {                                                                                      \
        ARM_TILE_HEAD(R, C, block_q6_K, block_q8_K)                                        \
        for (int64_t i = 0; i < n / QK_K; i++) {                                           \
            int32x4_t isum[R][C];                                                          \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) isum[r][c] =        \
                    vdupq_n_s32(0);                                                        \
            for (int h = 0; h < 2; h++) {                                                  \
                for (int k = 0; k < 4; k++) {                                              \
                    int j = 8 * h + 2 * k;                                                 \
                    _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                  \
                    {                                                                      \
                        int8x16_t q[2];                                                    \
                        q6_K_quarter(&wr[r][i], h, k, q);                                  \
                        _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)              \
                        {                                                                  \
                            const int8_t *xq = xr[c][i].qs + 128 * h + 32 * k;             \
                            int32x4_t a = dot_s8x16(vdupq_n_s32(0), q[0], vld1q_s8(xq));   \
                            int32x4_t b = dot_s8x16(vdupq_n_s32(0), q[1], vld1q_s8(xq + 16)); \
                            isum[r][c] = vmlaq_n_s32(isum[r][c], a, wr[r][i].scales[j]);   \
                            isum[r][c] = vmlaq_n_s32(isum[r][c], b, wr[r][i].scales[j + 1]); \
                        }                                                                  \
                    }                                                                      \
                }                                                                          \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                float d = half_to_float(wr[r][i].d);                                       \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =         \
                    mla_n_f32(acc[r][c], vcvtq_f32_s32(isum[r][c]), d * xr[c][i].d);       \
            }                                                                              \
        }                                                                                  \
        ARM_TILE_STORE(R, C, )                                                             \
    }

/* One token (decode) goes row after row through the 1 x 1 instance: a single sequential
 * stream through the weights, which the prefetchers follow better than R interleaved
 * short rows. Batches use the R x C instance. */
#define ARM_DEFINE_TILE_ENTRY(name, full, single)                                          \
    ARM_TILE_SIGNATURE(name)                                                               \
    {                                                                                      \
        if (nc == 1) {                                                                     \
            for (int r = 0; r < nr; r++)                                                   \
                single(n, 1, 1, out + r, out_stride,                                       \
                       (const uint8_t *)w + (size_t)r * w_stride, w_stride, x, x_stride);  \
        } else {                                                                           \
            full(n, nr, nc, out, out_stride, w, w_stride, x, x_stride);                    \
        }                                                                                  \
    }

/* Every tiled type for one shape; installs them into a table. */
#define ARM_TILES_DEFINE(suffix, R, C)                                                     \
    ARM_DEFINE_Q32_TILE(q4_0_tile_##suffix, R, C, block_q4_0, q4_0_unpack)                 \
    ARM_DEFINE_Q32_TILE(q4_0_tile1_##suffix, 1, 1, block_q4_0, q4_0_unpack)                \
    ARM_DEFINE_TILE_ENTRY(q4_0_gemm_tile_##suffix, q4_0_tile_##suffix, q4_0_tile1_##suffix) \
    ARM_DEFINE_Q32_TILE(q8_0_tile_##suffix, R, C, block_q8_0, q8_0_unpack)                 \
    ARM_DEFINE_Q32_TILE(q8_0_tile1_##suffix, 1, 1, block_q8_0, q8_0_unpack)                \
    ARM_DEFINE_TILE_ENTRY(q8_0_gemm_tile_##suffix, q8_0_tile_##suffix, q8_0_tile1_##suffix) \
    ARM_DEFINE_K4_TILE(q4_K_tile_##suffix, R, C, block_q4_K, q4_K_group)                   \
    ARM_DEFINE_K4_TILE(q4_K_tile1_##suffix, 1, 1, block_q4_K, q4_K_group)                  \
    ARM_DEFINE_TILE_ENTRY(q4_K_gemm_tile_##suffix, q4_K_tile_##suffix, q4_K_tile1_##suffix) \
    ARM_DEFINE_K4_TILE(q5_K_tile_##suffix, R, C, block_q5_K, q5_K_group)                   \
    ARM_DEFINE_K4_TILE(q5_K_tile1_##suffix, 1, 1, block_q5_K, q5_K_group)                  \
    ARM_DEFINE_TILE_ENTRY(q5_K_gemm_tile_##suffix, q5_K_tile_##suffix, q5_K_tile1_##suffix) \
    ARM_DEFINE_Q6_K_TILE(q6_K_tile_##suffix, R, C)                                         \
    ARM_DEFINE_Q6_K_TILE(q6_K_tile1_##suffix, 1, 1)                                        \
    ARM_DEFINE_TILE_ENTRY(q6_K_gemm_tile_##suffix, q6_K_tile_##suffix, q6_K_tile1_##suffix) \
    static void arm_install_tiles_##suffix(struct slm_type_traits traits[SLM_TYPE_COUNT])  \
    {                                                                                      \
        static const enum slm_type types[5] = {SLM_TYPE_Q4_0, SLM_TYPE_Q8_0, SLM_TYPE_Q4_K, \
                                               SLM_TYPE_Q5_K, SLM_TYPE_Q6_K};              \
        const slm_gemm_tile_fn fns[5] = {q4_0_gemm_tile_##suffix, q8_0_gemm_tile_##suffix, \
                                         q4_K_gemm_tile_##suffix, q5_K_gemm_tile_##suffix, \
                                         q6_K_gemm_tile_##suffix};                         \
        for (int k = 0; k < 5; k++) {                                                      \
            traits[types[k]].gemm_tile = fns[k];                                           \
            traits[types[k]].tile_rows = (R);                                              \
            traits[types[k]].tile_cols = (C);                                              \
            traits[types[k]].tile_from_float = NULL;                                       \
        }                                                                                  \
    }

#endif
