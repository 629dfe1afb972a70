/* Kernel micro-benchmark: read bandwidth, vec_dot throughput per type and level, matmul
 * GFLOP/s for decode and batches on TinyLlama-1.1B shapes, and the sgemm crossover for
 * float weights. Prints markdown tables (bench/kernels/README.md keeps a recorded run).
 *
 *   bench_kernels [-t THREADS] [--quick] [bandwidth|vecdot|matmul|blas ...]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "slm/pool.h"

#define DIM 2048 /* TinyLlama-1.1B hidden size */
#define FFN 5632 /* and FFN width */
#define STREAM_BYTES ((size_t)768 << 20) /* well past any last-level cache here */
#define REPEATS 5

static bool quick;

static double now(void)
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

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return v[n / 2];
}

static void *big_alloc(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    /* touch every page so that first-use faults are not timed */
    memset(p, 1, bytes);
    return p;
}

static void fill_normal(float *x, size_t n, unsigned seed)
{
    uint64_t s = 0x9E3779B97F4A7C15ULL * (seed + 1);
    for (size_t i = 0; i < n; i++) {
        s ^= s >> 12, s ^= s << 25, s ^= s >> 27;
        uint64_t r = s * 0x2545F4914F6CDD1DULL;
        float u1 = ((float)(r >> 40) + 1.0f) / 16777217.0f, u2 = (float)((r >> 16) & 0xffffff) / 16777216.0f;
        x[i] = sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
    }
}

/* ------------------------------------------------------------------ bandwidth ---- */

struct read_job {
    const uint64_t *buf;
    size_t words;
    uint64_t sink[64];
};

#if defined(__x86_64__)
__attribute__((target("avx2"))) static uint64_t read_words(const uint64_t *p, size_t n)
{
    typedef long long v4 __attribute__((vector_size(32)));
    v4 a = {0}, b = {0}, c = {0}, d = {0};
    const v4 *v = (const v4 *)p;
    for (size_t i = 0; i + 16 <= n; i += 16, v += 4) {
        a += v[0], b += v[1], c += v[2], d += v[3];
    }
    v4 s = a + b + c + d;
    return (uint64_t)(s[0] + s[1] + s[2] + s[3]);
}
#else
static uint64_t read_words(const uint64_t *p, size_t n)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 4 <= n; i += 4)
        a += p[i], b += p[i + 1], c += p[i + 2], d += p[i + 3];
    return a + b + c + d;
}
#endif

static void read_thread(void *ctx, int ith, int nth)
{
    struct read_job *job = ctx;
    size_t per = job->words / (size_t)nth / 16 * 16;
    job->sink[ith % 64] += read_words(job->buf + per * (size_t)ith, per);
}

/* GB/s of a full read of a buffer larger than the caches, all pool threads. */
static double measure_bandwidth(slm_pool *pool)
{
    static uint64_t *buf;
    if (!buf)
        buf = big_alloc(STREAM_BYTES);
    struct read_job job = {.buf = buf, .words = STREAM_BYTES / 8};
    double t[REPEATS];
    slm_pool_run(pool, read_thread, &job); /* warm */
    for (int r = 0; r < REPEATS; r++) {
        double t0 = now();
        slm_pool_run(pool, read_thread, &job);
        t[r] = now() - t0;
    }
    return (double)STREAM_BYTES / median(t, REPEATS) / 1e9;
}

/* ------------------------------------------------------------------- vec_dot ---- */

static const enum slm_type weight_types[] = {
    SLM_TYPE_Q4_0, SLM_TYPE_Q4_0_R16, SLM_TYPE_Q4_1, SLM_TYPE_Q5_0, SLM_TYPE_Q5_1,
    SLM_TYPE_Q8_0, SLM_TYPE_Q2_K, SLM_TYPE_Q3_K, SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K,
    SLM_TYPE_F16,  SLM_TYPE_BF16, SLM_TYPE_F32};

static size_t row_bytes(enum slm_type t, int64_t n)
{
    uint64_t b = 0;
    slm_type_row_bytes(t, (uint64_t)n, &b);
    return (size_t)b;
}

