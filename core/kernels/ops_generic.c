/* The generic vector operations of a forward pass. Reductions accumulate in double so the
 * oracle is at least as accurate as any fast path measured against it. */
#include <math.h>

#include "kernels/kernels.h"
#include "kernels/ops_generic.h"
#include "quant/fp16.h"

void slm_rmsnorm_generic(float *out, const float *x, const float *w, int n, float eps)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += (double)x[i] * x[i];
    float scale = 1.0f / sqrtf((float)(sum / n) + eps);
    for (int i = 0; i < n; i++)
        out[i] = w ? x[i] * scale * w[i] : x[i] * scale;
}

void slm_layernorm_generic(float *out, const float *x, const float *w, const float *b, int n,
                           float eps)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += x[i];
    float mean = (float)(sum / n);
    double var = 0.0;
    for (int i = 0; i < n; i++)
        var += (double)(x[i] - mean) * (x[i] - mean);
    float scale = 1.0f / sqrtf((float)(var / n) + eps);
    for (int i = 0; i < n; i++) {
        float v = (x[i] - mean) * scale;
        if (w)
            v *= w[i];
        if (b)
            v += b[i];
        out[i] = v;
    }
}

void slm_softmax_generic(float *x, int n)
{
    float max = -INFINITY;
    for (int i = 0; i < n; i++)
        max = fmaxf(max, x[i]);
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    float inv = sum > 0 ? (float)(1.0 / sum) : 0.0f;
    for (int i = 0; i < n; i++)
        x[i] *= inv;
}

void slm_swiglu_generic(float *out, const float *gate, const float *up, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

void slm_gelu_generic(float *x, int n)
{
    for (int i = 0; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

float slm_dot_f32_generic(const float *a, const float *b, int n)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += (double)a[i] * b[i];
    return (float)sum;
}

float slm_dot_f16_f32_generic(const uint16_t *a, const float *b, int n)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        sum += (double)slm_fp16_to_f32(a[i]) * b[i];
    return (float)sum;
}

void slm_axpy_f32_generic(float *y, float a, const float *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += a * x[i];
}

void slm_axpy_f16_generic(float *y, float a, const uint16_t *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += a * slm_fp16_to_f32(x[i]);
}

void slm_f16_to_f32_generic(const uint16_t *src, float *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = slm_fp16_to_f32(src[i]);
}

void slm_f32_to_f16_generic(const float *src, uint16_t *dst, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        dst[i] = slm_f32_to_fp16(src[i]);
}

const struct slm_vec_ops slm_generic_ops = {
    .rmsnorm = slm_rmsnorm_generic,
    .layernorm = slm_layernorm_generic,
    .softmax = slm_softmax_generic,
    .swiglu = slm_swiglu_generic,
    .gelu = slm_gelu_generic,
    .dot_f32 = slm_dot_f32_generic,
    .dot_f16_f32 = slm_dot_f16_f32_generic,
    .axpy_f32 = slm_axpy_f32_generic,
    .axpy_f16 = slm_axpy_f16_generic,
    .f16_to_f32 = slm_f16_to_f32_generic,
    .f32_to_f16 = slm_f32_to_f16_generic,
};
