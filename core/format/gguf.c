/* GGUF reader: validation at open, checked accessors afterwards. See slm/gguf.h. */
#include "slm/gguf.h"

#include <stdlib.h>
#include <string.h>

#include "gguf_private.h"
#include "util/checked.h"
#include "util/cleanup.h"
#include "util/mapped_file.h"
#include "util/strmap.h"

#define GGUF_MAGIC 0x46554747u /* "GGUF" read as a little-endian u32 */


struct slm_gguf {
    char *name;
    slm_mapped_file *file; /* NULL for open_memory */
    const uint8_t *base;
    uint64_t size;
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset;
    size_t n_kv;
    struct gguf_kv *kv;
    slm_strmap kv_index;
    size_t n_tensors;
    struct slm_gguf_tensor *tensors;
    slm_strmap tensor_index;
};

/* ---- the cursor over untrusted bytes ---- */

struct cursor {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
    const char *name;
    slm_error *err;
};

static uint64_t left(const struct cursor *c) { return c->size - c->pos; }

static int truncated(struct cursor *c, const char *what)
{
    return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: truncated file: %s at byte %llu runs past "
                      "the end (%llu bytes)", c->name, what, (unsigned long long)c->pos,
                      (unsigned long long)c->size);
}

static int read_raw(struct cursor *c, void *out, size_t n, const char *what)
{
    if (left(c) < n)
        return truncated(c, what);
    memcpy(out, c->base + c->pos, n);
    c->pos += n;
    return 0;
}

static int read_u32(struct cursor *c, uint32_t *v, const char *what)
{
    return read_raw(c, v, 4, what);
}

static int read_u64(struct cursor *c, uint64_t *v, const char *what)
{
    return read_raw(c, v, 8, what);
}

static int read_str(struct cursor *c, struct slm_gguf_str *s, uint64_t max_len, const char *what)
{
    uint64_t len = 0;
    int r = read_u64(c, &len, what);
    if (r < 0)
        return r;
    if (len > max_len)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: %s at byte %llu is %llu bytes long "
                          "(limit %llu)", c->name, what, (unsigned long long)(c->pos - 8),
                          (unsigned long long)len, (unsigned long long)max_len);
    if (len > left(c))
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: %s at byte %llu claims %llu bytes but "
                          "only %llu remain", c->name, what, (unsigned long long)(c->pos - 8),
                          (unsigned long long)len, (unsigned long long)left(c));
    s->ptr = (const char *)c->base + c->pos;
    s->len = len;
    c->pos += len;
    return 0;
}

size_t gguf_scalar_size(uint32_t type)
{
    switch (type) {
    case SLM_GGUF_U8:
    case SLM_GGUF_I8:
    case SLM_GGUF_BOOL:
        return 1;
    case SLM_GGUF_U16:
    case SLM_GGUF_I16:
        return 2;
    case SLM_GGUF_U32:
    case SLM_GGUF_I32:
    case SLM_GGUF_F32:
        return 4;
    case SLM_GGUF_U64:
    case SLM_GGUF_I64:
    case SLM_GGUF_F64:
        return 8;
    default:
        return 0;
    }
}

const char *slm_gguf_value_type_name(uint32_t type)
{
    static const char *const names[SLM_GGUF_TYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64",
        "f64"};
    return type < SLM_GGUF_TYPE_COUNT ? names[type] : "unknown";
}

