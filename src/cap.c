/*
 * cap: CAP documents and CAP indexes through libxml2's SAX2 push
 * interface, strictly (no recovery). See cap.h for what is accepted.
 *
 * Why SAX: the walk keeps only the alert being built, and nothing here
 * recurses on the document's nesting. Why a byte pre-scan before libxml2
 * (cap_prescan): libxml2 2.9 compares each attribute of an element with
 * every other one before any callback runs, so a single tag with 100,000
 * attributes costs minutes; the scan counts them in one linear pass and
 * refuses DOCTYPEs before libxml2 sees one. The depth, element and name
 * bounds are enforced from the callbacks, which stop the parser.
 */
#include "cap.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/uri.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "date.h"
#include "text.h"
#include "unicode.h"
#include "util.h"
#include "xml_safe.h"

#define CAP_NS_12 "urn:oasis:names:tc:emergency:cap:1.2"
#define CAP_NS_11 "urn:oasis:names:tc:emergency:cap:1.1"
#define CAP_NS_ATOM "http://www.w3.org/2005/Atom"
#define CAP_NS_RSS1 "http://purl.org/rss/1.0/"
#define CAP_NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define CAP_NS_XML "http://www.w3.org/XML/1998/namespace"
#define CAP_NAME_SLOTS 2048 /* power of two, > 2 * (CAP_MAX_NAMES + names of one tag) */
#define CAP_MAX_NAME_LEN 128

/* What an open element is to the walk. */
enum cap_role {
    R_OTHER,
    R_FEED,  /* Atom <feed>, RSS <channel>, RDF root */
    R_ENTRY, /* Atom <entry>, RSS <item> */
    R_ALERT,
    R_INFO,
    R_AREA,
    R_GEOCODE,
    R_FIELD, /* a leaf whose text is captured */
};

/* Leaf fields, by the element that holds them. */
enum cap_field {
    /* <alert> */
    F_IDENTIFIER,
    F_SENDER,
    F_SENT,
    F_STATUS,
    F_MSGTYPE,
    F_SCOPE,
    F_REFERENCES,
    /* <info> */
    F_LANGUAGE,
    F_EVENT,
    F_URGENCY,
    F_SEVERITY,
    F_CERTAINTY,
    F_EFFECTIVE,
    F_ONSET,
    F_EXPIRES,
    F_SENDERNAME,
    F_HEADLINE,
    F_DESCRIPTION,
    F_INSTRUCTION,
    /* <area> */
    F_AREADESC,
    /* <geocode> */
    F_VALUENAME,
    F_VALUE,
    /* RSS <item> */
    F_RSS_LINK,
    F_COUNT
};

static const struct cap_field_def {
    const char *name;
    enum cap_role parent;
    size_t max;
} cap_fields[F_COUNT] = {
    [F_IDENTIFIER] = {"identifier", R_ALERT, CAP_MAX_SHORT},
    [F_SENDER] = {"sender", R_ALERT, CAP_MAX_SHORT},
    [F_SENT] = {"sent", R_ALERT, CAP_MAX_SHORT},
    [F_STATUS] = {"status", R_ALERT, CAP_MAX_SHORT},
    [F_MSGTYPE] = {"msgType", R_ALERT, CAP_MAX_SHORT},
    [F_SCOPE] = {"scope", R_ALERT, CAP_MAX_SHORT},
    [F_REFERENCES] = {"references", R_ALERT, CAP_MAX_REFS * 3 * CAP_MAX_SHORT / 2},
    [F_LANGUAGE] = {"language", R_INFO, CAP_MAX_SHORT},
    [F_EVENT] = {"event", R_INFO, CAP_MAX_HEADLINE},
    [F_URGENCY] = {"urgency", R_INFO, CAP_MAX_SHORT},
    [F_SEVERITY] = {"severity", R_INFO, CAP_MAX_SHORT},
    [F_CERTAINTY] = {"certainty", R_INFO, CAP_MAX_SHORT},
    [F_EFFECTIVE] = {"effective", R_INFO, CAP_MAX_SHORT},
    [F_ONSET] = {"onset", R_INFO, CAP_MAX_SHORT},
    [F_EXPIRES] = {"expires", R_INFO, CAP_MAX_SHORT},
    [F_SENDERNAME] = {"senderName", R_INFO, CAP_MAX_HEADLINE},
    [F_HEADLINE] = {"headline", R_INFO, CAP_MAX_HEADLINE},
    [F_DESCRIPTION] = {"description", R_INFO, CAP_MAX_LONG},
    [F_INSTRUCTION] = {"instruction", R_INFO, CAP_MAX_LONG},
    [F_AREADESC] = {"areaDesc", R_AREA, CAP_MAX_HEADLINE},
    [F_VALUENAME] = {"valueName", R_GEOCODE, CAP_MAX_SHORT},
    [F_VALUE] = {"value", R_GEOCODE, CAP_MAX_SHORT},
    [F_RSS_LINK] = {"link", R_ENTRY, CAP_MAX_HEADLINE},
};

