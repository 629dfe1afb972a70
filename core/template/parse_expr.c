/* Jinja2's expression grammar, lowest precedence first: conditional expressions, or, and,
 * not, comparisons (chained, with in / not in), + and -, ~, * / // %, **, unary minus,
 * then primaries with their postfixes ([], ., calls) and filters and tests. */
#include "template/library.h"
#include "template/parser_state.h"

static struct tpl_node *parse_or(struct parser *p);
static struct tpl_node *parse_unary(struct parser *p, bool with_filter);
static struct tpl_node *parse_primary(struct parser *p);
static struct tpl_node *parse_postfix(struct parser *p, struct tpl_node *node);
static bool parse_call_args(struct parser *p, struct tpl_call_args *args);

static struct tpl_node *parse_condexpr(struct parser *p)
{
    if (!enter(p)) return NULL;
    uint32_t line = cur(p)->line;
    struct tpl_node *expr = parse_or(p);
    while (expr && is_name(cur(p), "if")) {
        advance(p);
        struct tpl_node *cond = new_node(p, TPL_N_COND, line);
        if (!cond || !(cond->b = parse_or(p))) return NULL;
        cond->a = expr;
        if (is_name(cur(p), "else")) {
            advance(p);
            if (!(cond->c = parse_condexpr(p))) return NULL;
        }
        expr = cond;
        line = cur(p)->line;
    }
    p->depth--;
    return expr;
}

struct tpl_node *tpl_parse_expression(struct parser *p, bool with_condexpr)
{
    return with_condexpr ? parse_condexpr(p) : parse_or(p);
}

/* and/or chains become one node with a list, evaluated left to right */
static struct tpl_node *parse_logic(struct parser *p, const char *keyword, enum tpl_node_kind kind,
                                    struct tpl_node *(*operand)(struct parser *))
{
    uint32_t line = cur(p)->line;
    struct tpl_node *first = operand(p);
    if (!first || !is_name(cur(p), keyword)) return first;
    struct collect c = {0};
    if (!collect_push(p, &c, first, 0)) return NULL;
    while (is_name(cur(p), keyword)) {
        advance(p);
        struct tpl_node *next = operand(p);
        if (!next || !collect_push(p, &c, next, 0)) return NULL;
    }
    struct tpl_node *node = new_node(p, kind, line);
    if (node) node->list = as_list(&c);
    return node;
}

static struct tpl_node *parse_compare(struct parser *p);

static struct tpl_node *parse_not(struct parser *p)
{
    if (!is_name(cur(p), "not")) return parse_compare(p);
    if (!enter(p)) return NULL;
    struct tpl_node *node = new_node(p, TPL_N_NOT, cur(p)->line);
    advance(p);
    if (!node || !(node->a = parse_not(p))) return NULL;
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
    if (!first) return NULL;
    struct collect c = {0};
    for (;;) {
        const struct tpl_token *t = cur(p);
        size_t i = 0;
        while (i < n_ops && !is_op(t, ops[i]))
            i++;
        if (i == n_ops) break;
        if (c.len == 0 && !collect_push(p, &c, first, 0)) return NULL;
        advance(p);
        struct tpl_node *next = operand(p);
        if (!next || !collect_push(p, &c, next, (int)ops[i])) return NULL;
    }
    if (c.len == 0) return first;
    struct tpl_node *node = new_node(p, kind, line);
    if (!node) return NULL;
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
    if (!first) return NULL;
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
        if (c.len == 0 && !collect_push(p, &c, first, 0)) return NULL;
        struct tpl_node *next = parse_math1(p);
        if (!next || !collect_push(p, &c, next, op)) return NULL;
    }
    if (c.len == 0) return first;
    struct tpl_node *node = new_node(p, TPL_N_COMPARE, line);
    if (!node) return NULL;
    node->list = as_list(&c);
    node->ops = c.ops;
    return node;
}