/* Decodes a little-endian scalar at p into the kv union. */
void gguf_decode_scalar(uint32_t type, const uint8_t *p, struct gguf_kv *kv)
{
    switch (type) {
    case SLM_GGUF_U8:
    case SLM_GGUF_BOOL:
        kv->v.u = p[0];
        break;
    case SLM_GGUF_I8:
        kv->v.i = (int8_t)p[0];
        break;
    case SLM_GGUF_U16: {
        uint16_t x;
        memcpy(&x, p, 2);
        kv->v.u = x;
        break;
    }
    case SLM_GGUF_I16: {
        int16_t x;
        memcpy(&x, p, 2);
        kv->v.i = x;
        break;
    }
    case SLM_GGUF_U32: {
        uint32_t x;
        memcpy(&x, p, 4);
        kv->v.u = x;
        break;
    }
    case SLM_GGUF_I32: {
        int32_t x;
        memcpy(&x, p, 4);
        kv->v.i = x;
        break;
    }
    case SLM_GGUF_F32: {
        float x;
        memcpy(&x, p, 4);
        kv->v.f = x;
        break;
    }
    case SLM_GGUF_U64:
        memcpy(&kv->v.u, p, 8);
        break;
    case SLM_GGUF_I64:
        memcpy(&kv->v.i, p, 8);
        break;
    case SLM_GGUF_F64:
        memcpy(&kv->v.f, p, 8);
        break;
    default:
        break;
    }
}

static int read_array(struct cursor *c, struct gguf_kv *kv)
{
    uint32_t etype = 0;
    uint64_t count = 0;
    int r;
    if ((r = read_u32(c, &etype, "array element type")) < 0 ||
        (r = read_u64(c, &count, "array length")) < 0)
        return r;
    if (etype == SLM_GGUF_ARRAY)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: key '%s' holds a nested array, which "
                          "slmd does not accept", c->name, kv->key);
    kv->v.arr.type = etype;
    kv->v.arr.count = count;
    if (etype == SLM_GGUF_STRING) {
        /* every string costs at least its 8-byte length: bounds the allocation below */
        if (count > left(c) / 8)
            return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: key '%s': array of %llu strings "
                              "cannot fit in the %llu bytes left", c->name, kv->key,
                              (unsigned long long)count, (unsigned long long)left(c));
        size_t n = (size_t)count;
        kv->v.arr.strs = calloc(n ? n : 1, sizeof(*kv->v.arr.strs));
        if (!kv->v.arr.strs)
            return slm_errorf(c->err, SLM_ERR_NOMEM, "%s: out of memory", c->name);
        for (size_t i = 0; i < n; i++)
            if ((r = read_str(c, &kv->v.arr.strs[i], UINT64_MAX, "array string")) < 0)
                return r;
        return 0;
    }
    size_t esize = gguf_scalar_size(etype);
    if (!esize)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: key '%s': unknown array element type "
                          "%u", c->name, kv->key, etype);
    uint64_t bytes;
    if (slm_mul_u64(count, esize, &bytes) || bytes > left(c))
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: key '%s': array of %llu %s elements "
                          "runs past the end of the file", c->name, kv->key,
                          (unsigned long long)count, slm_gguf_value_type_name(etype));
    kv->v.arr.data = c->base + c->pos;
    if (etype == SLM_GGUF_BOOL)
        for (uint64_t i = 0; i < count; i++)
            if (kv->v.arr.data[i] > 1)
                return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: key '%s': bool element %llu "
                                  "is %u, not 0 or 1", c->name, kv->key,
                                  (unsigned long long)i, kv->v.arr.data[i]);
    c->pos += bytes;
    return 0;
}

static int read_value(struct cursor *c, struct gguf_kv *kv)
{
    if (kv->type == SLM_GGUF_STRING)
        return read_str(c, &kv->v.str, UINT64_MAX, "string value");
    if (kv->type == SLM_GGUF_ARRAY)
        return read_array(c, kv);
    size_t n = gguf_scalar_size(kv->type);
    if (!n)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: key '%s' has unknown value type %u",
                          c->name, kv->key, (unsigned)kv->type);
    if (left(c) < n)
        return truncated(c, "value");
    gguf_decode_scalar(kv->type, c->base + c->pos, kv);
    if (kv->type == SLM_GGUF_BOOL && kv->v.u > 1)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: key '%s': bool value is %llu, not 0 "
                          "or 1", c->name, kv->key, (unsigned long long)kv->v.u);
    c->pos += n;
    return 0;
}

