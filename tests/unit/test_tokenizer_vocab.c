/* Vocabulary loading and validation, end-of-generation detection, special-token matching
 * (the reference's order and strip attributes), and the streaming detokenizer's UTF-8
 * handling. Crafted SentencePiece vocabularies: <unk> <s> </s>, the 256 byte tokens, "▁",
 * the letters a..z, then whatever a test adds. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../data/tokenizer/vocab_builder.h"
#include "test.h"
#include "tokenizer/tok_internal.h"

#define SP "\xe2\x96\x81"
#define BYTE(b) (3 + (b))
#define T_SP 259
#define LETTER(c) (260 + ((c) - 'a'))
#define FIRST_EXTRA 286

struct tokdef {
    const char *text;
    int type;
};

typedef void (*extra_keys)(struct gguf_builder *b);

static int n_base(void) { return FIRST_EXTRA; }

static slm_tokenizer *build(const struct tokdef *defs, size_t n_defs, extra_keys extra,
                            slm_error *err)
{
    static char names[256][7], letters[26][2];
    size_t n = (size_t)n_base() + n_defs;
    const char **tokens = calloc(n, sizeof(*tokens));
    float *scores = calloc(n, sizeof(*scores));
    int32_t *types = calloc(n, sizeof(*types));
    REQUIRE(tokens && scores && types);
    tokens[0] = "<unk>";
    tokens[1] = "<s>";
    tokens[2] = "</s>";
    types[0] = SLM_TOKEN_UNKNOWN;
    types[1] = types[2] = SLM_TOKEN_CONTROL;
    for (int b = 0; b < 256; b++) {
        snprintf(names[b], sizeof(names[b]), "<0x%02X>", b);
        tokens[BYTE(b)] = names[b];
        types[BYTE(b)] = SLM_TOKEN_BYTE;
    }
    tokens[T_SP] = SP;
    types[T_SP] = SLM_TOKEN_NORMAL;
    for (int c = 0; c < 26; c++) {
        letters[c][0] = (char)('a' + c);
        tokens[LETTER('a' + c)] = letters[c];
        types[LETTER('a' + c)] = SLM_TOKEN_NORMAL;
        scores[LETTER('a' + c)] = -10;
    }
    for (size_t i = 0; i < n_defs; i++) {
        tokens[FIRST_EXTRA + i] = defs[i].text;
        types[FIRST_EXTRA + i] = defs[i].type;
    }
    struct gguf_builder b;
    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "llama");
    gb_strs(&b, "tokenizer.ggml.tokens", tokens, n);
    gb_f32s(&b, "tokenizer.ggml.scores", scores, n);
    gb_i32s(&b, "tokenizer.ggml.token_type", types, n);
    if (extra)
        extra(&b);
    free(tokens);
    free(scores);
    free(types);
    return gb_tokenizer(&b, err);
}

static slm_tokenizer *build_ok(const struct tokdef *defs, size_t n, extra_keys extra)
{
    slm_error err;
    slm_tokenizer *tok = build(defs, n, extra, &err);
    if (!tok)
        fprintf(stderr, "crafted vocabulary: %s\n", err.message);
    REQUIRE(tok != NULL);
    return tok;
}

/* A raw GGUF with only the given keys, for the loader's own checks. */
static void expect_load_error(struct gguf_builder *b, enum slm_status status, const char *needle,
                              const char *what)
{
    slm_error err = {0};
    slm_tokenizer *tok = gb_tokenizer(b, &err);
    CHECKF(!tok, "%s: loaded", what);
    slm_tokenizer_free(tok);
    CHECKF(err.status == status && strstr(err.message, needle) && strstr(err.message, "test.gguf"),
           "%s: %s (%s)", what, err.message, slm_status_name(err.status));
}

static void base_keys(struct gguf_builder *b, const char *model, size_t n_tokens)
{
    gb_init(b);
    gb_str(b, "tokenizer.ggml.model", model);
    static const char *const t[] = {"<unk>", "<s>", "</s>", "a", "b", "c"};
    gb_strs(b, "tokenizer.ggml.tokens", t, n_tokens);
}

