/*
 * test_screen: the whole screen (issues 11 and 13) drawn for real by the
 * software renderer into a surface, checked pixel by pixel: the alert
 * banner in each severity's colours, the takeover filling the window, the
 * headlines resuming where they stopped, an announcement's label colour.
 *
 * Snapshots with given headlines and alerts come from store_snapshot_new,
 * so the render releases them as it releases the store's.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <SDL.h>

#include "alert.h"
#include "config.h"
#include "display.h"
#include "hours.h"
#include "render.h"
#include "store.h"
#include "tap.h"

#define W 640
#define H 200
#define BG 0x203040u

/* ---- fixtures ---- */

static uint64_t generation = 100;

static const struct store_snapshot *make_snap(const char *const *titles, size_t n,
                                              const struct alert *alerts, size_t n_alerts)
{
    struct headline items[8];
    for (size_t i = 0; i < n; i++)
        items[i] = (struct headline){
            .feed = "news", .label = "NEWS", .title = titles[i], .id = 0x1234 + i * 7919};
    return store_snapshot_new(items, n, alerts, n_alerts, ++generation);
}

static const char *const titles[] = {"Market closes higher", "Rain expected tomorrow",
                                     "Local team wins the cup"};

static struct alert alert_of(enum alert_severity sev, const char *text)
{
    return (struct alert){.id = (char *)text,
                          .source = "message",
                          .severity = sev,
                          .text = (char *)text,
                          .label = "ALERT"};
}

static struct config *make_cfg(const char *extra)
{
    char text[2048];
    snprintf(text, sizeof text,
             "[feed news]\nurl = /dev/null\n"
             "[display]\nmode = window\nsize = %dx%d\nfont = DejaVu Sans:bold\n"
             "font_size = 24\nbackground = #203040\nforeground = #FFFFFF\n"
             "label_color = #FF0000\nsnap_speed = no\n%s%s",
             W, H, strstr(extra, "speed") ? "" : "speed = 100\n", extra);
    char err[512];
    struct config *cfg = config_parse(text, strlen(text), "test", err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        exit(1);
    }
    return cfg;
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

static uint32_t rgb(struct color c)
{
    return (uint32_t)c.r << 16 | (uint32_t)c.g << 8 | c.b;
}

/* Pixels of the rectangle equal to c. */
static long count(const SDL_Surface *s, int x0, int y0, int x1, int y1, uint32_t c)
{
    long n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            n += px(s, x, y) == c;
    return n;
}

static int rows_equal(const SDL_Surface *a, const SDL_Surface *b, int y0, int y1)
{
    for (int y = y0; y < y1; y++)
        if (memcmp((const uint8_t *)a->pixels + (size_t)y * a->pitch,
                   (const uint8_t *)b->pixels + (size_t)y * b->pitch, (size_t)a->w * 4) != 0)
            return 0;
    return 1;
}

/* KT_SCREEN_DUMP=DIR: frames as BMP files, to look at. */
static void dump(SDL_Surface *s, const char *name)
{
    const char *dir = getenv("KT_SCREEN_DUMP");
    if (!dir)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s.bmp", dir, name);
    SDL_SaveBMP(s, path);
}

/* ---- alerts ---- */

/* The banner: the strip in the severity's background, its text in the
 * severity's text colour, nothing of the headlines, black above. */
static void test_banner_colors(void)
{
    static const struct {
        enum alert_severity sev;
        uint32_t bg, fg;
    } want[] = {{ALERT_EXTREME, 0xB00020, 0xFFFFFF},
                {ALERT_SEVERE, 0xE65100, 0xFFFFFF},
                {ALERT_MODERATE, 0xF9A825, 0x000000},
                {ALERT_MINOR, 0x1565C0, 0xFFFFFF}};
    struct config *cfg = make_cfg("position = bottom\nheight = 60\n");
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        CHECK(rgb(cfg->display.alert_colors[want[k].sev][0]) == want[k].bg);
        CHECK(rgb(cfg->display.alert_colors[want[k].sev][1]) == want[k].fg);
        SDL_Surface *surf = make_surface(W, H);
        struct render *r = open_render(surf, cfg);
        struct alert a = alert_of(want[k].sev, "Evacuate building 3 now");
        render_adopt(r, make_snap(titles, 3, &a, 1), 0);
        render_frame(r, 0.5);
        long area = (long)W * 60;
        long bg = count(surf, 0, H - 60, W, H, want[k].bg);
        long fg = count(surf, 0, H - 60, W, H, want[k].fg);
        long head = count(surf, 0, H - 60, W, H, BG);
        printf("# %s: %ld bg, %ld text, %ld headline-bg px of %ld\n",
               alert_severity_name(want[k].sev), bg, fg, head, area);
        CHECK(bg > area / 2);
        CHECK(fg > area / 100);
        CHECK(head == 0);
        dump(surf, alert_severity_name(want[k].sev));
        CHECK(count(surf, 0, 0, W, H - 60, 0x000000) == (long)W * (H - 60));
        render_close(r);
        SDL_FreeSurface(surf);
    }
    config_free(cfg);
}

