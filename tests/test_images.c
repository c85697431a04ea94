/*
 * test_images: the whole screen's images (issue 13), drawn for real by the
 * software renderer into a surface and checked pixel by pixel: the
 * background image above the strip (cover crops, contain letterboxes),
 * the slideshow stepping at slide_duration through a directory that
 * changes under it and holds a corrupt file, PNG, JPEG and SVG decoding,
 * and a feed's logo drawn in place of its label. Time is the render's t
 * (as --screenshot --at), so nothing depends on the wall clock.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SDL.h>
#include <png.h>

#include "config.h"
#include "render.h"
#include "store.h"
#include "tap.h"

#define W 400
#define H 300
#define STRIP 60
#define BG 0x203040u
#define RED 0xFF0000u
#define GREEN 0x00FF00u
#define BLUE 0x0000FFu
#define WHITE 0xFFFFFFu

static char tmpdir[256];

/* ---- fixtures ---- */

/* A PNG of w x h whose column x has colour col(x). */
static void write_png(const char *path, int w, int h, uint32_t (*col)(int x, int w))
{
    uint8_t *rgba = malloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t c = col(x, w);
            uint8_t *p = rgba + ((size_t)y * w + x) * 4;
            p[0] = (uint8_t)(c >> 16);
            p[1] = (uint8_t)(c >> 8);
            p[2] = (uint8_t)c;
            p[3] = 255;
        }
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGBA;
    if (!png_image_write_to_file(&img, path, 0, rgba, w * 4, NULL)) {
        fprintf(stderr, "cannot write %s: %s\n", path, img.message);
        exit(1);
    }
    free(rgba);
}

