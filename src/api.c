/*
 * api: see api.h. libmicrohttpd does HTTP; this file routes, checks auth
 * and limits, and turns the backend's answers into responses.
 */
#include "api.h"

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <sys/socket.h>

#include "api_addr.h"
#include "api_token.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

struct api_server {
    struct MHD_Daemon *mhd;
    struct api_backend be;
    struct api_addr addr;
    char *token; /* NULL = no auth */
    uint16_t port;
};

enum api_route {
    ROUTE_NONE,
    ROUTE_HEALTHZ,
    ROUTE_METRICS,
    ROUTE_STATE,
    ROUTE_MESSAGES,
    ROUTE_MESSAGE, /* /api/v1/messages/ID */
    ROUTE_SCREENSHOT,
};

/* Per request, across the handler's calls. */
struct api_req {
    enum api_route route;
    struct kt_buf body;
    bool responded; /* a response is queued: the rest of the body is dropped */
};

#define API_PREFIX_MESSAGES "/api/v1/messages"
#define API_BACKLOG 256

/* ---- responses ---- */

static enum MHD_Result api_send(struct MHD_Connection *c, unsigned status, const char *type,
                                const void *data, size_t len, const char *hname, const char *hvalue)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(len ? data : ""), MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (hname)
        MHD_add_response_header(r, hname, hvalue);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result api_json(struct MHD_Connection *c, unsigned status, struct json_object *o,
                                const char *hname, const char *hvalue)
{
    const char *s =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    enum MHD_Result rc = api_send(c, status, "application/json", s, strlen(s), hname, hvalue);
    json_object_put(o);
    return rc;
}

/* {"error": msg}; msg may quote request bytes, so it is made UTF-8 first. */
static enum MHD_Result api_error(struct MHD_Connection *c, unsigned status, const char *hname,
                                 const char *hvalue, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum MHD_Result api_error(struct MHD_Connection *c, unsigned status, const char *hname,
                                 const char *hvalue, const char *fmt, ...)
{
    char msg[KT_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *clean = uni_repair(msg, strlen(msg));
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "error", json_object_new_string(clean));
    free(clean);
    return api_json(c, status, o, hname, hvalue);
}

/* ---- routing ---- */

static enum api_route api_route_of(const char *url, const char **id)
{
    *id = NULL;
    if (strcmp(url, "/healthz") == 0)
        return ROUTE_HEALTHZ;
    if (strcmp(url, "/metrics") == 0)
        return ROUTE_METRICS;
    if (strcmp(url, "/api/v1/state") == 0)
        return ROUTE_STATE;
    if (strcmp(url, "/api/v1/screenshot.png") == 0)
        return ROUTE_SCREENSHOT;
    if (strcmp(url, API_PREFIX_MESSAGES) == 0)
        return ROUTE_MESSAGES;
    if (strncmp(url, API_PREFIX_MESSAGES "/", sizeof API_PREFIX_MESSAGES) == 0 &&
        url[sizeof API_PREFIX_MESSAGES]) {
        *id = url + sizeof API_PREFIX_MESSAGES;
        return ROUTE_MESSAGE;
    }
    return ROUTE_NONE;
}

/* The methods a route allows, for the check and the Allow header. */
static const char *api_allowed(enum api_route r)
{
    switch (r) {
    case ROUTE_MESSAGES:
        return "POST, DELETE";
    case ROUTE_MESSAGE:
        return "DELETE";
    default:
        return "GET, HEAD";
    }
}

static bool api_method_ok(enum api_route r, const char *method)
{
    switch (r) {
    case ROUTE_MESSAGES:
        return strcmp(method, "POST") == 0 || strcmp(method, "DELETE") == 0;
    case ROUTE_MESSAGE:
        return strcmp(method, "DELETE") == 0;
    default:
        return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    }
}

/* ---- checks before the work ---- */

/* true when the request may go on; false with the 401 queued. */
static bool api_authorised(struct api_server *s, struct MHD_Connection *c, enum MHD_Result *rc)
{
    if (!s->token)
        return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h && strncasecmp(h, "Bearer", 6) == 0 && (h[6] == ' ' || h[6] == '\t')) {
        const char *t = h + 6;
        while (*t == ' ' || *t == '\t')
            t++;
        size_t n = strlen(t);
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            n--;
        if (api_token_equal(t, n, s->token))
            return true;
        *rc = api_error(c, MHD_HTTP_UNAUTHORIZED, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                        "Bearer realm=\"kiosk-ticker\", error=\"invalid_token\"",
                        "Authorization: wrong bearer token");
        return false;
    }
    *rc = api_error(c, MHD_HTTP_UNAUTHORIZED, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                    "Bearer realm=\"kiosk-ticker\"",
                    h ? "Authorization: not a bearer token (use \"Authorization: Bearer TOKEN\")"
                      : "Authorization: missing (use \"Authorization: Bearer TOKEN\")");
    return false;
}

