#include "strmap.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a: simple, good enough for token strings, and with no data-dependent worst case
 * that a crafted vocabulary could exploit beyond ordinary collisions. */
uint32_t slm_strmap_hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)key[i];
        h *= 16777619u;
    }
    return h;
}

bool slm_strmap_init(slm_strmap *m, size_t expected)
{
    size_t cap = 16;
    while (cap < expected * 2 && cap < ((size_t)1 << (sizeof(size_t) * 8 - 2)))
        cap <<= 1;
    m->slots = calloc(cap, sizeof(*m->slots));
    m->cap = m->slots ? cap : 0;
    m->count = 0;
    return m->slots != NULL;
}

void slm_strmap_deinit(slm_strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

static struct slm_strmap_entry *find_slot(struct slm_strmap_entry *slots, size_t cap,
                                          const char *key, uint32_t len, uint32_t hash)
{
    size_t mask = cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct slm_strmap_entry *e = &slots[i];
        if (!e->key)
            return e;
        if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
            return e;
    }
}

static bool grow(slm_strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    struct slm_strmap_entry *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return false;
    for (size_t i = 0; i < m->cap; i++) {
        struct slm_strmap_entry *e = &m->slots[i];
        if (e->key)
            *find_slot(slots, cap, e->key, e->len, e->hash) = *e;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return true;
}

bool slm_strmap_put(slm_strmap *m, const char *key, size_t len, int64_t value,
                    int64_t *existing)
{
    if (len > UINT32_MAX)
        return false;
    /* keep the load factor under 1/2 so probes stay short */
    if ((m->count + 1) * 2 > m->cap && !grow(m))
        return false;
    uint32_t hash = slm_strmap_hash(key, len);
    struct slm_strmap_entry *e = find_slot(m->slots, m->cap, key, (uint32_t)len, hash);
    if (e->key) {
        if (existing)
            *existing = e->value;
        return false;
    }
    /* an empty key still needs a non-NULL pointer to mark the slot used */
    e->key = key ? key : "";
    e->len = (uint32_t)len;
    e->hash = hash;
    e->value = value;
    m->count++;
    return true;
}

bool slm_strmap_get(const slm_strmap *m, const char *key, size_t len, int64_t *value)
{
    if (!m->cap || len > UINT32_MAX)
        return false;
    uint32_t hash = slm_strmap_hash(key, len);
    const struct slm_strmap_entry *e =
        find_slot(m->slots, m->cap, key, (uint32_t)len, hash);
    if (!e->key)
        return false;
    if (value)
        *value = e->value;
    return true;
}
