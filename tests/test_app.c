/*
 * test_app: the running application (src/app.c) with its real supervisor,
 * workers, store and cache, against tests/http_server.py and local files.
 * This test's main thread plays the render thread: it calls app_poll() as
 * the display does once per frame and reads the store's snapshots.
 *
 *   exclude_304     a reload hides a headline at once (new exclude, lower
 *                   max_chars, lower max_items) with no fetch, also after
 *                   a 304, and after a restart from the cache
 *   url_race        a reload that moves a feed to another URL while the old
 *                   one is being parsed: the old document never shows under
 *                   the new URL, the new one is fetched at once
 *   retry_after     a 503 with Retry-After: 3600 gets one request, however
 *                   many reloads with the same config follow
 *   same_bytes      refetching a document that did not change does not
 *                   rewrite the cache
 *   quit_mid_parse  quitting while a huge document is parsed ends within
 *                   the exit budget, the cache saved
 *   stuck_loader    a reload whose config read blocks never holds the
 *                   render thread's poll
 *   clock_step      a wall clock stepped from 1970 by NTP does not age out
 *                   undated headlines
 *
 * Each scenario runs in its own process (the app's signal flags are
 * process-wide, and an abandoned worker ends its process with _exit).
 * Usage: test_app PYTHON http_server.py
 */
#define KT_TEST_SERVER_CLIENT 1

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "config_ref.h"
#include "log.h"
#include "poller.h"
#include "store.h"
#include "tap.h"
#include "test_server.h"
#include "text.h"
#include "transport.h"
#include "unicode.h"
#include "util.h"

static const char *python, *server_script;
static int port;
static char dir[64];
/* A document whose parse takes most of a second of CPU (made once). */
static char big_dir[64], *big_path;
static size_t big_len;

static double t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void t_sleep(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static struct config *t_config(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct config *t_config(const char *fmt, ...)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_printf(&b, "[ticker]\ncache = %s/cache.tsv\ntimeout = 10s\nrefresh = 1h\n", dir);
    va_list ap;
    va_start(ap, fmt);
    kt_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char err[KT_ERR_MAX];
    struct config *cfg = config_parse(b.data, b.len, "test.conf", err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "test config refused: %s\n%s\n", err, b.data);
        exit(1);
    }
    kt_buf_free(&b);
    return cfg;
}

static struct config *t_no_loader(const char *path, char *err, size_t errlen)
{
    (void)path;
    kt_error(err, errlen, "this test has no config file");
    return NULL;
}

/* Headlines shown whose title contains needle (NULL: all). */
static size_t t_shown(struct app *app, const char *needle)
{
    const struct store_snapshot *snap = store_snapshot(app_store(app));
    size_t n = 0;
    for (size_t i = 0; i < snap->n; i++)
        n += !needle || strstr(snap->items[i].title, needle) != NULL;
    store_snapshot_release(snap);
    return n;
}

/* Polls as the render thread does, until shown(needle) == want or the time
 * is up (the waits here are generous bounds on a loaded machine, not
 * measurements). Returns whether it got there. */
static bool t_wait_shown(struct app *app, const char *needle, size_t want, double seconds)
{
    double end = t_now() + seconds * t_time_scale();
    for (;;) {
        const struct config *cfg;
        app_poll(app, &cfg);
        if (t_shown(app, needle) == want)
            return true;
        if (t_now() > end)
            return false;
        t_sleep(0.01);
    }
}

static void t_write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

/* An RSS document of n items titled "PREFIX k" (padded, so a big n makes
 * a document that takes a while to parse). */
static char *t_rss(const char *prefix, size_t n, size_t pad, size_t *len)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_puts(&b, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>t</title>\n");
    for (size_t i = 0; i < n; i++) {
        kt_buf_printf(&b, "<item><title>%s %zu</title><link>http://example.org/%s/%zu</link>",
                      prefix, i, prefix, i);
        if (pad) {
            kt_buf_puts(&b, "<description>");
            for (size_t k = 0; k < pad; k += 9)
                kt_buf_append(&b, "abcdefgh ", pad - k < 9 ? pad - k : 9);
            kt_buf_puts(&b, "</description>");
        }
        kt_buf_puts(&b, "</item>\n");
    }
    kt_buf_puts(&b, "</channel></rss>\n");
    *len = b.len;
    return kt_buf_steal(&b);
}

