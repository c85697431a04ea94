/*
 * message: operator messages, the JSON the control API (POST
 * /api/v1/messages), MQTT (issue 12) and the cache carry. Pure logic
 * (json-c; /dev/urandom or getrandom for generated ids).
 *
 *   {"text": "…", "severity": "severe", "expires": "2026-05-01T18:00:00Z"
 *    | "duration": "30m", "id": "fire-drill", "label": "Facilities",
 *    "show": "Mon-Fri 07:00-19:30"}
 *
 * Only "text" is required. With a severity a message is an alert
 * (message_to_alert); without one it is an announcement shown first in
 * every loop of the headlines, after its label (default "Notice").
 *
 * Unknown fields are rejected, naming the field: a typo such as "expire"
 * or "serverity" would otherwise put a message on every screen forever or
 * without its colours, and the operator is told at once (400) instead of
 * finding out in the lobby. A producer must send only the fields above.
 */
#ifndef KT_MESSAGE_H
#define KT_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"

struct kt_buf;

/* Bounds. The body limits are the callers': the API passes
 * MESSAGE_MAX_API_BYTES (and answers 413 above it), MQTT
 * MESSAGE_MAX_MQTT_BYTES. */
#define MESSAGE_MAX_API_BYTES (16u * 1024u)
#define MESSAGE_MAX_MQTT_BYTES (64u * 1024u)
#define MESSAGE_MAX_TEXT ALERT_TEXT_MAX /* characters of normalised text */
#define MESSAGE_MAX_LABEL 64            /* characters */
#define MESSAGE_MAX_SHOW 256            /* bytes of the "show" expression */
#define MESSAGE_MAX_ID 64               /* bytes: [A-Za-z0-9_~.-], not starting with '.' */
#define MESSAGE_MAX_DEPTH 4             /* JSON nesting: the object and one level more */
#define MESSAGE_ID_GENERATED_LEN 16     /* characters of a generated id */
#define MESSAGE_DEFAULT_LABEL "Notice"
#define MESSAGE_LAST_TIME INT64_C(253402300799) /* 9999-12-31T23:59:59Z, RFC 3339's last */

struct message {
    char *id;                     /* never NULL after message_parse */
    char *text;                   /* normalised like a headline, 1..MESSAGE_MAX_TEXT chars */
    bool has_severity;            /* false: an announcement */
    enum alert_severity severity; /* when has_severity */
    char *label;                  /* NULL = the default label */
    int64_t created;              /* UTC seconds it was accepted */
    int64_t expires;              /* UTC seconds; 0 = until deleted */
    char *show;                   /* office hours (issue 13), kept as given; NULL = always */
};

struct message_parse_opts {
    int64_t now;      /* UTC seconds: "duration" counts from it, "expires" must be after it */
    size_t max_bytes; /* 0 = MESSAGE_MAX_API_BYTES */
    /* The message's id when the transport names it (MQTT's last topic
     * level); a different "id" in the body is an error. NULL = body or
     * generated. */
    const char *id;
    /* Reading back what message_to_json wrote (cache, state): "created"
     * is accepted (operators may not set it) and an id is required. */
    bool stored;
};

/* Parses and validates one message. 0, or -1 with one line naming the
 * field ("severity: unknown value \"urgent\" (use unknown, minor, …)",
 * "malformed JSON at line 1, column 18: unexpected character"). On
 * success *out owns its strings (message_clear). */
int message_parse(const char *json, size_t len, const struct message_parse_opts *opts,
                  struct message *out, char *err, size_t errlen);
void message_clear(struct message *m);
void message_copy(struct message *out, const struct message *m);

/* Appends m as one JSON object (what message_parse with .stored reads
 * back): id, text, severity (when set), label (when set), created (when known),
 * expires (RFC 3339, when set), show (when set). */
void message_to_json(const struct message *m, struct kt_buf *out);

/* Is a valid id (what the API's DELETE path and MQTT topics carry)? */
bool message_id_valid(const char *id);
/* A new random URL-safe id of MESSAGE_ID_GENERATED_LEN characters into
 * out (at least MESSAGE_ID_GENERATED_LEN + 1 bytes). 0, or -1 when no
 * randomness source can be read. */
int message_new_id(char *out, size_t outlen);

/* The label shown: m->label or MESSAGE_DEFAULT_LABEL. */
const char *message_label(const struct message *m);
bool message_expired(const struct message *m, int64_t now);

/* A message with a severity as an alert (source "message", sent =
 * created). false (and *out untouched) for an announcement. */
bool message_to_alert(const struct message *m, struct alert *out);

#endif
