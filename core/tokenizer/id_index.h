/* Compact hash indexes for vocabularies.
 *
 * util/strmap stores key pointer, length, hash and value per slot (24 bytes); a 150k-token
 * vocabulary plus its merges would spend ~12 MB on slots alone, a third of slmd's
 * resident budget. These indexes store only a 4-byte entry number per slot and compare
 * keys against the arrays they index, which keeps the same tables under 3 MB. */
#ifndef SLM_TOKENIZER_ID_INDEX_H
#define SLM_TOKENIZER_ID_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* String → id. The caller supplies each id's text through `texts`/`lens`. */
struct tok_id_index {
    uint32_t *slots; /* id + 1; 0 = empty */
    uint32_t mask;   /* capacity - 1 (capacity a power of two, at least twice the count) */
};

bool tok_id_index_init(struct tok_id_index *ix, size_t expected);
void tok_id_index_deinit(struct tok_id_index *ix);
/* Inserts id under (text, len); returns the id already stored under that text, or -1
 * after inserting. The texts of stored ids are read through `arena + offsets[id]`. */
struct tok_token;
int64_t tok_id_index_insert(struct tok_id_index *ix, const char *arena,
                            const struct tok_token *tokens, const char *text, uint32_t len,
                            uint32_t id);
int64_t tok_id_index_find(const struct tok_id_index *ix, const char *arena,
                          const struct tok_token *tokens, const char *text, size_t len);

/* (left, right) → merge number. */
struct tok_merge;
struct tok_pair_index {
    uint32_t *slots; /* merge number + 1 */
    uint32_t mask;
};
bool tok_pair_index_init(struct tok_pair_index *ix, size_t expected);
void tok_pair_index_deinit(struct tok_pair_index *ix);
/* Inserts merge m unless the pair is present (the first merge of a pair keeps its rank,
 * as the reference's map emplace does); returns true if inserted. */
bool tok_pair_index_insert(struct tok_pair_index *ix, const struct tok_merge *merges,
                           uint32_t m);
/* Merge number of (left, right), or -1. */
int64_t tok_pair_index_find(const struct tok_pair_index *ix, const struct tok_merge *merges,
                            uint32_t left, uint32_t right);

#endif
