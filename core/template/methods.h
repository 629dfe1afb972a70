/* Shared by the method files: argument checks and the method tables. */
#ifndef SLM_TEMPLATE_METHODS_H
#define SLM_TEMPLATE_METHODS_H

#include <stdint.h>

#include "template/library.h"

struct tpl_method {
    const char *name;
    tpl_native_fn fn;
};

/* Each fails naming the method `fn` when the argument has the wrong type. */
int tpl_need_str(struct tpl_render *r, const char *fn, struct tpl_value v);
int tpl_need_int(struct tpl_render *r, const char *fn, struct tpl_value v, int64_t *out);
int tpl_method_no_args(struct tpl_render *r, const char *fn, const struct tpl_args *a);

/* str's methods, ending with a {NULL, NULL} entry */
extern const struct tpl_method tpl_str_methods[];

#endif
