/*
 * test_store: the headline store. Ordering, de-duplication and limits come
 * from the case files in tests/data/store (format in its README); the
 * stateful behaviour (first_seen, generations, snapshot lifetime,
 * reconfiguration, dump/restore, threads) is checked here in code.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "schedule.h"
#include "store.h"
#include "tap.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

/* ---- a config built by hand, so this test does not depend on config.c ---- */

static struct config *tcfg_new(enum order order, int max_items, int64_t max_age)
{
    struct config *c = kt_calloc(1, sizeof *c);
    c->order = order;
    c->max_items = max_items;
    c->max_age = max_age;
    return c;
}

static void tcfg_feed(struct config *c, const char *name, const char *url, const char *label,
                      int max_items)
{
    c->feeds = kt_realloc(c->feeds, (c->n_feeds + 1) * sizeof *c->feeds);
    struct cfg_feed *f = &c->feeds[c->n_feeds++];
    memset(f, 0, sizeof *f);
    f->name = kt_strdup(name);
    f->url = kt_strdup(url);
    f->label = kt_strdup(label);
    f->max_items = max_items;
}

static void tcfg_free(struct config *c)
{
    for (size_t i = 0; i < c->n_feeds; i++) {
        free(c->feeds[i].name);
        free(c->feeds[i].url);
        free(c->feeds[i].label);
    }
    free(c->feeds);
    free(c);
}

/* ---- the case-file runner ---- */

struct tcase_items {
    char *feed;
    struct store_item *v;
    size_t n;
};

static size_t tsplit(char *line, char **f, size_t max)
{
    size_t n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '|') {
            *p = '\0';
            f[n++] = p + 1;
        }
    return n;
}

static const char *tnull(const char *s)
{
    return strcmp(s, "-") == 0 ? NULL : s;
}

static void run_case(const char *dir, const char *name)
{
    char *path = kt_asprintf("%s/%s", dir, name), *data, err[KT_ERR_MAX];
    size_t len;
    if (kt_read_file(path, 1 << 20, &data, &len, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        CHECK(!"case file readable");
        free(path);
        return;
    }
    struct config *cfg = tcfg_new(ORDER_NEWEST, 0, 0);
    int64_t now = 0;
    struct tcase_items *fi = NULL;
    size_t nfi = 0;
    char **exp_feed = NULL, **exp_label = NULL, **exp_title = NULL;
    size_t nexp = 0;
    bool expect_none = false, bad = false;
    int lineno = 0;

    for (char *line = data, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *f[8];
        size_t nf = tsplit(line, f, 8);
        if (strcmp(f[0], "order") == 0 && nf == 2) {
            cfg->order = strcmp(f[1], "feeds") == 0        ? ORDER_FEEDS
                         : strcmp(f[1], "interleave") == 0 ? ORDER_INTERLEAVE
                                                           : ORDER_NEWEST;
        } else if (strcmp(f[0], "max_items") == 0 && nf == 2) {
            cfg->max_items = atoi(f[1]);
        } else if (strcmp(f[0], "max_age") == 0 && nf == 2) {
            cfg->max_age = strtoll(f[1], NULL, 10);
        } else if (strcmp(f[0], "now") == 0 && nf == 2) {
            now = strtoll(f[1], NULL, 10);
        } else if (strcmp(f[0], "feed") == 0 && nf == 5) {
            tcfg_feed(cfg, f[1], f[2], tnull(f[3]), atoi(f[4]));
        } else if (strcmp(f[0], "item") == 0 && nf == 6) {
            size_t k = 0;
            while (k < nfi && strcmp(fi[k].feed, f[1]) != 0)
                k++;
            if (k == nfi) {
                fi = kt_realloc(fi, (nfi + 1) * sizeof *fi);
                fi[nfi++] = (struct tcase_items){kt_strdup(f[1]), NULL, 0};
            }
            fi[k].v = kt_realloc(fi[k].v, (fi[k].n + 1) * sizeof *fi[k].v);
            fi[k].v[fi[k].n++] =
                (struct store_item){kt_strdup(f[2]), kt_strdup(tnull(f[3])),
                                    strtoll(f[4], NULL, 10), strtoll(f[5], NULL, 10)};
        } else if (strcmp(f[0], "expect") == 0 && nf == 4) {
            exp_feed = kt_realloc(exp_feed, (nexp + 1) * sizeof *exp_feed);
            exp_label = kt_realloc(exp_label, (nexp + 1) * sizeof *exp_label);
            exp_title = kt_realloc(exp_title, (nexp + 1) * sizeof *exp_title);
            exp_feed[nexp] = kt_strdup(f[1]);
            exp_label[nexp] = kt_strdup(f[2]);
            exp_title[nexp++] = kt_strdup(f[3]);
        } else if (strcmp(f[0], "expect_none") == 0 && nf == 1) {
            expect_none = true;
        } else {
            fprintf(stderr, "%s:%d: bad case line\n", path, lineno);
            bad = true;
        }
    }
    CHECK(!bad);
    if (nexp == 0 && !expect_none) {
        fprintf(stderr, "%s: no expect lines and no expect_none\n", path);
        CHECK(!"case has an expectation");
    }

    struct store *s = store_new();
    store_configure(s, cfg, now);
    for (size_t k = 0; k < nfi; k++) {
        bool known = false;
        for (size_t i = 0; i < cfg->n_feeds; i++)
            known |= strcmp(cfg->feeds[i].name, fi[k].feed) == 0;
        CHECK(known);
        store_replace_items(s, fi[k].feed, fi[k].v, fi[k].n, now);
    }
    const struct store_snapshot *snap = store_snapshot(s);
    bool ok = snap->n == nexp;
    for (size_t i = 0; ok && i < nexp; i++)
        ok = strcmp(snap->items[i].feed, exp_feed[i]) == 0 &&
             strcmp(snap->items[i].label, exp_label[i]) == 0 &&
             strcmp(snap->items[i].title, exp_title[i]) == 0;
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "%s: merged list differs\n  got:\n", path);
        for (size_t i = 0; i < snap->n; i++)
            fprintf(stderr, "    %s|%s|%s\n", snap->items[i].feed, snap->items[i].label,
                    snap->items[i].title);
        fprintf(stderr, "  want:\n");
        for (size_t i = 0; i < nexp; i++)
            fprintf(stderr, "    %s|%s|%s\n", exp_feed[i], exp_label[i], exp_title[i]);
    }
    store_snapshot_release(snap);
    store_free(s);

    for (size_t k = 0; k < nfi; k++) {
        for (size_t i = 0; i < fi[k].n; i++) {
            free(fi[k].v[i].title);
            free(fi[k].v[i].link);
        }
        free(fi[k].v);
        free(fi[k].feed);
    }
    free(fi);
    for (size_t i = 0; i < nexp; i++) {
        free(exp_feed[i]);
        free(exp_label[i]);
        free(exp_title[i]);
    }
    free(exp_feed);
    free(exp_label);
    free(exp_title);
    tcfg_free(cfg);
    free(data);
    free(path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_cases(void)
{
    const char *root = getenv("KT_TEST_DATA");
    CHECK(root != NULL);
    if (!root)
        return;
    char *dir = kt_asprintf("%s/store", root);
    DIR *dh = opendir(dir);
    CHECK(dh != NULL);
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while (dh && (de = readdir(dh)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".case") == 0) {
            names = kt_realloc(names, (n + 1) * sizeof *names);
            names[n++] = kt_strdup(de->d_name);
        }
    }
    if (dh)
        closedir(dh);
    /* A lost data directory must not pass as "no cases, no failures". */
    CHECK(n >= 10);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        int before = tap_failures;
        run_case(dir, names[i]);
        printf("%s %s\n", tap_failures == before ? "ok" : "FAIL", names[i]);
        free(names[i]);
    }
    free(names);
    free(dir);
}

