/* Overflow-checked arithmetic for sizes read from untrusted files. Each returns true on
 * overflow and leaves the result unspecified, so callers write
 * `if (slm_mul_u64(a, b, &n)) return slm_errorf(...)`. */
#ifndef SLM_UTIL_CHECKED_H
#define SLM_UTIL_CHECKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool slm_add_u64(uint64_t a, uint64_t b, uint64_t *r)
{
    return __builtin_add_overflow(a, b, r);
}
static inline bool slm_mul_u64(uint64_t a, uint64_t b, uint64_t *r)
{
    return __builtin_mul_overflow(a, b, r);
}
static inline bool slm_add_size(size_t a, size_t b, size_t *r)
{
    return __builtin_add_overflow(a, b, r);
}
static inline bool slm_mul_size(size_t a, size_t b, size_t *r)
{
    return __builtin_mul_overflow(a, b, r);
}
/* A 64-bit file quantity that must also fit in this process's size_t (32-bit Arm). */
static inline bool slm_u64_to_size(uint64_t v, size_t *r)
{
    if (v > (uint64_t)SIZE_MAX)
        return true;
    *r = (size_t)v;
    return false;
}
static inline bool slm_is_pow2_u64(uint64_t v) { return v && !(v & (v - 1)); }

/* Rounds `v` up to a multiple of the power of two `align`; true on overflow. */
static inline bool slm_align_up_u64(uint64_t v, uint64_t align, uint64_t *r)
{
    uint64_t t;
    if (__builtin_add_overflow(v, align - 1, &t))
        return true;
    *r = t & ~(align - 1);
    return false;
}

#endif
