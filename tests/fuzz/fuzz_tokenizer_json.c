/* Fuzz target: a tokenizer.json from untrusted bytes must load or be refused with an
 * error, and a loaded tokenizer must tokenize and decode a sample without fault. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "slm/tokenizer.h"
#include "tokenizer/tok_internal.h"

static const char sample[] = "Hello, WORLD! Caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 [CLS] <e> un##aff "
                             "\xe1\xba\x9e \xff end.";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slm_error err;
    slm_tokenizer *tok = tok_hf_json_from_memory((const char *)data, size, "fuzz", &err);
    if (!tok) {
        if (err.status == SLM_OK || !err.message[0])
            __builtin_trap(); /* a refusal must say why */
        return 0;
    }
    for (unsigned flags = 0; flags < 4; flags++) {
        struct slm_tokens t;
        if (slm_tokenize(tok, sample, sizeof(sample) - 1, flags, true, &t, &err) != 0)
            continue;
        uint32_t n = slm_tokenizer_n_vocab(tok);
        for (size_t i = 0; i < t.n; i++)
            if (t.ids[i] < 0 || (uint32_t)t.ids[i] >= n || t.ends[i] > sizeof(sample) - 1)
                __builtin_trap();
        char *out = NULL;
        size_t len;
        if (slm_detokenize(tok, t.ids, t.n, true, &out, &len, &err) == 0)
            free(out);
        slm_tokens_free(&t);
    }
    slm_tokenizer_free(tok);
    return 0;
}
