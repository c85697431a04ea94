#!/usr/bin/env python3
"""The kiosk loop itself, on an Xvfb screen: start-up time and the system
calls of steady-state frames.

Start-up: from just before the process is started to kiosk-ticker's debug
line "display: first text on screen" (logged right after the first present
that shows the whole first screenful: the text worker has opened the font
and drawn it), with a warm cache and the feed unreachable (a closed port on
127.0.0.1: connection refused). Two set-ups:
  fullscreen  a 1920x1080 screen with the strip at the bottom (the lobby)
  window      a 1920x96 window (no fullscreen request to the window manager)

System calls: strace attached to the running ticker for a few seconds after
it settled, every thread; the display thread's calls are counted per frame
(a frame = one SDL_Delay, clock_nanosleep) and sorted into file, network
(any TCP/UDP socket, socket() or connect()) and the rest (the X connection:
presenting and events, and the pacing sleep).
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import make_docs  # noqa: E402

FILE_CALLS = {
    "open", "openat", "openat2", "creat", "stat", "lstat", "fstat", "newfstatat", "statx",
    "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "unlink",
    "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "truncate",
    "ftruncate", "fsync", "fdatasync", "statfs", "fstatfs", "chdir", "inotify_add_watch",
}
NET_CALLS = {"socket", "connect", "bind", "listen", "accept", "accept4", "sendto", "recvfrom",
             "getsockopt", "setsockopt", "getpeername", "getsockname", "shutdown"}
LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. )?([a-z_0-9]+)(?:\(| resumed>)(.*)$")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def warm_cache(binary, work, x):
    """A cache of the 20 headlines made by a real fetch from 127.0.0.1, then
    the server goes away: the configured feed is unreachable from then on."""
    www = os.path.join(work, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "feed.xml"), "w", encoding="utf-8") as f:
        f.write(make_docs.make_rss(20, 120))
    server = benchlib.Server(www)
    url = server.url("feed.xml")
    confs = {}
    for mode, size in (("fullscreen", "1920x1080"), ("window", "1920x96")):
        a = argparse.Namespace(feed=url, cache=os.path.join(work, f"cache-{mode}.tsv"),
                               max_items=100, mode=mode, size=size)
        path = os.path.join(work, f"{mode}.conf")
        with open(path, "w") as f:
            f.write(make_docs.make_conf(a))
        confs[mode] = path
    warm = os.path.join(work, "warm.tsv")
    subprocess.run([binary, "-q", "-c", confs["window"], "--fetch-once"], check=True,
                   stdout=subprocess.DEVNULL, env=x.env())
    shutil.copy(os.path.join(work, "cache-window.tsv"), warm)
    server.close()
    return confs, warm


def start(binary, conf, cache, warm, x, verbose):
    shutil.copy(warm, cache)
    args = [binary, "-c", conf] + (["-v"] if verbose else ["-q"])
    return subprocess.Popen(args, env=x.env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE if verbose else subprocess.DEVNULL,
                            text=True, start_new_session=True)


def startup_once(binary, conf, cache, warm, x):
    t0 = time.monotonic()
    p = start(binary, conf, cache, warm, x, True)
    ms = None
    try:
        for line in p.stderr:
            if "first text on screen" in line:
                ms = (time.monotonic() - t0) * 1000.0
                break
    finally:
        benchlib.stop(p)
    if ms is None:
        raise RuntimeError("kiosk-ticker exited before presenting a frame")
    return ms


def syscalls(binary, conf, cache, warm, x, settle, seconds, work):
    p = start(binary, conf, cache, warm, x, False)
    out = os.path.join(work, "strace.txt")
    try:
        time.sleep(settle)
        # -yy names each fd (a path, UNIX:[…], TCP:[…]); SIGINT detaches.
        st = subprocess.Popen(["strace", "-f", "-qq", "-yy", "-o", out, "-p", str(p.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(seconds)
        st.send_signal(signal.SIGINT)
        st.wait(10)
    finally:
        benchlib.stop(p)
    main_calls, other_calls = {}, {}
    file_calls, net_calls = [], []
    with open(out, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m or "resumed>" in line:
                continue
            tid, name, rest = int(m.group(1)), m.group(2), m.group(3)
            calls = main_calls if tid == p.pid else other_calls
            calls[name] = calls.get(name, 0) + 1
            if tid != p.pid:
                continue  # the fetcher thread may retry the feed: not a frame's work
            if name in FILE_CALLS or re.match(r"\d+</", rest):
                file_calls.append(line.strip())
            elif name in NET_CALLS or "<TCP" in rest or "<UDP" in rest or "<TCPv6" in rest:
                net_calls.append(line.strip())
    frames = main_calls.get("clock_nanosleep", 0) or int(seconds * 60)
    return main_calls, other_calls, file_calls, net_calls, frames


def main():
    ap = argparse.ArgumentParser(description="start-up and steady-state syscalls")
    ap.add_argument("--kiosk-ticker", required=True)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--strace-seconds", type=float, default=5.0)
    a = ap.parse_args()
    binary = os.path.abspath(a.kiosk_ticker)
    work = tempfile.mkdtemp(prefix="kt-kiosk-")
    x = None
    try:
        x = benchlib.Xvfb("1920x1080")
        confs, warm = warm_cache(binary, work, x)
        for mode in ("fullscreen", "window"):
            cache = os.path.join(work, f"cache-{mode}.tsv")
            startup_once(binary, confs[mode], cache, warm, x)  # page cache warm
            ms = [startup_once(binary, confs[mode], cache, warm, x) for _ in range(a.runs)]
            key = "startup" if mode == "fullscreen" else "startup_window"
            benchlib.kv(f"{key}_ms", f"{benchlib.median(ms):.1f}")
            benchlib.kv(f"{key}_ms_min", f"{min(ms):.1f}")
            benchlib.kv(f"{key}_ms_max", f"{max(ms):.1f}")
        benchlib.kv("startup_runs", a.runs)

        cache = os.path.join(work, "cache-fullscreen.tsv")
        main_calls, other, files, nets, frames = syscalls(
            binary, confs["fullscreen"], cache, warm, x, 3.0, a.strace_seconds, work)
        total = sum(main_calls.values())
        benchlib.kv("steady_frames_traced", frames)
        benchlib.kv("steady_syscalls_per_frame", f"{total / max(frames, 1):.1f}")
        per = ",".join(f"{k}:{v / max(frames, 1):.1f}"
                       for k, v in sorted(main_calls.items(), key=lambda kv_: -kv_[1]))
        benchlib.kv("steady_syscalls", per or "none")
        benchlib.kv("steady_file_syscalls", len(files))
        benchlib.kv("steady_net_syscalls", len(nets))
        benchlib.kv("steady_other_thread_syscalls", sum(other.values()))
        for line in (files + nets)[:10]:
            benchlib.note(f"unexpected: {line}")
        return 0
    finally:
        if x:
            x.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
