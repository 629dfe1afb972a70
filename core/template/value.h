/* The values a template computes with, modelled on the Python objects Jinja2 hands around:
 * None, bool, int, float, str, list, tuple, dict, jinja2's Undefined and Namespace, callables
 * (macros, builtins, bound methods) and the `loop` object.
 *
 * Values are small structs passed by value; everything they point to lives in the render's
 * arena (see arena.h) and is never freed individually. Strings are UTF-8 byte ranges that are
 * never modified in place. Lists and dicts are shared by reference, as in Python, and change
 * only through list.append and friends or `{% set ns.attr %}`. */
#ifndef SLM_TEMPLATE_VALUE_H
#define SLM_TEMPLATE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "slm/template.h"
#include "template/arena.h"

enum tpl_kind {
    TPL_UNDEFINED, /* jinja2.Undefined: prints as "", is falsy, fails on use as an object */
    TPL_NONE,
    TPL_BOOL,
    TPL_INT,
    TPL_FLOAT,
    TPL_STR,
    TPL_LIST,
    TPL_TUPLE, /* shares struct tpl_list; never modified after it is built */
    TPL_DICT,
    TPL_NAMESPACE, /* jinja2's namespace(): attributes kept in a dict */
    TPL_FUNC,
    TPL_LOOP,
};

struct tpl_str {
    const char *ptr;
    size_t len;
};

struct tpl_list;
struct tpl_dict;
struct tpl_func;
struct tpl_loop;

struct tpl_value {
    enum tpl_kind kind;
    union {
        bool b;
        int64_t i;
        double f;
        struct tpl_str s;
        struct tpl_list *list;
        struct tpl_dict *dict;
        struct tpl_func *func;
        struct tpl_loop *loop;
        /* What was missing, for the error a later use raises: variable `name`, or attribute
         * `name` of an object of type `owner`. */
        struct {
            const char *name;
            const char *owner;
        } undef;
    };
};

struct tpl_list {
    size_t len, cap;
    struct tpl_value *items;
};

struct tpl_dict_entry {
    struct tpl_value key, value;
};

/* Insertion-ordered like a Python dict. Lookups are linear: template dicts are small, and
 * every lookup is charged to the step budget by its length. */
struct tpl_dict {
    size_t len, cap;
    struct tpl_dict_entry *entries;
};

struct tpl_render;

/* Arguments of a call: positional values, then keyword arguments by name. */
struct tpl_args {
    size_t n_pos;
    const struct tpl_value *pos;
    size_t n_kw;
    const struct tpl_str *kw_names;
    const struct tpl_value *kw;
};

typedef int (*tpl_native_fn)(struct tpl_render *r, struct tpl_value self,
                             const struct tpl_args *args, struct tpl_value *out);

struct tpl_macro_def;
struct tpl_scope;

struct tpl_func {
    const char *name;
    /* A builtin or a bound method: `native(self, args)`. */
    tpl_native_fn native;
    struct tpl_value self;
    /* A macro or a call block's caller: its definition and the scope it was defined in. */
    const struct tpl_macro_def *macro;
    struct tpl_scope *closure;
};

/* The `loop` variable of one for loop. */
struct tpl_loop {
    const struct tpl_list *items; /* after the loop's `if` filter */
    size_t index0;
    bool has_changed_value; /* state of loop.changed() */
    struct tpl_value changed_value;
};

/* A variable frame: the template's top level, one iteration of a for loop, a macro call or a
 * with block. `set` writes to the innermost frame; lookups walk outwards. */
struct tpl_var {
    struct tpl_str name;
    struct tpl_value value;
};

struct tpl_scope {
    struct tpl_scope *parent;
    size_t len, cap;
    struct tpl_var *vars;
    bool captured; /* a macro defined here keeps it: it cannot be reused */
};

/* A growing string in the arena; `max` (if not 0) bounds its length with the output limit. */
struct tpl_sbuf {
    char *ptr;
    size_t len, cap;
    size_t max;
};

/* The state of one render. */
struct tpl_render {
    struct tpl_arena *arena;
    struct slm_template_limits limits;
    uint64_t steps;
    uint32_t depth;
    uint32_t line;        /* line of the node being run, for error messages */
    slm_error error;      /* set once, by the first failure */
    struct tpl_sbuf *out; /* where printed text goes: the output, or a capture */
    bool have_strftime_now;
    /* The text a filter block or a block set captured, fed to its filter chain. */
    struct tpl_value filter_hole;
};

