/*
 * cap: Common Alerting Protocol 1.2 (and 1.1) documents, and the choice of
 * the alerts a source shows. Pure logic (libxml2 through xml_safe.h).
 *
 * Parsing (cap.c). A document is one of
 *   - a CAP <alert> (namespace urn:oasis:names:tc:emergency:cap:1.2 or
 *     :1.1);
 *   - any other XML that carries CAP <alert> elements (IPAWS-style
 *     <alerts> lists, EDXL-DE envelopes);
 *   - an Atom or RSS index whose entries embed a CAP <alert> or link to
 *     one (national weather services publish these): the embedded alerts
 *     are returned, and for each entry without one the link to fetch (a
 *     link typed application/cap+xml first, else the entry's alternate
 *     link), absolute, resolved against the index URL and xml:base;
 *     http(s) only (file: too when the index itself is a local file), so
 *     a remote index cannot make the poller read local files.
 * CAP is strict XML: nothing is repaired. An ill-formed or truncated
 * document, a DOCTYPE (so no entity is ever declared: billion laughs and
 * XXE have nothing to expand), nesting deeper than CAP_MAX_DEPTH or any
 * other structural bound below fails with one line saying why.
 *
 * Selection (cap_select.c): what a source lists, refresh after refresh,
 * becomes the alerts shown (struct alert), under a section's settings.
 */
#ifndef KT_CAP_H
#define KT_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"

struct filter;

/* Bounds on what one document may hold, so memory and time stay
 * proportional to the document. Beyond the structural ones (size, depth,
 * elements, attributes, names) the document is refused; repeated parts
 * beyond theirs are left out and counted (n_dropped); text is cut. */
#define CAP_MAX_DOC (16u * 1024u * 1024u) /* bytes */
#define CAP_MAX_DEPTH 64                  /* element nesting */
#define CAP_MAX_ELEMENTS 200000           /* elements in one document */
#define CAP_MAX_ATTRS 64                  /* attributes of one element */
#define CAP_MAX_NAMES 512                 /* distinct element/attribute names */
#define CAP_MAX_ALERTS 1000               /* alerts in one document */
#define CAP_MAX_LINKS 500                 /* links of an index */
#define CAP_MAX_INFOS 32                  /* <info> per alert */
#define CAP_MAX_AREAS 256                 /* <area> per info */
#define CAP_MAX_GEOCODES 1024             /* <geocode> per area */
#define CAP_MAX_REFS 64                   /* triples in <references> */
#define CAP_MAX_SHORT 512                 /* bytes: identifiers, codes, dates, names */
#define CAP_MAX_HEADLINE 2048             /* bytes: headline, event, areaDesc */
#define CAP_MAX_LONG (16u * 1024u)        /* bytes: description, instruction */
#define CAP_MAX_LISTED 5000               /* alerts one refresh passes to the tracker */

enum cap_status { CAP_ACTUAL, CAP_EXERCISE, CAP_SYSTEM, CAP_TEST, CAP_DRAFT, CAP_STATUS_OTHER };
enum cap_msg_type { CAP_ALERT, CAP_UPDATE, CAP_CANCEL, CAP_ACK, CAP_ERROR, CAP_TYPE_OTHER };

struct cap_geocode {
    char *name, *value; /* valueName, value */
};

struct cap_area {
    char *desc; /* areaDesc */
    struct cap_geocode *geocodes;
    size_t n_geocodes;
};

struct cap_info {
    char *language; /* NULL = not given (CAP's default is en-US) */
    char *event, *urgency, *certainty;
    enum alert_severity severity;      /* unknown for an absent or unknown value */
    int64_t effective, onset, expires; /* UTC seconds; 0 = not given */
    char *sender_name, *headline, *description, *instruction; /* as in the document */
    struct cap_area *areas;
    size_t n_areas;
};

struct cap_ref {
    char *sender, *identifier;
    int64_t sent; /* 0 when the triple's date does not parse */
};

