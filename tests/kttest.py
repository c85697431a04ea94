"""Shared helpers of the Python end-to-end tests: counted checks that print
what failed, a summary line ctest logs show, and the exit status (a test
that checked nothing fails too)."""
import socket
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


def catches(proc, sig):
    """True once the process has a handler for sig: its main has started
    (before that a signal kills it the default way, as any program)."""
    try:
        with open(f"/proc/{proc.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    except OSError:
        pass
    return False


def wait_catches(proc, sig, seconds=30.0):
    """Waits (bounded) until catches(proc, sig); returns whether it does."""
    import time
    end = time.monotonic() + seconds
    while not catches(proc, sig) and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.01)
    return catches(proc, sig)


def free_port():
    """A TCP port of 127.0.0.1 free now (the server under test binds it next)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
