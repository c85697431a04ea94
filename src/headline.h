/*
 * headline: turns a parsed feed's entries into the headlines shown. Pure.
 *
 * Title = the entry's title as plain text; an entry without one takes the
 * first sentence of its summary that no exclude pattern matches. Entries
 * whose text matches an exclude pattern are dropped; the rest are cut to
 * max_chars.
 */
#ifndef KT_HEADLINE_H
#define KT_HEADLINE_H

#include <stddef.h>

#include "feed.h"
#include "store.h"

struct filter;

/* Fills *out (caller frees with store_items_free) in document order and
 * returns the count. */
size_t headline_from_doc(const struct feed_doc *doc, const struct filter *exclude, int max_chars,
                         struct store_item **out);

#endif
