/*
 * test_gpu: the accelerated renderer paths the boards use, for real: a
 * window on an X server of the test's own (Xvfb, Mesa's llvmpipe behind
 * GLX and EGL), KT_RENDERER=accelerated, once with SDL's "opengl"
 * renderer and once with "opengles2" (what a Raspberry Pi uses under
 * KMSDRM). Frames at fixed times are read back (SDL_RenderReadPixels) and
 * compared with the software renderer's frame for the same t and size:
 * every channel of every pixel within 2/255, and the frame must have text
 * in it (two blank frames would match). Positions are whole pixels at
 * these times, so opaque text must match exactly (it does, 0/255); the
 * tolerance is for blending, where llvmpipe rounds differently from SDL's
 * software blitter (2/255 seen on a translucent strip).
 *
 * Also: textures no wider than 100 px (a GPU with a tiny limit: the line
 * in many tiles), a window resize (new size, same picture as software at
 * that size), and a lost device (SDL_RENDER_DEVICE_RESET, pushed: Mesa on
 * X11 never loses its context by itself) after which the text is uploaded
 * again. What a real board adds (the VC4/V3D driver, KMSDRM's page flips,
 * vsync timing) is not tested here: README "Where it runs".
 *
 * Every wait is bounded (Xvfb's start, window events); exit 1 on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <SDL.h>

#include "config.h"
#include "log.h"
#include "render.h"
#include "store.h"
#include "tap.h"

#define W 640
#define H 96
#define TOLERANCE 2

static pid_t xvfb_pid;
static int xvfb_fd = -1; /* kept open: Xvfb dies if its write of the number fails */

/* A display number nobody uses (no lock, no socket), away from the low
 * numbers other programs' Xvfb -displayfd start from. */
static int xvfb_free_number(void)
{
    srand((unsigned)getpid() ^ (unsigned)time(NULL));
    for (int i = 0; i < 200; i++) {
        int n = 100 + rand() % 800;
        char lock[64], sock[64];
        snprintf(lock, sizeof lock, "/tmp/.X%d-lock", n);
        snprintf(sock, sizeof sock, "/tmp/.X11-unix/X%d", n);
        if (access(lock, F_OK) != 0 && access(sock, F_OK) != 0)
            return n;
    }
    return -1;
}

