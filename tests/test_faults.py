"""Environment faults on the real program: fonts, renderers, devices, paths.

Each case runs kiosk-ticker once (a screenshot, the running ticker for a
moment, or --fetch-once) with one thing wrong, and checks that it ends as
promised: a working fallback (the frame is still drawn) or a clear message
and a clean exit code, never a crash (a signal). The table printed at the
end is the one in docs/reliability.md.

Usage: test_faults.py KIOSK_TICKER REPO_ROOT
"""
import os
import pathlib
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

from kttest import check, finish

BIN, ROOT = sys.argv[1], pathlib.Path(sys.argv[2])
rows = []


def png_size(path):
    """(width, height) of a PNG file, or None."""
    try:
        data = pathlib.Path(path).read_bytes()
    except OSError:
        return None
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


tmp = pathlib.Path(tempfile.mkdtemp(prefix="kt-faults-"))
shutil.copytree(ROOT / "assets", tmp / "assets")
(tmp / "config").mkdir()
cache = tmp / "state" / "cache.tsv"
BASE = (ROOT / "config" / "ticker.conf").read_text(encoding="utf-8").replace(
    "#cache = /var/lib/kiosk-ticker/cache.tsv", f"cache = {cache}").replace(
    "listen = 127.0.0.1:8089", "listen = 127.0.0.1:0")

# Broken font files.
dejavu = pathlib.Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
rng = random.Random(6)
(tmp / "garbage.ttf").write_bytes(bytes(rng.randrange(256) for _ in range(40000)))
(tmp / "truncated.ttf").write_bytes(dejavu.read_bytes()[:20000])
font = bytearray(dejavu.read_bytes())
for i in range(len(font) // 3, len(font) // 3 + 65536):
    font[i] = rng.randrange(256)
(tmp / "scrambled.ttf").write_bytes(bytes(font))
(tmp / "empty.ttf").write_bytes(b"")
(tmp / "fontdir.ttf").mkdir()
(tmp / "no-fonts.conf").write_text('<?xml version="1.0"?>\n<fontconfig></fontconfig>\n')


def config(name, **display):
    text = BASE
    for k, v in display.items():
        text = re.sub(rf"(?m)^{k} = .*$", f"{k} = {v}", text)
    path = tmp / "config" / f"{name}.conf"
    path.write_text(text, encoding="utf-8")
    return path


def base_env(**extra):
    e = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
             KT_RENDERER="software", FC_LANG="en")
    for k in ("JOURNAL_STREAM", "NOTIFY_SOCKET", "DISPLAY", "WAYLAND_DISPLAY"):
        e.pop(k, None)
    for k, v in extra.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


# A cache to show: the screenshots then have headlines.
subprocess.run([BIN, "-c", str(config("prime")), "--fetch-once"], capture_output=True,
               env=base_env(), timeout=60)


def case(name, fault, *, mode, cfg=None, env=None, rc=0, stderr=None, shot=False,
         expect="", args=()):
    """Runs one case; mode: shot (a screenshot), run (the ticker until its
    first headlines are on screen, then SIGTERM), fetch (--fetch-once), raw
    (args as given)."""
    cfg = cfg or config(name)
    out_png = tmp / f"{name}.png"
    cmd = [BIN, "-c", str(cfg)]
    if mode == "shot":
        cmd += ["--screenshot", str(out_png), "--at", "1"]
    elif mode == "fetch":
        cmd += ["--fetch-once"]
    cmd += list(args)
    e = base_env(**(env or {}))
    if mode == "run":
        # Until the first snapshot is on screen (or it exits), then SIGTERM:
        # no fixed sleep that a loaded machine could outlast.
        errf = tmp / f"{name}.stderr"
        with open(errf, "w") as ef:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=ef, env=e)
        end = time.monotonic() + 30
        while p.poll() is None and time.monotonic() < end:
            if re.search(r"display: (showing|no headlines|no screen)",
                         errf.read_text(errors="replace")):
                time.sleep(0.3)  # a few frames
                break
            time.sleep(0.05)
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        out, err, code = "", errf.read_text(errors="replace"), p.returncode
    else:
        p = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=60)
        out, err, code = p.stdout, p.stderr, p.returncode
    ok = check(code >= 0, f"{name}: no crash (signal {-code})")
    ok &= check(code == rc, f"{name}: exit {code}, want {rc}; stderr: {err.strip()[-400:]}")
    said = ""
    if stderr:
        m = re.search(stderr, err)
        ok &= check(m is not None, f"{name}: stderr matches /{stderr}/: {err.strip()[-400:]}")
        said = m.group(0) if m else ""
    if shot:
        size = png_size(out_png)
        ok &= check(size is not None and size[0] > 0, f"{name}: screenshot written")
    rows.append((fault, expect, said, "ok" if ok else "FAILED"))
    return out, err


