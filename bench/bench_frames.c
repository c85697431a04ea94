/*
 * kt-bench-frames: the frame loop of the kiosk, measured (bench/README.md).
 * A benchmark-only program, linked against the same module libraries as
 * kiosk-ticker plus an allocation counter (alloc_count.c) that the product
 * never contains.
 *
 *   kt-bench-frames -c CONF [--frames N] [--size WxH] [--speed PX] [--hz HZ]
 *                   [--realtime SECONDS] [--quiet]
 *
 * The strip of CONF's [display] with the headlines of its cache, drawn by
 * the software renderer into a surface (no display), as the kiosk loop
 * draws it: the text worker prepares the text on its thread, the frames
 * never wait for it. Frames run back to back at simulated HZ times
 * (t = k / HZ); before each one the worker gets the time it needs to
 * finish what was asked (what a real refresh interval gives it on a fast
 * enough core; worker_load_pct says how much of one core that is), and
 * that wait is not part of the frame. Frame 0 shows the first screenful
 * and is reported alone (first_frame_us: the wait for the worker
 * included); every other frame counts in median_us, p99_us and
 * worst_frame_us, the ones where headlines enter, are uploaded or leave
 * included.
 *
 * A frame is "steady" when nothing entered, left, arrived or was
 * uploaded; steady_allocs and steady_rasterisations sum those frames and
 * must be 0; render_thread_rasterisations counts every rasterisation on
 * the render thread after frame 0 (0: the worker does them all).
 * The floor loop replays the last frame's fill and texture copies with no
 * ticker logic, timed the same way.
 *
 * Per-frame instruction counts: under valgrind --tool=callgrind
 * --collect-atstart=no, collection is switched on for each measured frame
 * only (CALLGRIND_TOGGLE_COLLECT, per thread: the worker is never counted)
 * and dumped after it, labelled "frame K" or "floor K" (bench/callgrind.py
 * reads them). Under qemu-user, each measured frame is bracketed by a
 * marker system call that bench/qemu_insn.c counts instructions between.
 *
 * --realtime S then runs S seconds paced at HZ in real time without
 * waiting for the worker, as the kiosk does, and reports what was not
 * ready in time (realtime_not_ready_frames, realtime_tape_waits).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include <SDL.h>

#include "alloc_count.h"
#include "cache.h"
#include "config.h"
#include "font.h"
#include "log.h"
#include "render.h"
#include "store.h"
#include "util.h"

#ifdef KT_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

/* The marker bench/qemu_insn.c looks for: an prctl option no kernel has,
 * so natively it is one failing system call. */
#define BENCH_MARK 0x4b544652 /* "KTFR" */
enum { BENCH_MARK_START = 1, BENCH_MARK_END = 2 };

static void bench_mark(int what)
{
    prctl(BENCH_MARK, what, 0, 0, 0);
}

static uint64_t bench_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v and returns the q-quantile (nearest rank). */
static double bench_quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, bench_cmp);
    size_t k = (size_t)(q * (double)n + 0.5);
    return v[k >= n ? n - 1 : k];
}

struct bench_record {
    struct render_piece *v;
    size_t n, cap;
    bool on;
};

static void bench_observe(void *ctx, const struct render_piece *p)
{
    struct bench_record *rec = ctx;
    if (rec->on && rec->n < rec->cap)
        rec->v[rec->n++] = *p;
}

static void bench_usage(void)
{
    fprintf(stderr, "usage: kt-bench-frames -c CONF [--frames N] [--size WxH] [--speed PX] "
                    "[--hz HZ] [--realtime SECONDS] [--quiet]\n");
}

