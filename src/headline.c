/*
 * headline: see headline.h.
 */
#include "headline.h"

#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "text.h"
#include "util.h"

static char *entry_text(const struct feed_entry *e, const struct filter *exclude)
{
    if (e->title) {
        char *t = text_plain(e->title, strlen(e->title), e->title_html);
        if (*t)
            return t;
        free(t);
    }
    if (e->summary)
        return text_first_sentence(e->summary, strlen(e->summary), e->summary_html, exclude);
    return NULL;
}

size_t headline_from_doc(const struct feed_doc *doc, const struct filter *exclude, int max_chars,
                         struct store_item **out)
{
    struct store_item *items = kt_calloc(doc->n_entries ? doc->n_entries : 1, sizeof *items);
    size_t n = 0;
    for (size_t i = 0; i < doc->n_entries; i++) {
        const struct feed_entry *e = &doc->entries[i];
        char *text = entry_text(e, exclude);
        /* Exclusion looks at the whole text, before it is cut, so a pattern
         * matching the end of a long headline still drops it. */
        if (!text || !*text || filter_match(exclude, text)) {
            free(text);
            continue;
        }
        items[n].title = text_cut(text, (size_t)max_chars);
        free(text);
        items[n].link = e->link && *e->link ? kt_strdup(e->link) : NULL;
        items[n].published = e->published;
        items[n].first_seen = 0;
        n++;
    }
    *out = items;
    return n;
}
