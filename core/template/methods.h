/* Shared by the method files: the method tables. */
#ifndef SLM_TEMPLATE_METHODS_H
#define SLM_TEMPLATE_METHODS_H

#include <stdint.h>

#include "template/library.h"

struct tpl_method {
    const char *name;
    tpl_native_fn fn;
};

/* str's methods, ending with a {NULL, NULL} entry */
extern const struct tpl_method tpl_str_methods[];

#endif
