/*
 * poller: the background side. One worker thread per feed, so a slow or
 * dead feed never delays another one or the screen. Each worker waits until
 * its feed is due (schedule), refreshes it (source) and hands the result to
 * the store, naming the store token it was started for; the store discards
 * a result for a feed that is no longer configured. Edge module.
 *
 * Workers are never joined. Stopping one sets its flag (which also cancels
 * its transfer within ~100 ms) and waits a bounded time; a worker still
 * busy then (a parse of a huge document, a read from a stalled network
 * mount) is abandoned: it finishes on its own, holding references to what
 * it uses, and whatever it found is discarded.
 */
#ifndef KT_POLLER_H
#define KT_POLLER_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct config_ref;
struct store;
struct poller;

/* How long a reload or shutdown waits for a worker to stop. */
#define POLLER_STOP_WAIT_MS 250

/* Seconds. The wall clock, and a monotonic one that counts suspend. */
typedef int64_t (*poller_clock_fn)(void);
/* Injects both clocks (tests). mono NULL: derived from wall, so no step
 * can be seen. NULL, NULL: the system's clocks. */
void poller_set_clock(poller_clock_fn wall, poller_clock_fn mono);
/* The wall clock now, checked against the monotonic one: after a step
 * (NTP setting a clock that started at 1970) the times the store recorded
 * under the old clock move with it (store_shift_time). Every time the
 * poller gives the store comes from here; so should the app's. */
int64_t poller_now(struct store *store);

/* Called from a worker thread after a fetch changed what the cache holds. */
typedef void (*poller_changed_fn)(void *ctx);

/* store and ctx must outlive every worker, abandoned ones included. */
struct poller *poller_new(struct store *store, poller_changed_fn changed, void *ctx);

/* Applies cfg (start-up, SIGHUP), in the order stop, configure, start:
 * workers of feeds that leave the config or change identity (name, URL)
 * are stopped (or abandoned after POLLER_STOP_WAIT_MS); the store is
 * configured with cfg; workers start for new feeds. A feed that stays
 * keeps its worker and its schedule (next due time, failures, Retry-After;
 * its validators stay in the store) and uses cfg from its next fetch.
 * Takes its own reference to cfg. One caller at a time. */
void poller_configure(struct poller *p, struct config_ref *cfg);

/* Fetches a feed now (NULL: every feed), except one whose server asked to
 * wait (Retry-After) until then. */
void poller_refetch(struct poller *p, const char *feed);

/* Stops every worker within wait_ms, abandoning the rest, and frees p.
 * Returns the number abandoned. */
size_t poller_stop(struct poller *p, int wait_ms);

/* Abandoned workers still running, in the whole process: while there are
 * any, the process must exit without running library destructors. */
size_t poller_abandoned(void);

/* Refreshes every feed of cfg once, in parallel, then drops expired
 * headlines; does not save. Returns the number of feeds that answered, or
 * -1 when *cancel (may be NULL) stopped it first (a worker that did not
 * stop within POLLER_STOP_WAIT_MS is abandoned). */
int poller_run_once(struct config_ref *cfg, struct store *store, const int *cancel);

#endif
