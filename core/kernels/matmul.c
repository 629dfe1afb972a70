/* The threaded matrix product; see matmul.h. */
#include "kernels/matmul.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "util/checked.h"

#ifdef SLM_HAVE_BLAS
#include <cblas.h>
#endif

/* Rows of W per work item when decoding: small enough that two to eight threads finish
 * together (a 2048-row matrix is 128 items), large enough that the atomic counter costs
 * nothing next to 16 row dot products. */
#define DECODE_CHUNK_ROWS 16

/* Rows per work item for tiled batches: the chunk's weight rows (16 x 1.1 KB for Q4_0 at
 * n_in 2048) stay in L1/L2 while every token tile streams past them. */
#define TILE_CHUNK_ROWS 16

/* Rows per work item for tiled decode: long enough that each thread reads long
 * sequential runs of the matrix (64 x 1.1 KB for Q4_0 at n_in 2048), short enough that a
 * 2048-row matrix still has 32 items to share. */
#define TILE_DECODE_CHUNK_ROWS 64

/* Rows per work item for batched decode (a few tokens per step) and for quantized
 * weights: several row groups per item, so that rows_tiled can prefetch the next group of
 * the same item. TinyLlama-shape Q4_0, 2 threads: 8 sequences per step 127 -> 154
 * tokens/s, 4 sequences 94 -> 127, a 128-token prompt 192 -> 203. Float weights with
 * more tokens keep 16-row items (the encoders' 768-row matrices share out better). */
#define SMALL_BATCH_MAX_TOKENS 16
#define TILE_BATCH_CHUNK_ROWS 64

/* Elements of one activation row quantized per work item (a multiple of every block
 * size), so that even a single token's quantization is shared by the threads. */
#define QUANT_SEGMENT 1024

/* Float weights go to sgemm from this many tokens on; below it the float vec_dot per row
 * wins (sgemm's packing costs more than it saves). Measured with bench/kernels (blas
 * section, 5632 x 2048, 2 threads, Zen 5, two runs on the shared machine): F32 sgemm
 * overtakes at 8 tokens (36-37 against 29-35 GFLOP/s) and doubles the row dots by 64;
 * F16/BF16 rows must first be converted to F32, which moves the crossover to 24-64 tokens
 * depending on the run (at 32: 42 = 43 and 55 against 37); 32 is the middle. */
#define BLAS_MIN_TOKENS_F32 8
/* Where the kernel set has float gemm tiles (AVX-512, AVX2), they beat sgemm at every size
 * measured (bench/kernels blas section, 5632 x 2048, 2 threads: F32 129 against 69
 * GFLOP/s at 8 tokens, 238 against 167 at 128; F16 207 against 65 and 330 against 152;
 * DistilBERT-base 128 x 32 tokens: 19 against 13 sequences/s): they read the weights in
 * place (F16/BF16 widened in registers) where sgemm packs or converts them on every call.
 * The AVX2 tiles (SLM_CPU_LEVEL=avx2, same run): F32 96 against 75 at 8 tokens, even with
 * sgemm at 128 (171 and 172); F16 133 against 58 and 175 against 155. */
#define BLAS_MIN_TOKENS_TILED (1 << 30)
#define BLAS_MIN_TOKENS_HALF 32

/* 0: the measured defaults above; otherwise the override of slm_matmul_set_blas_min_tokens
 * (-1 = never). */
static int blas_min_tokens_override;

void slm_matmul_set_blas_min_tokens(int min_tokens)
{
    blas_min_tokens_override = min_tokens > 0 ? min_tokens : -1;
}

void slm_matmul_reset_blas_min_tokens(void) { blas_min_tokens_override = 0; }

static int blas_min_tokens(enum slm_type type)
{
    if (blas_min_tokens_override)
        return blas_min_tokens_override;
    if (slm_traits(type)->gemm_tile)
        return BLAS_MIN_TOKENS_TILED;
    return type == SLM_TYPE_F32 ? BLAS_MIN_TOKENS_F32 : BLAS_MIN_TOKENS_HALF;
}

