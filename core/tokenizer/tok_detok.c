/* Turning ids back into text: one token's bytes, a stream that only ever emits whole UTF-8
 * characters, and whole-sequence decoding. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"
#include "tokenizer/tok_utf8.h"
#include "util/checked.h"
#include "util/cleanup.h"

static const char escaped_space[] = "\xe2\x96\x81"; /* "▁" */

/* Copies what fits and returns the full length, snprintf-style. */
struct sink {
    char *buf;
    size_t cap, n;
};

static void put(struct sink *s, const void *p, size_t len)
{
    if (s->n < s->cap) {
        size_t k = SLM_MIN(len, s->cap - s->n);
        memcpy(s->buf + s->n, p, k);
    }
    s->n += len;
}

/* Text with every "▁" read as a space (SentencePiece, GGUF WordPiece). */
static void put_unescaped(struct sink *s, const char *t, size_t len)
{
    size_t i = 0, run = 0;
    while (i < len) {
        if (len - i >= 3 && memcmp(t + i, escaped_space, 3) == 0) {
            put(s, t + run, i - run);
            put(s, " ", 1);
            i += 3;
            run = i;
        } else {
            i++;
        }
    }
    put(s, t + run, len - run);
}

/* GPT-2 alphabet back to bytes. A character outside the alphabet (an added token that
 * was not marked as such) is kept as it is. */
static void put_byte_decoded(struct sink *s, const char *t, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t used;
        uint32_t cp = tok_utf8_decode((const uint8_t *)t + i, len - i, &used);
        int b = tok_cp_to_byte(cp);
        if (b >= 0) {
            uint8_t byte = (uint8_t)b;
            put(s, &byte, 1);
        } else {
            put(s, t + i, used);
        }
        i += used;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return 0;
}

static void put_wordpiece(const slm_tokenizer *tok, struct sink *s, const char *t, size_t len)
{
    const struct tok_wordpiece *wp = &tok->wp;
    if (!wp->hf_rules) {
        put_unescaped(s, t, len); /* "▁word" → " word", continuation bare */
        return;
    }
    if (wp->cont_prefix_len && len >= wp->cont_prefix_len &&
        memcmp(t, wp->cont_prefix, wp->cont_prefix_len) == 0) {
        put(s, t + wp->cont_prefix_len, len - wp->cont_prefix_len);
        return;
    }
    put(s, " ", 1);
    put(s, t, len);
}

size_t slm_token_to_bytes(const slm_tokenizer *tok, int32_t id, bool render_special, char *buf,
                          size_t cap)
{
    if (!tok || id < 0 || (uint32_t)id >= tok->n_vocab)
        return 0;
    struct sink s = {buf, buf ? cap : 0, 0};
    const struct tok_token *t = &tok->tokens[id];
    const char *text = tok_text(tok, (uint32_t)id);
    /* WordPiece words, special ones included, are separated by spaces when decoded. */
    bool spaced = tok->kind == SLM_TOKENIZER_WORDPIECE;
    switch (t->attr) {
    case SLM_TOKEN_CONTROL:
    case SLM_TOKEN_UNKNOWN:
        if (render_special) {
            put(&s, " ", spaced);
            put(&s, text, t->len);
        }
        break;
    case SLM_TOKEN_USER_DEFINED:
        put(&s, " ", spaced);
        put(&s, text, t->len);
        break;
    case SLM_TOKEN_BYTE: {
        uint8_t byte = (uint8_t)(hex_value(text[3]) * 16 + hex_value(text[4]));
        put(&s, &byte, 1);
        break;
    }
    case SLM_TOKEN_NORMAL:
        if (tok->kind == SLM_TOKENIZER_SPM)
            put_unescaped(&s, text, t->len);
        else if (tok->kind == SLM_TOKENIZER_BPE)
            put_byte_decoded(&s, text, t->len);
        else
            put_wordpiece(tok, &s, text, t->len);
        break;
    default: /* unused tokens decode to nothing, as in the reference */
        break;
    }
    return s.n;
}

/* ---- streaming ---- */

