/* Q6_K: 6-bit quants in 16 sub-blocks of 16 with signed 8-bit scales
 * (x = d * scale * (q - 32)).
 *
 * Element e, with r = e % 128 and k = r / 32 (which quarter of the 128-element half):
 * the low nibble is in ql[64 * (e / 128) + r % 32 + 32 * (k & 1)] (low nibble for k < 2,
 * high for k >= 2), the top 2 bits at shift 2 * k of qh[32 * (e / 128) + r % 32]. */
#include "quant/fp16.h"
#include "quant/kquant_search.h"
#include "quant/quants.h"

/* The quants of a block, already centred (-32..31). */
static void q6_K_unpack(const block_q6_K *b, int8_t q[QK_K])
{
    for (int e = 0; e < QK_K; e++) {
        int half = e / 128, r = e % 128, k = r / 32;
        uint8_t lbyte = b->ql[64 * half + r % 32 + 32 * (k & 1)];
        int low = k < 2 ? (lbyte & 0xF) : (lbyte >> 4);
        int high = (b->qh[32 * half + r % 32] >> (2 * k)) & 3;
        q[e] = (int8_t)((low | (high << 4)) - 32);
    }
}

void slm_q6_K_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q6_K *b = src;
    int8_t q[QK_K];
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K) {
        float d = slm_fp16_to_f32(b[i].d);
        q6_K_unpack(&b[i], q);
        for (int e = 0; e < QK_K; e++)
            dst[e] = d * b[i].scales[e / 16] * q[e];
    }
}

void slm_q6_K_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q6_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        int8_t L[QK_K];
        float scales[QK_K / 16];
        float max_scale = 0, max_abs_scale = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            scales[j] = slm_kq_fit_symmetric(16, 32, src + 16 * j, L + 16 * j);
            if (fabsf(scales[j]) > max_abs_scale) {
                max_abs_scale = fabsf(scales[j]);
                max_scale = scales[j];
            }
        }
        if (max_abs_scale < SLM_KQ_GROUP_EPS) {
            memset(&b[i], 0, sizeof(b[i]));
            b[i].d = slm_f32_to_fp16(0.f);
            continue;
        }
        /* The largest scale maps to -128, so d carries its sign. */
        float iscale = -128.f / max_scale;
        b[i].d = slm_f32_to_fp16(1 / iscale);
        for (int j = 0; j < QK_K / 16; j++) {
            int l = slm_nearest_int(iscale * scales[j]);
            b[i].scales[j] = (int8_t)(l > 127 ? 127 : l < -128 ? -128 : l);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            float d = slm_fp16_to_f32(b[i].d) * b[i].scales[j];
            if (!d)
                continue;
            for (int l = 0; l < 16; l++) {
                int q = slm_nearest_int(src[16 * j + l] / d);
                L[16 * j + l] = (int8_t)((q < -32 ? -32 : q > 31 ? 31 : q) + 32);
            }
        }
        for (int half = 0; half < 2; half++) {
            const int8_t *Lh = L + 128 * half;
            uint8_t *ql = b[i].ql + 64 * half, *qh = b[i].qh + 32 * half;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
                ql[l + 32] = (uint8_t)((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
                qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                  ((Lh[l + 64] >> 4) << 4) | ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

void slm_q6_K_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const block_q6_K *wb = w;
    const block_q8_K *xb = x;
    int8_t q[QK_K];
    float sum = 0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        q6_K_unpack(&wb[i], q);
        int sumi = 0;
        for (int j = 0; j < QK_K / 16; j++) {
            int dot = 0;
            for (int l = 0; l < 16; l++)
                dot += q[16 * j + l] * xb[i].qs[16 * j + l];
            sumi += wb[i].scales[j] * dot;
        }
        sum += slm_fp16_to_f32(wb[i].d) * xb[i].d * (float)sumi;
    }
    *s = sum;
}
