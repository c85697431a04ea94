/*
 * display_soak: the display in real time, for minutes, with the headlines
 * swapped every few seconds; memory must stay flat and textures must not
 * leak.
 *
 * It drives the same calls as the kiosk loop (display.c): a window on SDL's
 * dummy video driver with the software renderer, one frame per 1/60 s,
 * events polled, a new store snapshot adopted whenever the generation
 * moves. Every 3 s one of four feeds gets a new list (10 to 40 headlines of
 * 3 to 100 characters, Latin, Arabic, Hebrew, Devanagari, CJK, emoji), so
 * headlines are rasterised, shown, freed and spliced all the time. Every
 * 5 s it samples VmRSS, RssAnon and the render's texture counters.
 *
 * Memory swings by a megabyte or two with the headlines on screen (a long
 * headline's texture is a few hundred KiB), so flat means: after a warm-up
 * (a quarter of the run, at most 60 s, by when the fallback fonts are
 * open), the peak of the second half of the run is at most 1 MiB above the
 * peak of the first half, for VmRSS, RssAnon and the heap in use
 * (mallinfo2). A leak of a texture or a headline per swap would add up to
 * tens of MiB over 10 minutes. (Judged in runs of 2 minutes or more: the
 * 15 s ctest run only prints the figures.)
 * Also:
 *   - textures alive never exceed 32 (a 1280 px strip holds a handful of
 *     headlines), and created - destroyed == alive at every sample;
 *   - frames kept coming (at least 10 per second on average: a liveness
 *     check; the frame rate itself is printed, never judged).
 *
 * Usage: display_soak [SECONDS]  (default $KT_DISPLAY_SOAK_SECONDS, else
 * 600). Prints key=value figures; exit 1 on a failed check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <time.h>

#include <SDL.h>

#include "config.h"
#include "log.h"
#include "render.h"
#include "store.h"
#include "tap.h"
#include "util.h"

#define SOAK_W 1280
#define SOAK_H 96
#define SOAK_SWAP_S 3.0
#define SOAK_SAMPLE_S 5.0
#define SOAK_TEXTURES_MAX 32

static uint64_t rng_state = 0x5EED5EEDull;

static unsigned rnd(unsigned n)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return (unsigned)(x % n);
}

static const char *const pieces[] = {
    "Council approves the harbour budget",
    "Storm warning for the coast tonight",
    "Library extends its opening hours",
    "\xD8\xA7\xD9\x84\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85 \xD8\xB9\xD9\x84\xD9\x8A\xD9\x83\xD9\x85",
    "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xD7\xA2\xD7\x95\xD7\x9C\xD7\x9D",
    "\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA4\xE0\xA5\x87",
    "\xE6\x96\xB0\xE3\x81\x97\xE3\x81\x84\xE8\xB7\xAF\xE9\x9D\xA2\xE9\x9B\xBB\xE8\xBB\x8A",
    "\xF0\x9F\x9A\x8B tram line tested",
    "Markets rally after the vote",
    "Museum adds a wing",
};

/* A headline of about want characters, from the pieces above. */
static char *headline(uint64_t id, size_t want)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_printf(&b, "%llu ", (unsigned long long)id);
    while (b.len < want)
        kt_buf_printf(&b, "%s ", pieces[rnd(sizeof pieces / sizeof pieces[0])]);
    return kt_buf_steal(&b);
}

static void swap_feed(struct store *store, const char *feed, uint64_t *next_id, int64_t now,
                      bool every_script)
{
    size_t n = 10 + rnd(31);
    struct store_item *items = kt_calloc(n, sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].title = headline((*next_id)++, 3 + rnd(98));
        if (every_script && i < sizeof pieces / sizeof pieces[0]) {
            free(items[i].title);
            items[i].title = kt_strdup(pieces[i]);
        }
        items[i].link =
            kt_asprintf("https://example.org/%s/%llu", feed, (unsigned long long)*next_id);
        items[i].published = now - (int64_t)rnd(3600);
    }
    store_replace_items(store, feed, items, n, now);
    for (size_t i = 0; i < n; i++) {
        free(items[i].title);
        free(items[i].link);
    }
    free(items);
}