/* Rows of W per sgemm call: F32 rows are used in place; F16/BF16 rows are converted into
 * the thread's scratch first (BLAS_CONVERT_ROWS x n_in floats). */
#define BLAS_CHUNK_ROWS 64
#define BLAS_CONVERT_ROWS 32

/* Up to this many tokens every thread quantizes the activations itself, into its own
 * part of the scratch: a few microseconds of duplicated work instead of a barrier, which
 * costs more than that for a single token and stalls everyone when the OS preempts one
 * thread (the rows are shared through the work counter, so a late thread only loses its
 * share of them, but a barrier waits for it). */
#define PRIVATE_QUANT_MAX_TOKENS 4

/* The worst activation format per element: Q8_0_R16 keeps 640 bytes per 512 elements
 * (Q8_K 292 per 256). */
#define ACT_BYTES_NUM 320
#define ACT_BYTES_DEN 256

#define SCRATCH_ALIGN 64

bool slm_weight_init(struct slm_weight *w, enum slm_type type, int64_t n_in, int64_t n_out,
                     const void *data)
{
    uint64_t bytes;
    if (n_in < 0 || n_out < 0 || !slm_type_row_bytes(type, (uint64_t)n_in, &bytes) ||
        bytes > SIZE_MAX)
        return false;
    *w = (struct slm_weight){.type = type, .n_in = n_in, .n_out = n_out, .data = data,
                             .row_bytes = (size_t)bytes};
    return true;
}

static void *aligned_zalloc(size_t bytes)
{
    size_t rounded = (bytes + SCRATCH_ALIGN - 1) / SCRATCH_ALIGN * SCRATCH_ALIGN;
    void *p = aligned_alloc(SCRATCH_ALIGN, rounded ? rounded : SCRATCH_ALIGN);
    if (p)
        memset(p, 0, rounded);
    return p;
}

int slm_matmul_scratch_init(struct slm_matmul_scratch *s, int64_t max_n_in, int max_tok,
                            int threads, slm_error *err)
{
    memset(s, 0, sizeof(*s));
    if (max_n_in <= 0 || max_tok <= 0 || threads <= 0)
        return slm_errorf(err, SLM_ERR_INVALID, "matmul scratch: bad size");
    uint64_t act, priv, priv_total, conv, conv_total;
    uint64_t priv_tok = (uint64_t)(max_tok < PRIVATE_QUANT_MAX_TOKENS ? max_tok
                                                                      : PRIVATE_QUANT_MAX_TOKENS);
    if (slm_mul_u64((uint64_t)max_n_in, (uint64_t)max_tok, &act) ||
        slm_mul_u64(act / ACT_BYTES_DEN + 1, ACT_BYTES_NUM, &act) ||
        slm_mul_u64((uint64_t)max_n_in, priv_tok, &priv) ||
        slm_mul_u64(priv / ACT_BYTES_DEN + 1, ACT_BYTES_NUM, &priv) ||
        slm_align_up_u64(priv, SCRATCH_ALIGN, &priv) ||
        slm_mul_u64(priv, (uint64_t)threads, &priv_total) || priv_total > SIZE_MAX ||
        slm_mul_u64((uint64_t)max_n_in, BLAS_CONVERT_ROWS * sizeof(float), &conv) ||
        slm_mul_u64(conv, (uint64_t)threads, &conv_total) || act > SIZE_MAX ||
        conv_total > SIZE_MAX)
        return slm_errorf(err, SLM_ERR_LIMIT, "matmul scratch: size overflows");
    s->activations = aligned_zalloc((size_t)act);
    s->private_activations = aligned_zalloc((size_t)priv_total);
#ifdef SLM_HAVE_BLAS
    s->converted = aligned_zalloc((size_t)conv_total);
#endif
    if (!s->activations || !s->private_activations
#ifdef SLM_HAVE_BLAS
        || !s->converted
#endif
    ) {
        slm_matmul_scratch_deinit(s);
        return slm_errorf(err, SLM_ERR_NOMEM, "matmul scratch: out of memory");
    }
    s->activation_bytes = (size_t)act;
    s->private_bytes = (size_t)priv;
    s->converted_per_thread = (size_t)max_n_in * BLAS_CONVERT_ROWS;
    s->threads = threads;
    s->max_n_in = max_n_in;
    s->max_tok = max_tok;
    return 0;
}

