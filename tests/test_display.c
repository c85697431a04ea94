/*
 * test_display: the ticker strip drawn for real (SDL software renderer into
 * a surface, dummy video driver for the window loop), checked pixel by
 * pixel: strip placement and colours, scrolling by time, the idle text,
 * live store swaps, label before title, bounded textures with 10,000
 * headlines, no allocation or rasterisation in steady frames, and
 * display_run's screenshot and window loop.
 */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SDL.h>
#include <png.h>

#include "config.h"
#include "display.h"
#include "font.h"
#include "alloc_count.h"
#include "render.h"
#include "render_probe.h"
#include "scroll.h"
#include "store.h"
#include "tap.h"

#define W 640
#define H 200
#define BG 0x203040u
#define FG 0xFFFFFFu
#define LABEL 0xFF0000u

static const char *label_text = "NEWS";

/* ---- fixtures ---- */

/* A PNG file as an ARGB8888 surface (libpng's simplified API). */
static SDL_Surface *load_png(const char *path)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return NULL;
    img.format = SDL_BYTEORDER == SDL_LIL_ENDIAN ? PNG_FORMAT_BGRA : PNG_FORMAT_ARGB;
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, (int)img.width, (int)img.height, 32,
                                                    SDL_PIXELFORMAT_ARGB8888);
    if (!s || !png_image_finish_read(&img, NULL, s->pixels, s->pitch, NULL)) {
        png_image_free(&img);
        SDL_FreeSurface(s);
        return NULL;
    }
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct config *make_cfg(const char *display_lines)
{
    char text[2048];
    snprintf(text, sizeof text,
             "[ticker]\norder = feeds\nmax_items = 100000\n"
             "[feed news]\nurl = /dev/null\nlabel = %s\n"
             "[display]\nmode = window\nsize = %dx%d\nfont = DejaVu Sans:bold\n"
             "font_size = 24\nbackground = #203040\nforeground = #FFFFFF\n"
             "label_color = #FF0000\nsnap_speed = no\n%s",
             label_text, W, H, display_lines);
    char err[512];
    struct config *cfg = config_parse(text, strlen(text), "test", err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        exit(1);
    }
    return cfg;
}

static struct store *make_store(const struct config *cfg)
{
    struct store *s = store_new();
    store_configure(s, cfg, 1000);
    return s;
}

static void set_titles(struct store *s, const char *const *titles, size_t n)
{
    struct store_item *items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].title = (char *)titles[i];
        items[i].published = 0;
    }
    store_replace_items(s, "news", items, n, 1000);
    free(items);
}

static SDL_Surface *make_surface(int w, int h)
{
    return SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
}

static struct render *open_render(SDL_Surface *surf, const struct config *cfg)
{
    char err[512];
    struct render *r = render_open_surface(surf, err, sizeof err);
    if (!r || render_apply(r, &cfg->display, 0, err, sizeof err) < 0) {
        fprintf(stderr, "render: %s\n", err);
        exit(1);
    }
    return r;
}

static uint32_t px(const SDL_Surface *s, int x, int y)
{
    return ((const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * s->pitch))[x] & 0xFFFFFF;
}

static SDL_Surface *copy_surface(SDL_Surface *s)
{
    return SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
}

static int col_equal(const SDL_Surface *a, int xa, const SDL_Surface *b, int xb, int y0, int y1)
{
    for (int y = y0; y < y1; y++)
        if (px(a, xa, y) != px(b, xb, y))
            return 0;
    return 1;
}

/* Channel distance between two RGB values. */
static int rgb_dist(uint32_t a, uint32_t b)
{
    int d = 0;
    for (int sh = 0; sh <= 16; sh += 8)
        d += abs((int)((a >> sh) & 255) - (int)((b >> sh) & 255));
    return d;
}

/* ---- text images: what font_render_line makes of a line, searched for
 * in a frame (blended over the background, as the strip shows it) ---- */

static struct font_set *test_font;

static SDL_Surface *line_image(const char *label, const char *title)
{
    struct text_span sp[3];
    size_t n = 0;
    SDL_Color fg = {255, 255, 255, 255}, lc = {255, 0, 0, 255};
    if (label) {
        sp[n++] = (struct text_span){label, lc};
        sp[n++] = (struct text_span){"  ", fg};
    }
    sp[n++] = (struct text_span){title, fg};
    char err[512];
    SDL_Surface *s = font_render_line(test_font, sp, n, err, sizeof err);
    if (!s) {
        fprintf(stderr, "font_render_line: %s\n", err);
        exit(1);
    }
    SDL_Surface *c = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
    SDL_FreeSurface(s);
    return c;
}

/* Expected frame pixel: the image pixel blended over the background. */
static uint32_t blend_bg(uint32_t argb)
{
    uint32_t a = argb >> 24, out = 0;
    for (int sh = 0; sh <= 16; sh += 8) {
        uint32_t s = (argb >> sh) & 255, d = (BG >> sh) & 255;
        out |= ((s * a + d * (255 - a)) / 255) << sh;
    }
    return out;
}

/* Fewest mismatching pixels of img placed anywhere on row y (wholly on
 * screen), as a fraction of its area; *at gets the x. */
static double find_image(const SDL_Surface *frame, const SDL_Surface *img, int y, int *at)
{
    long area = (long)img->w * img->h, best = area + 1;
    uint32_t *want = malloc((size_t)area * sizeof *want);
    for (int j = 0; j < img->h; j++) {
        const uint32_t *row = (const uint32_t *)((const uint8_t *)img->pixels + j * img->pitch);
        for (int i = 0; i < img->w; i++)
            want[j * img->w + i] = blend_bg(row[i]);
    }
    int best_x = -1;
    for (int x = 0; x + img->w <= frame->w; x++) {
        long bad = 0;
        for (int j = 0; j < img->h && bad < best; j++) {
            const uint32_t *fr =
                (const uint32_t *)((const uint8_t *)frame->pixels + (size_t)(y + j) * frame->pitch);
            for (int i = 0; i < img->w; i++)
                bad += rgb_dist(fr[x + i] & 0xFFFFFF, want[j * img->w + i]) > 24;
        }
        if (bad < best) {
            best = bad;
            best_x = x;
        }
    }
    free(want);
    if (at)
        *at = best_x;
    return (double)best / (double)area;
}

