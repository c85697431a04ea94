/*
 * config: reads ticker.conf. Every key is declared once in options[]
 * below: its section, type, default, range and help text. The parser, the
 * validation errors, --help and the README reference all come from it, so
 * a key cannot exist in one place and be missing in another.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter.h"
#include "util.h"

enum section { SEC_TICKER, SEC_FEED, SEC_DISPLAY };

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
    OPT_WXH,      /* two ints */
    OPT_HEIGHT,   /* int, or "auto" = 0 */
};

struct config_option {
    enum section section;
    const char *key;
    enum opt_type type;
    size_t offset;            /* into struct config, or struct cfg_feed for SEC_FEED */
    const char *def;          /* default, in config syntax; NULL = unset */
    double min, max;          /* numeric range */
    const char *const *names; /* OPT_ENUM */
    const char *help;
};

static const char *const order_names[] = {"newest", "feeds", "interleave", NULL};
static const char *const mode_names[] = {"fullscreen", "window", NULL};
static const char *const position_names[] = {"bottom", "top", "fill", NULL};
static const char *const direction_names[] = {"left", "right", NULL};

#define T(field) offsetof(struct config, field)
#define F(field) offsetof(struct cfg_feed, field)
#define D(field) offsetof(struct config, display.field)
#define DAY (86400.0)

