/*
 * feed_xml: RSS 0.9x/2.0, RSS 1.0 (RDF), Atom 0.3/1.0 and CDF through
 * libxml2's SAX2 push interface.
 *
 * Why SAX and not a tree: a tree costs several times the document in
 * memory; the SAX walk keeps only the entry being built, and the document
 * is fed in chunks, so memory stays near the document size and nothing
 * here recurses on document nesting.
 *
 * The text goes through the repair pass (xml_repair.h) on its way to
 * libxml2, which fixes what libxml2's recovery would lose, refuses hostile
 * documents and notices documents cut short.
 *
 * When a parse is a success: the root element was closed, nothing hostile
 * was refused and libxml2 did not give up half way. Anything else is a
 * failure with one reason, even when some entries were recovered, so the
 * caller keeps the feed's previous entries rather than a part of it.
 *
 * Defence in depth: the SAX guards and the entity loader of xml_safe.h.
 */
#include "feed_internal.h"
#include "date.h"
#include "text.h"
#include "util.h"
#include "xml_repair.h"
#include "xml_safe.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/uri.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------------
 * SAX state
 */

static bool feed_xml_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

#define XML_MAX_FRAMES 512
#define PRIO_NONE 1000
/* Link sources, best first: RSS <link> text is 0, Atom alternates 1-7
 * (see feed_xml_link_begin), then these. */
#define LINK_PRIO_ATOM03 8 /* Atom 0.3's href-less <link>URL</link> */
#define LINK_PRIO_GUID 9   /* an RSS permalink guid */
#define LINK_PRIO_CDF 10   /* CDF <ITEM HREF=…> */

enum feed_xml_ns {
    NS_NONE,
    NS_OTHER,
    NS_RSS,
    NS_RDF,
    NS_ATOM10,
    NS_ATOM03,
    NS_DC,
    NS_DCTERMS,
    NS_CONTENT,
    NS_MEDIA,
    NS_XHTML,
    NS_ITUNES,
};

enum feed_xml_field { F_TITLE, F_SUMMARY, F_LINK, F_GUID, F_PUB, F_UPD, F_TTL };
enum feed_xml_type { T_NONE, T_TEXT, T_HTML, T_XHTML };

struct feed_xml_item {
    char *title, *summary, *link;
    bool title_html, summary_html;
    int title_prio, summary_prio, link_prio, date_prio;
    int64_t published;
};

struct feed_xml_capture {
    int depth; /* of the field element; 0 = no capture */
    enum feed_xml_field field;
    int prio;
    bool feed_level;
    bool default_html; /* RSS description, content:encoded */
    bool base64, escaped, permalink;
    enum feed_xml_type type;
    bool strip_div; /* Atom 1.0 xhtml: the wrapping div is not content */
    bool div_seen;
    int div_depth;
    bool had_child; /* element children: the value is serialised markup */
    bool tag_open;  /* serialised start tag still lacks its '>' */
    size_t limit;
    struct kt_buf text, xml;
    const char *base;
};

struct feed_xml_frame {
    char *base; /* in-scope xml:base, owned when own_base */
    bool own_base;
};

struct feed_xml_state {
    xmlParserCtxtPtr ctxt;
    struct feed_doc *doc;
    size_t entries_cap;
    bool utf8_source;
    bool root_seen, stopped;
    bool halted;     /* libxml2 gave up on the document (one of its limits) */
    bool entry_root; /* an Atom Entry Document */
    char root_err[160];
    const char *doctype; /* the rewrite's record of the DOCTYPE name */
    const xmlChar *root_uri;
    enum feed_format format;
    int depth, feed_depth, entry_depth;
    bool in_item;
    struct feed_xml_item item, feed;
    int ttl;
    struct feed_xml_capture cap;
    struct feed_xml_frame frames[XML_MAX_FRAMES + 1];
    const xmlChar *ns_ptr[8];
    unsigned char ns_cls[8];
    unsigned ns_next;
    bool have_err;
    int err_line, fatal_line;
    char err_msg[200], fatal_msg[200];
    size_t url_budget; /* bytes xmlBuildURI may still chew on */
};

static void feed_xml_item_reset(struct feed_xml_item *it)
{
    free(it->title);
    free(it->summary);
    free(it->link);
    memset(it, 0, sizeof *it);
    it->title_prio = it->summary_prio = it->link_prio = it->date_prio = PRIO_NONE;
}

static enum feed_xml_ns feed_xml_ns_lookup(const char *uri)
{
    static const struct {
        const char *uri;
        enum feed_xml_ns ns;
    } known[] = {
        {"http://www.w3.org/2005/Atom", NS_ATOM10},
        {"http://purl.org/atom/ns#", NS_ATOM03},
        {"http://purl.org/rss/1.0/", NS_RSS},
        {"http://my.netscape.com/rdf/simple/0.9/", NS_RSS},
        {"http://purl.org/net/rss1.1#", NS_RSS},
        {"http://blogs.law.harvard.edu/tech/rss", NS_RSS},
        {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF},
        {"http://purl.org/dc/elements/1.1/", NS_DC},
        {"http://purl.org/dc/terms/", NS_DCTERMS},
        {"http://purl.org/rss/1.0/modules/content/", NS_CONTENT},
        {"http://search.yahoo.com/mrss/", NS_MEDIA},
        {"http://search.yahoo.com/mrss", NS_MEDIA},
        {"http://www.w3.org/1999/xhtml", NS_XHTML},
        {"http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES},
    };
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcasecmp(uri, known[i].uri) == 0)
            return known[i].ns;
    if (strstr(uri, "backend.userland.com/rss"))
        return NS_RSS;
    return NS_OTHER;
}

/* Namespace class of uri; URIs are interned in the parser's dictionary, so
 * a few pointers remember the answer for the common ones. */
static enum feed_xml_ns feed_xml_ns(struct feed_xml_state *st, const xmlChar *uri)
{
    if (!uri || !*uri)
        return NS_NONE;
    for (unsigned i = 0; i < 8; i++)
        if (st->ns_ptr[i] == uri)
            return (enum feed_xml_ns)st->ns_cls[i];
    enum feed_xml_ns ns = feed_xml_ns_lookup((const char *)uri);
    st->ns_ptr[st->ns_next] = uri;
    st->ns_cls[st->ns_next] = (unsigned char)ns;
    st->ns_next = (st->ns_next + 1) & 7;
    return ns;
}

