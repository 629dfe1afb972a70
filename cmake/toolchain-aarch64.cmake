# Cross build for 64-bit Arm (Debian gcc-aarch64-linux-gnu, target libraries from
# multiarch :arm64 packages or a sysroot, see cross-common.cmake). Tests run under
# qemu-aarch64; scripts/cross-test.sh picks the CPU model (with and without dotprod)
# through QEMU_CPU.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(SLM_CROSS_TRIPLET aarch64-linux-gnu)
set(SLM_CROSS_QEMU qemu-aarch64)
set(SLM_CROSS_LOADER /lib/ld-linux-aarch64.so.1)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