void slm_matmul_scratch_deinit(struct slm_matmul_scratch *s)
{
    free(s->activations);
    free(s->private_activations);
    free(s->converted);
    memset(s, 0, sizeof(*s));
}

struct matmul_job {
    /* The products of this pass: same input, same weight type, outputs ys[k] */
    const struct slm_weight *ws[SLM_MATMUL_MANY_MAX];
    float *ys[SLM_MATMUL_MANY_MAX];
    int count;
    int64_t chunk_rows;                           /* rows per work item */
    int64_t first_item[SLM_MATMUL_MANY_MAX + 1]; /* work items before product k */
    const struct slm_weight *w;                   /* ws[0]: n_in, type */
    const struct slm_type_traits *weight_traits;
    const struct slm_type_traits *act_traits; /* NULL: x is used as it is (float weights) */
    slm_from_float_fn quantize;               /* activation rows -> the layout used */
    const float *x;
    int n_tok;
    unsigned char *xq;          /* shared quantized activations */
    unsigned char *xq_private;  /* per-thread copies (few tokens), private_stride apart */
    size_t private_stride;
    size_t xq_row_bytes;
    float *converted;
    size_t converted_per_thread;
    slm_pool *pool;
    bool use_blas;
    bool use_tiles;
    struct slm_work quant_work;
    _Atomic int64_t quant_done; /* activation segments quantized so far */
    int64_t quant_total;
    struct slm_work row_work;
};

/* Shared quantization: the rows' segments are taken from the work counter. */
static void quantize_activations(struct matmul_job *job)
{
    int64_t segments = (job->w->n_in + QUANT_SEGMENT - 1) / QUANT_SEGMENT;
    size_t seg_bytes = (size_t)job->act_traits->block_bytes *
                       (QUANT_SEGMENT / job->act_traits->block_size);
    for (;;) {
        int64_t item = slm_work_next(&job->quant_work, 1);
        if (item >= job->quant_total)
            break;
        int64_t t = item / segments, seg = item % segments;
        int64_t start = seg * QUANT_SEGMENT;
        int64_t len = job->w->n_in - start < QUANT_SEGMENT ? job->w->n_in - start : QUANT_SEGMENT;
        job->quantize(job->x + t * job->w->n_in + start,
                      job->xq + (size_t)t * job->xq_row_bytes + (size_t)seg * seg_bytes, len);
        atomic_fetch_add_explicit(&job->quant_done, 1, memory_order_release);
    }
    /* Rows may only start once every segment is written. Only threads that joined the run
     * quantize, so this never waits for a thread the OS has not scheduled; at worst for
     * one segment that a preempted participant is in the middle of. */
    while (atomic_load_explicit(&job->quant_done, memory_order_acquire) < job->quant_total) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
        __asm__ __volatile__("yield");
#endif
    }
}

/* Private quantization: this thread's own copy of every row. */
static unsigned char *quantize_private(const struct matmul_job *job, int ith)
{
    unsigned char *dst = job->xq_private + (size_t)ith * job->private_stride;
    for (int t = 0; t < job->n_tok; t++)
        job->quantize(job->x + (int64_t)t * job->w->n_in, dst + (size_t)t * job->xq_row_bytes,
                      job->w->n_in);
    return dst;
}

static const unsigned char *weight_row(const struct slm_weight *w, int64_t r)
{
    return (const unsigned char *)w->data + (size_t)r * w->row_bytes;
}

