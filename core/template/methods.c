/* The Python methods of str, list, tuple and dict that chat templates call, such as
 * message.content.strip(), messages[0].get('role') or ns.items.append(x). */
#include <string.h>

#include "template/interp.h"
#include "template/library.h"
#include "template/pystr.h"
#include "template/strops.h"

#define NAMES(...) ((const char *const[]){__VA_ARGS__}), sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

static int need_str(struct tpl_render *r, const char *fn, struct tpl_value v)
{
    if (v.kind != TPL_STR)
        return tpl_fail(r, "%s() argument must be str, not %s", fn, tpl_type_name(v));
    return 0;
}

static int need_int(struct tpl_render *r, const char *fn, struct tpl_value v, int64_t *out)
{
    *out = 0;
    if (v.kind == TPL_INT)
        *out = v.i;
    else if (v.kind == TPL_BOOL)
        *out = v.b;
    else
        return tpl_fail(r, "%s(): '%s' object cannot be interpreted as an integer", fn,
                        tpl_type_name(v));
    return 0;
}

static int no_args(struct tpl_render *r, const char *fn, const struct tpl_args *a)
{
    if (a->n_pos || a->n_kw)
        return tpl_fail(r, "%s() takes no arguments", fn);
    return 0;
}

/* ---- str ---- */

static int strip_common(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                        const char *fn, bool left, bool right, struct tpl_value *out)
{
    struct tpl_value chars = tpl_none();
    if (tpl_bind_args(r, fn, a, NAMES("chars"), &chars) < 0)
        return -1;
    if (chars.kind != TPL_NONE && need_str(r, fn, chars) < 0)
        return -1;
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
    if (tpl_bind_args(r, fn, a, NAMES("sep", "maxsplit"), v) < 0 ||
        need_int(r, fn, v[1], &maxsplit) < 0)
        return -1;
    if (v[0].kind != TPL_NONE && need_str(r, fn, v[0]) < 0)
        return -1;
    return tpl_str_split(r, self.s, v[0].kind == TPL_STR ? &v[0].s : NULL, maxsplit,
                         from_right, out);
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
    if (tpl_bind_args(r, "splitlines", a, NAMES("keepends"), &keepends) < 0 ||
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
    if (tpl_bind_args(r, fn, a, NAMES("affix"), &affix) < 0)
        return -1;
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
        if (c.s.len > self.s.len)
            continue;
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
    return no_args(r, "upper", a) < 0 ? -1 : tpl_str_case(r, self.s, TPL_UPPER, out);
}
static int str_lower(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return no_args(r, "lower", a) < 0 ? -1 : tpl_str_case(r, self.s, TPL_LOWER, out);
}
static int str_title(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return no_args(r, "title", a) < 0 ? -1 : tpl_str_title(r, self.s, out);
}
static int str_capitalize(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                          struct tpl_value *out)
{
    return no_args(r, "capitalize", a) < 0 ? -1 : tpl_str_capitalize(r, self.s, out);
}

static int str_replace(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    struct tpl_value v[3] = {tpl_undefined("old", NULL), tpl_undefined("new", NULL),
                             tpl_int(-1)};
    int64_t count;
    if (tpl_bind_args(r, "replace", a, NAMES("old", "new", "count"), v) < 0 ||
        need_str(r, "replace", v[0]) < 0 || need_str(r, "replace", v[1]) < 0 ||
        need_int(r, "replace", v[2], &count) < 0)
        return -1;
    return tpl_str_replace(r, self.s, v[0].s, v[1].s, count, out);
}

static int find_common(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       const char *fn, bool from_right, bool must_find, struct tpl_value *out)
{
    struct tpl_value sub = tpl_undefined("sub", NULL);
    if (tpl_bind_args(r, fn, a, NAMES("sub"), &sub) < 0 || need_str(r, fn, sub) < 0 ||
        tpl_step(r, 1 + self.s.len / 64) < 0)
        return -1;
    int64_t at = tpl_str_find(self.s, sub.s, from_right);
    if (at < 0 && must_find)
        return tpl_fail(r, "substring not found");
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
    if (tpl_bind_args(r, "count", a, NAMES("sub"), &sub) < 0 || need_str(r, "count", sub) < 0 ||
        tpl_step(r, 1 + self.s.len / 64) < 0)
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
    if (tpl_bind_args(r, "join", a, NAMES("iterable"), &iterable) < 0 ||
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
            if (tpl_sbuf_putc(r, &b, '{') < 0)
                return -1;
            p += 2;
            continue;
        }
        if (*p == '}') {
            if (p + 1 < end && p[1] == '}') {
                if (tpl_sbuf_putc(r, &b, '}') < 0)
                    return -1;
                p += 2;
                continue;
            }
            return tpl_fail(r, "single '}' encountered in format string");
        }
        if (*p != '{') {
            if (tpl_sbuf_putc(r, &b, *p++) < 0)
                return -1;
            continue;
        }
        const char *close = memchr(p, '}', (size_t)(end - p));
        if (!close)
            return tpl_fail(r, "single '{' encountered in format string");
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
            if (index >= a->n_pos)
                return tpl_fail(r, "replacement index %zu out of range", index);
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
        if (tpl_write_str(r, &b, v) < 0)
            return -1;
        p = close + 1;
    }
    *out = tpl_sbuf_value(&b);
    return tpl_step(r, b.len / 64);
}

