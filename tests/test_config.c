/*
 * test_config: every file in tests/data/config/ starts with "# expect: ok"
 * or "# expect: LINE: message"; the runner loads it through config_load and
 * checks the result is ok, or that the error is "PATH:LINE: message…".
 * Then a few checks on values, defaults and the unit parsers.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

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
    if (sscanf(data, "# expect: %255[^\n]", expect) != 1) {
        fprintf(stderr, "%s: no '# expect:' line\n", path);
        CHECK(!"case without expectation");
    }
    free(data);
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

static void check_values(const char *dir)
{
    char err[KT_ERR_MAX];
    char *path = kt_asprintf("%s/ok_full.conf", dir);
    struct config *c = config_load(path, err, sizeof err);
    free(path);
    CHECK(c != NULL);
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
    } durations[] = {{"90s", 90},    {"15m", 900}, {"2h", 7200},  {"1d", 86400}, {"45", 45},
                     {"1.5h", 5400}, {"0", 0},     {"", -1},      {"m", -1},     {"10mm", -1},
                     {"-5m", -1},    {"10 m", -1}, {"1e400s", -1}},
      sizes[] = {{"5M", 5242880},    {"512K", 524288}, {"512KiB", 524288},
                 {"1G", 1073741824}, {"100", 100},     {"5MB", 5242880},
                 {"5X", -1},         {"", -1},         {"M", -1}};
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

int main(int argc, char **argv)
{
    const char *data = getenv("KT_TEST_DATA");
    if (!data) {
        fprintf(stderr, "KT_TEST_DATA not set\n");
        return 1;
    }
    char *dir = kt_asprintf("%s/config", data);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 256)
        if (strstr(e->d_name, ".conf"))
            names[n++] = kt_strdup(e->d_name);
    if (d)
        closedir(d);
    qsort(names, n, sizeof *names, cmp);
    CHECK(n >= 20);
    for (size_t i = 0; i < n; i++) {
        run_case(dir, names[i]);
        free(names[i]);
    }
    printf("%zu config cases\n", n);

    char err[KT_ERR_MAX];
    CHECK(config_load("/nonexistent/ticker.conf", err, sizeof err) == NULL);
    CHECK_STR(err, "/nonexistent/ticker.conf:0: cannot read: No such file or directory");

    check_values(dir);
    check_defaults();
    check_units();
    free(dir);
    return tap_done();
}
