/*
 * xml_repair: the repair pass run over an XML document's UTF-8 text before
 * a recovering parser (libxml2) sees it. Pure; usable by any XML reader of
 * the project (feeds, CAP alerts).
 *
 * Why a rewrite and not just libxml2's recovery: real feeds are full of
 * bare '&', HTML entities XML does not know (&nbsp; &rsquo;), stray control
 * characters, unquoted attributes and unbalanced tags, and libxml2's
 * recovery silently drops text or whole items around each of them. This
 * pass repairs those, removes the DOCTYPE (so a document's own entities are
 * never expanded: billion laughs, quadratic blowup, XXE) and keeps depth,
 * attribute and name counts inside what libxml2 2.9 handles in linear time.
 * It never simply deletes a byte: deleting can join the text around it into
 * markup only libxml2 would see.
 *
 * It also tells a complete document from one that is not: one cut short
 * (an element still open at the end) or hostile (an entity expansion bomb,
 * nesting past the limit) is reported, so the caller can keep the previous
 * good version instead of taking what was recovered as the whole feed.
 */
#include "xml_repair.h"

#include "hashset.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XML_REPAIR_MAX_ENTS 4096
#define XML_REPAIR_MAX_NAME 64
/* Deeper documents are refused: libxml2's pull parser stops at this depth
 * and its push parser keeps every level, and no feed nests this deep. */
#define XML_REPAIR_MAX_DEPTH 256
/* libxml2 2.9 compares each attribute with every other one of its element
 * and looks namespaces up linearly: both stay small */
#define XML_REPAIR_MAX_ATTRS 256
#define XML_REPAIR_MAX_NS 256
/* libxml2 2.9 interns every name in a hash keyed on a name's first ten and
 * last characters, so many similar names make each lookup walk a long
 * chain. Beyond this many distinct names (feeds use a few dozen) elements
 * are renamed XML_REPAIR_OTHER and attributes and PIs dropped. */
#define XML_REPAIR_MAX_NAMES 512
#define XML_REPAIR_OTHER "_"
/* References to the document's own entities are dropped, never expanded;
 * what they would have expanded to is still measured: past this budget (or
 * an entity built from other entities) the document is an expansion bomb
 * and is refused. */
#define XML_REPAIR_EXPANSION_MIN (1u << 20)

/* A set of short names (each < XML_REPAIR_MAX_NAME bytes), by index. */
struct xml_repair_names {
    struct hashset set;
    char *store; /* NUL-separated */
    size_t store_len, store_cap;
    size_t *off; /* index → offset in store */
    size_t n, cap;
};

struct xml_repair_ent {
    size_t value_len; /* bytes of its replacement text, 0 for external ones */
    bool nested;      /* the replacement text refers to other entities */
};

struct xml_repair {
    struct xml_repair_opts opts;
    struct kt_buf out;
    enum xml_repair_status status;
    char problem[160];
    char root[XML_REPAIR_MAX_NAME];    /* first start tag's name, "" if none */
    char doctype[XML_REPAIR_MAX_NAME]; /* DOCTYPE name, "" if none */
    /* general entities the internal subset declares */
    struct xml_repair_names ents;
    struct xml_repair_ent *ent_info; /* by index in ents */
    size_t expansion, expansion_max;
    /* open elements, to repair nesting: names cut to XML_REPAIR_MAX_NAME - 1 */
    struct xml_repair_open {
        char name[XML_REPAIR_MAX_NAME]; /* as written, for matching end tags */
        size_t len;
        uint64_t hash; /* of the lower-case name */
        bool renamed;  /* emitted as XML_REPAIR_OTHER */
        size_t ns;     /* namespace declarations it made */
    } * stack;
    size_t depth, ns_total;
    /* how many open elements hash (lower case) to each bucket: most stray
     * end tags are dropped without searching the stack */
    uint16_t open_count[256];
    /* distinct names passed to libxml2 */
    struct xml_repair_names names;
};

struct xml_repair_key {
    const struct xml_repair_names *names;
    const char *s;
    size_t n;
};

