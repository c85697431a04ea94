/*
 * test_control: the control API's pure helpers: listen addresses and the
 * loopback test the config layer uses, the DNS-rebinding Host check, the
 * token file's rules and comparison, and the metrics exposition.
 */
#include "api_addr.h"
#include "api_token.h"
#include "metrics.h"
#include "tap.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void tc_addr(void)
{
    static const struct {
        const char *listen;
        int ok, loopback;
        const char *host;
        unsigned port;
        const char *url;
    } cases[] = {
        {"127.0.0.1:8089", 1, 1, "127.0.0.1", 8089, "http://127.0.0.1:8089"},
        {"127.1.2.3:1", 1, 1, "127.1.2.3", 1, "http://127.1.2.3:1"},
        {"localhost:8089", 1, 1, "127.0.0.1", 8089, "http://127.0.0.1:8089"},
        {"[::1]:8089", 1, 1, "::1", 8089, "http://[::1]:8089"},
        {"[::ffff:127.0.0.1]:80", 1, 1, "::ffff:127.0.0.1", 80, "http://[::ffff:127.0.0.1]:80"},
        {"0.0.0.0:8089", 1, 0, "0.0.0.0", 8089, "http://127.0.0.1:8089"},
        {"[::]:8089", 1, 0, "::", 8089, "http://[::1]:8089"},
        {"192.168.1.20:8089", 1, 0, "192.168.1.20", 8089, "http://192.168.1.20:8089"},
        {"[fe80::1]:8089", 1, 0, "fe80::1", 8089, "http://[fe80::1]:8089"},
        {"127.0.0.1:0", 1, 1, "127.0.0.1", 0, "http://127.0.0.1:0"},
        {"127.0.0.1", 0, 0, NULL, 0, NULL},
        {"127.0.0.1:", 0, 0, NULL, 0, NULL},
        {"127.0.0.1:65536", 0, 0, NULL, 0, NULL},
        {"127.0.0.1:80a", 0, 0, NULL, 0, NULL},
        {"::1:8089", 0, 0, NULL, 0, NULL},
        {"[::1]8089", 0, 0, NULL, 0, NULL},
        {"[::1", 0, 0, NULL, 0, NULL},
        {"kiosk.example.org:8089", 0, 0, NULL, 0, NULL},
        {"256.0.0.1:80", 0, 0, NULL, 0, NULL},
        {"", 0, 0, NULL, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct api_addr a;
        char err[KT_ERR_MAX] = "";
        int rc = api_addr_parse(cases[i].listen, &a, err, sizeof err);
        if ((rc == 0) != cases[i].ok)
            fprintf(stderr, "listen \"%s\": rc %d %s\n", cases[i].listen, rc, err);
        CHECK((rc == 0) == cases[i].ok);
        CHECK(api_addr_is_loopback(cases[i].listen) == cases[i].loopback);
        if (rc != 0) {
            CHECK(kt_str_has_prefix(err, "listen: "));
            continue;
        }
        CHECK_STR(a.host, cases[i].host);
        CHECK_INT(a.port, cases[i].port);
        char *url = api_addr_client_url(&a);
        CHECK_STR(url, cases[i].url);
        free(url);
    }
    CHECK(!api_addr_is_loopback(NULL));

    struct api_addr v4, v6, any;
    CHECK(api_addr_parse("127.0.0.1:8089", &v4, NULL, 0) == 0);
    CHECK(api_addr_parse("[::1]:8089", &v6, NULL, 0) == 0);
    CHECK(api_addr_parse("0.0.0.0:8089", &any, NULL, 0) == 0);
    static const struct {
        const char *host;
        int ok;
    } hosts[] = {
        {"127.0.0.1:8089", 1},
        {"127.0.0.1", 1},
        {"127.9.9.9", 1},
        {"localhost", 1},
        {"LocalHost:8089", 1},
        {"localhost.:8089", 1},
        {"[::1]:8089", 1},
        {"[::1]", 1},
        {"attacker.example", 0},
        {"127.0.0.1.nip.io", 0},
        {"localhost.attacker.example", 0},
        {"[::1]x", 0},
        {"[::1", 0},
        {"", 0},
        {NULL, 0},
        {"10.0.0.1:8089", 0},
    };
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        bool got = api_addr_host_allowed(hosts[i].host, &v4);
        if (got != hosts[i].ok)
            fprintf(stderr, "Host \"%s\": %d\n", hosts[i].host ? hosts[i].host : "(null)", got);
        CHECK(got == hosts[i].ok);
    }
    CHECK(api_addr_host_allowed("[::1]:8089", &v6));
    CHECK(!api_addr_host_allowed("0.0.0.0:8089", &v4));
    CHECK(api_addr_host_allowed("0.0.0.0:8089", &any)); /* the listen address itself */
}

