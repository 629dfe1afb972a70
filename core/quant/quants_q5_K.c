/* Q5_K: Q4_K plus a fifth bit per element (x = d * scale * q - dmin * min, q in 0..31).
 *
 * Element e: low nibble as in Q4_K, bit 4 is bit e / 32 of qh[e % 32]. */
#include "quant/fp16.h"
#include "quant/kquant_search.h"
#include "quant/quants.h"

static void q5_K_unpack(const block_q5_K *b, uint8_t q[QK_K])
{
    for (int e = 0; e < QK_K; e++) {
        uint8_t byte = b->qs[32 * (e / 64) + e % 32];
        uint8_t low = (e % 64 < 32) ? (byte & 0xF) : (byte >> 4);
        uint8_t high = (b->qh[e % 32] >> (e / 32)) & 1;
        q[e] = (uint8_t)(low | (high << 4));
    }
}

void slm_q5_K_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q5_K *b = src;
    uint8_t q[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = slm_fp16_to_f32(b[i].d), dmin = slm_fp16_to_f32(b[i].dmin);
        q5_K_unpack(&b[i], q);
        for (int j = 0; j < QK_K / 32; j++) {
            uint8_t sc, m;
            slm_k4_scale_min(j, b[i].scales, &sc, &m);
            float scale = d * sc, min = dmin * m;
            for (int l = 0; l < 32; l++)
                dst[32 * j + l] = scale * q[32 * j + l] - min;
        }
    }
}

void slm_q5_K_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q5_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        uint8_t L[QK_K];
        float weights[32], scales[QK_K / 32], mins[QK_K / 32];
        for (int j = 0; j < QK_K / 32; j++) {
            float sum_x2 = 0;
            for (int l = 0; l < 32; l++)
                sum_x2 += src[32 * j + l] * src[32 * j + l];
            float av_x = sqrtf(sum_x2 / 32);
            for (int l = 0; l < 32; l++)
                weights[l] = av_x + fabsf(src[32 * j + l]);
            scales[j] = slm_kq_fit_scale_min(32, 31, src + 32 * j, weights, L + 32 * j,
                                             &mins[j], -0.5f, 0.1f, 15, false);
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
                L[32 * j + l] = (uint8_t)(q < 0 ? 0 : q > 31 ? 31 : q);
            }
        }
        memset(b[i].qh, 0, sizeof(b[i].qh));
        for (int e = 0; e < QK_K; e++)
            b[i].qh[e % 32] |= (uint8_t)((L[e] >> 4) << (e / 32));
        for (int c = 0; c < QK_K; c += 64)
            for (int l = 0; l < 32; l++)
                b[i].qs[c / 2 + l] = (uint8_t)((L[c + l] & 0xF) | ((L[c + l + 32] & 0xF) << 4));
    }
}

void slm_q5_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const block_q5_K *wb = w;
    const block_q8_K *xb = x;
    uint8_t q[QK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        q5_K_unpack(&wb[i], q);
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
