/*
 * font: font sets and line rasterisation (edge module: SDL2_ttf with
 * HarfBuzz, fontconfig, fribidi through font_bidi.c).
 *
 * A headline can mix scripts no single font covers (a Latin label, an
 * Arabic title, a Japanese place name), so a line is cut into pieces that
 * each have one direction, one script, one font and one colour. Each piece
 * is shaped and rasterised by SDL2_ttf on its own, then the pieces are
 * copied side by side, in visual order and on a common baseline, into one
 * surface. SDL2_ttf cannot do any of the cutting itself: it shapes a whole
 * string with one font, one direction and one script.
 */
#include "font.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <SDL_ttf.h>
#include <fontconfig/fontconfig.h>

#include "font_config.h"
#include "log.h"
#include "unicode.h"
#include "util.h"

/* Open TTF_Fonts cost a FreeType face, a HarfBuzz font and a glyph cache
 * each; fontconfig's sorted list has ~150 entries on a stock Debian, of
 * which a headline touches a handful. */
#define FONT_MAX_OPEN 32
/* Direct-mapped cache of the per-code-point font choice (power of two). */
#define FONT_PICK_CACHE 1024
/* Sanity bound on the size: a typo in the config must not ask FreeType
 * for a glyph cache of gigabytes. */
#define FONT_MAX_PX 2000

struct font_face {
    char *path;
    int index;
    FcCharSet *charset;
    TTF_Font *ttf; /* NULL until first used, or after eviction */
    uint64_t last_use;
    bool broken; /* failed to open: never chosen again */
};

struct font_pick_slot {
    uint32_t cp; /* UINT32_MAX: empty (not a code point) */
    int face;    /* -1: no font has it */
};

struct font_set {
    char *name;
    int size;
    struct font_face *faces; /* [0] is the main font, then fallbacks */
    size_t nfaces, capfaces;
    size_t nopen;
    uint64_t clock;
    int height, ascent;
    bool warned_missing;
    struct font_pick_slot picks[FONT_PICK_CACHE];
};

/* One piece of a laid-out line: a logical range of its code points. */
struct font_piece {
    size_t start, end;
    int face;
    bool rtl;
    const char *script;
    SDL_Color color;
    char *utf8;
    int w, h;
};

struct font_line {
    uint32_t *cp;
    SDL_Color *color;
    size_t n;
    struct font_piece *pieces; /* visual order, left to right */
    size_t npieces;
};

/* Font sets are used by one thread each (the text worker's, a test's),
 * but they share SDL_ttf's one FreeType library and its init count: opening
 * and closing faces, TTF_Init and TTF_Quit are serialised here. Glyph
 * loading and shaping on distinct faces need no lock (FreeType's rule). */
static pthread_mutex_t font_lock = PTHREAD_MUTEX_INITIALIZER;
/* Every fontconfig call that touches its process-wide configuration
 * (FcInit, font_config_init, matching and sorting). */
static pthread_mutex_t font_fc_lock = PTHREAD_MUTEX_INITIALIZER;

static atomic_uint_least64_t font_raster_count;
/* initial-exec: no lazy TLS allocation (which would call malloc). */
static __thread uint64_t font_thread_raster_count __attribute__((tls_model("initial-exec")));

uint64_t font_rasterisations(void)
{
    return atomic_load_explicit(&font_raster_count, memory_order_relaxed);
}

uint64_t font_thread_rasterisations(void)
{
    return font_thread_raster_count;
}

/* ---- font set ---------------------------------------------------------- */

static void font_set_add_face(struct font_set *fs, const char *path, int index,
                              const FcCharSet *charset)
{
    for (size_t i = 0; i < fs->nfaces; i++)
        if (fs->faces[i].index == index && strcmp(fs->faces[i].path, path) == 0)
            return;
    if (fs->nfaces == fs->capfaces) {
        fs->capfaces = fs->capfaces ? fs->capfaces * 2 : 16;
        fs->faces = kt_realloc(fs->faces, fs->capfaces * sizeof *fs->faces);
    }
    struct font_face *f = &fs->faces[fs->nfaces++];
    memset(f, 0, sizeof *f);
    f->path = kt_strdup(path);
    f->index = index;
    /* Copies, because the patterns they come from are freed right away. */
    f->charset = charset ? FcCharSetCopy((FcCharSet *)charset) : FcCharSetCreate();
}

