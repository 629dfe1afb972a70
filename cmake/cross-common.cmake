# The part of the cross toolchain files (toolchain-aarch64.cmake, toolchain-armhf.cmake)
# that only differs by target. They set, then include this file:
#   SLM_CROSS_TRIPLET  Debian multiarch triplet (aarch64-linux-gnu, arm-linux-gnueabihf)
#   SLM_CROSS_QEMU     qemu-user binary that runs the tests (qemu-aarch64, qemu-arm)
#   SLM_CROSS_LOADER   the target's dynamic loader as multiarch installs it under /lib
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${SLM_CROSS_TRIPLET}-gcc)
set(CMAKE_FIND_ROOT_PATH /usr/${SLM_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# Target libraries: Debian multiarch (/usr/lib/TRIPLET), or, when SLM_CROSS_SYSROOT names
# a directory holding the same packages unpacked (scripts/deps.sh falls back to that when
# multiarch cannot be installed), that sysroot.
# try_compile() projects read the toolchain file again without the cache; without the
# sysroot they would take the multiarch branch below and point pkg-config (process-wide)
# away from it.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SLM_CROSS_SYSROOT)
set(slm_cross_libdir /usr/lib/${SLM_CROSS_TRIPLET})
if(SLM_CROSS_SYSROOT)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${SLM_CROSS_SYSROOT})
  set(ENV{PKG_CONFIG_LIBDIR} ${SLM_CROSS_SYSROOT}${slm_cross_libdir}/pkgconfig:${SLM_CROSS_SYSROOT}/usr/share/pkgconfig)
  list(APPEND CMAKE_FIND_ROOT_PATH ${SLM_CROSS_SYSROOT})
  # the libraries' own dependencies (libgfortran for OpenBLAS) are found there too
  set(CMAKE_EXE_LINKER_FLAGS_INIT
      "-Wl,-rpath-link,${SLM_CROSS_SYSROOT}${slm_cross_libdir} -Wl,-rpath-link,${SLM_CROSS_SYSROOT}${slm_cross_libdir}/openblas-pthread")
  set(SLM_CROSS_LIBRARY_PATH
      "${SLM_CROSS_SYSROOT}${slm_cross_libdir}:${SLM_CROSS_SYSROOT}${slm_cross_libdir}/openblas-pthread")
else()
  set(ENV{PKG_CONFIG_LIBDIR} ${slm_cross_libdir}/pkgconfig:/usr/share/pkgconfig)
endif()
set(ENV{PKG_CONFIG_PATH} "")

# qemu's library prefix must hold the loader that matches the libc the tests load: with
# the target's multiarch libc6 installed that is the root (a cross loader from
# /usr/TRIPLET beside the multiarch libc hangs in pthread_create); otherwise the cross C
# library in /usr/TRIPLET.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  if(EXISTS ${SLM_CROSS_LOADER} AND NOT SLM_CROSS_SYSROOT)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${SLM_CROSS_QEMU} -L /)
  elseif(SLM_CROSS_LIBRARY_PATH)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${SLM_CROSS_QEMU} -L /usr/${SLM_CROSS_TRIPLET} -E LD_LIBRARY_PATH=${SLM_CROSS_LIBRARY_PATH})
  else()
    set(CMAKE_CROSSCOMPILING_EMULATOR ${SLM_CROSS_QEMU} -L /usr/${SLM_CROSS_TRIPLET})
  endif()
endif()
