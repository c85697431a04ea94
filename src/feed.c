/*
 * feed: the parser's front door. Decodes the document to UTF-8, decides
 * what it is from its first significant character (never from a name or a
 * Content-Type, which lie), and hands it to the XML, JSON or text-list
 * reader.
 */
#include "feed.h"
#include "feed_internal.h"
#include "text.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

struct feed_entry *feed_doc_add_entry(struct feed_doc *doc, size_t *cap)
{
    if (doc->n_entries >= FEED_MAX_ENTRIES)
        return NULL;
    if (doc->n_entries == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        if (*cap > FEED_MAX_ENTRIES)
            *cap = FEED_MAX_ENTRIES;
        doc->entries = kt_realloc(doc->entries, *cap * sizeof *doc->entries);
    }
    struct feed_entry *e = &doc->entries[doc->n_entries++];
    memset(e, 0, sizeof *e);
    return e;
}

static bool feed_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A local headline list: one headline per line, '#' starts a comment. */
static int feed_text_parse(const struct feed_utf8 *u, struct feed_doc *doc)
{
    size_t cap = 0;
    const char *p = u->data, *end = u->data + u->len;
    doc->format = FEED_TEXT;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *s = p;
        p = nl ? nl + 1 : end;
        while (s < e && feed_is_space(*s))
            s++;
        if (s == e || *s == '#')
            continue;
        size_t n = (size_t)(e - s);
        if (n > FEED_MAX_TITLE)
            n = FEED_MAX_TITLE;
        char *title = text_plain(s, n, false);
        if (!title || !*title) {
            free(title);
            continue;
        }
        struct feed_entry *ent = feed_doc_add_entry(doc, &cap);
        if (!ent) {
            free(title);
            break;
        }
        ent->title = title;
    }
    return 0;
}

int feed_parse(const char *data, size_t len, const struct feed_parse_opts *opts,
               struct feed_doc *doc, char *err, size_t errlen)
{
    static const struct feed_parse_opts no_opts;
    if (!opts)
        opts = &no_opts;
    memset(doc, 0, sizeof *doc);
    /* an empty local headline list is a valid answer: no headlines; an
     * empty HTTP body is a failed fetch */
    if (!data || len == 0) {
        if (!opts->allow_text)
            return kt_error(err, errlen, "empty document");
        doc->format = FEED_TEXT;
        return 0;
    }

    struct feed_utf8 u;
    if (feed_charset_decode(data, len, opts->content_type, &u, err, errlen) != 0)
        return -1;
    size_t i = 0;
    while (i < u.len && feed_is_space(u.data[i]))
        i++;
    int rc;
    if (i == u.len) {
        doc->format = FEED_TEXT; /* reset with the rest of doc on error */
        rc = opts->allow_text ? 0 : kt_error(err, errlen, "empty document");
    } else if (u.data[i] == '{') {
        rc = feed_json_parse(&u, opts, doc, err, errlen);
    } else if (u.data[i] == '<') {
        rc = feed_xml_parse(&u, opts, doc, err, errlen);
    } else if (opts->allow_text) {
        rc = feed_text_parse(&u, doc);
    } else {
        rc = kt_error(err, errlen, "not a feed: neither XML nor JSON");
    }
    feed_utf8_free(&u);
    if (rc != 0)
        feed_doc_free(doc);
    return rc;
}

void feed_doc_free(struct feed_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->n_entries; i++) {
        free(doc->entries[i].title);
        free(doc->entries[i].summary);
        free(doc->entries[i].link);
    }
    free(doc->entries);
    free(doc->title);
    free(doc->link);
    memset(doc, 0, sizeof *doc);
}

const char *feed_format_name(enum feed_format f)
{
    switch (f) {
    case FEED_RSS:
        return "RSS";
    case FEED_RDF:
        return "RDF";
    case FEED_ATOM:
        return "Atom";
    case FEED_JSON:
        return "JSON Feed";
    case FEED_TEXT:
        return "text";
    }
    return "unknown";
}