/* ---- stateful behaviour ---- */

static struct store_item titem(const char *title, const char *link, int64_t published,
                               int64_t first_seen)
{
    return (struct store_item){(char *)title, (char *)link, published, first_seen};
}

/* A 304 with these validators, at now. */
static enum store_outcome t_not_modified(struct store *s, const char *feed, const char *url,
                                         const char *etag, const char *lm, int64_t now)
{
    struct store_fetch fx = {.not_modified = true, .etag = etag, .last_modified = lm};
    return store_apply_fetch(s, store_token(s, feed, url), &fx, now, NULL, NULL);
}

static const struct store_item *dump_find(const struct store_dump *d, const char *feed,
                                          const char *title)
{
    for (size_t i = 0; i < d->n_feeds; i++)
        if (strcmp(d->feeds[i].name, feed) == 0)
            for (size_t j = 0; j < d->feeds[i].n_items; j++)
                if (strcmp(d->feeds[i].items[j].title, title) == 0)
                    return &d->feeds[i].items[j];
    return NULL;
}

static void test_first_seen(void)
{
    struct config *cfg = tcfg_new(ORDER_FEEDS, 0, 0);
    tcfg_feed(cfg, "a", "http://a/", NULL, 0);
    struct store *s = store_new();
    store_configure(s, cfg, 100);

    struct store_item v1[] = {titem("A", "http://a/1", 0, 0), titem("B", NULL, 0, 0)};
    CHECK(store_replace_items(s, "a", v1, 2, 100));
    /* Same titles with another link, or seen first elsewhere, are new. */
    struct store_item v2[] = {titem("B", NULL, 0, 0), titem("C", NULL, 0, 0),
                              titem("A", "http://a/1", 0, 999), titem("D", NULL, 0, 50),
                              titem("A", "http://a/other", 0, 0)};
    CHECK(store_replace_items(s, "a", v2, 5, 200));
    struct store_dump d = store_dump(s);
    CHECK_INT(d.n_feeds, 1);
    CHECK_INT(d.feeds[0].n_items, 5);
    CHECK_INT(d.feeds[0].last_success, 200);
    /* Document order is the new one. */
    CHECK_STR(d.feeds[0].items[0].title, "B");
    CHECK_STR(d.feeds[0].items[2].title, "A");
    CHECK_INT(d.feeds[0].items[0].first_seen, 100); /* kept */
    CHECK_INT(d.feeds[0].items[1].first_seen, 200); /* new: now */
    CHECK_INT(d.feeds[0].items[2].first_seen, 100); /* stored beats incoming */
    CHECK_INT(d.feeds[0].items[3].first_seen, 50);  /* new with its own */
    CHECK_INT(d.feeds[0].items[4].first_seen, 200); /* link differs: new */
    store_dump_free(&d);

    /* An item that disappears and comes back is new again. */
    struct store_item v3[] = {titem("C", NULL, 0, 0)};
    store_replace_items(s, "a", v3, 1, 300);
    store_replace_items(s, "a", v1, 1, 400);
    d = store_dump(s);
    CHECK_INT(d.feeds[0].items[0].first_seen, 400);
    store_dump_free(&d);

    CHECK(!store_replace_items(s, "nope", v1, 2, 500));
    store_free(s);
    tcfg_free(cfg);
}

static void test_generation(void)
{
    struct config *cfg = tcfg_new(ORDER_NEWEST, 0, 0);
    tcfg_feed(cfg, "a", "http://a/", "A", 0);
    tcfg_feed(cfg, "b", "http://b/", "B", 0);
    struct store *s = store_new();

    const struct store_snapshot *empty = store_snapshot(s);
    CHECK(empty != NULL);
    CHECK_INT(empty->n, 0);
    CHECK_INT(empty->generation, store_generation(s));
    store_snapshot_release(empty);

    store_configure(s, cfg, 1000);
    uint64_t g0 = store_generation(s);
    struct store_item va[] = {titem("one", "http://a/1", 10, 0), titem("two", NULL, 20, 0)};
    CHECK(store_replace_items(s, "a", va, 2, 1000));
    uint64_t g1 = store_generation(s);
    CHECK_INT(g1, g0 + 1);
    const struct store_snapshot *s1 = store_snapshot(s);
    CHECK_INT(s1->generation, g1);
    CHECK_INT(s1->n, 2);

    /* Same list again (later fetch, same items): nothing published. */
    CHECK(!store_replace_items(s, "a", va, 2, 2000));
    CHECK_INT(store_generation(s), g1);
    const struct store_snapshot *s2 = store_snapshot(s);
    CHECK(s2 == s1);
    store_snapshot_release(s2);
    CHECK_INT(t_not_modified(s, "a", "http://a/", "\"e1\"", NULL, 3000), STORE_CHANGED);
    CHECK(!store_expire(s, 3000));
    store_configure(s, cfg, 3000);
    CHECK_INT(store_generation(s), g1);

    /* An item from another feed, a label change, and an order change each
     * publish. */
    struct store_item vb[] = {titem("three", NULL, 30, 0)};
    CHECK(store_replace_items(s, "b", vb, 1, 3000));
    CHECK_INT(store_generation(s), g1 + 1);
    free(cfg->feeds[0].label);
    cfg->feeds[0].label = kt_strdup("Label A");
    store_configure(s, cfg, 3000);
    CHECK_INT(store_generation(s), g1 + 2);
    cfg->order = ORDER_FEEDS;
    store_configure(s, cfg, 3000);
    CHECK_INT(store_generation(s), g1 + 3);
    const struct store_snapshot *s3 = store_snapshot(s);
    CHECK_INT(s3->generation, g1 + 3);
    CHECK_INT(s3->n, 3);
    CHECK_STR(s3->items[0].label, "Label A");
    CHECK_STR(s3->items[0].title, "one");
    CHECK_STR(s3->items[2].title, "three");

    /* The old snapshot is untouched by all this. */
    CHECK_INT(s1->generation, g1);
    CHECK_INT(s1->n, 2);
    CHECK_STR(s1->items[0].title, "two");
    CHECK_STR(s1->items[0].label, "A");
    CHECK_STR(s1->items[1].link, "http://a/1");
    CHECK(s1->items[0].link == NULL);
    store_snapshot_release(s1);
    store_snapshot_release(s3);
    store_free(s);
    tcfg_free(cfg);
}

