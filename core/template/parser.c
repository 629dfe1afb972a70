#include "template/parser.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "template/library.h"
#include "util/checked.h"

struct parser {
    struct tpl_arena *arena;
    const struct tpl_token *toks;
    size_t n, pos;
    slm_error *err;
    uint32_t depth;
    uint32_t loop_depth;         /* for loops around the statement being parsed */
    struct tpl_macro_def *macro; /* macro or call block whose body is being parsed */
};

/* A list being collected; copied to its final size in the arena when done. */
struct collect {
    struct tpl_node **items;
    int *ops;
    size_t len, cap;
};

static const struct tpl_token *cur(const struct parser *p) { return &p->toks[p->pos]; }
static const struct tpl_token *peek(const struct parser *p, size_t k)
{
    return p->pos + k < p->n ? &p->toks[p->pos + k] : &p->toks[p->n - 1];
}
static void advance(struct parser *p)
{
    if (p->pos + 1 < p->n)
        p->pos++;
}

static bool str_is(struct tpl_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}
static bool is_name(const struct tpl_token *t, const char *name)
{
    return t->type == TOK_NAME && str_is(t->text, name);
}
static bool is_op(const struct tpl_token *t, enum tpl_op op)
{
    return t->type == TOK_OP && t->op == op;
}

static void describe(const struct tpl_token *t, char *buf, size_t size)
{
    switch (t->type) {
    case TOK_EOF: snprintf(buf, size, "end of template"); break;
    case TOK_DATA: snprintf(buf, size, "template data"); break;
    case TOK_VAR_BEGIN: snprintf(buf, size, "begin of print statement"); break;
    case TOK_VAR_END: snprintf(buf, size, "end of print statement"); break;
    case TOK_BLOCK_BEGIN: snprintf(buf, size, "begin of statement block"); break;
    case TOK_BLOCK_END: snprintf(buf, size, "end of statement block"); break;
    case TOK_NAME:
        snprintf(buf, size, "'%.*s'", t->text.len > 40 ? 40 : (int)t->text.len, t->text.ptr);
        break;
    case TOK_STRING: snprintf(buf, size, "string"); break;
    case TOK_INT: snprintf(buf, size, "integer"); break;
    case TOK_FLOAT: snprintf(buf, size, "float"); break;
    case TOK_OP: snprintf(buf, size, "'%s'", tpl_op_text(t->op)); break;
    }
}

static void *fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void *fail(struct parser *p, const char *fmt, ...)
{
    if (p->err && p->err->status != SLM_OK)
        return NULL;
    char msg[SLM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    slm_errorf(p->err, SLM_ERR_TEMPLATE, "line %" PRIu32 ": %s", cur(p)->line, msg);
    return NULL;
}

static void *fail_unexpected(struct parser *p, const char *expected)
{
    char got[64];
    describe(cur(p), got, sizeof(got));
    if (expected)
        return fail(p, "expected %s, got %s", expected, got);
    return fail(p, "unexpected %s", got);
}

static void *nomem(struct parser *p) { return fail(p, "template too large"); }

static struct tpl_node *new_node(struct parser *p, enum tpl_node_kind kind, uint32_t line)
{
    struct tpl_node *n = tpl_arena_zalloc(p->arena, sizeof(*n));
    if (!n)
        return nomem(p);
    n->kind = kind;
    n->line = line;
    return n;
}

static bool collect_push(struct parser *p, struct collect *c, struct tpl_node *node, int op)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct tpl_node **items = tpl_arena_grow(p->arena, c->items, c->cap * sizeof(*items),
                                                 cap * sizeof(*items));
        int *ops = items ? tpl_arena_grow(p->arena, c->ops, c->cap * sizeof(int),
                                          cap * sizeof(int))
                         : NULL;
        if (!items || !ops) {
            nomem(p);
            return false;
        }
        c->items = items;
        c->ops = ops;
        c->cap = cap;
    }
    c->items[c->len] = node;
    c->ops[c->len] = op;
    c->len++;
    return true;
}

static struct tpl_node_list as_list(const struct collect *c)
{
    return (struct tpl_node_list){c->items, c->len};
}

static bool expect_op(struct parser *p, enum tpl_op op)
{
    if (!is_op(cur(p), op)) {
        char want[16];
        snprintf(want, sizeof(want), "'%s'", tpl_op_text(op));
        fail_unexpected(p, want);
        return false;
    }
    advance(p);
    return true;
}

static bool expect_name(struct parser *p, const char *name)
{
    if (!is_name(cur(p), name)) {
        char want[32];
        snprintf(want, sizeof(want), "'%s'", name);
        fail_unexpected(p, want);
        return false;
    }
    advance(p);
    return true;
}

static bool enter(struct parser *p)
{
    if (p->depth >= TPL_MAX_PARSE_DEPTH) {
        fail(p, "template nested too deeply (more than %d levels)", TPL_MAX_PARSE_DEPTH);
        return false;
    }
    p->depth++;
    return true;
}

static bool reserved_name(struct tpl_str s)
{
    return str_is(s, "true") || str_is(s, "false") || str_is(s, "none") || str_is(s, "True") ||
           str_is(s, "False") || str_is(s, "None");
}

/* ---- expressions ---- */