/* Fontconfig compares family names ignoring case and blanks. */
static bool font_family_equal(const char *a, const char *b)
{
    for (;;) {
        while (*a == ' ')
            a++;
        while (*b == ' ')
            b++;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
        if (!*a)
            return true;
        a++;
        b++;
    }
}

/* Fontconfig's generic families: whatever it prefers for them is right. */
static bool font_family_generic(const char *fam)
{
    static const char *const generic[] = {"sans-serif", "sans",    "serif",   "monospace",
                                          "mono",       "cursive", "fantasy", "system-ui",
                                          "emoji",      "math"};
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (font_family_equal(fam, generic[i]))
            return true;
    return false;
}

/* FcFontSort always returns something, falling back on generic families,
 * so "is the font installed" means: the best match bears one of the
 * families the user asked for, or one fontconfig's configuration binds to
 * it as strongly (metric aliases: Arial -> Liberation Sans); the fallbacks
 * it appends are bound weakly. A pattern naming a generic family or none
 * (":lang=ar") is satisfied by whatever matches best. */
static bool font_pattern_found(FcPattern *want, FcPattern *got)
{
    bool named = false;
    FcValue v;
    FcValueBinding b;
    for (int i = 0; FcPatternGetWithBinding(want, FC_FAMILY, i, &v, &b) == FcResultMatch; i++) {
        if (b != FcValueBindingStrong || v.type != FcTypeString)
            continue;
        if (font_family_generic((const char *)v.u.s))
            return true;
        named = true;
        FcChar8 *fam;
        for (int j = 0; FcPatternGetString(got, FC_FAMILY, j, &fam) == FcResultMatch; j++)
            if (font_family_equal((const char *)fam, (const char *)v.u.s))
                return true;
    }
    return !named;
}

static void font_face_from_pattern(struct font_set *fs, FcPattern *p)
{
    FcChar8 *file;
    FcCharSet *cs;
    int index = 0;
    if (FcPatternGetString(p, FC_FILE, 0, &file) != FcResultMatch)
        return;
    if (FcPatternGetCharSet(p, FC_CHARSET, 0, &cs) != FcResultMatch)
        return;
    FcPatternGetInteger(p, FC_INDEX, 0, &index);
    font_set_add_face(fs, (const char *)file, index, cs);
}

/* Appends fontconfig's sorted list for the pattern. trim = FcTrue keeps
 * only fonts that add coverage, which is all a fallback list needs. With
 * main_from_it, the first entry is the main font and must be one the
 * pattern asked for. */
static int font_set_add_sorted(struct font_set *fs, FcPattern *p, bool main_from_it, char *err,
                               size_t errlen)
{
    FcPatternDel(p, FC_PIXEL_SIZE);
    FcPatternAddDouble(p, FC_PIXEL_SIZE, fs->size);
    FcConfigSubstitute(NULL, p, FcMatchPattern);
    FcDefaultSubstitute(p);
    FcResult res;
    FcFontSet *set = FcFontSort(NULL, p, FcTrue, NULL, &res);
    int rc = 0;
    if (!set || set->nfont == 0 || (main_from_it && !font_pattern_found(p, set->fonts[0]))) {
        rc = kt_error(err, errlen, "font \"%s\": not found", fs->name);
    } else {
        for (int i = 0; i < set->nfont; i++)
            font_face_from_pattern(fs, set->fonts[i]);
        if (main_from_it && fs->nfaces == 0)
            rc = kt_error(err, errlen, "font \"%s\": not found", fs->name);
    }
    if (set)
        FcFontSetDestroy(set);
    return rc;
}

