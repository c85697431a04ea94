/*
 * feed_charset: finds a feed document's character encoding and turns the
 * whole document into valid UTF-8 before any parser sees it, so libxml2
 * and json-c only ever get one encoding and never guess on their own.
 *
 * Feeds lie about their encoding all the time; the rules here prefer hard
 * evidence (a BOM, the NUL pattern of UTF-16/32) over labels, and never
 * drop a document for a bad byte: bytes that are not UTF-8 are read as
 * windows-1252, the encoding such feeds almost always really are in.
 */
#include "feed_internal.h"
#include "unicode.h"
#include "util.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* kt_buf_steal, but without the growth slack: a converted document stays
 * alive next to the parser, and the slack can be as large as the text. */
static char *feed_charset_steal(struct kt_buf *b)
{
    size_t n = b->len;
    char *s = kt_buf_steal(b);
    return kt_realloc(s, n + 1);
}

char *feed_charset_fix_utf8(const char *s, size_t len, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_reserve(&b, (len < max ? len : max) + len / 8 + 16);
    size_t i = 0, run = 0; /* p[run..i) is valid and not yet copied */
    while (i < len) {
        unsigned char c = p[i];
        uint32_t cp = c;
        size_t n = c < 0x80 ? (c != 0) : uni_decode(s + i, len - i, &cp);
        if (cp == UNI_INVALID)
            n = 0;
        if (n) {
            if (b.len + (i - run) + n > max)
                break;
            i += n;
            continue;
        }
        kt_buf_append(&b, p + run, i - run);
        run = ++i;
        if (c) { /* not UTF-8: a windows-1252 byte */
            size_t before = b.len;
            uni_buf_put(&b, uni_cp1252(c));
            if (b.len > max) {
                b.len = before;
                b.data[b.len] = '\0';
                return feed_charset_steal(&b);
            }
        }
    }
    kt_buf_append(&b, p + run, i - run);
    return feed_charset_steal(&b);
}

char *feed_charset_fix_value(char *s, bool utf8_source)
{
    if (!s)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);

    /* Double-encoded UTF-8 ("Ã©" for "é") is only plausible when every
     * character is below U+0100 (so only C2/C3 lead bytes) and the Latin-1
     * bytes form valid multi-byte UTF-8. */
    if (utf8_source) {
        bool only_latin1 = true, any_high = false;
        for (size_t i = 0; i < len && only_latin1; i++) {
            if (p[i] < 0x80)
                continue;
            if ((p[i] == 0xC2 || p[i] == 0xC3) && i + 1 < len) {
                any_high = true;
                i++; /* the continuation byte; s is valid UTF-8 */
            } else {
                only_latin1 = false;
            }
        }
        if (only_latin1 && any_high) {
            char *latin = kt_malloc(len + 1);
            size_t n = 0;
            bool multi = false;
            for (size_t i = 0; i < len; i++) {
                if (p[i] == 0xC2 || p[i] == 0xC3) {
                    latin[n++] = (char)(((p[i] & 0x03) << 6) | (p[i + 1] & 0x3F));
                    i++;
                } else {
                    latin[n++] = (char)p[i];
                }
            }
            latin[n] = '\0';
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)latin[i] >= 0xC2) {
                    multi = true;
                    break;
                }
            if (multi && uni_valid(latin, n)) {
                free(s);
                s = latin;
                p = (const unsigned char *)s;
                len = n;
            } else {
                free(latin);
            }
        }
    }

    /* C1 controls are never meant; they are windows-1252 bytes that went
     * through a Latin-1 decoder somewhere upstream. All but U+0085 (NEL),
     * which is a line break in its own right (the text layer makes it a
     * space). */
    bool any_c1 = false;
    for (size_t i = 0; i + 1 < len; i++)
        if (p[i] == 0xC2 && p[i + 1] >= 0x80 && p[i + 1] < 0xA0 && p[i + 1] != 0x85) {
            any_c1 = true;
            break;
        }
    if (!any_c1)
        return s;
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_reserve(&b, len + len / 2);
    for (size_t i = 0; i < len; i++) {
        if (p[i] == 0xC2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] < 0xA0 &&
            p[i + 1] != 0x85) {
            uni_buf_put(&b, uni_cp1252(p[i + 1]));
            i++;
        } else {
            kt_buf_putc(&b, (char)p[i]);
        }
    }
    free(s);
    return kt_buf_steal(&b);
}

