/*
 * fleet_proto: see fleet_proto.h.
 */
#include "fleet_proto.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define FLEET_COMMAND_DEPTH 4 /* {"command": ...} and room for small arguments */
#define FLEET_STATUS_DEPTH 16

static void fleet_topics_add_scope(struct fleet_topics *t, const char *prefix, const char *scope)
{
    t->subs[t->n_subs++] = kt_asprintf("%s/%s/messages/+", prefix, scope);
    t->subs[t->n_subs++] = kt_asprintf("%s/%s/command", prefix, scope);
}

void fleet_topics_init(struct fleet_topics *t, const char *prefix, const char *screen_id,
                       char *const *groups, size_t n_groups)
{
    *t = (struct fleet_topics){0};
    t->subs = kt_calloc(2 * (n_groups + 2), sizeof *t->subs);
    fleet_topics_add_scope(t, prefix, "all");
    for (size_t i = 0; i < n_groups; i++) {
        char *scope = kt_asprintf("group/%s", groups[i]);
        fleet_topics_add_scope(t, prefix, scope);
        free(scope);
    }
    char *own = kt_asprintf("screen/%s", screen_id);
    fleet_topics_add_scope(t, prefix, own);
    free(own);
    t->status = kt_asprintf("%s/screen/%s/status", prefix, screen_id);
    t->screenshot = kt_asprintf("%s/screen/%s/screenshot", prefix, screen_id);
}

void fleet_topics_free(struct fleet_topics *t)
{
    for (size_t i = 0; i < t->n_subs; i++)
        free(t->subs[i]);
    free(t->subs);
    free(t->status);
    free(t->screenshot);
    *t = (struct fleet_topics){0};
}

/* s starts with the topic level `level` followed by '/': the rest. */
static const char *fleet_proto_level(const char *s, const char *level)
{
    size_t n = strlen(level);
    return strncmp(s, level, n) == 0 && s[n] == '/' ? s + n + 1 : NULL;
}

int fleet_proto_classify(const char *prefix, const char *screen_id, char *const *groups,
                         size_t n_groups, const char *topic, struct fleet_topic *out, char *err,
                         size_t errlen)
{
    *out = (struct fleet_topic){0};
    const char *r = fleet_proto_level(topic, prefix);
    if (!r)
        return kt_error(err, errlen, "not under the topic prefix \"%s\"", prefix);
    const char *rest, *name = NULL;
    bool group = false;
    if ((rest = fleet_proto_level(r, "all"))) {
        strcpy(out->scope, "all");
    } else if ((name = fleet_proto_level(r, "group"))) {
        group = true;
    } else if (!(name = fleet_proto_level(r, "screen"))) {
        return kt_error(err, errlen, "not an all/, group/ or screen/ topic");
    }
    if (name) {
        const char *slash = strchr(name, '/');
        size_t n = slash ? (size_t)(slash - name) : 0;
        bool mine = false;
        for (size_t i = 0; group && slash && i < n_groups && !mine; i++)
            mine = strlen(groups[i]) == n && memcmp(groups[i], name, n) == 0;
        if (!group && slash)
            mine = strlen(screen_id) == n && memcmp(screen_id, name, n) == 0;
        if (!mine)
            return kt_error(err, errlen, "not a %s of this screen", group ? "group" : "screen");
        snprintf(out->scope, sizeof out->scope, "%.*s", (int)(slash - r), r);
        rest = slash + 1;
    }
    if (strcmp(rest, "command") == 0) {
        out->kind = FLEET_TOPIC_COMMAND;
        return 0;
    }
    const char *id = fleet_proto_level(rest, "messages");
    if (!id)
        return kt_error(err, errlen, "neither messages/ID nor command");
    size_t id_len = strlen(id);
    if (memchr(id, '/', id_len))
        return kt_error(err, errlen, "message id has more than one topic level");
    if (fleet_conf_check_id(id, id_len, err, errlen) != 0)
        return -1;
    out->kind = FLEET_TOPIC_MESSAGE;
    out->id = id;
    out->id_len = id_len;
    return 0;
}

/* One JSON value, strictly: valid UTF-8, no NUL, nothing after it but
 * white space, at most depth levels. NULL with the reason otherwise. */
