/* A Hugging Face model directory, loaded as it was downloaded:
 *
 *   config.json            model_type, architecture, sizes, id2label
 *   model.safetensors      the weights, mapped and used in place
 *   vocab.txt | tokenizer.json (+ tokenizer_config.json)
 *   modules.json, 1_Pooling/config.json, 2_Normalize   (sentence-transformers, optional)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_internal.h"
#include "util/cleanup.h"
#include "util/mapped_file.h"

SLM_DEFINE_CLEANUP(slm_safetensors, slm_safetensors_close)

static char *path_join(const char *dir, const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    return p;
}

static bool exists(const char *dir, const char *name)
{
    _cleanup_free_ char *p = path_join(dir, name);
    return p && access(p, F_OK) == 0;
}

/* The weights file, or an error that says what the directory holds instead. */
static slm_safetensors *open_weights(const char *dir, slm_error *err)
{
    _cleanup_free_ char *path = path_join(dir, "model.safetensors");
    if (!path) {
        slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", dir);
        return NULL;
    }
    if (access(path, F_OK) != 0) {
        if (exists(dir, "model.safetensors.index.json"))
            slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: weights split over several safetensors "
                       "files are not supported", dir);
        else if (exists(dir, "pytorch_model.bin"))
            slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: only pytorch_model.bin is present; slmd "
                       "reads model.safetensors (download that file, or convert the "
                       "checkpoint)", dir);
        else
            slm_errorf(err, SLM_ERR_FORMAT, "%s: model.safetensors is missing", dir);
        return NULL;
    }
    return slm_safetensors_open(path, err);
}

static void set_hparams(struct encoder_hparams *hp, const struct hf_config *cfg)
{
    hp->n_embd = cfg->n_embd;
    hp->n_head = cfg->n_head;
    hp->n_ff = cfg->n_ff;
    hp->n_vocab = cfg->n_vocab;
    hp->n_pos = cfg->n_pos;
    hp->n_token_types = cfg->n_token_types;
    hp->eps = cfg->layer_norm_eps;
    hp->act = cfg->activation == HF_ACT_GELU_TANH ? ENCODER_ACT_GELU_TANH
              : cfg->activation == HF_ACT_RELU    ? ENCODER_ACT_RELU
                                                  : ENCODER_ACT_GELU;
}

static int load_from(slm_model *m, const char *model_dir, const struct hf_config *cfg,
                     slm_error *err)
{
    _cleanup_(slm_safetensors_closep) slm_safetensors *st = open_weights(model_dir, err);
    if (!st)
        return -(int)err->status;
    m->tok = slm_tokenizer_from_hf_dir(model_dir, err);
    if (!m->tok)
        return -(int)err->status;
    struct encoder_model *e = encoder_model_new(m, cfg->n_layer, err);
    if (!e)
        return -(int)err->status;
    set_hparams(&e->hp, cfg);
    char what[96];
    snprintf(what, sizeof(what), "config.json describes a %s", cfg->architecture);
    struct hf_binder b = {.m = m, .st = st, .what = what};
    int r = cfg->model_type == HF_MODEL_BERT ? hf_bind_bert(&b, cfg, err)
                                             : hf_bind_distilbert(&b, cfg, err);
    if (r < 0)
        return r;
    m->info.head = cfg->head;
    m->info.weight_type = e->w.layers[0].wq.type;
    if (cfg->head != SLM_HEAD_NONE && (r = hf_bind_classifier(&b, cfg, err)) < 0)
        return r;
    /* the weights point into the mapping from now on: the model owns it */
    m->files[m->n_files++] = slm_safetensors_take_mapping(st);
    return 0;
}

static int set_name(slm_model *m, const char *dir)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    m->name = strndup(dir + start, len - start);
    return m->name ? 0 : -SLM_ERR_NOMEM;
}

int hf_model_load(slm_model *m, const char *dir, slm_error *err)
{
    struct hf_sentence_config sc;
    int r = hf_sentence_config_load(dir, &sc, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *model_dir = NULL, *config_path = NULL;
    if (sc.present && sc.transformer_path && *sc.transformer_path)
        model_dir = path_join(dir, sc.transformer_path);
    else
        model_dir = strdup(dir);
    if (model_dir)
        config_path = path_join(model_dir, "config.json");
    if (!model_dir || !config_path || set_name(m, dir) < 0) {
        hf_sentence_config_deinit(&sc);
        return slm_errorf(err, SLM_ERR_NOMEM, "%s: out of memory", dir);
    }
    struct hf_config cfg;
    r = hf_config_load(config_path, &cfg, err);
    if (r == -SLM_ERR_NOT_FOUND)
        r = slm_errorf(err, SLM_ERR_FORMAT, "%s: config.json is missing: not a Hugging Face "
                       "model directory", model_dir);
    if (r == 0) {
        r = load_from(m, model_dir, &cfg, err);
        hf_config_deinit(&cfg);
    }
    if (r == 0) {
        m->info.architecture = cfg.model_type == HF_MODEL_BERT ? "bert" : "distilbert";
        if (sc.present) {
            m->info.pooling = sc.pooling;
            m->info.normalize_embeddings = sc.normalize;
        }
        r = encoder_finish_load(m, err);
    }
    hf_sentence_config_deinit(&sc);
    return r;
}
