/* Building a vocabulary: token texts, the string index, and everything derived from the
 * attributes once a loader has set them (end-of-generation set, byte-fallback table,
 * special-token match tables). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "util/checked.h"
#include "util/cleanup.h"

int tok_vocab_init(slm_tokenizer *tok, uint32_t n, tok_text_fn get_text, void *ctx,
                   const char *what, slm_error *err)
{
    if (n == 0)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: empty vocabulary", what);
    if (n > SLM_TOKENIZER_MAX_VOCAB)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s: %u tokens (limit %u)", what, n,
                          SLM_TOKENIZER_MAX_VOCAB);

    /* First pass: lengths, so the arena is one allocation. */
    size_t arena_len = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *text;
        size_t len;
        int r = get_text(ctx, i, &text, &len, err);
        if (r < 0)
            return r;
        if (len > SLM_TOKENIZER_MAX_TOKEN_BYTES)
            return slm_errorf(err, SLM_ERR_LIMIT, "%s: token %u is %zu bytes (limit %u)",
                              what, i, len, SLM_TOKENIZER_MAX_TOKEN_BYTES);
        if (slm_add_size(arena_len, len + 1, &arena_len) || arena_len > UINT32_MAX)
            return slm_errorf(err, SLM_ERR_LIMIT, "%s: token texts too large", what);
    }

    tok->tokens = calloc(n, sizeof(*tok->tokens));
    tok->arena = malloc(arena_len);
    if (!tok->tokens || !tok->arena || !tok_id_index_init(&tok->index, n))
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory for %u tokens", what, n);
    tok->n_vocab = n;
    tok->arena_len = arena_len;

    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *text;
        size_t len;
        int r = get_text(ctx, i, &text, &len, err);
        if (r < 0)
            return r;
        if (off + len + 1 > arena_len) /* the source changed between passes */
            return slm_errorf(err, SLM_ERR_INTERNAL, "%s: token %u changed", what, i);
        memcpy(tok->arena + off, text, len);
        tok->arena[off + len] = '\0';
        struct tok_token *t = &tok->tokens[i];
        t->offset = (uint32_t)off;
        t->len = (uint32_t)len;
        t->attr = SLM_TOKEN_NORMAL;
        off += len + 1;
        if (len > tok->max_token_len)
            tok->max_token_len = (uint32_t)len;
        /* An empty token cannot be found by text; the reference renames it, we keep it
         * unreachable (it can still be decoded, to nothing). */
        if (len == 0)
            continue;
        int64_t prev = tok_id_index_insert(&tok->index, tok->arena, tok->tokens,
                                           tok->arena + t->offset, (uint32_t)len, i);
        if (prev >= 0)
            return slm_errorf(err, SLM_ERR_FORMAT,
                              "%s: duplicate token \"%.*s\" at ids %lld and %u", what,
                              (int)SLM_MIN(len, 64), text, (long long)prev, i);
    }
    return 0;
}

int32_t tok_find(const slm_tokenizer *tok, const char *text, size_t len)
{
    if (len == 0)
        return -1;
    return (int32_t)tok_id_index_find(&tok->index, tok->arena, tok->tokens, text, len);
}

/* ---- end of generation ---- */

/* Token texts the reference engine treats as end-of-turn, end-of-message, fill-in-the-
 * middle markers and end-of-generation when the file names no id for them (its
 * llama_vocab::load). Kept in its order of preference. */
/* Spelled with escapes: "<｜end▁of▁sentence｜>" (DeepSeek) and its FIM markers. */
#define DS_BAR "\xef\xbd\x9c"
#define DS_SP "\xe2\x96\x81"
#define DS_END_OF_SENTENCE ("<" DS_BAR "end" DS_SP "of" DS_SP "sentence" DS_BAR ">")

static const char *const eot_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", DS_END_OF_SENTENCE, "<end_of_utterance>",
};
static const char *const eom_texts[] = {"<|eom_id|>"};
static const char *const fim_pre_texts[] = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", ("<" DS_BAR "fim" DS_SP "begin" DS_BAR ">"),
    "<PRE>", (DS_SP "<PRE>"), "<|code_prefix|>", "<|prefix|>",
};
static const char *const fim_suf_texts[] = {
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", ("<" DS_BAR "fim" DS_SP "hole" DS_BAR ">"),
    "<SUF>", (DS_SP "<SUF>"), "<|code_suffix|>", "<|suffix|>",
};
static const char *const fim_mid_texts[] = {
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", ("<" DS_BAR "fim" DS_SP "end" DS_BAR ">"),
    "<MID>", (DS_SP "<MID>"), "<|code_middle|>", "<|middle|>",
};
static const char *const fim_pad_texts[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
                                            "[PAD]"};
