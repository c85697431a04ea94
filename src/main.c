/*
 * main: the command line and the wiring of the modes: --check, --dump,
 * --fetch-once, the one-shot screenshot, and the ticker (the
 * app, app.h, with the display on this thread). The command-line options
 * are declared once in cli_options[], which also produces --help.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "app_fleet.h"
#include "capture.h"
#include "config.h"
#include "ctl.h"
#include "date.h"
#include "filter.h"
#include "headline.h"
#include "hours.h"
#include "log.h"
#include "notify.h"
#include "remote.h"
#include "source.h"
#include "store.h"
#include "transport.h"
#include "util.h"
#ifdef KT_HAVE_DISPLAY
#include "display.h"
#include "font.h"
#endif

enum cli_id {
    CLI_CONFIG = 'c',
    CLI_HELP = 'h',
    CLI_VERBOSE = 'v',
    CLI_QUIET = 'q',
    CLI_VERSION = 256,
    CLI_CHECK,
    CLI_DUMP,
    CLI_FETCH_ONCE,
    CLI_FETCH,
    CLI_SCREENSHOT,
    CLI_AT,
    CLI_SIZE,
    CLI_JSON,
    CLI_NOW,
    CLI_POST,
    CLI_SEVERITY,
    CLI_FOR,
    CLI_CLEAR,
    CLI_STATUS,
};

/* What an option's argument is, and where parse_cli puts it. */
enum cli_kind {
    CLI_ACTION,  /* handled in parse_cli's switch */
    CLI_FLAG,    /* bool */
    CLI_TEXT,    /* const char * */
    CLI_SECONDS, /* double: a decimal number, min to max */
    CLI_COUNT,   /* long: a whole number, min to max */
    CLI_WXH,     /* two ints: WIDTHxHEIGHT, each side min to max */
};

struct cli_option {
    const char *name;
    int id;
    const char *arg; /* NULL: takes no argument */
    enum cli_kind kind;
    size_t offset;   /* into struct cli */
    double min, max; /* bounds of a numeric argument */
    const char *help;
};

struct cli {
    const char *config;
    bool check, fetch_once, fetch;
    const char *dump;
    const char *screenshot;
    double at;
    int width, height;
    bool json, status;
    const char *now;
    const char *post, *severity, *duration, *clear;
};

_Static_assert(offsetof(struct cli, height) == offsetof(struct cli, width) + sizeof(int),
               "CLI_WXH writes the height into the int after the width");

#define CLI(field) offsetof(struct cli, field)

/* --at: a frame ~31 years in, far past any soak, and a scroll position
 * still exact to a thousandth of a pixel in a double. */
