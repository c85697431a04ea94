/*
 * test_config: every file in tests/data/config/ starts with "# expect: ok"
 * or "# expect: LINE: message"; the runner loads it through config_load and
 * checks the result is ok, or that the error is "PATH:LINE: message…".
 *
 * Every tests/data/config/overlay/NAME.case holds a local config, a remote
 * one and what laying the remote over the local gives: after "=== local",
 * "=== remote" and "=== merged" lines, the merged document as one line per
 * section and entry ("ORIGIN:LINE: [kind name]", "ORIGIN:LINE:   key =
 * value"). Its "# expect:" line is "ok" or the first error (with its
 * origin) of parsing either part, or of building the merged config. A
 * "# local_only: KIND..." line replaces the table's local-only kinds.
 *
 * Then a few checks on values, defaults and the unit parsers.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config_doc.h"

#include "config.h"
#include "tap.h"
#include "util.h"

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_case(const char *dir, const char *name)
{
    char *path = kt_asprintf("%s/%s", dir, name);
    char *data;
    size_t len;
    char err[KT_ERR_MAX] = "";
    if (kt_read_file(path, 1 << 20, &data, &len, err, sizeof err) < 0) {
        CHECK(!"cannot read case");
        free(path);
        return;
    }
    char expect[256] = "";
    const char *text = kt_str_has_prefix(data, "\xEF\xBB\xBF") ? data + 3 : data;
    if (sscanf(text, "# expect: %255[^\n]", expect) != 1) {
        fprintf(stderr, "%s: no '# expect:' line\n", path);
        CHECK(!"case without expectation");
    }
    free(data);
    expect[strcspn(expect, "\r")] = '\0';
    struct config *cfg = config_load(path, err, sizeof err);
    if (strcmp(expect, "ok") == 0) {
        if (!cfg)
            fprintf(stderr, "%s: unexpected error: %s\n", name, err);
        CHECK(cfg != NULL);
    } else {
        char *want = kt_asprintf("%s:%s", path, expect);
        if (cfg || strncmp(err, want, strlen(want)) != 0)
            fprintf(stderr, "%s:\n   got: %s\n  want: %s...\n", name, cfg ? "(ok)" : err, want);
        CHECK(cfg == NULL && strncmp(err, want, strlen(want)) == 0);
        free(want);
    }
    config_free(cfg);
    free(path);
}

#define OVERLAY_LOCAL "/srv/kiosk/ticker.conf"
#define OVERLAY_REMOTE "https://cms.example.org/lobby.conf"

static void dump_doc(const struct config_doc *doc, struct kt_buf *out)
{
    for (size_t i = 0; i < doc->n_sections; i++) {
        const struct config_section *s = &doc->sections[i];
        kt_buf_printf(out, "%s:%d: [%s%s%s]\n", s->origin, s->line, s->kind, s->name ? " " : "",
                      s->name ? s->name : "");
        for (size_t j = 0; j < s->n_entries; j++)
            kt_buf_printf(out, "%s:%d:   %s = %s\n", s->origin, s->entries[j].line,
                          s->entries[j].key, s->entries[j].value);
    }
}

/* The text after the line "=== part" up to the next "===" line, or NULL. */
static char *case_part(const char *data, const char *part)
{
    char *marker = kt_asprintf("\n=== %s\n", part);
    const char *p = strstr(data, marker);
    const char *start = p ? p + strlen(marker) : NULL;
    free(marker);
    if (!start)
        return NULL;
    const char *end = strstr(start - 1, "\n===");
    end = end && end + 1 > start ? end + 1 : start + strlen(start);
    return kt_strndup(start, (size_t)(end - start));
}

