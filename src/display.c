/*
 * display: display_run (display.h), the kiosk loop: a window, one frame
 * per refresh, the host polled once per frame, a new store snapshot taken
 * when the generation moves; --screenshot is display_screenshot.c, the
 * benchmark's frame loop bench/bench_frames.c.
 *
 * Time is the monotonic clock, so the scroll speed is the same at any
 * refresh rate and a late frame does not slow the text. The clock starts
 * once the first screenful of text is ready (the worker opens the font
 * and shapes it; at most 2 s), so the strip starts with its first
 * headlines in place rather than with text popping in while it moves.
 *
 * Late frames: a present more than 1.5 refresh intervals after the
 * previous one missed a refresh. They are counted in frame_stats (other
 * threads read it) and summed up in one log line an hour.
 */
#include "display.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include "capture.h"
#include "config.h"
#include "hours.h"
#include "log.h"
#include "notify.h"
#include "render.h"
#include "store.h"
#include "util.h"

/* The first screenful gets this long to be ready before the clock starts
 * anyway (a very slow first fontconfig run). */
#define DISPLAY_START_WAIT_NS 2000000000ull
/* READY=1 waits at most this long for the first text (display_frames). */
#define DISPLAY_READY_WAIT_NS 20000000000ull
#define DISPLAY_SUMMARY_NS (3600ull * 1000000000ull)
/* Asleep (office hours), the loop looks at the host, the store and the
 * clock this often: a message or alert that wakes the screen shows within
 * a fifth of a second, at five wake-ups a second and no frames. */
#define DISPLAY_SLEEP_POLL_MS 200
#define DISPLAY_RETRY_MIN_S 1
#define DISPLAY_RETRY_MAX_S 30

static uint64_t display_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void frame_stats_init(struct frame_stats *s)
{
    atomic_init(&s->frames, 0);
    atomic_init(&s->late, 0);
    atomic_init(&s->worst_us, 0);
    atomic_init(&s->last_present_ns, 0);
    atomic_init(&s->asleep, false);
}

/* ---- counting presents ---- */

struct display_count {
    struct frame_stats *pub; /* the caller's, or NULL */
    uint64_t last_ns;
    uint64_t frames, late, worst_ns; /* since the start */
    /* this hour's */
    uint64_t hour_start_ns, hour_frames, hour_late, hour_worst_ns;
};

static void display_count_present(struct display_count *c, uint64_t now, double hz)
{
    double period_ns = 1e9 / (hz > 0 ? hz : 60);
    if (c->last_ns) {
        uint64_t dt = now - c->last_ns;
        bool late = (double)dt > 1.5 * period_ns;
        c->late += late;
        c->hour_late += late;
        if (dt > c->worst_ns)
            c->worst_ns = dt;
        if (dt > c->hour_worst_ns)
            c->hour_worst_ns = dt;
    } else {
        c->hour_start_ns = now;
    }
    c->last_ns = now;
    c->frames++;
    c->hour_frames++;
    if (c->pub) {
        atomic_store_explicit(&c->pub->frames, c->frames, memory_order_relaxed);
        atomic_store_explicit(&c->pub->late, c->late, memory_order_relaxed);
        atomic_store_explicit(&c->pub->worst_us, c->worst_ns / 1000, memory_order_relaxed);
        atomic_store_explicit(&c->pub->last_present_ns, now, memory_order_relaxed);
    }
    if (now - c->hour_start_ns >= DISPLAY_SUMMARY_NS) {
        kt_log_info("display: last hour: %llu frames, %llu late (a refresh missed), worst %.1f "
                    "ms between two frames",
                    (unsigned long long)c->hour_frames, (unsigned long long)c->hour_late,
                    (double)c->hour_worst_ns / 1e6);
        c->hour_start_ns = now;
        c->hour_frames = c->hour_late = c->hour_worst_ns = 0;
    }
}

/* ---- the kiosk loop ---- */

/* One frame per refresh. With vsync the present waited already; a
 * present that returned early anyway (a hidden window) or a renderer
 * without vsync (software into the window surface) gets frame deadlines,
 * so an idle kiosk never spins a core. A frame that came late is not
 * caught up: the scroll position follows time, not frames. */