/* Is an element in the feed's own vocabulary? No namespace, the root's
 * namespace, or a known namespace of the same family. */
static bool feed_xml_core(struct feed_xml_state *st, enum feed_xml_ns ns, const xmlChar *uri)
{
    if (ns == NS_NONE)
        return true;
    if (st->root_uri && uri && (uri == st->root_uri || xmlStrEqual(uri, st->root_uri)))
        return true;
    if (st->format == FEED_ATOM)
        return ns == NS_ATOM10 || ns == NS_ATOM03;
    return ns == NS_RSS;
}

static bool feed_xml_name_is(const xmlChar *name, const char *want)
{
    return strcasecmp((const char *)name, want) == 0;
}

/* An unqualified attribute by local name (case-insensitive, for CDF),
 * as a new string with libxml2's "&#38;" escape for '&' undone. */
static char *feed_xml_attr(const xmlChar **attrs, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        const xmlChar **a = attrs + 5 * i;
        if (a[2] || !feed_xml_name_is(a[0], name))
            continue;
        const char *v = (const char *)a[3], *e = (const char *)a[4];
        struct kt_buf b;
        kt_buf_init(&b);
        kt_buf_reserve(&b, (size_t)(e - v));
        while (v < e) {
            if (*v == '&' && e - v >= 5 && memcmp(v, "&#38;", 5) == 0) {
                kt_buf_putc(&b, '&');
                v += 5;
            } else {
                kt_buf_putc(&b, *v++);
            }
        }
        return kt_buf_steal(&b);
    }
    return NULL;
}

static char *feed_xml_attr_xmlbase(const xmlChar **attrs, int n)
{
    for (int i = 0; i < n; i++) {
        const xmlChar **a = attrs + 5 * i;
        if (a[2] && xmlStrEqual(a[2], XML_XML_NAMESPACE) && xmlStrEqual(a[0], BAD_CAST "base"))
            return kt_strndup((const char *)a[3], (size_t)(a[4] - a[3]));
    }
    return NULL;
}

static char *feed_xml_trim_dup(const char *s, size_t n)
{
    while (n && feed_xml_is_space(*s)) {
        s++;
        n--;
    }
    while (n && (feed_xml_is_space(s[n - 1]) || s[n - 1] == '\f'))
        n--;
    return kt_strndup(s, n);
}

/* Resolves within the document's budget: each resolution costs the length
 * of both strings, so nesting many xml:base values cannot go quadratic. */
static char *feed_xml_resolve(struct feed_xml_state *st, const char *ref, const char *base)
{
    size_t cost = strlen(ref) + (base ? strlen(base) : 0) + 16;
    if (!base || kt_url_scheme_len(ref) > 0 || cost > st->url_budget)
        return kt_strdup(ref);
    st->url_budget -= cost;
    return feed_resolve_url(ref, base);
}

static void feed_xml_stop(struct feed_xml_state *st)
{
    st->stopped = true;
    xmlStopParser(st->ctxt);
}

/* ---------------------------------------------------------------------------
 * Value decisions
 */

/* Elements that mark a start tag in a title as HTML; "Vector<int>" or
 * "<Breaking>" stay text. */
static bool feed_xml_html_element(const char *name, size_t n)
{
    static const char *const known[] = {
        "a",    "abbr",   "b",      "big",  "blockquote", "br", "cite", "code", "del", "div",
        "em",   "font",   "h1",     "h2",   "h3",         "h4", "h5",   "h6",   "hr",  "i",
        "img",  "ins",    "li",     "mark", "ol",         "p",  "pre",  "q",    "s",   "small",
        "span", "strike", "strong", "sub",  "sup",        "u",  "ul",   NULL};
    for (const char *const *k = known; *k; k++)
        if (strlen(*k) == n && strncasecmp(*k, name, n) == 0)
            return true;
    return false;
}

/* Whether a value of undeclared type is HTML (RSS titles routinely are,
 * escaped or in CDATA): a closing tag, a known element's start tag, or a
 * character or HTML entity reference. */
static bool feed_xml_looks_like_html(const char *s, size_t len)
{
    const char *e = s + len;
    for (const char *p = s; p < e; p++) {
        if (*p == '<' && e - p >= 3) {
            const char *q = p + 1;
            bool close = *q == '/';
            q += close;
            if (q >= e || !((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')))
                continue;
            const char *nm = q;
            while (q < e && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                             (*q >= '0' && *q <= '9')))
                q++;
            size_t nl = (size_t)(q - nm);
            if (close) {
                while (q < e && feed_xml_is_space(*q))
                    q++;
                if (q < e && *q == '>')
                    return true;
            } else if (q < e && (*q == '>' || *q == '/' || feed_xml_is_space(*q)) &&
                       feed_xml_html_element(nm, nl)) {
                return true;
            }
        } else if (*p == '&' && e - p >= 3) {
            const char *q = p + 1;
            if (*q == '#') {
                q++;
                if (q < e && (*q == 'x' || *q == 'X'))
                    q++;
                const char *d = q;
                while (q < e && ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
                                 (*q >= 'A' && *q <= 'F')))
                    q++;
                if (q > d && q < e && *q == ';')
                    return true;
            } else {
                const char *nm = q;
                while (q < e && q - nm < 40 &&
                       ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                        (*q >= '0' && *q <= '9')))
                    q++;
                if (q > nm && q < e && *q == ';' &&
                    text_entity_lookup(nm, (size_t)(q - nm)) != NULL)
                    return true;
            }
        }
    }
    return false;
}

static int feed_xml_b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Lenient base64 (whitespace skipped, stops at '=' or junk) to UTF-8. */
static char *feed_xml_base64_text(const char *s, size_t n, size_t limit)
{
    char *raw = kt_malloc(n / 4 * 3 + 4);
    size_t len = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (feed_xml_is_space((char)c))
            continue;
        int v = feed_xml_b64_val(c);
        if (v < 0)
            break;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[len++] = (char)((acc >> bits) & 0xFF);
        }
    }
    char *out = feed_charset_fix_utf8(raw, len, limit);
    free(raw);
    return out;
}

