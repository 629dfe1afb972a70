/* gemm tiles on 256-bit registers: out[c * out_stride + r] = dot(weight row r, x row c)
 * for R weight rows and C activation rows at a time, so each weight block is unpacked
 * once for C tokens and each activation block loaded once for R rows.
 *
 * X86_TILE_DEFINE_ALL(suffix, R, C) instantiates the tiles of every supported type for
 * one tile shape. A tile smaller than R x C (the matrix edge) repeats its last row or
 * column and drops the extra results, so every output is computed by the same arithmetic
 * wherever it lies; a single activation row (decode) has its own 1 x 1 instance. */
#ifndef SLM_ARCH_X86_TILES_H
#define SLM_ARCH_X86_TILES_H

#include "arch/x86/x86_quants.h"
#include "kernels/kernels.h"

#define X86_ROW(base, stride, i) ((const void *)((const uint8_t *)(base) + (size_t)(i) * (stride)))

/* Pointers to R weight rows and C activation rows, edge rows repeated. */
#define X86_TILE_ROWS(R, C, wtype, xtype)                                                  \
    const wtype *wr[R];                                                                    \
    const xtype *xr[C];                                                                    \
    for (int r = 0; r < (R); r++)                                                          \
        wr[r] = X86_ROW(w, w_stride, r < nr ? r : nr - 1);                                 \
    for (int c = 0; c < (C); c++)                                                          \
        xr[c] = X86_ROW(x, x_stride, c < nc ? c : nc - 1);

#define X86_TILE_STORE(R, C)                                                               \
    for (int r = 0; r < nr; r++)                                                           \
        for (int c = 0; c < nc; c++)                                                       \
            out[(size_t)c * out_stride + (size_t)r] = hsum_ps256(acc[r][c]);

/* Q4_0 x Q8_0. The weights' nibbles stay unsigned (0..15) and the -8 offset moves to the
 * activations: each token's accumulator starts at -8 * sum(x) per lane, computed once per
 * block and token, so one u8 x s8 dot serves each (row, token). */
#define X86_DEFINE_Q4_0_TILE(name, R, C)                                                   \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        X86_TILE_ROWS(R, C, block_q4_0, block_q8_0)                                        \
        __m256 acc[R][C];                                                                  \
        _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =             \
                _mm256_setzero_ps();                                                       \
        const __m256i eight = _mm256_set1_epi8(8);                                         \
        for (int64_t i = 0; i < n / QK4_0; i++) {                                          \
            __m256i wq[R], xq[C], base[C];                                                 \
            __m256 dw[R], dx[C];                                                           \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                          \
            {                                                                              \
                xq[c] = _mm256_loadu_si256((const __m256i *)xr[c][i].qs);                  \
                base[c] = _mm256_sub_epi32(_mm256_setzero_si256(),                         \
                                           dot_u8s8_add(_mm256_setzero_si256(), eight, xq[c])); \
                dx[c] = _mm256_set1_ps(half_to_float(xr[c][i].d));                         \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                wq[r] = unpack_nibbles_128(wr[r][i].qs);                                   \
                dw[r] = _mm256_set1_ps(half_to_float(wr[r][i].d));                         \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                      \
            {                                                                              \
                __m256i p = dot_u8s8_add(base[c], wq[r], xq[c]);                           \
                acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(dw[r], dx[c]),                   \
                                            _mm256_cvtepi32_ps(p), acc[r][c]);             \
            }                                                                              \
        }                                                                                  \
        X86_TILE_STORE(R, C)                                                               \
    }

/* Q8_0 x Q8_0. Weights span -127..127, so AVX2's int16 pair sums could saturate with
 * unsigned activations; the sign trick keeps them exact. VNNI sums straight into int32
 * and uses the unsigned-activation form like Q4_0. */
#if SLM_X86_VNNI
#define X86_Q8_0_PAIR(p, r, c)                                                             \
    __m256i p = dot_u8s8_add(base[r], xu[c], wq[r]);
#define X86_Q8_0_PREP_ROW(r)                                                               \
    base[r] = _mm256_sub_epi32(_mm256_setzero_si256(),                                     \
                               dot_u8s8_add(_mm256_setzero_si256(), flip, wq[r]));
