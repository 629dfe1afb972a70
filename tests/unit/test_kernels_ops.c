/* The vector operations of every supported level against plain double-precision
 * formulas, plus known values. */
#include <string.h>

#include "kernels/kernels.h"
#include "quant/fp16.h"
#include "test_quant_util.h"
#include "test.h"

#define MAXN 1100

static double max_abs_diff(const float *a, const double *b, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        m = worse(m, fabs(a[i] - b[i])); /* NaN sticks */
    return m;
}

static void check_level(enum slm_cpu_level level)
{
    const struct slm_vec_ops *ops = slm_ops_at(level);
    const char *name = slm_cpu_level_name(level);
    REQUIRE(ops);
    struct test_rng rng = {0xabcdef + (uint64_t)level};
    static float x[MAXN], y[MAXN], w[MAXN], b[MAXN], out[MAXN];
    static double want[MAXN];
    static uint16_t h[MAXN];
    /* Odd lengths exercise every SIMD tail. */
    static const int lengths[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 255, 1024, 1031};
    for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
        int n = lengths[li];
        test_fill_normal(&rng, x, n, 2.0f);
        test_fill_normal(&rng, y, n, 1.0f);
        test_fill_normal(&rng, w, n, 1.0f);
        test_fill_normal(&rng, b, n, 1.0f);

        double ss = 0, mean = 0, var = 0;
        for (int i = 0; i < n; i++) {
            ss += (double)x[i] * x[i];
            mean += x[i];
        }
        mean /= n;
        for (int i = 0; i < n; i++)
            var += (x[i] - mean) * (x[i] - mean);
        var /= n;

        double inv_rms = 1.0 / sqrt(ss / n + 1e-5);
        for (int i = 0; i < n; i++)
            want[i] = x[i] * inv_rms * w[i];
        ops->rmsnorm(out, x, w, n, 1e-5f);
        CHECKF(max_abs_diff(out, want, n) < 1e-5 * 8, "%s rmsnorm n=%d", name, n);
        for (int i = 0; i < n; i++)
            want[i] = x[i] * inv_rms;
        ops->rmsnorm(out, x, NULL, n, 1e-5f);
        CHECKF(max_abs_diff(out, want, n) < 1e-5 * 8, "%s rmsnorm no weight n=%d", name, n);

        double inv_sd = 1.0 / sqrt(var + 1e-12);
        for (int i = 0; i < n; i++)
            want[i] = (x[i] - mean) * inv_sd * w[i] + b[i];
        ops->layernorm(out, x, w, b, n, 1e-12f);
        CHECKF(n == 1 || max_abs_diff(out, want, n) < 1e-4, "%s layernorm n=%d", name, n);

        double max = -INFINITY, sum = 0;
        for (int i = 0; i < n; i++)
            max = fmax(max, x[i]);
        for (int i = 0; i < n; i++)
            sum += exp(x[i] - max);
        for (int i = 0; i < n; i++)
            want[i] = exp(x[i] - max) / sum;
        memcpy(out, x, (size_t)n * sizeof(float));
        ops->softmax(out, n);
        CHECKF(max_abs_diff(out, want, n) < 2e-6, "%s softmax n=%d", name, n);

        for (int i = 0; i < n; i++)
            want[i] = x[i] / (1.0 + exp(-(double)x[i])) * y[i];
        ops->swiglu(out, x, y, n);
        CHECKF(max_abs_diff(out, want, n) < 1e-4, "%s swiglu n=%d", name, n);

        for (int i = 0; i < n; i++)
            want[i] = 0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0)));
        memcpy(out, x, (size_t)n * sizeof(float));
        ops->gelu(out, n);
        CHECKF(max_abs_diff(out, want, n) < 1e-5, "%s gelu n=%d", name, n);

        double dot = test_dot_double(x, y, n), scale = test_abs_dot(x, y, n);
        CHECKF(fabs(ops->dot_f32(x, y, n) - dot) <= 1e-6 * scale + 1e-7, "%s dot_f32 n=%d",
               name, n);

        ops->f32_to_f16(x, h, n);
        bool same = true;
        for (int i = 0; i < n; i++)
            same = same && h[i] == slm_f32_to_fp16(x[i]);
        CHECKF(same, "%s f32_to_f16 n=%d", name, n);
        ops->f16_to_f32(h, out, n);
        same = true;
        for (int i = 0; i < n; i++)
            same = same && out[i] == slm_fp16_to_f32(h[i]);
        CHECKF(same, "%s f16_to_f32 n=%d", name, n);

        double dot16 = 0, scale16 = 0;
        for (int i = 0; i < n; i++) {
            dot16 += (double)slm_fp16_to_f32(h[i]) * y[i];
            scale16 += fabs((double)slm_fp16_to_f32(h[i]) * y[i]);
        }
        CHECKF(fabs(ops->dot_f16_f32(h, y, n) - dot16) <= 1e-6 * scale16 + 1e-7,
               "%s dot_f16_f32 n=%d", name, n);

        for (int i = 0; i < n; i++) {
            want[i] = y[i] + 0.75 * x[i];
            out[i] = y[i];
        }
        ops->axpy_f32(out, 0.75f, x, n);
        CHECKF(max_abs_diff(out, want, n) < 1e-6, "%s axpy_f32 n=%d", name, n);
        for (int i = 0; i < n; i++) {
            want[i] = y[i] - 1.5 * slm_fp16_to_f32(h[i]);
            out[i] = y[i];
        }
        ops->axpy_f16(out, -1.5f, h, n);
        CHECKF(max_abs_diff(out, want, n) < 1e-5, "%s axpy_f16 n=%d", name, n);
    }

    /* Known values. */
    float v[4] = {1.0f, -1.0f, 0.0f, 3.0f};
    ops->gelu(v, 4);
    CHECK(fabsf(v[0] - 0.8413447f) < 1e-6f && fabsf(v[1] + 0.1586553f) < 1e-6f);
    CHECK(v[2] == 0.0f && fabsf(v[3] - 2.9959502f) < 1e-6f);
    float big[3] = {1000.0f, 1000.0f, -1000.0f}; /* no overflow: max is subtracted */
    ops->softmax(big, 3);
    CHECK(big[0] == 0.5f && big[1] == 0.5f && big[2] == 0.0f);
    float r[2] = {3.0f, 4.0f}, ro[2]; /* rms = sqrt(12.5) */
    ops->rmsnorm(ro, r, NULL, 2, 0.0f);
    CHECK(fabsf(ro[0] - 3.0f / sqrtf(12.5f)) < 1e-6f && fabsf(ro[1] - 4.0f / sqrtf(12.5f)) < 1e-6f);
}

int main(void)
{
    slm_kernels_init();
    int levels = 0;
    for (int l = SLM_CPU_GENERIC; l <= SLM_CPU_NEON_DOTPROD; l++) {
        if (!slm_cpu_level_supported((enum slm_cpu_level)l))
            continue;
        check_level((enum slm_cpu_level)l);
        levels++;
    }
    CHECK(levels >= 1);
    printf("checked %d level(s)\n", levels);
    return test_report();
}