static void test_validation(void)
{
    struct gguf_builder b;
    gb_init(&b);
    gb_str(&b, "general.architecture", "llama");
    expect_load_error(&b, SLM_ERR_NOT_FOUND, "tokenizer.ggml.model", "no model key");

    base_keys(&b, "t5", 6);
    expect_load_error(&b, SLM_ERR_UNSUPPORTED, "\"t5\"", "unsupported model");

    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "llama");
    expect_load_error(&b, SLM_ERR_FORMAT, "tokenizer.ggml.tokens", "no tokens");

    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "llama");
    int32_t ints[3] = {1, 2, 3};
    gb_i32s(&b, "tokenizer.ggml.tokens", ints, 3);
    expect_load_error(&b, SLM_ERR_FORMAT, "expected strings", "tokens not strings");

    base_keys(&b, "llama", 6);
    float scores[5] = {0};
    gb_f32s(&b, "tokenizer.ggml.scores", scores, 5);
    expect_load_error(&b, SLM_ERR_FORMAT, "5 entries for 6 tokens", "score count");

    base_keys(&b, "llama", 6);
    float nan_scores[6] = {0, 0, 0, NAN, 0, 0};
    gb_f32s(&b, "tokenizer.ggml.scores", nan_scores, 6);
    expect_load_error(&b, SLM_ERR_FORMAT, "NaN", "NaN score");

    base_keys(&b, "llama", 6);
    int32_t types[6] = {2, 3, 3, 1, 7, 1};
    gb_i32s(&b, "tokenizer.ggml.token_type", types, 6);
    expect_load_error(&b, SLM_ERR_FORMAT, "token 4 has type 7", "bad type");

    base_keys(&b, "llama", 6);
    gb_f32s(&b, "tokenizer.ggml.token_type", scores, 5);
    expect_load_error(&b, SLM_ERR_FORMAT, "tokenizer.ggml.token_type", "types as floats");

    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "llama");
    static const char *const dup[] = {"<unk>", "<s>", "</s>", "a", "b", "a"};
    gb_strs(&b, "tokenizer.ggml.tokens", dup, 6);
    expect_load_error(&b, SLM_ERR_FORMAT, "duplicate token \"a\" at ids 3 and 5", "duplicate");

    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "llama");
    static const char *const bytes[] = {"<unk>", "<s>", "</s>", "<0xZZ>"};
    gb_strs(&b, "tokenizer.ggml.tokens", bytes, 4);
    int32_t byte_types[4] = {2, 3, 3, 6};
    gb_i32s(&b, "tokenizer.ggml.token_type", byte_types, 4);
    expect_load_error(&b, SLM_ERR_FORMAT, "not <0xXX>", "malformed byte token");

    static char long_token[1026];
    memset(long_token, 'x', 1025);
    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "llama");
    const char *longs[] = {"<unk>", "<s>", "</s>", long_token};
    gb_strs(&b, "tokenizer.ggml.tokens", longs, 4);
    expect_load_error(&b, SLM_ERR_LIMIT, "1025 bytes", "token too long");

    /* SentencePiece adds BOS by default; with the default id 1 past a 1-token vocabulary
     * there is none to add */
    base_keys(&b, "llama", 1);
    expect_load_error(&b, SLM_ERR_FORMAT, "add_bos_token is true", "BOS missing");

    base_keys(&b, "llama", 6);
    gb_str(&b, "tokenizer.ggml.bos_token_id", "1");
    expect_load_error(&b, SLM_ERR_FORMAT, "tokenizer.ggml.bos_token_id", "id as a string");

    /* an out-of-range id is ignored and the default kept, as the reference does */
    base_keys(&b, "llama", 6);
    gb_u32(&b, "tokenizer.ggml.bos_token_id", 999);
    gb_u32(&b, "tokenizer.ggml.eos_token_id", 5);
    slm_error err;
    slm_tokenizer *tok = gb_tokenizer(&b, &err);
    REQUIRE(tok != NULL);
    CHECK(slm_tokenizer_special(tok)->bos == 1 && slm_tokenizer_special(tok)->eos == 5);
    /* EOS ends generation; so does "</s>" by its text, as in the reference */
    CHECK(slm_tokenizer_is_eog(tok, 5) && slm_tokenizer_is_eog(tok, 2));
    CHECK(!slm_tokenizer_is_eog(tok, 4));
    slm_tokenizer_free(tok);

    /* empty tokens load but cannot be found */
    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "llama");
    static const char *const empty[] = {"<unk>", "<s>", "</s>", "", ""};
    gb_strs(&b, "tokenizer.ggml.tokens", empty, 5);
    tok = gb_tokenizer(&b, &err);
    REQUIRE(tok != NULL);
    CHECK(slm_tokenizer_find(tok, "", 0) == -1);
    slm_tokenizer_free(tok);

    CHECK(slm_tokenizer_from_gguf(NULL, &err) == NULL && err.status == SLM_ERR_INVALID);
}