struct cap_frame {
    enum cap_role role;
    const xmlChar *name; /* libxml2's dictionary owns it */
    char *base;          /* xml:base in effect (owned when own_base) */
    bool own_base;
};

struct cap_state {
    xmlParserCtxtPtr ctxt;
    struct cap_doc *doc;
    const char *base_url;
    char err[KT_ERR_MAX]; /* why the walk stopped, "" = it did not */
    /* first libxml2 error */
    char xml_err[200];
    int xml_err_line, xml_err_code;

    int depth; /* open elements */
    struct cap_frame frames[CAP_MAX_DEPTH + 1];
    size_t n_elements;
    int skip_depth; /* > 0: the subtree opened at this depth is ignored */
    const void *names[CAP_NAME_SLOTS];
    size_t n_names;
    size_t url_budget; /* bytes of xml:base resolution left */

    enum { ROOT_NONE, ROOT_ALERT, ROOT_INDEX, ROOT_OTHER } root;
    char root_name[64];
    char root_ns[96];
    bool root_is_list; /* a root named "alerts": a list, possibly empty */

    /* the entry of an index being read */
    bool in_entry;
    bool entry_has_alert;
    char *entry_cap_link, *entry_alt_link;

    /* the alert being built */
    int alert_depth; /* 0 = none */
    struct cap_alert alert;
    char bad[160]; /* why it is invalid, "" = it is not */
    uint32_t seen_alert, seen_info, seen_area, seen_geocode;

    /* the leaf being captured */
    enum cap_field field;
    int field_depth; /* 0 = none */
    struct kt_buf text;
    size_t text_max;
    bool text_full;
};

/* ---------------------------------------------------------------------------
 * Pre-scan
 */

static const char *cap_find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    while (p < end) {
        const char *q = memchr(p, needle[0], (size_t)(end - p));
        if (!q || (size_t)(end - q) < n)
            return NULL;
        if (memcmp(q, needle, n) == 0)
            return q;
        p = q + 1;
    }
    return NULL;
}

static int cap_line_of(const char *data, const char *at)
{
    int line = 1;
    for (const char *p = data; p < at; p++)
        line += *p == '\n';
    return line;
}

/* One linear pass: refuses a DOCTYPE (or any other <!declaration>) and a
 * start tag with more than CAP_MAX_ATTRS attributes. Anything else that is
 * wrong is left for libxml2 to report. */
