#include "slm/pool.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* How long a worker spins for the next run before sleeping. A decode step issues a run
 * every few microseconds; sleeping between them would cost a wake-up each time. */
#define SPIN_ITERATIONS 20000
#define MAX_THREADS 256

/* The join word: which run is open and how many workers are inside it.
 *   bits 24..31  the run's generation (low 8 bits)
 *   bit  23      the run is open: workers may still join
 *   bits 0..22   workers inside fn */
#define JOIN_OPEN (1u << 23)
#define JOIN_ACTIVE_MASK (JOIN_OPEN - 1)
#define JOIN_GEN(g) (((g) & 0xffu) << 24)

struct slm_pool {
    int n_threads;
    pthread_t *threads;
    _Atomic uint32_t generation; /* bumped by each run; workers wait for it to change */
    _Atomic uint32_t join;
    _Atomic uint32_t sleepers;
    atomic_bool stop;
    slm_pool_fn fn;
    void *ctx;
};

struct worker_arg {
    slm_pool *pool;
    int ith;
};

static void futex_wait(_Atomic uint32_t *addr, uint32_t expected)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *addr)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

static uint32_t wait_for_generation(slm_pool *pool, uint32_t seen)
{
    for (int i = 0; i < SPIN_ITERATIONS; i++) {
        uint32_t g = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (g != seen)
            return g;
        cpu_relax();
    }
    atomic_fetch_add(&pool->sleepers, 1);
    uint32_t g;
    while ((g = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen)
        futex_wait(&pool->generation, seen);
    atomic_fetch_sub(&pool->sleepers, 1);
    return g;
}

/* Enters run `gen` if it is still open. */
static bool try_join(slm_pool *pool, uint32_t gen)
{
    uint32_t j = atomic_load_explicit(&pool->join, memory_order_acquire);
    for (;;) {
        if ((j & ~JOIN_ACTIVE_MASK) != (JOIN_GEN(gen) | JOIN_OPEN))
            return false; /* closed, or already another run */
        if (atomic_compare_exchange_weak_explicit(&pool->join, &j, j + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return true;
    }
}

static void leave(slm_pool *pool)
{
    uint32_t after = atomic_fetch_sub_explicit(&pool->join, 1, memory_order_acq_rel) - 1;
    if ((after & JOIN_ACTIVE_MASK) == 0 && !(after & JOIN_OPEN))
        futex_wake_all(&pool->join); /* the caller may be waiting for the last worker */
}

static void *worker_main(void *p)
{
    struct worker_arg arg = *(struct worker_arg *)p;
    free(p);
    slm_pool *pool = arg.pool;
    uint32_t seen = 0;
    for (;;) {
        seen = wait_for_generation(pool, seen);
        if (atomic_load(&pool->stop))
            return NULL;
        if (!try_join(pool, seen))
            continue; /* woke too late: the caller finished this run without us */
        pool->fn(pool->ctx, arg.ith, pool->n_threads);
        leave(pool);
    }
}

slm_pool *slm_pool_new(int n_threads, slm_error *err)
{
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n > 0 ? (int)n : 1;
    }
    if (n_threads > MAX_THREADS) {
        slm_errorf(err, SLM_ERR_INVALID, "%d threads requested; at most %d", n_threads,
                   MAX_THREADS);
        return NULL;
    }
    slm_pool *pool = calloc(1, sizeof(*pool));
    if (!pool || !(pool->threads = calloc((size_t)n_threads, sizeof(pthread_t)))) {
        free(pool);
        slm_errorf(err, SLM_ERR_NOMEM, "thread pool: out of memory");
        return NULL;
    }
    pool->n_threads = 1;
    for (int i = 1; i < n_threads; i++) {
        struct worker_arg *arg = malloc(sizeof(*arg));
        if (!arg) {
            slm_pool_free(pool);
            slm_errorf(err, SLM_ERR_NOMEM, "thread pool: out of memory");
            return NULL;
        }
        arg->pool = pool;
        arg->ith = i;
        int rc = pthread_create(&pool->threads[i], NULL, worker_main, arg);
        if (rc != 0) {
            free(arg);
            slm_pool_free(pool);
            slm_errorf(err, SLM_ERR_NOMEM, "thread pool: cannot start thread %d: %s", i,
                       strerror(rc));
            return NULL;
        }
        pool->n_threads = i + 1;
    }
    return pool;
}

void slm_pool_free(slm_pool *pool)
{
    if (!pool)
        return;
    atomic_store(&pool->stop, true);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    futex_wake_all(&pool->generation);
    for (int i = 1; i < pool->n_threads; i++)
        pthread_join(pool->threads[i], NULL);
    free(pool->threads);
    free(pool);
}

int slm_pool_size(const slm_pool *pool) { return pool ? pool->n_threads : 1; }

void slm_pool_run(slm_pool *pool, slm_pool_fn fn, void *ctx)
{
    if (!pool || pool->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->ctx = ctx;
    uint32_t gen = atomic_load_explicit(&pool->generation, memory_order_relaxed) + 1;
    /* open the run before announcing it, so a worker that sees the generation can join */
    atomic_store_explicit(&pool->join, JOIN_GEN(gen) | JOIN_OPEN, memory_order_release);
    atomic_store_explicit(&pool->generation, gen, memory_order_release);
    if (atomic_load(&pool->sleepers))
        futex_wake_all(&pool->generation);
    fn(ctx, 0, pool->n_threads);
    /* close: from now on nobody joins; wait only for those inside */
    uint32_t j = atomic_fetch_and_explicit(&pool->join, ~JOIN_OPEN, memory_order_acq_rel) &
                 ~JOIN_OPEN;
    int spins = 0;
    while ((j & JOIN_ACTIVE_MASK) != 0) {
        if (++spins < SPIN_ITERATIONS)
            cpu_relax();
        else
            futex_wait(&pool->join, j);
        j = atomic_load_explicit(&pool->join, memory_order_acquire);
    }
}
