/* UTF-8 checks for text that crosses a boundary which demands valid UTF-8: libdbus
 * treats an invalid string handed to it as a programming error (and aborts), and JSON
 * clients choke on invalid bytes. Text from model files (labels, architecture names) and
 * from generation (byte-fallback tokens) is untrusted, so it is checked on the way out. */
#ifndef SLM_IPC_UTF8_H
#define SLM_IPC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True for well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF)
 * without NUL bytes. */
bool slm_utf8_valid(const char *s, size_t len);

/* A malloc'd NUL-terminated copy where every ill-formed sequence and every NUL byte is
 * replaced by U+FFFD; NULL when out of memory. */
char *slm_utf8_sanitize(const char *s, size_t len, size_t *out_len);

#endif
