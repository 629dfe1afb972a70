/* SentencePiece-style tokenization on a crafted vocabulary; every expectation below is
 * worked out by hand from the algorithm (highest-scoring merge first, leftmost on ties,
 * "▁" for spaces and before the first fragment, byte fallback). */
#include <stdint.h>
#include <string.h>

#include "../data/tokenizer/vocab_builder.h"
#include "test.h"

#define SP "\xe2\x96\x81" /* ▁ */

/* ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then the pieces below */
enum {
    T_SP = 259, /* ▁      -1   */
    T_A,        /* a      -2   */
    T_B,        /* b      -2   */
    T_C,        /* c      -2   */
    T_SPA,      /* ▁a     -3   */
    T_AB,       /* ab     -1.5 */
    T_BC,       /* bc     -1   */
    T_ABC,      /* abc    -0.5 */
    T_SPAB,     /* ▁ab    -4   */
    T_USER,     /* <|user|> user-defined */
    T_AA,       /* aa     -1   */
    T_EOT,      /* <|eot_id|>, marked normal in the file */
    N_VOCAB
};
#define BYTE(b) (3 + (b))

struct options {
    int add_space_prefix; /* -1: key absent */
    int add_eos;
    int with_bytes;
};

static slm_tokenizer *make(struct options o)
{
    static char byte_names[256][7];
    const char *tokens[N_VOCAB];
    float scores[N_VOCAB];
    int32_t types[N_VOCAB];
    tokens[0] = "<unk>";
    tokens[1] = "<s>";
    tokens[2] = "</s>";
    types[0] = SLM_TOKEN_UNKNOWN;
    types[1] = types[2] = SLM_TOKEN_CONTROL;
    for (int b = 0; b < 256; b++) {
        snprintf(byte_names[b], sizeof(byte_names[b]), "<0x%02X>", b);
        /* without byte tokens the slots hold unused placeholders */
        if (!o.with_bytes)
            snprintf(byte_names[b], sizeof(byte_names[b]), "[u%d]", b);
        tokens[BYTE(b)] = byte_names[b];
        types[BYTE(b)] = o.with_bytes ? SLM_TOKEN_BYTE : SLM_TOKEN_UNUSED;
    }
    static const struct {
        const char *text;
        float score;
        int type;
    } pieces[] = {
        {SP, -1, 1},  {"a", -2, 1},   {"b", -2, 1},   {"c", -2, 1},
        {SP "a", -3, 1}, {"ab", -1.5f, 1}, {"bc", -1, 1}, {"abc", -0.5f, 1},
        {SP "ab", -4, 1}, {"<|user|>", 0, SLM_TOKEN_USER_DEFINED}, {"aa", -1, 1},
        {"<|eot_id|>", 0, 1},
    };
    for (int i = 0; i < 3 + 256; i++)
        scores[i] = 0;
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        tokens[T_SP + i] = pieces[i].text;
        scores[T_SP + i] = pieces[i].score;
        types[T_SP + i] = pieces[i].type;
    }
    struct gguf_builder b;
    gb_init(&b);
    gb_str(&b, "general.architecture", "llama");
    gb_str(&b, "tokenizer.ggml.model", "llama");
    gb_strs(&b, "tokenizer.ggml.tokens", tokens, N_VOCAB);
    gb_f32s(&b, "tokenizer.ggml.scores", scores, N_VOCAB);
    gb_i32s(&b, "tokenizer.ggml.token_type", types, N_VOCAB);
    if (o.add_space_prefix >= 0)
        gb_bool(&b, "tokenizer.ggml.add_space_prefix", o.add_space_prefix);
    if (o.add_eos)
        gb_bool(&b, "tokenizer.ggml.add_eos_token", 1);
    slm_error err;
    slm_tokenizer *tok = gb_tokenizer(&b, &err);
    if (!tok)
        fprintf(stderr, "crafted SPM vocabulary: %s\n", err.message);
    REQUIRE(tok != NULL);
    return tok;
}