static void test_ids(void)
{
    struct config *cfg = tcfg_new(ORDER_FEEDS, 0, 0);
    tcfg_feed(cfg, "a", "http://a/", NULL, 0);
    tcfg_feed(cfg, "b", "http://b/", NULL, 0);
    struct store *s = store_new();
    store_configure(s, cfg, 0);
    struct store_item v[] = {titem("x", "http://l/", 1, 0), titem("y", NULL, 1, 0),
                             titem("x", "http://l/2", 1, 0)};
    struct store_item w[] = {titem("z", NULL, 1, 0)};
    store_replace_items(s, "a", v, 3, 0);
    store_replace_items(s, "b", w, 1, 0);
    const struct store_snapshot *a = store_snapshot(s);
    /* Title "x" again is de-duplicated, so: x, y, z. */
    CHECK_INT(a->n, 3);
    CHECK(a->items[0].id != a->items[1].id);
    CHECK(a->items[1].id != a->items[2].id);

    /* The id is a function of feed, title and link only: a second store with
     * the same items, fetched at another time, agrees. */
    struct store *t = store_new();
    store_configure(t, cfg, 5000);
    store_replace_items(t, "b", w, 1, 5000);
    store_replace_items(t, "a", v, 3, 6000);
    const struct store_snapshot *b = store_snapshot(t);
    CHECK_INT(b->n, 3);
    for (size_t i = 0; i < 3 && i < b->n; i++)
        CHECK(a->items[i].id == b->items[i].id);

    /* The same headline from another feed is another id. */
    struct store *u = store_new();
    store_configure(u, cfg, 0);
    store_replace_items(u, "b", v, 1, 0);
    const struct store_snapshot *c = store_snapshot(u);
    CHECK_INT(c->n, 1);
    CHECK_STR(c->items[0].title, a->items[0].title);
    CHECK(c->items[0].id != a->items[0].id);
    store_snapshot_release(c);
    store_free(u);

    store_snapshot_release(a);
    store_snapshot_release(b);
    store_free(s);
    store_free(t);
    tcfg_free(cfg);
}

static void test_snapshot_lifetime(void)
{
    struct config *cfg = tcfg_new(ORDER_FEEDS, 0, 0);
    tcfg_feed(cfg, "a", "http://a/", "A", 0);
    struct store *s = store_new();
    store_configure(s, cfg, 0);
    struct store_item v1[] = {titem("first list", "http://a/1", 0, 0)};
    struct store_item v2[] = {titem("second list", "http://a/2", 0, 0)};
    store_replace_items(s, "a", v1, 1, 0);
    const struct store_snapshot *old1 = store_snapshot(s);
    const struct store_snapshot *old2 = store_snapshot(s); /* a second reader */
    store_replace_items(s, "a", v2, 1, 0);
    const struct store_snapshot *cur = store_snapshot(s);
    CHECK_STR(cur->items[0].title, "second list");
    /* Release order does not matter; the remaining holder still sees it. */
    store_snapshot_release(old1);
    CHECK_STR(old2->items[0].title, "first list");
    CHECK_STR(old2->items[0].feed, "a");
    /* Even the store going away leaves held snapshots readable. */
    store_free(s);
    CHECK_STR(old2->items[0].link, "http://a/1");
    CHECK_STR(cur->items[0].link, "http://a/2");
    CHECK_STR(cur->items[0].label, "A");
    store_snapshot_release(cur);
    store_snapshot_release(old2);
    tcfg_free(cfg);
}

