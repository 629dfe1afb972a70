/* Test helpers for the encoder: safetensors files built entry by entry (valid ones and
 * every kind of broken one), and small random-weight Hugging Face directories (DistilBERT,
 * BERT) whose weights stay in memory so that a test can recompute the model its own way.
 * Header-only; test code, so running out of memory aborts. */
#ifndef SLM_TEST_ENCODER_BUILDER_H
#define SLM_TEST_ENCODER_BUILDER_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "quant/fp16.h"

/* ---- growable bytes ---- */

struct tb_buf {
    char *data;
    size_t len, cap;
};

static inline void tb_bytes(struct tb_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = realloc(b->data, cap);
        if (!b->data)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

__attribute__((format(printf, 2, 3))) static inline void tb_printf(struct tb_buf *b,
                                                                    const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    tb_bytes(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static inline void tb_free(struct tb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

/* ---- safetensors ---- */

struct stb {
    struct tb_buf header; /* entries, comma-separated, without the braces */
    struct tb_buf data;
};

/* A raw header entry, e.g. "\"w\":{...}" — anything at all, for broken files. */
static inline void stb_raw(struct stb *s, const char *entry)
{
    if (s->header.len)
        tb_bytes(&s->header, ",", 1);
    tb_bytes(&s->header, entry, strlen(entry));
}

/* A well-formed entry whose data is appended now (offsets follow the data so far). */
static inline void stb_tensor(struct stb *s, const char *name, const char *dtype,
                              const int64_t *shape, int n_dims, const void *bytes, size_t nbytes)
{
    struct tb_buf e = {0};
    tb_printf(&e, "\"%s\":{\"dtype\":\"%s\",\"shape\":[", name, dtype);
    for (int i = 0; i < n_dims; i++)
        tb_printf(&e, i ? ",%lld" : "%lld", (long long)shape[i]);
    tb_printf(&e, "],\"data_offsets\":[%zu,%zu]}", s->data.len, s->data.len + nbytes);
    stb_raw(s, e.data);
    tb_free(&e);
    tb_bytes(&s->data, bytes, nbytes);
}

/* The whole file: length prefix, "{entries}" padded with spaces to 8 bytes, data. */
static inline struct tb_buf stb_finish(struct stb *s)
{
    struct tb_buf out = {0}, hdr = {0};
    tb_bytes(&hdr, "{", 1);
    if (s->header.len)
        tb_bytes(&hdr, s->header.data, s->header.len);
    tb_bytes(&hdr, "}", 1);
    while (hdr.len % 8)
        tb_bytes(&hdr, " ", 1);
    uint64_t n = hdr.len;
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(n >> (8 * i));
    tb_bytes(&out, le, 8);
    tb_bytes(&out, hdr.data, hdr.len);
    tb_bytes(&out, s->data.data, s->data.len);
    tb_free(&hdr);
    tb_free(&s->header);
    tb_free(&s->data);
    return out;
}

static inline int tb_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : -1;
}

/* ---- random-weight model directories ---- */

enum tm_family { TM_DISTILBERT, TM_BERT };
enum tm_head { TM_BASE, TM_SEQUENCE, TM_TOKEN };

struct tm_config {
    enum tm_family family;
    enum tm_head head;
    int d, layers, heads, ff, vocab, n_pos, n_types, n_labels;
    const char *dtype;  /* "F32", "F16" or "BF16" */
    const char *act;    /* NULL: "gelu" */
    double eps;         /* 0: the default 1e-12 */
    int prefix;         /* store the base model under "distilbert." / "bert." */
    int legacy_norms;   /* BERT only: LayerNorm.gamma / .beta */
};

struct tm_tensor {
    char name[128];
    int64_t shape[2];
    int n_dims;
    float *values; /* as the model will see them (after rounding to the dtype) */
};

struct tm_model {
    struct tm_config cfg;
    struct tm_tensor *t;
    int n;
};

static inline uint64_t tm_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static inline float tm_uniform(uint64_t *s) { return (float)((tm_rand(s) >> 11) * 0x1.0p-53) * 2 - 1; }

static inline const struct tm_tensor *tm_find(const struct tm_model *m, const char *name)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->t[i].name, name) == 0)
            return &m->t[i];
    return NULL;
}

