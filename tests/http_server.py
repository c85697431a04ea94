#!/usr/bin/env python3
"""http_server: the misbehaving web server the fetch tests talk to.

Usage: http_server.py [-v] [--tls CERT KEY]   (-v logs requests; --tls
serves the same routes over HTTPS with that certificate and key)

Binds 127.0.0.1 on an ephemeral port and prints the port as the first line
of stdout, so a test can start it and read where it is. It exits on SIGTERM
or as soon as its stdin closes, so it never outlives the test that started
it, even when that test is killed. Standard library only.

Fixed routes (ROUTES below) each reproduce one thing real servers do to a
kiosk: error statuses, Retry-After, redirect chains and loops, a redirect to
file://, a drip feed, a connection reset, oversized and compressed-bomb
bodies, wrong charsets, empty bodies and HTML pages.

Mutable feeds, for tests that first serve a good feed and then break it:
  POST /set/NAME?cut=N      /feed/NAME now sends only the first N bytes of
                            its document, with no Content-Length, and
                            closes (a close-delimited response cut short)
  POST /set/NAME            body = document to serve at /feed/NAME, with
                            the request's Content-Type (default RSS)
  POST /set/NAME?route=R    /feed/NAME now behaves like route /R (e.g.
                            route=404, route=slow, route=redirect/3)
  POST /load/NAME?file=F    same with tests/data/http/F (add &type=T to
                            choose its Content-Type)
  GET  /feed/NAME           the current document or behaviour; honours
                            If-None-Match / If-Modified-Since with a 304
  GET  /stats               JSON: per path, requests, conditional headers
                            seen, 304s sent and the last request's headers
Files from tests/data/http may contain "@@DATE:-N@@", replaced by the
RFC 822 date N seconds before the server started (base_time in /stats), so
test feeds are always recent and the expected dates are known exactly.
"""

import email.utils
import gzip
import hashlib
import http.server
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "http")
BASE_TIME = int(time.time())
RSS = "application/rss+xml; charset=UTF-8"
OK_ETAG = '"ok-v1"'
OK_LAST_MODIFIED = email.utils.formatdate(BASE_TIME - 86400, usegmt=True)
# Body sizes are well above the 256 KiB cap the tests use.
BIG_SIZE = 300 * 1024
BOMB_DECODED = 16 * 1024 * 1024
HEADER_FLOOD = 2000  # headers of ~100 bytes: about 200 KB

STATE_LOCK = threading.Lock()
FEEDS = {}  # name -> {"body": bytes, "type": str, "etag": str, "lm": str, "route": str|None}
STATS = {}  # path -> counters
_BOMB = None


def fill_dates(data):
    """Replaces each @@DATE:-N@@ by the RFC 822 date N seconds before BASE_TIME."""
    out = []
    rest = data
    while True:
        start = rest.find(b"@@DATE:")
        if start < 0:
            out.append(rest)
            break
        end = rest.find(b"@@", start + 7)
        offset = int(rest[start + 7 : end])
        out.append(rest[:start])
        out.append(email.utils.formatdate(BASE_TIME + offset, usegmt=True).encode())
        rest = rest[end + 2 :]
    return b"".join(out)


def load(name):
    """A file from tests/data/http with its dates filled in."""
    with open(os.path.join(DATA_DIR, name), "rb") as f:
        return fill_dates(f.read())


def set_feed(name, body, ctype):
    with STATE_LOCK:
        FEEDS[name] = {
            "body": body,
            "type": ctype,
            "etag": '"%s"' % hashlib.sha1(body).hexdigest()[:16],
            "lm": email.utils.formatdate(time.time(), usegmt=True),
            "route": None,
        }