static char *dup_name(struct cursor *c, const struct slm_gguf_str *s, const char *what)
{
    if (s->len == 0) {
        slm_errorf(c->err, SLM_ERR_FORMAT, "%s: empty %s at byte %llu", c->name, what,
                   (unsigned long long)(c->pos - 8));
        return NULL;
    }
    if (memchr(s->ptr, '\0', (size_t)s->len)) {
        slm_errorf(c->err, SLM_ERR_FORMAT, "%s: %s at byte %llu contains a NUL byte", c->name,
                   what, (unsigned long long)(c->pos - 8 - s->len));
        return NULL;
    }
    char *out = malloc((size_t)s->len + 1);
    if (!out) {
        slm_errorf(c->err, SLM_ERR_NOMEM, "%s: out of memory", c->name);
        return NULL;
    }
    memcpy(out, s->ptr, (size_t)s->len);
    out[s->len] = '\0';
    return out;
}

static int read_header(slm_gguf *g, struct cursor *c, uint64_t *n_tensors, uint64_t *n_kv)
{
    uint32_t magic = 0;
    int r;
    if ((r = read_u32(c, &magic, "magic")) < 0)
        return r;
    if (magic != GGUF_MAGIC)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: not a GGUF file (bad magic)", c->name);
    if ((r = read_u32(c, &g->version, "version")) < 0)
        return r;
    if (g->version == 1)
        return slm_errorf(c->err, SLM_ERR_UNSUPPORTED, "%s: GGUF version 1 is not supported; "
                          "convert the model again with a current tool", c->name);
    if (g->version > 0xffff)
        return slm_errorf(c->err, SLM_ERR_UNSUPPORTED, "%s: big-endian GGUF files are not "
                          "supported", c->name);
    if (g->version != 2 && g->version != 3)
        return slm_errorf(c->err, SLM_ERR_UNSUPPORTED, "%s: unknown GGUF version %u",
                          c->name, g->version);
    if ((r = read_u64(c, n_tensors, "tensor count")) < 0 ||
        (r = read_u64(c, n_kv, "metadata count")) < 0)
        return r;
    /* smallest possible entries: a key of 1 byte + type + 1-byte value; a tensor name of
     * 1 byte + n_dims + one dimension + type + offset */
    if (*n_kv > left(c) / (8 + 1 + 4 + 1))
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: header claims %llu metadata entries, "
                          "more than the file can hold", c->name, (unsigned long long)*n_kv);
    if (*n_tensors > left(c) / (8 + 1 + 4 + 8 + 4 + 8))
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: header claims %llu tensors, more than "
                          "the file can hold", c->name, (unsigned long long)*n_tensors);
    return 0;
}

static int read_metadata(slm_gguf *g, struct cursor *c, uint64_t n_kv)
{
    g->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof(*g->kv));
    if (!g->kv || !slm_strmap_init(&g->kv_index, (size_t)n_kv))
        return slm_errorf(c->err, SLM_ERR_NOMEM, "%s: out of memory", c->name);
    for (uint64_t i = 0; i < n_kv; i++) {
        struct gguf_kv *kv = &g->kv[i];
        struct slm_gguf_str key;
        uint32_t type = 0;
        int r;
        if ((r = read_str(c, &key, SLM_GGUF_MAX_KEY_LEN, "metadata key")) < 0)
            return r;
        if (!(kv->key = dup_name(c, &key, "metadata key")))
            return -(int)c->err->status;
        g->n_kv = (size_t)i + 1; /* from here on, deinit frees this entry */
        if ((r = read_u32(c, &type, "metadata value type")) < 0)
            return r;
        if (type >= SLM_GGUF_TYPE_COUNT)
            return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: key '%s' has unknown value type %u",
                              c->name, kv->key, type);
        kv->type = type;
        if ((r = read_value(c, kv)) < 0)
            return r;
        if (!slm_strmap_put(&g->kv_index, kv->key, strlen(kv->key), (int64_t)i, NULL)) {
            if (slm_strmap_get(&g->kv_index, kv->key, strlen(kv->key), NULL))
                return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: duplicate metadata key '%s'",
                                  c->name, kv->key);
            return slm_errorf(c->err, SLM_ERR_NOMEM, "%s: out of memory", c->name);
        }
    }
    return 0;
}

