/*
 * hours: office hours and day-parts (hours.h has the syntax and the
 * daylight saving time rule).
 *
 * Everything is computed on two time lines: "wall" seconds (what the local
 * clock shows, counted as if it were UTC, so days are always 86400 s and
 * weekdays are arithmetic) and real instants (time_t). An entry is a wall
 * interval per day; hours_local_to_time maps its ends to instants, and the
 * on/off state and the next change are read off the union of those
 * instant intervals. Nothing is evaluated by comparing wall clock fields,
 * so a repeated hour cannot turn a range on twice.
 */
#include "hours.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "util.h"

#define DAY_SECS 86400
#define ALL_DAYS 0x7f
/* Offsets from UTC lie within -12 h..+14 h; a window wider than any
 * offset difference (Samoa skipped a whole day in 2011) sees every
 * transition that can matter for one wall time. */
#define TZ_WINDOW (27 * 3600)
#define TZ_STEP 3600
#define TZ_MAX_PIECES 16

static const char *const hours_day_short[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const hours_day_long[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                              "thursday", "friday", "saturday"};

/* ---- local time ------------------------------------------------------- */

static long hours_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return 0;
    return tm.tm_gmtoff;
}

/* The first instant in (lo, hi] whose offset differs from lo's (the
 * offsets at lo and hi differ). */
