/*
 * store: per-feed headline state and the merged, published list.
 *
 * Two locks. `mu` guards every feed's state; writers (fetch workers, the
 * reload supervisor) hold it while they merge, derive and rebuild. `pub_mu`
 * guards only the pointer to the current snapshot: a rebuild takes it for
 * the swap, a reader for a reference count, so the render thread never
 * waits for a writer's work. A snapshot is one allocation (headlines and
 * their strings together), so readers never copy strings and a snapshot
 * outlives any later rebuild for as long as someone holds a reference.
 */
#include "store.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "feed.h"
#include "filter.h"
#include "headline.h"
#include "hours.h"
#include "schedule.h"
#include "util.h"

/* A published snapshot. `pub` must stay first: readers only ever see a
 * pointer to it and release casts it back. */
struct store_snap {
    struct store_snapshot pub;
    atomic_size_t refs;
    struct alert *alerts; /* owned: pub.alerts */
};

/* Headlines start after the header, rounded up so they are aligned. */
#define STORE_SNAP_HDR                                                                             \
    ((sizeof(struct store_snap) + alignof(max_align_t) - 1) / alignof(max_align_t) *               \
     alignof(max_align_t))

struct store_feed {
    struct feed_state st;
    uint64_t token;
    /* The rules of the config in use. */
    char *label;
    int max_items;
    int max_chars;
    struct filter *exclude; /* [ticker] exclude plus the feed's own */
    struct hours show;
    char *last_error;
    uint64_t failures;
};

/* An operator message as kept: its parsed show hours beside it. */
struct store_msg {
    struct store_message sm;
    struct hours show;
    uint64_t seq; /* posting order */
};

/* An [alert NAME] source: its current alerts (cap_select's output). */
struct store_asrc {
    char *name, *url;
    uint64_t token;
    struct hours show;
    struct alert *alerts;
    size_t n;
    int64_t last_success;
    char *last_error;
    uint64_t failures;
};

struct store {
    pthread_mutex_t mu;
    struct store_feed *feeds;
    size_t n_feeds;
    int max_items;
    int64_t max_age;
    enum order order;
    uint64_t next_token;
    uint64_t content_gen; /* atomic; written under mu */
    struct store_msg *msgs;
    size_t n_msgs;
    uint64_t msg_seq;
    int64_t last_now; /* of the last rebuild: removals have no clock of their own */
    struct store_asrc *asrcs;
    size_t n_asrcs;

    pthread_mutex_t pub_mu; /* guards cur, and only for a swap or a +1 */
    struct store_snap *cur;
    /* Mirrors cur->pub.generation so readers can poll without any lock. */
    atomic_uint_least64_t generation;
};

/* One candidate headline while the merged list is built. */
struct store_cand {
    const struct store_feed *feed;
    const struct store_item *item;
    size_t feed_index, doc_index;
    int64_t when; /* published, or first_seen when unknown */
};

static bool store_msgs_expire(struct store *s, int64_t now);
static void store_asrc_clear(struct store_asrc *a);

/* ---- small helpers ---- */

static void store_item_clear(struct store_item *it)
{
    free(it->title);
    free(it->link);
    it->title = NULL;
    it->link = NULL;
}

void store_items_free(struct store_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_item_clear(&items[i]);
    free(items);
}

static void store_entry_clear(struct store_entry *e)
{
    free(e->title);
    free(e->summary);
    free(e->link);
    memset(e, 0, sizeof *e);
}

void store_entries_free(struct store_entry *entries, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_entry_clear(&entries[i]);
    free(entries);
}

void feed_state_free(struct feed_state *fs)
{
    if (!fs)
        return;
    free(fs->name);
    free(fs->url);
    free(fs->etag);
    free(fs->last_modified);
    store_entries_free(fs->entries, fs->n_entries);
    store_items_free(fs->items, fs->n_items);
    memset(fs, 0, sizeof *fs);
}

void store_messages_free(struct store_message *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].origin);
        message_clear(&v[i].m);
    }
    free(v);
}

void store_dump_free(struct store_dump *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_feeds; i++)
        feed_state_free(&d->feeds[i]);
    free(d->feeds);
    d->feeds = NULL;
    d->n_feeds = 0;
    store_messages_free(d->messages, d->n_messages);
    d->messages = NULL;
    d->n_messages = 0;
}

/* An empty link, ETag or Last-Modified means "none": it is stored as NULL,
 * so every comparison after this point is kt_str_eq. */
static char *store_opt_dup(const char *s)
{
    return s && *s ? kt_strdup(s) : NULL;
}

static const char *store_url_of(const struct cfg_feed *cf)
{
    return cf->url ? cf->url : "";
}

static void store_item_copy(struct store_item *dst, const struct store_item *src)
{
    dst->title = kt_strdup(src->title ? src->title : "");
    dst->link = store_opt_dup(src->link);
    dst->published = src->published;
    dst->first_seen = src->first_seen;
}

static void store_entry_copy(struct store_entry *dst, const struct store_entry *src)
{
    dst->title = kt_strdup(src->title);
    dst->summary = kt_strdup(src->summary);
    dst->link = store_opt_dup(src->link);
    dst->published = src->published;
    dst->first_seen = src->first_seen;
    dst->title_html = src->title_html;
    dst->summary_html = src->summary_html;
}

static bool store_entry_eq(const struct store_entry *a, const struct store_entry *b)
{
    return kt_str_eq(a->title, b->title) && kt_str_eq(a->summary, b->summary) &&
           kt_str_eq(a->link, b->link) && a->published == b->published &&
           a->first_seen == b->first_seen && a->title_html == b->title_html &&
           a->summary_html == b->summary_html;
}

static bool store_item_eq(const struct store_item *a, const struct store_item *b)
{
    return kt_str_eq(a->title, b->title) && kt_str_eq(a->link, b->link) &&
           a->published == b->published && a->first_seen == b->first_seen;
}

static void store_content_changed(struct store *s)
{
    __atomic_add_fetch(&s->content_gen, 1, __ATOMIC_RELEASE);
}

static uint64_t store_fnv1a(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

/* The separator byte keeps ("ab","c") and ("a","bc") apart. */
static uint64_t store_headline_id(const char *feed, const char *title, const char *link)
{
    uint64_t h = 14695981039346656037ULL;
    h = store_fnv1a(h, feed);
    h = (h ^ 0x1f) * 1099511628211ULL;
    h = store_fnv1a(h, title);
    h = (h ^ 0x1f) * 1099511628211ULL;
    return store_fnv1a(h, link);
}

static bool store_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The title as compared for de-duplication: trimmed; ASCII letters fold. */
static void store_title_key(const char *t, const char **start, size_t *len)
{
    const char *e = t + strlen(t);
    while (t < e && store_is_space((unsigned char)*t))
        t++;
    while (e > t && store_is_space((unsigned char)e[-1]))
        e--;
    *start = t;
    *len = (size_t)(e - t);
}

static unsigned char store_fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static uint64_t store_title_hash(const char *t)
{
    const char *s;
    size_t n;
    store_title_key(t, &s, &n);
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= store_fold((unsigned char)s[i]);
        h *= 1099511628211ULL;
    }
    return h;
}

static bool store_title_eq(const char *a, const char *b)
{
    const char *sa, *sb;
    size_t na, nb;
    store_title_key(a, &sa, &na);
    store_title_key(b, &sb, &nb);
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (store_fold((unsigned char)sa[i]) != store_fold((unsigned char)sb[i]))
            return false;
    return true;
}

