/* Tokenizers from GGUF metadata (tokenizer.ggml.*), with the defaults the reference
 * engine applies for each tokenizer model when keys are absent (llama_vocab::impl::load).
 *
 * Decisions where the reference is lenient:
 *  - duplicate token texts are an error (as in the reference: lookup would be ambiguous);
 *  - scores and token types must have exactly one entry per token, types 1..6, scores
 *    not NaN (merge order would be undefined);
 *  - a special-token id outside the vocabulary is ignored and the default kept (the
 *    reference warns and does the same) — but a BOS/EOS/SEP the vocabulary says to add
 *    must exist;
 *  - a byte-level BPE file without tokenizer.ggml.pre uses the "default" pre-tokenizer,
 *    as the reference does; a name the table does not know is an error. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tokenizer/tok_internal.h"
#include "util/cleanup.h"

#define KEY_MODEL "tokenizer.ggml.model"
#define KEY_PRE "tokenizer.ggml.pre"
#define KEY_TOKENS "tokenizer.ggml.tokens"
#define KEY_SCORES "tokenizer.ggml.scores"
#define KEY_TYPES "tokenizer.ggml.token_type"
#define KEY_MERGES "tokenizer.ggml.merges"

struct gguf_ctx {
    const slm_gguf *g;
    const char *key;
};

static int gguf_text(void *ctx, uint32_t i, const char **text, size_t *len, slm_error *err)
{
    struct gguf_ctx *c = ctx;
    struct slm_gguf_str s;
    int r = slm_gguf_arr_str(c->g, c->key, i, &s, err);
    if (r < 0)
        return r;
    *text = s.ptr;
    *len = (size_t)s.len;
    return 0;
}

/* An array key that must hold `want` elements of one of the given types. */
static int check_array(const slm_gguf *g, const char *key, uint64_t want,
                       const enum slm_gguf_value_type *types, size_t n_types, bool *present,
                       slm_error *err)
{
    enum slm_gguf_value_type et;
    uint64_t count;
    int r = slm_gguf_get_arr(g, key, &et, &count, err);
    *present = r == 0;
    if (r == -SLM_ERR_NOT_FOUND)
        return 0;
    if (r < 0)
        return r;
    bool ok = false;
    for (size_t i = 0; i < n_types; i++)
        ok |= et == types[i];
    if (!ok)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: array of %s is not a valid type",
                          slm_gguf_name(g), key, slm_gguf_value_type_name(et));
    if (count != want)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: %llu entries for %llu tokens",
                          slm_gguf_name(g), key, (unsigned long long)count,
                          (unsigned long long)want);
    return 0;
}

static int read_scores_and_types(slm_tokenizer *tok, const slm_gguf *g, slm_error *err)
{
    static const enum slm_gguf_value_type score_types[] = {SLM_GGUF_F32, SLM_GGUF_I32};
    static const enum slm_gguf_value_type type_types[] = {SLM_GGUF_I32};
    bool present;
    int r = check_array(g, KEY_SCORES, tok->n_vocab, score_types, 2, &present, err);
    if (r < 0)
        return r;
    if (present) {
        enum slm_gguf_value_type et;
        uint64_t count;
        slm_gguf_get_arr(g, KEY_SCORES, &et, &count, err);
        for (uint32_t i = 0; i < tok->n_vocab; i++) {
            float score;
            if (et == SLM_GGUF_F32) {
                r = slm_gguf_arr_f32(g, KEY_SCORES, i, &score, err);
            } else {
                int64_t v = 0;
                r = slm_gguf_arr_i64(g, KEY_SCORES, i, &v, err);
                score = (float)v;
            }
            if (r < 0)
                return r;
            if (isnan(score))
                return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: score of token %u is NaN",
                                  slm_gguf_name(g), KEY_SCORES, i);
            tok->tokens[i].score = score;
        }
    }
    r = check_array(g, KEY_TYPES, tok->n_vocab, type_types, 1, &present, err);
    if (r < 0 || !present)
        return r;
    for (uint32_t i = 0; i < tok->n_vocab; i++) {
        int64_t t;
        if ((r = slm_gguf_arr_i64(g, KEY_TYPES, i, &t, err)) < 0)
            return r;
        if (t < SLM_TOKEN_NORMAL || t > SLM_TOKEN_BYTE)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: token %u has type %lld (not 1..6)",
                              slm_gguf_name(g), KEY_TYPES, i, (long long)t);
        tok->tokens[i].attr = (uint8_t)t;
    }
    return 0;
}

