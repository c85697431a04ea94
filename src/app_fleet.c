/*
 * app_fleet: see app_fleet.h.
 */
#include "app_fleet.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "config.h"
#include "display.h"
#include "fleet.h"
#include "fleet_conf.h"
#include "log.h"
#include "message.h"
#include "remote.h"
#include "util.h"

#ifndef KT_VERSION
#define KT_VERSION "unknown"
#endif

struct app_fleet {
    struct app *app;
    struct remote *remote;
    struct fleet *fleet;
    char *screen_id;
    int width, height; /* the configured window size; 0 = the screen's */
    time_t started;

    /* The screenshot thread. */
    pthread_t shot_thread;
    bool shot_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool shot_wanted, quit;
};

/* ---- fleet's callbacks (the MQTT client thread) ---- */

/* f->fleet is set once fleet_start() returns, maybe after the first
 * callback: app_fleet_start republishes once it is set. */
static void af_changed(struct app_fleet *f)
{
    struct fleet *fl = __atomic_load_n(&f->fleet, __ATOMIC_ACQUIRE);
    if (fl)
        fleet_status_changed(fl);
}

static int af_on_message(void *ctx, const char *scope, const char *id, const char *payload,
                         size_t len, char *err, size_t errlen)
{
    struct app_fleet *f = ctx;
    if (len == 0) {
        app_message_delete(f->app, scope, id);
        af_changed(f);
        return 0;
    }
    struct message m;
    struct message_parse_opts opts = {
        .now = (int64_t)time(NULL),
        .max_bytes = FLEET_PAYLOAD_MAX,
        .id = id,
    };
    if (message_parse(payload, len, &opts, &m, err, errlen) < 0)
        return -1;
    int rc = app_message_post(f->app, scope, &m, err, errlen);
    message_clear(&m);
    if (rc == 0)
        af_changed(f);
    return rc < 0 ? -1 : 0;
}

static void af_on_command(void *ctx, enum fleet_command cmd)
{
    struct app_fleet *f = ctx;
    switch (cmd) {
    case FLEET_CMD_RELOAD:
        /* The local file again, and the remote config asked now. */
        app_request_reload(f->app);
        remote_refresh(f->remote);
        break;
    case FLEET_CMD_REFETCH:
        app_request_refetch(f->app, NULL);
        break;
    case FLEET_CMD_SCREENSHOT:
        pthread_mutex_lock(&f->mu);
        f->shot_wanted = true;
        pthread_cond_signal(&f->cv);
        pthread_mutex_unlock(&f->mu);
        break;
    }
}

static void af_add_json(struct json_object *o, const char *key, const char *text)
{
    struct json_object *v = text ? json_tokener_parse(text) : NULL;
    json_object_object_add(o, key, v);
}

/* The state document with the fleet's own fields: who, since when, the
 * config's source, the frames. */
static char *af_status(void *ctx)
{
    struct app_fleet *f = ctx;
    struct kt_buf b;
    kt_buf_init(&b);
    struct json_object *o = NULL;
    if (app_state_json(f->app, &b) == 0)
        o = json_tokener_parse(b.data ? b.data : "");
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = json_object_new_object();
    }
    /* The count and the first few, not every headline: the status is
     * retained per screen, and a fleet's retained store is the sum. */
    struct json_object *hl;
    if (json_object_object_get_ex(o, "headlines", &hl) &&
        json_object_is_type(hl, json_type_array)) {
        size_t n = json_object_array_length(hl);
        struct json_object *first = json_object_new_array();
        for (size_t i = 0; i < n && i < APP_FLEET_STATUS_HEADLINES; i++) {
            struct json_object *t;
            if (json_object_object_get_ex(json_object_array_get_idx(hl, i), "title", &t))
                json_object_array_add(first, json_object_get(t));
        }
        json_object_object_add(o, "headlines", json_object_new_int64((int64_t)n));
        json_object_object_add(o, "first_headlines", first);
    }
    json_object_object_add(o, "screen_id", json_object_new_string(f->screen_id));
    json_object_object_add(o, "version", json_object_new_string(KT_VERSION));
    json_object_object_add(o, "uptime", json_object_new_int64((int64_t)(time(NULL) - f->started)));
    if (f->width > 0 && !json_object_object_get_ex(o, "screen_size", NULL)) {
        struct json_object *sz = json_object_new_object();
        json_object_object_add(sz, "width", json_object_new_int(f->width));
        json_object_object_add(sz, "height", json_object_new_int(f->height));
        json_object_object_add(o, "screen_size", sz);
    }
    kt_buf_free(&b);
    kt_buf_init(&b);
    remote_status_json(f->remote, &b);
    struct json_object *src = json_object_new_object();
    json_object_object_add(src, "file", json_object_new_string("local"));
    af_add_json(src, "remote", f->remote ? b.data : NULL);
    json_object_object_add(o, "config", src);
    const struct frame_stats *fs = app_frame_stats(f->app);
    if (fs) {
        json_object_object_add(o, "frames", json_object_new_int64((int64_t)fs->frames));
        json_object_object_add(o, "late_frames", json_object_new_int64((int64_t)fs->late));
    }
    kt_buf_free(&b);
    char *out = kt_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return out;
}