static void t_post_doc(const char *feed, const char *doc)
{
    char path[128];
    snprintf(path, sizeof path, "/set/%s", feed);
    test_server_post(port, path, doc, strlen(doc), "application/rss+xml; charset=UTF-8");
}

/* Ends a scenario: the app goes (it may end the process itself when a
 * worker had to be abandoned, with this same code). */
static int t_finish(struct app *app)
{
    int code = tap_failures ? 1 : 0;
    if (tap_checks == 0)
        code = 1;
    fflush(NULL);
    return app_free(app, code);
}

/* ---- scenarios ---- */

static const char news_doc[] =
    "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>News</title>\n"
    "<item><title>Harbour closes for repairs</title><link>http://n/1</link></item>\n"
    "<item><title>Council approves the new budget for the coming year</title>"
    "<link>http://n/2</link></item>\n"
    "<item><title>Library opens on Sundays</title><link>http://n/3</link></item>\n"
    "</channel></rss>\n";

static int scenario_exclude_304(void)
{
    t_post_doc("news", news_doc);
    const char *feed = "[feed news]\nurl = http://127.0.0.1:%d/feed/news\n";
    char feedtxt[128];
    snprintf(feedtxt, sizeof feedtxt, feed, port);
    struct app *app = app_new(t_config("%s", feedtxt), NULL, t_no_loader);
    app_start(app);
    CHECK(t_wait_shown(app, NULL, 3, 10));
    CHECK_INT(test_server_stat(port, "/feed/news", "requests"), 1);

    /* A new exclude: gone at once, without asking the server. */
    app_submit_config(app, t_config("exclude = harbour\n%s", feedtxt));
    CHECK(t_wait_shown(app, "Harbour", 0, 5));
    CHECK_INT(t_shown(app, NULL), 2);
    /* A lower max_chars: cut at once. */
    app_submit_config(app, t_config("exclude = harbour\nmax_chars = 20\n%s", feedtxt));
    CHECK(t_wait_shown(app, "Council approves the", 0, 5));
    const struct store_snapshot *snap = store_snapshot(app_store(app));
    for (size_t i = 0; i < snap->n; i++)
        CHECK(uni_count(snap->items[i].title, strlen(snap->items[i].title)) <= 20);
    store_snapshot_release(snap);
    /* A lower max_items for the feed: one left. */
    app_submit_config(app, t_config("%smax_items = 1\n", feedtxt));
    CHECK(t_wait_shown(app, NULL, 1, 5));
    /* And back: everything again, from the entries the store kept. */
    app_submit_config(app, t_config("%s", feedtxt));
    CHECK(t_wait_shown(app, NULL, 3, 5));
    CHECK(t_wait_shown(app, "Council approves the new budget", 1, 5));
    CHECK_INT(test_server_stat(port, "/feed/news", "requests"), 1);

    /* The server answers 304 to the refetch; a reload still hides. */
    app_request_refetch(app, "news");
    double end = t_now() + 10;
    while (test_server_stat(port, "/feed/news", "not_modified") < 1 && t_now() < end)
        t_sleep(0.02);
    CHECK_INT(test_server_stat(port, "/feed/news", "not_modified"), 1);
    app_submit_config(app, t_config("exclude = ^harbour\n%s", feedtxt));
    CHECK(t_wait_shown(app, "Harbour", 0, 5));
    CHECK_INT(app_stop(app), 0);
    int code = tap_failures ? 1 : 0;
    app_free(app, code);

    /* A restart with the server down: the cache's entries are derived
     * under the config of the day. */
    test_server_post(port, "/set/news?route=500", NULL, 0, NULL);
    app = app_new(t_config("exclude = library\n%s", feedtxt), NULL, t_no_loader);
    CHECK_INT(t_shown(app, NULL), 2);
    CHECK_INT(t_shown(app, "Library"), 0);
    CHECK_INT(t_shown(app, "Harbour"), 1);
    return t_finish(app);
}

