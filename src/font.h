/*
 * font: text for the screen (edge module: SDL2_ttf, fontconfig, fribidi).
 *
 * A font set is the chosen font (a fontconfig pattern or a file path) plus
 * fontconfig's sorted fallback list, opened lazily at one pixel size. A
 * line is reordered with the Unicode bidirectional algorithm (fribidi),
 * split into runs of one direction, script, font and colour, each run
 * shaped by SDL2_ttf/HarfBuzz with the right direction and script, and the
 * runs composed into one surface. Characters the chosen font lacks come
 * from the first fallback font that has them, so no tofu boxes when a
 * suitable font is installed.
 */
#ifndef KT_FONT_H
#define KT_FONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

struct font_set;

struct text_span {
    const char *text; /* UTF-8, logical order */
    SDL_Color color;
};

struct font_set *font_set_open(const char *pattern_or_path, int size_px, char *err, size_t errlen);
void font_set_close(struct font_set *fs);
/* Height of a rendered line in pixels (ascent + descent of the main font). */
int font_set_line_height(const struct font_set *fs);
/* Path of the main font file (for logs and tests). */
const char *font_set_main_path(const struct font_set *fs);

/* Rasterises the spans as one line: an ARGB8888 surface, transparent
 * background, height font_set_line_height(). NULL with err on failure,
 * including a line with nothing to draw (width 0).
 * Each call counts as one rasterisation (font_rasterisations()).
 *
 * A font set belongs to one thread at a time; several sets may be used
 * from several threads at once. */
SDL_Surface *font_render_line(struct font_set *fs, const struct text_span *spans, size_t n,
                              char *err, size_t errlen);
/* Width in pixels the spans would take, without rasterising. */
int font_measure_line(struct font_set *fs, const struct text_span *spans, size_t n);

/* Rasterisations so far: by every thread, and by the calling thread (the
 * render thread's must stay 0: the text worker rasterises). */
uint64_t font_rasterisations(void);
uint64_t font_thread_rasterisations(void);

/* Whether some font of the set (the main one or a fallback) has a glyph
 * for the code point, i.e. whether it can be drawn without a tofu box. */
bool font_set_covers(struct font_set *fs, uint32_t cp);
/* File (and face index within it, for .ttc collections) of the font the
 * set draws the code point with when it stands between letters of its own
 * script; NULL when no font of the set has it. For tests and logs. */
const char *font_set_font_for(struct font_set *fs, uint32_t cp, int *face_index);

/* Shared by the font*.c files, exposed for tests. */

/* ISO 15924 tag of the script of cp as HarfBuzz names it ("Latn", "Arab",
 * "Hani", ...); "Zyyy" for characters every script uses (spaces, digits,
 * punctuation, symbols) and "Zinh" for marks that take their base's. */
const char *font_script_of(uint32_t cp);
/* False for "Zyyy" and "Zinh". */
bool font_script_is_real(const char *tag);
/* Bidi embedding levels of one line (odd = right to left), rules up to L1,
 * paragraph direction from the first strong character. Returns the
 * paragraph level (0 or 1). */
int font_bidi_levels(const uint32_t *text, size_t n, uint8_t *levels);
/* Visual order (rule L2) of n runs with the given levels: order[k] is the
 * run drawn k-th from the left. */
void font_bidi_order(const uint8_t *levels, size_t n, size_t *order);

/* For --check: what a `font =` value gives at size_px. FONT_CHECK_OK: the
 * font the screen draws with, its file in file. FONT_CHECK_FALLBACK: a
 * family that is not installed, so fontconfig would only match another one
 * (why says which; file is its file). FONT_CHECK_BAD: unusable: empty, a
 * path that is missing, unreadable, not a regular file or not a font (why
 * says which). */
enum font_check { FONT_CHECK_OK, FONT_CHECK_FALLBACK, FONT_CHECK_BAD };
enum font_check font_check(const char *spec, int size_px, char *file, size_t filelen, char *why,
                           size_t whylen);

#endif
