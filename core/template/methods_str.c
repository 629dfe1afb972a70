/* The Python methods of str that chat templates call: strip, split, startswith, replace,
 * format, ... with Python's semantics (code point indices, Unicode whitespace). */
#include <string.h>

#include "template/methods.h"
#include "template/pystr.h"
#include "template/strops.h"

static int strip_common(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                        const char *fn, bool left, bool right, struct tpl_value *out)
{
    struct tpl_value chars = tpl_none();
    if (tpl_bind_args(r, fn, a, TPL_NAMES("chars"), &chars) < 0) return -1;
    if (chars.kind != TPL_NONE && tpl_arg_str(r, fn, chars) < 0) return -1;
    struct tpl_str s = tpl_py_strip(self.s, left, right, chars.kind == TPL_STR ? &chars.s : NULL);
    *out = tpl_strv(s.ptr, s.len);
    return tpl_step(r, self.s.len / 64);
}

static int str_strip(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return strip_common(r, self, a, "strip", true, true, out);
}
static int str_lstrip(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                      struct tpl_value *out)
{
    return strip_common(r, self, a, "lstrip", true, false, out);
}
static int str_rstrip(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                      struct tpl_value *out)
{
    return strip_common(r, self, a, "rstrip", false, true, out);
}

static int split_common(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                        const char *fn, bool from_right, struct tpl_value *out)
{
    struct tpl_value v[2] = {tpl_none(), tpl_int(-1)};
    int64_t maxsplit;
    if (tpl_bind_args(r, fn, a, TPL_NAMES("sep", "maxsplit"), v) < 0 ||
        tpl_arg_int(r, fn, v[1], &maxsplit) < 0)
        return -1;
    if (v[0].kind != TPL_NONE && tpl_arg_str(r, fn, v[0]) < 0) return -1;
    return tpl_str_split(r, self.s, v[0].kind == TPL_STR ? &v[0].s : NULL, maxsplit, from_right,
                         out);
}

static int str_split(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return split_common(r, self, a, "split", false, out);
}
static int str_rsplit(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                      struct tpl_value *out)
{
    return split_common(r, self, a, "rsplit", true, out);
}

static int str_splitlines(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                          struct tpl_value *out)
{
    struct tpl_value keepends = tpl_bool(false);
    struct tpl_list *l;
    if (tpl_bind_args(r, "splitlines", a, TPL_NAMES("keepends"), &keepends) < 0 ||
        tpl_str_splitlines(r, self.s, tpl_truthy(keepends), &l) < 0)
        return -1;
    *out = tpl_listv(l);
    return 0;
}

/* startswith / endswith: a string or a tuple of strings */
static int affix_common(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                        const char *fn, bool at_end, struct tpl_value *out)
{
    struct tpl_value affix = tpl_undefined("prefix", NULL);
    if (tpl_bind_args(r, fn, a, TPL_NAMES("affix"), &affix) < 0) return -1;
    const struct tpl_value *candidates = &affix;
    size_t n = 1;
    if (affix.kind == TPL_TUPLE) {
        candidates = affix.list->items;
        n = affix.list->len;
    }
    *out = tpl_bool(false);
    for (size_t i = 0; i < n; i++) {
        struct tpl_value c = candidates[i];
        if (c.kind != TPL_STR)
            return tpl_fail(r, "%s first arg must be str or a tuple of str, not %s", fn,
                            tpl_type_name(c));
        if (c.s.len > self.s.len) continue;
        const char *at = at_end ? self.s.ptr + self.s.len - c.s.len : self.s.ptr;
        if (memcmp(at, c.s.ptr, c.s.len) == 0) {
            *out = tpl_bool(true);
            break;
        }
    }
    return 0;
}

static int str_startswith(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                          struct tpl_value *out)
{
    return affix_common(r, self, a, "startswith", false, out);
}
static int str_endswith(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                        struct tpl_value *out)
{
    return affix_common(r, self, a, "endswith", true, out);
}

static int str_upper(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return tpl_no_args(r, "upper", a) < 0 ? -1 : tpl_str_case(r, self.s, TPL_UPPER, out);
}
static int str_lower(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return tpl_no_args(r, "lower", a) < 0 ? -1 : tpl_str_case(r, self.s, TPL_LOWER, out);
}
static int str_title(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return tpl_no_args(r, "title", a) < 0 ? -1 : tpl_str_title(r, self.s, out);
}
static int str_capitalize(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                          struct tpl_value *out)
{
    return tpl_no_args(r, "capitalize", a) < 0 ? -1 : tpl_str_capitalize(r, self.s, out);
}

static int str_replace(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    struct tpl_value v[3] = {tpl_undefined("old", NULL), tpl_undefined("new", NULL), tpl_int(-1)};
    int64_t count;
    if (tpl_bind_args(r, "replace", a, TPL_NAMES("old", "new", "count"), v) < 0 ||
        tpl_arg_str(r, "replace", v[0]) < 0 || tpl_arg_str(r, "replace", v[1]) < 0 ||
        tpl_arg_int(r, "replace", v[2], &count) < 0)
        return -1;
    return tpl_str_replace(r, self.s, v[0].s, v[1].s, count, out);
}