/* Several alerts: the most severe first; each on its own colour. */
static void test_banner_order(void)
{
    struct config *cfg = make_cfg("position = bottom\nheight = 60\nspeed = 1\n");
    SDL_Surface *surf = make_surface(W * 3, H);
    struct render *r = open_render(surf, cfg);
    struct alert a[2] = {alert_of(ALERT_EXTREME, "Tornado warning"),
                         alert_of(ALERT_MINOR, "Road closed")};
    render_adopt(r, make_snap(titles, 3, a, 2), 0);
    render_frame(r, 0);
    /* the first band (left) is extreme's, a later one minor's */
    CHECK(px(surf, 20, H - 2) == 0xB00020);
    dump(surf, "banner_order");
    CHECK(count(surf, 0, H - 60, W * 3, H, 0x1565C0) > 1000);
    render_close(r);
    SDL_FreeSurface(surf);
    config_free(cfg);
}

/* Takeover: every pixel of the window is the alert's colours (no black,
 * no headline background), the text centred and standing still. */
static void test_takeover(void)
{
    struct config *cfg = make_cfg("position = bottom\nheight = 60\nalert_mode = takeover\n");
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    struct alert a = alert_of(ALERT_SEVERE, "Fire drill");
    render_adopt(r, make_snap(titles, 3, &a, 1), 0);
    render_frame(r, 1);
    long bg = count(surf, 0, 0, W, H, 0xE65100), fg = count(surf, 0, 0, W, H, 0xFFFFFF);
    long black = count(surf, 0, 0, W, H, 0), head = count(surf, 0, 0, W, H, BG);
    printf("# takeover: %ld bg, %ld text, %ld black, %ld headline-bg of %d\n", bg, fg, black, head,
           W * H);
    CHECK(black == 0);
    CHECK(head == 0);
    CHECK(bg > W * H / 2);
    CHECK(fg > 200);
    /* the corners too, and it stands still (it fits) */
    CHECK(px(surf, 0, 0) == 0xE65100 && px(surf, W - 1, H - 1) == 0xE65100);
    SDL_Surface *first = SDL_ConvertSurfaceFormat(surf, SDL_PIXELFORMAT_ARGB8888, 0);
    render_frame(r, 3.5);
    CHECK(rows_equal(first, surf, 0, H));
    /* the text is bigger than the strip's */
    int top = H, bottom = -1;
    for (int y = 0; y < H; y++)
        if (count(surf, 0, y, W, y + 1, 0xFFFFFF) > 0) {
            top = y < top ? y : top;
            bottom = y;
        }
    printf("# takeover text rows %d..%d\n", top, bottom);
    CHECK(bottom - top > 24);
    dump(surf, "takeover");
    SDL_FreeSurface(first);

    /* one too long for the window scrolls */
    struct alert b = alert_of(ALERT_SEVERE, "A very long alert text that cannot possibly fit "
                                            "into a window of six hundred and forty pixels");
    render_adopt(r, make_snap(titles, 3, &b, 1), 4);
    render_frame(r, 4.5);
    first = SDL_ConvertSurfaceFormat(surf, SDL_PIXELFORMAT_ARGB8888, 0);
    render_frame(r, 5.5);
    CHECK(!rows_equal(first, surf, 0, H));
    CHECK(count(surf, 0, 0, W, H, 0) == 0);
    SDL_FreeSurface(first);
    render_close(r);
    SDL_FreeSurface(surf);
    config_free(cfg);
}

