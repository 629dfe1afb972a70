/* Fuzz target: tokenizing untrusted text. The first byte picks a tokenizer (SentencePiece,
 * byte-level BPE under every pre-tokenizer slmd knows, WordPiece from GGUF and from
 * tokenizer.json) and the second the flags; the rest is the text. Beyond "no crash", it
 * checks what must hold for any input: ids in the vocabulary, spans inside the text and in
 * order, decoded text that is valid UTF-8, the stream decoder agreeing with the whole-
 * sequence one, and lossless round trips where the tokenizer is lossless. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "slm/tokenizer.h"
#include "tests/data/tokenizer/vocab_builder.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tok_utf8.h"

#define CHECK_OR_TRAP(c)                                                                   \
    do {                                                                                   \
        if (!(c)) {                                                                        \
            fprintf(stderr, "fuzz_tokenizer: %s failed at line %d\n", #c, __LINE__);       \
            __builtin_trap();                                                              \
        }                                                                                  \
    } while (0)

static const char *const bpe_pres[] = {
    "gpt-2", "llama-bpe", "deepseek-llm", "deepseek-coder", "falcon", "qwen2", "gpt-4o",
    "tekken", "default", "starcoder", "bloom", "viking", "bailingmoe", "seed-coder",
    "qwen35", "minicpm5", "dbrx",
};
#define N_BPE (sizeof(bpe_pres) / sizeof(bpe_pres[0]))
#define N_TOKENIZERS (N_BPE + 3)

static slm_tokenizer *tokenizers[N_TOKENIZERS];

static uint32_t gpt2_cp(int b)
{
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
        return (uint32_t)b;
    int n = 0;
    for (int k = 0; k < b; k++)
        if (!((k >= 0x21 && k <= 0x7E) || (k >= 0xA1 && k <= 0xAC) || (k >= 0xAE && k <= 0xFF)))
            n++;
    return 256u + (uint32_t)n;
}

static slm_tokenizer *make_bpe(const char *pre)
{
    slm_error err;
    static char names[256][3];
    const char *tokens[256 + 12];
    int32_t types[256 + 12];
    for (int b = 0; b < 256; b++) {
        tok_utf8_encode(gpt2_cp(b), (uint8_t *)names[b]);
        names[b][gpt2_cp(b) < 0x80 ? 1 : 2] = 0;
        tokens[b] = names[b];
        types[b] = SLM_TOKEN_NORMAL;
    }
    static const char *const extra[] = {"\xc4\xa0t", "th", "the", "\xc4\xa0the", "in",
                                        "\xc4\xa0\xc4\xa0", "\xc4\x8a\xc4\x8a", "12",
                                        "<|endoftext|>", "<|u|>", "\xcf\x89", "er"};
    static const char *const merges[] = {"\xc4\xa0 t", "t h", "th e", "\xc4\xa0t he",
                                         "i n", "\xc4\xa0 \xc4\xa0", "\xc4\x8a \xc4\x8a",
                                         "1 2", "e r"};
    for (int i = 0; i < 12; i++) {
        tokens[256 + i] = extra[i];
        types[256 + i] = SLM_TOKEN_NORMAL;
    }
    types[256 + 8] = SLM_TOKEN_CONTROL;
    types[256 + 9] = types[256 + 10] = SLM_TOKEN_USER_DEFINED;
    struct gguf_builder b;
    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "gpt2");
    gb_str(&b, "tokenizer.ggml.pre", pre);
    gb_strs(&b, "tokenizer.ggml.tokens", tokens, 268);
    gb_i32s(&b, "tokenizer.ggml.token_type", types, 268);
    gb_strs(&b, "tokenizer.ggml.merges", merges, 9);
    gb_u32(&b, "tokenizer.ggml.bos_token_id", 256 + 8);
    gb_u32(&b, "tokenizer.ggml.eos_token_id", 256 + 8);
    slm_tokenizer *tok = gb_tokenizer(&b, &err);
    if (!tok)
        fprintf(stderr, "fuzz_tokenizer: %s\n", err.message);
    return tok;
}

static slm_tokenizer *make_spm(void)
{
    static char names[256][7];
    const char *tokens[3 + 256 + 8];
    float scores[3 + 256 + 8] = {0};
    int32_t types[3 + 256 + 8];
    tokens[0] = "<unk>";
    tokens[1] = "<s>";
    tokens[2] = "</s>";
    types[0] = SLM_TOKEN_UNKNOWN;
    types[1] = types[2] = SLM_TOKEN_CONTROL;
    for (int b = 0; b < 256; b++) {
        snprintf(names[b], sizeof(names[b]), "<0x%02X>", b);
        tokens[3 + b] = names[b];
        types[3 + b] = SLM_TOKEN_BYTE;
    }
    static const char *const extra[] = {"\xe2\x96\x81", "a", "b", "ab", ("\xe2\x96\x81" "a"),
                                        "ba", "<|user|>", "\xc3\xa9"};
    for (int i = 0; i < 8; i++) {
        tokens[259 + i] = extra[i];
        types[259 + i] = SLM_TOKEN_NORMAL;
        scores[259 + i] = -(float)i;
    }
    types[259 + 6] = SLM_TOKEN_USER_DEFINED;
    struct gguf_builder b;
    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "llama");
    gb_strs(&b, "tokenizer.ggml.tokens", tokens, 267);
    gb_f32s(&b, "tokenizer.ggml.scores", scores, 267);
    gb_i32s(&b, "tokenizer.ggml.token_type", types, 267);
    slm_error err;
    return gb_tokenizer(&b, &err);
}

static slm_tokenizer *make_wordpiece_gguf(void)
{
    static const char *const tokens[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                                         "\xe2\x96\x81the", "\xe2\x96\x81un", "aff", "able",
                                         "\xe2\x96\x81,", "\xe2\x96\x81\xe4\xb8\xad", "s"};
    int32_t types[12] = {3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1};
    struct gguf_builder b;
    gb_init(&b);
    gb_str(&b, "tokenizer.ggml.model", "bert");
    gb_strs(&b, "tokenizer.ggml.tokens", tokens, 12);
    gb_i32s(&b, "tokenizer.ggml.token_type", types, 12);
    gb_u32(&b, "tokenizer.ggml.unknown_token_id", 1);
    gb_u32(&b, "tokenizer.ggml.cls_token_id", 2);
    gb_u32(&b, "tokenizer.ggml.seperator_token_id", 3);
    slm_error err;
    return gb_tokenizer(&b, &err);
}

static slm_tokenizer *make_wordpiece_json(void)
{
    static const char json[] =
        "{\"added_tokens\":[{\"id\":0,\"content\":\"[UNK]\",\"special\":true},"
        "{\"id\":1,\"content\":\"[CLS]\",\"special\":true,\"rstrip\":true},"
        "{\"id\":2,\"content\":\"[SEP]\",\"special\":true,\"lstrip\":true},"
        "{\"id\":7,\"content\":\"<e>\",\"special\":false}],"
        "\"normalizer\":{\"type\":\"BertNormalizer\",\"lowercase\":true},"
        "\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
        "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\","
        "\"max_input_chars_per_word\":12,"
        "\"vocab\":{\"[UNK]\":0,\"[CLS]\":1,\"[SEP]\":2,\"the\":3,\"un\":4,\"##aff\":5,"
        "\"##able\":6,\"<e>\":7,\"\\u00df\":8}}}";
    slm_error err;
    return tok_hf_json_from_memory(json, sizeof(json) - 1, "fuzz-tokenizer.json", &err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < N_BPE; i++)
        tokenizers[i] = make_bpe(bpe_pres[i]);
    tokenizers[N_BPE] = make_spm();
    tokenizers[N_BPE + 1] = make_wordpiece_gguf();
    tokenizers[N_BPE + 2] = make_wordpiece_json();
    for (size_t i = 0; i < N_TOKENIZERS; i++)
        CHECK_OR_TRAP(tokenizers[i] != NULL);
    return 0;
}

static bool valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t l = tok_utf8_valid_len((const uint8_t *)s + i, n - i);
        if (l == 0 || l == TOK_UTF8_INCOMPLETE)
            return false;
        i += l;
    }
    return true;
}

static bool has_special(const slm_tokenizer *tok, const struct slm_tokens *t)
{
    for (size_t i = 0; i < t->n; i++) {
        enum slm_token_attr a = slm_tokenizer_attr(tok, t->ids[i]);
        if (a == SLM_TOKEN_CONTROL || a == SLM_TOKEN_USER_DEFINED || a == SLM_TOKEN_UNKNOWN)
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!tokenizers[0])
        LLVMFuzzerInitialize(NULL, NULL);
    if (size < 2)
        return 0;
    size_t which = data[0] % N_TOKENIZERS;
    const slm_tokenizer *tok = tokenizers[which];
    unsigned flags = data[1] & (SLM_TOKENIZE_ADD_SPECIAL | SLM_TOKENIZE_PARSE_SPECIAL);
    const char *text = (const char *)data + 2;
    size_t len = size - 2;

    struct slm_tokens t;
    slm_error err;
    int r = slm_tokenize(tok, text, len, flags, true, &t, &err);
    CHECK_OR_TRAP(r == 0 || r == -SLM_ERR_NOMEM || r == -SLM_ERR_LIMIT);
    if (r < 0)
        return 0;
    uint32_t n_vocab = slm_tokenizer_n_vocab(tok);
    for (size_t i = 0; i < t.n; i++) {
        CHECK_OR_TRAP(t.ids[i] >= 0 && (uint32_t)t.ids[i] < n_vocab);
        CHECK_OR_TRAP(t.starts[i] <= t.ends[i] && t.ends[i] <= len);
        CHECK_OR_TRAP(i == 0 || t.starts[i] >= t.starts[i - 1]);
    }

    char *whole = NULL;
    size_t whole_len = 0;
    r = slm_detokenize(tok, t.ids, t.n, true, &whole, &whole_len, &err);
    CHECK_OR_TRAP(r == 0 && whole && whole[whole_len] == '\0');
    CHECK_OR_TRAP(valid_utf8(whole, whole_len));

    enum slm_tokenizer_kind kind = slm_tokenizer_kind(tok);
    if (kind != SLM_TOKENIZER_WORDPIECE) {
        /* the stream, fed token by token, gives the same text */
        struct slm_detok d;
        slm_detok_init(&d, tok, true, true);
        char *out = NULL;
        size_t out_len = 0, cap = 0;
        for (size_t i = 0; i < t.n; i++)
            CHECK_OR_TRAP(slm_detok_push(&d, t.ids[i], &out, &out_len, &cap) >= 0);
        CHECK_OR_TRAP(slm_detok_finish(&d, &out, &out_len, &cap) >= 0);
        CHECK_OR_TRAP(out_len == whole_len && (out_len == 0 || memcmp(out, whole, out_len) == 0));
        free(out);
    }
    bool plain = !(flags & SLM_TOKENIZE_ADD_SPECIAL) && valid_utf8(text, len);
    if (plain && kind == SLM_TOKENIZER_BPE)
        CHECK_OR_TRAP(whole_len == len && memcmp(whole, text, len) == 0);
    /* SentencePiece spells spaces "▁", so a "▁" in the text comes back as a space */
    bool escaped = memmem(text, len, "\xe2\x96\x81", 3) != NULL;
    if (plain && kind == SLM_TOKENIZER_SPM && !escaped && !has_special(tok, &t))
        CHECK_OR_TRAP(whole_len == len && memcmp(whole, text, len) == 0);
    free(whole);
    slm_tokens_free(&t);
    return 0;
}