/* Adds a tensor with values uniform in [-scale, scale] (+ offset), rounded to the dtype. */
static inline void tm_add(struct tm_model *m, struct stb *s, uint64_t *rng, const char *name,
                          int64_t rows, int64_t cols, float scale, float offset)
{
    m->t = realloc(m->t, (size_t)(m->n + 1) * sizeof(*m->t));
    if (!m->t)
        abort();
    struct tm_tensor *t = &m->t[m->n++];
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->n_dims = cols ? 2 : 1;
    t->shape[0] = rows;
    t->shape[1] = cols;
    size_t n = (size_t)rows * (size_t)(cols ? cols : 1);
    t->values = malloc(n * sizeof(float));
    size_t elem = strcmp(m->cfg.dtype, "F32") == 0 ? 4 : 2;
    uint8_t *raw = malloc(n * elem);
    if (!t->values || !raw)
        abort();
    for (size_t i = 0; i < n; i++) {
        float v = tm_uniform(rng) * scale + offset;
        if (elem == 4) {
            memcpy(raw + 4 * i, &v, 4);
        } else if (strcmp(m->cfg.dtype, "F16") == 0) {
            uint16_t h = slm_f32_to_fp16(v);
            memcpy(raw + 2 * i, &h, 2);
            v = slm_fp16_to_f32(h);
        } else {
            uint16_t h = slm_f32_to_bf16(v);
            memcpy(raw + 2 * i, &h, 2);
            v = slm_bf16_to_f32(h);
        }
        t->values[i] = v;
    }
    stb_tensor(s, name, m->cfg.dtype, t->shape, t->n_dims, raw, n * elem);
    free(raw);
}

static inline void tm_free(struct tm_model *m)
{
    for (int i = 0; i < m->n; i++)
        free(m->t[i].values);
    free(m->t);
    memset(m, 0, sizeof(*m));
}

/* The vocabulary every test directory gets: the five BERT specials, then letters and
 * "w0".."wN" words, padded to cfg.vocab entries. */
static inline int tm_write_vocab(const char *dir, int vocab)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/vocab.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    const char *specials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    int i = 0;
    for (; i < 5 && i < vocab; i++)
        fprintf(f, "%s\n", specials[i]);
    for (char c = 'a'; c <= 'z' && i < vocab; c++, i++)
        fprintf(f, "%c\n", c);
    for (char c = 'a'; c <= 'z' && i < vocab; c++, i++)
        fprintf(f, "##%c\n", c);
    const char *punct = ".,!?";
    for (const char *p = punct; *p && i < vocab; p++, i++)
        fprintf(f, "%c\n", *p);
    for (int w = 0; i < vocab; w++, i++)
        fprintf(f, "w%d\n", w);
    return fclose(f);
}

static inline void tm_config_json(const struct tm_config *c, struct tb_buf *j)
{
    bool distil = c->family == TM_DISTILBERT;
    const char *arch = distil ? (c->head == TM_SEQUENCE ? "DistilBertForSequenceClassification"
                                 : c->head == TM_TOKEN  ? "DistilBertForTokenClassification"
                                                        : "DistilBertModel")
                              : (c->head == TM_SEQUENCE ? "BertForSequenceClassification"
                                 : c->head == TM_TOKEN  ? "BertForTokenClassification"
                                                        : "BertModel");
    tb_printf(j, "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n", arch,
              distil ? "distilbert" : "bert");
    if (distil)
        tb_printf(j, "  \"dim\": %d, \"n_layers\": %d, \"n_heads\": %d, \"hidden_dim\": %d,\n"
                     "  \"activation\": \"%s\",\n", c->d, c->layers, c->heads, c->ff,
                  c->act ? c->act : "gelu");
    else
        tb_printf(j, "  \"hidden_size\": %d, \"num_hidden_layers\": %d, "
                     "\"num_attention_heads\": %d, \"intermediate_size\": %d,\n"
                     "  \"hidden_act\": \"%s\", \"type_vocab_size\": %d,\n", c->d, c->layers,
                  c->heads, c->ff, c->act ? c->act : "gelu", c->n_types);
    if (c->eps)
        tb_printf(j, "  \"layer_norm_eps\": %g,\n", c->eps);
    tb_printf(j, "  \"vocab_size\": %d, \"max_position_embeddings\": %d", c->vocab, c->n_pos);
    if (c->head != TM_BASE && c->n_labels) {
        tb_printf(j, ",\n  \"id2label\": {");
        for (int i = 0; i < c->n_labels; i++) {
            const char *bio[] = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"};
            if (c->head == TM_TOKEN && i < 7)
                tb_printf(j, "%s\"%d\": \"%s\"", i ? ", " : "", i, bio[i]);
            else
                tb_printf(j, "%s\"%d\": \"L%d\"", i ? ", " : "", i, i);
        }
        tb_printf(j, "}");
    }
    tb_printf(j, "\n}\n");
}

