/*
 * test_font: src/font*.c against the real SDL2_ttf, HarfBuzz, fribidi,
 * fontconfig and the fonts the project installs for tests (DejaVu, Noto,
 * Noto CJK). Every rendering is checked pixel by pixel against what
 * SDL2_ttf draws when called directly with the settings the module is
 * supposed to use, so the tests fail if the module picks the wrong font,
 * direction, script, order or position.
 *
 * Set KT_FONT_DUMP=dir to also write the rendered lines there as .bmp.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <dirent.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "font.h"
#include "tap.h"

#define SIZE 24

static const SDL_Color WHITE = {255, 255, 255, 255};
static const SDL_Color YELLOW = {255, 204, 0, 255};
static const SDL_Color CYAN = {0, 170, 255, 255};

/* ---- helpers ----------------------------------------------------------- */

static uint32_t px(const SDL_Surface *s, int x, int y)
{
    return ((const uint32_t *)((const uint8_t *)s->pixels + y * s->pitch))[x];
}

static int ink(const SDL_Surface *s)
{
    int n = 0;
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++)
            n += (px(s, x, y) >> 24) != 0;
    return n;
}

/* Renders text directly with SDL2_ttf: the reference the module's output
 * must equal. script NULL leaves the font's script unset (HarfBuzz then
 * shapes without script-specific rules). */
static SDL_Surface *direct(const char *path, int index, const char *text, SDL_Color c,
                           TTF_Direction dir, const char *script, int *ascent)
{
    TTF_Font *f = TTF_OpenFontIndex(path, SIZE, index);
    if (!f) {
        fprintf(stderr, "cannot open %s: %s\n", path, TTF_GetError());
        return NULL;
    }
    TTF_SetFontHinting(f, TTF_HINTING_LIGHT);
    TTF_SetFontKerning(f, 1);
    TTF_SetFontDirection(f, dir);
    if (script)
        TTF_SetFontScriptName(f, script);
    SDL_Surface *s = TTF_RenderUTF8_Blended(f, text, c);
    if (ascent)
        *ascent = TTF_FontAscent(f);
    TTF_CloseFont(f);
    return s;
}

/* Pixels of got (from gx) that differ from want (from wx), over w columns
 * and all rows, want shifted down by dy. Two pixels are the same when both
 * are transparent or all four channels are within tol. Pixels of got
 * outside want count as different when they have ink. */
static int diff_region(const SDL_Surface *got, int gx, const SDL_Surface *want, int wx, int w,
                       int dy, int tol)
{
    int bad = 0;
    for (int y = 0; y < got->h; y++) {
        for (int x = 0; x < w; x++) {
            uint32_t g = (gx + x < got->w) ? px(got, gx + x, y) : 0;
            int wy = y - dy;
            uint32_t e = (wy >= 0 && wy < want->h && wx + x < want->w) ? px(want, wx + x, wy) : 0;
            if ((g >> 24) == 0 && (e >> 24) == 0)
                continue;
            for (int sh = 0; sh < 32; sh += 8) {
                int d = (int)((g >> sh) & 0xFF) - (int)((e >> sh) & 0xFF);
                if (d > tol || d < -tol) {
                    bad++;
                    break;
                }
            }
        }
    }
    return bad;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void dump(const SDL_Surface *s, const char *name)
{
    const char *dir = getenv("KT_FONT_DUMP");
    if (!dir || !s)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.bmp", dir, name);
    SDL_SaveBMP((SDL_Surface *)s, path);
}

/* Font files this process has open: SDL2_ttf keeps one descriptor per
 * open font, so this is how many fonts are open. */
static int open_font_files(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char link[300], target[1024];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(link, target, sizeof target - 1);
        if (k <= 4)
            continue;
        target[k] = '\0';
        const char *ext = target + k - 4;
        n += strcmp(ext, ".ttf") == 0 || strcmp(ext, ".ttc") == 0 || strcmp(ext, ".otf") == 0;
    }
    closedir(d);
    return n;
}

static uint32_t utf8_next(const char **ps)
{
    const unsigned char *s = (const unsigned char *)*ps;
    uint32_t c = s[0];
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > 1)
        c &= 0xFF >> (n + 1);
    for (int i = 1; i < n; i++)
        c = (c << 6) | (s[i] & 0x3F);
    *ps += n;
    return c;
}

static SDL_Surface *render1(struct font_set *fs, const char *text, SDL_Color c)
{
    struct text_span sp = {text, c};
    char err[256] = "";
    SDL_Surface *s = font_render_line(fs, &sp, 1, err, sizeof err);
    if (!s)
        fprintf(stderr, "font_render_line(\"%s\"): %s\n", text, err);
    return s;
}

static int measure1(struct font_set *fs, const char *text)
{
    struct text_span sp = {text, WHITE};
    return font_measure_line(fs, &sp, 1);
}

/* ---- tests ------------------------------------------------------------- */

