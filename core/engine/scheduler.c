/* The scheduler thread: admits queued requests into sequence slots (fairly across
 * clients), then runs steps. A decoder step is one forward pass advancing every active
 * sequence of a model together: one token for each generating sequence, plus prompt
 * chunks of newcomers (continuous batching). Encoder models run their queued texts as
 * padded batches. Models take turns step by step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "slm/tasks.h"

/* How often to check that model files were not changed on disk under us. */
#define FILE_CHECK_INTERVAL_USEC 250000u
/* Longest sleep when idle: keep_alive expiry is noticed within this. */
#define IDLE_WAKE_USEC 1000000u

struct step_buffers {
    int32_t *tokens;
    uint32_t *pos, *slot;
    bool *want;
    uint32_t *seq_of; /* batch index -> slot */
    uint32_t cap;
};

static int ensure_buffers(struct step_buffers *b, uint32_t n)
{
    if (n <= b->cap)
        return 0;
    free(b->tokens);
    free(b->pos);
    free(b->slot);
    free(b->want);
    free(b->seq_of);
    b->tokens = malloc(n * sizeof(*b->tokens));
    b->pos = malloc(n * sizeof(*b->pos));
    b->slot = malloc(n * sizeof(*b->slot));
    b->want = malloc(n * sizeof(*b->want));
    b->seq_of = malloc(n * sizeof(*b->seq_of));
    b->cap = (b->tokens && b->pos && b->slot && b->want && b->seq_of) ? n : 0;
    return b->cap ? 0 : -1;
}

static void free_buffers(struct step_buffers *b)
{
    free(b->tokens);
    free(b->pos);
    free(b->slot);
    free(b->want);
    free(b->seq_of);
}

/* ---- admission (lock held) ---- */

static uint32_t client_active(const struct model_entry *m, uint64_t client)
{
    uint32_t n = 0;
    if (m->seqs)
        for (uint32_t i = 0; i < m->spec.parallel; i++)
            if (m->seqs[i].req && m->seqs[i].req->p.client_id == client)
                n++;
    return n;
}

/* The oldest request of the client with the fewest running sequences: one client
 * flooding the queue cannot keep the others waiting behind it. */
static struct request *pop_fair(slm_engine *e, struct model_entry *m)
{
    struct request *best = NULL, *best_prev = NULL, *prev = NULL;
    uint32_t best_load = UINT32_MAX;
    for (struct request *r = m->queue_head; r; prev = r, r = r->next_queued) {
        uint32_t load = client_active(m, r->p.client_id);
        if (load < best_load) {
            best = r;
            best_prev = prev;
            best_load = load;
            if (load == 0)
                break;
        }
    }
    if (!best)
        return NULL;
    if (best_prev)
        best_prev->next_queued = best->next_queued;
    else
        m->queue_head = best->next_queued;
    if (m->queue_tail == best)
        m->queue_tail = best_prev;
    best->next_queued = NULL;
    m->n_queued--;
    e->n_queued_total--;
    return best;
}

/* Lock held on entry and exit; released around the work. */
static void finish_simple(slm_engine *e, struct model_entry *m, struct request *r)
{
    if (r->result.status == SLM_OK)
        m->requests_ok++;
    else if (r->result.status == SLM_ERR_CANCELLED)
        m->requests_cancelled++;
    else
        m->requests_failed++;
    engine_emit_done(e, r);
}