static const char *const fim_rep_texts[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                            "<REPO>", "<reponame>"};
static const char *const fim_sep_texts[] = {"<|file_sep|>"};
static const char *const eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]",
    "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    DS_END_OF_SENTENCE, "[e~[",
};

static int32_t find_cstr(const slm_tokenizer *tok, const char *s)
{
    return tok_find(tok, s, strlen(s));
}

/* A token the reference recognizes by its text is made a control token even when the
 * file forgot to mark it (it warns: "this is probably a bug in the model"). */
static void force_control(slm_tokenizer *tok, int32_t id)
{
    if (tok->tokens[id].attr != SLM_TOKEN_CONTROL)
        tok->tokens[id].attr = SLM_TOKEN_CONTROL;
}

/* Detects one kind of marker by text when `*id` is unset; returns the id in use. */
static int32_t detect_by_text(slm_tokenizer *tok, int32_t *id, const char *const *texts,
                              size_t n)
{
    if (*id >= 0)
        return *id;
    for (size_t i = 0; i < n; i++) {
        int32_t t = find_cstr(tok, texts[i]);
        if (t >= 0) {
            *id = t;
            force_control(tok, t);
            return t;
        }
    }
    return -1;
}

static void mark_eog(slm_tokenizer *tok, int32_t id)
{
    if (id >= 0 && (uint32_t)id < tok->n_vocab)
        tok->tokens[id].flags |= TOK_FLAG_EOG;
}

static void build_eog(slm_tokenizer *tok, int32_t fim_ids[6])
{
    struct slm_special_tokens *sp = &tok->special;
    detect_by_text(tok, &sp->eot, eot_texts, SLM_ARRAY_SIZE(eot_texts));
    detect_by_text(tok, &sp->eom, eom_texts, SLM_ARRAY_SIZE(eom_texts));
    static const struct {
        const char *const *texts;
        size_t n;
    } fim[6] = {
        {fim_pre_texts, SLM_ARRAY_SIZE(fim_pre_texts)},
        {fim_suf_texts, SLM_ARRAY_SIZE(fim_suf_texts)},
        {fim_mid_texts, SLM_ARRAY_SIZE(fim_mid_texts)},
        {fim_pad_texts, SLM_ARRAY_SIZE(fim_pad_texts)},
        {fim_rep_texts, SLM_ARRAY_SIZE(fim_rep_texts)},
        {fim_sep_texts, SLM_ARRAY_SIZE(fim_sep_texts)},
    };
    for (size_t k = 0; k < 6; k++)
        detect_by_text(tok, &fim_ids[k], fim[k].texts, fim[k].n);

    /* FIM pad, repo and file-separator markers end generation too. */
    mark_eog(tok, fim_ids[3]);
    mark_eog(tok, fim_ids[4]);
    mark_eog(tok, fim_ids[5]);
    for (size_t i = 0; i < SLM_ARRAY_SIZE(eog_texts); i++) {
        int32_t t = find_cstr(tok, eog_texts[i]);
        if (t >= 0) {
            mark_eog(tok, t);
            force_control(tok, t);
        }
    }
    /* gpt-oss channel markers are always rendered. */
    static const char *const rendered[] = {"<|channel|>", "<|message|>", "<|start|>",
                                           "<|constrain|>"};
    for (size_t i = 0; i < SLM_ARRAY_SIZE(rendered); i++) {
        int32_t t = find_cstr(tok, rendered[i]);
        if (t >= 0)
            tok->tokens[t].attr = SLM_TOKEN_USER_DEFINED;
    }
    mark_eog(tok, sp->eos);
    mark_eog(tok, sp->eot);
    mark_eog(tok, sp->eom);

    /* Harmony-style vocabularies (<|return|> + <|call|>, or <|calls|> + <|flush|>) use
     * <|end|> between messages, not at the end of generation. */
    int32_t ret = find_cstr(tok, "<|return|>"), call = find_cstr(tok, "<|call|>");
    int32_t calls = find_cstr(tok, "<|calls|>"), flush = find_cstr(tok, "<|flush|>");
    int32_t end = find_cstr(tok, "<|end|>");
    bool has_call = call >= 0 || calls >= 0;
    if (end >= 0 && ((ret >= 0 && has_call) || (has_call && flush >= 0))) {
        tok->tokens[end].flags &= (uint8_t)~TOK_FLAG_EOG;
        tok->tokens[end].attr = SLM_TOKEN_USER_DEFINED;
    }
    /* Vocabularies with <|tool_response> use </s> as text (gemma4, paddleocr). */
    int32_t tool = find_cstr(tok, "<|tool_response>"), s_end = find_cstr(tok, "</s>");
    if (tool >= 0 && s_end >= 0 && (tok->tokens[s_end].flags & TOK_FLAG_EOG)) {
        tok->tokens[s_end].flags &= (uint8_t)~TOK_FLAG_EOG;
        tok->tokens[s_end].attr = SLM_TOKEN_NORMAL;
    }
}

/* ---- special-token tables ---- */

/* Sorting keys for the special tables (qsort takes no context, and two models may load
 * on two threads at once, so the keys carry what the comparators need). */
struct special_key {
    const char *text;
    uint32_t len;
    uint32_t id;
};

static int by_priority(const void *a, const void *b)
{
    const struct special_key *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int by_text(const void *a, const void *b)
{
    const struct special_key *x = a, *y = b;
    int c = memcmp(x->text, y->text, SLM_MIN(x->len, y->len));
    if (c)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int build_special_tables(slm_tokenizer *tok, slm_error *err)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < tok->n_vocab; i++)
        if (tok_is_special_attr(tok->tokens[i].attr) && tok->tokens[i].len > 0)
            n++;
    tok->n_special = n;
    if (n == 0)
        return 0;
    _cleanup_free_ struct special_key *keys = malloc(n * sizeof(*keys));
    _cleanup_free_ uint32_t *rank_of_id = malloc(tok->n_vocab * sizeof(uint32_t));
    tok->special_by_priority = malloc(n * sizeof(uint32_t));
    tok->special_sorted = malloc(n * sizeof(uint32_t));
    tok->special_rank = malloc(n * sizeof(uint32_t));
    if (!keys || !rank_of_id || !tok->special_by_priority || !tok->special_sorted ||
        !tok->special_rank)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", tok->source);
    n = 0;
    for (uint32_t i = 0; i < tok->n_vocab; i++)
        if (tok_is_special_attr(tok->tokens[i].attr) && tok->tokens[i].len > 0)
            keys[n++] = (struct special_key){tok_text(tok, i), tok->tokens[i].len, i};

    qsort(keys, n, sizeof(*keys), by_priority);
    for (uint32_t r = 0; r < n; r++) {
        tok->special_by_priority[r] = keys[r].id;
        rank_of_id[keys[r].id] = r;
    }
    qsort(keys, n, sizeof(*keys), by_text);
    for (uint32_t k = 0; k < n; k++) {
        tok->special_sorted[k] = keys[k].id;
        tok->special_rank[k] = rank_of_id[keys[k].id];
        uint8_t first = (uint8_t)keys[k].text[0];
        tok->special_first_byte[first >> 3] |= (uint8_t)(1u << (first & 7));
    }
    return 0;
}

static void build_byte_tokens(slm_tokenizer *tok)
{
    static const char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; b++) {
        char name[7] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>', 0};
        int32_t id = tok_find(tok, name, 6);
        if (id < 0) {
            char raw = (char)b;
            id = tok_find(tok, &raw, 1);
        }
        tok->byte_tokens[b] = id;
    }
}