/* ---- 1. strip placement ---- */

static void check_strip(const char *position, int strip_y, int strip_h)
{
    char extra[256];
    snprintf(extra, sizeof extra, "position = %s\nheight = %d\nspeed = 80\n", position, strip_h);
    struct config *cfg = make_cfg(extra);
    struct store *st = make_store(cfg);
    static const char *const titles[] = {"Market closes higher", "Rain expected tomorrow",
                                         "Local team wins the cup"};
    set_titles(st, titles, 3);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, 1.0);

    long outside_non_black = 0, outside_fg = 0, fg = 0, lab = 0, bg = 0;
    int ink_top = H, ink_bottom = -1;
    for (int y = 0; y < H; y++) {
        bool in = y >= strip_y && y < strip_y + strip_h;
        for (int x = 0; x < W; x++) {
            uint32_t p = px(surf, x, y);
            if (!in) {
                outside_non_black += p != 0;
                outside_fg += p == FG;
                continue;
            }
            fg += p == FG;
            lab += p == LABEL;
            bg += p == BG;
            if (p != BG) {
                ink_top = y < ink_top ? y : ink_top;
                ink_bottom = y > ink_bottom ? y : ink_bottom;
            }
        }
    }
    CHECK_INT(outside_non_black, 0);
    CHECK_INT(outside_fg, 0);
    CHECK(fg > 300);
    CHECK(lab > 50);
    CHECK(bg > (long)W * strip_h / 2);
    /* first and last strip rows: background only (text is centred) */
    int edge_ok = 1;
    for (int x = 0; x < W; x++)
        edge_ok &= px(surf, x, strip_y) == BG && px(surf, x, strip_y + strip_h - 1) == BG;
    CHECK(edge_ok);
    /* vertically centred: ink inside the centred line box */
    int line_h = font_set_line_height(test_font);
    int text_y = strip_y + (strip_h - line_h) / 2;
    CHECK(ink_top >= text_y);
    CHECK(ink_bottom < text_y + line_h);
    /* and the ink is not all in one half of the strip */
    CHECK(ink_top < strip_y + strip_h / 2 && ink_bottom >= strip_y + strip_h / 2);

    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
}

static void test_strip_positions(void)
{
    check_strip("bottom", H - 60, 60);
    check_strip("top", 0, 60);

    /* fill: the strip is the whole window, text centred in it */
    struct config *cfg = make_cfg("position = fill\n");
    struct store *st = make_store(cfg);
    static const char *const titles[] = {"Everything fills"};
    set_titles(st, titles, 1);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, 0.5);
    long black = 0, fg = 0;
    int top = H, bottom = -1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint32_t p = px(surf, x, y);
            black += p == 0;
            fg += p == FG;
            if (p != BG) {
                top = y < top ? y : top;
                bottom = y > bottom ? y : bottom;
            }
        }
    CHECK_INT(black, 0);
    CHECK(fg > 100);
    int line_h = font_set_line_height(test_font);
    CHECK(top >= (H - line_h) / 2 && bottom < (H - line_h) / 2 + line_h);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
}

/* ---- 2. one second later: the same picture shifted by speed px ---- */

/* Columns of b (x in [0, W - s)) that differ from a's columns shifted by
 * s in the text's direction (left: b(x) = a(x + s)). */
static int shifted_mismatch(SDL_Surface *a, SDL_Surface *b, int s, bool left, int y0, int y1)
{
    int bad = 0;
    for (int x = 0; x + s < W; x++)
        bad += left ? !col_equal(b, x, a, x + s, y0, y1) : !col_equal(b, x + s, a, x, y0, y1);
    return bad;
}

static void check_shift(const char *direction)
{
    char extra[128];
    snprintf(extra, sizeof extra, "speed = 47\ndirection = %s\n", direction);
    bool left = strcmp(direction, "left") == 0;
    struct config *cfg = make_cfg(extra);
    struct store *st = make_store(cfg);
    static const char *const titles[] = {"Alpha beta gamma", "Delta epsilon", "Zeta eta theta",
                                         "Iota kappa lambda"};
    set_titles(st, titles, 4);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    struct render_geometry g;
    render_get_geometry(r, &g);

    /* 1.1 s and 2.1 s: offsets 51.7 and 98.7 px, sub-pixel on purpose */
    render_frame(r, 1.1);
    SDL_Surface *a = copy_surface(surf);
    render_frame(r, 2.1);
    int y0 = g.strip_y, y1 = g.strip_y + g.strip_h;
    int at47 = shifted_mismatch(a, surf, 47, left, y0, y1);
    int at46 = shifted_mismatch(a, surf, 46, left, y0, y1);
    int at48 = shifted_mismatch(a, surf, 48, left, y0, y1);
    int at0 = shifted_mismatch(a, surf, 0, left, y0, y1);
    /* within a pixel: at most a column or two differ at 47 px */
    CHECK(at47 <= 2);
    /* and it is that shift: neighbours and no shift at all are far off */
    CHECK(at46 > 100 && at48 > 100 && at0 > 100);
    SDL_FreeSurface(a);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
}

static void test_shift(void)
{
    check_shift("left");
    check_shift("right");
}

/* ---- 3. the idle text, only when there are no headlines ---- */

