/*
 * main: the command line, signals and the wiring of config, store, cache,
 * fetcher and display. The command-line options are declared once in
 * cli_options[], which also produces --help.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "date.h"
#include "transport.h"
#include "poller.h"
#include "filter.h"
#include "log.h"
#include "notify.h"
#include "source.h"
#include "store.h"
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
    {"size", CLI_SIZE, "WxH", "with --screenshot: the window size"},
    {"fetch", CLI_FETCH, NULL, "with --screenshot: refresh the feeds first"},
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
    struct filter *ex =
        filter_new((const char *const *)cfg->exclude.v, cfg->exclude.n, err, sizeof err);
    struct source_result r;
    int rc = source_refresh(cfg, url, ex, NULL, NULL, NULL, &r);
    filter_free(ex);
    if (rc < 0) {
        kt_log_error("%s: %s", url, r.err);
        source_result_free(&r);
        return 1;
    }
    for (size_t i = 0; i < r.n_items; i++) {
        print_field(r.items[i].title);
        putchar('\t');
        print_field(r.items[i].link);
        putchar('\t');
        print_date(r.items[i].published);
        putchar('\n');
    }
    source_result_free(&r);
    return fflush(stdout) == 0 ? 0 : 1;
}

static void load_cache(struct store *store, const struct config *cfg)
{
    char err[KT_ERR_MAX];
    if (cache_load(store, cfg->cache, (int64_t)time(NULL), err, sizeof err) < 0)
        kt_log_warn("cache ignored: %s", err);
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

static int run_fetch_once(const struct config *cfg, struct store *store)
{
    int ok = poller_run_once(cfg, store);
    const struct store_snapshot *snap = store_snapshot(store);
    size_t n = snap->n;
    store_snapshot_release(snap);
    print_snapshot(store);
    if (fflush(stdout) != 0)
        return 1;
    /* A feed that answered with nothing (an emptied list) gives no
     * headlines either: exit 1 means "nothing to show". */
    if (n == 0) {
        kt_log_error("no headlines: %d of %zu feeds answered, none with headlines, and the cache "
                     "had none",
                     ok, cfg->n_feeds);
        return 1;
    }
    return 0;
}

/* ---- the long-running ticker ---- */

static volatile sig_atomic_t quit_requested, reload_requested;

static void on_quit(int sig)
{
    (void)sig;
    quit_requested = 1;
}

static void on_hup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_quit;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

struct app {
    const char *config_path; /* NULL: defaults / default path */
    struct config *cfg;      /* in use */
    struct config *retired;  /* replaced by a reload; freed at the next poll */
    struct store *store;
    struct poller *poller;
};

/* SIGHUP: a valid config takes effect at once; an invalid one is reported
 * and the running one stays. */
static bool app_reload(struct app *app)
{
    char err[KT_ERR_MAX];
    struct config *next;
    if (app->config_path) {
        next = config_load(app->config_path, err, sizeof err);
    } else {
        char *def = default_config_path();
        next = def ? config_load(def, err, sizeof err) : config_default();
        free(def);
    }
    if (!next) {
        kt_log_error("reload refused, keeping the running config: %s", err);
        return false;
    }
    store_configure(app->store, next, (int64_t)time(NULL));
    poller_reconfigure(app->poller, next);
    config_free(app->retired);
    app->retired = app->cfg;
    app->cfg = next;
    kt_log_info("config reloaded from %s (%zu feeds)", next->path, next->n_feeds);
    return true;
}

#ifdef KT_HAVE_DISPLAY
static enum display_event app_poll(void *ctx, const struct config **cfg)
{
    struct app *app = ctx;
    if (app->retired) {
        config_free(app->retired);
        app->retired = NULL;
    }
    if (quit_requested)
        return DISPLAY_QUIT;
    if (reload_requested) {
        reload_requested = 0;
        if (app_reload(app)) {
            *cfg = app->cfg;
            return DISPLAY_RELOADED;
        }
    }
    return DISPLAY_CONTINUE;
}
#endif

static int run_ticker(struct app *app, const struct cli *cli)
{
    int rc = 0;
#ifdef KT_HAVE_DISPLAY
    struct display_opts opts = {
        .screenshot = cli->screenshot,
        .at = cli->at,
        .width = cli->width,
        .height = cli->height,
    };
    if (cli->screenshot) {
        /* Headless one-shots: the cache (and with --fetch the feeds), no
         * background thread. */
        if (cli->screenshot && cli->fetch)
            poller_run_once(app->cfg, app->store);
        struct display_host none = {app, app_poll};
        return display_run(app->cfg, app->store, &none, &opts);
    }
    app->poller = poller_start(app->cfg, app->store);
    struct display_host host = {app, app_poll};
    rc = display_run(app->cfg, app->store, &host, &opts); /* READY=1 after its first frame */
#else
    if (cli->screenshot) {
        kt_log_error("this build has no display (built with KT_DISPLAY=OFF)");
        return 2;
    }
    app->poller = poller_start(app->cfg, app->store);
    notify_ready();
    while (!quit_requested) {
        notify_watchdog();
        /* Signals end the wait; a watchdog needs waking at least as often
         * as it wants pings. */
        uint64_t usec = notify_watchdog_usec();
        if (usec)
            usleep((useconds_t)(usec / 4 < 999999 ? usec / 4 : 999999));
        else
            pause();
        if (reload_requested) {
            reload_requested = 0;
            app_reload(app);
        }
    }
#endif
    notify_stopping();
    poller_stop(app->poller);
    app->poller = NULL;
    /* Flush: whatever the threads last published is on disk at exit. */
    poller_save_cache(NULL, app->store, app->cfg);
    kt_log_info("stopped");
    return rc;
}

int main(int argc, char **argv)
{
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

    struct app app = {.config_path = cli.config, .cfg = cfg};
    app.store = store_new();
    store_configure(app.store, cfg, (int64_t)time(NULL));
    load_cache(app.store, cfg);

    if (cli.fetch_once) {
        rc = run_fetch_once(cfg, app.store);
    } else {
        install_signals();
        if (!cli.screenshot)
            notify_init(); /* systemd: READY, WATCHDOG, STOPPING */
        rc = run_ticker(&app, &cli);
    }
    store_free(app.store);
    config_free(app.retired);
    config_free(app.cfg);
    transport_global_cleanup();
    return rc;
}
