#!/usr/bin/env bash
# CI for the Raspberry Pi targets: cross-builds arm64 and armhf with the
# README's presets, checks that every binary built is really ARM (and armhf
# really hard-float), runs the arm64 test suite and armhf's quick tests under
# qemu-user, the arm64 frame loop with its instruction counts (bench/qemu.sh),
# compares a --screenshot made under qemu with the native one, and builds the
# .deb of each architecture (plus amd64) into build-pkg/.
#
# Run from .ci/run after the native build and tests (it reuses build/ for the
# native reference; without one it builds it). Everything it installs comes
# from tools/cross-setup.sh, so a fresh Debian 12 machine needs nothing else.
#   bash .ci/cross.sh            # both architectures
#   bash .ci/cross.sh armhf      # one
set -euo pipefail
cd "$(dirname "$0")/.."

arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(arm64 armhf)
start=$(date +%s)
timings=""
passed=0
failed=0
fail() { echo "cross: FAIL: $*" >&2; failed=$((failed + 1)); }
ok() { echo "cross: ok: $*"; passed=$((passed + 1)); }
timed() { # timed LABEL CMD...: runs CMD, records how long it took
    local label=$1 t rc=0
    shift
    t=$(date +%s)
    echo "+ $*"
    "$@" || rc=$?
    timings="$timings$(printf '%-28s %4ss' "$label" $(($(date +%s) - t)))\n"
    return $rc
}

timed "cross-setup" sh tools/cross-setup.sh "${arches[@]}"

# Native reference for the screenshot (and the amd64 package). .ci/run's
# README command has already built build/; a lone run builds it here.
if [ ! -x build/kiosk-ticker ]; then
    timed "native build" bash -c 'cmake --preset native && cmake --build build --parallel 2'
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf build-pkg        # only this run's packages, one version each

# screenshot AT PROGRAM... OUT: the frame AT seconds after start of the demo
# config, headless (SDL's dummy video driver, software renderer), after
# fetching the demo feeds into a fresh cache, so the native and the ARM frame
# show the same headlines. 3840 px wide at 24 s shows the Arabic headline
# (fribidi, HarfBuzz shaping), at 50 s the Greek and the Japanese ones (font
# fallback through fontconfig).
FRAMES="24 50"
screenshot() {
    local at=$1 out=${*: -1}
    local state
    shift
    state=$(mktemp -d -p "$tmp")
    env -u JOURNAL_STREAM SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy KT_RENDERER=software \
        XDG_STATE_HOME="$state" XDG_CACHE_HOME="$tmp/fc-cache" \
        "${@:1:$#-1}" -c config/ticker.conf --fetch --screenshot "$out" --at "$at" --size 3840x96
}

# compare_bmp A B: same size; every channel within 2/255 (anti-aliasing may
# round differently), and the frame is not blank (a broken renderer would
# otherwise "match" another broken one).
compare_bmp() {
    python3 - "$1" "$2" <<'EOF'
import struct, sys

def load(path):
    d = open(path, "rb").read()
    if d[:2] != b"BM":
        sys.exit(f"{path}: not a BMP")
    off, = struct.unpack_from("<I", d, 10)
    w, h, planes, bpp, comp = struct.unpack_from("<iiHHI", d, 18)
    if bpp not in (24, 32) or comp not in (0, 3):
        sys.exit(f"{path}: unsupported BMP ({bpp} bpp, compression {comp})")
    step, row = bpp // 8, ((w * bpp + 31) // 32) * 4
    px = []
    for y in range(abs(h)):
        r = off + y * row
        px.extend(d[r + x * step: r + x * step + 3] for x in range(w))
    return w, abs(h), px

wa, ha, a = load(sys.argv[1])
wb, hb, b = load(sys.argv[2])
if (wa, ha) != (wb, hb):
    sys.exit(f"sizes differ: {wa}x{ha} vs {wb}x{hb}")
worst = max(max(abs(p - q) for p, q in zip(pa, pb)) for pa, pb in zip(a, b))
differ = sum(pa != pb for pa, pb in zip(a, b))
colours = len(set(a))
print(f"{wa}x{ha}: {differ} pixels differ, largest channel difference {worst}/255, "
      f"{colours} colours")
if colours < 16:
    sys.exit("the native frame is nearly blank: nothing was drawn")
if worst > 2:
    sys.exit("frames differ by more than 2/255")
EOF
}

