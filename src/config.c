/*
 * config: builds and validates struct config from a document (config_doc.c)
 * through two tables. sections[] has one row per section kind: its header
 * word, whether it is named and repeatable ([feed NAME]) or a singleton
 * ([ticker]), where its struct lives in struct config, and whether only the
 * local file may give it. options[] has one row per key: its section, type,
 * default, range, flags and help. The validation errors, the defaults,
 * --help and the README reference all come from them, so a key cannot
 * exist in one place and be missing in another.
 *
 * A new section kind is a row in sections[] plus its struct in struct
 * config; a new key is a row in options[] plus a field in its struct.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "util.h"

enum opt_type {
    OPT_DURATION, /* int64_t seconds */
    OPT_INT,      /* int */
    OPT_SIZE,     /* int64_t bytes */
    OPT_DOUBLE,   /* double */
    OPT_STRING,   /* char * */
    OPT_REGEX,    /* struct strlist, repeatable, each a valid regex */
    OPT_ENUM,     /* int, one of names */
    OPT_COLOR,    /* struct color */
    OPT_BOOL,     /* bool */
    OPT_WXH,      /* two adjacent ints */
    OPT_HEIGHT,   /* int, or "auto" = 0 */
};

enum opt_flag {
    OPTF_REQUIRED = 1 << 0, /* a named section must set it: 'feed "x" has no url' */
    OPTF_NONEMPTY = 1 << 1, /* a text that must not be empty */
    OPTF_PATH = 1 << 2,     /* a relative path in it is relative to its origin's directory */
};

struct config_option {
    const char *section; /* kind of its section (sections[].kind) */
    const char *key;
    enum opt_type type;
    size_t offset;            /* into its section's struct */
    const char *def;          /* default, in config syntax; NULL = unset (zero) */
    double min, max;          /* numeric range */
    const char *const *names; /* OPT_ENUM */
    unsigned flags;           /* enum opt_flag */
    /* A further check of an OPT_STRING value: 0, or -1 with a message. */
    int (*check)(const char *value, char *why, size_t whylen);
    const char *help;
};

struct config_section_def {
    const char *kind;                /* the header's first word */
    const char *title;               /* in messages and the reference: "feed NAME" */
    bool named;                      /* [kind NAME], any number; else at most one [kind] */
    bool local_only;                 /* never taken from a remote config (config_overlay) */
    size_t offset;                   /* singleton: its struct in struct config; named: the array */
    size_t count_offset;             /* named: the size_t count */
    size_t item_size;                /* named: size of one item */
    size_t name_offset, line_offset; /* named: char *name, int line in the item */
    /* After every section is read: defaults that depend on other values and
     * checks across keys. base is the section's struct (an item for a named
     * one), sec its document section (NULL for a singleton the file lacks). */
    int (*finish)(struct config *cfg, void *base, const struct config_section *sec, char *err,
                  size_t errlen);
};

static int ticker_finish(struct config *cfg, void *base, const struct config_section *sec,
                         char *err, size_t errlen);
static int feed_finish(struct config *cfg, void *base, const struct config_section *sec, char *err,
                       size_t errlen);
static int url_check(const char *value, char *why, size_t whylen);

#define SINGLE(field) .offset = offsetof(struct config, field)
#define NAMED(array, count, type)                                                                  \
    .named = true, .offset = offsetof(struct config, array),                                       \
    .count_offset = offsetof(struct config, count), .item_size = sizeof(type),                     \
    .name_offset = offsetof(type, name), .line_offset = offsetof(type, line)

/* In the order of the reference. */
static const struct config_section_def sections[] = {
    {"ticker", "ticker", .offset = 0, .finish = ticker_finish},
    {"feed", "feed NAME", NAMED(feeds, n_feeds, struct cfg_feed), .finish = feed_finish},
    {"display", "display", SINGLE(display)},
};

#define N_SECTIONS (sizeof sections / sizeof sections[0])

static const char *const order_names[] = {"newest", "feeds", "interleave", NULL};
static const char *const mode_names[] = {"fullscreen", "window", NULL};
static const char *const position_names[] = {"bottom", "top", "fill", NULL};
static const char *const direction_names[] = {"left", "right", NULL};

#define T(field) offsetof(struct config, field)
#define F(field) offsetof(struct cfg_feed, field)
#define D(field) offsetof(struct cfg_display, field)
#define DAY (86400.0)

