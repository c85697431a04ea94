/*
 * text: turns feed text (HTML or plain) into the one line of plain text a
 * headline shows, and picks a summary's first sentence when an item has no
 * usable title.
 *
 * The work is two linear passes over the input, never a malloc per
 * character:
 *   1. markup (HTML only): a small HTML5-like tokenizer drops tags,
 *      comments, doctypes and processing instructions, keeps CDATA text,
 *      drops the content of non-visible elements, decodes character
 *      references and writes "raw" text plus the offsets where paragraphs
 *      break;
 *   2. clean: strict UTF-8 (U+FFFD for bad bytes), control and zero-width
 *      characters removed, whitespace runs collapsed to one space, trimmed.
 * HTML input is UTF-8-repaired before pass 1 so that a tag between the
 * halves of a broken sequence cannot glue them into a valid character.
 */
#include "text.h"

#include "entities.h"
#include "filter.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */
#define TEXT_ELLIPSIS "\xE2\x80\xA6"    /* U+2026 */

/* ---- UTF-8 ---- */

/* Decodes one sequence at s (n > 0 bytes left). Returns true and the code
 * point for a valid sequence; false for an invalid one. *adv is the length
 * of the sequence, or of the maximal invalid subpart (at least 1), which is
 * what one U+FFFD replaces (Unicode 15, section 3.9, "U+FFFD substitution
 * of maximal subparts"). */
static bool text_utf8_next(const unsigned char *s, size_t n, size_t *adv, uint32_t *cp)
{
    unsigned char b = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    uint32_t c;

    if (b < 0x80) {
        *adv = 1;
        *cp = b;
        return true;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        c = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0; /* overlong */
        else if (b == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        c = b & 0x07;
        if (b == 0xF0)
            lo = 0x90; /* overlong */
        else if (b == 0xF4)
            hi = 0x8F; /* > U+10FFFF */
    } else {
        *adv = 1;
        return false;
    }
    for (size_t i = 1; i <= need; i++) {
        unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
        if (i >= n || s[i] < lo_i || s[i] > hi_i) {
            *adv = i;
            return false;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *adv = need + 1;
    *cp = c;
    return true;
}

static size_t text_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* kt_buf_append() without the call when there is room: pass 1 and the
 * repair append a few bytes at a time. */
static inline void text_put(struct kt_buf *b, const char *s, size_t n)
{
    if (b->data && b->len + n < b->cap) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
    } else {
        kt_buf_append(b, s, n);
    }
}

bool text_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, adv;
    uint32_t cp;
    if (!s)
        return len == 0;
    while (i < len) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        if (!text_utf8_next(u + i, len - i, &adv, &cp))
            return false;
        i += adv;
    }
    return true;
}

/* Appends s with each invalid sequence replaced by U+FFFD to b. */
static void text_repair_into(const char *s, size_t len, struct kt_buf *b)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0, adv;
    uint32_t cp;

    kt_buf_reserve(b, len);
    while (i < len) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        if (text_utf8_next(u + i, len - i, &adv, &cp)) {
            i += adv;
            continue;
        }
        text_put(b, s + run, i - run);
        text_put(b, TEXT_REPLACEMENT, 3);
        i += adv;
        run = i;
    }
    text_put(b, s + run, len - run);
}

char *text_utf8_repair(const char *s, size_t len)
{
    struct kt_buf b;
    kt_buf_init(&b);
    if (s)
        text_repair_into(s, len, &b);
    return kt_buf_steal(&b);
}

size_t text_utf8_len(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (const unsigned char *u = (const unsigned char *)s; *u; u++)
        n += (*u & 0xC0) != 0x80;
    return n;
}

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
    static const uint16_t cp1252[32] = {
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    };
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0xFFFD;
    if (v >= 0x80 && v <= 0x9F)
        return cp1252[v - 0x80];
    return v;
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
        text_sink_text(k, enc, text_utf8_encode(text_numeric_ref(v), enc));
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

static void text_sink_init(struct text_sink *k, size_t n, bool want_breaks)
{
    memset(k, 0, sizeof *k);
    kt_buf_init(&k->out);
    kt_buf_reserve(&k->out, n);
    k->want_breaks = want_breaks;
    for (size_t t = 0; t < TEXT_NTAGS; t++)
        k->no_end_after[t] = SIZE_MAX;
}

static void text_sink_free(struct text_sink *k)
{
    kt_buf_free(&k->out);
    free(k->breaks);
}

/* ---- pass 2: clean ---- */

/* Characters that render as nothing (or as garbage) in a one-line strip:
 * soft hyphen, zero width space, word joiner, BOM. ZWJ/ZWNJ stay: emoji
 * sequences and Persian/Indic text need them. */