# ---- fonts ----
FALLBACK = r'font "[^"]*": not found[^;]*; using "DejaVu Sans:bold" instead'
case("font_missing", "font = a file that does not exist", mode="shot", shot=True,
     cfg=config("font_missing", font="/nonexistent/font.ttf"), stderr=FALLBACK,
     expect="warning, default font, frame drawn")
case("font_family", "font = an unknown family", mode="shot", shot=True,
     cfg=config("font_family", font="No Such Family 12345"), stderr=FALLBACK,
     expect="warning, default font, frame drawn")
case("font_dir", "font = a directory", mode="shot", shot=True,
     cfg=config("font_dir", font=str(tmp / "fontdir.ttf")), stderr=FALLBACK,
     expect="warning, default font, frame drawn")
case("font_empty", "font = an empty file", mode="shot", shot=True,
     cfg=config("font_empty", font=str(tmp / "empty.ttf")), stderr=FALLBACK,
     expect="warning, default font, frame drawn")
case("font_garbage", "font = random bytes", mode="shot", shot=True,
     cfg=config("font_garbage", font=str(tmp / "garbage.ttf")), stderr=FALLBACK,
     expect="warning, default font, frame drawn")
case("font_truncated", "font = a truncated TrueType file", mode="shot", shot=True,
     cfg=config("font_truncated", font=str(tmp / "truncated.ttf")), stderr=FALLBACK,
     expect="warning, default font, frame drawn")
# 64 KiB of the glyph data scrambled: FreeType may draw odd glyphs or
# refuse some, but must not take the process down.
case("font_scrambled", "font = a TrueType file with 64 KiB scrambled", mode="shot", shot=True,
     cfg=config("font_scrambled", font=str(tmp / "scrambled.ttf")),
     expect="frame drawn (odd glyphs at worst)")
case("no_fonts", "no fonts at all (fontconfig finds none)", mode="shot", rc=1,
     env={"FONTCONFIG_FILE": str(tmp / "no-fonts.conf")},
     stderr=r"display: font \"DejaVu Sans:bold\": not found",
     expect="clear message, exit 1 (systemd restarts it)")

# A running ticker told (SIGHUP) to use a font that is not there keeps the
# font it has.
reload_cfg = config("font_reload")
reload_log = tmp / "font_reload.stderr"


def wait_log(pattern, seconds=30):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if re.search(pattern, reload_log.read_text(errors="replace")):
            return True
        time.sleep(0.05)
    return False


with open(reload_log, "w") as ef:
    p = subprocess.Popen([BIN, "-c", str(reload_cfg)], stdout=subprocess.DEVNULL, stderr=ef,
                         env=base_env())
wait_log(r"display: (showing|no headlines)")
reload_cfg.write_text(BASE.replace("font = DejaVu Sans:bold", "font = /nonexistent/font.ttf"),
                      encoding="utf-8")
p.send_signal(signal.SIGHUP)
wait_log(r"keeping|config reloaded")
time.sleep(0.3)
alive = p.poll() is None
p.send_signal(signal.SIGTERM)
p.wait(timeout=20)
err = reload_log.read_text(errors="replace")
m = re.search(r'display: font "/nonexistent/font.ttf": not found \(keeping [^)]*\)', err)
ok = check(alive and p.returncode == 0 and m is not None,
           f"font_reload: old font kept, still running, exit 0: {err.strip()[-300:]}")
rows.append(("SIGHUP to a config whose font is missing", "error, font on screen kept, runs",
             m.group(0) if m else "", "ok" if ok else "FAILED"))

# ---- renderers and devices ----
case("renderer_software", "KT_RENDERER=software", mode="run",
     stderr=r"renderer software \(KT_RENDERER=software\)", expect="software renderer, runs")
case("renderer_accel", "no accelerated renderer (KT_RENDERER=accelerated, dummy video)",
     mode="run", env={"KT_RENDERER": "accelerated"},
     stderr=r"cannot create a accelerated renderer.*trying software rendering",
     expect="warning, software renderer, runs")