static void check_special_range(const slm_tokenizer *tok, int32_t *id)
{
    if (*id < -1 || (*id >= 0 && (uint32_t)*id >= tok->n_vocab))
        *id = -1;
}

int tok_vocab_finish(slm_tokenizer *tok, slm_error *err)
{
    struct slm_special_tokens *sp = &tok->special;
    int32_t *ids[] = {&sp->bos, &sp->eos, &sp->eot, &sp->eom, &sp->unk,
                      &sp->pad, &sp->sep, &sp->cls, &sp->mask};
    for (size_t i = 0; i < SLM_ARRAY_SIZE(ids); i++)
        check_special_range(tok, ids[i]);

    int32_t fim_ids[6] = {-1, -1, -1, -1, -1, -1};
    build_eog(tok, fim_ids);
    build_byte_tokens(tok);
    return build_special_tables(tok, err);
}

/* ---- output ---- */

int tok_out_push(struct tok_out *o, int32_t id, size_t start, size_t end, slm_error *err)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        int32_t *ids = realloc(o->ids, cap * sizeof(*ids));
        if (!ids)
            return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
        o->ids = ids;
        if (o->offsets) {
            uint32_t *s = realloc(o->starts, cap * sizeof(*s));
            if (!s)
                return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
            o->starts = s;
            uint32_t *e = realloc(o->ends, cap * sizeof(*e));
            if (!e)
                return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
            o->ends = e;
        }
        o->cap = cap;
    }
    o->ids[o->n] = id;
    if (o->offsets) {
        /* Inputs are capped at SLM_TOKENIZE_MAX_INPUT, so offsets fit in 32 bits. */
        o->starts[o->n] = (uint32_t)start;
        o->ends[o->n] = (uint32_t)end;
    }
    o->n++;
    return 0;
}
