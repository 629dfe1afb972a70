/* Argument binding and the global functions a template can call: Jinja2's range, dict,
 * namespace and joiner, and Hugging Face's raise_exception and strftime_now. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "template/library.h"
#include "template/pystr.h"
#include "util/checked.h"

int tpl_bind_args(struct tpl_render *r, const char *fn, const struct tpl_args *args,
                  const char *const *names, size_t n_names, struct tpl_value *bound)
{
    bool given[16] = {false};
    if (n_names > 16) return tpl_fail(r, "internal error: too many parameters for %s()", fn);
    if (args->n_pos > n_names)
        return tpl_fail(r, "%s() takes at most %zu argument(s) (%zu given)", fn, n_names,
                        args->n_pos);
    for (size_t i = 0; i < args->n_pos; i++) {
        bound[i] = args->pos[i];
        given[i] = true;
    }
    for (size_t k = 0; k < args->n_kw; k++) {
        struct tpl_str key = args->kw_names[k];
        size_t i = 0;
        while (i < n_names &&
               !(strlen(names[i]) == key.len && memcmp(names[i], key.ptr, key.len) == 0))
            i++;
        if (i == n_names)
            return tpl_fail(r, "%s() got an unexpected keyword argument '%.*s'", fn,
                            (int)(key.len > 64 ? 64 : key.len), key.ptr);
        if (given[i])
            return tpl_fail(r, "%s() got multiple values for argument '%s'", fn, names[i]);
        bound[i] = args->kw[k];
        given[i] = true;
    }
    return 0;
}

int tpl_no_args(struct tpl_render *r, const char *fn, const struct tpl_args *args)
{
    if (args->n_pos || args->n_kw) return tpl_fail(r, "%s() takes no arguments", fn);
    return 0;
}

int tpl_arg_int(struct tpl_render *r, const char *fn, struct tpl_value v, int64_t *out)
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

int tpl_arg_str(struct tpl_render *r, const char *fn, struct tpl_value v)
{
    if (v.kind != TPL_STR)
        return tpl_fail(r, "%s() argument must be str, not %s", fn, tpl_type_name(v));
    return 0;
}

static int builtin_range(struct tpl_render *r, struct tpl_value self, const struct tpl_args *args,
                         struct tpl_value *out)
{
    int64_t v[3] = {0, 0, 1};
    if (args->n_kw) return tpl_fail(r, "range() takes no keyword arguments");
    if (args->n_pos < 1 || args->n_pos > 3)
        return tpl_fail(r, "range expected 1 to 3 arguments, got %zu", args->n_pos);
    for (size_t i = 0; i < args->n_pos; i++)
        if (tpl_arg_int(r, "range", args->pos[i], &v[args->n_pos == 1 ? 1 : i]) < 0) return -1;
    int64_t start = v[0], stop = v[1], step = v[2];
    if (step == 0) return tpl_fail(r, "range() arg 3 must not be zero");
    /* the count, computed in unsigned arithmetic so that no difference overflows */
    uint64_t count = 0;
    if (step > 0 && start < stop)
        count = ((uint64_t)stop - (uint64_t)start - 1) / (uint64_t)step + 1;
    else if (step < 0 && start > stop)
        count = ((uint64_t)start - (uint64_t)stop - 1) / (0 - (uint64_t)step) + 1;
    if (count > r->limits.max_steps || tpl_step(r, count) < 0)
        return tpl_fail(r, "template exceeded its limit of %" PRIu64 " steps", r->limits.max_steps);
    struct tpl_list *l = tpl_list_new(r, (size_t)count);
    if (!l) return -1;
    for (uint64_t i = 0; i < count; i++)
        l->items[i] = tpl_int((int64_t)((uint64_t)start + i * (uint64_t)step));
    l->len = (size_t)count;
    *out = tpl_listv(l);
    return 0;
}

/* dict(mapping or pairs, **kwargs), shared by namespace() */
static int build_dict(struct tpl_render *r, const char *fn, const struct tpl_args *args,
                      struct tpl_dict **out)
{
    struct tpl_dict *d = tpl_dict_new(r);
    if (!d) return -1;
    if (args->n_pos > 1)
        return tpl_fail(r, "%s expected at most 1 argument, got %zu", fn, args->n_pos);
    if (args->n_pos == 1) {
        struct tpl_value src = args->pos[0];
        if (src.kind == TPL_DICT || src.kind == TPL_NAMESPACE) {
            for (size_t i = 0; i < src.dict->len; i++)
                if (tpl_dict_set(r, d, src.dict->entries[i].key, src.dict->entries[i].value) < 0)
                    return -1;
        } else {
            const struct tpl_list *items;
            if (tpl_iterate(r, src, &items) < 0) return -1;
            for (size_t i = 0; i < items->len; i++) {
                const struct tpl_list *pair;
                if (tpl_iterate(r, items->items[i], &pair) < 0) return -1;
                if (pair->len != 2)
                    return tpl_fail(r,
                                    "dictionary update sequence element #%zu has length "
                                    "%zu; 2 is required",
                                    i, pair->len);
                if (tpl_dict_set(r, d, pair->items[0], pair->items[1]) < 0) return -1;
            }
        }
    }
    for (size_t k = 0; k < args->n_kw; k++)
        if (tpl_dict_set(r, d, tpl_strv(args->kw_names[k].ptr, args->kw_names[k].len),
                         args->kw[k]) < 0)
            return -1;
    *out = d;
    return 0;
}