static int font_set_from_file(struct font_set *fs, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return kt_error(err, errlen, "font \"%s\": not found", path);
    int count = 0;
    FcPattern *q = FcFreeTypeQuery((const FcChar8 *)path, 0, NULL, &count);
    if (!q)
        return kt_error(err, errlen, "font \"%s\": not found (not a font file)", path);
    FcCharSet *cs = NULL;
    FcPatternGetCharSet(q, FC_CHARSET, 0, &cs);
    font_set_add_face(fs, path, 0, cs);

    /* Fallbacks in the style of the file's font, so a bold main font gets
     * bold fallbacks. Never fatal: the file alone is usable. */
    FcPattern *p = FcPatternCreate();
    FcChar8 *fam;
    int iv;
    if (FcPatternGetString(q, FC_FAMILY, 0, &fam) == FcResultMatch)
        FcPatternAddString(p, FC_FAMILY, fam);
    FcPatternAddString(p, FC_FAMILY, (const FcChar8 *)"sans-serif");
    if (FcPatternGetInteger(q, FC_WEIGHT, 0, &iv) == FcResultMatch)
        FcPatternAddInteger(p, FC_WEIGHT, iv);
    if (FcPatternGetInteger(q, FC_SLANT, 0, &iv) == FcResultMatch)
        FcPatternAddInteger(p, FC_SLANT, iv);
    font_set_add_sorted(fs, p, false, NULL, 0);
    FcPatternDestroy(p);
    FcPatternDestroy(q);
    return 0;
}

static int font_set_from_pattern(struct font_set *fs, const char *spec, char *err, size_t errlen)
{
    FcPattern *p = FcNameParse((const FcChar8 *)spec);
    if (!p)
        return kt_error(err, errlen, "font \"%s\": not found (bad fontconfig pattern)", spec);
    int rc = font_set_add_sorted(fs, p, true, err, errlen);
    FcPatternDestroy(p);
    return rc;
}

static void font_face_close(struct font_set *fs, struct font_face *f)
{
    if (f->ttf) {
        pthread_mutex_lock(&font_lock);
        TTF_CloseFont(f->ttf);
        pthread_mutex_unlock(&font_lock);
        f->ttf = NULL;
        fs->nopen--;
    }
}

/* The face's TTF_Font, opened on first use; NULL if it cannot be opened. */
static TTF_Font *font_face_get(struct font_set *fs, int i)
{
    struct font_face *f = &fs->faces[i];
    f->last_use = ++fs->clock;
    if (f->ttf || f->broken)
        return f->ttf;
    if (fs->nopen >= FONT_MAX_OPEN) {
        /* Evict the least recently used fallback; callers fetch the font
         * again for every piece, so nothing holds on to an evicted one. */
        struct font_face *lru = NULL;
        for (size_t k = 1; k < fs->nfaces; k++) {
            struct font_face *c = &fs->faces[k];
            if (c->ttf && c != f && (!lru || c->last_use < lru->last_use))
                lru = c;
        }
        if (lru)
            font_face_close(fs, lru);
    }
    pthread_mutex_lock(&font_lock);
    f->ttf = TTF_OpenFontIndex(f->path, fs->size, f->index);
    pthread_mutex_unlock(&font_lock);
    if (!f->ttf) {
        f->broken = true;
        kt_log_warn("font: cannot open %s: %s", f->path, TTF_GetError());
        return NULL;
    }
    fs->nopen++;
    /* Light hinting snaps only vertically: crisp stems on a low-resolution
     * screen without distorting the glyph shapes HarfBuzz positioned. */
    TTF_SetFontHinting(f->ttf, TTF_HINTING_LIGHT);
    TTF_SetFontKerning(f->ttf, 1);
    return f->ttf;
}

/* The ticker's fontconfig setup (font_config.h) before a font is looked
 * up: its kiosk-ticker.conf and the application font directories
 * (/etc/kiosk-ticker/fonts, PREFIX/share/kiosk-ticker/fonts,
 * $KT_FONT_DIRS), read again when one changed (a font dropped in), so the
 * next font opened (a reload) finds it. A configuration that does not load
 * is said once; the system's is used then. */
static void font_setup(void)
{
    static char said[KT_ERR_MAX]; /* under font_fc_lock */
    char err[KT_ERR_MAX] = "";
    if (font_config_init(NULL, err, sizeof err) < 0 && strcmp(err, said) != 0)
        kt_log_warn("%s", err);
    snprintf(said, sizeof said, "%s", err);
}

struct font_set *font_set_open(const char *spec, int size_px, char *err, size_t errlen)
{
    if (!spec || !*spec) {
        kt_error(err, errlen, "font: no font name given");
        return NULL;
    }
    if (size_px <= 0 || size_px > FONT_MAX_PX) {
        kt_error(err, errlen, "font \"%s\": bad size %d px", spec, size_px);
        return NULL;
    }
    /* Reference counted since SDL_ttf 2.0.18: each set holds one. */
    pthread_mutex_lock(&font_lock);
    int ttf = TTF_Init();
    pthread_mutex_unlock(&font_lock);
    if (ttf < 0) {
        kt_error(err, errlen, "font \"%s\": SDL_ttf: %s", spec, TTF_GetError());
        return NULL;
    }
    struct font_set *fs = kt_calloc(1, sizeof *fs);
    fs->name = kt_strdup(spec);
    fs->size = size_px;
    for (size_t i = 0; i < FONT_PICK_CACHE; i++)
        fs->picks[i].cp = UINT32_MAX;

