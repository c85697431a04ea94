/*
 * test_soak: a month of fetching in a few minutes.
 *
 * Four feeds (RSS, Atom, JSON Feed, RSS with entities) on tests/http_server.py
 * on 127.0.0.1, refreshed by the real fetcher (poller_run_once: threads,
 * libcurl, parser, headlines, store, cache) every 10 simulated minutes for
 * 30 simulated days. Time is the injected fetcher clock, not waited for.
 * Before every cycle each feed's document changes: items are added,
 * removed and reordered, some are undated, excluded or duplicated in
 * another feed, one is a month old; now and then a feed answers 304, or is
 * broken (HTTP errors, a reset, an HTML page, an empty or oversized or
 * truncated body), or slow (cut by a 2 s timeout: long enough that a loaded
 * machine never cuts a good answer); one feed is down for 36 hours.
 *
 * After every cycle:
 *   - the store holds exactly what a model of the rules predicts for each
 *     feed (per-feed max_items, exclude, first_seen kept, max_age ageing,
 *     failures keep the last good items) — a broken feed's headlines age
 *     out instead of staying forever;
 *   - the merged list has at most max_items, no duplicates, nothing older
 *     than max_age and never the month-old item;
 *   - the cache file on disk decodes (cache_decode) and, restored into a
 *     fresh store, gives the same headlines as the store, and no temporary
 *     file is left behind; it is written only in cycles that changed what
 *     it holds (not for a fetch that only moved last_success).
 * RSS (VmRSS) is sampled after day 1 (warm-up) and then every cycle: it
 * must not grow by more than 1 MiB. Under ASan the figure is printed but
 * not judged (its quarantine keeps freed memory on purpose).
 *
 * Usage: test_soak PYTHON http_server.py   (KT_SOAK_DAYS=N shortens it,
 * KT_SOAK_SEED=N changes the random choices)
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "config_ref.h"
#include "date.h"
#include "transport.h"
#include "poller.h"
#include "log.h"
#include "store.h"
#include "tap.h"
#define KT_TEST_SERVER_CLIENT 1
#include "test_server.h"
#include "util.h"

#define SOAK_START 1767225600 /* 2026-01-01T00:00:00Z */
#define SOAK_STEP 600         /* refresh = 10m */
#define SOAK_MAX_AGE 7200     /* max_age = 2h */
#define SOAK_MAX_ITEMS 60
#define SOAK_BETA_MAX 15
#define SOAK_RSS_SLACK_KB 1024
#define SOAK_MAX_LIVE 48

/* ---- the server ---- */

static pid_t server_pid;
static int server_port;

static int server_start(const char *python, const char *script)
{
    return test_server_start(python, script, NULL, &server_pid);
}

static void server_stop(void)
{
    test_server_stop(server_pid);
    server_pid = 0;
}

/* POST /set/NAME (a document) or /set/NAME?route=R (a misbehaviour). */
static void server_post(const char *name, const char *query, const char *body, size_t len,
                        const char *ctype)
{
    char path[256];
    snprintf(path, sizeof path, "/set/%s%s", name, query ? query : "");
    test_server_post(server_port, path, body, len, ctype);
}

/* ---- randomness (reproducible: KT_SOAK_SEED) ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static unsigned rnd(unsigned n)
{
    return (unsigned)(rng() % n);
}

static double rnd01(void)
{
    return (double)(rng() >> 11) / (double)(1ull << 53);
}

/* ---- the simulated clock ---- */

static int64_t sim_now = SOAK_START;

static int64_t sim_clock(void)
{
    return sim_now;
}

/* ---- the feeds and the model ---- */

enum fmt { FMT_RSS, FMT_ATOM, FMT_JSON, FMT_RSS_ENT };

struct sitem {
    char title[128]; /* as shown (the model's expectation) */
    char link[96];
    int64_t published; /* 0 = undated */
    int64_t first_seen;
    bool no_title; /* JSON: only content_html, the title is its first sentence */
    bool excluded; /* "Sponsored: ..." */
};

