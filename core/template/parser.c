/* Jinja2's statements ({% if %}, {% for %}, {% set %}, {% macro %}, {% call %}, {% filter %},
 * {% with %}, loop controls, {% generation %}) and the template body around them. */
#include "template/parser.h"

#include "template/parser_state.h"

static struct tpl_node *subparse(struct parser *p, const char *const *end_names);

/* Expects the end of the opening tag, then parses a body up to one of `end_names`; with
 * `drop_needle` it also steps over that end name. The final %} is left to subparse. */
static struct tpl_node *parse_statements(struct parser *p, const char *const *end_names,
                                         bool drop_needle)
{
    if (is_op(cur(p), OP_COLON)) advance(p);
    if (cur(p)->type != TOK_BLOCK_END) return fail_unexpected(p, "end of statement block");
    advance(p);
    struct tpl_node *body = subparse(p, end_names);
    if (!body) return NULL;
    if (cur(p)->type == TOK_EOF) {
        char want[128] = "";
        for (size_t i = 0; end_names[i]; i++) {
            size_t at = strlen(want);
            snprintf(want + at, sizeof(want) - at, "%s'%s'", i ? " or " : "", end_names[i]);
        }
        return fail(p, "unexpected end of template, expected %s", want);
    }
    if (drop_needle) advance(p);
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
            if (!check_assignable(p, target->list.items[i])) return false;
        return true;
    }
    if (target->kind == TPL_N_NSREF) return true;
    fail(p, "cannot assign to this expression");
    return false;
}

static struct tpl_node *parse_assign_target(struct parser *p, bool with_namespace,
                                            const char *extra_end)
{
    const struct tpl_token *t = cur(p);
    struct tpl_node *target;
    if (with_namespace && t->type == TOK_NAME && is_op(peek(p, 1), OP_DOT)) {
        if (!(target = new_node(p, TPL_N_NSREF, t->line))) return NULL;
        target->name = t->text;
        advance(p);
        advance(p);
        if (cur(p)->type != TOK_NAME) return fail_unexpected(p, "an attribute name");
        target->name2 = cur(p)->text;
        advance(p);
        return target;
    }
    if (!(target = tpl_parse_tuple(p, true, false, extra_end, false))) return NULL;
    return check_assignable(p, target) ? target : NULL;
}

static struct tpl_node *parse_for(struct parser *p, uint32_t line)
{
    static const char *const body_end[] = {"endfor", "else", NULL};
    static const char *const else_end[] = {"endfor", NULL};
    struct tpl_node *node = new_node(p, TPL_N_FOR, line);
    if (!node || !(node->a = parse_assign_target(p, false, "in")) || !expect_name(p, "in") ||
        !(node->b = tpl_parse_tuple(p, false, false, "recursive", false)))
        return NULL;
    if (is_name(cur(p), "if")) {
        advance(p);
        if (!(node->e = tpl_parse_expression(p, true))) return NULL;
    }
    if (is_name(cur(p), "recursive")) return fail(p, "recursive loops are not supported");
    p->loop_depth++;
    node->c = parse_statements(p, body_end, false);
    p->loop_depth--;
    if (!node->c) return NULL;
    bool has_else = is_name(cur(p), "else");
    advance(p);
    if (has_else && !(node->d = parse_statements(p, else_end, true))) return NULL;
    return node;
}

