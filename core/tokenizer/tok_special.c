/* Splitting text on special-token strings before ordinary tokenization.
 *
 * The reference engine (llama_vocab::impl::tokenizer_st_partition) takes the special
 * tokens longest first and, for each, cuts every occurrence out of the raw fragments that
 * are left, left to right. Doing that literally costs (number of special tokens) × (text
 * length): 2400 user-defined tokens (deepseek) over a 64 KiB prompt is 150M comparisons.
 * Here every occurrence of every special token is found in one pass (a prefix search
 * over the texts sorted lexicographically), and the occurrences are then accepted in the
 * reference's order — by token priority, then position — when none of their bytes has
 * been taken yet. That is the same result, because a later token can only match inside
 * what earlier tokens left. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "util/checked.h"
#include "util/cleanup.h"

struct occurrence {
    uint64_t key; /* priority rank << 32 | position: the reference's order */
    uint32_t len;
    int32_t id;
};

struct interval {
    size_t start, end;
    int32_t token; /* -1: bytes dropped by an lstrip/rstrip token */
};

static int cmp_occurrence(const void *a, const void *b)
{
    uint64_t x = ((const struct occurrence *)a)->key, y = ((const struct occurrence *)b)->key;
    return x < y ? -1 : x > y;
}

static int cmp_interval(const void *a, const void *b)
{
    size_t x = ((const struct interval *)a)->start, y = ((const struct interval *)b)->start;
    return x < y ? -1 : x > y;
}

/* Byte k of special_sorted[idx], or -1 past its end (shorter strings sort first). */
static int byte_at(const slm_tokenizer *tok, uint32_t idx, size_t k)
{
    uint32_t id = tok->special_sorted[idx];
    if (tok->tokens[id].len <= k)
        return -1;
    return (uint8_t)tok_text(tok, id)[k];
}

/* First index in [lo, hi) whose byte k is >= c (or > c when `after`). */
static uint32_t bound(const slm_tokenizer *tok, uint32_t lo, uint32_t hi, size_t k, int c,
                      bool after)
{
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int b = byte_at(tok, mid, k);
        if (after ? b <= c : b < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool eligible(const slm_tokenizer *tok, int32_t id, bool parse_special)
{
    uint8_t attr = tok->tokens[id].attr;
    return attr == SLM_TOKEN_USER_DEFINED || parse_special;
}

struct occ_list {
    struct occurrence *v;
    size_t n, cap;
};

static int occ_push(struct occ_list *l, struct occurrence o, slm_error *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct occurrence *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = o;
    return 0;
}

/* Every special token that starts at `pos`. */
static int find_at(const slm_tokenizer *tok, const char *text, size_t len, size_t pos,
                   bool parse_special, struct occ_list *occ, slm_error *err)
{
    uint32_t lo = 0, hi = tok->n_special;
    for (size_t k = 0; pos + k < len && lo < hi; k++) {
        int c = (uint8_t)text[pos + k];
        lo = bound(tok, lo, hi, k, c, false);
        hi = bound(tok, lo, hi, k, c, true);
        if (lo < hi && byte_at(tok, lo, k + 1) == -1) {
            int32_t id = (int32_t)tok->special_sorted[lo];
            if (eligible(tok, id, parse_special)) {
                struct occurrence o = {((uint64_t)tok->special_rank[lo] << 32) | pos,
                                       (uint32_t)(k + 1), id};
                int r = occ_push(occ, o, err);
                if (r < 0)
                    return r;
            }
        }
    }
    return 0;
}

static bool bit(const uint64_t *bits, size_t i) { return (bits[i >> 6] >> (i & 63)) & 1; }
static void set_bit(uint64_t *bits, size_t i) { bits[i >> 6] |= (uint64_t)1 << (i & 63); }

static bool range_free(const uint64_t *taken, size_t start, size_t end)
{
    for (size_t i = start; i < end; i++)
        if (bit(taken, i))
            return false;
    return true;
}

static bool c_isspace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static int add_interval(struct interval **v, size_t *n, size_t *cap, struct interval iv,
                        slm_error *err)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        struct interval *nv = realloc(*v, c * sizeof(*nv));
        if (!nv)
            return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = iv;
    return 0;
}

/* Accepts occurrences in order; records the tokens and the whitespace their strip
 * attributes remove. */
static int accept_occurrences(const slm_tokenizer *tok, const char *text, size_t len,
                              const struct occ_list *occ, struct interval **iv, size_t *n_iv,
                              slm_error *err)
{
    size_t words = len / 64 + 1, cap = 0;
    _cleanup_free_ uint64_t *taken = calloc(words, sizeof(uint64_t));
    if (!taken)
        return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
    for (size_t i = 0; i < occ->n; i++) {
        const struct occurrence *o = &occ->v[i];
        size_t start = (size_t)(o->key & 0xffffffffu), end = start + o->len;
        if (!range_free(taken, start, end))
            continue;
        for (size_t b = start; b < end; b++)
            set_bit(taken, b);
        int r = add_interval(iv, n_iv, &cap, (struct interval){start, end, o->id}, err);
        if (r < 0)
            return r;
        uint8_t flags = tok->tokens[o->id].flags;
        if (flags & TOK_FLAG_LSTRIP) {
            size_t s = start;
            while (s > 0 && !bit(taken, s - 1) && c_isspace(text[s - 1]))
                set_bit(taken, --s);
            if (s < start && (r = add_interval(iv, n_iv, &cap,
                                               (struct interval){s, start, -1}, err)) < 0)
                return r;
        }
        if (flags & TOK_FLAG_RSTRIP) {
            size_t e = end;
            while (e < len && !bit(taken, e) && c_isspace(text[e]))
                set_bit(taken, e++);
            if (e > end &&
                (r = add_interval(iv, n_iv, &cap, (struct interval){end, e, -1}, err)) < 0)
                return r;
        }
    }
    return 0;
}

static int add_piece(struct tok_piece **v, size_t *n, size_t *cap, struct tok_piece p,
                     slm_error *err)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct tok_piece *nv = realloc(*v, c * sizeof(*nv));
        if (!nv)
            return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = p;
    return 0;
}

