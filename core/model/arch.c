/* The architecture table: a new architecture is one row here plus its loader (and its
 * forward pass if it is not a variant of the decoder or encoder ones). */
#include <string.h>

#include "model_internal.h"

static const struct slm_arch archs[] = {
    {"llama", SLM_MODEL_DECODER, llama_load_gguf},
    {"phi3", SLM_MODEL_DECODER, phi3_load_gguf},
    {"openelm", SLM_MODEL_DECODER, openelm_load_gguf},
    {"bert", SLM_MODEL_ENCODER, bert_load_gguf},
};

const struct slm_arch *slm_arch_find(const char *name)
{
    for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++)
        if (strcmp(archs[i].name, name) == 0)
            return &archs[i];
    return NULL;
}

const char *slm_arch_names(void) { return "llama, phi3, openelm, bert (GGUF); bert, distilbert (Hugging Face directories)"; }
