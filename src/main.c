/*
 * main: the command line and the wiring of the modes: --check, --dump,
 * --fetch-once, the one-shot screenshot and benchmark, and the ticker (the
 * app, app.h, with the display on this thread). The command-line options
 * are declared once in cli_options[], which also produces --help.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "date.h"
#include "filter.h"
#include "headline.h"
#include "log.h"
#include "notify.h"
#include "source.h"
#include "store.h"
#include "transport.h"
#include "util.h"
#ifdef KT_HAVE_DISPLAY
#include "display.h"
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
    CLI_BENCH_FRAMES,
};

struct cli_option {
    const char *name;
    int id;
    const char *arg; /* NULL: takes no argument */
    const char *help;
};

static const struct cli_option cli_options[] = {
    {"config", CLI_CONFIG, "FILE",
     "config file (default: $XDG_CONFIG_HOME/kiosk-ticker/ticker.conf, else "
     "/etc/kiosk-ticker/ticker.conf)"},
    {"check", CLI_CHECK, NULL, "validate the config and exit (0 valid, 2 invalid)"},
    {"dump", CLI_DUMP, "SOURCE",
     "fetch or read one source, print TITLE<TAB>LINK<TAB>PUBLISHED per item"},
    {"fetch-once", CLI_FETCH_ONCE, NULL,
     "refresh every feed once, update the cache, print LABEL<TAB>TITLE<TAB>LINK<TAB>PUBLISHED"},
    {"screenshot", CLI_SCREENSHOT, "OUT", "write one frame to OUT (.bmp, or .png) and exit"},
    {"at", CLI_AT, "SECONDS", "with --screenshot: the frame this long after start (default 0)"},
    {"size", CLI_SIZE, "WxH", "with --screenshot/--bench-frames: the window size"},
    {"fetch", CLI_FETCH, NULL, "with --screenshot: refresh the feeds first"},
    {"bench-frames", CLI_BENCH_FRAMES, "N", "render N frames from the cache and print figures"},
    {"verbose", CLI_VERBOSE, NULL, "log debug messages too"},
    {"quiet", CLI_QUIET, NULL, "log only errors"},
    {"version", CLI_VERSION, NULL, "print the version and exit"},
    {"help", CLI_HELP, NULL, "print this help, with the config reference, and exit"},
};
#define N_CLI (sizeof cli_options / sizeof cli_options[0])

struct cli {
    const char *config;
    bool check, fetch_once, fetch;
    const char *dump;
    const char *screenshot;
    double at;
    int width, height;
    long bench_frames;
};

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
        fprintf(out, "  %-28s %s\n", left, o->help);
    }
    fprintf(out, "\nConfig file reference (INI; one [feed NAME] section per source):\n");
    config_print_reference(out);
    fprintf(out, "\nDurations: 90s, 15m, 2h, 1d. Sizes: 512K, 5M.\n"
                 "Exit status: 0 ok, 1 no headlines / source failed, 2 invalid config or usage.\n");
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
        switch (c) {
        case CLI_CONFIG:
            cli->config = optarg;
            break;
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
        case CLI_CHECK:
            cli->check = true;
            break;
        case CLI_DUMP:
            cli->dump = optarg;
            break;
        case CLI_FETCH_ONCE:
            cli->fetch_once = true;
            break;
        case CLI_FETCH:
            cli->fetch = true;
            break;
        case CLI_SCREENSHOT:
            cli->screenshot = optarg;
            break;
        case CLI_AT: {
            char *end;
            cli->at = strtod(optarg, &end);
            if (*end || cli->at < 0) {
                kt_log_error("--at: expected seconds, got \"%s\"", optarg);
                return -1;
            }
            break;
        }
        case CLI_SIZE: {
            char extra;
            if (sscanf(optarg, "%dx%d%c", &cli->width, &cli->height, &extra) != 2 ||
                cli->width < 16 || cli->height < 8 || cli->width > 16384 || cli->height > 16384) {
                kt_log_error("--size: expected WIDTHxHEIGHT, got \"%s\"", optarg);
                return -1;
            }
            break;
        }
        case CLI_BENCH_FRAMES: {
            char *end;
            cli->bench_frames = strtol(optarg, &end, 10);
            if (*end || cli->bench_frames < 1) {
                kt_log_error("--bench-frames: expected a positive count, got \"%s\"", optarg);
                return -1;
            }
            break;
        }
        default:
            fprintf(stderr, "Try 'kiosk-ticker --help'.\n");
            return -1;
        }
    }
    if (optind < argc) {
        kt_log_error("unexpected argument \"%s\"", argv[optind]);
        return -1;
    }
    return 0;
}