static void eot_key(struct gguf_builder *b) { gb_u32(b, "tokenizer.ggml.eot_token_id", FIRST_EXTRA + 2); }

static void test_end_of_generation(void)
{
    static const struct tokdef defs[] = {
        {"<|im_end|>", SLM_TOKEN_NORMAL}, /* recognized by text, made a control token */
        {"<|end|>", SLM_TOKEN_CONTROL},
        {"<|custom_end|>", SLM_TOKEN_CONTROL},
        {"<|eom_id|>", SLM_TOKEN_CONTROL},
        {"<|fim_pad|>", SLM_TOKEN_USER_DEFINED},
        {"<|fim_prefix|>", SLM_TOKEN_USER_DEFINED},
    };
    slm_tokenizer *tok = build_ok(defs, 6, NULL);
    const struct slm_special_tokens *sp = slm_tokenizer_special(tok);
    CHECK(slm_tokenizer_is_eog(tok, FIRST_EXTRA) && slm_tokenizer_is_eog(tok, FIRST_EXTRA + 1));
    CHECK(slm_tokenizer_attr(tok, FIRST_EXTRA) == SLM_TOKEN_CONTROL);
    CHECK(sp->eot == FIRST_EXTRA); /* <|im_end|> comes before <|end|> in preference */
    CHECK(sp->eom == FIRST_EXTRA + 3 && slm_tokenizer_is_eog(tok, FIRST_EXTRA + 3));
    CHECK(!slm_tokenizer_is_eog(tok, FIRST_EXTRA + 2));
    CHECK(slm_tokenizer_is_eog(tok, FIRST_EXTRA + 4)); /* FIM pad ends generation */
    CHECK(!slm_tokenizer_is_eog(tok, FIRST_EXTRA + 5));
    CHECK(slm_tokenizer_attr(tok, FIRST_EXTRA + 5) == SLM_TOKEN_CONTROL);
    CHECK(slm_tokenizer_is_eog(tok, 2)); /* </s>: EOS */
    slm_tokenizer_free(tok);

    /* an explicit EOT id wins and joins the set */
    tok = build_ok(defs, 6, eot_key);
    CHECK(slm_tokenizer_special(tok)->eot == FIRST_EXTRA + 2);
    CHECK(slm_tokenizer_is_eog(tok, FIRST_EXTRA + 2));
    slm_tokenizer_free(tok);

    /* harmony-style vocabularies: <|end|> separates messages and is not EOG */
    static const struct tokdef harmony[] = {
        {"<|return|>", SLM_TOKEN_CONTROL},
        {"<|call|>", SLM_TOKEN_CONTROL},
        {"<|end|>", SLM_TOKEN_CONTROL},
    };
    tok = build_ok(harmony, 3, NULL);
    CHECK(slm_tokenizer_is_eog(tok, FIRST_EXTRA) && slm_tokenizer_is_eog(tok, FIRST_EXTRA + 1));
    CHECK(!slm_tokenizer_is_eog(tok, FIRST_EXTRA + 2));
    CHECK(slm_tokenizer_attr(tok, FIRST_EXTRA + 2) == SLM_TOKEN_USER_DEFINED);
    slm_tokenizer_free(tok);
}

