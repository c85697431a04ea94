/*
 * api_fake: the control API (src/api.c) over a fake backend, and the
 * command-line client (src/ctl.c), for tests/test_api.py.
 *
 * Server: api_fake LISTEN [--token FILE] [--timeout S] [--max-connections N]
 *   prints the port bound on its first stdout line (or the reason on
 *   stderr and exits 1), then reads commands on stdin, one a line:
 *     stall          frames stop: the last one was 10 s ago (/healthz 503)
 *     frame          frames are drawn again (the default)
 *     slow MS        screenshot_png sleeps MS first (a busy API thread)
 *     full           post_message refuses (the store's limit)
 *     stats          prints "calls N max_in_flight M" (backend calls)
 *   and stops the server when stdin closes.
 * The backend keeps messages in memory (thread-safe) and serves a state
 * document, metrics with hostile feed names, and a 2x1 PNG.
 *
 * Client: api_fake --ctl LISTEN TOKEN_FILE|- post TEXT [SEVERITY|-] [DURATION|-]
 *                                            clear ID|all
 *                                            status
 *   exits 1 with "kiosk-ticker: REASON" on stderr, as main.c will.
 */
#include "api.h"
#include "ctl.h"
#include "message.h"
#include "metrics.h"
#include "util.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FAKE_MAX 100

struct fake {
    pthread_mutex_t lock;
    struct message msgs[FAKE_MAX];
    size_t n;
    int64_t stalled_ms; /* 0 = drawing: the last frame is always recent */
    int slow_ms;
    bool full;
    atomic_long calls, in_flight, max_in_flight;
};

static int64_t fake_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fake_enter(struct fake *f)
{
    f->calls++;
    long now = ++f->in_flight;
    long max = f->max_in_flight;
    while (now > max && !atomic_compare_exchange_weak(&f->max_in_flight, &max, now))
        ;
}

static void fake_leave(struct fake *f)
{
    f->in_flight--;
}

static int fake_state(void *ctx, struct kt_buf *out)
{
    struct fake *f = ctx;
    fake_enter(f);
    struct json_object *doc = json_object_new_object(), *msgs = json_object_new_array(),
                       *alerts = json_object_new_array();
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++) {
        struct kt_buf b;
        kt_buf_init(&b);
        message_to_json(&f->msgs[i], &b);
        json_object_array_add(msgs, json_tokener_parse(b.data));
        struct alert a;
        if (message_to_alert(&f->msgs[i], &a)) {
            struct json_object *o = json_object_new_object();
            json_object_object_add(o, "id", json_object_new_string(a.id));
            json_object_object_add(o, "source", json_object_new_string(a.source));
            json_object_object_add(o, "severity",
                                   json_object_new_string(alert_severity_name(a.severity)));
            json_object_object_add(o, "headline", json_object_new_string(a.text));
            json_object_array_add(alerts, o);
            alert_clear(&a);
        }
        kt_buf_free(&b);
    }
    pthread_mutex_unlock(&f->lock);
    json_object_object_add(doc, "headlines", json_object_new_array());
    json_object_object_add(doc, "alerts", alerts);
    json_object_object_add(doc, "messages", msgs);
    json_object_object_add(doc, "feeds", json_object_new_array());
    kt_buf_puts(out, json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
    json_object_put(doc);
    fake_leave(f);
    return 0;
}

static int fake_post(void *ctx, const struct message *m, char *err, size_t errlen)
{
    struct fake *f = ctx;
    fake_enter(f);
    int rc = 0;
    pthread_mutex_lock(&f->lock);
    size_t i = 0;
    while (i < f->n && strcmp(f->msgs[i].id, m->id) != 0)
        i++;
    if (f->full || (i == f->n && f->n == FAKE_MAX)) {
        rc = kt_error(err, errlen, "too many messages (at most %d)", f->full ? 0 : FAKE_MAX);
    } else {
        if (i < f->n)
            message_clear(&f->msgs[i]);
        else
            f->n++;
        message_copy(&f->msgs[i], m);
    }
    pthread_mutex_unlock(&f->lock);
    fake_leave(f);
    return rc;
}