static const struct cli_option cli_options[] = {
    {"config", CLI_CONFIG, "FILE", CLI_TEXT, CLI(config),
     .help = "config file (default: $XDG_CONFIG_HOME/kiosk-ticker/ticker.conf, else "
             "/etc/kiosk-ticker/ticker.conf)"},
    {"check", CLI_CHECK, NULL, CLI_FLAG, CLI(check),
     .help = "validate the config and exit (0 valid, 2 invalid)"},
    {"dump", CLI_DUMP, "SOURCE", CLI_TEXT, CLI(dump),
     .help = "fetch or read one source, print TITLE<TAB>LINK<TAB>PUBLISHED per item"},
    {"fetch-once", CLI_FETCH_ONCE, NULL, CLI_FLAG, CLI(fetch_once),
     .help = "refresh every feed once, update the cache, print "
             "LABEL<TAB>TITLE<TAB>LINK<TAB>PUBLISHED"},
    {"screenshot", CLI_SCREENSHOT, "OUT", CLI_TEXT, CLI(screenshot),
     .help = "write one frame to OUT (.bmp, or .png) and exit"},
    {"at", CLI_AT, "SECONDS", CLI_SECONDS, CLI(at), 0, 1e9,
     .help = "with --screenshot: the frame this long after start (default 0)"},
    {"size", CLI_SIZE, "WxH", CLI_WXH, CLI(width), 8, 16384,
     .help = "with --screenshot: the window size"},
    {"fetch", CLI_FETCH, NULL, CLI_FLAG, CLI(fetch),
     .help = "with --screenshot: refresh the feeds first"},
    {"json", CLI_JSON, NULL, CLI_FLAG, CLI(json),
     .help = "with --fetch-once: print the state document (as GET /api/v1/state) instead"},
    {"now", CLI_NOW, "TIME", CLI_TEXT, CLI(now),
     .help = "evaluate alerts, messages and office hours at TIME (YYYY-MM-DDTHH:MM local, or "
             "with Z/+HH:MM) in --check, --fetch-once and --screenshot"},
    {"post", CLI_POST, "TEXT", CLI_TEXT, CLI(post),
     .help = "post a message to the running ticker ([control] listen of the config); prints "
             "its id"},
    {"severity", CLI_SEVERITY, "S", CLI_TEXT, CLI(severity),
     .help = "with --post: unknown, minor, moderate, severe or extreme (an alert; default: an "
             "announcement)"},
    {"for", CLI_FOR, "DURATION", CLI_TEXT, CLI(duration),
     .help = "with --post: how long it is shown (30m, 2h; default: until cleared)"},
    {"clear", CLI_CLEAR, "ID|all", CLI_TEXT, CLI(clear),
     .help = "delete a message of the running ticker, or all of them"},
    {"status", CLI_STATUS, NULL, CLI_FLAG, CLI(status),
     .help = "print the running ticker's state document"},
    {"verbose", CLI_VERBOSE, NULL, CLI_ACTION, .help = "log debug messages too"},
    {"quiet", CLI_QUIET, NULL, CLI_ACTION, .help = "log only errors"},
    {"version", CLI_VERSION, NULL, CLI_ACTION, .help = "print the version and exit"},
    {"help", CLI_HELP, NULL, CLI_ACTION,
     .help = "print this help, with the config reference, and exit"},
};
#define N_CLI (sizeof cli_options / sizeof cli_options[0])

/* "0 to 1000000000", or for WxH "each side 8 to 16384". */
static void cli_range(const struct cli_option *o, char *buf, size_t n)
{
    snprintf(buf, n, "%s%.15g to %.15g", o->kind == CLI_WXH ? "each side " : "", o->min, o->max);
}

static void print_help(FILE *out)
{
    fprintf(out, "Usage: kiosk-ticker [OPTION]...\n"
                 "Scrolls news headlines from RSS, Atom and JSON feeds across a screen.\n\n");
    for (size_t i = 0; i < N_CLI; i++) {
        const struct cli_option *o = &cli_options[i];
        char left[64];
        char shortopt[8] = "    ";
        if (o->id < 256)
            snprintf(shortopt, sizeof shortopt, "-%c, ", o->id);
        snprintf(left, sizeof left, "%s--%s%s%s", shortopt, o->name, o->arg ? " " : "",
                 o->arg ? o->arg : "");
        fprintf(out, "  %-28s %s", left, o->help);
        if (o->kind >= CLI_SECONDS) {
            char range[64];
            cli_range(o, range, sizeof range);
            fprintf(out, " [%s]", range);
        }
        fputc('\n', out);
    }
    fprintf(out, "\nConfig file reference (INI; one [feed NAME] section per source):\n");
    config_print_reference(out);
    fprintf(out, "\nDurations: 90s, 15m, 1.5h, 1d (no unit: seconds; rounded to whole seconds). "
                 "Sizes: 512K, 5M.\n"
                 "Numbers are decimal (120, 90.5). Config files are UTF-8 text.\n"
                 "Exit status: 0 ok, 1 no headlines / source failed, 2 invalid config or usage.\n");
}

