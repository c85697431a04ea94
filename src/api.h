/*
 * api: the local control API, an HTTP server (libmicrohttpd) in its own
 * threads. Edge module: it knows HTTP, routes, status codes, auth and
 * limits; what is shown lives behind struct api_backend, which the app
 * implements over the store.
 *
 *   GET    /healthz               200 / 503 (no frame drawn in API_HEALTH_MAX_AGE_MS)
 *   GET    /metrics               Prometheus text exposition (metrics.h)
 *   GET    /api/v1/state          the state document
 *   POST   /api/v1/messages       201 {"id": …}  (body: message.h, at most 16 KiB)
 *   DELETE /api/v1/messages/ID    204, 404 when unknown
 *   DELETE /api/v1/messages       200 {"cleared": N}
 *   GET    /api/v1/screenshot.png the frame on screen
 * Errors are {"error": "…"} naming the field or header; see
 * docs/control-api.md.
 *
 * Threads: libmicrohttpd's internal thread pool (API_THREADS) over epoll.
 * Not a thread per connection (a hundred idle clients would be a hundred
 * stacks on a Pi), and not one thread (a screenshot being encoded would
 * hold up /healthz): a few threads each multiplex many connections.
 */
#ifndef KT_API_H
#define KT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kt_buf;
struct message;
struct metrics;

#define API_THREADS 4
#define API_MAX_CONNECTIONS 256 /* at once; more are refused at accept */
#define API_TIMEOUT_S 10        /* idle seconds before a connection is closed */
#define API_HEALTH_MAX_AGE_MS 5000

/* What the API reads and changes. Every callback runs on an API thread,
 * possibly on several at once, so it must be thread-safe; and none may
 * make the render thread wait: take the store's lock only to copy or swap
 * (never across I/O or encoding), post requests to the render thread
 * through a queue it drains without blocking. They may block their own
 * API thread briefly (screenshot_png waits for the next frame, bounded by
 * a timeout of its own of at most a few seconds); API_THREADS - 1 other
 * threads keep serving meanwhile. A NULL callback answers 503. */
struct api_backend {
    void *ctx;
    /* GET /api/v1/state: appends the state document (UTF-8 JSON). 0, or
     * -1 for 503. */
    int (*state_json)(void *ctx, struct kt_buf *out);
    /* POST: keeps a validated message (its id given or generated),
     * replacing one with the same id, and persists it with the cache. 0,
     * or -1 with a reason in err (e.g. the store's message limit) for 503. */
    int (*post_message)(void *ctx, const struct message *m, char *err, size_t errlen);
    /* DELETE /api/v1/messages/ID: 0, or -1 when no message has that id. */
    int (*delete_message)(void *ctx, const char *id);
    /* DELETE /api/v1/messages: removes all; returns how many. */
    size_t (*clear_messages)(void *ctx);
    /* GET /api/v1/screenshot.png: appends a PNG of the frame on screen. 0,
     * or -1 for 503 (no frame yet, or the render thread did not hand one
     * over in time). */
    int (*screenshot_png)(void *ctx, struct kt_buf *out);
    /* /healthz: milliseconds since the render loop last drew a frame, or
     * < 0 before the first one. */
    int64_t (*last_frame_age_ms)(void *ctx);
    /* /metrics: fills *out (zeroed by the caller; heap strings, freed by
     * api.c with metrics_clear). 0, or -1 for 503. */
    int (*metrics)(void *ctx, struct metrics *out);
};

struct api_config {
    const char *listen;       /* "127.0.0.1:8089", "[::1]:8089" (api_addr.h) */
    const char *token_file;   /* NULL: no auth (the config layer allows that only on loopback) */
    unsigned threads;         /* 0 = API_THREADS */
    unsigned max_connections; /* 0 = API_MAX_CONNECTIONS */
    unsigned timeout_s;       /* 0 = API_TIMEOUT_S */
};

struct api_server;

/* Reads the token file (api_token.h rules), binds, starts the threads.
 * NULL with one line in err ("control: listen 127.0.0.1:8089: Address
 * already in use", "token_file …: mode 0644 …"). */
struct api_server *api_start(const struct api_config *cfg, const struct api_backend *backend,
                             char *err, size_t errlen);
/* The port bound (the one asked for, or the one chosen for port 0). */
uint16_t api_port(const struct api_server *s);
/* Stops accepting, finishes the requests in progress, joins the threads.
 * Waits at most as long as the slowest callback: call it from the main
 * thread at exit or from the reconfiguration worker, never from the render
 * loop. NULL is ignored. */
void api_stop(struct api_server *s);

#endif
