/* One persistent pool of compute threads per process.
 *
 * `slm_pool_run(pool, fn, ctx)` runs fn(ctx, ith, nth) on every thread of the pool, the
 * caller being thread 0, and returns when all have finished. Workers spin briefly between
 * runs (a forward pass issues runs back to back) and then sleep on a futex, so an idle
 * daemon costs no CPU. Only one thread may call run at a time (the engine's scheduler).
 *
 * Work inside a run is shared with an atomic counter (`slm_work_next`) rather than fixed
 * slices, so a thread that the OS preempts does not hold everyone up. */
#ifndef SLM_POOL_H
#define SLM_POOL_H

#include <stdatomic.h>
#include <stdint.h>

#include "slm/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_pool slm_pool;
typedef void (*slm_pool_fn)(void *ctx, int ith, int nth);

/* n_threads counts the caller: 1 means no worker threads. 0 = online CPUs. */
slm_pool *slm_pool_new(int n_threads, slm_error *err);
void slm_pool_free(slm_pool *pool);
int slm_pool_size(const slm_pool *pool);

void slm_pool_run(slm_pool *pool, slm_pool_fn fn, void *ctx);

/* Waits inside a run until all nth threads have reached it. */
void slm_pool_barrier(slm_pool *pool);

/* Work sharing: each thread takes [start, start + chunk) until start >= total. */
struct slm_work {
    _Atomic int64_t next;
};
static inline void slm_work_reset(struct slm_work *w) { atomic_store(&w->next, 0); }
static inline int64_t slm_work_next(struct slm_work *w, int64_t chunk)
{
    return atomic_fetch_add_explicit(&w->next, chunk, memory_order_relaxed);
}

#ifdef __cplusplus
}
#endif
#endif
