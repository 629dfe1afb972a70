/* Python's operators on template values: arithmetic with Python's int and float rules
 * (floor division, modulo with the divisor's sign, ** with int results), sequence
 * concatenation and repetition, membership, and comparisons. */
#include "template/operators.h"

#include <math.h>
#include <string.h>

#include "template/ast.h"
#include "template/lexer.h"
#include "util/checked.h"

static int fail_operands(struct tpl_render *r, int op, struct tpl_value a, struct tpl_value b)
{
    return tpl_fail(r, "unsupported operand type(s) for %s: '%s' and '%s'",
                    tpl_op_text((enum tpl_op)op), tpl_type_name(a), tpl_type_name(b));
}

static int64_t as_int(struct tpl_value v)
{
    return v.kind == TPL_BOOL ? v.b : v.i;
}
static double as_double(struct tpl_value v)
{
    return v.kind == TPL_FLOAT ? v.f : (double)as_int(v);
}

static int repeat(struct tpl_render *r, struct tpl_value seq, int64_t times, struct tpl_value *out)
{
    if (times < 0) times = 0;
    /* an empty result is done at once: "" * 10**18 must not loop 10**18 times */
    size_t unit = seq.kind == TPL_STR ? seq.s.len : seq.list->len;
    if (unit == 0 || times == 0) {
        if (seq.kind == TPL_STR) {
            *out = TPL_LIT("");
            return 0;
        }
        struct tpl_list *empty = tpl_list_new(r, 0);
        if (!empty) return -1;
        *out = seq.kind == TPL_LIST ? tpl_listv(empty) : tpl_tuplev(empty);
        return 0;
    }
    if (seq.kind == TPL_STR) {
        size_t total;
        if (slm_mul_size(seq.s.len, (size_t)times, &total) || (uint64_t)times > SIZE_MAX)
            return tpl_fail(r, "template exceeded its memory limit of %zu bytes",
                            r->limits.max_memory);
        char *p = tpl_alloc(r, total + 1);
        if (!p || tpl_step(r, total / 64) < 0) return -1;
        for (int64_t k = 0; k < times; k++)
            memcpy(p + (size_t)k * seq.s.len, seq.s.ptr, seq.s.len);
        *out = tpl_strv(p, total);
        return 0;
    }
    size_t total;
    if (slm_mul_size(seq.list->len, (size_t)times, &total) || (uint64_t)times > SIZE_MAX)
        return tpl_fail(r, "template exceeded its memory limit of %zu bytes", r->limits.max_memory);
    struct tpl_list *l = tpl_list_new(r, total);
    if (!l || tpl_step(r, total) < 0) return -1;
    for (int64_t k = 0; k < times; k++)
        memcpy(l->items + (size_t)k * seq.list->len, seq.list->items,
               seq.list->len * sizeof(struct tpl_value));
    l->len = total;
    *out = seq.kind == TPL_LIST ? tpl_listv(l) : tpl_tuplev(l);
    return 0;
}

static int int_pow(struct tpl_render *r, int64_t base, int64_t exp, struct tpl_value *out)
{
    int64_t result = 1;
    while (exp > 0) {
        if ((exp & 1) && __builtin_mul_overflow(result, base, &result))
            return tpl_fail(r, "integer overflow");
        exp >>= 1;
        if (exp && __builtin_mul_overflow(base, base, &base))
            return tpl_fail(r, "integer overflow");
    }
    *out = tpl_int(result);
    return 0;
}

/* Python's float divmod: the floor quotient and a remainder with the divisor's sign. */
static void float_divmod(double x, double y, double *floordiv, double *mod)
{
    double m = fmod(x, y);
    double div = (x - m) / y;
    if (m != 0.0) {
        if ((y < 0) != (m < 0)) {
            m += y;
            div -= 1.0;
        }
    } else {
        m = copysign(0.0, y);
    }
    double fd;
    if (div != 0.0) {
        fd = floor(div);
        if (div - fd > 0.5) fd += 1.0;
    } else {
        fd = copysign(0.0, x / y);
    }
    *floordiv = fd;
    *mod = m;
}

