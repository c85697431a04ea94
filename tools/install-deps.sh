#!/bin/sh
# Installs every Debian package needed to build, run and test kiosk-ticker.
# Used by the README's two commands and by .ci/run, so a fresh Debian 12 /
# Raspberry Pi OS machine needs nothing installed by hand.
set -eu
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
BUILD="build-essential cmake pkg-config
  libcurl4-openssl-dev libxml2-dev libjson-c-dev libmosquitto-dev libmicrohttpd-dev
  libunistring-dev libpcre2-dev zlib1g-dev
  libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev libpng-dev libfribidi-dev libfontconfig-dev
  fonts-dejavu-core"
TEST="python3 curl ca-certificates systemd valgrind strace clang libclang-rt-14-dev llvm fonts-noto-core fonts-noto-cjk imagemagick xvfb xauth x11-utils
  mosquitto mosquitto-clients openssl"
# The peers the benchmark compares against (bench/run.sh, not the tests).
BENCH="tickr chromium"
# The whole-system boot test (tools/boot-test.sh, run by .ci/boot.sh): an
# emulated arm64 board (qemu-system-arm), its root file system made with
# mmdebstrap (qemu-user-static and arch-test run the arm64 maintainer
# scripts), mkfs.ext4 -d, a qcow2 overlay, Debian's python3 for its helper.
BOOT="qemu-system-arm qemu-utils qemu-user-static mmdebstrap arch-test e2fsprogs dpkg-dev python3"
want="$BUILD"
case "${1:-}" in
--test) want="$BUILD $TEST" ;;
--bench) want="$BUILD $TEST $BENCH" ;;
--boot) want="$BOOT" ;;
esac
missing=""
# Native (or architecture-independent) packages only: a cross build's
# libfoo-dev:arm64 beside them must not count as the native one.
native=$(dpkg --print-architecture)
for p in $want; do
  dpkg-query -W -f='${Status} ${Architecture}\n' "$p" 2>/dev/null |
    grep -qE "ok installed ($native|all)\$" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
  # shellcheck disable=SC2086
  $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
fi