static int64_t hours_transition(int64_t lo, int64_t hi)
{
    long o = hours_offset(lo);
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (hours_offset(mid) == o)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

time_t hours_local_to_time(int64_t wall)
{
    /* Almost always: one offset around, one solution. */
    long o = hours_offset(wall);
    int64_t t = wall - o;
    long o2 = hours_offset(t);
    if (o2 != o) {
        o = o2;
        t = wall - o;
    }
    if (hours_offset(t) == o && hours_offset(t - TZ_WINDOW) == o &&
        hours_offset(t + TZ_WINDOW) == o)
        return (time_t)t;

    /* Near a transition: cut the window into pieces of one offset each;
     * a solution is t = wall - offset lying in its own piece. */
    int64_t start[TZ_MAX_PIECES + 1];
    long off[TZ_MAX_PIECES];
    int n = 0;
    int64_t lo = wall - TZ_WINDOW, hi = wall + TZ_WINDOW;
    start[0] = lo;
    off[0] = hours_offset(lo);
    for (int64_t a = lo; a < hi && n < TZ_MAX_PIECES - 1; a += TZ_STEP) {
        int64_t b = a + TZ_STEP < hi ? a + TZ_STEP : hi;
        if (hours_offset(b) != off[n]) {
            int64_t s = hours_transition(a, b);
            n++;
            start[n] = s;
            off[n] = hours_offset(s);
        }
    }
    n++;
    start[n] = hi + 1;

    /* Shown twice: the first time. */
    for (int i = 0; i < n; i++) {
        int64_t cand = wall - off[i];
        if (cand >= start[i] && cand < start[i + 1])
            return (time_t)cand;
    }
    /* Skipped: the transition that jumps over it, where the clock first
     * shows a time after the gap. */
    for (int i = 1; i < n; i++)
        if (start[i] + off[i - 1] <= wall && wall < start[i] + off[i])
            return (time_t)start[i];
    return (time_t)(wall - hours_offset(wall));
}

static int64_t hours_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Weekday (0 = Sunday) of wall day number d (days since 1970-01-01, a
 * Thursday). */
static int hours_weekday(int64_t d)
{
    int64_t w = (d + 4) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/* ---- evaluation ------------------------------------------------------- */

struct hours_span {
    int64_t s, e; /* instants, [s, e) */
};

/* The occurrences of every range on wall days first..last. */
static size_t hours_spans(const struct hours *h, int64_t first, int64_t last,
                          struct hours_span *out)
{
    size_t n = 0;
    for (int64_t d = first; d <= last; d++) {
        int w = hours_weekday(d);
        for (int i = 0; i < h->n; i++) {
            const struct hours_range *r = &h->r[i];
            if (!(r->days & (1u << w)))
                continue;
            int64_t ws = d * DAY_SECS + (int64_t)r->start * 60;
            int64_t we = (r->end > r->start ? d : d + 1) * DAY_SECS + (int64_t)r->end * 60;
            int64_t s = hours_local_to_time(ws), e = hours_local_to_time(we);
            if (s < e) /* empty when both ends fall in one skipped hour */
                out[n++] = (struct hours_span){s, e};
        }
    }
    return n;
}

static int64_t hours_wall_day(time_t now)
{
    return hours_floor_div((int64_t)now + hours_offset(now), DAY_SECS);
}

/* Years 1900..9999: beyond them the wall arithmetic could overflow, and
 * no clock shows such a time. */
static bool hours_in_range(time_t now)
{
    return (int64_t)now >= -2208988800 && (int64_t)now <= 253402300799;
}

bool hours_is_on(const struct hours *h, time_t now)
{
    if (h->kind != HOURS_RANGES)
        return h->kind == HOURS_ALWAYS;
    if (!hours_in_range(now))
        return false;
    /* Yesterday's ranges may run past midnight; a clock set back over
     * midnight makes tomorrow's start before the wall date changes. */
    struct hours_span sp[4 * HOURS_MAX_RANGES];
    int64_t d = hours_wall_day(now);
    size_t n = hours_spans(h, d - 2, d + 1, sp);
    for (size_t i = 0; i < n; i++)
        if (sp[i].s <= now && now < sp[i].e)
            return true;
    return false;
}

static int hours_span_cmp(const void *a, const void *b)
{
    const struct hours_span *x = a, *y = b;
    return x->s < y->s ? -1 : x->s > y->s;
}

/* Days looked at after today: the union is exact up to the start of day
 * today + HOURS_AHEAD, and seeing no change over more than a whole week
 * of a weekly schedule means it never changes. */
#define HOURS_AHEAD 9

bool hours_next_change(const struct hours *h, time_t now, time_t *next)
{
    if (h->kind != HOURS_RANGES || !hours_in_range(now))
        return false;
    struct hours_span sp[(HOURS_AHEAD + 2) * HOURS_MAX_RANGES];
    int64_t d = hours_wall_day(now);
    size_t n = hours_spans(h, d - 2, d + HOURS_AHEAD - 1, sp);
    int64_t limit = hours_local_to_time((d + HOURS_AHEAD) * DAY_SECS);
    qsort(sp, n, sizeof sp[0], hours_span_cmp);

    /* Walk the union span by merged span: the first one that contains now
     * ends the "on" state, the first one after now ends the "off" one. */
    int64_t change = -1;
    for (size_t i = 0; i < n && change < 0;) {
        int64_t s = sp[i].s, e = sp[i].e;
        for (i++; i < n && sp[i].s <= e; i++)
            if (sp[i].e > e)
                e = sp[i].e;
        if (s <= now && now < e)
            change = e;
        else if (s > now)
            change = s;
    }
    if (change < 0 || change >= limit)
        return false;
    *next = (time_t)change;
    return true;
}

/* ---- parsing ---------------------------------------------------------- */

struct hours_parser {
    const char *s, *p;
    char *err;
    size_t errlen;
};

/* Column of p for error messages: characters, not bytes, from 1. */
static int hours_column(const struct hours_parser *ps, const char *p)
{
    int col = 1;
    for (const char *q = ps->s; q < p; q++)
        if (((unsigned char)*q & 0xc0) != 0x80)
            col++;
    return col;
}

static int hours_fail(struct hours_parser *ps, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int hours_fail(struct hours_parser *ps, const char *at, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kt_error(ps->err, ps->errlen, "column %d: %s", hours_column(ps, at), msg);
}

static void hours_skip_space(struct hours_parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t')
        ps->p++;
}

/* A range dash: '-' or an en dash (U+2013), which word processors put in
 * "Mon–Fri". Returns its length, 0 if none. */
static size_t hours_dash(const char *p)
{
    if (*p == '-')
        return 1;
    if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x93)
        return 3;
    return 0;
}

/* The token at p for messages: a word, a time, or one character. */
static void hours_token(const char *p, char *out, size_t n)
{
    size_t len = 0;
    if (isalpha((unsigned char)*p))
        while (isalpha((unsigned char)p[len]))
            len++;
    else if (isdigit((unsigned char)*p))
        while (isdigit((unsigned char)p[len]) || p[len] == ':')
            len++;
    else if (*p) {
        len = 1;
        while (((unsigned char)p[len] & 0xc0) == 0x80)
            len++;
    }
    if (len >= n)
        len = n - 1;
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
        snprintf(out, n, "\\x%02x", (unsigned char)*p);
    else {
        memcpy(out, p, len);
        out[len] = '\0';
    }
}

static bool hours_word_is(const char *p, size_t len, const char *w)
{
    return strlen(w) == len && strncasecmp(p, w, len) == 0;
}

static size_t hours_word_len(const char *p)
{
    size_t n = 0;
    while (isalpha((unsigned char)p[n]))
        n++;
    return n;
}

/* A day name at ps->p: its weekday, 7 for daily / "*", -1 (error set). */
static int hours_day(struct hours_parser *ps)
{
    const char *p = ps->p;
    if (*p == '*') {
        ps->p++;
        return 7;
    }
    size_t len = hours_word_len(p);
    if (len == 0) {
        char tok[32];
        hours_token(p, tok, sizeof tok);
        if (!*p)
            return hours_fail(ps, p, "a day is missing at the end");
        return hours_fail(ps, p, "\"%s\" is not a day (Mon…Sun)", tok);
    }
    ps->p += len;
    if (hours_word_is(p, len, "daily"))
        return 7;
    for (int d = 0; d < 7; d++)
        if (hours_word_is(p, len, hours_day_short[d]) || hours_word_is(p, len, hours_day_long[d]))
            return d;
    char tok[32];
    hours_token(p, tok, sizeof tok);
    if (hours_word_is(p, len, "always") || hours_word_is(p, len, "never") ||
        hours_word_is(p, len, "off"))
        return hours_fail(ps, p, "\"%s\" stands alone, not in a list of ranges", tok);
    return hours_fail(ps, p, "\"%s\" is not a day (Mon…Sun)", tok);
}

/* DAY[-DAY][, DAY[-DAY]]... as a day mask; 0 on error. */
static int hours_days(struct hours_parser *ps)
{
    int mask = 0;
    for (;;) {
        const char *at = ps->p;
        int a = hours_day(ps);
        if (a < 0)
            return 0;
        hours_skip_space(ps);
        size_t dash = hours_dash(ps->p);
        if (a == 7) {
            if (dash)
                return hours_fail(ps, at, "\"daily\" takes no range"), 0;
            mask = ALL_DAYS;
        } else if (dash) {
            ps->p += dash;
            hours_skip_space(ps);
            const char *bat = ps->p;
            int b = hours_day(ps);
            if (b < 0)
                return 0;
            if (b == 7)
                return hours_fail(ps, bat, "\"daily\" cannot end a range of days"), 0;
            for (int d = a;; d = (d + 1) % 7) {
                mask |= 1 << d;
                if (d == b)
                    break;
            }
        } else {
            mask |= 1 << a;
        }
        hours_skip_space(ps);
        /* A comma continues the days only if a day follows it; otherwise
         * it ends the entry. */
        if (*ps->p != ',')
            return mask;
        const char *q = ps->p + 1;
        while (*q == ' ' || *q == '\t')
            q++;
        if (!isalpha((unsigned char)*q) && *q != '*')
            return mask;
        size_t len = hours_word_len(q);
        if (hours_word_is(q, len, "always") || hours_word_is(q, len, "never") ||
            hours_word_is(q, len, "off"))
            return mask; /* the next entry reports it */
        ps->p = q;
    }
}

/* HH:MM as minutes 0..1440; -1 on error. */
static int hours_time(struct hours_parser *ps, bool is_start)
{
    const char *p = ps->p;
    char tok[32];
    hours_token(p, tok, sizeof tok);
    int h = 0, nd = 0;
    while (isdigit((unsigned char)p[nd]) && nd < 3)
        h = h * 10 + (p[nd] - '0'), nd++;
    if (nd == 0) {
        if (!*p)
            return hours_fail(ps, p, "a time is missing at the end (HH:MM)");
        return hours_fail(ps, p, "\"%s\" is not a time (HH:MM)", tok);
    }
    if (nd > 2 || p[nd] != ':' || !isdigit((unsigned char)p[nd + 1]) ||
        !isdigit((unsigned char)p[nd + 2]) || isdigit((unsigned char)p[nd + 3]) || p[nd + 3] == ':')
        return hours_fail(ps, p, "\"%s\" is not a time (HH:MM)", tok);
    int m = (p[nd + 1] - '0') * 10 + (p[nd + 2] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0))
        return hours_fail(ps, p, "\"%s\" is not a time of day (00:00…24:00)", tok);
    if (h == 24 && is_start)
        return hours_fail(ps, p, "\"%s\" cannot start a range (use 00:00)", tok);
    ps->p = p + nd + 3;
    return h * 60 + m;
}

static int hours_entry(struct hours_parser *ps, struct hours *out)
{
    const char *at = ps->p;
    int days = 0;
    if (isalpha((unsigned char)*ps->p) || *ps->p == '*') {
        days = hours_days(ps);
        if (!days)
            return -1;
        hours_skip_space(ps);
    } else if (!isdigit((unsigned char)*ps->p)) {
        char tok[32];
        hours_token(ps->p, tok, sizeof tok);
        if (!*ps->p)
            return hours_fail(ps, ps->p, "a range is missing at the end");
        return hours_fail(ps, ps->p, "expected a day or a time, found \"%s\"", tok);
    }
    int start = 0, end = 24 * 60;
    if (isdigit((unsigned char)*ps->p)) {
        const char *tat = ps->p;
        if ((start = hours_time(ps, true)) < 0)
            return -1;
        hours_skip_space(ps);
        size_t dash = hours_dash(ps->p);
        if (!dash) {
            char tok[32];
            hours_token(*ps->p ? ps->p : tat, tok, sizeof tok);
            if (!*ps->p)
                return hours_fail(ps, ps->p, "expected \"-\" and an end time after \"%s\"", tok);
            return hours_fail(ps, ps->p, "expected \"-\" and an end time, found \"%s\"", tok);
        }
        ps->p += dash;
        hours_skip_space(ps);
        if ((end = hours_time(ps, false)) < 0)
            return -1;
        if (end == start)
            return hours_fail(ps, tat,
                              "the range starts where it ends (00:00-24:00 is a whole day)");
    }
    if (out->n >= HOURS_MAX_RANGES)
        return hours_fail(ps, at, "more than %d ranges", HOURS_MAX_RANGES);
    /* "22:00-00:00" is "22:00-24:00": the same instants, one canonical form. */
    out->r[out->n++] = (struct hours_range){
        .days = (uint8_t)(days ? days : ALL_DAYS),
        .start = (uint16_t)start,
        .end = (uint16_t)(end == 0 ? 24 * 60 : end),
    };
    return 0;
}

int hours_parse(const char *s, struct hours *out, char *err, size_t errlen)
{
    struct hours_parser ps = {.s = s, .p = s, .err = err, .errlen = errlen};
    struct hours h = {.kind = HOURS_RANGES};
    hours_skip_space(&ps);
    if (!*ps.p)
        return kt_error(err, errlen,
                        "empty: write always, never, or ranges like Mon-Fri 07:00-19:30");
    size_t len = hours_word_len(ps.p);
    const char *at = ps.p;
    enum hours_kind kw = HOURS_RANGES;
    if (hours_word_is(at, len, "always"))
        kw = HOURS_ALWAYS;
    else if (hours_word_is(at, len, "never") || hours_word_is(at, len, "off"))
        kw = HOURS_NEVER;
    if (kw != HOURS_RANGES) {
        ps.p += len;
        hours_skip_space(&ps);
        if (*ps.p) {
            char tok[32];
            hours_token(at, tok, sizeof tok);
            return hours_fail(&ps, at, "\"%s\" stands alone, not in a list of ranges", tok);
        }
        *out = (struct hours){.kind = kw};
        return 0;
    }
    for (;;) {
        if (hours_entry(&ps, &h) < 0)
            return -1;
        hours_skip_space(&ps);
        if (!*ps.p)
            break;
        if (*ps.p != ',') {
            char tok[32];
            hours_token(ps.p, tok, sizeof tok);
            return hours_fail(&ps, ps.p, "expected \",\" before the next range, found \"%s\"", tok);
        }
        ps.p++;
        hours_skip_space(&ps);
    }
    *out = h;
    return 0;
}

bool hours_equal(const struct hours *a, const struct hours *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind != HOURS_RANGES)
        return true;
    if (a->n != b->n)
        return false;
    for (int i = 0; i < a->n; i++)
        if (a->r[i].days != b->r[i].days || a->r[i].start != b->r[i].start ||
            a->r[i].end != b->r[i].end)
            return false;
    return true;
}

