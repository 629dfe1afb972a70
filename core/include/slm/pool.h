/* One persistent pool of compute threads per process.
 *
 * `slm_pool_run(pool, fn, ctx)` runs fn(ctx, ith, nth) on the caller (ith 0) and on every
 * worker that wakes up while the run is open, and returns when the caller and every worker
 * that joined have finished. A worker the OS has not scheduled in time simply misses the
 * run: on a gateway where other processes take a core, a forward pass never waits a whole
 * scheduler tick for a thread that is not running. So fn must share its work dynamically
 * (`slm_work_next` on an atomic counter) and never split it by ith; ith only names a
 * per-thread scratch slot (unique among the threads running fn at once, < nth).
 *
 * Workers spin briefly between runs (a forward pass issues runs back to back) and then
 * sleep on a futex, so an idle daemon costs no CPU. Only one thread may call run at a
 * time (the engine's scheduler). */
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