/* ---- a tiny open-addressing set of indices, so de-duplication and
 * first_seen lookups stay linear even for a cache with 100000 items ---- */

struct store_set {
    size_t *slot; /* index + 1; 0 = empty */
    uint64_t *hash;
    size_t mask;
};

static void store_set_init(struct store_set *set, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 1)
        cap *= 2;
    set->slot = kt_calloc(cap, sizeof *set->slot);
    set->hash = kt_calloc(cap, sizeof *set->hash);
    set->mask = cap - 1;
}

static void store_set_free(struct store_set *set)
{
    free(set->slot);
    free(set->hash);
}

/* Walks the probe sequence of h; *pos is where to insert if nothing
 * matches. Returns the matching index + 1, or 0. */
static size_t store_set_find(const struct store_set *set, uint64_t h,
                             bool (*eq)(const void *ctx, size_t idx), const void *ctx, size_t *pos)
{
    size_t i = (size_t)h & set->mask;
    while (set->slot[i]) {
        if (set->hash[i] == h && eq(ctx, set->slot[i] - 1))
            return set->slot[i];
        i = (i + 1) & set->mask;
    }
    *pos = i;
    return 0;
}

static void store_set_put(struct store_set *set, size_t pos, uint64_t h, size_t idx)
{
    set->slot[pos] = idx + 1;
    set->hash[pos] = h;
}

/* ---- snapshots ---- */

static struct store_snap *store_snap_alloc(size_t n, size_t strbytes, uint64_t generation)
{
    size_t size = STORE_SNAP_HDR + n * sizeof(struct headline) + strbytes;
    struct store_snap *snap = kt_malloc(size);
    snap->pub.generation = generation;
    snap->pub.n = n;
    snap->pub.items = n ? (const struct headline *)((char *)snap + STORE_SNAP_HDR) : NULL;
    snap->pub.n_alerts = 0;
    snap->pub.alerts = NULL;
    snap->pub.next_change = 0;
    snap->pub.built = 0;
    snap->alerts = NULL;
    atomic_init(&snap->refs, 1);
    return snap;
}

void store_snapshot_release(const struct store_snapshot *snapshot)
{
    if (!snapshot)
        return;
    struct store_snap *snap = (struct store_snap *)snapshot;
    if (atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) == 1) {
        alert_list_free(snap->alerts, snap->pub.n_alerts);
        free(snap);
    }
}

const struct store_snapshot *store_snapshot_retain(const struct store_snapshot *snapshot)
{
    struct store_snap *snap = (struct store_snap *)snapshot;
    atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
    return snapshot;
}

const struct store_snapshot *store_snapshot(struct store *s)
{
    pthread_mutex_lock(&s->pub_mu);
    struct store_snap *snap = s->cur;
    atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->pub_mu);
    return &snap->pub;
}

uint64_t store_generation(struct store *s)
{
    return atomic_load_explicit(&s->generation, memory_order_acquire);
}

uint64_t store_content_generation(struct store *s)
{
    return __atomic_load_n(&s->content_gen, __ATOMIC_ACQUIRE);
}

/* ---- building the merged list ---- */

static bool store_expired_at(int64_t published, int64_t first_seen, int64_t max_age, int64_t now)
{
    if (max_age <= 0)
        return false;
    int64_t when = published ? published : first_seen;
    /* Compared as a difference bound, in unsigned arithmetic: with when < now
     * the difference is exact there, while now - when overflows int64 for a
     * first_seen near INT64_MIN (a cache file may hold any int64). */
    return when < now && (uint64_t)now - (uint64_t)when > (uint64_t)max_age;
}

static bool store_expired(const struct store_item *it, int64_t max_age, int64_t now)
{
    return store_expired_at(it->published, it->first_seen, max_age, now);
}

static int store_cand_cmp_newest(const void *a, const void *b)
{
    const struct store_cand *x = a, *y = b;
    if (x->when != y->when)
        return x->when > y->when ? -1 : 1;
    if (x->feed_index != y->feed_index)
        return x->feed_index < y->feed_index ? -1 : 1;
    return x->doc_index < y->doc_index ? -1 : x->doc_index > y->doc_index;
}

/* Live items of the configured feeds, in the configured order. */
static struct store_cand *store_candidates(const struct store *s, int64_t now, size_t *count)
{
    size_t total = 0;
    for (size_t f = 0; f < s->n_feeds; f++)
        total += s->feeds[f].st.n_items;
    struct store_cand *c = kt_malloc((total ? total : 1) * sizeof *c);
    size_t n = 0;
    for (size_t f = 0; f < s->n_feeds; f++) {
        const struct store_feed *feed = &s->feeds[f];
        if (!hours_is_on(&feed->show, (time_t)now))
            continue;
        for (size_t i = 0; i < feed->st.n_items; i++) {
            const struct store_item *it = &feed->st.items[i];
            if (store_expired(it, s->max_age, now))
                continue;
            c[n++] =
                (struct store_cand){feed, it, f, i, it->published ? it->published : it->first_seen};
        }
    }

    if (s->order == ORDER_NEWEST) {
        qsort(c, n, sizeof *c, store_cand_cmp_newest);
    } else if (s->order == ORDER_INTERLEAVE && s->n_feeds > 1) {
        /* Candidates are grouped by feed in document order; take one from
         * each group per round until all are used. */
        size_t *next = kt_calloc(s->n_feeds, sizeof *next);
        size_t *end = kt_calloc(s->n_feeds, sizeof *end);
        for (size_t i = 0; i < n; i++)
            end[c[i].feed_index] = i + 1;
        for (size_t f = 0, start = 0; f < s->n_feeds; f++) {
            if (end[f] == 0)
                end[f] = start;
            next[f] = start;
            start = end[f];
        }
        struct store_cand *out = kt_malloc((n ? n : 1) * sizeof *out);
        size_t k = 0;
        while (k < n) {
            for (size_t f = 0; f < s->n_feeds; f++)
                if (next[f] < end[f])
                    out[k++] = c[next[f]++];
        }
        free(next);
        free(end);
        free(c);
        c = out;
    }
    *count = n;
    return c;
}

static bool store_eq_title(const void *ctx, size_t idx)
{
    const struct store_cand *c = ctx;
    return store_title_eq(c[0].item->title, c[idx + 1].item->title);
}

static bool store_eq_link(const void *ctx, size_t idx)
{
    const struct store_cand *c = ctx;
    return strcmp(c[0].item->link, c[idx + 1].item->link) == 0;
}

/* Keeps the first of every group with the same title or the same link,
 * stopping at limit (0 = none). De-duplicating after ordering means the copy
 * that survives is the one the order put first (e.g. the newest). */
static size_t store_dedup(struct store_cand *c, size_t n, size_t limit)
{
    struct store_set titles, links;
    store_set_init(&titles, n);
    store_set_init(&links, n);
    /* view[0] is the probe, view[1 + i] is kept candidate i. */
    struct store_cand *view = kt_malloc((n + 1) * sizeof *view);
    size_t kept = 0;
    for (size_t i = 0; i < n && (limit == 0 || kept < limit); i++) {
        view[0] = c[i];
        size_t tpos, lpos = 0;
        uint64_t th = store_title_hash(c[i].item->title);
        if (store_set_find(&titles, th, store_eq_title, view, &tpos))
            continue;
        const char *link = c[i].item->link;
        uint64_t lh = 0;
        if (link) {
            lh = store_fnv1a(14695981039346656037ULL, link);
            if (store_set_find(&links, lh, store_eq_link, view, &lpos))
                continue;
        }
        store_set_put(&titles, tpos, th, kept);
        if (link)
            store_set_put(&links, lpos, lh, kept);
        view[1 + kept++] = c[i];
    }
    memcpy(c, view + 1, kept * sizeof *c);
    free(view);
    store_set_free(&titles);
    store_set_free(&links);
    return kept;
}