static void run_overlay_case(const char *dir, const char *name)
{
    char *path = kt_asprintf("%s/%s", dir, name);
    char *data;
    size_t len;
    char err[KT_ERR_MAX] = "";
    if (kt_read_file(path, 1 << 20, &data, &len, err, sizeof err) < 0) {
        CHECK(!"cannot read overlay case");
        free(path);
        return;
    }
    free(path);
    const char *ex = strstr(data, "# expect: ");
    char *expect = ex ? kt_strndup(ex + 10, strcspn(ex + 10, "\n")) : kt_strdup("");
    char *local_text = case_part(data, "local"), *remote_text = case_part(data, "remote");
    char *merged_want = case_part(data, "merged");
    CHECK(local_text && remote_text && *expect);
    if (!local_text || !remote_text) {
        fprintf(stderr, "%s: needs === local and === remote parts\n", name);
        goto done;
    }
    /* "# local_only: a b" */
    const char *lo = strstr(data, "# local_only: ");
    char *kinds_text = lo ? kt_strndup(lo + 14, strcspn(lo + 14, "\n")) : NULL;
    const char *kinds[16];
    size_t nk = 0;
    for (char *t = kinds_text ? strtok(kinds_text, " ") : NULL; t && nk < 15; t = strtok(NULL, " "))
        kinds[nk++] = t;
    kinds[nk] = NULL;

    struct config_doc *local =
        config_doc_parse(local_text, strlen(local_text), OVERLAY_LOCAL, err, sizeof err);
    struct config_doc *remote =
        local ? config_doc_parse(remote_text, strlen(remote_text), OVERLAY_REMOTE, err, sizeof err)
              : NULL;
    struct config_doc *merged = NULL;
    struct config *cfg = NULL;
    if (local && remote) {
        merged =
            kinds_text ? config_doc_overlay(local, remote, kinds) : config_overlay(local, remote);
        cfg = config_build(merged, err, sizeof err);
    }
    if (strcmp(expect, "ok") == 0) {
        if (!cfg)
            fprintf(stderr, "%s: unexpected error: %s\n", name, err);
        CHECK(cfg != NULL);
        CHECK(merged_want != NULL);
        if (merged && merged_want) {
            struct kt_buf got;
            kt_buf_init(&got);
            dump_doc(merged, &got);
            if (strcmp(got.data ? got.data : "", merged_want) != 0)
                fprintf(stderr, "%s: merged document\n--- got\n%s--- want\n%s", name,
                        got.data ? got.data : "", merged_want);
            CHECK(strcmp(got.data ? got.data : "", merged_want) == 0);
            kt_buf_free(&got);
        }
    } else {
        if (cfg || strncmp(err, expect, strlen(expect)) != 0)
            fprintf(stderr, "%s:\n   got: %s\n  want: %s...\n", name, cfg ? "(ok)" : err, expect);
        CHECK(cfg == NULL && strncmp(err, expect, strlen(expect)) == 0);
    }
    /* The inputs are left as they were: overlaying again gives the same. */
    if (merged) {
        struct config_doc *again =
            kinds_text ? config_doc_overlay(local, remote, kinds) : config_overlay(local, remote);
        struct kt_buf a, b;
        kt_buf_init(&a);
        kt_buf_init(&b);
        dump_doc(merged, &a);
        dump_doc(again, &b);
        CHECK(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
        kt_buf_free(&a);
        kt_buf_free(&b);
        config_doc_free(again);
    }
    config_free(cfg);
    config_doc_free(merged);
    config_doc_free(remote);
    config_doc_free(local);
    free(kinds_text);
done:
    free(local_text);
    free(remote_text);
    free(merged_want);
    free(expect);
    free(data);
}

/* Runs run(dir, NAME) for every file in dir whose name ends in suffix, in
 * name order; returns how many. */
static size_t run_cases(const char *dir, const char *suffix,
                        void (*run)(const char *dir, const char *name))
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    char *names[512];
    size_t n = 0, ls = strlen(suffix);
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 512) {
        size_t l = strlen(e->d_name);
        if (l > ls && strcmp(e->d_name + l - ls, suffix) == 0)
            names[n++] = kt_strdup(e->d_name);
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (size_t i = 0; i < n; i++) {
        run(dir, names[i]);
        free(names[i]);
    }
    return n;
}

/* The config in dir/name, which must load; NULL after a failed check. */
static struct config *load_case(const char *dir, const char *name)
{
    char err[KT_ERR_MAX];
    char *path = kt_asprintf("%s/%s", dir, name);
    struct config *c = config_load(path, err, sizeof err);
    if (!c)
        fprintf(stderr, "%s: %s\n", name, err);
    free(path);
    CHECK(c != NULL);
    return c;
}

