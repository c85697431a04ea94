/*
 * logo: see logo.h.
 */
#include "logo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "background.h"
#include "log.h"
#include "util.h"

struct logo_entry {
    char *feed;
    SDL_Surface *surf; /* ARGB8888, height px */
};

struct logo_set {
    struct logo_entry *e;
    size_t n;
};

/* path at height px: decoded (SVG at its own size) and scaled smoothly. */
static SDL_Surface *logo_load(const char *path, int height, char *err, size_t errlen)
{
    SDL_Surface *src = background_load(path, err, errlen);
    if (!src)
        return NULL;
    SDL_Surface *argb = SDL_ConvertSurfaceFormat(src, SDL_PIXELFORMAT_ARGB8888, 0);
    SDL_FreeSurface(src);
    if (!argb || argb->h <= 0) {
        kt_error(err, errlen, "%s", argb ? "empty image" : SDL_GetError());
        SDL_FreeSurface(argb);
        return NULL;
    }
    int w = (int)lround((double)argb->w * height / argb->h);
    w = w < 1 ? 1 : w;
    if (w == argb->w && height == argb->h) {
        SDL_SetSurfaceBlendMode(argb, SDL_BLENDMODE_NONE);
        return argb;
    }
    SDL_Surface *out = SDL_CreateRGBSurfaceWithFormat(0, w, height, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!out || SDL_SoftStretchLinear(argb, NULL, out, NULL) < 0) {
        kt_error(err, errlen, "cannot scale: %s", SDL_GetError());
        SDL_FreeSurface(out);
        out = NULL;
    }
    SDL_FreeSurface(argb);
    if (out)
        SDL_SetSurfaceBlendMode(out, SDL_BLENDMODE_NONE); /* copied, alpha and all */
    return out;
}

struct logo_set *logo_set_load(const struct logo_spec *v, size_t n, int height)
{
    if (n == 0 || height <= 0)
        return NULL;
    struct logo_set *s = kt_calloc(1, sizeof *s);
    s->e = kt_calloc(n, sizeof *s->e);
    for (size_t i = 0; i < n; i++) {
        char err[KT_ERR_MAX];
        SDL_Surface *surf = logo_load(v[i].path, height, err, sizeof err);
        if (!surf) {
            kt_log_warn("feed %s: logo %s: %s; showing the label", v[i].feed, v[i].path, err);
            continue;
        }
        s->e[s->n].feed = kt_strdup(v[i].feed);
        s->e[s->n].surf = surf;
        s->n++;
    }
    return s;
}

void logo_set_free(struct logo_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].feed);
        SDL_FreeSurface(s->e[i].surf);
    }
    free(s->e);
    free(s);
}

const SDL_Surface *logo_set_find(const struct logo_set *s, const char *feed)
{
    if (!s || !feed)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->e[i].feed, feed) == 0)
            return s->e[i].surf;
    return NULL;
}

SDL_Surface *logo_compose(const SDL_Surface *logo, int gap, SDL_Surface *line, int h)
{
    int lw = line ? line->w : 0;
    int w = logo->w + (line ? gap + lw : 0);
    SDL_Surface *out = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!out) {
        SDL_FreeSurface(line);
        return NULL;
    }
    SDL_FillRect(out, NULL, 0); /* transparent */
    /* Copied, alpha and all: the line is flattened onto the strip later
     * (the logo's blend mode is none). */
    SDL_Rect at = {0, (h - logo->h) / 2, logo->w, logo->h};
    SDL_BlitSurface((SDL_Surface *)logo, NULL, out, &at);
    if (line) {
        SDL_SetSurfaceBlendMode(line, SDL_BLENDMODE_NONE);
        SDL_Rect to = {logo->w + gap, 0, lw, line->h};
        SDL_BlitSurface(line, NULL, out, &to);
        SDL_FreeSurface(line);
    }
    return out;
}