static char *store_arena_put(char **arena, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = memcpy(*arena, s, n);
    *arena += n;
    return p;
}

/* ---- what the snapshot shows besides feeds ---- */

/* Moves *next to t when t is a sooner change after now. */
static void store_next_min(int64_t *next, int64_t t, int64_t now)
{
    if (t > now && (*next == 0 || t < *next))
        *next = t;
}

static void store_next_hours(int64_t *next, const struct hours *h, int64_t now)
{
    time_t t;
    if (h->kind == HOURS_RANGES && hours_next_change(h, (time_t)now, &t))
        store_next_min(next, (int64_t)t, now);
}

/* An alert's own show hours (a message's "show"); unparsable = always,
 * which cannot happen for messages (checked at put). */
static bool store_alert_shown(const struct alert *a, int64_t now, int64_t *next)
{
    if (!a->show)
        return true;
    struct hours h;
    char why[128];
    if (hours_parse(a->show, &h, why, sizeof why) < 0)
        return true;
    store_next_hours(next, &h, now);
    return hours_is_on(&h, (time_t)now);
}

/* The active alerts at now (CAP sources, then messages with a severity),
 * sorted; *next gets the sooner of their changes. */
static size_t store_active_alerts(const struct store *s, int64_t now, struct alert **out,
                                  int64_t *next)
{
    size_t cap = s->n_msgs;
    for (size_t i = 0; i < s->n_asrcs; i++)
        cap += s->asrcs[i].n;
    struct alert *v = kt_calloc(cap ? cap : 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < s->n_asrcs; i++) {
        const struct store_asrc *src = &s->asrcs[i];
        store_next_hours(next, &src->show, now);
        bool on = hours_is_on(&src->show, (time_t)now);
        for (size_t k = 0; k < src->n; k++) {
            const struct alert *a = &src->alerts[k];
            store_next_min(next, a->effective, now);
            store_next_min(next, a->expires, now);
            if (on && alert_active(a, now) && store_alert_shown(a, now, next))
                alert_copy(&v[n++], a);
        }
    }
    for (size_t i = 0; i < s->n_msgs; i++) {
        const struct store_msg *m = &s->msgs[i];
        if (!m->sm.m.has_severity)
            continue;
        store_next_min(next, m->sm.m.expires, now);
        store_next_hours(next, &m->show, now);
        struct alert a;
        if (!message_to_alert(&m->sm.m, &a))
            continue;
        if (alert_active(&a, now) && hours_is_on(&m->show, (time_t)now))
            v[n++] = a;
        else
            alert_clear(&a);
    }
    alert_sort(v, n);
    *out = v;
    return n;
}

/* Announcements shown at now, posting order. */
static size_t store_active_announcements(const struct store *s, int64_t now,
                                         const struct store_msg **out, int64_t *next)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_msgs; i++) {
        const struct store_msg *m = &s->msgs[i];
        if (m->sm.m.has_severity)
            continue;
        store_next_min(next, m->sm.m.expires, now);
        store_next_hours(next, &m->show, now);
        if (!message_expired(&m->sm.m, now) && hours_is_on(&m->show, (time_t)now))
            out[n++] = m;
    }
    return n;
}

static bool store_alert_eq(const struct alert *a, const struct alert *b)
{
    return kt_str_eq(a->id, b->id) && kt_str_eq(a->source, b->source) &&
           a->severity == b->severity && kt_str_eq(a->text, b->text) &&
           kt_str_eq(a->label, b->label) && a->sent == b->sent && a->effective == b->effective &&
           a->onset == b->onset && a->expires == b->expires && kt_str_eq(a->show, b->show);
}

static uint64_t store_announcement_id(const struct store_msg *m)
{
    uint64_t h = store_headline_id(ALERT_SOURCE_MESSAGE, m->sm.origin, m->sm.m.id);
    return store_fnv1a(h, m->sm.m.text) ^ 0x5a5a5a5a5a5a5a5aULL;
}

/* Rebuilds the merged list (under mu); publishes a new snapshot only when
 * it differs from the current one, so readers are not woken for nothing. */
static bool store_rebuild(struct store *s, int64_t now)
{
    s->last_now = now;
    int64_t next = 0;
    for (size_t f = 0; f < s->n_feeds; f++)
        store_next_hours(&next, &s->feeds[f].show, now);
    const struct store_msg **ann = kt_calloc(s->n_msgs ? s->n_msgs : 1, sizeof *ann);
    size_t na = store_active_announcements(s, now, ann, &next);
    struct alert *alerts = NULL;
    size_t n_alerts = store_active_alerts(s, now, &alerts, &next);

    size_t n;
    struct store_cand *c = store_candidates(s, now, &n);
    n = store_dedup(c, n, s->max_items > 0 ? (size_t)s->max_items : 0);

    size_t total = na + n;
    uint64_t *ids = kt_malloc((total ? total : 1) * sizeof *ids);
    for (size_t i = 0; i < na; i++)
        ids[i] = store_announcement_id(ann[i]);
    for (size_t i = 0; i < n; i++)
        ids[na + i] = store_headline_id(c[i].feed->st.name, c[i].item->title, c[i].item->link);

    /* Only rebuilds (all under mu) write cur, so reading it needs no pub_mu. */
    const struct store_snapshot *old = &s->cur->pub;
    bool same = old->n == total && old->n_alerts == n_alerts && old->next_change == next;
    /* The id covers feed, title and link, not the date: a duplicate that
     * takes over from an expired twin, or a re-dated item, is a change. */
    for (size_t i = 0; same && i < na; i++)
        same = old->items[i].id == ids[i] && old->items[i].announcement &&
               strcmp(old->items[i].label, message_label(&ann[i]->sm.m)) == 0;
    for (size_t i = 0; same && i < n; i++)
        same = old->items[na + i].id == ids[na + i] && !old->items[na + i].announcement &&
               old->items[na + i].published == c[i].item->published &&
               strcmp(old->items[na + i].label, c[i].feed->label) == 0;
    for (size_t i = 0; same && i < n_alerts; i++)
        same = store_alert_eq(&old->alerts[i], &alerts[i]);
    if (same) {
        free(ids);
        free(c);
        free(ann);
        alert_list_free(alerts, n_alerts);
        return false;
    }

    /* Feed name and label are stored once per contributing feed. */
    const char **fname = kt_calloc(s->n_feeds ? s->n_feeds : 1, sizeof *fname);
    const char **flabel = kt_calloc(s->n_feeds ? s->n_feeds : 1, sizeof *flabel);
    bool *used = kt_calloc(s->n_feeds ? s->n_feeds : 1, sizeof *used);
    size_t bytes = sizeof ALERT_SOURCE_MESSAGE;
    for (size_t i = 0; i < na; i++)
        bytes += strlen(message_label(&ann[i]->sm.m)) + strlen(ann[i]->sm.m.text) + 2;
    for (size_t i = 0; i < n; i++) {
        const struct store_feed *f = c[i].feed;
        if (!used[c[i].feed_index]) {
            used[c[i].feed_index] = true;
            bytes += strlen(f->st.name) + strlen(f->label) + 2;
        }
        bytes += strlen(c[i].item->title) + 1;
        if (c[i].item->link)
            bytes += strlen(c[i].item->link) + 1;
    }

    uint64_t gen = old->generation + 1;
    struct store_snap *snap = store_snap_alloc(total, bytes, gen);
    struct headline *h = (struct headline *)snap->pub.items;
    char *arena = (char *)snap + STORE_SNAP_HDR + total * sizeof(struct headline);
    const char *msg_feed = store_arena_put(&arena, ALERT_SOURCE_MESSAGE);
    for (size_t i = 0; i < na; i++) {
        const struct message *m = &ann[i]->sm.m;
        h[i] = (struct headline){
            .feed = msg_feed,
            .label = store_arena_put(&arena, message_label(m)),
            .title = store_arena_put(&arena, m->text),
            .link = NULL,
            .published = m->created,
            .id = ids[i],
            .announcement = true,
        };
    }
    for (size_t i = 0; i < n; i++) {
        size_t fi = c[i].feed_index;
        if (!fname[fi]) {
            fname[fi] = store_arena_put(&arena, c[i].feed->st.name);
            flabel[fi] = store_arena_put(&arena, c[i].feed->label);
        }
        struct headline *o = &h[na + i];
        o->feed = fname[fi];
        o->label = flabel[fi];
        o->title = store_arena_put(&arena, c[i].item->title);
        o->link = c[i].item->link ? store_arena_put(&arena, c[i].item->link) : NULL;
        o->published = c[i].item->published;
        o->id = ids[na + i];
        o->announcement = false;
    }
    snap->alerts = alerts;
    snap->pub.alerts = alerts;
    snap->pub.n_alerts = n_alerts;
    snap->pub.next_change = next;
    snap->pub.built = now;
    free(fname);
    free(flabel);
    free(used);
    free(ids);
    free(c);
    free(ann);

    pthread_mutex_lock(&s->pub_mu);
    struct store_snap *prev = s->cur;
    s->cur = snap;
    atomic_store_explicit(&s->generation, gen, memory_order_release);
    pthread_mutex_unlock(&s->pub_mu);
    store_snapshot_release(&prev->pub);
    return true;
}