static bool bench_steady(const struct render_stats *a, const struct render_stats *b)
{
    return a->placed == b->placed && a->shown == b->shown && a->results == b->results &&
           a->uploads == b->uploads && a->textures_created == b->textures_created &&
           a->textures_destroyed == b->textures_destroyed;
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    long n = 600;
    int w = 1920, h = 96;
    double speed = -1, hz = 60, realtime = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quiet") == 0) {
            kt_log_set_level(KT_LOG_ERR);
            continue;
        }
        if (!v) {
            bench_usage();
            return 2;
        }
        i++;
        if (strcmp(a, "-c") == 0)
            conf = v;
        else if (strcmp(a, "--frames") == 0)
            n = strtol(v, NULL, 10);
        else if (strcmp(a, "--size") == 0 && sscanf(v, "%dx%d", &w, &h) == 2)
            ;
        else if (strcmp(a, "--speed") == 0)
            speed = strtod(v, NULL);
        else if (strcmp(a, "--hz") == 0)
            hz = strtod(v, NULL);
        else if (strcmp(a, "--realtime") == 0)
            realtime = strtod(v, NULL);
        else {
            bench_usage();
            return 2;
        }
    }
    if (!conf || n < 3 || n > 10000000 || w < 16 || h < 8 || w > 16384 || h > 16384 ||
        !(hz > 0 && hz < 1000) || !(realtime >= 0 && realtime < 86400)) {
        bench_usage();
        return 2;
    }

    char err[KT_ERR_MAX];
    struct config *cfg = config_load(conf, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (speed >= 0)
        cfg->display.speed = speed;
    struct store *store = store_new();
    store_configure(store, cfg, (int64_t)time(NULL));
    if (cache_load(store, cfg->cache, (int64_t)time(NULL), err, sizeof err) < 0)
        kt_log_warn("cache ignored: %s", err);

    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    struct render *r = surf ? render_open_surface(surf, err, sizeof err) : NULL;
    if (!r || render_apply(r, &cfg->display, 0, err, sizeof err) < 0) {
        fprintf(stderr, "kt-bench-frames: %s\n", surf ? err : SDL_GetError());
        return 1;
    }
    const struct store_snapshot *snap = store_snapshot(store);
    size_t headlines = snap->n;
    render_adopt(r, snap, 0);

    double *us = kt_malloc((size_t)n * sizeof *us);
    double *floor_us = kt_malloc((size_t)n * sizeof *floor_us);
    struct bench_record rec = {.cap = 4096};
    rec.v = kt_malloc(rec.cap * sizeof *rec.v);
    render_observe_copies(r, bench_observe, &rec);
    bool counting = alloc_count_works();
    uint64_t steady_allocs = 0, steady_ras = 0, event_allocs = 0;
    long steady_frames = 0, event_frames = 0;

    /* Frame 0: the first screenful, waiting for the worker as the kiosk's
     * start-up does (render_set_sync), then frames as the kiosk runs them. */
    uint64_t c0 = bench_ns();
    render_frame(r, 0);
    render_present(r);
    double first_us = (double)(bench_ns() - c0) / 1e3;
    render_set_sync(r, false);
    struct render_stats st0;
    render_get_stats(r, &st0);
    uint64_t ras_render0 = font_thread_rasterisations();

    for (long k = 1; k < n; k++) {
        render_wait_worker(r, 60000);
        struct render_stats before, after;
        render_get_stats(r, &before);
        uint64_t ras0 = font_thread_rasterisations();
        rec.on = k == n - 1;
        rec.n = 0;
        char label[32];
        snprintf(label, sizeof label, "frame %ld", k);
        alloc_count_start();
        bench_mark(BENCH_MARK_START);
        CALLGRIND_TOGGLE_COLLECT;
        uint64_t t0 = bench_ns();
        render_frame(r, (double)k / hz);
        render_present(r);
        uint64_t t1 = bench_ns();
        CALLGRIND_TOGGLE_COLLECT;
        bench_mark(BENCH_MARK_END);
        uint64_t allocs = alloc_count_stop();
        CALLGRIND_DUMP_STATS_AT(label);
        render_get_stats(r, &after);
        us[k] = (double)(t1 - t0) / 1e3;
        if (bench_steady(&before, &after)) {
            steady_frames++;
            steady_allocs += allocs;
            steady_ras += font_thread_rasterisations() - ras0;
        } else {
            event_frames++;
            event_allocs += allocs;
        }
    }
    rec.on = false;
    struct render_stats st;
    render_get_stats(r, &st);
    uint64_t render_ras = font_thread_rasterisations() - ras_render0;

    for (long k = 0; k < n; k++) {
        char label[32];
        snprintf(label, sizeof label, "floor %ld", k);
        CALLGRIND_TOGGLE_COLLECT;
        uint64_t t0 = bench_ns();
        render_fill_strip(r);
        for (size_t i = 0; i < rec.n; i++)
            render_blit(r, &rec.v[i]);
        render_end_strip(r);
        render_present(r);
        uint64_t t1 = bench_ns();
        CALLGRIND_TOGGLE_COLLECT;
        CALLGRIND_DUMP_STATS_AT(label);
        floor_us[k] = (double)(t1 - t0) / 1e3;
    }

    double median = bench_quantile(us + 1, (size_t)(n - 1), 0.5);
    double p99 = bench_quantile(us + 1, (size_t)(n - 1), 0.99);
    double worst = us[1];
    for (long k = 1; k < n; k++)
        worst = us[k] > worst ? us[k] : worst;
    double fl = bench_quantile(floor_us, (size_t)n, 0.5);
    double sim_s = (double)(n - 1) / hz;
    double worker_ms = (double)(st.worker_cpu_ns - st0.worker_cpu_ns) / 1e6;

    printf("frames=%ld\n", n);
    printf("size=%dx%d\n", w, h);
    printf("speed=%.0f\n", cfg->display.speed);
    printf("headlines=%zu\n", headlines);
    printf("first_frame_us=%.1f\n", first_us);
    printf("median_us=%.1f\n", median);
    printf("p99_us=%.1f\n", p99);
    printf("worst_frame_us=%.1f\n", worst);
    printf("floor_us=%.1f\n", fl);
    printf("floor_ratio=%.2f\n", fl > 0 ? median / fl : 0.0);
    printf("steady_frames=%ld\n", steady_frames);
    printf("event_frames=%ld\n", event_frames);
    if (counting)
        printf("steady_allocs=%llu\n", (unsigned long long)steady_allocs);
    else
        printf("steady_allocs=unknown\n");
    printf("event_allocs=%llu\n", (unsigned long long)event_allocs);
    printf("steady_rasterisations=%llu\n", (unsigned long long)steady_ras);
    printf("render_thread_rasterisations=%llu\n", (unsigned long long)render_ras);
    printf("rasterisations=%llu\n", (unsigned long long)font_rasterisations());
    printf("uploads=%llu\n", (unsigned long long)(st.uploads - st0.uploads));
    printf("not_ready_frames=%llu\n",
           (unsigned long long)(st.not_ready_frames - st0.not_ready_frames));
    printf("tape_waits=%llu\n", (unsigned long long)(st.tape_waits - st0.tape_waits));
    printf("textures_max=%zu\n", st.textures_max);
    printf("worker_items=%llu\n", (unsigned long long)st.worker_items);
    printf("worker_cpu_ms=%.1f\n", worker_ms);
    printf("worker_load_pct=%.1f\n", sim_s > 0 ? worker_ms / 10.0 / sim_s : 0.0);
    fflush(stdout);

    if (realtime > 0) {
        /* As the kiosk: paced, never waiting for the worker. */
        struct render_stats a, b;
        render_get_stats(r, &a);
        uint64_t period = (uint64_t)(1e9 / hz), start = bench_ns(), next = start;
        double t_base = (double)n / hz;
        long frames = 0, late = 0;
        while (bench_ns() - start < (uint64_t)(realtime * 1e9)) {
            uint64_t now = bench_ns();
            render_frame(r, t_base + (double)(now - start) / 1e9);
            render_present(r);
            frames++;
            next += period;
            now = bench_ns();
            if (now > next) {
                late += now > next + period / 2;
                next = now;
            } else {
                SDL_Delay((Uint32)((next - now) / 1000000u));
            }
        }
        render_get_stats(r, &b);
        printf("realtime_frames=%ld\n", frames);
        printf("realtime_late_frames=%ld\n", late);
        printf("realtime_not_ready_frames=%llu\n",
               (unsigned long long)(b.not_ready_frames - a.not_ready_frames));
        printf("realtime_tape_waits=%llu\n", (unsigned long long)(b.tape_waits - a.tape_waits));
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak_rss_kib=%ld\n", ru.ru_maxrss);
    fflush(stdout);

    free(us);
    free(floor_us);
    free(rec.v);
    render_close(r);
    SDL_FreeSurface(surf);
    store_free(store);
    config_free(cfg);
    return 0;
}
