/*
 * test_cap: the CAP parser and the alert selection.
 *
 * Parse cases, data-driven over tests/data/cap/: a case is NAME.expected
 * next to one document NAME.xml and an optional NAME.meta ("base_url: …").
 * NAME.expected is either
 *   @error MESSAGE        cap_parse must fail with exactly this message
 *   @error-match PATTERN  … with a message matching PATTERN ('*' = any run)
 * or the dump of the parsed document, line for line (cap_dump below; '#'
 * lines are comments).
 *
 * Selection scenarios, tests/data/cap/select/NAME.scenario, one command a
 * line ('#' comments):
 *   section KEY=VALUE…   name label min_severity language areas show_tests
 *                        max_no_expiry (a fresh tracker starts)
 *   refresh TIME FILE…   the documents (of tests/data/cap/) listed now
 *   active TIME          followed by the expected alerts, one a line,
 *                        ID<TAB>SEVERITY<TAB>LABEL<TAB>EFFECTIVE<TAB>EXPIRES<TAB>TEXT
 *                        up to a line "end"
 *   next TIME WANT       cap_tracker_next_change(TIME) ("-" = 0)
 *
 * Then hostile documents generated here (bounds on attributes, names,
 * elements, counts and text).
 */
#include "cap.h"
#include "date.h"
#include "filter.h"
#include "tap.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *tc_data;

static bool tc_match(const char *pat, const char *s)
{
    if (*pat == '\0')
        return *s == '\0';
    if (*pat == '*') {
        for (const char *t = s;; t++) {
            if (tc_match(pat + 1, t))
                return true;
            if (*t == '\0')
                return false;
        }
    }
    return *s == *pat && tc_match(pat + 1, s + 1);
}