    /* Fontconfig's configuration is one per process and set up here, and
     * two text workers (headlines, alerts) may open fonts at once: every
     * lookup is serialised. Opening a font is rare (a new look); the
     * glyph coverage checks after it read each set's own charsets. */
    pthread_mutex_lock(&font_fc_lock);
    int rc;
    if (!FcInit()) {
        rc = kt_error(err, errlen, "font \"%s\": fontconfig failed to initialise", spec);
    } else {
        font_setup();
        rc = strchr(spec, '/') ? font_set_from_file(fs, spec, err, errlen)
                               : font_set_from_pattern(fs, spec, err, errlen);
    }
    pthread_mutex_unlock(&font_fc_lock);
    if (rc == 0) {
        TTF_Font *main_font = font_face_get(fs, 0);
        if (!main_font) {
            rc = kt_error(err, errlen, "font \"%s\": cannot open %s: %s", spec, fs->faces[0].path,
                          TTF_GetError());
        } else {
            fs->height = TTF_FontHeight(main_font);
            fs->ascent = TTF_FontAscent(main_font);
        }
    }
    if (rc != 0) {
        font_set_close(fs);
        return NULL;
    }
    kt_log_debug("font: \"%s\" is %s (%d px), %zu fallback fonts", spec, fs->faces[0].path, size_px,
                 fs->nfaces - 1);
    return fs;
}

void font_set_close(struct font_set *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->nfaces; i++) {
        font_face_close(fs, &fs->faces[i]);
        pthread_mutex_lock(&font_fc_lock);
        FcCharSetDestroy(fs->faces[i].charset);
        pthread_mutex_unlock(&font_fc_lock);
        free(fs->faces[i].path);
    }
    free(fs->faces);
    free(fs->name);
    free(fs);
    pthread_mutex_lock(&font_lock);
    TTF_Quit();
    pthread_mutex_unlock(&font_lock);
}

int font_set_line_height(const struct font_set *fs)
{
    return fs->height;
}

const char *font_set_main_path(const struct font_set *fs)
{
    return fs->faces[0].path;
}

static bool font_face_has(struct font_set *fs, int i, uint32_t cp)
{
    return !fs->faces[i].broken && FcCharSetHasChar(fs->faces[i].charset, cp);
}

/* First font of the list that has the code point, -1 if none. */
static int font_pick(struct font_set *fs, uint32_t cp)
{
    struct font_pick_slot *slot = &fs->picks[(cp ^ (cp >> 10)) & (FONT_PICK_CACHE - 1)];
    if (slot->cp == cp && (slot->face < 0 || !fs->faces[slot->face].broken))
        return slot->face;
    int found = -1;
    for (size_t i = 0; i < fs->nfaces && found < 0; i++) {
        if (!font_face_has(fs, (int)i, cp))
            continue;
        /* Opening now finds a broken file before it is relied upon. */
        if (font_face_get(fs, (int)i))
            found = (int)i;
    }
    slot->cp = cp;
    slot->face = found;
    return found;
}

bool font_set_covers(struct font_set *fs, uint32_t cp)
{
    return font_pick(fs, cp) >= 0;
}

const char *font_set_font_for(struct font_set *fs, uint32_t cp, int *face_index)
{
    int i = font_pick(fs, cp);
    if (i < 0)
        return NULL;
    if (face_index)
        *face_index = fs->faces[i].index;
    return fs->faces[i].path;
}

/* ---- layout ------------------------------------------------------------ */

/* Format characters that steer the bidi algorithm or hint line breaking
 * but have no business in a shaped single line: fribidi sees them, the
 * pieces do not. */
static bool font_is_ignorable(uint32_t cp)
{
    return cp == 0x00AD || cp == 0x200B || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}

/* Joiners and variation selectors modify their neighbour inside the
 * shaper, so they must stay in the neighbour's piece whatever the fonts
 * claim to cover. */
