#!/usr/bin/env python3
"""Instructions per frame, counted by valgrind's callgrind: the same on a
busy machine as on an idle one, so a regression shows as a change in a
number, not in noise.

Method: `kt-bench-frames` runs under `valgrind --tool=callgrind
--collect-atstart=no`. It switches collection on for exactly one frame at a
time (CALLGRIND_TOGGLE_COLLECT, which is per thread: the text worker's
shaping and rasterising are never counted) and dumps after it, labelled
"frame K" or "floor K"; so each dump holds one whole frame of the render
thread (take the worker's results, layout, at most one upload, fill,
copies, present) or one floor frame (fill, the same copies, present).
Reported, with PREFIX (default callgrind_):

  PREFIX_frames          frames counted (1..N-1: frame 0 is start-up)
  PREFIX_frame_instr     median over them
  PREFIX_frame_instr_max the dearest frame, whatever happened in it
                         (a headline uploaded, entering or leaving)
  PREFIX_worst_ratio     the two divided (target: <= 2)
  PREFIX_floor_instr     median over the floor frames
  PREFIX_floor_ratio     frame median / floor median
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

TRIGGER = re.compile(r"^desc: Trigger: Client Request: (frame|floor) (\d+)")


def dump_total(path):
    kind, total = None, None
    with open(path, errors="replace") as f:
        for line in f:
            m = TRIGGER.match(line)
            if m:
                kind = (m.group(1), int(m.group(2)))
            elif line.startswith("totals:"):
                total = int(line.split()[1])
    return kind, total


def main():
    ap = argparse.ArgumentParser(description="instructions per frame under callgrind")
    ap.add_argument("--bench-frames", required=True, help="the kt-bench-frames program")
    ap.add_argument("--config", required=True)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--size", default="1920x96")
    ap.add_argument("--speed", type=float)
    ap.add_argument("--prefix", default="callgrind")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kt-callgrind-")
    try:
        out = os.path.join(work, "cg.out")
        env = dict(os.environ, SDL_VIDEODRIVER="dummy")
        cmd = ["valgrind", "--tool=callgrind", "--collect-atstart=no",
               f"--callgrind-out-file={out}", os.path.abspath(a.bench_frames), "--quiet",
               "-c", a.config, "--frames", str(a.frames), "--size", a.size]
        if a.speed is not None:
            cmd += ["--speed", str(a.speed)]
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        frames, floors = [], []
        for p in glob.glob(out + ".*"):
            kind, total = dump_total(p)
            if kind and total is not None:
                (frames if kind[0] == "frame" else floors).append(total)
        if len(frames) < 3 or len(floors) < 3:
            print("callgrind.py: too few frames dumped", file=sys.stderr)
            return 1
        fmed, flmed, worst = benchlib.median(frames), benchlib.median(floors), max(frames)
        p = a.prefix
        benchlib.kv(f"{p}_frames", len(frames))
        benchlib.kv(f"{p}_frame_instr", f"{fmed:.0f}")
        benchlib.kv(f"{p}_frame_instr_max", worst)
        benchlib.kv(f"{p}_worst_ratio", f"{worst / fmed:.2f}" if fmed else "0")
        benchlib.kv(f"{p}_floor_instr", f"{flmed:.0f}")
        benchlib.kv(f"{p}_floor_ratio", f"{fmed / flmed:.3f}" if flmed else "0")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
