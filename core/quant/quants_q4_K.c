/* Q4_K: 4-bit quants in 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit min
 * (x = d * scale * q - dmin * min; packing in slm_k4_scale_min()).
 *
 * Element e: nibble of byte qs[32 * (e / 64) + e % 32], the low one when e % 64 < 32. */
#include "quant/fp16.h"
#include "quant/kquant_search.h"
#include "quant/quants.h"

static void q4_K_unpack(const block_q4_K *b, uint8_t q[QK_K])
{
    for (int e = 0; e < QK_K; e++) {
        uint8_t byte = b->qs[32 * (e / 64) + e % 32];
        q[e] = (e % 64 < 32) ? (byte & 0xF) : (byte >> 4);
    }
}

void slm_q4_K_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q4_K *b = src;
    uint8_t q[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = slm_fp16_to_f32(b[i].d), dmin = slm_fp16_to_f32(b[i].dmin);
        q4_K_unpack(&b[i], q);
        for (int j = 0; j < QK_K / 32; j++) {
            uint8_t sc, m;
            slm_k4_scale_min(j, b[i].scales, &sc, &m);
            float scale = d * sc, min = dmin * m;
            for (int l = 0; l < 32; l++)
                dst[32 * j + l] = scale * q[32 * j + l] - min;
        }
    }
}

void slm_q4_K_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q4_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        uint8_t L[QK_K];
        float weights[32], scales[QK_K / 32], mins[QK_K / 32];
        for (int j = 0; j < QK_K / 32; j++) {
            /* Weight each element by the sub-block's rms plus its own magnitude. */
            float sum_x2 = 0;
            for (int l = 0; l < 32; l++)
                sum_x2 += src[32 * j + l] * src[32 * j + l];
            float av_x = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; l++)
                weights[l] = av_x + fabsf(src[32 * j + l]);
            scales[j] = slm_kq_fit_scale_min(32, 15, src + 32 * j, weights, L + 32 * j,
                                             &mins[j], -1.f, 0.1f, 20, false);
        }
        slm_kq_pack_scale_min(scales, mins, b[i].scales, &b[i].d, &b[i].dmin);
        for (int j = 0; j < QK_K / 32; j++) {
            uint8_t sc, m;
            slm_k4_scale_min(j, b[i].scales, &sc, &m);
            float d = slm_fp16_to_f32(b[i].d) * sc;
            if (!d)
                continue;
            float dm = slm_fp16_to_f32(b[i].dmin) * m;
            for (int l = 0; l < 32; l++) {
                int q = slm_nearest_int((src[32 * j + l] + dm) / d);
                L[32 * j + l] = (uint8_t)(q < 0 ? 0 : q > 15 ? 15 : q);
            }
        }
        for (int c = 0; c < QK_K; c += 64)
            for (int l = 0; l < 32; l++)
                b[i].qs[c / 2 + l] = (uint8_t)(L[c + l] | (L[c + l + 32] << 4));
    }
}

void slm_q4_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const block_q4_K *wb = w;
    const block_q8_K *xb = x;
    uint8_t q[QK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        q4_K_unpack(&wb[i], q);
        int sum_scaled = 0, sum_mins = 0;
        for (int j = 0; j < QK_K / 32; j++) {
            uint8_t sc, m;
            slm_k4_scale_min(j, wb[i].scales, &sc, &m);
            int dot = 0;
            for (int l = 0; l < 32; l++)
                dot += q[32 * j + l] * xb[i].qs[32 * j + l];
            sum_scaled += sc * dot;
            sum_mins += m * (xb[i].bsums[2 * j] + xb[i].bsums[2 * j + 1]);
        }
        sum += xb[i].d * slm_fp16_to_f32(wb[i].d) * (float)sum_scaled -
               xb[i].d * slm_fp16_to_f32(wb[i].dmin) * (float)sum_mins;
    }
    *s = sum;
}
