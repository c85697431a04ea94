/*
 * fuzz_message: operator message JSON as the API and MQTT receive it and
 * as the cache stores it. The options (stored form, a topic id, the two
 * size bounds) come from the input's length, so the seeds are used as
 * they are.
 *
 * Contracts: a failure has a one-line reason naming a field or the JSON;
 * an accepted message has a valid id and non-empty UTF-8 text of at most
 * MESSAGE_MAX_TEXT characters; its JSON reads back (stored form) to the
 * same JSON; a message with a severity is an alert of source "message".
 */
#include "fuzz.h"

#include <string.h>

#include "message.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct message_parse_opts o = {
        .now = 1773144000, /* 2026-03-10T12:00:00Z */
        .max_bytes = size & 1 ? MESSAGE_MAX_MQTT_BYTES : MESSAGE_MAX_API_BYTES,
        .id = size & 2 ? "topic-id" : NULL,
        .stored = size & 4,
    };
    struct message m;
    char err[KT_ERR_MAX];
    err[0] = '\0';
    if (message_parse((const char *)data, size, &o, &m, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0', "a refused message must say why");
        FUZZ_CHECK(strchr(err, '\n') == NULL, "one-line reason: %s", err);
        FUZZ_CHECK(uni_valid(err, strlen(err)), "reason is not UTF-8");
        return 0;
    }
    FUZZ_CHECK(message_id_valid(m.id), "invalid id");
    size_t len = strlen(m.text);
    FUZZ_CHECK(len > 0 && uni_valid(m.text, len), "text empty or not UTF-8");
    FUZZ_CHECK(uni_count(m.text, strlen(m.text)) <= MESSAGE_MAX_TEXT, "text too long");
    FUZZ_CHECK(!message_expired(&m, o.now), "accepted an expired message");
    if (m.label)
        FUZZ_CHECK(*m.label && uni_valid(m.label, strlen(m.label)), "label");

    struct kt_buf j, j2;
    kt_buf_init(&j);
    kt_buf_init(&j2);
    message_to_json(&m, &j);
    struct message back;
    struct message_parse_opts so = {.now = o.now, .stored = true};
    FUZZ_CHECK(message_parse(j.data, j.len, &so, &back, err, sizeof err) == 0,
               "stored form refused: %s: %s", err, j.data);
    message_to_json(&back, &j2);
    FUZZ_CHECK(strcmp(j.data, j2.data) == 0, "round trip changed %s into %s", j.data, j2.data);
    struct alert a;
    if (message_to_alert(&m, &a)) {
        FUZZ_CHECK(m.has_severity && strcmp(a.source, ALERT_SOURCE_MESSAGE) == 0, "alert");
        alert_clear(&a);
    } else {
        FUZZ_CHECK(!m.has_severity, "a severity without an alert");
    }
    message_clear(&back);
    message_clear(&m);
    kt_buf_free(&j);
    kt_buf_free(&j2);
    return 0;
}