static const struct config_option options[] = {
    {SEC_TICKER, "refresh", OPT_DURATION, T(refresh), "15m", 30, 7 * DAY, NULL,
     "how often each feed is fetched (90s, 15m, 2h); RSS <ttl> is a lower bound"},
    {SEC_TICKER, "max_items", OPT_INT, T(max_items), "100", 1, 100000, NULL,
     "most headlines shown in one loop"},
    {SEC_TICKER, "max_age", OPT_DURATION, T(max_age), "0", 0, 3650 * DAY, NULL,
     "drop headlines older than this (by date, else by when first seen); 0 = keep"},
    {SEC_TICKER, "max_chars", OPT_INT, T(max_chars), "200", 10, 10000, NULL,
     "longest headline in characters; longer ones are cut at a word with '…'"},
    {SEC_TICKER, "exclude", OPT_REGEX, T(exclude), NULL, 0, 0, NULL,
     "drop headlines matching this regex (extended syntax, PCRE2: case-insensitive, "
     "Unicode-aware); repeatable"},
    {SEC_TICKER, "order", OPT_ENUM, T(order), "newest", 0, 0, order_names,
     "newest first, feeds in config order, or interleave feeds round-robin"},
    {SEC_TICKER, "cache", OPT_STRING, T(cache), NULL, 0, 0, NULL,
     "cache file (default: $STATE_DIRECTORY/cache.tsv, else "
     "$XDG_STATE_HOME/kiosk-ticker/cache.tsv)"},
    {SEC_TICKER, "timeout", OPT_DURATION, T(timeout), "20s", 1, 600, NULL,
     "give up on a fetch after this long"},
    {SEC_TICKER, "connect_timeout", OPT_DURATION, T(connect_timeout), "10s", 1, 600, NULL,
     "give up connecting after this long"},
    {SEC_TICKER, "max_bytes", OPT_SIZE, T(max_bytes), "5M", 1024, 1024.0 * 1024 * 1024, NULL,
     "largest feed accepted, after decompression (512K, 5M)"},
    {SEC_TICKER, "user_agent", OPT_STRING, T(user_agent), "kiosk-ticker/" KT_VERSION, 0, 0, NULL,
     "User-Agent header sent with every request"},
    {SEC_TICKER, "ca_file", OPT_STRING, T(ca_file), NULL, 0, 0, NULL,
     "PEM file of trusted CAs (default: the system store); TLS is always verified"},

    {SEC_FEED, "url", OPT_STRING, F(url), NULL, 0, 0, NULL,
     "http(s):// or file:// URL, or a path (a text file: one headline per line)"},
    {SEC_FEED, "label", OPT_STRING, F(label), NULL, 0, 0, NULL,
     "shown before the feed's headlines (default: the feed's NAME)"},
    {SEC_FEED, "refresh", OPT_DURATION, F(refresh), NULL, 30, 7 * DAY, NULL,
     "this feed's refresh (default: [ticker] refresh)"},
    {SEC_FEED, "max_items", OPT_INT, F(max_items), NULL, 1, 100000, NULL,
     "most headlines taken from this feed (its first N)"},
    {SEC_FEED, "exclude", OPT_REGEX, F(exclude), NULL, 0, 0, NULL,
     "as [ticker] exclude, for this feed only; repeatable"},

    {SEC_DISPLAY, "mode", OPT_ENUM, D(mode), "fullscreen", 0, 0, mode_names,
     "fullscreen (the display's native mode) or window"},
    {SEC_DISPLAY, "screen", OPT_INT, D(screen), "0", 0, 15, NULL, "display index"},
    {SEC_DISPLAY, "size", OPT_WXH, D(width), "1280x720", 16, 16384, NULL,
     "window size WxH (window mode)"},
    {SEC_DISPLAY, "position", OPT_ENUM, D(position), "bottom", 0, 0, position_names,
     "where the strip sits: bottom, top, or fill the whole window"},
    {SEC_DISPLAY, "height", OPT_HEIGHT, D(height), "auto", 8, 4096, NULL,
     "strip height in pixels, or auto (from the font's line height)"},
    {SEC_DISPLAY, "background", OPT_COLOR, D(background), "#101820", 0, 0, NULL,
     "strip colour, #RRGGBB or #RRGGBBAA"},
    {SEC_DISPLAY, "foreground", OPT_COLOR, D(foreground), "#FFFFFF", 0, 0, NULL,
     "headline text colour"},
    {SEC_DISPLAY, "label_color", OPT_COLOR, D(label_color), "#FFB000", 0, 0, NULL,
     "feed label colour"},
    {SEC_DISPLAY, "separator", OPT_STRING, D(separator), "\" • \"", 0, 0, NULL,
     "text between headlines (quote it to keep spaces)"},
    {SEC_DISPLAY, "font", OPT_STRING, D(font), "DejaVu Sans:bold", 0, 0, NULL,
     "fontconfig pattern (DejaVu Sans:bold) or a font file path"},
    {SEC_DISPLAY, "font_size", OPT_INT, D(font_size), "40", 6, 1000, NULL, "font size in pixels"},
    {SEC_DISPLAY, "speed", OPT_DOUBLE, D(speed), "120", 1, 5000, NULL,
     "scrolling speed in pixels per second"},
    {SEC_DISPLAY, "direction", OPT_ENUM, D(direction), "left", 0, 0, direction_names,
     "text moves left or right"},
    {SEC_DISPLAY, "idle_text", OPT_STRING, D(idle_text), "Waiting for headlines…", 0, 0, NULL,
     "shown while there are no headlines at all"},
    {SEC_DISPLAY, "snap_speed", OPT_BOOL, D(snap_speed), "yes", 0, 0, NULL,
     "round the speed to whole pixels per refresh when the refresh rate is known "
     "(crisper text)"},
    {SEC_DISPLAY, "vsync", OPT_BOOL, D(vsync), "yes", 0, 0, NULL,
     "wait for the display's refresh (no tearing)"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static const char *const section_names[] = {"ticker", "feed NAME", "display"};

/* ---- value parsers ---- */

int config_parse_duration(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v))
        return -1;
    double mul = 1;
    if (*end == 's' || *end == '\0')
        mul = 1;
    else if (*end == 'm')
        mul = 60;
    else if (*end == 'h')
        mul = 3600;
    else if (*end == 'd')
        mul = 86400;
    else
        return -1;
    if (*end && end[1])
        return -1;
    v *= mul;
    if (v > 1e12)
        return -1;
    *out = (int64_t)llround(v);
    return 0;
}

int config_parse_size(const char *s, int64_t *out)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v))
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
        if (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I') {
            if (toupper((unsigned char)*end) == 'I')
                end++;
            if (toupper((unsigned char)*end) == 'B')
                end++;
        }
        if (*end)
            return -1;
    }
    v *= mul;
    if (v > 1e15)
        return -1;
    *out = (int64_t)llround(v);
    return 0;
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