static void test_script_and_bidi(void)
{
    CHECK_STR(font_script_of('a'), "Latn");
    CHECK_STR(font_script_of(' '), "Zyyy");
    CHECK_STR(font_script_of('7'), "Zyyy");
    CHECK_STR(font_script_of(0x0645), "Arab");
    CHECK_STR(font_script_of(0x060C), "Zyyy"); /* Arabic comma, shared with Syriac */
    CHECK_STR(font_script_of(0x064E), "Zinh"); /* fatha */
    CHECK_STR(font_script_of(0x05E9), "Hebr");
    CHECK_STR(font_script_of(0x0416), "Cyrl");
    CHECK_STR(font_script_of(0x03A9), "Grek");
    CHECK_STR(font_script_of(0x0928), "Deva");
    CHECK_STR(font_script_of(0x0964), "Zyyy"); /* danda */
    CHECK_STR(font_script_of(0x6771), "Hani");
    CHECK_STR(font_script_of(0x3067), "Hira");
    CHECK_STR(font_script_of(0x30AB), "Kana");
    CHECK_STR(font_script_of(0x30FC), "Zyyy"); /* long vowel mark */
    CHECK_STR(font_script_of(0xD55C), "Hang");
    CHECK_STR(font_script_of(0x0E01), "Thai");
    CHECK_STR(font_script_of(0x0301), "Zinh");
    CHECK_STR(font_script_of(0x1F600), "Zyyy");
    CHECK(!font_script_is_real("Zyyy"));
    CHECK(font_script_is_real("Arab"));

    /* "ab CD ef" with C, D Hebrew: LTR paragraph, Hebrew at level 1. */
    uint32_t t[] = {'a', 'b', ' ', 0x05D0, 0x05D1, ' ', 'e', 'f'};
    uint8_t lev[8];
    CHECK_INT(font_bidi_levels(t, 8, lev), 0);
    CHECK_INT(lev[0], 0);
    CHECK_INT(lev[2], 0);
    CHECK_INT(lev[3], 1);
    CHECK_INT(lev[4], 1);
    CHECK_INT(lev[5], 0);
    /* Hebrew first: RTL paragraph, Latin at level 2, trailing space at the
     * paragraph level (rule L1). */
    uint32_t r[] = {0x05D0, ' ', 'a', 'b', ' '};
    uint8_t rl[5];
    CHECK_INT(font_bidi_levels(r, 5, rl), 1);
    CHECK_INT(rl[0], 1);
    CHECK_INT(rl[2], 2);
    CHECK_INT(rl[4], 1);

    /* Rule L1: white space at the end of the line goes back to the
     * paragraph level even inside an unterminated embedding (RLE). */
    uint32_t e[] = {'a', ' ', 0x202B, 'b', 'c', ' '};
    uint8_t el[6];
    CHECK_INT(font_bidi_levels(e, 6, el), 0);
    CHECK_INT(el[3], 2);
    CHECK_INT(el[4], 2);
    CHECK_INT(el[5], 0);

    uint8_t runs[] = {0, 1, 2, 1, 0};
    size_t order[5];
    font_bidi_order(runs, 5, order);
    size_t want[] = {0, 3, 2, 1, 4};
    for (int i = 0; i < 5; i++)
        CHECK_INT(order[i], want[i]);
    uint8_t rtl_runs[] = {1, 2, 1};
    font_bidi_order(rtl_runs, 3, order);
    CHECK_INT(order[0], 2);
    CHECK_INT(order[1], 1);
    CHECK_INT(order[2], 0);
}

/* 1. Latin with DejaVu Sans: the module's output is exactly SDL2_ttf's. */
static void test_latin(struct font_set *fs)
{
    const char *text = "Hello, World \xe2\x80\x94 AVATAR Ty";
    const char *path = font_set_main_path(fs);
    CHECK(strstr(path, "DejaVuSans.ttf") != NULL);

    uint64_t before = font_rasterisations();
    int w = measure1(fs, text);
    CHECK_INT(font_rasterisations(), before); /* measuring does not count */
    SDL_Surface *s = render1(fs, text, WHITE);
    CHECK_INT(font_rasterisations(), before + 1);
    CHECK(s != NULL);
    if (!s)
        return;
    dump(s, "latin");
    CHECK_INT(s->format->format, SDL_PIXELFORMAT_ARGB8888);
    SDL_BlendMode bm;
    SDL_GetSurfaceBlendMode(s, &bm);
    CHECK_INT(bm, SDL_BLENDMODE_BLEND);
    CHECK_INT(s->h, font_set_line_height(fs));
    CHECK_INT(s->w, w);
    CHECK(ink(s) > 300);
    CHECK(ink(s) < s->w * s->h / 2); /* the background stays transparent */

    int asc;
    SDL_Surface *ref = direct(path, 0, text, WHITE, TTF_DIRECTION_LTR, "Latn", &asc);
    CHECK(ref != NULL);
    if (ref) {
        CHECK_INT(ref->h, font_set_line_height(fs));
        CHECK_INT(s->w, ref->w);
        CHECK_INT(diff_region(s, 0, ref, 0, s->w, 0, 0), 0);
        SDL_FreeSurface(ref);
    }
    SDL_FreeSurface(s);

    /* Control characters are dropped, white-space ones become spaces. */
    SDL_Surface *a = render1(fs,
                             "A\x01"
                             "B\tC\x7f",
                             WHITE);
    SDL_Surface *b = render1(fs, "AB C", WHITE);
    CHECK(a && b);
    if (a && b) {
        CHECK_INT(a->w, b->w);
        CHECK_INT(diff_region(a, 0, b, 0, a->w, 0, 0), 0);
    }
    SDL_FreeSurface(a);
    SDL_FreeSurface(b);

    /* Invalid UTF-8 shows as U+FFFD, one per bad byte, never swallowing
     * the text after it. */
    a = render1(fs,
                "a\xff"
                "b\xc0\xaf"
                "c\xe6\x9d",
                WHITE);
    b = render1(fs,
                "a\xef\xbf\xbd"
                "b\xef\xbf\xbd\xef\xbf\xbd"
                "c\xef\xbf\xbd\xef\xbf\xbd",
                WHITE);
    CHECK(a && b);
    if (a && b) {
        CHECK_INT(a->w, b->w);
        CHECK_INT(diff_region(a, 0, b, 0, a->w, 0, 0), 0);
    }
    SDL_FreeSurface(a);
    SDL_FreeSurface(b);

    /* Nothing to draw is an error, not an empty surface. */
    char err[128] = "";
    struct text_span empty = {"\x01\xe2\x80\x8f", WHITE}; /* control + RLM */
    CHECK(font_render_line(fs, &empty, 1, err, sizeof err) == NULL);
    CHECK(err[0] != '\0');
    CHECK_INT(font_measure_line(fs, &empty, 1), 0);
}

