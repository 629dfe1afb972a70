/* Tokenizer conformance against ../shared (SLM_SHARED).
 *
 *  - vocab/ggml-vocab-{llama-spm,gpt-2,bert-bge}.gguf: every .inp case tokenizes exactly
 *    to its .out line (no BOS/EOS, no special parsing);
 *  - vocab/ggml-vocab-{phi-3,deepseek-llm,falcon}.gguf (no published .out): every case
 *    tokenizes without error, and expectations derived by hand hold (see expected_*);
 *  - every case detokenizes back to its input where the tokenizer is lossless;
 *  - the reference prompts of the decoder models, bert-tiny and the DistilBERT
 *    directories give the published ids. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slm/gguf.h"
#include "slm/tokenizer.h"
#include "test.h"

#define CASE_SEPARATOR "\n__ggml_vocab_test__\n"

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

struct cases {
    char *data;
    const char *text[128];
    size_t len[128];
    size_t n;
};

/* Splits an .inp file on the separator; the file ends with one, which leaves a last empty
 * case (the .out has an empty line for it). */
static bool load_cases(const char *path, struct cases *c)
{
    size_t len;
    c->data = read_all(path, &len);
    if (!c->data)
        return false;
    c->n = 0;
    const char *p = c->data, *end = c->data + len;
    size_t seplen = strlen(CASE_SEPARATOR);
    while (c->n < 128) {
        const char *s = strstr(p, CASE_SEPARATOR);
        if (!s || s > end) {
            c->text[c->n] = p;
            c->len[c->n++] = (size_t)(end - p);
            break;
        }
        c->text[c->n] = p;
        c->len[c->n++] = (size_t)(s - p);
        p = s + seplen;
    }
    return true;
}

static slm_tokenizer *open_tokenizer(const char *shared, const char *file, slm_gguf **g)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", shared, file);
    slm_error err;
    *g = slm_gguf_open(path, &err);
    if (!*g) {
        fprintf(stderr, "%s\n", err.message);
        return NULL;
    }
    slm_tokenizer *tok = slm_tokenizer_from_gguf(*g, &err);
    if (!tok)
        fprintf(stderr, "%s\n", err.message);
    return tok;
}

static bool ids_equal(const int32_t *a, const int32_t *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof(int32_t)) == 0;
}

static void print_ids(const char *label, const int32_t *ids, size_t n)
{
    fprintf(stderr, "  %s:", label);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %d", ids[i]);
    fputc('\n', stderr);
}

static size_t parse_ids(const char *line, int32_t *ids, size_t cap)
{
    size_t n = 0;
    char *end;
    while (n < cap) {
        long v = strtol(line, &end, 10);
        if (end == line)
            break;
        ids[n++] = (int32_t)v;
        line = end;
    }
    return n;
}

/* Decoding the ids of a case gives the input back (exactly, or up to the leading space
 * SentencePiece adds, which the detokenizer strips). */
static void check_roundtrip(const slm_tokenizer *tok, const char *name, size_t k,
                            const char *text, size_t len, const struct slm_tokens *t)
{
    char *out = NULL;
    size_t out_len = 0;
    slm_error err;
    int r = slm_detokenize(tok, t->ids, t->n, false, &out, &out_len, &err);
    CHECKF(r == 0, "%s case %zu: detokenize: %s", name, k, err.message);
    if (r == 0)
        CHECKF(out_len == len && memcmp(out, text, len) == 0,
               "%s case %zu: detokenized text differs (%zu vs %zu bytes): \"%.60s\"", name, k,
               out_len, len, out);
    free(out);
}

/* Offsets are in order, inside the input, and cover what they claim. */
static void check_offsets(const char *name, size_t k, size_t len, const struct slm_tokens *t)
{
    for (size_t i = 0; i < t->n; i++) {
        CHECKF(t->starts[i] <= t->ends[i] && t->ends[i] <= len,
               "%s case %zu: token %zu has span %u..%u of %zu", name, k, i, t->starts[i],
               t->ends[i], len);
        if (i > 0)
            CHECKF(t->starts[i] >= t->starts[i - 1], "%s case %zu: spans out of order", name, k);
    }
}