static const struct config_option options[] = {
    {"ticker", "refresh", OPT_DURATION, T(refresh), "15m", 30, 7 * DAY,
     .help = "how often each feed is fetched (90s, 15m, 2h); RSS <ttl> is a lower bound"},
    {"ticker", "max_items", OPT_INT, T(max_items), "100", 1, 100000,
     .help = "most headlines shown in one loop"},
    {"ticker", "max_age", OPT_DURATION, T(max_age), "0", 0, 3650 * DAY,
     .help = "drop headlines older than this (by date, else by when first seen); 0 = keep"},
    {"ticker", "max_chars", OPT_INT, T(max_chars), "200", 10, 10000,
     .help = "longest headline in characters; longer ones are cut at a word with '…'"},
    {"ticker", "exclude", OPT_REGEX, T(exclude), NULL,
     .help = "drop headlines matching this regex (extended syntax, PCRE2: case-insensitive, "
             "Unicode-aware); repeatable"},
    {"ticker", "order", OPT_ENUM, T(order), "newest", .names = order_names,
     .help = "newest first, feeds in config order, or interleave feeds round-robin"},
    {"ticker", "cache", OPT_STRING, T(cache), NULL,
     .help = "cache file (default: $STATE_DIRECTORY/cache.tsv, else "
             "$XDG_STATE_HOME/kiosk-ticker/cache.tsv)"},
    {"ticker", "timeout", OPT_DURATION, T(timeout), "20s", 1, 600,
     .help = "give up on a fetch after this long"},
    {"ticker", "connect_timeout", OPT_DURATION, T(connect_timeout), "10s", 1, 600,
     .help = "give up connecting after this long"},
    {"ticker", "max_bytes", OPT_SIZE, T(max_bytes), "5M", 1024, 1024.0 * 1024 * 1024,
     .help = "largest feed accepted, after decompression (512K, 5M)"},
    {"ticker", "user_agent", OPT_STRING, T(user_agent), "kiosk-ticker/" KT_VERSION,
     .help = "User-Agent header sent with every request"},
    {"ticker", "ca_file", OPT_STRING, T(ca_file), NULL,
     .help = "PEM file of trusted CAs (default: the system store); TLS is always verified"},

    {"feed", "url", OPT_STRING, F(url), NULL, .flags = OPTF_REQUIRED | OPTF_NONEMPTY | OPTF_PATH,
     .check = url_check,
     .help = "http(s):// or file:// URL, or a path (a text file: one headline per line)"},
    {"feed", "label", OPT_STRING, F(label), NULL,
     .help = "shown before the feed's headlines (default: the feed's NAME)"},
    {"feed", "refresh", OPT_DURATION, F(refresh), NULL, 30, 7 * DAY,
     .help = "this feed's refresh (default: [ticker] refresh)"},
    {"feed", "max_items", OPT_INT, F(max_items), NULL, 1, 100000,
     .help = "most headlines taken from this feed (its first N)"},
    {"feed", "exclude", OPT_REGEX, F(exclude), NULL,
     .help = "as [ticker] exclude, for this feed only; repeatable"},

    {"display", "mode", OPT_ENUM, D(mode), "fullscreen", .names = mode_names,
     .help = "fullscreen (the display's native mode) or window"},
    {"display", "screen", OPT_INT, D(screen), "0", 0, 15, .help = "display index"},
    {"display", "size", OPT_WXH, D(width), "1280x720", 16, 16384,
     .help = "window size WxH (window mode)"},
    {"display", "position", OPT_ENUM, D(position), "bottom", .names = position_names,
     .help = "where the strip sits: bottom, top, or fill the whole window"},
    {"display", "height", OPT_HEIGHT, D(height), "auto", 8, 4096,
     .help = "strip height in pixels, or auto (from the font's line height)"},
    {"display", "background", OPT_COLOR, D(background), "#101820",
     .help = "strip colour, #RRGGBB or #RRGGBBAA"},
    {"display", "foreground", OPT_COLOR, D(foreground), "#FFFFFF", .help = "headline text colour"},
    {"display", "label_color", OPT_COLOR, D(label_color), "#FFB000", .help = "feed label colour"},
    {"display", "separator", OPT_STRING, D(separator), "\" • \"",
     .help = "text between headlines (quote it to keep spaces)"},
    {"display", "font", OPT_STRING, D(font), "DejaVu Sans:bold", .flags = OPTF_NONEMPTY,
     .help = "fontconfig pattern (DejaVu Sans:bold) or a font file path"},
    {"display", "font_size", OPT_INT, D(font_size), "40", 6, 1000, .help = "font size in pixels"},
    {"display", "speed", OPT_DOUBLE, D(speed), "120", 1, 5000,
     .help = "scrolling speed in pixels per second"},
    {"display", "direction", OPT_ENUM, D(direction), "left", .names = direction_names,
     .help = "text moves left or right"},
    {"display", "idle_text", OPT_STRING, D(idle_text), "Waiting for headlines…",
     .help = "shown while there are no headlines at all"},
    {"display", "snap_speed", OPT_BOOL, D(snap_speed), "yes",
     .help = "round the speed to whole pixels per refresh when the refresh rate is known "
             "(crisper text)"},
    {"display", "vsync", OPT_BOOL, D(vsync), "yes",
     .help = "wait for the display's refresh (no tearing)"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

/* OPT_WXH writes the height into the int after the width. */
_Static_assert(offsetof(struct cfg_display, height_window) ==
                   offsetof(struct cfg_display, width) + sizeof(int),
               "size = WxH needs height_window right after width");

/* ---- numbers ---- */

/* Scans a decimal number at s (see config_parse_number) and returns the
 * end, or NULL. Written out rather than strtod, which also takes hex,
 * exponents, inf, nan, leading blanks and '+', and follows the locale's
 * decimal point. Digits past what a double holds only scale the value. */
static const char *config_scan_number(const char *s, double *out)
{
    const char *p = s;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (!isdigit((unsigned char)*p))
        return NULL;
    double v = 0;
    for (; isdigit((unsigned char)*p); p++)
        v = v < 1e300 ? v * 10 + (*p - '0') : v;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return NULL;
        uint64_t frac = 0;
        double scale = 1;
        for (; isdigit((unsigned char)*p); p++) {
            if (scale < 1e18) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                scale *= 10;
            }
        }
        v += (double)frac / scale;
    }
    *out = neg ? -v : v;
    return p;
}

