/*
 * display: the SDL2 ticker strip (edge module: SDL2, SDL2_ttf, fontconfig,
 * fribidi). Runs on the main thread; reads the store by snapshot and never
 * waits on the network.
 */
#ifndef KT_DISPLAY_H
#define KT_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

struct config;
struct store;

enum display_event { DISPLAY_CONTINUE, DISPLAY_QUIT, DISPLAY_RELOADED };

/* What main gives the display: called once per frame (cheap: it only reads
 * signal flags). On DISPLAY_RELOADED *cfg points at the new config, which
 * the display applies without closing the window; the old one stays valid
 * until the next poll. */
struct display_host {
    void *ctx;
    enum display_event (*poll)(void *ctx, const struct config **cfg);
};

struct display_opts {
    const char *screenshot; /* write one frame to this .bmp/.png and exit */
    double at;              /* screenshot time, seconds after start */
    int width, height;      /* --size WxH overrides (0 = from config) */
    long bench_frames;      /* > 0: render N frames and print figures */
};

/* Runs until the host says quit (or the screenshot/bench is done).
 * Returns a process exit code. */
int display_run(const struct config *cfg, struct store *store, const struct display_host *host,
                const struct display_opts *opts);

#endif
