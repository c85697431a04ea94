/*
 * fuzz_cap: bytes in, alerts on screen out, through the real code paths:
 * the byte pre-scan, libxml2's strict SAX parse under the xml_safe rules,
 * the CAP walk, then the selection (two refreshes of a tracker) under a
 * section whose settings come from the input's length, so the seeds (real
 * CAP documents and indexes) are used as they are.
 *
 * Contracts: a failure has a one-line reason; every string is UTF-8 and
 * within its bound; links are absolute and unique; counts within bounds;
 * the shown alerts are in display order, active at the time asked, with
 * non-empty UTF-8 text of at most ALERT_TEXT_MAX characters.
 */
#include "fuzz.h"

#include <string.h>

#include "cap.h"
#include "filter.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

static struct filter *fuzz_areas;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static const char *const pats[] = {"^(0400|UKJ)|county|city"};
    char err[KT_ERR_MAX];
    fuzz_areas = filter_new(pats, 1, err, sizeof err);
    if (!fuzz_areas)
        abort();
    return 0;
}

static void fuzz_str(const char *s, size_t max, const char *what)
{
    if (!s)
        return;
    size_t n = strlen(s);
    FUZZ_CHECK(n <= max, "%s of %zu bytes, bound %zu", what, n, max);
    FUZZ_CHECK(uni_valid(s, n), "%s is not UTF-8", what);
}

static void fuzz_check_doc(const struct cap_doc *doc)
{
    FUZZ_CHECK(doc->n_alerts <= CAP_MAX_ALERTS, "too many alerts");
    FUZZ_CHECK(doc->n_links <= CAP_MAX_LINKS, "too many links");
    for (size_t i = 0; i < doc->n_links; i++) {
        FUZZ_CHECK(kt_url_scheme_len(doc->links[i]) > 0, "relative link %s", doc->links[i]);
        for (size_t k = 0; k < i; k++)
            FUZZ_CHECK(strcmp(doc->links[i], doc->links[k]) != 0, "duplicate link");
    }
    for (size_t i = 0; i < doc->n_alerts; i++) {
        const struct cap_alert *a = &doc->alerts[i];
        FUZZ_CHECK(a->identifier && a->sender && a->sent > 0, "alert without its keys");
        fuzz_str(a->identifier, CAP_MAX_SHORT, "identifier");
        fuzz_str(a->sender, CAP_MAX_SHORT, "sender");
        FUZZ_CHECK(a->n_infos <= CAP_MAX_INFOS && a->n_refs <= CAP_MAX_REFS, "counts");
        for (size_t f = 0; f < a->n_infos; f++) {
            const struct cap_info *in = &a->infos[f];
            fuzz_str(in->headline, CAP_MAX_HEADLINE, "headline");
            fuzz_str(in->event, CAP_MAX_HEADLINE, "event");
            fuzz_str(in->description, CAP_MAX_LONG, "description");
            fuzz_str(in->instruction, CAP_MAX_LONG, "instruction");
            fuzz_str(in->sender_name, CAP_MAX_HEADLINE, "senderName");
            FUZZ_CHECK(in->n_areas <= CAP_MAX_AREAS, "areas");
            for (size_t r = 0; r < in->n_areas; r++) {
                fuzz_str(in->areas[r].desc, CAP_MAX_HEADLINE, "areaDesc");
                FUZZ_CHECK(in->areas[r].n_geocodes <= CAP_MAX_GEOCODES, "geocodes");
            }
        }
    }
}

static void fuzz_check_active(struct cap_tracker *t, int64_t now)
{
    struct alert *list;
    size_t n = cap_tracker_active(t, now, &list);
    for (size_t i = 0; i < n; i++) {
        const struct alert *a = &list[i];
        size_t len = strlen(a->text);
        FUZZ_CHECK(len > 0, "empty alert text");
        FUZZ_CHECK(uni_valid(a->text, len), "alert text is not UTF-8");
        FUZZ_CHECK(uni_count(a->text, strlen(a->text)) <= ALERT_TEXT_MAX, "alert text too long");
        FUZZ_CHECK(a->label && uni_valid(a->label, strlen(a->label)), "label");
        FUZZ_CHECK(alert_active(a, now), "inactive alert shown");
        if (i)
            FUZZ_CHECK(alert_compare(&list[i - 1], a) <= 0, "not in display order");
    }
    int64_t next = cap_tracker_next_change(t, now);
    FUZZ_CHECK(next == 0 || next > now, "next change in the past");
    alert_list_free(list, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_areas)
        LLVMFuzzerInitialize(NULL, NULL);
    struct cap_doc doc;
    char err[KT_ERR_MAX];
    err[0] = '\0';
    const char *base = size & 1 ? "https://alerts.example.org/feeds/index.atom" : NULL;
    if (cap_parse((const char *)data, size, base, &doc, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0', "a failed parse must say why");
        FUZZ_CHECK(strchr(err, '\n') == NULL, "one-line reason: %s", err);
        FUZZ_CHECK(uni_valid(err, strlen(err)), "reason is not UTF-8: %s", err);
        return 0;
    }
    fuzz_check_doc(&doc);

    static const char *const langs[] = {NULL, "en", "fr-CA", "de"};
    struct cap_section sec = {
        .name = "fuzz",
        .label = size & 2 ? "Label" : NULL,
        .min_severity = (enum alert_severity)(size % ALERT_SEVERITY_COUNT),
        .language = langs[(size >> 2) % 4],
        .areas = size & 16 ? fuzz_areas : NULL,
        .show_tests = size & 32,
        .max_no_expiry = size & 64 ? 3600 : 0,
    };
    const struct cap_alert **listed = kt_calloc(doc.n_alerts + 1, sizeof *listed);
    for (size_t i = 0; i < doc.n_alerts; i++)
        listed[i] = &doc.alerts[i];
    /* around the seeds' dates, then a day later with half the list */
    int64_t now = 1773144000; /* 2026-03-10T12:00:00Z */
    struct cap_tracker *t = cap_tracker_new();
    cap_tracker_update(t, &sec, listed, doc.n_alerts, now);
    fuzz_check_active(t, now);
    fuzz_check_active(t, now + 3 * 3600);
    cap_tracker_update(t, &sec, listed, doc.n_alerts / 2, now + 86400);
    fuzz_check_active(t, now + 86400);
    cap_tracker_free(t);
    free(listed);
    cap_doc_free(&doc);
    return 0;
}
