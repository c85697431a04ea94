/*
 * store: the headline store. Pure logic (plus two mutexes).
 *
 * Holds, per configured feed, the entries of its last successful fetch as
 * the parser gave them (bounded, see STORE_MAX_*), the headlines derived
 * from them with the feed's rules (exclude, max_chars, max_items), and its
 * fetch metadata (ETag, Last-Modified, TTL). Keeping the entries is what
 * lets a reload apply a new exclude or a lower max_chars at once, even to
 * a feed that will only ever answer 304: the store derives again, no
 * fetch needed. From the feeds' headlines it builds the merged list the
 * screen shows: de-duplicated (same normalised title or same link: shown
 * once), aged out at max_age, ordered (newest / feeds / interleave) and cut
 * to max_items. The merged list is published as an immutable,
 * reference-counted snapshot with a generation number; a reader takes it
 * under a lock that is only ever held for a pointer swap, never while a
 * writer works.
 *
 * A configured feed is identified by its (name, URL): a reload that keeps
 * both keeps its state and its token; a new URL is a new feed. Fetch
 * results name the token they were started for, so a result for a feed
 * that left the config (or changed URL) while its fetch was running is
 * discarded instead of landing on its successor.
 */
#ifndef KT_STORE_H
#define KT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "message.h"

struct config;
struct feed_doc;

/* Operator messages kept at most (every origin together): a script that
 * posts in a loop is refused with a reason instead of filling memory and
 * the cache. */
#define STORE_MAX_MESSAGES 100
/* Alerts one [alert NAME] source may hold (cap_tracker_active's list is
 * cut there). */
#define STORE_MAX_SOURCE_ALERTS 1000

/* Bounds on what is kept of one feed's document: the first entries in
 * document order, up to this many and this much text; a title or summary
 * is considered up to its first STORE_MAX_FIELD bytes; a longer link is
 * dropped. */
#define STORE_MAX_ENTRIES 10000
#define STORE_MAX_FEED_BYTES (4 * 1024 * 1024)
#define STORE_MAX_FIELD 16384
#define STORE_MAX_LINK 8192

/* A headline as shown. */
struct store_item {
    char *title;        /* normalised, as shown */
    char *link;         /* absolute, or NULL (never "") */
    int64_t published;  /* UTC seconds; 0 = unknown */
    int64_t first_seen; /* when this item was first stored (ages items with no date) */
};

/* A feed entry as parsed, kept so that the headline can be derived again.
 * The summary is only kept where the headline depends on it (an entry
 * whose title alone gives no headline). */
struct store_entry {
    char *title;   /* as in the document (HTML when title_html), or NULL */
    char *summary; /* idem, or NULL */
    char *link;    /* absolute, or NULL (never "") */
    int64_t published;
    int64_t first_seen;
    bool title_html, summary_html;
};

/* One feed's state: what the cache holds and restores. */
struct feed_state {
    char *name;
    char *url;           /* "" when none */
    char *etag;          /* may be NULL */
    char *last_modified; /* may be NULL */
    int64_t last_success;
    int ttl_minutes;
    /* true: items are derived from entries. false: items stand alone (a
     * cache written before entries were kept, or store_replace_items). */
    bool has_entries;
    struct store_entry *entries; /* document order */
    size_t n_entries;
    struct store_item *items; /* shown, document order */
    size_t n_items;
};

/* An operator message and who posted it ("api", "all", "group/NAME",
 * "screen/ID"). */
struct store_message {
    char *origin;
    struct message m;
};

struct store_dump {
    struct feed_state *feeds;
    size_t n_feeds;
    struct store_message *messages; /* in the order they were posted */
    size_t n_messages;
};
void store_items_free(struct store_item *items, size_t n);
void store_entries_free(struct store_entry *entries, size_t n);
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
    /* An operator message without severity: shown first in every loop,
     * label = its label or "Notice", drawn with label_color like a feed
     * label; feed is "message". */
    bool announcement;
};

struct store_snapshot {
    uint64_t generation;
    size_t n; /* announcements first, then the headlines */
    const struct headline *items;
    size_t n_alerts; /* active alerts (CAP + messages with a severity), */
    const struct alert
        *alerts;         /* in display order (alert_sort); strings live as long as the snapshot */
    int64_t next_change; /* UTC s when the set of active alerts/messages (or a show = hours
                          * window) changes next (0: none); the supervisor rebuilds then */
    int64_t built;       /* the time the snapshot was evaluated at */
};

struct store;

struct store *store_new(void);
void store_free(struct store *s);

/* Applies the feeds (config order, labels, per-feed rules) and the
 * [ticker] rules. Feeds that stay (same name and URL) keep their state and
 * token, and their headlines are derived again under the new rules; others
 * are dropped; new ones start empty with a new token. Rebuilds the merged
 * list. */
void store_configure(struct store *s, const struct config *cfg, int64_t now);

/* The token of the configured feed (name, url); 0 when there is none. */
uint64_t store_token(struct store *s, const char *name, const char *url);
/* What the schedule needs: the last success and the RSS <ttl>. False when
 * the token is gone. */
bool store_feed_schedule(struct store *s, uint64_t token, int64_t *last_success, int *ttl_minutes);
/* Copies of the validators to send (caller frees). False when gone. */
bool store_feed_validators(struct store *s, uint64_t token, char **etag, char **last_modified);

