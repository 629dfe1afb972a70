/* GGUF v3 writer: metadata in memory, tensor data produced by callbacks while writing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf_private.h"
#include "slm/gguf.h"
#include "util/checked.h"
#include "util/cleanup.h"

#define WRITE_ALIGNMENT 32u

struct wkv {
    char *key;
    uint8_t *value; /* the encoded value: type (u32) + payload, as in the file */
    size_t len;
};

struct wtensor {
    char *name;
    enum slm_type type;
    uint32_t n_dims;
    int64_t ne[SLM_GGUF_MAX_DIMS];
    uint64_t nbytes, offset;
    slm_gguf_fill_fn fill;
    void *userdata;
};

struct slm_gguf_writer {
    struct wkv *kv;
    size_t n_kv, cap_kv;
    struct wtensor *t;
    size_t n_t, cap_t;
    bool oom;
};

/* a growable byte buffer for encoding one value */
struct buf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void put(struct buf *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void put_u32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(struct buf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(struct buf *b, const char *s, size_t n)
{
    put_u64(b, n);
    put(b, s, n);
}

slm_gguf_writer *slm_gguf_writer_new(void) { return calloc(1, sizeof(slm_gguf_writer)); }

void slm_gguf_writer_free(slm_gguf_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].value);
    }
    for (size_t i = 0; i < w->n_t; i++)
        free(w->t[i].name);
    free(w->kv);
    free(w->t);
    free(w);
}

/* Takes ownership of b's bytes. */
static int set_value(slm_gguf_writer *w, const char *key, struct buf *b)
{
    if (b->oom) {
        free(b->p);
        w->oom = true;
        return -SLM_ERR_NOMEM;
    }
    for (size_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->kv[i].key, key)) {
            free(w->kv[i].value);
            w->kv[i].value = b->p;
            w->kv[i].len = b->len;
            return 0;
        }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 32;
        struct wkv *kv = realloc(w->kv, cap * sizeof(*kv));
        if (!kv) {
            free(b->p);
            w->oom = true;
            return -SLM_ERR_NOMEM;
        }
        w->kv = kv;
        w->cap_kv = cap;
    }
    char *k = strdup(key);
    if (!k) {
        free(b->p);
        w->oom = true;
        return -SLM_ERR_NOMEM;
    }
    w->kv[w->n_kv++] = (struct wkv){k, b->p, b->len};
    return 0;
}

int slm_gguf_writer_set_u32(slm_gguf_writer *w, const char *key, uint32_t v)
{
    struct buf b = {0};
    put_u32(&b, SLM_GGUF_U32);
    put_u32(&b, v);
    return set_value(w, key, &b);
}

int slm_gguf_writer_set_i32(slm_gguf_writer *w, const char *key, int32_t v)
{
    struct buf b = {0};
    put_u32(&b, SLM_GGUF_I32);
    put(&b, &v, 4);
    return set_value(w, key, &b);
}

int slm_gguf_writer_set_f32(slm_gguf_writer *w, const char *key, float v)
{
    struct buf b = {0};
    put_u32(&b, SLM_GGUF_F32);
    put(&b, &v, 4);
    return set_value(w, key, &b);
}

int slm_gguf_writer_set_bool(slm_gguf_writer *w, const char *key, bool v)
{
    struct buf b = {0};
    uint8_t x = v;
    put_u32(&b, SLM_GGUF_BOOL);
    put(&b, &x, 1);
    return set_value(w, key, &b);
}

int slm_gguf_writer_set_str(slm_gguf_writer *w, const char *key, const char *v)
{
    struct buf b = {0};
    put_u32(&b, SLM_GGUF_STRING);
    put_str(&b, v, strlen(v));
    return set_value(w, key, &b);
}

