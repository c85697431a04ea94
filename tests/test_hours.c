/*
 * test_hours: src/hours.c against the cases in tests/data/hours/ and the
 * time zone rules of the installed tzdata.
 *
 *   parse.tsv   INPUT -> canonical text or error message
 *   now.tsv     TZ, --now INPUT -> instant or error message
 *   *.case      tz / hours lines, then "at INSTANT on|off NEXT|never"
 *
 * Expected instants are written with their UTC offset and read by date.c,
 * not by the code under test. Besides the cases, two properties hold for
 * any schedule and instant, and are checked over 2026 in four zones:
 * hours_local_to_time(L) is the first instant at which the clock shows L
 * or later (found here by walking minute by minute), and the state is
 * constant on [now, next change) and differs at the next change.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "hours.h"
#include "tap.h"
#include "tsv.h"
#include "util.h"

static const char *data_dir(void)
{
    const char *d = getenv("KT_TEST_DATA");
    return d ? d : "tests/data";
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static char *read_case(const char *dir, const char *name)
{
    char *path = kt_asprintf("%s/hours/%s", dir, name);
    char *data = NULL, err[KT_ERR_MAX];
    size_t len;
    if (kt_read_file(path, 1 << 20, &data, &len, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        CHECK(!"test data readable");
    }
    free(path);
    return data;
}

static time_t instant(const char *s, const char *where)
{
    int64_t t;
    if (!date_parse(s, &t)) {
        fprintf(stderr, "%s: bad instant \"%s\" in the test data\n", where, s);
        CHECK(!"instant in the test data parses");
        return 0;
    }
    return (time_t)t;
}

static void fmt_instant(time_t t, char *out, size_t n)
{
    date_format((int64_t)t, out, n);
}

/* ---- parse.tsv --------------------------------------------------------- */

static void test_parse_table(const char *dir)
{
    char *data = read_case(dir, "parse.tsv");
    int rows = 0, lineno = 0;
    char *cur = data, *line;
    while ((line = tsv_next(&cur, &lineno))) {
        char *f[2];
        if (tsv_fields(line, f, 2) != 2) {
            fprintf(stderr, "parse.tsv: row without a tab: %s\n", line);
            CHECK(!"parse.tsv row has two fields");
            continue;
        }
        rows++;
        struct hours h;
        char err[KT_ERR_MAX] = "";
        int rc = hours_parse(f[0], &h, err, sizeof err);
        if (strncmp(f[1], "error: ", 7) == 0) {
            const char *want = f[1] + 7;
            if (rc == 0 || !strstr(err, want)) {
                fprintf(stderr, "parse \"%s\": want an error with \"%s\", got rc %d \"%s\"\n", f[0],
                        want, rc, err);
                CHECK(!"parse error as expected");
            } else {
                CHECK(1);
            }
            continue;
        }
        if (rc != 0) {
            fprintf(stderr, "parse \"%s\": unexpected error \"%s\"\n", f[0], err);
            CHECK(!"parses");
            continue;
        }
        char canon[HOURS_FORMAT_MAX];
        size_t need = hours_format(&h, canon, sizeof canon);
        CHECK(need < sizeof canon);
        CHECK_STR(canon, f[1]);
        /* The canonical text is a fixed point and reads back to the value. */
        struct hours h2;
        CHECK_INT(hours_parse(canon, &h2, err, sizeof err), 0);
        CHECK(hours_equal(&h2, &h));
        /* A short buffer gets a cut, terminated text and the full length. */
        char tiny[6];
        CHECK_INT(hours_format(&h, tiny, sizeof tiny), need);
        CHECK(strlen(tiny) == (need < 5 ? need : 5));
    }
    CHECK(rows > 50);
    free(data);
}

/* ---- now.tsv ----------------------------------------------------------- */

static void test_now_table(const char *dir)
{
    char *data = read_case(dir, "now.tsv");
    int rows = 0, lineno = 0;
    char *cur = data, *line;
    while ((line = tsv_next(&cur, &lineno))) {
        char *f[3];
        if (tsv_fields(line, f, 3) != 3) {
            CHECK(!"now.tsv row has three fields");
            continue;
        }
        rows++;
        set_tz(f[0]);
        time_t t = 0;
        char err[KT_ERR_MAX] = "";
        int rc = hours_parse_now(f[1], &t, err, sizeof err);
        if (strncmp(f[2], "error: ", 7) == 0) {
            if (rc == 0 || !strstr(err, f[2] + 7)) {
                fprintf(stderr, "--now \"%s\" (%s): want an error with \"%s\", got rc %d \"%s\"\n",
                        f[1], f[0], f[2] + 7, rc, err);
                CHECK(!"--now error as expected");
            } else {
                CHECK(1);
            }
            continue;
        }
        time_t want = instant(f[2], "now.tsv");
        if (rc != 0 || t != want) {
            char a[32], b[32];
            fmt_instant(t, a, sizeof a);
            fmt_instant(want, b, sizeof b);
            fprintf(stderr, "--now \"%s\" (%s): got rc %d %s \"%s\", want %s\n", f[1], f[0], rc, a,
                    err, b);
            CHECK(!"--now instant");
        } else {
            CHECK(1);
        }
    }
    CHECK(rows > 20);
    free(data);
}