/* Stores one option's argument, checked against the table's bounds. */
static int cli_set(const struct cli_option *o, const char *arg, struct cli *cli)
{
    char *p = (char *)cli + o->offset;
    char range[64];
    double v;
    int w, h;
    cli_range(o, range, sizeof range);
    switch (o->kind) {
    case CLI_ACTION:
        break;
    case CLI_FLAG:
        *(bool *)p = true;
        return 0;
    case CLI_TEXT:
        *(const char **)p = arg;
        return 0;
    case CLI_SECONDS:
        if (config_parse_number(arg, &v) == 0 && v >= o->min && v <= o->max) {
            *(double *)p = v;
            return 0;
        }
        kt_log_error("--%s: expected seconds, %s, got \"%s\"", o->name, range, arg);
        return -1;
    case CLI_COUNT:
        if (config_parse_number(arg, &v) == 0 && !strchr(arg, '.') && v >= o->min && v <= o->max) {
            *(long *)p = (long)v;
            return 0;
        }
        kt_log_error("--%s: expected a whole number, %s, got \"%s\"", o->name, range, arg);
        return -1;
    case CLI_WXH:
        if (config_parse_wxh(arg, &w, &h) == 0 && w >= o->min && h >= o->min && w <= o->max &&
            h <= o->max) {
            ((int *)p)[0] = w;
            ((int *)p)[1] = h;
            return 0;
        }
        kt_log_error("--%s: expected WIDTHxHEIGHT, %s, got \"%s\"", o->name, range, arg);
        return -1;
    }
    return 0;
}

static int parse_cli(int argc, char **argv, struct cli *cli)
{
    struct option longopts[N_CLI + 1];
    char shortopts[32] = "";
    size_t ns = 0;
    for (size_t i = 0; i < N_CLI; i++) {
        longopts[i] = (struct option){cli_options[i].name,
                                      cli_options[i].arg ? required_argument : no_argument, NULL,
                                      cli_options[i].id};
        if (cli_options[i].id < 256 && ns + 3 < sizeof shortopts) {
            shortopts[ns++] = (char)cli_options[i].id;
            if (cli_options[i].arg)
                shortopts[ns++] = ':';
        }
    }
    longopts[N_CLI] = (struct option){0, 0, 0, 0};
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const struct cli_option *o = NULL;
        for (size_t i = 0; i < N_CLI && !o; i++)
            if (cli_options[i].id == c)
                o = &cli_options[i];
        if (!o) {
            fprintf(stderr, "Try 'kiosk-ticker --help'.\n");
            return -1;
        }
        if (o->kind != CLI_ACTION) {
            if (cli_set(o, optarg, cli) < 0)
                return -1;
            continue;
        }
        switch (c) {
        case CLI_HELP:
            print_help(stdout);
            exit(0);
        case CLI_VERSION:
            printf("kiosk-ticker %s\n", KT_VERSION);
            exit(0);
        case CLI_VERBOSE:
            kt_log_set_level(KT_LOG_DEBUG);
            break;
        case CLI_QUIET:
            kt_log_set_level(KT_LOG_ERR);
            break;
        }
    }
    if (optind < argc) {
        kt_log_error("unexpected argument \"%s\"", argv[optind]);
        return -1;
    }
    return 0;
}

/* The config files tried when -c is not given, in order; returns how many
 * (at most 2). Caller frees them. */
static size_t default_config_candidates(char *paths[2])
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    size_t n = 0;
    if (xdg && *xdg == '/')
        paths[n++] = kt_asprintf("%s/kiosk-ticker/ticker.conf", xdg);
    else if (home && *home)
        paths[n++] = kt_asprintf("%s/.config/kiosk-ticker/ticker.conf", home);
    paths[n++] = kt_strdup("/etc/kiosk-ticker/ticker.conf");
    return n;
}

/* The config file to use when -c is not given; NULL = built-in defaults. */
static char *default_config_path(void)
{
    char *paths[2], *found = NULL;
    size_t n = default_config_candidates(paths);
    for (size_t i = 0; i < n; i++) {
        if (!found && access(paths[i], F_OK) == 0)
            found = paths[i];
        else
            free(paths[i]);
    }
    return found;
}

/* "A and B": where default_config_path looked. Caller frees. */
static char *default_config_looked(void)
{
    char *paths[2];
    size_t n = default_config_candidates(paths);
    char *s = n == 2 ? kt_asprintf("%s and %s", paths[0], paths[1]) : kt_strdup(paths[0]);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    return s;
}

