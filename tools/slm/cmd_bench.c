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

#define USAGE "usage: slm bench -m MODEL [-t THREADS] [-p PROMPT_TOKENS] [-n GEN_TOKENS] [-r REPEATS] [--json]"
#define MAX_REPEATS 100
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
    uint64_t sums[256];
};

static void bw_worker(void *p, int ith, int nth)
{
    struct bw_job *j = p;
    size_t per = j->words / (size_t)nth, start = per * (size_t)ith;
    const uint64_t *b = j->buf + start;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= per; i += 4) {
        s0 += b[i];
        s1 += b[i + 1];
        s2 += b[i + 2];
        s3 += b[i + 3];
    }
    j->sums[ith] = s0 + s1 + s2 + s3;
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

static int run_generate(slm_forward_ctx *ctx, slm_kv_cache *kv, slm_pool *pool, uint32_t n,
                        uint32_t n_vocab, float *logits, double *seconds, slm_error *err)
{
    uint32_t slot = 0;
    int32_t token = 1;
    double t0 = now_sec();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = i;
        struct slm_batch b = {.n_tokens = 1, .tokens = &token, .pos = &pos, .slot = &slot};
        int r = slm_decode(ctx, kv, pool, &b, logits, err);
        if (r < 0)
            return r;
        token = (int32_t)((token * 31u + 7u) % n_vocab);
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
                                         {"json", no_argument, NULL, 'J'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *model_path = NULL;
    long long threads = 0, p = 128, n = 64, repeats = 5;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "m:t:p:n:r:h", opts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'm': model_path = optarg; break;
        case 't': ok = cli_parse_int(optarg, 0, 256, &threads); break;
        case 'p': ok = cli_parse_int(optarg, 0, 65536, &p); break;
        case 'n': ok = cli_parse_int(optarg, 0, 65536, &n); break;
        case 'r': ok = cli_parse_int(optarg, 1, MAX_REPEATS, &repeats); break;
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
        pool ? slm_kv_cache_new(model, 1, ctx_len, SLM_TYPE_F16, &err) : NULL;
    uint32_t max_tok = (uint32_t)(p > 1 ? p : 1);
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx =
        kv ? slm_forward_ctx_new(model, max_tok, &err) : NULL;
    _cleanup_free_ float *logits = malloc((size_t)info->n_vocab * sizeof(float));
    if (!ctx || !logits)
        return cli_fail_err(&err);

    double pp[MAX_REPEATS], tg[MAX_REPEATS], secs;
    /* one warm-up of each: pages faulted in, caches and branch predictors warm */
    if ((p && run_prompt(ctx, kv, pool, (uint32_t)p, info->n_vocab, logits, &secs, &err) < 0) ||
        (n && run_generate(ctx, kv, pool, (uint32_t)(n < 8 ? n : 8), info->n_vocab, logits,
                           &secs, &err) < 0))
        return cli_fail_err(&err);
    for (int r = 0; r < repeats; r++) {
        if (p) {
            if (run_prompt(ctx, kv, pool, (uint32_t)p, info->n_vocab, logits, &secs, &err) < 0)
                return cli_fail_err(&err);
            pp[r] = (double)p / secs;
        }
        if (n) {
            if (run_generate(ctx, kv, pool, (uint32_t)n, info->n_vocab, logits, &secs, &err) <
                0)
                return cli_fail_err(&err);
            tg[r] = (double)n / secs;
        }
    }
    double bw = measure_bandwidth(pool);
    struct stats sp = p ? summarize(pp, (int)repeats) : (struct stats){0};
    struct stats sg = n ? summarize(tg, (int)repeats) : (struct stats){0};
    double bound = bw > 0 ? bw * 1e9 / (double)info->bytes_per_token : 0;
    double fraction = bound > 0 ? sg.median / bound : 0;
    slm_kernels_init();
    if (json) {
        printf("{\"model\": \"%s\", \"type\": \"%s\", \"threads\": %d, \"kernels\": \"%s\", "
               "\"bytes_per_token\": %llu, \"prompt_tokens\": %lld, \"gen_tokens\": %lld, "
               "\"repeats\": %lld, \"pp_tps\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
               "\"tg_tps\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}, "
               "\"bandwidth_gbs\": %.2f, \"tg_bound_tps\": %.2f, \"tg_fraction_of_bound\": "
               "%.3f}\n",
               info->name, slm_type_name(info->weight_type), slm_pool_size(pool),
               slm_cpu_level_name(slm_cpu_level()), (unsigned long long)info->bytes_per_token,
               p, n, repeats, sp.median, sp.min, sp.max, sg.median, sg.min, sg.max, bw, bound,
               fraction);
        return 0;
    }
    printf("model: %s (%s, %.1f MiB read per token), %d threads, kernels %s\n", info->name,
           slm_type_name(info->weight_type), (double)info->bytes_per_token / (1 << 20),
           slm_pool_size(pool), slm_cpu_level_name(slm_cpu_level()));
    if (p)
        printf("prompt %4lld tokens: %8.2f tokens/s (min %.2f, max %.2f, %lld runs)\n", p,
               sp.median, sp.min, sp.max, repeats);
    if (n)
        printf("generate %3lld tokens: %8.2f tokens/s (min %.2f, max %.2f, %lld runs)\n", n,
               sg.median, sg.min, sg.max, repeats);
    printf("read bandwidth: %.2f GB/s -> generation bound %.2f tokens/s; generation at %.0f%% "
           "of the bound\n", bw, bound, fraction * 100);
    return 0;
}
