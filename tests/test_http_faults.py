#!/usr/bin/env python3
"""test_http_faults: the real kiosk-ticker binary against tests/http_server.py.

Usage: test_http_faults.py KIOSK_TICKER_BINARY HTTP_SERVER_SCRIPT

For every case a fresh server and temporary directory are used, with a
config of two feeds: "news" (the one that breaks) and "steady" (never
breaks). Three runs of `kiosk-ticker -c FILE --fetch-once`:

  1. both feeds serve good documents: their headlines are printed and the
     cache file holds them;
  2. "news" switches to the case (a fault, or a different good document):
     exit 0, one stderr line naming "news" and the exact reason, "steady"
     not reported, and the headlines are the earlier ones (fault) or the
     new ones (good case), on stdout and in the cache;
  3. the server is gone: both feeds fail with "connection refused", and
     the headlines of run 2 still come from the cache.

Standard library only. Exits 1 on any failed check, listing them all.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

TIMEOUT = 3  # [ticker] timeout, seconds
CAP = 256 * 1024  # [ticker] max_bytes
BODY_OVER = "body over %d bytes" % CAP
RSS = "application/rss+xml; charset=UTF-8"

# Items of the documents in tests/data/http: (title, link, seconds relative
# to the server's base_time). "{base}" is the server's http://127.0.0.1:PORT.
ITEMS = {
    "alpha.xml": [
        ("Alpha one", "http://example.com/alpha/1", -600),
        ("Alpha two", "http://example.com/alpha/2", -1200),
        ("Alpha three", "http://example.com/alpha/3", -1800),
    ],
    "steady.xml": [("Steady news", "http://example.com/steady/1", -5400)],
    # Served after a redirect chain into /final/: relative links resolve
    # against where the document came from, not the configured URL.
    "ok.xml via /final/": [
        ("OK first headline", "{base}/final/item/1", -3600),
        ("OK second headline", "{base}/final/item/2", -7200),
    ],
    # ISO-8859-1 bytes, the charset only in Content-Type.
    "latin1.xml": [
        ("Caf\u00e9 cr\u00e8me \u00e0 Paris", "http://example.com/latin1/1", -900),
        (
            "\u00dcber Stra\u00dfe, \u00c5ngstr\u00f6m, ni\u00f1o",
            "http://example.com/latin1/2",
            -1500,
        ),
    ],
    # Declared UTF-8 with stray windows-1252 bytes: read as windows-1252.
    "bad-utf8.xml": [
        ("Caf\u00e9 opens", "http://example.com/bad/1", -700),
        ("\u201cQuoted\u201d news", "http://example.com/bad/2", -1300),
        ("Plain ASCII item", "http://example.com/bad/3", -1900),
    ],
}

# name, route the "news" feed switches to (None = keep serving the same
# document), reason expected on stderr (a regex matched in full; None =
# no failure), items expected afterwards, longest run 2 may take (s).
CASES = [
    ("404", "404", r"HTTP 404", "alpha.xml", 5),
    ("500", "500", r"HTTP 500", "alpha.xml", 5),
    ("429", "429", r"HTTP 429 \(retry after 120 s\)", "alpha.xml", 5),
    ("redirect loop", "loop", r"too many redirects", "alpha.xml", 5),
    (
        "redirect to file://",
        "redirect-file",
        r"refused: redirect to file:///etc/passwd \(only http and https\)",
        "alpha.xml",
        5,
    ),
    ("slow drip", "slow", r"timed out after %d s" % TIMEOUT, "alpha.xml", TIMEOUT + 2.5),
    (
        "connection reset",
        "reset",
        r"connection reset|transfer closed with \d+ bytes remaining to read",
        "alpha.xml",
        5,
    ),
    ("over cap, Content-Length", "big", re.escape(BODY_OVER), "alpha.xml", 5),
    ("over cap, chunked", "big-chunked", re.escape(BODY_OVER), "alpha.xml", 5),
    ("over cap, gzip bomb", "big-gzip", re.escape(BODY_OVER), "alpha.xml", 5),
    ("empty body", "empty", r"empty document", "alpha.xml", 5),
    # A close-delimited answer cut short looks complete to HTTP: the parse
    # is what fails, and the feed keeps its headlines.
    ("truncated, close-delimited", "cut-json", r"JSON: .+", "alpha.xml", 5),
    ("HTML page", "html", r"not a feed: HTML page", "alpha.xml", 5),
    ("latin1 charset in Content-Type", "latin1", None, "latin1.xml", 5),
    ("bad UTF-8", "bad-utf8", None, "bad-utf8.xml", 5),
    ("redirect chain", "redirect/3?to=/final/ok.xml", None, "ok.xml via /final/", 5),
    ("304 not modified", None, None, "alpha.xml", 5),
]

failures = []


def check(cond, case, what):
    if not cond:
        failures.append("%s: %s" % (case, what))
        print("FAIL %s: %s" % (case, what), flush=True)
    return cond


class Server:
    def __init__(self, script):
        # stdin is a pipe we never write: the server exits when it closes.
        self.proc = subprocess.Popen(
            [sys.executable, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        line = self.proc.stdout.readline().decode().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError("http_server.py did not print its port (got %r)" % line)
        self.base = "http://127.0.0.1:%s" % line
        self.base_time = self.stats()["base_time"]

    def post(self, path):
        req = urllib.request.Request(self.base + path, data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            r.read()

    def load(self, feed, filename):
        self.post("/load/%s?%s" % (feed, urllib.parse.urlencode({"file": filename})))

    def route(self, feed, route):
        self.post("/set/%s?%s" % (feed, urllib.parse.urlencode({"route": route})))

    def stats(self):
        with urllib.request.urlopen(self.base + "/stats", timeout=5) as r:
            return json.load(r)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            f.close()


def expected_lines(server, items_key, label):
    """The --fetch-once lines LABEL TAB TITLE TAB LINK TAB PUBLISHED."""
    out = set()
    for title, link, offset in ITEMS[items_key]:
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(server.base_time + offset))
        out.add("\t".join((label, title, link.format(base=server.base), when)))
    return out


def run_once(binary, config):
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    t0 = time.monotonic()
    p = subprocess.run(
        [binary, "-c", config, "--fetch-once"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        env=env,
    )
    took = time.monotonic() - t0
    # Output must be valid UTF-8 whatever the feeds sent.
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8"), took


def failure_lines(stderr, feed):
    """stderr lines reporting a problem with feed (any prefix)."""
    return [
        l
        for l in stderr.splitlines()
        if re.search(r'\b%s\b|"%s"' % (feed, feed), l) and re.search(r"warn|err|<[0-4]>", l, re.I)
    ]


def check_run(case, step, result, want_lines, cache_path, fails, limit=None):
    """fails: {feed: reason regex} that must be reported; others must not."""
    rc, out, err, took = result
    tag = "%s, run %d" % (case, step)
    check(rc == 0, tag, "exit status %d, want 0; stderr:\n%s" % (rc, err))
    got = set(l for l in out.splitlines() if l)
    missing, extra = sorted(want_lines - got), sorted(got - want_lines)
    check(got == want_lines, tag, "stdout differs\n  missing: %r\n  extra: %r" % (missing, extra))
    check(len(out.splitlines()) == len(got), tag, "duplicate lines on stdout:\n" + out)
    for feed in ("news", "steady"):
        lines = failure_lines(err, feed)
        if feed in fails:
            ok = [l for l in lines if re.search(r"(?:^|: )(?:%s)$" % fails[feed], l)]
            want = "one stderr line naming %s with reason /%s/" % (feed, fails[feed])
            check(len(ok) == 1 and len(lines) == 1, tag, "want %s, got:\n%s" % (want, err))
        else:
            check(not lines, tag, "%s reported as failing:\n%s" % (feed, err))
    if limit is not None:
        check(took <= limit, tag, "took %.1f s, limit %.1f s" % (took, limit))
    try:
        with open(cache_path, "rb") as f:
            cache = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        check(False, tag, "cache file: %s" % e)
        return
    for line in want_lines:
        title = line.split("\t")[1]
        check(title in cache, tag, "cache file lacks %r" % title)
    check("root:" not in cache and "root:" not in out, tag, "/etc/passwd leaked")


def run_case(binary, script, case, route, reason, after_key, limit):
    tmp = tempfile.mkdtemp(prefix="kt-faults-")
    server = Server(script)
    try:
        cache = os.path.join(tmp, "state", "cache.tsv")
        config = os.path.join(tmp, "ticker.conf")
        with open(config, "w") as f:
            f.write(
                "[ticker]\ncache = %s\ntimeout = %ds\nconnect_timeout = %ds\n"
                "max_bytes = %dK\nrefresh = 10m\n\n"
                "[feed news]\nurl = %s/feed/news\n\n"
                "[feed steady]\nurl = %s/feed/steady\n"
                % (cache, TIMEOUT, TIMEOUT, CAP // 1024, server.base, server.base)
            )
        server.load("news", "alpha.xml")
        server.load("steady", "steady.xml")
        steady = expected_lines(server, "steady.xml", "steady")
        before = expected_lines(server, "alpha.xml", "news") | steady
        after = expected_lines(server, after_key, "news") | steady

        check_run(case, 1, run_once(binary, config), before, cache, {})

        if route:
            server.route("news", route)
        fails = {"news": reason} if reason else {}
        check_run(case, 2, run_once(binary, config), after, cache, fails, limit)
        if route is None:
            # The 304 case: the second request carried the ETag of the
            # first answer and got a 304, and the headlines stayed.
            s = server.stats()["paths"].get("/feed/news", {})
            check(s.get("requests") == 2, case, "want 2 requests for /feed/news, stats %r" % s)
            check(s.get("if_none_match") == 1, case, "run 2 sent no If-None-Match: %r" % s)
            check(s.get("not_modified") == 1, case, "server sent no 304: %r" % s)

        server.stop()
        refused = {"news": "connection refused", "steady": "connection refused"}
        check_run(case, 3, run_once(binary, config), after, cache, refused, 5)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) != 3:
        print("usage: test_http_faults.py KIOSK_TICKER HTTP_SERVER_SCRIPT", file=sys.stderr)
        return 2
    binary, script = sys.argv[1], sys.argv[2]
    if not os.access(binary, os.X_OK):
        print("test_http_faults: %s is not an executable" % binary, file=sys.stderr)
        return 1
    for case in CASES:
        t0 = time.monotonic()
        n = len(failures)
        run_case(binary, script, *case)
        verdict = "ok  " if len(failures) == n else "FAIL"
        print("%s %s (%.1f s)" % (verdict, case[0], time.monotonic() - t0), flush=True)
    print("%d cases, %d failed checks" % (len(CASES), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
