/* The NEON dotprod kernel set (Armv8.2-A: Cortex-A55/A76, Raspberry Pi 5): the NEON
 * integer kernels rebuilt with SDOT, which sums four int8 products per lane in one
 * instruction. Float kernels and quantizers come from the NEON level. */
#include "arch/arch.h"
#include "arch/arm/arm_quants.h"
#include "arch/arm/arm_tiles.h"

ARM_TILES_DEFINE(dotprod, 4, 2)

void slm_arch_neon_dotprod_install(struct slm_type_traits traits[SLM_TYPE_COUNT],
                                   struct slm_vec_ops *ops,
                                   const struct slm_arch_features *features)
{
    (void)ops;
    (void)features;
    traits[SLM_TYPE_Q4_0].vec_dot = arm_q4_0_vec_dot;
    traits[SLM_TYPE_Q4_1].vec_dot = arm_q4_1_vec_dot;
    traits[SLM_TYPE_Q5_0].vec_dot = arm_q5_0_vec_dot;
    traits[SLM_TYPE_Q5_1].vec_dot = arm_q5_1_vec_dot;
    traits[SLM_TYPE_Q8_0].vec_dot = arm_q8_0_vec_dot;
    traits[SLM_TYPE_Q2_K].vec_dot = arm_q2_K_vec_dot;
    traits[SLM_TYPE_Q3_K].vec_dot = arm_q3_K_vec_dot;
    traits[SLM_TYPE_Q4_K].vec_dot = arm_q4_K_vec_dot;
    traits[SLM_TYPE_Q5_K].vec_dot = arm_q5_K_vec_dot;
    traits[SLM_TYPE_Q6_K].vec_dot = arm_q6_K_vec_dot;
    arm_install_tiles_dotprod(traits);
}
