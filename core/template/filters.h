/* Shared by the filter files: attribute paths and the filter tables. */
#ifndef SLM_TEMPLATE_FILTERS_H
#define SLM_TEMPLATE_FILTERS_H

#include <stddef.h>
#include <stdint.h>

#include "template/library.h"

/* An attribute path "a.b.0" looked up item-first on each part, as make_attrgetter does. */
int tpl_get_attribute(struct tpl_render *r, struct tpl_value item, struct tpl_value attribute,
                      struct tpl_value *out);

extern const struct tpl_filter_spec tpl_text_filters[];
extern const size_t tpl_text_filters_count;
extern const struct tpl_filter_spec tpl_seq_filters[];
extern const size_t tpl_seq_filters_count;

#endif
