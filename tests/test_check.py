"""End-to-end tests of the checks that let mistakes through (issue 9),
with the real binary:

  --check resolves `font =`: a readable font file or an installed family is
    ok and the file it resolves to is printed; a family fontconfig only
    matches by fallback is a FILE:LINE warning (exit 0); a missing path, a
    file that is not a font, a directory, a FIFO, an empty value are
    FILE:LINE errors (exit 2). Display builds only (the font code is there).
  a config path that is not a regular file (FIFO, directory, device) is one
    error line and exit 2, never a hang, with --check and at run time;
  no -c and no config file: --check says where it looked and exits 2; the
    ticker says it in one line and runs on the defaults;
  every numeric option is bounded (exit 2 naming the option);
  config text that is not UTF-8 is FILE:LINE;
  the log prefix is "<N>" only when stderr is the stream JOURNAL_STREAM names.

Every run has a timeout: a hang is reported as a failure, not waited for.
Usage: test_check.py KIOSK_TICKER HAVE_DISPLAY(0|1)
"""
import os
import pathlib
import re
import subprocess
import sys
import tempfile

from kttest import check, finish

BIN, HAVE_DISPLAY = sys.argv[1], sys.argv[2] == "1"
TIMEOUT = 60  # a guard against hangs, not a performance bound


def run(*args, env=None, unset=(), stderr=subprocess.PIPE, cwd=None):
    e = dict(os.environ)
    for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", *unset):
        e.pop(k, None)
    e.setdefault("SDL_VIDEODRIVER", "dummy")
    e.setdefault("SDL_AUDIODRIVER", "dummy")
    e.setdefault("KT_RENDERER", "software")
    if env:
        e.update(env)
    try:
        p = subprocess.run([BIN, *args], stdout=subprocess.PIPE, stderr=stderr, text=True,
                           timeout=TIMEOUT, env=e, cwd=cwd)
    except subprocess.TimeoutExpired:
        return None, "", "(timed out: hung)"
    return p.returncode, p.stdout, p.stderr or ""


def one_line(err):
    return err.count("\n") == 1


tmp = pathlib.Path(tempfile.mkdtemp(prefix="kt-check-"))
state = {"XDG_STATE_HOME": str(tmp / "state")}

# ---- font = (display builds) ----
if HAVE_DISPLAY:
    fifo = tmp / "font.fifo"
    os.mkfifo(fifo)
    good = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans:bold"], capture_output=True,
                          text=True).stdout
    check(os.path.isfile(good), f"fc-match finds DejaVu Sans:bold ({good!r})")
    cases = [
        # value, rc, stream with the FILE:LINE message, pattern after "FILE:LINE: "
        ("/etc/passwd", 2, "err", r"font: /etc/passwd is not a font file"),
        ("/nonexistent/x.ttf", 2, "err", r"font: /nonexistent/x\.ttf: No such file or directory"),
        ("Comic Snas MS", 0, "err", r'warning: font: "Comic Snas MS" is not installed '
                                    r'\(fontconfig\'s nearest match is "[^"]+", /\S+\)'),
        ("", 2, "err", r"font: missing value"),
        ('"   "', 2, "err", r"font: empty"),
        (str(tmp), 2, "err", r"font: .*: not a regular file"),
        (str(fifo), 2, "err", r"font: .*: not a regular file"),
        ("DejaVu Sans:bold", 0, "out", r'font "DejaVu Sans:bold" is ' + re.escape(good) + "$"),
        (good, 0, "out", r'font ".*" is ' + re.escape(good) + "$"),
    ]
    for value, want_rc, stream, pattern in cases:
        conf = tmp / "font.conf"
        conf.write_text(f"[ticker]\n\n[display]\nmode = window\nfont = {value}\n",
                        encoding="utf-8")
        rc, out, err = run("-c", str(conf), "--check", env=state)
        text = err if stream == "err" else out
        lines = [l for l in text.splitlines() if l.startswith(f"{conf}:5: ")]
        check(rc == want_rc, f"font = {value!r}: exit {want_rc} (got {rc}; {err.strip()!r})")
        check(len(lines) == 1 and re.match(pattern, lines[0][len(f'{conf}:5: '):]),
              f"font = {value!r}: one line {conf}:5: {pattern} (stdout {out!r}, stderr {err!r})")
        if want_rc == 0:
            check(f"{conf}: ok (0 feeds)" in out, f"font = {value!r}: the ok line ({out!r})")
        else:
            check("ok" not in out, f"font = {value!r}: no ok line ({out!r})")
    # The default font (no font = line) is reported as the default.
    conf = tmp / "nofont.conf"
    conf.write_text("[display]\nmode = window\n", encoding="utf-8")
    rc, out, err = run("-c", str(conf), "--check", env=state)
    check(rc == 0 and f'{conf}: font "DejaVu Sans:bold" (the default) is {good}' in out,
          f"default font resolved and named as the default ({out!r} {err!r})")