static struct tpl_node *parse_expression(struct parser *p, bool with_condexpr);
static struct tpl_node *parse_or(struct parser *p);
static struct tpl_node *parse_unary(struct parser *p, bool with_filter);
static struct tpl_node *parse_primary(struct parser *p);
static struct tpl_node *parse_postfix(struct parser *p, struct tpl_node *node);
static struct tpl_node *parse_tuple(struct parser *p, bool simplified, bool with_condexpr,
                                    const char *extra_end, bool explicit_parens);
static bool parse_call_args(struct parser *p, struct tpl_call_args *args);

static struct tpl_node *parse_condexpr(struct parser *p)
{
    if (!enter(p))
        return NULL;
    uint32_t line = cur(p)->line;
    struct tpl_node *expr = parse_or(p);
    while (expr && is_name(cur(p), "if")) {
        advance(p);
        struct tpl_node *cond = new_node(p, TPL_N_COND, line);
        if (!cond || !(cond->b = parse_or(p)))
            return NULL;
        cond->a = expr;
        if (is_name(cur(p), "else")) {
            advance(p);
            if (!(cond->c = parse_condexpr(p)))
                return NULL;
        }
        expr = cond;
        line = cur(p)->line;
    }
    p->depth--;
    return expr;
}

static struct tpl_node *parse_expression(struct parser *p, bool with_condexpr)
{
    return with_condexpr ? parse_condexpr(p) : parse_or(p);
}

/* and/or chains become one node with a list, evaluated left to right */
static struct tpl_node *parse_logic(struct parser *p, const char *keyword,
                                    enum tpl_node_kind kind,
                                    struct tpl_node *(*operand)(struct parser *))
{
    uint32_t line = cur(p)->line;
    struct tpl_node *first = operand(p);
    if (!first || !is_name(cur(p), keyword))
        return first;
    struct collect c = {0};
    if (!collect_push(p, &c, first, 0))
        return NULL;
    while (is_name(cur(p), keyword)) {
        advance(p);
        struct tpl_node *next = operand(p);
        if (!next || !collect_push(p, &c, next, 0))
            return NULL;
    }
    struct tpl_node *node = new_node(p, kind, line);
    if (node)
        node->list = as_list(&c);
    return node;
}

static struct tpl_node *parse_compare(struct parser *p);

static struct tpl_node *parse_not(struct parser *p)
{
    if (!is_name(cur(p), "not"))
        return parse_compare(p);
    if (!enter(p))
        return NULL;
    struct tpl_node *node = new_node(p, TPL_N_NOT, cur(p)->line);
    advance(p);
    if (!node || !(node->a = parse_not(p)))
        return NULL;
    p->depth--;
    return node;
}

static struct tpl_node *parse_and(struct parser *p)
{
    return parse_logic(p, "and", TPL_N_AND, parse_not);
}

static struct tpl_node *parse_or(struct parser *p)
{
    return parse_logic(p, "or", TPL_N_OR, parse_and);
}

/* A left-to-right chain of binary operators of one precedence level. */
static struct tpl_node *parse_chain(struct parser *p, enum tpl_node_kind kind,
                                    const enum tpl_op *ops, size_t n_ops,
                                    struct tpl_node *(*operand)(struct parser *))
{
    uint32_t line = cur(p)->line;
    struct tpl_node *first = operand(p);
    if (!first)
        return NULL;
    struct collect c = {0};
    for (;;) {
        const struct tpl_token *t = cur(p);
        size_t i = 0;
        while (i < n_ops && !is_op(t, ops[i]))
            i++;
        if (i == n_ops)
            break;
        if (c.len == 0 && !collect_push(p, &c, first, 0))
            return NULL;
        advance(p);
        struct tpl_node *next = operand(p);
        if (!next || !collect_push(p, &c, next, (int)ops[i]))
            return NULL;
    }
    if (c.len == 0)
        return first;
    struct tpl_node *node = new_node(p, kind, line);
    if (!node)
        return NULL;
    node->list = as_list(&c);
    node->ops = c.ops; /* ops[i] is the operator before operand i (ops[0] unused) */
    return node;
}

static struct tpl_node *parse_unary_with_filters(struct parser *p)
{
    return parse_unary(p, true);
}

static struct tpl_node *parse_pow(struct parser *p)
{
    static const enum tpl_op ops[] = {OP_POW};
    return parse_chain(p, TPL_N_ARITH, ops, 1, parse_unary_with_filters);
}

static struct tpl_node *parse_math2(struct parser *p)
{
    static const enum tpl_op ops[] = {OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD};
    return parse_chain(p, TPL_N_ARITH, ops, 4, parse_pow);
}

static struct tpl_node *parse_concat(struct parser *p)
{
    static const enum tpl_op ops[] = {OP_TILDE};
    return parse_chain(p, TPL_N_CONCAT, ops, 1, parse_math2);
}

/* As in Jinja2, ~ binds tighter than + and -. */
static struct tpl_node *parse_math1(struct parser *p)
{
    static const enum tpl_op ops[] = {OP_ADD, OP_SUB};
    return parse_chain(p, TPL_N_ARITH, ops, 2, parse_concat);
}