static bool text_is_invisible(uint32_t cp)
{
    return cp == 0xAD || cp == 0x200B || cp == 0x2060 || cp == 0xFEFF;
}

/* Appends s cleaned to out: see the file comment. U+0085 (NEL) is a line
 * break, so it counts as whitespace rather than a removed C1 control, and
 * U+00A0 stays as it is (it was put there to keep words together). */
static void text_clean(const char *s, size_t n, struct kt_buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, adv;
    bool space = false;
    uint32_t cp;

    /* Writes go straight into out->data: a call per character would cost
     * more than the whole pass. Room is kept for a space and one
     * character before each step; each step consumes at least one input
     * byte, so reserving room for the rest of the input keeps this
     * amortised linear. */
    size_t base = out->len;
    kt_buf_reserve(out, n + 8);
    char *o = out->data + base;
    while (i < n) {
        if ((size_t)(out->data + out->cap - 1 - o) < 8) {
            out->len = (size_t)(o - out->data);
            kt_buf_reserve(out, n - i + 8);
            o = out->data + out->len;
        }
        unsigned char c = u[i];
        if (c < 0x80) {
            i++;
            if (c > 0x20 && c < 0x7F) {
                if (space) {
                    space = false;
                    *o++ = ' ';
                }
                *o++ = (char)c;
            } else if (c == ' ' || (c >= '\t' && c <= '\r')) {
                space = o > out->data + base;
            }
            continue;
        }
        const char *emit = s + i;
        if (!text_utf8_next(u + i, n - i, &adv, &cp)) {
            emit = TEXT_REPLACEMENT;
            i += adv;
            adv = 3;
        } else {
            i += adv;
            if (cp == 0x85 || cp == 0x2028 || cp == 0x2029) {
                space = o > out->data + base;
                continue;
            }
            if (cp < 0xA0 || text_is_invisible(cp))
                continue;
        }
        if (space) {
            space = false;
            *o++ = ' ';
        }
        memcpy(o, emit, adv);
        o += adv;
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
}

/* s itself when it is valid UTF-8, else a repaired copy kept in *fixed
 * (which the caller frees either way); *len is updated. */
static const char *text_valid_input(const char *s, size_t *len, struct kt_buf *fixed)
{
    kt_buf_init(fixed);
    if (text_utf8_valid(s, *len))
        return s;
    text_repair_into(s, *len, fixed);
    *len = fixed->len;
    return fixed->data;
}

char *text_plain(const char *s, size_t len, bool is_html)
{
    struct kt_buf out;
    kt_buf_init(&out);
    if (!s)
        return kt_buf_steal(&out);
    if (!is_html) {
        text_clean(s, len, &out);
        return kt_buf_steal(&out);
    }
    struct kt_buf fixed;
    const char *in = text_valid_input(s, &len, &fixed);
    struct text_sink k;
    text_sink_init(&k, len, false);
    text_html_pass(&k, in, len);
    kt_buf_free(&fixed);
    text_clean(k.out.data, k.out.len, &out);
    text_sink_free(&k);
    return kt_buf_steal(&out);
}

/* ---- cutting ---- */

/* Marks, joiners, variation selectors, skin tones, tag characters: a cut
 * right before one of these would split a visible character. */
static bool text_is_extend(uint32_t cp)
{
    return (cp >= 0x300 && cp <= 0x36F) || cp == 0x200D || (cp >= 0xFE00 && cp <= 0xFE0F) ||
           (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0020 && cp <= 0xE007F);
}

static uint32_t text_cp_at(const char *s, size_t n, size_t i)
{
    size_t adv;
    uint32_t cp = 0;
    if (i >= n || !text_utf8_next((const unsigned char *)s + i, n - i, &adv, &cp))
        return 0;
    return cp;
}

static size_t text_prev(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[--i] & 0xC0) == 0x80)
        ;
    return i;
}

/* Length of s[0..cut) without trailing spaces and punctuation that would
 * look odd before "…". */
static size_t text_trim_tail(const char *s, size_t cut)
{
    while (cut > 0) {
        char c = s[cut - 1];
        if (c != '\0' && strchr(" ,;:.-(/[{", c)) {
            cut--;
        } else if (cut >= 3 && memcmp(s + cut - 3, "\xE2\x80", 2) == 0 &&
                   ((unsigned char)s[cut - 1] == 0x93 || (unsigned char)s[cut - 1] == 0x94)) {
            cut -= 3; /* en and em dash */
        } else {
            break;
        }
    }
    return cut;
}

/* The word-boundary cut is taken only when it keeps at least two thirds of
 * the room; otherwise one long word would leave a stub. */
