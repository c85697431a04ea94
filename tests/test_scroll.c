/*
 * test_scroll: the pure scroll module. Position as a function of time is
 * the same whatever the frame rate (and after a late frame), the loop is
 * seamless, and live updates splice as specified (a table of cases).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "scroll.h"
#include "tap.h"

#define GAP 10

/* Widths derived from the id so that every list agrees on an id's width
 * and the widths differ (a wrong index would show). */
static int32_t width_of_id(uint64_t id)
{
    return (int32_t)(60 + (id * 37) % 90);
}

static int measure_calls;

static int32_t measure_ids(void *ctx, size_t index)
{
    const uint64_t *ids = ctx;
    measure_calls++;
    return width_of_id(ids[index]);
}

/* The layout's measure callback reads the layout's own current list. */
static int32_t measure_layout(void *ctx, size_t index)
{
    const struct scroll_layout *l = ctx;
    measure_calls++;
    return width_of_id(l->ids[index]);
}

static void layout_new(struct scroll_layout *l, const uint64_t *ids, size_t n)
{
    scroll_layout_init(l, 0, GAP, measure_layout, NULL);
    l->ctx = l;
    scroll_layout_adopt(l, ids, n, -INFINITY);
}

/* Entries are contiguous: each starts where the previous one's separator
 * ends, so no gap is ever larger than a separator. */
static int contiguous(const struct scroll_layout *l)
{
    for (size_t i = 1; i < l->n; i++)
        if (l->e[i].start != l->e[i - 1].start + l->e[i - 1].width + GAP)
            return 0;
    return 1;
}

/* ---- clock ---- */

static void test_clock(void)
{
    struct scroll_clock c;
    scroll_clock_init(&c, 120);
    CHECK(fabs(scroll_clock_offset(&c, 0)) < 1e-9);
    CHECK(fabs(scroll_clock_offset(&c, 2.5) - 300) < 1e-9);
    /* A speed change does not move the text at that moment. */
    double before = scroll_clock_offset(&c, 10);
    scroll_clock_set_speed(&c, 10, 60);
    CHECK(fabs(scroll_clock_offset(&c, 10) - before) < 1e-9);
    CHECK(fabs(scroll_clock_offset(&c, 11) - (before + 60)) < 1e-9);

    /* snap: whole pixels per refresh, at least one. */
    CHECK(fabs(scroll_snap_speed(120, 60) - 120) < 1e-9);
    CHECK(fabs(scroll_snap_speed(100, 60) - 120) < 1e-9); /* 1.67 -> 2 px */
    CHECK(fabs(scroll_snap_speed(80, 60) - 60) < 1e-9);   /* 1.33 -> 1 px */
    CHECK(fabs(scroll_snap_speed(10, 60) - 60) < 1e-9);   /* never 0 px */
    CHECK(fabs(scroll_snap_speed(90.5, 59.94) - 2 * 59.94) < 1e-9);
    CHECK(fabs(scroll_snap_speed(130, 0) - 130) < 1e-9); /* unknown rate */
    CHECK(fabs(scroll_snap_speed(150, 144) - 144) < 1e-9);
}

/* ---- frame rate independence ---- */

struct run_result {
    double offset;
    size_t n;
    uint64_t ids[64];
    int64_t starts[64];
};

/* Runs frames at the given times up to t_end (inclusive) and records the
 * layout at the end. */
static void run_frames(const double *times, size_t n_times, struct run_result *out)
{
    static const uint64_t ids[] = {11, 22, 33, 44, 55, 66, 77};
    struct scroll_layout l;
    layout_new(&l, ids, 7);
    struct scroll_clock c;
    scroll_clock_init(&c, 97.3);
    const double view = 400;
    for (size_t i = 0; i < n_times; i++) {
        double off = scroll_clock_offset(&c, times[i]);
        scroll_layout_advance(&l, off, off + view, off + view);
    }
    out->offset = scroll_clock_offset(&c, times[n_times - 1]);
    out->n = l.n;
    for (size_t i = 0; i < l.n && i < 64; i++) {
        out->ids[i] = l.e[i].id;
        out->starts[i] = l.e[i].start;
    }
    CHECK(contiguous(&l));
    scroll_layout_free(&l);
}