static void af_on_connection(void *ctx, bool up)
{
    struct app_fleet *f = ctx;
    kt_log_info("fleet: %s the broker", up ? "connected to" : "lost");
    (void)f;
}

/* ---- the screenshot thread ---- */

static void *af_shot_thread(void *arg)
{
    struct app_fleet *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->shot_wanted && !f->quit)
            pthread_cond_wait(&f->cv, &f->mu);
        if (f->quit)
            break;
        f->shot_wanted = false;
        pthread_mutex_unlock(&f->mu);
        struct kt_buf png;
        kt_buf_init(&png);
        int rc = app_screenshot_png(f->app, &png, APP_FLEET_SCREENSHOT_MS);
        pthread_mutex_lock(&f->mu);
        if (f->quit) {
            kt_buf_free(&png);
            break;
        }
        if (rc == 0 && fleet_publish_screenshot(f->fleet, png.data, png.len) < 0)
            kt_log_warn("fleet: screenshot of %zu bytes is over the limit", png.len);
        else if (rc != 0)
            kt_log_warn("fleet: no screenshot: the screen gave no frame within %d ms",
                        APP_FLEET_SCREENSHOT_MS);
        kt_buf_free(&png);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* ---- start and stop ---- */

static int af_settings(const struct cfg_fleet *c, struct fleet_settings *s, char *err,
                       size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->mqtt = kt_strdup(c->mqtt);
    s->ca_file = kt_strdup(c->ca_file);
    s->username = kt_strdup(c->username);
    s->password_file = kt_strdup(c->password_file);
    s->screen_id = kt_strdup(c->screen_id);
    s->topic_prefix = kt_strdup(c->topic_prefix);
    s->keepalive = (int)c->keepalive;
    s->config_url = kt_strdup(c->config_url);
    s->config_refresh = (int)c->config_refresh;
    if (c->groups && fleet_conf_parse_groups(c->groups, &s->groups, &s->n_groups, err, errlen) < 0)
        return -1;
    if (!s->screen_id) {
        char host[FLEET_NAME_MAX + 1];
        if (fleet_conf_host_name(host, sizeof host, err, errlen) < 0)
            return -1;
        s->screen_id = kt_strdup(host);
    }
    return 0;
}

struct app_fleet *app_fleet_start(struct app *app, const struct config *cfg, struct remote *remote)
{
    if (!cfg->fleet.mqtt)
        return NULL;
    struct fleet_settings s;
    char err[KT_ERR_MAX];
    if (af_settings(&cfg->fleet, &s, err, sizeof err) < 0) {
        kt_log_error("fleet: %s", err);
        fleet_conf_free(&s);
        return NULL;
    }
    struct app_fleet *f = kt_calloc(1, sizeof *f);
    f->app = app;
    f->remote = remote;
    f->screen_id = kt_strdup(s.screen_id);
    f->started = time(NULL);
    if (cfg->display.mode == MODE_WINDOW) {
        f->width = cfg->display.width;
        f->height = cfg->display.height_window;
    }
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    f->shot_started = pthread_create(&f->shot_thread, NULL, af_shot_thread, f) == 0;
    struct fleet_backend be = {
        .ctx = f,
        .on_message = af_on_message,
        .on_command = af_on_command,
        .status = af_status,
        .on_connection = af_on_connection,
    };
    struct fleet *fl = fleet_start(&s, &be, err, sizeof err);
    __atomic_store_n(&f->fleet, fl, __ATOMIC_RELEASE);
    fleet_conf_free(&s);
    if (fl)
        fleet_status_changed(fl); /* messages that came before f->fleet was set */
    if (!f->fleet) {
        kt_log_error("fleet: %s", err);
        app_fleet_stop(f);
        return NULL;
    }
    kt_log_info("fleet: screen %s, broker %s", f->screen_id, cfg->fleet.mqtt);
    return f;
}

void app_fleet_changed(struct app_fleet *f)
{
    if (f)
        af_changed(f);
}

void app_fleet_stop(struct app_fleet *f)
{
    if (!f)
        return;
    /* The screenshot thread first: it publishes through the client. It
     * ends at once, or after the frame it waits for (at most
     * APP_FLEET_SCREENSHOT_MS; the render loop has ended, so that only
     * happens when a screenshot was asked in the last moments). */
    pthread_mutex_lock(&f->mu);
    f->quit = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    if (f->shot_started)
        pthread_join(f->shot_thread, NULL);
    fleet_stop(f->fleet);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f->screen_id);
    free(f);
}