int config_parse_number(const char *s, double *out)
{
    double v;
    const char *end = config_scan_number(s, &v);
    if (!end || *end)
        return -1;
    *out = v;
    return 0;
}

/* A whole decimal number (no '.'), saturated far outside any range. */
static int config_parse_whole(const char *s, double *out)
{
    return strchr(s, '.') ? -1 : config_parse_number(s, out);
}

/* Seconds, unrounded; -1 when s is not a duration. */
static int config_scan_duration(const char *s, double *out)
{
    double v;
    const char *end = config_scan_number(s, &v);
    if (!end || *s == '-')
        return -1;
    static const struct {
        char unit;
        double seconds;
    } units[] = {{'\0', 1}, {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (*end == units[i].unit && (!*end || !end[1])) {
            *out = v * units[i].seconds;
            return 0;
        }
    }
    return -1;
}

int config_parse_duration(const char *s, int64_t *out)
{
    double v;
    if (config_scan_duration(s, &v) < 0 || v > 1e12)
        return -1;
    *out = (int64_t)llround(v);
    return 0;
}

/* Bytes, unrounded; -1 when s is not a size. */
static int config_scan_size(const char *s, double *out)
{
    double v;
    const char *end = config_scan_number(s, &v);
    if (!end || *s == '-')
        return -1;
    double mul = 1;
    switch (toupper((unsigned char)*end)) {
    case '\0':
        break;
    case 'K':
        mul = 1024;
        break;
    case 'M':
        mul = 1024 * 1024;
        break;
    case 'G':
        mul = 1024.0 * 1024 * 1024;
        break;
    default:
        return -1;
    }
    if (*end) {
        end++;
        if (toupper((unsigned char)*end) == 'I')
            end++;
        if (toupper((unsigned char)*end) == 'B')
            end++;
        if (*end)
            return -1;
    }
    *out = v * mul;
    return 0;
}

int config_parse_size(const char *s, int64_t *out)
{
    double v;
    if (config_scan_size(s, &v) < 0 || v > 1e15)
        return -1;
    *out = (int64_t)llround(v);
    return 0;
}

int config_parse_wxh(const char *s, int *w, int *h)
{
    const char *x = strpbrk(s, "xX");
    if (!x)
        return -1;
    char *ws = kt_strndup(s, (size_t)(x - s));
    double dw, dh;
    int rc = config_parse_whole(ws, &dw) == 0 && config_parse_whole(x + 1, &dh) == 0 && *s != '-' &&
                     x[1] != '-'
                 ? 0
                 : -1;
    free(ws);
    if (rc == 0) {
        *w = dw > INT_MAX ? INT_MAX : (int)dw;
        *h = dh > INT_MAX ? INT_MAX : (int)dh;
    }
    return rc;
}

static int parse_color(const char *s, struct color *c)
{
    size_t n = strlen(s);
    if (s[0] != '#' || (n != 7 && n != 9))
        return -1;
    for (size_t i = 1; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return -1;
    unsigned long v = strtoul(s + 1, NULL, 16);
    if (n == 7)
        v = (v << 8) | 0xff;
    c->r = (uint8_t)(v >> 24);
    c->g = (uint8_t)(v >> 16);
    c->b = (uint8_t)(v >> 8);
    c->a = (uint8_t)v;
    return 0;
}

static int parse_bool(const char *s, bool *b)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *b = true, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *b = false, 0;
    }
    return -1;
}

