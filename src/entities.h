/*
 * entities: the table of HTML5 named character references (internal to
 * text.c). The table itself is generated into entities.c by
 * tools/gen_entities.py.
 */
#ifndef KT_ENTITIES_H
#define KT_ENTITIES_H

#include <stddef.h>

/* Longest name including its ';', and longest name valid without ';'. */
#define ENTITIES_NAME_MAX 32
#define ENTITIES_LEGACY_MAX 6

struct entities_entry {
    const char *name; /* as in HTML5: "amp;" and the legacy "amp" are two entries */
    const char *utf8;
};

/* Sorted by strcmp() of name. */
extern const struct entities_entry entities_table[];
extern const size_t entities_count;

#endif