static void run_published(const char *shared, const char *name, bool roundtrip)
{
    char file[256], path[4096];
    snprintf(file, sizeof(file), "vocab/ggml-vocab-%s.gguf", name);
    slm_gguf *g = NULL;
    slm_tokenizer *tok = open_tokenizer(shared, file, &g);
    CHECKF(tok != NULL, "%s: load", name);
    struct cases c;
    snprintf(path, sizeof(path), "%s/%s.inp", shared, file);
    bool have_inp = load_cases(path, &c);
    size_t out_len;
    snprintf(path, sizeof(path), "%s/%s.out", shared, file);
    char *out = read_all(path, &out_len);
    CHECKF(have_inp && out, "%s: .inp/.out readable", name);
    if (!tok || !have_inp || !out) {
        slm_tokenizer_free(tok);
        slm_gguf_close(g);
        return;
    }
    char *line = out;
    size_t passed = 0;
    for (size_t k = 0; k < c.n; k++) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        static int32_t want[4096];
        size_t n_want = parse_ids(line, want, 4096);
        struct slm_tokens t;
        slm_error err;
        int r = slm_tokenize(tok, c.text[k], c.len[k], 0, true, &t, &err);
        CHECKF(r == 0, "%s case %zu: %s", name, k, err.message);
        bool same = r == 0 && t.n == n_want && ids_equal(t.ids, want, n_want);
        CHECKF(same, "%s case %zu (\"%.40s\") differs", name, k, c.text[k]);
        if (!same && r == 0) {
            print_ids("want", want, n_want);
            print_ids("got ", t.ids, t.n);
        }
        passed += same;
        if (r == 0) {
            check_offsets(name, k, c.len[k], &t);
            if (roundtrip)
                check_roundtrip(tok, name, k, c.text[k], c.len[k], &t);
        }
        slm_tokens_free(&t);
        line = nl ? nl + 1 : line + strlen(line);
    }
    printf("%s: %zu of %zu published cases match\n", name, passed, c.n);
    free(out);
    free(c.data);
    slm_tokenizer_free(tok);
    slm_gguf_close(g);
}

/* ---- vocabularies without published expectations ---- */

/* Expected pieces as vocabulary strings (GPT-2 alphabet: "Ġ" is a space, "Ċ" a newline,
 * "ĉ" a tab), derived by applying each pre-tokenizer's regexes by hand, then checked
 * against an independent model of the reference (crosscheck_bpe.py: Python `regex` and a
 * naive merge loop), which agrees on all 47 cases of both files. */
struct expectation {
    const char *text;
    const char *pieces[16];
};

/* deepseek-llm: newlines are split off one by one first; letters keep one leading space;
 * punctuation runs keep one leading space; trailing spaces stay together; every digit
 * stands alone (numbers are split by \p{N}+ but the vocabulary has no digit merges); the
 * 13 accented letters the vocabulary lists as user-defined tokens are cut out first. */
static const struct expectation expected_deepseek[] = {
    {"ied 4 \xc2\xbd months", {"ied", "\xc4\xa0", "4", "\xc4\xa0", "\xc3\x82\xc2\xbd",
                              "\xc4\xa0months"}},
    {"F\xc3\xbchrer", {"F", "\xc3\xbc", "h", "rer"}},
    {"  ", {"\xc4\xa0\xc4\xa0"}},
    {"\n\n", {"\xc4\x8a", "\xc4\x8a"}},
    {"\t\n", {"\xc4\x89", "\xc4\x8a"}},
    {"Hello, world!", {"Hello", ",", "\xc4\xa0world", "!"}},
    {"w048 7tuijk dsdfhu", {"w", "0", "4", "8", "\xc4\xa0", "7", "t", "ui", "jk",
                            "\xc4\xa0" "ds", "df", "hu"}},
    {"  Hello", {"\xc4\xa0", "\xc4\xa0Hello"}},
    {"    Hello\n    Hello", {"\xc4\xa0\xc4\xa0\xc4\xa0", "\xc4\xa0Hello", "\xc4\x8a",
                               "\xc4\xa0\xc4\xa0\xc4\xa0", "\xc4\xa0Hello"}},
    {" (", {"\xc4\xa0("}},
    {"\n =", {"\xc4\x8a", "\xc4\xa0="}},
    {"!!!!!!", {"!!!!", "!!"}},
    {"3333", {"3", "3", "3", "3"}},
};

