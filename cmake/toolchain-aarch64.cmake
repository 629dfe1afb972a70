# Cross build for 64-bit Arm (Debian gcc-aarch64-linux-gnu, target libraries from
# multiarch :arm64 packages or a sysroot, see below). Tests run under qemu-aarch64;
# scripts/cross-test.sh picks the CPU model (with and without dotprod) through QEMU_CPU.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# Target libraries: Debian multiarch (/usr/lib/aarch64-linux-gnu), or, when SLM_CROSS_SYSROOT names
# a directory holding the same packages unpacked (scripts/deps.sh falls back to that when
# multiarch cannot be installed), that sysroot.
# try_compile() projects read this file again without the cache; without the sysroot they
# would take the multiarch branch below and point pkg-config (process-wide) away from it.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SLM_CROSS_SYSROOT)
if(SLM_CROSS_SYSROOT)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${SLM_CROSS_SYSROOT})
  set(ENV{PKG_CONFIG_LIBDIR} ${SLM_CROSS_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${SLM_CROSS_SYSROOT}/usr/share/pkgconfig)
  list(APPEND CMAKE_FIND_ROOT_PATH ${SLM_CROSS_SYSROOT})
  # the libraries' own dependencies (libgfortran for OpenBLAS) are found there too
  set(CMAKE_EXE_LINKER_FLAGS_INIT
      "-Wl,-rpath-link,${SLM_CROSS_SYSROOT}/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,${SLM_CROSS_SYSROOT}/usr/lib/aarch64-linux-gnu/openblas-pthread")
  set(SLM_CROSS_LIBRARY_PATH
      "${SLM_CROSS_SYSROOT}/usr/lib/aarch64-linux-gnu:${SLM_CROSS_SYSROOT}/usr/lib/aarch64-linux-gnu/openblas-pthread")
else()
  set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
endif()
set(ENV{PKG_CONFIG_PATH} "")

# qemu's library prefix must hold the loader that matches the libc the tests load: with
# the target's multiarch libc6 installed that is the root (a cross loader from
# /usr/aarch64-linux-gnu beside the multiarch libc hangs in pthread_create); otherwise the cross
# C library in /usr/aarch64-linux-gnu.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  if(EXISTS /lib/ld-linux-aarch64.so.1 AND NOT SLM_CROSS_SYSROOT)
    set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /)
  elseif(SLM_CROSS_LIBRARY_PATH)
    set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH=${SLM_CROSS_LIBRARY_PATH})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
  endif()
endif()
