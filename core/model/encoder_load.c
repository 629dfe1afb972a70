/* What every encoder loader shares: the model struct, limit checks, and m->info. */
#include <string.h>

#include "encoder_model.h"

struct encoder_model *encoder_model_new(slm_model *m, uint32_t n_layer, slm_error *err)
{
    if (n_layer == 0 || n_layer > SLM_MAX_LAYERS) {
        slm_errorf(err, SLM_ERR_FORMAT, "%s: %u layers (1 to %u)", m->path, n_layer,
                   SLM_MAX_LAYERS);
        return NULL;
    }
    struct encoder_model *e = model_alloc(m, sizeof(*e));
    struct encoder_layer *layers = model_alloc(m, (size_t)n_layer * sizeof(*layers));
    if (!e || !layers) {
        slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", m->path);
        return NULL;
    }
    e->hp.n_layer = n_layer;
    e->w.layers = layers;
    m->encoder = e;
    m->encoder_free = NULL; /* model_alloc'd: freed with the model */
    return e;
}

static int check_hparams(const slm_model *m, const struct encoder_hparams *hp, slm_error *err)
{
    if (hp->n_embd == 0 || hp->n_embd > SLM_MAX_EMBD)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: embedding width %u (1 to %u)", m->path,
                          hp->n_embd, SLM_MAX_EMBD);
    if (hp->n_head == 0 || hp->n_head > SLM_MAX_HEADS || hp->n_embd % hp->n_head)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %u attention heads do not divide the width "
                          "%u (1 to %u heads)", m->path, hp->n_head, hp->n_embd, SLM_MAX_HEADS);
    if (hp->n_ff == 0 || hp->n_ff > 4u * SLM_MAX_EMBD)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: feed-forward width %u (1 to %u)", m->path,
                          hp->n_ff, 4u * SLM_MAX_EMBD);
    if (hp->n_vocab == 0 || hp->n_vocab > SLM_MAX_VOCAB)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: vocabulary of %u tokens (1 to %u)", m->path,
                          hp->n_vocab, SLM_MAX_VOCAB);
    if (hp->n_pos == 0 || hp->n_pos > 65536)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: %u positions (1 to 65536)", m->path,
                          hp->n_pos);
    if (!(hp->eps > 0 && hp->eps < 1))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: layer norm epsilon %g is out of range",
                          m->path, (double)hp->eps);
    return 0;
}

int encoder_finish_load(slm_model *m, slm_error *err)
{
    struct encoder_model *e = encoder_of(m);
    struct encoder_hparams *hp = &e->hp;
    int r = check_hparams(m, hp, err);
    if (r < 0)
        return r;
    hp->head_dim = hp->n_embd / hp->n_head;
    if (m->tok && slm_tokenizer_n_vocab(m->tok) > hp->n_vocab)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: the tokenizer has %u tokens but the "
                          "embedding table only %u rows", m->path, slm_tokenizer_n_vocab(m->tok),
                          hp->n_vocab);
    struct slm_model_info *info = &m->info;
    info->kind = SLM_MODEL_ENCODER;
    info->n_vocab = hp->n_vocab;
    info->n_embd = hp->n_embd;
    info->n_layer = hp->n_layer;
    info->n_head = hp->n_head;
    info->n_head_kv = hp->n_head;
    info->head_dim = hp->head_dim;
    info->n_ff = hp->n_ff;
    info->n_ctx_train = hp->n_pos;
    if (info->head != SLM_HEAD_NONE) {
        if (!e->w.cls_w.data || info->n_labels == 0 || !info->labels)
            return slm_errorf(err, SLM_ERR_INTERNAL, "%s: classifier without labels", m->path);
    }
    return 0;
}
