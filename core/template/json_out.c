/* tojson: Python's json.dumps, which Hugging Face's tojson filter calls with
 * ensure_ascii=False. Output must match byte for byte: separators ", " and ": " (or "," and
 * newlines with indent), floats as repr(), NaN/Infinity, keys converted as json.dumps does. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "template/library.h"
#include "template/pystr.h"

struct json_writer {
    struct tpl_render *r;
    struct tpl_sbuf *b;
    bool ensure_ascii;
    bool sort_keys;
    bool indented;
    struct tpl_str indent; /* one level */
    struct tpl_str item_sep, key_sep;
};

static int write_string(struct json_writer *w, struct tpl_str s)
{
    struct tpl_render *r = w->r;
    if (tpl_sbuf_putc(r, w->b, '"') < 0 || tpl_step(r, s.len / 64) < 0) return -1;
    const char *p = s.ptr, *end = s.ptr + s.len;
    while (p < end) {
        uint32_t cp;
        size_t n = tpl_utf8_decode(p, end, &cp);
        int rc;
        switch (cp) {
        case '"':
            rc = tpl_sbuf_put(r, w->b, "\\\"", 2);
            break;
        case '\\':
            rc = tpl_sbuf_put(r, w->b, "\\\\", 2);
            break;
        case '\n':
            rc = tpl_sbuf_put(r, w->b, "\\n", 2);
            break;
        case '\r':
            rc = tpl_sbuf_put(r, w->b, "\\r", 2);
            break;
        case '\t':
            rc = tpl_sbuf_put(r, w->b, "\\t", 2);
            break;
        case '\b':
            rc = tpl_sbuf_put(r, w->b, "\\b", 2);
            break;
        case '\f':
            rc = tpl_sbuf_put(r, w->b, "\\f", 2);
            break;
        default:
            if (cp < 0x20 || (w->ensure_ascii && cp >= 0x7f && !(n == 1 && cp >= 0x80))) {
                if (cp >= 0x10000) {
                    uint32_t v = cp - 0x10000;
                    rc = tpl_sbuf_printf(r, w->b, "\\u%04x\\u%04x", 0xd800 + (v >> 10),
                                         0xdc00 + (v & 0x3ff));
                } else {
                    rc = tpl_sbuf_printf(r, w->b, "\\u%04x", cp);
                }
            } else {
                rc = tpl_sbuf_put(r, w->b, p, n);
            }
        }
        if (rc < 0) return -1;
        p += n;
    }
    return tpl_sbuf_putc(r, w->b, '"');
}

static int write_float(struct json_writer *w, double f)
{
    char buf[32];
    if (isnan(f)) return tpl_sbuf_put(w->r, w->b, "NaN", 3);
    if (isinf(f))
        return f < 0 ? tpl_sbuf_put(w->r, w->b, "-Infinity", 9)
                     : tpl_sbuf_put(w->r, w->b, "Infinity", 8);
    tpl_format_float(f, buf);
    return tpl_sbuf_put(w->r, w->b, buf, strlen(buf));
}

static int newline(struct json_writer *w, uint32_t level)
{
    if (!w->indented) return 0;
    if (tpl_sbuf_putc(w->r, w->b, '\n') < 0) return -1;
    for (uint32_t i = 0; i < level; i++)
        if (tpl_sbuf_puts(w->r, w->b, w->indent) < 0) return -1;
    return 0;
}

/* json.dumps turns non-string keys into strings: true/false/null, numbers as printed. */
static int write_key(struct json_writer *w, struct tpl_value key)
{
    struct tpl_render *r = w->r;
    switch (key.kind) {
    case TPL_STR:
        return write_string(w, key.s);
    case TPL_BOOL:
        return tpl_sbuf_printf(r, w->b, "\"%s\"", key.b ? "true" : "false");
    case TPL_NONE:
        return tpl_sbuf_put(r, w->b, "\"null\"", 6);
    case TPL_INT:
        return tpl_sbuf_printf(r, w->b, "\"%" PRId64 "\"", key.i);
    case TPL_FLOAT:
        if (tpl_sbuf_putc(r, w->b, '"') < 0 || write_float(w, key.f) < 0) return -1;
        return tpl_sbuf_putc(r, w->b, '"');
    default:
        return tpl_fail(r, "keys must be str, int, float, bool or None, not %s",
                        tpl_type_name(key));
    }
}

static int write_value(struct json_writer *w, struct tpl_value v, uint32_t level);