/* falcon: punctuation runs are split off first (so " (" is a space then "("), then the
 * GPT-2 pattern (so newlines and the spaces after them stay together), then numbers are
 * cut into groups of three digits from the left. */
static const struct expectation expected_falcon[] = {
    {"ied 4 \xc2\xbd months", {"ied", "\xc4\xa0", "4", "\xc4\xa0\xc3\x82", "\xc2\xbd",
                              "\xc4\xa0months"}},
    {"\n\n", {"\xc4\x8a\xc4\x8a"}},
    {"\n\n\n", {"\xc4\x8a\xc4\x8a\xc4\x8a"}},
    {"Hello, world!", {"Hello", ",", "\xc4\xa0world", "!"}},
    {"w048 7tuijk dsdfhu", {"w", "048", "\xc4\xa0", "7", "tu", "ijk", "\xc4\xa0" "ds", "df",
                            "hu"}},
    {"    Hello\n    Hello", {"\xc4\xa0\xc4\xa0\xc4\xa0", "\xc4\xa0Hello",
                               "\xc4\x8a\xc4\xa0\xc4\xa0\xc4\xa0", "\xc4\xa0Hello"}},
    {" (", {"\xc4\xa0", "("}},
    {"\n =", {"\xc4\x8a\xc4\xa0", "="}},
    {"!!!!!!", {"!!!!!!"}},
    {"333", {"333"}},
    {"3333", {"333", "3"}},
    {"33333", {"333", "33"}},
    {"333333", {"333", "333"}},
};

static void check_expectations(const slm_tokenizer *tok, const char *name,
                               const struct expectation *e, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        int32_t want[16];
        size_t n_want = 0;
        for (; n_want < 16 && e[k].pieces[n_want]; n_want++) {
            const char *p = e[k].pieces[n_want];
            want[n_want] = slm_tokenizer_find(tok, p, strlen(p));
            CHECKF(want[n_want] >= 0, "%s: \"%s\" is not in the vocabulary", name, p);
        }
        struct slm_tokens t;
        slm_error err;
        int r = slm_tokenize(tok, e[k].text, strlen(e[k].text), 0, false, &t, &err);
        CHECKF(r == 0, "%s: %s", name, err.message);
        bool same = r == 0 && t.n == n_want && ids_equal(t.ids, want, n_want);
        CHECKF(same, "%s: \"%s\" is not tokenized as derived", name, e[k].text);
        if (!same && r == 0) {
            print_ids("want", want, n_want);
            print_ids("got ", t.ids, t.n);
        }
        slm_tokens_free(&t);
    }
}

/* Every case loads and tokenizes; byte-level BPE decodes back exactly; SentencePiece up
 * to the stripped leading space. */
static void run_unpublished(const char *shared, const char *name, const struct expectation *e,
                            size_t n_e)
{
    char file[256], path[4096];
    snprintf(file, sizeof(file), "vocab/ggml-vocab-%s.gguf", name);
    slm_gguf *g = NULL;
    slm_tokenizer *tok = open_tokenizer(shared, file, &g);
    CHECKF(tok != NULL, "%s: load", name);
    struct cases c;
    snprintf(path, sizeof(path), "%s/%s.inp", shared, file);
    bool have_inp = load_cases(path, &c);
    CHECKF(have_inp, "%s: .inp readable", name);
    if (tok && have_inp) {
        for (size_t k = 0; k < c.n; k++) {
            struct slm_tokens t;
            slm_error err;
            int r = slm_tokenize(tok, c.text[k], c.len[k], 0, true, &t, &err);
            CHECKF(r == 0, "%s case %zu: %s", name, k, err.message);
            if (r == 0) {
                check_offsets(name, k, c.len[k], &t);
                check_roundtrip(tok, name, k, c.text[k], c.len[k], &t);
            }
            slm_tokens_free(&t);
        }
        check_expectations(tok, name, e, n_e);
        printf("%s: %zu cases tokenized, %zu derived expectations checked\n", name, c.n, n_e);
    }
    if (have_inp)
        free(c.data);
    slm_tokenizer_free(tok);
    slm_gguf_close(g);
}

