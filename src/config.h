/*
 * config: the one text file users edit, as a struct config. Pure logic.
 *
 * Two layers: config_doc.h turns text into a document of sections and
 * entries (syntax errors there), and config_build() turns a document into a
 * validated struct config through two tables in config.c, one row per
 * section kind and one per key; parsing, validation, defaults, --help and
 * the README reference all come from them. A document can be laid over
 * another first (config_overlay: a remote config over the local file).
 * Errors come back as "ORIGIN:LINE: message", ORIGIN being the file or URL
 * the entry came from.
 */
#ifndef KT_CONFIG_H
#define KT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config_doc.h"

enum order { ORDER_NEWEST, ORDER_FEEDS, ORDER_INTERLEAVE };
enum display_mode { MODE_FULLSCREEN, MODE_WINDOW };
enum display_position { POS_BOTTOM, POS_TOP, POS_FILL };
enum scroll_direction { DIR_LEFT, DIR_RIGHT };

struct strlist {
    char **v;
    size_t n;
};

struct color {
    uint8_t r, g, b, a;
};

struct cfg_feed {
    char *name;
    char *url;
    char *label;     /* default: name */
    int64_t refresh; /* seconds; 0 = [ticker] refresh */
    int max_items;   /* 0 = no per-feed limit */
    struct strlist exclude;
    int line; /* line of the [feed NAME] header */
};

struct cfg_display {
    enum display_mode mode;
    int screen;
    int width, height_window; /* size = WxH (window mode) */
    enum display_position position;
    int height; /* strip height in px; 0 = auto */
    struct color background, foreground, label_color;
    char *separator;
    char *font; /* fontconfig pattern or path */
    int font_size;
    double speed; /* px per second */
    enum scroll_direction direction;
    char *idle_text;
    bool snap_speed; /* round speed to whole px per refresh */
    bool vsync;
};

struct config {
    char *path;      /* file it was read from, or "<string>" */
    int64_t refresh; /* seconds */
    int max_items;
    int64_t max_age; /* seconds; 0 = none */
    int max_chars;
    struct strlist exclude;
    enum order order;
    char *cache;             /* cache file path (default filled in) */
    int64_t timeout;         /* total seconds per fetch */
    int64_t connect_timeout; /* seconds */
    int64_t max_bytes;
    char *user_agent;
    char *ca_file; /* NULL = system store */
    struct cfg_feed *feeds;
    size_t n_feeds;
    struct cfg_display display;
    /* The document it was built from: where each value came from
     * (config_origin). */
    struct config_doc *doc;
};

/* Validates a document and builds the config from it (the document is
 * copied). On error returns NULL and err holds "ORIGIN:LINE: message" with
 * the origin of the section at fault. A relative path in a path-valued key
 * (a feed's url) is made relative to the directory of its section's origin;
 * in a section that came from a URL it is an error. */
struct config *config_build(const struct config_doc *doc, char *err, size_t errlen);

/* config_doc_overlay with the section kinds that only the local file may
 * give (those the section table marks local_only). */
struct config_doc *config_overlay(const struct config_doc *local, const struct config_doc *remote);

/* Reads and validates a config file: config_doc_load + config_build. On
 * error returns NULL and err holds "FILE:LINE: message" (LINE 0 when the
 * file itself is the problem: missing, not a regular file, too large). */
struct config *config_load(const char *path, char *err, size_t errlen);
/* Same from memory; name is used in messages. */
struct config *config_parse(const char *text, size_t len, const char *name, char *err,
                            size_t errlen);

/* Where key of section [kind name] was set (name NULL for [ticker] and
 * the like): its origin, with *line its line. NULL (and *line 0) when the
 * key was not set, i.e. it has its default. */
const char *config_origin(const struct config *cfg, const char *kind, const char *name,
                          const char *key, int *line);
/* A config with every default and no feeds (no file given). */
struct config *config_default(void);
void config_free(struct config *cfg);

/* Prints the reference of every section and key, from the option table. */
void config_print_reference(FILE *out);

/* Default cache path: $STATE_DIRECTORY/cache.tsv when systemd sets it,
 * else $XDG_STATE_HOME/kiosk-ticker/cache.tsv, else
 * ~/.local/state/kiosk-ticker/cache.tsv. Caller frees. */
char *config_default_cache_path(void);

/* Numbers in config text and on the command line are decimal: an optional
 * '-', digits, optionally '.' and digits. No '+', no exponent, no hex, no
 * inf or nan, no blanks. 0, or -1 when s is not one. */
int config_parse_number(const char *s, double *out);
/* Durations: a non-negative number and a unit s, m, h or d (none =
 * seconds): "90s", "15m", "1.5h", "1d", "45", rounded to whole seconds.
 * -1 when s is not one or is over 10^12 s. */
int config_parse_duration(const char *s, int64_t *out);
/* Sizes: a non-negative number and K, M or G (optionally followed by iB or
 * B; powers of 1024): "5M", "512K", "1048576". -1 when s is not one or is
 * over 10^15 bytes. */
int config_parse_size(const char *s, int64_t *out);
/* "WIDTHxHEIGHT", two whole decimal numbers; each side saturates at
 * INT_MAX, so a range check afterwards catches huge ones. 0 or -1. */
int config_parse_wxh(const char *s, int *w, int *h);

#endif
