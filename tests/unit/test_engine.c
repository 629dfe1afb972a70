/* ctest-labels: threads */
/* The engine end to end on a small random model: greedy outputs unchanged by batching,
 * the prompt cache, cancellation freeing the slot at once, queue limits, unknown models,
 * context limits, reconfiguration keeping unchanged models resident. */
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slm/engine.h"
#include "slm/mkmodel.h"
#include "test.h"

struct outcome {
    bool done;
    enum slm_status status;
    char error[512];
    int32_t tokens[512];
    size_t n_tokens;
    uint32_t cached;
    int pieces;
    char finish[16];
};

static void on_token(void *ud, const char *piece, size_t len)
{
    struct outcome *o = ud;
    o->pieces++;
}

static void on_done(void *ud, const struct slm_result *r)
{
    struct outcome *o = ud;
    o->done = true;
    o->status = r->status;
    snprintf(o->error, sizeof(o->error), "%s", r->error);
    snprintf(o->finish, sizeof(o->finish), "%s", r->finish_reason);
    o->n_tokens = r->n_tokens < 512 ? r->n_tokens : 512;
    if (r->tokens)
        memcpy(o->tokens, r->tokens, o->n_tokens * sizeof(int32_t));
    o->cached = r->cached_tokens;
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Dispatches events until every outcome is done (or 60 s pass). */
static bool wait_all(slm_engine *e, struct outcome *o, size_t n)
{
    struct pollfd pfd = {.fd = slm_engine_event_fd(e), .events = POLLIN};
    double deadline = now_sec() + 60;
    for (;;) {
        bool all = true;
        for (size_t i = 0; i < n; i++)
            all &= o[i].done;
        if (all)
            return true;
        if (now_sec() > deadline)
            return false;
        if (poll(&pfd, 1, 100) > 0)
            slm_engine_dispatch(e);
    }
}

static uint64_t submit_tokens(slm_engine *e, const char *model, const int32_t *ids, size_t n,
                              int max_tokens, bool stream, struct outcome *o, slm_error *err)
{
    struct slm_request_params p;
    slm_request_params_init(&p, SLM_REQ_GENERATE);
    p.tokens = ids;
    p.n_tokens = n;
    p.max_tokens = max_tokens;
    p.sampling.temperature = 0;
    p.stream = stream;
    p.ignore_eos = true;
    struct slm_request_callbacks cb = {on_token, on_done, o};
    memset(o, 0, sizeof(*o));
    return slm_engine_submit(e, model, &p, &cb, err);
}

static void prompt(int32_t *ids, size_t n, unsigned seed)
{
    ids[0] = 1;
    for (size_t i = 1; i < n; i++)
        ids[i] = (int32_t)(3 + (seed * 131u + i * 17u) % 400u);
}

static slm_engine *engine_with(const char *path, uint32_t parallel, uint32_t max_queue)
{
    slm_error err;
    struct slm_engine_config cfg = {.n_threads = 2, .max_queue = max_queue};
    slm_engine *e = slm_engine_new(&cfg, &err);
    REQUIRE(e);
    struct slm_model_spec spec;
    slm_model_spec_init(&spec);
    spec.name = "m";
    spec.path = path;
    spec.context = 256;
    spec.parallel = parallel;
    spec.preload = true;
    REQUIRE(slm_engine_configure(e, &spec, 1, &err) == 0);
    return e;
}

static void test_batching_invariance(const char *path)
{
    slm_engine *e = engine_with(path, 8, 64);
    slm_error err;
    int32_t ids[8][40];
    for (int i = 0; i < 8; i++)
        prompt(ids[i], 10 + 4 * (size_t)i, (unsigned)i);
    /* alone */
    struct outcome alone;
    REQUIRE(submit_tokens(e, "m", ids[3], 22, 24, false, &alone, &err));
    REQUIRE(wait_all(e, &alone, 1));
    CHECKF(alone.status == SLM_OK && alone.n_tokens == 24, "%s", alone.error);
    /* among seven others, all started together */
    struct outcome many[8];
    for (int i = 0; i < 8; i++)
        REQUIRE(submit_tokens(e, "m", ids[i], 10 + 4 * (size_t)i, 24, true, &many[i], &err));
    REQUIRE(wait_all(e, many, 8));
    for (int i = 0; i < 8; i++)
        CHECKF(many[i].status == SLM_OK && many[i].n_tokens == 24 && many[i].pieces > 0,
               "request %d: %s", i, many[i].error);
    CHECKF(memcmp(alone.tokens, many[3].tokens, 24 * sizeof(int32_t)) == 0,
           "greedy output changed when batched with seven others");
    /* the prompt cache: the same prompt again reuses all but its last token */
    struct outcome again;
    REQUIRE(submit_tokens(e, "m", ids[3], 22, 24, false, &again, &err));
    REQUIRE(wait_all(e, &again, 1));
    CHECKF(again.cached >= 21, "cached %u prompt tokens", again.cached);
    CHECK(memcmp(alone.tokens, again.tokens, 24 * sizeof(int32_t)) == 0);
    struct slm_model_status st;
    REQUIRE(slm_engine_models(e, &st, 1) == 1);
    CHECK(st.prompt_cache_hits >= 1 && st.active_sequences == 0 && st.queued == 0);
    CHECK(st.requests_ok == 10);
    slm_engine_free(e);
}

static void test_cancel(const char *path)
{
    slm_engine *e = engine_with(path, 2, 64);
    slm_error err;
    int32_t ids[16];
    prompt(ids, 16, 9);
    struct outcome o, other;
    uint64_t id = submit_tokens(e, "m", ids, 16, 200, true, &o, &err);
    REQUIRE(id);
    REQUIRE(submit_tokens(e, "m", ids, 8, 20, false, &other, &err));
    struct pollfd pfd = {.fd = slm_engine_event_fd(e), .events = POLLIN};
    while (o.pieces == 0 && !o.done)
        if (poll(&pfd, 1, 100) > 0)
            slm_engine_dispatch(e);
    double t0 = now_sec();
    slm_engine_cancel(e, id);
    REQUIRE(wait_all(e, &o, 1));
    double freed = -1;
    while (now_sec() - t0 < 2) {
        struct slm_model_status st;
        slm_engine_models(e, &st, 1);
        if (st.requests_cancelled == 1) {
            freed = now_sec() - t0;
            break;
        }
        usleep(1000);
    }
    CHECKF(o.status == SLM_ERR_CANCELLED, "status %d", o.status);
    CHECKF(freed >= 0 && freed < 0.1, "slot freed after %.3f s", freed);
    REQUIRE(wait_all(e, &other, 1));
    CHECKF(other.status == SLM_OK && other.n_tokens == 20, "the other request: %s", other.error);
    slm_engine_free(e);
}

static void test_limits(const char *path)
{
    slm_engine *e = engine_with(path, 1, 2);
    slm_error err;
    int32_t ids[300];
    prompt(ids, 300, 1);
    struct outcome o[4];
    CHECK(submit_tokens(e, "nope", ids, 4, 4, false, &o[0], &err) == 0 &&
          err.status == SLM_ERR_NOT_FOUND);
    /* prompt longer than the context */
    REQUIRE(submit_tokens(e, "m", ids, 300, 4, false, &o[0], &err));
    REQUIRE(wait_all(e, o, 1));
    CHECKF(o[0].status == SLM_ERR_CONTEXT && strstr(o[0].error, "context"), "%s", o[0].error);
    /* out-of-vocabulary ids */
    int32_t bad[2] = {1, 100000};
    REQUIRE(submit_tokens(e, "m", bad, 2, 4, false, &o[0], &err));
    REQUIRE(wait_all(e, o, 1));
    CHECK(o[0].status == SLM_ERR_INVALID);
    /* bad sampling values are refused at submit */
    struct slm_request_params p;
    slm_request_params_init(&p, SLM_REQ_GENERATE);
    p.tokens = ids;
    p.n_tokens = 4;
    p.sampling.top_p = 7;
    struct slm_request_callbacks cb = {on_token, on_done, &o[0]};
    CHECK(slm_engine_submit(e, "m", &p, &cb, &err) == 0 && err.status == SLM_ERR_INVALID &&
          strstr(err.message, "top_p"));
    /* a full queue answers BUSY at once: 1 slot, max_queue 2. Whether the first request
     * has left the queue for the slot when the next ones arrive is up to the scheduler
     * thread (slow under qemu), so requests go in until one is refused: 2 or 3 are taken
     * (2 waiting, perhaps 1 running), and the refusal says BUSY. */
    struct outcome burst[6];
    int accepted = 0, refusals = 0;
    for (int i = 0; i < 6; i++) {
        if (submit_tokens(e, "m", ids, 8, 100, false, &burst[accepted], &err)) {
            accepted++;
        } else {
            CHECKF(err.status == SLM_ERR_BUSY, "request %d: %s", i + 1, err.message);
            refusals++;
        }
    }
    CHECKF(refusals >= 1 && accepted >= 2 && accepted <= 3, "%d taken, %d refused", accepted,
           refusals);
    wait_all(e, burst, accepted);
    slm_engine_free(e);
}

struct state_log {
    int ready, loading;
};

static void on_state(void *ud, const char *model, enum slm_model_state st, const char *msg)
{
    struct state_log *l = ud;
    l->ready += st == SLM_MODEL_READY;
    l->loading += st == SLM_MODEL_LOADING;
}

static void test_reconfigure(const char *path)
{
    struct state_log log = {0};
    slm_error err;
    struct slm_engine_config cfg = {.n_threads = 1, .on_model_state = on_state, .userdata = &log};
    slm_engine *e = slm_engine_new(&cfg, &err);
    REQUIRE(e);
    struct slm_model_spec specs[2];
    slm_model_spec_init(&specs[0]);
    specs[0].name = "a";
    specs[0].path = path;
    specs[0].preload = true;
    specs[0].context = 64;
    specs[1] = specs[0];
    specs[1].name = "b";
    REQUIRE(slm_engine_configure(e, specs, 2, &err) == 0);
    struct pollfd pfd = {.fd = slm_engine_event_fd(e), .events = POLLIN};
    double t0 = now_sec();
    while (!slm_engine_preloads_done(e) && now_sec() - t0 < 30)
        if (poll(&pfd, 1, 50) > 0)
            slm_engine_dispatch(e);
    slm_engine_dispatch(e);
    CHECK(log.ready == 2);
    /* same "a", changed "b", new "c": only b and c load again */
    specs[1].context = 128;
    struct slm_model_spec three[3] = {specs[0], specs[1], specs[0]};
    three[2].name = "c";
    REQUIRE(slm_engine_configure(e, three, 3, &err) == 0);
    t0 = now_sec();
    while (!slm_engine_preloads_done(e) && now_sec() - t0 < 30)
        if (poll(&pfd, 1, 50) > 0)
            slm_engine_dispatch(e);
    usleep(100000);
    slm_engine_dispatch(e);
    CHECKF(log.ready == 4, "ready events: %d", log.ready);
    struct slm_model_status st[8];
    size_t n = slm_engine_models(e, st, 8);
    CHECKF(n == 3, "%zu models listed", n);
    /* invalid configuration changes nothing */
    three[2].name = "a";
    CHECK(slm_engine_configure(e, three, 3, &err) < 0 && strstr(err.message, "twice"));
    CHECK(slm_engine_models(e, st, 8) == 3);
    slm_engine_free(e);
}

/* A reload changes threads and limits on a running engine; requests keep working. */
static void test_set_config(const char *path)
{
    slm_engine *e = engine_with(path, 1, 64);
    slm_error err;
    int32_t ids[8];
    prompt(ids, 8, 3);
    struct outcome before, after;
    REQUIRE(submit_tokens(e, "m", ids, 8, 6, false, &before, &err));
    REQUIRE(wait_all(e, &before, 1));
    struct slm_engine_config cfg = {.n_threads = 1, .max_queue = 1};
    CHECK(slm_engine_set_config(e, &cfg, &err) == 0);
    REQUIRE(submit_tokens(e, "m", ids, 8, 6, false, &after, &err));
    REQUIRE(wait_all(e, &after, 1));
    CHECK(after.status == SLM_OK && memcmp(before.tokens, after.tokens, 6 * 4) == 0);
    struct slm_engine_stats st;
    slm_engine_stats(e, &st);
    CHECKF(st.n_threads == 1, "threads %u", st.n_threads);
    /* max_queue 1: one waits, the next is refused */
    struct outcome o[3];
    uint64_t a = submit_tokens(e, "m", ids, 8, 50, false, &o[0], &err);
    uint64_t b = submit_tokens(e, "m", ids, 8, 50, false, &o[1], &err);
    uint64_t c = submit_tokens(e, "m", ids, 8, 50, false, &o[2], &err);
    CHECKF(a && (!b || !c) && err.status == SLM_ERR_BUSY, "%llu %llu %llu",
           (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
    wait_all(e, o, 1);
    slm_engine_free(e);
}

int main(void)
{
    char dir[] = "/tmp/slm-test-engine-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/model.gguf", dir);
    struct slm_random_model spec;
    slm_random_model_defaults(&spec);
    spec.dim = 64;
    spec.layers = 2;
    spec.heads = 4;
    spec.kv_heads = 2;
    spec.vocab = 512;
    spec.type = SLM_TYPE_Q8_0;
    slm_error err;
    REQUIRE(slm_random_model_write(&spec, path, &err) == 0);
    test_batching_invariance(path);
    test_cancel(path);
    test_limits(path);
    test_reconfigure(path);
    test_set_config(path);
    unlink(path);
    rmdir(dir);
    return test_report();
}
