/* Q3_K: 3-bit quants in 16 sub-blocks of 16 with signed 6-bit scales (x = d * scale * q,
 * q in -4..3).
 *
 * Element e: low 2 bits as in Q2_K (shift 2 * ((e % 128) / 32) of byte
 * qs[32 * (e / 128) + e % 32]); the high bit is bit e / 32 of hmask[e % 32], and a clear
 * high bit means q = low - 4. Scales: see slm_q3_K_scale(). */
#include "quant/fp16.h"
#include "quant/kquant_search.h"
#include "quant/quants.h"

static void q3_K_unpack(const block_q3_K *b, int8_t q[QK_K])
{
    for (int e = 0; e < QK_K; e++) {
        int low = (b->qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
        int high = (b->hmask[e % 32] >> (e / 32)) & 1;
        q[e] = (int8_t)(low - (high ? 0 : 4));
    }
}

void slm_q3_K_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q3_K *b = src;
    int8_t q[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = slm_fp16_to_f32(b[i].d);
        q3_K_unpack(&b[i], q);
        for (int e = 0; e < QK_K; e++)
            dst[e] = d * (float)slm_q3_K_scale(e / 16, b[i].scales) * q[e];
    }
}

void slm_q3_K_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q3_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        int8_t L[QK_K];
        float scales[QK_K / 16];
        float max_scale = 0, amax = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            scales[j] = slm_kq_fit_q3(16, 4, src + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > amax) {
                amax = fabsf(scales[j]);
                max_scale = scales[j];
            }
        }
        memset(b[i].scales, 0, sizeof(b[i].scales));
        if (max_scale) {
            /* The largest scale maps to -32, so d carries its sign. */
            float iscale = -32.f / max_scale;
            for (int j = 0; j < QK_K / 16; j++) {
                int l = (int8_t)slm_nearest_int(iscale * scales[j]);
                l = (l < -32 ? -32 : l > 31 ? 31 : l) + 32;
                if (j < 8)
                    b[i].scales[j] = (uint8_t)(l & 0xF);
                else
                    b[i].scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
                b[i].scales[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
            }
            b[i].d = slm_f32_to_fp16(1 / iscale);
        } else {
            b[i].d = slm_f32_to_fp16(0.f);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            float d = slm_fp16_to_f32(b[i].d) * (float)slm_q3_K_scale(j, b[i].scales);
            if (!d)
                continue;
            for (int l = 0; l < 16; l++) {
                int q = slm_nearest_int(src[16 * j + l] / d);
                L[16 * j + l] = (int8_t)((q < -4 ? -4 : q > 3 ? 3 : q) + 4);
            }
        }
        memset(b[i].hmask, 0, sizeof(b[i].hmask));
        for (int e = 0; e < QK_K; e++) {
            if (L[e] > 3) {
                b[i].hmask[e % 32] |= (uint8_t)(1 << (e / 32));
                L[e] -= 4;
            }
        }
        for (int c = 0; c < QK_K; c += 128)
            for (int l = 0; l < 32; l++)
                b[i].qs[c / 4 + l] = (uint8_t)(L[c + l] | (L[c + l + 32] << 2) |
                                               (L[c + l + 64] << 4) | (L[c + l + 96] << 6));
    }
}

void slm_q3_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const block_q3_K *wb = w;
    const block_q8_K *xb = x;
    int8_t q[QK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        q3_K_unpack(&wb[i], q);
        int sumi = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            int dot = 0;
            for (int l = 0; l < 16; l++)
                dot += q[16 * j + l] * xb[i].qs[16 * j + l];
            sumi += slm_q3_K_scale(j, wb[i].scales) * dot;
        }
        sum += slm_fp16_to_f32(wb[i].d) * xb[i].d * (float)sumi;
    }
    *s = sum;
}
