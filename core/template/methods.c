/* The Python methods of list, tuple and dict that chat templates call, such as
 * messages[0].get('role') or ns.items.append(x), and the lookup of methods by name (str's
 * are in methods_str.c). */
#include <string.h>

#include "template/methods.h"

/* ---- list and tuple ---- */

static int list_append(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    struct tpl_value item = tpl_undefined("object", NULL);
    if (tpl_bind_args(r, "append", a, TPL_NAMES("object"), &item) < 0 ||
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
    if (tpl_bind_args(r, "extend", a, TPL_NAMES("iterable"), &other) < 0 ||
        tpl_iterate(r, other, &items) < 0 || tpl_step(r, items->len) < 0)
        return -1;
    size_t n = items->len; /* the list may be extended with itself */
    for (size_t i = 0; i < n; i++)
        if (tpl_list_push(r, self.list, items->items[i]) < 0) return -1;
    *out = tpl_none();
    return 0;
}

static int list_insert(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                       struct tpl_value *out)
{
    struct tpl_value v[2] = {tpl_undefined("index", NULL), tpl_undefined("object", NULL)};
    int64_t index;
    if (tpl_bind_args(r, "insert", a, TPL_NAMES("index", "object"), v) < 0 ||
        tpl_arg_int(r, "insert", v[0], &index) < 0 || tpl_list_push(r, self.list, v[1]) < 0 ||
        tpl_step(r, self.list->len) < 0)
        return -1;
    int64_t len = (int64_t)self.list->len - 1;
    if (index < 0) index = index + len < 0 ? 0 : index + len;
    if (index > len) index = len;
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
    if (tpl_bind_args(r, "pop", a, TPL_NAMES("index"), &v) < 0 ||
        tpl_arg_int(r, "pop", v, &index) < 0)
        return -1;
    int64_t len = (int64_t)self.list->len;
    if (len == 0) return tpl_fail(r, "pop from empty list");
    if (index < 0) index += len;
    if (index < 0 || index >= len) return tpl_fail(r, "pop index out of range");
    *out = self.list->items[index];
    memmove(self.list->items + index, self.list->items + index + 1,
            (size_t)(len - index - 1) * sizeof(struct tpl_value));
    self.list->len--;
    return tpl_step(r, (uint64_t)len);
}

static int seq_find(struct tpl_render *r, const struct tpl_list *l, struct tpl_value x, size_t *at)
{
    *at = SIZE_MAX;
    if (tpl_step(r, l->len) < 0) return -1;
    for (size_t i = 0; i < l->len; i++) {
        bool eq;
        if (tpl_equal(r, l->items[i], x, &eq) < 0) return -1;
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
    if (tpl_bind_args(r, "remove", a, TPL_NAMES("value"), &x) < 0 ||
        seq_find(r, self.list, x, &at) < 0)
        return -1;
    if (at == SIZE_MAX) return tpl_fail(r, "list.remove(x): x not in list");
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
    if (tpl_bind_args(r, "index", a, TPL_NAMES("value"), &x) < 0 ||
        seq_find(r, self.list, x, &at) < 0)
        return -1;
    if (at == SIZE_MAX) return tpl_fail(r, "value is not in %s", tpl_type_name(self));
    *out = tpl_int((int64_t)at);
    return 0;
}

static int seq_count(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    struct tpl_value x = tpl_undefined("value", NULL);
    if (tpl_bind_args(r, "count", a, TPL_NAMES("value"), &x) < 0 || tpl_step(r, self.list->len) < 0)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < self.list->len; i++) {
        bool eq;
        if (tpl_equal(r, self.list->items[i], x, &eq) < 0) return -1;
        n += eq;
    }
    *out = tpl_int(n);
    return 0;
}

static int list_reverse(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                        struct tpl_value *out)
{
    if (tpl_no_args(r, "reverse", a) < 0 || tpl_step(r, self.list->len) < 0) return -1;
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
    if (tpl_no_args(r, "copy", a) < 0 || tpl_step(r, self.list->len) < 0) return -1;
    struct tpl_list *l = tpl_list_new(r, self.list->len);
    if (!l) return -1;
    if (self.list->len)
        memcpy(l->items, self.list->items, self.list->len * sizeof(struct tpl_value));
    l->len = self.list->len;
    *out = tpl_listv(l);
    return 0;
}

static int list_clear(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                      struct tpl_value *out)
{
    if (tpl_no_args(r, "clear", a) < 0) return -1;
    self.list->len = 0;
    *out = tpl_none();
    return 0;
}

/* ---- dict ---- */

static int dict_view(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     const char *fn, int which, struct tpl_value *out)
{
    const struct tpl_dict *d = self.dict;
    if (tpl_no_args(r, fn, a) < 0 || tpl_step(r, d->len) < 0) return -1;
    struct tpl_list *l = tpl_list_new(r, d->len);
    if (!l) return -1;
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
    if (tpl_bind_args(r, "get", a, TPL_NAMES("key", "default"), v) < 0 ||
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
    if (tpl_bind_args(r, "pop", a, TPL_NAMES("key", "default"), v) < 0 ||
        tpl_dict_find(r, self.dict, v[0], &at) < 0)
        return -1;
    if (at == SIZE_MAX) {
        if (a->n_pos + a->n_kw < 2) return tpl_fail(r, "key not found in dict.pop()");
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
    if (tpl_bind_args(r, "setdefault", a, TPL_NAMES("key", "default"), v) < 0 ||
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
    if (a->n_pos > 1) return tpl_fail(r, "update expected at most 1 argument, got %zu", a->n_pos);
    if (a->n_pos == 1) {
        struct tpl_value src = a->pos[0];
        if (src.kind != TPL_DICT)
            return tpl_fail(r, "dict.update() needs a dict, not %s", tpl_type_name(src));
        size_t n = src.dict->len;
        for (size_t i = 0; i < n; i++)
            if (tpl_dict_set(r, self.dict, src.dict->entries[i].key, src.dict->entries[i].value) <
                0)
                return -1;
    }
    for (size_t k = 0; k < a->n_kw; k++)
        if (tpl_dict_set(r, self.dict, tpl_strv(a->kw_names[k].ptr, a->kw_names[k].len), a->kw[k]) <
            0)
            return -1;
    *out = tpl_none();
    return 0;
}

static int dict_copy(struct tpl_render *r, struct tpl_value self, const struct tpl_args *a,
                     struct tpl_value *out)
{
    struct tpl_dict *d = tpl_dict_new(r);
    if (tpl_no_args(r, "copy", a) < 0 || !d) return -1;
    for (size_t i = 0; i < self.dict->len; i++)
        if (tpl_dict_set(r, d, self.dict->entries[i].key, self.dict->entries[i].value) < 0)
            return -1;
    *out = tpl_dictv(d);
    return 0;
}

static const struct tpl_method list_methods[] = {
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

static const struct tpl_method tuple_methods[] = {
    {"index", seq_index},
    {"count", seq_count},
    {NULL, NULL},
};

static const struct tpl_method dict_methods[] = {
    {"keys", dict_keys},     {"values", dict_values}, {"items", dict_items},
    {"get", dict_get},       {"pop", dict_pop},       {"setdefault", dict_setdefault},
    {"update", dict_update}, {"copy", dict_copy},     {NULL, NULL},
};

bool tpl_find_method(struct tpl_render *r, struct tpl_value obj, struct tpl_str name,
                     struct tpl_value *out)
{
    const struct tpl_method *table;
    switch (obj.kind) {
    case TPL_STR:
        table = tpl_str_methods;
        break;
    case TPL_LIST:
        table = list_methods;
        break;
    case TPL_TUPLE:
        table = tuple_methods;
        break;
    case TPL_DICT:
        table = dict_methods;
        break;
    default:
        return false;
    }
    for (; table->name; table++) {
        if (strlen(table->name) == name.len && memcmp(table->name, name.ptr, name.len) == 0) {
            *out = tpl_native(r, table->name, table->fn, obj);
            return true;
        }
    }
    return false;
}