static bool same_ids(const struct slm_tokens *t, const int32_t *want, size_t n)
{
    if (t->n != n || (n && memcmp(t->ids, want, n * sizeof(int32_t)) != 0)) {
        fprintf(stderr, "  got %zu ids:", t->n);
        for (size_t i = 0; i < t->n; i++)
            fprintf(stderr, " %d", t->ids[i]);
        fputc('\n', stderr);
        return false;
    }
    return true;
}

#define EXPECT(tok, text, flags, ...)                                                      \
    do {                                                                                   \
        static const int32_t want_[] = {__VA_ARGS__};                                      \
        struct slm_tokens t_;                                                              \
        slm_error e_;                                                                      \
        REQUIRE(slm_tokenize(tok, text, sizeof(text) - 1, flags, true, &t_, &e_) == 0);    \
        CHECKF(same_ids(&t_, want_, sizeof(want_) / sizeof(want_[0])), "\"%s\"", text);    \
        slm_tokens_free(&t_);                                                              \
    } while (0)

#define PS SLM_TOKENIZE_PARSE_SPECIAL

static void phi3_name(struct gguf_builder *b) { gb_str(b, "general.name", "Phi3 mini"); }

static void test_special_matching(void)
{
    static const struct tokdef defs[] = {
        {"<a>", SLM_TOKEN_CONTROL},     /* 286 */
        {"<a><b>", SLM_TOKEN_CONTROL},  /* 287 */
        {"bcd", SLM_TOKEN_CONTROL},     /* 288 */
        {"ab", SLM_TOKEN_CONTROL},      /* 289 */
        {"zz", SLM_TOKEN_USER_DEFINED}, /* 290 */
    };
    slm_tokenizer *tok = build_ok(defs, 5, NULL);
    /* the longer token wins */
    EXPECT(tok, "<a><b>", PS, 287);
    /* tokens are tried longest first over the whole text, not leftmost first: "bcd"
     * takes its place before "ab" is looked for, which leaves "a" */
    EXPECT(tok, "abcd", PS, T_SP, LETTER('a'), 288);
    /* a token's matches do not overlap; the rest is text (with its "▁") */
    EXPECT(tok, "zzz", 0, 290, T_SP, LETTER('z'));
    /* control tokens only when asked for, user-defined ones always */
    EXPECT(tok, "<a>zz", 0, T_SP, BYTE('<'), LETTER('a'), BYTE('>'), 290);
    EXPECT(tok, "<a>zz", PS, 286, 290);
    slm_tokenizer_free(tok);

    /* phi-3 (by general.name): special tokens eat the white space after them */
    static const struct tokdef phi[] = {{"<|user|>", SLM_TOKEN_CONTROL}};
    tok = build_ok(phi, 1, phi3_name);
    EXPECT(tok, "<|user|>\n  hi", PS, FIRST_EXTRA, T_SP, LETTER('h'), LETTER('i'));
    slm_tokenizer_free(tok);
    tok = build_ok(phi, 1, NULL);
    EXPECT(tok, "<|user|>\n hi", PS, FIRST_EXTRA, T_SP, BYTE('\n'), T_SP, LETTER('h'),
           LETTER('i'));
    slm_tokenizer_free(tok);
}

