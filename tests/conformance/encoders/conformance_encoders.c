/* Encoders against ../shared/ref, through the slm tool as a user runs it:
 *
 *   - distilbert-tiny-{sst2,ner}: `slm tokenize` gives the reference ids, `slm logits` the
 *     reference logits with err = max|mine - ref| / std(ref) <= 0.01 (std over the file);
 *   - bert-tiny-F16.gguf: ids, per-token embeddings and (--pooled) their mean, same bound;
 *   - `slm classify` labels the review as the reference logits do;
 *   - the same text alone and inside a batch of texts of other lengths gives the same
 *     outputs (slm classify, slm embed);
 *   - a directory that is not a model fails with exit status 1 and "slm: error: ...".
 *
 * usage: conformance_encoders PATH-TO-SLM   (SLM_SHARED names the reference data) */
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

/* The conformance bound of shared/README.md for BERT embeddings and DistilBERT logits. */
#define MAX_ERR 0.01

static const char *slm;
static const char *shared;
static char tmp_dir[] = "/tmp/slm-conformance-encoders-XXXXXX";

static char *quote(const char *s)
{
    size_t n = 3;
    for (const char *p = s; *p; p++)
        n += *p == '\'' ? 4 : 1;
    char *q = malloc(n), *o = q;
    *o++ = '\'';
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            memcpy(o, "'\\''", 4);
            o += 4;
        } else {
            *o++ = *p;
        }
    }
    *o++ = '\'';
    *o = '\0';
    return q;
}

/* Runs a shell command; returns its exit status and (if out) its stdout. */
static int run(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    REQUIRE(p);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    int status = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static float *read_floats(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *v = malloc((size_t)size + 4);
    *n = fread(v, sizeof(float), (size_t)size / sizeof(float), f);
    fclose(f);
    return v;
}

/* `slm tokenize -m MODEL` on the text: the ids, space-separated, in a malloc'd string. */
static char *tokenize(const char *model, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/text", tmp_dir);
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    fputs(text, f);
    fclose(f);
    char *qm = quote(model), cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s tokenize -m %s < %s", slm, qm, path);
    free(qm);
    char *out = NULL;
    CHECKF(run(cmd, &out) == 0, "slm tokenize failed on %s", model);
    out[strcspn(out, "\n")] = '\0';
    return out;
}

/* `slm logits` for the ids; returns the floats written. */
static float *logits(const char *model, const char *ids, bool pooled, size_t *n)
{
    char path[512], cmd[8192];
    snprintf(path, sizeof(path), "%s/out.f32", tmp_dir);
    char *qm = quote(model), *qi = quote(ids);
    snprintf(cmd, sizeof(cmd), "%s logits -m %s --tokens %s -o %s%s", slm, qm, qi, path,
             pooled ? " --pooled" : "");
    free(qm);
    free(qi);
    CHECKF(run(cmd, NULL) == 0, "slm logits failed: %s", cmd);
    return read_floats(path, n);
}

static double stddev(const double *v, size_t n)
{
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += v[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (v[i] - mean) * (v[i] - mean);
    return sqrt(var / (double)n);
}

static char *ids_text(json_object *ids)
{
    size_t n = json_object_array_length(ids);
    char *s = calloc(n * 12 + 1, 1), *o = s;
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, i ? " %d" : "%d", json_object_get_int(json_object_array_get_idx(ids, i)));
    return s;
}

/* Every logit of a reference file, flattened, for its standard deviation. */
static double *flat_logits(json_object *cases, size_t *n)
{
    size_t cap = 64, len = 0;
    double *v = malloc(cap * sizeof(double));
    for (size_t c = 0; c < json_object_array_length(cases); c++) {
        json_object *l = json_object_object_get(json_object_array_get_idx(cases, c), "logits");
        for (size_t i = 0; i < json_object_array_length(l); i++) {
            json_object *x = json_object_array_get_idx(l, i);
            size_t inner = json_object_is_type(x, json_type_array) ? json_object_array_length(x) : 1;
            for (size_t j = 0; j < inner; j++) {
                if (len == cap)
                    v = realloc(v, (cap *= 2) * sizeof(double));
                v[len++] = json_object_get_double(
                    json_object_is_type(x, json_type_array) ? json_object_array_get_idx(x, j) : x);
            }
        }
    }
    *n = len;
    return v;
}

static void check_distilbert(const char *name)
{
    char model[1024], ref_path[1024];
    snprintf(model, sizeof(model), "%s/models/distilbert-tiny-%s", shared, name);
    snprintf(ref_path, sizeof(ref_path), "%s/ref/distilbert-tiny-%s.reference.json", shared, name);
    json_object *cases = json_object_from_file(ref_path);
    REQUIRE(cases && json_object_is_type(cases, json_type_array));
    size_t n_all;
    double *all = flat_logits(cases, &n_all);
    double sd = stddev(all, n_all);
    free(all);
    for (size_t c = 0; c < json_object_array_length(cases); c++) {
        json_object *cs = json_object_array_get_idx(cases, c);
        const char *text = json_object_get_string(json_object_object_get(cs, "text"));
        char *want_ids = ids_text(json_object_object_get(cs, "ids"));
        char *got_ids = tokenize(model, text);
        CHECKF(strcmp(want_ids, got_ids) == 0, "%s: \"%s\" tokenizes to %s, expected %s", name,
               text, got_ids, want_ids);
        size_t n;
        float *mine = logits(model, want_ids, false, &n);
        REQUIRE(mine);
        json_object *l = json_object_object_get(cs, "logits");
        size_t n_ref;
        json_object *one = json_object_new_array();
        json_object_array_add(one, json_object_new_object());
        json_object_object_add(json_object_array_get_idx(one, 0), "logits", json_object_get(l));
        double *ref = flat_logits(one, &n_ref);
        json_object_put(one);
        CHECKF(n == n_ref, "%s case %zu: %zu logits, expected %zu", name, c, n, n_ref);
        double err = 0;
        for (size_t i = 0; i < n && i < n_ref; i++)
            err = fmax(err, fabs(mine[i] - ref[i]) / sd);
        CHECKF(err <= MAX_ERR, "%s case %zu: err %.4g > %.2g", name, c, err, MAX_ERR);
        printf("distilbert-tiny-%s case %zu: %zu logits, err %.2e\n", name, c, n, err);
        free(ref);
        free(mine);
        free(want_ids);
        free(got_ids);
    }
    json_object_put(cases);
}

static void check_bert_gguf(void)
{
    char model[1024], path[1024];
    snprintf(model, sizeof(model), "%s/models/bert-tiny-F16.gguf", shared);
    snprintf(path, sizeof(path), "%s/ref/bert-tiny-F16.ids", shared);
    FILE *f = fopen(path, "r");
    REQUIRE(f);
    char want_ids[4096] = {0};
    REQUIRE(fgets(want_ids, sizeof(want_ids), f));
    fclose(f);
    want_ids[strcspn(want_ids, "\n")] = '\0';
    char *got_ids = tokenize(model, "The quick brown fox jumps over the lazy dog.");
    CHECKF(strcmp(want_ids, got_ids) == 0, "bert-tiny: ids %s, expected %s", got_ids, want_ids);
    free(got_ids);
    const char *outputs[2] = {"embd", "mean"};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof(path), "%s/ref/bert-tiny-F16.%s.f32", shared, outputs[k]);
        size_t n_ref, n;
        float *ref = read_floats(path, &n_ref);
        REQUIRE(ref);
        float *mine = logits(model, want_ids, k == 1, &n);
        REQUIRE(mine);
        double *refd = malloc(n_ref * sizeof(double));
        for (size_t i = 0; i < n_ref; i++)
            refd[i] = ref[i];
        double sd = stddev(refd, n_ref), err = 0;
        CHECKF(n == n_ref, "bert-tiny %s: %zu floats, expected %zu", outputs[k], n, n_ref);
        for (size_t i = 0; i < n && i < n_ref; i++)
            err = fmax(err, fabs(mine[i] - ref[i]) / sd);
        CHECKF(err <= MAX_ERR, "bert-tiny %s: err %.4g > %.2g", outputs[k], err, MAX_ERR);
        printf("bert-tiny-F16 %s: %zu floats, err %.2e\n", outputs[k], n, err);
        free(refd);
        free(ref);
        free(mine);
    }
}

