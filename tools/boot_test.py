#!/usr/bin/python3
"""Host side of tools/boot-test.sh: the two channels into the emulated board
and the reading of its screen.

  agentd SOCK CTRL                     holds the guest agent's socket SOCK;
                                       the qga commands talk to it at CTRL
  qga CTRL ping [--wait S]             wait until the guest agent answers
  qga [--timeout S] CTRL exec CMD      run `sh -c CMD` as root in the guest;
                                       its stdout, stderr and exit status
  qga CTRL put LOCAL REMOTE            copy a file into the guest
  dump SOCK PREFIX [--count N] [--interval S] [--until FILE]
                                       QMP screendumps PREFIX-NNN.ppm; prints
                                       "FILE TIME" (host monotonic seconds,
                                       the middle of each dump)
  qmp SOCK COMMAND                     one QMP command without arguments
  screen PPM --bg RGB --fg RGB         what is where on one dump, as JSON
  shift A B --bg RGB [--max PX]        how far the strip moved left from A to B
  motion LIST --bg RGB --speed PX_S    frame rate and motion seen in a burst
                                       of dumps (LIST: dump's output)
  png PPM OUT                          a PNG copy (for the logs)

The guest agent is qemu-guest-agent on a virtio-serial port; QMP is QEMU's
monitor. Both are JSON over a unix socket.
"""
import argparse
import base64
import json
import os
import random
import socket
import struct
import sys
import time
import zlib


# ---- JSON over a unix socket ------------------------------------------------

class JsonSocket:
    """A unix-socket peer that sends JSON objects and reads them back."""

    def __init__(self, path, timeout):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    @classmethod
    def wrap(cls, sock):
        js = cls.__new__(cls)
        js.sock, js.buf = sock, b""
        sock.settimeout(30)
        return js

    def send(self, obj):
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def recv(self):
        dec = json.JSONDecoder()
        while True:
            # The agent's answer to guest-sync-delimited starts with 0xFF.
            text = self.buf.lstrip(b"\xff\r\n\t ").decode("utf-8", "replace")
            if text:
                try:
                    obj, end = dec.raw_decode(text)
                    self.buf = text[end:].encode()
                    return obj
                except ValueError:
                    pass
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("peer closed the socket")
            self.buf += chunk

    def close(self):
        self.sock.close()


class Agent:
    """qemu-guest-agent. A connection starts with guest-sync-delimited (0xFF,
    then a random id the answer must echo), so a late answer meant for an
    earlier connection is never taken for this one's. A connection whose
    sync goes unanswered is dropped and made again."""

    def __init__(self, path, timeout=10, sync_for=30):
        end = time.monotonic() + sync_for
        while True:
            self.js = JsonSocket(path, 2)
            token = random.randrange(1, 2**31)
            try:
                self.js.sock.sendall(b"\xff")
                self.js.send({"execute": "guest-sync-delimited", "arguments": {"id": token}})
                while self.js.recv().get("return") != token:
                    pass
                break
            except (TimeoutError, socket.timeout):
                self.js.close()
                if time.monotonic() > end:
                    raise ConnectionError(f"the guest agent did not answer a sync in {sync_for}s")
        self.js.sock.settimeout(timeout)

    def call(self, cmd, **args):
        self.js.send({"execute": cmd, "arguments": args} if args else {"execute": cmd})
        r = self.js.recv()
        if "error" in r:
            raise RuntimeError(f"{cmd}: {r['error'].get('desc', r['error'])}")
        return r.get("return")

    def exec(self, cmd, stdin=None, timeout=120):
        args = {"path": "/bin/sh", "arg": ["-c", cmd], "capture-output": True}
        if stdin is not None:
            args["input-data"] = base64.b64encode(stdin).decode()
        pid = self.call("guest-exec", **args)["pid"]
        end = time.monotonic() + timeout
        delay = 0.05
        while True:
            st = self.call("guest-exec-status", pid=pid)
            if st.get("exited"):
                out = base64.b64decode(st.get("out-data", ""))
                err = base64.b64decode(st.get("err-data", ""))
                code = st.get("exitcode", 128 + st.get("signal", 0))
                return code, out, err
            if time.monotonic() > end:
                return 124, b"", f"guest command timed out after {timeout}s\n".encode()
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def agentd_main(a):
    """Holds the one connection to the guest agent for the whole boot and
    serves requests from short-lived clients on a second socket: the agent
    over virtio-serial misses requests when clients reconnect quickly (seen
    here: every other new connection went unanswered for 30 s)."""
    if os.path.exists(a.ctrl):
        os.unlink(a.ctrl)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(a.ctrl)
    srv.listen(4)
    agent = None
    while True:
        conn, _ = srv.accept()
        with conn:
            try:
                req = JsonSocket.wrap(conn).recv()
            except (OSError, ConnectionError):
                continue
            try:
                if agent is None:
                    agent = Agent(a.sock, timeout=10, sync_for=3)
                if req["op"] == "ping":
                    agent.call("guest-ping")
                    resp = {"code": 0, "out": "", "err": ""}
                else:
                    stdin = base64.b64decode(req["stdin"]) if req.get("stdin") is not None else None
                    code, out, err = agent.exec(req["cmd"], stdin, req["timeout"])
                    resp = {"code": code, "out": base64.b64encode(out).decode(),
                            "err": base64.b64encode(err).decode()}
            except (OSError, ConnectionError, RuntimeError, ValueError) as e:
                if agent is not None:
                    agent.js.close()
                agent = None  # the next request connects again
                resp = {"error": str(e)}
            try:
                conn.sendall(json.dumps(resp).encode() + b"\n")
            except OSError:
                pass


