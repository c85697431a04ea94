/*
 * text_html: pass 1 of the text normaliser, for HTML values: a small
 * HTML5-like tokenizer that drops tags, comments, doctypes and processing
 * instructions, keeps CDATA text, drops the content of non-visible
 * elements, decodes character references (all HTML5 named ones, numeric,
 * with the lenient rules browsers use) and writes "raw" text plus the
 * offsets where paragraphs break.
 *
 * Why not libxml2's HTML parser: it builds a tree (allocations per node)
 * and its recovery drops text around broken markup; headlines need only
 * the text, in one linear pass with no allocation per tag.
 */
#include "text_internal.h"

#include "entities.h"
#include "unicode.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- entities ---- */

/* ---- entities ---- */

static bool text_is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool text_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool text_is_alnum(unsigned char c)
{
    return text_is_alpha(c) || text_is_digit(c);
}

/* strcmp() of name[0..len) (plus ';' when semi) against key. */
static int text_entity_cmp(const char *name, size_t len, bool semi, const char *key)
{
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned char a = (unsigned char)name[i], k = (unsigned char)key[i];
        if (a != k)
            return a < k ? -1 : 1;
    }
    if (semi) {
        if (key[i] != ';')
            return (unsigned char)';' < (unsigned char)key[i] ? -1 : 1;
        i++;
    }
    return key[i] ? -1 : 0;
}

static const char *text_entity_find(const char *name, size_t len, bool semi)
{
    size_t lo = 0, hi = entities_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = text_entity_cmp(name, len, semi, entities_table[mid].name);
        if (c == 0)
            return entities_table[mid].utf8;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *text_entity_lookup(const char *name, size_t len)
{
    if (!name || len == 0 || len >= ENTITIES_NAME_MAX)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (!text_is_alnum((unsigned char)name[i]))
            return NULL;
    const char *v = text_entity_find(name, len, true);
    return v ? v : text_entity_find(name, len, false);
}

/* What HTML5 does with a numeric reference's value: code points that cannot
 * be characters become U+FFFD, and 0x80-0x9F are read as windows-1252
 * because that is what the authors of such pages meant. The five unused
 * windows-1252 positions stay C1 controls (and are removed later). */
static uint32_t text_numeric_ref(uint32_t v)
{
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0xFFFD;
    return v < 0x100 ? uni_cp1252((unsigned char)v) : v;
}

/* ---- pass 1: markup ---- */

enum text_tag_kind {

    TEXT_TAG_INLINE,  /* <b>, <a>, unknown: vanishes */
    TEXT_TAG_SPACE,   /* separates words but not paragraphs: <td>, <img> */
    TEXT_TAG_BR,      /* a space; two in a row break a paragraph */
    TEXT_TAG_BLOCK,   /* a paragraph break */
    TEXT_TAG_HIDDEN,  /* content dropped up to the end tag, if there is one */
    TEXT_TAG_RAWTEXT, /* content is code, dropped up to the end tag or the end */
};

struct text_tag {
    const char *name;
    enum text_tag_kind kind;
};

/* Sorted by name for bsearch(). HIDDEN follows feedparser's sanitiser and
 * browsers (elements that show nothing of their content); when such a tag is
 * never closed only the tag itself goes, as feedparser does, so a stray
 * "<object>" cannot swallow a headline. script and style hold code, which is
 * never worth showing, so an unclosed one drops the rest like a browser. */
static const struct text_tag text_tags[] = {
    {"address", TEXT_TAG_BLOCK},    {"applet", TEXT_TAG_HIDDEN},   {"article", TEXT_TAG_BLOCK},
    {"aside", TEXT_TAG_BLOCK},      {"audio", TEXT_TAG_HIDDEN},    {"blockquote", TEXT_TAG_BLOCK},
    {"body", TEXT_TAG_BLOCK},       {"br", TEXT_TAG_BR},           {"canvas", TEXT_TAG_HIDDEN},
    {"caption", TEXT_TAG_BLOCK},    {"center", TEXT_TAG_BLOCK},    {"dd", TEXT_TAG_BLOCK},
    {"details", TEXT_TAG_BLOCK},    {"dialog", TEXT_TAG_BLOCK},    {"div", TEXT_TAG_BLOCK},
    {"dl", TEXT_TAG_BLOCK},         {"dt", TEXT_TAG_BLOCK},        {"fieldset", TEXT_TAG_BLOCK},
    {"figcaption", TEXT_TAG_BLOCK}, {"figure", TEXT_TAG_BLOCK},    {"footer", TEXT_TAG_BLOCK},
    {"form", TEXT_TAG_BLOCK},       {"h1", TEXT_TAG_BLOCK},        {"h2", TEXT_TAG_BLOCK},
    {"h3", TEXT_TAG_BLOCK},         {"h4", TEXT_TAG_BLOCK},        {"h5", TEXT_TAG_BLOCK},
    {"h6", TEXT_TAG_BLOCK},         {"header", TEXT_TAG_BLOCK},    {"hgroup", TEXT_TAG_BLOCK},
    {"hr", TEXT_TAG_BLOCK},         {"html", TEXT_TAG_BLOCK},      {"iframe", TEXT_TAG_HIDDEN},
    {"img", TEXT_TAG_SPACE},        {"legend", TEXT_TAG_BLOCK},    {"li", TEXT_TAG_BLOCK},
    {"main", TEXT_TAG_BLOCK},       {"nav", TEXT_TAG_BLOCK},       {"noembed", TEXT_TAG_HIDDEN},
    {"noframes", TEXT_TAG_HIDDEN},  {"noscript", TEXT_TAG_HIDDEN}, {"object", TEXT_TAG_HIDDEN},
    {"ol", TEXT_TAG_BLOCK},         {"option", TEXT_TAG_SPACE},    {"p", TEXT_TAG_BLOCK},
    {"pre", TEXT_TAG_BLOCK},        {"script", TEXT_TAG_RAWTEXT},  {"section", TEXT_TAG_BLOCK},
    {"select", TEXT_TAG_HIDDEN},    {"style", TEXT_TAG_RAWTEXT},   {"summary", TEXT_TAG_BLOCK},
    {"table", TEXT_TAG_BLOCK},      {"tbody", TEXT_TAG_BLOCK},     {"td", TEXT_TAG_SPACE},
    {"template", TEXT_TAG_HIDDEN},  {"tfoot", TEXT_TAG_BLOCK},     {"th", TEXT_TAG_SPACE},
    {"thead", TEXT_TAG_BLOCK},      {"title", TEXT_TAG_HIDDEN},    {"tr", TEXT_TAG_BLOCK},
    {"ul", TEXT_TAG_BLOCK},         {"video", TEXT_TAG_HIDDEN},
};
#define TEXT_NTAGS (sizeof text_tags / sizeof text_tags[0])
#define TEXT_TAG_NAME_MAX 16

static int text_tag_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct text_tag *)elem)->name);
}