/* Writes DIR/config.json, DIR/model.safetensors, DIR/vocab.txt; weights stay in *m. */
static inline int tm_write(const char *dir, const struct tm_config *cfg, uint64_t seed,
                           struct tm_model *m)
{
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    mkdir(dir, 0755);
    uint64_t rng = seed * 2654435761u + 1;
    struct stb s = {0};
    const bool distil = cfg->family == TM_DISTILBERT;
    const char *pfx = cfg->prefix ? (distil ? "distilbert." : "bert.") : "";
    const char *nw = cfg->legacy_norms ? "gamma" : "weight";
    const char *nb = cfg->legacy_norms ? "beta" : "bias";
    const float ws = 1.0f / sqrtf((float)cfg->d), fs = 1.0f / sqrtf((float)cfg->ff);
    char name[160];
#define ADD(rows, cols, scale, offset, ...)                                                    \
    do {                                                                                       \
        snprintf(name, sizeof(name), __VA_ARGS__);                                             \
        tm_add(m, &s, &rng, name, rows, cols, scale, offset);                                  \
    } while (0)
    ADD(cfg->vocab, cfg->d, 1.0f, 0, "%sembeddings.word_embeddings.weight", pfx);
    ADD(cfg->n_pos, cfg->d, 0.5f, 0, "%sembeddings.position_embeddings.weight", pfx);
    if (!distil)
        ADD(cfg->n_types, cfg->d, 0.5f, 0, "%sembeddings.token_type_embeddings.weight", pfx);
    ADD(cfg->d, 0, 0.2f, 1, "%sembeddings.LayerNorm.%s", pfx, nw);
    ADD(cfg->d, 0, 0.2f, 0, "%sembeddings.LayerNorm.%s", pfx, nb);
    for (int l = 0; l < cfg->layers; l++) {
        const char *lin[4][2] = {{"attention.q_lin", "attention.self.query"},
                                 {"attention.k_lin", "attention.self.key"},
                                 {"attention.v_lin", "attention.self.value"},
                                 {"attention.out_lin", "attention.output.dense"}};
        const char *blk = distil ? "transformer.layer" : "encoder.layer";
        for (int i = 0; i < 4; i++) {
            ADD(cfg->d, cfg->d, ws, 0, "%s%s.%d.%s.weight", pfx, blk, l, lin[i][!distil]);
            ADD(cfg->d, 0, 0.1f, 0, "%s%s.%d.%s.bias", pfx, blk, l, lin[i][!distil]);
        }
        const char *n1 = distil ? "sa_layer_norm" : "attention.output.LayerNorm";
        const char *up = distil ? "ffn.lin1" : "intermediate.dense";
        const char *down = distil ? "ffn.lin2" : "output.dense";
        const char *n2 = distil ? "output_layer_norm" : "output.LayerNorm";
        ADD(cfg->d, 0, 0.2f, 1, "%s%s.%d.%s.%s", pfx, blk, l, n1, distil ? "weight" : nw);
        ADD(cfg->d, 0, 0.2f, 0, "%s%s.%d.%s.%s", pfx, blk, l, n1, distil ? "bias" : nb);
        ADD(cfg->ff, cfg->d, ws, 0, "%s%s.%d.%s.weight", pfx, blk, l, up);
        ADD(cfg->ff, 0, 0.1f, 0, "%s%s.%d.%s.bias", pfx, blk, l, up);
        ADD(cfg->d, cfg->ff, fs, 0, "%s%s.%d.%s.weight", pfx, blk, l, down);
        ADD(cfg->d, 0, 0.1f, 0, "%s%s.%d.%s.bias", pfx, blk, l, down);
        ADD(cfg->d, 0, 0.2f, 1, "%s%s.%d.%s.%s", pfx, blk, l, n2, distil ? "weight" : nw);
        ADD(cfg->d, 0, 0.2f, 0, "%s%s.%d.%s.%s", pfx, blk, l, n2, distil ? "bias" : nb);
    }
    if (cfg->head == TM_SEQUENCE) {
        if (distil) {
            ADD(cfg->d, cfg->d, ws, 0, "pre_classifier.weight");
            ADD(cfg->d, 0, 0.1f, 0, "pre_classifier.bias");
        } else {
            ADD(cfg->d, cfg->d, ws, 0, "%spooler.dense.weight", pfx);
            ADD(cfg->d, 0, 0.1f, 0, "%spooler.dense.bias", pfx);
        }
    }
    if (cfg->head != TM_BASE) {
        ADD(cfg->n_labels, cfg->d, ws, 0, "classifier.weight");
        ADD(cfg->n_labels, 0, 0.1f, 0, "classifier.bias");
    }
#undef ADD
    struct tb_buf file = stb_finish(&s), json = {0};
    tm_config_json(cfg, &json);
    char path[4096];
    snprintf(path, sizeof(path), "%s/model.safetensors", dir);
    int r = tb_write_file(path, file.data, file.len);
    snprintf(path, sizeof(path), "%s/config.json", dir);
    if (r == 0)
        r = tb_write_file(path, json.data, json.len);
    if (r == 0)
        r = tm_write_vocab(dir, cfg->vocab);
    tb_free(&file);
    tb_free(&json);
    return r;
}

#endif
