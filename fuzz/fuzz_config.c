/*
 * fuzz_config: the INI parser and its validation (durations, sizes,
 * colours, WxH, quotes, sections, regexes) on arbitrary text. A config is
 * written by the person who installs the screen, not by the internet, but
 * a typo must still end in a "FILE:LINE: message", never in a crash.
 */
#include "fuzz.h"

#include <string.h>

#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* glibc's regcomp expands repetition by copying the subexpression:
     * "(a{1,255}){1,255}" or "(live|watch)++++++++..." (each stacked '+'
     * doubles the tree) take seconds and gigabytes inside the C library.
     * An exclude pattern is the admin's own choice and this is glibc's
     * cost, not our bug (docs/reliability.md), so inputs with a bounded
     * repetition or more than 12 quantifiers are left out rather than
     * reported as out-of-memory. */
    size_t quantifiers = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '{' && i + 1 < size && data[i + 1] >= '0' && data[i + 1] <= '9')
            return 0;
        quantifiers += data[i] == '+' || data[i] == '*' || data[i] == '?' || data[i] == '{';
    }
    if (quantifiers > 12)
        return 0;
    char err[KT_ERR_MAX];
    err[0] = '\0';
    struct config *cfg = config_parse((const char *)data, size, "fuzz.conf", err, sizeof err);
    if (cfg) {
        for (size_t i = 0; i < cfg->n_feeds; i++) {
            FUZZ_CHECK(cfg->feeds[i].name && cfg->feeds[i].url, "feed without name or URL");
            FUZZ_CHECK(cfg->feeds[i].label != NULL, "feed without label");
        }
        FUZZ_CHECK(cfg->cache != NULL, "no cache path");
        config_free(cfg);
    } else {
        FUZZ_CHECK(strncmp(err, "fuzz.conf:", 10) == 0, "error is not FILE:LINE: %s", err);
    }

    /* The value parsers on their own, first line only. */
    char *s = fuzz_cstr(data, size);
    s[strcspn(s, "\n")] = '\0';
    int64_t v;
    if (config_parse_duration(s, &v) == 0)
        FUZZ_CHECK(v >= 0, "negative duration %lld from \"%s\"", (long long)v, s);
    if (config_parse_size(s, &v) == 0)
        FUZZ_CHECK(v >= 0, "negative size %lld from \"%s\"", (long long)v, s);
    free(s);
    return 0;
}
