/*
 * app_fleet: the screen as a member of a fleet. Starts the MQTT client
 * (fleet.h) with the [fleet] section, turns what it receives into the
 * app's operations (app.h §3: messages by scope, reload, refetch,
 * screenshot) and builds the retained status document from the app's state
 * document (app_state_json), the frame counters and the remote config's
 * status (remote.h). Edge module: threads, no SDL.
 *
 * Threads: fleet's callbacks run on the MQTT client thread and only post
 * to the app (which returns at once) or wake this module's screenshot
 * thread, which waits for the render thread's frame (app_screenshot_png)
 * so the client never does.
 */
#ifndef KT_APP_FLEET_H
#define KT_APP_FLEET_H

struct app;
struct config;
struct remote;

/* The status carries the number of headlines shown and this many titles. */
#define APP_FLEET_STATUS_HEADLINES 5
/* Waits at most this for the render thread's frame. */
#define APP_FLEET_SCREENSHOT_MS 3000

struct app_fleet;

/* Starts the client when cfg's [fleet] mqtt is set (NULL otherwise, or on
 * an error, logged as "fleet: key: reason"). remote may be NULL. From the
 * main thread, before the render loop. */
struct app_fleet *app_fleet_start(struct app *app, const struct config *cfg, struct remote *remote);
/* The status changed (a reload, new headlines): republished within a
 * second. Returns at once. NULL is a no-op. */
void app_fleet_changed(struct app_fleet *f);
/* Publishes {"online":false} and stops (within FLEET_STOP_MS plus the
 * screenshot thread's current wait). NULL is a no-op. */
void app_fleet_stop(struct app_fleet *f);

#endif
