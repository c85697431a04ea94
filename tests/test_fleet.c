/*
 * fleet_client: src/fleet.c with a fake backend, for tests/test_fleet.py.
 *
 *   fleet_client KEY=VALUE...   (mqtt=, ca_file=, username=, password_file=,
 *                                screen_id=, groups=, topic_prefix=,
 *                                keepalive=, backoff_min_ms=, backoff_max_ms=,
 *                                rate=, burst=, connect_timeout_ms=,
 *                                png=FILE, stop_on=COMMAND)
 *
 * Every callback is printed as one JSON line on stdout with the monotonic
 * time "t" (seconds, the clock Python's time.monotonic() reads) and the
 * wall-clock "rt" (what mosquitto_sub's %U prints). The
 * backend accepts a message only when it is a JSON object with a "text"
 * string (the app's message.c is stricter), answers the screenshot
 * command with the png= file, and serves the status document set with
 * the "status JSON" line on stdin; with stop_on=COMMAND that command's
 * callback calls fleet_stop() itself. Other stdin lines: "changed", "stats",
 * "cpu", "stop" (fleet_stop, the process stays), "exit"; the end of input
 * stops and exits. The library's log lines go to
 * stderr, which the test reads.
 */
#include "fleet.h"
#include "log.h"
#include "util.h"

#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;
static char *status_doc;
static char *png_path;
static struct fleet *fleet;
static unsigned long status_calls;
static char *stop_on;    /* a command whose callback calls fleet_stop() */
static int self_stopped; /* __atomic: fleet_stop() was called from a callback */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Prints o (and frees it) as one line, with "ev" and "t". */
static void emit(const char *ev, struct json_object *o)
{
    if (!o)
        o = json_object_new_object();
    json_object_object_add(o, "ev", json_object_new_string(ev));
    json_object_object_add(o, "t", json_object_new_double(now_s()));
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    json_object_object_add(o, "rt", json_object_new_double((double)rt.tv_sec + rt.tv_nsec / 1e9));
    pthread_mutex_lock(&out_lock);
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    fflush(stdout);
    pthread_mutex_unlock(&out_lock);
    json_object_put(o);
}

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

static int on_message(void *ctx, const char *scope, const char *id, const char *payload, size_t len,
                      char *err, size_t errlen)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "scope", json_object_new_string(scope));
    json_object_object_add(o, "id", json_object_new_string(id));
    if (len == 0) {
        emit("remove", o);
        return 0;
    }
    json_object_object_add(o, "len", json_object_new_int64((int64_t)len));
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)fnv1a(payload, len));
    json_object_object_add(o, "hash", json_object_new_string(hash));
    json_object_object_add(o, "nul", json_object_new_boolean(payload[len] == '\0'));
    struct json_tokener *tok = json_tokener_new_ex(8);
    struct json_object *msg = json_tokener_parse_ex(tok, payload, (int)len);
    json_tokener_free(tok);
    struct json_object *text;
    if (!msg || !json_object_is_type(msg, json_type_object) ||
        !json_object_object_get_ex(msg, "text", &text) ||
        !json_object_is_type(text, json_type_string)) {
        json_object_put(msg);
        emit("malformed", o);
        return kt_error(err, errlen, "malformed message: not a JSON object with a \"text\"");
    }
    json_object_object_add(o, "text", json_object_get(text));
    json_object_put(msg);
    emit("message", o);
    return 0;
}

static void on_command(void *ctx, enum fleet_command cmd)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "command", json_object_new_string(fleet_proto_command_name(cmd)));
    emit("command", o);
    if (stop_on && strcmp(stop_on, fleet_proto_command_name(cmd)) == 0) {
        fleet_stop(fleet);
        __atomic_store_n(&self_stopped, 1, __ATOMIC_RELEASE);
        emit("self-stopped", NULL);
        return;
    }
    if (cmd == FLEET_CMD_SCREENSHOT && png_path) {
        char *data, err[KT_ERR_MAX];
        size_t len;
        if (kt_read_file(png_path, FLEET_SCREENSHOT_MAX, &data, &len, err, sizeof err) == 0) {
            /* From inside a callback, as the app may: must not block. */
            fleet_publish_screenshot(fleet, data, len);
            free(data);
        }
    }
}

static char *status(void *ctx)
{
    pthread_mutex_lock(&status_lock);
    char *doc = kt_strdup(status_doc);
    status_calls++;
    pthread_mutex_unlock(&status_lock);
    return doc;
}

static void on_connection(void *ctx, bool up)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "up", json_object_new_boolean(up));
    emit("connection", o);
}

static void print_stats(void)
{
    struct fleet_stats s;
    fleet_get_stats(fleet, &s);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "connected", json_object_new_boolean(s.connected));
