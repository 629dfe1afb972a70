/* CPU feature detection: cpuid + xgetbv on x86 (the OS must save the AVX and AVX-512
 * register state, or the instructions fault even though cpuid lists them), getauxval on
 * Arm. A level counts only if its kernels were also compiled into this binary. */
#include "kernels/cpu_detect.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#endif

static void add_feature(struct slm_cpu_info *info, const char *name)
{
    size_t len = strlen(info->features);
    snprintf(info->features + len, sizeof(info->features) - len, "%s%s", len ? " " : "",
             name);
}

#if defined(__x86_64__) || defined(__i386__)

/* XCR0 bits: SSE and AVX state (1, 2); AVX-512 opmask, upper ZMM0-15, ZMM16-31 (5, 6, 7). */
#define XCR0_AVX_STATE 0x06u
#define XCR0_AVX512_STATE 0xe6u

static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect_x86(struct slm_cpu_info *info)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28),
         f16c = c & (1u << 29);
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    bool os_avx = (xcr0 & XCR0_AVX_STATE) == XCR0_AVX_STATE;
    bool os_avx512 = (xcr0 & XCR0_AVX512_STATE) == XCR0_AVX512_STATE;

    unsigned b7 = 0, c7 = 0, a7_1 = 0;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b7, c7, d);
        __cpuid_count(7, 1, a7_1, b, c, d);
    }
    bool avx2 = b7 & (1u << 5), avx512f = b7 & (1u << 16), avx512dq = b7 & (1u << 17),
         avx512bw = b7 & (1u << 30), avx512vl = b7 & (1u << 31),
         avx512vnni = c7 & (1u << 11), avx512bf16 = a7_1 & (1u << 5);

    if (!os_avx)
        avx = fma = f16c = avx2 = false;
    if (!os_avx512)
        avx512f = avx512dq = avx512bw = avx512vl = avx512vnni = avx512bf16 = false;

    if (avx)
        add_feature(info, "avx");
    if (avx2)
        add_feature(info, "avx2");
    if (fma)
        add_feature(info, "fma");
    if (f16c)
        add_feature(info, "f16c");
    if (avx512f)
        add_feature(info, "avx512f");
    if (avx512bw)
        add_feature(info, "avx512bw");
    if (avx512vl)
        add_feature(info, "avx512vl");
    if (avx512dq)
        add_feature(info, "avx512dq");
    if (avx512vnni)
        add_feature(info, "avx512vnni");
    if (avx512bf16)
        add_feature(info, "avx512bf16");

    bool level_avx2 = avx && avx2 && fma && f16c;
    bool level_avx512 = level_avx2 && avx512f && avx512bw && avx512vl && avx512dq;
#ifdef SLM_HAVE_ARCH_AVX2
    if (level_avx2)
        info->best = SLM_CPU_AVX2;
#endif
#ifdef SLM_HAVE_ARCH_AVX512
    if (level_avx512)
        info->best = SLM_CPU_AVX512;
#endif
#ifdef SLM_HAVE_ARCH_AVX512_VNNI
    if (level_avx512 && avx512vnni)
        info->best = SLM_CPU_AVX512_VNNI;
#endif
    info->has_avx512_bf16 = level_avx512 && avx512bf16;
}

#elif defined(__aarch64__)

/* From the kernel's asm/hwcap.h; spelled out so that old headers still build. */
#define HWCAP_ASIMD_BIT (1ul << 1)
#define HWCAP_ASIMDDP_BIT (1ul << 20)

static void detect_arm(struct slm_cpu_info *info)
{
    unsigned long hwcap = getauxval(AT_HWCAP);
    /* Advanced SIMD is part of armv8-a; the bit is checked anyway for odd kernels. */
    bool neon = hwcap & HWCAP_ASIMD_BIT, dotprod = hwcap & HWCAP_ASIMDDP_BIT;
    if (neon)
        add_feature(info, "neon");
    if (dotprod)
        add_feature(info, "dotprod");
#ifdef SLM_HAVE_ARCH_NEON
    if (neon)
        info->best = SLM_CPU_NEON;
#endif
#ifdef SLM_HAVE_ARCH_NEON_DOTPROD
    if (neon && dotprod)
        info->best = SLM_CPU_NEON_DOTPROD;
#endif
}

#elif defined(__arm__)

#define HWCAP_ARM_NEON_BIT (1ul << 12)

static void detect_arm(struct slm_cpu_info *info)
{
    unsigned long hwcap = getauxval(AT_HWCAP);
    bool neon = hwcap & HWCAP_ARM_NEON_BIT;
    if (neon)
        add_feature(info, "neon");
#ifdef SLM_HAVE_ARCH_NEON
    if (neon)
        info->best = SLM_CPU_NEON;
#endif
}

#endif

void slm_cpu_detect(struct slm_cpu_info *info)
{
    memset(info, 0, sizeof(*info));
    info->best = SLM_CPU_GENERIC;
#if defined(__x86_64__) || defined(__i386__)
    detect_x86(info);
#elif defined(__aarch64__) || defined(__arm__)
    detect_arm(info);
#endif
}
