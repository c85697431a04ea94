/*
 * poller: the background side. One thread per feed, so a slow or dead
 * feed never delays another one or the screen. Each thread waits until its
 * feed is due (sched), refreshes it (source), publishes the result to the
 * store and writes the cache when something changed. Edge module.
 */
#ifndef KT_POLLER_H
#define KT_POLLER_H

#include <stdint.h>

struct config;
struct store;
struct poller;

/* Wall-clock seconds; injectable so tests can move time without waiting. */
typedef int64_t (*poller_clock_fn)(void);

struct poller *poller_start(const struct config *cfg, struct store *store);
/* Switches to a new config (SIGHUP): stops the feeds' threads, restarts
 * them on cfg. The store must already be configured with cfg. */
void poller_reconfigure(struct poller *f, const struct config *cfg);
/* Stops every thread (in-flight transfers are cancelled) and frees f. */
void poller_stop(struct poller *f);

/* Writes the store to cfg->cache, serialised with the threads' writes.
 * Logs and returns -1 on failure. f may be NULL (no threads running). */
int poller_save_cache(struct poller *f, struct store *store, const struct config *cfg);

/* Refreshes every feed of cfg once, in parallel, then writes the cache once.
 * Returns the number of feeds that answered successfully. */
int poller_run_once(const struct config *cfg, struct store *store);

void poller_set_clock(poller_clock_fn fn);

#endif