static struct tpl_node *parse_compare(struct parser *p)
{
    uint32_t line = cur(p)->line;
    struct tpl_node *first = parse_math1(p);
    if (!first)
        return NULL;
    struct collect c = {0};
    for (;;) {
        const struct tpl_token *t = cur(p);
        int op;
        if (t->type == TOK_OP && (t->op == OP_EQ || t->op == OP_NE || t->op == OP_LT ||
                                  t->op == OP_LE || t->op == OP_GT || t->op == OP_GE)) {
            op = (int)t->op;
            advance(p);
        } else if (is_name(t, "in")) {
            op = TPL_CMP_IN;
            advance(p);
        } else if (is_name(t, "not") && is_name(peek(p, 1), "in")) {
            op = TPL_CMP_NOT_IN;
            advance(p);
            advance(p);
        } else {
            break;
        }
        if (c.len == 0 && !collect_push(p, &c, first, 0))
            return NULL;
        struct tpl_node *next = parse_math1(p);
        if (!next || !collect_push(p, &c, next, op))
            return NULL;
    }
    if (c.len == 0)
        return first;
    struct tpl_node *node = new_node(p, TPL_N_COMPARE, line);
    if (!node)
        return NULL;
    node->list = as_list(&c);
    node->ops = c.ops;
    return node;
}

static struct tpl_node *parse_filter(struct parser *p, struct tpl_node *node, bool start_inline)
{
    while (start_inline || is_op(cur(p), OP_PIPE)) {
        if (!start_inline)
            advance(p);
        start_inline = false;
        const struct tpl_token *t = cur(p);
        if (t->type != TOK_NAME)
            return fail_unexpected(p, "a filter name");
        struct tpl_node *f = new_node(p, TPL_N_FILTER, t->line);
        if (!f)
            return NULL;
        f->name = t->text;
        advance(p);
        if (is_op(cur(p), OP_DOT))
            return fail(p, "no filter named '%.*s...'", (int)f->name.len, f->name.ptr);
        if (!(f->filter = tpl_find_filter(f->name)))
            return fail(p, "no filter named '%.*s'", (int)f->name.len, f->name.ptr);
        if (is_op(cur(p), OP_LPAREN) && !parse_call_args(p, &f->args))
            return NULL;
        f->a = node;
        node = f;
    }
    return node;
}

static struct tpl_node *parse_test(struct parser *p, struct tpl_node *node)
{
    uint32_t line = cur(p)->line;
    advance(p); /* is */
    bool negated = false;
    if (is_name(cur(p), "not")) {
        negated = true;
        advance(p);
    }
    const struct tpl_token *t = cur(p);
    if (t->type != TOK_NAME)
        return fail_unexpected(p, "a test name");
    struct tpl_node *test = new_node(p, TPL_N_TEST, line);
    if (!test)
        return NULL;
    test->name = t->text;
    test->a = node;
    advance(p);
    if (is_op(cur(p), OP_DOT))
        return fail(p, "no test named '%.*s...'", (int)test->name.len, test->name.ptr);
    if (!(test->test = tpl_find_test(test->name)))
        return fail(p, "no test named '%.*s'", (int)test->name.len, test->name.ptr);
    t = cur(p);
    if (is_op(t, OP_LPAREN)) {
        if (!parse_call_args(p, &test->args))
            return NULL;
    } else if ((t->type == TOK_NAME || t->type == TOK_STRING || t->type == TOK_INT ||
                t->type == TOK_FLOAT || is_op(t, OP_LPAREN) || is_op(t, OP_LBRACKET) ||
                is_op(t, OP_LBRACE)) &&
               !is_name(t, "else") && !is_name(t, "or") && !is_name(t, "and")) {
        /* one argument without parentheses: "is divisibleby 3", "is sameas false" */
        if (is_name(t, "is"))
            return fail(p, "you cannot chain multiple tests with is");
        struct tpl_node *arg = parse_primary(p);
        if (!arg || !(arg = parse_postfix(p, arg)))
            return NULL;
        struct tpl_node **items = tpl_arena_alloc(p->arena, sizeof(*items));
        if (!items)
            return nomem(p);
        items[0] = arg;
        test->args.pos = (struct tpl_node_list){items, 1};
    }
    if (!negated)
        return test;
    struct tpl_node *not = new_node(p, TPL_N_NOT, line);
    if (not)
        not->a = test;
    return not;
}

static bool parse_call_args(struct parser *p, struct tpl_call_args *args)
{
    if (!expect_op(p, OP_LPAREN))
        return false;
    struct collect pos = {0}, kw = {0};
    struct tpl_str *names = NULL;
    size_t names_cap = 0;
    while (!is_op(cur(p), OP_RPAREN)) {
        if (pos.len + kw.len > 0) {
            if (!expect_op(p, OP_COMMA))
                return false;
            if (is_op(cur(p), OP_RPAREN))
                break;
        }
        if (is_op(cur(p), OP_MUL) || is_op(cur(p), OP_POW)) {
            fail(p, "*args and **kwargs in calls are not supported");
            return false;
        }
        if (cur(p)->type == TOK_NAME && is_op(peek(p, 1), OP_ASSIGN)) {
            struct tpl_str key = cur(p)->text;
            advance(p);
            advance(p);
            struct tpl_node *value = parse_expression(p, true);
            if (!value || !collect_push(p, &kw, value, 0))
                return false;
            if (kw.len > names_cap) {
                size_t cap = kw.cap;
                names = tpl_arena_grow(p->arena, names, names_cap * sizeof(*names),
                                       cap * sizeof(*names));
                if (!names) {
                    nomem(p);
                    return false;
                }
                names_cap = cap;
            }
            names[kw.len - 1] = key;
        } else {
            if (kw.len > 0) {
                fail(p, "positional argument follows keyword argument");
                return false;
            }
            struct tpl_node *value = parse_expression(p, true);
            if (!value || !collect_push(p, &pos, value, 0))
                return false;
        }
    }
    advance(p); /* ) */
    args->pos = as_list(&pos);
    args->kw_values = as_list(&kw);
    args->kw_names = names;
    return true;
}

