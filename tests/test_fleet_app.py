"""The ticker in a fleet (src/app_fleet.c): the real binary on SDL's dummy
driver against a real mosquitto (anonymous, on a free port of 127.0.0.1)
and tests/http_server.py, driven with mosquitto_pub / mosquitto_sub as an
operator would (docs/fleet.md).

  - a retained status with online, screen_id, version, uptime, the config
    source and its ETag, frames; republished on change
  - a retained message to all, to the screen's group and to the screen
    itself: each shows in the status; one to another group does not; an
    empty payload removes it; a malformed one is logged once and ignored
  - commands: refetch (the feed is asked again), reload (the remote config
    is asked again), screenshot (a PNG on PREFIX/screen/ID/screenshot)
  - SIGTERM: {"online": false}, exit 0
Usage: test_fleet_app.py KIOSK_TICKER HTTP_SERVER_SCRIPT [screenshot]
(with "screenshot" only the screenshot command is checked: it needs the
render thread's capture hook in display.c)
"""
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from kttest import check, finish, free_port

BIN, SERVER = sys.argv[1], sys.argv[2]
SHOT = sys.argv[3:] == ["screenshot"]
SCALE = max(1.0, float(os.environ.get("KT_TEST_TIME_SCALE", "1")))
P = "kiosk-ticker"
DATA = pathlib.Path(SERVER).parent / "data" / "http" / "ok.xml"
CHILDREN = []


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    CHILDREN.append(p)
    return p




class Watch:
    def __init__(self, port, topic):
        self.items, self.cv = [], threading.Condition()
        self.proc = spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                           "-t", topic, "-F", "%r\t%t\t%p"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self.read, daemon=True).start()
        time.sleep(0.3)

    def read(self):
        for line in self.proc.stdout:
            r, t, p = (line.rstrip("\n").split("\t", 2) + ["", ""])[:3]
            with self.cv:
                self.items.append((time.monotonic(), r == "1", t, p))
                self.cv.notify_all()

    def wait(self, pred, since=0.0, timeout=15.0):
        end = time.monotonic() + timeout * SCALE
        with self.cv:
            while True:
                for t, r, topic, p in self.items:
                    if t >= since and pred(p):
                        return p
                if time.monotonic() >= end:
                    return None
                self.cv.wait(0.2)


def main():
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kt-fleet-app-"))
    port = free_port()
    (tmp / "m.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    spawn(["mosquitto", "-c", str(tmp / "m.conf")], stdout=subprocess.DEVNULL,
          stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    srv = spawn([sys.executable, SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True)
    base = f"http://127.0.0.1:{int(srv.stdout.readline())}"

    def post(path, body, ctype="text/plain"):
        urllib.request.urlopen(urllib.request.Request(
            base + path, data=body.encode(), method="POST",
            headers={"Content-Type": ctype}), timeout=10).read()

    def requests(path):
        with urllib.request.urlopen(base + "/stats", timeout=10) as r:
            return json.load(r)["paths"].get(path, {}).get("requests", 0)

    post("/set/news", DATA.read_text(), "application/rss+xml")
    post("/set/conf", "[display]\nspeed = 40\n")
    (tmp / "local.conf").write_text(
        f"[ticker]\ncache = {tmp}/cache.tsv\n"
        "[display]\nmode = window\nsize = 320x32\nfont_size = 16\n"
        f"[feed news]\nurl = {base}/feed/news\n"
        f"[fleet]\nmqtt = mqtt://127.0.0.1:{port}\nscreen_id = lobby-1\n"
        f"groups = lobby\nkeepalive = 5\nconfig_url = {base}/feed/conf\n")
    status = Watch(port, f"{P}/screen/lobby-1/status")
    log = open(tmp / "log", "w+")
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
               KT_RENDERER="software")
    for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        env.pop(k, None)
    tk = spawn([BIN, "-c", str(tmp / "local.conf")], stdout=subprocess.DEVNULL, stderr=log,
               env=env)

    def pub(topic, msg=None, retain=True):
        t = time.monotonic()
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t",
                        f"{P}/{topic}"] + (["-r"] if retain else []) +
                       (["-m", msg] if msg is not None else ["-n"]), check=True, timeout=30)
        return t

    def logtext():
        log.flush()
        return (tmp / "log").read_text(errors="replace")

    def screenshot():
        shot = tmp / "shot.png"
        with open(shot, "wb") as out:
            sub = spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-C", "1", "-N",
                         "-t", f"{P}/screen/lobby-1/screenshot"], stdout=out)
            time.sleep(0.3)
            pub("all/command", json.dumps({"command": "screenshot"}), retain=False)
            try:
                sub.wait(20 * SCALE)
            except subprocess.TimeoutExpired:
                pass
        data = shot.read_bytes()
        check(data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 100,
              f"a PNG is published ({len(data)} bytes): {logtext()[-800:]}")

    try:
        doc = status.wait(lambda p: '"etag"' in p and '"online":true' in p.replace(" ", ""),
                          timeout=30)
        check(doc is not None, f"an online status with the remote config's ETag: {logtext()}")
        if SHOT:
            return screenshot()
        st = json.loads(doc or "{}")
        check(st.get("screen_id") == "lobby-1", f"screen_id: {doc}")
        for k in ("version", "uptime", "config", "frames", "late_frames"):
            check(k in st, f"status has {k}: {doc}")

        for scope, mid in (("all", "m-all"), ("group/lobby", "m-group"),
                           ("screen/lobby-1", "m-screen")):
            t = pub(f"{scope}/messages/{mid}", json.dumps({"text": f"Text of {mid}",
                                                           "duration": "1h"}))
            check(status.wait(lambda p, m=mid: m in p, t) is not None,
                  f"a message to {scope} shows in the status")
        t = pub("group/other/messages/m-other", json.dumps({"text": "not ours"}))
        time.sleep(2.5)
        check(status.wait(lambda p: "m-other" in p, t, timeout=0) is None,
              "a message to another group does not")
        t = pub("all/messages/m-all")
        check(status.wait(lambda p: "m-all" not in p and "m-group" in p, t) is not None,
              "an empty retained payload removes the message")
        pub("all/messages/bad", "{not json")
        pub("all/messages/bad", "{still not json")
        time.sleep(1.5)
        check(logtext().count("kiosk-ticker/all/messages/bad") == 1,
              f"a malformed payload is logged once: {logtext()[-1500:]}")
        check(tk.poll() is None, "still running")

        n = requests("/feed/news")
        pub("screen/lobby-1/command", json.dumps({"command": "refetch"}), retain=False)
        end = time.monotonic() + 15 * SCALE
        while requests("/feed/news") <= n and time.monotonic() < end:
            time.sleep(0.1)
        check(requests("/feed/news") > n, "refetch asks the feed again")

        n = requests("/feed/conf")
        pub("group/lobby/command", json.dumps({"command": "reload"}), retain=False)
        end = time.monotonic() + 15 * SCALE
        while requests("/feed/conf") <= n and time.monotonic() < end:
            time.sleep(0.1)
        check(requests("/feed/conf") > n, "reload asks the remote config again")

    finally:
        t = time.monotonic()
        tk.send_signal(signal.SIGTERM)
        try:
            rc = tk.wait(10 * SCALE)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, f"SIGTERM exits 0 ({rc})")
        check(status.wait(lambda p: '"online":false' in p.replace(" ", ""), t, 5) is not None,
              "the offline status is published at exit")
        for p in CHILDREN:
            if p.poll() is None:
                p.kill()
                p.wait()
        finish()  # here too after the screenshot part's early return


main()