static int fake_delete(void *ctx, const char *id)
{
    struct fake *f = ctx;
    fake_enter(f);
    int rc = -1;
    pthread_mutex_lock(&f->lock);
    for (size_t i = 0; i < f->n; i++) {
        if (strcmp(f->msgs[i].id, id) == 0) {
            message_clear(&f->msgs[i]);
            f->msgs[i] = f->msgs[--f->n];
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&f->lock);
    fake_leave(f);
    return rc;
}

static size_t fake_clear(void *ctx)
{
    struct fake *f = ctx;
    fake_enter(f);
    pthread_mutex_lock(&f->lock);
    size_t n = f->n;
    for (size_t i = 0; i < f->n; i++)
        message_clear(&f->msgs[i]);
    f->n = 0;
    pthread_mutex_unlock(&f->lock);
    fake_leave(f);
    return n;
}

static int fake_png(void *ctx, struct kt_buf *out)
{
    /* 2x1: #B00020 then #FFFFFF (the extreme alert's colours) */
    static const unsigned char png[] =
        "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x02\x00"
        "\x00\x00\x01\x08\x02\x00\x00\x00\x7b\x40\xe8\xdd\x00\x00\x00\x0f\x49\x44\x41\x54\x78"
        "\x9c\x63\xd8\xc0\xa0\xf0\xff\xff\x7f\x00\x0a\xa1\x03\xce\xe1\x7e\xe9\x1c\x00\x00\x00"
        "\x00\x49\x45\x4e\x44\xae\x42\x60\x82";
    struct fake *f = ctx;
    fake_enter(f);
    pthread_mutex_lock(&f->lock); /* slow_ms is set by the command loop */
    int ms = f->slow_ms;
    pthread_mutex_unlock(&f->lock);
    if (ms > 0)
        usleep((useconds_t)ms * 1000);
    kt_buf_append(out, png, sizeof png - 1);
    fake_leave(f);
    return 0;
}

static int64_t fake_age(void *ctx)
{
    struct fake *f = ctx;
    pthread_mutex_lock(&f->lock);
    int64_t age = f->stalled_ms ? fake_ms() - f->stalled_ms + 10000 : 16;
    pthread_mutex_unlock(&f->lock);
    return age;
}

static int fake_metrics(void *ctx, struct metrics *m)
{
    struct fake *f = ctx;
    fake_enter(f);
    m->frames_total = 12345;
    m->frames_late_total = 7;
    m->headlines = 42;
    pthread_mutex_lock(&f->lock);
    m->messages_active = f->n;
    for (size_t i = 0; i < f->n; i++)
        m->alerts_active += f->msgs[i].has_severity;
    pthread_mutex_unlock(&f->lock);
    m->last_frame_age_seconds = (double)fake_age(ctx) / 1000.0;
    m->n_feeds = 2;
    m->feeds = kt_calloc(2, sizeof *m->feeds);
    m->feeds[0].name = kt_strdup("bbc-world");
    m->feeds[0].last_success = 1773144000;
    m->feeds[0].fetch_failures = 3;
    m->feeds[0].headlines = 30;
    m->feeds[1].name = kt_strdup("odd \"name\" with \\ and\nnewline");
    m->feeds[1].headlines = 12;
    fake_leave(f);
    return 0;
}

static int fake_ctl(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    struct ctl_target t = {.listen = argv[2], .token_file = strcmp(argv[3], "-") ? argv[3] : NULL};
    char err[KT_ERR_MAX];
    int rc;
    const char *op = argv[4];
    if (strcmp(op, "post") == 0 && argc >= 6)
        rc = ctl_post(&t, argv[5], argc > 6 && strcmp(argv[6], "-") ? argv[6] : NULL,
                      argc > 7 && strcmp(argv[7], "-") ? argv[7] : NULL, stdout, err, sizeof err);
    else if (strcmp(op, "clear") == 0 && argc >= 6)
        rc = ctl_clear(&t, argv[5], err, sizeof err);
    else if (strcmp(op, "status") == 0)
        rc = ctl_status(&t, stdout, err, sizeof err);
    else
        return 2;
    if (rc != 0) {
        fprintf(stderr, "kiosk-ticker: %s\n", err);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--ctl") == 0)
        return fake_ctl(argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: api_fake LISTEN [--token FILE] [--timeout S]\n");
        return 2;
    }
    struct api_config cfg = {.listen = argv[1]};
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--token") == 0)
            cfg.token_file = argv[i + 1];
        else if (strcmp(argv[i], "--timeout") == 0)
            cfg.timeout_s = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--max-connections") == 0)
            cfg.max_connections = (unsigned)atoi(argv[i + 1]);
    }
    static struct fake f;
    pthread_mutex_init(&f.lock, NULL);
    struct api_backend be = {
        .ctx = &f,
        .state_json = fake_state,
        .post_message = fake_post,
        .delete_message = fake_delete,
        .clear_messages = fake_clear,
        .screenshot_png = fake_png,
        .last_frame_age_ms = fake_age,
        .metrics = fake_metrics,
    };
    char err[KT_ERR_MAX];
    struct api_server *s = api_start(&cfg, &be, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%u\n", (unsigned)api_port(s));
    fflush(stdout);
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        pthread_mutex_lock(&f.lock);
        if (strcmp(line, "stall\n") == 0)
            f.stalled_ms = fake_ms();
        else if (strcmp(line, "frame\n") == 0)
            f.stalled_ms = 0;
        else if (strncmp(line, "slow ", 5) == 0)
            f.slow_ms = atoi(line + 5);
        else if (strcmp(line, "full\n") == 0)
            f.full = true;
        pthread_mutex_unlock(&f.lock);
        if (strcmp(line, "stats\n") == 0)
            printf("calls %ld max_in_flight %ld\n", (long)f.calls, (long)f.max_in_flight);
        printf("ok\n");
        fflush(stdout);
    }
    api_stop(s);
    fake_clear(&f);
    return 0;
}