static struct config *load_config(const char *path)
{
    char err[KT_ERR_MAX];
    if (!path) {
        char *def = default_config_path();
        if (!def) {
            /* Runs (the idle text; SIGHUP picks up a file created later),
             * but says why there is nothing to show. */
            char *looked = default_config_looked();
            kt_log_warn("no config file (looked for %s): running with the defaults and no feeds; "
                        "give one with -c FILE",
                        looked);
            free(looked);
            return config_default();
        }
        struct config *cfg = remote_config_load(def, err, sizeof err);
        free(def);
        if (!cfg)
            fprintf(stderr, "%s\n", err);
        return cfg;
    }
    struct config *cfg = remote_config_load(path, err, sizeof err);
    if (!cfg)
        fprintf(stderr, "%s\n", err);
    return cfg;
}

/* The config for a reload (app.h): read as at start, the error returned. */
static struct config *reload_config(const char *path, char *err, size_t errlen)
{
    if (path)
        return remote_config_load(path, err, errlen);
    char *def = default_config_path();
    struct config *cfg = def ? remote_config_load(def, err, errlen) : config_default();
    free(def);
    return cfg;
}

#ifdef KT_HAVE_DISPLAY
/* --check of `font =`: the file it resolves to on stdout after the ok
 * line; a family fontconfig only matches by falling back to another one is
 * a warning, an unusable font an error (exit 2), both at the key's line. */
static int check_font(const struct config *cfg, struct kt_buf *resolved)
{
    int line;
    const char *origin = config_origin(cfg, "display", NULL, "font", &line);
    char where[KT_ERR_MAX];
    if (origin)
        snprintf(where, sizeof where, "%s:%d", origin, line);
    else
        snprintf(where, sizeof where, "%s", cfg->path);
    char file[4096], why[KT_ERR_MAX];
    const char *font = cfg->display.font;
    switch (font_check(font, cfg->display.font_size, file, sizeof file, why, sizeof why)) {
    case FONT_CHECK_OK:
        kt_buf_printf(resolved, "%s: font \"%s\"%s is %s\n", where, font,
                      origin ? "" : " (the default)", file);
        return 0;
    case FONT_CHECK_FALLBACK:
        fprintf(stderr, "%s: warning: font: %s\n", where, why);
        return 0;
    case FONT_CHECK_BAD:
        break;
    }
    fprintf(stderr, "%s: font: %s\n", where, why);
    return 2;
}
#endif

/* --check: 0 when the config is valid (warnings allowed), else 2. */
/* An image the screen would skip at run time (one log line, the label or no
 * picture instead): a warning here, not an error, since a directory may
 * be mounted or filled after the check. */
static void check_image(const struct config *cfg, const char *kind, const char *name,
                        const char *key, const char *path, bool dir_ok)
{
    if (!path)
        return;
    int line;
    const char *origin = config_origin(cfg, kind, name, key, &line);
    struct stat st;
    const char *why = NULL;
    if (stat(path, &st) != 0)
        why = strerror(errno);
    else if (S_ISDIR(st.st_mode) ? !dir_ok : !S_ISREG(st.st_mode))
        why = dir_ok ? "neither a file nor a directory" : "not a regular file";
    if (why)
        fprintf(stderr, "%s:%d: warning: %s: %s: %s\n", origin ? origin : cfg->path, line, key,
                path, why);
}

static void check_images(const struct config *cfg)
{
    check_image(cfg, "display", NULL, "background_image", cfg->display.background_image, true);
    for (size_t i = 0; i < cfg->n_feeds; i++)
        check_image(cfg, "feed", cfg->feeds[i].name, "logo", cfg->feeds[i].logo, false);
}

/* One line for a schedule that is not "always": its canonical form and
 * whether it is on at `now`, and until when. */
static void check_schedule(struct kt_buf *out, const char *path, const char *what,
                           const struct hours *h, time_t now, const char *on, const char *off)
{
    if (h->kind == HOURS_ALWAYS)
        return;
    char text[HOURS_FORMAT_MAX], when[32] = "";
    hours_format(h, text, sizeof text);
    time_t next;
    if (hours_next_change(h, now, &next)) {
        struct tm tm;
        localtime_r(&next, &tm);
        strftime(when, sizeof when, " until %a %Y-%m-%d %H:%M", &tm);
    }
    kt_buf_printf(out, "%s: %s: %s: %s%s\n", path, what, text, hours_is_on(h, now) ? on : off,
                  when);
}

