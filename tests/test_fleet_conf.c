/*
 * test_fleet_conf: the pure parts of the fleet (fleet_conf.c and
 * fleet_proto.c). The tables under tests/data/fleet/ (one case a line,
 * \xHH escapes) hold the URL, name, group-list, config_url template,
 * topic, command and status cases; the code below checks what a table
 * cannot say: the password file's modes, the back-off's bounds and
 * spread, the receive-rate bucket, the log-once set, whole settings.
 */
#include "fleet_conf.h"
#include "fleet_proto.h"
#include "tap.h"
#include "util.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

/* Decodes \xHH (and \\) in place; returns the decoded length. */
static size_t unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
            char hex[3] = {p[2], p[3], 0};
            *o++ = (char)strtol(hex, NULL, 16);
            p += 3;
        } else if (p[0] == '\\' && p[1] == '\\') {
            *o++ = '\\';
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return (size_t)(o - s);
}

#define MAX_FIELDS 4
typedef void (*row_fn)(char **f, size_t *len, int nf, const char *where);

/* Runs fn on every row of tests/data/fleet/NAME with exactly nf fields. */
static void run_table(const char *name, int nf, row_fn fn)
{
    const char *dir = getenv("KT_TEST_DATA");
    char *path = kt_asprintf("%s/fleet/%s", dir ? dir : "tests/data", name);
    char err[KT_ERR_MAX], *data = NULL;
    size_t len;
    CHECK(kt_read_file(path, 1 << 20, &data, &len, err, sizeof err) == 0);
    free(path);
    if (!data)
        return;
    int line = 0, cases = 0;
    for (char *p = data, *end; p < data + len; p = end + 1) {
        end = memchr(p, '\n', (size_t)(data + len - p));
        if (!end)
            end = data + len;
        *end = '\0';
        line++;
        if (end == p || *p == '#')
            continue;
        char *f[MAX_FIELDS];
        size_t flen[MAX_FIELDS];
        int n = 0;
        for (char *q = p; n < MAX_FIELDS; n++) {
            f[n] = q;
            char *tab = strchr(q, '\t');
            if (!tab) {
                n++;
                break;
            }
            *tab = '\0';
            q = tab + 1;
        }
        char where[128];
        snprintf(where, sizeof where, "%s:%d", name, line);
        CHECK(n == nf);
        if (n != nf) {
            fprintf(stderr, "  at %s: %d fields, want %d\n", where, n, nf);
            continue;
        }
        for (int i = 0; i < n; i++)
            flen[i] = unescape(f[i]);
        int before = tap_failures;
        fn(f, flen, n, where);
        if (tap_failures != before)
            fprintf(stderr, "  at %s\n", where);
        cases++;
    }
    free(data);
    printf("%s: %d cases\n", name, cases);
    CHECK(cases > 0);
}

/* want is "error: TEXT": rc must be -1 and err contain TEXT; else rc 0. */
static void check_outcome(int rc, const char *err, const char *want, const char *got,
                          const char *where)
{
    if (strncmp(want, "error: ", 7) == 0) {
        CHECK_INT(rc, -1);
        CHECK(strstr(err, want + 7) != NULL);
        if (!strstr(err, want + 7))
            fprintf(stderr, "  %s: error \"%s\" lacks \"%s\"\n", where, err, want + 7);
    } else {
        CHECK_INT(rc, 0);
        if (rc != 0)
            fprintf(stderr, "  %s: unexpected error \"%s\"\n", where, err);
        else if (got)
            CHECK_STR(got, want);
    }
}

static void row_url(char **f, size_t *len, int nf, const char *where)
{
    struct fleet_url u;
    char err[KT_ERR_MAX] = "", got[512];
    int rc = fleet_conf_parse_url(f[0], &u, err, sizeof err);
    snprintf(got, sizeof got, "%d %s %d", u.tls, u.host, u.port);
    check_outcome(rc, err, f[1], got, where);
}

static void row_name(char **f, size_t *len, int nf, const char *where)
{
    char err[KT_ERR_MAX] = "";
    int rc;
    if (strcmp(f[0], "prefix") == 0)
        rc = fleet_conf_check_prefix(f[1], err, sizeof err);
    else if (strcmp(f[0], "id") == 0)
        rc = fleet_conf_check_id(f[1], len[1], err, sizeof err);
    else
        rc = fleet_conf_check_name(f[0], f[1], err, sizeof err);
    check_outcome(rc, err, f[2], NULL, where);
}