/* `slm classify --json` on the review labels it as the reference logits say. */
static void check_review_label(void)
{
    char model[1024], ref_path[1024];
    snprintf(model, sizeof(model), "%s/models/distilbert-tiny-sst2", shared);
    snprintf(ref_path, sizeof(ref_path), "%s/ref/distilbert-tiny-sst2.reference.json", shared);
    json_object *cases = json_object_from_file(ref_path);
    REQUIRE(cases);
    json_object *cs = json_object_array_get_idx(cases, 0);
    const char *text = json_object_get_string(json_object_object_get(cs, "text"));
    json_object *l = json_object_object_get(cs, "logits");
    double l0 = json_object_get_double(json_object_array_get_idx(l, 0));
    double l1 = json_object_get_double(json_object_array_get_idx(l, 1));
    const char *want = l1 > l0 ? "POSITIVE" : "NEGATIVE";
    double want_score = 1 / (1 + exp(-fabs(l1 - l0)));
    char *qm = quote(model), *qt = quote(text), cmd[4096], *out = NULL;
    snprintf(cmd, sizeof(cmd), "%s classify -m %s --json %s", slm, qm, qt);
    CHECK(run(cmd, &out) == 0);
    json_object *res = json_tokener_parse(out);
    REQUIRE(res && json_object_array_length(res) == 1);
    json_object *r0 = json_object_array_get_idx(res, 0);
    const char *label = json_object_get_string(json_object_object_get(r0, "label"));
    double score = json_object_get_double(json_object_object_get(r0, "score"));
    CHECKF(label && strcmp(label, want) == 0, "\"%s\" classified %s, the reference says %s",
           text, label, want);
    CHECKF(fabs(score - want_score) < 1e-3, "score %.4f, the reference gives %.4f", score,
           want_score);
    printf("\"%s\" -> %s %.4f (reference logits: %s %.4f)\n", text, label, score, want,
           want_score);
    json_object_put(res);
    json_object_put(cases);
    free(out);
    free(qm);
    free(qt);
}

