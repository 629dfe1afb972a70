/* The engine's public face: lifecycle, submit/cancel, the event queue and dispatch. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "engine_internal.h"
#include "kernels/kernels.h"
#include "util/cleanup.h"

/* Default for max_queue when the config gives 0. */
#define DEFAULT_MAX_QUEUE 64

static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;

uint64_t engine_now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *slm_task_name(enum slm_task task)
{
    switch (task) {
    case SLM_TASK_AUTO: return "auto";
    case SLM_TASK_GENERATE: return "generate";
    case SLM_TASK_CHAT: return "chat";
    case SLM_TASK_CLASSIFY: return "classify";
    case SLM_TASK_TOKEN_CLASSIFY: return "token-classify";
    case SLM_TASK_EMBED: return "embed";
    }
    return "unknown";
}

bool slm_task_from_name(const char *name, enum slm_task *out)
{
    static const enum slm_task all[] = {SLM_TASK_AUTO, SLM_TASK_GENERATE, SLM_TASK_CHAT,
                                        SLM_TASK_CLASSIFY, SLM_TASK_TOKEN_CLASSIFY,
                                        SLM_TASK_EMBED};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (!strcmp(name, slm_task_name(all[i]))) {
            *out = all[i];
            return true;
        }
    return false;
}

const char *slm_model_state_name(enum slm_model_state state)
{
    switch (state) {
    case SLM_MODEL_DECLARED: return "declared";
    case SLM_MODEL_LOADING: return "loading";
    case SLM_MODEL_READY: return "ready";
    case SLM_MODEL_FAILED: return "failed";
    case SLM_MODEL_DRAINING: return "draining";
    }
    return "unknown";
}

