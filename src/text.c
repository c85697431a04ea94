/*
 * text: turns feed text (HTML or plain) into the one line of plain text a
 * headline shows, cuts it, and picks a summary's first sentence when an
 * item has no usable title.
 *
 * The work is two linear passes over the input, never a malloc per
 * character:
 *   1. markup (HTML only, text_html.c): tags dropped, character references
 *      decoded, paragraph breaks noted;
 *   2. clean (here): strict UTF-8 (U+FFFD for bad bytes); terminal escape
 *      sequences, control and invisible characters removed; line breaks
 *      and whitespace runs collapsed to one space; Unicode spaces trimmed
 *      at both ends; combining marks bounded per base character; bidi
 *      embeddings and isolates balanced.
 * HTML input is UTF-8-repaired before pass 1 so that a tag between the
 * halves of a broken sequence cannot glue them into a valid character.
 * Character properties come from the Unicode layer (unicode.h).
 */
#include "text.h"
#include "text_internal.h"

#include "filter.h"
#include "unicode.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_ELLIPSIS "\xE2\x80\xA6" /* U+2026 */

/* Combining marks kept after one base character: enough for Vietnamese,
 * Tibetan stacks and emoji tag sequences; a "Zalgo" storm of hundreds is
 * not text anyone means to show. */
#define TEXT_MAX_MARKS 8
/* Open bidi embeddings and isolates kept (UAX #9 allows 125). */
#define TEXT_MAX_BIDI 32

/* ---- pass 2: clean ---- */

/* Characters that render as nothing (or as garbage) in a one-line strip:
 * soft hyphen, zero width space, word joiner, BOM. ZWJ/ZWNJ stay: emoji
 * sequences and Persian/Indic text need them. */
static bool text_is_invisible(uint32_t cp)
{
    return cp == 0xAD || cp == 0x200B || cp == 0x2060 || cp == 0xFEFF;
}

/* Length of the terminal control sequence (ECMA-48) that starts at s[i]
 * with ESC (or the XML layer's stand-in for it), or with the C1 forms of
 * CSI / OSC / DCS / SOS / PM / APC; 0 when s[i] starts none. A CSI is its
 * parameter and intermediate bytes and one final byte; a string sequence
 * (OSC, DCS, …) runs to BEL or ST. One that never ends removes only its
 * introducer, so a stray ESC cannot swallow a headline. */
static size_t text_escape_len(const char *s, size_t n, size_t i, size_t *no_st_after)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t j, intro;
    uint32_t cp;
    size_t len = uni_decode(s + i, n - i, &cp);
    bool csi = false;
    if (cp == 0x1B || cp == UNI_ESC_STANDIN) {
        j = i + len;
        if (j >= n)
            return len;
        unsigned char c = u[j];
        if (c == '[') {
            csi = true;
            j++;
        } else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
            j++; /* a string sequence */
        } else {
            /* nF / Fp / Fe / Fs: intermediates, then one final byte */
            while (j < n && u[j] >= 0x20 && u[j] <= 0x2F)
                j++;
            if (j < n && u[j] >= 0x30 && u[j] <= 0x7E)
                j++;
            return j - i;
        }
    } else if (cp == 0x9B) {
        csi = true;
        j = i + len;
    } else if (cp == 0x9D || cp == 0x90 || cp == 0x98 || cp == 0x9E || cp == 0x9F) {
        j = i + len; /* a string sequence */
    } else {
        return 0;
    }
    intro = j - i;
    if (csi) {
        while (j < n && u[j] >= 0x30 && u[j] <= 0x3F)
            j++;
        while (j < n && u[j] >= 0x20 && u[j] <= 0x2F)
            j++;
        if (j < n && u[j] >= 0x40 && u[j] <= 0x7E)
            return j + 1 - i;
        return intro;
    }
    /* no terminator after an earlier failed search: none after j either
     * (keeps "ESC ] ESC ] …" linear) */
    if (j >= *no_st_after)
        return intro;
    size_t from = j;
    for (; j < n; j++) {
        if (u[j] == 0x07)
            return j + 1 - i;
        if (u[j] == 0x1B && j + 1 < n && u[j + 1] == '\\')
            return j + 2 - i;
        if (u[j] == 0xC2 && j + 1 < n && u[j + 1] == 0x9C)
            return j + 2 - i;
    }
    *no_st_after = from;
    return intro;
}

/* Bidi embeddings and isolates open at the end of a text, innermost
 * last. */
struct text_bidi {
    unsigned char kind[TEXT_MAX_BIDI]; /* UNI_BIDI_EMBED or UNI_BIDI_ISOLATE */
    size_t depth;
};

/* Whether a bidi control may be written (it opens within the bound, or
 * closes something open: UAX #9 ignores an unmatched PDF or PDI, and so do
 * we, by dropping it) and the stack after it. */
