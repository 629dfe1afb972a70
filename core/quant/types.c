/* The tensor type table: names and block geometry of every type slmd can read. */
#include "slm/types.h"

#include <stdio.h>
#include <strings.h>

#include "quant/blocks.h"
#include "util/checked.h"

struct type_info {
    const char *name;     /* as GGUF tools print it, upper case */
    uint32_t block_size;  /* elements per block */
    uint32_t block_bytes; /* bytes per block */
    bool internal;        /* made in memory by slmd, never read from a file */
};

static const struct type_info type_table[SLM_TYPE_COUNT] = {
    [SLM_TYPE_F32] = {"F32", 1, sizeof(float), false},
    [SLM_TYPE_F16] = {"F16", 1, sizeof(slm_half), false},
    [SLM_TYPE_BF16] = {"BF16", 1, sizeof(slm_bf16), false},
    [SLM_TYPE_Q4_0] = {"Q4_0", QK4_0, sizeof(block_q4_0), false},
    [SLM_TYPE_Q4_1] = {"Q4_1", QK4_1, sizeof(block_q4_1), false},
    [SLM_TYPE_Q5_0] = {"Q5_0", QK5_0, sizeof(block_q5_0), false},
    [SLM_TYPE_Q5_1] = {"Q5_1", QK5_1, sizeof(block_q5_1), false},
    [SLM_TYPE_Q8_0] = {"Q8_0", QK8_0, sizeof(block_q8_0), false},
    [SLM_TYPE_Q8_1] = {"Q8_1", QK8_1, sizeof(block_q8_1), false},
    [SLM_TYPE_Q2_K] = {"Q2_K", QK_K, sizeof(block_q2_K), false},
    [SLM_TYPE_Q3_K] = {"Q3_K", QK_K, sizeof(block_q3_K), false},
    [SLM_TYPE_Q4_K] = {"Q4_K", QK_K, sizeof(block_q4_K), false},
    [SLM_TYPE_Q5_K] = {"Q5_K", QK_K, sizeof(block_q5_K), false},
    [SLM_TYPE_Q6_K] = {"Q6_K", QK_K, sizeof(block_q6_K), false},
    [SLM_TYPE_Q8_K] = {"Q8_K", QK_K, sizeof(block_q8_K), false},
    [SLM_TYPE_I8] = {"I8", 1, sizeof(int8_t), false},
    [SLM_TYPE_I16] = {"I16", 1, sizeof(int16_t), false},
    [SLM_TYPE_I32] = {"I32", 1, sizeof(int32_t), false},
    [SLM_TYPE_Q4_0_R16] = {"Q4_0_R16", QK_R16, sizeof(block_q4_0_r16), true},
    [SLM_TYPE_Q8_0_R16] = {"Q8_0_R16", QK_R16, sizeof(block_q8_0_r16), true},
};

static const struct type_info *info_of(uint32_t type)
{
    if (type >= SLM_TYPE_COUNT || !type_table[type].name)
        return NULL;
    return &type_table[type];
}

bool slm_type_known(uint32_t type)
{
    const struct type_info *info = info_of(type);
    return info && !info->internal;
}

const char *slm_type_name(uint32_t type)
{
    /* Unknown numbers get a per-thread buffer so that two threads naming two bad
     * tensors at once do not overwrite each other's message. */
    static _Thread_local char unknown[24];
    const struct type_info *info = info_of(type);
    if (info)
        return info->name;
    snprintf(unknown, sizeof(unknown), "type-%u", type);
    return unknown;
}

bool slm_type_from_name(const char *name, enum slm_type *out)
{
    if (!name)
        return false;
    for (uint32_t t = 0; t < SLM_TYPE_COUNT; t++) {
        if (type_table[t].name && !type_table[t].internal &&
            strcasecmp(type_table[t].name, name) == 0) {
            *out = (enum slm_type)t;
            return true;
        }
    }
    return false;
}

uint32_t slm_type_block_size(enum slm_type type)
{
    const struct type_info *info = info_of((uint32_t)type);
    return info ? info->block_size : 0;
}

uint32_t slm_type_block_bytes(enum slm_type type)
{
    const struct type_info *info = info_of((uint32_t)type);
    return info ? info->block_bytes : 0;
}

bool slm_type_row_bytes(enum slm_type type, uint64_t n, uint64_t *bytes)
{
    const struct type_info *info = info_of((uint32_t)type);
    if (!info || n % info->block_size != 0)
        return false;
    return !slm_mul_u64(n / info->block_size, info->block_bytes, bytes);
}
