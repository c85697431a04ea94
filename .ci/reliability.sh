#!/usr/bin/env bash
# .ci/reliability.sh: the reliability part of CI (docs/reliability.md).
#
#   1. plain build (build-rel), and the 10-minute real-time display soak
#      (tests/display_soak.c) started in the background: it is light (dummy
#      video, ~5 % of a core) and its result is collected at the end;
#   2. the whole test suite in an ASan + UBSan build (build-asan, clang);
#   2b. the suite in a ThreadSanitizer build (build-tsan, clang), time limits
#      stretched (KT_TEST_TIME_SCALE=10): races between the render thread,
#      the supervisor and the fetch workers;
#   3. valgrind over --fetch-once on the demo config, kt-bench-frames 300 on
#      the dummy video driver and the font tests: no error, nothing definitely
#      lost (fuzz/valgrind.supp: third-party only, each entry justified);
#   4. the 30-simulated-day fetcher soak of the plain build, figures printed;
#   5. every fuzz target for KT_FUZZ_SECONDS (default 30) in the libFuzzer
#      build (build-fuzz, clang), executions per target printed;
#   6. the display soak's result.
# Any crash, leak, sanitizer report, valgrind error or failed test fails the
# script. Environment: KT_FUZZ_SECONDS, KT_DISPLAY_SOAK_SECONDS (default
# 600), KT_CONFORMANCE_DIR. Budget on 2 cores: about 22 minutes (the TSan
# stage is about ten of them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz_seconds=${KT_FUZZ_SECONDS:-30}
soak_seconds=${KT_DISPLAY_SOAK_SECONDS:-600}
jobs=$(nproc)
conformance=${KT_CONFORMANCE_DIR:-$root/../shared/conformance}
logs=$root/build-rel/reliability
t_start=$SECONDS
summary=()

stage() {
    echo
    echo "=== $* ($((SECONDS - t_start)) s)"
}

need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || {
            echo ".ci/reliability.sh: $tool not found (sh tools/install-deps.sh --test)" >&2
            exit 1
        }
    done
}
need clang valgrind python3 cmake

# ---- 1. plain build, display soak in the background ----
stage "plain build (build-rel)"
cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKT_CONFORMANCE_DIR="$conformance" >/dev/null
cmake --build build-rel -j"$jobs"
mkdir -p "$logs"
echo "display soak: ${soak_seconds} s in the background, log $logs/display_soak.log"
SDL_VIDEODRIVER=dummy KT_RENDERER=software FC_LANG=en \
    build-rel/tests/display_soak "$soak_seconds" >"$logs/display_soak.log" 2>&1 &
soak_pid=$!
# Never leave it running if this script fails early.
trap 'kill "$soak_pid" 2>/dev/null || true' EXIT

# ---- 2. ASan + UBSan: the whole suite ----
stage "ASan + UBSan build and full ctest (build-asan)"
CC=clang cmake -S . -B build-asan -DKT_SANITIZE=ON -DKT_CONFORMANCE_DIR="$conformance" >/dev/null
cmake --build build-asan -j"$jobs"
# The packaging and bench tests are not registered in this build (their
# fragments check KT_SANITIZE): a sanitized binary is never packaged (its
# runtime's libraries are in no package's list) and callgrind cannot run an
# ASan binary. Both run in the plain build (.ci/run).
echo "(not in the sanitizer build: the packaging tests, bench and exports)"
# ASan runs two to three times slower: time bounds stretch by 3.
# The fleet simulation is a measurement of many processes (bench/fleet.py):
# its code paths are the fleet tests', which run here.
KT_TEST_TIME_SCALE=3 ctest --test-dir build-asan --output-on-failure -j2 -E '^fleet_sim$' |
    tee "$logs/ctest-asan.log"
summary+=("asan+ubsan ctest: $(grep -E 'tests passed' "$logs/ctest-asan.log")")

# ---- 2b. ThreadSanitizer: the suite ----
stage "ThreadSanitizer build and ctest (build-tsan)"
CC=clang cmake -S . -B build-tsan -DKT_TSAN=ON -DKT_CONFORMANCE_DIR="$conformance" >/dev/null
cmake --build build-tsan -j"$jobs"
# TSan runs everything 5 to 15 times slower: the tests' time limits stretch
# by KT_TEST_TIME_SCALE (tests/tap.h and the Python tests read it). Two
# tests are left to the plain and ASan runs: `feed` (a parse timed against
# a fixed limit) and `crash_cache_kill` (a hundred kill -9 runs of
# one-threaded saves, past its time limit at TSan's pace). `display` runs
# here (the render thread and the text worker), its allocation counts in
# the other builds (TSan has no malloc hook).
# Tests of one thread only (parsers, tables, the cache file, replays of
# fuzz inputs) have no race to find: they run in the ASan stage. So do the
# soak and the fleet simulation (long, many processes; TSan adds nothing the
# fleet tests do not show). A new test runs here unless it is listed.
tsan_skip='feed|crash_cache_kill|soak|fleet_sim|config|schedule|date|filter|hours|clock_format'
tsan_skip="$tsan_skip|text|text_linear|hashset|cache|cache_disk_full|feed_large|conformance|cap"
tsan_skip="$tsan_skip|message|fleet_conf|log|purity|readme|presets|scroll|store|fuzz_replay_.*"
echo "(not in the TSan build, one-threaded or run under ASan above: $tsan_skip)"
KT_TEST_TIME_SCALE=10 ctest --test-dir build-tsan --output-on-failure -j2 \
    -E "^($tsan_skip)\$" |
    tee "$logs/ctest-tsan.log"