/* Headlines stop when the alert comes and resume there when it goes:
 * the frame after the alert equals the frame before it. */
static void check_resume(const char *mode)
{
    char extra[256];
    snprintf(extra, sizeof extra, "position = bottom\nheight = 60\nalert_mode = %s\n", mode);
    struct config *cfg = make_cfg(extra);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, make_snap(titles, 3, NULL, 0), 0);
    render_frame(r, 2.0);
    SDL_Surface *before = SDL_ConvertSurfaceFormat(surf, SDL_PIXELFORMAT_ARGB8888, 0);
    render_frame(r, 3.0);
    SDL_Surface *later = SDL_ConvertSurfaceFormat(surf, SDL_PIXELFORMAT_ARGB8888, 0);
    CHECK(!rows_equal(before, later, H - 60, H)); /* it moves */

    struct alert a = alert_of(ALERT_EXTREME, "Shelter in place");
    render_adopt(r, make_snap(titles, 3, &a, 1), 2.0);
    render_frame(r, 2.5);
    CHECK(count(surf, 0, H - 60, W, H, 0xB00020) > W * 30);
    render_frame(r, 9.0);
    render_adopt(r, make_snap(titles, 3, NULL, 0), 10.0);
    render_frame(r, 10.0);
    CHECK(rows_equal(before, surf, 0, H));
    render_frame(r, 11.0);
    CHECK(rows_equal(later, surf, 0, H));
    SDL_FreeSurface(before);
    SDL_FreeSurface(later);
    render_close(r);
    SDL_FreeSurface(surf);
    config_free(cfg);
}

static void test_resume(void)
{
    check_resume("banner");
    check_resume("takeover");
}

/* The switch never blanks: a window-like render (frames do not wait for
 * text) shows the alert's colour band in the very first frame. */
static void test_no_blank(void)
{
    struct config *cfg = make_cfg("position = bottom\nheight = 60\n");
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, make_snap(titles, 3, NULL, 0), 0);
    render_frame(r, 1);
    render_set_sync(r, false);
    struct alert a = alert_of(ALERT_MODERATE, "Water off from 14:00 to 16:00 in building B");
    render_adopt(r, make_snap(titles, 3, &a, 1), 1);
    render_frame(r, 1);
    long area = (long)W * 60;
    /* whatever of the text is ready, the band is there: only its colour and text */
    CHECK(count(surf, 0, H - 60, W, H, 0xF9A825) > area / 2);
    CHECK(count(surf, 0, H - 60, W, H, BG) == 0);
    render_close(r);
    SDL_FreeSurface(surf);
    config_free(cfg);
}

/* An announcement is a headline with its label in label_color. */
static void test_announcement(void)
{
    struct config *cfg = make_cfg("position = bottom\nheight = 60\nspeed = 1\n");
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    struct headline items[2] = {{.feed = "message",
                                 .label = "Notice",
                                 .title = "Lunch is served in the atrium",
                                 .id = 42,
                                 .announcement = true},
                                {.feed = "news", .label = "NEWS", .title = titles[1], .id = 43}};
    render_adopt(r, store_snapshot_new(items, 2, NULL, 0, ++generation), 0);
    render_frame(r, 0);
    long red = count(surf, 0, H - 60, W / 4, H, 0xFF0000);
    dump(surf, "announcement");
    printf("# announcement label: %ld px in label_color\n", red);
    CHECK(red > 50);
    render_close(r);
    SDL_FreeSurface(surf);
    config_free(cfg);
}

