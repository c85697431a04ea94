/*
 * test_cache: the cache file. Rejection reasons come from the tables in
 * tests/data/cache (foreign.list: files as found; sealed.list: record bodies
 * given a correct checksum here, so the record parser itself is reached).
 * In code: round trips, every truncation and single-byte corruption of a
 * real file, size limits, save/load through a store, crash leftovers.
 *
 * `cache --disk-full` is the separate ctest cache_disk_full: it mounts a
 * 64 KiB tmpfs in a private mount namespace and fills it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h> /* CLONE_*: <sched.h> is shadowed by src/sched.h */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "feed.h"
#include "store.h"
#include "tap.h"
#include "util.h"

/* An independent bitwise CRC-32, so the module's table is checked against
 * something it does not share code with. */
static uint32_t t_crc32(const char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= (unsigned char)p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* Appends the end line a writer would, with the given record count. */
static char *t_seal(const char *body, size_t len, size_t records, size_t *out_len)
{
    char end[64];
    int n = snprintf(end, sizeof end, "end %zu %08x\n", records, (unsigned)t_crc32(body, len));
    char *p = kt_malloc(len + (size_t)n + 1);
    memcpy(p, body, len);
    memcpy(p + len, end, (size_t)n + 1);
    *out_len = len + (size_t)n;
    return p;
}

static char *t_data_path(const char *rel)
{
    const char *root = getenv("KT_TEST_DATA");
    if (!root) {
        fprintf(stderr, "KT_TEST_DATA is not set\n");
        exit(1);
    }
    return kt_asprintf("%s/cache/%s", root, rel);
}

static char *t_read(const char *path, size_t *len)
{
    char *data, err[KT_ERR_MAX];
    if (kt_read_file(path, 64 << 20, &data, len, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return data;
}

/* Decodes and checks the outcome: want NULL = accepted, else the exact
 * reason; a rejected decode must leave an empty dump. */
static bool t_decode_expect(const char *data, size_t len, const char *want, const char *what)
{
    struct store_dump d = {(struct feed_state *)&d, 12345, (struct store_message *)&d,
                           777}; /* garbage in */
    char err[KT_ERR_MAX] = "";
    int rc = cache_decode(data, len, &d, err, sizeof err);
    bool ok;
    if (!want)
        ok = rc == 0;
    else
        ok = rc == -1 && strcmp(err, want) == 0 && d.feeds == NULL && d.n_feeds == 0;
    if (!ok)
        fprintf(stderr, "%s: got rc %d \"%s\", want %s%s%s\n", what, rc, rc ? err : "",
                want ? "\"" : "success", want ? want : "", want ? "\"" : "");
    if (rc == 0)
        store_dump_free(&d);
    return ok;
}

/* Reads a FILE|...|... table, skipping comments. Returns lines (caller
 * frees the buffer *buf). */
static size_t t_table(const char *name, char **buf, char ***lines)
{
    char *path = t_data_path(name);
    size_t len;
    *buf = t_read(path, &len);
    free(path);
    *lines = NULL;
    if (!*buf)
        return 0;
    size_t n = 0;
    for (char *l = *buf, *next; l && *l; l = next) {
        next = strchr(l, '\n');
        if (next)
            *next++ = '\0';
        if (*l == '#' || *l == '\0')
            continue;
        *lines = kt_realloc(*lines, (n + 1) * sizeof **lines);
        (*lines)[n++] = l;
    }
    return n;
}

static void test_foreign(void)
{
    char *buf, **lines;
    size_t n = t_table("foreign.list", &buf, &lines);
    CHECK(n >= 10);
    for (size_t i = 0; i < n; i++) {
        char *bar = strchr(lines[i], '|');
        CHECK(bar != NULL);
        if (!bar)
            continue;
        *bar = '\0';
        char *rel = kt_asprintf("foreign/%s", lines[i]), *path = t_data_path(rel);
        size_t len;
        char *data = t_read(path, &len);
        CHECK(data != NULL);
        if (data)
            CHECK(t_decode_expect(data, len, bar + 1, lines[i]));
        free(data);
        free(path);
        free(rel);
    }
    free(lines);
    free(buf);
}

static bool t_dump_eq(const struct store_dump *x, const struct store_dump *y);

static void test_sealed(void)
{
    char *buf, **lines;
    size_t n = t_table("sealed.list", &buf, &lines);
    CHECK(n >= 20);
    for (size_t i = 0; i < n; i++) {
        char *f[3] = {lines[i], NULL, NULL};
        f[1] = strchr(f[0], '|');
        f[2] = f[1] ? strchr(f[1] + 1, '|') : NULL;
        CHECK(f[2] != NULL);
        if (!f[2])
            continue;
        *f[1]++ = '\0';
        *f[2]++ = '\0';
        char *rel = kt_asprintf("sealed/%s", f[0]), *path = t_data_path(rel);
        size_t len;
        char *body = t_read(path, &len);
        CHECK(body != NULL);
        if (body) {
            size_t records = 0;
            for (size_t k = 0; k < len; k++)
                records += body[k] == '\n';
            records = strcmp(f[1], "-") == 0 ? records - 1 : strtoul(f[1], NULL, 10);
            size_t slen;
            char *sealed = t_seal(body, len, records, &slen);
            bool accept = strcmp(f[2], "ok") == 0;
            CHECK(t_decode_expect(sealed, slen, accept ? NULL : f[2], f[0]));
            if (accept) {
                /* Accepted files are written canonically: encoding what was
                 * read gives back the same bytes, checksum included (a
                 * version 1 file is written as version 2, which reads back
                 * to what it said). */
                struct store_dump d;
                char err[KT_ERR_MAX];
                if (cache_decode(sealed, slen, &d, err, sizeof err) == 0) {
                    size_t elen;
                    char *again = cache_encode(&d, &elen);
                    if (kt_str_has_prefix(sealed, "kiosk-ticker-cache 3\n")) {
                        CHECK(elen == slen && memcmp(again, sealed, slen) == 0);
                    } else {
                        struct store_dump back;
                        CHECK_INT(cache_decode(again, elen, &back, err, sizeof err), 0);
                        CHECK(t_dump_eq(&d, &back));
                        store_dump_free(&back);
                    }
                    free(again);
                    store_dump_free(&d);
                }
            }
            free(sealed);
        }
        free(body);
        free(path);
        free(rel);
    }
    free(lines);
    free(buf);
}

/* ---- round trips ---- */

static struct store_dump t_rich_dump(void)
{
    struct store_dump d = {kt_calloc(3, sizeof(struct feed_state)), 3, NULL, 0};
    struct feed_state *a = &d.feeds[0], *b = &d.feeds[1], *c = &d.feeds[2];
    a->name = kt_strdup("world news");
    a->url = kt_strdup("https://example.org/feed?a=1&b=\\x");
    a->etag = kt_strdup("W/\"33a64df5\"");
    a->last_modified = kt_strdup("Wed, 21 Oct 2015 07:28:00 GMT");
    a->last_success = 1700000000;
    a->ttl_minutes = 60;
    a->n_items = 5;
    a->items = kt_calloc(a->n_items, sizeof *a->items);
    a->items[0] = (struct store_item){kt_strdup("Tab\there, newline\nthere, CR\r, back\\slash"),
                                      kt_strdup("https://example.org/1"), 1699999000, 1699999100};
    a->items[1] = (struct store_item){kt_strdup("Café — 📰 中文 עברית"), NULL, 0, 1699990000};
    a->items[2] = (struct store_item){kt_strdup(""), kt_strdup(""), -1, 0};
    a->items[3] = (struct store_item){kt_strdup("\\N"), kt_strdup("\\N"), INT64_MAX, INT64_MIN};
    a->items[4] = (struct store_item){kt_strdup("  spaced  "), kt_strdup("\t"), 1, 2};
    b->name = kt_strdup("empty");
    b->url = kt_strdup("http://e/");
    c->name = kt_strdup("nometa");
    c->url = kt_strdup("http://n/");
    c->last_modified = kt_strdup("");
    c->n_items = 1;
    c->items = kt_calloc(1, sizeof *c->items);
    c->items[0] = (struct store_item){kt_strdup("only"), NULL, 5, 6};
    /* Entries as parsed (HTML, summaries, no title), under a name and URL
     * that are not UTF-8 (a Latin-1 config): they must come back byte for
     * byte, or the feed would lose its state at the next start. */
    d.feeds = kt_realloc(d.feeds, 4 * sizeof *d.feeds);
    d.n_feeds = 4;
    struct feed_state *e = &d.feeds[3];
    memset(e, 0, sizeof *e);
    e->name = kt_strdup("M\xfcnchen \xff\\x41");
    e->url = kt_strdup("/srv/n\xe9ws\t.txt");
    e->etag = kt_strdup("\x80\"");
    e->has_entries = true;
    e->n_entries = 3;
    e->entries = kt_calloc(3, sizeof *e->entries);
    e->entries[0] = (struct store_entry){kt_strdup("<b>Bold</b> &amp; tab\there"),
                                         NULL,
                                         kt_strdup("http://x/1"),
                                         1700000000,
                                         1699999999,
                                         true,
                                         false};
    e->entries[1] = (struct store_entry){
        NULL, kt_strdup("<p>First. Second\nline.</p>"), NULL, 0, 5, false, true};
    e->entries[2] =
        (struct store_entry){kt_strdup(""), kt_strdup(""), NULL, -1, INT64_MIN, true, true};
    return d;
}

static bool t_str_eq(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool t_dump_eq(const struct store_dump *x, const struct store_dump *y)
{
    if (x->n_feeds != y->n_feeds)
        return false;
    for (size_t i = 0; i < x->n_feeds; i++) {
        const struct feed_state *a = &x->feeds[i], *b = &y->feeds[i];
        if (!t_str_eq(a->name, b->name) || !t_str_eq(a->url, b->url) ||
            !t_str_eq(a->etag, b->etag) || !t_str_eq(a->last_modified, b->last_modified) ||
            a->last_success != b->last_success || a->ttl_minutes != b->ttl_minutes ||
            a->n_items != b->n_items || a->has_entries != b->has_entries ||
            a->n_entries != b->n_entries)
            return false;
        for (size_t j = 0; j < a->n_entries; j++) {
            const struct store_entry *p = &a->entries[j], *q = &b->entries[j];
            if (!t_str_eq(p->title, q->title) || !t_str_eq(p->summary, q->summary) ||
                !t_str_eq(p->link, q->link) || p->published != q->published ||
                p->first_seen != q->first_seen || p->title_html != q->title_html ||
                p->summary_html != q->summary_html)
                return false;
        }
        for (size_t j = 0; j < a->n_items; j++)
            if (!t_str_eq(a->items[j].title, b->items[j].title) ||
                !t_str_eq(a->items[j].link, b->items[j].link) ||
                a->items[j].published != b->items[j].published ||
                a->items[j].first_seen != b->items[j].first_seen)
                return false;
    }
    return true;
}

static void test_round_trip(void)
{
    struct store_dump d = t_rich_dump();
    size_t len;
    char *enc = cache_encode(&d, &len);
    CHECK(enc != NULL && strlen(enc) == len);
    CHECK(kt_str_has_prefix(enc, "kiosk-ticker-cache 3\n"));
    /* One line per record: escaping keeps raw newlines out of fields. */
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += enc[i] == '\n';
    CHECK_INT(lines, 1 + 4 + 6 + 3 + 1);
    char end[64];
    const char *last = strstr(enc, "\nend ");
    CHECK(last != NULL);
    if (last) {
        snprintf(end, sizeof end, "end 13 %08x\n",
                 (unsigned)t_crc32(enc, (size_t)(last - enc) + 1));
        CHECK_STR(last + 1, end);
    }
    /* The file is text whatever the names' bytes are. */
    CHECK(strstr(enc, "feed\tM\\xfcnchen \\xff\\\\x41\t/srv/n\\xe9ws\\t.txt\t\\x80\"\t") != NULL);

    struct store_dump back;
    char err[KT_ERR_MAX] = "";
    CHECK_INT(cache_decode(enc, len, &back, err, sizeof err), 0);
    CHECK_STR(err, "");
    CHECK(t_dump_eq(&d, &back));
    CHECK(back.feeds[0].items[1].link == NULL);
    CHECK(back.feeds[0].items[2].link != NULL && back.feeds[0].items[2].link[0] == '\0');
    CHECK(back.feeds[1].etag == NULL && back.feeds[1].n_items == 0);
    CHECK_STR(back.feeds[3].name, "M\xfcnchen \xff\\x41");
    CHECK(back.feeds[3].entries[1].title == NULL && back.feeds[3].entries[1].summary_html);
    size_t len2;
    char *enc2 = cache_encode(&back, &len2);
    CHECK(len2 == len && memcmp(enc, enc2, len) == 0);
    free(enc2);
    store_dump_free(&back);

    /* An empty dump is a valid cache too. */
    struct store_dump none = {NULL, 0, NULL, 0};
    char *e0 = cache_encode(&none, &len2);
    CHECK(t_decode_expect(e0, len2, NULL, "empty dump"));
    free(e0);

    /* Invalid UTF-8 in the store (which should never get there) is written
     * as U+FFFD so the file stays readable. */
    free(d.feeds[2].items[0].title);
    d.feeds[2].items[0].title = kt_strdup("bad \xff\xc3 end \xe2\x82");
    free(enc);
    enc = cache_encode(&d, &len);
    CHECK_INT(cache_decode(enc, len, &back, err, sizeof err), 0);
    if (back.n_feeds == 3)
        CHECK_STR(back.feeds[2].items[0].title,
                  "bad \xef\xbf\xbd\xef\xbf\xbd end \xef\xbf\xbd\xef\xbf\xbd");
    store_dump_free(&back);
    free(enc);
    store_dump_free(&d);
}

/* Every prefix of a valid file is refused, with a reason that says so. */
static void test_truncation(void)
{
    struct store_dump d = t_rich_dump();
    size_t len;
    char *enc = cache_encode(&d, &len);
    store_dump_free(&d);
    int bad = 0;
    for (size_t n = 0; n < len; n++) {
        char *copy = kt_malloc(n ? n : 1); /* exact size: ASan sees overreads */
        memcpy(copy, enc, n);
        char what[64];
        snprintf(what, sizeof what, "prefix of %zu bytes", n);
        if (!t_decode_expect(copy, n, n == 0 ? "empty file" : "truncated", what))
            bad++;
        free(copy);
    }
    CHECK_INT(bad, 0);
    CHECK(t_decode_expect(enc, len, NULL, "whole file"));
    free(enc);
}

/* Flipping any bit pattern in any byte is caught. Inside the records (up
 * to the newline before the end line, which merges the two) the checksum
 * must be what catches it. */
static void test_flips(void)
{
    struct store_dump d = t_rich_dump();
    size_t len;
    char *enc = cache_encode(&d, &len);
    store_dump_free(&d);
    size_t magic_end = strlen("kiosk-ticker-cache 3\n");
    size_t end_start = (size_t)(strstr(enc, "\nend ") - enc) + 1;
    static const unsigned char masks[] = {0x01, 0x02, 0x20, 0x80, 0xff};
    int accepted = 0, wrong_reason = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            char *copy = kt_malloc(len);
            memcpy(copy, enc, len);
            copy[i] = (char)(copy[i] ^ masks[m]);
            struct store_dump out = {NULL, 0, NULL, 0};
            char err[KT_ERR_MAX];
            if (cache_decode(copy, len, &out, err, sizeof err) == 0) {
                accepted++;
                fprintf(stderr, "byte %zu ^ %#x accepted\n", i, masks[m]);
                store_dump_free(&out);
            } else if (out.feeds || out.n_feeds) {
                wrong_reason++;
            } else if (i >= magic_end && i + 1 < end_start && strcmp(err, "checksum mismatch")) {
                fprintf(stderr, "byte %zu ^ %#x: \"%s\"\n", i, masks[m], err);
                wrong_reason++;
            }
            free(copy);
        }
    }
    CHECK_INT(accepted, 0);
    CHECK_INT(wrong_reason, 0);
    free(enc);
}

/* Builds "magic + feed + n items (+ extra)" sealed; for the limit tests. */
static char *t_big(size_t n_feeds, size_t n_items, size_t title_len, size_t *len)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_puts(&b, "kiosk-ticker-cache 1\n");
    for (size_t f = 0; f < n_feeds; f++)
        kt_buf_printf(&b, "feed\tf%zu\thttp://f/\t\\N\t\\N\t0\t0\n", f);
    char *title = kt_malloc(title_len + 1);
    memset(title, 'x', title_len);
    title[title_len] = '\0';
    for (size_t i = 0; i < n_items; i++)
        kt_buf_printf(&b, "item\t%s%zu\t\\N\t%zu\t0\n", title, i, i);
    free(title);
    char *sealed = t_seal(b.data, b.len, n_feeds + n_items, len);
    kt_buf_free(&b);
    return sealed;
}

static void test_limits(void)
{
    size_t len;
    char *p = t_big(1, 100000, 1, &len);
    CHECK(t_decode_expect(p, len, NULL, "100000 items"));
    free(p);
    p = t_big(1, 100001, 1, &len);
    CHECK(t_decode_expect(p, len, "line 100003: more than 100000 items", "100001 items"));
    free(p);
    p = t_big(10000, 0, 1, &len);
    CHECK(t_decode_expect(p, len, NULL, "10000 feeds"));
    free(p);
    p = t_big(10001, 0, 1, &len);
    CHECK(t_decode_expect(p, len, "line 10002: more than 10000 feeds", "10001 feeds"));
    free(p);
    /* A line of exactly 1 MiB passes, one byte more does not. "item\t" +
     * title + "0\t\\N\t0\t0" is title_len + 13 bytes. */
    p = t_big(1, 1, 1024 * 1024 - 13, &len);
    CHECK(t_decode_expect(p, len, NULL, "1 MiB line"));
    free(p);
    p = t_big(1, 1, 1024 * 1024 - 12, &len);
    CHECK(t_decode_expect(p, len, "line 3: longer than 1048576 bytes", "1 MiB + 1 line"));
    free(p);
}

/* ---- through a store and the file system ---- */

static struct config *t_cfg(const char *url_b)
{
    struct config *c = kt_calloc(1, sizeof *c);
    c->order = ORDER_FEEDS;
    c->n_feeds = 2;
    c->feeds = kt_calloc(2, sizeof *c->feeds);
    c->feeds[0].name = kt_strdup("a");
    c->feeds[0].url = kt_strdup("http://a/");
    c->feeds[1].name = kt_strdup("b");
    c->feeds[1].url = kt_strdup(url_b);
    return c;
}

static void t_cfg_free(struct config *c)
{
    for (size_t i = 0; i < c->n_feeds; i++) {
        free(c->feeds[i].name);
        free(c->feeds[i].url);
    }
    free(c->feeds);
    free(c);
}

static struct store *t_filled_store(const struct config *cfg, int64_t now)
{
    struct store *s = store_new();
    store_configure(s, cfg, now);
    struct store_item va[] = {{"Alpha\tone", "http://a/1", 1000, 0}, {"Beta 📰", NULL, 0, 0}};
    struct store_item vb[] = {{"Gamma", "http://b/1", 2000, 0}};
    store_replace_items(s, "a", va, 2, now);
    store_replace_items(s, "b", vb, 1, now);
    /* Feed a answers with a document: entries, validators, a ttl. */
    struct feed_entry ea[] = {
        {.title = "Alpha\tone", .link = "http://a/1", .published = 1000},
        {.summary = "<p>Beta \xf0\x9f\x93\xb0. Rest.</p>", .summary_html = true}};
    struct feed_doc doc = {.ttl_minutes = 30, .n_entries = 2, .entries = ea};
    struct store_fetch fx = {.doc = &doc, .etag = "\"etag-a\""};
    store_apply_fetch(s, store_token(s, "a", "http://a/"), &fx, now, NULL, NULL);
    return s;
}

static bool t_store_eq(struct store *x, struct store *y)
{
    struct store_dump a = store_dump(x), b = store_dump(y);
    bool eq = t_dump_eq(&a, &b);
    store_dump_free(&a);
    store_dump_free(&b);
    const struct store_snapshot *sa = store_snapshot(x), *sb = store_snapshot(y);
    eq = eq && sa->n == sb->n;
    for (size_t i = 0; eq && i < sa->n; i++)
        eq = sa->items[i].id == sb->items[i].id;
    store_snapshot_release(sa);
    store_snapshot_release(sb);
    return eq;
}

static char *t_tmpdir(void)
{
    char tmpl[] = "/tmp/kt-cache-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) {
        perror("mkdtemp");
        exit(1);
    }
    return kt_strdup(dir);
}

