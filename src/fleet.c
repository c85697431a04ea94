/*
 * fleet: see fleet.h.
 *
 * One thread owns the mosquitto handle; no other thread touches it. It
 * sleeps in poll() on the broker's socket and a wake pipe, then lets
 * mosquitto_loop() with a zero timeout do whatever reading, writing, TLS
 * handshake and keepalive is due. Not mosquitto_loop_start(): other
 * threads could not wake its thread without calling into libmosquitto,
 * its reconnect delay has no jitter, and stopping it waits on the network.
 *
 * MQTT 5, so that CONNECT can tell the broker the largest packet we take
 * (libmosquitto allocates whatever the broker announces, up to 256 MB)
 * and the broker's refusals come with reason codes.
 */
#include "fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define FLEET_STABLE_MS 10000     /* a connection that held this long resets the back-off */
#define FLEET_OFFLINE_WAIT_MS 500 /* at stop, for the broker to take the offline status */
#define FLEET_KEY_MAX 200         /* bytes of a topic kept in the log-once set and logged */

enum fleet_state { FLEET_IDLE, FLEET_CONNECTING, FLEET_UP };

struct fleet {
    /* Set by fleet_start, read-only afterwards. */
    struct fleet_backend be;
    struct fleet_url url;
    char *url_text; /* mqtt://HOST:PORT, for log lines */
    char *username, *password, *ca_file;
    char screen_id[FLEET_NAME_MAX + 1];
    char **groups;
    size_t n_groups;
    char *prefix;
    int keepalive, backoff_min_ms, backoff_max_ms, connect_timeout_ms;
    struct fleet_topics topics;
    pthread_t thread;
    int wake_r, wake_w;

    /* Posted by any thread. */
    int stop;             /* __atomic */
    int status_dirty;     /* __atomic */
    pthread_mutex_t lock; /* guards shot, exited, abandoned */
    pthread_cond_t exited_cond;
    void *shot;
    size_t shot_len;
    bool exited, abandoned;
    pthread_mutex_t cb_lock; /* held while a backend callback runs */

    /* The client thread's own. */
    struct mosquitto *mosq;
    enum fleet_state state;
    int attempt; /* reconnects since the last stable connection */
    int64_t next_attempt_ms, deadline_ms, up_since_ms, last_status_ms, status_sent_ms;
    bool status_inflight, want_subscribe, offline_acked, reason_set, ever_up, back_noted;
    int status_mid, sub_mid, offline_mid, shot_mid;
    char *last_status;
    char reason[320];    /* why the last attempt or connection ended */
    char logged[320];    /* the last reason logged, until a connection holds */
    char lib_error[256]; /* libmosquitto's last error line (TLS details) */
    struct fleet_once once;
    struct fleet_bucket bucket;
    struct kt_buf payload;
    uint64_t rng;

    struct fleet_stats stats; /* fields updated with __atomic */
};

static int64_t fleet_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool fleet_stopping(struct fleet *f)
{
    return __atomic_load_n(&f->stop, __ATOMIC_ACQUIRE) != 0;
}

