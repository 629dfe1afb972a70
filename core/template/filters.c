/* Jinja2's builtin filters, with Hugging Face's tojson. Each follows jinja2/filters.py:
 * the same parameters, defaults and treatment of Undefined. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/interp.h"
#include "template/lexer.h"
#include "template/library.h"
#include "template/pystr.h"
#include "template/strops.h"
#include "util/checked.h"

#define NAMES(...) ((const char *const[]){__VA_ARGS__}), sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

typedef int (*filter_fn)(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                         struct tpl_value *out);

static int no_args(struct tpl_render *r, const char *fn, const struct tpl_args *a)
{
    if (a->n_pos || a->n_kw)
        return tpl_fail(r, "filter %s takes no arguments", fn);
    return 0;
}

static int int_value(struct tpl_render *r, const char *fn, struct tpl_value v, int64_t *out)
{
    *out = 0;
    if (v.kind == TPL_INT)
        *out = v.i;
    else if (v.kind == TPL_BOOL)
        *out = v.b;
    else
        return tpl_fail(r, "%s: '%s' object cannot be interpreted as an integer", fn,
                        tpl_type_name(v));
    return 0;
}

/* ---- strings ---- */

static int f_string(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_str s;
    if (no_args(r, "string", a) < 0 || tpl_to_str(r, v, &s) < 0)
        return -1;
    *out = tpl_strv(s.ptr, s.len);
    return 0;
}

static int case_filter(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                       const char *fn, int which, struct tpl_value *out)
{
    struct tpl_str s;
    if (no_args(r, fn, a) < 0 || tpl_to_str(r, v, &s) < 0)
        return -1;
    if (which == 0)
        return tpl_str_case(r, s, TPL_UPPER, out);
    if (which == 1)
        return tpl_str_case(r, s, TPL_LOWER, out);
    return tpl_str_capitalize(r, s, out);
}

static int f_upper(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    return case_filter(r, v, a, "upper", 0, out);
}
static int f_lower(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    return case_filter(r, v, a, "lower", 1, out);
}
static int f_capitalize(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                        struct tpl_value *out)
{
    return case_filter(r, v, a, "capitalize", 2, out);
}

/* Jinja's title: upper-cases the first character of every run that follows one of
 * "-", whitespace, "(", "{", "[" or "<", and lower-cases the rest. */
static int f_title(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    struct tpl_str s;
    if (no_args(r, "title", a) < 0 || tpl_to_str(r, v, &s) < 0 || tpl_step(r, s.len / 16) < 0)
        return -1;
    struct tpl_sbuf b = {0};
    const char *p = s.ptr, *end = s.ptr + s.len;
    bool in_separators = false, first = true;
    while (p < end) {
        uint32_t cp;
        size_t n = tpl_utf8_decode(p, end, &cp);
        bool sep = cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' ||
                   tpl_py_space_at(p, end) > 0;
        bool starts_item = first || sep != in_separators;
        first = false;
        in_separators = sep;
        /* item[0].upper() + item[1:].lower() */
        if (tpl_sbuf_put_case(r, &b, p, n, cp, starts_item ? TPL_UPPER : TPL_LOWER) < 0)
            return -1;
        p += n;
    }
    *out = tpl_sbuf_value(&b);
    return 0;
}

static int f_trim(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    struct tpl_value chars = tpl_none();
    struct tpl_str s;
    if (tpl_bind_args(r, "trim", a, NAMES("chars"), &chars) < 0 || tpl_to_str(r, v, &s) < 0)
        return -1;
    if (chars.kind != TPL_NONE && chars.kind != TPL_STR)
        return tpl_fail(r, "strip arg must be None or str");
    struct tpl_str t = tpl_py_strip(s, true, true, chars.kind == TPL_STR ? &chars.s : NULL);
    *out = tpl_strv(t.ptr, t.len);
    return tpl_step(r, s.len / 64);
}

static int f_replace(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                     struct tpl_value *out)
{
    struct tpl_value p[3] = {tpl_undefined("old", NULL), tpl_undefined("new", NULL), tpl_none()};
    struct tpl_str s, old, new_text;
    int64_t count = -1;
    if (tpl_bind_args(r, "replace", a, NAMES("old", "new", "count"), p) < 0 ||
        tpl_to_str(r, v, &s) < 0 || tpl_to_str(r, p[0], &old) < 0 ||
        tpl_to_str(r, p[1], &new_text) < 0)
        return -1;
    if (p[2].kind != TPL_NONE && int_value(r, "replace", p[2], &count) < 0)
        return -1;
    return tpl_str_replace(r, s, old, new_text, count, out);
}

static int f_center(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_value width = tpl_int(80);
    struct tpl_str s;
    int64_t w;
    if (tpl_bind_args(r, "center", a, NAMES("width"), &width) < 0 ||
        int_value(r, "center", width, &w) < 0 || tpl_to_str(r, v, &s) < 0)
        return -1;
    return tpl_str_pad(r, s, w, (struct tpl_str){" ", 1}, 0, out);
}

static int f_escape(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_str s;
    if (no_args(r, "escape", a) < 0 || tpl_to_str(r, v, &s) < 0)
        return -1;
    return tpl_str_escape(r, s, out);
}

