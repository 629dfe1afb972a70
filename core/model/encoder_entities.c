/* BIO grouping of token labels into entities; see encoder_entities.h. */
#include "encoder_entities.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Splits a label into its B/I part and its type: "B-PER" -> (true, "PER"),
 * "I-PER" -> (false, "PER"), "O" -> (false, "O"). */
static const char *entity_type(const char *label, bool *begins)
{
    *begins = false;
    if ((label[0] == 'B' || label[0] == 'I') && label[1] == '-') {
        *begins = label[0] == 'B';
        return label + 2;
    }
    return label;
}

static int push(struct slm_entity_list *out, const char *type, const struct entity_token *first,
                size_t count, slm_error *err)
{
    if (strcmp(type, "O") == 0)
        return 0;
    struct slm_entity_span *items = realloc(out->items, (out->n + 1) * sizeof(*items));
    if (!items)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    out->items = items;
    double sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += first[i].score;
    items[out->n++] = (struct slm_entity_span){.label = type, .start = first[0].start,
                                               .end = first[count - 1].end,
                                               .score = (float)(sum / (double)count)};
    return 0;
}

int encoder_group_entities(const struct entity_token *toks, size_t n,
                           const char *const *labels, struct slm_entity_list *out,
                           slm_error *err)
{
    size_t group = 0; /* first token of the open group */
    const char *group_type = NULL;
    for (size_t i = 0; i < n; i++) {
        bool begins;
        const char *type = entity_type(labels[toks[i].label], &begins);
        if (group_type && !begins && strcmp(type, group_type) == 0)
            continue;
        if (group_type) {
            int r = push(out, group_type, toks + group, i - group, err);
            if (r < 0)
                return r;
        }
        group = i;
        group_type = type;
    }
    if (group_type)
        return push(out, group_type, toks + group, n - group, err);
    return 0;
}

void slm_entity_list_free(struct slm_entity_list *list)
{
    if (!list)
        return;
    free(list->items);
    list->items = NULL;
    list->n = 0;
}