static void fleet_count(unsigned long *counter, unsigned long n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void fleet_wake(struct fleet *f)
{
    char c = 1;
    /* A full pipe already wakes the thread: nothing to do on EAGAIN. */
    if (write(f->wake_w, &c, 1) < 0 && errno != EAGAIN)
        kt_log_debug("mqtt: wake pipe: %s", strerror(errno));
}

static void fleet_drain(struct fleet *f)
{
    char buf[64];
    while (read(f->wake_r, buf, sizeof buf) > 0)
        ;
}

/* Sleeps up to ms, or until woken. */
static void fleet_wait(struct fleet *f, int64_t ms)
{
    struct pollfd p = {.fd = f->wake_r, .events = POLLIN};
    if (ms > 0 && poll(&p, 1, (int)(ms > 1000 ? 1000 : ms)) > 0)
        fleet_drain(f);
}

/* Backend calls: one at a time, never after fleet_stop() began. */
static bool fleet_backend_enter(struct fleet *f)
{
    pthread_mutex_lock(&f->cb_lock);
    if (fleet_stopping(f)) {
        pthread_mutex_unlock(&f->cb_lock);
        return false;
    }
    return true;
}

static void fleet_backend_leave(struct fleet *f)
{
    pthread_mutex_unlock(&f->cb_lock);
}

static void fleet_notify_connection(struct fleet *f, bool up)
{
    __atomic_store_n(&f->stats.connected, up, __ATOMIC_RELAXED);
    if (f->be.on_connection && fleet_backend_enter(f)) {
        f->be.on_connection(f->be.ctx, up);
        fleet_backend_leave(f);
    }
}

/* The log-once set keeps topics cut to a bounded length. */
static const char *fleet_key(const char *topic, char *key)
{
    snprintf(key, FLEET_KEY_MAX + 1, "%s", topic);
    return key;
}

static void fleet_topic_works(struct fleet *f, const char *topic)
{
    char key[FLEET_KEY_MAX + 1];
    fleet_once_forget(&f->once, fleet_key(topic, key));
}

/* A problem with one topic's payload: logged the first time only. */
static void fleet_reject(struct fleet *f, const char *topic, const char *why)
{
    fleet_count(&f->stats.rejected, 1);
    char key[FLEET_KEY_MAX + 1];
    fleet_key(topic, key);
    bool full;
    if (!fleet_once_first(&f->once, key, &full))
        kt_log_debug("mqtt: %s%s: %s (again)", key, strlen(topic) > FLEET_KEY_MAX ? "..." : "",
                     why);
    else if (full)
        kt_log_warn("mqtt: problems on more than %d topics; the next ones are not logged",
                    FLEET_ONCE_MAX);
    else
        kt_log_warn("mqtt: %s%s: %s; ignored (logged once for this topic)", key,
                    strlen(topic) > FLEET_KEY_MAX ? "..." : "", why);
}

static void fleet_set_reason(struct fleet *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fleet_set_reason(struct fleet *f, const char *fmt, ...)
{
    if (f->reason_set)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->reason, sizeof f->reason, fmt, ap);
    va_end(ap);
    f->reason_set = true;
}

/* libmosquitto's message for rc, without its final full stop (it goes
 * inside our sentences). */
static const char *fleet_strerror(int rc, char *buf, size_t size)
{
    snprintf(buf, size, "%s", mosquitto_strerror(rc));
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '.')
        buf[n - 1] = '\0';
    return buf;
}

static void fleet_reason_from_rc(struct fleet *f, int rc)
{
    char msg[128];
    if (rc == MQTT_RC_SESSION_TAKEN_OVER)
        fleet_set_reason(f, "another client connected as \"%s\" (two screens with one screen_id?)",
                         f->screen_id);
    else if (rc >= 128) /* an MQTT 5 reason code from the broker */
        fleet_set_reason(f, "the broker closed the connection: %s", mosquitto_reason_string(rc));
    else if (rc == MOSQ_ERR_ERRNO)
        fleet_set_reason(f, "%s", strerror(errno));
    else if (strstr(f->lib_error, "certificate verify failed"))
        fleet_set_reason(f,
                         "TLS: the broker's certificate was refused (%s): is it signed by "
                         "the CA of %s, and is \"%s\" one of its names?",
                         f->lib_error, f->ca_file ? f->ca_file : "the system's store", f->url.host);
    else if (f->lib_error[0])
        fleet_set_reason(f, "%s (%s)", fleet_strerror(rc, msg, sizeof msg), f->lib_error);
    else
        fleet_set_reason(f, "%s", fleet_strerror(rc, msg, sizeof msg));
}

/* The connection attempt or the connection ended: schedule the next one. */
static void fleet_lost(struct fleet *f, int rc)
{
    if (f->state == FLEET_IDLE)
        return;
    bool was_up = f->state == FLEET_UP;
    int64_t now = fleet_now_ms();
    f->state = FLEET_IDLE;
    f->status_inflight = false;
    if (fleet_stopping(f))
        return;
    fleet_reason_from_rc(f, rc);
    /* A connection that held ends an episode: back-off and log start
     * afresh. One that did not (a flapping broker, a duplicate screen id)
     * keeps both, so it is neither hammered nor logged per cycle. */
    if (was_up && now - f->up_since_ms >= FLEET_STABLE_MS) {
        f->attempt = 0;
        f->logged[0] = '\0';
    }
    int64_t delay =
        fleet_proto_backoff_ms(f->attempt, f->backoff_min_ms, f->backoff_max_ms, &f->rng);
    if (f->attempt < 30)
        f->attempt++;
    f->next_attempt_ms = now + delay;
    __atomic_store_n(&f->stats.last_backoff_ms, (long)delay, __ATOMIC_RELAXED);
    if (delay > __atomic_load_n(&f->stats.max_backoff_ms, __ATOMIC_RELAXED))
        __atomic_store_n(&f->stats.max_backoff_ms, (long)delay, __ATOMIC_RELAXED);
    if (strcmp(f->reason, f->logged) != 0) {
        kt_log_warn("mqtt %s: %s: %s; retrying in %.1f s, then backing off up to %.1f s",
                    f->url_text, was_up ? "lost the connection" : "cannot connect", f->reason,
                    (double)delay / 1000, (double)f->backoff_max_ms / 1000);
        snprintf(f->logged, sizeof f->logged, "%s", f->reason);
        f->back_noted = false;
    } else {
        kt_log_debug("mqtt %s: %s; retrying in %.1f s", f->url_text, f->reason,
                     (double)delay / 1000);
    }
    if (was_up)
        fleet_notify_connection(f, false);
}