int slm_gguf_writer_set_arr_str(slm_gguf_writer *w, const char *key, const char *const *v,
                                size_t n)
{
    struct buf b = {0};
    put_u32(&b, SLM_GGUF_ARRAY);
    put_u32(&b, SLM_GGUF_STRING);
    put_u64(&b, n);
    for (size_t i = 0; i < n; i++)
        put_str(&b, v[i], strlen(v[i]));
    return set_value(w, key, &b);
}

int slm_gguf_writer_set_arr_i32(slm_gguf_writer *w, const char *key, const int32_t *v, size_t n)
{
    struct buf b = {0};
    put_u32(&b, SLM_GGUF_ARRAY);
    put_u32(&b, SLM_GGUF_I32);
    put_u64(&b, n);
    put(&b, v, n * 4);
    return set_value(w, key, &b);
}

int slm_gguf_writer_set_arr_f32(slm_gguf_writer *w, const char *key, const float *v, size_t n)
{
    struct buf b = {0};
    put_u32(&b, SLM_GGUF_ARRAY);
    put_u32(&b, SLM_GGUF_F32);
    put_u64(&b, n);
    put(&b, v, n * 4);
    return set_value(w, key, &b);
}

int slm_gguf_writer_copy_kv(slm_gguf_writer *w, const slm_gguf *from, size_t i)
{
    const struct gguf_kv *kv = gguf_entry(from, i);
    if (!kv)
        return -SLM_ERR_INVALID;
    struct buf b = {0};
    put_u32(&b, kv->type);
    if (kv->type == SLM_GGUF_STRING) {
        put_str(&b, kv->v.str.ptr, (size_t)kv->v.str.len);
    } else if (kv->type == SLM_GGUF_ARRAY) {
        put_u32(&b, kv->v.arr.type);
        put_u64(&b, kv->v.arr.count);
        if (kv->v.arr.type == SLM_GGUF_STRING)
            for (uint64_t j = 0; j < kv->v.arr.count; j++)
                put_str(&b, kv->v.arr.strs[j].ptr, (size_t)kv->v.arr.strs[j].len);
        else
            put(&b, kv->v.arr.data, (size_t)kv->v.arr.count * gguf_scalar_size(kv->v.arr.type));
    } else {
        /* re-encode the scalar from the decoded union (little-endian) */
        uint8_t raw[8];
        size_t n = gguf_scalar_size(kv->type);
        switch (kv->type) {
        case SLM_GGUF_F32: {
            float f = (float)kv->v.f;
            memcpy(raw, &f, 4);
            break;
        }
        case SLM_GGUF_F64: memcpy(raw, &kv->v.f, 8); break;
        case SLM_GGUF_I8:
        case SLM_GGUF_I16:
        case SLM_GGUF_I32:
        case SLM_GGUF_I64: memcpy(raw, &kv->v.i, n); break;
        default: memcpy(raw, &kv->v.u, n); break;
        }
        put(&b, raw, n);
    }
    return set_value(w, kv->key, &b);
}

int slm_gguf_writer_add_tensor(slm_gguf_writer *w, const char *name, enum slm_type type,
                               uint32_t n_dims, const int64_t *ne, slm_gguf_fill_fn fill,
                               void *userdata, slm_error *err)
{
    if (n_dims == 0 || n_dims > SLM_GGUF_MAX_DIMS)
        return slm_errorf(err, SLM_ERR_INVALID, "tensor '%s': %u dimensions", name, n_dims);
    uint64_t rows = 1, row_bytes;
    for (uint32_t d = 1; d < n_dims; d++)
        if (ne[d] <= 0 || slm_mul_u64(rows, (uint64_t)ne[d], &rows))
            return slm_errorf(err, SLM_ERR_INVALID, "tensor '%s': bad shape", name);
    struct wtensor t = {.type = type, .n_dims = n_dims, .fill = fill, .userdata = userdata};
    if (ne[0] <= 0 || !slm_type_row_bytes(type, (uint64_t)ne[0], &row_bytes) ||
        slm_mul_u64(row_bytes, rows, &t.nbytes))
        return slm_errorf(err, SLM_ERR_INVALID, "tensor '%s': rows of %lld are not whole %s "
                          "blocks", name, (long long)ne[0], slm_type_name(type));
    for (uint32_t d = 0; d < SLM_GGUF_MAX_DIMS; d++)
        t.ne[d] = d < n_dims ? ne[d] : 1;
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 64;
        struct wtensor *bigger = realloc(w->t, cap * sizeof(*bigger));
        if (!bigger)
            return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        w->t = bigger;
        w->cap_t = cap;
    }
    if (!(t.name = strdup(name)))
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    w->t[w->n_t++] = t;
    return 0;
}

