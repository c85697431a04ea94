/*
 * logo: feed logos drawn in place of the label text (edge module: SDL2;
 * images through background_load). Used by the text worker only, so
 * every file is read and every logo scaled on its thread, once per look
 * (a new font size is a new height), never per headline or frame.
 */
#ifndef KT_LOGO_H
#define KT_LOGO_H

#include <stddef.h>

#include <SDL.h>

/* A [feed] logo = FILE. */
struct logo_spec {
    const char *feed;
    const char *path;
};

struct logo_set;

/* Reads and scales each logo to height px (its width by its aspect). A
 * file that cannot be read is logged once here and its feed keeps its
 * label text. NULL when n is 0. */
struct logo_set *logo_set_load(const struct logo_spec *v, size_t n, int height);
void logo_set_free(struct logo_set *s);
/* The logo of feed, or NULL (none, or it could not be read). */
const SDL_Surface *logo_set_find(const struct logo_set *s, const char *feed);

/* A new ARGB8888 line of height h: the logo, gap px, then line (the title
 * as font_render_line made it, freed here; NULL: the logo alone). NULL
 * when no surface can be made. */
SDL_Surface *logo_compose(const SDL_Surface *logo, int gap, SDL_Surface *line, int h);

#endif