#define X86_Q8_0_PREP_COL(c) xu[c] = _mm256_xor_si256(xq[c], flip);
#else
#define X86_Q8_0_PAIR(p, r, c)                                                             \
    __m256i p = dot_u8s8_add(_mm256_setzero_si256(), base[r],                              \
                             _mm256_sign_epi8(xu[c], wq[r]));
#define X86_Q8_0_PREP_ROW(r) base[r] = _mm256_sign_epi8(wq[r], wq[r]);
#define X86_Q8_0_PREP_COL(c) xu[c] = xq[c];
#endif

#define X86_DEFINE_Q8_0_TILE(name, R, C)                                                   \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        X86_TILE_ROWS(R, C, block_q8_0, block_q8_0)                                        \
        __m256 acc[R][C];                                                                  \
        _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =             \
                _mm256_setzero_ps();                                                       \
        const __m256i flip = _mm256_set1_epi8((char)0x80);                                 \
        (void)flip;                                                                        \
        for (int64_t i = 0; i < n / QK8_0; i++) {                                          \
            __m256i wq[R], base[R], xq[C], xu[C];                                          \
            __m256 dw[R], dx[C];                                                           \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                wq[r] = _mm256_loadu_si256((const __m256i *)wr[r][i].qs);                  \
                X86_Q8_0_PREP_ROW(r)                                                       \
                dw[r] = _mm256_set1_ps(half_to_float(wr[r][i].d));                         \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                          \
            {                                                                              \
                xq[c] = _mm256_loadu_si256((const __m256i *)xr[c][i].qs);                  \
                X86_Q8_0_PREP_COL(c)                                                       \
                dx[c] = _mm256_set1_ps(half_to_float(xr[c][i].d));                         \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                      \
            {                                                                              \
                X86_Q8_0_PAIR(p, r, c)                                                     \
                acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(dw[r], dx[c]),                   \
                                            _mm256_cvtepi32_ps(p), acc[r][c]);             \
            }                                                                              \
        }                                                                                  \
        X86_TILE_STORE(R, C)                                                               \
    }

/* Q4_K / Q5_K x Q8_K: per super-block, each (row, token) gets the integer sum of scale *
 * dot over its 8 sub-blocks and the min term from the token's bsums (madd of the 16 bsums
 * with each min repeated twice gives the 8 per-sub-block products). */
#define X86_DEFINE_K4_TILE(name, R, C, wtype, load_group)                                  \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        X86_TILE_ROWS(R, C, wtype, block_q8_K)                                             \
        __m256 acc[R][C];                                                                  \
        _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =             \
                _mm256_setzero_ps();                                                       \
        for (int64_t i = 0; i < n / QK_K; i++) {                                           \
            uint8_t sc[R][8], mn[R][8];                                                    \
            __m256i mins16[R], bsums[C], p[R][C];                                          \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                k4_scales(wr[r][i].scales, sc[r], mn[r]);                                  \
                mins16[r] = _mm256_setr_epi16(mn[r][0], mn[r][0], mn[r][1], mn[r][1],      \
                                              mn[r][2], mn[r][2], mn[r][3], mn[r][3],      \
                                              mn[r][4], mn[r][4], mn[r][5], mn[r][5],      \
                                              mn[r][6], mn[r][6], mn[r][7], mn[r][7]);     \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) p[r][c] =           \
                    _mm256_setzero_si256();                                                \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) bsums[c] =              \
                _mm256_loadu_si256((const __m256i *)xr[c][i].bsums);                       \
            for (int g = 0; g < 4; g++) {                                                  \
                __m256i xlo[C], xhi[C];                                                    \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                      \
                {                                                                          \
                    xlo[c] = _mm256_loadu_si256((const __m256i *)(xr[c][i].qs + 64 * g));  \
                    xhi[c] =                                                               \
                        _mm256_loadu_si256((const __m256i *)(xr[c][i].qs + 64 * g + 32));  \
                }                                                                          \
                _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                      \
                {                                                                          \
                    __m256i qlo, qhi;                                                      \
                    load_group(&wr[r][i], g, &qlo, &qhi);                                  \
                    __m256i slo = _mm256_set1_epi16(sc[r][2 * g]);                         \
                    __m256i shi = _mm256_set1_epi16(sc[r][2 * g + 1]);                     \
                    _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                  \
                    {                                                                      \
                        p[r][c] = madd_i16_add(p[r][c], _mm256_maddubs_epi16(qlo, xlo[c]), \
                                               slo);                                       \
                        p[r][c] = madd_i16_add(p[r][c], _mm256_maddubs_epi16(qhi, xhi[c]), \
                                               shi);                                       \
                    }                                                                      \
                }                                                                          \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                float d = half_to_float(wr[r][i].d), dmin = half_to_float(wr[r][i].dmin);  \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                      \
                {                                                                          \
                    __m256 m = _mm256_cvtepi32_ps(_mm256_madd_epi16(mins16[r], bsums[c])); \
                    acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(d * xr[c][i].d),            \
                                                _mm256_cvtepi32_ps(p[r][c]), acc[r][c]);   \
                    acc[r][c] = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * xr[c][i].d), m,     \
                                                 acc[r][c]);                               \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        X86_TILE_STORE(R, C)                                                               \
    }