/* Pass 1 state. breaks[] (only collected when want_breaks) holds offsets in
 * out where a paragraph ends. */
struct text_sink {
    struct kt_buf out;
    bool want_breaks;
    size_t *breaks;
    size_t nbreaks, capbreaks;
    bool br_pending; /* a <br> with only whitespace after it */
    bool nl_pending; /* a newline with only blanks after it */
    /* per HIDDEN tag: no end tag exists after this offset, so later start
     * tags need not search again (keeps "<object>" * n linear) */
    size_t no_end_after[TEXT_NTAGS];
};

static void text_sink_break(struct text_sink *k)
{
    if (k->want_breaks && (k->nbreaks == 0 || k->breaks[k->nbreaks - 1] != k->out.len)) {
        if (k->nbreaks == k->capbreaks) {
            k->capbreaks = k->capbreaks ? k->capbreaks * 2 : 16;
            k->breaks = kt_realloc(k->breaks, k->capbreaks * sizeof *k->breaks);
        }
        k->breaks[k->nbreaks++] = k->out.len;
    }
    k->br_pending = k->nl_pending = false;
    text_put(&k->out, " ", 1);
}

static void text_sink_text(struct text_sink *k, const char *s, size_t n)
{
    if (!k->want_breaks) {
        text_put(&k->out, s, n);
        return;
    }
    /* A blank line in HTML source is a paragraph break too: many feeds put
     * plain text with blank lines in an HTML field. */
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n') {
            if (k->nl_pending) {
                text_put(&k->out, s + run, i - run);
                run = i;
                text_sink_break(k);
            } else {
                k->nl_pending = true;
            }
        } else if (c != ' ' && c != '\t' && c != '\r' && c != '\f') {
            k->nl_pending = k->br_pending = false;
        }
    }
    text_put(&k->out, s + run, n - run);
}

static bool text_is_html_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static unsigned char text_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Offset of the first `what` (wlen bytes) at or after i, or n. */
static size_t text_find(const char *s, size_t n, size_t i, const char *what, size_t wlen)
{
    while (i + wlen <= n) {
        const char *p = memchr(s + i, what[0], n - i - wlen + 1);
        if (!p)
            break;
        i = (size_t)(p - s);
        if (memcmp(p, what, wlen) == 0)
            return i;
        i++;
    }
    return n;
}