static char *tc_token_file(const char *dir, const char *name, const char *content, mode_t mode)
{
    char *p = kt_asprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    chmod(p, mode);
    return p;
}

static void tc_token(void)
{
    char dir[] = "/tmp/kt-token-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    static const struct {
        const char *name, *content;
        mode_t mode;
        const char *want, *err;
    } cases[] = {
        {"ok", "0123456789abcdef\n", 0600, "0123456789abcdef", NULL},
        {"crlf", "  tok-with-spaces-around-xx \r\n\n", 0400, NULL, "visible ASCII"},
        {"trailing", "0123456789abcdefXY \t\r\n", 0600, "0123456789abcdefXY", NULL},
        {"group", "0123456789abcdef", 0640, NULL, "mode 0640 lets group or others"},
        {"other", "0123456789abcdef", 0604, NULL, "mode 0604"},
        {"gwrite", "0123456789abcdef", 0620, NULL, "mode 0620"},
        {"short", "012345678901234\n", 0600, NULL, "15 characters, at least 16"},
        {"empty", "", 0600, NULL, "0 characters"},
        {"twolines", "0123456789abcdef\nsecond-line-here\n", 0600, NULL, "visible ASCII"},
        {"utf8", "0123456789abcdef\xC3\xA9", 0600, NULL, "visible ASCII"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = tc_token_file(dir, cases[i].name, cases[i].content, cases[i].mode);
        char *tok = NULL, err[KT_ERR_MAX] = "";
        int rc = api_token_read(p, &tok, err, sizeof err);
        if (cases[i].want) {
            if (rc != 0)
                fprintf(stderr, "%s: %s\n", cases[i].name, err);
            CHECK(rc == 0);
            CHECK_STR(tok, cases[i].want);
        } else {
            CHECK(rc == -1 && tok == NULL);
            if (!strstr(err, cases[i].err))
                fprintf(stderr, "%s: \"%s\" lacks \"%s\"\n", cases[i].name, err, cases[i].err);
            CHECK(strstr(err, cases[i].err) != NULL);
            CHECK(strstr(err, p) != NULL); /* names the file */
        }
        free(tok);
        unlink(p);
        free(p);
    }
    /* too long */
    char *big = kt_calloc(API_TOKEN_MAX + 10, 1);
    memset(big, 'x', API_TOKEN_MAX + 5);
    char *p = tc_token_file(dir, "long", big, 0600);
    char *tok = NULL, err[KT_ERR_MAX];
    CHECK(api_token_read(p, &tok, err, sizeof err) == -1 && strstr(err, "longer than"));
    unlink(p);
    free(p);
    free(big);
    /* not a regular file, missing */
    CHECK(api_token_read(dir, &tok, err, sizeof err) == -1 && strstr(err, "not a regular file"));
    p = kt_asprintf("%s/none", dir);
    CHECK(api_token_read(p, &tok, err, sizeof err) == -1 && strstr(err, "No such file"));
    free(p);
    p = kt_asprintf("%s/fifo", dir);
    CHECK(mkfifo(p, 0600) == 0);
    CHECK(api_token_read(p, &tok, err, sizeof err) == -1 && strstr(err, "not a regular file"));
    unlink(p);
    free(p);
    rmdir(dir);

    const char *t = "0123456789abcdef";
    CHECK(api_token_equal(t, 16, t));
    CHECK(!api_token_equal("0123456789abcdeF", 16, t));
    CHECK(!api_token_equal("X123456789abcdef", 16, t));
    CHECK(!api_token_equal(t, 15, t));
    CHECK(!api_token_equal("0123456789abcdef0", 17, t));
    CHECK(!api_token_equal("", 0, t));
    /* a NUL inside the given bytes does not end the comparison */
    CHECK(!api_token_equal("0123456789abcde\0", 16, t));
}