/* Xvfb writes the display number (-displayfd) once it accepts clients. */
static int xvfb_start(void)
{
    int fds[2];
    int number = xvfb_free_number();
    if (number < 0 || pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char fd[16], display[16];
        snprintf(fd, sizeof fd, "%d", fds[1]);
        snprintf(display, sizeof display, ":%d", number);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execlp("Xvfb", "Xvfb", display, "-displayfd", fd, "-screen", "0", "1280x720x24",
               "-nolisten", "tcp", "-noreset", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    xvfb_pid = pid;
    struct pollfd p = {fds[0], POLLIN, 0};
    char num[16] = "";
    ssize_t n = 0;
    /* Until the newline: Xvfb may write the number and the newline apart. */
    while (n < (ssize_t)sizeof num - 1 && !memchr(num, '\n', (size_t)n) &&
           poll(&p, 1, 15000 * t_time_scale()) == 1) {
        ssize_t k = read(fds[0], num + n, sizeof num - 1 - (size_t)n);
        if (k <= 0)
            break;
        n += k;
    }
    xvfb_fd = fds[0];
    if (n <= 0) {
        fprintf(stderr, "test_gpu: Xvfb did not start within 15 s (is it installed?)\n");
        return -1;
    }
    num[n] = '\0';
    num[strcspn(num, "\n")] = '\0';
    char display[32];
    snprintf(display, sizeof display, ":%s", num);
    setenv("DISPLAY", display, 1);
    fprintf(stderr, "test_gpu: Xvfb on %s\n", display);
    return 0;
}

static void xvfb_stop(void)
{
    if (xvfb_pid <= 0)
        return;
    kill(xvfb_pid, SIGTERM);
    if (xvfb_fd >= 0)
        close(xvfb_fd);
    for (int i = 0; i < 50; i++) {
        if (waitpid(xvfb_pid, NULL, WNOHANG) == xvfb_pid)
            return;
        usleep(100000);
    }
    kill(xvfb_pid, SIGKILL);
    waitpid(xvfb_pid, NULL, 0);
}

static struct config *make_cfg(void)
{
    static const char text[] =
        "[ticker]\norder = feeds\n[feed news]\nurl = /dev/null\nlabel = GPU\n"
        "[display]\nmode = window\nsize = 640x96\nfont = DejaVu Sans:bold\nfont_size = 40\n"
        "background = #203040\nforeground = #FFFFFF\nlabel_color = #FFB000\n"
        "speed = 100\nsnap_speed = no\nvsync = no\nseparator = \"  •  \"\n";
    char err[512];
    struct config *cfg = config_parse(text, sizeof text - 1, "test", err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        exit(1);
    }
    return cfg;
}

static struct store *make_store(const struct config *cfg)
{
    static const char *const titles[] = {
        "Harbour council approves the new ferry timetable",
        "\xD8\xA7\xD9\x84\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85 \xD8\xB9\xD9\x84\xD9\x8A\xD9\x83\xD9\x85",
        "A very long headline about trams, bridges, museums, storms and the weather tomorrow "
        "that is wider than a hundred-pixel texture many times over",
        "\xE6\x96\xB0\xE3\x81\x97\xE3\x81\x84\xE8\xB7\xAF\xE9\x9D\xA2\xE9\x9B\xBB\xE8\xBB\x8A"};
    struct store *s = store_new();
    store_configure(s, cfg, 1000);
    struct store_item items[4];
    memset(items, 0, sizeof items);
    for (int i = 0; i < 4; i++)
        items[i].title = (char *)titles[i];
    store_replace_items(s, "news", items, 4, 1000);
    return s;
}

/* The software renderer's frame at t, w x h. */
static SDL_Surface *software_frame(const struct config *cfg, struct store *st, int w, int h,
                                   double t)
{
    char err[512];
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    struct render *r = render_open_surface(surf, err, sizeof err);
    if (!r || render_apply(r, &cfg->display, 0, err, sizeof err) < 0) {
        fprintf(stderr, "software: %s\n", err);
        exit(1);
    }
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, t);
    render_close(r);
    return surf;
}

/* The window renderer's frame at t, read back. */
static SDL_Surface *gpu_frame(struct render *r, double t)
{
    render_frame(r, t);
    struct render_geometry g;
    render_get_geometry(r, &g);
    SDL_Surface *out = SDL_CreateRGBSurfaceWithFormat(0, g.w, g.h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (SDL_RenderReadPixels(render_sdl_renderer(r), NULL, SDL_PIXELFORMAT_ARGB8888, out->pixels,
                             out->pitch) < 0)
        fprintf(stderr, "SDL_RenderReadPixels: %s\n", SDL_GetError());
    render_present(r);
    return out;
}

static uint32_t pixel(const SDL_Surface *s, int x, int y)
{
    return ((const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * s->pitch))[x];
}

/* Largest channel difference; *colours counts distinct colours in a. */
static int frame_diff(const SDL_Surface *a, const SDL_Surface *b, long *differ, long *text)
{
    int worst = 0;
    *differ = *text = 0;
    if (a->w != b->w || a->h != b->h)
        return 256;
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++) {
            uint32_t p = pixel(a, x, y), q = pixel(b, x, y);
            int d = 0;
            for (int sh = 0; sh <= 16; sh += 8) {
                int c = abs((int)((p >> sh) & 255) - (int)((q >> sh) & 255));
                d = c > d ? c : d;
            }
            worst = d > worst ? d : worst;
            *differ += d > 0;
            *text += (p & 0xFFFFFF) == 0xFFFFFF || (p & 0xFFFFFF) == 0xFFB000;
        }
    return worst;
}

static void compare(const char *what, SDL_Surface *gpu, SDL_Surface *soft)
{
    long differ, text;
    int worst = frame_diff(gpu, soft, &differ, &text);
    fprintf(stderr,
            "%s: %dx%d, %ld pixels differ, largest channel difference %d/255, %ld text "
            "pixels\n",
            what, gpu->w, gpu->h, differ, worst, text);
    CHECK(worst <= TOLERANCE);
    CHECK(text > 500);
}

static bool wait_size(struct render *r, int w)
{
    for (int i = 0; i < 200; i++) {
        SDL_Event ev;
        while (SDL_PollEvent(&ev))
            render_handle_event(r, &ev);
        struct render_geometry g;
        render_get_geometry(r, &g);
        if (g.w == w)
            return true;
        SDL_Delay(10);
    }
    return false;
}

static void test_driver(const char *driver)
{
    setenv("SDL_RENDER_DRIVER", driver, 1);
    struct config *cfg = make_cfg();
    struct store *st = make_store(cfg);
    char err[512];
    struct render *r = render_open_window(&cfg->display, W, H, err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "%s: %s\n", driver, err);
        return;
    }
    SDL_RendererInfo info;
    SDL_GetRendererInfo(render_sdl_renderer(r), &info);
    fprintf(stderr, "%s: renderer %s, max texture %dx%d\n", driver, info.name,
            info.max_texture_width, info.max_texture_height);
    /* the path asked for, not a fallback to software */
    CHECK(strcmp(info.name, driver) == 0);
    render_set_sync(r, true);
    CHECK_INT(render_apply(r, &cfg->display, 0, err, sizeof err), 0);
    render_adopt(r, store_snapshot(st), 0);

    /* t where the offset is whole pixels at 100 px/s */
    static const double times[] = {0.0, 2.37, 31.0};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s at t=%.2f", driver, times[i]);
        SDL_Surface *g = gpu_frame(r, times[i]);
        SDL_Surface *s = software_frame(cfg, st, W, H, times[i]);
        compare(what, g, s);
        SDL_FreeSurface(g);
        SDL_FreeSurface(s);
    }

    /* A translucent strip: text textures blended, not copied. */
    struct config *glass = make_cfg();
    glass->display.background.a = 0xA0;
    CHECK_INT(render_apply(r, &glass->display, 33.0, err, sizeof err), 0);
    {
        SDL_Surface *g0 = gpu_frame(r, 33.0);
        SDL_Surface *s0 = software_frame(glass, st, W, H, 33.0);
        char what0[64];
        snprintf(what0, sizeof what0, "%s, translucent strip", driver);
        compare(what0, g0, s0);
        SDL_FreeSurface(g0);
        SDL_FreeSurface(s0);
    }
    CHECK_INT(render_apply(r, &cfg->display, 33.0, err, sizeof err), 0);
    config_free(glass);

    /* Textures no wider than 100 px: the long headline in many tiles. */
    render_limit_texture_width(r, 100);
    struct render_stats a, b;
    render_get_stats(r, &a);
    SDL_Surface *g = gpu_frame(r, 35.0);
    render_get_stats(r, &b);
    SDL_Surface *s = software_frame(cfg, st, W, H, 35.0);
    char what[64];
    snprintf(what, sizeof what, "%s, 100 px tiles", driver);
    compare(what, g, s);
    CHECK(b.textures_alive >= W / 100);
    SDL_FreeSurface(g);
    SDL_FreeSurface(s);

    /* A resize: the strip follows the new size. */
    SDL_SetWindowSize(render_sdl_window(r), 900, H);
    CHECK(wait_size(r, 900));
    g = gpu_frame(r, 40.0);
    s = software_frame(cfg, st, 900, H, 40.0);
    snprintf(what, sizeof what, "%s after a resize to 900x96", driver);
    compare(what, g, s);
    SDL_FreeSurface(g);
    SDL_FreeSurface(s);

    /* A lost device: the textures are made again, the picture the same. */
    render_get_stats(r, &a);
    SDL_Event ev = {.type = SDL_RENDER_DEVICE_RESET};
    render_handle_event(r, &ev);
    g = gpu_frame(r, 40.0);
    render_get_stats(r, &b);
    s = software_frame(cfg, st, 900, H, 40.0);
    snprintf(what, sizeof what, "%s after a device reset", driver);
    compare(what, g, s);
    CHECK(b.uploads > a.uploads);
    SDL_FreeSurface(g);
    SDL_FreeSurface(s);

    render_close(r);

    /* rotate: the frame drawn into a target texture and copied turned;
     * the panel read back (render_read_rgba, the capture hook's) equals
     * the software renderer's upright frame turned. */
    for (int deg = 90; deg < 360; deg += 90) {
        struct config *rc = make_cfg();
        rc->display.rotate = (enum display_rotate)(deg / 90);
        bool swap = deg != 180;
        int pw = swap ? H : W, ph = swap ? W : H;
        struct render *rr = render_open_window(&rc->display, pw, ph, err, sizeof err);
        CHECK(rr != NULL);
        if (!rr) {
            config_free(rc);
            continue;
        }
        render_set_sync(rr, true);
        CHECK_INT(render_apply(rr, &rc->display, 0, err, sizeof err), 0);
        render_adopt(rr, store_snapshot(st), 0);
        render_frame(rr, 2.37);
        uint8_t *buf = NULL;
        size_t cap = 0;
        int bw = 0, bh = 0;
        CHECK_INT(render_read_rgba(rr, &buf, &cap, &bw, &bh), 0);
        render_present(rr);
        CHECK(bw == pw && bh == ph);
        SDL_Surface *soft = software_frame(cfg, st, W, H, 2.37);
        int worst = 0;
        long text = 0;
        for (int y = 0; y < H && buf && bw == pw && bh == ph; y++)
            for (int x = 0; x < W; x++) {
                int qx = x, qy = y;
                if (deg == 90) {
                    qx = pw - 1 - y;
                    qy = x;
                } else if (deg == 180) {
                    qx = pw - 1 - x;
                    qy = ph - 1 - y;
                } else {
                    qx = y;
                    qy = ph - 1 - x;
                }
                const uint8_t *q = buf + ((size_t)qy * (size_t)pw + (size_t)qx) * 4;
                uint32_t p = pixel(soft, x, y);
                int d0 = abs((int)((p >> 16) & 255) - q[0]), d1 = abs((int)((p >> 8) & 255) - q[1]),
                    d2 = abs((int)(p & 255) - q[2]);
                int d = d0 > d1 ? d0 : d1;
                d = d > d2 ? d : d2;
                worst = d > worst ? d : worst;
                text += (p & 0xFFFFFF) == 0xFFFFFF;
            }
        fprintf(stderr,
                "%s rotated by %d: panel %dx%d, largest channel difference %d/255, %ld text px\n",
                driver, deg, bw, bh, worst, text);
        CHECK(worst <= TOLERANCE);
        CHECK(text > 500);
        free(buf);
        SDL_FreeSurface(soft);
        render_close(rr);
        config_free(rc);
    }
    store_free(st);
    config_free(cfg);
}

int main(void)
{
    kt_log_set_level(KT_LOG_WARN);
    setenv("SDL_VIDEODRIVER", "x11", 1);
    setenv("KT_RENDERER", "accelerated", 1);
    setenv("SDL_AUDIODRIVER", "dummy", 1);
    unsetenv("WAYLAND_DISPLAY");
    if (xvfb_start() < 0) {
        xvfb_stop();
        return 1;
    }
    test_driver("opengl");
    test_driver("opengles2");
    xvfb_stop();
    return tap_done();
}
