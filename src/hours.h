/*
 * hours: office hours and day-parts in local time, e.g.
 * "Mon-Fri 07:00-19:30, Sat 09:00-14:00". Pure logic: the C library's
 * localtime_r is the only time zone source (TZ honoured; the caller runs
 * tzset() once, as localtime_r need not), so `[display] on =`, `show =` on
 * [feed]/[alert] sections and a message's "show" field share one parser
 * and are tested without a clock.
 *
 * Syntax (case-insensitive; docs/screen.md):
 *   always | never | off | ENTRY [, ENTRY]...
 *   ENTRY = DAYS | TIMES | DAYS TIMES
 *   DAYS  = DAY[-DAY] [, DAY[-DAY]]...   Mon..Sun or Monday..Sunday;
 *           a range may wrap (Fri-Mon); daily or * is every day
 *   TIMES = HH:MM-HH:MM   00:00..24:00; an end at or before the start
 *           ends on the next day (Fri 22:00-02:00 is Friday 22:00 to
 *           Saturday 02:00); DAYS alone is the whole day
 * Days before the first time belong to that entry: "Sat, Sun 10:00-12:00"
 * is one entry for both days (so whole days go last, or as 00:00-24:00).
 * TIMES alone is every day. Overlapping and touching ranges merge.
 *
 * Local times and daylight saving time: the schedule follows the clock on
 * the wall, and a start or end time means the first instant at which the
 * local clock shows that time of that day or later. So a time the clock
 * skips (02:30 on a spring-forward night) means the end of the gap (03:00
 * summer time), and a time it shows twice (01:30 on a fall-back night in
 * New York) means the first time: a range is never on twice in one night,
 * and one lying wholly in a skipped hour does not happen that night.
 * --now uses the same rule (hours_parse_now).
 */
#ifndef KT_HOURS_H
#define KT_HOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HOURS_MAX_RANGES 32
/* Longest canonical text hours_format writes, NUL included. */
#define HOURS_FORMAT_MAX (HOURS_MAX_RANGES * 32)

enum hours_kind {
    HOURS_ALWAYS = 0, /* a zeroed struct hours is "always" */
    HOURS_NEVER,
    HOURS_RANGES,
};

struct hours_range {
    uint8_t days;   /* bit d set: on weekday d (0 = Sunday, as tm_wday) */
    uint16_t start; /* minutes after local midnight, 0..1439 */
    uint16_t end;   /* 1..1440; at or before start: ends the next day */
};

/* A value: copy it, embed it, no free. Read the fields, build it with
 * hours_parse. */
struct hours {
    enum hours_kind kind;
    int n; /* ranges, in the order written (HOURS_RANGES only) */
    struct hours_range r[HOURS_MAX_RANGES];
};

/* Parses s into *out. On error returns -1 and err says where ("column 5:
 * \"Fir\" is not a day (Mon…Sun)"); the caller prefixes the key. */
int hours_parse(const char *s, struct hours *out, char *err, size_t errlen);

/* Is the schedule on at `now`? Ranges count in the years 1900…9999 only
 * (beyond them a schedule of ranges is off and never changes). */
bool hours_is_on(const struct hours *h, time_t now);

/* The first instant after `now` at which hours_is_on differs from its value
 * at `now`; false when it never changes (always, never, or on every minute
 * of the week). The state is constant on [now, *next). */
bool hours_next_change(const struct hours *h, time_t now, time_t *next);

/* Same schedule (the same ranges in the same order). */
bool hours_equal(const struct hours *a, const struct hours *b);

/* Canonical text ("Mon-Fri 07:00-19:30, Sat 09:00-14:00"), which
 * hours_parse reads back to the same value. snprintf-like: returns the
 * length the text needs; writes at most outlen bytes, NUL included. */
size_t hours_format(const struct hours *h, char *out, size_t outlen);

/* --now: "YYYY-MM-DDTHH:MM[:SS]" (a space instead of the T too) in local
 * time, with the rule above for skipped and repeated times; or the same
 * with a zone ("...Z", "...+01:00"), which is taken as it says. */
int hours_parse_now(const char *s, time_t *out, char *err, size_t errlen);

/* The first instant at which the local clock shows the wall time `wall`
 * (seconds since 1970-01-01 00:00 on the wall, no zone; years 1900…9999)
 * or later. */
time_t hours_local_to_time(int64_t wall);

#endif
