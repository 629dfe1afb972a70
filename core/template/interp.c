#include "template/interp.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "template/library.h"
#include "template/lexer.h"
#include "template/pystr.h"
#include "util/checked.h"

enum flow { FLOW_NORMAL = 0, FLOW_BREAK = 1, FLOW_CONTINUE = 2 };

static int exec(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope);
static int eval(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope,
                struct tpl_value *out);

static int enter(struct tpl_render *r, uint32_t line)
{
    r->line = line;
    if (r->depth >= r->limits.max_depth)
        return tpl_fail(r, "template exceeded its nesting limit of %" PRIu32,
                        r->limits.max_depth);
    r->depth++;
    return tpl_step(r, 1);
}

/* ---- attribute and item access ---- */

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
        if (tpl_find_method(r, obj, name, out))
            return 0;
        if (tpl_step(r, 1 + obj.dict->len / 16) < 0)
            return -1;
        if (tpl_dict_get_str(obj.dict, name.ptr, name.len, out))
            return 0;
        break;
    case TPL_NAMESPACE:
        if (tpl_dict_get_str(obj.dict, name.ptr, name.len, out))
            return 0;
        break;
    case TPL_LOOP:
        return loop_attr(r, obj.loop, name, out);
    default:
        if (tpl_find_method(r, obj, name, out))
            return 0;
        break;
    }
    if (r->error.status != SLM_OK)
        return -1;
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
            if (tpl_dict_find(r, obj.dict, key, &at) < 0)
                return -1;
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
            if (i < 0)
                i += len;
            if (i >= 0 && i < len) {
                *out = obj.list->items[i];
                return 0;
            }
        }
        break;
    case TPL_STR:
        if (as_index(key, &i)) {
            int64_t len = (int64_t)tpl_utf8_count(obj.s);
            if (i < 0)
                i += len;
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
    if (key.kind == TPL_STR)
        return tpl_getattr(r, obj, key.s, out);
    struct tpl_sbuf name = {0};
    if (tpl_write_repr(r, &name, key) < 0 || tpl_sbuf_putc(r, &name, '\0') < 0)
        return -1;
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
    if (*step == 0)
        return tpl_fail(r, "slice step cannot be zero");
    if (*step == INT64_MIN)
        *step = -INT64_MAX;
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
    if (obj.kind == TPL_UNDEFINED)
        return tpl_fail_undefined(r, obj);
    if (tpl_is_seq(obj)) {
        if (slice_indices(r, obj.list->len, start_v, stop_v, step_v, &start, &step, &count) < 0)
            return -1;
        struct tpl_list *l = tpl_list_new(r, count);
        if (!l || tpl_step(r, count) < 0)
            return -1;
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
        if (!offsets)
            return -1;
        const char *p = obj.s.ptr, *end = obj.s.ptr + obj.s.len;
        for (size_t k = 0; k <= n; k++) {
            offsets[k] = (size_t)(p - obj.s.ptr);
            uint32_t cp;
            if (p < end)
                p += tpl_utf8_decode(p, end, &cp);
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
    if (args->n_pos == 0)
        return tpl_fail(r, "no items for cycling given");
    *out = args->pos[self.loop->index0 % args->n_pos];
    return 0;
}

static int loop_changed(struct tpl_render *r, struct tpl_value self,
                        const struct tpl_args *args, struct tpl_value *out)
{
    struct tpl_loop *loop = self.loop;
    struct tpl_list *l = tpl_list_new(r, args->n_pos);
    if (!l)
        return -1;
    memcpy(l->items, args->pos, args->n_pos * sizeof(*args->pos));
    l->len = args->n_pos;
    struct tpl_value now = tpl_tuplev(l);
    bool same = false;
    if (loop->has_changed_value && tpl_equal(r, loop->changed_value, now, &same) < 0)
        return -1;
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
        *out = i > 0 ? loop->items->items[i - 1]
                     : tpl_undefined("previtem", "LoopContext");
    else if (str_is(name, "nextitem"))
        *out = i + 1 < len ? loop->items->items[i + 1]
                           : tpl_undefined("nextitem", "LoopContext");
    else if (str_is(name, "cycle"))
        *out = tpl_native(r, "cycle", loop_cycle, self);
    else if (str_is(name, "changed"))
        *out = tpl_native(r, "changed", loop_changed, self);
    else
        *out = tpl_undefined(cstr(r, name), "LoopContext");
    return r->error.status == SLM_OK ? 0 : -1;
}

/* ---- calls ---- */

static int capture(struct tpl_render *r, const struct tpl_node *body, struct tpl_scope *scope,
                   struct tpl_value *out)
{
    struct tpl_sbuf buf = {.max = r->limits.max_output};
    struct tpl_sbuf *saved = r->out;
    r->out = &buf;
    int rc = exec(r, body, scope);
    r->out = saved;
    if (rc < 0)
        return -1;
    *out = tpl_sbuf_value(&buf);
    return rc;
}

static int call_macro(struct tpl_render *r, const struct tpl_func *fn,
                      const struct tpl_args *args, struct tpl_value *out)
{
    const struct tpl_macro_def *def = fn->macro;
    const char *name = fn->name;
    struct tpl_scope *frame = tpl_scope_new(r, fn->closure);
    struct tpl_list *varargs = tpl_list_new(r, 0);
    struct tpl_dict *kwargs = tpl_dict_new(r);
    if (!frame || !varargs || !kwargs)
        return -1;
    if (args->n_pos > def->n_params) {
        if (!def->uses_varargs)
            return tpl_fail(r, "macro '%s' takes not more than %zu argument(s)", name,
                            def->n_params);
        for (size_t i = def->n_params; i < args->n_pos; i++)
            if (tpl_list_push(r, varargs, args->pos[i]) < 0)
                return -1;
    }
    /* parameters first, so that defaults can refer to earlier ones */
    bool *given = tpl_alloc_array(r, def->n_params + 1, sizeof(bool));
    if (!given)
        return -1;
    memset(given, 0, (def->n_params + 1) * sizeof(bool));
    for (size_t i = 0; i < def->n_params && i < args->n_pos; i++) {
        if (tpl_scope_set(r, frame, def->params[i], args->pos[i]) < 0)
            return -1;
        given[i] = true;
    }
    struct tpl_value caller = tpl_undefined("caller", NULL);
    for (size_t k = 0; k < args->n_kw; k++) {
        struct tpl_str key = args->kw_names[k];
        size_t i = 0;
        while (i < def->n_params && !(def->params[i].len == key.len &&
                                      memcmp(def->params[i].ptr, key.ptr, key.len) == 0))
            i++;
        if (i < def->n_params) {
            if (given[i])
                return tpl_fail(r, "macro '%s' got multiple values for argument '%s'", name,
                                cstr(r, key));
            if (tpl_scope_set(r, frame, def->params[i], args->kw[k]) < 0)
                return -1;
            given[i] = true;
        } else if (str_is(key, "caller") && def->uses_caller) {
            caller = args->kw[k];
        } else if (def->uses_kwargs) {
            if (tpl_dict_set(r, kwargs, tpl_strv(key.ptr, key.len), args->kw[k]) < 0)
                return -1;
        } else {
            return tpl_fail(r, "macro '%s' takes no keyword argument '%s'", name, cstr(r, key));
        }
    }
    for (size_t i = 0; i < def->n_params; i++) {
        if (given[i])
            continue;
        struct tpl_value v;
        if (def->defaults && def->defaults[i]) {
            if (eval(r, def->defaults[i], frame, &v) < 0)
                return -1;
        } else {
            v = tpl_undefined(def->params[i].ptr, NULL);
        }
        if (tpl_scope_set(r, frame, def->params[i], v) < 0)
            return -1;
    }
    if (tpl_scope_set(r, frame, (struct tpl_str){"varargs", 7}, tpl_tuplev(varargs)) < 0 ||
        tpl_scope_set(r, frame, (struct tpl_str){"kwargs", 6}, tpl_dictv(kwargs)) < 0 ||
        (def->uses_caller && tpl_scope_set(r, frame, (struct tpl_str){"caller", 6}, caller) < 0))
        return -1;
    uint32_t line = r->line;
    int rc = capture(r, def->body, frame, out);
    r->line = line;
    return rc < 0 ? -1 : 0;
}

int tpl_call(struct tpl_render *r, struct tpl_value callee, const struct tpl_args *args,
             struct tpl_value *out)
{
    if (callee.kind == TPL_UNDEFINED)
        return tpl_fail_undefined(r, callee);
    if (callee.kind != TPL_FUNC)
        return tpl_fail(r, "'%s' object is not callable", tpl_type_name(callee));
    if (r->depth >= r->limits.max_depth)
        return tpl_fail(r, "template exceeded its nesting limit of %" PRIu32,
                        r->limits.max_depth);
    r->depth++;
    int rc = callee.func->macro ? call_macro(r, callee.func, args, out)
                                : callee.func->native(r, callee.func->self, args, out);
    r->depth--;
    return rc;
}

/* ---- operators ---- */

static int fail_operands(struct tpl_render *r, int op, struct tpl_value a, struct tpl_value b)
{
    return tpl_fail(r, "unsupported operand type(s) for %s: '%s' and '%s'",
                    tpl_op_text((enum tpl_op)op), tpl_type_name(a), tpl_type_name(b));
}

static int64_t as_int(struct tpl_value v) { return v.kind == TPL_BOOL ? v.b : v.i; }
static double as_double(struct tpl_value v)
{
    return v.kind == TPL_FLOAT ? v.f : (double)as_int(v);
}

static int repeat(struct tpl_render *r, struct tpl_value seq, int64_t times,
                  struct tpl_value *out)
{
    if (times < 0)
        times = 0;
    if (seq.kind == TPL_STR) {
        size_t total;
        if (slm_mul_size(seq.s.len, (size_t)times, &total) || (uint64_t)times > SIZE_MAX)
            return tpl_fail(r, "template exceeded its memory limit of %zu bytes",
                            r->limits.max_memory);
        char *p = tpl_alloc(r, total + 1);
        if (!p || tpl_step(r, total / 64) < 0)
            return -1;
        for (int64_t k = 0; k < times; k++)
            memcpy(p + (size_t)k * seq.s.len, seq.s.ptr, seq.s.len);
        *out = tpl_strv(p, total);
        return 0;
    }
    size_t total;
    if (slm_mul_size(seq.list->len, (size_t)times, &total) || (uint64_t)times > SIZE_MAX)
        return tpl_fail(r, "template exceeded its memory limit of %zu bytes",
                        r->limits.max_memory);
    struct tpl_list *l = tpl_list_new(r, total);
    if (!l || tpl_step(r, total) < 0)
        return -1;
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
        if (div - fd > 0.5)
            fd += 1.0;
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
            if (__builtin_add_overflow(x, y, &z))
                return tpl_fail(r, "integer overflow");
            *out = tpl_int(z);
            return 0;
        case OP_SUB:
            if (__builtin_sub_overflow(x, y, &z))
                return tpl_fail(r, "integer overflow");
            *out = tpl_int(z);
            return 0;
        case OP_MUL:
            if (__builtin_mul_overflow(x, y, &z))
                return tpl_fail(r, "integer overflow");
            *out = tpl_int(z);
            return 0;
        case OP_DIV:
            if (y == 0)
                return tpl_fail(r, "division by zero");
            *out = tpl_float((double)x / (double)y);
            return 0;
        case OP_FLOORDIV:
        case OP_MOD: {
            if (y == 0)
                return tpl_fail(r, "integer division or modulo by zero");
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
            if (y >= 0)
                return int_pow(r, x, y, out);
            if (x == 0)
                return tpl_fail(r, "0.0 cannot be raised to a negative power");
            *out = tpl_float(pow((double)x, (double)y));
            return 0;
        }
    }
    double x = as_double(a), y = as_double(b), fd, m;
    switch (op) {
    case OP_ADD: *out = tpl_float(x + y); return 0;
    case OP_SUB: *out = tpl_float(x - y); return 0;
    case OP_MUL: *out = tpl_float(x * y); return 0;
    case OP_DIV:
        if (y == 0.0)
            return tpl_fail(r, "float division by zero");
        *out = tpl_float(x / y);
        return 0;
    case OP_FLOORDIV:
    case OP_MOD:
        if (y == 0.0)
            return tpl_fail(r, "float modulo by zero");
        float_divmod(x, y, &fd, &m);
        *out = tpl_float(op == OP_FLOORDIV ? fd : m);
        return 0;
    case OP_POW:
        if (x == 0.0 && y < 0.0)
            return tpl_fail(r, "0.0 cannot be raised to a negative power");
        if (x < 0.0 && y != floor(y))
            return tpl_fail(r, "complex results are not supported");
        *out = tpl_float(pow(x, y));
        return 0;
    }
    return fail_operands(r, op, a, b);
}

static int concat_seq(struct tpl_render *r, struct tpl_value a, struct tpl_value b,
                      struct tpl_value *out)
{
    size_t n;
    if (slm_add_size(a.list->len, b.list->len, &n))
        return tpl_fail(r, "list too long");
    struct tpl_list *l = tpl_list_new(r, n);
    if (!l || tpl_step(r, n) < 0)
        return -1;
    if (a.list->len)
        memcpy(l->items, a.list->items, a.list->len * sizeof(struct tpl_value));
    if (b.list->len)
        memcpy(l->items + a.list->len, b.list->items, b.list->len * sizeof(struct tpl_value));
    l->len = n;
    *out = a.kind == TPL_LIST ? tpl_listv(l) : tpl_tuplev(l);
    return 0;
}

int tpl_binop(struct tpl_render *r, int op, struct tpl_value a, struct tpl_value b,
              struct tpl_value *out)
{
    if (a.kind == TPL_UNDEFINED)
        return tpl_fail_undefined(r, a);
    if (b.kind == TPL_UNDEFINED)
        return tpl_fail_undefined(r, b);
    if (tpl_is_number(a) && tpl_is_number(b))
        return number_binop(r, op, a, b, out);
    if (op == OP_ADD && a.kind == TPL_STR && b.kind == TPL_STR) {
        struct tpl_sbuf s = {0};
        if (tpl_step(r, (a.s.len + b.s.len) / 64) < 0 || tpl_sbuf_puts(r, &s, a.s) < 0 ||
            tpl_sbuf_puts(r, &s, b.s) < 0)
            return -1;
        *out = tpl_sbuf_value(&s);
        return 0;
    }
    if (op == OP_ADD && tpl_is_seq(a) && a.kind == b.kind)
        return concat_seq(r, a, b, out);
    if (op == OP_MUL) {
        if ((a.kind == TPL_STR || tpl_is_seq(a)) && (b.kind == TPL_INT || b.kind == TPL_BOOL))
            return repeat(r, a, as_int(b), out);
        if ((b.kind == TPL_STR || tpl_is_seq(b)) && (a.kind == TPL_INT || a.kind == TPL_BOOL))
            return repeat(r, b, as_int(a), out);
    }
    if (op == OP_MOD && a.kind == TPL_STR)
        return tpl_percent_format(r, a.s, b, out);
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
        if (tpl_step(r, 1 + haystack.s.len / 64) < 0)
            return -1;
        *result = needle.s.len == 0 ||
                  memmem(haystack.s.ptr, haystack.s.len, needle.s.ptr, needle.s.len) != NULL;
        return 0;
    case TPL_LIST:
    case TPL_TUPLE:
        if (tpl_step(r, haystack.list->len) < 0)
            return -1;
        for (size_t i = 0; i < haystack.list->len && !*result; i++)
            if (tpl_equal(r, haystack.list->items[i], needle, result) < 0)
                return -1;
        return 0;
    case TPL_DICT: {
        size_t at;
        if (tpl_dict_find(r, haystack.dict, needle, &at) < 0)
            return -1;
        *result = at != SIZE_MAX;
        return 0;
    }
    default:
        return tpl_fail(r, "argument of type '%s' is not iterable", tpl_type_name(haystack));
    }
}