#define N(field) json_object_object_add(o, #field, json_object_new_int64((int64_t)s.field))
    N(attempts);
    N(connects);
    N(messages);
    N(commands);
    N(rejected);
    N(status_sent);
    N(screenshots);
    N(paced_ms);
    N(last_backoff_ms);
    N(max_backoff_ms);
#undef N
    pthread_mutex_lock(&status_lock);
    json_object_object_add(o, "status_calls", json_object_new_int64((int64_t)status_calls));
    pthread_mutex_unlock(&status_lock);
    emit("stats", o);
}

static void print_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "cpu", json_object_new_double(cpu));
    emit("cpu", o);
}

static void stop_and_report(void)
{
    double t0 = now_s();
    fleet_stop(fleet);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ms", json_object_new_double((now_s() - t0) * 1000));
    emit("stopped", o);
}

int main(int argc, char **argv)
{
    kt_log_set_level(KT_LOG_DEBUG);
    struct fleet_settings s = {0};
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "fleet_client: %s: expected KEY=VALUE\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        const char *k = argv[i], *v = eq + 1;
        char err[KT_ERR_MAX];
        if (strcmp(k, "mqtt") == 0)
            s.mqtt = kt_strdup(v);
        else if (strcmp(k, "ca_file") == 0)
            s.ca_file = kt_strdup(v);
        else if (strcmp(k, "username") == 0)
            s.username = kt_strdup(v);
        else if (strcmp(k, "password_file") == 0)
            s.password_file = kt_strdup(v);
        else if (strcmp(k, "screen_id") == 0)
            s.screen_id = kt_strdup(v);
        else if (strcmp(k, "topic_prefix") == 0)
            s.topic_prefix = kt_strdup(v);
        else if (strcmp(k, "groups") == 0) {
            if (fleet_conf_parse_groups(v, &s.groups, &s.n_groups, err, sizeof err) != 0) {
                fprintf(stderr, "fleet_client: %s\n", err);
                return 2;
            }
        } else if (strcmp(k, "keepalive") == 0)
            s.keepalive = atoi(v);
        else if (strcmp(k, "backoff_min_ms") == 0)
            s.backoff_min_ms = atoi(v);
        else if (strcmp(k, "backoff_max_ms") == 0)
            s.backoff_max_ms = atoi(v);
        else if (strcmp(k, "rate") == 0)
            s.rate_per_s = atoi(v);
        else if (strcmp(k, "burst") == 0)
            s.rate_burst = atoi(v);
        else if (strcmp(k, "connect_timeout_ms") == 0)
            s.connect_timeout_ms = atoi(v);
        else if (strcmp(k, "png") == 0)
            png_path = kt_strdup(v);
        else if (strcmp(k, "stop_on") == 0)
            stop_on = kt_strdup(v);
        else {
            fprintf(stderr, "fleet_client: unknown key %s\n", k);
            return 2;
        }
    }
    status_doc = kt_strdup("{\"version\":\"test\",\"headlines\":0}");
    struct fleet_backend be = {.on_message = on_message,
                               .on_command = on_command,
                               .status = status,
                               .on_connection = on_connection};
    char err[KT_ERR_MAX];
    double t0 = now_s();
    fleet = fleet_start(&s, &be, err, sizeof err);
    double start_ms = (now_s() - t0) * 1000;
    fleet_conf_free(&s);
    if (!fleet) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string(err));
        emit("error", o);
        return 2;
    }
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ms", json_object_new_double(start_ms));
    emit("started", o);

    char line[70000];
    bool stopped = false;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "status ", 7) == 0) {
            pthread_mutex_lock(&status_lock);
            free(status_doc);
            status_doc = kt_strdup(line + 7);
            pthread_mutex_unlock(&status_lock);
            fleet_status_changed(fleet);
        } else if (strcmp(line, "changed") == 0) {
            fleet_status_changed(fleet);
        } else if (__atomic_load_n(&self_stopped, __ATOMIC_ACQUIRE)) {
            continue; /* the fleet is gone */
        } else if (strcmp(line, "stats") == 0) {
            print_stats();
        } else if (strcmp(line, "cpu") == 0) {
            print_cpu();
        } else if (strcmp(line, "stop") == 0 && !stopped) {
            /* The process lives on (until "exit" or the end of input), as
             * an app that reconfigures does, so a client thread left
             * behind by the stop can be seen to end. */
            stop_and_report();
            stopped = true;
        } else if (strcmp(line, "exit") == 0) {
            break;
        }
    }
    if (!stopped && !__atomic_load_n(&self_stopped, __ATOMIC_ACQUIRE))
        stop_and_report();
    free(stop_on);
    free(status_doc);
    free(png_path);
    return 0;
}
