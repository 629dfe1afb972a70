/* ctest-labels: threads */
/* KV cache types: F16 and Q8_0 caches give the logits of an F32 cache within their
 * rounding; a prefix copied between slots continues exactly like the original; bad
 * sizes and types are refused. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "slm/mkmodel.h"
#include "slm/model.h"
#include "test.h"

#define N_TOK 24

static void run(slm_model *m, slm_pool *pool, enum slm_type type, float *logits)
{
    slm_error err;
    slm_kv_cache *kv = slm_kv_cache_new(m, 2, 64, type, &err);
    REQUIRE(kv);
    slm_forward_ctx *ctx = slm_forward_ctx_new(m, N_TOK, &err);
    REQUIRE(ctx);
    int32_t tokens[N_TOK];
    uint32_t pos[N_TOK], slot[N_TOK];
    bool want[N_TOK];
    for (int i = 0; i < N_TOK; i++) {
        tokens[i] = 3 + (i * 37) % 200;
        pos[i] = (uint32_t)i;
        slot[i] = 1;
        want[i] = true;
    }
    /* first half in one pass, the rest token by token: exercises cached positions */
    struct slm_batch b = {N_TOK / 2, tokens, pos, slot, want};
    REQUIRE(slm_decode(ctx, kv, pool, &b, logits, &err) == 0);
    uint32_t n_vocab = slm_model_info(m)->n_vocab;
    for (int i = N_TOK / 2; i < N_TOK; i++) {
        struct slm_batch one = {1, &tokens[i], &pos[i], &slot[i], NULL};
        REQUIRE(slm_decode(ctx, kv, pool, &one, logits + (size_t)i * n_vocab, &err) == 0);
    }
    /* copy slot 1's prefix to slot 0 and continue there: same logits as slot 1 */
    REQUIRE(slm_kv_cache_copy_prefix(kv, 1, 0, N_TOK - 1) == 0);
    float *again = malloc(n_vocab * sizeof(float));
    uint32_t s0 = 0;
    struct slm_batch last = {1, &tokens[N_TOK - 1], &pos[N_TOK - 1], &s0, NULL};
    REQUIRE(slm_decode(ctx, kv, pool, &last, again, &err) == 0);
    float diff = 0;
    for (uint32_t i = 0; i < n_vocab; i++)
        diff = fmaxf(diff, fabsf(again[i] - logits[(size_t)(N_TOK - 1) * n_vocab + i]));
    CHECKF(diff == 0, "copied prefix continues differently: %g", diff);
    free(again);
    slm_forward_ctx_free(ctx);
    slm_kv_cache_free(kv);
}

static float max_rel_err(const float *a, const float *ref, size_t n)
{
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += ref[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (ref[i] - mean) * (ref[i] - mean);
    float sd = (float)sqrt(var / (double)n), worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmaxf(worst, fabsf(a[i] - ref[i]) / sd);
    return worst;
}

int main(void)
{
    char path[] = "/tmp/slm-test-kv-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    struct slm_random_model spec;
    slm_random_model_defaults(&spec);
    spec.dim = 128;
    spec.layers = 2;
    spec.heads = 4; /* head_dim 32: Q8_0 cache possible */
    spec.kv_heads = 2;
    spec.vocab = 512;
    spec.type = SLM_TYPE_F32;
    slm_error err;
    int wr = slm_random_model_write(&spec, path, &err);
    CHECKF(wr == 0, "%s", err.message);
    REQUIRE(wr == 0);
    slm_model *m = slm_model_load(path, &err);
    REQUIRE(m);
    slm_pool *pool = slm_pool_new(2, &err);
    size_t n = (size_t)N_TOK * slm_model_info(m)->n_vocab;
    float *f32 = calloc(n, sizeof(float)), *f16 = calloc(n, sizeof(float)),
          *q8 = calloc(n, sizeof(float));
    run(m, pool, SLM_TYPE_F32, f32);
    run(m, pool, SLM_TYPE_F16, f16);
    run(m, pool, SLM_TYPE_Q8_0, q8);
    float e16 = max_rel_err(f16, f32, n), e8 = max_rel_err(q8, f32, n);
    printf("F16 cache err %.5f, Q8_0 cache err %.5f (vs F32 cache)\n", e16, e8);
    CHECK(e16 < 0.01f);
    CHECK(e8 < 0.05f);
    CHECK(slm_kv_cache_new(m, 0, 64, SLM_TYPE_F16, &err) == NULL);
    CHECK(slm_kv_cache_new(m, 1, 64, SLM_TYPE_Q4_0, &err) == NULL &&
          err.status == SLM_ERR_UNSUPPORTED);
    CHECK(slm_kv_cache_bytes_for(m, 2, 64, SLM_TYPE_Q8_0) * 2 <
          slm_kv_cache_bytes_for(m, 2, 64, SLM_TYPE_F16) * 17 / 16 + 1);
    free(f32);
    free(f16);
    free(q8);
    slm_pool_free(pool);
    slm_model_free(m);
    unlink(path);
    return test_report();
}