static int compare_op(struct tpl_render *r, int op, struct tpl_value a, struct tpl_value b,
                      bool *result)
{
    int order;
    switch (op) {
    case OP_EQ:
    case OP_NE:
        if (tpl_equal(r, a, b, result) < 0)
            return -1;
        if (op == OP_NE)
            *result = !*result;
        return 0;
    case TPL_CMP_IN:
    case TPL_CMP_NOT_IN:
        if (tpl_contains(r, b, a, result) < 0)
            return -1;
        if (op == TPL_CMP_NOT_IN)
            *result = !*result;
        return 0;
    default:
        if (tpl_compare(r, a, b, tpl_op_text((enum tpl_op)op), &order) < 0)
            return -1;
        switch (op) {
        case OP_LT: *result = order == -1; break;
        case OP_LE: *result = order == -1 || order == 0; break;
        case OP_GT: *result = order == 1; break;
        default: *result = order == 1 || order == 0; break;
        }
        return 0;
    }
}

/* ---- expressions ---- */

/* Evaluates the arguments of a call, filter or test into `args` (arena arrays). */
static int eval_args(struct tpl_render *r, const struct tpl_call_args *spec,
                     struct tpl_scope *scope, size_t extra_kw, struct tpl_args *args)
{
    struct tpl_value *pos = NULL, *kw = NULL;
    struct tpl_str *names = NULL;
    if (spec->pos.len && !(pos = tpl_alloc_array(r, spec->pos.len, sizeof(*pos))))
        return -1;
    size_t n_kw = spec->kw_values.len + extra_kw;
    if (n_kw && (!(kw = tpl_alloc_array(r, n_kw, sizeof(*kw))) ||
                 !(names = tpl_alloc_array(r, n_kw, sizeof(*names)))))
        return -1;
    for (size_t i = 0; i < spec->pos.len; i++)
        if (eval(r, spec->pos.items[i], scope, &pos[i]) < 0)
            return -1;
    for (size_t i = 0; i < spec->kw_values.len; i++) {
        if (eval(r, spec->kw_values.items[i], scope, &kw[i]) < 0)
            return -1;
        names[i] = spec->kw_names[i];
    }
    *args = (struct tpl_args){spec->pos.len, pos, spec->kw_values.len, names, kw};
    return 0;
}