/* Offset of the end tag "</name" (any case, followed by a space, '/' or
 * '>') at or after i, or n when there is none. */
static size_t text_find_end_tag(const char *s, size_t n, size_t i, const char *name)
{
    size_t nl = strlen(name);
    for (;;) {
        i = text_find(s, n, i, "</", 2);
        if (i + 2 + nl >= n)
            return n;
        size_t j;
        for (j = 0; j < nl; j++)
            if (text_lower((unsigned char)s[i + 2 + j]) != (unsigned char)name[j])
                break;
        if (j == nl) {
            unsigned char c = (unsigned char)s[i + 2 + nl];
            if (text_is_html_space(c) || c == '/' || c == '>')
                return i;
        }
        i += 2;
    }
}

/* Skips a tag's attributes starting at i (just after the tag name). Sets
 * *end after the closing '>'; false when the input ends inside the tag
 * (HTML5 then drops the tag and whatever follows). */
static bool text_skip_attrs(const char *s, size_t n, size_t i, size_t *end, bool *self_closing)
{
    *self_closing = false;
    for (;;) {
        while (i < n && (text_is_html_space((unsigned char)s[i]) || s[i] == '/')) {
            *self_closing = s[i] == '/';
            i++;
        }
        if (i >= n)
            return false;
        if (s[i] == '>') {
            *end = i + 1;
            return true;
        }
        *self_closing = false;
        /* attribute name: the first character may be anything, even '=' */
        i++;
        while (i < n && !text_is_html_space((unsigned char)s[i]) && s[i] != '/' && s[i] != '>' &&
               s[i] != '=')
            i++;
        while (i < n && text_is_html_space((unsigned char)s[i]))
            i++;
        if (i >= n || s[i] != '=')
            continue;
        i++;
        while (i < n && text_is_html_space((unsigned char)s[i]))
            i++;
        if (i < n && (s[i] == '"' || s[i] == '\'')) {
            const char *q = memchr(s + i + 1, s[i], n - i - 1);
            if (!q)
                return false;
            i = (size_t)(q - s) + 1;
        } else {
            while (i < n && !text_is_html_space((unsigned char)s[i]) && s[i] != '>')
                i++;
        }
    }
}

/* A start or end tag at s[i] == '<' whose name starts at i + 1 (+ 1 for an
 * end tag). Returns the offset after it. */
static size_t text_tag(struct text_sink *k, const char *s, size_t n, size_t i, bool end)
{
    char name[TEXT_TAG_NAME_MAX + 1];
    size_t j = i + (end ? 2 : 1), nl = 0;
    bool self_closing, long_name = false;

    while (j < n && !text_is_html_space((unsigned char)s[j]) && s[j] != '/' && s[j] != '>') {
        if (nl < TEXT_TAG_NAME_MAX)
            name[nl++] = (char)text_lower((unsigned char)s[j]);
        else
            long_name = true;
        j++;
    }
    name[nl] = '\0';
    if (!text_skip_attrs(s, n, j, &j, &self_closing))
        return n;

    const struct text_tag *t =
        long_name ? NULL : bsearch(name, text_tags, TEXT_NTAGS, sizeof *t, text_tag_cmp);
    if (!t)
        return j;
    switch (t->kind) {
    case TEXT_TAG_INLINE:
        break;
    case TEXT_TAG_SPACE:
        text_put(&k->out, " ", 1);
        break;
    case TEXT_TAG_BR:
        if (k->br_pending) {
            text_sink_break(k);
        } else {
            text_put(&k->out, " ", 1);
            k->br_pending = true;
        }
        break;
    case TEXT_TAG_BLOCK:
        text_sink_break(k);
        break;
    case TEXT_TAG_HIDDEN:
    case TEXT_TAG_RAWTEXT: {
        /* "<script/>" is empty in XHTML content, so nothing to skip */
        if (end || self_closing)
            break;
        size_t idx = (size_t)(t - text_tags);
        if (t->kind == TEXT_TAG_HIDDEN && j >= k->no_end_after[idx])
            break;
        size_t e = text_find_end_tag(s, n, j, t->name);
        if (e < n)
            return e; /* the end tag itself is parsed next */
        if (t->kind == TEXT_TAG_RAWTEXT)
            return n;
        k->no_end_after[idx] = j;
        break;
    }
    }
    return j;
}

