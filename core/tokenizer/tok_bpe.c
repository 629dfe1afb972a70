/* Byte-level BPE (GGUF tokenizer.ggml.model = "gpt2").
 *
 * As the reference engine does it (llm_tokenizer_bpe_session): the pre-tokenizer splits
 * the text into words; each word's bytes are spelled in GPT-2's printable alphabet (one
 * character per byte); adjacent symbols are merged, always the pair with the lowest merge
 * rank (ties: leftmost); the final symbols are looked up as tokens. Symbols here are ids
 * rather than strings: a token id, or an id past the vocabulary for a string that a merge
 * produces but the vocabulary lacks, so merge lookups are one hash probe of two integers. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_heap.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tok_utf8.h"
#include "util/checked.h"
#include "util/cleanup.h"

#define NO_SYMBOL UINT32_MAX

/* GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the other 68
 * (controls, space, DEL, C1 controls, NBSP, soft hyphen) for U+0100 onwards in order. */
uint32_t tok_byte_to_cp(uint8_t b)
{
    if (b <= 0x20)
        return 0x100u + b;
    if (b >= 0x7F && b <= 0xA0)
        return 0x100u + 33u + (b - 0x7Fu);
    if (b == 0xAD)
        return 0x100u + 67u;
    return b;
}

int tok_cp_to_byte(uint32_t cp)
{
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF))
        return (int)cp;
    if (cp >= 0x100 && cp <= 0x120)
        return (int)(cp - 0x100);
    if (cp >= 0x121 && cp <= 0x142)
        return (int)(0x7F + cp - 0x121);
    if (cp == 0x143)
        return 0xAD;
    return -1;
}

/* ---- loading merges ---- */

struct symbol_table {
    slm_tokenizer *tok;
    slm_strmap extra; /* text → extra symbol number (texts owned by tok->extra_symbols) */
    size_t extra_cap;
};

static uint32_t symbol_lookup(const struct symbol_table *st, const char *text, size_t len)
{
    int32_t id = tok_find(st->tok, text, len);
    if (id >= 0)
        return (uint32_t)id;
    int64_t k;
    if (st->extra.slots && slm_strmap_get(&st->extra, text, len, &k))
        return st->tok->n_vocab + (uint32_t)k;
    return NO_SYMBOL;
}

static int symbol_intern(struct symbol_table *st, const char *text, size_t len, uint32_t *out,
                         slm_error *err)
{
    uint32_t s = symbol_lookup(st, text, len);
    if (s != NO_SYMBOL) {
        *out = s;
        return 0;
    }
    slm_tokenizer *tok = st->tok;
    if (tok->n_extra_symbols == st->extra_cap) {
        size_t cap = st->extra_cap ? st->extra_cap * 2 : 16;
        char **v = realloc(tok->extra_symbols, cap * sizeof(*v));
        if (!v)
            return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", tok->source);
        tok->extra_symbols = v;
        uint32_t *l = realloc(tok->extra_symbol_len, cap * sizeof(*l));
        if (!l)
            return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", tok->source);
        tok->extra_symbol_len = l;
        st->extra_cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy || (!st->extra.slots && !slm_strmap_init(&st->extra, 64))) {
        free(copy);
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", tok->source);
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    uint32_t k = tok->n_extra_symbols;
    if (!slm_strmap_put(&st->extra, copy, len, k, NULL)) {
        free(copy);
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", tok->source);
    }
    tok->extra_symbols[k] = copy;
    tok->extra_symbol_len[k] = (uint32_t)len;
    tok->n_extra_symbols++;
    *out = tok->n_vocab + k;
    return 0;
}

static void symbol_table_deinit(struct symbol_table *st)
{
    if (st->extra.slots)
        slm_strmap_deinit(&st->extra);
}

int tok_bpe_init_merges(slm_tokenizer *tok, uint32_t n, tok_merge_fn get, void *ctx,
                        const char *what, slm_error *err)
{
    if (n > SLM_TOKENIZER_MAX_MERGES)
        return slm_errorf(err, SLM_ERR_LIMIT, "%s: %u merges (limit %u)", what, n,
                          SLM_TOKENIZER_MAX_MERGES);
    tok->merges = malloc((n ? n : 1) * sizeof(*tok->merges));
    if (!tok->merges || !tok_pair_index_init(&tok->merge_index, n))
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory for %u merges", what, n);

    _cleanup_(symbol_table_deinit) struct symbol_table st = {.tok = tok};
    _cleanup_free_ char *joined = malloc(2 * SLM_TOKENIZER_MAX_TOKEN_BYTES + 2);
    if (!joined)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", what);
    for (uint32_t i = 0; i < n; i++) {
        const char *text;
        size_t len;
        int r = get(ctx, i, &text, &len, err);
        if (r < 0)
            return r;
        /* "left right": split at the first space after the first byte, as the reference
         * does (a left part may itself be a lone space in exotic vocabularies). */
        const char *sp = len > 1 ? memchr(text + 1, ' ', len - 1) : NULL;
        if (!sp || sp + 1 == text + len)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: merge %u is not \"left right\"", what,
                              i);
        size_t left_len = (size_t)(sp - text), right_len = len - left_len - 1;
        if (left_len + right_len > 2 * SLM_TOKENIZER_MAX_TOKEN_BYTES)
            return slm_errorf(err, SLM_ERR_LIMIT, "%s: merge %u is %zu bytes long", what, i,
                              len);
        memcpy(joined, text, left_len);
        memcpy(joined + left_len, sp + 1, right_len);
        struct tok_merge *m = &tok->merges[tok->n_merges];
        if ((r = symbol_intern(&st, text, left_len, &m->left, err)) < 0 ||
            (r = symbol_intern(&st, sp + 1, right_len, &m->right, err)) < 0 ||
            (r = symbol_intern(&st, joined, left_len + right_len, &m->result, err)) < 0)
            return r;
        m->rank = i;
        if (tok_pair_index_insert(&tok->merge_index, tok->merges, tok->n_merges))
            tok->n_merges++;
    }
    for (int b = 0; b < 256; b++) {
        uint8_t utf8[4];
        size_t l = tok_utf8_encode(tok_byte_to_cp((uint8_t)b), utf8);
        tok->byte_symbol[b] = symbol_lookup(&st, (const char *)utf8, l);
    }
    return 0;
}

