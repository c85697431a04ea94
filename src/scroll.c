/*
 * scroll: see scroll.h. Tape coordinates are int64 sums of whole-pixel
 * widths, so where an entry lands never depends on how often advance()
 * was called: 30, 60 or 144 Hz, or a frame that came late, all give the
 * same tape. Only adopt() and reflow() change it, at the time they run.
 */
#include "scroll.h"

#include "hashset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void scroll_clock_init(struct scroll_clock *c, double speed)
{
    c->t0 = 0;
    c->base = 0;
    c->speed = speed;
}

void scroll_clock_set_speed(struct scroll_clock *c, double t, double speed)
{
    c->base = scroll_clock_offset(c, t);
    c->t0 = t;
    c->speed = speed;
}

double scroll_clock_offset(const struct scroll_clock *c, double t)
{
    return c->base + c->speed * (t - c->t0);
}

double scroll_snap_speed(double speed, double refresh_hz)
{
    if (!(refresh_hz > 0))
        return speed;
    double per_frame = round(speed / refresh_hz);
    if (per_frame < 1)
        per_frame = 1;
    return per_frame * refresh_hz;
}

/* ---- id -> position in the current list (hashset.h; the id is its own hash) ---- */

struct scroll_id_key {
    const uint64_t *ids;
    uint64_t id;
};

static bool scroll_id_eq(const void *ctx, size_t idx)
{
    const struct scroll_id_key *k = ctx;
    return k->ids[idx] == k->id;
}

static void scroll_hash_build(struct scroll_layout *l)
{
    hashset_free(&l->index);
    hashset_init(&l->index, l->n_list);
    for (size_t i = 0; i < l->n_list; i++) {
        struct scroll_id_key k = {l->ids, l->ids[i]};
        hashset_insert(&l->index, k.id, i, scroll_id_eq, &k); /* a duplicate: the first wins */
    }
}

size_t scroll_layout_find(const struct scroll_layout *l, uint64_t id)
{
    struct scroll_id_key k = {l->ids, id};
    size_t i = hashset_find(&l->index, id, scroll_id_eq, &k, NULL);
    return i == HASHSET_NONE ? SCROLL_NONE : i;
}

/* ---- layout ---- */

void scroll_layout_init(struct scroll_layout *l, int64_t origin, int32_t gap,
                        scroll_measure_fn measure, void *ctx)
{
    memset(l, 0, sizeof *l);
    l->tail = origin;
    l->gap = gap;
    l->measure = measure;
    l->ctx = ctx;
    l->fresh = true;
    /* Enough for a full screen of short headlines; grows (rarely) if not. */
    l->cap = 64;
    l->e = kt_malloc(l->cap * sizeof *l->e);
}

void scroll_layout_free(struct scroll_layout *l)
{
    free(l->e);
    free(l->ids);
    free(l->widths);
    hashset_free(&l->index);
    memset(l, 0, sizeof *l);
}

static void scroll_layout_record(struct scroll_layout *l, size_t index, int32_t w)
{
    /* At least 1 px, so that an empty headline with an empty separator
     * still advances the tape (placement would never end otherwise). */
    l->widths[index] = w < 1 ? 1 : w;
    l->n_measured++;
    l->measured_sum += (int64_t)l->widths[index] + l->gap;
}

int32_t scroll_layout_width(struct scroll_layout *l, size_t index)
{
    if (l->widths[index] < 0) {
        int32_t w = l->measure ? l->measure(l->ctx, index) : SCROLL_NOT_READY;
        if (w < 0)
            return SCROLL_NOT_READY;
        scroll_layout_record(l, index, w);
    }
    return l->widths[index];
}

void scroll_layout_set_width(struct scroll_layout *l, size_t index, int32_t width)
{
    if (index < l->n_list && l->widths[index] < 0 && width >= 0)
        scroll_layout_record(l, index, width);
}

static void scroll_layout_forget_widths(struct scroll_layout *l)
{
    for (size_t i = 0; i < l->n_list; i++)
        l->widths[i] = -1;
    l->n_measured = 0;
    l->measured_sum = 0;
}

void scroll_layout_adopt(struct scroll_layout *l, const uint64_t *ids, size_t n, double edge)
{
    size_t kept = 0;
    while (kept < l->n && (double)l->e[kept].start < edge)
        kept++;
    if (kept > 0) {
        const struct scroll_entry *last = &l->e[kept - 1];
        l->tail = last->start + last->width + l->gap;
    } else if (l->n > 0) {
        l->tail = l->e[0].start; /* nothing on screen yet: the new list starts there */
    }
    l->n = kept;
    /* A gap left by an entry that was not ready stays a gap: what the new
     * list puts there must not appear in it mid-screen. */
    l->blocked = l->blocked || (kept > 0 && (double)l->tail < edge);

    uint64_t *old_ids = l->ids;
    int32_t *old_widths = l->widths;
    size_t old_n = l->n_list;

    l->ids = kt_malloc((n ? n : 1) * sizeof *l->ids);
    if (n)
        memcpy(l->ids, ids, n * sizeof *ids);
    l->widths = kt_malloc((n ? n : 1) * sizeof *l->widths);
    l->n_list = n;
    l->n_measured = 0;
    l->measured_sum = 0;
    l->serial++;
    scroll_hash_build(l);
    for (size_t i = 0; i < n; i++)
        l->widths[i] = -1;
    /* Carry widths over by id: measuring is cheap, but not free at 10,000. */
    for (size_t i = 0; i < old_n; i++) {
        if (old_widths[i] < 0)
            continue;
        size_t j = scroll_layout_find(l, old_ids[i]);
        if (j != SCROLL_NONE && l->widths[j] < 0) {
            l->widths[j] = old_widths[i];
            l->n_measured++;
            l->measured_sum += (int64_t)old_widths[i] + l->gap;
        }
    }
    free(old_ids);
    free(old_widths);

    l->next = 0;
    if (kept > 0 && n > 0) {
        size_t j = scroll_layout_find(l, l->e[kept - 1].id);
        if (j != SCROLL_NONE)
            l->next = (j + 1) % n;
    }
}

