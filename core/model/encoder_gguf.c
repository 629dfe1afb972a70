/* GGUF `bert` (llama.cpp's conversion of BERT-family embedding models): metadata under
 * bert.*, tensors
 *   token_embd, token_types, position_embd, token_embd_norm.{weight,bias}
 *   blk.N.attn_{q,k,v,output}.{weight,bias}, blk.N.attn_output_norm.{weight,bias}
 *   blk.N.ffn_{up,down}.{weight,bias}, blk.N.layer_output_norm.{weight,bias}
 * and the pooling the embeddings use in bert.pooling_type. */
#include <stdio.h>

#include "encoder_model.h"

/* bert.pooling_type values (llama.cpp's enum llama_pooling_type). */
enum gguf_pooling { GGUF_POOL_NONE = 0, GGUF_POOL_MEAN = 1, GGUF_POOL_CLS = 2, GGUF_POOL_LAST = 3 };

static int need_u32(const slm_model *m, const char *key, uint32_t *out, slm_error *err)
{
    int r = slm_gguf_get_u32(m->gguf, key, out, err);
    if (r == -SLM_ERR_NOT_FOUND)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s is missing", m->path, key);
    return r;
}

static int read_hparams(slm_model *m, struct encoder_hparams *hp, slm_error *err)
{
    const slm_gguf *g = m->gguf;
    int r;
    if ((r = need_u32(m, "bert.embedding_length", &hp->n_embd, err)) < 0 ||
        (r = need_u32(m, "bert.attention.head_count", &hp->n_head, err)) < 0 ||
        (r = need_u32(m, "bert.feed_forward_length", &hp->n_ff, err)) < 0 ||
        (r = need_u32(m, "bert.context_length", &hp->n_pos, err)) < 0)
        return r;
    hp->eps = 1e-12f;
    r = slm_gguf_get_f32(g, "bert.attention.layer_norm_epsilon", &hp->eps, err);
    if (r < 0 && r != -SLM_ERR_NOT_FOUND)
        return r;
    bool causal = false;
    r = slm_gguf_get_bool(g, "bert.attention.causal", &causal, err);
    if (r < 0 && r != -SLM_ERR_NOT_FOUND)
        return r;
    if (causal)
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: a causal bert is not an encoder slmd "
                          "runs", m->path);
    hp->act = ENCODER_ACT_GELU;
    return 0;
}

static int read_pooling(slm_model *m, slm_error *err)
{
    uint32_t type = GGUF_POOL_NONE;
    int r = slm_gguf_get_u32(m->gguf, "bert.pooling_type", &type, err);
    if (r < 0 && r != -SLM_ERR_NOT_FOUND)
        return r;
    switch (type) {
    case GGUF_POOL_NONE: m->info.pooling = SLM_POOL_NONE; break;
    case GGUF_POOL_MEAN: m->info.pooling = SLM_POOL_MEAN; break;
    case GGUF_POOL_CLS: m->info.pooling = SLM_POOL_CLS; break;
    case GGUF_POOL_LAST: m->info.pooling = SLM_POOL_LAST; break;
    default:
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: bert.pooling_type %u is not supported "
                          "(0 none, 1 mean, 2 cls, 3 last)", m->path, type);
    }
    return 0;
}