static int scenario_url_race(void)
{
    /* Old URL: a document whose parse takes a while; new URL: small. */
    const char *old_path = big_path;
    char *new_path = kt_asprintf("%s/new.xml", dir);
    size_t len;
    char *small = t_rss("New URL item", 3, 0, &len);
    t_write_file(new_path, small, len);
    free(small);
    struct app *app =
        app_new(t_config("max_bytes = 100M\n[feed news]\nurl = %s\nrefresh = 1h\n", old_path), NULL,
                t_no_loader);
    app_start(app);
    t_sleep(0.1); /* read, and in the middle of the parse */
    app_submit_config(
        app, t_config("max_bytes = 100M\n[feed news]\nurl = %s\nrefresh = 1h\n", new_path));
    /* The new URL is fetched at once (well within its refresh of an hour);
     * the old document never shows, also after its parse has ended. */
    CHECK(t_wait_shown(app, "New URL item", 3, 60));
    /* The reload did meet the parse (else this proved nothing). */
    CHECK(poller_abandoned() > 0 || t_shown(app, NULL) == 3);
    bool old_seen = false;
    double end = t_now() + 20 * t_time_scale();
    while ((poller_abandoned() > 0 || t_now() < end - 19) && t_now() < end) {
        const struct config *cfg;
        app_poll(app, &cfg);
        old_seen |= t_shown(app, "Old URL item") > 0;
        t_sleep(0.01);
    }
    CHECK(!old_seen);
    CHECK_INT(poller_abandoned(), 0);
    CHECK_INT(t_shown(app, "New URL item"), 3);
    CHECK_INT(app_stop(app), 0);
    free(new_path);
    return t_finish(app);
}

static int scenario_retry_after(void)
{
    test_server_post(port, "/set/busy?route=503-long", NULL, 0, NULL);
    char feedtxt[128];
    snprintf(feedtxt, sizeof feedtxt, "[feed busy]\nurl = http://127.0.0.1:%d/feed/busy\n", port);
    struct app *app = app_new(t_config("%s", feedtxt), NULL, t_no_loader);
    app_start(app);
    double end = t_now() + 10;
    while (test_server_stat(port, "/feed/busy", "requests") < 1 && t_now() < end)
        t_sleep(0.02);
    for (int i = 0; i < 10; i++) {
        app_submit_config(app, t_config("%s", feedtxt));
        t_sleep(0.1);
    }
    /* A refetch request does not override the server's wish either. */
    app_request_refetch(app, NULL);
    t_sleep(1.0);
    CHECK_INT(test_server_stat(port, "/feed/busy", "requests"), 1);
    CHECK_INT(app_stop(app), 0);
    return t_finish(app);
}

static int scenario_same_bytes(void)
{
    char *path = kt_asprintf("%s/list.txt", dir);
    const char *list = "First notice\nSecond notice\n";
    t_write_file(path, list, strlen(list));
    struct app *app = app_new(t_config("[feed notices]\nurl = %s\n", path), NULL, t_no_loader);
    app_start(app);
    CHECK(t_wait_shown(app, "notice", 2, 10));
    char *cache = kt_asprintf("%s/cache.tsv", dir);
    struct stat a, b;
    double end = t_now() + 10;
    while (stat(cache, &a) != 0 && t_now() < end)
        t_sleep(0.05);
    CHECK(stat(cache, &a) == 0);
    /* Three more fetches of the same bytes (a local file has no validators:
     * each is a full read and parse, but nothing changed). */
    for (int i = 0; i < 3; i++) {
        app_request_refetch(app, "notices");
        t_sleep(1.5);
    }
    CHECK(stat(cache, &b) == 0);
    CHECK(a.st_ino == b.st_ino && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
          a.st_mtim.tv_nsec == b.st_mtim.tv_nsec);
    /* A change is written. */
    t_write_file(path, "Third notice\n", 13);
    app_request_refetch(app, "notices");
    CHECK(t_wait_shown(app, "Third notice", 1, 10));
    end = t_now() + 10;
    while (stat(cache, &b) == 0 && b.st_ino == a.st_ino && t_now() < end)
        t_sleep(0.05);
    CHECK(b.st_ino != a.st_ino);
    CHECK_INT(app_stop(app), 0);
    free(cache);
    free(path);
    return t_finish(app);
}

