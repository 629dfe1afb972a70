/* WordPiece: BERT's basic-tokenizer rules and greedy longest-match-first pieces, from a
 * crafted GGUF vocabulary (the reference engine's rules) and from Hugging Face files in
 * tests/data/tokenizer (the tokenizers library's rules). Expectations are derived by hand. */
#include <stdint.h>
#include <string.h>

#include "../data/tokenizer/vocab_builder.h"
#include "test.h"

/* The vocabulary of tests/data/tokenizer/hf-*, in id order. */
static const char *const vocab[] = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "quick", "un", "##aff", "##able",
    ",", ".", "!", "hello", "world", "cafe", "\xe4\xb8\xad", "\xe6\x96\x87", "##s",
    "\xc3\x9f", "$", "12", "##3", "a", "\xe1\x84\x80", "##\xe1\x85\xa1", "don", "'", "t",
};
enum {
    PAD, UNK, CLS, SEP, MASK, THE, QUICK, UN, AFF, ABLE, COMMA, DOT, BANG, HELLO, WORLD, CAFE,
    ZHONG, WEN, S, ESZETT, DOLLAR, TWELVE, THREE, A, KIYEOK, AA, DON, APOS, T, N_WORDS,
    ENT = N_WORDS, /* "<ent>", an added token of tokenizer.json */
    THE_CASED = N_WORDS, QUICK_CASED, CAF, E_ACUTE, /* hf-vocab-cased */
};

/* The same vocabulary as the reference's converter writes it into GGUF: "▁word" for a
 * word start, a bare continuation, [bracketed] tokens as they are. */
static slm_tokenizer *make_gguf(void)
{
    static char spelled[N_WORDS][32];
    const char *tokens[N_WORDS];
    int32_t types[N_WORDS];
    for (int i = 0; i < N_WORDS; i++) {
        const char *w = vocab[i];
        if (w[0] == '[')
            snprintf(spelled[i], sizeof(spelled[i]), "%s", w);
        else if (strncmp(w, "##", 2) == 0)
            snprintf(spelled[i], sizeof(spelled[i]), "%s", w + 2);
        else
            snprintf(spelled[i], sizeof(spelled[i]), "\xe2\x96\x81%s", w);
        tokens[i] = spelled[i];
        types[i] = w[0] == '[' ? SLM_TOKEN_CONTROL : SLM_TOKEN_NORMAL;
    }
    struct gguf_builder b;
    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "bert");
    gb_str(&b, "tokenizer.ggml.pre", "bert-bge");
    gb_strs(&b, "tokenizer.ggml.tokens", tokens, N_WORDS);
    gb_i32s(&b, "tokenizer.ggml.token_type", types, N_WORDS);
    gb_u32(&b, "tokenizer.ggml.unknown_token_id", UNK);
    gb_u32(&b, "tokenizer.ggml.seperator_token_id", SEP);
    gb_u32(&b, "tokenizer.ggml.cls_token_id", CLS);
    gb_u32(&b, "tokenizer.ggml.padding_token_id", PAD);
    gb_u32(&b, "tokenizer.ggml.mask_token_id", MASK);
    slm_error err;
    slm_tokenizer *tok = gb_tokenizer(&b, &err);
    if (!tok)
        fprintf(stderr, "crafted GGUF WordPiece vocabulary: %s\n", err.message);
    REQUIRE(tok != NULL);
    return tok;
}

static slm_tokenizer *make_hf(const char *name, slm_error *err)
{
    const char *root = getenv("SLM_TEST_DATA");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/data/tokenizer/%s", root ? root : "tests", name);
    return slm_tokenizer_from_hf_dir(dir, err);
}

