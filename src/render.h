/*
 * render: the ticker strip drawn with an SDL renderer (edge module).
 *
 * Owns the window (or a caller's surface), the renderer, the font and the
 * texture cache. A headline is rasterised once, as it approaches the
 * screen, kept as textures (tiles no wider than the GPU allows) while
 * visible, and freed when it has left: texture memory is bounded by what
 * fits on screen, not by the number of headlines. Steady-state frames
 * allocate nothing, touch no file and rasterise nothing.
 *
 * Time t is in seconds since the render started; the scroll position is a
 * pure function of it (scroll.h), so tests and screenshots draw any t
 * directly.
 */
#ifndef KT_RENDER_H
#define KT_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

struct cfg_display;
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
 * keeps its place where it can. The first call must succeed (it opens the
 * font); later, a font that fails to open keeps the old one and returns -1
 * with err, the rest being applied. */
int render_apply(struct render *r, const struct cfg_display *d, double t, char *err, size_t errlen);

/* Shows a new snapshot (the render takes over the reference): what is on
 * screen finishes its pass, the new list follows (scroll_layout_adopt).
 * An empty snapshot shows the idle text. */
void render_adopt(struct render *r, const struct store_snapshot *snap, double t);
uint64_t render_generation(const struct render *r);

/* Lays out and draws the frame at time t (not presented). */
void render_frame(struct render *r, double t);
void render_present(struct render *r);

/* True when presenting waits for the display (vsync): otherwise the
 * caller paces frames itself. */
bool render_paced(const struct render *r);
/* True once the renderer is lost for good (the caller should exit and be
 * restarted). */
bool render_failed(const struct render *r);

/* Window size changes, display changes, lost textures. */
void render_handle_event(struct render *r, const SDL_Event *ev);

struct render_stats {
    size_t textures_alive; /* SDL textures existing now (tiles + separator) */
    size_t textures_max;   /* most alive at once */
    size_t slots_alive;    /* headlines held as textures now */
    uint64_t rasterised;   /* headlines rasterised so far */
    uint64_t textures_created, textures_destroyed;
    uint64_t placed; /* entries placed on the tape so far */
    uint64_t shown;  /* rasterised headlines that have come on screen */
    uint64_t frames;
};
void render_get_stats(const struct render *r, struct render_stats *s);

struct render_geometry {
    int w, h;             /* output size */
    int strip_y, strip_h; /* the strip */
    int text_y, line_h;   /* the text row */
    int gap;              /* separator width */
    int origin;           /* tape coordinate of the first headline */
};
void render_get_geometry(const struct render *r, struct render_geometry *g);
const struct scroll_layout *render_layout(const struct render *r);
/* Tape offset at time t (after snapping). */
double render_offset(const struct render *r, double t);
double render_refresh_hz(const struct render *r);
SDL_Renderer *render_sdl_renderer(const struct render *r);

/* Benchmark floor: while recording, each frame keeps its list of texture
 * copies; replay draws the last one again with no ticker logic at all. */
void render_record(struct render *r, bool on);
void render_replay(struct render *r);

/* Heap allocations made by this thread while counting
 * (render_alloc_count.c interposes malloc and friends). counting_works()
 * is false when the interposition is not in effect (sanitizer builds). */
void render_alloc_count_start(void);
uint64_t render_alloc_count_stop(void);
bool render_alloc_counting_works(void);

#endif
