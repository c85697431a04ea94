/*
 * store: per-feed headline state and the merged, published list.
 *
 * All mutable state sits behind one mutex. The merged list is rebuilt under
 * that mutex whenever the inputs change, and published as an immutable
 * snapshot in a single allocation (headlines and their strings together),
 * so readers never copy strings and a snapshot outlives any later rebuild
 * for as long as someone holds a reference.
 */
#include "store.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

/* A published snapshot. `pub` must stay first: readers only ever see a
 * pointer to it and release casts it back. */
struct store_snap {
    struct store_snapshot pub;
    atomic_size_t refs;
};

/* Headlines start after the header, rounded up so they are aligned. */
#define STORE_SNAP_HDR                                                                             \
    ((sizeof(struct store_snap) + alignof(max_align_t) - 1) / alignof(max_align_t) *               \
     alignof(max_align_t))

struct store_feed {
    struct feed_state st;
    char *label;
    int max_items;
};

struct store {
    pthread_mutex_t mu;
    struct store_feed *feeds;
    size_t n_feeds;
    int max_items;
    int64_t max_age;
    enum order order;
    struct store_snap *cur;
    /* Mirrors cur->pub.generation so readers can poll without the lock. */
    atomic_uint_least64_t generation;
};

/* One candidate headline while the merged list is built. */
struct store_cand {
    const struct store_feed *feed;
    const struct store_item *item;
    size_t feed_index, doc_index;
    int64_t when; /* published, or first_seen when unknown */
};

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

void feed_state_free(struct feed_state *fs)
{
    if (!fs)
        return;
    free(fs->name);
    free(fs->url);
    free(fs->etag);
    free(fs->last_modified);
    store_items_free(fs->items, fs->n_items);
    memset(fs, 0, sizeof *fs);
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
}

/* An empty link means "no link" everywhere, so it never takes part in the
 * link de-duplication or in ids differently from NULL. */
static char *store_link_dup(const char *link)
{
    return link && *link ? kt_strdup(link) : NULL;
}

static void store_item_copy(struct store_item *dst, const struct store_item *src)
{
    dst->title = kt_strdup(src->title ? src->title : "");
    dst->link = store_link_dup(src->link);
    dst->published = src->published;
    dst->first_seen = src->first_seen;
}

static bool store_str_eq(const char *a, const char *b)
{
    if (!a || !*a)
        return !b || !*b;
    return b && strcmp(a, b) == 0;
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
    atomic_init(&snap->refs, 1);
    return snap;
}

void store_snapshot_release(const struct store_snapshot *snapshot)
{
    if (!snapshot)
        return;
    struct store_snap *snap = (struct store_snap *)snapshot;
    if (atomic_fetch_sub_explicit(&snap->refs, 1, memory_order_acq_rel) == 1)
        free(snap);
}

const struct store_snapshot *store_snapshot_retain(const struct store_snapshot *snapshot)
{
    struct store_snap *snap = (struct store_snap *)snapshot;
    atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
    return snapshot;
}

const struct store_snapshot *store_snapshot(struct store *s)
{
    pthread_mutex_lock(&s->mu);
    struct store_snap *snap = s->cur;
    atomic_fetch_add_explicit(&snap->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&s->mu);
    return &snap->pub;
}

uint64_t store_generation(struct store *s)
{
    return atomic_load_explicit(&s->generation, memory_order_acquire);
}

/* ---- building the merged list ---- */

