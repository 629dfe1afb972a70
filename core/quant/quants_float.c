/* F32, F16 and BF16 rows: conversion and dot products with F32 activations. The dot
 * products accumulate in double, so the oracle is more accurate than any fast path. */
#include "quant/fp16.h"
#include "quant/quants.h"

void slm_f32_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void slm_f32_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void slm_f32_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                     const void *restrict x)
{
    const float *a = w, *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)a[i] * b[i];
    *s = (float)sum;
}

void slm_f16_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = slm_fp16_to_f32(h[i]);
}

void slm_f16_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++)
        h[i] = slm_f32_to_fp16(src[i]);
}

void slm_f16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                     const void *restrict x)
{
    const uint16_t *a = w;
    const float *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)slm_fp16_to_f32(a[i]) * b[i];
    *s = (float)sum;
}

void slm_bf16_to_float(const void *restrict src, float *restrict dst, int64_t n)
{
    const uint16_t *h = src;
    for (int64_t i = 0; i < n; i++)
        dst[i] = slm_bf16_to_f32(h[i]);
}

void slm_bf16_from_float(const float *restrict src, void *restrict dst, int64_t n)
{
    uint16_t *h = dst;
    for (int64_t i = 0; i < n; i++)
        h[i] = slm_f32_to_bf16(src[i]);
}

void slm_bf16_vec_dot(int64_t n, float *restrict s, const void *restrict w,
                      const void *restrict x)
{
    const uint16_t *a = w;
    const float *b = x;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)slm_bf16_to_f32(a[i]) * b[i];
    *s = (float)sum;
}
