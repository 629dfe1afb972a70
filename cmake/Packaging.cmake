# CPack: a Debian package of slmd (the service, the slm tool, units, policy, config,
# man pages). Configure with the prefix the package installs to, then run cpack:
#   cmake -S . -B build-deb -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-deb -j2 && (cd build-deb && cpack -G DEB)
# Cross-building for arm64 uses the toolchain file:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake \
#         -DCMAKE_INSTALL_PREFIX=/usr ...
# The maintainer scripts create the user and group (systemd-sysusers), create
# /var/lib/slmd/models (systemd-tmpfiles), make systemd and D-Bus read the new files, and
# enable or start nothing: `systemctl enable --now slmd.socket` is the operator's call.

if(NOT SLM_BUILD_SERVICE)
  return() # the package is the service; without it there is nothing to install
endif()

# Debian architecture names for the target.
if(CMAKE_CROSSCOMPILING OR NOT SLMD_DEB_ARCH)
  string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _cpu)
  if(_cpu MATCHES "^(x86_64|amd64)$")
    set(_arch amd64)
  elseif(_cpu MATCHES "^(aarch64|arm64)$")
    set(_arch arm64)
  elseif(_cpu MATCHES "^arm")
    set(_arch armhf)
  else()
    set(_arch "${_cpu}")
  endif()
  set(SLMD_DEB_ARCH "${_arch}" CACHE STRING "Debian architecture of the .deb")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME slmd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "slmd")
set(CPACK_PACKAGE_CONTACT "slmd maintainers <slmd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "small language models as a system service")
set(CPACK_PACKAGE_DESCRIPTION
  "slmd keeps small language models resident in one process and serves them to every
local program over D-Bus and an OpenAI-compatible HTTP API on a Unix socket. Models are
GGUF files or Hugging Face directories, declared in /etc/slmd/slmd.yaml. Inference runs
on slmd's own transformer core, with no network access.")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${SLMD_DEB_ARCH})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, dbus")
# Library dependencies from the binaries themselves (needs the target's libraries, so
# only when building natively).
if(NOT CMAKE_CROSSCOMPILING)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
# Absolute destinations (units, /etc) go into the package as they are.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES ON)

# Maintainer scripts and conffiles, written into the build tree.
set(_deb ${PROJECT_BINARY_DIR}/deb)
set(SLMD_DEB_SYSUSERS "${SLMD_SYSUSERS_DIR}/slmd.conf")
set(SLMD_DEB_TMPFILES "${SLMD_TMPFILES_DIR}/slmd.conf")
set(SLMD_DEB_CONFIG "${CMAKE_INSTALL_FULL_SYSCONFDIR}/slmd/slmd.yaml")
file(CONFIGURE OUTPUT ${_deb}/conffiles CONTENT "@SLMD_DEB_CONFIG@\n" @ONLY)
file(CONFIGURE OUTPUT ${_deb}/postinst @ONLY CONTENT [=[#!/bin/sh
# slmd postinst: user, directories, and telling systemd and D-Bus about the new files.
# Enables and starts nothing.
set -e
if [ "$1" = "configure" ]; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers @SLMD_DEB_SYSUSERS@
    elif ! getent passwd slmd >/dev/null; then
        addgroup --system slmd >/dev/null
        adduser --system --ingroup slmd --home /var/lib/slmd --no-create-home \
                --gecos "slmd small language model service" slmd >/dev/null
    fi
    if command -v systemd-tmpfiles >/dev/null 2>&1; then
        systemd-tmpfiles --create @SLMD_DEB_TMPFILES@ || true
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload || true
        # an upgrade: a running slmd picks up the new binary at its next restart
    fi
    if [ -S /run/dbus/system_bus_socket ] && command -v dbus-send >/dev/null 2>&1; then
        dbus-send --system --type=method_call --dest=org.freedesktop.DBus \
            / org.freedesktop.DBus.ReloadConfig >/dev/null 2>&1 || true
    fi
fi
exit 0
]=])
file(CONFIGURE OUTPUT ${_deb}/prerm @ONLY CONTENT [=[#!/bin/sh
# slmd prerm: stop the service before its files go away (on removal only).
set -e
if [ "$1" = "remove" ] && [ -d /run/systemd/system ]; then
    systemctl stop slmd.service slmd.socket >/dev/null 2>&1 || true
fi
exit 0
]=])
file(CONFIGURE OUTPUT ${_deb}/postrm @ONLY CONTENT [=[#!/bin/sh
# slmd postrm: forget the units; on purge, remove what slmd kept in /var/lib/slmd except
# models an operator put there (the directory is left if it is not empty).
set -e
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$1" = "purge" ]; then
    rmdir /var/lib/slmd/models /var/lib/slmd 2>/dev/null || true
fi
exit 0
]=])
file(CHMOD ${_deb}/postinst ${_deb}/prerm ${_deb}/postrm
     PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                 WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_deb}/conffiles ${_deb}/postinst ${_deb}/prerm ${_deb}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