/* A successful fetch. */
struct store_fetch {
    bool not_modified;          /* 304: the entries stay */
    const struct feed_doc *doc; /* otherwise: the parsed document */
    const char *etag;           /* as the server sent them; NULL = absent */
    const char *last_modified;
};

enum store_outcome {
    STORE_GONE,    /* the token is no longer configured: nothing applied */
    STORE_SAME,    /* applied; nothing the cache holds changed */
    STORE_CHANGED, /* applied; the cache should be written */
};

/* Applies a fetch to the feed of token: its entries become the document's
 * (entries seen before keep their first_seen), its headlines are derived,
 * the validators follow the server (a 304 may omit them: the ones sent
 * stay), last_success becomes now. *kept (may be NULL) is the number of
 * the document's entries kept (see STORE_MAX_*), *headlines (may be NULL)
 * the number of the feed's headlines now. */
enum store_outcome store_apply_fetch(struct store *s, uint64_t token, const struct store_fetch *f,
                                     int64_t now, size_t *kept, size_t *headlines);

/* Sets a feed's headlines directly (no entries to derive from), by name.
 * Items seen before keep their first_seen. Returns true when the merged
 * list changed. */
bool store_replace_items(struct store *s, const char *feed, const struct store_item *items,
                         size_t n, int64_t now);

/* Drops entries and headlines past max_age. Returns true when the merged
 * list changed. */
bool store_expire(struct store *s, int64_t now);

/* The wall clock stepped by delta seconds: first_seen and last_success
 * values recorded under the old clock, i.e. within [from, to], move with
 * it; values from before the clock was set (earlier than
 * SCHEDULE_SANE_TIME while now is later) become now. */
void store_shift_time(struct store *s, int64_t delta, int64_t from, int64_t to, int64_t now);

/* Counts changes to what the cache holds, other than last_success alone:
 * a writer compares it with the count it last saved. */
uint64_t store_content_generation(struct store *s);

/* Current merged list (+1 reference). Never NULL. Never waits for a
 * writer's work: the lock it takes only guards a pointer. */
const struct store_snapshot *store_snapshot(struct store *s);
void store_snapshot_release(const struct store_snapshot *snap);
/* One more reference to a snapshot the caller holds (for another thread). */
const struct store_snapshot *store_snapshot_retain(const struct store_snapshot *snap);
/* Cheap check for readers: has the list changed since they looked? */
uint64_t store_generation(struct store *s);

/* ---- operator messages and alert sources ---- */

/* origin: "api", "all", "group/NAME", "screen/ID" (MQTT scopes). A message
 * is keyed by (origin, id); put replaces. At most STORE_MAX_MESSAGES: a new
 * one beyond is refused (-1, err says why), as is one already expired at
 * now. Rebuilds the snapshot. */
int store_message_put(struct store *s, const char *origin, const struct message *m, int64_t now,
                      char *err, size_t errlen);
/* Removes the message id of origin (NULL: of any origin). */
bool store_message_remove(struct store *s, const char *origin, const char *id);
/* Removes every message of origin (NULL: all); returns how many. */
size_t store_message_clear(struct store *s, const char *origin);
/* Copies of the messages kept (not yet expired at now), posting order;
 * free with store_messages_free. */
size_t store_messages(struct store *s, int64_t now, struct store_message **out);
void store_messages_free(struct store_message *v, size_t n);

/* The token of the configured [alert NAME] source (name, url); 0: none. */
uint64_t store_alert_token(struct store *s, const char *name, const char *url);
/* An [alert NAME] source's current alerts (after cap_select: what
 * cap_tracker_active returned), by token like a feed. STORE_GONE when the
 * source left the config. Alerts are not cached (a source lists them again
 * at its first refresh), so this returns STORE_SAME or STORE_GONE. */
enum store_outcome store_apply_alerts(struct store *s, uint64_t token, const struct alert *a,
                                      size_t n, int64_t now);
/* Re-evaluates what is active and shown at now (the supervisor calls it at
 * the snapshot's next_change); true when the snapshot changed. */
bool store_refresh(struct store *s, int64_t now);

/* ---- fetch status of feeds and alert sources (state document, metrics) ---- */

/* A failed refresh of the feed or alert source of token: counted, and its
 * reason kept until the next success. */
void store_note_failure(struct store *s, uint64_t token, const char *reason);

struct store_source_info {
    char *name, *url;
    bool alert; /* an [alert NAME] section */
    int64_t last_success;
    char *last_error; /* NULL when the last refresh succeeded (or none yet) */
    uint64_t failures;
    size_t shown; /* headlines (feed) or active alerts (source) in the snapshot */
};
/* Every configured feed, then every alert source, in config order. */
size_t store_sources(struct store *s, struct store_source_info **out);
void store_sources_free(struct store_source_info *v, size_t n);

/* Deep copy of every configured feed's state (for the cache). */
struct store_dump store_dump(struct store *s);
/* Restores state for configured feeds whose name and URL match; others in
 * the dump are ignored. Headlines of feeds with entries are derived under
 * the current rules. The dump's messages not expired at now are put (as
 * store_message_put, without replacing newer ones of the same key).
 * Returns the number of feeds restored. */
size_t store_restore(struct store *s, const struct store_dump *d, int64_t now);

#endif