/* ---- deriving headlines from entries ---- */

/* The headline of one entry under f's rules; false when it gives none.
 * One entry at a time, so each headline is known to come from its entry
 * (and takes that entry's first_seen). */
static bool store_derive_one(const struct store_feed *f, const struct store_entry *e,
                             bool with_summary, struct store_item *out)
{
    struct feed_entry fe = {
        .title = e->title,
        .title_html = e->title_html,
        .summary = with_summary ? e->summary : NULL,
        .summary_html = e->summary_html,
        .link = e->link,
        .published = e->published,
    };
    struct feed_doc doc = {.n_entries = 1, .entries = &fe};
    struct store_item *items = NULL;
    size_t n = headline_from_doc(&doc, f->exclude, f->max_chars > 0 ? f->max_chars : 0, &items);
    bool ok = n > 0;
    if (ok) {
        *out = items[0];
        if (out->link && !*out->link) {
            free(out->link);
            out->link = NULL;
        }
        out->first_seen = e->first_seen;
        items[0] = (struct store_item){0};
    }
    store_items_free(items, n);
    return ok;
}

static void store_feed_limit(struct store_feed *f)
{
    if (f->max_items <= 0 || f->st.n_items <= (size_t)f->max_items)
        return;
    for (size_t i = (size_t)f->max_items; i < f->st.n_items; i++)
        store_item_clear(&f->st.items[i]);
    f->st.n_items = (size_t)f->max_items;
}

/* Headlines again from the entries, under the feed's current rules. A feed
 * without entries keeps its headlines, less those the rules now refuse
 * (exclude, max_items); a higher max_chars waits for the next fetch. */
static void store_feed_derive(struct store_feed *f)
{
    if (!f->st.has_entries) {
        size_t k = 0;
        for (size_t i = 0; i < f->st.n_items; i++) {
            if (filter_match(f->exclude, f->st.items[i].title))
                store_item_clear(&f->st.items[i]);
            else
                f->st.items[k++] = f->st.items[i];
        }
        f->st.n_items = k;
        store_feed_limit(f);
        return;
    }
    store_items_free(f->st.items, f->st.n_items);
    size_t cap = f->st.n_entries;
    if (f->max_items > 0 && cap > (size_t)f->max_items)
        cap = (size_t)f->max_items;
    f->st.items = kt_calloc(cap ? cap : 1, sizeof *f->st.items);
    f->st.n_items = 0;
    for (size_t i = 0; i < f->st.n_entries && f->st.n_items < cap; i++)
        if (store_derive_one(f, &f->st.entries[i], true, &f->st.items[f->st.n_items]))
            f->st.n_items++;
}

/* A copy of at most max bytes of s, cut at a UTF-8 boundary. */
static char *store_field_dup(const char *s, size_t max)
{
    if (!s)
        return NULL;
    size_t n = strnlen(s, max + 1);
    if (n <= max)
        return kt_strndup(s, n);
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return kt_strndup(s, n);
}

/* ---- first_seen lookups over a feed's previous state ---- */

struct store_prev {
    const struct feed_state *st;
    struct store_set entries, items;
};

static uint64_t store_pair_hash(const char *title, const char *link)
{
    return store_headline_id("", title, link);
}

static bool store_eq_prev_entry(const void *ctx, size_t idx)
{
    const void *const *v = ctx;
    const struct store_entry *probe = v[0];
    const struct store_entry *old = &((const struct feed_state *)v[1])->entries[idx];
    return kt_str_eq(probe->title, old->title) && kt_str_eq(probe->link, old->link);
}

static bool store_eq_prev_item(const void *ctx, size_t idx)
{
    const void *const *v = ctx;
    const struct store_item *probe = v[0];
    const struct store_item *old = &((const struct feed_state *)v[1])->items[idx];
    return kt_str_eq(probe->title, old->title) && kt_str_eq(probe->link, old->link);
}

/* Indexes the old entries by (raw title, link) and the old headlines by
 * (title, link); duplicates: the first occurrence wins. */
static void store_prev_init(struct store_prev *p, const struct feed_state *st)
{
    p->st = st;
    store_set_init(&p->entries, st->has_entries ? st->n_entries : 0);
    store_set_init(&p->items, st->n_items);
    const void *view[2] = {NULL, st};
    size_t pos = 0;
    for (size_t i = 0; st->has_entries && i < st->n_entries; i++) {
        uint64_t h = store_pair_hash(st->entries[i].title, st->entries[i].link);
        view[0] = &st->entries[i];
        if (!store_set_find(&p->entries, h, store_eq_prev_entry, view, &pos))
            store_set_put(&p->entries, pos, h, i);
    }
    for (size_t i = 0; i < st->n_items; i++) {
        uint64_t h = store_pair_hash(st->items[i].title, st->items[i].link);
        view[0] = &st->items[i];
        if (!store_set_find(&p->items, h, store_eq_prev_item, view, &pos))
            store_set_put(&p->items, pos, h, i);
    }
}

static void store_prev_free(struct store_prev *p)
{
    store_set_free(&p->entries);
    store_set_free(&p->items);
}

/* When an entry (with its headline, when it has one) was first seen: the
 * same entry before, else the same headline before (which also carries
 * first_seen over from a feed that had no entries yet), else 0. */
