"""Shared helpers for the benchmark scripts (standard library only).

An Xvfb screen, a static HTTP server on 127.0.0.1, the process tree of a
program (CPU time and PSS from /proc), and the scrolling speed measured from
two screen captures. Nothing here talks to anything but 127.0.0.1.
"""
import functools
import http.server
import os
import signal
import subprocess
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def kv(key, value):
    """One figure: the benchmark's output format."""
    print(f"{key}={value}", flush=True)


def note(msg):
    print(f"# {msg}", flush=True)


class Xvfb:
    """A private X server: 1920x1080, no TCP, its display found by -displayfd."""

    def __init__(self, size="1920x1080"):
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{size}x24", "-nolisten", "tcp",
             "-noreset"],
            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        os.close(w)
        with os.fdopen(r) as f:
            num = f.readline().strip()
        if not num:
            self.proc.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{num}"

    def env(self, **extra):
        e = dict(os.environ)
        e["DISPLAY"] = self.display
        e.pop("WAYLAND_DISPLAY", None)
        e.update(extra)
        return e

    def cpu_s(self):
        return proc_cpu_s(self.proc.pid)

    def close(self):
        stop(self.proc)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Server:
    """Serves a directory on 127.0.0.1 (an ephemeral port) from a thread."""

    def __init__(self, root):
        handler = functools.partial(QuietHandler, directory=root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def stop(proc, grace=5.0):
    """Ends a process we started, and its session (it was started with
    start_new_session, so its session id is its pid): SIGTERM, then SIGKILL."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    # Children that outlived the leader (same session) go too.
    for pid in tree(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()  # fields from 3 (state) on


def tree(root):
    """Pids of root, its descendants and whatever else is in its session
    (Chromium's crash handler re-parents itself but keeps the session)."""
    parent, session = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            f = _stat(int(d))
        except (OSError, ValueError):
            continue
        parent[int(d)] = int(f[1])
        session[int(d)] = int(f[3])
    out = set()
    for pid in parent:
        p, seen = pid, 0
        while p > 1 and seen < 64:
            if p == root:
                out.add(pid)
                break
            p = parent.get(p, 0)
            seen += 1
        if session.get(pid) == root:
            out.add(pid)
    return sorted(out)


def proc_cpu_s(pid, children=True):
    """utime + stime (+ reaped children's) of one process, in seconds. The
    kernel scales these to the scheduler's exact runtime, so the sum is
    precise even for a process that runs briefly every tick."""
    try:
        f = _stat(pid)
    except OSError:
        return 0.0
    t = int(f[11]) + int(f[12])
    if children:
        t += int(f[13]) + int(f[14])
    return t / CLK_TCK


def tree_cpu_s(root):
    return sum(proc_cpu_s(p) for p in tree(root))


def tree_pss_kib(root):
    total = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def median(v):
    v = sorted(v)
    n = len(v)
    if n == 0:
        return 0.0
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def capture_profile(display, x, y, w, h):
    """Column brightness profile of a screen area (ImageMagick's import),
    and the time it was taken (the middle of the call)."""
    t0 = time.monotonic()
    raw = subprocess.run(
        ["import", "-display", display, "-window", "root", "-crop", f"{w}x{h}+{x}+{y}",
         "-depth", "8", "gray:-"],
        check=True, capture_output=True).stdout
    t1 = time.monotonic()
    prof = [0] * w
    for row in range(h):
        line = raw[row * w:(row + 1) * w]
        for i, b in enumerate(line):
            prof[i] += b
    return (t0 + t1) / 2, prof


def best_shift(p1, p2, max_shift):
    """Shift d (pixels to the left) that best maps p1 onto p2."""
    w = len(p1)
    best, best_d = None, 0
    for d in range(0, max_shift + 1):
        n = w - d
        if n < w // 4:
            break
        err = sum(abs(p1[i] - p2[i - d]) for i in range(d, w, 2)) / n
        if best is None or err < best:
            best, best_d = err, d
    return best_d


def measure_speed(display, x, y, w, h, gap=3.0):
    """Scrolling speed in px/s from two captures gap seconds apart (text
    moving left). Accurate to a few percent: each capture's instant is
    known to within half the time import takes."""
    ta, pa = capture_profile(display, x, y, w, h)
    time.sleep(gap)
    tb, pb = capture_profile(display, x, y, w, h)
    d = best_shift(pa, pb, min(w - w // 4, int(400 * gap)))
    return d / (tb - ta)
