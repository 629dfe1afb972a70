/* Runs a parsed template: the statements, the expressions, calls of macros and builtins,
 * and Jinja2's scoping (a new frame for each loop iteration, macro call and with block). */
#include "template/interp.h"

#include <inttypes.h>
#include <string.h>

#include "template/access.h"
#include "template/library.h"
#include "template/operators.h"

enum flow { FLOW_NORMAL = 0, FLOW_BREAK = 1, FLOW_CONTINUE = 2 };

static int exec(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope);
static int eval(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope,
                struct tpl_value *out);

static int enter(struct tpl_render *r, uint32_t line)
{
    r->line = line;
    if (r->depth >= r->limits.max_depth)
        return tpl_fail(r, "template exceeded its nesting limit of %" PRIu32, r->limits.max_depth);
    r->depth++;
    return tpl_step(r, 1);
}

/* ---- calls ---- */

static bool str_is(struct tpl_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

static const char *cstr(struct tpl_render *r, struct tpl_str s)
{
    char *p = tpl_arena_strndup(r->arena, s.ptr, s.len);
    return p ? p : "?";
}

static int capture(struct tpl_render *r, const struct tpl_node *body, struct tpl_scope *scope,
                   struct tpl_value *out)
{
    struct tpl_sbuf buf = {.max = r->limits.max_output};
    struct tpl_sbuf *saved = r->out;
    r->out = &buf;
    int rc = exec(r, body, scope);
    r->out = saved;
    if (rc < 0) return -1;
    *out = tpl_sbuf_value(&buf);
    return rc;
}

static int call_macro(struct tpl_render *r, const struct tpl_func *fn, const struct tpl_args *args,
                      struct tpl_value *out)
{
    const struct tpl_macro_def *def = fn->macro;
    const char *name = fn->name;
    struct tpl_scope *frame = tpl_scope_new(r, fn->closure);
    struct tpl_list *varargs = tpl_list_new(r, 0);
    struct tpl_dict *kwargs = tpl_dict_new(r);
    if (!frame || !varargs || !kwargs) return -1;
    if (args->n_pos > def->n_params) {
        if (!def->uses_varargs)
            return tpl_fail(r, "macro '%s' takes not more than %zu argument(s)", name,
                            def->n_params);
        for (size_t i = def->n_params; i < args->n_pos; i++)
            if (tpl_list_push(r, varargs, args->pos[i]) < 0) return -1;
    }
    /* parameters first, so that defaults can refer to earlier ones */
    bool *given = tpl_alloc_array(r, def->n_params + 1, sizeof(bool));
    if (!given) return -1;
    memset(given, 0, (def->n_params + 1) * sizeof(bool));
    for (size_t i = 0; i < def->n_params && i < args->n_pos; i++) {
        if (tpl_scope_set(r, frame, def->params[i], args->pos[i]) < 0) return -1;
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
            if (tpl_scope_set(r, frame, def->params[i], args->kw[k]) < 0) return -1;
            given[i] = true;
        } else if (str_is(key, "caller") && def->uses_caller) {
            caller = args->kw[k];
        } else if (def->uses_kwargs) {
            if (tpl_dict_set(r, kwargs, tpl_strv(key.ptr, key.len), args->kw[k]) < 0) return -1;
        } else {
            return tpl_fail(r, "macro '%s' takes no keyword argument '%s'", name, cstr(r, key));
        }
    }
    for (size_t i = 0; i < def->n_params; i++) {
        if (given[i]) continue;
        struct tpl_value v;
        if (def->defaults && def->defaults[i]) {
            if (eval(r, def->defaults[i], frame, &v) < 0) return -1;
        } else {
            v = tpl_undefined(def->params[i].ptr, NULL);
        }
        if (tpl_scope_set(r, frame, def->params[i], v) < 0) return -1;
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
    if (callee.kind == TPL_UNDEFINED) return tpl_fail_undefined(r, callee);
    if (callee.kind != TPL_FUNC)
        return tpl_fail(r, "'%s' object is not callable", tpl_type_name(callee));
    if (r->depth >= r->limits.max_depth)
        return tpl_fail(r, "template exceeded its nesting limit of %" PRIu32, r->limits.max_depth);
    r->depth++;
    int rc = callee.func->macro ? call_macro(r, callee.func, args, out)
                                : callee.func->native(r, callee.func->self, args, out);
    r->depth--;
    return rc;
}

/* ---- expressions ---- */

/* Evaluates the arguments of a call, filter or test into `args` (arena arrays). */
static int eval_args(struct tpl_render *r, const struct tpl_call_args *spec,
                     struct tpl_scope *scope, size_t extra_kw, struct tpl_args *args)
{
    struct tpl_value *pos = NULL, *kw = NULL;
    struct tpl_str *names = NULL;
    if (spec->pos.len && !(pos = tpl_alloc_array(r, spec->pos.len, sizeof(*pos)))) return -1;
    size_t n_kw = spec->kw_values.len + extra_kw;
    if (n_kw && (!(kw = tpl_alloc_array(r, n_kw, sizeof(*kw))) ||
                 !(names = tpl_alloc_array(r, n_kw, sizeof(*names)))))
        return -1;
    for (size_t i = 0; i < spec->pos.len; i++)
        if (eval(r, spec->pos.items[i], scope, &pos[i]) < 0) return -1;
    for (size_t i = 0; i < spec->kw_values.len; i++) {
        if (eval(r, spec->kw_values.items[i], scope, &kw[i]) < 0) return -1;
        names[i] = spec->kw_names[i];
    }
    *args = (struct tpl_args){spec->pos.len, pos, spec->kw_values.len, names, kw};
    return 0;
}

static int eval_items(struct tpl_render *r, const struct tpl_node_list *items,
                      struct tpl_scope *scope, struct tpl_list **out)
{
    struct tpl_list *l = tpl_list_new(r, items->len);
    if (!l) return -1;
    for (size_t i = 0; i < items->len; i++)
        if (eval(r, items->items[i], scope, &l->items[i]) < 0) return -1;
    l->len = items->len;
    *out = l;
    return 0;
}

static int eval_name(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope,
                     struct tpl_value *out)
{
    if (tpl_scope_lookup(scope, n->name, out)) return 0;
    if (tpl_find_global(r, n->name, out)) return r->error.status == SLM_OK ? 0 : -1;
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
        if (eval_items(r, &n->list, scope, &l) < 0) return -1;
        *out = n->kind == TPL_N_LIST ? tpl_listv(l) : tpl_tuplev(l);
        return 0;
    case TPL_N_DICT: {
        struct tpl_dict *dict = tpl_dict_new(r);
        if (!dict) return -1;
        for (size_t i = 0; i < n->list.len; i++) {
            if (eval(r, n->list.items[i], scope, &a) < 0 ||
                eval(r, n->list2.items[i], scope, &b) < 0 || tpl_dict_set(r, dict, a, b) < 0)
                return -1;
        }
        *out = tpl_dictv(dict);
        return 0;
    }
    case TPL_N_GETATTR:
        if (eval(r, n->a, scope, &a) < 0) return -1;
        r->line = n->line;
        return tpl_getattr(r, a, n->name, out);
    case TPL_N_GETITEM:
        if (eval(r, n->a, scope, &a) < 0 || eval(r, n->b, scope, &b) < 0) return -1;
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
        if (eval(r, n->a, scope, &a) < 0 || eval_args(r, &n->args, scope, 0, &args) < 0) return -1;
        r->line = n->line;
        return tpl_call(r, a, &args, out);
    case TPL_N_FILTER:
        if (n->a) {
            if (eval(r, n->a, scope, &a) < 0) return -1;
        } else {
            a = r->filter_hole;
        }
        if (eval_args(r, &n->args, scope, 0, &args) < 0) return -1;
        r->line = n->line;
        return n->filter->fn(r, a, &args, out);
    case TPL_N_TEST:
        if (eval(r, n->a, scope, &a) < 0 || eval_args(r, &n->args, scope, 0, &args) < 0) return -1;
        r->line = n->line;
        if (n->test->fn(r, a, &args, &truth) < 0) return -1;
        *out = tpl_bool(truth);
        return 0;
    case TPL_N_NEG:
    case TPL_N_POS:
        if (eval(r, n->a, scope, &a) < 0) return -1;
        return tpl_unary(r, n->kind == TPL_N_NEG, a, out);
    case TPL_N_NOT:
        if (eval(r, n->a, scope, &a) < 0) return -1;
        *out = tpl_bool(!tpl_truthy(a));
        return 0;
    case TPL_N_ARITH:
        if (eval(r, n->list.items[0], scope, &a) < 0) return -1;
        for (size_t i = 1; i < n->list.len; i++) {
            if (eval(r, n->list.items[i], scope, &b) < 0) return -1;
            r->line = n->line;
            if (tpl_binop(r, n->ops[i], a, b, &a) < 0) return -1;
        }
        *out = a;
        return 0;
    case TPL_N_CONCAT: {
        struct tpl_sbuf s = {0};
        for (size_t i = 0; i < n->list.len; i++)
            if (eval(r, n->list.items[i], scope, &a) < 0 || tpl_write_str(r, &s, a) < 0) return -1;
        *out = tpl_sbuf_value(&s);
        return tpl_step(r, s.len / 64);
    }
    case TPL_N_COMPARE:
        if (eval(r, n->list.items[0], scope, &a) < 0) return -1;
        for (size_t i = 1; i < n->list.len; i++) {
            if (eval(r, n->list.items[i], scope, &b) < 0) return -1;
            r->line = n->line;
            if (tpl_compare_op(r, n->ops[i], a, b, &truth) < 0) return -1;
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
            if (eval(r, n->list.items[i], scope, out) < 0) return -1;
            if (tpl_truthy(*out) == (n->kind == TPL_N_OR)) return 0;
        }
        return 0;
    case TPL_N_COND:
        if (eval(r, n->b, scope, &a) < 0) return -1;
        if (tpl_truthy(a)) return eval(r, n->a, scope, out);
        if (n->c) return eval(r, n->c, scope, out);
        *out = tpl_undefined(NULL, NULL);
        return 0;
    default:
        return tpl_fail(r, "internal error: statement used as an expression");
    }
}