static void display_pace(struct render *r, uint64_t *deadline_ns, bool warmup)
{
    double hz = render_refresh_hz(r) > 0 ? render_refresh_hz(r) : 60;
    uint64_t period = (uint64_t)(1e9 / hz), now = display_ns();
    if (render_paced(r) && now > *deadline_ns + period / 2) {
        *deadline_ns = now;
        return;
    }
    *deadline_ns += period;
    if (*deadline_ns + period < now) {
        *deadline_ns = now;
    } else if (*deadline_ns > now) {
        Uint32 ms = (Uint32)((*deadline_ns - now) / 1000000u);
        /* Before the clock starts nothing moves: the first text is shown
         * as soon as the worker has it, not at the next refresh. */
        if (warmup) {
            render_wait_text(r, (int)ms);
            *deadline_ns = display_ns();
        } else {
            SDL_Delay(ms);
        }
    }
}

enum display_end { DISPLAY_END_QUIT, DISPLAY_END_FAILED };

/* ---- office hours ---- */

bool display_is_on(const struct cfg_display *d, int alert_severity, int64_t now)
{
    if (alert_severity >= 0 && alert_severity >= (int)d->wake_severity)
        return true;
    return hours_is_on(&d->on, (time_t)now);
}

/* The schedule's state, evaluated again only when its next change is due
 * (a steady frame compares two numbers). */
struct display_hours {
    bool valid, on;
    int64_t next; /* UTC s of the next change; INT64_MAX: none */
};

static bool display_hours_on(struct display_hours *h, const struct cfg_display *d, int sev,
                             int64_t now)
{
    if (sev >= 0 && sev >= (int)d->wake_severity)
        return true;
    if (!h->valid || now >= h->next) {
        time_t next;
        h->on = hours_is_on(&d->on, (time_t)now);
        h->next = hours_next_change(&d->on, (time_t)now, &next) ? (int64_t)next : INT64_MAX;
        h->valid = true;
    }
    return h->on;
}

/* Polls the host: false when it says quit. A reload replaces *cfg. */
static bool display_poll(const struct display_host *host, const struct config **cfg, bool *reloaded)
{
    *reloaded = false;
    if (!host || !host->poll)
        return true;
    const struct config *next = *cfg;
    enum display_event de = host->poll(host->ctx, &next);
    if (de == DISPLAY_QUIT)
        return false;
    if (de == DISPLAY_RELOADED && next) {
        *cfg = next;
        *reloaded = true;
    }
    return true;
}

/* Outside office hours: one black frame, then no frames at all until the
 * hours say on or an alert at wake_severity arrives; the host, the store
 * and the window's events are looked at every DISPLAY_SLEEP_POLL_MS, and
 * last_present_ns is kept fresh (the screen is alive: /healthz).
 * t is the scroll time it fell asleep at (the headlines go on from
 * there). False when the host says quit. */
static bool display_sleep(struct render *r, const struct config **cfgp, struct store *store,
                          const struct display_host *host, struct display_count *count,
                          struct display_hours *hours, uint64_t *seen, double t)
{
    char err[KT_ERR_MAX], when[64] = "the hours change";
    if (hours->next != INT64_MAX) {
        time_t next = (time_t)hours->next;
        struct tm tm;
        if (localtime_r(&next, &tm))
            strftime(when, sizeof when, "%a %Y-%m-%d %H:%M", &tm);
    }
    kt_log_info("display: outside office hours: the screen is black until %s", when);
    render_black(r);
    render_present(r);
    /* Started at night: the screen is up, black on purpose. */
    notify_ready();
    if (count->pub)
        atomic_store_explicit(&count->pub->asleep, true, memory_order_relaxed);
    bool quit = false;
    for (;;) {
        SDL_Event ev;
        bool redraw = false;
        while (SDL_PollEvent(&ev)) {
            if (ev.type == SDL_QUIT)
                quit = true;
            render_handle_event(r, &ev);
            redraw = redraw || ev.type == SDL_WINDOWEVENT || ev.type == SDL_RENDER_DEVICE_RESET;
        }
        bool reloaded;
        if (quit || !display_poll(host, cfgp, &reloaded)) {
            quit = true;
            break;
        }
        if (reloaded) {
            if (render_apply(r, &(*cfgp)->display, t, err, sizeof err) < 0)
                kt_log_error("display: %s", err);
            hours->valid = false;
            redraw = true;
        }
        if (store_generation(store) != *seen) {
            render_adopt(r, store_snapshot(store), t);
            *seen = render_generation(r);
        }
        if (display_hours_on(hours, &(*cfgp)->display, render_alert_severity(r), time(NULL)))
            break;
        if (redraw) {
            render_black(r);
            render_present(r);
        }
        uint64_t now = display_ns();
        if (count->pub)
            atomic_store_explicit(&count->pub->last_present_ns, now, memory_order_relaxed);
        count->last_ns = 0; /* the first frame after waking is not late */
        notify_watchdog();
        SDL_Delay(DISPLAY_SLEEP_POLL_MS);
    }
    if (count->pub)
        atomic_store_explicit(&count->pub->asleep, false, memory_order_relaxed);
    if (!quit)
        kt_log_info("display: the screen is on%s",
                    render_alert_severity(r) >= (int)(*cfgp)->display.wake_severity
                        ? " (an alert woke it)"
                        : "");
    return !quit;
}

