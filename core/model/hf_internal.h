/* Loading Hugging Face model directories (hf_load.c) and binding their safetensors
 * tensors (hf_tensors.c). */
#ifndef SLM_MODEL_HF_INTERNAL_H
#define SLM_MODEL_HF_INTERNAL_H

#include "encoder_model.h"
#include "format/hf_config.h"
#include "format/safetensors.h"

struct hf_binder {
    slm_model *m;
    const slm_safetensors *st;
    const char *what; /* for messages: "config.json says dim 768" */
};

/* A 2-D tensor [n_out, n_in] as a weight (used in place when aligned). */
int hf_bind_matrix(struct hf_binder *b, const char *name, int64_t n_in, int64_t n_out,
                   bool required, struct slm_weight *w, slm_error *err);
/* A 1-D tensor [n] as floats. */
int hf_bind_vector(struct hf_binder *b, const char *name, int64_t n, bool required,
                   const float **out, slm_error *err);
/* PREFIX.weight/.bias (or the legacy PREFIX.gamma/.beta) of a LayerNorm. */
int hf_bind_norm(struct hf_binder *b, const char *prefix, int64_t n, const float **w,
                 const float **bias, slm_error *err);
/* PREFIX.weight [n_out, n_in] and PREFIX.bias [n_out] of a Linear layer. */
int hf_bind_linear(struct hf_binder *b, const char *prefix, int64_t n_in, int64_t n_out,
                   struct slm_weight *w, const float **bias, slm_error *err);
int64_t hf_tensor_rows(struct hf_binder *b, const char *name);

/* The two layouts (hf_distilbert.c, hf_bert.c): bind every tensor of `cfg`. */
int hf_bind_distilbert(struct hf_binder *b, const struct hf_config *cfg, slm_error *err);
int hf_bind_bert(struct hf_binder *b, const struct hf_config *cfg, slm_error *err);
/* The classifier: classifier.weight/.bias, labels from id2label (or LABEL_i). */
int hf_bind_classifier(struct hf_binder *b, const struct hf_config *cfg, slm_error *err);

#endif
