"""Keeps README.md's configuration reference equal to `kiosk-ticker --help`.

  readme_reference.py --update BINARY README   rewrite the block
  readme_reference.py --check BINARY README    exit 1 when it differs
Also checks that the README's two set-up commands are where .ci/run finds them,
and that its command-line section names every option --help lists, with the
bounds --help gives a numeric one ("[0 to 1000000000]").
"""
import re
import subprocess
import sys

mode, binary, readme = sys.argv[1:4]
help_text = subprocess.run([binary, "--help"], capture_output=True, text=True,
                           check=True).stdout
start = help_text.index("Config file reference")
ref = help_text[help_text.index("\n", start) + 1:]
ref = ref[: ref.index("\nDurations:")].strip("\n") + "\n"

text = open(readme, encoding="utf-8").read()
pattern = re.compile(r"(<!-- config-reference:[^\n]*-->\n```\n)(.*?)(```)", re.S)
m = pattern.search(text)
if not m:
    sys.exit("README.md: no config-reference block")
if mode == "--update":
    text = text[: m.start(2)] + ref + text[m.end(2):]
    open(readme, "w", encoding="utf-8").write(text)
    sys.exit(0)
ok = True
if m.group(2) != ref:
    print("README.md's config reference differs from --help; run "
          "tools/readme_reference.py --update build/kiosk-ticker README.md")
    ok = False
cli_start = text.find("\n## Command line")
cli_end = text.find("\n## ", cli_start + 1)
cli_text = text[cli_start:cli_end] if cli_start >= 0 else ""
for line in help_text[: help_text.index("Config file reference")].splitlines():
    opt = re.match(r"\s+(?:-\w, )?(--[\w-]+)", line)
    if not opt:
        continue
    if opt.group(1) not in cli_text:
        print(f"README.md: the command-line section does not mention {opt.group(1)}")
        ok = False
    bounds = re.search(r"\[(?:each side )?(\S+ to \S+)\]$", line)
    if bounds and bounds.group(1) not in cli_text:
        print(f"README.md: the command-line section does not give {opt.group(1)}'s bounds "
              f"({bounds.group(1)})")
        ok = False
for marker in ("<!-- readme-run-command -->", "<!-- readme-test-command -->"):
    i = text.find(marker)
    block = text[i:].split("\n")[2] if i >= 0 else ""
    if i < 0 or "install-deps.sh" not in block:
        print(f"README.md: {marker} must be followed by a ```sh block with the command")
        ok = False
print("README reference and commands: " + ("ok" if ok else "out of date"))
sys.exit(0 if ok else 1)
