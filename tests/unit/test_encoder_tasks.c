/* ctest-labels: threads */
/* Encoder tasks on texts (slm/tasks.h) against the same steps done by hand through the
 * public API: tokenize, slm_encode, softmax / grouping / pooling. Checks the wiring that
 * the task layer adds: per-text rows in a batch, truncation to the model's length with the
 * closing [SEP] kept, special tokens left out of entities, spans in the original text,
 * normalisation. */
#include <math.h>
#include <ftw.h>

#include "model/encoder_entities.h"
#include "slm/model.h"
#include "slm/tasks.h"
#include "test.h"
#include "test_encoder_builder.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(slm_model, slm_model_free)
SLM_DEFINE_CLEANUP(slm_forward_ctx, slm_forward_ctx_free)

static char tmp_root[256];
static slm_pool *pool;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static slm_model *make_model(const char *name, enum tm_family family, enum tm_head head,
                             int n_pos)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/%s", tmp_root, name);
    struct tm_config c = {.family = family, .head = head, .d = 32, .layers = 2, .heads = 2,
                          .ff = 48, .vocab = 120, .n_pos = n_pos, .n_types = 2,
                          .n_labels = head == TM_TOKEN ? 7 : 3, .dtype = "F32", .prefix = 1};
    struct tm_model tm;
    REQUIRE(tm_write(dir, &c, 9, &tm) == 0);
    tm_free(&tm);
    slm_error err;
    slm_model *m = slm_model_load(dir, &err);
    if (!m)
        fprintf(stderr, "%s\n", err.message);
    REQUIRE(m);
    return m;
}

static const char *const texts[] = {
    "a b c w1 w2 w3.",
    "w7, w8!",
    ("zebra w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20 w21 w22 w23 w24 w25 w26 w27 w28 w29 "
     "w30 w31 w32 w33 w34 w35 w36 w37 w38 w39 w40 w41 w42"),
    "w5",
};
enum { N = 4 };

/* What the task should have fed the model for text i: ids (cut as described). */
static void expected_ids(const slm_model *m, const char *text, uint32_t max_len,
                         struct slm_tokens *t, bool *cut)
{
    slm_error err;
    REQUIRE(slm_tokenize(slm_model_tokenizer(m), text, strlen(text),
                         SLM_TOKENIZE_ADD_SPECIAL | SLM_TOKENIZE_PARSE_SPECIAL, true, t,
                         &err) == 0);
    *cut = t->n > max_len;
    if (*cut) {
        t->ids[max_len - 1] = t->ids[t->n - 1];
        t->starts[max_len - 1] = t->starts[t->n - 1];
        t->ends[max_len - 1] = t->ends[t->n - 1];
        t->n = max_len;
    }
}

static void softmax(float *x, int n)
{
    float max = x[0];
    for (int i = 1; i < n; i++)
        max = fmaxf(max, x[i]);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (x[i] = expf(x[i] - max));
    for (int i = 0; i < n; i++)
        x[i] = (float)(x[i] / sum);
}

static void test_classify(void)
{
    _cleanup_(slm_model_freep) slm_model *m = make_model("seq", TM_BERT, TM_SEQUENCE, 24);
    slm_error err;
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx = slm_forward_ctx_new(m, 512, &err);
    REQUIRE(ctx);
    struct slm_text in[N];
    for (int i = 0; i < N; i++)
        in[i] = (struct slm_text){texts[i], strlen(texts[i])};
    float probs[N * 3];
    bool truncated[N];
    uint32_t n_tokens[N];
    REQUIRE(slm_task_classify(ctx, pool, N, in, probs, truncated, n_tokens, &err) == 0);
    for (int i = 0; i < N; i++)
        CHECKF(n_tokens[i] >= 3, "text %d ran as %u tokens", i, n_tokens[i]);
    for (int i = 0; i < N; i++) {
        struct slm_tokens t;
        bool cut;
        expected_ids(m, texts[i], 24, &t, &cut);
        CHECKF(truncated[i] == cut, "text %d: truncated %d, expected %d", i, truncated[i], cut);
        float logits[3];
        const int32_t *seq = t.ids;
        uint32_t len = (uint32_t)t.n;
        REQUIRE(slm_encode(ctx, pool, 1, &seq, &len, SLM_ENCODE_LOGITS, logits, &err) == 0);
        softmax(logits, 3);
        double sum = 0;
        for (int l = 0; l < 3; l++) {
            sum += probs[i * 3 + l];
            CHECKF(fabsf(probs[i * 3 + l] - logits[l]) < 1e-5f, "text %d label %d: %g vs %g", i,
                   l, (double)probs[i * 3 + l], (double)logits[l]);
        }
        CHECK(fabs(sum - 1) < 1e-5);
        slm_tokens_free(&t);
    }
    CHECK(truncated[2] && !truncated[0]);

    /* the wrong task for the model is an error, not a guess */
    struct slm_entity_list lists[1];
    CHECK(slm_task_classify_tokens(ctx, pool, 1, in, lists, NULL, NULL, &err) == -SLM_ERR_INVALID);
    CHECK(slm_task_classify(ctx, pool, 0, in, probs, NULL, NULL, &err) == -SLM_ERR_INVALID);
}

