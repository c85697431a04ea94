/*
 * fleet: the MQTT client of a screen in a fleet (libmosquitto). It
 * receives operator messages and commands on the screen's topics
 * (fleet_proto.h), and publishes the screen's retained status, with a
 * last-will that marks it offline when it loses power, and screenshots.
 *
 * The client runs on its own thread. Every function here returns at once
 * (it posts to that thread), so the render thread can call them; a broker
 * that is down, slow or refuses the login only costs reconnect attempts,
 * with capped exponential back-off and jitter, and a log line per new
 * reason, never one per retry.
 *
 * What the app provides is struct fleet_backend. Its callbacks run on the
 * client thread, one at a time, and must return promptly (hand the work
 * to the app's own threads): the client does not read the network while
 * one runs. After fleet_stop() returns, none is running or will start.
 */
#ifndef KT_FLEET_H
#define KT_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "fleet_conf.h"
#include "fleet_proto.h"

#define FLEET_SCREENSHOT_MAX (16 * 1024 * 1024)
#define FLEET_PACKET_MAX (1024 * 1024) /* asked of the broker: larger is never sent to us */
#define FLEET_STATUS_PERIOD_MS 60000   /* status republished at least this often */
#define FLEET_STATUS_MIN_GAP_MS 1000   /* changes coalesce to one publish per second */
#define FLEET_STOP_MS 1000             /* fleet_stop() returns within this */
#define FLEET_CONNECT_TIMEOUT_MS 15000 /* TCP + TLS + CONNACK, else retry (default) */

struct fleet_backend {
    void *ctx;
    /* A message on one of this screen's topics. scope is "all",
     * "group/NAME" or "screen/ID": (scope, id) names the message. payload
     * is its JSON (len bytes, NUL-terminated, at most FLEET_PAYLOAD_MAX);
     * len 0 means the message was removed. The same message may come
     * again (reconnect, QoS 1 redelivery): treat it as a replacement.
     * Return 0, or -1 with a reason in err: it is logged once per topic
     * (until a good payload comes on that topic). */
    int (*on_message)(void *ctx, const char *scope, const char *id, const char *payload, size_t len,
                      char *err, size_t errlen);
    /* reload, refetch or screenshot. A screenshot is answered, from any
     * thread, with fleet_publish_screenshot(). */
    void (*on_command)(void *ctx, enum fleet_command cmd);
    /* The status document: a JSON object, malloc'd (fleet frees it), or
     * NULL. fleet sets "online": true in it. Called when publishing: on
     * connect, after fleet_status_changed(), and every 60 s. */
    char *(*status)(void *ctx);
    /* Optional: the broker connection came up (CONNACK) or went down. */
    void (*on_connection)(void *ctx, bool up);
};

struct fleet;

/* Checks s (fleet_conf_validate), reads the password file, and starts the
 * client thread, which connects at once. NULL with the reason in err
 * (starting with the config key it is about). */
struct fleet *fleet_start(const struct fleet_settings *s, const struct fleet_backend *backend,
                          char *err, size_t errlen);

/* The status document changed: republish it (at most once a second). */
void fleet_status_changed(struct fleet *f);

/* Publishes a PNG (copied) to PREFIX/screen/ID/screenshot once connected;
 * a newer one replaces one not sent yet. -1 when over the size limit. */
int fleet_publish_screenshot(struct fleet *f, const void *png, size_t len);

/* Counters for the app's status and the tests (read without locking). */
struct fleet_stats {
    bool connected;            /* CONNACK received, not lost since */
    unsigned long attempts;    /* connection attempts */
    unsigned long connects;    /* ... that the broker accepted */
    unsigned long messages;    /* on_message calls */
    unsigned long commands;    /* on_command calls */
    unsigned long rejected;    /* payloads ignored: topic, size, JSON, app error */
    unsigned long status_sent; /* status publishes */
    unsigned long screenshots; /* screenshot publishes */
    unsigned long paced_ms;    /* time the receive-rate bound held messages back */
    long last_backoff_ms;      /* the delay chosen before the last attempt */
    long max_backoff_ms;       /* the longest such delay */
};
void fleet_get_stats(struct fleet *f, struct fleet_stats *out);

/* Stops the client: publishes {"online":false} (retained) when connected,
 * disconnects cleanly, and returns within FLEET_STOP_MS whatever the
 * broker does. A thread stuck in a connect (DNS, a black-holed address)
 * is left to finish on its own and frees itself. NULL is a no-op. From a
 * backend callback it only asks the client to stop (it cannot wait for its
 * own thread): no callback comes after the current one returns. */
void fleet_stop(struct fleet *f);

#endif
