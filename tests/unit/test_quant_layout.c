/* Known blocks with hand-computed values, so that a wrong bit layout cannot pass: each
 * block below is written byte by byte from the GGUF format description, and the values
 * expected from it are worked out independently of the kernels. Where the input makes
 * the quantizer's choice exact, quantizing the expected values must give the same bytes
 * back. */
#include <string.h>

#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/fp16.h"
#include "quant/quants.h"
#include "test.h"

#define H_0_25 0x3400
#define H_0_5 0x3800
#define H_1 0x3C00
#define H_2 0x4000
#define H_MINUS_1 0xBC00
#define H_MINUS_2 0xC000

static void check_values(const char *what, const float *got, const float *want, int n)
{
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            if (bad++ < 4)
                fprintf(stderr, "%s: element %d is %g, expected %g\n", what, i, got[i],
                        want[i]);
        }
    }
    CHECKF(bad == 0, "%s: %d wrong elements", what, bad);
}

static void dequantize(enum slm_type t, const void *block, float *out, int n)
{
    slm_traits_generic(t)->to_float(block, out, n);
}

static void test_q4_0(void)
{
    block_q4_0 b = {.d = H_0_25};
    float want[32], got[32];
    for (int j = 0; j < 16; j++) {
        b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
        want[j] = (float)(j - 8) * 0.25f;
        want[j + 16] = (float)(7 - j) * 0.25f;
    }
    dequantize(SLM_TYPE_Q4_0, &b, got, 32);
    check_values("q4_0 dequantize", got, want, 32);
    /* The largest magnitude is -2.0, so d = -2 / -8 = 0.25 exactly and every x / d is an
     * integer: the quantizer must reproduce the block. */
    block_q4_0 q;
    slm_traits_generic(SLM_TYPE_Q4_0)->from_float(want, &q, 32);
    CHECK(memcmp(&q, &b, sizeof(b)) == 0);
}

static void test_q4_1(void)
{
    block_q4_1 b = {.d = H_0_5, .m = H_MINUS_1};
    float want[32], got[32];
    for (int j = 0; j < 16; j++) {
        b.qs[j] = (uint8_t)(j | ((15 - j) << 4));
        want[j] = (float)j * 0.5f - 1.0f;
        want[j + 16] = (float)(15 - j) * 0.5f - 1.0f;
    }
    dequantize(SLM_TYPE_Q4_1, &b, got, 32);
    check_values("q4_1 dequantize", got, want, 32);
    /* min -1, max 6.5: d = 7.5 / 15 = 0.5 */
    block_q4_1 q;
    slm_traits_generic(SLM_TYPE_Q4_1)->from_float(want, &q, 32);
    CHECK(memcmp(&q, &b, sizeof(b)) == 0);
}

static void test_q5_0(void)
{
    /* q[e] = e: elements 16..31 have bit 4 set, so qh = 0xFFFF0000 little-endian. */
    block_q5_0 b = {.d = H_0_25, .qh = {0x00, 0x00, 0xFF, 0xFF}};
    float want[32], got[32];
    for (int j = 0; j < 16; j++)
        b.qs[j] = (uint8_t)(j | (j << 4));
    for (int e = 0; e < 32; e++)
        want[e] = (float)(e - 16) * 0.25f;
    dequantize(SLM_TYPE_Q5_0, &b, got, 32);
    check_values("q5_0 dequantize", got, want, 32);
    block_q5_0 q;
    slm_traits_generic(SLM_TYPE_Q5_0)->from_float(want, &q, 32);
    CHECK(memcmp(&q, &b, sizeof(b)) == 0);
}

static void test_q5_1(void)
{
    /* q[e] = 31 - e: elements 0..15 have bit 4 set, so qh = 0x0000FFFF. */
    block_q5_1 b = {.d = H_0_5, .m = H_MINUS_2, .qh = {0xFF, 0xFF, 0x00, 0x00}};
    float want[32], got[32];
    for (int j = 0; j < 16; j++)
        b.qs[j] = (uint8_t)((15 - j) | ((15 - j) << 4));
    for (int e = 0; e < 32; e++)
        want[e] = (float)(31 - e) * 0.5f - 2.0f;
    dequantize(SLM_TYPE_Q5_1, &b, got, 32);
    check_values("q5_1 dequantize", got, want, 32);
    block_q5_1 q;
    slm_traits_generic(SLM_TYPE_Q5_1)->from_float(want, &q, 32);
    CHECK(memcmp(&q, &b, sizeof(b)) == 0);
}

