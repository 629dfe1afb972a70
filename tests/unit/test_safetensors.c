/* safetensors reader: a valid file reads back exactly; each crafted bad file is rejected
 * with an error naming the file and the reason (and the tensor or key at fault); every
 * truncation of a valid file is rejected; the committed corpus in tests/data/encoder/
 * gives the same errors through the mmap path.
 *
 * `test_safetensors --write-corpus DIR` writes the crafted files to DIR (that is how
 * tests/data/encoder/safetensors/ and the fuzz seeds were made). */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "format/safetensors.h"
#include "test.h"
#include "test_encoder_builder.h"
#include "util/cleanup.h"

static const float four[4] = {1, 2, 3, 4};
static const uint16_t halves[3] = {0x3c00, 0x4000, 0xc000}; /* 1, 2, -2 in F16 */

static struct tb_buf valid_file(void)
{
    struct stb s = {0};
    int64_t s22[] = {2, 2}, s3[] = {3}, s1[] = {1};
    stb_raw(&s, "\"__metadata__\":{\"format\":\"pt\"}");
    stb_tensor(&s, "w", "F32", s22, 2, four, sizeof(four));
    stb_tensor(&s, "h", "F16", s3, 1, halves, sizeof(halves));
    stb_tensor(&s, "b", "BF16", s3, 1, halves, sizeof(halves));
    int64_t ids = 7;
    stb_tensor(&s, "position_ids", "I64", s1, 1, &ids, sizeof(ids));
    stb_tensor(&s, "scalar", "F32", NULL, 0, four, 4);
    return stb_finish(&s);
}

/* A file with the given header text (length prefix added) followed by `data_len` bytes. */
static struct tb_buf raw_file(const char *header, size_t data_len)
{
    struct tb_buf b = {0};
    uint64_t n = strlen(header);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(n >> (8 * i));
    tb_bytes(&b, le, 8);
    tb_bytes(&b, header, n);
    for (size_t i = 0; i < data_len; i++)
        tb_bytes(&b, "\x11", 1);
    return b;
}

static struct tb_buf length_only(uint64_t n, size_t total)
{
    struct tb_buf b = {0};
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(n >> (8 * i));
    tb_bytes(&b, le, 8);
    while (b.len < total)
        tb_bytes(&b, "{", 1);
    return b;
}

struct bad_case {
    const char *name;
    struct tb_buf (*make)(void);
    const char *expect; /* substring of the error */
};

#define T(dtype, shape, offsets) "{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" offsets "}"

