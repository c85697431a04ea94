/*
 * test_filter: the exclude patterns: case-insensitive ERE matching, the
 * empty filter, union, and the error message for a bad pattern.
 */
#include "filter.h"
#include "tap.h"
#include "util.h"

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
    return tap_done();
}
