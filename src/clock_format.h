/*
 * clock_format: checks and applies the clock's strftime format. Pure
 * logic (the C library's strftime and localtime_r).
 *
 * strftime has no error for a bad format: glibc prints an unknown "%Q"
 * as is and drops a "%" at the end, so an operator's typo would show on
 * the screen for months. The check accepts the conversions C99 and POSIX
 * define (and E/O only where POSIX allows them) and bounds the text, so
 * the clock box has a size known when the config is read.
 */
#ifndef KT_CLOCK_FORMAT_H
#define KT_CLOCK_FORMAT_H

#include <stddef.h>
#include <time.h>

/* Longest clock text in bytes (the widest month and weekday of the
 * current LC_TIME locale count). */
#define CLOCK_FORMAT_MAX_TEXT 64

/* 0 if fmt is a usable clock format; -1 and err ("column 4: \"%Q\" is not
 * a strftime conversion") otherwise. The width is measured in the locale
 * of LC_TIME at the time of the call, so call it after setlocale. */
int clock_format_check(const char *fmt, char *err, size_t errlen);

/* The clock text for instant t in local time; out holds at least
 * CLOCK_FORMAT_MAX_TEXT + 1 bytes for a checked format. Returns its
 * length; 0 with out "" when the text is empty or does not fit. */
size_t clock_format_apply(const char *fmt, time_t t, char *out, size_t outlen);

#endif