/* The inside of [...]: an expression or a slice start:stop:step. */
static struct tpl_node *parse_subscribed(struct parser *p)
{
    uint32_t line = cur(p)->line;
    struct tpl_node *parts[3] = {NULL, NULL, NULL};
    if (!is_op(cur(p), OP_COLON)) {
        struct tpl_node *e = parse_expression(p, true);
        if (!e || !is_op(cur(p), OP_COLON))
            return e;
        parts[0] = e;
    }
    advance(p); /* first : */
    if (!is_op(cur(p), OP_COLON) && !is_op(cur(p), OP_RBRACKET) && !is_op(cur(p), OP_COMMA)) {
        if (!(parts[1] = parse_expression(p, true)))
            return NULL;
    }
    if (is_op(cur(p), OP_COLON)) {
        advance(p);
        if (!is_op(cur(p), OP_RBRACKET) && !is_op(cur(p), OP_COMMA)) {
            if (!(parts[2] = parse_expression(p, true)))
                return NULL;
        }
    }
    struct tpl_node *slice = new_node(p, TPL_N_SLICE, line);
    if (!slice)
        return NULL;
    slice->b = parts[0];
    slice->c = parts[1];
    slice->d = parts[2];
    return slice;
}

static struct tpl_node *parse_subscript(struct parser *p, struct tpl_node *node)
{
    const struct tpl_token *t = cur(p);
    uint32_t line = t->line;
    if (is_op(t, OP_DOT)) {
        advance(p);
        t = cur(p);
        if (t->type == TOK_NAME) {
            struct tpl_node *g = new_node(p, TPL_N_GETATTR, line);
            if (!g)
                return NULL;
            g->a = node;
            g->name = t->text;
            advance(p);
            return g;
        }
        if (t->type == TOK_INT) {
            struct tpl_node *g = new_node(p, TPL_N_GETITEM, line);
            struct tpl_node *index = new_node(p, TPL_N_CONST, line);
            if (!g || !index)
                return NULL;
            index->value = tpl_int(t->ival);
            g->a = node;
            g->b = index;
            advance(p);
            return g;
        }
        return fail_unexpected(p, "name or number");
    }
    advance(p); /* [ */
    struct collect c = {0};
    while (!is_op(cur(p), OP_RBRACKET)) {
        if (c.len && !expect_op(p, OP_COMMA))
            return NULL;
        if (c.len && is_op(cur(p), OP_RBRACKET))
            break;
        struct tpl_node *e = parse_subscribed(p);
        if (!e || !collect_push(p, &c, e, 0))
            return NULL;
    }
    if (!expect_op(p, OP_RBRACKET))
        return NULL;
    if (c.len == 0)
        return fail(p, "expected an index");
    if (c.len == 1 && c.items[0]->kind == TPL_N_SLICE) {
        c.items[0]->a = node;
        return c.items[0];
    }
    struct tpl_node *index = c.items[0];
    if (c.len > 1) {
        for (size_t i = 0; i < c.len; i++)
            if (c.items[i]->kind == TPL_N_SLICE)
                return fail(p, "multi-dimensional slices are not supported");
        if (!(index = new_node(p, TPL_N_TUPLE, line)))
            return NULL;
        index->list = as_list(&c);
    }
    struct tpl_node *g = new_node(p, TPL_N_GETITEM, line);
    if (!g)
        return NULL;
    g->a = node;
    g->b = index;
    return g;
}

static struct tpl_node *parse_call(struct parser *p, struct tpl_node *node)
{
    struct tpl_node *call = new_node(p, TPL_N_CALL, cur(p)->line);
    if (!call || !parse_call_args(p, &call->args))
        return NULL;
    call->a = node;
    return call;
}

static struct tpl_node *parse_postfix(struct parser *p, struct tpl_node *node)
{
    while (node) {
        const struct tpl_token *t = cur(p);
        if (is_op(t, OP_DOT) || is_op(t, OP_LBRACKET))
            node = parse_subscript(p, node);
        else if (is_op(t, OP_LPAREN))
            node = parse_call(p, node);
        else
            break;
    }
    return node;
}

static struct tpl_node *parse_filter_expr(struct parser *p, struct tpl_node *node)
{
    while (node) {
        const struct tpl_token *t = cur(p);
        if (is_op(t, OP_PIPE))
            node = parse_filter(p, node, false);
        else if (is_name(t, "is"))
            node = parse_test(p, node);
        else if (is_op(t, OP_LPAREN))
            node = parse_call(p, node);
        else
            break;
    }
    return node;
}

