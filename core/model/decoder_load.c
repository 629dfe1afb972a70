/* Loaders of the llama-family decoders: llama (TinyLlama, Llama 2/3, SmolLM, DeepSeek),
 * phi3 (4k and 128k LongRoPE) and openelm. They differ only in how tensors are fused and
 * named and in a few hyper-parameters; one forward pass (decoder.c) runs them all. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model_internal.h"

/* What distinguishes one llama-family architecture from another. */
struct decoder_variant {
    const char *arch;
    bool fused_qkv;     /* attn_qkv instead of attn_q/k/v */
    bool fused_gate_up; /* ffn_up holds gate rows then up rows */
    bool qk_norm;       /* attn_q_norm / attn_k_norm per head */
    bool rope_neox;     /* rotate the two halves of each head */
    bool per_layer;     /* head counts and FFN widths may be per-layer arrays */
};

static const struct decoder_variant llama_variant = {"llama", false, false, false, false, false};
static const struct decoder_variant phi3_variant = {"phi3", true, true, false, true, false};
static const struct decoder_variant openelm_variant = {"openelm", true, false, true, true, true};

static int get_u32(slm_model *m, const char *arch, const char *suffix, uint32_t *out,
                   bool required, slm_error *err)
{
    char key[128];
    snprintf(key, sizeof(key), "%s.%s", arch, suffix);
    int r = slm_gguf_get_u32(m->gguf, key, out, err);
    if (r == -SLM_ERR_NOT_FOUND && required)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' is missing", m->path, key);
    return r == -SLM_ERR_NOT_FOUND ? 0 : r;
}

static int get_f32(slm_model *m, const char *arch, const char *suffix, float *out,
                   slm_error *err)
{
    char key[128];
    snprintf(key, sizeof(key), "%s.%s", arch, suffix);
    int r = slm_gguf_get_f32(m->gguf, key, out, err);
    return r == -SLM_ERR_NOT_FOUND ? 0 : r;
}

static int check_range(slm_model *m, const char *what, uint64_t v, uint64_t lo, uint64_t hi,
                       slm_error *err)
{
    if (v < lo || v > hi)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %s is %llu (must be %llu..%llu)", m->path,
                          what, (unsigned long long)v, (unsigned long long)lo,
                          (unsigned long long)hi);
    return 0;
}

/* Per-layer counts: OpenELM stores arrays, others a scalar. */
static int per_layer_u32(slm_model *m, const struct decoder_variant *v, const char *suffix,
                         uint32_t *out, uint32_t fallback, slm_error *err)
{
    char key[128];
    snprintf(key, sizeof(key), "%s.%s", v->arch, suffix);
    uint32_t n = m->hp.n_layer;
    int r = slm_gguf_get_u32_per_layer(m->gguf, key, n, out, err);
    if (r == -SLM_ERR_NOT_FOUND) {
        if (!fallback)
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: metadata '%s' is missing", m->path,
                              key);
        for (uint32_t i = 0; i < n; i++)
            out[i] = fallback;
        return 0;
    }
    return r;
}