void slm_model_spec_init(struct slm_model_spec *spec)
{
    memset(spec, 0, sizeof(*spec));
    spec->task = SLM_TASK_AUTO;
    spec->parallel = 1;
    spec->kv_type = SLM_TYPE_F16;
    slm_sampling_unset(&spec->defaults);
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool sampling_eq(const struct slm_sampling *a, const struct slm_sampling *b)
{
    return a->temperature == b->temperature && a->top_k == b->top_k && a->top_p == b->top_p &&
           a->min_p == b->min_p && a->repeat_penalty == b->repeat_penalty &&
           a->repeat_last_n == b->repeat_last_n &&
           (a->frequency_penalty == b->frequency_penalty ||
            (a->frequency_penalty != a->frequency_penalty &&
             b->frequency_penalty != b->frequency_penalty)) &&
           (a->presence_penalty == b->presence_penalty ||
            (a->presence_penalty != a->presence_penalty &&
             b->presence_penalty != b->presence_penalty)) &&
           a->has_seed == b->has_seed && (!a->has_seed || a->seed == b->seed);
}

bool slm_model_spec_equal(const struct slm_model_spec *a, const struct slm_model_spec *b)
{
    return str_eq(a->name, b->name) && str_eq(a->path, b->path) && a->task == b->task &&
           a->context == b->context && a->parallel == b->parallel &&
           a->preload == b->preload && a->keep_alive_usec == b->keep_alive_usec &&
           a->kv_type == b->kv_type && a->default_max_tokens == b->default_max_tokens &&
           sampling_eq(&a->defaults, &b->defaults);
}

void slm_request_params_init(struct slm_request_params *p, enum slm_request_kind kind)
{
    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->max_tokens = -1;
    p->add_special = true;
    p->parse_special = true;
    slm_sampling_unset(&p->sampling);
}

/* ---- events ---- */

void engine_push_event(slm_engine *e, struct event *ev)
{
    pthread_mutex_lock(&events_lock);
    ev->next = NULL;
    if (e->events_tail)
        e->events_tail->next = ev;
    else
        e->events_head = ev;
    e->events_tail = ev;
    pthread_mutex_unlock(&events_lock);
    uint64_t one = 1;
    ssize_t w = write(e->event_fd, &one, sizeof(one));
    (void)w; /* a full counter still leaves the fd readable */
}

void engine_emit_token(slm_engine *e, struct request *r, const char *piece, size_t len)
{
    struct event *ev = calloc(1, sizeof(*ev));
    char *copy = malloc(len + 1);
    if (!ev || !copy) {
        free(ev);
        free(copy);
        return; /* a lost stream piece under memory pressure; the final text is complete */
    }
    memcpy(copy, piece, len);
    copy[len] = '\0';
    ev->kind = EVENT_TOKEN;
    ev->req = r;
    ev->text = copy;
    ev->len = len;
    engine_push_event(e, ev);
}

void engine_emit_done(slm_engine *e, struct request *r)
{
    struct event *ev = calloc(1, sizeof(*ev));
    r->finished = true;
    if (!ev) {
        /* Without memory for an event the request would never complete: wait for some. */
        while (!(ev = calloc(1, sizeof(*ev))))
            usleep(1000);
    }
    ev->kind = EVENT_DONE;
    ev->req = r;
    engine_push_event(e, ev);
}

void engine_emit_model_state(slm_engine *e, struct model_entry *m, const char *fmt, ...)
{
    struct event *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ev->kind = EVENT_MODEL_STATE;
    ev->model = strdup(m->spec.name);
    ev->text = strdup(msg);
    ev->state = m->state;
    if (!ev->model || !ev->text) {
        free(ev->model);
        free(ev->text);
        free(ev);
        return;
    }
    engine_push_event(e, ev);
}

static void live_remove(slm_engine *e, struct request *r)
{
    for (size_t i = 0; i < e->n_live; i++)
        if (e->live[i] == r) {
            e->live[i] = e->live[--e->n_live];
            return;
        }
}

int slm_engine_dispatch(slm_engine *e)
{
    uint64_t counter;
    ssize_t rd = read(e->event_fd, &counter, sizeof(counter));
    (void)rd;
    pthread_mutex_lock(&events_lock);
    struct event *ev = e->events_head;
    e->events_head = e->events_tail = NULL;
    pthread_mutex_unlock(&events_lock);
    int handled = 0;
    while (ev) {
        struct event *next = ev->next;
        switch (ev->kind) {
        case EVENT_TOKEN:
            if (ev->req->cb.on_token && !atomic_load(&ev->req->cancelled))
                ev->req->cb.on_token(ev->req->cb.userdata, ev->text, ev->len);
            break;
        case EVENT_DONE:
            if (ev->req->cb.on_done)
                ev->req->cb.on_done(ev->req->cb.userdata, &ev->req->result);
            pthread_mutex_lock(&e->lock);
            live_remove(e, ev->req);
            pthread_mutex_unlock(&e->lock);
            request_free(ev->req);
            break;
        case EVENT_MODEL_STATE:
            if (e->config.on_model_state)
                e->config.on_model_state(e->config.userdata, ev->model, ev->state, ev->text);
            break;
        }
        free(ev->text);
        free(ev->model);
        free(ev);
        ev = next;
        handled++;
    }
    return handled;
}

int slm_engine_event_fd(const slm_engine *e) { return e->event_fd; }

int slm_engine_set_config(slm_engine *e, const struct slm_engine_config *c, slm_error *err)
{
    pthread_mutex_lock(&e->lock);
    e->config.memory_limit = c->memory_limit;
    e->config.max_queue = c->max_queue ? c->max_queue : DEFAULT_MAX_QUEUE;
    e->config.request_timeout_usec = c->request_timeout_usec;
    e->config.weights = c->weights;
    slm_set_weight_memory(c->weights); /* for the loads from now on */
    e->config.on_model_state = c->on_model_state;
    e->config.userdata = c->userdata;
    uint32_t threads = c->n_threads;
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (uint32_t)n : 1;
    }
    if (threads != (uint32_t)slm_pool_size(e->pool)) {
        e->pool_threads_wanted = threads;
        pthread_cond_signal(&e->sched_cond);
    }
    pthread_mutex_unlock(&e->lock);
    (void)err;
    return 0;
}

/* ---- lifecycle ---- */