#define AR_HELLO "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7"                 /* مرحبا */
#define AR_WORLD "\xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85" /* بالعالم */
#define AR_TEXT AR_HELLO " " AR_WORLD

static int alpha_at(const SDL_Surface *s, int x, int y)
{
    if (x < 0 || y < 0 || x >= s->w || y >= s->h)
        return 0;
    return (int)(px(s, x, y) >> 24);
}

/* Like diff_region on alpha only, but a pixel also matches its neighbour
 * one column left or right: a word shaped inside a longer run starts at a
 * different sub-pixel position, and SDL2_ttf rounds each glyph to whole
 * pixels, so single glyphs may land one column apart. */
static int diff_slop(const SDL_Surface *got, int gx, const SDL_Surface *want, int dy)
{
    int bad = 0;
    for (int y = 0; y < got->h; y++) {
        for (int x = 0; x < want->w; x++) {
            int g = alpha_at(got, gx + x, y), e = alpha_at(want, x, y - dy);
            if (g == 0 && e == 0)
                continue;
            int ok = 0;
            for (int k = -1; k <= 1 && !ok; k++) {
                int d1 = g - alpha_at(want, x + k, y - dy);
                int d2 = e - alpha_at(got, gx + x + k, y);
                ok = (d1 <= 40 && d1 >= -40) || (d2 <= 40 && d2 >= -40);
            }
            bad += !ok;
        }
    }
    return bad;
}

/* Best horizontal match of want inside got: the x with the fewest
 * differing pixels. */
static int best_x(const SDL_Surface *got, const SDL_Surface *want, int dy, int *bad)
{
    int bx = -1, bb = 1 << 30;
    for (int x = 0; x + want->w <= got->w; x++) {
        int d = diff_slop(got, x, want, dy);
        if (d < bb)
            bb = d, bx = x;
    }
    *bad = bb;
    return bx;
}

/* 2. Arabic: shaped right to left with the Arabic script, fed in logical
 * order, and equal to SDL2_ttf's own RTL rendering. */
static void test_arabic(struct font_set *fs)
{
    int index = -1;
    const char *path = font_set_font_for(fs, 0x0645, &index);
    CHECK(path != NULL);
    if (!path)
        return;
    /* Every letter comes from that font, so one direct rendering is the
     * whole expected picture. */
    for (const char *p = AR_TEXT; *p;) {
        uint32_t c = utf8_next(&p);
        int i2 = -1;
        const char *p2 = font_set_font_for(fs, c, &i2);
        CHECK(p2 && strcmp(p2, path) == 0 && i2 == index);
    }
    SDL_Surface *got = render1(fs, AR_TEXT, WHITE);
    CHECK(got != NULL);
    if (!got)
        return;
    dump(got, "arabic");
    CHECK_INT(got->h, font_set_line_height(fs));
    CHECK_INT(got->w, measure1(fs, AR_TEXT));

    int asc;
    SDL_Surface *ref = direct(path, index, AR_TEXT, WHITE, TTF_DIRECTION_RTL, "Arab", &asc);
    CHECK(ref != NULL);
    if (!ref)
        return;
    /* Baseline of the font aligned to the main font's. */
    TTF_Font *mainf = TTF_OpenFont(font_set_main_path(fs), SIZE);
    int dy = TTF_FontAscent(mainf) - asc;
    TTF_CloseFont(mainf);
    CHECK_INT(got->w, ref->w);
    int bad = diff_region(got, 0, ref, 0, got->w, dy, 2);
    CHECK(bad <= ink(ref) / 100);
    if (bad > ink(ref) / 100)
        fprintf(stderr, "arabic: %d pixels differ from SDL2_ttf RTL/Arab\n", bad);

    /* The naive rendering (left to right, no script: isolated letters in
     * logical order) must look different, or this test proves nothing. */
    SDL_Surface *naive = direct(path, index, AR_TEXT, WHITE, TTF_DIRECTION_LTR, NULL, NULL);
    CHECK(naive != NULL);
    if (naive) {
        int w = got->w > naive->w ? got->w : naive->w;
        int d = diff_region(got, 0, naive, 0, w, dy, 2);
        CHECK(d > ink(ref) / 4);
        SDL_FreeSurface(naive);
    }

    /* Order, checked independently of the full reference: the logically
     * first word is drawn at the right, the second at the left. */
    SDL_Surface *w1 = direct(path, index, AR_HELLO, WHITE, TTF_DIRECTION_RTL, "Arab", NULL);
    SDL_Surface *w2 = direct(path, index, AR_WORLD, WHITE, TTF_DIRECTION_RTL, "Arab", NULL);
    CHECK(w1 && w2);
    if (w1 && w2) {
        int b1, b2;
        int x1 = best_x(got, w1, dy, &b1);
        int x2 = best_x(got, w2, dy, &b2);
        CHECK(b1 <= ink(w1) / 50);
        CHECK(b2 <= ink(w2) / 50);
        CHECK(x1 + w1->w >= got->w - 2);
        CHECK(x2 <= 2);
    }
    SDL_FreeSurface(w1);
    SDL_FreeSurface(w2);
    SDL_FreeSurface(ref);
    SDL_FreeSurface(got);
}

