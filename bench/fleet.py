#!/usr/bin/env python3
"""A fleet on one machine, measured: a real mosquitto on 127.0.0.1, N real
kiosk-ticker processes (SDL's dummy video driver, a 320x24 window) with
distinct screen ids in five groups, and one tests/http_server.py serving
their feed and their remote config.

  python3 bench/fleet.py --ticker build/kiosk-ticker -n 50     # docs/fleet.md
  python3 bench/fleet.py --ticker build/kiosk-ticker -n 5 --outage 10 --assert

Phases, each printing `figure: NAME = VALUE` lines:
  boot      every screen runs its remote config (log) and, with MQTT, has
            published an online status
  all       a retained message to PREFIX/all/messages/ID: time until every
            screen's status shows it (median, max)
  group     a retained message to group g1: every g1 screen shows it, no
            other screen does
  kill      kill -9 of one screen: its last-will {"online":false} is seen
  outage    the broker stopped for --outage s and restarted: time until
            every screen published a fresh online status with the message
  config    the remote config changed: time until every screen runs it
            (log "remote config ... applied, ETag NEW"); polled with
            config_refresh = 30 s, then pushed with the fleet "reload"
            command
  counts    the broker's ($SYS) and the feed server's request counts
--assert turns a phase that did not complete into a failure (exit 1, the
kttest summary line); without it the figures are printed as far as they
go. The status phases need the fleet wiring (src/app_fleet.c); without a
status from every screen they report "no status" and are skipped.
"""
import argparse
import hashlib
import json
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from kttest import check, finish  # noqa: E402

P = "kiosk-ticker"
CHILDREN = []
ASSERT = False


def figure(name, value):
    print(f"figure: {name} = {value}", flush=True)


def need(cond, what):
    """A phase's outcome: a failed check under --assert, a note otherwise."""
    if ASSERT:
        return check(cond, what)
    if not cond:
        print(f"note: {what}", flush=True)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(cmd, **kw):
    p = subprocess.Popen(cmd, **kw)
    CHILDREN.append(p)
    return p


def stats(values):
    if not values:
        return "none"
    return (f"median {statistics.median(values) * 1000:.0f} ms, "
            f"max {max(values) * 1000:.0f} ms (n={len(values)})")


class Broker:
    def __init__(self, tmp):
        self.tmp, self.port, self.proc = tmp, free_port(), None
        (tmp / "persist").mkdir()
        (tmp / "mosquitto.conf").write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence true\npersistence_location {tmp / 'persist'}/\n"
            f"autosave_interval 1\nsys_interval 1\nmax_queued_messages 10000\n"
            f"log_dest file {tmp / 'broker.log'}\n")

    def start(self):
        self.proc = spawn(["mosquitto", "-c", str(self.tmp / "mosquitto.conf")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 15
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not listen within 15 s")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def pub(self, topic, msg=None, retain=False):
        cmd = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-q", "1",
               "-t", f"{P}/{topic}"] + (["-r"] if retain else []) + (
                   ["-m", msg] if msg is not None else ["-n"])
        t = time.monotonic()
        subprocess.run(cmd, check=True, timeout=30)
        return t

    def sys_counters(self):
        p = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.port), "-v",
                            "-W", "3", "-t", "$SYS/broker/#"], capture_output=True, text=True)
        out = {}
        for line in p.stdout.splitlines():
            k, _, v = line.partition(" ")
            out.setdefault(k.replace("$SYS/broker/", ""), v)
        return out


class Statuses:
    """mosquitto_sub on PREFIX/screen/+/status, reconnecting across the outage."""

    def __init__(self, broker):
        self.broker, self.cv = broker, threading.Condition()
        self.items = []  # (t, retained, screen, payload)
        self.latest = {}
        self.running = True
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while self.running:
            p = spawn(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.broker.port), "-q",
                       "1", "-t", f"{P}/screen/+/status", "-F", "%r\t%t\t%p"],
                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for line in p.stdout:
                r, topic, payload = (line.rstrip("\n").split("\t", 2) + ["", ""])[:3]
                screen = topic.split("/")[-2]
                with self.cv:
                    self.items.append((time.monotonic(), r == "1", screen, payload))
                    self.latest[screen] = payload
                    self.cv.notify_all()
            p.wait()
            time.sleep(0.2)

    def first(self, screens, pred, since, timeout):
        """{screen: time} of the first live status after since that satisfies pred."""
        end = time.monotonic() + timeout
        found = {}
        with self.cv:
            while True:
                for t, r, s, pl in self.items:
                    if s in screens and s not in found and t >= since and pred(s, r, pl):
                        found[s] = t
                if len(found) == len(screens) or time.monotonic() >= end:
                    return found
                self.cv.wait(0.2)


