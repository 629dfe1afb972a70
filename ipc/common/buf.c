/* Growable byte buffer (see buf.h). */
#include "ipc/common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/checked.h"

void slm_buf_init(struct slm_buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void slm_buf_deinit(struct slm_buf *b)
{
    free(b->data);
    size_t limit = b->limit;
    slm_buf_init(b, limit);
}

void slm_buf_clear(struct slm_buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

static bool reserve(struct slm_buf *b, size_t extra)
{
    size_t need;
    if (b->failed || slm_add_size(b->len, extra, &need) || slm_add_size(need, 1, &need) ||
        (b->limit && need - 1 > b->limit)) {
        b->failed = true;
        return false;
    }
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *bigger = realloc(b->data, cap);
    if (!bigger) {
        b->failed = true;
        return false;
    }
    b->data = bigger;
    b->cap = cap;
    return true;
}

bool slm_buf_append(struct slm_buf *b, const void *data, size_t len)
{
    if (!reserve(b, len))
        return false;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

bool slm_buf_puts(struct slm_buf *b, const char *s) { return slm_buf_append(b, s, strlen(s)); }

bool slm_buf_printf(struct slm_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return false;
    }
    if ((size_t)n < sizeof(small))
        return slm_buf_append(b, small, (size_t)n);
    if (!reserve(b, (size_t)n))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

void slm_buf_consume(struct slm_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
    }
    if (b->data)
        b->data[b->len] = '\0';
}

char *slm_buf_steal(struct slm_buf *b, size_t *len)
{
    if (b->failed) {
        slm_buf_deinit(b);
        return NULL;
    }
    if (!b->data && !reserve(b, 0))
        return NULL;
    if (!b->data)
        return NULL;
    char *data = b->data;
    if (b->len == 0)
        data[0] = '\0';
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}