static inline void q4_K_load_group(const block_q4_K *b, int g, __m256i *lo, __m256i *hi)
{
    const __m256i low = _mm256_set1_epi8(0x0F);
    __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * g));
    *lo = _mm256_and_si256(q, low);
    *hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
}

static inline void q5_K_load_group(const block_q5_K *b, int g, __m256i *lo, __m256i *hi)
{
    const __m256i low = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    __m256i q = _mm256_loadu_si256((const __m256i *)(b->qs + 32 * g));
    __m256i qh = _mm256_loadu_si256((const __m256i *)b->qh);
    __m256i hlo = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), one), 4);
    __m256i hhi = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * g + 1), one), 4);
    *lo = _mm256_or_si256(_mm256_and_si256(q, low), hlo);
    *hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low), hhi);
}

/* Q6_K x Q8_K: q unsigned 0..63 per 32 elements, scales per 16; the -32 offset comes
 * from the token's bsums: 32 * sum(scale_j * bsums_j), done as one madd per (row, token). */
static inline void q6_K_load_quarter(const block_q6_K *b, int h, int k, __m256i *q)
{
    const __m256i low = _mm256_set1_epi8(0x0F), three = _mm256_set1_epi8(3);
    __m256i l = _mm256_loadu_si256((const __m256i *)(b->ql + 64 * h + 32 * (k & 1)));
    __m256i hb = _mm256_loadu_si256((const __m256i *)(b->qh + 32 * h));
    __m256i lo4 = k < 2 ? _mm256_and_si256(l, low) : _mm256_and_si256(_mm256_srli_epi16(l, 4), low);
    __m256i hi2 = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * k), three);
    *q = _mm256_or_si256(lo4, _mm256_slli_epi16(hi2, 4));
}

#define X86_DEFINE_Q6_K_TILE(name, R, C)                                                   \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        X86_TILE_ROWS(R, C, block_q6_K, block_q8_K)                                        \
        __m256 acc[R][C];                                                                  \
        _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] =             \
                _mm256_setzero_ps();                                                       \
        for (int64_t i = 0; i < n / QK_K; i++) {                                           \
            __m256i sc16[R], bsums[C], p[R][C];                                            \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                sc16[r] = _mm256_cvtepi8_epi16(                                            \
                    _mm_loadu_si128((const __m128i *)wr[r][i].scales));                    \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) p[r][c] =           \
                    _mm256_setzero_si256();                                                \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) bsums[c] =              \
                _mm256_loadu_si256((const __m256i *)xr[c][i].bsums);                       \
            for (int h = 0; h < 2; h++) {                                                  \
                for (int k = 0; k < 4; k++) {                                              \
                    __m256i xq[C];                                                         \
                    _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) xq[c] =         \
                        _mm256_loadu_si256(                                                \
                            (const __m256i *)(xr[c][i].qs + 128 * h + 32 * k));            \
                    _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                  \
                    {                                                                      \
                        __m256i q;                                                         \
                        q6_K_load_quarter(&wr[r][i], h, k, &q);                            \
                        const int8_t *s = wr[r][i].scales + 8 * h + 2 * k;                 \
                        __m256i sp = scale_pair(s[0], s[1]);                               \
                        _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) p[r][c] =   \
                            madd_i16_add(p[r][c], _mm256_maddubs_epi16(q, xq[c]), sp);     \
                    }                                                                      \
                }                                                                          \
            }                                                                              \
            _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                          \
            {                                                                              \
                float d = half_to_float(wr[r][i].d);                                       \
                _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++)                      \
                {                                                                          \
                    __m256i off = _mm256_madd_epi16(sc16[r], bsums[c]);                    \
                    __m256i t = _mm256_sub_epi32(p[r][c], _mm256_slli_epi32(off, 5));      \
                    acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(d * xr[c][i].d),            \
                                                _mm256_cvtepi32_ps(t), acc[r][c]);         \
                }                                                                          \
            }                                                                              \
        }                                                                                  \
        X86_TILE_STORE(R, C)                                                               \
    }

