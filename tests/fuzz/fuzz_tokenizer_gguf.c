/* Fuzz target: tokenizer metadata from an untrusted GGUF file. Whatever the GGUF reader
 * accepts, the tokenizer loader must accept or refuse with an error, and an accepted
 * tokenizer must tokenize and decode a sample without fault. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "slm/gguf.h"
#include "slm/tokenizer.h"

static const char sample[] = "Hello world <s></s><|user|> \xc3\xa9\xe4\xb8\xad 1234 it's\n\n\t "
                             "\xff\xf0\x9f\xa6\x99 [CLS]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slm_error err;
    slm_gguf *g = slm_gguf_open_memory(data, size, "fuzz", &err);
    if (!g)
        return 0;
    slm_tokenizer *tok = slm_tokenizer_from_gguf(g, &err);
    slm_gguf_close(g);
    if (!tok) {
        if (err.status == SLM_OK || !err.message[0])
            __builtin_trap();
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
