/*
 * unicode: see unicode.h. Thin wrappers over libunistring, plus the two
 * small tables it lacks: windows-1252's upper half and the ISO 15924 tags
 * of its script names (HarfBuzz and SDL2_ttf want the tags).
 */
#include "unicode.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <unigbrk.h>
#include <unistr.h>

/* Length of the maximal subpart of an ill-formed sequence at u: the
 * longest prefix of a well-formed sequence, at least 1 byte (Unicode,
 * section 3.9, table 3-7). libunistring reads some ill-formed sequences
 * (surrogates, overlong forms) as one unit; the standard's practice, and
 * browsers, replace each such byte on its own. */
static size_t uni_subpart(const uint8_t *u, size_t n)
{
    uint8_t b = u[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
    } else {
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n || u[i] < (i == 1 ? lo : 0x80) || u[i] > (i == 1 ? hi : 0xBF))
            return i;
    }
    return need + 1; /* not reached for an ill-formed sequence */
}

size_t uni_decode(const char *s, size_t n, uint32_t *cp)
{
    const uint8_t *u = (const uint8_t *)s;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    ucs4_t c;
    int len = u8_mbtoucr(&c, u, n);
    if (len > 0) {
        *cp = c;
        return (size_t)len;
    }
    *cp = UNI_INVALID;
    return uni_subpart(u, n);
}

size_t uni_encode(uint32_t cp, char *out)
{
    int n = u8_uctomb((uint8_t *)out, cp, 4);
    if (n > 0)
        return (size_t)n;
    memcpy(out, UNI_REPLACEMENT, 3);
    return 3;
}

void uni_buf_put(struct kt_buf *b, uint32_t cp)
{
    char t[4];
    kt_buf_append(b, t, uni_encode(cp, t));
}

/* Length of the ASCII run at the start of s[0..n), eight bytes at a time:
 * feed text is mostly ASCII, and libunistring goes byte by byte. */