static void strlist_add(struct strlist *l, const char *s)
{
    l->v = kt_realloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = kt_strdup(s);
}

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* 604800 -> "7d", 90 -> "90s": the largest unit that divides it. */
static void format_duration(double v, char *buf, size_t n)
{
    long long s = (long long)v;
    if (s && s % 86400 == 0)
        snprintf(buf, n, "%lldd", s / 86400);
    else if (s && s % 3600 == 0)
        snprintf(buf, n, "%lldh", s / 3600);
    else if (s && s % 60 == 0)
        snprintf(buf, n, "%lldm", s / 60);
    else
        snprintf(buf, n, "%llds", s);
}

static void format_size(double v, char *buf, size_t n)
{
    long long b = (long long)v;
    if (b && b % (1024 * 1024 * 1024) == 0)
        snprintf(buf, n, "%lldG", b / (1024 * 1024 * 1024));
    else if (b && b % (1024 * 1024) == 0)
        snprintf(buf, n, "%lldM", b / (1024 * 1024));
    else if (b && b % 1024 == 0)
        snprintf(buf, n, "%lldK", b / 1024);
    else
        snprintf(buf, n, "%lld", b);
}

static const char *range_text(const struct config_option *o, char *tmp, size_t n)
{
    char lo[32], hi[32];
    switch (o->type) {
    case OPT_DURATION:
        format_duration(o->min, lo, sizeof lo);
        format_duration(o->max, hi, sizeof hi);
        break;
    case OPT_SIZE:
        format_size(o->min, lo, sizeof lo);
        format_size(o->max, hi, sizeof hi);
        break;
    case OPT_DOUBLE:
        snprintf(lo, sizeof lo, "%g", o->min);
        snprintf(hi, sizeof hi, "%g", o->max);
        break;
    default:
        snprintf(lo, sizeof lo, "%.0f", o->min);
        snprintf(hi, sizeof hi, "%.0f", o->max);
        break;
    }
    snprintf(tmp, n, "%s%s to %s", o->type == OPT_WXH ? "each side " : "", lo, hi);
    return tmp;
}

/* A relative path is one with neither a URL scheme nor a leading '/'. */
static bool is_relative_path(const char *s)
{
    return *s && *s != '/' && kt_url_scheme_len(s) == 0;
}

static int url_check(const char *value, char *why, size_t whylen)
{
    static const char *const schemes[] = {"http", "https", "file"};
    size_t n = kt_url_scheme_len(value);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (n == strlen(schemes[i]) && strncasecmp(value, schemes[i], n) == 0)
            return 0;
    return kt_error(why, whylen,
                    "unsupported URL scheme \"%.*s\" (use http://, https://, file:// or a path)",
                    (int)n, value);
}

/* Sets one option in base (its section's struct). origin is where the
 * value came from (for OPTF_PATH). Returns 0, or -1 with a message
 * (without the ORIGIN:LINE: prefix) in err. */
