/* The 32-element block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_1.
 *
 * Q4_0/Q5_0 are symmetric: the element of largest magnitude maps to the most negative
 * code (-8 or -16), so d = max / -8 and the sign of d carries the sign of that element.
 * Q4_1/Q5_1 store a minimum and spread [min, max] over 16 or 32 steps. Q8_0/Q8_1 are the
 * 8-bit activation formats (Q8_1 also keeps d * sum(qs) for the min term of Q4_1/Q5_1). */
#include "quant/fp16.h"
#include "quant/quants.h"

/* The element of largest magnitude, with its sign (0 for an all-zero block). */
static float signed_absmax(const float *x, int n)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

static float absmax(const float *x, int n)
{
    float amax = 0.0f;
    for (int j = 0; j < n; j++)
        amax = fmaxf(amax, fabsf(x[j]));
    return amax;
}

static void min_max(const float *x, int n, float *min, float *max)
{
    float lo = x[0], hi = x[0];
    for (int j = 1; j < n; j++) {
        if (x[j] < lo)
            lo = x[j];
        if (x[j] > hi)
            hi = x[j];
    }
    *min = lo;
    *max = hi;
}

/* Nearest int8, ties to even. The reference's scalar code uses roundf (ties away from
 * zero) but its SIMD activation quantizers and the published Q8_0 files round ties to
 * even; we follow the files (the test suite compares with one byte for byte) and this
 * lets every SIMD quantizer match the generic one exactly. |v| <= 127 by construction. */
static int8_t round_to_i8(float v)
{
    int r = slm_nearest_int(v);
    return (int8_t)(r < -127 ? -127 : r > 127 ? 127 : r);
}