static int64_t at(const char *when);

/* ---- rotation ---- */

/* Where pixel (x, y) of a w x h upright frame lands on the panel turned
 * clockwise by deg. */
static void turn(int deg, int w, int h, int x, int y, int *px_, int *py_)
{
    switch (deg) {
    case 90:
        *px_ = h - 1 - y;
        *py_ = x;
        break;
    case 180:
        *px_ = w - 1 - x;
        *py_ = h - 1 - y;
        break;
    case 270:
        *px_ = y;
        *py_ = w - 1 - x;
        break;
    default:
        *px_ = x;
        *py_ = y;
    }
}

/* A rotated frame is the upright frame of the rotated size, turned: for
 * the headlines and for an alert banner, at every angle. */
static void check_rotation(int deg, bool alert)
{
    char extra[256];
    snprintf(extra, sizeof extra, "position = bottom\nheight = 60\nrotate = %d\n", deg);
    struct config *cfg = make_cfg(extra), *up = make_cfg("position = bottom\nheight = 60\n");
    bool swap = deg == 90 || deg == 270;
    SDL_Surface *ref = make_surface(W, H), *panel = make_surface(swap ? H : W, swap ? W : H);
    struct render *a = open_render(ref, up), *b = open_render(panel, cfg);
    struct alert al = alert_of(ALERT_SEVERE, "Storm warning until 18:00");
    render_adopt(a, make_snap(titles, 3, alert ? &al : NULL, alert ? 1 : 0), 0);
    render_adopt(b, make_snap(titles, 3, alert ? &al : NULL, alert ? 1 : 0), 0);
    struct render_geometry g;
    render_get_geometry(b, &g);
    CHECK(g.w == W && g.h == H);
    long bad = 0, text = 0;
    for (double t = 0.7; t < 3; t += 1.1) {
        render_frame(a, t);
        render_frame(b, t);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int qx, qy;
                turn(deg, W, H, x, y, &qx, &qy);
                bad += px(ref, x, y) != px(panel, qx, qy);
                text += px(ref, x, y) == 0xFFFFFF;
            }
    }
    printf("# rotate %d%s: %ld of %d pixels differ (%ld text px)\n", deg, alert ? " alert" : "",
           bad, 2 * W * H, text);
    CHECK(bad == 0);
    CHECK(text > 1000);
    char name[64];
    snprintf(name, sizeof name, "rotate%d%s", deg, alert ? "_alert" : "");
    dump(panel, name);
    render_close(a);
    render_close(b);
    SDL_FreeSurface(ref);
    SDL_FreeSurface(panel);
    config_free(cfg);
    config_free(up);
}

/* The kiosk's path: a rotated window surface (only changed rows copied
 * and sent, the band bookkeeping, an alert and back) shows what the
 * upright surface render shows, turned, frame after frame, even with
 * garbage painted into the panel's strip between frames. */
