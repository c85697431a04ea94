"""A font placed only in an application font directory (issue 13, fonts/):
usable by family name in `font =`, through the real program.

The font is a copy of the installed DejaVu Serif with its family renamed
"KTtest Serif" in its 'name' table (same length, so no table moves; the
Bitstream Vera licence allows modified copies under another name). No
installed font has that family, so only the directory can provide it. With
KT_FONT_DIRS naming the directory (the same path as /etc/kiosk-ticker/fonts
and PREFIX/share/kiosk-ticker/fonts, font_config.h):

  * --check says `font = KTtest Serif` resolves to the file in the directory;
  * --screenshot draws with it: the frame equals the one drawn with the
    original file's path as `font =` (the same glyphs), and differs from the
    frame drawn without the directory (fontconfig falls back to a sans);
  * without the directory, --check warns that a fallback stands in.

Usage: test_fontdir.py KIOSK_TICKER
"""
import os
import pathlib
import struct
import subprocess
import sys
import tempfile

from kttest import check, finish

BIN = sys.argv[1]
SERIF = pathlib.Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


def rename_family(data, old, new):
    """`old` -> `new` (same length) in the 'name' table's strings, as bytes
    and as UTF-16BE, with the table checksum fixed."""
    assert len(old) == len(new)
    buf = bytearray(data)
    ntables = struct.unpack(">H", buf[4:6])[0]
    for i in range(ntables):
        rec = 12 + 16 * i
        if buf[rec:rec + 4] != b"name":
            continue
        off, length = struct.unpack(">II", buf[rec + 8:rec + 16])
        table = buf[off:off + length]
        changed = table.count(old.encode()) + table.count(old.encode("utf-16-be"))
        table = table.replace(old.encode(), new.encode())
        table = table.replace(old.encode("utf-16-be"), new.encode("utf-16-be"))
        buf[off:off + length] = table
        padded = bytes(table) + b"\0" * (-length % 4)
        total = sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF
        buf[rec + 4:rec + 8] = struct.pack(">I", total)
        return bytes(buf), changed
    return data, 0


def run(args, env):
    return subprocess.run([BIN] + args, env=env, capture_output=True, text=True, timeout=60)


check(SERIF.is_file(), f"{SERIF} is installed (fonts-dejavu-core)")
with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    fonts = tmp / "fonts"
    fonts.mkdir()
    brand, changed = rename_family(SERIF.read_bytes(), "DejaVu", "KTtest")
    check(changed > 0, "the family name was renamed in the copy")
    font_file = fonts / "brand-serif.ttf"
    font_file.write_bytes(brand)

    base = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    base.pop("KT_FONT_DIRS", None)
    with_dir = dict(base, KT_FONT_DIRS=str(fonts))

    def conf(name, font):
        c = tmp / f"{name}.conf"
        c.write_text(f"[ticker]\ncache = {tmp / 'cache.tsv'}\n"
                     f"[display]\nmode = window\nsize = 480x80\nfont = {font}\n"
                     "idle_text = Quiet Afternoon\n", encoding="utf-8")
        return str(c)

    brand_conf = conf("brand", "KTtest Serif")
    p = run(["--check", "-c", brand_conf], with_dir)
    check(p.returncode == 0, f"--check passes with the directory: {p.stderr}")
    check(f'font "KTtest Serif" is {font_file}' in p.stdout,
          f"--check names the file in the app font directory: {p.stdout!r}")
    check("warning" not in p.stderr, f"no fallback warning: {p.stderr!r}")

    p = run(["--check", "-c", brand_conf], base)
    check("warning: font" in p.stderr and "KTtest Serif" in p.stderr,
          f"without the directory a fallback stands in, and --check says so: {p.stderr!r}")

    shots = {}
    for name, cfg, env in (("brand", brand_conf, with_dir),
                           ("path", conf("path", str(SERIF)), base),
                           ("nodir", brand_conf, base)):
        out = tmp / f"{name}.png"
        p = run(["-c", cfg, "--screenshot", str(out)], env)
        check(p.returncode == 0 and out.is_file(), f"{name}: screenshot written: {p.stderr}")
        shots[name] = out.read_bytes() if out.is_file() else b""
        if name == "brand":
            check(f"display: font {font_file}" in p.stderr,
                  f"the screen opens the directory's file: {p.stderr!r}")
    check(shots["brand"] and shots["brand"] == shots["path"],
          "drawn by family name from the directory = drawn from the file itself")
    check(shots["brand"] != shots["nodir"], "and not what the fallback draws")
finish()
