/*
 * app: see app.h.
 *
 * Signals reach the supervisor through a self-pipe: a handler only sets a
 * flag and writes one byte (both async-signal-safe). Requests from other
 * threads do the same, so the supervisor has one thing to wait on.
 */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "api_token.h"
#include "cache.h"
#include "capture.h"
#include "config.h"
#include "config_ref.h"
#include "display.h"
#include "log.h"
#include "notify.h"
#include "message.h"
#include "metrics.h"
#include "png_encode.h"
#include "poller.h"
#include "state.h"
#include "store.h"
#include "util.h"

/* A change is saved this long after it was first seen, so the burst of
 * feeds answering at start-up is one write, not one per feed. */
#define APP_SAVE_DELAY_MS 1000
/* How often headlines are aged out and the wall clock checked, fetches
 * or not. */
#define APP_HOUSEKEEPING_MS 30000

/* ---- signals: process-wide, as signals are ---- */

static int app_quit_sig;           /* atomic */
static int app_reload_sig;         /* atomic */
static int app_wake[2] = {-1, -1}; /* self-pipe: [0] the supervisor polls */

static void app_wake_up(void)
{
    if (app_wake[1] >= 0) {
        int saved = errno;
        /* Full pipe: a wake-up is already pending, which is all it says. */
        ssize_t n = write(app_wake[1], "", 1);
        (void)n;
        errno = saved;
    }
}

static void app_on_quit(int sig)
{
    (void)sig;
    __atomic_store_n(&app_quit_sig, 1, __ATOMIC_RELEASE);
    app_wake_up();
}

static void app_on_hup(int sig)
{
    (void)sig;
    __atomic_store_n(&app_reload_sig, 1, __ATOMIC_RELEASE);
    app_wake_up();
}