static int parse_int_strict(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
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

static const char *range_text(const struct config_option *o, char *tmp, size_t n)
{
    if (o->type == OPT_DURATION)
        snprintf(tmp, n, "%gs to %gs", o->min, o->max);
    else
        snprintf(tmp, n, "%g to %g", o->min, o->max);
    return tmp;
}

/* Sets one option in base (struct config or struct cfg_feed). Returns 0, or
 * -1 with a message (without the FILE:LINE: prefix) in err. */
static int option_set(const struct config_option *o, void *base, const char *value, char *err,
                      size_t errlen)
{
    char *p = (char *)base + o->offset;
    char tmp[64];
    switch (o->type) {
    case OPT_DURATION: {
        int64_t v;
        if (config_parse_duration(value, &v) < 0)
            return kt_error(err, errlen, "%s: bad duration \"%s\" (use e.g. 90s, 15m, 2h, 1d)",
                            o->key, value);
        if (v != 0 && (v < o->min || v > o->max))
            return kt_error(err, errlen, "%s: %s is out of range (%s)", o->key, value,
                            range_text(o, tmp, sizeof tmp));
        if (v == 0 && o->min > 0)
            return kt_error(err, errlen, "%s: must not be 0", o->key);
        *(int64_t *)p = v;
        return 0;
    }
    case OPT_INT: {
        long v;
        if (parse_int_strict(value, &v) < 0)
            return kt_error(err, errlen, "%s: not a whole number: \"%s\"", o->key, value);
        if (v < o->min || v > o->max)
            return kt_error(err, errlen, "%s: %ld is out of range (%s)", o->key, v,
                            range_text(o, tmp, sizeof tmp));
        *(int *)p = (int)v;
        return 0;
    }
    case OPT_HEIGHT: {
        if (strcasecmp(value, "auto") == 0) {
            *(int *)p = 0;
            return 0;
        }
        long v;
        if (parse_int_strict(value, &v) < 0 || v < o->min || v > o->max)
            return kt_error(err, errlen, "%s: expected auto or pixels (%s), got \"%s\"", o->key,
                            range_text(o, tmp, sizeof tmp), value);
        *(int *)p = (int)v;
        return 0;
    }
    case OPT_SIZE: {
        int64_t v;
        if (config_parse_size(value, &v) < 0)
            return kt_error(err, errlen, "%s: bad size \"%s\" (use e.g. 512K, 5M)", o->key, value);
        if (v < o->min || v > o->max)
            return kt_error(err, errlen, "%s: %s is out of range (1K to 1G)", o->key, value);
        *(int64_t *)p = v;
        return 0;
    }
    case OPT_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v))
            return kt_error(err, errlen, "%s: not a number: \"%s\"", o->key, value);
        if (v < o->min || v > o->max)
            return kt_error(err, errlen, "%s: %s is out of range (%s)", o->key, value,
                            range_text(o, tmp, sizeof tmp));
        *(double *)p = v;
        return 0;
    }
    case OPT_STRING:
        free(*(char **)p);
        *(char **)p = kt_strdup(value);
        return 0;
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
        unsigned w, h;
        char c;
        if (sscanf(value, "%ux%u%c", &w, &h, &c) != 2 || w < o->min || h < o->min || w > o->max ||
            h > o->max)
            return kt_error(err, errlen, "%s: expected WIDTHxHEIGHT (e.g. 1920x96), got \"%s\"",
                            o->key, value);
        ((int *)p)[0] = (int)w;
        ((int *)p)[1] = (int)h;
        return 0;
    }
    }
    return kt_error(err, errlen, "%s: unsupported option type", o->key);
}

static const struct config_option *option_find(enum section sec, const char *key)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (options[i].section == sec && strcmp(options[i].key, key) == 0)
            return &options[i];
    return NULL;
}

/* ---- the file ---- */

static void set_defaults(struct config *cfg)
{
    char err[KT_ERR_MAX];
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct config_option *o = &options[i];
        if (o->section == SEC_FEED || !o->def)
            continue;
        const char *def = o->def;
        char *unq = NULL;
        if (def[0] == '"') /* quoted default keeps its spaces */
            def = unq = kt_strndup(def + 1, strlen(def) - 2);
        if (option_set(o, cfg, def, err, sizeof err) < 0)
            abort(); /* a bad default is a programming error caught by every test */
        free(unq);
    }
}

struct config *config_default(void)
{
    struct config *cfg = kt_calloc(1, sizeof *cfg);
    cfg->path = kt_strdup("(defaults)");
    set_defaults(cfg);
    cfg->cache = config_default_cache_path();
    return cfg;
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

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* A value may be quoted to keep leading or trailing spaces: "  •  ". */
static int unquote(char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n == 0 || v[0] != '"')
        return 0;
    if (n < 2 || v[n - 1] != '"')
        return kt_error(err, errlen, "unterminated quoted value");
    char *w = v;
    for (size_t i = 1; i < n - 1; i++) {
        if (v[i] == '\\' && i + 1 < n - 1 && (v[i + 1] == '"' || v[i + 1] == '\\'))
            i++;
        *w++ = v[i];
    }
    *w = '\0';
    return 0;
}