static int read_hparams(slm_model *m, const struct decoder_variant *v, uint32_t *n_head,
                        uint32_t *n_head_kv, uint32_t *n_ff, slm_error *err)
{
    struct decoder_hparams *hp = &m->hp;
    const char *a = v->arch;
    int r;
    if ((r = get_u32(m, a, "embedding_length", &hp->n_embd, true, err)) < 0 ||
        (r = get_u32(m, a, "block_count", &hp->n_layer, true, err)) < 0 ||
        (r = check_range(m, "embedding_length", hp->n_embd, 1, SLM_MAX_EMBD, err)) < 0 ||
        (r = check_range(m, "block_count", hp->n_layer, 1, SLM_MAX_LAYERS, err)) < 0)
        return r;
    hp->n_ctx_train = 2048;
    if ((r = get_u32(m, a, "context_length", &hp->n_ctx_train, false, err)) < 0)
        return r;
    if ((r = per_layer_u32(m, v, "attention.head_count", n_head, 0, err)) < 0 ||
        (r = per_layer_u32(m, v, "feed_forward_length", n_ff, 0, err)) < 0)
        return r;
    for (uint32_t l = 0; l < hp->n_layer; l++)
        if ((r = check_range(m, "attention.head_count", n_head[l], 1, SLM_MAX_HEADS, err)) < 0)
            return r;
    /* head_count_kv defaults to head_count (no GQA) */
    char key[128];
    snprintf(key, sizeof(key), "%s.attention.head_count_kv", a);
    if (!slm_gguf_has(m->gguf, key))
        memcpy(n_head_kv, n_head, hp->n_layer * sizeof(uint32_t));
    else if ((r = per_layer_u32(m, v, "attention.head_count_kv", n_head_kv, 0, err)) < 0)
        return r;

    hp->head_dim = 0;
    if ((r = get_u32(m, a, "attention.key_length", &hp->head_dim, false, err)) < 0)
        return r;
    if (!hp->head_dim) {
        if (hp->n_embd % n_head[0])
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: embedding_length %u is not a multiple "
                              "of head_count %u", m->path, hp->n_embd, n_head[0]);
        hp->head_dim = hp->n_embd / n_head[0];
    }
    if ((r = check_range(m, "head dimension", hp->head_dim, 2, 4096, err)) < 0)
        return r;
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        if (n_head_kv[l] == 0 || n_head[l] % n_head_kv[l])
            return slm_errorf(err, SLM_ERR_FORMAT, "%s: layer %u: head_count %u is not a "
                              "multiple of head_count_kv %u", m->path, l, n_head[l],
                              n_head_kv[l]);
        if ((r = check_range(m, "feed_forward_length", n_ff[l], 1, 16u * SLM_MAX_EMBD, err)) <
            0)
            return r;
        hp->max_n_head = n_head[l] > hp->max_n_head ? n_head[l] : hp->max_n_head;
        hp->max_n_head_kv = n_head_kv[l] > hp->max_n_head_kv ? n_head_kv[l] : hp->max_n_head_kv;
        hp->max_n_ff = n_ff[l] > hp->max_n_ff ? n_ff[l] : hp->max_n_ff;
    }
    hp->n_rot = hp->head_dim;
    if ((r = get_u32(m, a, "rope.dimension_count", &hp->n_rot, false, err)) < 0)
        return r;
    if (hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: rope.dimension_count %u must be even and "
                          "at most the head dimension %u", m->path, hp->n_rot, hp->head_dim);
    hp->rms_eps = 1e-5f;
    hp->rope_base = 10000.0f;
    hp->rope_attn_factor = 1.0f;
    if ((r = get_f32(m, a, "attention.layer_norm_rms_epsilon", &hp->rms_eps, err)) < 0 ||
        (r = get_f32(m, a, "rope.freq_base", &hp->rope_base, err)) < 0 ||
        (r = get_f32(m, a, "rope.scaling.attn_factor", &hp->rope_attn_factor, err)) < 0 ||
        (r = get_u32(m, a, "rope.scaling.original_context_length", &hp->n_ctx_orig, false,
                     err)) < 0 ||
        (r = get_u32(m, a, "attention.sliding_window", &hp->sliding_window, false, err)) < 0)
        return r;
    if (!(hp->rms_eps > 0 && hp->rms_eps < 1) || !(hp->rope_base > 0 && isfinite(hp->rope_base)) ||
        !(hp->rope_attn_factor > 0 && isfinite(hp->rope_attn_factor)))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: rms epsilon, rope base or attention "
                          "factor out of range", m->path);
    hp->rope_neox = v->rope_neox;
    return 0;
}

static int bind_layer(slm_model *m, const struct decoder_variant *v, uint32_t l,
                      slm_error *err)
{
    struct decoder_layer *L = &m->w.layers[l];
    const uint32_t d = m->hp.n_embd, hd = m->hp.head_dim;
    const int64_t nq = (int64_t)L->n_head * hd, nkv = (int64_t)L->n_head_kv * hd;
    char name[96];
    int r;
#define NAME(fmt) tensor_name(name, sizeof(name), "blk.%u." fmt, l)
    if ((r = model_vector(m, NAME("attn_norm.weight"), d, true, &L->attn_norm, err)) < 0)
        return r;
    if (v->fused_qkv) {
        if ((r = model_weight(m, NAME("attn_qkv.weight"), d, nq + 2 * nkv, true, &L->wqkv,
                              err)) < 0)
            return r;
    } else if ((r = model_weight(m, NAME("attn_q.weight"), d, nq, true, &L->wq, err)) < 0 ||
               (r = model_weight(m, NAME("attn_k.weight"), d, nkv, true, &L->wk, err)) < 0 ||
               (r = model_weight(m, NAME("attn_v.weight"), d, nkv, true, &L->wv, err)) < 0 ||
               (r = model_vector(m, NAME("attn_q.bias"), nq, false, &L->bq, err)) < 0 ||
               (r = model_vector(m, NAME("attn_k.bias"), nkv, false, &L->bk, err)) < 0 ||
               (r = model_vector(m, NAME("attn_v.bias"), nkv, false, &L->bv, err)) < 0) {
        return r;
    }
    if (v->qk_norm &&
        ((r = model_vector(m, NAME("attn_q_norm.weight"), hd, true, &L->q_norm, err)) < 0 ||
         (r = model_vector(m, NAME("attn_k_norm.weight"), hd, true, &L->k_norm, err)) < 0))
        return r;
    if ((r = model_weight(m, NAME("attn_output.weight"), nq, d, true, &L->wo, err)) < 0 ||
        (r = model_vector(m, NAME("ffn_norm.weight"), d, true, &L->ffn_norm, err)) < 0)
        return r;
    if (v->fused_gate_up) {
        if ((r = model_weight(m, NAME("ffn_up.weight"), d, 2 * (int64_t)L->n_ff, true,
                              &L->w_gate_up, err)) < 0)
            return r;
    } else if ((r = model_weight(m, NAME("ffn_gate.weight"), d, L->n_ff, true, &L->w_gate,
                                 err)) < 0 ||
               (r = model_weight(m, NAME("ffn_up.weight"), d, L->n_ff, true, &L->w_up, err)) <
                   0) {
        return r;
    }
    return model_weight(m, NAME("ffn_down.weight"), L->n_ff, d, true, &L->w_down, err);
#undef NAME
}