static int64_t store_prev_first_seen(const struct store_prev *p, const struct store_entry *e,
                                     const struct store_item *item)
{
    const void *view[2] = {e, p->st};
    size_t pos = 0;
    size_t hit = store_set_find(&p->entries, store_pair_hash(e->title, e->link),
                                store_eq_prev_entry, view, &pos);
    if (hit)
        return p->st->entries[hit - 1].first_seen;
    if (!item)
        return 0;
    view[0] = item;
    hit = store_set_find(&p->items, store_pair_hash(item->title, item->link), store_eq_prev_item,
                         view, &pos);
    return hit ? p->st->items[hit - 1].first_seen : 0;
}

/* The entries of doc as kept (bounds, summaries only where they matter)
 * with their headlines, first_seen carried over from f's state. */
static void store_take_doc(const struct store_feed *f, const struct feed_doc *doc, int64_t now,
                           struct feed_state *out)
{
    size_t cap = doc->n_entries < STORE_MAX_ENTRIES ? doc->n_entries : STORE_MAX_ENTRIES;
    size_t item_cap = cap;
    if (f->max_items > 0 && item_cap > (size_t)f->max_items)
        item_cap = (size_t)f->max_items;
    out->entries = kt_calloc(cap ? cap : 1, sizeof *out->entries);
    out->items = kt_calloc(item_cap ? item_cap : 1, sizeof *out->items);
    struct store_prev prev;
    store_prev_init(&prev, &f->st);
    size_t bytes = 0;
    for (size_t i = 0; i < doc->n_entries && out->n_entries < cap; i++) {
        const struct feed_entry *de = &doc->entries[i];
        struct store_entry e = {
            .title = store_field_dup(de->title, STORE_MAX_FIELD),
            .summary = store_field_dup(de->summary, STORE_MAX_FIELD),
            .link = de->link && *de->link && strlen(de->link) <= STORE_MAX_LINK
                        ? kt_strdup(de->link)
                        : NULL,
            .published = de->published,
            .title_html = de->title_html,
            .summary_html = de->summary_html,
        };
        struct store_item item = {0};
        bool has_item = store_derive_one(f, &e, true, &item);
        if (e.summary) {
            /* Keep the summary only when the headline depends on it. */
            struct store_item bare = {0};
            bool same =
                has_item && store_derive_one(f, &e, false, &bare) && store_item_eq(&bare, &item);
            store_item_clear(&bare);
            if (same) {
                free(e.summary);
                e.summary = NULL;
                e.summary_html = false;
            }
        }
        size_t size = (e.title ? strlen(e.title) : 0) + (e.summary ? strlen(e.summary) : 0) +
                      (e.link ? strlen(e.link) : 0) + sizeof e;
        if (bytes + size > STORE_MAX_FEED_BYTES && out->n_entries > 0) {
            store_entry_clear(&e);
            store_item_clear(&item);
            break;
        }
        bytes += size;
        int64_t seen = store_prev_first_seen(&prev, &e, has_item ? &item : NULL);
        e.first_seen = seen ? seen : now;
        out->entries[out->n_entries++] = e;
        if (has_item && out->n_items < item_cap) {
            item.first_seen = e.first_seen;
            out->items[out->n_items++] = item;
        } else {
            store_item_clear(&item);
        }
    }
    store_prev_free(&prev);
    out->has_entries = true;
}

/* Removes expired headlines in place, keeping document order. Entries
 * stay while the feed serves them: an undated entry keeps its first_seen,
 * so it does not come back as new at the next fetch, and a reload with a
 * longer max_age shows it again. Returns true when a headline went. */
static bool store_feed_expire(struct store_feed *f, int64_t max_age, int64_t now)
{
    size_t k = 0, before = f->st.n_items;
    for (size_t i = 0; i < f->st.n_items; i++) {
        if (store_expired(&f->st.items[i], max_age, now))
            store_item_clear(&f->st.items[i]);
        else
            f->st.items[k++] = f->st.items[i];
    }
    f->st.n_items = k;
    return k != before;
}

/* ---- the store ---- */

struct store *store_new(void)
{
    struct store *s = kt_calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->pub_mu, NULL);
    s->order = ORDER_NEWEST;
    /* Generation 1, so a reader may use 0 for "never looked". */
    s->cur = store_snap_alloc(0, 0, 1);
    atomic_init(&s->generation, 1);
    return s;
}

static void store_feed_clear(struct store_feed *f)
{
    free(f->last_error);
    f->last_error = NULL;
    feed_state_free(&f->st);
    free(f->label);
    f->label = NULL;
    filter_free(f->exclude);
    f->exclude = NULL;
}

void store_free(struct store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_feeds; i++)
        store_feed_clear(&s->feeds[i]);
    free(s->feeds);
    for (size_t i = 0; i < s->n_asrcs; i++)
        store_asrc_clear(&s->asrcs[i]);
    free(s->asrcs);
    for (size_t i = 0; i < s->n_msgs; i++) {
        free(s->msgs[i].sm.origin);
        message_clear(&s->msgs[i].sm.m);
    }
    free(s->msgs);
    /* Readers may still hold the current snapshot; only our reference goes. */
    store_snapshot_release(&s->cur->pub);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->pub_mu);
    free(s);
}

static struct store_feed *store_find(struct store *s, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < s->n_feeds; i++)
        if (strcmp(s->feeds[i].st.name, name) == 0)
            return &s->feeds[i];
    return NULL;
}

static struct store_feed *store_find_token(struct store *s, uint64_t token)
{
    for (size_t i = 0; token && i < s->n_feeds; i++)
        if (s->feeds[i].token == token)
            return &s->feeds[i];
    return NULL;
}

static struct filter *store_rules_filter(const struct config *cfg, const struct cfg_feed *feed)
{
    char err[KT_ERR_MAX];
    /* Patterns were checked when the config was read, so this cannot fail;
     * if it did, NULL matches nothing. */
    struct filter *a =
        filter_new((const char *const *)cfg->exclude.v, cfg->exclude.n, err, sizeof err);
    struct filter *b =
        filter_new((const char *const *)feed->exclude.v, feed->exclude.n, err, sizeof err);
    struct filter *u = filter_union(a, b);
    filter_free(a);
    filter_free(b);
    return u;
}

static void store_asrc_clear(struct store_asrc *a)
{
    free(a->last_error);
    free(a->name);
    free(a->url);
    alert_list_free(a->alerts, a->n);
    memset(a, 0, sizeof *a);
}

/* Alert sources, like feeds: same (name, url) keeps its alerts and token. */
static void store_configure_alerts(struct store *s, const struct config *cfg)
{
    size_t n = cfg->n_alerts;
    struct store_asrc *v = kt_calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const struct cfg_alert *ca = &cfg->alerts[i];
        const char *url = ca->url ? ca->url : "";
        for (size_t j = 0; j < s->n_asrcs; j++) {
            struct store_asrc *o = &s->asrcs[j];
            if (o->name && strcmp(o->name, ca->name) == 0 && strcmp(o->url, url) == 0) {
                v[i] = *o;
                memset(o, 0, sizeof *o);
                break;
            }
        }
        if (!v[i].name) {
            v[i].name = kt_strdup(ca->name);
            v[i].url = kt_strdup(url);
            v[i].token = ++s->next_token;
        }
        v[i].show = ca->show;
    }
    for (size_t j = 0; j < s->n_asrcs; j++)
        store_asrc_clear(&s->asrcs[j]);
    free(s->asrcs);
    s->asrcs = v;
    s->n_asrcs = n;
}