/* Rows [r0, r1) of w for every token, one vec_dot per output. */
static void rows_vec_dot(const struct matmul_job *job, const struct slm_weight *w, float *y,
                         const unsigned char *xq, int64_t r0, int64_t r1)
{
    const void *xbase = job->act_traits ? (const void *)xq : (const void *)job->x;
    size_t x_stride = job->act_traits ? job->xq_row_bytes : (size_t)w->n_in * sizeof(float);
    slm_vec_dot_fn dot = job->weight_traits->vec_dot;
    for (int64_t r = r0; r < r1; r++)
        for (int t = 0; t < job->n_tok; t++)
            dot(w->n_in, &y[(size_t)t * (size_t)w->n_out + (size_t)r], weight_row(w, r),
                (const unsigned char *)xbase + (size_t)t * x_stride);
}

/* Asks for the bytes of rows [r0, r1) (contiguous in memory) ahead of their use. */
static void prefetch_rows(const struct slm_weight *w, int64_t r0, int64_t r1)
{
    if (r1 <= r0)
        return;
    const unsigned char *p = weight_row(w, r0), *end = weight_row(w, r1);
    for (; p < end; p += 64)
        __builtin_prefetch(p, 0, 3);
}

/* Rows [r0, r1) in gemm tiles, in groups of about TILE_CHUNK_ROWS rows that every
 * column tile visits before the next group; the tile grid is fixed by r0, so any thread
 * split gives the same tiles. A group's rows are read from memory by its first column
 * tile, R rows side by side, which the hardware prefetchers do not follow: with few
 * tokens (batched decode) that first pass is most of the work, so the next group is
 * prefetched as one sequential run while this one is computed. */
static void rows_tiled(const struct matmul_job *job, const struct slm_weight *w, float *y,
                       const unsigned char *xq, int64_t r0, int64_t r1)
{
    const struct slm_type_traits *tr = job->weight_traits;
    int64_t group = (TILE_CHUNK_ROWS + tr->tile_rows - 1) / tr->tile_rows * tr->tile_rows;
    for (int64_t g0 = r0; g0 < r1; g0 += group) {
        int64_t g1 = g0 + group < r1 ? g0 + group : r1;
        prefetch_rows(w, g1, g1 + group < r1 ? g1 + group : r1);
        for (int c0 = 0; c0 < job->n_tok; c0 += tr->tile_cols) {
            int nc = job->n_tok - c0 < tr->tile_cols ? job->n_tok - c0 : tr->tile_cols;
            for (int64_t r = g0; r < g1; r += tr->tile_rows) {
                int nr = (int)(g1 - r < tr->tile_rows ? g1 - r : tr->tile_rows);
                tr->gemm_tile(w->n_in, nr, nc, y + (size_t)c0 * (size_t)w->n_out + (size_t)r,
                              (size_t)w->n_out, weight_row(w, r), w->row_bytes,
                              xq + (size_t)c0 * job->xq_row_bytes, job->xq_row_bytes);
            }
        }
    }
}

#ifdef SLM_HAVE_BLAS
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

/* The pool already runs one sgemm per thread; OpenBLAS's own threads would fight them. */
static void blas_single_threaded(void) { openblas_set_num_threads(1); }

static void rows_blas(const struct matmul_job *job, const struct slm_weight *w, float *y,
                      int64_t r0, int64_t r1, int ith)
{
    int n_in = (int)w->n_in;
    const float *a;
    int lda;
    if (w->type == SLM_TYPE_F32) {
        a = (const float *)weight_row(w, r0);
        lda = (int)(w->row_bytes / sizeof(float));
    } else {
        float *buf = job->converted + (size_t)ith * job->converted_per_thread;
        for (int64_t r = r0; r < r1; r++)
            job->weight_traits->to_float(weight_row(w, r), buf + (size_t)(r - r0) * (size_t)n_in,
                                         n_in);
        a = buf;
        lda = n_in;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, job->n_tok, (int)(r1 - r0), n_in,
                1.0f, job->x, n_in, a, lda, 0.0f, y + r0, (int)w->n_out);
}
#endif