/* A tile entry point: the R x C instance for batches; for one token (decode) the 1 x 1
 * instance row after row. Decode streams the weights from memory once, and reading the
 * rows one after the other is a single sequential stream, which the hardware prefetchers
 * follow far better than R interleaved short rows (measured on Zen 5: 20-24 GB/s per
 * thread against 11-16 GB/s for 4 or 8 rows at a time). */
#define X86_DEFINE_TILE_ENTRY(name, full, single)                                          \
    static void name(int64_t n, int nr, int nc, float *restrict out, size_t out_stride,   \
                     const void *restrict w, size_t w_stride, const void *restrict x,      \
                     size_t x_stride)                                                      \
    {                                                                                      \
        if (nc == 1) {                                                                     \
            for (int r = 0; r < nr; r++)                                                   \
                single(n, 1, 1, out + r, out_stride,                                       \
                       (const uint8_t *)w + (size_t)r * w_stride, w_stride, x, x_stride);  \
        } else {                                                                           \
            full(n, nr, nc, out, out_stride, w, w_stride, x, x_stride);                    \
        }                                                                                  \
    }

/* The Q4_0 and Q8_0 tiles of one shape, and the K-quant tiles of one shape. */
#define X86_TILE_DEFINE_Q(suffix, R, C)                                                    \
    X86_DEFINE_Q4_0_TILE(q4_0_tile_##suffix, R, C)                                         \
    X86_DEFINE_Q4_0_TILE(q4_0_tile1_##suffix, 1, 1)                                        \
    X86_DEFINE_TILE_ENTRY(x86_q4_0_gemm_tile, q4_0_tile_##suffix, q4_0_tile1_##suffix)     \
    X86_DEFINE_Q8_0_TILE(q8_0_tile_##suffix, R, C)                                         \
    X86_DEFINE_Q8_0_TILE(q8_0_tile1_##suffix, 1, 1)                                        \
    X86_DEFINE_TILE_ENTRY(x86_q8_0_gemm_tile, q8_0_tile_##suffix, q8_0_tile1_##suffix)

#define X86_TILE_DEFINE_K(suffix, R, C)                                                    \
    X86_DEFINE_K4_TILE(q4_K_tile_##suffix, R, C, block_q4_K, q4_K_load_group)              \
    X86_DEFINE_K4_TILE(q4_K_tile1_##suffix, 1, 1, block_q4_K, q4_K_load_group)             \
    X86_DEFINE_TILE_ENTRY(x86_q4_K_gemm_tile, q4_K_tile_##suffix, q4_K_tile1_##suffix)     \
    X86_DEFINE_K4_TILE(q5_K_tile_##suffix, R, C, block_q5_K, q5_K_load_group)              \
    X86_DEFINE_K4_TILE(q5_K_tile1_##suffix, 1, 1, block_q5_K, q5_K_load_group)             \
    X86_DEFINE_TILE_ENTRY(x86_q5_K_gemm_tile, q5_K_tile_##suffix, q5_K_tile1_##suffix)     \
    X86_DEFINE_Q6_K_TILE(q6_K_tile_##suffix, R, C)                                         \
    X86_DEFINE_Q6_K_TILE(q6_K_tile1_##suffix, 1, 1)                                        \
    X86_DEFINE_TILE_ENTRY(x86_q6_K_gemm_tile, q6_K_tile_##suffix, q6_K_tile1_##suffix)

/* Sets a type's tile and its limits. */
static inline void x86_set_tile(struct slm_type_traits *t, slm_gemm_tile_fn fn, int rows,
                                int cols, slm_from_float_fn act)
{
    t->gemm_tile = fn;
    t->tile_rows = (uint8_t)rows;
    t->tile_cols = (uint8_t)cols;
    t->tile_from_float = act;
}

#endif
