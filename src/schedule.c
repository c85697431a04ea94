/*
 * schedule: see schedule.h.
 */
#include "schedule.h"

static int64_t interval(int64_t refresh, int ttl_minutes)
{
    int64_t ttl = (int64_t)ttl_minutes * 60;
    return ttl > refresh ? ttl : refresh;
}

int64_t schedule_after_success(struct schedule_state *st, int64_t refresh, int ttl_minutes)
{
    st->failures = 0;
    return interval(refresh, ttl_minutes);
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

int64_t schedule_after_failure(struct schedule_state *st, int64_t refresh, int64_t retry_after)
{
    int64_t cap = refresh > SCHEDULE_MAX_BACKOFF ? refresh : SCHEDULE_MAX_BACKOFF;
    int64_t delay = SCHEDULE_FIRST_RETRY;
    for (int i = 0; i < st->failures && delay < cap; i++)
        delay *= 2;
    if (delay > cap)
        delay = cap;
    if (st->failures < 64)
        st->failures++;
    /* ±20 % jitter */
    int64_t span = delay / 5;
    if (span > 0)
        delay += (int64_t)(xorshift(&st->rng) % (uint64_t)(2 * span + 1)) - span;
    if (retry_after > delay)
        delay = retry_after;
    return delay < 1 ? 1 : delay;
}

int64_t schedule_initial_delay(int64_t now, int64_t last_success, int64_t refresh, int ttl_minutes)
{
    if (last_success <= 0 || last_success > now)
        return 0;
    int64_t due = last_success + interval(refresh, ttl_minutes);
    return due > now ? due - now : 0;
}

bool schedule_clock_step(struct schedule_clock *c, int64_t wall, int64_t mono, int64_t *delta,
                         int64_t *from, int64_t *to)
{
    if (!c->started) {
        *c = (struct schedule_clock){true, wall, mono, wall};
        return false;
    }
    /* Where the wall clock would be had it only moved with the monotonic
     * one since the last reading. */
    int64_t expect = c->wall + (mono - c->mono);
    int64_t d = wall - expect;
    bool step = d > SCHEDULE_STEP_SLACK || d < -SCHEDULE_STEP_SLACK;
    if (step) {
        *delta = d;
        *from = c->since;
        *to = expect;
        c->since = wall;
    }
    c->wall = wall;
    c->mono = mono;
    return step;
}
