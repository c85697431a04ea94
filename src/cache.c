/*
 * cache: the store's state as a small text file, and its atomic saving.
 *
 * Format (version 3), one record per line, fields separated by a tab:
 *
 *   kiosk-ticker-cache 3
 *   feed   NAME  URL  ETAG  LAST_MODIFIED  LAST_SUCCESS  TTL_MINUTES
 *   entry  TITLE  SUMMARY  LINK  PUBLISHED  FIRST_SEEN  FLAGS
 *   item   TITLE  LINK  PUBLISHED  FIRST_SEEN
 *   ...    (entries or items belong to the feed record before them)
 *   message  ORIGIN  JSON   (an operator message, message_to_json's form;
 *                            after the feeds, posting order)
 *   end N_RECORDS CRC32
 *
 * Version 3 added the message records (so a power cut keeps operator
 * messages until they expire; expired ones are dropped at load by
 * store_restore); versions 1 and 2 are still read.
 *
 * An entry is a feed entry as parsed (FLAGS: "t" the title is HTML, "s"
 * the summary is, "-" neither), from which the headline is derived again
 * at load under the config of the day; an item is a headline as shown, for
 * a feed whose entries are not known (a version 1 file, which is still
 * read, has only items). In text fields a backslash escapes tab (\t),
 * newline (\n), carriage return (\r), itself (\\) and any byte (\xHH); a
 * field that is exactly \N is NULL (no ETag, no link). Names, URLs and
 * validators are written byte for byte (a byte that is not UTF-8 as \xHH),
 * so a feed whose name is not UTF-8 still finds its state again; text
 * shown on screen is UTF-8 (an invalid byte becomes U+FFFD). Numbers are
 * plain decimal. CRC32 (IEEE, 8 lowercase hex digits) covers every byte
 * before the end line, and N_RECORDS counts the feed, entry and item
 * lines, so a torn write, a truncated copy or a flipped bit is detected
 * before any record is believed. It is text so that it can be inspected on
 * a kiosk with nothing but `less`.
 */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "message.h"
#include "unicode.h"
#include "util.h"

#include <zlib.h>

#define CACHE_MAGIC "kiosk-ticker-cache"
#define CACHE_VERSION 3
#define CACHE_MAX_ITEMS 100000 /* entry and item records, over all feeds */
#define CACHE_MAX_FEEDS 10000
#define CACHE_MAX_LINE (1024 * 1024)
#define CACHE_MAX_FILE (64 * 1024 * 1024)

/* CRC-32 (IEEE 802.3) and UTF-8 come from zlib and the Unicode layer. */

static uint32_t cache_crc32(const char *data, size_t len)
{
    return (uint32_t)crc32(0L, (const Bytef *)data, (uInt)len);
}

/* ---- encoding ---- */

static void cache_put_escape(struct kt_buf *b, unsigned char c)
{
    switch (c) {
    case '\t':
        kt_buf_puts(b, "\\t");
        break;
    case '\n':
        kt_buf_puts(b, "\\n");
        break;
    case '\r':
        kt_buf_puts(b, "\\r");
        break;
    case '\\':
        kt_buf_puts(b, "\\\\");
        break;
    default:
        kt_buf_printf(b, "\\x%02x", c);
        break;
    }
}

/* Writes one text field. exact: every byte comes back as it was (a byte
 * that is not UTF-8 as \xHH), for names, URLs and validators. Otherwise,
 * for text shown on screen, invalid UTF-8 (which the text module should
 * already have removed) becomes U+FFFD. */
static void cache_put_text(struct kt_buf *b, const char *s, bool nullable, bool exact)
{
    if (!s) {
        kt_buf_puts(b, nullable ? "\\N" : "");
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        if (p[i] == '\t' || p[i] == '\n' || p[i] == '\r' || p[i] == '\\') {
            cache_put_escape(b, p[i++]);
            continue;
        }
        uint32_t cp;
        size_t k = uni_decode(s + i, n - i, &cp);
        if (cp != UNI_INVALID) {
            kt_buf_append(b, p + i, k);
            i += k;
        } else if (exact) {
            cache_put_escape(b, p[i++]);
        } else {
            kt_buf_puts(b, "\xEF\xBF\xBD");
            i++;
        }
    }
}

