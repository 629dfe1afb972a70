/* Python's printf-style string formatting, "fmt" % args, which Jinja's format filter and the
 * % operator on strings use: %s %r %d %i %f %F %e %E %g %G %x %X %o %c %% with flags,
 * width, precision and %(name)s keys. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "template/operators.h"
#include "template/pystr.h"

/* Widths and precisions above this are refused: they could only pad the output. */
#define MAX_FORMAT_WIDTH 4096

/* The conversions below hand snprintf a specification assembled from checked flags and one
 * conversion character, so its arguments always match. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

static int next_arg(struct tpl_render *r, struct tpl_value args, size_t *index,
                    struct tpl_value *out)
{
    if (args.kind == TPL_TUPLE) {
        if (*index >= args.list->len) return tpl_fail(r, "not enough arguments for format string");
        *out = args.list->items[(*index)++];
        return 0;
    }
    if (*index > 0) return tpl_fail(r, "not enough arguments for format string");
    (*index)++;
    *out = args;
    return 0;
}

static int read_number(struct tpl_render *r, const char **p, const char *end, struct tpl_value args,
                       size_t *index, int *out)
{
    *out = -1;
    if (*p < end && **p == '*') {
        struct tpl_value v;
        (*p)++;
        if (next_arg(r, args, index, &v) < 0) return -1;
        if (v.kind != TPL_INT || v.i < 0 || v.i > MAX_FORMAT_WIDTH)
            return tpl_fail(r, "* wants an integer up to %d", MAX_FORMAT_WIDTH);
        *out = (int)v.i;
        return 0;
    }
    if (*p < end && **p >= '0' && **p <= '9') {
        int v = 0;
        while (*p < end && **p >= '0' && **p <= '9') {
            v = v * 10 + (**p - '0');
            if (v > MAX_FORMAT_WIDTH) return tpl_fail(r, "width or precision too big");
            (*p)++;
        }
        *out = v;
    }
    return 0;
}

int tpl_percent_format(struct tpl_render *r, struct tpl_str format, struct tpl_value args,
                       struct tpl_value *out)
{
    struct tpl_sbuf b = {0};
    const char *p = format.ptr, *end = format.ptr + format.len;
    size_t index = 0;
    bool used_mapping = false;
    while (p < end) {
        const char *pct = memchr(p, '%', (size_t)(end - p));
        if (!pct) {
            if (tpl_sbuf_put(r, &b, p, (size_t)(end - p)) < 0) return -1;
            break;
        }
        if (tpl_sbuf_put(r, &b, p, (size_t)(pct - p)) < 0) return -1;
        p = pct + 1;
        struct tpl_value v;
        bool have_value = false;
        if (p < end && *p == '(') {
            const char *close = memchr(p, ')', (size_t)(end - p));
            if (!close) return tpl_fail(r, "incomplete format key");
            if (args.kind != TPL_DICT) return tpl_fail(r, "format requires a mapping");
            if (!tpl_dict_get_str(args.dict, p + 1, (size_t)(close - p - 1), &v))
                return tpl_fail(r, "format key '%.*s' not found",
                                (int)(close - p - 1 > 64 ? 64 : close - p - 1), p + 1);
            have_value = used_mapping = true;
            p = close + 1;
        }
        char flags[8];
        size_t n_flags = 0;
        while (p < end && strchr("-+ #0", *p) && *p && n_flags < sizeof(flags) - 1)
            flags[n_flags++] = *p++;
        flags[n_flags] = '\0';
        int width, precision = -1;
        if (read_number(r, &p, end, args, &index, &width) < 0) return -1;
        if (p < end && *p == '.') {
            p++;
            if (read_number(r, &p, end, args, &index, &precision) < 0) return -1;
            if (precision < 0) precision = 0;
        }
        while (p < end && (*p == 'h' || *p == 'l' || *p == 'L'))
            p++;
        if (p >= end) return tpl_fail(r, "incomplete format");
        char conv = *p++;
        if (conv == '%') {
            if (tpl_sbuf_putc(r, &b, '%') < 0) return -1;
            continue;
        }
        if (!have_value && next_arg(r, args, &index, &v) < 0) return -1;
        char spec[32];
        char tmp[MAX_FORMAT_WIDTH + 400];
        int len;
        struct tpl_sbuf text = {0};
        switch (conv) {
        case 's':
        case 'r':
        case 'a': {
            if ((conv == 's' ? tpl_write_str(r, &text, v) : tpl_write_repr(r, &text, v)) < 0)
                return -1;
            struct tpl_str s = tpl_sbuf_value(&text).s;
            if (precision >= 0) s.len = tpl_utf8_offset(s, (size_t)precision);
            size_t chars = tpl_utf8_count(s);
            size_t pad = width > 0 && (size_t)width > chars ? (size_t)width - chars : 0;
            bool left = strchr(flags, '-') != NULL;
            for (size_t i = 0; !left && i < pad; i++)
                if (tpl_sbuf_putc(r, &b, ' ') < 0) return -1;
            if (tpl_sbuf_puts(r, &b, s) < 0) return -1;
            for (size_t i = 0; left && i < pad; i++)
                if (tpl_sbuf_putc(r, &b, ' ') < 0) return -1;
            continue;
        }
        case 'd':
        case 'i':
        case 'u':
        case 'x':
        case 'X':
        case 'o':
        case 'c': {
            int64_t i;
            if (v.kind == TPL_INT || v.kind == TPL_BOOL)
                i = v.kind == TPL_INT ? v.i : v.b;
            else if (v.kind == TPL_FLOAT && conv != 'x' && conv != 'X' && conv != 'o' &&
                     conv != 'c' && isfinite(v.f) && fabs(v.f) < 9.2e18)
                i = (int64_t)v.f;
            else
                return tpl_fail(r, "%%%c format: a real number is required, not %s", conv,
                                tpl_type_name(v));
            if (conv == 'c') {
                char enc[4];
                if (i < 0 || i > 0x10ffff) return tpl_fail(r, "%%c arg not in range(0x110000)");
                if (tpl_sbuf_put(r, &b, enc, tpl_utf8_encode((uint32_t)i, enc)) < 0) return -1;
                continue;
            }
            char c = conv == 'i' || conv == 'u' ? 'd' : conv;
            snprintf(spec, sizeof(spec), "%%%s*.*ll%c", flags, c);
            /* %x of a negative number is "-ff" in Python, not two's complement */
            if (c != 'd' && i < 0) {
                uint64_t mag = 0 - (uint64_t)i;
                len = snprintf(tmp + 1, sizeof(tmp) - 1, spec, width > 0 ? width - 1 : 0, precision,
                               (unsigned long long)mag);
                tmp[0] = '-';
                len++;
            } else {
                len = snprintf(tmp, sizeof(tmp), spec, width, precision, (long long)i);
            }
            break;
        }
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G': {
            if (!tpl_is_number(v))
                return tpl_fail(r, "must be real number, not %s", tpl_type_name(v));
            double d = v.kind == TPL_FLOAT ? v.f : (double)(v.kind == TPL_INT ? v.i : v.b);
            snprintf(spec, sizeof(spec), "%%%s*.*%c", flags, conv);
            len = snprintf(tmp, sizeof(tmp), spec, width, precision < 0 ? 6 : precision, d);
            break;
        }
        default:
            return tpl_fail(r, "unsupported format character '%c'", conv);
        }
        if (len < 0 || (size_t)len >= sizeof(tmp)) return tpl_fail(r, "formatted value too long");
        if (tpl_sbuf_put(r, &b, tmp, (size_t)len) < 0) return -1;
    }
    if (!used_mapping && args.kind == TPL_TUPLE && index < args.list->len)
        return tpl_fail(r, "not all arguments converted during string formatting");
    if (!used_mapping && args.kind != TPL_TUPLE && args.kind != TPL_DICT && index == 0)
        return tpl_fail(r, "not all arguments converted during string formatting");
    *out = tpl_sbuf_value(&b);
    return tpl_step(r, b.len / 64);
}
