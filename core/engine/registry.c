/* The model registry: configured entries, their states (declared → loading → ready /
 * failed), loading on the loader thread within memory_limit, unloading (explicit, idle
 * keep_alive, or removal from the config after in-flight requests finish). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "util/cleanup.h"

/* Context when neither the config nor a sane model value gives one. */
#define DEFAULT_CONTEXT 2048u
/* Tokens per forward pass: prompt chunks are cut to this, which bounds the scratch memory
 * and how long one step can keep other streams waiting. */
#define MAX_BATCH_TOKENS 512u
/* Context cap when the config says 0 and the model was trained on a huge one (128k):
 * a gateway should not reserve that much by accident. */
#define MAX_DEFAULT_CONTEXT 4096u

struct model_entry *registry_find(slm_engine *e, const char *name)
{
    for (struct model_entry *m = e->models; m; m = m->next)
        if (!m->draining && !strcmp(m->spec.name, name))
            return m;
    return NULL;
}

static void free_spec_strings(struct slm_model_spec *s)
{
    free((char *)s->name);
    free((char *)s->path);
}

static void free_loaded(struct model_entry *m)
{
    if (m->seqs) {
        for (uint32_t i = 0; i < m->spec.parallel; i++)
            sequence_release(&m->seqs[i]);
        free(m->seqs);
        m->seqs = NULL;
    }
    if (m->slots) {
        for (uint32_t i = 0; i < m->spec.parallel; i++)
            free(m->slots[i].tokens);
        free(m->slots);
        m->slots = NULL;
    }
    free(m->logits);
    m->logits = NULL;
    slm_forward_ctx_free(m->fwd);
    m->fwd = NULL;
    slm_kv_cache_free(m->kv);
    m->kv = NULL;
    slm_model_free(m->model);
    m->model = NULL;
}

void registry_free_entry(struct model_entry *m)
{
    if (!m)
        return;
    free_loaded(m);
    free_spec_strings(&m->spec);
    free(m);
}

bool registry_is_idle(const struct model_entry *m) { return !m->n_active && !m->n_queued; }

/* Lock held. Frees a READY model's memory and marks it declared again. */
void registry_unload_locked(slm_engine *e, struct model_entry *m)
{
    if (m->state != SLM_MODEL_READY)
        return;
    e->memory_used -= m->weight_bytes + m->kv_bytes;
    free_loaded(m);
    m->weight_bytes = m->kv_bytes = 0;
    m->state = SLM_MODEL_DECLARED;
    m->unload_wanted = false;
    engine_emit_model_state(e, m, "unloaded");
    if (m->load_wanted) /* unloaded to be reloaded (its file changed) */
        pthread_cond_signal(&e->loader_cond);
}

/* Lock held: removes entries that finished draining. */
void registry_reap(slm_engine *e)
{
    struct model_entry **pp = &e->models;
    while (*pp) {
        struct model_entry *m = *pp;
        if (m->draining && registry_is_idle(m) && m->state != SLM_MODEL_LOADING) {
            if (m->state == SLM_MODEL_READY)
                registry_unload_locked(e, m);
            *pp = m->next;
            registry_free_entry(m);
            continue;
        }
        pp = &m->next;
    }
}

/* Lock held: keep_alive expiry and unloads that waited for the model to go idle. */
void registry_check_idle(slm_engine *e, uint64_t now)
{
    for (struct model_entry *m = e->models; m; m = m->next) {
        if (m->state != SLM_MODEL_READY || !registry_is_idle(m))
            continue;
        bool expired = m->spec.keep_alive_usec && now - m->last_used_usec >= m->spec.keep_alive_usec;
        if (m->unload_wanted || expired)
            registry_unload_locked(e, m);
    }
    registry_reap(e);
}

/* ---- configure ---- */