static bool text_bidi_step(struct text_bidi *b, enum uni_bidi kind)
{
    switch (kind) {
    case UNI_BIDI_EMBED:
    case UNI_BIDI_ISOLATE:
        if (b->depth == TEXT_MAX_BIDI)
            return false;
        b->kind[b->depth++] = (unsigned char)kind;
        return true;
    case UNI_BIDI_PDF:
        if (b->depth == 0 || b->kind[b->depth - 1] != UNI_BIDI_EMBED)
            return false;
        b->depth--;
        return true;
    case UNI_BIDI_PDI:
        for (size_t d = b->depth; d-- > 0;)
            if (b->kind[d] == UNI_BIDI_ISOLATE) {
                b->depth = d; /* a PDI also ends the embeddings inside */
                return true;
            }
        return false;
    case UNI_BIDI_NONE:
        break;
    }
    return true;
}

/* Appends the PDF / PDI that close what b has open, innermost first. */
static void text_bidi_close(const struct text_bidi *b, struct kt_buf *out)
{
    for (size_t d = b->depth; d-- > 0;)
        kt_buf_append(out, b->kind[d] == UNI_BIDI_EMBED ? "\xE2\x80\xAC" : "\xE2\x81\xA9", 3);
}

/* The bidi state at the end of clean text s[0..n). */
static void text_bidi_scan(const char *s, size_t n, struct text_bidi *b)
{
    b->depth = 0;
    for (size_t i = 0; i < n; i++) {
        /* every bidi control is E2 80 AA-AE or E2 81 A6-A9 */
        if ((unsigned char)s[i] != 0xE2 || i + 2 >= n)
            continue;
        uint32_t cp;
        size_t len = uni_decode(s + i, n - i, &cp);
        text_bidi_step(b, uni_bidi_kind(cp));
        i += len - 1;
    }
}

/* Appends s cleaned to out: see the file comment. U+00A0 and other
 * Unicode spaces stay inside the text (they were put there to keep words
 * together) but are trimmed at both ends. */
static void text_clean(const char *s, size_t n, struct kt_buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, marks = 0, no_st_after = SIZE_MAX;
    bool space = false, any_bidi = false;
    struct text_bidi bidi = {.depth = 0};

    /* Writes go straight into out->data: a call per character would cost
     * more than the whole pass. Room is kept for a space and one
     * character before each step; each step consumes at least one input
     * byte, so reserving room for the rest of the input keeps this
     * amortised linear. */
    size_t base = out->len;
    kt_buf_reserve(out, n + 8);
    char *o = out->data + base;
    char *keep = o; /* end of the last character that is not a space */
    while (i < n) {
        if ((size_t)(out->data + out->cap - 1 - o) < 8) {
            size_t at = (size_t)(o - out->data), k = (size_t)(keep - out->data);
            out->len = at;
            kt_buf_reserve(out, n - i + 8);
            o = out->data + at;
            keep = out->data + k;
        }
        unsigned char c = u[i];
        if (c < 0x80 && c != 0x1B) {
            i++;
            if (c > 0x20 && c < 0x7F) {
                if (space) {
                    space = false;
                    *o++ = ' ';
                }
                *o++ = (char)c;
                keep = o;
                marks = 0;
            } else if (c == ' ' || (c >= '\t' && c <= '\r')) {
                space = o > out->data + base;
            }
            continue;
        }
        size_t esc = text_escape_len(s, n, i, &no_st_after);
        if (esc) {
            i += esc;
            continue;
        }
        uint32_t cp;
        size_t adv = uni_decode(s + i, n - i, &cp);
        const char *emit = s + i;
        i += adv;
        bool blank = false, mark = false;
        if (cp == UNI_INVALID) {
            emit = UNI_REPLACEMENT;
            adv = 3;
        } else if (uni_is_line_break(cp)) {
            space = o > out->data + base;
            continue;
        } else if (cp < 0xA0 || text_is_invisible(cp)) {
            continue;
        } else if ((mark = uni_is_mark(cp))) {
            if (++marks > TEXT_MAX_MARKS)
                continue;
        } else if (uni_is_space(cp)) {
            if (o == out->data + base)
                continue; /* leading */
            blank = true;
        } else {
            enum uni_bidi kind = uni_bidi_kind(cp);
            if (kind != UNI_BIDI_NONE) {
                if (!text_bidi_step(&bidi, kind))
                    continue;
                any_bidi = true;
            }
        }
        if (!mark)
            marks = 0;
        if (space) {
            space = false;
            *o++ = ' ';
        }
        memcpy(o, emit, adv);
        o += adv;
        if (!blank)
            keep = o;
    }
    out->len = (size_t)(keep - out->data);
    out->data[out->len] = '\0';
    if (any_bidi && bidi.depth) {
        /* the trimmed tail may have held closers: scan what is kept */
        text_bidi_scan(out->data + base, out->len - base, &bidi);
        text_bidi_close(&bidi, out);
    }
}