static int cap_prescan(const char *data, size_t len, char *err, size_t errlen)
{
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt)
            return 0;
        p = lt + 1;
        if (p >= end)
            return 0;
        const char *close = NULL;
        if (*p == '!') {
            if ((size_t)(end - p) >= 3 && memcmp(p, "!--", 3) == 0)
                close = cap_find(p + 3, end, "-->");
            else if ((size_t)(end - p) >= 8 && memcmp(p, "![CDATA[", 8) == 0)
                close = cap_find(p + 8, end, "]]>");
            else
                return kt_error(err, errlen,
                                "DOCTYPE refused at line %d (CAP documents have none, and its "
                                "entities are never expanded)",
                                cap_line_of(data, lt));
            if (!close)
                return 0; /* unterminated: libxml2 says so */
            p = close + 3;
            continue;
        }
        if (*p == '?') {
            close = cap_find(p, end, "?>");
            if (!close)
                return 0;
            p = close + 2;
            continue;
        }
        /* a tag: count '=' outside quotes up to its '>' */
        size_t attrs = 0;
        char quote = 0;
        for (; p < end; p++) {
            char c = *p;
            if (quote) {
                const char *q = memchr(p, quote, (size_t)(end - p));
                if (!q)
                    return 0;
                p = q;
                quote = 0;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '=') {
                if (++attrs > CAP_MAX_ATTRS)
                    return kt_error(err, errlen,
                                    "XML: more than %d attributes in one element at line %d",
                                    CAP_MAX_ATTRS, cap_line_of(data, lt));
            } else if (c == '>' || c == '<') {
                break;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Helpers
 */

/* A reason quotes document text (and libxml2's messages quote it too,
 * cut anywhere): made one line of valid UTF-8 within size bytes. */
static void cap_one_line(char *s, size_t size)
{
    char *r = uni_repair(s, strlen(s));
    size_t n = strlen(r);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)r[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++)
        s[i] = (unsigned char)r[i] < 0x20 || r[i] == 0x7f ? ' ' : r[i];
    s[n] = '\0';
    free(r);
}

static void cap_stop(struct cap_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void cap_stop(struct cap_state *st, const char *fmt, ...)
{
    if (!st->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->err, sizeof st->err, fmt, ap);
        va_end(ap);
        cap_one_line(st->err, sizeof st->err);
    }
    xmlStopParser(st->ctxt);
}

static bool cap_is_cap_ns(const xmlChar *uri)
{
    return uri &&
           (strcmp((const char *)uri, CAP_NS_12) == 0 || strcmp((const char *)uri, CAP_NS_11) == 0);
}

static bool cap_ns_is(const xmlChar *uri, const char *ns)
{
    if (!uri || !ns)
        return !uri && !ns;
    return strcmp((const char *)uri, ns) == 0;
}

static bool cap_name_is(const xmlChar *name, const char *want)
{
    return strcmp((const char *)name, want) == 0;
}

/* Names libxml2 interned for this document are unique pointers: counting
 * distinct pointers bounds its dictionary, whose chains every later
 * lookup walks. */
static bool cap_name_seen(struct cap_state *st, const void *name)
{
    if (!name)
        return true;
    size_t h = ((uintptr_t)name >> 3) * 2654435761u;
    for (size_t i = h & (CAP_NAME_SLOTS - 1);; i = (i + 1) & (CAP_NAME_SLOTS - 1)) {
        if (st->names[i] == name)
            return true;
        if (!st->names[i]) {
            if (st->n_names >= CAP_MAX_NAMES)
                return false;
            st->names[i] = name;
            st->n_names++;
            return true;
        }
    }
}

/* A trimmed copy of a captured value, cut at a character boundary. */
static char *cap_value(const struct kt_buf *b)
{
    const char *s = b->data ? b->data : "";
    size_t n = b->len;
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    return kt_strndup(s, n);
}

static void cap_bad(struct cap_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void cap_bad(struct cap_state *st, const char *fmt, ...)
{
    if (st->bad[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->bad, sizeof st->bad, fmt, ap);
    va_end(ap);
    cap_one_line(st->bad, sizeof st->bad);
}

static int64_t cap_date(struct cap_state *st, const char *what, const char *s)
{
    int64_t t;
    if (!*s)
        return 0;
    if (!date_parse(s, &t) || t <= 0) {
        cap_bad(st, "<%s> \"%.40s\" is not a date", what, s);
        return 0;
    }
    return t;
}

static void cap_free_info(struct cap_info *in)
{
    free(in->language);
    free(in->event);
    free(in->urgency);
    free(in->certainty);
    free(in->sender_name);
    free(in->headline);
    free(in->description);
    free(in->instruction);
    for (size_t i = 0; i < in->n_areas; i++) {
        struct cap_area *ar = &in->areas[i];
        free(ar->desc);
        for (size_t g = 0; g < ar->n_geocodes; g++) {
            free(ar->geocodes[g].name);
            free(ar->geocodes[g].value);
        }
        free(ar->geocodes);
    }
    free(in->areas);
}

static void cap_free_alert(struct cap_alert *a)
{
    free(a->identifier);
    free(a->sender);
    free(a->scope);
    for (size_t i = 0; i < a->n_refs; i++) {
        free(a->refs[i].sender);
        free(a->refs[i].identifier);
    }
    free(a->refs);
    for (size_t i = 0; i < a->n_infos; i++)
        cap_free_info(&a->infos[i]);
    free(a->infos);
    memset(a, 0, sizeof *a);
}

void cap_doc_free(struct cap_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->n_alerts; i++)
        cap_free_alert(&doc->alerts[i]);
    free(doc->alerts);
    for (size_t i = 0; i < doc->n_links; i++)
        free(doc->links[i]);
    free(doc->links);
    memset(doc, 0, sizeof *doc);
}

const char *cap_status_name(enum cap_status s)
{
    static const char *const names[] = {"Actual", "Exercise", "System", "Test", "Draft", "other"};
    return (unsigned)s <= CAP_STATUS_OTHER ? names[s] : "other";
}

const char *cap_msg_type_name(enum cap_msg_type t)
{
    static const char *const names[] = {"Alert", "Update", "Cancel", "Ack", "Error", "other"};
    return (unsigned)t <= CAP_TYPE_OTHER ? names[t] : "other";
}

static enum cap_status cap_parse_status(const char *s)
{
    for (int i = 0; i < CAP_STATUS_OTHER; i++)
        if (strcasecmp(s, cap_status_name((enum cap_status)i)) == 0)
            return (enum cap_status)i;
    return CAP_STATUS_OTHER;
}

static enum cap_msg_type cap_parse_msg_type(const char *s)
{
    for (int i = 0; i < CAP_TYPE_OTHER; i++)
        if (strcasecmp(s, cap_msg_type_name((enum cap_msg_type)i)) == 0)
            return (enum cap_msg_type)i;
    return CAP_TYPE_OTHER;
}

/* "sender,identifier,sent" triples separated by whitespace; a token
 * without its three parts is not a reference and is skipped. */
static void cap_parse_refs(struct cap_state *st, const char *s)
{
    struct cap_alert *a = &st->alert;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
            s++;
        const char *tok = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            s++;
        const char *c1 = memchr(tok, ',', (size_t)(s - tok));
        const char *c2 = c1 ? memchr(c1 + 1, ',', (size_t)(s - c1 - 1)) : NULL;
        if (!c2 || c1 == tok || c2 == c1 + 1)
            continue;
        if (a->n_refs >= CAP_MAX_REFS) {
            st->doc->n_dropped++;
            return;
        }
        if (!a->refs)
            a->refs = kt_calloc(CAP_MAX_REFS, sizeof *a->refs);
        struct cap_ref *r = &a->refs[a->n_refs++];
        r->sender = kt_strndup(tok, (size_t)(c1 - tok));
        r->identifier = kt_strndup(c1 + 1, (size_t)(c2 - c1 - 1));
        char *sent = kt_strndup(c2 + 1, (size_t)(s - c2 - 1));
        if (!date_parse(sent, &r->sent))
            r->sent = 0;
        free(sent);
    }
}

/* Grows *arr (of *n elements of size sz) by one zeroed element, or returns
 * NULL (and counts a drop) at max. */
static void *cap_push(struct cap_state *st, void **arr, size_t *n, size_t sz, size_t max)
{
    if (*n >= max) {
        st->doc->n_dropped++;
        return NULL;
    }
    /* capacities double: 1, 2, 4, … */
    if ((*n & (*n - 1)) == 0) {
        size_t cap = *n ? *n * 2 : 1;
        *arr = kt_realloc(*arr, cap * sz);
    }
    char *el = (char *)*arr + *n * sz;
    memset(el, 0, sz);
    (*n)++;
    return el;
}

static struct cap_info *cap_cur_info(struct cap_state *st)
{
    return &st->alert.infos[st->alert.n_infos - 1];
}

static struct cap_area *cap_cur_area(struct cap_state *st)
{
    struct cap_info *in = cap_cur_info(st);
    return &in->areas[in->n_areas - 1];
}

/* Stores a finished leaf. The first occurrence of a field counts. */
static void cap_commit(struct cap_state *st)
{
    enum cap_field f = st->field;
    char *v = cap_value(&st->text);
    uint32_t bit = 1u << (f % 32);
    uint32_t *seen = cap_fields[f].parent == R_ALERT     ? &st->seen_alert
                     : cap_fields[f].parent == R_INFO    ? &st->seen_info
                     : cap_fields[f].parent == R_AREA    ? &st->seen_area
                     : cap_fields[f].parent == R_GEOCODE ? &st->seen_geocode
                                                         : NULL;
    if (seen) {
        if (*seen & bit) {
            free(v);
            return;
        }
        *seen |= bit;
    }
    struct cap_alert *a = &st->alert;
    char **slot = NULL;
    switch (f) {
    case F_IDENTIFIER:
        slot = &a->identifier;
        break;
    case F_SENDER:
        slot = &a->sender;
        break;
    case F_SENT:
        a->sent = cap_date(st, "sent", v);
        break;
    case F_STATUS:
        a->status = cap_parse_status(v);
        break;
    case F_MSGTYPE:
        a->msg_type = cap_parse_msg_type(v);
        break;
    case F_SCOPE:
        slot = &a->scope;
        break;
    case F_REFERENCES:
        cap_parse_refs(st, v);
        break;
    case F_LANGUAGE:
        slot = &cap_cur_info(st)->language;
        break;
    case F_EVENT:
        slot = &cap_cur_info(st)->event;
        break;
    case F_URGENCY:
        slot = &cap_cur_info(st)->urgency;
        break;
    case F_SEVERITY:
        if (alert_severity_parse(v, &cap_cur_info(st)->severity) != 0)
            cap_cur_info(st)->severity = ALERT_UNKNOWN;
        break;
    case F_CERTAINTY:
        slot = &cap_cur_info(st)->certainty;
        break;
    case F_EFFECTIVE:
        cap_cur_info(st)->effective = cap_date(st, "effective", v);
        break;
    case F_ONSET:
        cap_cur_info(st)->onset = cap_date(st, "onset", v);
        break;
    case F_EXPIRES:
        cap_cur_info(st)->expires = cap_date(st, "expires", v);
        break;
    case F_SENDERNAME:
        slot = &cap_cur_info(st)->sender_name;
        break;
    case F_HEADLINE:
        slot = &cap_cur_info(st)->headline;
        break;
    case F_DESCRIPTION:
        slot = &cap_cur_info(st)->description;
        break;
    case F_INSTRUCTION:
        slot = &cap_cur_info(st)->instruction;
        break;
    case F_AREADESC:
        slot = &cap_cur_area(st)->desc;
        break;
    case F_VALUENAME: {
        struct cap_area *ar = cap_cur_area(st);
        slot = &ar->geocodes[ar->n_geocodes - 1].name;
        break;
    }
    case F_VALUE: {
        struct cap_area *ar = cap_cur_area(st);
        slot = &ar->geocodes[ar->n_geocodes - 1].value;
        break;
    }
    case F_RSS_LINK:
        if (!st->entry_alt_link && *v) {
            st->entry_alt_link = v;
            v = NULL;
        }
        break;
    case F_COUNT:
        break;
    }
    if (slot && !*slot && *v) {
        *slot = v;
        v = NULL;
    }
    free(v);
}

/* ---------------------------------------------------------------------------
 * Alerts
 */

static void cap_alert_begin(struct cap_state *st)
{
    memset(&st->alert, 0, sizeof st->alert);
    st->alert.status = CAP_STATUS_OTHER;
    st->alert.msg_type = CAP_TYPE_OTHER;
    st->bad[0] = '\0';
    st->seen_alert = 0;
    st->alert_depth = st->depth;
}

static void cap_alert_end(struct cap_state *st)
{
    struct cap_alert *a = &st->alert;
    st->alert_depth = 0;
    if (!a->identifier)
        cap_bad(st, "<alert> without <identifier>");
    else if (!a->sender)
        cap_bad(st, "<alert> %.80s without <sender>", a->identifier);
    else if (!a->sent && !st->bad[0])
        cap_bad(st, "<alert> %.80s without <sent>", a->identifier);
    else if (!(st->seen_alert & (1u << F_STATUS)))
        cap_bad(st, "<alert> %.80s without <status>", a->identifier);
    else if (!(st->seen_alert & (1u << F_MSGTYPE)))
        cap_bad(st, "<alert> %.80s without <msgType>", a->identifier);
    if (st->bad[0]) {
        if (st->root == ROOT_ALERT) {
            cap_stop(st, "CAP: %s", st->bad);
        } else {
            if (!st->doc->n_invalid++)
                snprintf(st->doc->invalid_reason, sizeof st->doc->invalid_reason, "%s", st->bad);
        }
        cap_free_alert(a);
        return;
    }
    struct cap_doc *doc = st->doc;
    struct cap_alert *slot =
        cap_push(st, (void **)&doc->alerts, &doc->n_alerts, sizeof *doc->alerts, CAP_MAX_ALERTS);
    if (slot) {
        *slot = *a;
        memset(a, 0, sizeof *a);
    } else {
        cap_free_alert(a);
    }
}

/* ---------------------------------------------------------------------------
 * Index links
 */

static char *cap_resolve(struct cap_state *st, const char *ref, const char *base)
{
    if (kt_url_scheme_len(ref) > 0)
        return kt_strdup(ref);
    if (!base || !*base)
        return NULL;
    size_t cost = strlen(ref) + strlen(base) + 16;
    if (cost > st->url_budget)
        return NULL;
    st->url_budget -= cost;
    xmlChar *r = xmlBuildURI((const xmlChar *)ref, (const xmlChar *)base);
    if (!r)
        return NULL;
    char *out = kt_strdup((const char *)r);
    xmlFree(r);
    return out;
}

static const char *cap_base(const struct cap_state *st)
{
    return st->depth > 0 ? st->frames[st->depth].base : st->base_url;
}

/* The poller fetches what an index links to, so a link may not reach
 * further than the index itself: http(s) only, and file: links or paths
 * only from an index that is a local file (an operator's own). */
static bool cap_link_allowed(const struct cap_state *st, const char *url)
{
    size_t n = kt_url_scheme_len(url);
    if ((n == 4 && strncasecmp(url, "http", 4) == 0) ||
        (n == 5 && strncasecmp(url, "https", 5) == 0))
        return true;
    const char *b = st->base_url;
    bool local_index = b && (kt_url_scheme_len(b) == 0 || kt_str_has_prefix_nocase(b, "file:"));
    return local_index && (n == 0 || (n == 4 && strncasecmp(url, "file", 4) == 0));
}

static void cap_entry_end(struct cap_state *st)
{
    char *link = st->entry_cap_link ? st->entry_cap_link : st->entry_alt_link;
    struct cap_doc *doc = st->doc;
    if (!st->entry_has_alert && link) {
        char *abs = cap_resolve(st, link, cap_base(st));
        if (abs && !cap_link_allowed(st, abs)) {
            if (!doc->n_invalid++)
                snprintf(doc->invalid_reason, sizeof doc->invalid_reason,
                         "link %.80s: only http(s) links are fetched", abs);
            cap_one_line(doc->invalid_reason, sizeof doc->invalid_reason);
            free(abs);
            abs = NULL;
        }
        bool dup = false;
        for (size_t i = 0; abs && i < doc->n_links && !dup; i++)
            dup = strcmp(doc->links[i], abs) == 0;
        char **slot = abs && !dup ? cap_push(st, (void **)&doc->links, &doc->n_links,
                                             sizeof *doc->links, CAP_MAX_LINKS)
                                  : NULL;
        if (slot)
            *slot = abs;
        else
            free(abs);
    }
    free(st->entry_cap_link);
    free(st->entry_alt_link);
    st->entry_cap_link = st->entry_alt_link = NULL;
    st->in_entry = false;
    st->entry_has_alert = false;
}

/* Value of attribute `name` (no namespace) as a new string, or NULL. */
static char *cap_attr(const xmlChar **attrs, int n, const char *name, const char *ns)
{
    for (int i = 0; i < n; i++) {
        const xmlChar **at = attrs + 5 * i;
        if (cap_name_is(at[0], name) && cap_ns_is(at[2], ns))
            return kt_strndup((const char *)at[3], (size_t)(at[4] - at[3]));
    }
    return NULL;
}

static void cap_atom_link(struct cap_state *st, const xmlChar **attrs, int n)
{
    char *href = cap_attr(attrs, n, "href", NULL);
    if (!href || !*href) {
        free(href);
        return;
    }
    char *rel = cap_attr(attrs, n, "rel", NULL);
    char *type = cap_attr(attrs, n, "type", NULL);
    if (type && strstr(type, "cap+xml") && !st->entry_cap_link) {
        st->entry_cap_link = href;
        href = NULL;
    } else if ((!rel || strcmp(rel, "alternate") == 0) && !st->entry_alt_link) {
        st->entry_alt_link = href;
        href = NULL;
    }
    free(href);
    free(rel);
    free(type);
}

static void cap_rss_enclosure(struct cap_state *st, const xmlChar **attrs, int n)
{
    char *type = cap_attr(attrs, n, "type", NULL);
    char *url = type && strstr(type, "cap+xml") ? cap_attr(attrs, n, "url", NULL) : NULL;
    if (url && *url && !st->entry_cap_link)
        st->entry_cap_link = url;
    else
        free(url);
    free(type);
}

/* ---------------------------------------------------------------------------
 * SAX callbacks
 */

static enum cap_role cap_child_role(struct cap_state *st, enum cap_role parent, const xmlChar *name,
                                    const xmlChar *uri, bool *field_out, enum cap_field *field)
{
    bool cap = cap_is_cap_ns(uri);
    *field_out = false;
    if (parent == R_ALERT || parent == R_INFO || parent == R_AREA || parent == R_GEOCODE) {
        if (!cap)
            return R_OTHER;
        for (int f = 0; f < F_RSS_LINK; f++) {
            if (cap_fields[f].parent == parent && cap_name_is(name, cap_fields[f].name)) {
                *field_out = true;
                *field = (enum cap_field)f;
                return R_FIELD;
            }
        }
        if (parent == R_ALERT && cap_name_is(name, "info"))
            return R_INFO;
        if (parent == R_INFO && cap_name_is(name, "area"))
            return R_AREA;
        if (parent == R_AREA && cap_name_is(name, "geocode"))
            return R_GEOCODE;
        return R_OTHER;
    }
    if (cap && cap_name_is(name, "alert"))
        return R_ALERT;
    if (parent == R_FEED) {
        if ((cap_ns_is(uri, CAP_NS_ATOM) && cap_name_is(name, "entry")) ||
            (cap_ns_is(uri, NULL) && cap_name_is(name, "item")) ||
            (cap_ns_is(uri, CAP_NS_RSS1) && cap_name_is(name, "item")))
            return R_ENTRY;
        if (cap_ns_is(uri, NULL) && cap_name_is(name, "channel"))
            return R_FEED;
        return R_OTHER;
    }
    if (parent == R_ENTRY && st->in_entry &&
        (cap_ns_is(uri, NULL) || cap_ns_is(uri, CAP_NS_RSS1)) && cap_name_is(name, "link")) {
        *field_out = true;
        *field = F_RSS_LINK;
        return R_FIELD;
    }
    return R_OTHER;
}

static void cap_sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                          const xmlChar *uri, int nb_ns, const xmlChar **ns, int nb_attrs,
                          int nb_defaulted, const xmlChar **attrs)
{
    (void)nb_defaulted;
    struct cap_state *st = ctx;
    if (st->err[0])
        return;
    if (st->depth >= CAP_MAX_DEPTH) {
        cap_stop(st, "XML: nesting deeper than %d elements at line %d", CAP_MAX_DEPTH,
                 xmlSAX2GetLineNumber(st->ctxt));
        return;
    }
    if (++st->n_elements > CAP_MAX_ELEMENTS) {
        cap_stop(st, "XML: more than %d elements", CAP_MAX_ELEMENTS);
        return;
    }
    bool names_ok = cap_name_seen(st, localname) && cap_name_seen(st, prefix) &&
                    cap_name_seen(st, uri) && strlen((const char *)localname) <= CAP_MAX_NAME_LEN;
    for (int i = 0; names_ok && i < nb_attrs; i++)
        names_ok = cap_name_seen(st, attrs[5 * i]) && cap_name_seen(st, attrs[5 * i + 1]) &&
                   cap_name_seen(st, attrs[5 * i + 2]);
    for (int i = 0; names_ok && i < nb_ns; i++)
        names_ok = cap_name_seen(st, ns[2 * i]) && cap_name_seen(st, ns[2 * i + 1]);
    if (!names_ok) {
        cap_stop(st, "XML: more than %d distinct names, or one longer than %d bytes", CAP_MAX_NAMES,
                 CAP_MAX_NAME_LEN);
        return;
    }

    int d = ++st->depth;
    struct cap_frame *fr = &st->frames[d];
    const struct cap_frame *parent = &st->frames[d - 1];
    fr->role = R_OTHER;
    fr->name = localname;
    fr->base = parent->base;
    fr->own_base = false;

    if (d == 1) {
        snprintf(st->root_name, sizeof st->root_name, "%s", (const char *)localname);
        cap_one_line(st->root_name, sizeof st->root_name);
        snprintf(st->root_ns, sizeof st->root_ns, "%s", uri ? (const char *)uri : "");
        cap_one_line(st->root_ns, sizeof st->root_ns);
        if (cap_is_cap_ns(uri) && cap_name_is(localname, "alert"))
            st->root = ROOT_ALERT;
        else if ((cap_ns_is(uri, CAP_NS_ATOM) && cap_name_is(localname, "feed")) ||
                 (cap_ns_is(uri, NULL) && cap_name_is(localname, "rss")) ||
                 (cap_ns_is(uri, CAP_NS_RDF) && cap_name_is(localname, "RDF")))
            st->root = ROOT_INDEX;
        else
            st->root = ROOT_OTHER;
        st->root_is_list = cap_name_is(localname, "alerts");
        st->doc->index = st->root == ROOT_INDEX;
    }
    if (st->skip_depth)
        return;

    char *xbase = cap_attr(attrs, nb_attrs, "base", CAP_NS_XML);
    if (xbase) {
        char *abs = cap_resolve(st, xbase, parent->base);
        if (abs) {
            fr->base = abs;
            fr->own_base = true;
        }
        free(xbase);
    }

    enum cap_role role;
    bool is_field;
    enum cap_field field = F_COUNT;
    if (d == 1)
        role = st->root == ROOT_ALERT ? R_ALERT : st->root == ROOT_INDEX ? R_FEED : R_OTHER;
    else
        role = cap_child_role(st, parent->role, localname, uri, &is_field, &field);

    switch (role) {
    case R_ALERT:
        if (st->alert_depth) { /* an alert inside an alert is not CAP */
            st->skip_depth = d;
            return;
        }
        cap_alert_begin(st);
        if (st->in_entry)
            st->entry_has_alert = true;
        break;
    case R_ENTRY:
        if (st->in_entry) {
            st->skip_depth = d;
            return;
        }
        st->in_entry = true;
        break;
    case R_INFO:
        if (!cap_push(st, (void **)&st->alert.infos, &st->alert.n_infos, sizeof *st->alert.infos,
                      CAP_MAX_INFOS)) {
            st->skip_depth = d;
            return;
        }
        cap_cur_info(st)->severity = ALERT_UNKNOWN;
        st->seen_info = 0;
        break;
    case R_AREA: {
        struct cap_info *in = cap_cur_info(st);
        if (!cap_push(st, (void **)&in->areas, &in->n_areas, sizeof *in->areas, CAP_MAX_AREAS)) {
            st->skip_depth = d;
            return;
        }
        st->seen_area = 0;
        break;
    }
    case R_GEOCODE: {
        struct cap_area *ar = cap_cur_area(st);
        if (!cap_push(st, (void **)&ar->geocodes, &ar->n_geocodes, sizeof *ar->geocodes,
                      CAP_MAX_GEOCODES)) {
            st->skip_depth = d;
            return;
        }
        st->seen_geocode = 0;
        break;
    }
    case R_FIELD:
        if (!st->field_depth) {
            st->field = field;
            st->field_depth = d;
            st->text.len = 0;
            st->text_max = cap_fields[field].max;
            st->text_full = false;
        }
        break;
    default:
        if (parent->role == R_ENTRY && st->in_entry) {
            if (cap_ns_is(uri, CAP_NS_ATOM) && cap_name_is(localname, "link"))
                cap_atom_link(st, attrs, nb_attrs);
            else if (cap_ns_is(uri, NULL) && cap_name_is(localname, "enclosure"))
                cap_rss_enclosure(st, attrs, nb_attrs);
        }
        break;
    }
    fr->role = role;
}

