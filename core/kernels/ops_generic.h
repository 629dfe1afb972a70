/* The generic vector operations and the two generic tables (internal to the kernels). */
#ifndef SLM_KERNELS_OPS_GENERIC_H
#define SLM_KERNELS_OPS_GENERIC_H

#include <stdint.h>

#include "kernels/kernels.h"

extern const struct slm_type_traits slm_generic_traits[SLM_TYPE_COUNT];
extern const struct slm_vec_ops slm_generic_ops;

void slm_rmsnorm_generic(float *out, const float *x, const float *w, int n, float eps);
void slm_layernorm_generic(float *out, const float *x, const float *w, const float *b, int n,
                           float eps);
void slm_softmax_generic(float *x, int n);
void slm_swiglu_generic(float *out, const float *gate, const float *up, int n);
void slm_gelu_generic(float *x, int n);
float slm_dot_f32_generic(const float *a, const float *b, int n);
float slm_dot_f16_f32_generic(const uint16_t *a, const float *b, int n);
void slm_axpy_f32_generic(float *y, float a, const float *x, int n);
void slm_axpy_f16_generic(float *y, float a, const uint16_t *x, int n);
void slm_f16_to_f32_generic(const uint16_t *src, float *dst, int64_t n);
void slm_f32_to_f16_generic(const float *src, uint16_t *dst, int64_t n);

#endif
