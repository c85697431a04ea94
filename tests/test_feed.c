/*
 * test_feed: the feed parser, data-driven over tests/data/feed/, plus
 * hostile documents generated here (entity bombs, XXE, markup the
 * pre-parse rewrite must not assemble, size and nesting limits in XML and
 * JSON, threads).
 *
 * A case is NAME.expected next to exactly one document NAME.<ext>, and an
 * optional NAME.meta ("content_type: …", "base_url: …", "allow_text: yes").
 * NAME.expected holds, one per line ('#' starts a comment):
 *   @error MESSAGE         feed_parse must fail with exactly this message
 *   @error-match PATTERN   … with a message matching PATTERN ('*' = any run)
 *   @format NAME           feed_format_name of the result
 *   @feed TITLE<TAB>LINK   feed title and link ("" = none)
 *   @ttl N                 ttl_minutes (0 when absent)
 *   @summary I<TAB>TEXT    text_plain of entry I's summary
 *   TITLE<TAB>LINK<TAB>PUBLISHED   one line per entry, in order: the title
 *                          through text_plain, the link, date_format of
 *                          published ("" = none / 0)
 */
#include "date.h"
#include "feed.h"
#include "tap.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define TF_MAX_DOC (16u * 1024u * 1024u)

static double tf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long tf_maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* '*' matches any run of characters; everything else literally. */
static bool tf_match(const char *pat, const char *s)
{
    if (*pat == '\0')
        return *s == '\0';
    if (*pat == '*') {
        for (const char *t = s;; t++) {
            if (tf_match(pat + 1, t))
                return true;
            if (*t == '\0')
                return false;
        }
    }
    return *s == *pat && tf_match(pat + 1, s + 1);
}

static char *tf_plain(const char *s, bool html)
{
    return s ? text_plain(s, strlen(s), html) : kt_strdup("");
}

/* Splits line at tabs into at most max fields (missing ones are ""). */
static void tf_fields(char *line, char **f, size_t max)
{
    for (size_t i = 0; i < max; i++) {
        f[i] = line;
        char *t = line ? strchr(line, '\t') : NULL;
        if (t) {
            *t = '\0';
            line = t + 1;
        } else {
            line = NULL;
        }
        if (!f[i])
            f[i] = "";
    }
}

static void tf_check_link(const char *got, const char *want, const char *what)
{
    const char *g = got ? got : "";
    if (strcmp(g, want) != 0)
        fprintf(stderr, "  %s link\n", what);
    CHECK_STR(g, want);
}

