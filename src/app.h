/*
 * app: the running application. Owns the config in use, the store, the
 * cache file, the poller and the supervisor thread, and turns signals and
 * requests from other threads into reloads, refetches, cache saves and a
 * bounded shutdown. Edge module (threads, signals).
 *
 * Threads and who owns what:
 *  - the render (main) thread draws; once per frame it calls app_poll(),
 *    two atomic loads, and adopts a new config by pointer when there is
 *    one. It never waits for the supervisor, a worker, a file or a lock
 *    held across work.
 *  - the supervisor thread owns the poller and the cache file: it loads a
 *    config on SIGHUP, applies it (stop changed workers, configure the
 *    store, start new workers), publishes it for the render thread, saves
 *    the cache when what it holds changed, ages headlines out, watches the
 *    wall clock, and on quit stops the workers and makes the final save.
 *  - fetch workers (poller.c) fetch, parse and hand results to the store.
 *  - other threads (the control API, an MQTT client) call the app_request_
 *    functions below: each only records the request and wakes the
 *    supervisor.
 * Configs are shared by reference (config_ref.h): the render thread's is
 * released only after it has adopted a newer one.
 */
#ifndef KT_APP_H
#define KT_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture;
struct config;
struct config_ref;
struct frame_stats;
struct kt_buf;
struct message;
struct store;
struct app;

/* Shutdown: from the quit request to the end of the final save. */
#define APP_EXIT_BUDGET_MS 850

/* Installs the handlers (SIGHUP: reload, SIGINT/SIGTERM: quit, SIGPIPE
 * ignored). First thing in main: a signal during start-up is kept and
 * acted on once running. */
void app_signals_install(void);
/* Non-zero once SIGINT or SIGTERM arrived (or app_request_quit). Read it
 * atomically; it serves as a transport's cancel flag in one-shot modes. */
const int *app_quit_flag(void);

/* Reads the config file for a reload: path as given with -c (NULL: the
 * default one). NULL with "FILE:LINE: message" in err when it is invalid. */
typedef struct config *(*app_config_loader)(const char *path, char *err, size_t errlen);

/* Takes cfg. Creates the store, applies cfg and loads the cache, so the
 * first frame shows what the cache had. No thread is started yet. */
struct app *app_new(struct config *cfg, const char *config_path, app_config_loader load);
/* The same with --now: now_override (UTC seconds, 0 = none) is the wall
 * clock the store, alerts and show = hours are evaluated with (one-shot
 * modes: --fetch-once, --fetch-once --json, --check, --screenshot). */
struct app *app_new_at(struct config *cfg, const char *config_path, app_config_loader load,
                       int64_t now_override);
struct store *app_store(struct app *app);
/* The config the app was created with (valid until the render thread
 * adopts another one through app_poll). */
const struct config *app_config(struct app *app);

/* One-shot: refreshes every feed once and saves the cache. Returns the
 * number of feeds that answered, or -1 when SIGINT/SIGTERM cut it short
 * (transfers cancelled; what finished is saved). */
int app_fetch_once(struct app *app);

/* The long-running ticker: starts the supervisor (which starts the
 * workers). */
void app_start(struct app *app);

enum app_event { APP_CONTINUE, APP_QUIT, APP_RELOADED };
/* The render thread, once per frame: two atomic loads, nothing else. On
 * APP_RELOADED *cfg is the new config, valid until a later poll returns
 * another one. */
enum app_event app_poll(struct app *app, const struct config **cfg);

/* Without a display: waits for quit, pinging the systemd watchdog. */
int app_run_headless(struct app *app);

/* After the render loop: stops the workers and saves the cache, waiting at
 * most APP_EXIT_BUDGET_MS from the quit request. Returns 0, or 1 when the
 * final save failed or did not finish in time. */
int app_stop(struct app *app);

/* Frees the app and returns rc; when a thread had to be abandoned it ends
 * the process here instead (stdio flushed, no library destructors or
 * atexit handlers run under the abandoned thread's feet). */
int app_free(struct app *app, int rc);

/* ---- requests from any thread ---- */

/* Re-reads the config file (as SIGHUP). */
void app_request_reload(struct app *app);
/* Applies cfg (takes it) as a reload would: for a config that did not come
 * from the file (remote configuration). */
void app_submit_config(struct app *app, struct config *cfg);
/* Fetches a feed now (NULL: every feed), except while its server's
 * Retry-After holds. */
void app_request_refetch(struct app *app, const char *feed);
/* Operator messages (origin: "api", "all", "group/NAME", "screen/ID").
 * Post validates as store_message_put (-1 with the reason), and each
 * change wakes the supervisor, which saves the cache soon
 * (APP_SAVE_DELAY_MS). */
int app_message_post(struct app *app, const char *origin, const struct message *m, char *err,
                     size_t errlen);
bool app_message_delete(struct app *app, const char *origin /* NULL any */, const char *id);
size_t app_message_clear(struct app *app, const char *origin /* NULL all */);
/* The state document of /api/v1/state and --fetch-once --json (state.h). */
int app_state_json(struct app *app, struct kt_buf *out);
/* The frame on screen as PNG: waits at most timeout_ms for the render
 * thread to hand one over (capture.h). 0, or -1 (nothing appended). */
int app_screenshot_png(struct app *app, struct kt_buf *out, int timeout_ms);
/* The display's frame counters, owned by the app: main passes
 * app_frame_stats_mut as display_opts.stats, readers use the const one. */
const struct frame_stats *app_frame_stats(struct app *app);
struct frame_stats *app_frame_stats_mut(struct app *app);
/* What main passes as display_opts.capture. */
struct capture *app_capture(struct app *app);
/* Starts the control API when [control] listen is set (main, before
 * app_start; stopped by app_stop / app_free, never on the render thread).
 * 0 (also when not configured), or -1 with one line in err (address in
 * use, token file readable by others, ...). */
int app_api_start(struct app *app, char *err, size_t errlen);

/* Quits (as SIGTERM). */
void app_request_quit(struct app *app);
/* The config in use (+1; release with config_ref_put). */
struct config_ref *app_config_acquire(struct app *app);

#endif
