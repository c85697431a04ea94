/*
 * cap_select: which CAP alerts a source shows, refresh after refresh. Pure
 * logic; time is always a parameter, never read from a clock.
 *
 * Rules (cap.h, docs/control-api.md):
 *  - status Actual only, unless show_tests; msgType Alert or Update;
 *    a Cancel is never shown;
 *  - the references of an Update or Cancel (of a status the section
 *    shows: a Test never cancels an Actual alert) remove those alerts, and
 *    keep them removed for 24 h even if a source lists them again;
 *  - the <info> in the section's language (prefix, case-insensitive),
 *    else the first; its severity at least min_severity; one of its areas
 *    matching `areas`;
 *  - shown from effective (else onset, else sent: a warning must be seen
 *    before the event it announces begins, so onset only stands in for a
 *    missing effective) until expires; without expires, while listed and
 *    at most max_no_expiry after it was first seen (or sent, when that is
 *    earlier: the bound then survives a restart).
 */
#include "cap.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "text.h"
#include "util.h"

#define CAP_DEFAULT_NO_EXPIRY (24 * 3600)
#define CAP_SUPERSEDED_FOR (24 * 3600)
#define CAP_MAX_TOMBSTONES 4096

struct cap_item {
    char *key; /* sender '\n' identifier: identifiers are unique per sender */
    struct alert alert;
    int64_t first_seen;
    int64_t until; /* alert.expires, or the no-expiry bound */
};

struct cap_tombstone {
    char *key;
    int64_t until;
};

struct cap_tracker {
    struct cap_item *items;
    size_t n_items;
    struct cap_tombstone *dead;
    size_t n_dead;
};

struct cap_tracker *cap_tracker_new(void)
{
    return kt_calloc(1, sizeof(struct cap_tracker));
}

static void cap_items_free(struct cap_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(items[i].key);
        alert_clear(&items[i].alert);
    }
    free(items);
}

void cap_tracker_free(struct cap_tracker *t)
{
    if (!t)
        return;
    cap_items_free(t->items, t->n_items);
    for (size_t i = 0; i < t->n_dead; i++)
        free(t->dead[i].key);
    free(t->dead);
    free(t);
}

static char *cap_key(const char *sender, const char *identifier)
{
    return kt_asprintf("%s\n%s", sender ? sender : "", identifier ? identifier : "");
}

/* ---- text ---- */

static bool cap_lang_match(const char *lang, const char *want)
{
    if (!lang)
        lang = "en-US"; /* CAP 1.2 3.2.2: the default */
    size_t n = strlen(want);
    return strncasecmp(lang, want, n) == 0 && (lang[n] == '\0' || lang[n] == '-');
}

const struct cap_info *cap_pick_info(const struct cap_alert *a, const char *language)
{
    if (a->n_infos == 0)
        return NULL;
    if (language && *language)
        for (size_t i = 0; i < a->n_infos; i++)
            if (cap_lang_match(a->infos[i].language, language))
                return &a->infos[i];
    return &a->infos[0];
}

bool cap_info_in_areas(const struct cap_info *info, const struct filter *areas)
{
    if (!areas)
        return true;
    for (size_t i = 0; i < info->n_areas; i++) {
        const struct cap_area *ar = &info->areas[i];
        if (filter_match(areas, ar->desc))
            return true;
        for (size_t g = 0; g < ar->n_geocodes; g++)
            if (filter_match(areas, ar->geocodes[g].value))
                return true;
    }
    return false;
}

/* CAP text is plain, wrapped at ~70 columns by many producers: a single
 * line break is a space, a blank line ends a paragraph (one '\n', which
 * text_first_sentence reads as a paragraph break). */
static char *cap_unwrap(const char *s)
{
    struct kt_buf b;
    kt_buf_init(&b);
    while (*s) {
        if (*s == '\r' || *s == '\n') {
            int breaks = 0;
            while (*s == '\r' || *s == '\n' || *s == ' ' || *s == '\t') {
                if (*s == '\n' || (*s == '\r' && s[1] != '\n'))
                    breaks++;
                s++;
            }
            kt_buf_putc(&b, breaks >= 2 ? '\n' : ' ');
            continue;
        }
        kt_buf_putc(&b, *s++);
    }
    return kt_buf_steal(&b);
}

static char *cap_sentence(const char *s)
{
    if (!s || !*s)
        return NULL;
    char *u = cap_unwrap(s);
    char *t = text_first_sentence(u, strlen(u), false, NULL);
    free(u);
    if (t && !*t) {
        free(t);
        t = NULL;
    }
    return t;
}