/* s itself when it is valid UTF-8, else a repaired copy kept in *fixed
 * (which the caller frees either way); *len is updated. */
static const char *text_valid_input(const char *s, size_t *len, struct kt_buf *fixed)
{
    kt_buf_init(fixed);
    if (uni_valid(s, *len))
        return s;
    uni_repair_into(fixed, s, *len);
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
    struct text_html_out h;
    text_html_strip(in, len, false, &h);
    kt_buf_free(&fixed);
    text_clean(h.out.data, h.out.len, &out);
    text_html_out_free(&h);
    return kt_buf_steal(&out);
}

/* ---- cutting ---- */

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

/* s[0..n) followed by the closers of the bidi controls it leaves open. */
static void text_append_balanced(struct kt_buf *b, const char *s, size_t n)
{
    struct text_bidi bidi;
    kt_buf_append(b, s, n);
    text_bidi_scan(s, n, &bidi);
    text_bidi_close(&bidi, b);
}

/* Where to cut s (n bytes) to keep at most room code points: between
 * grapheme clusters (UAX #29), so no accent, emoji sequence or Hangul
 * syllable is split, and at a word boundary when that keeps at least two
 * thirds of the room (otherwise one long word would leave a stub). A first
 * cluster longer than the room (a base with many marks and a small
 * max_chars) is cut by code point rather than dropped. */
static size_t text_cut_point(const char *s, size_t n, size_t room)
{
    size_t idx = 0, off = 0, space_off = 0, space_idx = 0;
    bool have_space = false;
    while (off < n) {
        size_t g = uni_grapheme_len(s + off, n - off);
        size_t gc = uni_count(s + off, g);
        if (idx + gc > room)
            break;
        if (s[off] == ' ') {
            have_space = true;
            space_off = off;
            space_idx = idx;
        }
        off += g;
        idx += gc;
    }
    if (off < n && s[off] == ' ') {
        have_space = true;
        space_off = off;
        space_idx = idx;
    }
    if (off == 0) {
        uint32_t cp;
        for (size_t k = 0; k < room && off < n; k++)
            off += uni_decode(s + off, n - off, &cp);
    }
    size_t cut = off;
    if (have_space && space_idx > 0 && space_idx >= room - room / 3)
        cut = space_off;
    return text_trim_tail(s, cut);
}

/* The closers of the bidi controls the kept part leaves open count
 * against max_chars too, so the room shrinks until they fit (a few
 * rounds; the last resort keeps nothing but "…"). */
char *text_cut(const char *s, size_t max_chars)
{
    if (!s)
        return kt_strdup("");
    size_t n = strlen(s);
    if (max_chars == 0 || uni_count(s, n) <= max_chars)
        return kt_strdup(s);

    size_t limit = max_chars - 1, room = limit, cut = 0;
    for (int round = 0; round < 4; round++) {
        cut = text_cut_point(s, n, room);
        struct text_bidi bidi;
        text_bidi_scan(s, cut, &bidi);
        size_t used = uni_count(s, cut) + bidi.depth;
        if (used <= limit)
            break;
        room = room > used - limit ? room - (used - limit) : 0;
        cut = 0;
    }

    struct kt_buf b;
    kt_buf_init(&b);
    text_append_balanced(&b, s, cut);
    kt_buf_append(&b, TEXT_ELLIPSIS, 3);
    return kt_buf_steal(&b);
}

/* ---- first sentence ---- */

static uint32_t text_cp_at(const char *s, size_t n, size_t i)
{
    uint32_t cp;
    if (i >= n || uni_decode(s + i, n - i, &cp) == 0 || cp == UNI_INVALID)
        return 0;
    return cp;
}

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
                if (uni_starts_sentence(text_cp_at(s, n, q)))
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
    if (para->len == 0 || filter_match(exclude, para->data))
        return NULL;
    struct kt_buf b;
    kt_buf_init(&b);
    text_append_balanced(&b, para->data, text_sentence_len(para->data, para->len));
    return kt_buf_steal(&b);
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
        struct text_html_out h;
        text_html_strip(in, n, true, &h);
        size_t from = 0;
        for (size_t b = 0; b <= h.nbreaks && !result; b++) {
            size_t to = b < h.nbreaks ? h.breaks[b] : h.out.len;
            para.len = 0;
            text_clean(h.out.data + from, to - from, &para);
            result = text_pick(&para, exclude);
            from = to;
        }
        text_html_out_free(&h);
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
