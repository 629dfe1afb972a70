/* Jinja2's filters on strings and numbers (jinja2/filters.py): the same parameters,
 * defaults and treatment of Undefined. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/access.h"
#include "template/filters.h"
#include "template/lexer.h"
#include "template/operators.h"
#include "template/pystr.h"
#include "template/strops.h"
#include "util/checked.h"

/* ---- strings ---- */

static int f_string(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_str s;
    if (tpl_no_args(r, "string", a) < 0 || tpl_to_str(r, v, &s) < 0) return -1;
    *out = tpl_strv(s.ptr, s.len);
    return 0;
}

static int case_filter(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                       const char *fn, int which, struct tpl_value *out)
{
    struct tpl_str s;
    if (tpl_no_args(r, fn, a) < 0 || tpl_to_str(r, v, &s) < 0) return -1;
    if (which == 0) return tpl_str_case(r, s, TPL_UPPER, out);
    if (which == 1) return tpl_str_case(r, s, TPL_LOWER, out);
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
    if (tpl_no_args(r, "title", a) < 0 || tpl_to_str(r, v, &s) < 0 || tpl_step(r, s.len / 16) < 0)
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
        if (tpl_sbuf_put_case(r, &b, p, n, cp, starts_item ? TPL_UPPER : TPL_LOWER) < 0) return -1;
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
    if (tpl_bind_args(r, "trim", a, TPL_NAMES("chars"), &chars) < 0 || tpl_to_str(r, v, &s) < 0)
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
    if (tpl_bind_args(r, "replace", a, TPL_NAMES("old", "new", "count"), p) < 0 ||
        tpl_to_str(r, v, &s) < 0 || tpl_to_str(r, p[0], &old) < 0 ||
        tpl_to_str(r, p[1], &new_text) < 0)
        return -1;
    if (p[2].kind != TPL_NONE && tpl_arg_int(r, "replace", p[2], &count) < 0) return -1;
    return tpl_str_replace(r, s, old, new_text, count, out);
}

static int f_center(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_value width = tpl_int(80);
    struct tpl_str s;
    int64_t w;
    if (tpl_bind_args(r, "center", a, TPL_NAMES("width"), &width) < 0 ||
        tpl_arg_int(r, "center", width, &w) < 0 || tpl_to_str(r, v, &s) < 0)
        return -1;
    return tpl_str_pad(r, s, w, (struct tpl_str){" ", 1}, 0, out);
}

static int f_escape(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_str s;
    if (tpl_no_args(r, "escape", a) < 0 || tpl_to_str(r, v, &s) < 0) return -1;
    return tpl_str_escape(r, s, out);
}

static int f_safe(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    if (tpl_no_args(r, "safe", a) < 0) return -1;
    /* Markup(value): a string, with None and Undefined as their str() */
    if (v.kind == TPL_STR) {
        *out = v;
        return 0;
    }
    struct tpl_str s;
    if (tpl_to_str(r, v, &s) < 0) return -1;
    *out = tpl_strv(s.ptr, s.len);
    return 0;
}

static int f_pprint(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_sbuf b = {0};
    if (tpl_write_repr(r, &b, v) < 0) return -1;
    *out = tpl_sbuf_value(&b);
    return 0;
}

