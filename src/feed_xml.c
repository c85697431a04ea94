/*
 * feed_xml: RSS 0.9x/2.0, RSS 1.0 (RDF), Atom 0.3/1.0 and CDF through
 * libxml2's SAX2 push interface.
 *
 * Why SAX and not a tree: a tree costs several times the document in
 * memory; the SAX walk keeps only the entry being built, and the document
 * is fed in chunks, so memory stays near the document size and nothing
 * here recurses on document nesting.
 *
 * Why the text is rewritten first (feed_xml_prep_*): real feeds are full of
 * bare '&', HTML entities XML does not know (&nbsp; &rsquo;), stray control
 * characters, unquoted attributes and unbalanced tags, and libxml2's
 * recovery silently drops text or whole items around each of them. The
 * rewrite repairs those, removes the DOCTYPE (so a document's own entities
 * are never expanded: billion laughs, quadratic blowup, XXE) and keeps
 * depth and attribute counts inside what libxml2 2.9 handles in linear
 * time. It never simply deletes a byte: deleting can join the text around
 * it into markup only libxml2 would see.
 *
 * Defence in depth: the SAX guards and the entity loader of xml_safe.h.
 */
#include "feed_internal.h"
#include "date.h"
#include "text.h"
#include "util.h"
#include "xml_safe.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/uri.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------------
 * URL resolution
 */

char *feed_resolve_url(const char *ref, const char *base)
{
    if (!ref)
        return NULL;
    /* libxml2 would re-serialise absolute URLs; keep them byte for byte */
    if (kt_url_scheme_len(ref) > 0 || !base || !*base)
        return kt_strdup(ref);
    xmlChar *r = xmlBuildURI((const xmlChar *)ref, (const xmlChar *)base);
    if (!r) {
        /* spaces, '|', raw non-ASCII: escape what RFC 3986 forbids, retry */
        xmlChar *esc =
            xmlURIEscapeStr((const xmlChar *)ref, (const xmlChar *)":/?#[]@!$&'()*+,;=%~");
        if (esc) {
            r = xmlBuildURI(esc, (const xmlChar *)base);
            xmlFree(esc);
        }
    }
    if (!r)
        return kt_strdup(ref);
    char *out = kt_strdup((const char *)r);
    xmlFree(r);
    return out;
}

/* ---------------------------------------------------------------------------
 * Pre-parse rewrite of the UTF-8 text
 */

#define PREP_MAX_ENTS 4096
#define PREP_SLOTS 8192 /* power of two, > 2 * PREP_MAX_ENTS */
#define PREP_MAX_NAME 64
/* libxml2's pull parser stops at this depth; its push parser has no limit,
 * so tags deeper than this are dropped here */
#define PREP_MAX_DEPTH 256
/* libxml2 2.9 compares each attribute with every other one of its element
 * and looks namespaces up linearly: both stay small */
#define PREP_MAX_ATTRS 256
#define PREP_MAX_NS 256
/* libxml2 2.9 interns every name in a hash keyed on a name's first ten and
 * last characters, so many similar names make each lookup walk a long
 * chain. Beyond this many distinct names (feeds use a few dozen) elements
 * are renamed PREP_OTHER and attributes and PIs dropped. */
#define PREP_MAX_NAMES 512
#define PREP_NAME_SLOTS 1024 /* power of two, > 2 * PREP_MAX_NAMES */
#define PREP_OTHER "_"

struct feed_xml_prep {
    struct kt_buf out;
    /* the output goes to the push parser in chunks, so the rewritten
     * document never exists whole next to the original */
    xmlParserCtxtPtr ctxt;
    const bool *stopped;
    size_t chunk;
    char root[PREP_MAX_NAME];    /* first start tag's name, "" if none */
    char doctype[PREP_MAX_NAME]; /* DOCTYPE name, "" if none */
    /* general entities the internal subset declares (names only) */
    char *ent_store;
    size_t ent_store_len, ent_store_cap;
    uint32_t *ent_slots; /* offset+1 into ent_store, 0 = empty */
    size_t n_ents;
    /* open elements, to repair nesting: names cut to PREP_MAX_NAME - 1 */
    struct feed_xml_prep_open {
        char name[PREP_MAX_NAME]; /* as written, for matching end tags */
        size_t len;
        uint32_t hash; /* of the lower-case name */
        bool renamed;  /* emitted as PREP_OTHER */
        size_t ns;     /* namespace declarations it made */
    } * stack;
    size_t depth, overflow, ns_total;
    /* how many open elements hash (lower case) to each bucket: most stray
     * end tags are dropped without searching the stack */
    uint16_t open_count[256];
    /* distinct names passed to libxml2 */
    uint32_t name_slots[PREP_NAME_SLOTS]; /* offset+1 into name_store */
    char *name_store;
    size_t name_store_len, n_names;
};