/* Without a token, a web page the kiosk's own browser shows could reach
 * the API through DNS rebinding (its name resolving to 127.0.0.1): only
 * requests addressed to a loopback name are answered. With a token the
 * token is the guard and any name works. */
static bool api_host_ok(struct api_server *s, struct MHD_Connection *c, enum MHD_Result *rc)
{
    if (s->token)
        return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (api_addr_host_allowed(h, &s->addr))
        return true;
    *rc = api_error(c, MHD_HTTP_MISDIRECTED_REQUEST, NULL, NULL,
                    "Host: \"%.80s\" is not this machine's loopback address (set token_file to "
                    "answer other names)",
                    h ? h : "");
    return false;
}

static bool api_json_type(const char *ct)
{
    if (!ct || strncasecmp(ct, "application/json", 16) != 0)
        return false;
    return ct[16] == '\0' || ct[16] == ';' || ct[16] == ' ' || ct[16] == '\t';
}

/* ---- endpoints ---- */

static enum MHD_Result api_healthz(struct api_server *s, struct MHD_Connection *c)
{
    int64_t age = s->be.last_frame_age_ms ? s->be.last_frame_age_ms(s->be.ctx) : -1;
    bool ok = age >= 0 && age <= API_HEALTH_MAX_AGE_MS;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "status",
                           json_object_new_string(ok        ? "ok"
                                                  : age < 0 ? "starting"
                                                            : "stalled"));
    if (age >= 0)
        json_object_object_add(o, "last_frame_age_seconds",
                               json_object_new_double((double)age / 1000.0));
    json_object_object_add(o, "version", json_object_new_string(KT_VERSION));
    return api_json(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, o, NULL, NULL);
}

static enum MHD_Result api_metrics(struct api_server *s, struct MHD_Connection *c)
{
    struct metrics m;
    memset(&m, 0, sizeof m);
    m.last_frame_age_seconds = -1;
    if (!s->be.metrics || s->be.metrics(s->be.ctx, &m) != 0) {
        metrics_clear(&m);
        return api_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, NULL, "metrics: not available yet");
    }
    struct kt_buf b;
    kt_buf_init(&b);
    metrics_format(&m, &b);
    metrics_clear(&m);
    enum MHD_Result rc = api_send(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                                  b.data, b.len, NULL, NULL);
    kt_buf_free(&b);
    return rc;
}

static enum MHD_Result api_buf_call(struct api_server *s, struct MHD_Connection *c,
                                    int (*fn)(void *, struct kt_buf *), const char *type,
                                    const char *what)
{
    struct kt_buf b;
    kt_buf_init(&b);
    enum MHD_Result rc;
    if (!fn || fn(s->be.ctx, &b) != 0)
        rc = api_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, NULL, "%s: not available yet", what);
    else
        rc = api_send(c, MHD_HTTP_OK, type, b.data, b.len, NULL, NULL);
    kt_buf_free(&b);
    return rc;
}

