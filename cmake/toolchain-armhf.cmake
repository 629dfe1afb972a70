# Cross build for 32-bit Arm hard-float (Debian armhf: Armv7-A, VFPv3-D16 baseline, NEON
# detected at run time). 32-bit size_t with 64-bit file offsets. Tests run under
# qemu-arm.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# Target libraries: Debian multiarch (/usr/lib/arm-linux-gnueabihf), or, when SLM_CROSS_SYSROOT names
# a directory holding the same packages unpacked (scripts/deps.sh falls back to that when
# multiarch cannot be installed), that sysroot.
# try_compile() projects read this file again without the cache; without the sysroot they
# would take the multiarch branch below and point pkg-config (process-wide) away from it.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SLM_CROSS_SYSROOT)
if(SLM_CROSS_SYSROOT)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${SLM_CROSS_SYSROOT})
  set(ENV{PKG_CONFIG_LIBDIR} ${SLM_CROSS_SYSROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig:${SLM_CROSS_SYSROOT}/usr/share/pkgconfig)
  list(APPEND CMAKE_FIND_ROOT_PATH ${SLM_CROSS_SYSROOT})
  # the libraries' own dependencies (libgfortran for OpenBLAS) are found there too
  set(CMAKE_EXE_LINKER_FLAGS_INIT
      "-Wl,-rpath-link,${SLM_CROSS_SYSROOT}/usr/lib/arm-linux-gnueabihf -Wl,-rpath-link,${SLM_CROSS_SYSROOT}/usr/lib/arm-linux-gnueabihf/openblas-pthread")
  set(SLM_CROSS_LIBRARY_PATH
      "${SLM_CROSS_SYSROOT}/usr/lib/arm-linux-gnueabihf:${SLM_CROSS_SYSROOT}/usr/lib/arm-linux-gnueabihf/openblas-pthread")
else()
  set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig)
endif()
set(ENV{PKG_CONFIG_PATH} "")

# qemu's library prefix must hold the loader that matches the libc the tests load: with
# the target's multiarch libc6 installed that is the root (a cross loader from
# /usr/arm-linux-gnueabihf beside the multiarch libc hangs in pthread_create); otherwise the cross
# C library in /usr/arm-linux-gnueabihf.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  if(EXISTS /lib/ld-linux-armhf.so.3 AND NOT SLM_CROSS_SYSROOT)
    set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L /)
  elseif(SLM_CROSS_LIBRARY_PATH)
    set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L /usr/arm-linux-gnueabihf -E LD_LIBRARY_PATH=${SLM_CROSS_LIBRARY_PATH})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm -L /usr/arm-linux-gnueabihf)
  endif()
endif()
