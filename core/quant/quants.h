/* The generic (reference) quantization kernels: one function per operation and type.
 *
 * These are the oracle every SIMD kernel is tested against, and they define slmd's file
 * output: `from_float` chooses scales and rounds exactly as the GGUF reference quantizer
 * does (including the iterative scale search of the K-quants), so `slm quantize` writes
 * the blocks llama.cpp's quantizer would and 8-bit activations match the reference engine.
 *
 * Row lengths `n` are multiples of the type's block size (the callers check this once,
 * when a tensor is loaded). Every function is safe on any float input, NaN and infinities
 * included: such values produce meaningless numbers, never undefined behaviour. */
#ifndef SLM_QUANT_QUANTS_H
#define SLM_QUANT_QUANTS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quant/blocks.h"

/* Round to nearest, ties to even, as the reference quantizer does (it adds 1.5 * 2^23 and
 * reads the mantissa). Arguments beyond ±2^22 are clamped first, where the trick stops
 * being exact, and NaN becomes 0, so the result is always defined. */
#define SLM_ROUND_LIMIT 4194303.0f
static inline int slm_nearest_int(float x)
{
    if (!(fabsf(x) <= SLM_ROUND_LIMIT))
        x = isnan(x) ? 0.0f : copysignf(SLM_ROUND_LIMIT, x);
    float shifted = x + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof(bits));
    return (bits & 0x007fffff) - 0x00400000;
}

/* (int)x truncated toward zero and clamped to [lo, hi]; NaN gives lo. The legacy
 * quantizers truncate `x + 0.5` (or `x + 8.5`) rather than round. */
static inline int slm_trunc_clamp(float x, int lo, int hi)
{
    if (!(x >= (float)lo))
        return lo;
    if (x >= (float)hi)
        return hi;
    return (int)x;
}

/* ---- float types: weights dotted with F32 activations ---- */
void slm_f32_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_f32_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_f32_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                     const void *restrict x);
void slm_f16_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_f16_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_f16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                     const void *restrict x);
void slm_bf16_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_bf16_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_bf16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x);

/* ---- 32-element block types ---- */
void slm_q4_0_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q4_0_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q4_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x); /* x: Q8_0 */
void slm_q4_1_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q4_1_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q4_1_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x); /* x: Q8_1 */
void slm_q5_0_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q5_0_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q5_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x); /* x: Q8_0 */
void slm_q5_1_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q5_1_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q5_1_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x); /* x: Q8_1 */
void slm_q8_0_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q8_0_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q8_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x); /* x: Q8_0 */
void slm_q8_1_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q8_1_from_float(const float *restrict src, void *restrict dst, int64_t n);

/* ---- K-quants: 256-element super-blocks, dotted with Q8_K activations ---- */
void slm_q2_K_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q2_K_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q2_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x);
void slm_q3_K_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q3_K_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q3_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x);
void slm_q4_K_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q4_K_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q4_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x);
void slm_q5_K_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q5_K_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q5_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x);
void slm_q6_K_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q6_K_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q6_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x);
void slm_q8_K_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q8_K_from_float(const float *restrict src, void *restrict dst, int64_t n);

/* ---- Q4_0 regrouped by sixteen blocks (blocks.h), dotted with Q8_0_R16 activations ---- */
void slm_q4_0_r16_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q4_0_r16_from_float(const float *restrict src, void *restrict dst, int64_t n);
void slm_q4_0_r16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                          const void *restrict x);
void slm_q8_0_r16_to_float(const void *restrict src, float *restrict dst, int64_t n);
void slm_q8_0_r16_from_float(const float *restrict src, void *restrict dst, int64_t n);
/* Regroups `groups` runs of sixteen Q4_0 blocks into as many block_q4_0_r16, in place
 * (same size, bytes only moved). */
void slm_q4_0_regroup_r16(void *data, size_t groups);
/* Sixteen Q8_0 blocks -> one Q8_0_R16 block (SIMD quantizers share the interleave). */
void slm_q8_0_r16_pack(const block_q8_0 blocks[QR16_BLOCKS], block_q8_0_r16 *out);

/* The 6-bit scale and min of sub-block j (0..7) of a Q4_K / Q5_K block: j < 4 sit in the
 * low 6 bits of bytes j and j + 4; j >= 4 keep their low 4 bits in byte j + 4 and their
 * top 2 bits in the spare high bits of bytes j - 4 and j. */
static inline void slm_k4_scale_min(int j, const uint8_t *scales, uint8_t *scale, uint8_t *min)
{
    if (j < 4) {
        *scale = scales[j] & 63;
        *min = scales[j + 4] & 63;
    } else {
        *scale = (uint8_t)((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4));
        *min = (uint8_t)((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
    }
}

/* All eight scales and mins of a Q4_K / Q5_K block at once, four per 32-bit word: bytes
 * 0-3 hold scales 0-3 (their top bits: scales 4-7's high bits), bytes 4-7 mins 0-3 (and
 * mins 4-7's high bits), bytes 8-11 the low nibbles of scales and mins 4-7. Little-endian
 * hosts (like every GGUF reader). The results are stored as whole words: SIMD callers
 * load them back as 8-byte vectors, and byte-wise stores would stall that load (store
 * forwarding), which made the Q4_K tiles six times slower. */
static inline void slm_k4_unpack_scales(const uint8_t packed[12], uint8_t scales[8],
                                        uint8_t mins[8])
{
    uint32_t w[3];
    memcpy(w, packed, 12);
    uint32_t out[4] = {w[0] & 0x3F3F3F3Fu, (w[2] & 0x0F0F0F0Fu) | ((w[0] >> 2) & 0x30303030u),
                       w[1] & 0x3F3F3F3Fu, ((w[2] >> 4) & 0x0F0F0F0Fu) | ((w[1] >> 2) & 0x30303030u)};
    memcpy(scales, out, 8);
    memcpy(mins, out + 2, 8);
}

/* The signed 6-bit scale of sub-block j (0..15) of a Q3_K block: low 4 bits in the low
 * (j < 8) or high nibble of byte j % 8, top 2 bits in byte 8 + j % 4 at bit 2 * (j / 4). */
static inline int slm_q3_K_scale(int j, const uint8_t *scales)
{
    int low = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
    int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
    return (low | (high << 4)) - 32;
}

#endif
