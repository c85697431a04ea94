# Install rules and the .deb package (CPack). Included at the end of the top
# CMakeLists.txt.
#
#   cmake --install build                 # /usr/local/bin, /etc/kiosk-ticker, ...
#   cd build && cpack                     # kiosk-ticker_<version>-1_<arch>.deb
#
# Layout (prefix /usr in the package):
#   bin/kiosk-ticker
#   /etc/kiosk-ticker/ticker.conf              kiosk config, never overwritten
#   share/kiosk-ticker/ticker.conf             the same, for reference
#   share/kiosk-ticker/demo/                   the demo feeds it shows
#   share/kiosk-ticker/fonts/kiosk-ticker.conf the ticker's fontconfig rules;
#                                              fonts here are usable by name
#   /etc/kiosk-ticker/fonts/                   the operator's fonts (empty)
#   share/doc/kiosk-ticker/README.md
#   lib/systemd/system/kiosk-ticker.service
#   lib/sysusers.d/kiosk-ticker.conf           the service user
# The config and the unit are written at install time by
# packaging/install-files.cmake, because they name installed paths and the
# prefix is only final then.

include(GNUInstallDirs)

set(KT_CONFIG_DIR /etc/kiosk-ticker CACHE PATH
    "Directory of the installed ticker.conf (absolute; DESTDIR applies)")

install(TARGETS kiosk-ticker RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/assets/demo/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/kiosk-ticker/demo)
# The application font directories (src/font_config.c): found next to the
# binary's prefix, so no path is compiled in.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/fonts/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/kiosk-ticker/fonts)
install(DIRECTORY DESTINATION ${KT_CONFIG_DIR}/fonts)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(CODE "
  set(KT_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")
  set(KT_BINARY_DIR \"${CMAKE_BINARY_DIR}\")
  set(KT_CONFIG_DIR \"${KT_CONFIG_DIR}\")
  set(KT_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(KT_DATADIR \"${CMAKE_INSTALL_DATADIR}\")
  set(KT_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
  include(\"${CMAKE_SOURCE_DIR}/packaging/install-files.cmake\")
")

# --- .deb -------------------------------------------------------------------
# The package architecture: the toolchain files set KT_DEB_ARCH; a native
# build asks dpkg.
if(NOT KT_DEB_ARCH)
  if(CMAKE_CROSSCOMPILING)
    if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)")
      set(KT_DEB_ARCH arm64)
    elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
      set(KT_DEB_ARCH armhf)
    else()
      set(KT_DEB_ARCH ${CMAKE_SYSTEM_PROCESSOR})
    endif()
  else()
    execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE KT_DEB_ARCH
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(NOT KT_DEB_ARCH)
      set(KT_DEB_ARCH amd64)
    endif()
  endif()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME kiosk-ticker)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "kiosk-ticker maintainers <kiosk-ticker@users.noreply.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "news headline ticker for unattended lobby screens")
set(CPACK_PACKAGE_DESCRIPTION
    "kiosk-ticker scrolls RSS, Atom and JSON Feed headlines across a screen.
It starts from a persistent cache before the network is up, keeps its last
good headlines through outages, and runs as a systemd service drawing
straight to the display (KMS/DRM), so a Raspberry Pi running Raspberry Pi OS
Lite boots into the ticker.")
# Stage with DESTDIR and the real prefix, so the absolute /etc path and the
# paths written into the config and unit are the ones on the target.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)          # kiosk-ticker_0.1.0-1_arm64.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${KT_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps (exact minimum versions from
# the libraries' symbols files). The rest: the default font of the config,
# CA certificates for https feeds, the means to create the user, and procps
# for the unit's ExecReload=/bin/kill (not on a minimal Debian: `systemctl
# reload` failed with 203/EXEC in tools/boot-test.sh's image).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "fonts-dejavu-core, ca-certificates, systemd | adduser, procps")
# SDL loads EGL, OpenGL ES and (through GBM) Mesa's DRI drivers at run time,
# so dpkg-shlibdeps cannot see them and libsdl2 does not depend on them; its
# KMSDRM video driver cannot draw without them. tools/boot-test.sh checks
# that every file the running ticker maps comes from these Depends.
if(KT_DISPLAY)
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", libegl1, libgles2, libgbm1, libgl1-mesa-dri")
endif()
# Noto: the fallback fonts fonts/kiosk-ticker.conf names (Arabic, Hebrew,
# Devanagari and the other scripts DejaVu lacks; CJK separately).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "fonts-noto-core")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "fonts-noto-cjk")

# Maintainer scripts and the conffiles list. postinst names the installed
# sysusers file.
set(_kt_pkg ${CMAKE_BINARY_DIR}/kt-deb)
file(MAKE_DIRECTORY ${_kt_pkg})
set(SYSUSERS_FILE /usr/lib/sysusers.d/kiosk-ticker.conf)
configure_file(${CMAKE_SOURCE_DIR}/packaging/postinst ${_kt_pkg}/postinst @ONLY)
configure_file(${CMAKE_SOURCE_DIR}/packaging/prerm ${_kt_pkg}/prerm COPYONLY)
configure_file(${CMAKE_SOURCE_DIR}/packaging/postrm ${_kt_pkg}/postrm COPYONLY)
file(WRITE ${_kt_pkg}/conffiles "${KT_CONFIG_DIR}/ticker.conf\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${_kt_pkg}/postinst ${_kt_pkg}/prerm ${_kt_pkg}/postrm ${_kt_pkg}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# Cross builds: dpkg-shlibdeps must read ARM binaries and look up ARM
# libraries. DEB_HOST_ARCH (set in the cpack process, inherited by
# dpkg-shlibdeps) makes it use <triplet>-objdump and the target's multiarch
# library directories; with multiarch the :arm64 packages are in the dpkg
# database as usual. A sysroot has no dpkg database: tools/cross-setup.sh
# collects the shlibs/symbols files of its packages in SYSROOT/DEBIAN/, which
# dpkg-shlibdeps reads for libraries found below SYSROOT (via -l).
file(WRITE ${_kt_pkg}/cpack-project.cmake
     "set(ENV{DEB_HOST_ARCH} \"${KT_DEB_ARCH}\")\n")
set(CPACK_PROJECT_CONFIG_FILE ${_kt_pkg}/cpack-project.cmake)
if(CMAKE_CROSSCOMPILING AND CMAKE_SYSROOT)
  if(NOT EXISTS ${CMAKE_SYSROOT}/DEBIAN/shlibs)
    message(WARNING
      "${CMAKE_SYSROOT}/DEBIAN/shlibs is missing, so cpack cannot work out the .deb's "
      "library dependencies. For a copy of a Pi that includes its /var/lib/dpkg, run: "
      "mkdir -p SYSROOT/DEBIAN && cat SYSROOT/var/lib/dpkg/info/*.shlibs > SYSROOT/DEBIAN/shlibs "
      "&& cat SYSROOT/var/lib/dpkg/info/*.symbols > SYSROOT/DEBIAN/symbols")
  endif()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
      ${CMAKE_SYSROOT}/lib/${CMAKE_LIBRARY_ARCHITECTURE}
      ${CMAKE_SYSROOT}/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE})
endif()

set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")
include(CPack)