static void test_q8_0_and_q8_1(void)
{
    block_q8_0 b = {.d = H_0_5};
    float want[32], got[32];
    for (int e = 0; e < 32; e++) {
        b.qs[e] = (int8_t)(e - 16);
        want[e] = (float)(e - 16) * 0.5f;
    }
    dequantize(SLM_TYPE_Q8_0, &b, got, 32);
    check_values("q8_0 dequantize", got, want, 32);

    /* With 127 as the largest magnitude d = 1 and x / d = x: the rounding rule shows
     * directly. Ties go to the even integer. */
    float x[32] = {127, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.7f, -3.7f, 0.49f, 100.5f};
    int8_t expect[32] = {127, 0, 2, 2, 0, -2, -2, 4, -4, 0, 100};
    block_q8_0 q;
    slm_traits_generic(SLM_TYPE_Q8_0)->from_float(x, &q, 32);
    CHECK(q.d == H_1);
    CHECK(memcmp(q.qs, expect, 32) == 0);

    block_q8_1 q1;
    slm_traits_generic(SLM_TYPE_Q8_1)->from_float(x, &q1, 32);
    CHECK(q1.d == H_1);
    CHECK(memcmp(q1.qs, expect, 32) == 0);
    /* s = d * sum(qs) = 127 + 2 + 2 - 2 - 2 + 4 - 4 + 100 = 227 */
    CHECK(slm_fp16_to_f32(q1.s) == 227.0f);
}

static void test_q8_K(void)
{
    /* The largest magnitude is -127 at element 0: iscale = -127 / -127 = 1, d = 1. */
    float x[256];
    x[0] = -127;
    for (int e = 1; e < 256; e++)
        x[e] = (float)(e % 7 - 3) + (e % 2 ? 0.25f : -0.25f);
    block_q8_K q;
    slm_traits_generic(SLM_TYPE_Q8_K)->from_float(x, &q, 256);
    CHECK(q.d == 1.0f);
    int bad = 0;
    for (int e = 1; e < 256; e++) {
        /* v +- 0.25 rounds back to v */
        if (q.qs[e] != e % 7 - 3)
            bad++;
    }
    CHECK(q.qs[0] == -127);
    CHECK(bad == 0);
    for (int j = 0; j < 16; j++) {
        int sum = j == 0 ? -127 : 0;
        for (int l = (j == 0); l < 16; l++)
            sum += (16 * j + l) % 7 - 3;
        CHECKF(q.bsums[j] == sum, "bsums[%d] = %d, expected %d", j, q.bsums[j], sum);
    }
}

/* Q4_K / Q5_K sub-block scales and mins (6 bits each) chosen to use every bit position:
 * sub-blocks 4..7 need their top two bits, which live in bytes 0..7. */
static const uint8_t k4_scale[8] = {1, 2, 3, 4, 40, 50, 60, 63};
static const uint8_t k4_min[8] = {0, 1, 2, 3, 17, 33, 48, 63};
/* The 12 packed bytes for them, worked out by hand:
 *   bytes 0-3: scale j | (top 2 bits of scale j+4) << 6   -> 1|2<<6, 2|3<<6, 3|3<<6, 4|3<<6
 *   bytes 4-7: min j | (top 2 bits of min j+4) << 6        -> 0|1<<6, 1|2<<6, 2|3<<6, 3|3<<6
 *   bytes 8-11: low 4 bits of scale j+4 | low 4 bits of min j+4 << 4
 *               -> 8|1<<4, 2|1<<4, 12|0<<4, 15|15<<4 */
static const uint8_t k4_packed[12] = {129, 194, 195, 196, 64, 129, 194, 195, 24, 18, 12, 255};

