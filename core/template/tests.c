/* Jinja2's tests: the names after "is", as in "x is defined" or "n is divisibleby 3". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "template/operators.h"
#include "template/lexer.h"
#include "template/library.h"
#include "template/pystr.h"

static int arity(struct tpl_render *r, const char *name, const struct tpl_args *a, size_t n)
{
    if (a->n_kw || a->n_pos != n) return tpl_fail(r, "test '%s' takes %zu argument(s)", name, n);
    return 0;
}

#define SIMPLE_TEST(fn, name, expr)                                                                \
    static int fn(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,              \
                  bool *result)                                                                    \
    {                                                                                              \
        if (arity(r, name, a, 0) < 0) return -1;                                                   \
        *result = (expr);                                                                          \
        return 0;                                                                                  \
    }

SIMPLE_TEST(t_defined, "defined", v.kind != TPL_UNDEFINED)
SIMPLE_TEST(t_undefined, "undefined", v.kind == TPL_UNDEFINED)
SIMPLE_TEST(t_none, "none", v.kind == TPL_NONE)
SIMPLE_TEST(t_boolean, "boolean", v.kind == TPL_BOOL)
SIMPLE_TEST(t_true, "true", v.kind == TPL_BOOL && v.b)
SIMPLE_TEST(t_false, "false", v.kind == TPL_BOOL && !v.b)
SIMPLE_TEST(t_integer, "integer", v.kind == TPL_INT)
SIMPLE_TEST(t_float, "float", v.kind == TPL_FLOAT)
/* bool is a numbers.Number in Python */
SIMPLE_TEST(t_number, "number", tpl_is_number(v))
SIMPLE_TEST(t_string, "string", v.kind == TPL_STR)
SIMPLE_TEST(t_mapping, "mapping", v.kind == TPL_DICT)
/* iter() works on these; Undefined iterates as empty */
SIMPLE_TEST(t_iterable, "iterable",
            v.kind == TPL_STR || tpl_is_seq(v) || v.kind == TPL_DICT || v.kind == TPL_UNDEFINED ||
                v.kind == TPL_LOOP)
/* len() and [] both work */
SIMPLE_TEST(t_sequence, "sequence",
            v.kind == TPL_STR || tpl_is_seq(v) || v.kind == TPL_DICT || v.kind == TPL_UNDEFINED)
/* Undefined defines __call__ (to raise), so Python calls it callable */
SIMPLE_TEST(t_callable, "callable", v.kind == TPL_FUNC || v.kind == TPL_UNDEFINED)
SIMPLE_TEST(t_escaped, "escaped", false)

static int parity(struct tpl_render *r, struct tpl_value v, const char *name, int64_t *rem)
{
    struct tpl_value m;
    if (tpl_binop(r, OP_MOD, v, tpl_int(2), &m) < 0) return -1;
    if (m.kind == TPL_FLOAT) {
        *rem = m.f == 0.0 ? 0 : 1;
        return 0;
    }
    if (m.kind != TPL_INT) return tpl_fail(r, "test '%s' needs a number", name);
    *rem = m.i;
    return 0;
}

static int t_odd(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *result)
{
    int64_t rem;
    if (arity(r, "odd", a, 0) < 0 || parity(r, v, "odd", &rem) < 0) return -1;
    *result = rem == 1;
    return 0;
}

static int t_even(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *result)
{
    int64_t rem;
    if (arity(r, "even", a, 0) < 0 || parity(r, v, "even", &rem) < 0) return -1;
    *result = rem == 0;
    return 0;
}

static int t_divisibleby(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                         bool *result)
{
    struct tpl_value m;
    bool eq;
    if (arity(r, "divisibleby", a, 1) < 0 || tpl_binop(r, OP_MOD, v, a->pos[0], &m) < 0 ||
        tpl_equal(r, m, tpl_int(0), &eq) < 0)
        return -1;
    *result = eq;
    return 0;
}

static int compare_test(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                        const char *name, const char *op, int want_a, int want_b, bool *result)
{
    int order;
    if (arity(r, name, a, 1) < 0 || tpl_compare(r, v, a->pos[0], op, &order) < 0) return -1;
    *result = order == want_a || order == want_b;
    return 0;
}

static int t_lt(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    return compare_test(r, v, a, "lt", "<", -1, -1, res);
}
static int t_le(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    return compare_test(r, v, a, "le", "<=", -1, 0, res);
}
static int t_gt(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    return compare_test(r, v, a, "gt", ">", 1, 1, res);
}
static int t_ge(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    return compare_test(r, v, a, "ge", ">=", 1, 0, res);
}

static int t_eq(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    if (arity(r, "eq", a, 1) < 0) return -1;
    return tpl_equal(r, v, a->pos[0], res);
}

static int t_ne(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    if (arity(r, "ne", a, 1) < 0 || tpl_equal(r, v, a->pos[0], res) < 0) return -1;
    *res = !*res;
    return 0;
}

