/* Splits template source into tokens the way Jinja2's lexer does with Hugging Face's
 * settings: trim_blocks and lstrip_blocks on, keep_trailing_newline off, "-" and "+"
 * whitespace control on every tag, {% raw %} blocks, and newlines normalised to "\n". */
#ifndef SLM_TEMPLATE_LEXER_H
#define SLM_TEMPLATE_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "template/arena.h"
#include "template/value.h"

enum tpl_tok {
    TOK_EOF,
    TOK_DATA,        /* literal text, after whitespace control */
    TOK_VAR_BEGIN,   /* {{ */
    TOK_VAR_END,     /* }} */
    TOK_BLOCK_BEGIN, /* {% */
    TOK_BLOCK_END,   /* %} */
    TOK_NAME,
    TOK_STRING, /* text holds the value, escapes resolved */
    TOK_INT,
    TOK_FLOAT,
    TOK_OP,
};

enum tpl_op {
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_FLOORDIV,
    OP_POW,
    OP_MOD,
    OP_TILDE,
    OP_LBRACKET,
    OP_RBRACKET,
    OP_LPAREN,
    OP_RPAREN,
    OP_LBRACE,
    OP_RBRACE,
    OP_EQ,
    OP_NE,
    OP_GT,
    OP_GE,
    OP_LT,
    OP_LE,
    OP_ASSIGN,
    OP_DOT,
    OP_COLON,
    OP_PIPE,
    OP_COMMA,
    OP_SEMICOLON,
};

struct tpl_token {
    enum tpl_tok type;
    enum tpl_op op;
    uint32_t line;
    struct tpl_str text;
    int64_t ival;
    double fval;
};

struct tpl_tokens {
    struct tpl_token *items;
    size_t len, cap;
};

/* Tokens and their strings live in `arena`. Errors are SLM_ERR_TEMPLATE "line N: reason". */
int tpl_lex(struct tpl_arena *arena, const char *source, size_t len, struct tpl_tokens *out,
            slm_error *err);

const char *tpl_op_text(enum tpl_op op);

#endif
