/* A hash map from byte strings to 64-bit values, with open addressing.
 *
 * Keys are not copied: the caller keeps them alive (they usually point into a mapped model
 * file or a vocabulary array). Used for vocabularies (100k+ entries), merge ranks and the
 * uniqueness checks of file parsers, where a quadratic scan would let a crafted file stall
 * the loader. */
#ifndef SLM_UTIL_STRMAP_H
#define SLM_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct slm_strmap_entry {
    const char *key; /* NULL = empty slot */
    uint32_t len;
    uint32_t hash;
    int64_t value;
};

typedef struct slm_strmap {
    struct slm_strmap_entry *slots;
    size_t cap; /* power of two */
    size_t count;
} slm_strmap;

/* Sized for `expected` keys; returns false on allocation failure. */
bool slm_strmap_init(slm_strmap *m, size_t expected);
void slm_strmap_deinit(slm_strmap *m);

uint32_t slm_strmap_hash(const char *key, size_t len);

/* Inserts key → value. If the key is present, leaves the map unchanged and returns false
 * with *existing (if not NULL) set to the stored value. Returns false also when memory
 * runs out (then *existing is untouched and `m->count` unchanged): callers that care
 * check slm_strmap_get first. Keys longer than UINT32_MAX bytes are refused. */
bool slm_strmap_put(slm_strmap *m, const char *key, size_t len, int64_t value,
                    int64_t *existing);

/* Looks a key up; true and *value set if found. */
bool slm_strmap_get(const slm_strmap *m, const char *key, size_t len, int64_t *value);

#endif