static bool valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int validate_specs(const struct slm_model_spec *specs, size_t n, slm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct slm_model_spec *s = &specs[i];
        if (!valid_name(s->name))
            return slm_errorf(err, SLM_ERR_INVALID, "model name '%s' must be 1 to 64 of "
                              "A-Z a-z 0-9 . _ -", s->name ? s->name : "");
        if (!s->path || !*s->path)
            return slm_errorf(err, SLM_ERR_INVALID, "model '%s' has no path", s->name);
        if (s->parallel < 1 || s->parallel > 64)
            return slm_errorf(err, SLM_ERR_INVALID, "model '%s': parallel %u is out of range "
                              "(1 to 64)", s->name, s->parallel);
        if (s->context > (1u << 20))
            return slm_errorf(err, SLM_ERR_INVALID, "model '%s': context %u is out of range",
                              s->name, s->context);
        if (s->kv_type != SLM_TYPE_F16 && s->kv_type != SLM_TYPE_F32 &&
            s->kv_type != SLM_TYPE_Q8_0)
            return slm_errorf(err, SLM_ERR_UNSUPPORTED, "model '%s': KV cache type %s is not "
                              "supported", s->name, slm_type_name(s->kv_type));
        if (slm_sampling_validate(&s->defaults, err) < 0) {
            slm_error_prefix(err, s->name);
            return -(int)err->status;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(specs[j].name, s->name))
                return slm_errorf(err, SLM_ERR_INVALID, "model name '%s' is used twice",
                                  s->name);
    }
    return 0;
}

static struct model_entry *entry_new(const struct slm_model_spec *s)
{
    struct model_entry *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->spec = *s;
    m->spec.name = strdup(s->name);
    m->spec.path = strdup(s->path);
    if (!m->spec.name || !m->spec.path) {
        registry_free_entry(m);
        return NULL;
    }
    m->task = s->task;
    m->state = SLM_MODEL_DECLARED;
    return m;
}

int slm_engine_configure(slm_engine *e, const struct slm_model_spec *specs, size_t n,
                         slm_error *err)
{
    int r = validate_specs(specs, n, err);
    if (r < 0)
        return r;
    /* Build the new entries first so that running out of memory changes nothing. */
    _cleanup_free_ struct model_entry **fresh = calloc(n ? n : 1, sizeof(*fresh));
    if (!fresh)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < n; i++) {
        struct model_entry *old = registry_find(e, specs[i].name);
        if (old && slm_model_spec_equal(&old->spec, &specs[i]))
            continue; /* unchanged: stays resident */
        if (!(fresh[i] = entry_new(&specs[i]))) {
            for (size_t j = 0; j < i; j++)
                registry_free_entry(fresh[j]);
            pthread_mutex_unlock(&e->lock);
            return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        }
    }
    /* Entries that are gone or changed drain: queued and running requests finish. */
    for (struct model_entry *m = e->models; m; m = m->next) {
        if (m->draining)
            continue;
        bool keep = false;
        for (size_t i = 0; i < n; i++)
            if (!fresh[i] && !strcmp(specs[i].name, m->spec.name))
                keep = true;
        if (!keep) {
            m->draining = true;
            m->load_wanted = false;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!fresh[i])
            continue;
        fresh[i]->next = e->models;
        e->models = fresh[i];
        if (fresh[i]->spec.preload) {
            fresh[i]->load_wanted = true;
            fresh[i]->preload_pending = true;
        }
    }
    registry_reap(e);
    pthread_cond_broadcast(&e->loader_cond);
    pthread_cond_broadcast(&e->sched_cond);
    pthread_mutex_unlock(&e->lock);
    return 0;
}

bool slm_engine_preloads_done(const slm_engine *ce)
{
    slm_engine *e = (slm_engine *)ce;
    pthread_mutex_lock(&e->lock);
    bool done = true;
    for (struct model_entry *m = e->models; m; m = m->next)
        if (m->preload_pending)
            done = false;
    pthread_mutex_unlock(&e->lock);
    return done;
}

int slm_engine_load(slm_engine *e, const char *name, slm_error *err)
{
    pthread_mutex_lock(&e->lock);
    struct model_entry *m = registry_find(e, name);
    if (!m) {
        pthread_mutex_unlock(&e->lock);
        return slm_errorf(err, SLM_ERR_NOT_FOUND, "no model named '%s' is configured", name);
    }
    m->unload_wanted = false;
    if (m->state != SLM_MODEL_READY && m->state != SLM_MODEL_LOADING) {
        m->load_wanted = true;
        pthread_cond_signal(&e->loader_cond);
    }
    pthread_mutex_unlock(&e->lock);
    return 0;
}

int slm_engine_unload(slm_engine *e, const char *name, slm_error *err)
{
    pthread_mutex_lock(&e->lock);
    struct model_entry *m = registry_find(e, name);
    if (!m) {
        pthread_mutex_unlock(&e->lock);
        return slm_errorf(err, SLM_ERR_NOT_FOUND, "no model named '%s' is configured", name);
    }
    m->load_wanted = false;
    if (m->state == SLM_MODEL_READY) {
        if (registry_is_idle(m))
            registry_unload_locked(e, m);
        else
            m->unload_wanted = true; /* after the running requests */
    }
    pthread_cond_signal(&e->sched_cond);
    pthread_mutex_unlock(&e->lock);
    return 0;
}