/* Red quarter, blue half, green quarter (left to right). */
static uint32_t col_bands(int x, int w)
{
    return x < w / 4 ? RED : x < w - w / 4 ? BLUE : GREEN;
}
static uint32_t col_red(int x, int w)
{
    (void)x, (void)w;
    return RED;
}
static uint32_t col_green(int x, int w)
{
    (void)x, (void)w;
    return GREEN;
}
static uint32_t col_blue(int x, int w)
{
    (void)x, (void)w;
    return BLUE;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static char *tmp_path(const char *name)
{
    static char buf[8][512];
    static int i;
    char *p = buf[i++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
    return p;
}

static struct config *make_cfg(const char *feed_lines, const char *display_lines)
{
    char text[4096];
    snprintf(text, sizeof text,
             "[ticker]\norder = feeds\n"
             "[feed news]\nurl = /dev/null\nlabel = NEWS\n%s"
             "[display]\nmode = window\nsize = %dx%d\nfont = DejaVu Sans:bold\n"
             "font_size = 24\nheight = %d\nbackground = #203040\nforeground = #FFFFFF\n"
             "label_color = #FF0000\nsnap_speed = no\nspeed = 1\n%s",
             feed_lines, W, H, STRIP, display_lines);
    char err[512];
    struct config *cfg = config_parse(text, strlen(text), "test", err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        exit(1);
    }
    return cfg;
}

static uint32_t px(const SDL_Surface *s, int x, int y)
{
    return ((const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * s->pitch))[x] & 0xFFFFFF;
}

struct scene {
    SDL_Surface *surf;
    struct render *r;
    struct store *store;
    struct config *cfg;
};

static void scene_open(struct scene *sc, const char *feed_lines, const char *display_lines)
{
    sc->cfg = make_cfg(feed_lines, display_lines);
    sc->surf = SDL_CreateRGBSurfaceWithFormat(0, W, H, 32, SDL_PIXELFORMAT_ARGB8888);
    char err[512];
    sc->r = render_open_surface(sc->surf, err, sizeof err);
    if (sc->r)
        render_set_logos(sc->r, sc->cfg->feeds, sc->cfg->n_feeds);
    if (!sc->r || render_apply(sc->r, &sc->cfg->display, 0, err, sizeof err) < 0) {
        fprintf(stderr, "render: %s\n", err);
        exit(1);
    }
    sc->store = store_new();
    store_configure(sc->store, sc->cfg, 1000);
    render_adopt(sc->r, store_snapshot(sc->store), 0);
}

static void scene_close(struct scene *sc)
{
    render_close(sc->r);
    store_free(sc->store);
    config_free(sc->cfg);
    SDL_FreeSurface(sc->surf);
}

/* ---- tests ---- */

/* 200 x 100 bands into the 400 x 240 area above the strip. Contain:
 * scaled by 2 to 400 x 200, centred (black rows 0-19 and 220-239), the
 * red quarter ends at x 100. Cover: scaled by 2.4 to 480 x 240, 40 px cut
 * off each side, the red quarter ends at (50 - 16.7) * 2.4 = 80. */
static void test_fit(void)
{
    char *img = tmp_path("bands.png");
    write_png(img, 200, 100, col_bands);
    char lines[1024];

    struct scene sc;
    snprintf(lines, sizeof lines, "background_image = %s\nbackground_fit = contain\n", img);
    scene_open(&sc, "", lines);
    render_frame(sc.r, 0);
    CHECK_INT(px(sc.surf, 200, 5), 0);      /* letterbox above */
    CHECK_INT(px(sc.surf, 200, 230), 0);    /* and below */
    CHECK_INT(px(sc.surf, 200, 25), BLUE);  /* the image from row 20 */
    CHECK_INT(px(sc.surf, 200, 215), BLUE); /* to row 219 */
    CHECK_INT(px(sc.surf, 95, 120), RED);
    CHECK_INT(px(sc.surf, 105, 120), BLUE);
    CHECK_INT(px(sc.surf, 305, 120), GREEN);
    CHECK_INT(px(sc.surf, 2, 120), RED);          /* from the left edge */
    CHECK_INT(px(sc.surf, 3, H - STRIP / 2), BG); /* the strip stays the strip */
    scene_close(&sc);

    snprintf(lines, sizeof lines, "background_image = %s\nbackground_fit = cover\n", img);
    scene_open(&sc, "", lines);
    render_frame(sc.r, 0);
    CHECK_INT(px(sc.surf, 200, 0), BLUE); /* no letterbox: covered to the top */
    CHECK_INT(px(sc.surf, 200, 239), BLUE);
    CHECK_INT(px(sc.surf, 75, 120), RED);
    CHECK_INT(px(sc.surf, 85, 120), BLUE); /* the red quarter is cut */
    CHECK_INT(px(sc.surf, 315, 120), BLUE);
    CHECK_INT(px(sc.surf, 325, 120), GREEN);
    CHECK_INT(px(sc.surf, 3, H - STRIP / 2), BG);
    CHECK_INT(px(sc.surf, 3, H - STRIP), BG); /* the strip's first row is not the image */
    scene_close(&sc);

    /* Strip at the top: the image fills the area below it. */
    snprintf(lines, sizeof lines, "background_image = %s\nbackground_fit = cover\nposition = top\n",
             img);
    scene_open(&sc, "", lines);
    render_frame(sc.r, 0);
    CHECK_INT(px(sc.surf, 3, STRIP / 2), BG);
    CHECK_INT(px(sc.surf, 200, STRIP), BLUE);
    CHECK_INT(px(sc.surf, 200, H - 1), BLUE);
    CHECK_INT(px(sc.surf, 75, 200), RED);
    scene_close(&sc);
}

/* A directory: 01 red, 02 corrupt, 03 green; 10 s slides. The corrupt
 * file is skipped (the next one shown, never black), a file added while
 * running shows at the next slide, and the order wraps round. */
static void test_slideshow(void)
{
    char *dir = tmp_path("slides");
    mkdir(dir, 0755);
    char f[600];
    snprintf(f, sizeof f, "%s/01-red.png", dir);
    write_png(f, 64, 36, col_red);
    snprintf(f, sizeof f, "%s/02-corrupt.png", dir);
    write_file(f, "\x89PNG\r\n\x1a\nthis is not a PNG at all");
    snprintf(f, sizeof f, "%s/03-green.png", dir);
    write_png(f, 64, 36, col_green);
    snprintf(f, sizeof f, "%s/notes.txt", dir); /* not an image: never tried */
    write_file(f, "hello");

    char lines[1024];
    snprintf(lines, sizeof lines, "background_image = %s\nslide_duration = 10s\n", dir);
    struct scene sc;
    scene_open(&sc, "", lines);
    render_frame(sc.r, 0);
    CHECK_INT(px(sc.surf, 200, 100), RED); /* the first from start-up */
    render_frame(sc.r, 9.9);
    CHECK_INT(px(sc.surf, 200, 100), RED); /* not before slide_duration */
    render_frame(sc.r, 10.0);
    CHECK_INT(px(sc.surf, 200, 100), GREEN); /* 02 is corrupt: skipped */

    snprintf(f, sizeof f, "%s/05-blue.png", dir);
    write_png(f, 64, 36, col_blue);
    render_frame(sc.r, 15);
    CHECK_INT(px(sc.surf, 200, 100), GREEN); /* the slide runs its time */
    render_frame(sc.r, 20);
    CHECK_INT(px(sc.surf, 200, 100), BLUE); /* added without a reload */
    render_frame(sc.r, 30);
    CHECK_INT(px(sc.surf, 200, 100), RED); /* round again */

    /* Every file removed: the last image stays rather than black. */
    snprintf(f, sizeof f, "%s/01-red.png", dir);
    unlink(f);
    snprintf(f, sizeof f, "%s/03-green.png", dir);
    unlink(f);
    snprintf(f, sizeof f, "%s/05-blue.png", dir);
    unlink(f);
    render_frame(sc.r, 40);
    CHECK_INT(px(sc.surf, 200, 100), RED);
    render_frame(sc.r, 41);
    CHECK_INT(px(sc.surf, 200, 100), RED);
    scene_close(&sc);
}

/* JPEG (a shipped file) and SVG decode too; a missing file shows no image
 * and no error beyond its log line. */
static void test_formats(void)
{
    const char *data = getenv("KT_TEST_DATA");
    char lines[1024];
    struct scene sc;
    snprintf(lines, sizeof lines, "background_image = %s/images/yellow.jpg\n",
             data ? data : "tests/data");
    scene_open(&sc, "", lines);
    render_frame(sc.r, 0);
    uint32_t p = px(sc.surf, 200, 100);
    /* JPEG is lossy: near yellow */
    CHECK((p >> 16) > 0xF0 && ((p >> 8) & 255) > 0xF0 && (p & 255) < 0x20);
    scene_close(&sc);

    char *svg = tmp_path("white.svg");
    write_file(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"24\">"
                    "<rect width=\"40\" height=\"24\" fill=\"#ffffff\"/></svg>\n");
    snprintf(lines, sizeof lines, "background_image = %s\n", svg);
    scene_open(&sc, "", lines);
    render_frame(sc.r, 0);
    CHECK_INT(px(sc.surf, 200, 100), WHITE);
    scene_close(&sc);

    snprintf(lines, sizeof lines, "background_image = %s\n", tmp_path("missing.png"));
    scene_open(&sc, "", lines);
    render_frame(sc.r, 0);
    CHECK_INT(px(sc.surf, 200, 100), 0);
    CHECK_INT(px(sc.surf, 3, H - STRIP / 2), BG);
    scene_close(&sc);
}

static uint32_t win_px(SDL_Surface *s, int x, int y)
{
    Uint32 v = ((const Uint32 *)((const Uint8 *)s->pixels + (size_t)y * s->pitch))[x];
    Uint8 r, g, b;
    SDL_GetRGB(v, s->format, &r, &g, &b);
    return (uint32_t)r << 16 | (uint32_t)g << 8 | b;
}

/* Frames at t until the window shows colour want at (x, y): at most 10 s
 * (scaled under an emulator) of real time for the decoder thread. */
static bool window_shows(struct render *r, double t, uint32_t want)
{
    Uint64 until = SDL_GetTicks64() + (Uint64)(10000 * t_time_scale());
    while (SDL_GetTicks64() < until) {
        render_frame(r, t);
        render_present(r);
        SDL_Surface *win = SDL_GetWindowSurface(render_sdl_window(r));
        if (win && win_px(win, 200, 100) == want)
            return true;
        SDL_Delay(5);
    }
    return false;
}

/* The kiosk's path: a window (dummy driver, software into the window
 * surface), frames that never wait for the decoder. The first slide
 * shows, the second is not shown before it is due, then is. */
static void test_window(void)
{
    char *dir = tmp_path("window-slides");
    mkdir(dir, 0755);
    char f[600];
    snprintf(f, sizeof f, "%s/a.png", dir);
    write_png(f, 64, 36, col_red);
    snprintf(f, sizeof f, "%s/b.png", dir);
    write_png(f, 64, 36, col_green);
    char lines[1024];
    snprintf(lines, sizeof lines, "background_image = %s\nslide_duration = 1s\n", dir);
    struct config *cfg = make_cfg("", lines);
    char err[512];
    struct render *r = render_open_window(&cfg->display, W, H, err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "window: %s\n", err);
        config_free(cfg);
        return;
    }
    CHECK_INT(render_apply(r, &cfg->display, 0, err, sizeof err), 0);
    struct store *st = store_new();
    store_configure(st, cfg, 1000);
    render_adopt(r, store_snapshot(st), 0);
    CHECK(window_shows(r, 0, RED));
    /* Asked for ahead of time (decoded meanwhile), not shown early. */
    for (int i = 0; i < 20; i++) {
        render_frame(r, 0.9);
        render_present(r);
        SDL_Delay(5);
    }
    SDL_Surface *win = SDL_GetWindowSurface(render_sdl_window(r));
    CHECK_INT(win_px(win, 200, 100), RED);
    CHECK(window_shows(r, 1.0, GREEN));
    CHECK(window_shows(r, 2.0, RED)); /* round again */
    render_close(r);
    store_free(st);
    config_free(cfg);
}

static uint32_t col_magenta(int x, int w)
{
    (void)x, (void)w;
    return 0xFF00FFu;
}

static void set_titles(struct store *s, const char *title)
{
    struct store_item item = {.title = (char *)title};
    store_replace_items(s, "news", &item, 1, 1000);
}

/* Pixels of colour c in the strip (near: antialiased text edges blend). */
static int count_near(const SDL_Surface *s, uint32_t c, int y0, int y1)
{
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < s->w; x++) {
            uint32_t p = px(s, x, y);
            int d = 0;
            for (int sh = 0; sh <= 16; sh += 8)
                d += abs((int)((p >> sh) & 255) - (int)((c >> sh) & 255));
            n += d < 60;
        }
    return n;
}