static int same_result(const struct run_result *a, const struct run_result *b)
{
    if (fabs(a->offset - b->offset) > 1e-6 || a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->ids[i] != b->ids[i] || a->starts[i] != b->starts[i])
            return 0;
    return 1;
}

static void test_refresh_rates(void)
{
    static double times[20000];
    const double t_end = 37.0;
    struct run_result ref, got;

    /* 60 Hz */
    size_t n = 0;
    for (int k = 0; k <= 60 * 37; k++)
        times[n++] = k / 60.0;
    times[n - 1] = t_end;
    run_frames(times, n, &ref);
    CHECK(ref.n > 0);
    CHECK(fabs(ref.offset - 97.3 * t_end) < 1e-6);

    /* 144 Hz, 30 Hz, 24 Hz */
    static const int rates[] = {144, 30, 24};
    for (size_t r = 0; r < 3; r++) {
        n = 0;
        for (int k = 0; k <= rates[r] * 37; k++)
            times[n++] = (double)k / rates[r];
        times[n - 1] = t_end;
        run_frames(times, n, &got);
        CHECK(same_result(&ref, &got));
    }

    /* Irregular frames, with late ones (a 3 s stall and a 40 s one would
     * skip whole loops): text is where time says, not where frames say. */
    n = 0;
    double t = 0;
    unsigned seed = 12345;
    while (t < t_end) {
        times[n++] = t;
        seed = seed * 1103515245u + 12345u;
        double dt = (5 + (seed >> 16) % 40) / 1000.0;
        if (n == 100)
            dt = 3.0;
        t += dt;
    }
    times[n++] = t_end;
    run_frames(times, n, &got);
    CHECK(same_result(&ref, &got));

    /* One single frame at t_end (a screenshot) */
    times[0] = t_end;
    run_frames(times, 1, &got);
    CHECK(same_result(&ref, &got));
}

/* ---- seamless loop ---- */

static void test_wrap(void)
{
    static const uint64_t ids[] = {1, 2, 3};
    struct scroll_layout l;
    layout_new(&l, ids, 3);
    int64_t cycle = 0;
    for (int i = 0; i < 3; i++)
        cycle += width_of_id(ids[i]) + GAP;

    /* Frame by frame over several loops: order 1,2,3,1,2,3... and entries
     * touch (separator only) across the wrap. */
    uint64_t last_seen = 0;
    size_t transitions = 0, wraps = 0;
    int ok_order = 1, ok_contig = 1, ok_cover = 1;
    int64_t prev_start = -1, prev_end = 0;
    for (double off = 0; off < 5.5 * (double)cycle; off += 7.25) {
        scroll_layout_advance(&l, off, off + 300, off + 300);
        ok_contig &= contiguous(&l);
        for (size_t i = 0; i < l.n; i++) {
            if (l.e[i].start <= prev_start)
                continue;
            if (last_seen) {
                uint64_t want = last_seen % 3 + 1;
                ok_order &= l.e[i].id == want;
                ok_order &= l.e[i].start == prev_end;
                wraps += last_seen == 3;
            }
            last_seen = l.e[i].id;
            prev_start = l.e[i].start;
            prev_end = l.e[i].start + l.e[i].width + GAP;
            transitions++;
        }
        /* the whole view is covered, from lo to hi */
        ok_cover &= l.n > 0 && (double)l.e[0].start <= off &&
                    (double)(l.e[l.n - 1].start + l.e[l.n - 1].width + GAP) >= off + 300;
    }
    CHECK(ok_cover);
    CHECK(ok_order);
    CHECK(ok_contig);
    CHECK(wraps >= 4);
    CHECK(transitions >= 15);

    /* Every width was measured once, however many loops. */
    CHECK_INT(l.n_measured, 3);

    /* A jump of 1000 loops lands exactly where stepping would: loop
     * arithmetic is exact. */
    double far = 1000.0 * (double)cycle + 123.5;
    scroll_layout_advance(&l, far, far + 300, far + 300);
    CHECK(l.n > 0);
    CHECK((double)l.e[0].start <= far);
    CHECK((double)(l.e[0].start + l.e[0].width + GAP) > far);
    /* position within the loop: 123.5 px into it; tape started at 0 with id 1 */
    int64_t in_loop = 123;
    uint64_t want = 0;
    int64_t acc = 0;
    for (int i = 0; i < 3; i++) {
        int64_t adv = width_of_id(ids[i]) + GAP;
        if (in_loop < acc + adv) {
            want = ids[i];
            break;
        }
        acc += adv;
    }
    CHECK_INT(l.e[0].id, want);
    CHECK_INT(l.e[0].start, 1000 * cycle + acc);
    scroll_layout_free(&l);
}

