/* Helpers shared by the quantization and kernel tests: a deterministic random source,
 * quantizing and dequantizing through the trait tables, error measures. */
#ifndef SLM_TEST_QUANT_UTIL_H
#define SLM_TEST_QUANT_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/kernels.h"

struct test_rng {
    uint64_t state;
};

static inline uint64_t test_rng_next(struct test_rng *r)
{
    /* xorshift64*: plenty for test data, identical on every platform */
    r->state ^= r->state >> 12;
    r->state ^= r->state << 25;
    r->state ^= r->state >> 27;
    return r->state * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1). */
static inline float test_rng_uniform(struct test_rng *r)
{
    return (float)(test_rng_next(r) >> 40) / (float)(1 << 24);
}

/* Standard normal (Box-Muller). */
static inline float test_rng_normal(struct test_rng *r)
{
    float u1 = test_rng_uniform(r), u2 = test_rng_uniform(r);
    if (u1 < 1e-7f)
        u1 = 1e-7f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

static inline void test_fill_normal(struct test_rng *r, float *x, int64_t n, float scale)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = scale * test_rng_normal(r);
}

/* Bytes of a row of n elements of type t (n a multiple of the block size). */
static inline size_t test_row_bytes(enum slm_type t, int64_t n)
{
    uint64_t bytes = 0;
    if (!slm_type_row_bytes(t, (uint64_t)n, &bytes))
        return 0;
    return (size_t)bytes;
}

/* rms(a - b) / rms(b). */
static inline double test_rel_rmse(const float *a, const float *b, int64_t n)
{
    double err = 0, ref = 0;
    for (int64_t i = 0; i < n; i++) {
        err += (double)(a[i] - b[i]) * (a[i] - b[i]);
        ref += (double)b[i] * b[i];
    }
    return ref > 0 ? sqrt(err / ref) : sqrt(err);
}

static inline double test_dot_double(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

static inline double test_abs_dot(const float *a, const float *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += fabs((double)a[i] * b[i]);
    return s;
}

/* The larger of a running worst error and a new one; NaN counts as worst and sticks, so
 * a kernel producing NaN cannot pass a "worst < bound" check. */
static inline double worse(double worst, double e)
{
    if (isnan(worst))
        return worst;
    return (e > worst || isnan(e)) ? e : worst;
}

#endif
