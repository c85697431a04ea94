/*
 * test_sched: refresh intervals, TTL as a lower bound, exponential back-off
 * with bounded jitter, Retry-After, and the start-up delay.
 */
#include "schedule.h"
#include "tap.h"

int main(void)
{
    struct schedule_state st = {0, 42};
    CHECK_INT(schedule_after_success(&st, 900, 0), 900);
    CHECK_INT(schedule_after_success(&st, 900, 60), 3600); /* ttl 60 min > refresh */
    CHECK_INT(schedule_after_success(&st, 900, 5), 900);   /* ttl below refresh: refresh */

    /* Back-off doubles from 30 s, each within ±20 %, capped at max(refresh, 1 h). */
    long long base = 30;
    for (int i = 0; i < 12; i++) {
        long long d = schedule_after_failure(&st, 900, 0);
        long long want = base > 3600 ? 3600 : base;
        CHECK(d >= want - want / 5 && d <= want + want / 5);
        base *= 2;
    }
    CHECK_INT(st.failures, 12);
    CHECK_INT(schedule_after_success(&st, 900, 0), 900);
    CHECK_INT(st.failures, 0);
    /* A refresh longer than an hour is the cap. */
    st.failures = 20;
    long long d = schedule_after_failure(&st, 6 * 3600, 0);
    CHECK(d >= 6 * 3600 - 6 * 3600 / 5 && d <= 6 * 3600 + 6 * 3600 / 5);
    /* Retry-After is a lower bound. */
    st.failures = 0;
    CHECK_INT(schedule_after_failure(&st, 900, 120), 120);
    /* Jitter really varies (two boards do not retry in lockstep). */
    struct schedule_state a = {3, 1}, b = {3, 2};
    int differ = 0;
    for (int i = 0; i < 5; i++) {
        a.failures = b.failures = 3;
        differ += schedule_after_failure(&a, 900, 0) != schedule_after_failure(&b, 900, 0);
    }
    CHECK(differ > 0);

    CHECK_INT(schedule_initial_delay(1000, 0, 900, 0), 0);
    CHECK_INT(schedule_initial_delay(1000, 400, 900, 0), 300);
    CHECK_INT(schedule_initial_delay(1000, 50, 900, 0), 0);
    CHECK_INT(schedule_initial_delay(1000, 5000, 900, 0), 0); /* clock went back */
    CHECK_INT(schedule_initial_delay(1000, 900, 60, 10), 500);
    return tap_done();
}