static bool font_is_joiner(uint32_t cp)
{
    return cp == 0x200C || cp == 0x200D || (cp >= 0xFE00 && cp <= 0xFE0F) ||
           (cp >= 0xE0100 && cp <= 0xE01EF);
}

/* The spans' text as code points with their colours, control characters
 * removed (white-space controls become spaces so words stay apart). */
static void font_line_decode(struct font_line *ln, const struct text_span *spans, size_t n)
{
    size_t cap = 0;
    for (size_t i = 0; i < n; i++)
        cap += spans[i].text ? strlen(spans[i].text) : 0;
    ln->cp = kt_malloc((cap + 1) * sizeof *ln->cp);
    ln->color = kt_malloc((cap + 1) * sizeof *ln->color);
    ln->n = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = spans[i].text;
        if (!s)
            continue;
        /* invalid input becomes U+FFFD, one per bad byte, so a broken
         * feed still shows everything around the damage */
        for (size_t at = 0, len = strlen(s); at < len;) {
            uint32_t c;
            size_t adv = uni_decode(s + at, len - at, &c);
            if (c == UNI_INVALID) {
                c = 0xFFFD;
                adv = 1;
            }
            at += adv;
            if (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
                c = ' ';
            else if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
                continue;
            ln->cp[ln->n] = c;
            ln->color[ln->n] = spans[i].color;
            ln->n++;
        }
    }
}

static void font_line_free(struct font_line *ln)
{
    for (size_t i = 0; i < ln->npieces; i++)
        free(ln->pieces[i].utf8);
    free(ln->pieces);
    free(ln->cp);
    free(ln->color);
    memset(ln, 0, sizeof *ln);
}

static bool font_color_equal(SDL_Color a, SDL_Color b)
{
    return a.r == b.r && a.g == b.g && a.b == b.b && a.a == b.a;
}

/* Script of every code point, Common and Inherited ones resolved to the
 * run they stand in (the previous real script at the same bidi level,
 * else the next one), so punctuation and spaces never split a run. */
static void font_resolve_scripts(const struct font_line *ln, const uint8_t *level, const bool *ign,
                                 const char **scr)
{
    const char *last = NULL;
    int last_level = -1;
    for (size_t i = 0; i < ln->n; i++) {
        scr[i] = font_script_of(ln->cp[i]);
        if (ign[i])
            continue;
        if (level[i] != last_level) {
            last = NULL;
            last_level = level[i];
        }
        if (font_script_is_real(scr[i]))
            last = scr[i];
        else if (last)
            scr[i] = last;
    }
    last = NULL;
    last_level = -1;
    for (size_t i = ln->n; i-- > 0;) {
        if (ign[i])
            continue;
        if (level[i] != last_level) {
            last = NULL;
            last_level = level[i];
        }
        if (font_script_is_real(scr[i]))
            last = scr[i];
        else if (last)
            scr[i] = last;
    }
    for (size_t i = 0; i < ln->n; i++)
        if (!font_script_is_real(scr[i]))
            scr[i] = "Zyyy";
}

/* Font of every code point. Letters take the first font that has them;
 * shared characters (spaces, digits, punctuation, marks) stay in the font
 * of the text before them, else after them, when it has them, so "東京、"
 * keeps its comma in the Japanese font and a space between two Arabic
 * words does not cut the Arabic piece in two. */
static void font_resolve_faces(struct font_set *fs, const struct font_line *ln, const bool *ign,
                               int *face)
{
    const uint32_t *cp = ln->cp;
    /* -1: shared character, decided below; -2: a letter no font has. */
    for (size_t i = 0; i < ln->n; i++) {
        face[i] = -1;
        if (ign[i] || !font_script_is_real(font_script_of(cp[i])))
            continue;
        int f = font_pick(fs, cp[i]);
        face[i] = f >= 0 ? f : -2;
    }
    int prev = -1;
    for (size_t i = 0; i < ln->n; i++) {
        if (ign[i])
            continue;
        if (face[i] == -1 && prev >= 0 && (font_is_joiner(cp[i]) || font_face_has(fs, prev, cp[i])))
            face[i] = prev;
        if (face[i] >= 0)
            prev = face[i];
    }
    int next = -1;
    for (size_t i = ln->n; i-- > 0;) {
        if (ign[i])
            continue;
        if (face[i] == -1 && next >= 0 && (font_is_joiner(cp[i]) || font_face_has(fs, next, cp[i])))
            face[i] = next;
        if (face[i] >= 0)
            next = face[i];
    }
    for (size_t i = 0; i < ln->n; i++) {
        if (ign[i] || face[i] >= 0)
            continue;
        face[i] = font_pick(fs, cp[i]);
        if (face[i] < 0) {
            /* Tofu is unavoidable; say so once per set, not per frame. */
            if (!fs->warned_missing)
                kt_log_debug("font: no installed font has U+%04X; drawing it with %s",
                             (unsigned)cp[i], fs->faces[0].path);
            fs->warned_missing = true;
            face[i] = 0;
        }
    }
}