static int eval_items(struct tpl_render *r, const struct tpl_node_list *items,
                      struct tpl_scope *scope, struct tpl_list **out)
{
    struct tpl_list *l = tpl_list_new(r, items->len);
    if (!l)
        return -1;
    for (size_t i = 0; i < items->len; i++)
        if (eval(r, items->items[i], scope, &l->items[i]) < 0)
            return -1;
    l->len = items->len;
    *out = l;
    return 0;
}

static int eval_name(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope,
                     struct tpl_value *out)
{
    if (tpl_scope_lookup(scope, n->name, out))
        return 0;
    if (tpl_find_global(r, n->name, out))
        return r->error.status == SLM_OK ? 0 : -1;
    *out = tpl_undefined(n->name.ptr, NULL);
    return 0;
}

static int eval_inner(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope,
                      struct tpl_value *out)
{
    struct tpl_value a, b, c, d;
    struct tpl_list *l;
    struct tpl_args args;
    bool truth;
    switch (n->kind) {
    case TPL_N_CONST:
        *out = n->value;
        return 0;
    case TPL_N_NAME:
        return eval_name(r, n, scope, out);
    case TPL_N_LIST:
    case TPL_N_TUPLE:
        if (eval_items(r, &n->list, scope, &l) < 0)
            return -1;
        *out = n->kind == TPL_N_LIST ? tpl_listv(l) : tpl_tuplev(l);
        return 0;
    case TPL_N_DICT: {
        struct tpl_dict *dict = tpl_dict_new(r);
        if (!dict)
            return -1;
        for (size_t i = 0; i < n->list.len; i++) {
            if (eval(r, n->list.items[i], scope, &a) < 0 ||
                eval(r, n->list2.items[i], scope, &b) < 0 || tpl_dict_set(r, dict, a, b) < 0)
                return -1;
        }
        *out = tpl_dictv(dict);
        return 0;
    }
    case TPL_N_GETATTR:
        if (eval(r, n->a, scope, &a) < 0)
            return -1;
        r->line = n->line;
        return tpl_getattr(r, a, n->name, out);
    case TPL_N_GETITEM:
        if (eval(r, n->a, scope, &a) < 0 || eval(r, n->b, scope, &b) < 0)
            return -1;
        r->line = n->line;
        return tpl_getitem(r, a, b, out);
    case TPL_N_SLICE:
        b = c = d = tpl_none();
        if (eval(r, n->a, scope, &a) < 0 || (n->b && eval(r, n->b, scope, &b) < 0) ||
            (n->c && eval(r, n->c, scope, &c) < 0) || (n->d && eval(r, n->d, scope, &d) < 0))
            return -1;
        r->line = n->line;
        return tpl_slice(r, a, b, c, d, out);
    case TPL_N_CALL:
        if (eval(r, n->a, scope, &a) < 0 || eval_args(r, &n->args, scope, 0, &args) < 0)
            return -1;
        r->line = n->line;
        return tpl_call(r, a, &args, out);
    case TPL_N_FILTER:
        if (n->a) {
            if (eval(r, n->a, scope, &a) < 0)
                return -1;
        } else {
            a = r->filter_hole;
        }
        if (eval_args(r, &n->args, scope, 0, &args) < 0)
            return -1;
        r->line = n->line;
        return n->filter->fn(r, a, &args, out);
    case TPL_N_TEST:
        if (eval(r, n->a, scope, &a) < 0 || eval_args(r, &n->args, scope, 0, &args) < 0)
            return -1;
        r->line = n->line;
        if (n->test->fn(r, a, &args, &truth) < 0)
            return -1;
        *out = tpl_bool(truth);
        return 0;
    case TPL_N_NEG:
    case TPL_N_POS:
        if (eval(r, n->a, scope, &a) < 0)
            return -1;
        if (a.kind == TPL_UNDEFINED)
            return tpl_fail_undefined(r, a);
        if (a.kind == TPL_FLOAT) {
            *out = tpl_float(n->kind == TPL_N_NEG ? -a.f : a.f);
            return 0;
        }
        if (a.kind == TPL_INT || a.kind == TPL_BOOL) {
            int64_t v = as_int(a);
            if (n->kind == TPL_N_NEG && v == INT64_MIN)
                return tpl_fail(r, "integer overflow");
            *out = tpl_int(n->kind == TPL_N_NEG ? -v : v);
            return 0;
        }
        return tpl_fail(r, "bad operand type for unary %s: '%s'",
                        n->kind == TPL_N_NEG ? "-" : "+", tpl_type_name(a));
    case TPL_N_NOT:
        if (eval(r, n->a, scope, &a) < 0)
            return -1;
        *out = tpl_bool(!tpl_truthy(a));
        return 0;
    case TPL_N_ARITH:
        if (eval(r, n->list.items[0], scope, &a) < 0)
            return -1;
        for (size_t i = 1; i < n->list.len; i++) {
            if (eval(r, n->list.items[i], scope, &b) < 0)
                return -1;
            r->line = n->line;
            if (tpl_binop(r, n->ops[i], a, b, &a) < 0)
                return -1;
        }
        *out = a;
        return 0;
    case TPL_N_CONCAT: {
        struct tpl_sbuf s = {0};
        for (size_t i = 0; i < n->list.len; i++)
            if (eval(r, n->list.items[i], scope, &a) < 0 || tpl_write_str(r, &s, a) < 0)
                return -1;
        *out = tpl_sbuf_value(&s);
        return tpl_step(r, s.len / 64);
    }
    case TPL_N_COMPARE:
        if (eval(r, n->list.items[0], scope, &a) < 0)
            return -1;
        for (size_t i = 1; i < n->list.len; i++) {
            if (eval(r, n->list.items[i], scope, &b) < 0)
                return -1;
            r->line = n->line;
            if (compare_op(r, n->ops[i], a, b, &truth) < 0)
                return -1;
            if (!truth) {
                *out = tpl_bool(false);
                return 0;
            }
            a = b;
        }
        *out = tpl_bool(true);
        return 0;
    case TPL_N_AND:
    case TPL_N_OR:
        for (size_t i = 0; i < n->list.len; i++) {
            if (eval(r, n->list.items[i], scope, out) < 0)
                return -1;
            if (tpl_truthy(*out) == (n->kind == TPL_N_OR))
                return 0;
        }
        return 0;
    case TPL_N_COND:
        if (eval(r, n->b, scope, &a) < 0)
            return -1;
        if (tpl_truthy(a))
            return eval(r, n->a, scope, out);
        if (n->c)
            return eval(r, n->c, scope, out);
        *out = tpl_undefined(NULL, NULL);
        return 0;
    default:
        return tpl_fail(r, "internal error: statement used as an expression");
    }
}