static uint32_t feed_xml_prep_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static bool feed_xml_prep_ent_find(const struct feed_xml_prep *p, const char *name, size_t n,
                                   size_t *slot)
{
    if (!p->ent_slots)
        return false;
    size_t i = feed_xml_prep_hash(name, n) & (PREP_SLOTS - 1);
    for (;;) {
        uint32_t v = p->ent_slots[i];
        if (!v) {
            if (slot)
                *slot = i;
            return false;
        }
        const char *e = p->ent_store + v - 1;
        if (strlen(e) == n && memcmp(e, name, n) == 0)
            return true;
        i = (i + 1) & (PREP_SLOTS - 1);
    }
}

static void feed_xml_prep_ent_add(struct feed_xml_prep *p, const char *name, size_t n)
{
    size_t slot;
    if (n == 0 || n >= PREP_MAX_NAME || p->n_ents >= PREP_MAX_ENTS)
        return;
    if (!p->ent_slots)
        p->ent_slots = kt_calloc(PREP_SLOTS, sizeof *p->ent_slots);
    if (feed_xml_prep_ent_find(p, name, n, &slot))
        return;
    if (p->ent_store_len + n + 1 > p->ent_store_cap) {
        p->ent_store_cap = p->ent_store_cap ? p->ent_store_cap * 2 : 1024;
        p->ent_store = kt_realloc(p->ent_store, p->ent_store_cap);
    }
    memcpy(p->ent_store + p->ent_store_len, name, n);
    p->ent_store[p->ent_store_len + n] = '\0';
    p->ent_slots[slot] = (uint32_t)p->ent_store_len + 1;
    p->ent_store_len += n + 1;
    p->n_ents++;
}

static void feed_xml_prep_free(struct feed_xml_prep *p)
{
    kt_buf_free(&p->out);
    free(p->ent_store);
    free(p->ent_slots);
    free(p->stack);
    free(p->name_store);
}

/* May libxml2 see this name? True when it is known or there is room for
 * it; names longer than PREP_MAX_NAME - 1 are never recorded. */
static bool feed_xml_prep_name_ok(struct feed_xml_prep *p, const char *name, size_t n)
{
    if (n == 0)
        return true;
    if (n >= PREP_MAX_NAME)
        return false;
    size_t i = feed_xml_prep_hash(name, n) & (PREP_NAME_SLOTS - 1);
    for (; p->name_slots[i]; i = (i + 1) & (PREP_NAME_SLOTS - 1)) {
        const char *e = p->name_store + p->name_slots[i] - 1;
        if (strlen(e) == n && memcmp(e, name, n) == 0)
            return true;
    }
    if (p->n_names >= PREP_MAX_NAMES)
        return false;
    if (!p->name_store)
        p->name_store = kt_malloc(PREP_MAX_NAMES * PREP_MAX_NAME);
    memcpy(p->name_store + p->name_store_len, name, n);
    p->name_store[p->name_store_len + n] = '\0';
    p->name_slots[i] = (uint32_t)p->name_store_len + 1;
    p->name_store_len += n + 1;
    p->n_names++;
    return true;
}

/* The names the reader itself needs always get through, however many
 * others came first. */
static void feed_xml_prep_seed_names(struct feed_xml_prep *p)
{
    static const char *const seed[] = {"rss",
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
                                       "http://www.w3.org/2005/Atom",
                                       "http://purl.org/atom/ns#",
                                       "http://purl.org/rss/1.0/",
                                       "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                                       "http://purl.org/dc/elements/1.1/",
                                       "http://purl.org/dc/terms/",
                                       "http://purl.org/rss/1.0/modules/content/",
                                       "http://search.yahoo.com/mrss/",
                                       "http://www.w3.org/1999/xhtml"};
    for (size_t i = 0; i < sizeof seed / sizeof *seed; i++)
        feed_xml_prep_name_ok(p, seed[i], strlen(seed[i]));
}

