/* Tensor names of the Hugging Face DistilBERT and BERT checkpoints.
 *
 * A task model stores the base model under "distilbert." / "bert." and its head at the
 * top level; a base model saved on its own has no prefix. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hf_internal.h"

static const char *base_prefix(struct hf_binder *b, const char *family)
{
    char probe[64];
    snprintf(probe, sizeof(probe), "%s.embeddings.word_embeddings.weight", family);
    return slm_safetensors_find(b->st, probe) ? family : NULL;
}

/* "PREFIX.rest" or "rest". */
__attribute__((format(printf, 4, 5))) static const char *
name_in(char *buf, size_t cap, const char *prefix, const char *fmt, ...)
{
    char rest[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rest, sizeof(rest), fmt, ap);
    va_end(ap);
    if (prefix)
        snprintf(buf, cap, "%s.%s", prefix, rest);
    else
        snprintf(buf, cap, "%s", rest);
    return buf;
}

static int bind_embeddings(struct hf_binder *b, const char *prefix, const struct hf_config *cfg,
                           slm_error *err)
{
    struct encoder_model *e = encoder_of(b->m);
    const int64_t d = cfg->n_embd;
    char name[256];
    int r;
    if ((r = hf_bind_matrix(b, name_in(name, sizeof(name), prefix,
                                       "embeddings.word_embeddings.weight"),
                            d, cfg->n_vocab, true, &e->w.tok_embd, err)) < 0 ||
        (r = hf_bind_matrix(b, name_in(name, sizeof(name), prefix,
                                       "embeddings.position_embeddings.weight"),
                            d, cfg->n_pos, true, &e->w.pos_embd, err)) < 0 ||
        (r = hf_bind_norm(b, name_in(name, sizeof(name), prefix, "embeddings.LayerNorm"), d,
                          &e->w.embd_norm_w, &e->w.embd_norm_b, err)) < 0)
        return r;
    if (cfg->n_token_types)
        r = hf_bind_matrix(b, name_in(name, sizeof(name), prefix,
                                      "embeddings.token_type_embeddings.weight"),
                           d, cfg->n_token_types, true, &e->w.type_embd, err);
    return r;
}

int hf_bind_distilbert(struct hf_binder *b, const struct hf_config *cfg, slm_error *err)
{
    struct encoder_model *e = encoder_of(b->m);
    const char *prefix = base_prefix(b, "distilbert");
    const int64_t d = cfg->n_embd, ff = cfg->n_ff;
    char name[256];
    int r = bind_embeddings(b, prefix, cfg, err);
    for (uint32_t i = 0; r == 0 && i < cfg->n_layer; i++) {
        struct encoder_layer *L = &e->w.layers[i];
#define P(fmt) name_in(name, sizeof(name), prefix, "transformer.layer.%u." fmt, i)
        if ((r = hf_bind_linear(b, P("attention.q_lin"), d, d, &L->wq, &L->bq, err)) < 0 ||
            (r = hf_bind_linear(b, P("attention.k_lin"), d, d, &L->wk, &L->bk, err)) < 0 ||
            (r = hf_bind_linear(b, P("attention.v_lin"), d, d, &L->wv, &L->bv, err)) < 0 ||
            (r = hf_bind_linear(b, P("attention.out_lin"), d, d, &L->wo, &L->bo, err)) < 0 ||
            (r = hf_bind_norm(b, P("sa_layer_norm"), d, &L->attn_norm_w, &L->attn_norm_b,
                              err)) < 0 ||
            (r = hf_bind_linear(b, P("ffn.lin1"), d, ff, &L->w_up, &L->b_up, err)) < 0 ||
            (r = hf_bind_linear(b, P("ffn.lin2"), ff, d, &L->w_down, &L->b_down, err)) < 0 ||
            (r = hf_bind_norm(b, P("output_layer_norm"), d, &L->out_norm_w, &L->out_norm_b,
                              err)) < 0)
            return r;
#undef P
    }
    if (r == 0 && cfg->head == SLM_HEAD_SEQUENCE_CLASS) {
        /* DistilBertForSequenceClassification: relu(pre_classifier(h[CLS])) -> classifier */
        e->w.pooler = ENCODER_POOLER_RELU;
        r = hf_bind_linear(b, "pre_classifier", d, d, &e->w.pool_w, &e->w.pool_b, err);
    }
    return r;
}

