"""Kiosk behaviour of the running ticker (dummy video driver, no display):

  * SIGHUP with a broken config: reported as FILE:LINE: message, the ticker
    keeps running on the old config;
  * SIGHUP with a valid config: reloaded without exiting;
  * SIGTERM: exit 0 within a second, with the cache flushed to disk.
Usage: test_signals.py KIOSK_TICKER REPO_ROOT
"""
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from kttest import check, failures, finish

# The promise is one second; an emulator or a sanitizer build stretches every
# bound by KT_TEST_TIME_SCALE (.ci/reliability.sh, cross builds).
SCALE = max(1.0, float(os.environ.get("KT_TEST_TIME_SCALE", "1")))

BIN, ROOT = sys.argv[1], pathlib.Path(sys.argv[2])

def wait_for(path, text, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.05)
    return False


with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    shutil.copytree(ROOT / "assets", tmp / "assets")
    (tmp / "config").mkdir()
    cache = tmp / "state" / "cache.tsv"
    good = (ROOT / "config" / "ticker.conf").read_text(encoding="utf-8")
    good = good.replace("#cache = /var/lib/kiosk-ticker/cache.tsv", f"cache = {cache}")
    cfg = tmp / "config" / "ticker.conf"
    cfg.write_text(good, encoding="utf-8")
    log = tmp / "stderr.log"
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    env.pop("JOURNAL_STREAM", None)
    with open(log, "w") as errf:
        p = subprocess.Popen([BIN, "-c", str(cfg)], stdout=subprocess.DEVNULL, stderr=errf,
                             env=env)
    try:
        check(wait_for(log, 'feed "lobby"'), "ticker started and fetched the demo feeds")

        # A broken config on SIGHUP: reported, the old one stays.
        cfg.write_text(good + "\n[display]\nspeed = fast\n", encoding="utf-8")
        p.send_signal(signal.SIGHUP)
        check(wait_for(log, f"{cfg}:"), "broken reload reported")
        text = log.read_text(encoding="utf-8")
        check("reload refused" in text, "broken reload refused")
        line = [l for l in text.splitlines() if "reload refused" in l]
        check(bool(line) and f"{cfg}:" in line[0] and ": " in line[0],
              f"the refusal names FILE:LINE: {line}")
        time.sleep(0.3)
        check(p.poll() is None, "still running after a broken reload")

        # A valid config on SIGHUP: applied, still running.
        cfg.write_text(good.replace("speed = 120", "speed = 60"), encoding="utf-8")
        p.send_signal(signal.SIGHUP)
        check(wait_for(log, "config reloaded"), "valid reload applied")
        time.sleep(0.3)
        check(p.poll() is None, "still running after a valid reload")

        # SIGTERM: clean exit within a second, cache on disk.
        if cache.exists():
            cache.unlink()
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        check(rc == 0, f"SIGTERM exits 0 (got {rc})")
        check(took < 1.0 * SCALE, f"SIGTERM exit within a second (x{SCALE:g}: took {took:.2f} s)")
        check(cache.exists() and cache.stat().st_size > 0, "cache flushed at exit")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if failures():
        print(log.read_text(encoding="utf-8"))

finish()