static int bind_layer(slm_model *m, const struct encoder_hparams *hp, uint32_t i,
                      struct encoder_layer *L, slm_error *err)
{
    const int64_t d = hp->n_embd, ff = hp->n_ff;
    char name[96];
#define W(field, suffix, n_in, n_out)                                                          \
    if ((r = model_weight(m, tensor_name(name, sizeof(name), "blk.%u." suffix ".weight", i),   \
                          n_in, n_out, true, &L->field, err)) < 0)                              \
        return r;
#define V(field, suffix, n)                                                                    \
    if ((r = model_vector(m, tensor_name(name, sizeof(name), "blk.%u." suffix, i), n, true,    \
                          &L->field, err)) < 0)                                                 \
        return r;
    int r;
    W(wq, "attn_q", d, d)
    V(bq, "attn_q.bias", d)
    W(wk, "attn_k", d, d)
    V(bk, "attn_k.bias", d)
    W(wv, "attn_v", d, d)
    V(bv, "attn_v.bias", d)
    W(wo, "attn_output", d, d)
    V(bo, "attn_output.bias", d)
    V(attn_norm_w, "attn_output_norm.weight", d)
    V(attn_norm_b, "attn_output_norm.bias", d)
    W(w_up, "ffn_up", d, ff)
    V(b_up, "ffn_up.bias", ff)
    W(w_down, "ffn_down", ff, d)
    V(b_down, "ffn_down.bias", d)
    V(out_norm_w, "layer_output_norm.weight", d)
    V(out_norm_b, "layer_output_norm.bias", d)
#undef W
#undef V
    return 0;
}

/* An embedding table: rows of d, its row count read from the file. */
static int bind_table(slm_model *m, const char *name, int64_t d, bool required,
                      struct slm_weight *w, uint32_t *rows, slm_error *err)
{
    const struct slm_gguf_tensor *t = slm_gguf_find_tensor(m->gguf, name);
    if (!t) {
        *rows = 0;
        return required ? slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' is missing", m->path,
                                     name)
                        : 0;
    }
    if (t->n_dims != 2 || t->ne[1] <= 0 || t->ne[1] > SLM_MAX_VOCAB)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor '%s' must be a table of [%lld] rows",
                          m->path, name, (long long)d);
    *rows = (uint32_t)t->ne[1];
    return model_weight(m, name, d, t->ne[1], true, w, err);
}

int bert_load_gguf(slm_model *m, slm_error *err)
{
    uint32_t n_layer = 0;
    int r = need_u32(m, "bert.block_count", &n_layer, err);
    if (r < 0)
        return r;
    struct encoder_model *e = encoder_model_new(m, n_layer, err);
    if (!e)
        return -(int)err->status;
    struct encoder_hparams *hp = &e->hp;
    struct encoder_weights *w = &e->w;
    if ((r = read_hparams(m, hp, err)) < 0 || (r = read_pooling(m, err)) < 0)
        return r;
    if (hp->n_embd == 0 || hp->n_embd > SLM_MAX_EMBD)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: bert.embedding_length %u (1 to %u)",
                          m->path, hp->n_embd, SLM_MAX_EMBD);
    const int64_t d = hp->n_embd;
    uint32_t n_pos = 0;
    if ((r = bind_table(m, "token_embd.weight", d, true, &w->tok_embd, &hp->n_vocab, err)) < 0 ||
        (r = bind_table(m, "position_embd.weight", d, true, &w->pos_embd, &n_pos, err)) < 0 ||
        (r = bind_table(m, "token_types.weight", d, false, &w->type_embd, &hp->n_token_types,
                        err)) < 0 ||
        (r = model_vector(m, "token_embd_norm.weight", d, true, &w->embd_norm_w, err)) < 0 ||
        (r = model_vector(m, "token_embd_norm.bias", d, true, &w->embd_norm_b, err)) < 0)
        return r;
    /* positions past the table have no embedding, whatever the metadata claims */
    if (n_pos < hp->n_pos)
        hp->n_pos = n_pos;
    if (hp->n_head == 0 || hp->n_embd % hp->n_head)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %u attention heads do not divide the width "
                          "%u", m->path, hp->n_head, hp->n_embd);
    if (hp->n_ff == 0 || hp->n_ff > 4u * SLM_MAX_EMBD)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: bert.feed_forward_length %u is out of "
                          "range", m->path, hp->n_ff);
    for (uint32_t i = 0; i < n_layer; i++)
        if ((r = bind_layer(m, hp, i, &w->layers[i], err)) < 0)
            return r;
    m->info.head = SLM_HEAD_NONE;
    return encoder_finish_load(m, err);
}
