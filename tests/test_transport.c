/*
 * test_fetch: transport_source against tests/http_server.py, a local server that
 * misbehaves on purpose (error statuses, redirect loops, drip feeds,
 * resets, oversized and compressed-bomb bodies), plus file:// and plain
 * paths. Usage: test_fetch PYTHON SERVER_SCRIPT (KT_TEST_DATA set).
 *
 * The limits are small (3 s, 256 KiB) so every fault shows within the
 * test's time budget, and each case also checks how long it took: a cap
 * that only triggers after downloading everything is not a cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"
#include "tap.h"
#include "test_server.h"
#include "util.h"

#define CAP (256 * 1024)
#define TIMEOUT 3

/* Servers started by this test (the plain one, then the TLS ones). */
#define MAX_SERVERS 4
static pid_t server_pids[MAX_SERVERS];
static int n_servers;
static int server_port; /* the plain HTTP server */
static const char *python, *server_script;

/* Returns the port of a new server, or -1. tls_cert/tls_key: NULL for
 * plain HTTP. */
static int server_start(const char *tls_cert, const char *tls_key)
{
    const char *tls[] = {"--tls", tls_cert, tls_key, NULL};
    if (n_servers == MAX_SERVERS)
        return -1;
    return test_server_start(python, server_script, tls_cert ? tls : NULL,
                             &server_pids[n_servers++]);
}