static int option_set(const struct config_option *o, void *base, const char *value,
                      const char *origin, char *err, size_t errlen)
{
    char *p = (char *)base + o->offset;
    char tmp[96];
    double v;
    switch (o->type) {
    case OPT_DURATION: {
        if (config_scan_duration(value, &v) < 0)
            return kt_error(err, errlen, "%s: bad duration \"%s\" (use e.g. 90s, 15m, 1.5h, 1d)",
                            o->key, value);
        /* Durations are whole seconds: one that rounds to 0 would silently
         * mean "off" (max_age) or "the default" (a feed's refresh). */
        if (v < o->min - 0.5 || v >= o->max + 0.5)
            return kt_error(err, errlen, "%s: %s is out of range (%s)", o->key, value,
                            range_text(o, tmp, sizeof tmp));
        int64_t s = (int64_t)llround(v);
        if (s == 0 && v != 0)
            return kt_error(err, errlen, "%s: %s rounds to 0s (durations are whole seconds)",
                            o->key, value);
        *(int64_t *)p = s;
        return 0;
    }
    case OPT_INT:
        if (config_parse_whole(value, &v) < 0)
            return kt_error(err, errlen, "%s: not a whole number: \"%s\"", o->key, value);
        if (v < o->min || v > o->max)
            return kt_error(err, errlen, "%s: %s is out of range (%s)", o->key, value,
                            range_text(o, tmp, sizeof tmp));
        *(int *)p = (int)v;
        return 0;
    case OPT_HEIGHT:
        if (strcasecmp(value, "auto") == 0) {
            *(int *)p = 0;
            return 0;
        }
        if (config_parse_whole(value, &v) < 0 || v < o->min || v > o->max)
            return kt_error(err, errlen, "%s: expected auto or pixels (%s), got \"%s\"", o->key,
                            range_text(o, tmp, sizeof tmp), value);
        *(int *)p = (int)v;
        return 0;
    case OPT_SIZE:
        if (config_scan_size(value, &v) < 0)
            return kt_error(err, errlen, "%s: bad size \"%s\" (use e.g. 512K, 5M)", o->key, value);
        if (v < o->min - 0.5 || v >= o->max + 0.5)
            return kt_error(err, errlen, "%s: %s is out of range (%s)", o->key, value,
                            range_text(o, tmp, sizeof tmp));
        *(int64_t *)p = (int64_t)llround(v);
        return 0;
    case OPT_DOUBLE:
        if (config_parse_number(value, &v) < 0)
            return kt_error(err, errlen,
                            "%s: not a number: \"%s\" (use decimal digits, e.g. 120 or 90.5)",
                            o->key, value);
        if (v < o->min || v > o->max)
            return kt_error(err, errlen, "%s: %s is out of range (%s)", o->key, value,
                            range_text(o, tmp, sizeof tmp));
        *(double *)p = v;
        return 0;
    case OPT_STRING: {
        char why[KT_ERR_MAX];
        if (o->check && o->check(value, why, sizeof why) < 0)
            return kt_error(err, errlen, "%s: %s", o->key, why);
        char *s = NULL;
        if ((o->flags & OPTF_PATH) && is_relative_path(value)) {
            /* Relative to the file the value is in, not to wherever the
             * program was started, so a config and its documents move
             * together. A remote config has no directory to be relative to. */
            if (kt_url_scheme_len(origin) > 0)
                return kt_error(err, errlen,
                                "%s: a relative path in a config read from a URL (use an "
                                "absolute path or a URL)",
                                o->key);
            const char *slash = strrchr(origin, '/');
            if (slash)
                s = kt_asprintf("%.*s/%s", (int)(slash - origin), origin, value);
        }
        free(*(char **)p);
        *(char **)p = s ? s : kt_strdup(value);
        return 0;
    }
    case OPT_REGEX: {
        char why[KT_ERR_MAX];
        if (filter_check(value, why, sizeof why) < 0)
            return kt_error(err, errlen, "%s: %s", o->key, why);
        strlist_add((struct strlist *)p, value);
        return 0;
    }
    case OPT_ENUM:
        for (int i = 0; o->names[i]; i++) {
            if (strcasecmp(value, o->names[i]) == 0) {
                *(int *)p = i;
                return 0;
            }
        }
        {
            struct kt_buf b;
            kt_buf_init(&b);
            for (int i = 0; o->names[i]; i++)
                kt_buf_printf(&b, "%s%s", i ? ", " : "", o->names[i]);
            kt_error(err, errlen, "%s: \"%s\" is not one of %s", o->key, value, b.data);
            kt_buf_free(&b);
        }
        return -1;
    case OPT_COLOR:
        if (parse_color(value, (struct color *)p) < 0)
            return kt_error(err, errlen, "%s: bad colour \"%s\" (use #RRGGBB or #RRGGBBAA)", o->key,
                            value);
        return 0;
    case OPT_BOOL:
        if (parse_bool(value, (bool *)p) < 0)
            return kt_error(err, errlen, "%s: expected yes or no, got \"%s\"", o->key, value);
        return 0;
    case OPT_WXH: {
        int w, h;
        if (config_parse_wxh(value, &w, &h) < 0)
            return kt_error(err, errlen, "%s: expected WIDTHxHEIGHT (e.g. 1920x96), got \"%s\"",
                            o->key, value);
        if (w < o->min || h < o->min || w > o->max || h > o->max)
            return kt_error(err, errlen, "%s: %s is out of range (%s)", o->key, value,
                            range_text(o, tmp, sizeof tmp));
        ((int *)p)[0] = w;
        ((int *)p)[1] = h;
        return 0;
    }
    }
    return kt_error(err, errlen, "%s: unsupported option type", o->key);
}

static void option_free(const struct config_option *o, void *base)
{
    char *p = (char *)base + o->offset;
    if (o->type == OPT_STRING) {
        free(*(char **)p);
        *(char **)p = NULL;
    } else if (o->type == OPT_REGEX) {
        strlist_free((struct strlist *)p);
    }
}

