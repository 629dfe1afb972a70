/* Every type's generic kernels on random data:
 *  - quantize -> dequantize stays within the type's error bound,
 *  - vec_dot equals the double-precision dot of the dequantized operands (it is the same
 *    arithmetic, only grouped in integers), and the dot of the original floats within the
 *    type's tolerance,
 *  - degenerate blocks (zeros, constants, huge and tiny magnitudes, NaN and inf) give
 *    defined results. */
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"
#include "test_quant_util.h"
#include "test.h"
#include "util/cleanup.h"

#define N 1024 /* a multiple of every block size */
#define ROWS 24

/* Relative RMS error of quantize -> dequantize on N(0, 1) data: the measured value (in
 * brackets) plus about 20%. */
static const struct {
    enum slm_type type;
    double max_rel_rmse;
} round_trip_bound[] = {
    {SLM_TYPE_F32, 0.0},
    {SLM_TYPE_F16, 0.00025},  /* [0.00020] */
    {SLM_TYPE_BF16, 0.002},   /* [0.00165] */
    {SLM_TYPE_Q8_0, 0.0064},  /* [0.00535] */
    {SLM_TYPE_Q8_1, 0.0064},  /* [0.00535] */
    {SLM_TYPE_Q8_K, 0.0083},  /* [0.00692] */
    {SLM_TYPE_Q5_0, 0.052},   /* [0.0429] */
    {SLM_TYPE_Q5_1, 0.046},   /* [0.0380] */
    {SLM_TYPE_Q4_0, 0.103},   /* [0.0854] */
    {SLM_TYPE_Q4_1, 0.094},   /* [0.0784] */
    {SLM_TYPE_Q6_K, 0.0215},  /* [0.0178] */
    {SLM_TYPE_Q5_K, 0.0435},  /* [0.0362] */
    {SLM_TYPE_Q4_K, 0.0865},  /* [0.0720] */
    {SLM_TYPE_Q3_K, 0.18},    /* [0.151] */
    {SLM_TYPE_Q2_K, 0.36},    /* [0.298] */
    {SLM_TYPE_Q4_0_R16, 0.103}, /* Q4_0's blocks, regrouped */
    {SLM_TYPE_Q8_0_R16, 0.0064}, /* Q8_0's */
};

static double round_trip(const struct slm_type_traits *tr, enum slm_type t, const float *x,
                         int64_t n)
{
    size_t bytes = test_row_bytes(t, n);
    _cleanup_free_ unsigned char *q = malloc(bytes);
    _cleanup_free_ float *y = malloc((size_t)n * sizeof(float));
    tr->from_float(x, q, n);
    tr->to_float(q, y, n);
    return test_rel_rmse(y, x, n);
}

static void test_round_trip(void)
{
    struct test_rng rng = {0x1234567};
    _cleanup_free_ float *x = malloc(N * ROWS * sizeof(float));
    test_fill_normal(&rng, x, N * ROWS, 1.0f);
    for (size_t i = 0; i < sizeof(round_trip_bound) / sizeof(round_trip_bound[0]); i++) {
        enum slm_type t = round_trip_bound[i].type;
        const struct slm_type_traits *tr = slm_traits_generic(t);
        REQUIRE(tr && tr->to_float && tr->from_float);
        double e = round_trip(tr, t, x, N * ROWS);
        if (getenv("TEST_VERBOSE"))
            printf("round trip %-5s %.5f\n", tr->name, e);
        CHECKF(e <= round_trip_bound[i].max_rel_rmse, "%s: relative rmse %.5f > %.5f",
               tr->name, e, round_trip_bound[i].max_rel_rmse);
        /* A row scaled by 1000 or 0.001 has the same relative error (scales adapt). */
        _cleanup_free_ float *scaled = malloc(N * sizeof(float));
        for (int k = 0; k < N; k++)
            scaled[k] = x[k] * 1000.0f;
        CHECKF(round_trip(tr, t, scaled, N) <= round_trip_bound[i].max_rel_rmse * 1.2,
               "%s scaled up", tr->name);
        for (int k = 0; k < N; k++)
            scaled[k] = x[k] * 0.001f;
        /* fp16 scales of tiny blocks lose a little precision */
        CHECKF(round_trip(tr, t, scaled, N) <= round_trip_bound[i].max_rel_rmse * 1.5 + 2e-3,
               "%s scaled down", tr->name);
    }
}

/* The weight types and how far the quantized dot may stray from the float dot, relative
 * to sum |w x| over N elements (both operands quantized; measured worst about half). */
static const struct {
    enum slm_type type;
    double tolerance;
} dot_tolerance[] = {
    {SLM_TYPE_F32, 1e-6},  {SLM_TYPE_F16, 1e-3},  {SLM_TYPE_BF16, 5e-3},
    {SLM_TYPE_Q8_0, 5e-3}, {SLM_TYPE_Q5_0, 0.02}, {SLM_TYPE_Q5_1, 0.02},
    {SLM_TYPE_Q4_0, 0.04}, {SLM_TYPE_Q4_1, 0.04}, {SLM_TYPE_Q6_K, 0.01},
    {SLM_TYPE_Q5_K, 0.02}, {SLM_TYPE_Q4_K, 0.04}, {SLM_TYPE_Q3_K, 0.08},
    {SLM_TYPE_Q2_K, 0.15}, {SLM_TYPE_Q4_0_R16, 0.04},
};

