/*
 * text_internal: what the text normaliser's two files share (text.c the
 * cleaning, cutting and sentences; text_html.c the markup pass).
 */
#ifndef KT_TEXT_INTERNAL_H
#define KT_TEXT_INTERNAL_H

#include "text.h"
#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* kt_buf_append() without the call when there is room: both passes
 * append a few bytes at a time. */
static inline void text_put(struct kt_buf *b, const char *s, size_t n)
{
    if (b->data && b->len + n < b->cap) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
    } else {
        kt_buf_append(b, s, n);
    }
}

/* The raw text of an HTML value and, when asked for, the offsets in it
 * where a paragraph ends. */
struct text_html_out {
    struct kt_buf out;
    size_t *breaks;
    size_t nbreaks;
};

/* Pass 1 over valid UTF-8 s; res is overwritten (free it with
 * text_html_out_free). */
void text_html_strip(const char *s, size_t n, bool want_breaks, struct text_html_out *res);
void text_html_out_free(struct text_html_out *o);

#endif