static void t_rm_rf(const char *path)
{
    DIR *dh = opendir(path);
    if (dh) {
        struct dirent *de;
        while ((de = readdir(dh)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char *p = kt_asprintf("%s/%s", path, de->d_name);
            t_rm_rf(p);
            free(p);
        }
        closedir(dh);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Names in dir other than keep (e.g. leftover temporary files). */
static int t_count_others(const char *dir, const char *keep)
{
    int n = 0;
    DIR *dh = opendir(dir);
    struct dirent *de;
    while (dh && (de = readdir(dh)) != NULL)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, keep)) {
            fprintf(stderr, "left in %s: %s\n", dir, de->d_name);
            n++;
        }
    if (dh)
        closedir(dh);
    return n;
}

static void t_write(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(data, 1, len, f) == len);
        fclose(f);
    }
}

static void test_save_load(void)
{
    char *tmp = t_tmpdir(), err[KT_ERR_MAX];
    char *dir = kt_asprintf("%s/state/kiosk-ticker", tmp);
    char *path = kt_asprintf("%s/cache.tsv", dir);
    struct config *cfg = t_cfg("http://b/");
    struct store *s = t_filled_store(cfg, 500);

    mode_t old_umask = umask(022);
    CHECK_INT(cache_save(s, path, err, sizeof err), 0);
    struct stat st;
    CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0755);
    CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0644);
    CHECK_INT(t_count_others(dir, "cache.tsv"), 0);
    /* Saving again over an existing file works the same. */
    CHECK_INT(cache_save(s, path, err, sizeof err), 0);
    CHECK_INT(t_count_others(dir, "cache.tsv"), 0);

    struct store *t = store_new();
    store_configure(t, cfg, 900);
    CHECK_INT(cache_load(t, path, 900, err, sizeof err), 0);
    CHECK(t_store_eq(s, t));
    char *etag = NULL, *lm = NULL;
    int ttl = 0;
    int64_t last = 0;
    uint64_t tok = store_token(t, "a", "http://a/");
    CHECK(store_feed_validators(t, tok, &etag, &lm));
    CHECK(store_feed_schedule(t, tok, &last, &ttl));
    CHECK_STR(etag, "\"etag-a\"");
    CHECK(lm == NULL);
    CHECK_INT(ttl, 30);
    CHECK_INT(last, 500);
    free(etag);
    /* The headlines came back derived from the entries. */
    const struct store_snapshot *snap = store_snapshot(t);
    CHECK_INT(snap->n, 3);
    bool alpha = false, beta = false;
    for (size_t i = 0; i < snap->n; i++) {
        alpha |= strcmp(snap->items[i].title, "Alpha one") == 0;
        beta |= strcmp(snap->items[i].title, "Beta \xf0\x9f\x93\xb0.") == 0;
    }
    CHECK(alpha && beta);
    store_snapshot_release(snap);
    store_free(t);

    /* A feed whose URL changed since the save is not restored. */
    struct config *cfg2 = t_cfg("http://b/moved");
    t = store_new();
    store_configure(t, cfg2, 900);
    CHECK_INT(cache_load(t, path, 900, err, sizeof err), 0);
    struct store_dump d = store_dump(t);
    CHECK_INT(d.feeds[0].n_items, 2);
    CHECK_INT(d.feeds[0].items[1].first_seen, 500);
    CHECK_INT(d.feeds[1].n_items, 0);
    store_dump_free(&d);
    store_free(t);

    /* No file yet (first boot): not an error, nothing restored. */
    char *missing = kt_asprintf("%s/nothing/here.tsv", tmp);
    t = store_new();
    store_configure(t, cfg, 900);
    uint64_t g = store_generation(t);
    CHECK_INT(cache_load(t, missing, 900, err, sizeof err), 0);
    CHECK_INT(store_generation(t), g);
    store_free(t);
    free(missing);

    /* The parent "directory" is a file: the save fails and says where. */
    char *blocker = kt_asprintf("%s/blocker", tmp);
    char *under = kt_asprintf("%s/sub/cache.tsv", blocker);
    t_write(blocker, "x", 1);
    CHECK_INT(cache_save(s, under, err, sizeof err), -1);
    char *want = kt_asprintf("%s/sub: Not a directory", blocker);
    CHECK_STR(err, want);
    free(want);
    free(under);
    free(blocker);

    umask(old_umask);
    store_free(s);
    t_cfg_free(cfg);
    t_cfg_free(cfg2);
    t_rm_rf(tmp);
    free(path);
    free(dir);
    free(tmp);
}

