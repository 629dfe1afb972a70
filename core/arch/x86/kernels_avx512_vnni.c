/* The AVX-512 VNNI kernel set (Ice Lake, Zen 4 and later): the 256-bit kernels with
 * vpdpbusd / vpdpwssd integer dots, and 512-bit tiles for Q4_0, Q8_0, Q4_K, Q5_K, Q6_K. */
#include "arch/arch.h"
#include "arch/x86/x86_quants.h"
#include "arch/x86/x86_tiles.h"
#include "arch/x86/x86_ktiles512.h"
#include "arch/x86/x86_tiles512.h"
#include "arch/x86/x86_r16.h"

/* Tile shapes measured on Zen 5 (bench/kernels/README.md): Q4_0 8 rows x 2 tokens
 * (+9% over 4 x 2; 8 x 3 runs out of registers); Q8_0 and the
 * K-quants 4 x 4 (+20-25% over 4 x 2); decode goes one row at a time (see
 * X86_DEFINE_TILE_ENTRY). */
X512_DEFINE_Q4_0_TILE(q4_0_tile512, 8, 2)
X512_DEFINE_Q4_0_TILE(q4_0_tile512_1, 1, 1)
X512_DEFINE_Q4_0_DECODE(q4_0_decode512, q4_0_tile512_1)
X512_DEFINE_TILE_ENTRY_DECODE(vnni_q4_0_gemm_tile, q4_0_tile512, q4_0_decode512)
X512_DEFINE_R16_TILE(vnni_q4_0_r16_tile, 4, 4)
X512_DEFINE_Q8_0_TILE(q8_0_tile512, 4, 4)
X512_DEFINE_Q8_0_TILE(q8_0_tile512_1, 1, 1)
X86_DEFINE_TILE_ENTRY(vnni_q8_0_gemm_tile, q8_0_tile512, q8_0_tile512_1)
X512_DEFINE_K4_TILE(q4_K_tile512, 4, 4, block_q4_K, q4_K_load512)
X512_DEFINE_K4_TILE(q4_K_tile512_1, 1, 1, block_q4_K, q4_K_load512)
X86_DEFINE_TILE_ENTRY(vnni_q4_K_gemm_tile, q4_K_tile512, q4_K_tile512_1)
X512_DEFINE_K4_TILE(q5_K_tile512, 4, 4, block_q5_K, q5_K_load512)
X512_DEFINE_K4_TILE(q5_K_tile512_1, 1, 1, block_q5_K, q5_K_load512)
X86_DEFINE_TILE_ENTRY(vnni_q5_K_gemm_tile, q5_K_tile512, q5_K_tile512_1)
X512_DEFINE_Q6_K_TILE(q6_K_tile512, 4, 4)
X512_DEFINE_Q6_K_TILE(q6_K_tile512_1, 1, 1)
X86_DEFINE_TILE_ENTRY(vnni_q6_K_gemm_tile, q6_K_tile512, q6_K_tile512_1)

void slm_arch_avx512_vnni_install(struct slm_type_traits traits[SLM_TYPE_COUNT],
                                  struct slm_vec_ops *ops,
                                  const struct slm_arch_features *features)
{
    (void)ops;
    (void)features;
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
    x86_set_tile(&traits[SLM_TYPE_Q4_0], vnni_q4_0_gemm_tile, 8, 2, x4_q4_0_from_float);
    /* Q4_0 matrices are regrouped at load for these (model_load.c) */
    traits[SLM_TYPE_Q4_0_R16].vec_dot = x86_q4_0_r16_vec_dot;
    traits[SLM_TYPE_Q8_0_R16].from_float = x86_q8_0_r16_from_float;
    x86_set_tile(&traits[SLM_TYPE_Q4_0_R16], vnni_q4_0_r16_tile, 4, 4, NULL);
    x86_set_tile(&traits[SLM_TYPE_Q8_0], vnni_q8_0_gemm_tile, 4, 4, x4_q8_0_from_float);
    x86_set_tile(&traits[SLM_TYPE_Q4_K], vnni_q4_K_gemm_tile, 4, 4, k4_layout_from_float);
    x86_set_tile(&traits[SLM_TYPE_Q5_K], vnni_q5_K_gemm_tile, 4, 4, k4_layout_from_float);
    x86_set_tile(&traits[SLM_TYPE_Q6_K], vnni_q6_K_gemm_tile, 4, 4, NULL);
}
