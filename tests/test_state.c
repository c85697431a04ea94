/*
 * test_state: the state document (state.c) over a real store, the PNG
 * encoder (png_encode.c, read back with libpng) and the frame hand-over
 * between a render thread and an asking thread (capture.c).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <png.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "config.h"
#include "png_encode.h"
#include "state.h"
#include "store.h"
#include "tap.h"
#include "util.h"

static void test_state(void)
{
    char err[KT_ERR_MAX];
    static const char text[] = "[feed a]\nurl = http://a/\nlabel = A\n"
                               "[alert wx]\nurl = http://wx/\n";
    struct config *cfg = config_parse(text, strlen(text), "<test>", err, sizeof err);
    CHECK(cfg != NULL);
    if (!cfg)
        return;
    struct store *s = store_new();
    store_configure(s, cfg, 1000);
    struct store_item it[] = {{(char *)"Headline \"one\"", (char *)"http://a/1", 900, 0}};
    store_replace_items(s, "a", it, 1, 1000);
    struct message m = {.id = (char *)"hello", .text = (char *)"Welcome", .created = 1000};
    CHECK_INT(store_message_put(s, "api", &m, 1000, err, sizeof err), 0);
    struct alert a = {.id = (char *)"A1",
                      .source = (char *)"wx",
                      .severity = ALERT_EXTREME,
                      .text = (char *)"Tornado",
                      .label = (char *)"NWS",
                      .sent = 990,
                      .effective = 990,
                      .expires = 5000};
    store_apply_alerts(s, store_alert_token(s, "wx", "http://wx/"), &a, 1, 1000);
    store_note_failure(s, store_token(s, "a", "http://a/"), "HTTP 500");

    struct kt_buf b;
    kt_buf_init(&b);
    struct state_opts o = {.now = 1000, .screen = "on"};
    CHECK_INT(state_json(s, &o, &b), 0);
    struct json_object *doc = json_tokener_parse(b.data);
    if (getenv("KT_STATE_DEBUG"))
        fprintf(stderr, "%s\n", b.data);
    CHECK(doc != NULL);
    struct json_object *v, *x;
    if (doc) {
        CHECK(json_object_object_get_ex(doc, "headlines", &v) && json_object_array_length(v) == 2);
        x = json_object_array_get_idx(v, 0);
        CHECK_STR(json_object_get_string(json_object_object_get(x, "title")), "Welcome");
        CHECK_STR(json_object_get_string(json_object_object_get(x, "label")), "Notice");
        CHECK(json_object_get_boolean(json_object_object_get(x, "announcement")));
        x = json_object_array_get_idx(v, 1);
        CHECK_STR(json_object_get_string(json_object_object_get(x, "title")), "Headline \"one\"");
        CHECK_STR(json_object_get_string(json_object_object_get(x, "published")),
                  "1970-01-01T00:15:00Z");
        CHECK(json_object_object_get_ex(doc, "alerts", &v) && json_object_array_length(v) == 1);
        x = json_object_array_get_idx(v, 0);
        CHECK_STR(json_object_get_string(json_object_object_get(x, "severity")), "extreme");
        CHECK(json_object_object_get_ex(doc, "messages", &v) && json_object_array_length(v) == 1);
        x = json_object_array_get_idx(v, 0);
        CHECK_STR(json_object_get_string(json_object_object_get(x, "origin")), "api");
        CHECK(json_object_object_get_ex(doc, "feeds", &v) && json_object_array_length(v) == 1);
        x = json_object_array_get_idx(v, 0);
        CHECK_STR(json_object_get_string(json_object_object_get(x, "last_error")), "HTTP 500");
        CHECK_INT(json_object_get_int(json_object_object_get(x, "failures")), 1);
        CHECK_INT(json_object_get_int(json_object_object_get(x, "headlines")), 1);
        CHECK(json_object_object_get_ex(doc, "alert_sources", &v) &&
              json_object_array_length(v) == 1);
        x = json_object_array_get_idx(v, 0);
        CHECK_INT(json_object_get_int(json_object_object_get(x, "alerts")), 1);
        CHECK(json_object_get_type(json_object_object_get(x, "last_error")) == json_type_null);
        CHECK_STR(json_object_get_string(json_object_object_get(doc, "screen")), "on");
        json_object_put(doc);
    }
    kt_buf_free(&b);
    store_free(s);
    config_free(cfg);
}

static void test_png(void)
{
    uint8_t px[3 * 2 * 4];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 11);
    struct kt_buf b;
    kt_buf_init(&b);
    CHECK_INT(png_encode_rgba(px, 3, 2, &b), 0);
    CHECK(b.len > 8 && memcmp(b.data, "\x89PNG", 4) == 0);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    CHECK(png_image_begin_read_from_memory(&img, b.data, b.len));
    img.format = PNG_FORMAT_RGBA;
    uint8_t back[sizeof px];
    CHECK(img.width == 3 && img.height == 2);
    CHECK(png_image_finish_read(&img, NULL, back, 0, NULL));
    CHECK(memcmp(back, px, sizeof px) == 0);
    kt_buf_free(&b);
    kt_buf_init(&b);
    CHECK_INT(png_encode_rgba(NULL, 0, 0, &b), -1);
    kt_buf_free(&b);
}

/* A render thread that delivers a frame whenever one is pending. */
struct render_sim {
    struct capture *c;
    int stop;
    int frames;
};

static void *render_main(void *arg)
{
    struct render_sim *r = arg;
    uint8_t frame[4 * 2 * 8]; /* 4x2, pitch 32 (padding after each row) */
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        r->frames++;
        memset(frame, r->frames & 0xff, sizeof frame);
        if (capture_pending(r->c))
            capture_deliver(r->c, frame, 4, 2, 32);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void test_capture(void)
{
    struct capture *c = capture_new();
    uint8_t *px;
    int w, h;
    /* Nobody draws: times out. */
    CHECK_INT(capture_request(c, 50, &px, &w, &h), -1);
    CHECK(px == NULL);
    CHECK(!capture_pending(c));
    struct render_sim r = {c, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, render_main, &r);
    for (int i = 0; i < 20; i++) {
        CHECK_INT(capture_request(c, 5000, &px, &w, &h), 0);
        CHECK(w == 4 && h == 2 && px != NULL);
        free(px);
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    CHECK(!capture_pending(c));
    capture_free(c);
}

/* The render loop has ended: an asker waiting with a timeout far past the
 * test's own (ctest TIMEOUT) is released by capture_close, and later ones
 * fail at once. */
struct asker {
    struct capture *c;
    int rc;
};

static void *ask_main(void *arg)
{
    struct asker *a = arg;
    uint8_t *px;
    int w, h;
    a->rc = capture_request(a->c, 3600 * 1000, &px, &w, &h);
    free(px);
    return NULL;
}

static void test_capture_close(void)
{
    struct capture *c = capture_new();
    struct asker a = {c, 99};
    pthread_t th;
    pthread_create(&th, NULL, ask_main, &a);
    while (!capture_pending(c)) { /* the asker is waiting */
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    capture_close(c);
    pthread_join(th, NULL);
    CHECK_INT(a.rc, -1);
    a.rc = 99;
    ask_main(&a);
    CHECK_INT(a.rc, -1);
    capture_free(c);
}

int main(void)
{
    test_state();
    test_png();
    test_capture();
    test_capture_close();
    return tap_done();
}
