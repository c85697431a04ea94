/*
 * textworker: the strip's text prepared off the render thread (edge
 * module: SDL2 surfaces, font.c, a thread).
 *
 * Shaping and rasterising a long mixed-script headline costs milliseconds
 * (fontconfig fallback, fribidi, HarfBuzz, blending), several refreshes
 * on a slow board. So one thread owns a font set and does all of it: the
 * render thread posts the look (font, colours, separator, idle text,
 * pixel format), each list it shows (a snapshot reference) and, whenever
 * it changes, the items it wants next in the order it needs them; the
 * worker answers with each item's width and finished surface, already
 * drawn onto an opaque background in the format the renderer copies
 * fastest, ready to upload. Opening a font (file I/O, fontconfig) happens
 * here too, never on the render thread.
 *
 * The render thread never waits: posting is a copy of a few dozen words
 * and taking is a pointer swap, under a mutex the worker never holds while
 * it works; checking for results is an atomic load. A new want list
 * replaces the old one (queued work no longer wanted is dropped), a new
 * look drops everything made for the old one, and the worker keeps the
 * two most recent lists only, so its memory is bounded by what the render
 * asks for (what is on and near the screen), not by the headline count.
 */
#ifndef KT_TEXTWORKER_H
#define KT_TEXTWORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "logo.h"

struct store_snapshot;
struct textworker;

struct textworker_look {
    const char *font; /* fontconfig pattern or file path */
    int font_px;
    SDL_Color fg, label;
    /* Opaque (alpha 255): text is drawn onto it once, so frames copy it
     * instead of blending; otherwise surfaces keep their alpha. */
    SDL_Color bg;
    Uint32 format;         /* pixel format of opaque surfaces */
    const char *separator; /* drawn in fg */
    const char *idle_text; /* the one item of an idle list */
    /* A font that does not open is replaced by a default (the first look:
     * a screen must show something); otherwise the previous font stays. */
    bool fallback;
    /* Feeds whose logo is drawn in place of their label (copied). */
    const struct logo_spec *logos;
    size_t n_logos;
    /* The items are the snapshot's alerts (label, text), not its
     * headlines: the render's alert strip has a worker of its own. */
    bool alerts;
};

/* One item wanted: item `index` of the list posted with serial `list`. */
struct textworker_want {
    uint32_t list;
    uint32_t index;
    uint64_t key;      /* the caller's, returned with the result */
    bool measure_only; /* its width only (a jump far ahead passes it by) */
};

enum textworker_kind { TEXTWORKER_LOOK, TEXTWORKER_ITEM, TEXTWORKER_TEXT };

struct textworker_result {
    struct textworker_result *next;
    enum textworker_kind kind;
    uint32_t look; /* the look it was made with (textworker_set_look's number) */
    /* ITEM */
    uint64_t key;
    uint32_t list, index;
    int32_t width; /* px: 0 when there is nothing to draw */
    bool measured_only;
    /* ITEM: the line (NULL when there is nothing to draw or it failed);
     * LOOK: the separator (NULL when empty). Height: line_h of the look. */
    SDL_Surface *surface;
    bool opaque; /* drawn onto the background: no blending needed */
    /* LOOK */
    int line_h;
    int sep_w;
    bool no_font;        /* no font could be opened at all */
    char font_path[256]; /* the main font's file */
    char err[640];       /* a font that failed, what is used instead */
};

/* Starts the thread. NULL with err when it cannot. */
struct textworker *textworker_start(char *err, size_t errlen);
/* Stops it. With wait, joins the thread (for one-shot modes and tests:
 * the thread finishes at most the item in hand). Without, does not wait:
 * the thread ends on its own after that item and frees everything. */
void textworker_stop(struct textworker *w, bool wait);

/* A new look; returns its number (1, 2, ...). Strings are copied. */
uint32_t textworker_set_look(struct textworker *w, const struct textworker_look *look);
/* The list with this serial: snap's items (a reference is taken), or the
 * idle text alone when snap is NULL. */
void textworker_set_list(struct textworker *w, uint32_t serial, const struct store_snapshot *snap);
/* What to make next, most urgent first, for look number `look`: replaces
 * the previous list. Items already made and not taken yet are not made
 * again. */
void textworker_want(struct textworker *w, uint32_t look, const struct textworker_want *v,
                     size_t n);

/* A standalone text (the clock's) in fg on the background, made before
 * any wanted item; replaces one posted and not made yet. Its result is a
 * TEXTWORKER_TEXT with this key (item fields: width, surface, opaque). */
void textworker_set_text(struct textworker *w, uint64_t key, const char *text);

/* Are results waiting? An atomic load: free to call every frame. */
bool textworker_has_results(struct textworker *w);
/* Every result waiting, oldest first (the caller frees each). */
struct textworker_result *textworker_take(struct textworker *w);
void textworker_result_free(struct textworker_result *res);

/* For one-shot modes and the benchmark, never the kiosk loop: waits until
 * a result is waiting (1), the worker has nothing left to do (0), or
 * timeout_ms passed (-1). */
int textworker_wait(struct textworker *w, int timeout_ms);
/* Same, but waits until the worker has nothing left to do (0) whatever is
 * waiting, or timeout_ms passed (-1): the benchmark gives the worker the
 * time a real frame interval would. */
int textworker_wait_idle(struct textworker *w, int timeout_ms);

/* Tests: a paused worker takes no new item (the render must cope). */
void textworker_pause(struct textworker *w, bool paused);

/* CPU time the worker thread has used, and items it has made. */
uint64_t textworker_cpu_ns(struct textworker *w);
uint64_t textworker_items(struct textworker *w);

#endif