/* ---- the loader thread ---- */

static enum slm_task resolve_task(const struct slm_model_spec *spec, const slm_model *model)
{
    const struct slm_model_info *info = slm_model_info(model);
    if (spec->task != SLM_TASK_AUTO)
        return spec->task;
    if (info->kind == SLM_MODEL_DECODER)
        return info->chat_template ? SLM_TASK_CHAT : SLM_TASK_GENERATE;
    switch (info->head) {
    case SLM_HEAD_SEQUENCE_CLASS: return SLM_TASK_CLASSIFY;
    case SLM_HEAD_TOKEN_CLASS: return SLM_TASK_TOKEN_CLASSIFY;
    default: return SLM_TASK_EMBED;
    }
}

static int check_task(const struct slm_model_spec *spec, const slm_model *model,
                      enum slm_task task, slm_error *err)
{
    const struct slm_model_info *info = slm_model_info(model);
    bool decoder = info->kind == SLM_MODEL_DECODER;
    bool ok = decoder ? (task == SLM_TASK_GENERATE || task == SLM_TASK_CHAT)
                      : (task == SLM_TASK_EMBED ||
                         (task == SLM_TASK_CLASSIFY && info->head == SLM_HEAD_SEQUENCE_CLASS) ||
                         (task == SLM_TASK_TOKEN_CLASSIFY && info->head == SLM_HEAD_TOKEN_CLASS));
    if (!ok)
        return slm_errorf(err, SLM_ERR_INVALID, "%s: task '%s' does not fit a %s %s model",
                          spec->path, slm_task_name(task), info->architecture,
                          decoder ? "decoder" : "encoder");
    return 0;
}

struct loaded {
    slm_model *model;
    slm_kv_cache *kv;
    slm_forward_ctx *fwd;
    struct sequence *seqs;
    struct slot_state *slots;
    float *logits;
    uint32_t context, max_batch;
    enum slm_task task;
    uint64_t kv_bytes;
};

static void loaded_free(struct loaded *l)
{
    free(l->seqs);
    free(l->slots);
    free(l->logits);
    slm_forward_ctx_free(l->fwd);
    slm_kv_cache_free(l->kv);
    slm_model_free(l->model);
}

/* Everything that can take long or fail, done without the lock. The memory check needs
 * the current usage, which the caller re-checks under the lock before committing. */
static int load_unlocked(const struct slm_model_spec *spec, uint64_t memory_free,
                         struct loaded *out, slm_error *err)
{
    memset(out, 0, sizeof(*out));
    out->model = slm_model_load(spec->path, err);
    if (!out->model)
        return -(int)err->status;
    const struct slm_model_info *info = slm_model_info(out->model);
    out->task = resolve_task(spec, out->model);
    int r = check_task(spec, out->model, out->task, err);
    if (r < 0)
        return r;
    uint32_t ctx = spec->context;
    if (!ctx) {
        ctx = info->n_ctx_train ? info->n_ctx_train : DEFAULT_CONTEXT;
        if (ctx > MAX_DEFAULT_CONTEXT)
            ctx = MAX_DEFAULT_CONTEXT;
    }
    if (info->kind == SLM_MODEL_ENCODER && info->n_ctx_train && ctx > info->n_ctx_train)
        ctx = info->n_ctx_train;
    out->context = ctx;
    uint32_t parallel = spec->parallel;
    if (info->kind == SLM_MODEL_DECODER)
        out->kv_bytes = slm_kv_cache_bytes_for(out->model, parallel, ctx, spec->kv_type);
    uint64_t need = info->weight_bytes + out->kv_bytes;
    if (memory_free != UINT64_MAX && need > memory_free)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s needs %llu MiB (weights %llu MiB + KV cache "
                          "%llu MiB for %u x %u tokens) but memory_limit leaves %llu MiB; "
                          "lower context or parallel, or raise memory_limit", spec->name,
                          (unsigned long long)(need >> 20),
                          (unsigned long long)(info->weight_bytes >> 20),
                          (unsigned long long)(out->kv_bytes >> 20), parallel, ctx,
                          (unsigned long long)(memory_free >> 20));
    if (info->kind == SLM_MODEL_DECODER) {
        out->kv = slm_kv_cache_new(out->model, parallel, ctx, spec->kv_type, err);
        if (!out->kv)
            return -(int)err->status;
        out->max_batch = MAX_BATCH_TOKENS > parallel ? MAX_BATCH_TOKENS : parallel;
        out->logits = malloc((size_t)parallel * info->n_vocab * sizeof(float));
        out->slots = calloc(parallel, sizeof(*out->slots));
    } else {
        /* encoders batch whole texts: room for `parallel` texts of full length */
        uint64_t tokens = (uint64_t)parallel * ctx;
        out->max_batch = tokens > 65536 ? 65536 : (uint32_t)tokens;
    }
    out->seqs = calloc(parallel, sizeof(*out->seqs));
    out->fwd = slm_forward_ctx_new(out->model, out->max_batch, err);
    if (!out->fwd)
        return -(int)err->status;
    if (!out->seqs || (info->kind == SLM_MODEL_DECODER && (!out->logits || !out->slots)))
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", spec->name);
    return 0;
}