/* Cuts the spans into pieces of one bidi level, script, font and colour,
 * in visual order. Returns 0, or -1 when nothing is left to draw. */
static int font_layout(struct font_set *fs, const struct text_span *spans, size_t nspans,
                       struct font_line *ln)
{
    memset(ln, 0, sizeof *ln);
    font_line_decode(ln, spans, nspans);
    size_t n = ln->n;
    if (n == 0)
        return -1;

    uint8_t *level = kt_malloc(n);
    bool *ign = kt_malloc(n * sizeof *ign);
    const char **scr = kt_malloc(n * sizeof *scr);
    int *face = kt_malloc(n * sizeof *face);
    font_bidi_levels(ln->cp, n, level);

    size_t first = n;
    for (size_t i = 0; i < n; i++) {
        ign[i] = font_is_ignorable(ln->cp[i]);
        if (!ign[i] && first == n)
            first = i;
    }
    if (first == n) {
        free(level);
        free(ign);
        free(scr);
        free(face);
        return -1;
    }
    font_resolve_scripts(ln, level, ign, scr);
    font_resolve_faces(fs, ln, ign, face);

    /* Ignorable characters ride along with their neighbour so they never
     * cut a piece (fribidi may give them a level of their own). */
    for (size_t i = 0; i < n; i++) {
        if (!ign[i])
            continue;
        size_t from = i < first ? first : i - 1;
        level[i] = level[from];
        scr[i] = scr[from];
        face[i] = face[from];
        ln->color[i] = ln->color[from];
    }

    /* Logical runs, then their visual order. */
    struct font_piece *runs = kt_malloc(n * sizeof *runs);
    uint8_t *run_level = kt_malloc(n);
    size_t nruns = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && level[i] == level[i - 1] && face[i] == face[i - 1] &&
            strcmp(scr[i], scr[i - 1]) == 0 && font_color_equal(ln->color[i], ln->color[i - 1])) {
            runs[nruns - 1].end = i + 1;
            continue;
        }
        runs[nruns] = (struct font_piece){.start = i,
                                          .end = i + 1,
                                          .face = face[i],
                                          .rtl = level[i] & 1,
                                          .script = scr[i],
                                          .color = ln->color[i]};
        run_level[nruns++] = level[i];
    }
    size_t *order = kt_malloc(nruns * sizeof *order);
    font_bidi_order(run_level, nruns, order);

    ln->pieces = kt_malloc(nruns * sizeof *ln->pieces);
    struct kt_buf b;
    kt_buf_init(&b);
    for (size_t k = 0; k < nruns; k++) {
        struct font_piece p = runs[order[k]];
        /* Logical order even for right-to-left pieces: HarfBuzz reverses
         * them itself when told the direction. */
        for (size_t i = p.start; i < p.end; i++)
            if (!ign[i])
                uni_buf_put(&b, ln->cp[i]);
        if (b.len == 0)
            continue;
        p.utf8 = kt_buf_steal(&b);
        ln->pieces[ln->npieces++] = p;
    }
    kt_buf_free(&b);
    free(order);
    free(run_level);
    free(runs);
    free(level);
    free(ign);
    free(scr);
    free(face);
    return ln->npieces ? 0 : -1;
}

/* The piece's font, set up for its direction and script. Falls back on
 * the main font if the piece's own one cannot be opened any more. */
static TTF_Font *font_piece_font(struct font_set *fs, struct font_piece *p)
{
    TTF_Font *f = font_face_get(fs, p->face);
    if (!f) {
        p->face = 0;
        f = font_face_get(fs, 0);
    }
    if (!f)
        return NULL;
    TTF_SetFontDirection(f, p->rtl ? TTF_DIRECTION_RTL : TTF_DIRECTION_LTR);
    TTF_SetFontScriptName(f, p->script);
    return f;
}

