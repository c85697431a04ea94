/*
 * tap.h: the few assertions every C test here uses. A failed check prints
 * FILE:LINE and the values, and the program exits 1 at the end, so ctest
 * sees a failure; a test that checks nothing also fails.
 */
#ifndef KT_TAP_H
#define KT_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_failures, tap_checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        tap_checks++;                                                                              \
        if (!(cond)) {                                                                             \
            tap_failures++;                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        tap_checks++;                                                                              \
        if ((g_ == NULL) != (w_ == NULL) || (g_ && strcmp(g_, w_) != 0)) {                         \
            tap_failures++;                                                                        \
            fprintf(stderr, "%s:%d: %s\n   got: \"%s\"\n  want: \"%s\"\n", __FILE__, __LINE__,     \
                    #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)");                                 \
        }                                                                                          \
    } while (0)

#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        tap_checks++;                                                                              \
        if (g_ != w_) {                                                                            \
            tap_failures++;                                                                        \
            fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_); \
        }                                                                                          \
    } while (0)

/* Factor for wall-clock limits in tests: 1 natively, larger under an
 * emulator (KT_TEST_TIME_SCALE), where everything runs ~10x slower. */
static inline double t_time_scale(void)
{
    const char *s = getenv("KT_TEST_TIME_SCALE");
    double k = s ? atof(s) : 1.0;
    return k > 1.0 ? k : 1.0;
}

/* In a cross build, the emulator a test must run the target's programs
 * under ("qemu-aarch64 -L /sysroot"), split into words; NULL natively. */
static inline char **t_emulator_argv(size_t *n)
{
    const char *e = getenv("KT_TEST_EMULATOR");
    *n = 0;
    if (!e || !*e)
        return NULL;
    static char buf[1024];
    static char *words[32];
    snprintf(buf, sizeof buf, "%s", e);
    for (char *w = strtok(buf, " "); w && *n < 31; w = strtok(NULL, " "))
        words[(*n)++] = w;
    words[*n] = NULL;
    return words;
}

static inline int tap_done(void)
{
    if (tap_checks == 0) {
        fprintf(stderr, "no checks ran\n");
        return 1;
    }
    printf("%d checks, %d failed\n", tap_checks, tap_failures);
    return tap_failures ? 1 : 0;
}

#endif