static void test_reconfigure(void)
{
    struct config *cfg = tcfg_new(ORDER_FEEDS, 0, 0);
    tcfg_feed(cfg, "keep", "http://k/", NULL, 0);
    tcfg_feed(cfg, "moved", "http://m/", NULL, 0);
    tcfg_feed(cfg, "renamed", "http://r/", NULL, 0);
    tcfg_feed(cfg, "shrunk", "http://s/", NULL, 0);
    struct store *s = store_new();
    store_configure(s, cfg, 0);
    struct store_item v[] = {titem("i1", NULL, 0, 0), titem("i2", NULL, 0, 0),
                             titem("i3", NULL, 0, 0)};
    const char *names[] = {"keep", "moved", "renamed", "shrunk"};
    for (int i = 0; i < 4; i++) {
        char t0[32], t1[32], t2[32];
        snprintf(t0, sizeof t0, "%s 1", names[i]);
        snprintf(t1, sizeof t1, "%s 2", names[i]);
        snprintf(t2, sizeof t2, "%s 3", names[i]);
        v[0].title = t0;
        v[1].title = t1;
        v[2].title = t2;
        store_replace_items(s, names[i], v, 3, 10);
        CHECK_INT(t_not_modified(s, names[i],
                                 i == 1   ? "http://m/"
                                 : i == 2 ? "http://r/"
                                 : i == 0 ? "http://k/"
                                          : "http://s/",
                                 "etag", "lm", 10),
                  STORE_CHANGED);
    }

    struct config *c2 = tcfg_new(ORDER_FEEDS, 0, 0);
    tcfg_feed(c2, "shrunk", "http://s/", NULL, 2);
    tcfg_feed(c2, "moved", "http://m/new", NULL, 0);
    tcfg_feed(c2, "new name", "http://r/", NULL, 0);
    tcfg_feed(c2, "keep", "http://k/", "Kept", 0);
    store_configure(s, c2, 20);

    struct store_dump d = store_dump(s);
    CHECK_INT(d.n_feeds, 4);
    CHECK_STR(d.feeds[0].name, "shrunk");
    CHECK_INT(d.feeds[0].n_items, 2);
    CHECK_STR(d.feeds[1].name, "moved");
    CHECK_STR(d.feeds[1].url, "http://m/new");
    CHECK_INT(d.feeds[1].n_items, 0);
    CHECK(d.feeds[1].etag == NULL);
    CHECK_INT(d.feeds[1].ttl_minutes, 0);
    CHECK_INT(d.feeds[2].n_items, 0);
    CHECK_STR(d.feeds[3].name, "keep");
    CHECK_INT(d.feeds[3].n_items, 3);
    CHECK_STR(d.feeds[3].etag, "etag");
    CHECK_INT(d.feeds[3].last_success, 10);
    CHECK(dump_find(&d, "keep", "keep 3") != NULL);
    store_dump_free(&d);

    const struct store_snapshot *snap = store_snapshot(s);
    CHECK_INT(snap->n, 5);
    CHECK_STR(snap->items[0].title, "shrunk 1");
    CHECK_STR(snap->items[1].title, "shrunk 2");
    CHECK_STR(snap->items[2].title, "keep 1");
    CHECK_STR(snap->items[2].label, "Kept");
    store_snapshot_release(snap);

    /* The old name is gone: its fetch results are ignored. */
    CHECK(!store_replace_items(s, "renamed", v, 3, 30));
    CHECK_INT(store_token(s, "renamed", "http://r/"), 0);
    store_free(s);
    tcfg_free(cfg);
    tcfg_free(c2);
}

static void test_expire(void)
{
    struct config *cfg = tcfg_new(ORDER_FEEDS, 0, 100);
    tcfg_feed(cfg, "a", "http://a/", NULL, 0);
    struct store *s = store_new();
    store_configure(s, cfg, 1000);
    struct store_item v[] = {titem("dated", NULL, 1000, 0), titem("undated", NULL, 0, 0),
                             titem("late", NULL, 1150, 0)};
    store_replace_items(s, "a", v, 3, 1050);
    CHECK(!store_expire(s, 1100));
    /* 1101: "dated" is 101 s old; "undated" was first seen at 1050. */
    CHECK(store_expire(s, 1101));
    struct store_dump d = store_dump(s);
    CHECK_INT(d.feeds[0].n_items, 2);
    CHECK_STR(d.feeds[0].items[0].title, "undated");
    CHECK_STR(d.feeds[0].items[1].title, "late");
    store_dump_free(&d);
    CHECK(!store_expire(s, 1101));
    CHECK(store_expire(s, 1151));
    const struct store_snapshot *snap = store_snapshot(s);
    CHECK_INT(snap->n, 1);
    CHECK_STR(snap->items[0].title, "late");
    store_snapshot_release(snap);
    store_free(s);
    tcfg_free(cfg);
}

static void test_meta(void)
{
    struct config *cfg = tcfg_new(ORDER_FEEDS, 0, 0);
    tcfg_feed(cfg, "a", "http://a/", NULL, 0);
    struct store *s = store_new();
    store_configure(s, cfg, 0);
    uint64_t tok = store_token(s, "a", "http://a/");
    CHECK(tok != 0);
    CHECK_INT(store_token(s, "a", "http://other/"), 0);
    char *etag = (char *)"x", *lm = (char *)"x";
    int64_t last = -1;
    int ttl = -5;
    CHECK(store_feed_validators(s, tok, &etag, &lm));
    CHECK(etag == NULL && lm == NULL);
    CHECK(store_feed_schedule(s, tok, &last, &ttl));
    CHECK_INT(last, 0);
    CHECK_INT(ttl, 0);
    /* A 200 sets them, with the document's ttl. */
    struct feed_doc doc = {.ttl_minutes = 30};
    struct store_fetch full = {
        .doc = &doc, .etag = "W/\"1\"", .last_modified = "Mon, 01 Jan 2024 00:00:00 GMT"};
    CHECK_INT(store_apply_fetch(s, tok, &full, 50, NULL, NULL), STORE_CHANGED);
    /* A 304 that omits them keeps the ones sent: nothing to save. */
    struct store_fetch nm = {.not_modified = true};
    CHECK_INT(store_apply_fetch(s, tok, &nm, 60, NULL, NULL), STORE_SAME);
    CHECK(store_feed_validators(s, tok, &etag, &lm));
    CHECK_STR(etag, "W/\"1\"");
    CHECK_STR(lm, "Mon, 01 Jan 2024 00:00:00 GMT");
    free(etag);
    free(lm);
    CHECK(store_feed_schedule(s, tok, &last, &ttl));
    CHECK_INT(last, 60);
    CHECK_INT(ttl, 30);
    /* A 200 without them clears them (the server stopped sending them). */
    struct store_fetch bare = {.doc = &doc};
    CHECK_INT(store_apply_fetch(s, tok, &bare, 70, NULL, NULL), STORE_CHANGED);
    CHECK(store_feed_validators(s, tok, &etag, &lm));
    CHECK(etag == NULL && lm == NULL);
    /* The same again: nothing changed. */
    CHECK_INT(store_apply_fetch(s, tok, &bare, 80, NULL, NULL), STORE_SAME);
    /* An unknown token is gone, and nothing happens. */
    CHECK_INT(store_apply_fetch(s, tok + 1000, &full, 90, NULL, NULL), STORE_GONE);
    CHECK(!store_feed_validators(s, tok + 1000, &etag, &lm));
    CHECK(!store_feed_schedule(s, tok + 1000, &last, &ttl));
    store_free(s);
    tcfg_free(cfg);
}

