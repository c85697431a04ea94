/*
 * state: the state document of GET /api/v1/state, --status and
 * --fetch-once --json: what is shown, from the store's snapshot. Pure
 * logic (json-c).
 *
 *   {"headlines": [{"feed", "label", "title", "link", "published",
 *                   "announcement"}],       loop order, announcements first
 *    "alerts":    [alert_to_json objects],  display order
 *    "messages":  [message_to_json objects + "origin"], posting order
 *    "feeds":     [{"name", "url", "last_success", "last_error", "headlines",
 *                   "failures"}],
 *    "alert_sources": [{"name", "url", "last_success", "last_error",
 *                   "alerts", "failures"}],
 *    "screen": "on" | "asleep" | "none",
 *    "generation": N, "time": RFC 3339}
 * Times are RFC 3339 UTC, null when unknown.
 */
#ifndef KT_STATE_H
#define KT_STATE_H

#include <stdint.h>

struct kt_buf;
struct store;

struct state_opts {
    int64_t now;        /* UTC seconds: which messages have expired */
    const char *screen; /* "on", "asleep" (office hours), "none" (no display); NULL = "none" */
};

/* Appends the document. Returns 0. */
int state_json(struct store *s, const struct state_opts *o, struct kt_buf *out);

#endif