static int font_line_measure(struct font_set *fs, struct font_line *ln)
{
    int total = 0;
    for (size_t k = 0; k < ln->npieces; k++) {
        struct font_piece *p = &ln->pieces[k];
        TTF_Font *f = font_piece_font(fs, p);
        p->w = p->h = 0;
        if (!f || TTF_SizeUTF8(f, p->utf8, &p->w, &p->h) < 0)
            p->w = p->h = 0;
        total += p->w;
    }
    return total;
}

int font_measure_line(struct font_set *fs, const struct text_span *spans, size_t n)
{
    struct font_line ln;
    int w = 0;
    if (font_layout(fs, spans, n, &ln) == 0)
        w = font_line_measure(fs, &ln);
    font_line_free(&ln);
    return w;
}

/* Row of the font's top (ascent line) in a surface SDL_ttf rendered for
 * the piece. SDL_ttf grows the surface beyond the font height when a glyph
 * sticks out, shifting the baseline down if it sticks out at the top, and
 * does not say which; the glyph metrics tell. */
static int font_piece_top(TTF_Font *f, const struct font_line *ln, const struct font_piece *p,
                          int h)
{
    int height = TTF_FontHeight(f), ascent = TTF_FontAscent(f);
    int excess = h - height;
    if (excess <= 0)
        return 0;
    int above = 0, below = 0;
    for (size_t i = p->start; i < p->end; i++) {
        int miny, maxy;
        if (TTF_GlyphMetrics32(f, ln->cp[i], NULL, NULL, &miny, &maxy, NULL) < 0)
            continue;
        if (maxy - ascent > above)
            above = maxy - ascent;
        if (-miny - (height - ascent) > below)
            below = -miny - (height - ascent);
    }
    if (below <= 0)
        return excess;
    if (above <= 0)
        return 0;
    return above < excess ? above : excess;
}

/* Straight-alpha "over" of src onto dst at (x, y), clipped. Pieces do
 * not overlap, so in practice this copies; SDL's own BLEND blit would
 * instead multiply colours by alpha against the transparent background
 * and leave dark fringes once the strip is blended onto the screen. */
static void font_composite(SDL_Surface *dst, SDL_Surface *src, int x, int y)
{
    for (int sy = 0; sy < src->h; sy++) {
        int dy = y + sy;
        if (dy < 0 || dy >= dst->h)
            continue;
        const uint32_t *s = (const uint32_t *)((const uint8_t *)src->pixels + sy * src->pitch);
        uint32_t *d = (uint32_t *)((uint8_t *)dst->pixels + dy * dst->pitch);
        for (int sx = 0; sx < src->w; sx++) {
            int dx = x + sx;
            if (dx < 0 || dx >= dst->w)
                continue;
            uint32_t sp = s[sx], dp = d[dx];
            uint32_t sa = sp >> 24, da = dp >> 24;
            if (sa == 0)
                continue;
            if (sa == 255 || da == 0) {
                d[dx] = sp;
                continue;
            }
            uint32_t dw = da * (255 - sa) / 255; /* dst weight */
            uint32_t oa = sa + dw;
            uint32_t out = oa << 24;
            for (int sh = 0; sh < 24; sh += 8) {
                uint32_t sc = (sp >> sh) & 0xFF, dc = (dp >> sh) & 0xFF;
                out |= ((sc * sa + dc * dw + oa / 2) / oa) << sh;
            }
            d[dx] = out;
        }
    }
}