struct sample {
    double t;
    long rss, anon, heap; /* kB */
};

/* Highest value of field in samples with from <= t < to. */
static long peak(const struct sample *v, size_t n, double from, double to, size_t field)
{
    long best = 0;
    for (size_t i = 0; i < n; i++) {
        long x = field == 0 ? v[i].rss : field == 1 ? v[i].anon : v[i].heap;
        if (v[i].t >= from && v[i].t < to && x > best)
            best = x;
    }
    return best;
}

static void mem_kb(long *rss, long *anon)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    *rss = *anon = -1;
    while (fp && fgets(line, sizeof line, fp)) {
        sscanf(line, "VmRSS: %ld kB", rss);
        sscanf(line, "RssAnon: %ld kB", anon);
    }
    if (fp)
        fclose(fp);
}

static double now_s(void)
{
    return (double)SDL_GetPerformanceCounter() / (double)SDL_GetPerformanceFrequency();
}

int main(int argc, char **argv)
{
    double seconds = 600;
    const char *env = getenv("KT_DISPLAY_SOAK_SECONDS");
    if (argc > 1)
        seconds = atof(argv[1]);
    else if (env && atof(env) > 0)
        seconds = atof(env);
    if (seconds < 4) {
        fprintf(stderr, "display_soak: at least 4 seconds\n");
        return 2;
    }
    double warmup = seconds / 4 < 60 ? seconds / 4 : 60;
    setenv("SDL_VIDEODRIVER", "dummy", 0);
    setenv("KT_RENDERER", "software", 0);
    kt_log_set_level(KT_LOG_WARN);

    static const char conf[] = "[ticker]\nmax_items = 100\norder = interleave\n"
                               "[feed a]\nurl = http://127.0.0.1:9/a\n"
                               "[feed b]\nurl = http://127.0.0.1:9/b\n"
                               "[feed c]\nurl = http://127.0.0.1:9/c\n"
                               "[feed d]\nurl = http://127.0.0.1:9/d\n"
                               "[display]\nmode = window\nsize = 1280x96\nposition = fill\n"
                               "font_size = 40\nspeed = 1000\n";
    char err[KT_ERR_MAX];
    struct config *cfg = config_parse(conf, sizeof conf - 1, "display_soak.conf", err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "display_soak: %s\n", err);
        return 1;
    }
    struct store *store = store_new();
    int64_t wall = (int64_t)time(NULL);
    store_configure(store, cfg, wall);
    uint64_t next_id = 1;
    static const char *const feed_names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
        swap_feed(store, feed_names[i], &next_id, wall, i == 0);

    struct render *r = render_open_window(&cfg->display, SOAK_W, SOAK_H, err, sizeof err);
    if (!r || render_apply(r, &cfg->display, 0, err, sizeof err) < 0) {
        fprintf(stderr, "display_soak: %s\n", err);
        return 1;
    }
    render_adopt(r, store_snapshot(store), 0);
    uint64_t seen = render_generation(r);

    double start = now_s(), next_swap = SOAK_SWAP_S, next_sample = 0, deadline = 0;
    long frames = 0, swaps = 0;
    size_t n_samples = 0, cap_samples = (size_t)(seconds / SOAK_SAMPLE_S) + 4;
    struct sample *samples = kt_calloc(cap_samples, sizeof *samples);
    size_t tex_max = 0;
    bool consistent = true;
    printf("# display soak: %.0f s, warm-up %.0f s, %dx%d, swap every %.0f s\n", seconds, warmup,
           SOAK_W, SOAK_H, SOAK_SWAP_S);
    fflush(stdout);
    for (;;) {
        double t = now_s() - start;
        if (t >= seconds)
            break;
        SDL_Event ev;
        while (SDL_PollEvent(&ev))
            render_handle_event(r, &ev);
        if (t >= next_swap) {
            swap_feed(store, feed_names[swaps % 4], &next_id, wall + (int64_t)t, false);
            swaps++;
            next_swap += SOAK_SWAP_S;
        }
        if (store_generation(store) != seen) {
            render_adopt(r, store_snapshot(store), t);
            seen = render_generation(r);
        }
        render_frame(r, t);
        render_present(r);
        frames++;
        if (t >= next_sample && n_samples < cap_samples) {
            struct render_stats st;
            render_get_stats(r, &st);
            struct sample *sm = &samples[n_samples++];
            sm->t = t;
            mem_kb(&sm->rss, &sm->anon);
            struct mallinfo2 mi = mallinfo2();
            sm->heap = (long)((mi.uordblks + mi.hblkhd) / 1024); /* small + mmapped blocks */
            if (st.textures_created - st.textures_destroyed != st.textures_alive)
                consistent = false;
            if (st.textures_alive > tex_max)
                tex_max = st.textures_alive;
            if (n_samples % (getenv("KT_DISPLAY_SOAK_VERBOSE") ? 1 : 12) == 1) {
                printf("# t=%4.0f s: RSS %ld kB (anon %ld kB, heap %ld kB), textures alive %zu, "
                       "created %llu, headlines drawn by the worker %llu, frames %ld\n",
                       t, sm->rss, sm->anon, sm->heap, st.textures_alive,
                       (unsigned long long)st.textures_created, (unsigned long long)st.results,
                       frames);
                fflush(stdout);
            }
            next_sample += SOAK_SAMPLE_S;
        }
        /* 60 Hz, like display_pace without vsync. */
        deadline += 1.0 / 60;
        double now = now_s() - start;
        if (deadline < now - 1.0 / 60)
            deadline = now;
        else if (deadline > now)
            SDL_Delay((Uint32)((deadline - now) * 1000));
    }
    double took = now_s() - start;
    struct render_stats st;
    render_get_stats(r, &st);

    printf("display_soak_seconds=%.0f\n", took);
    printf("display_soak_frames=%ld\n", frames);
    printf("display_soak_fps=%.1f\n", (double)frames / took);
    printf("display_soak_swaps=%ld\n", swaps);
    printf("display_soak_rasterised=%llu\n", (unsigned long long)st.results);
    printf("display_soak_textures_created=%llu\n", (unsigned long long)st.textures_created);
    printf("display_soak_textures_alive_max=%zu\n", tex_max);
    printf("display_soak_textures_alive_end=%zu\n", st.textures_alive);
    double mid = warmup + (took - warmup) / 2;
    static const char *const names[] = {"rss", "anon", "heap"};
    long growth[3];
    for (size_t k = 0; k < 3; k++) {
        long first = peak(samples, n_samples, warmup, mid, k);
        long second = peak(samples, n_samples, mid, took + 1, k);
        growth[k] = second - first;
        printf("display_soak_%s_peak_first_half_kb=%ld\n", names[k], first);
        printf("display_soak_%s_peak_second_half_kb=%ld\n", names[k], second);
        printf("display_soak_%s_growth_kb=%ld\n", names[k], growth[k]);
    }
    printf("display_soak_rss_end_kb=%ld\n", n_samples ? samples[n_samples - 1].rss : 0);
    fflush(stdout);

    CHECK(swaps >= (long)(seconds / SOAK_SWAP_S) - 1);
    CHECK(st.results > (uint64_t)swaps);
    CHECK(consistent);
    CHECK(tex_max <= SOAK_TEXTURES_MAX);
    /* Liveness, not speed: frames kept coming even on a loaded machine. */
    CHECK((double)frames / took >= 10);
#ifdef KT_SANITIZED
    printf("# memory not judged in a sanitizer build: ASan's quarantine keeps freed memory.\n");
#else
    if (took >= 120) {
        CHECK(growth[0] <= 1024);
        CHECK(growth[1] <= 1024);
        CHECK(growth[2] <= 1024);
    } else {
        /* Two half-minute windows are too short for peaks to mean anything
         * against a megabyte of normal swing. */
        printf("# memory judged only in runs of 2 minutes or more (this one: %.0f s)\n", took);
    }
#endif
    free(samples);
    render_close(r);
    store_free(store);
    config_free(cfg);
    SDL_Quit();
    return tap_done();
}
