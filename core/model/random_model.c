/* Random-weight models of any shape (slm mkmodel, tests, benchmarks, the quickstart
 * demo): weights uniform in ±1/sqrt(fan-in), norms one, and a working tokenizer — a small
 * synthetic SentencePiece vocabulary or one copied from another GGUF. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "slm/gguf.h"
#include "slm/mkmodel.h"
#include "util/cleanup.h"

SLM_DEFINE_CLEANUP(slm_gguf_writer, slm_gguf_writer_free)
SLM_DEFINE_CLEANUP(slm_gguf, slm_gguf_close)

/* A chat template in the common "<|role|>" style, so `--chat` works on demo models. */
static const char DEMO_CHAT_TEMPLATE[] =
    "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + "
    "eos_token + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}"
    "{% endif %}";

struct fill_ctx {
    const struct slm_random_model *s;
    enum slm_type type;
    int64_t n_in;
    float scale; /* weights uniform in [-scale, scale]; 0: all ones (norms) */
};

/* xorshift64*: fast and good enough for random weights */
static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545f4914f6cdd1dull;
}

static int fill_tensor(void *ud, size_t index, void *dst, size_t nbytes, slm_error *err)
{
    const struct fill_ctx *f = ud;
    const struct slm_type_traits *tr = slm_traits(f->type);
    if (!tr || !tr->from_float)
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "cannot write type %s",
                          slm_type_name(f->type));
    uint64_t row_bytes;
    slm_type_row_bytes(f->type, (uint64_t)f->n_in, &row_bytes);
    size_t rows = nbytes / (size_t)row_bytes;
    _cleanup_free_ float *row = malloc((size_t)f->n_in * sizeof(float));
    if (!row)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    uint64_t state = f->s->seed * 0x9e3779b97f4a7c15ull + index * 7919u + 1;
    for (size_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < f->n_in; i++) {
            if (f->scale == 0) {
                row[i] = 1.0f;
                continue;
            }
            double u = (double)(next_rand(&state) >> 11) * 0x1.0p-53;
            row[i] = (float)((2 * u - 1) * f->scale);
        }
        tr->from_float(row, (uint8_t *)dst + r * row_bytes, f->n_in);
    }
    return 0;
}

/* A made-up word for slot k: syllables spelling k in base 105 (21 consonants x 5 vowels).
 * Distinct k give distinct words, all at least two letters long. */
static char *made_up_word(uint32_t k, bool word_start)
{
    static const char consonants[] = "bcdfghjklmnpqrstvwxyz", vowels[] = "aeiou";
    char buf[32];
    size_t n = 0;
    if (word_start) {
        memcpy(buf, "\xe2\x96\x81", 3); /* "▁" */
        n = 3;
    }
    do {
        uint32_t syl = k % 105;
        buf[n++] = consonants[syl / 5];
        buf[n++] = vowels[syl % 5];
        k /= 105;
    } while (k && n + 2 < sizeof(buf));
    buf[n] = '\0';
    return strdup(buf);
}

/* A small SentencePiece-style vocabulary: specials, the 256 byte tokens, printable ASCII
 * with and without the word-start marker, then made-up words and word pieces up to n.
 * Any text encodes (byte fallback), and whatever a random model generates prints as
 * pseudo-words, so streams and the demo show text. */
static int synthetic_vocab(slm_gguf_writer *w, uint32_t n, slm_error *err)
{
    const uint32_t fixed = 3 + 256 + 2 * 95;
    if (n < fixed)
        return slm_errorf(err, SLM_ERR_INVALID, "--vocab must be at least %u (specials, bytes and printable characters)", fixed);
    char **tokens = calloc(n, sizeof(*tokens));
    float *scores = calloc(n, sizeof(*scores));
    int32_t *types = calloc(n, sizeof(*types));
    int rc = 0;
    if (!tokens || !scores || !types) {
        rc = slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        goto out;
    }
    uint32_t k = 0;
    const char *specials[] = {"<unk>", "<s>", "</s>"};
    const int32_t special_types[] = {2, 3, 3};
    for (int i = 0; i < 3; i++, k++) {
        tokens[k] = strdup(specials[i]);
        types[k] = special_types[i];
    }
    for (int b = 0; b < 256; b++, k++) {
        if (asprintf(&tokens[k], "<0x%02X>", b) < 0)
            tokens[k] = NULL;
        types[k] = 6;
    }
    for (int c = 32; c < 127; c++, k++) {
        if (asprintf(&tokens[k], "\xe2\x96\x81%c", c) < 0) /* "▁c" */
            tokens[k] = NULL;
        types[k] = 1;
        scores[k] = -(float)k;
    }
    for (int c = 32; c < 127; c++, k++) {
        if (asprintf(&tokens[k], "%c", c == ' ' ? '~' + 0 : c) < 0)
            tokens[k] = NULL;
        if (c == ' ') { /* the space itself is spelled "▁" */
            free(tokens[k]);
            tokens[k] = strdup("\xe2\x96\x81");
        }
        types[k] = 1;
        scores[k] = -(float)k;
    }
    for (uint32_t i = 0; k < n; k++, i++) {
        tokens[k] = made_up_word(i / 2, i % 2 == 0);
        types[k] = 1;
        scores[k] = -(float)k;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!tokens[i]) {
            rc = slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
            goto out;
        }
    slm_gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    slm_gguf_writer_set_str(w, "tokenizer.ggml.pre", "default");
    slm_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tokens, n);
    slm_gguf_writer_set_arr_f32(w, "tokenizer.ggml.scores", scores, n);
    slm_gguf_writer_set_arr_i32(w, "tokenizer.ggml.token_type", types, n);
    slm_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    slm_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    slm_gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    slm_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true);
    slm_gguf_writer_set_str(w, "tokenizer.chat_template", DEMO_CHAT_TEMPLATE);