static void test_dump_restore(void)
{
    struct config *cfg = tcfg_new(ORDER_FEEDS, 0, 0);
    tcfg_feed(cfg, "a", "http://a/", NULL, 0);
    tcfg_feed(cfg, "b", "http://b/", NULL, 0);
    struct store *s = store_new();
    store_configure(s, cfg, 0);
    struct store_item v[] = {titem("a1", "http://a/1", 5, 0), titem("a2", NULL, 0, 0),
                             titem("a3", NULL, 0, 0)};
    store_replace_items(s, "a", v, 3, 100);
    t_not_modified(s, "a", "http://a/", "e", "lm", 100);
    store_replace_items(s, "b", v, 1, 100);
    struct store_dump d = store_dump(s);
    d.feeds[0].ttl_minutes = 15;
    store_free(s);

    /* a: same name and url, limited to 2 items. b: url changed. c: absent
     * from the dump. */
    struct config *c2 = tcfg_new(ORDER_FEEDS, 0, 0);
    tcfg_feed(c2, "c", "http://c/", NULL, 0);
    tcfg_feed(c2, "b", "http://b/changed", NULL, 0);
    tcfg_feed(c2, "a", "http://a/", NULL, 2);
    struct store *t = store_new();
    store_configure(t, c2, 200);
    uint64_t g = store_generation(t);
    CHECK_INT(store_restore(t, &d, 300), 1);
    CHECK_INT(store_generation(t), g + 1);
    struct store_dump e = store_dump(t);
    CHECK_INT(e.n_feeds, 3);
    CHECK_INT(e.feeds[0].n_items, 0);
    CHECK_INT(e.feeds[1].n_items, 0);
    CHECK_INT(e.feeds[2].n_items, 2);
    CHECK_STR(e.feeds[2].etag, "e");
    CHECK_STR(e.feeds[2].last_modified, "lm");
    CHECK_INT(e.feeds[2].ttl_minutes, 15);
    CHECK_INT(e.feeds[2].last_success, 100);
    CHECK_STR(e.feeds[2].items[0].link, "http://a/1");
    CHECK_INT(e.feeds[2].items[0].published, 5);
    CHECK_INT(e.feeds[2].items[1].first_seen, 100);
    /* Deep copies: the dump is independent of the store. */
    CHECK(e.feeds[2].items[0].title != d.feeds[0].items[0].title);
    store_dump_free(&e);
    store_dump_free(&d);
    CHECK(d.feeds == NULL && d.n_feeds == 0);
    const struct store_snapshot *snap = store_snapshot(t);
    CHECK_INT(snap->n, 2);
    store_snapshot_release(snap);
    store_free(t);
    tcfg_free(cfg);
    tcfg_free(c2);
}

/* Fetch threads replace while a render thread reads; every snapshot a reader
 * sees must be internally consistent and generations must only grow. */
struct thread_arg {
    struct store *s;
    const char *feed;
    int bad;
};

static void *writer(void *p)
{
    struct thread_arg *a = p;
    char t[3][48];
    struct store_item v[3];
    for (int round = 0; round < 2000; round++) {
        for (int i = 0; i < 3; i++) {
            snprintf(t[i], sizeof t[i], "%s round %d item %d", a->feed, round % 7, i);
            v[i] = titem(t[i], NULL, round, 0);
        }
        store_replace_items(a->s, a->feed, v, 3, round);
        if (round % 100 == 0)
            store_expire(a->s, round);
    }
    return NULL;
}

static void *reader(void *p)
{
    struct thread_arg *a = p;
    uint64_t last = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t g = store_generation(a->s);
        const struct store_snapshot *snap = store_snapshot(a->s);
        if (snap->generation < last || snap->generation < g || snap->n > 6)
            a->bad++;
        for (size_t k = 0; k < snap->n; k++)
            if (strstr(snap->items[k].title, snap->items[k].feed) != snap->items[k].title)
                a->bad++;
        last = snap->generation;
        store_snapshot_release(snap);
    }
    return NULL;
}