void engine_run_tokenize(struct model_entry *m, struct request *r)
{
    const slm_tokenizer *tok = slm_model_tokenizer(m->model);
    slm_error err;
    if (r->p.kind == SLM_REQ_TOKENIZE) {
        unsigned flags = (r->p.add_special ? SLM_TOKENIZE_ADD_SPECIAL : 0) |
                         (r->p.parse_special ? SLM_TOKENIZE_PARSE_SPECIAL : 0);
        struct slm_tokens t = {0};
        if (slm_tokenize(tok, r->p.text ? r->p.text : "", r->p.text_len, flags, false, &t,
                         &err) < 0) {
            request_fail(r, err.status, "%s", err.message);
            return;
        }
        r->out_tokens = t.ids;
        r->n_out_tokens = t.n;
        t.ids = NULL;
        slm_tokens_free(&t);
        r->result.tokens = r->out_tokens;
        r->result.n_tokens = r->n_out_tokens;
        r->result.prompt_tokens = (uint32_t)r->n_out_tokens;
        return;
    }
    uint32_t n_vocab = slm_tokenizer_n_vocab(tok);
    for (size_t i = 0; i < r->p.n_tokens; i++)
        if (r->p.tokens[i] < 0 || (uint32_t)r->p.tokens[i] >= n_vocab) {
            request_fail(r, SLM_ERR_INVALID, "token id %d is outside the vocabulary (0..%u)",
                         r->p.tokens[i], n_vocab - 1);
            return;
        }
    if (slm_detokenize(tok, r->p.tokens, r->p.n_tokens, false, &r->out_text, &r->out_len,
                       &err) < 0) {
        request_fail(r, err.status, "%s", err.message);
        return;
    }
    r->result.text = r->out_text;
    r->result.text_len = r->out_len;
}

/* Checks a request just taken off the queue; false if it was answered already. */
static bool still_wanted(slm_engine *e, struct model_entry *m, struct request *r)
{
    if (atomic_load(&r->cancelled)) {
        request_fail(r, SLM_ERR_CANCELLED, "the request was cancelled");
        finish_simple(e, m, r);
        return false;
    }
    if (r->deadline_usec && engine_now_usec() > r->deadline_usec) {
        request_fail(r, SLM_ERR_TIMEOUT, "the request waited past its timeout");
        finish_simple(e, m, r);
        return false;
    }
    if (r->p.kind == SLM_REQ_TOKENIZE || r->p.kind == SLM_REQ_DETOKENIZE) {
        pthread_mutex_unlock(&e->lock);
        engine_run_tokenize(m, r);
        pthread_mutex_lock(&e->lock);
        finish_simple(e, m, r);
        return false;
    }
    return true;
}

/* Requests cancelled (their client hung up) or past their deadline while they wait leave
 * the queue at once, whatever the model is doing: their callers hear now rather than when
 * a slot frees, and they stop counting against max_queue. Lock held. */
static void drop_abandoned(slm_engine *e, struct model_entry *m, uint64_t now)
{
    struct request **link = &m->queue_head, *prev = NULL;
    while (*link) {
        struct request *r = *link;
        bool cancelled = atomic_load(&r->cancelled);
        bool expired = r->deadline_usec && now > r->deadline_usec;
        if (!cancelled && !expired) {
            prev = r;
            link = &r->next_queued;
            continue;
        }
        *link = r->next_queued;
        if (m->queue_tail == r)
            m->queue_tail = prev;
        r->next_queued = NULL;
        m->n_queued--;
        e->n_queued_total--;
        if (cancelled)
            request_fail(r, SLM_ERR_CANCELLED, "the request was cancelled");
        else
            request_fail(r, SLM_ERR_TIMEOUT, "the request waited past its timeout");
        finish_simple(e, m, r);
    }
}

static void admit_decoder(slm_engine *e, struct model_entry *m)
{
    while (m->n_active < m->spec.parallel && m->queue_head) {
        struct request *r = pop_fair(e, m);
        if (!still_wanted(e, m, r))
            continue;
        if (r->p.kind != SLM_REQ_GENERATE && r->p.kind != SLM_REQ_CHAT) {
            request_fail(r, SLM_ERR_UNSUPPORTED, "model '%s' generates text; it does not "
                         "classify or embed", m->spec.name);
            finish_simple(e, m, r);
            continue;
        }
        m->n_active++;
        pthread_mutex_unlock(&e->lock);
        struct sequence s;
        slm_error err;
        int rc = sequence_start(e, m, &s, r, &err);
        pthread_mutex_lock(&e->lock);
        if (rc < 0) {
            m->n_active--;
            request_fail(r, err.status, "%s", err.message);
            finish_simple(e, m, r);
            continue;
        }
        uint32_t reuse = 0;
        uint32_t slot = prompt_cache_assign(m, s.tokens, s.n_tokens, &reuse);
        s.slot = slot;
        s.n_past = reuse;
        s.n_cached = reuse;
        if (reuse)
            m->prompt_cache_hits++;
        m->seqs[slot] = s;
    }
}