static bool same_ids(const struct slm_tokens *t, const int32_t *want, size_t n)
{
    if (t->n != n) {
        fprintf(stderr, "  got %zu ids:", t->n);
        for (size_t i = 0; i < t->n; i++)
            fprintf(stderr, " %d", t->ids[i]);
        fputc('\n', stderr);
        return false;
    }
    return n == 0 || memcmp(t->ids, want, n * sizeof(int32_t)) == 0;
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

static void test_merges(void)
{
    slm_tokenizer *tok = make((struct options){-1, 0, 1});
    /* "▁abc": bc (-1) beats ab (-1.5) and ▁a (-3); then a+bc = abc (-0.5); ▁abc is no
     * token, the pending ▁a and ab are stale. */
    EXPECT(tok, "abc", 0, T_SP, T_ABC);
    /* "▁aaa": aa at 1..2 and 2..3 tie, the leftmost merges; aaa and ▁aa are no tokens. */
    EXPECT(tok, "aaa", 0, T_SP, T_AA, T_A);
    /* "▁ab▁c": ab (-1.5) first, then ▁+ab = ▁ab (-4); "▁c" is no token. */
    EXPECT(tok, "ab c", 0, T_SPAB, T_SP, T_C);
    /* leading spaces: "▁▁a" → ▁a (-3) merges first at 1..2, then ▁▁a is no token */
    EXPECT(tok, " a", 0, T_SP, T_SPA);
    EXPECT(tok, "", 0, );
    slm_tokenizer_free(tok);
}

static void test_byte_fallback(void)
{
    slm_tokenizer *tok = make((struct options){-1, 0, 1});
    /* "é" is no token: its two bytes become <0xC3> <0xA9> */
    EXPECT(tok, "\xc3\xa9", 0, T_SP, BYTE(0xC3), BYTE(0xA9));
    /* invalid UTF-8 passes through as bytes: a lone 0xFF, a cut-off "▁" */
    EXPECT(tok, "\xff", 0, T_SP, BYTE(0xFF));
    EXPECT(tok, "\xe2\x96", 0, T_SP, BYTE(0xE2), BYTE(0x96));
    /* a NUL byte is text like any other */
    EXPECT(tok, "a\0b", 0, T_SPA, BYTE(0), T_B);
    slm_tokenizer_free(tok);

    /* without byte tokens each byte falls back to <unk> */
    tok = make((struct options){-1, 0, 0});
    EXPECT(tok, "\xc3\xa9", 0, T_SP, 0, 0);
    slm_tokenizer_free(tok);
}

static void test_space_prefix_and_specials(void)
{
    slm_tokenizer *tok = make((struct options){0, 0, 1});
    EXPECT(tok, "abc", 0, T_ABC); /* add_space_prefix = false */
    slm_tokenizer_free(tok);

    tok = make((struct options){-1, 1, 1});
    EXPECT(tok, "abc", SLM_TOKENIZE_ADD_SPECIAL, 1, T_SP, T_ABC, 2);
    /* Control text is text unless asked for ... */
    EXPECT(tok, "<s>abc", 0, T_SP, BYTE('<'), BYTE('s'), BYTE('>'), T_ABC);
    /* ... and the text after a special token gets its own "▁". */
    EXPECT(tok, "<s>abc", SLM_TOKENIZE_PARSE_SPECIAL, 1, T_SP, T_ABC);
    /* User-defined tokens are always matched. */
    EXPECT(tok, "a<|user|>b", 0, T_SPA, T_USER, T_SP, T_B);
    EXPECT(tok, "<|user|><|user|>", 0, T_USER, T_USER);
    slm_tokenizer_free(tok);
}

static void test_offsets(void)
{
    slm_tokenizer *tok = make((struct options){-1, 0, 1});
    struct slm_tokens t;
    slm_error err;
    const char text[] = "ab c\xc3\xa9<|user|>";
    REQUIRE(slm_tokenize(tok, text, sizeof(text) - 1, SLM_TOKENIZE_ADD_SPECIAL, true, &t, &err) == 0);
    /* <s> [0,0]  ▁ab [0,2] (the prefix stands for nothing)  ▁ [2,3]  c [3,4]
     * <0xC3> [4,5]  <0xA9> [5,6]  <|user|> [6,14] */
    static const int32_t ids[] = {1, T_SPAB, T_SP, T_C, BYTE(0xC3), BYTE(0xA9), T_USER};
    static const uint32_t starts[] = {0, 0, 2, 3, 4, 5, 6}, ends[] = {0, 2, 3, 4, 5, 6, 14};
    CHECK(same_ids(&t, ids, 7));
    for (size_t i = 0; i < 7 && t.n == 7; i++)
        CHECKF(t.starts[i] == starts[i] && t.ends[i] == ends[i], "token %zu: %u..%u", i,
               t.starts[i], t.ends[i]);
    slm_tokens_free(&t);
    slm_tokenizer_free(tok);
}

static void test_vocab_queries(void)
{
    slm_tokenizer *tok = make((struct options){-1, 0, 1});
    const struct slm_special_tokens *sp = slm_tokenizer_special(tok);
    CHECK(sp->bos == 1 && sp->eos == 2 && sp->unk == 0 && sp->add_bos && !sp->add_eos);
    CHECK(slm_tokenizer_kind(tok) == SLM_TOKENIZER_SPM);
    CHECK(strcmp(slm_tokenizer_kind_name(tok), "llama") == 0);
    CHECK(slm_tokenizer_n_vocab(tok) == N_VOCAB);
    CHECK(slm_tokenizer_find(tok, SP "ab", strlen(SP "ab")) == T_SPAB);
    CHECK(slm_tokenizer_find(tok, "zz", 2) == -1);
    CHECK(slm_tokenizer_attr(tok, BYTE(7)) == SLM_TOKEN_BYTE);
    CHECK(slm_tokenizer_score(tok, T_ABC) == -0.5f);
    /* </s> ends generation; <|eot_id|> too, and becomes a control token */
    CHECK(slm_tokenizer_is_eog(tok, 2));
    CHECK(slm_tokenizer_is_eog(tok, T_EOT) && sp->eot == T_EOT);
    CHECK(slm_tokenizer_attr(tok, T_EOT) == SLM_TOKEN_CONTROL);
    CHECK(!slm_tokenizer_is_eog(tok, T_A) && !slm_tokenizer_is_eog(tok, -1));
    size_t len;
    const char *text = slm_tokenizer_token_text(tok, T_SPA, &len);
    CHECK(len == 4 && memcmp(text, SP "a", 4) == 0);
    CHECK(slm_tokenizer_token_text(tok, N_VOCAB, &len) == NULL);
    slm_tokenizer_free(tok);
}

static void test_detokenize(void)
{
    slm_tokenizer *tok = make((struct options){-1, 0, 1});
    char buf[16];
    CHECK(slm_token_to_bytes(tok, T_SPAB, false, buf, sizeof(buf)) == 3 &&
          memcmp(buf, " ab", 3) == 0);
    CHECK(slm_token_to_bytes(tok, BYTE('\n'), false, buf, sizeof(buf)) == 1 && buf[0] == '\n');
    CHECK(slm_token_to_bytes(tok, 1, false, buf, sizeof(buf)) == 0);
    CHECK(slm_token_to_bytes(tok, 1, true, buf, sizeof(buf)) == 3 && memcmp(buf, "<s>", 3) == 0);
    CHECK(slm_token_to_bytes(tok, T_USER, false, buf, sizeof(buf)) == 8);
    CHECK(slm_token_to_bytes(tok, T_SPAB, false, buf, 1) == 3); /* size needed */

    /* A character split across byte tokens comes out whole, once complete. */
    struct slm_detok d;
    slm_detok_init(&d, tok, false, true);
    char *out = NULL;
    size_t len = 0, cap = 0;
    CHECK(slm_detok_push(&d, T_SP, &out, &len, &cap) == 0); /* the leading space, stripped */
    CHECK(slm_detok_push(&d, BYTE(0xC3), &out, &len, &cap) == 0);
    CHECK(slm_detok_push(&d, BYTE(0xA9), &out, &len, &cap) == 2);
    CHECK(len == 2 && memcmp(out, "\xc3\xa9", 2) == 0);
    CHECK(slm_detok_push(&d, T_SPA, &out, &len, &cap) == 2); /* " a" keeps its space now */
    /* an incomplete character at the end becomes U+FFFD */
    CHECK(slm_detok_push(&d, BYTE(0xE2), &out, &len, &cap) == 0);
    CHECK(slm_detok_finish(&d, &out, &len, &cap) == 3);
    CHECK(len == 7 && memcmp(out, "\xc3\xa9 a\xef\xbf\xbd", 7) == 0);
    free(out);

    /* whole sequences: tokenize → detokenize gives the text back */
    static const char text[] = "ab c \xc3\xa9 \xf0\x9f\xa6\x99 <|user|>aaa";
    struct slm_tokens t;
    slm_error err;
    REQUIRE(slm_tokenize(tok, text, sizeof(text) - 1, 0, false, &t, &err) == 0);
    char *back = NULL;
    size_t back_len = 0;
    REQUIRE(slm_detokenize(tok, t.ids, t.n, false, &back, &back_len, &err) == 0);
    /* the space after <|user|> is SentencePiece's, so " aaa" comes back */
    static const char want[] = "ab c \xc3\xa9 \xf0\x9f\xa6\x99 <|user|> aaa";
    CHECKF(back_len == sizeof(want) - 1 && memcmp(back, want, back_len) == 0, "\"%s\"", back);
    free(back);
    slm_tokens_free(&t);

    int32_t bad = N_VOCAB;
    CHECK(slm_detokenize(tok, &bad, 1, false, &back, &back_len, &err) == -SLM_ERR_INVALID);
    slm_tokenizer_free(tok);
}

static void test_limits(void)
{
    slm_tokenizer *tok = make((struct options){-1, 0, 1});
    struct slm_tokens t;
    slm_error err;
    /* the length is checked before any byte is read */
    CHECK(slm_tokenize(tok, "x", (size_t)SLM_TOKENIZE_MAX_INPUT + 1, 0, false, &t, &err) ==
          -SLM_ERR_LIMIT);
    CHECK(slm_tokenize(tok, NULL, 1, 0, false, &t, &err) == -SLM_ERR_INVALID);
    CHECK(slm_tokenize(tok, NULL, 0, 0, false, &t, &err) == 0 && t.n == 0);
    slm_tokenizer_free(tok);
}

int main(void)
{
    test_merges();
    test_byte_fallback();
    test_space_prefix_and_specials();
    test_offsets();
    test_vocab_queries();
    test_detokenize();
    test_limits();
    return test_report();
}