static struct json_object *fleet_proto_json(const char *s, size_t len, int depth, char *err,
                                            size_t errlen)
{
    if (len == 0 || len > (size_t)FLEET_STATUS_MAX) {
        kt_error(err, errlen, "%s", len ? "too big" : "empty");
        return NULL;
    }
    if (memchr(s, '\0', len)) {
        kt_error(err, errlen, "not JSON: contains a NUL byte");
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new_ex(depth);
    if (!tok) {
        kt_error(err, errlen, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *o = json_tokener_parse_ex(tok, s, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!o) {
        if (e == json_tokener_continue)
            kt_error(err, errlen, "not JSON: ends in the middle of a value");
        else if (e == json_tokener_error_depth)
            kt_error(err, errlen, "not JSON: nested deeper than %d levels", depth);
        else
            kt_error(err, errlen, "not JSON: %s at byte %zu", json_tokener_error_desc(e), end);
        return NULL;
    }
    for (size_t i = end; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') {
            json_object_put(o);
            kt_error(err, errlen, "not JSON: data after the value at byte %zu", i);
            return NULL;
        }
    }
    return o;
}

static const char *const fleet_command_names[] = {
    [FLEET_CMD_RELOAD] = "reload",
    [FLEET_CMD_REFETCH] = "refetch",
    [FLEET_CMD_SCREENSHOT] = "screenshot",
};

const char *fleet_proto_command_name(enum fleet_command cmd)
{
    return (unsigned)cmd < sizeof fleet_command_names / sizeof *fleet_command_names
               ? fleet_command_names[cmd]
               : "?";
}

int fleet_proto_parse_command(const char *payload, size_t len, enum fleet_command *cmd, char *err,
                              size_t errlen)
{
    if (len > 4096)
        return kt_error(err, errlen, "command of %zu bytes (at most 4096)", len);
    struct json_object *o = fleet_proto_json(payload, len, FLEET_COMMAND_DEPTH, err, errlen);
    if (!o)
        return -1;
    struct json_object *c;
    int rc = -1;
    if (!json_object_is_type(o, json_type_object))
        kt_error(err, errlen, "not a JSON object");
    else if (!json_object_object_get_ex(o, "command", &c) ||
             !json_object_is_type(c, json_type_string))
        kt_error(err, errlen, "no \"command\" string");
    else {
        const char *name = json_object_get_string(c);
        for (size_t i = 0; i < sizeof fleet_command_names / sizeof *fleet_command_names; i++) {
            if (strcmp(name, fleet_command_names[i]) == 0) {
                *cmd = (enum fleet_command)i;
                rc = 0;
            }
        }
        if (rc != 0)
            kt_error(err, errlen,
                     "unknown command \"%.64s\" (expected reload, refetch or screenshot)", name);
    }
    json_object_put(o);
    return rc;
}

char *fleet_proto_status(const char *doc, int *rc, char *err, size_t errlen)
{
    *rc = 0;
    struct json_object *o = NULL;
    if (doc) {
        char why[KT_ERR_MAX];
        o = fleet_proto_json(doc, strlen(doc), FLEET_STATUS_DEPTH, why, sizeof why);
        if (!o) {
            *rc = kt_error(err, errlen, "status document: %s", why);
        } else if (!json_object_is_type(o, json_type_object)) {
            *rc = kt_error(err, errlen, "status document: not a JSON object");
            json_object_put(o);
            o = NULL;
        }
    }
    if (!o)
        o = json_object_new_object();
    json_object_object_add(o, "online", json_object_new_boolean(1));
    char *out = kt_strdup(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return out;
}

static uint64_t fleet_proto_xorshift(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

int64_t fleet_proto_backoff_ms(int attempt, int min_ms, int max_ms, uint64_t *rng)
{
    int64_t max = max_ms > 0 ? max_ms : 1;
    int64_t base = min_ms > 0 ? min_ms : 1;
    for (int i = 0; i < attempt && base < max; i++)
        base *= 2;
    if (base > max)
        base = max;
    int64_t half = base / 2;
    return half + (int64_t)(fleet_proto_xorshift(rng) % (uint64_t)(base - half + 1));
}

void fleet_bucket_init(struct fleet_bucket *b, double rate, double burst, int64_t now_ms)
{
    b->rate = rate > 0 ? rate : 1;
    b->burst = burst >= 1 ? burst : 1;
    b->tokens = b->burst;
    b->last_ms = now_ms;
}

int64_t fleet_bucket_take(struct fleet_bucket *b, int64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
        b->last_ms = now_ms;
    }
    /* The token is taken now, on credit when the bucket is empty: the
     * caller waits until the debt is paid, so a flood is paced, never
     * dropped. */
    b->tokens -= 1;
    if (b->tokens >= 0)
        return 0;
    return (int64_t)(-b->tokens * 1000.0 / b->rate) + 1;
}

bool fleet_once_first(struct fleet_once *o, const char *key, bool *full)
{
    *full = false;
    for (size_t i = 0; i < o->n; i++) {
        if (strcmp(o->keys[i], key) == 0)
            return false;
    }
    if (o->n == FLEET_ONCE_MAX) {
        if (o->full_noted)
            return false;
        o->full_noted = true;
        *full = true;
        return true;
    }
    o->keys[o->n++] = kt_strdup(key);
    return true;
}

void fleet_once_forget(struct fleet_once *o, const char *key)
{
    for (size_t i = 0; i < o->n; i++) {
        if (strcmp(o->keys[i], key) == 0) {
            free(o->keys[i]);
            o->keys[i] = o->keys[--o->n];
            o->full_noted = false;
            return;
        }
    }
}

void fleet_once_clear(struct fleet_once *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->keys[i]);
    *o = (struct fleet_once){0};
}
