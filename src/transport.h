/*
 * transport: gets the bytes of one source. The only module that talks to
 * libcurl.
 *
 * http(s): connect and total timeouts, a cap on the decoded body (with or
 * without Content-Length, also for gzip/deflate/br), at most 5 redirects,
 * TLS verification always on, conditional GET (If-None-Match,
 * If-Modified-Since), Retry-After on 429/503. file:// URLs and plain paths
 * are read from disk with the same size cap.
 */
#ifndef KT_TRANSPORT_H
#define KT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct transport_request {
    const char *url;           /* http(s)://, file:// or a plain path */
    const char *etag;          /* may be NULL */
    const char *last_modified; /* may be NULL */
    int64_t timeout;           /* total seconds */
    int64_t connect_timeout;   /* seconds */
    int64_t max_bytes;         /* cap on the decoded body */
    const char *user_agent;
    const char *ca_file; /* NULL = system store */
    const int *cancel;   /* may be NULL; when *cancel becomes non-zero (read
                          * atomically) the transfer stops within ~100 ms,
                          * so SIGTERM never waits for a slow server */
};

struct transport_result {
    bool is_file;      /* the source was a local file */
    long status;       /* HTTP status; 0 for files */
    bool not_modified; /* 304 */
    char *body;        /* NUL-terminated (the NUL is not counted) */
    size_t len;
    char *content_type;  /* may be NULL */
    char *etag;          /* may be NULL */
    char *last_modified; /* may be NULL */
    int64_t retry_after; /* seconds from a 429/503 Retry-After; 0 = none */
    char *effective_url; /* after redirects (base for relative links) */
};

/* Call once before any thread starts (wraps curl_global_init). */
void transport_global_init(void);
void transport_global_cleanup(void);

/* Fetches one source. Returns 0 with a 2xx or 304 result; otherwise -1 and
 * a one-line reason in err ("HTTP 404", "timed out after 10 s", "body over
 * 5242880 bytes", …). On -1 the result still holds status/retry_after. */
int transport_get(const struct transport_request *req, struct transport_result *res, char *err,
                  size_t errlen);
void transport_result_free(struct transport_result *res);

/* True for sources read from disk: "file://…" or anything without "scheme:". */
bool transport_is_local(const char *url);

#endif