/* Ends the record started at `start`: kept when the decoder will accept it
 * (line length, record count, file size), else taken back. */
static bool cache_end_record(struct kt_buf *b, size_t start, size_t *records, bool item)
{
    size_t line = b->len - start;
    /* Room for the end line ("end " + 10 digits + " " + 8 hex + "\n"). */
    bool fits = line <= CACHE_MAX_LINE && b->len + 1 + 32 <= CACHE_MAX_FILE &&
                (!item || *records < CACHE_MAX_ITEMS);
    if (!fits) {
        b->len = start;
        b->data[start] = '\0';
        return false;
    }
    kt_buf_putc(b, '\n');
    if (item)
        (*records)++;
    return true;
}

char *cache_encode(const struct store_dump *d, size_t *len)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_printf(&b, "%s %d\n", CACHE_MAGIC, CACHE_VERSION);
    /* What the decoder would refuse is never written: past a limit the
     * rest of a feed's records are left out (the feed itself stays). */
    size_t records = 0, items = 0, feeds = 0;
    for (size_t i = 0; i < d->n_feeds && feeds < CACHE_MAX_FEEDS; i++) {
        const struct feed_state *f = &d->feeds[i];
        size_t start = b.len;
        kt_buf_puts(&b, "feed\t");
        cache_put_text(&b, f->name, false, true);
        kt_buf_putc(&b, '\t');
        cache_put_text(&b, f->url, false, true);
        kt_buf_putc(&b, '\t');
        cache_put_text(&b, f->etag, true, true);
        kt_buf_putc(&b, '\t');
        cache_put_text(&b, f->last_modified, true, true);
        kt_buf_printf(&b, "\t%lld\t%d", (long long)f->last_success,
                      f->ttl_minutes > 0 ? f->ttl_minutes : 0);
        if (!cache_end_record(&b, start, &feeds, false))
            continue;
        feeds++;
        records++;
        for (size_t j = 0; f->has_entries && j < f->n_entries; j++) {
            const struct store_entry *e = &f->entries[j];
            start = b.len;
            kt_buf_puts(&b, "entry\t");
            cache_put_text(&b, e->title, true, false);
            kt_buf_putc(&b, '\t');
            cache_put_text(&b, e->summary, true, false);
            kt_buf_putc(&b, '\t');
            cache_put_text(&b, e->link, true, false);
            kt_buf_printf(&b, "\t%lld\t%lld\t%s", (long long)e->published, (long long)e->first_seen,
                          e->title_html && e->summary_html ? "ts"
                          : e->title_html                  ? "t"
                          : e->summary_html                ? "s"
                                                           : "-");
            if (cache_end_record(&b, start, &items, true))
                records++;
        }
        for (size_t j = 0; !f->has_entries && j < f->n_items; j++) {
            const struct store_item *it = &f->items[j];
            start = b.len;
            kt_buf_puts(&b, "item\t");
            cache_put_text(&b, it->title, false, false);
            kt_buf_putc(&b, '\t');
            cache_put_text(&b, it->link, true, false);
            kt_buf_printf(&b, "\t%lld\t%lld", (long long)it->published, (long long)it->first_seen);
            if (cache_end_record(&b, start, &items, true))
                records++;
        }
    }
    for (size_t i = 0; i < d->n_messages && i < STORE_MAX_MESSAGES; i++) {
        size_t start = b.len;
        kt_buf_puts(&b, "message\t");
        cache_put_text(&b, d->messages[i].origin, false, true);
        kt_buf_putc(&b, '\t');
        struct kt_buf j;
        kt_buf_init(&j);
        message_to_json(&d->messages[i].m, &j);
        cache_put_text(&b, j.data ? j.data : "", false, false);
        kt_buf_free(&j);
        if (cache_end_record(&b, start, &records, false))
            records++;
    }
    uint32_t crc = cache_crc32(b.data, b.len);
    kt_buf_printf(&b, "end %zu %08x\n", records, (unsigned)crc);
    *len = b.len;
    return kt_buf_steal(&b);
}