/* Weight GB/s of one thread calling vec_dot over `rows` rows of DIM elements (`passes`
 * times: few rows stay in cache, many stream from memory). */
static double time_vec_dot(const struct slm_type_traits *tr, enum slm_type type,
                           const unsigned char *w, size_t rows, const void *xq, int passes)
{
    size_t rbytes = row_bytes(type, DIM);
    float sink = 0, s;
    double t[REPEATS];
    for (int r = 0; r < REPEATS; r++) {
        double t0 = now();
        for (int p = 0; p < passes; p++)
            for (size_t i = 0; i < rows; i++) {
                tr->vec_dot(DIM, &s, w + i * rbytes, xq);
                sink += s;
            }
        t[r] = now() - t0;
    }
    if (sink == 12345.678f)
        printf("!");
    return (double)rows * (double)rbytes * passes / median(t, REPEATS) / 1e9;
}

static void bench_vec_dot(void)
{
    printf("\n### vec_dot, one thread, rows of %d (weight GB/s)\n\n", DIM);
    printf("| type | level | in cache | from memory | SIMD / generic (in cache) |\n");
    printf("| --- | --- | ---: | ---: | ---: |\n");
    static float x[DIM];
    fill_normal(x, DIM, 7);
    size_t cache_rows = 256; /* 256 rows of Q4_0 at DIM: 288 KB, L2-resident */
    float *wf = big_alloc((size_t)cache_rows * DIM * sizeof(float));
    fill_normal(wf, (size_t)cache_rows * DIM, 3);
    for (size_t ti = 0; ti < sizeof(weight_types) / sizeof(weight_types[0]); ti++) {
        enum slm_type type = weight_types[ti];
        const struct slm_type_traits *gen = slm_traits_generic(type);
        size_t rbytes = row_bytes(type, DIM);
        size_t stream_rows = (quick ? STREAM_BYTES / 4 : STREAM_BYTES) / rbytes;
        unsigned char *w = big_alloc(stream_rows * rbytes);
        for (size_t i = 0; i < cache_rows; i++)
            gen->from_float(wf + i * DIM, w + i * rbytes, DIM);
        for (size_t i = cache_rows; i < stream_rows; i++)
            memcpy(w + i * rbytes, w + (i % cache_rows) * rbytes, rbytes);
        unsigned char xq[DIM * 4];
        const void *xv = x;
        if (gen->vec_dot_type != SLM_TYPE_F32) {
            slm_traits_generic(gen->vec_dot_type)->from_float(x, xq, DIM);
            xv = xq;
        }
        double generic_cache = time_vec_dot(gen, type, w, cache_rows, xv, quick ? 4 : 20);
        for (int l = 0; l <= SLM_CPU_NEON_DOTPROD; l++) {
            const struct slm_type_traits *tr = slm_traits_at((enum slm_cpu_level)l, type);
            if (!tr)
                continue;
            if (l != SLM_CPU_GENERIC && tr->vec_dot == gen->vec_dot)
                continue;
            double in_cache = time_vec_dot(tr, type, w, cache_rows, xv, quick ? 4 : 20);
            double from_mem = l == SLM_CPU_GENERIC && quick
                                  ? NAN
                                  : time_vec_dot(tr, type, w, stream_rows, xv, 1);
            printf("| %s | %s | %.1f | %.1f | %.1fx |\n", gen->name,
                   slm_cpu_level_name((enum slm_cpu_level)l), in_cache, from_mem,
                   in_cache / generic_cache);
        }
        free(w);
    }
    free(wf);
}

/* -------------------------------------------------------------------- matmul ---- */

struct matmul_case {
    enum slm_type type;
    unsigned char *w; /* copies of one n_out x n_in matrix */
    size_t copies;
    size_t matrix_bytes;
};