/* isdigit, isalpha, ...: true when the string is not empty and every character passes */
static int str_class(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     const char *fn, int cls, struct tpl_value *out)
{
    if (no_args(r, fn, a) < 0)
        return -1;
    const char *p = self.s.ptr, *end = self.s.ptr + self.s.len;
    bool ok = p < end, any_cased = false;
    while (ok && p < end) {
        uint32_t cp;
        p += tpl_utf8_decode(p, end, &cp);
        switch (cls) {
        case 0: ok = cp >= '0' && cp <= '9'; break; /* isdigit (ASCII digits) */
        case 1: ok = tpl_py_isalpha(cp); break;
        case 2: ok = tpl_py_isalnum(cp); break;
        case 3: ok = tpl_py_isspace(cp); break;
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
    if (cls >= 4)
        ok = ok && any_cased;
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
    if (tpl_bind_args(r, fn, a, NAMES("affix"), &affix) < 0 || need_str(r, fn, affix) < 0)
        return -1;
    struct tpl_str s = self.s;
    if (affix.s.len <= s.len) {
        const char *at = at_end ? s.ptr + s.len - affix.s.len : s.ptr;
        if (memcmp(at, affix.s.ptr, affix.s.len) == 0) {
            if (!at_end)
                s.ptr += affix.s.len;
            s.len -= affix.s.len;
        }
    }
    *out = tpl_strv(s.ptr, s.len);
    return 0;
}

static int str_removeprefix(struct tpl_render *r, struct tpl_value self,
                            const struct tpl_args *a, struct tpl_value *out)
{
    return affix_remove(r, self, a, "removeprefix", false, out);
}
static int str_removesuffix(struct tpl_render *r, struct tpl_value self,
                            const struct tpl_args *a, struct tpl_value *out)
{
    return affix_remove(r, self, a, "removesuffix", true, out);
}

static int pad_common(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                      const char *fn, int where, struct tpl_value *out)
{
    struct tpl_value v[2] = {tpl_undefined("width", NULL), TPL_LIT(" ")};
    int64_t width;
    if (tpl_bind_args(r, fn, a, NAMES("width", "fillchar"), v) < 0 ||
        need_int(r, fn, v[0], &width) < 0 || need_str(r, fn, v[1]) < 0)
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

/* ---- list and tuple ---- */

static int list_append(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    struct tpl_value item = tpl_undefined("object", NULL);
    if (tpl_bind_args(r, "append", a, NAMES("object"), &item) < 0 ||
        tpl_list_push(r, self.list, item) < 0)
        return -1;
    *out = tpl_none();
    return 0;
}

static int list_extend(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    struct tpl_value other = tpl_undefined("iterable", NULL);
    const struct tpl_list *items;
    if (tpl_bind_args(r, "extend", a, NAMES("iterable"), &other) < 0 ||
        tpl_iterate(r, other, &items) < 0 || tpl_step(r, items->len) < 0)
        return -1;
    size_t n = items->len; /* the list may be extended with itself */
    for (size_t i = 0; i < n; i++)
        if (tpl_list_push(r, self.list, items->items[i]) < 0)
            return -1;
    *out = tpl_none();
    return 0;
}

static int list_insert(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    struct tpl_value v[2] = {tpl_undefined("index", NULL), tpl_undefined("object", NULL)};
    int64_t index;
    if (tpl_bind_args(r, "insert", a, NAMES("index", "object"), v) < 0 ||
        need_int(r, "insert", v[0], &index) < 0 || tpl_list_push(r, self.list, v[1]) < 0 ||
        tpl_step(r, self.list->len) < 0)
        return -1;
    int64_t len = (int64_t)self.list->len - 1;
    if (index < 0)
        index = index + len < 0 ? 0 : index + len;
    if (index > len)
        index = len;
    memmove(self.list->items + index + 1, self.list->items + index,
            (size_t)(len - index) * sizeof(struct tpl_value));
    self.list->items[index] = v[1];
    *out = tpl_none();
    return 0;
}

static int list_pop(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_value v = tpl_int(-1);
    int64_t index;
    if (tpl_bind_args(r, "pop", a, NAMES("index"), &v) < 0 || need_int(r, "pop", v, &index) < 0)
        return -1;
    int64_t len = (int64_t)self.list->len;
    if (len == 0)
        return tpl_fail(r, "pop from empty list");
    if (index < 0)
        index += len;
    if (index < 0 || index >= len)
        return tpl_fail(r, "pop index out of range");
    *out = self.list->items[index];
    memmove(self.list->items + index, self.list->items + index + 1,
            (size_t)(len - index - 1) * sizeof(struct tpl_value));
    self.list->len--;
    return tpl_step(r, (uint64_t)len);
}

static int seq_find(struct tpl_render *r, const struct tpl_list *l, struct tpl_value x,
                    size_t *at)
{
    *at = SIZE_MAX;
    if (tpl_step(r, l->len) < 0)
        return -1;
    for (size_t i = 0; i < l->len; i++) {
        bool eq;
        if (tpl_equal(r, l->items[i], x, &eq) < 0)
            return -1;
        if (eq) {
            *at = i;
            return 0;
        }
    }
    return 0;
}

static int list_remove(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    struct tpl_value x = tpl_undefined("value", NULL);
    size_t at;
    if (tpl_bind_args(r, "remove", a, NAMES("value"), &x) < 0 || seq_find(r, self.list, x, &at) < 0)
        return -1;
    if (at == SIZE_MAX)
        return tpl_fail(r, "list.remove(x): x not in list");
    memmove(self.list->items + at, self.list->items + at + 1,
            (self.list->len - at - 1) * sizeof(struct tpl_value));
    self.list->len--;
    *out = tpl_none();
    return 0;
}

static int seq_index(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    struct tpl_value x = tpl_undefined("value", NULL);
    size_t at;
    if (tpl_bind_args(r, "index", a, NAMES("value"), &x) < 0 || seq_find(r, self.list, x, &at) < 0)
        return -1;
    if (at == SIZE_MAX)
        return tpl_fail(r, "value is not in %s", tpl_type_name(self));
    *out = tpl_int((int64_t)at);
    return 0;
}

static int seq_count(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    struct tpl_value x = tpl_undefined("value", NULL);
    if (tpl_bind_args(r, "count", a, NAMES("value"), &x) < 0 || tpl_step(r, self.list->len) < 0)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < self.list->len; i++) {
        bool eq;
        if (tpl_equal(r, self.list->items[i], x, &eq) < 0)
            return -1;
        n += eq;
    }
    *out = tpl_int(n);
    return 0;
}

static int list_reverse(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                        struct tpl_value *out)
{
    if (no_args(r, "reverse", a) < 0 || tpl_step(r, self.list->len) < 0)
        return -1;
    struct tpl_list *l = self.list;
    for (size_t i = 0, j = l->len; i + 1 < j; i++, j--) {
        struct tpl_value t = l->items[i];
        l->items[i] = l->items[j - 1];
        l->items[j - 1] = t;
    }
    *out = tpl_none();
    return 0;
}

static int list_copy(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    if (no_args(r, "copy", a) < 0 || tpl_step(r, self.list->len) < 0)
        return -1;
    struct tpl_list *l = tpl_list_new(r, self.list->len);
    if (!l)
        return -1;
    if (self.list->len)
        memcpy(l->items, self.list->items, self.list->len * sizeof(struct tpl_value));
    l->len = self.list->len;
    *out = tpl_listv(l);
    return 0;
}

static int list_clear(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                      struct tpl_value *out)
{
    if (no_args(r, "clear", a) < 0)
        return -1;
    self.list->len = 0;
    *out = tpl_none();
    return 0;
}

/* ---- dict ---- */

static int dict_view(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     const char *fn, int which, struct tpl_value *out)
{
    const struct tpl_dict *d = self.dict;
    if (no_args(r, fn, a) < 0 || tpl_step(r, d->len) < 0)
        return -1;
    struct tpl_list *l = tpl_list_new(r, d->len);
    if (!l)
        return -1;
    for (size_t i = 0; i < d->len; i++) {
        if (which == 0)
            l->items[i] = d->entries[i].key;
        else if (which == 1)
            l->items[i] = d->entries[i].value;
        else if (tpl_pair(r, d->entries[i].key, d->entries[i].value, &l->items[i]) < 0)
            return -1;
    }
    l->len = d->len;
    *out = tpl_listv(l);
    return 0;
}

static int dict_keys(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    return dict_view(r, self, a, "keys", 0, out);
}
static int dict_values(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    return dict_view(r, self, a, "values", 1, out);
}
static int dict_items(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                      struct tpl_value *out)
{
    return dict_view(r, self, a, "items", 2, out);
}

static int dict_get(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_value v[2] = {tpl_undefined("key", NULL), tpl_none()};
    size_t at;
    if (tpl_bind_args(r, "get", a, NAMES("key", "default"), v) < 0 ||
        tpl_dict_find(r, self.dict, v[0], &at) < 0)
        return -1;
    *out = at == SIZE_MAX ? v[1] : self.dict->entries[at].value;
    return 0;
}

static int dict_pop(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_value v[2] = {tpl_undefined("key", NULL), tpl_undefined(NULL, NULL)};
    size_t at;
    if (tpl_bind_args(r, "pop", a, NAMES("key", "default"), v) < 0 ||
        tpl_dict_find(r, self.dict, v[0], &at) < 0)
        return -1;
    if (at == SIZE_MAX) {
        if (a->n_pos + a->n_kw < 2)
            return tpl_fail(r, "key not found in dict.pop()");
        *out = v[1];
        return 0;
    }
    struct tpl_dict *d = self.dict;
    *out = d->entries[at].value;
    memmove(d->entries + at, d->entries + at + 1, (d->len - at - 1) * sizeof(*d->entries));
    d->len--;
    return 0;
}

static int dict_setdefault(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                           struct tpl_value *out)
{
    struct tpl_value v[2] = {tpl_undefined("key", NULL), tpl_none()};
    size_t at;
    if (tpl_bind_args(r, "setdefault", a, NAMES("key", "default"), v) < 0 ||
        tpl_dict_find(r, self.dict, v[0], &at) < 0)
        return -1;
    if (at != SIZE_MAX) {
        *out = self.dict->entries[at].value;
        return 0;
    }
    *out = v[1];
    return tpl_dict_set(r, self.dict, v[0], v[1]);
}

static int dict_update(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    if (a->n_pos > 1)
        return tpl_fail(r, "update expected at most 1 argument, got %zu", a->n_pos);
    if (a->n_pos == 1) {
        struct tpl_value src = a->pos[0];
        if (src.kind != TPL_DICT)
            return tpl_fail(r, "dict.update() needs a dict, not %s", tpl_type_name(src));
        size_t n = src.dict->len;
        for (size_t i = 0; i < n; i++)
            if (tpl_dict_set(r, self.dict, src.dict->entries[i].key,
                             src.dict->entries[i].value) < 0)
                return -1;
    }
    for (size_t k = 0; k < a->n_kw; k++)
        if (tpl_dict_set(r, self.dict, tpl_strv(a->kw_names[k].ptr, a->kw_names[k].len),
                         a->kw[k]) < 0)
            return -1;
    *out = tpl_none();
    return 0;
}

static int dict_copy(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    struct tpl_dict *d = tpl_dict_new(r);
    if (no_args(r, "copy", a) < 0 || !d)
        return -1;
    for (size_t i = 0; i < self.dict->len; i++)
        if (tpl_dict_set(r, d, self.dict->entries[i].key, self.dict->entries[i].value) < 0)
            return -1;
    *out = tpl_dictv(d);
    return 0;
}

struct method {
    const char *name;
    tpl_native_fn fn;
};

static const struct method str_methods[] = {
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

static const struct method list_methods[] = {
    {"append", list_append},
    {"extend", list_extend},
    {"insert", list_insert},
    {"pop", list_pop},
    {"remove", list_remove},
    {"index", seq_index},
    {"count", seq_count},
    {"reverse", list_reverse},
    {"copy", list_copy},
    {"clear", list_clear},
    {NULL, NULL},
};

static const struct method tuple_methods[] = {
    {"index", seq_index},
    {"count", seq_count},
    {NULL, NULL},
};

static const struct method dict_methods[] = {
    {"keys", dict_keys},
    {"values", dict_values},
    {"items", dict_items},
    {"get", dict_get},
    {"pop", dict_pop},
    {"setdefault", dict_setdefault},
    {"update", dict_update},
    {"copy", dict_copy},
    {NULL, NULL},
};

bool tpl_find_method(struct tpl_render *r, struct tpl_value obj, struct tpl_str name,
                     struct tpl_value *out)
{
    const struct method *table;
    switch (obj.kind) {
    case TPL_STR: table = str_methods; break;
    case TPL_LIST: table = list_methods; break;
    case TPL_TUPLE: table = tuple_methods; break;
    case TPL_DICT: table = dict_methods; break;
    default: return false;
    }
    for (; table->name; table++) {
        if (strlen(table->name) == name.len && memcmp(table->name, name.ptr, name.len) == 0) {
            *out = tpl_native(r, table->name, table->fn, obj);
            return true;
        }
    }
    return false;
}
