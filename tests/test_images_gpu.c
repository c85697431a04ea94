/*
 * test_images_gpu: the background image on the accelerated renderers
 * (SDL's "opengl" and "opengles2" on the test's own Xvfb, Mesa's
 * llvmpipe), as tests/test_gpu.c does for the text: the frame read back
 * (SDL_RenderReadPixels) equals the software renderer's frame for the
 * same config and t within 2/255 per channel, above the strip where the
 * image is; after a lost device (SDL_RENDER_DEVICE_RESET) the slide is
 * decoded and uploaded again and the frame still matches.
 *
 * Every wait is bounded; exit 1 on failure.
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
#include <png.h>

#include "config.h"
#include "log.h"
#include "render.h"
#include "store.h"
#include "tap.h"

#define W 400
#define H 300
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
        fprintf(stderr, "test_images_gpu: Xvfb did not start within 15 s (is it installed?)\n");
        return -1;
    }
    num[n] = '\0';
    num[strcspn(num, "\n")] = '\0';
    char display[32];
    snprintf(display, sizeof display, ":%s", num);
    setenv("DISPLAY", display, 1);
    fprintf(stderr, "test_images_gpu: Xvfb on %s\n", display);
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

static char img_path[256];

/* Columns: red quarter, blue half, green quarter; rows: a darker top half
 * (so a vertical shift shows too). */
static void write_bands(const char *path, int w, int h)
{
    uint8_t *rgba = malloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgba + ((size_t)y * w + x) * 4;
            int v = y < h / 2 ? 128 : 255;
            p[0] = (uint8_t)(x < w / 4 ? v : 0);
            p[1] = (uint8_t)(x >= w - w / 4 ? v : 0);
            p[2] = (uint8_t)(x >= w / 4 && x < w - w / 4 ? v : 0);
            p[3] = 255;
        }
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGBA;
    if (!png_image_write_to_file(&img, path, 0, rgba, w * 4, NULL)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    free(rgba);
}

static struct config *make_cfg(const char *fit)
{
    char text[2048];
    snprintf(text, sizeof text,
             "[ticker]\norder = feeds\n[feed news]\nurl = /dev/null\n"
             "[display]\nmode = window\nsize = %dx%d\nfont = DejaVu Sans:bold\nfont_size = 24\n"
             "height = 60\nbackground = #203040\nspeed = 1\nsnap_speed = no\nvsync = no\n"
             "background_image = %s\nbackground_fit = %s\n",
             W, H, img_path, fit);
    char err[512];
    struct config *cfg = config_parse(text, strlen(text), "test", err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        exit(1);
    }
    return cfg;
}

static SDL_Surface *software_frame(const struct config *cfg, struct store *st, double t)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, W, H, 32, SDL_PIXELFORMAT_ARGB8888);
    char err[512];
    struct render *r = render_open_surface(s, err, sizeof err);
    if (!r || render_apply(r, &cfg->display, 0, err, sizeof err) < 0) {
        fprintf(stderr, "software: %s\n", err);
        exit(1);
    }
    render_adopt(r, store_snapshot(st), 0);
    render_frame(r, t);
    render_close(r);
    return s;
}

static SDL_Surface *gpu_frame(struct render *r, double t)
{
    render_frame(r, t);
    SDL_Surface *out = SDL_CreateRGBSurfaceWithFormat(0, W, H, 32, SDL_PIXELFORMAT_ARGB8888);
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

/* The image's area (above the 60 px strip) within TOLERANCE, and it is
 * the image (not black). */
static void compare(const char *what, SDL_Surface *gpu, SDL_Surface *soft)
{
    int worst = 0;
    long coloured = 0;
    for (int y = 0; y < H - 60; y++)
        for (int x = 0; x < W; x++) {
            uint32_t a = pixel(gpu, x, y), b = pixel(soft, x, y);
            for (int sh = 0; sh <= 16; sh += 8) {
                int d = abs((int)((a >> sh) & 255) - (int)((b >> sh) & 255));
                worst = d > worst ? d : worst;
            }
            coloured += (b & 0xFFFFFF) != 0;
        }
    fprintf(stderr, "%s: worst channel difference %d/255, %ld coloured pixels\n", what, worst,
            coloured);
    CHECK(worst <= TOLERANCE);
    CHECK(coloured > (long)W * (H - 60) / 2);
}

static void test_driver(const char *driver, const char *fit)
{
    setenv("SDL_RENDER_DRIVER", driver, 1);
    struct config *cfg = make_cfg(fit);
    struct store *st = store_new();
    store_configure(st, cfg, 1000);
    char err[512];
    struct render *r = render_open_window(&cfg->display, W, H, err, sizeof err);
    CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "%s: %s\n", driver, err);
        return;
    }
    SDL_RendererInfo info;
    SDL_GetRendererInfo(render_sdl_renderer(r), &info);
    CHECK(strcmp(info.name, driver) == 0); /* the path asked for, not software */
    render_set_sync(r, true);
    CHECK_INT(render_apply(r, &cfg->display, 0, err, sizeof err), 0);
    render_adopt(r, store_snapshot(st), 0);
    char what[96];
    SDL_Surface *soft = software_frame(cfg, st, 0);
    SDL_Surface *g = gpu_frame(r, 0);
    snprintf(what, sizeof what, "%s %s", driver, fit);
    compare(what, g, soft);
    SDL_FreeSurface(g);

    SDL_Event ev = {.type = SDL_RENDER_DEVICE_RESET};
    render_handle_event(r, &ev);
    g = gpu_frame(r, 0);
    snprintf(what, sizeof what, "%s %s after a device reset", driver, fit);
    compare(what, g, soft);
    SDL_FreeSurface(g);
    SDL_FreeSurface(soft);
    render_close(r);
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
    char dir[] = "/tmp/kt-images-gpu-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    snprintf(img_path, sizeof img_path, "%s/bands.png", dir);
    write_bands(img_path, 200, 100);
    if (xvfb_start() < 0) {
        xvfb_stop();
        return 1;
    }
    test_driver("opengl", "cover");
    test_driver("opengles2", "contain");
    xvfb_stop();
    unlink(img_path);
    rmdir(dir);
    return tap_done();
}
