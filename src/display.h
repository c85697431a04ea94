/*
 * display: the SDL2 ticker strip (edge module: SDL2, SDL2_ttf, fontconfig,
 * fribidi). Runs on the main thread; reads the store by snapshot and never
 * waits on the network, a file, or the text worker.
 */
#ifndef KT_DISPLAY_H
#define KT_DISPLAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct capture;
struct config;
struct store;

enum display_event { DISPLAY_CONTINUE, DISPLAY_QUIT, DISPLAY_RELOADED };

/* What main gives the display: called once per frame (cheap: it only reads
 * signal flags), and every 100 ms while there is no screen. On
 * DISPLAY_RELOADED *cfg points at the new config, which the display
 * applies without closing the window; the old one stays valid until the
 * next poll. */
struct display_host {
    void *ctx;
    enum display_event (*poll)(void *ctx, const struct config **cfg);
};

/* The kiosk loop's frame counters, readable from any thread while it runs
 * (the control API's /healthz and /metrics, the MQTT status): relaxed
 * atomics, stored once per present, no lock. */
struct frame_stats {
    atomic_uint_least64_t frames;          /* presents since the start */
    atomic_uint_least64_t late;            /* presents that came more than 1.5 refresh
                                              intervals after the previous one (a
                                              refresh missed) */
    atomic_uint_least64_t worst_us;        /* longest time between two presents, µs */
    atomic_uint_least64_t last_present_ns; /* CLOCK_MONOTONIC of the last present, ns;
                                              0: none yet (no screen) */
};
/* Zeroes the counters (before display_run). */
void frame_stats_init(struct frame_stats *s);

struct display_opts {
    const char *screenshot;    /* write one frame to this .bmp/.png and exit */
    double at;                 /* screenshot time, seconds after start */
    int width, height;         /* --size WxH overrides (0 = from config) */
    struct frame_stats *stats; /* kiosk loop: updated per present (may be NULL) */
    struct capture *capture;   /* screenshots of the running screen (capture.h; may be NULL) */
    int64_t now;               /* --now: UTC seconds for the clock and office hours (0 = none) */
};

/* Runs until the host says quit (or the screenshot is done). Without a
 * screen (no X11, Wayland or usable KMS device) it says why in one line,
 * keeps polling the host and retries the display with back-off (1 s
 * doubling to 30 s). Returns a process exit code. */
int display_run(const struct config *cfg, struct store *store, const struct display_host *host,
                const struct display_opts *opts);

/* --screenshot (display_screenshot.c): one frame drawn by the software
 * renderer into a surface, no display needed, saved as BMP or PNG. */
int display_screenshot(const struct config *cfg, struct store *store,
                       const struct display_opts *opts);

#endif
