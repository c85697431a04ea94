/*
 * state: see state.h. Everything is copied out of the store first (a
 * snapshot reference, copies of messages and source status), so the
 * store's lock is never held while JSON is written.
 */
#include "state.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "alert.h"
#include "date.h"
#include "message.h"
#include "store.h"
#include "util.h"

static struct json_object *state_time(int64_t t)
{
    if (!t)
        return NULL;
    char when[40];
    date_format(t, when, sizeof when);
    return json_object_new_string(when);
}

static struct json_object *state_str(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static void state_put_json(struct kt_buf *out, struct json_object *o)
{
    kt_buf_puts(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

int state_json(struct store *s, const struct state_opts *o, struct kt_buf *out)
{
    const struct store_snapshot *snap = store_snapshot(s);
    struct store_message *msgs;
    size_t nm = store_messages(s, o->now, &msgs);
    struct store_source_info *src;
    size_t ns = store_sources(s, &src);

    kt_buf_puts(out, "{\"headlines\":[");
    for (size_t i = 0; i < snap->n; i++) {
        const struct headline *h = &snap->items[i];
        struct json_object *j = json_object_new_object();
        json_object_object_add(j, "feed", state_str(h->feed));
        json_object_object_add(j, "label", state_str(h->label));
        json_object_object_add(j, "title", state_str(h->title));
        json_object_object_add(j, "link", state_str(h->link));
        json_object_object_add(j, "published", state_time(h->published));
        json_object_object_add(j, "announcement", json_object_new_boolean(h->announcement));
        if (i)
            kt_buf_putc(out, ',');
        state_put_json(out, j);
    }
    kt_buf_puts(out, "],\"alerts\":[");
    for (size_t i = 0; i < snap->n_alerts; i++) {
        if (i)
            kt_buf_putc(out, ',');
        alert_to_json(&snap->alerts[i], out);
    }
    kt_buf_puts(out, "],\"messages\":[");
    for (size_t i = 0; i < nm; i++) {
        if (i)
            kt_buf_putc(out, ',');
        /* message_to_json's object with the origin added before its end. */
        struct kt_buf m;
        kt_buf_init(&m);
        message_to_json(&msgs[i].m, &m);
        if (m.len >= 2 && m.data[m.len - 1] == '}') {
            kt_buf_append(out, m.data, m.len - 1);
            kt_buf_puts(out, ",\"origin\":");
            state_put_json(out, json_object_new_string(msgs[i].origin));
            kt_buf_putc(out, '}');
        }
        kt_buf_free(&m);
    }
    for (int pass = 0; pass < 2; pass++) {
        kt_buf_puts(out, pass == 0 ? "],\"feeds\":[" : "],\"alert_sources\":[");
        bool first = true;
        for (size_t i = 0; i < ns; i++) {
            if (src[i].alert != (pass == 1))
                continue;
            struct json_object *j = json_object_new_object();
            json_object_object_add(j, "name", state_str(src[i].name));
            json_object_object_add(j, "url", state_str(src[i].url));
            json_object_object_add(j, "last_success", state_time(src[i].last_success));
            json_object_object_add(j, "last_error", state_str(src[i].last_error));
            json_object_object_add(j, pass == 0 ? "headlines" : "alerts",
                                   json_object_new_int64((int64_t)src[i].shown));
            json_object_object_add(j, "failures", json_object_new_int64((int64_t)src[i].failures));
            if (!first)
                kt_buf_putc(out, ',');
            first = false;
            state_put_json(out, j);
        }
    }
    kt_buf_puts(out, "],\"screen\":");
    state_put_json(out, json_object_new_string(o->screen ? o->screen : "none"));
    kt_buf_printf(out, ",\"generation\":%llu,\"time\":", (unsigned long long)snap->generation);
    struct json_object *t = state_time(o->now);
    if (t)
        state_put_json(out, t);
    else
        kt_buf_puts(out, "null");
    kt_buf_putc(out, '}');

    store_sources_free(src, ns);
    store_messages_free(msgs, nm);
    store_snapshot_release(snap);
    return 0;
}
