#!/bin/sh
# fuzz/run.sh BUILD_DIR [SECONDS] - runs every libFuzzer target of a
# KT_FUZZ=ON build for SECONDS each (default $KT_FUZZ_SECONDS, else 60),
# $KT_FUZZ_JOBS at a time (default: the number of CPUs, at most 2), and
# prints the executions per target. Exit status 1 on any crash, leak,
# sanitizer report, timeout or broken contract (the input is saved under
# BUILD_DIR/fuzz-work/artifacts/; keep it in fuzz/regressions/TARGET/).
#
# Before fuzzing, each target re-runs its kept regressions
# (fuzz/regressions/fuzz_TARGET/). Corpora: a writable scratch directory
# (BUILD_DIR/fuzz-work/corpus/TARGET, kept between runs) first, then the
# seed directories, read in place and never written: tests/data/..., the
# demo feeds and feedparser's conformance corpus (../shared/conformance/feeds
# or $KT_CONFORMANCE_DIR/feeds). Select targets with KT_FUZZ_TARGETS="feed date".
set -eu

usage() {
    echo "usage: fuzz/run.sh BUILD_DIR [SECONDS]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
build=$(cd "$1" && pwd)
secs=${2:-${KT_FUZZ_SECONDS:-60}}
root=$(cd "$(dirname "$0")/.." && pwd)
conf=${KT_CONFORMANCE_DIR:-$root/../shared/conformance}
targets=${KT_FUZZ_TARGETS:-feed text date config cache cache_sealed hours fleet cap message}
work=$build/fuzz-work
mkdir -p "$work/artifacts" "$work/logs"

# Seeds that are rows of a table: one input per row (first column).
split_rows() { # TABLE OUTDIR
    mkdir -p "$2"
    awk -F'\t' -v out="$2" '!/^#/ && NF { f = sprintf("%s/row-%04d", out, NR); printf "%s", $1 > f; close(f) }' "$1"
}

seeds_for() {
    case $1 in
    feed)
        echo "$root/tests/data/feed $root/tests/data/http $root/assets/demo $conf/feeds" ;;
    text)
        for t in "$root"/tests/data/text/*.tsv; do
            split_rows "$t" "$work/seeds/text/$(basename "$t" .tsv)"
        done
        echo "$work/seeds/text $root/tests/data/feed" ;;
    date)
        split_rows "$root/tests/data/date/dates.tsv" "$work/seeds/date"
        echo "$work/seeds/date" ;;
    config)
        echo "$root/tests/data/config $root/config" ;;
    cache)
        echo "$root/tests/data/cache $root/fuzz/seeds/cache" ;;
    cache_sealed)
        echo "$root/tests/data/cache/sealed" ;;
    hours)
        # The harness reads each line up to a tab, so the tables and
        # cases are seeds as they are; one row per seed besides.
        split_rows "$root/tests/data/hours/parse.tsv" "$work/seeds/hours"
        echo "$work/seeds/hours $root/tests/data/hours" ;;
    fleet)
        for t in "$root"/tests/data/fleet/*.tsv; do
            split_rows "$t" "$work/seeds/fleet/$(basename "$t" .tsv)"
        done
        echo "$work/seeds/fleet" ;;
    cap)
        echo "$root/tests/data/cap" ;;
    message)
        echo "$root/tests/data/message" ;;
    *)
        echo "fuzz/run.sh: unknown target $1" >&2
        exit 2 ;;
    esac
}

dict_for() {
    case $1 in
    cache_sealed) echo "$root/fuzz/dict/cache.dict" ;;
    *) echo "$root/fuzz/dict/$1.dict" ;;
    esac
}

# One target: regressions, then fuzzing. Writes one summary row to
# $work/result.$1 and the log to $work/logs/$1.log; never exits the script.
fuzz_one() {
    t=$1
    exe=$build/fuzz/fuzz_$t
    seeds=$(seeds_for "$t")
    log=$work/logs/$t.log
    result=ok

    # 1. Every crash ever found stays fixed.
    reg=$root/fuzz/regressions/fuzz_$t
    if [ -d "$reg" ] && [ -n "$(find "$reg" -type f | head -n 1)" ]; then
        # shellcheck disable=SC2046
        if ! "$exe" -runs=1 $(find "$reg" -type f | sort) >"$work/logs/$t.regressions.log" 2>&1; then
            printf '%s\t%s\t0\t0\t0\t0\tregression-failed\n' "$t" "$secs" >"$work/result.$t"
            return 0
        fi
    fi

    # 2. Fuzz: scratch corpus first (written), seeds after (read only).
    # A fixed random seed (KT_FUZZ_SEED, default 1) makes a CI run
    # reproducible: a finding is a finding of the change, not of the dice.
    # KT_FUZZ_SEED=0 lets libFuzzer pick one, for exploring locally.
    mkdir -p "$work/corpus/$t"
    # shellcheck disable=SC2086
    "$exe" -seed="${KT_FUZZ_SEED:-1}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 \
        -dict="$(dict_for "$t")" -artifact_prefix="$work/artifacts/fuzz_$t-" \
        "$work/corpus/$t" $seeds >"$log" 2>&1 || result=FAILED
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
    corpus=$(find "$work/corpus/$t" -type f | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$secs" "${execs:-0}" "$((${execs:-0} / secs))" \
        "$corpus" "${rss:-0}" "$result" >"$work/result.$t"
}

for t in $targets; do
    [ -x "$build/fuzz/fuzz_$t" ] || {
        echo "fuzz/run.sh: $build/fuzz/fuzz_$t missing: build with -DKT_FUZZ=ON, target fuzz_all" >&2
        exit 2
    }
    for d in $(seeds_for "$t"); do
        [ -d "$d" ] || {
            echo "fuzz/run.sh: seed directory $d missing" >&2
            exit 2
        }
    done
    rm -f "$work/result.$t"
done

jobs=${KT_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -le 2 ] || jobs=2
running=0
for t in $targets; do
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait

failed=""
summary=$work/summary.tsv
printf 'target\tseconds\texecs\texecs_per_s\tcorpus\tpeak_rss_mb\tresult\n' >"$summary"
for t in $targets; do
    if [ ! -f "$work/result.$t" ]; then
        printf '%s\t%s\t0\t0\t0\t0\tno-result\n' "$t" "$secs" >"$work/result.$t"
    fi
    cat "$work/result.$t" >>"$summary"
    IFS="$(printf '\t')" read -r _ s execs rate corpus rss result <"$work/result.$t"
    printf 'fuzz_%-13s %4s s %10s execs %7s/s  corpus %5s  peak RSS %4s MB  %s\n' "$t" "$s" \
        "$execs" "$rate" "$corpus" "$rss" "$result"
    if [ "$result" != ok ]; then
        failed="$failed $t"
        if [ "$result" = regression-failed ]; then
            echo "  a kept input of fuzz/regressions/fuzz_$t fails again:" >&2
            tail -n 30 "$work/logs/$t.regressions.log" >&2
        else
            echo "  log: $work/logs/$t.log" >&2
            grep -E "ERROR|SUMMARY|contract broken|Test unit written|runtime error" \
                "$work/logs/$t.log" | head -n 20 >&2 || true
        fi
    fi
done

echo "summary: $summary"
if [ -n "$failed" ]; then
    echo "fuzz/run.sh: FAILED:$failed (inputs in $work/artifacts/; keep each crash in" \
        "fuzz/regressions/fuzz_TARGET/ once fixed)" >&2
    exit 1
fi
