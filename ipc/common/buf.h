/* A growable byte buffer with a ceiling. Appends never fail loudly: the first failure
 * (out of memory, or past `limit`) sets `failed`, later appends do nothing, and the owner
 * checks `failed` once at the end. The data is always NUL-terminated when not failed. */
#ifndef SLM_IPC_BUF_H
#define SLM_IPC_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct slm_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* 0: no ceiling beyond memory */
    bool failed;
};

void slm_buf_init(struct slm_buf *b, size_t limit);
void slm_buf_deinit(struct slm_buf *b);
void slm_buf_clear(struct slm_buf *b); /* keeps the memory, resets len and failed */
bool slm_buf_append(struct slm_buf *b, const void *data, size_t len);
bool slm_buf_puts(struct slm_buf *b, const char *s);
bool slm_buf_printf(struct slm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (consumed output). */
void slm_buf_consume(struct slm_buf *b, size_t n);
/* Hands the data over (malloc'd, NUL-terminated) and leaves the buffer empty. */
char *slm_buf_steal(struct slm_buf *b, size_t *len);

#endif