# ---- schedules at --now: [display] on and show = ----
conf = tmp / "hours.conf"
conf.write_text("[feed lunch]\nurl = /dev/null\nshow = Mon-Fri 11:30-14:00\n"
                "[display]\nmode = window\non = Mon-Fri 07:00-19:30, Sat 09:00-14:00\n",
                encoding="utf-8")
tz = {**state, "TZ": "Europe/Berlin"}
for now, screen, lunch in (
        ("2026-12-07T08:30", "screen on until Mon 2026-12-07 19:30",
         "not shown until Mon 2026-12-07 11:30"),
        ("2026-12-07T12:00", "screen on until Mon 2026-12-07 19:30",
         "shown until Mon 2026-12-07 14:00"),
        ("2026-12-06T08:30", "screen off until Mon 2026-12-07 07:00",
         "not shown until Mon 2026-12-07 11:30"),
        ("2026-12-05T13:59", "screen on until Sat 2026-12-05 14:00",
         "not shown until Mon 2026-12-07 11:30")):
    rc, out, err = run("-c", str(conf), "--check", "--now", now, env=tz)
    check(rc == 0 and f"{conf}: on: Mon-Fri 07:00-19:30, Sat 09:00-14:00: {screen}\n" in out
          and f"{conf}: [feed lunch] show: Mon-Fri 11:30-14:00: {lunch}\n" in out,
          f"--check --now {now}: {screen}; lunch {lunch} ({out!r} {err!r})")
rc, out, err = run("-c", str(conf), "--check", "--now", "2026-13-01T00:00", env=tz)
check(rc == 2 and one_line(err) and "--now" in err, f"--check --now with a bad date: exit 2 ({err!r})")

# ---- images the screen would skip: warnings naming FILE:LINE, exit 0 ----
(tmp / "slides").mkdir(exist_ok=True)
for key_lines, want in (
        ("[feed a]\nurl = /dev/null\nlogo = /nonexistent/logo.png\n", [r":3: warning: logo: /nonexistent/logo\.png: No such file or directory$"]),
        ("[feed a]\nurl = /dev/null\nlogo = " + str(tmp / "slides") + "\n", [r":3: warning: logo: .*slides: not a regular file$"]),
        ("[display]\nbackground_image = /nonexistent/bg\n", [r":2: warning: background_image: /nonexistent/bg: No such file or directory$"]),
        ("[display]\nbackground_image = " + str(tmp / "slides") + "\n", [])):
    conf = tmp / "images.conf"
    conf.write_text(key_lines, encoding="utf-8")
    rc, out, err = run("-c", str(conf), "--check", env=state)
    warns = [l for l in err.splitlines() if "warning:" in l]
    check(rc == 0 and len(warns) == len(want)
          and all(re.search(re.escape(str(conf)) + w, l) for w, l in zip(want, warns)),
          f"--check on {key_lines.strip()!r}: warnings {want} (rc {rc}, {err!r})")

# ---- config paths that are not regular files ----
fifo = tmp / "ticker.fifo"
os.mkfifo(fifo)
(tmp / "confdir").mkdir()
for path, kind in ((fifo, "a FIFO"), (tmp / "confdir", "a directory"),
                   (pathlib.Path("/dev/null"), "a device")):
    for mode in (("--check",), ("--fetch-once",)):
        rc, out, err = run("-c", str(path), *mode, env=state)
        check(rc == 2 and one_line(err)
              and err == f"{path}:0: cannot read: not a regular file ({kind})\n",
              f"-c {kind} {mode[0]}: one error line, exit 2, no hang (rc {rc}, {err!r})")

# ---- no -c and no config file ----
home = tmp / "home"
home.mkdir()
nocfg = {"HOME": str(home), **state}
looked = [str(home / ".config/kiosk-ticker/ticker.conf"), "/etc/kiosk-ticker/ticker.conf"]
etc_exists = os.path.exists(looked[1])
rc, out, err = run("--check", env=nocfg, unset=("XDG_CONFIG_HOME",))
if etc_exists:
    # This machine has a system-wide config: --check must be checking it.
    check(looked[1] in out + err, f"--check without -c uses {looked[1]} ({out!r} {err!r})")