/* The word-at-a-time unpacking the SIMD kernels use agrees with the per-index one, on
 * the hand-packed bytes and on every bit pattern of a few random blocks. */
static void test_k4_unpack(void)
{
    uint8_t sc[8], mn[8];
    slm_k4_unpack_scales(k4_packed, sc, mn);
    CHECK(memcmp(sc, k4_scale, 8) == 0);
    CHECK(memcmp(mn, k4_min, 8) == 0);
    uint32_t state = 12345;
    for (int trial = 0; trial < 200; trial++) {
        uint8_t packed[12];
        for (int k = 0; k < 12; k++) {
            state = state * 1103515245u + 12345u;
            packed[k] = (uint8_t)(state >> 16);
        }
        slm_k4_unpack_scales(packed, sc, mn);
        bool same = true;
        for (int j = 0; j < 8; j++) {
            uint8_t s1, m1;
            slm_k4_scale_min(j, packed, &s1, &m1);
            same = same && s1 == sc[j] && m1 == mn[j];
        }
        CHECK(same);
    }
}

static void test_q4_K(void)
{
    block_q4_K b = {.d = H_1, .dmin = H_0_5};
    memcpy(b.scales, k4_packed, 12);
    /* Byte 32 * g + l holds element 64 * g + l (low nibble) and 64 * g + 32 + l (high). */
    for (int g = 0; g < 4; g++)
        for (int l = 0; l < 32; l++)
            b.qs[32 * g + l] = (uint8_t)((l % 16) | ((15 - (l + g) % 16) << 4));
    float want[256], got[256];
    for (int e = 0; e < 256; e++) {
        int g = e / 64, l = e % 32;
        int q = (e % 64 < 32) ? l % 16 : 15 - (l + g) % 16;
        int sub = e / 32;
        want[e] = 1.0f * k4_scale[sub] * (float)q - 0.5f * k4_min[sub];
    }
    dequantize(SLM_TYPE_Q4_K, &b, got, 256);
    check_values("q4_K dequantize", got, want, 256);
}

static void test_q5_K(void)
{
    block_q5_K b = {.d = H_0_25, .dmin = H_1};
    memcpy(b.scales, k4_packed, 12);
    for (int g = 0; g < 4; g++)
        for (int l = 0; l < 32; l++)
            b.qs[32 * g + l] = (uint8_t)((l % 16) | ((15 - l % 16) << 4));
    /* Bit 4 of element e is bit e / 32 of qh[e % 32]: set it where (e * 7) % 3 == 0. */
    float want[256], got[256];
    for (int e = 0; e < 256; e++) {
        int high = (e * 7) % 3 == 0;
        if (high)
            b.qh[e % 32] |= (uint8_t)(1 << (e / 32));
        int l = e % 32;
        int low = (e % 64 < 32) ? l % 16 : 15 - l % 16;
        int sub = e / 32;
        want[e] = 0.25f * k4_scale[sub] * (float)(low + 16 * high) - 1.0f * k4_min[sub];
    }
    dequantize(SLM_TYPE_Q5_K, &b, got, 256);
    check_values("q5_K dequantize", got, want, 256);
}

static void test_q6_K(void)
{
    block_q6_K b = {.d = H_0_5};
    for (int j = 0; j < 16; j++)
        b.scales[j] = (int8_t)(j % 2 ? -(j + 1) : j + 1);
    /* q (0..63) of element e = (e * 5 + 3) % 64, packed by hand: with h = e / 128,
     * r = e % 128, k = r / 32, l = r % 32, its low nibble goes to
     * ql[64h + l + 32 (k & 1)] (low nibble if k < 2, else high) and its top two bits to
     * qh[32h + l] at bit 2k. */
    float want[256], got[256];
    for (int e = 0; e < 256; e++) {
        int q = (e * 5 + 3) % 64;
        int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
        uint8_t *lb = &b.ql[64 * h + l + 32 * (k & 1)];
        *lb |= (uint8_t)(k < 2 ? (q & 0xF) : (q & 0xF) << 4);
        b.qh[32 * h + l] |= (uint8_t)((q >> 4) << (2 * k));
        want[e] = 0.5f * b.scales[e / 16] * (float)(q - 32);
    }
    dequantize(SLM_TYPE_Q6_K, &b, got, 256);
    check_values("q6_K dequantize", got, want, 256);
}

