/* The parser's state and small helpers, shared by parser.c (statements) and parse_expr.c
 * (expressions). Internal to the parser. */
#ifndef SLM_TEMPLATE_PARSER_STATE_H
#define SLM_TEMPLATE_PARSER_STATE_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "template/ast.h"
#include "template/lexer.h"
#include "template/parser.h"
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

static inline const struct tpl_token *cur(const struct parser *p)
{
    return &p->toks[p->pos];
}
static inline const struct tpl_token *peek(const struct parser *p, size_t k)
{
    return p->pos + k < p->n ? &p->toks[p->pos + k] : &p->toks[p->n - 1];
}
static inline void advance(struct parser *p)
{
    if (p->pos + 1 < p->n) p->pos++;
}

static inline bool str_is(struct tpl_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}
static inline bool is_name(const struct tpl_token *t, const char *name)
{
    return t->type == TOK_NAME && str_is(t->text, name);
}
static inline bool is_op(const struct tpl_token *t, enum tpl_op op)
{
    return t->type == TOK_OP && t->op == op;
}

static inline void describe(const struct tpl_token *t, char *buf, size_t size)
{
    switch (t->type) {
    case TOK_EOF:
        snprintf(buf, size, "end of template");
        break;
    case TOK_DATA:
        snprintf(buf, size, "template data");
        break;
    case TOK_VAR_BEGIN:
        snprintf(buf, size, "begin of print statement");
        break;
    case TOK_VAR_END:
        snprintf(buf, size, "end of print statement");
        break;
    case TOK_BLOCK_BEGIN:
        snprintf(buf, size, "begin of statement block");
        break;
    case TOK_BLOCK_END:
        snprintf(buf, size, "end of statement block");
        break;
    case TOK_NAME:
        snprintf(buf, size, "'%.*s'", t->text.len > 40 ? 40 : (int)t->text.len, t->text.ptr);
        break;
    case TOK_STRING:
        snprintf(buf, size, "string");
        break;
    case TOK_INT:
        snprintf(buf, size, "integer");
        break;
    case TOK_FLOAT:
        snprintf(buf, size, "float");
        break;
    case TOK_OP:
        snprintf(buf, size, "'%s'", tpl_op_text(t->op));
        break;
    }
}

static inline void *fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void *fail(struct parser *p, const char *fmt, ...)
{
    if (p->err && p->err->status != SLM_OK) return NULL;
    char msg[SLM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    slm_errorf(p->err, SLM_ERR_TEMPLATE, "line %" PRIu32 ": %s", cur(p)->line, msg);
    return NULL;
}

static inline void *fail_unexpected(struct parser *p, const char *expected)
{
    char got[64];
    describe(cur(p), got, sizeof(got));
    if (expected) return fail(p, "expected %s, got %s", expected, got);
    return fail(p, "unexpected %s", got);
}

static inline void *nomem(struct parser *p)
{
    return fail(p, "template too large");
}

static inline struct tpl_node *new_node(struct parser *p, enum tpl_node_kind kind, uint32_t line)
{
    struct tpl_node *n = tpl_arena_zalloc(p->arena, sizeof(*n));
    if (!n) return nomem(p);
    n->kind = kind;
    n->line = line;
    return n;
}

static inline bool collect_push(struct parser *p, struct collect *c, struct tpl_node *node, int op)
{
    if (c->len == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct tpl_node **items =
            tpl_arena_grow(p->arena, c->items, c->cap * sizeof(*items), cap * sizeof(*items));
        int *ops = items ? tpl_arena_grow(p->arena, c->ops, c->cap * sizeof(int), cap * sizeof(int))
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

static inline struct tpl_node_list as_list(const struct collect *c)
{
    return (struct tpl_node_list){c->items, c->len};
}

static inline bool expect_op(struct parser *p, enum tpl_op op)
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

static inline bool expect_name(struct parser *p, const char *name)
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

static inline bool enter(struct parser *p)
{
    if (p->depth >= TPL_MAX_PARSE_DEPTH) {
        fail(p, "template nested too deeply (more than %d levels)", TPL_MAX_PARSE_DEPTH);
        return false;
    }
    p->depth++;
    return true;
}

static inline bool reserved_name(struct tpl_str s)
{
    return str_is(s, "true") || str_is(s, "false") || str_is(s, "none") || str_is(s, "True") ||
           str_is(s, "False") || str_is(s, "None");
}

/* Expressions, following Jinja2's grammar (parse_expr.c). */
struct tpl_node *tpl_parse_expression(struct parser *p, bool with_condexpr);
/* Comma-separated expressions: a tuple when there is a comma. `simplified` takes only
 * primaries (assignment targets); `extra_end` is a keyword that also ends the list. */
struct tpl_node *tpl_parse_tuple(struct parser *p, bool simplified, bool with_condexpr,
                                 const char *extra_end, bool explicit_parens);
/* A filter chain "|f(args)|g" applied to `node`; with `start_inline` the first filter has no
 * pipe before it (filter blocks, block sets), and `node` may be NULL. */
struct tpl_node *tpl_parse_filter(struct parser *p, struct tpl_node *node, bool start_inline);

#endif
