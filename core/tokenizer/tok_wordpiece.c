/* WordPiece (BERT): the basic tokenizer's normalization and splitting, then greedy
 * longest-match-first pieces.
 *
 * Two rule sets, because the two references differ in details:
 *  - GGUF vocabularies follow the reference engine (llm_tokenizer_wpm_session): with
 *    strip_accents every code point is replaced by the FIRST code point of its canonical
 *    decomposition ("é" → "e", a Hangul syllable → its leading consonant), marks of any
 *    kind (Mn, Mc, Me) are dropped, unassigned code points are kept, words are spelled
 *    "▁word" / "ing" in the vocabulary and have no length limit.
 *  - Hugging Face files follow the tokenizers library (BertNormalizer, BertPreTokenizer,
 *    WordPiece): full canonical decomposition with only nonspacing marks (Mn) dropped,
 *    controls including unassigned code points removed, full lower-casing ("İ" → "i̇"),
 *    "word" / "##ing" spelling and max_input_chars_per_word.
 * Canonical reordering of combining marks is not applied: the marks it would reorder are
 * dropped by accent stripping, and NFD is used for nothing else.
 *
 * Every normalized code point remembers the input bytes it came from, so each token's
 * span is exact in the original text even where lower-casing or decomposition changed
 * byte lengths. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer/tok_internal.h"
#include "tokenizer/tok_utf8.h"
#include "util/checked.h"
#include "util/cleanup.h"

/* Canonical decompositions have at most 4 code points (Unicode 15: 3 for precomposed
 * Greek with two accents, Hangul LVT); 8 leaves room. */
#define MAX_DECOMPOSITION 8

struct norm_char {
    uint32_t cp;
    uint32_t lo, hi; /* input bytes */
};

struct word_buf {
    struct norm_char *v;
    size_t n, cap;
};

static bool is_white_space(uint32_t cp)
{
    if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85)
        return true;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

