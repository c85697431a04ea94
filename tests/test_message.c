/*
 * test_message: operator messages, data-driven over tests/data/message/.
 *
 * A case is NAME.json (the body) and NAME.expected:
 *   @now TIME          the parse's now (default 2026-03-10T12:00:00Z)
 *   @max_bytes N       the caller's size bound (default the API's)
 *   @id ID             the id the transport names (MQTT's topic)
 *   @stored yes        the stored form (cache, state document)
 *   @error MESSAGE     message_parse fails with exactly this message
 *   @alert yes|no      a severity makes it an alert
 *   @json JSON         message_to_json of the result; "id":"*" stands for a
 *                      generated id (checked for its form)
 * Every accepted message also round-trips: its JSON, read back as the
 * stored form, gives the same JSON.
 *
 * Then what data files cannot say: generated ids, the two transport size
 * bounds, message_to_alert, and a body of the bound's exact size.
 */
#include "date.h"
#include "message.h"
#include "tap.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TM_NOW "2026-03-10T12:00:00Z"

static int64_t tm_now(void)
{
    int64_t t = 0;
    date_parse(TM_NOW, &t);
    return t;
}

/* The expected JSON with "id":"*" replaced by the id got, after checking
 * that id has the generated form. */
static char *tm_want_json(const char *want, const struct message *m)
{
    const char *star = strstr(want, "\"id\":\"*\"");
    if (!star)
        return kt_strdup(want);
    CHECK_INT(strlen(m->id), MESSAGE_ID_GENERATED_LEN);
    CHECK(message_id_valid(m->id));
    return kt_asprintf("%.*s\"id\":\"%s\"%s", (int)(star - want), want, m->id, star + 8);
}

static void tm_case(const char *dir, const char *name)
{
    char *path = kt_asprintf("%s/%s.json", dir, name), *body = NULL, *exp = NULL;
    char err[KT_ERR_MAX];
    size_t blen, elen;
    CHECK(kt_read_file(path, 1u << 20, &body, &blen, err, sizeof err) == 0);
    free(path);
    path = kt_asprintf("%s/%s.expected", dir, name);
    CHECK(kt_read_file(path, 1u << 20, &exp, &elen, err, sizeof err) == 0);
    free(path);
    if (!body || !exp) {
        free(body);
        free(exp);
        return;
    }

    struct message_parse_opts o = {.now = tm_now()};
    const char *want_err = NULL, *want_json = NULL;
    int want_alert = -1;
    for (char *l = strtok(exp, "\n"); l; l = strtok(NULL, "\n")) {
        if (l[0] == '#')
            continue;
        if (kt_str_has_prefix(l, "@now "))
            CHECK(date_parse(l + 5, &o.now));
        else if (kt_str_has_prefix(l, "@max_bytes "))
            o.max_bytes = (size_t)atol(l + 11);
        else if (kt_str_has_prefix(l, "@id "))
            o.id = l + 4;
        else if (strcmp(l, "@stored yes") == 0)
            o.stored = true;
        else if (kt_str_has_prefix(l, "@error "))
            want_err = l + 7;
        else if (kt_str_has_prefix(l, "@alert "))
            want_alert = strcmp(l + 7, "yes") == 0;
        else if (kt_str_has_prefix(l, "@json "))
            want_json = l + 6;
        else {
            fprintf(stderr, "%s.expected: unknown line \"%s\"\n", name, l);
            CHECK(!"unknown line");
        }
    }
    CHECK((want_err != NULL) != (want_json != NULL));

    struct message m;
    err[0] = '\0';
    int rc = message_parse(body, blen, &o, &m, err, sizeof err);
    if (want_err) {
        if (rc == 0)
            fprintf(stderr, "%s: accepted, want \"%s\"\n", name, want_err);
        CHECK(rc == -1);
        if (strcmp(err, want_err) != 0)
            fprintf(stderr, "%s:\n", name);
        CHECK_STR(err, want_err);
        CHECK(strchr(err, '\n') == NULL);
        if (rc == 0)
            message_clear(&m);
    } else if (rc != 0) {
        fprintf(stderr, "%s: %s\n", name, err);
        CHECK(rc == 0);
    } else {
        struct kt_buf j;
        kt_buf_init(&j);
        message_to_json(&m, &j);
        char *want = tm_want_json(want_json, &m);
        if (strcmp(j.data, want) != 0)
            fprintf(stderr, "%s:\n", name);
        CHECK_STR(j.data, want);
        free(want);
        CHECK(uni_valid(m.text, strlen(m.text)));
        CHECK(uni_count(m.text, strlen(m.text)) <= MESSAGE_MAX_TEXT);
        if (want_alert >= 0)
            CHECK_INT(m.has_severity, want_alert);

        /* the stored form reads back to the same message */
        struct message back;
        struct message_parse_opts so = {.now = o.now, .stored = true};
        CHECK(message_parse(j.data, j.len, &so, &back, err, sizeof err) == 0);
        struct kt_buf j2;
        kt_buf_init(&j2);
        message_to_json(&back, &j2);
        CHECK_STR(j2.data, j.data);
        kt_buf_free(&j2);
        message_clear(&back);
        kt_buf_free(&j);
        message_clear(&m);
    }
    free(body);
    free(exp);
}

