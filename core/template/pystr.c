#include "template/pystr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

size_t tpl_utf8_decode(const char *p, const char *end, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t avail = (size_t)(end - p);
    unsigned char c = s[0];
    size_t n;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        v = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        v = c & 0x07;
    } else {
        *cp = c;
        return 1;
    }
    if (avail < n) {
        *cp = c;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = c;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    /* overlong forms and values past U+10FFFF are not valid UTF-8 */
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff))) {
        *cp = c;
        return 1;
    }
    *cp = v;
    return n;
}

size_t tpl_utf8_encode(uint32_t cp, char out[4])
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    if (cp > 0x10ffff) cp = 0xfffd;
    o[0] = (unsigned char)(0xf0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

size_t tpl_utf8_count(struct tpl_str s)
{
    size_t n = 0;
    const char *p = s.ptr, *end = s.ptr + s.len;
    uint32_t cp;
    while (p < end) {
        p += tpl_utf8_decode(p, end, &cp);
        n++;
    }
    return n;
}

size_t tpl_utf8_offset(struct tpl_str s, size_t index)
{
    const char *p = s.ptr, *end = s.ptr + s.len;
    uint32_t cp;
    while (index > 0 && p < end) {
        p += tpl_utf8_decode(p, end, &cp);
        index--;
    }
    return (size_t)(p - s.ptr);
}

bool tpl_py_isspace(uint32_t cp)
{
    switch (cp) {
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x1c:
    case 0x1d:
    case 0x1e:
    case 0x1f:
    case 0x20:
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200a;
    }
}

size_t tpl_py_space_at(const char *p, const char *end)
{
    uint32_t cp;
    size_t n = tpl_utf8_decode(p, end, &cp);
    /* a lone byte 0x85 or 0xa0 is invalid UTF-8, not the Latin-1 character */
    if (n == 1 && cp >= 0x80) return 0;
    return tpl_py_isspace(cp) ? n : 0;
}

static bool in_chars(uint32_t cp, const struct tpl_str *chars)
{
    const char *p = chars->ptr, *end = chars->ptr + chars->len;
    while (p < end) {
        uint32_t c;
        p += tpl_utf8_decode(p, end, &c);
        if (c == cp) return true;
    }
    return false;
}

static bool strip_here(const char *p, const char *end, const struct tpl_str *chars, size_t *n)
{
    uint32_t cp;
    *n = tpl_utf8_decode(p, end, &cp);
    if (!chars) return tpl_py_space_at(p, end) > 0;
    return in_chars(cp, chars);
}

/* Steps back over one code point ending at `end`. */
static const char *utf8_prev(const char *start, const char *end)
{
    const char *p = end - 1;
    int back = 0;
    while (p > start && back < 3 && ((unsigned char)*p & 0xc0) == 0x80) {
        p--;
        back++;
    }
    uint32_t cp;
    if (p + tpl_utf8_decode(p, end, &cp) != end)
        return end - 1; /* not a whole character: step one byte */
    return p;
}

struct tpl_str tpl_py_strip(struct tpl_str s, bool left, bool right, const struct tpl_str *chars)
{
    const char *p = s.ptr, *end = s.ptr + s.len;
    size_t n;
    if (left)
        while (p < end && strip_here(p, end, chars, &n))
            p += n;
    if (right) {
        while (end > p) {
            const char *q = utf8_prev(p, end);
            if (!strip_here(q, end, chars, &n) || q + n != end) break;
            end = q;
        }
    }
    return (struct tpl_str){p, (size_t)(end - p)};
}

/* Python's full case mappings where they differ from the one-character ones utf8proc
 * gives (Unicode SpecialCasing.txt, the unconditional entries that occur in text). */
struct special_case {
    uint32_t cp;
    const char *lower, *title, *upper;
};

static const struct special_case special_cases[] = {
    {0x00df, "\u00df", "Ss", "SS"},           /* sharp s */
    {0x0130, "i\u0307", "\u0130", "\u0130"},  /* I with dot above */
    {0x0149, "\u0149", "\u02bcN", "\u02bcN"}, /* n preceded by apostrophe */
    {0x01f0, "\u01f0", "J\u030c", "J\u030c"}, /* j with caron */
    {0xfb00, "\ufb00", "Ff", "FF"},           {0xfb01, "\ufb01", "Fi", "FI"},
    {0xfb02, "\ufb02", "Fl", "FL"},           {0xfb03, "\ufb03", "Ffi", "FFI"},
    {0xfb04, "\ufb04", "Ffl", "FFL"},         {0xfb05, "\ufb05", "St", "ST"},
    {0xfb06, "\ufb06", "St", "ST"},
};

const char *tpl_py_special_case(uint32_t cp, int which)
{
    for (size_t i = 0; i < sizeof(special_cases) / sizeof(special_cases[0]); i++) {
        if (special_cases[i].cp == cp)
            return which == 0   ? special_cases[i].lower
                   : which == 1 ? special_cases[i].title
                                : special_cases[i].upper;
    }
    return NULL;
}

uint32_t tpl_py_upper(uint32_t cp)
{
    return cp > 0x10ffff ? cp : (uint32_t)utf8proc_toupper((utf8proc_int32_t)cp);
}
uint32_t tpl_py_lower(uint32_t cp)
{
    return cp > 0x10ffff ? cp : (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
}
uint32_t tpl_py_title(uint32_t cp)
{
    return cp > 0x10ffff ? cp : (uint32_t)utf8proc_totitle((utf8proc_int32_t)cp);
}

static utf8proc_category_t category(uint32_t cp)
{
    if (cp > 0x10ffff) return UTF8PROC_CATEGORY_CN;
    return utf8proc_category((utf8proc_int32_t)cp);
}

bool tpl_py_iscased(uint32_t cp)
{
    utf8proc_category_t c = category(cp);
    return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT;
}

bool tpl_py_isupper(uint32_t cp)
{
    return category(cp) == UTF8PROC_CATEGORY_LU;
}
bool tpl_py_islower(uint32_t cp)
{
    return category(cp) == UTF8PROC_CATEGORY_LL;
}

bool tpl_py_isalnum(uint32_t cp)
{
    switch (category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

bool tpl_py_isalpha(uint32_t cp)
{
    switch (category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return true;
    default:
        return false;
    }
}

/* Python's str.isprintable(): everything but the "Other" and "Separator" categories, except
 * that the ASCII space is printable. */
bool tpl_py_isprintable(uint32_t cp)
{
    if (cp == ' ') return true;
    switch (category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return false;
    default:
        return true;
    }
}

void tpl_format_float(double x, char buf[32])
{
    if (isnan(x)) {
        strcpy(buf, "nan");
        return;
    }
    if (isinf(x)) {
        strcpy(buf, x < 0 ? "-inf" : "inf");
        return;
    }
    /* The shortest precision that reads back exactly. glibc's %e rounds correctly, so the
     * first precision that round-trips gives the digits Python's repr() picks. */
    char sci[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(sci, sizeof(sci), "%.*e", prec, x);
        if (strtod(sci, NULL) == x) break;
    }
    /* sci is "-d.ddde[+-]XX": collect sign, digits and the exponent */
    const char *p = sci;
    bool negative = *p == '-';
    if (negative) p++;
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.' && nd < sizeof(digits) - 1) digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    int exp10 = *p == 'e' ? atoi(p + 1) : 0;
    int decpt = exp10 + 1; /* value = 0.digits * 10^decpt */
    char *o = buf;
    if (negative) *o++ = '-';
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -decpt; i++)
                *o++ = '0';
            memcpy(o, digits, nd);
            o += nd;
        } else if ((size_t)decpt >= nd) {
            memcpy(o, digits, nd);
            o += nd;
            for (size_t i = nd; i < (size_t)decpt; i++)
                *o++ = '0';
            *o++ = '.';
            *o++ = '0';
        } else {
            memcpy(o, digits, (size_t)decpt);
            o += decpt;
            *o++ = '.';
            memcpy(o, digits + decpt, nd - (size_t)decpt);
            o += nd - (size_t)decpt;
        }
        *o = '\0';
        return;
    }
    *o++ = digits[0];
    if (nd > 1) {
        *o++ = '.';
        memcpy(o, digits + 1, nd - 1);
        o += nd - 1;
    }
    snprintf(o, 32 - (size_t)(o - buf), "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
}
