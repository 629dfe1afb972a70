#include "template/strops.h"

#include <string.h>

#include "template/pystr.h"

static int put_cp(struct tpl_render *r, struct tpl_sbuf *b, uint32_t cp)
{
    char enc[4];
    return tpl_sbuf_put(r, b, enc, tpl_utf8_encode(cp, enc));
}

int tpl_sbuf_put_case(struct tpl_render *r, struct tpl_sbuf *b, const char *p, size_t n,
                      uint32_t cp, enum tpl_case c)
{
    if (n == 1 && cp >= 0x80) return tpl_sbuf_put(r, b, p, 1); /* a stray byte stays as it is */
    const char *special = tpl_py_special_case(cp, (int)c);
    if (special) return tpl_sbuf_put(r, b, special, strlen(special));
    return put_cp(r, b,
                  c == TPL_LOWER   ? tpl_py_lower(cp)
                  : c == TPL_TITLE ? tpl_py_title(cp)
                                   : tpl_py_upper(cp));
}

int tpl_str_case(struct tpl_render *r, struct tpl_str s, enum tpl_case c, struct tpl_value *out)
{
    struct tpl_sbuf b = {0};
    const char *p = s.ptr, *end = s.ptr + s.len;
    if (tpl_step(r, s.len / 16) < 0) return -1;
    while (p < end) {
        uint32_t cp;
        size_t n = tpl_utf8_decode(p, end, &cp);
        if (tpl_sbuf_put_case(r, &b, p, n, cp, c) < 0) return -1;
        p += n;
    }
    *out = tpl_sbuf_value(&b);
    return 0;
}

int tpl_str_capitalize(struct tpl_render *r, struct tpl_str s, struct tpl_value *out)
{
    struct tpl_sbuf b = {0};
    const char *p = s.ptr, *end = s.ptr + s.len;
    if (tpl_step(r, s.len / 16) < 0) return -1;
    for (bool first = true; p < end; first = false) {
        uint32_t cp;
        size_t n = tpl_utf8_decode(p, end, &cp);
        if (tpl_sbuf_put_case(r, &b, p, n, cp, first ? TPL_TITLE : TPL_LOWER) < 0) return -1;
        p += n;
    }
    *out = tpl_sbuf_value(&b);
    return 0;
}

int tpl_str_title(struct tpl_render *r, struct tpl_str s, struct tpl_value *out)
{
    struct tpl_sbuf b = {0};
    const char *p = s.ptr, *end = s.ptr + s.len;
    bool previous_cased = false;
    if (tpl_step(r, s.len / 16) < 0) return -1;
    while (p < end) {
        uint32_t cp;
        size_t n = tpl_utf8_decode(p, end, &cp);
        if (tpl_sbuf_put_case(r, &b, p, n, cp, previous_cased ? TPL_LOWER : TPL_TITLE) < 0)
            return -1;
        previous_cased = !(n == 1 && cp >= 0x80) && tpl_py_iscased(cp);
        p += n;
    }
    *out = tpl_sbuf_value(&b);
    return 0;
}

int tpl_str_replace(struct tpl_render *r, struct tpl_str s, struct tpl_str old,
                    struct tpl_str new_text, int64_t count, struct tpl_value *out)
{
    struct tpl_sbuf b = {0};
    const char *p = s.ptr, *end = s.ptr + s.len;
    if (tpl_step(r, 1 + s.len / 16) < 0) return -1;
    if (old.len == 0) {
        /* Python inserts the replacement before every character and at the end */
        for (;;) {
            if (count != 0) {
                if (tpl_sbuf_puts(r, &b, new_text) < 0 || tpl_step(r, 1) < 0) return -1;
                if (count > 0) count--;
            }
            if (p >= end) break;
            uint32_t cp;
            size_t n = tpl_utf8_decode(p, end, &cp);
            if (tpl_sbuf_put(r, &b, p, n) < 0) return -1;
            p += n;
        }
        *out = tpl_sbuf_value(&b);
        return 0;
    }
    while (p < end && count != 0) {
        const char *hit = memmem(p, (size_t)(end - p), old.ptr, old.len);
        if (!hit) break;
        if (tpl_sbuf_put(r, &b, p, (size_t)(hit - p)) < 0 || tpl_sbuf_puts(r, &b, new_text) < 0)
            return -1;
        p = hit + old.len;
        if (count > 0) count--;
    }
    if (tpl_sbuf_put(r, &b, p, (size_t)(end - p)) < 0) return -1;
    *out = tpl_sbuf_value(&b);
    return 0;
}

