"""Shared helpers of the Python end-to-end tests: counted checks that print
what failed, a summary line ctest logs show, and the exit status (a test
that checked nothing fails too)."""
import sys

_checks = 0
_failures = 0


def check(cond, what):
    """Counts one check; prints FAIL with `what` when cond is false."""
    global _checks, _failures
    _checks += 1
    if not cond:
        _failures += 1
        print(f"FAIL: {what}", flush=True)
    return cond


def failures():
    return _failures


def finish():
    """Prints 'N passed, N failed' and exits 1 on any failure or no check."""
    print(f"{_checks - _failures} passed, {_failures} failed")
    sys.exit(1 if _failures or _checks == 0 else 0)