static int eval(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope,
                struct tpl_value *out)
{
    if (enter(r, n->line) < 0)
        return -1;
    int rc = eval_inner(r, n, scope, out);
    r->depth--;
    return rc;
}

/* ---- statements ---- */

static int assign(struct tpl_render *r, const struct tpl_node *target, struct tpl_value v,
                  struct tpl_scope *scope)
{
    if (target->kind == TPL_N_NAME)
        return tpl_scope_set(r, scope, target->name, v);
    if (target->kind == TPL_N_NSREF) {
        struct tpl_value ns;
        if (!tpl_scope_lookup(scope, target->name, &ns) || ns.kind != TPL_NAMESPACE)
            return tpl_fail(r, "cannot assign attribute on non-namespace object");
        return tpl_dict_set(r, ns.dict, tpl_strv(target->name2.ptr, target->name2.len), v);
    }
    /* tuple unpacking */
    const struct tpl_list *items;
    if (v.kind == TPL_UNDEFINED)
        return tpl_fail_undefined(r, v);
    if (tpl_iterate(r, v, &items) < 0)
        return -1;
    size_t want = target->list.len;
    if (items->len > want)
        return tpl_fail(r, "too many values to unpack (expected %zu)", want);
    if (items->len < want)
        return tpl_fail(r, "not enough values to unpack (expected %zu, got %zu)", want,
                        items->len);
    for (size_t i = 0; i < want; i++)
        if (assign(r, target->list.items[i], items->items[i], scope) < 0)
            return -1;
    return 0;
}

