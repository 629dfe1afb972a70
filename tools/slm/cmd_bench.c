/* slm bench -m MODEL [-t THREADS] [-p 128] [-n 64] [-r REPEATS] [--json]
 *
 * Prompt processing (one forward pass over p tokens) and generation (n single-token
 * steps) in tokens/s, each repeated with median and spread. In the same run it measures
 * the machine's read bandwidth with the same threads, and reports generation as a
 * fraction of the bandwidth bound: tokens/s x bytes read per token / bandwidth. The
 * machine is shared and its bandwidth swings, so the ratio is the figure to compare. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "kernels/kernels.h"
#include "slm/model.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(slm_model, slm_model_free)
SLM_DEFINE_CLEANUP(slm_pool, slm_pool_free)
SLM_DEFINE_CLEANUP(slm_kv_cache, slm_kv_cache_free)
SLM_DEFINE_CLEANUP(slm_forward_ctx, slm_forward_ctx_free)

#define USAGE "usage: slm bench -m MODEL [-t THREADS] [-p PROMPT_TOKENS] [-n GEN_TOKENS] [-b BATCH] [-r REPEATS] [--json]"
#define MAX_REPEATS 100
#define SLM_BENCH_MAX_BATCH 64
/* Buffer for the bandwidth probe: far larger than any cache level. */
#define BANDWIDTH_BYTES (512u << 20)

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct stats {
    double median, min, max;
};

static struct stats summarize(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    struct stats s = {v[n / 2], v[0], v[n - 1]};
    if (n % 2 == 0)
        s.median = (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

/* ---- read bandwidth: every thread sums its share of a large buffer ---- */

struct bw_job {
    const uint64_t *buf;
    size_t words;
    struct slm_work work;
    _Atomic uint64_t sum;
};

/* Chunks of 64 KiB taken from a shared counter (the pool's contract: no split by ith). */
#define BW_CHUNK_WORDS 8192

static void bw_worker(void *p, int ith, int nth)
{
    struct bw_job *j = p;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (;;) {
        int64_t start = slm_work_next(&j->work, BW_CHUNK_WORDS);
        if ((size_t)start >= j->words)
            break;
        const uint64_t *b = j->buf + start;
        for (size_t i = 0; i < BW_CHUNK_WORDS; i += 4) {
            s0 += b[i];
            s1 += b[i + 1];
            s2 += b[i + 2];
            s3 += b[i + 3];
        }
    }
    atomic_fetch_add(&j->sum, s0 + s1 + s2 + s3); /* keeps the loads from being dropped */
}

static double measure_bandwidth(slm_pool *pool)
{
    size_t words = BANDWIDTH_BYTES / sizeof(uint64_t);
    uint64_t *buf = malloc(BANDWIDTH_BYTES);
    if (!buf)
        return 0;
    for (size_t i = 0; i < words; i++)
        buf[i] = i;
    struct bw_job job = {.buf = buf, .words = words};
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        slm_work_reset(&job.work);
        double t0 = now_sec();
        slm_pool_run(pool, bw_worker, &job);
        double gbs = (double)BANDWIDTH_BYTES / (now_sec() - t0) / 1e9;
        best = gbs > best ? gbs : best;
    }
    free(buf);
    return best;
}

/* ---- the model runs ---- */

static int run_prompt(slm_forward_ctx *ctx, slm_kv_cache *kv, slm_pool *pool, uint32_t p,
                      uint32_t n_vocab, float *logits, double *seconds, slm_error *err)
{
    _cleanup_free_ int32_t *tokens = malloc(p * sizeof(int32_t));
    _cleanup_free_ uint32_t *pos = malloc(p * sizeof(uint32_t));
    _cleanup_free_ uint32_t *slot = calloc(p, sizeof(uint32_t));
    if (!tokens || !pos || !slot)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < p; i++) {
        tokens[i] = (int32_t)((i * 7919u + 13u) % n_vocab);
        pos[i] = i;
    }
    struct slm_batch b = {.n_tokens = p, .tokens = tokens, .pos = pos, .slot = slot};
    double t0 = now_sec();
    int r = slm_decode(ctx, kv, pool, &b, logits, err);
    *seconds = now_sec() - t0;
    return r;
}

/* n decode steps; each step advances `batch` sequences by one token in one forward pass
 * (what the engine does with that many concurrent requests). */