static void servers_stop(void)
{
    for (int i = 0; i < n_servers; i++)
        test_server_stop(server_pids[i]);
    n_servers = 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *url_for(const char *path)
{
    return kt_asprintf("http://127.0.0.1:%d%s", server_port, path);
}

static struct transport_request request(const char *url)
{
    struct transport_request r = {.url = url,
                                  .timeout = TIMEOUT,
                                  .connect_timeout = TIMEOUT,
                                  .max_bytes = CAP,
                                  .user_agent = "kt-test/1.0"};
    return r;
}

/* One HTTP case: what transport_source must return for a server path. */
struct http_case {
    const char *path;
    int ret;
    long status;
    const char *err;          /* exact text, NULL when ret == 0 */
    const char *body_has;     /* substring of the body, or NULL */
    const char *content_type; /* exact, or NULL for "don't care" */
    const char *effective;    /* path of the effective URL, or NULL = path itself */
    int64_t retry_after;      /* exact */
    double max_seconds;       /* wall time allowed */
};

static const char bomb_err[] = "body over 262144 bytes";

static const struct http_case http_cases[] = {
    {"/ok.xml", 0, 200, NULL, "<title>OK first headline</title>",
     "application/rss+xml; charset=UTF-8", NULL, 0, 2},
    {"/gzip.xml", 0, 200, NULL, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss",
     "application/rss+xml; charset=UTF-8", NULL, 0, 2},
    {"/latin1", 0, 200, NULL, "<title>Caf\xe9 cr\xe8me", "application/rss+xml; charset=ISO-8859-1",
     NULL, 0, 2},
    {"/html", 0, 200, NULL, "<!DOCTYPE html>", "text/html; charset=UTF-8", NULL, 0, 2},
    {"/empty", 0, 200, NULL, NULL, "application/rss+xml; charset=UTF-8", NULL, 0, 2},
    {"/redirect/3", 0, 200, NULL, "OK second headline", NULL, "/ok.xml", 0, 2},
    {"/redirect/5", 0, 200, NULL, "OK second headline", NULL, "/ok.xml", 0, 2},
    {"/redirect/2?to=/final/ok.xml", 0, 200, NULL, "OK first", NULL, "/final/ok.xml", 0, 2},
    {"/redirect/6", -1, 302, "too many redirects", NULL, NULL, NULL, 0, 2},
    {"/loop", -1, 302, "too many redirects", NULL, NULL, NULL, 0, 2},
    {"/404", -1, 404, "HTTP 404", NULL, NULL, NULL, 0, 2},
    {"/no/such/path", -1, 404, "HTTP 404", NULL, NULL, NULL, 0, 2},
    {"/500", -1, 500, "HTTP 500", NULL, NULL, NULL, 0, 2},
    {"/429", -1, 429, "HTTP 429 (retry after 120 s)", NULL, NULL, NULL, 120, 2},
    {"/503-long", -1, 503, "HTTP 503 (retry after 3600 s)", NULL, NULL, NULL, 3600, 2},
    /* The server's clock is ten years off ours (as ours is on a board still
     * at 1970): its HTTP-date Retry-After is measured against its own Date
     * header, so two minutes stay two minutes, not a capped day. */
    {"/503-skew", -1, 503, "HTTP 503 (retry after 120 s)", NULL, NULL, NULL, 120, 2},
    {"/slow", -1, 200, "timed out after 3 s", NULL, NULL, NULL, 0, TIMEOUT + 1.0},
    {"/big", -1, 200, bomb_err, NULL, NULL, NULL, 0, 2},
    {"/big-chunked", -1, 200, bomb_err, NULL, NULL, NULL, 0, 2},
    {"/big-gzip", -1, 200, bomb_err, NULL, NULL, NULL, 0, 2},
    {"/header-flood", -1, 200, "headers over 65536 bytes", NULL, NULL, NULL, 0, 2},
};

static void test_http_case(const struct http_case *c)
{
    char *url = url_for(c->path);
    struct transport_request req = request(url);
    struct transport_result res;
    char err[KT_ERR_MAX];
    double t0 = now_s();
    int rc = transport_get(&req, &res, err, sizeof err);
    double took = now_s() - t0;

    fprintf(stderr, "# %s -> %d \"%s\" (%.2f s)\n", c->path, rc, rc ? err : "", took);
    CHECK_INT(rc, c->ret);
    CHECK_INT(res.status, c->status);
    CHECK(!res.is_file);
    CHECK(!res.not_modified);
    CHECK_INT(res.retry_after, c->retry_after);
    CHECK(took <= c->max_seconds);
    if (c->ret != 0) {
        CHECK_STR(err, c->err);
        CHECK(res.body == NULL);
    } else {
        CHECK(res.body != NULL);
        CHECK(res.body && strlen(res.body) == res.len); /* NUL-terminated, no stray NULs */
        if (c->body_has)
            CHECK(res.body && strstr(res.body, c->body_has) != NULL);
        else
            CHECK_INT(res.len, 0);
        char *want_eff = url_for(c->effective ? c->effective : c->path);
        CHECK_STR(res.effective_url, want_eff);
        free(want_eff);
    }
    if (c->content_type)
        CHECK_STR(res.content_type, c->content_type);
    transport_result_free(&res);
    free(url);
}

/* The gzip bomb decodes to 16 MiB: holding it all, even briefly, would
 * show in the peak RSS. Run first, while the peak is still low. */
static void test_bomb_memory(void)
{
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    char *url = url_for("/big-gzip");
    struct transport_request req = request(url);
    struct transport_result res;
    char err[KT_ERR_MAX];
    CHECK_INT(transport_get(&req, &res, err, sizeof err), -1);
    CHECK_STR(err, "body over 262144 bytes");
    getrusage(RUSAGE_SELF, &after);
    long grew_kib = after.ru_maxrss - before.ru_maxrss;
    fprintf(stderr, "# gzip bomb: peak RSS grew by %ld KiB\n", grew_kib);
    CHECK(grew_kib < 8 * 1024);
    transport_result_free(&res);
    free(url);
}

/* Retry-After as an HTTP-date: converted to seconds from now. */
static void test_retry_after_date(void)
{
    char *url = url_for("/503-date");
    struct transport_request req = request(url);
    struct transport_result res;
    char err[KT_ERR_MAX];
    CHECK_INT(transport_get(&req, &res, err, sizeof err), -1);
    CHECK_INT(res.status, 503);
    CHECK(res.retry_after >= 110 && res.retry_after <= 120);
    char want[64];
    snprintf(want, sizeof want, "HTTP 503 (retry after %lld s)", (long long)res.retry_after);
    CHECK_STR(err, want);
    transport_result_free(&res);
    free(url);
}

/* Only the last response of a redirect chain describes the body: the
 * hops' ETag, Last-Modified and Content-Type must not leak into it. */
static void test_redirect_headers(void)
{
    char *url = url_for("/redirect/2?to=/latin1");
    struct transport_request req = request(url);
    struct transport_result res;
    char err[KT_ERR_MAX];
    CHECK_INT(transport_get(&req, &res, err, sizeof err), 0);
    CHECK_INT(res.status, 200);
    CHECK_STR(res.etag, NULL);
    CHECK_STR(res.last_modified, NULL);
    CHECK_STR(res.content_type, "application/rss+xml; charset=ISO-8859-1");
    char *want = url_for("/latin1");
    CHECK_STR(res.effective_url, want);
    free(want);
    transport_result_free(&res);
    free(url);
}

/* A redirect may not leave http(s): file:///etc/passwd must not be read. */
static void test_redirect_to_file(void)
{
    char *url = url_for("/redirect-file");
    struct transport_request req = request(url);
    struct transport_result res;
    char err[KT_ERR_MAX];
    CHECK_INT(transport_get(&req, &res, err, sizeof err), -1);
    CHECK(res.body == NULL);
    CHECK(!res.is_file);
    CHECK_STR(err, "refused: redirect to file:///etc/passwd (only http and https)");
    transport_result_free(&res);
    free(url);
}

/* The server sends part of a body, then RST. Which message wins depends on
 * whether the reset or the short read is seen first; both name the fault. */
static void test_reset(void)
{
    char *url = url_for("/reset");
    struct transport_request req = request(url);
    struct transport_result res;
    char err[KT_ERR_MAX];
    double t0 = now_s();
    CHECK_INT(transport_get(&req, &res, err, sizeof err), -1);
    CHECK(now_s() - t0 < 2);
    CHECK(strcmp(err, "connection reset") == 0 ||
          (kt_str_has_prefix(err, "transfer closed with ") && strstr(err, " bytes remaining")));
    fprintf(stderr, "# /reset -> \"%s\"\n", err);
    CHECK(res.body == NULL);
    transport_result_free(&res);
    free(url);
}

/* Validators from a first fetch make the second one a 304 with no body. */
static void test_conditional(void)
{
    char *url = url_for("/ok.xml");
    struct transport_request req = request(url);
    struct transport_result first, second;
    char err[KT_ERR_MAX];
    CHECK_INT(transport_get(&req, &first, err, sizeof err), 0);
    CHECK_STR(first.etag, "\"ok-v1\"");
    CHECK(first.last_modified && strstr(first.last_modified, " GMT"));
    CHECK(!first.not_modified);
    CHECK(first.len > 100);

    /* ETag alone, Last-Modified alone, both. */
    for (int mode = 0; mode < 3; mode++) {
        req.etag = mode != 1 ? first.etag : NULL;
        req.last_modified = mode != 0 ? first.last_modified : NULL;
        CHECK_INT(transport_get(&req, &second, err, sizeof err), 0);
        CHECK_INT(second.status, 304);
        CHECK(second.not_modified);
        CHECK_INT(second.len, 0);
        CHECK(second.body != NULL && second.body[0] == '\0');
        transport_result_free(&second);
    }

    /* A stale ETag gets the full document again. */
    req.etag = "\"old\"";
    req.last_modified = NULL;
    CHECK_INT(transport_get(&req, &second, err, sizeof err), 0);
    CHECK_INT(second.status, 200);
    CHECK(!second.not_modified);
    CHECK_INT(second.len, first.len);
    transport_result_free(&second);
    transport_result_free(&first);
    free(url);

    /* /304 answers any conditional request with 304, whatever the ETag. */
    url = url_for("/304");
    req = request(url);
    CHECK_INT(transport_get(&req, &first, err, sizeof err), 0);
    CHECK_INT(first.status, 200);
    CHECK(!first.not_modified && first.len > 100);
    req.etag = "\"anything\"";
    CHECK_INT(transport_get(&req, &second, err, sizeof err), 0);
    CHECK_INT(second.status, 304);
    CHECK(second.not_modified);
    CHECK_INT(second.len, 0);
    CHECK_STR(second.etag, "\"ok-v1\"");
    transport_result_free(&second);
    transport_result_free(&first);
    free(url);
}

/* What goes out on the wire: User-Agent, validators, Accept-Encoding; a
 * validator with a line break (from a hostile server, via the cache) is
 * dropped rather than sent as a second header. */
static void test_request_headers(void)
{
    char *url = url_for("/echo-headers");
    struct transport_request req = request(url);
    req.etag = "\"abc\"";
    req.last_modified = "Wed, 01 May 2024 10:00:00 GMT\r\nX-Evil: 1";
    struct transport_result res;
    char err[KT_ERR_MAX];
    CHECK_INT(transport_get(&req, &res, err, sizeof err), 0);
    CHECK(res.body && strstr(res.body, "\"User-Agent\": \"kt-test/1.0\""));
    CHECK(res.body && strstr(res.body, "\"If-None-Match\": \"\\\"abc\\\"\""));
    CHECK(res.body && !strstr(res.body, "If-Modified-Since"));
    CHECK(res.body && !strstr(res.body, "X-Evil"));
    CHECK(res.body && strstr(res.body, "\"Accept-Encoding\": ") && strstr(res.body, "gzip"));
    transport_result_free(&res);
    free(url);
}

static void test_connection_refused(void)
{
    /* A port that was free a moment ago and has nobody listening. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(getsockname(s, (struct sockaddr *)&a, &alen) == 0);
    close(s);
    char *url = kt_asprintf("http://127.0.0.1:%d/feed.xml", ntohs(a.sin_port));
    struct transport_request req = request(url);
    struct transport_result res;
    char err[KT_ERR_MAX];
    CHECK_INT(transport_get(&req, &res, err, sizeof err), -1);
    CHECK_STR(err, "connection refused");
    CHECK_INT(res.status, 0);
    transport_result_free(&res);
    free(url);
}

static void test_unsupported_scheme(void)
{
    static const char *const urls[][2] = {
        {"ftp://127.0.0.1/feed.xml", "unsupported URL scheme \"ftp\""},
        {"gopher://127.0.0.1/", "unsupported URL scheme \"gopher\""},
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct transport_request req = request(urls[i][0]);
        struct transport_result res;
        char err[KT_ERR_MAX];
        CHECK_INT(transport_get(&req, &res, err, sizeof err), -1);
        CHECK_STR(err, urls[i][1]);
        transport_result_free(&res);
    }
}

static char *slurp(const char *path, size_t *len)
{
    char *data = NULL;
    char err[KT_ERR_MAX];
    if (kt_read_file(path, 1 << 20, &data, len, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    return data;
}

static void check_local(const char *url, const char *want, size_t want_len)
{
    struct transport_request req = request(url);
    struct transport_result res;
    char err[KT_ERR_MAX];
    int rc = transport_get(&req, &res, err, sizeof err);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "# %s: %s\n", url, err);
    CHECK(res.is_file);
    CHECK_INT(res.status, 0);
    CHECK_INT(res.len, want_len);
    CHECK(res.body && want && memcmp(res.body, want, want_len) == 0);
    CHECK(res.body && res.body[res.len] == '\0');
    transport_result_free(&res);
}

static void check_local_error(const char *url, int64_t max_bytes, const char *want_err)
{
    struct transport_request req = request(url);
    req.max_bytes = max_bytes;
    struct transport_result res;
    char err[KT_ERR_MAX];
    CHECK_INT(transport_get(&req, &res, err, sizeof err), -1);
    CHECK_STR(err, want_err);
    CHECK(res.body == NULL);
    transport_result_free(&res);
}

static void test_local(const char *data_dir)
{
    char *path = kt_asprintf("%s/http/alpha.xml", data_dir);
    size_t len = 0;
    char *want = slurp(path, &len);
    CHECK(want != NULL && len > 0);

    check_local(path, want, len);
    char *url = kt_asprintf("file://%s", path);
    check_local(url, want, len);
    free(url);

    /* Percent-escapes in file URLs name the real bytes of the path. */
    char dir[] = "/tmp/kt-fetch-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *spaced = kt_asprintf("%s/feed one%%.xml", dir);
    FILE *f = fopen(spaced, "wb");
    CHECK(f != NULL);
    if (f) {
        fwrite(want, 1, len, f);
        fclose(f);
    }
    url = kt_asprintf("file://%s/feed%%20one%%25.xml", dir);
    check_local(url, want, len);
    free(url);
    url = kt_asprintf("file://localhost%s/feed%%20one%%25.xml", dir);
    check_local(url, want, len);
    free(url);

    /* The cap applies to files too. */
    char *msg = kt_asprintf("%s: larger than 100 bytes", spaced);
    check_local_error(spaced, 100, msg);
    free(msg);

    check_local_error("/nonexistent/kt/feed.xml", CAP,
                      "/nonexistent/kt/feed.xml: No such file or directory");
    check_local_error("file:///nonexistent/kt/feed%20x.xml", CAP,
                      "/nonexistent/kt/feed x.xml: No such file or directory");
    check_local_error("relative/missing.xml", CAP,
                      "relative/missing.xml: No such file or directory");
    check_local_error("file:///tmp/bad%zzescape", CAP, "file:///tmp/bad%zzescape: bad file URL");
    check_local_error("file:///tmp/nul%00byte", CAP, "file:///tmp/nul%00byte: bad file URL");

    unlink(spaced);
    rmdir(dir);
    free(spaced);
    free(want);
    free(path);
}

static void test_is_local(void)
{
    static const struct {
        const char *url;
        bool local;
    } cases[] = {
        {"file:///var/lib/feed.xml", true}, {"FILE:///var/lib/feed.xml", true},
        {"/var/lib/feed.xml", true},        {"feeds/news.xml", true},
        {"./odd:name.xml", true},           {"C:\\feeds\\news.xml", true},
        {"http://example.com/rss", false},  {"HTTPS://example.com/rss", false},
        {"ftp://example.com/rss", false},   {"svn+ssh://example.com/rss", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (transport_is_local(cases[i].url) != cases[i].local) {
            fprintf(stderr, "# transport_is_local(\"%s\") wrong\n", cases[i].url);
            CHECK(0);
        } else {
            CHECK(1);
        }
    }
}

/* TLS is verified always: a certificate from an unknown CA, one not yet
 * valid (what a board with a dead clock battery sees after a power cut)
 * and one for another host all fail with "TLS: " and curl's reason. The
 * reason's wording is OpenSSL's, so only its key phrase is checked. */
static void test_tls(const char *data_dir)
{
    static const struct {
        const char *cert; /* server certificate in tests/data/http/tls */
        const char *ca;   /* request's ca_file there, NULL = system store */
        const char *host;
        const char *err_has; /* NULL: must succeed */
    } cases[] = {
        {"good.pem", "ca.pem", "127.0.0.1", NULL},
        {"good.pem", "ca.pem", "localhost", NULL},
        {"good.pem", NULL, "127.0.0.1", "unable to get local issuer certificate"},
        {"future.pem", "ca.pem", "127.0.0.1", "certificate is not yet valid"},
        {"wrong-host.pem", "ca.pem", "127.0.0.1", "'127.0.0.1'"},
    };
    const char *started[3] = {NULL, NULL, NULL};
    int ports[3] = {-1, -1, -1};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int port = -1;
        for (int k = 0; k < 3; k++) {
            if (!started[k] || strcmp(started[k], cases[i].cert) == 0) {
                if (!started[k]) {
                    char *cert = kt_asprintf("%s/http/tls/%s", data_dir, cases[i].cert);
                    char *key = kt_asprintf("%s/http/tls/server.key", data_dir);
                    started[k] = cases[i].cert;
                    ports[k] = server_start(cert, key);
                    free(cert);
                    free(key);
                }
                port = ports[k];
                break;
            }
        }
        CHECK(port > 0);
        char *url = kt_asprintf("https://%s:%d/ok.xml", cases[i].host, port);
        char *ca = cases[i].ca ? kt_asprintf("%s/http/tls/%s", data_dir, cases[i].ca) : NULL;
        struct transport_request req = request(url);
        req.ca_file = ca;
        struct transport_result res;
        char err[KT_ERR_MAX];
        int rc = transport_get(&req, &res, err, sizeof err);
        fprintf(stderr, "# %s (%s, ca %s) -> %d \"%s\"\n", url, cases[i].cert,
                cases[i].ca ? cases[i].ca : "system", rc, rc ? err : "");
        if (cases[i].err_has) {
            CHECK_INT(rc, -1);
            CHECK(kt_str_has_prefix(err, "TLS: "));
            CHECK(strstr(err, cases[i].err_has) != NULL);
            CHECK(res.body == NULL);
        } else {
            CHECK_INT(rc, 0);
            CHECK_INT(res.status, 200);
            CHECK(res.body && strstr(res.body, "OK first headline"));
        }
        transport_result_free(&res);
        free(ca);
        free(url);
    }
}

/* Setting *cancel stops a transfer that is waiting on a silent server
 * within ~100 ms (the bound is loose for loaded CI machines). */
struct cancel_arg {
    int flag;
    useconds_t after;
};

static void *cancel_thread(void *p)
{
    struct cancel_arg *a = p;
    usleep(a->after);
    __atomic_store_n(&a->flag, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void test_cancel(void)
{
    char *url = url_for("/slow");
    struct transport_request req = request(url);
    struct cancel_arg arg = {0, 300000};
    req.cancel = &arg.flag;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, cancel_thread, &arg) == 0);
    struct transport_result res;
    char err[KT_ERR_MAX];
    double t0 = now_s();
    CHECK_INT(transport_get(&req, &res, err, sizeof err), -1);
    double took = now_s() - t0;
    pthread_join(t, NULL);
    fprintf(stderr, "# cancel -> \"%s\" (%.2f s)\n", err, took);
    CHECK_STR(err, "cancelled");
    CHECK(took >= 0.25 && took < 0.8);
    CHECK(res.body == NULL);
    transport_result_free(&res);

    /* A flag that stays 0 changes nothing. */
    free(url);
    url = url_for("/ok.xml");
    req = request(url);
    arg.flag = 0;
    req.cancel = &arg.flag;
    CHECK_INT(transport_get(&req, &res, err, sizeof err), 0);
    CHECK(res.body && strstr(res.body, "OK first headline"));
    transport_result_free(&res);
    free(url);
}

/* Several fetch threads at once, as the fetcher runs them; each must get
 * its own complete document. */
struct thread_arg {
    const char *path;
    int failures;
};

static void *fetch_thread(void *p)
{
    struct thread_arg *a = p;
    char *url = url_for(a->path);
    for (int i = 0; i < 5; i++) {
        struct transport_request req = request(url);
        struct transport_result res;
        char err[KT_ERR_MAX];
        int rc = transport_get(&req, &res, err, sizeof err);
        if (rc != 0 || res.status != 200 || !res.body || !strstr(res.body, "</rss>") ||
            !strstr(res.body, "OK second headline") || !res.effective_url)
            a->failures++;
        transport_result_free(&res);
    }
    free(url);
    return NULL;
}

static void test_threads(void)
{
    static const char *const paths[] = {"/ok.xml", "/redirect/2", "/gzip.xml", "/redirect/4"};
    enum { N = 8 };
    pthread_t t[N];
    struct thread_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i].path = paths[i % 4];
        args[i].failures = 0;
        CHECK(pthread_create(&t[i], NULL, fetch_thread, &args[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(args[i].failures, 0);
    }
}

int main(int argc, char **argv)
{
    const char *data_dir = getenv("KT_TEST_DATA");
    if (argc != 3 || !data_dir) {
        fprintf(stderr, "usage: KT_TEST_DATA=DIR test_fetch PYTHON SERVER_SCRIPT\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    transport_global_init();
    test_is_local();
    test_local(data_dir);
    test_unsupported_scheme();
    test_connection_refused();

    python = argv[1];
    server_script = argv[2];
    atexit(servers_stop);
    server_port = server_start(NULL, NULL);
    if (server_port < 0) {
        fprintf(stderr, "test_fetch: could not start %s %s\n", python, server_script);
        CHECK(0);
        return tap_done();
    }
    test_bomb_memory();
    for (size_t i = 0; i < sizeof http_cases / sizeof http_cases[0]; i++)
        test_http_case(&http_cases[i]);
    test_retry_after_date();
    test_redirect_headers();
    test_redirect_to_file();
    test_reset();
    test_conditional();
    test_request_headers();
    test_cancel();
    test_tls(data_dir);
    test_threads();

    servers_stop();
    transport_global_cleanup();
    return tap_done();
}
