/*
 * feed_json: JSON Feed 1.0 and 1.1 (https://jsonfeed.org/).
 *
 * Why not a json-c tree of the whole document: json-c spends about 800
 * bytes on every object, so a few megabytes of "{}," would take a gigabyte.
 * Instead a small skimmer walks the document once, iteratively (nesting is
 * only counted, up to a limit), remembers where the few wanted members are,
 * and json-c decodes just those strings (escapes, surrogate pairs). Memory
 * is the entries themselves; errors use json-c's own wording.
 */
#include "feed_internal.h"
#include "date.h"
#include "text.h"
#include "util.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define FEED_JSON_MAX_DEPTH 64

struct feed_json {
    const char *s;
    size_t n, i;
    enum json_tokener_error err;
    size_t err_at;
    struct json_tokener *tok;
    bool utf8_source;
};

/* Where a wanted member's string value is: s[at..end) is the literal with
 * its quotes; end == 0 when absent. */
struct feed_json_span {
    size_t at, end;
};

static bool feed_json_fail(struct feed_json *j, enum json_tokener_error e)
{
    if (j->err == json_tokener_success) {
        j->err = e;
        j->err_at = j->i;
    }
    return false;
}

static void feed_json_ws(struct feed_json *j)
{
    while (j->i < j->n &&
           (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r'))
        j->i++;
}

/* At a '"': moves past the closing quote. */
static bool feed_json_skip_string(struct feed_json *j)
{
    for (j->i++; j->i < j->n; j->i++) {
        char c = j->s[j->i];
        if (c == '"') {
            j->i++;
            return true;
        }
        if (c == '\\')
            j->i++;
    }
    j->i = j->n;
    return feed_json_fail(j, json_tokener_error_parse_eof);
}

/* Any value: strings and brackets are matched (an array closed by '}' is
 * an error), scalars are taken as written. */
static bool feed_json_skip_value(struct feed_json *j)
{
    char open[FEED_JSON_MAX_DEPTH];
    size_t depth = 0;
    feed_json_ws(j);
    do {
        if (j->i >= j->n)
            return feed_json_fail(j, json_tokener_error_parse_eof);
        char c = j->s[j->i];
        if (c == '"') {
            if (!feed_json_skip_string(j))
                return false;
        } else if (c == '{' || c == '[') {
            if (depth == FEED_JSON_MAX_DEPTH)
                return feed_json_fail(j, json_tokener_error_depth);
            open[depth++] = c == '{' ? '}' : ']';
            j->i++;
        } else if (c == '}' || c == ']') {
            if (depth == 0 || open[depth - 1] != c)
                return feed_json_fail(j, json_tokener_error_parse_unexpected);
            depth--;
            j->i++;
        } else if (depth > 0) {
            j->i++; /* separators and scalars inside a skipped container */
        } else {
            size_t start = j->i;
            while (j->i < j->n &&
                   (strchr("+-.eE", j->s[j->i]) || (j->s[j->i] >= '0' && j->s[j->i] <= '9') ||
                    (j->s[j->i] >= 'a' && j->s[j->i] <= 'z')))
                j->i++;
            if (j->i == start)
                return feed_json_fail(j, json_tokener_error_parse_unexpected);
        }
    } while (depth > 0);
    return true;
}

typedef bool (*feed_json_member_fn)(struct feed_json *j, const char *key, size_t klen, void *ctx);

/* At a '{': hands each member's value to fn, which must consume it. */
static bool feed_json_object(struct feed_json *j, feed_json_member_fn fn, void *ctx)
{
    j->i++;
    feed_json_ws(j);
    if (j->i < j->n && j->s[j->i] == '}') {
        j->i++;
        return true;
    }
    for (;;) {
        feed_json_ws(j);
        if (j->i >= j->n)
            return feed_json_fail(j, json_tokener_error_parse_eof);
        if (j->s[j->i] != '"')
            return feed_json_fail(j, json_tokener_error_parse_object_key_name);
        size_t k = j->i;
        if (!feed_json_skip_string(j))
            return false;
        size_t klen = j->i - k - 2;
        feed_json_ws(j);
        if (j->i >= j->n)
            return feed_json_fail(j, json_tokener_error_parse_eof);
        if (j->s[j->i] != ':')
            return feed_json_fail(j, json_tokener_error_parse_object_key_sep);
        j->i++;
        feed_json_ws(j);
        if (!fn(j, j->s + k + 1, klen, ctx))
            return false;
        feed_json_ws(j);
        if (j->i >= j->n)
            return feed_json_fail(j, json_tokener_error_parse_eof);
        char c = j->s[j->i];
        if (c == '}') {
            j->i++;
            return true;
        }
        if (c != ',')
            return feed_json_fail(j, json_tokener_error_parse_object_value_sep);
        j->i++;
    }
}

static bool feed_json_key_is(const char *key, size_t klen, const char *want)
{
    return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

/* A member value that is wanted when it is a string: remembered, else
 * skipped. */
static bool feed_json_take_string(struct feed_json *j, struct feed_json_span *sp)
{
    size_t at = j->i;
    if (at < j->n && j->s[at] == '"') {
        if (!feed_json_skip_string(j))
            return false;
        sp->at = at;
        sp->end = j->i;
        return true;
    }
    return feed_json_skip_value(j);
}

/* The string at sp decoded by json-c, cleaned and cut to limit, or NULL. */
static char *feed_json_string(struct feed_json *j, const struct feed_json_span *sp, size_t limit,
                              bool fix)
{
    if (!sp->end || sp->end - sp->at > INT_MAX)
        return NULL;
    json_tokener_reset(j->tok);
    struct json_object *o = json_tokener_parse_ex(j->tok, j->s + sp->at, (int)(sp->end - sp->at));
    char *out = NULL;
    if (o && json_object_is_type(o, json_type_string)) {
        int n = json_object_get_string_len(o);
        const char *v = json_object_get_string(o);
        /* json-c keeps "\u0000" as a NUL byte; the cleaning drops it */
        if (v && n > 0)
            out = feed_charset_fix_utf8(v, (size_t)n, limit);
    }
    json_object_put(o);
    if (out && fix)
        out = feed_charset_fix_value(out, j->utf8_source);
    if (out && !*out) {
        free(out);
        out = NULL;
    }
    return out;
}

static char *feed_json_url(struct feed_json *j, const struct feed_json_span *sp, const char *base)
{
    char *raw = feed_json_string(j, sp, FEED_MAX_SHORT, false);
    if (!raw)
        return NULL;
    size_t a = 0, n = strlen(raw);
    while (a < n && (raw[a] == ' ' || raw[a] == '\t' || raw[a] == '\n' || raw[a] == '\r'))
        a++;
    while (n > a &&
           (raw[n - 1] == ' ' || raw[n - 1] == '\t' || raw[n - 1] == '\n' || raw[n - 1] == '\r'))
        n--;
    char *out = NULL;
    if (n > a) {
        raw[n] = '\0';
        out = feed_resolve_url(raw + a, base);
    }
    free(raw);
    return out;
}

enum {
    FJ_TITLE,
    FJ_URL,
    FJ_EXTERNAL_URL,
    FJ_HTML,
    FJ_TEXT,
    FJ_SUMMARY,
    FJ_PUBLISHED,
    FJ_MODIFIED,
    FJ_N
};

static const char *const feed_json_item_keys[FJ_N] = {
    "title",        "url",     "external_url",   "content_html",
    "content_text", "summary", "date_published", "date_modified"};

static bool feed_json_item_member(struct feed_json *j, const char *key, size_t klen, void *ctx)
{
    struct feed_json_span *spans = ctx;
    for (int k = 0; k < FJ_N; k++)
        if (feed_json_key_is(key, klen, feed_json_item_keys[k]))
            return feed_json_take_string(j, &spans[k]);
    return feed_json_skip_value(j);
}

struct feed_json_items {
    struct feed_doc *doc;
    size_t cap;
    const char *base;
};

static void feed_json_entry(struct feed_json *j, const struct feed_json_span *sp,
                            struct feed_json_items *it)
{
    struct feed_entry *e = feed_doc_add_entry(it->doc, &it->cap);
    if (!e)
        return;
    e->title = feed_json_string(j, &sp[FJ_TITLE], FEED_MAX_TITLE, true);
    e->title_html = false; /* JSON Feed titles are plain text by definition */
    e->link = feed_json_url(j, &sp[FJ_URL], it->base);
    if (!e->link)
        e->link = feed_json_url(j, &sp[FJ_EXTERNAL_URL], it->base);
    if ((e->summary = feed_json_string(j, &sp[FJ_HTML], FEED_MAX_SUMMARY, true)) != NULL)
        e->summary_html = true;
    else if (!(e->summary = feed_json_string(j, &sp[FJ_TEXT], FEED_MAX_SUMMARY, true)))
        e->summary = feed_json_string(j, &sp[FJ_SUMMARY], FEED_MAX_SUMMARY, true);
    for (int k = FJ_PUBLISHED; k <= FJ_MODIFIED && !e->published; k++) {
        char *d = feed_json_string(j, &sp[k], FEED_MAX_SHORT, false);
        int64_t t;
        if (d && date_parse(d, &t))
            e->published = t;
        free(d);
    }
}

/* At a '[': every object in it is an item; anything else is skipped. */
static bool feed_json_items(struct feed_json *j, struct feed_json_items *it)
{
    j->i++;
    feed_json_ws(j);
    if (j->i < j->n && j->s[j->i] == ']') {
        j->i++;
        return true;
    }
    for (;;) {
        feed_json_ws(j);
        if (j->i < j->n && j->s[j->i] == '{' && it->doc->n_entries < FEED_MAX_ENTRIES) {
            struct feed_json_span spans[FJ_N];
            memset(spans, 0, sizeof spans);
            if (!feed_json_object(j, feed_json_item_member, spans))
                return false;
            feed_json_entry(j, spans, it);
        } else if (!feed_json_skip_value(j)) {
            return false;
        }
        feed_json_ws(j);
        if (j->i >= j->n)
            return feed_json_fail(j, json_tokener_error_parse_eof);
        char c = j->s[j->i];
        if (c == ']') {
            j->i++;
            return true;
        }
        if (c != ',')
            return feed_json_fail(j, json_tokener_error_parse_array);
        j->i++;
    }
}

struct feed_json_top {
    struct feed_json_items items;
    bool has_items, items_not_array;
    struct feed_json_span version, title, home;
};

static bool feed_json_top_member(struct feed_json *j, const char *key, size_t klen, void *ctx)
{
    struct feed_json_top *t = ctx;
    if (feed_json_key_is(key, klen, "items")) {
        if (j->i < j->n && j->s[j->i] == '[') {
            t->has_items = true;
            return feed_json_items(j, &t->items);
        }
        t->items_not_array = true; /* null, {}, a string: not a list of items */
    }
    if (feed_json_key_is(key, klen, "version"))
        return feed_json_take_string(j, &t->version);
    if (feed_json_key_is(key, klen, "title"))
        return feed_json_take_string(j, &t->title);
    if (feed_json_key_is(key, klen, "home_page_url"))
        return feed_json_take_string(j, &t->home);
    return feed_json_skip_value(j);
}

int feed_json_parse(const struct feed_utf8 *u, const struct feed_parse_opts *opts,
                    struct feed_doc *doc, char *err, size_t errlen)
{
    struct feed_json j = {.s = u->data, .n = u->len, .utf8_source = u->utf8_source};
    j.tok = json_tokener_new();
    if (!j.tok)
        return kt_error(err, errlen, "JSON: out of memory");
    struct feed_json_top top;
    memset(&top, 0, sizeof top);
    top.items.doc = doc;
    top.items.base = opts ? opts->base_url : NULL;
    int rc = 0;
    feed_json_ws(&j);
    if (!feed_json_object(&j, feed_json_top_member, &top)) {
        rc = kt_error(err, errlen, "JSON: %s at offset %zu", json_tokener_error_desc(j.err),
                      j.err_at);
        goto out;
    }
    char *version = feed_json_string(&j, &top.version, FEED_MAX_SHORT, false);
    bool versioned = version && kt_str_has_prefix(version, "https://jsonfeed.org/version/");
    free(version);
    /* Both are required (JSON Feed 1.1, "Top-level"): a document without
     * them is some other JSON, or a feed broken upstream, never an empty
     * feed that would wipe the headlines shown. */
    if (!versioned) {
        rc = kt_error(err, errlen, "not a feed: JSON without a JSON Feed \"version\"");
        goto out;
    }
    if (!top.has_items) {
        rc = kt_error(err, errlen,
                      top.items_not_array ? "JSON Feed: \"items\" is not an array"
                                          : "JSON Feed: no \"items\"");
        goto out;
    }
    doc->format = FEED_JSON;
    char *title = feed_json_string(&j, &top.title, FEED_MAX_TITLE, true);
    if (title) {
        doc->title = text_plain(title, strlen(title), false);
        free(title);
        if (doc->title && !*doc->title) {
            free(doc->title);
            doc->title = NULL;
        }
    }
    doc->link = feed_json_url(&j, &top.home, top.items.base);
    if (doc->n_entries && doc->n_entries < top.items.cap)
        doc->entries = kt_realloc(doc->entries, doc->n_entries * sizeof *doc->entries);
out:
    json_tokener_free(j.tok);
    return rc;
}