static void cap_sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                        const xmlChar *uri)
{
    (void)localname, (void)prefix, (void)uri;
    struct cap_state *st = ctx;
    if (st->err[0] || st->depth == 0)
        return;
    int d = st->depth;
    struct cap_frame *fr = &st->frames[d];
    if (st->skip_depth) {
        if (d == st->skip_depth)
            st->skip_depth = 0;
    } else {
        if (st->field_depth == d) {
            cap_commit(st);
            st->field_depth = 0;
        }
        if (fr->role == R_ALERT && st->alert_depth == d)
            cap_alert_end(st);
        else if (fr->role == R_ENTRY)
            cap_entry_end(st);
    }
    if (fr->own_base)
        free(fr->base);
    fr->own_base = false;
    st->depth--;
}

static void cap_sax_text(void *ctx, const xmlChar *ch, int len)
{
    struct cap_state *st = ctx;
    if (!st->field_depth || st->skip_depth || st->err[0] || st->text_full || len <= 0)
        return;
    size_t n = (size_t)len;
    if (n > st->text_max - st->text.len) {
        /* cut: libxml2's text is UTF-8, so back up to a character boundary,
         * and take nothing more of this value */
        n = st->text_max - st->text.len;
        while (n > 0 && ((unsigned char)ch[n] & 0xC0) == 0x80)
            n--;
        st->text_full = true;
    }
    kt_buf_append(&st->text, ch, n);
}