void store_configure(struct store *s, const struct config *cfg, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    size_t n = cfg->n_feeds;
    struct store_feed *feeds = kt_calloc(n ? n : 1, sizeof *feeds);
    /* Whether what the cache holds changes: a feed added, dropped or moved,
     * or headlines of a feed without entries dropped by the new rules. */
    bool content = n != s->n_feeds;
    for (size_t i = 0; i < n; i++) {
        const struct cfg_feed *cf = &cfg->feeds[i];
        struct store_feed *nf = &feeds[i];
        for (size_t j = 0; j < s->n_feeds; j++) {
            struct store_feed *of = &s->feeds[j];
            /* A taken feed has name NULL, so a duplicate in the config
             * cannot take the same state twice. */
            if (of->st.name && strcmp(of->st.name, cf->name) == 0 &&
                strcmp(of->st.url, store_url_of(cf)) == 0) {
                nf->st = of->st;
                nf->token = of->token;
                nf->last_error = of->last_error;
                nf->failures = of->failures;
                of->last_error = NULL;
                memset(&of->st, 0, sizeof of->st);
                content |= j != i;
                break;
            }
        }
        if (!nf->st.name) {
            nf->st.name = kt_strdup(cf->name);
            nf->st.url = kt_strdup(store_url_of(cf));
            nf->token = ++s->next_token;
            content = true;
        }
        nf->label = kt_strdup(cf->label ? cf->label : cf->name);
        nf->show = cf->show;
        nf->max_items = cf->max_items;
        nf->max_chars = cfg->max_chars;
        nf->exclude = store_rules_filter(cfg, cf);
        size_t before = nf->st.n_items;
        store_feed_derive(nf);
        store_feed_expire(nf, cfg->max_age, now);
        content |= !nf->st.has_entries && nf->st.n_items != before;
    }
    for (size_t j = 0; j < s->n_feeds; j++)
        store_feed_clear(&s->feeds[j]);
    free(s->feeds);
    s->feeds = feeds;
    s->n_feeds = n;
    s->max_items = cfg->max_items;
    s->max_age = cfg->max_age;
    s->order = cfg->order;
    store_configure_alerts(s, cfg);
    if (content)
        store_content_changed(s);
    store_rebuild(s, now);
    pthread_mutex_unlock(&s->mu);
}

uint64_t store_token(struct store *s, const char *name, const char *url)
{
    uint64_t token = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; name && i < s->n_feeds; i++)
        if (strcmp(s->feeds[i].st.name, name) == 0 &&
            strcmp(s->feeds[i].st.url, url ? url : "") == 0) {
            token = s->feeds[i].token;
            break;
        }
    pthread_mutex_unlock(&s->mu);
    return token;
}

bool store_feed_schedule(struct store *s, uint64_t token, int64_t *last_success, int *ttl_minutes)
{
    pthread_mutex_lock(&s->mu);
    struct store_feed *f = store_find_token(s, token);
    if (f) {
        *last_success = f->st.last_success;
        *ttl_minutes = f->st.ttl_minutes;
    }
    pthread_mutex_unlock(&s->mu);
    return f != NULL;
}

bool store_feed_validators(struct store *s, uint64_t token, char **etag, char **last_modified)
{
    pthread_mutex_lock(&s->mu);
    struct store_feed *f = store_find_token(s, token);
    if (f) {
        *etag = kt_strdup(f->st.etag);
        *last_modified = kt_strdup(f->st.last_modified);
    }
    pthread_mutex_unlock(&s->mu);
    return f != NULL;
}

/* Sets *dst to v (NULL or "" = none); true when that changed it. */
static bool store_set_validator(char **dst, const char *v)
{
    if (kt_str_eq(*dst, v && *v ? v : NULL))
        return false;
    free(*dst);
    *dst = store_opt_dup(v);
    return true;
}

enum store_outcome store_apply_fetch(struct store *s, uint64_t token, const struct store_fetch *fx,
                                     int64_t now, size_t *kept, size_t *headlines)
{
    if (kept)
        *kept = 0;
    if (headlines)
        *headlines = 0;
    pthread_mutex_lock(&s->mu);
    struct store_feed *f = store_find_token(s, token);
    if (!f) {
        pthread_mutex_unlock(&s->mu);
        return STORE_GONE;
    }
    bool changed = false;
    free(f->last_error);
    f->last_error = NULL;
    /* A 304 may omit the validators: the ones sent stay. */
    if (!fx->not_modified || fx->etag)
        changed |= store_set_validator(&f->st.etag, fx->etag);
    if (!fx->not_modified || fx->last_modified)
        changed |= store_set_validator(&f->st.last_modified, fx->last_modified);
    f->st.last_success = now;
    if (!fx->not_modified && fx->doc) {
        int ttl = fx->doc->ttl_minutes > 0 ? fx->doc->ttl_minutes : 0;
        if (ttl != f->st.ttl_minutes) {
            f->st.ttl_minutes = ttl;
            changed = true;
        }
        struct feed_state fresh = {0};
        store_take_doc(f, fx->doc, now, &fresh);
        if (kept)
            *kept = fresh.n_entries;
        bool same = f->st.has_entries && fresh.n_entries == f->st.n_entries;
        for (size_t i = 0; same && i < fresh.n_entries; i++)
            same = store_entry_eq(&fresh.entries[i], &f->st.entries[i]);
        if (same) {
            /* The same document: its headlines are already derived. */
            store_entries_free(fresh.entries, fresh.n_entries);
            store_items_free(fresh.items, fresh.n_items);
        } else {
            store_entries_free(f->st.entries, f->st.n_entries);
            store_items_free(f->st.items, f->st.n_items);
            f->st.entries = fresh.entries;
            f->st.n_entries = fresh.n_entries;
            f->st.items = fresh.items;
            f->st.n_items = fresh.n_items;
            f->st.has_entries = true;
            store_feed_expire(f, s->max_age, now);
            changed = true;
        }
    }
    if (headlines)
        *headlines = f->st.n_items;
    if (changed) {
        store_content_changed(s);
        store_rebuild(s, now);
    }
    pthread_mutex_unlock(&s->mu);
    return changed ? STORE_CHANGED : STORE_SAME;
}

static bool store_eq_item_key(const void *ctx, size_t idx)
{
    const struct store_item *const *v = ctx;
    const struct store_item *probe = v[0], *old = &v[1][idx];
    return strcmp(probe->title ? probe->title : "", old->title) == 0 &&
           kt_str_eq(probe->link && *probe->link ? probe->link : NULL, old->link);
}

static uint64_t store_item_hash(const struct store_item *it)
{
    return store_pair_hash(it->title ? it->title : "", it->link && *it->link ? it->link : NULL);
}

