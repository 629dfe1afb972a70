/* Hugging Face model-directory configuration: config.json (BERT and DistilBERT) and the
 * sentence-transformers modules (modules.json, 1_Pooling/config.json, 2_Normalize).
 *
 * Parsed with json-c. Every number is checked for type and range and capped by the limits
 * of slm/model.h; the values are cross-checked against the tensor shapes by the loader
 * (core/model/hf_load.c). Errors read "FILE: key: reason". */
#ifndef SLM_FORMAT_HF_CONFIG_H
#define SLM_FORMAT_HF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slm/error.h"
#include "slm/model.h"

/* config.json files are a few KB; one with SLM_MAX_LABELS labels in id2label and label2id
 * stays well under a megabyte. */
#define HF_CONFIG_MAX_BYTES (4u << 20)
/* Positions (max_position_embeddings): the forward context takes at most 65536 tokens. */
#define HF_MAX_POSITIONS 65536u
/* FFN width: 4 x SLM_MAX_EMBD, the usual ratio at the largest width we accept. */
#define HF_MAX_FF (4u * SLM_MAX_EMBD)
/* Token types (segments): BERT has 2, a few models 1; more would be a different model. */
#define HF_MAX_TOKEN_TYPES 64u
/* A label name longer than this is not a label. */
#define HF_MAX_LABEL_BYTES 256u

enum hf_model_type {
    HF_MODEL_DISTILBERT = 0,
    HF_MODEL_BERT,
};

enum hf_activation {
    HF_ACT_GELU = 0,  /* erf GELU ("gelu") */
    HF_ACT_GELU_TANH, /* tanh approximation ("gelu_new", "gelu_pytorch_tanh") */
    HF_ACT_RELU,
};

struct hf_config {
    enum hf_model_type model_type;
    enum slm_encoder_head head;
    const char *architecture; /* "DistilBertForSequenceClassification", ... (static) */
    uint32_t n_embd;          /* dim | hidden_size */
    uint32_t n_layer;         /* n_layers | num_hidden_layers */
    uint32_t n_head;          /* n_heads | num_attention_heads */
    uint32_t n_ff;            /* hidden_dim | intermediate_size */
    uint32_t n_vocab;         /* vocab_size */
    uint32_t n_pos;           /* max_position_embeddings */
    uint32_t n_token_types;   /* type_vocab_size (BERT; 0 for DistilBERT) */
    float layer_norm_eps;
    enum hf_activation activation;
    uint32_t n_labels; /* 0 when the config has no id2label */
    char **labels;     /* n_labels names, in id order */
};

/* Parses config.json text; `name` prefixes errors. On failure nothing needs freeing. */
int hf_config_parse(const char *json, size_t len, const char *name, struct hf_config *out,
                    slm_error *err);
int hf_config_load(const char *path, struct hf_config *out, slm_error *err);
void hf_config_deinit(struct hf_config *cfg);

/* What a sentence-transformers directory asks for beyond the transformer itself. */
struct hf_sentence_config {
    bool present;            /* modules.json exists */
    char *transformer_path;  /* sub-directory of the Transformer module ("" = the top) */
    enum slm_pooling pooling; /* SLM_POOL_NONE when there is no Pooling module */
    bool normalize;          /* a Normalize module follows */
};

/* modules.json text and, for its Pooling module, that module's config.json text (NULL if
 * absent). `dir` is for messages. */
int hf_modules_parse(const char *json, size_t len, const char *name,
                     struct hf_sentence_config *out, char **pooling_path, slm_error *err);
int hf_pooling_parse(const char *json, size_t len, const char *name, enum slm_pooling *out,
                     slm_error *err);
/* Reads DIR/modules.json (absent: present = false, returns 0) and its pooling config. */
int hf_sentence_config_load(const char *dir, struct hf_sentence_config *out, slm_error *err);
void hf_sentence_config_deinit(struct hf_sentence_config *sc);

/* Reads a small file whole (NUL-terminated); errors name the path. */
int hf_read_small_file(const char *path, size_t limit, char **out, size_t *len,
                       slm_error *err);

#endif
