/*
 * background: the image shown where the strip does not cover the screen
 * (edge module: SDL2, SDL2_image, a thread).
 *
 * background_image is one file, or a directory shown as a slideshow: each
 * file for slide_duration, in name order, the first from start-up. A
 * decoder thread reads, decodes (PNG, JPEG, SVG through SDL2_image) and
 * scales each image to the area it fills (fit cover: filled, cropped to
 * its middle; contain: whole, centred on black), in the pixel format the
 * render copies fastest, so the render thread only uploads a finished
 * surface once per slide and draws it with one copy.
 *
 * Slide k is shown from t = k * slide_duration. The render asks for it a
 * little before it is due (lead), so it is decoded in time; the directory
 * is read again for every slide, so files added, removed or renamed take
 * effect at the next slide without a reload. Slide k + 1 is the file after
 * slide k's in name order (wrapping round); a file that cannot be read or
 * decoded is skipped (one log line per file and version) and the next one
 * tried, and when none can be, the image on screen stays. At most two
 * decoded images exist: the one on screen (the render's texture) and the
 * next (a finished surface, here or with the render).
 *
 * The render thread never waits: asking is a copy of four numbers under a
 * mutex the decoder never holds while it works, and checking for a result
 * is an atomic load.
 */
#ifndef KT_BACKGROUND_H
#define KT_BACKGROUND_H

#include <stdbool.h>
#include <stdint.h>

#include <SDL.h>

#include "config.h"

struct background;

/* SDL2_image's codecs, loaded once for every thread that decodes. */
void background_img_init(void);
/* An image file as a surface: PNG through libpng, JPEG and SVG (at its
 * own size) through SDL2_image. NULL with err. Any thread. */
SDL_Surface *background_load(const char *path, char *err, size_t errlen);

/* How long before a slide is due the render asks for it. */
double background_lead(double slide_s);

/* Starts a decoder for path (a file or a directory). NULL with err when
 * the thread cannot start (a missing path is not an error: it is logged
 * and nothing is shown until it appears). format: the surfaces' pixel
 * format. */
struct background *background_start(const char *path, enum background_fit fit, double slide_s,
                                    Uint32 format, char *err, size_t errlen);
/* Stops it; with wait, joins the thread (one-shots, tests), otherwise the
 * thread finishes the image in hand and frees everything itself. */
void background_stop(struct background *b, bool wait);

/* Slide number shown at time t (0 for a single file). */
int64_t background_slide(const struct background *b, double t);

/* Asks for slide k scaled to w x h (again, after lost textures), in place
 * of what was asked before. Cheap: a few stores under the mailbox mutex;
 * the render calls it only when what it wants changed. */
void background_want(struct background *b, int64_t k, int w, int h);

struct background_image {
    SDL_Surface *surface; /* w x h, or NULL: nothing readable (keep what is shown) */
    int64_t slide;
    int w, h;
    char name[256]; /* the file shown */
};
/* Is a finished image waiting? An atomic load. */
bool background_ready(struct background *b);
/* Takes the finished image (the caller frees surface); false when none. */
bool background_take(struct background *b, struct background_image *out);
/* One-shots and tests only: waits until an image is waiting or the
 * decoder is idle (0), or timeout_ms passed (-1). */
int background_wait(struct background *b, int timeout_ms);

/* Images decoded and files skipped so far (tests). */
uint64_t background_decoded(struct background *b);
uint64_t background_skipped(struct background *b);

#endif