static int number_binop(struct tpl_render *r, int op, struct tpl_value a, struct tpl_value b,
                        struct tpl_value *out)
{
    bool ints = a.kind != TPL_FLOAT && b.kind != TPL_FLOAT;
    if (ints) {
        int64_t x = as_int(a), y = as_int(b), z;
        switch (op) {
        case OP_ADD:
            if (__builtin_add_overflow(x, y, &z)) return tpl_fail(r, "integer overflow");
            *out = tpl_int(z);
            return 0;
        case OP_SUB:
            if (__builtin_sub_overflow(x, y, &z)) return tpl_fail(r, "integer overflow");
            *out = tpl_int(z);
            return 0;
        case OP_MUL:
            if (__builtin_mul_overflow(x, y, &z)) return tpl_fail(r, "integer overflow");
            *out = tpl_int(z);
            return 0;
        case OP_DIV:
            if (y == 0) return tpl_fail(r, "division by zero");
            *out = tpl_float((double)x / (double)y);
            return 0;
        case OP_FLOORDIV:
        case OP_MOD: {
            if (y == 0) return tpl_fail(r, "integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) {
                if (op == OP_MOD) {
                    *out = tpl_int(0);
                    return 0;
                }
                return tpl_fail(r, "integer overflow");
            }
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {
                q -= 1;
                m += y;
            }
            *out = tpl_int(op == OP_FLOORDIV ? q : m);
            return 0;
        }
        case OP_POW:
            if (y >= 0) return int_pow(r, x, y, out);
            if (x == 0) return tpl_fail(r, "0.0 cannot be raised to a negative power");
            *out = tpl_float(pow((double)x, (double)y));
            return 0;
        }
    }
    double x = as_double(a), y = as_double(b), fd, m;
    switch (op) {
    case OP_ADD:
        *out = tpl_float(x + y);
        return 0;
    case OP_SUB:
        *out = tpl_float(x - y);
        return 0;
    case OP_MUL:
        *out = tpl_float(x * y);
        return 0;
    case OP_DIV:
        if (y == 0.0) return tpl_fail(r, "float division by zero");
        *out = tpl_float(x / y);
        return 0;
    case OP_FLOORDIV:
    case OP_MOD:
        if (y == 0.0) return tpl_fail(r, "float modulo by zero");
        float_divmod(x, y, &fd, &m);
        *out = tpl_float(op == OP_FLOORDIV ? fd : m);
        return 0;
    case OP_POW:
        if (x == 0.0 && y < 0.0) return tpl_fail(r, "0.0 cannot be raised to a negative power");
        if (x < 0.0 && y != floor(y)) return tpl_fail(r, "complex results are not supported");
        *out = tpl_float(pow(x, y));
        return 0;
    }
    return fail_operands(r, op, a, b);
}

static int concat_seq(struct tpl_render *r, struct tpl_value a, struct tpl_value b,
                      struct tpl_value *out)
{
    size_t n;
    if (slm_add_size(a.list->len, b.list->len, &n)) return tpl_fail(r, "list too long");
    struct tpl_list *l = tpl_list_new(r, n);
    if (!l || tpl_step(r, n) < 0) return -1;
    if (a.list->len) memcpy(l->items, a.list->items, a.list->len * sizeof(struct tpl_value));
    if (b.list->len)
        memcpy(l->items + a.list->len, b.list->items, b.list->len * sizeof(struct tpl_value));
    l->len = n;
    *out = a.kind == TPL_LIST ? tpl_listv(l) : tpl_tuplev(l);
    return 0;
}

