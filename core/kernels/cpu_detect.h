/* What the CPU and the OS let us use (internal to the kernels). */
#ifndef SLM_KERNELS_CPU_DETECT_H
#define SLM_KERNELS_CPU_DETECT_H

#include <stdbool.h>

#include "kernels/kernels.h"

#define SLM_CPU_FEATURES_MAX 256

struct slm_cpu_info {
    enum slm_cpu_level best;            /* highest level this binary can run here */
    bool has_avx512_bf16;               /* x86: VDPBF16PS usable */
    char features[SLM_CPU_FEATURES_MAX]; /* space-separated */
};

void slm_cpu_detect(struct slm_cpu_info *info);

#endif