class Ticker:
    def __init__(self, tmp, binary, i, group, http, broker, mqtt):
        self.id, self.group = f"s{i:03d}", group
        d = tmp / self.id
        d.mkdir()
        self.log_path = d / "log"
        fleet = (f"mqtt = mqtt://127.0.0.1:{broker.port}\ngroups = {group}\nkeepalive = 10\n"
                 if mqtt else "")
        (d / "local.conf").write_text(
            f"[ticker]\ncache = {d}/cache.tsv\nrefresh = 5m\n"
            f"[display]\nmode = window\nsize = 320x24\nfont_size = 12\n"
            f"[feed news]\nurl = {http}/feed/news\n"
            f"[fleet]\nscreen_id = {self.id}\n{fleet}"
            f"config_url = {http}/feed/fleet-conf?screen=%i\nconfig_refresh = 30s\n")
        env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
                   KT_RENDERER="software")
        for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(k, None)
        self.log = open(self.log_path, "w")
        self.proc = spawn([binary, "-c", str(d / "local.conf")], stdout=subprocess.DEVNULL,
                          stderr=self.log, env=env)

    def text(self):
        return self.log_path.read_text(errors="replace")


def post(base, path, body, ctype="text/plain"):
    req = urllib.request.Request(base + path, data=body.encode(), method="POST",
                                 headers={"Content-Type": ctype})
    urllib.request.urlopen(req, timeout=10).read()


def http_stats(base):
    with urllib.request.urlopen(base + "/stats", timeout=10) as r:
        return json.load(r)["paths"]


def etag_of(body):
    return '"%s"' % hashlib.sha1(body.encode()).hexdigest()[:16]


def wait_logs(tickers, needle, timeout, t0):
    """{ticker id: seconds after t0} for tickers whose log shows needle."""
    end = time.monotonic() + timeout
    seen = {}
    while time.monotonic() < end and len(seen) < len(tickers):
        for t in tickers:
            if t.id not in seen and needle in t.text():
                seen[t.id] = time.monotonic() - t0
        time.sleep(0.1)
    return seen


def conf_text(http, word):
    return (f"[feed extra]\nurl = {http}/feed/{word}\nlabel = {word}\n")