static void row_groups(char **f, size_t *len, int nf, const char *where)
{
    char **g, err[KT_ERR_MAX] = "";
    size_t n;
    int rc = fleet_conf_parse_groups(f[0], &g, &n, err, sizeof err);
    struct kt_buf b;
    kt_buf_init(&b);
    for (size_t i = 0; rc == 0 && i < n; i++)
        kt_buf_printf(&b, "%s%s", i ? "|" : "", g[i]);
    if (rc == 0 && n == 0)
        kt_buf_puts(&b, "(none)");
    check_outcome(rc, err, f[1], b.data ? b.data : "", where);
    if (rc != 0)
        CHECK(g == NULL && n == 0);
    kt_buf_free(&b);
    fleet_conf_free_groups(g, n);
}

static void row_template(char **f, size_t *len, int nf, const char *where)
{
    char *out, err[KT_ERR_MAX] = "";
    int rc = fleet_conf_expand_url(f[0], f[1], f[2], &out, err, sizeof err);
    check_outcome(rc, err, f[3], out, where);
    free(out);
}

static void row_topic(char **f, size_t *len, int nf, const char *where)
{
    char *groups[] = {"lobby", "building-3"};
    struct fleet_topic t;
    char err[KT_ERR_MAX] = "", got[512];
    int rc = fleet_proto_classify("kiosk-ticker", "kiosk-1", groups, 2, f[0], &t, err, sizeof err);
    if (t.kind == FLEET_TOPIC_MESSAGE)
        snprintf(got, sizeof got, "message %s %.*s", t.scope, (int)t.id_len, t.id ? t.id : "");
    else
        snprintf(got, sizeof got, "command %s", t.scope);
    check_outcome(rc, err, f[1], got, where);
}

static void row_command(char **f, size_t *len, int nf, const char *where)
{
    enum fleet_command cmd = FLEET_CMD_RELOAD;
    char err[KT_ERR_MAX] = "";
    int rc = fleet_proto_parse_command(f[0], len[0], &cmd, err, sizeof err);
    check_outcome(rc, err, f[1], fleet_proto_command_name(cmd), where);
}

static void row_status(char **f, size_t *len, int nf, const char *where)
{
    int rc;
    char err[KT_ERR_MAX] = "";
    char *out = fleet_proto_status(strcmp(f[0], "(null)") ? f[0] : NULL, &rc, err, sizeof err);
    check_outcome(rc, err, f[1], out, where);
    if (rc != 0)
        CHECK_STR(out, "{\"online\":true}");
    free(out);
}

static char *write_file(const char *name, const char *text, mode_t mode)
{
    const char *tmp = getenv("TMPDIR");
    char *path = kt_asprintf("%s/kt-fleet-%d-%s", tmp ? tmp : "/tmp", (int)getpid(), name);
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
    chmod(path, mode);
    return path;
}

