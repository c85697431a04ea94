/*
 * schedule: when to fetch a feed next. Pure logic, so back-off and TTL rules
 * are tested without waiting.
 *
 * After a success the next fetch is `refresh` later, but never sooner
 * than the feed's RSS <ttl>. After a failure it backs off exponentially
 * from 30 s with ±20 % jitter (so many boards that lost the network at the
 * same moment do not return in lockstep), capped at the larger of refresh
 * and one hour; a Retry-After from the server is a lower bound.
 */
#ifndef KT_SCHEDULE_H
#define KT_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

struct schedule_state {
    int failures; /* consecutive failures */
    uint64_t rng; /* jitter generator state (xorshift) */
};

#define SCHEDULE_FIRST_RETRY 30
#define SCHEDULE_MAX_BACKOFF 3600

/* Seconds until the next fetch after an attempt. */
int64_t schedule_after_success(struct schedule_state *st, int64_t refresh, int ttl_minutes);
int64_t schedule_after_failure(struct schedule_state *st, int64_t refresh, int64_t retry_after);

/* Delay before the first fetch at start-up: none, unless the cache shows a
 * success less than `refresh` ago (so a restart loop does not hammer the
 * server); then the remainder. */
int64_t schedule_initial_delay(int64_t now, int64_t last_success, int64_t refresh, int ttl_minutes);

/* A wall clock earlier than this (2020-01-01) has not been set: a board
 * without a real-time clock boots at 1970 until NTP steps it. */
#define SCHEDULE_SANE_TIME 1577836800
/* A difference between the wall clock and the monotonic one larger than
 * this, between two readings, is a step (NTP slews smaller errors). */
#define SCHEDULE_STEP_SLACK 30

/* Watches the wall clock against a monotonic one (that counts suspend). */
struct schedule_clock {
    bool started;
    int64_t wall, mono; /* the last reading */
    int64_t since;      /* the wall time when the current clock was first read */
};

/* Feeds one reading of both clocks (seconds). Returns true when the wall
 * clock stepped since the last reading: by *delta seconds, and the wall
 * times recorded under the old clock lie within [*from, *to]. */
bool schedule_clock_step(struct schedule_clock *c, int64_t wall, int64_t mono, int64_t *delta,
                         int64_t *from, int64_t *to);

#endif
