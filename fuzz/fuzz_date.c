/*
 * fuzz_date: RFC 822 / RFC 3339 parsing, and formatting of any time.
 * A parsed date must survive date_format and a second parse unchanged:
 * that is what the cache and the --fetch-once output rely on.
 */
#include "fuzz.h"

#include <string.h>

#include "date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    int64_t t;
    if (date_parse(s, &t)) {
        char out[64];
        date_format(t, out, sizeof out);
        int64_t t2 = 0;
        /* Years 1..9999 print as four digits and parse again; a zone
         * offset can push a date just outside that range. */
        int year = -1;
        if (strlen(out) == 20 && out[4] == '-')
            year =
                (out[0] - '0') * 1000 + (out[1] - '0') * 100 + (out[2] - '0') * 10 + (out[3] - '0');
        if (year >= 1 && year <= 9999) {
            FUZZ_CHECK(date_parse(out, &t2), "\"%s\" -> %s does not parse again", s, out);
            FUZZ_CHECK(t2 == t, "\"%s\" -> %lld -> %s -> %lld", s, (long long)t, out,
                       (long long)t2);
        }
    }
    /* Any 64-bit time formats without UB and always terminates the string. */
    if (size >= 8) {
        int64_t any;
        memcpy(&any, data, 8);
        char out[32];
        date_format(any, out, sizeof out);
        FUZZ_CHECK(memchr(out, '\0', sizeof out) != NULL, "unterminated");
        char tiny[5];
        date_format(any, tiny, sizeof tiny);
    }
    free(s);
    return 0;
}