static void cap_sax_error(void *ctx, xmlErrorPtr e)
{
    struct cap_state *st = ctx;
    if (!e || st->xml_err[0] || e->level < XML_ERR_ERROR)
        return;
    snprintf(st->xml_err, sizeof st->xml_err, "%s", e->message ? e->message : "error");
    cap_one_line(st->xml_err, sizeof st->xml_err);
    size_t n = strlen(st->xml_err);
    while (n && st->xml_err[n - 1] == ' ')
        st->xml_err[--n] = '\0';
    st->xml_err_line = e->line;
    st->xml_err_code = e->code;
}

/* A DOCTYPE the pre-scan missed still stops the parse before its subset. */
static void cap_sax_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                            const xmlChar *sys_id)
{
    (void)name, (void)ext_id, (void)sys_id;
    struct cap_state *st = ctx;
    cap_stop(st, "DOCTYPE refused (CAP documents have none)");
}

int cap_parse(const char *data, size_t len, const char *base_url, struct cap_doc *doc, char *err,
              size_t errlen)
{
    memset(doc, 0, sizeof *doc);
    if (len > CAP_MAX_DOC)
        return kt_error(err, errlen, "document of %zu bytes, at most %u", len, CAP_MAX_DOC);
    if (len == 0)
        return kt_error(err, errlen, "empty document");
    if (cap_prescan(data, len, err, errlen) != 0)
        return -1;
    xml_safe_init();

    struct cap_state *st = kt_calloc(1, sizeof *st);
    st->doc = doc;
    st->base_url = base_url;
    st->frames[0].base = (char *)base_url;
    st->url_budget = 4 * len + (1u << 20);
    kt_buf_init(&st->text);

    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = cap_sax_start;
    sax.endElementNs = cap_sax_end;
    sax.characters = cap_sax_text;
    sax.cdataBlock = cap_sax_text;
    sax.serror = cap_sax_error;
    xml_safe_sax_guards(&sax);
    sax.internalSubset = cap_sax_doctype;
    int rc = 0;
    /* st, not ctxt, as user data: see xml_safe.h */
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(&sax, st, NULL, 0, NULL);
    if (!ctxt) {
        rc = kt_error(err, errlen, "XML: out of memory");
        goto out;
    }
    st->ctxt = ctxt;
    /* CAP is UTF-8 but may say so, or declare another encoding: unlike the
     * feed parser nothing converted it first, so libxml2 honours the
     * declaration (IGNORE_ENC is no safety rule) */
    xmlCtxtUseOptions(ctxt, xml_safe_options() & ~XML_PARSE_IGNORE_ENC);
    /* one chunk: libxml2 2.9's push parser rescans its buffer per chunk */
    int xrc = xmlParseChunk(ctxt, data, (int)len, 1);

    if (st->err[0])
        rc = kt_error(err, errlen, "%s", st->err);
    else if ((xrc != 0 || !ctxt->wellFormed) && st->depth > 0 &&
             st->xml_err_code == XML_ERR_DOCUMENT_END)
        /* what libxml2's push parser says when the data stops inside an
         * element: name the element instead */
        rc = kt_error(err, errlen, "XML: truncated: the document ends inside <%s> at line %d",
                      (const char *)st->frames[st->depth].name, st->xml_err_line);
    else if (xrc != 0 || !ctxt->wellFormed)
        rc = st->xml_err[0]
                 ? kt_error(err, errlen, "XML: %s at line %d", st->xml_err, st->xml_err_line)
                 : kt_error(err, errlen, "XML: not well-formed (error %d)", xrc);
    else if (st->root == ROOT_NONE)
        rc = kt_error(err, errlen, "XML: no root element");
    else if (st->root == ROOT_OTHER && strcmp(st->root_name, "alert") == 0 && doc->n_alerts == 0)
        rc = kt_error(err, errlen,
                      "not CAP 1.1 or 1.2: <alert> in namespace \"%s\" (want " CAP_NS_12 ")",
                      st->root_ns);
    else if (st->root == ROOT_OTHER && doc->n_alerts == 0 && doc->n_invalid == 0 &&
             !st->root_is_list)
        rc = kt_error(err, errlen, "not a CAP document: root element <%s> holds no CAP alert",
                      st->root_name);

out:
    for (int d = st->depth; d > 0; d--)
        if (st->frames[d].own_base)
            free(st->frames[d].base);
    if (st->alert_depth)
        cap_free_alert(&st->alert);
    free(st->entry_cap_link);
    free(st->entry_alt_link);
    kt_buf_free(&st->text);
    if (ctxt) {
        if (ctxt->myDoc) /* not built by these handlers, but never leak one */
            xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
        xmlFreeParserCtxt(ctxt);
    }
    free(st);
    if (rc != 0)
        cap_doc_free(doc);
    return rc;
}