static enum MHD_Result api_post(struct api_server *s, struct MHD_Connection *c,
                                const struct kt_buf *body)
{
    struct message m;
    char err[KT_ERR_MAX];
    struct message_parse_opts o = {.now = (int64_t)time(NULL), .max_bytes = MESSAGE_MAX_API_BYTES};
    if (message_parse(body->data ? body->data : "", body->len, &o, &m, err, sizeof err) != 0)
        return api_error(c, MHD_HTTP_BAD_REQUEST, NULL, NULL, "%s", err);
    enum MHD_Result rc;
    err[0] = '\0';
    if (!s->be.post_message || s->be.post_message(s->be.ctx, &m, err, sizeof err) != 0) {
        rc = api_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, NULL, "messages: %s",
                       err[0] ? err : "not available yet");
    } else {
        struct json_object *j = json_object_new_object();
        json_object_object_add(j, "id", json_object_new_string(m.id));
        char *loc = kt_asprintf(API_PREFIX_MESSAGES "/%s", m.id);
        rc = api_json(c, MHD_HTTP_CREATED, j, MHD_HTTP_HEADER_LOCATION, loc);
        free(loc);
    }
    message_clear(&m);
    return rc;
}

static enum MHD_Result api_delete_one(struct api_server *s, struct MHD_Connection *c,
                                      const char *id)
{
    if (message_id_valid(id) && s->be.delete_message && s->be.delete_message(s->be.ctx, id) == 0)
        return api_send(c, MHD_HTTP_NO_CONTENT, NULL, NULL, 0, NULL, NULL);
    return api_error(c, MHD_HTTP_NOT_FOUND, NULL, NULL, "id: no message \"%.64s\"", id);
}

static enum MHD_Result api_clear(struct api_server *s, struct MHD_Connection *c)
{
    if (!s->be.clear_messages)
        return api_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, NULL,
                         "messages: not available yet");
    size_t n = s->be.clear_messages(s->be.ctx);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "cleared", json_object_new_int64((int64_t)n));
    return api_json(c, MHD_HTTP_OK, o, NULL, NULL);
}

/* ---- the handler ---- */

static enum MHD_Result api_first_call(struct api_server *s, struct MHD_Connection *c,
                                      struct api_req *rq, const char *url, const char *method,
                                      bool *done)
{
    enum MHD_Result rc = MHD_YES;
    const char *id;
    *done = true;
    rq->route = api_route_of(url, &id);
    if (rq->route != ROUTE_HEALTHZ && !api_host_ok(s, c, &rc))
        return rc;
    if (rq->route == ROUTE_HEALTHZ && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return api_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW, "GET, HEAD",
                         "method: %s not allowed on %s", method, url);
    if (rq->route != ROUTE_HEALTHZ && !api_authorised(s, c, &rc))
        return rc;
    if (rq->route == ROUTE_NONE)
        return api_error(c, MHD_HTTP_NOT_FOUND, NULL, NULL, "path: no endpoint %.120s", url);
    if (!api_method_ok(rq->route, method))
        return api_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW,
                         api_allowed(rq->route), "method: %s not allowed on %s", method, url);

    switch (rq->route) {
    case ROUTE_HEALTHZ:
        return api_healthz(s, c);
    case ROUTE_METRICS:
        return api_metrics(s, c);
    case ROUTE_STATE:
        return api_buf_call(s, c, s->be.state_json, "application/json", "state");
    case ROUTE_SCREENSHOT:
        return api_buf_call(s, c, s->be.screenshot_png, "image/png", "screenshot");
    case ROUTE_MESSAGE:
        return api_delete_one(s, c, id);
    case ROUTE_MESSAGES:
        if (strcmp(method, "DELETE") == 0)
            return api_clear(s, c);
        break;
    default:
        break;
    }

    /* POST /api/v1/messages: refuse what can be refused before the body */
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!api_json_type(ct))
        return api_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, NULL, NULL,
                         "Content-Type: \"%.60s\", use application/json", ct ? ct : "");
    /* The length must be known up front: libmicrohttpd 0.9 cannot answer
     * while a body is still arriving, so a chunked upload could only be cut
     * off without a word. With Content-Length, 413 goes out before the
     * first body byte is read, and libmicrohttpd never reads past it. */
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return api_error(c, MHD_HTTP_LENGTH_REQUIRED, NULL, NULL,
                         "Content-Length: missing (send the message with its length, not "
                         "chunked)");
    if (strtoull(cl, NULL, 10) > MESSAGE_MAX_API_BYTES)
        return api_error(c, MHD_HTTP_CONTENT_TOO_LARGE, NULL, NULL, "body: %.20s bytes, at most %u",
                         cl, MESSAGE_MAX_API_BYTES);
    *done = false; /* the body comes in the next calls */
    return MHD_YES;
}

