/* SentencePiece-style tokenization (GGUF tokenizer.ggml.model = "llama").
 *
 * The reference engine's algorithm (llm_tokenizer_spm_session): spaces become "▁", a
 * leading "▁" is prepended to the first fragment and to every fragment that follows a
 * special token (unless the vocabulary sets add_space_prefix = false), the text is split
 * into UTF-8 characters by lead byte, and adjacent symbols are merged greedily: always
 * the pair whose concatenation is the vocabulary token with the highest score (ties: the
 * leftmost). Symbols left that are not tokens fall back to <0xXX> byte tokens. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_heap.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tok_utf8.h"
#include "util/checked.h"
#include "util/cleanup.h"

struct spm_symbol {
    int32_t prev, next;
    uint32_t start; /* byte offset in the escaped buffer */
    uint32_t n;     /* bytes; 0 once merged into its left neighbour */
};

struct spm_work {
    const slm_tokenizer *tok;
    const char *buf;
    struct spm_symbol *sym;
    struct tok_heap heap;
};

static const char escaped_space[] = "\xe2\x96\x81"; /* U+2581 LOWER ONE EIGHTH BLOCK */

static bool try_add_bigram(struct spm_work *w, int32_t left, int32_t right)
{
    if (left < 0 || right < 0)
        return true;
    const struct spm_symbol *l = &w->sym[left], *r = &w->sym[right];
    uint32_t size = l->n + r->n;
    int32_t id = tok_find(w->tok, w->buf + l->start, size);
    if (id < 0)
        return true;
    struct tok_candidate c = {
        .key = ((uint64_t)tok_score_key(w->tok->tokens[id].score) << 32) | (uint32_t)left,
        .left = left,
        .right = right,
        .size = size,
    };
    return tok_heap_push(&w->heap, c);
}

/* The escaped text and, when offsets are wanted, the input byte each of its bytes came
 * from (the three bytes of a "▁" all point at their space). The prefix "▁" stands for no
 * input byte: it spans nothing at the fragment start. */
struct spm_text {
    char *buf;
    uint32_t *src;
    size_t n;
    size_t n_prefix;
};

static void spm_text_free(struct spm_text *t)
{
    free(t->buf);
    free(t->src);
}

static uint32_t src_lo(const struct spm_text *t, size_t b) { return t->src ? t->src[b] : 0; }
static uint32_t src_hi(const struct spm_text *t, size_t b)
{
    if (!t->src)
        return 0;
    return b < t->n_prefix ? t->src[b] : t->src[b] + 1;
}

static int escape_fragment(const char *text, size_t start, size_t end, bool prefix_space,
                           bool offsets, struct spm_text *t, slm_error *err)
{
    size_t max;
    /* every byte may become 3 ("▁" for a space), plus the prefix */
    if (slm_mul_size(end - start, 3, &max) || slm_add_size(max, 3, &max) || max > UINT32_MAX)
        return slm_errorf(err, SLM_ERR_LIMIT, "tokenize: input too large");
    t->buf = malloc(max);
    if (!t->buf || (offsets && !(t->src = malloc(max * sizeof(uint32_t)))))
        return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
    size_t n = 0;
    if (prefix_space) {
        for (int k = 0; k < 3; k++) {
            if (t->src)
                t->src[n] = (uint32_t)start;
            t->buf[n++] = escaped_space[k];
        }
        t->n_prefix = n;
    }
    for (size_t i = start; i < end; i++) {
        if (text[i] == ' ') {
            for (int k = 0; k < 3; k++) {
                if (t->src)
                    t->src[n] = (uint32_t)i;
                t->buf[n++] = escaped_space[k];
            }
        } else {
            if (t->src)
                t->src[n] = (uint32_t)i;
            t->buf[n++] = text[i];
        }
    }
    t->n = n;
    return 0;
}

static int emit_symbol(const slm_tokenizer *tok, const struct spm_text *t,
                       const struct spm_symbol *s, struct tok_out *out, slm_error *err)
{
    int32_t id = tok_find(tok, t->buf + s->start, s->n);
    if (id >= 0)
        return tok_out_push(out, id, src_lo(t, s->start), src_hi(t, s->start + s->n - 1), err);
    /* Not a token: one byte token per byte (the reference's resegment finds no merge
     * record for a symbol that was never merged, and merged symbols are always tokens). */
    for (uint32_t k = 0; k < s->n; k++) {
        uint32_t b = s->start + k;
        int32_t byte_id = tok->byte_tokens[(uint8_t)t->buf[b]];
        if (byte_id < 0)
            byte_id = tok->special.unk;
        if (byte_id < 0)
            continue;
        int r = tok_out_push(out, byte_id, src_lo(t, b), src_hi(t, b), err);
        if (r < 0)
            return r;
    }
    return 0;
}

int tok_spm_fragment(const slm_tokenizer *tok, const char *text, size_t start, size_t end,
                     bool prefix_space, struct tok_out *out, slm_error *err)
{
    _cleanup_(spm_text_free) struct spm_text t = {0};
    int r = escape_fragment(text, start, end, prefix_space, out->offsets, &t, err);
    if (r < 0)
        return r;
    if (t.n == 0)
        return 0;

    _cleanup_free_ struct spm_symbol *sym = malloc(t.n * sizeof(*sym));
    if (!sym)
        return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");
    int32_t n_sym = 0;
    for (size_t off = 0; off < t.n;) {
        size_t len = SLM_MIN(tok_utf8_len((uint8_t)t.buf[off]), t.n - off);
        sym[n_sym] = (struct spm_symbol){n_sym - 1, -1, (uint32_t)off, (uint32_t)len};
        off += len;
        if (off < t.n)
            sym[n_sym].next = n_sym + 1;
        n_sym++;
    }

    struct spm_work w = {tok, t.buf, sym, {0}};
    bool ok = true;
    for (int32_t i = 1; i < n_sym && ok; i++)
        ok = try_add_bigram(&w, i - 1, i);
    while (ok && w.heap.n > 0) {
        struct tok_candidate c = tok_heap_pop(&w.heap);
        struct spm_symbol *l = &sym[c.left], *rs = &sym[c.right];
        /* stale: one side was merged away or grew since the candidate was made */
        if (l->n == 0 || rs->n == 0 || l->n + rs->n != c.size)
            continue;
        l->n += rs->n;
        rs->n = 0;
        l->next = rs->next;
        if (rs->next >= 0)
            sym[rs->next].prev = c.left;
        ok = try_add_bigram(&w, l->prev, c.left) && try_add_bigram(&w, c.left, l->next);
    }
    free(w.heap.v);
    if (!ok)
        return slm_errorf(err, SLM_ERR_NOMEM, "tokenize: out of memory");

    for (int32_t i = 0; i != -1; i = sym[i].next) {
        r = emit_symbol(tok, &t, &sym[i], out, err);
        if (r < 0)
            return r;
    }
    return 0;
}
