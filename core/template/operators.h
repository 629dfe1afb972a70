/* Python's operators on template values. */
#ifndef SLM_TEMPLATE_OPERATORS_H
#define SLM_TEMPLATE_OPERATORS_H

#include <stdbool.h>

#include "template/value.h"

/* `needle in haystack` */
int tpl_contains(struct tpl_render *r, struct tpl_value haystack, struct tpl_value needle,
                 bool *result);
/* Unary minus, or plus (which turns a bool into an int). */
int tpl_unary(struct tpl_render *r, bool negate, struct tpl_value a, struct tpl_value *out);
/* The binary arithmetic operators (tpl_op values OP_ADD ... OP_MOD). */
int tpl_binop(struct tpl_render *r, int op, struct tpl_value a, struct tpl_value b,
              struct tpl_value *out);
/* A comparison of a TPL_N_COMPARE chain: ==, !=, <, <=, >, >= (tpl_op values) or
 * TPL_CMP_IN / TPL_CMP_NOT_IN. */
int tpl_compare_op(struct tpl_render *r, int op, struct tpl_value a, struct tpl_value b,
                   bool *result);
/* "format" % args, Python's printf-style formatting. */
int tpl_percent_format(struct tpl_render *r, struct tpl_str format, struct tpl_value args,
                       struct tpl_value *out);

#endif
