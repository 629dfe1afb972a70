/* Typed access to GGUF metadata, with the stored type checked on every read. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slm/gguf.h"

/* The private layout is shared with gguf.c through this small mirror of the entry. */
#include "gguf_private.h"

static bool is_unsigned(uint32_t t)
{
    return t == SLM_GGUF_U8 || t == SLM_GGUF_U16 || t == SLM_GGUF_U32 || t == SLM_GGUF_U64;
}
static bool is_signed(uint32_t t)
{
    return t == SLM_GGUF_I8 || t == SLM_GGUF_I16 || t == SLM_GGUF_I32 || t == SLM_GGUF_I64;
}

/* Reads element `i` of a scalar array into the same union form a scalar kv uses. */
static void array_element(const struct gguf_kv *kv, uint64_t i, struct gguf_kv *out)
{
    out->type = kv->v.arr.type;
    out->key = kv->key;
    size_t esize = gguf_scalar_size(kv->v.arr.type);
    gguf_decode_scalar(kv->v.arr.type, kv->v.arr.data + i * esize, out);
}

static int wrong_type(const slm_gguf *g, const char *key, uint32_t have, const char *want,
                      slm_error *err)
{
    return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' is %s, expected %s",
                      slm_gguf_name(g), key, slm_gguf_value_type_name(have), want);
}

/* Integer value of a scalar entry, with range checks done by callers. */
static int scalar_int(const slm_gguf *g, const struct gguf_kv *kv, const char *key,
                      int64_t lo, uint64_t hi, uint64_t *mag, bool *neg, slm_error *err)
{
    if (is_unsigned(kv->type)) {
        *neg = false;
        *mag = kv->v.u;
    } else if (is_signed(kv->type)) {
        *neg = kv->v.i < 0;
        *mag = *neg ? (uint64_t)(-(kv->v.i + 1)) + 1 : (uint64_t)kv->v.i;
    } else {
        return wrong_type(g, key, kv->type, "an integer", err);
    }
    if ((*neg && (lo >= 0 || *mag > (uint64_t)(-(lo + 1)) + 1)) || (!*neg && *mag > hi))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' = %s%llu is out of range",
                          slm_gguf_name(g), key, *neg ? "-" : "", (unsigned long long)*mag);
    return 0;
}

static const struct gguf_kv *lookup(const slm_gguf *g, const char *key)
{
    int64_t i = slm_gguf_find(g, key);
    return i < 0 ? NULL : gguf_entry(g, (size_t)i);
}

int slm_gguf_get_u32(const slm_gguf *g, const char *key, uint32_t *out, slm_error *err)
{
    const struct gguf_kv *kv = lookup(g, key);
    if (!kv)
        return -SLM_ERR_NOT_FOUND;
    uint64_t mag;
    bool neg;
    int r = scalar_int(g, kv, key, 0, UINT32_MAX, &mag, &neg, err);
    if (r < 0)
        return r;
    *out = (uint32_t)mag;
    return 0;
}

