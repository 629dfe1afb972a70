/* Looking up Jinja2's filters by name, and the helpers the filter files share. The filters
 * themselves are in filters_text.c (strings, numbers) and filters_seq.c (sequences). */
#include "template/filters.h"

#include <stdlib.h>
#include <string.h>

#include "template/access.h"

/* An attribute path "a.b.0" looked up item-first on each part, as make_attrgetter does. */
int tpl_get_attribute(struct tpl_render *r, struct tpl_value item, struct tpl_value attribute,
                      struct tpl_value *out)
{
    if (attribute.kind == TPL_INT) return tpl_getitem(r, item, attribute, out);
    if (attribute.kind != TPL_STR) return tpl_fail(r, "attribute must be a string or an integer");
    const char *p = attribute.s.ptr, *end = p + attribute.s.len;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *part_end = dot ? dot : end;
        struct tpl_value key = tpl_strv(p, (size_t)(part_end - p));
        bool digits = part_end > p;
        for (const char *q = p; q < part_end; q++)
            digits = digits && *q >= '0' && *q <= '9';
        if (digits && part_end - p < 18) key = tpl_int(strtoll(p, NULL, 10));
        if (tpl_getitem(r, item, key, &item) < 0) return -1;
        if (!dot) break;
        p = dot + 1;
    }
    *out = item;
    return 0;
}

static int compare_name(const void *key, const void *elem)
{
    const struct tpl_str *name = key;
    const char *candidate = *(const char *const *)elem;
    size_t n = strlen(candidate);
    int c = memcmp(name->ptr, candidate, name->len < n ? name->len : n);
    if (c) return c;
    return name->len < n ? -1 : name->len > n;
}

const struct tpl_filter_spec *tpl_find_filter(struct tpl_str name)
{
    const struct tpl_filter_spec *spec = bsearch(&name, tpl_text_filters, tpl_text_filters_count,
                                                 sizeof(tpl_text_filters[0]), compare_name);
    if (!spec)
        spec = bsearch(&name, tpl_seq_filters, tpl_seq_filters_count, sizeof(tpl_seq_filters[0]),
                       compare_name);
    return spec;
}

int tpl_apply_filter(struct tpl_render *r, struct tpl_str name, struct tpl_value v,
                     const struct tpl_args *args, struct tpl_value *out)
{
    const struct tpl_filter_spec *spec = tpl_find_filter(name);
    if (!spec)
        return tpl_fail(r, "no filter named '%.*s'", (int)(name.len > 64 ? 64 : name.len),
                        name.ptr);
    return spec->fn(r, v, args, out);
}