static int f_wordcount(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                       struct tpl_value *out)
{
    struct tpl_str s;
    if (tpl_no_args(r, "wordcount", a) < 0 || tpl_to_str(r, v, &s) < 0 ||
        tpl_step(r, s.len / 16) < 0)
        return -1;
    int64_t words = 0;
    bool in_word = false;
    const char *p = s.ptr, *end = s.ptr + s.len;
    while (p < end) {
        uint32_t cp;
        size_t n = tpl_utf8_decode(p, end, &cp);
        bool word_char = cp == '_' || (!(n == 1 && cp >= 0x80) && tpl_py_isalnum(cp));
        if (word_char && !in_word) words++;
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
    if (tpl_bind_args(r, "indent", a, TPL_NAMES("width", "first", "blank"), p) < 0 ||
        tpl_to_str(r, v, &s) < 0)
        return -1;
    struct tpl_value indent_v = p[0];
    if (p[0].kind != TPL_STR) {
        int64_t width;
        if (tpl_arg_int(r, "indent", p[0], &width) < 0 ||
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
    if (first && tpl_sbuf_puts(r, &b, indent) < 0) return -1;
    for (size_t i = 0; i < lines->len; i++) {
        struct tpl_str line = lines->items[i].s;
        if (i > 0) {
            if (tpl_sbuf_putc(r, &b, '\n') < 0) return -1;
            if ((blank || line.len > 0) && tpl_sbuf_puts(r, &b, indent) < 0) return -1;
        }
        if (tpl_sbuf_puts(r, &b, line) < 0) return -1;
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
    if (tpl_bind_args(r, "truncate", a, TPL_NAMES("length", "killwords", "end", "leeway"), p) < 0 ||
        tpl_to_str(r, v, &s) < 0 || tpl_arg_int(r, "truncate", p[0], &length) < 0 ||
        (p[3].kind != TPL_NONE && tpl_arg_int(r, "truncate", p[3], &leeway) < 0))
        return -1;
    if (p[2].kind != TPL_STR) return tpl_fail(r, "truncate: end must be a string");
    int64_t end_len = (int64_t)tpl_utf8_count(p[2].s);
    if (length < end_len)
        return tpl_fail(r, "expected length >= %" PRId64 ", got %" PRId64, end_len, length);
    if (leeway < 0) return tpl_fail(r, "expected leeway >= 0, got %" PRId64, leeway);
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
    if (tpl_sbuf_puts(r, &b, head) < 0 || tpl_sbuf_puts(r, &b, p[2].s) < 0) return -1;
    *out = tpl_sbuf_value(&b);
    return 0;
}

static int f_format(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_str s;
    if (tpl_to_str(r, v, &s) < 0) return -1;
    if (a->n_pos && a->n_kw)
        return tpl_fail(r, "can't handle positional and keyword arguments at the same time");
    if (a->n_kw) {
        struct tpl_dict *d = tpl_dict_new(r);
        if (!d) return -1;
        for (size_t k = 0; k < a->n_kw; k++)
            if (tpl_dict_set(r, d, tpl_strv(a->kw_names[k].ptr, a->kw_names[k].len), a->kw[k]) < 0)
                return -1;
        return tpl_percent_format(r, s, tpl_dictv(d), out);
    }
    struct tpl_list *l = tpl_list_new(r, a->n_pos);
    if (!l) return -1;
    if (a->n_pos) memcpy(l->items, a->pos, a->n_pos * sizeof(*a->pos));
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
    if (p < end && (*p == '+' || *p == '-')) negative = *p++ == '-';
    if (end - p >= 2 && p[0] == '0') {
        char k = (char)(p[1] | 0x20);
        int prefix_base = k == 'x' ? 16 : k == 'o' ? 8 : k == 'b' ? 2 : 0;
        if (prefix_base && (base == 0 || base == prefix_base)) {
            base = prefix_base;
            p += 2;
            if (p < end && *p == '_') p++;
        }
    }
    if (base == 0) base = 10;
    if (p >= end) return false;
    uint64_t v = 0;
    bool prev_digit = false;
    for (; p < end; p++) {
        if (*p == '_' && prev_digit && p + 1 < end && p[1] != '_') {
            prev_digit = false;
            continue;
        }
        int d = *p >= '0' && *p <= '9'                     ? *p - '0'
                : (*p | 0x20) >= 'a' && (*p | 0x20) <= 'z' ? (*p | 0x20) - 'a' + 10
                                                           : 99;
        if (d >= base) return false;
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
    if (t.len == 0 || t.len > 400) return false;
    char buf[408];
    size_t n = 0;
    for (size_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        if (c == '_') {
            bool ok = i > 0 && i + 1 < t.len && t.ptr[i - 1] >= '0' && t.ptr[i - 1] <= '9' &&
                      t.ptr[i + 1] >= '0' && t.ptr[i + 1] <= '9';
            if (!ok) return false;
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
    if (!((word[0] >= '0' && word[0] <= '9') || word[0] == '.')) return false;
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
    if (tpl_bind_args(r, "int", a, TPL_NAMES("default", "base"), p) < 0 ||
        tpl_arg_int(r, "int", p[1], &base) < 0)
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
    if (tpl_bind_args(r, "float", a, TPL_NAMES("default"), &def) < 0) return -1;
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
    if (tpl_no_args(r, "abs", a) < 0) return -1;
    if (v.kind == TPL_FLOAT) {
        *out = tpl_float(fabs(v.f));
    } else if (v.kind == TPL_INT || v.kind == TPL_BOOL) {
        int64_t i = v.kind == TPL_INT ? v.i : v.b;
        if (i == INT64_MIN) return tpl_fail(r, "integer overflow");
        *out = tpl_int(i < 0 ? -i : i);
    } else {
        if (v.kind == TPL_UNDEFINED) return tpl_fail_undefined(r, v);
        return tpl_fail(r, "bad operand type for abs(): '%s'", tpl_type_name(v));
    }
    return 0;
}

/* Python's round(x, ndigits): correctly rounded, ties to even. printf's %.*f rounds the
 * exact binary value the same way. */
static double py_round(double x, int64_t ndigits)
{
    if (!isfinite(x)) return x;
    if (ndigits > 300) return x;
    if (ndigits >= 0) {
        char buf[400];
        snprintf(buf, sizeof(buf), "%.*f", (int)ndigits, x);
        return strtod(buf, NULL);
    }
    if (ndigits < -308) return copysign(0.0, x);
    double scale = pow(10.0, (double)-ndigits);
    return nearbyint(x / scale) * scale;
}

static int f_round(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    struct tpl_value p[2] = {tpl_int(0), TPL_LIT("common")};
    int64_t precision;
    if (tpl_bind_args(r, "round", a, TPL_NAMES("precision", "method"), p) < 0 ||
        tpl_arg_int(r, "round", p[0], &precision) < 0)
        return -1;
    if (p[1].kind != TPL_STR) return tpl_fail(r, "method must be common, ceil or floor");
    struct tpl_str m = p[1].s;
    bool common = m.len == 6 && memcmp(m.ptr, "common", 6) == 0;
    bool ceil_m = m.len == 4 && memcmp(m.ptr, "ceil", 4) == 0;
    bool floor_m = m.len == 5 && memcmp(m.ptr, "floor", 5) == 0;
    if (!common && !ceil_m && !floor_m) return tpl_fail(r, "method must be common, ceil or floor");
    if (!tpl_is_number(v)) {
        if (v.kind == TPL_UNDEFINED) return tpl_fail_undefined(r, v);
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

/* Sorted by name for bsearch. */
const struct tpl_filter_spec tpl_text_filters[] = {
    {"abs", f_abs},
    {"capitalize", f_capitalize},
    {"center", f_center},
    {"e", f_escape},
    {"escape", f_escape},
    {"float", f_float},
    {"forceescape", f_escape},
    {"format", f_format},
    {"indent", f_indent},
    {"int", f_int},
    {"lower", f_lower},
    {"pprint", f_pprint},
    {"replace", f_replace},
    {"round", f_round},
    {"safe", f_safe},
    {"string", f_string},
    {"title", f_title},
    {"trim", f_trim},
    {"truncate", f_truncate},
    {"upper", f_upper},
    {"wordcount", f_wordcount},
};
const size_t tpl_text_filters_count = sizeof(tpl_text_filters) / sizeof(tpl_text_filters[0]);