bool store_replace_items(struct store *s, const char *feed, const struct store_item *items,
                         size_t n, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    struct store_feed *f = store_find(s, feed);
    if (!f) {
        pthread_mutex_unlock(&s->mu);
        return false;
    }
    size_t keep = n;
    if (f->max_items > 0 && keep > (size_t)f->max_items)
        keep = (size_t)f->max_items;

    struct store_set old;
    store_set_init(&old, f->st.n_items);
    const struct store_item *view[2] = {NULL, f->st.items};
    for (size_t i = 0; i < f->st.n_items; i++) {
        size_t pos = 0;
        uint64_t h = store_item_hash(&f->st.items[i]);
        view[0] = &f->st.items[i];
        /* Duplicates within the old list: the first occurrence wins. */
        if (!store_set_find(&old, h, store_eq_item_key, view, &pos))
            store_set_put(&old, pos, h, i);
    }

    struct store_item *fresh = kt_calloc(keep ? keep : 1, sizeof *fresh);
    for (size_t i = 0; i < keep; i++) {
        size_t pos = 0;
        store_item_copy(&fresh[i], &items[i]);
        view[0] = &items[i];
        size_t hit =
            store_set_find(&old, store_item_hash(&items[i]), store_eq_item_key, view, &pos);
        if (hit)
            fresh[i].first_seen = f->st.items[hit - 1].first_seen;
        else if (fresh[i].first_seen == 0)
            fresh[i].first_seen = now;
    }
    store_set_free(&old);

    bool same = !f->st.has_entries && keep == f->st.n_items;
    for (size_t i = 0; same && i < keep; i++)
        same = store_item_eq(&fresh[i], &f->st.items[i]);
    store_items_free(f->st.items, f->st.n_items);
    store_entries_free(f->st.entries, f->st.n_entries);
    f->st.entries = NULL;
    f->st.n_entries = 0;
    f->st.has_entries = false;
    f->st.items = fresh;
    f->st.n_items = keep;
    f->st.last_success = now;
    if (!same)
        store_content_changed(s);
    bool changed = store_rebuild(s, now);
    pthread_mutex_unlock(&s->mu);
    return changed;
}

bool store_expire(struct store *s, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    bool gone = false;
    for (size_t i = 0; i < s->n_feeds; i++)
        gone |= store_feed_expire(&s->feeds[i], s->max_age, now) && !s->feeds[i].st.has_entries;
    /* Only headlines of feeds without entries are in the cache as such. */
    gone |= store_msgs_expire(s, now);
    if (gone)
        store_content_changed(s);
    bool changed = store_rebuild(s, now);
    pthread_mutex_unlock(&s->mu);
    return changed;
}

/* One recorded time after a step (see store_shift_time). */
static bool store_shift_one(int64_t *v, int64_t delta, int64_t from, int64_t to, int64_t now)
{
    if (*v >= from && *v <= to && *v != 0) {
        int64_t moved;
        if (__builtin_add_overflow(*v, delta, &moved))
            moved = now;
        *v = moved;
        return true;
    }
    if (now >= SCHEDULE_SANE_TIME && *v != 0 && *v < SCHEDULE_SANE_TIME) {
        *v = now;
        return true;
    }
    return false;
}

void store_shift_time(struct store *s, int64_t delta, int64_t from, int64_t to, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    bool moved = false;
    for (size_t i = 0; i < s->n_feeds; i++) {
        struct feed_state *st = &s->feeds[i].st;
        moved |= store_shift_one(&st->last_success, delta, from, to, now);
        for (size_t k = 0; k < st->n_entries; k++)
            moved |= store_shift_one(&st->entries[k].first_seen, delta, from, to, now);
        for (size_t k = 0; k < st->n_items; k++)
            moved |= store_shift_one(&st->items[k].first_seen, delta, from, to, now);
    }
    if (moved) {
        store_content_changed(s);
        store_rebuild(s, now);
    }
    pthread_mutex_unlock(&s->mu);
}

/* ---- operator messages and alert sources ---- */

static size_t store_msg_find(const struct store *s, const char *origin, const char *id)
{
    for (size_t i = 0; i < s->n_msgs; i++)
        if ((!origin || strcmp(s->msgs[i].sm.origin, origin) == 0) &&
            strcmp(s->msgs[i].sm.m.id, id) == 0)
            return i;
    return s->n_msgs;
}

static void store_msg_drop(struct store *s, size_t i)
{
    free(s->msgs[i].sm.origin);
    message_clear(&s->msgs[i].sm.m);
    memmove(&s->msgs[i], &s->msgs[i + 1], (s->n_msgs - i - 1) * sizeof *s->msgs);
    s->n_msgs--;
}

/* Drops messages expired at now (under mu); true when one went. */
static bool store_msgs_expire(struct store *s, int64_t now)
{
    bool gone = false;
    for (size_t i = s->n_msgs; i-- > 0;)
        if (message_expired(&s->msgs[i].sm.m, now)) {
            store_msg_drop(s, i);
            gone = true;
        }
    return gone;
}

static int store_msg_put_locked(struct store *s, const char *origin, const struct message *m,
                                int64_t now, char *err, size_t errlen)
{
    if (!origin || !*origin || !m->id || !message_id_valid(m->id))
        return kt_error(err, errlen, "id: not a valid message id");
    if (!m->text || !*m->text)
        return kt_error(err, errlen, "text: empty");
    if (message_expired(m, now))
        return kt_error(err, errlen, "expires: in the past");
    struct hours show = {0};
    if (m->show) {
        char why[KT_ERR_MAX];
        if (hours_parse(m->show, &show, why, sizeof why) < 0)
            return kt_error(err, errlen, "show: %s", why);
    }
    store_msgs_expire(s, now);
    size_t i = store_msg_find(s, origin, m->id);
    if (i == s->n_msgs) {
        if (s->n_msgs >= STORE_MAX_MESSAGES)
            return kt_error(err, errlen,
                            "too many messages (at most %d are kept): delete one first",
                            STORE_MAX_MESSAGES);
        s->msgs = kt_realloc(s->msgs, (s->n_msgs + 1) * sizeof *s->msgs);
        s->n_msgs++;
        s->msgs[i].sm.origin = kt_strdup(origin);
    } else {
        message_clear(&s->msgs[i].sm.m);
    }
    message_copy(&s->msgs[i].sm.m, m);
    s->msgs[i].show = show;
    s->msgs[i].seq = ++s->msg_seq;
    return 0;
}