static bool xml_repair_names_eq(const void *ctx, size_t idx)
{
    const struct xml_repair_key *k = ctx;
    const char *e = k->names->store + k->names->off[idx];
    return strlen(e) == k->n && memcmp(e, k->s, k->n) == 0;
}

static size_t xml_repair_names_find(const struct xml_repair_names *t, const char *s, size_t n,
                                    uint64_t *h)
{
    struct xml_repair_key k = {t, s, n};
    *h = hashset_hash_bytes(s, n, false);
    return hashset_find(&t->set, *h, xml_repair_names_eq, &k, NULL);
}

/* Adds s (not yet in t) and returns its index. */
static size_t xml_repair_names_add(struct xml_repair_names *t, const char *s, size_t n, uint64_t h)
{
    if (t->store_len + n + 1 > t->store_cap) {
        t->store_cap = (t->store_cap ? t->store_cap * 2 : 1024) + n + 1;
        t->store = kt_realloc(t->store, t->store_cap);
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->off = kt_realloc(t->off, t->cap * sizeof *t->off);
    }
    memcpy(t->store + t->store_len, s, n);
    t->store[t->store_len + n] = '\0';
    t->off[t->n] = t->store_len;
    t->store_len += n + 1;
    struct xml_repair_key k = {t, s, n};
    hashset_insert(&t->set, h, t->n, xml_repair_names_eq, &k);
    return t->n++;
}

static void xml_repair_names_free(struct xml_repair_names *t)
{
    hashset_free(&t->set);
    free(t->store);
    free(t->off);
}

static void xml_repair_refuse(struct xml_repair *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Stops the rewrite for good: the document is hostile. */
static void xml_repair_refuse(struct xml_repair *p, const char *fmt, ...)
{
    if (p->status == XML_REPAIR_REFUSED)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->problem, sizeof p->problem, fmt, ap);
    va_end(ap);
    p->status = XML_REPAIR_REFUSED;
}

static size_t xml_repair_ent_find(const struct xml_repair *p, const char *name, size_t n)
{
    uint64_t h;
    return xml_repair_names_find(&p->ents, name, n, &h);
}

static void xml_repair_ent_add(struct xml_repair *p, const char *name, size_t n,
                               struct xml_repair_ent info)
{
    uint64_t h;
    if (n == 0 || n >= XML_REPAIR_MAX_NAME || p->ents.n >= XML_REPAIR_MAX_ENTS ||
        xml_repair_names_find(&p->ents, name, n, &h) != HASHSET_NONE)
        return; /* the first declaration binds (XML 1.0, section 4.2) */
    size_t idx = xml_repair_names_add(&p->ents, name, n, h);
    if (!p->ent_info)
        p->ent_info = kt_calloc(XML_REPAIR_MAX_ENTS, sizeof *p->ent_info);
    p->ent_info[idx] = info;
}

/* May libxml2 see this name? True when it is known or there is room for
 * it; names longer than XML_REPAIR_MAX_NAME - 1 are never recorded. */
static bool xml_repair_name_ok(struct xml_repair *p, const char *name, size_t n)
{
    uint64_t h;
    if (n == 0)
        return true;
    if (n >= XML_REPAIR_MAX_NAME)
        return false;
    if (xml_repair_names_find(&p->names, name, n, &h) != HASHSET_NONE)
        return true;
    if (p->names.n >= XML_REPAIR_MAX_NAMES)
        return false;
    xml_repair_names_add(&p->names, name, n, h);
    return true;
}

/* A qualified name: libxml2 interns the prefix and the local part. */
static bool xml_repair_qname_ok(struct xml_repair *p, const char *name, size_t n)
{
    const char *colon = memchr(name, ':', n);
    if (!colon)
        return xml_repair_name_ok(p, name, n);
    size_t pre = (size_t)(colon - name);
    return xml_repair_name_ok(p, name, pre) && xml_repair_name_ok(p, colon + 1, n - pre - 1);
}

/* Bytes the main loop must look at; everything else is copied in runs. */
static unsigned char xml_repair_special[256];