int tok_partition(const slm_tokenizer *tok, const char *text, size_t len, bool parse_special,
                  struct tok_piece **pieces, size_t *n_pieces, slm_error *err)
{
    *pieces = NULL;
    *n_pieces = 0;
    if (len == 0)
        return 0;

    struct occ_list occ = {0};
    _cleanup_free_ struct interval *iv = NULL;
    size_t n_iv = 0;
    int r = 0;
    if (tok->n_special > 0) {
        for (size_t pos = 0; pos < len && r == 0; pos++) {
            uint8_t c = (uint8_t)text[pos];
            if (tok->special_first_byte[c >> 3] & (1u << (c & 7)))
                r = find_at(tok, text, len, pos, parse_special, &occ, err);
        }
        if (r == 0 && occ.n > 0) {
            qsort(occ.v, occ.n, sizeof(*occ.v), cmp_occurrence);
            r = accept_occurrences(tok, text, len, &occ, &iv, &n_iv, err);
        }
        free(occ.v);
        if (r < 0)
            return r;
        if (n_iv > 1)
            qsort(iv, n_iv, sizeof(*iv), cmp_interval);
    }

    struct tok_piece *out = NULL;
    size_t n = 0, cap = 0, pos = 0;
    for (size_t i = 0; i <= n_iv && r == 0; i++) {
        size_t next = i < n_iv ? iv[i].start : len;
        if (next > pos)
            r = add_piece(&out, &n, &cap, (struct tok_piece){pos, next, -1}, err);
        if (i < n_iv && r == 0) {
            if (iv[i].token >= 0)
                r = add_piece(&out, &n, &cap,
                              (struct tok_piece){iv[i].start, iv[i].end, iv[i].token}, err);
            pos = iv[i].end;
        }
    }
    if (r < 0) {
        free(out);
        return r;
    }
    *pieces = out;
    *n_pieces = n;
    return 0;
}