int slm_gguf_get_i64(const slm_gguf *g, const char *key, int64_t *out, slm_error *err)
{
    const struct gguf_kv *kv = lookup(g, key);
    if (!kv)
        return -SLM_ERR_NOT_FOUND;
    uint64_t mag;
    bool neg;
    int r = scalar_int(g, kv, key, INT64_MIN, INT64_MAX, &mag, &neg, err);
    if (r < 0)
        return r;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

int slm_gguf_get_f32(const slm_gguf *g, const char *key, float *out, slm_error *err)
{
    const struct gguf_kv *kv = lookup(g, key);
    if (!kv)
        return -SLM_ERR_NOT_FOUND;
    if (kv->type != SLM_GGUF_F32 && kv->type != SLM_GGUF_F64)
        return wrong_type(g, key, kv->type, "a float", err);
    *out = (float)kv->v.f;
    return 0;
}

int slm_gguf_get_bool(const slm_gguf *g, const char *key, bool *out, slm_error *err)
{
    const struct gguf_kv *kv = lookup(g, key);
    if (!kv)
        return -SLM_ERR_NOT_FOUND;
    if (kv->type != SLM_GGUF_BOOL)
        return wrong_type(g, key, kv->type, "bool", err);
    *out = kv->v.u != 0;
    return 0;
}

int slm_gguf_get_str(const slm_gguf *g, const char *key, struct slm_gguf_str *out,
                     slm_error *err)
{
    const struct gguf_kv *kv = lookup(g, key);
    if (!kv)
        return -SLM_ERR_NOT_FOUND;
    if (kv->type != SLM_GGUF_STRING)
        return wrong_type(g, key, kv->type, "string", err);
    *out = kv->v.str;
    return 0;
}

int slm_gguf_get_str_dup(const slm_gguf *g, const char *key, char **out, slm_error *err)
{
    struct slm_gguf_str s;
    int r = slm_gguf_get_str(g, key, &s, err);
    if (r < 0)
        return r;
    if (memchr(s.ptr, '\0', (size_t)s.len))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' contains a NUL byte",
                          slm_gguf_name(g), key);
    char *copy = malloc((size_t)s.len + 1);
    if (!copy)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", slm_gguf_name(g));
    memcpy(copy, s.ptr, (size_t)s.len);
    copy[s.len] = '\0';
    *out = copy;
    return 0;
}

static int lookup_array(const slm_gguf *g, const char *key, const struct gguf_kv **kv_out,
                        slm_error *err)
{
    const struct gguf_kv *kv = lookup(g, key);
    if (!kv)
        return -SLM_ERR_NOT_FOUND;
    if (kv->type != SLM_GGUF_ARRAY)
        return wrong_type(g, key, kv->type, "array", err);
    *kv_out = kv;
    return 0;
}

int slm_gguf_get_arr(const slm_gguf *g, const char *key, enum slm_gguf_value_type *elem_type,
                     uint64_t *count, slm_error *err)
{
    const struct gguf_kv *kv = NULL;
    int r = lookup_array(g, key, &kv, err);
    if (r < 0)
        return r;
    *elem_type = kv->v.arr.type;
    *count = kv->v.arr.count;
    return 0;
}

static int array_int(const slm_gguf *g, const char *key, uint64_t i, int64_t lo, uint64_t hi,
                     uint64_t *mag, bool *neg, slm_error *err)
{
    const struct gguf_kv *kv = NULL;
    int r = lookup_array(g, key, &kv, err);
    if (r < 0)
        return r;
    if (i >= kv->v.arr.count)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' has %llu elements, element "
                          "%llu was asked for", slm_gguf_name(g), key,
                          (unsigned long long)kv->v.arr.count, (unsigned long long)i);
    if (!is_signed(kv->v.arr.type) && !is_unsigned(kv->v.arr.type))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' is an array of %s, expected "
                          "integers", slm_gguf_name(g), key,
                          slm_gguf_value_type_name(kv->v.arr.type));
    struct gguf_kv elem;
    array_element(kv, i, &elem);
    return scalar_int(g, &elem, key, lo, hi, mag, neg, err);
}

int slm_gguf_arr_u32(const slm_gguf *g, const char *key, uint64_t i, uint32_t *out,
                     slm_error *err)
{
    uint64_t mag;
    bool neg;
    int r = array_int(g, key, i, 0, UINT32_MAX, &mag, &neg, err);
    if (r < 0)
        return r;
    *out = (uint32_t)mag;
    return 0;
}

int slm_gguf_arr_i64(const slm_gguf *g, const char *key, uint64_t i, int64_t *out,
                     slm_error *err)
{
    uint64_t mag;
    bool neg;
    int r = array_int(g, key, i, INT64_MIN, INT64_MAX, &mag, &neg, err);
    if (r < 0)
        return r;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

int slm_gguf_arr_f32(const slm_gguf *g, const char *key, uint64_t i, float *out,
                     slm_error *err)
{
    const struct gguf_kv *kv = NULL;
    int r = lookup_array(g, key, &kv, err);
    if (r < 0)
        return r;
    if (i >= kv->v.arr.count)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' has %llu elements, element "
                          "%llu was asked for", slm_gguf_name(g), key,
                          (unsigned long long)kv->v.arr.count, (unsigned long long)i);
    if (kv->v.arr.type != SLM_GGUF_F32 && kv->v.arr.type != SLM_GGUF_F64)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' is an array of %s, expected "
                          "floats", slm_gguf_name(g), key,
                          slm_gguf_value_type_name(kv->v.arr.type));
    struct gguf_kv elem;
    array_element(kv, i, &elem);
    *out = (float)elem.v.f;
    return 0;
}

