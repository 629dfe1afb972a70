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

#endif