/* [feed] logo: the logo at the text's height where the label was, then
 * the title; a logo that cannot be read leaves the label text. */
static void test_logo(void)
{
    char *logo = tmp_path("logo.png");
    write_png(logo, 40, 20, col_magenta);
    char feed[600];
    struct scene sc;
    struct render_geometry g;

    /* Without a logo: the red label is drawn. */
    scene_open(&sc, "", "");
    set_titles(sc.store, "Hello world");
    render_adopt(sc.r, store_snapshot(sc.store), 0);
    render_frame(sc.r, 0);
    render_get_geometry(sc.r, &g);
    int red_label = count_near(sc.surf, RED, g.strip_y, g.strip_y + g.strip_h);
    CHECK(red_label > 20);
    CHECK_INT(count_near(sc.surf, 0xFF00FFu, g.strip_y, g.strip_y + g.strip_h), 0);
    scene_close(&sc);

    snprintf(feed, sizeof feed, "logo = %s\n", logo);
    scene_open(&sc, feed, "");
    set_titles(sc.store, "Hello world");
    render_adopt(sc.r, store_snapshot(sc.store), 0);
    render_frame(sc.r, 0);
    render_get_geometry(sc.r, &g);
    /* 40 x 20 at the line's height: line_h x 2 line_h, from the tape's start */
    int x0 = g.origin, mid = g.text_y + g.line_h / 2;
    CHECK_INT(px(sc.surf, x0 + 1, mid), 0xFF00FFu);
    CHECK_INT(px(sc.surf, x0 + 2 * g.line_h - 2, mid), 0xFF00FFu);
    CHECK_INT(px(sc.surf, x0 + 2 * g.line_h - 1, g.text_y), 0xFF00FFu); /* the text's top row */
    CHECK_INT(px(sc.surf, x0 + 2 * g.line_h - 1, g.text_y + g.line_h - 1), 0xFF00FFu);
    CHECK_INT(px(sc.surf, x0 + 2 * g.line_h + 1, mid), BG); /* then the gap */
    CHECK_INT(px(sc.surf, x0 + 1, g.text_y - 1), BG);       /* not above the text */
    /* whole logos only (the one headline comes round again on screen) */
    int logo_px = count_near(sc.surf, 0xFF00FFu, g.strip_y, g.strip_y + g.strip_h);
    CHECK(logo_px > 0 && logo_px % (2 * g.line_h * g.line_h) == 0);
    CHECK_INT(count_near(sc.surf, RED, g.strip_y, g.strip_y + g.strip_h), 0); /* no label */
    CHECK(count_near(sc.surf, WHITE, g.strip_y, g.strip_y + g.strip_h) > 20); /* the title */
    scene_close(&sc);

    /* Unreadable: the label instead. */
    char *bad = tmp_path("bad-logo.png");
    write_file(bad, "not an image");
    snprintf(feed, sizeof feed, "logo = %s\n", bad);
    scene_open(&sc, feed, "");
    set_titles(sc.store, "Hello world");
    render_adopt(sc.r, store_snapshot(sc.store), 0);
    render_frame(sc.r, 0);
    render_get_geometry(sc.r, &g);
    CHECK_INT(count_near(sc.surf, RED, g.strip_y, g.strip_y + g.strip_h), red_label);
    scene_close(&sc);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kt-images-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    if (SDL_Init(0) < 0) {
        fprintf(stderr, "SDL_Init: %s\n", SDL_GetError());
        return 1;
    }
    test_fit();
    test_slideshow();
    test_formats();
    test_logo();
    test_window();
    SDL_Quit();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return tap_done();
}
