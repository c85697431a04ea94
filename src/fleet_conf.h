/*
 * fleet_conf: the values of the [fleet] section, checked one by one so
 * the config module can report them as FILE:LINE errors, and the
 * expansion of the remote config URL template. Pure logic (no MQTT, no
 * network): unit-tested and fuzzed on its own.
 *
 * Every name that becomes an MQTT topic level (screen id, group) or a
 * topic prefix is refused when it could change the topic's meaning: the
 * wildcards '+' and '#', the level separator '/', control characters,
 * spaces, invalid UTF-8, and anything over the length bounds below.
 */
#ifndef KT_FLEET_CONF_H
#define KT_FLEET_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define FLEET_NAME_MAX 64       /* bytes of a screen id or a group name */
#define FLEET_ID_MAX 128        /* bytes of a message id (a topic's last level) */
#define FLEET_PREFIX_MAX 128    /* bytes of topic_prefix */
#define FLEET_HOST_MAX 253      /* bytes of the broker's host name */
#define FLEET_MAX_GROUPS 32     /* groups one screen belongs to */
#define FLEET_PASSWORD_MAX 1024 /* bytes of the password file */
#define FLEET_URL_MAX 2048      /* bytes of an expanded config_url */
#define FLEET_DEFAULT_PREFIX "kiosk-ticker"
#define FLEET_DEFAULT_KEEPALIVE 30 /* seconds */
#define FLEET_KEEPALIVE_MIN 5      /* libmosquitto refuses less */
#define FLEET_KEEPALIVE_MAX 3600   /* a last-will later than 1.5 h says little */

/* The [fleet] section as the config module fills it. Strings are owned
 * by the struct (fleet_conf_free); NULL means "not set" and takes the
 * default named beside it. fleet_start() copies what it keeps. */
struct fleet_settings {
    char *mqtt;          /* mqtt://HOST[:PORT] or mqtts://HOST[:PORT]; NULL = fleet off */
    char *ca_file;       /* mqtts: CA certificates (PEM); NULL = the system's store */
    char *username;      /* NULL = the screen id when password_file is set, else none */
    char *password_file; /* the password, in a file only its owner can read */
    char *screen_id;     /* NULL = the host name */
    char **groups;       /* "groups = lobby, building-3" */
    size_t n_groups;
    char *topic_prefix; /* NULL = FLEET_DEFAULT_PREFIX */
    int keepalive;      /* seconds; 0 = FLEET_DEFAULT_KEEPALIVE */
    char *config_url;   /* remote config template (%i, %h, %%); NULL = none */
    int config_refresh; /* seconds; 0 = 300 */

    /* Tuning, not config keys (0 = the default): the tests shorten them. */
    int backoff_min_ms;     /* first reconnect delay, default 1000 */
    int backoff_max_ms;     /* cap of the doubling, default 60000 */
    int rate_per_s;         /* messages handed to the app per second, default 50 */
    int rate_burst;         /* ... of which this many at once, default 500 */
    int connect_timeout_ms; /* TCP, TLS and CONNACK, default 15000 */
};

void fleet_conf_free(struct fleet_settings *s);

struct fleet_url {
    bool tls;                      /* mqtts */
    char host[FLEET_HOST_MAX + 1]; /* without the brackets of an IPv6 literal */
    int port;                      /* default 1883, or 8883 with TLS */
};

/* mqtt://HOST[:PORT][/] or mqtts://...; HOST a DNS name, an IPv4 address
 * or a bracketed IPv6 one. Credentials, paths and queries are refused. */
int fleet_conf_parse_url(const char *url, struct fleet_url *out, char *err, size_t errlen);

/* A screen id or a group name (what = "screen_id" or "group"). */
int fleet_conf_check_name(const char *what, const char *name, char *err, size_t errlen);
/* The last level of a message topic. */
int fleet_conf_check_id(const char *id, size_t len, char *err, size_t errlen);
/* topic_prefix: one or more levels ("kiosk-ticker", "acme/signage"), none
 * empty, not starting with '$' (the broker's own topics). */
int fleet_conf_check_prefix(const char *prefix, char *err, size_t errlen);
int fleet_conf_check_keepalive(long seconds, char *err, size_t errlen);

/* "lobby, building-3" -> {"lobby", "building-3"} (malloc'd, each checked,
 * no duplicates, at most FLEET_MAX_GROUPS). An empty list is no group. */
int fleet_conf_parse_groups(const char *list, char ***groups, size_t *n, char *err, size_t errlen);
void fleet_conf_free_groups(char **groups, size_t n);

/* The default screen id: this machine's host name, checked like a
 * screen id (the error says to set screen_id). */
int fleet_conf_host_name(char *buf, size_t size, char *err, size_t errlen);

/* Every value of s, as fleet_start() needs them (the password file is
 * not read here). The error starts with the key it is about. */
int fleet_conf_validate(const struct fleet_settings *s, char *err, size_t errlen);

/* Reads the password: a regular file that neither group nor others may
 * access (the reason is given otherwise), one line (a final newline is
 * dropped), not empty. *password is malloc'd. */
int fleet_conf_read_password(const char *path, char **password, char *err, size_t errlen);

/* config_url = https://cms.example.org/screens/%i.conf: %i the screen id,
 * %h the host name, both percent-encoded (RFC 3986 unreserved characters
 * stay); %% a literal '%'. Any other '%' is an error naming its column.
 * *out is malloc'd. */
int fleet_conf_expand_url(const char *tmpl, const char *screen_id, const char *host_name,
                          char **out, char *err, size_t errlen);

#endif