/* Copies a charset label into out as lower case, refusing anything that is
 * not a plausible encoding name (it ends up in iconv_open). */
static bool feed_charset_label(const char *s, size_t n, char *out, size_t outlen)
{
    while (n && (*s == ' ' || *s == '\t' || *s == '"' || *s == '\'')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '"' || s[n - 1] == '\''))
        n--;
    if (n == 0 || n >= outlen)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == ':'))
            return false;
        out[i] = c;
    }
    out[n] = '\0';
    return true;
}

/* charset= parameter of a Content-Type header value. */
static bool feed_charset_from_header(const char *ct, char *out, size_t outlen)
{
    if (!ct)
        return false;
    const char *p = strchr(ct, ';');
    while (p) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "charset", 7) == 0) {
            const char *q = p + 7;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == '=') {
                q++;
                size_t n = strcspn(q, ";,");
                return feed_charset_label(q, n, out, outlen);
            }
        }
        p = strchr(p, ';');
    }
    return false;
}

/* encoding="…" of an XML declaration at the very start of data. */
static bool feed_charset_from_decl(const char *data, size_t len, char *out, size_t outlen)
{
    if (len < 6 || memcmp(data, "<?xml", 5) != 0)
        return false;
    size_t lim = len < 512 ? len : 512;
    size_t end = 5;
    while (end + 1 < lim && !(data[end] == '?' && data[end + 1] == '>'))
        end++;
    for (size_t i = 5; i + 8 <= end; i++) {
        if (memcmp(data + i, "encoding", 8) != 0)
            continue;
        size_t j = i + 8;
        while (j < end && (data[j] == ' ' || data[j] == '\t' || data[j] == '\r' || data[j] == '\n'))
            j++;
        if (j >= end || data[j] != '=')
            return false;
        j++;
        while (j < end && (data[j] == ' ' || data[j] == '\t' || data[j] == '\r' || data[j] == '\n'))
            j++;
        if (j >= end || (data[j] != '"' && data[j] != '\''))
            return false;
        char q = data[j++];
        size_t k = j;
        while (k < end && data[k] != q)
            k++;
        return k < end && feed_charset_label(data + j, k - j, out, outlen);
    }
    return false;
}

enum feed_charset_kind { CS_UTF8, CS_CP1252, CS_ICONV };

/* The one table of charset labels that do not go to iconv as written.
 * Labels browsers treat as a superset (Latin-1 → windows-1252, GB2312 →
 * GB18030, …) take the superset, since feeds in the wild use the
 * superset's characters under the old name. */
static const struct feed_charset_alias {
    const char *label;
    enum feed_charset_kind kind;
    const char *iconv_name; /* CS_ICONV only */
} feed_charset_aliases[] = {
    {"utf-8", CS_UTF8, NULL},
    {"utf8", CS_UTF8, NULL},
    {"unicode-1-1-utf-8", CS_UTF8, NULL},
    {"x-unicode20utf8", CS_UTF8, NULL},
    {"iso-8859-1", CS_CP1252, NULL},
    {"iso8859-1", CS_CP1252, NULL},
    {"iso_8859-1", CS_CP1252, NULL},
    {"iso_8859-1:1987", CS_CP1252, NULL},
    {"latin1", CS_CP1252, NULL},
    {"latin-1", CS_CP1252, NULL},
    {"l1", CS_CP1252, NULL},
    {"us-ascii", CS_CP1252, NULL},
    {"ascii", CS_CP1252, NULL},
    {"ansi_x3.4-1968", CS_CP1252, NULL},
    {"windows-1252", CS_CP1252, NULL},
    {"cp1252", CS_CP1252, NULL},
    {"x-cp1252", CS_CP1252, NULL},
    {"cp819", CS_CP1252, NULL},
    {"ibm819", CS_CP1252, NULL},
    {"iso-ir-100", CS_CP1252, NULL},
    {"csisolatin1", CS_CP1252, NULL},
    {"gb2312", CS_ICONV, "GB18030"},
    {"gbk", CS_ICONV, "GB18030"},
    {"x-gbk", CS_ICONV, "GB18030"},
    {"gb_2312-80", CS_ICONV, "GB18030"},
    {"chinese", CS_ICONV, "GB18030"},
    {"csgb2312", CS_ICONV, "GB18030"},
    {"big5", CS_ICONV, "BIG5-HKSCS"},
    {"x-x-big5", CS_ICONV, "BIG5-HKSCS"},
    {"cn-big5", CS_ICONV, "BIG5-HKSCS"},
    {"shift_jis", CS_ICONV, "CP932"},
    {"shift-jis", CS_ICONV, "CP932"},
    {"sjis", CS_ICONV, "CP932"},
    {"x-sjis", CS_ICONV, "CP932"},
    {"ms_kanji", CS_ICONV, "CP932"},
    {"windows-31j", CS_ICONV, "CP932"},
    {"euc-kr", CS_ICONV, "CP949"},
    {"ks_c_5601-1987", CS_ICONV, "CP949"},
    {"x-euc-kr", CS_ICONV, "CP949"},
};

