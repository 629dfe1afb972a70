/* The parsed template: a tree of statements and expressions, built once by parser.c and only
 * read by interp.c, so one compiled template can be rendered from many threads at once. */
#ifndef SLM_TEMPLATE_AST_H
#define SLM_TEMPLATE_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "template/value.h"

enum tpl_node_kind {
    /* statements */
    TPL_N_BODY,         /* list: statements in order */
    TPL_N_TEXT,         /* value: the text (a string constant) */
    TPL_N_PRINT,        /* a: expression */
    TPL_N_IF,           /* a: test, b: body, c: else branch (a body, or another IF for elif) */
    TPL_N_FOR,          /* a: target, b: iterable, c: body, d: else body, e: `if` filter */
    TPL_N_SET,          /* a: target (NAME, TUPLE of NAMEs or NSREF), b: value */
    TPL_N_SET_BLOCK,    /* a: target, b: body, c: filter chain or NULL */
    TPL_N_MACRO,        /* macro */
    TPL_N_CALL_BLOCK,   /* a: the CALL expression, macro: the caller's signature and body */
    TPL_N_FILTER_BLOCK, /* a: filter chain (innermost operand NULL), b: body */
    TPL_N_WITH,         /* list: targets, list2: values, b: body */
    TPL_N_BREAK,
    TPL_N_CONTINUE,
    /* expressions */
    TPL_N_CONST,   /* value */
    TPL_N_NAME,    /* name */
    TPL_N_LIST,    /* list: items */
    TPL_N_TUPLE,   /* list: items */
    TPL_N_DICT,    /* list: keys, list2: values */
    TPL_N_GETATTR, /* a: object, name: attribute */
    TPL_N_GETITEM, /* a: object, b: index */
    TPL_N_SLICE,   /* a: object, b, c, d: start, stop, step (each may be NULL) */
    TPL_N_CALL,    /* a: callee, args */
    TPL_N_FILTER,  /* a: operand (NULL: the captured text of a filter block), name, args */
    TPL_N_TEST,    /* a: operand, name, args; op = 1 for "is not" */
    TPL_N_NEG,     /* a */
    TPL_N_POS,     /* a */
    TPL_N_NOT,     /* a */
    TPL_N_ARITH,   /* list: operands, ops: the operators between them, left to right */
    TPL_N_CONCAT,  /* list: operands joined with ~ */
    TPL_N_COMPARE, /* list: operands, ops: comparisons between them (chained) */
    TPL_N_AND,     /* a, b */
    TPL_N_OR,      /* a, b */
    TPL_N_COND,    /* a: value if b is true, else c (NULL: undefined) */
    TPL_N_NSREF,   /* assignment target ns.attr: name: variable, name2: attribute */
};

/* Comparison operators of TPL_N_COMPARE besides the tpl_op ones. */
enum { TPL_CMP_IN = 100, TPL_CMP_NOT_IN };

struct tpl_node;

struct tpl_node_list {
    struct tpl_node **items;
    size_t len;
};

struct tpl_call_args {
    struct tpl_node_list pos;
    struct tpl_node_list kw_values;
    struct tpl_str *kw_names;
};

/* A macro, or the caller() of a call block. */
struct tpl_macro_def {
    struct tpl_str name;
    size_t n_params;
    struct tpl_str *params;
    struct tpl_node **defaults; /* per parameter, NULL when it has none */
    struct tpl_node *body;
    /* Jinja lets a macro take extra arguments only when its body reads these. */
    bool uses_varargs, uses_kwargs, uses_caller;
};

struct tpl_filter_spec;
struct tpl_test_spec;

struct tpl_node {
    enum tpl_node_kind kind;
    uint32_t line;
    int op;
    struct tpl_node *a, *b, *c, *d, *e;
    struct tpl_node_list list, list2;
    int *ops;
    struct tpl_str name, name2;
    struct tpl_value value;
    struct tpl_call_args args;
    struct tpl_macro_def *macro;
    const struct tpl_filter_spec *filter; /* TPL_N_FILTER, resolved when parsed */
    const struct tpl_test_spec *test;     /* TPL_N_TEST */
};

#endif
