/* Ownership helpers in the style of systemd: `_cleanup_free_ char *s = ...;` frees `s`
 * when it leaves scope; `TAKE_PTR(s)` hands ownership on and leaves NULL behind. */
#ifndef SLM_UTIL_CLEANUP_H
#define SLM_UTIL_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(fn) __attribute__((cleanup(fn)))

static inline void slm_freep(void *p) { free(*(void **)p); }
static inline void slm_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
static inline void slm_fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

#define _cleanup_free_ _cleanup_(slm_freep)
#define _cleanup_close_ _cleanup_(slm_closep)
#define _cleanup_fclose_ _cleanup_(slm_fclosep)

/* Declares `static inline void name##p(type **p)` calling `fn(*p)` when non-NULL. */
#define SLM_DEFINE_CLEANUP(type, fn)                                                         \
    static inline void fn##p(type **p)                                                     \
    {                                                                                      \
        if (*p)                                                                            \
            fn(*p);                                                                        \
    }

#define TAKE_PTR(p)                                                                        \
    ({                                                                                     \
        __typeof__(p) _ptr_ = (p);                                                         \
        (p) = NULL;                                                                        \
        _ptr_;                                                                             \
    })

#define TAKE_FD(fd)                                                                        \
    ({                                                                                     \
        int _fd_ = (fd);                                                                   \
        (fd) = -1;                                                                         \
        _fd_;                                                                              \
    })

#define SLM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SLM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SLM_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
