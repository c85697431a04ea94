/*
 * font_script: which writing system a code point belongs to, as the
 * ISO 15924 tag HarfBuzz wants (TTF_SetFontScriptName).
 *
 * A line is cut into runs of one script because HarfBuzz shapes a buffer
 * with a single script: Arabic joining, Indic reordering and Thai mark
 * stacking only happen when the buffer says which script it holds. Block
 * ranges are enough for that purpose; the few exact exceptions that matter
 * (ASCII punctuation, digits, the Arabic comma, the Devanagari danda, the
 * Japanese long-vowel mark...) are listed so they join the surrounding run
 * instead of splitting it.
 */
#include "font.h"

#include <stddef.h>
#include <string.h>

struct font_script_range {
    uint32_t lo, hi;
    const char *tag;
};

static const char font_common[] = "Zyyy";
static const char font_inherited[] = "Zinh";

/* Sorted, non-overlapping. Anything not listed is Common: symbols, emoji
 * and unassigned code points must never force a script change. */
static const struct font_script_range font_scripts[] = {
    {0x0041, 0x005A, "Latn"},         {0x0061, 0x007A, "Latn"},
    {0x00AA, 0x00AA, "Latn"},         {0x00BA, 0x00BA, "Latn"},
    {0x00C0, 0x00D6, "Latn"},         {0x00D8, 0x00F6, "Latn"},
    {0x00F8, 0x02AF, "Latn"},         {0x0300, 0x036F, font_inherited},
    {0x0370, 0x0373, "Grek"},         {0x0375, 0x037D, "Grek"},
    {0x037F, 0x0384, "Grek"},         {0x0386, 0x0386, "Grek"},
    {0x0388, 0x03E1, "Grek"},         {0x03E2, 0x03EF, "Copt"},
    {0x03F0, 0x03FF, "Grek"},         {0x0400, 0x0484, "Cyrl"},
    {0x0485, 0x0486, font_inherited}, {0x0487, 0x052F, "Cyrl"},
    {0x0531, 0x0588, "Armn"},         {0x058A, 0x058F, "Armn"},
    {0x0591, 0x05FF, "Hebr"},         {0x0600, 0x060B, "Arab"},
    {0x060D, 0x061A, "Arab"},         {0x061C, 0x061E, "Arab"},
    {0x0620, 0x063F, "Arab"},         {0x0641, 0x064A, "Arab"},
    {0x064B, 0x0655, font_inherited}, {0x0656, 0x066F, "Arab"},
    {0x0670, 0x0670, font_inherited}, {0x0671, 0x06DC, "Arab"},
    {0x06DE, 0x06FF, "Arab"},         {0x0700, 0x074F, "Syrc"},
    {0x0750, 0x077F, "Arab"},         {0x0780, 0x07BF, "Thaa"},
    {0x07C0, 0x07FF, "Nkoo"},         {0x0860, 0x086F, "Syrc"},
    {0x0870, 0x08FF, "Arab"},         {0x0900, 0x0950, "Deva"},
    {0x0951, 0x0954, font_inherited}, {0x0955, 0x0963, "Deva"},
    {0x0966, 0x097F, "Deva"},         {0x0980, 0x09FF, "Beng"},
    {0x0A00, 0x0A7F, "Guru"},         {0x0A80, 0x0AFF, "Gujr"},
    {0x0B00, 0x0B7F, "Orya"},         {0x0B80, 0x0BFF, "Taml"},
    {0x0C00, 0x0C7F, "Telu"},         {0x0C80, 0x0CFF, "Knda"},
    {0x0D00, 0x0D7F, "Mlym"},         {0x0D80, 0x0DFF, "Sinh"},
    {0x0E01, 0x0E3E, "Thai"},         {0x0E40, 0x0E7F, "Thai"},
    {0x0E80, 0x0EFF, "Laoo"},         {0x0F00, 0x0FD4, "Tibt"},
    {0x0FD9, 0x0FFF, "Tibt"},         {0x1000, 0x109F, "Mymr"},
    {0x10A0, 0x10FA, "Geor"},         {0x10FC, 0x10FF, "Geor"},
    {0x1100, 0x11FF, "Hang"},         {0x1200, 0x139F, "Ethi"},
    {0x13A0, 0x13FF, "Cher"},         {0x1780, 0x17FF, "Khmr"},
    {0x1800, 0x18AF, "Mong"},         {0x19E0, 0x19FF, "Khmr"},
    {0x1AB0, 0x1AFF, font_inherited}, {0x1C80, 0x1C8F, "Cyrl"},
    {0x1C90, 0x1CBF, "Geor"},         {0x1CD0, 0x1CFF, font_inherited},
    {0x1D00, 0x1D25, "Latn"},         {0x1D26, 0x1D2A, "Grek"},
    {0x1D2B, 0x1D2B, "Cyrl"},         {0x1D2C, 0x1DBF, "Latn"},
    {0x1DC0, 0x1DFF, font_inherited}, {0x1E00, 0x1EFF, "Latn"},
    {0x1F00, 0x1FFF, "Grek"},         {0x200C, 0x200D, font_inherited},
    {0x20D0, 0x20FF, font_inherited}, {0x2C00, 0x2C5F, "Glag"},
    {0x2C60, 0x2C7F, "Latn"},         {0x2C80, 0x2CFF, "Copt"},
    {0x2D00, 0x2D2F, "Geor"},         {0x2D30, 0x2D7F, "Tfng"},
    {0x2D80, 0x2DDF, "Ethi"},         {0x2DE0, 0x2DFF, "Cyrl"},
    {0x2E80, 0x2FDF, "Hani"},         {0x3005, 0x3005, "Hani"},
    {0x3007, 0x3007, "Hani"},         {0x3021, 0x3029, "Hani"},
    {0x302A, 0x302D, font_inherited}, {0x3038, 0x303B, "Hani"},
    {0x3041, 0x3096, "Hira"},         {0x3099, 0x309A, font_inherited},
    {0x309D, 0x309F, "Hira"},         {0x30A1, 0x30FA, "Kana"},
    {0x30FD, 0x30FF, "Kana"},         {0x3105, 0x312F, "Bopo"},
    {0x3131, 0x318E, "Hang"},         {0x31A0, 0x31BF, "Bopo"},
    {0x31F0, 0x31FF, "Kana"},         {0x3260, 0x327E, "Hang"},
    {0x32D0, 0x32FE, "Kana"},         {0x3300, 0x3357, "Kana"},
    {0x3400, 0x4DBF, "Hani"},         {0x4E00, 0x9FFF, "Hani"},
    {0xA000, 0xA4CF, "Yiii"},         {0xA640, 0xA69F, "Cyrl"},
    {0xA722, 0xA787, "Latn"},         {0xA78B, 0xA7FF, "Latn"},
    {0xA8E0, 0xA8FF, "Deva"},         {0xA960, 0xA97F, "Hang"},
    {0xAB30, 0xAB5A, "Latn"},         {0xAB5C, 0xAB64, "Latn"},
    {0xAC00, 0xD7FF, "Hang"},         {0xF900, 0xFAFF, "Hani"},
    {0xFB00, 0xFB06, "Latn"},         {0xFB13, 0xFB17, "Armn"},
    {0xFB1D, 0xFB4F, "Hebr"},         {0xFB50, 0xFD3D, "Arab"},
    {0xFD40, 0xFDFF, "Arab"},         {0xFE00, 0xFE0F, font_inherited},
    {0xFE20, 0xFE2F, font_inherited}, {0xFE70, 0xFEFC, "Arab"},
    {0xFF21, 0xFF3A, "Latn"},         {0xFF41, 0xFF5A, "Latn"},
    {0xFF66, 0xFF6F, "Kana"},         {0xFF71, 0xFF9D, "Kana"},
    {0xFFA0, 0xFFDC, "Hang"},         {0x1B000, 0x1B11F, "Kana"},
    {0x20000, 0x323AF, "Hani"},       {0xE0100, 0xE01EF, font_inherited},
};

const char *font_script_of(uint32_t cp)
{
    size_t lo = 0, hi = sizeof font_scripts / sizeof font_scripts[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < font_scripts[mid].lo)
            hi = mid;
        else if (cp > font_scripts[mid].hi)
            lo = mid + 1;
        else
            return font_scripts[mid].tag;
    }
    return font_common;
}

bool font_script_is_real(const char *tag)
{
    return strcmp(tag, font_common) != 0 && strcmp(tag, font_inherited) != 0;
}