/* Cuts a byte-capped buffer back to a whole UTF-8 character. */
static void feed_xml_cut_utf8(struct kt_buf *b)
{
    size_t n = b->len, back = 0;
    while (n > 0 && back < 4 && ((unsigned char)b->data[n - 1] & 0xC0) == 0x80) {
        n--;
        back++;
    }
    if (n > 0 && (unsigned char)b->data[n - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)b->data[n - 1];
        size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
        if (back < need) {
            b->len = n - 1;
            b->data[b->len] = '\0';
        }
    }
}

static void feed_xml_cap_append(struct kt_buf *b, const char *s, size_t n, size_t limit)
{
    if (b->len >= limit)
        return;
    if (n > limit - b->len)
        n = limit - b->len;
    kt_buf_append(b, s, n);
}

static void feed_xml_escape_into(struct kt_buf *b, const char *s, size_t n, bool attr, size_t limit)
{
    size_t run = 0;
    for (size_t i = 0; i < n && b->len < limit; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = attr ? "&quot;" : NULL;
            break;
        default:
            break;
        }
        if (!rep)
            continue;
        feed_xml_cap_append(b, s + run, i - run, limit);
        feed_xml_cap_append(b, rep, strlen(rep), limit);
        run = i + 1;
    }
    feed_xml_cap_append(b, s + run, n - run, limit);
}

/* libxml2 hands '&' in attribute values over as "&#38;" (entities are not
 * substituted); that already is markup for '&', everything else is escaped. */
static void feed_xml_escape_attr(struct kt_buf *b, const char *s, size_t n, size_t limit)
{
    const char *e = s + n;
    while (s < e && b->len < limit) {
        const char *amp = memchr(s, '&', (size_t)(e - s));
        const char *stop = amp ? amp : e;
        feed_xml_escape_into(b, s, (size_t)(stop - s), true, limit);
        if (!amp)
            break;
        feed_xml_cap_append(b, "&amp;", 5, limit);
        s = (e - amp >= 5 && memcmp(amp, "&#38;", 5) == 0) ? amp + 5 : amp + 1;
    }
}

/* The value of a finished title/summary capture and whether it is HTML. */
static char *feed_xml_text_value(struct feed_xml_state *st, struct feed_xml_capture *c, bool *html)
{
    char *v;
    if (c->base64) {
        v = feed_xml_base64_text(c->text.data, c->text.len, c->limit);
        *html = c->type == T_HTML || c->type == T_XHTML || c->escaped || c->default_html ||
                feed_xml_looks_like_html(v, strlen(v));
    } else if (c->had_child) {
        feed_xml_cut_utf8(&c->xml);
        v = kt_strndup(c->xml.data ? c->xml.data : "", c->xml.len);
        *html = true;
    } else {
        feed_xml_cut_utf8(&c->text);
        v = kt_strndup(c->text.data ? c->text.data : "", c->text.len);
        switch (c->type) {
        case T_HTML:
            *html = true;
            break;
        case T_TEXT:
            *html = c->escaped;
            break;
        case T_XHTML:
            *html = false; /* text only: already decoded by XML */
            break;
        default:
            *html = c->escaped || c->default_html || feed_xml_looks_like_html(v, strlen(v));
            break;
        }
    }
    return feed_charset_fix_value(v, st->utf8_source);
}

static enum feed_xml_type feed_xml_type_of(const char *t, bool *base64, bool atom)
{
    if (!t)
        return T_NONE;
    char *v = feed_xml_trim_dup(t, strlen(t));
    enum feed_xml_type r = T_NONE;
    if (!*v)
        r = T_NONE;
    else if (!strcasecmp(v, "text") || !strcasecmp(v, "text/plain") || !strcasecmp(v, "plain"))
        r = T_TEXT;
    else if (!strcasecmp(v, "html") || !strcasecmp(v, "text/html"))
        r = T_HTML;
    else if (!strcasecmp(v, "xhtml") || !strcasecmp(v, "application/xhtml+xml"))
        r = T_XHTML;
    else if (atom && strchr(v, '/') && strncasecmp(v, "text/", 5) != 0) {
        /* Atom: any other media type that is not XML is base64 */
        size_t n = strlen(v);
        bool xml = (n >= 4 && !strcasecmp(v + n - 4, "+xml")) ||
                   (n >= 4 && !strcasecmp(v + n - 4, "/xml"));
        if (!xml)
            *base64 = true;
    }
    free(v);
    return r;
}

/* ---------------------------------------------------------------------------
 * Fields
 */

static struct feed_xml_item *feed_xml_target(struct feed_xml_state *st, bool feed_level)
{
    return feed_level ? &st->feed : &st->item;
}

static void feed_xml_set_link(struct feed_xml_item *it, char *link, int prio)
{
    if (!link || !*link || prio >= it->link_prio) {
        free(link);
        return;
    }
    free(it->link);
    it->link = link;
    it->link_prio = prio;
}

static bool feed_xml_rel_alternate(const char *rel)
{
    if (!rel)
        return true;
    char *r = feed_xml_trim_dup(rel, strlen(rel));
    size_t n = strlen(r);
    bool alt =
        n == 0 || !strcasecmp(r, "alternate") || (n > 10 && !strcasecmp(r + n - 10, "/alternate"));
    free(r);
    return alt;
}

static bool feed_xml_html_type(const char *type)
{
    if (!type)
        return true;
    char *t = feed_xml_trim_dup(type, strlen(type));
    bool ok = !*t || !strcasecmp(t, "text/html") || !strcasecmp(t, "application/xhtml+xml") ||
              !strcasecmp(t, "html") || !strcasecmp(t, "xhtml");
    free(t);
    return ok;
}