summary+=("tsan ctest: $(grep -E 'tests passed' "$logs/ctest-tsan.log")")

# ---- 3. valgrind ----
stage "valgrind"
vg=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --num-callers=50 --suppressions="$root/fuzz/valgrind.supp")
state=$(mktemp -d)
# The demo config as shipped; its cache goes to $XDG_STATE_HOME.
XDG_STATE_HOME=$state "${vg[@]}" build-rel/kiosk-ticker -c config/ticker.conf --fetch-once \
    >"$logs/valgrind-fetch-once.out" 2>"$logs/valgrind-fetch-once.log" || {
    cat "$logs/valgrind-fetch-once.log"
    echo "valgrind --fetch-once: FAILED" >&2
    exit 1
}
XDG_STATE_HOME=$state SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy \
    "${vg[@]}" build-rel/bench/kt-bench-frames -c config/ticker.conf --frames 300 \
    >"$logs/valgrind-bench.out" 2>"$logs/valgrind-bench.log" || {
    cat "$logs/valgrind-bench.log"
    echo "valgrind kt-bench-frames 300: FAILED" >&2
    exit 1
}
# The font tests: our fontconfig and SDL_ttf objects, with full stacks (ASan
# can only name fontconfig by library, see cmake/sanitize_defaults.c).
SDL_VIDEODRIVER=dummy FC_LANG=en KT_TEST_DATA=$root/tests/data \
    "${vg[@]}" build-rel/tests/font >"$logs/valgrind-font-test.out" \
    2>"$logs/valgrind-font-test.log" || {
    tail -n 60 "$logs/valgrind-font-test.log"
    echo "valgrind tests/font: FAILED" >&2
    exit 1
}
rm -rf "$state"
for run in fetch-once bench font-test; do
    lost=$(sed -n 's/.*definitely lost: //p' "$logs/valgrind-$run.log")
    errors=$(sed -n 's/.*ERROR SUMMARY: //p' "$logs/valgrind-$run.log")
    echo "valgrind $run: definitely lost $lost; errors $errors"
    summary+=("valgrind $run: definitely lost $lost; errors $errors")
done

# ---- 4. the month-long fetcher soak (plain build) ----
stage "30-day fetcher soak (build-rel)"
build-rel/tests/soak python3 tests/http_server.py | tee "$logs/soak.log" | grep -v '^# day'
summary+=("soak: $(grep -E '^soak_(seconds|rss_warm_kb|rss_max_kb|rss_growth_kb|fetches_ok|fetches_failed)=' \
    "$logs/soak.log" | tr '\n' ' ')")

# ---- 5. fuzzing ----
stage "fuzz targets, ${fuzz_seconds} s each (build-fuzz)"
CC=clang cmake -S . -B build-fuzz -DKT_FUZZ=ON -DBUILD_TESTING=OFF \
    -DKT_CONFORMANCE_DIR="$conformance" >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_all
KT_CONFORMANCE_DIR=$conformance fuzz/run.sh build-fuzz "$fuzz_seconds" | tee "$logs/fuzz.log"
while read -r line; do summary+=("$line"); done < <(grep '^fuzz_' "$logs/fuzz.log")

# ---- 6. the display soak ----
stage "waiting for the display soak"
trap - EXIT
if wait "$soak_pid"; then
    soak_rc=0
else
    soak_rc=$?
fi
grep -v '^# t=' "$logs/display_soak.log"
summary+=("display soak: $(grep -E '^display_soak_(seconds|fps|swaps|textures_created|textures_alive_max|rss_growth_kb|anon_growth_kb|heap_growth_kb)=' \
    "$logs/display_soak.log" | tr '\n' ' ')")
if [ "$soak_rc" -ne 0 ]; then
    echo "display soak: FAILED (exit $soak_rc)" >&2
    exit 1
fi

stage "reliability: all passed"
printf '%s\n' "${summary[@]}" | tee "$logs/summary.txt"
echo "total: $((SECONDS - t_start)) s"
