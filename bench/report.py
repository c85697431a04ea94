#!/usr/bin/env python3
"""Reads the benchmark's key=value lines and prints the figures against the
issue's targets; with --assert, exits 1 when a correctness figure (not a
timing) is wrong or a figure is missing.

  report.py RESULTS [--assert]
"""
import sys

# (key, label, how to compare, target, correctness?) — correctness targets
# are exact counts that do not depend on the machine's speed or load.
TARGETS = [
    ("floor_ratio", "frame time / floor time (software, 1920x96, 20 headlines)", "le", 1.25,
     False),
    ("callgrind_floor_ratio", "frame instructions / floor instructions", "le", 1.25, False),
    ("steady_allocs", "heap allocations per steady-state frame (total)", "eq", 0, True),
    ("steady_rasterisations", "text rasterisations in steady state (total)", "eq", 0, True),
    ("mixed600_render_thread_rasterisations",
     "rasterisations on the render thread after frame 0, mixed 600 px/s", "eq", 0, True),
    ("mixed120_render_thread_rasterisations",
     "rasterisations on the render thread after frame 0, mixed 120 px/s", "eq", 0, True),
    ("mixed600_tape_waits", "times the tape waited for text, mixed 600 px/s", "eq", 0, True),
    ("mixed120_tape_waits", "times the tape waited for text, mixed 120 px/s", "eq", 0, True),
    ("mixed600_steady_allocs", "heap allocations in steady frames, mixed 600 px/s", "eq", 0, True),
    ("callgrind_mixed600_worst_ratio",
     "worst / median frame instructions, mixed 600 px/s (every frame)", "le", 2, False),
    ("callgrind_mixed120_worst_ratio",
     "worst / median frame instructions, mixed 120 px/s (every frame)", "le", 2, False),
    ("steady_file_syscalls", "file syscalls of the display thread (strace window)", "eq", 0,
     True),
    ("steady_net_syscalls", "network syscalls of the display thread (strace window)", "eq", 0,
     True),
    ("mem_growth_kib", "peak RSS, 10,000 headlines minus 10 (KiB)", "le", 8192, False),
    ("startup_ms", "start-up to first presented frame, median (ms)", "le", 150, False),
    ("parse_rss_mb_s", "RSS parsing (MB/s)", "ge", 50, False),
    ("parse_atom_mb_s", "Atom parsing (MB/s)", "ge", 50, False),
    ("parse_json_mb_s", "JSON Feed parsing (MB/s)", "ge", 50, False),
    ("parse_rss_peak_ratio", "RSS parse peak heap / document", "le", 4, False),
    ("parse_atom_peak_ratio", "Atom parse peak heap / document", "le", 4, False),
    ("parse_json_peak_ratio", "JSON parse peak heap / document", "le", 4, False),
    ("peer_tickr_cpu_x", "tickr CPU / kiosk-ticker CPU", "ge", 5, False),
    ("peer_chromium_cpu_x", "Chromium CPU / kiosk-ticker CPU", "ge", 10, False),
    ("peer_tickr_pss_x", "tickr PSS / kiosk-ticker PSS", "gt", 1, False),
    ("peer_chromium_pss_x", "Chromium PSS / kiosk-ticker PSS", "gt", 1, False),
]

SIGN = {"le": "≤", "ge": "≥", "eq": "=", "gt": ">"}


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    check = "--assert" in sys.argv[2:]
    figures = {}
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if "=" in line and not line.startswith(("#", "|")):
                k, v = line.split("=", 1)
                figures[k] = v
    failed = []
    print()
    print("| figure | value | target | |")
    print("| --- | ---: | ---: | --- |")
    for key, label, how, target, exact in TARGETS:
        v = figures.get(key)
        try:
            x = float(v)
        except (TypeError, ValueError):
            verdict = "not measured" if v is None else v
            # A peer that is not installed is reported as missing, not wrong;
            # "unknown" is a count the build cannot make (sanitizers).
            peer = key.split("_")[1] if key.startswith("peer_") else None
            excused = v == "unknown" or (peer and figures.get(f"peer_{peer}") == "missing")
            if check and not excused:
                failed.append(f"{key}={v}")
            print(f"| {label} | – | {SIGN[how]} {target:g} | {verdict} |")
            continue
        ok = {"le": x <= target, "ge": x >= target, "eq": x == target, "gt": x > target}[how]
        print(f"| {label} | {v} | {SIGN[how]} {target:g} | {'met' if ok else 'missed'} |")
        if exact and not ok:
            failed.append(f"{key}={v}")
    print()
    if check and failed:
        print("bench: wrong: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
