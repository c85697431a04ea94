"""The product binary is the product (issue 14): kiosk-ticker defines no
allocator of its own (the benchmark's allocation counter lives in
bench/alloc_count.c, linked into kt-bench-frames and the tests only), so
`nm -D --defined-only` lists none of malloc's family.
Usage: test_exports.py NM KIOSK_TICKER
"""
import subprocess
import sys

from kttest import check, finish

NM, BIN = sys.argv[1], sys.argv[2]
ALLOCATORS = {"malloc", "free", "calloc", "realloc", "reallocarray", "memalign",
              "aligned_alloc", "posix_memalign", "valloc", "pvalloc", "malloc_usable_size"}
out = subprocess.run([NM, "-D", "--defined-only", BIN], check=True, capture_output=True,
                     text=True).stdout
names = {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}
found = sorted(names & ALLOCATORS)
check(bool(names), f"nm listed the dynamic symbols of {BIN}")
check(not found, f"no allocator defined by the product: {found}")
finish()
