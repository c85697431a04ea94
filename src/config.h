/*
 * config: the one text file users edit. Pure logic.
 *
 * Every key is declared once in an option table (config.c); parsing,
 * validation, --help and the reference in the README come from it.
 * Errors come back as "FILE:LINE: message".
 */
#ifndef KT_CONFIG_H
#define KT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
};

/* Reads and validates a config file. On error returns NULL and err holds
 * "FILE:LINE: message" (LINE 0 when the file itself is the problem).
 * Relative feed paths are made relative to the file's directory. */
struct config *config_load(const char *path, char *err, size_t errlen);
/* Same from memory; name is used in messages. */
struct config *config_parse(const char *text, size_t len, const char *name, char *err,
                            size_t errlen);
/* A config with every default and no feeds (no file given). */
struct config *config_default(void);
void config_free(struct config *cfg);

/* Prints the reference of every section and key, from the option table. */
void config_print_reference(FILE *out);

/* Default cache path: $STATE_DIRECTORY/cache.tsv when systemd sets it,
 * else $XDG_STATE_HOME/kiosk-ticker/cache.tsv, else
 * ~/.local/state/kiosk-ticker/cache.tsv. Caller frees. */
char *config_default_cache_path(void);

/* Durations like "90s", "15m", "2h", "1d", "45" (seconds). */
int config_parse_duration(const char *s, int64_t *out);
/* Sizes like "5M", "512K", "1048576". */
int config_parse_size(const char *s, int64_t *out);

#endif