static int f_safe(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    if (no_args(r, "safe", a) < 0)
        return -1;
    /* Markup(value): a string, with None and Undefined as their str() */
    if (v.kind == TPL_STR) {
        *out = v;
        return 0;
    }
    struct tpl_str s;
    if (tpl_to_str(r, v, &s) < 0)
        return -1;
    *out = tpl_strv(s.ptr, s.len);
    return 0;
}

static int f_pprint(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_sbuf b = {0};
    if (tpl_write_repr(r, &b, v) < 0)
        return -1;
    *out = tpl_sbuf_value(&b);
    return 0;
}

static int f_wordcount(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                       struct tpl_value *out)
{
    struct tpl_str s;
    if (no_args(r, "wordcount", a) < 0 || tpl_to_str(r, v, &s) < 0 || tpl_step(r, s.len / 16) < 0)
        return -1;
    int64_t words = 0;
    bool in_word = false;
    const char *p = s.ptr, *end = s.ptr + s.len;
    while (p < end) {
        uint32_t cp;
        size_t n = tpl_utf8_decode(p, end, &cp);
        bool word_char = cp == '_' || (!(n == 1 && cp >= 0x80) && tpl_py_isalnum(cp));
        if (word_char && !in_word)
            words++;
        in_word = word_char;
        p += n;
    }
    *out = tpl_int(words);
    return 0;
}

static int f_indent(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_value p[3] = {tpl_int(4), tpl_bool(false), tpl_bool(false)};
    struct tpl_str s, indent;
    if (tpl_bind_args(r, "indent", a, NAMES("width", "first", "blank"), p) < 0 ||
        tpl_to_str(r, v, &s) < 0)
        return -1;
    struct tpl_value indent_v = p[0];
    if (p[0].kind != TPL_STR) {
        int64_t width;
        if (int_value(r, "indent", p[0], &width) < 0 ||
            tpl_binop(r, OP_MUL, TPL_LIT(" "), tpl_int(width), &indent_v) < 0)
            return -1;
    }
    indent = indent_v.s;
    bool first = tpl_truthy(p[1]), blank = tpl_truthy(p[2]);
    /* Jinja appends "\n" before splitting, so that a trailing newline survives */
    struct tpl_sbuf text = {0}, b = {0};
    struct tpl_list *lines;
    if (tpl_sbuf_puts(r, &text, s) < 0 || tpl_sbuf_putc(r, &text, '\n') < 0 ||
        tpl_str_splitlines(r, tpl_sbuf_value(&text).s, false, &lines) < 0)
        return -1;
    if (first && tpl_sbuf_puts(r, &b, indent) < 0)
        return -1;
    for (size_t i = 0; i < lines->len; i++) {
        struct tpl_str line = lines->items[i].s;
        if (i > 0) {
            if (tpl_sbuf_putc(r, &b, '\n') < 0)
                return -1;
            if ((blank || line.len > 0) && tpl_sbuf_puts(r, &b, indent) < 0)
                return -1;
        }
        if (tpl_sbuf_puts(r, &b, line) < 0)
            return -1;
    }
    *out = tpl_sbuf_value(&b);
    return 0;
}

static int f_truncate(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                      struct tpl_value *out)
{
    struct tpl_value p[4] = {tpl_int(255), tpl_bool(false), TPL_LIT("..."), tpl_none()};
    struct tpl_str s;
    int64_t length, leeway = 5;
    if (tpl_bind_args(r, "truncate", a, NAMES("length", "killwords", "end", "leeway"), p) < 0 ||
        tpl_to_str(r, v, &s) < 0 || int_value(r, "truncate", p[0], &length) < 0 ||
        (p[3].kind != TPL_NONE && int_value(r, "truncate", p[3], &leeway) < 0))
        return -1;
    if (p[2].kind != TPL_STR)
        return tpl_fail(r, "truncate: end must be a string");
    int64_t end_len = (int64_t)tpl_utf8_count(p[2].s);
    if (length < end_len)
        return tpl_fail(r, "expected length >= %" PRId64 ", got %" PRId64, end_len, length);
    if (leeway < 0)
        return tpl_fail(r, "expected leeway >= 0, got %" PRId64, leeway);
    int64_t n = (int64_t)tpl_utf8_count(s);
    if (n <= length + leeway) {
        *out = tpl_strv(s.ptr, s.len);
        return 0;
    }
    struct tpl_str head = {s.ptr, tpl_utf8_offset(s, (size_t)(length - end_len))};
    if (!tpl_truthy(p[1])) {
        /* drop the last partial word: rsplit(" ", 1)[0] */
        for (size_t i = head.len; i > 0; i--) {
            if (head.ptr[i - 1] == ' ') {
                head.len = i - 1;
                break;
            }
        }
    }
    struct tpl_sbuf b = {0};
    if (tpl_sbuf_puts(r, &b, head) < 0 || tpl_sbuf_puts(r, &b, p[2].s) < 0)
        return -1;
    *out = tpl_sbuf_value(&b);
    return 0;
}

