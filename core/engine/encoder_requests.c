/* Encoder requests (classify, token-classify, embed): texts queued for one model are taken
 * together, up to `parallel` at a time, and run as one padded batch. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "slm/tasks.h"
#include "util/cleanup.h"

static int compare_desc(const void *a, const void *b)
{
    double x = ((const struct slm_label_score *)a)->score;
    double y = ((const struct slm_label_score *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void classify_result(struct request *r, const struct slm_model_info *info,
                            const float *probs)
{
    r->labels = calloc(info->n_labels ? info->n_labels : 1, sizeof(*r->labels));
    if (!r->labels) {
        request_fail(r, SLM_ERR_NOMEM, "out of memory");
        return;
    }
    for (uint32_t i = 0; i < info->n_labels; i++) {
        r->labels[i].label = info->labels[i];
        r->labels[i].score = probs[i];
    }
    qsort(r->labels, info->n_labels, sizeof(*r->labels), compare_desc);
    r->result.labels = r->labels;
    r->result.n_labels = info->n_labels;
}

static void entities_result(struct request *r, const struct slm_entity_list *list)
{
    r->entities = calloc(list->n ? list->n : 1, sizeof(*r->entities));
    if (!r->entities) {
        request_fail(r, SLM_ERR_NOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        r->entities[i].label = list->items[i].label;
        r->entities[i].start = list->items[i].start;
        r->entities[i].end = list->items[i].end;
        r->entities[i].score = list->items[i].score;
    }
    r->result.entities = r->entities;
    r->result.n_entities = list->n;
}

/* Takes up to `max` wanted requests of one kind off the queue (lock held). */
static size_t take_batch(slm_engine *e, struct model_entry *m, struct request **out, size_t max)
{
    size_t n = 0;
    struct request **pp = &m->queue_head, *prev = NULL;
    enum slm_request_kind kind = m->queue_head->p.kind;
    while (*pp && n < max) {
        struct request *r = *pp;
        bool cancelled = atomic_load(&r->cancelled);
        bool expired = r->deadline_usec && engine_now_usec() > r->deadline_usec;
        if (r->p.kind != kind && !cancelled && !expired) {
            prev = r;
            pp = &r->next_queued;
            continue;
        }
        *pp = r->next_queued;
        if (m->queue_tail == r)
            m->queue_tail = prev;
        r->next_queued = NULL;
        m->n_queued--;
        e->n_queued_total--;
        if (cancelled || expired) {
            request_fail(r, cancelled ? SLM_ERR_CANCELLED : SLM_ERR_TIMEOUT,
                         cancelled ? "the request was cancelled"
                                   : "the request waited past its timeout");
            m->requests_cancelled += cancelled;
            m->requests_failed += !cancelled;
            engine_emit_done(e, r);
            continue;
        }
        out[n++] = r;
    }
    return n;
}

static void run_batch(slm_engine *e, struct model_entry *m, struct request **reqs, size_t n)
{
    const struct slm_model_info *info = slm_model_info(m->model);
    enum slm_request_kind kind = reqs[0]->p.kind;
    _cleanup_free_ struct slm_text *texts = calloc(n, sizeof(*texts));
    _cleanup_free_ bool *truncated = calloc(n, sizeof(*truncated));
    _cleanup_free_ uint32_t *n_tokens = calloc(n, sizeof(*n_tokens));
    if (!texts || !truncated || !n_tokens) {
        for (size_t i = 0; i < n; i++)
            request_fail(reqs[i], SLM_ERR_NOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++)
        texts[i] = (struct slm_text){reqs[i]->p.text ? reqs[i]->p.text : "", reqs[i]->p.text_len};
    slm_error err;
    int rc = 0;
    if (kind == SLM_REQ_CLASSIFY) {
        _cleanup_free_ float *probs = malloc(n * (info->n_labels ? info->n_labels : 1) * sizeof(float));
        rc = probs ? slm_task_classify(m->fwd, e->pool, n, texts, probs, truncated, n_tokens, &err)
                   : slm_errorf(&err, SLM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < n; i++)
            classify_result(reqs[i], info, probs + i * info->n_labels);
    } else if (kind == SLM_REQ_CLASSIFY_TOKENS) {
        _cleanup_free_ struct slm_entity_list *lists = calloc(n, sizeof(*lists));
        rc = lists ? slm_task_classify_tokens(m->fwd, e->pool, n, texts, lists, truncated, n_tokens,
                                            &err)
                   : slm_errorf(&err, SLM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; lists && i < n; i++) {
            if (rc == 0)
                entities_result(reqs[i], &lists[i]);
            slm_entity_list_free(&lists[i]);
        }
    } else if (kind == SLM_REQ_EMBED) {
        for (size_t i = 0; i < n; i++) {
            /* each vector is handed to its request, so one allocation per text */
            reqs[i]->embedding = malloc(info->n_embd * sizeof(float));
            if (!reqs[i]->embedding)
                rc = slm_errorf(&err, SLM_ERR_NOMEM, "out of memory");
        }
        _cleanup_free_ float *all = rc ? NULL : malloc(n * info->n_embd * sizeof(float));
        bool normalize = reqs[0]->p.embed_normalize;
        if (!rc)
            rc = all ? slm_task_embed(m->fwd, e->pool, n, texts, normalize, all, truncated, n_tokens,
                                  &err)
                     : slm_errorf(&err, SLM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            memcpy(reqs[i]->embedding, all + i * info->n_embd, info->n_embd * sizeof(float));
            reqs[i]->result.embedding = reqs[i]->embedding;
            reqs[i]->result.n_embedding = info->n_embd;
        }
    } else {
        rc = slm_errorf(&err, SLM_ERR_UNSUPPORTED, "model '%s' classifies or embeds; it does "
                        "not generate text", m->spec.name);
    }
    for (size_t i = 0; i < n; i++) {
        if (rc < 0)
            request_fail(reqs[i], err.status, "%s", err.message);
        reqs[i]->result.truncated = truncated[i];
        reqs[i]->result.prompt_tokens = n_tokens[i];
    }
}

void encoder_run_batch(slm_engine *e, struct model_entry *m)
{
    _cleanup_free_ struct request **reqs = calloc(m->spec.parallel, sizeof(*reqs));
    if (!reqs)
        return;
    pthread_mutex_lock(&e->lock);
    size_t n = 0;
    while (m->queue_head && !n) {
        n = take_batch(e, m, reqs, m->spec.parallel);
        /* tokenize/detokenize requests are answered one by one */
        while (n && (reqs[0]->p.kind == SLM_REQ_TOKENIZE || reqs[0]->p.kind == SLM_REQ_DETOKENIZE)) {
            for (size_t i = 0; i < n; i++) {
                struct request *r = reqs[i];
                pthread_mutex_unlock(&e->lock);
                engine_run_tokenize(m, r);
                pthread_mutex_lock(&e->lock);
                if (r->result.status == SLM_OK)
                    m->requests_ok++;
                else
                    m->requests_failed++;
                engine_emit_done(e, r);
            }
            n = 0;
        }
    }
    pthread_mutex_unlock(&e->lock);
    if (!n)
        return;
    run_batch(e, m, reqs, n);
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; i < n; i++) {
        if (reqs[i]->result.status == SLM_OK)
            m->requests_ok++;
        else
            m->requests_failed++;
        m->prompt_tokens_total += reqs[i]->result.prompt_tokens;
        engine_emit_done(e, reqs[i]);
    }
    pthread_mutex_unlock(&e->lock);
}
