/* slm quantize IN OUT TYPE
 *
 * Copies a GGUF with its weight matrices (2-D tensors whose rows are whole blocks of TYPE)
 * converted to TYPE; norms, biases and other vectors stay as they are. Every metadata
 * entry is copied, general.file_type excepted (it would describe the old file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernels/kernels.h"
#include "slm/gguf.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(slm_gguf_writer, slm_gguf_writer_free)
SLM_DEFINE_CLEANUP(slm_gguf, slm_gguf_close)

struct convert {
    const struct slm_gguf_tensor *src;
    enum slm_type to;
};

static int fill_converted(void *ud, size_t index, void *dst, size_t nbytes, slm_error *err)
{
    const struct convert *cv = &((const struct convert *)ud)[0];
    const struct slm_gguf_tensor *t = cv->src;
    if (t->type == cv->to) {
        memcpy(dst, t->data, nbytes);
        return 0;
    }
    const struct slm_type_traits *from = slm_traits(t->type), *to = slm_traits(cv->to);
    if (!from || !from->to_float || !to || !to->from_float)
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "tensor '%s': cannot convert %s to %s",
                          t->name, slm_type_name(t->type), slm_type_name(cv->to));
    int64_t n_in = t->ne[0];
    size_t rows = (size_t)(t->ne[1] * t->ne[2] * t->ne[3]);
    uint64_t src_row, dst_row;
    slm_type_row_bytes(t->type, (uint64_t)n_in, &src_row);
    slm_type_row_bytes(cv->to, (uint64_t)n_in, &dst_row);
    _cleanup_free_ float *row = malloc((size_t)n_in * sizeof(float));
    if (!row)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    for (size_t r = 0; r < rows; r++) {
        from->to_float((const uint8_t *)t->data + r * src_row, row, n_in);
        to->from_float(row, (uint8_t *)dst + r * dst_row, n_in);
    }
    return 0;
}

/* Weight matrices are converted; vectors and rows that are not whole blocks are kept. */
static enum slm_type target_type(const struct slm_gguf_tensor *t, enum slm_type want)
{
    if (t->n_dims < 2 || t->ne[0] % slm_type_block_size(want))
        return t->type;
    return want;
}

int cmd_quantize(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: slm quantize IN.gguf OUT.gguf TYPE   (TYPE: Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 "
               "Q2_K Q3_K Q4_K Q5_K Q6_K F16 BF16 F32)\n");
        return 0;
    }
    if (argc != 4)
        return cli_usage("usage: slm quantize IN.gguf OUT.gguf TYPE");
    const char *in = argv[1], *out = argv[2];
    enum slm_type type;
    slm_kernels_init();
    if (!slm_type_from_name(argv[3], &type) || !slm_traits(type) ||
        !slm_traits(type)->from_float || !slm_traits(type)->vec_dot)
        return cli_usage("quantize: unknown or unwritable type '%s'", argv[3]);
    if (!strcmp(in, out))
        return cli_fail("quantize: IN and OUT must be different files");
    slm_error err;
    _cleanup_(slm_gguf_closep) slm_gguf *g = slm_gguf_open(in, &err);
    if (!g)
        return cli_fail_err(&err);
    _cleanup_(slm_gguf_writer_freep) slm_gguf_writer *w = slm_gguf_writer_new();
    if (!w)
        return cli_fail("out of memory");
    for (size_t i = 0; i < slm_gguf_n_kv(g); i++) {
        const char *key = slm_gguf_key(g, i);
        if (!strcmp(key, "general.file_type") || !strcmp(key, "general.alignment"))
            continue;
        if (slm_gguf_writer_copy_kv(w, g, i) < 0)
            return cli_fail("out of memory");
    }
    size_t n = slm_gguf_n_tensors(g);
    _cleanup_free_ struct convert *cv = calloc(n ? n : 1, sizeof(*cv));
    if (!cv)
        return cli_fail("out of memory");
    size_t converted = 0;
    for (size_t i = 0; i < n; i++) {
        const struct slm_gguf_tensor *t = slm_gguf_tensor(g, i);
        cv[i].src = t;
        cv[i].to = target_type(t, type);
        converted += cv[i].to != t->type;
        if (slm_gguf_writer_add_tensor(w, t->name, cv[i].to, t->n_dims, t->ne, fill_converted,
                                       &cv[i], &err) < 0)
            return cli_fail_err(&err);
    }
    if (slm_gguf_writer_write(w, out, &err) < 0)
        return cli_fail_err(&err);
    fprintf(stderr, "slm: wrote %s: %zu of %zu tensors converted to %s\n", out, converted, n,
            slm_type_name(type));
    return 0;
}