static void test_idle(void)
{
    struct config *cfg = make_cfg("speed = 60\nidle_text = Nothing to show yet\n");
    struct store *st = make_store(cfg);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, 0.1);
    struct render_geometry g;
    render_get_geometry(r, &g);

    long fg = 0;
    for (int y = g.strip_y; y < g.strip_y + g.strip_h; y++)
        for (int x = 0; x < W; x++)
            fg += px(surf, x, y) == FG;
    CHECK(fg > 100);
    SDL_Surface *idle = line_image(NULL, "Nothing to show yet");
    int at;
    double miss = find_image(surf, idle, g.text_y, &at);
    CHECK(miss < 0.01);
    /* where the tape starts: half a line in, minus 0.1 s at 60 px/s */
    CHECK(abs(at - (g.origin - 6)) <= 1);

    /* With a headline in the store the idle text is not shown. */
    static const char *const titles[] = {"Headline arrives"};
    set_titles(st, titles, 1);
    SDL_Surface *surf2 = make_surface(W, H);
    struct render *r2 = open_render(surf2, cfg);
    render_adopt(r2, store_snapshot(st), 0);
    render_frame(r2, 0.1);
    CHECK(find_image(surf2, idle, g.text_y, NULL) > 0.05);
    SDL_Surface *head = line_image(label_text, "Headline arrives");
    CHECK(find_image(surf2, head, g.text_y, NULL) < 0.01);

    SDL_FreeSurface(head);
    SDL_FreeSurface(idle);
    render_close(r2);
    SDL_FreeSurface(surf2);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
}

/* ---- 4. a store swap while scrolling ---- */

static void test_swap(void)
{
    struct config *cfg = make_cfg("speed = 200\n");
    struct store *st = make_store(cfg);
    static const char *const a_titles[] = {"Apple one", "Apple two", "Apple three", "Apple four",
                                           "Apple five"};
    static const char *const b_titles[] = {"Berry first", "Berry second", "Berry third"};
    set_titles(st, a_titles, 5);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    struct render_geometry g;
    render_get_geometry(r, &g);

    const double t = 4.0;
    render_frame(r, t);
    SDL_Surface *before = copy_surface(surf);
    /* the headline entering at t, and the one that would have followed */
    const struct scroll_layout *l = render_layout(r);
    double hi = render_offset(r, t) + W;
    size_t entering = 0;
    for (size_t i = 0; i < l->n; i++)
        if ((double)l->e[i].start < hi)
            entering = l->e[i].index;
    const char *next_a = a_titles[(entering + 1) % 5];

    set_titles(st, b_titles, 3);
    render_adopt(r, store_snapshot(st), t);
    render_frame(r, t);
    /* nothing on screen moved or changed */
    long diff = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            diff += px(surf, x, y) != px(before, x, y);
    CHECK_INT(diff, 0);

    /* Half a second later: the old text moved on by 100 px, unchanged. */
    render_frame(r, t + 0.5);
    int moved_bad = 0;
    for (int x = 0; x + 100 < W; x++)
        moved_bad += !col_equal(surf, x, before, x + 100, g.strip_y, g.strip_y + g.strip_h);
    CHECK(moved_bad <= 1);

    /* Then the new list follows from its first headline (the entering
     * one is not in it), and the old list's next headline never shows. */
    SDL_Surface *b0 = line_image(label_text, b_titles[0]);
    SDL_Surface *an = line_image(label_text, next_a);
    bool b0_seen = false, an_seen = false;
    for (double tt = t + 0.5; tt < t + 12; tt += 0.5) {
        render_frame(r, tt);
        b0_seen |= find_image(surf, b0, g.text_y, NULL) < 0.01;
        an_seen |= find_image(surf, an, g.text_y, NULL) < 0.01;
    }
    CHECK(b0_seen);
    CHECK(!an_seen);
    /* ...and after a while only the new list is on the tape */
    int old_left = 0;
    for (size_t i = 0; i < l->n; i++)
        old_left += l->e[i].list != l->serial;
    CHECK_INT(old_left, 0);

    SDL_FreeSurface(b0);
    SDL_FreeSurface(an);
    SDL_FreeSurface(before);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
}

/* ---- reload: new look, same place ---- */

static void test_reload(void)
{
    struct config *cfg = make_cfg("speed = 100\n");
    struct config *cfg2 = make_cfg("speed = 50\n");
    struct config *cfg3 = make_cfg("speed = 50\nseparator = \" ||| \"\n");
    cfg2->display.foreground = (struct color){255, 255, 0, 255};
    struct store *st = make_store(cfg);
    static const char *const titles[] = {"Reload keeps me", "And me too"};
    set_titles(st, titles, 2);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    struct render_geometry g;
    render_get_geometry(r, &g);

    /* find a headline wholly on screen at t = 2.5 */
    SDL_Surface *white = line_image(label_text, titles[0]);
    SDL_Surface *white1 = line_image(label_text, titles[1]);
    double t = 2.5;
    int at = -1;
    const char *which = titles[0];
    for (; t < 10 && at < 0; t += 0.5) {
        render_frame(r, t);
        int x;
        if (find_image(surf, white, g.text_y, &x) < 0.01)
            at = x;
        else if (find_image(surf, white1, g.text_y, &x) < 0.01)
            at = x, which = titles[1];
    }
    t -= 0.5;
    CHECK(at >= 0);
    double off = render_offset(r, t);

    char err[512];
    CHECK_INT(render_apply(r, &cfg2->display, t, err, sizeof err), 0);
    /* no jump: same offset, same place, now in yellow */
    CHECK(fabs(render_offset(r, t) - off) < 1e-6);
    render_frame(r, t);
    struct text_span sp[3] = {
        {label_text, {255, 0, 0, 255}}, {"  ", {255, 255, 0, 255}}, {which, {255, 255, 0, 255}}};
    SDL_Surface *raw = font_render_line(test_font, sp, 3, err, sizeof err);
    SDL_Surface *yellow = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_ARGB8888, 0);
    int x2;
    CHECK(find_image(surf, yellow, g.text_y, &x2) < 0.01);
    CHECK_INT(x2, at);
    /* and the new speed from there on: 50 px/s */
    CHECK(fabs(render_offset(r, t + 1) - (off + 50)) < 1e-6);
    long white_px = 0;
    for (int y = g.strip_y; y < g.strip_y + g.strip_h; y++)
        for (int x = 0; x < W; x++)
            white_px += px(surf, x, y) == FG;
    CHECK_INT(white_px, 0); /* every text texture was redrawn in the new colour */

    /* A wider separator moves what follows, not the first headline on
     * screen. */
    const struct scroll_layout *l = render_layout(r);
    int64_t first_start = l->e[0].start;
    uint64_t first_id = l->e[0].id;
    int gap = l->gap;
    CHECK_INT(render_apply(r, &cfg3->display, t, err, sizeof err), 0);
    render_frame(r, t);
    CHECK_INT(l->e[0].id, first_id);
    CHECK_INT(l->e[0].start, first_start);
    CHECK(l->gap > gap);
    CHECK(l->n >= 2 && l->e[1].start == l->e[0].start + l->e[0].width + l->gap);

    /* A font that does not open: reported, the old one kept, text shown. */
    free(cfg3->display.font);
    cfg3->display.font = strdup("/nonexistent/font.ttf");
    CHECK_INT(render_apply(r, &cfg3->display, t, err, sizeof err), -1);
    CHECK(strstr(err, "/nonexistent/font.ttf") != NULL);
    render_frame(r, t + 1);
    long fg_px = 0; /* cfg3's foreground is white again */
    for (int y = g.strip_y; y < g.strip_y + g.strip_h; y++)
        for (int x = 0; x < W; x++)
            fg_px += px(surf, x, y) == FG;
    CHECK(fg_px > 200);

    SDL_FreeSurface(raw);
    SDL_FreeSurface(yellow);
    SDL_FreeSurface(white);
    SDL_FreeSurface(white1);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
    config_free(cfg2);
    config_free(cfg3);
}

