/*
 * date: parses the timestamps feeds carry into UTC seconds, and back.
 *
 * Two grammars, tried in order:
 *   ISO 8601 / RFC 3339:  2024-03-05[(T| )10:20[:30[.123]]][Z|+01:00|+0100|+01| GMT]
 *                         also the basic form 20240305T102030Z
 *   RFC 822 family:       [Tue[sday][,]] 5 Mar[ch] 2024 [10:20[:30]] [zone]
 *                         RFC 850 "Tuesday, 05-Mar-24 10:20:30 GMT",
 *                         asctime "Tue Mar  5 10:20:30 [zone] 2024",
 *                         and "Mar 5, 2024 10:20 [AM|PM] [zone]".
 * The weekday is skipped without checking it: feeds get it wrong often and
 * the date is what counts. Missing zone means UTC. Military single-letter
 * zones other than Z are read as UTC: RFC 822 gave them the wrong sign, so
 * RFC 2822 (section 4.3) says they carry no information. An unknown zone
 * word is UTC as well (feedparser does the same): a timestamp a few hours
 * off orders headlines better than none.
 *
 * Nothing here touches the C library's time zone state.
 */
#include "date.h"

#include <stdio.h>
#include <string.h>

#define DATE_YEAR_MIN 1
#define DATE_YEAR_MAX 9999

struct date_fields {
    int year, month, day, hour, min, sec;
    int offset; /* seconds east of UTC */
};

static bool date_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool date_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char date_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static void date_skip_space(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
        (*p)++;
}

/* Reads min..max digits; false when there are fewer than min. */
static bool date_number(const char **p, int min, int max, int *out, int *ndigits)
{
    int n = 0, v = 0;
    while (n < max && date_is_digit((*p)[n])) {
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n < min)
        return false;
    *p += n;
    *out = v;
    if (ndigits)
        *ndigits = n;
    return true;
}

/* Reads a run of letters (at most cap - 1 kept, lower-cased) and returns
 * its length, which may exceed what was kept. */
static size_t date_word(const char **p, char *word, size_t cap)
{
    size_t n = 0;
    while (date_is_alpha(**p)) {
        if (n + 1 < cap)
            word[n] = date_lower(**p);
        n++;
        (*p)++;
    }
    word[n < cap ? n : cap - 1] = '\0';
    return n;
}

/* 1-12 for "mar", "march", "sept"; 0 otherwise. */
static int date_month(const char *word, size_t len)
{
    static const char *const names[] = {"january",   "february", "march",    "april",
                                        "may",       "june",     "july",     "august",
                                        "september", "october",  "november", "december"};
    if (len < 3)
        return 0;
    for (int m = 0; m < 12; m++) {
        size_t full = strlen(names[m]);
        if (len <= full && strncmp(word, names[m], len) == 0 &&
            (len == 3 || len == full || (m == 8 && len == 4)))
            return m + 1;
    }
    return 0;
}

/* Two-digit years: < 50 is 20xx (RFC 2822 4.3); three digits add 1900. */
static int date_full_year(int y, int ndigits)
{
    if (ndigits == 2)
        return y < 50 ? 2000 + y : 1900 + y;
    if (ndigits == 3)
        return 1900 + y;
    return y;
}

/* hh:mm[:ss[(.|,)fraction]] */
static bool date_time(const char **p, struct date_fields *f)
{
    const char *q = *p;
    if (!date_number(&q, 1, 2, &f->hour, NULL) || *q != ':')
        return false;
    q++;
    if (!date_number(&q, 2, 2, &f->min, NULL))
        return false;
    f->sec = 0;
    if (*q == ':') {
        q++;
        if (!date_number(&q, 2, 2, &f->sec, NULL))
            return false;
        if ((*q == '.' || *q == ',') && date_is_digit(q[1])) {
            q++;
            while (date_is_digit(*q))
                q++;
        }
    }
    *p = q;
    return true;
}

/* +hh, +hhmm, +hh:mm (also with '-'). */
static bool date_offset(const char **p, int *offset)
{
    const char *q = *p;
    int sign = *q == '-' ? -1 : 1, h, m = 0, nd;
    if (*q != '+' && *q != '-')
        return false;
    q++;
    if (!date_number(&q, 2, 4, &h, &nd) || nd == 3)
        return false;
    if (nd == 4) {
        m = h % 100;
        h /= 100;
    } else if (*q == ':') {
        q++;
        if (!date_number(&q, 2, 2, &m, NULL))
            return false;
    }
    if (h > 23 || m > 59)
        return false;
    *offset = sign * (h * 3600 + m * 60);
    *p = q;
    return true;
}

