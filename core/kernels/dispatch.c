/* Kernel selection: detect the CPU once, build the table of every level it supports
 * (generic patched by each SIMD installer up to that level) and make the best one, or
 * the one SLM_CPU_LEVEL asks for, active. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "kernels/cpu_detect.h"
#include "kernels/kernels.h"
#include "kernels/ops_generic.h"

#define LEVEL_COUNT (SLM_CPU_NEON_DOTPROD + 1)
#define NOTE_MAX 160

struct level_tables {
    bool supported;
    struct slm_type_traits traits[SLM_TYPE_COUNT];
    struct slm_vec_ops ops;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static struct slm_cpu_info cpu;
static struct level_tables levels[LEVEL_COUNT];
static enum slm_cpu_level active_level;
static char level_note[NOTE_MAX];

static const char *const level_names[LEVEL_COUNT] = {
    [SLM_CPU_GENERIC] = "generic",         [SLM_CPU_AVX2] = "avx2",
    [SLM_CPU_AVX512] = "avx512",           [SLM_CPU_AVX512_VNNI] = "avx512-vnni",
    [SLM_CPU_NEON] = "neon",               [SLM_CPU_NEON_DOTPROD] = "neon-dotprod",
};

/* The levels of one architecture, lowest first; installer i builds level chain[i + 1]
 * from level chain[i]. */
struct level_step {
    enum slm_cpu_level level;
    slm_arch_install_fn install;
};

static const struct level_step level_chain[] = {
#ifdef SLM_HAVE_ARCH_AVX2
    {SLM_CPU_AVX2, slm_arch_avx2_install},
#endif
#ifdef SLM_HAVE_ARCH_AVX512
    {SLM_CPU_AVX512, slm_arch_avx512_install},
#endif
#ifdef SLM_HAVE_ARCH_AVX512_VNNI
    {SLM_CPU_AVX512_VNNI, slm_arch_avx512_vnni_install},
#endif
#ifdef SLM_HAVE_ARCH_NEON
    {SLM_CPU_NEON, slm_arch_neon_install},
#endif
#ifdef SLM_HAVE_ARCH_NEON_DOTPROD
    {SLM_CPU_NEON_DOTPROD, slm_arch_neon_dotprod_install},
#endif
    {SLM_CPU_GENERIC, NULL}, /* end; keeps the array non-empty */
};

/* Levels of one family are ordered; a level of the other family is never "lower". */
static bool level_in_family(enum slm_cpu_level level, enum slm_cpu_level best)
{
    if (level == SLM_CPU_GENERIC)
        return true;
    bool arm = level >= SLM_CPU_NEON, best_arm = best >= SLM_CPU_NEON;
    return best != SLM_CPU_GENERIC && arm == best_arm && level <= best;
}

static void build_tables(void)
{
    struct slm_arch_features features = {.avx512_bf16 = cpu.has_avx512_bf16};
    struct level_tables *prev = &levels[SLM_CPU_GENERIC];
    memcpy(prev->traits, slm_generic_traits, sizeof(prev->traits));
    prev->ops = slm_generic_ops;
    prev->supported = true;
    for (size_t i = 0; level_chain[i].install; i++) {
        enum slm_cpu_level level = level_chain[i].level;
        if (!level_in_family(level, cpu.best))
            break;
        struct level_tables *t = &levels[level];
        *t = *prev;
        level_chain[i].install(t->traits, &t->ops, &features);
        t->supported = true;
        prev = t;
    }
}

enum slm_cpu_level slm_cpu_level_choose(const char *request, const bool supported[],
                                        enum slm_cpu_level best, char *note, size_t size)
{
    note[0] = 0;
    if (!request || !*request)
        return best;
    for (int l = 0; l < LEVEL_COUNT; l++) {
        if (strcmp(request, level_names[l]) != 0)
            continue;
        if (supported[l])
            return (enum slm_cpu_level)l;
        snprintf(note, size, "SLM_CPU_LEVEL=%s ignored: this CPU (or build) supports at most %s",
                 request, level_names[best]);
        return best;
    }
    snprintf(note, size,
             "SLM_CPU_LEVEL=%s ignored: not a level (generic, avx2, avx512, avx512-vnni, neon, "
             "neon-dotprod)",
             request);
    return best;
}

static void choose_level(void)
{
    bool supported[LEVEL_COUNT];
    for (int l = 0; l < LEVEL_COUNT; l++)
        supported[l] = levels[l].supported;
    active_level = slm_cpu_level_choose(getenv("SLM_CPU_LEVEL"), supported, cpu.best, level_note,
                                        sizeof(level_note));
    if (level_note[0])
        fprintf(stderr, "slm: %s\n", level_note);
}

static void init_once_fn(void)
{
    slm_cpu_detect(&cpu);
    build_tables();
    choose_level();
}

void slm_kernels_init(void) { pthread_once(&init_once, init_once_fn); }

enum slm_cpu_level slm_cpu_level(void)
{
    slm_kernels_init();
    return active_level;
}

enum slm_cpu_level slm_cpu_level_best(void)
{
    slm_kernels_init();
    return cpu.best;
}

const char *slm_cpu_level_name(enum slm_cpu_level level)
{
    if ((int)level < 0 || level >= LEVEL_COUNT)
        return "unknown";
    return level_names[level];
}

const char *slm_cpu_level_note(void)
{
    slm_kernels_init();
    return level_note[0] ? level_note : NULL;
}

const char *slm_cpu_features(void)
{
    slm_kernels_init();
    return cpu.features;
}

bool slm_cpu_level_supported(enum slm_cpu_level level)
{
    slm_kernels_init();
    return (int)level >= 0 && level < LEVEL_COUNT && levels[level].supported;
}

static const struct slm_type_traits *traits_in(const struct slm_type_traits *table,
                                               enum slm_type type)
{
    if ((unsigned)type >= SLM_TYPE_COUNT || !table[type].name)
        return NULL;
    return &table[type];
}

const struct slm_type_traits *slm_traits(enum slm_type type)
{
    slm_kernels_init();
    return traits_in(levels[active_level].traits, type);
}

const struct slm_vec_ops *slm_ops(void)
{
    slm_kernels_init();
    return &levels[active_level].ops;
}

const struct slm_type_traits *slm_traits_at(enum slm_cpu_level level, enum slm_type type)
{
    if (!slm_cpu_level_supported(level))
        return NULL;
    return traits_in(levels[level].traits, type);
}

const struct slm_vec_ops *slm_ops_at(enum slm_cpu_level level)
{
    if (!slm_cpu_level_supported(level))
        return NULL;
    return &levels[level].ops;
}

const struct slm_type_traits *slm_traits_generic(enum slm_type type)
{
    return traits_in(slm_generic_traits, type);
}

const struct slm_vec_ops *slm_ops_generic(void) { return &slm_generic_ops; }
