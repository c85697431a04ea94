/*
 * filter: the `exclude` patterns: extended regular expressions read by
 * PCRE2, case-insensitive and Unicode-aware, with bounded matching. Pure
 * (libpcre2-8 only).
 */
#ifndef KT_FILTER_H
#define KT_FILTER_H

#include <stdbool.h>
#include <stddef.h>

struct filter;

/* Compiles n patterns. Returns NULL and a message naming the bad pattern on
 * error. n may be 0 (a filter that matches nothing). */
struct filter *filter_new(const char *const *patterns, size_t n, char *err, size_t errlen);
/* A filter that matches when either a or b matches; takes neither. */
struct filter *filter_union(const struct filter *a, const struct filter *b);
void filter_free(struct filter *f);
/* True when any pattern matches text. f may be NULL (matches nothing). */
bool filter_match(const struct filter *f, const char *text);
/* Checks one pattern; 0 when it compiles and does not backtrack without
 * bound on simple input, else -1 and a message. */
int filter_check(const char *pattern, char *err, size_t errlen);

#endif
