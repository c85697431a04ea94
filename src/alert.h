/*
 * alert: what pre-empts the headlines. Pure logic, shared by the CAP
 * selection (cap.h), operator messages with a severity (message.h), the
 * config keys min_severity / wake_severity, the store and the render
 * colours, so a severity means one thing everywhere.
 */
#ifndef KT_ALERT_H
#define KT_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kt_buf;

/* Ordered: a larger value is more severe (min_severity compares with <). */
enum alert_severity {
    ALERT_UNKNOWN,
    ALERT_MINOR,
    ALERT_MODERATE,
    ALERT_SEVERE,
    ALERT_EXTREME,
};
#define ALERT_SEVERITY_COUNT 5

/* "unknown", "minor", "moderate", "severe", "extreme". */
const char *alert_severity_name(enum alert_severity s);
/* Case-insensitive, so CAP's "Extreme" and a config's "extreme" both
 * parse. 0, or -1 when s is none of the five names. */
int alert_severity_parse(const char *s, enum alert_severity *out);
/* "unknown, minor, moderate, severe, extreme", for error messages. */
const char *alert_severity_names(void);

/* Default colours as 0xRRGGBB (config turns them into its own colour type). */
struct alert_colors {
    uint32_t background, text;
};
struct alert_colors alert_default_colors(enum alert_severity s);

struct alert {
    char *id;     /* CAP identifier or message id: unique within its source */
    char *source; /* [alert NAME] section name, or "message" */
    enum alert_severity severity;
    char *text;  /* as shown: normalised, one line, at most ALERT_TEXT_MAX chars */
    char *label; /* shown before the text */
    /* UTC seconds; 0 = not given */
    int64_t sent;      /* when it was issued (posted, for a message) */
    int64_t effective; /* shown from (never 0 after selection: sent when not given) */
    int64_t onset;     /* when the event itself begins (informational) */
    int64_t expires;   /* shown until; 0 = no end given */
    char *show;        /* office hours (issue 13), NULL = always */
};

/* Characters of alert text at most (a message's limit too). */
#define ALERT_TEXT_MAX 1000
/* The message source name. */
#define ALERT_SOURCE_MESSAGE "message"

/* Frees the members (not a itself). */
void alert_clear(struct alert *a);
/* Deep copy into *out. */
void alert_copy(struct alert *out, const struct alert *a);
/* Frees an array of n alerts and the array. */
void alert_list_free(struct alert *list, size_t n);

/* Shown at now: effective <= now < expires (no expires = no end). */
bool alert_active(const struct alert *a, int64_t now);

/* Appends a as the state document's alert object: {"id", "source",
 * "severity", "headline" (the text shown), "label", "effective",
 * "expires" (RFC 3339; null when none)}. */
void alert_to_json(const struct alert *a, struct kt_buf *out);

/* Display order: highest severity first, then newest (sent, then
 * effective), then source and id so the order never depends on how the
 * list was built. <0, 0, >0 like strcmp. */
int alert_compare(const struct alert *a, const struct alert *b);
void alert_sort(struct alert *list, size_t n);

#endif