static void matmul_thread(void *ctx, int ith, int nth)
{
    struct matmul_job *job = ctx;
    const unsigned char *xq = job->xq;
    if (job->act_traits && job->xq_private)
        xq = quantize_private(job, ith);
    else if (job->act_traits)
        quantize_activations(job);
    int64_t chunk = job->chunk_rows, total = job->first_item[job->count];
    int k = 0;
    for (;;) {
        int64_t item = slm_work_next(&job->row_work, 1);
        if (item >= total)
            break;
        while (item >= job->first_item[k + 1])
            k++;
        const struct slm_weight *w = job->ws[k];
        int64_t r0 = (item - job->first_item[k]) * chunk;
        int64_t r1 = r0 + chunk < w->n_out ? r0 + chunk : w->n_out;
#ifdef SLM_HAVE_BLAS
        if (job->use_blas) {
            rows_blas(job, w, job->ys[k], r0, r1, ith);
            continue;
        }
#endif
        if (job->use_tiles)
            rows_tiled(job, w, job->ys[k], xq, r0, r1);
        else
            rows_vec_dot(job, w, job->ys[k], xq, r0, r1);
    }
}

/* Rows per work item for this pass. */
static int64_t chunk_rows(const struct matmul_job *job)
{
    if (job->use_blas)
        return job->w->type == SLM_TYPE_F32 ? BLAS_CHUNK_ROWS : BLAS_CONVERT_ROWS;
    if (!job->use_tiles)
        return DECODE_CHUNK_ROWS;
    int64_t rows = job->n_tok == 1 ? TILE_DECODE_CHUNK_ROWS
                   : job->n_tok <= SMALL_BATCH_MAX_TOKENS || job->weight_traits->quantized
                       ? TILE_BATCH_CHUNK_ROWS
                       : TILE_CHUNK_ROWS;
    int64_t tile = job->weight_traits->tile_rows;
    return (rows + tile - 1) / tile * tile;
}

/* Checks one product against the scratch and the kernels. */
static int check_product(const struct slm_weight *w, int n_tok, int nth,
                         const struct slm_matmul_scratch *scratch, slm_error *err)
{
    const struct slm_type_traits *tr = slm_traits(w->type);
    if (!tr || !tr->vec_dot)
        return slm_errorf(err, SLM_ERR_INVALID, "matmul: %s cannot be a weight",
                          slm_type_name(w->type));
    if (w->n_in <= 0 || w->n_in % tr->block_size || w->n_in > INT32_MAX || w->n_out < 0 ||
        w->n_out > INT32_MAX)
        return slm_errorf(err, SLM_ERR_INVALID, "matmul: bad shape %lld x %lld for %s",
                          (long long)w->n_out, (long long)w->n_in, tr->name);
    if (w->n_in > scratch->max_n_in || n_tok > scratch->max_tok || nth > scratch->threads)
        return slm_errorf(err, SLM_ERR_INVALID,
                          "matmul: scratch sized for %lld x %d on %d threads, asked %lld x %d "
                          "on %d",
                          (long long)scratch->max_n_in, scratch->max_tok, scratch->threads,
                          (long long)w->n_in, n_tok, nth);
    return 0;
}