static int scenario_quit_mid_parse(void)
{
    const char *path = big_path;
    size_t len = big_len;
    char *small = kt_asprintf("%s/small.txt", dir);
    t_write_file(small, "Small one\n", 10);
    struct app *app = app_new(
        t_config("max_bytes = 100M\n[feed small]\nurl = %s\n[feed huge]\nurl = %s\n", small, path),
        NULL, t_no_loader);
    app_start(app);
    CHECK(t_wait_shown(app, "Small one", 1, 10));
    t_sleep(0.1); /* the huge one read, and in the middle of its parse */
    /* The promise: out within a second in every state, here with a
     * parse that cannot be interrupted running. */
    double t0 = t_now();
    app_request_quit(app);
    int rc = app_stop(app);
    double took = t_now() - t0;
    printf("# quit during a parse of %zu MB: app_stop took %.0f ms, %zu fetch(es) abandoned\n",
           len >> 20, took * 1000, poller_abandoned());
    CHECK(took < 1.0 * t_time_scale());
    CHECK_INT(rc, 0);
    CHECK(poller_abandoned() == 1); /* it was mid-parse, else this proved nothing */
    struct app *again = app_new(t_config("[feed small]\nurl = %s\n", small), NULL, t_no_loader);
    CHECK_INT(t_shown(again, "Small one"), 1);
    int code = tap_failures ? 1 : 0;
    app_free(again, code);
    free(small);
    return t_finish(app);
}

static int stuck_loader_calls;

static struct config *t_stuck_loader(const char *path, char *err, size_t errlen)
{
    (void)path;
    stuck_loader_calls++;
    t_sleep(2.0); /* a config on a stalled network mount */
    kt_error(err, errlen, "still stuck");
    return NULL;
}

static int scenario_stuck_loader(void)
{
    struct app *app = app_new(t_config("%s", ""), NULL, t_stuck_loader);
    app_start(app);
    t_sleep(0.1);
    app_request_reload(app);
    /* The render thread's poll while the supervisor sits in the loader. */
    double worst = 0, end = t_now() + 1.5;
    long polls = 0;
    while (t_now() < end) {
        const struct config *cfg;
        double a = t_now();
        CHECK(app_poll(app, &cfg) == APP_CONTINUE);
        double d = t_now() - a;
        worst = d > worst ? d : worst;
        polls++;
    }
    tap_checks++;
    printf("# %ld polls during a 2 s config read, the longest %.1f us\n", polls, worst * 1e6);
    /* Against the loader's 2 s: a poll that waited for it would be as long. */
    if (worst > 0.1) {
        tap_failures++;
        fprintf(stderr, "app_poll waited %.3f s for the supervisor\n", worst);
    }
    CHECK_INT(app_stop(app), 0);
    return t_finish(app);
}

static int64_t fake_wall, fake_mono;

static int64_t t_fake_wall(void)
{
    return fake_wall;
}

static int64_t t_fake_mono(void)
{
    return fake_mono;
}

