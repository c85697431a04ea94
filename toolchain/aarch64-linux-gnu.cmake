# CMake toolchain file: 64-bit Raspberry Pi OS (Pi 3/4/5, Zero 2 W), arm64.
#
#   cmake --preset rpi-arm64                      (see CMakePresets.json)
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=toolchain/aarch64-linux-gnu.cmake
#
# Where the target's libraries come from, first match wins:
#   1. a sysroot: -DCMAKE_SYSROOT=DIR, or the environment variable
#      KT_SYSROOT_ARM64=DIR (a copy of a Pi's /usr and /lib, or the one
#      `sh tools/cross-setup.sh --sysroot arm64` makes);
#   2. Debian multiarch: the :arm64 -dev packages in /usr/lib/aarch64-linux-gnu
#      (what `sh tools/cross-setup.sh` installs);
#   3. the sysroot tools/cross-setup.sh keeps in /var/cache/kiosk-ticker-cross/arm64.
# pkg-config only ever looks inside the chosen place, so a missing ARM library
# is an error at configure time, never a silent link against the PC's one.
# Tests run through qemu-user (CMAKE_CROSSCOMPILING_EMULATOR), so `ctest`
# works without binfmt_misc.
#
# This file and arm-linux-gnueabihf.cmake are the same apart from the first
# block; keep them in step.

set(KT_CROSS_ARCH arm64)                      # Debian architecture
set(KT_CROSS_TRIPLET aarch64-linux-gnu)       # GNU triplet = multiarch dir
set(KT_CROSS_QEMU qemu-aarch64)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(KT_CROSS_ARCH_FLAGS "")                   # Debian's defaults (ARMv8-A)
set(KT_CROSS_QEMU_FLAGS "")

# ---------------------------------------------------------------------------
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${KT_CROSS_TRIPLET}-gcc)
set(CMAKE_C_FLAGS_INIT "${KT_CROSS_ARCH_FLAGS}")
string(TOUPPER "KT_SYSROOT_${KT_CROSS_ARCH}" _kt_env)
set(_kt_cache_sysroot /var/cache/kiosk-ticker-cross/${KT_CROSS_ARCH})

# Choose once and remember it in the cache (KT_SYSROOT), so that CMake's
# automatic re-runs during a build, which may not have the environment
# variable, keep the same choice. try_compile projects get it passed on.
if(NOT CMAKE_SYSROOT AND NOT DEFINED KT_SYSROOT)
  if(DEFINED ENV{${_kt_env}} AND NOT "$ENV{${_kt_env}}" STREQUAL "")
    set(_kt_sysroot "$ENV{${_kt_env}}")
  elseif(EXISTS /usr/lib/${KT_CROSS_TRIPLET}/libc.so)
    set(_kt_sysroot "")                       # multiarch
  elseif(EXISTS ${_kt_cache_sysroot}/usr/lib/${KT_CROSS_TRIPLET}/libc.so)
    set(_kt_sysroot ${_kt_cache_sysroot})
  else()
    message(FATAL_ERROR
      "No ${KT_CROSS_ARCH} libraries found. Run `sh tools/cross-setup.sh` (installs them), "
      "or point -DCMAKE_SYSROOT=DIR or ${_kt_env}=DIR at a sysroot.")
  endif()
  set(KT_SYSROOT "${_kt_sysroot}" CACHE PATH
      "${KT_CROSS_ARCH} sysroot (empty: Debian multiarch); chosen at the first configure")
elseif(CMAKE_SYSROOT AND NOT KT_SYSROOT)
  set(KT_SYSROOT "${CMAKE_SYSROOT}" CACHE PATH "${KT_CROSS_ARCH} sysroot" FORCE)
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KT_SYSROOT)
if(KT_SYSROOT)
  if(NOT EXISTS ${KT_SYSROOT}/usr/include)
    message(FATAL_ERROR "${KT_SYSROOT} does not look like a sysroot (no usr/include)")
  endif()
  set(CMAKE_SYSROOT ${KT_SYSROOT})
endif()

set(CMAKE_LIBRARY_ARCHITECTURE ${KT_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)  # build tools (python3) are the PC's
if(CMAKE_SYSROOT)
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
endif()

# pkg-config: only the target's .pc files. PKG_CONFIG_LIBDIR replaces the
# default search path (PKG_CONFIG_PATH would only add to it, and is cleared);
# PKG_CONFIG_SYSROOT_DIR puts the sysroot in front of the -I/-L paths.
set(PKG_CONFIG_EXECUTABLE pkg-config CACHE FILEPATH "pkg-config (host tool)")
set(ENV{PKG_CONFIG_PATH} "")
if(CMAKE_SYSROOT)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${CMAKE_SYSROOT}")
  set(ENV{PKG_CONFIG_LIBDIR}
      "${CMAKE_SYSROOT}/usr/lib/${KT_CROSS_TRIPLET}/pkgconfig:${CMAKE_SYSROOT}/usr/lib/pkgconfig:${CMAKE_SYSROOT}/usr/share/pkgconfig")
else()
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
  # Not /usr/lib/pkgconfig: on a Debian PC it may hold native-only .pc files.
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${KT_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
endif()

# qemu-user runs the ARM test programs. -L is where it looks first for the
# dynamic loader and every absolute path the program opens: the sysroot, or
# with multiarch "/" (the :arm64 loader and libraries are installed there, and
# mixing them with the cross-compiler's copy in /usr/${KT_CROSS_TRIPLET}
# could pair a loader with a libc of another version).
find_program(KT_QEMU ${KT_CROSS_QEMU})
if(NOT KT_QEMU)
  message(WARNING "${KT_CROSS_QEMU} not found (apt-get install qemu-user): "
                  "the build works, ctest cannot run the ${KT_CROSS_ARCH} tests")
  set(KT_QEMU ${KT_CROSS_QEMU})
endif()
if(CMAKE_SYSROOT)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${KT_QEMU} ${KT_CROSS_QEMU_FLAGS} -L ${CMAKE_SYSROOT})
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR ${KT_QEMU} ${KT_CROSS_QEMU_FLAGS} -L /)
endif()

# Read by cmake/Install.cmake (package architecture, dpkg-shlibdeps).
set(KT_DEB_ARCH ${KT_CROSS_ARCH})
