/* Builds the tree of a template from its tokens, following Jinja2's grammar and operator
 * precedence. */
#ifndef SLM_TEMPLATE_PARSER_H
#define SLM_TEMPLATE_PARSER_H

#include "slm/error.h"
#include "template/arena.h"
#include "template/ast.h"
#include "template/lexer.h"

/* Nesting of blocks and expressions the parser accepts. Real chat templates stay below 20;
 * the bound keeps the recursive descent (and later the interpreter) off deep stacks. */
#define TPL_MAX_PARSE_DEPTH 128

/* Returns the template's body, or NULL with SLM_ERR_TEMPLATE "line N: reason". */
struct tpl_node *tpl_parse(struct tpl_arena *arena, const struct tpl_tokens *tokens,
                           slm_error *err);

#endif