int tpl_binop(struct tpl_render *r, int op, struct tpl_value a, struct tpl_value b,
              struct tpl_value *out)
{
    if (a.kind == TPL_UNDEFINED) return tpl_fail_undefined(r, a);
    if (b.kind == TPL_UNDEFINED) return tpl_fail_undefined(r, b);
    if (tpl_is_number(a) && tpl_is_number(b)) return number_binop(r, op, a, b, out);
    if (op == OP_ADD && a.kind == TPL_STR && b.kind == TPL_STR) {
        struct tpl_sbuf s = {0};
        if (tpl_step(r, (a.s.len + b.s.len) / 64) < 0 || tpl_sbuf_puts(r, &s, a.s) < 0 ||
            tpl_sbuf_puts(r, &s, b.s) < 0)
            return -1;
        *out = tpl_sbuf_value(&s);
        return 0;
    }
    if (op == OP_ADD && tpl_is_seq(a) && a.kind == b.kind) return concat_seq(r, a, b, out);
    if (op == OP_MUL) {
        if ((a.kind == TPL_STR || tpl_is_seq(a)) && (b.kind == TPL_INT || b.kind == TPL_BOOL))
            return repeat(r, a, as_int(b), out);
        if ((b.kind == TPL_STR || tpl_is_seq(b)) && (a.kind == TPL_INT || a.kind == TPL_BOOL))
            return repeat(r, b, as_int(a), out);
    }
    if (op == OP_MOD && a.kind == TPL_STR) return tpl_percent_format(r, a.s, b, out);
    return fail_operands(r, op, a, b);
}

int tpl_contains(struct tpl_render *r, struct tpl_value haystack, struct tpl_value needle,
                 bool *result)
{
    *result = false;
    switch (haystack.kind) {
    case TPL_UNDEFINED:
        return 0;
    case TPL_STR:
        if (needle.kind != TPL_STR)
            return tpl_fail(r, "'in <string>' requires string as left operand, not %s",
                            tpl_type_name(needle));
        if (tpl_step(r, 1 + haystack.s.len / 64) < 0) return -1;
        *result = needle.s.len == 0 ||
                  memmem(haystack.s.ptr, haystack.s.len, needle.s.ptr, needle.s.len) != NULL;
        return 0;
    case TPL_LIST:
    case TPL_TUPLE:
        if (tpl_step(r, haystack.list->len) < 0) return -1;
        for (size_t i = 0; i < haystack.list->len && !*result; i++)
            if (tpl_equal(r, haystack.list->items[i], needle, result) < 0) return -1;
        return 0;
    case TPL_DICT: {
        size_t at;
        if (tpl_dict_find(r, haystack.dict, needle, &at) < 0) return -1;
        *result = at != SIZE_MAX;
        return 0;
    }
    default:
        return tpl_fail(r, "argument of type '%s' is not iterable", tpl_type_name(haystack));
    }
}

int tpl_compare_op(struct tpl_render *r, int op, struct tpl_value a, struct tpl_value b,
                   bool *result)
{
    int order;
    switch (op) {
    case OP_EQ:
    case OP_NE:
        if (tpl_equal(r, a, b, result) < 0) return -1;
        if (op == OP_NE) *result = !*result;
        return 0;
    case TPL_CMP_IN:
    case TPL_CMP_NOT_IN:
        if (tpl_contains(r, b, a, result) < 0) return -1;
        if (op == TPL_CMP_NOT_IN) *result = !*result;
        return 0;
    default:
        if (tpl_compare(r, a, b, tpl_op_text((enum tpl_op)op), &order) < 0) return -1;
        switch (op) {
        case OP_LT:
            *result = order == -1;
            break;
        case OP_LE:
            *result = order == -1 || order == 0;
            break;
        case OP_GT:
            *result = order == 1;
            break;
        default:
            *result = order == 1 || order == 0;
            break;
        }
        return 0;
    }
}

int tpl_unary(struct tpl_render *r, bool negate, struct tpl_value a, struct tpl_value *out)
{
    if (a.kind == TPL_UNDEFINED) return tpl_fail_undefined(r, a);
    if (a.kind == TPL_FLOAT) {
        *out = tpl_float(negate ? -a.f : a.f);
        return 0;
    }
    if (a.kind == TPL_INT || a.kind == TPL_BOOL) {
        int64_t v = as_int(a);
        if (negate && v == INT64_MIN) return tpl_fail(r, "integer overflow");
        *out = tpl_int(negate ? -v : v);
        return 0;
    }
    return tpl_fail(r, "bad operand type for unary %s: '%s'", negate ? "-" : "+", tpl_type_name(a));
}