/* ---- decoding ---- */

struct cache_parser {
    struct store_dump *d;
    int version;
    size_t cap_feeds, cap_items; /* capacity of d->feeds, of the last feed's list */
    size_t n_items;              /* entry and item records over all feeds */
    size_t line;
    char *err;
    size_t errlen;
};

static int cache_hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Unescapes field [s, s+n). *out is NULL for \N when nullable. exact:
 * any byte may come from \xHH (names, URLs, validators); otherwise the
 * text must be UTF-8. */
static int cache_field_text(struct cache_parser *p, const char *s, size_t n, bool nullable,
                            bool exact, const char *what, char **out)
{
    *out = NULL;
    if (n == 2 && s[0] == '\\' && s[1] == 'N') {
        if (nullable)
            return 0;
        return kt_error(p->err, p->errlen, "line %zu: %s cannot be \\N", p->line, what);
    }
    /* Raw bytes of the file must be UTF-8 whatever the field: the file is
     * text, and the encoder escapes everything else. */
    if (!uni_valid(s, n))
        return kt_error(p->err, p->errlen, "line %zu: invalid UTF-8 in %s", p->line, what);
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_reserve(&b, n);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\0' || c == '\r') {
            kt_buf_free(&b);
            return kt_error(p->err, p->errlen, "line %zu: control character in %s", p->line, what);
        }
        if (c == '\\') {
            char e = i + 1 < n ? s[++i] : '\0';
            c = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == '\\' ? '\\' : 0;
            if (e == 'x' && i + 2 < n) {
                int hi = cache_hexval(s[i + 1]), lo = hi < 0 ? -1 : cache_hexval(s[i + 2]);
                if (lo >= 0 && (hi || lo)) {
                    c = (char)(hi * 16 + lo);
                    i += 2;
                }
            }
            if (!c) {
                kt_buf_free(&b);
                return kt_error(p->err, p->errlen, "line %zu: bad escape in %s", p->line, what);
            }
        }
        kt_buf_putc(&b, c);
    }
    if (!exact && !uni_valid(b.data, b.len)) {
        kt_buf_free(&b);
        return kt_error(p->err, p->errlen, "line %zu: invalid UTF-8 in %s", p->line, what);
    }
    *out = kt_buf_steal(&b);
    return 0;
}

static int cache_field_int(struct cache_parser *p, const char *s, size_t n, int64_t min,
                           int64_t max, const char *what, int64_t *out)
{
    size_t i = 0;
    bool neg = n > 0 && s[0] == '-';
    if (neg)
        i++;
    if (i == n || n - i > 19)
        return kt_error(p->err, p->errlen, "line %zu: bad %s", p->line, what);
    /* Accumulate as a negative number: INT64_MIN has no positive twin. */
    int64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return kt_error(p->err, p->errlen, "line %zu: bad %s", p->line, what);
        int digit = s[i] - '0';
        if (v < (INT64_MIN + digit) / 10)
            return kt_error(p->err, p->errlen, "line %zu: %s out of range", p->line, what);
        v = v * 10 - digit;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return kt_error(p->err, p->errlen, "line %zu: %s out of range", p->line, what);
        v = -v;
    }
    if (v < min || v > max)
        return kt_error(p->err, p->errlen, "line %zu: %s out of range", p->line, what);
    *out = v;
    return 0;
}

/* Splits a line on tabs into at most max fields; returns the count, or
 * max + 1 when there are more. */
static size_t cache_split(const char *s, size_t n, const char **f, size_t *fl, size_t max)
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '\t')
            continue;
        if (count == max)
            return max + 1;
        f[count] = s + start;
        fl[count] = i - start;
        count++;
        start = i + 1;
    }
    return count;
}

static int cache_fields(struct cache_parser *p, const char *kind, size_t nf, size_t want)
{
    if (nf == want)
        return 0;
    return kt_error(p->err, p->errlen, "line %zu: %s record needs %zu fields, has %s%zu", p->line,
                    kind, want, nf > want ? "more than " : "", nf > want ? want : nf);
}

