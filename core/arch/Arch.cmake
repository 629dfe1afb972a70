# SIMD kernels for slmcore, one source file per ISA level, each compiled with that level's
# instruction-set flags only (the rest of the library stays baseline, and dispatch.c picks
# a level at run time). For each file built, SLM_HAVE_ARCH_<LEVEL> tells dispatch.c and
# cpu_detect.c that the level exists in this binary.
#
# Included from core/CMakeLists.txt after target slmcore exists.

# The quantizers must round exactly like the reference on every architecture: no fused
# multiply-add contraction there (aarch64 gcc contracts by default).
file(GLOB SLM_QUANT_SOURCES ${CMAKE_CURRENT_LIST_DIR}/../quant/*.c)
set_source_files_properties(${SLM_QUANT_SOURCES} PROPERTIES COMPILE_OPTIONS "-ffp-contract=off")

function(slm_add_arch_level source level flags)
  set(path ${CMAKE_CURRENT_LIST_DIR}/${source})
  if(NOT EXISTS ${path})
    return()
  endif()
  target_sources(slmcore PRIVATE ${path})
  set_source_files_properties(${path} PROPERTIES COMPILE_OPTIONS "${flags}")
  target_compile_definitions(slmcore PRIVATE SLM_HAVE_ARCH_${level}=1)
endfunction()

if(NOT SLM_SIMD)
  return()
endif()

string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" SLM_ARCH_PROCESSOR)
if(SLM_ARCH_PROCESSOR MATCHES "^(x86_64|amd64)$")
  slm_add_arch_level(x86/kernels_avx2.c AVX2 "-mavx2;-mfma;-mf16c")
  slm_add_arch_level(x86/kernels_avx512.c AVX512
    "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq")
  slm_add_arch_level(x86/kernels_avx512_vnni.c AVX512_VNNI
    "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni;-mavx512bf16")
elseif(SLM_ARCH_PROCESSOR MATCHES "^(aarch64|arm64)$")
  slm_add_arch_level(arm/kernels_neon.c NEON "")
  slm_add_arch_level(arm/kernels_neon_dotprod.c NEON_DOTPROD "-march=armv8.2-a+dotprod")
elseif(SLM_ARCH_PROCESSOR MATCHES "^(arm|armv7|armv7l|armhf)")
  # armhf's baseline is VFPv3-D16 without NEON; the NEON file asks for it and is used only
  # when the kernel reports NEON.
  slm_add_arch_level(arm/kernels_neon.c NEON "-mfpu=neon")
endif()