static int eval(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope,
                struct tpl_value *out)
{
    if (enter(r, n->line) < 0) return -1;
    int rc = eval_inner(r, n, scope, out);
    r->depth--;
    return rc;
}

/* ---- statements ---- */

static int assign(struct tpl_render *r, const struct tpl_node *target, struct tpl_value v,
                  struct tpl_scope *scope)
{
    if (target->kind == TPL_N_NAME) return tpl_scope_set(r, scope, target->name, v);
    if (target->kind == TPL_N_NSREF) {
        struct tpl_value ns;
        if (!tpl_scope_lookup(scope, target->name, &ns) || ns.kind != TPL_NAMESPACE)
            return tpl_fail(r, "cannot assign attribute on non-namespace object");
        return tpl_dict_set(r, ns.dict, tpl_strv(target->name2.ptr, target->name2.len), v);
    }
    /* tuple unpacking */
    const struct tpl_list *items;
    if (v.kind == TPL_UNDEFINED) return tpl_fail_undefined(r, v);
    if (tpl_iterate(r, v, &items) < 0) return -1;
    size_t want = target->list.len;
    if (items->len > want) return tpl_fail(r, "too many values to unpack (expected %zu)", want);
    if (items->len < want)
        return tpl_fail(r, "not enough values to unpack (expected %zu, got %zu)", want, items->len);
    for (size_t i = 0; i < want; i++)
        if (assign(r, target->list.items[i], items->items[i], scope) < 0) return -1;
    return 0;
}

