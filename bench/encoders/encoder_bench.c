/* encoder_bench: sequences per second of an encoder's full forward pass (embeddings,
 * layers, classification head) through slm_encode, at the shapes bench/encoders/README.md
 * records: 16 tokens batch 1, 128 tokens batch 1, 128 tokens batch 32.
 *
 *   encoder_bench -m MODEL [-t THREADS] [--seconds S] [--shape LEN:BATCH]...
 *
 * Token ids are random words between [CLS] and [SEP]. Each shape runs once to warm up,
 * then repeatedly for at least S seconds (and 3 runs); the rate is sequences / wall time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/matmul.h"
#include "slm/model.h"

#define MAX_SHAPES 16

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void) { return clock_seconds(CLOCK_MONOTONIC); }
/* CPU time of the whole process: on a busy machine, wall time says how much CPU we got,
 * this says how much we needed (it includes the pool's spinning between runs). */
static double cpu_now(void) { return clock_seconds(CLOCK_PROCESS_CPUTIME_ID); }

static int bench_shape(slm_model *m, slm_pool *pool, uint32_t len, uint32_t batch,
                       double seconds)
{
    const struct slm_model_info *info = slm_model_info(m);
    slm_error err;
    slm_forward_ctx *ctx = slm_forward_ctx_new(m, len * batch, &err);
    if (!ctx) {
        fprintf(stderr, "encoder_bench: %s\n", err.message);
        return -1;
    }
    int32_t *ids = malloc((size_t)len * batch * sizeof(int32_t));
    const int32_t **seqs = malloc(batch * sizeof(*seqs));
    uint32_t *lens = malloc(batch * sizeof(*lens));
    enum slm_encode_output what = info->head == SLM_HEAD_NONE ? SLM_ENCODE_POOLED : SLM_ENCODE_LOGITS;
    size_t per_seq = what == SLM_ENCODE_POOLED ? info->n_embd
                     : info->head == SLM_HEAD_TOKEN_CLASS ? (size_t)len * info->n_labels
                                                           : info->n_labels;
    float *out = malloc(per_seq * batch * sizeof(float));
    uint64_t rng = 12345;
    for (uint32_t s = 0; s < batch; s++) {
        for (uint32_t p = 0; p < len; p++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            ids[s * len + p] = 1000 + (int32_t)((rng >> 33) % (info->n_vocab - 1000));
        }
        ids[s * len] = 101;             /* [CLS] */
        ids[s * len + len - 1] = 102;   /* [SEP] */
        seqs[s] = ids + (size_t)s * len;
        lens[s] = len;
    }
    int rc = slm_encode(ctx, pool, batch, seqs, lens, what, out, &err); /* warm-up */
    double start = now(), cpu_start = cpu_now(), elapsed = 0;
    int runs = 0;
    while (rc == 0 && (elapsed < seconds || runs < 3)) {
        rc = slm_encode(ctx, pool, batch, seqs, lens, what, out, &err);
        runs++;
        elapsed = now() - start;
    }
    if (rc < 0)
        fprintf(stderr, "encoder_bench: %s\n", err.message);
    else
        printf("%4u tokens x %2u  %8.2f seq/s  %8.1f ms/batch  %8.1f CPU ms/batch  (%d runs)\n",
               len, batch, runs * batch / elapsed, elapsed / runs * 1e3,
               (cpu_now() - cpu_start) / runs * 1e3, runs);
    free(ids);
    free(seqs);
    free(lens);
    free(out);
    slm_forward_ctx_free(ctx);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, NULL, 'm'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"seconds", required_argument, NULL, 'S'},
                                         {"shape", required_argument, NULL, 'x'},
                                         {"blas-min-tokens", required_argument, NULL, 'B'},
                                         {0}};
    const char *path = NULL;
    int threads = 2;
    double seconds = 5;
    uint32_t lens[MAX_SHAPES] = {16, 128, 128}, batches[MAX_SHAPES] = {1, 1, 32};
    int n_shapes = 3, custom = 0;
    int c;
    while ((c = getopt_long(argc, argv, "m:t:", opts, NULL)) != -1) {
        switch (c) {
        case 'm': path = optarg; break;
        case 't': threads = atoi(optarg); break;
        case 'S': seconds = atof(optarg); break;
        case 'B': slm_matmul_set_blas_min_tokens(atoi(optarg)); break;
        case 'x':
            if (custom == MAX_SHAPES || sscanf(optarg, "%u:%u", &lens[custom], &batches[custom]) != 2)
                return 2;
            n_shapes = ++custom;
            break;
        default: return 2;
        }
    }
    if (!path || threads <= 0) {
        fprintf(stderr, "usage: encoder_bench -m MODEL [-t THREADS] [--seconds S] "
                        "[--shape LEN:BATCH]...\n");
        return 2;
    }
    slm_error err;
    slm_model *m = slm_model_load(path, &err);
    if (!m) {
        fprintf(stderr, "encoder_bench: %s\n", err.message);
        return 1;
    }
    slm_pool *pool = slm_pool_new(threads, &err);
    if (!pool)
        return 1;
    const struct slm_model_info *info = slm_model_info(m);
    printf("%s: %s, dim %u, %u layers, %u heads, ffn %u, %d threads\n", path, info->architecture,
           info->n_embd, info->n_layer, info->n_head, info->n_ff, threads);
    int rc = 0;
    for (int i = 0; i < n_shapes && rc == 0; i++)
        rc = bench_shape(m, pool, lens[i], batches[i], seconds);
    slm_pool_free(pool);
    slm_model_free(m);
    return rc < 0;
}