static void make_matrices(struct matmul_case *mc, enum slm_type type, int64_t n_in,
                          int64_t n_out, bool stream)
{
    const struct slm_type_traits *tr = slm_traits_generic(type);
    size_t rb = row_bytes(type, n_in);
    mc->type = type;
    mc->matrix_bytes = rb * (size_t)n_out;
    mc->copies = stream ? (STREAM_BYTES / mc->matrix_bytes) + 1 : 1;
    if (quick && stream)
        mc->copies = mc->copies / 4 + 1;
    mc->w = big_alloc(mc->matrix_bytes * mc->copies);
    float *row = malloc((size_t)n_in * sizeof(float));
    for (int64_t o = 0; o < n_out; o++) {
        fill_normal(row, (size_t)n_in, (unsigned)o);
        tr->from_float(row, mc->w + (size_t)o * rb, n_in);
    }
    for (size_t c = 1; c < mc->copies; c++)
        memcpy(mc->w + c * mc->matrix_bytes, mc->w, mc->matrix_bytes);
    free(row);
}

/* Seconds per product, cycling through the copies so that decode streams from memory. */
static double time_matmul(slm_pool *pool, const struct matmul_case *mc, int64_t n_in,
                          int64_t n_out, const float *x, int n_tok, float *y,
                          struct slm_matmul_scratch *scratch)
{
    struct slm_weight w;
    slm_weight_init(&w, mc->type, n_in, n_out, mc->w);
    int per_rep = (int)mc->copies;
    if (per_rep < 3)
        per_rep = n_tok >= 32 ? 3 : 20;
    double t[REPEATS];
    slm_error err;
    for (int r = 0; r < REPEATS; r++) {
        double t0 = now();
        for (int k = 0; k < per_rep; k++) {
            w.data = mc->w + (size_t)(k % (int)mc->copies) * mc->matrix_bytes;
            if (slm_matmul(pool, &w, x, n_tok, y, scratch, &err) < 0) {
                fprintf(stderr, "matmul: %s\n", err.message);
                exit(1);
            }
        }
        t[r] = (now() - t0) / per_rep;
    }
    return median(t, REPEATS);
}

static void bench_matmul(slm_pool *pool, int threads)
{
    /* Q4_0_R16: Q4_0 as the model loader regroups it for AVX2 and AVX-512 (model_load.c) */
    static const enum slm_type types[] = {SLM_TYPE_Q4_0, SLM_TYPE_Q4_0_R16, SLM_TYPE_Q8_0,
                                          SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K,
                                          SLM_TYPE_F16};
    static const int tokens[] = {1, 8, 32, 128};
    const int64_t n_in = DIM, n_out = FFN;
    struct slm_matmul_scratch scratch;
    slm_error err;
    if (slm_matmul_scratch_init(&scratch, FFN, 128, threads, &err) < 0)
        exit(1);
    float *x = big_alloc((size_t)128 * FFN * sizeof(float));
    float *y = big_alloc((size_t)128 * FFN * sizeof(float));
    fill_normal(x, (size_t)128 * n_in, 11);

    printf("\n### matmul %lld x %lld (FFN up/gate), %d threads, level %s\n\n", (long long)n_out,
           (long long)n_in, threads, slm_cpu_level_name(slm_cpu_level()));
    printf("Decode streams %d MB of copies of the matrix; the read bandwidth is measured just\n"
           "before each decode run (the machine is shared, only the ratio means anything).\n\n",
           (int)(STREAM_BYTES >> 20));
    printf("| type | read GB/s | decode GB/s | of bandwidth | decode GFLOP/s | 8 tok GFLOP/s | 32 tok | 128 tok |\n");
    printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
        struct matmul_case stream, cached;
        make_matrices(&stream, types[ti], n_in, n_out, true);
        cached = stream;
        cached.copies = 1;
        double flops = 2.0 * (double)n_in * (double)n_out;
        double bw = measure_bandwidth(pool);
        double t1 = time_matmul(pool, &stream, n_in, n_out, x, 1, y, &scratch);
        double gbs = (double)stream.matrix_bytes / t1 / 1e9;
        printf("| %s | %.1f | %.1f | %.0f%% | %.1f |", slm_type_name(types[ti]), bw, gbs,
               100 * gbs / bw, flops / t1 / 1e9);
        for (size_t k = 1; k < sizeof(tokens) / sizeof(tokens[0]); k++) {
            double t = time_matmul(pool, &cached, n_in, n_out, x, tokens[k], y, &scratch);
            printf(" %.1f |", flops * tokens[k] / t / 1e9);
        }
        printf("\n");
        free(stream.w);
    }
    free(x);
    free(y);
    slm_matmul_scratch_deinit(&scratch);
}