else:
    check(rc == 2 and out == "" and one_line(err) and all(p in err for p in looked),
          f"--check without a config: exit 2, one line naming {looked} (rc {rc}, {err!r})")
    rc, out, err = run("--fetch-once", env=nocfg, unset=("XDG_CONFIG_HOME",))
    warn = [l for l in err.splitlines() if "no config file" in l]
    check(len(warn) == 1 and all(p in warn[0] for p in looked) and "defaults" in warn[0],
          f"running without a config: one line naming {looked} ({err!r})")
    xdg = tmp / "xdg"
    rc, out, err = run("--check", env={**nocfg, "XDG_CONFIG_HOME": str(xdg)})
    check(rc == 2 and str(xdg / "kiosk-ticker/ticker.conf") in err,
          f"--check without a config names $XDG_CONFIG_HOME's path ({err!r})")
# A config found there is the one checked.
(home / ".config/kiosk-ticker").mkdir(parents=True)
(home / ".config/kiosk-ticker/ticker.conf").write_text("[ticker]\nrefresh = 10m\n")
rc, out, err = run("--check", env=nocfg, unset=("XDG_CONFIG_HOME",))
check(rc == 0 and out.startswith(f"{looked[0]}: ok (0 feeds)"),
      f"--check without -c checks {looked[0]} ({out!r} {err!r})")

# ---- numeric options ----
conf = tmp / "plain.conf"
conf.write_text("[display]\nmode = window\n", encoding="utf-8")
for args, name in ((("--screenshot", str(tmp / "x.png"), "--at", "inf"), "--at"),
                   (("--screenshot", str(tmp / "x.png"), "--at", "nan"), "--at"),
                   (("--screenshot", str(tmp / "x.png"), "--at", "1e15"), "--at"),
                   (("--screenshot", str(tmp / "x.png"), "--at", "1000000001"), "--at"),
                   (("--screenshot", str(tmp / "x.png"), "--at", "-1"), "--at"),
                   (("--screenshot", str(tmp / "x.png"), "--at", "0x10"), "--at"),
                   (("--screenshot", str(tmp / "x.png"), "--size", "1280x 96"), "--size"),
                   (("--screenshot", str(tmp / "x.png"), "--size", "0x10"), "--size"),
                   (("--screenshot", str(tmp / "x.png"), "--size", "99999999999x96"), "--size"),
                   (("--screenshot", str(tmp / "x.png"), "--size", "1280x96x2"), "--size")):
    rc, out, err = run("-c", str(conf), *args, env=state)
    check(rc == 2 and one_line(err) and f"error: {name}: expected" in err and args[-1] in err,
          f"{' '.join(args[-2:])}: exit 2 with one line naming {name} (rc {rc}, {err!r})")
if HAVE_DISPLAY:
    # The largest --at is a frame like any other.
    rc, out, err = run("-c", str(conf), "--screenshot", str(tmp / "far.png"), "--at",
                       "1000000000", "--size", "320x48", env=state)
    check(rc == 0 and (tmp / "far.png").stat().st_size > 0,
          f"--at 1000000000 writes its frame (rc {rc}, {err.strip()!r})")

# ---- config text ----
latin1 = tmp / "latin1.conf"
latin1.write_bytes(b"[ticker]\n\n[feed M\xfcnchen]\nurl = http://example.org/\n")
rc, out, err = run("-c", str(latin1), "--check", env=state)
check(rc == 2 and err == f"{latin1}:3: not valid UTF-8 (save the file as UTF-8)\n",
      f"a Latin-1 name is FILE:LINE (rc {rc}, {err!r})")
esc = tmp / "esc.conf"
esc.write_bytes(b"[feed a]\nurl = http://example.org/\nlabel = \x1b[31mRed\n")
rc, out, err = run("-c", str(esc), "--check", env=state)
check(rc == 2 and err.startswith(f"{esc}:3: control character U+001B"),
      f"an escape in a label is FILE:LINE (rc {rc}, {err!r})")

# ---- the log prefix against JOURNAL_STREAM ----
for match in (True, False):
    r, w = os.pipe()
    st = os.fstat(w)
    value = f"{st.st_dev}:{st.st_ino if match else st.st_ino + 1}"
    rc, out, _ = run("--dump", str(tmp / "missing.xml"), env={"JOURNAL_STREAM": value},
                     stderr=w)
    os.close(w)
    with os.fdopen(r, encoding="utf-8", errors="replace") as f:
        err = f.read()
    if match:
        check(rc == 1 and err.startswith("<3>") and "missing.xml" in err,
              f"stderr is the JOURNAL_STREAM stream: '<3>' prefix ({err!r})")
    else:
        check(rc == 1 and err.startswith("kiosk-ticker: error: ") and "<3>" not in err,
              f"JOURNAL_STREAM names another stream: plain prefix ({err!r})")

subprocess.run(["rm", "-rf", str(tmp)])
finish()
