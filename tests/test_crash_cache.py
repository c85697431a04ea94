"""Crash and disk faults of the cache, on the real program.

  test_crash_cache.py kill KIOSK_TICKER [KILLS]
    kill -9 at random moments while `--fetch-once` saves the cache, with the
    feeds changing on every run. KT_CACHE_WRITE_DELAY_MS (src/cache.c) holds
    the finished temporary file open for a while before the rename, so kills
    land in every phase: before the write, with the temporary file written,
    around the rename, after it. Every time, the file on disk must be
    exactly the old cache or a valid new one (checked byte for byte, by an
    independent reader of the format with its CRC, and by the ticker itself
    loading it with the feeds gone), and the next start must remove the
    dead process's temporary file. At least KILLS (default 100) kills must
    land inside the write window.

  test_crash_cache.py disk-full KIOSK_TICKER
    the cache directory on a 64 KiB tmpfs that is full. `--fetch-once` and
    the running ticker: one clear error line per failed save ("cache not
    saved: PATH: No space left on device"), the previous cache file intact,
    no temporary file left, the new headlines still printed / the screen
    still drawing (its systemd watchdog pings go on), a clean exit; after
    space is freed, the next save works. Needs root or user namespaces for
    the mount (run in a private mount namespace via unshare(1)); exits 77,
    with the reason, when it cannot mount one.
"""
import os
import pathlib
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib

from kttest import check, finish

MODE, BIN = sys.argv[1], sys.argv[2]
FEEDS = ("north", "south", "west")


def env(**extra):
    e = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
             KT_RENDERER="software")
    e.pop("JOURNAL_STREAM", None)
    e.pop("NOTIFY_SOCKET", None)
    e.update(extra)
    return e


def parse_cache(data):
    """An independent reader of the cache format (src/cache.c): returns
    {feed: [titles]} or raises ValueError. Checks magic, end line, record
    count and CRC-32 before believing any record. Version 3 (2 plus message records) keeps a feed's
    entries as parsed ("entry" records, title first; these feeds' titles
    are plain text, so as shown) or, for older state, its headlines
    ("item" records, as version 1 did)."""
    if not data.startswith(b"kiosk-ticker-cache 3\n"):
        raise ValueError("bad magic")
    if not data.endswith(b"\n"):
        raise ValueError("no final newline")
    body, _, end = data[:-1].rpartition(b"\n")
    m = re.fullmatch(rb"end (\d+) ([0-9a-f]{8})", end)
    if not m:
        raise ValueError(f"bad end line {end!r}")
    body += b"\n"
    if zlib.crc32(body) != int(m.group(2), 16):
        raise ValueError("CRC mismatch")
    lines = body.decode("utf-8").split("\n")[1:-1]
    if len(lines) != int(m.group(1)):
        raise ValueError("record count mismatch")
    feeds, cur = {}, None
    for line in lines:
        f = line.split("\t")
        if f[0] == "feed" and len(f) == 7:
            cur = feeds.setdefault(f[1], [])
        elif f[0] == "item" and len(f) == 5 and cur is not None:
            cur.append(f[1])
        elif f[0] == "entry" and len(f) == 7 and cur is not None:
            cur.append(f[1])
        else:
            raise ValueError(f"bad record {line!r}")
    return feeds


def write_feeds(feed_dir, gen, size=4):
    for name in FEEDS:
        items = "".join(f"<item><title>Gen {gen} {name} headline {k}</title>"
                        f"<link>https://example.org/{name}/{gen}/{k}</link></item>\n"
                        for k in range(size))
        (feed_dir / f"{name}.xml").write_text(
            f'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>{name}</title>\n'
            f"{items}</channel></rss>\n", encoding="utf-8")


def gen_titles(gen, size=4):
    return {f"Gen {gen} {name} headline {k}" for name in FEEDS for k in range(size)}


def write_config(path, feed_dir, cache):
    text = f"[ticker]\ncache = {cache}\norder = feeds\nrefresh = 30s\n"
    for name in FEEDS:
        text += f"[feed {name}]\nurl = {feed_dir / (name + '.xml')}\n"
    text += "[display]\nmode = window\nsize = 640x64\nfont_size = 24\n"
    path.write_text(text, encoding="utf-8")


def shown_titles(out):
    return {line.split("\t")[1] for line in out.splitlines() if line.count("\t") >= 3}


# ---------------------------------------------------------------- kill -9