/* Runs drawn in the right visual order (rule L2), with shared characters
 * kept in the font of the text around them. */
static void test_order(struct font_set *fs)
{
    int index = -1, asc;
    const char *ar = font_set_font_for(fs, 0x0645, &index);
    const char *dejavu = font_set_main_path(fs);
    CHECK(ar != NULL);
    if (!ar)
        return;
    TTF_Font *mainf = TTF_OpenFont(dejavu, SIZE);
    int main_asc = TTF_FontAscent(mainf);
    TTF_CloseFont(mainf);
    SDL_Surface *hello = direct(ar, index, AR_HELLO, WHITE, TTF_DIRECTION_RTL, "Arab", &asc);
    SDL_Surface *world = direct(ar, index, AR_WORLD, WHITE, TTF_DIRECTION_RTL, "Arab", NULL);
    SDL_Surface *year = direct(dejavu, 0, "2025", WHITE, TTF_DIRECTION_LTR, "Zyyy", NULL);
    SDL_Surface *news = direct(dejavu, 0, "news", WHITE, TTF_DIRECTION_LTR, "Latn", NULL);
    CHECK(hello && world && year && news);
    if (!(hello && world && year && news))
        return;
    int dy = main_asc - asc, b1, b2, b3;

    /* LTR line, RTL run with a number inside: the number stays LTR and
     * sits between the two Arabic words, which swap sides. */
    SDL_Surface *s = render1(fs, "Label: " AR_HELLO " 2025 " AR_WORLD, WHITE);
    CHECK(s != NULL);
    if (s) {
        dump(s, "order-number");
        int xh = best_x(s, hello, dy, &b1), xy = best_x(s, year, 0, &b2),
            xw = best_x(s, world, dy, &b3);
        CHECK(b1 <= ink(hello) / 50 && b2 == 0 && b3 <= ink(world) / 50);
        CHECK(xw < xy);
        CHECK(xy < xh);
        SDL_FreeSurface(s);
    }

    /* Arabic first: a right-to-left line; the Latin word goes left. */
    s = render1(fs, AR_HELLO " " AR_WORLD " news", WHITE);
    CHECK(s != NULL);
    if (s) {
        dump(s, "order-rtl");
        int xh = best_x(s, hello, dy, &b1), xn = best_x(s, news, 0, &b2),
            xw = best_x(s, world, dy, &b3);
        CHECK(b1 <= ink(hello) / 50 && b2 == 0 && b3 <= ink(world) / 50);
        CHECK(xn < xw);
        CHECK(xw < xh);
        CHECK(xh + hello->w >= s->w - 2);
        SDL_FreeSurface(s);
    }

    /* A colour change inside Arabic cuts it into two RTL pieces: the
     * logically first (yellow) one is still drawn on the right. */
    struct text_span sp[3] = {{"News ", WHITE}, {AR_HELLO " ", YELLOW}, {AR_WORLD, CYAN}};
    char err[128];
    s = font_render_line(fs, sp, 3, err, sizeof err);
    CHECK(s != NULL);
    if (s) {
        dump(s, "order-colour");
        int ymin = s->w, cmax = -1;
        for (int y = 0; y < s->h; y++)
            for (int x = 0; x < s->w; x++) {
                uint32_t p = px(s, x, y);
                if ((p >> 24) && (p & 0xFFFFFF) == 0xFFCC00u && x < ymin)
                    ymin = x;
                if ((p >> 24) && (p & 0xFFFFFF) == 0x00AAFFu && x > cmax)
                    cmax = x;
            }
        CHECK(cmax >= 0 && ymin < s->w);
        CHECK(cmax < ymin);
        SDL_FreeSurface(s);
    }
    SDL_FreeSurface(hello);
    SDL_FreeSurface(world);
    SDL_FreeSurface(year);
    SDL_FreeSurface(news);

    /* Hebrew, checked letter by letter: the first letter (shin) is drawn
     * right of the last (final mem). */
    const char *he = font_set_font_for(fs, 0x05E9, &index);
    SDL_Surface *shin = direct(he, index, "\xd7\xa9", WHITE, TTF_DIRECTION_RTL, "Hebr", &asc);
    SDL_Surface *mem = direct(he, index, "\xd7\x9d", WHITE, TTF_DIRECTION_RTL, "Hebr", NULL);
    s = render1(fs, "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", WHITE);
    CHECK(shin && mem && s);
    if (shin && mem && s) {
        int xs = best_x(s, shin, main_asc - asc, &b1), xm = best_x(s, mem, main_asc - asc, &b2);
        CHECK(b1 == 0 && b2 == 0);
        CHECK(xm < xs);
    }
    SDL_FreeSurface(shin);
    SDL_FreeSurface(mem);
    SDL_FreeSurface(s);

    /* The space and the ideographic comma between CJK words stay in the
     * CJK font (DejaVu has a space of another width), so the line equals
     * the CJK font drawing it alone. */
    const char *cjk_text = "\xe6\x9d\xb1\xe4\xba\xac \xe5\xa4\xa7\xe9\x98\xaa\xe3\x80\x81"
                           "\xe4\xba\xac\xe9\x83\xbd"; /* 東京 大阪、京都 */
    const char *cjk = font_set_font_for(fs, 0x6771, &index);
    SDL_Surface *ref = direct(cjk, index, cjk_text, WHITE, TTF_DIRECTION_LTR, "Hani", &asc);
    s = render1(fs, cjk_text, WHITE);
    CHECK(ref && s);
    if (ref && s) {
        dump(s, "cjk-space");
        CHECK_INT(s->w, ref->w);
        CHECK(diff_region(s, 0, ref, 0, s->w, main_asc - asc, 2) <= ink(ref) / 100);
    }
    SDL_FreeSurface(ref);
    SDL_FreeSurface(s);

    /* Punctuation and space after CJK stay in the CJK font even though the
     * Latin word after them is in DejaVu: "東京, " | "Tokyo". */
    const char *tail = "\xe6\x9d\xb1\xe4\xba\xac, Tokyo";
    SDL_Surface *left =
        direct(cjk, index, "\xe6\x9d\xb1\xe4\xba\xac, ", WHITE, TTF_DIRECTION_LTR, "Hani", &asc);
    SDL_Surface *right = direct(dejavu, 0, "Tokyo", WHITE, TTF_DIRECTION_LTR, "Latn", NULL);
    s = render1(fs, tail, WHITE);
    CHECK(left && right && s);
    if (left && right && s) {
        CHECK_INT(s->w, left->w + right->w);
        CHECK(diff_region(s, 0, left, 0, left->w, main_asc - asc, 2) <= ink(left) / 100);
        CHECK_INT(diff_region(s, left->w, right, 0, right->w, 0, 0), 0);
    }
    SDL_FreeSurface(left);
    SDL_FreeSurface(right);
    SDL_FreeSurface(s);
}

