/*
 * scroll: where every headline is on the ticker at a given time. Pure (no
 * SDL), so the timing and the splicing of live updates are unit-tested.
 *
 * The ticker is a tape: headlines laid end to end, each followed by the
 * separator, looping over the current list. A tape coordinate is an
 * integer pixel (widths are whole pixels, so sums are exact and the same
 * whatever the frame rate). The clock maps time to the tape offset at the
 * screen's exit edge; the screen shows tape [offset, offset + width).
 * Direction only mirrors tape to screen (the display's business).
 *
 * The layout keeps only the entries near the screen (a few dozen at most,
 * whatever the list length) and places the next ones as they approach.
 *
 * Widths come from elsewhere (the text worker shapes off the render
 * thread), so an entry may not be measured yet when its turn comes: the
 * layout then places nothing after it until it is (never a guessed width:
 * what follows would jump). Once measured it goes where it was due if that
 * is still ahead of the screen, or still (partly) on a part of the tape no
 * frame has shown yet (start-up, after a reflow); otherwise the tape waited
 * for it and it enters at the screen's entry edge: a wider gap, counted in
 * `waits`, never a held frame and never text appearing mid-screen.
 */
#ifndef KT_SCROLL_H
#define KT_SCROLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hashset.h"

/* ---- clock: offset is a pure function of time ---- */

struct scroll_clock {
    double t0;    /* seconds: when the current speed took effect */
    double base;  /* tape offset at t0, px */
    double speed; /* px per second */
};

void scroll_clock_init(struct scroll_clock *c, double speed);
/* Changes the speed from time t on without moving the text. */
void scroll_clock_set_speed(struct scroll_clock *c, double t, double speed);
double scroll_clock_offset(const struct scroll_clock *c, double t);
/* speed rounded to a whole number (at least 1) of pixels per refresh;
 * unchanged when the refresh rate is unknown (<= 0). */
double scroll_snap_speed(double speed, double refresh_hz);

/* ---- layout: the entries near the screen ---- */

#define SCROLL_NONE ((size_t)-1)

struct scroll_entry {
    uint64_t id;   /* headline id */
    int64_t start; /* tape px of its first column */
    int32_t width; /* its text in px; the separator follows */
    uint32_t list; /* serial of the list it was placed from */
    size_t index;  /* its index in that list */
    int32_t user;  /* the caller's (a texture slot); -1 when placed */
};

/* Width in px of item `index` of the current list (>= 0), or
 * SCROLL_NOT_READY when it is not known yet (ask again later). */
#define SCROLL_NOT_READY (-1)
typedef int32_t (*scroll_measure_fn)(void *ctx, size_t index);

/* Fields are read-only for callers (use the functions). */
struct scroll_layout {
    struct scroll_entry *e; /* placed entries, in tape order */
    size_t n, cap;
    int64_t tail; /* where the next entry starts */
    size_t next;  /* index in the list of the next entry */
    int32_t gap;  /* separator width */
    uint32_t serial;
    /* current list */
    uint64_t *ids;
    int32_t *widths; /* -1 = not measured yet */
    size_t n_list;
    struct hashset index; /* id -> position in ids */
    size_t n_measured;
    int64_t measured_sum;      /* sum of advances measured so far */
    scroll_measure_fn measure; /* may be NULL: widths set by scroll_layout_set_width */
    void *ctx;
    bool blocked; /* placement stopped at an entry not measured yet */
    bool fresh;   /* the tape after `tail` is on no frame yet (see the top) */
    /* Nothing is shown until placement is complete (a screenshot, a test):
     * a late entry then always goes where it was due. */
    bool patient;
    uint64_t placed; /* entries placed so far (statistics) */
    uint64_t waits;  /* times the tape waited for an entry (statistics) */
    uint64_t steps;  /* entries stepped over while catching up (statistics) */
};

void scroll_layout_init(struct scroll_layout *l, int64_t origin, int32_t gap,
                        scroll_measure_fn measure, void *ctx);
void scroll_layout_free(struct scroll_layout *l);

/* Takes a new list (ids copied). Entries that started before tape
 * coordinate `edge` (the screen's entry edge: what is already on screen)
 * stay as they are; the rest are dropped, and the tape continues with the
 * new list after the last kept entry's id when the new list has it, else
 * from the new list's start. Widths of ids already measured carry over. */
void scroll_layout_adopt(struct scroll_layout *l, const uint64_t *ids, size_t n, double edge);

/* Drops entries wholly before lo (separator included) and places entries
 * until the tape is covered up to hi (>= edge, the screen's entry edge;
 * the rest is look-ahead). A jump far ahead (a late frame, a screenshot
 * at any t) skips without placing what it would drop at once; its cost
 * does not grow with the jump: whole loops of the list are skipped
 * arithmetically once every width is known. Coordinates are clamped to
 * +-2^62 px (a NaN counts as 0), so no t makes it spin or overflow. */
void scroll_layout_advance(struct scroll_layout *l, double lo, double edge, double hi);

/* After a change of font or separator: forgets every width, and restarts
 * the tape at the first entry that ends after lo and is in the current
 * list, keeping its start (the text there does not jump). */
void scroll_layout_reflow(struct scroll_layout *l, double lo, int32_t gap);

/* Back to an empty tape starting at origin with a new separator width,
 * the list kept and every width forgotten (a first font). */
void scroll_layout_reset(struct scroll_layout *l, int64_t origin, int32_t gap);

/* Index of id in the current list, or SCROLL_NONE. */
size_t scroll_layout_find(const struct scroll_layout *l, uint64_t id);
/* Width of item index of the current list (measured once), or
 * SCROLL_NOT_READY. */
int32_t scroll_layout_width(struct scroll_layout *l, size_t index);
/* Records the width of item index (at least 1 px) unless known already. */
void scroll_layout_set_width(struct scroll_layout *l, size_t index, int32_t width);

#endif
