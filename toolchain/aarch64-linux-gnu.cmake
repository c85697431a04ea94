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
# The rest is shared with arm-linux-gnueabihf.cmake: cross-common.cmake.

set(KT_CROSS_ARCH arm64)                      # Debian architecture
set(KT_CROSS_TRIPLET aarch64-linux-gnu)       # GNU triplet = multiarch dir
set(KT_CROSS_QEMU qemu-aarch64)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(KT_CROSS_ARCH_FLAGS "")                   # Debian's defaults (ARMv8-A)
set(KT_CROSS_QEMU_FLAGS "")

include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
