"""No screen (issue 15): the kiosk loop never falls back to an invisible
driver silently.

  * Nothing to draw on (no DISPLAY, no Wayland runtime directory, no usable
    /dev/dri/card*): one error line naming each driver tried and why it
    failed, no stray line from libwayland; the ticker keeps running, fetches
    and writes its cache, answers SIGHUP (reload) and SIGTERM (exit 0).
  * A screen that comes later: SDL_VIDEODRIVER=x11 with DISPLAY=:N where no
    server runs yet; the same kind of line; then an Xvfb is started on :N
    and, within the back-off, the ticker opens its window there and draws.

Every wait is bounded; a hang is reported as a failure.
Usage: test_noscreen.py KIOSK_TICKER
"""
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import time

from kttest import check, finish

BIN = sys.argv[1]


def wait_for(path, text, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.05)
    return False


def wait_file(path, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.stat().st_size > 0:
            return True
        time.sleep(0.05)
    return False


def free_display():
    """A display number no X server uses now (socket and lock absent)."""
    for n in random.sample(range(200, 990), 100):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            return n
    raise RuntimeError("no free X display number")


def stop(p, timeout=5.0):
    """SIGTERM, then the exit status within timeout (None: it hung)."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def start_ticker(tmp, env, log):
    feed = tmp / "notices.txt"
    feed.write_text("Lobby closes at six\nNew coffee machine on floor 2\n", encoding="utf-8")
    cfg = tmp / "ticker.conf"
    cfg.write_text(f"[ticker]\ncache = {tmp / 'cache.tsv'}\nrefresh = 15m\n"
                   f"[feed lobby]\nurl = {feed}\n"
                   "[display]\nmode = window\nsize = 480x96\n", encoding="utf-8")
    with open(log, "w") as errf:
        return subprocess.Popen([BIN, "-v", "-c", str(cfg)], stdout=subprocess.DEVNULL,
                                stderr=errf, env=env)


def base_env():
    env = dict(os.environ, SDL_AUDIODRIVER="dummy")
    for k in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "SDL_VIDEODRIVER",
              "JOURNAL_STREAM", "KT_RENDERER"):
        env.pop(k, None)
    return env


# 1. No screen at all.
with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    log = tmp / "stderr.log"
    p = start_ticker(tmp, base_env(), log)
    try:
        check(wait_for(log, "no screen:", 10), "the no-screen line is logged")
        check(wait_for(log, "feed \"lobby\"", 10), "the feed is fetched meanwhile")
        check(wait_file(tmp / "cache.tsv", 10), "the cache is written meanwhile")
        text = log.read_text(encoding="utf-8", errors="replace")
        lines = [l for l in text.splitlines() if "error: display: no screen:" in l]
        check(len(lines) == 1, f"said once, in one line: {lines}")
        line = lines[0] if lines else ""
        check("x11: DISPLAY is not set" in line, f"names x11 and why: {line}")
        check("wayland: XDG_RUNTIME_DIR is not set" in line, f"names wayland and why: {line}")
        check("kmsdrm: " in line, f"names kmsdrm and why: {line}")
        check("fetching goes on" in line, f"says the ticker keeps working: {line}")
        check("XDG_RUNTIME_DIR is invalid" not in text, "no stray libwayland line on stderr")
        check("offscreen" not in text and "video dummy" not in text,
              "no fallback to an invisible driver")
        p.send_signal(signal.SIGHUP)
        check(wait_for(log, "config reloaded", 10), "SIGHUP reloads while there is no screen")
        check(p.poll() is None, "still running")
    finally:
        rc = stop(p)
    check(rc == 0, f"SIGTERM exits 0 within 5 s while waiting for a screen (got {rc})")

# 2. A screen that comes later.
with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    log = tmp / "stderr.log"
    n = free_display()
    env = dict(base_env(), SDL_VIDEODRIVER="x11", DISPLAY=f":{n}", KT_RENDERER="software")
    p = start_ticker(tmp, env, log)
    xvfb = None
    try:
        check(wait_for(log, "no screen: x11 (SDL_VIDEODRIVER)", 10),
              "the no-screen line names the driver asked for")
        xvfb = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "640x480x24", "-nolisten",
                                 "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        # Retries come at 1, 2, 4 ... s after the failures: well within 20 s.
        check(wait_for(log, "a screen is there now", 20), "the display is retried and found")
        check(wait_for(log, "first frame presented", 10), "and frames are drawn on it")
        check(wait_for(log, "video x11", 1), "on the X server started later")
    finally:
        rc = stop(p)
        if xvfb:
            xvfb.terminate()
            try:
                xvfb.wait(5)
            except subprocess.TimeoutExpired:
                xvfb.kill()
    check(rc == 0, f"SIGTERM exits 0 (got {rc})")

finish()