/* ---- splice (live updates) ---- */

struct splice_case {
    const char *name;
    uint64_t old_ids[8];
    size_t n_old;
    double offset; /* where the screen is when the new list comes */
    uint64_t new_ids[8];
    size_t n_new;
    uint64_t want[12]; /* ids from the first on screen on, 0-terminated */
};

/* Widths in this table: all 100 + gap 10 = 110 per entry, screen 250 px
 * wide. At offset 0 the screen shows [0, 250): entries at 0, 110 (on
 * screen) and 220 (entering). Lookahead places one more at 330. */
static int32_t measure_flat(void *ctx, size_t index)
{
    return 100;
}

static const struct splice_case splice_cases[] = {
    {"entering id in new list: continue after it",
     {1, 2, 3, 4, 5},
     5,
     0,
     {9, 3, 7, 8},
     4,
     {1, 2, 3, 7, 8, 9, 3, 7}},
    {"entering id not in new list: start of new list",
     {1, 2, 3, 4, 5},
     5,
     0,
     {7, 8, 9},
     3,
     {1, 2, 3, 7, 8, 9, 7, 8}},
    {"entering id is the new list's last: wrap to its first",
     {1, 2, 3, 4, 5},
     5,
     0,
     {7, 3},
     2,
     {1, 2, 3, 7, 3, 7, 3}},
    {"same list: nothing changes",
     {1, 2, 3, 4, 5},
     5,
     0,
     {1, 2, 3, 4, 5},
     5,
     {1, 2, 3, 4, 5, 1, 2, 3}},
    {"removed headlines on screen finish their pass",
     {1, 2, 3, 4, 5},
     5,
     0,
     {4, 5},
     2,
     {1, 2, 3, 4, 5, 4, 5}},
    {"later in the loop, partly scrolled",
     {1, 2, 3, 4, 5},
     5,
     500, /* screen [500, 750): entries at 440 (id 5), 550 (1), 660 (2, entering) */
     {2, 6, 1},
     3,
     {5, 1, 2, 6, 1, 2, 6}},
    {"empty new list: what is on screen finishes, nothing follows",
     {1, 2, 3},
     3,
     0,
     {0},
     0,
     {1, 2, 3}},
    {"list from empty: starts at the new list's first",
     {0},
     0,
     0,
     {4, 5, 6},
     3,
     {4, 5, 6, 4, 5, 6}},
};