static struct tpl_node *parse_unary(struct parser *p, bool with_filter)
{
    if (!enter(p))
        return NULL;
    const struct tpl_token *t = cur(p);
    struct tpl_node *node;
    if (is_op(t, OP_SUB) || is_op(t, OP_ADD)) {
        node = new_node(p, is_op(t, OP_SUB) ? TPL_N_NEG : TPL_N_POS, t->line);
        advance(p);
        if (!node || !(node->a = parse_unary(p, false)))
            return NULL;
    } else {
        node = parse_primary(p);
    }
    node = parse_postfix(p, node);
    if (with_filter)
        node = parse_filter_expr(p, node);
    p->depth--;
    return node;
}

static void note_special_name(struct parser *p, struct tpl_str name)
{
    if (!p->macro)
        return;
    if (str_is(name, "varargs"))
        p->macro->uses_varargs = true;
    else if (str_is(name, "kwargs"))
        p->macro->uses_kwargs = true;
    else if (str_is(name, "caller"))
        p->macro->uses_caller = true;
}

static struct tpl_node *parse_list_literal(struct parser *p, bool is_dict)
{
    uint32_t line = cur(p)->line;
    enum tpl_op close = is_dict ? OP_RBRACE : OP_RBRACKET;
    advance(p);
    struct collect keys = {0}, values = {0};
    while (!is_op(cur(p), close)) {
        if (keys.len && !expect_op(p, OP_COMMA))
            return NULL;
        if (is_op(cur(p), close))
            break;
        struct tpl_node *k = parse_expression(p, true);
        if (!k || !collect_push(p, &keys, k, 0))
            return NULL;
        if (is_dict) {
            if (!expect_op(p, OP_COLON))
                return NULL;
            struct tpl_node *v = parse_expression(p, true);
            if (!v || !collect_push(p, &values, v, 0))
                return NULL;
        }
    }
    advance(p);
    struct tpl_node *node = new_node(p, is_dict ? TPL_N_DICT : TPL_N_LIST, line);
    if (!node)
        return NULL;
    node->list = as_list(&keys);
    node->list2 = as_list(&values);
    return node;
}

static struct tpl_node *parse_primary(struct parser *p)
{
    const struct tpl_token *t = cur(p);
    struct tpl_node *node;
    switch (t->type) {
    case TOK_NAME:
        if (!(node = new_node(p, TPL_N_CONST, t->line)))
            return NULL;
        if (str_is(t->text, "true") || str_is(t->text, "True")) {
            node->value = tpl_bool(true);
        } else if (str_is(t->text, "false") || str_is(t->text, "False")) {
            node->value = tpl_bool(false);
        } else if (str_is(t->text, "none") || str_is(t->text, "None")) {
            node->value = tpl_none();
        } else {
            node->kind = TPL_N_NAME;
            node->name = t->text;
            note_special_name(p, t->text);
        }
        advance(p);
        return node;
    case TOK_STRING: {
        if (!(node = new_node(p, TPL_N_CONST, t->line)))
            return NULL;
        struct tpl_str s = t->text;
        advance(p);
        if (cur(p)->type == TOK_STRING) {
            /* adjacent literals concatenate, as in Python */
            size_t total = s.len;
            for (size_t k = 0; peek(p, k)->type == TOK_STRING; k++)
                if (slm_add_size(total, peek(p, k)->text.len, &total))
                    return nomem(p);
            char *buf = tpl_arena_alloc(p->arena, total + 1);
            if (!buf)
                return nomem(p);
            memcpy(buf, s.ptr, s.len);
            size_t at = s.len;
            while (cur(p)->type == TOK_STRING) {
                memcpy(buf + at, cur(p)->text.ptr, cur(p)->text.len);
                at += cur(p)->text.len;
                advance(p);
            }
            buf[at] = '\0';
            s = (struct tpl_str){buf, at};
        }
        node->value = tpl_strv(s.ptr, s.len);
        return node;
    }
    case TOK_INT:
    case TOK_FLOAT:
        if (!(node = new_node(p, TPL_N_CONST, t->line)))
            return NULL;
        node->value = t->type == TOK_INT ? tpl_int(t->ival) : tpl_float(t->fval);
        advance(p);
        return node;
    case TOK_OP:
        if (t->op == OP_LPAREN) {
            advance(p);
            node = parse_tuple(p, false, true, NULL, true);
            if (!node || !expect_op(p, OP_RPAREN))
                return NULL;
            return node;
        }
        if (t->op == OP_LBRACKET)
            return parse_list_literal(p, false);
        if (t->op == OP_LBRACE)
            return parse_list_literal(p, true);
        return fail_unexpected(p, NULL);
    default:
        return fail_unexpected(p, NULL);
    }
}

static bool is_tuple_end(const struct parser *p, const char *extra_end)
{
    const struct tpl_token *t = cur(p);
    if (t->type == TOK_VAR_END || t->type == TOK_BLOCK_END || is_op(t, OP_RPAREN))
        return true;
    return extra_end && is_name(t, extra_end);
}