/* Bit 4 of element j of a Q5 block lives in bit j of the 32-bit little-endian qh. */
static uint32_t load_qh(const uint8_t qh[4])
{
    return (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
           (uint32_t)qh[3] << 24;
}

static void store_qh(uint8_t qh[4], uint32_t bits)
{
    for (int k = 0; k < 4; k++)
        qh[k] = (uint8_t)(bits >> (8 * k));
}

/* ---- Q4_0 ---- */

void slm_q4_0_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q4_0 *b = src;
    for (int64_t i = 0; i < n / QK4_0; i++, dst += QK4_0) {
        float d = slm_fp16_to_f32(b[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            dst[j] = (float)((b[i].qs[j] & 0x0F) - 8) * d;
            dst[j + QK4_0 / 2] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

void slm_q4_0_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q4_0 *b = dst;
    for (int64_t i = 0; i < n / QK4_0; i++, src += QK4_0) {
        float d = signed_absmax(src, QK4_0) / -8.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = slm_f32_to_fp16(d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            int lo = slm_trunc_clamp(src[j] * id + 8.5f, 0, 15);
            int hi = slm_trunc_clamp(src[j + QK4_0 / 2] * id + 8.5f, 0, 15);
            b[i].qs[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void slm_q4_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const block_q4_0 *wb = w;
    const block_q8_0 *xb = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK4_0; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_0 / 2; j++) {
            sumi += ((wb[i].qs[j] & 0x0F) - 8) * xb[i].qs[j];
            sumi += ((wb[i].qs[j] >> 4) - 8) * xb[i].qs[j + QK4_0 / 2];
        }
        sum += (float)sumi * slm_fp16_to_f32(wb[i].d) * slm_fp16_to_f32(xb[i].d);
    }
    *s = sum;
}

/* ---- Q4_1 ---- */

void slm_q4_1_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q4_1 *b = src;
    for (int64_t i = 0; i < n / QK4_1; i++, dst += QK4_1) {
        float d = slm_fp16_to_f32(b[i].d), m = slm_fp16_to_f32(b[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            dst[j] = (float)(b[i].qs[j] & 0x0F) * d + m;
            dst[j + QK4_1 / 2] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

void slm_q4_1_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q4_1 *b = dst;
    for (int64_t i = 0; i < n / QK4_1; i++, src += QK4_1) {
        float min, max;
        min_max(src, QK4_1, &min, &max);
        float d = (max - min) / 15.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = slm_f32_to_fp16(d);
        b[i].m = slm_f32_to_fp16(min);
        for (int j = 0; j < QK4_1 / 2; j++) {
            int lo = slm_trunc_clamp((src[j] - min) * id + 0.5f, 0, 15);
            int hi = slm_trunc_clamp((src[j + QK4_1 / 2] - min) * id + 0.5f, 0, 15);
            b[i].qs[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void slm_q4_1_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const block_q4_1 *wb = w;
    const block_q8_1 *xb = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK4_1; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_1 / 2; j++) {
            sumi += (wb[i].qs[j] & 0x0F) * xb[i].qs[j];
            sumi += (wb[i].qs[j] >> 4) * xb[i].qs[j + QK4_1 / 2];
        }
        sum += slm_fp16_to_f32(wb[i].d) * slm_fp16_to_f32(xb[i].d) * (float)sumi +
               slm_fp16_to_f32(wb[i].m) * slm_fp16_to_f32(xb[i].s);
    }
    *s = sum;
}

/* ---- Q5_0 ---- */

void slm_q5_0_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q5_0 *b = src;
    for (int64_t i = 0; i < n / QK5_0; i++, dst += QK5_0) {
        float d = slm_fp16_to_f32(b[i].d);
        uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < QK5_0 / 2; j++) {
            int lo = (b[i].qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
            int hi = (b[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            dst[j] = (float)(lo - 16) * d;
            dst[j + QK5_0 / 2] = (float)(hi - 16) * d;
        }
    }
}

void slm_q5_0_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q5_0 *b = dst;
    for (int64_t i = 0; i < n / QK5_0; i++, src += QK5_0) {
        float d = signed_absmax(src, QK5_0) / -16.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = slm_f32_to_fp16(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            int lo = slm_trunc_clamp(src[j] * id + 16.5f, 0, 31);
            int hi = slm_trunc_clamp(src[j + QK5_0 / 2] * id + 16.5f, 0, 31);
            b[i].qs[j] = (uint8_t)((lo & 0x0F) | ((hi & 0x0F) << 4));
            qh |= (uint32_t)(lo >> 4) << j;
            qh |= (uint32_t)(hi >> 4) << (j + 16);
        }
        store_qh(b[i].qh, qh);
    }
}

void slm_q5_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const block_q5_0 *wb = w;
    const block_q8_0 *xb = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK5_0; i++) {
        uint32_t qh = load_qh(wb[i].qh);
        int sumi = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            int lo = ((wb[i].qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4)) - 16;
            int hi = ((wb[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16;
            sumi += lo * xb[i].qs[j] + hi * xb[i].qs[j + QK5_0 / 2];
        }
        sum += (float)sumi * slm_fp16_to_f32(wb[i].d) * slm_fp16_to_f32(xb[i].d);
    }
    *s = sum;
}

/* ---- Q5_1 ---- */

void slm_q5_1_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q5_1 *b = src;
    for (int64_t i = 0; i < n / QK5_1; i++, dst += QK5_1) {
        float d = slm_fp16_to_f32(b[i].d), m = slm_fp16_to_f32(b[i].m);
        uint32_t qh = load_qh(b[i].qh);
        for (int j = 0; j < QK5_1 / 2; j++) {
            int lo = (b[i].qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
            int hi = (b[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            dst[j] = (float)lo * d + m;
            dst[j + QK5_1 / 2] = (float)hi * d + m;
        }
    }
}

void slm_q5_1_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q5_1 *b = dst;
    for (int64_t i = 0; i < n / QK5_1; i++, src += QK5_1) {
        float min, max;
        min_max(src, QK5_1, &min, &max);
        float d = (max - min) / 31.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = slm_f32_to_fp16(d);
        b[i].m = slm_f32_to_fp16(min);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            int lo = slm_trunc_clamp((src[j] - min) * id + 0.5f, 0, 31);
            int hi = slm_trunc_clamp((src[j + QK5_1 / 2] - min) * id + 0.5f, 0, 31);
            b[i].qs[j] = (uint8_t)((lo & 0x0F) | ((hi & 0x0F) << 4));
            qh |= (uint32_t)(lo >> 4) << j;
            qh |= (uint32_t)(hi >> 4) << (j + 16);
        }
        store_qh(b[i].qh, qh);
    }
}

void slm_q5_1_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const block_q5_1 *wb = w;
    const block_q8_1 *xb = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK5_1; i++) {
        uint32_t qh = load_qh(wb[i].qh);
        int sumi = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            int lo = (wb[i].qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
            int hi = (wb[i].qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            sumi += lo * xb[i].qs[j] + hi * xb[i].qs[j + QK5_1 / 2];
        }
        sum += slm_fp16_to_f32(wb[i].d) * slm_fp16_to_f32(xb[i].d) * (float)sumi +
               slm_fp16_to_f32(wb[i].m) * slm_fp16_to_f32(xb[i].s);
    }
    *s = sum;
}

/* ---- Q8_0 ---- */

void slm_q8_0_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q8_0 *b = src;
    for (int64_t i = 0; i < n / QK8_0; i++, dst += QK8_0) {
        float d = slm_fp16_to_f32(b[i].d);
        for (int j = 0; j < QK8_0; j++)
            dst[j] = (float)b[i].qs[j] * d;
    }
}

void slm_q8_0_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q8_0 *b = dst;
    for (int64_t i = 0; i < n / QK8_0; i++, src += QK8_0) {
        float d = absmax(src, QK8_0) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = slm_f32_to_fp16(d);
        for (int j = 0; j < QK8_0; j++)
            b[i].qs[j] = round_to_i8(src[j] * id);
    }
}

void slm_q8_0_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const block_q8_0 *wb = w;
    const block_q8_0 *xb = x;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / QK8_0; i++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0; j++)
            sumi += wb[i].qs[j] * xb[i].qs[j];
        sum += (float)sumi * (slm_fp16_to_f32(wb[i].d) * slm_fp16_to_f32(xb[i].d));
    }
    *s = sum;
}

/* ---- Q8_1 (activations only) ---- */

void slm_q8_1_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q8_1 *b = src;
    for (int64_t i = 0; i < n / QK8_1; i++, dst += QK8_1) {
        float d = slm_fp16_to_f32(b[i].d);
        for (int j = 0; j < QK8_1; j++)
            dst[j] = (float)b[i].qs[j] * d;
    }
}

void slm_q8_1_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q8_1 *b = dst;
    for (int64_t i = 0; i < n / QK8_1; i++, src += QK8_1) {
        float d = absmax(src, QK8_1) / 127.0f;
        float id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = slm_f32_to_fp16(d);
        int sum = 0;
        for (int j = 0; j < QK8_1; j++) {
            b[i].qs[j] = round_to_i8(src[j] * id);
            sum += b[i].qs[j];
        }
        /* The unrounded d, as the reference does: s feeds the min term m * sum(x). */
        b[i].s = slm_f32_to_fp16((float)sum * d);
    }
}
