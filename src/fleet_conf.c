/*
 * fleet_conf: see fleet_conf.h.
 */
#include "fleet_conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "text.h"
#include "unicode.h"
#include "util.h"

void fleet_conf_free_groups(char **groups, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(groups[i]);
    free(groups);
}

void fleet_conf_free(struct fleet_settings *s)
{
    if (!s)
        return;
    free(s->mqtt);
    free(s->ca_file);
    free(s->username);
    free(s->password_file);
    free(s->screen_id);
    fleet_conf_free_groups(s->groups, s->n_groups);
    free(s->topic_prefix);
    free(s->config_url);
    *s = (struct fleet_settings){0};
}

int fleet_conf_parse_url(const char *url, struct fleet_url *out, char *err, size_t errlen)
{
    *out = (struct fleet_url){0};
    if (!url || !*url)
        return kt_error(err, errlen, "mqtt: empty URL (expected mqtt://HOST[:PORT])");
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return kt_error(err, errlen, "mqtt: \"%s\": spaces or control characters", url);
    }
    const char *p;
    if (kt_str_has_prefix_nocase(url, "mqtts://")) {
        out->tls = true;
        p = url + 8;
    } else if (kt_str_has_prefix_nocase(url, "mqtt://")) {
        p = url + 7;
    } else {
        size_t n = kt_url_scheme_len(url);
        return kt_error(err, errlen,
                        "mqtt: \"%s\": expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]%s%.*s%s",
                        url, n ? " (not " : "", (int)n, url, n ? ")" : "");
    }
    out->port = out->tls ? 8883 : 1883;

    size_t auth_len = strcspn(p, "/?#");
    const char *rest = p + auth_len;
    if (memchr(p, '@', auth_len))
        return kt_error(err, errlen,
                        "mqtt: \"%s\": no credentials in the URL (use username and "
                        "password_file)",
                        url);
    if (*rest && strcmp(rest, "/") != 0)
        return kt_error(err, errlen, "mqtt: \"%s\": a broker URL has no path or query", url);

    const char *host = p, *host_end, *port = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', auth_len);
        if (!close)
            return kt_error(err, errlen, "mqtt: \"%s\": unterminated [IPv6 address]", url);
        host = p + 1;
        host_end = close;
        if (close + 1 < rest) {
            if (close[1] != ':')
                return kt_error(err, errlen, "mqtt: \"%s\": junk after the IPv6 address", url);
            port = close + 2;
        }
        char v6[64];
        struct in6_addr a;
        size_t n = (size_t)(host_end - host);
        if (n == 0 || n >= sizeof v6)
            return kt_error(err, errlen, "mqtt: \"%s\": not an IPv6 address", url);
        memcpy(v6, host, n);
        v6[n] = '\0';
        if (inet_pton(AF_INET6, v6, &a) != 1)
            return kt_error(err, errlen, "mqtt: \"%s\": \"%s\" is not an IPv6 address", url, v6);
    } else {
        const char *colon = memchr(p, ':', auth_len);
        host_end = colon ? colon : rest;
        if (colon)
            port = colon + 1;
        for (const char *h = host; h < host_end; h++) {
            if (!isalnum((unsigned char)*h) && *h != '-' && *h != '.' && *h != '_')
                return kt_error(err, errlen, "mqtt: \"%s\": '%c' cannot be in a host name", url,
                                *h);
        }
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0)
        return kt_error(err, errlen, "mqtt: \"%s\": no host", url);
    if (host_len > FLEET_HOST_MAX)
        return kt_error(err, errlen, "mqtt: host name longer than %d bytes", FLEET_HOST_MAX);
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';

    if (port) {
        long v = 0;
        const char *d = port;
        for (; d < rest && isdigit((unsigned char)*d) && v <= 65535; d++)
            v = v * 10 + (*d - '0');
        if (d == port || d != rest || v < 1 || v > 65535)
            return kt_error(err, errlen, "mqtt: \"%s\": the port must be 1 to 65535", url);
        out->port = (int)v;
    }
    return 0;
}

/* The characters of one topic level: valid UTF-8, no C0/C1 controls, no
 * spaces (they break ACL lines and shell commands), no MQTT wildcards;
 * '/' only when slash_ok (a multi-level prefix). */
static int fleet_conf_check_level_chars(const char *what, const char *s, size_t len, bool slash_ok,
                                        char *err, size_t errlen)
{
    if (!uni_valid(s, len))
        return kt_error(err, errlen, "%s: not valid UTF-8", what);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\0')
            return kt_error(err, errlen, "%s: contains a NUL byte", what);
        if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0))
            return kt_error(err, errlen, "%s: \"%.*s\" contains a control character", what,
                            (int)len, s);
        if (c == ' ')
            return kt_error(err, errlen, "%s: \"%.*s\" contains a space", what, (int)len, s);
        if (c == '+' || c == '#' || (c == '/' && !slash_ok))
            return kt_error(err, errlen, "%s: \"%.*s\": '%c' is not allowed in an MQTT topic level",
                            what, (int)len, s, c);
    }
    return 0;
}