static bool cap_ends_sentence(const char *s)
{
    size_t n = strlen(s);
    if (n >= 3 && strcmp(s + n - 3, "\xE2\x80\xA6") == 0) /* … */
        return true;
    return n && (s[n - 1] == '.' || s[n - 1] == '!' || s[n - 1] == '?');
}

char *cap_alert_text(const struct cap_info *info)
{
    struct kt_buf b;
    kt_buf_init(&b);
    char *head =
        info->headline ? text_plain(info->headline, strlen(info->headline), false) : kt_strdup("");
    if (*head) {
        kt_buf_puts(&b, head);
    } else {
        /* event — area, area, … (the joiner the headlines' separator is not) */
        char *ev =
            info->event ? text_plain(info->event, strlen(info->event), false) : kt_strdup("");
        kt_buf_puts(&b, ev);
        bool first = true;
        for (size_t i = 0; i < info->n_areas && b.len < 4 * ALERT_TEXT_MAX; i++) {
            const char *d = info->areas[i].desc;
            if (!d || !*d)
                continue;
            char *pd = text_plain(d, strlen(d), false);
            if (*pd) {
                if (b.len)
                    kt_buf_puts(&b, first ? " \xE2\x80\x94 " : ", ");
                kt_buf_puts(&b, pd);
                first = false;
            }
            free(pd);
        }
        free(ev);
    }
    free(head);

    char *parts[2] = {cap_sentence(info->description), cap_sentence(info->instruction)};
    for (int i = 0; i < 2; i++) {
        if (!parts[i] || (b.data && strcmp(parts[i], b.data) == 0)) {
            free(parts[i]);
            continue;
        }
        if (b.len)
            kt_buf_puts(&b, cap_ends_sentence(b.data) ? " " : " \xE2\x80\x94 ");
        kt_buf_puts(&b, parts[i]);
        free(parts[i]);
    }
    char *whole = kt_buf_steal(&b);
    char *cut = text_cut(whole, ALERT_TEXT_MAX);
    free(whole);
    return cut;
}

/* ---- tombstones ---- */

static struct cap_tombstone *cap_dead_find(const struct cap_tracker *t, const char *key)
{
    for (size_t i = 0; i < t->n_dead; i++)
        if (strcmp(t->dead[i].key, key) == 0)
            return &t->dead[i];
    return NULL;
}

static void cap_dead_add(struct cap_tracker *t, char *key, int64_t until)
{
    struct cap_tombstone *d = cap_dead_find(t, key);
    if (d) {
        if (until > d->until)
            d->until = until;
        free(key);
        return;
    }
    if (t->n_dead >= CAP_MAX_TOMBSTONES) {
        /* full: the one that would end first goes */
        size_t min = 0;
        for (size_t i = 1; i < t->n_dead; i++)
            if (t->dead[i].until < t->dead[min].until)
                min = i;
        free(t->dead[min].key);
        t->dead[min] = t->dead[--t->n_dead];
    }
    if ((t->n_dead & (t->n_dead - 1)) == 0)
        t->dead = kt_realloc(t->dead, (t->n_dead ? t->n_dead * 2 : 1) * sizeof *t->dead);
    t->dead[t->n_dead].key = key;
    t->dead[t->n_dead].until = until;
    t->n_dead++;
}

static void cap_dead_expire(struct cap_tracker *t, int64_t now)
{
    size_t o = 0;
    for (size_t i = 0; i < t->n_dead; i++) {
        if (t->dead[i].until > now)
            t->dead[o++] = t->dead[i];
        else
            free(t->dead[i].key);
    }
    t->n_dead = o;
}

/* ---- update ---- */

static bool cap_status_shown(const struct cap_section *sec, enum cap_status s)
{
    return s == CAP_ACTUAL || (sec->show_tests && s != CAP_STATUS_OTHER);
}

static const struct cap_item *cap_old_item(const struct cap_tracker *t, const char *key)
{
    for (size_t i = 0; i < t->n_items; i++)
        if (strcmp(t->items[i].key, key) == 0)
            return &t->items[i];
    return NULL;
}

/* Fills *it for a listed alert the section shows; false when it shows
 * nothing of it. */
