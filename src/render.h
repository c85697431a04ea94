/*
 * render: the ticker strip drawn with an SDL renderer (edge module).
 *
 * Owns the window (or a caller's surface), the renderer, the texture
 * cache and a text worker (textworker.h) that opens the fonts, shapes and
 * rasterises each headline on its own thread before it is due. The render
 * thread only uploads finished lines into textures (tiles no wider than
 * the GPU allows; at most one headline per frame), draws and presents;
 * textures live while a headline is on or near the screen, so memory is
 * bounded by the screen, not by the number of headlines. Steady-state
 * frames allocate nothing, touch no file, make no system call, never
 * wait for the worker and rasterise nothing.
 *
 * Time t is in seconds since the render started; the scroll position is a
 * pure function of it (scroll.h), so tests and screenshots draw any t
 * directly. A window render never waits for text: what is not ready is
 * not drawn (and the tape waits at the edge, scroll.h). A surface render
 * is synchronous by default: each frame waits for the text it shows, so a
 * screenshot or a test sees the finished picture (render_set_sync).
 *
 * The whole screen (issues 11, 13): while the snapshot holds active alerts
 * they replace the headlines (banner or takeover, alert_mode), made by a
 * second text worker; the headlines stand still meanwhile and resume
 * where they were. rotate draws the frame upright at the rotated size and
 * copies it turned onto the panel (w, h and the geometry are the frame's;
 * the target surface and --size are the panel's). clock puts a fixed box
 * at one end, the tape scrolling beside it.
 */
#ifndef KT_RENDER_H
#define KT_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

struct cfg_display;
struct cfg_feed;
struct store_snapshot;
struct scroll_layout;

struct render;

/* Opens the window cfg asks for (fullscreen desktop on `screen`, or a
 * window of size; width/height > 0 override the size) and picks the
 * renderer: KT_RENDERER=software|accelerated forces one; otherwise the
 * GPU is checked (no /dev/dri, or an OpenGL renderer that is llvmpipe,
 * softpipe or swrast, means software rendering, which costs less than
 * Mesa's software GL). Disables the screensaver and hides the cursor. */
struct render *render_open_window(const struct cfg_display *d, int width, int height, char *err,
                                  size_t errlen);
/* Software rendering into target (ARGB8888, caller keeps it alive): for
 * screenshots, the benchmark and tests; needs no video subsystem. */
struct render *render_open_surface(SDL_Surface *target, char *err, size_t errlen);
void render_close(struct render *r);

/* Applies a look (font, colours, separator, idle text, height, position,
 * direction, speed, window mode/size, vsync) at time t. The text on screen
 * keeps its place where it can. A new font is opened by the worker: until
 * then the old look stays (at first, nothing is drawn). The first font
 * that fails to open is replaced by a default (logged); later, a font
 * that fails keeps the old one (logged), the rest being applied. A sync
 * render waits for the font and returns -1 with err in that case; a
 * window render returns 0 and logs it when the worker answers. */
int render_apply(struct render *r, const struct cfg_display *d, double t, char *err, size_t errlen);

/* The feeds' logos ([feed] logo), drawn in place of their labels: takes
 * effect with the next render_apply (a change makes a new look: the worker
 * reads and scales them, the render never does). */
void render_set_logos(struct render *r, const struct cfg_feed *feeds, size_t n);

/* Shows a new snapshot (the render takes over the reference): what is on
 * screen finishes its pass, the new list follows (scroll_layout_adopt).
 * An empty snapshot shows the idle text. */
void render_adopt(struct render *r, const struct store_snapshot *snap, double t);
uint64_t render_generation(const struct render *r);

/* Lays out and draws the frame at time t (not presented). */
void render_frame(struct render *r, double t);
void render_present(struct render *r);
/* The panel's frame as drawn (after render_frame, before present), R,G,B,A
 * bytes, pitch w * 4, into *buf (grown to *cap when needed: the caller keeps
 * it). For the control API's screenshot (WAVE2 §4). 0, or -1. */
int render_read_rgba(struct render *r, uint8_t **buf, size_t *cap, int *w, int *h);
/* The clock's wall time: now (UTC s) at scroll time t, running with t
 * (--screenshot --now, tests); 0 = the system clock. */
