/*
 * metrics: see metrics.h. Names and help texts are one table, so the
 * HELP and TYPE lines and the samples cannot drift apart.
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#ifndef KT_VERSION
#define KT_VERSION "unknown"
#endif

enum metrics_type { M_GAUGE, M_COUNTER };

static void metrics_head(struct kt_buf *b, const char *name, enum metrics_type t, const char *help)
{
    kt_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                  t == M_GAUGE ? "gauge" : "counter");
}

void metrics_escape_label(const char *s, struct kt_buf *out)
{
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '\\')
            kt_buf_puts(out, "\\\\");
        else if (*p == '"')
            kt_buf_puts(out, "\\\"");
        else if (*p == '\n')
            kt_buf_puts(out, "\\n");
        else
            kt_buf_putc(out, *p);
    }
}

void metrics_clear(struct metrics *m)
{
    if (!m)
        return;
    free(m->version);
    for (size_t i = 0; i < m->n_feeds; i++)
        free(m->feeds[i].name);
    free(m->feeds);
    memset(m, 0, sizeof *m);
}

static void metrics_feed_family(struct kt_buf *b, const struct metrics *m, const char *name,
                                enum metrics_type t, const char *help, int which)
{
    metrics_head(b, name, t, help);
    for (size_t i = 0; i < m->n_feeds; i++) {
        const struct metrics_feed *f = &m->feeds[i];
        kt_buf_printf(b, "%s{feed=\"", name);
        metrics_escape_label(f->name, b);
        if (which == 0)
            kt_buf_printf(b, "\"} %" PRId64 "\n", f->last_success);
        else if (which == 1)
            kt_buf_printf(b, "\"} %" PRIu64 "\n", f->fetch_failures);
        else
            kt_buf_printf(b, "\"} %" PRIu64 "\n", f->headlines);
    }
}

void metrics_format(const struct metrics *m, struct kt_buf *out)
{
    static const struct {
        const char *name, *help;
        enum metrics_type type;
        size_t offset;
    } plain[] = {
        {"kiosk_ticker_frames_total", "Frames presented since start.", M_COUNTER,
         offsetof(struct metrics, frames_total)},
        {"kiosk_ticker_frames_late_total", "Frames presented later than their display refresh.",
         M_COUNTER, offsetof(struct metrics, frames_late_total)},
        {"kiosk_ticker_headlines", "Headlines in the loop now, announcements included.", M_GAUGE,
         offsetof(struct metrics, headlines)},
        {"kiosk_ticker_alerts_active", "Alerts on screen now (CAP and messages with a severity).",
         M_GAUGE, offsetof(struct metrics, alerts_active)},
        {"kiosk_ticker_messages_active", "Operator messages kept now.", M_GAUGE,
         offsetof(struct metrics, messages_active)},
    };
    metrics_head(out, "kiosk_ticker_build_info", M_GAUGE,
                 "Always 1; the version of the running kiosk-ticker is its label.");
    kt_buf_puts(out, "kiosk_ticker_build_info{version=\"");
    metrics_escape_label(m->version ? m->version : KT_VERSION, out);
    kt_buf_puts(out, "\"} 1\n");
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        metrics_head(out, plain[i].name, plain[i].type, plain[i].help);
        uint64_t v = *(const uint64_t *)((const char *)m + plain[i].offset);
        kt_buf_printf(out, "%s %" PRIu64 "\n", plain[i].name, v);
    }
    if (m->last_frame_age_seconds >= 0) {
        metrics_head(out, "kiosk_ticker_last_frame_age_seconds", M_GAUGE,
                     "Seconds since the render loop last drew a frame.");
        kt_buf_printf(out, "kiosk_ticker_last_frame_age_seconds %.3f\n", m->last_frame_age_seconds);
    }
    metrics_feed_family(out, m, "kiosk_ticker_feed_last_success_timestamp_seconds", M_GAUGE,
                        "Unix time of the source's last successful fetch (0 = never).", 0);
    metrics_feed_family(out, m, "kiosk_ticker_feed_fetch_failures_total", M_COUNTER,
                        "Failed fetches of the source since start.", 1);
    metrics_feed_family(out, m, "kiosk_ticker_feed_headlines", M_GAUGE,
                        "Headlines of the source in the loop now.", 2);
}