struct sfeed {
    const char *name;
    enum fmt fmt;
    int cap;       /* most items the document carries */
    int max_items; /* [feed] max_items, 0 = none */
    struct sitem live[SOAK_MAX_LIVE];
    int n_live;
    struct sitem expect[SOAK_MAX_LIVE]; /* what the store must hold */
    int n_expect;
    struct kt_buf doc; /* last document posted */
    uint64_t next_id;
    uint64_t last200; /* hash of the body of the last 200: its ETag answers 304 */
    bool resync;      /* outcome not predictable (truncated body): adopt the store's */
    bool relearn;     /* after a resync: adopt again after the next good fetch */
    bool after_trunc; /* last cycle was truncated: change the document for sure */
    /* Every entry of the last good document (excluded ones and those past
     * max_items too) with its first_seen: the store keeps them all. */
    struct {
        char link[96];
        int64_t first_seen;
    } seen[SOAK_MAX_LIVE];
    int n_seen;
};

static struct sfeed feeds[4] = {
    {.name = "alpha", .fmt = FMT_RSS, .cap = 40},
    {.name = "beta", .fmt = FMT_ATOM, .cap = 40, .max_items = SOAK_BETA_MAX},
    {.name = "gamma", .fmt = FMT_JSON, .cap = 30},
    {.name = "delta", .fmt = FMT_RSS_ENT, .cap = 40},
};

static const char *const words[] = {
    "council", "approves", "budget",  "harbour", "bridge",  "reopens", "storm", "warning",
    "library", "extends",  "opening", "hours",   "markets", "rally",   "after", "vote",
    "new",     "tram",     "line",    "tested",  "school",  "wins",    "prize", "river",
    "levels",  "fall",     "museum",  "adds",    "wing",    "festival"};

/* A new item for f, published around now (sometimes undated in JSON). */
static struct sitem new_item(struct sfeed *f, int64_t now)
{
    struct sitem it;
    memset(&it, 0, sizeof it);
    uint64_t id = ++f->next_id;
    char text[96] = "";
    unsigned nw = 2 + rnd(6);
    for (unsigned i = 0; i < nw; i++) {
        strcat(text, " ");
        strcat(text, words[rnd(sizeof words / sizeof words[0])]);
    }
    char cap[8];
    snprintf(cap, sizeof cap, "%c", f->name[0] - 32);
    if (f->fmt == FMT_RSS && rnd(25) == 0) {
        /* Dropped by exclude = ^Sponsored: */
        snprintf(it.title, sizeof it.title, "Sponsored: %s%s %" PRIu64 ":%s", cap, f->name + 1, id,
                 text);
        it.excluded = true;
    } else if (f->fmt == FMT_RSS_ENT) {
        /* Written as "&amp;" and "&#8212;" in the document. */
        snprintf(it.title, sizeof it.title, "%s%s %" PRIu64 " & co \xE2\x80\x94%s", cap,
                 f->name + 1, id, text);
    } else if (f->fmt == FMT_JSON && rnd(5) == 0) {
        snprintf(it.title, sizeof it.title, "%s%s %" PRIu64 " has no title.", cap, f->name + 1, id);
        it.no_title = true;
    } else {
        snprintf(it.title, sizeof it.title, "%s%s %" PRIu64 ":%s", cap, f->name + 1, id, text);
    }
    snprintf(it.link, sizeof it.link, "https://example.org/%s/%" PRIu64, f->name, id);
    /* JSON carries undated items: they age by first_seen. */
    it.published = f->fmt == FMT_JSON && rnd(3) == 0 ? 0 : now - (int64_t)rnd(SOAK_STEP);
    return it;
}

/* The ancient item: a month old, in alpha's document for good, never shown. */
static struct sitem ancient(void)
{
    struct sitem it;
    memset(&it, 0, sizeof it);
    snprintf(it.title, sizeof it.title, "Alpha archive: a month-old story");
    snprintf(it.link, sizeof it.link, "https://example.org/alpha/archive");
    it.published = SOAK_START - 30 * 86400;
    return it;
}

/* This cycle's changes to the document: new items first, some removed,
 * sometimes reordered, the oldest dropped past the cap. */
