/*
 * render_probe: see render_probe.h.
 *
 * SDL left to itself tries its drivers in turn and, when no screen works,
 * settles on "offscreen": the ticker then draws to nothing at full frame
 * rate, silently. So the drivers that show something are tried here one
 * by one, with the reason each failed kept, and checked before SDL is
 * asked where SDL's own failure would be a line on stderr or a bare
 * "not available" (Wayland without a runtime directory, KMS without
 * permission on the device).
 *
 * Xlib is reached through dlsym: SDL has loaded it, and the program need
 * not link it for two calls.
 */
#include "render_probe.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SDL_syswm.h>
#ifdef SDL_VIDEO_DRIVER_X11
#include <X11/Xatom.h>
#endif

#include "util.h"

/* ---- video driver ---- */

/* " (group video, mode 0660; this user is not in it)" for a device the
 * process cannot open: the usual cause is a service user outside the
 * video or render group. */
static void render_probe_describe_perm(const struct stat *st, char *out, size_t outlen)
{
    const struct group *g = getgrgid(st->st_gid);
    char gname[48];
    if (g)
        snprintf(gname, sizeof gname, "%s", g->gr_name);
    else
        snprintf(gname, sizeof gname, "%u", (unsigned)st->st_gid);
    bool member = getegid() == st->st_gid;
    gid_t groups[256];
    int n = getgroups(256, groups);
    for (int i = 0; i < n && !member; i++)
        member = groups[i] == st->st_gid;
    snprintf(out, outlen, " (group %s, mode %04o; this user is %sin group %s)", gname,
             (unsigned)(st->st_mode & 07777), member ? "" : "not ", gname);
}

bool render_probe_drm(const char *dir, char *why, size_t whylen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, whylen, "no %s (%s)", dir, strerror(errno));
        return false;
    }
    char first_bad[1024] = "";
    bool any = false, usable = false;
    struct dirent *de;
    while (!usable && (de = readdir(d))) {
        if (strncmp(de->d_name, "card", 4) != 0)
            continue;
        any = true;
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        int fd = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd >= 0) {
            close(fd);
            usable = true;
            break;
        }
        int e = errno;
        if (first_bad[0])
            continue;
        struct stat st;
        char perm[256] = "";
        if ((e == EACCES || e == EPERM) && stat(path, &st) == 0)
            render_probe_describe_perm(&st, perm, sizeof perm);
        snprintf(first_bad, sizeof first_bad, "%s: %s%s", path, strerror(e), perm);
    }
    closedir(d);
    if (usable)
        return true;
    if (!any)
        snprintf(why, whylen, "no %s/card* device", dir);
    else
        snprintf(why, whylen, "%s", first_bad);
    return false;
}

static bool render_probe_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

/* Why SDL should not even be asked to try driver, or NULL to ask it. */
static const char *render_probe_precheck(const char *driver, char *buf, size_t buflen)
{
    if (strcmp(driver, "x11") == 0)
        return render_probe_env("DISPLAY") ? NULL : "DISPLAY is not set";
    if (strcmp(driver, "wayland") == 0) {
        /* libwayland prints to stderr when it has no runtime directory. */
        if (!render_probe_env("XDG_RUNTIME_DIR"))
            return "XDG_RUNTIME_DIR is not set";
        if (render_probe_env("WAYLAND_DISPLAY"))
            return NULL;
        snprintf(buf, buflen, "%s/wayland-0", getenv("XDG_RUNTIME_DIR"));
        if (access(buf, F_OK) != 0)
            return "WAYLAND_DISPLAY is not set and no compositor socket wayland-0";
        return NULL;
    }
    if (strcmp(driver, "kmsdrm") == 0)
        return render_probe_drm("/dev/dri", buf, buflen) ? NULL : buf;
    return NULL;
}

