#!/usr/bin/env python3
"""Generates the benchmark's inputs: headlines, feed documents and configs.

Everything is made from a fixed seed, so two runs (and two machines) measure
the same bytes. Standard library only.

  make_docs.py text N OUT            plain list, one headline per line
  make_docs.py mixed N OUT           plain list of long mixed-script headlines
                                     (Latin, Arabic, CJK: font fallback, bidi,
                                     shaping), about 180 characters each
  make_docs.py rss|atom|json N OUT [--bytes B]
                                     a feed with N items, padded to about B
                                     bytes with realistic summaries
  make_docs.py conf OUT --feed URL --cache PATH [--max-items N]
                                     [--mode window|fullscreen] [--size WxH]
                                     a kiosk-ticker config for the strip
  make_docs.py page OUT              the CSS-transform ticker page (Chromium)
"""
import argparse
import html
import json
import random
import sys

WORDS = (
    "council harbour market storm rail energy school festival bridge museum "
    "budget river science trial vote airport hospital garden climate orchestra "
    "minister union library court police report record season team coach "
    "talks plan fire flood heat power water housing prices workers students "
    "city region north south coast valley mountain island station tunnel road "
    "study finds warns opens closes delays approves rejects wins loses backs "
    "new old first final major local national global record rising falling"
).split()

# The strip the issue specifies: 1920x96 at 120 px/s.
STRIP_W, STRIP_H, SPEED = 1920, 96, 120


def headlines(n, seed=5):
    """n distinct headline-like strings of 45 to 95 characters."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(6, 12))]
        text = " ".join(words).capitalize()
        # A number keeps every headline distinct (the store de-duplicates).
        out.append(f"{text} ({i + 1})"[:95])
    return out


# Phrases of other scripts for the mixed headlines: Arabic (right to left,
# joined letters) and Chinese and Japanese (fallback fonts, wide glyphs).
ARABIC = [
    "\u0627\u0644\u0623\u0633\u0648\u0627\u0642 \u062a\u0631\u062a\u0641\u0639 \u0628\u0639\u062f \u0627\u0644\u062a\u0635\u0648\u064a\u062a",
    "\u0639\u0627\u0635\u0641\u0629 \u0639\u0644\u0649 \u0627\u0644\u0633\u0627\u062d\u0644 \u0627\u0644\u0644\u064a\u0644\u0629",
    "\u0627\u0641\u062a\u062a\u0627\u062d \u0627\u0644\u0645\u0643\u062a\u0628\u0629 \u0627\u0644\u062c\u062f\u064a\u062f\u0629 \u0641\u064a \u0627\u0644\u0645\u062f\u064a\u0646\u0629",
    "\u0648\u0632\u064a\u0631 \u0627\u0644\u0637\u0627\u0642\u0629 \u064a\u0639\u0644\u0646 \u062e\u0637\u0629 \u062c\u062f\u064a\u062f\u0629",
]
CJK = [
    "\u6771\u4eac\u306e\u65b0\u3057\u3044\u8def\u9762\u96fb\u8eca",
    "\u5e02\u573a\u4eca\u5929\u4e0a\u6da8",
    "\u53f0\u98a8\u304c\u6cbf\u5cb8\u90e8\u306b\u63a5\u8fd1",
    "\u56fe\u4e66\u9986\u5ef6\u957f\u5f00\u653e\u65f6\u95f4",
]


def mixed_headlines(n, seed=11):
    """n distinct long headlines, each mixing Latin words with an Arabic
    and a CJK phrase (as a multilingual newsroom's feed does)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        parts = []
        while sum(len(p) + 1 for p in parts) < 150:
            parts.append(" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(3, 6))).capitalize())
            parts.append(rnd.choice(ARABIC) if len(parts) % 4 == 1 else rnd.choice(CJK))
        out.append(f"{' '.join(parts)} ({i + 1})"[:200])
    return out


def summary(rnd, size):
    """HTML paragraph text of about size characters."""
    words = []
    n = 0
    while n < size:
        w = rnd.choice(WORDS)
        words.append(w)
        n += len(w) + 1
    return "<p>" + " ".join(words).capitalize() + ".</p>"


def rfc822(i):
    day = 1 + i % 28
    return f"Mon, {day:02d} Jan 2024 {i % 24:02d}:{i % 60:02d}:00 GMT"


def rfc3339(i):
    return f"2024-01-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"


def item_fields(n, per_item):
    """(title, link, date index, summary) per item; summaries of about
    per_item characters."""
    rnd = random.Random(7)
    for i, t in enumerate(headlines(n)):
        yield t, f"http://127.0.0.1/news/{i + 1}", i, summary(rnd, per_item)


def sized(make, n, target):
    """make(n, per_item) with the summaries sized so the document is
    target bytes to within a few hundred (none when target is 0)."""
    if not target:
        return make(n, 120)
    per_item = 0
    for _ in range(3):
        doc = make(n, per_item)
        size = len(doc.encode("utf-8"))
        if abs(size - target) < 64 * 1024 // max(n, 1) + 512:
            break
        per_item = max(0, per_item + (target - size) // max(n, 1))
    return doc


def make_rss(n, per_item):
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        "<channel><title>Bench News</title><link>http://127.0.0.1/</link>\n"
        "<description>Benchmark feed</description><ttl>15</ttl>\n"
    ]
    for t, link, i, s in item_fields(n, per_item):
        parts.append(
            f"<item><title>{html.escape(t)}</title><link>{link}</link>"
            f'<guid isPermaLink="true">{link}</guid><pubDate>{rfc822(i)}</pubDate>'
            f"<dc:creator>Desk {i % 9}</dc:creator><category>News</category>"
            f"<description>{html.escape(s)}</description></item>\n"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts)


def make_atom(n, per_item):
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Bench News</title>\n'
        '<id>http://127.0.0.1/</id><updated>2024-01-28T00:00:00Z</updated>'
        '<link href="http://127.0.0.1/"/>\n'
    ]
    for t, link, i, s in item_fields(n, per_item):
        parts.append(
            f"<entry><title>{html.escape(t)}</title>"
            f'<link rel="alternate" href="{link}"/><id>{link}</id>'
            f"<published>{rfc3339(i)}</published><updated>{rfc3339(i)}</updated>"
            f"<author><name>Desk {i % 9}</name></author>"
            f'<summary type="html">{html.escape(s)}</summary></entry>\n'
        )
    parts.append("</feed>\n")
    return "".join(parts)


def make_json(n, per_item):
    items = []
    for t, link, i, s in item_fields(n, per_item):
        items.append(
            {
                "id": link,
                "url": link,
                "title": t,
                "content_html": s,
                "date_published": rfc3339(i),
                "authors": [{"name": f"Desk {i % 9}"}],
            }
        )
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Bench News",
        "home_page_url": "http://127.0.0.1/",
        "items": items,
    }
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def make_conf(a):
    w, h = (int(v) for v in a.size.split("x"))
    return f"""# Generated by bench/make_docs.py: the benchmark's strip.
[ticker]
cache = {a.cache}
max_items = {a.max_items}
refresh = 15m
timeout = 2s
connect_timeout = 1s

[feed news]
url = {a.feed}
label = News

[display]
mode = {a.mode}
size = {w}x{h}
position = bottom
height = {STRIP_H}
font = DejaVu Sans:bold
font_size = 40
speed = {SPEED}
separator = "  •  "
"""


