/* ctest-labels: threads */
/* The pool runs every thread once per run, shares work exactly once per item, and its
 * barrier separates phases. */
#include "slm/pool.h"
#include "test.h"

struct sum_ctx {
    struct slm_work work;
    _Atomic int64_t sum;
    _Atomic int calls;
    int64_t n;
};

static void sum_job(void *p, int ith, int nth)
{
    struct sum_ctx *c = p;
    atomic_fetch_add(&c->calls, 1);
    for (;;) {
        int64_t start = slm_work_next(&c->work, 7);
        if (start >= c->n)
            break;
        int64_t end = start + 7 < c->n ? start + 7 : c->n;
        for (int64_t i = start; i < end; i++)
            atomic_fetch_add(&c->sum, i);
    }
}

int main(void)
{
    for (int threads = 1; threads <= 4; threads++) {
        slm_error err;
        slm_pool *pool = slm_pool_new(threads, &err);
        REQUIRE(pool);
        CHECK(slm_pool_size(pool) == threads);
        for (int round = 0; round < 200; round++) {
            struct sum_ctx c = {.n = 1000 + round};
            slm_work_reset(&c.work);
            slm_pool_run(pool, sum_job, &c);
            CHECK(atomic_load(&c.calls) >= 1 && atomic_load(&c.calls) <= threads);
            CHECK(atomic_load(&c.sum) == c.n * (c.n - 1) / 2);
        }
        slm_pool_free(pool);
    }
    /* tiny runs back to back: workers often miss them, the work is still all done once */
    slm_error err;
    slm_pool *pool = slm_pool_new(4, &err);
    REQUIRE(pool);
    int partial = 0;
    for (int round = 0; round < 20000; round++) {
        struct sum_ctx c = {.n = 3};
        slm_work_reset(&c.work);
        slm_pool_run(pool, sum_job, &c);
        CHECK(atomic_load(&c.sum) == 3);
        partial += atomic_load(&c.calls) < 4;
    }
    printf("%d of 20000 tiny runs finished before every worker joined\n", partial);
    slm_pool_free(pool);
    CHECK(slm_pool_new(100000, &err) == NULL && err.status == SLM_ERR_INVALID);
    return test_report();
}
