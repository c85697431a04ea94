/*
 * display: display_run (display.h). Three ways to run the strip:
 *
 *  - the kiosk loop: a window, one frame per refresh, the host polled once
 *    per frame, a new store snapshot taken when the generation moves;
 *  - a screenshot: one frame at a given time, drawn by the software
 *    renderer into a surface (no window, no display needed), saved as BMP
 *    or PNG;
 *  - a benchmark: N frames back to back in a surface, with per-frame
 *    timings, heap allocations and rasterisations, against a floor loop
 *    that only copies the same textures.
 *
 * Time is the monotonic performance counter, so the scroll speed is the
 * same at any refresh rate and a late frame does not slow the text.
 */
#include "display.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include <SDL.h>
#include <SDL_image.h>

#include "config.h"
#include "font.h"
#include "log.h"
#include "notify.h"
#include "render.h"
#include "scroll.h"
#include "store.h"
#include "util.h"

static double display_now(Uint64 start)
{
    return (double)(SDL_GetPerformanceCounter() - start) / (double)SDL_GetPerformanceFrequency();
}

/* The first look needs a font. One that cannot be opened (a typo in the
 * path or family, a corrupt or unreadable file) is reported and replaced by
 * a default, so the screen shows its headlines instead of exiting into a
 * restart loop. (A later reload with a bad font keeps the one in use.) */
static int display_apply_first(struct render *r, const struct cfg_display *d, char *err,
                               size_t errlen)
{
    if (render_apply(r, d, 0, err, errlen) == 0)
        return 0;
    static const char *const fallbacks[] = {"DejaVu Sans:bold", "sans-serif"};
    struct cfg_display fb = *d;
    for (size_t i = 0; i < sizeof fallbacks / sizeof fallbacks[0]; i++) {
        char why[KT_ERR_MAX];
        fb.font = (char *)fallbacks[i];
        if (render_apply(r, &fb, 0, why, sizeof why) == 0) {
            kt_log_warn("display: %s; using \"%s\" instead", err, fallbacks[i]);
            return 0;
        }
    }
    return -1;
}

/* ---- the kiosk loop ---- */

/* One frame per refresh. With vsync the present waited already; a
 * present that returned early anyway (a hidden window) or a renderer
 * without vsync (software into the window surface) gets frame deadlines,
 * so an idle kiosk never spins a core. A frame that came late is not
 * caught up: the scroll position follows time, not frames. */
static void display_pace(const struct render *r, Uint64 start, double *deadline)
{
    double hz = render_refresh_hz(r) > 0 ? render_refresh_hz(r) : 60;
    double period = 1.0 / hz, now = display_now(start);
    if (render_paced(r) && now - *deadline > 0.5 * period) {
        *deadline = now;
        return;
    }
    *deadline += period;
    if (*deadline < now - period)
        *deadline = now;
    else if (*deadline > now)
        SDL_Delay((Uint32)((*deadline - now) * 1000));
}

static int display_loop(const struct config *cfg, struct store *store,
                        const struct display_host *host, const struct display_opts *opts)
{
    char err[KT_ERR_MAX];
    struct render *r = render_open_window(&cfg->display, opts ? opts->width : 0,
                                          opts ? opts->height : 0, err, sizeof err);
    if (!r) {
        kt_log_error("display: %s", err);
        return 1;
    }
    if (display_apply_first(r, &cfg->display, err, sizeof err) < 0) {
        kt_log_error("display: %s", err);
        render_close(r);
        return 1;
    }
    /* Whatever the store holds now (the cache, typically) shows from the
     * first frame. */
    render_adopt(r, store_snapshot(store), 0);
    uint64_t seen = render_generation(r);

    Uint64 start = SDL_GetPerformanceCounter();
    double deadline = 0;
    bool quit = false, presented = false;
    while (!quit) {
        double t = display_now(start);
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) {
            if (ev.type == SDL_QUIT)
                quit = true;
            else
                render_handle_event(r, &ev);
        }
        if (!quit && host && host->poll) {
            const struct config *ncfg = cfg;
            enum display_event de = host->poll(host->ctx, &ncfg);
            if (de == DISPLAY_QUIT) {
                quit = true;
            } else if (de == DISPLAY_RELOADED && ncfg) {
                cfg = ncfg;
                if (render_apply(r, &cfg->display, t, err, sizeof err) < 0)
                    kt_log_error("display: %s", err);
                else
                    kt_log_info("display: new settings applied");
            }
        }
        if (quit)
            break;
        if (store_generation(store) != seen) {
            render_adopt(r, store_snapshot(store), t);
            seen = render_generation(r);
        }
        render_frame(r, t);
        render_present(r);
        if (!presented) {
            /* The end point of bench/kiosk.py's start-up time. */
            kt_log_debug("display: first frame presented");
            presented = true;
        }
        if (render_failed(r)) {
            render_close(r);
            return 1;
        }
        /* systemd: ready once a frame is up; pings prove frames keep coming. */
        notify_ready();
        notify_watchdog();
        display_pace(r, start, &deadline);
    }
    render_close(r);
    kt_log_info("display: closed");
    return 0;
}