static struct tpl_node *parse_if(struct parser *p, uint32_t line)
{
    static const char *const body_end[] = {"elif", "else", "endif", NULL};
    static const char *const else_end[] = {"endif", NULL};
    struct tpl_node *top = new_node(p, TPL_N_IF, line), *node = top;
    for (;;) {
        if (!node || !(node->a = tpl_parse_tuple(p, false, false, NULL, false)) ||
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
            if (!(node->c = parse_statements(p, else_end, true))) return NULL;
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
    if (!target) return NULL;
    if (is_op(cur(p), OP_ASSIGN)) {
        advance(p);
        struct tpl_node *node = new_node(p, TPL_N_SET, line);
        if (!node || !(node->b = tpl_parse_tuple(p, false, true, NULL, false))) return NULL;
        node->a = target;
        return node;
    }
    struct tpl_node *node = new_node(p, TPL_N_SET_BLOCK, line);
    if (!node) return NULL;
    node->a = target;
    if (is_op(cur(p), OP_PIPE)) {
        /* "{% set x | f %}": the chain applies to the captured text */
        advance(p);
        if (!(node->c = tpl_parse_filter(p, NULL, true))) return NULL;
    }
    if (!(node->b = parse_statements(p, end, true))) return NULL;
    return node;
}

/* "(a, b=default, ...)" of a macro or a call block */
static bool parse_signature(struct parser *p, struct tpl_macro_def *def)
{
    if (!expect_op(p, OP_LPAREN)) return false;
    struct collect defaults = {0};
    struct tpl_str *params = NULL;
    size_t n = 0, cap = 0;
    bool seen_default = false;
    while (!is_op(cur(p), OP_RPAREN)) {
        if (n && !expect_op(p, OP_COMMA)) return false;
        if (n && is_op(cur(p), OP_RPAREN)) break;
        const struct tpl_token *t = cur(p);
        if (t->type != TOK_NAME || reserved_name(t->text)) {
            fail_unexpected(p, "a parameter name");
            return false;
        }
        if (n == cap) {
            size_t new_cap = cap ? cap * 2 : 4;
            params =
                tpl_arena_grow(p->arena, params, cap * sizeof(*params), new_cap * sizeof(*params));
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
            if (!(def_value = tpl_parse_expression(p, true))) return false;
            seen_default = true;
        } else if (seen_default) {
            fail(p, "non-default argument follows default argument");
            return false;
        }
        if (!collect_push(p, &defaults, def_value, 0)) return false;
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
    if (!node || !def) return nomem(p);
    if (cur(p)->type != TOK_NAME || reserved_name(cur(p)->text))
        return fail_unexpected(p, "a macro name");
    def->name = cur(p)->text;
    advance(p);
    if (!parse_signature(p, def) || !parse_macro_body(p, def, "endmacro")) return NULL;
    node->macro = def;
    return node;
}

static struct tpl_node *parse_call_block(struct parser *p, uint32_t line)
{
    struct tpl_node *node = new_node(p, TPL_N_CALL_BLOCK, line);
    struct tpl_macro_def *def = tpl_arena_zalloc(p->arena, sizeof(*def));
    if (!node || !def) return nomem(p);
    def->name = (struct tpl_str){"caller", 6};
    if (is_op(cur(p), OP_LPAREN) && !parse_signature(p, def)) return NULL;
    if (!(node->a = tpl_parse_expression(p, true))) return NULL;
    if (node->a->kind != TPL_N_CALL) return fail(p, "expected a call after {%% call %%}");
    if (!parse_macro_body(p, def, "endcall")) return NULL;
    node->macro = def;
    return node;
}

static struct tpl_node *parse_filter_block(struct parser *p, uint32_t line)
{
    static const char *const end[] = {"endfilter", NULL};
    struct tpl_node *node = new_node(p, TPL_N_FILTER_BLOCK, line);
    if (!node || !(node->a = tpl_parse_filter(p, NULL, true)) ||
        !(node->b = parse_statements(p, end, true)))
        return NULL;
    return node;
}

static struct tpl_node *parse_with(struct parser *p, uint32_t line)
{
    static const char *const end[] = {"endwith", NULL};
    struct tpl_node *node = new_node(p, TPL_N_WITH, line);
    if (!node) return NULL;
    struct collect targets = {0}, values = {0};
    while (cur(p)->type != TOK_BLOCK_END) {
        if (targets.len && !expect_op(p, OP_COMMA)) return NULL;
        struct tpl_node *target = parse_assign_target(p, false, NULL);
        if (!target || !expect_op(p, OP_ASSIGN)) return NULL;
        struct tpl_node *value = tpl_parse_expression(p, true);
        if (!value || !collect_push(p, &targets, target, 0) || !collect_push(p, &values, value, 0))
            return NULL;
    }
    node->list = as_list(&targets);
    node->list2 = as_list(&values);
    if (!(node->b = parse_statements(p, end, true))) return NULL;
    return node;
}

static struct tpl_node *parse_statement(struct parser *p)
{
    const struct tpl_token *t = cur(p);
    uint32_t line = t->line;
    if (t->type != TOK_NAME) return fail_unexpected(p, "a tag name");
    struct tpl_str tag = t->text;
    advance(p);
    if (str_is(tag, "for")) return parse_for(p, line);
    if (str_is(tag, "if")) return parse_if(p, line);
    if (str_is(tag, "set")) return parse_set(p, line);
    if (str_is(tag, "macro")) return parse_macro(p, line);
    if (str_is(tag, "call")) return parse_call_block(p, line);
    if (str_is(tag, "filter")) return parse_filter_block(p, line);
    if (str_is(tag, "with")) return parse_with(p, line);
    if (str_is(tag, "print")) {
        struct tpl_node *node = new_node(p, TPL_N_PRINT, line);
        if (!node || !(node->a = tpl_parse_tuple(p, false, true, NULL, false))) return NULL;
        return node;
    }
    if (str_is(tag, "break") || str_is(tag, "continue")) {
        if (p->loop_depth == 0) return fail(p, "'%.*s' outside of a loop", (int)tag.len, tag.ptr);
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
    if (!end_names || t->type != TOK_NAME) return false;
    for (size_t i = 0; end_names[i]; i++)
        if (is_name(t, end_names[i])) return true;
    return false;
}

/* Parses statements and text until EOF or a {% tag whose name is in `end_names` (left as
 * the current token). */
static struct tpl_node *subparse(struct parser *p, const char *const *end_names)
{
    if (!enter(p)) return NULL;
    struct tpl_node *body = new_node(p, TPL_N_BODY, cur(p)->line);
    if (!body) return NULL;
    struct collect c = {0};
    for (;;) {
        const struct tpl_token *t = cur(p);
        struct tpl_node *node = NULL;
        if (t->type == TOK_EOF) break;
        if (t->type == TOK_DATA) {
            if ((node = new_node(p, TPL_N_TEXT, t->line)))
                node->value = tpl_strv(t->text.ptr, t->text.len);
            advance(p);
        } else if (t->type == TOK_VAR_BEGIN) {
            advance(p);
            if ((node = new_node(p, TPL_N_PRINT, t->line)) &&
                (node->a = tpl_parse_tuple(p, false, true, NULL, false))) {
                if (cur(p)->type != TOK_VAR_END)
                    return fail_unexpected(p, "end of print statement");
                advance(p);
            } else {
                return NULL;
            }
        } else if (t->type == TOK_BLOCK_BEGIN) {
            advance(p);
            if (is_end_name(cur(p), end_names)) break;
            if (!(node = parse_statement(p))) return NULL;
            if (cur(p)->type != TOK_BLOCK_END) return fail_unexpected(p, "end of statement block");
            advance(p);
        } else {
            return fail_unexpected(p, NULL);
        }
        if (!node || !collect_push(p, &c, node, 0)) return NULL;
    }
    body->list = as_list(&c);
    p->depth--;
    return body;
}

struct tpl_node *tpl_parse(struct tpl_arena *arena, const struct tpl_tokens *tokens, slm_error *err)
{
    struct parser p = {.arena = arena, .toks = tokens->items, .n = tokens->len, .err = err};
    if (p.n == 0) return NULL;
    struct tpl_node *body = subparse(&p, NULL);
    if (body && cur(&p)->type != TOK_EOF) return fail_unexpected(&p, NULL);
    return body;
}
