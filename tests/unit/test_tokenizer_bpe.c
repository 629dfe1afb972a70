/* Byte-level BPE on a crafted vocabulary. Ids 0..255 are the single bytes (spelled in
 * GPT-2's printable alphabet), the merges below add pieces; a merge "a Ġ" that would join
 * across a word boundary shows whether the pre-tokenizer split where it should. Every
 * expectation is derived by hand from the merge ranks. */
#include <stdint.h>
#include <string.h>

#include "../data/tokenizer/vocab_builder.h"
#include "test.h"

/* GPT-2's bytes_to_unicode as its paper code defines it, written independently here. */
static uint32_t spell_cp(int b)
{
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
        return (uint32_t)b;
    int n = 0;
    for (int k = 0; k < b; k++)
        if (!((k >= 0x21 && k <= 0x7E) || (k >= 0xA1 && k <= 0xAC) || (k >= 0xAE && k <= 0xFF)))
            n++;
    return 256u + (uint32_t)n;
}

static void utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = 0;
    } else {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = 0;
    }
}

#define G "\xc4\xa0" /* Ġ: space */
#define N "\xc4\x8a" /* Ċ: newline */

enum {
    T_AB = 256, T_GA, T_ABC, T_BC, T_GAB, T_AG, T_12, T_123, T_APOS_S, T_NN, T_GG, T_AA,
    T_XYZ, T_BCA, T_USER, T_EOT, N_VOCAB
};
static const char *const pieces[] = {"ab", G "a", "abc", "bc", G "ab", "a" G, "12", "123",
                                     "'s", N N, G G, "aa", "xyz", "bca", "<|u|>", "<|im_end|>"};
static const char *const merges[] = {
    "a b", G " a", "ab c", "b c", G "a b", "a " G, "1 2", "12 3", "' s", N " " N, G " " G,
    "a a",
    "x y",  /* "xy" is no token: the chain below still reaches "xyz" */
    "xy z",
};

struct options {
    const char *pre; /* NULL: key absent */
    bool with_merges;
    const char *bad_merge;
};

static slm_tokenizer *make_opts(struct options o, slm_error *err)
{
    static char names[256][3];
    const char *tokens[N_VOCAB];
    int32_t types[N_VOCAB];
    for (int b = 0; b < 256; b++) {
        utf8(spell_cp(b), names[b]);
        tokens[b] = names[b];
        types[b] = SLM_TOKEN_NORMAL;
    }
    for (int i = T_AB; i < N_VOCAB; i++) {
        tokens[i] = pieces[i - T_AB];
        types[i] = SLM_TOKEN_NORMAL;
    }
    types[T_USER] = SLM_TOKEN_USER_DEFINED;
    types[T_EOT] = SLM_TOKEN_CONTROL;
    struct gguf_builder b;
    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "gpt2");
    if (o.pre)
        gb_str(&b, "tokenizer.ggml.pre", o.pre);
    gb_strs(&b, "tokenizer.ggml.tokens", tokens, N_VOCAB);
    gb_i32s(&b, "tokenizer.ggml.token_type", types, N_VOCAB);
    if (o.bad_merge) {
        const char *m[] = {"a b", o.bad_merge};
        gb_strs(&b, "tokenizer.ggml.merges", m, 2);
    } else if (o.with_merges) {
        gb_strs(&b, "tokenizer.ggml.merges", merges, sizeof(merges) / sizeof(merges[0]));
    }
    return gb_tokenizer(&b, err);
}