static bool valid_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '\t' || *s == ']')
            return false;
    return true;
}

static struct cfg_feed *add_feed(struct config *cfg, const char *name, int line)
{
    cfg->feeds = kt_realloc(cfg->feeds, (cfg->n_feeds + 1) * sizeof *cfg->feeds);
    struct cfg_feed *f = &cfg->feeds[cfg->n_feeds++];
    memset(f, 0, sizeof *f);
    f->name = kt_strdup(name);
    f->line = line;
    return f;
}

struct config *config_parse(const char *text, size_t len, const char *name, char *err,
                            size_t errlen)
{
    struct config *cfg = kt_calloc(1, sizeof *cfg);
    cfg->path = kt_strdup(name);
    set_defaults(cfg);

    enum section sec = SEC_TICKER;
    bool in_section = false;
    struct cfg_feed *feed = NULL;
    /* Which non-repeatable keys were set in the current section. */
    bool seen[N_OPTIONS];
    bool seen_section[3] = {false, false, false};
    memset(seen, 0, sizeof seen);
    char why[KT_ERR_MAX];
    int lineno = 0;
    size_t pos = 0;

    if (memchr(text, '\0', len)) {
        kt_error(err, errlen, "%s:0: not a text file (contains NUL bytes)", name);
        goto fail;
    }
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        lineno++;
        char *raw = kt_strndup(text + pos, end - pos);
        pos = end + 1;
        char *line = trim(raw);
        /* A UTF-8 BOM at the start of the file (Windows editors). */
        if (lineno == 1 && kt_str_has_prefix(line, "\xEF\xBB\xBF"))
            line = trim(line + 3);
        if (*line == '\0' || *line == '#' || *line == ';') {
            free(raw);
            continue;
        }
        if (*line == '[') {
            char *close = strrchr(line, ']');
            if (!close || close[1] != '\0') {
                kt_error(err, errlen,
                         "%s:%d: bad section header (expected [ticker], "
                         "[display] or [feed NAME])",
                         name, lineno);
                free(raw);
                goto fail;
            }
            *close = '\0';
            char *sname = trim(line + 1);
            memset(seen, 0, sizeof seen);
            feed = NULL;
            if (strcmp(sname, "ticker") == 0 || strcmp(sname, "display") == 0) {
                sec = sname[0] == 't' ? SEC_TICKER : SEC_DISPLAY;
                if (seen_section[sec]) {
                    kt_error(err, errlen, "%s:%d: section [%s] appears twice", name, lineno, sname);
                    free(raw);
                    goto fail;
                }
                seen_section[sec] = true;
            } else if (strncmp(sname, "feed", 4) == 0 &&
                       (sname[4] == ' ' || sname[4] == '\t' || sname[4] == '\0')) {
                char *fname = trim(sname + 4);
                unquote(fname, why, sizeof why);
                if (!valid_name(fname)) {
                    kt_error(err, errlen, "%s:%d: [feed] needs a name: [feed NAME]", name, lineno);
                    free(raw);
                    goto fail;
                }
                for (size_t i = 0; i < cfg->n_feeds; i++) {
                    if (strcmp(cfg->feeds[i].name, fname) == 0) {
                        kt_error(err, errlen, "%s:%d: feed \"%s\" is already defined at line %d",
                                 name, lineno, fname, cfg->feeds[i].line);
                        free(raw);
                        goto fail;
                    }
                }
                sec = SEC_FEED;
                feed = add_feed(cfg, fname, lineno);
            } else {
                kt_error(err, errlen,
                         "%s:%d: unknown section [%s] (expected [ticker], "
                         "[display] or [feed NAME])",
                         name, lineno, sname);
                free(raw);
                goto fail;
            }
            in_section = true;
            free(raw);
            continue;
        }
        char *eq = strchr(line, '=');
        if (!eq) {
            kt_error(err, errlen, "%s:%d: expected key = value", name, lineno);
            free(raw);
            goto fail;
        }
        *eq = '\0';
        char *key = trim(line);
        char *value = trim(eq + 1);
        if (!in_section) {
            kt_error(err, errlen, "%s:%d: \"%s\" is outside any section (start with [ticker])",
                     name, lineno, key);
            free(raw);
            goto fail;
        }
        const struct config_option *o = option_find(sec, key);
        if (!o) {
            kt_error(err, errlen, "%s:%d: unknown key \"%s\" in [%s]", name, lineno, key,
                     section_names[sec]);
            free(raw);
            goto fail;
        }
        size_t idx = (size_t)(o - options);
        if (seen[idx] && o->type != OPT_REGEX) {
            kt_error(err, errlen, "%s:%d: \"%s\" is set twice in this section", name, lineno, key);
            free(raw);
            goto fail;
        }
        seen[idx] = true;
        if (unquote(value, why, sizeof why) < 0 || (*value == '\0' && o->type != OPT_STRING)) {
            kt_error(err, errlen, "%s:%d: %s: %s", name, lineno, key,
                     *value ? why : "missing value");
            free(raw);
            goto fail;
        }
        void *base = sec == SEC_FEED ? (void *)feed : (void *)cfg;
        if (option_set(o, base, value, why, sizeof why) < 0) {
            kt_error(err, errlen, "%s:%d: %s", name, lineno, why);
            free(raw);
            goto fail;
        }
        free(raw);
    }

    for (size_t i = 0; i < cfg->n_feeds; i++) {
        struct cfg_feed *f = &cfg->feeds[i];
        if (!f->url || !*f->url) {
            kt_error(err, errlen, "%s:%d: feed \"%s\" has no url", name, f->line, f->name);
            goto fail;
        }
        if (!f->label)
            f->label = kt_strdup(f->name);
        if (!f->refresh)
            f->refresh = cfg->refresh;
    }
    if (!cfg->cache || !*cfg->cache) {
        free(cfg->cache);
        cfg->cache = config_default_cache_path();
    }
    if (cfg->connect_timeout > cfg->timeout)
        cfg->connect_timeout = cfg->timeout;
    return cfg;