static void feed_xml_capture_begin(struct feed_xml_state *st, int depth, enum feed_xml_field f,
                                   int prio, bool feed_level)
{
    struct feed_xml_capture *c = &st->cap;
    struct kt_buf text = c->text, xml = c->xml; /* reused between fields */
    memset(c, 0, sizeof *c);
    c->text = text;
    c->xml = xml;
    c->text.len = c->xml.len = 0;
    if (c->text.data)
        c->text.data[0] = '\0';
    if (c->xml.data)
        c->xml.data[0] = '\0';
    c->depth = depth;
    c->field = f;
    c->prio = prio;
    c->feed_level = feed_level;
    c->limit = f == F_TITLE ? FEED_MAX_TITLE : f == F_SUMMARY ? FEED_MAX_SUMMARY : FEED_MAX_SHORT;
    c->base = st->frames[depth <= XML_MAX_FRAMES ? depth : XML_MAX_FRAMES].base;
}

/* Title, summary or content: reads the type/mode attributes. */
static void feed_xml_text_begin(struct feed_xml_state *st, int depth, enum feed_xml_field f,
                                int prio, bool feed_level, bool default_html, const xmlChar **attrs,
                                int nattr)
{
    struct feed_xml_item *it = feed_xml_target(st, feed_level);
    if (prio >= (f == F_TITLE ? it->title_prio : it->summary_prio))
        return; /* a better source already won */
    if (f == F_SUMMARY) {
        char *src = feed_xml_attr(attrs, nattr, "src");
        bool external = src != NULL;
        free(src);
        if (external)
            return; /* out-of-line content: nothing to show */
    }
    feed_xml_capture_begin(st, depth, f, prio, feed_level);
    struct feed_xml_capture *c = &st->cap;
    char *type = feed_xml_attr(attrs, nattr, "type");
    char *mode = feed_xml_attr(attrs, nattr, "mode");
    c->type = feed_xml_type_of(type, &c->base64, st->format == FEED_ATOM);
    c->strip_div = type && !strcasecmp(type, "xhtml");
    if (mode) {
        char *m = feed_xml_trim_dup(mode, strlen(mode));
        if (!strcasecmp(m, "base64"))
            c->base64 = true;
        else if (!strcasecmp(m, "escaped"))
            c->escaped = true;
        free(m);
    }
    c->default_html = default_html;
    free(type);
    free(mode);
}

/* rss_text: an RSS <link>, whose text is the link even if it also carries
 * an href (seen in the wild); Atom links are href-only except 0.3's. */
static void feed_xml_link_begin(struct feed_xml_state *st, int depth, bool feed_level,
                                bool rss_text, const xmlChar **attrs, int nattr)
{
    struct feed_xml_item *it = feed_xml_target(st, feed_level);
    char *href = feed_xml_attr(attrs, nattr, "href");
    char *rel = feed_xml_attr(attrs, nattr, "rel");
    char *type = feed_xml_attr(attrs, nattr, "type");
    bool alt = feed_xml_rel_alternate(rel);
    if (href) {
        /* among alternates: an explicit HTML type first, then no type, then
         * other types; an explicit rel="alternate" beats a missing rel */
        int prio = 1 + (rel ? 0 : 1) + (!type ? 2 : feed_xml_html_type(type) ? 0 : 4);
        char *h = feed_xml_trim_dup(href, strlen(href));
        if (alt && *h && prio < it->link_prio) {
            const char *base = st->frames[depth <= XML_MAX_FRAMES ? depth : XML_MAX_FRAMES].base;
            feed_xml_set_link(it, feed_xml_resolve(st, h, base), prio);
        }
        free(h);
        if (alt && rss_text && 0 < it->link_prio)
            feed_xml_capture_begin(st, depth, F_LINK, 0, feed_level);
    } else if (alt) {
        /* RSS <link>URL</link>, or Atom 0.3's href-less form */
        int prio = st->format == FEED_ATOM ? LINK_PRIO_ATOM03 : 0;
        if (prio < it->link_prio)
            feed_xml_capture_begin(st, depth, F_LINK, prio, feed_level);
    }
    free(href);
    free(rel);
    free(type);
}

/* A direct child of the entry (or of the channel/feed when feed_level). */
static void feed_xml_field_begin(struct feed_xml_state *st, const xmlChar *name,
                                 enum feed_xml_ns ns, const xmlChar *uri, const xmlChar **attrs,
                                 int nattr, bool feed_level)
{
    int d = st->depth;
    struct feed_xml_item *it = feed_xml_target(st, feed_level);
    bool atom = st->format == FEED_ATOM;
    bool core = feed_xml_core(st, ns, uri);

    if (core && feed_xml_name_is(name, "title")) {
        feed_xml_text_begin(st, d, F_TITLE, 0, feed_level, false, attrs, nattr);
    } else if ((core || ns == NS_ATOM10 || ns == NS_ATOM03) && feed_xml_name_is(name, "link")) {
        feed_xml_link_begin(st, d, feed_level, !atom && core, attrs, nattr);
    } else if (ns == NS_DC && feed_xml_name_is(name, "title")) {
        feed_xml_text_begin(st, d, F_TITLE, 1, feed_level, false, attrs, nattr);
    } else if (ns == NS_MEDIA && feed_xml_name_is(name, "title")) {
        feed_xml_text_begin(st, d, F_TITLE, 2, feed_level, false, attrs, nattr);
    } else if (ns == NS_ITUNES && feed_xml_name_is(name, "title")) {
        /* podcasts: before falling back to the summary's first sentence */
        feed_xml_text_begin(st, d, F_TITLE, 3, feed_level, false, attrs, nattr);
    } else if (core && feed_level && !atom && feed_xml_name_is(name, "ttl")) {
        feed_xml_capture_begin(st, d, F_TTL, 0, true);
    } else if (feed_level) {
        return; /* the feed only needs title, link and ttl */
    } else if (core && atom && feed_xml_name_is(name, "content")) {
        feed_xml_text_begin(st, d, F_SUMMARY, 0, false, false, attrs, nattr);
    } else if (core && atom && feed_xml_name_is(name, "summary")) {
        feed_xml_text_begin(st, d, F_SUMMARY, 1, false, false, attrs, nattr);
    } else if (ns == NS_CONTENT && feed_xml_name_is(name, "encoded")) {
        feed_xml_text_begin(st, d, F_SUMMARY, 0, false, true, attrs, nattr);
    } else if (core && !atom && feed_xml_name_is(name, "description")) {
        feed_xml_text_begin(st, d, F_SUMMARY, 1, false, true, attrs, nattr);
    } else if (ns == NS_DC && feed_xml_name_is(name, "description")) {
        feed_xml_text_begin(st, d, F_SUMMARY, 2, false, false, attrs, nattr);
    } else if (ns == NS_MEDIA && feed_xml_name_is(name, "description")) {
        feed_xml_text_begin(st, d, F_SUMMARY, 3, false, false, attrs, nattr);
    } else if (core && !atom && feed_xml_name_is(name, "guid")) {
        if (LINK_PRIO_GUID < it->link_prio) {
            char *pl = feed_xml_attr(attrs, nattr, "isPermaLink");
            char *v = pl ? feed_xml_trim_dup(pl, strlen(pl)) : NULL;
            bool permalink = !v || strcasecmp(v, "false") != 0;
            free(pl);
            free(v);
            if (permalink)
                feed_xml_capture_begin(st, d, F_GUID, LINK_PRIO_GUID, false);
        }
    } else if ((core && (feed_xml_name_is(name, "pubDate") || feed_xml_name_is(name, "published") ||
                         feed_xml_name_is(name, "issued"))) ||
               (ns == NS_DC && feed_xml_name_is(name, "date")) ||
               (ns == NS_DCTERMS &&
                (feed_xml_name_is(name, "issued") || feed_xml_name_is(name, "created")))) {
        if (0 < it->date_prio)
            feed_xml_capture_begin(st, d, F_PUB, 0, false);
    } else if ((core &&
                (feed_xml_name_is(name, "updated") || feed_xml_name_is(name, "modified"))) ||
               ((ns == NS_DC || ns == NS_DCTERMS) && feed_xml_name_is(name, "modified"))) {
        if (1 < it->date_prio)
            feed_xml_capture_begin(st, d, F_UPD, 1, false);
    }
}