SDL_Surface *font_render_line(struct font_set *fs, const struct text_span *spans, size_t n,
                              char *err, size_t errlen)
{
    atomic_fetch_add_explicit(&font_raster_count, 1, memory_order_relaxed);
    font_thread_raster_count++;
    struct font_line ln;
    SDL_Surface *out = NULL;
    if (font_layout(fs, spans, n, &ln) != 0) {
        kt_error(err, errlen, "font: nothing to draw");
        goto done;
    }
    int width = font_line_measure(fs, &ln);
    if (width <= 0) {
        kt_error(err, errlen, "font: nothing to draw");
        goto done;
    }
    out = SDL_CreateRGBSurfaceWithFormat(0, width, fs->height, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!out) {
        kt_error(err, errlen, "font: %d x %d surface: %s", width, fs->height, SDL_GetError());
        goto done;
    }
    SDL_FillRect(out, NULL, 0);
    SDL_SetSurfaceBlendMode(out, SDL_BLENDMODE_BLEND);
    int x = 0;
    for (size_t k = 0; k < ln.npieces; k++) {
        struct font_piece *p = &ln.pieces[k];
        if (p->w <= 0)
            continue;
        TTF_Font *f = font_piece_font(fs, p);
        SDL_Surface *s = f ? TTF_RenderUTF8_Blended(f, p->utf8, p->color) : NULL;
        if (s && s->format->format != SDL_PIXELFORMAT_ARGB8888) {
            SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
            SDL_FreeSurface(s);
            s = c;
        }
        if (!s) {
            /* A piece SDL_ttf measured but cannot draw: leave its gap
             * rather than lose the whole headline. */
            kt_log_debug("font: cannot draw \"%s\": %s", p->utf8, TTF_GetError());
        } else {
            int top = font_piece_top(f, &ln, p, s->h);
            SDL_LockSurface(s);
            font_composite(out, s, x, fs->ascent - TTF_FontAscent(f) - top);
            SDL_UnlockSurface(s);
            SDL_FreeSurface(s);
        }
        x += p->w;
    }
done:
    font_line_free(&ln);
    return out;
}

/* ---- --check ---- */

static enum font_check font_check_bad(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum font_check font_check_bad(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return FONT_CHECK_BAD;
}

enum font_check font_check(const char *spec, int size_px, char *file, size_t filelen, char *why,
                           size_t whylen)
{
    if (filelen)
        file[0] = '\0';
    if (!spec || !spec[strspn(spec, " \t")])
        return font_check_bad(why, whylen,
                              "empty (give a fontconfig pattern such as DejaVu Sans:bold, "
                              "or a font file path)");
    bool path = strchr(spec, '/') != NULL;
    if (path) {
        /* Regular file first: opening a FIFO would block. */
        struct stat st;
        if (stat(spec, &st) != 0)
            return font_check_bad(why, whylen, "%s: %s", spec, strerror(errno));
        if (!S_ISREG(st.st_mode))
            return font_check_bad(why, whylen, "%s: not a regular file", spec);
        FILE *f = fopen(spec, "rb");
        if (!f)
            return font_check_bad(why, whylen, "%s: %s", spec, strerror(errno));
        fclose(f);
        if (!FcInit())
            return font_check_bad(why, whylen, "fontconfig failed to initialise");
        int count = 0;
        FcPattern *q = FcFreeTypeQuery((const FcChar8 *)spec, 0, NULL, &count);
        if (!q)
            return font_check_bad(why, whylen, "%s is not a font file FreeType can read", spec);
        FcPatternDestroy(q);
    }
    /* Then exactly what the screen does with it. */
    char err[KT_ERR_MAX];
    struct font_set *fs = font_set_open(spec, size_px, err, sizeof err);
    if (fs) {
        snprintf(file, filelen, "%s", font_set_main_path(fs));
        font_set_close(fs);
        return FONT_CHECK_OK;
    }
    if (path)
        return font_check_bad(why, whylen, "%s", err);
    FcPattern *p = FcNameParse((const FcChar8 *)spec);
    if (!p)
        return font_check_bad(why, whylen, "\"%s\" is not a fontconfig pattern", spec);
    FcConfigSubstitute(NULL, p, FcMatchPattern);
    FcDefaultSubstitute(p);
    FcResult res;
    FcPattern *m = FcFontMatch(NULL, p, &res);
    FcPatternDestroy(p);
    FcChar8 *fam = NULL, *mfile = NULL;
    if (!m || FcPatternGetString(m, FC_FILE, 0, &mfile) != FcResultMatch) {
        if (m)
            FcPatternDestroy(m);
        return font_check_bad(why, whylen, "\"%s\": no installed font matches it", spec);
    }
    FcPatternGetString(m, FC_FAMILY, 0, &fam);
    snprintf(file, filelen, "%s", (const char *)mfile);
    kt_error(why, whylen,
             "\"%s\" is not installed (fontconfig's nearest match is \"%s\", %s); the screen "
             "uses a fallback font",
             spec, fam ? (const char *)fam : "?", (const char *)mfile);
    FcPatternDestroy(m);
    return FONT_CHECK_FALLBACK;
}