static int cache_parse_feed(struct cache_parser *p, const char **f, size_t *fl, size_t nf)
{
    if (cache_fields(p, "feed", nf, 7))
        return -1;
    if (p->d->n_feeds >= CACHE_MAX_FEEDS)
        return kt_error(p->err, p->errlen, "line %zu: more than %d feeds", p->line,
                        CACHE_MAX_FEEDS);
    struct feed_state fs = {0};
    int64_t last_success, ttl;
    if (cache_field_text(p, f[1], fl[1], false, true, "feed name", &fs.name) ||
        cache_field_text(p, f[2], fl[2], false, true, "feed URL", &fs.url) ||
        cache_field_text(p, f[3], fl[3], true, true, "ETag", &fs.etag) ||
        cache_field_text(p, f[4], fl[4], true, true, "Last-Modified", &fs.last_modified) ||
        cache_field_int(p, f[5], fl[5], INT64_MIN, INT64_MAX, "last success", &last_success) ||
        cache_field_int(p, f[6], fl[6], 0, INT_MAX, "TTL", &ttl)) {
        feed_state_free(&fs);
        return -1;
    }
    if (!*fs.name) {
        feed_state_free(&fs);
        return kt_error(p->err, p->errlen, "line %zu: empty feed name", p->line);
    }
    fs.last_success = last_success;
    fs.ttl_minutes = (int)ttl;
    if (p->d->n_feeds == p->cap_feeds) {
        p->cap_feeds = p->cap_feeds ? 2 * p->cap_feeds : 8;
        p->d->feeds = kt_realloc(p->d->feeds, p->cap_feeds * sizeof *p->d->feeds);
    }
    p->d->feeds[p->d->n_feeds++] = fs;
    p->cap_items = 0;
    return 0;
}

/* The feed the next entry or item belongs to, or NULL with the reason. */
static struct feed_state *cache_owner(struct cache_parser *p, bool entry)
{
    if (p->d->n_feeds == 0) {
        kt_error(p->err, p->errlen, "line %zu: %s before any feed", p->line,
                 entry ? "entry" : "item");
        return NULL;
    }
    if (p->n_items >= CACHE_MAX_ITEMS) {
        kt_error(p->err, p->errlen, "line %zu: more than %d items", p->line, CACHE_MAX_ITEMS);
        return NULL;
    }
    struct feed_state *fs = &p->d->feeds[p->d->n_feeds - 1];
    if ((entry && fs->n_items) || (!entry && fs->has_entries)) {
        kt_error(p->err, p->errlen, "line %zu: entries and items in one feed", p->line);
        return NULL;
    }
    return fs;
}

static int cache_parse_item(struct cache_parser *p, const char **f, size_t *fl, size_t nf)
{
    if (cache_fields(p, "item", nf, 5))
        return -1;
    struct feed_state *fs = cache_owner(p, false);
    if (!fs)
        return -1;
    struct store_item it = {0};
    if (cache_field_text(p, f[1], fl[1], false, false, "title", &it.title) ||
        cache_field_text(p, f[2], fl[2], true, false, "link", &it.link) ||
        cache_field_int(p, f[3], fl[3], INT64_MIN, INT64_MAX, "published", &it.published) ||
        cache_field_int(p, f[4], fl[4], INT64_MIN, INT64_MAX, "first seen", &it.first_seen)) {
        free(it.title);
        free(it.link);
        return -1;
    }
    if (fs->n_items == p->cap_items) {
        p->cap_items = p->cap_items ? 2 * p->cap_items : 16;
        fs->items = kt_realloc(fs->items, p->cap_items * sizeof *fs->items);
    }
    fs->items[fs->n_items++] = it;
    p->n_items++;
    return 0;
}

