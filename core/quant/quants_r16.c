/* Q4_0 regrouped by sixteen blocks and its activation layout (blocks.h): the generic
 * kernels. They compute exactly what the Q4_0 ones do on the same blocks, in the same
 * order, so the regrouped and the file layout give the same numbers through the oracle. */
#include "quant/fp16.h"
#include "quant/quants.h"

/* Byte j of chunk k for block b sits at qs[64k + 4b + j]: the position of block b's quant
 * byte i = 4k + j. */
static inline int r16_pos(int b, int i) { return 64 * (i / 4) + 4 * b + i % 4; }

/* Four-byte words, as the layout moves them (a model's worth is regrouped at load). */
static void regroup_one(const block_q4_0 in[QR16_BLOCKS], block_q4_0_r16 *out)
{
    for (int b = 0; b < QR16_BLOCKS; b++) {
        out->d[b] = in[b].d;
        for (int k = 0; k < QK4_0 / 8; k++)
            memcpy(out->qs + r16_pos(b, 4 * k), in[b].qs + 4 * k, 4);
    }
}

void slm_q4_0_regroup_r16(void *data, size_t groups)
{
    block_q4_0_r16 *g = data;
    for (size_t k = 0; k < groups; k++) {
        block_q4_0 blocks[QR16_BLOCKS];
        memcpy(blocks, &g[k], sizeof(blocks));
        regroup_one(blocks, &g[k]);
    }
}

void slm_q4_0_r16_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q4_0_r16 *g = src;
    for (int64_t k = 0; k < n / QK_R16; k++)
        for (int b = 0; b < QR16_BLOCKS; b++, dst += QK4_0) {
            float d = slm_fp16_to_f32(g[k].d[b]);
            for (int i = 0; i < QK4_0 / 2; i++) {
                uint8_t q = g[k].qs[r16_pos(b, i)];
                dst[i] = (float)((q & 0x0F) - 8) * d;
                dst[i + QK4_0 / 2] = (float)((q >> 4) - 8) * d;
            }
        }
}

void slm_q4_0_r16_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q4_0_r16 *g = dst;
    for (int64_t k = 0; k < n / QK_R16; k++, src += QK_R16) {
        block_q4_0 blocks[QR16_BLOCKS];
        slm_q4_0_from_float(src, blocks, QK_R16);
        regroup_one(blocks, &g[k]);
    }
}

/* The sum over blocks in block order with Q4_0's float expression, from the quants
 * themselves (sum8 is the fast kernels' shortcut, checked separately by the tests). */
void slm_q4_0_r16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                          const void *restrict x)
{
    const block_q4_0_r16 *wg = w;
    const block_q8_0_r16 *xg = x;
    float sum = 0.0f;
    for (int64_t k = 0; k < n / QK_R16; k++)
        for (int b = 0; b < QR16_BLOCKS; b++) {
            int sumi = 0;
            for (int i = 0; i < QK4_0 / 2; i++) {
                int p = r16_pos(b, i);
                sumi += ((wg[k].qs[p] & 0x0F) - 8) * xg[k].qs[p];
                sumi += ((wg[k].qs[p] >> 4) - 8) * xg[k].qs[QK_R16 / 2 + p];
            }
            sum += (float)sumi * slm_fp16_to_f32(wg[k].d[b]) * xg[k].d[b];
        }
    *s = sum;
}

void slm_q8_0_r16_pack(const block_q8_0 blocks[QR16_BLOCKS], block_q8_0_r16 *out)
{
    /* four-byte words: what the interleave moves, and what compilers copy in one go */
    for (int b = 0; b < QR16_BLOCKS; b++) {
        for (int k = 0; k < QK8_0 / 8; k++) {
            memcpy(out->qs + 64 * k + 4 * b, blocks[b].qs + 4 * k, 4);
            memcpy(out->qs + QK_R16 / 2 + 64 * k + 4 * b, blocks[b].qs + QK8_0 / 2 + 4 * k, 4);
        }
        int sum = 0;
        for (int i = 0; i < QK8_0; i++)
            sum += blocks[b].qs[i];
        out->d[b] = slm_fp16_to_f32(blocks[b].d);
        out->sum8[b] = -8 * sum;
    }
}

void slm_q8_0_r16_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    block_q8_0_r16 *g = dst;
    for (int64_t k = 0; k < n / QK_R16; k++, src += QK_R16) {
        block_q8_0 blocks[QR16_BLOCKS];
        slm_q8_0_from_float(src, blocks, QK_R16);
        slm_q8_0_r16_pack(blocks, &g[k]);
    }
}

void slm_q8_0_r16_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const block_q8_0_r16 *g = src;
    for (int64_t k = 0; k < n / QK_R16; k++)
        for (int b = 0; b < QR16_BLOCKS; b++, dst += QK8_0)
            for (int i = 0; i < QK8_0 / 2; i++) {
                int p = r16_pos(b, i);
                dst[i] = (float)g[k].qs[p] * g[k].d[b];
                dst[i + QK8_0 / 2] = (float)g[k].qs[QK_R16 / 2 + p] * g[k].d[b];
            }
}