/* The config file to use when -c is not given; NULL = built-in defaults. */
static char *default_config_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *p = NULL;
    if (xdg && *xdg == '/')
        p = kt_asprintf("%s/kiosk-ticker/ticker.conf", xdg);
    else if (home && *home)
        p = kt_asprintf("%s/.config/kiosk-ticker/ticker.conf", home);
    if (p && access(p, F_OK) == 0)
        return p;
    free(p);
    if (access("/etc/kiosk-ticker/ticker.conf", F_OK) == 0)
        return kt_strdup("/etc/kiosk-ticker/ticker.conf");
    return NULL;
}

static struct config *load_config(const char *path)
{
    char err[KT_ERR_MAX];
    if (!path) {
        char *def = default_config_path();
        if (!def)
            return config_default();
        struct config *cfg = config_load(def, err, sizeof err);
        free(def);
        if (!cfg)
            fprintf(stderr, "%s\n", err);
        return cfg;
    }
    struct config *cfg = config_load(path, err, sizeof err);
    if (!cfg)
        fprintf(stderr, "%s\n", err);
    return cfg;
}

/* The config for a reload (app.h): read as at start, the error returned. */
static struct config *reload_config(const char *path, char *err, size_t errlen)
{
    if (path)
        return config_load(path, err, errlen);
    char *def = default_config_path();
    struct config *cfg = def ? config_load(def, err, errlen) : config_default();
    free(def);
    return cfg;
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

/* The one-shot screenshot and benchmark: nothing runs in the background
 * and nothing is saved, so a signal may end them the default way, at
 * once, whatever they are computing. */
static enum display_event main_poll_none(void *ctx, const struct config **cfg)
{
    (void)ctx;
    (void)cfg;
    return DISPLAY_CONTINUE;
}
#endif

static int run_one_shot(struct app *app, const struct cli *cli)
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
        .bench_frames = cli->bench_frames,
    };
    struct display_host none = {app, main_poll_none};
    return display_run(app_config(app), app_store(app), &none, &opts);
#else
    (void)app;
    (void)cli;
    kt_log_error("this build has no display (built with KT_DISPLAY=OFF)");
    return 2;
#endif
}

static int run_ticker(struct app *app, const struct cli *cli)
{
    notify_init(); /* systemd: READY, WATCHDOG, STOPPING */
    app_start(app);
#ifdef KT_HAVE_DISPLAY
    struct display_opts opts = {.width = cli->width, .height = cli->height};
    struct display_host host = {app, main_poll};
    /* READY=1 after its first frame. */
    int rc = display_run(app_config(app), app_store(app), &host, &opts);
#else
    (void)cli;
    int rc = app_run_headless(app);
#endif
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

    struct config *cfg;
    if (cli.dump && !cli.config)
        cfg = config_default();
    else
        cfg = load_config(cli.config);
    if (!cfg)
        return 2;
    if (cli.check) {
        printf("%s: ok (%zu feeds)\n", cfg->path, cfg->n_feeds);
        config_free(cfg);
        return 0;
    }

    transport_global_init();
    int rc;
    if (cli.dump) {
        rc = run_dump(cfg, cli.dump);
        config_free(cfg);
        transport_global_cleanup();
        return rc;
    }

    struct app *app = app_new(cfg, cli.config, reload_config);
    if (cli.fetch_once)
        rc = run_fetch_once(app);
    else if (cli.screenshot || cli.bench_frames)
        rc = run_one_shot(app, &cli);
    else
        rc = run_ticker(app, &cli);
    /* Does not return when a thread had to be abandoned (app.h). */
    rc = app_free(app, rc);
    transport_global_cleanup();
    return rc;
}