/* A variation selector no font's character map lists stays with its base
 * character, so HarfBuzz sees the pair and picks the variant glyph
 * (Noto Sans CJK JP draws 葛 + VS17 differently from plain 葛). */
static void test_variation_selector(struct font_set *fs)
{
    const char *seq = "\xe8\x91\x9b\xf3\xa0\x84\x80"; /* U+845B U+E0100 */
    int index = -1, asc;
    const char *cjk = font_set_font_for(fs, 0x845B, &index);
    CHECK(cjk != NULL);
    if (!cjk)
        return;
    CHECK(!font_set_covers(fs, 0xE0100)); /* premise: no font lists it */
    SDL_Surface *ref = direct(cjk, index, seq, WHITE, TTF_DIRECTION_LTR, "Hani", &asc);
    SDL_Surface *plain = direct(cjk, index, "\xe8\x91\x9b", WHITE, TTF_DIRECTION_LTR, "Hani", NULL);
    SDL_Surface *s = render1(fs, seq, WHITE);
    CHECK(ref && plain && s);
    if (ref && plain && s) {
        TTF_Font *mainf = TTF_OpenFont(font_set_main_path(fs), SIZE);
        int dy = TTF_FontAscent(mainf) - asc;
        TTF_CloseFont(mainf);
        CHECK(diff_region(ref, 0, plain, 0, ref->w, 0, 0) > 20); /* premise */
        CHECK_INT(s->w, ref->w);
        CHECK_INT(diff_region(s, 0, ref, 0, s->w, dy, 2), 0);
    }
    SDL_FreeSurface(ref);
    SDL_FreeSurface(plain);
    SDL_FreeSurface(s);
}

/* A glyph taller than the font (Vietnamese capital with two accents)
 * makes SDL2_ttf grow its surface at the top, moving the baseline down;
 * the line keeps the baseline where the font puts it and clips the top. */
static void test_tall(struct font_set *fs)
{
    const char *text = "\xe1\xba\xa4 Vi\xe1\xbb\x87t"; /* Ấ Việt */
    SDL_Surface *ref =
        direct(font_set_main_path(fs), 0, text, WHITE, TTF_DIRECTION_LTR, "Latn", NULL);
    /* Premise: "Việt" alone does not grow the surface, so only the top did. */
    SDL_Surface *low = direct(font_set_main_path(fs), 0, "Vi\xe1\xbb\x87t", WHITE,
                              TTF_DIRECTION_LTR, "Latn", NULL);
    SDL_Surface *s = render1(fs, text, WHITE);
    CHECK(ref && low && s);
    if (ref && low && s) {
        int h = font_set_line_height(fs);
        CHECK_INT(low->h, h);
        CHECK(ref->h > h);
        CHECK_INT(s->h, h);
        CHECK_INT(s->w, ref->w);
        CHECK_INT(diff_region(s, 0, ref, 0, s->w, -(ref->h - h), 0), 0);
    }
    SDL_FreeSurface(ref);
    SDL_FreeSurface(low);
    SDL_FreeSurface(s);
}

