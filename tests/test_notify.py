"""The running ticker speaks systemd's notify protocol (src/notify.c):

  * READY=1 once, after the first frame is on screen;
  * WATCHDOG=1 every half of $WATCHDOG_USEC while frames are drawn, and
    none while the process is frozen (SIGSTOP), which is how systemd's
    WatchdogSec= restarts a frozen screen;
  * STOPPING=1 on SIGTERM, then exit 0;
  * nothing at all with a watchdog meant for another PID.
Runs on SDL's dummy video driver. Usage: test_notify.py KIOSK_TICKER REPO_ROOT
"""
import os
import pathlib
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from kttest import check, failures, finish, wait_catches

BIN, ROOT = sys.argv[1], pathlib.Path(sys.argv[2])

def receive(sock, seconds):
    """[(monotonic time, message)] received within seconds."""
    got = []
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return got
        r, _, _ = select.select([sock], [], [], left)
        if r:
            got.append((time.monotonic(), sock.recv(4096).decode()))


def receive_ready(sock, seconds):
    """Messages up to and including READY=1 (at most seconds: start-up is
    slower under a sanitizer or an emulator)."""
    got = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and "READY=1" not in [m for _, m in got]:
        got += receive(sock, min(0.1, max(0.0, end - time.monotonic())))
    return got


def start(cfg, env_extra, log):
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
               KT_RENDERER="software")
    env.pop("JOURNAL_STREAM", None)
    env.update(env_extra)
    return subprocess.Popen([BIN, "-c", str(cfg)], stdout=subprocess.DEVNULL, stderr=log,
                            env=env)


with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    shutil.copytree(ROOT / "assets", tmp / "assets")
    (tmp / "config").mkdir()
    conf = (ROOT / "config" / "ticker.conf").read_text(encoding="utf-8")
    conf = conf.replace("#cache = /var/lib/kiosk-ticker/cache.tsv",
                        f"cache = {tmp / 'cache.tsv'}")
    # An API port of its own (the shipped 8089 may be taken by another test).
    conf = conf.replace("listen = 127.0.0.1:8089", "listen = 127.0.0.1:0")
    cfg = tmp / "config" / "ticker.conf"
    cfg.write_text(conf, encoding="utf-8")
    log = open(tmp / "stderr.log", "w+")

    # An abstract socket, as systemd uses.
    name = f"@kt-notify-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name[1:])
    p = start(cfg, {"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "400000"}, log)
    try:
        msgs = receive_ready(sock, 30.0)
        msgs += receive(sock, 3.0)
        texts = [m for _, m in msgs]
        check(texts[:1] == ["READY=1"], f"READY=1 comes first: {texts[:3]}")
        check(texts.count("READY=1") == 1, "READY=1 once")
        pings = [t for t, m in msgs if m == "WATCHDOG=1"]
        # 0.2 s apart over ~3 s: about 15; bounded above by the rate limit.
        print(f"# {len(pings)} watchdog pings in 3 s at WATCHDOG_USEC=400000")
        check(len(pings) >= 5, f"watchdog pings keep coming ({len(pings)})")
        if len(pings) > 1:
            gaps = [b - a for a, b in zip(pings, pings[1:])]
            check(min(gaps) > 0.15, f"pings rate-limited to half the period (min gap "
                                    f"{min(gaps):.3f} s)")

        # Frozen: no pings (systemd would restart it); thawed: pings again.
        p.send_signal(signal.SIGSTOP)
        receive(sock, 0.1)  # anything already in flight
        frozen = receive(sock, 1.0)
        p.send_signal(signal.SIGCONT)
        check(not frozen, f"no pings while frozen: {frozen}")
        thawed = receive(sock, 1.0)
        check(any(m == "WATCHDOG=1" for _, m in thawed), "pings resume after SIGCONT")

        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=10)
        check(rc == 0, f"SIGTERM exits 0 (got {rc})")
        last = [m for _, m in receive(sock, 0.5)]
        check("STOPPING=1" in last, f"STOPPING=1 on SIGTERM: {last}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    sock.close()

    # A watchdog meant for another PID (e.g. a wrapper's): READY, no pings.
    path = tmp / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    p = start(cfg, {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000",
                    "WATCHDOG_PID": "1"}, log)
    try:
        texts = [m for _, m in receive_ready(sock, 30.0) + receive(sock, 1.0)]
        check(texts == ["READY=1"], f"path socket: READY=1 and no pings for PID 1: {texts}")
        p.send_signal(signal.SIGTERM)
        check(p.wait(timeout=10) == 0, "exit 0")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    sock.close()

    # No NOTIFY_SOCKET: runs as before (nothing to check but a clean run).
    p = start(cfg, {}, log)
    wait_catches(p, signal.SIGTERM)
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    check(p.wait(timeout=10) == 0, "without NOTIFY_SOCKET: exit 0")
    if failures():
        log.seek(0)
        print(log.read())

finish()