/* ---- a headline wider than a texture may be: drawn in tiles ---- */

/* The line at time t, drawn with textures no wider than limit px (0: the
 * renderer's own limit), over a translucent background (textures, not the
 * software path's straight copy). Returns a copy of the frame. */
static SDL_Surface *tiled_frame(const struct config *cfg, struct store *st, double t, int limit,
                                size_t *textures)
{
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    if (limit)
        render_limit_texture_width(r, limit);
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, t);
    struct render_stats s;
    render_get_stats(r, &s);
    *textures = s.textures_alive;
    SDL_Surface *copy = copy_surface(surf);
    render_close(r);
    SDL_FreeSurface(surf);
    return copy;
}

static void test_tiles(void)
{
    char title[600] = "";
    for (int i = 0; i < 14; i++)
        strcat(title, i % 2 ? "Lorem ipsum dolor sit amet " : "consectetur adipiscing elit ");
    struct config *cfg = make_cfg("speed = 100\n");
    struct store *st = make_store(cfg);
    const char *titles[] = {title};
    set_titles(st, titles, 1);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    struct render_geometry g;
    render_get_geometry(r, &g);
    SDL_Surface *img = line_image(label_text, title);
    CHECK(img->w > 4096 + W); /* wider than a GPU texture may be (4096) */

    /* Column 4096 in mid-screen: screen x shows image column x + offset -
     * origin; the whole line is there, in one piece. */
    double t = (double)(g.origin + 4096 - W / 2) / 100.0;
    render_frame(r, t);
    int shift = (int)floor(render_offset(r, t)) - g.origin;
    long bad = 0;
    for (int j = 0; j < img->h; j++) {
        const uint32_t *row = (const uint32_t *)((const uint8_t *)img->pixels + j * img->pitch);
        for (int x = 0; x < W; x++)
            bad += rgb_dist(px(surf, x, g.text_y + j), blend_bg(row[x + shift])) > 24;
    }
    CHECK(bad < (long)W * img->h / 100);
    render_close(r);
    SDL_FreeSurface(surf);

    /* Textures: the line in tiles (uploaded one per frame in the kiosk),
     * and tiles of 100 px (a GPU with a tiny limit): the same picture as
     * with the renderer's own tiles, seams included. */
    struct config *cfg2 = make_cfg("speed = 100\n");
    cfg2->display.background.a = 0xC0;
    size_t tex_own, tex_small;
    SDL_Surface *own = tiled_frame(cfg2, st, t, 0, &tex_own);
    SDL_Surface *small = tiled_frame(cfg2, st, t, 100, &tex_small);
    long differ = 0, text = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            differ += px(own, x, y) != px(small, x, y);
            text += px(own, x, y) == FG;
        }
    CHECK_INT(differ, 0);
    CHECK(text > 200);
    /* a screen of 640 px holds at least 7 tiles of 100 px; tiles of
     * 40 KB are fewer but still more than one (the line is ~8,000 px) */
    CHECK(tex_small >= 7);
    CHECK(tex_own >= 2 && tex_own < tex_small);

    SDL_FreeSurface(own);
    SDL_FreeSurface(small);
    SDL_FreeSurface(img);
    store_free(st);
    config_free(cfg);
    config_free(cfg2);
}

/* ---- 5. label before title ---- */

static void check_label_left(const char *direction, int width)
{
    char extra[128];
    snprintf(extra, sizeof extra, "direction = %s\n", direction);
    struct config *cfg = make_cfg(extra);
    struct store *st = make_store(cfg);
    static const char *const titles[] = {"The title comes after"};
    set_titles(st, titles, 1);
    SDL_Surface *surf = make_surface(width, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, 0);
    struct render_geometry g;
    render_get_geometry(r, &g);

    struct text_span sp[3] = {{label_text, {255, 0, 0, 255}},
                              {"  ", {255, 255, 255, 255}},
                              {titles[0], {255, 255, 255, 255}}};
    int ew = font_measure_line(test_font, sp, 3);
    /* At t = 0 the first headline sits half a line from the edge the
     * text leaves by. */
    int x0 = strcmp(direction, "left") == 0 ? g.origin : width - g.origin - ew;
    int label_max = -1, title_min = width, label_n = 0, title_n = 0;
    for (int y = g.strip_y; y < g.strip_y + g.strip_h; y++)
        for (int x = x0; x < x0 + ew; x++) {
            uint32_t p = px(surf, x, y);
            if (p == LABEL) {
                label_n++;
                label_max = x > label_max ? x : label_max;
            } else if (p == FG) {
                title_n++;
                title_min = x < title_min ? x : title_min;
            }
        }
    CHECK(label_n > 50);
    CHECK(title_n > 200);
    CHECK(label_max < title_min);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
}

static void test_label_left(void)
{
    check_label_left("left", W);
    check_label_left("right", 1200);
}

/* ---- 6. 10,000 headlines: textures bounded by the screen ---- */