static void test_q2_K(void)
{
    block_q2_K b = {.d = H_1, .dmin = H_0_5};
    for (int j = 0; j < 16; j++)
        b.scales[j] = (uint8_t)(j | ((15 - j) << 4)); /* scale j, min 15 - j */
    /* q (0..3) of element e = (e / 3) % 4, at bits 2 * ((e % 128) / 32) of
     * qs[32 * (e / 128) + e % 32]. */
    float want[256], got[256];
    for (int e = 0; e < 256; e++) {
        int q = (e / 3) % 4;
        b.qs[32 * (e / 128) + e % 32] |= (uint8_t)(q << (2 * ((e % 128) / 32)));
        int sub = e / 16;
        want[e] = 1.0f * (float)sub * (float)q - 0.5f * (float)(15 - sub);
    }
    dequantize(SLM_TYPE_Q2_K, &b, got, 256);
    check_values("q2_K dequantize", got, want, 256);
}

static void test_q3_K(void)
{
    block_q3_K b = {.d = H_2};
    /* Signed 6-bit scales s_j = j * 4 - 32 (stored s + 32 = 4j): low 4 bits in byte j % 8
     * (low nibble for j < 8, high for j >= 8), top 2 bits in byte 8 + j % 4 at bit
     * 2 * (j / 4). */
    for (int j = 0; j < 16; j++) {
        int stored = 4 * j;
        b.scales[j % 8] |= (uint8_t)((stored & 0xF) << (j < 8 ? 0 : 4));
        b.scales[8 + j % 4] |= (uint8_t)((stored >> 4) << (2 * (j / 4)));
    }
    /* q (-4..3) of element e = e % 8 - 4: low 2 bits as in Q2_K, the high bit (set when
     * q >= 0) is bit e / 32 of hmask[e % 32]. */
    float want[256], got[256];
    for (int e = 0; e < 256; e++) {
        int q = e % 8 - 4;
        int stored = q + 4;
        b.qs[32 * (e / 128) + e % 32] |= (uint8_t)((stored & 3) << (2 * ((e % 128) / 32)));
        if (stored & 4)
            b.hmask[e % 32] |= (uint8_t)(1 << (e / 32));
        want[e] = 2.0f * (float)(4 * (e / 16) - 32) * (float)q;
    }
    dequantize(SLM_TYPE_Q3_K, &b, got, 256);
    check_values("q3_K dequantize", got, want, 256);
}

static void test_float_types(void)
{
    /* 1.0, -2.0, 0.5 and 65504 (largest half), then bf16 1.0, -2.0, 0.5, 0x1.fep127 */
    const uint16_t h[4] = {0x3C00, 0xC000, 0x3800, 0x7BFF};
    const uint16_t bf[4] = {0x3F80, 0xC000, 0x3F00, 0x7F7F};
    float got[4];
    slm_traits_generic(SLM_TYPE_F16)->to_float(h, got, 4);
    CHECK(got[0] == 1.0f && got[1] == -2.0f && got[2] == 0.5f && got[3] == 65504.0f);
    slm_traits_generic(SLM_TYPE_BF16)->to_float(bf, got, 4);
    CHECK(got[0] == 1.0f && got[1] == -2.0f && got[2] == 0.5f);
    CHECK(got[3] == 0x1.fep127f);
    uint16_t back[4];
    slm_traits_generic(SLM_TYPE_BF16)->from_float(got, back, 4);
    CHECK(memcmp(back, bf, sizeof(bf)) == 0);
    /* Rounding to nearest even at the halfway point: 1 + 2^-11 is halfway between 1 and
     * 1 + 2^-10 and goes to 1; 1 + 3 * 2^-11 goes up to 1 + 2^-9. */
    CHECK(slm_f32_to_fp16(1.0f + 0x1p-11f) == 0x3C00);
    CHECK(slm_f32_to_fp16(1.0f + 3 * 0x1p-11f) == 0x3C02);
    CHECK(slm_f32_to_fp16(65520.0f) == 0x7C00); /* overflows to inf */
    CHECK(slm_f32_to_fp16(0x1p-24f) == 0x0001);  /* smallest subnormal */
    CHECK(slm_fp16_to_f32(0x0001) == 0x1p-24f);
    CHECK(slm_f32_to_bf16(1.0f + 0x1p-8f) == 0x3F80); /* tie to even */
}

