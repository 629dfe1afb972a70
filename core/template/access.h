/* obj.attr, obj[key] and obj[a:b:c] as Jinja2 evaluates them. */
#ifndef SLM_TEMPLATE_ACCESS_H
#define SLM_TEMPLATE_ACCESS_H

#include "template/value.h"

/* obj.name: Python attributes (methods) first, then items, as Jinja2's getattr does. */
int tpl_getattr(struct tpl_render *r, struct tpl_value obj, struct tpl_str name,
                struct tpl_value *out);
/* obj[key]: items first, then attributes for string keys; a miss is Undefined. */
int tpl_getitem(struct tpl_render *r, struct tpl_value obj, struct tpl_value key,
                struct tpl_value *out);
/* obj[start:stop:step] with Python's rules; NONE values mean "omitted". */
int tpl_slice(struct tpl_render *r, struct tpl_value obj, struct tpl_value start,
              struct tpl_value stop, struct tpl_value step, struct tpl_value *out);

#endif
