/* The NEON kernel set: AArch64 baseline (Cortex-A53/A72, Raspberry Pi 3/4) and 32-bit
 * NEON on armhf. Integer dots go through widening multiplies (SMULL + SADALP). */
#include "arch/arch.h"
#include "arch/arm/arm_float.h"
#include "arch/arm/arm_quants.h"
#include "arch/arm/arm_tiles.h"

ARM_TILES_DEFINE(neon, 4, 2)

void slm_arch_neon_install(struct slm_type_traits traits[SLM_TYPE_COUNT],
                           struct slm_vec_ops *ops, const struct slm_arch_features *features)
{
    (void)features;
    arm_install_float(traits, ops);
    traits[SLM_TYPE_Q8_0].from_float = arm_q8_0_from_float;
    traits[SLM_TYPE_Q8_1].from_float = arm_q8_1_from_float;
    traits[SLM_TYPE_Q8_K].from_float = arm_q8_K_from_float;
    arm_install_quant_dots(traits);
    arm_install_tiles_neon(traits);
}
