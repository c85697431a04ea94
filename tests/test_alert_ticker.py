#!/usr/bin/env python3
"""test_alert_ticker: [alert NAME] sources end to end, with the real
kiosk-ticker binary and the test's real HTTP server (tests/http_server.py)
serving CAP documents from tests/data/cap/.

Usage: test_alert_ticker.py KIOSK_TICKER HTTP_SERVER_SCRIPT CAP_DATA_DIR

Each case is a config of [alert NAME] sections pointing at documents on
the server, run with `--fetch-once --json --now 2026-03-10T12:00Z` (every
test document is in force then, except the expired one), and checks the
state document's "alerts" (what the screen shows, in display order).
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kttest import check, finish  # noqa: E402

TICKER, SERVER, CAP = sys.argv[1], sys.argv[2], sys.argv[3]
NOW = "2026-03-10T12:00Z"
CAPXML = "application/cap+xml"


def serve(base, name, path, ctype=CAPXML):
    with open(os.path.join(CAP, path), "rb") as f:
        body = f.read()
    req = urllib.request.Request(f"{base}/set/{name}", data=body, method="POST",
                                 headers={"Content-Type": ctype})
    urllib.request.urlopen(req, timeout=10).read()


def run(tmp, sections, now=NOW, extra=""):
    conf = os.path.join(tmp, "t.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(f"[ticker]\ncache = {tmp}/cache.tsv\ntimeout = 5\n{extra}\n")
        for name, keys in sections:
            f.write(f"[alert {name}]\n")
            for k, v in keys.items():
                f.write(f"{k} = {v}\n")
    p = subprocess.run([TICKER, "-c", conf, "--fetch-once", "--json", "--now", now],
                       capture_output=True, text=True, timeout=60)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    check(doc is not None, f"state document is JSON (rc {p.returncode}, stderr {p.stderr!r})")
    return p, doc or {"alerts": [], "alert_sources": [], "headlines": []}


def ids(doc):
    return [a["id"] for a in doc["alerts"]]


def main():
    srv = subprocess.Popen([sys.executable, SERVER], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    port = int(srv.stdout.readline())
    base = f"http://127.0.0.1:{port}"
    feed = f"{base}/feed"
    for name, path in [("extreme", "extreme_actual.xml"), ("test", "test_status.xml"),
                       ("exercise", "exercise.xml"), ("expired", "expired.xml"),
                       ("flood_alert", "flood_alert.xml"), ("flood_update", "flood_update.xml"),
                       ("flood_cancel", "flood_cancel.xml"), ("multilang", "multilang.xml"),
                       ("areas", "areas.xml"), ("test_status", "test_status.xml"),
                       ("index", "e2e/index.atom")]:
        serve(base, name, path, "application/atom+xml" if name == "index" else CAPXML)
    try:
        with tempfile.TemporaryDirectory(prefix="kt-alert-") as tmp:
            # An Extreme Actual alert is shown; Test, Exercise and an
            # expired one never are.
            p, doc = run(tmp, [("wx", {"url": f"{feed}/extreme"}),
                               ("test", {"url": f"{feed}/test", "min_severity": "unknown"}),
                               ("drill", {"url": f"{feed}/exercise", "min_severity": "unknown"}),
                               ("old", {"url": f"{feed}/expired", "min_severity": "unknown"})])
            check(p.returncode == 0, f"an alert to show: exit 0 (got {p.returncode})")
            check(ids(doc) == ["KT-2026-0001"], f"only the Actual, current alert: {ids(doc)}")
            if doc["alerts"]:
                a = doc["alerts"][0]
                check(a["severity"] == "extreme" and a["source"] == "wx",
                      f"severity and source: {a}")
                check(a["headline"].startswith("Tornado Warning issued March 10"),
                      f"text starts with the CAP headline: {a['headline']!r}")
                check(a["label"] == "NWS Norman OK", f"label is senderName: {a['label']!r}")
                check(a["expires"] == "2026-03-10T13:00:00Z", f"expires: {a['expires']}")
            srcs = {s["name"]: s for s in doc["alert_sources"]}
            check(all(srcs.get(n, {}).get("last_error") is None for n in ("wx", "test", "drill")),
                  f"every source fetched: {srcs}")
            check([srcs.get(n, {}).get("alerts") for n in ("wx", "test", "drill", "old")]
                  == [1, 0, 0, 0], f"alerts per source: {srcs}")

            # show_tests = yes shows the Test (commissioning).
            p, doc = run(tmp, [("test", {"url": f"{feed}/test", "min_severity": "unknown",
                                         "show_tests": "yes"})])
            check(ids(doc) == ["KT-TEST-0001"], f"show_tests shows the Test: {ids(doc)}")

            # After the alert's expiry it is gone (same document, later --now).
            p, doc = run(tmp, [("wx", {"url": f"{feed}/extreme"})], now="2026-03-10T13:30Z")
            check(ids(doc) == [] and p.returncode == 1,
                  f"expired by --now: none shown, exit 1 ({ids(doc)}, rc {p.returncode})")

            # The label key overrides senderName.
            p, doc = run(tmp, [("wx", {"url": f"{feed}/extreme", "label": "Weather"})])
            check([a["label"] for a in doc["alerts"]] == ["Weather"], "label = overrides")

            # min_severity: a Severe alert under min_severity = extreme is not shown.
            p, doc = run(tmp, [("flood", {"url": f"{feed}/flood_alert",
                                          "min_severity": "extreme"})])
            check(ids(doc) == [], f"min_severity = extreme hides Severe: {ids(doc)}")

            # Atom index: an embedded alert and linked CAP documents (fetched
            # from the same server); the Update replaces the Alert it
            # references; the Test is not shown; display order = severity.
            p, doc = run(tmp, [("idx", {"url": f"{feed}/index", "min_severity": "minor"})])
            check(ids(doc) == ["E2E-GAS-1", "KT-2026-0003"],
                  f"index: embedded + the Update in place of the Alert: {ids(doc)}")
            stats = json.load(urllib.request.urlopen(f"{base}/stats", timeout=10))
            check(any("flood_update" in k for k in stats["paths"]),
                  f"linked documents were fetched from the server: {list(stats['paths'])}")

            # A Cancel removes the alert it references (one source listing both).
            p, doc = run(tmp, [("a", {"url": f"{feed}/flood_alert"}),
                               ("b", {"url": f"{feed}/flood_cancel"})])
            check(ids(doc) == ["KT-2026-0002"],
                  f"a Cancel in another source cancels nothing there: {ids(doc)}")
            serve(base, "flood_pair", "e2e/index.atom", "application/atom+xml")
            with open(os.path.join(CAP, "e2e/index.atom"), encoding="utf-8") as f:
                pair = f.read().replace('href="flood_update"', 'href="flood_cancel"')
            req = urllib.request.Request(f"{base}/set/flood_pair", data=pair.encode(),
                                         method="POST",
                                         headers={"Content-Type": "application/atom+xml"})
            urllib.request.urlopen(req, timeout=10).read()
            p, doc = run(tmp, [("idx", {"url": f"{feed}/flood_pair", "min_severity": "minor"})])
            check(ids(doc) == ["E2E-GAS-1"], f"the Cancel removes the flood alert: {ids(doc)}")

            # language: the <info> whose language matches, else the first.
            p, doc = run(tmp, [("ca", {"url": f"{feed}/multilang", "language": "en-CA"})])
            heads = [a["headline"] for a in doc["alerts"]]
            check(len(heads) == 1 and heads[0].lower().startswith("winter storm warning"),
                  f"language = en-CA picks English: {heads}")
            p, doc = run(tmp, [("ca", {"url": f"{feed}/multilang"})])
            heads = [a["headline"] for a in doc["alerts"]]
            check(len(heads) == 1 and heads[0].lower().startswith("avertissement"),
                  f"no language: the first <info> (French): {heads}")
            p, doc = run(tmp, [("ca", {"url": f"{feed}/multilang", "language": "es"})])
            heads = [a["headline"] for a in doc["alerts"]]
            check(len(heads) == 1 and heads[0].lower().startswith("avertissement"),
                  f"no match: the first <info>: {heads}")

            # areas: a regex over areaDesc and geocode values.
            for pattern, want in [("Surrey", 1), ("^UKJ26$", 1), ("Cornwall", 0)]:
                p, doc = run(tmp, [("uk", {"url": f"{feed}/areas", "areas": pattern})])
                check(len(doc["alerts"]) == want,
                      f"areas = {pattern}: {len(doc['alerts'])} shown, want {want}")

            # A source that fails: one line naming it, last_error in the state.
            p, doc = run(tmp, [("gone", {"url": f"{base}/404"})])
            srcs = {s["name"]: s for s in doc["alert_sources"]}
            check(srcs.get("gone", {}).get("last_error") == "HTTP 404",
                  f"failure in the state document: {srcs}")
            check('alert "gone": HTTP 404' in p.stderr, f"one line naming it: {p.stderr!r}")
    finally:
        srv.stdin.close()
        srv.terminate()
        srv.wait(timeout=10)
    finish()


main()