static char *tc_read(const char *path, size_t *len)
{
    char *data = NULL, err[KT_ERR_MAX];
    size_t n = 0;
    if (kt_read_file(path, 32u << 20, &data, &n, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    if (len)
        *len = n;
    return data;
}

static void tc_put(struct kt_buf *b, const char *key, const char *v)
{
    kt_buf_printf(b, " | %s=", key);
    for (const char *p = v ? v : "-"; *p; p++) {
        if (*p == '\n')
            kt_buf_puts(b, "\\n");
        else
            kt_buf_putc(b, *p);
    }
}

static void tc_time(struct kt_buf *b, const char *key, int64_t t)
{
    char s[32] = "-";
    if (t)
        date_format(t, s, sizeof s);
    tc_put(b, key, s);
}

static void cap_dump(const struct cap_doc *doc, struct kt_buf *b)
{
    kt_buf_printf(b, "index %s\n", doc->index ? "yes" : "no");
    for (size_t i = 0; i < doc->n_alerts; i++) {
        const struct cap_alert *a = &doc->alerts[i];
        kt_buf_puts(b, "alert");
        tc_put(b, "id", a->identifier);
        tc_put(b, "sender", a->sender);
        tc_time(b, "sent", a->sent);
        tc_put(b, "status", cap_status_name(a->status));
        tc_put(b, "type", cap_msg_type_name(a->msg_type));
        tc_put(b, "scope", a->scope);
        kt_buf_putc(b, '\n');
        for (size_t r = 0; r < a->n_refs; r++) {
            kt_buf_puts(b, "  ref");
            tc_put(b, "sender", a->refs[r].sender);
            tc_put(b, "id", a->refs[r].identifier);
            tc_time(b, "sent", a->refs[r].sent);
            kt_buf_putc(b, '\n');
        }
        for (size_t f = 0; f < a->n_infos; f++) {
            const struct cap_info *in = &a->infos[f];
            kt_buf_puts(b, "  info");
            tc_put(b, "lang", in->language);
            tc_put(b, "event", in->event);
            tc_put(b, "urgency", in->urgency);
            tc_put(b, "severity", alert_severity_name(in->severity));
            tc_put(b, "certainty", in->certainty);
            tc_time(b, "effective", in->effective);
            tc_time(b, "onset", in->onset);
            tc_time(b, "expires", in->expires);
            kt_buf_putc(b, '\n');
            kt_buf_puts(b, "   ");
            tc_put(b, "senderName", in->sender_name);
            tc_put(b, "headline", in->headline);
            kt_buf_putc(b, '\n');
            kt_buf_puts(b, "   ");
            tc_put(b, "description", in->description);
            kt_buf_putc(b, '\n');
            kt_buf_puts(b, "   ");
            tc_put(b, "instruction", in->instruction);
            kt_buf_putc(b, '\n');
            for (size_t r = 0; r < in->n_areas; r++) {
                const struct cap_area *ar = &in->areas[r];
                kt_buf_puts(b, "    area");
                tc_put(b, "desc", ar->desc);
                for (size_t g = 0; g < ar->n_geocodes; g++) {
                    tc_put(b, "geocode", ar->geocodes[g].name);
                    kt_buf_printf(b, "=%s", ar->geocodes[g].value ? ar->geocodes[g].value : "-");
                }
                kt_buf_putc(b, '\n');
            }
            char *text = cap_alert_text(in);
            kt_buf_printf(b, "   text %s\n", text);
            free(text);
        }
    }
    for (size_t i = 0; i < doc->n_links; i++)
        kt_buf_printf(b, "link %s\n", doc->links[i]);
    if (doc->n_invalid)
        kt_buf_printf(b, "invalid %zu %s\n", doc->n_invalid, doc->invalid_reason);
    if (doc->n_dropped)
        kt_buf_printf(b, "dropped %zu\n", doc->n_dropped);
}

/* Compares got with the expected text, '#' lines of want skipped; prints
 * the first difference. */
static void tc_compare(const char *name, const char *got, const char *want_file)
{
    struct kt_buf w;
    kt_buf_init(&w);
    for (const char *l = want_file; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        if (l[0] != '#')
            kt_buf_printf(&w, "%.*s\n", (int)n, l);
        l += n + (e ? 1 : 0);
    }
    const char *want = w.data ? w.data : "";
    tap_checks++;
    if (strcmp(got, want) != 0) {
        tap_failures++;
        const char *g = got, *x = want;
        int line = 1;
        while (*g && *g == *x) {
            line += *g == '\n';
            g++;
            x++;
        }
        fprintf(stderr, "%s: dump differs at line %d\n  got:  %.200s\n  want: %.200s\n", name, line,
                g, x);
    }
    kt_buf_free(&w);
}

static void tc_parse_case(const char *dir, const char *name, const char *docname)
{
    char *path = kt_asprintf("%s/%s", dir, docname);
    size_t len;
    char *data = tc_read(path, &len);
    free(path);
    path = kt_asprintf("%s/%s.expected", dir, name);
    char *want = tc_read(path, NULL);
    free(path);
    CHECK(data != NULL && want != NULL);
    if (!data || !want) {
        free(data);
        free(want);
        return;
    }
    char *base = NULL;
    path = kt_asprintf("%s/%s.meta", dir, name);
    if (access(path, F_OK) == 0) {
        char *meta = tc_read(path, NULL);
        if (meta && kt_str_has_prefix(meta, "base_url: ")) {
            base = kt_strdup(meta + 10);
            base[strcspn(base, "\n")] = '\0';
        } else {
            fprintf(stderr, "%s.meta: unknown content\n", name);
            CHECK(!"bad meta");
        }
        free(meta);
    }
    free(path);

    struct cap_doc doc;
    char err[KT_ERR_MAX] = "";
    int rc = cap_parse(data, len, base, &doc, err, sizeof err);
    char *wline = want;
    while (*wline == '#') {
        char *e = strchr(wline, '\n');
        wline = e ? e + 1 : wline + strlen(wline);
    }
    if (kt_str_has_prefix(wline, "@error")) {
        bool pattern = kt_str_has_prefix(wline, "@error-match ");
        char *msg = wline + (pattern ? 13 : 7);
        msg[strcspn(msg, "\n")] = '\0';
        if (rc == 0)
            fprintf(stderr, "%s: parsed, expected error \"%s\"\n", name, msg);
        CHECK(rc == -1);
        if (rc == -1) {
            if (pattern) {
                if (!tc_match(msg, err))
                    fprintf(stderr, "%s: error \"%s\" does not match \"%s\"\n", name, err, msg);
                CHECK(tc_match(msg, err));
            } else {
                CHECK_STR(err, msg);
            }
            CHECK(strchr(err, '\n') == NULL);
        } else {
            cap_doc_free(&doc);
        }
    } else {
        if (rc != 0)
            fprintf(stderr, "%s: %s\n", name, err);
        CHECK(rc == 0);
        if (rc == 0) {
            struct kt_buf b;
            kt_buf_init(&b);
            cap_dump(&doc, &b);
            tc_compare(name, b.data ? b.data : "", want);
            if (getenv("KT_TEST_DUMP") && strcmp(getenv("KT_TEST_DUMP"), name) == 0)
                fputs(b.data, stdout);
            kt_buf_free(&b);
            cap_doc_free(&doc);
        }
    }
    free(base);
    free(data);
    free(want);
}

static int tc_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t tc_list(const char *dir, const char *suffix, char ***out)
{
    DIR *d = opendir(dir);
    size_t n = 0, cap = 0;
    char **v = NULL;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t l = strlen(de->d_name), s = strlen(suffix);
        if (l > s && strcmp(de->d_name + l - s, suffix) == 0) {
            if (n == cap)
                v = kt_realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
            v[n++] = kt_strndup(de->d_name, l - s);
        }
    }
    if (d)
        closedir(d);
    if (n)
        qsort(v, n, sizeof *v, tc_cmp_str);
    *out = v;
    return n;
}

static void tc_parse_cases(void)
{
    char *dir = kt_asprintf("%s/cap", tc_data);
    char **names;
    size_t n = tc_list(dir, ".expected", &names);
    CHECK(n >= 25);
    for (size_t i = 0; i < n; i++) {
        char *doc = kt_asprintf("%s.xml", names[i]);
        char *p = kt_asprintf("%s/%s", dir, doc);
        if (access(p, F_OK) != 0) {
            fprintf(stderr, "%s: no %s\n", names[i], doc);
            CHECK(!"case without a document");
        } else {
            tc_parse_case(dir, names[i], doc);
        }
        free(p);
        free(doc);
        free(names[i]);
    }
    free(names);
    free(dir);
}

/* ---- selection scenarios ---- */

struct tc_scenario {
    const char *file;
    int line;
    struct cap_section sec;
    char *strs[4]; /* name, label, language, areas */
    struct filter *areas;
    struct cap_tracker *t;
    struct cap_doc docs[16];
    size_t n_docs;
};

static void tc_docs_free(struct tc_scenario *s)
{
    for (size_t i = 0; i < s->n_docs; i++)
        cap_doc_free(&s->docs[i]);
    s->n_docs = 0;
}

static void tc_section_free(struct tc_scenario *s)
{
    for (int i = 0; i < 4; i++) {
        free(s->strs[i]);
        s->strs[i] = NULL;
    }
    filter_free(s->areas);
    s->areas = NULL;
    cap_tracker_free(s->t);
    s->t = NULL;
}

static int64_t tc_date(struct tc_scenario *s, const char *v)
{
    int64_t t = 0;
    if (strcmp(v, "-") != 0 && !date_parse(v, &t)) {
        fprintf(stderr, "%s:%d: bad time %s\n", s->file, s->line, v);
        CHECK(!"bad time");
    }
    return t;
}

static void tc_section(struct tc_scenario *s, char *args)
{
    tc_section_free(s);
    memset(&s->sec, 0, sizeof s->sec);
    s->sec.min_severity = ALERT_MODERATE;
    for (char *kv = strtok(args, " "); kv; kv = strtok(NULL, " ")) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *v = eq + 1;
        /* '~' stands for a space in values */
        char *val = kt_strdup(v);
        for (char *p = val; *p; p++)
            if (*p == '~')
                *p = ' ';
        if (strcmp(kv, "name") == 0) {
            s->strs[0] = val;
        } else if (strcmp(kv, "label") == 0) {
            s->strs[1] = val;
        } else if (strcmp(kv, "language") == 0) {
            s->strs[2] = val;
        } else if (strcmp(kv, "areas") == 0) {
            s->strs[3] = val;
            char err[KT_ERR_MAX];
            const char *pats[] = {val};
            s->areas = filter_new(pats, 1, err, sizeof err);
            CHECK(s->areas != NULL);
        } else if (strcmp(kv, "min_severity") == 0) {
            CHECK(alert_severity_parse(val, &s->sec.min_severity) == 0);
            free(val);
        } else if (strcmp(kv, "show_tests") == 0) {
            s->sec.show_tests = strcmp(val, "yes") == 0;
            free(val);
        } else if (strcmp(kv, "max_no_expiry") == 0) {
            s->sec.max_no_expiry = atoll(val);
            free(val);
        } else {
            fprintf(stderr, "%s:%d: unknown section key %s\n", s->file, s->line, kv);
            CHECK(!"unknown key");
            free(val);
        }
    }
    s->sec.name = s->strs[0] ? s->strs[0] : "alerts";
    s->sec.label = s->strs[1];
    s->sec.language = s->strs[2];
    s->sec.areas = s->areas;
    s->t = cap_tracker_new();
}

