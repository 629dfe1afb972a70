/* GGUF reader: a valid file reads back exactly; each crafted bad file is rejected with the
 * reason named; every truncation of a valid file is rejected.
 *
 * `test_gguf --write-corpus DIR` writes the crafted bad files to DIR (that is how
 * tests/data/bad-gguf/ and the fuzz seeds were made). */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "gguf_builder.h"
#include "slm/gguf.h"
#include "test.h"

#define ALIGN 32

/* A small valid file: 4 metadata entries, two F32 tensors and one Q8_0 tensor. */
static struct gb valid_file(void)
{
    struct gb b = {0};
    gb_header(&b, 3, 3, 5);
    gb_kv_str(&b, "general.architecture", "llama");
    gb_kv_u32(&b, "llama.block_count", 2);
    gb_kv_f32(&b, "llama.rope.freq_base", 10000.0f);
    gb_kv_bool(&b, "tokenizer.ggml.add_bos_token", 1);
    /* array of 3 strings */
    gb_str(&b, "tokenizer.ggml.tokens");
    gb_u32(&b, 9);
    gb_u32(&b, 8);
    gb_u64(&b, 3);
    gb_str(&b, "<s>");
    gb_str(&b, "a");
    gb_str(&b, "bc");
    uint64_t d1[] = {4}, d2[] = {4, 2}, d3[] = {32, 1};
    gb_tensor(&b, "norm.weight", 1, d1, 0, 0);
    gb_tensor(&b, "w", 2, d2, 0, 32);
    gb_tensor(&b, "q", 2, d3, 8, 64);
    gb_pad(&b, ALIGN);
    float v[4] = {1, 2, 3, 4};
    gb_bytes(&b, v, 16);
    gb_zeros(&b, 16);
    float w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    gb_bytes(&b, w, 32);
    gb_zeros(&b, 34); /* one Q8_0 block */
    return b;
}

static void test_valid(void)
{
    struct gb b = valid_file();
    slm_error err;
    slm_gguf *g = slm_gguf_open_memory(b.data, b.len, "valid", &err);
    REQUIRE(g);
    CHECK(slm_gguf_version(g) == 3);
    CHECK(slm_gguf_n_kv(g) == 5);
    CHECK(slm_gguf_n_tensors(g) == 3);
    uint32_t u;
    CHECK(slm_gguf_get_u32(g, "llama.block_count", &u, &err) == 0 && u == 2);
    float f;
    CHECK(slm_gguf_get_f32(g, "llama.rope.freq_base", &f, &err) == 0 && f == 10000.0f);
    bool bo;
    CHECK(slm_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &bo, &err) == 0 && bo);
    char *arch = NULL;
    CHECK(slm_gguf_get_str_dup(g, "general.architecture", &arch, &err) == 0 &&
          strcmp(arch, "llama") == 0);
    free(arch);
    enum slm_gguf_value_type et;
    uint64_t count;
    CHECK(slm_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &count, &err) == 0 &&
          et == SLM_GGUF_STRING && count == 3);
    struct slm_gguf_str s;
    CHECK(slm_gguf_arr_str(g, "tokenizer.ggml.tokens", 2, &s, &err) == 0 && s.len == 2 &&
          memcmp(s.ptr, "bc", 2) == 0);
    CHECK(slm_gguf_arr_str(g, "tokenizer.ggml.tokens", 3, &s, &err) == -SLM_ERR_FORMAT);

    /* declared types are enforced */
    CHECK(slm_gguf_get_u32(g, "general.architecture", &u, &err) == -SLM_ERR_FORMAT);
    CHECK(strstr(err.message, "general.architecture") && strstr(err.message, "string"));
    CHECK(slm_gguf_get_str(g, "llama.block_count", &s, &err) == -SLM_ERR_FORMAT);
    CHECK(slm_gguf_get_bool(g, "llama.block_count", &bo, &err) == -SLM_ERR_FORMAT);
    CHECK(slm_gguf_get_f32(g, "llama.block_count", &f, &err) == -SLM_ERR_FORMAT);
    u = 77;
    CHECK(slm_gguf_get_u32(g, "missing.key", &u, &err) == -SLM_ERR_NOT_FOUND && u == 77);

    const struct slm_gguf_tensor *t = slm_gguf_find_tensor(g, "w");
    REQUIRE(t);
    CHECK(t->n_dims == 2 && t->ne[0] == 4 && t->ne[1] == 2 && t->ne[2] == 1);
    CHECK(t->nbytes == 32 && ((const float *)t->data)[7] == 8.0f);
    t = slm_gguf_find_tensor(g, "q");
    CHECK(t && t->type == SLM_TYPE_Q8_0 && t->nbytes == 34);
    CHECK(slm_gguf_find_tensor(g, "nope") == NULL);
    slm_gguf_close(g);

    /* every proper prefix is rejected, never read past */
    for (size_t len = 0; len < b.len; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, b.data, len);
        g = slm_gguf_open_memory(copy, len, "prefix", &err);
        CHECKF(g == NULL, "prefix of %zu bytes accepted", len);
        slm_gguf_close(g);
        free(copy);
    }
    free(b.data);
}

