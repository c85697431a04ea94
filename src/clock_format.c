/*
 * clock_format: the clock's strftime format, checked before it is used
 * (clock_format.h says why).
 */
#include "clock_format.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A format longer than this is a mistake; the bound also bounds the text
 * (no conversion makes more than ~100 bytes in any locale). */
#define CLOCK_FORMAT_MAX_FMT 256

/* C99 7.23.3.5 and POSIX strftime. */
static const char clock_format_conv[] = "aAbBcCdDeFgGhHIjmMnprRStTuUVwWxXyYzZ%";
/* POSIX: %Ec %EC %Ex %EX %Ey %EY and %Od %Oe %OH %OI %Om %OM %OS %Ou
 * %OU %OV %Ow %OW %Oy. */
static const char clock_format_conv_e[] = "cCxXyY";
static const char clock_format_conv_o[] = "deHImMSuUVwWy";
/* POSIX.1-2008 allows a flag (0 or +) and a minimum width only here. */
static const char clock_format_conv_width[] = "CFGY";

static int clock_format_column(const char *fmt, const char *p)
{
    int col = 1;
    for (const char *q = fmt; q < p; q++)
        if (((unsigned char)*q & 0xc0) != 0x80)
            col++;
    return col;
}

/* The conversion at p as typed, for messages ("%Q", "%Ek"). */
static void clock_format_token(const char *p, const char *end, char *out, size_t n)
{
    size_t len = (size_t)(end - p) + (*end ? 1 : 0);
    while (*end && ((unsigned char)p[len] & 0xc0) == 0x80)
        len++;
    if (len >= n)
        len = n - 1;
    memcpy(out, p, len);
    out[len] = '\0';
}

static int clock_format_syntax(const char *fmt, char *err, size_t errlen)
{
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        const char *at = p++;
        int col = clock_format_column(fmt, at);
        bool flag = false, width = false;
        if (*p == '0' || *p == '+')
            flag = true, p++;
        while (isdigit((unsigned char)*p))
            width = true, p++;
        char mod = 0;
        if (*p == 'E' || *p == 'O')
            mod = *p++;
        char tok[16];
        clock_format_token(at, p, tok, sizeof tok);
        if (!*p)
            return kt_error(err, errlen,
                            "column %d: \"%s\" at the end is cut short (write %%%% for a "
                            "percent sign)",
                            col, tok);
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x80 || !strchr(clock_format_conv, *p))
            return kt_error(err, errlen, "column %d: \"%s\" is not a strftime conversion", col,
                            tok);
        if (mod == 'E' && !strchr(clock_format_conv_e, *p))
            return kt_error(err, errlen, "column %d: \"%s\": E only goes with c, C, x, X, y and Y",
                            col, tok);
        if (mod == 'O' && !strchr(clock_format_conv_o, *p))
            return kt_error(err, errlen,
                            "column %d: \"%s\": O only goes with d, e, H, I, m, M, S, u, U, V, "
                            "w, W and y",
                            col, tok);
        if ((flag || width) && (mod || !strchr(clock_format_conv_width, *p)))
            return kt_error(err, errlen,
                            "column %d: \"%s\": a flag or width only goes with %%C, %%F, %%G and "
                            "%%Y",
                            col, tok);
    }
    return 0;
}

int clock_format_check(const char *fmt, char *err, size_t errlen)
{
    if (!fmt || !*fmt)
        return kt_error(err, errlen, "empty (set clock = off for no clock)");
    if (clock_format_syntax(fmt, err, errlen) < 0)
        return -1;

    /* The widest text: every month with every weekday, a two-digit day,
     * morning and evening (AM/PM and 12-hour forms differ), in the
     * current locale and zone. strftime returns 0 both for an empty text
     * and for one that does not fit, so the format's length is bounded
     * and the buffer holds any text a format that long can make. */
    if (strlen(fmt) > CLOCK_FORMAT_MAX_FMT)
        return kt_error(err, errlen, "longer than %d characters", CLOCK_FORMAT_MAX_FMT);
    time_t base = 1790000000; /* 2026-09-21 */
    struct tm tm0;
    if (!localtime_r(&base, &tm0))
        return kt_error(err, errlen, "the local time zone cannot be read");
    size_t cap = CLOCK_FORMAT_MAX_FMT * 128;
    char *out = kt_malloc(cap);
    size_t widest = 0;
    for (int mon = 0; mon < 12; mon++)
        for (int wday = 0; wday < 7; wday++)
            for (int hour = 9; hour <= 21; hour += 12) {
                struct tm tm = tm0;
                tm.tm_mon = mon;
                tm.tm_mday = 28;
                tm.tm_wday = wday;
                tm.tm_yday = mon * 30 + 27;
                tm.tm_hour = hour;
                tm.tm_min = 58;
                tm.tm_sec = 59;
                size_t n = strftime(out, cap, fmt, &tm);
                if (n > widest)
                    widest = n;
            }
    free(out);
    if (widest > CLOCK_FORMAT_MAX_TEXT)
        return kt_error(err, errlen, "formats to up to %zu bytes (at most %d)", widest,
                        CLOCK_FORMAT_MAX_TEXT);
    if (widest == 0)
        return kt_error(err, errlen, "formats to nothing in this locale");
    return 0;
}

size_t clock_format_apply(const char *fmt, time_t t, char *out, size_t outlen)
{
    struct tm tm;
    if (!outlen)
        return 0;
    out[0] = '\0';
    if (!localtime_r(&t, &tm))
        return 0;
    size_t n = strftime(out, outlen, fmt, &tm);
    if (n == 0)
        out[0] = '\0'; /* strftime leaves the buffer undefined then */
    return n;
}