static void test_splice_table(void)
{
    for (size_t c = 0; c < sizeof splice_cases / sizeof splice_cases[0]; c++) {
        const struct splice_case *k = &splice_cases[c];
        struct scroll_layout l;
        scroll_layout_init(&l, 0, GAP, measure_flat, NULL);
        scroll_layout_adopt(&l, k->old_ids, k->n_old, -INFINITY);
        const double view = 250, ahead = 100;
        scroll_layout_advance(&l, k->offset, k->offset + view, k->offset + view + ahead);
        /* on-screen positions before the swap */
        size_t n_before = l.n;
        int64_t starts_before[16];
        uint64_t ids_before[16];
        for (size_t i = 0; i < l.n && i < 16; i++) {
            starts_before[i] = l.e[i].start;
            ids_before[i] = l.e[i].id;
        }

        scroll_layout_adopt(&l, k->new_ids, k->n_new, k->offset + view);
        /* what was on screen did not move */
        int unmoved = 1;
        for (size_t i = 0; i < l.n && i < n_before; i++)
            unmoved &= l.e[i].start == starts_before[i] && l.e[i].id == ids_before[i];
        if (!unmoved)
            fprintf(stderr, "case '%s': on-screen entries moved\n", k->name);
        CHECK(unmoved);

        /* Walk forward far enough to see the whole wanted sequence. */
        size_t n_want = 0;
        while (n_want < 12 && k->want[n_want])
            n_want++;
        uint64_t got[64];
        size_t n_got = 0;
        int64_t last_start = INT64_MIN;
        int contig = 1;
        int64_t prev_end = 0;
        for (double off = k->offset; off < k->offset + 110.0 * 14; off += 25) {
            scroll_layout_advance(&l, off, off + view, off + view + ahead);
            for (size_t i = 0; i < l.n; i++) {
                if (l.e[i].start <= last_start)
                    continue;
                if (n_got > 0)
                    contig &= l.e[i].start == prev_end;
                last_start = l.e[i].start;
                prev_end = l.e[i].start + l.e[i].width + GAP;
                if (n_got < 64)
                    got[n_got++] = l.e[i].id;
            }
        }
        int match = n_got >= n_want;
        for (size_t i = 0; match && i < n_want; i++)
            match = got[i] == k->want[i];
        if (k->n_new == 0)
            match = match && n_got == n_want; /* nothing may follow */
        if (!match) {
            fprintf(stderr, "case '%s': got", k->name);
            for (size_t i = 0; i < n_got && i < 12; i++)
                fprintf(stderr, " %llu", (unsigned long long)got[i]);
            fprintf(stderr, "\n");
        }
        CHECK(match);
        CHECK(contig);
        scroll_layout_free(&l);
    }
}

/* Widths of ids already measured carry over to the new list; only new ids
 * are measured, and lazily (as they approach), not all at adoption. */
static void test_width_cache(void)
{
    enum { N = 10000 };
    static uint64_t a[N], b[N];
    for (size_t i = 0; i < N; i++) {
        a[i] = 1000 + i;
        b[i] = 1000 + (i + 5) % N; /* same ids, rotated */
    }
    struct scroll_layout l;
    scroll_layout_init(&l, 0, GAP, measure_ids, a);
    measure_calls = 0;
    scroll_layout_adopt(&l, a, N, -INFINITY);
    CHECK_INT(measure_calls, 0); /* lazy */
    scroll_layout_advance(&l, 0, 1000, 1000);
    int first = measure_calls;
    CHECK(first > 0 && first < 30);
    /* new list (nothing kept on screen): the measure callback reads b */
    l.ctx = b;
    scroll_layout_adopt(&l, b, N, -INFINITY);
    CHECK_INT(l.n_measured, first);
    measure_calls = 0;
    scroll_layout_advance(&l, 0, 1000, 1000);
    /* only ids not seen in the first pass were measured */
    int unseen = 0;
    for (size_t i = 0; i < l.n; i++)
        unseen += l.e[i].id >= (uint64_t)(1000 + first);
    CHECK_INT(l.e[0].id, 1005);
    CHECK(unseen < (int)l.n);
    CHECK_INT(measure_calls, unseen);
    CHECK_INT(scroll_layout_find(&l, 1000), N - 5);
    CHECK_INT(scroll_layout_find(&l, 42), SCROLL_NONE);
    scroll_layout_free(&l);
}

/* Reflow (new font): the first entry on screen keeps its start, and is
 * re-measured with the new widths. */
static int32_t wide;
static int32_t measure_var(void *ctx, size_t index)
{
    return wide;
}