static bool cap_make_item(const struct cap_tracker *t, const struct cap_section *sec,
                          const struct cap_alert *a, int64_t now, struct cap_item *it)
{
    if (a->msg_type != CAP_ALERT && a->msg_type != CAP_UPDATE)
        return false;
    if (!cap_status_shown(sec, a->status))
        return false;
    const struct cap_info *info = cap_pick_info(a, sec->language);
    if (!info || info->severity < sec->min_severity || !cap_info_in_areas(info, sec->areas))
        return false;

    memset(it, 0, sizeof *it);
    it->key = cap_key(a->sender, a->identifier);
    const struct cap_item *old = cap_old_item(t, it->key);
    it->first_seen = old ? old->first_seen : now;

    struct alert *al = &it->alert;
    al->id = kt_strdup(a->identifier);
    al->source = kt_strdup(sec->name);
    al->severity = info->severity;
    al->text = cap_alert_text(info);
    const char *label = sec->label && *sec->label                 ? sec->label
                        : info->sender_name && *info->sender_name ? info->sender_name
                                                                  : sec->name;
    al->label = text_plain(label, strlen(label), false);
    al->sent = a->sent;
    al->onset = info->onset;
    al->effective = info->effective ? info->effective : info->onset ? info->onset : a->sent;
    al->expires = info->expires;
    if (al->expires) {
        it->until = al->expires;
    } else {
        int64_t from = a->sent > 0 && a->sent < it->first_seen ? a->sent : it->first_seen;
        it->until = from + (sec->max_no_expiry > 0 ? sec->max_no_expiry : CAP_DEFAULT_NO_EXPIRY);
    }
    if (!*al->text) { /* nothing to say: no headline, event, area or text */
        free(it->key);
        alert_clear(al);
        return false;
    }
    return true;
}

void cap_tracker_update(struct cap_tracker *t, const struct cap_section *sec,
                        const struct cap_alert *const *listed, size_t n, int64_t now)
{
    cap_dead_expire(t, now);
    if (n > CAP_MAX_LISTED)
        n = CAP_MAX_LISTED; /* the checks below are quadratic in n */
    /* 1. what the listed Updates and Cancels supersede */
    for (size_t i = 0; i < n; i++) {
        const struct cap_alert *a = listed[i];
        if ((a->msg_type != CAP_UPDATE && a->msg_type != CAP_CANCEL) ||
            !cap_status_shown(sec, a->status))
            continue;
        for (size_t r = 0; r < a->n_refs; r++)
            cap_dead_add(t, cap_key(a->refs[r].sender, a->refs[r].identifier),
                         now + CAP_SUPERSEDED_FOR);
    }

    /* 2. of the listed alerts with one key, the last sent; then those the
     * section shows and nothing superseded */
    struct cap_item *items = kt_calloc(n ? n : 1, sizeof *items);
    char **keys = kt_calloc(n ? n : 1, sizeof *keys);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        keys[i] = cap_key(listed[i]->sender, listed[i]->identifier);
    for (size_t i = 0; i < n; i++) {
        bool later = false;
        for (size_t j = 0; j < n && !later; j++)
            later = j != i && strcmp(keys[i], keys[j]) == 0 &&
                    (listed[j]->sent > listed[i]->sent ||
                     (listed[j]->sent == listed[i]->sent && j > i));
        if (!later && !cap_dead_find(t, keys[i]) &&
            cap_make_item(t, sec, listed[i], now, &items[m]))
            m++;
    }
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    cap_items_free(t->items, t->n_items);
    t->items = items;
    t->n_items = m;
}

static bool cap_item_active(const struct cap_item *it, int64_t now)
{
    return it->alert.effective <= now && now < it->until;
}

size_t cap_tracker_active(const struct cap_tracker *t, int64_t now, struct alert **out)
{
    struct alert *list = kt_calloc(t->n_items ? t->n_items : 1, sizeof *list);
    size_t n = 0;
    for (size_t i = 0; i < t->n_items; i++)
        if (cap_item_active(&t->items[i], now)) {
            alert_copy(&list[n], &t->items[i].alert);
            /* Without expires, the bound (24 h from first seen) is its end:
             * the store ends it then even when its source stops answering. */
            if (!list[n].expires)
                list[n].expires = t->items[i].until;
            n++;
        }
    alert_sort(list, n);
    *out = list;
    return n;
}

int64_t cap_tracker_next_change(const struct cap_tracker *t, int64_t now)
{
    int64_t next = 0;
    for (size_t i = 0; i < t->n_items; i++) {
        const struct cap_item *it = &t->items[i];
        int64_t c[2] = {it->alert.effective, it->until};
        for (int k = 0; k < 2; k++)
            if (c[k] > now && (next == 0 || c[k] < next))
                next = c[k];
    }
    return next;
}
