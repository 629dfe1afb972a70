/* slm/types.h: names, block geometry and row sizes with overflow checks. */
#include <string.h>

#include "slm/types.h"
#include "test.h"

int main(void)
{
    CHECK(strcmp(slm_type_name(SLM_TYPE_Q4_K), "Q4_K") == 0);
    CHECK(strcmp(slm_type_name(SLM_TYPE_BF16), "BF16") == 0);
    CHECK(strcmp(slm_type_name(SLM_TYPE_F32), "F32") == 0);
    CHECK(strcmp(slm_type_name(99), "type-99") == 0);
    CHECK(strcmp(slm_type_name(4), "type-4") == 0); /* GGUF's removed Q4_2 */

    enum slm_type t;
    CHECK(slm_type_from_name("q6_k", &t) && t == SLM_TYPE_Q6_K);
    CHECK(slm_type_from_name("Q8_0", &t) && t == SLM_TYPE_Q8_0);
    CHECK(slm_type_from_name("bf16", &t) && t == SLM_TYPE_BF16);
    CHECK(!slm_type_from_name("q4_2", &t));
    CHECK(!slm_type_from_name("", &t));
    CHECK(!slm_type_from_name(NULL, &t));

    CHECK(slm_type_known(SLM_TYPE_Q5_1));
    CHECK(slm_type_known(SLM_TYPE_I32));
    CHECK(!slm_type_known(4));
    CHECK(!slm_type_known(SLM_TYPE_COUNT));
    CHECK(!slm_type_known(0xffffffffu));
    /* the layouts slmd makes in memory are no file type, nor a name `slm quantize` takes */
    enum slm_type parsed;
    CHECK(!slm_type_known(SLM_TYPE_Q4_0_R16) && !slm_type_known(SLM_TYPE_Q8_0_R16));
    CHECK(!slm_type_from_name("Q4_0_R16", &parsed));
    CHECK(slm_type_block_size(SLM_TYPE_Q4_0_R16) == 512 &&
          slm_type_block_bytes(SLM_TYPE_Q4_0_R16) == 16 * 18);

    /* Block geometry is the file format (GGUF / ggml-common.h). */
    static const struct {
        enum slm_type type;
        uint32_t size, bytes;
    } geometry[] = {
        {SLM_TYPE_F32, 1, 4},     {SLM_TYPE_F16, 1, 2},     {SLM_TYPE_BF16, 1, 2},
        {SLM_TYPE_Q4_0, 32, 18},  {SLM_TYPE_Q4_1, 32, 20},  {SLM_TYPE_Q5_0, 32, 22},
        {SLM_TYPE_Q5_1, 32, 24},  {SLM_TYPE_Q8_0, 32, 34},  {SLM_TYPE_Q8_1, 32, 36},
        {SLM_TYPE_Q2_K, 256, 84}, {SLM_TYPE_Q3_K, 256, 110}, {SLM_TYPE_Q4_K, 256, 144},
        {SLM_TYPE_Q5_K, 256, 176}, {SLM_TYPE_Q6_K, 256, 210}, {SLM_TYPE_Q8_K, 256, 292},
        {SLM_TYPE_I8, 1, 1},      {SLM_TYPE_I16, 1, 2},     {SLM_TYPE_I32, 1, 4},
    };
    for (size_t i = 0; i < sizeof(geometry) / sizeof(geometry[0]); i++) {
        CHECKF(slm_type_block_size(geometry[i].type) == geometry[i].size, "%s",
               slm_type_name(geometry[i].type));
        CHECKF(slm_type_block_bytes(geometry[i].type) == geometry[i].bytes, "%s",
               slm_type_name(geometry[i].type));
    }
    CHECK(slm_type_block_size((enum slm_type)4) == 0);
    CHECK(slm_type_block_bytes((enum slm_type)39) == 0);

    uint64_t bytes = 0;
    CHECK(slm_type_row_bytes(SLM_TYPE_Q4_0, 64, &bytes) && bytes == 36);
    CHECK(slm_type_row_bytes(SLM_TYPE_Q4_K, 2048, &bytes) && bytes == 8 * 144);
    CHECK(slm_type_row_bytes(SLM_TYPE_F16, 5632, &bytes) && bytes == 11264);
    CHECK(slm_type_row_bytes(SLM_TYPE_Q8_0, 0, &bytes) && bytes == 0);
    CHECK(!slm_type_row_bytes(SLM_TYPE_Q4_0, 33, &bytes)); /* not whole blocks */
    CHECK(!slm_type_row_bytes(SLM_TYPE_Q6_K, 128, &bytes));
    CHECK(!slm_type_row_bytes((enum slm_type)4, 32, &bytes));
    /* 2^62 floats and 2^64 / 32 * 34 bytes both overflow 64 bits. */
    CHECK(!slm_type_row_bytes(SLM_TYPE_F32, (uint64_t)1 << 62, &bytes));
    CHECK(!slm_type_row_bytes(SLM_TYPE_Q8_0, UINT64_MAX - 31, &bytes));
    CHECK(slm_type_row_bytes(SLM_TYPE_F32, ((uint64_t)1 << 61) - 1, &bytes) &&
          bytes == (((uint64_t)1 << 61) - 1) * 4);
    return test_report();
}