static int exec_for(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope)
{
    struct tpl_value iterable;
    const struct tpl_list *source;
    if (eval(r, n->b, scope, &iterable) < 0 || tpl_iterate(r, iterable, &source) < 0) return -1;
    /* a snapshot: appending to the list inside the loop does not extend the loop */
    struct tpl_list *items = tpl_alloc(r, sizeof(*items));
    if (!items) return -1;
    *items = *source;
    if (n->e) {
        /* `for x in xs if cond`: loop.* counts only the items that pass */
        struct tpl_list *kept = tpl_list_new(r, 0);
        struct tpl_scope *frame = tpl_scope_new(r, scope);
        if (!kept || !frame) return -1;
        for (size_t i = 0; i < source->len; i++) {
            struct tpl_value keep;
            frame->len = 0; /* an expression cannot capture the frame: reuse it */
            if (assign(r, n->a, source->items[i], frame) < 0 || eval(r, n->e, frame, &keep) < 0)
                return -1;
            if (tpl_truthy(keep) && tpl_list_push(r, kept, source->items[i]) < 0) return -1;
        }
        items = kept;
    }
    struct tpl_loop *loop = tpl_alloc(r, sizeof(*loop));
    if (!loop) return -1;
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
        if (rc < 0) return -1;
        if (rc == FLOW_BREAK) break;
    }
    if (items->len == 0 && n->d) {
        struct tpl_scope *else_frame = tpl_scope_new(r, scope);
        if (!else_frame) return -1;
        return exec(r, n->d, else_frame);
    }
    return FLOW_NORMAL;
}

