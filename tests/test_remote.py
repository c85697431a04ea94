"""Configuration from a URL ([fleet] config_url, src/remote.c) against a real
HTTP server (tests/http_server.py) serving feeds and configs.

  fetch_once   --fetch-once: the remote config is applied (its feed's
               headlines are printed), laid over the local file section by
               section; the next run sends the ETag and gets a 304 (not
               re-applied); an invalid one is one line URL:LINE: message
               and the saved one stays; unreachable: the saved one runs;
               a remote [fleet]/[control] is ignored
  running      the running ticker (SDL dummy driver): a change is applied
               (the cache gains the new feed's headlines), 304s are not
               re-applied, an invalid one keeps the old feeds, a SIGHUP
               keeps the remote config, and a config changed while reloads
               are in flight ends with the newest one running
Usage: test_remote.py KIOSK_TICKER HTTP_SERVER_SCRIPT PART
"""
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from kttest import check, finish

BIN, SERVER, PART = sys.argv[1], sys.argv[2], sys.argv[3]
SCALE = max(1.0, float(os.environ.get("KT_TEST_TIME_SCALE", "1")))
DATA = pathlib.Path(SERVER).parent / "data" / "http" / "ok.xml"


class Http:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, SERVER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.base = f"http://127.0.0.1:{self.port}"

    def post(self, path, body, ctype="text/plain"):
        req = urllib.request.Request(self.base + path, data=body.encode(), method="POST",
                                     headers={"Content-Type": ctype})
        urllib.request.urlopen(req, timeout=10).read()

    def feed(self, name, word):
        """/feed/NAME: ok.xml with its headlines renamed 'WORD first headline'..."""
        self.post(f"/set/{name}", DATA.read_text().replace("OK ", word + " ").replace("item/", word + "/"),
                  "application/rss+xml")

    def config(self, name, text):
        self.post(f"/set/{name}", text.replace("@BASE@", self.base))

    def route(self, name, route):
        self.post(f"/set/{name}?route={route}", "")

    def stats(self, path):
        with urllib.request.urlopen(self.base + "/stats", timeout=10) as r:
            return json.load(r)["paths"].get(path, {"requests": 0, "not_modified": 0})

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def local_conf(tmp, http, extra=""):
    path = tmp / "local.conf"
    path.write_text(
        "[ticker]\n"
        f"cache = {tmp}/cache.tsv\n"
        "timeout = 5\n"
        "[display]\nmode = window\nsize = 320x32\nfont_size = 16\n"
        "[feed a]\n"
        f"url = {http.base}/feed/a\n"
        "[fleet]\n"
        "screen_id = s1\n"
        f"config_url = {http.base}/feed/conf-%i\n" + extra)
    return path


def env(**extra):
    e = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
             KT_RENDERER="software")
    for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        e.pop(k, None)
    e.update(extra)
    return e


def fetch_once(conf):
    p = subprocess.run([BIN, "-c", str(conf), "--fetch-once"], capture_output=True, text=True,
                       env=env(), timeout=60 * SCALE)
    return p.returncode, p.stdout, p.stderr