static int push_str(struct tpl_render *r, struct tpl_list *l, const char *p, size_t n)
{
    return tpl_list_push(r, l, tpl_strv(p, n));
}

static void reverse_items(struct tpl_list *l)
{
    for (size_t i = 0, j = l->len; i + 1 < j; i++, j--) {
        struct tpl_value t = l->items[i];
        l->items[i] = l->items[j - 1];
        l->items[j - 1] = t;
    }
}

/* Finds the last occurrence of needle in [p, end). */
static const char *find_last(const char *p, const char *end, struct tpl_str needle)
{
    if ((size_t)(end - p) < needle.len) return NULL;
    for (const char *q = end - needle.len;; q--) {
        if (memcmp(q, needle.ptr, needle.len) == 0) return q;
        if (q == p) return NULL;
    }
}

static int split_whitespace(struct tpl_render *r, struct tpl_str s, int64_t maxsplit,
                            bool from_right, struct tpl_list *l)
{
    const char *start = s.ptr, *end = s.ptr + s.len;
    size_t n;
    if (!from_right) {
        const char *p = start;
        for (;;) {
            while (p < end && (n = tpl_py_space_at(p, end)) > 0)
                p += n;
            if (p >= end) return 0;
            if (maxsplit == 0) return push_str(r, l, p, (size_t)(end - p));
            const char *word = p;
            while (p < end && tpl_py_space_at(p, end) == 0) {
                uint32_t cp;
                p += tpl_utf8_decode(p, end, &cp);
            }
            if (push_str(r, l, word, (size_t)(p - word)) < 0) return -1;
            if (maxsplit > 0) maxsplit--;
        }
    }
    /* From the right: split into all words, then keep the last `maxsplit` apart and the
     * rest (with its leading whitespace, as Python keeps it) as the first item. */
    struct tpl_list *words = tpl_list_new(r, 0);
    if (!words || split_whitespace(r, s, -1, false, words) < 0) return -1;
    if (maxsplit < 0 || (uint64_t)maxsplit + 1 >= words->len) {
        *l = *words;
        return 0;
    }
    size_t keep = words->len - (size_t)maxsplit;
    const struct tpl_str last_kept = words->items[keep - 1].s;
    if (push_str(r, l, start, (size_t)(last_kept.ptr + last_kept.len - start)) < 0) return -1;
    for (size_t i = keep; i < words->len; i++)
        if (tpl_list_push(r, l, words->items[i]) < 0) return -1;
    return 0;
}

int tpl_str_split(struct tpl_render *r, struct tpl_str s, const struct tpl_str *sep,
                  int64_t maxsplit, bool from_right, struct tpl_value *out)
{
    struct tpl_list *l = tpl_list_new(r, 0);
    if (!l || tpl_step(r, 1 + s.len / 16) < 0) return -1;
    if (!sep) {
        if (split_whitespace(r, s, maxsplit, from_right, l) < 0) return -1;
        *out = tpl_listv(l);
        return 0;
    }
    if (sep->len == 0) return tpl_fail(r, "empty separator");
    const char *p = s.ptr, *end = s.ptr + s.len;
    if (!from_right) {
        while (maxsplit != 0) {
            const char *hit = memmem(p, (size_t)(end - p), sep->ptr, sep->len);
            if (!hit) break;
            if (push_str(r, l, p, (size_t)(hit - p)) < 0) return -1;
            p = hit + sep->len;
            if (maxsplit > 0) maxsplit--;
        }
        if (push_str(r, l, p, (size_t)(end - p)) < 0) return -1;
    } else {
        while (maxsplit != 0) {
            const char *hit = find_last(p, end, *sep);
            if (!hit) break;
            if (push_str(r, l, hit + sep->len, (size_t)(end - hit - sep->len)) < 0) return -1;
            end = hit;
            if (maxsplit > 0) maxsplit--;
        }
        if (push_str(r, l, p, (size_t)(end - p)) < 0) return -1;
        reverse_items(l);
    }
    *out = tpl_listv(l);
    return 0;
}

