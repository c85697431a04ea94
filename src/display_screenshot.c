/*
 * display_screenshot: --screenshot (display.h). The frame shown `at`
 * seconds after start, drawn by the software renderer into a surface (no
 * window, no display needed), saved as BMP or PNG. The render is
 * synchronous here: the frame waits for the text worker, so the file holds
 * the finished picture. The scroll position is a function of time, so any
 * t costs the same (scroll.h), 1e15 s included.
 *
 * PNG is written by png_encode.c (libpng, loaded anyway by FreeType);
 * SDL2_image, linked for the background images, only reads.
 */
#include "display.h"
#include "png_encode.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <SDL.h>

#include "config.h"
#include "log.h"
#include "render.h"
#include "store.h"
#include "util.h"

static bool display_is_png(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcasecmp(path + n - 4, ".png") == 0;
}

/* A surface as an RGBA PNG (png_encode.h: the encoder the control API's
 * screenshot uses too). */
static int display_save_png(SDL_Surface *s, const char *path)
{
    /* ABGR8888 is R, G, B, A in memory on either byte order. */
    SDL_Surface *rgba = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ABGR8888, 0);
    if (!rgba)
        return -1;
    struct kt_buf b;
    kt_buf_init(&b);
    int rc = png_encode_rgba_pitch(rgba->pixels, rgba->w, rgba->h, rgba->pitch, &b);
    SDL_FreeSurface(rgba);
    FILE *f = rc == 0 ? fopen(path, "wb") : NULL;
    bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok) {
        SDL_SetError(rc == 0 ? "cannot write %s" : "PNG encoding failed for %s", path);
        rc = -1;
    }
    kt_buf_free(&b);
    return rc;
}

int display_screenshot(const struct config *cfg, struct store *store,
                       const struct display_opts *opts)
{
    int w = opts->width > 0 ? opts->width : cfg->display.width;
    int h = opts->height > 0 ? opts->height : cfg->display.height_window;
    char err[KT_ERR_MAX];
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!surf) {
        kt_log_error("display: cannot make a %dx%d surface: %s", w, h, SDL_GetError());
        return 1;
    }
    struct render *r = render_open_surface(surf, err, sizeof err);
    if (r)
        render_set_logos(r, cfg->feeds, cfg->n_feeds); /* images branch */
    if (!r || render_apply(r, &cfg->display, 0, err, sizeof err) < 0) {
        kt_log_error("display: %s", err);
        render_close(r);
        SDL_FreeSurface(surf);
        return 1;
    }
    render_adopt(r, store_snapshot(store), 0);
    /* --now: office hours at that time (a waking alert counts). */
    int64_t now = opts->now ? opts->now : (int64_t)time(NULL);
    bool on = display_is_on(&cfg->display, render_alert_severity(r), now);
    render_set_now(r, now, opts->at);
    if (on)
        render_frame(r, opts->at);
    else
        render_black(r);
    int rc;
    if (display_is_png(opts->screenshot)) {
        rc = display_save_png(surf, opts->screenshot);
    } else {
        rc = SDL_SaveBMP(surf, opts->screenshot);
    }
    if (rc < 0)
        kt_log_error("display: cannot write %s: %s", opts->screenshot, SDL_GetError());
    else
        kt_log_info("display: wrote %s (%dx%d at t=%.3f s%s)", opts->screenshot, w, h, opts->at,
                    on ? "" : ", outside office hours: black");
    render_close(r);
    SDL_FreeSurface(surf);
    return rc < 0 ? 1 : 0;
}