/* Float weights: own kernels vs per-thread sgemm slices, to place the crossover. */
static void bench_blas(slm_pool *pool, int threads)
{
    static const int tokens[] = {2, 4, 8, 16, 24, 32, 48, 64, 128};
    const int64_t n_in = DIM, n_out = FFN;
    struct slm_matmul_scratch scratch;
    slm_error err;
    if (slm_matmul_scratch_init(&scratch, FFN, 128, threads, &err) < 0)
        exit(1);
    float *x = big_alloc((size_t)128 * n_in * sizeof(float));
    float *y = big_alloc((size_t)128 * n_out * sizeof(float));
    fill_normal(x, (size_t)128 * n_in, 5);
    printf("\n### float weights: own kernels vs sgemm (GFLOP/s, %lld x %lld, %d threads)\n\n",
           (long long)n_out, (long long)n_in, threads);
    printf("| type | path |");
    for (size_t k = 0; k < sizeof(tokens) / sizeof(tokens[0]); k++)
        printf(" %d tok |", tokens[k]);
    printf("\n| --- | --- |");
    for (size_t k = 0; k < sizeof(tokens) / sizeof(tokens[0]); k++)
        printf(" ---: |");
    printf("\n");
    static const enum slm_type types[] = {SLM_TYPE_F32, SLM_TYPE_F16};
    for (size_t ti = 0; ti < 2; ti++) {
        struct matmul_case mc;
        make_matrices(&mc, types[ti], n_in, n_out, false);
        for (int path = 0; path < 2; path++) {
            slm_matmul_set_blas_min_tokens(path ? 1 : 0);
            printf("| %s | %s |", slm_type_name(types[ti]), path ? "sgemm" : "own");
            for (size_t k = 0; k < sizeof(tokens) / sizeof(tokens[0]); k++) {
                double t = time_matmul(pool, &mc, n_in, n_out, x, tokens[k], y, &scratch);
                printf(" %.1f |", 2.0 * (double)n_in * (double)n_out * tokens[k] / t / 1e9);
            }
            printf("\n");
        }
        free(mc.w);
    }
    slm_matmul_reset_blas_min_tokens();
    free(x);
    free(y);
    slm_matmul_scratch_deinit(&scratch);
}

int main(int argc, char **argv)
{
    int threads = 2;
    bool want[4] = {false, false, false, false}, any = false;
    static const char *const names[4] = {"bandwidth", "vecdot", "matmul", "blas"};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else {
            bool known = false;
            for (int k = 0; k < 4; k++)
                if (strcmp(argv[i], names[k]) == 0)
                    want[k] = known = any = true;
            if (!known) {
                fprintf(stderr, "usage: %s [-t THREADS] [--quick] [bandwidth|vecdot|matmul|blas ...]\n", argv[0]);
                return 2;
            }
        }
    }
    if (!any)
        for (int k = 0; k < 4; k++)
            want[k] = true;
    slm_error err;
    slm_pool *pool = slm_pool_new(threads, &err);
    if (!pool) {
        fprintf(stderr, "pool: %s\n", err.message);
        return 1;
    }
    printf("CPU level %s (best %s); features: %s\n", slm_cpu_level_name(slm_cpu_level()),
           slm_cpu_level_name(slm_cpu_level_best()), slm_cpu_features());
    if (want[0])
        printf("\nRead bandwidth, %d threads: %.1f GB/s\n", threads, measure_bandwidth(pool));
    if (want[1])
        bench_vec_dot();
    if (want[2])
        bench_matmul(pool, threads);
    if (want[3])
        bench_blas(pool, threads);
    slm_pool_free(pool);
    return 0;
}