/* One pass over the pool for `count` products of the same type and input. */
static void run_pass(slm_pool *pool, const struct slm_weight *const ws[], float *const ys[],
                     int count, const float *x, int n_tok, struct slm_matmul_scratch *scratch)
{
    int nth = pool ? slm_pool_size(pool) : 1;
    const struct slm_weight *w = ws[0];
    const struct slm_type_traits *tr = slm_traits(w->type);
    struct matmul_job job = {.count = count, .w = w, .weight_traits = tr, .x = x,
                             .n_tok = n_tok, .pool = pool, .converted = scratch->converted,
                             .converted_per_thread = scratch->converted_per_thread};
    for (int k = 0; k < count; k++) {
        job.ws[k] = ws[k];
        job.ys[k] = ys[k];
    }
    if (tr->vec_dot_type != SLM_TYPE_F32) {
        job.act_traits = slm_traits(tr->vec_dot_type);
        uint64_t row_bytes;
        slm_type_row_bytes(tr->vec_dot_type, (uint64_t)w->n_in, &row_bytes);
        job.xq_row_bytes = (size_t)row_bytes;
        job.xq = scratch->activations;
        /* one thread quantizes into the shared buffer: no barrier is needed either way */
        if (n_tok <= PRIVATE_QUANT_MAX_TOKENS && nth > 1) {
            job.xq_private = scratch->private_activations;
            job.private_stride = scratch->private_bytes;
        }
        job.use_tiles = tr->gemm_tile != NULL;
        job.quantize = job.use_tiles && tr->tile_from_float ? tr->tile_from_float
                                                             : job.act_traits->from_float;
    }
    /* float tiles read weight rows in place; one token stays on vec_dot, which streams
     * each row on its own (decode) */
    if (!tr->quantized && tr->gemm_tile && n_tok > 1) {
        job.use_tiles = true;
        job.xq = (unsigned char *)(uintptr_t)x;
        job.xq_row_bytes = (size_t)w->n_in * sizeof(float);
    }
#ifdef SLM_HAVE_BLAS
    int blas_min = blas_min_tokens(w->type);
    if (!tr->quantized && blas_min > 0 && n_tok >= blas_min && tr->to_float) {
        pthread_once(&blas_once, blas_single_threaded);
        job.use_blas = true;
    }
#endif
    job.chunk_rows = chunk_rows(&job);
    job.first_item[0] = 0;
    for (int k = 0; k < count; k++)
        job.first_item[k + 1] =
            job.first_item[k] + (ws[k]->n_out + job.chunk_rows - 1) / job.chunk_rows;
    slm_work_reset(&job.quant_work);
    slm_work_reset(&job.row_work);
    atomic_store(&job.quant_done, 0);
    if (job.act_traits)
        job.quant_total = (w->n_in + QUANT_SEGMENT - 1) / QUANT_SEGMENT * n_tok;
    if (pool && nth > 1)
        slm_pool_run(pool, matmul_thread, &job);
    else
        matmul_thread(&job, 0, 1);
}

int slm_matmul(slm_pool *pool, const struct slm_weight *w, const float *x, int n_tok,
               float *y, struct slm_matmul_scratch *scratch, slm_error *err)
{
    return slm_matmul_many(pool, &w, 1, x, n_tok, &y, scratch, err);
}

int slm_matmul_many(slm_pool *pool, const struct slm_weight *const w[], int count,
                    const float *x, int n_tok, float *const y[],
                    struct slm_matmul_scratch *scratch, slm_error *err)
{
    if (count < 0 || count > SLM_MATMUL_MANY_MAX)
        return slm_errorf(err, SLM_ERR_INVALID, "matmul: %d products in one call (at most %d)",
                          count, SLM_MATMUL_MANY_MAX);
    int nth = pool ? slm_pool_size(pool) : 1;
    for (int k = 0; k < count; k++) {
        int r = check_product(w[k], n_tok, nth, scratch, err);
        if (r < 0)
            return r;
        if (w[k]->n_in != w[0]->n_in)
            return slm_errorf(err, SLM_ERR_INVALID, "matmul: products of %lld and %lld inputs "
                              "share one x", (long long)w[k]->n_in, (long long)w[0]->n_in);
    }
    if (n_tok <= 0)
        return 0;
    /* One pass per weight type (the quantized activations depend on it), in order. */
    bool done[SLM_MATMUL_MANY_MAX] = {false};
    for (int k = 0; k < count; k++) {
        if (done[k])
            continue;
        const struct slm_weight *ws[SLM_MATMUL_MANY_MAX];
        float *ys[SLM_MATMUL_MANY_MAX];
        int n = 0;
        for (int j = k; j < count; j++) {
            if (done[j] || w[j]->type != w[k]->type || w[j]->n_out == 0)
                continue;
            ws[n] = w[j];
            ys[n] = y[j];
            n++;
            done[j] = true;
        }
        if (n)
            run_pass(pool, ws, ys, n, x, n_tok, scratch);
    }
    return 0;
}
