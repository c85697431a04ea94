/*
 * transport: gets the bytes of one source (see transport.h). The only module that
 * talks to libcurl.
 *
 * Every call builds its own easy handle, so fetch threads share nothing but
 * libcurl's global state (set up once by transport_global_init). The board runs
 * unattended for months, so every limit is enforced here rather than
 * trusted to the server: time, decoded size, header size, redirects and
 * protocols.
 */
#include "transport.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "date.h"
#include "schedule.h"
#include "util.h"

/* Per response: a normal server sends a few KiB; more is a flood or a bug,
 * and libcurl 7.88 has no total limit of its own. */
#define FETCH_MAX_HEADER_BYTES (64 * 1024)
/* Retry-After is honoured up to a day: a longer pause on a lobby screen is
 * a misconfigured server, not a plan. */
#define FETCH_MAX_RETRY_AFTER 86400
/* A feed arriving slower than this for FETCH_LOW_SPEED_TIME seconds is a
 * drip (or a dead link the kernel has not noticed) even if the total
 * timeout is long. */
#define FETCH_LOW_SPEED_LIMIT 64
#define FETCH_LOW_SPEED_TIME 30

struct transport_ctx {
    struct kt_buf body;
    size_t max_bytes;
    bool over_cap;       /* the decoded body passed max_bytes */
    bool refused_body;   /* aborted the body of a non-2xx response */
    bool header_flood;   /* one response's headers passed the cap */
    size_t header_bytes; /* of the current response */
    long status;         /* from the last status line */
    char *content_type;  /* headers of the last response only */
    char *etag;
    char *last_modified;
    char *retry_after;
    char *date;
};

static pthread_once_t transport_once = PTHREAD_ONCE_INIT;
static CURLcode transport_init_rc = CURLE_OK;

static void transport_do_global_init(void)
{
    transport_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void transport_global_init(void)
{
    pthread_once(&transport_once, transport_do_global_init);
}

void transport_global_cleanup(void)
{
    curl_global_cleanup();
}

void transport_result_free(struct transport_result *res)
{
    if (!res)
        return;
    free(res->body);
    free(res->content_type);
    free(res->etag);
    free(res->last_modified);
    free(res->effective_url);
    memset(res, 0, sizeof *res);
}

bool transport_is_local(const char *url)
{
    return kt_str_has_prefix_nocase(url, "file://") || kt_url_scheme_len(url) == 0;
}

static int transport_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* "file:///a%20b" → "/a b"; "file://localhost/x" → "/x". NULL for a URL
 * that cannot name a path (bad escape, or %00 which would cut it short). */
static char *transport_file_path(const char *url)
{
    const char *p = url + strlen("file://");
    if (kt_str_has_prefix_nocase(p, "localhost/"))
        p += strlen("localhost");
    struct kt_buf b;
    kt_buf_init(&b);
    for (; *p; p++) {
        if (*p != '%') {
            kt_buf_putc(&b, *p);
            continue;
        }
        int hi = transport_hexval((unsigned char)p[1]);
        int lo = hi < 0 ? -1 : transport_hexval((unsigned char)p[2]);
        if (lo < 0 || (hi == 0 && lo == 0)) {
            kt_buf_free(&b);
            return NULL;
        }
        kt_buf_putc(&b, (char)(hi * 16 + lo));
        p += 2;
    }
    if (b.len == 0) {
        kt_buf_free(&b);
        return NULL;
    }
    return kt_buf_steal(&b);
}

static size_t transport_cap(int64_t max_bytes)
{
    /* No cap configured means "as much as memory holds"; config always
     * sets one, this only keeps the arithmetic defined. */
    if (max_bytes <= 0 || (uint64_t)max_bytes >= SIZE_MAX)
        return SIZE_MAX - 1;
    return (size_t)max_bytes;
}

static int transport_local(const struct transport_request *req, struct transport_result *res,
                           char *err, size_t errlen)
{
    res->is_file = true;
    char *path = kt_str_has_prefix_nocase(req->url, "file://") ? transport_file_path(req->url)
                                                               : kt_strdup(req->url);
    if (!path)
        return kt_error(err, errlen, "%s: bad file URL", req->url);
    int rc = kt_read_file(path, transport_cap(req->max_bytes), &res->body, &res->len, err, errlen);
    free(path);
    if (rc != 0)
        return -1;
    res->effective_url = kt_strdup(req->url);
    return 0;
}

static size_t transport_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
    struct transport_ctx *ctx = userp;
    size_t n = size * nmemb;
    /* The body of an error page is never used: stop reading it at once
     * rather than let it count against time or the cap. A redirect's body
     * is skipped without failing, or the redirect would be lost. */
    if (ctx->status >= 300 && ctx->status <= 399)
        return n;
    if (ctx->status < 200 || ctx->status > 299) {
        ctx->refused_body = true;
        return 0;
    }
    /* Counted after decoding, so a small gzip bomb is cut at the cap. */
    if (n > ctx->max_bytes - ctx->body.len) {
        ctx->over_cap = true;
        return 0;
    }
    kt_buf_append(&ctx->body, data, n);
    return n;
}