static struct tpl_value make_macro(struct tpl_render *r, const struct tpl_macro_def *def,
                                   struct tpl_scope *scope)
{
    struct tpl_func *fn = tpl_alloc(r, sizeof(*fn));
    if (!fn) return tpl_undefined(NULL, NULL);
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

static int exec_call_block(struct tpl_render *r, const struct tpl_node *n, struct tpl_scope *scope)
{
    const struct tpl_node *call = n->a;
    struct tpl_value callee, result;
    struct tpl_args args;
    if (eval(r, call->a, scope, &callee) < 0 || eval_args(r, &call->args, scope, 1, &args) < 0)
        return -1;
    struct tpl_value caller = make_macro(r, n->macro, scope);
    if (caller.kind != TPL_FUNC) return -1;
    /* eval_args left room for one more keyword argument: caller= */
    ((struct tpl_str *)args.kw_names)[args.n_kw] = (struct tpl_str){"caller", 6};
    ((struct tpl_value *)args.kw)[args.n_kw] = caller;
    args.n_kw++;
    r->line = n->line;
    if (tpl_call(r, callee, &args, &result) < 0) return -1;
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
            if (rc != FLOW_NORMAL) return rc;
        }
        return FLOW_NORMAL;
    case TPL_N_TEXT:
        return tpl_sbuf_puts(r, r->out, n->value.s);
    case TPL_N_PRINT:
        if (eval(r, n->a, scope, &v) < 0) return -1;
        return tpl_write_str(r, r->out, v);
    case TPL_N_IF:
        if (eval(r, n->a, scope, &v) < 0) return -1;
        if (tpl_truthy(v)) return exec(r, n->b, scope);
        return n->c ? exec(r, n->c, scope) : FLOW_NORMAL;
    case TPL_N_FOR:
        return exec_for(r, n, scope);
    case TPL_N_SET:
        if (eval(r, n->b, scope, &v) < 0) return -1;
        r->line = n->line;
        return assign(r, n->a, v, scope);
    case TPL_N_SET_BLOCK:
        if ((rc = capture(r, n->b, scope, &text)) < 0) return -1;
        if (n->c && filter_text(r, n->c, text, scope, &text) < 0) return -1;
        r->line = n->line;
        return assign(r, n->a, text, scope) < 0 ? -1 : rc;
    case TPL_N_MACRO:
        v = make_macro(r, n->macro, scope);
        if (v.kind != TPL_FUNC) return -1;
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
        if (!frame) return -1;
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
    if (enter(r, n->line) < 0) return -1;
    int rc = exec_inner(r, n, scope);
    r->depth--;
    return rc;
}

int tpl_run(struct tpl_render *r, const struct tpl_node *body, struct tpl_scope *scope)
{
    return exec(r, body, scope) < 0 ? -1 : 0;
}