static int tf_run_case(const char *dir, const char *name, const char *docname)
{
    int failures_before = tap_failures;
    char *path = kt_asprintf("%s/%s", dir, docname), *data = NULL, err[KT_ERR_MAX];
    size_t len = 0;
    if (kt_read_file(path, TF_MAX_DOC, &data, &len, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", docname, err);
        CHECK(!"document unreadable");
        free(path);
        return 1;
    }
    free(path);

    struct feed_parse_opts opts = {NULL, NULL, false};
    char *meta = NULL, *exp = NULL;
    path = kt_asprintf("%s/%s.meta", dir, name);
    size_t mlen;
    if (access(path, F_OK) == 0) {
        CHECK(kt_read_file(path, 65536, &meta, &mlen, err, sizeof err) == 0);
        for (char *l = meta ? strtok(meta, "\n") : NULL; l; l = strtok(NULL, "\n")) {
            if (kt_str_has_prefix(l, "content_type: "))
                opts.content_type = l + 14;
            else if (kt_str_has_prefix(l, "base_url: "))
                opts.base_url = l + 10;
            else if (kt_str_has_prefix(l, "allow_text: "))
                opts.allow_text = strcmp(l + 12, "yes") == 0;
            else {
                fprintf(stderr, "%s.meta: unknown line \"%s\"\n", name, l);
                CHECK(!"unknown meta line");
            }
        }
    }
    free(path);

    struct feed_doc doc;
    int rc = feed_parse(data, len, &opts, &doc, err, sizeof err);

    path = kt_asprintf("%s/%s.expected", dir, name);
    size_t elen;
    char eerr[KT_ERR_MAX];
    CHECK(kt_read_file(path, 1u << 20, &exp, &elen, eerr, sizeof eerr) == 0);
    free(path);
    size_t entry = 0;
    bool want_error = false, checked_format = false;
    int want_ttl = 0;
    char *save = NULL;
    for (char *l = exp ? strtok_r(exp, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
        if (l[0] == '#')
            continue;
        if (kt_str_has_prefix(l, "@error ") || kt_str_has_prefix(l, "@error-match ")) {
            bool glob = kt_str_has_prefix(l, "@error-match ");
            const char *want = l + (glob ? 13 : 7);
            want_error = true;
            CHECK_INT(rc, -1);
            if (rc == -1 && glob && !tf_match(want, err)) {
                fprintf(stderr, "  error \"%s\" does not match \"%s\"\n", err, want);
                CHECK(!"error pattern");
            } else if (rc == -1 && !glob) {
                CHECK_STR(err, want);
            }
            continue;
        }
        if (rc != 0) {
            fprintf(stderr, "  unexpected error: %s\n", err);
            CHECK_INT(rc, 0);
            break;
        }
        char *f[3];
        if (kt_str_has_prefix(l, "@format ")) {
            checked_format = true;
            CHECK_STR(feed_format_name(doc.format), l + 8);
        } else if (kt_str_has_prefix(l, "@feed ")) {
            tf_fields(l + 6, f, 2);
            CHECK_STR(doc.title ? doc.title : "", f[0]);
            tf_check_link(doc.link, f[1], "feed");
        } else if (kt_str_has_prefix(l, "@ttl ")) {
            want_ttl = atoi(l + 5);
        } else if (kt_str_has_prefix(l, "@summary ")) {
            tf_fields(l + 9, f, 2);
            size_t i = (size_t)strtoul(f[0], NULL, 10);
            CHECK(i < doc.n_entries);
            if (i < doc.n_entries) {
                char *s = tf_plain(doc.entries[i].summary, doc.entries[i].summary_html);
                CHECK_STR(s, f[1]);
                free(s);
            }
        } else if (l[0] == '@') {
            fprintf(stderr, "  unknown directive: %s\n", l);
            CHECK(!"unknown directive");
        } else {
            tf_fields(l, f, 3);
            CHECK(entry < doc.n_entries);
            if (entry < doc.n_entries) {
                const struct feed_entry *e = &doc.entries[entry];
                char *t = tf_plain(e->title, e->title_html), date[32] = "";
                CHECK_STR(t, f[0]);
                free(t);
                tf_check_link(e->link, f[1], "entry");
                if (e->published)
                    date_format(e->published, date, sizeof date);
                CHECK_STR(date, f[2]);
            }
            entry++;
        }
    }
    if (rc == 0) {
        CHECK(!want_error);
        CHECK(checked_format); /* every success case states its format */
        CHECK_INT(doc.n_entries, entry);
        CHECK_INT(doc.ttl_minutes, want_ttl);
        feed_doc_free(&doc);
    }
    free(exp);
    free(meta);
    free(data);
    if (tap_failures != failures_before)
        fprintf(stderr, "case %s (%s) FAILED\n", name, docname);
    return 0;
}

static int tf_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void tf_data_cases(void)
{
    const char *root = getenv("KT_TEST_DATA");
    CHECK(root != NULL);
    if (!root)
        return;
    char *dir = kt_asprintf("%s/feed", root);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d) {
        free(dir);
        return;
    }
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        names = kt_realloc(names, (n + 1) * sizeof *names);
        names[n++] = kt_strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, tf_cmp);
    int cases = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(names[i]);
        if (l <= 9 || strcmp(names[i] + l - 9, ".expected") != 0)
            continue;
        char *base = kt_strndup(names[i], l - 9);
        const char *doc = NULL;
        int docs = 0;
        for (size_t j = 0; j < n; j++) {
            size_t bl = strlen(base);
            if (strncmp(names[j], base, bl) == 0 && names[j][bl] == '.' && j != i &&
                strcmp(names[j] + bl, ".meta") != 0) {
                doc = names[j];
                docs++;
            }
        }
        if (docs != 1) {
            fprintf(stderr, "case %s: %d documents\n", base, docs);
            CHECK_INT(docs, 1);
        } else {
            tf_run_case(dir, base, doc);
            cases++;
        }
        free(base);
    }
    printf("%d data-driven cases\n", cases);
    CHECK(cases >= 30);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(dir);
}