static int cache_parse_entry(struct cache_parser *p, const char **f, size_t *fl, size_t nf)
{
    if (p->version < 2)
        return kt_error(p->err, p->errlen, "line %zu: unknown record type", p->line);
    if (cache_fields(p, "entry", nf, 7))
        return -1;
    struct feed_state *fs = cache_owner(p, true);
    if (!fs)
        return -1;
    struct store_entry e = {0};
    const char *flags = f[6];
    size_t nflags = fl[6];
    bool flags_ok = (nflags == 1 && flags[0] == '-') ||
                    (nflags == 1 && (flags[0] == 't' || flags[0] == 's')) ||
                    (nflags == 2 && flags[0] == 't' && flags[1] == 's');
    if (cache_field_text(p, f[1], fl[1], true, false, "title", &e.title) ||
        cache_field_text(p, f[2], fl[2], true, false, "summary", &e.summary) ||
        cache_field_text(p, f[3], fl[3], true, false, "link", &e.link) ||
        cache_field_int(p, f[4], fl[4], INT64_MIN, INT64_MAX, "published", &e.published) ||
        cache_field_int(p, f[5], fl[5], INT64_MIN, INT64_MAX, "first seen", &e.first_seen) ||
        (!flags_ok && kt_error(p->err, p->errlen, "line %zu: bad flags", p->line))) {
        free(e.title);
        free(e.summary);
        free(e.link);
        return -1;
    }
    e.title_html = memchr(flags, 't', nflags) != NULL;
    e.summary_html = memchr(flags, 's', nflags) != NULL;
    if (fs->n_entries == p->cap_items) {
        p->cap_items = p->cap_items ? 2 * p->cap_items : 16;
        fs->entries = kt_realloc(fs->entries, p->cap_items * sizeof *fs->entries);
    }
    fs->entries[fs->n_entries++] = e;
    fs->has_entries = true;
    p->n_items++;
    return 0;
}

static int cache_parse_message(struct cache_parser *p, const char **f, size_t *fl, size_t nf)
{
    if (p->version < 3)
        return kt_error(p->err, p->errlen, "line %zu: unknown record type", p->line);
    if (cache_fields(p, "message", nf, 3))
        return -1;
    if (p->d->n_messages >= STORE_MAX_MESSAGES)
        return kt_error(p->err, p->errlen, "line %zu: more than %d messages", p->line,
                        STORE_MAX_MESSAGES);
    char *origin = NULL, *json = NULL;
    if (cache_field_text(p, f[1], fl[1], false, true, "origin", &origin) ||
        cache_field_text(p, f[2], fl[2], false, false, "message", &json)) {
        free(origin);
        return -1;
    }
    /* Expiry is judged at load (store_restore), against the clock then. */
    struct message_parse_opts o = {.now = 0, .stored = true};
    struct message m;
    char why[KT_ERR_MAX];
    int rc = message_parse(json, strlen(json), &o, &m, why, sizeof why);
    free(json);
    if (rc != 0 || !*origin) {
        if (rc == 0)
            message_clear(&m);
        free(origin);
        return kt_error(p->err, p->errlen, "line %zu: message: %s", p->line,
                        rc ? why : "empty origin");
    }
    p->d->messages = kt_realloc(p->d->messages, (p->d->n_messages + 1) * sizeof *p->d->messages);
    p->d->messages[p->d->n_messages++] = (struct store_message){origin, m};
    return 0;
}

static int cache_parse_record(struct cache_parser *p, const char *s, size_t n)
{
    if (n > CACHE_MAX_LINE)
        return kt_error(p->err, p->errlen, "line %zu: longer than %d bytes", p->line,
                        CACHE_MAX_LINE);
    const char *f[8];
    size_t fl[8];
    size_t nf = cache_split(s, n, f, fl, 7);
    if (fl[0] == 4 && memcmp(f[0], "feed", 4) == 0)
        return cache_parse_feed(p, f, fl, nf);
    if (fl[0] == 4 && memcmp(f[0], "item", 4) == 0)
        return cache_parse_item(p, f, fl, nf);
    if (fl[0] == 5 && memcmp(f[0], "entry", 5) == 0)
        return cache_parse_entry(p, f, fl, nf);
    if (fl[0] == 7 && memcmp(f[0], "message", 7) == 0)
        return cache_parse_message(p, f, fl, nf);
    return kt_error(p->err, p->errlen, "line %zu: unknown record type", p->line);
}