static void transport_reset_headers(struct transport_ctx *ctx)
{
    free(ctx->content_type);
    free(ctx->etag);
    free(ctx->last_modified);
    free(ctx->retry_after);
    free(ctx->date);
    ctx->content_type = ctx->etag = ctx->last_modified = ctx->retry_after = ctx->date = NULL;
    ctx->header_bytes = 0;
}

/* "HTTP/1.1 404 Not Found", "HTTP/2 304" → the code, or 0. */
static long transport_status_line(const char *line, size_t n)
{
    if (n < 5 || strncmp(line, "HTTP/", 5) != 0)
        return 0;
    size_t i = 5;
    while (i < n && line[i] != ' ')
        i++;
    while (i < n && line[i] == ' ')
        i++;
    long code = 0;
    int digits = 0;
    while (i < n && digits < 3 && isdigit((unsigned char)line[i])) {
        code = code * 10 + (line[i] - '0');
        i++;
        digits++;
    }
    return digits == 3 ? code : 0;
}

/* If line is "Name: value", stores a copy of the trimmed value in *slot. */
static void transport_keep_header(const char *line, size_t n, const char *name, char **slot)
{
    size_t nl = strlen(name);
    if (n <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return;
    const char *v = line + nl + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    free(*slot);
    *slot = kt_strndup(v, (size_t)(end - v));
}

static size_t transport_header_cb(char *line, size_t size, size_t nmemb, void *userp)
{
    struct transport_ctx *ctx = userp;
    size_t n = size * nmemb;
    long code = transport_status_line(line, n);
    if (code) {
        /* A new response (after a redirect or a 1xx): only the last one's
         * headers describe the body we keep. */
        transport_reset_headers(ctx);
        ctx->status = code;
    }
    ctx->header_bytes += n;
    if (ctx->header_bytes > FETCH_MAX_HEADER_BYTES) {
        ctx->header_flood = true;
        return 0;
    }
    transport_keep_header(line, n, "Content-Type", &ctx->content_type);
    transport_keep_header(line, n, "ETag", &ctx->etag);
    transport_keep_header(line, n, "Last-Modified", &ctx->last_modified);
    transport_keep_header(line, n, "Retry-After", &ctx->retry_after);
    transport_keep_header(line, n, "Date", &ctx->date);
    return n;
}

/* Retry-After is delta-seconds or an HTTP-date; 0 when absent or unusable.
 * A date is measured against the server's own clock when it says what
 * time it is (its Date header), so a board whose clock is wrong (a Pi
 * without a real-time clock still at 1970) waits what the server asked,
 * not decades capped to a day; else against ours, once ours is set. */
static int64_t transport_retry_after(const char *v, const char *server_date)
{
    if (!v || !*v)
        return 0;
    int64_t secs;
    if (isdigit((unsigned char)v[0])) {
        char *end;
        errno = 0;
        long long d = strtoll(v, &end, 10);
        if (*end != '\0')
            return 0;
        secs = (errno == ERANGE || d > FETCH_MAX_RETRY_AFTER) ? FETCH_MAX_RETRY_AFTER : d;
    } else {
        /* date.c reads the three HTTP-date forms (RFC 1123, RFC 850,
         * asctime). Not curl_getdate(): it returns a time_t, which is 32
         * bits inside Debian's armhf libcurl and 64 bits here
         * (_TIME_BITS=64), so its answer is garbage there. */
        int64_t when, base;
        if (!date_parse(v, &when))
            return 0;
        if (!server_date || !date_parse(server_date, &base)) {
            base = (int64_t)time(NULL);
            if (base < SCHEDULE_SANE_TIME)
                return 0; /* no clock to measure with: the usual back-off */
        }
        secs = when - base;
    }
    if (secs < 0)
        return 0;
    return secs > FETCH_MAX_RETRY_AFTER ? FETCH_MAX_RETRY_AFTER : secs;
}

/* Header values come from the cache, which came from a server: refuse any
 * that would smuggle a second header line into our request. */
static struct curl_slist *transport_add_header(struct curl_slist *list, const char *name,
                                               const char *value)
{
    if (!value || !*value || strpbrk(value, "\r\n"))
        return list;
    char *line = kt_asprintf("%s: %s", name, value);
    struct curl_slist *l = curl_slist_append(list, line);
    free(line);
    return l ? l : list;
}

static bool transport_cancelled(const int *cancel)
{
    return cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED) != 0;
}

