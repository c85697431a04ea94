/*
 * fuzz_config: the config engine on arbitrary text. A config is written by
 * the person who installs the screen, or served by a fleet's CMS, not by
 * the internet at large, but a typo must still end in an
 * "ORIGIN:LINE: message", never in a crash.
 *
 * The whole input goes through config_parse (syntax, then the option
 * table: durations, sizes, colours, WxH, quotes, names, UTF-8, regexes).
 * An input with a line "=== remote" is also split there into a local and a
 * remote config, and the remote one laid over the local one
 * (config_doc_overlay), checking what the overlay promises: each section
 * of the result is the local or the remote one of its kind and name,
 * local-only kinds never come from the remote, nothing else is lost or
 * added, the inputs are left alone, and a build error names one of the
 * two origins.
 */
#include "fuzz.h"

#include <string.h>

#include "config.h"
#include "config_doc.h"
#include "util.h"

#define LOCAL "local.conf"
#define REMOTE "https://cms.example/remote.conf"

static bool same_key(const struct config_section *a, const struct config_section *b)
{
    return strcmp(a->kind, b->kind) == 0 && kt_str_eq(a->name, b->name);
}

static bool has_key(const struct config_doc *d, const struct config_section *s)
{
    for (size_t i = 0; i < d->n_sections; i++)
        if (same_key(&d->sections[i], s))
            return true;
    return false;
}

static bool same_section(const struct config_section *a, const struct config_section *b)
{
    if (!same_key(a, b) || a->line != b->line || strcmp(a->origin, b->origin) != 0 ||
        a->n_entries != b->n_entries)
        return false;
    for (size_t i = 0; i < a->n_entries; i++)
        if (strcmp(a->entries[i].key, b->entries[i].key) != 0 ||
            strcmp(a->entries[i].value, b->entries[i].value) != 0 ||
            a->entries[i].line != b->entries[i].line)
            return false;
    return true;
}

static bool same_doc(const struct config_doc *a, const struct config_doc *b)
{
    if (a->n_sections != b->n_sections)
        return false;
    for (size_t i = 0; i < a->n_sections; i++)
        if (!same_section(&a->sections[i], &b->sections[i]))
            return false;
    return true;
}

static void fuzz_overlay(const struct config_doc *local, const struct config_doc *remote)
{
    static const char *const local_only[] = {"display", NULL};
    struct config_doc *before_l = config_doc_copy(local), *before_r = config_doc_copy(remote);
    struct config_doc *m = config_doc_overlay(local, remote, local_only);
    FUZZ_CHECK(same_doc(local, before_l) && same_doc(remote, before_r), "overlay changed an input");
    FUZZ_CHECK(strcmp(m->origin, LOCAL) == 0, "merged origin %s", m->origin);

    size_t want = 0;
    for (size_t i = 0; i < local->n_sections; i++) {
        const struct config_section *s = &local->sections[i];
        bool kept = strcmp(s->kind, "display") == 0 || !has_key(remote, s);
        want += kept;
        if (kept)
            FUZZ_CHECK(has_key(m, s), "local [%s] lost", s->kind);
    }
    for (size_t i = 0; i < remote->n_sections; i++)
        want += strcmp(remote->sections[i].kind, "display") != 0;
    FUZZ_CHECK(m->n_sections == want, "merged has %zu sections, want %zu", m->n_sections, want);
    for (size_t i = 0; i < m->n_sections; i++) {
        const struct config_section *s = &m->sections[i];
        bool from_remote = strcmp(s->origin, REMOTE) == 0;
        FUZZ_CHECK(from_remote || strcmp(s->origin, LOCAL) == 0, "origin %s", s->origin);
        FUZZ_CHECK(!from_remote || strcmp(s->kind, "display") != 0, "local-only from remote");
        /* A local section stays only where the remote has none of its name. */
        FUZZ_CHECK(from_remote || strcmp(s->kind, "display") == 0 || !has_key(remote, s),
                   "local [%s] kept though the remote replaces it", s->kind);
    }

    char err[KT_ERR_MAX] = "";
    struct config *cfg = config_build(m, err, sizeof err);
    if (!cfg)
        FUZZ_CHECK(strncmp(err, LOCAL ":", strlen(LOCAL) + 1) == 0 ||
                       strncmp(err, REMOTE ":", strlen(REMOTE) + 1) == 0,
                   "error without the origin: %s", err);
    config_free(cfg);

    /* Nothing laid over a config leaves it as it was. */
    struct config_doc empty = {.origin = (char *)REMOTE};
    struct config_doc *same = config_overlay(local, &empty);
    FUZZ_CHECK(same_doc(same, local), "an empty overlay changed the config");
    config_doc_free(same);
    config_doc_free(m);
    config_doc_free(before_l);
    config_doc_free(before_r);
}

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
    struct config *cfg = config_parse((const char *)data, size, LOCAL, err, sizeof err);
    if (cfg) {
        for (size_t i = 0; i < cfg->n_feeds; i++) {
            FUZZ_CHECK(cfg->feeds[i].name && cfg->feeds[i].url, "feed without name or URL");
            FUZZ_CHECK(cfg->feeds[i].label != NULL, "feed without label");
        }
        FUZZ_CHECK(cfg->cache != NULL, "no cache path");
        FUZZ_CHECK(cfg->display.font && *cfg->display.font, "no font");
        config_free(cfg);
    } else {
        FUZZ_CHECK(strncmp(err, LOCAL ":", strlen(LOCAL) + 1) == 0, "error is not FILE:LINE: %s",
                   err);
    }

    /* "[... === local\n]local\n=== remote\nremote[\n=== anything]" (the overlay
     * cases in tests/data/config/overlay/ are written so). */
    char *text = fuzz_cstr(data, size);
    char *mark = memchr(text, '\0', size) ? NULL : strstr(text, "\n=== remote\n");
    if (mark) {
        *mark = '\0';
        char *rtext = mark + strlen("\n=== remote\n");
        char *rend = strstr(rtext, "\n===");
        if (rend)
            rend[1] = '\0';
        const char *ltext = kt_str_has_prefix(text, "=== local\n") ? text + 10 : text;
        const char *lmark = strstr(text, "\n=== local\n");
        if (lmark)
            ltext = lmark + strlen("\n=== local\n");
        struct config_doc *local = config_doc_parse(ltext, strlen(ltext), LOCAL, err, sizeof err);
        struct config_doc *remote = config_doc_parse(rtext, strlen(rtext), REMOTE, err, sizeof err);
        if (local && remote)
            fuzz_overlay(local, remote);
        config_doc_free(local);
        config_doc_free(remote);
    }
    free(text);

    /* The value parsers on their own, first line only. */
    char *s = fuzz_cstr(data, size);
    s[strcspn(s, "\n")] = '\0';
    int64_t v;
    if (config_parse_duration(s, &v) == 0)
        FUZZ_CHECK(v >= 0, "negative duration %lld from \"%s\"", (long long)v, s);
    if (config_parse_size(s, &v) == 0)
        FUZZ_CHECK(v >= 0, "negative size %lld from \"%s\"", (long long)v, s);
    double d;
    if (config_parse_number(s, &d) == 0)
        FUZZ_CHECK(d == d && d - d == 0, "number %g from \"%s\" is not finite", d, s);
    int w, h;
    if (config_parse_wxh(s, &w, &h) == 0)
        FUZZ_CHECK(w >= 0 && h >= 0, "negative side %dx%d from \"%s\"", w, h, s);
    free(s);
    return 0;
}
