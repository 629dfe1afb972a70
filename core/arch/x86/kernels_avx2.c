/* The AVX2 + FMA + F16C kernel set (Haswell, Zen 1 and later). */
#include "arch/arch.h"
#include "arch/x86/x86_float.h"
#include "arch/x86/x86_ftiles256.h"
#include "arch/x86/x86_quants.h"
#include "arch/x86/x86_tiles.h"
#include "arch/x86/x86_r16_256.h"

/* 16 ymm registers: 2 x 2 tiles keep accumulators, operands and temporaries resident. */
X86_TILE_DEFINE_Q(avx2, 2, 2)
X86_TILE_DEFINE_K(avx2, 2, 2)
X256_DEFINE_R16_TILE(avx2_q4_0_r16_tile, 2, 2)

X256_DEFINE_FLOAT_TILE(f32_tile256, 3, 3, float, X256F_LOAD_F32)
X256_DEFINE_FLOAT_TILE(f16_tile256, 3, 3, uint16_t, X256F_LOAD_F16)
X256_DEFINE_FLOAT_TILE(bf16_tile256, 3, 3, uint16_t, X256F_LOAD_BF16)

void slm_arch_avx2_install(struct slm_type_traits traits[SLM_TYPE_COUNT],
                           struct slm_vec_ops *ops, const struct slm_arch_features *features)
{
    (void)features;
    x86_install_float(traits, ops);
    traits[SLM_TYPE_Q8_0].from_float = x86_q8_0_from_float;
    traits[SLM_TYPE_Q8_1].from_float = x86_q8_1_from_float;
    traits[SLM_TYPE_Q8_K].from_float = x86_q8_K_from_float;
    traits[SLM_TYPE_Q4_0].vec_dot = x86_q4_0_vec_dot;
    traits[SLM_TYPE_Q4_1].vec_dot = x86_q4_1_vec_dot;
    traits[SLM_TYPE_Q5_0].vec_dot = x86_q5_0_vec_dot;
    traits[SLM_TYPE_Q5_1].vec_dot = x86_q5_1_vec_dot;
    traits[SLM_TYPE_Q8_0].vec_dot = x86_q8_0_vec_dot;
    traits[SLM_TYPE_Q2_K].vec_dot = x86_q2_K_vec_dot;
    traits[SLM_TYPE_Q3_K].vec_dot = x86_q3_K_vec_dot;
    traits[SLM_TYPE_Q4_K].vec_dot = x86_q4_K_vec_dot;
    traits[SLM_TYPE_Q5_K].vec_dot = x86_q5_K_vec_dot;
    traits[SLM_TYPE_Q6_K].vec_dot = x86_q6_K_vec_dot;
    /* float rows in place; the matmul driver uses them from two tokens on */
    x86_set_tile(&traits[SLM_TYPE_F32], f32_tile256, 3, 3, NULL);
    x86_set_tile(&traits[SLM_TYPE_F16], f16_tile256, 3, 3, NULL);
    x86_set_tile(&traits[SLM_TYPE_BF16], bf16_tile256, 3, 3, NULL);
    x86_set_tile(&traits[SLM_TYPE_Q4_0], x86_q4_0_gemm_tile, 2, 2, NULL);
    /* Q4_0 matrices are regrouped at load for this (model_load.c) */
    traits[SLM_TYPE_Q4_0_R16].vec_dot = x86_q4_0_r16_vec_dot256;
    traits[SLM_TYPE_Q8_0_R16].from_float = x86_q8_0_r16_from_float;
    x86_set_tile(&traits[SLM_TYPE_Q4_0_R16], avx2_q4_0_r16_tile, 2, 2, NULL);
    x86_set_tile(&traits[SLM_TYPE_Q8_0], x86_q8_0_gemm_tile, 2, 2, NULL);
    x86_set_tile(&traits[SLM_TYPE_Q4_K], x86_q4_K_gemm_tile, 2, 2, NULL);
    x86_set_tile(&traits[SLM_TYPE_Q5_K], x86_q5_K_gemm_tile, 2, 2, NULL);
    x86_set_tile(&traits[SLM_TYPE_Q6_K], x86_q6_K_gemm_tile, 2, 2, NULL);
}