/* A qualified name: libxml2 interns the prefix and the local part. */
static bool feed_xml_prep_qname_ok(struct feed_xml_prep *p, const char *name, size_t n)
{
    const char *colon = memchr(name, ':', n);
    if (!colon)
        return feed_xml_prep_name_ok(p, name, n);
    size_t pre = (size_t)(colon - name);
    return feed_xml_prep_name_ok(p, name, pre) && feed_xml_prep_name_ok(p, colon + 1, n - pre - 1);
}

static uint32_t feed_xml_prep_hash_lower(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 16777619u;
    }
    return h;
}

/* Bytes the main loop must look at; everything else is copied in runs. */
static unsigned char feed_xml_prep_special[256];

static void feed_xml_prep_init_table(void)
{
    for (int c = 0; c < 0x20; c++)
        feed_xml_prep_special[c] = (c != '\t' && c != '\n' && c != '\r');
    feed_xml_prep_special['<'] = 1;
    feed_xml_prep_special['&'] = 1;
    feed_xml_prep_special[0xEF] = 1; /* U+FFFE / U+FFFF are not XML characters */
}

/* Copies s[0..n) replacing what XML forbids even in comments and CDATA. */
static void feed_xml_prep_copy_clean(struct kt_buf *o, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '<' || c == '&' || !feed_xml_prep_special[c])
            continue;
        kt_buf_append(o, s + run, i - run);
        if (c == 0xEF && i + 2 < n && (unsigned char)s[i + 1] == 0xBF &&
            ((unsigned char)s[i + 2] == 0xBE || (unsigned char)s[i + 2] == 0xBF)) {
            kt_buf_append(o, "\xEF\xBF\xBD", 3);
            i += 2;
        } else if (c == 0xEF) {
            kt_buf_putc(o, (char)c);
        } else {
            kt_buf_putc(o, ' '); /* see feed_xml_prep_odd_byte */
        }
        run = i + 1;
    }
    kt_buf_append(o, s + run, n - run);
}

/* What stands in for a removed construct: its newlines, so libxml2's line
 * numbers still match the document, and a space, so the text on either
 * side can never join into markup ("<!DOC<?xml?>TYPE" is not a DOCTYPE). */