static void xml_repair_init_table(void)
{
    for (int c = 0; c < 0x20; c++)
        xml_repair_special[c] = (c != '\t' && c != '\n' && c != '\r');
    xml_repair_special['<'] = 1;
    xml_repair_special['&'] = 1;
    xml_repair_special[0xEF] = 1; /* U+FFFE / U+FFFF are not XML characters */
}

/* A C0 control XML cannot carry: ESC becomes the text layer's stand-in
 * (so a terminal escape sequence is removed whole, not just its ESC), the
 * others a space. Never nothing, see xml_repair_odd_byte. */
static void xml_repair_control(struct kt_buf *o, unsigned char c)
{
    if (c == 0x1B) {
        char t[4];
        kt_buf_append(o, t, uni_encode(UNI_ESC_STANDIN, t));
    } else {
        kt_buf_putc(o, ' ');
    }
}

/* Copies s[0..n) replacing what XML forbids even in comments and CDATA. */
static void xml_repair_copy_clean(struct kt_buf *o, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '<' || c == '&' || !xml_repair_special[c])
            continue;
        kt_buf_append(o, s + run, i - run);
        if (c == 0xEF && i + 2 < n && (unsigned char)s[i + 1] == 0xBF &&
            ((unsigned char)s[i + 2] == 0xBE || (unsigned char)s[i + 2] == 0xBF)) {
            kt_buf_append(o, "\xEF\xBF\xBD", 3);
            i += 2;
        } else if (c == 0xEF) {
            kt_buf_putc(o, (char)c);
        } else {
            xml_repair_control(o, c);
        }
        run = i + 1;
    }
    kt_buf_append(o, s + run, n - run);
}

/* What stands in for a removed construct: its newlines, so libxml2's line
 * numbers still match the document, and a space, so the text on either
 * side can never join into markup ("<!DOC<?xml?>TYPE" is not a DOCTYPE). */
static void xml_repair_newlines(struct kt_buf *o, const char *s, size_t n)
{
    for (const char *p = s, *e = s + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        kt_buf_putc(o, '\n');
    kt_buf_putc(o, ' ');
}

static bool xml_repair_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool xml_repair_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || c >= 0x80;
}