struct tpl_node *tpl_parse_filter(struct parser *p, struct tpl_node *node, bool start_inline)
{
    while (start_inline || is_op(cur(p), OP_PIPE)) {
        if (!start_inline) advance(p);
        start_inline = false;
        const struct tpl_token *t = cur(p);
        if (t->type != TOK_NAME) return fail_unexpected(p, "a filter name");
        struct tpl_node *f = new_node(p, TPL_N_FILTER, t->line);
        if (!f) return NULL;
        f->name = t->text;
        advance(p);
        if (is_op(cur(p), OP_DOT))
            return fail(p, "no filter named '%.*s...'", (int)f->name.len, f->name.ptr);
        if (!(f->filter = tpl_find_filter(f->name)))
            return fail(p, "no filter named '%.*s'", (int)f->name.len, f->name.ptr);
        if (is_op(cur(p), OP_LPAREN) && !parse_call_args(p, &f->args)) return NULL;
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
    if (t->type != TOK_NAME) return fail_unexpected(p, "a test name");
    struct tpl_node *test = new_node(p, TPL_N_TEST, line);
    if (!test) return NULL;
    test->name = t->text;
    test->a = node;
    advance(p);
    if (is_op(cur(p), OP_DOT))
        return fail(p, "no test named '%.*s...'", (int)test->name.len, test->name.ptr);
    if (!(test->test = tpl_find_test(test->name)))
        return fail(p, "no test named '%.*s'", (int)test->name.len, test->name.ptr);
    t = cur(p);
    if (is_op(t, OP_LPAREN)) {
        if (!parse_call_args(p, &test->args)) return NULL;
    } else if ((t->type == TOK_NAME || t->type == TOK_STRING || t->type == TOK_INT ||
                t->type == TOK_FLOAT || is_op(t, OP_LPAREN) || is_op(t, OP_LBRACKET) ||
                is_op(t, OP_LBRACE)) &&
               !is_name(t, "else") && !is_name(t, "or") && !is_name(t, "and")) {
        /* one argument without parentheses: "is divisibleby 3", "is sameas false" */
        if (is_name(t, "is")) return fail(p, "you cannot chain multiple tests with is");
        struct tpl_node *arg = parse_primary(p);
        if (!arg || !(arg = parse_postfix(p, arg))) return NULL;
        struct tpl_node **items = tpl_arena_alloc(p->arena, sizeof(*items));
        if (!items) return nomem(p);
        items[0] = arg;
        test->args.pos = (struct tpl_node_list){items, 1};
    }
    if (!negated) return test;
    struct tpl_node *not = new_node(p, TPL_N_NOT, line);
    if (not ) not ->a = test;
    return not ;
}

static bool parse_call_args(struct parser *p, struct tpl_call_args *args)
{
    if (!expect_op(p, OP_LPAREN)) return false;
    struct collect pos = {0}, kw = {0};
    struct tpl_str *names = NULL;
    size_t names_cap = 0;
    while (!is_op(cur(p), OP_RPAREN)) {
        if (pos.len + kw.len > 0) {
            if (!expect_op(p, OP_COMMA)) return false;
            if (is_op(cur(p), OP_RPAREN)) break;
        }
        if (is_op(cur(p), OP_MUL) || is_op(cur(p), OP_POW)) {
            fail(p, "*args and **kwargs in calls are not supported");
            return false;
        }
        if (cur(p)->type == TOK_NAME && is_op(peek(p, 1), OP_ASSIGN)) {
            struct tpl_str key = cur(p)->text;
            advance(p);
            advance(p);
            struct tpl_node *value = tpl_parse_expression(p, true);
            if (!value || !collect_push(p, &kw, value, 0)) return false;
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
            struct tpl_node *value = tpl_parse_expression(p, true);
            if (!value || !collect_push(p, &pos, value, 0)) return false;
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
        struct tpl_node *e = tpl_parse_expression(p, true);
        if (!e || !is_op(cur(p), OP_COLON)) return e;
        parts[0] = e;
    }
    advance(p); /* first : */
    if (!is_op(cur(p), OP_COLON) && !is_op(cur(p), OP_RBRACKET) && !is_op(cur(p), OP_COMMA)) {
        if (!(parts[1] = tpl_parse_expression(p, true))) return NULL;
    }
    if (is_op(cur(p), OP_COLON)) {
        advance(p);
        if (!is_op(cur(p), OP_RBRACKET) && !is_op(cur(p), OP_COMMA)) {
            if (!(parts[2] = tpl_parse_expression(p, true))) return NULL;
        }
    }
    struct tpl_node *slice = new_node(p, TPL_N_SLICE, line);
    if (!slice) return NULL;
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
            if (!g) return NULL;
            g->a = node;
            g->name = t->text;
            advance(p);
            return g;
        }
        if (t->type == TOK_INT) {
            struct tpl_node *g = new_node(p, TPL_N_GETITEM, line);
            struct tpl_node *index = new_node(p, TPL_N_CONST, line);
            if (!g || !index) return NULL;
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
        if (c.len && !expect_op(p, OP_COMMA)) return NULL;
        if (c.len && is_op(cur(p), OP_RBRACKET)) break;
        struct tpl_node *e = parse_subscribed(p);
        if (!e || !collect_push(p, &c, e, 0)) return NULL;
    }
    if (!expect_op(p, OP_RBRACKET)) return NULL;
    if (c.len == 0) return fail(p, "expected an index");
    if (c.len == 1 && c.items[0]->kind == TPL_N_SLICE) {
        c.items[0]->a = node;
        return c.items[0];
    }
    struct tpl_node *index = c.items[0];
    if (c.len > 1) {
        for (size_t i = 0; i < c.len; i++)
            if (c.items[i]->kind == TPL_N_SLICE)
                return fail(p, "multi-dimensional slices are not supported");
        if (!(index = new_node(p, TPL_N_TUPLE, line))) return NULL;
        index->list = as_list(&c);
    }
    struct tpl_node *g = new_node(p, TPL_N_GETITEM, line);
    if (!g) return NULL;
    g->a = node;
    g->b = index;
    return g;
}

static struct tpl_node *parse_call(struct parser *p, struct tpl_node *node)
{
    struct tpl_node *call = new_node(p, TPL_N_CALL, cur(p)->line);
    if (!call || !parse_call_args(p, &call->args)) return NULL;
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
            node = tpl_parse_filter(p, node, false);
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
    if (!enter(p)) return NULL;
    const struct tpl_token *t = cur(p);
    struct tpl_node *node;
    if (is_op(t, OP_SUB) || is_op(t, OP_ADD)) {
        node = new_node(p, is_op(t, OP_SUB) ? TPL_N_NEG : TPL_N_POS, t->line);
        advance(p);
        if (!node || !(node->a = parse_unary(p, false))) return NULL;
    } else {
        node = parse_primary(p);
    }
    node = parse_postfix(p, node);
    if (with_filter) node = parse_filter_expr(p, node);
    p->depth--;
    return node;
}

static void note_special_name(struct parser *p, struct tpl_str name)
{
    if (!p->macro) return;
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
        if (keys.len && !expect_op(p, OP_COMMA)) return NULL;
        if (is_op(cur(p), close)) break;
        struct tpl_node *k = tpl_parse_expression(p, true);
        if (!k || !collect_push(p, &keys, k, 0)) return NULL;
        if (is_dict) {
            if (!expect_op(p, OP_COLON)) return NULL;
            struct tpl_node *v = tpl_parse_expression(p, true);
            if (!v || !collect_push(p, &values, v, 0)) return NULL;
        }
    }
    advance(p);
    struct tpl_node *node = new_node(p, is_dict ? TPL_N_DICT : TPL_N_LIST, line);
    if (!node) return NULL;
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
        if (!(node = new_node(p, TPL_N_CONST, t->line))) return NULL;
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
        if (!(node = new_node(p, TPL_N_CONST, t->line))) return NULL;
        struct tpl_str s = t->text;
        advance(p);
        if (cur(p)->type == TOK_STRING) {
            /* adjacent literals concatenate, as in Python */
            size_t total = s.len;
            for (size_t k = 0; peek(p, k)->type == TOK_STRING; k++)
                if (slm_add_size(total, peek(p, k)->text.len, &total)) return nomem(p);
            char *buf = tpl_arena_alloc(p->arena, total + 1);
            if (!buf) return nomem(p);
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
        if (!(node = new_node(p, TPL_N_CONST, t->line))) return NULL;
        node->value = t->type == TOK_INT ? tpl_int(t->ival) : tpl_float(t->fval);
        advance(p);
        return node;
    case TOK_OP:
        if (t->op == OP_LPAREN) {
            advance(p);
            node = tpl_parse_tuple(p, false, true, NULL, true);
            if (!node || !expect_op(p, OP_RPAREN)) return NULL;
            return node;
        }
        if (t->op == OP_LBRACKET) return parse_list_literal(p, false);
        if (t->op == OP_LBRACE) return parse_list_literal(p, true);
        return fail_unexpected(p, NULL);
    default:
        return fail_unexpected(p, NULL);
    }
}