def agent_request(ctrl, req, timeout):
    js = JsonSocket(ctrl, timeout + 30)
    js.send(req)
    r = js.recv()
    js.close()
    return r


def qga_main(a):
    """Clients of agentd: ping, exec, put."""
    if a.op == "ping":
        end = time.monotonic() + a.wait
        last = ""
        while time.monotonic() < end:
            try:
                r = agent_request(a.ctrl, {"op": "ping"}, 10)
                if "error" not in r:
                    return 0
                last = r["error"]
            except (OSError, ConnectionError, ValueError) as e:
                last = str(e)
            time.sleep(1)
        print(f"guest agent did not answer in {a.wait:.0f}s ({last})", file=sys.stderr)
        return 1
    if a.op == "exec":
        cmd, stdin = a.args[0], open(a.stdin, "rb").read() if a.stdin else None
    elif a.op == "put":
        local, remote = a.args
        cmd, stdin = f"cat > '{remote}'", open(local, "rb").read()
    else:
        raise SystemExit(f"unknown qga operation {a.op}")
    req = {"op": "exec", "cmd": cmd, "timeout": a.timeout,
           "stdin": base64.b64encode(stdin).decode() if stdin is not None else None}
    r = agent_request(a.ctrl, req, a.timeout)
    if "error" in r:
        print(f"guest agent: {r['error']}", file=sys.stderr)
        return 125
    sys.stdout.buffer.write(base64.b64decode(r["out"]))
    sys.stderr.buffer.write(base64.b64decode(r["err"]))
    return r["code"]


# ---- QMP ----------------------------------------------------------------------

class Monitor:
    def __init__(self, path, timeout=30):
        self.js = JsonSocket(path, timeout)
        self.js.recv()  # greeting
        self.call("qmp_capabilities")

    def call(self, cmd, **args):
        self.js.send({"execute": cmd, "arguments": args} if args else {"execute": cmd})
        while True:
            r = self.js.recv()
            if "event" in r:
                continue
            if "error" in r:
                raise RuntimeError(f"{cmd}: {r['error'].get('desc')}")
            return r.get("return")


def dump_main(a):
    mon = Monitor(a.sock)
    n = 0
    next_t = time.monotonic()
    while True:
        path = f"{a.prefix}-{n:03d}.ppm"
        t0 = time.monotonic()
        mon.call("screendump", filename=os.path.abspath(path))
        t1 = time.monotonic()
        print(f"{path} {(t0 + t1) / 2:.3f}", flush=True)
        n += 1
        if a.until and os.path.exists(a.until):
            break
        if not a.until and n >= a.count:
            break
        next_t += a.interval
        time.sleep(max(0.0, next_t - time.monotonic()))
    return 0


