#include "tokenizer/id_index.h"

#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "util/strmap.h"

static bool alloc_slots(uint32_t **slots, uint32_t *mask, size_t expected)
{
    /* Load factor at most 1/2 keeps linear probes short. Vocabularies are capped far
     * below 2^30 entries, so the capacity fits in 32 bits. */
    size_t cap = 16;
    while (cap < expected * 2 && cap < ((size_t)1 << 31))
        cap <<= 1;
    *slots = calloc(cap, sizeof(**slots));
    *mask = *slots ? (uint32_t)(cap - 1) : 0;
    return *slots != NULL;
}

bool tok_id_index_init(struct tok_id_index *ix, size_t expected)
{
    return alloc_slots(&ix->slots, &ix->mask, expected);
}

void tok_id_index_deinit(struct tok_id_index *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->mask = 0;
}

static bool same_text(const char *arena, const struct tok_token *t, const char *text,
                      size_t len)
{
    return t->len == len && memcmp(arena + t->offset, text, len) == 0;
}

int64_t tok_id_index_insert(struct tok_id_index *ix, const char *arena,
                            const struct tok_token *tokens, const char *text, uint32_t len,
                            uint32_t id)
{
    uint32_t i = slm_strmap_hash(text, len) & ix->mask;
    for (;; i = (i + 1) & ix->mask) {
        uint32_t s = ix->slots[i];
        if (!s) {
            ix->slots[i] = id + 1;
            return -1;
        }
        if (same_text(arena, &tokens[s - 1], text, len))
            return s - 1;
    }
}

int64_t tok_id_index_find(const struct tok_id_index *ix, const char *arena,
                          const struct tok_token *tokens, const char *text, size_t len)
{
    if (!ix->slots)
        return -1;
    uint32_t i = slm_strmap_hash(text, len) & ix->mask;
    for (;; i = (i + 1) & ix->mask) {
        uint32_t s = ix->slots[i];
        if (!s)
            return -1;
        if (same_text(arena, &tokens[s - 1], text, len))
            return s - 1;
    }
}

bool tok_pair_index_init(struct tok_pair_index *ix, size_t expected)
{
    return alloc_slots(&ix->slots, &ix->mask, expected);
}

void tok_pair_index_deinit(struct tok_pair_index *ix)
{
    free(ix->slots);
    ix->slots = NULL;
    ix->mask = 0;
}

/* A 64-bit mix (the murmur3 finalizer) of the two symbol ids. */
static uint32_t pair_hash(uint32_t left, uint32_t right)
{
    uint64_t k = ((uint64_t)left << 32) | right;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return (uint32_t)k;
}

bool tok_pair_index_insert(struct tok_pair_index *ix, const struct tok_merge *merges,
                           uint32_t m)
{
    uint32_t left = merges[m].left, right = merges[m].right;
    uint32_t i = pair_hash(left, right) & ix->mask;
    for (;; i = (i + 1) & ix->mask) {
        uint32_t s = ix->slots[i];
        if (!s) {
            ix->slots[i] = m + 1;
            return true;
        }
        if (merges[s - 1].left == left && merges[s - 1].right == right)
            return false;
    }
}

int64_t tok_pair_index_find(const struct tok_pair_index *ix, const struct tok_merge *merges,
                            uint32_t left, uint32_t right)
{
    if (!ix->slots)
        return -1;
    uint32_t i = pair_hash(left, right) & ix->mask;
    for (;; i = (i + 1) & ix->mask) {
        uint32_t s = ix->slots[i];
        if (!s)
            return -1;
        if (merges[s - 1].left == left && merges[s - 1].right == right)
            return s - 1;
    }
}