struct bad_case {
    const char *name;
    void (*build)(struct gb *b);
    const char *expect; /* substring of the error message */
};

static void bad_magic(struct gb *b) { gb_bytes(b, "GGUX\3\0\0\0", 8), gb_u64(b, 0), gb_u64(b, 0); }
static void version1(struct gb *b) { gb_header(b, 1, 0, 0); }
static void big_endian(struct gb *b) { gb_header(b, 0x03000000u, 0, 0); }
static void version9(struct gb *b) { gb_header(b, 9, 0, 0); }
static void huge_kv_count(struct gb *b) { gb_header(b, 3, 0, (uint64_t)1 << 62); }
static void huge_tensor_count(struct gb *b) { gb_header(b, 3, UINT64_MAX, 0); }
static void key_len_wraps(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_u64(b, UINT64_MAX);
    gb_bytes(b, "abcdefgh", 8);
}
static void key_too_long(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_u64(b, 1 << 20);
    gb_zeros(b, 16); /* the length alone must be refused */
}
static void empty_key(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_str(b, "");
    gb_u32(b, 4);
    gb_u32(b, 1);
}
static void duplicate_key(struct gb *b)
{
    gb_header(b, 3, 0, 2);
    gb_kv_u32(b, "llama.block_count", 1);
    gb_kv_u32(b, "llama.block_count", 2);
}
static void unknown_value_type(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_str(b, "k");
    gb_u32(b, 99);
    gb_u32(b, 0);
}
static void nested_array(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_str(b, "k");
    gb_u32(b, 9);
    gb_u32(b, 9);
    gb_u64(b, 1);
    gb_u32(b, 4);
    gb_u64(b, 1);
    gb_u32(b, 7);
}
static void array_size_wraps(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_str(b, "k");
    gb_u32(b, 9);
    gb_u32(b, 10); /* u64 elements */
    gb_u64(b, (uint64_t)1 << 61); /* * 8 wraps to 0 */
    gb_u64(b, 0);
}
static void string_array_huge(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_str(b, "tokenizer.ggml.tokens");
    gb_u32(b, 9);
    gb_u32(b, 8);
    gb_u64(b, (uint64_t)1 << 40);
    gb_str(b, "a");
}
static void string_value_wraps(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_str(b, "general.name");
    gb_u32(b, 8);
    gb_u64(b, UINT64_MAX - 3);
    gb_bytes(b, "abc", 3);
}
static void bad_bool(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_kv_bool(b, "tokenizer.ggml.add_bos_token", 2);
}
static void alignment_string(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_kv_str(b, "general.alignment", "32");
}
static void alignment_zero(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_kv_u32(b, "general.alignment", 0);
}
static void alignment_not_pow2(struct gb *b)
{
    gb_header(b, 3, 0, 1);
    gb_kv_u32(b, "general.alignment", 48);
}
static void one_tensor(struct gb *b, const char *name, uint32_t n_dims, const uint64_t *dims,
                       uint32_t type, uint64_t offset, size_t data_bytes)
{
    gb_header(b, 3, 1, 0);
    gb_tensor(b, name, n_dims, dims, type, offset);
    gb_pad(b, ALIGN);
    gb_zeros(b, data_bytes);
}
static void zero_dims(struct gb *b) { one_tensor(b, "t", 0, NULL, 0, 0, 16); }
static void five_dims(struct gb *b)
{
    uint64_t d[5] = {1, 1, 1, 1, 1};
    one_tensor(b, "t", 5, d, 0, 0, 16);
}
static void zero_dim(struct gb *b)
{
    uint64_t d[2] = {4, 0};
    one_tensor(b, "t", 2, d, 0, 0, 16);
}
static void dims_overflow(struct gb *b)
{
    uint64_t d[3] = {(uint64_t)1 << 32, (uint64_t)1 << 32, (uint64_t)1 << 32};
    one_tensor(b, "t", 3, d, 0, 0, 16);
}
static void bytes_overflow(struct gb *b)
{
    /* elements fit in int64, bytes (x4) do not */
    uint64_t d[2] = {(uint64_t)1 << 31, (uint64_t)1 << 31};
    one_tensor(b, "t", 2, d, 0, 0, 16);
}
static void unknown_tensor_type(struct gb *b)
{
    uint64_t d[1] = {4};
    one_tensor(b, "t", 1, d, 99, 0, 16);
}
static void partial_block(struct gb *b)
{
    uint64_t d[1] = {20};
    one_tensor(b, "t", 1, d, 2 /* Q4_0 */, 0, 32);
}
static void misaligned_offset(struct gb *b)
{
    uint64_t d[1] = {4};
    one_tensor(b, "t", 1, d, 0, 4, 64);
}
static void offset_past_end(struct gb *b)
{
    uint64_t d[1] = {4};
    one_tensor(b, "t", 1, d, 0, 4096, 16);
}
static void offset_wraps(struct gb *b)
{
    uint64_t d[1] = {64};
    one_tensor(b, "t", 1, d, 0, UINT64_MAX - 31, 16);
}
static void data_truncated(struct gb *b)
{
    uint64_t d[1] = {64}; /* 256 bytes, 100 present */
    one_tensor(b, "t", 1, d, 0, 0, 100);
}
static void overlapping(struct gb *b)
{
    uint64_t d[1] = {16}; /* 64 bytes each, second starts at 32 */
    gb_header(b, 3, 2, 0);
    gb_tensor(b, "a", 1, d, 0, 0);
    gb_tensor(b, "b", 1, d, 0, 32);
    gb_pad(b, ALIGN);
    gb_zeros(b, 128);
}
static void duplicate_tensor(struct gb *b)
{
    uint64_t d[1] = {8};
    gb_header(b, 3, 2, 0);
    gb_tensor(b, "a", 1, d, 0, 0);
    gb_tensor(b, "a", 1, d, 0, 32);
    gb_pad(b, ALIGN);
    gb_zeros(b, 64);
}
static void tensor_name_nul(struct gb *b)
{
    gb_header(b, 3, 1, 0);
    gb_u64(b, 3);
    gb_bytes(b, "a\0b", 3);
    gb_u32(b, 1);
    gb_u64(b, 4);
    gb_u32(b, 0);
    gb_u64(b, 0);
    gb_pad(b, ALIGN);
    gb_zeros(b, 16);
}
static void tensor_name_huge(struct gb *b)
{
    gb_header(b, 3, 1, 0);
    gb_u64(b, (uint64_t)1 << 33);
    gb_zeros(b, 64);
}
static void truncated_header(struct gb *b) { gb_bytes(b, "GGUF\3\0\0\0\0\0", 10); }
static void empty_file(struct gb *b) { (void)b; }