static int write_dict(struct json_writer *w, const struct tpl_dict *d, uint32_t level)
{
    struct tpl_render *r = w->r;
    if (d->len == 0) return tpl_sbuf_put(r, w->b, "{}", 2);
    /* sort_keys: an index sorted by key (insertion sort keeps it simple; dicts are small) */
    size_t *order = tpl_alloc_array(r, d->len, sizeof(size_t));
    if (!order || tpl_step(r, d->len) < 0) return -1;
    for (size_t i = 0; i < d->len; i++) {
        size_t j = i;
        order[i] = i;
        while (w->sort_keys && j > 0) {
            int cmp;
            if (tpl_step(r, 1) < 0 ||
                tpl_compare(r, d->entries[order[j - 1]].key, d->entries[i].key, "<", &cmp) < 0)
                return -1;
            if (cmp != 1) break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    if (tpl_sbuf_putc(r, w->b, '{') < 0) return -1;
    for (size_t k = 0; k < d->len; k++) {
        const struct tpl_dict_entry *e = &d->entries[order[k]];
        if ((k && tpl_sbuf_puts(r, w->b, w->item_sep) < 0) || newline(w, level + 1) < 0 ||
            write_key(w, e->key) < 0 || tpl_sbuf_puts(r, w->b, w->key_sep) < 0 ||
            write_value(w, e->value, level + 1) < 0)
            return -1;
    }
    if (newline(w, level) < 0) return -1;
    return tpl_sbuf_putc(r, w->b, '}');
}

static int write_list(struct json_writer *w, const struct tpl_list *l, uint32_t level)
{
    struct tpl_render *r = w->r;
    if (l->len == 0) return tpl_sbuf_put(r, w->b, "[]", 2);
    if (tpl_sbuf_putc(r, w->b, '[') < 0) return -1;
    for (size_t i = 0; i < l->len; i++) {
        if ((i && tpl_sbuf_puts(r, w->b, w->item_sep) < 0) || newline(w, level + 1) < 0 ||
            write_value(w, l->items[i], level + 1) < 0)
            return -1;
    }
    if (newline(w, level) < 0) return -1;
    return tpl_sbuf_putc(r, w->b, ']');
}

static int write_value(struct json_writer *w, struct tpl_value v, uint32_t level)
{
    struct tpl_render *r = w->r;
    switch (v.kind) {
    case TPL_NONE:
        return tpl_sbuf_put(r, w->b, "null", 4);
    case TPL_BOOL:
        return v.b ? tpl_sbuf_put(r, w->b, "true", 4) : tpl_sbuf_put(r, w->b, "false", 5);
    case TPL_INT:
        return tpl_sbuf_printf(r, w->b, "%" PRId64, v.i);
    case TPL_FLOAT:
        return write_float(w, v.f);
    case TPL_STR:
        return write_string(w, v.s);
    case TPL_LIST:
    case TPL_TUPLE:
    case TPL_DICT: {
        /* a container holding itself would recurse forever: the depth limit stops it */
        if (r->depth >= r->limits.max_depth)
            return tpl_fail(r, "tojson: structure nested too deeply");
        r->depth++;
        int rc = v.kind == TPL_DICT ? write_dict(w, v.dict, level) : write_list(w, v.list, level);
        r->depth--;
        return rc;
    }
    default:
        return tpl_fail(r, "Object of type %s is not JSON serializable", tpl_type_name(v));
    }
}

int tpl_write_json(struct tpl_render *r, struct tpl_sbuf *b, struct tpl_value v,
                   struct tpl_value indent, bool ensure_ascii, bool sort_keys,
                   struct tpl_str item_sep, struct tpl_str key_sep)
{
    struct json_writer w = {r, b, ensure_ascii, sort_keys, false, {"", 0}, item_sep, key_sep};
    if (indent.kind == TPL_STR) {
        w.indented = true;
        w.indent = indent.s;
    } else if (indent.kind == TPL_INT || indent.kind == TPL_BOOL) {
        int64_t n = indent.kind == TPL_INT ? indent.i : indent.b;
        struct tpl_value spaces = TPL_LIT("");
        if (n > 0) {
            if ((uint64_t)n > r->limits.max_output) return tpl_fail(r, "tojson: indent too large");
            char *p = tpl_alloc(r, (size_t)n);
            if (!p) return -1;
            memset(p, ' ', (size_t)n);
            spaces = tpl_strv(p, (size_t)n);
        }
        w.indented = true;
        w.indent = spaces.s;
    } else if (indent.kind != TPL_NONE) {
        return tpl_fail(r, "tojson: indent must be None, an integer or a string");
    }
    return write_value(&w, v, 0);
}