static void scroll_layout_push(struct scroll_layout *l, size_t index, int32_t width)
{
    if (l->n == l->cap) {
        l->cap *= 2;
        l->e = kt_realloc(l->e, l->cap * sizeof *l->e);
    }
    l->e[l->n++] = (struct scroll_entry){.id = l->ids[index],
                                         .start = l->tail,
                                         .width = width,
                                         .list = l->serial,
                                         .index = index,
                                         .user = -1};
    l->placed++;
}

/* Tape coordinates stay well inside int64 (sums of widths are added to
 * them), whatever time the caller asks for. */
static double scroll_clamp(double x)
{
    const double lim = 4611686018427387904.0; /* 2^62 */
    if (x != x)
        return 0;
    return x < -lim ? -lim : x > lim ? lim : x;
}

/* Far behind (a stalled frame, a screenshot at t = 1e15): moves the tail
 * to the last entry start at or before lo without placing anything.
 * Steps item by item while widths are being learnt (at most one loop of
 * the list: after it every width is known), and skips whole loops at once
 * when they are all known (integer sums, so identical to stepping). Stops
 * at an entry not measured yet: placement then blocks on it. */
static void scroll_layout_catch_up(struct scroll_layout *l, double lo)
{
    for (;;) {
        int64_t cycle = l->n_measured == l->n_list ? l->measured_sum : 0;
        double behind = lo - (double)l->tail;
        if (cycle > 0 && behind > 2.0 * (double)cycle) {
            /* One loop short of the estimate: double rounding at 1e17 px
             * must never overshoot lo; the steps below finish exactly. */
            double loops = floor(behind / (double)cycle) - 1;
            l->tail += (int64_t)loops * cycle;
        }
        int32_t w = scroll_layout_width(l, l->next);
        if (w < 0 || (double)(l->tail + w + l->gap) > lo)
            return;
        l->tail += (int64_t)w + l->gap;
        l->next = (l->next + 1) % l->n_list;
        l->steps++;
    }
}

void scroll_layout_advance(struct scroll_layout *l, double lo, double edge, double hi)
{
    lo = scroll_clamp(lo);
    edge = scroll_clamp(edge);
    hi = scroll_clamp(hi);
    size_t drop = 0;
    while (drop < l->n && (double)(l->e[drop].start + l->e[drop].width + l->gap) <= lo)
        drop++;
    if (drop) {
        memmove(l->e, l->e + drop, (l->n - drop) * sizeof *l->e);
        l->n -= drop;
    }
    if (l->n_list == 0)
        return;
    /* (Not past an entry that was late: that one enters at the edge.) */
    if (l->n == 0 && (!l->blocked || l->patient))
        scroll_layout_catch_up(l, lo);
    while ((double)l->tail < hi) {
        int32_t w = scroll_layout_width(l, l->next);
        if (w < 0) {
            l->blocked = true;
            break;
        }
        if (l->blocked) {
            /* It was not ready when due: see the top of scroll.h. */
            l->blocked = false;
            double at = (double)l->tail;
            if (!l->patient && (at + w <= lo || (at < edge && !l->fresh))) {
                l->tail = (int64_t)ceil(edge);
                l->waits++;
            }
        }
        scroll_layout_push(l, l->next, w);
        l->tail += (int64_t)w + l->gap;
        l->next = (l->next + 1) % l->n_list;
    }
    if ((double)l->tail >= edge)
        l->fresh = false;
}

void scroll_layout_reset(struct scroll_layout *l, int64_t origin, int32_t gap)
{
    l->n = 0;
    l->tail = origin;
    l->next = 0;
    l->gap = gap;
    l->blocked = false;
    l->fresh = true;
    scroll_layout_forget_widths(l);
}

void scroll_layout_reflow(struct scroll_layout *l, double lo, int32_t gap)
{
    size_t i = 0;
    for (; i < l->n; i++) {
        const struct scroll_entry *e = &l->e[i];
        if ((double)(e->start + e->width + l->gap) <= lo)
            continue;
        size_t j = e->list == l->serial ? e->index : scroll_layout_find(l, e->id);
        if (j != SCROLL_NONE) {
            l->tail = e->start;
            l->next = j;
            break;
        }
    }
    if (i == l->n && l->n > 0)
        l->tail = l->e[0].start; /* nothing of this list on screen: start it there */
    l->n = 0;
    l->gap = gap;
    /* The text on screen is drawn again with the new look as it comes:
     * appearing in place is right there. */
    l->blocked = false;
    l->fresh = true;
    scroll_layout_forget_widths(l);
}
