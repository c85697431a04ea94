/*
 * feed: the parser's front door and the feed document model. Decodes the
 * document to UTF-8, decides what it is from its first significant
 * character (never from a name or a Content-Type, which lie), hands it to
 * the XML, JSON or text-list reader, and makes every link it returns an
 * absolute URL (or nothing).
 */
#include "feed.h"
#include "feed_internal.h"
#include "log.h"
#include "text.h"
#include "util.h"

#include <libxml/uri.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- links ---- */

/* Bytes that are never part of a URL as written in a feed: controls,
 * quotes and angle brackets are what is left of broken markup
 * ("<link>href=\"http://…</link>"). */
static bool feed_url_junk(unsigned char c)
{
    return c < 0x20 || c == 0x7F || c == '"' || c == '<' || c == '>' || c == '`';
}

/* A plain path's file:// URL (relative paths against the working
 * directory, which is where the transport opened them). */
static char *feed_path_url(const char *path)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_puts(&b, "file://");
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd)) {
            kt_buf_puts(&b, cwd);
            if (b.data[b.len - 1] != '/')
                kt_buf_putc(&b, '/');
        } else {
            kt_buf_putc(&b, '/');
        }
    }
    xmlChar *esc = xmlURIEscapeStr((const xmlChar *)path, (const xmlChar *)"/:@!$&'()*+,;=~");
    kt_buf_puts(&b, esc ? (const char *)esc : path);
    xmlFree(esc);
    return kt_buf_steal(&b);
}

char *feed_resolve_url(const char *ref, const char *base)
{
    if (!ref)
        return NULL;
    /* libxml2 would re-serialise absolute URLs; keep them byte for byte
     * (feed_link_check escapes what must be) */
    if (kt_url_scheme_len(ref) > 0)
        return kt_strdup(ref);
    /* a relative reference with markup debris is not a reference at all:
     * "href=\"http://…" must not become http://feed.example/href=%22… */
    for (const char *p = ref; *p; p++)
        if (feed_url_junk((unsigned char)*p))
            return NULL;
    if (!base || !*base)
        return kt_strdup(ref);
    char *path_base = kt_url_scheme_len(base) > 0 ? NULL : feed_path_url(base);
    const xmlChar *b = (const xmlChar *)(path_base ? path_base : base);
    xmlChar *r = xmlBuildURI((const xmlChar *)ref, b);
    if (!r) {
        /* spaces, '|', raw non-ASCII: escape what RFC 3986 forbids, retry */
        xmlChar *esc =
            xmlURIEscapeStr((const xmlChar *)ref, (const xmlChar *)":/?#[]@!$&'()*+,;=%~");
        if (esc) {
            r = xmlBuildURI(esc, b);
            xmlFree(esc);
        }
    }
    free(path_base);
    if (!r)
        return kt_strdup(ref);
    char *out = kt_strdup((const char *)r);
    xmlFree(r);
    return out;
}

char *feed_link_check(char *url, bool allow_file)
{
    if (!url)
        return NULL;
    size_t scheme = kt_url_scheme_len(url);
    bool ok = (scheme == 4 && kt_str_has_prefix_nocase(url, "http:")) ||
              (scheme == 5 && kt_str_has_prefix_nocase(url, "https:")) ||
              (allow_file && scheme == 4 && kt_str_has_prefix_nocase(url, "file:"));
    /* http(s) needs "//" and a host, file: a path: "http:x" names nothing
     * a screen could open */
    const char *rest = url + scheme + 1;
    if (scheme == 4 && kt_str_has_prefix_nocase(url, "file:"))
        ok = ok && rest[0] == '/';
    else
        ok = ok && rest[0] == '/' && rest[1] == '/' && rest[2] && !strchr("/?#", rest[2]);
    size_t odd = 0;
    for (const char *p = url; ok && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7F)
            ok = false; /* never part of a URL, not even escaped */
        else if (c == ' ' || feed_url_junk(c))
            odd++;
    }
    if (!ok) {
        free(url);
        return NULL;
    }
    if (!odd)
        return url;
    /* an absolute URL kept as written may still hold a space or a quote
     * (href='…?q="x"'): escaped, as a browser would */
    struct kt_buf b;
    kt_buf_init(&b);
    for (const char *p = url; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || feed_url_junk(c))
            kt_buf_printf(&b, "%%%02X", c);
        else
            kt_buf_putc(&b, (char)c);
    }
    free(url);
    return kt_buf_steal(&b);
}

/* Every link of doc made absolute-or-nothing: the README promises it. */
static void feed_doc_check_links(struct feed_doc *doc, const char *base)
{
    bool local =
        !base || !*base || kt_url_scheme_len(base) == 0 || kt_str_has_prefix_nocase(base, "file:");
    doc->link = feed_link_check(doc->link, local);
    for (size_t i = 0; i < doc->n_entries; i++)
        doc->entries[i].link = feed_link_check(doc->entries[i].link, local);
}

/* ---- the document model ---- */

struct feed_entry *feed_doc_add_entry(struct feed_doc *doc, size_t *cap)
{
    if (doc->n_entries >= FEED_MAX_ENTRIES) {
        doc->entries_cut = true;
        return NULL;
    }
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
    if (rc != 0) {
        feed_doc_free(doc);
        return rc;
    }
    feed_doc_check_links(doc, opts->base_url);
    if (doc->entries_cut)
        kt_log_warn("%s: more than %d entries; only the first %d are read",
                    opts->base_url ? opts->base_url : "feed", FEED_MAX_ENTRIES, FEED_MAX_ENTRIES);
    return 0;
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
