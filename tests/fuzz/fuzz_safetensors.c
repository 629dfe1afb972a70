/* Fuzz target: the safetensors reader must reject or accept any byte string without
 * reading outside it, and on an accepted file every tensor's bytes must lie inside it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/safetensors.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slm_error err;
    slm_safetensors *st = slm_safetensors_open_memory(data, size, "fuzz", &err);
    if (!st)
        return 0;
    for (size_t i = 0; i < slm_safetensors_n_tensors(st); i++) {
        const struct slm_st_tensor *t = slm_safetensors_tensor(st, i);
        if (t->nbytes) {
            (void)((volatile const uint8_t *)t->data)[0];
            (void)((volatile const uint8_t *)t->data)[t->nbytes - 1];
        }
        if (slm_safetensors_find(st, t->name) == NULL)
            abort(); /* every tensor can be found by its name */
    }
    (void)slm_safetensors_metadata(st, "format");
    slm_safetensors_close(st);
    return 0;
}