static void fleet_on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                             const mosquitto_property *props)
{
    struct fleet *f = obj;
    if (rc != 0) {
        if (f->username)
            fleet_set_reason(f, "the broker refused the login of user \"%s\": %s", f->username,
                             mosquitto_reason_string(rc));
        else
            fleet_set_reason(f, "the broker refused the connection: %s",
                             mosquitto_reason_string(rc));
        return; /* the broker closes it: fleet_on_disconnect follows */
    }
    f->state = FLEET_UP;
    f->up_since_ms = fleet_now_ms();
    f->want_subscribe = true;
    f->last_status_ms = 0; /* publish the status now */
    fleet_count(&f->stats.connects, 1);
    if (!f->ever_up)
        kt_log_info("mqtt %s: connected as \"%s\"", f->url_text, f->screen_id);
    else if (f->logged[0] && !f->back_noted)
        kt_log_info("mqtt %s: connected again as \"%s\"", f->url_text, f->screen_id);
    f->back_noted = true;
    f->ever_up = true;
    fleet_notify_connection(f, true);
}

static void fleet_on_disconnect(struct mosquitto *m, void *obj, int rc,
                                const mosquitto_property *props)
{
    fleet_lost(obj, rc ? rc : MOSQ_ERR_CONN_LOST);
}

static void fleet_on_subscribe(struct mosquitto *m, void *obj, int mid, int count,
                               const int *granted, const mosquitto_property *props)
{
    struct fleet *f = obj;
    if (mid != f->sub_mid)
        return;
    for (int i = 0; i < count && (size_t)i < f->topics.n_subs; i++) {
        if (granted[i] >= 128) {
            char why[128];
            snprintf(why, sizeof why, "subscription refused by the broker: %s",
                     mosquitto_reason_string(granted[i]));
            fleet_reject(f, f->topics.subs[i], why);
        }
    }
}

static void fleet_on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                             const mosquitto_property *props)
{
    struct fleet *f = obj;
    const char *topic = NULL;
    if (mid == f->status_mid) {
        f->status_inflight = false;
        topic = f->topics.status;
    } else if (mid == f->offline_mid) {
        f->offline_acked = true;
        topic = f->topics.status;
    } else if (mid == f->shot_mid) {
        topic = f->topics.screenshot;
    }
    if (topic && reason >= 128) {
        char why[128];
        snprintf(why, sizeof why, "publish refused by the broker: %s",
                 mosquitto_reason_string(reason));
        fleet_reject(f, topic, why);
    }
}

static void fleet_on_log(struct mosquitto *m, void *obj, int level, const char *line)
{
    struct fleet *f = obj;
    if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) {
        snprintf(f->lib_error, sizeof f->lib_error, "%s", line);
        kt_log_debug("mqtt: libmosquitto: %s", line);
    }
}

/* Waits ms (the receive-rate bound), unless the client stops. */
static void fleet_pace(struct fleet *f, int64_t ms)
{
    fleet_count(&f->stats.paced_ms, (unsigned long)ms);
    int64_t until = fleet_now_ms() + ms;
    for (int64_t left = ms; left > 0 && !fleet_stopping(f); left = until - fleet_now_ms()) {
        struct pollfd p = {.fd = f->wake_r, .events = POLLIN};
        if (poll(&p, 1, (int)left) > 0)
            fleet_drain(f);
    }
}

