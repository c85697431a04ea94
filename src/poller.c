/*
 * poller: see poller.h.
 */
#include "poller.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "filter.h"
#include "log.h"
#include "schedule.h"
#include "source.h"
#include "store.h"
#include "util.h"

static int64_t wall_clock(void)
{
    return (int64_t)time(NULL);
}

static poller_clock_fn clock_now = wall_clock;

void poller_set_clock(poller_clock_fn fn)
{
    clock_now = fn ? fn : wall_clock;
}

struct worker {
    struct poller *owner;
    const struct cfg_feed *feed;
    struct filter *exclude; /* [ticker] exclude plus the feed's own */
    struct schedule_state sched;
    pthread_t thread;
    bool started;
};

struct poller {
    struct store *store;
    const struct config *cfg;
    pthread_mutex_t lock; /* guards the wait below */
    pthread_cond_t wake;
    int stop; /* read atomically; also cancels transfers */
    struct worker *workers;
    size_t n_workers;
};

/* Serialises cache writes: one temporary file at a time, whoever writes. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
/* The last save error logged (under cache_lock). A full or read-only disk
 * fails every save of every feed the same way: one error line says so, the
 * repeats go to debug, and the first save that works again says that. */
static char cache_last_err[KT_ERR_MAX];

int poller_save_cache(struct poller *f, struct store *store, const struct config *cfg)
{
    (void)f;
    char err[KT_ERR_MAX];
    pthread_mutex_lock(&cache_lock);
    int rc = cache_save(store, cfg->cache, err, sizeof err);
    if (rc < 0 && strcmp(err, cache_last_err) != 0)
        kt_log_error("cache not saved: %s", err);
    else if (rc < 0)
        kt_log_debug("cache not saved (again): %s", err);
    else if (cache_last_err[0])
        kt_log_info("cache saved again to %s", cfg->cache);
    snprintf(cache_last_err, sizeof cache_last_err, "%s", rc < 0 ? err : "");
    pthread_mutex_unlock(&cache_lock);
    return rc;
}

static struct filter *feed_filter(const struct config *cfg, const struct cfg_feed *feed)
{
    char err[KT_ERR_MAX];
    /* Patterns were checked when the config was read, so this cannot fail. */
    struct filter *a =
        filter_new((const char *const *)cfg->exclude.v, cfg->exclude.n, err, sizeof err);
    struct filter *b =
        filter_new((const char *const *)feed->exclude.v, feed->exclude.n, err, sizeof err);
    struct filter *u = filter_union(a, b);
    filter_free(a);
    filter_free(b);
    return u;
}

/* One refresh of one feed into the store. Returns 0 on success; on failure
 * logs one line naming the feed and why. *changed tells whether the cache
 * needs writing. */
static int refresh_feed(const struct config *cfg, struct store *store, const struct cfg_feed *feed,
                        const struct filter *exclude, const int *cancel, bool *changed, int *ttl,
                        int64_t *retry_after)
{
    char *etag = NULL, *lm = NULL;
    int old_ttl = 0;
    store_get_meta(store, feed->name, &etag, &lm, &old_ttl);
    struct source_result r;
    int rc = source_refresh(cfg, feed->url, exclude, etag, lm, cancel, &r);
    *changed = false;
    *ttl = old_ttl;
    *retry_after = r.retry_after;
    if (rc < 0) {
        if (!(cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED)))
            kt_log_warn("feed \"%s\": %s", feed->name, r.err);
    } else {
        int64_t now = clock_now();
        if (r.not_modified) {
            store_touch(store, feed->name, now);
            kt_log_debug("feed \"%s\": not modified", feed->name);
        } else {
            *changed = store_replace_items(store, feed->name, r.items, r.n_items, now);
            *ttl = r.ttl_minutes;
            kt_log_info("feed \"%s\": %zu headlines", feed->name, r.n_items);
        }
        /* A 304 may omit the validators: keep the ones we sent. A full
         * answer replaces them ("" clears one the server stopped sending). */
        const char *new_etag = r.etag ? r.etag : r.not_modified && etag ? etag : "";
        const char *new_lm = r.last_modified ? r.last_modified : r.not_modified && lm ? lm : "";
        if (!kt_str_eq(*new_etag ? new_etag : NULL, etag) ||
            !kt_str_eq(*new_lm ? new_lm : NULL, lm) || *ttl != old_ttl)
            *changed = true;
        store_set_meta(store, feed->name, new_etag, new_lm, *ttl);
        /* The feed's own items may change without the merged list changing
         * (beyond max_items), and the cache must still follow them. */
        if (!r.not_modified)
            *changed = true;
    }
    source_result_free(&r);
    free(etag);
    free(lm);
    return rc;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct poller *f = w->owner;
    const struct config *cfg = f->cfg;
    int64_t delay;
    {
        /* A fresh cache means the previous run just fetched: do not hammer
         * the server when the service restarts in a loop. */
        struct store_dump d = store_dump(f->store);
        int64_t last = 0;
        int ttl = 0;
        for (size_t i = 0; i < d.n_feeds; i++) {
            if (strcmp(d.feeds[i].name, w->feed->name) == 0) {
                last = d.feeds[i].last_success;
                ttl = d.feeds[i].ttl_minutes;
            }
        }
        store_dump_free(&d);
        delay = schedule_initial_delay(clock_now(), last, w->feed->refresh, ttl);
    }
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += delay;
        pthread_mutex_lock(&f->lock);
        while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
            if (pthread_cond_timedwait(&f->wake, &f->lock, &until) == ETIMEDOUT)
                break;
        }
        pthread_mutex_unlock(&f->lock);
        if (__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
            break;

        bool changed;
        int ttl;
        int64_t retry_after;
        int rc = refresh_feed(cfg, f->store, w->feed, w->exclude, &f->stop, &changed, &ttl,
                              &retry_after);
        if (__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE))
            break;
        if (store_expire(f->store, clock_now()))
            changed = true;
        if (changed)
            poller_save_cache(f, f->store, cfg);
        delay = rc == 0 ? schedule_after_success(&w->sched, w->feed->refresh, ttl)
                        : schedule_after_failure(&w->sched, w->feed->refresh, retry_after);
        kt_log_debug("feed \"%s\": next refresh in %lld s", w->feed->name, (long long)delay);
    }
    return NULL;
}

