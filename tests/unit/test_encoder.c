/* ctest-labels: threads */
/* Encoders from Hugging Face directories, against a plain double-precision forward pass
 * written here from the model definitions (not from slmd's code):
 *   - DistilBERT and BERT, every head, F32/F16/BF16 weights, prefixed and bare tensor names,
 *     legacy gamma/beta LayerNorm names, gelu and gelu_new;
 *   - one sequence alone = the same sequence inside a batch of other lengths = the same
 *     sequence in a batch split over several passes;
 *   - bad directories (shapes, dtypes, labels, missing files) fail naming file and tensor;
 *   - sentence-transformers pooling and normalisation. */
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "slm/model.h"
#include "slm/tasks.h"
#include "test.h"
#include "test_encoder_builder.h"
#include "util/cleanup.h"

static char tmp_root[256];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void make_tmp_root(void)
{
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/slm-test-encoder-XXXXXX");
    REQUIRE(mkdtemp(tmp_root));
}

static const char *tmp_dir(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmp_root, name);
    return path;
}

/* ---- the reference forward pass ---- */

struct ref {
    const struct tm_model *m;
    const char *pfx, *blk;
    bool distil;
};

static const float *W(const struct ref *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const float *W(const struct ref *r, const char *fmt, ...)
{
    char rest[160], name[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rest, sizeof(rest), fmt, ap);
    va_end(ap);
    snprintf(name, sizeof(name), "%s", rest);
    const struct tm_tensor *t = tm_find(r->m, name);
    if (!t) {
        fprintf(stderr, "reference: no tensor %s\n", name);
        exit(1);
    }
    return t->values;
}

/* y[o] = b[o] + sum_i w[o][i] x[i] */
static void ref_linear(const float *w, const float *b, const double *x, int n_in, int n_out,
                       double *y)
{
    for (int o = 0; o < n_out; o++) {
        double s = b[o];
        for (int i = 0; i < n_in; i++)
            s += (double)w[(size_t)o * n_in + i] * x[i];
        y[o] = s;
    }
}

static void ref_layernorm(double *x, const float *g, const float *b, int n, double eps)
{
    double mean = 0, var = 0;
    for (int i = 0; i < n; i++)
        mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var /= n;
    for (int i = 0; i < n; i++)
        x[i] = (x[i] - mean) / sqrt(var + eps) * g[i] + b[i];
}

static double ref_act(const struct tm_config *c, double x)
{
    if (c->act && strcmp(c->act, "gelu_new") == 0)
        return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    if (c->act && strcmp(c->act, "relu") == 0)
        return x > 0 ? x : 0;
    return 0.5 * x * (1 + erf(x / sqrt(2)));
}

/* Last hidden state of one sequence: h[len][d]. */
static void ref_hidden(const struct tm_model *m, const int32_t *ids, int len, double *h)
{
    const struct tm_config *c = &m->cfg;
    struct ref r = {.m = m, .distil = c->family == TM_DISTILBERT};
    r.pfx = c->prefix ? (r.distil ? "distilbert." : "bert.") : "";
    r.blk = r.distil ? "transformer.layer" : "encoder.layer";
    const char *nw = c->legacy_norms ? "gamma" : "weight", *nb = c->legacy_norms ? "beta" : "bias";
    const int d = c->d, hd = c->d / c->heads;
    const double eps = c->eps ? c->eps : 1e-12;
    const float *we = W(&r, "%sembeddings.word_embeddings.weight", r.pfx);
    const float *pe = W(&r, "%sembeddings.position_embeddings.weight", r.pfx);
    const float *te = r.distil ? NULL : W(&r, "%sembeddings.token_type_embeddings.weight", r.pfx);
    for (int p = 0; p < len; p++) {
        for (int i = 0; i < d; i++)
            h[p * d + i] = (double)we[(size_t)ids[p] * d + i] + pe[p * d + i] + (te ? te[i] : 0);
        ref_layernorm(h + p * d, W(&r, "%sembeddings.LayerNorm.%s", r.pfx, nw),
                      W(&r, "%sembeddings.LayerNorm.%s", r.pfx, nb), d, eps);
    }
    double *q = calloc((size_t)len * d, sizeof(double)), *k = calloc((size_t)len * d, sizeof(double));
    double *v = calloc((size_t)len * d, sizeof(double)), *a = calloc((size_t)len * d, sizeof(double));
    double *t = calloc((size_t)len * (c->ff > d ? c->ff : d), sizeof(double));
    double *o = calloc((size_t)d, sizeof(double)), *s = calloc((size_t)len, sizeof(double));
    for (int l = 0; l < c->layers; l++) {
        const char *nq = r.distil ? "attention.q_lin" : "attention.self.query";
        const char *nk = r.distil ? "attention.k_lin" : "attention.self.key";
        const char *nv = r.distil ? "attention.v_lin" : "attention.self.value";
        const char *no = r.distil ? "attention.out_lin" : "attention.output.dense";
        const char *n1 = r.distil ? "sa_layer_norm" : "attention.output.LayerNorm";
        const char *up = r.distil ? "ffn.lin1" : "intermediate.dense";
        const char *down = r.distil ? "ffn.lin2" : "output.dense";
        const char *n2 = r.distil ? "output_layer_norm" : "output.LayerNorm";
        const char *gw = r.distil ? "weight" : nw, *gb = r.distil ? "bias" : nb;
#define LW(name, part) W(&r, "%s%s.%d.%s.%s", r.pfx, r.blk, l, name, part)
        for (int p = 0; p < len; p++) {
            ref_linear(LW(nq, "weight"), LW(nq, "bias"), h + p * d, d, d, q + p * d);
            ref_linear(LW(nk, "weight"), LW(nk, "bias"), h + p * d, d, d, k + p * d);
            ref_linear(LW(nv, "weight"), LW(nv, "bias"), h + p * d, d, d, v + p * d);
        }
        for (int head = 0; head < c->heads; head++) {
            for (int i = 0; i < len; i++) {
                double max = -INFINITY, sum = 0;
                for (int j = 0; j < len; j++) {
                    double dot = 0;
                    for (int x = 0; x < hd; x++)
                        dot += q[i * d + head * hd + x] * k[j * d + head * hd + x];
                    s[j] = dot / sqrt(hd);
                    max = fmax(max, s[j]);
                }
                for (int j = 0; j < len; j++)
                    sum += (s[j] = exp(s[j] - max));
                for (int x = 0; x < hd; x++) {
                    double acc = 0;
                    for (int j = 0; j < len; j++)
                        acc += s[j] / sum * v[j * d + head * hd + x];
                    a[i * d + head * hd + x] = acc;
                }
            }
        }
        for (int p = 0; p < len; p++) {
            ref_linear(LW(no, "weight"), LW(no, "bias"), a + p * d, d, d, o);
            for (int i = 0; i < d; i++)
                h[p * d + i] += o[i];
            ref_layernorm(h + p * d, LW(n1, gw), LW(n1, gb), d, eps);
            ref_linear(LW(up, "weight"), LW(up, "bias"), h + p * d, d, c->ff, t);
            for (int i = 0; i < c->ff; i++)
                t[i] = ref_act(c, t[i]);
            ref_linear(LW(down, "weight"), LW(down, "bias"), t, c->ff, d, o);
            for (int i = 0; i < d; i++)
                h[p * d + i] += o[i];
            ref_layernorm(h + p * d, LW(n2, gw), LW(n2, gb), d, eps);
        }
#undef LW
    }
    free(q);
    free(k);
    free(v);
    free(a);
    free(t);
    free(o);
    free(s);
}

/* The head's output for one sequence (n_labels, or len x n_labels). */
static void ref_logits(const struct tm_model *m, const double *h, int len, double *out)
{
    const struct tm_config *c = &m->cfg;
    const float *cw = tm_find(m, "classifier.weight")->values;
    const float *cb = tm_find(m, "classifier.bias")->values;
    if (c->head == TM_TOKEN) {
        for (int p = 0; p < len; p++)
            ref_linear(cw, cb, h + p * c->d, c->d, c->n_labels, out + p * c->n_labels);
        return;
    }
    double *pooled = calloc((size_t)c->d, sizeof(double));
    bool distil = c->family == TM_DISTILBERT;
    char wname[64], bname[64];
    snprintf(wname, sizeof(wname), "%s%s.weight", distil ? "" : (c->prefix ? "bert." : ""),
             distil ? "pre_classifier" : "pooler.dense");
    snprintf(bname, sizeof(bname), "%s%s.bias", distil ? "" : (c->prefix ? "bert." : ""),
             distil ? "pre_classifier" : "pooler.dense");
    ref_linear(tm_find(m, wname)->values, tm_find(m, bname)->values, h, c->d, c->d, pooled);
    for (int i = 0; i < c->d; i++)
        pooled[i] = distil ? fmax(pooled[i], 0) : tanh(pooled[i]);
    ref_linear(cw, cb, pooled, c->d, c->n_labels, out);
    free(pooled);
}

/* ---- helpers ---- */

SLM_DEFINE_CLEANUP(slm_model, slm_model_free)
SLM_DEFINE_CLEANUP(slm_forward_ctx, slm_forward_ctx_free)

static slm_pool *pool;

static void random_ids(uint64_t *rng, int32_t *ids, int len, int vocab)
{
    ids[0] = 2; /* [CLS] */
    for (int p = 1; p < len; p++)
        ids[p] = 5 + (int32_t)(tm_rand(rng) % (uint64_t)(vocab - 5));
    if (len > 1)
        ids[len - 1] = 3; /* [SEP] */
}

static double max_abs_diff(const float *a, const double *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

/* slm_encode of one sequence vs the reference: hidden states, mean pooling, and the head. */
static void check_against_reference(const char *label, const struct tm_config *cfg, double tol)
{
    const char *dir = tmp_dir(label);
    struct tm_model tm;
    REQUIRE(tm_write(dir, cfg, 42, &tm) == 0);
    slm_error err;
    _cleanup_(slm_model_freep) slm_model *m = slm_model_load(dir, &err);
    CHECKF(m, "%s: %s", label, err.message);
    if (!m) {
        tm_free(&tm);
        return;
    }
    const struct slm_model_info *info = slm_model_info(m);
    CHECK(info->kind == SLM_MODEL_ENCODER && info->n_embd == (uint32_t)cfg->d);
    CHECK(info->n_layer == (uint32_t)cfg->layers && info->n_ctx_train == (uint32_t)cfg->n_pos);
    CHECK(strcmp(info->architecture, cfg->family == TM_BERT ? "bert" : "distilbert") == 0);
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx = slm_forward_ctx_new(m, 64, &err);
    REQUIRE(ctx);
    uint64_t rng = 7;
    int32_t ids[24];
    const int len = 13;
    random_ids(&rng, ids, len, cfg->vocab);
    double *ref = calloc((size_t)len * cfg->d, sizeof(double));
    ref_hidden(&tm, ids, len, ref);
    float *mine = calloc((size_t)len * cfg->d, sizeof(float));
    const int32_t *seqs[1] = {ids};
    uint32_t lens[1] = {len};
    REQUIRE(slm_encode(ctx, pool, 1, seqs, lens, SLM_ENCODE_HIDDEN, mine, &err) == 0);
    double diff = max_abs_diff(mine, ref, (size_t)len * cfg->d);
    CHECKF(diff < tol, "%s: hidden states differ by %g", label, diff);

    double mean[256] = {0};
    for (int i = 0; i < cfg->d; i++) {
        for (int p = 0; p < len; p++)
            mean[i] += ref[p * cfg->d + i];
        mean[i] /= len;
    }
    REQUIRE(slm_encode(ctx, pool, 1, seqs, lens, SLM_ENCODE_POOLED, mine, &err) == 0);
    diff = max_abs_diff(mine, mean, (size_t)cfg->d);
    CHECKF(diff < tol, "%s: mean pooling differs by %g", label, diff);

    if (cfg->head != TM_BASE) {
        CHECK(info->n_labels == (uint32_t)cfg->n_labels);
        size_t n_out = (size_t)cfg->n_labels * (cfg->head == TM_TOKEN ? len : 1);
        double *ref_out = calloc(n_out, sizeof(double));
        float *out = calloc(n_out, sizeof(float));
        ref_logits(&tm, ref, len, ref_out);
        REQUIRE(slm_encode(ctx, pool, 1, seqs, lens, SLM_ENCODE_LOGITS, out, &err) == 0);
        diff = max_abs_diff(out, ref_out, n_out);
        CHECKF(diff < tol, "%s: logits differ by %g", label, diff);
        free(ref_out);
        free(out);
    } else {
        CHECK(slm_encode(ctx, pool, 1, seqs, lens, SLM_ENCODE_LOGITS, mine, &err) ==
              -SLM_ERR_INVALID);
    }
    free(ref);
    free(mine);
    tm_free(&tm);
}

static struct tm_config small(enum tm_family family, enum tm_head head)
{
    return (struct tm_config){.family = family, .head = head, .d = 32, .layers = 2, .heads = 4,
                              .ff = 64, .vocab = 80, .n_pos = 40, .n_types = 2,
                              .n_labels = head == TM_TOKEN ? 7 : 3, .dtype = "F32",
                              .prefix = head != TM_BASE};
}

static void test_reference(void)
{
    struct tm_config c = small(TM_DISTILBERT, TM_SEQUENCE);
    check_against_reference("distil-seq", &c, 1e-4);
    c = small(TM_DISTILBERT, TM_TOKEN);
    check_against_reference("distil-token", &c, 1e-4);
    c = small(TM_DISTILBERT, TM_BASE);
    c.act = "relu";
    check_against_reference("distil-base-relu", &c, 1e-4);
    c = small(TM_BERT, TM_SEQUENCE);
    c.legacy_norms = 1;
    c.act = "gelu_new";
    c.eps = 1e-5;
    check_against_reference("bert-seq-legacy", &c, 1e-4);
    c = small(TM_BERT, TM_TOKEN);
    c.prefix = 0;
    check_against_reference("bert-token-bare", &c, 1e-4);
    c = small(TM_BERT, TM_BASE);
    c.dtype = "F16";
    check_against_reference("bert-base-f16", &c, 1e-3);
    c = small(TM_DISTILBERT, TM_SEQUENCE);
    c.dtype = "BF16";
    check_against_reference("distil-seq-bf16", &c, 1e-3);
}

/* A sequence alone, inside a batch of other lengths, and in a batch that needs several
 * passes, gives the same outputs. */
static void test_batching(void)
{
    const char *dir = tmp_dir("batching");
    struct tm_config cfg = small(TM_DISTILBERT, TM_TOKEN);
    struct tm_model tm;
    REQUIRE(tm_write(dir, &cfg, 3, &tm) == 0);
    tm_free(&tm);
    slm_error err;
    _cleanup_(slm_model_freep) slm_model *m = slm_model_load(dir, &err);
    REQUIRE(m);
    enum { N = 6 };
    const uint32_t lens[N] = {9, 1, 17, 40, 2, 23};
    int32_t ids[N][40];
    const int32_t *seqs[N];
    uint64_t rng = 11;
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        random_ids(&rng, ids[i], (int)lens[i], cfg.vocab);
        seqs[i] = ids[i];
        total += lens[i];
    }
    const size_t L = (size_t)cfg.n_labels, D = (size_t)cfg.d;
    float *alone = calloc(total * L, sizeof(float)), *together = calloc(total * L, sizeof(float));
    float *passes = calloc(total * L, sizeof(float));
    float *pooled_alone = calloc(N * D, sizeof(float)), *pooled = calloc(N * D, sizeof(float));
    /* wide enough for the whole batch in one pass */
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *big = slm_forward_ctx_new(m, 4096, &err);
    /* only 40 tokens: each pass holds one or two sequences */
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *narrow = slm_forward_ctx_new(m, 40, &err);
    REQUIRE(big && narrow);
    size_t at = 0;
    for (int i = 0; i < N; i++) {
        REQUIRE(slm_encode(big, pool, 1, &seqs[i], &lens[i], SLM_ENCODE_LOGITS, alone + at * L,
                           &err) == 0);
        REQUIRE(slm_encode(big, pool, 1, &seqs[i], &lens[i], SLM_ENCODE_POOLED,
                           pooled_alone + i * D, &err) == 0);
        at += lens[i];
    }
    REQUIRE(slm_encode(big, pool, N, seqs, lens, SLM_ENCODE_LOGITS, together, &err) == 0);
    REQUIRE(slm_encode(narrow, pool, N, seqs, lens, SLM_ENCODE_LOGITS, passes, &err) == 0);
    REQUIRE(slm_encode(narrow, pool, N, seqs, lens, SLM_ENCODE_POOLED, pooled, &err) == 0);
    double d1 = 0, d2 = 0, d3 = 0;
    for (size_t i = 0; i < total * L; i++) {
        d1 = fmax(d1, fabs(alone[i] - together[i]));
        d2 = fmax(d2, fabs(alone[i] - passes[i]));
    }
    for (size_t i = 0; i < N * D; i++)
        d3 = fmax(d3, fabs(pooled_alone[i] - pooled[i]));
    CHECKF(d1 < 1e-5, "batched logits differ from single ones by %g", d1);
    CHECKF(d2 < 1e-5, "multi-pass logits differ from single ones by %g", d2);
    CHECKF(d3 < 1e-5, "multi-pass pooled vectors differ by %g", d3);

    /* bad input is refused, not computed */
    uint32_t too_long = 41, empty = 0;
    int32_t bad_ids[2] = {2, 9999};
    const int32_t *bad_seq = bad_ids;
    uint32_t two = 2;
    CHECK(slm_encode(big, pool, 1, seqs, &too_long, SLM_ENCODE_LOGITS, together, &err) ==
          -SLM_ERR_CONTEXT);
    CHECK(slm_encode(big, pool, 1, seqs, &empty, SLM_ENCODE_LOGITS, together, &err) ==
          -SLM_ERR_INVALID);
    CHECK(slm_encode(big, pool, 1, &bad_seq, &two, SLM_ENCODE_LOGITS, together, &err) ==
          -SLM_ERR_INVALID);
    CHECK(strstr(err.message, "9999"));
    CHECK(slm_encode(big, pool, 0, seqs, lens, SLM_ENCODE_LOGITS, together, &err) ==
          -SLM_ERR_INVALID);
    free(alone);
    free(together);
    free(passes);
    free(pooled_alone);
    free(pooled);
}

/* ---- bad directories ---- */

static void expect_load_error(const char *dir, const char *what, const char *expect_a,
                              const char *expect_b)
{
    slm_error err = {0};
    slm_model *m = slm_model_load(dir, &err);
    CHECKF(!m, "%s: loaded", what);
    slm_model_free(m);
    CHECKF(!m && strstr(err.message, expect_a) && (!expect_b || strstr(err.message, expect_b)),
           "%s: got \"%s\"", what, err.message);
}

static void write_text(const char *dir, const char *file, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    REQUIRE(tb_write_file(path, text, strlen(text)) == 0);
}

static void test_bad_directories(void)
{
    struct tm_model tm;
    char path[1024];

    /* config.json says one width, the tensors another */
    const char *dir = tmp_dir("bad-width");
    struct tm_config c = small(TM_DISTILBERT, TM_SEQUENCE);
    REQUIRE(tm_write(dir, &c, 1, &tm) == 0);
    tm_free(&tm);
    struct tm_config wider = c;
    wider.d = 48;
    struct tb_buf json = {0};
    tm_config_json(&wider, &json);
    write_text(dir, "config.json", json.data);
    tb_free(&json);
    expect_load_error(dir, "width mismatch", "model.safetensors: tensor "
                      "'distilbert.embeddings.word_embeddings.weight' has shape [80, 32], "
                      "expected [80, 48]", NULL);

    /* id2label names 3 labels, the classifier has 2 rows */
    dir = tmp_dir("bad-labels");
    c = small(TM_BERT, TM_SEQUENCE);
    c.n_labels = 2;
    REQUIRE(tm_write(dir, &c, 1, &tm) == 0);
    tm_free(&tm);
    c.n_labels = 3;
    json = (struct tb_buf){0};
    tm_config_json(&c, &json);
    write_text(dir, "config.json", json.data);
    tb_free(&json);
    expect_load_error(dir, "label count", "id2label names 3 labels but classifier.weight has 2 "
                      "rows", dir);

    /* more layers in the config than in the file */
    dir = tmp_dir("bad-layers");
    c = small(TM_BERT, TM_BASE);
    REQUIRE(tm_write(dir, &c, 1, &tm) == 0);
    tm_free(&tm);
    c.layers = 3;
    json = (struct tb_buf){0};
    tm_config_json(&c, &json);
    write_text(dir, "config.json", json.data);
    tb_free(&json);
    expect_load_error(dir, "missing layer",
                      "tensor 'encoder.layer.2.attention.self.query.weight' is missing", NULL);

    /* a weight stored as integers */
    dir = tmp_dir("bad-dtype");
    c = small(TM_DISTILBERT, TM_BASE);
    c.layers = 1;
    c.vocab = 40;
    REQUIRE(tm_write(dir, &c, 1, &tm) == 0);
    snprintf(path, sizeof(path), "%s/model.safetensors", dir);
    struct stb s = {0};
    for (int i = 0; i < tm.n; i++) {
        const struct tm_tensor *t = &tm.t[i];
        size_t n = (size_t)t->shape[0] * (size_t)(t->n_dims == 2 ? t->shape[1] : 1);
        bool as_int = strstr(t->name, "q_lin.weight") != NULL;
        stb_tensor(&s, t->name, as_int ? "I32" : "F32", t->shape, t->n_dims, t->values,
                   n * 4);
    }
    struct tb_buf file = stb_finish(&s);
    REQUIRE(tb_write_file(path, file.data, file.len) == 0);
    tb_free(&file);
    tm_free(&tm);
    expect_load_error(dir, "integer weight", "tensor 'transformer.layer.0.attention.q_lin.weight' "
                      "has dtype I32", path);

    /* a safetensors header that lies */
    dir = tmp_dir("bad-header");
    c = small(TM_DISTILBERT, TM_BASE);
    c.vocab = 40;
    REQUIRE(tm_write(dir, &c, 1, &tm) == 0);
    tm_free(&tm);
    snprintf(path, sizeof(path), "%s/model.safetensors", dir);
    REQUIRE(truncate(path, 4000) == 0);
    expect_load_error(dir, "truncated weights", path, "run past the end of the file");

    /* no weights, or weights slmd does not read */
    dir = tmp_dir("no-weights");
    REQUIRE(mkdir(dir, 0755) == 0);
    write_text(dir, "config.json", "{\"model_type\": \"bert\"}");
    expect_load_error(dir, "no weights", "model.safetensors is missing", NULL);
    write_text(dir, "pytorch_model.bin", "not really");
    expect_load_error(dir, "pytorch only", "only pytorch_model.bin is present", NULL);
    dir = tmp_dir("no-config");
    REQUIRE(mkdir(dir, 0755) == 0);
    expect_load_error(dir, "no config", "config.json is missing", NULL);
    dir = tmp_dir("bad-config");
    REQUIRE(mkdir(dir, 0755) == 0);
    write_text(dir, "config.json", "{\"model_type\": \"distilbert\", \"n_heads\": 7}");
    expect_load_error(dir, "bad config", "config.json: dim 768 is not a multiple of n_heads 7",
                      NULL);
}

/* ---- sentence-transformers ---- */

static void test_sentence_transformers(void)
{
    const char *dir = tmp_dir("st");
    struct tm_config c = small(TM_BERT, TM_BASE);
    struct tm_model tm;
    REQUIRE(tm_write(dir, &c, 5, &tm) == 0);
    write_text(dir, "modules.json",
               "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":"
               "\"sentence_transformers.models.Transformer\"},{\"idx\":1,\"name\":\"1\",\"path\":"
               "\"1_Pooling\",\"type\":\"sentence_transformers.models.Pooling\"},{\"idx\":2,"
               "\"name\":\"2\",\"path\":\"2_Normalize\",\"type\":"
               "\"sentence_transformers.models.Normalize\"}]");
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/1_Pooling", dir);
    REQUIRE(mkdir(sub, 0755) == 0);
    write_text(sub, "config.json", "{\"word_embedding_dimension\": 32, "
                                   "\"pooling_mode_cls_token\": true, "
                                   "\"pooling_mode_mean_tokens\": false}");
    slm_error err;
    _cleanup_(slm_model_freep) slm_model *m = slm_model_load(dir, &err);
    CHECKF(m, "%s", err.message);
    if (!m) {
        tm_free(&tm);
        return;
    }
    const struct slm_model_info *info = slm_model_info(m);
    CHECK(info->pooling == SLM_POOL_CLS && info->normalize_embeddings);
    _cleanup_(slm_forward_ctx_freep) slm_forward_ctx *ctx = slm_forward_ctx_new(m, 64, &err);
    REQUIRE(ctx);
    int32_t ids[10];
    uint64_t rng = 5;
    random_ids(&rng, ids, 10, c.vocab);
    double ref[10 * 32];
    ref_hidden(&tm, ids, 10, ref);
    double norm = 0;
    for (int i = 0; i < 32; i++)
        norm += ref[i] * ref[i];
    norm = sqrt(norm);
    double expect[32];
    for (int i = 0; i < 32; i++)
        expect[i] = ref[i] / norm; /* [CLS] row, normalised */
    float out[32];
    const int32_t *seqs[1] = {ids};
    uint32_t len = 10;
    REQUIRE(slm_encode(ctx, pool, 1, seqs, &len, SLM_ENCODE_POOLED, out, &err) == 0);
    double diff = max_abs_diff(out, expect, 32);
    CHECKF(diff < 1e-5, "CLS + normalise differs by %g", diff);
    tm_free(&tm);
}

/* The mapped weights are watched like a GGUF file's: replacing them is noticed. */
static void test_files_watched(void)
{
    struct tm_config c = small(TM_DISTILBERT, TM_BASE);
    struct tm_model first, second;
    REQUIRE(tm_write(tmp_dir("watched"), &c, 2, &first) == 0);
    REQUIRE(tm_write(tmp_dir("watched-2"), &c, 3, &second) == 0);
    tm_free(&first);
    tm_free(&second);
    slm_error err;
    _cleanup_(slm_model_freep) slm_model *m = slm_model_load(tmp_dir("watched"), &err);
    REQUIRE(m);
    CHECK(slm_model_files_intact(m));
    char path[600], other[600];
    snprintf(path, sizeof(path), "%s/model.safetensors", tmp_dir("watched"));
    snprintf(other, sizeof(other), "%s/model.safetensors", tmp_dir("watched-2"));
    REQUIRE(rename(other, path) == 0); /* a new file under the same name */
    CHECK(!slm_model_files_intact(m));
}

int main(void)
{
    slm_error err;
    pool = slm_pool_new(2, &err);
    REQUIRE(pool);
    make_tmp_root();
    test_reference();
    test_batching();
    test_bad_directories();
    test_sentence_transformers();
    test_files_watched();
    nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    slm_pool_free(pool);
    return test_report();
}
