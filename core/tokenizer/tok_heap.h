/* A binary min-heap of candidate merges, so that merging a word of n symbols costs
 * O(n log n) instead of rescanning all pairs after every merge. The key orders
 * candidates exactly as the reference's priority queues do (best first, then leftmost). */
#ifndef SLM_TOKENIZER_TOK_HEAP_H
#define SLM_TOKENIZER_TOK_HEAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct tok_candidate {
    uint64_t key;   /* smaller is better */
    int32_t left;   /* symbol indices */
    int32_t right;
    uint32_t size;  /* bytes of the merged text when the candidate was made */
    uint32_t result; /* BPE: symbol produced */
};

struct tok_heap {
    struct tok_candidate *v;
    size_t n, cap;
};

static inline bool tok_heap_push(struct tok_heap *h, struct tok_candidate c)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct tok_candidate *v = (struct tok_candidate *)realloc(h->v, cap * sizeof(*v));
        if (!v)
            return false;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->v[parent].key <= c.key)
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = c;
    return true;
}

static inline struct tok_candidate tok_heap_pop(struct tok_heap *h)
{
    struct tok_candidate top = h->v[0];
    struct tok_candidate last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && h->v[child + 1].key < h->v[child].key)
            child++;
        if (last.key <= h->v[child].key)
            break;
        h->v[i] = h->v[child];
        i = child;
    }
    if (h->n > 0)
        h->v[i] = last;
    return top;
}

/* Orders float scores so that a higher score gives a smaller key (scores are finite or
 * infinite, never NaN: the loader refuses NaN). */
static inline uint32_t tok_score_key(float score)
{
    union {
        float f;
        uint32_t u;
    } v = {score == 0.0f ? 0.0f : score}; /* -0 ties with +0, as in the reference */
    /* map to unsigned order: negative floats reversed, positive above them */
    uint32_t ordered = (v.u & 0x80000000u) ? ~v.u : (v.u | 0x80000000u);
    return ~ordered;
}

#endif