static int exec_for(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope)
{
    struct tpl_value iterable;
    const struct tpl_list *source;
    if (eval(r, n->b, scope, &iterable) < 0 || tpl_iterate(r, iterable, &source) < 0)
        return -1;
    /* a snapshot: appending to the list inside the loop does not extend the loop */
    struct tpl_list *items = tpl_alloc(r, sizeof(*items));
    if (!items)
        return -1;
    *items = *source;
    if (n->e) {
        /* `for x in xs if cond`: loop.* counts only the items that pass */
        struct tpl_list *kept = tpl_list_new(r, 0);
        struct tpl_scope *frame = tpl_scope_new(r, scope);
        if (!kept || !frame)
            return -1;
        for (size_t i = 0; i < source->len; i++) {
            struct tpl_value keep;
            frame->len = 0; /* an expression cannot capture the frame: reuse it */
            if (assign(r, n->a, source->items[i], frame) < 0 || eval(r, n->e, frame, &keep) < 0)
                return -1;
            if (tpl_truthy(keep) && tpl_list_push(r, kept, source->items[i]) < 0)
                return -1;
        }
        items = kept;
    }
    struct tpl_loop *loop = tpl_alloc(r, sizeof(*loop));
    if (!loop)
        return -1;
    memset(loop, 0, sizeof(*loop));
    loop->items = items;
    struct tpl_value loopv = {.kind = TPL_LOOP, .loop = loop};
    struct tpl_scope *frame = NULL;
    for (size_t i = 0; i < items->len; i++) {
        /* each iteration starts with a fresh frame; the last one is reused unless a macro
         * defined in it holds on to it */
        if (frame && !frame->captured)
            frame->len = 0;
        else if (!(frame = tpl_scope_new(r, scope)))
            return -1;
        loop->index0 = i;
        r->line = n->line;
        if (tpl_step(r, 1) < 0 || assign(r, n->a, items->items[i], frame) < 0 ||
            tpl_scope_set(r, frame, (struct tpl_str){"loop", 4}, loopv) < 0)
            return -1;
        int rc = exec(r, n->c, frame);
        if (rc < 0)
            return -1;
        if (rc == FLOW_BREAK)
            break;
    }
    if (items->len == 0 && n->d) {
        struct tpl_scope *else_frame = tpl_scope_new(r, scope);
        if (!else_frame)
            return -1;
        return exec(r, n->d, else_frame);
    }
    return FLOW_NORMAL;
}

