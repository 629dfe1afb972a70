/* IEEE half and bfloat16 conversions. The scalar versions are the reference; F16C/NEON
 * paths live with the SIMD kernels. */
#ifndef SLM_QUANT_FP16_H
#define SLM_QUANT_FP16_H

#include <stdint.h>
#include <string.h>

static inline float slm_bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline uint32_t slm_f32_to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float slm_fp16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t mant = h & 0x3ff;
    if (exp == 0x1f) /* inf / nan */
        return slm_bits_to_f32(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
        if (mant == 0)
            return slm_bits_to_f32(sign);
        /* subnormal: value = mant * 2^-24 */
        float v = (float)mant * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    return slm_bits_to_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

/* Round to nearest even, with overflow to inf and gradual underflow. */
static inline uint16_t slm_f32_to_fp16(float f)
{
    uint32_t x = slm_f32_to_bits(f);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf or nan */
        return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
    if (absx >= 0x477ff000u) /* rounds to >= 65520: overflow */
        return (uint16_t)(sign | 0x7c00);
    if (absx < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
        float a = slm_bits_to_f32(absx);
        /* adding 0.5 (2^-1) aligns the mantissa so that the low bits are the half subnormal */
        uint32_t r = slm_f32_to_bits(a + 0.5f) - 0x3f000000u;
        return (uint16_t)(sign | r);
    }
    uint32_t mant_odd = (absx >> 13) & 1;
    absx += 0xc8000fffu + mant_odd; /* rebias exponent (-112 << 23) and round */
    return (uint16_t)(sign | (absx >> 13));
}

static inline float slm_bf16_to_f32(uint16_t h) { return slm_bits_to_f32((uint32_t)h << 16); }

static inline uint16_t slm_f32_to_bf16(float f)
{
    uint32_t x = slm_f32_to_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* nan: keep it a quiet nan */
        return (uint16_t)((x >> 16) | 0x40);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

#endif