static int render_probe_try(const char *driver, char *why, size_t whylen)
{
    char buf[512];
    const char *pre = render_probe_precheck(driver, buf, sizeof buf);
    if (pre) {
        snprintf(why, whylen, "%s", pre);
        return -1;
    }
    SDL_SetHint(SDL_HINT_VIDEODRIVER, driver);
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) == 0)
        return 0;
    snprintf(why, whylen, "%s", SDL_GetError());
    return -1;
}

int render_probe_video_init(char *err, size_t errlen)
{
    const char *asked = getenv("SDL_VIDEODRIVER");
    if (asked && *asked) {
        /* The user's choice, offscreen and dummy included; nothing else. */
        char why[512];
        if (strchr(asked, ',')) {
            if (SDL_InitSubSystem(SDL_INIT_VIDEO) == 0)
                return 0;
            snprintf(why, sizeof why, "%s", SDL_GetError());
        } else if (render_probe_try(asked, why, sizeof why) == 0) {
            return 0;
        }
        return kt_error(err, errlen, "no screen: %s (SDL_VIDEODRIVER): %s", asked, why);
    }
    static const char *const drivers[] = {"x11", "wayland", "kmsdrm"};
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_puts(&b, "no screen: ");
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++) {
        char why[512];
        if (render_probe_try(drivers[i], why, sizeof why) == 0) {
            kt_buf_free(&b);
            return 0;
        }
        kt_buf_printf(&b, "%s%s: %s", i ? "; " : "", drivers[i], why);
    }
    SDL_SetHint(SDL_HINT_VIDEODRIVER, NULL);
    kt_error(err, errlen, "%s", b.data);
    kt_buf_free(&b);
    return -1;
}

/* ---- GPU ---- */

/* No DRM device at all, or only display-only ones (VM and server
 * consoles, USB and SPI panels), means no: trying OpenGL then only loads
 * Mesa's software rasteriser, and Mesa stays mapped (tens of MB) even
 * after the fallback. Unknown drivers count as maybe: the GL_RENDERER
 * check decides. */
bool render_probe_may_have_gpu(const char **why)
{
    static const char *const display_only[] = {"simpledrm",  "simple-framebuffer",
                                               "vkms",       "vgem",
                                               "bochs-drm",  "bochs",
                                               "cirrus",     "cirrus-qemu",
                                               "ast",        "mgag200",
                                               "hyperv_drm", "udl",
                                               "gm12u320",   "efifb",
                                               "vesafb"};
    DIR *d = opendir("/dev/dri");
    if (!d) {
        *why = "no GPU device in /dev/dri";
        return false;
    }
    bool any = false;
    struct dirent *de;
    while (!any && (de = readdir(d)))
        any = strncmp(de->d_name, "card", 4) == 0 || strncmp(de->d_name, "renderD", 7) == 0;
    closedir(d);
    if (!any) {
        *why = "no GPU device in /dev/dri";
        return false;
    }
    d = opendir("/sys/class/drm");
    if (!d) {
        *why = "GPU device found";
        return true;
    }
    bool maybe = false, seen = false;
    while (!maybe && (de = readdir(d))) {
        if (strncmp(de->d_name, "card", 4) != 0 || strchr(de->d_name, '-'))
            continue; /* connectors are card0-HDMI-A-1 and the like */
        char link[300], target[256];
        snprintf(link, sizeof link, "/sys/class/drm/%s/device/driver", de->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0) {
            maybe = true;
            continue;
        }
        target[n] = '\0';
        const char *name = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
        bool known2d = false;
        for (size_t i = 0; i < sizeof display_only / sizeof display_only[0]; i++)
            known2d |= strcmp(name, display_only[i]) == 0;
        seen = true;
        maybe = !known2d;
    }
    closedir(d);
    *why = maybe || !seen ? "GPU device found" : "display-only DRM devices";
    return maybe || !seen;
}

const char *render_probe_gl_renderer(void)
{
    typedef const unsigned char *(*get_string_fn)(unsigned int);
    if (!SDL_GL_GetCurrentContext())
        return NULL;
    get_string_fn get_string = (get_string_fn)SDL_GL_GetProcAddress("glGetString");
    return get_string ? (const char *)get_string(0x1F01 /* GL_RENDERER */) : NULL;
}

