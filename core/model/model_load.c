/* Loading a model: GGUF file or Hugging Face directory → architecture table entry →
 * its loader binds metadata and tensors. Also the helpers every loader uses. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernels/kernels.h"
#include "model_internal.h"
#include "quant/fp16.h"
#include "quant/quants.h"
#include "util/checked.h"
#include "util/cleanup.h"
#include "util/mapped_file.h"

void *model_alloc(slm_model *m, size_t n)
{
    size_t total;
    if (slm_add_size(sizeof(struct owned_block), n, &total))
        return NULL;
    struct owned_block *b = calloc(1, total);
    if (!b)
        return NULL;
    b->next = m->owned;
    m->owned = b;
    return b->data;
}

char *model_strdup(slm_model *m, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = model_alloc(m, n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

const char *tensor_name(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return buf;
}

static const char *model_file(const slm_model *m) { return m->path; }

/* Q4_0 matrices are regrouped by sixteen blocks (Q4_0_R16, quant/blocks.h) where the
 * active kernels have a tile for that layout (x86 AVX2 and AVX-512): their dots then
 * convert and scale a block sum per 32-bit lane, sixteen or eight blocks per instruction,
 * which made prompt processing and decode of Q4_0 models faster (bench/README.md). Only in a private
 * copy of the file (a mapping of the page cache is never written), only for rows of whole
 * 512-element groups, and never for the embedding table, whose rows are read one at a
 * time. Returns the type the weight is used as. */
static enum slm_type regroup_if_it_pays(slm_model *m, const char *name,
                                        const struct slm_gguf_tensor *t, int64_t n_in)
{
    const struct slm_type_traits *r16 = slm_traits(SLM_TYPE_Q4_0_R16);
    if (t->type != SLM_TYPE_Q4_0 || n_in % QK_R16 || !r16->gemm_tile ||
        strcmp(name, "token_embd.weight") == 0)
        return t->type;
    for (size_t i = 0; i < m->n_regrouped; i++)
        if (m->regrouped[i] == t->data)
            return SLM_TYPE_Q4_0_R16;
    struct slm_mapped_file *file = slm_gguf_mapping(m->gguf);
    if (!m->regrouped) {
        m->regrouped = model_alloc(m, slm_gguf_n_tensors(m->gguf) * sizeof(*m->regrouped));
        if (!m->regrouped)
            return t->type; /* the file layout works too */
    }
    if (!m->gguf_writable) {
        if (slm_mapped_file_set_writable(file, true) < 0)
            return t->type; /* weights: mapped */
        m->gguf_writable = true;
    }
    slm_q4_0_regroup_r16((void *)(uintptr_t)t->data, (size_t)(t->nbytes / sizeof(block_q4_0_r16)));
    m->regrouped[m->n_regrouped++] = t->data;
    return SLM_TYPE_Q4_0_R16;
}

int model_weight(slm_model *m, const char *name, int64_t n_in, int64_t n_out, bool required,
                 struct slm_weight *w, slm_error *err)
{
    memset(w, 0, sizeof(*w));
    const struct slm_gguf_tensor *t = slm_gguf_find_tensor(m->gguf, name);
    if (!t) {
        if (!required)
            return 0;
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' is missing", model_file(m),
                          name);
    }
    if (t->n_dims > 2 || t->ne[0] != n_in || t->ne[1] != n_out)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' has shape [%lld, %lld], "
                          "expected [%lld, %lld]", model_file(m), name, (long long)t->ne[0],
                          (long long)t->ne[1], (long long)n_in, (long long)n_out);
    const struct slm_type_traits *tr = slm_traits(t->type);
    if (!tr || !tr->vec_dot || !tr->to_float)
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s, which slmd "
                          "cannot use for a weight matrix", model_file(m), name,
                          slm_type_name(t->type));
    w->type = regroup_if_it_pays(m, name, t, n_in);
    w->n_in = n_in;
    w->n_out = n_out;
    w->data = t->data;
    w->row_bytes = (size_t)(t->nbytes / (uint64_t)n_out);
    m->info.n_params += (uint64_t)n_in * (uint64_t)n_out;
    m->info.weight_bytes += t->nbytes;
    return 0;
}

int model_vector(slm_model *m, const char *name, int64_t n, bool required, const float **out,
                 slm_error *err)
{
    *out = NULL;
    const struct slm_gguf_tensor *t = slm_gguf_find_tensor(m->gguf, name);
    if (!t) {
        if (!required)
            return 0;
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' is missing", model_file(m),
                          name);
    }
    int64_t elements = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    if (elements != n)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' has %lld elements, expected "
                          "%lld", model_file(m), name, (long long)elements, (long long)n);
    m->info.n_params += (uint64_t)n;
    m->info.weight_bytes += t->nbytes;
    if (t->type == SLM_TYPE_F32 && ((uintptr_t)t->data % sizeof(float)) == 0) {
        *out = t->data;
        return 0;
    }
    const struct slm_type_traits *tr = slm_traits(t->type);
    if (!tr || !tr->to_float || n % tr->block_size)
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: tensor '%s' has type %s, which slmd "
                          "cannot use for a vector", model_file(m), name,
                          slm_type_name(t->type));
    float *copy = model_alloc(m, (size_t)n * sizeof(float));
    if (!copy)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", model_file(m));
    tr->to_float(t->data, copy, n);
    *out = copy;
    return 0;
}

/* ---- the public entry points ---- */

