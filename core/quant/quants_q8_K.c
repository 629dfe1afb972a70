/* Q8_K: the 8-bit activations K-quant weights are dotted with. A float scale per 256
 * elements and the sums of each 16 quants (bsums), which the K-quant dot products use
 * for their min terms. */
#include "quant/quants.h"

void slm_q8_K_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q8_K *b = src;
    for (int64_t i = 0; i < n / QK_K; i++, dst += QK_K)
        for (int j = 0; j < QK_K; j++)
            dst[j] = b[i].d * b[i].qs[j];
}

void slm_q8_K_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q8_K *b = dst;
    for (int64_t i = 0; i < n / QK_K; i++, src += QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < QK_K; j++) {
            if (fabsf(src[j]) > amax) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        }
        if (!amax) {
            b[i].d = 0;
            memset(b[i].qs, 0, sizeof(b[i].qs));
            memset(b[i].bsums, 0, sizeof(b[i].bsums));
            continue;
        }
        /* -127 rather than -128 keeps every quant in -127..127, so SIMD kernels may
         * negate them without overflow. */
        float iscale = -127.f / max;
        for (int j = 0; j < QK_K; j++) {
            int v = slm_nearest_int(iscale * src[j]);
            b[i].qs[j] = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++)
                sum += b[i].qs[16 * j + l];
            b[i].bsums[j] = (int16_t)sum;
        }
        b[i].d = 1 / iscale;
    }
}