bool render_probe_is_software_gl(const char *gl)
{
    static const char *const soft[] = {"llvmpipe", "softpipe", "swrast", "software"};
    if (!gl)
        return false;
    char low[256];
    size_t n = 0;
    for (; gl[n] && n < sizeof low - 1; n++)
        low[n] = (char)tolower((unsigned char)gl[n]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof soft / sizeof soft[0]; i++)
        if (strstr(low, soft[i]))
            return true;
    return false;
}

/* ---- X11 ---- */

/* Asked through a hidden probe window: the EWMH check window on the
 * root. */
bool render_probe_x11_has_wm(void)
{
#ifdef SDL_VIDEO_DRIVER_X11
    typedef Atom (*intern_fn)(Display *, const char *, Bool);
    typedef Window (*root_fn)(Display *);
    typedef int (*prop_fn)(Display *, Window, Atom, long, long, Bool, Atom, Atom *, int *,
                           unsigned long *, unsigned long *, unsigned char **);
    typedef int (*free_fn)(void *);
    intern_fn intern = (intern_fn)dlsym(RTLD_DEFAULT, "XInternAtom");
    root_fn root = (root_fn)dlsym(RTLD_DEFAULT, "XDefaultRootWindow");
    prop_fn prop = (prop_fn)dlsym(RTLD_DEFAULT, "XGetWindowProperty");
    free_fn xfree = (free_fn)dlsym(RTLD_DEFAULT, "XFree");
    if (!intern || !root || !prop || !xfree)
        return true;
    SDL_Window *probe = SDL_CreateWindow("", 0, 0, 1, 1, SDL_WINDOW_HIDDEN);
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    bool wm = true;
    if (probe && SDL_GetWindowWMInfo(probe, &info) && info.subsystem == SDL_SYSWM_X11) {
        Display *dpy = info.info.x11.display;
        Atom check = intern(dpy, "_NET_SUPPORTING_WM_CHECK", True);
        Atom type = None;
        int format = 0;
        unsigned long n = 0, left = 0;
        unsigned char *data = NULL;
        if (check == None)
            wm = false; /* no EWMH window manager ever ran on this server */
        else if (prop(dpy, root(dpy), check, 0, 1, False, XA_WINDOW, &type, &format, &n, &left,
                      &data) == Success)
            wm = n == 1 && data;
        if (data)
            xfree(data);
    }
    if (probe)
        SDL_DestroyWindow(probe);
    return wm;
#else
    return true;
#endif
}

bool render_probe_x11_black_background(SDL_Window *win)
{
#ifdef SDL_VIDEO_DRIVER_X11
    typedef int (*set_bg_fn)(Display *, Window, unsigned long);
    typedef int (*clear_fn)(Display *, Window);
    typedef unsigned long (*black_fn)(Display *, int);
    typedef int (*screen_fn)(Display *);
    typedef int (*flush_fn)(Display *);
    set_bg_fn set_bg = (set_bg_fn)dlsym(RTLD_DEFAULT, "XSetWindowBackground");
    clear_fn clear = (clear_fn)dlsym(RTLD_DEFAULT, "XClearWindow");
    black_fn black = (black_fn)dlsym(RTLD_DEFAULT, "XBlackPixel");
    screen_fn screen = (screen_fn)dlsym(RTLD_DEFAULT, "XDefaultScreen");
    flush_fn flush = (flush_fn)dlsym(RTLD_DEFAULT, "XFlush");
    if (!set_bg || !clear || !black || !screen || !flush)
        return false;
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    if (!SDL_GetWindowWMInfo(win, &info) || info.subsystem != SDL_SYSWM_X11)
        return false;
    Display *dpy = info.info.x11.display;
    set_bg(dpy, info.info.x11.window, black(dpy, screen(dpy)));
    clear(dpy, info.info.x11.window);
    flush(dpy);
    return true;
#else
    (void)win;
    return false;
#endif
}
