/*
 * font_script: which writing system a code point belongs to, as the
 * ISO 15924 tag HarfBuzz wants (TTF_SetFontScriptName).
 *
 * A line is cut into runs of one script because HarfBuzz shapes a buffer
 * with a single script: Arabic joining, Indic reordering and Thai mark
 * stacking only happen when the buffer says which script it holds. The
 * script comes from the Unicode database (unicode.h); punctuation, digits
 * and symbols are Common and marks Inherited, so they join the
 * surrounding run instead of splitting it.
 */
#include "font.h"

#include "unicode.h"

#include <stddef.h>
#include <string.h>

static const char font_common[] = "Zyyy";
static const char font_inherited[] = "Zinh";

/* A few characters Unicode gives a script of their own (Scx lists them in
 * several) join the surrounding run instead: the Arabic comma, the
 * Devanagari danda, the Japanese long-vowel mark. */
const char *font_script_of(uint32_t cp)
{
    if (cp == 0x060C || cp == 0x061B || cp == 0x061F || cp == 0x0640 || cp == 0x0964 ||
        cp == 0x0965 || cp == 0x30FC)
        return font_common;
    return uni_script_tag(cp);
}

bool font_script_is_real(const char *tag)
{
    return strcmp(tag, font_common) != 0 && strcmp(tag, font_inherited) != 0;
}
