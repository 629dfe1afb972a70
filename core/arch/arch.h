/* The SIMD kernel sets. Each ISA level is one file under arch/x86 or arch/arm, built with
 * its own instruction-set flags (arch/Arch.cmake defines SLM_HAVE_ARCH_<LEVEL> for each
 * one it builds). An installer overwrites the table entries it has a faster kernel for
 * and leaves the rest alone, so the tables of a level are the generic ones patched by
 * every installer up to that level. */
#ifndef SLM_ARCH_ARCH_H
#define SLM_ARCH_ARCH_H

#include <stdbool.h>

#include "kernels/kernels.h"

struct slm_arch_features {
    bool avx512_bf16; /* x86: AVX512_BF16 present (VDPBF16PS) */
};

typedef void (*slm_arch_install_fn)(struct slm_type_traits traits[SLM_TYPE_COUNT],
                                    struct slm_vec_ops *ops,
                                    const struct slm_arch_features *features);

void slm_arch_avx2_install(struct slm_type_traits traits[SLM_TYPE_COUNT],
                           struct slm_vec_ops *ops, const struct slm_arch_features *features);
void slm_arch_avx512_install(struct slm_type_traits traits[SLM_TYPE_COUNT],
                             struct slm_vec_ops *ops,
                             const struct slm_arch_features *features);
void slm_arch_avx512_vnni_install(struct slm_type_traits traits[SLM_TYPE_COUNT],
                                  struct slm_vec_ops *ops,
                                  const struct slm_arch_features *features);
void slm_arch_neon_install(struct slm_type_traits traits[SLM_TYPE_COUNT],
                           struct slm_vec_ops *ops, const struct slm_arch_features *features);
void slm_arch_neon_dotprod_install(struct slm_type_traits traits[SLM_TYPE_COUNT],
                                   struct slm_vec_ops *ops,
                                   const struct slm_arch_features *features);

#endif
