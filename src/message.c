/*
 * message: see message.h.
 *
 * json-c's tokener in strict mode with a depth bound does the JSON; this
 * file checks each field and says which one is wrong.
 */
#include "message.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "config.h"
#include "date.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

enum message_field {
    MF_TEXT,
    MF_SEVERITY,
    MF_EXPIRES,
    MF_DURATION,
    MF_ID,
    MF_LABEL,
    MF_SHOW,
    MF_CREATED, /* stored form only */
    MF_COUNT
};

static const char *const message_fields[MF_COUNT] = {
    "text", "severity", "expires", "duration", "id", "label", "show", "created",
};

bool message_id_valid(const char *id)
{
    if (!id || !*id || *id == '.')
        return false;
    size_t n = 0;
    for (const char *p = id; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == '~';
        if (!ok || n >= MESSAGE_MAX_ID)
            return false;
    }
    return true;
}

/* getrandom first (no file descriptor, works in a chroot); /dev/urandom
 * when the kernel lacks it. GRND_NONBLOCK: at early boot, before the pool
 * is initialised, fall back rather than stall the API thread. */
static int message_random(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, GRND_NONBLOCK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == n)
        return 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return got == n ? 0 : -1;
}

int message_new_id(char *out, size_t outlen)
{
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[MESSAGE_ID_GENERATED_LEN * 3 / 4];
    if (outlen < MESSAGE_ID_GENERATED_LEN + 1 || message_random(raw, sizeof raw) != 0)
        return -1;
    /* 12 bytes = 96 bits, four groups of three bytes to four characters */
    for (size_t i = 0, o = 0; i < sizeof raw; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
        out[o++] = b64url[v & 63];
    }
    out[MESSAGE_ID_GENERATED_LEN] = '\0';
    return 0;
}

void message_clear(struct message *m)
{
    if (!m)
        return;
    free(m->id);
    free(m->text);
    free(m->label);
    free(m->show);
    memset(m, 0, sizeof *m);
}

void message_copy(struct message *out, const struct message *m)
{
    *out = *m;
    out->id = kt_strdup(m->id);
    out->text = kt_strdup(m->text);
    out->label = kt_strdup(m->label);
    out->show = kt_strdup(m->show);
}

const char *message_label(const struct message *m)
{
    return m->label ? m->label : MESSAGE_DEFAULT_LABEL;
}

bool message_expired(const struct message *m, int64_t now)
{
    return m->expires != 0 && m->expires <= now;
}

bool message_to_alert(const struct message *m, struct alert *out)
{
    if (!m->has_severity)
        return false;
    memset(out, 0, sizeof *out);
    out->id = kt_strdup(m->id);
    out->source = kt_strdup(ALERT_SOURCE_MESSAGE);
    out->severity = m->severity;
    out->text = kt_strdup(m->text);
    out->label = kt_strdup(message_label(m));
    out->sent = m->created;
    out->effective = m->created;
    out->expires = m->expires;
    out->show = kt_strdup(m->show);
    return true;
}

/* A field name from the input, safe to quote in a one-line error: printable
 * ASCII only, cut to 40 bytes. */