void render_set_now(struct render *r, int64_t now, double t);
/* A black frame (office hours: the screen is off), to present once. */
void render_black(struct render *r);
/* The severity of the most severe alert in the snapshot shown (they are
 * sorted), or -1 when none is active. */
int render_alert_severity(const struct render *r);

/* True when presenting waits for the display (vsync): otherwise the
 * caller paces frames itself. */
bool render_paced(const struct render *r);
/* True once the renderer is lost for good or no font at all could be
 * opened (the caller should close it). */
bool render_failed(const struct render *r);
/* The last frame drawn showed everything it should (the first screenful
 * is up: the kiosk starts the clock then). */
bool render_ready(const struct render *r);
/* The worker's last word on a font: "" or what failed and what is used. */
const char *render_look_error(const struct render *r);

/* Window size changes, display changes, lost textures. */
void render_handle_event(struct render *r, const SDL_Event *ev);

struct render_stats {
    size_t textures_alive; /* SDL textures existing now (tiles + separator) */
    size_t textures_max;   /* most alive at once */
    size_t slots_alive;    /* headlines held as textures now */
    size_t ready;          /* finished lines waiting for their upload */
    uint64_t results;      /* lines received from the worker */
    uint64_t uploads;      /* lines uploaded into textures */
    uint64_t textures_created, textures_destroyed;
    uint64_t placed; /* entries placed on the tape so far */
    uint64_t shown;  /* uploaded headlines that have come on screen */
    uint64_t frames;
    /* frames that had a blank where text belongs (not ready in time) */
    uint64_t not_ready_frames;
    uint64_t tape_waits; /* times the tape waited at the edge for a line */
    uint64_t worker_items, worker_cpu_ns;
};
void render_get_stats(const struct render *r, struct render_stats *s);

struct render_geometry {
    int w, h;             /* output size */
    int strip_y, strip_h; /* the strip */
    int text_y, line_h;   /* the text row */
    int gap;              /* separator width */
    int origin;           /* tape coordinate of the first headline */
    int tile_w;           /* widest texture a headline is cut into */
    int tape_x, tape_w;   /* the columns the headlines scroll in (beside the clock) */
};
void render_get_geometry(const struct render *r, struct render_geometry *g);
const struct scroll_layout *render_layout(const struct render *r);
/* Tape offset at time t (after snapping). */
double render_offset(const struct render *r, double t);
double render_refresh_hz(const struct render *r);
SDL_Renderer *render_sdl_renderer(const struct render *r);
SDL_Window *render_sdl_window(const struct render *r);

/* Sync: each frame waits (bounded) for the text it shows; the default for
 * surfaces. The benchmark turns it off to run frames as the kiosk does. */
void render_set_sync(struct render *r, bool sync);
/* Waits until the worker has nothing left to do: 0, or -1 after
 * timeout_ms. For the benchmark, which gives the worker between frames
 * the time a refresh interval would. */
int render_wait_worker(struct render *r, int timeout_ms);
/* Warm-up (before the kiosk's clock starts: nothing moves yet): every
 * finished line is uploaded at once, not one a frame, and
 * render_wait_text may replace the frame's sleep, waking as soon as the
 * worker has something (at most timeout_ms). */
void render_set_warmup(struct render *r, bool on);
void render_wait_text(struct render *r, int timeout_ms);
/* Tests: a paused worker makes nothing (text not ready in time). */
void render_pause_worker(struct render *r, bool paused);
/* Tests: as if the GPU's textures could be no wider than px. */
void render_limit_texture_width(struct render *r, int px);

/* The benchmark's floor (bench/): fn sees every copy a frame makes (a
 * texture, or in software a line drawn straight from its surface);
 * render_fill_strip, render_blit and render_end_strip then redo a frame's
 * fill and copies with no ticker logic. */
struct render_piece {
    SDL_Texture *tex;  /* or */
    SDL_Surface *surf; /* drawn straight (software, opaque) */
    SDL_FRect dst;
};
typedef void (*render_copy_fn)(void *ctx, const struct render_piece *p);
void render_observe_copies(struct render *r, render_copy_fn fn, void *ctx);
void render_fill_strip(struct render *r);
void render_blit(struct render *r, const struct render_piece *p);
void render_end_strip(struct render *r);

#endif