static void tc_metrics(void)
{
    struct metrics m;
    memset(&m, 0, sizeof m);
    m.version = kt_strdup("1.2.3-\"rc\"");
    m.frames_total = 1000;
    m.frames_late_total = 2;
    m.headlines = 40;
    m.alerts_active = 1;
    m.messages_active = 3;
    m.last_frame_age_seconds = 0.25;
    m.n_feeds = 2;
    m.feeds = kt_calloc(2, sizeof *m.feeds);
    m.feeds[0].name = kt_strdup("news");
    m.feeds[0].last_success = 1773144000;
    m.feeds[0].fetch_failures = 5;
    m.feeds[0].headlines = 30;
    m.feeds[1].name = kt_strdup("a\\b\"c\nd");
    struct kt_buf b;
    kt_buf_init(&b);
    metrics_format(&m, &b);
    const char *want =
        "# HELP kiosk_ticker_build_info Always 1; the version of the running kiosk-ticker is its "
        "label.\n"
        "# TYPE kiosk_ticker_build_info gauge\n"
        "kiosk_ticker_build_info{version=\"1.2.3-\\\"rc\\\"\"} 1\n"
        "# HELP kiosk_ticker_frames_total Frames presented since start.\n"
        "# TYPE kiosk_ticker_frames_total counter\n"
        "kiosk_ticker_frames_total 1000\n"
        "# HELP kiosk_ticker_frames_late_total Frames presented later than their display "
        "refresh.\n"
        "# TYPE kiosk_ticker_frames_late_total counter\n"
        "kiosk_ticker_frames_late_total 2\n"
        "# HELP kiosk_ticker_headlines Headlines in the loop now, announcements included.\n"
        "# TYPE kiosk_ticker_headlines gauge\n"
        "kiosk_ticker_headlines 40\n"
        "# HELP kiosk_ticker_alerts_active Alerts on screen now (CAP and messages with a "
        "severity).\n"
        "# TYPE kiosk_ticker_alerts_active gauge\n"
        "kiosk_ticker_alerts_active 1\n"
        "# HELP kiosk_ticker_messages_active Operator messages kept now.\n"
        "# TYPE kiosk_ticker_messages_active gauge\n"
        "kiosk_ticker_messages_active 3\n"
        "# HELP kiosk_ticker_last_frame_age_seconds Seconds since the render loop last drew a "
        "frame.\n"
        "# TYPE kiosk_ticker_last_frame_age_seconds gauge\n"
        "kiosk_ticker_last_frame_age_seconds 0.250\n"
        "# HELP kiosk_ticker_feed_last_success_timestamp_seconds Unix time of the source's last "
        "successful fetch (0 = never).\n"
        "# TYPE kiosk_ticker_feed_last_success_timestamp_seconds gauge\n"
        "kiosk_ticker_feed_last_success_timestamp_seconds{feed=\"news\"} 1773144000\n"
        "kiosk_ticker_feed_last_success_timestamp_seconds{feed=\"a\\\\b\\\"c\\nd\"} 0\n"
        "# HELP kiosk_ticker_feed_fetch_failures_total Failed fetches of the source since start.\n"
        "# TYPE kiosk_ticker_feed_fetch_failures_total counter\n"
        "kiosk_ticker_feed_fetch_failures_total{feed=\"news\"} 5\n"
        "kiosk_ticker_feed_fetch_failures_total{feed=\"a\\\\b\\\"c\\nd\"} 0\n"
        "# HELP kiosk_ticker_feed_headlines Headlines of the source in the loop now.\n"
        "# TYPE kiosk_ticker_feed_headlines gauge\n"
        "kiosk_ticker_feed_headlines{feed=\"news\"} 30\n"
        "kiosk_ticker_feed_headlines{feed=\"a\\\\b\\\"c\\nd\"} 0\n";
    CHECK_STR(b.data, want);
    kt_buf_free(&b);

    /* no frame yet: the age is left out, not reported as 0 */
    m.last_frame_age_seconds = -1;
    kt_buf_init(&b);
    metrics_format(&m, &b);
    CHECK(strstr(b.data, "last_frame_age") == NULL);
    kt_buf_free(&b);
    metrics_clear(&m);
    CHECK(m.feeds == NULL && m.n_feeds == 0 && m.version == NULL);
}

int main(void)
{
    tc_addr();
    tc_token();
    tc_metrics();
    return tap_done();
}