static struct tpl_value make_macro(struct tpl_render *r, const struct tpl_macro_def *def,
                                   struct tpl_scope *scope)
{
    struct tpl_func *fn = tpl_alloc(r, sizeof(*fn));
    if (!fn)
        return tpl_undefined(NULL, NULL);
    memset(fn, 0, sizeof(*fn));
    fn->name = def->name.ptr;
    fn->macro = def;
    fn->closure = scope;
    for (struct tpl_scope *s = scope; s; s = s->parent)
        s->captured = true;
    return (struct tpl_value){.kind = TPL_FUNC, .func = fn};
}

/* Runs a filter chain whose innermost operand is `text` (filter blocks, block sets). */
static int filter_text(struct tpl_render *r, const struct tpl_node *chain, struct tpl_value text,
                       struct tpl_scope *scope, struct tpl_value *out)
{
    struct tpl_value saved = r->filter_hole;
    r->filter_hole = text;
    int rc = eval(r, chain, scope, out);
    r->filter_hole = saved;
    return rc;
}

static int exec_call_block(struct tpl_render *r, const struct tpl_node *n,
                           struct tpl_scope *scope)
{
    const struct tpl_node *call = n->a;
    struct tpl_value callee, result;
    struct tpl_args args;
    if (eval(r, call->a, scope, &callee) < 0 || eval_args(r, &call->args, scope, 1, &args) < 0)
        return -1;
    struct tpl_value caller = make_macro(r, n->macro, scope);
    if (caller.kind != TPL_FUNC)
        return -1;
    /* eval_args left room for one more keyword argument: caller= */
    ((struct tpl_str *)args.kw_names)[args.n_kw] = (struct tpl_str){"caller", 6};
    ((struct tpl_value *)args.kw)[args.n_kw] = caller;
    args.n_kw++;
    r->line = n->line;
    if (tpl_call(r, callee, &args, &result) < 0)
        return -1;
    return tpl_write_str(r, r->out, result);
}