static int tm_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void tm_cases(const char *data)
{
    char *dir = kt_asprintf("%s/message", data);
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) && n < 256) {
        size_t l = strlen(de->d_name);
        if (l > 9 && strcmp(de->d_name + l - 9, ".expected") == 0)
            names[n++] = kt_strndup(de->d_name, l - 9);
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof *names, tm_cmp);
    CHECK(n >= 30);
    for (size_t i = 0; i < n; i++) {
        tm_case(dir, names[i]);
        free(names[i]);
    }
    free(dir);
}

static void tm_generated(void)
{
    /* generated ids: the form, and no two alike */
    char ids[64][MESSAGE_ID_GENERATED_LEN + 1];
    for (int i = 0; i < 64; i++) {
        CHECK(message_new_id(ids[i], sizeof ids[i]) == 0);
        CHECK(message_id_valid(ids[i]));
        CHECK_INT(strlen(ids[i]), MESSAGE_ID_GENERATED_LEN);
        for (int k = 0; k < i; k++)
            CHECK(strcmp(ids[i], ids[k]) != 0);
    }
    char small[8];
    CHECK(message_new_id(small, sizeof small) == -1);

    CHECK(message_id_valid("fire-drill_2026.03~a"));
    CHECK(!message_id_valid(""));
    CHECK(!message_id_valid(".hidden"));
    CHECK(!message_id_valid("a/b"));
    CHECK(!message_id_valid("a b"));
    char longid[MESSAGE_MAX_ID + 2];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    CHECK(!message_id_valid(longid));
    longid[MESSAGE_MAX_ID] = '\0';
    CHECK(message_id_valid(longid));

    /* the API's and MQTT's bounds: the same 20 KiB body */
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_puts(&b, "{\"text\": \"Fire drill\"");
    while (b.len < 20 * 1024)
        kt_buf_puts(&b, "                ");
    kt_buf_puts(&b, "}");
    struct message m;
    char err[KT_ERR_MAX];
    struct message_parse_opts api = {.now = tm_now(), .max_bytes = MESSAGE_MAX_API_BYTES};
    struct message_parse_opts mqtt = {.now = tm_now(), .max_bytes = MESSAGE_MAX_MQTT_BYTES};
    CHECK(message_parse(b.data, b.len, &api, &m, err, sizeof err) == -1);
    CHECK(kt_str_has_prefix(err, "message: "));
    CHECK(message_parse(b.data, b.len, &mqtt, &m, err, sizeof err) == 0);
    message_clear(&m);
    kt_buf_free(&b);

    /* exactly at the bound is accepted, one byte more is not */
    kt_buf_init(&b);
    kt_buf_puts(&b, "{\"text\":\"x\"");
    while (b.len < MESSAGE_MAX_API_BYTES - 1)
        kt_buf_putc(&b, ' ');
    kt_buf_putc(&b, '}');
    CHECK_INT(b.len, MESSAGE_MAX_API_BYTES);
    CHECK(message_parse(b.data, b.len, &api, &m, err, sizeof err) == 0);
    message_clear(&m);
    kt_buf_putc(&b, ' ');
    CHECK(message_parse(b.data, b.len, &api, &m, err, sizeof err) == -1);
    kt_buf_free(&b);

    /* a message with a severity is an alert of source "message" */
    const char *j =
        "{\"text\":\"Evacuate\",\"severity\":\"extreme\",\"duration\":\"1h\",\"id\":\"e\"}";
    CHECK(message_parse(j, strlen(j), &api, &m, err, sizeof err) == 0);
    struct alert a;
    CHECK(message_to_alert(&m, &a));
    CHECK_STR(a.id, "e");
    CHECK_STR(a.source, ALERT_SOURCE_MESSAGE);
    CHECK_STR(a.label, MESSAGE_DEFAULT_LABEL);
    CHECK_INT(a.severity, ALERT_EXTREME);
    CHECK_INT(a.expires, tm_now() + 3600);
    CHECK(alert_active(&a, tm_now()));
    CHECK(!alert_active(&a, tm_now() + 3600));
    CHECK(!message_expired(&m, tm_now() + 3599));
    CHECK(message_expired(&m, tm_now() + 3600));
    alert_clear(&a);
    message_clear(&m);
    j = "{\"text\":\"Lunch\"}";
    CHECK(message_parse(j, strlen(j), &api, &m, err, sizeof err) == 0);
    CHECK(!message_to_alert(&m, &a));
    CHECK_STR(message_label(&m), "Notice");
    CHECK(!message_expired(&m, INT64_MAX));
    message_clear(&m);
}