int fleet_conf_check_name(const char *what, const char *name, char *err, size_t errlen)
{
    if (!name || !*name)
        return kt_error(err, errlen, "%s: empty", what);
    size_t len = strlen(name);
    if (len > FLEET_NAME_MAX)
        return kt_error(err, errlen, "%s: \"%.40s...\" is longer than %d bytes", what, name,
                        FLEET_NAME_MAX);
    if (fleet_conf_check_level_chars(what, name, len, false, err, errlen) != 0)
        return -1;
    if (strchr(name, ','))
        return kt_error(err, errlen, "%s: \"%s\": ',' separates groups and cannot be in a name",
                        what, name);
    return 0;
}

int fleet_conf_check_id(const char *id, size_t len, char *err, size_t errlen)
{
    if (len == 0)
        return kt_error(err, errlen, "message id: empty");
    if (len > FLEET_ID_MAX)
        return kt_error(err, errlen, "message id: longer than %d bytes", FLEET_ID_MAX);
    return fleet_conf_check_level_chars("message id", id, len, false, err, errlen);
}

int fleet_conf_check_prefix(const char *prefix, char *err, size_t errlen)
{
    if (!prefix || !*prefix)
        return kt_error(err, errlen, "topic_prefix: empty");
    size_t len = strlen(prefix);
    if (len > FLEET_PREFIX_MAX)
        return kt_error(err, errlen, "topic_prefix: longer than %d bytes", FLEET_PREFIX_MAX);
    if (prefix[0] == '$')
        return kt_error(err, errlen,
                        "topic_prefix: \"%s\": topics starting with '$' are the "
                        "broker's own",
                        prefix);
    if (prefix[0] == '/' || prefix[len - 1] == '/' || strstr(prefix, "//"))
        return kt_error(err, errlen, "topic_prefix: \"%s\": empty topic level", prefix);
    return fleet_conf_check_level_chars("topic_prefix", prefix, len, true, err, errlen);
}

int fleet_conf_check_keepalive(long seconds, char *err, size_t errlen)
{
    if (seconds < FLEET_KEEPALIVE_MIN || seconds > FLEET_KEEPALIVE_MAX)
        return kt_error(err, errlen, "keepalive: %ld s is outside %d to %d s", seconds,
                        FLEET_KEEPALIVE_MIN, FLEET_KEEPALIVE_MAX);
    return 0;
}

int fleet_conf_parse_groups(const char *list, char ***groups, size_t *n, char *err, size_t errlen)
{
    *groups = NULL;
    *n = 0;
    char **v = NULL;
    size_t count = 0;
    const char *p = list ? list : "";
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return 0;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (a == b) {
            fleet_conf_free_groups(v, count);
            return kt_error(err, errlen, "groups: empty group name in \"%s\"", list);
        }
        if (count == FLEET_MAX_GROUPS) {
            fleet_conf_free_groups(v, count);
            return kt_error(err, errlen, "groups: more than %d groups", FLEET_MAX_GROUPS);
        }
        char *name = kt_strndup(a, (size_t)(b - a));
        char why[KT_ERR_MAX];
        if (fleet_conf_check_name("group", name, why, sizeof why) != 0) {
            fleet_conf_free_groups(v, count);
            free(name);
            return kt_error(err, errlen, "groups: %s", why);
        }
        for (size_t i = 0; i < count; i++) {
            if (strcmp(v[i], name) == 0) {
                kt_error(err, errlen, "groups: \"%s\" is listed twice", name);
                fleet_conf_free_groups(v, count);
                free(name);
                return -1;
            }
        }
        v = kt_realloc(v, (count + 1) * sizeof *v);
        v[count++] = name;
        if (!*end)
            break;
        p = end + 1;
    }
    *groups = v;
    *n = count;
    return 0;
}

int fleet_conf_host_name(char *buf, size_t size, char *err, size_t errlen)
{
    char name[256];
    if (gethostname(name, sizeof name) != 0)
        return kt_error(err, errlen, "screen_id: no host name (%s); set screen_id",
                        strerror(errno));
    name[sizeof name - 1] = '\0';
    char why[KT_ERR_MAX];
    if (fleet_conf_check_name("screen_id", name, why, sizeof why) != 0)
        return kt_error(err, errlen, "%s (the host name); set screen_id", why);
    if (strlen(name) >= size)
        return kt_error(err, errlen, "screen_id: host name too long; set screen_id");
    memcpy(buf, name, strlen(name) + 1);
    return 0;
}