/* Output of `slm CMD -m MODEL --json TEXT...` parsed. */
static json_object *run_json(const char *cmdname, const char *model, const char *const *texts,
                             int n)
{
    char cmd[8192];
    char *qm = quote(model);
    int o = snprintf(cmd, sizeof(cmd), "%s %s -m %s --json", slm, cmdname, qm);
    free(qm);
    for (int i = 0; i < n; i++) {
        char *qt = quote(texts[i]);
        o += snprintf(cmd + o, sizeof(cmd) - (size_t)o, " %s", qt);
        free(qt);
    }
    char *out = NULL;
    CHECKF(run(cmd, &out) == 0, "%s failed", cmd);
    json_object *res = json_tokener_parse(out);
    free(out);
    REQUIRE(res);
    return res;
}

/* Largest difference between two JSON values of the same shape (numbers compared, other
 * leaves required equal). */
static double json_diff(json_object *a, json_object *b)
{
    if (json_object_get_type(a) != json_object_get_type(b))
        return INFINITY;
    switch (json_object_get_type(a)) {
    case json_type_double:
    case json_type_int:
        return fabs(json_object_get_double(a) - json_object_get_double(b));
    case json_type_array: {
        if (json_object_array_length(a) != json_object_array_length(b))
            return INFINITY;
        double d = 0;
        for (size_t i = 0; i < json_object_array_length(a); i++)
            d = fmax(d, json_diff(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)));
        return d;
    }
    case json_type_object: {
        double d = 0;
        json_object_object_foreach(a, key, va)
        {
            json_object *vb;
            if (!json_object_object_get_ex(b, key, &vb))
                return INFINITY;
            d = fmax(d, json_diff(va, vb));
        }
        return d;
    }
    default:
        return json_object_equal(a, b) ? 0 : INFINITY;
    }
}

static void check_batch_equals_alone(const char *cmdname, const char *model)
{
    static const char *const texts[] = {
        "Maria Schmidt works for Siemens in Munich.",
        "ok",
        ("The battery died after two days. Terrible. I sent it back to the shop in Berlin and "
         "asked for my money, which took three weeks and four phone calls to get."),
        "This is a great product, highly recommended!",
    };
    json_object *batch = run_json(cmdname, model, texts, 4);
    double worst = 0;
    for (int i = 0; i < 4; i++) {
        json_object *alone = run_json(cmdname, model, texts + i, 1);
        worst = fmax(worst, json_diff(json_object_array_get_idx(alone, 0),
                                      json_object_array_get_idx(batch, i)));
        json_object_put(alone);
    }
    CHECKF(worst < 1e-4, "slm %s on %s: batch and single outputs differ by %g", cmdname, model,
           worst);
    printf("slm %s %s: batch of 4 vs one by one: max difference %.2e\n", cmdname,
           strrchr(model, '/') + 1, worst);
    json_object_put(batch);
}

static void check_errors(void)
{
    const char *data = getenv("SLM_TEST_DATA");
    if (!data)
        return;
    char cmd[4096], *out = NULL;
    snprintf(cmd, sizeof(cmd), "%s classify -m %s/data/encoder/config x 2>&1", slm, data);
    CHECK(run(cmd, &out) == 1);
    CHECKF(strncmp(out, "slm: error: ", 12) == 0 && strstr(out, "config.json is missing"),
           "got: %s", out);
    free(out);
    snprintf(cmd, sizeof(cmd), "%s embed -m %s/models/distilbert-tiny-sst2 2>&1", slm, shared);
    CHECK(run(cmd, NULL) == 2); /* no text: usage */
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: conformance_encoders PATH-TO-SLM\n");
        return 2;
    }
    slm = argv[1];
    shared = test_shared_dir();
    if (!shared)
        return 0;
    REQUIRE(mkdtemp(tmp_dir));
    char model[1024];
    check_distilbert("sst2");
    check_distilbert("ner");
    check_bert_gguf();
    check_review_label();
    snprintf(model, sizeof(model), "%s/models/distilbert-tiny-sst2", shared);
    check_batch_equals_alone("classify", model);
    snprintf(model, sizeof(model), "%s/models/distilbert-tiny-ner", shared);
    check_batch_equals_alone("classify", model);
    snprintf(model, sizeof(model), "%s/models/bert-tiny-F16.gguf", shared);
    check_batch_equals_alone("embed", model);
    check_errors();
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_dir);
    run(cmd, NULL);
    return test_report();
}