static void test_password_file(void)
{
    char *pw, err[KT_ERR_MAX];
    char *ok = write_file("pw-ok", "s3cret pass\n", 0600);
    CHECK_INT(fleet_conf_read_password(ok, &pw, err, sizeof err), 0);
    CHECK_STR(pw, "s3cret pass"); /* spaces stay, the final newline goes */
    free(pw);
    char *crlf = write_file("pw-crlf", "x\r\n", 0400);
    CHECK_INT(fleet_conf_read_password(crlf, &pw, err, sizeof err), 0);
    CHECK_STR(pw, "x");
    free(pw);

    static const struct {
        mode_t mode;
        const char *text, *want;
    } bad[] = {
        {0644, "x\n", "mode 0644 lets group or others access it"},
        {0640, "x\n", "mode 0640"},
        {0604, "x\n", "chmod 600"},
        {0620, "x\n", "mode 0620"},
        {0600, "\n", "on one line"},
        {0600, "", "on one line"},
        {0600, "a\nb\n", "on one line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *p = write_file("pw-bad", bad[i].text, bad[i].mode);
        pw = (char *)"untouched";
        CHECK_INT(fleet_conf_read_password(p, &pw, err, sizeof err), -1);
        CHECK(pw == NULL);
        CHECK(strstr(err, bad[i].want) != NULL);
        if (!strstr(err, bad[i].want))
            fprintf(stderr, "  password case %zu: \"%s\"\n", i, err);
        unlink(p);
        free(p);
    }
    CHECK_INT(fleet_conf_read_password("/nonexistent/pw", &pw, err, sizeof err), -1);
    CHECK(strstr(err, "No such file") != NULL);
    CHECK_INT(fleet_conf_read_password("/tmp", &pw, err, sizeof err), -1);
    CHECK(strstr(err, "not a regular file") != NULL);
    char big[FLEET_PASSWORD_MAX + 10];
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *large = write_file("pw-large", big, 0600);
    CHECK_INT(fleet_conf_read_password(large, &pw, err, sizeof err), -1);
    CHECK(strstr(err, "larger than") != NULL);
    unlink(ok);
    unlink(crlf);
    unlink(large);
    free(ok);
    free(crlf);
    free(large);
}

static void test_validate(void)
{
    char err[KT_ERR_MAX];
    char *groups[] = {"lobby", "lobby"};
    struct fleet_settings s = {.mqtt = "mqtt://broker"};
    CHECK_INT(fleet_conf_validate(&s, err, sizeof err), 0);
    struct {
        struct fleet_settings s;
        const char *want;
    } bad[] = {
        {{.mqtt = NULL}, "mqtt: empty URL"},
        {{.mqtt = "mqtt://b", .ca_file = "/etc/ca.pem"}, "ca_file: only used with an mqtts://"},
        {{.mqtt = "mqtt://b", .screen_id = "a/b"}, "screen_id:"},
        {{.mqtt = "mqtt://b", .groups = groups, .n_groups = 2},
         "groups: \"lobby\" is listed twice"},
        {{.mqtt = "mqtt://b", .topic_prefix = "#"}, "topic_prefix:"},
        {{.mqtt = "mqtt://b", .keepalive = 2}, "keepalive: 2 s is outside 5 to 3600 s"},
        {{.mqtt = "mqtt://b", .keepalive = 7200}, "keepalive:"},
        {{.mqtt = "mqtt://b", .username = ""}, "username:"},
        {{.mqtt = "mqtt://b", .password_file = ""}, "password_file: empty"},
        {{.mqtt = "mqtt://b", .config_url = "https://x/%q"}, "config_url: unknown escape '%q'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        CHECK_INT(fleet_conf_validate(&bad[i].s, err, sizeof err), -1);
        CHECK(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0);
        if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
            fprintf(stderr, "  validate case %zu: \"%s\"\n", i, err);
    }
    struct fleet_settings full = {.mqtt = "mqtts://b:8884",
                                  .ca_file = "/etc/ca.pem",
                                  .username = "kiosk-1",
                                  .password_file = "/etc/kiosk-ticker/mqtt.pw",
                                  .screen_id = "kiosk-1",
                                  .groups = groups,
                                  .n_groups = 1,
                                  .topic_prefix = "acme/signage",
                                  .keepalive = 60,
                                  .config_url = "https://cms/%i.conf"};
    CHECK_INT(fleet_conf_validate(&full, err, sizeof err), 0);

    char host[FLEET_NAME_MAX + 1];
    if (fleet_conf_host_name(host, sizeof host, err, sizeof err) == 0)
        CHECK_INT(fleet_conf_check_name("screen_id", host, err, sizeof err), 0);
    else
        CHECK(strstr(err, "set screen_id") != NULL);
}

static void test_topics(void)
{
    char *groups[] = {"lobby", "building-3"};
    struct fleet_topics t;
    fleet_topics_init(&t, "kiosk-ticker", "kiosk-1", groups, 2);
    CHECK_INT(t.n_subs, 8);
    const char *want[] = {"kiosk-ticker/all/messages/+",
                          "kiosk-ticker/all/command",
                          "kiosk-ticker/group/lobby/messages/+",
                          "kiosk-ticker/group/lobby/command",
                          "kiosk-ticker/group/building-3/messages/+",
                          "kiosk-ticker/group/building-3/command",
                          "kiosk-ticker/screen/kiosk-1/messages/+",
                          "kiosk-ticker/screen/kiosk-1/command"};
    for (size_t i = 0; i < t.n_subs && i < 8; i++)
        CHECK_STR(t.subs[i], want[i]);
    CHECK_STR(t.status, "kiosk-ticker/screen/kiosk-1/status");
    CHECK_STR(t.screenshot, "kiosk-ticker/screen/kiosk-1/screenshot");
    /* Every subscription's own topic shape classifies back to its scope. */
    char err[KT_ERR_MAX];
    for (size_t i = 0; i < t.n_subs; i++) {
        char *topic = kt_strdup(t.subs[i]);
        size_t n = strlen(topic);
        if (topic[n - 1] == '+')
            topic[n - 1] = 'x';
        struct fleet_topic c;
        CHECK_INT(
            fleet_proto_classify("kiosk-ticker", "kiosk-1", groups, 2, topic, &c, err, sizeof err),
            0);
        free(topic);
    }
    fleet_topics_free(&t);
}

static void test_backoff(void)
{
    uint64_t rng = 42;
    /* Within [base/2, base] of the capped doubling, for every attempt. */
    for (int attempt = 0; attempt < 40; attempt++) {
        int64_t base = 1000;
        for (int i = 0; i < attempt && base < 60000; i++)
            base *= 2;
        if (base > 60000)
            base = 60000;
        int64_t lo = INT64_MAX, hi = 0;
        for (int k = 0; k < 2000; k++) {
            int64_t d = fleet_proto_backoff_ms(attempt, 1000, 60000, &rng);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        CHECK(lo >= base / 2);
        CHECK(hi <= base);
        CHECK(hi <= 60000);
        /* The jitter spreads: 2000 draws cover most of the interval. */
        CHECK(hi - lo >= (base / 2) * 8 / 10);
    }
    /* Two screens seeded differently do not retry in lockstep. */
    uint64_t a = 1, b = 2;
    int same = 0;
    for (int k = 0; k < 100; k++)
        same += fleet_proto_backoff_ms(3, 1000, 60000, &a) ==
                fleet_proto_backoff_ms(3, 1000, 60000, &b);
    CHECK(same < 10);
    /* min above max: the cap wins. */
    CHECK(fleet_proto_backoff_ms(0, 5000, 2000, &rng) <= 2000);
}

static void test_bucket(void)
{
    struct fleet_bucket b;
    fleet_bucket_init(&b, 10, 5, 0);
    int64_t t = 0;
    for (int i = 0; i < 5; i++)
        CHECK_INT(fleet_bucket_take(&b, t), 0); /* the burst */
    /* Then one per 100 ms: a caller that waits as told gets exactly the
     * rate, however the messages arrive. */
    int64_t waited = 0;
    for (int i = 0; i < 50; i++) {
        int64_t w = fleet_bucket_take(&b, t);
        CHECK(w >= 0 && w <= 101);
        t += w;
        waited += w;
    }
    CHECK(waited >= 4950 && waited <= 5050);
    /* A long pause refills up to the burst, not more. */
    t += 60000;
    int free_takes = 0;
    while (fleet_bucket_take(&b, t) == 0)
        free_takes++;
    CHECK_INT(free_takes, 5);
}

static void test_once(void)
{
    struct fleet_once o = {0};
    bool full;
    CHECK(fleet_once_first(&o, "a/b", &full) && !full);
    CHECK(!fleet_once_first(&o, "a/b", &full));
    fleet_once_forget(&o, "a/b");
    CHECK(fleet_once_first(&o, "a/b", &full)); /* logged again after it worked */
    char key[32];
    for (int i = 0; i < FLEET_ONCE_MAX + 50; i++) {
        snprintf(key, sizeof key, "t/%d", i);
        fleet_once_first(&o, key, &full);
    }
    CHECK_INT(o.n, FLEET_ONCE_MAX);
    CHECK(o.full_noted);
    CHECK(!fleet_once_first(&o, "new/one", &full)); /* full: silent */
    fleet_once_clear(&o);
    CHECK_INT(o.n, 0);
}

int main(void)
{
    run_table("urls.tsv", 2, row_url);
    run_table("names.tsv", 3, row_name);
    run_table("groups.tsv", 2, row_groups);
    run_table("templates.tsv", 4, row_template);
    run_table("topics.tsv", 2, row_topic);
    run_table("commands.tsv", 2, row_command);
    run_table("status.tsv", 2, row_status);
    test_password_file();
    test_validate();
    test_topics();
    test_backoff();
    test_bucket();
    test_once();
    return tap_done();
}
