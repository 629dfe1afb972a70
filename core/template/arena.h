/* A bump allocator for one compile or one render: everything a template run creates lives
 * until the run ends and is released at once. That keeps the interpreter free of ownership
 * bookkeeping (values may form cycles through list.append or namespaces) and makes memory
 * easy to bound: the arena refuses to grow past its limit. */
#ifndef SLM_TEMPLATE_ARENA_H
#define SLM_TEMPLATE_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct tpl_arena;

/* `limit` bounds the bytes the arena may take from malloc, chunk headers included. */
struct tpl_arena *tpl_arena_new(size_t limit);
void tpl_arena_free(struct tpl_arena *arena);

/* Returns NULL when the limit would be passed or malloc fails; tpl_arena_over_limit() tells
 * which. Memory is 16-byte aligned and uninitialised. */
void *tpl_arena_alloc(struct tpl_arena *arena, size_t size);
void *tpl_arena_zalloc(struct tpl_arena *arena, size_t size);
/* Grows a block; the newest block grows in place when it can. */
void *tpl_arena_grow(struct tpl_arena *arena, void *old, size_t old_size, size_t new_size);
char *tpl_arena_strndup(struct tpl_arena *arena, const char *s, size_t len);

bool tpl_arena_over_limit(const struct tpl_arena *arena);

#endif