static bool is_tuple_end(const struct parser *p, const char *extra_end)
{
    const struct tpl_token *t = cur(p);
    if (t->type == TOK_VAR_END || t->type == TOK_BLOCK_END || is_op(t, OP_RPAREN)) return true;
    return extra_end && is_name(t, extra_end);
}

struct tpl_node *tpl_parse_tuple(struct parser *p, bool simplified, bool with_condexpr,
                                 const char *extra_end, bool explicit_parens)
{
    uint32_t line = cur(p)->line;
    struct collect c = {0};
    bool is_tuple = false;
    for (;;) {
        if (c.len && !expect_op(p, OP_COMMA)) return NULL;
        if (is_tuple_end(p, extra_end)) break;
        struct tpl_node *e = simplified ? parse_primary(p) : tpl_parse_expression(p, with_condexpr);
        if (!e || !collect_push(p, &c, e, 0)) return NULL;
        if (!is_op(cur(p), OP_COMMA)) break;
        is_tuple = true;
    }
    if (!is_tuple) {
        if (c.len) return c.items[0];
        if (!explicit_parens) return fail_unexpected(p, "an expression");
    }
    struct tpl_node *node = new_node(p, TPL_N_TUPLE, line);
    if (node) node->list = as_list(&c);
    return node;
}
