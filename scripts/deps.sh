#!/bin/sh
# Installs the Debian packages slmd builds and tests with. Used by ./quickstart and .ci/run.
#   scripts/deps.sh            build + run dependencies
#   scripts/deps.sh --test     also what the test suite needs (clang, qemu, cross compilers)
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PKGS="build-essential cmake pkg-config libsystemd-dev libdbus-1-dev libyaml-dev
      libopenblas-dev libmicrohttpd-dev libjson-c-dev libutf8proc-dev libpcre2-dev
      dbus curl systemd"
if [ "${1:-}" = "--test" ]; then
  PKGS="$PKGS clang libclang-rt-14-dev valgrind python3 systemd-container"
  # the service's tests: the .deb (cpack's shlibdeps), the D-Bus policy check, and the
  # man pages that `systemd-analyze verify` looks up
  PKGS="$PKGS dpkg-dev python3-dbus man-db"
  # the Arm cross tests (scripts/cross-test.sh): compilers, C libraries, qemu-user
  PKGS="$PKGS qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
        gcc-arm-linux-gnueabihf libc6-dev-armhf-cross"
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# Target libraries for the Arm cross tests, through Debian multiarch. When the target's
# -dev packages cannot be installed beside the host's (a host library updated by a
# security release before the target's index has it), the same Debian packages are
# unpacked into a private sysroot instead, which scripts/cross-test.sh then uses.
CROSS_LIBS="libutf8proc-dev libutf8proc2 libpcre2-dev libpcre2-8-0 libpcre2-16-0
            libpcre2-32-0 libpcre2-posix3 libjson-c-dev libjson-c5 libopenblas-dev
            libopenblas-pthread-dev libopenblas0-pthread libopenblas0 libgfortran5"
CROSS_SYSROOT_BASE="${SLM_CROSS_SYSROOT:-/var/cache/slmd-cross}"
cross_libs() {
  arch=$1 triplet=$2
  [ -f "/usr/lib/$triplet/pkgconfig/libpcre2-8.pc" ] && return 0
  [ -f "$CROSS_SYSROOT_BASE/$arch/usr/lib/$triplet/pkgconfig/libpcre2-8.pc" ] && return 0
  dpkg --print-foreign-architectures | grep -qx "$arch" || {
    $SUDO dpkg --add-architecture "$arch"
    $SUDO apt-get update -qq || true
  }
  if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
       libutf8proc-dev:"$arch" libpcre2-dev:"$arch" libjson-c-dev:"$arch" \
       libopenblas-dev:"$arch"; then
    return 0
  fi
  echo "deps: multiarch $arch libraries not installable; unpacking them into $CROSS_SYSROOT_BASE/$arch"
  tmp=$(mktemp -d)
  pkgs=""
  for p in $CROSS_LIBS; do pkgs="$pkgs $p:$arch"; done
  # shellcheck disable=SC2086
  (cd "$tmp" && chmod 777 . && apt-get download $pkgs)
  $SUDO mkdir -p "$CROSS_SYSROOT_BASE/$arch"
  for deb in "$tmp"/*.deb; do $SUDO dpkg -x "$deb" "$CROSS_SYSROOT_BASE/$arch"; done
  rm -rf "$tmp"
  # the openblas.pc and libopenblas.so links are made by update-alternatives on install
  lib="$CROSS_SYSROOT_BASE/$arch/usr/lib/$triplet"
  if [ -e "$lib/openblas-pthread/pkgconfig/openblas.pc" ]; then
    $SUDO ln -sf ../openblas-pthread/pkgconfig/openblas.pc "$lib/pkgconfig/openblas.pc"
  fi
}
if [ "${1:-}" = "--test" ]; then
  cross_libs arm64 aarch64-linux-gnu
  cross_libs armhf arm-linux-gnueabihf
fi