/* The line boundaries of str.splitlines(). */
static size_t line_break_at(const char *p, const char *end)
{
    uint32_t cp;
    size_t n = tpl_utf8_decode(p, end, &cp);
    if (cp == '\r' && p + 1 < end && p[1] == '\n') return 2;
    if (n == 1 && cp >= 0x80) return 0;
    switch (cp) {
    case '\n':
    case '\r':
    case 0x0b:
    case 0x0c:
    case 0x1c:
    case 0x1d:
    case 0x1e:
    case 0x85:
    case 0x2028:
    case 0x2029:
        return n;
    default:
        return 0;
    }
}

int tpl_str_splitlines(struct tpl_render *r, struct tpl_str s, bool keepends, struct tpl_list **out)
{
    struct tpl_list *l = tpl_list_new(r, 0);
    if (!l || tpl_step(r, 1 + s.len / 16) < 0) return -1;
    const char *p = s.ptr, *end = s.ptr + s.len, *line = p;
    while (p < end) {
        size_t br = line_break_at(p, end);
        if (br) {
            size_t len = (size_t)(p - line) + (keepends ? br : 0);
            if (push_str(r, l, line, len) < 0) return -1;
            p += br;
            line = p;
        } else {
            uint32_t cp;
            p += tpl_utf8_decode(p, end, &cp);
        }
    }
    if (line < end && push_str(r, l, line, (size_t)(end - line)) < 0) return -1;
    *out = l;
    return 0;
}

int tpl_str_pad(struct tpl_render *r, struct tpl_str s, int64_t width, struct tpl_str fill,
                int where, struct tpl_value *out)
{
    size_t len = tpl_utf8_count(s);
    if (width <= (int64_t)len) {
        *out = tpl_strv(s.ptr, s.len);
        return 0;
    }
    if ((uint64_t)width > r->limits.max_output)
        return tpl_fail(r, "template output exceeded its limit of %zu bytes", r->limits.max_output);
    size_t pad = (size_t)width - len, left;
    if (where < 0)
        left = 0; /* ljust */
    else if (where > 0)
        left = pad; /* rjust */
    else
        left = pad / 2 + (pad & (size_t)width & 1); /* CPython's centring rule */
    struct tpl_sbuf b = {0};
    if (tpl_step(r, pad / 16) < 0) return -1;
    for (size_t i = 0; i < left; i++)
        if (tpl_sbuf_puts(r, &b, fill) < 0) return -1;
    if (tpl_sbuf_puts(r, &b, s) < 0) return -1;
    for (size_t i = left; i < pad; i++)
        if (tpl_sbuf_puts(r, &b, fill) < 0) return -1;
    *out = tpl_sbuf_value(&b);
    return 0;
}

int64_t tpl_str_find(struct tpl_str s, struct tpl_str sub, bool from_right)
{
    const char *hit;
    if (from_right)
        hit = find_last(s.ptr, s.ptr + s.len, sub);
    else
        hit = sub.len == 0 ? s.ptr : memmem(s.ptr, s.len, sub.ptr, sub.len);
    if (!hit) return -1;
    return (int64_t)tpl_utf8_count((struct tpl_str){s.ptr, (size_t)(hit - s.ptr)});
}

int tpl_str_escape(struct tpl_render *r, struct tpl_str s, struct tpl_value *out)
{
    struct tpl_sbuf b = {0};
    if (tpl_step(r, s.len / 16) < 0) return -1;
    for (size_t i = 0; i < s.len; i++) {
        const char *rep = NULL;
        switch (s.ptr[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&#34;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        }
        int rc = rep ? tpl_sbuf_put(r, &b, rep, strlen(rep)) : tpl_sbuf_putc(r, &b, s.ptr[i]);
        if (rc < 0) return -1;
    }
    *out = tpl_sbuf_value(&b);
    return 0;
}