/* Byte tokens must read <0xXX>: their byte is parsed from the text. */
static int check_byte_tokens(const slm_tokenizer *tok, const slm_gguf *g, slm_error *err)
{
    static const char hex[] = "0123456789ABCDEFabcdef";
    for (uint32_t i = 0; i < tok->n_vocab; i++) {
        if (tok->tokens[i].attr != SLM_TOKEN_BYTE)
            continue;
        const char *t = tok_text(tok, i);
        if (tok->tokens[i].len != 6 || memcmp(t, "<0x", 3) != 0 || t[5] != '>' ||
            !strchr(hex, t[3]) || !strchr(hex, t[4]))
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: byte token %u is \"%.16s\", not <0xXX>",
                              slm_gguf_name(g), KEY_TYPES, i, t);
    }
    return 0;
}

/* An optional special-token id: absent keeps the default, out of range is ignored. */
static int read_special(const slm_tokenizer *tok, const slm_gguf *g, const char *key,
                        int32_t *id, slm_error *err)
{
    uint32_t v;
    int r = slm_gguf_get_u32(g, key, &v, err);
    if (r == -SLM_ERR_NOT_FOUND)
        return 0;
    if (r < 0)
        return r;
    if (v < tok->n_vocab)
        *id = (int32_t)v;
    return 0;
}

static int read_bool(const slm_gguf *g, const char *key, bool *out, slm_error *err)
{
    int r = slm_gguf_get_bool(g, key, out, err);
    return r == -SLM_ERR_NOT_FOUND ? 0 : r;
}

static int read_specials(slm_tokenizer *tok, const slm_gguf *g, slm_error *err)
{
    struct slm_special_tokens *sp = &tok->special;
    static const struct {
        const char *key;
        size_t offset;
    } keys[] = {
        {"tokenizer.ggml.bos_token_id", offsetof(struct slm_special_tokens, bos)},
        {"tokenizer.ggml.eos_token_id", offsetof(struct slm_special_tokens, eos)},
        {"tokenizer.ggml.eot_token_id", offsetof(struct slm_special_tokens, eot)},
        {"tokenizer.ggml.eom_token_id", offsetof(struct slm_special_tokens, eom)},
        {"tokenizer.ggml.unknown_token_id", offsetof(struct slm_special_tokens, unk)},
        {"tokenizer.ggml.seperator_token_id", offsetof(struct slm_special_tokens, sep)},
        {"tokenizer.ggml.padding_token_id", offsetof(struct slm_special_tokens, pad)},
        {"tokenizer.ggml.cls_token_id", offsetof(struct slm_special_tokens, cls)},
        {"tokenizer.ggml.mask_token_id", offsetof(struct slm_special_tokens, mask)},
    };
    for (size_t i = 0; i < SLM_ARRAY_SIZE(keys); i++) {
        int32_t *id = (int32_t *)((char *)sp + keys[i].offset);
        int r = read_special(tok, g, keys[i].key, id, err);
        if (r < 0)
            return r;
    }
    int r;
    if ((r = read_bool(g, "tokenizer.ggml.add_bos_token", &sp->add_bos, err)) < 0 ||
        (r = read_bool(g, "tokenizer.ggml.add_eos_token", &sp->add_eos, err)) < 0)
        return r;
    return 0;
}

struct merges_ctx {
    const slm_gguf *g;
};

static int gguf_merge(void *ctx, uint32_t i, const char **text, size_t *len, slm_error *err)
{
    struct gguf_ctx c = {((struct merges_ctx *)ctx)->g, KEY_MERGES};
    return gguf_text(&c, i, text, len, err);
}

static int setup_bpe(slm_tokenizer *tok, const slm_gguf *g, slm_error *err)
{
    const char *name = slm_gguf_name(g);
    const char *pre = tok->pre_name ? tok->pre_name : "default";
    struct tok_pretok_info info;
    if (!tok_pretok_lookup(pre, &info))
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: %s: unknown pre-tokenizer \"%s\"", name,
                          KEY_PRE, pre);
    tok->pretok = info.pretok;
    tok->ignore_merges = info.ignore_merges;
    tok->special.add_bos = info.add_bos;
    int r = tok_pretok_compile(info.pretok, &tok->regexes, err);
    if (r < 0)
        return r;

    enum slm_gguf_value_type et;
    uint64_t count;
    r = slm_gguf_get_arr(g, KEY_MERGES, &et, &count, err);
    if (r == -SLM_ERR_NOT_FOUND)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: missing (needed by byte-level BPE)", name,
                          KEY_MERGES);
    if (r < 0)
        return r;
    if (et != SLM_GGUF_STRING)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: array of %s, expected strings", name,
                          KEY_MERGES, slm_gguf_value_type_name(et));
    if (count > SLM_TOKENIZER_MAX_MERGES)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s: %s: %llu merges (limit %u)", name, KEY_MERGES,
                          (unsigned long long)count, SLM_TOKENIZER_MAX_MERGES);
    char what[600];
    snprintf(what, sizeof(what), "%s: %s", name, KEY_MERGES);
    struct merges_ctx mc = {g};
    return tok_bpe_init_merges(tok, (uint32_t)count, gguf_merge, &mc, what, err);
}