static void message_quote_key(const char *key, char *out, size_t outlen)
{
    size_t o = 0;
    for (const char *p = key; *p && o + 4 < outlen && p - key < 40; p++)
        out[o++] = (*p >= 0x20 && *p < 0x7f && *p != '"') ? *p : '?';
    if (*key && strlen(key) > 40 && o + 4 < outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static void message_where(const char *json, size_t upto, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < upto; i++) {
        if (json[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)json[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

/* The string value of field f, checked: a JSON string without NUL and in
 * UTF-8. NULL with err set otherwise. */
static const char *message_string(struct json_object *v, enum message_field f, size_t *len,
                                  char *err, size_t errlen)
{
    const char *name = message_fields[f];
    if (!json_object_is_type(v, json_type_string)) {
        kt_error(err, errlen, "%s: expected a string", name);
        return NULL;
    }
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (memchr(s, '\0', n)) {
        kt_error(err, errlen, "%s: contains a NUL character", name);
        return NULL;
    }
    if (!uni_valid(s, n)) {
        kt_error(err, errlen, "%s: not valid UTF-8", name);
        return NULL;
    }
    *len = n;
    return s;
}

/* text_plain and the character bound shared by text and label. */
static char *message_norm(const char *s, size_t n, enum message_field f, size_t max_chars,
                          char *err, size_t errlen)
{
    char *t = text_plain(s, n, false);
    if (!*t) {
        free(t);
        kt_error(err, errlen, "%s: empty", message_fields[f]);
        return NULL;
    }
    size_t chars = uni_count(t, strlen(t));
    if (chars > max_chars) {
        free(t);
        kt_error(err, errlen, "%s: %zu characters, at most %zu", message_fields[f], chars,
                 max_chars);
        return NULL;
    }
    return t;
}

static int message_date(const char *s, enum message_field f, int64_t *out, char *err, size_t errlen)
{
    if (!date_parse(s, out) || *out <= 0) {
        char q[48];
        message_quote_key(s, q, sizeof q);
        return kt_error(err, errlen, "%s: \"%s\" is not a date (use RFC 3339, e.g. %s)",
                        message_fields[f], q, "2026-05-01T18:00:00Z");
    }
    return 0;
}

static int message_fields_check(struct json_object *obj, const struct message_parse_opts *o,
                                struct message *m, char *err, size_t errlen)
{
    struct json_object *v[MF_COUNT] = {0};
    json_object_object_foreach(obj, key, val)
    {
        int f = 0;
        while (f < MF_COUNT && strcmp(key, message_fields[f]) != 0)
            f++;
        if (f == MF_COUNT || (f == MF_CREATED && !o->stored)) {
            char q[48];
            message_quote_key(key, q, sizeof q);
            return kt_error(err, errlen,
                            "unknown field \"%s\" (a message has text, severity, expires, "
                            "duration, id, label, show)",
                            q);
        }
        /* null = not given, for every optional field */
        v[f] = json_object_is_type(val, json_type_null) ? NULL : val;
    }

    size_t n;
    const char *s;
    if (!v[MF_TEXT])
        return kt_error(err, errlen, "text: missing");
    if (!(s = message_string(v[MF_TEXT], MF_TEXT, &n, err, errlen)))
        return -1;
    if (!(m->text = message_norm(s, n, MF_TEXT, MESSAGE_MAX_TEXT, err, errlen)))
        return -1;

    if (v[MF_SEVERITY]) {
        if (!(s = message_string(v[MF_SEVERITY], MF_SEVERITY, &n, err, errlen)))
            return -1;
        if (alert_severity_parse(s, &m->severity) != 0) {
            char q[48];
            message_quote_key(s, q, sizeof q);
            return kt_error(err, errlen, "severity: unknown value \"%s\" (use %s)", q,
                            alert_severity_names());
        }
        m->has_severity = true;
    }

    if (v[MF_EXPIRES] && v[MF_DURATION])
        return kt_error(err, errlen, "expires, duration: give one, not both");
    if (v[MF_CREATED]) {
        if (!(s = message_string(v[MF_CREATED], MF_CREATED, &n, err, errlen)) ||
            message_date(s, MF_CREATED, &m->created, err, errlen) != 0)
            return -1;
    } else {
        m->created = o->now;
    }
    if (v[MF_EXPIRES]) {
        if (!(s = message_string(v[MF_EXPIRES], MF_EXPIRES, &n, err, errlen)) ||
            message_date(s, MF_EXPIRES, &m->expires, err, errlen) != 0)
            return -1;
        if (m->expires <= o->now) {
            char when[32];
            date_format(m->expires, when, sizeof when);
            return kt_error(err, errlen, "expires: %s is in the past", when);
        }
    }
    if (v[MF_DURATION]) {
        int64_t d;
        if (!(s = message_string(v[MF_DURATION], MF_DURATION, &n, err, errlen)))
            return -1;
        if (config_parse_duration(s, &d) != 0) {
            char q[48];
            message_quote_key(s, q, sizeof q);
            return kt_error(err, errlen,
                            "duration: \"%s\" is not a duration (use e.g. 90s, 30m, 2h, 1d)", q);
        }
        if (d <= 0)
            return kt_error(err, errlen, "duration: must be more than 0");
        /* The expiry is written back as RFC 3339, whose years end at 9999. */
        if (d > MESSAGE_LAST_TIME - o->now)
            return kt_error(err, errlen, "duration: too long (it would end after the year 9999)");
        m->expires = o->now + d;
    }

    if (v[MF_ID]) {
        if (!(s = message_string(v[MF_ID], MF_ID, &n, err, errlen)))
            return -1;
        if (!message_id_valid(s))
            return kt_error(err, errlen,
                            "id: use 1 to %d of A-Z a-z 0-9 - _ . ~ (not starting with '.')",
                            MESSAGE_MAX_ID);
        if (o->id && strcmp(o->id, s) != 0) {
            char q[48];
            message_quote_key(o->id, q, sizeof q);
            return kt_error(err, errlen, "id: differs from the id \"%s\" it was sent to", q);
        }
        m->id = kt_strdup(s);
    } else if (o->id) {
        if (!message_id_valid(o->id))
            return kt_error(err, errlen, "id: the id it was sent to is not valid");
        m->id = kt_strdup(o->id);
    } else if (o->stored) {
        return kt_error(err, errlen, "id: missing");
    } else {
        char id[MESSAGE_ID_GENERATED_LEN + 1];
        if (message_new_id(id, sizeof id) != 0)
            return kt_error(err, errlen, "id: cannot generate one (no randomness source)");
        m->id = kt_strdup(id);
    }

    if (v[MF_LABEL]) {
        if (!(s = message_string(v[MF_LABEL], MF_LABEL, &n, err, errlen)))
            return -1;
        if (!(m->label = message_norm(s, n, MF_LABEL, MESSAGE_MAX_LABEL, err, errlen)))
            return -1;
    }

    if (v[MF_SHOW]) {
        if (!(s = message_string(v[MF_SHOW], MF_SHOW, &n, err, errlen)))
            return -1;
        /* interpreted by the schedule code of issue 13; kept verbatim here */
        char *t = text_plain(s, n, false);
        if (!*t || strlen(t) > MESSAGE_MAX_SHOW) {
            bool empty = !*t;
            free(t);
            return empty ? kt_error(err, errlen, "show: empty")
                         : kt_error(err, errlen, "show: longer than %d bytes", MESSAGE_MAX_SHOW);
        }
        m->show = t;
    }
    return 0;
}

int message_parse(const char *json, size_t len, const struct message_parse_opts *opts,
                  struct message *out, char *err, size_t errlen)
{
    struct message_parse_opts o = {0};
    if (opts)
        o = *opts;
    size_t max = o.max_bytes ? o.max_bytes : MESSAGE_MAX_API_BYTES;
    memset(out, 0, sizeof *out);
    if (len > max || len > (size_t)INT32_MAX)
        return kt_error(err, errlen, "message: %zu bytes, at most %zu", len, max);
    size_t start = 0;
    while (start < len && (json[start] == ' ' || json[start] == '\t' || json[start] == '\n' ||
                           json[start] == '\r'))
        start++;
    if (start == len)
        return kt_error(err, errlen, "malformed JSON: empty body");
    const char *nul = memchr(json, '\0', len);
    int line, col;
    if (nul) {
        message_where(json, (size_t)(nul - json), &line, &col);
        return kt_error(err, errlen, "malformed JSON at line %d, column %d: NUL byte", line, col);
    }

    struct json_tokener *tok = json_tokener_new_ex(MESSAGE_MAX_DEPTH);
    if (!tok)
        return kt_error(err, errlen, "message: out of memory");
    /* strict JSON; trailing data is reported below, naming where */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
    struct json_object *obj = json_tokener_parse_ex(tok, json, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int rc = 0;
    if (!obj) {
        message_where(json, end < len ? end : len, &line, &col);
        if (jerr == json_tokener_error_depth)
            rc = kt_error(err, errlen,
                          "malformed JSON at line %d, column %d: nested deeper than %d levels",
                          line, col, MESSAGE_MAX_DEPTH);
        else
            rc = kt_error(err, errlen, "malformed JSON at line %d, column %d: %s", line, col,
                          jerr == json_tokener_continue ? "unexpected end of the body"
                                                        : json_tokener_error_desc(jerr));
        goto out;
    }
    for (size_t i = end; i < len; i++) {
        if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r') {
            message_where(json, i, &line, &col);
            rc = kt_error(err, errlen,
                          "malformed JSON at line %d, column %d: data after the object", line, col);
            goto out;
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        rc = kt_error(err, errlen, "message: expected a JSON object {\"text\": …}");
        goto out;
    }
    rc = message_fields_check(obj, &o, out, err, errlen);
out:
    json_object_put(obj);
    if (rc != 0)
        message_clear(out);
    return rc;
}

void message_to_json(const struct message *m, struct kt_buf *out)
{
    struct json_object *o = json_object_new_object();
    char when[32];
    json_object_object_add(o, "id", json_object_new_string(m->id ? m->id : ""));
    json_object_object_add(o, "text", json_object_new_string(m->text ? m->text : ""));
    if (m->has_severity)
        json_object_object_add(o, "severity",
                               json_object_new_string(alert_severity_name(m->severity)));
    if (m->label)
        json_object_object_add(o, "label", json_object_new_string(m->label));
    if (m->created) { /* 0: not known (a stored record without one) */
        date_format(m->created, when, sizeof when);
        json_object_object_add(o, "created", json_object_new_string(when));
    }
    if (m->expires) {
        date_format(m->expires, when, sizeof when);
        json_object_object_add(o, "expires", json_object_new_string(when));
    }
    if (m->show)
        json_object_object_add(o, "show", json_object_new_string(m->show));
    kt_buf_puts(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}