static void check_window_rotation(int deg, const char *mode)
{
    char extra[256], upright[256];
    snprintf(extra, sizeof extra, "position = bottom\nheight = 60\nrotate = %d\nalert_mode = %s\n",
             deg, mode);
    snprintf(upright, sizeof upright, "position = bottom\nheight = 60\nalert_mode = %s\n", mode);
    struct config *cfg = make_cfg(extra), *up = make_cfg(upright);
    bool swap = deg == 90 || deg == 270;
    char err[512];
    struct render *r =
        render_open_window(&cfg->display, swap ? H : W, swap ? W : H, err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "window: %s\n", err);
        return;
    }
    render_set_sync(r, true);
    CHECK(render_apply(r, &cfg->display, 0, err, sizeof err) == 0);
    SDL_Surface *ref = make_surface(W, H);
    struct render *a = open_render(ref, up);
    const struct store_snapshot *plain = make_snap(titles, 3, NULL, 0);
    render_adopt(r, store_snapshot_retain(plain), 0);
    render_adopt(a, plain, 0);
    SDL_Surface *win = SDL_GetWindowSurface(render_sdl_window(r));
    Uint32 magenta = SDL_MapRGB(win->format, 255, 0, 255);
    long bad_frames = 0, compared = 0;
    struct alert al = alert_of(ALERT_EXTREME, "Evacuate now");
    for (int k = 0; k < 120; k++) {
        double t = k / 60.0;
        if (k == 40 || k == 80) {
            const struct store_snapshot *sn = make_snap(titles, 3, k == 40 ? &al : NULL, k == 40);
            render_adopt(r, store_snapshot_retain(sn), t);
            render_adopt(a, sn, t);
        }
        if (k % 8 == 4) {
            /* garbage over the text's rows (what a frame redraws), turned */
            struct render_geometry geo;
            render_get_geometry(r, &geo);
            int x0, y0, x1, y1;
            turn(deg, W, H, W / 2 - 40, geo.text_y, &x0, &y0);
            turn(deg, W, H, W / 2 + 39, geo.text_y + geo.line_h - 1, &x1, &y1);
            SDL_Rect g = {x0 < x1 ? x0 : x1, y0 < y1 ? y0 : y1, abs(x1 - x0) + 1, abs(y1 - y0) + 1};
            SDL_FillRect(win, &g, magenta);
        }
        render_frame(r, t);
        render_present(r);
        render_frame(a, t);
        if (k % 4 != 0)
            continue;
        long differ = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int qx, qy;
                turn(deg, W, H, x, y, &qx, &qy);
                differ += px(ref, x, y) != px(win, qx, qy);
            }
        compared++;
        bad_frames += differ != 0;
        if (differ)
            printf("# rotate %d window (%s), frame %d: %ld px differ\n", deg, mode, k, differ);
    }
    printf("# rotate %d window (%s): %ld of %ld frames differ\n", deg, mode, bad_frames, compared);
    CHECK(compared == 30);
    CHECK(bad_frames == 0);
    render_close(a);
    render_close(r);
    SDL_FreeSurface(ref);
    config_free(cfg);
    config_free(up);
}

static void test_rotation(void)
{
    for (int deg = 0; deg < 360; deg += 90) {
        check_window_rotation(deg, "banner");
        check_window_rotation(deg, "takeover");
    }
    for (int deg = 0; deg < 360; deg += 90) {
        check_rotation(deg, false);
        check_rotation(deg, true);
    }
}

/* The capture hook's read-back (WAVE2 §4): the panel's pixels as R,G,B,A
 * bytes, rotated frames as the panel shows them. */