/* ---- hostile documents ---- */

/* True when any string the parser returned contains needle. */
static bool tf_doc_contains(const struct feed_doc *doc, const char *needle)
{
    if ((doc->title && strstr(doc->title, needle)) || (doc->link && strstr(doc->link, needle)))
        return true;
    for (size_t i = 0; i < doc->n_entries; i++) {
        const struct feed_entry *e = &doc->entries[i];
        if ((e->title && strstr(e->title, needle)) || (e->summary && strstr(e->summary, needle)) ||
            (e->link && strstr(e->link, needle)))
            return true;
    }
    return false;
}

static int tf_parse_str(const char *s, size_t len, struct feed_doc *doc, char *err, double *secs)
{
    struct feed_parse_opts opts = {"http://example.com/feed", NULL, false};
    double t0 = tf_now();
    int rc = feed_parse(s, len, &opts, doc, err, KT_ERR_MAX);
    if (secs)
        *secs = tf_now() - t0;
    return rc;
}

/* Time to parse a benign RSS document of about len bytes (at least 1 MiB,
 * so the figure is well above the clock's noise): the yardstick the
 * hostile documents are held to. A defence that works keeps a hostile
 * document within a small factor of it; quadratic or exponential work is
 * hundreds of times over. A ratio within one run, not seconds, so a
 * loaded machine or an emulator cannot make it flake. */
static double tf_benign_secs(size_t len)
{
    if (len < 1024 * 1024)
        len = 1024 * 1024;
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_puts(&b, "<rss version=\"2.0\"><channel><title>benign</title>");
    for (int i = 0; b.len < len; i++)
        kt_buf_printf(&b,
                      "<item><title>Headline %d</title><link>http://x.example/%d</link>"
                      "<description>Some words about it.</description></item>",
                      i, i);
    kt_buf_puts(&b, "</channel></rss>");
    double best = 0;
    for (int k = 0; k < 2; k++) {
        struct feed_doc doc;
        char err[KT_ERR_MAX];
        double secs;
        if (tf_parse_str(b.data, b.len, &doc, err, &secs) == 0)
            feed_doc_free(&doc);
        best = k == 0 || secs < best ? secs : best;
    }
    kt_buf_free(&b);
    return best;
}

#define TF_HOSTILE_FACTOR 40
/* secs for a hostile document of len bytes is within TF_HOSTILE_FACTOR
 * times the benign yardstick (the ratio is printed). */
#define CHECK_BOUNDED(secs, len)                                                                   \
    do {                                                                                           \
        double base_ = tf_benign_secs(len);                                                        \
        printf("  %.1f x a benign document of its size\n", (secs) / base_);                        \
        CHECK((secs) < TF_HOSTILE_FACTOR * base_);                                                 \
    } while (0)

static void tf_billion_laughs(void)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_puts(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY lol0 \"lol\">\n");
    for (int i = 1; i < 10; i++) {
        kt_buf_printf(&b, "<!ENTITY lol%d \"", i);
        for (int k = 0; k < 10; k++)
            kt_buf_printf(&b, "&lol%d;", i - 1);
        kt_buf_puts(&b, "\">\n");
    }
    kt_buf_puts(&b, "]>\n<rss version=\"2.0\"><channel><title>Laughs &lol9;</title>"
                    "<item><title>a&lol9;b</title><description>&lol9; &lol5;</description>"
                    "<link>http://x.example/&lol9;</link></item></channel></rss>\n");
    struct feed_doc doc;
    char err[KT_ERR_MAX];
    double secs;
    int rc = tf_parse_str(b.data, b.len, &doc, err, &secs);
    printf("billion laughs (10 levels x 10 refs): %.4f s\n", secs);
    CHECK_BOUNDED(secs, b.len);
    /* refused, not shown without its text: the previous items stay */
    CHECK_INT(rc, -1);
    if (rc == -1)
        CHECK(kt_str_has_prefix(err, "XML: entity expansion refused (&lol9; is built from"));
    else
        feed_doc_free(&doc);
    kt_buf_free(&b);
}