def big_body():
    item = b"<item><title>padding</title><description>" + b"x" * 400 + b"</description></item>\n"
    head = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Big</title>\n'
    return head + item * (BIG_SIZE // len(item) + 1) + b"</channel></rss>\n"


def gzip_bomb():
    """A few KiB on the wire, 16 MiB once decoded."""
    global _BOMB
    with STATE_LOCK:
        if _BOMB is None:
            head = b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Bomb</title>'
            _BOMB = gzip.compress(head + b" " * BOMB_DECODED, compresslevel=9)
        return _BOMB


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 so chunked bodies are legal; every response still closes
    # the connection, which keeps the routes simple.
    protocol_version = "HTTP/1.1"
    server_version = "kt-test-server"
    quiet = True

    def log_message(self, fmt, *args):
        if not self.quiet:
            sys.stderr.write("http_server: " + (fmt % args) + "\n")

    # ---- plumbing ---------------------------------------------------

    def record(self, path):
        with STATE_LOCK:
            s = STATS.setdefault(
                path,
                {"requests": 0, "if_none_match": 0, "if_modified_since": 0, "not_modified": 0},
            )
            s["requests"] += 1
            if self.headers.get("If-None-Match"):
                s["if_none_match"] += 1
            if self.headers.get("If-Modified-Since"):
                s["if_modified_since"] += 1
            s["last_headers"] = {k: v for k, v in self.headers.items()}
        return s

    def count_304(self, path):
        with STATE_LOCK:
            STATS[path]["not_modified"] += 1

    def reply(self, status, body=b"", ctype=None, headers=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def conditional(self, path, body, ctype, etag, last_modified):
        """200 with validators, or 304 when the client already has it."""
        validators = (("ETag", etag), ("Last-Modified", last_modified))
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm is not None:
            fresh = inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]
        else:
            fresh = ims is not None and ims.strip() == last_modified
        if fresh:
            self.count_304(path)
            self.send_response(304)
            for k, v in validators:
                self.send_header(k, v)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return
        self.reply(200, body, ctype, validators)

    # ---- routes -----------------------------------------------------

    def r_ok(self, path, query):
        self.conditional(path, load("ok.xml"), RSS, OK_ETAG, OK_LAST_MODIFIED)

    def r_304(self, path, query):
        # Any conditional request is answered "not modified".
        if self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"):
            self.count_304(path)
            self.send_response(304)
            self.send_header("ETag", OK_ETAG)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
        else:
            self.reply(200, load("ok.xml"), RSS, (("ETag", OK_ETAG),))

    def r_status(self, status, headers=()):
        def route(path, query):
            self.reply(status, b"<html><body>error page</body></html>\n", "text/html", headers)

        return route

    def r_503_long(self, path, query):
        self.reply(503, b"busy\n", "text/plain", (("Retry-After", "3600"),))

    def r_503_skew(self, path, query):
        # The server's clock is ten years ahead of ours and it asks for two
        # minutes as an HTTP-date: measured against its own Date header, it
        # is two minutes whatever the client's clock says.
        skew = time.time() + 10 * 365 * 86400
        headers = (
            ("Date", email.utils.formatdate(skew, usegmt=True)),
            ("Retry-After", email.utils.formatdate(skew + 120, usegmt=True)),
        )
        self.send_response_only(503)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def r_cut_json(self, path, query):
        # A JSON Feed cut in the middle of its second item, close-delimited
        # (no Content-Length): the client sees a normal end of body.
        doc = (b'{"version": "https://jsonfeed.org/version/1.1", "title": "Cut", "items": ['
               b'{"id": "1", "title": "Cut one", "url": "http://example.com/cut/1"}, '
               b'{"id": "2", "title": "Cut t')
        self.send_response(200)
        self.send_header("Content-Type", "application/feed+json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(doc)
        self.close_connection = True

    def r_hang(self, path, query):
        # Accepts the request and never answers, until the client hangs up.
        self.close_connection = True
        self.connection.settimeout(0.5)
        while True:
            try:
                if not self.connection.recv(1):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def r_503_date(self, path, query):
        when = email.utils.formatdate(time.time() + 120, usegmt=True)
        self.reply(503, b"busy\n", "text/plain", (("Retry-After", when),))

    def r_redirect(self, path, query):
        # /redirect/N: N hops, then ?to= (default /ok.xml).
        n = int(path.rsplit("/", 1)[1])
        target = query.get("to", ["/ok.xml"])[0]
        if n <= 1:
            loc = target
        else:
            loc = "/redirect/%d?%s" % (n - 1, urllib.parse.urlencode({"to": target}))
        # Validators on the hops: a client must keep only the last
        # response's headers, not these.
        hop = (("Location", loc), ("ETag", '"hop-%d"' % n), ("Last-Modified", OK_LAST_MODIFIED))
        self.reply(302, b"moved\n", "text/plain", hop)

    def r_loop(self, path, query):
        self.reply(302, b"", "text/plain", (("Location", "/loop"),))

    def r_redirect_file(self, path, query):
        self.reply(302, b"", "text/plain", (("Location", "file:///etc/passwd"),))

    def r_slow(self, path, query):
        # One byte a second of a feed that would take a minute.
        self.send_response(200)
        self.send_header("Content-Type", RSS)
        self.send_header("Content-Length", "60")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for _ in range(60):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass  # the client gave up, as it should

    def r_reset(self, path, query):
        self.send_response(200)
        self.send_header("Content-Type", RSS)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b'<?xml version="1.0"?>\n<rss version="2.0"><channel>' + b" " * 1000)
        self.wfile.flush()
        time.sleep(0.1)
        # SO_LINGER 0: close() sends RST instead of FIN. detach() so the
        # fd really closes now (rfile still holds a reference otherwise).
        sock = self.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os.close(sock.detach())
        self.close_connection = True

    def r_big(self, path, query):
        self.reply(200, big_body(), RSS)

    def r_big_chunked(self, path, query):
        body = big_body()
        self.send_response(200)
        self.send_header("Content-Type", RSS)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for i in range(0, len(body), 8192):
                chunk = body[i : i + 8192]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client stopped at its cap

    def r_big_gzip(self, path, query):
        self.reply(200, gzip_bomb(), RSS, (("Content-Encoding", "gzip"),))

    def r_gzip(self, path, query):
        self.reply(200, gzip.compress(load("ok.xml")), RSS, (("Content-Encoding", "gzip"),))

    def r_file(self, name, ctype):
        def route(path, query):
            self.reply(200, load(name), ctype)

        return route

    def r_empty(self, path, query):
        self.reply(200, b"", RSS)

    def r_header_flood(self, path, query):
        self.send_response(200)
        for i in range(HEADER_FLOOD):
            self.send_header("X-Flood-%d" % i, "y" * 90)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def r_echo_headers(self, path, query):
        body = json.dumps({k: v for k, v in self.headers.items()}, indent=1).encode()
        self.reply(200, body, "application/json")

    def r_stats(self, path, query):
        with STATE_LOCK:
            body = json.dumps({"base_time": BASE_TIME, "paths": STATS}, indent=1).encode()
        self.reply(200, body, "application/json")

    def r_feed(self, path, query):
        name = path[len("/feed/") :]
        with STATE_LOCK:
            feed = dict(FEEDS.get(name, {}))
        if not feed:
            self.reply(404, b"no such feed\n", "text/plain")
        elif feed.get("route"):
            self.dispatch("/" + feed["route"], path)
        elif feed.get("cut") is not None:
            # HTTP/1.0 style: the end of the body is the end of the
            # connection, so a cut is indistinguishable from the end.
            self.send_response(200)
            self.send_header("Content-Type", feed["type"])
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(feed["body"][: feed["cut"]])
            self.close_connection = True
        else:
            self.conditional(path, feed["body"], feed["type"], feed["etag"], feed["lm"])

    def r_set(self, path, query):
        name = path[len("/set/") :]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if "route" in query:
            with STATE_LOCK:
                FEEDS.setdefault(name, {})["route"] = query["route"][0]
        elif "cut" in query:
            with STATE_LOCK:
                FEEDS.setdefault(name, {})["cut"] = int(query["cut"][0])
        else:
            set_feed(name, fill_dates(body), self.headers.get("Content-Type") or RSS)
        self.reply(204)

    def r_load(self, path, query):
        # POST /load/NAME?file=F[&type=T]: like /set with a file from
        # tests/data/http, so tests need not read and post it.
        set_feed(path[len("/load/") :], load(query["file"][0]), query.get("type", [RSS])[0])
        self.reply(204)

    # ---- dispatch ---------------------------------------------------

    def routes(self):
        return {
            "/ok.xml": self.r_ok,
            "/final/ok.xml": self.r_ok,
            "/304": self.r_304,
            "/404": self.r_status(404),
            "/500": self.r_status(500),
            "/429": self.r_status(429, (("Retry-After", "120"),)),
            "/503-date": self.r_503_date,
            "/503-long": self.r_503_long,
            "/503-skew": self.r_503_skew,
            "/hang": self.r_hang,
            "/cut-json": self.r_cut_json,
            "/loop": self.r_loop,
            "/redirect-file": self.r_redirect_file,
            "/slow": self.r_slow,
            "/reset": self.r_reset,
            "/big": self.r_big,
            "/big-chunked": self.r_big_chunked,
            "/big-gzip": self.r_big_gzip,
            "/gzip.xml": self.r_gzip,
            "/latin1": self.r_file("latin1.xml", "application/rss+xml; charset=ISO-8859-1"),
            "/bad-utf8": self.r_file("bad-utf8.xml", RSS),
            "/empty": self.r_empty,
            "/html": self.r_file("page.html", "text/html; charset=UTF-8"),
            "/header-flood": self.r_header_flood,
            "/echo-headers": self.r_echo_headers,
            "/stats": self.r_stats,
        }

    def dispatch(self, target, stats_path=None):
        url = urllib.parse.urlsplit(target)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        # Stats are kept under the path the client asked for.
        if stats_path is None:
            stats_path = path
            if path != "/stats":
                self.record(path)
        routes = self.routes()
        if path in routes:
            routes[path](stats_path, query)
        elif path.startswith("/redirect/"):
            self.r_redirect(path, query)
        elif path.startswith("/feed/"):
            self.r_feed(path, query)
        else:
            self.reply(404, b"not found\n", "text/plain")

    def do_GET(self):
        self.dispatch(self.path)

    def do_HEAD(self):
        self.dispatch(self.path)

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path.startswith("/set/"):
            self.r_set(url.path, query)
        elif url.path.startswith("/load/"):
            self.r_load(url.path, query)
        else:
            self.reply(405, b"", "text/plain")

    do_PUT = do_POST


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = None  # ssl.SSLContext with --tls

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls:
            # The handshake happens on the handler's first read, in its own
            # thread, so a client refusing the certificate blocks no one.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        # A client hanging up mid-drip or refusing a test certificate is
        # expected; anything else is a bug in this script and must be seen.
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)


def watch_stdin():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    os._exit(0)


def main():
    args = sys.argv[1:]
    if "-v" in args:
        Handler.quiet = False
        args.remove("-v")
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = Server(("127.0.0.1", 0), Handler)
    if args[:1] == ["--tls"] and len(args) == 3:
        server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.tls.load_cert_chain(args[1], args[2])
    elif args:
        sys.exit("usage: http_server.py [-v] [--tls CERT KEY]")
    print(server.server_address[1], flush=True)
    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