/* 3. A Latin label and a mixed Latin/Arabic title in another colour. */
static void test_mixed(struct font_set *fs)
{
    const char *label = "News ";
    const char *title = "Cairo: " AR_TEXT " today";
    for (const char *t = label; *t;)
        CHECK(font_set_covers(fs, utf8_next(&t)));
    for (const char *t = title; *t;)
        CHECK(font_set_covers(fs, utf8_next(&t)));

    struct text_span sp[2] = {{label, YELLOW}, {title, CYAN}};
    char err[256] = "";
    SDL_Surface *s = font_render_line(fs, sp, 2, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "mixed: %s\n", err);
        return;
    }
    dump(s, "mixed-label");
    CHECK_INT(s->h, font_set_line_height(fs));
    CHECK_INT(s->w, font_measure_line(fs, sp, 2));

    int label_w = measure1(fs, label);
    int yellow = 0, cyan = 0, other = 0, yellow_max_x = -1, cyan_min_x = s->w;
    for (int y = 0; y < s->h; y++) {
        for (int x = 0; x < s->w; x++) {
            uint32_t p = px(s, x, y);
            if ((p >> 24) == 0)
                continue;
            uint32_t rgb = p & 0xFFFFFF;
            if (rgb == 0xFFCC00u) {
                yellow++;
                if (x > yellow_max_x)
                    yellow_max_x = x;
            } else if (rgb == 0x00AAFFu) {
                cyan++;
                if (x < cyan_min_x)
                    cyan_min_x = x;
            } else {
                other++;
            }
        }
    }
    CHECK(yellow > 50);
    CHECK(cyan > 200);
    CHECK_INT(other, 0);
    CHECK(yellow_max_x < label_w);
    CHECK(cyan_min_x >= label_w);

    /* The Arabic comes right after "News Cairo: ", shaped right to left,
     * and " today" after it: an LTR line with one RTL run. */
    int x0 = label_w + measure1(fs, "Cairo: ");
    int index = -1, asc;
    const char *path = font_set_font_for(fs, 0x0645, &index);
    SDL_Surface *ar = direct(path, index, AR_TEXT, CYAN, TTF_DIRECTION_RTL, "Arab", &asc);
    SDL_Surface *today =
        direct(font_set_main_path(fs), 0, " today", CYAN, TTF_DIRECTION_LTR, "Latn", NULL);
    CHECK(ar && today);
    if (ar && today) {
        TTF_Font *mainf = TTF_OpenFont(font_set_main_path(fs), SIZE);
        int dy = TTF_FontAscent(mainf) - asc;
        TTF_CloseFont(mainf);
        CHECK_INT(diff_region(s, x0, ar, 0, ar->w, dy, 2), 0);
        CHECK_INT(s->w, x0 + ar->w + today->w);
        CHECK_INT(diff_region(s, x0 + ar->w, today, 0, today->w, 0, 0), 0);
    }
    SDL_FreeSurface(ar);
    SDL_FreeSurface(today);
    SDL_FreeSurface(s);
}

/* Ink bitmap of the glyph DejaVu Sans draws for a character it lacks. */
struct tofu {
    int w, h;
    uint8_t a[64 * 64];
};

static int tofu_make(const char *dejavu, struct tofu *t)
{
    /* U+10FFFD: private use, in no installed font. */
    SDL_Surface *s = direct(dejavu, 0, "\xf4\x8f\xbf\xbd", WHITE, TTF_DIRECTION_LTR, "Zyyy", NULL);
    if (!s)
        return -1;
    int x0 = s->w, y0 = s->h, x1 = -1, y1 = -1;
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++)
            if (px(s, x, y) >> 24) {
                x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
            }
    t->w = x1 - x0 + 1, t->h = y1 - y0 + 1;
    if (x1 < 0 || t->w > 64 || t->h > 64) {
        SDL_FreeSurface(s);
        return -1;
    }
    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++)
            t->a[y * 64 + x] = px(s, x0 + x, y0 + y) >> 24;
    SDL_FreeSurface(s);
    return 0;
}

/* Number of places where the tofu box appears (alpha within 8) in s. */
static int tofu_count(const SDL_Surface *s, const struct tofu *t)
{
    int n = 0;
    for (int y = 0; y + t->h <= s->h; y++) {
        for (int x = 0; x + t->w <= s->w; x++) {
            int same = 1;
            for (int ty = 0; ty < t->h && same; ty++)
                for (int tx = 0; tx < t->w && same; tx++) {
                    int d = (int)(px(s, x + tx, y + ty) >> 24) - t->a[ty * 64 + tx];
                    same = d <= 8 && d >= -8;
                }
            n += same;
        }
    }
    return n;
}

/* 4. Scripts DejaVu Sans lacks (or has) come from fallback fonts, with
 * real glyphs. Three independent checks per text:
 *  - FreeType's own cmap of the chosen font file has every character
 *    (fontconfig's charset is what the module trusts; this is a second
 *    opinion from a different library);
 *  - the module's picture equals SDL2_ttf drawing the text with that font
 *    directly, so the fallback font really is what is drawn;
 *  - DejaVu's tofu box, cut out of a rendering of a character no font
 *    has, appears nowhere in the picture, while it does appear in a naive
 *    rendering of the same text with DejaVu alone (so the detector works).
 */
