/* Fuzz target: the GGUF reader must reject or accept any byte string without reading
 * outside it, and every accessor on an accepted file must stay in bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "slm/gguf.h"

static void touch_everything(const slm_gguf *g)
{
    slm_error err;
    for (size_t i = 0; i < slm_gguf_n_kv(g); i++) {
        const char *key = slm_gguf_key(g, i);
        uint32_t u;
        int64_t i64;
        float f;
        bool b;
        struct slm_gguf_str s;
        slm_gguf_get_u32(g, key, &u, &err);
        slm_gguf_get_i64(g, key, &i64, &err);
        slm_gguf_get_f32(g, key, &f, &err);
        slm_gguf_get_bool(g, key, &b, &err);
        if (slm_gguf_get_str(g, key, &s, &err) == 0 && s.len)
            (void)((volatile const char *)s.ptr)[s.len - 1];
        enum slm_gguf_value_type et;
        uint64_t n;
        if (slm_gguf_get_arr(g, key, &et, &n, &err) == 0 && n > 0) {
            slm_gguf_arr_u32(g, key, n - 1, &u, &err);
            slm_gguf_arr_f32(g, key, n - 1, &f, &err);
            if (slm_gguf_arr_str(g, key, n - 1, &s, &err) == 0 && s.len)
                (void)((volatile const char *)s.ptr)[s.len - 1];
            slm_gguf_arr_u32(g, key, n, &u, &err);
        }
    }
    for (size_t i = 0; i < slm_gguf_n_tensors(g); i++) {
        const struct slm_gguf_tensor *t = slm_gguf_tensor(g, i);
        if (t->nbytes) {
            (void)((volatile const uint8_t *)t->data)[0];
            (void)((volatile const uint8_t *)t->data)[t->nbytes - 1];
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    slm_error err;
    slm_gguf *g = slm_gguf_open_memory(data, size, "fuzz", &err);
    if (g) {
        touch_everything(g);
        slm_gguf_close(g);
    }
    return 0;
}