/* A zone name (hours east of UTC). Unknown words are UTC, see the top. */
static int date_zone_hours(const char *word)
{
    static const struct {
        const char *name;
        int hours;
    } zones[] = {
        {"ut", 0},   {"utc", 0},  {"gmt", 0},  {"z", 0},    {"est", -5}, {"edt", -4},
        {"cst", -6}, {"cdt", -5}, {"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7},
        {"ast", -4}, {"adt", -3}, {"cet", 1},  {"cest", 2}, {"eet", 2},  {"eest", 3},
        {"wet", 0},  {"west", 1}, {"bst", 1},  {"jst", 9},
    };
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (strcmp(word, zones[i].name) == 0)
            return zones[i].hours;
    return 0;
}

/* Optional zone: numeric offset (a zone name after it, "+0000 GMT", is
 * redundant and skipped), or a name possibly followed by an offset
 * ("GMT+01:00"), then an optional "(comment)". Nothing there is UTC. */
static bool date_zone(const char **p, int *offset)
{
    char word[8];
    *offset = 0;
    date_skip_space(p);
    if (**p == '+' || **p == '-') {
        if (!date_offset(p, offset))
            return false;
        const char *q = *p;
        date_skip_space(&q);
        if (date_is_alpha(*q) && date_word(&q, word, sizeof word) <= 5)
            *p = q;
    } else if (date_is_alpha(**p)) {
        size_t len = date_word(p, word, sizeof word);
        int extra = 0;
        if (len > 5)
            return false;
        *offset = date_zone_hours(word) * 3600;
        if ((**p == '+' || **p == '-') && date_is_digit((*p)[1])) {
            if (!date_offset(p, &extra))
                return false;
            *offset += extra;
        }
    }
    date_skip_space(p);
    if (**p == '(') {
        const char *close = strchr(*p, ')');
        if (!close)
            return false;
        *p = close + 1;
    }
    return true;
}

static bool date_at_end(const char *p)
{
    date_skip_space(&p);
    return *p == '\0';
}

static bool date_iso(const char *p, struct date_fields *f)
{
    int nd;
    if (!date_number(&p, 4, 8, &f->year, &nd))
        return false;
    if (nd == 8) { /* basic format */
        f->day = f->year % 100;
        f->month = f->year / 100 % 100;
        f->year /= 10000;
    } else if (nd == 4 && *p == '-') {
        p++;
        if (!date_number(&p, 1, 2, &f->month, NULL) || *p != '-')
            return false;
        p++;
        if (!date_number(&p, 1, 2, &f->day, NULL))
            return false;
    } else {
        return false;
    }
    if (*p == 'T' || *p == 't' || (*p == ' ' && date_is_digit(p[1]))) {
        p++;
        if (nd == 8 && date_is_digit(p[0]) && date_is_digit(p[1]) && date_is_digit(p[2])) {
            int hms, tn;
            if (!date_number(&p, 4, 6, &hms, &tn) || tn == 5)
                return false;
            if (tn == 4)
                hms *= 100;
            f->hour = hms / 10000;
            f->min = hms / 100 % 100;
            f->sec = hms % 100;
        } else if (!date_time(&p, f)) {
            return false;
        }
        if (*p == 'Z' || *p == 'z')
            p++;
        else if (!date_zone(&p, &f->offset))
            return false;
    }
    return date_at_end(p);
}

/* Time, an optional AM/PM, a zone. */
static bool date_rfc_time(const char **p, struct date_fields *f, bool zone)
{
    if (!date_time(p, f))
        return false;
    const char *q = *p;
    date_skip_space(&q);
    if ((date_lower(q[0]) == 'a' || date_lower(q[0]) == 'p') && date_lower(q[1]) == 'm' &&
        !date_is_alpha(q[2])) {
        if (f->hour < 1 || f->hour > 12)
            return false;
        f->hour = f->hour % 12 + (date_lower(q[0]) == 'p' ? 12 : 0);
        *p = q + 2;
    }
    return !zone || date_zone(p, &f->offset);
}

static bool date_rfc(const char *p, struct date_fields *f)
{
    char word[16];
    size_t len;
    int nd;

    date_skip_space(&p);
    if (date_is_alpha(*p)) {
        len = date_word(&p, word, sizeof word);
        f->month = date_month(word, len);
        if (!f->month) { /* a weekday, right or wrong */
            if (len < 2 || len > 9)
                return false;
            if (*p == '.')
                p++;
            date_skip_space(&p);
            if (*p == ',')
                p++;
            date_skip_space(&p);
            if (date_is_alpha(*p)) {
                len = date_word(&p, word, sizeof word);
                if (!(f->month = date_month(word, len)))
                    return false;
            }
        }
    }

    if (f->month) { /* "Mar 5, 2024 10:20" or asctime "Mar  5 10:20:30 2024" */
        if (*p == '.')
            p++;
        date_skip_space(&p);
        if (!date_number(&p, 1, 2, &f->day, NULL))
            return false;
        if (*p == ',')
            p++;
        date_skip_space(&p);
        const char *q = p;
        int hour;
        if (date_number(&q, 1, 2, &hour, NULL) && *q == ':') {
            if (!date_rfc_time(&p, f, false))
                return false;
            date_skip_space(&p);
            if (date_is_alpha(*p) && !date_zone(&p, &f->offset))
                return false;
            date_skip_space(&p);
            if (!date_number(&p, 4, 4, &f->year, NULL))
                return false;
            return date_at_end(p);
        }
        if (!date_number(&p, 2, 4, &f->year, &nd))
            return false;
        f->year = date_full_year(f->year, nd);
    } else { /* "5 Mar 2024", "05-Mar-24" */
        if (!date_number(&p, 1, 2, &f->day, NULL))
            return false;
        if (*p == '-')
            p++;
        else
            date_skip_space(&p);
        len = date_word(&p, word, sizeof word);
        if (!(f->month = date_month(word, len)))
            return false;
        if (*p == '.')
            p++;
        if (*p == '-')
            p++;
        else
            date_skip_space(&p);
        if (!date_number(&p, 2, 4, &f->year, &nd))
            return false;
        f->year = date_full_year(f->year, nd);
    }

    if (*p == ',')
        p++;
    if (date_at_end(p))
        return true;
    if (*p != ' ' && *p != '\t')
        return false;
    date_skip_space(&p);
    if (!date_rfc_time(&p, f, true))
        return false;
    return date_at_end(p);
}

static int date_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static bool date_valid(const struct date_fields *f)
{
    if (f->year < DATE_YEAR_MIN || f->year > DATE_YEAR_MAX || f->month < 1 || f->month > 12)
        return false;
    if (f->day < 1 || f->day > date_days_in_month(f->year, f->month))
        return false;
    if (f->hour == 24)
        return f->min == 0 && f->sec == 0;
    return f->hour <= 23 && f->min <= 59 && f->sec <= 60;
}

bool date_parse(const char *s, int64_t *out)
{
    struct date_fields f;
    if (!s)
        return false;
    memset(&f, 0, sizeof f);
    const char *p = s;
    date_skip_space(&p);
    if (!date_iso(p, &f)) {
        memset(&f, 0, sizeof f);
        if (!date_rfc(p, &f))
            return false;
    }
    if (!date_valid(&f))
        return false;
    /* 24:00:00 and a leap second roll over into the next day or minute */
    *out = date_from_fields(f.year, f.month, f.day, f.hour, f.min, f.sec) - f.offset;
    return true;
}

/* floor(a / b) for b > 0. */
static int64_t date_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q * b > a ? q - 1 : q;
}

/* Howard Hinnant's days_from_civil, with the month normalised first so any
 * int arguments stay defined. */
int64_t date_from_fields(int year, int month, int day, int hour, int min, int sec)
{
    int64_t y = (int64_t)year + date_floor_div((int64_t)month - 1, 12);
    int64_t m = (int64_t)month - 1 - date_floor_div((int64_t)month - 1, 12) * 12 + 1;
    y -= m <= 2;
    int64_t era = date_floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468 + ((int64_t)day - 1);
    return days * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}

void date_format(int64_t t, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    /* not floor_div: days * 86400 would overflow for t near INT64_MIN */
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    /* civil_from_days */
    int64_t z = days + 719468;
    int64_t era = date_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(out, outlen, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", (long long)y, (long long)m,
             (long long)d, (long long)(secs / 3600), (long long)(secs / 60 % 60),
             (long long)(secs % 60));
}