out:
    if (tokens)
        for (uint32_t i = 0; i < n; i++)
            free(tokens[i]);
    free(tokens);
    free(scores);
    free(types);
    return rc;
}

static int copy_vocab(slm_gguf_writer *w, const char *path, uint32_t *vocab, slm_error *err)
{
    _cleanup_(slm_gguf_closep) slm_gguf *g = slm_gguf_open(path, err);
    if (!g)
        return -(int)err->status;
    bool found = false;
    for (size_t i = 0; i < slm_gguf_n_kv(g); i++) {
        const char *key = slm_gguf_key(g, i);
        if (strncmp(key, "tokenizer.", 10) != 0)
            continue;
        if (slm_gguf_writer_copy_kv(w, g, i) < 0)
            return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
        found = true;
    }
    enum slm_gguf_value_type et;
    uint64_t n;
    if (!found || slm_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n, err) < 0)
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: no tokenizer.ggml.tokens to copy", path);
    if (n == 0 || n > (1u << 20))
        return slm_errorf(err, SLM_ERR_FORMAT, "%s: vocabulary of %llu tokens", path,
                          (unsigned long long)n);
    *vocab = (uint32_t)n;
    return 0;
}

static int add(slm_gguf_writer *w, const char *name, enum slm_type type, int64_t n_in,
               int64_t n_out, float scale, struct fill_ctx *slot, const struct slm_random_model *s,
               slm_error *err)
{
    *slot = (struct fill_ctx){.s = s, .type = type, .n_in = n_in, .scale = scale};
    int64_t ne[2] = {n_in, n_out};
    return slm_gguf_writer_add_tensor(w, name, type, n_out > 1 ? 2 : 1, ne, fill_tensor, slot,
                                      err);
}