static void tc_refresh(struct tc_scenario *s, char *args)
{
    char *when = strtok(args, " ");
    int64_t now = when ? tc_date(s, when) : 0;
    tc_docs_free(s);
    const struct cap_alert *listed[256];
    size_t n = 0;
    for (char *f = strtok(NULL, " "); f && s->n_docs < 16; f = strtok(NULL, " ")) {
        char *path = kt_asprintf("%s/cap/%s", tc_data, f);
        size_t len;
        char *data = tc_read(path, &len), err[KT_ERR_MAX];
        free(path);
        struct cap_doc *d = &s->docs[s->n_docs];
        if (!data || cap_parse(data, len, NULL, d, err, sizeof err) != 0) {
            fprintf(stderr, "%s:%d: %s: %s\n", s->file, s->line, f, data ? err : "unreadable");
            CHECK(!"scenario document");
            free(data);
            continue;
        }
        free(data);
        s->n_docs++;
        for (size_t i = 0; i < d->n_alerts && n < 256; i++)
            listed[n++] = &d->alerts[i];
    }
    if (!s->t)
        tc_section(s, (char[]){""});
    cap_tracker_update(s->t, &s->sec, listed, n, now);
}

static void tc_active(struct tc_scenario *s, const char *when, FILE *f)
{
    int64_t now = tc_date(s, when);
    struct alert *list;
    size_t n = s->t ? cap_tracker_active(s->t, now, &list) : 0;
    if (!s->t)
        list = NULL;
    struct kt_buf got, want;
    kt_buf_init(&got);
    kt_buf_init(&want);
    for (size_t i = 0; i < n; i++) {
        char eff[32], exp[32] = "-";
        date_format(list[i].effective, eff, sizeof eff);
        if (list[i].expires)
            date_format(list[i].expires, exp, sizeof exp);
        kt_buf_printf(&got, "%s\t%s\t%s\t%s\t%s\t%s\n", list[i].id,
                      alert_severity_name(list[i].severity), list[i].label, eff, exp, list[i].text);
        CHECK_STR(list[i].source, s->sec.name);
        CHECK(uni_valid(list[i].text, strlen(list[i].text)));
    }
    char line[4096];
    int start = s->line;
    bool ended = false;
    while (fgets(line, sizeof line, f)) {
        s->line++;
        if (line[0] == '#')
            continue;
        if (strcmp(line, "end\n") == 0) {
            ended = true;
            break;
        }
        kt_buf_puts(&want, line);
    }
    CHECK(ended);
    tap_checks++;
    if (strcmp(got.data ? got.data : "", want.data ? want.data : "") != 0) {
        tap_failures++;
        fprintf(stderr, "%s:%d: active at %s\n  got:\n%s  want:\n%s", s->file, start, when,
                got.data ? got.data : "", want.data ? want.data : "");
    }
    kt_buf_free(&got);
    kt_buf_free(&want);
    alert_list_free(list, n);
}