static void test_fallback(struct font_set *fs)
{
    struct {
        const char *name, *text;
        const char *script;
        TTF_Direction dir;
        int needs_fallback;
    } cases[] = {
        {"cjk", "\xe6\x9d\xb1\xe4\xba\xac\xe3\x81\xa7\xe4\xbc\x9a\xe8\xad\xb0", "Hani",
         TTF_DIRECTION_LTR, 1}, /* 東京で会議 */
        {"devanagari", "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87",
         "Deva", TTF_DIRECTION_LTR, 1}, /* नमस्ते */
        {"hebrew", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", "Hebr", TTF_DIRECTION_RTL, 0}, /* שלום */
    };
    const char *dejavu = font_set_main_path(fs);
    struct tofu tofu;
    CHECK(tofu_make(dejavu, &tofu) == 0);
    TTF_Font *dv = TTF_OpenFont(dejavu, SIZE);
    int main_asc = TTF_FontAscent(dv);

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *text = cases[k].text;
        uint32_t first = 0;
        const char *t = text;
        first = utf8_next(&t);
        int index = -1;
        const char *path = font_set_font_for(fs, first, &index);
        CHECK(path != NULL);
        if (!path)
            continue;
        if (cases[k].needs_fallback) {
            CHECK(!TTF_GlyphIsProvided32(dv, first)); /* premise: DejaVu lacks it */
            CHECK(strcmp(path, dejavu) != 0);
        }
        TTF_Font *ff = TTF_OpenFontIndex(path, SIZE, index);
        CHECK(ff != NULL);
        for (t = text; *t;) {
            uint32_t c = utf8_next(&t);
            CHECK(font_set_covers(fs, c));
            if (ff)
                CHECK(TTF_GlyphIsProvided32(ff, c));
            int i2 = -1;
            const char *p2 = font_set_font_for(fs, c, &i2);
            CHECK(p2 && strcmp(p2, path) == 0 && i2 == index);
        }
        int asc = ff ? TTF_FontAscent(ff) : 0;
        if (ff)
            TTF_CloseFont(ff);

        SDL_Surface *got = render1(fs, text, WHITE);
        CHECK(got != NULL);
        if (!got)
            continue;
        dump(got, cases[k].name);
        CHECK_INT(got->h, font_set_line_height(fs));
        CHECK_INT(got->w, measure1(fs, text));
        SDL_Surface *ref = direct(path, index, text, WHITE, cases[k].dir, cases[k].script, NULL);
        CHECK(ref != NULL);
        if (ref) {
            CHECK_INT(got->w, ref->w);
            int bad = diff_region(got, 0, ref, 0, got->w, main_asc - asc, 2);
            if (bad > ink(ref) / 100)
                fprintf(stderr, "%s: %d pixels differ from direct rendering\n", cases[k].name, bad);
            CHECK(bad <= ink(ref) / 100);
            SDL_FreeSurface(ref);
        }
        CHECK_INT(tofu_count(got, &tofu), 0);
        if (cases[k].needs_fallback) {
            SDL_Surface *naive = direct(dejavu, 0, text, WHITE, TTF_DIRECTION_LTR, NULL, NULL);
            CHECK(naive && tofu_count(naive, &tofu) > 0);
            SDL_FreeSurface(naive);
        }
        SDL_FreeSurface(got);
    }
    TTF_CloseFont(dv);
}

/* Many scripts in one line need more fonts than the set keeps open at
 * once (32), so fonts are closed and reopened while the line is laid out
 * and drawn; the result must not depend on it. */
static void test_many_fonts(struct font_set *fs)
{
    static const uint32_t cps[] = {
        0x1200,  0x1780,  0x0E01,  0x0F40,  0x1000,  0x0D85,  0x0B95,  0x0C15,  0x0C95,  0x0D15,
        0x0995,  0x0A15,  0x0A95,  0x0B15,  0x13A0,  0x16A0,  0x1820,  0xA000,  0x0780,  0x0710,
        0x0800,  0x0840,  0x1E900, 0x104B0, 0x1B05,  0xA984,  0x1B83,  0x1A00,  0xAA00,  0x1C00,
        0x1900,  0xA500,  0xA6A0,  0x10400, 0x1950,  0x1980,  0xAA80,  0x11005, 0x11083, 0x11103,
        0x11183, 0x11680, 0x2C00,  0x2C80,  0x10330, 0x10380, 0x103A0, 0x10450, 0x10480, 0x10800,
        0x10900, 0x10A00, 0x0905,  0xAC00,  'A'};
    const size_t n = sizeof cps / sizeof cps[0];
    const char *paths[sizeof cps / sizeof cps[0]];
    size_t distinct = 0;
    char text[1024];
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = font_set_font_for(fs, cps[i], NULL);
        CHECK(p != NULL);
        if (!p)
            continue;
        size_t j = 0;
        while (j < distinct && strcmp(paths[j], p) != 0)
            j++;
        if (j == distinct)
            paths[distinct++] = p;
        /* UTF-8 by hand: the test must not share the module's encoder. */
        uint32_t c = cps[i];
        if (c < 0x80) {
            text[len++] = (char)c;
        } else if (c < 0x800) {
            text[len++] = (char)(0xC0 | (c >> 6));
            text[len++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            text[len++] = (char)(0xE0 | (c >> 12));
            text[len++] = (char)(0x80 | ((c >> 6) & 0x3F));
            text[len++] = (char)(0x80 | (c & 0x3F));
        } else {
            text[len++] = (char)(0xF0 | (c >> 18));
            text[len++] = (char)(0x80 | ((c >> 12) & 0x3F));
            text[len++] = (char)(0x80 | ((c >> 6) & 0x3F));
            text[len++] = (char)(0x80 | (c & 0x3F));
        }
        text[len++] = ' ';
    }
    text[len] = '\0';
    CHECK(distinct > 40); /* premise: more than the set keeps open */

    SDL_Surface *a = render1(fs, text, WHITE);
    SDL_Surface *b = render1(fs, text, WHITE);
    CHECK(a && b);
    if (a && b) {
        dump(a, "many-fonts");
        CHECK_INT(a->w, measure1(fs, text));
        CHECK_INT(a->w, b->w);
        CHECK_INT(diff_region(a, 0, b, 0, a->w, 0, 0), 0);
        CHECK(ink(a) > 2000);
    }
    /* Bounded: at most 32 fonts open however many the line needed. */
    int open_files = open_font_files();
    CHECK(open_files > 0);
    CHECK(open_files <= 32);
    SDL_FreeSurface(a);
    SDL_FreeSurface(b);

    /* The main font survives it all. */
    SDL_Surface *s = render1(fs, "Still fine", WHITE);
    SDL_Surface *ref =
        direct(font_set_main_path(fs), 0, "Still fine", WHITE, TTF_DIRECTION_LTR, "Latn", NULL);
    CHECK(s && ref);
    if (s && ref) {
        CHECK_INT(s->w, ref->w);
        CHECK_INT(diff_region(s, 0, ref, 0, s->w, 0, 0), 0);
    }
    SDL_FreeSurface(s);
    SDL_FreeSurface(ref);

    /* A character no font has is drawn as the main font's box, not lost. */
    struct tofu tofu;
    CHECK(!font_set_covers(fs, 0x10FFFD));
    s = render1(fs, "x\xf4\x8f\xbf\xbdx", WHITE);
    CHECK(s != NULL);
    if (s && tofu_make(font_set_main_path(fs), &tofu) == 0)
        CHECK_INT(tofu_count(s, &tofu), 1);
    SDL_FreeSurface(s);
}

