/* The generic kernel table: every type's geometry and its reference C kernels. */
#include "kernels/kernels.h"
#include "quant/blocks.h"
#include "quant/quants.h"

#define FLOAT_TYPE(T, name_, elem, prefix)                                                 \
    [T] = {.name = name_,                                                                  \
           .block_size = 1,                                                                \
           .block_bytes = sizeof(elem),                                                    \
           .quantized = false,                                                             \
           .vec_dot_type = SLM_TYPE_F32,                                                   \
           .to_float = prefix##_to_float,                                                  \
           .from_float = prefix##_from_float,                                              \
           .vec_dot = prefix##_vec_dot}

#define QUANT_TYPE(T, name_, qk, block, dot_type, prefix)                                  \
    [T] = {.name = name_,                                                                  \
           .block_size = qk,                                                               \
           .block_bytes = sizeof(block),                                                   \
           .quantized = true,                                                              \
           .vec_dot_type = dot_type,                                                       \
           .to_float = prefix##_to_float,                                                  \
           .from_float = prefix##_from_float,                                              \
           .vec_dot = prefix##_vec_dot}

/* Activation-only formats: convertible both ways, never a weight. */
#define ACTIVATION_TYPE(T, name_, qk, block, prefix)                                       \
    [T] = {.name = name_,                                                                  \
           .block_size = qk,                                                               \
           .block_bytes = sizeof(block),                                                   \
           .quantized = true,                                                              \
           .vec_dot_type = T,                                                              \
           .to_float = prefix##_to_float,                                                  \
           .from_float = prefix##_from_float}

const struct slm_type_traits slm_generic_traits[SLM_TYPE_COUNT] = {
    FLOAT_TYPE(SLM_TYPE_F32, "F32", float, slm_f32),
    FLOAT_TYPE(SLM_TYPE_F16, "F16", slm_half, slm_f16),
    FLOAT_TYPE(SLM_TYPE_BF16, "BF16", slm_bf16, slm_bf16),
    QUANT_TYPE(SLM_TYPE_Q4_0, "Q4_0", QK4_0, block_q4_0, SLM_TYPE_Q8_0, slm_q4_0),
    QUANT_TYPE(SLM_TYPE_Q4_1, "Q4_1", QK4_1, block_q4_1, SLM_TYPE_Q8_1, slm_q4_1),
    QUANT_TYPE(SLM_TYPE_Q5_0, "Q5_0", QK5_0, block_q5_0, SLM_TYPE_Q8_0, slm_q5_0),
    QUANT_TYPE(SLM_TYPE_Q5_1, "Q5_1", QK5_1, block_q5_1, SLM_TYPE_Q8_1, slm_q5_1),
    QUANT_TYPE(SLM_TYPE_Q8_0, "Q8_0", QK8_0, block_q8_0, SLM_TYPE_Q8_0, slm_q8_0),
    ACTIVATION_TYPE(SLM_TYPE_Q8_1, "Q8_1", QK8_1, block_q8_1, slm_q8_1),
    QUANT_TYPE(SLM_TYPE_Q2_K, "Q2_K", QK_K, block_q2_K, SLM_TYPE_Q8_K, slm_q2_K),
    QUANT_TYPE(SLM_TYPE_Q3_K, "Q3_K", QK_K, block_q3_K, SLM_TYPE_Q8_K, slm_q3_K),
    QUANT_TYPE(SLM_TYPE_Q4_K, "Q4_K", QK_K, block_q4_K, SLM_TYPE_Q8_K, slm_q4_K),
    QUANT_TYPE(SLM_TYPE_Q5_K, "Q5_K", QK_K, block_q5_K, SLM_TYPE_Q8_K, slm_q5_K),
    QUANT_TYPE(SLM_TYPE_Q6_K, "Q6_K", QK_K, block_q6_K, SLM_TYPE_Q8_K, slm_q6_K),
    ACTIVATION_TYPE(SLM_TYPE_Q8_K, "Q8_K", QK_K, block_q8_K, slm_q8_K),
    QUANT_TYPE(SLM_TYPE_Q4_0_R16, "Q4_0_R16", QK_R16, block_q4_0_r16, SLM_TYPE_Q8_0_R16,
               slm_q4_0_r16),
    ACTIVATION_TYPE(SLM_TYPE_Q8_0_R16, "Q8_0_R16", QK_R16, block_q8_0_r16, slm_q8_0_r16),
};