/* ---- decoder steps (lock not held) ---- */

static void finish_locked_counts(slm_engine *e, struct model_entry *m, struct sequence *s,
                                 enum slm_status st, const char *msg)
{
    sequence_finish(e, m, s, st, msg);
}

static void drop_cancelled(slm_engine *e, struct model_entry *m, uint64_t now)
{
    for (uint32_t i = 0; i < m->spec.parallel; i++) {
        struct sequence *s = &m->seqs[i];
        if (!s->req)
            continue;
        if (atomic_load(&s->req->cancelled))
            finish_locked_counts(e, m, s, SLM_ERR_CANCELLED, "the request was cancelled");
        else if (s->req->deadline_usec && now > s->req->deadline_usec)
            finish_locked_counts(e, m, s, SLM_ERR_TIMEOUT, "the request ran past its timeout");
    }
}

static uint32_t build_batch(struct model_entry *m, struct step_buffers *b)
{
    uint32_t n = 0, budget = m->max_batch;
    /* generating sequences first: one token each, so streams never wait for prompts */
    for (uint32_t i = 0; i < m->spec.parallel && n < budget; i++) {
        struct sequence *s = &m->seqs[i];
        if (!s->req || s->n_past + 1 != s->n_tokens)
            continue;
        b->tokens[n] = s->tokens[s->n_past];
        b->pos[n] = s->n_past;
        b->slot[n] = i;
        b->want[n] = true;
        b->seq_of[n] = i;
        n++;
    }
    /* then prompt chunks with what is left of the budget */
    for (uint32_t i = 0; i < m->spec.parallel && n < budget; i++) {
        struct sequence *s = &m->seqs[i];
        if (!s->req || s->n_past + 1 >= s->n_tokens)
            continue;
        uint32_t k = s->n_tokens - s->n_past;
        if (k > budget - n)
            k = budget - n;
        for (uint32_t j = 0; j < k; j++) {
            uint32_t p = s->n_past + j;
            b->tokens[n] = s->tokens[p];
            b->pos[n] = p;
            b->slot[n] = i;
            b->want[n] = p + 1 == s->n_tokens;
            b->seq_of[n] = i;
            n++;
        }
    }
    return n;
}

struct abort_check {
    struct model_entry *m;
    slm_engine *e;
};

/* Polled during the forward pass: a cancelled sequence in the batch (or shutdown) ends the
 * pass early so its slot frees at once; the others simply run again next step. */
static bool step_should_abort(void *ud)
{
    const struct abort_check *a = ud;
    for (uint32_t i = 0; i < a->m->spec.parallel; i++) {
        const struct request *r = a->m->seqs[i].req;
        if (r && atomic_load(&r->cancelled))
            return true;
    }
    return atomic_load(&a->e->stop_requested);
}

static void decoder_step(slm_engine *e, struct model_entry *m, struct step_buffers *b)
{
    drop_cancelled(e, m, engine_now_usec());
    if (ensure_buffers(b, m->max_batch) < 0)
        return;
    uint32_t n = build_batch(m, b);
    if (!n)
        return;
    struct slm_batch batch = {.n_tokens = n, .tokens = b->tokens, .pos = b->pos,
                              .slot = b->slot, .want_logits = b->want};
    slm_error err;
    struct abort_check ac = {m, e};
    slm_forward_ctx_set_abort(m->fwd, step_should_abort, &ac);
    int rc = slm_decode(m->fwd, m->kv, e->pool, &batch, m->logits, &err);
    slm_forward_ctx_set_abort(m->fwd, NULL, NULL);
    if (rc == -SLM_ERR_CANCELLED)
        return; /* nothing advanced; the cancelled sequence leaves at the next step */
    if (rc < 0) {
        for (uint32_t i = 0; i < m->spec.parallel; i++)
            if (m->seqs[i].req)
                sequence_finish(e, m, &m->seqs[i], err.status, err.message);
        return;
    }
    const uint32_t n_vocab = slm_model_info(m->model)->n_vocab;
    uint32_t row = 0;
    for (uint32_t t = 0; t < n; t++) {
        struct sequence *s = &m->seqs[b->seq_of[t]];
        s->n_past = b->pos[t] + 1;
        if (!b->want[t])
            continue;
        float *logits = m->logits + (size_t)row++ * n_vocab;
        int32_t token = slm_sampler_sample(s->sampler, logits);
        sequence_accept(e, m, s, token);
    }
}