static slm_tokenizer *open_hf(const char *name)
{
    slm_error err;
    slm_tokenizer *tok = make_hf(name, &err);
    if (!tok)
        fprintf(stderr, "%s\n", err.message);
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

/* Rules both rule sets share. */
static void common_rules(slm_tokenizer *tok)
{
    /* lower-casing, punctuation split off, greedy longest match with continuations */
    EXPECT(tok, "The quick, UNAFFABLE!", 0, THE, QUICK, COMMA, UN, AFF, ABLE, BANG);
    EXPECT(tok, "The quick, UNAFFABLE!", SLM_TOKENIZE_ADD_SPECIAL, CLS, THE, QUICK, COMMA, UN,
           AFF, ABLE, BANG, SEP);
    /* accents stripped after canonical decomposition */
    EXPECT(tok, "Caf\xc3\xa9", 0, CAFE);
    /* CJK ideographs are words of their own even without spaces */
    EXPECT(tok, "\xe4\xb8\xad\xe6\x96\x87", 0, ZHONG, WEN);
    /* a control character is dropped without splitting: "helloworld" has no pieces */
    EXPECT(tok, "hello\x01world", 0, UNK);
    /* any Unicode space splits (NBSP, ideographic space) */
    EXPECT(tok, "hello\xc2\xa0world\xe3\x80\x80!", 0, HELLO, WORLD, BANG);
    /* ASCII symbols split like punctuation */
    EXPECT(tok, "$123", 0, DOLLAR, TWELVE, THREE);
    EXPECT(tok, "xyz a", 0, UNK, A);
    EXPECT(tok, "don't", 0, DON, APOS, T);
    /* ẞ (3 bytes) lower-cases to ß (2 bytes) */
    EXPECT(tok, "\xe1\xba\x9e", 0, ESZETT);
    /* whitespace only, nothing, invalid bytes (dropped as U+FFFD) */
    EXPECT(tok, " \t\n ", 0, );
    EXPECT(tok, "", 0, );
    EXPECT(tok, "a\xff" "a", 0, UNK); /* "aa" is one word without pieces */
    /* [CLS] in the text is text unless asked for */
    EXPECT(tok, "[CLS]", 0, UNK, UNK, UNK);
    EXPECT(tok, "[CLS]a", SLM_TOKENIZE_PARSE_SPECIAL, CLS, A);
}

static void test_gguf_rules(void)
{
    slm_tokenizer *tok = make_gguf();
    common_rules(tok);
    /* the reference keeps only the first code point of a decomposition: 가 → ᄀ */
    EXPECT(tok, "\xea\xb0\x80", 0, KIYEOK);
    /* it drops marks of every kind: a + DEVANAGARI SIGN VISARGA (Mc) → a */
    EXPECT(tok, "a\xe0\xa4\x83", 0, A);
    /* U+0085 is white space and splits */
    EXPECT(tok, "hello\xc2\x85world", 0, HELLO, WORLD);
    /* no word-length limit */
    EXPECT(tok, "unaffables", 0, UN, AFF, ABLE, S);
    const struct slm_special_tokens *sp = slm_tokenizer_special(tok);
    CHECK(sp->cls == CLS && sp->sep == SEP && sp->unk == UNK && sp->pad == PAD &&
          sp->mask == MASK && sp->add_bos && sp->add_eos);
    CHECK(slm_tokenizer_kind(tok) == SLM_TOKENIZER_WORDPIECE);
    slm_tokenizer_free(tok);
}

static void test_hf_rules(void)
{
    slm_tokenizer *tok = open_hf("hf-vocab-txt");
    common_rules(tok);
    /* full decomposition: 가 → ᄀ + ᅡ */
    EXPECT(tok, "\xea\xb0\x80", 0, KIYEOK, AA);
    /* only nonspacing marks go: the Mc stays and the word has no pieces */
    EXPECT(tok, "a\xe0\xa4\x83", 0, UNK);
    /* U+0085 is a control character there: dropped, the words join */
    EXPECT(tok, "hello\xc2\x85world", 0, UNK);
    EXPECT(tok, "quicks", 0, QUICK, S);
    const struct slm_special_tokens *sp = slm_tokenizer_special(tok);
    CHECK(sp->cls == CLS && sp->sep == SEP && sp->unk == UNK && sp->pad == PAD &&
          sp->mask == MASK);
    CHECK(slm_tokenizer_attr(tok, CLS) == SLM_TOKEN_CONTROL);
    slm_tokenizer_free(tok);

    tok = open_hf("hf-tokenizer-json");
    common_rules(tok);
    /* max_input_chars_per_word = 9 in this file: 10 characters are [UNK] even though
     * un + ##aff + ##able + ##s would match */
    EXPECT(tok, "unaffable unaffables", 0, UN, AFF, ABLE, UNK);
    /* a non-special added token is matched in the raw text */
    EXPECT(tok, "hello<ent>world", 0, HELLO, ENT, WORLD);
    CHECK(slm_tokenizer_n_vocab(tok) == N_WORDS + 1);
    slm_tokenizer_free(tok);

    /* cased: no lower-casing, and accents are kept (strip_accents follows lower-casing) */
    tok = open_hf("hf-vocab-cased");
    EXPECT(tok, "The Caf\xc3\xa9 the", 0, THE_CASED, CAF, E_ACUTE, THE);
    slm_tokenizer_free(tok);
}

static void test_offsets(void)
{
    slm_tokenizer *tok = open_hf("hf-vocab-txt");
    static const char text[] = "Caf\xc3\xa9, \xe4\xb8\xad\xe6\x96\x87! UNAFFABLE \xe1\xba\x9e";
    struct slm_tokens t;
    slm_error err;
    REQUIRE(slm_tokenize(tok, text, sizeof(text) - 1, SLM_TOKENIZE_ADD_SPECIAL, true, &t, &err) ==
            0);
    static const int32_t ids[] = {CLS, CAFE, COMMA, ZHONG, WEN, BANG, UN, AFF, ABLE, ESZETT, SEP};
    /* spans in the original bytes, whatever normalization did to their length */
    static const uint32_t starts[] = {0, 0, 5, 7, 10, 13, 15, 17, 20, 25, 28};
    static const uint32_t ends[] = {0, 5, 6, 10, 13, 14, 17, 20, 24, 28, 28};
    CHECK(same_ids(&t, ids, 11));
    for (size_t i = 0; i < 11 && t.n == 11; i++)
        CHECKF(t.starts[i] == starts[i] && t.ends[i] == ends[i], "token %zu: %u..%u", i,
               t.starts[i], t.ends[i]);
    slm_tokens_free(&t);
    slm_tokenizer_free(tok);
}

static void test_detokenize(void)
{
    const char *names[] = {"gguf", "hf-vocab-txt"};
    for (int k = 0; k < 2; k++) {
        slm_tokenizer *tok = k == 0 ? make_gguf() : open_hf(names[k]);
        static const int32_t ids[] = {CLS, THE, QUICK, COMMA, UN, AFF, ABLE, DON, APOS, T, BANG,
                                      SEP};
        char *out = NULL;
        size_t len = 0;
        slm_error err;
        REQUIRE(slm_detokenize(tok, ids, 12, false, &out, &len, &err) == 0);
        /* pieces joined, words spaced, then the library's clean-up of " ," " ' " " !" */
        CHECKF(strcmp(out, "the quick, unaffable don't!") == 0, "%s: \"%s\"", names[k], out);
        free(out);
        REQUIRE(slm_detokenize(tok, ids, 12, true, &out, &len, &err) == 0);
        CHECKF(strcmp(out, "[CLS] the quick, unaffable don't! [SEP]") == 0, "%s: \"%s\"",
               names[k], out);
        free(out);
        char buf[16];
        CHECK(slm_token_to_bytes(tok, AFF, false, buf, sizeof(buf)) == 3 &&
              memcmp(buf, "aff", 3) == 0);
        CHECK(slm_token_to_bytes(tok, THE, false, buf, sizeof(buf)) == 4 &&
              memcmp(buf, " the", 4) == 0);
        slm_tokenizer_free(tok);
    }
}

static void test_bad_directories(void)
{
    static const struct {
        const char *dir;
        enum slm_status status;
        const char *needle;
    } cases[] = {
        {"bad-duplicate-line", SLM_ERR_FORMAT, "duplicate token \"the\" at ids 3 and 5"},
        {"bad-no-unk", SLM_ERR_FORMAT, "[UNK]"},
        {"bad-config", SLM_ERR_FORMAT, "do_lower_case"},
        {"bad-json-truncated", SLM_ERR_FORMAT, "invalid JSON"},
        {"bad-json-trailing", SLM_ERR_FORMAT, "trailing data"},
        {"bad-json-hole", SLM_ERR_FORMAT, "no token has id 13"},
        {"bad-json-bpe", SLM_ERR_UNSUPPORTED, "BPE"},
        {"bad-json-conflict", SLM_ERR_FORMAT, "id 5 is both"},
        {"bad-json-pretokenizer", SLM_ERR_UNSUPPORTED, "Metaspace"},
        {"bad-json-long-token", SLM_ERR_LIMIT, "limit 1024"},
        {"empty-dir", SLM_ERR_NOT_FOUND, "no tokenizer.json or vocab.txt"},
        {"no-such-dir", SLM_ERR_NOT_FOUND, "no tokenizer.json or vocab.txt"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        slm_error err = {0};
        slm_tokenizer *tok = make_hf(cases[i].dir, &err);
        CHECKF(!tok, "%s loaded", cases[i].dir);
        slm_tokenizer_free(tok);
        CHECKF(err.status == cases[i].status && strstr(err.message, cases[i].needle) &&
                   strstr(err.message, cases[i].dir),
               "%s: %s (%s)", cases[i].dir, err.message, slm_status_name(err.status));
    }
}

int main(void)
{
    test_gguf_rules();
    test_hf_rules();
    test_offsets();
    test_detokenize();
    test_bad_directories();
    return test_report();
}