static void fleet_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
                             const mosquitto_property *props)
{
    struct fleet *f = obj;
    if (fleet_stopping(f) || !msg->topic)
        return;
    char why[KT_ERR_MAX];
    struct fleet_topic t;
    size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
    if (fleet_proto_classify(f->prefix, f->screen_id, f->groups, f->n_groups, msg->topic, &t, why,
                             sizeof why) != 0) {
        fleet_reject(f, msg->topic, why);
        return;
    }
    if (len > FLEET_PAYLOAD_MAX) {
        snprintf(why, sizeof why, "payload of %zu bytes is over the %d KiB limit", len,
                 FLEET_PAYLOAD_MAX / 1024);
        fleet_reject(f, msg->topic, why);
        return;
    }
    int64_t wait = fleet_bucket_take(&f->bucket, fleet_now_ms());
    if (wait > 0)
        fleet_pace(f, wait);

    /* A copy, so the app always gets a NUL-terminated payload. */
    f->payload.len = 0;
    kt_buf_append(&f->payload, msg->payload, len);
    if (t.kind == FLEET_TOPIC_MESSAGE) {
        char id[FLEET_ID_MAX + 1];
        memcpy(id, t.id, t.id_len);
        id[t.id_len] = '\0';
        if (!f->be.on_message || !fleet_backend_enter(f))
            return;
        why[0] = '\0';
        int rc = f->be.on_message(f->be.ctx, t.scope, id, f->payload.data, len, why, sizeof why);
        fleet_backend_leave(f);
        fleet_count(&f->stats.messages, 1);
        if (rc != 0)
            fleet_reject(f, msg->topic, why[0] ? why : "refused by the app");
        else
            fleet_topic_works(f, msg->topic);
        return;
    }
    if (len == 0)
        return; /* a retained command being cleared */
    if (msg->retain) {
        fleet_reject(f, msg->topic,
                     "retained command: it would run again at every reconnect (publish commands "
                     "without -r; clear this one with mosquitto_pub -r -n -t TOPIC)");
        return;
    }
    enum fleet_command cmd;
    if (fleet_proto_parse_command(f->payload.data, len, &cmd, why, sizeof why) != 0) {
        fleet_reject(f, msg->topic, why);
        return;
    }
    kt_log_info("mqtt: command \"%s\" on %s", fleet_proto_command_name(cmd), msg->topic);
    if (!f->be.on_command || !fleet_backend_enter(f))
        return;
    f->be.on_command(f->be.ctx, cmd);
    fleet_backend_leave(f);
    fleet_count(&f->stats.commands, 1);
    fleet_topic_works(f, msg->topic);
}

static void fleet_connect(struct fleet *f)
{
    fleet_count(&f->stats.attempts, 1);
    f->reason_set = false;
    f->lib_error[0] = '\0';
    mosquitto_property *props = NULL;
    mosquitto_property_add_int32(&props, MQTT_PROP_MAXIMUM_PACKET_SIZE, FLEET_PACKET_MAX);
    /* Blocks in DNS and the TCP connect (the TLS handshake and CONNACK
     * come through the loop): this thread only, which fleet_stop() does
     * not wait for beyond its bound. */
    errno = 0;
    int rc =
        mosquitto_connect_bind_v5(f->mosq, f->url.host, f->url.port, f->keepalive, NULL, props);
    int saved = errno;
    mosquitto_property_free_all(&props);
    f->state = FLEET_CONNECTING;
    if (rc != MOSQ_ERR_SUCCESS) {
        if (rc == MOSQ_ERR_EAI)
            fleet_set_reason(f, "cannot resolve \"%s\"", f->url.host);
        else if (rc == MOSQ_ERR_ERRNO)
            fleet_set_reason(f, "%s", strerror(saved));
        fleet_lost(f, rc);
        return;
    }
    f->deadline_ms = fleet_now_ms() + f->connect_timeout_ms;
}

static void fleet_publish_status(struct fleet *f, int64_t now, bool periodic)
{
    char *doc = NULL;
    if (f->be.status) {
        if (!fleet_backend_enter(f))
            return;
        doc = f->be.status(f->be.ctx);
        fleet_backend_leave(f);
    }
    int bad;
    char why[KT_ERR_MAX];
    char *out = fleet_proto_status(doc, &bad, why, sizeof why);
    free(doc);
    if (bad)
        fleet_reject(f, f->topics.status, why);
    else
        fleet_topic_works(f, f->topics.status);
    f->last_status_ms = now;
    if (!periodic && f->last_status && strcmp(out, f->last_status) == 0) {
        free(out);
        return;
    }
    int mid;
    int rc =
        mosquitto_publish_v5(f->mosq, &mid, f->topics.status, (int)strlen(out), out, 1, true, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        fleet_reject(f, f->topics.status, mosquitto_strerror(rc));
        free(out);
        return;
    }
    f->status_mid = mid;
    f->status_inflight = true;
    f->status_sent_ms = now;
    fleet_count(&f->stats.status_sent, 1);
    free(f->last_status);
    f->last_status = out;
}

