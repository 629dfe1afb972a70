/* Errors travel as values.
 *
 * Every fallible core function returns an int: 0 on success, or the negative of an
 * `slm_status` on failure, and fills the caller's `slm_error` (which may be NULL) with
 * the status and a message a person can act on. Functions returning pointers return
 * NULL and fill the error. Nothing in the core aborts on bad input. */
#ifndef SLM_ERROR_H
#define SLM_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum slm_status {
    SLM_OK = 0,
    SLM_ERR_INVALID,     /* bad argument or request from the caller */
    SLM_ERR_FORMAT,      /* a file or document is malformed */
    SLM_ERR_UNSUPPORTED, /* well-formed but not something slmd implements */
    SLM_ERR_NOMEM,       /* allocation failed */
    SLM_ERR_IO,          /* open/read/mmap failed (errno in the message) */
    SLM_ERR_NOT_FOUND,   /* unknown model, key, tensor ... */
    SLM_ERR_CONTEXT,     /* the sequence does not fit in the context */
    SLM_ERR_BUSY,        /* queue full, no free slot */
    SLM_ERR_CANCELLED,   /* the request was cancelled */
    SLM_ERR_TEMPLATE,    /* a chat template raised or exceeded its limits */
    SLM_ERR_LIMIT,       /* a configured limit (memory_limit, sizes) would be exceeded */
    SLM_ERR_TIMEOUT,     /* the request ran past its deadline */
    SLM_ERR_INTERNAL,    /* a bug: should never be seen */
    SLM_STATUS_COUNT
};

/* Large enough for "FILE: reason" with a long path. */
#define SLM_ERROR_MSG_MAX 512

typedef struct slm_error {
    enum slm_status status;
    char message[SLM_ERROR_MSG_MAX];
} slm_error;

/* Sets `err` (if not NULL) and returns -(int)status, so that
 * `return slm_errorf(err, SLM_ERR_FORMAT, "%s: bad magic", path);` reads naturally. */
int slm_errorf(slm_error *err, enum slm_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an error already set (used to add a file name on the way up). */
void slm_error_prefix(slm_error *err, const char *prefix);

void slm_error_clear(slm_error *err);

/* A short stable name for a status ("invalid", "format", ...). */
const char *slm_status_name(enum slm_status status);

#ifdef __cplusplus
}
#endif
#endif