void slm_detok_init(struct slm_detok *d, const slm_tokenizer *tok, bool render_special,
                    bool strip_leading_space)
{
    memset(d, 0, sizeof(*d));
    d->tok = tok;
    d->render_special = render_special;
    d->strip_leading_space = strip_leading_space;
    d->at_start = true;
}

static int append(char **out, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    size_t need;
    if (slm_add_size(*len, n, &need) || slm_add_size(need, 1, &need))
        return -SLM_ERR_LIMIT;
    if (need > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < need)
            c = c > SIZE_MAX / 2 ? need : c * 2;
        char *nb = realloc(*out, c);
        if (!nb)
            return -SLM_ERR_NOMEM;
        *out = nb;
        *cap = c;
    }
    memcpy(*out + *len, p, n);
    *len += n;
    (*out)[*len] = '\0';
    return 0;
}

static const char replacement_utf8[] = "\xef\xbf\xbd";

/* How a byte sequence starts: a whole valid character (its length), an invalid prefix
 * (the bytes one U+FFFD replaces: the maximal part that could have begun a character),
 * or an incomplete but so far valid character. */
enum utf8_state { UTF8_CHAR, UTF8_INVALID, UTF8_INCOMPLETE };

static enum utf8_state classify(const uint8_t *s, size_t n, size_t *len)
{
    size_t v = tok_utf8_valid_len(s, n);
    if (v == TOK_UTF8_INCOMPLETE) {
        *len = n;
        return UTF8_INCOMPLETE;
    }
    if (v > 0) {
        *len = v;
        return UTF8_CHAR;
    }
    /* invalid: the longest prefix that is itself an incomplete valid sequence */
    size_t k = 1;
    while (k < n && k < 4 && tok_utf8_valid_len(s, k + 1) == TOK_UTF8_INCOMPLETE)
        k++;
    *len = k;
    return UTF8_INVALID;
}

/* Emits the whole characters of pending + bytes; keeps an incomplete tail pending. */
static int emit_utf8(struct slm_detok *d, const uint8_t *bytes, size_t n, char **out,
                     size_t *len, size_t *cap)
{
    /* Work on pending + new bytes without copying the bulk: only the first character can
     * straddle the boundary, so it is assembled in a small buffer. */
    size_t i = 0;
    int r;
    while (d->n_pending > 0) {
        uint8_t tmp[8];
        size_t take = SLM_MIN(n - i, sizeof(tmp) - d->n_pending);
        memcpy(tmp, d->pending, d->n_pending);
        memcpy(tmp + d->n_pending, bytes + i, take);
        size_t clen;
        enum utf8_state st = classify(tmp, d->n_pending + take, &clen);
        if (st == UTF8_INCOMPLETE) {
            memcpy(d->pending + d->n_pending, bytes + i, take);
            d->n_pending += take;
            return 0; /* everything consumed, still incomplete */
        }
        if ((r = append(out, len, cap, st == UTF8_CHAR ? (const void *)tmp : replacement_utf8,
                        st == UTF8_CHAR ? clen : 3)) < 0)
            return r;
        /* clen bytes of tmp are done: drop them from pending, then from the input */
        if (clen >= d->n_pending) {
            i += clen - d->n_pending;
            d->n_pending = 0;
        } else {
            memmove(d->pending, d->pending + clen, d->n_pending - clen);
            d->n_pending -= clen;
        }
    }
    size_t run = i;
    while (i < n) {
        if (bytes[i] < 0x80) {
            i++;
            continue;
        }
        size_t clen;
        enum utf8_state st = classify(bytes + i, n - i, &clen);
        if (st == UTF8_CHAR) {
            i += clen;
            continue;
        }
        if ((r = append(out, len, cap, bytes + run, i - run)) < 0)
            return r;
        if (st == UTF8_INCOMPLETE) {
            memcpy(d->pending, bytes + i, n - i);
            d->n_pending = n - i;
            return 0;
        }
        if ((r = append(out, len, cap, replacement_utf8, 3)) < 0)
            return r;
        i += clen;
        run = i;
    }
    return append(out, len, cap, bytes + run, n - run);
}