static void tf_quadratic_blowup(void)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_puts(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY big \"");
    for (int i = 0; i < 100 * 1024; i++)
        kt_buf_putc(&b, 'x');
    kt_buf_puts(&b, "\">]>\n<rss version=\"2.0\"><channel><item><title>q");
    for (int i = 0; i < 10000; i++)
        kt_buf_puts(&b, "&big;");
    kt_buf_puts(&b, "q</title><description>");
    for (int i = 0; i < 10000; i++)
        kt_buf_puts(&b, "&big;");
    kt_buf_puts(&b, "</description></item></channel></rss>\n");
    struct feed_doc doc;
    char err[KT_ERR_MAX];
    double secs;
    long rss_before = tf_maxrss_kb();
    int rc = tf_parse_str(b.data, b.len, &doc, err, &secs);
    printf("quadratic blowup (100 KB entity x 10000 refs): %.4f s, max RSS %ld -> %ld KiB\n", secs,
           rss_before, tf_maxrss_kb());
    CHECK(tf_maxrss_kb() < 256 * 1024);
    CHECK_BOUNDED(secs, b.len);
    CHECK_INT(rc, -1);
    if (rc == -1)
        CHECK(kt_str_has_prefix(err, "XML: entity expansion refused (more than "));
    else
        feed_doc_free(&doc);
    kt_buf_free(&b);
}

static char *tf_temp_file(const char *content)
{
    const char *tmp = getenv("TMPDIR");
    char *path = kt_asprintf("%s/kt-feed-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    size_t n = strlen(content);
    CHECK(write(fd, content, n) == (ssize_t)n);
    close(fd);
    return path;
}

/* want_title: what entry 0 shows; "&xxe;" stays as written when nothing in
 * the document itself declares it (the external DTD is never read). */
static void tf_xxe_one(const char *label, const char *doctype, const char *marker,
                       const char *want_title)
{
    char *s =
        kt_asprintf("<?xml version=\"1.0\"?>\n%s\n<rss version=\"2.0\"><channel>"
                    "<title>T&xxe;</title><item><title>safe&xxe;</title>"
                    "<description>&xxe;&leak;</description><link>http://l.example/&xxe;</link>"
                    "<guid>&leak;</guid></item></channel></rss>\n",
                    doctype);
    struct feed_doc doc;
    char err[KT_ERR_MAX];
    double secs;
    int rc = tf_parse_str(s, strlen(s), &doc, err, &secs);
    CHECK_BOUNDED(secs, strlen(s));
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", label, err);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        if (tf_doc_contains(&doc, marker))
            fprintf(stderr, "%s: external content leaked\n", label);
        CHECK(!tf_doc_contains(&doc, marker));
        CHECK_INT(doc.n_entries, 1);
        if (doc.n_entries == 1)
            CHECK_STR(doc.entries[0].title, want_title);
        feed_doc_free(&doc);
    }
    free(s);
}

static void tf_xxe(void)
{
    static const char marker[] = "KT-SECRET-MARKER";
    char *secret = tf_temp_file("KT-SECRET-MARKER root:x:0:0\n");
    char *dtd = tf_temp_file("<!ENTITY leak \"KT-SECRET-MARKER\">\n"
                             "<!ENTITY xxe \"KT-SECRET-MARKER\">\n");
    if (!secret || !dtd)
        return;
    char *d;
    d = kt_asprintf("<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file://%s\"><!ENTITY leak \"\">]>",
                    secret);
    tf_xxe_one("SYSTEM file entity", d, marker, "safe");
    free(d);
    tf_xxe_one("SYSTEM /etc/passwd",
               "<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\"><!ENTITY leak \"\">]>",
               "root:", "safe");
    d = kt_asprintf("<!DOCTYPE rss [<!ENTITY %% ext SYSTEM \"file://%s\"> %%ext;"
                    "<!ENTITY %% p1 SYSTEM \"file://%s\">"
                    "<!ENTITY %% p2 \"<!ENTITY leak '%%p1;'>\"> %%p2;"
                    "<!ENTITY xxe \"\">]>",
                    dtd, secret);
    tf_xxe_one("parameter entities", d, marker, "safe");
    free(d);
    d = kt_asprintf("<!DOCTYPE rss SYSTEM \"file://%s\">", dtd);
    tf_xxe_one("external DTD", d, marker, "safe&xxe;");
    free(d);
    d = kt_asprintf("<!DOCTYPE rss PUBLIC \"-//X//Y\" \"file://%s\" [<!ENTITY %% remote SYSTEM "
                    "\"http://127.0.0.1:9/evil.dtd\"> %%remote;]>",
                    dtd);
    tf_xxe_one("network parameter entity", d, marker, "safe&xxe;");
    free(d);
    unlink(secret);
    unlink(dtd);
    free(secret);
    free(dtd);
}

