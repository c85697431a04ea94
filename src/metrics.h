/*
 * metrics: the numbers /metrics exposes (and the MQTT status of issue 12
 * reuses), and their Prometheus text exposition (format 0.0.4). Pure
 * logic: the app fills the struct, this module writes HELP/TYPE lines,
 * label escaping and values.
 */
#ifndef KT_METRICS_H
#define KT_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct kt_buf;

struct metrics_feed {
    char *name;           /* the [feed NAME] (or [alert NAME]) section */
    int64_t last_success; /* UTC seconds; 0 = never */
    uint64_t fetch_failures;
    uint64_t headlines; /* shown from it now */
};

struct metrics {
    char *version;                 /* NULL = KT_VERSION */
    uint64_t frames_total;         /* frames presented since start */
    uint64_t frames_late_total;    /* of them, later than their vsync slot */
    uint64_t headlines;            /* in the loop now (announcements included) */
    uint64_t alerts_active;        /* on screen now (CAP and messages with a severity) */
    uint64_t messages_active;      /* operator messages kept (alerts and announcements) */
    double last_frame_age_seconds; /* since the last frame was drawn; < 0 = none yet */
    struct metrics_feed *feeds;    /* owned: metrics_clear frees */
    size_t n_feeds;
};

/* Frees what *m owns and zeroes it. */
void metrics_clear(struct metrics *m);
/* Appends the exposition of m. */
void metrics_format(const struct metrics *m, struct kt_buf *out);
/* A label value escaped for the exposition format (\\, \", \n). */
void metrics_escape_label(const char *s, struct kt_buf *out);

#endif
