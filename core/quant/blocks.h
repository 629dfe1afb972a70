/* Block layouts of the quantized types, byte-compatible with GGUF files.
 *
 * Every quantized type stores a row as consecutive blocks; a block holds the scale(s) and
 * the packed integers of QK (32) or QK_K (256, "K-quants") elements. The sizes are part of
 * the file format, so each struct is checked with a static_assert. Scales are IEEE half
 * floats stored as uint16_t (see fp16.h). */
#ifndef SLM_QUANT_BLOCKS_H
#define SLM_QUANT_BLOCKS_H

#include <assert.h>
#include <stdint.h>

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256
#define K_SCALE_SIZE 12

typedef uint16_t slm_half; /* IEEE 754 binary16 bits */
typedef uint16_t slm_bf16; /* bfloat16 bits */

/* x = (q - 8) * d; qs[j] holds element j in its low nibble and element j+16 in its high. */
typedef struct {
    slm_half d;
    uint8_t qs[QK4_0 / 2];
} block_q4_0;
static_assert(sizeof(block_q4_0) == 18, "block_q4_0 size");

/* x = q * d + m */
typedef struct {
    slm_half d;
    slm_half m;
    uint8_t qs[QK4_1 / 2];
} block_q4_1;
static_assert(sizeof(block_q4_1) == 20, "block_q4_1 size");

/* 5-bit: low nibbles as in q4_0, bit 4 of element j in bit j of qh; x = (q - 16) * d */
typedef struct {
    slm_half d;
    uint8_t qh[4];
    uint8_t qs[QK5_0 / 2];
} block_q5_0;
static_assert(sizeof(block_q5_0) == 22, "block_q5_0 size");

/* x = q * d + m */
typedef struct {
    slm_half d;
    slm_half m;
    uint8_t qh[4];
    uint8_t qs[QK5_1 / 2];
} block_q5_1;
static_assert(sizeof(block_q5_1) == 24, "block_q5_1 size");

/* x = q * d */
typedef struct {
    slm_half d;
    int8_t qs[QK8_0];
} block_q8_0;
static_assert(sizeof(block_q8_0) == 34, "block_q8_0 size");

/* Activations for q4_1/q5_1 dot products: s = d * sum(qs) */
typedef struct {
    slm_half d;
    slm_half s;
    int8_t qs[QK8_1];
} block_q8_1;
static_assert(sizeof(block_q8_1) == 36, "block_q8_1 size");

/* K-quants: a super-block of 256 elements in 16 or 8 sub-blocks with quantized scales. */
typedef struct {
    uint8_t scales[QK_K / 16]; /* 4-bit scale and 4-bit min per 16 elements */
    uint8_t qs[QK_K / 4];      /* 2-bit quants */
    slm_half d;                /* super-block scale for the scales */
    slm_half dmin;             /* super-block scale for the mins */
} block_q2_K;
static_assert(sizeof(block_q2_K) == 84, "block_q2_K size");

typedef struct {
    uint8_t hmask[QK_K / 8]; /* high bit of each 3-bit quant */
    uint8_t qs[QK_K / 4];    /* low 2 bits */
    uint8_t scales[12];      /* 16 6-bit scales */
    slm_half d;
} block_q3_K;
static_assert(sizeof(block_q3_K) == 110, "block_q3_K size");

typedef struct {
    slm_half d;
    slm_half dmin;
    uint8_t scales[K_SCALE_SIZE]; /* 8 6-bit scales and 8 6-bit mins */
    uint8_t qs[QK_K / 2];
} block_q4_K;
static_assert(sizeof(block_q4_K) == 144, "block_q4_K size");

typedef struct {
    slm_half d;
    slm_half dmin;
    uint8_t scales[K_SCALE_SIZE];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
} block_q5_K;
static_assert(sizeof(block_q5_K) == 176, "block_q5_K size");

typedef struct {
    uint8_t ql[QK_K / 2];      /* low 4 bits */
    uint8_t qh[QK_K / 4];      /* high 2 bits */
    int8_t scales[QK_K / 16];  /* 8-bit scales */
    slm_half d;
} block_q6_K;
static_assert(sizeof(block_q6_K) == 210, "block_q6_K size");

/* Activations for K-quant dot products. bsums: sums of each group of 16 quants. */
typedef struct {
    float d;
    int8_t qs[QK_K];
    int16_t bsums[QK_K / 16];
} block_q8_K;
static_assert(sizeof(block_q8_K) == 292, "block_q8_K size");

/* ---- In-memory layouts (never in a file): Q4_0 regrouped at load by sixteen blocks ----
 *
 * Sixteen Q4_0 blocks (512 elements of one row) with their quants interleaved four bytes
 * at a time, so that one 64-byte vector holds the same four bytes of all sixteen blocks
 * and the integer dot products of a whole vector land in one 32-bit lane per block: the
 * kernels convert and scale sixteen block sums at once instead of four. Chunk k (k < 4),
 * lane b, byte j holds qs[4k + j] of block b (elements 4k + j in the low nibble, 16 + 4k
 * + j in the high one). The bytes are those of the sixteen blocks, only moved. */
#define QR16_BLOCKS 16
#define QK_R16 (QR16_BLOCKS * QK4_0) /* 512 */
typedef struct {
    uint8_t qs[QR16_BLOCKS * QK4_0 / 2];
    slm_half d[QR16_BLOCKS];
} block_q4_0_r16;
static_assert(sizeof(block_q4_0_r16) == 288, "block_q4_0_r16 size");

/* The activations Q4_0_R16 weights are multiplied with: sixteen Q8_0 blocks (the same
 * rounding), quants interleaved to match the weights' low nibbles (chunks 0-3: elements
 * 4k + j) then high nibbles (chunks 4-7: elements 16 + 4k + j); the scales already as
 * floats, and -8 times each block's quant sum, which folds Q4_0's offset of 8 into the
 * start value of the integer dot products. */
typedef struct {
    int8_t qs[QK_R16];
    float d[QR16_BLOCKS];
    int32_t sum8[QR16_BLOCKS];
} block_q8_0_r16;
static_assert(sizeof(block_q8_0_r16) == 640, "block_q8_0_r16 size");

#endif