/* --check's schedule lines: [display] on and every show =, at `now`. */
static void check_schedules(const struct config *cfg, time_t now, struct kt_buf *out)
{
    check_schedule(out, cfg->path, "on", &cfg->display.on, now, "screen on", "screen off");
    for (size_t i = 0; i < cfg->n_feeds; i++) {
        char *what = kt_asprintf("[feed %s] show", cfg->feeds[i].name);
        check_schedule(out, cfg->path, what, &cfg->feeds[i].show, now, "shown", "not shown");
        free(what);
    }
    for (size_t i = 0; i < cfg->n_alerts; i++) {
        char *what = kt_asprintf("[alert %s] show", cfg->alerts[i].name);
        check_schedule(out, cfg->path, what, &cfg->alerts[i].show, now, "shown", "not shown");
        free(what);
    }
}

static int run_check(const char *path, int64_t now)
{
    char *def = NULL;
    if (!path) {
        path = def = default_config_path();
        if (!def) {
            char *looked = default_config_looked();
            kt_log_error("no config file to check (looked for %s); give one with -c FILE", looked);
            free(looked);
            return 2;
        }
    }
    char err[KT_ERR_MAX];
    struct config *cfg = config_load(path, err, sizeof err);
    free(def);
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    struct kt_buf notes;
    kt_buf_init(&notes);
    int rc = 0;
#ifdef KT_HAVE_DISPLAY
    rc = check_font(cfg, &notes);
#endif
    check_schedules(cfg, now ? (time_t)now : time(NULL), &notes);
    check_images(cfg);
    if (rc == 0)
        printf("%s: ok (%zu feeds)\n%s", cfg->path, cfg->n_feeds, notes.data ? notes.data : "");
    kt_buf_free(&notes);
    config_free(cfg);
    return rc;
}

/* Tabs and line breaks would break the TSV output; feeds can carry them in
 * links, so they are percent-escaped there. Titles are already one line. */
static void print_field(const char *s)
{
    for (; s && *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            printf("%%%02X", (unsigned char)*s);
        else
            putchar(*s);
    }
}

static void print_date(int64_t t)
{
    if (t) {
        char d[32];
        date_format(t, d, sizeof d);
        fputs(d, stdout);
    }
}

static int run_dump(const struct config *cfg, const char *url)
{
    char err[KT_ERR_MAX];
    struct source_result r;
    /* SIGINT/SIGTERM cancel the transfer. */
    if (source_fetch(cfg, url, NULL, NULL, app_quit_flag(), &r) < 0) {
        kt_log_error("%s: %s", url, r.err);
        source_result_free(&r);
        return 1;
    }
    struct filter *ex =
        filter_new((const char *const *)cfg->exclude.v, cfg->exclude.n, err, sizeof err);
    struct store_item *items;
    size_t n = headline_from_doc(&r.doc, ex, cfg->max_chars, &items);
    filter_free(ex);
    source_result_free(&r);
    for (size_t i = 0; i < n; i++) {
        print_field(items[i].title);
        putchar('\t');
        print_field(items[i].link);
        putchar('\t');
        print_date(items[i].published);
        putchar('\n');
    }
    store_items_free(items, n);
    return fflush(stdout) == 0 ? 0 : 1;
}

static void print_snapshot(struct store *store)
{
    const struct store_snapshot *snap = store_snapshot(store);
    for (size_t i = 0; i < snap->n; i++) {
        const struct headline *h = &snap->items[i];
        print_field(h->label);
        putchar('\t');
        print_field(h->title);
        putchar('\t');
        print_field(h->link);
        putchar('\t');
        print_date(h->published);
        putchar('\n');
    }
    store_snapshot_release(snap);
}