int fleet_conf_validate(const struct fleet_settings *s, char *err, size_t errlen)
{
    struct fleet_url u;
    if (fleet_conf_parse_url(s->mqtt, &u, err, errlen) != 0)
        return -1;
    if (s->ca_file && !u.tls)
        return kt_error(err, errlen, "ca_file: only used with an mqtts:// URL");
    if (s->ca_file && !*s->ca_file)
        return kt_error(err, errlen, "ca_file: empty");
    if (s->screen_id && fleet_conf_check_name("screen_id", s->screen_id, err, errlen) != 0)
        return -1;
    if (s->n_groups > FLEET_MAX_GROUPS)
        return kt_error(err, errlen, "groups: more than %d groups", FLEET_MAX_GROUPS);
    for (size_t i = 0; i < s->n_groups; i++) {
        char why[KT_ERR_MAX];
        if (fleet_conf_check_name("group", s->groups[i], why, sizeof why) != 0)
            return kt_error(err, errlen, "groups: %s", why);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->groups[i], s->groups[j]) == 0)
                return kt_error(err, errlen, "groups: \"%s\" is listed twice", s->groups[i]);
        }
    }
    if (s->topic_prefix && fleet_conf_check_prefix(s->topic_prefix, err, errlen) != 0)
        return -1;
    if (s->keepalive && fleet_conf_check_keepalive(s->keepalive, err, errlen) != 0)
        return -1;
    if (s->username && (!*s->username || strlen(s->username) > 256 ||
                        !uni_valid(s->username, strlen(s->username))))
        return kt_error(err, errlen, "username: empty, longer than 256 bytes or not UTF-8");
    if (s->password_file && !*s->password_file)
        return kt_error(err, errlen, "password_file: empty");
    if (s->config_url) {
        char *out = NULL;
        int rc = fleet_conf_expand_url(s->config_url, "screen", "host", &out, err, errlen);
        free(out);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int fleet_conf_read_password(const char *path, char **password, char *err, size_t errlen)
{
    *password = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return kt_error(err, errlen, "password_file: %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return kt_error(err, errlen, "password_file: %s: not a regular file", path);
    /* Same rule as the control API's token file: a secret that group or
     * others can read, or replace, is not a secret. */
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return kt_error(err, errlen,
                        "password_file: %s: mode %04o lets group or others access it; it must be "
                        "readable by its owner only (chmod 600 %s)",
                        path, (unsigned)(st.st_mode & 07777), path);
    char *data;
    size_t len;
    char why[KT_ERR_MAX];
    if (kt_read_file(path, FLEET_PASSWORD_MAX, &data, &len, why, sizeof why) != 0)
        return kt_error(err, errlen, "password_file: %s", why);
    if (len && data[len - 1] == '\n')
        len--;
    if (len && data[len - 1] == '\r')
        len--;
    data[len] = '\0';
    if (len == 0 || memchr(data, '\0', len) || memchr(data, '\n', len)) {
        free(data);
        return kt_error(err, errlen, "password_file: %s: must hold the password on one line", path);
    }
    *password = data;
    return 0;
}

static void fleet_conf_put_encoded(struct kt_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            kt_buf_putc(b, (char)*p);
        } else {
            kt_buf_putc(b, '%');
            kt_buf_putc(b, hex[*p >> 4]);
            kt_buf_putc(b, hex[*p & 15]);
        }
    }
}

int fleet_conf_expand_url(const char *tmpl, const char *screen_id, const char *host_name,
                          char **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!tmpl || !*tmpl)
        return kt_error(err, errlen, "config_url: empty");
    struct kt_buf b;
    kt_buf_init(&b);
    for (const char *p = tmpl; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            kt_buf_free(&b);
            return kt_error(err, errlen, "config_url: space or control character at column %d",
                            (int)(p - tmpl) + 1);
        }
        if (*p != '%') {
            kt_buf_putc(&b, *p);
            continue;
        }
        int col = (int)(p - tmpl) + 1;
        switch (p[1]) {
        case 'i':
            fleet_conf_put_encoded(&b, screen_id ? screen_id : "");
            break;
        case 'h':
            fleet_conf_put_encoded(&b, host_name ? host_name : "");
            break;
        case '%':
            kt_buf_putc(&b, '%');
            break;
        case '\0':
            kt_buf_free(&b);
            return kt_error(err, errlen,
                            "config_url: lone '%%' at the end (column %d); write %%%% for a "
                            "literal '%%'",
                            col);
        default:
            kt_buf_free(&b);
            return kt_error(err, errlen,
                            "config_url: unknown escape '%%%c' at column %d (%%i screen id, %%h "
                            "host name, %%%% a literal '%%')",
                            isprint((unsigned char)p[1]) ? p[1] : '?', col);
        }
        p++;
        if (b.len > FLEET_URL_MAX)
            break;
    }
    if (b.len > FLEET_URL_MAX) {
        kt_buf_free(&b);
        return kt_error(err, errlen, "config_url: longer than %d bytes once expanded",
                        FLEET_URL_MAX);
    }
    *out = kt_buf_steal(&b);
    return 0;
}