static bool xml_repair_name_char(unsigned char c)
{
    return xml_repair_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Finds a short needle (memmem is a GNU extension); linear, as the needle
 * is at most a few bytes. */
static const char *xml_repair_find(const char *h, size_t hn, const char *nd, size_t nn)
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
static size_t xml_repair_skip_quoted(const char *s, size_t n, size_t i)
{
    const char *q = memchr(s + i + 1, s[i], n - i - 1);
    return q ? (size_t)(q - s) + 1 : n;
}

/* "<!DOCTYPE …>" at s[i]: records its name and the general entities the
 * internal subset declares, and returns the index after it. */
static size_t xml_repair_doctype_decl(struct xml_repair *p, const char *s, size_t n, size_t i)
{
    size_t j = i + 9;
    while (j < n && xml_repair_is_space(s[j]))
        j++;
    size_t k = j;
    while (k < n && xml_repair_name_char((unsigned char)s[k]))
        k++;
    if (k > j && k - j < XML_REPAIR_MAX_NAME && !p->doctype[0]) {
        memcpy(p->doctype, s + j, k - j);
        p->doctype[k - j] = '\0';
    }
    bool subset = false;
    for (j = k; j < n;) {
        char c = s[j];
        if (c == '"' || c == '\'') {
            j = xml_repair_skip_quoted(s, n, j);
        } else if (!subset && c == '[') {
            subset = true;
            j++;
        } else if (subset && c == ']') {
            subset = false;
            j++;
        } else if (!subset && c == '>') {
            return j + 1;
        } else if (subset && c == '<' && n - j >= 4 && memcmp(s + j, "<!--", 4) == 0) {
            const char *e = xml_repair_find(s + j + 4, n - j - 4, "-->", 3);
            j = e ? (size_t)(e - s) + 3 : n;
        } else if (subset && c == '<' && n - j >= 2 && s[j + 1] == '?') {
            const char *e = xml_repair_find(s + j + 2, n - j - 2, "?>", 2);
            j = e ? (size_t)(e - s) + 2 : n;
        } else if (subset && c == '<' && n - j >= 8 && memcmp(s + j, "<!ENTITY", 8) == 0) {
            j += 8;
            while (j < n && xml_repair_is_space(s[j]))
                j++;
            if (j < n && s[j] == '%')
                continue; /* parameter entity: not referable from content */
            size_t e = j;
            while (e < n && xml_repair_name_char((unsigned char)s[e]))
                e++;
            size_t name_at = j, name_len = e - j;
            struct xml_repair_ent info = {0, false};
            for (j = e; j < n && xml_repair_is_space(s[j]); j++)
                ;
            if (j < n && (s[j] == '"' || s[j] == '\'')) {
                size_t end = xml_repair_skip_quoted(s, n, j);
                size_t vlen = end > j + 1 ? end - j - 2 : 0;
                const char *v = s + j + 1;
                info.value_len = vlen;
                for (size_t q = 0; q + 1 < vlen; q++)
                    if (v[q] == '&' && v[q + 1] != '#')
                        info.nested = true;
                j = end;
            }
            xml_repair_ent_add(p, s + name_at, name_len, info);
        } else {
            j++;
        }
    }
    return n;
}

static void xml_repair_numeric_ref(struct kt_buf *o, uint32_t cp)
{
    char t[16];
    int k = snprintf(t, sizeof t, "&#%u;", (unsigned)cp);
    kt_buf_append(o, t, (size_t)k);
}

/* '&' at s[i]: emits a reference libxml2 accepts and returns the index
 * after what was consumed. */
static size_t xml_repair_ampersand(struct xml_repair *p, const char *s, size_t n, size_t i)
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
            xml_repair_numeric_ref(o, cp);
        else if (cp >= 0x20 || cp == 0)
            xml_repair_numeric_ref(o, 0xFFFD); /* surrogates, out of range, NUL */
        else
            xml_repair_control(o, (unsigned char)cp); /* C0 controls, as for raw ones */
        return k;
    }
    size_t k = j;
    if (k < n && xml_repair_name_start((unsigned char)s[k]) && (unsigned char)s[k] < 0x80) {
        while (k < n && k - j < XML_REPAIR_MAX_NAME && xml_repair_name_char((unsigned char)s[k]) &&
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
        for (size_t at = 0, el = strlen(exp); at < el;) {
            uint32_t cp;
            at += uni_decode(exp + at, el - at, &cp);
            xml_repair_numeric_ref(o, cp);
        }
        return k + 1;
    }
    size_t ent = xml_repair_ent_find(p, name, len);
    if (ent != HASHSET_NONE) {
        /* declared by the document: never expanded, dropped; but a bomb is
         * refused rather than quietly shown without its text */
        const struct xml_repair_ent *info = &p->ent_info[ent];
        p->expansion += info->value_len;
        if (info->nested)
            xml_repair_refuse(p,
                              "XML: entity expansion refused (&%.*s; is built from other "
                              "entities)",
                              (int)(len < 40 ? len : 40), name);
        else if (p->expansion > p->expansion_max)
            xml_repair_refuse(p, "XML: entity expansion refused (more than %zu bytes)",
                              p->expansion_max);
        return k + 1;
    }
    kt_buf_puts(o, "&amp;"); /* unknown: shown as written */
    return i + 1;
}

/* Hands what is rewritten so far to the sink; false once the sink has
 * stopped (not a feed, entry limit) or the document was refused, so the
 * rest is not rewritten. */
static bool xml_repair_flush(struct xml_repair *p, bool last)
{
    if (p->status == XML_REPAIR_REFUSED)
        return false;
    bool go = p->opts.sink(p->opts.ctx, p->out.data ? p->out.data : "", p->out.len, last);
    p->out.len = 0;
    if (!go && p->status == XML_REPAIR_DONE)
        p->status = XML_REPAIR_STOPPED;
    return go;
}

/* A byte xml_repair_special flags (other than '<' and '&'): U+FFFE/U+FFFF become
 * U+FFFD and control characters a space. Never nothing: a dropped byte
 * would join its neighbours, and "<!DOC\bTYPE" must not turn into a
 * DOCTYPE that only libxml2 sees. Returns the next index. */
