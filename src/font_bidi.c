/*
 * font_bidi: the Unicode bidirectional algorithm (UAX #9) for one line,
 * through fribidi.
 *
 * Only levels come from fribidi; the visual order is computed on runs
 * rather than characters, because each run is handed to HarfBuzz in
 * logical order (it reverses right-to-left runs itself while shaping).
 * Reordering characters here as well would reverse Arabic twice.
 */
#include "font.h"

#include <stdlib.h>

#include <fribidi.h>

#include "util.h"

int font_bidi_levels(const uint32_t *text, size_t n, uint8_t *levels)
{
    if (n == 0)
        return 0;
    FriBidiCharType *types = kt_malloc(n * sizeof *types);
    FriBidiBracketType *brackets = kt_malloc(n * sizeof *brackets);
    FriBidiLevel *lev = kt_malloc(n * sizeof *lev);
    /* FriBidiChar is uint32_t, but do not rely on the typedef. */
    FriBidiChar *str = kt_malloc(n * sizeof *str);
    for (size_t i = 0; i < n; i++)
        str[i] = text[i];

    /* Auto direction (rule P2/P3): the first strong character decides, so
     * an English label followed by an Arabic title is a left-to-right line
     * with a right-to-left run, and an all-Arabic line is right-to-left. */
    FriBidiParType base = FRIBIDI_PAR_ON;
    fribidi_get_bidi_types(str, (FriBidiStrIndex)n, types);
    fribidi_get_bracket_types(str, (FriBidiStrIndex)n, types, brackets);
    int par_level = 0;
    if (fribidi_get_par_embedding_levels_ex(types, brackets, (FriBidiStrIndex)n, &base, lev) &&
        /* Applies rule L1 in place (trailing white space takes the
         * paragraph level); the map is not wanted, see the top comment. */
        fribidi_reorder_line(FRIBIDI_FLAGS_DEFAULT, types, (FriBidiStrIndex)n, 0, base, lev, NULL,
                             NULL)) {
        par_level = FRIBIDI_DIR_TO_LEVEL(base);
        for (size_t i = 0; i < n; i++)
            levels[i] = (uint8_t)lev[i];
    } else {
        /* fribidi only fails on allocation; a left-to-right line is the
         * least surprising thing to show. */
        for (size_t i = 0; i < n; i++)
            levels[i] = 0;
    }
    free(str);
    free(lev);
    free(brackets);
    free(types);
    return par_level;
}

static void font_bidi_reverse(size_t *a, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        size_t t = a[i];
        a[i] = a[j - 1];
        a[j - 1] = t;
    }
}

void font_bidi_order(const uint8_t *levels, size_t n, size_t *order)
{
    uint8_t max = 0, min_odd = 255;
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        if (levels[i] > max)
            max = levels[i];
        if ((levels[i] & 1) && levels[i] < min_odd)
            min_odd = levels[i];
    }
    /* Rule L2: from the highest level down to the lowest odd one, reverse
     * every maximal sequence of runs at that level or higher. */
    for (int lev = max; lev >= (int)min_odd && lev > 0; lev--) {
        size_t i = 0;
        while (i < n) {
            if (levels[order[i]] < lev) {
                i++;
                continue;
            }
            size_t j = i;
            while (j < n && levels[order[j]] >= lev)
                j++;
            font_bidi_reverse(order + i, j - i);
            i = j;
        }
    }
}
