/*
 * test_conformance: runs the feed parser over feedparser's conformance
 * corpus (read in place from the directory given as argv[1]) and compares
 * what a ticker would show with the corpus's plain_expected column.
 *
 * The test fails when a row fails that tests/conformance_accepted.tsv
 * (argv[2]) does not list, when a listed row passes (so the list stays
 * true), when a listed row no longer exists, or when fewer than 95 % of
 * expected.tsv's applicable rows pass. expected_extra.tsv is held to the
 * same accepted-list rule and its pass rate is printed. Rows about the
 * detected encoding name are not applicable (feed_parse does not report
 * one) and are counted as such.
 */
#include "feed.h"
#include "tap.h"
#include "text.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONF_MAX_FILE (64u * 1024u * 1024u)

struct conf_accept {
    char *key; /* path \t index \t field */
    bool used;
};

static struct conf_accept *conf_accepted;
static size_t conf_n_accepted;

/* Splits a TSV line in place, undoing the corpus escapes (\\ \t \n \r). */
static size_t conf_split(char *line, char **cols, size_t max)
{
    size_t n = 0;
    char *w = line, *start = line;
    for (char *r = line;; r++) {
        if (*r == '\\' && r[1]) {
            r++;
            *w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r == 'r' ? '\r' : *r;
            continue;
        }
        if (*r == '\t' || *r == '\0') {
            bool end = *r == '\0';
            *w++ = '\0';
            if (n < max)
                cols[n++] = start;
            start = w;
            if (end)
                break;
            continue;
        }
        *w++ = *r;
    }
    return n;
}

static char *conf_read(const char *path, size_t *len)
{
    char *data = NULL, err[KT_ERR_MAX];
    size_t n = 0;
    if (kt_read_file(path, CONF_MAX_FILE, &data, &n, err, sizeof err) != 0) {
        fprintf(stderr, "conformance: %s\n", err);
        return NULL;
    }
    if (len)
        *len = n;
    return data;
}

static void conf_load_accepted(const char *path)
{
    char *data = conf_read(path, NULL);
    if (!data) {
        fprintf(stderr, "conformance: cannot read the accepted list %s\n", path);
        exit(1);
    }
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *cols[4];
        char *copy = kt_strdup(line);
        size_t n = conf_split(copy, cols, 4);
        if (n < 3) {
            fprintf(stderr, "conformance: bad accepted line: %s\n", line);
            exit(1);
        }
        conf_accepted = kt_realloc(conf_accepted, (conf_n_accepted + 1) * sizeof *conf_accepted);
        conf_accepted[conf_n_accepted].key = kt_asprintf("%s\t%s\t%s", cols[0], cols[1], cols[2]);
        conf_accepted[conf_n_accepted].used = false;
        conf_n_accepted++;
        free(copy);
    }
    free(data);
}

static struct conf_accept *conf_find_accepted(const char *path, const char *idx, const char *field)
{
    char *key = kt_asprintf("%s\t%s\t%s", path, idx, field);
    struct conf_accept *hit = NULL;
    for (size_t i = 0; i < conf_n_accepted && !hit; i++)
        if (strcmp(conf_accepted[i].key, key) == 0)
            hit = &conf_accepted[i];
    free(key);
    return hit;
}

/* The parsed document of the current path (rows of one file are adjacent,
 * but a cache by name keeps this correct whatever the order). */
struct conf_doc {
    char *path;
    int rc;
    char err[KT_ERR_MAX];
    struct feed_doc doc;
};

static struct conf_doc *conf_get(struct conf_doc *cache, const char *dir, const char *path)
{
    if (cache->path && strcmp(cache->path, path) == 0)
        return cache;
    if (cache->path) {
        if (cache->rc == 0)
            feed_doc_free(&cache->doc);
        free(cache->path);
    }
    cache->path = kt_strdup(path);
    char *full = kt_asprintf("%s/feeds/%s", dir, path);
    size_t len;
    char *data = conf_read(full, &len);
    free(full);
    if (!data) {
        cache->rc = -1;
        snprintf(cache->err, sizeof cache->err, "cannot read the document");
        return cache;
    }
    struct feed_parse_opts opts = {NULL, NULL, false};
    cache->rc = feed_parse(data, len, &opts, &cache->doc, cache->err, sizeof cache->err);
    free(data);
    return cache;
}