static int load_decoder(slm_model *m, const struct decoder_variant *v, slm_error *err)
{
    uint32_t n_head[SLM_MAX_LAYERS], n_head_kv[SLM_MAX_LAYERS], n_ff[SLM_MAX_LAYERS];
    int r = read_hparams(m, v, n_head, n_head_kv, n_ff, err);
    if (r < 0)
        return r;
    struct decoder_hparams *hp = &m->hp;
    const struct slm_gguf_tensor *emb = slm_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!emb)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: tensor 'token_embd.weight' is missing",
                          m->path);
    if (emb->ne[1] < 1 || emb->ne[1] > SLM_MAX_VOCAB)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: vocabulary of %lld tokens", m->path,
                          (long long)emb->ne[1]);
    hp->n_vocab = (uint32_t)emb->ne[1];
    if (slm_tokenizer_n_vocab(m->tok) > hp->n_vocab)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: the tokenizer has %u tokens but "
                          "token_embd.weight only %u rows", m->path,
                          slm_tokenizer_n_vocab(m->tok), hp->n_vocab);
    if ((r = model_weight(m, "token_embd.weight", hp->n_embd, hp->n_vocab, true,
                          &m->w.tok_embd, err)) < 0 ||
        (r = model_vector(m, "output_norm.weight", hp->n_embd, true, &m->w.output_norm, err)) <
            0 ||
        (r = model_weight(m, "output.weight", hp->n_embd, hp->n_vocab, false, &m->w.output,
                          err)) < 0)
        return r;
    if (!m->w.output.data)
        m->w.output = m->w.tok_embd; /* tied embeddings */
    if ((r = model_vector(m, "rope_factors_short.weight", hp->n_rot / 2, false,
                          &m->w.rope_short, err)) < 0 ||
        (r = model_vector(m, "rope_factors_long.weight", hp->n_rot / 2, false, &m->w.rope_long,
                          err)) < 0)
        return r;
    m->w.layers = model_alloc(m, hp->n_layer * sizeof(*m->w.layers));
    if (!m->w.layers)
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", m->path);
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        m->w.layers[l].n_head = n_head[l];
        m->w.layers[l].n_head_kv = n_head_kv[l];
        m->w.layers[l].n_ff = n_ff[l];
        if ((r = bind_layer(m, v, l, err)) < 0)
            return r;
    }
    struct slm_model_info *info = &m->info;
    info->n_vocab = hp->n_vocab;
    info->n_embd = hp->n_embd;
    info->n_layer = hp->n_layer;
    info->n_head = n_head[0];
    info->n_head_kv = n_head_kv[0];
    info->head_dim = hp->head_dim;
    info->n_ff = n_ff[0];
    info->n_ctx_train = hp->n_ctx_train;
    /* a step reads every matrix once, but only one row of the embedding table */
    uint64_t emb_bytes = (uint64_t)m->w.tok_embd.row_bytes * hp->n_vocab;
    uint64_t out = (uint64_t)m->w.output.row_bytes * hp->n_vocab;
    bool tied = m->w.output.data == m->w.tok_embd.data;
    info->bytes_per_token = info->weight_bytes - emb_bytes + m->w.tok_embd.row_bytes + (tied ? out : 0);
    return 0;
}

int llama_load_gguf(slm_model *m, slm_error *err) { return load_decoder(m, &llama_variant, err); }
int phi3_load_gguf(slm_model *m, slm_error *err) { return load_decoder(m, &phi3_variant, err); }
int openelm_load_gguf(slm_model *m, slm_error *err)
{
    return load_decoder(m, &openelm_variant, err);
}