static bool strips_leading_space(const slm_tokenizer *tok)
{
    return (tok->kind == SLM_TOKENIZER_SPM && tok->add_space_prefix) ||
           tok->kind == SLM_TOKENIZER_WORDPIECE;
}

int slm_detok_push(struct slm_detok *d, int32_t id, char **out, size_t *len, size_t *cap)
{
    char small[256];
    size_t n = slm_token_to_bytes(d->tok, id, d->render_special, small, sizeof(small));
    _cleanup_free_ char *big = NULL;
    const char *piece = small;
    if (n > sizeof(small)) {
        big = malloc(n);
        if (!big)
            return -SLM_ERR_NOMEM;
        slm_token_to_bytes(d->tok, id, d->render_special, big, n);
        piece = big;
    }
    if (n == 0)
        return 0;
    if (d->at_start) {
        d->at_start = false;
        if (d->strip_leading_space && strips_leading_space(d->tok) && piece[0] == ' ') {
            piece++;
            n--;
        }
    }
    size_t before = *len;
    int r = emit_utf8(d, (const uint8_t *)piece, n, out, len, cap);
    if (r < 0)
        return r;
    return (int)SLM_MIN(*len - before, (size_t)INT32_MAX);
}

int slm_detok_finish(struct slm_detok *d, char **out, size_t *len, size_t *cap)
{
    if (d->n_pending == 0)
        return 0;
    d->n_pending = 0;
    int r = append(out, len, cap, replacement_utf8, 3);
    return r < 0 ? r : 3;
}

/* The tokenizers library's clean-up after WordPiece decoding ("hello , world ." →
 * "hello, world."), applied in its order. */
static void wordpiece_cleanup(char *s, size_t *len)
{
    static const struct {
        const char *from, *to;
    } rules[] = {{" .", "."},   {" ?", "?"},     {" !", "!"},   {" ,", ","},     {" ' ", "'"},
                 {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (size_t k = 0; k < SLM_ARRAY_SIZE(rules); k++) {
        size_t fl = strlen(rules[k].from), tl = strlen(rules[k].to), w = 0;
        for (size_t i = 0; i < *len;) {
            if (*len - i >= fl && memcmp(s + i, rules[k].from, fl) == 0) {
                memcpy(s + w, rules[k].to, tl);
                w += tl;
                i += fl;
            } else {
                s[w++] = s[i++];
            }
        }
        *len = w;
        s[w] = '\0';
    }
}

int slm_detokenize(const slm_tokenizer *tok, const int32_t *ids, size_t n, bool render_special,
                   char **out, size_t *out_len, slm_error *err)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!tok || (!ids && n))
        return slm_errorf(err, SLM_ERR_INVALID, "detokenize: invalid arguments");
    struct slm_detok d;
    slm_detok_init(&d, tok, render_special, true);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int r = append(&buf, &len, &cap, "", 0);
    for (size_t i = 0; i < n && r >= 0; i++) {
        if (ids[i] < 0 || (uint32_t)ids[i] >= tok->n_vocab) {
            free(buf);
            return slm_errorf(err, SLM_ERR_INVALID, "detokenize: id %d is outside the "
                              "vocabulary of %u tokens", ids[i], tok->n_vocab);
        }
        r = slm_detok_push(&d, ids[i], &buf, &len, &cap);
    }
    if (r >= 0)
        r = slm_detok_finish(&d, &buf, &len, &cap);
    if (r >= 0 && !buf && !(buf = calloc(1, 1)))
        r = -SLM_ERR_NOMEM;
    if (r < 0) {
        free(buf);
        return slm_errorf(err, (enum slm_status)-r, "detokenize: %s",
                          r == -SLM_ERR_NOMEM ? "out of memory" : "output too large");
    }
    if (tok->kind == SLM_TOKENIZER_WORDPIECE)
        wordpiece_cleanup(buf, &len);
    *out = buf;
    if (out_len)
        *out_len = len;
    return 0;
}
