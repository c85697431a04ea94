/*
 * overlay: mode = overlay, the strip as a window of its own over a desktop
 * (edge module: SDL2; Xlib through dlsym, as render_probe.c).
 *
 * A borderless window as wide as the screen and as high as the strip, at
 * the screen's top or bottom (position), kept above other windows
 * (SDL_WINDOW_ALWAYS_ON_TOP: _NET_WM_STATE_ABOVE), out of the task bar
 * (SKIP_TASKBAR), typed as a dock (SDL_HINT_X11_WINDOW_TYPE: window
 * managers neither focus nor decorate docks) and, on X11, with WM_HINTS
 * input = False, so clicking on it or starting it never takes the keyboard
 * from the signage page or player beneath. SDL 2.26 sets input = True on
 * every window, hence the Xlib call. Wayland's xdg-shell lets a client
 * neither place its window nor keep it on top: there the ticker says so
 * and runs as a plain window (use SDL_VIDEODRIVER=x11 under XWayland).
 */
#ifndef KT_OVERLAY_H
#define KT_OVERLAY_H

#include <stdbool.h>

#include <SDL.h>

struct cfg_display;

/* The strip's height before the font is open: `height`, or an estimate
 * from font_size (the window is fitted when the font is known). */
int overlay_initial_height(const struct cfg_display *d);
/* Creates the overlay window on screen, h pixels high. */
SDL_Window *overlay_create(const struct cfg_display *d, int screen, int h);
/* Moves and sizes it to h pixels at the top or bottom of its screen
 * (when it is not there already). */
void overlay_place(SDL_Window *win, bool top, int screen, int h);

#endif