static int setup_wordpiece(slm_tokenizer *tok, const slm_gguf *g, slm_error *err)
{
    /* The reference's converter spells word-start tokens "▁word" and continuations bare. */
    struct tok_wordpiece *wp = &tok->wp;
    memcpy(wp->word_prefix, "\xe2\x96\x81", 3);
    wp->word_prefix_len = 3;
    wp->cont_prefix_len = 0;
    wp->lowercase = true;
    wp->chinese_chars = true;
    int r = read_bool(g, "tokenizer.ggml.normalizer.lowercase", &wp->lowercase, err);
    if (r < 0)
        return r;
    wp->strip_accents = wp->lowercase;
    return read_bool(g, "tokenizer.ggml.normalizer.strip_accents", &wp->strip_accents, err);
}

/* The reference gives phi-3 vocabularies (by general.name) right-stripping special
 * tokens: "<|user|>\nHi" tokenizes the text after the marker without its newline. */
static void phi3_rstrip(slm_tokenizer *tok, const slm_gguf *g)
{
    struct slm_gguf_str name;
    slm_error ignored;
    if (slm_gguf_get_str(g, "general.name", &name, &ignored) < 0)
        return;
    char lower[256];
    size_t n = SLM_MIN((size_t)name.len, sizeof(lower) - 1);
    for (size_t i = 0; i < n; i++) {
        char c = name.ptr[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    lower[n] = '\0';
    if (!strstr(lower, "phi-3") && !strstr(lower, "phi3"))
        return;
    for (uint32_t i = 0; i < tok->n_special; i++)
        tok->tokens[tok->special_by_priority[i]].flags |= TOK_FLAG_RSTRIP;
    static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
    int32_t s_end = tok_find(tok, "</s>", 4);
    if (s_end >= 0)
        tok->tokens[s_end].flags |= TOK_FLAG_RSTRIP;
    for (size_t i = 0; i < SLM_ARRAY_SIZE(keep); i++) {
        int32_t id = tok_find(tok, keep[i], strlen(keep[i]));
        if (id >= 0)
            tok->tokens[id].flags &= (uint8_t)~TOK_FLAG_RSTRIP;
    }
}

static int check_add_special(const slm_tokenizer *tok, const slm_gguf *g, slm_error *err)
{
    const struct slm_special_tokens *sp = &tok->special;
    const char *name = slm_gguf_name(g);
    if (tok->kind == SLM_TOKENIZER_WORDPIECE) {
        if (sp->cls < 0 || sp->sep < 0)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: WordPiece vocabulary without CLS/SEP ids",
                              name);
        return 0;
    }
    if (sp->add_bos && sp->bos < 0)
        return slm_errorf(err, SLM_ERR_FORMAT,
                          "%s: tokenizer.ggml.add_bos_token is true, but there is no BOS id",
                          name);
    if (sp->add_eos && sp->eos < 0)
        return slm_errorf(err, SLM_ERR_FORMAT,
                          "%s: tokenizer.ggml.add_eos_token is true, but there is no EOS id",
                          name);
    return 0;
}

static int set_defaults(slm_tokenizer *tok, const char *model, const slm_gguf *g, slm_error *err)
{
    struct slm_special_tokens *sp = &tok->special;
    *sp = (struct slm_special_tokens){-1, -1, -1, -1, -1, -1, -1, -1, -1, false, false};
    if (strcmp(model, "llama") == 0) {
        tok->kind = SLM_TOKENIZER_SPM;
        sp->bos = 1;
        sp->eos = 2;
        sp->unk = 0;
        sp->add_bos = true;
        tok->add_space_prefix = true;
    } else if (strcmp(model, "gpt2") == 0) {
        tok->kind = SLM_TOKENIZER_BPE;
        sp->bos = 11;
        sp->eos = 11;
    } else if (strcmp(model, "bert") == 0) {
        tok->kind = SLM_TOKENIZER_WORDPIECE;
        sp->bos = 101;
        sp->unk = 100;
        sp->sep = 102;
        sp->pad = 0;
        sp->mask = 103;
        sp->add_bos = true; /* [CLS] */
        sp->add_eos = true; /* [SEP] */
    } else {
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: %s: unsupported tokenizer model \"%s\"",
                          slm_gguf_name(g), KEY_MODEL, model);
    }
    snprintf(tok->kind_name, sizeof(tok->kind_name), "%s", model);
    /* defaults past the vocabulary are dropped, as in the reference */
    int32_t *ids[] = {&sp->bos, &sp->eos, &sp->unk, &sp->sep, &sp->pad, &sp->mask};
    for (size_t i = 0; i < SLM_ARRAY_SIZE(ids); i++)
        if (*ids[i] >= 0 && (uint32_t)*ids[i] >= tok->n_vocab)
            *ids[i] = -1;
    return 0;
}

