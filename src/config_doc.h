/*
 * config_doc: the syntax layer of the config, and the overlay of one
 * config on another. Pure logic.
 *
 * Text becomes a document: sections ([KIND] or [KIND NAME]) of key = value
 * entries, each with its line and the origin (file path or URL) it came
 * from. Nothing here knows which sections or keys exist: config.c checks
 * that when it builds a struct config from a document, so a document can be
 * merged with another (a remote config laid over the local file) before
 * anything is validated, and every error still names the origin and line
 * of the entry it is about.
 *
 * Config text is UTF-8: a line with bytes that are not UTF-8, or with a
 * control character other than tab (a CR before the line feed is fine), is
 * an error, so names and labels reach the cache and the screen intact.
 */
#ifndef KT_CONFIG_DOC_H
#define KT_CONFIG_DOC_H

#include <stddef.h>

struct config_entry {
    char *key;
    char *value; /* surrounding blanks trimmed, quotes removed */
    int line;
};

struct config_section {
    char *kind;   /* first word of the header: "ticker", "feed" */
    char *name;   /* the rest ("[feed NAME]", quotes removed); NULL when none */
    int line;     /* line of the header */
    char *origin; /* file or URL the section was read from */
    struct config_entry *entries;
    size_t n_entries;
};

/* Read-only for callers: made by config_doc_parse/load/overlay/copy. */
struct config_doc {
    char *origin; /* where it was read from; for an overlay, the local one's */
    struct config_section *sections;
    size_t n_sections;
};

/* Splits text into sections and entries. On a syntax error returns NULL and
 * err holds "ORIGIN:LINE: message". */
struct config_doc *config_doc_parse(const char *text, size_t len, const char *origin, char *err,
                                    size_t errlen);
/* The same from a file: regular files only (a FIFO, device or directory is
 * refused without blocking), at most 1 MiB; "PATH:0: cannot read: why". */
struct config_doc *config_doc_load(const char *path, char *err, size_t errlen);

/* remote laid over local, section by section: a section of remote replaces
 * every section of local with the same kind and name (in the place of the
 * first one); sections remote lacks stay as local has them; remote's
 * sections that local lacks come after local's, in remote's order. Sections
 * whose kind is in local_only (NULL-terminated; NULL = none) are taken from
 * local only: remote's are dropped. Both inputs are left as they are; the
 * result keeps each section's origin and local's origin as its own. */
struct config_doc *config_doc_overlay(const struct config_doc *local,
                                      const struct config_doc *remote,
                                      const char *const *local_only);

struct config_doc *config_doc_copy(const struct config_doc *doc);
void config_doc_free(struct config_doc *doc);

/* First section of that kind and name (name NULL: a section without one),
 * or NULL. */
const struct config_section *config_doc_find(const struct config_doc *doc, const char *kind,
                                             const char *name);
/* Order of sections by kind, then name (none first). */
int config_section_cmp(const struct config_section *a, const struct config_section *b);
/* doc's sections in config_section_cmp order, then in document order, so
 * sections of one kind and name are found in n log n (a config can have
 * thousands of feeds). Caller frees the array. */
const struct config_section **config_doc_sorted(const struct config_doc *doc);

/* Last entry with that key in the section (the one in effect), or NULL. */
const struct config_entry *config_section_get(const struct config_section *s, const char *key);

#endif