static void test_threads(void)
{
    struct config *cfg = tcfg_new(ORDER_INTERLEAVE, 0, 0);
    tcfg_feed(cfg, "alpha", "http://a/", NULL, 0);
    tcfg_feed(cfg, "beta", "http://b/", NULL, 0);
    struct store *s = store_new();
    store_configure(s, cfg, 0);
    struct thread_arg args[3] = {{s, "alpha", 0}, {s, "beta", 0}, {s, NULL, 0}};
    pthread_t th[3];
    CHECK(pthread_create(&th[0], NULL, writer, &args[0]) == 0);
    CHECK(pthread_create(&th[1], NULL, writer, &args[1]) == 0);
    CHECK(pthread_create(&th[2], NULL, reader, &args[2]) == 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    CHECK_INT(args[2].bad, 0);
    const struct store_snapshot *snap = store_snapshot(s);
    CHECK_INT(snap->n, 6);
    store_snapshot_release(snap);
    store_free(s);
    tcfg_free(cfg);
}

/* ---- entries: what the parser gave, kept so a reload derives again ---- */

static struct config *tcfg_rules(const char *exclude, int max_chars, int feed_max_items)
{
    struct config *c = tcfg_new(ORDER_FEEDS, 0, 0);
    c->max_chars = max_chars;
    if (exclude) {
        c->exclude.v = kt_calloc(1, sizeof *c->exclude.v);
        c->exclude.v[0] = kt_strdup(exclude);
        c->exclude.n = 1;
    }
    tcfg_feed(c, "a", "http://a/", NULL, feed_max_items);
    return c;
}

static void tcfg_rules_free(struct config *c)
{
    for (size_t i = 0; i < c->exclude.n; i++)
        free(c->exclude.v[i]);
    free(c->exclude.v);
    tcfg_free(c);
}

static enum store_outcome t_fetch(struct store *s, const struct feed_entry *e, size_t n,
                                  int64_t now)
{
    struct feed_doc doc = {.n_entries = n, .entries = (struct feed_entry *)e};
    struct store_fetch fx = {.doc = &doc};
    return store_apply_fetch(s, store_token(s, "a", "http://a/"), &fx, now, NULL, NULL);
}

static const char *t_title(struct store *s, size_t i)
{
    static char buf[256];
    const struct store_snapshot *snap = store_snapshot(s);
    snprintf(buf, sizeof buf, "%s", i < snap->n ? snap->items[i].title : "(none)");
    store_snapshot_release(snap);
    return buf;
}

static size_t t_n(struct store *s)
{
    const struct store_snapshot *snap = store_snapshot(s);
    size_t n = snap->n;
    store_snapshot_release(snap);
    return n;
}

static void test_rederive(void)
{
    struct feed_entry e[] = {
        {.title = "Harbour <b>closes</b> for repairs", .title_html = true, .link = "http://a/1"},
        {.title = "Council approves the new budget", .link = "http://a/2", .published = 50},
        {.summary = "<p>No title here. Second sentence.</p>", .summary_html = true},
        {.title = "   ", .summary = "Summary of a blank title. More."},
    };
    struct config *c0 = tcfg_rules(NULL, 0, 0);
    struct store *s = store_new();
    store_configure(s, c0, 100);
    CHECK_INT(t_fetch(s, e, 4, 100), STORE_CHANGED);
    CHECK_INT(t_n(s), 4);
    CHECK_STR(t_title(s, 0), "Harbour closes for repairs");
    CHECK_STR(t_title(s, 2), "No title here.");
    CHECK_STR(t_title(s, 3), "Summary of a blank title.");
    /* Summaries are kept only where the headline comes from them. */
    struct store_dump d = store_dump(s);
    CHECK(d.feeds[0].has_entries && d.feeds[0].n_entries == 4);
    CHECK(d.feeds[0].entries[0].summary == NULL);
    CHECK(d.feeds[0].entries[2].summary != NULL && d.feeds[0].entries[2].summary_html);
    CHECK(d.feeds[0].entries[3].summary != NULL);
    CHECK_STR(d.feeds[0].entries[0].title, "Harbour <b>closes</b> for repairs");
    store_dump_free(&d);

    /* The same document again: nothing changed, nothing to save. */
    uint64_t gen = store_content_generation(s);
    CHECK_INT(t_fetch(s, e, 4, 200), STORE_SAME);
    CHECK_INT(store_content_generation(s), gen);

    /* A reload with new rules: applied to what is held, no fetch. */
    struct config *c1 = tcfg_rules("harbour", 0, 0);
    store_configure(s, c1, 300);
    CHECK_INT(t_n(s), 3);
    CHECK_STR(t_title(s, 0), "Council approves the new budget");
    struct config *c2 = tcfg_rules(NULL, 12, 0);
    store_configure(s, c2, 300);
    CHECK_INT(t_n(s), 4);
    for (size_t i = 0; i < 4; i++)
        CHECK(uni_count(t_title(s, i), strlen(t_title(s, i))) <= 12);
    struct config *c3 = tcfg_rules(NULL, 0, 1);
    store_configure(s, c3, 300);
    CHECK_INT(t_n(s), 1);
    /* Back to the first rules: everything again, first_seen kept. */
    store_configure(s, c0, 300);
    CHECK_INT(t_n(s), 4);
    CHECK_STR(t_title(s, 1), "Council approves the new budget");
    d = store_dump(s);
    CHECK_INT(d.feeds[0].items[0].first_seen, 100);
    store_dump_free(&d);
    /* A reload changes nothing the cache holds when the feeds stay. */
    gen = store_content_generation(s);
    store_configure(s, c1, 300);
    CHECK_INT(store_content_generation(s), gen);

    /* A changed document: new entries are new, the others keep their time. */
    struct feed_entry f[] = {e[1], {.title = "Fresh one", .link = "http://a/9"}};
    CHECK_INT(t_fetch(s, f, 2, 400), STORE_CHANGED);
    d = store_dump(s);
    CHECK_INT(d.feeds[0].n_entries, 2);
    CHECK_INT(d.feeds[0].entries[0].first_seen, 100);
    CHECK_INT(d.feeds[0].entries[1].first_seen, 400);
    store_dump_free(&d);
    store_free(s);
    tcfg_rules_free(c0);
    tcfg_rules_free(c1);
    tcfg_rules_free(c2);
    tcfg_rules_free(c3);
}

/* An undated entry that aged out stays out while the feed still serves it
 * (it was first seen long ago), and comes back with a longer max_age. */
static void test_expired_entries(void)
{
    struct config *c = tcfg_rules(NULL, 0, 0);
    c->max_age = 100;
    struct store *s = store_new();
    store_configure(s, c, 1000);
    struct feed_entry e[] = {{.title = "Undated"}, {.title = "Dated", .published = 1050}};
    t_fetch(s, e, 2, 1000);
    CHECK_INT(t_n(s), 2);
    CHECK(store_expire(s, 1101));
    CHECK_INT(t_n(s), 1);
    CHECK_INT(t_fetch(s, e, 2, 1102), STORE_SAME);
    CHECK_INT(t_n(s), 1);
    CHECK_STR(t_title(s, 0), "Dated");
    c->max_age = 1000;
    store_configure(s, c, 1103);
    CHECK_INT(t_n(s), 2);
    store_free(s);
    tcfg_rules_free(c);
}

/* What is kept of one document is bounded; what the bounds cut is said. */
static void test_entry_bounds(void)
{
    struct config *c = tcfg_rules(NULL, 0, 0);
    struct store *s = store_new();
    store_configure(s, c, 1);
    size_t n = STORE_MAX_ENTRIES + 5;
    struct feed_entry *e = kt_calloc(n, sizeof *e);
    char(*titles)[24] = kt_calloc(n, sizeof *titles);
    for (size_t i = 0; i < n; i++) {
        snprintf(titles[i], sizeof titles[i], "Item %zu", i);
        e[i].title = titles[i];
    }
    struct feed_doc doc = {.n_entries = n, .entries = e};
    struct store_fetch fx = {.doc = &doc};
    size_t kept = 0, shown = 0;
    store_apply_fetch(s, store_token(s, "a", "http://a/"), &fx, 2, &kept, &shown);
    CHECK_INT(kept, STORE_MAX_ENTRIES);
    CHECK_INT(shown, STORE_MAX_ENTRIES);
    /* Text: a few huge entries stop at the feed's budget; a long title is
     * considered up to its first STORE_MAX_FIELD bytes, at a character. */
    size_t big = STORE_MAX_FIELD + 100;
    char *huge = kt_malloc(big + 1);
    for (size_t i = 0; i < big; i += 2)
        memcpy(huge + i, "\xc3\xa9", 2); /* é: a cut must not split it */
    huge[big] = '\0';
    size_t m = 2 * STORE_MAX_FEED_BYTES / STORE_MAX_FIELD;
    for (size_t i = 0; i < m; i++)
        e[i].title = huge;
    doc.n_entries = m;
    store_apply_fetch(s, store_token(s, "a", "http://a/"), &fx, 3, &kept, NULL);
    CHECK(kept > 0 && kept < m);
    struct store_dump d = store_dump(s);
    CHECK(strlen(d.feeds[0].entries[0].title) <= STORE_MAX_FIELD);
    CHECK(uni_valid(d.feeds[0].entries[0].title, strlen(d.feeds[0].entries[0].title)));
    store_dump_free(&d);
    free(huge);
    free(titles);
    free(e);
    store_free(s);
    tcfg_rules_free(c);
}

/* The wall clock stepped: times recorded under the old clock move with
 * it, others stay; a time from before any clock was set becomes now. */
static void test_shift_time(void)
{
    struct config *c = tcfg_rules(NULL, 0, 0);
    struct store *s = store_new();
    store_configure(s, c, 100);
    struct store_item v[] = {titem("recorded at 1970+100", NULL, 0, 100),
                             titem("from an old cache", NULL, 0, 1700000000),
                             titem("before the clock was set, long ago", NULL, 0, 20)};
    store_replace_items(s, "a", v, 3, 100);
    int64_t now = 1767225600;
    store_shift_time(s, now - 160, 50, 160, now);
    struct store_dump d = store_dump(s);
    CHECK_INT(d.feeds[0].items[0].first_seen, now - 60);
    CHECK_INT(d.feeds[0].items[1].first_seen, 1700000000);
    CHECK_INT(d.feeds[0].items[2].first_seen, now);
    CHECK_INT(d.feeds[0].last_success, now - 60);
    store_dump_free(&d);
    CHECK(SCHEDULE_SANE_TIME > 0);
    store_free(s);
    tcfg_rules_free(c);
}

/* ---- messages and alerts ---- */

static struct message tmsg(const char *id, const char *text, int sev, int64_t created,
                           int64_t expires)
{
    struct message m = {0};
    m.id = (char *)id;
    m.text = (char *)text;
    m.has_severity = sev >= 0;
    m.severity = sev >= 0 ? (enum alert_severity)sev : ALERT_UNKNOWN;
    m.created = created;
    m.expires = expires;
    return m;
}

static struct alert talert(const char *id, const char *src, enum alert_severity sev, int64_t sent,
                           int64_t effective, int64_t expires)
{
    return (struct alert){.id = (char *)id,
                          .source = (char *)src,
                          .severity = sev,
                          .text = (char *)id,
                          .label = (char *)"L",
                          .sent = sent,
                          .effective = effective,
                          .expires = expires};
}

static void test_messages(void)
{
    struct config *cfg = tcfg_new(ORDER_FEEDS, 0, 0);
    tcfg_feed(cfg, "a", "http://a", "A", 0);
    struct store *s = store_new();
    store_configure(s, cfg, 1000);
    struct store_item v[] = {titem("Headline", NULL, 0, 0)};
    store_replace_items(s, "a", v, 1, 1000);
    char err[KT_ERR_MAX];

    struct message ann = tmsg("hello", "Lobby closes early", -1, 1000, 5000);
    CHECK_INT(store_message_put(s, "api", &ann, 1000, err, sizeof err), 0);
    struct message sev = tmsg("fire", "Fire drill", ALERT_SEVERE, 1001, 3000);
    CHECK_INT(store_message_put(s, "api", &sev, 1001, err, sizeof err), 0);
    const struct store_snapshot *snap = store_snapshot(s);
    CHECK_INT(snap->n, 2);
    CHECK(snap->items[0].announcement);
    CHECK_STR(snap->items[0].label, "Notice");
    CHECK_STR(snap->items[0].title, "Lobby closes early");
    CHECK(!snap->items[1].announcement);
    CHECK_STR(snap->items[1].title, "Headline");
    CHECK_INT(snap->n_alerts, 1);
    CHECK_STR(snap->alerts[0].text, "Fire drill");
    CHECK_STR(snap->alerts[0].source, ALERT_SOURCE_MESSAGE);
    CHECK_INT(snap->next_change, 3000); /* the alert ends before the announcement */
    store_snapshot_release(snap);

    /* Same (origin, id) replaces; another origin is another message. */
    struct message ann2 = tmsg("hello", "Lobby open again", -1, 1002, 0);
    CHECK_INT(store_message_put(s, "api", &ann2, 1002, err, sizeof err), 0);
    CHECK_INT(store_message_put(s, "all", &ann2, 1002, err, sizeof err), 0);
    snap = store_snapshot(s);
    CHECK_INT(snap->n, 3);
    CHECK_STR(snap->items[0].title, "Lobby open again");
    store_snapshot_release(snap);

    /* Expired at put: refused with the field named. */
    struct message old = tmsg("old", "Too late", -1, 10, 20);
    CHECK_INT(store_message_put(s, "api", &old, 1003, err, sizeof err), -1);
    CHECK(strstr(err, "expires") != NULL);
    struct message bad = tmsg("bad", "Bad hours", -1, 10, 0);
    bad.show = (char *)"Fir 09:00-10:00";
    CHECK_INT(store_message_put(s, "api", &bad, 1003, err, sizeof err), -1);
    CHECK(strncmp(err, "show:", 5) == 0);

    /* The limit. */
    char id[32];
    size_t kept = 3;
    for (int i = 0; i < STORE_MAX_MESSAGES + 5; i++) {
        snprintf(id, sizeof id, "m%d", i);
        struct message m = tmsg(id, "x", -1, 1004, 0);
        if (store_message_put(s, "api", &m, 1004, err, sizeof err) == 0)
            kept++;
    }
    CHECK_INT(kept, STORE_MAX_MESSAGES);
    CHECK(strstr(err, "too many messages") != NULL);

    /* Remove by origin or any; clear by origin or all. */
    CHECK(store_message_remove(s, NULL, "fire"));
    CHECK(!store_message_remove(s, NULL, "fire"));
    CHECK(!store_message_remove(s, "group/x", "hello"));
    CHECK(store_message_remove(s, "all", "hello"));
    snap = store_snapshot(s);
    CHECK_INT(snap->n_alerts, 0);
    store_snapshot_release(snap);
    CHECK_INT(store_message_clear(s, "nobody"), 0);
    CHECK_INT(store_message_clear(s, NULL), STORE_MAX_MESSAGES - 2);
    snap = store_snapshot(s);
    CHECK_INT(snap->n, 1);
    store_snapshot_release(snap);

    /* Dump carries messages; restore drops the expired ones. */
    struct message keep = tmsg("keep", "Kept", ALERT_EXTREME, 1000, 0);
    struct message gone = tmsg("gone", "Gone", -1, 1000, 1500);
    store_message_put(s, "api", &keep, 1005, err, sizeof err);
    store_message_put(s, "screen/x", &gone, 1005, err, sizeof err);
    struct store_dump d = store_dump(s);
    CHECK_INT(d.n_messages, 2);
    struct store *s2 = store_new();
    store_configure(s2, cfg, 2000);
    store_restore(s2, &d, 2000);
    struct store_message *ms;
    size_t n = store_messages(s2, 2000, &ms);
    CHECK_INT(n, 1);
    CHECK_STR(ms[0].m.id, "keep");
    CHECK_STR(ms[0].origin, "api");
    store_messages_free(ms, n);
    snap = store_snapshot(s2);
    CHECK_INT(snap->n_alerts, 1);
    CHECK_INT(snap->alerts[0].severity, ALERT_EXTREME);
    store_snapshot_release(snap);
    store_dump_free(&d);
    store_free(s2);
    store_free(s);
    tcfg_free(cfg);
}

static void test_alert_sources(void)
{
    struct config *cfg = tcfg_new(ORDER_FEEDS, 0, 0);
    cfg->alerts = kt_calloc(2, sizeof *cfg->alerts);
    cfg->n_alerts = 2;
    cfg->alerts[0].name = (char *)"wx";
    cfg->alerts[0].url = (char *)"http://wx";
    cfg->alerts[1].name = (char *)"civil";
    cfg->alerts[1].url = (char *)"http://civil";
    struct store *s = store_new();
    store_configure(s, cfg, 100);
    uint64_t wx = store_alert_token(s, "wx", "http://wx");
    uint64_t civil = store_alert_token(s, "civil", "http://civil");
    CHECK(wx && civil && wx != civil);
    CHECK_INT(store_alert_token(s, "wx", "http://other"), 0);

    struct alert a[] = {
        talert("minor", "wx", ALERT_MINOR, 90, 90, 0),
        talert("later", "wx", ALERT_EXTREME, 95, 200, 300), /* not yet effective */
        talert("severe-old", "wx", ALERT_SEVERE, 50, 50, 1000),
    };
    CHECK_INT(store_apply_alerts(s, wx, a, 3, 100), STORE_SAME);
    struct alert b[] = {talert("severe-new", "civil", ALERT_SEVERE, 99, 99, 150)};
    store_apply_alerts(s, civil, b, 1, 100);
    const struct store_snapshot *snap = store_snapshot(s);
    /* alert_sort order: severity, then newest. */
    CHECK_INT(snap->n_alerts, 3);
    CHECK_STR(snap->alerts[0].id, "severe-new");
    CHECK_STR(snap->alerts[1].id, "severe-old");
    CHECK_STR(snap->alerts[2].id, "minor");
    CHECK_INT(snap->next_change, 150);
    store_snapshot_release(snap);

    /* At next_change the supervisor refreshes: severe-new ends. */
    CHECK(store_refresh(s, 150));
    snap = store_snapshot(s);
    CHECK_INT(snap->n_alerts, 2);
    CHECK_INT(snap->next_change, 200);
    store_snapshot_release(snap);
    CHECK(store_refresh(s, 200));
    snap = store_snapshot(s);
    CHECK_INT(snap->n_alerts, 3);
    CHECK_STR(snap->alerts[0].id, "later");
    CHECK_INT(snap->built, 200);
    store_snapshot_release(snap);
    CHECK(!store_refresh(s, 201)); /* nothing changed: same snapshot */

    /* A source that left the config: its alerts go, its token is gone. */
    cfg->n_alerts = 1;
    store_configure(s, cfg, 210);
    CHECK_INT(store_apply_alerts(s, civil, b, 1, 210), STORE_GONE);
    CHECK_INT(store_alert_token(s, "wx", "http://wx"), wx);
    snap = store_snapshot(s);
    CHECK_INT(snap->n_alerts, 3);
    store_snapshot_release(snap);
    store_free(s);
    free(cfg->alerts);
    cfg->n_alerts = 0;
    cfg->alerts = NULL;
    tcfg_free(cfg);
}

/* show = hours on feeds, alert sources and messages, applied at build time. */
static void test_show_hours(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    struct config *cfg = tcfg_new(ORDER_FEEDS, 0, 0);
    tcfg_feed(cfg, "day", "http://d", "D", 0);
    tcfg_feed(cfg, "all", "http://a", "A", 0);
    char err[KT_ERR_MAX];
    CHECK_INT(hours_parse("09:00-17:00", &cfg->feeds[0].show, err, sizeof err), 0);
    /* 2026-12-07 (a Monday) 08:00 UTC */
    int64_t t8 = 1796630400;
    struct store *s = store_new();
    store_configure(s, cfg, t8);
    struct store_item v[] = {titem("Day news", NULL, 0, 0)};
    struct store_item w[] = {titem("Always news", NULL, 0, 0)};
    store_replace_items(s, "day", v, 1, t8);
    store_replace_items(s, "all", w, 1, t8);
    struct message m = tmsg("lunch", "Lunch is served", -1, t8, 0);
    m.show = (char *)"12:00-13:00";
    CHECK_INT(store_message_put(s, "api", &m, t8, err, sizeof err), 0);
    const struct store_snapshot *snap = store_snapshot(s);
    CHECK_INT(snap->n, 1);
    CHECK_STR(snap->items[0].title, "Always news");
    CHECK_INT(snap->next_change, t8 + 3600);
    store_snapshot_release(snap);
    CHECK(store_refresh(s, t8 + 3600));
    snap = store_snapshot(s);
    CHECK_INT(snap->n, 2);
    CHECK_INT(snap->next_change, t8 + 4 * 3600);
    store_snapshot_release(snap);
    CHECK(store_refresh(s, t8 + 4 * 3600));
    snap = store_snapshot(s);
    CHECK_INT(snap->n, 3);
    CHECK_STR(snap->items[0].title, "Lunch is served");
    store_snapshot_release(snap);
    store_free(s);
    tcfg_free(cfg);
}

int main(void)
{
    test_messages();
    test_alert_sources();
    test_show_hours();
    test_cases();
    test_first_seen();
    test_generation();
    test_ids();
    test_snapshot_lifetime();
    test_reconfigure();
    test_expire();
    test_meta();
    test_dump_restore();
    test_rederive();
    test_expired_entries();
    test_entry_bounds();
    test_shift_time();
    test_threads();
    return tap_done();
}
