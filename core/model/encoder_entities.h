/* Entities from per-token labels, the way Hugging Face's token-classification pipeline
 * groups them with aggregation_strategy="simple":
 *
 *   - tags are read as B-X / I-X; any other label L counts as I-L ("O" included);
 *   - a token joins the previous token's group when it has the same type X and is not a
 *     B- tag; otherwise it starts a new group (so an I-X without a B-X starts one);
 *   - a group's span runs from its first token's start to its last token's end (word
 *     pieces of one entity become one span), its score is the mean of its tokens' scores;
 *   - groups of type "O" are dropped. */
#ifndef SLM_MODEL_ENCODER_ENTITIES_H
#define SLM_MODEL_ENCODER_ENTITIES_H

#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "slm/tasks.h"

struct entity_token {
    uint32_t label; /* index into labels */
    float score;    /* probability of that label */
    uint32_t start, end; /* byte span in the text */
};

/* Appends the entities of n tokens (in text order, special tokens already left out) to
 * `out`. Entity labels point into `labels` (past the "B-"/"I-" prefix). */
int encoder_group_entities(const struct entity_token *toks, size_t n,
                           const char *const *labels, struct slm_entity_list *out,
                           slm_error *err);

#endif