/* A bad file is reported with its path and leaves the store as it was. */
static void test_load_failure(void)
{
    char *tmp = t_tmpdir(), err[KT_ERR_MAX];
    char *path = kt_asprintf("%s/cache.tsv", tmp);
    struct config *cfg = t_cfg("http://b/");
    struct store *s = t_filled_store(cfg, 500);
    CHECK_INT(cache_save(s, path, err, sizeof err), 0);
    size_t len;
    char *good = t_read(path, &len);
    CHECK(good != NULL);

    struct store *t = t_filled_store(cfg, 700);
    struct store_item other[] = {{"Something else", NULL, 5, 0}};
    store_replace_items(t, "a", other, 1, 700);
    struct store_dump before = store_dump(t);
    uint64_t g = store_generation(t);

    struct {
        const char *what;
        size_t cut; /* truncate to this length, 0 = keep */
        long flip;  /* flip this byte, -1 = none */
        const char *reason;
    } cases[] = {
        {"truncated", 40, -1, "truncated"},
        {"flipped", 0, 30, "checksum mismatch"},
        {"empty", 0, -1, "empty file"},
    };
    for (size_t i = 0; good && i < sizeof cases / sizeof cases[0]; i++) {
        char *copy = kt_malloc(len);
        memcpy(copy, good, len);
        size_t n = cases[i].cut ? cases[i].cut : len;
        if (cases[i].flip >= 0)
            copy[cases[i].flip] ^= 0x04;
        if (strcmp(cases[i].what, "empty") == 0)
            n = 0;
        t_write(path, copy, n);
        free(copy);
        CHECK_INT(cache_load(t, path, 800, err, sizeof err), -1);
        char *want = kt_asprintf("%s: %s", path, cases[i].reason);
        CHECK_STR(err, want);
        free(want);
        struct store_dump after = store_dump(t);
        CHECK(t_dump_eq(&before, &after));
        store_dump_free(&after);
        CHECK_INT(store_generation(t), g);
    }
    /* A directory where the file should be. */
    unlink(path);
    CHECK(mkdir(path, 0755) == 0);
    CHECK_INT(cache_load(t, path, 800, err, sizeof err), -1);
    CHECK(kt_str_has_prefix(err, path) && strstr(err, "not a regular file (a directory)") != NULL);
    rmdir(path);
    struct store_dump after = store_dump(t);
    CHECK(t_dump_eq(&before, &after));
    store_dump_free(&after);

    store_dump_free(&before);
    free(good);
    store_free(t);
    store_free(s);
    t_cfg_free(cfg);
    t_rm_rf(tmp);
    free(path);
    free(tmp);
}