/* What the pre-parse rewrite removes or replaces must never join the text
 * around it into markup only libxml2 sees (found by fuzzing: control
 * characters inside "<!DOCTYPE" once assembled a live internal subset). */
static void tf_token_join(void)
{
    static const char *const joins[] = {
        "<!DOC\bTYPE",           "<!DOC\x01\x02\x1fTYPE", "<!DOC<?xml version=\"1.0\"?>TYPE",
        "<!DOC<!DOCTYPE x>TYPE", "<!DOC&#1;TYPE",         "<!DOC&#x1f;TYPE",
        "<!DOC&decl;TYPE",
    };
    for (size_t i = 0; i < sizeof joins / sizeof *joins; i++) {
        /* the first, real DOCTYPE makes the rewrite leave &e; and &lol; as
         * references; the joined one would give them values */
        char *s = kt_asprintf("<!DOCTYPE a [<!ENTITY decl \"\"><!ENTITY e \"\"><!ENTITY lol "
                              "\"\">]>\n%s rss [<!ENTITY e "
                              "\"EXPANDED\"><!ENTITY lol \"LOL\">]>\n<rss><channel>"
                              "<title>x&e;y</title><item><title>&e;&lol;</title></item>"
                              "</channel></rss>",
                              joins[i]);
        struct feed_doc doc;
        char err[KT_ERR_MAX];
        double secs;
        int rc = tf_parse_str(s, strlen(s), &doc, err, &secs);
        CHECK_BOUNDED(secs, strlen(s));
        if (rc == 0) {
            bool leaked = tf_doc_contains(&doc, "EXPANDED") || tf_doc_contains(&doc, "LOL");
            if (leaked)
                fprintf(stderr, "token join %zu: entity expanded\n", i);
            CHECK(!leaked);
            feed_doc_free(&doc);
        } else {
            CHECK(kt_str_has_prefix(err, "XML: "));
        }
        free(s);
    }
}

/* Every prefix of a good document that stops before its root element is
 * closed is a failure, never a success with fewer items (a close-delimited
 * HTTP response cut short, a file read while it is rewritten). */
static void tf_truncated(void)
{
    static const char rss[] =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel>"
        "<title>Cut</title><item><title>One &amp; only</title><link>http://c.example/1</link>"
        "<description><![CDATA[<p>first</p>]]></description></item>\n<item><title>Two</title>"
        "<link>http://c.example/2</link><!-- a comment --></item></channel></rss>\n";
    static const char json[] =
        "{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"Cut\", \"items\": "
        "[{\"title\": \"One\", \"url\": \"https://c.example/1\"}, {\"title\": \"Two\"}]}";
    struct feed_doc doc;
    char err[KT_ERR_MAX];
    double secs;
    size_t close = (size_t)(strstr(rss, "</rss>") - rss);
    int wrong = 0;
    for (size_t len = 1; len <= close + 3; len++) {
        if (tf_parse_str(rss, len, &doc, err, &secs) == 0) {
            if (wrong++ == 0)
                fprintf(stderr, "RSS cut at %zu parsed: %zu entries\n", len, doc.n_entries);
            feed_doc_free(&doc);
        }
    }
    CHECK_INT(wrong, 0);
    CHECK_INT(tf_parse_str(rss, sizeof rss - 1, &doc, err, &secs), 0);
    CHECK_INT(doc.n_entries, 2);
    feed_doc_free(&doc);
    CHECK_INT(tf_parse_str(rss, 50, &doc, err, &secs), -1);
    CHECK_STR(err, "XML: document ends inside <rss> (truncated?)");
    const char *bare = "<?xml version=\"1.0\"?><rss";
    CHECK_INT(tf_parse_str(bare, strlen(bare), &doc, err, &secs), -1);
    CHECK_STR(err, "XML: document ends inside <rss> (truncated?)");
    size_t mid = (size_t)(strstr(rss, "<link>http://c.example/2") - rss) + 10;
    CHECK_INT(tf_parse_str(rss, mid, &doc, err, &secs), -1);
    CHECK_STR(err, "XML: document ends inside <link> (truncated?)");

    wrong = 0;
    for (size_t len = 1; len < sizeof json - 1; len++) {
        if (tf_parse_str(json, len, &doc, err, &secs) == 0) {
            if (wrong++ == 0)
                fprintf(stderr, "JSON cut at %zu parsed: %zu entries\n", len, doc.n_entries);
            feed_doc_free(&doc);
        }
    }
    CHECK_INT(wrong, 0);
}