/* curl_easy_perform, but through a private multi handle so *cancel is seen
 * within 100 ms even while the server says nothing (easy_perform only
 * wakes up once a second, and a progress callback only then). Used with
 * or without a cancel flag, so there is one code path to test. */
static CURLcode transport_perform(CURL *h, const int *cancel, bool *cancelled)
{
    CURLM *m = curl_multi_init();
    if (!m)
        return CURLE_OUT_OF_MEMORY;
    if (curl_multi_add_handle(m, h) != CURLM_OK) {
        curl_multi_cleanup(m);
        return CURLE_OUT_OF_MEMORY;
    }
    CURLcode rc = CURLE_OK;
    int running = 1;
    while (running) {
        if (transport_cancelled(cancel)) {
            *cancelled = true;
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        CURLMcode mc = curl_multi_perform(m, &running);
        if (mc == CURLM_OK && running)
            mc = curl_multi_poll(m, NULL, 0, 100, NULL);
        if (mc != CURLM_OK) {
            rc = CURLE_OUT_OF_MEMORY;
            break;
        }
    }
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left)))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == h && !*cancelled)
            rc = msg->data.result;
    curl_multi_remove_handle(m, h);
    curl_multi_cleanup(m);
    return rc;
}

/* One line from a curl failure, in the words an operator reading the
 * journal understands. */
static void transport_curl_error(CURLcode rc, long os_errno, const char *ebuf, const char *eff,
                                 const struct transport_request *req, char *err, size_t errlen)
{
    const char *detail = ebuf[0] ? ebuf : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        if (strstr(ebuf, "too slow"))
            kt_error(err, errlen, "too slow: under %d bytes/s for %d s", FETCH_LOW_SPEED_LIMIT,
                     FETCH_LOW_SPEED_TIME);
        else if (strstr(ebuf, "Connection time"))
            kt_error(err, errlen, "connection timed out after %lld s",
                     (long long)req->connect_timeout);
        else if (strstr(ebuf, "Resolving time"))
            kt_error(err, errlen, "could not resolve host (timed out)");
        else
            kt_error(err, errlen, "timed out after %lld s", (long long)req->timeout);
        break;
    case CURLE_COULDNT_CONNECT:
        /* curl's own text ("Couldn't connect to server") hides the reason;
         * the socket's errno has it. */
        if (os_errno == ECONNREFUSED)
            kt_error(err, errlen, "connection refused");
        else if (os_errno)
            kt_error(err, errlen, "could not connect: %s", strerror((int)os_errno));
        else
            kt_error(err, errlen, "could not connect: %s", detail);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        kt_error(err, errlen, "could not resolve host");
        break;
    case CURLE_COULDNT_RESOLVE_PROXY:
        kt_error(err, errlen, "could not resolve proxy");
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        kt_error(err, errlen, "too many redirects");
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        /* The first URL's scheme was checked already, so this is a
         * redirect trying to leave http(s) (file:// would read local
         * files into the ticker). */
        if (eff && strcmp(eff, req->url) != 0)
            kt_error(err, errlen, "refused: redirect to %.200s (only http and https)", eff);
        else
            kt_error(err, errlen, "refused: %s", detail);
        break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        if (os_errno == ECONNRESET || strstr(ebuf, "reset"))
            kt_error(err, errlen, "connection reset");
        else
            kt_error(err, errlen, "connection error: %s", detail);
        break;
    case CURLE_PARTIAL_FILE:
        /* curl's text already says how much was missing. */
        kt_error(err, errlen, "%s", detail);
        break;
    case CURLE_GOT_NOTHING:
        kt_error(err, errlen, "server closed the connection without a reply");
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
        kt_error(err, errlen, "TLS: %s", detail);
        break;
    default:
        kt_error(err, errlen, "%s", detail);
        break;
    }
}