static enum display_end display_frames_run(struct render *r, const struct config **cfgp,
                                           struct store *store, const struct display_host *host,
                                           struct display_count *count, struct capture *capture,
                                           uint8_t **cap_buf, size_t *cap_size, int *cap_w,
                                           int *cap_h)
{
    (void)capture;
    (void)cap_buf;
    (void)cap_size;
    (void)cap_w;
    (void)cap_h;
    char err[KT_ERR_MAX];
    render_set_logos(r, (*cfgp)->feeds, (*cfgp)->n_feeds); /* images branch */
    if (render_apply(r, &(*cfgp)->display, 0, err, sizeof err) < 0)
        kt_log_error("display: %s", err);
    /* Whatever the store holds now (the cache, typically) shows as soon
     * as the worker has drawn it. */
    render_adopt(r, store_snapshot(store), 0);
    uint64_t seen = render_generation(r);

    uint64_t opened = display_ns(), start = 0, deadline = opened;
    struct display_hours hours = {0};
    bool presented = false, started = false;
    int text_presents = 0; /* presents with the first text drawn (READY=1 at 2) */
    render_set_warmup(r, true);
    for (;;) {
        uint64_t now = display_ns();
        double t = started ? (double)(now - start) / 1e9 : 0;
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) {
            if (ev.type == SDL_QUIT)
                return DISPLAY_END_QUIT;
            render_handle_event(r, &ev);
        }
        bool reloaded;
        if (!display_poll(host, cfgp, &reloaded))
            return DISPLAY_END_QUIT;
        if (reloaded) {
            render_set_logos(r, (*cfgp)->feeds, (*cfgp)->n_feeds); /* images branch */
            if (render_apply(r, &(*cfgp)->display, t, err, sizeof err) < 0)
                kt_log_error("display: %s", err);
            else
                kt_log_info("display: new settings applied");
        }
        if (store_generation(store) != seen) {
            render_adopt(r, store_snapshot(store), t);
            seen = render_generation(r);
        }
        if (reloaded)
            hours.valid = false;
        if (!display_hours_on(&hours, &(*cfgp)->display, render_alert_severity(r), time(NULL))) {
            uint64_t slept = display_ns();
            if (!display_sleep(r, cfgp, store, host, count, &hours, &seen, t))
                return DISPLAY_END_QUIT;
            /* The scroll clock stood still while the screen was off. */
            slept = display_ns() - slept;
            if (started)
                start += slept;
            else
                opened += slept;
            deadline = display_ns();
            continue;
        }
        render_frame(r, t);
        if (capture && capture_pending(capture) &&
            render_read_rgba(r, cap_buf, cap_size, cap_w, cap_h) == 0)
            capture_deliver(capture, *cap_buf, *cap_w, *cap_h, *cap_w * 4);
        render_present(r);
        now = display_ns();
        display_count_present(count, now, render_refresh_hz(r));
        if (!presented) {
            kt_log_debug("display: first frame presented");
            presented = true;
        }
        if (!started && (render_ready(r) || now - opened > DISPLAY_START_WAIT_NS)) {
            /* The end point of bench/kiosk.py's start-up time. */
            kt_log_debug("display: first text on screen");
            started = true;
            start = now;
            render_set_warmup(r, false);
        }
        if (render_failed(r))
            return DISPLAY_END_FAILED;
        /* systemd: ready once the first text is on screen: the second
         * present after it was drawn (a GL swap chain shows a frame when
         * the next one is queued), so READY=1 means the headlines (or the
         * idle text) are visible; after DISPLAY_READY_WAIT_NS without, ready
         * anyway (a font that slow must not fail the unit's start). Pings
         * prove frames keep coming. */
        if (render_ready(r) && text_presents < 2)
            text_presents++;
        if (text_presents >= 2 || now - opened > DISPLAY_READY_WAIT_NS)
            notify_ready();
        notify_watchdog();
        display_pace(r, &deadline, !started);
    }
}