int slm_gguf_arr_str(const slm_gguf *g, const char *key, uint64_t i, struct slm_gguf_str *out,
                     slm_error *err)
{
    const struct gguf_kv *kv = NULL;
    int r = lookup_array(g, key, &kv, err);
    if (r < 0)
        return r;
    if (kv->v.arr.type != SLM_GGUF_STRING)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' is an array of %s, expected "
                          "strings", slm_gguf_name(g), key,
                          slm_gguf_value_type_name(kv->v.arr.type));
    if (i >= kv->v.arr.count)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' has %llu elements, element "
                          "%llu was asked for", slm_gguf_name(g), key,
                          (unsigned long long)kv->v.arr.count, (unsigned long long)i);
    *out = kv->v.arr.strs[i];
    return 0;
}

int slm_gguf_get_u32_per_layer(const slm_gguf *g, const char *key, uint32_t n, uint32_t *out,
                               slm_error *err)
{
    const struct gguf_kv *kv = lookup(g, key);
    if (!kv)
        return -SLM_ERR_NOT_FOUND;
    if (kv->type != SLM_GGUF_ARRAY) {
        uint32_t v;
        int r = slm_gguf_get_u32(g, key, &v, err);
        if (r < 0)
            return r;
        for (uint32_t i = 0; i < n; i++)
            out[i] = v;
        return 0;
    }
    if (kv->v.arr.count != n)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' has %llu entries for %u "
                          "layers", slm_gguf_name(g), key, (unsigned long long)kv->v.arr.count,
                          n);
    for (uint32_t i = 0; i < n; i++) {
        int r = slm_gguf_arr_u32(g, key, i, &out[i], err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- index-based access ---- */

int slm_gguf_kv_scalar_u64(const slm_gguf *g, size_t i, uint64_t *out)
{
    const struct gguf_kv *kv = gguf_entry(g, i);
    if (!kv || !(is_unsigned(kv->type) || kv->type == SLM_GGUF_BOOL))
        return -SLM_ERR_INVALID;
    *out = kv->v.u;
    return 0;
}

int slm_gguf_kv_scalar_i64(const slm_gguf *g, size_t i, int64_t *out)
{
    const struct gguf_kv *kv = gguf_entry(g, i);
    if (!kv || !is_signed(kv->type))
        return -SLM_ERR_INVALID;
    *out = kv->v.i;
    return 0;
}

int slm_gguf_kv_scalar_f64(const slm_gguf *g, size_t i, double *out)
{
    const struct gguf_kv *kv = gguf_entry(g, i);
    if (!kv || (kv->type != SLM_GGUF_F32 && kv->type != SLM_GGUF_F64))
        return -SLM_ERR_INVALID;
    *out = kv->v.f;
    return 0;
}

int slm_gguf_kv_str(const slm_gguf *g, size_t i, struct slm_gguf_str *out)
{
    const struct gguf_kv *kv = gguf_entry(g, i);
    if (!kv || kv->type != SLM_GGUF_STRING)
        return -SLM_ERR_INVALID;
    *out = kv->v.str;
    return 0;
}

int slm_gguf_kv_arr(const slm_gguf *g, size_t i, enum slm_gguf_value_type *elem_type,
                    uint64_t *count)
{
    const struct gguf_kv *kv = gguf_entry(g, i);
    if (!kv || kv->type != SLM_GGUF_ARRAY)
        return -SLM_ERR_INVALID;
    *elem_type = kv->v.arr.type;
    *count = kv->v.arr.count;
    return 0;
}
