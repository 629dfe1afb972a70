/* Python's view of text and numbers: strings are sequences of code points (UTF-8 here), with
 * Python's whitespace, case mapping and printability, and floats print as repr() does. */
#ifndef SLM_TEMPLATE_PYSTR_H
#define SLM_TEMPLATE_PYSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "template/value.h"

/* Decodes one code point at p (< end). Returns the bytes used (1 to 4); a byte that does not
 * start valid UTF-8 stands for itself (one code point of that value), as never happens with
 * the JSON and template text slmd feeds in but may with fuzzed input. */
size_t tpl_utf8_decode(const char *p, const char *end, uint32_t *cp);
size_t tpl_utf8_encode(uint32_t cp, char out[4]);
size_t tpl_utf8_count(struct tpl_str s);
/* Byte offset of code point `index` (clamped to the end). */
size_t tpl_utf8_offset(struct tpl_str s, size_t index);

/* str.isspace(): the characters Python's str.strip() and split() treat as whitespace. */
bool tpl_py_isspace(uint32_t cp);
/* Length in bytes of the whitespace character at p, or 0. */
size_t tpl_py_space_at(const char *p, const char *end);
/* str.strip/lstrip/rstrip; `chars` NULL means whitespace. */
struct tpl_str tpl_py_strip(struct tpl_str s, bool left, bool right, const struct tpl_str *chars);

/* Case mappings that turn one character into several (sharp s, ligatures, ...), as UTF-8;
 * which: 0 lower, 1 title, 2 upper (enum tpl_case). NULL when the simple mapping applies. */
const char *tpl_py_special_case(uint32_t cp, int which);
uint32_t tpl_py_upper(uint32_t cp);
uint32_t tpl_py_lower(uint32_t cp);
uint32_t tpl_py_title(uint32_t cp);
bool tpl_py_iscased(uint32_t cp);
bool tpl_py_isupper(uint32_t cp);
bool tpl_py_islower(uint32_t cp);
bool tpl_py_isalnum(uint32_t cp);
bool tpl_py_isalpha(uint32_t cp);
bool tpl_py_isprintable(uint32_t cp);

/* repr() of a float: the shortest digits that read back to the same double, in the layout
 * Python picks ("1.0", "0.0001", "1e-05", "1e+16", "inf", "nan"). Needs 32 bytes. */
void tpl_format_float(double x, char buf[32]);

#endif