/* phi-3's vocabulary is llama-spm's plus 64 tokens (ids 32000+), with the same texts and
 * scores for every ordinary token; none of its added tokens occurs in the cases. The same
 * algorithm must therefore give llama-spm's published ids for every case. */
static void run_phi3(const char *shared)
{
    slm_gguf *g1 = NULL, *g2 = NULL;
    slm_tokenizer *spm = open_tokenizer(shared, "vocab/ggml-vocab-llama-spm.gguf", &g1);
    slm_tokenizer *phi = open_tokenizer(shared, "vocab/ggml-vocab-phi-3.gguf", &g2);
    CHECK(spm && phi);
    bool premise = spm && phi && slm_tokenizer_n_vocab(phi) == 32064;
    for (int32_t id = 3; premise && id < 32000; id++) {
        size_t l1, l2;
        const char *a = slm_tokenizer_token_text(spm, id, &l1);
        const char *b = slm_tokenizer_token_text(phi, id, &l2);
        premise = l1 == l2 && memcmp(a, b, l1) == 0 &&
                  slm_tokenizer_score(spm, id) == slm_tokenizer_score(phi, id);
    }
    CHECKF(premise, "phi-3: ordinary tokens differ from llama-spm's");
    slm_tokenizer_free(spm);
    slm_gguf_close(g1);
    if (premise) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/vocab/ggml-vocab-llama-spm.gguf.out", shared);
        size_t len;
        char *out = read_all(path, &len);
        struct cases c;
        snprintf(path, sizeof(path), "%s/vocab/ggml-vocab-phi-3.gguf.inp", shared);
        bool ok = out && load_cases(path, &c);
        CHECK(ok);
        char *line = out;
        for (size_t k = 0; ok && k < c.n; k++) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            static int32_t want[4096];
            size_t n_want = parse_ids(line, want, 4096);
            struct slm_tokens t;
            slm_error err;
            int r = slm_tokenize(phi, c.text[k], c.len[k], 0, false, &t, &err);
            bool same = r == 0 && t.n == n_want && ids_equal(t.ids, want, n_want);
            CHECKF(same, "phi-3 case %zu differs from the derived ids", k);
            if (r == 0)
                check_roundtrip(phi, "phi-3", k, c.text[k], c.len[k], &t);
            slm_tokens_free(&t);
            line = nl ? nl + 1 : line + strlen(line);
        }
        if (ok) {
            printf("phi-3: %zu cases checked against the derived ids\n", c.n);
            free(c.data);
        }
        free(out);
    }
    slm_tokenizer_free(phi);
    slm_gguf_close(g2);
}

static const char prompt[] = "Once upon a time, a small gateway in a quiet village answered "
                             "every question it was asked.";

/* ref/M.ids: the prompt with BOS (or [CLS] ... [SEP]) as the reference tokenizes it. */
static void run_model_prompt(const char *shared, const char *model, const char *text)
{
    char file[256], path[4096];
    snprintf(file, sizeof(file), "models/%s.gguf", model);
    slm_gguf *g = NULL;
    slm_tokenizer *tok = open_tokenizer(shared, file, &g);
    CHECKF(tok != NULL, "%s: load", model);
    snprintf(path, sizeof(path), "%s/ref/%s.ids", shared, model);
    size_t len;
    char *ref = read_all(path, &len);
    CHECKF(ref != NULL, "%s: no reference ids", model);
    if (tok && ref) {
        int32_t want[256];
        size_t n_want = parse_ids(ref, want, 256);
        struct slm_tokens t;
        slm_error err;
        int r = slm_tokenize(tok, text, strlen(text),
                             SLM_TOKENIZE_ADD_SPECIAL | SLM_TOKENIZE_PARSE_SPECIAL, false, &t, &err);
        CHECKF(r == 0, "%s: %s", model, err.message);
        bool same = r == 0 && t.n == n_want && ids_equal(t.ids, want, n_want);
        CHECKF(same, "%s: prompt ids differ from ref/%s.ids", model, model);
        if (!same && r == 0) {
            print_ids("want", want, n_want);
            print_ids("got ", t.ids, t.n);
        }
        slm_tokens_free(&t);
    }
    free(ref);
    slm_tokenizer_free(tok);
    slm_gguf_close(g);
}