int hf_bind_bert(struct hf_binder *b, const struct hf_config *cfg, slm_error *err)
{
    struct encoder_model *e = encoder_of(b->m);
    const char *prefix = base_prefix(b, "bert");
    const int64_t d = cfg->n_embd, ff = cfg->n_ff;
    char name[256];
    int r = bind_embeddings(b, prefix, cfg, err);
    for (uint32_t i = 0; r == 0 && i < cfg->n_layer; i++) {
        struct encoder_layer *L = &e->w.layers[i];
#define P(fmt) name_in(name, sizeof(name), prefix, "encoder.layer.%u." fmt, i)
        if ((r = hf_bind_linear(b, P("attention.self.query"), d, d, &L->wq, &L->bq, err)) < 0 ||
            (r = hf_bind_linear(b, P("attention.self.key"), d, d, &L->wk, &L->bk, err)) < 0 ||
            (r = hf_bind_linear(b, P("attention.self.value"), d, d, &L->wv, &L->bv, err)) < 0 ||
            (r = hf_bind_linear(b, P("attention.output.dense"), d, d, &L->wo, &L->bo, err)) < 0 ||
            (r = hf_bind_norm(b, P("attention.output.LayerNorm"), d, &L->attn_norm_w,
                              &L->attn_norm_b, err)) < 0 ||
            (r = hf_bind_linear(b, P("intermediate.dense"), d, ff, &L->w_up, &L->b_up, err)) < 0 ||
            (r = hf_bind_linear(b, P("output.dense"), ff, d, &L->w_down, &L->b_down, err)) < 0 ||
            (r = hf_bind_norm(b, P("output.LayerNorm"), d, &L->out_norm_w, &L->out_norm_b,
                              err)) < 0)
            return r;
#undef P
    }
    if (r == 0 && cfg->head == SLM_HEAD_SEQUENCE_CLASS) {
        /* BertForSequenceClassification: tanh(pooler(h[CLS])) -> classifier */
        e->w.pooler = ENCODER_POOLER_TANH;
        r = hf_bind_linear(b, name_in(name, sizeof(name), prefix, "pooler.dense"), d, d,
                           &e->w.pool_w, &e->w.pool_b, err);
    }
    return r;
}

int hf_bind_classifier(struct hf_binder *b, const struct hf_config *cfg, slm_error *err)
{
    slm_model *m = b->m;
    struct encoder_model *e = encoder_of(m);
    int64_t rows = hf_tensor_rows(b, "classifier.weight");
    if (rows < 0)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor 'classifier.weight' is missing or "
                          "not a matrix (%s has a classification head)",
                          slm_safetensors_name(b->st), cfg->architecture);
    if (rows == 0 || rows > SLM_MAX_LABELS)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: classifier.weight has %lld rows (1 to %u "
                          "labels)", slm_safetensors_name(b->st), (long long)rows,
                          SLM_MAX_LABELS);
    if (cfg->n_labels && (int64_t)cfg->n_labels != rows)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: id2label names %u labels but "
                          "classifier.weight has %lld rows", m->path, cfg->n_labels,
                          (long long)rows);
    int r = hf_bind_linear(b, "classifier", cfg->n_embd, rows, &e->w.cls_w, &e->w.cls_b, err);
    if (r < 0)
        return r;
    const char **labels = model_alloc(m, (size_t)rows * sizeof(*labels));
    if (!labels)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", m->path);
    for (int64_t i = 0; i < rows; i++) {
        char fallback[32];
        /* Hugging Face's names when the config has no id2label */
        snprintf(fallback, sizeof(fallback), "LABEL_%lld", (long long)i);
        labels[i] = model_strdup(m, cfg->n_labels ? cfg->labels[i] : fallback);
        if (!labels[i])
            return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", m->path);
    }
    m->info.labels = labels;
    m->info.n_labels = (uint32_t)rows;
    return 0;
}
