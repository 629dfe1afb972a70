/* ctest-labels: threads */
/* The matmul driver: every weight type, decode and batch shapes, odd row counts, 1 and
 * several threads (the same result), against the per-row kernels and against a float
 * reference; scratch limits are errors, not overruns. */
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "slm/pool.h"
#include "test.h"
#include "test_quant_util.h"
#include "util/cleanup.h"

#define N_IN 1536  /* six K-quant super-blocks, three Q4_0_R16 groups */
#define N_OUT 83   /* not a multiple of any chunk or tile */
#define MAX_TOK 40 /* past the BLAS threshold */

static const enum slm_type weight_types[] = {
    SLM_TYPE_F32,  SLM_TYPE_F16,  SLM_TYPE_BF16, SLM_TYPE_Q4_0, SLM_TYPE_Q4_1,
    SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0, SLM_TYPE_Q2_K, SLM_TYPE_Q3_K,
    SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K, SLM_TYPE_Q4_0_R16};

static const int token_counts[] = {1, 2, 3, 4, 5, 8, 13, 32, 40};

/* y_ref[t][o] = generic vec_dot of row o with token t quantized by the generic quantizer. */
static void reference(const struct slm_weight *w, const float *x, int n_tok, float *y)
{
    const struct slm_type_traits *tr = slm_traits_generic(w->type);
    const struct slm_type_traits *at = slm_traits_generic(tr->vec_dot_type);
    size_t xb = test_row_bytes(tr->vec_dot_type, w->n_in);
    _cleanup_free_ unsigned char *xq = malloc(xb);
    for (int t = 0; t < n_tok; t++) {
        at->from_float(x + t * w->n_in, xq, w->n_in);
        for (int64_t o = 0; o < w->n_out; o++)
            tr->vec_dot(w->n_in, &y[t * w->n_out + o],
                        (const unsigned char *)w->data + o * w->row_bytes, xq);
    }
}

static double max_rel_diff(const float *a, const float *b, int64_t n)
{
    double m = 0, scale = 0;
    for (int64_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(b[i]));
    for (int64_t i = 0; i < n; i++)
        m = worse(m, fabs(a[i] - b[i])); /* NaN sticks */
    return scale > 0 ? m / scale : m;
}