slm_engine *slm_engine_new(const struct slm_engine_config *config, slm_error *err)
{
    slm_kernels_init();
    slm_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        slm_errorf(err, SLM_ERR_NOMEM, "engine: out of memory");
        return NULL;
    }
    e->config = *config;
    slm_set_weight_memory(config->weights);
    if (!e->config.max_queue)
        e->config.max_queue = DEFAULT_MAX_QUEUE;
    e->next_request_id = 1;
    e->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->sched_cond, NULL);
    pthread_cond_init(&e->loader_cond, NULL);
    if (e->event_fd < 0) {
        slm_errorf(err, SLM_ERR_IO, "engine: eventfd: %s", strerror(errno));
        slm_engine_free(e);
        return NULL;
    }
    e->pool = slm_pool_new((int)config->n_threads, err);
    if (!e->pool) {
        slm_engine_free(e);
        return NULL;
    }
    e->config.n_threads = (uint32_t)slm_pool_size(e->pool);
    if (pthread_create(&e->scheduler, NULL, scheduler_main, e) != 0) {
        slm_errorf(err, SLM_ERR_NOMEM, "engine: cannot start the scheduler thread");
        slm_engine_free(e);
        return NULL;
    }
    if (pthread_create(&e->loader, NULL, loader_main, e) != 0) {
        pthread_mutex_lock(&e->lock);
        e->stopping = true;
        pthread_cond_broadcast(&e->sched_cond);
        pthread_mutex_unlock(&e->lock);
        pthread_join(e->scheduler, NULL);
        slm_errorf(err, SLM_ERR_NOMEM, "engine: cannot start the loader thread");
        slm_engine_free(e);
        return NULL;
    }
    e->threads_started = true;
    return e;
}

void slm_engine_free(slm_engine *e)
{
    if (!e)
        return;
    if (e->threads_started) {
        pthread_mutex_lock(&e->lock);
        e->stopping = true;
        atomic_store(&e->stop_requested, true);
        pthread_cond_broadcast(&e->sched_cond);
        pthread_cond_broadcast(&e->loader_cond);
        pthread_mutex_unlock(&e->lock);
        pthread_join(e->scheduler, NULL);
        pthread_join(e->loader, NULL);
    }
    /* events not dispatched: their requests are freed below through the live list */
    for (struct event *ev = e->events_head; ev;) {
        struct event *next = ev->next;
        free(ev->text);
        free(ev->model);
        free(ev);
        ev = next;
    }
    for (size_t i = 0; i < e->n_live; i++)
        request_free(e->live[i]);
    free(e->live);
    for (struct model_entry *m = e->models; m;) {
        struct model_entry *next = m->next;
        registry_free_entry(m);
        m = next;
    }
    slm_pool_free(e->pool);
    if (e->event_fd >= 0)
        close(e->event_fd);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->sched_cond);
    pthread_cond_destroy(&e->loader_cond);
    free(e);
}

/* ---- requests ---- */

static int task_accepts(enum slm_task task, enum slm_request_kind kind)
{
    switch (kind) {
    case SLM_REQ_TOKENIZE:
    case SLM_REQ_DETOKENIZE:
        return 1;
    case SLM_REQ_GENERATE:
    case SLM_REQ_CHAT:
        return task == SLM_TASK_GENERATE || task == SLM_TASK_CHAT;
    case SLM_REQ_CLASSIFY:
        return task == SLM_TASK_CLASSIFY;
    case SLM_REQ_CLASSIFY_TOKENS:
        return task == SLM_TASK_TOKEN_CLASSIFY;
    case SLM_REQ_EMBED:
        return task == SLM_TASK_EMBED;
    }
    return 0;
}