static const struct bad_case bad_cases[] = {
    {"empty", empty_file, "truncated"},
    {"truncated-header", truncated_header, "truncated"},
    {"bad-magic", bad_magic, "not a GGUF file"},
    {"version-1", version1, "version 1 is not supported"},
    {"big-endian", big_endian, "big-endian"},
    {"version-9", version9, "unknown GGUF version 9"},
    {"huge-kv-count", huge_kv_count, "metadata entries"},
    {"huge-tensor-count", huge_tensor_count, "tensors, more than"},
    {"key-length-wraps", key_len_wraps, "limit"},
    {"key-too-long", key_too_long, "limit"},
    {"empty-key", empty_key, "empty metadata key"},
    {"duplicate-key", duplicate_key, "duplicate metadata key 'llama.block_count'"},
    {"unknown-value-type", unknown_value_type, "unknown value type 99"},
    {"nested-array", nested_array, "nested array"},
    {"array-size-wraps", array_size_wraps, "runs past the end"},
    {"string-array-huge", string_array_huge, "cannot fit"},
    {"string-length-wraps", string_value_wraps, "only"},
    {"bad-bool", bad_bool, "not 0 or 1"},
    {"alignment-string", alignment_string, "general.alignment must be u32"},
    {"alignment-zero", alignment_zero, "not a power of two"},
    {"alignment-48", alignment_not_pow2, "not a power of two"},
    {"tensor-0-dims", zero_dims, "0 dimensions"},
    {"tensor-5-dims", five_dims, "5 dimensions"},
    {"tensor-dim-zero", zero_dim, "dimension 1 is 0"},
    {"tensor-elements-overflow", dims_overflow, "element count overflows"},
    {"tensor-bytes-overflow", bytes_overflow, "byte size overflows"},
    {"tensor-unknown-type", unknown_tensor_type, "type-99"},
    {"tensor-partial-block", partial_block, "not a whole number of Q4_0 blocks"},
    {"tensor-misaligned", misaligned_offset, "not a multiple of the alignment"},
    {"tensor-past-end", offset_past_end, "runs past the end"},
    {"tensor-offset-wraps", offset_wraps, "runs past the end"},
    {"tensor-data-truncated", data_truncated, "runs past the end"},
    {"tensors-overlap", overlapping, "overlap"},
    {"tensor-duplicate-name", duplicate_tensor, "duplicate tensor name 'a'"},
    {"tensor-name-nul", tensor_name_nul, "NUL byte"},
    {"tensor-name-huge", tensor_name_huge, "limit"},
};

