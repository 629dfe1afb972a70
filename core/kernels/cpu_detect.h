/* What the CPU and the OS let us use (internal to the kernels). */
#ifndef SLM_KERNELS_CPU_DETECT_H
#define SLM_KERNELS_CPU_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/kernels.h"

#define SLM_CPU_FEATURES_MAX 256

struct slm_cpu_info {
    enum slm_cpu_level best;            /* highest level this binary can run here */
    bool has_avx512_bf16;               /* x86: VDPBF16PS usable */
    char features[SLM_CPU_FEATURES_MAX]; /* space-separated */
};

void slm_cpu_detect(struct slm_cpu_info *info);

/* The level SLM_CPU_LEVEL=request selects: the named level if supported[level], else
 * `best` with a note saying why the request was ignored (note[0] = 0 when accepted or
 * when request is NULL/empty). Pure, so the tests can try every case in one process. */
enum slm_cpu_level slm_cpu_level_choose(const char *request, const bool supported[],
                                        enum slm_cpu_level best, char *note, size_t size);

#endif
