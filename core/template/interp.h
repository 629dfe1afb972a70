/* Runs a parsed template: statements print into r->out, expressions evaluate to values,
 * with Jinja2's scoping (a frame per loop iteration, macro call and with block), its
 * Undefined rules and Python's operators. Every node costs a step and a level of depth. */
#ifndef SLM_TEMPLATE_INTERP_H
#define SLM_TEMPLATE_INTERP_H

#include "template/ast.h"
#include "template/value.h"

int tpl_run(struct tpl_render *r, const struct tpl_node *body, struct tpl_scope *scope);

int tpl_call(struct tpl_render *r, struct tpl_value callee, const struct tpl_args *args,
             struct tpl_value *out);

/* obj.name: Python attributes (methods) first, then items, as Jinja2's getattr does. */
int tpl_getattr(struct tpl_render *r, struct tpl_value obj, struct tpl_str name,
                struct tpl_value *out);
/* obj[key]: items first, then attributes for string keys; a miss is Undefined. */
int tpl_getitem(struct tpl_render *r, struct tpl_value obj, struct tpl_value key,
                struct tpl_value *out);
/* obj[start:stop:step] with Python's rules; NONE values mean "omitted". */
int tpl_slice(struct tpl_render *r, struct tpl_value obj, struct tpl_value start,
              struct tpl_value stop, struct tpl_value step, struct tpl_value *out);
/* `needle in haystack` */
int tpl_contains(struct tpl_render *r, struct tpl_value haystack, struct tpl_value needle,
                 bool *result);
/* The binary arithmetic operators (tpl_op values OP_ADD ... OP_MOD). */
int tpl_binop(struct tpl_render *r, int op, struct tpl_value a, struct tpl_value b,
              struct tpl_value *out);
/* "format" % args, Python's printf-style formatting. */
int tpl_percent_format(struct tpl_render *r, struct tpl_str format, struct tpl_value args,
                       struct tpl_value *out);

#endif