/* Parses "end N CRC" exactly; false when it is not such a line. */
static bool cache_parse_end(const char *s, size_t n, size_t *records, uint32_t *crc)
{
    if (n < 4 || memcmp(s, "end ", 4) != 0)
        return false;
    size_t i = 4, digits = 0;
    uint64_t r = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 10) {
        r = r * 10 + (uint64_t)(s[i++] - '0');
        digits++;
    }
    if (!digits || i >= n || s[i] != ' ' || n - i - 1 != 8)
        return false;
    uint32_t c = 0;
    for (i++; i < n; i++) {
        int v = cache_hexval(s[i]);
        if (v < 0)
            return false;
        c = c << 4 | (uint32_t)v;
    }
    *records = (size_t)r;
    *crc = c;
    return true;
}

int cache_decode(const char *data, size_t len, struct store_dump *d, char *err, size_t errlen)
{
    d->feeds = NULL;
    d->n_feeds = 0;
    d->messages = NULL;
    d->n_messages = 0;
    static const char magic[] = CACHE_MAGIC " ";
    size_t mlen = sizeof magic - 1;
    if (len == 0)
        return kt_error(err, errlen, "empty file");

    /* The first line decides whether this is ours at all. */
    const char *nl = memchr(data, '\n', len);
    size_t first = nl ? (size_t)(nl - data) : len;
    if (memcmp(data, magic, len < mlen ? len : mlen) != 0)
        return kt_error(err, errlen, "not a kiosk-ticker cache");
    if (!nl)
        return kt_error(err, errlen, "truncated");
    /* Version 1 (items only) is still read: an upgrade keeps its headlines. */
    int version = 0;
    if (first == mlen + 1 && data[mlen] >= '1' && data[mlen] <= '0' + CACHE_VERSION)
        version = data[mlen] - '0';
    if (!version) {
        /* Name the version when it is a number, to make downgrades obvious. */
        size_t vlen = first - mlen;
        bool numeric = vlen > 0 && vlen <= 9;
        for (size_t i = mlen; numeric && i < first; i++)
            numeric = data[i] >= '0' && data[i] <= '9';
        if (numeric)
            return kt_error(err, errlen,
                            "not a kiosk-ticker cache version %d (file has version %.*s)",
                            CACHE_VERSION, (int)vlen, data + mlen);
        return kt_error(err, errlen, "not a kiosk-ticker cache");
    }

    /* Integrity before content: the last line must be a well-formed end
     * line whose checksum matches. */
    if (data[len - 1] != '\n')
        return kt_error(err, errlen, "truncated");
    size_t end_start = len - 1;
    while (end_start > 0 && data[end_start - 1] != '\n')
        end_start--;
    size_t records;
    uint32_t crc;
    if (end_start <= first ||
        !cache_parse_end(data + end_start, len - 1 - end_start, &records, &crc))
        return kt_error(err, errlen, "truncated");
    if (cache_crc32(data, end_start) != crc)
        return kt_error(err, errlen, "checksum mismatch");

    struct cache_parser p = {.d = d, .version = version, .line = 1, .err = err, .errlen = errlen};
    size_t seen = 0;
    for (size_t pos = first + 1; pos < end_start;) {
        const char *e = memchr(data + pos, '\n', end_start - pos);
        size_t n = (size_t)(e - (data + pos)); /* end_start follows a '\n' */
        p.line++;
        if (cache_parse_record(&p, data + pos, n) != 0) {
            store_dump_free(d);
            return -1;
        }
        seen++;
        pos += n + 1;
    }
    if (seen != records) {
        store_dump_free(d);
        return kt_error(err, errlen, "line %zu: end says %zu records, file has %zu", p.line + 1,
                        records, seen);
    }
    return 0;
}

/* ---- saving ---- */

/* The one lock of cache writing in the process: the temporary name only
 * carries the PID, so two writers must not write it at once; it also
 * guards every struct cache_file. */
static pthread_mutex_t cache_save_mu = PTHREAD_MUTEX_INITIALIZER;