static void test_many(void)
{
    enum { N = 10000 };
    struct config *cfg = make_cfg("speed = 600\nheight = 40\n");
    struct store *st = make_store(cfg);
    char **titles = calloc(N, sizeof *titles);
    for (int i = 0; i < N; i++) {
        titles[i] = malloc(64);
        snprintf(titles[i], 64, "Headline number %d of the day", i);
    }
    set_titles(st, (const char *const *)titles, N);
    SDL_Surface *surf = make_surface(W, 40);
    struct render *r = open_render(surf, cfg);
    double t0 = now_s();
    const struct store_snapshot *snap = store_snapshot(st);
    CHECK_INT(snap->n, N);
    render_adopt(r, snap, 0);
    render_frame(r, 0);
    fprintf(stderr, "10,000 headlines: adopt + first frame %.1f ms\n", (now_s() - t0) * 1e3);

    /* 60 s at 600 px/s, 30 frames per second: ~36,000 px of tape, about a
     * hundred headlines through the screen. */
    size_t max_alive = 0, max_slots = 0;
    uint64_t ras0 = font_rasterisations();
    for (int k = 0; k <= 1800; k++) {
        render_frame(r, k / 30.0);
        struct render_stats s;
        render_get_stats(r, &s);
        max_alive = s.textures_alive > max_alive ? s.textures_alive : max_alive;
        max_slots = s.slots_alive > max_slots ? s.slots_alive : max_slots;
    }
    struct render_stats s;
    render_get_stats(r, &s);
    uint64_t ras = font_rasterisations() - ras0;
    fprintf(stderr,
            "10,000 headlines: %llu rasterised, at most %zu textures / %zu headlines alive\n",
            (unsigned long long)ras, max_alive, max_slots);
    /* What the screen (640 px) and the look-ahead (half a second, 300 px)
     * can hold at once: their width over the narrowest headline, plus one
     * cut at each end; plus the separator texture. */
    char shortest[64];
    snprintf(shortest, sizeof shortest, "Headline number %d of the day", 0);
    struct text_span sp[3] = {{label_text, {255, 0, 0, 255}},
                              {"  ", {255, 255, 255, 255}},
                              {shortest, {255, 255, 255, 255}}};
    struct text_span sep = {" • ", {255, 255, 255, 255}};
    int adv = font_measure_line(test_font, sp, 3) + font_measure_line(test_font, &sep, 1);
    size_t fit = (size_t)((W + 300) / adv + 2);
    fprintf(stderr, "10,000 headlines: a headline takes >= %d px: at most %zu fit\n", adv, fit);
    CHECK(fit < 10);
    CHECK(max_slots <= fit);
    CHECK(max_alive <= fit + 1);
    CHECK(s.textures_alive <= fit + 1);
    /* and they did scroll through: 36,000 px is at least 36,000 / (adv + 60)
     * headlines (titles here are at most 4 digits, ~60 px, longer) */
    CHECK(ras >= (uint64_t)(36000 / (adv + 60)));
    CHECK_INT(s.textures_created - s.textures_destroyed, s.textures_alive);
    /* measured lazily: only what came near the screen */
    CHECK(render_layout(r)->n_measured < 500);

    render_close(r);
    SDL_FreeSurface(surf);
    for (int i = 0; i < N; i++)
        free(titles[i]);
    free(titles);
    store_free(st);
    config_free(cfg);
}

/* ---- steady frames: no allocation, no rasterisation ---- */

static void test_steady(void)
{
    struct config *cfg = make_cfg("speed = 120\n");
    struct store *st = make_store(cfg);
    static const char *const titles[] = {"One steady headline", "Another steady headline",
                                         "A third one"};
    set_titles(st, titles, 3);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
#ifdef KT_TSAN
    /* TSan has no malloc hook to count with: allocations are counted in the
     * plain and ASan builds; here the rest of the test runs. */
    fprintf(stderr, "steady frames: allocations not counted under TSan\n");
#else
    CHECK(alloc_count_works());
#endif
    uint64_t steady_allocs = 0, steady_ras = 0, event_allocs = 0;
    int steady = 0, events = 0;
    for (int k = 0; k < 600; k++) {
        struct render_stats a, b;
        render_get_stats(r, &a);
        uint64_t ras = font_thread_rasterisations();
        alloc_count_start();
        render_frame(r, k / 60.0);
        uint64_t n = alloc_count_stop();
        render_get_stats(r, &b);
        if (k == 0)
            continue;
        if (a.placed == b.placed && a.shown == b.shown &&
            a.textures_created == b.textures_created &&
            a.textures_destroyed == b.textures_destroyed) {
            steady++;
            steady_allocs += n;
            steady_ras += font_thread_rasterisations() - ras;
        } else {
            events++;
            event_allocs += n;
        }
    }
    CHECK(steady > 500);
    CHECK(events > 0);
    CHECK_INT(steady_allocs, 0);
    CHECK_INT(steady_ras, 0);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
}

/* ---- the text worker: never waited for, ahead in time, cancelled ---- */

static struct store *titled_store(const struct config *cfg, const char *fmt, size_t n)
{
    struct store *st = make_store(cfg);
    char **titles = calloc(n, sizeof *titles);
    for (size_t i = 0; i < n; i++) {
        titles[i] = malloc(64);
        snprintf(titles[i], 64, fmt, (int)i);
    }
    set_titles(st, (const char *const *)titles, n);
    for (size_t i = 0; i < n; i++)
        free(titles[i]);
    free(titles);
    return st;
}

static const struct scroll_entry *entry_of_index(const struct scroll_layout *l, size_t index)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].list == l->serial && l->e[i].index == index)
            return &l->e[i];
    return NULL;
}

/* A headline that is not ready when due: the frame is not held, its place
 * stays blank (background only), and once ready it enters at the edge
 * (the tape waited) instead of appearing mid-screen. */