/* What the ticker shows for one row's field, or NULL (with why). */
static char *conf_value(struct conf_doc *c, long idx, const char *field, const char **why)
{
    if (c->rc != 0) {
        *why = c->err;
        return NULL;
    }
    if (idx < 0) {
        if (strcmp(field, "feed_title") == 0)
            return kt_strdup(c->doc.title ? c->doc.title : "");
        if (strcmp(field, "feed_link") == 0)
            return c->doc.link ? kt_strdup(c->doc.link) : NULL;
        *why = "unknown feed-level field";
        return NULL;
    }
    if ((size_t)idx >= c->doc.n_entries) {
        *why = "no such entry";
        return NULL;
    }
    const struct feed_entry *e = &c->doc.entries[idx];
    if (strcmp(field, "title") == 0)
        return e->title ? text_plain(e->title, strlen(e->title), e->title_html) : kt_strdup("");
    if (strcmp(field, "link") == 0)
        return e->link ? kt_strdup(e->link) : NULL;
    if (strcmp(field, "description") == 0 || strcmp(field, "summary") == 0)
        return e->summary ? text_plain(e->summary, strlen(e->summary), e->summary_html)
                          : kt_strdup("");
    *why = "unknown entry field";
    return NULL;
}

struct conf_stats {
    int rows, passed, not_applicable, unexpected, stale;
};

static bool conf_run_file(const char *dir, const char *name, struct conf_stats *st)
{
    char *path = kt_asprintf("%s/%s", dir, name);
    char *data = conf_read(path, NULL);
    free(path);
    if (!data)
        return false;
    struct conf_doc cache;
    memset(&cache, 0, sizeof cache);
    memset(st, 0, sizeof *st);
    char *save = NULL;
    bool header = true;
    for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (header) {
            header = false;
            continue;
        }
        char *cols[11];
        size_t n = conf_split(line, cols, 11);
        if (n < 5) {
            fprintf(stderr, "%s: short row\n", name);
            CHECK(n >= 5);
            continue;
        }
        const char *fpath = cols[0], *idx = cols[1], *field = cols[2], *want = cols[4];
        if (strcmp(field, "encoding") == 0) {
            st->not_applicable++;
            continue;
        }
        st->rows++;
        const char *why = "value differs";
        struct conf_doc *c = conf_get(&cache, dir, fpath);
        char *got = conf_value(c, strtol(idx, NULL, 10), field, &why);
        bool ok = got && strcmp(got, want) == 0;
        struct conf_accept *acc = conf_find_accepted(fpath, idx, field);
        if (acc)
            acc->used = true;
        if (ok) {
            st->passed++;
            if (acc) {
                st->stale++;
                fprintf(stderr, "%s: %s [%s] %s now passes; remove it from the accepted list\n",
                        name, fpath, idx, field);
            }
        } else if (!acc) {
            st->unexpected++;
            fprintf(stderr, "%s: FAIL %s [%s] %s (%s)\n   got: \"%s\"\n  want: \"%s\"\n", name,
                    fpath, idx, field, got ? "value differs" : why, got ? got : "(none)", want);
        }
        CHECK(ok != (acc != NULL));
        free(got);
    }
    if (cache.path) {
        if (cache.rc == 0)
            feed_doc_free(&cache.doc);
        free(cache.path);
    }
    free(data);
    return true;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR ACCEPTED_TSV\n", argv[0]);
        return 1;
    }
    const char *dir = argv[1];
    /* No corpus at all is a skip with its reason (ctest shows it, and CI,
     * which must have the corpus, fails on any skip); a corpus that is
     * there but unreadable is a failure. */
    char *probe = kt_asprintf("%s/expected.tsv", dir);
    bool present = access(probe, F_OK) == 0;
    free(probe);
    if (!present) {
        printf("SKIP: no conformance corpus at %s (expected.tsv missing; set "
               "-DKT_CONFORMANCE_DIR=...)\n",
               dir);
        return 77;
    }
    conf_load_accepted(argv[2]);

    static const char *const files[] = {"expected.tsv", "expected_extra.tsv"};
    for (size_t f = 0; f < 2; f++) {
        struct conf_stats st;
        if (!conf_run_file(dir, files[f], &st)) {
            fprintf(stderr, "conformance: corpus missing or unreadable at %s\n", dir);
            return 1;
        }
        double rate = st.rows ? 100.0 * st.passed / st.rows : 0.0;
        printf("%s: %d/%d pass (%.1f%%), %d not applicable (encoding name), %d unexpected "
               "failures, %d stale accepted entries\n",
               files[f], st.passed, st.rows, rate, st.not_applicable, st.unexpected, st.stale);
        CHECK(st.rows > 0);
        if (f == 0)
            CHECK(rate >= 95.0);
    }
    for (size_t i = 0; i < conf_n_accepted; i++) {
        if (!conf_accepted[i].used)
            fprintf(stderr, "accepted entry matches no corpus row: %s\n", conf_accepted[i].key);
        CHECK(conf_accepted[i].used);
        free(conf_accepted[i].key);
    }
    free(conf_accepted);
    return tap_done();
}