static void tf_limits(void)
{
    struct feed_doc doc;
    char err[KT_ERR_MAX];
    double secs;
    int rc;
    struct kt_buf b;
    kt_buf_init(&b);

    /* nesting far beyond any bound: libxml2's push parser would keep every
     * level (about 60 bytes each, 30 MB here). Time limits in this file are
     * loose (sanitizer builds, small boards): they catch quadratic work,
     * which takes many times longer. */
    kt_buf_puts(&b, "<rss><channel><item><title>deep</title><link>http://d.example/</link>");
    for (int i = 0; i < 500000; i++)
        kt_buf_puts(&b, "<a xml:base=\"x/\">");
    kt_buf_puts(&b, "</item><item><title>after</title></item></channel></rss>");
    long rss0 = tf_maxrss_kb();
    rc = tf_parse_str(b.data, b.len, &doc, err, &secs);
    printf("500000 nested elements (%zu bytes): %.3f s, max RSS grew %ld KiB\n", b.len, secs,
           tf_maxrss_kb() - rss0);
    CHECK(tf_maxrss_kb() - rss0 < 16 * 1024);
    CHECK_BOUNDED(secs, b.len);
    CHECK_INT(rc, -1); /* hostile: refused, even though one item came first */
    if (rc == -1)
        CHECK_STR(err, "XML: nesting deeper than 256 elements refused");
    else
        feed_doc_free(&doc);

    /* 100k deep without xml:base, and just within the limit */
    b.len = 0;
    kt_buf_puts(&b, "<rss><channel><item><title>deep</title></item>");
    for (int i = 0; i < 100000; i++)
        kt_buf_puts(&b, "<a>");
    for (int i = 0; i < 100000; i++)
        kt_buf_puts(&b, "</a>");
    kt_buf_puts(&b, "</channel></rss>");
    rc = tf_parse_str(b.data, b.len, &doc, err, &secs);
    CHECK_INT(rc, -1);
    if (rc == 0)
        feed_doc_free(&doc);
    b.len = 0;
    kt_buf_puts(&b, "<rss><channel><item><title>deep</title></item>");
    for (int i = 0; i < 250; i++)
        kt_buf_puts(&b, "<a>");
    for (int i = 0; i < 250; i++)
        kt_buf_puts(&b, "</a>");
    kt_buf_puts(&b, "</channel></rss>");
    rc = tf_parse_str(b.data, b.len, &doc, err, &secs);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        CHECK_INT(doc.n_entries, 1);
        feed_doc_free(&doc);
    }

    /* libxml2 2.9 checks attributes for duplicates pairwise */
    b.len = 0;
    kt_buf_puts(&b, "<rss><channel><item><title>attrs</title><link");
    for (int i = 0; i < 300000; i++)
        kt_buf_printf(&b, " a%d=\"1\" xmlns:p%d=\"u%d\"", i, i, i);
    kt_buf_puts(&b, ">http://attrs.example/</link></item></channel></rss>");
    rc = tf_parse_str(b.data, b.len, &doc, err, &secs);
    printf("600000 attributes on one element: %.3f s\n", secs);
    CHECK_BOUNDED(secs, b.len);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        CHECK_INT(doc.n_entries, 1);
        if (doc.n_entries == 1)
            CHECK_STR(doc.entries[0].link, "http://attrs.example/");
        feed_doc_free(&doc);
    }

    /* libxml2 2.9 interns names in a weak hash: distinct, similar names */
    b.len = 0;
    kt_buf_puts(&b, "<rss><channel><item><title>names</title>");
    for (int i = 0; i < 600000; i++)
        kt_buf_printf(&b, "<e%d a%d=\"1\"/>", i, i);
    kt_buf_puts(&b, "<link>http://names.example/</link></item><item><title>next</title></item>"
                    "</channel></rss>");
    rc = tf_parse_str(b.data, b.len, &doc, err, &secs);
    printf("600000 distinct element and attribute names: %.3f s\n", secs);
    CHECK_BOUNDED(secs, b.len);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        CHECK_INT(doc.n_entries, 2);
        if (doc.n_entries == 2) {
            CHECK_STR(doc.entries[0].link, "http://names.example/");
            CHECK_STR(doc.entries[1].title, "next");
        }
        feed_doc_free(&doc);
    }

    /* end tags that close nothing, under many open elements */
    b.len = 0;
    kt_buf_puts(&b, "<rss><channel><item><title>stray</title>");
    for (int i = 0; i < 250; i++)
        kt_buf_puts(&b, "<a>");
    for (int i = 0; i < 1000000; i++)
        kt_buf_puts(&b, "</b>");
    kt_buf_puts(&b, "</item></channel></rss>");
    rc = tf_parse_str(b.data, b.len, &doc, err, &secs);
    printf("1M stray end tags: %.3f s\n", secs);
    CHECK_BOUNDED(secs, b.len);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        CHECK_INT(doc.n_entries, 1);
        feed_doc_free(&doc);
    }

    /* JSON: millions of tiny values must not each cost a json-c object */
    b.len = 0;
    kt_buf_puts(&b, "{\"version\":\"https://jsonfeed.org/version/1.1\",\"items\":[{\"title\":"
                    "\"tiny\",\"tags\":[");
    for (int i = 0; i < 2000000; i++)
        kt_buf_puts(&b, "{},");
    kt_buf_puts(&b, "[]]}]}");
    rss0 = tf_maxrss_kb();
    rc = tf_parse_str(b.data, b.len, &doc, err, &secs);
    printf("JSON with 2M empty objects (%zu bytes): %.3f s, max RSS grew %ld KiB\n", b.len, secs,
           tf_maxrss_kb() - rss0);
    CHECK(tf_maxrss_kb() - rss0 < 48 * 1024);
    CHECK_BOUNDED(secs, b.len);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        CHECK_INT(doc.n_entries, 1);
        if (doc.n_entries == 1)
            CHECK_STR(doc.entries[0].title, "tiny");
        feed_doc_free(&doc);
    }

    /* entry count */
    b.len = 0;
    kt_buf_puts(&b, "<rss><channel>");
    for (int i = 0; i <= 100000; i++)
        kt_buf_puts(&b, "<item><title>x</title></item>");
    kt_buf_puts(&b, "</channel></rss>");
    rc = tf_parse_str(b.data, b.len, &doc, err, NULL);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        CHECK_INT(doc.n_entries, 100000);
        feed_doc_free(&doc);
    }

    /* field sizes */
    b.len = 0;
    kt_buf_puts(&b, "<rss><channel><item><title>");
    for (int i = 0; i < 200000; i++)
        kt_buf_puts(&b, "\xc3\xa9"); /* a two-byte character, to test cutting */
    kt_buf_puts(&b, "</title><description>");
    for (int i = 0; i < 3 * 1024 * 1024; i++)
        kt_buf_putc(&b, 'd');
    kt_buf_puts(&b, "</description></item></channel></rss>");
    rc = tf_parse_str(b.data, b.len, &doc, err, NULL);
    CHECK_INT(rc, 0);
    if (rc == 0 && doc.n_entries == 1) {
        const struct feed_entry *e = &doc.entries[0];
        CHECK(e->title && strlen(e->title) <= 64 * 1024);
        CHECK(e->title && uni_valid(e->title, strlen(e->title)));
        CHECK(e->summary && strlen(e->summary) <= 1024 * 1024);
        CHECK(e->summary && strlen(e->summary) >= 1000 * 1000);
    }
    if (rc == 0)
        feed_doc_free(&doc);

    kt_buf_free(&b);
}