static int exec_inner(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope)
{
    struct tpl_value v, text;
    int rc;
    switch (n->kind) {
    case TPL_N_BODY:
        for (size_t i = 0; i < n->list.len; i++) {
            rc = exec(r, n->list.items[i], scope);
            if (rc != FLOW_NORMAL)
                return rc;
        }
        return FLOW_NORMAL;
    case TPL_N_TEXT:
        return tpl_sbuf_puts(r, r->out, n->value.s);
    case TPL_N_PRINT:
        if (eval(r, n->a, scope, &v) < 0)
            return -1;
        return tpl_write_str(r, r->out, v);
    case TPL_N_IF:
        if (eval(r, n->a, scope, &v) < 0)
            return -1;
        if (tpl_truthy(v))
            return exec(r, n->b, scope);
        return n->c ? exec(r, n->c, scope) : FLOW_NORMAL;
    case TPL_N_FOR:
        return exec_for(r, n, scope);
    case TPL_N_SET:
        if (eval(r, n->b, scope, &v) < 0)
            return -1;
        r->line = n->line;
        return assign(r, n->a, v, scope);
    case TPL_N_SET_BLOCK:
        if ((rc = capture(r, n->b, scope, &text)) < 0)
            return -1;
        if (n->c && filter_text(r, n->c, text, scope, &text) < 0)
            return -1;
        r->line = n->line;
        return assign(r, n->a, text, scope) < 0 ? -1 : rc;
    case TPL_N_MACRO:
        v = make_macro(r, n->macro, scope);
        if (v.kind != TPL_FUNC)
            return -1;
        return tpl_scope_set(r, scope, n->macro->name, v);
    case TPL_N_CALL_BLOCK:
        return exec_call_block(r, n, scope);
    case TPL_N_FILTER_BLOCK:
        if ((rc = capture(r, n->b, scope, &text)) < 0 ||
            filter_text(r, n->a, text, scope, &v) < 0 || tpl_write_str(r, r->out, v) < 0)
            return -1;
        return rc;
    case TPL_N_WITH: {
        struct tpl_scope *frame = tpl_scope_new(r, scope);
        if (!frame)
            return -1;
        for (size_t i = 0; i < n->list.len; i++) {
            if (eval(r, n->list2.items[i], scope, &v) < 0 ||
                assign(r, n->list.items[i], v, frame) < 0)
                return -1;
        }
        return exec(r, n->b, frame);
    }
    case TPL_N_BREAK:
        return FLOW_BREAK;
    case TPL_N_CONTINUE:
        return FLOW_CONTINUE;
    default:
        return tpl_fail(r, "internal error: expression used as a statement");
    }
}

static int exec(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope)
{
    if (enter(r, n->line) < 0)
        return -1;
    int rc = exec_inner(r, n, scope);
    r->depth--;
    return rc;
}

int tpl_run(struct tpl_render *r, const struct tpl_node *body, struct tpl_scope *scope)
{
    return exec(r, body, scope) < 0 ? -1 : 0;
}
