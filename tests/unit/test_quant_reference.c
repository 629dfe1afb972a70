/* slmd's quantizers against the reference engine's output: the shared tiny llama models
 * exist as F32 and as Q8_0 / Q4_0 files converted from the same weights by the reference
 * tools, so quantizing each F32 tensor must reproduce the quantized file's blocks.
 * Also dequantizes the K-quant models' tensors and checks them for sanity (finite values,
 * a spread like the F32 weights', requantization that is stable).
 *
 * The GGUF reader here is deliberately minimal (test-only, trusted input); the project's
 * real reader lives in core/format. */
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"
#include "test_quant_util.h"
#include "test.h"
#include "util/cleanup.h"

#define MAX_TENSORS 512
#define MAX_NAME 96

struct tensor {
    char name[MAX_NAME];
    uint32_t type;
    uint64_t dims[4];
    uint32_t n_dims;
    uint64_t offset;
};

struct gguf {
    unsigned char *data;
    size_t size;
    size_t pos;
    bool bad;
    struct tensor tensors[MAX_TENSORS];
    uint32_t n_tensors;
    size_t data_start;
};

static bool take(struct gguf *g, void *out, size_t n)
{
    if (g->bad || g->size - g->pos < n) {
        g->bad = true;
        return false;
    }
    if (out)
        memcpy(out, g->data + g->pos, n);
    g->pos += n;
    return true;
}

static uint64_t take_u64(struct gguf *g)
{
    uint64_t v = 0;
    take(g, &v, 8);
    return v;
}

static uint32_t take_u32(struct gguf *g)
{
    uint32_t v = 0;
    take(g, &v, 4);
    return v;
}

static void skip_value(struct gguf *g, uint32_t type, uint32_t *alignment, bool is_alignment)
{
    static const size_t scalar_size[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) { /* string */
        uint64_t len = take_u64(g);
        take(g, NULL, len);
    } else if (type == 9) { /* array */
        uint32_t elem = take_u32(g);
        uint64_t count = take_u64(g);
        for (uint64_t i = 0; i < count && !g->bad; i++)
            skip_value(g, elem, NULL, false);
    } else if (type < 13 && scalar_size[type]) {
        if (is_alignment && type == 4)
            *alignment = take_u32(g);
        else
            take(g, NULL, scalar_size[type]);
    } else {
        g->bad = true;
    }
}

static bool gguf_open(struct gguf *g, const char *path)
{
    memset(g, 0, sizeof(*g));
    _cleanup_fclose_ FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    g->data = malloc((size_t)size);
    g->size = (size_t)size;
    if (!g->data || fread(g->data, 1, g->size, f) != g->size)
        return false;
    uint32_t magic = take_u32(g), version = take_u32(g);
    if (magic != 0x46554747u || version < 2)
        return false;
    uint64_t n_tensors = take_u64(g), n_kv = take_u64(g);
    uint32_t alignment = 32;
    for (uint64_t i = 0; i < n_kv && !g->bad; i++) {
        uint64_t len = take_u64(g);
        bool is_alignment = len == 17 && g->size - g->pos >= 17 &&
                            memcmp(g->data + g->pos, "general.alignment", 17) == 0;
        take(g, NULL, len);
        skip_value(g, take_u32(g), &alignment, is_alignment);
    }
    if (n_tensors > MAX_TENSORS)
        return false;
    for (uint64_t i = 0; i < n_tensors && !g->bad; i++) {
        struct tensor *t = &g->tensors[i];
        uint64_t len = take_u64(g);
        if (len >= MAX_NAME)
            return false;
        take(g, t->name, len);
        t->n_dims = take_u32(g);
        if (t->n_dims > 4)
            return false;
        for (uint32_t d = 0; d < t->n_dims; d++)
            t->dims[d] = take_u64(g);
        t->type = take_u32(g);
        t->offset = take_u64(g);
    }
    g->n_tensors = (uint32_t)n_tensors;
    g->data_start = (g->pos + alignment - 1) / alignment * alignment;
    return !g->bad;
}