for arch in "${arches[@]}"; do
    preset=rpi-$arch
    dir=build-$arch
    case $arch in
        arm64) machine="AArch64" ;;
        armhf) machine="ARM" ;;
        *) echo "cross: unknown architecture $arch" >&2; exit 2 ;;
    esac

    timed "$arch configure+build" bash -c \
        "cmake --preset $preset > $tmp/configure-$arch.log && cmake --build --preset $preset --parallel 2" ||
        { cat "$tmp/configure-$arch.log" >&2; fail "$arch: build"; continue; }

    # Every ELF program built must be for the target: a slip to the host
    # compiler or a host library would show here before qemu hides it.
    bad=""
    n=0
    while IFS= read -r f; do
        # Not every executable is a program (the .deb's maintainer scripts).
        m=$(readelf -h "$f" 2>/dev/null | sed -n 's/^ *Machine: *//p' || true)
        [ -n "$m" ] || continue
        n=$((n + 1))
        case $m in
            "$machine") ;;
            *) bad="$bad $f($m)" ;;
        esac
        if [ "$arch" = armhf ] && ! readelf -A "$f" 2>/dev/null | grep -c 'Tag_ABI_VFP_args: VFP registers' >/dev/null; then
            bad="$bad $f(not hard-float)"
        fi
    done < <(find "$dir" -maxdepth 2 -type f -perm -u+x ! -name '*.sh' ! -name '*-run')
    file "$dir/kiosk-ticker"
    if [ "$n" -gt 1 ] && [ -z "$bad" ]; then
        ok "$arch: $n programs are $machine ELF"
    else
        fail "$arch: ELF machine check ($n programs):$bad"
    fi

    # The fleet simulation measures fifty processes on this machine; under
    # qemu it measures the emulator (its code is the fleet tests', run here).
    # arm64 runs the whole suite; armhf the quick tests: what a 32-bit ABI
    # breaks (time_t, long, size_t in dates, the cache, the transport) is in
    # the pure modules and their tests, and the slow end-to-end tests run the
    # same code on arm64 and natively (this keeps .ci/run under 50 minutes).
    labels=()
    [ "$arch" = armhf ] && labels=(-L quick)
    if timed "$arch ctest (qemu)" ctest --preset "$preset" -j2 -E '^fleet_sim$' "${labels[@]}"; then
        ok "$arch: test suite under qemu"
    else
        fail "$arch: test suite under qemu"
    fi

    # The frame loop on the emulated core: guest instructions per frame
    # (bench/qemu.sh: exact counts and worst <= 2 x median asserted).
    if [ "$arch" = arm64 ]; then
        if timed "$arch frame loop (qemu)" sh bench/qemu.sh --build "$dir" --assert; then
            ok "$arch: frame loop under qemu"
        else
            fail "$arch: frame loop under qemu"
        fi
    fi

    # The same frames natively and under qemu.
    qemu=$(sed -n 's/^KT_QEMU:FILEPATH=//p' "$dir/CMakeCache.txt")
    sysroot=$(sed -n 's/^KT_SYSROOT:PATH=//p' "$dir/CMakeCache.txt")
    for at in $FRAMES; do
        [ -f "$tmp/native-$at.bmp" ] || screenshot "$at" ./build/kiosk-ticker "$tmp/native-$at.bmp" ||
            fail "native --screenshot --at $at"
        if timed "$arch screenshot $at s (qemu)" screenshot "$at" "$qemu" -L "${sysroot:-/}" \
            "$dir/kiosk-ticker" "$tmp/$arch-$at.bmp" &&
            compare_bmp "$tmp/native-$at.bmp" "$tmp/$arch-$at.bmp"; then
            ok "$arch: --screenshot --at $at under qemu matches the native one"
        else
            fail "$arch: --screenshot --at $at under qemu differs from the native one"
        fi
    done

    mkdir -p build-pkg
    if timed "$arch package" cpack --preset "$preset" -B "$PWD/build-pkg" > "$tmp/cpack-$arch.log"; then
        ok "$arch: package"
    else
        cat "$tmp/cpack-$arch.log" >&2
        fail "$arch: cpack"
    fi