static int run_generate(slm_forward_ctx *ctx, slm_kv_cache *kv, slm_pool *pool, uint32_t n,
                        uint32_t batch, uint32_t n_vocab, float *logits, double *seconds,
                        slm_error *err)
{
    int32_t tokens[SLM_BENCH_MAX_BATCH];
    uint32_t pos[SLM_BENCH_MAX_BATCH], slot[SLM_BENCH_MAX_BATCH];
    bool want[SLM_BENCH_MAX_BATCH];
    for (uint32_t s = 0; s < batch; s++) {
        tokens[s] = (int32_t)(1 + s);
        slot[s] = s;
        want[s] = true;
    }
    double t0 = now_sec();
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t s = 0; s < batch; s++)
            pos[s] = i;
        struct slm_batch b = {.n_tokens = batch, .tokens = tokens, .pos = pos, .slot = slot,
                              .want_logits = want};
        int r = slm_decode(ctx, kv, pool, &b, logits, err);
        if (r < 0)
            return r;
        for (uint32_t s = 0; s < batch; s++)
            tokens[s] = (int32_t)((tokens[s] * 31u + 7u) % n_vocab);
    }
    *seconds = now_sec() - t0;
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"prompt", required_argument, NULL, 'p'},
                                         {"n-gen", required_argument, NULL, 'n'},
                                         {"repeats", required_argument, NULL, 'r'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"json", no_argument, NULL, 'J'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *model_path = NULL;
    long long threads = 0, p = 128, n = 64, repeats = 5, batch = 1;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "m:t:p:n:r:b:h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'm': model_path = optarg; break;
        case 't': ok = cli_parse_int(optarg, 0, 256, &threads); break;
        case 'p': ok = cli_parse_int(optarg, 0, 65536, &p); break;
        case 'n': ok = cli_parse_int(optarg, 0, 65536, &n); break;
        case 'r': ok = cli_parse_int(optarg, 1, MAX_REPEATS, &repeats); break;
        case 'b': ok = cli_parse_int(optarg, 1, SLM_BENCH_MAX_BATCH, &batch); break;
        case 'J': json = true; break;
        case 'h': printf("%s\n", USAGE); return 0;
        default: return cli_usage(USAGE);
        }
        if (!ok)
            return cli_usage("%s: bad value '%s'\n%s", argv[optind - 1], optarg, USAGE);
    }
    if (!model_path || optind != argc || (p == 0 && n == 0))
        return cli_usage(USAGE);
    slm_error err;
    _cleanup_(slm_model_freep) slm_model *model = slm_model_load(model_path, &err);
    if (!model)
        return cli_fail_err(&err);
    const struct slm_model_info *info = slm_model_info(model);
    if (info->kind != SLM_MODEL_DECODER)
        return cli_fail("%s: slm bench measures decoders; see bench/encoders for encoders",
                        model_path);
    _cleanup_(slm_pool_freep) slm_pool *pool = slm_pool_new(cli_threads(threads), &err);
    uint32_t ctx_len = (uint32_t)(p > n ? p : n) + 1;
    _cleanup_(slm_kv_cache_freep) slm_kv_cache *kv =
        pool ? slm_kv_cache_new(model, (uint32_t)batch, ctx_len, SLM_TYPE_F16, &err) : NULL;
    uint32_t max_tok = (uint32_t)(p > batch ? p : batch);
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx =
        kv ? slm_forward_ctx_new(model, max_tok, &err) : NULL;
    _cleanup_free_ float *logits = malloc((size_t)batch * info->n_vocab * sizeof(float));
    if (!ctx || !logits)
        return cli_fail_err(&err);

    double pp[MAX_REPEATS], tg[MAX_REPEATS], secs;
    /* one warm-up of each: pages faulted in, caches and branch predictors warm */
    if ((p && run_prompt(ctx, kv, pool, (uint32_t)p, info->n_vocab, logits, &secs, &err) < 0) ||
        (n && run_generate(ctx, kv, pool, (uint32_t)(n < 8 ? n : 8), (uint32_t)batch,
                           info->n_vocab, logits, &secs, &err) < 0))
        return cli_fail_err(&err);
    for (int r = 0; r < repeats; r++) {
        if (p) {
            if (run_prompt(ctx, kv, pool, (uint32_t)p, info->n_vocab, logits, &secs, &err) < 0)
                return cli_fail_err(&err);
            pp[r] = (double)p / secs;
        }
        if (n) {
            if (run_generate(ctx, kv, pool, (uint32_t)n, (uint32_t)batch, info->n_vocab, logits,
                             &secs, &err) < 0)
                return cli_fail_err(&err);
            tg[r] = (double)(n * batch) / secs; /* tokens of all sequences together */
        }
    }
    double bw = measure_bandwidth(pool);
    struct stats sp = p ? summarize(pp, (int)repeats) : (struct stats){0};
    struct stats sg = n ? summarize(tg, (int)repeats) : (struct stats){0};
    double bound = bw > 0 ? bw * 1e9 / (double)info->bytes_per_token : 0;
    /* a batched step still reads the weights once: the bound is per step, not per token */
    double fraction = bound > 0 ? sg.median / (double)batch / bound : 0;
    slm_kernels_init();
    if (json) {
        printf("{\"model\": \"%s\", \"type\": \"%s\", \"threads\": %d, \"kernels\": \"%s\", "
               "\"weights\": \"%s\", "
               "\"bytes_per_token\": %llu, \"prompt_tokens\": %lld, \"gen_tokens\": %lld, "
               "\"repeats\": %lld, \"batch\": %lld, \"pp_tps\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
               "\"tg_tps\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
               "\"bandwidth_gbs\": %.2f, \"tg_bound_tps\": %.2f, \"tg_fraction_of_bound\": "
               "%.3f}\n",
               info->name, slm_type_name(info->weight_type), slm_pool_size(pool),
               slm_cpu_level_name(slm_cpu_level()), slm_weight_memory_name(slm_get_weight_memory()),
               (unsigned long long)info->bytes_per_token, p, n, repeats, batch, sp.median, sp.min, sp.max, sg.median, sg.min, sg.max, bw, bound,
               fraction);
        return 0;
    }
    printf("model: %s (%s, %.1f MiB read per token), %d threads, kernels %s, weights %s\n",
           info->name, slm_type_name(info->weight_type),
           (double)info->bytes_per_token / (1 << 20), slm_pool_size(pool),
           slm_cpu_level_name(slm_cpu_level()), slm_weight_memory_name(slm_get_weight_memory()));
    if (p)
        printf("prompt %4lld tokens: %8.2f tokens/s (min %.2f, max %.2f, %lld runs)\n", p,
               sp.median, sp.min, sp.max, repeats);
    if (n)
        printf("generate %3lld tokens x %lld sequences: %8.2f tokens/s (min %.2f, max %.2f, %lld "
               "runs)\n", n, batch, sg.median, sg.min, sg.max, repeats);
    printf("read bandwidth: %.2f GB/s -> generation bound %.2f steps/s; generation at %.0f%% "
           "of the bound\n", bw, bound, fraction * 100);
    return 0;
}