static void tc_scenario(const char *dir, const char *name)
{
    char *path = kt_asprintf("%s/%s.scenario", dir, name);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    free(path);
    if (!f)
        return;
    struct tc_scenario s;
    memset(&s, 0, sizeof s);
    s.file = name;
    char line[4096];
    int steps = 0;
    while (fgets(line, sizeof line, f)) {
        s.line++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        steps++;
        if (kt_str_has_prefix(line, "section")) {
            tc_section(&s, line + 7);
        } else if (kt_str_has_prefix(line, "refresh ")) {
            tc_refresh(&s, line + 8);
        } else if (kt_str_has_prefix(line, "active ")) {
            tc_active(&s, line + 7, f);
        } else if (kt_str_has_prefix(line, "next ")) {
            char *when = strtok(line + 5, " "), *want = strtok(NULL, " ");
            CHECK(when && want && s.t);
            if (when && want && s.t) {
                int64_t got = cap_tracker_next_change(s.t, tc_date(&s, when));
                int64_t w = tc_date(&s, want);
                if (got != w)
                    fprintf(stderr, "%s:%d: next change\n", name, s.line);
                CHECK_INT(got, w);
            }
        } else {
            fprintf(stderr, "%s:%d: unknown command \"%s\"\n", name, s.line, line);
            CHECK(!"unknown scenario command");
        }
    }
    CHECK(steps > 0);
    fclose(f);
    tc_docs_free(&s);
    tc_section_free(&s);
}

