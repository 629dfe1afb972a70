/* Writing random-weight models: `slm mkmodel`, tests and benchmarks use it. */
#ifndef SLM_MKMODEL_H
#define SLM_MKMODEL_H

#include <stdint.h>

#include "slm/error.h"
#include "slm/types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct slm_random_model {
    const char *arch; /* "llama" or "phi3" */
    uint32_t dim, layers, heads;
    uint32_t kv_heads; /* 0: = heads */
    uint32_t ff;       /* 0: 8/3 dim rounded to 32 */
    uint32_t ctx, vocab;
    enum slm_type type;
    uint64_t seed;
    const char *vocab_from; /* GGUF whose tokenizer.* entries are copied, or NULL */
};

void slm_random_model_defaults(struct slm_random_model *s);
int slm_random_model_write(const struct slm_random_model *s, const char *path, slm_error *err);

#ifdef __cplusplus
}
#endif
#endif
