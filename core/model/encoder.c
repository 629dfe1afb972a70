/* Encoders (BERT, DistilBERT) are being written on another branch; until they land, loading
 * one says so plainly instead of misbehaving. */
#include "model_internal.h"

int bert_load_gguf(slm_model *m, slm_error *err)
{
    return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: BERT models are not supported by this "
                      "build yet", m->path);
}

int hf_model_load(slm_model *m, const char *dir, slm_error *err)
{
    return slm_errorf(err, SLM_ERR_UNSUPPORTED, "%s: Hugging Face model directories are not "
                      "supported by this build yet", dir);
}

int encoder_forward(slm_forward_ctx *ctx, slm_pool *pool, uint32_t n_seqs,
                    const int32_t *const *ids, const uint32_t *lens,
                    enum slm_encode_output what, float *out, slm_error *err)
{
    return slm_errorf(err, SLM_ERR_UNSUPPORTED, "encoders are not supported by this build yet");
}

void *encoder_scratch_new(const slm_model *m, uint32_t max_tokens, slm_error *err)
{
    slm_errorf(err, SLM_ERR_UNSUPPORTED, "encoders are not supported by this build yet");
    return NULL;
}

void encoder_scratch_free(void *scratch) {}

#include "slm/tasks.h"

int slm_task_classify(slm_forward_ctx *ctx, slm_pool *pool, size_t n,
                      const struct slm_text *texts, float *probs, bool *truncated,
                      slm_error *err)
{
    return slm_errorf(err, SLM_ERR_UNSUPPORTED, "encoders are not supported by this build yet");
}

void slm_entity_list_free(struct slm_entity_list *list) {}

int slm_task_classify_tokens(slm_forward_ctx *ctx, slm_pool *pool, size_t n,
                             const struct slm_text *texts, struct slm_entity_list *out,
                             bool *truncated, slm_error *err)
{
    return slm_errorf(err, SLM_ERR_UNSUPPORTED, "encoders are not supported by this build yet");
}

int slm_task_embed(slm_forward_ctx *ctx, slm_pool *pool, size_t n, const struct slm_text *texts,
                   bool normalize, float *out, bool *truncated, slm_error *err)
{
    return slm_errorf(err, SLM_ERR_UNSUPPORTED, "encoders are not supported by this build yet");
}
