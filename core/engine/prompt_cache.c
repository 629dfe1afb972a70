/* The prompt cache: each sequence slot remembers which tokens its KV cache holds. A new
 * request takes the free slot whose tokens share the longest prefix with its prompt (the
 * same system prompt, the same chat history), and skips recomputing that prefix. When a
 * running sequence shares a longer prefix than any free slot, that prefix is copied from
 * its slot. Bounded by the number of slots; a free slot with nothing to reuse is picked
 * least-recently-used, so the most recent prefixes survive. */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

/* A copy between slots costs memory bandwidth; below this many tokens, recomputing is as
 * cheap and keeps the free slot's own prefix for someone else. */
#define MIN_COPY_TOKENS 16

static uint32_t common_prefix(const int32_t *a, uint32_t na, const int32_t *b, uint32_t nb)
{
    uint32_t n = na < nb ? na : nb, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}

uint32_t prompt_cache_assign(struct model_entry *m, const int32_t *tokens, uint32_t n,
                             uint32_t *reuse)
{
    const uint32_t slots = m->spec.parallel;
    int best = -1, lru = -1;
    uint32_t best_len = 0;
    for (uint32_t i = 0; i < slots; i++) {
        struct slot_state *st = &m->slots[i];
        if (st->busy)
            continue;
        uint32_t len = common_prefix(st->tokens, st->n_tokens, tokens, n);
        if (len > best_len) {
            best = (int)i;
            best_len = len;
        }
        if (lru < 0 || st->last_used < m->slots[lru].last_used)
            lru = (int)i;
    }
    if (lru < 0)
        return UINT32_MAX; /* no free slot: the caller checked, so this does not happen */
    /* a running sequence may hold a longer prefix */
    int src = -1;
    uint32_t src_len = best_len;
    for (uint32_t i = 0; i < slots; i++) {
        const struct sequence *s = &m->seqs[i];
        if (!m->slots[i].busy || !s->req)
            continue;
        uint32_t len = common_prefix(s->tokens, s->n_past, tokens, n);
        if (len >= MIN_COPY_TOKENS && len > src_len) {
            src = (int)i;
            src_len = len;
        }
    }
    uint32_t slot;
    if (src >= 0) {
        slot = (uint32_t)(best >= 0 ? best : lru);
        slm_kv_cache_copy_prefix(m->kv, (uint32_t)src, slot, src_len);
        best_len = src_len;
    } else {
        slot = (uint32_t)(best >= 0 ? best : lru);
    }
    /* the last prompt token is always recomputed: its logits start the generation */
    if (best_len >= n)
        best_len = n - 1;
    m->slots[slot].busy = true;
    m->slots[slot].last_used = ++m->slot_clock;
    m->slots[slot].n_tokens = 0; /* rewritten from best_len on; recorded again at the end */
    *reuse = best_len;
    return slot;
}

void prompt_cache_record(struct model_entry *m, uint32_t slot, const int32_t *tokens,
                         uint32_t n)
{
    struct slot_state *st = &m->slots[slot];
    st->busy = false;
    st->last_used = ++m->slot_clock;
    if (n > st->cap) {
        int32_t *bigger = realloc(st->tokens, n * sizeof(*bigger));
        if (!bigger) {
            st->n_tokens = 0; /* forget rather than lie */
            return;
        }
        st->tokens = bigger;
        st->cap = n;
    }
    if (n)
        memcpy(st->tokens, tokens, n * sizeof(*tokens));
    st->n_tokens = n;
}
