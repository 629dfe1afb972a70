/* Fuzz target: config.json, modules.json and 1_Pooling/config.json parsers on any bytes:
 * no crash, no leak, and an accepted config stays inside the documented limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/hf_config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    slm_error err;
    struct hf_config c;
    if (hf_config_parse(text, size, "fuzz", &c, &err) == 0) {
        if (c.n_embd == 0 || c.n_embd > SLM_MAX_EMBD || c.n_layer == 0 ||
            c.n_layer > SLM_MAX_LAYERS || c.n_head == 0 || c.n_embd % c.n_head ||
            c.n_labels > SLM_MAX_LABELS || (c.n_labels && !c.labels))
            abort();
        for (uint32_t i = 0; i < c.n_labels; i++)
            if (!c.labels[i] || !c.labels[i][0])
                abort();
        hf_config_deinit(&c);
    }
    struct hf_sentence_config sc;
    char *pooling = NULL;
    if (hf_modules_parse(text, size, "fuzz", &sc, &pooling, &err) == 0) {
        free(pooling);
        hf_sentence_config_deinit(&sc);
    }
    enum slm_pooling p;
    (void)hf_pooling_parse(text, size, "fuzz", &p, &err);
    return 0;
}