static const struct tensor *find_tensor(const struct gguf *g, const char *name)
{
    for (uint32_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0)
            return &g->tensors[i];
    return NULL;
}

static uint64_t tensor_elements(const struct tensor *t)
{
    uint64_t n = 1;
    for (uint32_t d = 0; d < t->n_dims; d++)
        n *= t->dims[d];
    return n;
}

static const void *tensor_data(const struct gguf *g, const struct tensor *t)
{
    return g->data + g->data_start + t->offset;
}

/* Quantizes every F32 matrix of `ref` row by row and compares with the same tensor of
 * `quant`. Returns the number of tensors compared. */
static int compare_quantized(const struct gguf *ref, const struct gguf *quant,
                             const char *label)
{
    int compared = 0;
    for (uint32_t i = 0; i < quant->n_tensors; i++) {
        const struct tensor *qt = &quant->tensors[i];
        const struct tensor *ft = find_tensor(ref, qt->name);
        const struct slm_type_traits *tr = slm_traits_generic((enum slm_type)qt->type);
        if (!ft || ft->type != SLM_TYPE_F32 || !tr || !tr->quantized || qt->n_dims < 2)
            continue;
        int64_t row = (int64_t)qt->dims[0];
        int64_t rows = (int64_t)(tensor_elements(qt) / (uint64_t)row);
        size_t row_bytes = test_row_bytes((enum slm_type)qt->type, row);
        _cleanup_free_ unsigned char *mine = malloc(row_bytes);
        const float *src = tensor_data(ref, ft);
        const unsigned char *theirs = tensor_data(quant, qt);
        int64_t mismatched_rows = 0;
        for (int64_t r = 0; r < rows; r++) {
            tr->from_float(src + r * row, mine, row);
            if (memcmp(mine, theirs + r * row_bytes, row_bytes) != 0)
                mismatched_rows++;
        }
        CHECKF(mismatched_rows == 0, "%s %s (%s): %lld of %lld rows differ", label, qt->name,
               tr->name, (long long)mismatched_rows, (long long)rows);
        compared++;
    }
    return compared;
}

/* Dequantized K-quant tensors are finite and requantizing them to their own type changes
 * them very little (a wrong layout scrambles values and fails this). */
static void check_kquant_file(const struct gguf *g, const char *label)
{
    int checked = 0;
    for (uint32_t i = 0; i < g->n_tensors; i++) {
        const struct tensor *t = &g->tensors[i];
        const struct slm_type_traits *tr = slm_traits_generic((enum slm_type)t->type);
        if (!tr || !tr->quantized || t->n_dims < 2 || tr->block_size != 256)
            continue;
        int64_t row = (int64_t)t->dims[0];
        int64_t rows = (int64_t)(tensor_elements(t) / (uint64_t)row);
        if (rows > 64)
            rows = 64;
        size_t row_bytes = test_row_bytes((enum slm_type)t->type, row);
        _cleanup_free_ float *x = malloc((size_t)row * sizeof(float));
        _cleanup_free_ float *y = malloc((size_t)row * sizeof(float));
        _cleanup_free_ unsigned char *q = malloc(row_bytes);
        double worst = 0;
        bool finite = true;
        for (int64_t r = 0; r < rows; r++) {
            tr->to_float((const unsigned char *)tensor_data(g, t) + r * row_bytes, x, row);
            for (int64_t k = 0; k < row; k++)
                finite = finite && isfinite(x[k]);
            tr->from_float(x, q, row);
            tr->to_float(q, y, row);
            double e = test_rel_rmse(y, x, row);
            if (!(e <= worst))
                worst = e;
        }
        if (getenv("TEST_VERBOSE")) printf("%s %s %s %.6f\n", label, t->name, tr->name, worst);
        CHECKF(finite, "%s %s: non-finite dequantized value", label, t->name);
        /* Requantizing values that lie on a K-quant grid lands on (nearly) the same grid:
         * measured 0 for Q6_K, < 0.5% for Q4_K, < 1.8% for Q5_K (its search may settle on
         * another min); a wrong layout scrambles values and lands near 1. */
        CHECKF(worst < 0.05, "%s %s (%s): requantization error %.4f", label, t->name, tr->name,
               worst);
        checked++;
    }
    CHECKF(checked > 0, "%s: no K-quant tensors found", label);
}