done

# The amd64 package from the native build (its contents are checked by the
# package_deb test of the native suite, like the ARM ones above).
if (cd build && cpack -G DEB -B "$PWD/../build-pkg" > "$tmp/cpack-native.log"); then
    ok "native package"
else
    cat "$tmp/cpack-native.log" >&2
    fail "native cpack"
fi
rm -rf build-pkg/_CPack_Packages

# The amd64 package on a clean Debian (mmdebstrap chroot with systemd, as
# on a Pi): `apt install ./kiosk-ticker_*.deb` resolves its Depends from the
# archive, the postinst creates the user, the installed config works as that
# user, an edited config survives a reinstall, and purge removes everything.
# (The ARM packages cannot be installed here: no binfmt_misc for a chroot.)
cat > "$tmp/deb-check.sh" <<'EOF'
set -eu
apt-get install -y -q --no-install-recommends /tmp/kt.deb > /tmp/apt.log || { cat /tmp/apt.log; exit 1; }
getent passwd kiosk-ticker
kiosk-ticker -c /etc/kiosk-ticker/ticker.conf --check
labels=$(su -s /bin/sh kiosk-ticker -c \
    "XDG_STATE_HOME=/tmp/state kiosk-ticker -c /etc/kiosk-ticker/ticker.conf --fetch-once" |
    cut -f1 | sort -u | tr '\n' ' ')
echo "labels: $labels"
[ "$labels" = "Courier Lab Notes Lobby World " ]
dpkg-query -W -f='${Conffiles}\n' kiosk-ticker | grep -q '^ /etc/kiosk-ticker/ticker.conf '
echo "# edited on the Pi" >> /etc/kiosk-ticker/ticker.conf
apt-get install -y -q --reinstall /tmp/kt.deb > /tmp/apt.log
tail -n 1 /etc/kiosk-ticker/ticker.conf | grep -qx "# edited on the Pi"
apt-get purge -y -q kiosk-ticker > /tmp/apt.log
[ ! -e /etc/kiosk-ticker ] && [ ! -e /usr/bin/kiosk-ticker ]
echo "package lifecycle ok"
EOF
sh tools/cross-setup.sh --print-sources > "$tmp/sources.list"
native_deb=$(ls build-pkg/kiosk-ticker_*_"$(dpkg --print-architecture)".deb)
if timed "package install (chroot)" mmdebstrap --quiet --variant=apt --include=systemd \
    --format=null --customize-hook="cp '$tmp/deb-check.sh' \"\$1/tmp/\"; cp '$native_deb' \"\$1/tmp/kt.deb\"" \
    --customize-hook='chroot "$1" sh /tmp/deb-check.sh' \
    "$(. /etc/os-release && echo "$VERSION_CODENAME")" /dev/null "$tmp/sources.list"; then
    ok "$native_deb installs, runs, keeps its config and purges on a clean system"
else
    fail "$native_deb install test in a clean chroot"
fi
for deb in build-pkg/*.deb; do
    echo "$deb: $(dpkg-deb -f "$deb" Architecture) $(du -k "$deb" | cut -f1) KiB"
    echo "  Depends: $(dpkg-deb -f "$deb" Depends)"
done

printf '\ncross: timings\n%b' "$timings"
echo "cross: total $(($(date +%s) - start))s"
echo "cross: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