/* Connected: the subscriptions, the status and a screenshot when due. */
static void fleet_work(struct fleet *f, int64_t now)
{
    if (f->want_subscribe) {
        f->want_subscribe = false;
        int rc = mosquitto_subscribe_multiple(f->mosq, &f->sub_mid, (int)f->topics.n_subs,
                                              f->topics.subs, 1, 0, NULL);
        if (rc != MOSQ_ERR_SUCCESS)
            kt_log_error("mqtt %s: cannot subscribe: %s", f->url_text, mosquitto_strerror(rc));
    }
    /* A status the broker never acknowledged does not hold the next
     * one back forever. */
    if (f->status_inflight && now - f->status_sent_ms > 30000)
        f->status_inflight = false;
    if (!f->status_inflight) {
        bool first = f->last_status_ms == 0;
        bool periodic = now - f->last_status_ms >= FLEET_STATUS_PERIOD_MS;
        bool changed = __atomic_load_n(&f->status_dirty, __ATOMIC_ACQUIRE) &&
                       now - f->last_status_ms >= FLEET_STATUS_MIN_GAP_MS;
        if (first || periodic || changed) {
            __atomic_store_n(&f->status_dirty, 0, __ATOMIC_RELEASE);
            fleet_publish_status(f, now, first || periodic);
        }
    }
    pthread_mutex_lock(&f->lock);
    void *shot = f->shot;
    size_t shot_len = f->shot_len;
    f->shot = NULL;
    pthread_mutex_unlock(&f->lock);
    if (shot) {
        int rc = mosquitto_publish_v5(f->mosq, &f->shot_mid, f->topics.screenshot, (int)shot_len,
                                      shot, 1, false, NULL);
        if (rc == MOSQ_ERR_SUCCESS) {
            fleet_count(&f->stats.screenshots, 1);
            fleet_topic_works(f, f->topics.screenshot);
        } else {
            char why[128];
            snprintf(why, sizeof why, "screenshot of %zu bytes not sent: %s", shot_len,
                     mosquitto_strerror(rc));
            fleet_reject(f, f->topics.screenshot, why);
        }
        free(shot);
    }
}

/* How long poll() may sleep while a connection is open. */
static int fleet_poll_timeout(struct fleet *f, int64_t now)
{
    int64_t t = 1000;
    if (f->state == FLEET_CONNECTING && f->deadline_ms - now < t)
        t = f->deadline_ms - now;
    if (f->state == FLEET_UP && !f->status_inflight) {
        int64_t gap = __atomic_load_n(&f->status_dirty, __ATOMIC_ACQUIRE) ? FLEET_STATUS_MIN_GAP_MS
                                                                          : FLEET_STATUS_PERIOD_MS;
        if (f->last_status_ms + gap - now < t)
            t = f->last_status_ms + gap - now;
    }
    return t < 0 ? 0 : (int)t;
}

/* One poll and one turn of libmosquitto's loop on the open connection. */
static void fleet_turn(struct fleet *f, int timeout_ms)
{
    int sock = mosquitto_socket(f->mosq);
    if (sock < 0) {
        fleet_lost(f, MOSQ_ERR_NO_CONN);
        return;
    }
    struct pollfd p[2] = {
        {.fd = sock, .events = POLLIN | (mosquitto_want_write(f->mosq) ? POLLOUT : 0)},
        {.fd = f->wake_r, .events = POLLIN},
    };
    if (poll(p, 2, timeout_ms) > 0 && p[1].revents)
        fleet_drain(f);
    int rc = mosquitto_loop(f->mosq, 0, 1);
    if (rc != MOSQ_ERR_SUCCESS)
        fleet_lost(f, rc);
}