static int t_in(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    if (arity(r, "in", a, 1) < 0) return -1;
    return tpl_contains(r, a->pos[0], v, res);
}

/* `is` identity: the same object for containers and callables, the same value otherwise
 * (CPython shares equal small ints and interns the string constants of a template). */
static int t_sameas(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    if (arity(r, "sameas", a, 1) < 0) return -1;
    struct tpl_value o = a->pos[0];
    *res = false;
    if (v.kind != o.kind) return 0;
    switch (v.kind) {
    case TPL_NONE:
    case TPL_UNDEFINED:
        *res = true;
        break;
    case TPL_BOOL:
        *res = v.b == o.b;
        break;
    case TPL_INT:
        *res = v.i == o.i;
        break;
    case TPL_FLOAT:
        *res = v.f == o.f;
        break;
    case TPL_STR:
        *res = v.s.len == o.s.len && memcmp(v.s.ptr, o.s.ptr, v.s.len) == 0;
        break;
    case TPL_LIST:
    case TPL_TUPLE:
        *res = v.list == o.list;
        break;
    case TPL_DICT:
    case TPL_NAMESPACE:
        *res = v.dict == o.dict;
        break;
    case TPL_FUNC:
        *res = v.func == o.func;
        break;
    case TPL_LOOP:
        *res = v.loop == o.loop;
        break;
    }
    return 0;
}

static int case_test(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a,
                     const char *name, bool upper, bool *res)
{
    struct tpl_str s;
    if (arity(r, name, a, 0) < 0 || tpl_to_str(r, v, &s) < 0) return -1;
    bool any_cased = false, ok = true;
    const char *p = s.ptr, *end = s.ptr + s.len;
    while (p < end && ok) {
        uint32_t cp;
        p += tpl_utf8_decode(p, end, &cp);
        if (tpl_py_iscased(cp)) {
            any_cased = true;
            ok = upper ? tpl_py_isupper(cp) : tpl_py_islower(cp);
        }
    }
    *res = ok && any_cased;
    return 0;
}

static int t_lower(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    return case_test(r, v, a, "lower", false, res);
}
static int t_upper(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    return case_test(r, v, a, "upper", true, res);
}

static int t_filter(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    if (arity(r, "filter", a, 0) < 0) return -1;
    *res = v.kind == TPL_STR && tpl_find_filter(v.s) != NULL;
    return 0;
}

static int t_test(struct tpl_render *r, struct tpl_value v, const struct tpl_args *a, bool *res)
{
    if (arity(r, "test", a, 0) < 0) return -1;
    *res = v.kind == TPL_STR && tpl_find_test(v.s) != NULL;
    return 0;
}

/* Sorted by name for bsearch. */
static const struct tpl_test_spec tests[] = {
    {"!=", t_ne},
    {"<", t_lt},
    {"<=", t_le},
    {"==", t_eq},
    {">", t_gt},
    {">=", t_ge},
    {"boolean", t_boolean},
    {"callable", t_callable},
    {"defined", t_defined},
    {"divisibleby", t_divisibleby},
    {"eq", t_eq},
    {"equalto", t_eq},
    {"escaped", t_escaped},
    {"even", t_even},
    {"false", t_false},
    {"filter", t_filter},
    {"float", t_float},
    {"ge", t_ge},
    {"greaterthan", t_gt},
    {"gt", t_gt},
    {"in", t_in},
    {"integer", t_integer},
    {"iterable", t_iterable},
    {"le", t_le},
    {"lessthan", t_lt},
    {"lower", t_lower},
    {"lt", t_lt},
    {"mapping", t_mapping},
    {"ne", t_ne},
    {"none", t_none},
    {"number", t_number},
    {"odd", t_odd},
    {"sameas", t_sameas},
    {"sequence", t_sequence},
    {"string", t_string},
    {"test", t_test},
    {"true", t_true},
    {"undefined", t_undefined},
    {"upper", t_upper},
};

static int compare_name(const void *key, const void *elem)
{
    const struct tpl_str *name = key;
    const char *candidate = *(const char *const *)elem;
    size_t n = strlen(candidate);
    int c = memcmp(name->ptr, candidate, name->len < n ? name->len : n);
    if (c) return c;
    return name->len < n ? -1 : name->len > n;
}

const struct tpl_test_spec *tpl_find_test(struct tpl_str name)
{
    return bsearch(&name, tests, sizeof(tests) / sizeof(tests[0]), sizeof(tests[0]), compare_name);
}

int tpl_apply_test(struct tpl_render *r, struct tpl_str name, struct tpl_value v,
                   const struct tpl_args *args, bool *result)
{
    const struct tpl_test_spec *spec = tpl_find_test(name);
    if (!spec)
        return tpl_fail(r, "no test named '%.*s'", (int)(name.len > 64 ? 64 : name.len), name.ptr);
    return spec->fn(r, v, args, result);
}