static void evolve(struct sfeed *f, int64_t now)
{
    int add = (int)rnd(4);
    if (f->after_trunc && add == 0)
        add = 1; /* a body never posted before: no 304 can be ambiguous */
    f->after_trunc = false;
    for (int i = 0; i < add; i++) {
        if (f->n_live == SOAK_MAX_LIVE)
            f->n_live--;
        memmove(&f->live[1], &f->live[0], (size_t)f->n_live * sizeof f->live[0]);
        f->live[0] = new_item(f, now);
        f->n_live++;
    }
    if (f->n_live > 3 && rnd(4) == 0) {
        int k = 1 + (int)rnd((unsigned)f->n_live - 1); /* never the newest */
        if (!strstr(f->live[k].title, "archive")) {
            memmove(&f->live[k], &f->live[k + 1], (size_t)(f->n_live - k - 1) * sizeof f->live[0]);
            f->n_live--;
        }
    }
    if (f->n_live > 2 && rnd(8) == 0) {
        for (int i = f->n_live - 1; i > 0; i--) {
            int j = (int)rnd((unsigned)i + 1);
            struct sitem t = f->live[i];
            f->live[i] = f->live[j];
            f->live[j] = t;
        }
    }
    while (f->n_live > f->cap) {
        /* Drop the oldest, keeping alpha's archive item. */
        int victim = f->n_live - 1;
        if (strstr(f->live[victim].title, "archive"))
            victim--;
        memmove(&f->live[victim], &f->live[victim + 1],
                (size_t)(f->n_live - victim - 1) * sizeof f->live[0]);
        f->n_live--;
    }
}

static uint64_t body_hash(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h | 1; /* never 0, which means "none" */
}

static void xml_escape(struct kt_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            kt_buf_puts(b, "&amp;");
        else if (*s == '<')
            kt_buf_puts(b, "&lt;");
        else
            kt_buf_putc(b, *s);
    }
}