static void tc_scenarios(void)
{
    char *dir = kt_asprintf("%s/cap/select", tc_data);
    char **names;
    size_t n = tc_list(dir, ".scenario", &names);
    CHECK(n >= 8);
    for (size_t i = 0; i < n; i++) {
        tc_scenario(dir, names[i]);
        free(names[i]);
    }
    free(names);
    free(dir);
}

/* ---- generated documents ---- */

#define ALERT_HEAD                                                                                 \
    "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"><identifier>G-1</identifier>"           \
    "<sender>g@example.org</sender><sent>2026-03-10T12:00:00Z</sent><status>Actual</status>"       \
    "<msgType>Alert</msgType><scope>Public</scope>"

static int tc_parse_buf(struct kt_buf *b, struct cap_doc *doc, char *err)
{
    err[0] = '\0';
    return cap_parse(b->data, b->len, "https://example.org/index.xml", doc, err, KT_ERR_MAX);
}

static double tc_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void tc_generated(void)
{
    struct kt_buf b;
    struct cap_doc doc;
    char err[KT_ERR_MAX];

    /* 100,000 attributes on one element: refused before libxml2 sees it */
    kt_buf_init(&b);
    kt_buf_puts(&b, "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"");
    for (int i = 0; i < 100000; i++)
        kt_buf_printf(&b, " a%d='%d'", i, i);
    kt_buf_puts(&b, "/>");
    CHECK(tc_parse_buf(&b, &doc, err) == -1);
    CHECK(tc_match("XML: more than 64 attributes in one element at line 1", err));
    kt_buf_free(&b);

    /* '=' inside quoted values and comments is not an attribute */
    kt_buf_init(&b);
    kt_buf_puts(&b, "<!-- a=b c=d e=f --><root x='");
    for (int i = 0; i < 200; i++)
        kt_buf_puts(&b, "=");
    kt_buf_puts(&b, "'/>");
    CHECK(tc_parse_buf(&b, &doc, err) == -1);
    CHECK_STR(err, "not a CAP document: root element <root> holds no CAP alert");
    kt_buf_free(&b);

    /* more distinct names than the bound */
    kt_buf_init(&b);
    kt_buf_puts(&b, "<root>");
    for (int i = 0; i < 600; i++)
        kt_buf_printf(&b, "<n%d/>", i);
    kt_buf_puts(&b, "</root>");
    CHECK(tc_parse_buf(&b, &doc, err) == -1);
    CHECK(tc_match("XML: more than 512 distinct names*", err));
    kt_buf_free(&b);

    /* more elements than the bound */
    kt_buf_init(&b);
    kt_buf_puts(&b, "<root>");
    for (int i = 0; i < CAP_MAX_ELEMENTS + 5; i++)
        kt_buf_puts(&b, "<x/>");
    kt_buf_puts(&b, "</root>");
    CHECK(tc_parse_buf(&b, &doc, err) == -1);
    CHECK_STR(err, "XML: more than 200000 elements");
    kt_buf_free(&b);

    /* count bounds: 40 infos, 300 areas, 1100 geocodes; the rest dropped */
    kt_buf_init(&b);
    kt_buf_puts(&b, ALERT_HEAD);
    for (int i = 0; i < 40; i++) {
        kt_buf_printf(&b, "<info><event>E%d</event>", i);
        if (i == 0) {
            for (int a = 0; a < 300; a++) {
                kt_buf_printf(&b, "<area><areaDesc>A%d</areaDesc>", a);
                for (int g = 0; a == 0 && g < 1100; g++)
                    kt_buf_printf(
                        &b, "<geocode><valueName>N</valueName><value>%d</value></geocode>", g);
                kt_buf_puts(&b, "</area>");
            }
        }
        kt_buf_puts(&b, "</info>");
    }
    kt_buf_puts(&b, "</alert>");
    CHECK(tc_parse_buf(&b, &doc, err) == 0);
    if (doc.n_alerts == 1) {
        const struct cap_alert *a = &doc.alerts[0];
        CHECK_INT(a->n_infos, CAP_MAX_INFOS);
        CHECK_INT(a->infos[0].n_areas, CAP_MAX_AREAS);
        CHECK_INT(a->infos[0].areas[0].n_geocodes, CAP_MAX_GEOCODES);
        CHECK_STR(a->infos[CAP_MAX_INFOS - 1].event, "E31");
        CHECK_INT(doc.n_dropped,
                  (40 - CAP_MAX_INFOS) + (300 - CAP_MAX_AREAS) + (1100 - CAP_MAX_GEOCODES));
    }
    CHECK_INT(doc.n_alerts, 1);
    cap_doc_free(&doc);
    kt_buf_free(&b);

    /* a description of 100,000 two-byte characters is cut at a character
     * boundary within CAP_MAX_LONG bytes; the shown text within its bound */
    kt_buf_init(&b);
    kt_buf_puts(&b, ALERT_HEAD "<info><event>Long</event><description>");
    for (int i = 0; i < 100000; i++)
        kt_buf_puts(&b, i % 7 ? "\xC3\xA9" : " ");
    kt_buf_puts(&b, "</description><headline>");
    for (int i = 0; i < 5000; i++)
        kt_buf_puts(&b, "ab ");
    kt_buf_puts(&b, "</headline></info></alert>");
    CHECK(tc_parse_buf(&b, &doc, err) == 0);
    if (doc.n_alerts == 1 && doc.alerts[0].n_infos == 1) {
        const struct cap_info *in = &doc.alerts[0].infos[0];
        size_t n = strlen(in->description);
        CHECK(n <= CAP_MAX_LONG && n > CAP_MAX_LONG - 8);
        CHECK(uni_valid(in->description, n));
        CHECK(strlen(in->headline) <= CAP_MAX_HEADLINE);
        char *t = cap_alert_text(in);
        CHECK(uni_count(t, strlen(t)) <= ALERT_TEXT_MAX);
        CHECK(uni_valid(t, strlen(t)));
        free(t);
    }
    cap_doc_free(&doc);
    kt_buf_free(&b);

    /* an index with more links than the bound */
    kt_buf_init(&b);
    kt_buf_puts(&b, "<feed xmlns='http://www.w3.org/2005/Atom'>");
    for (int i = 0; i < CAP_MAX_LINKS + 100; i++)
        kt_buf_printf(&b, "<entry><link href='cap/%d.xml'/></entry>", i);
    kt_buf_puts(&b, "</feed>");
    CHECK(tc_parse_buf(&b, &doc, err) == 0);
    CHECK_INT(doc.n_links, CAP_MAX_LINKS);
    CHECK_INT(doc.n_dropped, 100);
    if (doc.n_links)
        CHECK_STR(doc.links[0], "https://example.org/cap/0.xml");
    cap_doc_free(&doc);
    kt_buf_free(&b);

    /* over the size bound, refused without parsing */
    kt_buf_init(&b);
    kt_buf_reserve(&b, CAP_MAX_DOC + 1);
    memset(b.data, ' ', CAP_MAX_DOC + 1);
    b.len = CAP_MAX_DOC + 1;
    CHECK(tc_parse_buf(&b, &doc, err) == -1);
    CHECK(tc_match("document of * bytes, at most *", err));
    kt_buf_free(&b);

    /* Many similar names cost no more than a few: libxml2's name
     * dictionary stays small. Ratio of two documents of the same size in
     * one run, so the load of the machine cancels out. */
    struct kt_buf many, few;
    kt_buf_init(&many);
    kt_buf_init(&few);
    kt_buf_puts(&many, "<root>");
    kt_buf_puts(&few, "<root>");
    for (int i = 0; i < 150000; i++) {
        kt_buf_printf(&many, "<name_with_a_long_prefix_%03d_x/>", i % 500);
        kt_buf_printf(&few, "<name_with_a_long_prefix_%03d_x/>", i % 5);
    }
    kt_buf_puts(&many, "</root>");
    kt_buf_puts(&few, "</root>");
    double t_few = 1e9, t_many = 1e9;
    for (int r = 0; r < 3; r++) {
        double t0 = tc_clock();
        tc_parse_buf(&few, &doc, err);
        double t1 = tc_clock();
        tc_parse_buf(&many, &doc, err);
        double t2 = tc_clock();
        if (t1 - t0 < t_few)
            t_few = t1 - t0;
        if (t2 - t1 < t_many)
            t_many = t2 - t1;
    }
    printf("150,000 elements: 5 names %.1f ms, 500 names %.1f ms\n", t_few * 1e3, t_many * 1e3);
    CHECK(t_many < 4 * t_few + 0.05);
    kt_buf_free(&many);
    kt_buf_free(&few);
}

/* The pieces of the selection that scenarios do not isolate. */
static void tc_pieces(void)
{
    struct cap_alert a;
    struct cap_info infos[3];
    memset(&a, 0, sizeof a);
    memset(infos, 0, sizeof infos);
    infos[0].language = "fr-CA";
    infos[1].language = "en-CA";
    infos[2].language = NULL; /* CAP's default: en-US */
    a.infos = infos;
    a.n_infos = 3;
    CHECK(cap_pick_info(&a, "en") == &infos[1]);
    CHECK(cap_pick_info(&a, "EN-ca") == &infos[1]);
    CHECK(cap_pick_info(&a, "en-US") == &infos[2]);
    CHECK(cap_pick_info(&a, "e") == &infos[0]); /* "e" is no prefix of a subtag */
    CHECK(cap_pick_info(&a, "de") == &infos[0]);
    CHECK(cap_pick_info(&a, NULL) == &infos[0]);
    a.n_infos = 0;
    CHECK(cap_pick_info(&a, "en") == NULL);

    struct cap_info in;
    memset(&in, 0, sizeof in);
    in.event = "Flood Warning";
    char *t = cap_alert_text(&in);
    CHECK_STR(t, "Flood Warning");
    free(t);
    in.description = "The river\nis rising fast. More later.";
    in.instruction = "\n\nMove to higher ground now!\nDo not drive.";
    t = cap_alert_text(&in);
    CHECK_STR(t, "Flood Warning \xE2\x80\x94 The river is rising fast. Move to higher ground now!");
    free(t);
    in.headline = "Flood Warning for the river.";
    in.description = "Flood Warning for the river.";
    in.instruction = NULL;
    t = cap_alert_text(&in);
    CHECK_STR(t, "Flood Warning for the river.");
    free(t);
}

int main(void)
{
    tc_data = getenv("KT_TEST_DATA");
    if (!tc_data) {
        fprintf(stderr, "KT_TEST_DATA not set\n");
        return 1;
    }
    tc_parse_cases();
    tc_scenarios();
    tc_generated();
    tc_pieces();
    return tap_done();
}
