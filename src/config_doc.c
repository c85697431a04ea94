/*
 * config_doc: INI text to a document of sections and entries, and the
 * overlay of two documents (see config_doc.h). Hand-written: the format is
 * ten lines of grammar, and no INI library in Debian gives line numbers per
 * entry, keeps quoted values and names, and refuses what this one refuses.
 */
#include "config_doc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "unicode.h"
#include "util.h"

/* Largest config file read (a config is a few kilobytes). */
#define CONFIG_DOC_MAX_BYTES (1024 * 1024)

struct config_doc_parser {
    struct config_doc *doc;
    const char *origin;
    int line;
    char *err;
    size_t errlen;
};

static int config_doc_error(struct config_doc_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int config_doc_error(struct config_doc_parser *p, const char *fmt, ...)
{
    char msg[KT_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kt_error(p->err, p->errlen, "%s:%d: %s", p->origin, p->line, msg);
}

static bool config_doc_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims blanks at both ends of [*s, *e). */
static void config_doc_trim(const char **s, const char **e)
{
    while (*s < *e && config_doc_blank(**s))
        (*s)++;
    while (*e > *s && config_doc_blank((*e)[-1]))
        (*e)--;
}

/* The one rule for config text, checked on every line, comments too:
 * UTF-8, and no control characters but tab (C0, DEL and C1: none of them
 * has a meaning in a name, a label, a URL or a pattern, and they would
 * reach the screen or the cache). */
static int config_doc_check_text(struct config_doc_parser *p, const char *s, size_t n)
{
    if (!uni_valid(s, n))
        return config_doc_error(p, "not valid UTF-8 (save the file as UTF-8)");
    if (memchr(s, '\0', n))
        return config_doc_error(p, "not a text file (contains NUL bytes)");
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned cp = u[i];
        if (cp == 0xC2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F)
            cp = u[i + 1];
        else if (cp >= 0x80)
            continue;
        if ((cp < 0x20 && cp != '\t') || cp >= 0x7F)
            return config_doc_error(p, "control character U+%04X (only tab is allowed)", cp);
    }
    return 0;
}

static struct config_section *config_doc_add_section(struct config_doc *doc)
{
    doc->sections = kt_realloc(doc->sections, (doc->n_sections + 1) * sizeof *doc->sections);
    struct config_section *s = &doc->sections[doc->n_sections++];
    memset(s, 0, sizeof *s);
    return s;
}

static void config_doc_add_entry(struct config_section *s, char *key, char *value, int line)
{
    s->entries = kt_realloc(s->entries, (s->n_entries + 1) * sizeof *s->entries);
    s->entries[s->n_entries++] = (struct config_entry){key, value, line};
}

/* "text" with \" and \\ unescaped, from just after the opening quote; *end
 * is set after the closing quote. NULL when the quote is not closed. */
static char *config_doc_unquote(const char *s, const char *e, const char **end)
{
    struct kt_buf b;
    kt_buf_init(&b);
    for (const char *q = s; q < e; q++) {
        if (*q == '\\' && q + 1 < e && (q[1] == '"' || q[1] == '\\')) {
            kt_buf_putc(&b, *++q);
        } else if (*q == '"') {
            *end = q + 1;
            return kt_buf_steal(&b);
        } else {
            kt_buf_putc(&b, *q);
        }
    }
    kt_buf_free(&b);
    return NULL;
}

/* [KIND] or [KIND NAME] or [KIND "NAME"], between s and e (trimmed, s at
 * '['). ']' is not allowed in a name, even quoted: "[feed a]b]" would read
 * differently to a person and to another INI reader. */
static int config_doc_header(struct config_doc_parser *p, const char *s, const char *e)
{
    const char *last = e;
    while (last > s && last[-1] != ']')
        last--;
    if (last == s)
        return config_doc_error(p, "bad section header: no closing ']'");
    last--; /* at the last ']' */
    const char *q = s + 1;
    while (q < e && config_doc_blank(*q))
        q++;
    const char *k = q;
    while (q < e && !config_doc_blank(*q) && *q != ']' && *q != '"')
        q++;
    if (q == k)
        return config_doc_error(p, "bad section header: no section kind before the name");
    const char *ke = q;
    while (q < e && config_doc_blank(*q))
        q++;
    const char *close = q;
    char *name = NULL;
    const char *why = NULL;
    if (*q == '"') {
        name = config_doc_unquote(q + 1, e, &close);
        if (!name)
            return config_doc_error(p, "bad section header: the quote around the name is not "
                                       "closed");
        while (close < e && config_doc_blank(*close))
            close++;
        if (strchr(name, ']'))
            why = "']' is not allowed in a name";
    } else if (*q != ']') {
        /* An unquoted name runs to the last ']' on the line. */
        const char *ne = last;
        config_doc_trim(&q, &ne);
        close = last;
        if (memchr(q, ']', (size_t)(ne - q)))
            why = "']' is not allowed in a name";
        else if (memchr(q, '"', (size_t)(ne - q)))
            why = "a name with a quote must be quoted whole: [KIND \"NAME\"]";
        else
            name = kt_strndup(q, (size_t)(ne - q));
    }
    if (!why && (close >= e || *close != ']'))
        why = "expected ']' after the name";
    else if (!why && close + 1 != e)
        why = "text after ']' (a comment goes on a line of its own)";
    if (why) {
        free(name);
        return config_doc_error(p, "bad section header: %s", why);
    }
    struct config_section *sec = config_doc_add_section(p->doc);
    sec->kind = kt_strndup(k, (size_t)(ke - k));
    sec->name = name;
    sec->line = p->line;
    sec->origin = kt_strdup(p->origin);
    return 0;
}

/* The text between a value's quotes, with \" and \\ unescaped. */
static char *config_doc_unescape(const char *s, const char *e)
{
    struct kt_buf b;
    kt_buf_init(&b);
    for (; s < e; s++) {
        if (*s == '\\' && s + 1 < e && (s[1] == '"' || s[1] == '\\'))
            s++;
        kt_buf_putc(&b, *s);
    }
    return kt_buf_steal(&b);
}

static int config_doc_entry(struct config_doc_parser *p, const char *s, const char *e)
{
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (!eq)
        return config_doc_error(p, "expected key = value");
    const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
    config_doc_trim(&ks, &ke);
    config_doc_trim(&vs, &ve);
    if (ks == ke)
        return config_doc_error(p, "expected key = value (no key before '=')");
    char *key = kt_strndup(ks, (size_t)(ke - ks));
    if (p->doc->n_sections == 0) {
        config_doc_error(p, "\"%s\" is outside any section (start with [ticker])", key);
        free(key);
        return -1;
    }
    char *value;
    /* A value may be quoted to keep blanks at its ends: "  •  ". */
    if (vs < ve && *vs == '"') {
        if (ve - vs < 2 || ve[-1] != '"') {
            config_doc_error(p, "%s: unterminated quoted value", key);
            free(key);
            return -1;
        }
        value = config_doc_unescape(vs + 1, ve - 1);
    } else {
        value = kt_strndup(vs, (size_t)(ve - vs));
    }
    config_doc_add_entry(&p->doc->sections[p->doc->n_sections - 1], key, value, p->line);
    return 0;
}

struct config_doc *config_doc_parse(const char *text, size_t len, const char *origin, char *err,
                                    size_t errlen)
{
    struct config_doc *doc = kt_calloc(1, sizeof *doc);
    doc->origin = kt_strdup(origin);
    struct config_doc_parser p = {doc, origin, 0, err, errlen};
    size_t pos = 0;
    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        const char *e = nl ? nl : text + len;
        pos = (size_t)(e - text) + 1;
        p.line++;
        if (e > s && e[-1] == '\r')
            e--;
        /* A UTF-8 byte order mark at the start of the file (Windows editors). */
        if (p.line == 1 && e - s >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3;
        if (config_doc_check_text(&p, s, (size_t)(e - s)) < 0)
            goto fail;
        config_doc_trim(&s, &e);
        if (s == e || *s == '#' || *s == ';')
            continue;
        if ((*s == '[' ? config_doc_header(&p, s, e) : config_doc_entry(&p, s, e)) < 0)
            goto fail;
    }
    return doc;
fail:
    config_doc_free(doc);
    return NULL;
}

struct config_doc *config_doc_load(const char *path, char *err, size_t errlen)
{
    char *data;
    size_t len;
    char why[KT_ERR_MAX];
    if (kt_read_file(path, CONFIG_DOC_MAX_BYTES, &data, &len, why, sizeof why) < 0) {
        kt_error(err, errlen, "%s:0: cannot read: %s", path,
                 kt_str_has_prefix(why, path) ? why + strlen(path) + 2 : why);
        return NULL;
    }
    struct config_doc *doc = config_doc_parse(data, len, path, err, errlen);
    free(data);
    return doc;
}

static void config_doc_copy_section(struct config_doc *to, const struct config_section *s)
{
    struct config_section *c = config_doc_add_section(to);
    c->kind = kt_strdup(s->kind);
    c->name = kt_strdup(s->name);
    c->line = s->line;
    c->origin = kt_strdup(s->origin);
    c->entries = kt_calloc(s->n_entries, sizeof *c->entries);
    c->n_entries = s->n_entries;
    for (size_t i = 0; i < s->n_entries; i++) {
        c->entries[i].key = kt_strdup(s->entries[i].key);
        c->entries[i].value = kt_strdup(s->entries[i].value);
        c->entries[i].line = s->entries[i].line;
    }
}

struct config_doc *config_doc_copy(const struct config_doc *doc)
{
    struct config_doc *c = kt_calloc(1, sizeof *c);
    c->origin = kt_strdup(doc->origin);
    for (size_t i = 0; i < doc->n_sections; i++)
        config_doc_copy_section(c, &doc->sections[i]);
    return c;
}

void config_doc_free(struct config_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->n_sections; i++) {
        struct config_section *s = &doc->sections[i];
        for (size_t j = 0; j < s->n_entries; j++) {
            free(s->entries[j].key);
            free(s->entries[j].value);
        }
        free(s->entries);
        free(s->kind);
        free(s->name);
        free(s->origin);
    }
    free(doc->sections);
    free(doc->origin);
    free(doc);
}