/* ---- *.case ------------------------------------------------------------ */

static int run_case(const char *dir, const char *name)
{
    char *data = read_case(dir, name);
    struct hours h = {0};
    bool have = false;
    int ats = 0, lineno = 0;
    char spec[512] = "";
    char *cur = data, *line;
    while ((line = tsv_next(&cur, &lineno))) {
        char *f[4];
        int nf = tsv_fields(line, f, 4);
        if (strcmp(f[0], "tz") == 0 && nf == 2) {
            set_tz(f[1]);
        } else if (strcmp(f[0], "hours") == 0 && nf == 2) {
            char err[KT_ERR_MAX];
            snprintf(spec, sizeof spec, "%s", f[1]);
            have = hours_parse(f[1], &h, err, sizeof err) == 0;
            if (!have)
                fprintf(stderr, "%s:%d: \"%s\": %s\n", name, lineno, f[1], err);
            CHECK(have);
        } else if (strcmp(f[0], "at") == 0 && nf == 4 && have) {
            ats++;
            time_t now = instant(f[1], name);
            bool want_on = strcmp(f[2], "on") == 0;
            CHECK(want_on || strcmp(f[2], "off") == 0);
            bool on = hours_is_on(&h, now);
            time_t next_change = 0;
            bool changes = hours_next_change(&h, now, &next_change);
            bool want_changes = strcmp(f[3], "never") != 0;
            time_t want_next = want_changes ? instant(f[3], name) : 0;
            if (on != want_on || changes != want_changes || (changes && next_change != want_next)) {
                char got[32] = "never";
                if (changes)
                    fmt_instant(next_change, got, sizeof got);
                fprintf(stderr, "%s:%d: \"%s\" at %s: got %s, next %s; want %s, next %s\n", name,
                        lineno, spec, f[1], on ? "on" : "off", got, f[2], f[3]);
                CHECK(!"case as expected");
            } else {
                CHECK(1);
            }
        } else {
            fprintf(stderr, "%s:%d: unknown line\n", name, lineno);
            CHECK(!"case line understood");
        }
    }
    free(data);
    return ats;
}

static void test_cases(const char *dir)
{
    char *path = kt_asprintf("%s/hours", dir);
    DIR *d = opendir(path);
    CHECK(d != NULL);
    int files = 0, ats = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".case") == 0) {
            files++;
            int n = run_case(dir, e->d_name);
            CHECK(n > 0);
            ats += n;
        }
    }
    if (d)
        closedir(d);
    free(path);
    printf("%d case files, %d instants\n", files, ats);
    CHECK(files >= 5);
}

/* ---- properties -------------------------------------------------------- */

static long offset_at(time_t t)
{
    struct tm tm;
    localtime_r(&t, &tm);
    return tm.tm_gmtoff;
}

/* Every wall minute of the days around each 2026 transition of the zone:
 * hours_local_to_time equals the first instant whose wall time is that
 * minute or later. Transitions fall on whole minutes, so walking real
 * time minute by minute finds that instant exactly. */