static char *cache_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return kt_strdup(".");
    if (slash == path)
        return kt_strdup("/");
    return kt_strndup(path, (size_t)(slash - path));
}

static int cache_mkdir_p(const char *dir)
{
    char *p = kt_strdup(dir);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = -1;
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    if (rc == 0) {
        /* EEXIST also covers a file in the way; say so rather than fail
         * later with a puzzling ENOTDIR on the temporary file. */
        struct stat st;
        if (stat(p, &st) != 0)
            rc = -1;
        else if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            rc = -1;
        }
    }
    int saved = errno;
    free(p);
    errno = saved;
    return rc;
}

static int cache_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = ENOSPC;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Test hook: KT_CACHE_WRITE_DELAY_MS=N sleeps N ms after the temporary file
 * is written and before it is renamed, so a test can kill -9 the process
 * in the middle of a save and check the old cache survives. */
static void cache_test_delay(void)
{
    const char *v = getenv("KT_CACHE_WRITE_DELAY_MS");
    if (!v || !*v)
        return;
    long ms = strtol(v, NULL, 10);
    if (ms <= 0)
        return;
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int cache_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    /* Some filesystems cannot sync a directory; nothing more can be done. */
    if (rc != 0 && saved == EINVAL)
        rc = 0;
    errno = saved;
    return rc;
}

/* Writes data to tmp and renames it to path. On error errno is set and
 * the temporary file is gone. */
static int cache_write_atomic(const char *path, const char *tmp, const char *dir, const char *data,
                              size_t len)
{
    int fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST) {
        /* Left by an earlier process with our PID (PIDs repeat across the
         * reboots a power cut causes); saves here are serialised, so it is
         * not in use. */
        unlink(tmp);
        fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    }
    if (fd < 0)
        return -1;
    if (cache_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        errno = saved;
        return -1;
    }
    /* close can report deferred write errors (NFS, some FUSE). */
    if (close(fd) != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    cache_test_delay();
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    return cache_fsync_dir(dir);
}

/* FNV-1a over the encoded bytes: what was last written, to compare with. */
static uint64_t cache_hash(const char *data, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ULL;
    }
    return h;
}

struct cache_file {
    char *path;
    /* What the file holds, as far as this process knows (under
     * cache_save_mu): the bytes' hash and length, and the file's identity
     * and size and time when it was written or read, so a file someone
     * removed or replaced since is written again. */
    bool known;
    uint64_t hash;
    size_t len;
    struct stat st;
    char last_err[KT_ERR_MAX]; /* the last failure logged; "" = the last save worked */
};

struct cache_file *cache_file_new(const char *path)
{
    struct cache_file *cf = kt_calloc(1, sizeof *cf);
    cf->path = kt_strdup(path);
    return cf;
}

void cache_file_free(struct cache_file *cf)
{
    if (!cf)
        return;
    free(cf->path);
    free(cf);
}

const char *cache_file_path(const struct cache_file *cf)
{
    return cf->path;
}

static bool cache_same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Remembers that the file at cf->path now holds data (under cache_save_mu). */
static void cache_file_remember(struct cache_file *cf, const char *data, size_t len)
{
    cf->known = stat(cf->path, &cf->st) == 0;
    cf->hash = cache_hash(data, len);
    cf->len = len;
}

int cache_write_file(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char *dir = cache_dirname(path);
    char *tmp = kt_asprintf("%s.tmp.%ld", path, (long)getpid());
    int rc = 0;
    if (cache_mkdir_p(dir) != 0)
        rc = kt_error(err, errlen, "%s: %s", dir, strerror(errno));
    else if (cache_write_atomic(path, tmp, dir, data, len) != 0)
        rc = kt_error(err, errlen, "%s: %s", path, strerror(errno));
    free(tmp);
    free(dir);
    return rc;
}