/* Q4_0 regrouped by sixteen blocks: the byte positions the format promises, the same
 * values as the file layout, and the same dot product (bit for bit, through the generic
 * kernels) with activations packed the matching way, whose -8 * sum terms are checked
 * by hand. */
static void test_q4_0_r16(void)
{
    block_q4_0 blocks[QR16_BLOCKS];
    for (int b = 0; b < QR16_BLOCKS; b++) {
        blocks[b].d = (uint16_t)(b % 2 ? H_0_5 : H_MINUS_2);
        for (int i = 0; i < QK4_0 / 2; i++)
            blocks[b].qs[i] = (uint8_t)(17 * b + 5 * i + 3);
    }
    block_q4_0_r16 g;
    static_assert(sizeof(g) == sizeof(blocks), "regrouping keeps the size");
    memcpy(&g, blocks, sizeof(g));
    slm_q4_0_regroup_r16(&g, 1);
    bool placed = true;
    for (int b = 0; b < QR16_BLOCKS; b++) {
        placed = placed && g.d[b] == blocks[b].d;
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 4; j++)
                placed = placed && g.qs[64 * k + 4 * b + j] == blocks[b].qs[4 * k + j];
    }
    CHECKF(placed, "Q4_0_R16: bytes not where the layout puts them");
    float want[QK_R16], got[QK_R16];
    slm_q4_0_to_float(blocks, want, QK_R16);
    slm_q4_0_r16_to_float(&g, got, QK_R16);
    check_values("Q4_0_R16 to_float", got, want, QK_R16);

    float x[QK_R16];
    for (int i = 0; i < QK_R16; i++)
        x[i] = (float)((i * 37) % 23) - 11.0f + (float)(i % 32) * 0.25f;
    block_q8_0 xb[QR16_BLOCKS];
    block_q8_0_r16 xg;
    slm_q8_0_from_float(x, xb, QK_R16);
    slm_q8_0_r16_from_float(x, &xg, QK_R16);
    bool sums = true, lanes = true;
    for (int b = 0; b < QR16_BLOCKS; b++) {
        int sum = 0;
        for (int i = 0; i < QK8_0; i++)
            sum += xb[b].qs[i];
        sums = sums && xg.sum8[b] == -8 * sum && xg.d[b] == slm_fp16_to_f32(xb[b].d);
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 4; j++)
                lanes = lanes && xg.qs[64 * k + 4 * b + j] == xb[b].qs[4 * k + j] &&
                        xg.qs[256 + 64 * k + 4 * b + j] == xb[b].qs[16 + 4 * k + j];
    }
    CHECKF(sums, "Q8_0_R16: scale or -8 * sum term wrong");
    CHECKF(lanes, "Q8_0_R16: quants not where the layout puts them");
    float file_dot, r16_dot;
    slm_q4_0_vec_dot(QK_R16, &file_dot, blocks, xb);
    slm_q4_0_r16_vec_dot(QK_R16, &r16_dot, &g, &xg);
    CHECKF(file_dot == r16_dot, "Q4_0_R16 vec_dot %.9g, Q4_0 %.9g", r16_dot, file_dot);
}

int main(void)
{
    test_q4_0();
    test_q4_1();
    test_q5_0();
    test_q5_1();
    test_q8_0_and_q8_1();
    test_q8_K();
    test_q2_K();
    test_q3_K();
    test_k4_unpack();
    test_q4_K();
    test_q5_K();
    test_q6_K();
    test_float_types();
    test_q4_0_r16();
    return test_report();
}