/* ref/distilbert-tiny-NAME.reference.json: texts and their WordPiece ids, tokenized from
 * the model directory (vocab.txt + tokenizer_config.json). */
static void run_distilbert(const char *shared, const char *name)
{
    char dir[4096], path[4096];
    snprintf(dir, sizeof(dir), "%s/models/distilbert-tiny-%s", shared, name);
    snprintf(path, sizeof(path), "%s/ref/distilbert-tiny-%s.reference.json", shared, name);
    slm_error err;
    slm_tokenizer *tok = slm_tokenizer_from_hf_dir(dir, &err);
    CHECKF(tok != NULL, "%s: %s", dir, tok ? "" : err.message);
    struct json_object *ref = json_object_from_file(path);
    CHECKF(ref && json_object_is_type(ref, json_type_array), "%s: unreadable", path);
    size_t n_cases = ref && tok ? json_object_array_length(ref) : 0;
    for (size_t i = 0; i < n_cases; i++) {
        struct json_object *c = json_object_array_get_idx(ref, i), *text, *ids;
        REQUIRE(json_object_object_get_ex(c, "text", &text) &&
                json_object_object_get_ex(c, "ids", &ids));
        const char *s = json_object_get_string(text);
        struct slm_tokens t;
        int r = slm_tokenize(tok, s, strlen(s), SLM_TOKENIZE_ADD_SPECIAL, true, &t, &err);
        CHECKF(r == 0, "%s: %s", name, err.message);
        size_t n_want = json_object_array_length(ids);
        bool same = r == 0 && t.n == n_want;
        for (size_t k = 0; same && k < n_want; k++)
            same = t.ids[k] == json_object_get_int(json_object_array_get_idx(ids, k));
        CHECKF(same, "distilbert-tiny-%s case %zu (\"%s\") ids differ", name, i, s);
        if (r == 0 && !same)
            print_ids("got ", t.ids, t.n);
        slm_tokens_free(&t);
    }
    json_object_put(ref);
    slm_tokenizer_free(tok);
}

int main(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        return 0;
    run_published(shared, "llama-spm", true);
    run_published(shared, "gpt-2", true);
    run_published(shared, "bert-bge", false);

    run_phi3(shared);
    run_unpublished(shared, "deepseek-llm", expected_deepseek,
                    sizeof(expected_deepseek) / sizeof(expected_deepseek[0]));
    run_unpublished(shared, "falcon", expected_falcon,
                    sizeof(expected_falcon) / sizeof(expected_falcon[0]));

    static const char *const decoders[] = {
        "llama-spm-tiny-F32", "llama-spm-tiny-F16", "llama-spm-tiny-Q8_0", "llama-spm-tiny-Q4_0",
        "llama-spm-k-Q4_K_M", "llama-spm-k-Q6_K",   "llama-2-tiny-random", "llama-bpe-tiny-Q8_0",
        "phi3-tiny-F16",      "phi3-128k-tiny-Q8_0", "openelm-tiny-F16",
    };
    for (size_t i = 0; i < sizeof(decoders) / sizeof(decoders[0]); i++)
        run_model_prompt(shared, decoders[i], prompt);
    run_model_prompt(shared, "bert-tiny-F16", "The quick brown fox jumps over the lazy dog.");
    run_distilbert(shared, "sst2");
    run_distilbert(shared, "ner");
    return test_report();
}
