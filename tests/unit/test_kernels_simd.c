/* Every SIMD kernel against the generic one, at every level this CPU supports (the
 * tables of each level are built side by side, so one process covers them all):
 *  - activation quantizers and conversions: identical bytes,
 *  - vec_dot: equal within float rounding of the same integer sums,
 *  - gemm_tile: every tile shape up to the level's limits, each output equal to the
 *    generic vec_dot within float rounding, and full and partial tiles agreeing. */
#include <string.h>

#include "kernels/kernels.h"
#include "test.h"
#include "test_quant_util.h"
#include "util/cleanup.h"

static const enum slm_type all_types[] = {
    SLM_TYPE_F32,  SLM_TYPE_F16,  SLM_TYPE_BF16, SLM_TYPE_Q4_0, SLM_TYPE_Q4_1,
    SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0, SLM_TYPE_Q8_1, SLM_TYPE_Q2_K,
    SLM_TYPE_Q3_K, SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K, SLM_TYPE_Q8_K,
    SLM_TYPE_Q4_0_R16, SLM_TYPE_Q8_0_R16};

/* nine K-quant super-blocks; for the 32-element types 517 blocks, one past the rows that
 * the x86 Q4_0 decode handles with its table (129 groups of 4 and a tail block) */
#define MAX_N 16544
#define MAX_ROWS 8
#define MAX_COLS 8

static int64_t lengths_for(uint32_t block_size, int64_t out[5])
{
    if (block_size == 512) {
        out[0] = 512, out[1] = 2048, out[2] = 16384;
        return 3;
    }
    if (block_size == 256) {
        out[0] = 256, out[1] = 512, out[2] = 2304;
        return 3;
    }
    if (block_size == 32) {
        out[0] = 32, out[1] = 96, out[2] = 256, out[3] = 2048, out[4] = MAX_N;
        return 5;
    }
    out[0] = 8, out[1] = 31, out[2] = 257, out[3] = 2048;
    return 4;
}

/* Data with a mix of block scales, an offset (min terms) and a few exact halves (ties). */
static void fill(struct test_rng *rng, float *x, int64_t n)
{
    for (int64_t k = 0; k < n; k++) {
        float scale = 0.05f + (float)((k / 32) % 7);
        x[k] = scale * test_rng_normal(rng) + ((k / 256) % 2 ? 0.3f : 0.0f);
        if (k % 97 == 5)
            x[k] = (float)(k % 9) * 0.5f;
    }
}

static void check_conversions(enum slm_cpu_level level, const struct slm_type_traits *fast,
                              const struct slm_type_traits *ref, struct test_rng *rng)
{
    static float x[MAX_N], yf[MAX_N], yr[MAX_N];
    static unsigned char qf[MAX_N * 4], qr[MAX_N * 4];
    int64_t lengths[5];
    int64_t count = lengths_for(ref->block_size, lengths);
    for (int64_t li = 0; li < count; li++) {
        int64_t n = lengths[li];
        fill(rng, x, n);
        if (fast->from_float != ref->from_float) {
            size_t row = (size_t)n / ref->block_size * ref->block_bytes;
            memset(qf, 0x55, row);
            memset(qr, 0xaa, row);
            fast->from_float(x, qf, n);
            ref->from_float(x, qr, n);
            CHECKF(memcmp(qf, qr, row) == 0, "%s %s from_float n=%lld differs",
                   slm_cpu_level_name(level), ref->name, (long long)n);
        }
        if (fast->to_float != ref->to_float) {
            ref->from_float(x, qr, n);
            fast->to_float(qr, yf, n);
            ref->to_float(qr, yr, n);
            CHECKF(memcmp(yf, yr, (size_t)n * sizeof(float)) == 0,
                   "%s %s to_float n=%lld differs", slm_cpu_level_name(level), ref->name,
                   (long long)n);
        }
    }
}

/* |fast - ref| <= rel * sum |w x| over the dequantized operands. */
static double dot_scale(const struct slm_type_traits *wt, const struct slm_type_traits *xt,
                        const void *wq, const void *xq, int64_t n)
{
    static float wd[MAX_N], xd[MAX_N];
    wt->to_float(wq, wd, n);
    if (xt)
        xt->to_float(xq, xd, n);
    else
        memcpy(xd, xq, (size_t)n * sizeof(float));
    return test_abs_dot(wd, xd, n) + 1e-30;
}