static void test_not_ready(void)
{
    /* A hang (a frame waiting for the paused worker) fails the test. */
    signal(SIGALRM, SIG_DFL);
    alarm(60);
    struct config *cfg = make_cfg("speed = 600\n");
    struct store *st = titled_store(cfg, "Not ready %d", 8);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, 0); /* sync: the first screenful */
    struct render_geometry g;
    render_get_geometry(r, &g);
    render_set_sync(r, false);
    render_wait_worker(r, 10000); /* done with the look-ahead it was given */
    render_pause_worker(r, true);
    struct render_stats a, b;
    render_get_stats(r, &a);
    const struct scroll_layout *l = render_layout(r);
    double t = 0;
    for (int k = 1; k <= 180; k++) { /* 3 s: 1800 px, several headlines due */
        t = k / 60.0;
        render_frame(r, t);
    }
    render_get_stats(r, &b);
    CHECK(l->blocked);
    CHECK(b.not_ready_frames > a.not_ready_frames);
    CHECK_INT(b.worker_items, a.worker_items);
    /* the blank: from where the tape stops to the right edge, background */
    double lo = render_offset(r, t), hi = lo + W;
    int gap_x = (int)ceil((double)l->tail - lo);
    CHECK(gap_x < W - 20);
    long ink = 0;
    for (int y = g.strip_y; y < g.strip_y + g.strip_h; y++)
        for (int x = gap_x > 0 ? gap_x : 0; x < W; x++)
            ink += px(surf, x, y) != BG;
    CHECK_INT(ink, 0);

    size_t due = l->next;
    render_pause_worker(r, false);
    for (int k = 1; k <= 120 && !entry_of_index(l, due); k++) {
        render_wait_worker(r, 10000);
        render_frame(r, t + k / 60.0);
        if (!entry_of_index(l, due))
            hi = render_offset(r, t + k / 60.0) + W;
    }
    const struct scroll_entry *e = entry_of_index(l, due);
    CHECK(e != NULL);
    render_get_stats(r, &b);
    CHECK_INT(b.tape_waits, a.tape_waits + 1);
    CHECK(e && (double)e->start >= hi); /* entered at the edge, not mid-screen */
    alarm(0);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
}

/* Ahead in time: at the highest speed (5000 px/s) and at 120 px/s every
 * headline is ready before it enters, when the worker gets the time a
 * frame interval gives it; what is kept is bounded by the screen and the
 * look-ahead, not by the 1,000 headlines. */
static void check_lookahead(double speed, int frames)
{
    char extra[64];
    snprintf(extra, sizeof extra, "speed = %.0f\n", speed);
    struct config *cfg = make_cfg(extra);
    struct store *st = titled_store(cfg, "Headline %d of the thousand", 1000);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, 0);
    render_set_sync(r, false);
    struct render_stats a, s;
    render_get_stats(r, &a);
    size_t kept_max = 0;
    for (int k = 1; k <= frames; k++) {
        render_wait_worker(r, 10000);
        render_frame(r, k / 60.0);
        render_get_stats(r, &s);
        kept_max = s.slots_alive + s.ready > kept_max ? s.slots_alive + s.ready : kept_max;
    }
    CHECK_INT(s.tape_waits, a.tape_waits);
    CHECK_INT(s.not_ready_frames, a.not_ready_frames);
    /* they did pass: a line is under 1000 px */
    CHECK(s.placed - a.placed > (uint64_t)(speed * frames / 60.0 / 1000));
    /* screen + 2 s ahead + 0.5 s of upload margin over the narrowest
     * headline (label, title, separator: over 300 px), plus one at each end */
    size_t bound = (size_t)((W + speed * 2.5) / 300) + 2;
    fprintf(stderr, "look-ahead at %.0f px/s: at most %zu lines kept (bound %zu)\n", speed,
            kept_max, bound);
    CHECK(kept_max <= bound);
    CHECK(bound < 100);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
}

static void test_lookahead(void)
{
    check_lookahead(5000, 240);
    check_lookahead(120, 600);
}

/* A new snapshot cancels what was queued for the old list; so does a new
 * look. */
static void test_cancel(void)
{
    signal(SIGALRM, SIG_DFL);
    alarm(60);
    struct config *cfg = make_cfg("speed = 5000\n");
    struct store *st = titled_store(cfg, "Alpha %d", 300);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, 0);
    render_set_sync(r, false);
    render_pause_worker(r, true);
    for (int k = 1; k <= 6; k++)
        render_frame(r, k / 60.0); /* 2 s ahead at 5000 px/s: dozens wanted */
    struct render_stats a, b;
    render_get_stats(r, &a);
    /* the new list: three headlines */
    store_free(st);
    st = titled_store(cfg, "Beta %d", 3);
    render_adopt(r, store_snapshot(st), 6 / 60.0);
    const struct scroll_layout *l = render_layout(r);
    size_t kept = 0; /* old entries on screen stay, and may still need drawing */
    for (size_t i = 0; i < l->n; i++)
        kept += l->e[i].list != l->serial;
    render_frame(r, 7 / 60.0);
    render_pause_worker(r, false);
    for (int k = 8; k < 40; k++) {
        render_wait_worker(r, 10000);
        render_frame(r, k / 60.0);
    }
    render_get_stats(r, &b);
    /* the three new ones (and nothing of the dozens of old ones queued) */
    fprintf(stderr, "cancel: %llu lines made after the new list\n",
            (unsigned long long)(b.worker_items - a.worker_items));
    CHECK(b.worker_items - a.worker_items <= 3 + kept);
    CHECK(b.worker_items - a.worker_items >= 1);

    /* A new look while work is queued: only the new look's lines. */
    render_pause_worker(r, true);
    struct config *cfg2 = make_cfg("speed = 5000\n");
    cfg2->display.foreground = (struct color){255, 255, 0, 255};
    char err[512];
    CHECK_INT(render_apply(r, &cfg2->display, 40 / 60.0, err, sizeof err), 0);
    render_get_stats(r, &a);
    render_pause_worker(r, false);
    for (int k = 41; k < 80; k++) {
        render_wait_worker(r, 10000);
        render_frame(r, k / 60.0);
    }
    render_get_stats(r, &b);
    CHECK(b.worker_items - a.worker_items <= 3);
    long yellow = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            yellow += px(surf, x, y) == 0xFFFF00;
    CHECK(yellow > 100);
    alarm(0);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
    config_free(cfg2);
}