def part_fetch_once(tmp, http):
    http.feed("a", "Alpha")
    http.feed("b", "Bravo")
    http.feed("c", "Charlie")
    http.config("conf-s1", "[feed b]\nurl = @BASE@/feed/b\n")
    conf = local_conf(tmp, http)
    saved = tmp / "cache.tsv.remote"

    rc, out, err = fetch_once(conf)
    check(rc == 0, f"first --fetch-once exits 0 ({rc}): {err}")
    check("Alpha first headline" in out, "the local feed stays (the remote lacks [feed a])")
    check("Bravo first headline" in out, f"the remote config's feed is fetched: {out!r}")
    check(saved.exists(), "the remote config is saved beside the cache")
    check(not list(tmp.glob("*.tmp.*")), "no temporary file is left")
    check(http.stats("/feed/conf-s1")["requests"] == 1, "one request for the config")

    rc, out, err = fetch_once(conf)
    st = http.stats("/feed/conf-s1")
    check(st["requests"] == 2 and st["not_modified"] == 1,
          f"the second run sends the saved ETag and gets a 304: {st}")
    check("applied" not in err, f"a 304 is not applied again: {err!r}")
    check("Bravo first headline" in out, "after a 304 the saved config runs")

    # A section of the remote replaces the local one of that name.
    http.config("conf-s1", "[feed a]\nurl = @BASE@/feed/c\n")
    rc, out, err = fetch_once(conf)
    check("Charlie first headline" in out and "Bravo" not in out,
          f"[feed a] of the remote replaces the local [feed a]: {out!r}")

    # Invalid: one line URL:LINE: message, the saved one stays.
    good = saved.read_text()
    http.config("conf-s1", "[feed a]\nurl = @BASE@/feed/b\nbogus_key = 1\n")
    rc, out, err = fetch_once(conf)
    url = f"{http.base}/feed/conf-s1"
    lines = [ln for ln in err.splitlines() if f"{url}:3:" in ln]
    check(len(lines) == 1, f"one log line with {url}:3: {err!r}")
    check("bogus_key" in err, "the line names the key")
    check("Charlie first headline" in out, "the last good config runs")
    check(saved.read_text() == good, "the saved config is kept")

    # Unreachable at boot: the saved one runs.
    http.route("conf-s1", "reset")
    rc, out, err = fetch_once(conf)
    check("Charlie first headline" in out and "Alpha" not in out,
          f"unreachable: the saved remote config runs: {out!r} {err!r}")
    http.route("conf-s1", "500")
    rc, out, err = fetch_once(conf)
    check("HTTP 500" in err and "Charlie first headline" in out, f"HTTP 500: saved one: {err!r}")

    # [fleet] and [control] only from the local file.
    http.config("conf-s1", "[feed a]\nurl = @BASE@/feed/b\n"
                "[fleet]\nscreen_id = evil\nconfig_url = @BASE@/feed/evil\n"
                "[control]\nlisten = 127.0.0.1:1\n")
    rc, out, err = fetch_once(conf)
    check("Bravo first headline" in out, f"the rest of that config is applied: {out!r} {err!r}")
    rc, out, err = fetch_once(conf)
    check(http.stats("/feed/evil")["requests"] == 0,
          "a remote [fleet] config_url is never followed")
    check(http.stats("/feed/conf-s1")["not_modified"] >= 2,
          "the local config_url is still the one asked")

    # A saved config for another URL is not used (the local file changed).
    conf.write_text(conf.read_text().replace("screen_id = s1", "screen_id = s2"))
    http.route("conf-s2", "404")
    rc, out, err = fetch_once(conf)
    check("Alpha first headline" in out and "Bravo" not in out,
          f"a saved config of another screen id is not used: {out!r}")