char *text_cut(const char *s, size_t max_chars)
{
    if (!s)
        return kt_strdup("");
    size_t n = strlen(s);
    if (max_chars == 0 || text_utf8_len(s) <= max_chars)
        return kt_strdup(s);

    size_t limit = max_chars - 1, idx = 0, off = 0, space_off = 0, space_idx = 0;
    bool have_space = false;
    while (idx < limit && off < n) {
        if (s[off] == ' ') {
            have_space = true;
            space_off = off;
            space_idx = idx;
        }
        off++;
        while (off < n && ((unsigned char)s[off] & 0xC0) == 0x80)
            off++;
        idx++;
    }
    if (off < n && s[off] == ' ') {
        have_space = true;
        space_off = off;
        space_idx = idx;
    }

    size_t cut = off;
    if (have_space && space_idx > 0 && space_idx >= limit - limit / 3) {
        cut = space_off;
    } else {
        while (cut > 0 && (text_is_extend(text_cp_at(s, n, cut)) ||
                           text_cp_at(s, n, text_prev(s, cut)) == 0x200D))
            cut = text_prev(s, cut);
    }
    cut = text_trim_tail(s, cut);

    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_append(&b, s, cut);
    kt_buf_append(&b, TEXT_ELLIPSIS, 3);
    return kt_buf_steal(&b);
}

/* ---- first sentence ---- */

/* Words that end in '.' without ending a sentence when a capitalised word
 * follows ("Mr. Smith", "St. Louis", "e.g. Apple"). Compared case-sensitively
 * so "They said no. Then" still ends. Company suffixes (Inc., Ltd.) and
 * "etc." are left out on purpose: they end sentences about as often as not.
 * Single capital letters count too, as initials ("John F. Kennedy"). */
static const char *const text_abbrevs[] = {
    "Adm", "Apr", "Capt", "Col",  "Dec",  "Dr",  "Feb", "Fig", "Ft",     "Gen",  "Gov",
    "Hon", "Jan", "Jr",   "Jul",  "Jun",  "Lt",  "Mar", "Mme", "Mr",     "Mrs",  "Ms",
    "Mt",  "Nov", "Oct",  "Pres", "Prof", "Rep", "Rev", "Sen", "Sep",    "Sept", "Sgt",
    "Sr",  "St",  "Vol",  "Aug",  "cf",   "e.g", "i.e", "vs",  "approx",
};

static bool text_is_abbrev(const char *s, size_t dot)
{
    size_t w = dot;
    while (w > 0 && s[w - 1] != ' ' && s[w - 1] != '(' && s[w - 1] != '"')
        w--;
    size_t len = dot - w;
    if (len == 1 && s[w] >= 'A' && s[w] <= 'Z')
        return true;
    for (size_t i = 0; i < sizeof text_abbrevs / sizeof text_abbrevs[0]; i++)
        if (strlen(text_abbrevs[i]) == len && memcmp(text_abbrevs[i], s + w, len) == 0)
            return true;
    return false;
}

/* Whether cp can start a sentence. A rough case table without a Unicode
 * database: Latin-1, Latin Extended-A, Greek, Cyrillic, Armenian and
 * Latin Extended Additional capitals count; letters of scripts without case
 * (Hebrew, Arabic, Indic, Thai, CJK, Hangul, ...) count, so that
 * "... عربي. نص" still splits; lower case, digits, symbols and emoji don't. */
static bool text_starts_sentence(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z';
    if (cp >= 0xC0 && cp <= 0xDE)
        return cp != 0xD7;
    if (cp >= 0x100 && cp <= 0x17F) {
        if (cp == 0x178)
            return true;
        if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
            return cp & 1;
        return !(cp & 1) && cp != 0x138;
    }
    if (cp >= 0x386 && cp <= 0x3AB)
        return cp != 0x387;
    if (cp >= 0x400 && cp <= 0x42F)
        return true;
    if (cp >= 0x460 && cp <= 0x4FF)
        return !(cp & 1);
    if (cp >= 0x531 && cp <= 0x556)
        return true;
    if (cp >= 0x590 && cp < 0x1E00)
        return !(cp >= 0x10A0 && cp <= 0x10FF) && !(cp >= 0x13A0 && cp <= 0x13FF) &&
               !(cp >= 0x1C80 && cp <= 0x1CBF); /* Georgian, Cherokee: cased */
    if (cp >= 0x1E00 && cp <= 0x1EFF)
        return !(cp & 1);
    if (cp >= 0x3040 && cp <= 0xD7FF)
        return true;
    if (cp >= 0xFF21 && cp <= 0xFF3A)
        return true;
    if (cp >= 0xFF66 && cp <= 0xFFDC)
        return true;
    return cp >= 0x20000 && cp <= 0x3FFFF;
}

