/* Helpers shared by the x86 kernel files. Included by each ISA-level file, so every
 * function here is compiled with that file's instruction set: the integer dot helpers use
 * VNNI (vpdpbusd / vpdpwssd on 256-bit registers) when the including file is built with
 * it, and AVX2's vpmaddubsw / vpmaddwd otherwise. */
#ifndef SLM_ARCH_X86_COMMON_H
#define SLM_ARCH_X86_COMMON_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define SLM_X86_VNNI 1
#else
#define SLM_X86_VNNI 0
#endif

static inline float hsum_ps256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int hsum_epi32_256(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

static inline float hmax_ps256(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

static inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

/* 16 bytes of packed nibbles -> 32 bytes: low nibbles in bytes 0..15, high in 16..31
 * (the element order of Q4_0/Q4_1/Q5 blocks). */
static inline __m256i unpack_nibbles_128(const uint8_t *p)
{
    __m128i b = _mm_loadu_si128((const __m128i *)p);
    __m256i v = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* Bit i of the 32-bit little-endian word at p -> byte i is 0xFF or 0x00. */
static inline __m256i expand_bits_32(const uint8_t *p)
{
    uint32_t bits;
    memcpy(&bits, p, 4);
    /* byte i of the result takes byte i / 8 of the word, then tests bit i % 8 */
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2,
                                          2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/* The float accumulators of an R x C tile of 512-bit kernels, zeroed; and at the end each
 * summed across its lanes into out[c * out_stride + r] for the nr x nc part asked for. */
#define X512_TILE_ACC(R, C)                                                                \
    __m512 acc[R][C];                                                                      \
    _Pragma("GCC unroll 8") for (int r = 0; r < (R); r++)                                  \
        _Pragma("GCC unroll 8") for (int c = 0; c < (C); c++) acc[r][c] = _mm512_setzero_ps();
#define X512_TILE_STORE()                                                                  \
    for (int r = 0; r < nr; r++)                                                           \
        for (int c = 0; c < nc; c++)                                                       \
            out[(size_t)c * out_stride + (size_t)r] = _mm512_reduce_add_ps(acc[r][c]);

/* acc + sum over groups of 4 of u8 * s8 (u in 0..255 unsigned, s signed), as int32x8.
 * AVX2 goes through int16 pair sums: exact as long as u * s pairs stay within int16,
 * which holds for every caller (u <= 63, or |u| <= 128 with |s| <= 127). */
static inline __m256i dot_u8s8_add(__m256i acc, __m256i u, __m256i s)
{
#if SLM_X86_VNNI
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    __m256i p = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
#endif
}

/* Signed x signed int8 dot in groups of 4: |x| is made the unsigned operand and its sign
 * moved onto y. */
static inline __m256i dot_s8s8_add(__m256i acc, __m256i x, __m256i y)
{
    return dot_u8s8_add(acc, _mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

/* acc + pairwise int16 products summed to int32 (scaling int16 partial sums). */
static inline __m256i madd_i16_add(__m256i acc, __m256i a, __m256i b)
{
#if SLM_X86_VNNI
    return _mm256_dpwssd_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

/* exp(x) for 8 floats: 2^n * p(r) with n = round(x / ln 2), r = x - n ln 2 (ln 2 split in
 * two parts for accuracy) and p a degree-6 Taylor polynomial on |r| <= ln(2) / 2 (relative
 * error below 2e-7). Inputs below -87.3 give 0, above 88.7 +inf. */
static inline __m256 exp_ps256(__m256 x)
{
    const __m256 hi = _mm256_set1_ps(88.7f), lo = _mm256_set1_ps(-87.3f);
    __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    /* 2^n built in two halves so that n = 128 (x near 88.7) does not overflow the
     * exponent field. */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i half1 = _mm256_srai_epi32(ni, 1), half2 = _mm256_sub_epi32(ni, half1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half2, _mm256_set1_epi32(127)), 23));
    __m256 result = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    return _mm256_andnot_ps(under, result);
}

/* erf(x) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7):
 * 1 - (a1 t + ... + a5 t^5) exp(-x^2), t = 1 / (1 + p |x|), sign restored. */
static inline __m256 erf_ps256(__m256 x)
{
    const __m256 sign_mask = _mm256_set1_ps(-0.0f);
    __m256 sign = _mm256_and_ps(x, sign_mask);
    __m256 ax = _mm256_andnot_ps(sign_mask, x);
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f),
                             _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), ax, _mm256_set1_ps(1.0f)));
    __m256 poly = _mm256_set1_ps(1.061405429f);
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-1.453152027f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(1.421413741f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-0.284496736f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(0.254829592f));
    poly = _mm256_mul_ps(poly, t);
    __m256 e = exp_ps256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax)));
    __m256 y = _mm256_fnmadd_ps(poly, e, _mm256_set1_ps(1.0f));
    return _mm256_or_ps(y, sign);
}

#endif