/* ---- offscreen: screenshot and benchmark ---- */

static struct render *display_offscreen(const struct config *cfg, struct store *store, int w, int h,
                                        SDL_Surface **surf)
{
    char err[KT_ERR_MAX];
    *surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!*surf) {
        kt_log_error("display: cannot make a %dx%d surface: %s", w, h, SDL_GetError());
        return NULL;
    }
    struct render *r = render_open_surface(*surf, err, sizeof err);
    if (!r || display_apply_first(r, &cfg->display, err, sizeof err) < 0) {
        kt_log_error("display: %s", err);
        render_close(r);
        SDL_FreeSurface(*surf);
        return NULL;
    }
    render_adopt(r, store_snapshot(store), 0);
    return r;
}

static bool display_is_png(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcasecmp(path + n - 4, ".png") == 0;
}

static int display_screenshot(const struct config *cfg, struct store *store,
                              const struct display_opts *opts)
{
    int w = opts->width > 0 ? opts->width : cfg->display.width;
    int h = opts->height > 0 ? opts->height : cfg->display.height_window;
    SDL_Surface *surf;
    struct render *r = display_offscreen(cfg, store, w, h, &surf);
    if (!r)
        return 1;
    /* Straight to the time asked: the scroll position is a function of it. */
    render_frame(r, opts->at);
    int rc;
    if (display_is_png(opts->screenshot)) {
        IMG_Init(IMG_INIT_PNG);
        rc = IMG_SavePNG(surf, opts->screenshot);
        IMG_Quit();
    } else {
        rc = SDL_SaveBMP(surf, opts->screenshot);
    }
    if (rc < 0)
        kt_log_error("display: cannot write %s: %s", opts->screenshot, SDL_GetError());
    else
        kt_log_info("display: wrote %s (%dx%d at t=%.3f s)", opts->screenshot, w, h, opts->at);
    render_close(r);
    SDL_FreeSurface(surf);
    return rc < 0 ? 1 : 0;
}

static int display_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v and returns the q-quantile (nearest rank). */
static double display_quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, display_cmp_double);
    size_t k = (size_t)(q * (double)n + 0.5);
    if (k >= n)
        k = n - 1;
    return v[k];
}

/*
 * Benchmark. Frames are drawn back to back at simulated 60 Hz times
 * (t = k / 60), so the text moves as on a screen. Frame 0 rasterises the
 * first screenful and is reported on its own (first_frame_us); median and
 * p99 are over frames 1..N-1. A frame is "steady" when no headline entered
 * or left: the layout placed nothing, no texture was made or freed, and no
 * headline came on screen for the first time (SDL's software renderer
 * builds its blit map on a texture's first blit: one allocation per
 * headline, not per frame). steady_allocs and steady_rasterisations are
 * summed over those frames and must be 0. The other frames are counted in
 * event_frames (with their allocations in event_allocs): each rasterises,
 * uploads, shows or frees one headline. The floor loop replays the last
 * frame's texture copies (same textures, same positions) with no ticker
 * logic, timed the same way.
 */