static size_t xml_repair_odd_byte(struct kt_buf *o, const char *s, size_t n, size_t i)
{
    unsigned char c = (unsigned char)s[i];
    if (c == 0xEF && n - i >= 3 && (unsigned char)s[i + 1] == 0xBF &&
        ((unsigned char)s[i + 2] == 0xBE || (unsigned char)s[i + 2] == 0xBF)) {
        kt_buf_append(o, "\xEF\xBF\xBD", 3);
        return i + 3;
    }
    if (c == 0xEF)
        kt_buf_putc(o, (char)c);
    else
        xml_repair_control(o, c);
    return i + 1;
}

/* An attribute value starting at s[j] (its quote, or its first character
 * when unquoted, as HTML allows) written as a double-quoted XML literal
 * with '&', '<' and '"' made safe. Returns the index after it. */
static size_t xml_repair_attr_value(struct xml_repair *p, const char *s, size_t n, size_t j)
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
                  : (xml_repair_is_space((char)c) || c == '>' || c == '<'))
            break;
        if (c == '&' || c == '<' || c == '"' || xml_repair_special[c]) {
            kt_buf_append(o, s + run, j - run);
            if (c == '&') {
                j = xml_repair_ampersand(p, s, n, j);
            } else if (c == '<' || c == '"') {
                kt_buf_puts(o, c == '<' ? "&lt;" : "&quot;");
                j++;
            } else {
                j = xml_repair_odd_byte(o, s, n, j);
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

static void xml_repair_truncate(struct kt_buf *o, size_t len)
{
    o->len = len;
    if (o->data)
        o->data[len] = '\0';
}

/* "<name …>" at s[i]: rewritten attribute by attribute, so libxml2 always
 * gets well-formed attribute syntax (unquoted values quoted, bare names
 * given "", junk dropped) and never too many; recorded as open unless it
 * closes itself. Returns the index after the tag. */
static size_t xml_repair_start_tag(struct xml_repair *p, const char *s, size_t n, size_t i)
{
    struct kt_buf *o = &p->out;
    size_t k = i + 1;
    while (k < n && xml_repair_name_char((unsigned char)s[k]))
        k++;
    size_t nlen = k - i - 1, keep = nlen < XML_REPAIR_MAX_NAME - 1 ? nlen : XML_REPAIR_MAX_NAME - 1;
    if (!p->root[0]) {
        memcpy(p->root, s + i + 1, keep);
        p->root[keep] = '\0';
    }
    size_t tag_mark = o->len, nattr = 0, nns = 0, j = k;
    bool self_closing = false;
    bool renamed = !xml_repair_qname_ok(p, s + i + 1, nlen);
    if (renamed)
        kt_buf_puts(o, "<" XML_REPAIR_OTHER);
    else
        kt_buf_append(o, s + i, k - i);
    for (;;) {
        while (j < n && xml_repair_is_space(s[j]))
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
        if (!xml_repair_name_start(c)) {
            j++; /* junk where a name belongs */
            continue;
        }
        size_t an = j, mark = o->len;
        while (j < n && xml_repair_name_char((unsigned char)s[j]))
            j++;
        size_t alen = j - an;
        kt_buf_putc(o, ' ');
        kt_buf_append(o, s + an, alen);
        kt_buf_putc(o, '=');
        size_t vstart = o->len, v = j;
        while (v < n && xml_repair_is_space(s[v]))
            v++;
        if (v < n && s[v] == '=') {
            v++;
            while (v < n && xml_repair_is_space(s[v]))
                v++;
            j = xml_repair_attr_value(p, s, n, v);
        } else {
            kt_buf_puts(o, "\"\""); /* <input disabled> */
        }
        bool is_ns =
            alen >= 5 && memcmp(s + an, "xmlns", 5) == 0 && (alen == 5 || s[an + 5] == ':');
        /* a namespace URI is interned as well */
        bool names_ok =
            xml_repair_qname_ok(p, s + an, alen) &&
            (!is_ns || xml_repair_name_ok(p, o->data + vstart + 1, o->len - vstart - 2));
        if (++nattr > XML_REPAIR_MAX_ATTRS || !names_ok ||
            (is_ns && p->ns_total + nns >= XML_REPAIR_MAX_NS))
            xml_repair_truncate(o, mark);
        else if (is_ns)
            nns++;
    }
    kt_buf_puts(o, self_closing ? "/>" : ">");
    if (p->depth >= XML_REPAIR_MAX_DEPTH && !self_closing) {
        xml_repair_truncate(o, tag_mark);
        xml_repair_refuse(p, "XML: nesting deeper than %d elements refused", XML_REPAIR_MAX_DEPTH);
        return j;
    }
    if (!self_closing) {
        if (!p->stack)
            p->stack = kt_malloc(XML_REPAIR_MAX_DEPTH * sizeof *p->stack);
        struct xml_repair_open *e = &p->stack[p->depth++];
        memcpy(e->name, s + i + 1, keep);
        e->name[keep] = '\0';
        e->len = keep;
        e->hash = hashset_hash_bytes(e->name, keep, true);
        e->renamed = renamed;
        e->ns = nns;
        p->ns_total += nns;
        p->open_count[e->hash & 255]++;
    }
    return j;
}

static void xml_repair_close_top(struct xml_repair *p)
{
    struct xml_repair_open *top = &p->stack[--p->depth];
    p->ns_total -= top->ns;
    p->open_count[top->hash & 255]--;
    kt_buf_puts(&p->out, "</");
    kt_buf_puts(&p->out, top->renamed ? XML_REPAIR_OTHER : top->name);
    kt_buf_putc(&p->out, '>');
}

/* "</name>" at s[i]. libxml2's recovery closes exactly one element per end
 * tag whatever its name, so one stray or missing end tag shifts everything
 * after it (an item's link lands outside the item). Here an end tag closes
 * the innermost open element of that name (and everything inside it, as
 * HTML parsers do), an end tag that matches nothing is dropped, and a
 * case-only mismatch counts as a match. */
static size_t xml_repair_end_tag(struct xml_repair *p, const char *s, size_t n, size_t i)
{
    size_t k = i + 2;
    while (k < n && xml_repair_name_char((unsigned char)s[k]))
        k++;
    const char *name = s + i + 2;
    size_t nlen = k - i - 2, cmp = nlen < XML_REPAIR_MAX_NAME - 1 ? nlen : XML_REPAIR_MAX_NAME - 1;
    size_t j = k;
    while (j < n && s[j] != '>' && s[j] != '<')
        j++;
    if (j < n && s[j] == '>')
        j++;
    uint64_t h = hashset_hash_bytes(name, cmp, true);
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
        xml_repair_close_top(p);
    return j;
}

enum xml_repair_status xml_repair_run(struct xml_repair *p, const char *s, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, xml_repair_init_table);
    struct kt_buf *o = &p->out;
    size_t chunk = p->opts.chunk;
    p->expansion_max = n > XML_REPAIR_EXPANSION_MIN ? n : XML_REPAIR_EXPANSION_MIN;
    kt_buf_reserve(o, (n < chunk ? n : chunk) + 64);
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (!xml_repair_special[c]) {
            i++;
            if (i - run >= chunk) {
                kt_buf_append(o, s + run, i - run);
                run = i;
                if (!xml_repair_flush(p, false))
                    return p->status;
            }
            continue;
        }
        kt_buf_append(o, s + run, i - run);
        size_t rest = n - i;
        if (c == '&') {
            i = xml_repair_ampersand(p, s, n, i);
        } else if (c == '<' && rest >= 4 && memcmp(s + i, "<!--", 4) == 0) {
            const char *e = xml_repair_find(s + i + 4, rest - 4, "-->", 3);
            size_t end = e ? (size_t)(e - s) + 3 : n;
            xml_repair_copy_clean(o, s + i, end - i);
            i = end;
        } else if (c == '<' && rest >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
            const char *e = xml_repair_find(s + i + 9, rest - 9, "]]>", 3);
            size_t end = e ? (size_t)(e - s) + 3 : n;
            xml_repair_copy_clean(o, s + i, end - i);
            i = end;
        } else if (c == '<' && rest >= 3 && s[i + 1] == '?' &&
                   xml_repair_name_start((unsigned char)s[i + 2])) {
            /* only a PI libxml2 also reads as one: after "<?" with no target
             * it would parse what follows as markup */
            const char *e = xml_repair_find(s + i + 2, rest - 2, "?>", 2);
            size_t end = e ? (size_t)(e - s) + 2 : n;
            /* the XML declaration names the original encoding; the text is
             * UTF-8 now, so the declaration goes */
            size_t t = i + 2;
            while (t < end && xml_repair_name_char((unsigned char)s[t]))
                t++;
            if ((t - i - 2 == 3 && strncasecmp(s + i + 2, "xml", 3) == 0) ||
                !xml_repair_name_ok(p, s + i + 2, t - i - 2))
                xml_repair_newlines(o, s + i, end - i);
            else
                xml_repair_copy_clean(o, s + i, end - i);
            i = end;
        } else if (c == '<' && rest >= 9 && strncasecmp(s + i, "<!DOCTYPE", 9) == 0) {
            size_t end = xml_repair_doctype_decl(p, s, n, i);
            xml_repair_newlines(o, s + i, end - i);
            i = end;
        } else if (c == '<') {
            unsigned char d = rest >= 2 ? (unsigned char)s[i + 1] : 0;
            if (xml_repair_name_start(d)) {
                i = xml_repair_start_tag(p, s, n, i);
            } else if (d == '/') {
                i = xml_repair_end_tag(p, s, n, i);
            } else {
                /* also "<!" that is no comment, CDATA or DOCTYPE: as text it
                 * cannot become markup, whatever the rewrite removes after it */
                kt_buf_puts(o, "&lt;"); /* "1 < 2" in text */
                i++;
            }
        } else {
            i = xml_repair_odd_byte(o, s, n, i);
        }
        run = i;
        if (p->status == XML_REPAIR_REFUSED || (o->len >= chunk && !xml_repair_flush(p, false)))
            return p->status;
    }
    kt_buf_append(o, s + run, n - run);
    /* An element still open at the end means the document was cut short
     * (a close-delimited response cut, a file read while it was being
     * rewritten): whatever was read is not the whole feed. Ill-formed but
     * complete documents end with their root closed, since an end tag
     * closes every element inside it. The parser still sees every element
     * end, so it can tidy up. */
    if (p->depth > 0) {
        snprintf(p->problem, sizeof p->problem, "XML: document ends inside <%s> (truncated?)",
                 p->stack[p->depth - 1].renamed ? XML_REPAIR_OTHER : p->stack[p->depth - 1].name);
        for (char *c = p->problem; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7F)
                *c = '?'; /* one line of ASCII even when the name is cut */
        p->status = XML_REPAIR_TRUNCATED;
    }
    while (p->depth > 0)
        xml_repair_close_top(p);
    if (!xml_repair_flush(p, true) && p->status == XML_REPAIR_STOPPED)
        return p->status;
    return p->status;
}

struct xml_repair *xml_repair_new(const struct xml_repair_opts *opts)
{
    struct xml_repair *p = kt_calloc(1, sizeof *p);
    p->opts = *opts;
    if (!p->opts.chunk)
        p->opts.chunk = 256 * 1024;
    kt_buf_init(&p->out);
    hashset_init(&p->names.set, XML_REPAIR_MAX_NAMES);
    for (size_t i = 0; i < opts->n_names; i++)
        xml_repair_name_ok(p, opts->names[i], strlen(opts->names[i]));
    return p;
}

void xml_repair_free(struct xml_repair *p)
{
    if (!p)
        return;
    kt_buf_free(&p->out);
    xml_repair_names_free(&p->ents);
    xml_repair_names_free(&p->names);
    free(p->ent_info);
    free(p->stack);
    free(p);
}

const char *xml_repair_root(const struct xml_repair *p)
{
    return p->root;
}

const char *xml_repair_doctype(const struct xml_repair *p)
{
    return p->doctype;
}

const char *xml_repair_problem(const struct xml_repair *p)
{
    return p->problem[0] ? p->problem : NULL;
}