/* The K-quant models were quantized from the same weights; a tensor dequantized from one
 * file must agree with the Q6_K file's copy to within the coarser type's error. Returns
 * the worst relative error. */
static double cross_check(const struct gguf *a, const struct gguf *b6, const char *label)
{
    double worst = 0;
    int compared = 0;
    for (uint32_t i = 0; i < a->n_tensors; i++) {
        const struct tensor *ta = &a->tensors[i];
        const struct tensor *tb = find_tensor(b6, ta->name);
        const struct slm_type_traits *tra = slm_traits_generic((enum slm_type)ta->type);
        if (!tb || !tra || !tra->quantized || ta->n_dims < 2)
            continue;
        const struct slm_type_traits *trb = slm_traits_generic((enum slm_type)tb->type);
        int64_t row = (int64_t)ta->dims[0];
        int64_t rows = (int64_t)(tensor_elements(ta) / (uint64_t)row);
        if (rows > 256)
            rows = 256;
        size_t bytes_a = test_row_bytes((enum slm_type)ta->type, row);
        size_t bytes_b = test_row_bytes((enum slm_type)tb->type, row);
        _cleanup_free_ float *x = malloc((size_t)(row * rows) * sizeof(float));
        _cleanup_free_ float *y = malloc((size_t)(row * rows) * sizeof(float));
        for (int64_t r = 0; r < rows; r++) {
            tra->to_float((const unsigned char *)tensor_data(a, ta) + r * bytes_a, x + r * row,
                          row);
            trb->to_float((const unsigned char *)tensor_data(b6, tb) + r * bytes_b,
                          y + r * row, row);
        }
        double e = test_rel_rmse(x, y, row * rows);
        if (getenv("TEST_VERBOSE"))
            printf("%s %s %s %.5f\n", label, ta->name, tra->name, e);
        if (!(e <= worst))
            worst = e;
        compared++;
    }
    CHECKF(compared > 0, "%s: nothing to compare", label);
    return worst;
}

static bool open_model(struct gguf *g, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/models/%s", dir, name);
    bool ok = gguf_open(g, path);
    CHECKF(ok, "cannot read %s", path);
    return ok;
}

int main(void)
{
    const char *shared = test_shared_dir();
    if (!shared)
        return 0;
    static struct gguf f32, q8, q4, k4, k6, k5;
    if (open_model(&f32, shared, "llama-spm-tiny-F32.gguf")) {
        if (open_model(&q8, shared, "llama-spm-tiny-Q8_0.gguf"))
            CHECK(compare_quantized(&f32, &q8, "Q8_0 file") >= 7);
        if (open_model(&q4, shared, "llama-spm-tiny-Q4_0.gguf"))
            CHECK(compare_quantized(&f32, &q4, "Q4_0 file") >= 7);
    }
    if (open_model(&k4, shared, "llama-spm-k-Q4_K_M.gguf"))
        check_kquant_file(&k4, "Q4_K_M file");
    if (open_model(&k6, shared, "llama-spm-k-Q6_K.gguf"))
        check_kquant_file(&k6, "Q6_K file");
    if (open_model(&k5, shared, "extra/llama-spm-k-Q5_K_M.gguf"))
        check_kquant_file(&k5, "Q5_K_M file");
    /* Measured: Q4_K 0.074, Q5_K 0.040 (Q6_K tensors are byte-identical, 0); a wrong
     * layout in either file's type lands above 1. */
    if (k6.data && k4.data)
        CHECK(cross_check(&k4, &k6, "Q4_K_M vs Q6_K") < 0.10);
    if (k6.data && k5.data)
        CHECK(cross_check(&k5, &k6, "Q5_K_M vs Q6_K") < 0.06);
    free(f32.data);
    free(q8.data);
    free(q4.data);
    free(k4.data);
    free(k6.data);
    free(k5.data);
    return test_report();
}