/* Maps a label to how it is decoded; any label not in the table goes to
 * iconv as written. */
static enum feed_charset_kind feed_charset_classify(const char *label, bool has_nul,
                                                    const char **iconv_name)
{
    *iconv_name = label;
    for (size_t i = 0; i < sizeof feed_charset_aliases / sizeof *feed_charset_aliases; i++)
        if (strcmp(label, feed_charset_aliases[i].label) == 0) {
            if (feed_charset_aliases[i].iconv_name)
                *iconv_name = feed_charset_aliases[i].iconv_name;
            return feed_charset_aliases[i].kind;
        }
    /* A 16/32-bit label on bytes without NULs is a lie (common with
     * .NET-generated feeds): the bytes are ASCII-compatible. */
    if (strncmp(label, "utf-16", 6) == 0 || strncmp(label, "utf-32", 6) == 0 ||
        strncmp(label, "ucs-", 4) == 0 || strcmp(label, "unicode") == 0 ||
        strncmp(label, "utf16", 5) == 0 || strncmp(label, "utf32", 5) == 0)
        return has_nul ? CS_ICONV : CS_UTF8;
    return CS_ICONV;
}

static char *feed_charset_decode_cp1252(const char *s, size_t len)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_reserve(&b, len + len / 4 + 16);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80)
            continue;
        kt_buf_append(&b, s + run, i - run);
        uni_buf_put(&b, uni_cp1252(c));
        run = i + 1;
    }
    kt_buf_append(&b, s + run, len - run);
    return feed_charset_steal(&b);
}

/* Converts with iconv; undecodable input becomes U+FFFD (skipping unit
 * bytes) rather than failing the document. -1 when iconv lacks the name. */
static int feed_charset_iconv(const char *name, size_t unit, const char *s, size_t len, char **out,
                              size_t *outlen)
{
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return -1;
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_reserve(&b, len + len / 2 + 64);
    char *in = (char *)s;
    size_t inleft = len;
    while (inleft > 0) {
        if (b.cap - b.len < 64)
            kt_buf_reserve(&b, b.cap);
        char *o = b.data + b.len;
        size_t oleft = b.cap - b.len - 1;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        b.len = (size_t)(o - b.data);
        b.data[b.len] = '\0';
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG) {
            kt_buf_reserve(&b, b.cap);
        } else if (errno == EILSEQ) {
            kt_buf_append(&b, "\xEF\xBF\xBD", 3);
            size_t skip = unit < inleft ? unit : inleft;
            in += skip;
            inleft -= skip;
        } else {
            /* EINVAL: truncated sequence at the end */
            kt_buf_append(&b, "\xEF\xBF\xBD", 3);
            break;
        }
    }
    iconv_close(cd);
    /* Converters pass NUL through from UTF-16 input; parsers stop at NUL, and
     * a decoder bug must not yield invalid UTF-8 downstream. */
    if (memchr(b.data, '\0', b.len) || !uni_valid(b.data, b.len)) {
        char *fixed = feed_charset_fix_utf8(b.data, b.len, b.len * 3 + 3);
        kt_buf_free(&b);
        *outlen = strlen(fixed);
        *out = fixed;
        return 0;
    }
    *outlen = b.len;
    *out = feed_charset_steal(&b);
    return 0;
}