/* ---- tokenizing ---- */

struct bpe_symbol {
    int32_t prev, next;
    uint32_t start, n; /* bytes of the word; n = 0 once merged away */
    uint32_t sym;
};

struct bpe_word {
    uint8_t *bytes;     /* the word's bytes, re-encoded from code points */
    uint32_t *byte_cp;  /* code point index (in the fragment) of each byte */
    uint8_t *byte_k;    /* index of the byte within its code point's encoding */
    size_t n;
};

static bool add_candidate(const slm_tokenizer *tok, struct bpe_symbol *sym, struct tok_heap *h,
                          int32_t left, int32_t right)
{
    if (left < 0 || right < 0)
        return true;
    if (sym[left].sym == NO_SYMBOL || sym[right].sym == NO_SYMBOL)
        return true;
    int64_t m = tok_pair_index_find(&tok->merge_index, tok->merges, sym[left].sym,
                                    sym[right].sym);
    if (m < 0)
        return true;
    struct tok_candidate c = {
        .key = ((uint64_t)tok->merges[m].rank << 32) | (uint32_t)left,
        .left = left,
        .right = right,
        .size = sym[left].n + sym[right].n,
        .result = tok->merges[m].result,
    };
    return tok_heap_push(h, c);
}

/* Input bytes of word byte b: itself when its code point was re-encoded to the same
 * bytes (always, for valid input); the whole source of the code point otherwise (an
 * invalid byte read as U+FFFD, an overlong form). */
static bool same_length(const struct tok_cps *cps, const struct bpe_word *w, size_t b)
{
    uint8_t tmp[4];
    uint32_t c = w->byte_cp[b];
    return tok_utf8_encode(cps->cp[c], tmp) == cps->src[c + 1] - cps->src[c];
}
static size_t span_start(const struct tok_cps *cps, const struct bpe_word *w, size_t b)
{
    uint32_t c = w->byte_cp[b];
    return same_length(cps, w, b) ? cps->src[c] + w->byte_k[b] : cps->src[c];
}
static size_t span_end(const struct tok_cps *cps, const struct bpe_word *w, size_t b)
{
    uint32_t c = w->byte_cp[b];
    return same_length(cps, w, b) ? cps->src[c] + w->byte_k[b] + 1u : cps->src[c + 1];
}

/* A final symbol that is no token: the reference looks up each byte of its printable
 * spelling as a one-byte token and drops those it does not find. */