/* ---- formatting ------------------------------------------------------- */

static void hours_put_days(struct kt_buf *b, uint8_t days)
{
    if ((days & ALL_DAYS) == ALL_DAYS) {
        kt_buf_puts(b, "daily");
        return;
    }
    /* Runs on the circular week, listed from Monday on: a run starts at a
     * set day whose previous day is not set, so Fri-Mon stays one run. */
    bool first = true;
    for (int i = 0; i < 7; i++) {
        int d = (i + 1) % 7; /* Monday first */
        int prev = (d + 6) % 7;
        if (!(days & (1 << d)) || (days & (1 << prev)))
            continue;
        int e = d;
        while (days & (1 << ((e + 1) % 7)))
            e = (e + 1) % 7;
        if (!first)
            kt_buf_putc(b, ',');
        first = false;
        kt_buf_puts(b, hours_day_short[d]);
        if (e != d) {
            kt_buf_putc(b, '-');
            kt_buf_puts(b, hours_day_short[e]);
        }
    }
}

size_t hours_format(const struct hours *h, char *out, size_t outlen)
{
    struct kt_buf b;
    kt_buf_init(&b);
    if (h->kind == HOURS_ALWAYS)
        kt_buf_puts(&b, "always");
    else if (h->kind == HOURS_NEVER)
        kt_buf_puts(&b, "never");
    for (int i = 0; h->kind == HOURS_RANGES && i < h->n; i++) {
        const struct hours_range *r = &h->r[i];
        if (i)
            kt_buf_puts(&b, ", ");
        /* Days alone only last: "Mon, Tue 10:00-12:00" would read back as
         * one entry for both days. */
        bool whole = r->start == 0 && r->end == 24 * 60 && i == h->n - 1;
        hours_put_days(&b, r->days);
        if (!whole)
            kt_buf_printf(&b, " %02d:%02d-%02d:%02d", r->start / 60, r->start % 60, r->end / 60,
                          r->end % 60);
    }
    size_t need = b.len;
    if (outlen) {
        size_t n = need < outlen - 1 ? need : outlen - 1;
        memcpy(out, b.data, n);
        out[n] = '\0';
    }
    kt_buf_free(&b);
    return need;
}

