/*
 * test_date: runs tests/data/date/dates.tsv (input, expected UTC time or
 * "invalid"), then checks the calendar arithmetic against the C library's
 * timegm() over four centuries and round-trips it through date_format().
 */
#include "date.h"
#include "tap.h"
#include "util.h"

#include <time.h>

static void test_table(void)
{
    const char *dir = getenv("KT_TEST_DATA");
    char err[KT_ERR_MAX], *data = NULL;
    size_t len;
    char *path = kt_asprintf("%s/date/dates.tsv", dir ? dir : "tests/data");
    int cases = 0, line = 0;

    CHECK(kt_read_file(path, 1 << 20, &data, &len, err, sizeof err) == 0);
    free(path);
    if (!data)
        return;
    for (char *p = data, *end; p < data + len; p = end + 1) {
        end = memchr(p, '\n', (size_t)(data + len - p));
        if (!end)
            end = data + len;
        *end = '\0';
        line++;
        if (end == p || *p == '#')
            continue;
        char *tab = strchr(p, '\t');
        CHECK(tab != NULL && strchr(tab + 1, '\t') == NULL);
        if (!tab) {
            fprintf(stderr, "  at dates.tsv:%d\n", line);
            continue;
        }
        *tab = '\0';
        const char *want = tab + 1;
        int64_t t = 0;
        char got[32] = "invalid";
        if (date_parse(p, &t))
            date_format(t, got, sizeof got);
        int before = tap_failures;
        CHECK_STR(got, want);
        if (tap_failures != before)
            fprintf(stderr, "  at dates.tsv:%d \"%s\"\n", line, p);
        cases++;
    }
    free(data);
    printf("dates.tsv: %d cases\n", cases);
    CHECK(cases > 0);
}

/* date_from_fields must agree with timegm(), which is TZ-independent. */
static void test_calendar(void)
{
    int bad = 0;
    for (int y = 1800; y <= 2200; y++) {
        for (int m = 1; m <= 12; m++) {
            for (int d = 1; d <= 31; d += 3) {
                struct tm tm = {.tm_year = y - 1900,
                                .tm_mon = m - 1,
                                .tm_mday = d,
                                .tm_hour = d % 24,
                                .tm_min = m * 4,
                                .tm_sec = y % 60};
                int64_t want = (int64_t)timegm(&tm);
                if (tm.tm_mon != m - 1)
                    continue; /* day past the end of the month */
                int64_t got = date_from_fields(y, m, d, d % 24, m * 4, y % 60);
                bad += got != want;
                char s[64], again[64];
                date_format(got, s, sizeof s);
                int64_t back = 0;
                bad += !date_parse(s, &back) || back != got;
                snprintf(again, sizeof again, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, d % 24,
                         m * 4, y % 60);
                bad += strcmp(s, again) != 0;
            }
        }
    }
    CHECK_INT(bad, 0);
    CHECK_INT(date_from_fields(1970, 1, 1, 0, 0, 0), 0);
    CHECK_INT(date_from_fields(2024, 3, 5, 10, 20, 30), 1709634030);
    /* months outside 1..12 normalise instead of reading past a table */
    CHECK_INT(date_from_fields(2023, 13, 1, 0, 0, 0), date_from_fields(2024, 1, 1, 0, 0, 0));
    CHECK_INT(date_from_fields(2024, 0, 1, 0, 0, 0), date_from_fields(2023, 12, 1, 0, 0, 0));
}

static void test_format_edges(void)
{
    char small[8];
    char big[64];
    date_format(0, small, sizeof small);
    CHECK_STR(small, "1970-01");
    date_format(-1, big, sizeof big);
    CHECK_STR(big, "1969-12-31T23:59:59Z");
    date_format(INT64_MAX, big, sizeof big); /* must not crash or overflow */
    CHECK(strlen(big) > 20);
    date_format(INT64_MIN, big, sizeof big);
    CHECK(strlen(big) > 20);
    int64_t t = 42;
    CHECK(!date_parse(NULL, &t));
    CHECK_INT(t, 42);
}

int main(void)
{
    test_table();
    test_calendar();
    test_format_edges();
    return tap_done();
}