int main(void)
{
    slm_error err;
    slm_pool *pool1 = slm_pool_new(1, &err);
    slm_pool *pool3 = slm_pool_new(3, &err);
    REQUIRE(pool1 && pool3);
    struct slm_matmul_scratch scratch;
    REQUIRE(slm_matmul_scratch_init(&scratch, N_IN, MAX_TOK, 3, &err) == 0);

    struct test_rng rng = {42};
    _cleanup_free_ float *wf = malloc(N_IN * N_OUT * sizeof(float));
    _cleanup_free_ float *x = malloc(N_IN * MAX_TOK * sizeof(float));
    _cleanup_free_ float *y1 = malloc(N_OUT * MAX_TOK * sizeof(float));
    _cleanup_free_ float *y3 = malloc(N_OUT * MAX_TOK * sizeof(float));
    _cleanup_free_ float *yr = malloc(N_OUT * MAX_TOK * sizeof(float));
    _cleanup_free_ unsigned char *wq = malloc(N_IN * N_OUT * 4);
    test_fill_normal(&rng, wf, N_IN * N_OUT, 0.5f);
    test_fill_normal(&rng, x, N_IN * MAX_TOK, 1.0f);

    for (size_t ti = 0; ti < sizeof(weight_types) / sizeof(weight_types[0]); ti++) {
        enum slm_type type = weight_types[ti];
        const struct slm_type_traits *tr = slm_traits_generic(type);
        struct slm_weight w;
        REQUIRE(slm_weight_init(&w, type, N_IN, N_OUT, wq));
        for (int o = 0; o < N_OUT; o++)
            tr->from_float(wf + o * N_IN, wq + o * w.row_bytes, N_IN);
        for (size_t ci = 0; ci < sizeof(token_counts) / sizeof(token_counts[0]); ci++) {
            int n_tok = token_counts[ci];
            size_t n_y = (size_t)n_tok * N_OUT;
            memset(y1, 0xff, n_y * sizeof(float)); /* NaN: every output must be written */
            memset(y3, 0xff, n_y * sizeof(float));
            REQUIRE(slm_matmul(pool1, &w, x, n_tok, y1, &scratch, &err) == 0);
            REQUIRE(slm_matmul(pool3, &w, x, n_tok, y3, &scratch, &err) == 0);
            reference(&w, x, n_tok, yr);
            bool written = true;
            for (size_t i = 0; i < n_y; i++)
                written = written && !isnan(y1[i]) && !isnan(y3[i]);
            CHECKF(written, "%s n_tok=%d: outputs left unwritten", tr->name, n_tok);
            /* Thread count never changes a result. */
            CHECKF(memcmp(y1, y3, n_y * sizeof(float)) == 0, "%s n_tok=%d: 1 vs 3 threads",
                   tr->name, n_tok);
            /* The active kernels (SIMD tiles, sgemm) against generic row dots: float
             * rounding only, plus activations that SIMD quantizers may round differently
             * in rare ties. */
            double d = max_rel_diff(y1, yr, (int64_t)n_y);
            CHECKF(d < 2e-4, "%s n_tok=%d: %.2e from the generic row dots", tr->name, n_tok,
                   d);
        }
    }

    /* sgemm for every float type at any token count (F16/BF16 rows are converted first),
     * and never: both agree with the row dots. */
    static const enum slm_type float_types[] = {SLM_TYPE_F32, SLM_TYPE_F16, SLM_TYPE_BF16};
    for (int mode = 0; mode < 2; mode++) {
        slm_matmul_set_blas_min_tokens(mode == 0 ? 1 : 0);
        for (size_t ti = 0; ti < 3; ti++) {
            struct slm_weight fw;
            REQUIRE(slm_weight_init(&fw, float_types[ti], N_IN, N_OUT, wq));
            for (int o = 0; o < N_OUT; o++)
                slm_traits_generic(float_types[ti])->from_float(wf + o * N_IN, wq + o * fw.row_bytes,
                                                                N_IN);
            for (int n_tok = 1; n_tok <= 9; n_tok += 4) {
                REQUIRE(slm_matmul(pool3, &fw, x, n_tok, y3, &scratch, &err) == 0);
                reference(&fw, x, n_tok, yr);
                double d = max_rel_diff(y3, yr, (int64_t)n_tok * N_OUT);
                CHECKF(d < 2e-4, "%s n_tok=%d %s: %.2e", slm_type_name(float_types[ti]), n_tok,
                       mode == 0 ? "sgemm" : "row dots", d);
            }
        }
    }
    slm_matmul_reset_blas_min_tokens();

    /* Several products of one input in one pass (mixed types take a pass each): the same
     * results as one call per product, byte for byte. */
    {
        static const enum slm_type types[3] = {SLM_TYPE_Q4_K, SLM_TYPE_Q6_K, SLM_TYPE_Q4_K};
        static const int64_t outs[3] = {N_OUT, 17, 64};
        struct slm_weight mw[3];
        _cleanup_free_ unsigned char *mq = malloc(3 * N_IN * N_OUT);
        size_t off = 0;
        for (int k = 0; k < 3; k++) {
            REQUIRE(slm_weight_init(&mw[k], types[k], N_IN, outs[k], mq + off));
            for (int o = 0; o < outs[k]; o++)
                slm_traits_generic(types[k])->from_float(wf + (o + 7 * k) % N_OUT * N_IN,
                                                         mq + off + o * mw[k].row_bytes, N_IN);
            off += (size_t)outs[k] * mw[k].row_bytes;
        }
        const struct slm_weight *wp[3] = {&mw[0], &mw[1], &mw[2]};
        _cleanup_free_ float *ya = malloc(3 * N_OUT * MAX_TOK * sizeof(float));
        _cleanup_free_ float *yb = malloc(3 * N_OUT * MAX_TOK * sizeof(float));
        for (int n_tok = 1; n_tok <= 13; n_tok += 6) {
            float *yp[3] = {ya, ya + N_OUT * MAX_TOK, ya + 2 * N_OUT * MAX_TOK};
            REQUIRE(slm_matmul_many(pool3, wp, 3, x, n_tok, yp, &scratch, &err) == 0);
            for (int k = 0; k < 3; k++) {
                float *yk = yb + k * N_OUT * MAX_TOK;
                REQUIRE(slm_matmul(pool3, &mw[k], x, n_tok, yk, &scratch, &err) == 0);
                CHECKF(memcmp(yp[k], yk, (size_t)n_tok * (size_t)outs[k] * sizeof(float)) == 0,
                       "matmul_many product %d n_tok=%d differs from its own call", k, n_tok);
            }
        }
        const struct slm_weight *too_many[SLM_MATMUL_MANY_MAX + 1] = {0};
        float *ys[SLM_MATMUL_MANY_MAX + 1] = {0};
        CHECK(slm_matmul_many(pool3, too_many, SLM_MATMUL_MANY_MAX + 1, x, 1, ys, &scratch,
                              &err) < 0);
        struct slm_weight other;
        REQUIRE(slm_weight_init(&other, SLM_TYPE_Q4_K, N_IN - 256, 4, mq));
        const struct slm_weight *mixed[2] = {&mw[0], &other};
        CHECK(slm_matmul_many(pool3, mixed, 2, x, 1, ys, &scratch, &err) < 0 &&
              err.status == SLM_ERR_INVALID);
    }

    /* The scratch bounds are checked. */
    struct slm_weight w;
    REQUIRE(slm_weight_init(&w, SLM_TYPE_Q8_0, N_IN, N_OUT, wq));
    CHECK(slm_matmul(pool1, &w, x, MAX_TOK + 1, y1, &scratch, &err) < 0);
    struct slm_weight wide;
    REQUIRE(slm_weight_init(&wide, SLM_TYPE_Q8_0, N_IN + 32, 1, wq));
    CHECK(slm_matmul(pool1, &wide, x, 1, y1, &scratch, &err) < 0 &&
          err.status == SLM_ERR_INVALID);
    struct slm_weight bad = w;
    bad.type = SLM_TYPE_Q8_K; /* activation-only type */
    CHECK(slm_matmul(pool1, &bad, x, 1, y1, &scratch, &err) < 0);
    CHECK(!slm_weight_init(&w, SLM_TYPE_Q4_K, 100, 1, wq));
    CHECK(slm_matmul_scratch_init(&(struct slm_matmul_scratch){0}, INT64_MAX / 2, 1 << 30, 4,
                                  &err) < 0);

    /* A NULL pool runs on the caller. */
    REQUIRE(slm_weight_init(&w, SLM_TYPE_Q4_0, N_IN, N_OUT, wq));
    for (int o = 0; o < N_OUT; o++)
        slm_traits_generic(SLM_TYPE_Q4_0)->from_float(wf + o * N_IN, wq + o * w.row_bytes, N_IN);
    REQUIRE(slm_matmul(NULL, &w, x, 3, y1, &scratch, &err) == 0);
    REQUIRE(slm_matmul(pool3, &w, x, 3, y3, &scratch, &err) == 0);
    CHECK(memcmp(y1, y3, 3 * N_OUT * sizeof(float)) == 0);

    slm_matmul_scratch_deinit(&scratch);
    slm_pool_free(pool1);
    slm_pool_free(pool3);
    return test_report();
}