/* Markup at s[i] == '<'. Returns the offset after it. */
static size_t text_markup(struct text_sink *k, const char *s, size_t n, size_t i)
{
    size_t e;
    unsigned char c = i + 1 < n ? (unsigned char)s[i + 1] : 0;

    if (text_is_alpha(c))
        return text_tag(k, s, n, i, false);
    if (c == '/') {
        if (i + 2 < n && text_is_alpha((unsigned char)s[i + 2]))
            return text_tag(k, s, n, i, true);
        if (i + 2 >= n) {
            text_sink_text(k, "</", 2);
            return n;
        }
        /* "</>" vanishes; "</ x>" is a bogus comment */
        e = text_find(s, n, i + 2, ">", 1);
        return e < n ? e + 1 : n;
    }
    if (c == '!') {
        if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
            /* HTML5 closes "<!-->" and "<!--->" at once */
            if (i + 4 < n && s[i + 4] == '>')
                return i + 5;
            if (n - i >= 6 && memcmp(s + i + 4, "->", 2) == 0)
                return i + 6;
            e = text_find(s, n, i + 4, "-->", 3);
            return e < n ? e + 3 : n;
        }
        if (n - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
            e = text_find(s, n, i + 9, "]]>", 3);
            text_sink_text(k, s + i + 9, e - (i + 9));
            return e < n ? e + 3 : n;
        }
        /* <!DOCTYPE ...> and other declarations */
        e = text_find(s, n, i + 2, ">", 1);
        return e < n ? e + 1 : n;
    }
    if (c == '?') {
        e = text_find(s, n, i + 2, ">", 1);
        return e < n ? e + 1 : n;
    }
    /* "a < b": not markup */
    text_sink_text(k, "<", 1);
    return i + 1;
}

/* A character reference at s[i] == '&', decoded the way an HTML5 browser
 * does in text: longest name match, legacy names also without ';' (even
 * when letters follow, "&copy2024" is "©2024"), numeric ones with or
 * without ';'. Anything else stays literal ("AT&T"). Returns the offset
 * after it. */
static size_t text_charref(struct text_sink *k, const char *s, size_t n, size_t i)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t j = i + 1;

    if (j < n && s[j] == '#') {
        size_t d = j + 1, start;
        bool hex = d < n && (s[d] == 'x' || s[d] == 'X');
        uint32_t v = 0;
        char enc[4];
        if (hex)
            d++;
        start = d;
        for (; d < n; d++) {
            unsigned dig;
            if (text_is_digit(u[d]))
                dig = u[d] - '0';
            else if (hex && text_lower(u[d]) >= 'a' && text_lower(u[d]) <= 'f')
                dig = text_lower(u[d]) - 'a' + 10;
            else
                break;
            /* saturate: any value past U+10FFFF is U+FFFD anyway */
            v = v > 0x10FFFF ? v : v * (hex ? 16 : 10) + dig;
        }
        if (d == start) {
            text_sink_text(k, "&", 1);
            return i + 1;
        }
        if (d < n && s[d] == ';')
            d++;
        text_sink_text(k, enc, uni_encode(text_numeric_ref(v), enc));
        return d;
    }

    size_t e = j;
    while (e < n && e - j < ENTITIES_NAME_MAX && text_is_alnum(u[e]))
        e++;
    size_t len = e - j;
    const char *v;
    if (len > 0 && e < n && s[e] == ';' && (v = text_entity_find(s + j, len, true))) {
        text_sink_text(k, v, strlen(v));
        return e + 1;
    }
    for (size_t l = len < ENTITIES_LEGACY_MAX ? len : ENTITIES_LEGACY_MAX; l >= 2; l--) {
        if ((v = text_entity_find(s + j, l, false))) {
            text_sink_text(k, v, strlen(v));
            return j + l;
        }
    }
    text_sink_text(k, "&", 1);
    return i + 1;
}

/* Pass 1 over valid UTF-8 s into k->out. */
static void text_html_pass(struct text_sink *k, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '<' && s[j] != '&')
            j++;
        if (j > i)
            text_sink_text(k, s + i, j - i);
        if (j >= n)
            break;
        i = s[j] == '&' ? text_charref(k, s, n, j) : text_markup(k, s, n, j);
    }
}

void text_html_strip(const char *s, size_t n, bool want_breaks, struct text_html_out *res)
{
    struct text_sink k;
    memset(&k, 0, sizeof k);
    kt_buf_init(&k.out);
    kt_buf_reserve(&k.out, n);
    k.want_breaks = want_breaks;
    for (size_t t = 0; t < TEXT_NTAGS; t++)
        k.no_end_after[t] = SIZE_MAX;
    text_html_pass(&k, s, n);
    res->out = k.out;
    res->breaks = k.breaks;
    res->nbreaks = k.nbreaks;
}

void text_html_out_free(struct text_html_out *o)
{
    kt_buf_free(&o->out);
    free(o->breaks);
    o->breaks = NULL;
    o->nbreaks = 0;
}