case("renderer_bogus", "KT_RENDERER=bogus", mode="run", env={"KT_RENDERER": "bogus"},
     stderr=r"KT_RENDERER=bogus is neither software nor accelerated: ignored",
     expect="warning, automatic choice, runs")
case("renderer_auto", "no GPU (no KT_RENDERER, dummy video)", mode="run",
     env={"KT_RENDERER": None}, stderr=r"renderer software \(no display hardware\)",
     expect="software renderer, runs")
case("audio_unset", "SDL_AUDIODRIVER unset", mode="run", env={"SDL_AUDIODRIVER": None},
     expect="runs (audio is never opened)")
case("audio_bogus", "SDL_AUDIODRIVER=nonexistent", mode="run",
     env={"SDL_AUDIODRIVER": "nonexistent"}, expect="runs (audio is never opened)")
case("no_input", "no input devices (the dummy video driver has none)", mode="run",
     expect="runs")
# No screen: one line saying why, the ticker keeps running (fetching,
# signals) and retries the display (tests/test_noscreen.py has the rest).
case("video_missing", "SDL_VIDEODRIVER names no driver", mode="run",
     env={"SDL_VIDEODRIVER": "nonexistent"},
     stderr=r"display: no screen: nonexistent \(SDL_VIDEODRIVER\): [^;]*",
     expect="one line why, keeps running and retrying, exit 0 on SIGTERM")
case("x11_no_display", "x11 video without a display server", mode="run",
     env={"SDL_VIDEODRIVER": "x11", "DISPLAY": ":97"},
     stderr=r"display: no screen: x11 \(SDL_VIDEODRIVER\): [^;]*",
     expect="one line why, keeps running and retrying, exit 0 on SIGTERM")

# ---- paths ----
case("shot_unwritable", "screenshot into a missing directory", mode="raw", rc=1,
     args=("--screenshot", str(tmp / "no" / "such" / "dir.png")),
     stderr=r"display: cannot write .*", expect="clear message, exit 1")
ro = tmp / "config" / "cache_ro.conf"
ro.write_text(BASE.replace(f"cache = {cache}", "cache = /proc/kt-no-such/cache.tsv"),
              encoding="utf-8")
out, err = case("cache_ro", "cache directory cannot be created (under /proc)", mode="fetch",
                cfg=ro, stderr=r"error: cache not saved: /proc/kt-no-such: .*",
                expect="one error line, headlines printed")
check(out.count("\n") >= 10 and err.count("cache not saved") == 1,
      "cache_ro: headlines printed, one error line")
isdir = tmp / "config" / "cache_dir.conf"
(tmp / "cachedir").mkdir()
isdir.write_text(BASE.replace(f"cache = {cache}", f"cache = {tmp / 'cachedir'}"),
                 encoding="utf-8")
out, err = case("cache_is_dir", "cache path is a directory", mode="fetch", cfg=isdir,
                stderr=r"cache ignored: .*", expect="warning, headlines printed, rc 0")
nohome = tmp / "config" / "nohome.conf"
nohome.write_text(BASE.replace(f"cache = {cache}", ""), encoding="utf-8")
# With none of them the cache goes to /var/tmp: removed afterwards unless it
# was there before (a real ticker's).
fallback_cache = pathlib.Path("/var/tmp/kiosk-ticker-cache.tsv")
had_fallback = fallback_cache.exists()
case("no_home", "no HOME, XDG_STATE_HOME or STATE_DIRECTORY (default cache path)",
     mode="fetch", cfg=nohome,
     env={"HOME": None, "XDG_STATE_HOME": None, "STATE_DIRECTORY": None},
     expect="runs; the cache goes where it can")
if not had_fallback:
    fallback_cache.unlink(missing_ok=True)
case("config_missing", "config file missing", mode="raw", rc=2,
     cfg=tmp / "config" / "nope.conf", args=("--check",),
     stderr=r"nope\.conf:0: .*", expect="FILE:0: message, exit 2")

shutil.rmtree(tmp, ignore_errors=True)

print("\n| fault | expected | what it said | result |\n| --- | --- | --- | --- |")
for fault, expect, said, result in rows:
    said = said.replace("|", "\\|")
    print(f"| {fault} | {expect} | {('`' + said + '`') if said else ''} | {result} |")
finish()