static void start_workers(struct poller *f)
{
    f->n_workers = f->cfg->n_feeds;
    f->workers = kt_calloc(f->n_workers ? f->n_workers : 1, sizeof *f->workers);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1024 * 1024);
    for (size_t i = 0; i < f->n_workers; i++) {
        struct worker *w = &f->workers[i];
        w->owner = f;
        w->feed = &f->cfg->feeds[i];
        w->exclude = feed_filter(f->cfg, w->feed);
        w->sched.rng = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ (i * 0x9E3779B9u);
        if (pthread_create(&w->thread, &attr, worker_main, w) == 0)
            w->started = true;
        else
            kt_log_error("feed \"%s\": cannot start its thread", w->feed->name);
    }
    pthread_attr_destroy(&attr);
}

static void stop_workers(struct poller *f)
{
    pthread_mutex_lock(&f->lock);
    __atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&f->wake);
    pthread_mutex_unlock(&f->lock);
    for (size_t i = 0; i < f->n_workers; i++) {
        if (f->workers[i].started)
            pthread_join(f->workers[i].thread, NULL);
        filter_free(f->workers[i].exclude);
    }
    free(f->workers);
    f->workers = NULL;
    f->n_workers = 0;
    __atomic_store_n(&f->stop, 0, __ATOMIC_RELEASE);
}

struct poller *poller_start(const struct config *cfg, struct store *store)
{
    struct poller *f = kt_calloc(1, sizeof *f);
    f->store = store;
    f->cfg = cfg;
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->wake, &ca);
    pthread_condattr_destroy(&ca);
    start_workers(f);
    return f;
}

void poller_reconfigure(struct poller *f, const struct config *cfg)
{
    stop_workers(f);
    f->cfg = cfg;
    start_workers(f);
}

void poller_stop(struct poller *f)
{
    if (!f)
        return;
    stop_workers(f);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->wake);
    free(f);
}

struct once_job {
    const struct config *cfg;
    struct store *store;
    const struct cfg_feed *feed;
    int rc;
    bool changed;
    bool started;
    pthread_t thread;
};

static void *once_main(void *arg)
{
    struct once_job *j = arg;
    struct filter *ex = feed_filter(j->cfg, j->feed);
    int ttl;
    int64_t retry_after;
    j->rc = refresh_feed(j->cfg, j->store, j->feed, ex, NULL, &j->changed, &ttl, &retry_after);
    filter_free(ex);
    return NULL;
}

int poller_run_once(const struct config *cfg, struct store *store)
{
    struct once_job *jobs = kt_calloc(cfg->n_feeds ? cfg->n_feeds : 1, sizeof *jobs);
    for (size_t i = 0; i < cfg->n_feeds; i++) {
        jobs[i] = (struct once_job){.cfg = cfg, .store = store, .feed = &cfg->feeds[i], .rc = -1};
        jobs[i].started = pthread_create(&jobs[i].thread, NULL, once_main, &jobs[i]) == 0;
        if (!jobs[i].started)
            kt_log_error("feed \"%s\": cannot start its thread", cfg->feeds[i].name);
    }
    int ok = 0;
    bool changed = false;
    for (size_t i = 0; i < cfg->n_feeds; i++) {
        if (jobs[i].started)
            pthread_join(jobs[i].thread, NULL);
        ok += jobs[i].rc == 0;
        changed |= jobs[i].changed;
    }
    free(jobs);
    if (store_expire(store, clock_now()))
        changed = true;
    if (changed)
        poller_save_cache(NULL, store, cfg);
    return ok;
}