struct cap_alert {
    char *identifier, *sender; /* never NULL */
    int64_t sent;              /* never 0 */
    enum cap_status status;
    enum cap_msg_type msg_type;
    char *scope; /* NULL = not given */
    struct cap_ref *refs;
    size_t n_refs;
    struct cap_info *infos;
    size_t n_infos;
};

struct cap_doc {
    bool index; /* an Atom/RSS index rather than CAP itself */
    struct cap_alert *alerts;
    size_t n_alerts;
    char **links; /* URLs to fetch, each a CAP document: absolute, or paths for a
                   * local index; no duplicates */
    size_t n_links;
    /* Embedded alerts that were skipped (missing identifier, sender or
     * sent, a date that is not one) and links refused (not http(s)): how
     * many and the first reason, so the caller logs one line. A lone
     * <alert> with such a fault fails. */
    size_t n_invalid;
    char invalid_reason[160];
    /* Repeated parts beyond their bound (CAP_MAX_ALERTS, _LINKS, _INFOS,
     * _AREAS, _GEOCODES, _REFS), left out: the caller logs the count. */
    size_t n_dropped;
};

/* Parses data (at most CAP_MAX_DOC bytes). base_url: the document's URL,
 * for an index's relative links (NULL: relative links are skipped). 0, or
 * -1 with one line in err ("XML: Premature end of data at line 12",
 * "DOCTYPE refused", "not a CAP document: root element <html>"). */
int cap_parse(const char *data, size_t len, const char *base_url, struct cap_doc *doc, char *err,
              size_t errlen);
void cap_doc_free(struct cap_doc *doc);

const char *cap_status_name(enum cap_status s);
const char *cap_msg_type_name(enum cap_msg_type t);

/* ---- Selection (cap_select.c) ---------------------------------------- */

/* One [alert NAME] section's settings, as the selection needs them. */
struct cap_section {
    const char *name;
    const char *label;                /* NULL: the info's senderName, else name */
    enum alert_severity min_severity; /* the config default is moderate */
    const char *language;             /* NULL: the first <info> */
    const struct filter *areas;       /* matched against areaDesc and geocode values; NULL = all */
    bool show_tests;                  /* Test, Exercise, System, Draft shown too */
    int64_t max_no_expiry;            /* seconds an alert without expires stays; 0 = 24 h */
};

/* The alerts one source shows, with what must survive from one refresh to
 * the next (when each alert was first seen, what Updates and Cancels
 * superseded). One per section; not thread-safe (the section's worker
 * owns it). */
struct cap_tracker;

struct cap_tracker *cap_tracker_new(void);
void cap_tracker_free(struct cap_tracker *t);

/* One successful refresh: listed are every CAP alert the source lists now
 * (an index's embedded alerts and the linked documents, including linked
 * documents whose fetch failed this time but succeeded before, so a
 * transient failure does not hide an alert). An alert no longer listed is
 * gone; an Update replaces the alerts it references, a Cancel removes
 * them, now and whenever they are listed again (for 24 h). Only the first
 * CAP_MAX_LISTED are read. */
void cap_tracker_update(struct cap_tracker *t, const struct cap_section *sec,
                        const struct cap_alert *const *listed, size_t n, int64_t now);

/* The alerts shown at now, in display order (alert_sort); *out is freed
 * with alert_list_free. Returns the count. */
size_t cap_tracker_active(const struct cap_tracker *t, int64_t now, struct alert **out);

/* The first time after now at which cap_tracker_active would change
 * without a refresh (an alert becomes effective or expires, or reaches
 * max_no_expiry), or 0 when none: the caller re-evaluates then instead of
 * every frame. */
int64_t cap_tracker_next_change(const struct cap_tracker *t, int64_t now);

/* The pieces of the selection, exposed for tests and for --fetch-once:
 * which <info> a section reads (NULL when the alert has none), and the
 * text shown for it (caller frees; never NULL, may be ""). */
const struct cap_info *cap_pick_info(const struct cap_alert *a, const char *language);
char *cap_alert_text(const struct cap_info *info);
/* Does any area of info match (areaDesc or a geocode value)? */
bool cap_info_in_areas(const struct cap_info *info, const struct filter *areas);

#endif