static void test_vec_dot(void)
{
    struct test_rng rng = {0xfeedbeef};
    _cleanup_free_ float *w = malloc(N * sizeof(float));
    _cleanup_free_ float *x = malloc(N * sizeof(float));
    _cleanup_free_ float *wd = malloc(N * sizeof(float));
    _cleanup_free_ float *xd = malloc(N * sizeof(float));
    _cleanup_free_ unsigned char *wq = malloc(N * 8);
    _cleanup_free_ unsigned char *xq = malloc(N * 8);
    for (size_t i = 0; i < sizeof(dot_tolerance) / sizeof(dot_tolerance[0]); i++) {
        enum slm_type t = dot_tolerance[i].type;
        const struct slm_type_traits *tr = slm_traits_generic(t);
        const struct slm_type_traits *xt = slm_traits_generic(tr->vec_dot_type);
        REQUIRE(tr->vec_dot && xt && xt->from_float && xt->to_float);
        double worst_exact = 0, worst_float = 0;
        for (int trial = 0; trial < 20; trial++) {
            /* Mix of scales across blocks, and an offset so that the min terms matter. */
            float offset = trial % 3 == 0 ? 0.5f : 0.0f;
            for (int k = 0; k < N; k++) {
                float block_scale = 0.1f + (float)((k / 32) % 5);
                w[k] = block_scale * test_rng_normal(&rng) + offset;
                x[k] = test_rng_normal(&rng) + offset;
            }
            tr->from_float(w, wq, N);
            xt->from_float(x, xq, N);
            tr->to_float(wq, wd, N);
            xt->to_float(xq, xd, N);
            float got;
            tr->vec_dot(N, &got, wq, xq);
            double exact = test_dot_double(wd, xd, N);
            double scale = test_abs_dot(wd, xd, N);
            double e1 = fabs(got - exact) / scale;
            double e2 = fabs(got - test_dot_double(w, x, N)) / test_abs_dot(w, x, N);
            worst_exact = worse(worst_exact, e1);
            worst_float = worse(worst_float, e2);
        }
        if (getenv("TEST_VERBOSE"))
            printf("vec_dot %-5s vs dequantized %.2e, vs float %.2e\n", tr->name,
                   worst_exact, worst_float);
        /* Same arithmetic up to float rounding (fp16 d * fp16 d products, partial sums);
         * Q4_1/Q5_1 also round Q8_1's sum term s = d * sum(q) to fp16 with the unrounded
         * d, as the reference does [1.7e-4]. */
        double exact_tolerance = tr->vec_dot_type == SLM_TYPE_Q8_1 ? 5e-4 : 2e-6;
        CHECKF(worst_exact < exact_tolerance, "%s: vec_dot differs from the dequantized dot by %.2e",
               tr->name, worst_exact);
        CHECKF(worst_float < dot_tolerance[i].tolerance, "%s: vec_dot vs float dot %.2e",
               tr->name, worst_float);
    }
}

/* Zeros, constants, one huge element among tiny ones, NaN and inf: no crash, zeros stay
 * zeros, finite blocks stay finite. */
static void test_degenerate_blocks(void)
{
    float x[512], y[512];
    unsigned char q[512 * sizeof(float)]; /* the largest row: 512 F32 */
    for (enum slm_type t = 0; t < SLM_TYPE_COUNT; t++) {
        const struct slm_type_traits *tr = slm_traits_generic(t);
        if (!tr || !tr->from_float)
            continue;
        int n = tr->block_size > 256 ? (int)tr->block_size : 256; /* the R16 layouts: 512 */
        memset(x, 0, sizeof(x));
        tr->from_float(x, q, n);
        tr->to_float(q, y, n);
        bool zeros = true;
        for (int k = 0; k < n; k++)
            zeros = zeros && y[k] == 0.0f;
        CHECKF(zeros, "%s: zeros do not survive", tr->name);

        for (int k = 0; k < n; k++)
            x[k] = 3.0f;
        tr->from_float(x, q, n);
        tr->to_float(q, y, n);
        CHECKF(test_rel_rmse(y, x, n) < 0.02, "%s: constant block error %.4f", tr->name,
               test_rel_rmse(y, x, n));

        for (int k = 0; k < n; k++)
            x[k] = (k % 2 ? 1e-30f : -1e-30f);
        x[7] = 6e4f;
        tr->from_float(x, q, n);
        tr->to_float(q, y, n);
        bool finite = true;
        for (int k = 0; k < n; k++)
            finite = finite && isfinite(y[k]);
        CHECKF(finite, "%s: huge/tiny block not finite", tr->name);
        CHECKF(fabsf(y[7] - 6e4f) < 6e4f * 0.1f, "%s: largest element %g", tr->name, y[7]);

        /* Undefined inputs must still give defined behaviour (checked by the sanitizer
         * builds); the values themselves are unspecified. */
        for (int k = 0; k < n; k++)
            x[k] = (float)k;
        x[3] = NAN;
        x[100] = INFINITY;
        x[200] = -INFINITY;
        tr->from_float(x, q, n);
        tr->to_float(q, y, n);
    }
}

int main(void)
{
    test_round_trip();
    test_vec_dot();
    test_degenerate_blocks();
    return test_report();
}