static int load_gguf_model(slm_model *m, slm_error *err)
{
    m->gguf = slm_gguf_open(m->path, err);
    if (!m->gguf)
        return -(int)err->status;
    _cleanup_free_ char *arch = NULL;
    int r = slm_gguf_get_str_dup(m->gguf, "general.architecture", &arch, err);
    if (r == -SLM_ERR_NOT_FOUND)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: general.architecture is missing",
                          m->path);
    if (r < 0)
        return r;
    m->arch = slm_arch_find(arch);
    if (!m->arch)
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: architecture '%s' is not supported "
                          "(slmd runs: %s)", m->path, arch, slm_arch_names());
    m->info.architecture = m->arch->name;
    m->info.kind = m->arch->kind;
    /* Both are optional, but one of another type is a broken file, not a missing key: a
     * chat template silently dropped would turn every chat request into an error later. */
    _cleanup_free_ char *name = NULL;
    r = slm_gguf_get_str_dup(m->gguf, "general.name", &name, err);
    if (r < 0 && r != -SLM_ERR_NOT_FOUND)
        return r;
    m->name = TAKE_PTR(name);
    r = slm_gguf_get_str_dup(m->gguf, "tokenizer.chat_template", &m->chat_template, err);
    if (r < 0 && r != -SLM_ERR_NOT_FOUND)
        return r;
    m->tok = slm_tokenizer_from_gguf(m->gguf, err);
    if (!m->tok)
        return -(int)err->status;
    return m->arch->load_gguf(m, err);
}

/* The most common weight-matrix type, for `slm info` and `ListModels`. */
static void note_weight_type(slm_model *m)
{
    if (!m->gguf)
        return;
    uint64_t bytes[SLM_TYPE_COUNT] = {0};
    for (size_t i = 0; i < slm_gguf_n_tensors(m->gguf); i++) {
        const struct slm_gguf_tensor *t = slm_gguf_tensor(m->gguf, i);
        if (t->n_dims >= 2 && t->type < SLM_TYPE_COUNT)
            bytes[t->type] += t->nbytes;
    }
    enum slm_type best = SLM_TYPE_F32;
    for (int t = 0; t < SLM_TYPE_COUNT; t++)
        if (bytes[t] > bytes[best])
            best = (enum slm_type)t;
    m->info.weight_type = best;
}

slm_model *slm_model_load(const char *path, slm_error *err)
{
    slm_error local;
    if (!err)
        err = &local;
    slm_kernels_init();
    slm_model *m = calloc(1, sizeof(*m));
    if (!m || !(m->path = strdup(path))) {
        free(m);
        slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    struct stat st;
    int r;
    if (stat(path, &st) < 0)
        r = slm_errorf(err, SLM_ERR_IO, "%s: no such file or directory", path);
    else if (S_ISDIR(st.st_mode))
        r = hf_model_load(m, path, err);
    else
        r = load_gguf_model(m, err);
    if (m->gguf_writable) {
        (void)slm_mapped_file_set_writable(slm_gguf_mapping(m->gguf), false);
        m->gguf_writable = false;
    }
    if (r < 0) {
        slm_model_free(m);
        return NULL;
    }
    note_weight_type(m);
    m->info.path = m->path;
    m->info.name = m->name ? m->name : m->path;
    m->info.chat_template = m->chat_template;
    return m;
}

void slm_model_free(slm_model *m)
{
    if (!m)
        return;
    if (m->encoder && m->encoder_free)
        m->encoder_free(m->encoder);
    for (struct owned_block *b = m->owned; b;) {
        struct owned_block *next = b->next;
        free(b);
        b = next;
    }
    for (unsigned i = 0; i < m->n_files; i++)
        slm_mapped_file_close(m->files[i]);
    slm_tokenizer_free(m->tok);
    slm_gguf_close(m->gguf);
    free(m->chat_template);
    free(m->name);
    free(m->path);
    free(m);
}

const struct slm_model_info *slm_model_info(const slm_model *m) { return &m->info; }
const slm_tokenizer *slm_model_tokenizer(const slm_model *m) { return m->tok; }

bool slm_model_files_intact(const slm_model *m)
{
    if (m->gguf && slm_mapped_file_changed(slm_gguf_mapping(m->gguf)))
        return false;
    for (unsigned i = 0; i < m->n_files; i++)
        if (slm_mapped_file_changed(m->files[i]))
            return false;
    return true;
}

int slm_model_describe_tensors(const slm_model *m, char **out, slm_error *err)
{
    uint64_t count[SLM_TYPE_COUNT] = {0}, bytes[SLM_TYPE_COUNT] = {0};
    if (m->gguf) {
        for (size_t i = 0; i < slm_gguf_n_tensors(m->gguf); i++) {
            const struct slm_gguf_tensor *t = slm_gguf_tensor(m->gguf, i);
            if (t->type < SLM_TYPE_COUNT) {
                count[t->type]++;
                bytes[t->type] += t->nbytes;
            }
        }
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    for (int t = 0; t < SLM_TYPE_COUNT; t++)
        if (count[t])
            fprintf(f, "%-6s %5llu tensors %12llu bytes\n", slm_type_name((uint32_t)t),
                    (unsigned long long)count[t], (unsigned long long)bytes[t]);
    if (m->n_regrouped)
        fprintf(f, "Q4_0   %5zu matrices regrouped at load by 16 blocks (Q4_0_R16) for the "
                "%s kernels\n", m->n_regrouped, slm_cpu_level_name(slm_cpu_level()));
    fclose(f);
    *out = buf;
    return 0;
}