static bool text_is_closer(const char *s, size_t n, size_t i, size_t *len)
{
    static const char *const closers[] = {"\"",
                                          "'",
                                          ")",
                                          "]",
                                          "\xE2\x80\x99",
                                          "\xE2\x80\x9D",
                                          "\xC2\xBB",
                                          "\xE3\x80\x8D",
                                          "\xE3\x80\x8F",
                                          "\xEF\xBC\x89"};
    for (size_t c = 0; c < sizeof closers / sizeof closers[0]; c++) {
        size_t l = strlen(closers[c]);
        if (n - i >= l && memcmp(s + i, closers[c], l) == 0) {
            *len = l;
            return true;
        }
    }
    return false;
}

static bool text_is_opener(const char *s, size_t n, size_t i, size_t *len)
{
    static const char *const openers[] = {
        "\"", "'", "(", "[", "\xE2\x80\x98", "\xE2\x80\x9C", "\xC2\xAB", "\xC2\xBF", "\xC2\xA1"};
    for (size_t c = 0; c < sizeof openers / sizeof openers[0]; c++) {
        size_t l = strlen(openers[c]);
        if (n - i >= l && memcmp(s + i, openers[c], l) == 0) {
            *len = l;
            return true;
        }
    }
    return false;
}

/* Length of the first sentence of the clean paragraph s. Ends: '.', '!' or
 * '?' (runs like "?!" or "..." included), then closing quotes or brackets,
 * then a space and a sentence start (see above, opening quotes skipped);
 * or the CJK full stops 。！？, which need no space after them. */
static size_t text_sentence_len(const char *s, size_t n)
{
    size_t i = 0, l;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t j;
        if (c == '.' || c == '!' || c == '?') {
            j = i + 1;
            while (j < n && (s[j] == '.' || s[j] == '!' || s[j] == '?'))
                j++;
            bool single_dot = c == '.' && j == i + 1;
            while (j < n && text_is_closer(s, n, j, &l))
                j += l;
            if (j >= n)
                return n;
            if (s[j] == ' ' && !(single_dot && text_is_abbrev(s, i))) {
                size_t q = j + 1;
                while (q < n && text_is_opener(s, n, q, &l))
                    q += l;
                if (text_starts_sentence(text_cp_at(s, n, q)))
                    return j;
            }
            i = j;
            continue;
        }
        if (c == 0xE3 && n - i >= 3 && s[i + 1] == '\x80' && s[i + 2] == '\x82') {
            j = i + 3; /* 。 */
        } else if (c == 0xEF && n - i >= 3 && s[i + 1] == '\xBC' &&
                   (s[i + 2] == '\x81' || s[i + 2] == '\x9F')) {
            j = i + 3; /* ！ ？ */
        } else {
            i++;
            continue;
        }
        while (j < n && text_is_closer(s, n, j, &l))
            j += l;
        return j;
    }
    return n;
}

/* Returns the first sentence of para (clean text) unless it is empty or
 * excluded. */
static char *text_pick(const struct kt_buf *para, const struct filter *exclude)
{
    /* "<p>&nbsp;</p>" is a common spacer: as empty as it looks */
    size_t i = 0;
    while (i < para->len && (para->data[i] == ' ' ||
                             (i + 1 < para->len && memcmp(para->data + i, "\xC2\xA0", 2) == 0)))
        i += para->data[i] == ' ' ? 1 : 2;
    if (i == para->len || filter_match(exclude, para->data))
        return NULL;
    return kt_strndup(para->data, text_sentence_len(para->data, para->len));
}

/* Paragraphs: in HTML, block elements, <br><br> and blank lines; in plain
 * text, every line. */
char *text_first_sentence(const char *s, size_t len, bool is_html, const struct filter *exclude)
{
    if (!s)
        return NULL;
    struct kt_buf fixed;
    const char *in = text_valid_input(s, &len, &fixed);
    size_t n = len;
    char *result = NULL;
    struct kt_buf para;
    kt_buf_init(&para);

    if (is_html) {
        struct text_sink k;
        text_sink_init(&k, n, true);
        text_html_pass(&k, in, n);
        size_t from = 0;
        for (size_t b = 0; b <= k.nbreaks && !result; b++) {
            size_t to = b < k.nbreaks ? k.breaks[b] : k.out.len;
            para.len = 0;
            text_clean(k.out.data + from, to - from, &para);
            result = text_pick(&para, exclude);
            from = to;
        }
        text_sink_free(&k);
    } else {
        size_t from = 0;
        while (from <= n && !result) {
            size_t to = from;
            while (to < n && in[to] != '\n' && in[to] != '\r')
                to++;
            para.len = 0;
            text_clean(in + from, to - from, &para);
            result = text_pick(&para, exclude);
            from = to + 1;
        }
    }
    kt_buf_free(&para);
    kt_buf_free(&fixed);
    return result;
}