def qmp_main(a):
    mon = Monitor(a.sock)
    print(json.dumps(mon.call(a.command)))
    return 0


# ---- reading the screen --------------------------------------------------------

def load_ppm(path):
    data = open(path, "rb").read()
    parts, pos = [], 0
    while len(parts) < 4:  # P6, width, height, maxval
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        parts.append(data[pos:end])
        pos = end
    if parts[0] != b"P6" or parts[3] != b"255":
        raise SystemExit(f"{path}: not an 8-bit binary PPM")
    w, h = int(parts[1]), int(parts[2])
    return w, h, data[pos + 1:pos + 1 + w * h * 3]


def rgb(s):
    s = s.lstrip("#")
    return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))


def near(p, c, tol):
    return abs(p[0] - c[0]) <= tol and abs(p[1] - c[1]) <= tol and abs(p[2] - c[2]) <= tol


def strip_rows(w, h, px):
    """First row of the strip: the bottom rows that are not black (a row
    counts as black if 90 % of its bytes are 0)."""
    top = h
    for y in range(h - 1, -1, -1):
        row = px[y * w * 3:(y + 1) * w * 3]
        if row.count(0) >= 0.9 * len(row):
            break
        top = y
    return top


def screen_info(path, bg, fg):
    w, h, px = load_ppm(path)
    top = strip_rows(w, h, px)
    sh = h - top
    above = px[:top * w * 3]
    info = {"w": w, "h": h, "strip_top": top, "strip_h": sh,
            "above_nonblack": round(1 - above.count(0) / max(1, len(above)), 5),
            "nonblack": round(1 - px.count(0) / max(1, len(px)), 5)}
    if sh == 0:
        info.update(bg_share=0, full_run=0, half_run=0)
        return info
    bg_n = 0
    full_run = half_run = best_full = best_half = 0
    for x in range(w):
        run = best = 0
        upper = False
        for y in range(top, h):
            i = (y * w + x) * 3
            p = (px[i], px[i + 1], px[i + 2])
            if near(p, bg, 12):
                bg_n += 1
            if near(p, fg, 60):
                run += 1
                best = max(best, run)
                if y < top + sh * 0.5:
                    upper = True
            else:
                run = 0
        # A full block: ink over most of the strip; a lower half block: a
        # shorter bar with nothing in the upper half. Letters give neither
        # over more than a stem's width.
        full_run = full_run + 1 if best >= 0.6 * sh else 0
        half_run = half_run + 1 if 0.2 * sh <= best < 0.45 * sh and not upper else 0
        best_full = max(best_full, full_run)
        best_half = max(best_half, half_run)
    info.update(bg_share=round(bg_n / (w * sh), 3), full_run=best_full, half_run=best_half)
    return info