/* The partition itself, with strip attributes set directly (tokenizer.json sets them). */
static void test_partition_strip(void)
{
    static const struct tokdef defs[] = {{"<x>", SLM_TOKEN_CONTROL}, {"<y>", SLM_TOKEN_CONTROL}};
    slm_tokenizer *tok = build_ok(defs, 2, NULL);
    tok->tokens[FIRST_EXTRA].flags |= TOK_FLAG_LSTRIP;
    tok->tokens[FIRST_EXTRA + 1].flags |= TOK_FLAG_RSTRIP;
    static const char text[] = "a \t<x> b<y> \n c<y><x>";
    struct tok_piece *p;
    size_t n;
    slm_error err;
    REQUIRE(tok_partition(tok, text, sizeof(text) - 1, true, &p, &n, &err) == 0);
    /* "a" | <x> (the spaces before it eaten) | " b" | <y> (the spaces after it eaten) |
     * "c" | <y> | <x> */
    static const struct tok_piece want[] = {{0, 1, -1},  {3, 6, FIRST_EXTRA},
                                            {6, 8, -1},  {8, 11, FIRST_EXTRA + 1},
                                            {14, 15, -1}, {15, 18, FIRST_EXTRA + 1},
                                            {18, 21, FIRST_EXTRA}};
    CHECKF(n == 7, "%zu pieces", n);
    for (size_t i = 0; i < n && n == 7; i++)
        CHECKF(p[i].start == want[i].start && p[i].end == want[i].end &&
                   p[i].token == want[i].token,
               "piece %zu: %zu..%zu %d", i, p[i].start, p[i].end, p[i].token);
    free(p);
    /* without special parsing the control tokens are text */
    REQUIRE(tok_partition(tok, text, sizeof(text) - 1, false, &p, &n, &err) == 0);
    CHECK(n == 1 && p[0].start == 0 && p[0].end == sizeof(text) - 1 && p[0].token == -1);
    free(p);
    slm_tokenizer_free(tok);
}

static void push_bytes(struct slm_detok *d, const char *bytes, size_t n, char **out,
                       size_t *len, size_t *cap)
{
    for (size_t i = 0; i < n; i++)
        REQUIRE(slm_detok_push(d, BYTE((uint8_t)bytes[i]), out, len, cap) >= 0);
}

static void test_stream_utf8(void)
{
    slm_tokenizer *tok = build_ok(NULL, 0, NULL);
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"\xf0\x9f\xa6\x99", 4, "\xf0\x9f\xa6\x99"},                /* whole after 4 pushes */
        {"\xe2\x82" "A", 3, "\xef\xbf\xbd" "A"},                      /* one U+FFFD for E2 82 */
        {"\xff", 1, "\xef\xbf\xbd"},
        {"\xc0\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong: 2 invalid */
        {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
        {"a\xf0\x9f", 3, "a\xef\xbf\xbd"},                           /* cut off at the end */
        {"\xc3\xa9\xc3", 3, "\xc3\xa9\xef\xbf\xbd"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct slm_detok d;
        slm_detok_init(&d, tok, false, false);
        char *out = NULL;
        size_t len = 0, cap = 0;
        push_bytes(&d, cases[k].in, cases[k].n, &out, &len, &cap);
        REQUIRE(slm_detok_finish(&d, &out, &len, &cap) >= 0);
        size_t wl = strlen(cases[k].want);
        CHECKF(len == wl && out && memcmp(out, cases[k].want, wl) == 0, "case %zu", k);
        free(out);
    }
    /* nothing is emitted before a character is complete */
    struct slm_detok d;
    slm_detok_init(&d, tok, false, false);
    char *out = NULL;
    size_t len = 0, cap = 0;
    CHECK(slm_detok_push(&d, BYTE(0xF0), &out, &len, &cap) == 0);
    CHECK(slm_detok_push(&d, BYTE(0x9F), &out, &len, &cap) == 0);
    CHECK(slm_detok_push(&d, BYTE(0xA6), &out, &len, &cap) == 0 && len == 0);
    CHECK(slm_detok_push(&d, BYTE(0x99), &out, &len, &cap) == 4 && len == 4);
    CHECK(slm_detok_finish(&d, &out, &len, &cap) == 0);
    free(out);
    slm_tokenizer_free(tok);
}

int main(void)
{
    test_validation();
    test_end_of_generation();
    test_special_matching();
    test_partition_strip();
    test_stream_utf8();
    return test_report();
}