int store_message_put(struct store *s, const char *origin, const struct message *m, int64_t now,
                      char *err, size_t errlen)
{
    pthread_mutex_lock(&s->mu);
    int rc = store_msg_put_locked(s, origin, m, now, err, errlen);
    if (rc == 0) {
        store_content_changed(s);
        store_rebuild(s, now);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

bool store_message_remove(struct store *s, const char *origin, const char *id)
{
    if (!id)
        return false;
    pthread_mutex_lock(&s->mu);
    size_t i = store_msg_find(s, origin, id);
    bool found = i < s->n_msgs;
    if (found) {
        store_msg_drop(s, i);
        store_content_changed(s);
        store_rebuild(s, s->last_now);
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

size_t store_message_clear(struct store *s, const char *origin)
{
    pthread_mutex_lock(&s->mu);
    size_t gone = 0;
    for (size_t i = s->n_msgs; i-- > 0;)
        if (!origin || strcmp(s->msgs[i].sm.origin, origin) == 0) {
            store_msg_drop(s, i);
            gone++;
        }
    if (gone) {
        store_content_changed(s);
        store_rebuild(s, s->last_now);
    }
    pthread_mutex_unlock(&s->mu);
    return gone;
}

size_t store_messages(struct store *s, int64_t now, struct store_message **out)
{
    pthread_mutex_lock(&s->mu);
    struct store_message *v = kt_calloc(s->n_msgs ? s->n_msgs : 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < s->n_msgs; i++) {
        if (message_expired(&s->msgs[i].sm.m, now))
            continue;
        v[n].origin = kt_strdup(s->msgs[i].sm.origin);
        message_copy(&v[n].m, &s->msgs[i].sm.m);
        n++;
    }
    pthread_mutex_unlock(&s->mu);
    *out = v;
    return n;
}

uint64_t store_alert_token(struct store *s, const char *name, const char *url)
{
    uint64_t token = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; name && i < s->n_asrcs; i++)
        if (strcmp(s->asrcs[i].name, name) == 0 && strcmp(s->asrcs[i].url, url ? url : "") == 0) {
            token = s->asrcs[i].token;
            break;
        }
    pthread_mutex_unlock(&s->mu);
    return token;
}

enum store_outcome store_apply_alerts(struct store *s, uint64_t token, const struct alert *a,
                                      size_t n, int64_t now)
{
    if (n > STORE_MAX_SOURCE_ALERTS)
        n = STORE_MAX_SOURCE_ALERTS;
    pthread_mutex_lock(&s->mu);
    struct store_asrc *src = NULL;
    for (size_t i = 0; token && i < s->n_asrcs; i++)
        if (s->asrcs[i].token == token)
            src = &s->asrcs[i];
    if (!src) {
        pthread_mutex_unlock(&s->mu);
        return STORE_GONE;
    }
    struct alert *v = kt_calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        alert_copy(&v[i], &a[i]);
    alert_list_free(src->alerts, src->n);
    src->alerts = v;
    src->n = n;
    src->last_success = now;
    free(src->last_error);
    src->last_error = NULL;
    store_rebuild(s, now);
    pthread_mutex_unlock(&s->mu);
    return STORE_SAME;
}

void store_note_failure(struct store *s, uint64_t token, const char *reason)
{
    pthread_mutex_lock(&s->mu);
    char **err = NULL;
    uint64_t *count = NULL;
    struct store_feed *f = store_find_token(s, token);
    if (f) {
        err = &f->last_error;
        count = &f->failures;
    }
    for (size_t i = 0; !f && token && i < s->n_asrcs; i++)
        if (s->asrcs[i].token == token) {
            err = &s->asrcs[i].last_error;
            count = &s->asrcs[i].failures;
        }
    if (err) {
        free(*err);
        *err = kt_strdup(reason ? reason : "failed");
        (*count)++;
    }
    pthread_mutex_unlock(&s->mu);
}

size_t store_sources(struct store *s, struct store_source_info **out)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n_feeds + s->n_asrcs;
    struct store_source_info *v = kt_calloc(n ? n : 1, sizeof *v);
    const struct store_snapshot *snap = &s->cur->pub;
    for (size_t i = 0; i < s->n_feeds; i++) {
        const struct store_feed *f = &s->feeds[i];
        size_t shown = 0;
        for (size_t k = 0; k < snap->n; k++)
            shown += !snap->items[k].announcement && strcmp(snap->items[k].feed, f->st.name) == 0;
        v[i] = (struct store_source_info){
            kt_strdup(f->st.name),    kt_strdup(f->st.url), false, f->st.last_success,
            kt_strdup(f->last_error), f->failures,          shown};
    }
    for (size_t i = 0; i < s->n_asrcs; i++) {
        const struct store_asrc *a = &s->asrcs[i];
        size_t shown = 0;
        for (size_t k = 0; k < snap->n_alerts; k++)
            shown += strcmp(snap->alerts[k].source, a->name) == 0;
        v[s->n_feeds + i] = (struct store_source_info){
            kt_strdup(a->name),       kt_strdup(a->url), true, a->last_success,
            kt_strdup(a->last_error), a->failures,       shown};
    }
    pthread_mutex_unlock(&s->mu);
    *out = v;
    return n;
}

void store_sources_free(struct store_source_info *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].url);
        free(v[i].last_error);
    }
    free(v);
}

bool store_refresh(struct store *s, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    if (store_msgs_expire(s, now))
        store_content_changed(s);
    bool changed = store_rebuild(s, now);
    pthread_mutex_unlock(&s->mu);
    return changed;
}

static void store_state_copy(struct feed_state *dst, const struct feed_state *src)
{
    dst->name = kt_strdup(src->name ? src->name : "");
    dst->url = kt_strdup(src->url ? src->url : "");
    dst->etag = store_opt_dup(src->etag);
    dst->last_modified = store_opt_dup(src->last_modified);
    dst->last_success = src->last_success;
    dst->ttl_minutes = src->ttl_minutes;
    dst->has_entries = src->has_entries;
    size_t ne = src->has_entries ? src->n_entries : 0;
    if (ne > STORE_MAX_ENTRIES)
        ne = STORE_MAX_ENTRIES;
    dst->entries = kt_calloc(ne ? ne : 1, sizeof *dst->entries);
    dst->n_entries = ne;
    for (size_t i = 0; i < ne; i++)
        store_entry_copy(&dst->entries[i], &src->entries[i]);
    dst->items = kt_calloc(src->n_items ? src->n_items : 1, sizeof *dst->items);
    dst->n_items = src->n_items;
    for (size_t i = 0; i < src->n_items; i++)
        store_item_copy(&dst->items[i], &src->items[i]);
}

struct store_dump store_dump(struct store *s)
{
    pthread_mutex_lock(&s->mu);
    struct store_dump d = {kt_calloc(s->n_feeds ? s->n_feeds : 1, sizeof *d.feeds), s->n_feeds,
                           NULL, 0};
    for (size_t i = 0; i < s->n_feeds; i++)
        store_state_copy(&d.feeds[i], &s->feeds[i].st);
    d.messages = kt_calloc(s->n_msgs ? s->n_msgs : 1, sizeof *d.messages);
    d.n_messages = s->n_msgs;
    for (size_t i = 0; i < s->n_msgs; i++) {
        d.messages[i].origin = kt_strdup(s->msgs[i].sm.origin);
        message_copy(&d.messages[i].m, &s->msgs[i].sm.m);
    }
    pthread_mutex_unlock(&s->mu);
    return d;
}

/* A first_seen the cache cannot vouch for becomes now: none (0), or one
 * written before the clock was set. */
static void store_fix_first_seen(int64_t *v, int64_t now)
{
    if (*v == 0 || (now >= SCHEDULE_SANE_TIME && *v < SCHEDULE_SANE_TIME))
        *v = now;
}

size_t store_restore(struct store *s, const struct store_dump *d, int64_t now)
{
    size_t restored = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_feeds; i++) {
        struct store_feed *f = &s->feeds[i];
        for (size_t j = 0; j < d->n_feeds; j++) {
            const struct feed_state *src = &d->feeds[j];
            if (!src->name || strcmp(src->name, f->st.name) != 0 ||
                strcmp(src->url ? src->url : "", f->st.url) != 0)
                continue;
            struct feed_state st = {0};
            store_state_copy(&st, src);
            for (size_t k = 0; k < st.n_entries; k++)
                store_fix_first_seen(&st.entries[k].first_seen, now);
            for (size_t k = 0; k < st.n_items; k++)
                store_fix_first_seen(&st.items[k].first_seen, now);
            feed_state_free(&f->st);
            f->st = st;
            store_feed_derive(f);
            /* Stale items would only be shown until the next expire. */
            store_feed_expire(f, s->max_age, now);
            restored++;
            break;
        }
    }
    for (size_t i = 0; i < d->n_messages; i++) {
        const struct store_message *dm = &d->messages[i];
        char err[KT_ERR_MAX];
        if (!dm->origin || !dm->m.id || !dm->m.text || message_expired(&dm->m, now))
            continue;
        if (store_msg_find(s, dm->origin, dm->m.id) < s->n_msgs)
            continue; /* one posted since: newer */
        store_msg_put_locked(s, dm->origin, &dm->m, now, err, sizeof err);
    }
    store_content_changed(s);
    store_rebuild(s, now);
    pthread_mutex_unlock(&s->mu);
    return restored;
}
