/*
 * render_probe: what the machine offers the renderer (edge module: SDL2,
 * sysfs, Xlib through dlsym). Used by render.c when it opens a window.
 *
 *  - the video driver: x11, wayland or kmsdrm, tried in turn (or the one
 *    SDL_VIDEODRIVER names), and when none works one line saying why
 *    each failed, device permissions and groups included; never SDL's
 *    invisible offscreen or dummy driver unless asked for by name;
 *  - whether a GPU may do OpenGL in hardware (/dev/dri, sysfs drivers),
 *    and whether the GL in use is a software rasteriser;
 *  - X11 details SDL does not expose: is there a window manager, and a
 *    black window background so the area around the strip costs nothing.
 */
#ifndef KT_RENDER_PROBE_H
#define KT_RENDER_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>

/* Starts SDL's video subsystem on a driver that shows something. On
 * success returns 0 and the driver's name is SDL_GetCurrentVideoDriver().
 * Otherwise -1 and err is one line: "no screen: x11: DISPLAY is not set;
 * wayland: ...; kmsdrm: /dev/dri/card0: Permission denied (...)". */
int render_probe_video_init(char *err, size_t errlen);

/* Why the KMS devices in dir (normally /dev/dri) cannot be used, into why;
 * returns true when a card device can be opened for reading and writing. */
bool render_probe_drm(const char *dir, char *why, size_t whylen);

/* Is there a GPU that may do OpenGL in hardware? *why says what decided. */
bool render_probe_may_have_gpu(const char **why);
/* GL_RENDERER of the current context, if any; is it a software one? */
const char *render_probe_gl_renderer(void);
bool render_probe_is_software_gl(const char *gl);

/* X11: does the server have a window manager (unknown counts as yes)? */
bool render_probe_x11_has_wm(void);
/* X11: gives the window a black background the server paints itself, so
 * the window surface outside the strip is never drawn nor sent (and its
 * pages never touched). False when not on X11 or it did not work. */
bool render_probe_x11_black_background(SDL_Window *win);

#endif