static bool store_expired(const struct store_item *it, int64_t max_age, int64_t now)
{
    if (max_age <= 0)
        return false;
    int64_t when = it->published ? it->published : it->first_seen;
    /* Compared as a difference bound, in unsigned arithmetic: with when < now
     * the difference is exact there, while now - when overflows int64 for a
     * first_seen near INT64_MIN (a cache file may hold any int64). */
    return when < now && (uint64_t)now - (uint64_t)when > (uint64_t)max_age;
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

/* Rebuilds the merged list; publishes a new snapshot only when it differs
 * from the current one, so readers are not woken for nothing. */
static bool store_rebuild(struct store *s, int64_t now)
{
    size_t n;
    struct store_cand *c = store_candidates(s, now, &n);
    n = store_dedup(c, n, s->max_items > 0 ? (size_t)s->max_items : 0);

    uint64_t *ids = kt_malloc((n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = store_headline_id(c[i].feed->st.name, c[i].item->title, c[i].item->link);

    const struct store_snapshot *old = &s->cur->pub;
    bool same = old->n == n;
    /* The id covers feed, title and link, not the date: a duplicate that
     * takes over from an expired twin, or a re-dated item, is a change. */
    for (size_t i = 0; same && i < n; i++)
        same = old->items[i].id == ids[i] && old->items[i].published == c[i].item->published &&
               strcmp(old->items[i].label, c[i].feed->label) == 0;
    if (same) {
        free(ids);
        free(c);
        return false;
    }

    /* Feed name and label are stored once per contributing feed. */
    const char **fname = kt_calloc(s->n_feeds ? s->n_feeds : 1, sizeof *fname);
    const char **flabel = kt_calloc(s->n_feeds ? s->n_feeds : 1, sizeof *flabel);
    bool *used = kt_calloc(s->n_feeds ? s->n_feeds : 1, sizeof *used);
    size_t bytes = 0;
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
    struct store_snap *snap = store_snap_alloc(n, bytes, gen);
    struct headline *h = (struct headline *)snap->pub.items;
    char *arena = (char *)snap + STORE_SNAP_HDR + n * sizeof(struct headline);
    for (size_t i = 0; i < n; i++) {
        size_t fi = c[i].feed_index;
        if (!fname[fi]) {
            fname[fi] = store_arena_put(&arena, c[i].feed->st.name);
            flabel[fi] = store_arena_put(&arena, c[i].feed->label);
        }
        h[i].feed = fname[fi];
        h[i].label = flabel[fi];
        h[i].title = store_arena_put(&arena, c[i].item->title);
        h[i].link = c[i].item->link ? store_arena_put(&arena, c[i].item->link) : NULL;
        h[i].published = c[i].item->published;
        h[i].id = ids[i];
    }
    free(fname);
    free(flabel);
    free(used);
    free(ids);
    free(c);

    struct store_snap *prev = s->cur;
    s->cur = snap;
    atomic_store_explicit(&s->generation, gen, memory_order_release);
    store_snapshot_release(&prev->pub);
    return true;
}

/* ---- the store ---- */

struct store *store_new(void)
{
    struct store *s = kt_calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->order = ORDER_NEWEST;
    /* Generation 1, so a reader may use 0 for "never looked". */
    s->cur = store_snap_alloc(0, 0, 1);
    atomic_init(&s->generation, 1);
    return s;
}

static void store_feed_clear(struct store_feed *f)
{
    feed_state_free(&f->st);
    free(f->label);
    f->label = NULL;
}

void store_free(struct store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_feeds; i++)
        store_feed_clear(&s->feeds[i]);
    free(s->feeds);
    /* Readers may still hold the current snapshot; only our reference goes. */
    store_snapshot_release(&s->cur->pub);
    pthread_mutex_destroy(&s->mu);
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

static void store_feed_limit(struct store_feed *f)
{
    if (f->max_items <= 0 || f->st.n_items <= (size_t)f->max_items)
        return;
    for (size_t i = (size_t)f->max_items; i < f->st.n_items; i++)
        store_item_clear(&f->st.items[i]);
    f->st.n_items = (size_t)f->max_items;
}

void store_configure(struct store *s, const struct config *cfg, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    size_t n = cfg->n_feeds;
    struct store_feed *feeds = kt_calloc(n ? n : 1, sizeof *feeds);
    for (size_t i = 0; i < n; i++) {
        const struct cfg_feed *cf = &cfg->feeds[i];
        struct store_feed *nf = &feeds[i];
        for (size_t j = 0; j < s->n_feeds; j++) {
            struct store_feed *of = &s->feeds[j];
            /* A taken feed has name NULL, so a duplicate in the config
             * cannot take the same state twice. */
            if (of->st.name && strcmp(of->st.name, cf->name) == 0 &&
                store_str_eq(of->st.url, cf->url)) {
                nf->st = of->st;
                memset(&of->st, 0, sizeof of->st);
                break;
            }
        }
        if (!nf->st.name) {
            nf->st.name = kt_strdup(cf->name);
            nf->st.url = kt_strdup(cf->url ? cf->url : "");
        }
        nf->label = kt_strdup(cf->label ? cf->label : cf->name);
        nf->max_items = cf->max_items;
        store_feed_limit(nf);
    }
    for (size_t j = 0; j < s->n_feeds; j++)
        store_feed_clear(&s->feeds[j]);
    free(s->feeds);
    s->feeds = feeds;
    s->n_feeds = n;
    s->max_items = cfg->max_items;
    s->max_age = cfg->max_age;
    s->order = cfg->order;
    store_rebuild(s, now);
    pthread_mutex_unlock(&s->mu);
}

static bool store_eq_item(const void *ctx, size_t idx)
{
    const struct store_item *const *v = ctx;
    const struct store_item *probe = v[0], *old = &v[1][idx];
    return strcmp(probe->title ? probe->title : "", old->title) == 0 &&
           store_str_eq(probe->link, old->link);
}

static uint64_t store_item_hash(const struct store_item *it)
{
    return store_headline_id("", it->title, it->link && *it->link ? it->link : NULL);
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
        size_t pos;
        uint64_t h = store_item_hash(&f->st.items[i]);
        view[0] = &f->st.items[i];
        /* Duplicates within the old list: the first occurrence wins. */
        if (!store_set_find(&old, h, store_eq_item, view, &pos))
            store_set_put(&old, pos, h, i);
    }

    struct store_item *fresh = kt_calloc(keep ? keep : 1, sizeof *fresh);
    for (size_t i = 0; i < keep; i++) {
        size_t pos;
        store_item_copy(&fresh[i], &items[i]);
        view[0] = &items[i];
        size_t hit = store_set_find(&old, store_item_hash(&items[i]), store_eq_item, view, &pos);
        if (hit)
            fresh[i].first_seen = f->st.items[hit - 1].first_seen;
        else if (fresh[i].first_seen == 0)
            fresh[i].first_seen = now;
    }
    store_set_free(&old);

    store_items_free(f->st.items, f->st.n_items);
    f->st.items = fresh;
    f->st.n_items = keep;
    f->st.last_success = now;
    bool changed = store_rebuild(s, now);
    pthread_mutex_unlock(&s->mu);
    return changed;
}

void store_touch(struct store *s, const char *feed, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    struct store_feed *f = store_find(s, feed);
    if (f)
        f->st.last_success = now;
    pthread_mutex_unlock(&s->mu);
}

/* NULL keeps the value; "" clears it (a server that stopped sending the
 * header). A negative ttl keeps the value. */
static void store_meta_set(char **dst, const char *v)
{
    if (!v)
        return;
    free(*dst);
    *dst = *v ? kt_strdup(v) : NULL;
}

void store_set_meta(struct store *s, const char *feed, const char *etag, const char *last_modified,
                    int ttl_minutes)
{
    pthread_mutex_lock(&s->mu);
    struct store_feed *f = store_find(s, feed);
    if (f) {
        store_meta_set(&f->st.etag, etag);
        store_meta_set(&f->st.last_modified, last_modified);
        if (ttl_minutes >= 0)
            f->st.ttl_minutes = ttl_minutes;
    }
    pthread_mutex_unlock(&s->mu);
}

bool store_get_meta(struct store *s, const char *feed, char **etag, char **last_modified,
                    int *ttl_minutes)
{
    pthread_mutex_lock(&s->mu);
    struct store_feed *f = store_find(s, feed);
    if (f) {
        if (etag)
            *etag = kt_strdup(f->st.etag);
        if (last_modified)
            *last_modified = kt_strdup(f->st.last_modified);
        if (ttl_minutes)
            *ttl_minutes = f->st.ttl_minutes;
    }
    pthread_mutex_unlock(&s->mu);
    return f != NULL;
}

/* Removes expired items in place, keeping document order. */
static void store_feed_expire(struct store_feed *f, int64_t max_age, int64_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < f->st.n_items; i++) {
        if (store_expired(&f->st.items[i], max_age, now))
            store_item_clear(&f->st.items[i]);
        else
            f->st.items[k++] = f->st.items[i];
    }
    f->st.n_items = k;
}

bool store_expire(struct store *s, int64_t now)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_feeds; i++)
        store_feed_expire(&s->feeds[i], s->max_age, now);
    bool changed = store_rebuild(s, now);
    pthread_mutex_unlock(&s->mu);
    return changed;
}