static const struct config_section_def *section_def(const char *kind)
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (strcmp(sections[i].kind, kind) == 0)
            return &sections[i];
    return NULL;
}

static const struct config_option *option_find(const struct config_section_def *def,
                                               const char *key)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].section, def->kind) == 0 && strcmp(options[i].key, key) == 0)
            return &options[i];
    return NULL;
}

/* ---- building a config ---- */

/* Defaults of one section's struct. */
static void section_defaults(const struct config_section_def *def, void *base)
{
    char err[KT_ERR_MAX];
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct config_option *o = &options[i];
        if (strcmp(o->section, def->kind) != 0 || !o->def)
            continue;
        const char *d = o->def;
        char *unq = NULL;
        if (d[0] == '"') /* a quoted default keeps its spaces */
            d = unq = kt_strndup(d + 1, strlen(d) - 2);
        if (option_set(o, base, d, "", err, sizeof err) < 0)
            abort(); /* a bad default is a programming error caught by every test */
        free(unq);
    }
}

static void *singleton_base(struct config *cfg, const struct config_section_def *def)
{
    return (char *)cfg + def->offset;
}

/* The array of a named section's items, and its count. */
static char **named_items(struct config *cfg, const struct config_section_def *def)
{
    return (char **)((char *)cfg + def->offset);
}

static size_t *named_count(struct config *cfg, const struct config_section_def *def)
{
    return (size_t *)((char *)cfg + def->count_offset);
}

static void *named_item(struct config *cfg, const struct config_section_def *def, size_t i)
{
    return *named_items(cfg, def) + i * def->item_size;
}

static void *named_add(struct config *cfg, const struct config_section_def *def, const char *name,
                       int line)
{
    char **items = named_items(cfg, def);
    size_t *n = named_count(cfg, def);
    *items = kt_realloc(*items, (*n + 1) * def->item_size);
    char *item = *items + (*n)++ * def->item_size;
    memset(item, 0, def->item_size);
    *(char **)(item + def->name_offset) = kt_strdup(name);
    *(int *)(item + def->line_offset) = line;
    section_defaults(def, item);
    return item;
}

static void config_defaults(struct config *cfg)
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (!sections[i].named)
            section_defaults(&sections[i], singleton_base(cfg, &sections[i]));
}

static int ticker_finish(struct config *cfg, void *base, const struct config_section *sec,
                         char *err, size_t errlen)
{
    if (!cfg->cache || !*cfg->cache) {
        free(cfg->cache);
        cfg->cache = config_default_cache_path();
    }
    if (cfg->connect_timeout > cfg->timeout)
        cfg->connect_timeout = cfg->timeout;
    return 0;
}

static int feed_finish(struct config *cfg, void *base, const struct config_section *sec, char *err,
                       size_t errlen)
{
    struct cfg_feed *f = base;
    if (!f->label)
        f->label = kt_strdup(f->name);
    if (!f->refresh)
        f->refresh = cfg->refresh;
    return 0;
}

/* "expected [ticker], [feed NAME] or [display]", from the table. */
static void sections_expected(struct kt_buf *b)
{
    kt_buf_puts(b, "expected ");
    for (size_t i = 0; i < N_SECTIONS; i++)
        kt_buf_printf(b, "%s[%s]",
                      i == 0                ? ""
                      : i + 1 == N_SECTIONS ? " or "
                                            : ", ",
                      sections[i].title);
}

/* "line 12" when where and first share their origin, else "ORIGIN:12". */
static void config_first_at(const struct config_section *where, const struct config_section *first,
                            char *buf, size_t n)
{
    if (strcmp(where->origin, first->origin) == 0)
        snprintf(buf, n, "line %d", first->line);
    else
        snprintf(buf, n, "%s:%d", first->origin, first->line);
}

/* For each section, the index of the first earlier one with the same kind
 * and name (SIZE_MAX when none). */
static size_t *config_find_duplicates(const struct config_doc *doc)
{
    size_t n = doc->n_sections;
    size_t *first = kt_calloc(n, sizeof *first);
    const struct config_section **sorted = config_doc_sorted(doc);
    size_t head = 0;
    for (size_t i = 0; i < n; i++) {
        size_t at = (size_t)(sorted[i] - doc->sections);
        if (i > 0 && config_section_cmp(sorted[i - 1], sorted[i]) == 0) {
            first[at] = head;
        } else {
            first[at] = SIZE_MAX;
            head = at;
        }
    }
    free(sorted);
    return first;
}