static int builtin_dict(struct tpl_render *r, struct tpl_value self, const struct tpl_args *args,
                        struct tpl_value *out)
{
    struct tpl_dict *d;
    if (build_dict(r, "dict", args, &d) < 0) return -1;
    *out = tpl_dictv(d);
    return 0;
}

static int builtin_namespace(struct tpl_render *r, struct tpl_value self,
                             const struct tpl_args *args, struct tpl_value *out)
{
    struct tpl_dict *d;
    if (build_dict(r, "namespace", args, &d) < 0) return -1;
    *out = (struct tpl_value){.kind = TPL_NAMESPACE, .dict = d};
    return 0;
}

/* joiner(sep): a function that returns "" the first time and sep afterwards. Its state is
 * a two-item list [sep, used]. */
static int joiner_call(struct tpl_render *r, struct tpl_value self, const struct tpl_args *args,
                       struct tpl_value *out)
{
    struct tpl_list *state = self.list;
    if (!state->items[1].b) {
        state->items[1] = tpl_bool(true);
        *out = TPL_LIT("");
    } else {
        *out = state->items[0];
    }
    return 0;
}

static int builtin_joiner(struct tpl_render *r, struct tpl_value self, const struct tpl_args *args,
                          struct tpl_value *out)
{
    static const char *const names[] = {"sep"};
    struct tpl_value sep = TPL_LIT(", ");
    if (tpl_bind_args(r, "joiner", args, names, 1, &sep) < 0) return -1;
    struct tpl_list *state = tpl_list_new(r, 2);
    if (!state) return -1;
    state->items[0] = sep;
    state->items[1] = tpl_bool(false);
    state->len = 2;
    *out = tpl_native(r, "joiner", joiner_call, tpl_listv(state));
    return r->error.status == SLM_OK ? 0 : -1;
}

static int builtin_raise_exception(struct tpl_render *r, struct tpl_value self,
                                   const struct tpl_args *args, struct tpl_value *out)
{
    static const char *const names[] = {"message"};
    struct tpl_value message = TPL_LIT("");
    struct tpl_str text;
    if (tpl_bind_args(r, "raise_exception", args, names, 1, &message) < 0 ||
        tpl_to_str(r, message, &text) < 0)
        return -1;
    return tpl_raise(r, text);
}

/* Output of strftime_now is bounded: a format may expand each character a little. */
#define STRFTIME_MAX 4096

static int builtin_strftime_now(struct tpl_render *r, struct tpl_value self,
                                const struct tpl_args *args, struct tpl_value *out)
{
    static const char *const names[] = {"format"};
    struct tpl_value format = tpl_undefined("format", NULL);
    if (tpl_bind_args(r, "strftime_now", args, names, 1, &format) < 0) return -1;
    if (format.kind != TPL_STR)
        return tpl_fail(r, "strftime() argument 1 must be str, not %s", tpl_type_name(format));
    if (format.s.len == 0 || memchr(format.s.ptr, '\0', format.s.len)) {
        *out = TPL_LIT("");
        return 0;
    }
    char *fmt = tpl_arena_strndup(r->arena, format.s.ptr, format.s.len);
    char *buf = tpl_alloc(r, STRFTIME_MAX);
    if (!fmt || !buf) return -1;
    time_t now = time(NULL);
    struct tm local;
    if (!localtime_r(&now, &local))
        return tpl_fail(r, "strftime_now: the local time is not available");
        /* the format is the template's, as Python's strftime passes it to the C library */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = strftime(buf, STRFTIME_MAX, fmt, &local);
#pragma GCC diagnostic pop
    if (n == 0 && format.s.len > 0)
        return tpl_fail(r, "strftime_now: the formatted date is too long");
    *out = tpl_strv(buf, n);
    return 0;
}

struct global {
    const char *name;
    tpl_native_fn fn;
};

static const struct global globals[] = {
    {"range", builtin_range},
    {"dict", builtin_dict},
    {"namespace", builtin_namespace},
    {"joiner", builtin_joiner},
    {"raise_exception", builtin_raise_exception},
    {"strftime_now", builtin_strftime_now},
};

bool tpl_find_global(struct tpl_render *r, struct tpl_str name, struct tpl_value *out)
{
    for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
        const char *g = globals[i].name;
        if (strlen(g) != name.len || memcmp(g, name.ptr, name.len) != 0) continue;
        if (globals[i].fn == builtin_strftime_now && !r->have_strftime_now) return false;
        *out = tpl_native(r, g, globals[i].fn, tpl_none());
        return true;
    }
    return false;
}
