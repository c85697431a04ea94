/*
 * date: feed timestamps to UTC seconds. Pure logic.
 *
 * Accepts RFC 822/1123 (RSS) and RFC 3339/ISO 8601 (Atom, JSON Feed) with
 * the deviations real feeds have: missing weekday or seconds, 2-digit
 * years, named zones (GMT, UT, Z, EST/EDT, CST/CDT, MST/MDT, PST/PDT,
 * military letters), numeric offsets with or without a colon, fractional
 * seconds, lower-case month names, a space instead of 'T'.
 */
#ifndef KT_DATE_H
#define KT_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parses s; on success stores UTC seconds since the epoch and returns true. */
bool date_parse(const char *s, int64_t *out);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void date_format(int64_t t, char *out, size_t outlen);

/* Days-from-civil without the C library's time zone state. */
int64_t date_from_fields(int year, int month, int day, int hour, int min, int sec);

#endif