static void test_entities(void)
{
    _cleanup_(slm_model_freep) slm_model *m = make_model("tok", TM_DISTILBERT, TM_TOKEN, 24);
    slm_error err;
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx = slm_forward_ctx_new(m, 512, &err);
    REQUIRE(ctx);
    const struct slm_model_info *info = slm_model_info(m);
    struct slm_text in[N];
    for (int i = 0; i < N; i++)
        in[i] = (struct slm_text){texts[i], strlen(texts[i])};
    struct slm_entity_list lists[N];
    bool truncated[N];
    REQUIRE(slm_task_classify_tokens(ctx, pool, N, in, lists, truncated, NULL, &err) == 0);
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        struct slm_tokens t;
        bool cut;
        expected_ids(m, texts[i], 24, &t, &cut);
        CHECK(truncated[i] == cut);
        float *logits = calloc(t.n * 7, sizeof(float));
        const int32_t *seq = t.ids;
        uint32_t len = (uint32_t)t.n;
        REQUIRE(slm_encode(ctx, pool, 1, &seq, &len, SLM_ENCODE_LOGITS, logits, &err) == 0);
        struct entity_token toks[64];
        size_t kept = 0;
        /* by hand: drop [CLS] and [SEP], argmax of the softmax per token */
        for (size_t p = 1; p + 1 < t.n; p++) {
            softmax(logits + p * 7, 7);
            uint32_t best = 0;
            for (uint32_t l = 1; l < 7; l++)
                if (logits[p * 7 + l] > logits[p * 7 + best])
                    best = l;
            toks[kept++] = (struct entity_token){best, logits[p * 7 + best], t.starts[p],
                                                 t.ends[p]};
        }
        struct slm_entity_list want = {0};
        REQUIRE(encoder_group_entities(toks, kept, info->labels, &want, &err) == 0);
        CHECKF(want.n == lists[i].n, "text %d: %zu entities, expected %zu", i, lists[i].n, want.n);
        for (size_t k = 0; k < want.n && k < lists[i].n; k++) {
            const struct slm_entity_span *a = &lists[i].items[k], *b = &want.items[k];
            CHECK(strcmp(a->label, b->label) == 0 && a->start == b->start && a->end == b->end &&
                  fabsf(a->score - b->score) < 1e-5f);
            CHECK(a->start < a->end && a->end <= strlen(texts[i]));
        }
        total += want.n;
        slm_entity_list_free(&want);
        slm_entity_list_free(&lists[i]);
        free(logits);
        slm_tokens_free(&t);
    }
    /* random weights label most tokens with one of six entity tags */
    CHECK(total > 0);
}

static void test_embed(void)
{
    _cleanup_(slm_model_freep) slm_model *m = make_model("base", TM_BERT, TM_BASE, 64);
    slm_error err;
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx = slm_forward_ctx_new(m, 512, &err);
    REQUIRE(ctx);
    struct slm_text in[N];
    for (int i = 0; i < N; i++)
        in[i] = (struct slm_text){texts[i], strlen(texts[i])};
    float plain[N * 32], unit[N * 32];
    bool truncated[N];
    REQUIRE(slm_task_embed(ctx, pool, N, in, false, plain, truncated, NULL, &err) == 0);
    REQUIRE(slm_task_embed(ctx, pool, N, in, true, unit, truncated, NULL, &err) == 0);
    for (int i = 0; i < N; i++) {
        struct slm_tokens t;
        bool cut;
        expected_ids(m, texts[i], 64, &t, &cut);
        CHECK(!truncated[i] && !cut);
        float *hidden = calloc(t.n * 32, sizeof(float));
        const int32_t *seq = t.ids;
        uint32_t len = (uint32_t)t.n;
        REQUIRE(slm_encode(ctx, pool, 1, &seq, &len, SLM_ENCODE_HIDDEN, hidden, &err) == 0);
        double norm = 0, diff = 0, udiff = 0;
        for (int j = 0; j < 32; j++) {
            double mean = 0;
            for (size_t p = 0; p < t.n; p++)
                mean += hidden[p * 32 + j];
            mean /= (double)t.n;
            diff = fmax(diff, fabs(mean - plain[i * 32 + j]));
            norm += (double)plain[i * 32 + j] * plain[i * 32 + j];
        }
        for (int j = 0; j < 32; j++)
            udiff = fmax(udiff, fabs(plain[i * 32 + j] / sqrt(norm) - unit[i * 32 + j]));
        CHECKF(diff < 1e-5, "text %d: mean pooling differs by %g", i, diff);
        CHECKF(udiff < 1e-5, "text %d: normalised vector differs by %g", i, udiff);
        free(hidden);
        slm_tokens_free(&t);
    }
}

int main(void)
{
    slm_error err;
    pool = slm_pool_new(2, &err);
    REQUIRE(pool);
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/slm-test-tasks-XXXXXX");
    REQUIRE(mkdtemp(tmp_root));
    test_classify();
    test_entities();
    test_embed();
    nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    slm_pool_free(pool);
    return test_report();
}