static bool feed_xml_url_like(const char *s)
{
    return kt_str_has_prefix_nocase(s, "http://") || kt_str_has_prefix_nocase(s, "https://");
}

static void feed_xml_capture_finish(struct feed_xml_state *st)
{
    struct feed_xml_capture *c = &st->cap;
    struct feed_xml_item *it = feed_xml_target(st, c->feed_level);
    c->depth = 0;
    switch (c->field) {
    case F_TITLE:
    case F_SUMMARY: {
        bool html;
        char *v = feed_xml_text_value(st, c, &html);
        char **slot = c->field == F_TITLE ? &it->title : &it->summary;
        int *prio = c->field == F_TITLE ? &it->title_prio : &it->summary_prio;
        bool *h = c->field == F_TITLE ? &it->title_html : &it->summary_html;
        if (c->prio < *prio) {
            free(*slot);
            *slot = v;
            *prio = c->prio;
            *h = html;
        } else {
            free(v);
        }
        break;
    }
    case F_LINK:
    case F_GUID: {
        char *v = feed_xml_trim_dup(c->text.data ? c->text.data : "", c->text.len);
        if (*v && (c->field == F_LINK || feed_xml_url_like(v)))
            feed_xml_set_link(it, feed_xml_resolve(st, v, c->base), c->prio);
        free(v);
        break;
    }
    case F_PUB:
    case F_UPD: {
        char *v = feed_xml_trim_dup(c->text.data ? c->text.data : "", c->text.len);
        int64_t t;
        if (*v && c->prio < it->date_prio && date_parse(v, &t)) {
            it->published = t;
            it->date_prio = c->prio;
        }
        free(v);
        break;
    }
    case F_TTL: {
        const char *p = c->text.data ? c->text.data : "";
        while (feed_xml_is_space(*p))
            p++;
        long v = 0;
        while (*p >= '0' && *p <= '9' && v <= FEED_MAX_TTL)
            v = v * 10 + (*p++ - '0');
        st->ttl = v > FEED_MAX_TTL ? FEED_MAX_TTL : (int)v;
        break;
    }
    }
}

/* Serialises a child element's start tag into a markup capture. */
static void feed_xml_capture_child_start(struct feed_xml_state *st, const xmlChar *name,
                                         const xmlChar *prefix, const xmlChar **attrs, int nattr)
{
    struct feed_xml_capture *c = &st->cap;
    if (c->field != F_TITLE && c->field != F_SUMMARY)
        return;
    if (!c->had_child) {
        c->had_child = true;
        c->xml.len = 0;
        feed_xml_escape_into(&c->xml, c->text.data ? c->text.data : "", c->text.len, false,
                             c->limit);
    }
    if (c->strip_div && !c->div_seen && st->depth == c->depth + 1) {
        c->div_seen = true;
        bool blank = true;
        for (size_t i = 0; i < c->text.len; i++)
            if (!feed_xml_is_space(c->text.data[i]))
                blank = false;
        if (blank && feed_xml_name_is(name, "div")) {
            c->div_depth = st->depth;
            return;
        }
    }
    if (c->tag_open)
        feed_xml_cap_append(&c->xml, ">", 1, c->limit);
    feed_xml_cap_append(&c->xml, "<", 1, c->limit);
    if (prefix) {
        feed_xml_cap_append(&c->xml, (const char *)prefix, strlen((const char *)prefix), c->limit);
        feed_xml_cap_append(&c->xml, ":", 1, c->limit);
    }
    feed_xml_cap_append(&c->xml, (const char *)name, strlen((const char *)name), c->limit);
    for (int i = 0; i < nattr && c->xml.len < c->limit; i++) {
        const xmlChar **a = attrs + 5 * i;
        feed_xml_cap_append(&c->xml, " ", 1, c->limit);
        feed_xml_cap_append(&c->xml, (const char *)a[0], strlen((const char *)a[0]), c->limit);
        feed_xml_cap_append(&c->xml, "=\"", 2, c->limit);
        feed_xml_escape_attr(&c->xml, (const char *)a[3], (size_t)(a[4] - a[3]), c->limit);
        feed_xml_cap_append(&c->xml, "\"", 1, c->limit);
    }
    c->tag_open = true;
}