static int find_common(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       const char *fn, bool from_right, bool must_find, struct tpl_value *out)
{
    struct tpl_value sub = tpl_undefined("sub", NULL);
    if (tpl_bind_args(r, fn, a, TPL_NAMES("sub"), &sub) < 0 || tpl_arg_str(r, fn, sub) < 0 ||
        tpl_step(r, 1 + self.s.len / 64) < 0)
        return -1;
    int64_t at = tpl_str_find(self.s, sub.s, from_right);
    if (at < 0 && must_find) return tpl_fail(r, "substring not found");
    *out = tpl_int(at);
    return 0;
}

static int str_find(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                    struct tpl_value *out)
{
    return find_common(r, self, a, "find", false, false, out);
}
static int str_rfind(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return find_common(r, self, a, "rfind", true, false, out);
}
static int str_index(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return find_common(r, self, a, "index", false, true, out);
}

static int str_count(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    struct tpl_value sub = tpl_undefined("sub", NULL);
    if (tpl_bind_args(r, "count", a, TPL_NAMES("sub"), &sub) < 0 ||
        tpl_arg_str(r, "count", sub) < 0 || tpl_step(r, 1 + self.s.len / 64) < 0)
        return -1;
    int64_t n = 0;
    if (sub.s.len == 0) {
        n = (int64_t)tpl_utf8_count(self.s) + 1;
    } else {
        const char *p = self.s.ptr, *end = self.s.ptr + self.s.len, *hit;
        while ((hit = memmem(p, (size_t)(end - p), sub.s.ptr, sub.s.len))) {
            n++;
            p = hit + sub.s.len;
        }
    }
    *out = tpl_int(n);
    return 0;
}

static int str_join(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_value iterable = tpl_undefined("iterable", NULL);
    const struct tpl_list *items;
    if (tpl_bind_args(r, "join", a, TPL_NAMES("iterable"), &iterable) < 0 ||
        tpl_iterate(r, iterable, &items) < 0)
        return -1;
    struct tpl_sbuf b = {0};
    for (size_t i = 0; i < items->len; i++) {
        if (items->items[i].kind != TPL_STR)
            return tpl_fail(r, "sequence item %zu: expected str instance, %s found", i,
                            tpl_type_name(items->items[i]));
        if ((i && tpl_sbuf_puts(r, &b, self.s) < 0) || tpl_sbuf_puts(r, &b, items->items[i].s) < 0)
            return -1;
    }
    *out = tpl_sbuf_value(&b);
    return tpl_step(r, items->len + b.len / 64);
}

/* str.format: "{}", "{0}", "{name}", "{0[key]}"-free subset with "{{" and "}}" escapes and
 * no format specs beyond an empty one. */
static int str_format(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                      struct tpl_value *out)
{
    struct tpl_sbuf b = {0};
    const char *p = self.s.ptr, *end = self.s.ptr + self.s.len;
    size_t auto_index = 0;
    while (p < end) {
        if (*p == '{' && p + 1 < end && p[1] == '{') {
            if (tpl_sbuf_putc(r, &b, '{') < 0) return -1;
            p += 2;
            continue;
        }
        if (*p == '}') {
            if (p + 1 < end && p[1] == '}') {
                if (tpl_sbuf_putc(r, &b, '}') < 0) return -1;
                p += 2;
                continue;
            }
            return tpl_fail(r, "single '}' encountered in format string");
        }
        if (*p != '{') {
            if (tpl_sbuf_putc(r, &b, *p++) < 0) return -1;
            continue;
        }
        const char *close = memchr(p, '}', (size_t)(end - p));
        if (!close) return tpl_fail(r, "single '{' encountered in format string");
        struct tpl_str field = {p + 1, (size_t)(close - p - 1)};
        const char *colon = memchr(field.ptr, ':', field.len);
        if (colon) {
            if (colon + 1 != close)
                return tpl_fail(r, "format specifications are not supported in str.format");
            field.len = (size_t)(colon - field.ptr);
        }
        struct tpl_value v;
        if (field.len == 0) {
            if (auto_index >= a->n_pos)
                return tpl_fail(r, "replacement index %zu out of range", auto_index);
            v = a->pos[auto_index++];
        } else if (field.ptr[0] >= '0' && field.ptr[0] <= '9') {
            size_t index = 0;
            for (size_t i = 0; i < field.len; i++) {
                if (field.ptr[i] < '0' || field.ptr[i] > '9' || index > 1000000)
                    return tpl_fail(r, "unsupported format field");
                index = index * 10 + (size_t)(field.ptr[i] - '0');
            }
            if (index >= a->n_pos) return tpl_fail(r, "replacement index %zu out of range", index);
            v = a->pos[index];
        } else {
            size_t k = 0;
            while (k < a->n_kw && !(a->kw_names[k].len == field.len &&
                                    memcmp(a->kw_names[k].ptr, field.ptr, field.len) == 0))
                k++;
            if (k == a->n_kw)
                return tpl_fail(r, "format field '%.*s' is not given",
                                (int)(field.len > 64 ? 64 : field.len), field.ptr);
            v = a->kw[k];
        }
        if (tpl_write_str(r, &b, v) < 0) return -1;
        p = close + 1;
    }
    *out = tpl_sbuf_value(&b);
    return tpl_step(r, b.len / 64);
}