static struct tpl_node *parse_tuple(struct parser *p, bool simplified, bool with_condexpr,
                                    const char *extra_end, bool explicit_parens)
{
    uint32_t line = cur(p)->line;
    struct collect c = {0};
    bool is_tuple = false;
    for (;;) {
        if (c.len && !expect_op(p, OP_COMMA))
            return NULL;
        if (is_tuple_end(p, extra_end))
            break;
        struct tpl_node *e = simplified ? parse_primary(p) : parse_expression(p, with_condexpr);
        if (!e || !collect_push(p, &c, e, 0))
            return NULL;
        if (!is_op(cur(p), OP_COMMA))
            break;
        is_tuple = true;
    }
    if (!is_tuple) {
        if (c.len)
            return c.items[0];
        if (!explicit_parens)
            return fail_unexpected(p, "an expression");
    }
    struct tpl_node *node = new_node(p, TPL_N_TUPLE, line);
    if (node)
        node->list = as_list(&c);
    return node;
}

/* ---- statements ---- */

static struct tpl_node *subparse(struct parser *p, const char *const *end_names);

/* Expects the end of the opening tag, then parses a body up to one of `end_names`; with
 * `drop_needle` it also steps over that end name. The final %} is left to subparse. */
static struct tpl_node *parse_statements(struct parser *p, const char *const *end_names,
                                         bool drop_needle)
{
    if (is_op(cur(p), OP_COLON))
        advance(p);
    if (cur(p)->type != TOK_BLOCK_END)
        return fail_unexpected(p, "end of statement block");
    advance(p);
    struct tpl_node *body = subparse(p, end_names);
    if (!body)
        return NULL;
    if (cur(p)->type == TOK_EOF) {
        char want[128] = "";
        for (size_t i = 0; end_names[i]; i++) {
            size_t at = strlen(want);
            snprintf(want + at, sizeof(want) - at, "%s'%s'", i ? " or " : "", end_names[i]);
        }
        return fail(p, "unexpected end of template, expected %s", want);
    }
    if (drop_needle)
        advance(p);
    return body;
}

static bool check_assignable(struct parser *p, const struct tpl_node *target)
{
    if (target->kind == TPL_N_NAME) {
        if (reserved_name(target->name)) {
            fail(p, "cannot assign to '%.*s'", (int)target->name.len, target->name.ptr);
            return false;
        }
        return true;
    }
    if (target->kind == TPL_N_TUPLE || target->kind == TPL_N_LIST) {
        for (size_t i = 0; i < target->list.len; i++)
            if (!check_assignable(p, target->list.items[i]))
                return false;
        return true;
    }
    if (target->kind == TPL_N_NSREF)
        return true;
    fail(p, "cannot assign to this expression");
    return false;
}

static struct tpl_node *parse_assign_target(struct parser *p, bool with_namespace,
                                            const char *extra_end)
{
    const struct tpl_token *t = cur(p);
    struct tpl_node *target;
    if (with_namespace && t->type == TOK_NAME && is_op(peek(p, 1), OP_DOT)) {
        if (!(target = new_node(p, TPL_N_NSREF, t->line)))
            return NULL;
        target->name = t->text;
        advance(p);
        advance(p);
        if (cur(p)->type != TOK_NAME)
            return fail_unexpected(p, "an attribute name");
        target->name2 = cur(p)->text;
        advance(p);
        return target;
    }
    if (!(target = parse_tuple(p, true, false, extra_end, false)))
        return NULL;
    return check_assignable(p, target) ? target : NULL;
}

static struct tpl_node *parse_for(struct parser *p, uint32_t line)
{
    static const char *const body_end[] = {"endfor", "else", NULL};
    static const char *const else_end[] = {"endfor", NULL};
    struct tpl_node *node = new_node(p, TPL_N_FOR, line);
    if (!node || !(node->a = parse_assign_target(p, false, "in")) || !expect_name(p, "in") ||
        !(node->b = parse_tuple(p, false, false, "recursive", false)))
        return NULL;
    if (is_name(cur(p), "if")) {
        advance(p);
        if (!(node->e = parse_expression(p, true)))
            return NULL;
    }
    if (is_name(cur(p), "recursive"))
        return fail(p, "recursive loops are not supported");
    p->loop_depth++;
    node->c = parse_statements(p, body_end, false);
    p->loop_depth--;
    if (!node->c)
        return NULL;
    bool has_else = is_name(cur(p), "else");
    advance(p);
    if (has_else && !(node->d = parse_statements(p, else_end, true)))
        return NULL;
    return node;
}

static struct tpl_node *parse_if(struct parser *p, uint32_t line)
{
    static const char *const body_end[] = {"elif", "else", "endif", NULL};
    static const char *const else_end[] = {"endif", NULL};
    struct tpl_node *top = new_node(p, TPL_N_IF, line), *node = top;
    for (;;) {
        if (!node || !(node->a = parse_tuple(p, false, false, NULL, false)) ||
            !(node->b = parse_statements(p, body_end, false)))
            return NULL;
        if (is_name(cur(p), "elif")) {
            struct tpl_node *next = new_node(p, TPL_N_IF, cur(p)->line);
            advance(p);
            node->c = next;
            node = next;
            continue;
        }
        if (is_name(cur(p), "else")) {
            advance(p);
            if (!(node->c = parse_statements(p, else_end, true)))
                return NULL;
        } else {
            advance(p); /* endif */
        }
        return top;
    }
}

