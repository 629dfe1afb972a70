/* Python str operations shared by the str methods and the Jinja filters built on them. Each
 * builds a new string in the arena. */
#ifndef SLM_TEMPLATE_STROPS_H
#define SLM_TEMPLATE_STROPS_H

#include "template/value.h"

enum tpl_case { TPL_LOWER, TPL_TITLE, TPL_UPPER };

/* Appends the character at p (n bytes, code point cp, as tpl_utf8_decode gave them) with
 * Python's full case mapping. */
int tpl_sbuf_put_case(struct tpl_render *r, struct tpl_sbuf *b, const char *p, size_t n,
                      uint32_t cp, enum tpl_case c);

/* upper() or lower() of a whole string */
int tpl_str_case(struct tpl_render *r, struct tpl_str s, enum tpl_case c, struct tpl_value *out);
/* str.capitalize(): first character in title case, the rest lower case */
int tpl_str_capitalize(struct tpl_render *r, struct tpl_str s, struct tpl_value *out);
/* str.title() */
int tpl_str_title(struct tpl_render *r, struct tpl_str s, struct tpl_value *out);
/* str.replace(old, new, count); count < 0 replaces all */
int tpl_str_replace(struct tpl_render *r, struct tpl_str s, struct tpl_str old,
                    struct tpl_str new_text, int64_t count, struct tpl_value *out);
/* str.split(sep, maxsplit) / rsplit; sep NULL splits on runs of whitespace */
int tpl_str_split(struct tpl_render *r, struct tpl_str s, const struct tpl_str *sep,
                  int64_t maxsplit, bool from_right, struct tpl_value *out);
/* str.splitlines(keepends) */
int tpl_str_splitlines(struct tpl_render *r, struct tpl_str s, bool keepends,
                       struct tpl_list **out);
/* str.center / ljust / rjust with a one-character fill */
int tpl_str_pad(struct tpl_render *r, struct tpl_str s, int64_t width, struct tpl_str fill,
                int where, struct tpl_value *out);
/* str.find / rfind as a code point index, -1 when absent */
int64_t tpl_str_find(struct tpl_str s, struct tpl_str sub, bool from_right);
/* HTML escaping as markupsafe does it */
int tpl_str_escape(struct tpl_render *r, struct tpl_str s, struct tpl_value *out);

#endif
