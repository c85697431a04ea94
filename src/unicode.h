/*
 * unicode: the project's one Unicode layer, over libunistring. Pure.
 *
 * Every module that decodes, encodes, validates, measures or classifies
 * UTF-8 text goes through these functions: the text normaliser, the feed
 * parser's charset decoding and XML repair, the cache's field encoder and
 * the font layer's shaping runs. Legacy charsets are iconv's business
 * (feed_charset), except windows-1252, whose browser mapping (the five
 * unused bytes as C1 controls) iconv does not have.
 */
#ifndef KT_UNICODE_H
#define KT_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kt_buf;

/* What uni_decode stores for an invalid or truncated sequence. */
#define UNI_INVALID 0xFFFFFFFFu
#define UNI_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, 3 bytes */
/* ESC as the XML repair pass hands it on: XML cannot carry C0 controls,
 * and the text layer must still see where a terminal escape sequence
 * starts to remove all of it. A noncharacter, so never real text. */
#define UNI_ESC_STANDIN 0xFDD0u

/* Decodes the character at s (n > 0 bytes left; strict UTF-8: no overlong
 * forms, surrogates or values past U+10FFFF). Returns its length and stores
 * the code point, or stores UNI_INVALID and returns the length of the
 * maximal invalid subpart (at least 1), which one U+FFFD replaces (Unicode,
 * section 3.9). */
size_t uni_decode(const char *s, size_t n, uint32_t *cp);
/* Encodes a Unicode scalar value into out (4 bytes of room); returns the
 * length. */
size_t uni_encode(uint32_t cp, char *out);
void uni_buf_put(struct kt_buf *b, uint32_t cp);

/* Whether s[0..n) is strict UTF-8 (NUL bytes allowed). */
bool uni_valid(const char *s, size_t n);
/* Appends s with every invalid sequence replaced by U+FFFD; uni_repair
 * returns it as a new string (never NULL). */
void uni_repair_into(struct kt_buf *b, const char *s, size_t n);
char *uni_repair(const char *s, size_t n);
/* Number of code points in valid UTF-8. */
size_t uni_count(const char *s, size_t n);
/* Byte length of the extended grapheme cluster (UAX #29) that starts at
 * s, at least 1 when n > 0. */
size_t uni_grapheme_len(const char *s, size_t n);

/* windows-1252 as browsers decode it: bytes below 0x80 and from 0xA0 are
 * Latin-1; 0x80-0x9F are the windows-1252 characters, the five unused
 * positions the C1 control of the same value. */
uint32_t uni_cp1252(unsigned char byte);

/* Properties (Unicode database of libunistring). */
bool uni_is_space(uint32_t cp);        /* White_Space: Zs, tabs, line breaks */
bool uni_is_mark(uint32_t cp);         /* Grapheme_Extend: combining marks and friends */
bool uni_starts_sentence(uint32_t cp); /* Lu, Lt, or a letter of a caseless script (Lo) */
bool uni_is_line_break(uint32_t cp);   /* U+000A-000D, U+0085, U+2028, U+2029 */
/* ISO 15924 tag of cp's script, as HarfBuzz wants it; "Zyyy" (Common) and
 * "Zinh" (Inherited) for characters of no script of their own. */
const char *uni_script_tag(uint32_t cp);

/* Bidi formatting: U+202A-202E (embeddings, overrides, PDF) and
 * U+2066-2069 (isolates, PDI). */
enum uni_bidi { UNI_BIDI_NONE, UNI_BIDI_EMBED, UNI_BIDI_PDF, UNI_BIDI_ISOLATE, UNI_BIDI_PDI };
enum uni_bidi uni_bidi_kind(uint32_t cp);

#endif
