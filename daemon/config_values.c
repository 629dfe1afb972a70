/* Scalar value parsers for slmd.yaml (see config_values.h and config.h). */
#include "daemon/config_values.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "util/checked.h"
#include "util/cleanup.h"

bool slmd_parse_u64(const char *text, uint64_t *out)
{
    if (!*text)
        return false;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (slm_mul_u64(v, 10, &v) || slm_add_u64(v, (uint64_t)(*p - '0'), &v))
            return false;
    }
    *out = v;
    return true;
}

bool slmd_parse_i64(const char *text, int64_t *out)
{
    bool negative = *text == '-';
    uint64_t magnitude;
    if (!slmd_parse_u64(text + negative, &magnitude))
        return false;
    if (negative) {
        if (magnitude > (uint64_t)INT64_MAX + 1)
            return false;
        *out = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
    } else {
        if (magnitude > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)magnitude;
    }
    return true;
}

bool slmd_parse_bool(const char *text, bool *out)
{
    static const struct {
        const char *word;
        bool value;
    } words[] = {
        {"true", true}, {"True", true}, {"TRUE", true}, {"yes", true},   {"Yes", true},
        {"YES", true},  {"on", true},   {"On", true},   {"ON", true},    {"false", false},
        {"False", false}, {"FALSE", false}, {"no", false}, {"No", false}, {"NO", false},
        {"off", false}, {"Off", false}, {"OFF", false},
    };
    for (size_t i = 0; i < SLM_ARRAY_SIZE(words); i++) {
        if (strcmp(text, words[i].word) == 0) {
            *out = words[i].value;
            return true;
        }
    }
    return false;
}

bool slmd_parse_double(const char *text, double *out)
{
    /* strtod would also take hex floats, "inf", "nan" and leading spaces: refuse them */
    for (const char *p = text; *p; p++)
        if (!strchr("0123456789.eE+-", *p))
            return false;
    if (!*text)
        return false;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool slmd_parse_mode(const char *text, mode_t *out)
{
    size_t len = strlen(text);
    if (len < 3 || len > 4)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '7')
            return false;
        v = v * 8 + (unsigned)(text[i] - '0');
    }
    if (v > 0777) /* setuid, setgid and sticky bits mean nothing on a socket */
        return false;
    *out = (mode_t)v;
    return true;
}

bool slmd_group_name_valid(const char *text)
{
    size_t len = strlen(text);
    if (len == 0 || len > SLMD_GROUP_NAME_MAX)
        return false;
    if (!(isalpha((unsigned char)text[0]) || text[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        bool last = i == len - 1;
        if (!(isalnum(c) || c == '_' || c == '.' || c == '-' || (last && c == '$')))
            return false;
    }
    return true;
}

/* Multiplier of a size suffix: K, M, G, T (binary), each optionally followed by "i" and/or
 * "B", any case; "" or "B" alone for bytes. */
static bool size_multiplier(const char *suffix, uint64_t *mult)
{
    static const char units[] = "KMGT";
    uint64_t m = 1;
    const char *p = suffix;
    if (*p) {
        const char *u = strchr(units, toupper((unsigned char)*p));
        if (u && *u) {
            for (const char *q = units; q <= u; q++)
                m *= 1024;
            p++;
            if (*p == 'i' || *p == 'I')
                p++;
        }
        if (*p == 'b' || *p == 'B')
            p++;
    }
    if (*p)
        return false;
    *mult = m;
    return true;
}

bool slmd_parse_size(const char *text, uint64_t *bytes)
{
    const char *p = text;
    uint64_t whole = 0;
    size_t n_digits = 0;
    for (; isdigit((unsigned char)*p); p++, n_digits++)
        if (slm_mul_u64(whole, 10, &whole) || slm_add_u64(whole, (uint64_t)(*p - '0'), &whole))
            return false;
    if (n_digits == 0)
        return false;
    /* a fraction of up to 9 digits ("1.5G"); the result is truncated to whole bytes */
    uint64_t frac = 0, frac_scale = 1;
    if (*p == '.') {
        p++;
        size_t n_frac = 0;
        for (; isdigit((unsigned char)*p); p++, n_frac++) {
            if (n_frac >= 9)
                return false;
            frac = frac * 10 + (uint64_t)(*p - '0');
            frac_scale *= 10;
        }
        if (n_frac == 0)
            return false;
    }
    while (*p == ' ')
        p++;
    uint64_t mult;
    if (!size_multiplier(p, &mult))
        return false;
    uint64_t total;
    if (slm_mul_u64(whole, mult, &total))
        return false;
    /* floor(mult * frac / frac_scale) without the product, which can pass 2^64 for T:
     * with mult = q * frac_scale + r, it is q * frac + floor(r * frac / frac_scale), and
     * r, frac < 10^9 keep r * frac below 2^60. */
    uint64_t frac_bytes =
        (mult / frac_scale) * frac + (mult % frac_scale) * frac / frac_scale;
    if (slm_add_u64(total, frac_bytes, &total))
        return false;
    *bytes = total;
    return true;
}

/* Microseconds per unit; false for an unknown unit. */
static bool duration_unit(const char *unit, size_t len, uint64_t *usec)
{
    static const struct {
        const char *name;
        uint64_t usec;
    } units[] = {
        {"us", 1ULL},
        {"ms", 1000ULL},
        {"s", 1000000ULL},
        {"sec", 1000000ULL},
        {"m", 60ULL * 1000000ULL},
        {"min", 60ULL * 1000000ULL},
        {"h", 3600ULL * 1000000ULL},
        {"d", 86400ULL * 1000000ULL},
    };
    for (size_t i = 0; i < SLM_ARRAY_SIZE(units); i++) {
        if (strlen(units[i].name) == len && memcmp(units[i].name, unit, len) == 0) {
            *usec = units[i].usec;
            return true;
        }
    }
    return false;
}

bool slmd_parse_duration(const char *text, uint64_t *usec)
{
    uint64_t plain;
    if (slmd_parse_u64(text, &plain)) /* a bare number is seconds, as in systemd */
        return !slm_mul_u64(plain, 1000000ULL, usec);

    const char *p = text;
    uint64_t total = 0;
    bool any = false;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        uint64_t n = 0;
        size_t n_digits = 0;
        for (; isdigit((unsigned char)*p); p++, n_digits++)
            if (slm_mul_u64(n, 10, &n) || slm_add_u64(n, (uint64_t)(*p - '0'), &n))
                return false;
        if (n_digits == 0)
            return false;
        const char *unit = p;
        while (isalpha((unsigned char)*p))
            p++;
        uint64_t per_unit, part;
        if (!duration_unit(unit, (size_t)(p - unit), &per_unit))
            return false;
        if (slm_mul_u64(n, per_unit, &part) || slm_add_u64(total, part, &total))
            return false;
        any = true;
    }
    if (!any)
        return false;
    *usec = total;
    return true;
}