static void feed_xml_capture_child_end(struct feed_xml_state *st, const xmlChar *name,
                                       const xmlChar *prefix)
{
    struct feed_xml_capture *c = &st->cap;
    if (c->field != F_TITLE && c->field != F_SUMMARY)
        return;
    if (st->depth == c->div_depth) {
        c->div_depth = 0;
        return;
    }
    if (c->tag_open) {
        feed_xml_cap_append(&c->xml, "/>", 2, c->limit);
        c->tag_open = false;
        return;
    }
    feed_xml_cap_append(&c->xml, "</", 2, c->limit);
    if (prefix) {
        feed_xml_cap_append(&c->xml, (const char *)prefix, strlen((const char *)prefix), c->limit);
        feed_xml_cap_append(&c->xml, ":", 1, c->limit);
    }
    feed_xml_cap_append(&c->xml, (const char *)name, strlen((const char *)name), c->limit);
    feed_xml_cap_append(&c->xml, ">", 1, c->limit);
}

/* ---------------------------------------------------------------------------
 * Entries
 */

static void feed_xml_item_finish(struct feed_xml_state *st)
{
    st->in_item = false;
    struct feed_entry *e = feed_doc_add_entry(st->doc, &st->entries_cap);
    struct feed_xml_item *it = &st->item;
    if (e) {
        e->title = it->title;
        e->title_html = it->title_html;
        e->summary = it->summary;
        e->summary_html = it->summary_html;
        e->link = it->link;
        e->published = it->published;
        it->title = it->summary = it->link = NULL;
    }
    feed_xml_item_reset(it);
}

static void feed_xml_item_begin(struct feed_xml_state *st, const xmlChar **attrs, int nattr)
{
    if (st->in_item)
        feed_xml_item_finish(st); /* bad nesting: an item inside an item */
    if (st->doc->n_entries >= FEED_MAX_ENTRIES) {
        st->doc->entries_cut = true; /* the rest is not read at all */
        feed_xml_stop(st);
        return;
    }
    st->in_item = true;
    st->entry_depth = st->depth;
    feed_xml_item_reset(&st->item);
    char *href = feed_xml_attr(attrs, nattr, "href"); /* CDF <ITEM HREF=…> */
    if (href) {
        char *h = feed_xml_trim_dup(href, strlen(href));
        if (*h)
            feed_xml_set_link(&st->item, feed_xml_resolve(st, h, st->frames[st->depth].base),
                              LINK_PRIO_CDF);
        free(h);
        free(href);
    }
}

/* ---------------------------------------------------------------------------
 * SAX callbacks
 */