static int scenario_clock_step(void)
{
    /* A board without a real-time clock: 1970 plus the boot time. */
    fake_wall = 120;
    fake_mono = 120;
    poller_set_clock(t_fake_wall, t_fake_mono);
    struct config *cfg = t_config("max_age = 2d\n[feed local]\nurl = /nonexistent\n");
    struct store *s = store_new();
    store_configure(s, cfg, poller_now(s));
    struct store_item items[] = {{"Undated notice", NULL, 0, 0}};
    store_replace_items(s, "local", items, 1, poller_now(s));
    fake_wall += 60;
    fake_mono += 60;
    CHECK(!store_expire(s, poller_now(s)));
    /* NTP steps the clock to 2026; a minute later the expiry pass. */
    fake_wall = 1767225600;
    fake_mono += 5;
    int64_t stepped = poller_now(s);
    fake_wall += 60;
    fake_mono += 60;
    store_expire(s, poller_now(s));
    const struct store_snapshot *snap = store_snapshot(s);
    CHECK_INT(snap->n, 1);
    store_snapshot_release(snap);
    struct store_dump d = store_dump(s);
    /* Its age is what it was: 65 s when the clock stepped. */
    CHECK_INT(d.feeds[0].items[0].first_seen, stepped - 65);
    CHECK(d.feeds[0].last_success >= stepped - 65 && d.feeds[0].last_success <= stepped);
    store_dump_free(&d);
    /* Two days later it goes, as max_age says. */
    fake_wall += 2 * 86400;
    fake_mono += 2 * 86400;
    store_expire(s, poller_now(s));
    snap = store_snapshot(s);
    CHECK_INT(snap->n, 0);
    store_snapshot_release(snap);
    store_free(s);

    /* A suspend-free run with no step: nothing moves. */
    poller_set_clock(t_fake_wall, t_fake_mono);
    s = store_new();
    store_configure(s, cfg, poller_now(s));
    store_replace_items(s, "local", items, 1, poller_now(s));
    fake_wall += 10;
    fake_mono += 10;
    poller_now(s);
    d = store_dump(s);
    CHECK_INT(d.feeds[0].items[0].first_seen, fake_wall - 10);
    store_dump_free(&d);
    store_free(s);
    config_free(cfg);
    poller_set_clock(NULL, NULL);
    return tap_failures || !tap_checks ? 1 : 0;
}

/* ---- runner ---- */

struct scenario {
    const char *name;
    int (*run)(void);
};

static const struct scenario scenarios[] = {
    {"exclude_304", scenario_exclude_304},       {"url_race", scenario_url_race},
    {"retry_after", scenario_retry_after},       {"same_bytes", scenario_same_bytes},
    {"quit_mid_parse", scenario_quit_mid_parse}, {"stuck_loader", scenario_stuck_loader},
    {"clock_step", scenario_clock_step},
};

static void t_rm_dir(const char *d)
{
    char *cmd = kt_asprintf("rm -rf '%s'", d);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", d);
    free(cmd);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_app PYTHON http_server.py [SCENARIO]\n");
        return 2;
    }
    python = argv[1];
    server_script = argv[2];
    kt_log_set_level(KT_LOG_WARN);
    transport_global_init();
    snprintf(big_dir, sizeof big_dir, "/tmp/kt-app-big-XXXXXX");
    if (!mkdtemp(big_dir)) {
        perror("mkdtemp");
        return 1;
    }
    big_path = kt_asprintf("%s/big.xml", big_dir);
    char *big = t_rss("Old URL item", 200000, 200, &big_len);
    t_write_file(big_path, big, big_len);
    free(big);
    int failed = 0, ran = 0;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (argc > 3 && strcmp(argv[3], scenarios[i].name) != 0)
            continue;
        pid_t server;
        port = test_server_start(python, server_script, NULL, &server);
        if (port < 0) {
            fprintf(stderr, "cannot start %s\n", server_script);
            return 1;
        }
        snprintf(dir, sizeof dir, "/tmp/kt-app-XXXXXX");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
        double t0 = t_now();
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            app_signals_install();
            int rc = scenarios[i].run();
            fflush(NULL);
            _exit(rc);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        printf("%s %s (%.1f s)\n", ok ? "ok  " : "FAIL", scenarios[i].name, t_now() - t0);
        failed += !ok;
        ran++;
        test_server_stop(server);
        t_rm_dir(dir);
    }
    transport_global_cleanup();
    t_rm_dir(big_dir);
    free(big_path);
    printf("%d scenarios, %d failed\n", ran, failed);
    return failed || ran == 0 ? 1 : 0;
}