static slm_tokenizer *make(const char *pre)
{
    slm_error err;
    slm_tokenizer *tok = make_opts((struct options){pre, true, NULL}, &err);
    if (!tok)
        fprintf(stderr, "crafted BPE vocabulary (%s): %s\n", pre, err.message);
    REQUIRE(tok != NULL);
    return tok;
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

static void test_merge_order(void)
{
    slm_tokenizer *tok = make("gpt-2");
    EXPECT(tok, "abc", 0, T_ABC);         /* ab (rank 0) before bc (3), then ab+c (2) */
    EXPECT(tok, "aaa", 0, T_AA, 'a');     /* equal ranks: the leftmost pair first */
    EXPECT(tok, "abab", 0, T_AB, T_AB);
    EXPECT(tok, "xyz", 0, T_XYZ);         /* through the non-token "xy" */
    EXPECT(tok, "xy", 0, 'x', 'y');       /* "xy" itself falls back to its bytes */
    EXPECT(tok, "", 0, );
    slm_tokenizer_free(tok);
}

static void test_gpt2_pretokenizer(void)
{
    slm_tokenizer *tok = make("gpt-2");
    /* "a" | " bc": the cross-word merge "a Ġ" must not apply */
    EXPECT(tok, "a bc", 0, 'a', ' ', T_BC); /* id = byte value: ' ' is Ġ */
    /* contractions split off: "a" | "'s" */
    EXPECT(tok, "a's", 0, 'a', T_APOS_S);
    /* letters and digits are separate words: "a" | "123" */
    EXPECT(tok, "a123", 0, 'a', T_123);
    /* two spaces before a word: " " | " b" ("\s+(?!\S)" leaves the last space) */
    EXPECT(tok, "a  b", 0, 'a', ' ', ' ', 'b');
    /* trailing spaces stay together and merge */
    EXPECT(tok, "a  ", 0, 'a', T_GG);
    EXPECT(tok, "\n\n", 0, T_NN);
    /* " ab": a+b (rank 0) wins over Ġ+a (1), and "Ġ ab" is no merge */
    EXPECT(tok, " ab", 0, ' ', T_AB);
    /* " ac": Ġ+a (1), then "Ġa c" is no merge */
    EXPECT(tok, " ac", 0, T_GA, 'c');
    slm_tokenizer_free(tok);
}

static void test_other_pretokenizers(void)
{
    /* llama3: numbers in groups of three; a whole-word token skips the merges */
    slm_tokenizer *tok = make("llama-bpe");
    EXPECT(tok, "1231", 0, T_123, '1');
    EXPECT(tok, "bca", 0, T_BCA);
    EXPECT(tok, "\n\n", 0, T_NN);
    CHECK(slm_tokenizer_special(tok)->add_bos); /* the reference's default for llama3 */
    slm_tokenizer_free(tok);

    /* gpt-2 has no whole-word shortcut: bc, then "bc a" is no merge */
    tok = make("gpt-2");
    EXPECT(tok, "bca", 0, T_BC, 'a');
    CHECK(!slm_tokenizer_special(tok)->add_bos);
    slm_tokenizer_free(tok);

    /* starcoder: every digit alone */
    tok = make("starcoder");
    EXPECT(tok, "a123", 0, 'a', '1', '2', '3');
    slm_tokenizer_free(tok);

    /* deepseek-llm: newlines one by one, no merge across them */
    tok = make("deepseek-llm");
    EXPECT(tok, "\n\n", 0, '\n', '\n');
    slm_tokenizer_free(tok);

    /* a missing pre-tokenizer is the reference's "default" */
    tok = make(NULL);
    CHECK(strcmp(slm_tokenizer_pre_name(tok), "default") == 0);
    EXPECT(tok, "a123", 0, 'a', T_123);
    slm_tokenizer_free(tok);
}

static void test_specials_and_bytes(void)
{
    slm_tokenizer *tok = make("gpt-2");
    EXPECT(tok, "a<|u|>b", 0, 'a', T_USER, 'b');
    EXPECT(tok, "<|im_end|>", 0, '<', '|', 'i', 'm', '_', 'e', 'n', 'd', '|', '>');
    EXPECT(tok, "<|im_end|>", SLM_TOKENIZE_PARSE_SPECIAL, T_EOT);
    CHECK(slm_tokenizer_is_eog(tok, T_EOT));
    /* an invalid byte reads as U+FFFD, whose UTF-8 bytes are tokenized */
    EXPECT(tok, "\xff", 0, 0xEF, 0xBF, 0xBD);
    /* a valid multi-byte character: its bytes */
    EXPECT(tok, "\xc3\xa9", 0, 0xC3, 0xA9);
    slm_tokenizer_free(tok);
}

static void test_offsets_and_detok(void)
{
    slm_tokenizer *tok = make("gpt-2");
    static const char text[] = "a bc\xff\xc3\xa9";
    struct slm_tokens t;
    slm_error err;
    REQUIRE(slm_tokenize(tok, text, sizeof(text) - 1, 0, true, &t, &err) == 0);
    /* a [0,1]  Ġ [1,2]  bc [2,4]  then U+FFFD's three bytes all from [4,5], é [5,6] [6,7] */
    static const uint32_t starts[] = {0, 1, 2, 4, 4, 4, 5, 6}, ends[] = {1, 2, 4, 5, 5, 5, 6, 7};
    REQUIRE(t.n == 8);
    for (size_t i = 0; i < 8; i++)
        CHECKF(t.starts[i] == starts[i] && t.ends[i] == ends[i], "token %zu: %u..%u", i,
               t.starts[i], t.ends[i]);
    slm_tokens_free(&t);

    static const char round[] = "ab c  'sabc\n\n\t x\xc3\xa9\xf0\x9f\xa6\x99 123";
    REQUIRE(slm_tokenize(tok, round, sizeof(round) - 1, 0, false, &t, &err) == 0);
    char *back = NULL;
    size_t len = 0;
    REQUIRE(slm_detokenize(tok, t.ids, t.n, false, &back, &len, &err) == 0);
    CHECKF(len == sizeof(round) - 1 && memcmp(back, round, len) == 0, "\"%s\"", back);
    free(back);
    slm_tokens_free(&t);

    char buf[8];
    CHECK(slm_token_to_bytes(tok, T_GAB, false, buf, sizeof(buf)) == 3 &&
          memcmp(buf, " ab", 3) == 0);
    CHECK(slm_token_to_bytes(tok, 0xC3, false, buf, sizeof(buf)) == 1 &&
          (uint8_t)buf[0] == 0xC3);
    CHECK(slm_token_to_bytes(tok, T_EOT, false, buf, sizeof(buf)) == 0);
    slm_tokenizer_free(tok);
}

static void test_load_errors(void)
{
    slm_error err;
    slm_tokenizer *tok = make_opts((struct options){"no-such-pre", true, NULL}, &err);
    CHECK(!tok && err.status == SLM_ERR_UNSUPPORTED && strstr(err.message, "tokenizer.ggml.pre") &&
          strstr(err.message, "no-such-pre"));
    tok = make_opts((struct options){"gpt-2", false, NULL}, &err);
    CHECK(!tok && err.status == SLM_ERR_FORMAT && strstr(err.message, "tokenizer.ggml.merges"));
    tok = make_opts((struct options){"gpt-2", true, "ab"}, &err);
    CHECK(!tok && strstr(err.message, "merge 1"));
    tok = make_opts((struct options){"gpt-2", true, "a "}, &err);
    CHECK(!tok && strstr(err.message, "merge 1"));
    CHECK(strstr(err.message, "test.gguf") != NULL);
}

int main(void)
{
    test_merge_order();
    test_gpt2_pretokenizer();
    test_other_pretokenizers();
    test_specials_and_bytes();
    test_offsets_and_detok();
    test_load_errors();
    return test_report();
}