static int read_alignment(slm_gguf *g, struct cursor *c)
{
    g->alignment = SLM_GGUF_DEFAULT_ALIGNMENT;
    int64_t idx = slm_gguf_find(g, "general.alignment");
    if (idx < 0)
        return 0;
    const struct gguf_kv *kv = &g->kv[idx];
    if (kv->type != SLM_GGUF_U32)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: general.alignment must be u32, not %s",
                          c->name, slm_gguf_value_type_name(kv->type));
    if (kv->v.u == 0 || !slm_is_pow2_u64(kv->v.u) || kv->v.u > SLM_GGUF_MAX_ALIGNMENT)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: general.alignment %llu is not a power "
                          "of two between 1 and %u", c->name, (unsigned long long)kv->v.u,
                          SLM_GGUF_MAX_ALIGNMENT);
    g->alignment = (uint32_t)kv->v.u;
    return 0;
}

static int read_tensor_info(slm_gguf *g, struct cursor *c, struct slm_gguf_tensor *t,
                            uint64_t *rel_offset)
{
    struct slm_gguf_str name;
    uint32_t n_dims = 0, type = 0;
    int r;
    if ((r = read_str(c, &name, SLM_GGUF_MAX_TENSOR_NAME_LEN, "tensor name")) < 0)
        return r;
    char *copy = dup_name(c, &name, "tensor name");
    if (!copy)
        return -(int)c->err->status;
    t->name = copy;
    if ((r = read_u32(c, &n_dims, "tensor dimension count")) < 0)
        return r;
    if (n_dims == 0 || n_dims > SLM_GGUF_MAX_DIMS)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: tensor '%s' has %u dimensions (1 to "
                          "%u allowed)", c->name, t->name, n_dims, SLM_GGUF_MAX_DIMS);
    t->n_dims = n_dims;
    uint64_t elements = 1;
    for (uint32_t d = 0; d < SLM_GGUF_MAX_DIMS; d++)
        t->ne[d] = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        uint64_t ne = 0;
        if ((r = read_u64(c, &ne, "tensor dimension")) < 0)
            return r;
        if (ne == 0 || ne > (uint64_t)INT64_MAX)
            return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: tensor '%s' dimension %u is %llu",
                              c->name, t->name, d, (unsigned long long)ne);
        if (slm_mul_u64(elements, ne, &elements) || elements > (uint64_t)INT64_MAX)
            return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: tensor '%s': element count "
                              "overflows", c->name, t->name);
        t->ne[d] = (int64_t)ne;
    }
    if ((r = read_u32(c, &type, "tensor type")) < 0)
        return r;
    if (!slm_type_known(type))
        return slm_errorf(c->err, SLM_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s, which "
                          "slmd does not support", c->name, t->name, slm_type_name(type));
    t->type = type;
    uint64_t row_bytes;
    if (!slm_type_row_bytes(t->type, (uint64_t)t->ne[0], &row_bytes))
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: tensor '%s': row of %lld elements is "
                          "not a whole number of %s blocks of %u", c->name, t->name,
                          (long long)t->ne[0], slm_type_name(type),
                          slm_type_block_size(t->type));
    if (slm_mul_u64(row_bytes, elements / (uint64_t)t->ne[0], &t->nbytes))
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: tensor '%s': byte size overflows",
                          c->name, t->name);
    if ((r = read_u64(c, rel_offset, "tensor offset")) < 0)
        return r;
    if (*rel_offset % g->alignment != 0)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: tensor '%s' offset %llu is not a "
                          "multiple of the alignment %u", c->name, t->name,
                          (unsigned long long)*rel_offset, g->alignment);
    return 0;
}

