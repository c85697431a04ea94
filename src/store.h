/*
 * store: the headline store. Pure logic (plus one mutex).
 *
 * Holds, per configured feed, the items of its last successful fetch and
 * its fetch metadata (ETag, Last-Modified, TTL). From these it builds the
 * merged list the screen shows: de-duplicated (same normalised title or
 * same link: shown once), aged out at max_age, ordered (newest / feeds /
 * interleave) and cut to max_items. The merged list is published as an
 * immutable, reference-counted snapshot with a generation number, so a
 * reader takes a consistent list with no more than a pointer swap under
 * the lock and never waits on the network.
 */
#ifndef KT_STORE_H
#define KT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

struct store_item {
    char *title;        /* normalised, as shown */
    char *link;         /* absolute, or NULL */
    int64_t published;  /* UTC seconds; 0 = unknown */
    int64_t first_seen; /* when this item was first stored (ages items with no date) */
};

/* One feed's state: what the cache holds and restores. */
struct feed_state {
    char *name;
    char *url;
    char *etag;          /* may be NULL */
    char *last_modified; /* may be NULL */
    int64_t last_success;
    int ttl_minutes;
    struct store_item *items; /* document order */
    size_t n_items;
};

struct store_dump {
    struct feed_state *feeds;
    size_t n_feeds;
};
void store_items_free(struct store_item *items, size_t n);
void feed_state_free(struct feed_state *fs);
void store_dump_free(struct store_dump *d);

/* A headline in a snapshot. Strings live as long as the snapshot. */
struct headline {
    const char *feed;  /* feed name */
    const char *label; /* shown before the title */
    const char *title;
    const char *link; /* NULL when none */
    int64_t published;
    uint64_t id; /* stable hash of feed, title and link */
};

struct store_snapshot {
    uint64_t generation;
    size_t n;
    const struct headline *items;
};

struct store;

struct store *store_new(void);
void store_free(struct store *s);

/* Applies the feeds (config order, labels, per-feed limits) and the
 * [ticker] rules. Feeds that stay (same name and URL) keep their items;
 * others are dropped. Rebuilds the merged list. */
void store_configure(struct store *s, const struct config *cfg, int64_t now);

/* A successful fetch: the feed's items become exactly these. Items seen
 * before keep their first_seen. Returns true when the merged list changed. */
bool store_replace_items(struct store *s, const char *feed, const struct store_item *items,
                         size_t n, int64_t now);
/* A 304 or unchanged document: only refreshes last_success. */
void store_touch(struct store *s, const char *feed, int64_t now);
/* Conditional-GET and TTL metadata. NULL leaves a value as it is. */
void store_set_meta(struct store *s, const char *feed, const char *etag, const char *last_modified,
                    int ttl_minutes);
/* Copies of the metadata (caller frees); false if the feed is unknown. */
bool store_get_meta(struct store *s, const char *feed, char **etag, char **last_modified,
                    int *ttl_minutes);
/* Drops items past max_age. Returns true when the merged list changed. */
bool store_expire(struct store *s, int64_t now);

/* Current merged list (+1 reference). Never NULL. */
const struct store_snapshot *store_snapshot(struct store *s);
void store_snapshot_release(const struct store_snapshot *snap);
/* One more reference to a snapshot the caller holds (for another thread). */
const struct store_snapshot *store_snapshot_retain(const struct store_snapshot *snap);
/* Cheap check for readers: has the list changed since they looked? */
uint64_t store_generation(struct store *s);

/* Deep copy of every configured feed's state (for the cache). */
struct store_dump store_dump(struct store *s);
/* Restores state for configured feeds whose name and URL match; others in
 * the dump are ignored. Returns the number of feeds restored. */
size_t store_restore(struct store *s, const struct store_dump *d, int64_t now);

#endif