static void feed_xml_prep_newlines(struct kt_buf *o, const char *s, size_t n)
{
    for (const char *p = s, *e = s + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        kt_buf_putc(o, '\n');
    kt_buf_putc(o, ' ');
}

static bool feed_xml_prep_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool feed_xml_prep_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

static bool feed_xml_prep_name_char(unsigned char c)
{
    return feed_xml_prep_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Finds a short needle (memmem is a GNU extension); linear, as the needle
 * is at most a few bytes. */
static const char *feed_xml_prep_find(const char *h, size_t hn, const char *nd, size_t nn)
{
    const char *e = h + hn;
    while (hn >= nn) {
        const char *p = memchr(h, nd[0], hn - nn + 1);
        if (!p)
            return NULL;
        if (memcmp(p, nd, nn) == 0)
            return p;
        h = p + 1;
        hn = (size_t)(e - h);
    }
    return NULL;
}

/* Skips a quoted literal starting at s[i] (a quote); returns the index after
 * the closing quote, or n. */
static size_t feed_xml_prep_skip_quoted(const char *s, size_t n, size_t i)
{
    const char *q = memchr(s + i + 1, s[i], n - i - 1);
    return q ? (size_t)(q - s) + 1 : n;
}

/* "<!DOCTYPE …>" at s[i]: records its name and the general entities the
 * internal subset declares, and returns the index after it. */
static size_t feed_xml_prep_doctype(struct feed_xml_prep *p, const char *s, size_t n, size_t i)
{
    size_t j = i + 9;
    while (j < n && feed_xml_prep_is_space(s[j]))
        j++;
    size_t k = j;
    while (k < n && feed_xml_prep_name_char((unsigned char)s[k]))
        k++;
    if (k > j && k - j < PREP_MAX_NAME && !p->doctype[0]) {
        memcpy(p->doctype, s + j, k - j);
        p->doctype[k - j] = '\0';
    }
    bool subset = false;
    for (j = k; j < n;) {
        char c = s[j];
        if (c == '"' || c == '\'') {
            j = feed_xml_prep_skip_quoted(s, n, j);
        } else if (!subset && c == '[') {
            subset = true;
            j++;
        } else if (subset && c == ']') {
            subset = false;
            j++;
        } else if (!subset && c == '>') {
            return j + 1;
        } else if (subset && c == '<' && n - j >= 4 && memcmp(s + j, "<!--", 4) == 0) {
            const char *e = feed_xml_prep_find(s + j + 4, n - j - 4, "-->", 3);
            j = e ? (size_t)(e - s) + 3 : n;
        } else if (subset && c == '<' && n - j >= 2 && s[j + 1] == '?') {
            const char *e = feed_xml_prep_find(s + j + 2, n - j - 2, "?>", 2);
            j = e ? (size_t)(e - s) + 2 : n;
        } else if (subset && c == '<' && n - j >= 8 && memcmp(s + j, "<!ENTITY", 8) == 0) {
            j += 8;
            while (j < n && feed_xml_prep_is_space(s[j]))
                j++;
            if (j < n && s[j] == '%')
                continue; /* parameter entity: not referable from content */
            size_t e = j;
            while (e < n && feed_xml_prep_name_char((unsigned char)s[e]))
                e++;
            feed_xml_prep_ent_add(p, s + j, e - j);
            j = e;
        } else {
            j++;
        }
    }
    return n;
}

static void feed_xml_prep_numeric_ref(struct kt_buf *o, uint32_t cp)
{
    char t[16];
    int k = snprintf(t, sizeof t, "&#%u;", (unsigned)cp);
    kt_buf_append(o, t, (size_t)k);
}

/* Decodes one code point of valid UTF-8 at *s. */
static uint32_t feed_xml_prep_utf8_next(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t c = p[0];
    if (c < 0x80) {
        *s += 1;
        return c;
    }
    if (c < 0xE0) {
        *s += 2;
        return ((c & 0x1F) << 6) | (p[1] & 0x3F);
    }
    if (c < 0xF0) {
        *s += 3;
        return ((c & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    *s += 4;
    return ((c & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) | ((uint32_t)(p[2] & 0x3F) << 6) |
           (p[3] & 0x3F);
}

/* '&' at s[i]: emits a reference libxml2 accepts and returns the index
 * after what was consumed. */
static size_t feed_xml_prep_ampersand(struct feed_xml_prep *p, const char *s, size_t n, size_t i)
{
    struct kt_buf *o = &p->out;
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
        bool hex = j + 1 < n && (s[j + 1] == 'x' || s[j + 1] == 'X');
        size_t k = j + 1 + hex, digits = 0;
        uint32_t cp = 0;
        for (; k < n; k++, digits++) {
            unsigned char c = (unsigned char)s[k];
            int v;
            if (c >= '0' && c <= '9')
                v = c - '0';
            else if (hex && c >= 'a' && c <= 'f')
                v = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F')
                v = c - 'A' + 10;
            else
                break;
            if (cp <= 0x10FFFF)
                cp = cp * (hex ? 16 : 10) + (uint32_t)v;
        }
        if (digits == 0) {
            kt_buf_puts(o, "&amp;");
            return i + 1;
        }
        if (k < n && s[k] == ';')
            k++;
        if (cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
            (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF))
            feed_xml_prep_numeric_ref(o, cp);
        else if (cp >= 0x20 || cp == 0)
            feed_xml_prep_numeric_ref(o, 0xFFFD); /* surrogates, out of range, NUL */
        else
            kt_buf_putc(o, ' '); /* C0 controls, as for raw ones */
        return k;
    }
    size_t k = j;
    if (k < n && feed_xml_prep_name_start((unsigned char)s[k]) && (unsigned char)s[k] < 0x80) {
        while (k < n && k - j < PREP_MAX_NAME && feed_xml_prep_name_char((unsigned char)s[k]) &&
               (unsigned char)s[k] < 0x80)
            k++;
    }
    if (k == j || k >= n || s[k] != ';') {
        kt_buf_puts(o, "&amp;"); /* bare '&' */
        return i + 1;
    }
    const char *name = s + j;
    size_t len = k - j;
    static const char *const predefined[] = {"amp", "lt", "gt", "quot", "apos"};
    for (size_t e = 0; e < 5; e++)
        if (strlen(predefined[e]) == len && memcmp(name, predefined[e], len) == 0) {
            kt_buf_append(o, s + i, k + 1 - i);
            return k + 1;
        }
    const char *exp = text_entity_lookup(name, len);
    if (exp) {
        const unsigned char *u = (const unsigned char *)exp;
        while (*u)
            feed_xml_prep_numeric_ref(o, feed_xml_prep_utf8_next(&u));
        return k + 1;
    }
    if (feed_xml_prep_ent_find(p, name, len, NULL))
        return k + 1;        /* declared by the document: never expanded, dropped */
    kt_buf_puts(o, "&amp;"); /* unknown: shown as written */
    return i + 1;
}

/* Hands what is rewritten so far to the parser; false once the SAX side
 * has stopped (not a feed, entry limit), so the rest is not rewritten. */
static bool feed_xml_prep_flush(struct feed_xml_prep *p, bool last)
{
    if (p->ctxt)
        xmlParseChunk(p->ctxt, p->out.data ? p->out.data : "", (int)p->out.len, last);
    p->out.len = 0;
    return !*p->stopped;
}

/* A byte feed_xml_prep_special flags (other than '<' and '&'): U+FFFE/U+FFFF become
 * U+FFFD and control characters a space. Never nothing: a dropped byte
 * would join its neighbours, and "<!DOC\bTYPE" must not turn into a
 * DOCTYPE that only libxml2 sees. Returns the next index. */
static size_t feed_xml_prep_odd_byte(struct kt_buf *o, const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == 0xEF && n - i >= 3 && (unsigned char)s[i + 1] == 0xBF &&
        ((unsigned char)s[i + 2] == 0xBE || (unsigned char)s[i + 2] == 0xBF)) {
        kt_buf_append(o, "\xEF\xBF\xBD", 3);
        return i + 3;
    }
    kt_buf_putc(o, c == 0xEF ? (char)c : ' ');
    return i + 1;
}

/* An attribute value starting at s[j] (its quote, or its first character
 * when unquoted, as HTML allows) written as a double-quoted XML literal
 * with '&', '<' and '"' made safe. Returns the index after it. */
static size_t feed_xml_prep_attr_value(struct feed_xml_prep *p, const char *s, size_t n, size_t j)
{
    struct kt_buf *o = &p->out;
    char quote = 0;
    if (j < n && (s[j] == '"' || s[j] == '\''))
        quote = s[j++];
    kt_buf_putc(o, '"');
    size_t run = j;
    while (j < n) {
        unsigned char c = (unsigned char)s[j];
        if (quote ? c == (unsigned char)quote
                  : (feed_xml_prep_is_space((char)c) || c == '>' || c == '<'))
            break;
        if (c == '&' || c == '<' || c == '"' || feed_xml_prep_special[c]) {
            kt_buf_append(o, s + run, j - run);
            if (c == '&') {
                j = feed_xml_prep_ampersand(p, s, n, j);
            } else if (c == '<' || c == '"') {
                kt_buf_puts(o, c == '<' ? "&lt;" : "&quot;");
                j++;
            } else {
                j = feed_xml_prep_odd_byte(o, s, n, j);
            }
            run = j;
            continue;
        }
        j++;
    }
    kt_buf_append(o, s + run, j - run);
    kt_buf_putc(o, '"');
    return quote && j < n ? j + 1 : j;
}

static void feed_xml_prep_truncate(struct kt_buf *o, size_t len)
{
    o->len = len;
    if (o->data)
        o->data[len] = '\0';
}

/* "<name …>" at s[i]: rewritten attribute by attribute, so libxml2 always
 * gets well-formed attribute syntax (unquoted values quoted, bare names
 * given "", junk dropped) and never too many; recorded as open unless it
 * closes itself. Returns the index after the tag. */
static size_t feed_xml_prep_start_tag(struct feed_xml_prep *p, const char *s, size_t n, size_t i)
{
    struct kt_buf *o = &p->out;
    size_t k = i + 1;
    while (k < n && feed_xml_prep_name_char((unsigned char)s[k]))
        k++;
    size_t nlen = k - i - 1, keep = nlen < PREP_MAX_NAME - 1 ? nlen : PREP_MAX_NAME - 1;
    if (!p->root[0]) {
        memcpy(p->root, s + i + 1, keep);
        p->root[keep] = '\0';
    }
    size_t tag_mark = o->len, nattr = 0, nns = 0, j = k;
    bool self_closing = false;
    bool renamed = !feed_xml_prep_qname_ok(p, s + i + 1, nlen);
    if (renamed)
        kt_buf_puts(o, "<" PREP_OTHER);
    else
        kt_buf_append(o, s + i, k - i);
    for (;;) {
        while (j < n && feed_xml_prep_is_space(s[j]))
            j++;
        if (j >= n)
            break;
        unsigned char c = (unsigned char)s[j];
        if (c == '>') {
            j++;
            break;
        }
        if (c == '/' && j + 1 < n && s[j + 1] == '>') {
            self_closing = true;
            j += 2;
            break;
        }
        if (c == '<')
            break; /* "<a href=x <b>": the tag never ended; it ends here */
        if (!feed_xml_prep_name_start(c)) {
            j++; /* junk where a name belongs */
            continue;
        }
        size_t an = j, mark = o->len;
        while (j < n && feed_xml_prep_name_char((unsigned char)s[j]))
            j++;
        size_t alen = j - an;
        kt_buf_putc(o, ' ');
        kt_buf_append(o, s + an, alen);
        kt_buf_putc(o, '=');
        size_t vstart = o->len, v = j;
        while (v < n && feed_xml_prep_is_space(s[v]))
            v++;
        if (v < n && s[v] == '=') {
            v++;
            while (v < n && feed_xml_prep_is_space(s[v]))
                v++;
            j = feed_xml_prep_attr_value(p, s, n, v);
        } else {
            kt_buf_puts(o, "\"\""); /* <input disabled> */
        }
        bool is_ns =
            alen >= 5 && memcmp(s + an, "xmlns", 5) == 0 && (alen == 5 || s[an + 5] == ':');
        /* a namespace URI is interned as well */
        bool names_ok =
            feed_xml_prep_qname_ok(p, s + an, alen) &&
            (!is_ns || feed_xml_prep_name_ok(p, o->data + vstart + 1, o->len - vstart - 2));
        if (++nattr > PREP_MAX_ATTRS || !names_ok || (is_ns && p->ns_total + nns >= PREP_MAX_NS))
            feed_xml_prep_truncate(o, mark);
        else if (is_ns)
            nns++;
    }
    kt_buf_puts(o, self_closing ? "/>" : ">");
    if (p->depth >= PREP_MAX_DEPTH) {
        feed_xml_prep_truncate(o, tag_mark);
        if (!self_closing)
            p->overflow++;
        return j;
    }
    if (!self_closing) {
        if (!p->stack)
            p->stack = kt_malloc(PREP_MAX_DEPTH * sizeof *p->stack);
        struct feed_xml_prep_open *e = &p->stack[p->depth++];
        memcpy(e->name, s + i + 1, keep);
        e->name[keep] = '\0';
        e->len = keep;
        e->hash = feed_xml_prep_hash_lower(e->name, keep);
        e->renamed = renamed;
        e->ns = nns;
        p->ns_total += nns;
        p->open_count[e->hash & 255]++;
    }
    return j;
}

static void feed_xml_prep_close_top(struct feed_xml_prep *p)
{
    struct feed_xml_prep_open *top = &p->stack[--p->depth];
    p->ns_total -= top->ns;
    p->open_count[top->hash & 255]--;
    kt_buf_puts(&p->out, "</");
    kt_buf_puts(&p->out, top->renamed ? PREP_OTHER : top->name);
    kt_buf_putc(&p->out, '>');
}

/* "</name>" at s[i]. libxml2's recovery closes exactly one element per end
 * tag whatever its name, so one stray or missing end tag shifts everything
 * after it (an item's link lands outside the item). Here an end tag closes
 * the innermost open element of that name (and everything inside it, as
 * HTML parsers do), an end tag that matches nothing is dropped, and a
 * case-only mismatch counts as a match. */
static size_t feed_xml_prep_end_tag(struct feed_xml_prep *p, const char *s, size_t n, size_t i)
{
    size_t k = i + 2;
    while (k < n && feed_xml_prep_name_char((unsigned char)s[k]))
        k++;
    const char *name = s + i + 2;
    size_t nlen = k - i - 2, cmp = nlen < PREP_MAX_NAME - 1 ? nlen : PREP_MAX_NAME - 1;
    size_t j = k;
    while (j < n && s[j] != '>' && s[j] != '<')
        j++;
    if (j < n && s[j] == '>')
        j++;
    if (p->overflow > 0) {
        p->overflow--; /* its start tag was dropped */
        return j;
    }
    uint32_t h = feed_xml_prep_hash_lower(name, cmp);
    if (nlen == 0 || p->open_count[h & 255] == 0)
        return j;
    size_t m = p->depth;
    for (size_t d = p->depth; d-- > 0;)
        if (p->stack[d].hash == h && p->stack[d].len == cmp &&
            memcmp(p->stack[d].name, name, cmp) == 0) {
            m = d;
            break;
        }
    if (m == p->depth)
        for (size_t d = p->depth; d-- > 0;)
            if (p->stack[d].hash == h && p->stack[d].len == cmp &&
                strncasecmp(p->stack[d].name, name, cmp) == 0) {
                m = d;
                break;
            }
    if (m == p->depth)
        return j; /* closes nothing that is open: dropped */
    while (p->depth > m)
        feed_xml_prep_close_top(p);
    return j;
}

/* Rewrites s (valid UTF-8) into the parser; see the file comment. Returns
 * false when parsing stopped early. */
static bool feed_xml_prep_run(struct feed_xml_prep *p, const char *s, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, feed_xml_prep_init_table);
    feed_xml_prep_seed_names(p);
    struct kt_buf *o = &p->out;
    kt_buf_reserve(o, (n < p->chunk ? n : p->chunk) + 64);
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (!feed_xml_prep_special[c]) {
            i++;
            if (i - run >= p->chunk) {
                kt_buf_append(o, s + run, i - run);
                run = i;
                if (!feed_xml_prep_flush(p, false))
                    return false;
            }
            continue;
        }
        kt_buf_append(o, s + run, i - run);
        size_t rest = n - i;
        if (c == '&') {
            i = feed_xml_prep_ampersand(p, s, n, i);
        } else if (c == '<' && rest >= 4 && memcmp(s + i, "<!--", 4) == 0) {
            const char *e = feed_xml_prep_find(s + i + 4, rest - 4, "-->", 3);
            size_t end = e ? (size_t)(e - s) + 3 : n;
            feed_xml_prep_copy_clean(o, s + i, end - i);
            i = end;
        } else if (c == '<' && rest >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
            const char *e = feed_xml_prep_find(s + i + 9, rest - 9, "]]>", 3);
            size_t end = e ? (size_t)(e - s) + 3 : n;
            feed_xml_prep_copy_clean(o, s + i, end - i);
            i = end;
        } else if (c == '<' && rest >= 3 && s[i + 1] == '?' &&
                   feed_xml_prep_name_start((unsigned char)s[i + 2])) {
            /* only a PI libxml2 also reads as one: after "<?" with no target
             * it would parse what follows as markup */
            const char *e = feed_xml_prep_find(s + i + 2, rest - 2, "?>", 2);
            size_t end = e ? (size_t)(e - s) + 2 : n;
            /* the XML declaration names the original encoding; the text is
             * UTF-8 now, so the declaration goes */
            size_t t = i + 2;
            while (t < end && feed_xml_prep_name_char((unsigned char)s[t]))
                t++;
            if ((t - i - 2 == 3 && strncasecmp(s + i + 2, "xml", 3) == 0) ||
                !feed_xml_prep_name_ok(p, s + i + 2, t - i - 2))
                feed_xml_prep_newlines(o, s + i, end - i);
            else
                feed_xml_prep_copy_clean(o, s + i, end - i);
            i = end;
        } else if (c == '<' && rest >= 9 && strncasecmp(s + i, "<!DOCTYPE", 9) == 0) {
            size_t end = feed_xml_prep_doctype(p, s, n, i);
            feed_xml_prep_newlines(o, s + i, end - i);
            i = end;
        } else if (c == '<') {
            unsigned char d = rest >= 2 ? (unsigned char)s[i + 1] : 0;
            if (feed_xml_prep_name_start(d)) {
                i = feed_xml_prep_start_tag(p, s, n, i);
            } else if (d == '/') {
                i = feed_xml_prep_end_tag(p, s, n, i);
            } else {
                /* also "<!" that is no comment, CDATA or DOCTYPE: as text it
                 * cannot become markup, whatever the rewrite removes after it */
                kt_buf_puts(o, "&lt;"); /* "1 < 2" in text */
                i++;
            }
        } else {
            i = feed_xml_prep_odd_byte(o, s, n, i);
        }
        run = i;
        if (o->len >= p->chunk && !feed_xml_prep_flush(p, false))
            return false;
    }
    kt_buf_append(o, s + run, n - run);
    /* a cut-off document still closes what it opened, so the SAX side sees
     * every element end */
    while (p->depth > 0)
        feed_xml_prep_close_top(p);
    return true;
}

/* ---------------------------------------------------------------------------
 * SAX state
 */

#define XML_MAX_FRAMES 512
#define PRIO_NONE 1000

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
    int err_line;
    char err_msg[200];
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
    while (n && feed_xml_prep_is_space(*s)) {
        s++;
        n--;
    }
    while (n && (feed_xml_prep_is_space(s[n - 1]) || s[n - 1] == '\f'))
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
                while (q < e && feed_xml_prep_is_space(*q))
                    q++;
                if (q < e && *q == '>')
                    return true;
            } else if (q < e && (*q == '>' || *q == '/' || feed_xml_prep_is_space(*q)) &&
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
        if (feed_xml_prep_is_space((char)c))
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
        int prio = feed_xml_html_type(type) ? 1 : 2;
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
        int prio = st->format == FEED_ATOM ? 3 : 0;
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
        if (4 < it->link_prio) {
            char *pl = feed_xml_attr(attrs, nattr, "isPermaLink");
            char *v = pl ? feed_xml_trim_dup(pl, strlen(pl)) : NULL;
            bool permalink = !v || strcasecmp(v, "false") != 0;
            free(pl);
            free(v);
            if (permalink)
                feed_xml_capture_begin(st, d, F_GUID, 4, false);
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
        while (feed_xml_prep_is_space(*p))
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
            if (!feed_xml_prep_is_space(c->text.data[i]))
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
            feed_xml_set_link(&st->item, feed_xml_resolve(st, h, st->frames[st->depth].base), 5);
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
            feed_xml_set_link(&st->feed, feed_xml_resolve(st, h, st->frames[st->depth].base), 5);
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

static void feed_xml_sax_error(void *ctx, xmlErrorPtr e)
{
    struct feed_xml_state *st = ctx;
    if (!st || st->have_err || !e || e->level < XML_ERR_ERROR)
        return;
    st->have_err = true;
    st->err_line = e->line;
    snprintf(st->err_msg, sizeof st->err_msg, "%s", e->message ? e->message : "parse error");
    size_t n = strlen(st->err_msg);
    while (n && (st->err_msg[n - 1] == '\n' || st->err_msg[n - 1] == ' '))
        st->err_msg[--n] = '\0';
    for (char *p = st->err_msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

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

    struct feed_xml_prep prep;
    memset(&prep, 0, sizeof prep);
    kt_buf_init(&prep.out);
    prep.stopped = &st->stopped;
    st->doctype = prep.doctype;
    /* few, large chunks: libxml2 2.9's push parser rescans its buffer
     * backwards for each chunk, so the count must not grow with the size */
    prep.chunk = u->len / 8;
    if (prep.chunk < 256 * 1024)
        prep.chunk = 256 * 1024;
    if (prep.chunk > 64 * 1024 * 1024)
        prep.chunk = 64 * 1024 * 1024;

    int rc = 0;
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
    prep.ctxt = ctxt;
    if (feed_xml_prep_run(&prep, u->data, u->len))
        feed_xml_prep_flush(&prep, true);

    /* unclosed elements at the end of the data still count */
    st->stopped = false;
    if (st->cap.depth)
        feed_xml_capture_finish(st);
    if (st->in_item)
        feed_xml_item_finish(st);

    const char *colon = strchr(prep.root, ':');
    if (st->root_err[0]) {
        rc = kt_error(err, errlen, "%s", st->root_err);
    } else if (!st->root_seen && (strcasecmp(colon ? colon + 1 : prep.root, "html") == 0 ||
                                  (!prep.root[0] && strcasecmp(prep.doctype, "html") == 0))) {
        rc = kt_error(err, errlen, "not a feed: HTML page"); /* too broken to parse */
    } else if (!st->root_seen) {
        if (st->have_err)
            rc = kt_error(err, errlen, "XML: %s at line %d", st->err_msg, st->err_line);
        else
            rc = kt_error(err, errlen, "XML: no root element");
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
    feed_xml_prep_free(&prep);
    return rc;
}