static void fleet_shutdown(struct fleet *f)
{
    if (f->state != FLEET_UP || mosquitto_socket(f->mosq) < 0)
        return;
    /* The will is only for a screen that vanishes: a clean stop says
     * "offline" itself and disconnects normally (no will). */
    if (mosquitto_publish_v5(f->mosq, &f->offline_mid, f->topics.status, (int)strlen(FLEET_OFFLINE),
                             FLEET_OFFLINE, 1, true, NULL) == MOSQ_ERR_SUCCESS) {
        int64_t until = fleet_now_ms() + FLEET_OFFLINE_WAIT_MS;
        for (int64_t now = fleet_now_ms(); !f->offline_acked && f->state == FLEET_UP && now < until;
             now = fleet_now_ms())
            fleet_turn(f, (int)(until - now > 50 ? 50 : until - now));
    }
    if (f->state == FLEET_UP) {
        mosquitto_disconnect_v5(f->mosq, 0, NULL);
        mosquitto_loop(f->mosq, 0, 1);
    }
    kt_log_info("mqtt %s: disconnected%s", f->url_text,
                f->offline_acked ? " (status offline)" : "");
}

static void fleet_free(struct fleet *f)
{
    mosquitto_destroy(f->mosq);
    if (f->wake_r >= 0)
        close(f->wake_r);
    if (f->wake_w >= 0)
        close(f->wake_w);
    free(f->url_text);
    free(f->username);
    free(f->ca_file);
    if (f->password) {
        explicit_bzero(f->password, strlen(f->password));
        free(f->password);
    }
    fleet_conf_free_groups(f->groups, f->n_groups);
    free(f->prefix);
    fleet_topics_free(&f->topics);
    free(f->shot);
    free(f->last_status);
    fleet_once_clear(&f->once);
    kt_buf_free(&f->payload);
    pthread_mutex_destroy(&f->lock);
    pthread_mutex_destroy(&f->cb_lock);
    pthread_cond_destroy(&f->exited_cond);
    free(f);
}

static void *fleet_main(void *arg)
{
    struct fleet *f = arg;
    /* A write to a socket the broker closed must fail with EPIPE, not
     * kill a program that left SIGPIPE at its default. */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    while (!fleet_stopping(f)) {
        int64_t now = fleet_now_ms();
        if (f->state == FLEET_IDLE) {
            if (now < f->next_attempt_ms)
                fleet_wait(f, f->next_attempt_ms - now);
            else
                fleet_connect(f);
            continue;
        }
        fleet_turn(f, fleet_poll_timeout(f, now));
        now = fleet_now_ms();
        if (f->state == FLEET_CONNECTING && now >= f->deadline_ms) {
            fleet_set_reason(f, "no answer from the broker within %.1f s%s%s",
                             (double)f->connect_timeout_ms / 1000, f->lib_error[0] ? ": " : "",
                             f->lib_error);
            fleet_lost(f, MOSQ_ERR_UNKNOWN);
        }
        if (f->state == FLEET_UP && !fleet_stopping(f))
            fleet_work(f, now);
    }
    fleet_shutdown(f);
    pthread_mutex_lock(&f->lock);
    f->exited = true;
    bool abandoned = f->abandoned;
    pthread_cond_signal(&f->exited_cond);
    pthread_mutex_unlock(&f->lock);
    if (abandoned) {
        kt_log_debug("mqtt %s: the client thread left by fleet_stop() has ended", f->url_text);
        fleet_free(f);
    }
    return NULL;
}

static pthread_once_t fleet_lib_once = PTHREAD_ONCE_INIT;

static void fleet_lib_init(void)
{
    mosquitto_lib_init();
}

