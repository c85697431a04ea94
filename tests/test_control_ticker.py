#!/usr/bin/env python3
"""test_control_ticker: the control API of the real running ticker (SDL
dummy video driver, software renderer: frames are really drawn), with curl
as the client over 127.0.0.1, and the --post / --clear / --status command
line against it.

Usage: test_control_ticker.py KIOSK_TICKER

Checks: auth (401 without or with a wrong bearer token, /healthz open),
every 4xx class (400 malformed JSON / unknown severity / empty text /
expiry in the past / unknown field, 413 body over 16 KiB, 404 path and
unknown id, 405 method), POST then the state shows it first in the
headlines (announcement) or in the alerts (severity), DELETE 204, a
restart keeps the messages (cache), 100 concurrent requests all answered
while frames keep coming, /healthz 200 while drawing, the /metrics names.
"""
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kttest import check, finish, free_port, wait_catches  # noqa: E402

TICKER = sys.argv[1]
TOKEN = "s3cret-token-for-the-test"




class Ticker:
    def __init__(self, tmp, port):
        self.tmp, self.port = tmp, port
        self.conf = os.path.join(tmp, "t.conf")
        self.log = open(os.path.join(tmp, "ticker.log"), "a")
        env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_RENDER_DRIVER="software")
        self.p = subprocess.Popen([TICKER, "-c", self.conf], stdout=self.log,
                                  stderr=subprocess.STDOUT, env=env)
        wait_catches(self.p, signal.SIGTERM)
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if curl(self, "GET", "/healthz")[0] == 200:
                break
            time.sleep(0.05)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None


def curl(t, method, path, data=None, auth=True, headers=()):
    args = ["curl", "-sS", "--noproxy", "*", "-X", method, "-o", "-", "-w", "\n%{http_code}",
            "--max-time", "20"]
    if auth:
        args += ["-H", f"Authorization: Bearer {TOKEN}"]
    for h in headers:
        args += ["-H", h]
    if data is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
    r = subprocess.run(args + [t.url(path)], input=data.encode() if data is not None else None,
                       capture_output=True)
    out = r.stdout
    body, _, code = out.rpartition(b"\n")
    return int(code or 0), body


def err_of(b):
    try:
        return json.loads(b).get("error", "")
    except ValueError:
        return ""


def state(t):
    st, b = curl(t, "GET", "/api/v1/state")
    check(st == 200, f"state 200: {st}")
    try:
        return json.loads(b)
    except ValueError:
        return {"headlines": [], "alerts": [], "messages": []}


