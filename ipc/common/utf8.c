/* UTF-8 validation and repair (see utf8.h). */
#include "ipc/common/utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/checked.h"

/* Length of the well-formed sequence at s (at most `left` bytes), or 0 if ill-formed.
 * Follows the table of well-formed byte sequences in the Unicode standard (ch. 3). */
static size_t sequence_length(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    if (c >= 0x01 && c <= 0x7f)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* past U+10FFFF */
    } else {
        return 0; /* NUL, continuation byte, 0xc0/0xc1, 0xf5.. */
    }
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

bool slm_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = sequence_length(p + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

char *slm_utf8_sanitize(const char *s, size_t len, size_t *out_len)
{
    static const char replacement[] = "\xef\xbf\xbd";
    size_t cap;
    /* every input byte becomes at most the 3-byte replacement */
    if (slm_mul_size(len, 3, &cap) || slm_add_size(cap, 1, &cap))
        return NULL;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = sequence_length(p + i, len - i);
        if (n) {
            memcpy(out + o, p + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, replacement, 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}
