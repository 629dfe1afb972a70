/* What templates can call by name: Jinja2's filters and tests, the Python methods of str,
 * list and dict that chat templates use, and the global functions (range, namespace, dict,
 * raise_exception, strftime_now, ...). Filters and tests are looked up while parsing, so an
 * unknown name is a syntax error as in Jinja2. */
#ifndef SLM_TEMPLATE_LIBRARY_H
#define SLM_TEMPLATE_LIBRARY_H

#include <stdbool.h>

#include "template/value.h"

/* A filter is called with the filtered value as `self`. */
struct tpl_filter_spec {
    const char *name;
    tpl_native_fn fn;
};

typedef int (*tpl_test_fn)(struct tpl_render *r, struct tpl_value v, const struct tpl_args *args,
                           bool *result);
struct tpl_test_spec {
    const char *name;
    tpl_test_fn fn;
};

const struct tpl_filter_spec *tpl_find_filter(struct tpl_str name);
const struct tpl_test_spec *tpl_find_test(struct tpl_str name);

/* obj.name for a Python method of str, list or dict: a bound method value. Returns false
 * when the type has no such method. */
bool tpl_find_method(struct tpl_render *r, struct tpl_value obj, struct tpl_str name,
                     struct tpl_value *out);

/* A global function (range, dict, namespace, joiner, raise_exception, strftime_now). */
bool tpl_find_global(struct tpl_render *r, struct tpl_str name, struct tpl_value *out);

/* Applies a filter or a test by name, for map(), select() and friends. */
int tpl_apply_filter(struct tpl_render *r, struct tpl_str name, struct tpl_value v,
                     const struct tpl_args *args, struct tpl_value *out);
int tpl_apply_test(struct tpl_render *r, struct tpl_str name, struct tpl_value v,
                   const struct tpl_args *args, bool *result);

/* ---- argument binding for builtins ---- */

/* The parameter names of a builtin and their count: TPL_NAMES("width", "first"). */
#define TPL_NAMES(...)                                                                             \
    ((const char *const[]){__VA_ARGS__}),                                                          \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

/* Binds positional and keyword arguments to `names` (in order) of a builtin called `fn`:
 * slots given neither way keep what `bound` held before (the defaults). Fails on unknown
 * keywords, duplicates and too many positional arguments. */
int tpl_bind_args(struct tpl_render *r, const char *fn, const struct tpl_args *args,
                  const char *const *names, size_t n_names, struct tpl_value *bound);

/* Argument checks for builtins called `fn`: no arguments at all, an int (or bool), a str. */
int tpl_no_args(struct tpl_render *r, const char *fn, const struct tpl_args *args);
int tpl_arg_int(struct tpl_render *r, const char *fn, struct tpl_value v, int64_t *out);
int tpl_arg_str(struct tpl_render *r, const char *fn, struct tpl_value v);

/* tojson: json.dumps(v, ensure_ascii, indent, separators, sort_keys) as Hugging Face
 * configures it (ensure_ascii=False unless asked). `indent` is None, an int or a string. */
int tpl_write_json(struct tpl_render *r, struct tpl_sbuf *b, struct tpl_value v,
                   struct tpl_value indent, bool ensure_ascii, bool sort_keys,
                   struct tpl_str item_sep, struct tpl_str key_sep);

#endif