static void test_bad_cases(void)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct gb b = {0};
        bad_cases[i].build(&b);
        slm_error err = {0};
        uint8_t *exact = malloc(b.len ? b.len : 1);
        if (b.len)
            memcpy(exact, b.data, b.len);
        slm_gguf *g = slm_gguf_open_memory(exact, b.len, bad_cases[i].name, &err);
        CHECKF(g == NULL, "%s accepted", bad_cases[i].name);
        CHECKF(err.status == SLM_ERR_FORMAT || err.status == SLM_ERR_UNSUPPORTED,
               "%s: status %d", bad_cases[i].name, err.status);
        CHECKF(strstr(err.message, bad_cases[i].expect) != NULL, "%s: message '%s' lacks '%s'",
               bad_cases[i].name, err.message, bad_cases[i].expect);
        CHECKF(strncmp(err.message, bad_cases[i].name, strlen(bad_cases[i].name)) == 0,
               "%s: message does not start with the file name: %s", bad_cases[i].name,
               err.message);
        slm_gguf_close(g);
        free(exact);
        free(b.data);
    }
}

static int write_corpus(const char *dir)
{
    mkdir(dir, 0755);
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct gb b = {0};
        bad_cases[i].build(&b);
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.gguf", dir, bad_cases[i].name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(b.data, 1, b.len, f) != b.len) {
            perror(path);
            return 1;
        }
        fclose(f);
        free(b.data);
    }
    struct gb v = valid_file();
    char path[4096];
    snprintf(path, sizeof(path), "%s/valid-small.gguf", dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(v.data, 1, v.len, f) != v.len)
        return 1;
    fclose(f);
    free(v.data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]);
    test_valid();
    test_bad_cases();
    return test_report();
}