static void feed_charset_set_owned(struct feed_utf8 *out, char *s, size_t n)
{
    out->owned = s;
    out->data = s;
    out->len = n;
}

int feed_charset_decode(const char *data, size_t len, const char *content_type,
                        struct feed_utf8 *out, char *err, size_t errlen)
{
    const unsigned char *p = (const unsigned char *)data;
    const char *wide = NULL; /* iconv name of a 16/32-bit form */
    size_t unit = 1;
    bool bom8 = false;
    memset(out, 0, sizeof *out);

    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        data += 3;
        len -= 3;
        bom8 = true;
    } else if (len >= 4 && p[0] == 0xFF && p[1] == 0xFE && p[2] == 0 && p[3] == 0) {
        wide = "UTF-32LE", unit = 4, data += 4, len -= 4;
    } else if (len >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0xFE && p[3] == 0xFF) {
        wide = "UTF-32BE", unit = 4, data += 4, len -= 4;
    } else if (len >= 2 && p[0] == 0xFF && p[1] == 0xFE) {
        wide = "UTF-16LE", unit = 2, data += 2, len -= 2;
    } else if (len >= 2 && p[0] == 0xFE && p[1] == 0xFF) {
        wide = "UTF-16BE", unit = 2, data += 2, len -= 2;
    } else if (len >= 4) {
        /* No BOM: an ASCII first character ('<', '{', a space) in a wide
         * form shows as a NUL pattern no 8-bit document starts with. */
        if (!p[0] && !p[1] && !p[2] && p[3] && p[3] < 0x80)
            wide = "UTF-32BE", unit = 4;
        else if (p[0] && p[0] < 0x80 && !p[1] && !p[2] && !p[3])
            wide = "UTF-32LE", unit = 4;
        else if (!p[0] && p[1] && p[1] < 0x80 && !p[2] && p[3])
            wide = "UTF-16BE", unit = 2;
        else if (p[0] && p[0] < 0x80 && !p[1] && p[2] && !p[3])
            wide = "UTF-16LE", unit = 2;
    }
    if (wide) {
        char *s;
        size_t n;
        if (feed_charset_iconv(wide, unit, data, len, &s, &n) != 0)
            return kt_error(err, errlen, "charset: cannot convert from %s", wide);
        feed_charset_set_owned(out, s, n);
        /* a BOM inside (after a stripped one) would confuse detection */
        if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            out->data += 3;
            out->len -= 3;
        }
        return 0;
    }

    char label[48];
    const char *iconv_name = NULL;
    enum feed_charset_kind kind = CS_UTF8;
    if (!bom8 && (feed_charset_from_header(content_type, label, sizeof label) ||
                  feed_charset_from_decl(data, len, label, sizeof label)))
        kind = feed_charset_classify(label, memchr(data, '\0', len < 1024 ? len : 1024) != NULL,
                                     &iconv_name);

    if (kind == CS_ICONV) {
        char *s;
        size_t n;
        if (feed_charset_iconv(iconv_name, 1, data, len, &s, &n) == 0) {
            feed_charset_set_owned(out, s, n);
            return 0;
        }
        kind = CS_UTF8; /* unknown label: read as UTF-8 with repair */
    }
    if (kind == CS_CP1252) {
        char *s = feed_charset_decode_cp1252(data, len);
        feed_charset_set_owned(out, s, strlen(s));
        return 0;
    }
    if (uni_valid(data, len) && !memchr(data, '\0', len)) {
        out->data = data;
        out->len = len;
        out->utf8_source = true;
        return 0;
    }
    char *s = feed_charset_fix_utf8(data, len, len * 3 + 3);
    feed_charset_set_owned(out, s, strlen(s));
    return 0;
}

void feed_utf8_free(struct feed_utf8 *u)
{
    free(u->owned);
    memset(u, 0, sizeof *u);
}
