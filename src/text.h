/*
 * text: turns feed text into what appears on screen. Pure logic.
 *
 *   decode entities (all HTML5 named ones, numeric, with the lenient
 *   rules browsers use), strip markup (dropping script/style/… content),
 *   collapse whitespace and line breaks (also U+0085, U+2028, U+2029),
 *   remove control characters and whole terminal escape sequences, replace
 *   invalid UTF-8 with U+FFFD, bound combining marks per character, trim
 *   Unicode spaces, close the bidi embeddings and isolates a text leaves
 *   open, cut to max_chars between grapheme clusters, at a word boundary
 *   when there is one, with "…".
 */
#ifndef KT_TEXT_H
#define KT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct filter;

/* Plain one-line text from s. is_html: s is HTML (tags stripped, entities
 * decoded); otherwise s is already plain text (only whitespace, controls and
 * UTF-8 are cleaned). Never returns NULL; may return "". */
char *text_plain(const char *s, size_t len, bool is_html);

/* Cuts s (valid UTF-8) to at most max_chars code points between grapheme
 * clusters, at a word boundary when there is one in the last part, ending
 * in "…" (bidi controls it leaves open are closed before it). max_chars
 * 0 = no cut. */
char *text_cut(const char *s, size_t max_chars);

/* The first sentence of the first paragraph of html that `exclude` does not
 * match (a paragraph with a match is skipped whole), as plain text, or NULL.
 * Sentences end at . ! ? followed by a space and a capital letter, or by the
 * end of the text, so "U.S. and Russian envoys met" is not cut after "U.S.". */
char *text_first_sentence(const char *s, size_t len, bool is_html, const struct filter *exclude);

/* Decodes one HTML entity name (without '&' and ';'), e.g. "rsquo"; returns
 * the UTF-8 expansion or NULL. */
const char *text_entity_lookup(const char *name, size_t len);

#endif