def make_page():
    """The Chromium peer: the same 20 headlines in the same strip, moved by a
    CSS transform animation (the cheapest way for a browser: the compositor
    moves one layer, no relayout). The loop length is measured once."""
    items = "".join(
        f'<span class="i"><b>News</b>&nbsp;&nbsp;{html.escape(t)}</span>'
        '<span class="s">&nbsp;&nbsp;•&nbsp;&nbsp;</span>'
        for t in headlines(20)
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>ticker</title>
<style>
html, body {{ margin: 0; background: #000; overflow: hidden; cursor: none; }}
#strip {{ position: fixed; left: 0; bottom: 0; width: 100vw; height: {STRIP_H}px;
  background: #101820; overflow: hidden; }}
#tape {{ position: absolute; top: 0; left: 0; white-space: nowrap;
  line-height: {STRIP_H}px; font: bold 40px/{STRIP_H}px "DejaVu Sans", sans-serif;
  color: #fff; will-change: transform; }}
#tape b {{ color: #ffb000; }}
@keyframes scroll {{ from {{ transform: translateX(0); }}
  to {{ transform: translateX(var(--loop)); }} }}
</style></head>
<body><div id="strip"><div id="tape"><span id="a">{items}</span><span>{items}</span></div></div>
<script>
  const loop = document.getElementById("a").getBoundingClientRect().width;
  const tape = document.getElementById("tape");
  tape.style.setProperty("--loop", (-loop) + "px");
  tape.style.animation = "scroll " + (loop / {SPEED}) + "s linear infinite";
</script></body></html>
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=["text", "mixed", "rss", "atom", "json", "conf", "page"])
    p.add_argument("n_or_out")
    p.add_argument("out", nargs="?")
    p.add_argument("--bytes", type=int, default=0)
    p.add_argument("--feed")
    p.add_argument("--cache")
    p.add_argument("--max-items", type=int, default=100)
    p.add_argument("--mode", default="window", choices=["window", "fullscreen"])
    p.add_argument("--size", default=f"{STRIP_W}x{STRIP_H}")
    a = p.parse_args()
    if a.kind in ("conf", "page"):
        out = a.n_or_out
        data = make_conf(a) if a.kind == "conf" else make_page()
    else:
        n = int(a.n_or_out)
        out = a.out
        if a.kind == "text":
            data = "".join(t + "\n" for t in headlines(n))
        elif a.kind == "mixed":
            data = "".join(t + "\n" for t in mixed_headlines(n))
        else:
            make = {"rss": make_rss, "atom": make_atom, "json": make_json}[a.kind]
            data = sized(make, n, a.bytes)
    if not out:
        p.error("missing OUT")
    with open(out, "w", encoding="utf-8") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
