/*
 * fetcher: the background side. One thread per feed, so a slow or dead
 * feed never delays another one or the screen. Each thread waits until its
 * feed is due (sched), refreshes it (source), publishes the result to the
 * store and writes the cache when something changed. Edge module.
 */
#ifndef KT_FETCHER_H
#define KT_FETCHER_H

#include <stdint.h>

struct config;
struct store;
struct fetcher;

/* Wall-clock seconds; injectable so tests can move time without waiting. */
typedef int64_t (*fetcher_clock_fn)(void);

struct fetcher *fetcher_start(const struct config *cfg, struct store *store);
/* Switches to a new config (SIGHUP): stops the feeds' threads, restarts
 * them on cfg. The store must already be configured with cfg. */
void fetcher_reconfigure(struct fetcher *f, const struct config *cfg);
/* Stops every thread (in-flight transfers are cancelled) and frees f. */
void fetcher_stop(struct fetcher *f);

/* Writes the store to cfg->cache, serialised with the threads' writes.
 * Logs and returns -1 on failure. f may be NULL (no threads running). */
int fetcher_save_cache(struct fetcher *f, struct store *store, const struct config *cfg);

/* Refreshes every feed of cfg once, in parallel, then writes the cache once.
 * Returns the number of feeds that answered successfully. */
int fetcher_run_once(const struct config *cfg, struct store *store);

void fetcher_set_clock(fetcher_clock_fn fn);

#endif