/* isdigit, isalpha, ...: true when the string is not empty and every character passes */
static int str_class(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     const char *fn, int cls, struct tpl_value *out)
{
    if (tpl_no_args(r, fn, a) < 0) return -1;
    const char *p = self.s.ptr, *end = self.s.ptr + self.s.len;
    bool ok = p < end, any_cased = false;
    while (ok && p < end) {
        uint32_t cp;
        p += tpl_utf8_decode(p, end, &cp);
        switch (cls) {
        case 0:
            ok = cp >= '0' && cp <= '9';
            break; /* isdigit (ASCII digits) */
        case 1:
            ok = tpl_py_isalpha(cp);
            break;
        case 2:
            ok = tpl_py_isalnum(cp);
            break;
        case 3:
            ok = tpl_py_isspace(cp);
            break;
        case 4: /* isupper: every cased character upper case, and at least one */
            if (tpl_py_iscased(cp)) {
                any_cased = true;
                ok = tpl_py_isupper(cp);
            }
            break;
        default: /* islower */
            if (tpl_py_iscased(cp)) {
                any_cased = true;
                ok = tpl_py_islower(cp);
            }
            break;
        }
    }
    if (cls >= 4) ok = ok && any_cased;
    *out = tpl_bool(ok);
    return 0;
}

static int str_isdigit(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    return str_class(r, self, a, "isdigit", 0, out);
}
static int str_isalpha(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    return str_class(r, self, a, "isalpha", 1, out);
}
static int str_isalnum(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    return str_class(r, self, a, "isalnum", 2, out);
}
static int str_isspace(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    return str_class(r, self, a, "isspace", 3, out);
}
static int str_isupper(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    return str_class(r, self, a, "isupper", 4, out);
}
static int str_islower(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    return str_class(r, self, a, "islower", 5, out);
}

static int affix_remove(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                        const char *fn, bool at_end, struct tpl_value *out)
{
    struct tpl_value affix = tpl_undefined("affix", NULL);
    if (tpl_bind_args(r, fn, a, TPL_NAMES("affix"), &affix) < 0 || tpl_arg_str(r, fn, affix) < 0)
        return -1;
    struct tpl_str s = self.s;
    if (affix.s.len <= s.len) {
        const char *at = at_end ? s.ptr + s.len - affix.s.len : s.ptr;
        if (memcmp(at, affix.s.ptr, affix.s.len) == 0) {
            if (!at_end) s.ptr += affix.s.len;
            s.len -= affix.s.len;
        }
    }
    *out = tpl_strv(s.ptr, s.len);
    return 0;
}

static int str_removeprefix(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                            struct tpl_value *out)
{
    return affix_remove(r, self, a, "removeprefix", false, out);
}
static int str_removesuffix(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                            struct tpl_value *out)
{
    return affix_remove(r, self, a, "removesuffix", true, out);
}

static int pad_common(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                      const char *fn, int where, struct tpl_value *out)
{
    struct tpl_value v[2] = {tpl_undefined("width", NULL), TPL_LIT(" ")};
    int64_t width;
    if (tpl_bind_args(r, fn, a, TPL_NAMES("width", "fillchar"), v) < 0 ||
        tpl_arg_int(r, fn, v[0], &width) < 0 || tpl_arg_str(r, fn, v[1]) < 0)
        return -1;
    if (tpl_utf8_count(v[1].s) != 1)
        return tpl_fail(r, "The fill character must be exactly one character long");
    return tpl_str_pad(r, self.s, width, v[1].s, where, out);
}

static int str_center(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                      struct tpl_value *out)
{
    return pad_common(r, self, a, "center", 0, out);
}
static int str_ljust(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return pad_common(r, self, a, "ljust", -1, out);
}
static int str_rjust(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return pad_common(r, self, a, "rjust", 1, out);
}

const struct tpl_method tpl_str_methods[] = {
    {"strip", str_strip},
    {"lstrip", str_lstrip},
    {"rstrip", str_rstrip},
    {"split", str_split},
    {"rsplit", str_rsplit},
    {"splitlines", str_splitlines},
    {"startswith", str_startswith},
    {"endswith", str_endswith},
    {"upper", str_upper},
    {"lower", str_lower},
    {"title", str_title},
    {"capitalize", str_capitalize},
    {"replace", str_replace},
    {"find", str_find},
    {"rfind", str_rfind},
    {"index", str_index},
    {"count", str_count},
    {"join", str_join},
    {"format", str_format},
    {"isdigit", str_isdigit},
    {"isalpha", str_isalpha},
    {"isalnum", str_isalnum},
    {"isspace", str_isspace},
    {"isupper", str_isupper},
    {"islower", str_islower},
    {"removeprefix", str_removeprefix},
    {"removesuffix", str_removesuffix},
    {"center", str_center},
    {"ljust", str_ljust},
    {"rjust", str_rjust},
    {NULL, NULL},
};