static enum MHD_Result api_handler(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct api_server *s = cls;
    struct api_req *rq = *con_cls;
    if (!rq) {
        rq = kt_calloc(1, sizeof *rq);
        kt_buf_init(&rq->body);
        *con_cls = rq;
        bool done;
        enum MHD_Result rc = api_first_call(s, c, rq, url, method, &done);
        rq->responded = done;
        return rc;
    }
    if (rq->responded) {
        /* answered before the body (415, 413, 411): drop whatever still
         * comes, unbuffered */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->body.len + n > MESSAGE_MAX_API_BYTES)
            return MHD_NO; /* cannot happen past the Content-Length check: close */
        kt_buf_append(&rq->body, upload_data, n);
        return MHD_YES;
    }
    rq->responded = true;
    return api_post(s, c, &rq->body);
}

static void api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct api_req *rq = *con_cls;
    if (rq) {
        kt_buf_free(&rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

/* libmicrohttpd's own messages (a client that vanished, a bad request
 * line): per connection, so debug level only. */
static void api_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\r\n")] = '\0';
    kt_log_debug("control API: %s", line);
}

struct api_server *api_start(const struct api_config *cfg, const struct api_backend *backend,
                             char *err, size_t errlen)
{
    struct api_server *s = kt_calloc(1, sizeof *s);
    s->be = *backend;
    if (api_addr_parse(cfg->listen, &s->addr, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    if (cfg->token_file && api_token_read(cfg->token_file, &s->token, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    /* our own socket, so a bind failure says why (libmicrohttpd would not) */
    int fd = socket(s->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&s->addr.sa, s->addr.sa_len) != 0 ||
        listen(fd, API_BACKLOG) != 0) {
        kt_error(err, errlen, "control: listen %s: %s", cfg->listen, strerror(errno));
        if (fd >= 0)
            close(fd);
        api_stop(s);
        return NULL;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (s->addr.family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, api_handler, s, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads ? cfg->threads : API_THREADS),
        MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(cfg->max_connections ? cfg->max_connections : API_MAX_CONNECTIONS),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(cfg->timeout_s ? cfg->timeout_s : API_TIMEOUT_S),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024), MHD_OPTION_STRICT_FOR_CLIENT,
        (int)1, MHD_OPTION_NOTIFY_COMPLETED, api_completed, NULL, MHD_OPTION_EXTERNAL_LOGGER,
        api_mhd_log, NULL, MHD_OPTION_END);
    if (!s->mhd) {
        kt_error(err, errlen, "control: listen %s: cannot start the HTTP server", cfg->listen);
        close(fd);
        api_stop(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : s->addr.port;
    return s;
}

uint16_t api_port(const struct api_server *s)
{
    return s->port;
}

void api_stop(struct api_server *s)
{
    if (!s)
        return;
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    if (s->token) {
        memset(s->token, 0, strlen(s->token));
        free(s->token);
    }
    free(s);
}