def run(args):
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kt-fleet-"))
    print(f"# work directory {tmp}", flush=True)
    srv = spawn([sys.executable, str(HERE.parent / "tests" / "http_server.py")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    http = f"http://127.0.0.1:{int(srv.stdout.readline())}"
    rss = (HERE.parent / "tests" / "data" / "http" / "ok.xml").read_text()
    for word in ("news", "one", "two", "three"):
        post(http, f"/set/{word}", rss.replace("OK ", word + " ").replace("item/", word + "/"),
             "application/rss+xml")
    body = conf_text(http, "one")
    post(http, "/set/fleet-conf", body)

    broker = Broker(tmp)
    broker.start()
    statuses = Statuses(broker)
    groups = [f"g{g}" for g in range(1, 6)]
    t0 = time.monotonic()
    tickers = [Ticker(tmp, args.ticker, i, groups[i % 5], http, broker, not args.no_mqtt)
               for i in range(1, args.n + 1)]
    ids = {t.id for t in tickers}

    # ---- boot ----
    seen = wait_logs(tickers, "remote config from", 60, t0)
    need(len(seen) == len(tickers), f"boot: {len(seen)}/{len(tickers)} run the remote config")
    figure(f"boot to remote config running, N={args.n}", stats(list(seen.values())))
    online = statuses.first(ids, lambda s, r, pl: '"online":true' in pl.replace(" ", ""), t0,
                            30 if not args.no_mqtt else 0)
    figure(f"boot to online status, N={args.n}", stats([v - t0 for v in online.values()]))
    mqtt = len(online) == len(ids)
    need(mqtt, f"online status from {len(online)}/{len(ids)} screens (fleet wiring?)")
    time.sleep(2)
    cpu = [0.0]

    def cpu_of(pids):
        total = 0
        for pid in pids:
            try:
                f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                total += int(f[11]) + int(f[12])
            except OSError:
                pass
        return total / os.sysconf("SC_CLK_TCK")

    c0, w0 = cpu_of([t.proc.pid for t in tickers]), time.monotonic()
    time.sleep(5)
    cpu[0] = (cpu_of([t.proc.pid for t in tickers]) - c0) / (time.monotonic() - w0)
    figure(f"CPU of {args.n} idle screens", f"{cpu[0] * 100:.0f} % of one core "
           f"({cpu[0] * 100 / args.n:.1f} % each)")

    if mqtt:
        # ---- all ----
        mid = f"sim-all-{os.getpid()}"
        t = broker.pub(f"all/messages/{mid}", json.dumps(
            {"text": "Fleet test: a message to every screen", "duration": "1h"}), retain=True)
        got = statuses.first(ids, lambda s, r, pl: mid in pl, t, 60)
        need(len(got) == len(ids), f"all: {len(got)}/{len(ids)} screens show the message")
        figure("retained message to all -> every status shows it",
               stats([v - t for v in got.values()]))

        # ---- group ----
        gid = f"sim-g1-{os.getpid()}"
        g1 = {x.id for x in tickers if x.group == "g1"}
        t = broker.pub(f"group/g1/messages/{gid}", json.dumps(
            {"text": "Fleet test: group g1 only", "duration": "1h"}), retain=True)
        got = statuses.first(g1, lambda s, r, pl: gid in pl, t, 60)
        need(len(got) == len(g1), f"group: {len(got)}/{len(g1)} g1 screens show it")
        figure("retained message to one group -> its screens show it",
               stats([v - t for v in got.values()]))
        time.sleep(3)
        others = statuses.first(ids - g1, lambda s, r, pl: gid in pl, t, 0)
        need(not others, f"group: screens outside g1 show it: {sorted(others)}")

        # ---- kill ----
        victim = tickers[-1]
        t = time.monotonic()
        victim.proc.send_signal(signal.SIGKILL)
        got = statuses.first({victim.id}, lambda s, r, pl: '"online":false' in
                             pl.replace(" ", ""), t, 30)
        need(bool(got), f"kill: last-will of {victim.id} seen")
        if got:
            figure("kill -9 -> last-will seen", f"{(got[victim.id] - t) * 1000:.0f} ms")
        alive = ids - {victim.id}

        # ---- outage ----
        # A fresh status is one that differs from the last before the stop
        # (its uptime and time moved): live, or retained when it was
        # published before the watcher had subscribed again.
        with statuses.cv:
            before = dict(statuses.latest)
        c = broker.sys_counters()  # $SYS counts restart with the broker
        for k in ("clients/connected", "publish/messages/received", "publish/messages/sent",
                  "bytes/received", "bytes/sent", "retained messages/count"):
            if k in c:
                figure(f"broker {k} (before the outage)", c[k])
        broker.stop()
        t_stop = time.monotonic()
        time.sleep(args.outage)
        broker.start()
        t = time.monotonic()
        figure("broker outage", f"{t - t_stop:.1f} s")
        got = statuses.first(alive, lambda s, r, pl: pl != before.get(s) and mid in pl and
                             (s not in g1 or gid in pl), t, 150)
        need(len(got) == len(alive), f"outage: {len(got)}/{len(alive)} back online")
        figure("broker restarted -> every screen back online with its messages",
               stats([v - t for v in got.values()]))
        tickers.remove(victim)

    # ---- config (polled) ----
    body = conf_text(http, "two")
    post(http, "/set/fleet-conf", body)
    t = time.monotonic()
    seen = wait_logs(tickers, f"ETag {etag_of(body)}", 90, t)
    need(len(seen) == len(tickers), f"config: {len(seen)}/{len(tickers)} run the new config")
    figure("remote config changed -> every screen runs it (config_refresh = 30 s)",
           stats(list(seen.values())))
    if mqtt:
        body = conf_text(http, "three")
        post(http, "/set/fleet-conf", body)
        t = broker.pub("all/command", json.dumps({"command": "reload"}))
        seen = wait_logs(tickers, f"ETag {etag_of(body)}", 60, t)
        need(len(seen) == len(tickers), f"reload: {len(seen)}/{len(tickers)} run it")
        figure("remote config changed + reload command to all -> every screen runs it",
               stats(list(seen.values())))

    # ---- counts ----
    st = http_stats(http)
    elapsed = time.monotonic() - t0
    for path in ("/feed/fleet-conf", "/feed/news"):
        s = st.get(path, {"requests": 0, "not_modified": 0})
        figure(f"feed server {path}", f"{s['requests']} requests ({s['not_modified']} 304) "
               f"in {elapsed:.0f} s")
    if not args.no_mqtt:
        c = broker.sys_counters()
        for k in ("clients/maximum", "messages/received", "messages/sent",
                  "publish/messages/received", "publish/messages/sent", "bytes/received",
                  "bytes/sent", "retained messages/count"):
            if k in c:
                figure(f"broker {k} (since restart)", c[k])
    crashed = [x.id for x in tickers if x.proc.poll() is not None]
    check(not crashed, f"no screen exited: {crashed}")
    for x in tickers:
        x.proc.send_signal(signal.SIGTERM)
    rcs = [x.proc.wait(30) for x in tickers]
    check(all(rc == 0 for rc in rcs), f"every screen exits 0 on SIGTERM: {rcs}")
    statuses.running = False
    srv.stdin.close()


def main():
    global ASSERT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ticker", required=True)
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--outage", type=float, default=30)
    ap.add_argument("--no-mqtt", action="store_true", help="remote config only")
    ap.add_argument("--assert", dest="assert_", action="store_true")
    args = ap.parse_args()
    ASSERT = args.assert_
    try:
        run(args)
    finally:
        for p in CHILDREN:
            if p.poll() is None:
                p.kill()
                p.wait()
    finish()


main()