static int cmp_tensor_offset(const void *a, const void *b)
{
    const struct slm_gguf_tensor *x = *(const struct slm_gguf_tensor *const *)a;
    const struct slm_gguf_tensor *y = *(const struct slm_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int check_overlaps(slm_gguf *g, struct cursor *c)
{
    if (g->n_tensors < 2)
        return 0;
    _cleanup_free_ struct slm_gguf_tensor **order = malloc(g->n_tensors * sizeof(*order));
    if (!order)
        return slm_errorf(c->err, SLM_ERR_NOMEM, "%s: out of memory", c->name);
    for (size_t i = 0; i < g->n_tensors; i++)
        order[i] = &g->tensors[i];
    qsort(order, g->n_tensors, sizeof(*order), cmp_tensor_offset);
    for (size_t i = 1; i < g->n_tensors; i++)
        if (order[i - 1]->offset + order[i - 1]->nbytes > order[i]->offset)
            return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap",
                              c->name, order[i - 1]->name, order[i]->name);
    return 0;
}

static int read_tensors(slm_gguf *g, struct cursor *c, uint64_t n_tensors)
{
    g->tensors = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof(*g->tensors));
    _cleanup_free_ uint64_t *rel = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof(*rel));
    if (!g->tensors || !rel || !slm_strmap_init(&g->tensor_index, (size_t)n_tensors))
        return slm_errorf(c->err, SLM_ERR_NOMEM, "%s: out of memory", c->name);
    int r;
    for (uint64_t i = 0; i < n_tensors; i++) {
        g->n_tensors = (size_t)i + 1;
        struct slm_gguf_tensor *t = &g->tensors[i];
        if ((r = read_tensor_info(g, c, t, &rel[i])) < 0)
            return r;
        if (!slm_strmap_put(&g->tensor_index, t->name, strlen(t->name), (int64_t)i, NULL)) {
            if (slm_strmap_get(&g->tensor_index, t->name, strlen(t->name), NULL))
                return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: duplicate tensor name '%s'",
                                  c->name, t->name);
            return slm_errorf(c->err, SLM_ERR_NOMEM, "%s: out of memory", c->name);
        }
    }
    if (slm_align_up_u64(c->pos, g->alignment, &g->data_offset))
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: data offset overflows", c->name);
    if (n_tensors && g->data_offset > c->size)
        return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: truncated file: the tensor data "
                          "section would start at byte %llu, past the end (%llu bytes)",
                          c->name, (unsigned long long)g->data_offset,
                          (unsigned long long)c->size);
    for (size_t i = 0; i < g->n_tensors; i++) {
        struct slm_gguf_tensor *t = &g->tensors[i];
        uint64_t end;
        if (slm_add_u64(g->data_offset, rel[i], &t->offset) ||
            slm_add_u64(t->offset, t->nbytes, &end) || end > c->size)
            return slm_errorf(c->err, SLM_ERR_FORMAT, "%s: tensor '%s' (%llu bytes at data "
                              "offset %llu) runs past the end of the file", c->name, t->name,
                              (unsigned long long)t->nbytes, (unsigned long long)rel[i]);
        t->data = c->base + t->offset;
    }
    return check_overlaps(g, c);
}

static int parse(slm_gguf *g, slm_error *err)
{
    struct cursor c = {.base = g->base, .size = g->size, .name = g->name, .err = err};
    uint64_t n_tensors = 0, n_kv = 0;
    int r;
    if ((r = read_header(g, &c, &n_tensors, &n_kv)) < 0 || (r = read_metadata(g, &c, n_kv)) < 0 ||
        (r = read_alignment(g, &c)) < 0 || (r = read_tensors(g, &c, n_tensors)) < 0)
        return r;
    return 0;
}