fail:
    config_free(cfg);
    return NULL;
}

/* Relative feed paths are relative to the config file, not to wherever the
 * program was started from, so a config and its documents move together. */
static void resolve_paths(struct config *cfg, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return;
    for (size_t i = 0; i < cfg->n_feeds; i++) {
        char *url = cfg->feeds[i].url;
        if (kt_url_scheme_len(url) > 0 || url[0] == '/')
            continue;
        cfg->feeds[i].url = kt_asprintf("%.*s/%s", (int)(slash - path), path, url);
        free(url);
    }
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
    char *data;
    size_t len;
    char why[KT_ERR_MAX];
    if (kt_read_file(path, 1024 * 1024, &data, &len, why, sizeof why) < 0) {
        kt_error(err, errlen, "%s:0: cannot read: %s", path,
                 kt_str_has_prefix(why, path) ? why + strlen(path) + 2 : why);
        return NULL;
    }
    struct config *cfg = config_parse(data, len, path, err, errlen);
    free(data);
    if (cfg)
        resolve_paths(cfg, path);
    return cfg;
}

static void free_fields(const struct config_option *opts, size_t n, enum section sec, void *base)
{
    for (size_t i = 0; i < n; i++) {
        if (opts[i].section != sec)
            continue;
        char *p = (char *)base + opts[i].offset;
        if (opts[i].type == OPT_STRING) {
            free(*(char **)p);
            *(char **)p = NULL;
        } else if (opts[i].type == OPT_REGEX) {
            strlist_free((struct strlist *)p);
        }
    }
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    free_fields(options, N_OPTIONS, SEC_TICKER, cfg);
    free_fields(options, N_OPTIONS, SEC_DISPLAY, cfg);
    for (size_t i = 0; i < cfg->n_feeds; i++) {
        free_fields(options, N_OPTIONS, SEC_FEED, &cfg->feeds[i]);
        free(cfg->feeds[i].name);
    }
    free(cfg->feeds);
    free(cfg->path);
    free(cfg);
}

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
    for (int sec = SEC_TICKER; sec <= SEC_DISPLAY; sec++) {
        fprintf(out, "\n[%s]\n", section_names[sec]);
        for (size_t i = 0; i < N_OPTIONS; i++) {
            const struct config_option *o = &options[i];
            if ((int)o->section != sec)
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