/* Reads one document section into cfg. */
static int config_read_section(struct config *cfg, const struct config_doc *doc, size_t si,
                               const size_t *first, char *err, size_t errlen)
{
    const struct config_section *s = &doc->sections[si];
    const struct config_section_def *def = section_def(s->kind);
    const char *org = s->origin;
    char why[KT_ERR_MAX];
    if (!def) {
        struct kt_buf b;
        kt_buf_init(&b);
        sections_expected(&b);
        kt_error(err, errlen, "%s:%d: unknown section [%s%s%s] (%s)", org, s->line, s->kind,
                 s->name ? " " : "", s->name ? s->name : "", b.data);
        kt_buf_free(&b);
        return -1;
    }
    if (def->named && (!s->name || !*s->name))
        return kt_error(err, errlen, "%s:%d: [%s] needs a name: [%s]", org, s->line, def->kind,
                        def->title);
    if (!def->named && s->name)
        return kt_error(err, errlen, "%s:%d: [%s] takes no name (got [%s %s])", org, s->line,
                        def->kind, s->kind, s->name);
    if (first[si] != SIZE_MAX) {
        char at[KT_ERR_MAX];
        config_first_at(s, &doc->sections[first[si]], at, sizeof at);
        if (def->named)
            return kt_error(err, errlen, "%s:%d: %s \"%s\" is already defined at %s", org, s->line,
                            def->kind, s->name, at);
        return kt_error(err, errlen, "%s:%d: section [%s] appears twice (first at %s)", org,
                        s->line, def->kind, at);
    }
    void *base = def->named ? named_add(cfg, def, s->name, s->line) : singleton_base(cfg, def);
    /* Which keys this section set: each at most once, but a repeatable one. */
    bool seen[N_OPTIONS];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct config_entry *e = &s->entries[i];
        const struct config_option *o = option_find(def, e->key);
        if (!o)
            return kt_error(err, errlen, "%s:%d: unknown key \"%s\" in [%s]", org, e->line, e->key,
                            def->title);
        size_t k = (size_t)(o - options);
        if (seen[k] && o->type != OPT_REGEX)
            return kt_error(err, errlen, "%s:%d: \"%s\" is set twice in this section", org, e->line,
                            e->key);
        seen[k] = true;
        if (!*e->value && (o->type != OPT_STRING || (o->flags & OPTF_NONEMPTY)))
            return kt_error(err, errlen, "%s:%d: %s: missing value", org, e->line, e->key);
        if (option_set(o, base, e->value, org, why, sizeof why) < 0)
            return kt_error(err, errlen, "%s:%d: %s", org, e->line, why);
    }
    for (size_t k = 0; k < N_OPTIONS; k++) {
        const struct config_option *o = &options[k];
        if ((o->flags & OPTF_REQUIRED) && !seen[k] && strcmp(o->section, def->kind) == 0)
            return kt_error(err, errlen,
                            def->named ? "%s:%d: %s \"%s\" has no %s" : "%s:%d: [%s]%s has no %s",
                            org, s->line, def->kind, def->named ? s->name : "", o->key);
    }
    return 0;
}

/* The finish hooks, singletons first: a named section's defaults may come
 * from them (a feed's refresh from [ticker]'s). Every section was read, so
 * the k-th [feed] section of the document is item k. */
static int config_finish(struct config *cfg, const struct config_doc *doc, char *err, size_t errlen)
{
    for (size_t i = 0; i < N_SECTIONS; i++) {
        const struct config_section_def *def = &sections[i];
        if (def->finish && !def->named &&
            def->finish(cfg, singleton_base(cfg, def), config_doc_find(doc, def->kind, NULL), err,
                        errlen) < 0)
            return -1;
    }
    size_t next[N_SECTIONS] = {0};
    for (size_t i = 0; i < doc->n_sections; i++) {
        const struct config_section_def *def = section_def(doc->sections[i].kind);
        size_t d = (size_t)(def - sections);
        if (def->named && def->finish &&
            def->finish(cfg, named_item(cfg, def, next[d]++), &doc->sections[i], err, errlen) < 0)
            return -1;
    }
    return 0;
}

struct config *config_build(const struct config_doc *doc, char *err, size_t errlen)
{
    struct config *cfg = kt_calloc(1, sizeof *cfg);
    cfg->path = kt_strdup(doc->origin);
    config_defaults(cfg);
    size_t *first = config_find_duplicates(doc);
    int rc = 0;
    for (size_t i = 0; i < doc->n_sections && rc == 0; i++)
        rc = config_read_section(cfg, doc, i, first, err, errlen);
    free(first);
    if (rc == 0)
        rc = config_finish(cfg, doc, err, errlen);
    if (rc < 0) {
        config_free(cfg);
        return NULL;
    }
    cfg->doc = config_doc_copy(doc);
    return cfg;
}

