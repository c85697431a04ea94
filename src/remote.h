/*
 * remote: the configuration pulled from a URL ([fleet] config_url). Edge
 * module (a thread, the transport, a file).
 *
 * The remote document is laid over the local file (config_overlay: a
 * section it has replaces the local one of that name, [fleet] and
 * [control] always come from the local file) and validated exactly like
 * --check (config_doc_parse with the URL as origin, config_overlay,
 * config_build). A valid document that changed is applied like SIGHUP
 * (app_submit_config) and kept on disk beside the cache (CACHE.remote,
 * written to a temporary file, fsync'd and renamed), so the next boot runs
 * it before the network is up. An invalid one is one log line
 * "URL:LINE: message", kept in the status; the running config stays.
 *
 * The fetch is a feed's: conditional GET (the saved ETag and
 * Last-Modified), the [ticker] timeout, connect_timeout, max_bytes,
 * user_agent and ca_file, TLS verified. It runs on its own thread, never
 * the render thread: first a few seconds after start, then every
 * config_refresh times a random factor between 0.5 and 1, so a change
 * reaches every screen within config_refresh and a fleet that booted
 * together does not ask together.
 */
#ifndef KT_REMOTE_H
#define KT_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct app;
struct config;
struct kt_buf;

/* The saved remote config: the cache path with this appended. */
#define REMOTE_SAVED_SUFFIX ".remote"
/* The first fetch after start comes within this (spread over a fleet). */
#define REMOTE_FIRST_FETCH_MS 3000
/* remote_refresh() fetches within this (a random point of it). */
#define REMOTE_PUSH_SPREAD_MS 2000
/* remote_stop() returns within this. */
#define REMOTE_STOP_MS 1000

/* config_load() for boot and SIGHUP: the local file at path, with the
 * saved remote config laid over it when the file's [fleet] config_url
 * expands to the URL it was saved from. A saved config that no longer
 * validates over the local file is logged and left out (the local file
 * alone runs). NULL with "FILE:LINE: message" when the local file itself
 * is invalid. */
struct config *remote_config_load(const char *path, char *err, size_t errlen);

struct remote;

/* Starts the fetch thread when the local file at path sets config_url
 * (else NULL). The thread re-reads the local file at each fetch, so a
 * SIGHUP that changes config_url or config_refresh takes effect; one that
 * sets config_url where there was none needs a restart. */
struct remote *remote_start(struct app *app, const char *path);
/* Fetch soon (the fleet's reload command): at a random point of the
 * next REMOTE_PUSH_SPREAD_MS, so a command to a whole fleet does not
 * arrive at the config server as one burst. Returns at once. */
void remote_refresh(struct remote *r);
/* Stops the thread (cancelling a transfer); returns within
 * REMOTE_STOP_MS. After it returns nothing more is submitted to the app.
 * NULL is a no-op. */
void remote_stop(struct remote *r);

/* --fetch-once: one synchronous fetch. When the remote config is valid and
 * differs from what *cfg runs, it is saved and *cfg replaced by it.
 * Returns 0 (also for 304 or no config_url), -1 when the fetch failed or
 * the document was invalid (logged). cancel as transport_request's. */
int remote_fetch_once(const char *path, struct config **cfg, const int *cancel);

/* What the status documents say about the config source: a JSON object
 * {"url", "etag", "last_modified", "applied" (UTC s), "checked", "error",
 * "fetches", "not_modified", "applied_count", "rejected"} appended to out.
 * Safe from any thread. */
void remote_status_json(struct remote *r, struct kt_buf *out);

/* Counters for tests and the status (a copy, taken under the lock). */
struct remote_stats {
    unsigned long fetches;      /* requests sent */
    unsigned long not_modified; /* 304 answers */
    unsigned long unchanged;    /* 200 with the text already running */
    unsigned long applied;      /* submitted to the app */
    unsigned long rejected;     /* invalid documents */
    unsigned long failed;       /* transfers that failed */
};
void remote_get_stats(struct remote *r, struct remote_stats *out);

#endif
