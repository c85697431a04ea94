/*
 * fuzz_feed: bytes in, headlines out, through the real code paths: format
 * detection, charset conversion (iconv), libxml2 / json-c, then the
 * headline step (text normalisation, first sentence, exclude, cut).
 *
 * The parse options come from the input's length rather than from its
 * first bytes, so that the seeds (real feed documents) are used as they
 * are: a mutation that changes the length also tries another
 * Content-Type, base URL or allow_text setting.
 */
#include "fuzz.h"

#include <string.h>

#include "feed.h"
#include "filter.h"
#include "headline.h"
#include "store.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

static struct filter *fuzz_exclude;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Patterns like the demo's, so filter_match runs on every headline. */
    static const char *const pats[] = {"^(sponsored|advertisement):", "already a subscriber"};
    char err[KT_ERR_MAX];
    fuzz_exclude = filter_new(pats, 2, err, sizeof err);
    if (!fuzz_exclude)
        abort();
    return 0;
}

static const char *const fuzz_ctypes[] = {
    NULL,
    "application/rss+xml; charset=UTF-8",
    "text/xml; charset=ISO-8859-1",
    "application/json",
    "text/html; charset=windows-1252",
    "application/atom+xml; charset=\"utf-16\"",
    "text/plain; charset=x-no-such-charset",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_exclude)
        LLVMFuzzerInitialize(NULL, NULL);
    size_t nct = sizeof fuzz_ctypes / sizeof fuzz_ctypes[0];
    struct feed_parse_opts opts = {
        .base_url = size & 8 ? "http://example.org/news/feed.xml" : NULL,
        .content_type = fuzz_ctypes[size % nct],
        .allow_text = size & 16,
    };
    struct feed_doc doc;
    char err[KT_ERR_MAX];
    err[0] = '\0';
    if (feed_parse((const char *)data, size, &opts, &doc, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0', "a failed parse must say why");
        FUZZ_CHECK(memchr(err, '\n', strlen(err)) == NULL, "one-line reason: %s", err);
        return 0;
    }
    if (doc.title)
        FUZZ_CHECK(uni_valid(doc.title, strlen(doc.title)), "feed title is UTF-8");
    for (size_t i = 0; i < doc.n_entries; i++) {
        /* strlen: every string must be terminated inside its allocation. */
        const struct feed_entry *e = &doc.entries[i];
        if (e->title)
            (void)strlen(e->title);
        if (e->summary)
            (void)strlen(e->summary);
        if (e->link) {
            /* README: LINK is absolute or empty */
            FUZZ_CHECK(kt_str_has_prefix_nocase(e->link, "http://") ||
                           kt_str_has_prefix_nocase(e->link, "https://") ||
                           kt_str_has_prefix_nocase(e->link, "file:"),
                       "link is not an absolute URL: %s", e->link);
            FUZZ_CHECK(!strpbrk(e->link, " \"<>"), "link holds a space, quote or bracket: %s",
                       e->link);
        }
    }
    int max_chars = 1 + (int)(size % 240);
    struct store_item *items;
    size_t n = headline_from_doc(&doc, fuzz_exclude, max_chars, &items);
    FUZZ_CHECK(n <= doc.n_entries, "more headlines than entries");
    for (size_t i = 0; i < n; i++) {
        const char *t = items[i].title;
        size_t len = strlen(t);
        FUZZ_CHECK(len > 0, "empty headline kept");
        FUZZ_CHECK(uni_valid(t, len), "headline is UTF-8");
        FUZZ_CHECK(uni_count(t, strlen(t)) <= (size_t)max_chars,
                   "headline longer than max_chars %d", max_chars);
        FUZZ_CHECK(!filter_match(fuzz_exclude, t), "excluded headline kept");
    }
    store_items_free(items, n);
    feed_doc_free(&doc);
    return 0;
}
