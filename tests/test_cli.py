"""End-to-end tests of the kiosk-ticker command line on the shipped demo.

Runs the real binary on the real demo documents and config:
  --version, --help, --check (good and bad files, exit codes, FILE:LINE),
  --dump of every demo document against tests/data/cli/NAME.expected,
  --fetch-once on the demo config, then again with every source broken
  (the cache keeps the headlines), and with a corrupt cache.
Usage: test_cli.py KIOSK_TICKER REPO_ROOT
"""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

from kttest import check, finish

BIN, ROOT = sys.argv[1], pathlib.Path(sys.argv[2])
DATA = ROOT / "tests" / "data" / "cli"

def run(*args, env=None):
    e = dict(os.environ)
    e.pop("JOURNAL_STREAM", None)
    if env:
        e.update(env)
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60, env=e)
    return p.returncode, p.stdout, p.stderr


def same(got, want, what):
    if got != want:
        print(f"--- {what}: got\n{got}--- want\n{want}---")
    check(got == want, what)


# --version and --help
rc, out, _ = run("--version")
check(rc == 0 and out.startswith("kiosk-ticker "), "--version")
rc, out, _ = run("--help")
for key in ("refresh", "max_items", "max_age", "max_chars", "exclude", "order", "cache",
            "timeout", "max_bytes", "user_agent", "ca_file", "url", "label", "--check",
            "--dump", "--fetch-once"):
    check(key in out, f"--help mentions {key}")
rc, _, err = run("--no-such-option")
check(rc == 2, "unknown option exits 2")

# --check
rc, out, err = run("-c", str(ROOT / "config" / "ticker.conf"), "--check")
check(rc == 0, f"demo config is valid (stderr: {err.strip()})")
bad = ROOT / "tests" / "data" / "config" / "unknown_key.conf"
rc, out, err = run("-c", str(bad), "--check")
check(rc == 2, "bad config exits 2")
same(err, f'{bad}:4: unknown key "refesh" in [ticker]\n', "--check error line")
rc, out, err = run("-c", "/nonexistent.conf", "--check")
check(rc == 2 and err.startswith("/nonexistent.conf:0: "), "unreadable config exits 2")

# --dump of each demo document, in document order
cases = sorted(DATA.glob("*.expected"))
check(len(cases) >= 4, "dump cases found")
for exp in cases:
    name = exp.name[: -len(".expected")]
    src = ROOT / "assets" / "demo" / name
    if not src.exists():
        continue
    rc, out, err = run("--dump", str(src))
    check(rc == 0, f"--dump {name} exits 0 ({err.strip()})")
    same(out, exp.read_text(encoding="utf-8"), f"--dump {name}")
    rc, out2, _ = run("--dump", "file://" + str(src))
    same(out2, out, f"--dump file:// {name}")
rc, out, err = run("--dump", "/nonexistent/feed.xml")
check(rc == 1 and out == "" and err.count("\n") == 1 and "/nonexistent/feed.xml" in err,
      f"--dump of a missing file: one error line naming it ({err!r})")

# --fetch-once on a copy of the demo, with a cache in a temporary directory
with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    shutil.copytree(ROOT / "assets", tmp / "assets")
    (tmp / "config").mkdir()
    cache = tmp / "state" / "cache.tsv"
    conf = (ROOT / "config" / "ticker.conf").read_text(encoding="utf-8")
    conf = conf.replace("#cache = /var/lib/kiosk-ticker/cache.tsv", f"cache = {cache}")
    conf = conf.replace("listen = 127.0.0.1:8089", "listen = 127.0.0.1:0")
    cfg = tmp / "config" / "ticker.conf"
    cfg.write_text(conf, encoding="utf-8")
    want = (DATA / "demo-fetch-once.expected").read_text(encoding="utf-8")

    rc, out, err = run("-c", str(cfg), "--fetch-once")
    check(rc == 0, f"demo --fetch-once exits 0 ({err.strip()})")
    same(out, want, "demo --fetch-once output")
    check(cache.exists(), "cache written")
    good_cache = cache.read_bytes() if cache.exists() else b""

    # Every source broken in a different way: the headlines stay.
    (tmp / "assets" / "demo" / "world.xml").write_text("<html><body>Moved</body></html>")
    (tmp / "assets" / "demo" / "world.json").write_text("{ broken json")
    (tmp / "assets" / "demo" / "science.atom").unlink()
    (tmp / "assets" / "demo" / "notices.txt").write_bytes(b"")
    rc, out, err = run("-c", str(cfg), "--fetch-once")
    check(rc == 0, "broken sources: exit 0 thanks to the cache")
    lines = err.strip().split("\n")
    for feed in ("courier", "lab", "world"):
        check(sum(f'feed "{feed}"' in l for l in lines) == 1,
              f"one stderr line names feed {feed}: {err!r}")
    check("HTML" in err, "HTML page reported as such")
    check("No such file" in err, "missing file reported as such")
    # An empty text list is a successful answer with no headlines: the lobby
    # feed's items go, everything else stays.
    same(out, "".join(l + "\n" for l in want.splitlines() if not l.startswith("Lobby\t")),
         "broken sources keep their headlines")

    # A corrupt cache: one warning, no crash, nothing shown (sources broken).
    cache.write_bytes(b"\x00garbage" * 100)
    rc, out, err = run("-c", str(cfg), "--fetch-once")
    check(rc == 1 and out == "", "corrupt cache and broken feeds: exit 1, nothing shown")
    check(sum(str(cache) in l for l in err.splitlines()) == 1 and "cache ignored" in err,
          f"one warning names the corrupt cache: {err!r}")

    # A truncated cache is refused as well, and a good one restores all.
    cache.write_bytes(good_cache[: len(good_cache) // 2])
    rc, out, err = run("-c", str(cfg), "--fetch-once")
    check(rc == 1 and str(cache) in err, "truncated cache refused")
    cache.write_bytes(good_cache)
    rc, out, err = run("-c", str(cfg), "--fetch-once")
    same(out, "".join(l + "\n" for l in want.splitlines() if not l.startswith("Lobby\t")),
         "good cache restores the headlines")

finish()