static int f_format(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_str s;
    if (tpl_to_str(r, v, &s) < 0)
        return -1;
    if (a->n_pos && a->n_kw)
        return tpl_fail(r, "can't handle positional and keyword arguments at the same time");
    if (a->n_kw) {
        struct tpl_dict *d = tpl_dict_new(r);
        if (!d)
            return -1;
        for (size_t k = 0; k < a->n_kw; k++)
            if (tpl_dict_set(r, d, tpl_strv(a->kw_names[k].ptr, a->kw_names[k].len), a->kw[k]) <
                0)
                return -1;
        return tpl_percent_format(r, s, tpl_dictv(d), out);
    }
    struct tpl_list *l = tpl_list_new(r, a->n_pos);
    if (!l)
        return -1;
    if (a->n_pos)
        memcpy(l->items, a->pos, a->n_pos * sizeof(*a->pos));
    l->len = a->n_pos;
    return tpl_percent_format(r, s, tpl_tuplev(l), out);
}

/* ---- numbers ---- */

/* Python's int(str, base) for bases 2..36 and 0. */
static bool parse_py_int(struct tpl_str s, int base, int64_t *out)
{
    struct tpl_str t = tpl_py_strip(s, true, true, NULL);
    const char *p = t.ptr, *end = t.ptr + t.len;
    bool negative = false;
    if (p < end && (*p == '+' || *p == '-'))
        negative = *p++ == '-';
    if (end - p >= 2 && p[0] == '0') {
        char k = (char)(p[1] | 0x20);
        int prefix_base = k == 'x' ? 16 : k == 'o' ? 8 : k == 'b' ? 2 : 0;
        if (prefix_base && (base == 0 || base == prefix_base)) {
            base = prefix_base;
            p += 2;
            if (p < end && *p == '_')
                p++;
        }
    }
    if (base == 0)
        base = 10;
    if (p >= end)
        return false;
    uint64_t v = 0;
    bool prev_digit = false;
    for (; p < end; p++) {
        if (*p == '_' && prev_digit && p + 1 < end && p[1] != '_') {
            prev_digit = false;
            continue;
        }
        int d = *p >= '0' && *p <= '9'   ? *p - '0'
                : (*p | 0x20) >= 'a' && (*p | 0x20) <= 'z' ? (*p | 0x20) - 'a' + 10
                                                            : 99;
        if (d >= base)
            return false;
        if (slm_mul_u64(v, (uint64_t)base, &v) || slm_add_u64(v, (uint64_t)d, &v) ||
            v > (uint64_t)INT64_MAX + negative)
            return false;
        prev_digit = true;
    }
    *out = negative ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Python's float(str): decimal literals with "_" between digits, inf, nan. */
static bool parse_py_float(struct tpl_render *r, struct tpl_str s, double *out)
{
    struct tpl_str t = tpl_py_strip(s, true, true, NULL);
    if (t.len == 0 || t.len > 400)
        return false;
    char buf[408];
    size_t n = 0;
    for (size_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        if (c == '_') {
            bool ok = i > 0 && i + 1 < t.len && t.ptr[i - 1] >= '0' && t.ptr[i - 1] <= '9' &&
                      t.ptr[i + 1] >= '0' && t.ptr[i + 1] <= '9';
            if (!ok)
                return false;
            continue;
        }
        if (c == 'x' || c == 'X' || c == 'p' || c == 'P' || c == '\0')
            return false; /* strtod's hex floats are not Python syntax */
        buf[n++] = c;
    }
    buf[n] = '\0';
    const char *word = buf + (buf[0] == '+' || buf[0] == '-');
    if (strcasecmp(word, "inf") == 0 || strcasecmp(word, "infinity") == 0 ||
        strcasecmp(word, "nan") == 0) {
        *out = strtod(buf, NULL);
        return true;
    }
    if (!((word[0] >= '0' && word[0] <= '9') || word[0] == '.'))
        return false;
    char *stop;
    *out = strtod(buf, &stop);
    return *stop == '\0';
}

static int f_int(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                 struct tpl_value *out)
{
    struct tpl_value p[2] = {tpl_int(0), tpl_int(10)};
    int64_t base, i;
    double f;
    if (tpl_bind_args(r, "int", a, NAMES("default", "base"), p) < 0 ||
        int_value(r, "int", p[1], &base) < 0)
        return -1;
    switch (v.kind) {
    case TPL_INT:
        *out = v;
        return 0;
    case TPL_BOOL:
        *out = tpl_int(v.b);
        return 0;
    case TPL_FLOAT:
        if (isfinite(v.f) && fabs(v.f) < 9.2e18) {
            *out = tpl_int((int64_t)v.f);
            return 0;
        }
        break;
    case TPL_STR:
        if (base >= 0 && base <= 36 && base != 1 && parse_py_int(v.s, (int)base, &i)) {
            *out = tpl_int(i);
            return 0;
        }
        if (parse_py_float(r, v.s, &f) && isfinite(f) && fabs(f) < 9.2e18) {
            *out = tpl_int((int64_t)f);
            return 0;
        }
        break;
    default:
        break;
    }
    *out = p[0];
    return 0;
}

static int f_float(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    struct tpl_value def = tpl_float(0.0);
    double f;
    if (tpl_bind_args(r, "float", a, NAMES("default"), &def) < 0)
        return -1;
    if (v.kind == TPL_FLOAT || v.kind == TPL_INT || v.kind == TPL_BOOL)
        *out = tpl_float(v.kind == TPL_FLOAT ? v.f : v.kind == TPL_INT ? (double)v.i : v.b);
    else if (v.kind == TPL_STR && parse_py_float(r, v.s, &f))
        *out = tpl_float(f);
    else
        *out = def;
    return 0;
}

static int f_abs(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                 struct tpl_value *out)
{
    if (no_args(r, "abs", a) < 0)
        return -1;
    if (v.kind == TPL_FLOAT) {
        *out = tpl_float(fabs(v.f));
    } else if (v.kind == TPL_INT || v.kind == TPL_BOOL) {
        int64_t i = v.kind == TPL_INT ? v.i : v.b;
        if (i == INT64_MIN)
            return tpl_fail(r, "integer overflow");
        *out = tpl_int(i < 0 ? -i : i);
    } else {
        if (v.kind == TPL_UNDEFINED)
            return tpl_fail_undefined(r, v);
        return tpl_fail(r, "bad operand type for abs(): '%s'", tpl_type_name(v));
    }
    return 0;
}

/* Python's round(x, ndigits): correctly rounded, ties to even. printf's %.*f rounds the
 * exact binary value the same way. */
static double py_round(double x, int64_t ndigits)
{
    if (!isfinite(x))
        return x;
    if (ndigits > 300)
        return x;
    if (ndigits >= 0) {
        char buf[400];
        snprintf(buf, sizeof(buf), "%.*f", (int)ndigits, x);
        return strtod(buf, NULL);
    }
    if (ndigits < -308)
        return copysign(0.0, x);
    double scale = pow(10.0, (double)-ndigits);
    return nearbyint(x / scale) * scale;
}

static int f_round(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    struct tpl_value p[2] = {tpl_int(0), TPL_LIT("common")};
    int64_t precision;
    if (tpl_bind_args(r, "round", a, NAMES("precision", "method"), p) < 0 ||
        int_value(r, "round", p[0], &precision) < 0)
        return -1;
    if (p[1].kind != TPL_STR)
        return tpl_fail(r, "method must be common, ceil or floor");
    struct tpl_str m = p[1].s;
    bool common = m.len == 6 && memcmp(m.ptr, "common", 6) == 0;
    bool ceil_m = m.len == 4 && memcmp(m.ptr, "ceil", 4) == 0;
    bool floor_m = m.len == 5 && memcmp(m.ptr, "floor", 5) == 0;
    if (!common && !ceil_m && !floor_m)
        return tpl_fail(r, "method must be common, ceil or floor");
    if (!tpl_is_number(v)) {
        if (v.kind == TPL_UNDEFINED)
            return tpl_fail_undefined(r, v);
        return tpl_fail(r, "type %s doesn't define __round__ method", tpl_type_name(v));
    }
    if (common && v.kind != TPL_FLOAT && precision >= 0) {
        *out = tpl_int(v.kind == TPL_INT ? v.i : v.b); /* round(int) stays an int */
        return 0;
    }
    double x = v.kind == TPL_FLOAT ? v.f : (double)(v.kind == TPL_INT ? v.i : v.b);
    if (common) {
        *out = tpl_float(py_round(x, precision));
        return 0;
    }
    double scale = pow(10.0, (double)precision);
    *out = tpl_float((ceil_m ? ceil(x * scale) : floor(x * scale)) / scale);
    return 0;
}

/* ---- sequences ---- */

static int f_length(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    size_t n;
    if (no_args(r, "length", a) < 0 || tpl_length(r, v, &n) < 0)
        return -1;
    *out = tpl_int((int64_t)n);
    return 0;
}

static int f_list(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    const struct tpl_list *items;
    if (no_args(r, "list", a) < 0 || tpl_iterate(r, v, &items) < 0 ||
        tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_list *l = tpl_list_new(r, items->len);
    if (!l)
        return -1;
    if (items->len)
        memcpy(l->items, items->items, items->len * sizeof(struct tpl_value));
    l->len = items->len;
    *out = tpl_listv(l);
    return 0;
}

static int f_first(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    const struct tpl_list *items;
    if (no_args(r, "first", a) < 0 || tpl_iterate(r, v, &items) < 0)
        return -1;
    *out = items->len ? items->items[0] : tpl_undefined("first item", NULL);
    return 0;
}

static int f_last(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    const struct tpl_list *items;
    if (no_args(r, "last", a) < 0 || tpl_iterate(r, v, &items) < 0)
        return -1;
    *out = items->len ? items->items[items->len - 1] : tpl_undefined("last item", NULL);
    return 0;
}

static int f_reverse(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                     struct tpl_value *out)
{
    if (no_args(r, "reverse", a) < 0)
        return -1;
    if (v.kind == TPL_STR)
        return tpl_slice(r, v, tpl_none(), tpl_none(), tpl_int(-1), out);
    const struct tpl_list *items;
    if (tpl_iterate(r, v, &items) < 0 || tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_list *l = tpl_list_new(r, items->len);
    if (!l)
        return -1;
    for (size_t i = 0; i < items->len; i++)
        l->items[i] = items->items[items->len - 1 - i];
    l->len = items->len;
    *out = tpl_listv(l);
    return 0;
}

static int f_items(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    if (no_args(r, "items", a) < 0)
        return -1;
    struct tpl_list *l = tpl_list_new(r, v.kind == TPL_DICT ? v.dict->len : 0);
    if (!l)
        return -1;
    if (v.kind == TPL_DICT) {
        if (tpl_step(r, v.dict->len) < 0)
            return -1;
        for (size_t i = 0; i < v.dict->len; i++)
            if (tpl_pair(r, v.dict->entries[i].key, v.dict->entries[i].value, &l->items[i]) < 0)
                return -1;
        l->len = v.dict->len;
    } else if (v.kind != TPL_UNDEFINED) {
        return tpl_fail(r, "Can only get item pairs from a mapping.");
    }
    *out = tpl_listv(l);
    return 0;
}

/* An attribute path "a.b.0" looked up item-first on each part, as make_attrgetter does. */
static int get_attribute(struct tpl_render *r, struct tpl_value item, struct tpl_value attribute,
                         struct tpl_value *out)
{
    if (attribute.kind == TPL_INT)
        return tpl_getitem(r, item, attribute, out);
    if (attribute.kind != TPL_STR)
        return tpl_fail(r, "attribute must be a string or an integer");
    const char *p = attribute.s.ptr, *end = p + attribute.s.len;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *part_end = dot ? dot : end;
        struct tpl_value key = tpl_strv(p, (size_t)(part_end - p));
        bool digits = part_end > p;
        for (const char *q = p; q < part_end; q++)
            digits = digits && *q >= '0' && *q <= '9';
        if (digits && part_end - p < 18)
            key = tpl_int(strtoll(p, NULL, 10));
        if (tpl_getitem(r, item, key, &item) < 0)
            return -1;
        if (!dot)
            break;
        p = dot + 1;
    }
    *out = item;
    return 0;
}

static int f_attr(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    struct tpl_value name = tpl_undefined("name", NULL);
    if (tpl_bind_args(r, "attr", a, NAMES("name"), &name) < 0)
        return -1;
    if (name.kind != TPL_STR)
        return tpl_fail(r, "attribute name must be a string");
    /* only Python attributes: attr() never looks at dict items */
    if (v.kind == TPL_NAMESPACE || v.kind == TPL_LOOP || v.kind == TPL_UNDEFINED)
        return tpl_getattr(r, v, name.s, out);
    if (tpl_find_method(r, v, name.s, out))
        return 0;
    *out = tpl_undefined("attribute", tpl_type_name(v));
    return r->error.status == SLM_OK ? 0 : -1;
}

static int f_join(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    struct tpl_value p[2] = {TPL_LIT(""), tpl_none()};
    const struct tpl_list *items;
    struct tpl_str sep;
    if (tpl_bind_args(r, "join", a, NAMES("d", "attribute"), p) < 0 ||
        tpl_to_str(r, p[0], &sep) < 0 || tpl_iterate(r, v, &items) < 0 ||
        tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_sbuf b = {0};
    for (size_t i = 0; i < items->len; i++) {
        struct tpl_value item = items->items[i];
        if (p[1].kind != TPL_NONE && get_attribute(r, item, p[1], &item) < 0)
            return -1;
        if ((i && tpl_sbuf_puts(r, &b, sep) < 0) || tpl_write_str(r, &b, item) < 0)
            return -1;
    }
    *out = tpl_sbuf_value(&b);
    return tpl_step(r, b.len / 64);
}

static int f_default(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                     struct tpl_value *out)
{
    struct tpl_value p[2] = {TPL_LIT(""), tpl_bool(false)};
    if (tpl_bind_args(r, "default", a, NAMES("default_value", "boolean"), p) < 0)
        return -1;
    bool use_default = v.kind == TPL_UNDEFINED || (tpl_truthy(p[1]) && !tpl_truthy(v));
    *out = use_default ? p[0] : v;
    return 0;
}

static int f_batch(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    struct tpl_value p[2] = {tpl_undefined("linecount", NULL), tpl_none()};
    const struct tpl_list *items;
    int64_t size;
    if (tpl_bind_args(r, "batch", a, NAMES("linecount", "fill_with"), p) < 0 ||
        int_value(r, "batch", p[0], &size) < 0 || tpl_iterate(r, v, &items) < 0 ||
        tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_list *batches = tpl_list_new(r, 0), *current = NULL;
    if (!batches)
        return -1;
    for (size_t i = 0; i < items->len; i++) {
        if (!current || (size > 0 && current->len == (uint64_t)size)) {
            if (!(current = tpl_list_new(r, 0)) || tpl_list_push(r, batches, tpl_listv(current)) < 0)
                return -1;
        }
        if (tpl_list_push(r, current, items->items[i]) < 0)
            return -1;
    }
    if (current && p[1].kind != TPL_NONE && size > 0) {
        while (current->len < (uint64_t)size)
            if (tpl_list_push(r, current, p[1]) < 0)
                return -1;
    }
    *out = tpl_listv(batches);
    return 0;
}

/* For sort, unique, min and max: strings compare case-insensitively unless asked. */
static int sort_key(struct tpl_render *r, struct tpl_value item, struct tpl_value attribute,
                    bool case_sensitive, struct tpl_value *key)
{
    *key = item;
    if (attribute.kind != TPL_NONE && get_attribute(r, item, attribute, key) < 0)
        return -1;
    if (!case_sensitive && key->kind == TPL_STR)
        return tpl_str_case(r, key->s, TPL_LOWER, key);
    return 0;
}

struct keyed {
    struct tpl_value key, value;
};

/* A stable merge sort whose comparisons may fail. */
static int merge_sort(struct tpl_render *r, struct keyed *items, struct keyed *tmp, size_t n,
                      bool reverse)
{
    if (n < 2)
        return 0;
    size_t half = n / 2;
    if (merge_sort(r, items, tmp, half, reverse) < 0 ||
        merge_sort(r, items + half, tmp, n - half, reverse) < 0 || tpl_step(r, n) < 0)
        return -1;
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n) {
        int order;
        if (tpl_compare(r, items[j].key, items[i].key, "<", &order) < 0)
            return -1;
        /* take from the right half only when it sorts strictly first */
        bool right_first = reverse ? order == 1 : order == -1;
        tmp[k++] = right_first ? items[j++] : items[i++];
    }
    while (i < half)
        tmp[k++] = items[i++];
    while (j < n)
        tmp[k++] = items[j++];
    memcpy(items, tmp, n * sizeof(*items));
    return 0;
}

static int sorted_list(struct tpl_render *r, const struct tpl_list *items,
                       struct tpl_value attribute, bool case_sensitive, bool reverse,
                       struct tpl_list **out)
{
    size_t n = items->len;
    struct keyed *keyed = tpl_alloc_array(r, n + 1, sizeof(*keyed));
    struct keyed *tmp = tpl_alloc_array(r, n + 1, sizeof(*tmp));
    struct tpl_list *l = tpl_list_new(r, n);
    if (!keyed || !tmp || !l)
        return -1;
    for (size_t i = 0; i < n; i++) {
        keyed[i].value = items->items[i];
        if (sort_key(r, items->items[i], attribute, case_sensitive, &keyed[i].key) < 0)
            return -1;
    }
    if (merge_sort(r, keyed, tmp, n, reverse) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        l->items[i] = keyed[i].value;
    l->len = n;
    *out = l;
    return 0;
}

static int f_sort(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    struct tpl_value p[3] = {tpl_bool(false), tpl_bool(false), tpl_none()};
    const struct tpl_list *items;
    struct tpl_list *l;
    if (tpl_bind_args(r, "sort", a, NAMES("reverse", "case_sensitive", "attribute"), p) < 0 ||
        tpl_iterate(r, v, &items) < 0 ||
        sorted_list(r, items, p[2], tpl_truthy(p[1]), tpl_truthy(p[0]), &l) < 0)
        return -1;
    *out = tpl_listv(l);
    return 0;
}

static int f_dictsort(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                      struct tpl_value *out)
{
    struct tpl_value p[3] = {tpl_bool(false), TPL_LIT("key"), tpl_bool(false)};
    if (tpl_bind_args(r, "dictsort", a, NAMES("case_sensitive", "by", "reverse"), p) < 0)
        return -1;
    if (v.kind != TPL_DICT)
        return tpl_fail(r, "dictsort needs a mapping");
    struct tpl_value pairs;
    struct tpl_args none = {0};
    if (f_items(r, v, &none, &pairs) < 0)
        return -1;
    int64_t pos = 0;
    if (p[1].kind == TPL_STR && p[1].s.len == 5 && memcmp(p[1].s.ptr, "value", 5) == 0)
        pos = 1;
    else if (!(p[1].kind == TPL_STR && p[1].s.len == 3 && memcmp(p[1].s.ptr, "key", 3) == 0))
        return tpl_fail(r, "You can only sort by either \"key\" or \"value\"");
    struct tpl_list *l;
    if (sorted_list(r, pairs.list, tpl_int(pos), tpl_truthy(p[0]), tpl_truthy(p[2]), &l) < 0)
        return -1;
    *out = tpl_listv(l);
    return 0;
}

static int f_unique(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_value p[2] = {tpl_bool(false), tpl_none()};
    const struct tpl_list *items;
    if (tpl_bind_args(r, "unique", a, NAMES("case_sensitive", "attribute"), p) < 0 ||
        tpl_iterate(r, v, &items) < 0)
        return -1;
    struct tpl_list *l = tpl_list_new(r, 0), *seen = tpl_list_new(r, 0);
    if (!l || !seen)
        return -1;
    for (size_t i = 0; i < items->len; i++) {
        struct tpl_value key;
        bool found;
        if (sort_key(r, items->items[i], p[1], tpl_truthy(p[0]), &key) < 0)
            return -1;
        if (!tpl_hashable(key))
            return tpl_fail(r, "unhashable type: '%s'", tpl_type_name(key));
        if (tpl_contains(r, tpl_listv(seen), key, &found) < 0)
            return -1;
        if (!found && (tpl_list_push(r, seen, key) < 0 || tpl_list_push(r, l, items->items[i]) < 0))
            return -1;
    }
    *out = tpl_listv(l);
    return 0;
}

static int min_max(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   const char *fn, int want, struct tpl_value *out)
{
    struct tpl_value p[2] = {tpl_bool(false), tpl_none()};
    const struct tpl_list *items;
    if (tpl_bind_args(r, fn, a, NAMES("case_sensitive", "attribute"), p) < 0 ||
        tpl_iterate(r, v, &items) < 0 || tpl_step(r, items->len) < 0)
        return -1;
    if (items->len == 0) {
        *out = tpl_undefined("aggregated item", NULL);
        return 0;
    }
    struct tpl_value best = items->items[0], best_key;
    if (sort_key(r, best, p[1], tpl_truthy(p[0]), &best_key) < 0)
        return -1;
    for (size_t i = 1; i < items->len; i++) {
        struct tpl_value key;
        int order;
        if (sort_key(r, items->items[i], p[1], tpl_truthy(p[0]), &key) < 0 ||
            tpl_compare(r, key, best_key, want < 0 ? "<" : ">", &order) < 0)
            return -1;
        if (order == want) {
            best = items->items[i];
            best_key = key;
        }
    }
    *out = best;
    return 0;
}

static int f_min(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                 struct tpl_value *out)
{
    return min_max(r, v, a, "min", -1, out);
}
static int f_max(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                 struct tpl_value *out)
{
    return min_max(r, v, a, "max", 1, out);
}

static int f_sum(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                 struct tpl_value *out)
{
    struct tpl_value p[2] = {tpl_none(), tpl_int(0)};
    const struct tpl_list *items;
    if (tpl_bind_args(r, "sum", a, NAMES("attribute", "start"), p) < 0 ||
        tpl_iterate(r, v, &items) < 0 || tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_value total = p[1];
    for (size_t i = 0; i < items->len; i++) {
        struct tpl_value item = items->items[i];
        if (p[0].kind != TPL_NONE && get_attribute(r, item, p[0], &item) < 0)
            return -1;
        if (tpl_binop(r, OP_ADD, total, item, &total) < 0)
            return -1;
    }
    *out = total;
    return 0;
}

/* select/reject/selectattr/rejectattr: `attr_mode` reads an attribute first; the test comes
 * from the next argument, or truthiness when there is none. */
static int select_common(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                         bool attr_mode, bool keep_matching, struct tpl_value *out)
{
    struct tpl_list *l = tpl_list_new(r, 0);
    if (!l)
        return -1;
    *out = tpl_listv(l);
    size_t first_test_arg = attr_mode ? 1 : 0;
    if (attr_mode && a->n_pos < 1)
        return tpl_fail(r, "missing parameter for attribute name");
    if (!tpl_truthy(v))
        return 0; /* Jinja yields nothing for a false sequence, None included */
    const struct tpl_list *items;
    if (tpl_iterate(r, v, &items) < 0 || tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_args test_args = {0};
    struct tpl_str test = {NULL, 0};
    if (a->n_pos > first_test_arg) {
        struct tpl_value name = a->pos[first_test_arg];
        if (name.kind != TPL_STR)
            return tpl_fail(r, "test name must be a string");
        test = name.s;
        test_args = (struct tpl_args){a->n_pos - first_test_arg - 1, a->pos + first_test_arg + 1,
                                      a->n_kw, a->kw_names, a->kw};
    }
    for (size_t i = 0; i < items->len; i++) {
        struct tpl_value item = items->items[i], subject = item;
        bool pass;
        if (attr_mode && get_attribute(r, item, a->pos[0], &subject) < 0)
            return -1;
        if (test.ptr) {
            if (tpl_apply_test(r, test, subject, &test_args, &pass) < 0)
                return -1;
        } else {
            pass = tpl_truthy(subject);
        }
        if (pass == keep_matching && tpl_list_push(r, l, item) < 0)
            return -1;
    }
    return 0;
}

static int f_select(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    return select_common(r, v, a, false, true, out);
}
static int f_reject(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    return select_common(r, v, a, false, false, out);
}
static int f_selectattr(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                        struct tpl_value *out)
{
    return select_common(r, v, a, true, true, out);
}
static int f_rejectattr(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                        struct tpl_value *out)
{
    return select_common(r, v, a, true, false, out);
}

static int f_map(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                 struct tpl_value *out)
{
    struct tpl_list *l = tpl_list_new(r, 0);
    if (!l)
        return -1;
    *out = tpl_listv(l);
    struct tpl_value attribute = tpl_none(), def = tpl_none();
    bool by_attribute = a->n_pos == 0;
    if (by_attribute) {
        bool have_attribute = false;
        for (size_t k = 0; k < a->n_kw; k++) {
            struct tpl_str key = a->kw_names[k];
            if (key.len == 9 && memcmp(key.ptr, "attribute", 9) == 0) {
                attribute = a->kw[k];
                have_attribute = true;
            } else if (key.len == 7 && memcmp(key.ptr, "default", 7) == 0) {
                def = a->kw[k];
            } else {
                return tpl_fail(r, "Unexpected keyword argument '%.*s'",
                                (int)(key.len > 64 ? 64 : key.len), key.ptr);
            }
        }
        if (!have_attribute)
            return tpl_fail(r, "map requires a filter argument");
    } else if (a->pos[0].kind != TPL_STR) {
        return tpl_fail(r, "map filter name must be a string");
    }
    if (!tpl_truthy(v))
        return 0;
    const struct tpl_list *items;
    if (tpl_iterate(r, v, &items) < 0 || tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_args rest = {0};
    if (!by_attribute)
        rest = (struct tpl_args){a->n_pos - 1, a->pos + 1, a->n_kw, a->kw_names, a->kw};
    for (size_t i = 0; i < items->len; i++) {
        struct tpl_value mapped;
        if (by_attribute) {
            if (get_attribute(r, items->items[i], attribute, &mapped) < 0)
                return -1;
            if (mapped.kind == TPL_UNDEFINED && def.kind != TPL_NONE)
                mapped = def;
        } else if (tpl_apply_filter(r, a->pos[0].s, items->items[i], &rest, &mapped) < 0) {
            return -1;
        }
        if (tpl_list_push(r, l, mapped) < 0)
            return -1;
    }
    return 0;
}

/* Hugging Face's tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None,
 * sort_keys=False) */
static int f_tojson(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_value p[4] = {tpl_bool(false), tpl_none(), tpl_none(), tpl_bool(false)};
    if (tpl_bind_args(r, "tojson", a, NAMES("ensure_ascii", "indent", "separators", "sort_keys"),
                      p) < 0)
        return -1;
    bool indented = p[1].kind != TPL_NONE;
    struct tpl_str item_sep = indented ? (struct tpl_str){",", 1} : (struct tpl_str){", ", 2};
    struct tpl_str key_sep = {": ", 2};
    if (p[2].kind != TPL_NONE) {
        const struct tpl_list *seps;
        if (tpl_iterate(r, p[2], &seps) < 0)
            return -1;
        if (seps->len != 2 || seps->items[0].kind != TPL_STR || seps->items[1].kind != TPL_STR)
            return tpl_fail(r, "separators must be a pair of strings");
        item_sep = seps->items[0].s;
        key_sep = seps->items[1].s;
    }
    struct tpl_sbuf b = {0};
    if (tpl_write_json(r, &b, v, p[1], tpl_truthy(p[0]), tpl_truthy(p[3]), item_sep, key_sep) < 0)
        return -1;
    *out = tpl_sbuf_value(&b);
    return 0;
}

/* Sorted by name for bsearch. */
static const struct tpl_filter_spec filters[] = {
    {"abs", f_abs},
    {"attr", f_attr},
    {"batch", f_batch},
    {"capitalize", f_capitalize},
    {"center", f_center},
    {"count", f_length},
    {"d", f_default},
    {"default", f_default},
    {"dictsort", f_dictsort},
    {"e", f_escape},
    {"escape", f_escape},
    {"first", f_first},
    {"float", f_float},
    {"forceescape", f_escape},
    {"format", f_format},
    {"indent", f_indent},
    {"int", f_int},
    {"items", f_items},
    {"join", f_join},
    {"last", f_last},
    {"length", f_length},
    {"list", f_list},
    {"lower", f_lower},
    {"map", f_map},
    {"max", f_max},
    {"min", f_min},
    {"pprint", f_pprint},
    {"reject", f_reject},
    {"rejectattr", f_rejectattr},
    {"replace", f_replace},
    {"reverse", f_reverse},
    {"round", f_round},
    {"safe", f_safe},
    {"select", f_select},
    {"selectattr", f_selectattr},
    {"sort", f_sort},
    {"string", f_string},
    {"sum", f_sum},
    {"title", f_title},
    {"tojson", f_tojson},
    {"trim", f_trim},
    {"truncate", f_truncate},
    {"unique", f_unique},
    {"upper", f_upper},
    {"wordcount", f_wordcount},
};

static int compare_name(const void *key, const void *elem)
{
    const struct tpl_str *name = key;
    const char *candidate = *(const char *const *)elem;
    size_t n = strlen(candidate);
    int c = memcmp(name->ptr, candidate, name->len < n ? name->len : n);
    if (c)
        return c;
    return name->len < n ? -1 : name->len > n;
}

const struct tpl_filter_spec *tpl_find_filter(struct tpl_str name)
{
    return bsearch(&name, filters, sizeof(filters) / sizeof(filters[0]), sizeof(filters[0]),
                   compare_name);
}

int tpl_apply_filter(struct tpl_render *r, struct tpl_str name, struct tpl_value v,
                     const struct tpl_args *args, struct tpl_value *out)
{
    const struct tpl_filter_spec *spec = tpl_find_filter(name);
    if (!spec)
        return tpl_fail(r, "no filter named '%.*s'", (int)(name.len > 64 ? 64 : name.len),
                        name.ptr);
    return spec->fn(r, v, args, out);
}