void app_signals_install(void)
{
    if (app_wake[0] < 0 && pipe(app_wake) == 0) {
        for (int i = 0; i < 2; i++) {
            fcntl(app_wake[i], F_SETFL, fcntl(app_wake[i], F_GETFL) | O_NONBLOCK);
            fcntl(app_wake[i], F_SETFD, FD_CLOEXEC);
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = app_on_quit;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = app_on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

const int *app_quit_flag(void)
{
    return &app_quit_sig;
}

static bool app_quitting(void)
{
    return __atomic_load_n(&app_quit_sig, __ATOMIC_ACQUIRE) != 0;
}

static int64_t app_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the app ---- */

struct app {
    struct frame_stats stats; /* the display's, read by /healthz and /metrics */
    struct capture *capture;  /* screenshots of the running screen */
    struct api_server *api;   /* [control] listen, or NULL */
    char *config_path;
    int64_t now_override; /* --now: the wall clock for store and hours (0: none) */
    app_config_loader load;
    struct store *store;
    struct cache_file *cache; /* the supervisor's, once it runs */
    uint64_t seq;             /* of the last config adopted (supervisor) */

    /* The config in use: the supervisor swaps it, others take references. */
    pthread_mutex_t cfg_mu;
    struct config_ref *current;

    /* The render thread's handoff: the supervisor stores a new pointer
     * (holding a reference for it); the render thread, on seeing it,
     * stores its seq as acknowledged; configs older than that are
     * released by the supervisor. */
    struct config_ref *published;  /* atomic */
    uint64_t render_seq;           /* atomic */
    struct config_ref *render_cur; /* the render thread's own */
    struct config_ref **retired;   /* supervisor: published before, maybe still drawn */
    size_t n_retired;

    /* Requests from other threads (under req_mu). */
    pthread_mutex_t req_mu;
    struct config *submitted;
    bool refetch_all;
    char **refetch;
    size_t n_refetch;

    /* The supervisor. */
    pthread_t thread;
    bool started;
    struct poller *poller;
    uint64_t saved_gen;  /* the store's content generation last saved */
    int64_t save_due_ms; /* 0: no save pending */

    /* The end of the shutdown (under done_mu). */
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv;
    bool done;
    int save_rc;
    int64_t quit_ms;       /* when the supervisor saw the quit request; 0 = not yet */
    bool supervisor_stuck; /* abandoned by app_stop */
};

/* The wall clock the store is evaluated with. */
static int64_t app_wall(struct app *app)
{
    return app->now_override ? app->now_override : poller_now(app->store);
}

struct app *app_new(struct config *cfg, const char *config_path, app_config_loader load)
{
    return app_new_at(cfg, config_path, load, 0);
}

/* --now: the wall clock of the whole process (one-shot modes only). */
static int64_t app_fixed_now;

static int64_t app_fixed_clock(void)
{
    return __atomic_load_n(&app_fixed_now, __ATOMIC_RELAXED);
}

struct app *app_new_at(struct config *cfg, const char *config_path, app_config_loader load,
                       int64_t now_override)
{
    if (now_override) {
        /* The workers judge alerts (effective, expires) and record times
         * with poller_now: all of it happens at the given time. */
        __atomic_store_n(&app_fixed_now, now_override, __ATOMIC_RELAXED);
        poller_set_clock(app_fixed_clock, NULL);
    }
    struct app *app = kt_calloc(1, sizeof *app);
    app->now_override = now_override;
    atomic_init(&app->stats.frames, 0);
    atomic_init(&app->stats.late, 0);
    atomic_init(&app->stats.worst_us, 0);
    atomic_init(&app->stats.last_present_ns, 0);
    app->capture = capture_new();
    app->config_path = kt_strdup(config_path);
    app->load = load;
    pthread_mutex_init(&app->cfg_mu, NULL);
    pthread_mutex_init(&app->req_mu, NULL);
    pthread_mutex_init(&app->done_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&app->done_cv, &ca);
    pthread_condattr_destroy(&ca);

    app->current = config_ref_new(cfg, ++app->seq);
    app->published = config_ref_get(app->current);
    app->render_cur = app->published;
    app->render_seq = app->current->seq;

    app->store = store_new();
    /* The first clock reading is taken before the cache sets any time. */
    int64_t wall = poller_now(app->store);
    store_configure(app->store, cfg, now_override ? now_override : wall);
    app->cache = cache_file_new(cfg->cache);
    char err[KT_ERR_MAX];
    if (cache_file_load(app->cache, app->store, app_wall(app), err, sizeof err) < 0)
        kt_log_warn("cache ignored: %s", err);
    app->saved_gen = store_content_generation(app->store);
    return app;
}

struct store *app_store(struct app *app)
{
    return app->store;
}

const struct config *app_config(struct app *app)
{
    return app->render_cur->cfg;
}

struct config_ref *app_config_acquire(struct app *app)
{
    pthread_mutex_lock(&app->cfg_mu);
    struct config_ref *r = config_ref_get(app->current);
    pthread_mutex_unlock(&app->cfg_mu);
    return r;
}

int app_fetch_once(struct app *app)
{
    int ok = poller_run_once(app->current, app->store, app_quit_flag());
    if (app->now_override)
        store_refresh(app->store, app->now_override);
    /* What finished is worth keeping, even when cut short. */
    char err[KT_ERR_MAX];
    cache_file_save(app->cache, app->store, err, sizeof err);
    return ok;
}

/* ---- requests ---- */

void app_request_reload(struct app *app)
{
    (void)app;
    __atomic_store_n(&app_reload_sig, 1, __ATOMIC_RELEASE);
    app_wake_up();
}

void app_request_quit(struct app *app)
{
    (void)app;
    __atomic_store_n(&app_quit_sig, 1, __ATOMIC_RELEASE);
    app_wake_up();
}

void app_submit_config(struct app *app, struct config *cfg)
{
    pthread_mutex_lock(&app->req_mu);
    config_free(app->submitted); /* a newer one replaces one not yet applied */
    app->submitted = cfg;
    pthread_mutex_unlock(&app->req_mu);
    app_wake_up();
}

void app_request_refetch(struct app *app, const char *feed)
{
    pthread_mutex_lock(&app->req_mu);
    if (!feed) {
        app->refetch_all = true;
    } else {
        app->refetch = kt_realloc(app->refetch, (app->n_refetch + 1) * sizeof *app->refetch);
        app->refetch[app->n_refetch++] = kt_strdup(feed);
    }
    pthread_mutex_unlock(&app->req_mu);
    app_wake_up();
}

/* ---- the render thread ---- */

enum app_event app_poll(struct app *app, const struct config **cfg)
{
    if (app_quitting())
        return APP_QUIT;
    struct config_ref *p = __atomic_load_n(&app->published, __ATOMIC_ACQUIRE);
    if (p == app->render_cur)
        return APP_CONTINUE;
    app->render_cur = p;
    __atomic_store_n(&app->render_seq, p->seq, __ATOMIC_RELEASE);
    *cfg = p->cfg;
    return APP_RELOADED;
}

int app_run_headless(struct app *app)
{
    notify_ready();
    const struct config *cfg;
    while (app_poll(app, &cfg) != APP_QUIT) {
        notify_watchdog();
        /* A watchdog needs waking at least as often as it wants pings. */
        uint64_t usec = notify_watchdog_usec();
        uint64_t wait = usec ? usec / 4 : 100000;
        if (wait > 100000)
            wait = 100000;
        struct timespec ts = {0, (long)wait * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* ---- the supervisor ---- */

/* Releases configs the render thread has moved past. */
static void app_sweep_retired(struct app *app)
{
    uint64_t seen = __atomic_load_n(&app->render_seq, __ATOMIC_ACQUIRE);
    size_t k = 0;
    for (size_t i = 0; i < app->n_retired; i++) {
        if (app->retired[i]->seq < seen)
            config_ref_put(app->retired[i]);
        else
            app->retired[k++] = app->retired[i];
    }
    app->n_retired = k;
}

static void app_changed(void *ctx)
{
    (void)ctx;
    app_wake_up();
}

static void app_apply(struct app *app, struct config *next)
{
    struct config_ref *r = config_ref_new(next, ++app->seq);
    if (strcmp(next->cache, cache_file_path(app->cache)) != 0) {
        /* A new place for the cache: what the store holds goes there. */
        cache_file_free(app->cache);
        app->cache = cache_file_new(next->cache);
        app->saved_gen = 0;
    }
    poller_configure(app->poller, r);

    pthread_mutex_lock(&app->cfg_mu);
    struct config_ref *old = app->current;
    app->current = r;
    pthread_mutex_unlock(&app->cfg_mu);
    config_ref_put(old);

    struct config_ref *prev =
        __atomic_exchange_n(&app->published, config_ref_get(r), __ATOMIC_ACQ_REL);
    app->retired = kt_realloc(app->retired, (app->n_retired + 1) * sizeof *app->retired);
    app->retired[app->n_retired++] = prev;
    const struct store_snapshot *snap = store_snapshot(app->store);
    kt_log_info("config reloaded from %s (%zu feeds, %zu headlines shown)", next->path,
                next->n_feeds, snap->n);
    store_snapshot_release(snap);
}

static void app_reload(struct app *app)
{
    char err[KT_ERR_MAX];
    struct config *next = app->load(app->config_path, err, sizeof err);
    if (!next) {
        kt_log_error("reload refused, keeping the running config: %s", err);
        return;
    }
    app_apply(app, next);
}

static void app_take_requests(struct app *app)
{
    pthread_mutex_lock(&app->req_mu);
    struct config *submitted = app->submitted;
    app->submitted = NULL;
    bool all = app->refetch_all;
    app->refetch_all = false;
    char **names = app->refetch;
    size_t n = app->n_refetch;
    app->refetch = NULL;
    app->n_refetch = 0;
    pthread_mutex_unlock(&app->req_mu);

    if (__atomic_exchange_n(&app_reload_sig, 0, __ATOMIC_ACQ_REL))
        app_reload(app);
    if (submitted)
        app_apply(app, submitted);
    if (all)
        poller_refetch(app->poller, NULL);
    for (size_t i = 0; i < n; i++) {
        if (!all)
            poller_refetch(app->poller, names[i]);
        free(names[i]);
    }
    free(names);
}

/* Saves when what the cache holds changed (APP_SAVE_DELAY_MS after the
 * change was first seen), or now when final. Returns the save's result. */
static int app_maybe_save(struct app *app, bool final)
{
    uint64_t gen = store_content_generation(app->store);
    if (!final) {
        if (gen == app->saved_gen) {
            app->save_due_ms = 0;
            return 0;
        }
        if (!app->save_due_ms)
            app->save_due_ms = app_ms() + APP_SAVE_DELAY_MS;
        if (app_ms() < app->save_due_ms)
            return 0;
    }
    char err[KT_ERR_MAX];
    /* A failed save is retried at the next change, and at exit. */
    int rc = cache_file_save(app->cache, app->store, err, sizeof err);
    app->saved_gen = gen;
    app->save_due_ms = 0;
    return rc;
}

/* The snapshot's next_change on the monotonic clock (0: none). */
static int64_t app_next_change_ms(struct app *app, int64_t now_ms)
{
    const struct store_snapshot *snap = store_snapshot(app->store);
    int64_t next = snap->next_change;
    store_snapshot_release(snap);
    if (!next)
        return 0;
    int64_t wall = app_wall(app);
    if (next <= wall)
        return now_ms;
    int64_t d = next - wall;
    /* Far changes are looked at again by housekeeping anyway. */
    return d > 86400 ? 0 : now_ms + d * 1000;
}

static void *app_supervisor(void *arg)
{
    struct app *app = arg;
    poller_configure(app->poller, app->current);
    int64_t housekeeping = app_ms() + APP_HOUSEKEEPING_MS;
    while (!app_quitting()) {
        int64_t now = app_ms();
        int64_t until = housekeeping;
        if (app->save_due_ms && app->save_due_ms < until)
            until = app->save_due_ms;
        /* An alert or message begins or ends, or a show = window turns:
         * the snapshot is rebuilt then, so the render thread only ever
         * draws what the snapshot holds. */
        int64_t change_ms = app_next_change_ms(app, now);
        if (change_ms && change_ms < until)
            until = change_ms;
        struct pollfd pfd = {.fd = app_wake[0], .events = POLLIN};
        int wait = until > now ? (int)(until - now) : 0;
        if (app_wake[0] < 0 && wait > 200)
            wait = 200; /* no self-pipe: look at the flags five times a second */
        poll(&pfd, app_wake[0] >= 0 ? 1 : 0, wait);
        char drain[64];
        while (app_wake[0] >= 0 && read(app_wake[0], drain, sizeof drain) > 0)
            ;
        if (app_quitting())
            break;
        app_take_requests(app);
        if (app_next_change_ms(app, app_ms()) && app_next_change_ms(app, app_ms()) <= app_ms())
            store_refresh(app->store, app_wall(app));
        if (app_ms() >= housekeeping) {
            store_expire(app->store, app_wall(app));
            housekeeping = app_ms() + APP_HOUSEKEEPING_MS;
        }
        app_maybe_save(app, false);
        app_sweep_retired(app);
    }
    pthread_mutex_lock(&app->done_mu);
    app->quit_ms = app_ms();
    pthread_mutex_unlock(&app->done_mu);

    poller_stop(app->poller, POLLER_STOP_WAIT_MS);
    app->poller = NULL;
    int rc = app_maybe_save(app, true);

    pthread_mutex_lock(&app->done_mu);
    app->done = true;
    app->save_rc = rc;
    pthread_cond_broadcast(&app->done_cv);
    pthread_mutex_unlock(&app->done_mu);
    return NULL;
}

void app_start(struct app *app)
{
    app->poller = poller_new(app->store, app_changed, app);
    if (pthread_create(&app->thread, NULL, app_supervisor, app) == 0) {
        app->started = true;
    } else {
        /* Without a supervisor nothing fetches; the cache stays on screen. */
        kt_log_error("cannot start the supervisor thread: %s", strerror(errno));
        poller_stop(app->poller, 0);
        app->poller = NULL;
    }
}

int app_stop(struct app *app)
{
    notify_stopping();
    app_request_quit(app);
    if (!app->started) {
        char err[KT_ERR_MAX];
        return cache_file_save(app->cache, app->store, err, sizeof err) < 0;
    }
    pthread_mutex_lock(&app->done_mu);
    /* The budget runs from when the supervisor saw the request. */
    int64_t deadline = (app->quit_ms ? app->quit_ms : app_ms()) + APP_EXIT_BUDGET_MS;
    struct timespec until = {(time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000L};
    while (!app->done && app_ms() < deadline)
        pthread_cond_timedwait(&app->done_cv, &app->done_mu, &until);
    bool done = app->done;
    int rc = app->save_rc;
    pthread_mutex_unlock(&app->done_mu);
    if (!done) {
        kt_log_error("cache not saved: shutdown did not finish within %d ms", APP_EXIT_BUDGET_MS);
        /* Left to finish on its own, like an abandoned worker. */
        pthread_detach(app->thread);
        app->supervisor_stuck = true;
        return 1;
    }
    pthread_join(app->thread, NULL);
    app->started = false;
    /* After the final save, so the exit budget is the cache's; the render
     * loop has ended, so a screenshot still asked for fails at once. */
    capture_close(app->capture);
    api_stop(app->api);
    app->api = NULL;
    return rc < 0 ? 1 : 0;
}

int app_free(struct app *app, int rc)
{
    if (!app)
        return rc;
    if (app->supervisor_stuck || poller_abandoned() > 0) {
        /* A thread still runs inside libcurl, libxml2 or the store: exit()
         * would run their destructors (xmlCleanupParser, atexit handlers)
         * under it. The kernel frees what is left. */
        kt_log_info("exiting with %zu fetch(es) still running", poller_abandoned());
        fflush(NULL);
        _exit(rc);
    }
    if (app->started)
        app_stop(app);
    poller_stop(app->poller, POLLER_STOP_WAIT_MS);
    for (size_t i = 0; i < app->n_retired; i++)
        config_ref_put(app->retired[i]);
    free(app->retired);
    config_ref_put(app->published);
    config_ref_put(app->current);
    config_free(app->submitted);
    for (size_t i = 0; i < app->n_refetch; i++)
        free(app->refetch[i]);
    free(app->refetch);
    cache_file_free(app->cache);
    api_stop(app->api);
    app->api = NULL;
    capture_free(app->capture);
    store_free(app->store);
    pthread_mutex_destroy(&app->cfg_mu);
    pthread_mutex_destroy(&app->req_mu);
    pthread_mutex_destroy(&app->done_mu);
    pthread_cond_destroy(&app->done_cv);
    free(app->config_path);
    free(app);
    return rc;
}

/* ---- operations for other threads (the control API, MQTT) ---- */

int app_message_post(struct app *app, const char *origin, const struct message *m, char *err,
                     size_t errlen)
{
    int rc = store_message_put(app->store, origin, m, app_wall(app), err, errlen);
    if (rc == 0) {
        kt_log_info("message \"%s\" from %s: %s", m->id, origin, m->text);
        app_wake_up(); /* the supervisor saves the cache (APP_SAVE_DELAY_MS) */
    }
    return rc;
}

bool app_message_delete(struct app *app, const char *origin, const char *id)
{
    bool found = store_message_remove(app->store, origin, id);
    if (found) {
        kt_log_info("message \"%s\" deleted", id);
        app_wake_up();
    }
    return found;
}

size_t app_message_clear(struct app *app, const char *origin)
{
    size_t n = store_message_clear(app->store, origin);
    if (n) {
        kt_log_info("%zu message(s) cleared", n);
        app_wake_up();
    }
    return n;
}

const struct frame_stats *app_frame_stats(struct app *app)
{
    return &app->stats;
}

struct frame_stats *app_frame_stats_mut(struct app *app)
{
    return &app->stats;
}

struct capture *app_capture(struct app *app)
{
    return app->capture;
}

static int64_t app_frame_age_ms(struct app *app)
{
    uint64_t last = atomic_load_explicit(&app->stats.last_present_ns, memory_order_relaxed);
    if (!last)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return now > last ? (int64_t)((now - last) / 1000000ull) : 0;
}

int app_state_json(struct app *app, struct kt_buf *out)
{
    int64_t now = app_wall(app);
    const char *screen = "none";
    if (app_frame_age_ms(app) >= 0) {
        struct config_ref *r = app_config_acquire(app);
        screen = hours_is_on(&r->cfg->display.on, (time_t)now) ? "on" : "asleep";
        config_ref_put(r);
    }
    struct state_opts o = {.now = now, .screen = screen};
    return state_json(app->store, &o, out);
}

int app_screenshot_png(struct app *app, struct kt_buf *out, int timeout_ms)
{
    uint8_t *px;
    int w, h;
    if (capture_request(app->capture, timeout_ms, &px, &w, &h) != 0)
        return -1;
    int rc = png_encode_rgba(px, w, h, out);
    free(px);
    return rc;
}

/* The API backend over the app. */

/* Long enough for a frame at any sane rate, short enough that a stalled
 * screen answers 503 soon. */
#define APP_SCREENSHOT_TIMEOUT_MS 2000

static int app_api_state(void *ctx, struct kt_buf *out)
{
    return app_state_json(ctx, out);
}

static int app_api_post(void *ctx, const struct message *m, char *err, size_t errlen)
{
    return app_message_post(ctx, "api", m, err, errlen);
}

static int app_api_delete(void *ctx, const char *id)
{
    return app_message_delete(ctx, NULL, id) ? 0 : -1;
}

static size_t app_api_clear(void *ctx)
{
    return app_message_clear(ctx, NULL);
}

static int app_api_screenshot(void *ctx, struct kt_buf *out)
{
    return app_screenshot_png(ctx, out, APP_SCREENSHOT_TIMEOUT_MS);
}

static int64_t app_api_frame_age(void *ctx)
{
    return app_frame_age_ms(ctx);
}

static int app_api_metrics(void *ctx, struct metrics *out)
{
    struct app *app = ctx;
    out->frames_total = atomic_load_explicit(&app->stats.frames, memory_order_relaxed);
    out->frames_late_total = atomic_load_explicit(&app->stats.late, memory_order_relaxed);
    int64_t age = app_frame_age_ms(app);
    out->last_frame_age_seconds = age < 0 ? -1.0 : (double)age / 1000.0;
    const struct store_snapshot *snap = store_snapshot(app->store);
    out->headlines = snap->n;
    out->alerts_active = snap->n_alerts;
    store_snapshot_release(snap);
    struct store_message *msgs;
    size_t nm = store_messages(app->store, app_wall(app), &msgs);
    out->messages_active = nm;
    store_messages_free(msgs, nm);
    struct store_source_info *src;
    size_t ns = store_sources(app->store, &src);
    out->feeds = kt_calloc(ns ? ns : 1, sizeof *out->feeds);
    out->n_feeds = ns;
    for (size_t i = 0; i < ns; i++) {
        out->feeds[i].name = src[i].name;
        src[i].name = NULL;
        out->feeds[i].last_success = src[i].last_success;
        out->feeds[i].fetch_failures = src[i].failures;
        out->feeds[i].headlines = src[i].shown;
    }
    store_sources_free(src, ns);
    return 0;
}

int app_api_start(struct app *app, char *err, size_t errlen)
{
    const struct config *cfg = app->current->cfg;
    if (!cfg->control.listen)
        return 0;
    static const struct api_backend proto = {
        .state_json = app_api_state,
        .post_message = app_api_post,
        .delete_message = app_api_delete,
        .clear_messages = app_api_clear,
        .screenshot_png = app_api_screenshot,
        .last_frame_age_ms = app_api_frame_age,
        .metrics = app_api_metrics,
    };
    /* A token file others may read (or none that can be read) is a
     * security mistake: refuse to start, saying why. */
    if (cfg->control.token_file) {
        char *token = NULL;
        int rc = api_token_read(cfg->control.token_file, &token, err, errlen);
        free(token);
        if (rc < 0)
            return -1;
    }
    struct api_backend be = proto;
    be.ctx = app;
    struct api_config ac = {.listen = cfg->control.listen, .token_file = cfg->control.token_file};
    char why[KT_ERR_MAX];
    app->api = api_start(&ac, &be, why, sizeof why);
    if (!app->api) {
        /* The address is taken or gone: the screen matters more than the
         * API, so it runs without one (the line says why). */
        kt_log_error("control API not started, the ticker runs without it: %s", why);
        return 0;
    }
    kt_log_info("control API listening on %s (port %u)", cfg->control.listen,
                (unsigned)api_port(app->api));
    return 0;
}
