/*
 * test_filter: the exclude patterns: case-insensitive, Unicode-aware
 * matching of extended regular expressions (PCRE2), the empty filter,
 * union, the error message for a bad pattern, and the bounds on hostile
 * patterns (refused at check, or limited at match time).
 */
#include "filter.h"
#include "tap.h"
#include "util.h"

#include <string.h>

int main(void)
{
    char err[KT_ERR_MAX] = "";
    const char *pats[] = {"subscri(be|ption)", "^sponsored:"};
    struct filter *f = filter_new(pats, 2, err, sizeof err);
    CHECK(f != NULL);
    CHECK(filter_match(f, "Already a SUBSCRIBER? Log in."));
    CHECK(filter_match(f, "Subscription required"));
    CHECK(filter_match(f, "Sponsored: buy now"));
    CHECK(!filter_match(f, "Not sponsored: news"));
    CHECK(!filter_match(f, "Council votes on budget"));
    CHECK(!filter_match(f, NULL));
    CHECK(!filter_match(NULL, "anything"));

    struct filter *none = filter_new(NULL, 0, err, sizeof err);
    CHECK(none != NULL);
    CHECK(!filter_match(none, "anything"));
    CHECK(!filter_match(none, ""));

    const char *more[] = {"weather"};
    struct filter *g = filter_new(more, 1, err, sizeof err);
    struct filter *u = filter_union(f, g);
    filter_free(f);
    filter_free(g);
    CHECK(filter_match(u, "Weather today"));
    CHECK(filter_match(u, "subscribe now"));
    CHECK(!filter_match(u, "Council votes"));
    filter_free(u);

    struct filter *u2 = filter_union(NULL, none);
    CHECK(u2 != NULL);
    CHECK(!filter_match(u2, "anything"));
    filter_free(u2);
    filter_free(none);

    const char *bad[] = {"fine", "(unclosed"};
    CHECK(filter_new(bad, 2, err, sizeof err) == NULL);
    CHECK(strncmp(err, "bad regex \"(unclosed\": ", 23) == 0);
    CHECK(strlen(err) > 23);
    CHECK_INT(filter_check("a[", err, sizeof err), -1);
    CHECK(strncmp(err, "bad regex \"a[\": ", 16) == 0);
    CHECK_INT(filter_check("", err, sizeof err), -1);
    CHECK_INT(filter_check("ok|fine", err, sizeof err), 0);
    CHECK_INT(filter_check("(x", NULL, 0), -1);

    /* Unicode: case folding beyond ASCII, "." and counts in characters,
     * classes that know every script */
    const char *uni[] = {"ÉDITO", "^.{0,5}$", "^\\w+ Straße$", "[[:alpha:]]+ ΝΈΑ"};
    struct filter *fu = filter_new(uni, 4, err, sizeof err);
    CHECK(fu != NULL);
    if (fu) {
        CHECK(filter_match(fu, "L'édito du jour"));
        CHECK(filter_match(fu, "Édito: la semaine"));
        CHECK(filter_match(fu, "ÉÉÉÉÉ"));                  /* 5 characters, 10 bytes */
        CHECK(!filter_match(fu, "ÉÉÉÉÉÉ a longer one"));   /* 6+ characters */
        CHECK(filter_match(fu, "Große STRASSE") == false); /* ß vs SS: no full folding */
        CHECK(filter_match(fu, "Hauptbahnhof Straße"));
        CHECK(filter_match(fu, "Καλημέρα νέα"));
        CHECK(!filter_match(fu, "Council votes on the budget"));
        filter_free(fu);
    }

    /* nested quantifiers that backtrack exponentially are refused at
     * --check, with a message naming the pattern */
    CHECK_INT(filter_check("(a+)+$", err, sizeof err), -1);
    CHECK(strstr(err, "\"(a+)+$\"") != NULL && strstr(err, "backtrack") != NULL);
    CHECK_INT(filter_check("(x+x+)+y", err, sizeof err), -1);
    CHECK_INT(filter_check("^(\\w+\\s?)*$", err, sizeof err), -1);
    /* stacked bounded quantifiers: refused (too large), never exhaust memory */
    CHECK_INT(filter_check("((a{1,100}){1,100}){1,100}", err, sizeof err), -1);
    /* sane patterns with quantifiers pass */
    CHECK_INT(filter_check("^(breaking|live):\\s+", err, sizeof err), 0);
    CHECK_INT(filter_check("sponsored( content)?$", err, sizeof err), 0);
    /* a pattern that only backtracks on inputs the check did not try is
     * bounded at match time: no match, and the headline is kept */
    const char *sneaky[] = {"(q+r?)+s$"};
    struct filter *fs = filter_new(sneaky, 1, err, sizeof err);
    if (fs) {
        char text[200];
        memset(text, 'q', 120);
        memcpy(text + 120, "!", 2);
        CHECK(!filter_match(fs, text)); /* returns: bounded, not hours */
        CHECK(filter_match(fs, "qqqs"));
        filter_free(fs);
    } else {
        CHECK(strstr(err, "backtrack") != NULL); /* or the check caught it */
    }
    return tap_done();
}
