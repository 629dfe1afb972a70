/* Binding safetensors tensors as encoder weights: shape checks against the config, dtype
 * to tensor type, and a copy only when a tensor cannot be used in place (misaligned data,
 * or a vector that is not F32). */
#include <stdio.h>
#include <string.h>

#include "hf_internal.h"
#include "kernels/kernels.h"

static const struct slm_st_tensor *find(struct hf_binder *b, const char *name, bool required,
                                        slm_error *err, int *r)
{
    const struct slm_st_tensor *t = slm_safetensors_find(b->st, name);
    *r = 0;
    if (!t && required)
        *r = slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' is missing (%s)",
                        slm_safetensors_name(b->st), name, b->what);
    return t;
}

static const char *shape_text(char *buf, size_t cap, const struct slm_st_tensor *t)
{
    size_t o = 0;
    buf[o++] = '[';
    for (uint32_t i = 0; i < t->n_dims && o + 24 < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    snprintf(buf + o, cap - o, "]");
    return buf;
}

static int float_type(struct hf_binder *b, const struct slm_st_tensor *t, enum slm_type *type,
                      slm_error *err)
{
    if (!slm_st_dtype_to_type(t->dtype, type))
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: tensor '%s' has dtype %s; weights must "
                          "be F32, F16 or BF16", slm_safetensors_name(b->st), t->name,
                          slm_st_dtype_name(t->dtype));
    return 0;
}

int hf_bind_matrix(struct hf_binder *b, const char *name, int64_t n_in, int64_t n_out,
                   bool required, struct slm_weight *w, slm_error *err)
{
    int r;
    memset(w, 0, sizeof(*w));
    const struct slm_st_tensor *t = find(b, name, required, err, &r);
    if (!t)
        return r;
    char shape[128];
    if (t->n_dims != 2 || t->shape[0] != n_out || t->shape[1] != n_in)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' has shape %s, expected [%lld, "
                          "%lld] (%s)", slm_safetensors_name(b->st), name,
                          shape_text(shape, sizeof(shape), t), (long long)n_out,
                          (long long)n_in, b->what);
    enum slm_type type;
    if ((r = float_type(b, t, &type, err)) < 0)
        return r;
    const void *data = t->data;
    size_t elem = slm_type_block_bytes(type);
    if ((uintptr_t)data % elem) {
        /* the header length decides the data's alignment; writers pad it, but a file need
         * not be, and unaligned float loads are undefined behaviour in C */
        void *copy = model_alloc(b->m, (size_t)t->nbytes);
        if (!copy)
            return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", b->m->path);
        memcpy(copy, data, (size_t)t->nbytes);
        data = copy;
    }
    if (!slm_weight_init(w, type, n_in, n_out, data))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' is too large",
                          slm_safetensors_name(b->st), name);
    b->m->info.n_params += t->n_elements;
    b->m->info.weight_bytes += t->nbytes;
    return 0;
}

int hf_bind_vector(struct hf_binder *b, const char *name, int64_t n, bool required,
                   const float **out, slm_error *err)
{
    int r;
    *out = NULL;
    const struct slm_st_tensor *t = find(b, name, required, err, &r);
    if (!t)
        return r;
    char shape[128];
    if (t->n_dims != 1 || t->shape[0] != n)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' has shape %s, expected [%lld] "
                          "(%s)", slm_safetensors_name(b->st), name,
                          shape_text(shape, sizeof(shape), t), (long long)n, b->what);
    enum slm_type type;
    if ((r = float_type(b, t, &type, err)) < 0)
        return r;
    b->m->info.n_params += t->n_elements;
    b->m->info.weight_bytes += t->nbytes;
    if (type == SLM_TYPE_F32 && (uintptr_t)t->data % sizeof(float) == 0) {
        *out = t->data;
        return 0;
    }
    float *copy = model_alloc(b->m, (size_t)n * sizeof(float));
    if (!copy)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", b->m->path);
    /* an aligned staging copy first: the converters read whole elements */
    void *raw = model_alloc(b->m, (size_t)t->nbytes);
    if (!raw)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", b->m->path);
    memcpy(raw, t->data, (size_t)t->nbytes);
    slm_traits(type)->to_float(raw, copy, n);
    *out = copy;
    return 0;
}

/* Checkpoints written by older transformers versions name LayerNorm parameters gamma and
 * beta; Hugging Face renames them when loading, and so do we. */
int hf_bind_norm(struct hf_binder *b, const char *prefix, int64_t n, const float **w,
                 const float **bias, slm_error *err)
{
    char name[256], legacy[256];
    snprintf(name, sizeof(name), "%s.weight", prefix);
    snprintf(legacy, sizeof(legacy), "%s.gamma", prefix);
    bool old = !slm_safetensors_find(b->st, name) && slm_safetensors_find(b->st, legacy);
    int r = hf_bind_vector(b, old ? legacy : name, n, true, w, err);
    if (r < 0)
        return r;
    snprintf(name, sizeof(name), "%s.%s", prefix, old ? "beta" : "bias");
    return hf_bind_vector(b, name, n, true, bias, err);
}

/* weight [n_out, n_in] and bias [n_out] of a Linear layer called `prefix`. */
int hf_bind_linear(struct hf_binder *b, const char *prefix, int64_t n_in, int64_t n_out,
                   struct slm_weight *w, const float **bias, slm_error *err)
{
    char name[256];
    snprintf(name, sizeof(name), "%s.weight", prefix);
    int r = hf_bind_matrix(b, name, n_in, n_out, true, w, err);
    if (r < 0)
        return r;
    snprintf(name, sizeof(name), "%s.bias", prefix);
    return hf_bind_vector(b, name, n_out, true, bias, err);
}

/* The row count of a 2-D tensor (the classifier's label count), or -1 when absent. */
int64_t hf_tensor_rows(struct hf_binder *b, const char *name)
{
    const struct slm_st_tensor *t = slm_safetensors_find(b->st, name);
    return t && t->n_dims == 2 ? t->shape[0] : -1;
}
