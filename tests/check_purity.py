"""Fails when a pure-logic module includes SDL or curl headers.

Edge modules (the only ones allowed to) are listed here and in
CMakeLists.txt; everything else in src/ is pure."""
import pathlib
import re
import sys

EDGE = re.compile(r"^(main|fetch|source|fetcher|display.*|render.*|font.*|shape.*)\.[ch]$")
FORBIDDEN = re.compile(r'^\s*#\s*include\s*[<"](SDL|curl/|fribidi|fontconfig)', re.M)

src = pathlib.Path(sys.argv[1])
checked, bad = 0, []
for f in sorted(src.glob("*.[ch]")):
    if EDGE.match(f.name):
        continue
    checked += 1
    for m in FORBIDDEN.finditer(f.read_text(encoding="utf-8", errors="replace")):
        line = f.read_text(encoding="utf-8", errors="replace")[: m.start()].count("\n") + 1
        bad.append(f"{f}:{line}: pure module includes {m.group(1)}")
for b in bad:
    print(b)
print(f"{checked} pure files checked, {len(bad)} bad includes")
sys.exit(1 if bad or checked < 8 else 0)
