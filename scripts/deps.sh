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