def profile(path, bg, bands=6):
    """Per column, the ink in each horizontal band of the strip."""
    w, h, px = load_ppm(path)
    top = strip_rows(w, h, px)
    sh = max(1, h - top)
    prof = [[0] * bands for _ in range(w)]
    for y in range(top, h):
        b = min(bands - 1, (y - top) * bands // sh)
        base = y * w * 3
        for x in range(w):
            i = base + x * 3
            prof[x][b] += abs(px[i] - bg[0]) + abs(px[i + 1] - bg[1]) + abs(px[i + 2] - bg[2])
    return prof


def best_shift(pa, pb, smax):
    """The s that makes B[x] look most like A[x + s] (text moving left)."""
    w = len(pa)
    costs = []
    for s in range(0, min(smax, w // 2) + 1):
        n = w - s
        c = 0
        for x in range(n):
            ra, rb = pa[x + s], pb[x]
            for k in range(len(ra)):
                c += abs(ra[k] - rb[k])
        costs.append(c / n)
    s = min(range(len(costs)), key=costs.__getitem__)
    typical = sorted(costs)[len(costs) // 2]
    return s, costs[s], typical


def shift_main(a):
    bg = rgb(a.bg)
    s, c, typical = best_shift(profile(a.a, bg), profile(a.b, bg), a.max)
    print(json.dumps({"shift": s, "cost": round(c, 1), "typical": round(typical, 1)}))
    return 0


def motion_main(a):
    """Dumps every ~0.1 s: each new frame is timed by the first dump that
    shows it. The frame rate seen is the number of new frames over the time
    (a lower bound when nearly every dump saw one). The motion: between a
    new frame A and a later new frame B (0.8 to 2.5 s later, well within one
    loop of the tape), the strip moved left by speed x (tB - tA)."""
    items = [line.split() for line in open(a.list) if line.strip()]
    times = [float(t) for _, t in items]
    bg = rgb(a.bg)
    first = load_ppm(items[0][0])
    top = strip_rows(*first)
    w = first[0]

    def strip_bytes(path):
        _, h, px = load_ppm(path)
        return px[top * w * 3:]
    new = []  # (time, file) of each dump that shows a new frame
    prev = strip_bytes(items[0][0])
    for (f, _), t in zip(items[1:], times[1:]):
        cur = strip_bytes(f)
        if cur != prev:
            new.append((t, f))
        prev = cur
    span = times[-1] - times[0]
    out = {"dumps": len(items), "new_frames": len(new), "seconds": round(span, 2),
           "fps": round(len(new) / span, 2) if span > 0 else 0,
           "lower_bound": len(new) >= 0.8 * (len(items) - 1)}
    pair = None
    for i, (ta, fa) in enumerate(new):
        later = [(tb, fb) for tb, fb in new[i + 1:] if 0.8 <= tb - ta <= 2.5]
        if later:
            pair = (ta, fa, *later[-1])
            break
    if pair:
        ta, fa, tb, fb = pair
        s, c, typical = best_shift(profile(fa, bg), profile(fb, bg), 640)
        out.update(a=fa, b=fb, dt=round(tb - ta, 3), shift=s,
                   expected=round(a.speed * (tb - ta)), cost=round(c, 1), typical=round(typical, 1))
    print(json.dumps(out))
    return 0


def png_main(a):
    w, h, px = load_ppm(a.ppm)
    raw = b"".join(b"\x00" + px[y * w * 3:(y + 1) * w * 3] for y in range(h))

    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c))
    with open(a.out, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    ad = sub.add_parser("agentd")
    ad.add_argument("sock")
    ad.add_argument("ctrl")
    q = sub.add_parser("qga")
    q.add_argument("ctrl")
    q.add_argument("op", choices=["ping", "exec", "put"])
    q.add_argument("args", nargs="*")
    q.add_argument("--wait", type=float, default=300)
    q.add_argument("--timeout", type=float, default=120)
    q.add_argument("--stdin")
    d = sub.add_parser("dump")
    d.add_argument("sock")
    d.add_argument("prefix")
    d.add_argument("--count", type=int, default=1)
    d.add_argument("--interval", type=float, default=0)
    d.add_argument("--until")
    m = sub.add_parser("qmp")
    m.add_argument("sock")
    m.add_argument("command")
    s = sub.add_parser("screen")
    s.add_argument("ppm")
    s.add_argument("--bg", required=True)
    s.add_argument("--fg", default="#FFFFFF")
    t = sub.add_parser("shift")
    t.add_argument("a")
    t.add_argument("b")
    t.add_argument("--bg", required=True)
    t.add_argument("--max", type=int, default=640)
    f = sub.add_parser("motion")
    f.add_argument("list")
    f.add_argument("--bg", required=True)
    f.add_argument("--speed", type=float, required=True)
    g = sub.add_parser("png")
    g.add_argument("ppm")
    g.add_argument("out")
    a = p.parse_args()
    if a.what == "agentd":
        return agentd_main(a)
    if a.what == "qga":
        return qga_main(a)
    if a.what == "dump":
        return dump_main(a)
    if a.what == "qmp":
        return qmp_main(a)
    if a.what == "screen":
        print(json.dumps(screen_info(a.ppm, rgb(a.bg), rgb(a.fg))))
        return 0
    if a.what == "shift":
        return shift_main(a)
    if a.what == "motion":
        return motion_main(a)
    return png_main(a)


if __name__ == "__main__":
    sys.exit(main())