static const char *kind_name(enum slm_request_kind kind)
{
    static const char *const names[] = {"generation", "chat", "classification",
                                        "token classification", "embedding", "tokenize",
                                        "detokenize"};
    return (unsigned)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

uint64_t slm_engine_submit(slm_engine *e, const char *model,
                           const struct slm_request_params *params,
                           const struct slm_request_callbacks *cb, slm_error *err)
{
    if (!model || !params || !cb) {
        slm_errorf(err, SLM_ERR_INVALID, "missing model name or parameters");
        return 0;
    }
    pthread_mutex_lock(&e->lock);
    struct model_entry *m = registry_find(e, model);
    if (!m) {
        pthread_mutex_unlock(&e->lock);
        slm_errorf(err, SLM_ERR_NOT_FOUND, "no model named '%s' is configured", model);
        return 0;
    }
    if (m->task != SLM_TASK_AUTO && !task_accepts(m->task, params->kind)) {
        pthread_mutex_unlock(&e->lock);
        slm_errorf(err, SLM_ERR_UNSUPPORTED, "model '%s' does %s, not %s", model,
                   slm_task_name(m->task), kind_name(params->kind));
        return 0;
    }
    if (e->n_queued_total >= e->config.max_queue) {
        m->requests_busy++;
        pthread_mutex_unlock(&e->lock);
        slm_errorf(err, SLM_ERR_BUSY, "the queue is full (%u requests waiting); try again "
                   "later", e->config.max_queue);
        return 0;
    }
    if (e->n_live == e->cap_live) {
        size_t cap = e->cap_live ? e->cap_live * 2 : 64;
        struct request **bigger = realloc(e->live, cap * sizeof(*bigger));
        if (!bigger) {
            pthread_mutex_unlock(&e->lock);
            slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
            return 0;
        }
        e->live = bigger;
        e->cap_live = cap;
    }
    struct request *r = request_new(e->next_request_id, params, cb, err);
    if (!r) {
        pthread_mutex_unlock(&e->lock);
        return 0;
    }
    e->next_request_id++;
    r->model = m;
    r->submitted_usec = engine_now_usec();
    uint64_t timeout = params->timeout_usec ? params->timeout_usec : e->config.request_timeout_usec;
    r->deadline_usec = timeout ? r->submitted_usec + timeout : 0;
    e->live[e->n_live++] = r;
    if (m->queue_tail)
        m->queue_tail->next_queued = r;
    else
        m->queue_head = r;
    m->queue_tail = r;
    m->n_queued++;
    e->n_queued_total++;
    m->last_used_usec = r->submitted_usec;
    m->unload_wanted = false;
    if (m->state != SLM_MODEL_READY && m->state != SLM_MODEL_LOADING) {
        m->load_wanted = true;
        pthread_cond_signal(&e->loader_cond);
    }
    pthread_cond_signal(&e->sched_cond);
    uint64_t id = r->id;
    pthread_mutex_unlock(&e->lock);
    return id;
}

void slm_engine_cancel(slm_engine *e, uint64_t id)
{
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < e->n_live; i++) {
        if (e->live[i]->id == id) {
            atomic_store(&e->live[i]->cancelled, true);
            pthread_cond_signal(&e->sched_cond);
            break;
        }
    }
    pthread_mutex_unlock(&e->lock);
}

/* ---- status ---- */

size_t slm_engine_models(slm_engine *e, struct slm_model_status *out, size_t cap)
{
    pthread_mutex_lock(&e->lock);
    size_t n = 0;
    for (struct model_entry *m = e->models; m; m = m->next) {
        if (m->draining && m->state != SLM_MODEL_READY)
            continue;
        if (n < cap) {
            struct slm_model_status *s = &out[n];
            memset(s, 0, sizeof(*s));
            snprintf(s->name, sizeof(s->name), "%s", m->spec.name);
            snprintf(s->path, sizeof(s->path), "%s", m->spec.path);
            snprintf(s->architecture, sizeof(s->architecture), "%s", m->architecture);
            snprintf(s->error, sizeof(s->error), "%s", m->error);
            s->task = m->task;
            s->state = m->draining ? SLM_MODEL_DRAINING : m->state;
            s->context = m->context ? m->context : m->spec.context;
            s->parallel = m->spec.parallel;
            s->active_sequences = m->n_active;
            s->queued = m->n_queued;
            s->weight_bytes = m->weight_bytes;
            s->kv_bytes = m->kv_bytes;
            s->requests_ok = m->requests_ok;
            s->requests_failed = m->requests_failed;
            s->requests_cancelled = m->requests_cancelled;
            s->requests_busy = m->requests_busy;
            s->prompt_tokens_total = m->prompt_tokens_total;
            s->generated_tokens_total = m->generated_tokens_total;
            s->prompt_cache_hits = m->prompt_cache_hits;
            s->generate_tokens_per_second = m->recent_tps;
        }
        n++;
    }
    pthread_mutex_unlock(&e->lock);
    return n;
}

static uint64_t resident_bytes(void)
{
    /* /proc/self/statm: size resident shared text lib data dt, in pages */
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long long size = 0, resident = 0;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    return n == 2 ? resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

void slm_engine_stats(slm_engine *e, struct slm_engine_stats *out)
{
    pthread_mutex_lock(&e->lock);
    out->queue_depth = e->n_queued_total;
    out->memory_used = e->memory_used;
    out->memory_limit = e->config.memory_limit;
    out->n_threads = e->config.n_threads;
    pthread_mutex_unlock(&e->lock);
    out->resident_bytes = resident_bytes();
}