static void check_values(const char *dir)
{
    struct config *c = load_case(dir, "ok_full.conf");
    if (!c)
        return;
    CHECK_INT(c->refresh, 90);
    CHECK_INT(c->max_items, 40);
    CHECK_INT(c->max_age, 2 * 86400);
    CHECK_INT(c->max_chars, 120);
    CHECK_INT(c->exclude.n, 2);
    CHECK_STR(c->exclude.v[1], "(live|watch):");
    CHECK_INT(c->order, ORDER_INTERLEAVE);
    CHECK_STR(c->cache, "/tmp/kt-test-cache.tsv");
    CHECK_INT(c->timeout, 15);
    CHECK_INT(c->connect_timeout, 10);
    CHECK_INT(c->max_bytes, 512 * 1024);
    CHECK_STR(c->user_agent, "test-agent/1.0");
    CHECK(c->ca_file == NULL);
    CHECK_INT(c->n_feeds, 2);
    CHECK_STR(c->feeds[0].name, "world");
    CHECK_STR(c->feeds[0].label, "World");
    CHECK_INT(c->feeds[0].refresh, 7200);
    CHECK_INT(c->feeds[0].max_items, 5);
    CHECK_INT(c->feeds[0].exclude.n, 1);
    CHECK_STR(c->feeds[1].label, "local"); /* default: the name */
    CHECK_INT(c->feeds[1].refresh, 90);    /* default: [ticker] refresh */
    CHECK_INT(c->feeds[1].max_items, 0);
    /* A relative path is relative to the config file's directory. */
    char *local = kt_asprintf("%s/assets/demo-local.txt", dir);
    CHECK_STR(c->feeds[1].url, local);
    free(local);
    CHECK_STR(c->feeds[0].url, "https://example.org/world.xml");
    /* Where each value came from. */
    int line = -1;
    CHECK(strstr(config_origin(c, "feed", "world", "refresh", &line), "ok_full.conf") != NULL);
    CHECK_INT(line, 19);
    CHECK(config_origin(c, "display", NULL, "font", &line) != NULL);
    CHECK_INT(line, 34);
    CHECK(config_origin(c, "display", NULL, "vsync", &line) == NULL);
    CHECK_INT(line, 0);
    CHECK(config_origin(c, "feed", "nope", "url", &line) == NULL);
    CHECK_INT(c->display.mode, MODE_WINDOW);
    CHECK_INT(c->display.width, 1920);
    CHECK_INT(c->display.height_window, 96);
    CHECK_INT(c->display.position, POS_TOP);
    CHECK_INT(c->display.height, 0);
    CHECK_INT(c->display.background.a, 0xCC);
    CHECK_INT(c->display.foreground.r, 0xff);
    CHECK_STR(c->display.separator, "  |  ");
    CHECK_STR(c->display.font, "DejaVu Sans:bold");
    CHECK_INT(c->display.font_size, 32);
    CHECK(c->display.speed == 90.5);
    CHECK_INT(c->display.direction, DIR_RIGHT);
    CHECK_STR(c->display.idle_text, "Nothing yet");
    CHECK(!c->display.snap_speed);
    config_free(c);
}

static void check_defaults(void)
{
    setenv("STATE_DIRECTORY", "/var/lib/kiosk-ticker:/other", 1);
    struct config *c = config_default();
    CHECK_INT(c->refresh, 15 * 60);
    CHECK_INT(c->max_chars, 200);
    CHECK_INT(c->max_bytes, 5 * 1024 * 1024);
    CHECK_INT(c->order, ORDER_NEWEST);
    CHECK_STR(c->display.separator, " • ");
    CHECK_STR(c->cache, "/var/lib/kiosk-ticker/cache.tsv");
    CHECK_INT(c->n_feeds, 0);
    config_free(c);
    unsetenv("STATE_DIRECTORY");
    setenv("XDG_STATE_HOME", "/home/u/.state", 1);
    char *p = config_default_cache_path();
    CHECK_STR(p, "/home/u/.state/kiosk-ticker/cache.tsv");
    free(p);
}

static void check_units(void)
{
    static const struct {
        const char *in;
        long long want; /* -1 = invalid */
    } durations[] = {{"90s", 90},
                     {"15m", 900},
                     {"2h", 7200},
                     {"1d", 86400},
                     {"45", 45},
                     {"1.5h", 5400},
                     {"0", 0},
                     {"", -1},
                     {"m", -1},
                     {"10mm", -1},
                     {"-5m", -1},
                     {"10 m", -1},
                     {"1e400s", -1},
                     {"0x10s", -1},
                     {" 5s", -1},
                     {"+5s", -1},
                     {"5.s", -1},
                     {".5s", -1},
                     {"0.5s", 1},
                     {"1e3", -1},
                     {"inf", -1},
                     {"nan", -1},
                     {"1000000000000", 1000000000000LL},
                     {"99999999999999999999999", -1}},
      sizes[] = {{"5M", 5242880}, {"512K", 524288}, {"512KiB", 524288}, {"1G", 1073741824},
                 {"100", 100},    {"5MB", 5242880}, {"5X", -1},         {"", -1},
                 {"M", -1},       {"1.5K", 1536},   {"0x10", -1},       {"5 M", -1},
                 {"-1K", -1},     {"1e3", -1}};
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        int64_t v = -1;
        int rc = config_parse_duration(durations[i].in, &v);
        CHECK_INT(rc == 0 ? v : -1, durations[i].want);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int64_t v = -1;
        int rc = config_parse_size(sizes[i].in, &v);
        CHECK_INT(rc == 0 ? v : -1, sizes[i].want);
    }
}