static struct tpl_node *parse_set(struct parser *p, uint32_t line)
{
    static const char *const end[] = {"endset", NULL};
    struct tpl_node *target = parse_assign_target(p, true, NULL);
    if (!target)
        return NULL;
    if (is_op(cur(p), OP_ASSIGN)) {
        advance(p);
        struct tpl_node *node = new_node(p, TPL_N_SET, line);
        if (!node || !(node->b = parse_tuple(p, false, true, NULL, false)))
            return NULL;
        node->a = target;
        return node;
    }
    struct tpl_node *node = new_node(p, TPL_N_SET_BLOCK, line);
    if (!node)
        return NULL;
    node->a = target;
    if (is_op(cur(p), OP_PIPE)) {
        /* "{% set x | f %}": the chain applies to the captured text */
        advance(p);
        if (!(node->c = parse_filter(p, NULL, true)))
            return NULL;
    }
    if (!(node->b = parse_statements(p, end, true)))
        return NULL;
    return node;
}

/* "(a, b=default, ...)" of a macro or a call block */
static bool parse_signature(struct parser *p, struct tpl_macro_def *def)
{
    if (!expect_op(p, OP_LPAREN))
        return false;
    struct collect defaults = {0};
    struct tpl_str *params = NULL;
    size_t n = 0, cap = 0;
    bool seen_default = false;
    while (!is_op(cur(p), OP_RPAREN)) {
        if (n && !expect_op(p, OP_COMMA))
            return false;
        if (n && is_op(cur(p), OP_RPAREN))
            break;
        const struct tpl_token *t = cur(p);
        if (t->type != TOK_NAME || reserved_name(t->text)) {
            fail_unexpected(p, "a parameter name");
            return false;
        }
        if (n == cap) {
            size_t new_cap = cap ? cap * 2 : 4;
            params = tpl_arena_grow(p->arena, params, cap * sizeof(*params),
                                    new_cap * sizeof(*params));
            if (!params) {
                nomem(p);
                return false;
            }
            cap = new_cap;
        }
        params[n++] = t->text;
        advance(p);
        struct tpl_node *def_value = NULL;
        if (is_op(cur(p), OP_ASSIGN)) {
            advance(p);
            if (!(def_value = parse_expression(p, true)))
                return false;
            seen_default = true;
        } else if (seen_default) {
            fail(p, "non-default argument follows default argument");
            return false;
        }
        if (!collect_push(p, &defaults, def_value, 0))
            return false;
    }
    advance(p);
    def->n_params = n;
    def->params = params;
    def->defaults = defaults.items;
    return true;
}

/* Parses a macro or call-block body with `def` as the macro being defined. */
static bool parse_macro_body(struct parser *p, struct tpl_macro_def *def, const char *end_name)
{
    const char *const end[] = {end_name, NULL};
    struct tpl_macro_def *outer = p->macro;
    uint32_t outer_loops = p->loop_depth;
    p->macro = def;
    p->loop_depth = 0; /* break/continue cannot leave a macro */
    def->body = parse_statements(p, end, true);
    p->macro = outer;
    p->loop_depth = outer_loops;
    return def->body != NULL;
}

static struct tpl_node *parse_macro(struct parser *p, uint32_t line)
{
    struct tpl_node *node = new_node(p, TPL_N_MACRO, line);
    struct tpl_macro_def *def = tpl_arena_zalloc(p->arena, sizeof(*def));
    if (!node || !def)
        return nomem(p);
    if (cur(p)->type != TOK_NAME || reserved_name(cur(p)->text))
        return fail_unexpected(p, "a macro name");
    def->name = cur(p)->text;
    advance(p);
    if (!parse_signature(p, def) || !parse_macro_body(p, def, "endmacro"))
        return NULL;
    node->macro = def;
    return node;
}

static struct tpl_node *parse_call_block(struct parser *p, uint32_t line)
{
    struct tpl_node *node = new_node(p, TPL_N_CALL_BLOCK, line);
    struct tpl_macro_def *def = tpl_arena_zalloc(p->arena, sizeof(*def));
    if (!node || !def)
        return nomem(p);
    def->name = (struct tpl_str){"caller", 6};
    if (is_op(cur(p), OP_LPAREN) && !parse_signature(p, def))
        return NULL;
    if (!(node->a = parse_expression(p, true)))
        return NULL;
    if (node->a->kind != TPL_N_CALL)
        return fail(p, "expected a call after {%% call %%}");
    if (!parse_macro_body(p, def, "endcall"))
        return NULL;
    node->macro = def;
    return node;
}

static struct tpl_node *parse_filter_block(struct parser *p, uint32_t line)
{
    static const char *const end[] = {"endfilter", NULL};
    struct tpl_node *node = new_node(p, TPL_N_FILTER_BLOCK, line);
    if (!node || !(node->a = parse_filter(p, NULL, true)) ||
        !(node->b = parse_statements(p, end, true)))
        return NULL;
    return node;
}