static int build(slm_gguf_writer *w, const struct slm_random_model *s, struct fill_ctx *fills,
                 slm_error *err)
{
    const bool phi3 = !strcmp(s->arch, "phi3");
    const char *a = s->arch;
    char key[128];
#define KEY(suffix) (snprintf(key, sizeof(key), "%s.%s", a, suffix), key)
    slm_gguf_writer_set_str(w, "general.architecture", a);
    slm_gguf_writer_set_str(w, "general.name", "slm-mkmodel-random");
    slm_gguf_writer_set_u32(w, KEY("context_length"), (uint32_t)s->ctx);
    slm_gguf_writer_set_u32(w, KEY("embedding_length"), (uint32_t)s->dim);
    slm_gguf_writer_set_u32(w, KEY("block_count"), (uint32_t)s->layers);
    slm_gguf_writer_set_u32(w, KEY("feed_forward_length"), (uint32_t)s->ff);
    slm_gguf_writer_set_u32(w, KEY("attention.head_count"), (uint32_t)s->heads);
    slm_gguf_writer_set_u32(w, KEY("attention.head_count_kv"), (uint32_t)s->kv_heads);
    slm_gguf_writer_set_u32(w, KEY("rope.dimension_count"), (uint32_t)(s->dim / s->heads));
    slm_gguf_writer_set_f32(w, KEY("attention.layer_norm_rms_epsilon"), 1e-5f);
    slm_gguf_writer_set_f32(w, KEY("rope.freq_base"), 10000.0f);
#undef KEY
    const int64_t d = s->dim, hd = s->dim / s->heads, nkv = hd * s->kv_heads, ff = s->ff;
    const float wscale_d = 1.0f / sqrtf((float)d), wscale_ff = 1.0f / sqrtf((float)ff);
    size_t k = 0;
    int r;
    /* the embedding keeps a larger spread so that logits differ between tokens */
    if ((r = add(w, "token_embd.weight", s->type, d, s->vocab, 1.0f, &fills[k++], s, err)) < 0)
        return r;
    char name[96];
    for (uint32_t l = 0; l < s->layers; l++) {
#define T(fmt) (snprintf(name, sizeof(name), "blk.%u." fmt, l), name)
        if ((r = add(w, T("attn_norm.weight"), SLM_TYPE_F32, d, 1, 0, &fills[k++], s, err)) < 0)
            return r;
        if (phi3) {
            if ((r = add(w, T("attn_qkv.weight"), s->type, d, d + 2 * nkv, wscale_d, &fills[k++],
                         s, err)) < 0)
                return r;
        } else if ((r = add(w, T("attn_q.weight"), s->type, d, d, wscale_d, &fills[k++], s,
                            err)) < 0 ||
                   (r = add(w, T("attn_k.weight"), s->type, d, nkv, wscale_d, &fills[k++], s,
                            err)) < 0 ||
                   (r = add(w, T("attn_v.weight"), s->type, d, nkv, wscale_d, &fills[k++], s,
                            err)) < 0) {
            return r;
        }
        if ((r = add(w, T("attn_output.weight"), s->type, d, d, wscale_d, &fills[k++], s,
                     err)) < 0 ||
            (r = add(w, T("ffn_norm.weight"), SLM_TYPE_F32, d, 1, 0, &fills[k++], s, err)) < 0)
            return r;
        if (phi3) {
            if ((r = add(w, T("ffn_up.weight"), s->type, d, 2 * ff, wscale_d, &fills[k++], s,
                         err)) < 0)
                return r;
        } else if ((r = add(w, T("ffn_gate.weight"), s->type, d, ff, wscale_d, &fills[k++], s,
                            err)) < 0 ||
                   (r = add(w, T("ffn_up.weight"), s->type, d, ff, wscale_d, &fills[k++], s,
                            err)) < 0) {
            return r;
        }
        if ((r = add(w, T("ffn_down.weight"), s->type, ff, d, wscale_ff, &fills[k++], s, err)) <
            0)
            return r;
#undef T
    }
    if ((r = add(w, "output_norm.weight", SLM_TYPE_F32, d, 1, 0, &fills[k++], s, err)) < 0 ||
        (r = add(w, "output.weight", s->type, d, s->vocab, wscale_d, &fills[k++], s, err)) < 0)
        return r;
    return 0;
}

void slm_random_model_defaults(struct slm_random_model *s)
{
    memset(s, 0, sizeof(*s));
    s->arch = "llama";
    s->dim = 256;
    s->layers = 4;
    s->heads = 8;
    s->ctx = 2048;
    s->vocab = 32000;
    s->type = SLM_TYPE_F16;
    s->seed = 1;
}

int slm_random_model_write(const struct slm_random_model *in, const char *path, slm_error *err)
{
    struct slm_random_model s = *in;
    if (strcmp(s.arch, "llama") && strcmp(s.arch, "phi3"))
        return slm_errorf(err, SLM_ERR_UNSUPPORTED, "random models: architecture '%s' (llama "
                          "and phi3 are written as GGUF)", s.arch);
    if (!s.kv_heads)
        s.kv_heads = s.heads;
    if (!s.ff)
        s.ff = (s.dim * 8 / 3 + 31) / 32 * 32;
    if (!s.heads || !s.dim || !s.layers || s.dim % s.heads || s.heads % s.kv_heads ||
        (s.dim / s.heads) % 2)
        return slm_errorf(err, SLM_ERR_INVALID, "dim must be a multiple of heads with an even "
                          "head size, and heads a multiple of kv-heads");
    slm_kernels_init();
    const struct slm_type_traits *tr = slm_traits(s.type);
    if (!tr || !tr->from_float || s.dim % tr->block_size || s.ff % tr->block_size)
        return slm_errorf(err, SLM_ERR_INVALID, "type %s cannot hold rows of dim %u and ff %u",
                          slm_type_name(s.type), s.dim, s.ff);
    _cleanup_(slm_gguf_writer_freep) slm_gguf_writer *w = slm_gguf_writer_new();
    if (!w)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    int r = s.vocab_from ? copy_vocab(w, s.vocab_from, &s.vocab, err)
                         : synthetic_vocab(w, s.vocab, err);
    if (r < 0)
        return r;
    _cleanup_free_ struct fill_ctx *fills = calloc((size_t)s.layers * 12 + 8, sizeof(*fills));
    if (!fills)
        return slm_errorf(err, SLM_ERR_NOMEM, "out of memory");
    if ((r = build(w, &s, fills, err)) < 0)
        return r;
    return slm_gguf_writer_write(w, path, err);
}