static void check_numbers(void)
{
    static const struct {
        const char *in;
        double want;
        int rc;
    } numbers[] = {{"120", 120, 0}, {"90.5", 90.5, 0}, {"-3", -3, 0},  {"0.1", 0.1, 0},
                   {"007", 7, 0},   {"0x10", 0, -1},   {"1e3", 0, -1}, {"+1", 0, -1},
                   {" 1", 0, -1},   {"1 ", 0, -1},     {"inf", 0, -1}, {"nan", 0, -1},
                   {"1.", 0, -1},   {".5", 0, -1},     {"", 0, -1},    {"-", 0, -1},
                   {"1,5", 0, -1},  {"--1", 0, -1}};
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        double v = -12345;
        int rc = config_parse_number(numbers[i].in, &v);
        CHECK_INT(rc, numbers[i].rc);
        if (rc == 0 && v != numbers[i].want)
            fprintf(stderr, "config_parse_number(\"%s\") = %.17g\n", numbers[i].in, v);
        CHECK(rc != 0 || v == numbers[i].want);
    }
    double huge;
    CHECK(config_parse_number("99999999999999999999999", &huge) == 0 && huge > 9e22);
    int w = 0, h = 0;
    CHECK(config_parse_wxh("1920x96", &w, &h) == 0 && w == 1920 && h == 96);
    CHECK(config_parse_wxh("64X32", &w, &h) == 0 && w == 64 && h == 32);
    CHECK(config_parse_wxh("99999999999999x1", &w, &h) == 0 && w == INT_MAX && h == 1);
    static const char *const bad_wxh[] = {"1280x 96", " 1280x96", "1280 x96", "+1280x96",
                                          "-1280x96", "1280x-96", "0x10x5",   "1280*96",
                                          "x96",      "1280x",    "12.5x96",  ""};
    for (size_t i = 0; i < sizeof bad_wxh / sizeof bad_wxh[0]; i++) {
        if (config_parse_wxh(bad_wxh[i], &w, &h) == 0)
            fprintf(stderr, "config_parse_wxh accepted \"%s\"\n", bad_wxh[i]);
        CHECK(config_parse_wxh(bad_wxh[i], &w, &h) < 0);
    }
}

/* Names and labels keep their UTF-8 and their quotes come off. */
static void check_text(const char *dir)
{
    struct config *c = load_case(dir, "ok_crlf_bom_tab.conf");
    if (!c)
        return;
    CHECK_INT(c->refresh, 600);
    CHECK_INT(c->n_feeds, 1);
    CHECK_STR(c->feeds[0].name, "my feed");
    CHECK_STR(c->feeds[0].label, "M\xC3\xBCnchen\t\xE2\x80\xA2 news");
    config_free(c);

    c = load_case(dir, "ok_durations.conf");
    if (!c)
        return;
    CHECK_INT(c->refresh, 5400);
    CHECK_INT(c->timeout, 1);
    CHECK_INT(c->connect_timeout, 1); /* 2s, then at most the timeout */
    CHECK_INT(c->max_bytes, 1536 * 1024);
    CHECK(c->display.speed == 1.25);
    config_free(c);
}

/* config_build copies the document: the config outlives it. */
static void check_build_copies(void)
{
    static const char text[] = "[feed a]\nurl = http://example.org/a\n[display]\nfont = X\n";
    char err[KT_ERR_MAX];
    struct config_doc *doc =
        config_doc_parse(text, sizeof text - 1, "https://h/x.conf", err, sizeof err);
    CHECK(doc != NULL);
    if (!doc)
        return;
    struct config *c = config_build(doc, err, sizeof err);
    config_doc_free(doc);
    CHECK(c != NULL);
    if (!c)
        return;
    int line;
    CHECK_STR(config_origin(c, "display", NULL, "font", &line), "https://h/x.conf");
    CHECK_INT(line, 4);
    CHECK_STR(c->path, "https://h/x.conf");
    CHECK_STR(c->feeds[0].url, "http://example.org/a");
    config_free(c);
}

int main(int argc, char **argv)
{
    const char *data = getenv("KT_TEST_DATA");
    if (!data) {
        fprintf(stderr, "KT_TEST_DATA not set\n");
        return 1;
    }
    char *dir = kt_asprintf("%s/config", data);
    size_t n = run_cases(dir, ".conf", run_case);
    CHECK(n >= 20);
    printf("%zu config cases\n", n);
    char *odir = kt_asprintf("%s/overlay", dir);
    n = run_cases(odir, ".case", run_overlay_case);
    free(odir);
    CHECK(n >= 10);
    printf("%zu overlay cases\n", n);

    char err[KT_ERR_MAX];
    CHECK(config_load("/nonexistent/ticker.conf", err, sizeof err) == NULL);
    CHECK_STR(err, "/nonexistent/ticker.conf:0: cannot read: No such file or directory");

    check_values(dir);
    check_defaults();
    check_units();
    check_numbers();
    check_text(dir);
    check_build_copies();
    free(dir);
    return tap_done();
}