static struct tpl_node *parse_with(struct parser *p, uint32_t line)
{
    static const char *const end[] = {"endwith", NULL};
    struct tpl_node *node = new_node(p, TPL_N_WITH, line);
    if (!node)
        return NULL;
    struct collect targets = {0}, values = {0};
    while (cur(p)->type != TOK_BLOCK_END) {
        if (targets.len && !expect_op(p, OP_COMMA))
            return NULL;
        struct tpl_node *target = parse_assign_target(p, false, NULL);
        if (!target || !expect_op(p, OP_ASSIGN))
            return NULL;
        struct tpl_node *value = parse_expression(p, true);
        if (!value || !collect_push(p, &targets, target, 0) ||
            !collect_push(p, &values, value, 0))
            return NULL;
    }
    node->list = as_list(&targets);
    node->list2 = as_list(&values);
    if (!(node->b = parse_statements(p, end, true)))
        return NULL;
    return node;
}

static struct tpl_node *parse_statement(struct parser *p)
{
    const struct tpl_token *t = cur(p);
    uint32_t line = t->line;
    if (t->type != TOK_NAME)
        return fail_unexpected(p, "a tag name");
    struct tpl_str tag = t->text;
    advance(p);
    if (str_is(tag, "for"))
        return parse_for(p, line);
    if (str_is(tag, "if"))
        return parse_if(p, line);
    if (str_is(tag, "set"))
        return parse_set(p, line);
    if (str_is(tag, "macro"))
        return parse_macro(p, line);
    if (str_is(tag, "call"))
        return parse_call_block(p, line);
    if (str_is(tag, "filter"))
        return parse_filter_block(p, line);
    if (str_is(tag, "with"))
        return parse_with(p, line);
    if (str_is(tag, "print")) {
        struct tpl_node *node = new_node(p, TPL_N_PRINT, line);
        if (!node || !(node->a = parse_tuple(p, false, true, NULL, false)))
            return NULL;
        return node;
    }
    if (str_is(tag, "break") || str_is(tag, "continue")) {
        if (p->loop_depth == 0)
            return fail(p, "'%.*s' outside of a loop", (int)tag.len, tag.ptr);
        return new_node(p, str_is(tag, "break") ? TPL_N_BREAK : TPL_N_CONTINUE, line);
    }
    if (str_is(tag, "generation")) {
        /* Hugging Face's marker of assistant text: renders its body unchanged */
        static const char *const end[] = {"endgeneration", NULL};
        return parse_statements(p, end, true);
    }
    if (str_is(tag, "extends") || str_is(tag, "include") || str_is(tag, "import") ||
        str_is(tag, "from") || str_is(tag, "block") || str_is(tag, "autoescape"))
        return fail(p, "tag '%.*s' is not supported in chat templates", (int)tag.len, tag.ptr);
    return fail(p, "unknown tag '%.*s'", (int)tag.len > 40 ? 40 : (int)tag.len, tag.ptr);
}

static bool is_end_name(const struct tpl_token *t, const char *const *end_names)
{
    if (!end_names || t->type != TOK_NAME)
        return false;
    for (size_t i = 0; end_names[i]; i++)
        if (is_name(t, end_names[i]))
            return true;
    return false;
}

/* Parses statements and text until EOF or a {% tag whose name is in `end_names` (left as
 * the current token). */
static struct tpl_node *subparse(struct parser *p, const char *const *end_names)
{
    if (!enter(p))
        return NULL;
    struct tpl_node *body = new_node(p, TPL_N_BODY, cur(p)->line);
    if (!body)
        return NULL;
    struct collect c = {0};
    for (;;) {
        const struct tpl_token *t = cur(p);
        struct tpl_node *node = NULL;
        if (t->type == TOK_EOF)
            break;
        if (t->type == TOK_DATA) {
            if ((node = new_node(p, TPL_N_TEXT, t->line)))
                node->value = tpl_strv(t->text.ptr, t->text.len);
            advance(p);
        } else if (t->type == TOK_VAR_BEGIN) {
            advance(p);
            if ((node = new_node(p, TPL_N_PRINT, t->line)) &&
                (node->a = parse_tuple(p, false, true, NULL, false))) {
                if (cur(p)->type != TOK_VAR_END)
                    return fail_unexpected(p, "end of print statement");
                advance(p);
            } else {
                return NULL;
            }
        } else if (t->type == TOK_BLOCK_BEGIN) {
            advance(p);
            if (is_end_name(cur(p), end_names))
                break;
            if (!(node = parse_statement(p)))
                return NULL;
            if (cur(p)->type != TOK_BLOCK_END)
                return fail_unexpected(p, "end of statement block");
            advance(p);
        } else {
            return fail_unexpected(p, NULL);
        }
        if (!node || !collect_push(p, &c, node, 0))
            return NULL;
    }
    body->list = as_list(&c);
    p->depth--;
    return body;
}

struct tpl_node *tpl_parse(struct tpl_arena *arena, const struct tpl_tokens *tokens,
                           slm_error *err)
{
    struct parser p = {.arena = arena, .toks = tokens->items, .n = tokens->len, .err = err};
    if (p.n == 0)
        return NULL;
    struct tpl_node *body = subparse(&p, NULL);
    if (body && cur(&p)->type != TOK_EOF)
        return fail_unexpected(&p, NULL);
    return body;
}
