/*
 * feed_internal: what the feed parser's files share and nobody else uses:
 * the per-format parsers, charset decoding to UTF-8, field limits and the
 * small text fix-ups every format applies to its values.
 */
#ifndef KT_FEED_INTERNAL_H
#define KT_FEED_INTERNAL_H

#include "feed.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds that keep memory proportional to the document whatever it holds. */
#define FEED_MAX_TITLE (64u * 1024u)
#define FEED_MAX_SUMMARY (1024u * 1024u)
#define FEED_MAX_SHORT (8u * 1024u) /* links, dates, ids, ttl */
#define FEED_MAX_TTL 10080          /* one week, in minutes */

/* The document as UTF-8: data points either into the caller's bytes or
 * into owned (freed by feed_utf8_free). */
struct feed_utf8 {
    const char *data;
    size_t len;
    char *owned;
    bool utf8_source; /* the bytes were (valid) UTF-8, not converted */
};

/* Decodes a whole document to valid UTF-8 without a BOM. Priority: BOM,
 * UTF-16/32 byte patterns, charset= in content_type, the XML declaration,
 * UTF-8 (invalid sequences decoded as windows-1252). Returns 0, or -1 with
 * "charset: cannot convert from X". */
int feed_charset_decode(const char *data, size_t len, const char *content_type,
                        struct feed_utf8 *out, char *err, size_t errlen);
void feed_utf8_free(struct feed_utf8 *u);

/* Any bytes to valid UTF-8: valid sequences kept, every other byte read as
 * windows-1252; NUL bytes dropped. Result cut to at most max bytes (at a
 * character boundary). */
char *feed_charset_fix_utf8(const char *s, size_t len, size_t max);

/* What feedparser does to every text value: undo UTF-8 that was decoded as
 * Latin-1 and encoded again (only when the source was UTF-8), then map
 * C1 controls U+0080..U+009F to their windows-1252 characters. Takes
 * ownership of s and returns the (possibly new) string. */
char *feed_charset_fix_value(char *s, bool utf8_source);

/* Per-format parsers over valid UTF-8 text (doc is zeroed by the caller and
 * freed by it on failure). */
int feed_xml_parse(const struct feed_utf8 *u, const struct feed_parse_opts *opts,
                   struct feed_doc *doc, char *err, size_t errlen);
int feed_json_parse(const struct feed_utf8 *u, const struct feed_parse_opts *opts,
                    struct feed_doc *doc, char *err, size_t errlen);

/* Appends one entry (zeroed) to doc and returns it, or NULL at the limit. */
struct feed_entry *feed_doc_add_entry(struct feed_doc *doc, size_t *cap);

#endif
