#!/bin/sh
# The benchmark, in one command (bench/README.md says what each figure is):
#
#   bench/run.sh [--quick] [--assert] [--build DIR] [--out FILE]
#
# --build DIR  the CMake build with kiosk-ticker, bench/kt-bench-frames and
#              bench/kt-bench-parse (default: build)
# --quick      one short pass of everything (a smoke run: CI's ctest), the
#              figures only roughly right
# --assert     exit 1 when a correctness figure is wrong (steady-state
#              allocations, rasterisations on the render thread, the tape
#              waiting for text, file or network syscalls) or a figure is
#              missing; timings never fail the run
# --out FILE   also keep every key=value line in FILE
#
# Prints one key=value line per figure, the side-by-side table and the
# figures against the targets. Needs valgrind, strace, Xvfb, ImageMagick
# (import) and, for the side by side, tickr and chromium
# (sh tools/install-deps.sh --test). Talks to 127.0.0.1 only.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=build
quick=0
assert=0
out=""
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --assert) assert=1 ;;
    --build) build=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: bench/run.sh [--quick] [--assert] [--build DIR] [--out FILE]" >&2; exit 2 ;;
    esac
    shift
done
build=$(cd "$build" && pwd)
kt=$build/kiosk-ticker
frames_bin=$build/bench/kt-bench-frames
parse=$build/bench/kt-bench-parse
for f in "$kt" "$frames_bin" "$parse"; do
    if [ ! -x "$f" ]; then
        echo "bench/run.sh: $f not built (cmake --build $build)" >&2
        exit 2
    fi
done
for tool in valgrind strace Xvfb import python3; do
    command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool not installed (sh tools/install-deps.sh --test)" >&2; exit 2; }
done

if [ "$quick" = 1 ]; then
    frames=600 cg_frames=30 mixed_frames=300 cg_mixed_frames=300 mem_frames=120 parse_runs=1 startup_runs=3 strace_s=2
    peers="--reps 1 --settle 3 --window 5"
else
    frames=3600 cg_frames=120 mixed_frames=3600 cg_mixed_frames=1800 mem_frames=600 parse_runs=5 startup_runs=11 strace_s=5
    peers="--reps 3 --settle 5 --window 30 --require-all"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/kt-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
results=$work/results.txt
# Every figure goes to the terminal and to the results file.
emit() { tee -a "$results"; }
export SDL_AUDIODRIVER=dummy
# Which face of a CJK collection draws Han characters follows the locale:
# pinned, so every run shapes the same glyphs.
export FC_LANG=en

echo "# kiosk-ticker benchmark$( [ "$quick" = 1 ] && echo ' (quick)'): $(uname -m), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)" | emit

# Inputs: the strip's headlines as a plain list, made into real caches by
# --fetch-once (the store and cache code do the work, as in production).
cache_for() { # N: a config and a warm cache with N headlines
    python3 "$here/make_docs.py" text "$1" "$work/h$1.txt"
    python3 "$here/make_docs.py" conf "$work/k$1.conf" --feed "$work/h$1.txt" \
        --cache "$work/c$1.tsv" --max-items "$1"
    "$kt" -q -c "$work/k$1.conf" --fetch-once >/dev/null
}
for n in 20 10 1000 10000; do cache_for $n; done
# 300 long mixed-script headlines (Latin, Arabic, CJK: fallback fonts,
# bidi, shaping): the text worker's hardest case.
python3 "$here/make_docs.py" mixed 300 "$work/m300.txt"
python3 "$here/make_docs.py" conf "$work/m300.conf" --feed "$work/m300.txt" --cache "$work/cm300.tsv" \
    --max-items 300
"$kt" -q -c "$work/m300.conf" --fetch-once >/dev/null

echo "# 1. frame cost against its floor: 20 headlines, 1920x96, 120 px/s, software, $frames frames" | emit
SDL_VIDEODRIVER=dummy "$frames_bin" --quiet -c "$work/k20.conf" --frames "$frames" --size 1920x96 | emit

echo "# 1b. instructions per frame (callgrind, $cg_frames frames)" | emit
python3 "$here/callgrind.py" --bench-frames "$frames_bin" --config "$work/k20.conf" --frames "$cg_frames" | emit

echo "# 1c. 300 long mixed-script headlines, 1920x96, at 600 and 120 px/s, $mixed_frames frames" | emit
for speed in 600 120; do
    SDL_VIDEODRIVER=dummy "$frames_bin" --quiet -c "$work/m300.conf" --frames "$mixed_frames" \
        --size 1920x96 --speed "$speed" | sed "s/^/mixed${speed}_/" | emit
    python3 "$here/callgrind.py" --bench-frames "$frames_bin" --config "$work/m300.conf" \
        --frames "$cg_mixed_frames" --speed "$speed" --prefix "callgrind_mixed${speed}" | emit
done

echo "# 3. peak RSS by headlines in the store (the same strip, $mem_frames frames)" | emit
for n in 10 1000 10000; do
    SDL_VIDEODRIVER=dummy "$frames_bin" --quiet -c "$work/k$n.conf" --frames "$mem_frames" --size 1920x96 |
        sed -n "s/^peak_rss_kib=/mem_${n}_peak_rss_kib=/p" | emit
done
python3 - "$results" <<'EOF' | emit
import sys
f = dict(l.strip().split("=", 1) for l in open(sys.argv[1]) if "=" in l and l[0] != "#")
print("mem_growth_kib=%d" % (int(f["mem_10000_peak_rss_kib"]) - int(f["mem_10_peak_rss_kib"])))
EOF

echo "# 5. parsing: 5 MiB documents of 10,000 items" | emit
for kind in rss atom json; do
    python3 "$here/make_docs.py" "$kind" 10000 "$work/doc.$kind" --bytes 5242880
    "$parse" --label "$kind" --runs "$parse_runs" "$work/doc.$kind" | emit
done

echo "# 2, 4. the kiosk loop on Xvfb: start-up (warm cache, feed unreachable) and steady-state syscalls" | emit
python3 "$here/kiosk.py" --kiosk-ticker "$kt" --runs "$startup_runs" --strace-seconds "$strace_s" | emit

echo "# 6. side by side on Xvfb 1920x1080, strip 1920x96 at the bottom, ~120 px/s" | emit
# shellcheck disable=SC2086
python3 "$here/peers.py" --kiosk-ticker "$kt" $peers | emit

if [ -n "$out" ]; then cp "$results" "$out"; fi
if [ "$assert" = 1 ]; then
    python3 "$here/report.py" "$results" --assert
else
    python3 "$here/report.py" "$results"
fi