/* ---- threads: libxml2 set-up is done once, parsing shares no state ---- */

static const char tf_thread_doc[] =
    "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss><channel><title>Threads</title>"
    "<item><title>One &amp; &eacute;</title><link>/one</link></item>"
    "<item><title>Two</title></item></channel></rss>";

static void *tf_thread(void *arg)
{
    int *ok = arg;
    *ok = 1;
    for (int i = 0; i < 200; i++) {
        struct feed_doc doc;
        char err[KT_ERR_MAX];
        if (tf_parse_str(tf_thread_doc, sizeof tf_thread_doc - 1, &doc, err, NULL) != 0) {
            *ok = 0;
            continue;
        }
        if (doc.n_entries != 2 || strcmp(doc.entries[0].title, "One & \xc3\xa9") != 0 ||
            strcmp(doc.entries[0].link, "http://example.com/one") != 0)
            *ok = 0;
        feed_doc_free(&doc);
    }
    return NULL;
}

static void tf_threads(void)
{
    pthread_t t[4];
    int ok[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, tf_thread, &ok[i]) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(ok[i], 1);
    }
}

static void tf_api(void)
{
    CHECK_STR(feed_format_name(FEED_RSS), "RSS");
    CHECK_STR(feed_format_name(FEED_RDF), "RDF");
    CHECK_STR(feed_format_name(FEED_ATOM), "Atom");
    CHECK_STR(feed_format_name(FEED_JSON), "JSON Feed");
    CHECK_STR(feed_format_name(FEED_TEXT), "text");

    struct feed_doc doc;
    char err[KT_ERR_MAX];
    /* NULL opts are allowed; errors leave a freeable, empty doc */
    CHECK_INT(feed_parse("<rss><channel><title>t</title></channel></rss>", 46, NULL, &doc, err,
                         sizeof err),
              0);
    CHECK_STR(doc.title, "t");
    feed_doc_free(&doc);
    feed_doc_free(&doc);
    CHECK_INT(feed_parse("", 0, NULL, &doc, err, sizeof err), -1);
    CHECK_STR(err, "empty document");
    CHECK_INT(doc.n_entries, 0);
    CHECK(doc.entries == NULL);
    feed_doc_free(&doc);
    /* a tiny error buffer is cut, not overrun */
    char small[8];
    CHECK_INT(feed_parse("<html></html>", 13, NULL, &doc, small, sizeof small), -1);
    CHECK_STR(small, "not a f");
}