static int fleet_setup_client(struct fleet *f, const struct fleet_settings *s, const char *username,
                              char *err, size_t errlen)
{
    /* Client id = screen id: the broker then drops a stale session of the
     * same screen, and a %c ACL works (but see docs/fleet.md: %u). */
    f->mosq = mosquitto_new(f->screen_id, true, f);
    if (!f->mosq)
        return kt_error(err, errlen, "mqtt: cannot create the client: %s", strerror(errno));
    mosquitto_int_option(f->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    int rc = mosquitto_will_set_v5(f->mosq, f->topics.status, (int)strlen(FLEET_OFFLINE),
                                   FLEET_OFFLINE, 1, true, NULL);
    if (rc == MOSQ_ERR_SUCCESS && username)
        rc = mosquitto_username_pw_set(f->mosq, username, f->password);
    if (rc != MOSQ_ERR_SUCCESS)
        return kt_error(err, errlen, "mqtt: %s", mosquitto_strerror(rc));
    if (f->url.tls) {
        if (s->ca_file) {
            if (access(s->ca_file, R_OK) != 0)
                return kt_error(err, errlen, "ca_file: %s: %s", s->ca_file, strerror(errno));
            rc = mosquitto_tls_set(f->mosq, s->ca_file, NULL, NULL, NULL, NULL);
            f->ca_file = kt_strdup(s->ca_file);
        } else {
            rc = mosquitto_int_option(f->mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
        }
        /* Verify the chain and the host name, always. */
        if (rc == MOSQ_ERR_SUCCESS)
            rc = mosquitto_tls_opts_set(f->mosq, 1, NULL, NULL);
        if (rc == MOSQ_ERR_SUCCESS)
            rc = mosquitto_tls_insecure_set(f->mosq, false);
        if (rc != MOSQ_ERR_SUCCESS)
            return kt_error(err, errlen, "ca_file: %s", mosquitto_strerror(rc));
    }
    mosquitto_connect_v5_callback_set(f->mosq, fleet_on_connect);
    mosquitto_disconnect_v5_callback_set(f->mosq, fleet_on_disconnect);
    mosquitto_message_v5_callback_set(f->mosq, fleet_on_message);
    mosquitto_subscribe_v5_callback_set(f->mosq, fleet_on_subscribe);
    mosquitto_publish_v5_callback_set(f->mosq, fleet_on_publish);
    mosquitto_log_callback_set(f->mosq, fleet_on_log);
    return 0;
}

struct fleet *fleet_start(const struct fleet_settings *s, const struct fleet_backend *backend,
                          char *err, size_t errlen)
{
    if (fleet_conf_validate(s, err, errlen) != 0)
        return NULL;
    pthread_once(&fleet_lib_once, fleet_lib_init);
    struct fleet *f = kt_calloc(1, sizeof *f);
    f->be = *backend;
    f->wake_r = f->wake_w = -1;
    pthread_mutex_init(&f->lock, NULL);
    pthread_mutex_init(&f->cb_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->exited_cond, &ca);
    pthread_condattr_destroy(&ca);
    fleet_conf_parse_url(s->mqtt, &f->url, err, errlen);
    f->url_text = f->url.tls ? kt_asprintf("mqtts://%s:%d", f->url.host, f->url.port)
                             : kt_asprintf("mqtt://%s:%d", f->url.host, f->url.port);
    if (s->screen_id)
        snprintf(f->screen_id, sizeof f->screen_id, "%s", s->screen_id);
    else if (fleet_conf_host_name(f->screen_id, sizeof f->screen_id, err, errlen) != 0)
        goto fail;
    f->groups = kt_calloc(s->n_groups ? s->n_groups : 1, sizeof *f->groups);
    for (size_t i = 0; i < s->n_groups; i++)
        f->groups[f->n_groups++] = kt_strdup(s->groups[i]);
    f->prefix = kt_strdup(s->topic_prefix ? s->topic_prefix : FLEET_DEFAULT_PREFIX);
    f->keepalive = s->keepalive ? s->keepalive : FLEET_DEFAULT_KEEPALIVE;
    f->backoff_min_ms = s->backoff_min_ms > 0 ? s->backoff_min_ms : 1000;
    f->backoff_max_ms = s->backoff_max_ms > 0 ? s->backoff_max_ms : 60000;
    f->connect_timeout_ms =
        s->connect_timeout_ms > 0 ? s->connect_timeout_ms : FLEET_CONNECT_TIMEOUT_MS;
    fleet_bucket_init(&f->bucket, s->rate_per_s > 0 ? s->rate_per_s : 50,
                      s->rate_burst > 0 ? s->rate_burst : 500, fleet_now_ms());
    fleet_topics_init(&f->topics, f->prefix, f->screen_id, f->groups, f->n_groups);
    kt_buf_init(&f->payload);
    if (getrandom(&f->rng, sizeof f->rng, GRND_NONBLOCK) != sizeof f->rng)
        f->rng = (uint64_t)fleet_now_ms() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)f;

    /* The username defaults to the screen id: the convention the ACL in
     * docs/fleet.md relies on (%u). */
    const char *username = s->username;
    if (s->password_file) {
        if (fleet_conf_read_password(s->password_file, &f->password, err, errlen) != 0)
            goto fail;
        if (!username)
            username = f->screen_id;
    }
    f->username = kt_strdup(username);
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        kt_error(err, errlen, "mqtt: pipe: %s", strerror(errno));
        goto fail;
    }
    f->wake_r = pipefd[0];
    f->wake_w = pipefd[1];
    for (int i = 0; i < 2; i++) {
        fcntl(pipefd[i], F_SETFL, O_NONBLOCK);
        fcntl(pipefd[i], F_SETFD, FD_CLOEXEC);
    }
    if (fleet_setup_client(f, s, username, err, errlen) != 0)
        goto fail;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    int rc = pthread_create(&f->thread, &attr, fleet_main, f);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        kt_error(err, errlen, "mqtt: cannot start the client thread: %s", strerror(rc));
        goto fail;
    }
    return f;