static int load(slm_tokenizer *tok, const slm_gguf *g, slm_error *err)
{
    const char *name = slm_gguf_name(g);
    _cleanup_free_ char *model = NULL;
    int r = slm_gguf_get_str_dup(g, KEY_MODEL, &model, err);
    if (r == -SLM_ERR_NOT_FOUND)
        return slm_errorf(err, SLM_ERR_NOT_FOUND, "%s: %s: missing (the file has no tokenizer)",
                          name, KEY_MODEL);
    if (r < 0)
        return r;
    r = slm_gguf_get_str_dup(g, KEY_PRE, &tok->pre_name, err);
    if (r < 0 && r != -SLM_ERR_NOT_FOUND)
        return r;

    enum slm_gguf_value_type et;
    uint64_t count;
    r = slm_gguf_get_arr(g, KEY_TOKENS, &et, &count, err);
    if (r == -SLM_ERR_NOT_FOUND)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: missing", name, KEY_TOKENS);
    if (r < 0)
        return r;
    if (et != SLM_GGUF_STRING)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s: array of %s, expected strings", name,
                          KEY_TOKENS, slm_gguf_value_type_name(et));
    if (count > SLM_TOKENIZER_MAX_VOCAB)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s: %s: %llu tokens (limit %u)", name, KEY_TOKENS,
                          (unsigned long long)count, SLM_TOKENIZER_MAX_VOCAB);
    char what[600];
    snprintf(what, sizeof(what), "%s: %s", name, KEY_TOKENS);
    struct gguf_ctx tc = {g, KEY_TOKENS};
    if ((r = tok_vocab_init(tok, (uint32_t)count, gguf_text, &tc, what, err)) < 0 ||
        (r = read_scores_and_types(tok, g, err)) < 0 || (r = check_byte_tokens(tok, g, err)) < 0)
        return r;

    if ((r = set_defaults(tok, model, g, err)) < 0)
        return r;
    if (tok->kind == SLM_TOKENIZER_BPE && (r = setup_bpe(tok, g, err)) < 0)
        return r;
    if (tok->kind == SLM_TOKENIZER_WORDPIECE && (r = setup_wordpiece(tok, g, err)) < 0)
        return r;
    if ((r = read_specials(tok, g, err)) < 0)
        return r;
    if (tok->kind == SLM_TOKENIZER_SPM &&
        (r = read_bool(g, "tokenizer.ggml.add_space_prefix", &tok->add_space_prefix, err)) < 0)
        return r;
    if (tok->kind == SLM_TOKENIZER_WORDPIECE) {
        /* The reference always adds [CLS] (its BOS) and [SEP] around BERT input. */
        if (tok->special.cls < 0)
            tok->special.cls = tok->special.bos;
        tok->special.add_bos = tok->special.add_eos = true;
    }
    if (!tok->pre_name && !(tok->pre_name = strdup("default")))
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", name);
    if ((r = tok_vocab_finish(tok, err)) < 0)
        return r;
    phi3_rstrip(tok, g);
    return check_add_special(tok, g, err);
}

slm_tokenizer *slm_tokenizer_from_gguf(const slm_gguf *gguf, slm_error *err)
{
    if (!gguf) {
        slm_errorf(err, SLM_ERR_INVALID, "tokenizer: no GGUF file given");
        return NULL;
    }
    slm_tokenizer *tok = calloc(1, sizeof(*tok));
    if (!tok || !(tok->source = strdup(slm_gguf_name(gguf)))) {
        free(tok);
        slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", slm_gguf_name(gguf));
        return NULL;
    }
    if (load(tok, gguf, err) < 0) {
        slm_tokenizer_free(tok);
        return NULL;
    }
    return tok;
}
