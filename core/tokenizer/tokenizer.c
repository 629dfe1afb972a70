/* The public tokenizer interface: tokenize, accessors, free. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "util/cleanup.h"

void slm_tokenizer_free(slm_tokenizer *tok)
{
    if (!tok)
        return;
    free(tok->tokens);
    free(tok->arena);
    tok_id_index_deinit(&tok->index);
    free(tok->special_by_priority);
    free(tok->special_sorted);
    free(tok->special_rank);
    tok_regexes_free(&tok->regexes);
    free(tok->merges);
    tok_pair_index_deinit(&tok->merge_index);
    for (uint32_t i = 0; i < tok->n_extra_symbols; i++)
        free(tok->extra_symbols[i]);
    free(tok->extra_symbols);
    free(tok->extra_symbol_len);
    free(tok->pre_name);
    free(tok->source);
    free(tok);
}

enum slm_tokenizer_kind slm_tokenizer_kind(const slm_tokenizer *tok) { return tok->kind; }
const char *slm_tokenizer_kind_name(const slm_tokenizer *tok) { return tok->kind_name; }
const char *slm_tokenizer_pre_name(const slm_tokenizer *tok)
{
    return tok->pre_name ? tok->pre_name : "default";
}
uint32_t slm_tokenizer_n_vocab(const slm_tokenizer *tok) { return tok->n_vocab; }

const struct slm_special_tokens *slm_tokenizer_special(const slm_tokenizer *tok)
{
    return &tok->special;
}

bool slm_tokenizer_is_eog(const slm_tokenizer *tok, int32_t id)
{
    return id >= 0 && (uint32_t)id < tok->n_vocab && (tok->tokens[id].flags & TOK_FLAG_EOG);
}

enum slm_token_attr slm_tokenizer_attr(const slm_tokenizer *tok, int32_t id)
{
    if (id < 0 || (uint32_t)id >= tok->n_vocab)
        return SLM_TOKEN_UNUSED;
    return (enum slm_token_attr)tok->tokens[id].attr;
}

const char *slm_tokenizer_token_text(const slm_tokenizer *tok, int32_t id, size_t *len)
{
    if (id < 0 || (uint32_t)id >= tok->n_vocab) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = tok->tokens[id].len;
    return tok_text(tok, (uint32_t)id);
}

int32_t slm_tokenizer_find(const slm_tokenizer *tok, const char *text, size_t len)
{
    if (!text)
        return -1;
    return tok_find(tok, text, len);
}

float slm_tokenizer_score(const slm_tokenizer *tok, int32_t id)
{
    if (id < 0 || (uint32_t)id >= tok->n_vocab)
        return 0.0f;
    return tok->tokens[id].score;
}

void slm_tokens_free(struct slm_tokens *t)
{
    if (!t)
        return;
    free(t->ids);
    free(t->starts);
    free(t->ends);
    t->ids = NULL;
    t->starts = t->ends = NULL;
    t->n = 0;
}

static int push_special(struct tok_out *o, int32_t id, size_t at, slm_error *err)
{
    if (id < 0)
        return 0;
    return tok_out_push(o, id, at, at, err);
}

static int tokenize_pieces(const slm_tokenizer *tok, const char *text,
                           const struct tok_piece *p, size_t n, struct tok_out *o,
                           slm_error *err)
{
    /* SentencePiece puts "▁" before the first text and before text after a special. */
    bool after_special = true;
    for (size_t i = 0; i < n; i++) {
        int r;
        if (p[i].token >= 0) {
            r = tok_out_push(o, p[i].token, p[i].start, p[i].end, err);
            after_special = true;
        } else {
            switch (tok->kind) {
            case SLM_TOKENIZER_SPM:
                r = tok_spm_fragment(tok, text, p[i].start, p[i].end,
                                     tok->add_space_prefix && after_special, o, err);
                break;
            case SLM_TOKENIZER_BPE:
                r = tok_bpe_fragment(tok, text, p[i].start, p[i].end, o, err);
                break;
            default:
                r = tok_wordpiece_fragment(tok, text, p[i].start, p[i].end, o, err);
                break;
            }
            after_special = false;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

int slm_tokenize(const slm_tokenizer *tok, const char *text, size_t len, unsigned flags,
                 bool want_offsets, struct slm_tokens *out, slm_error *err)
{
    if (out)
        memset(out, 0, sizeof(*out));
    if (!tok || !out || (!text && len))
        return slm_errorf(err, SLM_ERR_INVALID, "tokenize: invalid arguments");
    if (len > SLM_TOKENIZE_MAX_INPUT)
        return slm_errorf(err, SLM_ERR_LIMIT, "tokenize: input of %zu bytes exceeds the %u-byte "
                          "limit", len, SLM_TOKENIZE_MAX_INPUT);
    bool add = flags & SLM_TOKENIZE_ADD_SPECIAL;
    bool parse = flags & SLM_TOKENIZE_PARSE_SPECIAL;
    const struct slm_special_tokens *sp = &tok->special;
    bool wordpiece = tok->kind == SLM_TOKENIZER_WORDPIECE;

    struct tok_out o = {.offsets = want_offsets};
    _cleanup_free_ struct tok_piece *pieces = NULL;
    size_t n_pieces = 0;
    int r = tok_partition(tok, text, len, parse, &pieces, &n_pieces, err);
    if (r == 0 && add && sp->add_bos)
        r = push_special(&o, wordpiece ? sp->cls : sp->bos, 0, err);
    if (r == 0)
        r = tokenize_pieces(tok, text, pieces, n_pieces, &o, err);
    if (r == 0 && add && sp->add_eos)
        r = push_special(&o, wordpiece ? sp->sep : sp->eos, len, err);
    if (r < 0) {
        free(o.ids);
        free(o.starts);
        free(o.ends);
        return r;
    }
    out->ids = o.ids;
    out->starts = o.starts;
    out->ends = o.ends;
    out->n = o.n;
    return 0;
}
