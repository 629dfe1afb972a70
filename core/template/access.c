/* Attribute and item access with Jinja2's rules: obj.name tries Python attributes (the
 * methods of str, list and dict) before items, obj[key] items before attributes, and a miss
 * is Undefined rather than an error. Also slicing, and the attributes of `loop`. */
#include "template/access.h"

#include <string.h>

#include "template/library.h"
#include "template/pystr.h"

static const char *cstr(struct tpl_render *r, struct tpl_str s)
{
    char *p = tpl_arena_strndup(r->arena, s.ptr, s.len);
    return p ? p : "?";
}

static int loop_attr(struct tpl_render *r, const struct tpl_loop *loop, struct tpl_str name,
                     struct tpl_value *out);

int tpl_getattr(struct tpl_render *r, struct tpl_value obj, struct tpl_str name,
                struct tpl_value *out)
{
    switch (obj.kind) {
    case TPL_UNDEFINED:
        return tpl_fail_undefined(r, obj);
    case TPL_DICT:
        if (tpl_find_method(r, obj, name, out)) return 0;
        if (tpl_step(r, 1 + obj.dict->len / 16) < 0) return -1;
        if (tpl_dict_get_str(obj.dict, name.ptr, name.len, out)) return 0;
        break;
    case TPL_NAMESPACE:
        if (tpl_dict_get_str(obj.dict, name.ptr, name.len, out)) return 0;
        break;
    case TPL_LOOP:
        return loop_attr(r, obj.loop, name, out);
    default:
        if (tpl_find_method(r, obj, name, out)) return 0;
        break;
    }
    if (r->error.status != SLM_OK) return -1;
    *out = tpl_undefined(cstr(r, name), tpl_type_name(obj));
    return 0;
}

static bool as_index(struct tpl_value v, int64_t *i)
{
    if (v.kind == TPL_INT) {
        *i = v.i;
        return true;
    }
    if (v.kind == TPL_BOOL) {
        *i = v.b;
        return true;
    }
    return false;
}

int tpl_getitem(struct tpl_render *r, struct tpl_value obj, struct tpl_value key,
                struct tpl_value *out)
{
    int64_t i;
    switch (obj.kind) {
    case TPL_UNDEFINED:
        return tpl_fail_undefined(r, obj);
    case TPL_DICT:
        if (tpl_hashable(key)) {
            size_t at;
            if (tpl_dict_find(r, obj.dict, key, &at) < 0) return -1;
            if (at != SIZE_MAX) {
                *out = obj.dict->entries[at].value;
                return 0;
            }
        }
        break;
    case TPL_LIST:
    case TPL_TUPLE:
        if (as_index(key, &i)) {
            int64_t len = (int64_t)obj.list->len;
            if (i < 0) i += len;
            if (i >= 0 && i < len) {
                *out = obj.list->items[i];
                return 0;
            }
        }
        break;
    case TPL_STR:
        if (as_index(key, &i)) {
            int64_t len = (int64_t)tpl_utf8_count(obj.s);
            if (i < 0) i += len;
            if (i >= 0 && i < len) {
                size_t at = tpl_utf8_offset(obj.s, (size_t)i);
                uint32_t cp;
                size_t n = tpl_utf8_decode(obj.s.ptr + at, obj.s.ptr + obj.s.len, &cp);
                *out = tpl_strv(obj.s.ptr + at, n);
                return tpl_step(r, obj.s.len / 64);
            }
        }
        break;
    default:
        break;
    }
    if (key.kind == TPL_STR) return tpl_getattr(r, obj, key.s, out);
    struct tpl_sbuf name = {0};
    if (tpl_write_repr(r, &name, key) < 0 || tpl_sbuf_putc(r, &name, '\0') < 0) return -1;
    *out = tpl_undefined(name.ptr, tpl_type_name(obj));
    return 0;
}

/* Python's PySlice_AdjustIndices: fills start and step and returns the item count. */
static int slice_indices(struct tpl_render *r, size_t length, struct tpl_value start_v,
                         struct tpl_value stop_v, struct tpl_value step_v, int64_t *start,
                         int64_t *step, size_t *count)
{
    int64_t len = (int64_t)length, stop;
    *step = 1;
    if (step_v.kind != TPL_NONE && !as_index(step_v, step))
        return tpl_fail(r, "slice indices must be integers or None");
    if (*step == 0) return tpl_fail(r, "slice step cannot be zero");
    if (*step == INT64_MIN) *step = -INT64_MAX;
    bool back = *step < 0;
    int64_t *ends[2] = {start, &stop};
    struct tpl_value vals[2] = {start_v, stop_v};
    for (int k = 0; k < 2; k++) {
        int64_t v;
        if (vals[k].kind == TPL_NONE) {
            v = k == 0 ? (back ? len - 1 : 0) : (back ? -1 : len);
        } else if (!as_index(vals[k], &v)) {
            return tpl_fail(r, "slice indices must be integers or None");
        } else if (v < 0) {
            v = v < -len ? (back ? -1 : 0) : v + len;
        } else if (v >= len) {
            v = back ? len - 1 : len;
        }
        *ends[k] = v;
    }
    if (back)
        *count = stop < *start ? (size_t)((*start - stop - 1) / -*step + 1) : 0;
    else
        *count = *start < stop ? (size_t)((stop - *start - 1) / *step + 1) : 0;
    return 0;
}

