/*
 * xml_repair: the repair pass over an XML document's UTF-8 text before a
 * recovering parser reads it (see xml_repair.c for what it repairs). Pure.
 *
 *   struct xml_repair *r = xml_repair_new(&(struct xml_repair_opts){...});
 *   switch (xml_repair_run(r, text, len)) { ... }   // output goes to sink
 *   xml_repair_free(r);
 */
#ifndef KT_XML_REPAIR_H
#define KT_XML_REPAIR_H

#include <stdbool.h>
#include <stddef.h>

/* Receives the repaired text in chunks; last is set on the final call.
 * Returns false to stop the pass (the reader has seen enough). */
typedef bool (*xml_repair_sink)(void *ctx, const char *data, size_t len, bool last);

struct xml_repair_opts {
    xml_repair_sink sink;
    void *ctx;
    size_t chunk; /* bytes per sink call (0: 256 KiB) */
    /* names that always reach the parser, however many distinct names the
     * document used first (the reader's own vocabulary) */
    const char *const *names;
    size_t n_names;
};

enum xml_repair_status {
    XML_REPAIR_DONE,      /* the whole document, root element closed */
    XML_REPAIR_STOPPED,   /* the sink said stop */
    XML_REPAIR_TRUNCATED, /* ends inside an element: cut short (all of it was still passed on) */
    XML_REPAIR_REFUSED,   /* hostile (entity bomb, nesting); the pass stopped there */
};

struct xml_repair *xml_repair_new(const struct xml_repair_opts *opts);
void xml_repair_free(struct xml_repair *r);
/* Repairs s (valid UTF-8) into the sink. */
enum xml_repair_status xml_repair_run(struct xml_repair *r, const char *s, size_t n);

/* The first start tag's name and the DOCTYPE's name ("" when none), valid
 * from the moment the sink first sees them. */
const char *xml_repair_root(const struct xml_repair *r);
const char *xml_repair_doctype(const struct xml_repair *r);
/* One line for TRUNCATED and REFUSED ("XML: document ends inside <channel>
 * (truncated?)", "XML: entity expansion refused (…)"), else NULL. */
const char *xml_repair_problem(const struct xml_repair *r);

#endif
