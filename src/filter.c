/*
 * filter: the `exclude` patterns, PCRE2 regular expressions matched
 * case-insensitively and Unicode-aware anywhere in a headline or paragraph
 * (UTF, UCP: "ÉDITO" matches "édito", "." is one character, \w and \b know
 * every script).
 *
 * The syntax is the extended regular expressions the config always
 * documented; PCRE2 reads every ERE an exclude line uses the same way and
 * accepts more (\d, \b, lazy quantifiers, lookaround). A pattern is bounded
 * twice: at compile time (length, nesting, and a trial run against
 * inputs that make careless patterns backtrack, refused by --check) and at
 * match time (match, depth and heap limits: a match that hits one counts
 * as no match, logged once per pattern).
 */
#include "filter.h"

#include "log.h"
#include "util.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FILTER_MAX_PATTERN 1024
#define FILTER_MAX_NEST 32
/* Steps a match may take: a real headline against a sane pattern needs a
 * few thousand at most. */
#define FILTER_MATCH_LIMIT 200000
#define FILTER_DEPTH_LIMIT 2000
#define FILTER_HEAP_LIMIT_KIB 2048

struct filter_pattern {
    pcre2_code *code;
    char *text;
    atomic_bool logged; /* a match of it hit a limit once */
};

struct filter {
    size_t n;
    struct filter_pattern *p;
    pcre2_match_context *mctx;
};

#define FILTER_FLAGS (PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS)

static pcre2_match_context *filter_match_context(void)
{
    pcre2_match_context *m = pcre2_match_context_create(NULL);
    if (!m)
        abort(); /* out of memory, as kt_malloc */
    pcre2_set_match_limit(m, FILTER_MATCH_LIMIT);
    pcre2_set_depth_limit(m, FILTER_DEPTH_LIMIT);
    pcre2_set_heap_limit(m, FILTER_HEAP_LIMIT_KIB);
    return m;
}

/* 1 match, 0 no match, -1 a limit was hit (or another match error). */
static int filter_run(const pcre2_code *code, pcre2_match_context *mctx, const char *text,
                      size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md)
        abort();
    int rc = pcre2_match(code, (PCRE2_SPTR)text, len, 0, 0, md, mctx);
    pcre2_match_data_free(md);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

/* Inputs on which a pattern with nested or overlapping quantifiers
 * ("(a+)+$", "(x+x+)+y", "(\w|\d)+!") backtracks exponentially: a run of
 * one character, then one that makes the match fail, then the pattern's
 * own letters (so PCRE2's "required character" shortcut does not answer
 * before the matcher runs). */
static bool filter_too_costly(const pcre2_code *code, const char *pattern,
                              pcre2_match_context *mctx)
{
    char probe[96], lits[17];
    size_t nlits = 0;
    for (const char *p = pattern; *p && nlits < 16; p++) {
        char c = *p;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum && (p == pattern || p[-1] != '\\') && !memchr(lits, c, nlits))
            lits[nlits++] = c;
    }
    const char fill[] = {'a', '0', ' ', 'x', '.'};
    for (size_t f = 0; f <= sizeof fill + nlits; f++) {
        char c = f < sizeof fill ? fill[f] : f - sizeof fill < nlits ? lits[f - sizeof fill] : 0;
        if (!c)
            continue;
        memset(probe, c, 64);
        memcpy(probe + 64, "\x01!", 2);
        memcpy(probe + 66, lits, nlits);
        if (filter_run(code, mctx, probe, 66 + nlits) < 0)
            return true;
    }
    return false;
}

/* An empty pattern is refused: it would match every headline, which is never
 * what a config line "exclude =" meant. */
static pcre2_code *filter_compile(const char *pattern, char *err, size_t errlen)
{
    if (!pattern) {
        kt_error(err, errlen, "bad regex: missing pattern");
        return NULL;
    }
    if (!*pattern) {
        kt_error(err, errlen, "bad regex \"\": empty pattern matches everything");
        return NULL;
    }
    if (strlen(pattern) > FILTER_MAX_PATTERN) {
        kt_error(err, errlen, "bad regex \"%.40s…\": longer than %d bytes", pattern,
                 FILTER_MAX_PATTERN);
        return NULL;
    }
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    if (!cctx)
        abort();
    pcre2_set_parens_nest_limit(cctx, FILTER_MAX_NEST);
    int code_err;
    PCRE2_SIZE off;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, FILTER_FLAGS,
                                     &code_err, &off, cctx);
    pcre2_compile_context_free(cctx);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code_err, msg, sizeof msg);
        kt_error(err, errlen, "bad regex \"%s\": %s (at offset %zu)", pattern, (const char *)msg,
                 (size_t)off);
        return NULL;
    }
    pcre2_match_context *mctx = filter_match_context();
    bool costly = filter_too_costly(code, pattern, mctx);
    pcre2_match_context_free(mctx);
    if (costly) {
        pcre2_code_free(code);
        kt_error(err, errlen,
                 "bad regex \"%s\": backtracks without bound on simple input (nested "
                 "quantifiers?)",
                 pattern);
        return NULL;
    }
    return code;
}

int filter_check(const char *pattern, char *err, size_t errlen)
{
    pcre2_code *code = filter_compile(pattern, err, errlen);
    if (!code)
        return -1;
    pcre2_code_free(code);
    return 0;
}

struct filter *filter_new(const char *const *patterns, size_t n, char *err, size_t errlen)
{
    struct filter *f = kt_calloc(1, sizeof *f);
    f->mctx = filter_match_context();
    if (n > 0)
        f->p = kt_calloc(n, sizeof *f->p);
    for (size_t i = 0; i < n; i++) {
        pcre2_code *code = filter_compile(patterns[i], err, errlen);
        if (!code) {
            filter_free(f);
            return NULL;
        }
        f->p[i].code = code;
        f->p[i].text = kt_strdup(patterns[i]);
        atomic_init(&f->p[i].logged, false);
        f->n = i + 1;
    }
    return f;
}

struct filter *filter_union(const struct filter *a, const struct filter *b)
{
    size_t na = a ? a->n : 0, nb = b ? b->n : 0;
    struct filter *f = kt_calloc(1, sizeof *f);
    f->mctx = filter_match_context();
    if (na + nb)
        f->p = kt_calloc(na + nb, sizeof *f->p);
    for (size_t i = 0; i < na + nb; i++) {
        const struct filter_pattern *src = i < na ? &a->p[i] : &b->p[i - na];
        f->p[i].code = pcre2_code_copy(src->code);
        if (!f->p[i].code)
            abort();
        f->p[i].text = kt_strdup(src->text);
        atomic_init(&f->p[i].logged, false);
        f->n = i + 1;
    }
    return f;
}

void filter_free(struct filter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        pcre2_code_free(f->p[i].code);
        free(f->p[i].text);
    }
    free(f->p);
    pcre2_match_context_free(f->mctx);
    free(f);
}

bool filter_match(const struct filter *f, const char *text)
{
    if (!f || !text)
        return false;
    size_t len = strlen(text);
    for (size_t i = 0; i < f->n; i++) {
        struct filter_pattern *p = &f->p[i];
        int rc = filter_run(p->code, f->mctx, text, len);
        if (rc > 0)
            return true;
        if (rc < 0 && !atomic_exchange(&p->logged, true))
            kt_log_warn("exclude \"%s\": a match hit the backtracking limit; taken as no match",
                        p->text);
    }
    return false;
}