/* A local feed of about 90 MB with one item more than FEED_MAX_ENTRIES:
 * every item up to the limit is read (a libxml2 limit used to stop the
 * parse at an eighth of the document, silently), the cut is flagged. */
static void tf_large(void)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_puts(&b, "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Big</title>\n");
    char pad[801];
    memset(pad, 'x', 800);
    pad[800] = '\0';
    for (int i = 0; i <= FEED_MAX_ENTRIES; i++)
        kt_buf_printf(&b,
                      "<item><title>Item %d</title><link>http://big.example/%d</link>"
                      "<description>%s</description></item>\n",
                      i, i, pad);
    kt_buf_puts(&b, "</channel></rss>\n");
    printf("large document: %zu bytes, %d items\n", b.len, FEED_MAX_ENTRIES + 1);
    CHECK(b.len > 85u * 1000 * 1000);
    struct feed_doc doc;
    char err[KT_ERR_MAX];
    double secs;
    int rc = tf_parse_str(b.data, b.len, &doc, err, &secs);
    if (rc != 0)
        fprintf(stderr, "large document: %s\n", err);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        CHECK_INT(doc.n_entries, FEED_MAX_ENTRIES);
        CHECK(doc.entries_cut);
        char want[32];
        snprintf(want, sizeof want, "Item %d", FEED_MAX_ENTRIES - 1);
        if (doc.n_entries == FEED_MAX_ENTRIES)
            CHECK_STR(doc.entries[FEED_MAX_ENTRIES - 1].title, want);
        feed_doc_free(&doc);
    }
    /* the same document cut after its middle: a failure, not half a feed */
    rc = tf_parse_str(b.data, b.len / 2, &doc, err, &secs);
    CHECK_INT(rc, -1);
    if (rc == 0)
        feed_doc_free(&doc);
    kt_buf_free(&b);
}

/* With --large only the large-document check runs (ctest's slow
 * feed_large test); otherwise everything else. */
int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--large") == 0) {
        tf_large();
        return tap_done();
    }
    tf_data_cases();
    tf_api();
    tf_billion_laughs();
    tf_quadratic_blowup();
    tf_xxe();
    tf_token_join();
    tf_truncated();
    tf_limits();
    tf_threads();
    return tap_done();
}
