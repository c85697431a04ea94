# CMake toolchain file: 32-bit Raspberry Pi OS (Pi 2/3, and Pi 4/5 on a
# 32-bit image), armhf = ARMv7-A with VFPv3-D16 hard float, Thumb-2.
#
#   cmake --preset rpi-armhf                      (see CMakePresets.json)
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=toolchain/arm-linux-gnueabihf.cmake
#
# Where the target's libraries come from, first match wins:
#   1. a sysroot: -DCMAKE_SYSROOT=DIR, or the environment variable
#      KT_SYSROOT_ARMHF=DIR (a copy of a Pi's /usr and /lib);
#   2. Debian multiarch: the :armhf -dev packages in /usr/lib/arm-linux-gnueabihf;
#   3. the sysroot `sh tools/cross-setup.sh` makes in
#      /var/cache/kiosk-ticker-cross/armhf (its default for armhf).
# pkg-config only ever looks inside the chosen place, so a missing ARM library
# is an error at configure time, never a silent link against the PC's one.
# Tests run through qemu-user (CMAKE_CROSSCOMPILING_EMULATOR), so `ctest`
# works without binfmt_misc.
#
# ARMv6 (Pi 1, Pi Zero / Zero W first generation): Debian's armhf is ARMv7,
# so its libraries and crt files will not run there. Configure with
# -DKT_ARMV6=ON against a Raspberry Pi OS sysroot (a copy of such a Pi's /usr
# and /lib); that adds -march=armv6zk -mfpu=vfp -mfloat-abi=hard -marm and
# has qemu emulate an ARM1176. Debian's cross compiler still links its own
# libgcc (ARMv7), so this is NOT tested and may need Raspberry Pi's own
# toolchain; building on the Pi itself is the safe route for those boards.
#
# The rest is shared with aarch64-linux-gnu.cmake: cross-common.cmake.

set(KT_CROSS_ARCH armhf)                      # Debian architecture
set(KT_CROSS_TRIPLET arm-linux-gnueabihf)     # GNU triplet = multiarch dir
set(KT_CROSS_QEMU qemu-arm)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(KT_CROSS_ARCH_FLAGS "")                   # Debian's defaults (ARMv7-A)
set(KT_CROSS_QEMU_FLAGS "")
if(KT_ARMV6)
  set(CMAKE_SYSTEM_PROCESSOR armv6l)
  set(KT_CROSS_ARCH_FLAGS "-march=armv6zk -mfpu=vfp -mfloat-abi=hard -marm")
  set(KT_CROSS_QEMU_FLAGS -cpu arm1176)
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KT_ARMV6)

include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
