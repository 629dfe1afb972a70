/* Object-path labels for model names (see path_escape.h). */
#include "ipc/common/path_escape.h"

#include <stdio.h>
#include <string.h>

#include "ipc/common/protocol.h"

static bool is_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool slm_path_label_escape(const char *name, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (!*name) {
        if (cap < 2)
            return false;
        memcpy(out, "_", 2);
        return true;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        size_t need = is_plain(*p) ? 1 : 3;
        if (cap - n <= need) /* keep one byte for the NUL */
            return false;
        if (need == 1) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '_';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* uppercase is not what the escaper writes: refuse it */
}

bool slm_path_label_unescape(const char *label, char *out, size_t cap)
{
    if (!strcmp(label, "_")) {
        if (!cap)
            return false;
        out[0] = '\0';
        return true;
    }
    if (!*label)
        return false;
    size_t n = 0;
    for (const char *p = label; *p;) {
        int byte;
        if (*p == '_') {
            int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
            if (hi < 0 || lo < 0)
                return false;
            byte = hi << 4 | lo;
            /* a byte the escaper writes plainly (or NUL) has exactly one spelling */
            if (byte == 0 || is_plain((unsigned char)byte))
                return false;
            p += 3;
        } else if (is_plain((unsigned char)*p)) {
            byte = (unsigned char)*p++;
        } else {
            return false;
        }
        if (n + 1 >= cap)
            return false;
        out[n++] = (char)byte;
    }
    out[n] = '\0';
    return true;
}

bool slm_model_object_path(const char *name, char *out, size_t cap)
{
    char label[SLM_DBUS_PATH_MAX];
    if (!slm_path_label_escape(name, label, sizeof(label)))
        return false;
    int n = snprintf(out, cap, "%s/%s", SLM_DBUS_MODELS_PATH, label);
    return n > 0 && (size_t)n < cap;
}