static void store_state_copy(struct feed_state *dst, const struct feed_state *src, size_t limit)
{
    dst->name = kt_strdup(src->name ? src->name : "");
    dst->url = kt_strdup(src->url ? src->url : "");
    dst->etag = kt_strdup(src->etag);
    dst->last_modified = kt_strdup(src->last_modified);
    dst->last_success = src->last_success;
    dst->ttl_minutes = src->ttl_minutes;
    size_t n = src->n_items;
    if (limit && n > limit)
        n = limit;
    dst->items = kt_calloc(n ? n : 1, sizeof *dst->items);
    dst->n_items = n;
    for (size_t i = 0; i < n; i++)
        store_item_copy(&dst->items[i], &src->items[i]);
}

struct store_dump store_dump(struct store *s)
{
    pthread_mutex_lock(&s->mu);
    struct store_dump d = {kt_calloc(s->n_feeds ? s->n_feeds : 1, sizeof *d.feeds), s->n_feeds};
    for (size_t i = 0; i < s->n_feeds; i++)
        store_state_copy(&d.feeds[i], &s->feeds[i].st, 0);
    pthread_mutex_unlock(&s->mu);
    return d;
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
                !store_str_eq(src->url, f->st.url))
                continue;
            struct feed_state st;
            store_state_copy(&st, src, f->max_items > 0 ? (size_t)f->max_items : 0);
            /* An item with no first_seen would never age out if undated. */
            for (size_t k = 0; k < st.n_items; k++)
                if (st.items[k].first_seen == 0)
                    st.items[k].first_seen = now;
            feed_state_free(&f->st);
            f->st = st;
            /* Stale items would only be shown until the next expire. */
            store_feed_expire(f, s->max_age, now);
            restored++;
            break;
        }
    }
    store_rebuild(s, now);
    pthread_mutex_unlock(&s->mu);
    return restored;
}
