/*
 * fuzz_fleet: the pure rules of the fleet (fleet_conf.c, fleet_proto.c)
 * on any bytes: the input is tried as a broker URL, a screen id, a group
 * list, a topic prefix, a config_url template (before the first tab, the
 * screen id after it), an incoming topic, a command and a status
 * document. Besides memory errors, the contracts the headers promise:
 * what is accepted never carries a wildcard or a level separator into a
 * topic, an expanded URL holds no raw byte of the screen id that needs
 * encoding, a classified topic names this screen's scopes only, and the
 * status published is always a JSON object saying "online": true.
 */
#include "fuzz.h"

#include <json-c/json.h>
#include <string.h>

#include "fleet_conf.h"
#include "fleet_proto.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

static void check_level(const char *s, size_t n, bool slash_ok)
{
    FUZZ_CHECK(uni_valid(s, n), "accepted \"%s\" is not UTF-8", s);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        FUZZ_CHECK(c > ' ' && c != 0x7f && c != '+' && c != '#' && (slash_ok || c != '/'),
                   "accepted \"%s\" has byte 0x%02x", s, c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    size_t n = strlen(s);
    char err[KT_ERR_MAX];

    struct fleet_url u;
    if (fleet_conf_parse_url(s, &u, err, sizeof err) == 0) {
        FUZZ_CHECK(u.host[0] && u.port >= 1 && u.port <= 65535, "\"%s\" -> %s:%d", s, u.host,
                   u.port);
        FUZZ_CHECK(!strpbrk(u.host, "/@?# "), "host \"%s\"", u.host);
    }
    if (fleet_conf_check_name("screen_id", s, err, sizeof err) == 0) {
        FUZZ_CHECK(n >= 1 && n <= FLEET_NAME_MAX, "length %zu", n);
        check_level(s, n, false);
    }
    if (fleet_conf_check_prefix(s, err, sizeof err) == 0) {
        check_level(s, n, true);
        FUZZ_CHECK(s[0] != '$' && s[0] != '/' && s[n - 1] != '/' && !strstr(s, "//"), "\"%s\"", s);
    }
    if (fleet_conf_check_id(s, size, err, sizeof err) == 0)
        check_level(s, size, false);

    char **groups;
    size_t ng;
    if (fleet_conf_parse_groups(s, &groups, &ng, err, sizeof err) == 0) {
        FUZZ_CHECK(ng <= FLEET_MAX_GROUPS, "%zu groups", ng);
        for (size_t i = 0; i < ng; i++)
            FUZZ_CHECK(fleet_conf_check_name("group", groups[i], err, sizeof err) == 0, "\"%s\"",
                       groups[i]);
        fleet_conf_free_groups(groups, ng);
    }

    char *tab = strchr(s, '\t');
    const char *id = tab ? tab + 1 : "kiosk-1";
    char *tmpl = tab ? kt_strndup(s, (size_t)(tab - s)) : kt_strdup(s);
    char *url;
    if (fleet_conf_expand_url(tmpl, id, id, &url, err, sizeof err) == 0) {
        FUZZ_CHECK(strlen(url) <= FLEET_URL_MAX, "expanded to %zu bytes", strlen(url));
        for (const char *p = url; *p; p++)
            FUZZ_CHECK((unsigned char)*p > ' ' && *p != 0x7f, "raw byte 0x%02x in \"%s\"",
                       (unsigned char)*p, url);
        if (!strchr(tmpl, '%'))
            FUZZ_CHECK(strcmp(url, tmpl) == 0, "\"%s\" changed to \"%s\"", tmpl, url);
        free(url);
    }
    free(tmpl);

    char *mine[] = {"lobby", "building-3"};
    struct fleet_topic t;
    if (fleet_proto_classify("kiosk-ticker", "kiosk-1", mine, 2, s, &t, err, sizeof err) == 0) {
        FUZZ_CHECK(strcmp(t.scope, "all") == 0 || strcmp(t.scope, "group/lobby") == 0 ||
                       strcmp(t.scope, "group/building-3") == 0 ||
                       strcmp(t.scope, "screen/kiosk-1") == 0,
                   "\"%s\" -> scope \"%s\"", s, t.scope);
        if (t.kind == FLEET_TOPIC_MESSAGE) {
            FUZZ_CHECK(t.id + t.id_len == s + n, "the id is not the last level of \"%s\"", s);
            check_level(t.id, t.id_len, false);
        }
    }

    enum fleet_command cmd;
    if (fleet_proto_parse_command(s, size, &cmd, err, sizeof err) == 0)
        FUZZ_CHECK(cmd <= FLEET_CMD_SCREENSHOT, "command %d", (int)cmd);

    int rc;
    char *status = fleet_proto_status(s, &rc, err, sizeof err);
    struct json_object *o = json_tokener_parse(status);
    struct json_object *online;
    FUZZ_CHECK(o && json_object_is_type(o, json_type_object) &&
                   json_object_object_get_ex(o, "online", &online) &&
                   json_object_get_boolean(online),
               "status \"%s\"", status);
    json_object_put(o);
    free(status);
    free(s);
    return 0;
}