def metric(t, name):
    _, b = curl(t, "GET", "/metrics")
    for line in b.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def main():
    with tempfile.TemporaryDirectory(prefix="kt-control-") as tmp:
        port = free_port()
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(token_file, 0o600)
        with open(os.path.join(tmp, "list.txt"), "w") as f:
            f.write("First headline\nSecond headline\n")
        with open(os.path.join(tmp, "t.conf"), "w") as f:
            f.write(f"[ticker]\ncache = {tmp}/cache.tsv\n[feed local]\nurl = {tmp}/list.txt\n"
                    f"[display]\nmode = window\nsize = 320x60\n"
                    f"[control]\nlisten = 127.0.0.1:{port}\ntoken_file = {token_file}\n")
        t = Ticker(tmp, port)
        try:
            # /healthz is open and 200 while frames are drawn.
            st, b = curl(t, "GET", "/healthz", auth=False)
            check(st == 200 and json.loads(b or b"{}").get("status") == "ok",
                  f"healthz 200 while drawing: {st} {b!r}")
            # The frame on screen, as PNG: the window's size, and (once the
            # text worker has drawn the headlines: asked again until then,
            # under an emulator that takes a while) more than the background.
            def screenshot():
                st, b = curl(t, "GET", "/api/v1/screenshot.png")
                if st != 200 or b[:8] != b"\x89PNG\r\n\x1a\n":
                    return st, None, 0
                w, h = struct.unpack(">II", b[16:24])
                idat, pos = b"", 8
                while pos + 8 <= len(b):
                    n, kind = struct.unpack(">I4s", b[pos:pos + 8])
                    if kind == b"IDAT":
                        idat += b[pos + 8:pos + 8 + n]
                    pos += 12 + n
                return st, (w, h), len(set(zlib.decompress(idat)))

            st, size, values = screenshot()
            check(size is not None, f"screenshot: 200 and a PNG ({st})")
            check(size == (320, 60), f"screenshot is the window's 320x60: {size}")
            deadline = time.monotonic() + 60
            while size and values <= 8 and time.monotonic() < deadline:
                time.sleep(0.2)
                st, size, values = screenshot()
            check(values > 8, f"screenshot shows the text ({values} byte values)")
            # Auth.
            st, b = curl(t, "GET", "/api/v1/state", auth=False)
            check(st == 401, f"no token: 401 ({st})")
            st, b = curl(t, "GET", "/api/v1/state", auth=False,
                         headers=["Authorization: Bearer wrong"])
            check(st == 401, f"wrong token: 401 ({st})")
            # Every 4xx class, each naming the field.
            for body, want, field in [
                ('{"text": ', 400, "malformed JSON"),
                ('{"text":"x","severity":"urgent"}', 400, "severity"),
                ('{"text":""}', 400, "text"),
                ('{"text":"x","expires":"2001-01-01T00:00:00Z"}', 400, "expires"),
                ('{"text":"x","expire":"2001-01-01T00:00:00Z"}', 400, "expire"),
                ('{"text":"' + "a" * 17000 + '"}', 413, "body"),
            ]:
                st, b = curl(t, "POST", "/api/v1/messages", body)
                check(st == want and field in err_of(b), f"{body[:40]}: {want} naming {field}: "
                      f"{st} {b[:120]!r}")
            st, b = curl(t, "GET", "/api/v1/nothing")
            check(st == 404 and err_of(b), f"unknown path 404: {st} {b!r}")
            st, b = curl(t, "PUT", "/api/v1/state", "{}")
            check(st == 405 and err_of(b), f"wrong method 405: {st} {b!r}")
            st, b = curl(t, "DELETE", "/api/v1/messages/nosuch")
            check(st == 404, f"unknown id 404: {st}")

            # POST an announcement: first in the headlines.
            st, b = curl(t, "POST", "/api/v1/messages",
                         '{"text":"Lobby closes at 18:00","id":"closing","label":"Facilities"}')
            check(st == 201 and json.loads(b or b"{}").get("id") == "closing",
                  f"POST 201 with the id: {st} {b!r}")
            doc = state(t)
            hl = doc["headlines"]
            check(hl and hl[0]["title"] == "Lobby closes at 18:00" and hl[0]["label"] ==
                  "Facilities" and hl[0]["announcement"], f"first in the headlines: {hl[:1]}")
            check([h["title"] for h in hl[1:]] == ["First headline", "Second headline"],
                  f"then the feed: {[h['title'] for h in hl]}")
            # A message with a severity is an alert.
            p = subprocess.run([TICKER, "-c", t.conf, "--post", "Fire drill now", "--severity",
                                "severe", "--for", "30m"], capture_output=True, text=True,
                               timeout=30)
            mid = p.stdout.strip()
            check(p.returncode == 0 and len(mid) >= 8, f"--post prints the id: {p.stdout!r} "
                  f"{p.stderr!r}")
            doc = state(t)
            check([a["headline"] for a in doc["alerts"]] == ["Fire drill now"] and
                  doc["alerts"][0]["severity"] == "severe", f"alert shown: {doc['alerts']}")
            check(metric(t, "kiosk_ticker_alerts_active") == 1 and
                  metric(t, "kiosk_ticker_messages_active") == 2, "metrics count them")
            p = subprocess.run([TICKER, "-c", t.conf, "--status"], capture_output=True,
                               text=True, timeout=30)
            check(p.returncode == 0 and json.loads(p.stdout or "{}").get("alerts"),
                  f"--status prints the state: {p.returncode} {p.stderr!r}")

            # 100 concurrent requests, all answered, while frames keep coming.
            f0 = metric(t, "kiosk_ticker_frames_total") or 0
            urls = []
            for _ in range(100):
                urls += ["-o", "/dev/null", t.url("/api/v1/state")]
            args = ["curl", "-sS", "--noproxy", "*", "--parallel", "--parallel-max", "100",
                    "--parallel-immediate", "-H", f"Authorization: Bearer {TOKEN}",
                    "-w", "%{http_code}\n"]
            r = subprocess.run(args + urls, capture_output=True, text=True, timeout=120)
            codes = r.stdout.split()
            check(codes.count("200") == 100, f"100 concurrent: all 200 ({codes.count('200')})")
            f1 = metric(t, "kiosk_ticker_frames_total") or 0
            check(f1 > f0, f"frames kept coming during the burst: {f0} -> {f1}")
            st, _ = curl(t, "GET", "/healthz", auth=False)
            check(st == 200, f"healthz still 200: {st}")

            # /metrics: the names operators scrape.
            st, b = curl(t, "GET", "/metrics")
            text = b.decode()
            for name in ["kiosk_ticker_build_info{version=", "kiosk_ticker_frames_total ",
                         "kiosk_ticker_frames_late_total ", "kiosk_ticker_headlines ",
                         "kiosk_ticker_alerts_active ", "kiosk_ticker_messages_active ",
                         'kiosk_ticker_feed_last_success_timestamp_seconds{feed="local"}',
                         'kiosk_ticker_feed_fetch_failures_total{feed="local"}',
                         'kiosk_ticker_feed_headlines{feed="local"} 2']:
                check(name in text, f"/metrics has {name}")

            # Restart: the messages come back from the cache.
            rc = t.stop()
            check(rc == 0, f"SIGTERM exits 0 ({rc})")
            t = Ticker(tmp, port)
            doc = state(t)
            check(doc["headlines"] and doc["headlines"][0]["title"] == "Lobby closes at 18:00",
                  f"announcement kept over a restart: {doc['headlines'][:1]}")
            check([a["headline"] for a in doc["alerts"]] == ["Fire drill now"],
                  f"alert message kept over a restart: {doc['alerts']}")

            # DELETE one, then --clear all.
            st, _ = curl(t, "DELETE", "/api/v1/messages/closing")
            check(st == 204, f"DELETE 204: {st}")
            check(state(t)["headlines"][0]["title"] == "First headline", "announcement gone")
            p = subprocess.run([TICKER, "-c", t.conf, "--clear", "all"], capture_output=True,
                               text=True, timeout=30)
            check(p.returncode == 0 and state(t)["alerts"] == [], f"--clear all: {p.stderr!r}")
            rc = t.stop()
            check(rc == 0, f"second SIGTERM exits 0 ({rc})")
            # Not reachable: exit 1 with one line.
            p = subprocess.run([TICKER, "-c", t.conf, "--status"], capture_output=True,
                               text=True, timeout=30)
            check(p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and
                  "cannot reach" in p.stderr, f"not reachable: exit 1, one line: {p.stderr!r}")
        finally:
            if t.p.poll() is None:
                t.p.kill()
                t.p.wait()
            with open(os.path.join(tmp, "ticker.log")) as f:
                log = f.read()
            if "error" in log:
                print(log[-2000:])
    finish()


main()