static int run_fetch_once(struct app *app)
{
    int ok = app_fetch_once(app);
    if (ok < 0) {
        kt_log_error("interrupted: the feeds that answered are in the cache");
        return 1;
    }
    const struct store_snapshot *snap = store_snapshot(app_store(app));
    size_t n = snap->n;
    store_snapshot_release(snap);
    print_snapshot(app_store(app));
    if (fflush(stdout) != 0)
        return 1;
    /* A feed that answered with nothing (an emptied list) gives no
     * headlines either: exit 1 means "nothing to show". */
    if (n == 0) {
        kt_log_error("no headlines: %d of %zu feeds answered, none with headlines, and the cache "
                     "had none",
                     ok, app_config(app)->n_feeds);
        return 1;
    }
    return 0;
}

/* --fetch-once --json: the state document after one refresh of every
 * feed and alert source. Exit 1 when there is nothing to show. */
static int run_fetch_once_json(struct app *app)
{
    int ok = app_fetch_once(app);
    if (ok < 0) {
        kt_log_error("interrupted: the feeds that answered are in the cache");
        return 1;
    }
    struct kt_buf b;
    kt_buf_init(&b);
    app_state_json(app, &b);
    fputs(b.data ? b.data : "{}", stdout);
    putchar('\n');
    kt_buf_free(&b);
    if (fflush(stdout) != 0)
        return 1;
    const struct store_snapshot *snap = store_snapshot(app_store(app));
    bool some = snap->n > 0 || snap->n_alerts > 0;
    store_snapshot_release(snap);
    return some ? 0 : 1;
}

/* --post, --clear, --status: the control API of the running ticker the
 * config names. */