static int display_bench(const struct config *cfg, struct store *store,
                         const struct display_opts *opts)
{
    int w = opts->width > 0 ? opts->width : 1920;
    int h = opts->height > 0 ? opts->height : 96;
    long n = opts->bench_frames;
    SDL_Surface *surf;
    struct render *r = display_offscreen(cfg, store, w, h, &surf);
    if (!r)
        return 1;
    double *us = kt_malloc((size_t)n * sizeof *us);
    double *floor_us = kt_malloc((size_t)n * sizeof *floor_us);
    bool counting = render_alloc_counting_works();
    double freq = (double)SDL_GetPerformanceFrequency();
    uint64_t steady_allocs = 0, steady_ras = 0, event_allocs = 0;
    long steady_frames = 0, event_frames = 0;
    double first_us = 0;
    uint64_t ras_start = font_rasterisations();

    for (long k = 0; k < n; k++) {
        struct render_stats before, after;
        render_get_stats(r, &before);
        uint64_t ras0 = font_rasterisations();
        if (k == n - 1)
            render_record(r, true);
        render_alloc_count_start();
        Uint64 c0 = SDL_GetPerformanceCounter();
        render_frame(r, (double)k / 60.0);
        render_present(r);
        Uint64 c1 = SDL_GetPerformanceCounter();
        uint64_t allocs = render_alloc_count_stop();
        render_get_stats(r, &after);
        us[k] = (double)(c1 - c0) * 1e6 / freq;
        if (k == 0) {
            first_us = us[0];
            continue;
        }
        bool steady = after.placed == before.placed && after.shown == before.shown &&
                      after.textures_created == before.textures_created &&
                      after.textures_destroyed == before.textures_destroyed;
        if (steady) {
            steady_frames++;
            steady_allocs += allocs;
            steady_ras += font_rasterisations() - ras0;
        } else {
            event_frames++;
            event_allocs += allocs;
        }
    }
    render_record(r, false);
    for (long k = 0; k < n; k++) {
        Uint64 c0 = SDL_GetPerformanceCounter();
        render_replay(r);
        render_present(r);
        Uint64 c1 = SDL_GetPerformanceCounter();
        floor_us[k] = (double)(c1 - c0) * 1e6 / freq;
    }

    struct render_stats st;
    render_get_stats(r, &st);
    const struct store_snapshot *snap = store_snapshot(store);
    size_t headlines = snap->n;
    store_snapshot_release(snap);
    double median = display_quantile(us + 1, (size_t)(n - 1), 0.5);
    double p99 = display_quantile(us + 1, (size_t)(n - 1), 0.99);
    double fl = display_quantile(floor_us, (size_t)n, 0.5);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("frames=%ld\n", n);
    printf("size=%dx%d\n", w, h);
    printf("headlines=%zu\n", headlines);
    printf("first_frame_us=%.1f\n", first_us);
    printf("median_us=%.1f\n", median);
    printf("p99_us=%.1f\n", p99);
    printf("floor_us=%.1f\n", fl);
    printf("floor_ratio=%.2f\n", fl > 0 ? median / fl : 0.0);
    printf("peak_rss_kib=%ld\n", ru.ru_maxrss);
    printf("steady_frames=%ld\n", steady_frames);
    printf("event_frames=%ld\n", event_frames);
    if (counting)
        printf("steady_allocs=%llu\n", (unsigned long long)steady_allocs);
    else
        printf("steady_allocs=unknown\n");
    printf("event_allocs=%llu\n", (unsigned long long)event_allocs);
    printf("steady_rasterisations=%llu\n", (unsigned long long)steady_ras);
    printf("rasterisations=%llu\n", (unsigned long long)(font_rasterisations() - ras_start));
    printf("textures_max=%zu\n", st.textures_max);
    fflush(stdout);

    free(us);
    free(floor_us);
    render_close(r);
    SDL_FreeSurface(surf);
    return 0;
}

int display_run(const struct config *cfg, struct store *store, const struct display_host *host,
                const struct display_opts *opts)
{
    if (opts && opts->screenshot)
        return display_screenshot(cfg, store, opts);
    if (opts && opts->bench_frames > 0)
        return display_bench(cfg, store, opts);
    return display_loop(cfg, store, host, opts);
}