static bool t_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* kill -9 during a save (held open by the KT_CACHE_WRITE_DELAY_MS hook)
 * leaves the old file intact and loadable; the next load removes the dead
 * process's temporary file, but not a live process's. */
static void test_crash_leftovers(void)
{
    char *tmp = t_tmpdir(), err[KT_ERR_MAX];
    char *path = kt_asprintf("%s/cache.tsv", tmp);
    struct config *cfg = t_cfg("http://b/");
    struct store *s = t_filled_store(cfg, 500);
    CHECK_INT(cache_save(s, path, err, sizeof err), 0);
    size_t old_len;
    char *old = t_read(path, &old_len);

    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct store_item more[] = {{"Newer headline", NULL, 3000, 0}};
        store_replace_items(s, "b", more, 1, 600);
        setenv("KT_CACHE_WRITE_DELAY_MS", "20000", 1);
        cache_save(s, path, err, sizeof err);
        _exit(0);
    }
    char *child_tmp = kt_asprintf("%s.tmp.%ld", path, (long)pid);
    /* Wait until the child has written its whole temporary file. */
    bool written = false;
    for (int i = 0; i < 1000 && !written; i++) {
        struct stat st;
        written = stat(child_tmp, &st) == 0 && (size_t)st.st_size > old_len;
        if (!written) {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
    }
    CHECK(written);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    size_t len;
    char *now = t_read(path, &len);
    CHECK(now && old && len == old_len && memcmp(now, old, len) == 0);
    free(now);
    CHECK(t_exists(child_tmp));

    char *live_tmp = kt_asprintf("%s.tmp.%ld", path, (long)getppid());
    t_write(live_tmp, "x", 1);
    struct store *t = store_new();
    store_configure(t, cfg, 900);
    CHECK_INT(cache_load(t, path, 900, err, sizeof err), 0);
    CHECK(t_store_eq(s, t));
    CHECK(!t_exists(child_tmp));
    CHECK(t_exists(live_tmp));
    unlink(live_tmp);

    /* A temporary file with our own PID (a reused PID after a reboot) does
     * not block saving. */
    char *own_tmp = kt_asprintf("%s.tmp.%ld", path, (long)getpid());
    t_write(own_tmp, "stale", 5);
    CHECK_INT(cache_save(t, path, err, sizeof err), 0);
    CHECK(!t_exists(own_tmp));
    CHECK_INT(t_count_others(tmp, "cache.tsv"), 0);

    /* The hook really waits: a 300 ms delay makes the save take as long. */
    setenv("KT_CACHE_WRITE_DELAY_MS", "300", 1);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK_INT(cache_save(t, path, err, sizeof err), 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    unsetenv("KT_CACHE_WRITE_DELAY_MS");
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    CHECK(ms >= 300);

    free(own_tmp);
    free(live_tmp);
    free(child_tmp);
    free(old);
    store_free(t);
    store_free(s);
    t_cfg_free(cfg);
    t_rm_rf(tmp);
    free(path);
    free(tmp);
}

/* ---- disk full (ctest cache_disk_full) ---- */

static int t_write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int t_unshare(int flags)
{
    return (int)syscall(SYS_unshare, flags);
}

/* A private mount namespace, so the tmpfs goes away with the process even
 * if the test crashes. Without root, a user namespace may still allow it. */
static const char *t_private_mounts(void)
{
    if (geteuid() == 0) {
        if (t_unshare(CLONE_NEWNS) != 0)
            return "unshare(CLONE_NEWNS) failed as root";
    } else {
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (t_unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
            return "not root, and user namespaces are not available";
        char map[64];
        snprintf(map, sizeof map, "0 %ld 1", (long)uid);
        if (t_write_file("/proc/self/uid_map", map) != 0)
            return "not root, and cannot map a user namespace";
        t_write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof map, "0 %ld 1", (long)gid);
        if (t_write_file("/proc/self/gid_map", map) != 0)
            return "not root, and cannot map a user namespace";
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        return "cannot make mounts private";
    return NULL;
}

static int test_disk_full(void)
{
    const char *why = t_private_mounts();
    char *tmp = t_tmpdir(), err[KT_ERR_MAX];
    if (!why && mount("tmpfs", tmp, "tmpfs", 0, "size=64k,mode=0755") != 0)
        why = "cannot mount a tmpfs";
    if (why) {
        fprintf(stderr, "SKIP cache_disk_full: %s (%s); needs root or user namespaces\n", why,
                strerror(errno));
        rmdir(tmp);
        free(tmp);
        return 77;
    }

    char *dir = kt_asprintf("%s/state", tmp);
    char *path = kt_asprintf("%s/cache.tsv", dir);
    struct config *cfg = t_cfg("http://b/");
    struct store *s = t_filled_store(cfg, 500);
    CHECK_INT(cache_save(s, path, err, sizeof err), 0);
    size_t old_len;
    char *old = t_read(path, &old_len);
    CHECK(old != NULL);

    /* About 300 KiB of headlines into 64 KiB. */
    enum { N = 2000 };
    struct store_item *many = kt_calloc(N, sizeof *many);
    char(*titles)[160] = kt_calloc(N, sizeof *titles);
    for (int i = 0; i < N; i++) {
        snprintf(titles[i], sizeof titles[i],
                 "Headline %d: a long enough title to fill a small disk quickly, with words "
                 "and more words and yet more words until it is long",
                 i);
        many[i] = (struct store_item){titles[i], NULL, 1000 + i, 0};
    }
    store_replace_items(s, "a", many, N, 600);
    CHECK_INT(cache_save(s, path, err, sizeof err), -1);
    char *want = kt_asprintf("%s: No space left on device", path);
    CHECK_STR(err, want);
    free(want);

    size_t len;
    char *now = t_read(path, &len);
    CHECK(now && old && len == old_len && memcmp(now, old, len) == 0);
    free(now);
    CHECK_INT(t_count_others(dir, "cache.tsv"), 0);

    /* Once there is room again, saving works. */
    store_replace_items(s, "a", many, 3, 700);
    CHECK_INT(cache_save(s, path, err, sizeof err), 0);
    struct store *t = store_new();
    store_configure(t, cfg, 800);
    CHECK_INT(cache_load(t, path, 800, err, sizeof err), 0);
    CHECK(t_store_eq(s, t));
    store_free(t);

    free(many);
    free(titles);
    free(old);
    store_free(s);
    t_cfg_free(cfg);
    free(path);
    free(dir);
    umount(tmp);
    rmdir(tmp);
    free(tmp);
    return tap_done();
}

/* The cache file of the running program writes only when the bytes would
 * differ (SD cards wear), but again when the file was removed or replaced
 * behind its back. */
static void test_cache_file(void)
{
    char *tmp = t_tmpdir(), err[KT_ERR_MAX];
    char *path = kt_asprintf("%s/cache.tsv", tmp);
    struct config *cfg = t_cfg("http://b/");
    struct store *s = t_filled_store(cfg, 500);
    struct cache_file *cf = cache_file_new(path);
    CHECK_STR(cache_file_path(cf), path);
    CHECK_INT(cache_file_save(cf, s, err, sizeof err), 1);
    struct stat a, b;
    CHECK(stat(path, &a) == 0);
    CHECK_INT(cache_file_save(cf, s, err, sizeof err), 0);
    CHECK(stat(path, &b) == 0 && a.st_ino == b.st_ino);
    /* Something changed: written. */
    struct store_item more[] = {{"Newer headline", NULL, 3000, 0}};
    store_replace_items(s, "b", more, 1, 600);
    CHECK_INT(cache_file_save(cf, s, err, sizeof err), 1);
    CHECK_INT(cache_file_save(cf, s, err, sizeof err), 0);
    /* Removed behind our back: written again. */
    unlink(path);
    CHECK_INT(cache_file_save(cf, s, err, sizeof err), 1);
    CHECK(t_exists(path));
    /* Replaced by other bytes of the same size: written again. */
    size_t len;
    char *data = t_read(path, &len);
    CHECK(data != NULL);
    if (data) {
        data[len - 2] = data[len - 2] == 'a' ? 'b' : 'a';
        char *other = kt_asprintf("%s.other", path);
        t_write(other, data, len);
        CHECK(rename(other, path) == 0);
        free(other);
        CHECK_INT(cache_file_save(cf, s, err, sizeof err), 1);
        free(data);
    }
    cache_file_free(cf);

    /* A cache file that loaded these very bytes does not write them again;
     * the load has restored the same state, so a save is not needed. */
    struct store *t = store_new();
    store_configure(t, cfg, 900);
    cf = cache_file_new(path);
    CHECK_INT(cache_file_load(cf, t, 900, err, sizeof err), 0);
    CHECK(t_store_eq(s, t));
    CHECK_INT(cache_file_save(cf, t, err, sizeof err), 0);
    /* A failure: -1, the reason, and the old file untouched. */
    char *blocked = kt_asprintf("%s/blocked", tmp);
    CHECK(mkdir(blocked, 0755) == 0);
    struct cache_file *bad = cache_file_new(blocked);
    CHECK_INT(cache_file_save(bad, t, err, sizeof err), -1);
    char *want = kt_asprintf("%s: Is a directory", blocked);
    CHECK_STR(err, want);
    free(want);
    cache_file_free(bad);
    free(blocked);
    cache_file_free(cf);
    store_free(t);
    store_free(s);
    t_cfg_free(cfg);
    t_rm_rf(tmp);
    free(path);
    free(tmp);
}

/* A version 1 file (written before entries were kept) still loads: an
 * upgrade keeps the headlines; the next save writes version 2. */
static void test_v1_upgrade(void)
{
    const char *body = "kiosk-ticker-cache 1\n"
                       "feed\ta\thttp://a/\t\"e\"\t\\N\t1700000000\t15\n"
                       "item\tOld one\thttp://a/1\t1699999000\t1699999100\n"
                       "item\tOld two\t\\N\t0\t1699999200\n";
    size_t len;
    char *file = t_seal(body, strlen(body), 3, &len);
    struct store_dump d;
    char err[KT_ERR_MAX];
    CHECK_INT(cache_decode(file, len, &d, err, sizeof err), 0);
    CHECK(d.n_feeds == 1 && !d.feeds[0].has_entries && d.feeds[0].n_items == 2);
    struct config *cfg = t_cfg("http://b/");
    struct store *s = store_new();
    store_configure(s, cfg, 1700000100);
    CHECK_INT(store_restore(s, &d, 1700000100), 1);
    const struct store_snapshot *snap = store_snapshot(s);
    CHECK_INT(snap->n, 2);
    store_snapshot_release(snap);
    struct store_dump again = store_dump(s);
    size_t elen;
    char *enc = cache_encode(&again, &elen);
    CHECK(kt_str_has_prefix(enc, "kiosk-ticker-cache 3\n"));
    CHECK(strstr(enc, "item\tOld two\t\\N\t0\t1699999200\n") != NULL);
    /* The first document keeps the old headlines' first_seen. */
    struct feed_entry e[] = {{.title = "Old two"}, {.title = "Brand new"}};
    struct feed_doc doc = {.n_entries = 2, .entries = e};
    struct store_fetch fx = {.doc = &doc};
    CHECK_INT(store_apply_fetch(s, store_token(s, "a", "http://a/"), &fx, 1700000200, NULL, NULL),
              STORE_CHANGED);
    struct store_dump after = store_dump(s);
    CHECK(after.feeds[0].has_entries && after.feeds[0].n_entries == 2);
    CHECK_INT(after.feeds[0].entries[0].first_seen, 1699999200);
    CHECK_INT(after.feeds[0].entries[1].first_seen, 1700000200);
    store_dump_free(&after);
    free(enc);
    store_dump_free(&again);
    store_dump_free(&d);
    store_free(s);
    t_cfg_free(cfg);
    free(file);
}

/* The encoder never writes what the decoder refuses: past the record limit
 * the rest of the records are left out, and the file still loads. */
static void test_encoder_limits(void)
{
    struct store_dump d = {kt_calloc(2, sizeof(struct feed_state)), 2, NULL, 0};
    for (size_t f = 0; f < 2; f++) {
        d.feeds[f].name = kt_asprintf("f%zu", f);
        d.feeds[f].url = kt_strdup("http://f/");
        d.feeds[f].has_entries = f == 1;
        size_t n = 60000;
        if (f == 0) {
            d.feeds[f].items = kt_calloc(n, sizeof *d.feeds[f].items);
            d.feeds[f].n_items = n;
            for (size_t i = 0; i < n; i++)
                d.feeds[f].items[i] = (struct store_item){kt_asprintf("t%zu", i), NULL, 0, 1};
        } else {
            d.feeds[f].entries = kt_calloc(n, sizeof *d.feeds[f].entries);
            d.feeds[f].n_entries = n;
            for (size_t i = 0; i < n; i++)
                d.feeds[f].entries[i] = (struct store_entry){.title = kt_asprintf("e%zu", i)};
        }
    }
    /* And one line over the line limit, which is left out too. */
    free(d.feeds[0].items[1].title);
    d.feeds[0].items[1].title = kt_malloc(1024 * 1024 + 10);
    memset(d.feeds[0].items[1].title, 'x', 1024 * 1024 + 9);
    d.feeds[0].items[1].title[1024 * 1024 + 9] = '\0';
    size_t len;
    char *enc = cache_encode(&d, &len);
    struct store_dump back;
    char err[KT_ERR_MAX] = "";
    CHECK_INT(cache_decode(enc, len, &back, err, sizeof err), 0);
    CHECK_STR(err, "");
    if (back.n_feeds == 2) {
        CHECK_INT(back.feeds[0].n_items, 60000 - 1);
        CHECK_STR(back.feeds[0].items[1].title, "t2");
        CHECK_INT(back.feeds[0].n_items + back.feeds[1].n_entries, 100000);
        store_dump_free(&back);
    }
    free(enc);
    store_dump_free(&d);
}

/* Messages survive a save and a load (a restart); one expired by then is
 * dropped at load. */
static void test_messages_kept(void)
{
    char *dir = t_tmpdir();
    char *path = kt_asprintf("%s/cache.tsv", dir);
    struct config *cfg = config_default();
    struct store *s = store_new();
    store_configure(s, cfg, 1000);
    char err[KT_ERR_MAX];
    struct message keep = {.id = (char *)"keep", .text = (char *)"Kept", .created = 1000};
    struct message sev = {.id = (char *)"sev",
                          .text = (char *)"Severe one",
                          .has_severity = true,
                          .severity = ALERT_SEVERE,
                          .created = 1000,
                          .expires = 5000};
    struct message soon = {
        .id = (char *)"soon", .text = (char *)"Soon gone", .created = 1000, .expires = 1500};
    CHECK_INT(store_message_put(s, "api", &keep, 1000, err, sizeof err), 0);
    CHECK_INT(store_message_put(s, "group/lobby", &sev, 1000, err, sizeof err), 0);
    CHECK_INT(store_message_put(s, "api", &soon, 1000, err, sizeof err), 0);
    CHECK_INT(cache_save(s, path, err, sizeof err), 0);
    store_free(s);

    s = store_new();
    store_configure(s, cfg, 2000);
    CHECK_INT(cache_load(s, path, 2000, err, sizeof err), 0);
    struct store_message *ms;
    size_t n = store_messages(s, 2000, &ms);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(ms[0].m.id, "keep");
        CHECK_STR(ms[1].origin, "group/lobby");
        CHECK_INT(ms[1].m.expires, 5000);
        CHECK(ms[1].m.has_severity && ms[1].m.severity == ALERT_SEVERE);
    }
    store_messages_free(ms, n);
    const struct store_snapshot *snap = store_snapshot(s);
    CHECK_INT(snap->n, 1);
    CHECK_INT(snap->n_alerts, 1);
    store_snapshot_release(snap);
    store_free(s);
    config_free(cfg);
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--disk-full") == 0)
        return test_disk_full();
    CHECK_INT(t_crc32("123456789", 9), 0xcbf43926u);
    test_foreign();
    test_messages_kept();
    test_sealed();
    test_round_trip();
    test_truncation();
    test_flips();
    test_limits();
    test_save_load();
    test_load_failure();
    test_crash_leftovers();
    test_cache_file();
    test_v1_upgrade();
    test_encoder_limits();
    return tap_done();
}