/* A mixed Latin/Arabic/CJK headline: the picture for the report, the
 * width contract, and the time budget. */
static void test_headline(struct font_set *fs)
{
    struct text_span sp[2] = {
        {"BBC \xe2\x80\xa2 ", YELLOW},
        {"Summit in Cairo (" AR_TEXT ") opens; Tokyo "
         "\xe6\x9d\xb1\xe4\xba\xac\xe3\x81\xa7\xe4\xbc\x9a\xe8\xad\xb0 "
         "talks on 2025 trade, \xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 and "
         "\xce\x91\xce\xb8\xce\xae\xce\xbd\xce\xb1 join",
         WHITE},
    };
    char err[256] = "";
    SDL_Surface *s = font_render_line(fs, sp, 2, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    dump(s, "headline");
    CHECK_INT(s->w, font_measure_line(fs, sp, 2));
    CHECK(ink(s) > 1000);
    SDL_FreeSurface(s);

    const int runs = 50;
    double t0 = now_ms();
    for (int i = 0; i < runs; i++)
        SDL_FreeSurface(font_render_line(fs, sp, 2, err, sizeof err));
    double per = (now_ms() - t0) / runs;
    printf("# headline of %zu bytes: %.2f ms per rasterisation\n", strlen(sp[1].text), per);
    /* A few ms on a desktop; the bound only catches something pathological
     * like reopening fonts or re-sorting fontconfig on every call. */
    CHECK(per < 40.0);
}

/* 5. Missing fonts fail with an error that names them; files work. */
static void test_open(void)
{
    char err[256] = "";
    CHECK(font_set_open("/nonexistent/font.ttf", SIZE, err, sizeof err) == NULL);
    CHECK(strstr(err, "\"/nonexistent/font.ttf\"") != NULL);
    CHECK(strstr(err, "not found") != NULL);

    err[0] = '\0';
    CHECK(font_set_open("Kiosk Ticker No Such Family", SIZE, err, sizeof err) == NULL);
    CHECK(strstr(err, "Kiosk Ticker No Such Family") != NULL);
    CHECK(strstr(err, "not found") != NULL);

    err[0] = '\0';
    CHECK(font_set_open("DejaVu Sans", 0, err, sizeof err) == NULL);
    CHECK(err[0] != '\0');

    struct font_set *generic = font_set_open("sans-serif", SIZE, err, sizeof err);
    CHECK(generic != NULL);
    font_set_close(generic);

    /* A file path is the main font as is, with fontconfig fallbacks. */
    struct font_set *byname = font_set_open("DejaVu Sans", SIZE, err, sizeof err);
    CHECK(byname != NULL);
    if (!byname)
        return;
    struct font_set *byfile = font_set_open(font_set_main_path(byname), SIZE, err, sizeof err);
    CHECK(byfile != NULL);
    if (byfile) {
        CHECK_STR(font_set_main_path(byfile), font_set_main_path(byname));
        CHECK_INT(font_set_line_height(byfile), font_set_line_height(byname));
        SDL_Surface *a = render1(byname, "Files work", WHITE);
        SDL_Surface *b = render1(byfile, "Files work", WHITE);
        CHECK(a && b);
        if (a && b) {
            CHECK_INT(a->w, b->w);
            CHECK_INT(diff_region(a, 0, b, 0, a->w, 0, 0), 0);
        }
        SDL_FreeSurface(a);
        SDL_FreeSurface(b);
        CHECK(font_set_covers(byfile, 0x6771)); /* 東 from a fallback */
        font_set_close(byfile);
    }
    font_set_close(byname);
}

int main(void)
{
    if (SDL_Init(0) != 0 || TTF_Init() != 0) {
        fprintf(stderr, "SDL init: %s\n", SDL_GetError());
        return 1;
    }
    test_script_and_bidi();
    test_open();

    char err[256] = "";
    struct font_set *fs = font_set_open("DejaVu Sans", SIZE, err, sizeof err);
    CHECK(fs != NULL);
    if (!fs) {
        fprintf(stderr, "DejaVu Sans: %s\n", err);
        return tap_done();
    }
    test_latin(fs);
    test_arabic(fs);
    test_mixed(fs);
    test_order(fs);
    test_variation_selector(fs);
    test_tall(fs);
    test_fallback(fs);
    test_headline(fs);
    test_many_fonts(fs);
    font_set_close(fs);

    TTF_Quit();
    SDL_Quit();
    return tap_done();
}
