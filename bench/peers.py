#!/usr/bin/env python3
"""Side by side: kiosk-ticker, tickr and Chromium scrolling the same strip.

One Xvfb screen of 1920x1080; each ticker shows the same 20 headlines in a
1920x96 strip at the bottom at about 120 px/s, fed from 127.0.0.1. Each run
starts the ticker, lets it settle, then measures over a window:

  cpu_pct   CPU time of the ticker's whole process tree (descendants and its
            session: Chromium's renderer, GPU and utility processes) over
            the window, in % of one core
  pss_mib   the tree's proportional set size (smaps_rollup), median of
            samples taken during the window
  xvfb_cpu_pct  the X server's CPU over the same window (reported, not
            counted: it is the same server for all three)
  speed_px_s    the measured scrolling speed (two screen captures after
            the window), to show the three do the same work

Runs are interleaved (kiosk-ticker, tickr, chromium, then again) so a
machine's load drifts over all three alike; each figure is the median of the
runs. Prints key=value lines (peer_NAME_FIGURE) and a Markdown table.

Peers are configured for their cheapest faithful look: tickr without clock,
shadow or gradient, moving 2 px every 16 ms (its timer-driven equivalent of
2 px per frame at 60 Hz); Chromium in kiosk mode, GPU off (no GPU here),
showing a page whose strip is moved by a CSS transform animation on the
compositor (no layout per frame).
"""
import argparse
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import make_docs  # noqa: E402

SCREEN_W, SCREEN_H = 1920, 1080
STRIP_Y = SCREEN_H - make_docs.STRIP_H
TICKR_INSTANCE = "37"  # tickr keeps per-instance files in ~/.tickr; ours end in 37


def write_inputs(work):
    www = os.path.join(work, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "feed.xml"), "w", encoding="utf-8") as f:
        f.write(make_docs.make_rss(20, 120))
    with open(os.path.join(www, "ticker.html"), "w", encoding="utf-8") as f:
        f.write(make_docs.make_page())
    return www


class KioskTicker:
    name = "kiosk_ticker"
    title = "kiosk-ticker"

    def __init__(self, binary, work, feed_url):
        self.binary = binary
        self.work = work
        self.conf = os.path.join(work, "kt.conf")
        self.cache = os.path.join(work, "kt-cache.tsv")
        args = argparse.Namespace(feed=feed_url, cache=self.cache, max_items=100,
                                  mode="fullscreen", size=f"{SCREEN_W}x{SCREEN_H}")
        with open(self.conf, "w") as f:
            f.write(make_docs.make_conf(args))

    def available(self):
        return os.access(self.binary, os.X_OK)

    def start(self, x):
        # A cold start every run: no cache, the feed fetched from 127.0.0.1.
        if os.path.exists(self.cache):
            os.unlink(self.cache)
        return subprocess.Popen([self.binary, "-q", "-c", self.conf], env=x.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)

    def cleanup(self):
        pass


class Tickr:
    name = "tickr"
    title = "tickr"

    def __init__(self, work, feed_url):
        self.work = work
        self.feed_url = feed_url
        # tickr finds its files by the user's passwd home, not $HOME.
        self.dir = os.path.join(pwd.getpwuid(os.getuid()).pw_dir, ".tickr")
        self.created_dir = False
        self.before = set()

    def available(self):
        return shutil.which("tickr") is not None

    def start(self, x):
        if not os.path.isdir(self.dir):
            os.makedirs(self.dir)
            self.created_dir = True
        if not self.before:
            self.before = set(os.listdir(self.dir)) | {"-"}
        with open(os.path.join(self.dir, "tickr-url-list" + TICKR_INSTANCE), "w") as f:
            f.write(self.feed_url + "\n")
        args = [
            "tickr", f"-instance-id={TICKR_INSTANCE}", "-no-ui", "-disablepopups=y",
            "-win_x=0", f"-win_y={STRIP_Y}", f"-win_w={SCREEN_W}",
            f"-win_h={make_docs.STRIP_H}", "-windec=n", "-alwaysontop=y",
            "-fontname=DejaVu Sans Bold", "-fgcolor=#ffffffff", "-bgcolor=#101820ff",
            "-setgradientbg=n", "-shadow=n", "-clock=n", "-feedtitle=n",
            "-itemdescription=n", "-itemtitle=y", "-delay=16", "-shiftsize=2",
            "-linedelimiter=  •  ", self.feed_url,
        ]
        return subprocess.Popen(args, env=x.env(HOME=self.work), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    def cleanup(self):
        # Only the files this run made: a user's own tickr setup stays.
        if not os.path.isdir(self.dir):
            return
        for n in os.listdir(self.dir):
            if n not in self.before and n.endswith(TICKR_INSTANCE):
                os.unlink(os.path.join(self.dir, n))
        if self.created_dir and not os.listdir(self.dir):
            os.rmdir(self.dir)


class Chromium:
    name = "chromium"
    title = "Chromium (kiosk, CSS transform)"

    def __init__(self, work, page_url):
        self.work = work
        self.page_url = page_url

    def available(self):
        return shutil.which("chromium") is not None

    def start(self, x):
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.work)
        args = [
            "chromium", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--kiosk", "--no-default-browser-check",
            "--noerrdialogs", "--password-store=basic", "--ozone-platform=x11",
            "--disable-features=Translate,MediaRouter", "--window-position=0,0",
            f"--window-size={SCREEN_W},{SCREEN_H}", self.page_url,
        ]
        return subprocess.Popen(args, env=x.env(HOME=profile), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    def cleanup(self):
        pass


def measure(peer, x, settle, window, speed):
    proc = peer.start(x)
    try:
        time.sleep(settle)
        if proc.poll() is not None:
            raise RuntimeError(f"{peer.title} exited during the settle time")
        c0, x0, t0 = benchlib.tree_cpu_s(proc.pid), x.cpu_s(), time.monotonic()
        pss = []
        end = t0 + window
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(left, max(1.0, window / 6)))
            pss.append(benchlib.tree_pss_kib(proc.pid))
        c1, x1, t1 = benchlib.tree_cpu_s(proc.pid), x.cpu_s(), time.monotonic()
        procs = len(benchlib.tree(proc.pid))
        px_s = (benchlib.measure_speed(x.display, 0, STRIP_Y + 24, SCREEN_W, 48)
                if speed else 0.0)
    finally:
        benchlib.stop(proc)
        peer.cleanup()
    dt = t1 - t0
    return {
        "cpu_pct": 100.0 * (c1 - c0) / dt,
        "pss_mib": benchlib.median(pss) / 1024.0,
        "xvfb_cpu_pct": 100.0 * (x1 - x0) / dt,
        "speed_px_s": px_s,
        "procs": procs,
    }


