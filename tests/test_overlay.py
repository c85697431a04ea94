"""mode = overlay (issue 13) on the test's own Xvfb, checked with xprop and
xwininfo (x11-utils): a borderless window as wide as the screen and as high
as the strip, at the bottom (or top) of the screen, typed as a dock,
_NET_WM_STATE_ABOVE and _NET_WM_STATE_SKIP_TASKBAR, WM_HINTS input False
(never takes the focus), not override-redirect (the window manager still
stacks it), and a fixed `height` honoured. The strip's height with
`height = auto` comes from the font (1.5 lines): the window follows it.

Every wait is bounded; a missing tool is a failure.
Usage: test_overlay.py KIOSK_TICKER
"""
import os
import pathlib
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from kttest import check, finish

BIN = sys.argv[1]
SCREEN_W, SCREEN_H = 800, 600


def wait_for(path, text, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.05)
    return False


def free_display():
    for n in random.sample(range(200, 990), 100):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            return n
    raise RuntimeError("no free X display number")


def stop(p, timeout=5.0):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def x(env, *args):
    return subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=10).stdout


def window_id(env):
    """The ticker's top-level window (xwininfo -tree lists it by name)."""
    for line in x(env, "xwininfo", "-root", "-tree").splitlines():
        m = re.match(r'\s*(0x[0-9a-f]+) "kiosk-ticker"', line)
        if m:
            return m.group(1)
    return None


def geometry(env, wid):
    info = x(env, "xwininfo", "-id", wid)
    g = {}
    for key, name in (("x", "Absolute upper-left X"), ("y", "Absolute upper-left Y"),
                      ("w", "Width"), ("h", "Height")):
        m = re.search(rf"{name}:\s+(-?\d+)", info)
        g[key] = int(m.group(1)) if m else None
    g["override"] = "Override Redirect State: yes" in info
    return g


def run_case(tmp, env, display_lines, name):
    feed = tmp / "notices.txt"
    feed.write_text("Lobby closes at six\nNew coffee machine on floor 2\n", encoding="utf-8")
    cfg = tmp / f"{name}.conf"
    cfg.write_text(f"[ticker]\ncache = {tmp / 'cache.tsv'}\n[feed lobby]\nurl = {feed}\n"
                   f"[display]\nmode = overlay\nfont = DejaVu Sans:bold\n{display_lines}",
                   encoding="utf-8")
    log = tmp / f"{name}.log"
    with open(log, "w") as errf:
        p = subprocess.Popen([BIN, "-v", "-c", str(cfg)], stdout=subprocess.DEVNULL,
                             stderr=errf, env=env)
    try:
        check(wait_for(log, "first text on screen", 20), f"{name}: text is drawn")
        text = log.read_text(encoding="utf-8", errors="replace")
        m = re.search(r"line height (\d+)", text)
        line_h = int(m.group(1)) if m else 0
        # The window is fitted to the strip once the font is open.
        wid, g = None, {}
        end = time.monotonic() + 10
        while time.monotonic() < end:
            wid = window_id(env)
            if wid:
                g = geometry(env, wid)
                want_h = int(re.search(r"height = (\d+)", display_lines).group(1)) \
                    if "height = " in display_lines else line_h + line_h // 2
                if g.get("h") == want_h:
                    break
            time.sleep(0.1)
        check(wid is not None, f"{name}: the window exists")
        props = x(env, "xprop", "-id", wid) if wid else ""
        return p, log, line_h, g, props
    except Exception:
        stop(p)
        raise


for tool in ("Xvfb", "xprop", "xwininfo"):
    check(shutil.which(tool) is not None,
          f"{tool} is installed (tools/install-deps.sh --test: xvfb, x11-utils)")
if not all(shutil.which(t) for t in ("Xvfb", "xprop", "xwininfo")):
    finish()

n = free_display()
xvfb = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", f"{SCREEN_W}x{SCREEN_H}x24",
                         "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, start_new_session=True)
env = dict(os.environ, DISPLAY=f":{n}", SDL_VIDEODRIVER="x11", SDL_AUDIODRIVER="dummy",
           KT_RENDERER="software")
for k in ("WAYLAND_DISPLAY", "JOURNAL_STREAM"):
    env.pop(k, None)
try:
    end = time.monotonic() + 10
    while not os.path.exists(f"/tmp/.X11-unix/X{n}") and time.monotonic() < end:
        time.sleep(0.05)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)

        # 1. Bottom, height from the font.
        p, log, line_h, g, props = run_case(tmp, env, "font_size = 30\n", "bottom")
        try:
            strip = line_h + line_h // 2
            check(line_h > 0, "the font's line height is logged")
            check(g.get("w") == SCREEN_W, f"as wide as the screen: {g}")
            check(g.get("h") == strip, f"as high as the strip ({strip}): {g}")
            check(g.get("x") == 0 and g.get("y") == SCREEN_H - strip,
                  f"at the screen's bottom: {g}")
            check(not g.get("override"), "not override-redirect: the window manager stacks it")
            check("_NET_WM_WINDOW_TYPE_DOCK" in props, f"a dock: {props}")
            state = re.search(r"_NET_WM_STATE\(ATOM\) = (.*)", props)
            state = state.group(1) if state else ""
            check("_NET_WM_STATE_ABOVE" in state, f"always on top: {state}")
            check("_NET_WM_STATE_SKIP_TASKBAR" in state, f"not in the task bar: {state}")
            check("Client accepts input or input focus: False" in props,
                  f"never takes the focus (WM_HINTS input False): {props}")
            # (Borderless is _MOTIF_WM_HINTS, which SDL sets only where a
            # window manager made the atom: none runs on this Xvfb.)
            check(p.poll() is None, "still running")
        finally:
            rc = stop(p)
        check(rc == 0, f"SIGTERM exits 0 (got {rc})")

        # 2. Top, a fixed height.
        p, log, line_h, g, props = run_case(tmp, env, "position = top\nheight = 70\n", "top")
        try:
            check(g.get("w") == SCREEN_W and g.get("h") == 70, f"800x70: {g}")
            check(g.get("x") == 0 and g.get("y") == 0, f"at the screen's top: {g}")
            check("Client accepts input or input focus: False" in props, "no focus at the top")
        finally:
            rc = stop(p)
        check(rc == 0, f"SIGTERM exits 0 (got {rc})")
finally:
    xvfb.terminate()
    try:
        xvfb.wait(5)
    except subprocess.TimeoutExpired:
        xvfb.kill()
finish()
