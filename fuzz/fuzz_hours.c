/*
 * fuzz_hours: office hours and day-parts (hours_parse, hours_format,
 * hours_is_on, hours_next_change) and --now (hours_parse_now).
 *
 * Each of the first 8 lines of the input (up to a tab, so the rows of the
 * test tables are seeds as they are) is a schedule. Contracts: the canonical text reads
 * back to the same schedule and is a fixed point; the state is constant
 * up to the next change and differs at it. The zone comes from a hash of
 * the input, the instants from a hash of the line: around the 2026
 * transitions of zones with 1 h and 30 min changes, and Samoa's 24 h one
 * of 2011.
 */
#include "fuzz.h"

#include <string.h>
#include <time.h>

#include "hours.h"
#include "util.h"

static const char *const fuzz_zones[] = {"UTC", "Europe/Berlin", "America/New_York",
                                         "Australia/Lord_Howe", "Pacific/Apia"};
/* Instants near each zone's changes (2026-03-08, 03-29, 04-05, 10-04,
 * 10-25, 11-01; Samoa's skipped 2011-12-30). */
static const int64_t fuzz_near[] = {1772953200, 1774746000, 1775314800, 1791041400,
                                    1792890000, 1793512800, 1325239200};

static uint64_t fuzz_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

/* Loading a zone costs more than the rest of a run: only on a change. */
static void fuzz_zone(uint64_t hash)
{
    static const char *current;
    const char *z = fuzz_zones[hash % (sizeof fuzz_zones / sizeof fuzz_zones[0])];
    if (z != current) {
        setenv("TZ", z, 1);
        tzset();
        current = z;
    }
}

static void fuzz_one(const char *s, size_t n, uint64_t input_hash)
{
    char *spec = kt_strndup(s, n);
    uint64_t hash = fuzz_hash(spec, n);
    fuzz_zone(input_hash);

    char err[KT_ERR_MAX];
    time_t now;
    if (hours_parse_now(spec, &now, err, sizeof err) == 0) {
        time_t again;
        char back[32];
        struct tm tm;
        FUZZ_CHECK(localtime_r(&now, &tm), "\"%s\": localtime", spec);
        strftime(back, sizeof back, "%Y-%m-%dT%H:%M:%S", &tm);
        /* The local text of the instant names the same instant (a time
         * shown twice maps to its first showing, as does the text). */
        FUZZ_CHECK(hours_parse_now(back, &again, err, sizeof err) == 0 && again <= now,
                   "\"%s\" -> %lld -> \"%s\" -> %lld", spec, (long long)now, back,
                   (long long)again);
    }

    struct hours h;
    if (hours_parse(spec, &h, err, sizeof err) != 0) {
        FUZZ_CHECK(strncmp(err, "column ", 7) == 0 || strncmp(err, "empty", 5) == 0,
                   "\"%s\": error without a position: %s", spec, err);
        free(spec);
        return;
    }
    char canon[HOURS_FORMAT_MAX], canon2[HOURS_FORMAT_MAX];
    size_t need = hours_format(&h, canon, sizeof canon);
    FUZZ_CHECK(need < sizeof canon, "\"%s\": canonical text of %zu bytes", spec, need);
    struct hours h2;
    FUZZ_CHECK(hours_parse(canon, &h2, err, sizeof err) == 0, "\"%s\" -> \"%s\": %s", spec, canon,
               err);
    FUZZ_CHECK(hours_equal(&h, &h2), "\"%s\" -> \"%s\" reads back differently", spec, canon);
    hours_format(&h2, canon2, sizeof canon2);
    FUZZ_CHECK(strcmp(canon, canon2) == 0, "\"%s\" -> \"%s\" -> \"%s\"", spec, canon, canon2);

    int64_t t = fuzz_near[(hash >> 8) % (sizeof fuzz_near / sizeof fuzz_near[0])];
    t += (int64_t)((hash >> 16) % (4 * 86400)) - 2 * 86400;
    for (int step = 0; step < 4; step++) {
        now = (time_t)t;
        bool on = hours_is_on(&h, now);
        time_t next;
        if (!hours_next_change(&h, now, &next))
            break;
        FUZZ_CHECK(next > now, "\"%s\" at %lld: next change %lld", canon, (long long)now,
                   (long long)next);
        FUZZ_CHECK(hours_is_on(&h, next) != on && hours_is_on(&h, next - 1) == on,
                   "\"%s\" at %lld (%d): next change %lld is not one", canon, (long long)now, on,
                   (long long)next);
        FUZZ_CHECK(hours_is_on(&h, now + (next - now) / 2) == on,
                   "\"%s\" at %lld: changes before %lld", canon, (long long)now, (long long)next);
        t = next;
    }
    free(spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    uint64_t input_hash = fuzz_hash(s, size);
    size_t i = 0;
    /* A few schedules an input: each costs thousands of localtime_r calls,
     * and more lines would only slow the search down. */
    for (int lines = 0; i <= size && lines < 8; lines++) {
        size_t end = i;
        while (end < size && s[end] != '\n')
            end++;
        size_t len = end - i;
        const char *tab = memchr(s + i, '\t', len);
        if (tab)
            len = (size_t)(tab - (s + i));
        /* A NUL ends a C string: the part before it is what a caller sees. */
        const char *nul = memchr(s + i, '\0', len);
        if (nul)
            len = (size_t)(nul - (s + i));
        fuzz_one(s + i, len, input_hash);
        i = end + 1;
    }
    return 0;
}
