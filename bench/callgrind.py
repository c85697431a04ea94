#!/usr/bin/env python3
"""Instructions per steady-state frame, counted by valgrind's callgrind:
the same on a busy machine as on an idle one, so a regression shows as a
change in a number, not in noise.

Method: `kiosk-ticker --bench-frames N` runs under callgrind with a profile
dump just before every call of render_frame and of render_replay. Dump k
then holds exactly what ran between two frames: one whole frame (layout,
fill, copies, present, and the benchmark's few counters) or one floor
frame (fill, the same copies, present). Reported:

  callgrind_frame_instr        median over the ticker's frames 1..N-2
  callgrind_floor_instr        median over the floor frames
  callgrind_floor_ratio        the two divided
  callgrind_first_frame_instr  frame 0 (rasterises the first screenful)
  callgrind_frame_instr_max    the dearest of those frames (one that
                               rasterises a headline), for the record

(The dump before frame 0 holds start-up; the one before the first floor
frame holds the ticker's last frame plus the switch to the floor loop:
both are left out.)
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def totals(path):
    trigger, total = "", None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("desc: Trigger:"):
                trigger = line
            elif line.startswith("totals:"):
                total = int(line.split()[1])
    return trigger, total


def main():
    ap = argparse.ArgumentParser(description="instructions per frame under callgrind")
    ap.add_argument("--kiosk-ticker", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--size", default="1920x96")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kt-callgrind-")
    try:
        out = os.path.join(work, "cg.out")
        env = dict(os.environ, SDL_VIDEODRIVER="dummy")
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             "--dump-before=render_frame", "--dump-before=render_replay",
             os.path.abspath(a.kiosk_ticker), "-q", "-c", a.config,
             "--bench-frames", str(a.frames), "--size", a.size],
            check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dumps = []
        for p in glob.glob(out + ".*"):
            m = re.search(r"\.(\d+)$", p)
            if m:
                dumps.append((int(m.group(1)),) + totals(p))
        dumps.sort()
        frames = [t for i, trig, t in dumps if "render_frame" in trig and t is not None]
        floors = [t for i, trig, t in dumps if "render_replay" in trig and t is not None]
        # frames[0] is start-up, frames[1] is frame 0; floors[0] is the last
        # ticker frame plus the switch; floors[1:] are floor frames.
        if len(frames) < 4 or len(floors) < 3:
            print("callgrind.py: too few frames dumped", file=sys.stderr)
            return 1
        steady = frames[2:]
        fl = floors[1:]
        fmed, flmed = benchlib.median(steady), benchlib.median(fl)
        benchlib.kv("callgrind_frames", len(steady))
        benchlib.kv("callgrind_frame_instr", f"{fmed:.0f}")
        benchlib.kv("callgrind_floor_instr", f"{flmed:.0f}")
        benchlib.kv("callgrind_floor_ratio", f"{fmed / flmed:.3f}" if flmed else "0")
        benchlib.kv("callgrind_first_frame_instr", frames[1])
        benchlib.kv("callgrind_frame_instr_max", max(steady))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
