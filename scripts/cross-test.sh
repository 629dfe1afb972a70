#!/bin/sh
# Cross-builds the core, `slm` and their tests for 64-bit Arm (aarch64) and 32-bit Arm
# (armhf) and runs the test suite under qemu-user:
#   aarch64  -cpu cortex-a53   baseline NEON (Raspberry Pi 3/4 class), kernels "neon"
#            -cpu cortex-a76   with dotprod (Raspberry Pi 5 class), kernels "neon-dotprod"
#   armhf    -cpu cortex-a15   32-bit NEON; 32-bit size_t with 64-bit file offsets
# The first CPU of a target runs the whole suite; further CPUs rerun the tests whose
# result depends on the kernels (kernel, quantization, matmul, engine, decoder
# conformance). Target libraries come from Debian multiarch, or from the sysroot that
# scripts/deps.sh --test unpacks when multiarch cannot be installed; without OpenBLAS
# for a target the build uses -DSLM_BLAS=OFF there.
#
#   scripts/cross-test.sh [aarch64] [armhf]      (default: both)
# Environment: SLM_CROSS_JOBS (default 2), SLM_SHARED (reference data, default
# ../shared), SLM_CROSS_SYSROOT (default /var/cache/slmd-cross), SLM_CROSS_WERROR (ON
# to make the cross compilers' warnings errors too; off by default because 32-bit gcc
# warns where the host's does not, and those are reported rather than fatal), CTEST_ARGS.
set -eu
cd "$(dirname "$0")/.."
jobs="${SLM_CROSS_JOBS:-2}"
targets="${*:-aarch64 armhf}"
sysroot_base="${SLM_CROSS_SYSROOT:-/var/cache/slmd-cross}"
export SLM_SHARED="${SLM_SHARED:-$(cd .. && pwd)/shared}"
kernel_tests='^(unit\.(kernels|quant|matmul|engine)|conformance\.decoder)'
status=0

log() { printf '\n=== cross: %s\n' "$*"; }

describe() {
  case "$1" in
  aarch64) cc=aarch64-linux-gnu-gcc triplet=aarch64-linux-gnu debarch=arm64 qemu=qemu-aarch64
           cpus="cortex-a53 cortex-a76" ;;
  armhf)   cc=arm-linux-gnueabihf-gcc triplet=arm-linux-gnueabihf debarch=armhf qemu=qemu-arm
           cpus="cortex-a15" ;;
  *) echo "cross-test: unknown target $1 (aarch64, armhf)" >&2; exit 2 ;;
  esac
}

# Tests that are scripts run target binaries (slm, refcmp) themselves, which this machine
# cannot exec (no binfmt handler is registered, and none should be for a test run). Each
# target executable such a test is given as an argument is moved to NAME.cross-bin and
# replaced by a wrapper that starts it with the same emulator line ctest uses for the
# unit tests (CMAKE_CROSSCOMPILING_EMULATOR from the toolchain file).
wrap_helpers() {
  build=$(cd "$1" && pwd)
  ctest --test-dir "$build" --show-only=json-v1 | python3 -c '
import json, shlex, sys
build = sys.argv[1]
tests = json.load(sys.stdin).get("tests", [])
emulator = None
for t in tests:
    cmd = t.get("command", [])
    if cmd and "qemu-" in cmd[0]:
        emulator = [a for a in cmd if not a.startswith(build + "/")]
        emulator = cmd[:len(cmd) - 1] if cmd[-1].startswith(build + "/") else emulator
        break
if emulator is None:
    sys.exit(0)
seen = set()
for t in tests:
    cmd = t.get("command", [])
    if not cmd or "qemu-" in cmd[0]:
        continue
    for arg in cmd[1:]:
        if arg.startswith(build + "/") and arg not in seen:
            seen.add(arg)
            print(shlex.join(emulator) + "\t" + arg)
' "$build" | while IFS="$(printf '\t')" read -r emu exe; do
    [ -f "$exe" ] || continue
    if head -c 4 "$exe" | grep -q "ELF"; then
      mv -f "$exe" "$exe.cross-bin"
      printf '#!/bin/sh\nexec %s "$0.cross-bin" "$@"\n' "$emu" >"$exe"
      chmod +x "$exe"
    fi
  done
}

for target in $targets; do
  describe "$target"
  missing="" sysroot=""
  command -v "$cc" >/dev/null 2>&1 || missing="$missing $cc"
  command -v "$qemu" >/dev/null 2>&1 || missing="$missing $qemu"
  libdir="/usr/lib/$triplet"
  if [ ! -f "$libdir/pkgconfig/libpcre2-8.pc" ] &&
     [ -f "$sysroot_base/$debarch/usr/lib/$triplet/pkgconfig/libpcre2-8.pc" ]; then
    sysroot="$sysroot_base/$debarch"
    libdir="$sysroot/usr/lib/$triplet"
  fi
  for pc in libutf8proc libpcre2-8 json-c; do
    [ -f "$libdir/pkgconfig/$pc.pc" ] || missing="$missing $pc:$debarch"
  done
  if [ -n "$missing" ]; then
    echo "cross-test: $target: missing$missing (run scripts/deps.sh --test)" >&2
    status=1
    continue
  fi
  blas=ON
  [ -f "$libdir/pkgconfig/openblas.pc" ] || blas=OFF
  build="build-cross-$target"
  log "$target: build in $build (BLAS $blas${sysroot:+, sysroot $sysroot})"
  # -O2 without debug info: the same code as a release, built faster. No loop
  # vectorizer: Debian's aarch64-linux-gnu-gcc 12.2 crashes on tests/unit/test_encoder.c
  # with it (internal compiler error in vect_transform_reduction); the kernels are
  # intrinsics and do not depend on it.
  cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="cmake/toolchain-$target.cmake" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -fno-tree-vectorize -DNDEBUG" \
    -DSLM_BUILD_SERVICE=OFF -DSLM_WERROR="${SLM_CROSS_WERROR:-OFF}" -DSLM_BLAS="$blas" \
    -DSLM_CROSS_SYSROOT="$sysroot" -DSLM_SHARED="$SLM_SHARED" >/dev/null
  # warnings and errors are shown, the rest of the build output is not; -k builds every
  # target it can, so one broken test shows up as that test failing, not as no run
  cmake --build "$build" -j"$jobs" -- -k 2>&1 | grep -E -A3 "warning:|error:" || true
  [ -x "$build/tools/slm" ] || { echo "cross-test: $target: build failed" >&2; status=1; continue; }
  wrap_helpers "$build"
  select=""
  for cpu in $cpus; do
    log "$target: ctest under $qemu -cpu $cpu${select:+ (kernel-dependent tests)}"
    # QEMU_CPU reaches every qemu started, by ctest or by the wrappers.
    # shellcheck disable=SC2086
    if ! QEMU_CPU="$cpu" ctest --test-dir "$build" -j"$jobs" --timeout 300 \
         --output-on-failure ${select:+-R "$select"} ${CTEST_ARGS:-}; then
      status=1
    fi
    select="$kernel_tests"
  done
done
exit $status
