/* BIO grouping, case by case, as Hugging Face's token-classification pipeline does it
 * with aggregation_strategy="simple". */
#include <math.h>

#include "model/encoder_entities.h"
#include "test.h"
#include "util/cleanup.h"

static const char *const labels[] = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "MISC"};
enum { O, BP, IP, BL, IL, MISC };

struct want {
    const char *label;
    uint32_t start, end;
    float score;
};

/* Tokens i get span [3i, 3i+2) and score (i + 1) / 10. */
static void check(const char *name, const int *tags, size_t n, const struct want *want,
                  size_t n_want)
{
    struct entity_token toks[16];
    for (size_t i = 0; i < n; i++)
        toks[i] = (struct entity_token){.label = (uint32_t)tags[i], .score = (float)(i + 1) / 10,
                                        .start = (uint32_t)(3 * i), .end = (uint32_t)(3 * i + 2)};
    struct slm_entity_list out = {0};
    slm_error err;
    REQUIRE(encoder_group_entities(toks, n, labels, &out, &err) == 0);
    CHECKF(out.n == n_want, "%s: %zu entities, expected %zu", name, out.n, n_want);
    for (size_t i = 0; i < out.n && i < n_want; i++) {
        const struct slm_entity_span *e = &out.items[i];
        CHECKF(strcmp(e->label, want[i].label) == 0 && e->start == want[i].start &&
                   e->end == want[i].end && fabsf(e->score - want[i].score) < 1e-6f,
               "%s: entity %zu is %s [%u, %u) %.3f, expected %s [%u, %u) %.3f", name, i,
               e->label, e->start, e->end, (double)e->score, want[i].label, want[i].start,
               want[i].end, (double)want[i].score);
    }
    slm_entity_list_free(&out);
}

int main(void)
{
    /* B-PER I-PER O B-LOC: two entities, the first spanning both tokens */
    int t1[] = {BP, IP, O, BL};
    struct want w1[] = {{"PER", 0, 5, 0.15f}, {"LOC", 9, 11, 0.4f}};
    check("basic", t1, 4, w1, 2);

    /* an I- without a B- starts an entity */
    int t2[] = {O, IP, IP};
    struct want w2[] = {{"PER", 3, 8, 0.25f}};
    check("orphan I", t2, 3, w2, 1);

    /* B- right after the same type starts a new entity */
    int t3[] = {BP, BP, IP};
    struct want w3[] = {{"PER", 0, 2, 0.1f}, {"PER", 3, 8, 0.25f}};
    check("B after B", t3, 3, w3, 2);

    /* I- of another type starts a new entity */
    int t4[] = {BP, IL, IL};
    struct want w4[] = {{"PER", 0, 2, 0.1f}, {"LOC", 3, 8, 0.25f}};
    check("type change", t4, 3, w4, 2);

    /* a label without B-/I- continues itself, O groups are dropped */
    int t5[] = {MISC, MISC, O, O, MISC};
    struct want w5[] = {{"MISC", 0, 5, 0.15f}, {"MISC", 12, 14, 0.5f}};
    check("plain labels", t5, 5, w5, 2);

    int t6[] = {O, O};
    check("nothing", t6, 2, NULL, 0);
    check("empty", NULL, 0, NULL, 0);
    return test_report();
}