static slm_gguf *gguf_new(const char *name, slm_error *err)
{
    slm_gguf *g = calloc(1, sizeof(*g));
    if (!g || !(g->name = strdup(name))) {
        free(g);
        slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    return g;
}

slm_gguf *slm_gguf_open_memory(const void *data, size_t size, const char *name,
                               slm_error *err)
{
    slm_error local;
    if (!err)
        err = &local;
    slm_gguf *g = gguf_new(name ? name : "<memory>", err);
    if (!g)
        return NULL;
    g->base = data;
    g->size = size;
    if (parse(g, err) < 0) {
        slm_gguf_close(g);
        return NULL;
    }
    return g;
}

slm_gguf *slm_gguf_open(const char *path, slm_error *err)
{
    slm_error local;
    if (!err)
        err = &local;
    slm_mapped_file *mf = slm_mapped_file_open(path, err);
    if (!mf)
        return NULL;
    slm_gguf *g = gguf_new(path, err);
    if (!g) {
        slm_mapped_file_close(mf);
        return NULL;
    }
    g->file = mf;
    g->base = mf->data;
    g->size = mf->size;
    if (parse(g, err) < 0) {
        slm_gguf_close(g);
        return NULL;
    }
    return g;
}

void slm_gguf_close(slm_gguf *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        if (g->kv[i].type == SLM_GGUF_ARRAY)
            free(g->kv[i].v.arr.strs);
    }
    free(g->kv);
    for (size_t i = 0; i < g->n_tensors; i++)
        free((char *)g->tensors[i].name);
    free(g->tensors);
    slm_strmap_deinit(&g->kv_index);
    slm_strmap_deinit(&g->tensor_index);
    slm_mapped_file_close(g->file);
    free(g->name);
    free(g);
}

const char *slm_gguf_name(const slm_gguf *g) { return g->name; }
uint32_t slm_gguf_version(const slm_gguf *g) { return g->version; }
uint32_t slm_gguf_alignment(const slm_gguf *g) { return g->alignment; }
uint64_t slm_gguf_data_offset(const slm_gguf *g) { return g->data_offset; }
uint64_t slm_gguf_file_size(const slm_gguf *g) { return g->size; }
struct slm_mapped_file *slm_gguf_mapping(const slm_gguf *g) { return g->file; }

size_t slm_gguf_n_kv(const slm_gguf *g) { return g->n_kv; }

const struct gguf_kv *gguf_entry(const slm_gguf *g, size_t i)
{
    return i < g->n_kv ? &g->kv[i] : NULL;
}

const char *slm_gguf_key(const slm_gguf *g, size_t i) { return i < g->n_kv ? g->kv[i].key : NULL; }

enum slm_gguf_value_type slm_gguf_kv_type(const slm_gguf *g, size_t i)
{
    return i < g->n_kv ? g->kv[i].type : SLM_GGUF_TYPE_COUNT;
}

int64_t slm_gguf_find(const slm_gguf *g, const char *key)
{
    int64_t idx;
    if (!key || !slm_strmap_get(&g->kv_index, key, strlen(key), &idx))
        return -1;
    return idx;
}

bool slm_gguf_has(const slm_gguf *g, const char *key) { return slm_gguf_find(g, key) >= 0; }

size_t slm_gguf_n_tensors(const slm_gguf *g) { return g->n_tensors; }

const struct slm_gguf_tensor *slm_gguf_tensor(const slm_gguf *g, size_t i)
{
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const struct slm_gguf_tensor *slm_gguf_find_tensor(const slm_gguf *g, const char *name)
{
    int64_t idx;
    if (!name || !slm_strmap_get(&g->tensor_index, name, strlen(name), &idx))
        return NULL;
    return &g->tensors[idx];
}