static size_t uni_ascii_prefix(const uint8_t *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            break;
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

bool uni_valid(const char *s, size_t n)
{
    if (!s)
        return n == 0;
    const uint8_t *u = (const uint8_t *)s;
    size_t i = uni_ascii_prefix(u, n);
    return i == n || u8_check(u + i, n - i) == NULL;
}

void uni_repair_into(struct kt_buf *b, const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s, *end = u + n;
    kt_buf_reserve(b, n);
    while (u < end) {
        size_t ascii = uni_ascii_prefix(u, (size_t)(end - u));
        const uint8_t *bad =
            u + ascii == end ? NULL : u8_check(u + ascii, (size_t)(end - u) - ascii);
        if (!bad) {
            kt_buf_append(b, u, (size_t)(end - u));
            return;
        }
        kt_buf_append(b, u, (size_t)(bad - u));
        uint32_t cp;
        size_t len = uni_decode((const char *)bad, (size_t)(end - bad), &cp);
        kt_buf_append(b, UNI_REPLACEMENT, 3);
        u = bad + len;
    }
}

char *uni_repair(const char *s, size_t n)
{
    struct kt_buf b;
    kt_buf_init(&b);
    if (s)
        uni_repair_into(&b, s, n);
    return kt_buf_steal(&b);
}

size_t uni_count(const char *s, size_t n)
{
    /* valid UTF-8: every byte but a continuation byte starts a character */
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

size_t uni_grapheme_len(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    const uint8_t *u = (const uint8_t *)s;
    const uint8_t *next = u8_grapheme_next(u, u + n);
    return next && next > u ? (size_t)(next - u) : 1;
}

uint32_t uni_cp1252(unsigned char byte)
{
    static const uint16_t upper[32] = {
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    };
    return byte >= 0x80 && byte < 0xA0 ? upper[byte - 0x80] : byte;
}

bool uni_is_space(uint32_t cp)
{
    return cp < 0x80 ? (cp == ' ' || (cp >= '\t' && cp <= '\r')) : uc_is_property_white_space(cp);
}

bool uni_is_mark(uint32_t cp)
{
    return cp >= 0x300 && uc_is_property_grapheme_extend(cp);
}

bool uni_starts_sentence(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z';
    return uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Lu | UC_CATEGORY_MASK_Lt |
                                                    UC_CATEGORY_MASK_Lo);
}

bool uni_is_line_break(uint32_t cp)
{
    return (cp >= 0x0A && cp <= 0x0D) || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

enum uni_bidi uni_bidi_kind(uint32_t cp)
{
    if (cp >= 0x202A && cp <= 0x202E)
        return cp == 0x202C ? UNI_BIDI_PDF : UNI_BIDI_EMBED;
    if (cp >= 0x2066 && cp <= 0x2069)
        return cp == 0x2069 ? UNI_BIDI_PDI : UNI_BIDI_ISOLATE;
    return UNI_BIDI_NONE;
}

/* libunistring's script names and their ISO 15924 tags, sorted by name
 * (generated once from uc_all_scripts() and the tags HarfBuzz documents). */
static const struct uni_script_name {
    const char *name, *tag;
} uni_scripts[] = {
    {"Adlam", "Adlm"},
    {"Ahom", "Ahom"},
    {"Anatolian_Hieroglyphs", "Hluw"},
    {"Arabic", "Arab"},
    {"Armenian", "Armn"},
    {"Avestan", "Avst"},
    {"Balinese", "Bali"},
    {"Bamum", "Bamu"},
    {"Bassa_Vah", "Bass"},
    {"Batak", "Batk"},
    {"Bengali", "Beng"},
    {"Bhaiksuki", "Bhks"},
    {"Bopomofo", "Bopo"},
    {"Brahmi", "Brah"},
    {"Braille", "Brai"},
    {"Buginese", "Bugi"},
    {"Buhid", "Buhd"},
    {"Canadian_Aboriginal", "Cans"},
    {"Carian", "Cari"},
    {"Caucasian_Albanian", "Aghb"},
    {"Chakma", "Cakm"},
    {"Cham", "Cham"},
    {"Cherokee", "Cher"},
    {"Chorasmian", "Chrs"},
    {"Common", "Zyyy"},
    {"Coptic", "Copt"},
    {"Cuneiform", "Xsux"},
    {"Cypriot", "Cprt"},
    {"Cypro_Minoan", "Cpmn"},
    {"Cyrillic", "Cyrl"},
    {"Deseret", "Dsrt"},
    {"Devanagari", "Deva"},
    {"Dives_Akuru", "Diak"},
    {"Dogra", "Dogr"},
    {"Duployan", "Dupl"},
    {"Egyptian_Hieroglyphs", "Egyp"},
    {"Elbasan", "Elba"},
    {"Elymaic", "Elym"},
    {"Ethiopic", "Ethi"},
    {"Georgian", "Geor"},
    {"Glagolitic", "Glag"},
    {"Gothic", "Goth"},
    {"Grantha", "Gran"},
    {"Greek", "Grek"},
    {"Gujarati", "Gujr"},
    {"Gunjala_Gondi", "Gong"},
    {"Gurmukhi", "Guru"},
    {"Han", "Hani"},
    {"Hangul", "Hang"},
    {"Hanifi_Rohingya", "Rohg"},
    {"Hanunoo", "Hano"},
    {"Hatran", "Hatr"},
    {"Hebrew", "Hebr"},
    {"Hiragana", "Hira"},
    {"Imperial_Aramaic", "Armi"},
    {"Inherited", "Zinh"},
    {"Inscriptional_Pahlavi", "Phli"},
    {"Inscriptional_Parthian", "Prti"},
    {"Javanese", "Java"},
    {"Kaithi", "Kthi"},
    {"Kannada", "Knda"},
    {"Katakana", "Kana"},
    {"Kayah_Li", "Kali"},
    {"Kharoshthi", "Khar"},
    {"Khitan_Small_Script", "Kits"},
    {"Khmer", "Khmr"},
    {"Khojki", "Khoj"},
    {"Khudawadi", "Sind"},
    {"Lao", "Laoo"},
    {"Latin", "Latn"},
    {"Lepcha", "Lepc"},
    {"Limbu", "Limb"},
    {"Linear_A", "Lina"},
    {"Linear_B", "Linb"},
    {"Lisu", "Lisu"},
    {"Lycian", "Lyci"},
    {"Lydian", "Lydi"},
    {"Mahajani", "Mahj"},
    {"Makasar", "Maka"},
    {"Malayalam", "Mlym"},
    {"Mandaic", "Mand"},
    {"Manichaean", "Mani"},
    {"Marchen", "Marc"},
    {"Masaram_Gondi", "Gonm"},
    {"Medefaidrin", "Medf"},
    {"Meetei_Mayek", "Mtei"},
    {"Mende_Kikakui", "Mend"},
    {"Meroitic_Cursive", "Merc"},
    {"Meroitic_Hieroglyphs", "Mero"},
    {"Miao", "Plrd"},
    {"Modi", "Modi"},
    {"Mongolian", "Mong"},
    {"Mro", "Mroo"},
    {"Multani", "Mult"},
    {"Myanmar", "Mymr"},
    {"Nabataean", "Nbat"},
    {"Nandinagari", "Nand"},
    {"New_Tai_Lue", "Talu"},
    {"Newa", "Newa"},
    {"Nko", "Nkoo"},
    {"Nushu", "Nshu"},
    {"Nyiakeng_Puachue_Hmong", "Hmnp"},
    {"Ogham", "Ogam"},
    {"Ol_Chiki", "Olck"},
    {"Old_Hungarian", "Hung"},
    {"Old_Italic", "Ital"},
    {"Old_North_Arabian", "Narb"},
    {"Old_Permic", "Perm"},
    {"Old_Persian", "Xpeo"},
    {"Old_Sogdian", "Sogo"},
    {"Old_South_Arabian", "Sarb"},
    {"Old_Turkic", "Orkh"},
    {"Old_Uyghur", "Ougr"},
    {"Oriya", "Orya"},
    {"Osage", "Osge"},
    {"Osmanya", "Osma"},
    {"Pahawh_Hmong", "Hmng"},
    {"Palmyrene", "Palm"},
    {"Pau_Cin_Hau", "Pauc"},
    {"Phags_Pa", "Phag"},
    {"Phoenician", "Phnx"},
    {"Psalter_Pahlavi", "Phlp"},
    {"Rejang", "Rjng"},
    {"Runic", "Runr"},
    {"Samaritan", "Samr"},
    {"Saurashtra", "Saur"},
    {"Sharada", "Shrd"},
    {"Shavian", "Shaw"},
    {"Siddham", "Sidd"},
    {"SignWriting", "Sgnw"},
    {"Sinhala", "Sinh"},
    {"Sogdian", "Sogd"},
    {"Sora_Sompeng", "Sora"},
    {"Soyombo", "Soyo"},
    {"Sundanese", "Sund"},
    {"Syloti_Nagri", "Sylo"},
    {"Syriac", "Syrc"},
    {"Tagalog", "Tglg"},
    {"Tagbanwa", "Tagb"},
    {"Tai_Le", "Tale"},
    {"Tai_Tham", "Lana"},
    {"Tai_Viet", "Tavt"},
    {"Takri", "Takr"},
    {"Tamil", "Taml"},
    {"Tangsa", "Tnsa"},
    {"Tangut", "Tang"},
    {"Telugu", "Telu"},
    {"Thaana", "Thaa"},
    {"Thai", "Thai"},
    {"Tibetan", "Tibt"},
    {"Tifinagh", "Tfng"},
    {"Tirhuta", "Tirh"},
    {"Toto", "Toto"},
    {"Ugaritic", "Ugar"},
    {"Vai", "Vaii"},
    {"Vithkuqi", "Vith"},
    {"Wancho", "Wcho"},
    {"Warang_Citi", "Wara"},
    {"Yezidi", "Yezi"},
    {"Yi", "Yiii"},
    {"Zanabazar_Square", "Zanb"},
};

static int uni_script_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct uni_script_name *)elem)->name);
}

const char *uni_script_tag(uint32_t cp)
{
    const uc_script_t *s = uc_script(cp);
    if (!s || !s->name)
        return "Zyyy";
    const struct uni_script_name *e =
        bsearch(s->name, uni_scripts, sizeof uni_scripts / sizeof uni_scripts[0],
                sizeof uni_scripts[0], uni_script_cmp);
    return e ? e->tag : "Zyyy";
}
