/* Jinja2's filters on sequences and mappings (jinja2/filters.py), with Hugging Face's
 * tojson. */
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

/* ---- sequences ---- */

static int f_length(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    size_t n;
    if (tpl_no_args(r, "length", a) < 0 || tpl_length(r, v, &n) < 0) return -1;
    *out = tpl_int((int64_t)n);
    return 0;
}

static int f_list(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    const struct tpl_list *items;
    if (tpl_no_args(r, "list", a) < 0 || tpl_iterate(r, v, &items) < 0 ||
        tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_list *l = tpl_list_new(r, items->len);
    if (!l) return -1;
    if (items->len) memcpy(l->items, items->items, items->len * sizeof(struct tpl_value));
    l->len = items->len;
    *out = tpl_listv(l);
    return 0;
}

static int f_first(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    const struct tpl_list *items;
    if (tpl_no_args(r, "first", a) < 0 || tpl_iterate(r, v, &items) < 0) return -1;
    *out = items->len ? items->items[0] : tpl_undefined("first item", NULL);
    return 0;
}

static int f_last(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    const struct tpl_list *items;
    if (tpl_no_args(r, "last", a) < 0 || tpl_iterate(r, v, &items) < 0) return -1;
    *out = items->len ? items->items[items->len - 1] : tpl_undefined("last item", NULL);
    return 0;
}

static int f_reverse(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                     struct tpl_value *out)
{
    if (tpl_no_args(r, "reverse", a) < 0) return -1;
    if (v.kind == TPL_STR) return tpl_slice(r, v, tpl_none(), tpl_none(), tpl_int(-1), out);
    const struct tpl_list *items;
    if (tpl_iterate(r, v, &items) < 0 || tpl_step(r, items->len) < 0) return -1;
    struct tpl_list *l = tpl_list_new(r, items->len);
    if (!l) return -1;
    for (size_t i = 0; i < items->len; i++)
        l->items[i] = items->items[items->len - 1 - i];
    l->len = items->len;
    *out = tpl_listv(l);
    return 0;
}

static int f_items(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                   struct tpl_value *out)
{
    if (tpl_no_args(r, "items", a) < 0) return -1;
    struct tpl_list *l = tpl_list_new(r, v.kind == TPL_DICT ? v.dict->len : 0);
    if (!l) return -1;
    if (v.kind == TPL_DICT) {
        if (tpl_step(r, v.dict->len) < 0) return -1;
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

static int f_attr(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    struct tpl_value name = tpl_undefined("name", NULL);
    if (tpl_bind_args(r, "attr", a, TPL_NAMES("name"), &name) < 0) return -1;
    if (name.kind != TPL_STR) return tpl_fail(r, "attribute name must be a string");
    /* only Python attributes: attr() never looks at dict items */
    if (v.kind == TPL_NAMESPACE || v.kind == TPL_LOOP || v.kind == TPL_UNDEFINED)
        return tpl_getattr(r, v, name.s, out);
    if (tpl_find_method(r, v, name.s, out)) return 0;
    *out = tpl_undefined("attribute", tpl_type_name(v));
    return r->error.status == SLM_OK ? 0 : -1;
}

static int f_join(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                  struct tpl_value *out)
{
    struct tpl_value p[2] = {TPL_LIT(""), tpl_none()};
    const struct tpl_list *items;
    struct tpl_str sep;
    if (tpl_bind_args(r, "join", a, TPL_NAMES("d", "attribute"), p) < 0 ||
        tpl_to_str(r, p[0], &sep) < 0 || tpl_iterate(r, v, &items) < 0 ||
        tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_sbuf b = {0};
    for (size_t i = 0; i < items->len; i++) {
        struct tpl_value item = items->items[i];
        if (p[1].kind != TPL_NONE && tpl_get_attribute(r, item, p[1], &item) < 0) return -1;
        if ((i && tpl_sbuf_puts(r, &b, sep) < 0) || tpl_write_str(r, &b, item) < 0) return -1;
    }
    *out = tpl_sbuf_value(&b);
    return tpl_step(r, b.len / 64);
}

static int f_default(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                     struct tpl_value *out)
{
    struct tpl_value p[2] = {TPL_LIT(""), tpl_bool(false)};
    if (tpl_bind_args(r, "default", a, TPL_NAMES("default_value", "boolean"), p) < 0) return -1;
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
    if (tpl_bind_args(r, "batch", a, TPL_NAMES("linecount", "fill_with"), p) < 0 ||
        tpl_arg_int(r, "batch", p[0], &size) < 0 || tpl_iterate(r, v, &items) < 0 ||
        tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_list *batches = tpl_list_new(r, 0), *current = NULL;
    if (!batches) return -1;
    for (size_t i = 0; i < items->len; i++) {
        if (!current || (size > 0 && current->len == (uint64_t)size)) {
            if (!(current = tpl_list_new(r, 0)) ||
                tpl_list_push(r, batches, tpl_listv(current)) < 0)
                return -1;
        }
        if (tpl_list_push(r, current, items->items[i]) < 0) return -1;
    }
    if (current && p[1].kind != TPL_NONE && size > 0) {
        while (current->len < (uint64_t)size)
            if (tpl_list_push(r, current, p[1]) < 0) return -1;
    }
    *out = tpl_listv(batches);
    return 0;
}

/* For sort, unique, min and max: strings compare case-insensitively unless asked. */
static int sort_key(struct tpl_render *r, struct tpl_value item, struct tpl_value attribute,
                    bool case_sensitive, struct tpl_value *key)
{
    *key = item;
    if (attribute.kind != TPL_NONE && tpl_get_attribute(r, item, attribute, key) < 0) return -1;
    if (!case_sensitive && key->kind == TPL_STR) return tpl_str_case(r, key->s, TPL_LOWER, key);
    return 0;
}

struct keyed {
    struct tpl_value key, value;
};

/* A stable merge sort whose comparisons may fail. */
static int merge_sort(struct tpl_render *r, struct keyed *items, struct keyed *tmp, size_t n,
                      bool reverse)
{
    if (n < 2) return 0;
    size_t half = n / 2;
    if (merge_sort(r, items, tmp, half, reverse) < 0 ||
        merge_sort(r, items + half, tmp, n - half, reverse) < 0 || tpl_step(r, n) < 0)
        return -1;
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n) {
        int order;
        if (tpl_compare(r, items[j].key, items[i].key, "<", &order) < 0) return -1;
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
    if (!keyed || !tmp || !l) return -1;
    for (size_t i = 0; i < n; i++) {
        keyed[i].value = items->items[i];
        if (sort_key(r, items->items[i], attribute, case_sensitive, &keyed[i].key) < 0) return -1;
    }
    if (merge_sort(r, keyed, tmp, n, reverse) < 0) return -1;
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
    if (tpl_bind_args(r, "sort", a, TPL_NAMES("reverse", "case_sensitive", "attribute"), p) < 0 ||
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
    if (tpl_bind_args(r, "dictsort", a, TPL_NAMES("case_sensitive", "by", "reverse"), p) < 0)
        return -1;
    if (v.kind != TPL_DICT) return tpl_fail(r, "dictsort needs a mapping");
    struct tpl_value pairs;
    struct tpl_args none = {0};
    if (f_items(r, v, &none, &pairs) < 0) return -1;
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
    if (tpl_bind_args(r, "unique", a, TPL_NAMES("case_sensitive", "attribute"), p) < 0 ||
        tpl_iterate(r, v, &items) < 0)
        return -1;
    struct tpl_list *l = tpl_list_new(r, 0), *seen = tpl_list_new(r, 0);
    if (!l || !seen) return -1;
    for (size_t i = 0; i < items->len; i++) {
        struct tpl_value key;
        bool found;
        if (sort_key(r, items->items[i], p[1], tpl_truthy(p[0]), &key) < 0) return -1;
        if (!tpl_hashable(key)) return tpl_fail(r, "unhashable type: '%s'", tpl_type_name(key));
        if (tpl_contains(r, tpl_listv(seen), key, &found) < 0) return -1;
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
    if (tpl_bind_args(r, fn, a, TPL_NAMES("case_sensitive", "attribute"), p) < 0 ||
        tpl_iterate(r, v, &items) < 0 || tpl_step(r, items->len) < 0)
        return -1;
    if (items->len == 0) {
        *out = tpl_undefined("aggregated item", NULL);
        return 0;
    }
    struct tpl_value best = items->items[0], best_key;
    if (sort_key(r, best, p[1], tpl_truthy(p[0]), &best_key) < 0) return -1;
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
    if (tpl_bind_args(r, "sum", a, TPL_NAMES("attribute", "start"), p) < 0 ||
        tpl_iterate(r, v, &items) < 0 || tpl_step(r, items->len) < 0)
        return -1;
    struct tpl_value total = p[1];
    for (size_t i = 0; i < items->len; i++) {
        struct tpl_value item = items->items[i];
        if (p[0].kind != TPL_NONE && tpl_get_attribute(r, item, p[0], &item) < 0) return -1;
        if (tpl_binop(r, OP_ADD, total, item, &total) < 0) return -1;
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
    if (!l) return -1;
    *out = tpl_listv(l);
    size_t first_test_arg = attr_mode ? 1 : 0;
    if (attr_mode && a->n_pos < 1) return tpl_fail(r, "missing parameter for attribute name");
    if (!tpl_truthy(v)) return 0; /* Jinja yields nothing for a false sequence, None included */
    const struct tpl_list *items;
    if (tpl_iterate(r, v, &items) < 0 || tpl_step(r, items->len) < 0) return -1;
    struct tpl_args test_args = {0};
    struct tpl_str test = {NULL, 0};
    if (a->n_pos > first_test_arg) {
        struct tpl_value name = a->pos[first_test_arg];
        if (name.kind != TPL_STR) return tpl_fail(r, "test name must be a string");
        test = name.s;
        test_args = (struct tpl_args){a->n_pos - first_test_arg - 1, a->pos + first_test_arg + 1,
                                      a->n_kw, a->kw_names, a->kw};
    }
    for (size_t i = 0; i < items->len; i++) {
        struct tpl_value item = items->items[i], subject = item;
        bool pass;
        if (attr_mode && tpl_get_attribute(r, item, a->pos[0], &subject) < 0) return -1;
        if (test.ptr) {
            if (tpl_apply_test(r, test, subject, &test_args, &pass) < 0) return -1;
        } else {
            pass = tpl_truthy(subject);
        }
        if (pass == keep_matching && tpl_list_push(r, l, item) < 0) return -1;
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
    if (!l) return -1;
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
        if (!have_attribute) return tpl_fail(r, "map requires a filter argument");
    } else if (a->pos[0].kind != TPL_STR) {
        return tpl_fail(r, "map filter name must be a string");
    }
    if (!tpl_truthy(v)) return 0;
    const struct tpl_list *items;
    if (tpl_iterate(r, v, &items) < 0 || tpl_step(r, items->len) < 0) return -1;
    struct tpl_args rest = {0};
    if (!by_attribute)
        rest = (struct tpl_args){a->n_pos - 1, a->pos + 1, a->n_kw, a->kw_names, a->kw};
    for (size_t i = 0; i < items->len; i++) {
        struct tpl_value mapped;
        if (by_attribute) {
            if (tpl_get_attribute(r, items->items[i], attribute, &mapped) < 0) return -1;
            if (mapped.kind == TPL_UNDEFINED && def.kind != TPL_NONE) mapped = def;
        } else if (tpl_apply_filter(r, a->pos[0].s, items->items[i], &rest, &mapped) < 0) {
            return -1;
        }
        if (tpl_list_push(r, l, mapped) < 0) return -1;
    }
    return 0;
}

/* Hugging Face's tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None,
 * sort_keys=False) */
static int f_tojson(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                    struct tpl_value *out)
{
    struct tpl_value p[4] = {tpl_bool(false), tpl_none(), tpl_none(), tpl_bool(false)};
    if (tpl_bind_args(r, "tojson", a,
                      TPL_NAMES("ensure_ascii", "indent", "separators", "sort_keys"), p) < 0)
        return -1;
    bool indented = p[1].kind != TPL_NONE;
    struct tpl_str item_sep = indented ? (struct tpl_str){",", 1} : (struct tpl_str){", ", 2};
    struct tpl_str key_sep = {": ", 2};
    if (p[2].kind != TPL_NONE) {
        const struct tpl_list *seps;
        if (tpl_iterate(r, p[2], &seps) < 0) return -1;
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
const struct tpl_filter_spec tpl_seq_filters[] = {
    {"attr", f_attr},
    {"batch", f_batch},
    {"count", f_length},
    {"d", f_default},
    {"default", f_default},
    {"dictsort", f_dictsort},
    {"first", f_first},
    {"items", f_items},
    {"join", f_join},
    {"last", f_last},
    {"length", f_length},
    {"list", f_list},
    {"map", f_map},
    {"max", f_max},
    {"min", f_min},
    {"reject", f_reject},
    {"rejectattr", f_rejectattr},
    {"reverse", f_reverse},
    {"select", f_select},
    {"selectattr", f_selectattr},
    {"sort", f_sort},
    {"sum", f_sum},
    {"tojson", f_tojson},
    {"unique", f_unique},
};
const size_t tpl_seq_filters_count = sizeof(tpl_seq_filters) / sizeof(tpl_seq_filters[0]);