static int transport_http(const struct transport_request *req, struct transport_result *res,
                          char *err, size_t errlen)
{
    size_t slen = kt_url_scheme_len(req->url);
    if (!(slen == 4 && strncasecmp(req->url, "http", 4) == 0) &&
        !(slen == 5 && strncasecmp(req->url, "https", 5) == 0))
        return kt_error(err, errlen, "unsupported URL scheme \"%.*s\"", (int)slen, req->url);
    if (transport_init_rc != CURLE_OK)
        return kt_error(err, errlen, "libcurl init failed: %s",
                        curl_easy_strerror(transport_init_rc));

    CURL *h = curl_easy_init();
    if (!h)
        return kt_error(err, errlen, "libcurl: could not create a handle");

    struct transport_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    kt_buf_init(&ctx.body);
    ctx.max_bytes = transport_cap(req->max_bytes);
    char ebuf[CURL_ERROR_SIZE];
    ebuf[0] = '\0';

    struct curl_slist *hdrs = NULL;
    hdrs = transport_add_header(hdrs, "If-None-Match", req->etag);
    hdrs = transport_add_header(hdrs, "If-Modified-Since", req->last_modified);

    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    if (req->connect_timeout > 0)
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)req->connect_timeout);
    if (req->timeout > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)req->timeout);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)FETCH_LOW_SPEED_LIMIT);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)FETCH_LOW_SPEED_TIME);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_file && *req->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_file);
    /* "" = every decoder this libcurl has (gzip, deflate, br, zstd). */
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    /* An early stop when Content-Length already says too much; the write
     * callback enforces the cap on what is actually decoded. */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ctx.max_bytes);
    curl_easy_setopt(h, CURLOPT_USERAGENT,
                     req->user_agent && *req->user_agent ? req->user_agent
                                                         : "kiosk-ticker/" KT_VERSION);
    if (hdrs)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, transport_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, transport_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ctx);

    bool cancelled = false;
    CURLcode rc = transport_perform(h, req->cancel, &cancelled);

    long status = 0, os_errno = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    if (!status)
        status = ctx.status;
    char *eff = NULL;
    if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff)
        res->effective_url = kt_strdup(eff);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);

    res->status = status;
    res->content_type = ctx.content_type;
    res->etag = ctx.etag;
    res->last_modified = ctx.last_modified;
    if (status == 429 || status == 503)
        res->retry_after = transport_retry_after(ctx.retry_after, ctx.date);
    free(ctx.retry_after);
    free(ctx.date);

    bool ok_status = (status >= 200 && status <= 299) || status == 304;
    int ret = -1;
    if (cancelled) {
        kt_error(err, errlen, "cancelled");
    } else if (ctx.over_cap || (rc == CURLE_FILESIZE_EXCEEDED && ok_status)) {
        kt_error(err, errlen, "body over %zu bytes", ctx.max_bytes);
    } else if (ctx.header_flood) {
        kt_error(err, errlen, "headers over %d bytes", FETCH_MAX_HEADER_BYTES);
    } else if (status && !ok_status &&
               (rc == CURLE_OK || ctx.refused_body || rc == CURLE_FILESIZE_EXCEEDED)) {
        if (res->retry_after > 0)
            kt_error(err, errlen, "HTTP %ld (retry after %lld s)", status,
                     (long long)res->retry_after);
        else
            kt_error(err, errlen, "HTTP %ld", status);
    } else if (rc != CURLE_OK) {
        transport_curl_error(rc, os_errno, ebuf, res->effective_url, req, err, errlen);
    } else if (status == 304) {
        res->not_modified = true;
        kt_buf_free(&ctx.body);
        ret = 0;
    } else {
        ret = 0;
    }
    if (ret == 0) {
        res->len = ctx.body.len;
        res->body = kt_buf_steal(&ctx.body);
    } else {
        kt_buf_free(&ctx.body);
    }
    return ret;
}

int transport_get(const struct transport_request *req, struct transport_result *res, char *err,
                  size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (err && errlen)
        err[0] = '\0';
    if (!req->url || !*req->url)
        return kt_error(err, errlen, "empty URL");
    if (transport_is_local(req->url))
        return transport_local(req, res, err, errlen);
    return transport_http(req, res, err, errlen);
}
