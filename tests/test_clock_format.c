/*
 * test_clock_format: src/clock_format.c against tests/data/clock_format/
 * formats.tsv (FORMAT -> ok or the error), in the C locale and UTC so the
 * widths in the table hold; and the clock text of an instant against
 * date.c's independent formatting.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock_format.h"
#include "date.h"
#include "tap.h"
#include "tsv.h"
#include "util.h"

static void test_table(const char *dir)
{
    char *path = kt_asprintf("%s/clock_format/formats.tsv", dir);
    char *data = NULL, err[KT_ERR_MAX];
    size_t len;
    if (kt_read_file(path, 1 << 20, &data, &len, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        CHECK(!"formats.tsv readable");
        free(path);
        return;
    }
    int rows = 0, oks = 0, lineno = 0;
    char *cur = data, *line;
    while ((line = tsv_next(&cur, &lineno))) {
        char *f[2];
        if (tsv_fields(line, f, 2) != 2) {
            CHECK(!"formats.tsv row has a tab");
            continue;
        }
        const char *fmt = f[0], *want = f[1];
        rows++;
        err[0] = '\0';
        int rc = clock_format_check(fmt, err, sizeof err);
        if (strcmp(want, "ok") == 0) {
            oks++;
            if (rc != 0)
                fprintf(stderr, "\"%s\": unexpected error \"%s\"\n", fmt, err);
            CHECK_INT(rc, 0);
            /* A format that passes formats to at most the limit. */
            char out[CLOCK_FORMAT_MAX_TEXT + 1];
            size_t n = clock_format_apply(fmt, 1790000000, out, sizeof out);
            CHECK(n > 0 && n <= CLOCK_FORMAT_MAX_TEXT && strlen(out) == n);
        } else if (strncmp(want, "error: ", 7) == 0) {
            if (rc == 0 || !strstr(err, want + 7))
                fprintf(stderr, "\"%s\": want an error with \"%s\", got rc %d \"%s\"\n", fmt,
                        want + 7, rc, err);
            CHECK(rc == -1 && strstr(err, want + 7));
        } else {
            CHECK(!"formats.tsv: second field is ok or error: ...");
        }
    }
    CHECK(rows > 40 && oks > 10);
    free(data);
    free(path);
}

static void test_apply(void)
{
    char want[32], out[CLOCK_FORMAT_MAX_TEXT + 1];
    for (time_t t = 1767225600; t < 1767225600 + 400 * 86400; t += 86400 * 7 + 3671) {
        date_format((int64_t)t, want, sizeof want);
        CHECK_INT(clock_format_apply("%Y-%m-%dT%H:%M:%SZ", t, out, sizeof out), strlen(want));
        CHECK_STR(out, want);
    }
    /* Local time: Berlin is an hour ahead of UTC in winter. */
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    clock_format_apply("%H:%M", 1796630400 /* 2026-12-07T08:00Z */, out, sizeof out);
    CHECK_STR(out, "09:00");
    /* Too small a buffer: nothing, never a cut text. */
    char tiny[4];
    CHECK_INT(clock_format_apply("%H:%M", 1796630400, tiny, sizeof tiny), 0);
    CHECK_STR(tiny, "");
    setenv("TZ", "UTC", 1);
    tzset();
}

int main(void)
{
    setlocale(LC_ALL, "C");
    setenv("TZ", "UTC", 1);
    tzset();
    const char *dir = getenv("KT_TEST_DATA");
    test_table(dir ? dir : "tests/data");
    test_apply();
    return tap_done();
}