/* alert.h: severities and the display order. */
static void tm_alert(void)
{
    enum alert_severity s;
    for (int i = 0; i < ALERT_SEVERITY_COUNT; i++) {
        CHECK(alert_severity_parse(alert_severity_name((enum alert_severity)i), &s) == 0);
        CHECK_INT(s, i);
    }
    CHECK(alert_severity_parse("EXTREME", &s) == 0 && s == ALERT_EXTREME);
    CHECK(alert_severity_parse("severe ", &s) == -1);
    CHECK(alert_severity_parse(NULL, &s) == -1);
    CHECK(ALERT_UNKNOWN < ALERT_MINOR && ALERT_MINOR < ALERT_MODERATE &&
          ALERT_MODERATE < ALERT_SEVERE && ALERT_SEVERE < ALERT_EXTREME);
    CHECK_INT(alert_default_colors(ALERT_EXTREME).background, 0xB00020);
    CHECK_INT(alert_default_colors(ALERT_SEVERE).background, 0xE65100);
    CHECK_INT(alert_default_colors(ALERT_MODERATE).background, 0xF9A825);
    CHECK_INT(alert_default_colors(ALERT_MODERATE).text, 0x000000);
    CHECK_INT(alert_default_colors(ALERT_MINOR).background, 0x1565C0);
    CHECK_INT(alert_default_colors(ALERT_MINOR).text, 0xFFFFFF);

    struct alert list[5] = {
        {.id = "a", .source = "x", .severity = ALERT_MODERATE, .sent = 100},
        {.id = "b", .source = "x", .severity = ALERT_EXTREME, .sent = 50},
        {.id = "c", .source = "x", .severity = ALERT_MODERATE, .sent = 200},
        {.id = "d", .source = "message", .severity = ALERT_EXTREME, .sent = 50},
        {.id = "e", .source = "x", .severity = ALERT_MINOR, .sent = 900},
    };
    alert_sort(list, 5);
    const char *order[5] = {"d", "b", "c", "a", "e"};
    for (int i = 0; i < 5; i++)
        CHECK_STR(list[i].id, order[i]);

    struct alert a = {.id = "KT-1",
                      .source = "weather",
                      .severity = ALERT_SEVERE,
                      .text = "Flood \"warning\" \xE2\x80\x94 river",
                      .label = "EA",
                      .effective = 1773144000};
    struct kt_buf b;
    kt_buf_init(&b);
    alert_to_json(&a, &b);
    CHECK_STR(b.data, "{\"id\":\"KT-1\",\"source\":\"weather\",\"severity\":\"severe\","
                      "\"headline\":\"Flood \\\"warning\\\" \xE2\x80\x94 river\",\"label\":\"EA\","
                      "\"effective\":\"2026-03-10T12:00:00Z\",\"expires\":null}");
    kt_buf_free(&b);
}

int main(void)
{
    const char *data = getenv("KT_TEST_DATA");
    if (!data) {
        fprintf(stderr, "KT_TEST_DATA not set\n");
        return 1;
    }
    tm_cases(data);
    tm_generated();
    tm_alert();
    return tap_done();
}