static void test_read_rgba(void)
{
    struct config *cfg = make_cfg("position = bottom\nheight = 60\nrotate = 90\n");
    SDL_Surface *panel = make_surface(H, W);
    struct render *r = open_render(panel, cfg);
    render_adopt(r, make_snap(titles, 3, NULL, 0), 0);
    render_frame(r, 1);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int w = 0, h = 0;
    CHECK(render_read_rgba(r, &buf, &cap, &w, &h) == 0);
    CHECK(w == H && h == W);
    long bad = 0;
    for (int y = 0; y < h && buf; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = buf + ((size_t)y * (size_t)w + (size_t)x) * 4;
            bad += ((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) != px(panel, x, y) ||
                   p[3] != 255;
        }
    CHECK(bad == 0);
    free(buf);
    render_close(r);
    SDL_FreeSurface(panel);
    config_free(cfg);
}

/* ---- the clock ---- */

/* The box stands still and shows the time; the headlines beside it move
 * by the speed; the text changes at the minute. */
static void check_clock(const char *where)
{
    char extra[256];
    snprintf(extra, sizeof extra,
             "position = bottom\nheight = 60\nspeed = 100\nclock = %s\nclock_format = %%H:%%M\n",
             where);
    struct config *cfg = make_cfg(extra);
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_set_now(r, at("2026-12-07T08:30:10"), 0);
    render_adopt(r, make_snap(titles, 3, NULL, 0), 0);
    render_frame(r, 1.0);
    SDL_Surface *a = SDL_ConvertSurfaceFormat(surf, SDL_PIXELFORMAT_ARGB8888, 0);
    render_frame(r, 2.0);
    struct render_geometry g;
    render_get_geometry(r, &g);
    int bx = strcmp(where, "left") == 0 ? 0 : g.tape_w, bw = W - g.tape_w;
    printf("# clock %s: box x %d, %d px; tape x %d, %d px\n", where, bx, bw, g.tape_x, g.tape_w);
    CHECK(bw > 40 && bw < W / 2);
    CHECK(g.tape_x == (strcmp(where, "left") == 0 ? bw : 0));
    long box_diff = 0, box_text = 0, moved_bad = 0;
    for (int y = H - 60; y < H; y++) {
        for (int x = bx; x < bx + bw; x++) {
            box_diff += px(a, x, y) != px(surf, x, y);
            box_text += px(surf, x, y) == 0xFFFFFF;
        }
        /* the rest, 100 px further on */
        for (int x = g.tape_x; x + 100 < g.tape_x + g.tape_w; x++)
            moved_bad += px(surf, x, y) != px(a, x + 100, y);
    }
    printf("# clock %s: box %ld px differ (%ld text px), tape %ld px not moved by the speed\n",
           where, box_diff, box_text, moved_bad);
    CHECK(box_diff == 0);
    CHECK(box_text > 100);
    CHECK(moved_bad == 0);
    /* the tape moved at all, and never into the box */
    CHECK(!rows_equal(a, surf, H - 60, H));
    dump(surf, strcmp(where, "left") == 0 ? "clock_left" : "clock_right");
    render_frame(r, 50.5); /* 08:31:00 */
    long changed = 0;
    for (int y = H - 60; y < H; y++)
        for (int x = bx; x < bx + bw; x++)
            changed += px(a, x, y) != px(surf, x, y);
    CHECK(changed > 20);
    SDL_FreeSurface(a);
    render_close(r);
    SDL_FreeSurface(surf);
    config_free(cfg);
}

static void test_clock(void)
{
    check_clock("left");
    check_clock("right");
}

/* ---- office hours ---- */

static int64_t at(const char *when)
{
    time_t t;
    char err[256];
    if (hours_parse_now(when, &t, err, sizeof err) < 0) {
        fprintf(stderr, "--now %s: %s\n", when, err);
        exit(1);
    }
    return (int64_t)t;
}

static long nonblack(const SDL_Surface *s)
{
    return (long)s->w * s->h - count(s, 0, 0, s->w, s->h, 0);
}

/* --screenshot --now: black outside the hours, the strip inside them. */
static void test_hours_screenshot(void)
{
    struct config *cfg =
        make_cfg("position = bottom\nheight = 60\non = Mon-Fri 07:00-19:30, Sat 09:00-14:00\n");
    struct store *st = store_new();
    store_configure(st, cfg, 1000);
    struct store_item it = {.title = "Canteen opens at noon"};
    store_replace_items(st, "news", &it, 1, 1000);
    static const struct {
        const char *now;
        bool on;
    } cases[] = {{"2026-12-07T08:30", true},  {"2026-12-07T06:59", false},
                 {"2026-12-07T19:30", false}, {"2026-12-05T13:59", true},
                 {"2026-12-05T14:00", false}, {"2026-12-06T12:00", false}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/kt-screen-hours-%d.bmp",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
        struct display_opts o = {.screenshot = path, .at = 1, .now = at(cases[i].now)};
        CHECK(display_screenshot(cfg, st, &o) == 0);
        SDL_Surface *shot = SDL_LoadBMP(path);
        CHECK(shot != NULL);
        if (shot) {
            SDL_Surface *c = SDL_ConvertSurfaceFormat(shot, SDL_PIXELFORMAT_ARGB8888, 0);
            long lit = nonblack(c);
            printf("# --now %s: %ld lit pixels (want %s)\n", cases[i].now, lit,
                   cases[i].on ? "on" : "black");
            CHECK(cases[i].on ? lit > W * 50 : lit == 0);
            SDL_FreeSurface(c);
            SDL_FreeSurface(shot);
        }
        unlink(path);
    }
    store_free(st);
    config_free(cfg);
}

/* An alert at wake_severity or above turns the screen on out of hours;
 * a less severe one does not. */
static void test_hours_wake(void)
{
    struct config *cfg = make_cfg("position = bottom\nheight = 60\non = Mon-Fri 07:00-19:30\n"
                                  "wake_severity = severe\n");
    int64_t sunday = at("2026-12-06T12:00");
    SDL_Surface *surf = make_surface(W, H);
    struct render *r = open_render(surf, cfg);
    render_adopt(r, make_snap(titles, 3, NULL, 0), 0);
    CHECK(!display_is_on(&cfg->display, render_alert_severity(r), sunday));
    render_black(r);
    CHECK(nonblack(surf) == 0);
    struct alert minor = alert_of(ALERT_MODERATE, "Lift out of order");
    render_adopt(r, make_snap(titles, 3, &minor, 1), 0);
    CHECK(!display_is_on(&cfg->display, render_alert_severity(r), sunday));
    struct alert severe = alert_of(ALERT_SEVERE, "Gas leak: leave the building");
    render_adopt(r, make_snap(titles, 3, &severe, 1), 0);
    CHECK(display_is_on(&cfg->display, render_alert_severity(r), sunday));
    render_frame(r, 1);
    CHECK(count(surf, 0, H - 60, W, H, 0xE65100) > W * 30);
    render_close(r);
    SDL_FreeSurface(surf);
    config_free(cfg);
}

/* The kiosk loop asleep: no frames, last_present_ns fresh, "asleep". */
struct sleep_host {
    struct frame_stats *stats;
    int polls, asleep_polls, fresh_polls;
    double until;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static enum display_event sleep_poll(void *ctx, const struct config **cfg)
{
    (void)cfg;
    struct sleep_host *h = ctx;
    h->polls++;
    if (atomic_load(&h->stats->asleep)) {
        h->asleep_polls++;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        uint64_t last = atomic_load(&h->stats->last_present_ns);
        h->fresh_polls += last && now - last < 1500000000ull;
    }
    return mono() > h->until ? DISPLAY_QUIT : DISPLAY_CONTINUE;
}

static void test_hours_loop(void)
{
    struct config *cfg = make_cfg("on = never\n");
    struct store *st = store_new();
    store_configure(st, cfg, 1000);
    struct frame_stats stats;
    frame_stats_init(&stats);
    struct sleep_host h = {.stats = &stats, .until = mono() + 2.0};
    struct display_host host = {&h, sleep_poll};
    struct display_opts o = {.stats = &stats};
    CHECK(display_run(cfg, st, &host, &o) == 0);
    printf("# asleep 2 s: %d polls (%d asleep, %d with last_present_ns < 1.5 s old), %llu frames\n",
           h.polls, h.asleep_polls, h.fresh_polls, (unsigned long long)atomic_load(&stats.frames));
    CHECK(atomic_load(&stats.frames) == 0);
    CHECK(h.asleep_polls >= 5 && h.asleep_polls <= 15); /* ~5 a second, not 60 */
    CHECK(h.fresh_polls >= h.asleep_polls - 1);
    store_free(st);
    config_free(cfg);
}

int main(void)
{
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"banner colours", test_banner_colors},
        {"banner order", test_banner_order},
        {"takeover", test_takeover},
        {"headlines resume", test_resume},
        {"no blank switch", test_no_blank},
        {"announcement label", test_announcement},
        {"rotation", test_rotation},
        {"capture read-back", test_read_rgba},
        {"clock box", test_clock},
        {"office hours: --now screenshots", test_hours_screenshot},
        {"office hours: an alert wakes the screen", test_hours_wake},
        {"office hours: the loop sleeps", test_hours_loop},
    };
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
        printf("# %s\n", tests[i].name);
        tests[i].fn();
    }
    return tap_done();
}
