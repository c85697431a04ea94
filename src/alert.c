/*
 * alert: see alert.h.
 */
#include "alert.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "date.h"
#include "util.h"

static const char *const alert_names[ALERT_SEVERITY_COUNT] = {
    "unknown", "minor", "moderate", "severe", "extreme",
};

const char *alert_severity_name(enum alert_severity s)
{
    return (unsigned)s < ALERT_SEVERITY_COUNT ? alert_names[s] : "unknown";
}

int alert_severity_parse(const char *s, enum alert_severity *out)
{
    if (!s)
        return -1;
    for (int i = 0; i < ALERT_SEVERITY_COUNT; i++) {
        if (strcasecmp(s, alert_names[i]) == 0) {
            *out = (enum alert_severity)i;
            return 0;
        }
    }
    return -1;
}

const char *alert_severity_names(void)
{
    return "unknown, minor, moderate, severe, extreme";
}

/* The colours; unknown is a neutral dark grey with white text: it
 * must read as "an alert" (not a headline strip) without claiming any of
 * the four levels, and white on #455A64 keeps a contrast ratio above 7. */
struct alert_colors alert_default_colors(enum alert_severity s)
{
    static const struct alert_colors colors[ALERT_SEVERITY_COUNT] = {
        [ALERT_UNKNOWN] = {0x455A64, 0xFFFFFF},  [ALERT_MINOR] = {0x1565C0, 0xFFFFFF},
        [ALERT_MODERATE] = {0xF9A825, 0x000000}, [ALERT_SEVERE] = {0xE65100, 0xFFFFFF},
        [ALERT_EXTREME] = {0xB00020, 0xFFFFFF},
    };
    return colors[(unsigned)s < ALERT_SEVERITY_COUNT ? s : ALERT_UNKNOWN];
}

void alert_clear(struct alert *a)
{
    if (!a)
        return;
    free(a->id);
    free(a->source);
    free(a->text);
    free(a->label);
    free(a->show);
    memset(a, 0, sizeof *a);
}

void alert_copy(struct alert *out, const struct alert *a)
{
    *out = *a;
    out->id = kt_strdup(a->id);
    out->source = kt_strdup(a->source);
    out->text = kt_strdup(a->text);
    out->label = kt_strdup(a->label);
    out->show = kt_strdup(a->show);
}

void alert_list_free(struct alert *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        alert_clear(&list[i]);
    free(list);
}

bool alert_active(const struct alert *a, int64_t now)
{
    return a->effective <= now && (a->expires == 0 || now < a->expires);
}

static int alert_cmp_i64_desc(int64_t a, int64_t b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

static int alert_cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

int alert_compare(const struct alert *a, const struct alert *b)
{
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    int c = alert_cmp_i64_desc(a->sent, b->sent);
    if (!c)
        c = alert_cmp_i64_desc(a->effective, b->effective);
    if (!c)
        c = alert_cmp_str(a->source, b->source);
    if (!c)
        c = alert_cmp_str(a->id, b->id);
    return c;
}

static int alert_qsort_cmp(const void *a, const void *b)
{
    return alert_compare(a, b);
}

void alert_sort(struct alert *list, size_t n)
{
    if (n > 1)
        qsort(list, n, sizeof *list, alert_qsort_cmp);
}

static struct json_object *alert_json_time(int64_t t)
{
    char s[32];
    if (!t)
        return NULL; /* json-c writes NULL as null */
    date_format(t, s, sizeof s);
    return json_object_new_string(s);
}

void alert_to_json(const struct alert *a, struct kt_buf *out)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(a->id ? a->id : ""));
    json_object_object_add(o, "source", json_object_new_string(a->source ? a->source : ""));
    json_object_object_add(o, "severity", json_object_new_string(alert_severity_name(a->severity)));
    json_object_object_add(o, "headline", json_object_new_string(a->text ? a->text : ""));
    json_object_object_add(o, "label", json_object_new_string(a->label ? a->label : ""));
    json_object_object_add(o, "effective", alert_json_time(a->effective));
    json_object_object_add(o, "expires", alert_json_time(a->expires));
    kt_buf_puts(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}