/* ---- --now ------------------------------------------------------------ */

static bool hours_digits(const char *p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return false;
        *v = *v * 10 + (p[i] - '0');
    }
    return true;
}

static int hours_days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : len[m - 1];
}

int hours_parse_now(const char *s, time_t *out, char *err, size_t errlen)
{
    const char *usage = "expected YYYY-MM-DDTHH:MM[:SS] (local time)";
    int y, mo, d, h, mi, sec = 0;
    size_t len = strlen(s);
    if (len < 16 || !hours_digits(s, 4, &y) || s[4] != '-' || !hours_digits(s + 5, 2, &mo) ||
        s[7] != '-' || !hours_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
        !hours_digits(s + 11, 2, &h) || s[13] != ':' || !hours_digits(s + 14, 2, &mi))
        return kt_error(err, errlen, "\"%s\": %s", s, usage);
    const char *p = s + 16;
    if (*p == ':') {
        if (!hours_digits(p + 1, 2, &sec))
            return kt_error(err, errlen, "\"%s\": %s", s, usage);
        p += 3;
    }
    if (mo < 1 || mo > 12)
        return kt_error(err, errlen, "\"%s\": month %d is not 1…12", s, mo);
    if (y < 1970)
        return kt_error(err, errlen, "\"%s\": year %d is before 1970", s, y);
    if (d < 1 || d > hours_days_in_month(y, mo))
        return kt_error(err, errlen, "\"%s\": day %d is not in %04d-%02d", s, d, y, mo);
    if (h > 23 || mi > 59 || sec > 59)
        return kt_error(err, errlen, "\"%s\": %02d:%02d:%02d is not a time of day", s, h, mi, sec);
    if (*p) {
        /* A zone says which instant: date.c reads RFC 3339 zones. */
        int64_t t;
        if (!date_parse(s, &t))
            return kt_error(err, errlen, "\"%s\": %s, or with a zone (Z, +01:00)", s, usage);
        *out = (time_t)t;
        return 0;
    }
    *out = hours_local_to_time(date_from_fields(y, mo, d, h, mi, sec));
    return 0;
}