class Ticker:
    def __init__(self, tmp, conf, refresh_ms):
        self.log_path = tmp / f"ticker-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen([BIN, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=self.log,
                                     env=env(KT_TEST_CONFIG_REFRESH_MS=str(refresh_ms)))

    def text(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait(self, pred, seconds):
        end = time.monotonic() + seconds * SCALE
        while time.monotonic() < end:
            if pred():
                return True
            time.sleep(0.05)
        return pred()

    def wait_log(self, needle, seconds, count=1):
        return self.wait(lambda: self.text().count(needle) >= count, seconds)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10 * SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = None
        self.log.close()
        return rc


def reloads(text):
    """Feed counts of the 'config reloaded' lines, in order."""
    return [int(m) for m in re.findall(r"config reloaded from .* \((\d+) feeds", text)]


def part_running(tmp, http):
    for n, w in (("a", "Alpha"), ("b", "Bravo"), ("c", "Charlie"), ("d", "Delta")):
        http.feed(n, w)
    http.config("conf-s1", "[feed b]\nurl = @BASE@/feed/b\n")
    conf = local_conf(tmp, http)
    cache = tmp / "cache.tsv"
    t = Ticker(tmp, conf, 300)
    try:
        check(t.wait_log("remote config from", 20), f"the remote config is applied: {t.text()}")
        check(t.wait(lambda: cache.exists() and "Bravo first headline" in cache.read_text(), 20),
              "the running ticker fetched the remote config's feed (cache)")
        check(reloads(t.text())[-1:] == [2], f"2 feeds run: {reloads(t.text())}")
        # 304s are not re-applied.
        n = http.stats("/feed/conf-s1")["not_modified"]
        check(t.wait(lambda: http.stats("/feed/conf-s1")["not_modified"] >= n + 5, 20),
              "the config is asked again, conditionally")
        check(t.text().count("remote config from") == 1, "a 304 is not applied")

        # Invalid: one line, old feeds kept.
        http.config("conf-s1", "[feed b]\nurl = @BASE@/feed/b\n[feed c]\nurl = @BASE@/feed/c\n"
                    "refresh = never\n")
        url = f"{http.base}/feed/conf-s1"
        check(t.wait_log(f"{url}:5:", 20), f"invalid: a line with {url}:5: {t.text()}")
        r0 = http.stats("/feed/conf-s1")["requests"]
        t.wait(lambda: http.stats("/feed/conf-s1")["requests"] >= r0 + 4, 20)
        check(t.text().count(f"{url}:5:") == 1, "logged once, not at every fetch")
        check(reloads(t.text())[-1:] == [2], "the running config stays")

        # SIGHUP: the local file again, with the remote config over it.
        t.proc.send_signal(signal.SIGHUP)
        check(t.wait(lambda: len(reloads(t.text())) >= 2, 20), "SIGHUP reloads")
        check(reloads(t.text())[-1] == 2, f"a SIGHUP keeps the remote config: {reloads(t.text())}")

        # Changed while reloads are in flight: the newest wins.
        http.config("conf-s1", "[feed b]\nurl = @BASE@/feed/b\n[feed c]\nurl = @BASE@/feed/c\n")
        for _ in range(10):
            t.proc.send_signal(signal.SIGHUP)
            time.sleep(0.03)
        http.config("conf-s1", "[feed b]\nurl = @BASE@/feed/b\n[feed c]\nurl = @BASE@/feed/c\n"
                    "[feed d]\nurl = @BASE@/feed/d\n")
        for _ in range(10):
            t.proc.send_signal(signal.SIGHUP)
            time.sleep(0.03)
        check(t.wait(lambda: cache.exists() and "Delta first headline" in cache.read_text(), 20),
              "the newest remote config runs (its feed is fetched)")
        time.sleep(1.0)
        t.proc.send_signal(signal.SIGHUP)
        n = len(reloads(t.text()))
        t.wait(lambda: len(reloads(t.text())) > n, 10)
        check(reloads(t.text())[-1] == 4, f"4 feeds run at the end: {reloads(t.text())[-6:]}")
        check(t.proc.poll() is None, "still running")
    finally:
        rc = t.stop()
    check(rc == 0, f"SIGTERM exits 0 ({rc})")
    saved = (tmp / "cache.tsv.remote").read_text()
    check("feed/d" in saved, "the newest remote config is the one saved")

    # Boot with the config server down: the saved config runs at once.
    http.route("conf-s1", "reset")
    cache.unlink()
    t = Ticker(tmp, conf, 300)
    try:
        check(t.wait(lambda: cache.exists() and "Delta first headline" in cache.read_text(), 20),
              "config server unreachable at boot: the saved config's feeds are fetched")
        check(t.wait_log("remote config:", 10), "the failure is logged")
    finally:
        t.stop()


def main():
    with tempfile.TemporaryDirectory() as d:
        tmp = pathlib.Path(d)
        http = Http()
        try:
            {"fetch_once": part_fetch_once, "running": part_running}[PART](tmp, http)
        finally:
            http.close()
    finish()


main()
