/*
 * test_text: runs the text cases in tests/data/text/ (plain.tsv, cut.tsv,
 * sentence.tsv, utf8.tsv), then checks what no table can: the generated
 * entity table, invariants of the output on pseudo-random bytes, and that
 * hostile input stays linear in time.
 *
 * TSV fields may use \t \n \r \f \\ and \xNN so that tabs, newlines and
 * invalid bytes can be written; lines starting with '#' are comments.
 */
#include "entities.h"
#include "filter.h"
#include "tap.h"
#include "text.h"
#include "unicode.h"
#include "util.h"

#include <stdint.h>
#include <time.h>

#define MAX_FIELDS 4

struct field {
    char *s;
    size_t len;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the escapes of s[0..n) into a new NUL-terminated string. */
static char *unescape(const char *s, size_t n, size_t *outlen)
{
    char *out = kt_malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 >= n) {
            out[o++] = s[i];
            continue;
        }
        char c = s[++i];
        if (c == 't')
            out[o++] = '\t';
        else if (c == 'n')
            out[o++] = '\n';
        else if (c == 'r')
            out[o++] = '\r';
        else if (c == 'f')
            out[o++] = '\f';
        else if (c == 'x' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else
            out[o++] = c; /* "\\" and anything else: the character itself */
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

typedef void (*case_fn)(const char *file, int line, struct field *f);

/* Calls fn for each data line of tests/data/text/name with exactly nfields
 * fields; a line with another count is a failure, not a skip. */
static void run_table(const char *name, int nfields, case_fn fn)
{
    const char *dir = getenv("KT_TEST_DATA");
    char err[KT_ERR_MAX], *data = NULL;
    size_t len;
    char *path = kt_asprintf("%s/text/%s", dir ? dir : "tests/data", name);
    int cases = 0;

    CHECK(kt_read_file(path, 1 << 20, &data, &len, err, sizeof err) == 0);
    free(path);
    if (!data)
        return;
    int line = 0;
    for (char *p = data, *end; p < data + len; p = end + 1) {
        end = memchr(p, '\n', (size_t)(data + len - p));
        if (!end)
            end = data + len;
        line++;
        if (end == p || *p == '#')
            continue;
        struct field f[MAX_FIELDS];
        int n = 0;
        for (char *q = p;;) {
            char *tab = memchr(q, '\t', (size_t)(end - q));
            char *fe = tab ? tab : end;
            if (n < MAX_FIELDS)
                f[n].s = unescape(q, (size_t)(fe - q), &f[n].len);
            n++;
            if (!tab)
                break;
            q = tab + 1;
        }
        if (n != nfields) {
            fprintf(stderr, "%s:%d: %d fields, want %d\n", name, line, n, nfields);
            CHECK(n == nfields);
        } else {
            fn(name, line, f);
            cases++;
        }
        for (int i = 0; i < n && i < MAX_FIELDS; i++)
            free(f[i].s);
    }
    free(data);
    printf("%s: %d cases\n", name, cases);
    CHECK(cases > 0);
}

/* Wraps CHECK_STR so a failure names the data line. */
static void check_case(const char *file, int line, const char *got, const char *want)
{
    int before = tap_failures;
    CHECK_STR(got, want);
    if (tap_failures != before)
        fprintf(stderr, "  at %s:%d\n", file, line);
}

/* What every text_plain result must be, whatever the input. */
static bool plain_ok(const char *s)
{
    size_t n = strlen(s);
    if (!uni_valid(s, n))
        return false;
    if (n && (s[0] == ' ' || s[n - 1] == ' ' || strstr(s, "  ")))
        return false;
    for (const unsigned char *u = (const unsigned char *)s; *u; u++)
        if (*u < 0x20 || *u == 0x7F)
            return false;
    return strstr(s, "\xC2\x80") == NULL && strstr(s, "\xEF\xBB\xBF") == NULL;
}

static void plain_case(const char *file, int line, struct field *f)
{
    bool html = f[0].s[0] == '1';
    char *got = text_plain(f[1].s, f[1].len, html);
    check_case(file, line, got, f[2].s);
    CHECK(plain_ok(got));
    /* clean text is a fixed point of the plain-text path */
    char *again = text_plain(got, strlen(got), false);
    check_case(file, line, again, got);
    free(again);
    free(got);
}

static void cut_case(const char *file, int line, struct field *f)
{
    size_t max = strtoul(f[0].s, NULL, 10);
    char *got = text_cut(f[1].s, max);
    check_case(file, line, got, f[2].s);
    if (max)
        CHECK(uni_count(got, strlen(got)) <= max);
    free(got);
}

static void sentence_case(const char *file, int line, struct field *f)
{
    struct filter *ex = NULL;
    char err[KT_ERR_MAX];
    if (f[0].len) {
        const char *pat = f[0].s;
        ex = filter_new(&pat, 1, err, sizeof err);
        CHECK(ex != NULL);
    }
    bool html = f[1].s[0] == '1';
    char *got = text_first_sentence(f[2].s, f[2].len, html, ex);
    check_case(file, line, got, strcmp(f[3].s, "(null)") == 0 ? NULL : f[3].s);
    free(got);
    filter_free(ex);
}

/* input, repaired, valid (0/1), code points of the repaired text */
static void utf8_case(const char *file, int line, struct field *f)
{
    char *got = uni_repair(f[0].s, f[0].len);
    check_case(file, line, got, f[1].s);
    CHECK_INT(uni_valid(f[0].s, f[0].len), f[2].s[0] == '1');
    CHECK(uni_valid(got, strlen(got)));
    CHECK_INT(uni_count(got, strlen(got)), strtol(f[3].s, NULL, 10));
    free(got);
}

static void test_entity_table(void)
{
    size_t semi = 0;
    CHECK_INT(entities_count, 2231);
    for (size_t i = 0; i < entities_count; i++) {
        const char *name = entities_table[i].name;
        size_t len = strlen(name);
        if (i > 0)
            CHECK(strcmp(entities_table[i - 1].name, name) < 0);
        CHECK(len <= ENTITIES_NAME_MAX);
        if (name[len - 1] == ';') {
            semi++;
            /* every entry is reachable through the binary search */
            CHECK(text_entity_lookup(name, len - 1) == entities_table[i].utf8);
        } else {
            CHECK(len <= ENTITIES_LEGACY_MAX);
        }
    }
    CHECK_INT(semi, 2125);
    CHECK_STR(text_entity_lookup("amp", 3), "&");
    CHECK_STR(text_entity_lookup("rsquo", 5), "\xE2\x80\x99");
    CHECK_STR(text_entity_lookup("NotEqualTilde", 13), "\xE2\x89\x82\xCC\xB8");
    CHECK_STR(text_entity_lookup("ampx", 3), "&");
    CHECK(text_entity_lookup("Amp", 3) == NULL);
    CHECK(text_entity_lookup("amp;", 4) == NULL);
    CHECK(text_entity_lookup("nosuchentity", 12) == NULL);
    CHECK(text_entity_lookup("", 0) == NULL);
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return rnd_state >> 16;
}

/* Pseudo-random input biased towards the bytes the parsers care about. */
static void test_random_invariants(void)
{
    static const char *const atoms[] = {"<",         ">",
                                        "&",         "#",
                                        "x",         ";",
                                        "amp",       "lt",
                                        "nbsp",      "not",
                                        "<p>",       "</p>",
                                        "<br>",      "<script>",
                                        "</script>", "<!--",
                                        "-->",       "<![CDATA[",
                                        "]]>",       "<object>",
                                        "\"",        "'",
                                        "=",         " ",
                                        "\n",        "\t",
                                        ".",         "!",
                                        "?",         "A",
                                        "b",         "\xC3",
                                        "\xA9",      "\x80",
                                        "\xF0\x9F",  "\xE2\x80\xA8",
                                        "\xC2\xA0",  "\x01",
                                        "\x7F",      "&#",
                                        "&#x",       "99",
                                        "D800",      "Mr",
                                        "U.S",       "\xEF\xBB\xBF",
                                        "<title>",   "</"};
    size_t natoms = sizeof atoms / sizeof atoms[0];
    int bad = 0;
    for (int iter = 0; iter < 3000; iter++) {
        struct kt_buf b;
        kt_buf_init(&b);
        int n = (int)(rnd() % 40);
        for (int i = 0; i < n; i++)
            kt_buf_puts(&b, atoms[rnd() % natoms]);
        for (int html = 0; html < 2; html++) {
            char *p = text_plain(b.data ? b.data : "", b.len, html);
            bad += !plain_ok(p);
            size_t max = rnd() % 12;
            char *c = text_cut(p, max);
            bad += !uni_valid(c, strlen(c)) || (max && uni_count(c, strlen(c)) > max);
            char *s = text_first_sentence(b.data ? b.data : "", b.len, html, NULL);
            bad += s && (!plain_ok(s) || !*s);
            free(p);
            free(c);
            free(s);
        }
        char *r = uni_repair(b.data ? b.data : "", b.len);
        bad += !uni_valid(r, strlen(r));
        free(r);
        kt_buf_free(&b);
    }
    CHECK_INT(bad, 0);
}

/* CPU time of this process: another job on the machine does not count. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds text_plain + text_first_sentence take on `size` bytes of a
 * repeated pattern (best of `runs`, to shed scheduling noise). */
static double time_pattern(const char *pattern, size_t size, int runs)
{
    size_t pl = strlen(pattern);
    char *in = kt_malloc(size);
    for (size_t i = 0; i < size; i++)
        in[i] = pattern[i % pl];
    double best = 1e9;
    for (int run = 0; run < runs; run++) {
        double t0 = now();
        char *out = text_plain(in, size, true);
        char *first = text_first_sentence(in, size, true, NULL);
        double dt = now() - t0;
        best = dt < best ? dt : best;
        free(out);
        free(first);
    }
    free(in);
    return best;
}

/* Each hostile pattern must cost time linear in its size. No absolute
 * bound (a loaded 2-core box or a sanitizer build can be many times
 * slower): the CPU time for 8 MiB against the CPU time for 512 KiB,
 * measured in the same run. Linear work gives 16, or up to about four
 * times that (seen: 58) when the small input still fits the CPU caches and
 * the large one does not; quadratic work gives 256 and more. */
static void test_linear_time(void)
{
    static const char *const patterns[] = {"<",
                                           "&",
                                           "&#",
                                           "&#x1",
                                           "<!--",
                                           "<a b='",
                                           "<object>",
                                           "<iframe x>",
                                           "</",
                                           "&ampx",
                                           "<script>a",
                                           "<!",
                                           "<p>x. Y",
                                           "<br><br>",
                                           "\xC3",
                                           "a\n\nb. C",
                                           "\xE2\x80\xA8 ",
                                           "\x1b[",
                                           "\x1b]0;",
                                           "a\xCC\x81\xCC\x81",
                                           "\xE2\x80\xAE"};
    const size_t small = 512u << 10, big = 8u << 20;
    double worst = 0;
    for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
        double ts = time_pattern(patterns[p], small, 5), tb = time_pattern(patterns[p], big, 2);
        /* below a millisecond the small run is all noise: then only a
         * hopeless big run can fail */
        double ratio = tb / (ts > 1e-3 ? ts : 1e-3);
        if (ratio > 100.0)
            fprintf(stderr, "pattern %zu: %.4f s for 512 KiB, %.4f s for 8 MiB\n", p, ts, tb);
        CHECK(ratio <= 100.0);
        worst = ratio > worst ? ratio : worst;
    }
    printf("linear time: worst 8 MiB / 512 KiB CPU-time ratio %.1f (linear 16, quadratic 256)\n",
           worst);

    /* realistic markup: report throughput (the target is >= 50 MB/s) */
    struct kt_buf b;
    kt_buf_init(&b);
    while (b.len < big)
        kt_buf_puts(&b, "<p class=\"lead\">Caf&eacute; owners &amp; staff met on <a "
                        "href=\"https://example.com/?a=1&b=2\">Monday</a>.&nbsp;The talks "
                        "&#8212; long &ldquo;overdue&rdquo; &#x2014; lasted <b>hours</b>.</p>\n");
    double t0 = now();
    char *out = text_plain(b.data, b.len, true);
    double dt = now() - t0;
    printf("text_plain: %.0f MB/s on %zu bytes of markup\n", (double)b.len / 1e6 / dt, b.len);
    CHECK(*out != '\0');
    free(out);
    kt_buf_free(&b);
}

/* With --linear-time only the linear-time check runs (ctest's slow
 * text_linear test); otherwise everything else. */
int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--linear-time") == 0) {
        test_linear_time();
        return tap_done();
    }
    run_table("plain.tsv", 3, plain_case);
    run_table("cut.tsv", 3, cut_case);
    run_table("sentence.tsv", 4, sentence_case);
    run_table("utf8.tsv", 4, utf8_case);
    test_entity_table();
    test_random_invariants();
    return tap_done();
}
