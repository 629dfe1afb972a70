#include "template/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/checked.h"

/* Chunks of 64 KiB amortise malloc for the many small values of a render; blocks above a
 * quarter of that get a chunk of their own so that a chunk never wastes more than 25%. */
#define CHUNK_SIZE ((size_t)64 * 1024)
#define BIG_BLOCK (CHUNK_SIZE / 4)
#define ALIGNMENT ((size_t)16)

struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(16) unsigned char data[];
};

struct tpl_arena {
    struct chunk *current; /* bump allocations go here */
    struct chunk *big;     /* dedicated chunks of big blocks */
    size_t limit;
    size_t bytes; /* taken from malloc so far */
    bool over_limit;
    void *last; /* newest block of `current`, which can grow in place */
    size_t last_size;
};

struct tpl_arena *tpl_arena_new(size_t limit)
{
    struct tpl_arena *arena = calloc(1, sizeof(*arena));
    if (arena) arena->limit = limit;
    return arena;
}

static void free_chunks(struct chunk *c)
{
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
}

void tpl_arena_free(struct tpl_arena *arena)
{
    if (!arena) return;
    free_chunks(arena->current);
    free_chunks(arena->big);
    free(arena);
}

static struct chunk *chunk_new(struct tpl_arena *arena, size_t size)
{
    size_t total, after;
    if (slm_add_size(sizeof(struct chunk), size, &total) ||
        slm_add_size(arena->bytes, total, &after) || after > arena->limit) {
        arena->over_limit = true;
        return NULL;
    }
    struct chunk *c = malloc(total);
    if (!c) return NULL;
    c->size = size;
    c->used = 0;
    arena->bytes += total;
    return c;
}

static size_t round_up(size_t size)
{
    return (size + ALIGNMENT - 1) & ~(ALIGNMENT - 1);
}

void *tpl_arena_alloc(struct tpl_arena *arena, size_t size)
{
    if (size == 0) size = 1;
    if (size > SIZE_MAX - ALIGNMENT) {
        arena->over_limit = true;
        return NULL;
    }
    size = round_up(size);
    if (size > BIG_BLOCK) {
        struct chunk *c = chunk_new(arena, size);
        if (!c) return NULL;
        c->used = size;
        c->next = arena->big;
        arena->big = c;
        return c->data;
    }
    struct chunk *c = arena->current;
    if (!c || c->size - c->used < size) {
        c = chunk_new(arena, CHUNK_SIZE);
        if (!c) return NULL;
        c->next = arena->current;
        arena->current = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    arena->last = p;
    arena->last_size = size;
    return p;
}

void *tpl_arena_zalloc(struct tpl_arena *arena, size_t size)
{
    void *p = tpl_arena_alloc(arena, size);
    if (p) memset(p, 0, size);
    return p;
}

void *tpl_arena_grow(struct tpl_arena *arena, void *old, size_t old_size, size_t new_size)
{
    if (!old) return tpl_arena_alloc(arena, new_size);
    if (new_size <= old_size) return old;
    struct chunk *c = arena->current;
    if (old == arena->last && c && new_size <= SIZE_MAX - ALIGNMENT) {
        size_t start = (size_t)((unsigned char *)old - c->data);
        size_t want = round_up(new_size);
        if (want <= c->size - start) {
            c->used = start + want;
            arena->last_size = want;
            return old;
        }
    }
    void *p = tpl_arena_alloc(arena, new_size);
    if (p) memcpy(p, old, old_size);
    return p;
}

char *tpl_arena_strndup(struct tpl_arena *arena, const char *s, size_t len)
{
    if (len == SIZE_MAX) return NULL;
    char *p = tpl_arena_alloc(arena, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

bool tpl_arena_over_limit(const struct tpl_arena *arena)
{
    return arena->over_limit;
}
