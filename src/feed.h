/*
 * feed: detects and parses a feed document into raw entries. Pure logic
 * (libxml2, json-c, iconv; no network, no file system).
 *
 * Formats are detected by content, never by name: RSS 0.9x/2.0, RSS 1.0
 * (RDF), Atom 0.3/1.0, JSON Feed 1.0/1.1, and, when the caller allows it,
 * plain text (one headline per non-empty line, '#' starts a comment).
 *
 * Safety: the XML parser never loads external entities or DTDs, never
 * touches the network or the file system, and refuses entity-expansion
 * bombs. Ill-formed XML is recovered (bare '&', HTML named entities, bad
 * nesting) and yields every entry that can be saved.
 */
#ifndef KT_FEED_H
#define KT_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum feed_format { FEED_RSS, FEED_RDF, FEED_ATOM, FEED_JSON, FEED_TEXT };

/* Most entries read from one document. */
#define FEED_MAX_ENTRIES 100000

struct feed_entry {
    char *title;     /* UTF-8 as in the document after XML/JSON decoding, or NULL */
    bool title_html; /* title is HTML (tags and entity references still to do) */
    char *summary;   /* first of content / summary / description, or NULL */
    bool summary_html;
    char *link;        /* absolute URL (resolved against xml:base / the feed URL), or NULL */
    int64_t published; /* UTC seconds: published, else updated; 0 = unknown */
};

struct feed_doc {
    enum feed_format format;
    char *title;     /* feed title, plain UTF-8 (already normalised), or NULL */
    char *link;      /* feed link (absolute), or NULL */
    int ttl_minutes; /* RSS <ttl>, 0 when absent */
    size_t n_entries;
    struct feed_entry *entries; /* document order */
    bool entries_cut;           /* more than FEED_MAX_ENTRIES: only the first are kept */
};

struct feed_parse_opts {
    const char *base_url;     /* the document's URL, for relative links; may be NULL */
    const char *content_type; /* HTTP Content-Type (its charset wins); may be NULL */
    bool allow_text;          /* local files: non-XML/JSON content is a text list */
};

/* Parses data. Returns 0 and fills doc, or -1 with a one-line reason in err
 * ("not a feed: HTML page", "XML: entity expansion refused (…)", …).
 *
 * Success means the whole document was read: a document cut short (its
 * root element or top-level JSON object unfinished), one whose hostile
 * construct was refused (entity bomb, nesting past the limit), one the XML
 * parser gave up on, and a JSON Feed without "version" or with "items"
 * that is not an array all fail, even when some entries were recovered,
 * so the caller keeps what it had. Ill-formed but complete documents are
 * recovered. On success doc may still have 0 entries; a document with more
 * than FEED_MAX_ENTRIES (100000) entries keeps the first ones, sets
 * entries_cut and logs one warning. */
int feed_parse(const char *data, size_t len, const struct feed_parse_opts *opts,
               struct feed_doc *doc, char *err, size_t errlen);
void feed_doc_free(struct feed_doc *doc);

const char *feed_format_name(enum feed_format f);

/* Resolves ref against base (either may be NULL) with libxml2's RFC 3986
 * rules; a relative ref against a plain path resolves against the path's
 * file:// URL. Absolute refs come back unchanged. Never NULL for non-NULL
 * ref. */
char *feed_resolve_url(const char *ref, const char *base);
/* The link a headline may carry: an absolute http(s) URL (or file:// when
 * allow_file), without spaces, quotes or angle brackets, else NULL. Takes
 * ownership of url. */
char *feed_link_check(char *url, bool allow_file);

#endif