int cache_file_save(struct cache_file *cf, struct store *s, char *err, size_t errlen)
{
    struct store_dump d = store_dump(s);
    size_t len;
    char *data = cache_encode(&d, &len);
    store_dump_free(&d);

    pthread_mutex_lock(&cache_save_mu);
    struct stat now;
    int rc;
    if (cf->known && cf->len == len && cf->hash == cache_hash(data, len) &&
        stat(cf->path, &now) == 0 && cache_same_file(&now, &cf->st)) {
        rc = 0;
    } else if (cache_write_file(cf->path, data, len, err, errlen) == 0) {
        cache_file_remember(cf, data, len);
        rc = 1;
    } else {
        cf->known = false;
        rc = -1;
    }
    /* A full or read-only disk fails every save the same way: one error
     * line says so, the repeats go to debug, and the first save that works
     * again says that. */
    if (rc < 0 && strcmp(err, cf->last_err) != 0)
        kt_log_error("cache not saved: %s", err);
    else if (rc < 0)
        kt_log_debug("cache not saved (again): %s", err);
    else if (rc > 0 && cf->last_err[0])
        kt_log_info("cache saved again to %s", cf->path);
    if (rc < 0)
        snprintf(cf->last_err, sizeof cf->last_err, "%s", err);
    else if (rc > 0)
        cf->last_err[0] = '\0';
    pthread_mutex_unlock(&cache_save_mu);
    free(data);
    return rc;
}

int cache_save(struct store *s, const char *path, char *err, size_t errlen)
{
    struct store_dump d = store_dump(s);
    size_t len;
    char *data = cache_encode(&d, &len);
    store_dump_free(&d);
    pthread_mutex_lock(&cache_save_mu);
    int rc = cache_write_file(path, data, len, err, errlen);
    pthread_mutex_unlock(&cache_save_mu);
    free(data);
    return rc;
}

/* ---- loading ---- */

/* Removes PATH.tmp.PID files whose process is gone: each one is a save
 * that a crash or power cut interrupted. Files of live processes are left
 * alone, in case two instances share a cache path. */
static void cache_remove_stale_tmp(const char *path)
{
    char *dir = cache_dirname(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char *prefix = kt_asprintf("%s.tmp.", base);
    size_t plen = strlen(prefix);
    DIR *dh = opendir(dir);
    if (dh) {
        struct dirent *de;
        while ((de = readdir(dh)) != NULL) {
            if (strncmp(de->d_name, prefix, plen) != 0)
                continue;
            char *endp;
            errno = 0;
            long pid = strtol(de->d_name + plen, &endp, 10);
            if (errno || *endp || endp == de->d_name + plen || pid <= 0 || pid > INT_MAX)
                continue;
            if (pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
                char *full = kt_asprintf("%s/%s", dir, de->d_name);
                unlink(full);
                free(full);
            }
        }
        closedir(dh);
    }
    free(prefix);
    free(dir);
}

/* Reads path into the store; on success *data and *len keep the bytes. */
static int cache_read_into(struct store *s, const char *path, int64_t now, char **data, size_t *len,
                           char *err, size_t errlen)
{
    *data = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return kt_error(err, errlen, "%s: %s", path, strerror(errno));
    }
    cache_remove_stale_tmp(path);
    if (kt_read_file(path, CACHE_MAX_FILE, data, len, err, errlen) != 0)
        return -1;
    struct store_dump d;
    char why[KT_ERR_MAX];
    if (cache_decode(*data, *len, &d, why, sizeof why) != 0) {
        free(*data);
        *data = NULL;
        return kt_error(err, errlen, "%s: %s", path, why);
    }
    store_restore(s, &d, now);
    store_dump_free(&d);
    return 0;
}

int cache_load(struct store *s, const char *path, int64_t now, char *err, size_t errlen)
{
    char *data;
    size_t len;
    int rc = cache_read_into(s, path, now, &data, &len, err, errlen);
    free(data);
    return rc;
}

int cache_file_load(struct cache_file *cf, struct store *s, int64_t now, char *err, size_t errlen)
{
    char *data;
    size_t len;
    int rc = cache_read_into(s, cf->path, now, &data, &len, err, errlen);
    if (data) {
        pthread_mutex_lock(&cache_save_mu);
        cache_file_remember(cf, data, len);
        pthread_mutex_unlock(&cache_save_mu);
        free(data);
    }
    return rc;
}