/* ---- the loop ---- */

static bool has_decoder_work(const struct model_entry *m)
{
    return m->state == SLM_MODEL_READY && slm_model_info(m->model)->kind == SLM_MODEL_DECODER &&
           m->n_active > 0;
}

static bool has_encoder_work(const struct model_entry *m)
{
    return m->state == SLM_MODEL_READY && slm_model_info(m->model)->kind == SLM_MODEL_ENCODER &&
           m->queue_head;
}

static void check_files(slm_engine *e, uint64_t now, uint64_t *last)
{
    if (now - *last < FILE_CHECK_INTERVAL_USEC)
        return;
    *last = now;
    for (struct model_entry *m = e->models; m; m = m->next) {
        if (m->state != SLM_MODEL_READY || slm_model_files_intact(m->model))
            continue;
        /* The file was replaced or rewritten: finish what runs with an error, reload. */
        snprintf(m->error, sizeof(m->error), "model file %s changed on disk; reloading",
                 m->spec.path);
        m->unload_wanted = true;
        m->load_wanted = true;
        for (uint32_t i = 0; i < m->spec.parallel; i++)
            if (m->seqs[i].req)
                atomic_store(&m->seqs[i].req->cancelled, true);
        engine_emit_model_state(e, m, "%s", m->error);
    }
}

void *scheduler_main(void *arg)
{
    slm_engine *e = arg;
    struct step_buffers bufs = {0};
    unsigned turn = 0; /* round-robin over the models that have work */
    uint64_t last_file_check = 0;
    pthread_mutex_lock(&e->lock);
    while (!e->stopping) {
        uint64_t now = engine_now_usec();
        if (e->pool_threads_wanted) {
            /* no step runs now, so the pool can be swapped */
            slm_error err;
            slm_pool *fresh = slm_pool_new((int)e->pool_threads_wanted, &err);
            if (fresh) {
                slm_pool_free(e->pool);
                e->pool = fresh;
                e->config.n_threads = e->pool_threads_wanted;
            }
            e->pool_threads_wanted = 0;
        }
        check_files(e, now, &last_file_check);
        registry_check_idle(e, now);
        for (struct model_entry *m = e->models; m; m = m->next)
            drop_abandoned(e, m, now);
        for (struct model_entry *m = e->models; m; m = m->next)
            if (m->state == SLM_MODEL_READY && slm_model_info(m->model)->kind ==
                                                   SLM_MODEL_DECODER)
                admit_decoder(e, m);
        unsigned with_work = 0;
        for (struct model_entry *m = e->models; m; m = m->next)
            with_work += has_decoder_work(m) || has_encoder_work(m);
        struct model_entry *pick = NULL;
        if (with_work) {
            unsigned k = turn++ % with_work;
            for (struct model_entry *m = e->models; m && !pick; m = m->next)
                if ((has_decoder_work(m) || has_encoder_work(m)) && k-- == 0)
                    pick = m;
        }
        if (!pick) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += IDLE_WAKE_USEC / 1000000u;
            pthread_cond_timedwait(&e->sched_cond, &e->lock, &ts);
            continue;
        }
        if (has_encoder_work(pick)) {
            pick->n_active++; /* keeps it from being unloaded while the lock is released */
            pthread_mutex_unlock(&e->lock);
            encoder_run_batch(e, pick);
            pthread_mutex_lock(&e->lock);
            pick->n_active--;
        } else {
            pthread_mutex_unlock(&e->lock);
            decoder_step(e, pick, &bufs);
            pthread_mutex_lock(&e->lock);
        }
        pick->last_used_usec = engine_now_usec();
    }
    pthread_mutex_unlock(&e->lock);
    free_buffers(&bufs);
    return NULL;
}
