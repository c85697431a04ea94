# Shared body of the Raspberry Pi toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake): they set KT_CROSS_ARCH, KT_CROSS_TRIPLET,
# KT_CROSS_QEMU, KT_CROSS_QEMU_FLAGS, CMAKE_SYSTEM_PROCESSOR and
# KT_CROSS_ARCH_FLAGS, then include this file, which picks the sysroot or
# multiarch libraries, confines pkg-config to the target and sets qemu-user
# as the emulator.

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
