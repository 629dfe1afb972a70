/* The AVX-512 F/BW/VL/DQ kernel set without VNNI (Skylake-SP, Cascade Lake without VNNI
 * use, ...): 512-bit tiles for the types whose int8 products fit vpmaddubsw's int16 pair
 * sums (Q4_0's nibbles, the K-quants' 4-6 bit quants). Q8_0 keeps the AVX2 tile: its
 * activations made unsigned would overflow those pair sums. */
#include "arch/arch.h"
#include "arch/x86/x86_ftiles512.h"
#include "arch/x86/x86_ktiles512.h"
#include "arch/x86/x86_tiles.h"
#include "arch/x86/x86_tiles512.h"
#include "arch/x86/x86_r16.h"

X512_DEFINE_FLOAT_TILE(f32_tile512, 4, 6, float, X512F_LOAD_F32, X512F_MLOAD_F32)
X512_DEFINE_FLOAT_TILE(f16_tile512, 4, 6, uint16_t, X512F_LOAD_F16, X512F_MLOAD_F16)
X512_DEFINE_FLOAT_TILE(bf16_tile512, 4, 6, uint16_t, X512F_LOAD_BF16, X512F_MLOAD_BF16)
X512_DEFINE_Q4_0_TILE(q4_0_tile512, 4, 2)
X512_DEFINE_Q4_0_TILE(q4_0_tile512_1, 1, 1)
X512_DEFINE_Q4_0_DECODE(q4_0_decode512, q4_0_tile512_1)
X512_DEFINE_TILE_ENTRY_DECODE(avx512_q4_0_gemm_tile, q4_0_tile512, q4_0_decode512)
X512_DEFINE_R16_TILE(avx512_q4_0_r16_tile, 4, 4)
X512_DEFINE_K4_TILE(q4_K_tile512, 4, 2, block_q4_K, q4_K_load512)
X512_DEFINE_K4_TILE(q4_K_tile512_1, 1, 1, block_q4_K, q4_K_load512)
X86_DEFINE_TILE_ENTRY(avx512_q4_K_gemm_tile, q4_K_tile512, q4_K_tile512_1)
X512_DEFINE_K4_TILE(q5_K_tile512, 4, 2, block_q5_K, q5_K_load512)
X512_DEFINE_K4_TILE(q5_K_tile512_1, 1, 1, block_q5_K, q5_K_load512)
X86_DEFINE_TILE_ENTRY(avx512_q5_K_gemm_tile, q5_K_tile512, q5_K_tile512_1)
X512_DEFINE_Q6_K_TILE(q6_K_tile512, 4, 2)
X512_DEFINE_Q6_K_TILE(q6_K_tile512_1, 1, 1)
X86_DEFINE_TILE_ENTRY(avx512_q6_K_gemm_tile, q6_K_tile512, q6_K_tile512_1)

void slm_arch_avx512_install(struct slm_type_traits traits[SLM_TYPE_COUNT],
                             struct slm_vec_ops *ops, const struct slm_arch_features *features)
{
    (void)ops;
    (void)features;
    /* float rows in place; the matmul driver uses it from two tokens on */
    x86_set_tile(&traits[SLM_TYPE_F32], f32_tile512, 4, 6, NULL);
    x86_set_tile(&traits[SLM_TYPE_F16], f16_tile512, 4, 6, NULL);
    x86_set_tile(&traits[SLM_TYPE_BF16], bf16_tile512, 4, 6, NULL);
    x86_set_tile(&traits[SLM_TYPE_Q4_0], avx512_q4_0_gemm_tile, 4, 2, x4_q4_0_from_float);
    /* Q4_0 matrices are regrouped at load for these (model_load.c) */
    traits[SLM_TYPE_Q4_0_R16].vec_dot = x86_q4_0_r16_vec_dot;
    traits[SLM_TYPE_Q8_0_R16].from_float = x86_q8_0_r16_from_float;
    x86_set_tile(&traits[SLM_TYPE_Q4_0_R16], avx512_q4_0_r16_tile, 4, 4, NULL);
    x86_set_tile(&traits[SLM_TYPE_Q4_K], avx512_q4_K_gemm_tile, 4, 2, k4_layout_from_float);
    x86_set_tile(&traits[SLM_TYPE_Q5_K], avx512_q5_K_gemm_tile, 4, 2, k4_layout_from_float);
    x86_set_tile(&traits[SLM_TYPE_Q6_K], avx512_q6_K_gemm_tile, 4, 2, NULL);
}
