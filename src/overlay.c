/*
 * overlay: see overlay.h.
 */
#include "overlay.h"

#include <dlfcn.h>
#include <string.h>
#include <strings.h>

#include <SDL_syswm.h>

#include "config.h"
#include "log.h"

#ifdef SDL_VIDEO_DRIVER_X11
#include <X11/Xutil.h>
#endif

int overlay_initial_height(const struct cfg_display *d)
{
    if (d->height > 0)
        return d->height;
    /* DejaVu and Noto lines are about 1.17 em; the strip is 1.5 lines. */
    int line = d->font_size + (d->font_size * 17 + 99) / 100;
    return line + line / 2;
}

static SDL_Rect overlay_rect(bool top, int screen, int h)
{
    SDL_Rect b = {0, 0, 1280, 720};
    if (SDL_GetDisplayBounds(screen, &b) < 0)
        kt_log_warn("display: overlay: no bounds for screen %d: %s", screen, SDL_GetError());
    h = h < b.h ? h : b.h;
    return (SDL_Rect){b.x, top ? b.y : b.y + b.h - h, b.w, h};
}

/* WM_HINTS input = False: the window manager never gives it the focus. */
static void overlay_no_input(SDL_Window *win)
{
#ifdef SDL_VIDEO_DRIVER_X11
    typedef XWMHints *(*get_fn)(Display *, Window);
    typedef XWMHints *(*alloc_fn)(void);
    typedef int (*set_fn)(Display *, Window, XWMHints *);
    typedef int (*free_fn)(void *);
    typedef int (*flush_fn)(Display *);
    get_fn get = (get_fn)dlsym(RTLD_DEFAULT, "XGetWMHints");
    alloc_fn alloc = (alloc_fn)dlsym(RTLD_DEFAULT, "XAllocWMHints");
    set_fn set = (set_fn)dlsym(RTLD_DEFAULT, "XSetWMHints");
    free_fn xfree = (free_fn)dlsym(RTLD_DEFAULT, "XFree");
    flush_fn flush = (flush_fn)dlsym(RTLD_DEFAULT, "XFlush");
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    if (!get || !alloc || !set || !xfree || !flush || !SDL_GetWindowWMInfo(win, &info) ||
        info.subsystem != SDL_SYSWM_X11)
        return;
    Display *dpy = info.info.x11.display;
    XWMHints *h = get(dpy, info.info.x11.window);
    if (!h)
        h = alloc();
    if (!h)
        return;
    h->flags |= InputHint;
    h->input = False;
    set(dpy, info.info.x11.window, h);
    xfree(h);
    flush(dpy);
#else
    (void)win;
#endif
}

SDL_Window *overlay_create(const struct cfg_display *d, int screen, int h)
{
    const char *driver = SDL_GetCurrentVideoDriver();
    if (driver && strcasecmp(driver, "wayland") == 0)
        kt_log_warn("display: overlay: Wayland lets no window place itself or stay on top; "
                    "run with SDL_VIDEODRIVER=x11 (XWayland) for an overlay strip");
    SDL_Rect at = overlay_rect(d->position == POS_TOP, screen, h);
    /* For this window only: a dock, shown without taking the focus. */
    SDL_SetHint(SDL_HINT_X11_WINDOW_TYPE, "_NET_WM_WINDOW_TYPE_DOCK");
    SDL_SetHint(SDL_HINT_WINDOW_NO_ACTIVATION_WHEN_SHOWN, "1");
    SDL_Window *win = SDL_CreateWindow("kiosk-ticker", at.x, at.y, at.w, at.h,
                                       SDL_WINDOW_BORDERLESS | SDL_WINDOW_ALWAYS_ON_TOP |
                                           SDL_WINDOW_SKIP_TASKBAR | SDL_WINDOW_HIDDEN);
    SDL_SetHint(SDL_HINT_X11_WINDOW_TYPE, NULL);
    if (!win)
        return NULL;
    overlay_no_input(win); /* before it is mapped: the window manager reads it then */
    SDL_ShowWindow(win);
    kt_log_info("display: overlay %dx%d at %d,%d on screen %d", at.w, at.h, at.x, at.y, screen);
    return win;
}

void overlay_place(SDL_Window *win, bool top, int screen, int h)
{
    SDL_Rect at = overlay_rect(top, screen, h);
    int x, y, w, hh;
    SDL_GetWindowPosition(win, &x, &y);
    SDL_GetWindowSize(win, &w, &hh);
    if (x == at.x && y == at.y && w == at.w && hh == at.h)
        return;
    SDL_SetWindowSize(win, at.w, at.h);
    SDL_SetWindowPosition(win, at.x, at.y);
    kt_log_info("display: overlay %dx%d at %d,%d on screen %d", at.w, at.h, at.x, at.y, screen);
}