def run_kills(want):
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kt-crash-"))
    try:
        feed_dir = tmp / "feeds"
        feed_dir.mkdir()
        state = tmp / "state"
        cache = state / "cache.tsv"
        cfg = tmp / "ticker.conf"
        write_config(cfg, feed_dir, cache)
        write_feeds(feed_dir, 0)
        p = subprocess.run([BIN, "-c", str(cfg), "--fetch-once"], capture_output=True,
                           text=True, env=env(), timeout=60)
        check(p.returncode == 0 and cache.exists(), f"first save ({p.stderr.strip()})")
        old_bytes, old_gen = cache.read_bytes(), 0

        # How long a whole run takes with the delay, for the uniform kills.
        delay_ms = 60
        t0 = time.monotonic()
        write_feeds(feed_dir, 1)
        subprocess.run([BIN, "-c", str(cfg), "--fetch-once"], capture_output=True, env=env(
            KT_CACHE_WRITE_DELAY_MS=str(delay_ms)), timeout=60)
        run_s = time.monotonic() - t0
        old_bytes, old_gen = cache.read_bytes(), 1

        rng = random.Random(int(os.environ.get("KT_CRASH_SEED", "6")))
        stats = {"kills": 0, "in_write": 0, "completed": 0, "old": 0, "new": 0,
                 "stale_tmp_removed": 0}
        gen = 1
        attempts = 0
        while stats["in_write"] < want and attempts < want * 4:
            attempts += 1
            gen += 1
            write_feeds(feed_dir, gen)
            proc = subprocess.Popen([BIN, "-c", str(cfg), "--fetch-once"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=env(KT_CACHE_WRITE_DELAY_MS=str(delay_ms)))
            tmpname = state / f"cache.tsv.tmp.{proc.pid}"
            if attempts % 2:
                # Aimed: once the temporary file exists, somewhere in the rest
                # of the save (write, fsync, the delay, rename, exit).
                end = time.monotonic() + 10
                while not tmpname.exists() and proc.poll() is None and time.monotonic() < end:
                    time.sleep(0.0005)
                time.sleep(rng.uniform(0, (delay_ms + 15) / 1000))
            else:
                # Uniform over the whole run, start-up included.
                time.sleep(rng.uniform(0, run_s * 1.1))
            in_write = tmpname.exists()
            proc.send_signal(signal.SIGKILL)
            rc = proc.wait()
            if rc == 0:
                stats["completed"] += 1
            else:
                check(rc == -signal.SIGKILL, f"killed by SIGKILL (rc {rc})")
                stats["kills"] += 1
                stats["in_write"] += in_write

            data = cache.read_bytes()
            try:
                parsed = parse_cache(data)
                titles = {t for items in parsed.values() for t in items}
            except ValueError as e:
                check(False, f"attempt {attempts}: cache broken after kill: {e}")
                titles = set()
            if data == old_bytes:
                stats["old"] += 1
                want_titles = gen_titles(old_gen)
            else:
                stats["new"] += 1
                want_titles = gen_titles(gen)
            check(titles == want_titles,
                  f"attempt {attempts}: cache is neither the old nor the new one")

            # The ticker's own loader, with the feeds gone: it shows exactly
            # what the cache holds, and removes the dead save's temporary file.
            feed_dir.rename(tmp / "feeds.off")
            p = subprocess.run([BIN, "-c", str(cfg), "--fetch-once"], capture_output=True,
                               text=True, env=env(), timeout=60)
            (tmp / "feeds.off").rename(feed_dir)
            check(p.returncode == 0 and "cache ignored" not in p.stderr,
                  f"attempt {attempts}: cache loads ({p.stderr.strip()[:200]})")
            check(shown_titles(p.stdout) == want_titles,
                  f"attempt {attempts}: loaded headlines are one generation")
            if in_write:
                stats["stale_tmp_removed"] += not tmpname.exists()
            leftovers = [f.name for f in state.iterdir() if ".tmp." in f.name]
            check(not leftovers, f"attempt {attempts}: temporary files left: {leftovers}")
            if data != old_bytes:
                old_bytes, old_gen = data, gen

        print(f"crash_attempts={attempts}")
        for k, v in stats.items():
            print(f"crash_{k}={v}")
        print(f"crash_run_ms={run_s * 1000:.0f}")
        print(f"crash_write_delay_ms={delay_ms}")
        check(stats["in_write"] >= want,
              f"{stats['in_write']} kills inside the write window, want {want}")
        check(stats["old"] > 0 and stats["new"] > 0, "kills left both old and new caches")
        check(stats["stale_tmp_removed"] == stats["in_write"],
              "every dead save's temporary file removed at the next start")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- disk full

def in_private_mount_namespace():
    """Re-runs this script under unshare(1) in a private mount namespace (so
    the tmpfs vanishes with it, whatever happens). Returns only when already
    inside one; exits 77 when no namespace can be had."""
    if os.environ.get("KT_CRASH_UNSHARED") == "1":
        return
    unshare = shutil.which("unshare")
    if not unshare:
        print("SKIP: unshare(1) not found (util-linux)")
        sys.exit(77)
    cmd = [unshare, "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        cmd += ["--map-root-user"]
    e = dict(os.environ, KT_CRASH_UNSHARED="1")
    probe = subprocess.run(cmd + ["true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"SKIP: cannot make a private mount namespace: {probe.stderr.strip()}"
              " (needs root or user namespaces)")
        sys.exit(77)
    sys.exit(subprocess.run(cmd + [sys.executable] + sys.argv, env=e).returncode)


def crafted_cache(feed_dir, last_success):
    """A valid cache written long ago: the ticker restores it, finds it stale
    and refreshes (and tries to save) at once."""
    body = "kiosk-ticker-cache 1\n"
    n = 0
    for name in FEEDS:
        body += f"feed\t{name}\t{feed_dir / (name + '.xml')}\t\\N\t\\N\t{last_success}\t0\n"
        body += f"item\tOld {name} headline\t\\N\t0\t{last_success}\n"
        n += 2
    data = body.encode()
    return data + f"end {n} {zlib.crc32(data):08x}\n".encode()


def receive(sock, seconds):
    got, end = [], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if select.select([sock], [], [], left)[0]:
            got.append(sock.recv(4096).decode())
    return got


def run_disk_full():
    in_private_mount_namespace()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kt-diskfull-"))
    mnt = tmp / "state"
    mnt.mkdir()
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if m.returncode != 0:
        print(f"SKIP: cannot mount a tmpfs: {m.stderr.strip()}")
        sys.exit(77)
    try:
        feed_dir = tmp / "feeds"
        feed_dir.mkdir()
        cache = mnt / "cache.tsv"
        cfg = tmp / "ticker.conf"
        write_config(cfg, feed_dir, cache)
        old = crafted_cache(feed_dir, int(time.time()) - 2 * 86400)
        cache.write_bytes(old)
        # Fill the rest of the disk.
        fd = os.open(mnt / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        os.close(fd)
        write_feeds(feed_dir, 7, size=30)
        errline = re.compile(rf"cache not saved: {re.escape(str(cache))}: No space left on device$")

        # --fetch-once: new headlines printed, one error line, old file kept.
        p = subprocess.run([BIN, "-c", str(cfg), "--fetch-once", "--quiet"],
                           capture_output=True, text=True, env=env(), timeout=60)
        lines = p.stderr.splitlines()
        print(f"# --fetch-once on a full disk: rc {p.returncode}, stderr {lines}")
        check(p.returncode == 0, "--fetch-once exits 0 with headlines")
        check(shown_titles(p.stdout) == gen_titles(7, 30), "the new headlines are shown")
        check(len(lines) == 1 and errline.search(lines[0]),
              f"exactly one clear error line: {lines}")
        check(cache.read_bytes() == old, "previous cache file intact")
        check(not [f for f in mnt.iterdir() if ".tmp." in f.name], "no temporary file left")

        # The running ticker: same, and it keeps drawing.
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock_path = tmp / "notify.sock"
        sock.bind(str(sock_path))
        log = open(tmp / "ticker.log", "w+")
        proc = subprocess.Popen([BIN, "-c", str(cfg)], stdout=subprocess.DEVNULL, stderr=log,
                                env=env(NOTIFY_SOCKET=str(sock_path), WATCHDOG_USEC="200000"))
        try:
            end = time.monotonic() + 15
            while time.monotonic() < end and "cache not saved" not in log_text(log):
                receive(sock, 0.05)
            text = log_text(log)
            check("cache not saved" in text, "the running ticker reports the failed save")
            pings = receive(sock, 1.0).count("WATCHDOG=1")
            print(f"# running ticker after the failed save: {pings} watchdog pings in 1 s")
            check(pings >= 3, f"still drawing frames after the failed save ({pings} pings)")
            check(proc.poll() is None, "still running")
            errs = [l for l in log_text(log).splitlines() if "error" in l]
            # Every feed's thread saves after its first fetch: all fail the
            # same way, and one line says so.
            check(len(errs) == 1 and errline.search(errs[0]),
                  f"one clear error line while running: {errs}")
            check(cache.read_bytes() == old, "previous cache intact while running")
            check(not [f for f in mnt.iterdir() if ".tmp." in f.name], "no temporary file left")
            # Space again, then SIGTERM: the exit flush saves what is shown.
            (mnt / "filler").unlink()
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=10)
            check(rc == 0, f"SIGTERM exits 0 (got {rc})")
            text = log_text(log)
            check("cache saved again" in text, "the first save that works is reported")
            errs = [l for l in text.splitlines() if "error" in l]
            check(len(errs) == 1, f"still one error line in all: {errs}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            sock.close()
        try:
            got = {t for items in parse_cache(cache.read_bytes()).values() for t in items}
        except ValueError as e:
            got = {str(e)}
        check(got == gen_titles(7, 30), "the exit flush saved the headlines on screen")
        check(not [f for f in mnt.iterdir() if ".tmp." in f.name], "no temporary file left")

        # A fresh process on the disk with space: saves without a word.
        p = subprocess.run([BIN, "-c", str(cfg), "--fetch-once", "--quiet"],
                           capture_output=True, text=True, env=env(), timeout=60)
        check(p.returncode == 0 and p.stderr == "", f"saves again once there is space "
                                                    f"({p.stderr.strip()})")
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def log_text(f):
    f.flush()
    return pathlib.Path(f.name).read_text(encoding="utf-8", errors="replace")


if MODE == "kill":
    run_kills(int(sys.argv[3]) if len(sys.argv) > 3 else 100)
elif MODE == "disk-full":
    run_disk_full()
else:
    sys.exit(f"usage: {sys.argv[0]} kill|disk-full KIOSK_TICKER [KILLS]")

finish()
