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
    arm_install_quant_dots(traits);
    arm_install_tiles_dotprod(traits);
}