/* A new font is opened by the worker, not the render thread, and used once
 * it is open; the render thread never rasterises. */
static void test_font_off_thread(void)
{
    struct config *cfg = make_cfg("speed = 100\n");
    struct config *cfg2 = make_cfg("speed = 100\n");
    cfg2->display.font_size = 36;
    struct store *st = titled_store(cfg, "Font change %d", 5);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, 0);
    render_set_sync(r, false);
    uint64_t ras = font_thread_rasterisations();
    struct render_geometry g1, g2;
    render_get_geometry(r, &g1);
    char err[512];
    CHECK_INT(render_apply(r, &cfg2->display, 0.1, err, sizeof err), 0);
    for (int k = 7; k < 60; k++) {
        render_wait_worker(r, 10000);
        render_frame(r, k / 60.0);
    }
    render_get_geometry(r, &g2);
    CHECK(g2.line_h > g1.line_h);
    CHECK_INT(font_thread_rasterisations(), ras);
    long fg = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            fg += px(surf, x, y) == FG;
    CHECK(fg > 200);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(st);
    config_free(cfg);
    config_free(cfg2);
}

/* Any t costs the same: a frame 10^15 s after start measures each
 * headline once (widths only), then skips whole loops. */
static void test_far_frame(void)
{
    struct config *cfg = make_cfg("speed = 120\n");
    struct store *st = titled_store(cfg, "Far away %d", 50);
    static const double at[] = {1e6, 1e15};
    uint64_t items[2], steps[2];
    for (int i = 0; i < 2; i++) {
        SDL_Surface *surf = make_surface(W, H);
        struct render *r = open_render(surf, cfg);
        render_adopt(r, store_snapshot(st), 0);
        render_frame(r, at[i]);
        struct render_stats s;
        render_get_stats(r, &s);
        items[i] = s.worker_items;
        steps[i] = render_layout(r)->steps;
        long fg = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                fg += px(surf, x, y) == FG;
        CHECK(fg > 200);
        render_close(r);
        SDL_FreeSurface(surf);
    }
    fprintf(stderr, "far: %llu / %llu lines, %llu / %llu steps at 1e6 / 1e15 s\n",
            (unsigned long long)items[0], (unsigned long long)items[1],
            (unsigned long long)steps[0], (unsigned long long)steps[1]);
    /* every headline once (its width) plus a screenful, at either t */
    CHECK(items[1] <= 50 + 10);
    CHECK(steps[1] <= 3 * 50 + 1);
    CHECK(items[1] <= items[0] + 5);
    store_free(st);
    config_free(cfg);
}

/* ---- the window surface: only the text band is filled and sent ---- */

/* A window render (software into the window's surface, sending only the
 * rows text touched, and not even filling them when the text covers
 * them) shows exactly what a plain surface render shows, frame after
 * frame, with garbage painted over the text rows before a frame; and a
 * gap (text not ready) is filled, not left with what was there. */
static void test_window_surface(void)
{
    struct config *cfg = make_cfg("speed = 300\n");
    struct store *st = titled_store(cfg, "Window surface %d", 6);
    char err[512];
    struct render *r = render_open_window(&cfg->display, W, H, err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "window: %s\n", err);
        return;
    }
    render_set_sync(r, true);
    CHECK_INT(render_apply(r, &cfg->display, 0, err, sizeof err), 0);
    render_adopt(r, store_snapshot(st), 0);
    SDL_Surface *win = SDL_GetWindowSurface(render_sdl_window(r));
    struct render_geometry g;
    long bad_frames = 0;
    int compared = 0;
    render_get_geometry(r, &g);
    /* Garbage where the text goes: a frame must leave none of it, whether
     * it filled the band first or copied text over all of it. */
    SDL_Rect band = {0, g.text_y, W, g.line_h};
    Uint32 magenta = SDL_MapRGB(win->format, 255, 0, 255);
    for (int k = 0; k < 120; k++) {
        double t = k / 60.0;
        if (k % 8 == 0 && k > 0)
            SDL_FillRect(win, &band, magenta);
        render_frame(r, t);
        render_present(r);
        if (k % 8 != 0)
            continue;
        SDL_Surface *ref = make_surface(W, H);
        struct render *rr = open_render(ref, cfg);
        render_adopt(rr, store_snapshot(st), 0);
        render_frame(rr, t);
        long differ = 0;
        render_get_geometry(r, &g);
        for (int y = g.strip_y; y < g.strip_y + g.strip_h; y++)
            for (int x = 0; x < W; x++)
                differ += px(win, x, y) != px(ref, x, y);
        compared++;
        bad_frames += differ != 0;
        render_close(rr);
        SDL_FreeSurface(ref);
    }
    CHECK(compared >= 14);
    CHECK_INT(bad_frames, 0);

    /* Text that is not ready leaves a gap: there the band is filled, never
     * the old text left in place. */
    render_set_sync(r, false);
    render_wait_worker(r, 10000);
    render_pause_worker(r, true);
    double t = 2;
    for (int k = 120; k < 300; k++) {
        t = k / 60.0;
        if (k == 299)
            SDL_FillRect(win, &band, magenta);
        render_frame(r, t);
        render_present(r);
    }
    const struct scroll_layout *l = render_layout(r);
    int gap_x = (int)ceil((double)l->tail - render_offset(r, t));
    CHECK(l->blocked && gap_x < W - 50);
    long ink = 0;
    for (int y = g.strip_y; y < g.strip_y + g.strip_h; y++)
        for (int x = gap_x > 0 ? gap_x : 0; x < W; x++)
            ink += px(win, x, y) != BG;
    CHECK_INT(ink, 0);
    render_pause_worker(r, false);
    render_close(r);
    store_free(st);
    config_free(cfg);
}

/* ---- no screen: why a KMS device cannot be used ---- */