struct config_doc *config_overlay(const struct config_doc *local, const struct config_doc *remote)
{
    const char *kinds[N_SECTIONS + 1];
    size_t n = 0;
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (sections[i].local_only)
            kinds[n++] = sections[i].kind;
    kinds[n] = NULL;
    return config_doc_overlay(local, remote, kinds);
}

struct config *config_parse(const char *text, size_t len, const char *name, char *err,
                            size_t errlen)
{
    struct config_doc *doc = config_doc_parse(text, len, name, err, errlen);
    if (!doc)
        return NULL;
    struct config *cfg = config_build(doc, err, errlen);
    config_doc_free(doc);
    return cfg;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
    struct config_doc *doc = config_doc_load(path, err, errlen);
    if (!doc)
        return NULL;
    struct config *cfg = config_build(doc, err, errlen);
    config_doc_free(doc);
    return cfg;
}

struct config *config_default(void)
{
    struct config_doc empty = {.origin = (char *)"(defaults)"};
    return config_build(&empty, NULL, 0);
}

char *config_default_cache_path(void)
{
    const char *dir = getenv("STATE_DIRECTORY");
    if (dir && *dir) {
        /* systemd may pass several colon-separated directories: use the first. */
        size_t n = strcspn(dir, ":");
        return kt_asprintf("%.*s/cache.tsv", (int)n, dir);
    }
    dir = getenv("XDG_STATE_HOME");
    if (dir && *dir == '/')
        return kt_asprintf("%s/kiosk-ticker/cache.tsv", dir);
    const char *home = getenv("HOME");
    if (home && *home)
        return kt_asprintf("%s/.local/state/kiosk-ticker/cache.tsv", home);
    return kt_strdup("/var/tmp/kiosk-ticker-cache.tsv");
}

const char *config_origin(const struct config *cfg, const char *kind, const char *name,
                          const char *key, int *line)
{
    const struct config_entry *e = config_section_get(config_doc_find(cfg->doc, kind, name), key);
    *line = e ? e->line : 0;
    return e ? config_doc_find(cfg->doc, kind, name)->origin : NULL;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < N_SECTIONS; i++) {
        const struct config_section_def *def = &sections[i];
        for (size_t k = 0; k < N_OPTIONS; k++) {
            if (strcmp(options[k].section, def->kind) != 0)
                continue;
            if (!def->named) {
                option_free(&options[k], singleton_base(cfg, def));
                continue;
            }
            for (size_t j = 0; j < *named_count(cfg, def); j++)
                option_free(&options[k], named_item(cfg, def, j));
        }
        if (def->named) {
            for (size_t j = 0; j < *named_count(cfg, def); j++)
                free(*(char **)((char *)named_item(cfg, def, j) + def->name_offset));
            free(*named_items(cfg, def));
            *named_items(cfg, def) = NULL;
            *named_count(cfg, def) = 0;
        }
    }
    config_doc_free(cfg->doc);
    free(cfg->path);
    free(cfg);
}

/* ---- the reference ---- */

static const char *type_hint(const struct config_option *o)
{
    switch (o->type) {
    case OPT_DURATION:
        return "DURATION";
    case OPT_INT:
    case OPT_DOUBLE:
        return "NUMBER";
    case OPT_SIZE:
        return "SIZE";
    case OPT_STRING:
        return "TEXT";
    case OPT_REGEX:
        return "REGEX";
    case OPT_ENUM:
        return "CHOICE";
    case OPT_COLOR:
        return "#RRGGBB[AA]";
    case OPT_BOOL:
        return "yes|no";
    case OPT_WXH:
        return "WxH";
    case OPT_HEIGHT:
        return "auto|PIXELS";
    }
    return "";
}

void config_print_reference(FILE *out)
{
    for (size_t s = 0; s < N_SECTIONS; s++) {
        fprintf(out, "\n[%s]\n", sections[s].title);
        for (size_t i = 0; i < N_OPTIONS; i++) {
            const struct config_option *o = &options[i];
            if (strcmp(o->section, sections[s].kind) != 0)
                continue;
            char left[64];
            snprintf(left, sizeof left, "%s = %s", o->key, type_hint(o));
            fprintf(out, "  %-28s %s", left, o->help);
            if (o->type == OPT_ENUM) {
                fputs(" (", out);
                for (int k = 0; o->names[k]; k++)
                    fprintf(out, "%s%s", k ? "|" : "", o->names[k]);
                fputs(")", out);
            }
            if (o->def)
                fprintf(out, " [default: %s]", o->def);
            fputc('\n', out);
        }
    }
}