/* Lock held: fails every queued request of a model whose load failed. */
static void fail_queue(slm_engine *e, struct model_entry *m)
{
    struct request *r = m->queue_head;
    m->queue_head = m->queue_tail = NULL;
    e->n_queued_total -= m->n_queued;
    m->n_queued = 0;
    while (r) {
        struct request *next = r->next_queued;
        request_fail(r, SLM_ERR_UNSUPPORTED, "model '%s' failed to load: %s", m->spec.name,
                     m->error);
        m->requests_failed++;
        engine_emit_done(e, r);
        r = next;
    }
}

static struct model_entry *next_to_load(slm_engine *e)
{
    for (struct model_entry *m = e->models; m; m = m->next)
        if (m->load_wanted && !m->draining && m->state != SLM_MODEL_READY &&
            m->state != SLM_MODEL_LOADING)
            return m;
    return NULL;
}

void *loader_main(void *arg)
{
    slm_engine *e = arg;
    pthread_mutex_lock(&e->lock);
    while (!e->stopping) {
        struct model_entry *m = next_to_load(e);
        if (!m) {
            pthread_cond_wait(&e->loader_cond, &e->lock);
            continue;
        }
        m->load_wanted = false;
        m->state = SLM_MODEL_LOADING;
        m->error[0] = '\0';
        engine_emit_model_state(e, m, "loading %s", m->spec.path);
        struct slm_model_spec spec = m->spec; /* strings stay owned by m, which lives on */
        uint64_t limit = e->config.memory_limit;
        uint64_t memory_free = limit ? (limit > e->memory_used ? limit - e->memory_used : 0)
                                     : UINT64_MAX;
        pthread_mutex_unlock(&e->lock);

        struct loaded l;
        slm_error err;
        uint64_t t0 = engine_now_usec();
        int r = load_unlocked(&spec, memory_free, &l, &err);
        uint64_t t1 = engine_now_usec();

        pthread_mutex_lock(&e->lock);
        if (r == 0 && limit && e->memory_used + slm_model_info(l.model)->weight_bytes +
                                       l.kv_bytes > limit) {
            r = slm_errorf(&err, SLM_ERR_LIMIT, "%s: memory_limit reached while loading; "
                           "another model took the memory", spec.name);
        }
        m->preload_pending = false;
        if (r < 0) {
            loaded_free(&l);
            m->state = SLM_MODEL_FAILED;
            snprintf(m->error, sizeof(m->error), "%s", err.message);
            engine_emit_model_state(e, m, "%s", err.message);
            fail_queue(e, m);
        } else {
            const struct slm_model_info *info = slm_model_info(l.model);
            m->model = l.model;
            m->kv = l.kv;
            m->fwd = l.fwd;
            m->seqs = l.seqs;
            m->slots = l.slots;
            m->logits = l.logits;
            m->context = l.context;
            m->max_batch = l.max_batch;
            m->task = l.task;
            m->weight_bytes = info->weight_bytes;
            m->kv_bytes = l.kv_bytes;
            snprintf(m->architecture, sizeof(m->architecture), "%s", info->architecture);
            e->memory_used += m->weight_bytes + m->kv_bytes;
            m->state = SLM_MODEL_READY;
            m->last_used_usec = engine_now_usec();
            engine_emit_model_state(e, m, "ready: %s, %s, %llu MiB weights, %u x %u context, "
                                    "loaded in %llu ms", info->architecture,
                                    slm_task_name(m->task),
                                    (unsigned long long)(m->weight_bytes >> 20),
                                    m->spec.parallel, m->context,
                                    (unsigned long long)((t1 - t0) / 1000));
        }
        pthread_cond_broadcast(&e->sched_cond);
    }
    pthread_mutex_unlock(&e->lock);
    return NULL;
}
