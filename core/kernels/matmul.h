/* The threaded matrix product every linear layer goes through.
 *
 *   y[t * n_out + o] = sum_i W[o][i] * x[t * n_in + i]      for t < n_tok, o < n_out
 *
 * W is a weight matrix as it lies in the model file (n_out rows of n_in elements of its
 * type). For quantized W the activations are first quantized to the type's vec_dot_type
 * (once per call, split over the threads); then the rows of W are shared out in chunks
 * through an atomic counter. Single tokens (decode) use vec_dot per row; batches use the
 * type's gemm_tile, which reads each weight block once for several token rows; float
 * weights with many tokens go to OpenBLAS sgemm, each thread taking a slice of W.
 *
 * Results do not depend on the number of threads: every output is computed by the same
 * kernel in the same order whatever the split. */
#ifndef SLM_KERNELS_MATMUL_H
#define SLM_KERNELS_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "slm/pool.h"
#include "slm/types.h"

struct slm_weight {
    enum slm_type type;
    int64_t n_in;     /* elements per row, a multiple of the type's block size */
    int64_t n_out;    /* rows */
    const void *data; /* n_out rows, row_bytes apart */
    size_t row_bytes;
};

/* Fills row_bytes from type and n_in; false if n_in is not whole blocks or too large. */
bool slm_weight_init(struct slm_weight *w, enum slm_type type, int64_t n_in, int64_t n_out,
                     const void *data);

/* Owned by the caller and sized once for the largest call it will make, so that
 * slm_matmul allocates nothing. */
struct slm_matmul_scratch {
    unsigned char *activations; /* quantized x: n_tok rows */
    size_t activation_bytes;
    unsigned char *private_activations; /* per-thread copies for a few tokens */
    size_t private_bytes;               /* per thread */
    float *converted;          /* F16/BF16 weight rows converted for sgemm, per thread */
    size_t converted_per_thread; /* floats */
    int threads;
    int64_t max_n_in;
    int max_tok;
};

int slm_matmul_scratch_init(struct slm_matmul_scratch *s, int64_t max_n_in, int max_tok,
                            int threads, slm_error *err);
void slm_matmul_scratch_deinit(struct slm_matmul_scratch *s);

/* pool may be NULL (runs on the calling thread). Fails only if the scratch was sized for
 * less than this call or the weight is unusable (SLM_ERR_INVALID). */
int slm_matmul(slm_pool *pool, const struct slm_weight *w, const float *x, int n_tok,
               float *y, struct slm_matmul_scratch *scratch, slm_error *err);

/* Several products of one input in one pass over the pool, y[k] = w[k] x (the q, k, v
 * or gate, up projections of a layer): one wake-up of the threads and one activation
 * quantization instead of one per product. Products of different weight types take one
 * pass per type. All w[k] have the same n_in; at most SLM_MATMUL_MANY_MAX products. */
#define SLM_MATMUL_MANY_MAX 4
int slm_matmul_many(slm_pool *pool, const struct slm_weight *const w[], int count,
                    const float *x, int n_tok, float *const y[],
                    struct slm_matmul_scratch *scratch, slm_error *err);

/* Benchmarks and tests: float weights use sgemm from min_tokens tokens on (0 = never),
 * until reset to the measured per-type defaults. Not thread-safe against running
 * products. */
void slm_matmul_set_blas_min_tokens(int min_tokens);
void slm_matmul_reset_blas_min_tokens(void);

#endif