static bool feed_xml_root(struct feed_xml_state *st, const xmlChar *name, const xmlChar *prefix,
                          const xmlChar *uri)
{
    st->root_seen = true;
    st->root_uri = uri;
    if (feed_xml_name_is(name, "rss")) {
        st->format = FEED_RSS;
    } else if (feed_xml_name_is(name, "RDF")) {
        st->format = FEED_RDF;
    } else if (feed_xml_name_is(name, "feed")) {
        st->format = FEED_ATOM; /* also pre-1.0 drafts' namespaces */
        st->feed_depth = 1;
    } else if (feed_xml_name_is(name, "entry") &&
               (!uri || !*uri || feed_xml_ns_lookup((const char *)uri) == NS_ATOM10 ||
                feed_xml_ns_lookup((const char *)uri) == NS_ATOM03)) {
        /* an Atom Entry Document (RFC 4287, section 4.1.2): a feed of one */
        st->format = FEED_ATOM;
        st->entry_root = true;
    } else if (feed_xml_name_is(name, "channel")) {
        st->format = FEED_RSS; /* CDF, bare Netscape channel */
        st->feed_depth = 1;
    } else if (feed_xml_name_is(name, "html") || feed_xml_name_is(name, "head") ||
               feed_xml_name_is(name, "body") || strcasecmp(st->doctype, "html") == 0) {
        /* an HTML doctype alone does not decide: feeds copy it (see
         * illformed/always_strip_doctype in the conformance corpus) */
        snprintf(st->root_err, sizeof st->root_err, "not a feed: HTML page");
        return false;
    } else {
        char q[72];
        snprintf(q, sizeof q, "%s%s%.40s", prefix ? (const char *)prefix : "", prefix ? ":" : "",
                 (const char *)name);
        for (char *p = q; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
                *p = '?'; /* one line, valid UTF-8 even when cut */
        snprintf(st->root_err, sizeof st->root_err, "not a feed: unknown root element <%s>", q);
        return false;
    }
    return true;
}

/* Names that are feed structure, never markup inside a field's value. */
static bool feed_xml_structural(struct feed_xml_state *st, enum feed_xml_ns ns, const xmlChar *uri,
                                const xmlChar *name)
{
    static const char *const rss[] = {"title",  "link",     "description", "pubDate",
                                      "guid",   "author",   "comments",    "enclosure",
                                      "source", "category", NULL};
    static const char *const atom[] = {"title",     "link",    "summary", "content",  "id",
                                       "published", "updated", "author",  "category", NULL};
    if (st->format != FEED_ATOM && (ns == NS_DC || ns == NS_CONTENT))
        return true;
    if (!feed_xml_core(st, ns, uri))
        return false;
    for (const char *const *n = st->format == FEED_ATOM ? atom : rss; *n; n++)
        if (feed_xml_name_is(name, *n))
            return true;
    return false;
}

/* CDF: <CHANNEL HREF=…> is the feed link. */
static void feed_xml_channel_href(struct feed_xml_state *st, const xmlChar **attrs, int nattr)
{
    char *href = feed_xml_attr(attrs, nattr, "href");
    if (href) {
        char *h = feed_xml_trim_dup(href, strlen(href));
        if (*h)
            feed_xml_set_link(&st->feed, feed_xml_resolve(st, h, st->frames[st->depth].base),
                              LINK_PRIO_CDF);
        free(h);
        free(href);
    }
}

static void feed_xml_sax_start(void *ctx, const xmlChar *name, const xmlChar *prefix,
                               const xmlChar *uri, int nb_ns, const xmlChar **ns, int nattr,
                               int ndef, const xmlChar **attrs)
{
    (void)nb_ns;
    (void)ns;
    (void)ndef;
    struct feed_xml_state *st = ctx;
    if (st->stopped)
        return;
    int d = ++st->depth;
    if (d <= XML_MAX_FRAMES) {
        struct feed_xml_frame *f = &st->frames[d];
        f->base = st->frames[d - 1].base;
        f->own_base = false;
        char *xb = feed_xml_attr_xmlbase(attrs, nattr);
        if (xb) {
            char *t = feed_xml_trim_dup(xb, strlen(xb));
            free(xb);
            char *r = strlen(t) <= FEED_MAX_SHORT ? feed_xml_resolve(st, t, f->base) : NULL;
            free(t);
            if (r && strlen(r) <= FEED_MAX_SHORT) {
                f->base = r;
                f->own_base = true;
            } else {
                free(r);
            }
        }
    }
    if (!st->root_seen) {
        if (!feed_xml_root(st, name, prefix, uri))
            feed_xml_stop(st);
        else if (st->entry_root)
            feed_xml_item_begin(st, attrs, nattr);
        else if (st->feed_depth == 1 && st->format != FEED_ATOM)
            feed_xml_channel_href(st, attrs, nattr);
        return;
    }
    if (d > XML_MAX_FRAMES)
        return;
    enum feed_xml_ns nsc = feed_xml_ns(st, uri);
    bool core = feed_xml_core(st, nsc, uri);
    bool is_entry = core && feed_xml_name_is(name, st->format == FEED_ATOM ? "entry" : "item");

    if (st->cap.depth) {
        bool sibling = d == st->cap.depth + 1 && st->cap.type != T_XHTML &&
                       feed_xml_structural(st, nsc, uri, name);
        if (!is_entry && !sibling) {
            feed_xml_capture_child_start(st, name, prefix, attrs, nattr);
            return;
        }
        /* an entry or a field inside a field: the field was never closed
         * ("<title>x<link>…"); end it and read this as its sibling */
        bool feed_level = st->cap.feed_level;
        feed_xml_capture_finish(st);
        if (!is_entry) {
            if (feed_level || st->in_item)
                feed_xml_field_begin(st, name, nsc, uri, attrs, nattr, feed_level);
            return;
        }
    }
    if (is_entry) {
        feed_xml_item_begin(st, attrs, nattr);
        return;
    }
    if (!st->in_item && core && st->format != FEED_ATOM && feed_xml_name_is(name, "channel")) {
        st->feed_depth = d;
        feed_xml_channel_href(st, attrs, nattr);
        return;
    }
    if (st->in_item && d == st->entry_depth + 1)
        feed_xml_field_begin(st, name, nsc, uri, attrs, nattr, false);
    else if (!st->in_item && d == st->feed_depth + 1)
        feed_xml_field_begin(st, name, nsc, uri, attrs, nattr, true);
}

static void feed_xml_sax_end(void *ctx, const xmlChar *name, const xmlChar *prefix,
                             const xmlChar *uri)
{
    (void)uri;
    struct feed_xml_state *st = ctx;
    if (st->depth <= 0)
        return;
    int d = st->depth;
    if (!st->stopped && d <= XML_MAX_FRAMES) {
        if (st->cap.depth && d > st->cap.depth)
            feed_xml_capture_child_end(st, name, prefix);
        else if (st->cap.depth && d == st->cap.depth)
            feed_xml_capture_finish(st);
        else if (st->in_item && d == st->entry_depth)
            feed_xml_item_finish(st);
        else if (d == st->feed_depth)
            st->feed_depth = -1;
    }
    if (d <= XML_MAX_FRAMES && st->frames[d].own_base) {
        free(st->frames[d].base);
        st->frames[d].own_base = false;
    }
    st->depth--;
}

static void feed_xml_sax_text(void *ctx, const xmlChar *s, int len)
{
    struct feed_xml_state *st = ctx;
    struct feed_xml_capture *c = &st->cap;
    if (!c->depth || st->stopped || len <= 0)
        return;
    feed_xml_cap_append(&c->text, (const char *)s, (size_t)len, c->limit);
    if (c->had_child) {
        if (c->tag_open) {
            feed_xml_cap_append(&c->xml, ">", 1, c->limit);
            c->tag_open = false;
        }
        feed_xml_escape_into(&c->xml, (const char *)s, (size_t)len, false, c->limit);
    }
}

/* libxml2's message as one line. */
static void feed_xml_error_text(char *out, size_t outlen, const xmlError *e)
{
    snprintf(out, outlen, "%s", e->message ? e->message : "parse error");
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

/* Keeps the first error (why a document has no root) and the last fatal
 * one (why libxml2 gave up, when it does). */
static void feed_xml_sax_error(void *ctx, xmlErrorPtr e)
{
    struct feed_xml_state *st = ctx;
    if (!st || !e || e->level < XML_ERR_ERROR)
        return;
    if (e->level == XML_ERR_FATAL) {
        st->fatal_line = e->line;
        feed_xml_error_text(st->fatal_msg, sizeof st->fatal_msg, e);
    }
    if (st->have_err)
        return;
    st->have_err = true;
    st->err_line = e->line;
    feed_xml_error_text(st->err_msg, sizeof st->err_msg, e);
}

/* The repair pass's output, chunk by chunk. libxml2 halts (disables SAX)
 * only on its own hard limits, never for recoverable errors in recovery
 * mode: then the rest would be lost, so the parse is a failure. */
static bool feed_xml_sink(void *ctx, const char *data, size_t len, bool last)
{
    struct feed_xml_state *st = ctx;
    xmlParseChunk(st->ctxt, data, (int)len, last);
    if (!st->stopped && st->ctxt->disableSAX)
        st->halted = true;
    return !st->stopped && !st->halted;
}

/* The names the reader itself needs always reach libxml2, however many
 * others came first. */
static const char *const feed_xml_names[] = {
    "rss",
    "channel",
    "item",
    "title",
    "link",
    "description",
    "pubDate",
    "guid",
    "ttl",
    "image",
    "textInput",
    "textinput",
    "source",
    "enclosure",
    "category",
    "author",
    "comments",
    "RDF",
    "rdf",
    "about",
    "resource",
    "feed",
    "entry",
    "content",
    "summary",
    "published",
    "updated",
    "issued",
    "modified",
    "id",
    "subtitle",
    "tagline",
    "dc",
    "date",
    "dcterms",
    "created",
    "encoded",
    "media",
    "atom",
    "href",
    "rel",
    "type",
    "mode",
    "src",
    "base",
    "xml",
    "xmlns",
    "isPermaLink",
    "url",
    "version",
    "lang",
    "div",
    "CHANNEL",
    "ITEM",
    "TITLE",
    "HREF",
    "itunes",
    "http://www.w3.org/2005/Atom",
    "http://purl.org/atom/ns#",
    "http://purl.org/rss/1.0/",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://purl.org/dc/elements/1.1/",
    "http://purl.org/dc/terms/",
    "http://purl.org/rss/1.0/modules/content/",
    "http://search.yahoo.com/mrss/",
    "http://www.w3.org/1999/xhtml",
    "http://www.itunes.com/dtds/podcast-1.0.dtd",
};

/* ---------------------------------------------------------------------------
 * Entry point
 */

static void feed_xml_finish_doc(struct feed_xml_state *st)
{
    struct feed_doc *doc = st->doc;
    doc->format = st->format;
    doc->ttl_minutes = st->ttl;
    if (st->feed.title) {
        char *t = text_plain(st->feed.title, strlen(st->feed.title), st->feed.title_html);
        if (t && *t)
            doc->title = t;
        else
            free(t);
    }
    doc->link = st->feed.link;
    st->feed.link = NULL;
    if (doc->n_entries && doc->n_entries < st->entries_cap)
        doc->entries = kt_realloc(doc->entries, doc->n_entries * sizeof *doc->entries);
}

int feed_xml_parse(const struct feed_utf8 *u, const struct feed_parse_opts *opts,
                   struct feed_doc *doc, char *err, size_t errlen)
{
    xml_safe_init();

    struct feed_xml_state *st = kt_calloc(1, sizeof *st);
    st->doc = doc;
    st->utf8_source = u->utf8_source;
    st->feed_depth = -1;
    st->entry_depth = -1;
    st->frames[0].base = (char *)(opts ? opts->base_url : NULL);
    st->url_budget = 4 * u->len + (1u << 20);
    feed_xml_item_reset(&st->item);
    feed_xml_item_reset(&st->feed);
    kt_buf_init(&st->cap.text);
    kt_buf_init(&st->cap.xml);

    int rc = 0;
    struct xml_repair *repair = NULL;
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = feed_xml_sax_start;
    sax.endElementNs = feed_xml_sax_end;
    sax.characters = feed_xml_sax_text;
    sax.ignorableWhitespace = feed_xml_sax_text;
    sax.cdataBlock = feed_xml_sax_text;
    sax.serror = feed_xml_sax_error;
    xml_safe_sax_guards(&sax);
    /* st, not ctxt, as user data: see xml_safe.h */
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, st, NULL, 0, NULL);
    if (!ctxt) {
        rc = kt_error(err, errlen, "XML: out of memory");
        goto out;
    }
    st->ctxt = ctxt;
    xmlCtxtUseOptions(ctxt, XML_PARSE_RECOVER | xml_safe_options());
    /* Few, large chunks: libxml2 2.9's push parser rescans its buffer
     * backwards for each chunk, so the count must not grow much with the
     * size. But below XML_MAX_LOOKUP_LIMIT: a larger chunk makes libxml2
     * halt ("huge input lookup"), which silently cut documents over 80 MB
     * to their first eighth. */
    size_t chunk = u->len / 8;
    if (chunk < 256 * 1024)
        chunk = 256 * 1024;
    if (chunk > XML_MAX_LOOKUP_LIMIT / 2)
        chunk = XML_MAX_LOOKUP_LIMIT / 2;
    struct xml_repair_opts ro = {
        .sink = feed_xml_sink,
        .ctx = st,
        .chunk = chunk,
        .names = feed_xml_names,
        .n_names = sizeof feed_xml_names / sizeof *feed_xml_names,
    };
    repair = xml_repair_new(&ro);
    st->doctype = xml_repair_doctype(repair);
    enum xml_repair_status status = xml_repair_run(repair, u->data, u->len);

    /* unclosed elements at the end of the data still count */
    st->stopped = false;
    if (st->cap.depth)
        feed_xml_capture_finish(st);
    if (st->in_item)
        feed_xml_item_finish(st);

    const char *root = xml_repair_root(repair), *colon = strchr(root, ':');
    if (st->root_err[0]) {
        rc = kt_error(err, errlen, "%s", st->root_err);
    } else if (status == XML_REPAIR_REFUSED) {
        rc = kt_error(err, errlen, "%s", xml_repair_problem(repair));
    } else if (!st->root_seen &&
               (strcasecmp(colon ? colon + 1 : root, "html") == 0 ||
                (!root[0] && strcasecmp(xml_repair_doctype(repair), "html") == 0))) {
        rc = kt_error(err, errlen, "not a feed: HTML page"); /* too broken to parse */
    } else if (!st->root_seen) {
        if (st->have_err)
            rc = kt_error(err, errlen, "XML: %s at line %d", st->err_msg, st->err_line);
        else
            rc = kt_error(err, errlen, "XML: no root element");
    } else if (status == XML_REPAIR_TRUNCATED) {
        rc = kt_error(err, errlen, "%s", xml_repair_problem(repair));
    } else if (st->halted) {
        rc = kt_error(err, errlen, "XML: parser gave up at line %d: %s", st->fatal_line,
                      st->fatal_msg[0] ? st->fatal_msg : "unknown error");
    } else {
        feed_xml_finish_doc(st);
    }

out:
    for (int d = st->depth < XML_MAX_FRAMES ? st->depth : XML_MAX_FRAMES; d > 0; d--)
        if (st->frames[d].own_base)
            free(st->frames[d].base);
    if (ctxt) {
        if (ctxt->myDoc) /* not built by these handlers, but never leak one */
            xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
        xmlFreeParserCtxt(ctxt);
    }
    feed_xml_item_reset(&st->item);
    feed_xml_item_reset(&st->feed);
    kt_buf_free(&st->cap.text);
    kt_buf_free(&st->cap.xml);
    free(st);
    xml_repair_free(repair);
    return rc;
}
