/*
 * filter: the `exclude` patterns, POSIX extended regular expressions matched
 * case-insensitively anywhere in a headline or paragraph.
 *
 * The pattern strings are kept next to the compiled form because regex_t
 * cannot be copied: filter_union() compiles them again.
 */
#include "filter.h"

#include "util.h"

#include <regex.h>
#include <stdlib.h>

struct filter {
    size_t n;
    regex_t *re;
    char **patterns;
};

#define FILTER_FLAGS (REG_EXTENDED | REG_ICASE | REG_NOSUB)

/* An empty pattern is refused: it would match every headline, which is never
 * what a config line "exclude =" meant. */
static int filter_compile(regex_t *re, const char *pattern, char *err, size_t errlen)
{
    char msg[256];
    if (!pattern)
        return kt_error(err, errlen, "bad regex: missing pattern");
    if (!*pattern)
        return kt_error(err, errlen, "bad regex \"\": empty pattern matches everything");
    int rc = regcomp(re, pattern, FILTER_FLAGS);
    if (rc != 0) {
        regerror(rc, re, msg, sizeof msg);
        return kt_error(err, errlen, "bad regex \"%s\": %s", pattern, msg);
    }
    return 0;
}

int filter_check(const char *pattern, char *err, size_t errlen)
{
    regex_t re;
    if (filter_compile(&re, pattern, err, errlen) != 0)
        return -1;
    regfree(&re);
    return 0;
}

struct filter *filter_new(const char *const *patterns, size_t n, char *err, size_t errlen)
{
    struct filter *f = kt_calloc(1, sizeof *f);
    if (n > 0) {
        f->re = kt_calloc(n, sizeof *f->re);
        f->patterns = kt_calloc(n, sizeof *f->patterns);
    }
    for (size_t i = 0; i < n; i++) {
        if (filter_compile(&f->re[i], patterns[i], err, errlen) != 0) {
            filter_free(f);
            return NULL;
        }
        f->patterns[i] = kt_strdup(patterns[i]);
        f->n = i + 1;
    }
    return f;
}

struct filter *filter_union(const struct filter *a, const struct filter *b)
{
    size_t na = a ? a->n : 0, nb = b ? b->n : 0;
    const char **all = kt_calloc(na + nb, sizeof *all);
    for (size_t i = 0; i < na; i++)
        all[i] = a->patterns[i];
    for (size_t i = 0; i < nb; i++)
        all[na + i] = b->patterns[i];
    /* cannot fail: every pattern compiled once already */
    struct filter *f = filter_new(all, na + nb, NULL, 0);
    free(all);
    return f;
}

void filter_free(struct filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        regfree(&f->re[i]);
        free(f->patterns[i]);
    }
    free(f->re);
    free(f->patterns);
    free(f);
}

bool filter_match(const struct filter *f, const char *text)
{
    if (!f || !text)
        return false;
    for (size_t i = 0; i < f->n; i++)
        if (regexec(&f->re[i], text, 0, NULL, 0) == 0)
            return true;
    return false;
}
