# Cross build for 32-bit Arm hard-float (Debian armhf: Armv7-A, VFPv3-D16 baseline, NEON
# detected at run time). 32-bit size_t with 64-bit file offsets. Tests run under
# qemu-arm; target libraries as in cross-common.cmake.
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(SLM_CROSS_TRIPLET arm-linux-gnueabihf)
set(SLM_CROSS_QEMU qemu-arm)
set(SLM_CROSS_LOADER /lib/ld-linux-armhf.so.3)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