static enum display_end display_frames(struct render *r, const struct config **cfgp,
                                       struct store *store, const struct display_host *host,
                                       struct display_count *count, struct capture *capture)
{
    /* the control API's screenshots: a buffer kept while the window is */
    uint8_t *cap_buf = NULL;
    size_t cap_size = 0;
    int cap_w = 0, cap_h = 0;
    enum display_end end = display_frames_run(r, cfgp, store, host, count, capture, &cap_buf,
                                              &cap_size, &cap_w, &cap_h);
    free(cap_buf);
    return end;
}

/* No screen: waits seconds while polling the host (signals, reloads),
 * the watchdog fed. False when the host says quit. */
static bool display_wait_for_screen(const struct display_host *host, const struct config **cfgp,
                                    int seconds)
{
    for (int i = 0; i < seconds * 10; i++) {
        bool reloaded;
        if (!display_poll(host, cfgp, &reloaded))
            return false;
        notify_watchdog();
        SDL_Delay(100);
    }
    return true;
}

static int display_loop(const struct config *cfg, struct store *store,
                        const struct display_host *host, const struct display_opts *opts)
{
    struct display_count count = {.pub = opts ? opts->stats : NULL};
    char last[KT_ERR_MAX] = "";
    int retry = DISPLAY_RETRY_MIN_S;
    for (;;) {
        char err[KT_ERR_MAX];
        struct render *r = render_open_window(&cfg->display, opts ? opts->width : 0,
                                              opts ? opts->height : 0, err, sizeof err);
        if (!r) {
            /* Said once, and again only when the reason changes; the
             * fetcher keeps fetching and caching meanwhile. */
            if (strcmp(err, last) != 0)
                kt_log_error("display: %s; trying again every %d s at most, fetching goes on", err,
                             DISPLAY_RETRY_MAX_S);
            else
                kt_log_debug("display: %s; next try in %d s", err, retry);
            snprintf(last, sizeof last, "%s", err);
            /* The service is up (fetching, caching): a board that boots
             * before its screen is on must not be restarted for it. */
            notify_ready();
            if (!display_wait_for_screen(host, &cfg, retry))
                return 0;
            retry = retry * 2 < DISPLAY_RETRY_MAX_S ? retry * 2 : DISPLAY_RETRY_MAX_S;
            continue;
        }
        if (last[0])
            kt_log_info("display: a screen is there now");
        last[0] = '\0';
        retry = DISPLAY_RETRY_MIN_S;
        enum display_end end =
            display_frames(r, &cfg, store, host, &count, opts ? opts->capture : NULL);
        render_close(r);
        if (end == DISPLAY_END_QUIT) {
            kt_log_info("display: closed (%llu frames, %llu late, worst %.1f ms)",
                        (unsigned long long)count.frames, (unsigned long long)count.late,
                        (double)count.worst_ns / 1e6);
            return 0;
        }
        return 1;
    }
}

int display_run(const struct config *cfg, struct store *store, const struct display_host *host,
                const struct display_opts *opts)
{
    if (opts && opts->screenshot)
        return display_screenshot(cfg, store, opts);
    return display_loop(cfg, store, host, opts);
}