static void test_drm_probe(void)
{
    char dir[] = "/tmp/kt-drm-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    chmod(dir, 0755);
    char why[512];
    CHECK(!render_probe_drm(dir, why, sizeof why));
    CHECK(strstr(why, "card* device") != NULL);
    char card[600];
    snprintf(card, sizeof card, "%s/card0", dir);
    FILE *f = fopen(card, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    /* A device the user may not open: the message names the group and
     * whether the user is in it (as root, a child drops to nobody). */
    chmod(card, 0600);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (geteuid() == 0) {
            if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
                _exit(2);
        } else {
            chmod(card, 0);
        }
        char w[512] = "";
        bool ok = render_probe_drm(dir, w, sizeof w);
        if (write(fds[1], w, strlen(w)) < 0)
            _exit(3);
        _exit(ok ? 1 : 0);
    }
    close(fds[1]);
    char got[512] = "";
    ssize_t n = read(fds[0], got, sizeof got - 1);
    got[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    fprintf(stderr, "drm probe: %s\n", got);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(strstr(got, "card0: Permission denied") != NULL);
    CHECK(strstr(got, "this user is not in group") != NULL);
    /* and one it may open */
    chmod(card, 0666);
    CHECK(render_probe_drm(dir, why, sizeof why));
    remove(card);
    rmdir(dir);
}

/* ---- display_run: screenshot files and the window loop ---- */

static void test_screenshot(void)
{
    struct config *cfg = make_cfg("position = top\nheight = 50\n");
    struct store *st = make_store(cfg);
    static const char *const titles[] = {"Screenshot headline"};
    set_titles(st, titles, 1);
    char names[2][64];
    snprintf(names[0], sizeof names[0], "/tmp/kt-test-display-%d.bmp", (int)getpid());
    snprintf(names[1], sizeof names[1], "/tmp/kt-test-display-%d.png", (int)getpid());
    for (int i = 0; i < 2; i++) {
        remove(names[i]);
        struct display_opts o = {.screenshot = names[i], .at = 2.0, .width = 320, .height = 80};
        CHECK_INT(display_run(cfg, st, NULL, &o), 0);
        SDL_Surface *img = i == 0 ? SDL_LoadBMP(names[i]) : load_png(names[i]);
        CHECK(img != NULL);
        if (!img)
            continue;
        SDL_Surface *c = copy_surface(img);
        CHECK_INT(c->w, 320);
        CHECK_INT(c->h, 80);
        CHECK_INT(px(c, 0, 0), BG);
        CHECK_INT(px(c, 319, 79), 0);
        long fg = 0;
        for (int y = 0; y < 50; y++)
            for (int x = 0; x < 320; x++)
                fg += px(c, x, y) == FG;
        CHECK(fg > 50);
        SDL_FreeSurface(c);
        SDL_FreeSurface(img);
        remove(names[i]);
    }
    store_free(st);
    config_free(cfg);
}

struct host_state {
    int frames;
    const struct config *reload;
    bool push_sdl_quit;
};

static enum display_event host_poll(void *ctx, const struct config **cfg)
{
    struct host_state *h = ctx;
    h->frames++;
    if (h->frames == 8)
        usleep(120000); /* a stalled frame: counted late */
    if (h->frames == 5) {
        *cfg = h->reload;
        return DISPLAY_RELOADED;
    }
    if (h->frames == 12) {
        if (h->push_sdl_quit) {
            SDL_Event ev = {.type = SDL_QUIT};
            SDL_PushEvent(&ev);
            return DISPLAY_CONTINUE;
        }
        return DISPLAY_QUIT;
    }
    return h->frames > 200 ? DISPLAY_QUIT : DISPLAY_CONTINUE;
}

static void test_window_loop(void)
{
    struct config *cfg = make_cfg("speed = 100\n");
    struct config *cfg2 = make_cfg("speed = 300\nseparator = \" | \"\nposition = top\n");
    cfg2->display.background = (struct color){0, 0, 128, 255};
    cfg2->display.font_size = 30;
    struct store *st = make_store(cfg);
    static const char *const titles[] = {"Window loop headline"};
    set_titles(st, titles, 1);
    for (int q = 0; q < 2; q++) {
        struct host_state h = {.reload = cfg2, .push_sdl_quit = q == 1};
        struct display_host host = {&h, host_poll};
        struct frame_stats fs;
        frame_stats_init(&fs);
        struct display_opts o = {.stats = &fs};
        int rc = display_run(cfg, st, &host, &o);
        CHECK_INT(rc, 0);
        /* quit on the 12th poll: from the host, or from the SDL_QUIT event
         * pushed then (ignoring it would run on to the 201st poll) */
        CHECK_INT(h.frames, 12);
        /* one present per poll before the quit (and after the poll that
         * pushed SDL_QUIT); the stall of 120 ms (more
         * than 1.5 refreshes whatever the machine's load) is late and the
         * worst, at least as long as the stall itself */
        CHECK_INT(atomic_load(&fs.frames), q == 1 ? 12 : 11);
        CHECK(atomic_load(&fs.late) >= 1);
        CHECK(atomic_load(&fs.worst_us) >= 120000);
        CHECK(atomic_load(&fs.last_present_ns) > 0);
    }
    store_free(st);
    config_free(cfg);
    config_free(cfg2);
}

int main(void)
{
    char err[512];
    test_font = font_set_open("DejaVu Sans:bold", 24, err, sizeof err);
    if (!test_font) {
        fprintf(stderr, "font: %s\n", err);
        return 1;
    }
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"strip positions", test_strip_positions},
        {"shift by speed", test_shift},
        {"idle text", test_idle},
        {"store swap", test_swap},
        {"reload", test_reload},
        {"tiles", test_tiles},
        {"label before title", test_label_left},
        {"10,000 headlines", test_many},
        {"steady frames", test_steady},
        {"not ready in time", test_not_ready},
        {"ahead in time", test_lookahead},
        {"cancelled work", test_cancel},
        {"font off the render thread", test_font_off_thread},
        {"any t", test_far_frame},
        {"screenshot files", test_screenshot},
        {"window loop", test_window_loop},
        {"window surface", test_window_surface},
        {"KMS device permissions", test_drm_probe},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        double t0 = now_s();
        tests[i].fn();
        fprintf(stderr, "-- %s: %.0f ms\n", tests[i].name, (now_s() - t0) * 1e3);
    }
    font_set_close(test_font);
    return tap_done();
}
