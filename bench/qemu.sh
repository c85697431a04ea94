#!/bin/sh
# The frame loop of an ARM build under qemu-user: the slow-CPU figures
# (bench/README.md, "On an emulated Raspberry Pi core").
#
#   bench/qemu.sh [--build DIR] [--frames N] [--assert]
#
# --build DIR  a cross build (default build-arm64: cmake --workflow --preset
#              rpi-arm64) with kiosk-ticker and bench/kt-bench-frames
# --frames N   frames per run (default 1200: 20 s of tape at 60 Hz)
# --assert     exit 1 when an exact count is wrong (rasterisations on the
#              render thread, steady allocations, the tape waiting for
#              text) or the dearest frame costs more than twice the median
#
# Guest instructions per frame come from bench/qemu_insn.c, a TCG plugin
# built here for the host: the same count as on the board's core, whatever
# the emulation costs. Wall times (median_us) under emulation are only
# indicative. Prints key=value lines prefixed qemu_.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=build-arm64
frames=1200
assert=0
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift ;;
    --frames) frames=$2; shift ;;
    --assert) assert=1 ;;
    *) echo "usage: bench/qemu.sh [--build DIR] [--frames N] [--assert]" >&2; exit 2 ;;
    esac
    shift
done
build=$(cd "$build" && pwd)
qemu=$(sed -n 's/^KT_QEMU:FILEPATH=//p' "$build/CMakeCache.txt")
sysroot=$(sed -n 's/^KT_SYSROOT:PATH=//p' "$build/CMakeCache.txt")
[ -n "$qemu" ] || { echo "bench/qemu.sh: $build is not a cross build (no KT_QEMU)" >&2; exit 2; }
for f in "$build/kiosk-ticker" "$build/bench/kt-bench-frames"; do
    [ -x "$f" ] || { echo "bench/qemu.sh: $f not built" >&2; exit 2; }
done
cc=${CC:-cc}

work=$(mktemp -d "${TMPDIR:-/tmp}/kt-qemu.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
"$cc" -O2 -shared -fPIC -fvisibility=hidden -o "$work/qemu_insn.so" "$here/qemu_insn.c"
run() { "$qemu" -L "${sysroot:-/}" "$@"; }
export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy FC_LANG=en

echo "# qemu: $(basename "$qemu"), $(file -b "$build/kiosk-ticker" | cut -d, -f1-2), $frames frames"
python3 "$here/make_docs.py" text 20 "$work/h20.txt"
python3 "$here/make_docs.py" conf "$work/k20.conf" --feed "$work/h20.txt" --cache "$work/c20.tsv" \
    --max-items 20
python3 "$here/make_docs.py" mixed 300 "$work/m300.txt"
python3 "$here/make_docs.py" conf "$work/m300.conf" --feed "$work/m300.txt" --cache "$work/cm300.tsv" \
    --max-items 300
for c in k20 m300; do run "$build/kiosk-ticker" -q -c "$work/$c.conf" --fetch-once >/dev/null; done

fail=0
one() { # NAME CONF SPEED
    out=$work/$1.insn
    run -plugin "$work/qemu_insn.so,out=$out" "$build/bench/kt-bench-frames" --quiet -c "$2" \
        --frames "$frames" --size 1920x96 --speed "$3" >"$work/$1.txt"
    sed "s/^/qemu_$1_/" "$work/$1.txt"
    sort -n "$out" | awk -v p="qemu_$1" '
        { v[NR] = $1 }
        END {
            if (NR < 3) { print "# " p ": too few frames counted"; exit 1 }
            m = v[int((NR + 1) / 2)]
            printf "%s_frame_insn=%d\n%s_frame_insn_max=%d\n%s_worst_ratio=%.2f\n", p, m, p, v[NR], p, v[NR] / m
        }' | tee "$work/$1.ratio"
    if [ "$assert" = 1 ]; then
        for k in render_thread_rasterisations steady_allocs tape_waits; do
            grep -qx "$k=0" "$work/$1.txt" || { echo "bench/qemu.sh: $1: $k is not 0" >&2; fail=1; }
        done
        awk -F= '/worst_ratio/ && $2 > 2 { exit 1 }' "$work/$1.ratio" ||
            { echo "bench/qemu.sh: $1: a frame costs more than twice the median" >&2; fail=1; }
    fi
}
one k20 "$work/k20.conf" 120
one mixed600 "$work/m300.conf" 600
one mixed120 "$work/m300.conf" 120
exit $fail