fail:
    fleet_free(f);
    return NULL;
}

void fleet_status_changed(struct fleet *f)
{
    if (!f)
        return;
    __atomic_store_n(&f->status_dirty, 1, __ATOMIC_RELEASE);
    fleet_wake(f);
}

int fleet_publish_screenshot(struct fleet *f, const void *png, size_t len)
{
    if (!f || !png || len == 0 || len > FLEET_SCREENSHOT_MAX)
        return -1;
    void *copy = kt_malloc(len);
    memcpy(copy, png, len);
    pthread_mutex_lock(&f->lock);
    void *old = f->shot;
    f->shot = copy;
    f->shot_len = len;
    pthread_mutex_unlock(&f->lock);
    free(old);
    fleet_wake(f);
    return 0;
}

void fleet_get_stats(struct fleet *f, struct fleet_stats *out)
{
    struct fleet_stats *s = &f->stats;
    out->connected = __atomic_load_n(&s->connected, __ATOMIC_RELAXED);
    out->attempts = __atomic_load_n(&s->attempts, __ATOMIC_RELAXED);
    out->connects = __atomic_load_n(&s->connects, __ATOMIC_RELAXED);
    out->messages = __atomic_load_n(&s->messages, __ATOMIC_RELAXED);
    out->commands = __atomic_load_n(&s->commands, __ATOMIC_RELAXED);
    out->rejected = __atomic_load_n(&s->rejected, __ATOMIC_RELAXED);
    out->status_sent = __atomic_load_n(&s->status_sent, __ATOMIC_RELAXED);
    out->screenshots = __atomic_load_n(&s->screenshots, __ATOMIC_RELAXED);
    out->paced_ms = __atomic_load_n(&s->paced_ms, __ATOMIC_RELAXED);
    out->last_backoff_ms = __atomic_load_n(&s->last_backoff_ms, __ATOMIC_RELAXED);
    out->max_backoff_ms = __atomic_load_n(&s->max_backoff_ms, __ATOMIC_RELAXED);
}

static struct timespec fleet_deadline(clockid_t clock, int ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

void fleet_stop(struct fleet *f)
{
    if (!f)
        return;
    if (pthread_equal(pthread_self(), f->thread)) {
        /* From a callback: the thread cannot wait for itself. It stops
         * after the callback returns and frees itself. */
        pthread_mutex_lock(&f->lock);
        __atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
        f->abandoned = true;
        pthread_mutex_unlock(&f->lock);
        pthread_detach(f->thread);
        return;
    }
    /* The condition variable runs on the monotonic clock; timedlock only
     * takes the real-time one. */
    struct timespec until = fleet_deadline(CLOCK_MONOTONIC, FLEET_STOP_MS);
    struct timespec real = fleet_deadline(CLOCK_REALTIME, FLEET_STOP_MS);
    __atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
    fleet_wake(f);
    /* Once we hold cb_lock, no backend call runs, and none starts after. */
    if (pthread_mutex_timedlock(&f->cb_lock, &real) == 0)
        pthread_mutex_unlock(&f->cb_lock);
    else
        kt_log_error("mqtt %s: a fleet callback of the app has not returned in %d ms", f->url_text,
                     FLEET_STOP_MS);
    pthread_mutex_lock(&f->lock);
    while (!f->exited) {
        if (pthread_cond_timedwait(&f->exited_cond, &f->lock, &until) == ETIMEDOUT)
            break;
    }
    if (f->exited) {
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
        fleet_free(f);
        return;
    }
    pthread_t thread = f->thread;
    f->abandoned = true;
    kt_log_warn("mqtt %s: the client is still in a network call; it is left to end on its own",
                f->url_text);
    pthread_mutex_unlock(&f->lock);
    pthread_detach(thread);
}