static void test_reflow(void)
{
    static const uint64_t ids[] = {1, 2, 3, 4};
    struct scroll_layout l;
    wide = 100;
    scroll_layout_init(&l, 0, GAP, measure_var, NULL);
    scroll_layout_adopt(&l, ids, 4, -INFINITY);
    scroll_layout_advance(&l, 150, 500, 500);
    CHECK_INT(l.e[0].id, 2);
    CHECK_INT(l.e[0].start, 110);
    wide = 200;
    scroll_layout_reflow(&l, 150, 20);
    scroll_layout_advance(&l, 150, 500, 500);
    CHECK_INT(l.e[0].id, 2);
    CHECK_INT(l.e[0].start, 110);
    CHECK_INT(l.e[0].width, 200);
    CHECK_INT(l.e[1].id, 3);
    CHECK_INT(l.e[1].start, 330);
    scroll_layout_free(&l);
}

/* ---- widths that arrive late (the text worker) ---- */

/* Width 100 for every item whose flag is set, else not ready yet. */
static bool ready[16];
static int32_t measure_when_ready(void *ctx, size_t index)
{
    return ready[index] ? 100 : SCROLL_NOT_READY;
}

static void layout_lazy(struct scroll_layout *l, size_t n)
{
    static const uint64_t ids[] = {1, 2, 3, 4, 5, 6, 7, 8};
    scroll_layout_init(l, 0, GAP, measure_when_ready, NULL);
    scroll_layout_adopt(l, ids, n, -INFINITY);
}

/* Screen 250 px wide, 100 px of look-ahead; entries are 110 px apart. */
static void advance_at(struct scroll_layout *l, double off)
{
    scroll_layout_advance(l, off, off + 250, off + 350);
}

static const struct scroll_entry *entry_with_id(const struct scroll_layout *l, uint64_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].id == id)
            return &l->e[i];
    return NULL;
}

static void test_not_ready(void)
{
    struct scroll_layout l;

    /* Start-up: nothing measured; whatever arrives while it is still on
     * screen appears where it belongs (that tape was never shown). */
    memset(ready, 0, sizeof ready);
    layout_lazy(&l, 8);
    advance_at(&l, 0);
    CHECK_INT(l.n, 0);
    CHECK(l.blocked);
    ready[0] = ready[1] = true;
    advance_at(&l, 30);
    CHECK_INT(l.n, 2);
    CHECK_INT(l.e[0].start, 0);
    CHECK_INT(l.e[1].start, 110);
    CHECK_INT(l.waits, 0);

    /* Id 3 is due at 220, on the (fresh) screen [30, 280): in place too. */
    ready[2] = true;
    advance_at(&l, 40);
    CHECK(entry_with_id(&l, 3) && entry_with_id(&l, 3)->start == 220);
    CHECK_INT(l.waits, 0);

    /* Id 4 is due at 330: not ready while it is ahead of the screen. Ready
     * before the screen reaches it (edge 320 < 330): placed where due. */
    advance_at(&l, 70); /* edge 320, look-ahead to 420: id 4 is wanted */
    CHECK(l.blocked);
    CHECK(!l.fresh);
    ready[3] = true;
    advance_at(&l, 75);
    CHECK(entry_with_id(&l, 4) && entry_with_id(&l, 4)->start == 330);
    CHECK_INT(l.waits, 0);

    /* Id 5 is due at 440 and still not ready when the screen's entry edge
     * has passed it (edge 500.5): the tape waited; it enters at the edge. */
    advance_at(&l, 150); /* edge 400, look-ahead 500: blocked on id 5 */
    CHECK(l.blocked);
    advance_at(&l, 250.5);
    CHECK(entry_with_id(&l, 5) == NULL); /* nothing placed after the gap */
    ready[4] = true;
    advance_at(&l, 250.5);
    CHECK(entry_with_id(&l, 5) && entry_with_id(&l, 5)->start == 501);
    CHECK_INT(l.waits, 1);
    CHECK(!l.blocked);
    /* and the tape goes on from there, contiguous */
    for (int i = 5; i < 8; i++)
        ready[i] = true;
    advance_at(&l, 400);
    CHECK(entry_with_id(&l, 6) && entry_with_id(&l, 6)->start == 611);
    CHECK(entry_with_id(&l, 7) && entry_with_id(&l, 7)->start == 721);
    scroll_layout_free(&l);

    /* Fresh tape, but the exit edge passed the entry before it was ready
     * (a look change that took long): it enters at the edge, not off the
     * left of the screen. */
    memset(ready, 0, sizeof ready);
    layout_lazy(&l, 8);
    advance_at(&l, 0);
    ready[0] = true;
    advance_at(&l, 1000);
    CHECK(l.n == 1 && l.e[0].start == 1250);
    CHECK_INT(l.waits, 1);
    scroll_layout_free(&l);

    /* A gap on screen (id 3 not ready when due) and a new list comes: the
     * new list's next entry, already measured, does not appear in the gap
     * mid-screen: it enters at the edge. */
    memset(ready, 0, sizeof ready);
    ready[0] = ready[1] = true;
    layout_lazy(&l, 8);
    advance_at(&l, 0);
    advance_at(&l, 0); /* blocked on id 3, fresh ended? no: tail 220 < 250 */
    CHECK(l.blocked);
    advance_at(&l, 10);
    static const uint64_t next_ids[] = {2, 9};
    scroll_layout_adopt(&l, next_ids, 2, 260);
    l.measure = measure_flat;
    advance_at(&l, 20);
    CHECK(entry_with_id(&l, 9) != NULL);
    CHECK(entry_with_id(&l, 9)->start >= 220);
    scroll_layout_free(&l);
}

