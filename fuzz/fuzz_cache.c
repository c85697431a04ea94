/*
 * fuzz_cache: the cache loader (cache_decode, then store_restore into a
 * store configured with the cache's own feeds, as at start-up).
 *
 * Two targets are built from this file:
 *   fuzz_cache         the input is the whole file: the checksum and the
 *                      end line are fuzzed too (torn writes, bit flips);
 *   fuzz_cache_sealed  (FUZZ_CACHE_SEAL) the input is everything before
 *                      the end line, which the harness appends with the
 *                      right record count and CRC-32, so mutations reach
 *                      the record parser instead of failing the checksum.
 * A file that decodes must encode and decode again to the same bytes.
 */
#include "fuzz.h"

#include <string.h>

#include "cache.h"
#include "config.h"
#include "store.h"
#include "util.h"

#ifdef FUZZ_CACHE_SEAL
static uint32_t fuzz_crc32(const char *data, size_t len)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        c ^= (unsigned char)data[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

/* body + "\n" if missing + "end N CRC\n"; N = lines after the first. */
static char *fuzz_seal(const uint8_t *data, size_t size, size_t *len)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_append(&b, data, size);
    if (b.len == 0 || b.data[b.len - 1] != '\n')
        kt_buf_putc(&b, '\n');
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    uint32_t crc = fuzz_crc32(b.data, b.len);
    kt_buf_printf(&b, "end %zu %08x\n", lines - 1, (unsigned)crc);
    *len = b.len;
    return kt_buf_steal(&b);
}
#endif

/* A store configured with the dump's feeds (first 16 distinct names), so
 * store_restore, the merge and the snapshot run on what was decoded. */
static void fuzz_restore(const struct store_dump *d, size_t size)
{
    size_t n = 0;
    const struct feed_state *pick[16];
    for (size_t i = 0; i < d->n_feeds && n < 16; i++) {
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup |= strcmp(pick[k]->name, d->feeds[i].name) == 0;
        if (!dup)
            pick[n++] = &d->feeds[i];
    }
    static const char *const orders[] = {"newest", "feeds", "interleave"};
    struct kt_buf text;
    kt_buf_init(&text);
    kt_buf_printf(&text, "[ticker]\nmax_items = %zu\nmax_age = %s\norder = %s\n", 1 + size % 50,
                  size & 1 ? "1d" : "0", orders[size % 3]);
    for (size_t k = 0; k < n; k++)
        kt_buf_printf(&text, "[feed f%zu]\nurl = http://127.0.0.1/%zu\n%s", k, k,
                      k == 0 ? "max_items = 3\n" : "");
    char err[KT_ERR_MAX];
    struct config *cfg = config_parse(text.data, text.len, "fuzz.conf", err, sizeof err);
    kt_buf_free(&text);
    FUZZ_CHECK(cfg != NULL, "harness config refused: %s", err);
    /* The cache's own names and URLs, which no INI file could spell. */
    for (size_t k = 0; k < n; k++) {
        free(cfg->feeds[k].name);
        free(cfg->feeds[k].url);
        free(cfg->feeds[k].label);
        cfg->feeds[k].name = kt_strdup(pick[k]->name);
        cfg->feeds[k].url = kt_strdup(pick[k]->url);
        cfg->feeds[k].label = kt_strdup(pick[k]->name);
    }
    int64_t now = 1700000000;
    struct store *s = store_new();
    store_configure(s, cfg, now);
    store_restore(s, d, now);
    const struct store_snapshot *snap = store_snapshot(s);
    /* max_items bounds the feeds' headlines; operator announcements (kept
     * with the cache, at most STORE_MAX_MESSAGES) come first and on top. */
    size_t feed_items = 0, announcements = 0;
    for (size_t i = 0; i < snap->n; i++) {
        if (snap->items[i].announcement) {
            FUZZ_CHECK(i == announcements, "announcement %zu after a feed headline", i);
            announcements++;
        } else {
            feed_items++;
        }
    }
    FUZZ_CHECK(feed_items <= (size_t)cfg->max_items, "%zu headlines, max_items %d", feed_items,
               cfg->max_items);
    for (size_t i = 0; i < snap->n; i++)
        (void)strlen(snap->items[i].title);
    store_snapshot_release(snap);
    store_expire(s, now + 2 * 86400);
    snap = store_snapshot(s);
    if (cfg->max_age > 0)
        for (size_t i = 0; i < snap->n; i++)
            FUZZ_CHECK(snap->items[i].published == 0 ||
                           snap->items[i].published >= now + 2 * 86400 - cfg->max_age,
                       "expired headline still shown");
    store_snapshot_release(snap);
    /* Saving goes through store_dump + cache_encode: must be readable. */
    struct store_dump again = store_dump(s);
    size_t elen;
    char *enc = cache_encode(&again, &elen);
    struct store_dump back;
    FUZZ_CHECK(cache_decode(enc, elen, &back, err, sizeof err) == 0,
               "store's own cache unreadable: %s", err);
    store_dump_free(&back);
    free(enc);
    store_dump_free(&again);
    store_free(s);
    config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef FUZZ_CACHE_SEAL
    size_t len;
    char *file = fuzz_seal(data, size, &len);
#else
    size_t len = size;
    char *file = fuzz_cstr(data, size);
#endif
    struct store_dump d;
    char err[KT_ERR_MAX];
    err[0] = '\0';
    if (cache_decode(file, len, &d, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0', "a refused cache must say why");
        free(file);
        return 0;
    }
    size_t elen;
    char *enc = cache_encode(&d, &elen);
    struct store_dump d2;
    FUZZ_CHECK(cache_decode(enc, elen, &d2, err, sizeof err) == 0, "re-encoded cache refused: %s",
               err);
    size_t elen2;
    char *enc2 = cache_encode(&d2, &elen2);
    FUZZ_CHECK(elen == elen2 && memcmp(enc, enc2, elen) == 0, "encode/decode not stable");
    free(enc2);
    free(enc);
    store_dump_free(&d2);

    fuzz_restore(&d, size);
    store_dump_free(&d);
    free(file);
    return 0;
}
