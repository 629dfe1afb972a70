/* slm logits -m MODEL --tokens "ID ..." -o FILE [--pooled] [--stepwise] [-t N]
 * Decoders: n_tokens x n_vocab floats (one forward pass over all tokens, logits for
 * every position; --stepwise: one pass per token through the KV cache, as generation
 * runs). Encoders: the head's output, or hidden states / the pooled vector. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "slm/model.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(slm_model, slm_model_free)
SLM_DEFINE_CLEANUP(slm_pool, slm_pool_free)
SLM_DEFINE_CLEANUP(slm_kv_cache, slm_kv_cache_free)
SLM_DEFINE_CLEANUP(slm_forward_ctx, slm_forward_ctx_free)

#define USAGE                                                                              \
    "usage: slm logits -m MODEL --tokens \"ID ...\" -o FILE [--pooled] [--stepwise] "        \
    "[-t THREADS]"

static int decoder_logits(slm_model *model, slm_pool *pool, const int32_t *ids, size_t n,
                          bool stepwise, float **out, size_t *n_floats, slm_error *err)
{
    const struct slm_model_info *info = slm_model_info(model);
    _cleanup_(slm_kv_cache_freep) slm_kv_cache *kv =
        slm_kv_cache_new(model, 1, (uint32_t)n, SLM_TYPE_F16, err);
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx =
        kv ? slm_forward_ctx_new(model, (uint32_t)n, err) : NULL;
    if (!ctx)
        return -1;
    _cleanup_free_ uint32_t *pos = calloc(n, sizeof(*pos));
    _cleanup_free_ uint32_t *slot = calloc(n, sizeof(*slot));
    _cleanup_free_ bool *want = calloc(n, sizeof(*want));
    float *logits = malloc(n * info->n_vocab * sizeof(float));
    if (!pos || !slot || !want || !logits) {
        free(logits);
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        pos[i] = (uint32_t)i;
        want[i] = true;
    }
    size_t step = stepwise ? 1 : n;
    for (size_t i = 0; i < n; i += step) {
        struct slm_batch b = {.n_tokens = (uint32_t)step, .tokens = ids + i, .pos = pos + i,
                              .slot = slot + i, .want_logits = want + i};
        if (slm_decode(ctx, kv, pool, &b, logits + i * info->n_vocab, err) < 0) {
            free(logits);
            return -1;
        }
    }
    *out = logits;
    *n_floats = n * info->n_vocab;
    return 0;
}

static int encoder_outputs(slm_model *model, slm_pool *pool, const int32_t *ids, size_t n,
                           bool pooled, float **out, size_t *n_floats, slm_error *err)
{
    const struct slm_model_info *info = slm_model_info(model);
    enum slm_encode_output what = SLM_ENCODE_HIDDEN;
    size_t count = n * info->n_embd;
    if (pooled) {
        what = SLM_ENCODE_POOLED;
        count = info->n_embd;
    } else if (info->head == SLM_HEAD_SEQUENCE_CLASS) {
        what = SLM_ENCODE_LOGITS;
        count = info->n_labels;
    } else if (info->head == SLM_HEAD_TOKEN_CLASS) {
        what = SLM_ENCODE_LOGITS;
        count = n * info->n_labels;
    }
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx =
        slm_forward_ctx_new(model, (uint32_t)n, err);
    if (!ctx)
        return -1;
    float *buf = malloc(count * sizeof(float));
    if (!buf)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    const int32_t *seqs[1] = {ids};
    uint32_t lens[1] = {(uint32_t)n};
    if (slm_encode(ctx, pool, 1, seqs, lens, what, buf, err) < 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    *n_floats = count;
    return 0;
}

int cmd_logits(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"tokens", required_argument, NULL, 'T'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"pooled", no_argument, NULL, 'P'},
                                         {"stepwise", no_argument, NULL, 'S'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    const char *model_path = NULL, *tokens = NULL, *out_path = NULL;
    bool pooled = false, stepwise = false;
    long long threads = 0;
    int c;
    while ((c = getopt_long(argc, argv, "m:o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model_path = optarg; break;
        case 'T': tokens = optarg; break;
        case 'o': out_path = optarg; break;
        case 'P': pooled = true; break;
        case 'S': stepwise = true; break;
        case 't':
            if (!cli_parse_int(optarg, 0, 256, &threads))
                return cli_usage("-t: expected a thread count from 0 to 256");
            break;
        case 'h': printf("%s\n", USAGE); return 0;
        default: return cli_usage(USAGE);
        }
    }
    if (!model_path || !tokens || !out_path || optind != argc)
        return cli_usage(USAGE);
    _cleanup_free_ int32_t *ids = NULL;
    size_t n = 0;
    if (cli_parse_ids(tokens, &ids, &n) < 0 || n == 0)
        return cli_usage("--tokens: expected one or more non-negative integers");
    slm_error err;
    _cleanup_(slm_model_freep) slm_model *model = slm_model_load(model_path, &err);
    if (!model)
        return cli_fail_err(&err);
    _cleanup_(slm_pool_freep) slm_pool *pool = slm_pool_new(cli_threads(threads), &err);
    if (!pool)
        return cli_fail_err(&err);
    _cleanup_free_ float *out = NULL;
    size_t count = 0;
    const struct slm_model_info *info = slm_model_info(model);
    int r = info->kind == SLM_MODEL_DECODER
                ? (pooled ? slm_errorf(&err, SLM_ERR_INVALID, "--pooled is for embedding "
                                       "models")
                          : decoder_logits(model, pool, ids, n, stepwise, &out, &count, &err))
                : stepwise ? slm_errorf(&err, SLM_ERR_INVALID, "--stepwise is for decoders")
                           : encoder_outputs(model, pool, ids, n, pooled, &out, &count, &err);
    if (r < 0)
        return cli_fail_err(&err);
    FILE *f = fopen(out_path, "wb");
    if (!f)
        return cli_fail("%s: cannot create", out_path);
    if (fwrite(out, sizeof(float), count, f) != count || fclose(f) != 0)
        return cli_fail("%s: write failed", out_path);
    return 0;
}