static int emit_fallback(const slm_tokenizer *tok, const struct tok_cps *cps,
                         const struct bpe_word *w, const struct bpe_symbol *s,
                         struct tok_out *out, slm_error *err)
{
    for (uint32_t k = 0; k < s->n; k++) {
        size_t b = s->start + k;
        uint8_t spelled[4];
        size_t l = tok_utf8_encode(tok_byte_to_cp(w->bytes[b]), spelled);
        for (size_t j = 0; j < l; j++) {
            int32_t id = tok_find(tok, (const char *)&spelled[j], 1);
            if (id < 0)
                continue;
            int r = tok_out_push(out, id, span_start(cps, w, b), span_end(cps, w, b), err);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* The word spelled in GPT-2's alphabet, for the whole-word lookup of ignore_merges. */
static int32_t find_whole_word(const slm_tokenizer *tok, const struct bpe_word *w,
                               char *scratch)
{
    size_t n = 0;
    for (size_t b = 0; b < w->n; b++)
        n += tok_utf8_encode(tok_byte_to_cp(w->bytes[b]), (uint8_t *)scratch + n);
    return tok_find(tok, scratch, n);
}

static int merge_word(const slm_tokenizer *tok, const struct tok_cps *cps,
                      const struct bpe_word *w, struct bpe_symbol *sym, struct tok_heap *heap,
                      struct tok_out *out, slm_error *err)
{
    int32_t n = (int32_t)w->n;
    for (int32_t i = 0; i < n; i++)
        sym[i] = (struct bpe_symbol){i - 1, i + 1 < n ? i + 1 : -1, (uint32_t)i, 1,
                                     tok->byte_symbol[w->bytes[i]]};
    heap->n = 0;
    bool ok = true;
    for (int32_t i = 1; i < n && ok; i++)
        ok = add_candidate(tok, sym, heap, i - 1, i);
    while (ok && heap->n > 0) {
        struct tok_candidate c = tok_heap_pop(heap);
        struct bpe_symbol *l = &sym[c.left], *r = &sym[c.right];
        /* stale if either side changed since the candidate was made (the reference
         * compares the texts; with fixed positions equal sizes mean equal texts) */
        if (l->n == 0 || r->n == 0 || l->n + r->n != c.size)
            continue;
        l->n += r->n;
        l->sym = c.result;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0)
            sym[r->next].prev = c.left;
        ok = add_candidate(tok, sym, heap, l->prev, c.left) &&
             add_candidate(tok, sym, heap, c.left, l->next);
    }
    if (!ok)
        return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
    for (int32_t i = 0; i != -1 && n > 0; i = sym[i].next) {
        const struct bpe_symbol *s = &sym[i];
        int r;
        if (s->sym < tok->n_vocab)
            r = tok_out_push(out, (int32_t)s->sym, span_start(cps, w, s->start),
                             span_end(cps, w, s->start + s->n - 1), err);
        else
            r = emit_fallback(tok, cps, w, s, out, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int tok_bpe_fragment(const slm_tokenizer *tok, const char *text, size_t start, size_t end,
                     struct tok_out *out, slm_error *err)
{
    struct tok_cps cps = {0};
    _cleanup_free_ struct tok_span *words = NULL;
    size_t n_words = 0;
    int r = tok_decode_ref(text, start, end, &cps, err);
    if (r == 0)
        r = tok_pretok_split(&tok->regexes, &cps, &words, &n_words, err);
    if (r < 0) {
        tok_cps_free(&cps);
        return r;
    }

    size_t longest = 0;
    for (size_t i = 0; i < n_words; i++)
        longest = SLM_MAX(longest, (size_t)(words[i].end - words[i].start));
    /* a code point re-encodes to at most 4 bytes; each byte spells as at most 2 */
    struct bpe_word w = {malloc(4 * longest + 1), malloc((4 * longest + 1) * sizeof(uint32_t)),
                         malloc(4 * longest + 1), 0};
    struct bpe_symbol *sym = malloc((4 * longest + 1) * sizeof(*sym));
    char *scratch = tok->ignore_merges ? malloc(8 * longest + 1) : NULL;
    struct tok_heap heap = {0};
    if (!w.bytes || !w.byte_cp || !w.byte_k || !sym || (tok->ignore_merges && !scratch))
        r = slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");

    for (size_t i = 0; i < n_words && r == 0; i++) {
        w.n = 0;
        for (uint32_t c = words[i].start; c < words[i].end; c++) {
            size_t l = tok_utf8_encode(cps.cp[c], w.bytes + w.n);
            for (size_t k = 0; k < l; k++) {
                w.byte_cp[w.n + k] = c;
                w.byte_k[w.n + k] = (uint8_t)k;
            }
            w.n += l;
        }
        if (tok->ignore_merges) {
            int32_t id = find_whole_word(tok, &w, scratch);
            if (id >= 0) {
                r = tok_out_push(out, id, cps.src[words[i].start], cps.src[words[i].end], err);
                continue;
            }
        }
        r = merge_word(tok, &cps, &w, sym, &heap, out, err);
    }
    free(heap.v);
    free(scratch);
    free(sym);
    free(w.bytes);
    free(w.byte_cp);
    free(w.byte_k);
    tok_cps_free(&cps);
    return r;
}