static void test_local_to_time(const char *tz, int year)
{
    set_tz(tz);
    time_t t0 = (time_t)date_from_fields(year, 1, 1, 0, 0, 0) - 86400;
    time_t t1 = (time_t)date_from_fields(year + 1, 1, 1, 0, 0, 0);
    int transitions = 0, checked = 0, bad = 0;
    for (time_t day = t0; day < t1; day += 86400) {
        if (offset_at(day) == offset_at(day + 86400))
            continue;
        transitions++;
        /* Walk from two days before to two days after. */
        time_t from = day - 2 * 86400, to = day + 3 * 86400;
        int64_t wall_first = ((int64_t)from + offset_at(from) + 86400) / 60 * 60;
        int64_t wall_last = wall_first + 3 * 86400;
        time_t t = from;
        for (int64_t L = wall_first; L < wall_last; L += 60) {
            while (t < to && (int64_t)t + offset_at(t) < L)
                t += 60;
            time_t got = hours_local_to_time(L);
            checked++;
            if (got != t && bad++ < 5) {
                char a[32], b[32];
                fmt_instant(got, a, sizeof a);
                fmt_instant(t, b, sizeof b);
                fprintf(stderr, "%s: wall %lld: got %s, want %s\n", tz, (long long)L, a, b);
            }
        }
    }
    printf("%s: %d transitions in %d, %d wall minutes checked\n", tz, transitions, year, checked);
    CHECK_INT(bad, 0);
    CHECK(transitions > 0 && checked > 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The state is constant up to the next change and differs at it; with no
 * change, the state holds for the 8 days sampled. */
static void test_next_change_property(const char *tz, const char *spec)
{
    set_tz(tz);
    struct hours h;
    char err[KT_ERR_MAX];
    CHECK_INT(hours_parse(spec, &h, err, sizeof err), 0);
    time_t t0 = (time_t)date_from_fields(2026, 1, 1, 0, 0, 0);
    int bad = 0, changes = 0;
    for (int i = 0; i < 400; i++) {
        time_t now = t0 + (time_t)(rng() % (366 * 86400));
        if (i % 4 == 0)
            now = now / 60 * 60; /* on minutes, where changes happen */
        bool on = hours_is_on(&h, now);
        time_t next;
        if (hours_next_change(&h, now, &next)) {
            changes++;
            bool ok = next > now && hours_is_on(&h, next) != on && hours_is_on(&h, next - 1) == on;
            for (int k = 1; k <= 8 && ok; k++)
                ok = hours_is_on(&h, now + (next - now) * k / 9) == on;
            if (!ok && bad++ < 3) {
                char a[32], b[32];
                fmt_instant(now, a, sizeof a);
                fmt_instant(next, b, sizeof b);
                fprintf(stderr, "%s \"%s\": at %s (%s) next change %s is wrong\n", tz, spec, a,
                        on ? "on" : "off", b);
            }
        } else {
            bool ok = true;
            for (int k = 1; k <= 8 * 24 && ok; k++)
                ok = hours_is_on(&h, now + k * 3600 - 1) == on;
            if (!ok && bad++ < 3)
                fprintf(stderr, "%s \"%s\": no change claimed, but the state changes\n", tz, spec);
        }
    }
    CHECK_INT(bad, 0);
    (void)changes;
}

static void test_struct_defaults(void)
{
    set_tz("UTC");
    /* A zeroed struct is "always": a config that sets nothing shows all. */
    struct hours zero = {0};
    time_t next;
    CHECK(hours_is_on(&zero, 1790000000));
    CHECK(!hours_next_change(&zero, 1790000000, &next));
    char out[32];
    hours_format(&zero, out, sizeof out);
    CHECK_STR(out, "always");
    /* An error leaves the output untouched. */
    struct hours h = {.kind = HOURS_NEVER};
    char err[KT_ERR_MAX];
    CHECK_INT(hours_parse("Mon-Fir", &h, err, sizeof err), -1);
    CHECK(h.kind == HOURS_NEVER);
    CHECK_INT(hours_parse("Mon-Fir", &h, NULL, 0), -1);
    /* Instants no clock shows: defined, off, no change. */
    CHECK_INT(hours_parse("daily 00:00-23:00", &h, err, sizeof err), 0);
    CHECK(!hours_is_on(&h, (time_t)INT64_MAX) && !hours_is_on(&h, (time_t)INT64_MIN));
    CHECK(!hours_next_change(&h, (time_t)INT64_MAX, &next));
    CHECK(!hours_next_change(&h, (time_t)INT64_MIN, &next));
    CHECK(hours_is_on(&h, 1790000000 - 1790000000 % 86400 + 3600));
}

int main(void)
{
    const char *dir = data_dir();
    test_struct_defaults();
    test_parse_table(dir);
    test_now_table(dir);
    test_cases(dir);

    /* Samoa skipped 2011-12-30 entirely (-10:00 to +14:00). */
    test_local_to_time("Europe/Berlin", 2026);
    test_local_to_time("America/New_York", 2026);
    test_local_to_time("Australia/Lord_Howe", 2026);
    test_local_to_time("Pacific/Apia", 2011);

    static const char *const specs[] = {
        "Mon-Fri 07:00-19:30, Sat 09:00-14:00",
        "Sun 02:30-05:00",
        "daily 01:30-02:15",
        "daily 22:00-02:00, daily 02:00-06:00",
        "Fri-Mon 23:00-01:00, Wed",
        "Sun 00:00-02:30, Sun 02:10-02:40",
        "Mon-Sat 00:00-24:00, Sun 00:00-23:59",
        "daily 01:59-02:01, daily 02:59-03:01",
    };
    static const char *const ptz[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                      "UTC"};
    for (size_t z = 0; z < sizeof ptz / sizeof ptz[0]; z++)
        for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
            test_next_change_property(ptz[z], specs[i]);
    return tap_done();
}