/* ---- failures: each sets r->error (once) and returns -1 ---- */
int tpl_fail(struct tpl_render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A failure whose message is exactly `message` (raise_exception). */
int tpl_raise(struct tpl_render *r, struct tpl_str message);
int tpl_fail_undefined(struct tpl_render *r, struct tpl_value undefined);
/* Charges `n` steps to the budget. */
int tpl_step(struct tpl_render *r, uint64_t n);
/* Reports a failed allocation: the memory limit, or malloc's failure. */
int tpl_fail_memory(struct tpl_render *r);
/* Allocation that reports the memory limit on failure. */
void *tpl_alloc(struct tpl_render *r, size_t size);
void *tpl_alloc_array(struct tpl_render *r, size_t count, size_t size);

/* ---- constructors ---- */
static inline struct tpl_value tpl_none(void)
{
    return (struct tpl_value){.kind = TPL_NONE};
}
static inline struct tpl_value tpl_bool(bool b)
{
    return (struct tpl_value){.kind = TPL_BOOL, .b = b};
}
static inline struct tpl_value tpl_int(int64_t i)
{
    return (struct tpl_value){.kind = TPL_INT, .i = i};
}
static inline struct tpl_value tpl_float(double f)
{
    return (struct tpl_value){.kind = TPL_FLOAT, .f = f};
}
static inline struct tpl_value tpl_strv(const char *ptr, size_t len)
{
    return (struct tpl_value){.kind = TPL_STR, .s = {ptr, len}};
}
static inline struct tpl_value tpl_undefined(const char *name, const char *owner)
{
    return (struct tpl_value){.kind = TPL_UNDEFINED, .undef = {name, owner}};
}
#define TPL_LIT(s) tpl_strv((s), sizeof(s) - 1)

/* Copies bytes into the arena as a string value. */
int tpl_new_str(struct tpl_render *r, const char *ptr, size_t len, struct tpl_value *out);
struct tpl_list *tpl_list_new(struct tpl_render *r, size_t cap);
int tpl_list_push(struct tpl_render *r, struct tpl_list *list, struct tpl_value v);
static inline struct tpl_value tpl_listv(struct tpl_list *l)
{
    return (struct tpl_value){.kind = TPL_LIST, .list = l};
}
static inline struct tpl_value tpl_tuplev(struct tpl_list *l)
{
    return (struct tpl_value){.kind = TPL_TUPLE, .list = l};
}
/* A two-element tuple, as dict.items() yields. */
int tpl_pair(struct tpl_render *r, struct tpl_value a, struct tpl_value b, struct tpl_value *out);
struct tpl_dict *tpl_dict_new(struct tpl_render *r);
static inline struct tpl_value tpl_dictv(struct tpl_dict *d)
{
    return (struct tpl_value){.kind = TPL_DICT, .dict = d};
}
/* Finds `key` (Python equality: 1 == 1.0 == True); *index = SIZE_MAX when absent. Fails on
 * an unhashable key. */
int tpl_dict_find(struct tpl_render *r, const struct tpl_dict *d, struct tpl_value key,
                  size_t *index);
int tpl_dict_set(struct tpl_render *r, struct tpl_dict *d, struct tpl_value key,
                 struct tpl_value value);
/* Looks up a string key without failing; false when absent. */
bool tpl_dict_get_str(const struct tpl_dict *d, const char *key, size_t key_len,
                      struct tpl_value *out);
struct tpl_value tpl_native(struct tpl_render *r, const char *name, tpl_native_fn fn,
                            struct tpl_value self);

/* ---- scopes ---- */
struct tpl_scope *tpl_scope_new(struct tpl_render *r, struct tpl_scope *parent);
int tpl_scope_set(struct tpl_render *r, struct tpl_scope *scope, struct tpl_str name,
                  struct tpl_value value);
bool tpl_scope_lookup(const struct tpl_scope *scope, struct tpl_str name, struct tpl_value *out);

/* ---- strings being built ---- */
int tpl_sbuf_put(struct tpl_render *r, struct tpl_sbuf *b, const char *p, size_t n);
static inline int tpl_sbuf_puts(struct tpl_render *r, struct tpl_sbuf *b, struct tpl_str s)
{
    return tpl_sbuf_put(r, b, s.ptr, s.len);
}
int tpl_sbuf_putc(struct tpl_render *r, struct tpl_sbuf *b, char c);
int tpl_sbuf_printf(struct tpl_render *r, struct tpl_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline struct tpl_value tpl_sbuf_value(const struct tpl_sbuf *b)
{
    return tpl_strv(b->ptr ? b->ptr : "", b->len);
}

/* ---- Python semantics ---- */
bool tpl_truthy(struct tpl_value v);
/* The Python type name ("str", "int", "NoneType", "Undefined", ...), for messages. */
const char *tpl_type_name(struct tpl_value v);
static inline bool tpl_is_number(struct tpl_value v)
{
    return v.kind == TPL_BOOL || v.kind == TPL_INT || v.kind == TPL_FLOAT;
}
static inline bool tpl_is_seq(struct tpl_value v)
{
    return v.kind == TPL_LIST || v.kind == TPL_TUPLE;
}
bool tpl_hashable(struct tpl_value v);
int tpl_equal(struct tpl_render *r, struct tpl_value a, struct tpl_value b, bool *equal);
/* Ordering for <, <=, >, >=, sort, min and max; `op` names the operator in the error. */
int tpl_compare(struct tpl_render *r, struct tpl_value a, struct tpl_value b, const char *op,
                int *order);
/* str(v) as Python prints it; Undefined gives "". */
int tpl_to_str(struct tpl_render *r, struct tpl_value v, struct tpl_str *out);
/* Appends str(v) / repr(v). */
int tpl_write_str(struct tpl_render *r, struct tpl_sbuf *b, struct tpl_value v);
int tpl_write_repr(struct tpl_render *r, struct tpl_sbuf *b, struct tpl_value v);
/* The items `for x in v` visits: list and tuple items, dict keys, the characters of a string,
 * nothing for Undefined. Lists are returned as they are (not copied). */
int tpl_iterate(struct tpl_render *r, struct tpl_value v, const struct tpl_list **items);
int tpl_length(struct tpl_render *r, struct tpl_value v, size_t *len);

#endif