static int write_all(FILE *f, const void *p, size_t n, const char *path, slm_error *err)
{
    if (n && fwrite(p, 1, n, f) != n)
        return slm_errorf(err, SLM_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

static int write_padding(FILE *f, uint64_t pos, const char *path, slm_error *err)
{
    static const uint8_t zeros[WRITE_ALIGNMENT];
    size_t pad = (size_t)((WRITE_ALIGNMENT - pos % WRITE_ALIGNMENT) % WRITE_ALIGNMENT);
    return write_all(f, zeros, pad, path, err);
}

static int write_file(slm_gguf_writer *w, FILE *f, const char *path, slm_error *err)
{
    struct buf h = {0};
    put(&h, "GGUF", 4);
    put_u32(&h, 3);
    put_u64(&h, w->n_t);
    put_u64(&h, w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_str(&h, w->kv[i].key, strlen(w->kv[i].key));
        put(&h, w->kv[i].value, w->kv[i].len);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        struct wtensor *t = &w->t[i];
        put_str(&h, t->name, strlen(t->name));
        put_u32(&h, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++)
            put_u64(&h, (uint64_t)t->ne[d]);
        put_u32(&h, t->type);
        t->offset = offset;
        put_u64(&h, offset);
        offset += t->nbytes;
        offset = (offset + WRITE_ALIGNMENT - 1) / WRITE_ALIGNMENT * WRITE_ALIGNMENT;
    }
    if (h.oom) {
        free(h.p);
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    }
    int r = write_all(f, h.p, h.len, path, err);
    uint64_t pos = h.len;
    free(h.p);
    if (r < 0 || (r = write_padding(f, pos, path, err)) < 0)
        return r;
    for (size_t i = 0; i < w->n_t; i++) {
        struct wtensor *t = &w->t[i];
        size_t n;
        if (slm_u64_to_size(t->nbytes, &n))
            return slm_errorf(err, SLM_ERR_LIMIT, "tensor '%s' is too large", t->name);
        _cleanup_free_ void *data = malloc(n ? n : 1);
        if (!data)
            return slm_errorf(err, SLM_ERR_NOMEM, "tensor '%s': out of memory", t->name);
        if ((r = t->fill(t->userdata, i, data, n, err)) < 0 ||
            (r = write_all(f, data, n, path, err)) < 0 ||
            (r = write_padding(f, t->nbytes, path, err)) < 0)
            return r;
    }
    return 0;
}

int slm_gguf_writer_write(slm_gguf_writer *w, const char *path, slm_error *err)
{
    if (w->oom)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory while building %s", path);
    _cleanup_free_ char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp", path) < 0)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return slm_errorf(err, SLM_ERR_IO, "%s: %s", tmp, strerror(errno));
    int r = write_file(w, f, path, err);
    if (fclose(f) != 0 && r == 0)
        r = slm_errorf(err, SLM_ERR_IO, "%s: %s", tmp, strerror(errno));
    if (r == 0 && rename(tmp, path) < 0)
        r = slm_errorf(err, SLM_ERR_IO, "%s: %s", path, strerror(errno));
    if (r < 0)
        unlink(tmp);
    return r;
}