static struct tb_buf c_empty(void) { return (struct tb_buf){0}; }
static struct tb_buf c_short(void)
{
    struct tb_buf b = {0};
    tb_bytes(&b, "\x02\0\0\0\0", 5);
    return b;
}
static struct tb_buf c_header_past_end(void) { return length_only(100, 40); }
static struct tb_buf c_header_huge(void) { return length_only(200000000ull, 16); }
static struct tb_buf c_header_wraps(void) { return length_only(UINT64_MAX - 3, 16); }
static struct tb_buf c_header_empty(void) { return raw_file("", 0); }
static struct tb_buf c_not_json(void) { return raw_file("hello world", 0); }
static struct tb_buf c_array(void) { return raw_file("[1,2]", 0); }
static struct tb_buf c_truncated_json(void) { return raw_file("{\"w\":" T("F32", "[1]", "[0,4]"), 4); }
static struct tb_buf c_bad_json(void) { return raw_file("{\"w\" \"x\"}", 0); }
static struct tb_buf c_trailing_header(void) { return raw_file("{} x", 0); }
static struct tb_buf c_nul_in_header(void)
{
    struct tb_buf b = raw_file("{}  ", 0);
    b.data[10] = '\0';
    return b;
}
static struct tb_buf c_too_deep(void) { return raw_file("{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}", 0); }
static struct tb_buf c_duplicate_tensor(void)
{
    return raw_file("{\"w\":" T("F32", "[1]", "[0,4]") ",\"w\":" T("F32", "[1]", "[4,8]") "}", 8);
}
static struct tb_buf c_duplicate_field(void)
{
    return raw_file("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
}
static struct tb_buf c_duplicate_escaped(void)
{
    return raw_file("{\"w\":" T("F32", "[1]", "[0,4]") ",\"\\u0077\":" T("F32", "[1]", "[4,8]") "}", 8);
}
static struct tb_buf c_duplicate_metadata(void)
{
    return raw_file("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", 0);
}
static struct tb_buf c_unknown_dtype(void) { return raw_file("{\"w\":" T("F99", "[1]", "[0,4]") "}", 4); }
static struct tb_buf c_dtype_number(void)
{
    return raw_file("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
}
static struct tb_buf c_missing_shape(void)
{
    return raw_file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4);
}
static struct tb_buf c_negative_dim(void) { return raw_file("{\"w\":" T("F32", "[-1]", "[0,4]") "}", 4); }
static struct tb_buf c_float_dim(void) { return raw_file("{\"w\":" T("F32", "[1.0]", "[0,4]") "}", 4); }
static struct tb_buf c_string_dim(void) { return raw_file("{\"w\":" T("F32", "[\"1\"]", "[0,4]") "}", 4); }
static struct tb_buf c_too_many_dims(void)
{
    return raw_file("{\"w\":" T("F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4);
}
static struct tb_buf c_elements_overflow(void)
{
    return raw_file("{\"w\":" T("F32", "[4294967296,4294967296]", "[0,4]") "}", 4);
}
static struct tb_buf c_bytes_overflow(void)
{
    return raw_file("{\"w\":" T("F32", "[4611686018427387904]", "[0,4]") "}", 4);
}
static struct tb_buf c_offsets_three(void) { return raw_file("{\"w\":" T("F32", "[1]", "[0,4,8]") "}", 4); }
static struct tb_buf c_offsets_negative(void) { return raw_file("{\"w\":" T("F32", "[1]", "[-4,0]") "}", 4); }
static struct tb_buf c_offsets_huge(void)
{
    return raw_file("{\"w\":" T("F32", "[1]", "[18446744073709551612,18446744073709551615]") "}", 4);
}
static struct tb_buf c_end_before_begin(void) { return raw_file("{\"w\":" T("F32", "[0]", "[4,0]") "}", 4); }
static struct tb_buf c_past_end(void) { return raw_file("{\"w\":" T("F32", "[2]", "[0,8]") "}", 4); }
static struct tb_buf c_wrong_size(void) { return raw_file("{\"w\":" T("F32", "[2]", "[0,4]") "}", 4); }
static struct tb_buf c_gap(void)
{
    return raw_file("{\"a\":" T("F32", "[1]", "[0,4]") ",\"b\":" T("F32", "[1]", "[8,12]") "}", 12);
}
static struct tb_buf c_not_from_zero(void) { return raw_file("{\"w\":" T("F32", "[1]", "[4,8]") "}", 8); }
static struct tb_buf c_overlap(void)
{
    return raw_file("{\"a\":" T("F32", "[2]", "[0,8]") ",\"b\":" T("F32", "[2]", "[4,12]") "}", 12);
}
static struct tb_buf c_same_range(void)
{
    return raw_file("{\"a\":" T("F32", "[1]", "[0,4]") ",\"b\":" T("F32", "[1]", "[0,4]") "}", 4);
}
static struct tb_buf c_trailing_bytes(void) { return raw_file("{\"w\":" T("F32", "[1]", "[0,4]") "}", 6); }
static struct tb_buf c_data_without_tensors(void) { return raw_file("{}", 3); }
static struct tb_buf c_unexpected_field(void)
{
    return raw_file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4);
}
static struct tb_buf c_entry_not_object(void) { return raw_file("{\"w\":[1,2]}", 0); }
static struct tb_buf c_metadata_not_string(void) { return raw_file("{\"__metadata__\":{\"a\":1}}", 0); }
static struct tb_buf c_metadata_not_object(void) { return raw_file("{\"__metadata__\":\"pt\"}", 0); }
static struct tb_buf c_truncated_data(void)
{
    struct tb_buf b = valid_file();
    b.len -= 3;
    return b;
}

static const struct bad_case bad_cases[] = {
    {"empty", c_empty, "too short"},
    {"short", c_short, "too short"},
    {"header-past-end", c_header_past_end, "runs past the end of the file"},
    {"header-huge", c_header_huge, "exceeds the limit"},
    {"header-length-wraps", c_header_wraps, "exceeds the limit"},
    {"header-empty", c_header_empty, "does not start with '{'"},
    {"not-json", c_not_json, "does not start with '{'"},
    {"header-array", c_array, "does not start with '{'"},
    {"truncated-json", c_truncated_json, "JSON ends early"},
    {"bad-json", c_bad_json, "invalid JSON"},
    {"trailing-after-json", c_trailing_header, "invalid JSON"},
    {"nul-in-header", c_nul_in_header, "NUL"},
    {"too-deep", c_too_deep, "invalid JSON"},
    {"duplicate-tensor", c_duplicate_tensor, "duplicate key 'w'"},
    {"duplicate-field", c_duplicate_field, "entry 'w': duplicate key 'dtype'"},
    {"duplicate-escaped", c_duplicate_escaped, "different escapes"},
    {"duplicate-metadata", c_duplicate_metadata, "duplicate key 'a'"},
    {"unknown-dtype", c_unknown_dtype, "tensor 'w': unknown dtype 'F99'"},
    {"dtype-number", c_dtype_number, "\"dtype\" must be a string"},
    {"missing-shape", c_missing_shape, "\"shape\" must be an array"},
    {"negative-dim", c_negative_dim, "shape[0] is not a non-negative integer"},
    {"float-dim", c_float_dim, "shape[0] is not a non-negative integer"},
    {"string-dim", c_string_dim, "shape[0] is not a non-negative integer"},
    {"too-many-dims", c_too_many_dims, "9 dimensions"},
    {"elements-overflow", c_elements_overflow, "overflows"},
    {"bytes-overflow", c_bytes_overflow, "byte size overflows"},
    {"offsets-three", c_offsets_three, "must be two non-negative integers"},
    {"offsets-negative", c_offsets_negative, "must be two non-negative integers"},
    {"offsets-huge", c_offsets_huge, "run past the end of the file"},
    {"end-before-begin", c_end_before_begin, "end before they begin"},
    {"past-end", c_past_end, "run past the end of the file"},
    {"wrong-size", c_wrong_size, "hold 4 bytes but shape and dtype F32 need 8"},
    {"gap", c_gap, "tensor 'b' begins at 8 but the previous data ends at 4"},
    {"not-from-zero", c_not_from_zero, "begins at 4 but the previous data ends at 0"},
    {"overlap", c_overlap, "tensor 'b' (data_offsets from 4) overlaps tensor 'a'"},
    {"same-range", c_same_range, "overlaps"},
    {"trailing-bytes", c_trailing_bytes, "2 trailing bytes"},
    {"data-without-tensors", c_data_without_tensors, "3 trailing bytes"},
    {"unexpected-field", c_unexpected_field, "unexpected key 'x'"},
    {"entry-not-object", c_entry_not_object, "entry must be an object"},
    {"metadata-not-string", c_metadata_not_string, "__metadata__ 'a' is not a string"},
    {"metadata-not-object", c_metadata_not_object, "\"__metadata__\" must be an object"},
    {"truncated-data", c_truncated_data, "run past the end of the file"},
};

static void test_valid(void)
{
    struct tb_buf b = valid_file();
    slm_error err;
    slm_safetensors *st = slm_safetensors_open_memory(b.data, b.len, "valid", &err);
    if (!st)
        fprintf(stderr, "%s\n", err.message);
    REQUIRE(st);
    CHECK(slm_safetensors_n_tensors(st) == 5);
    const struct slm_st_tensor *w = slm_safetensors_find(st, "w");
    REQUIRE(w);
    CHECK(w->dtype == SLM_ST_F32 && w->n_dims == 2 && w->shape[0] == 2 && w->shape[1] == 2);
    CHECK(w->n_elements == 4 && w->nbytes == 16);
    CHECK(memcmp(w->data, four, 16) == 0);
    const struct slm_st_tensor *h = slm_safetensors_find(st, "h");
    REQUIRE(h);
    CHECK(h->dtype == SLM_ST_F16 && h->nbytes == 6 && memcmp(h->data, halves, 6) == 0);
    enum slm_type type;
    CHECK(slm_st_dtype_to_type(SLM_ST_BF16, &type) && type == SLM_TYPE_BF16);
    CHECK(!slm_st_dtype_to_type(SLM_ST_I64, &type));
    const struct slm_st_tensor *scalar = slm_safetensors_find(st, "scalar");
    REQUIRE(scalar);
    CHECK(scalar->n_dims == 0 && scalar->n_elements == 1 && scalar->nbytes == 4);
    CHECK(slm_safetensors_find(st, "missing") == NULL);
    const char *fmt = slm_safetensors_metadata(st, "format");
    CHECK(fmt && strcmp(fmt, "pt") == 0);
    /* data order: offsets ascend and tile the data section */
    uint64_t at = slm_safetensors_tensor(st, 0)->offset;
    for (size_t i = 0; i < slm_safetensors_n_tensors(st); i++) {
        CHECK(slm_safetensors_tensor(st, i)->offset == at);
        at += slm_safetensors_tensor(st, i)->nbytes;
    }
    CHECK(at == b.len);
    slm_safetensors_close(st);
    tb_free(&b);
}

static void test_empty_header(void)
{
    struct tb_buf b = raw_file("{}", 0);
    slm_error err;
    slm_safetensors *st = slm_safetensors_open_memory(b.data, b.len, "empty", &err);
    CHECK(st && slm_safetensors_n_tensors(st) == 0);
    slm_safetensors_close(st);
    tb_free(&b);
}

static void test_bad_cases(void)
{
    for (size_t i = 0; i < SLM_ARRAY_SIZE(bad_cases); i++) {
        struct tb_buf b = bad_cases[i].make();
        slm_error err = {0};
        /* an exact-size copy so that ASan sees a read one past the end */
        char *exact = malloc(b.len ? b.len : 1);
        if (b.len)
            memcpy(exact, b.data, b.len);
        slm_safetensors *st = slm_safetensors_open_memory(exact, b.len, "crafted.safetensors", &err);
        CHECKF(!st, "%s was accepted", bad_cases[i].name);
        CHECKF(st || strstr(err.message, bad_cases[i].expect), "%s: got \"%s\", expected \"%s\"",
               bad_cases[i].name, err.message, bad_cases[i].expect);
        CHECKF(st || strncmp(err.message, "crafted.safetensors: ", 21) == 0,
               "%s: error does not name the file: %s", bad_cases[i].name, err.message);
        slm_safetensors_close(st);
        free(exact);
        tb_free(&b);
    }
}

/* Every prefix of a valid file is invalid, and none is read past its end. */
static void test_truncations(void)
{
    struct tb_buf b = valid_file();
    int accepted = 0;
    for (size_t len = 0; len < b.len; len++) {
        char *exact = malloc(len ? len : 1);
        if (len)
            memcpy(exact, b.data, len);
        slm_safetensors *st = slm_safetensors_open_memory(exact, len, "prefix", NULL);
        accepted += st != NULL;
        slm_safetensors_close(st);
        free(exact);
    }
    CHECK(accepted == 0);
    tb_free(&b);
}

/* The committed corpus gives the same errors through the file path, naming the file. */
static void test_corpus_files(void)
{
    const char *data = getenv("SLM_TEST_DATA");
    if (!data) {
        printf("note: SLM_TEST_DATA not set, corpus files not checked\n");
        return;
    }
    for (size_t i = 0; i < SLM_ARRAY_SIZE(bad_cases); i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/data/encoder/safetensors/%s.safetensors", data,
                 bad_cases[i].name);
        slm_error err = {0};
        slm_safetensors *st = slm_safetensors_open(path, &err);
        CHECKF(!st, "%s was accepted", path);
        CHECKF(st || (strstr(err.message, path) && strstr(err.message, bad_cases[i].expect)),
               "%s: got \"%s\"", path, err.message);
        slm_safetensors_close(st);
    }
}

static int write_corpus(const char *dir)
{
    mkdir(dir, 0755);
    for (size_t i = 0; i < SLM_ARRAY_SIZE(bad_cases); i++) {
        struct tb_buf b = bad_cases[i].make();
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.safetensors", dir, bad_cases[i].name);
        if (tb_write_file(path, b.data, b.len) < 0) {
            perror(path);
            return 1;
        }
        tb_free(&b);
    }
    struct tb_buf v = valid_file();
    char path[4096];
    snprintf(path, sizeof(path), "%s/valid.safetensors", dir);
    int r = tb_write_file(path, v.data, v.len);
    tb_free(&v);
    return r < 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]);
    test_valid();
    test_empty_header();
    test_bad_cases();
    test_truncations();
    test_corpus_files();
    return test_report();
}