/* ---- any t: the cost of a jump does not grow with it ---- */

static void test_far(void)
{
    static const uint64_t ids[] = {11, 22, 33, 44, 55, 66, 77};
    const size_t n = 7;
    int64_t cycle = 0;
    for (size_t i = 0; i < n; i++)
        cycle += width_of_id(ids[i]) + GAP;

    static const double loops[] = {3, 1e3, 1e6, 1e9, 1e12, 1e14};
    uint64_t steps[6];
    for (size_t k = 0; k < 6; k++) {
        struct scroll_layout l;
        layout_new(&l, ids, n);
        measure_calls = 0;
        /* 37 px into the loop, loops[k] loops on */
        double off = loops[k] * (double)cycle + 37;
        scroll_layout_advance(&l, off, off + 400, off + 400);
        steps[k] = l.steps;
        /* each width measured once, whatever the distance */
        CHECK_INT(measure_calls, (int)n);
        CHECK(l.n > 0 && (double)l.e[0].start <= off &&
              (double)(l.e[0].start + l.e[0].width + GAP) > off);
        /* exact where doubles are exact (below 2^53): 37 px into loop k,
         * so the first entry is the first id (its width is more than 37) */
        if (off < 9007199254740992.0) {
            CHECK_INT(l.e[0].id, 11);
            CHECK_INT(l.e[0].start, (int64_t)loops[k] * cycle);
        }
        CHECK(contiguous(&l));
        scroll_layout_free(&l);
    }
    /* the same number of steps from 3 loops to 10^14 loops: at most a
     * loop learning the widths and two loops after the skip */
    for (size_t k = 0; k < 6; k++)
        CHECK(steps[k] <= 3 * n + 1);
    CHECK(steps[5] <= steps[1] + n);

    /* No t makes it spin or overflow: infinities and NaN are clamped. */
    static const double odd[] = {INFINITY, -INFINITY, NAN, 1e300};
    for (size_t k = 0; k < 4; k++) {
        struct scroll_layout l;
        layout_new(&l, ids, n);
        scroll_layout_advance(&l, odd[k], odd[k] + 400, odd[k] + 400);
        CHECK(l.steps <= 3 * n + 1);
        CHECK(l.n < 16);
        scroll_layout_free(&l);
    }
}

int main(void)
{
    test_clock();
    test_refresh_rates();
    test_wrap();
    test_splice_table();
    test_width_cache();
    test_reflow();
    test_not_ready();
    test_far();
    return tap_done();
}
