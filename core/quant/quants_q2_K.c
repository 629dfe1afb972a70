/* Q2_K: 2-bit quants in 16 sub-blocks of 16, each with a 4-bit scale and a 4-bit min
 * (x = d * scale * q - dmin * min).
 *
 * Element e of a super-block: its 2 bits are at shift 2 * ((e % 128) / 32) of byte
 * qs[32 * (e / 128) + e % 32]; its scale/min byte is scales[e / 16]. */
#include <stdbool.h>

#include "quant/fp16.h"
#include "quant/kquant_search.h"
#include "quant/quants.h"

/* The 256 quants of a block, 0..3. */
static void q2_K_unpack(const block_q2_K *b, uint8_t q[QK_K])
{
    for (int e = 0; e < QK_K; e++) {
        int shift = 2 * ((e % 128) / 32);
        q[e] = (b->qs[32 * (e / 128) + e % 32] >> shift) & 3;
    }
}

void slm_q2_K_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q2_K *b = src;
    uint8_t q[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = slm_fp16_to_f32(b[i].d), dmin = slm_fp16_to_f32(b[i].dmin);
        q2_K_unpack(&b[i], q);
        for (int e = 0; e < QK_K; e++) {
            uint8_t sc = b[i].scales[e / 16];
            dst[e] = d * (sc & 0xF) * q[e] - dmin * (sc >> 4);
        }
    }
}

void slm_q2_K_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    /* Scales and mins are quantized to 4 bits against their maxima. */
    const float levels = 15.f;
    block_q2_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        uint8_t L[QK_K];
        float weights[16], scales[QK_K / 16], mins[QK_K / 16];
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            for (int l = 0; l < 16; l++)
                weights[l] = fabsf(src[16 * j + l]);
            scales[j] = slm_kq_fit_scale_min(16, 3, src + 16 * j, weights, L + 16 * j,
                                             &mins[j], -0.5f, 0.1f, 15, true);
            if (scales[j] > max_scale)
                max_scale = scales[j];
            if (mins[j] > max_min)
                max_min = mins[j];
        }
        if (max_scale > 0) {
            float iscale = levels / max_scale;
            for (int j = 0; j < QK_K / 16; j++)
                b[i].scales[j] = (uint8_t)slm_nearest_int(iscale * scales[j]);
            b[i].d = slm_f32_to_fp16(max_scale / levels);
        } else {
            for (int j = 0; j < QK_K / 16; j++)
                b[i].scales[j] = 0;
            b[i].d = slm_f32_to_fp16(0.f);
        }
        if (max_min > 0) {
            float iscale = levels / max_min;
            for (int j = 0; j < QK_K / 16; j++)
                b[i].scales[j] |= (uint8_t)(slm_nearest_int(iscale * mins[j]) << 4);
            b[i].dmin = slm_f32_to_fp16(max_min / levels);
        } else {
            b[i].dmin = slm_f32_to_fp16(0.f);
        }
        /* Requantize every element against the scales as stored. */
        for (int j = 0; j < QK_K / 16; j++) {
            float d = slm_fp16_to_f32(b[i].d) * (b[i].scales[j] & 0xF);
            if (!d)
                continue;
            float dm = slm_fp16_to_f32(b[i].dmin) * (b[i].scales[j] >> 4);
            for (int l = 0; l < 16; l++) {
                int q = slm_nearest_int((src[16 * j + l] + dm) / d);
                L[16 * j + l] = (uint8_t)(q < 0 ? 0 : q > 3 ? 3 : q);
            }
        }
        for (int c = 0; c < QK_K; c += 128)
            for (int l = 0; l < 32; l++)
                b[i].qs[c / 4 + l] = (uint8_t)(L[c + l] | (L[c + l + 32] << 2) |
                                               (L[c + l + 64] << 4) | (L[c + l + 96] << 6));
    }
}

void slm_q2_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const block_q2_K *wb = w;
    const block_q8_K *xb = x;
    uint8_t q[QK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        q2_K_unpack(&wb[i], q);
        int sum_scaled = 0, sum_mins = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            int dot = 0;
            for (int l = 0; l < 16; l++)
                dot += q[16 * j + l] * xb[i].qs[16 * j + l];
            sum_scaled += (wb[i].scales[j] & 0xF) * dot;
            sum_mins += (wb[i].scales[j] >> 4) * xb[i].bsums[j];
        }
        sum += xb[i].d * slm_fp16_to_f32(wb[i].d) * (float)sum_scaled -
               xb[i].d * slm_fp16_to_f32(wb[i].dmin) * (float)sum_mins;
    }
    *s = sum;
}