static bool is_punctuation(uint32_t cp)
{
    /* ASCII punctuation and symbols count (BERT splits "$" and "+"), plus Unicode P*. */
    if ((cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
        (cp >= 0x7B && cp <= 0x7E))
        return true;
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

/* CJK ideographs, as BERT lists them (with the tokenizers library's 0x2B920 lower bound
 * for Extension E, which the reference engine copies). */
static bool is_chinese_char(uint32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

static bool is_mark(uint32_t cp)
{
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

static size_t decompose(uint32_t cp, uint32_t out[MAX_DECOMPOSITION])
{
    utf8proc_int32_t buf[MAX_DECOMPOSITION];
    int boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, MAX_DECOMPOSITION,
                                                 UTF8PROC_DECOMPOSE, &boundclass);
    if (n <= 0 || n > MAX_DECOMPOSITION) {
        out[0] = cp;
        return 1;
    }
    for (utf8proc_ssize_t i = 0; i < n; i++)
        out[i] = (uint32_t)buf[i];
    return (size_t)n;
}

static int word_push(struct word_buf *w, uint32_t cp, uint32_t lo, uint32_t hi, slm_error *err)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        struct norm_char *v = realloc(w->v, cap * sizeof(*v));
        if (!v)
            return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n++] = (struct norm_char){cp, lo, hi};
    return 0;
}

/* ---- greedy longest-match-first ---- */

struct piece {
    int32_t id;
    uint32_t start, end; /* characters of the word */
};

struct wp_scratch {
    char *bytes;       /* the word in UTF-8 */
    uint32_t *char_at; /* byte offset of each character (n + 1 entries) */
    char *key;         /* prefix + candidate */
    struct piece *pieces;
    size_t cap;        /* characters */
};

static int scratch_reserve(struct wp_scratch *s, size_t n_chars, slm_error *err)
{
    if (n_chars <= s->cap)
        return 0;
    size_t cap = SLM_MAX(n_chars, 2 * s->cap);
    char *bytes = realloc(s->bytes, 4 * cap);
    if (bytes)
        s->bytes = bytes;
    uint32_t *at = realloc(s->char_at, (cap + 1) * sizeof(*at));
    if (at)
        s->char_at = at;
    struct piece *p = realloc(s->pieces, cap * sizeof(*p));
    if (p)
        s->pieces = p;
    if (!bytes || !at || !p)
        return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
    s->cap = cap;
    return 0;
}

static void scratch_free(struct wp_scratch *s)
{
    free(s->bytes);
    free(s->char_at);
    free(s->key);
    free(s->pieces);
}

/* Id of prefix + bytes[from, to), or -1. */
static int32_t find_prefixed(const slm_tokenizer *tok, struct wp_scratch *s, const char *prefix,
                             size_t prefix_len, size_t from, size_t to)
{
    size_t len = prefix_len + (to - from);
    if (len > tok->max_token_len)
        return -1;
    memcpy(s->key, prefix, prefix_len);
    memcpy(s->key + prefix_len, s->bytes + from, to - from);
    return tok_find(tok, s->key, len);
}

/* The last character end such that prefix + word[start, end) is no longer than the
 * longest token: candidates past it cannot match, and skipping them keeps a long word
 * at O(length × longest token) instead of quadratic. */
static size_t longest_candidate(const struct wp_scratch *s, size_t start, size_t n,
                                size_t prefix_len, size_t max_len)
{
    if (prefix_len > max_len)
        return start;
    size_t budget = max_len - prefix_len, lo = start, hi = n;
    while (lo < hi) { /* largest end in [start, n] with bytes(start, end) <= budget */
        size_t mid = lo + (hi - lo + 1) / 2;
        if (s->char_at[mid] - s->char_at[start] <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static int emit_word(const slm_tokenizer *tok, const struct word_buf *w, struct wp_scratch *s,
                     struct tok_out *out, slm_error *err)
{
    const struct tok_wordpiece *wp = &tok->wp;
    size_t n = w->n;
    if (n == 0)
        return 0;
    int32_t unk = tok->special.unk;
    if (wp->max_chars_per_word && n > wp->max_chars_per_word)
        return unk < 0 ? 0 : tok_out_push(out, unk, w->v[0].lo, w->v[n - 1].hi, err);

    int r = scratch_reserve(s, n + 1, err); /* + 1: a lone "▁" piece */
    if (r < 0)
        return r;
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        s->char_at[i] = (uint32_t)nb;
        nb += tok_utf8_encode(w->v[i].cp, (uint8_t *)s->bytes + nb);
    }
    s->char_at[n] = (uint32_t)nb;

    size_t n_pieces = 0, start = 0;
    bool bad = false;
    while (start < n && !bad) {
        bool first = start == 0;
        const char *prefix = first ? wp->word_prefix : wp->cont_prefix;
        size_t prefix_len = first ? wp->word_prefix_len : wp->cont_prefix_len;
        size_t end = longest_candidate(s, start, n, prefix_len, tok->max_token_len);
        int32_t id = -1;
        for (; end > start; end--) {
            id = find_prefixed(tok, s, prefix, prefix_len, s->char_at[start], s->char_at[end]);
            if (id >= 0)
                break;
        }
        if (id < 0 && first && !wp->hf_rules && prefix_len > 0) {
            /* the reference matches "▁word" by bytes: a lone "▁" token may begin it */
            id = tok_find(tok, prefix, prefix_len);
            if (id >= 0) {
                s->pieces[n_pieces++] = (struct piece){id, 0, 0};
                /* the next piece starts at character 0 as a continuation */
                size_t e = longest_candidate(s, 0, n, wp->cont_prefix_len, tok->max_token_len);
                int32_t cid = -1;
                for (; e > 0; e--) {
                    cid = find_prefixed(tok, s, wp->cont_prefix, wp->cont_prefix_len, 0,
                                        s->char_at[e]);
                    if (cid >= 0)
                        break;
                }
                if (cid < 0) {
                    bad = true;
                    break;
                }
                s->pieces[n_pieces++] = (struct piece){cid, 0, (uint32_t)e};
                start = e;
                continue;
            }
        }
        if (id < 0) {
            bad = true;
            break;
        }
        s->pieces[n_pieces++] = (struct piece){id, (uint32_t)start, (uint32_t)end};
        start = end;
    }
    if (bad)
        return unk < 0 ? 0 : tok_out_push(out, unk, w->v[0].lo, w->v[n - 1].hi, err);
    for (size_t i = 0; i < n_pieces; i++) {
        const struct piece *p = &s->pieces[i];
        size_t lo = w->v[p->start].lo;
        size_t hi = p->end > p->start ? w->v[p->end - 1].hi : lo;
        if ((r = tok_out_push(out, p->id, lo, hi, err)) < 0)
            return r;
    }
    return 0;
}

/* ---- normalization and splitting ---- */

struct splitter {
    const slm_tokenizer *tok;
    struct word_buf word;
    struct wp_scratch scratch;
    struct tok_out *out;
};

static int end_word(struct splitter *sp, slm_error *err)
{
    int r = emit_word(sp->tok, &sp->word, &sp->scratch, sp->out, err);
    sp->word.n = 0;
    return r;
}

static int single_char_word(struct splitter *sp, uint32_t cp, uint32_t lo, uint32_t hi,
                            slm_error *err)
{
    int r;
    if ((r = end_word(sp, err)) < 0 || (r = word_push(&sp->word, cp, lo, hi, err)) < 0)
        return r;
    return end_word(sp, err);
}

/* The reference engine's rules (GGUF vocabularies). */
static int reference_char(struct splitter *sp, uint32_t cp, uint32_t lo, uint32_t hi,
                          slm_error *err)
{
    const struct tok_wordpiece *wp = &sp->tok->wp;
    if (wp->strip_accents) {
        uint32_t d[MAX_DECOMPOSITION];
        decompose(cp, d);
        cp = d[0];
    }
    if (is_white_space(cp))
        return end_word(sp, err);
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
    bool control = cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
                   cat == UTF8PROC_CATEGORY_CS || cat == UTF8PROC_CATEGORY_CO;
    if (cp == 0 || cp == TOK_REPLACEMENT_CHAR || control)
        return 0;
    if (wp->strip_accents && is_mark(cp))
        return 0;
    uint32_t out = wp->lowercase ? (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp) : cp;
    if (is_punctuation(cp) || (wp->chinese_chars && is_chinese_char(cp)))
        return single_char_word(sp, out, lo, hi, err);
    return word_push(&sp->word, out, lo, hi, err);
}

/* One normalized code point through BertPreTokenizer: white space splits, punctuation
 * stands alone. */
static int hf_pretokenize(struct splitter *sp, uint32_t cp, uint32_t lo, uint32_t hi,
                          slm_error *err)
{
    if (is_white_space(cp))
        return end_word(sp, err);
    if (is_punctuation(cp))
        return single_char_word(sp, cp, lo, hi, err);
    return word_push(&sp->word, cp, lo, hi, err);
}

/* The tokenizers library's BertNormalizer, then its pre-tokenizer. */
static int hf_char(struct splitter *sp, uint32_t cp, uint32_t lo, uint32_t hi, slm_error *err)
{
    const struct tok_wordpiece *wp = &sp->tok->wp;
    if (wp->clean_text) {
        utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
        bool other = cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_CC ||
                     cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CS ||
                     cat == UTF8PROC_CATEGORY_CO;
        bool tab_or_newline = cp == '\t' || cp == '\n' || cp == '\r';
        if (cp == 0 || cp == TOK_REPLACEMENT_CHAR || (other && !tab_or_newline))
            return 0;
        if (is_white_space(cp))
            cp = ' ';
    }
    bool chinese = wp->chinese_chars && is_chinese_char(cp);
    int r;
    if (chinese && (r = end_word(sp, err)) < 0)
        return r;

    uint32_t seq[MAX_DECOMPOSITION + 1];
    size_t n = 1;
    seq[0] = cp;
    if (wp->strip_accents) {
        uint32_t d[MAX_DECOMPOSITION];
        size_t nd = decompose(cp, d);
        n = 0;
        for (size_t i = 0; i < nd; i++)
            if (utf8proc_category((utf8proc_int32_t)d[i]) != UTF8PROC_CATEGORY_MN)
                seq[n++] = d[i];
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t c = seq[i];
        if (wp->lowercase) {
            if (c == 0x130) {
                /* the one unconditional multi-character lower-casing: İ → i + U+0307 */
                if ((r = hf_pretokenize(sp, 'i', lo, hi, err)) < 0 ||
                    (r = hf_pretokenize(sp, 0x307, lo, hi, err)) < 0)
                    return r;
                continue;
            }
            c = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
        }
        if ((r = hf_pretokenize(sp, c, lo, hi, err)) < 0)
            return r;
    }
    return chinese ? end_word(sp, err) : 0;
}

int tok_wordpiece_fragment(const slm_tokenizer *tok, const char *text, size_t start,
                           size_t end, struct tok_out *out, slm_error *err)
{
    struct splitter sp = {.tok = tok, .out = out};
    sp.scratch.key = malloc(tok->max_token_len + 1);
    if (!sp.scratch.key)
        return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
    int r = 0;
    for (size_t off = start; off < end && r == 0;) {
        size_t used;
        uint32_t cp = tok_utf8_decode((const uint8_t *)text + off, end - off, &used);
        uint32_t lo = (uint32_t)off, hi = (uint32_t)(off + used);
        r = tok->wp.hf_rules ? hf_char(&sp, cp, lo, hi, err)
                             : reference_char(&sp, cp, lo, hi, err);
        off += used;
    }
    if (r == 0)
        r = end_word(&sp, err);
    free(sp.word.v);
    scratch_free(&sp.scratch);
    return r;
}
