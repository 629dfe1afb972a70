/* Kernel selection: the generic tables are complete, levels form a chain, and
 * SLM_CPU_LEVEL may only lower the level (the choice itself is a pure function, tried
 * here for every case; the process's own choice is checked once, with a request set
 * before the kernels start). */
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu_detect.h"
#include "kernels/kernels.h"
#include "test.h"

#define LEVELS (SLM_CPU_NEON_DOTPROD + 1)

static void test_choose(void)
{
    char note[200];
    bool x86[LEVELS] = {[SLM_CPU_GENERIC] = true, [SLM_CPU_AVX2] = true};
    CHECK(slm_cpu_level_choose(NULL, x86, SLM_CPU_AVX2, note, sizeof(note)) == SLM_CPU_AVX2 &&
          !note[0]);
    CHECK(slm_cpu_level_choose("", x86, SLM_CPU_AVX2, note, sizeof(note)) == SLM_CPU_AVX2 &&
          !note[0]);
    CHECK(slm_cpu_level_choose("generic", x86, SLM_CPU_AVX2, note, sizeof(note)) ==
              SLM_CPU_GENERIC &&
          !note[0]);
    CHECK(slm_cpu_level_choose("avx2", x86, SLM_CPU_AVX2, note, sizeof(note)) == SLM_CPU_AVX2 &&
          !note[0]);
    /* higher than the CPU: ignored, with a note */
    CHECK(slm_cpu_level_choose("avx512-vnni", x86, SLM_CPU_AVX2, note, sizeof(note)) ==
          SLM_CPU_AVX2);
    CHECKF(strstr(note, "ignored: this CPU") && strstr(note, "at most avx2"), "note: %s", note);
    /* another architecture's level */
    CHECK(slm_cpu_level_choose("neon", x86, SLM_CPU_AVX2, note, sizeof(note)) == SLM_CPU_AVX2);
    CHECK(strstr(note, "ignored") != NULL);
    /* not a level at all */
    CHECK(slm_cpu_level_choose("fast", x86, SLM_CPU_AVX2, note, sizeof(note)) == SLM_CPU_AVX2);
    CHECKF(strstr(note, "not a level") != NULL, "note: %s", note);

    bool arm[LEVELS] = {[SLM_CPU_GENERIC] = true, [SLM_CPU_NEON] = true,
                        [SLM_CPU_NEON_DOTPROD] = true};
    CHECK(slm_cpu_level_choose("neon", arm, SLM_CPU_NEON_DOTPROD, note, sizeof(note)) ==
              SLM_CPU_NEON &&
          !note[0]);
    CHECK(slm_cpu_level_choose("avx2", arm, SLM_CPU_NEON_DOTPROD, note, sizeof(note)) ==
          SLM_CPU_NEON_DOTPROD);
    CHECK(note[0] != 0);
}

int main(void)
{
    /* Before anything starts the kernels: the process must come up on generic. */
    setenv("SLM_CPU_LEVEL", "generic", 1);
    CHECK(slm_cpu_level() == SLM_CPU_GENERIC);
    CHECK(slm_cpu_level_note() == NULL);
    CHECK(slm_traits(SLM_TYPE_Q4_0)->vec_dot == slm_traits_generic(SLM_TYPE_Q4_0)->vec_dot);
    CHECK(slm_ops()->softmax == slm_ops_generic()->softmax);

    test_choose();

    /* Every weight type has the full generic set, every activation type converts. */
    static const enum slm_type weights[] = {
        SLM_TYPE_F32,  SLM_TYPE_F16,  SLM_TYPE_BF16, SLM_TYPE_Q4_0, SLM_TYPE_Q4_1,
        SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0, SLM_TYPE_Q2_K, SLM_TYPE_Q3_K,
        SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof(weights) / sizeof(weights[0]); i++) {
        const struct slm_type_traits *t = slm_traits_generic(weights[i]);
        REQUIRE(t);
        CHECKF(t->to_float && t->from_float && t->vec_dot, "%s", t->name);
        CHECK(t->block_size == slm_type_block_size(weights[i]));
        CHECK(t->block_bytes == slm_type_block_bytes(weights[i]));
        CHECK(strcmp(t->name, slm_type_name(weights[i])) == 0);
        const struct slm_type_traits *x = slm_traits_generic(t->vec_dot_type);
        CHECKF(x && x->from_float && x->block_size == t->block_size, "%s activations",
               t->name);
        /* Every supported level keeps the geometry. */
        for (int l = 0; l < LEVELS; l++) {
            const struct slm_type_traits *a = slm_traits_at((enum slm_cpu_level)l, weights[i]);
            if (!slm_cpu_level_supported((enum slm_cpu_level)l)) {
                CHECK(a == NULL);
                continue;
            }
            CHECK(a && a->block_size == t->block_size && a->vec_dot_type == t->vec_dot_type);
            CHECK(a->vec_dot && a->to_float && a->from_float);
            CHECK(!a->gemm_tile || (a->tile_rows >= 1 && a->tile_cols >= 1));
        }
    }
    CHECK(slm_traits(SLM_TYPE_I32) == NULL);
    CHECK(slm_traits((enum slm_type)4) == NULL);
    CHECK(slm_traits((enum slm_type)1000) == NULL);

    enum slm_cpu_level best = slm_cpu_level_best();
    CHECK(slm_cpu_level_supported(SLM_CPU_GENERIC));
    CHECK(slm_cpu_level_supported(best));
    CHECK(!slm_cpu_level_supported((enum slm_cpu_level)99));
    printf("best level: %s; features: %s\n", slm_cpu_level_name(best), slm_cpu_features());
#if defined(__x86_64__)
    CHECK(!slm_cpu_level_supported(SLM_CPU_NEON));
#elif defined(__aarch64__) || defined(__arm__)
    CHECK(!slm_cpu_level_supported(SLM_CPU_AVX2));
#endif
    return test_report();
}