static void rfc822(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const char *render_doc(struct sfeed *f)
{
    struct kt_buf *b = &f->doc;
    b->len = 0;
    char d[64];
    if (f->fmt == FMT_RSS || f->fmt == FMT_RSS_ENT) {
        kt_buf_printf(b,
                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>"
                      "<title>%s</title><link>https://example.org/%s/</link>\n",
                      f->name, f->name);
        for (int i = 0; i < f->n_live; i++) {
            const struct sitem *it = &f->live[i];
            kt_buf_puts(b, "<item><title>");
            if (f->fmt == FMT_RSS_ENT) {
                /* "X & co —" spelled with entity references */
                const char *amp = strstr(it->title, " & co \xE2\x80\x94");
                kt_buf_append(b, it->title, (size_t)(amp - it->title));
                kt_buf_puts(b, " &amp; co &#8212;");
                kt_buf_puts(b, amp + strlen(" & co \xE2\x80\x94"));
            } else {
                xml_escape(b, it->title);
            }
            kt_buf_printf(b, "</title><link>%s</link><guid>%s</guid>", it->link, it->link);
            if (it->published) {
                rfc822(it->published, d, sizeof d);
                kt_buf_printf(b, "<pubDate>%s</pubDate>", d);
            }
            kt_buf_puts(b, "</item>\n");
        }
        kt_buf_puts(b, "</channel></rss>\n");
    } else if (f->fmt == FMT_ATOM) {
        /* Not the clock: an unchanged feed must give the same bytes (304). */
        date_format(SOAK_START, d, sizeof d);
        kt_buf_printf(b,
                      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed "
                      "xmlns=\"http://www.w3.org/2005/Atom\"><title>Beta</title><id>urn:beta</id>"
                      "<updated>%s</updated>\n",
                      d);
        for (int i = 0; i < f->n_live; i++) {
            const struct sitem *it = &f->live[i];
            date_format(it->published, d, sizeof d);
            kt_buf_puts(b, "<entry><title>");
            xml_escape(b, it->title);
            kt_buf_printf(b,
                          "</title><link href=\"%s\"/><id>%s</id><updated>%s</updated></entry>\n",
                          it->link, it->link, d);
        }
        kt_buf_puts(b, "</feed>\n");
    } else {
        kt_buf_puts(b, "{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"Gamma\", "
                       "\"items\": [\n");
        for (int i = 0; i < f->n_live; i++) {
            const struct sitem *it = &f->live[i];
            kt_buf_printf(b, "%s{\"id\": \"%s\", \"url\": \"%s\"", i ? ",\n" : "", it->link,
                          it->link);
            if (it->no_title)
                kt_buf_printf(b, ", \"content_html\": \"<p>%s More text follows here.</p>\"",
                              it->title);
            else
                kt_buf_printf(b, ", \"title\": \"%s\"", it->title);
            if (it->published) {
                date_format(it->published, d, sizeof d);
                kt_buf_printf(b, ", \"date_published\": \"%s\"", d);
            }
            kt_buf_puts(b, "}");
        }
        kt_buf_puts(b, "]}\n");
    }
    return f->fmt == FMT_JSON   ? "application/feed+json"
           : f->fmt == FMT_ATOM ? "application/atom+xml"
                                : "application/rss+xml; charset=UTF-8";
}

static bool store_expired(int64_t published, int64_t first_seen, int64_t now)
{
    int64_t when = published ? published : first_seen;
    return when < now && now - when > SOAK_MAX_AGE;
}

/* The model of one successful fetch: exclude, per-feed max_items, first
 * seen kept for every entry of the previous document (the store keeps
 * them all, shown or not). Links are unique per item here. */
static void model_success(struct sfeed *f, int64_t now)
{
    struct sitem next[SOAK_MAX_LIVE];
    int n = 0, n_seen = 0;
    int64_t seen_at[SOAK_MAX_LIVE];
    for (int i = 0; i < f->n_live; i++) {
        seen_at[i] = now;
        for (int k = 0; k < f->n_seen; k++)
            if (strcmp(f->seen[k].link, f->live[i].link) == 0) {
                seen_at[i] = f->seen[k].first_seen;
                break;
            }
    }
    for (int i = 0; i < f->n_live; i++) {
        snprintf(f->seen[n_seen].link, sizeof f->seen[n_seen].link, "%s", f->live[i].link);
        f->seen[n_seen++].first_seen = seen_at[i];
        if (f->live[i].excluded || (f->max_items && n == f->max_items))
            continue;
        next[n] = f->live[i];
        next[n].first_seen = seen_at[i];
        n++;
    }
    f->n_seen = n_seen;
    memcpy(f->expect, next, (size_t)n * sizeof next[0]);
    f->n_expect = n;
}

static void model_expire(struct sfeed *f, int64_t now)
{
    int k = 0;
    for (int i = 0; i < f->n_expect; i++)
        if (!store_expired(f->expect[i].published, f->expect[i].first_seen, now))
            f->expect[k++] = f->expect[i];
    f->n_expect = k;
}

/* ---- measurements ---- */

static long vm_rss_kb(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (fp && fgets(line, sizeof line, fp))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (fp)
        fclose(fp);
    return kb;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- checks ---- */

static int first_failure_cycle = -1;
static int cycle_failures;

static void fail(int cycle, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(int cycle, const char *fmt, ...)
{
    tap_failures++;
    cycle_failures++;
    if (first_failure_cycle < 0)
        first_failure_cycle = cycle;
    if (tap_failures > 30)
        return; /* enough to diagnose */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cycle %d (day %.2f): ", cycle, (double)cycle * SOAK_STEP / 86400);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static bool same_item(const struct store_item *a, const struct sitem *b)
{
    return strcmp(a->title, b->title) == 0 && a->link && strcmp(a->link, b->link) == 0 &&
           a->published == b->published && a->first_seen == b->first_seen;
}

static bool same_store_item(const struct store_item *a, const struct store_item *b)
{
    return strcmp(a->title, b->title) == 0 &&
           ((!a->link && !b->link) || (a->link && b->link && strcmp(a->link, b->link) == 0)) &&
           a->published == b->published && a->first_seen == b->first_seen;
}

/* Feeds whose model took a new document this cycle. */
static bool model_ran[4];

static void check_cycle(int cycle, struct store *store, const struct config *cfg,
                        const char *cache_path, const char *cache_dir)
{
    tap_checks++;
    struct store_dump d = store_dump(store);
    /* The store against the model, feed by feed. */
    for (size_t i = 0; i < 4; i++) {
        struct sfeed *f = &feeds[i];
        const struct feed_state *st = &d.feeds[i];
        if (f->resync || (f->relearn && model_ran[i])) {
            /* A truncated document: what the recovering parser saved is
             * not predictable (nor, at the next good document, which of
             * its cut entries match): the invariants below still hold;
             * adopt what the store holds, headlines and entries. */
            f->relearn = f->resync;
            f->n_seen = 0;
            for (size_t k = 0; k < st->n_entries && f->n_seen < SOAK_MAX_LIVE; k++) {
                if (!st->entries[k].link)
                    continue;
                snprintf(f->seen[f->n_seen].link, sizeof f->seen[0].link, "%s",
                         st->entries[k].link);
                f->seen[f->n_seen++].first_seen = st->entries[k].first_seen;
            }
            f->n_expect = 0;
            for (size_t k = 0; k < st->n_items && k < SOAK_MAX_LIVE; k++) {
                struct sitem *e = &f->expect[f->n_expect++];
                memset(e, 0, sizeof *e);
                snprintf(e->title, sizeof e->title, "%s", st->items[k].title);
                snprintf(e->link, sizeof e->link, "%s", st->items[k].link ? st->items[k].link : "");
                e->published = st->items[k].published;
                e->first_seen = st->items[k].first_seen;
            }
            f->resync = false;
        } else if (st->n_items != (size_t)f->n_expect) {
            fail(cycle, "feed %s: store holds %zu items, model %d", f->name, st->n_items,
                 f->n_expect);
        } else {
            for (size_t k = 0; k < st->n_items; k++)
                if (!same_item(&st->items[k], &f->expect[k])) {
                    fail(cycle,
                         "feed %s item %zu: store \"%s\" %s %" PRId64 "/%" PRId64
                         ", model \"%s\" %s %" PRId64 "/%" PRId64,
                         f->name, k, st->items[k].title,
                         st->items[k].link ? st->items[k].link : "-", st->items[k].published,
                         st->items[k].first_seen, f->expect[k].title, f->expect[k].link,
                         f->expect[k].published, f->expect[k].first_seen);
                    break;
                }
        }
        for (size_t k = 0; k < st->n_items; k++)
            if (store_expired(st->items[k].published, st->items[k].first_seen, sim_now))
                fail(cycle, "feed %s keeps an item past max_age: %s", f->name, st->items[k].title);
        if (f->max_items && st->n_items > (size_t)f->max_items)
            fail(cycle, "feed %s holds %zu items, max_items %d", f->name, st->n_items,
                 f->max_items);
    }

    /* The merged list. */
    const struct store_snapshot *snap = store_snapshot(store);
    if (snap->n > SOAK_MAX_ITEMS)
        fail(cycle, "%zu headlines shown, max_items %d", snap->n, SOAK_MAX_ITEMS);
    for (size_t i = 0; i < snap->n; i++) {
        const struct headline *h = &snap->items[i];
        /* (A truncated document can cut the archive item before its date:
         * undated, it is new by first_seen; dated, it must never show.) */
        if ((strstr(h->title, "archive") && h->published) || strncmp(h->title, "Sponsored", 9) == 0)
            fail(cycle, "shown although old or excluded: %s (published %" PRId64 ")", h->title,
                 h->published);
        if (h->published && sim_now - h->published > SOAK_MAX_AGE)
            fail(cycle, "shown past max_age: %s", h->title);
        for (size_t k = 0; k < i; k++)
            if (strcmp(h->title, snap->items[k].title) == 0 ||
                (h->link && snap->items[k].link && strcmp(h->link, snap->items[k].link) == 0))
                fail(cycle, "shown twice: %s", h->title);
    }
    store_snapshot_release(snap);

    /* The cache on disk: valid, and the store's items. */
    char *data;
    size_t len;
    char err[KT_ERR_MAX];
    if (kt_read_file(cache_path, 64 << 20, &data, &len, err, sizeof err) != 0) {
        if (cycle > 0)
            fail(cycle, "cache unreadable: %s", err);
    } else {
        struct store_dump c;
        if (cache_decode(data, len, &c, err, sizeof err) != 0) {
            fail(cycle, "cache on disk invalid: %s", err);
        } else {
            /* What a restart would show: the cache restored into a fresh
             * store under the same config, headlines derived again. */
            struct store *back = store_new();
            store_configure(back, cfg, sim_now);
            store_restore(back, &c, sim_now);
            struct store_dump r = store_dump(back);
            if (c.n_feeds != d.n_feeds)
                fail(cycle, "cache has %zu feeds, store %zu", c.n_feeds, d.n_feeds);
            for (size_t i = 0; i < r.n_feeds && i < d.n_feeds; i++) {
                bool same = r.feeds[i].n_items == d.feeds[i].n_items;
                for (size_t k = 0; same && k < r.feeds[i].n_items; k++)
                    same = same_store_item(&r.feeds[i].items[k], &d.feeds[i].items[k]);
                if (!same)
                    fail(cycle, "cache and store differ for feed %s", d.feeds[i].name);
            }
            store_dump_free(&r);
            store_free(back);
            store_dump_free(&c);
        }
        free(data);
    }
    DIR *dir = opendir(cache_dir);
    struct dirent *de;
    while (dir && (de = readdir(dir)) != NULL)
        if (strstr(de->d_name, ".tmp."))
            fail(cycle, "temporary file left: %s", de->d_name);
    if (dir)
        closedir(dir);
    store_dump_free(&d);
}

/* ---- main ---- */

static const char *const broken_routes[] = {"500", "404", "reset", "html", "empty", "big", "429"};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_soak PYTHON http_server.py\n");
        return 2;
    }
    const char *days_env = getenv("KT_SOAK_DAYS");
    int days = days_env && atoi(days_env) > 0 ? atoi(days_env) : 30;
    const char *seed_env = getenv("KT_SOAK_SEED");
    rng_state = seed_env && strtoull(seed_env, NULL, 10) ? strtoull(seed_env, NULL, 10) : 20260101;
    int cycles = days * 86400 / SOAK_STEP;
    int warmup = 86400 / SOAK_STEP < cycles / 2 ? 86400 / SOAK_STEP : cycles / 2;

    transport_global_init();
    server_port = server_start(argv[1], argv[2]);
    if (server_port < 0) {
        fprintf(stderr, "soak: cannot start %s %s\n", argv[1], argv[2]);
        return 1;
    }
    atexit(server_stop);

    char dir_tmpl[] = "/tmp/kt-soak-XXXXXX";
    const char *dir = mkdtemp(dir_tmpl);
    if (!dir) {
        perror("mkdtemp");
        return 1;
    }
    char *cache_path = kt_asprintf("%s/cache.tsv", dir);
    struct kt_buf conf;
    kt_buf_init(&conf);
    kt_buf_printf(&conf,
                  "[ticker]\nrefresh = 10m\nmax_items = %d\nmax_age = 2h\nmax_chars = 120\n"
                  "exclude = ^Sponsored:\norder = interleave\ncache = %s\ntimeout = 2s\n"
                  "connect_timeout = 2s\nmax_bytes = 256K\n",
                  SOAK_MAX_ITEMS, cache_path);
    for (int i = 0; i < 4; i++) {
        kt_buf_printf(&conf, "[feed %s]\nurl = http://127.0.0.1:%d/feed/%s\n", feeds[i].name,
                      server_port, feeds[i].name);
        if (feeds[i].max_items)
            kt_buf_printf(&conf, "max_items = %d\n", feeds[i].max_items);
    }
    char err[KT_ERR_MAX];
    struct config *cfg = config_parse(conf.data, conf.len, "soak.conf", err, sizeof err);
    kt_buf_free(&conf);
    if (!cfg) {
        fprintf(stderr, "soak: %s\n", err);
        return 1;
    }
    /* Failing fetches log a warning each; only errors (a cache write that
     * fails) are worth seeing here. */
    kt_log_set_level(KT_LOG_ERR);
    poller_set_clock(sim_clock, NULL);
    struct store *store = store_new();
    store_configure(store, cfg, sim_now);
    struct config_ref *cref = config_ref_new(cfg, 1);
    struct cache_file *cache = cache_file_new(cache_path);
    long cache_writes = 0, cache_skips = 0, content_cycles = 0;
    uint64_t saved_gen = 0;

    feeds[0].live[feeds[0].n_live++] = ancient();
    for (int i = 0; i < 4; i++)
        kt_buf_init(&feeds[i].doc);

    long rss_warm = 0, rss_max = 0, rss_min = 0, rss_end = 0;
    long fetch_ok = 0, fetch_failed = 0, slow = 0, broken = 0, unchanged = 0, outages = 0;
    long delta_outage_end_items = -1;
    int outage_from = (int)(10.0 * 86400 / SOAK_STEP), outage_to = (int)(11.5 * 86400 / SOAK_STEP);
    if (outage_to >= cycles) /* short runs: the outage in the middle */
        outage_from = cycles / 3,
        outage_to = cycles / 3 + 216 < cycles - 1 ? cycles / 3 + 216 : cycles - 1;
    double t0 = mono();
    printf("# soak: %d days = %d cycles x 4 feeds, seed %" PRIu64 ", server port %d, cache %s\n",
           days, cycles, rng_state, server_port, cache_path);

    for (int cycle = 0; cycle < cycles; cycle++) {
        sim_now = SOAK_START + (int64_t)cycle * SOAK_STEP;
        bool expect_ok[4];
        uint64_t posted[4];
        for (int i = 0; i < 4; i++) {
            struct sfeed *f = &feeds[i];
            double r = rnd01();
            expect_ok[i] = true;
            posted[i] = 0;
            if (i == 3 && cycle >= outage_from && cycle < outage_to) {
                server_post(f->name, "?route=500", NULL, 0, NULL);
                expect_ok[i] = false;
                outages++;
            } else if (cycle > 0 && r < 0.0008) {
                server_post(f->name, "?route=slow", NULL, 0, NULL);
                expect_ok[i] = false;
                slow++;
            } else if (cycle > 0 && r < 0.02) {
                unsigned k = rnd(sizeof broken_routes / sizeof broken_routes[0] + 1);
                if (k < sizeof broken_routes / sizeof broken_routes[0]) {
                    char q[32];
                    snprintf(q, sizeof q, "?route=%s", broken_routes[k]);
                    server_post(f->name, q, NULL, 0, NULL);
                    expect_ok[i] = false;
                } else {
                    /* Half a document: the recovering parser may save some. */
                    evolve(f, sim_now);
                    const char *ct = render_doc(f);
                    server_post(f->name, "", f->doc.data, f->doc.len / 2, ct);
                    f->resync = true;
                    f->after_trunc = true;
                }
                broken++;
            } else if (cycle > 0 && r < 0.12 && f->doc.len && !f->after_trunc) {
                /* The same document again: 304 to the conditional GET. */
                const char *ct = render_doc(f);
                server_post(f->name, "", f->doc.data, f->doc.len, ct);
                posted[i] = body_hash(f->doc.data, f->doc.len);
                unchanged++;
            } else {
                evolve(f, sim_now);
                const char *ct = render_doc(f);
                server_post(f->name, "", f->doc.data, f->doc.len, ct);
                posted[i] = body_hash(f->doc.data, f->doc.len);
            }
        }

        int ok = poller_run_once(cref, store, NULL);
        /* As the running ticker does: a save when what the cache holds
         * changed, and the file is written only when its bytes differ. */
        uint64_t gen = store_content_generation(store);
        if (gen != saved_gen || cycle == 0) {
            int saved = cache_file_save(cache, store, err, sizeof err);
            if (saved < 0)
                fail(cycle, "cache not saved: %s", err);
            cache_writes += saved > 0;
            cache_skips += saved == 0;
            content_cycles++;
            saved_gen = gen;
        }
        int want_ok = 0;
        for (int i = 0; i < 4; i++) {
            struct sfeed *f = &feeds[i];
            want_ok += expect_ok[i] && !f->resync;
            /* A body the store already has is answered 304 and changes
             * nothing; a new one replaces the feed's items. */
            model_ran[i] = false;
            if (expect_ok[i] && !f->resync && posted[i] != f->last200) {
                model_success(f, sim_now);
                f->last200 = posted[i];
                model_ran[i] = true;
            }
            if (f->resync)
                f->last200 = 0;
            model_expire(f, sim_now);
        }
        fetch_ok += ok;
        fetch_failed += 4 - ok;
        /* A truncated body may parse (recovered) or not: either is fine. */
        int unsure = 0;
        for (int i = 0; i < 4; i++)
            unsure += feeds[i].resync;
        if (ok < want_ok || ok > want_ok + unsure)
            fail(cycle, "%d feeds answered, expected %d (+%d unsure)", ok, want_ok, unsure);

        check_cycle(cycle, store, cfg, cache_path, dir);
        if (cycle == outage_to - 1) {
            struct store_dump d = store_dump(store);
            delta_outage_end_items = (long)d.feeds[3].n_items;
            store_dump_free(&d);
            if (delta_outage_end_items != 0)
                fail(cycle, "feed delta down for %d cycles still holds %ld items",
                     outage_to - outage_from, delta_outage_end_items);
        }

        long rss = vm_rss_kb();
        if (cycle == warmup)
            rss_warm = rss_max = rss_min = rss;
        else if (cycle > warmup) {
            rss_max = rss > rss_max ? rss : rss_max;
            rss_min = rss < rss_min ? rss : rss_min;
        }
        rss_end = rss;
        if ((cycle + 1) % (86400 / SOAK_STEP) == 0 || cycle == cycles - 1) {
            const struct store_snapshot *snap = store_snapshot(store);
            printf("# day %5.1f: %6.1f s, RSS %ld kB, %zu shown, fetches ok %ld failed %ld\n",
                   (double)(cycle + 1) * SOAK_STEP / 86400, mono() - t0, rss, snap->n, fetch_ok,
                   fetch_failed);
            store_snapshot_release(snap);
            fflush(stdout);
        }
    }
    double took = mono() - t0;

    printf("soak_days=%d\n", days);
    printf("soak_cycles=%d\n", cycles);
    printf("soak_fetches_ok=%ld\n", fetch_ok);
    printf("soak_fetches_failed=%ld\n", fetch_failed);
    printf("soak_faults_broken=%ld\n", broken);
    printf("soak_faults_slow=%ld\n", slow);
    printf("soak_outage_cycles=%ld\n", outages);
    printf("soak_not_modified=%ld\n", unchanged);
    printf("soak_cache_writes=%ld\n", cache_writes);
    printf("soak_cache_write_skipped=%ld\n", cache_skips);
    printf("soak_cycles_unchanged=%ld\n", cycles - content_cycles);
    printf("soak_seconds=%.1f\n", took);
    printf("soak_rss_warm_kb=%ld\n", rss_warm);
    printf("soak_rss_min_kb=%ld\n", rss_min);
    printf("soak_rss_max_kb=%ld\n", rss_max);
    printf("soak_rss_end_kb=%ld\n", rss_end);
    printf("soak_rss_growth_kb=%ld\n", rss_max - rss_warm);
    printf("soak_failed_cycles_first=%d\n", first_failure_cycle);
#ifdef KT_SANITIZED
    printf("# RSS not judged in a sanitizer build: ASan's quarantine keeps freed memory.\n");
#else
    if (getenv("KT_SOAK_UNDER_EMULATOR")) {
        /* qemu-user's translation caches grow with every thread the fetcher
         * starts and count in this process's RSS; the native run judges it. */
        printf("# RSS not judged under an emulator (qemu-user's own caches count in it).\n");
    } else {
        tap_checks++;
        if (rss_max - rss_warm > SOAK_RSS_SLACK_KB) {
            tap_failures++;
            fprintf(stderr, "RSS grew by %ld kB after warm-up (limit %d kB)\n", rss_max - rss_warm,
                    SOAK_RSS_SLACK_KB);
        }
    }
#endif
    tap_checks++;
    if (slow == 0 || broken == 0 || unchanged == 0 || outages == 0) {
        tap_failures++;
        fprintf(stderr, "soak did not exercise every fault (slow %ld, broken %ld, 304 %ld)\n", slow,
                broken, unchanged);
    }

    /* No write without a change to what the cache holds. */
    tap_checks++;
    if (cache_writes > content_cycles) {
        tap_failures++;
        fprintf(stderr, "%ld cache writes for %ld cycles with changes\n", cache_writes,
                content_cycles);
    }
    cache_file_free(cache);
    store_free(store);
    config_ref_put(cref);
    for (int i = 0; i < 4; i++)
        kt_buf_free(&feeds[i].doc);
    unlink(cache_path);
    rmdir(dir);
    free(cache_path);
    server_stop();
    transport_global_cleanup();
    return tap_done();
}