static void check_dots(enum slm_cpu_level level, enum slm_type type, struct test_rng *rng)
{
    const struct slm_type_traits *fast = slm_traits_at(level, type);
    const struct slm_type_traits *ref = slm_traits_generic(type);
    if (!ref->vec_dot)
        return;
    const struct slm_type_traits *xt =
        ref->vec_dot_type == SLM_TYPE_F32 ? NULL : slm_traits_generic(ref->vec_dot_type);
    const char *lv = slm_cpu_level_name(level);
    static float w[MAX_ROWS][MAX_N], x[MAX_COLS][MAX_N];
    static unsigned char wq[MAX_ROWS][MAX_N * 4], xq[MAX_COLS][MAX_N * 4];
    int64_t lengths[5];
    int64_t count = lengths_for(ref->block_size, lengths);
    for (int64_t li = 0; li < count; li++) {
        int64_t n = lengths[li];
        size_t w_stride = sizeof(wq[0]), x_stride = sizeof(xq[0]);
        for (int r = 0; r < MAX_ROWS; r++) {
            fill(rng, w[r], n);
            ref->from_float(w[r], wq[r], n);
        }
        for (int c = 0; c < MAX_COLS; c++) {
            fill(rng, x[c], n);
            if (xt)
                xt->from_float(x[c], xq[c], n);
            else
                memcpy(xq[c], x[c], (size_t)n * sizeof(float));
        }
        /* vec_dot: float rounding of different summation orders only. */
        double worst = 0;
        for (int r = 0; r < MAX_ROWS; r++) {
            float a, b;
            fast->vec_dot(n, &a, wq[r], xq[r]);
            ref->vec_dot(n, &b, wq[r], xq[r]);
            double e = fabs(a - b) / dot_scale(ref, xt, wq[r], xq[r], n);
            worst = worse(worst, e);
        }
        CHECKF(worst < 2e-6, "%s %s vec_dot n=%lld: %.2e", lv, ref->name, (long long)n, worst);

        if (!fast->gemm_tile)
            continue;
        CHECKF(fast->tile_rows >= 1 && fast->tile_rows <= MAX_ROWS && fast->tile_cols >= 1 &&
                   fast->tile_cols <= MAX_COLS,
               "%s %s tile shape %dx%d", lv, ref->name, fast->tile_rows, fast->tile_cols);
        /* The tile reads activations in its own layout when it has one. */
        static unsigned char xtile[MAX_COLS][MAX_N * 4];
        for (int c = 0; c < MAX_COLS; c++) {
            if (fast->tile_from_float)
                fast->tile_from_float(x[c], xtile[c], n);
            else
                memcpy(xtile[c], xq[c], sizeof(xq[c]));
        }
        float full[MAX_COLS][MAX_ROWS];
        fast->gemm_tile(n, fast->tile_rows, fast->tile_cols, &full[0][0], MAX_ROWS, wq, w_stride,
                        xtile, x_stride);
        for (int nr = 1; nr <= fast->tile_rows; nr++) {
            for (int nc = 1; nc <= fast->tile_cols; nc++) {
                float out[MAX_COLS][MAX_ROWS];
                for (int c = 0; c < MAX_COLS; c++)
                    for (int r = 0; r < MAX_ROWS; r++)
                        out[c][r] = -12345.0f;
                fast->gemm_tile(n, nr, nc, &out[0][0], MAX_ROWS, wq, w_stride, xtile,
                                x_stride);
                double tile_worst = 0;
                bool untouched = true, consistent = true;
                for (int c = 0; c < MAX_COLS; c++) {
                    for (int r = 0; r < MAX_ROWS; r++) {
                        if (c >= nc || r >= nr) {
                            untouched = untouched && out[c][r] == -12345.0f;
                            continue;
                        }
                        float want;
                        ref->vec_dot(n, &want, wq[r], xq[c]);
                        double e = fabs(out[c][r] - want) / dot_scale(ref, xt, wq[r], xq[c], n);
                        tile_worst = worse(tile_worst, e);
                        /* decode (nc == 1) has its own instance; all others must agree
                         * exactly with the full tile */
                        if (nc > 1)
                            consistent = consistent && out[c][r] == full[c][r];
                    }
                }
                CHECKF(tile_worst < 2e-6, "%s %s tile %dx%d n=%lld: %.2e", lv, ref->name, nr,
                       nc, (long long)n, tile_worst);
                CHECKF(untouched, "%s %s tile %dx%d wrote outside its outputs", lv, ref->name,
                       nr, nc);
                CHECKF(consistent, "%s %s tile %dx%d differs from the full tile", lv,
                       ref->name, nr, nc);
            }
        }
    }
}

int main(void)
{
    slm_kernels_init();
    int levels = 0;
    for (int l = SLM_CPU_GENERIC + 1; l <= SLM_CPU_NEON_DOTPROD; l++) {
        enum slm_cpu_level level = (enum slm_cpu_level)l;
        if (!slm_cpu_level_supported(level))
            continue;
        levels++;
        struct test_rng rng = {0x5eed0000u + (uint64_t)l};
        for (size_t i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++) {
            const struct slm_type_traits *fast = slm_traits_at(level, all_types[i]);
            const struct slm_type_traits *ref = slm_traits_generic(all_types[i]);
            REQUIRE(fast && ref);
            CHECK(fast->block_size == ref->block_size && fast->block_bytes == ref->block_bytes);
            CHECK(fast->vec_dot_type == ref->vec_dot_type);
            check_conversions(level, fast, ref, &rng);
            check_dots(level, all_types[i], &rng);
        }
        printf("level %s checked\n", slm_cpu_level_name(level));
    }
    if (!levels)
        printf("SKIPPED: no SIMD level on this CPU or build\n");
    return test_report();
}
