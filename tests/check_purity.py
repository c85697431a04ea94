"""Fails when a pure-logic module includes SDL, curl, fontconfig, fribidi,
MQTT or HTTP-server headers, or when a file in src/ is in no module group.

The groups are cmake/Sources.cmake's lists, passed on the command line:
  check_purity.py SRC_DIR --core FILE... --edge FILE...
A header belongs to the group of the .c file with its name; a header with
no .c of its own (a shared internal header) must be pure."""
import pathlib
import re
import sys

FORBIDDEN = re.compile(
    r'^\s*#\s*include\s*[<"](SDL|curl/|fribidi|fontconfig|mosquitto|microhttpd)', re.M)

args = sys.argv[1:]
src = pathlib.Path(args.pop(0)).resolve()
groups = {"core": set(), "edge": set()}
cur = None
for a in args:
    if a in ("--core", "--edge"):
        cur = a[2:]
    elif cur:
        groups[cur].add(pathlib.Path(a).name)
    else:
        sys.exit(f"check_purity.py: {a}: expected --core or --edge first")

bad = []
both = groups["core"] & groups["edge"]
bad += [f"src/{n}: listed as both pure and edge" for n in sorted(both)]
listed = groups["core"] | groups["edge"]
for f in sorted(src.glob("*.c")):
    if f.name not in listed:
        bad.append(f"src/{f.name}: in no list of cmake/Sources.cmake")
for n in sorted(listed):
    if not (src / n).exists():
        bad.append(f"cmake/Sources.cmake: src/{n} does not exist")

edge_stems = {pathlib.Path(n).stem for n in groups["edge"]}
checked = 0
for f in sorted(src.glob("*.[ch]")):
    if f.stem in edge_stems:
        continue
    checked += 1
    text = f.read_text(encoding="utf-8", errors="replace")
    for m in FORBIDDEN.finditer(text):
        line = text[: m.start()].count("\n") + 1
        bad.append(f"{f}:{line}: pure module includes {m.group(1)}")
for b in bad:
    print(b)
print(f"{checked} pure files checked, {len(bad)} problems")
sys.exit(1 if bad or checked < 8 else 0)