static int run_ctl(const struct config *cfg, const struct cli *cli)
{
    char err[KT_ERR_MAX];
    if (!cfg->control.listen) {
        kt_log_error("%s: no [control] listen: the ticker it configures has no control API to "
                     "reach",
                     cfg->path);
        return 1;
    }
    struct ctl_target t = {.listen = cfg->control.listen, .token_file = cfg->control.token_file};
    int rc;
    if (cli->post)
        rc = ctl_post(&t, cli->post, cli->severity, cli->duration, stdout, err, sizeof err);
    else if (cli->clear)
        rc = ctl_clear(&t, cli->clear, err, sizeof err);
    else
        rc = ctl_status(&t, stdout, err, sizeof err);
    if (rc < 0) {
        kt_log_error("%s", err);
        return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

#ifdef KT_HAVE_DISPLAY
static enum display_event main_poll(void *ctx, const struct config **cfg)
{
    switch (app_poll(ctx, cfg)) {
    case APP_QUIT:
        return DISPLAY_QUIT;
    case APP_RELOADED:
        return DISPLAY_RELOADED;
    default:
        return DISPLAY_CONTINUE;
    }
}

/* The one-shot screenshot: nothing runs in the background
 * and nothing is saved, so a signal may end them the default way, at
 * once, whatever they are computing. */
static enum display_event main_poll_none(void *ctx, const struct config **cfg)
{
    (void)ctx;
    (void)cfg;
    return DISPLAY_CONTINUE;
}
#endif

static int run_one_shot(struct app *app, const struct cli *cli, int64_t now)
{
#ifdef KT_HAVE_DISPLAY
    if (cli->screenshot && cli->fetch && app_fetch_once(app) < 0) {
        kt_log_error("interrupted before the screenshot");
        return 1;
    }
    if (__atomic_load_n(app_quit_flag(), __ATOMIC_ACQUIRE))
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    struct display_opts opts = {
        .screenshot = cli->screenshot,
        .at = cli->at,
        .width = cli->width,
        .height = cli->height,
        .now = now,
    };
    struct display_host none = {app, main_poll_none};
    return display_run(app_config(app), app_store(app), &none, &opts);
#else
    (void)app;
    (void)cli;
    (void)now;
    kt_log_error("this build has no display (built with KT_DISPLAY=OFF)");
    return 2;
#endif
}

static int run_ticker(struct app *app, const struct cli *cli)
{
    notify_init(); /* systemd: READY, WATCHDOG, STOPPING */
    char err[KT_ERR_MAX];
    if (app_api_start(app, err, sizeof err) < 0) {
        kt_log_error("%s", err);
        return 1;
    }
    app_start(app);
    /* fleet: the remote config's thread (remote.h). */
    char *local = cli->config ? kt_strdup(cli->config) : default_config_path();
    struct remote *remote = remote_start(app, local);
    free(local);
    struct app_fleet *fleet = app_fleet_start(app, app_config(app), remote); /* [fleet] mqtt */
#ifdef KT_HAVE_DISPLAY
    struct display_opts opts = {.width = cli->width,
                                .height = cli->height,
                                .stats = app_frame_stats_mut(app),
                                .capture = app_capture(app)};
    struct display_host host = {app, main_poll};
    /* READY=1 after its first frame. */
    int rc = display_run(app_config(app), app_store(app), &host, &opts);
#else
    (void)cli;
    int rc = app_run_headless(app);
#endif
    /* No more frames: a screenshot asked for (API, MQTT) fails now instead
     * of holding up the exit. */
    capture_close(app_capture(app));
    app_fleet_stop(fleet); /* fleet: offline status, then the remote config's thread */
    remote_stop(remote);   /* before the app, which it submits to */
    /* A failed final save is an error exit: systemd and the operator see it. */
    if (app_stop(app) != 0 && rc == 0)
        rc = 1;
    kt_log_info("stopped");
    return rc;
}

int main(int argc, char **argv)
{
    /* First: a SIGHUP or SIGTERM during start-up is kept, not fatal. */
    app_signals_install();
    struct cli cli;
    memset(&cli, 0, sizeof cli);
    if (parse_cli(argc, argv, &cli) < 0)
        return 2;

    bool ctl = cli.post || cli.clear || cli.status;
    if ((cli.severity || cli.duration) && !cli.post) {
        kt_log_error("--severity and --for go with --post");
        return 2;
    }
    if (cli.json && !cli.fetch_once) {
        kt_log_error("--json goes with --fetch-once (the running ticker's: --status)");
        return 2;
    }
    if ((cli.post != NULL) + (cli.clear != NULL) + cli.status > 1) {
        kt_log_error("one of --post, --clear and --status at a time");
        return 2;
    }
    if (cli.now && !cli.fetch_once && !cli.screenshot && !cli.check) {
        kt_log_error("--now goes with --check, --fetch-once or --screenshot (a running ticker "
                     "follows the clock)");
        return 2;
    }
    int64_t now_override = 0;
    if (cli.now) {
        time_t t;
        char why[KT_ERR_MAX];
        if (hours_parse_now(cli.now, &t, why, sizeof why) < 0) {
            kt_log_error("--now: %s", why);
            return 2;
        }
        now_override = (int64_t)t;
    }
    if (cli.check)
        return run_check(cli.config, now_override);
    struct config *cfg;
    if (cli.dump && !cli.config)
        cfg = config_default();
    else
        cfg = load_config(cli.config);
    if (!cfg)
        return 2;

    transport_global_init();
    int rc;
    if (ctl) {
        rc = run_ctl(cfg, &cli);
        config_free(cfg);
        transport_global_cleanup();
        return rc;
    }
    if (cli.dump) {
        rc = run_dump(cfg, cli.dump);
        config_free(cfg);
        transport_global_cleanup();
        return rc;
    }

    if (cli.fetch_once) {
        /* fleet: the remote config first, so its feeds are the ones fetched. */
        char *local = cli.config ? kt_strdup(cli.config) : default_config_path();
        remote_fetch_once(local, &cfg, app_quit_flag());
        free(local);
    }
    struct app *app = app_new_at(cfg, cli.config, reload_config, now_override);
    if (cli.fetch_once && cli.json)
        rc = run_fetch_once_json(app);
    else if (cli.fetch_once)
        rc = run_fetch_once(app);
    else if (cli.screenshot)
        rc = run_one_shot(app, &cli, now_override);
    else
        rc = run_ticker(app, &cli);
    /* Does not return when a thread had to be abandoned (app.h). */
    rc = app_free(app, rc);
    transport_global_cleanup();
    return rc;
}