def main():
    ap = argparse.ArgumentParser(description="side-by-side CPU and memory of three tickers")
    ap.add_argument("--kiosk-ticker", required=True, help="the kiosk-ticker binary")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--settle", type=float, default=5.0)
    ap.add_argument("--window", type=float, default=30.0)
    ap.add_argument("--no-speed", action="store_true", help="skip the speed captures")
    ap.add_argument("--require-all", action="store_true",
                    help="fail when tickr or chromium is missing (else: reported missing)")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="kt-peers-")
    www = write_inputs(work)
    server = benchlib.Server(www)
    x = None
    try:
        x = benchlib.Xvfb(f"{SCREEN_W}x{SCREEN_H}")
        peers = [KioskTicker(os.path.abspath(a.kiosk_ticker), work, server.url("feed.xml")),
                 Tickr(work, server.url("feed.xml")),
                 Chromium(work, server.url("ticker.html"))]
        live = []
        for p in peers:
            if p.available():
                live.append(p)
            elif a.require_all or p.name == "kiosk_ticker":
                print(f"peers.py: {p.title} is not installed", file=sys.stderr)
                return 1
            else:
                benchlib.kv(f"peer_{p.name}", "missing")
        benchlib.note(f"peers: {a.reps} run(s) each, {a.settle:g} s settle, "
                      f"{a.window:g} s window, Xvfb {x.display} {SCREEN_W}x{SCREEN_H}")
        runs = {p.name: [] for p in live}
        for rep in range(a.reps):
            for p in live:
                r = measure(p, x, a.settle, a.window, not a.no_speed)
                runs[p.name].append(r)
                benchlib.note(f"run {rep + 1} {p.title}: cpu {r['cpu_pct']:.2f} %, "
                              f"pss {r['pss_mib']:.1f} MiB, {r['procs']} processes, "
                              f"xvfb {r['xvfb_cpu_pct']:.2f} %, "
                              f"{r['speed_px_s']:.0f} px/s")
        res = {}
        for p in live:
            res[p.name] = {k: benchlib.median([r[k] for r in runs[p.name]])
                           for k in runs[p.name][0]}
            for k, v in res[p.name].items():
                benchlib.kv(f"peer_{p.name}_{k}", f"{v:.0f}" if k == "procs" else f"{v:.2f}")
        kt = res["kiosk_ticker"]
        for name in ("tickr", "chromium"):
            if name in res:
                o = res[name]
                benchlib.kv(f"peer_{name}_cpu_x", f"{o['cpu_pct'] / max(kt['cpu_pct'], 1e-9):.1f}")
                benchlib.kv(f"peer_{name}_pss_x", f"{o['pss_mib'] / max(kt['pss_mib'], 1e-9):.1f}")
        print()
        print("| ticker | CPU (% of one core) | memory (PSS, MiB) | processes | measured speed |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for p in live:
            r = res[p.name]
            speed = f"{r['speed_px_s']:.0f} px/s" if r["speed_px_s"] else "–"
            print(f"| {p.title} | {r['cpu_pct']:.2f} | {r['pss_mib']:.1f} | {r['procs']:.0f} "
                  f"| {speed} |")
        print()
        return 0
    finally:
        if x:
            x.close()
        server.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