int tpl_slice(struct tpl_render *r, struct tpl_value obj, struct tpl_value start_v,
              struct tpl_value stop_v, struct tpl_value step_v, struct tpl_value *out)
{
    int64_t start, step;
    size_t count;
    if (obj.kind == TPL_UNDEFINED) return tpl_fail_undefined(r, obj);
    if (tpl_is_seq(obj)) {
        if (slice_indices(r, obj.list->len, start_v, stop_v, step_v, &start, &step, &count) < 0)
            return -1;
        struct tpl_list *l = tpl_list_new(r, count);
        if (!l || tpl_step(r, count) < 0) return -1;
        for (size_t k = 0; k < count; k++)
            l->items[k] = obj.list->items[start + (int64_t)k * step];
        l->len = count;
        *out = obj.kind == TPL_LIST ? tpl_listv(l) : tpl_tuplev(l);
        return 0;
    }
    if (obj.kind == TPL_STR) {
        size_t n = tpl_utf8_count(obj.s);
        if (slice_indices(r, n, start_v, stop_v, step_v, &start, &step, &count) < 0 ||
            tpl_step(r, 1 + obj.s.len / 64) < 0)
            return -1;
        if (step == 1) {
            size_t a = tpl_utf8_offset(obj.s, (size_t)start);
            size_t b = a + tpl_utf8_offset((struct tpl_str){obj.s.ptr + a, obj.s.len - a}, count);
            *out = tpl_strv(obj.s.ptr + a, b - a);
            return 0;
        }
        /* any other step: index the code points once */
        size_t *offsets = tpl_alloc_array(r, n + 1, sizeof(size_t));
        if (!offsets) return -1;
        const char *p = obj.s.ptr, *end = obj.s.ptr + obj.s.len;
        for (size_t k = 0; k <= n; k++) {
            offsets[k] = (size_t)(p - obj.s.ptr);
            uint32_t cp;
            if (p < end) p += tpl_utf8_decode(p, end, &cp);
        }
        struct tpl_sbuf b = {0};
        for (size_t k = 0; k < count; k++) {
            size_t at = (size_t)(start + (int64_t)k * step);
            if (tpl_sbuf_put(r, &b, obj.s.ptr + offsets[at], offsets[at + 1] - offsets[at]) < 0)
                return -1;
        }
        *out = tpl_sbuf_value(&b);
        return 0;
    }
    *out = tpl_undefined("slice", tpl_type_name(obj));
    return 0;
}

/* ---- the loop object ---- */

static int loop_cycle(struct tpl_render *r, struct tpl_value self, const struct tpl_args *args,
                      struct tpl_value *out)
{
    if (args->n_pos == 0) return tpl_fail(r, "no items for cycling given");
    *out = args->pos[self.loop->index0 % args->n_pos];
    return 0;
}

static int loop_changed(struct tpl_render *r, struct tpl_value self, const struct tpl_args *args,
                        struct tpl_value *out)
{
    struct tpl_loop *loop = self.loop;
    struct tpl_list *l = tpl_list_new(r, args->n_pos);
    if (!l) return -1;
    if (args->n_pos) memcpy(l->items, args->pos, args->n_pos * sizeof(*args->pos));
    l->len = args->n_pos;
    struct tpl_value now = tpl_tuplev(l);
    bool same = false;
    if (loop->has_changed_value && tpl_equal(r, loop->changed_value, now, &same) < 0) return -1;
    loop->has_changed_value = true;
    loop->changed_value = now;
    *out = tpl_bool(!same);
    return 0;
}

static bool str_is(struct tpl_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

static int loop_attr(struct tpl_render *r, const struct tpl_loop *loop, struct tpl_str name,
                     struct tpl_value *out)
{
    size_t len = loop->items->len, i = loop->index0;
    struct tpl_value self = {.kind = TPL_LOOP, .loop = (struct tpl_loop *)loop};
    if (str_is(name, "index"))
        *out = tpl_int((int64_t)i + 1);
    else if (str_is(name, "index0"))
        *out = tpl_int((int64_t)i);
    else if (str_is(name, "revindex"))
        *out = tpl_int((int64_t)(len - i));
    else if (str_is(name, "revindex0"))
        *out = tpl_int((int64_t)(len - i - 1));
    else if (str_is(name, "first"))
        *out = tpl_bool(i == 0);
    else if (str_is(name, "last"))
        *out = tpl_bool(i + 1 == len);
    else if (str_is(name, "length"))
        *out = tpl_int((int64_t)len);
    else if (str_is(name, "depth"))
        *out = tpl_int(1);
    else if (str_is(name, "depth0"))
        *out = tpl_int(0);
    else if (str_is(name, "previtem"))
        *out = i > 0 ? loop->items->items[i - 1] : tpl_undefined("previtem", "LoopContext");
    else if (str_is(name, "nextitem"))
        *out = i + 1 < len ? loop->items->items[i + 1] : tpl_undefined("nextitem", "LoopContext");
    else if (str_is(name, "cycle"))
        *out = tpl_native(r, "cycle", loop_cycle, self);
    else if (str_is(name, "changed"))
        *out = tpl_native(r, "changed", loop_changed, self);
    else
        *out = tpl_undefined(cstr(r, name), "LoopContext");
    return r->error.status == SLM_OK ? 0 : -1;
}