int config_section_cmp(const struct config_section *a, const struct config_section *b)
{
    int c = strcmp(a->kind, b->kind);
    if (c)
        return c;
    if (!a->name || !b->name)
        return (a->name != NULL) - (b->name != NULL);
    return strcmp(a->name, b->name);
}

/* The pointers all point into one array, so their order is the sections'. */
static int config_doc_ptr_cmp(const void *x, const void *y)
{
    const struct config_section *a = *(const struct config_section *const *)x;
    const struct config_section *b = *(const struct config_section *const *)y;
    int c = config_section_cmp(a, b);
    return c ? c : (a > b) - (a < b);
}

const struct config_section **config_doc_sorted(const struct config_doc *doc)
{
    const struct config_section **v = kt_calloc(doc->n_sections, sizeof *v);
    for (size_t i = 0; i < doc->n_sections; i++)
        v[i] = &doc->sections[i];
    qsort(v, doc->n_sections, sizeof *v, config_doc_ptr_cmp);
    return v;
}

/* First position in sorted of a section with s's kind and name, or n. */
static size_t config_doc_lower_bound(const struct config_section **sorted, size_t n,
                                     const struct config_section *s)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (config_section_cmp(sorted[mid], s) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool config_doc_kind_in(const char *kind, const char *const *kinds)
{
    for (; kinds && *kinds; kinds++)
        if (strcmp(kind, *kinds) == 0)
            return true;
    return false;
}

struct config_doc *config_doc_overlay(const struct config_doc *local,
                                      const struct config_doc *remote,
                                      const char *const *local_only)
{
    struct config_doc *out = kt_calloc(1, sizeof *out);
    out->origin = kt_strdup(local->origin);
    const struct config_section **sorted = config_doc_sorted(remote);
    size_t n = remote->n_sections;
    bool *used = kt_calloc(n + 1, sizeof *used);
    for (size_t i = 0; i < local->n_sections; i++) {
        const struct config_section *s = &local->sections[i];
        size_t k = config_doc_lower_bound(sorted, n, s);
        bool replaced = !config_doc_kind_in(s->kind, local_only) && k < n &&
                        config_section_cmp(sorted[k], s) == 0;
        if (!replaced) {
            config_doc_copy_section(out, s);
            continue;
        }
        /* Every remote section of that kind and name, once, where the
         * first local one was. */
        for (; k < n && config_section_cmp(sorted[k], s) == 0; k++) {
            size_t r = (size_t)(sorted[k] - remote->sections);
            if (!used[r])
                config_doc_copy_section(out, sorted[k]);
            used[r] = true;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!used[i] && !config_doc_kind_in(remote->sections[i].kind, local_only))
            config_doc_copy_section(out, &remote->sections[i]);
    free(used);
    free(sorted);
    return out;
}

const struct config_section *config_doc_find(const struct config_doc *doc, const char *kind,
                                             const char *name)
{
    for (size_t i = 0; doc && i < doc->n_sections; i++) {
        const struct config_section *s = &doc->sections[i];
        if (strcmp(s->kind, kind) == 0 && kt_str_eq(s->name, name))
            return s;
    }
    return NULL;
}

const struct config_entry *config_section_get(const struct config_section *s, const char *key)
{
    for (size_t i = s ? s->n_entries : 0; i-- > 0;)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}
