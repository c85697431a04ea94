/*
 * poller: see poller.h.
 *
 * A worker is shared by its thread and the poller, each holding a
 * reference; the last one frees it. Everything a worker reads while it
 * runs is its own (name, URL, schedule) or held by reference (its config),
 * except the store and the change callback's context, which the app keeps
 * for the life of the process once a worker has been abandoned.
 */
#include "poller.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cap.h"
#include "config.h"
#include "config_ref.h"
#include "filter.h"
#include "log.h"
#include "schedule.h"
#include "source.h"
#include "store.h"
#include "transport.h"
#include "util.h"

/* A new worker for a feed whose previous worker was abandoned mid-fetch
 * waits this long at most for it to finish, so a SIGHUP storm does not
 * pile up parses of the same huge document. */
#define POLLER_PRED_WAIT_S 30
/* CAP documents one alert source's index may link to that are fetched per
 * refresh (each with the feed limits); the rest are left out with a
 * warning. An index lists the alerts in force, rarely more than a few
 * dozen. */
#define POLLER_MAX_CAP_LINKS 50

/* ---- clocks ---- */

static int64_t poller_sys_wall(void)
{
    return (int64_t)time(NULL);
}

static int64_t poller_sys_mono(void)
{
    struct timespec ts;
    /* BOOTTIME counts suspend: a laptop that slept did not step its clock. */
    if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static pthread_mutex_t poller_clock_mu = PTHREAD_MUTEX_INITIALIZER;
static poller_clock_fn poller_wall = poller_sys_wall, poller_mono = poller_sys_mono;
static struct schedule_clock poller_clock_state;

void poller_set_clock(poller_clock_fn wall, poller_clock_fn mono)
{
    pthread_mutex_lock(&poller_clock_mu);
    poller_wall = wall ? wall : poller_sys_wall;
    poller_mono = mono ? mono : wall ? wall : poller_sys_mono;
    memset(&poller_clock_state, 0, sizeof poller_clock_state);
    pthread_mutex_unlock(&poller_clock_mu);
}

int64_t poller_now(struct store *store)
{
    /* Under the lock, so one step is seen (and shifted) once. */
    pthread_mutex_lock(&poller_clock_mu);
    int64_t wall = poller_wall(), delta, from, to;
    bool step = schedule_clock_step(&poller_clock_state, wall, poller_mono(), &delta, &from, &to);
    if (step) {
        kt_log_warn("the wall clock moved by %+lld s: headline ages follow it", (long long)delta);
        if (store)
            store_shift_time(store, delta, from, to, wall);
    }
    pthread_mutex_unlock(&poller_clock_mu);
    return wall;
}

/* Milliseconds of CLOCK_MONOTONIC, for the workers' waits. */
static int64_t poller_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec poller_deadline(int64_t ms)
{
    return (struct timespec){(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
}

/* ---- workers ---- */

struct worker {
    int refs; /* atomic: the thread's and the poller's */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Under mu. */
    struct config_ref *cfg; /* the config it fetches with, swapped by a reload */
    bool refetch;           /* fetch now */
    bool done;              /* the thread has finished */
    bool fetched;           /* at least one attempt was made */
    int64_t due_ms;         /* next fetch */
    int64_t last_ms;        /* the last attempt */
    int64_t retry_until_ms; /* a Retry-After in force until then */
    int64_t refresh;        /* the refresh the schedule was computed for */
    struct schedule_state sched;
    struct worker *pred; /* abandoned worker of the same feed name, or NULL */
    int rc;              /* once: the result */

    int stop; /* atomic; also cancels the transfer */
    bool once;
    bool warned_cut;
    char *name, *url;
    uint64_t token;
    /* An [alert NAME] source: what its selection remembers, and the CAP
     * documents its index linked to at the last success of each (so a
     * transient failure of one does not hide its alert). Thread's own. */
    bool alert;
    struct cap_tracker *tracker;
    char **linked_url;
    struct cap_doc *linked;
    size_t n_linked;
    bool warned_links;
    struct store *store;
    poller_changed_fn changed;
    void *ctx;
};

static size_t poller_n_abandoned; /* atomic */

size_t poller_abandoned(void)
{
    return __atomic_load_n(&poller_n_abandoned, __ATOMIC_ACQUIRE);
}

static void worker_put(struct worker *w)
{
    if (!w || __atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    config_ref_put(w->cfg);
    worker_put(w->pred);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->name);
    free(w->url);
    cap_tracker_free(w->tracker);
    for (size_t i = 0; i < w->n_linked; i++) {
        free(w->linked_url[i]);
        cap_doc_free(&w->linked[i]);
    }
    free(w->linked_url);
    free(w->linked);
    free(w);
}

static bool worker_stopping(struct worker *w)
{
    return __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE) != 0;
}

static const struct cfg_alert *worker_alert_section(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_alerts; i++)
        if (strcmp(cfg->alerts[i].name, name) == 0)
            return &cfg->alerts[i];
    return NULL;
}

static int64_t worker_refresh_of(const struct config *cfg, const struct worker *w)
{
    if (w->alert) {
        const struct cfg_alert *a = worker_alert_section(cfg, w->name);
        return a && a->refresh > 0 ? a->refresh : 60;
    }
    for (size_t i = 0; i < cfg->n_feeds; i++)
        if (strcmp(cfg->feeds[i].name, w->name) == 0 && cfg->feeds[i].refresh > 0)
            return cfg->feeds[i].refresh;
    return cfg->refresh > 0 ? cfg->refresh : 900;
}

/* When to fetch first: at once, unless the cache shows a success less
 * than a refresh ago (a restart loop must not hammer the server). Under
 * w->mu. */
static void worker_plan_first(struct worker *w, int64_t refresh)
{
    int64_t last = 0;
    int ttl = 0;
    store_feed_schedule(w->store, w->token, &last, &ttl);
    int64_t delay = schedule_initial_delay(poller_now(w->store), last, refresh, ttl);
    w->due_ms = poller_ms() + delay * 1000;
    w->refresh = refresh;
}

/* Waits until the feed is due, a refetch is asked for, or stop. Returns
 * the config to fetch with (+1), or NULL to stop. */
static struct config_ref *worker_wait(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    for (;;) {
        if (worker_stopping(w)) {
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        int64_t now = poller_ms();
        if (w->refetch && now >= w->retry_until_ms)
            break;
        w->refetch = false;
        if (now >= w->due_ms)
            break;
        struct timespec until = poller_deadline(w->due_ms);
        pthread_cond_timedwait(&w->cv, &w->mu, &until);
    }
    w->refetch = false;
    struct config_ref *cfg = config_ref_get(w->cfg);
    pthread_mutex_unlock(&w->mu);
    return cfg;
}

/* Before the first fetch of a feed whose previous worker was abandoned:
 * let that one finish (bounded), so only one parse of the feed runs. */
static void worker_wait_pred(struct worker *w)
{
    struct worker *pred = w->pred;
    if (!pred)
        return;
    int64_t until = poller_ms() + POLLER_PRED_WAIT_S * 1000;
    pthread_mutex_lock(&pred->mu);
    while (!pred->done && !worker_stopping(w) && poller_ms() < until) {
        /* Short slices: our own stop flag is not signalled on pred's cv. */
        struct timespec t = poller_deadline(poller_ms() + 100);
        pthread_cond_timedwait(&pred->cv, &pred->mu, &t);
    }
    pthread_mutex_unlock(&pred->mu);
}

/* One refresh into the store. Returns 0 on success, -1 on failure (one
 * log line naming the feed and why), 1 when the feed is gone or the
 * worker was stopped. */
static int worker_fetch(struct worker *w, const struct config *cfg, int64_t *retry_after)
{
    char *etag = NULL, *lm = NULL;
    *retry_after = 0;
    if (!store_feed_validators(w->store, w->token, &etag, &lm))
        return 1;
    struct source_result r;
    int rc = source_fetch(cfg, w->url, etag, lm, &w->stop, &r);
    free(etag);
    free(lm);
    if (worker_stopping(w)) {
        source_result_free(&r);
        return 1;
    }
    if (rc < 0) {
        kt_log_warn("feed \"%s\": %s", w->name, r.err);
        store_note_failure(w->store, w->token, r.err);
        *retry_after = r.retry_after;
        source_result_free(&r);
        return -1;
    }
    struct store_fetch fx = {
        .not_modified = r.not_modified,
        .doc = r.not_modified ? NULL : &r.doc,
        .etag = r.etag,
        .last_modified = r.last_modified,
    };
    size_t kept = 0, shown = 0;
    enum store_outcome out =
        store_apply_fetch(w->store, w->token, &fx, poller_now(w->store), &kept, &shown);
    if (out == STORE_GONE) {
        kt_log_debug("feed \"%s\": no longer configured, result discarded", w->name);
        source_result_free(&r);
        return 1;
    }
    if (r.not_modified) {
        kt_log_debug("feed \"%s\": not modified", w->name);
    } else {
        kt_log_info("feed \"%s\": %zu headlines", w->name, shown);
        if (kept < r.doc.n_entries && !w->warned_cut) {
            kt_log_warn("feed \"%s\": %zu entries, keeping the first %zu (a feed keeps at most "
                        "%d entries and %d MiB of text)",
                        w->name, r.doc.n_entries, kept, STORE_MAX_ENTRIES,
                        STORE_MAX_FEED_BYTES >> 20);
            w->warned_cut = true;
        }
    }
    if (out == STORE_CHANGED && w->changed)
        w->changed(w->ctx);
    source_result_free(&r);
    return 0;
}

/* One CAP document (an <alert> or an index) with cfg's limits. 0, or -1
 * with err. */
static int worker_get_cap(struct worker *w, const struct config *cfg, const char *url,
                          struct cap_doc *doc, int64_t *retry_after, char *err, size_t errlen)
{
    memset(doc, 0, sizeof *doc);
    struct transport_request req = {
        .url = url,
        .timeout = cfg->timeout,
        .connect_timeout = cfg->connect_timeout,
        .max_bytes = cfg->max_bytes < (int64_t)CAP_MAX_DOC ? cfg->max_bytes : (int64_t)CAP_MAX_DOC,
        .user_agent = cfg->user_agent,
        .ca_file = cfg->ca_file,
        .cancel = &w->stop,
    };
    struct transport_result res;
    memset(&res, 0, sizeof res);
    if (transport_get(&req, &res, err, errlen) < 0) {
        if (retry_after)
            *retry_after = res.retry_after;
        transport_result_free(&res);
        return -1;
    }
    int rc =
        cap_parse(res.body, res.len, res.effective_url ? res.effective_url : url, doc, err, errlen);
    transport_result_free(&res);
    return rc;
}

/* The linked document of url from the last refresh, or NULL. */
static const struct cap_doc *worker_linked(const struct worker *w, const char *url)
{
    for (size_t i = 0; i < w->n_linked; i++)
        if (strcmp(w->linked_url[i], url) == 0)
            return &w->linked[i];
    return NULL;
}

/* One refresh of an [alert NAME] source: the document, the CAP documents
 * an index links to (bounded), the selection (cap_select), the store.
 * Returns as worker_fetch. */
static int worker_fetch_alerts(struct worker *w, const struct config *cfg, int64_t *retry_after)
{
    *retry_after = 0;
    const struct cfg_alert *ca = worker_alert_section(cfg, w->name);
    if (!ca)
        return 1;
    char err[KT_ERR_MAX];
    struct cap_doc doc;
    if (worker_get_cap(w, cfg, w->url, &doc, retry_after, err, sizeof err) < 0) {
        cap_doc_free(&doc);
        if (worker_stopping(w))
            return 1;
        kt_log_warn("alert \"%s\": %s", w->name, err);
        store_note_failure(w->store, w->token, err);
        return -1;
    }
    if (doc.n_invalid)
        kt_log_warn("alert \"%s\": %zu alert(s) or link(s) skipped: %s", w->name, doc.n_invalid,
                    doc.invalid_reason);
    if (doc.n_dropped)
        kt_log_warn("alert \"%s\": %zu repeated part(s) beyond the limits left out", w->name,
                    doc.n_dropped);

    /* Linked documents: fetched again each refresh; one that fails now
     * but was read before keeps its alerts. */
    size_t nl = doc.n_links < POLLER_MAX_CAP_LINKS ? doc.n_links : POLLER_MAX_CAP_LINKS;
    if (doc.n_links > nl && !w->warned_links) {
        kt_log_warn("alert \"%s\": the index links to %zu documents, reading the first %d", w->name,
                    doc.n_links, POLLER_MAX_CAP_LINKS);
        w->warned_links = true;
    }
    char **lurl = kt_calloc(nl ? nl : 1, sizeof *lurl);
    struct cap_doc *ldoc = kt_calloc(nl ? nl : 1, sizeof *ldoc);
    size_t nk = 0;
    for (size_t i = 0; i < nl && !worker_stopping(w); i++) {
        struct cap_doc d;
        char why[KT_ERR_MAX];
        if (worker_get_cap(w, cfg, doc.links[i], &d, NULL, why, sizeof why) == 0) {
            lurl[nk] = kt_strdup(doc.links[i]);
            ldoc[nk++] = d;
            continue;
        }
        cap_doc_free(&d);
        kt_log_warn("alert \"%s\": %s: %s", w->name, doc.links[i], why);
        const struct cap_doc *old = worker_linked(w, doc.links[i]);
        if (!old)
            continue;
        /* Moved over from the previous list (not copied): it is not read
         * twice below. */
        for (size_t k = 0; k < w->n_linked; k++)
            if (&w->linked[k] == old) {
                lurl[nk] = w->linked_url[k];
                ldoc[nk++] = w->linked[k];
                w->linked_url[k] = kt_strdup("");
                memset(&w->linked[k], 0, sizeof w->linked[k]);
            }
    }
    if (worker_stopping(w)) {
        for (size_t i = 0; i < nk; i++) {
            free(lurl[i]);
            cap_doc_free(&ldoc[i]);
        }
        free(lurl);
        free(ldoc);
        cap_doc_free(&doc);
        return 1;
    }
    for (size_t i = 0; i < w->n_linked; i++) {
        free(w->linked_url[i]);
        cap_doc_free(&w->linked[i]);
    }
    free(w->linked_url);
    free(w->linked);
    w->linked_url = lurl;
    w->linked = ldoc;
    w->n_linked = nk;

    size_t total = doc.n_alerts;
    for (size_t i = 0; i < nk; i++)
        total += ldoc[i].n_alerts;
    const struct cap_alert **listed = kt_calloc(total ? total : 1, sizeof *listed);
    size_t n = 0;
    for (size_t i = 0; i < doc.n_alerts; i++)
        listed[n++] = &doc.alerts[i];
    for (size_t i = 0; i < nk; i++)
        for (size_t k = 0; k < ldoc[i].n_alerts; k++)
            listed[n++] = &ldoc[i].alerts[k];

    struct filter *areas = NULL;
    if (ca->areas.n) {
        char why[KT_ERR_MAX];
        /* Checked when the config was read; NULL would match nothing. */
        areas = filter_new((const char *const *)ca->areas.v, ca->areas.n, why, sizeof why);
    }
    struct cap_section sec = {
        .name = ca->name,
        .label = ca->label,
        .min_severity = ca->min_severity,
        .language = ca->language,
        .areas = areas,
        .show_tests = ca->show_tests,
    };
    int64_t now = poller_now(w->store);
    if (!w->tracker)
        w->tracker = cap_tracker_new();
    cap_tracker_update(w->tracker, &sec, listed, n, now);
    filter_free(areas);
    free(listed);
    cap_doc_free(&doc);
    struct alert *active = NULL;
    size_t na = cap_tracker_active(w->tracker, now, &active);
    enum store_outcome out = store_apply_alerts(w->store, w->token, active, na, now);
    alert_list_free(active, na);
    if (out == STORE_GONE)
        return 1;
    kt_log_info("alert \"%s\": %zu CAP alert(s) listed, %zu shown", w->name, n, na);
    /* The snapshot may have changed: the supervisor looks at next_change. */
    if (w->changed)
        w->changed(w->ctx);
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    worker_wait_pred(w);
    for (;;) {
        struct config_ref *cfg = worker_wait(w);
        if (!cfg)
            break;
        int64_t retry_after;
        int rc = w->alert ? worker_fetch_alerts(w, cfg->cfg, &retry_after)
                          : worker_fetch(w, cfg->cfg, &retry_after);
        int64_t refresh = worker_refresh_of(cfg->cfg, w);
        config_ref_put(cfg);
        pthread_mutex_lock(&w->mu);
        w->rc = rc;
        w->fetched = true;
        w->last_ms = poller_ms();
        int64_t ttl_last;
        int ttl = 0;
        store_feed_schedule(w->store, w->token, &ttl_last, &ttl);
        int64_t delay = rc == 0 ? schedule_after_success(&w->sched, refresh, ttl)
                                : schedule_after_failure(&w->sched, refresh, retry_after);
        w->refresh = refresh;
        w->due_ms = w->last_ms + delay * 1000;
        w->retry_until_ms = retry_after > 0 ? w->last_ms + retry_after * 1000 : 0;
        pthread_mutex_unlock(&w->mu);
        if (rc == 1 || w->once)
            break;
        kt_log_debug("feed \"%s\": next refresh in %lld s", w->name, (long long)delay);
    }
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    worker_put(w);
    return NULL;
}

static struct worker *worker_start(struct store *store, struct config_ref *cfg, const char *name,
                                   const char *url, bool alert, uint64_t token, bool once,
                                   struct worker *pred, poller_changed_fn changed, void *ctx)
{
    struct worker *w = kt_calloc(1, sizeof *w);
    __atomic_store_n(&w->refs, 2, __ATOMIC_RELAXED);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    w->cfg = config_ref_get(cfg);
    w->name = kt_strdup(name);
    w->url = kt_strdup(url ? url : "");
    w->alert = alert;
    w->token = token;
    w->store = store;
    w->changed = changed;
    w->ctx = ctx;
    w->once = once;
    w->rc = -1;
    if (pred) {
        __atomic_add_fetch(&pred->refs, 1, __ATOMIC_RELAXED);
        w->pred = pred;
    }
    w->sched.rng = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ (token * 0x9E3779B9u);
    if (once)
        w->due_ms = 0;
    else
        worker_plan_first(w, worker_refresh_of(cfg->cfg, w));

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 1024 * 1024);
    /* Detached: never joined, so a worker that cannot be stopped is simply
     * left to finish. */
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    if (pthread_create(&th, &attr, worker_main, w) != 0) {
        kt_log_error("feed \"%s\": cannot start its thread", w->name);
        w->done = true;
        worker_put(w); /* the thread's reference */
    }
    pthread_attr_destroy(&attr);
    return w;
}

static void worker_signal_stop(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    __atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Waits for w to finish until deadline_ms; true when it did. */
static bool worker_wait_done(struct worker *w, int64_t deadline_ms)
{
    pthread_mutex_lock(&w->mu);
    struct timespec until = poller_deadline(deadline_ms);
    while (!w->done && poller_ms() < deadline_ms)
        pthread_cond_timedwait(&w->cv, &w->mu, &until);
    bool done = w->done;
    pthread_mutex_unlock(&w->mu);
    return done;
}

/* The thread of an abandoned worker counts itself out when it ends. */
static void *worker_reaper(void *arg);

/* Stops workers v[0..n) in parallel; those not done by wait_ms are
 * abandoned and returned in *abandoned (+1 each; may be NULL). Drops the
 * caller's references. Returns the number abandoned. */
static size_t workers_stop(struct worker **v, size_t n, int wait_ms, struct worker **abandoned)
{
    for (size_t i = 0; i < n; i++)
        worker_signal_stop(v[i]);
    int64_t deadline = poller_ms() + wait_ms;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!worker_wait_done(v[i], deadline)) {
            kt_log_warn("feed \"%s\": its fetch did not stop within %d ms; left to finish on its "
                        "own, its result discarded",
                        v[i]->name, wait_ms);
            __atomic_add_fetch(&poller_n_abandoned, 1, __ATOMIC_RELEASE);
            /* A tiny detached thread waits for it and counts it out, so
             * the count stays true without anyone joining anything. */
            __atomic_add_fetch(&v[i]->refs, 1, __ATOMIC_RELAXED);
            pthread_t th;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setstacksize(&attr, 64 * 1024);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            if (pthread_create(&th, &attr, worker_reaper, v[i]) != 0)
                worker_put(v[i]); /* counted for good: exit stays careful */
            pthread_attr_destroy(&attr);
            if (abandoned) {
                __atomic_add_fetch(&v[i]->refs, 1, __ATOMIC_RELAXED);
                abandoned[k] = v[i];
            }
            k++;
        }
        worker_put(v[i]);
    }
    return k;
}

static void *worker_reaper(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    __atomic_sub_fetch(&poller_n_abandoned, 1, __ATOMIC_RELEASE);
    kt_log_debug("feed \"%s\": the abandoned fetch has finished", w->name);
    worker_put(w);
    return NULL;
}

/* ---- the poller ---- */

struct poller {
    struct store *store;
    poller_changed_fn changed;
    void *ctx;
    struct config_ref *cfg;
    struct worker **workers; /* one per feed of cfg, in its order */
    size_t n_workers;
    /* Abandoned workers still running, by feed name: a new worker for the
     * same name waits for its predecessor (worker_wait_pred). */
    struct worker **zombies;
    size_t n_zombies;
};

struct poller *poller_new(struct store *store, poller_changed_fn changed, void *ctx)
{
    struct poller *p = kt_calloc(1, sizeof *p);
    p->store = store;
    p->changed = changed;
    p->ctx = ctx;
    return p;
}

static bool worker_done(struct worker *w)
{
    pthread_mutex_lock(&w->mu);
    bool done = w->done;
    pthread_mutex_unlock(&w->mu);
    return done;
}

static void poller_prune_zombies(struct poller *p)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n_zombies; i++) {
        if (worker_done(p->zombies[i]))
            worker_put(p->zombies[i]);
        else
            p->zombies[k++] = p->zombies[i];
    }
    p->n_zombies = k;
}

static struct worker *poller_zombie(struct poller *p, const char *name)
{
    for (size_t i = p->n_zombies; i-- > 0;)
        if (strcmp(p->zombies[i]->name, name) == 0)
            return p->zombies[i];
    return NULL;
}

static void poller_add_zombies(struct poller *p, struct worker **v, size_t n)
{
    p->zombies = kt_realloc(p->zombies, (p->n_zombies + n + 1) * sizeof *p->zombies);
    for (size_t i = 0; i < n; i++)
        p->zombies[p->n_zombies++] = v[i];
}

/* The sources of a config, feeds then alert sources: one worker each. */
struct poller_src {
    const char *name, *url;
    bool alert;
};

static size_t poller_sources(const struct config *c, struct poller_src **out)
{
    size_t n = c->n_feeds + c->n_alerts;
    struct poller_src *v = kt_calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < c->n_feeds; i++)
        v[i] = (struct poller_src){c->feeds[i].name, c->feeds[i].url ? c->feeds[i].url : "", false};
    for (size_t i = 0; i < c->n_alerts; i++)
        v[c->n_feeds + i] =
            (struct poller_src){c->alerts[i].name, c->alerts[i].url ? c->alerts[i].url : "", true};
    *out = v;
    return n;
}

static bool poller_same_source(const struct worker *w, const struct poller_src *src)
{
    return w->alert == src->alert && strcmp(w->name, src->name) == 0 &&
           strcmp(w->url, src->url) == 0;
}

static uint64_t poller_token(struct store *store, const struct poller_src *src)
{
    return src->alert ? store_alert_token(store, src->name, src->url)
                      : store_token(store, src->name, src->url);
}

/* A kept worker adopts a new config; a changed refresh moves a feed that
 * is not backing off to its new interval from the last attempt. */
static void worker_adopt(struct worker *w, struct config_ref *cfg)
{
    int64_t refresh = worker_refresh_of(cfg->cfg, w);
    pthread_mutex_lock(&w->mu);
    config_ref_put(w->cfg);
    w->cfg = config_ref_get(cfg);
    if (refresh != w->refresh && w->sched.failures == 0) {
        if (!w->fetched) {
            worker_plan_first(w, refresh);
        } else {
            int64_t last;
            int ttl = 0;
            store_feed_schedule(w->store, w->token, &last, &ttl);
            w->due_ms = w->last_ms + schedule_after_success(&w->sched, refresh, ttl) * 1000;
            w->refresh = refresh;
        }
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

void poller_configure(struct poller *p, struct config_ref *cfg)
{
    const struct config *c = cfg->cfg;
    struct poller_src *src;
    size_t n_src = poller_sources(c, &src);
    struct worker **next = kt_calloc(n_src ? n_src : 1, sizeof *next);
    struct worker **leaving = kt_calloc(p->n_workers ? p->n_workers : 1, sizeof *leaving);
    size_t n_leaving = 0;
    /* 1. Stop: workers whose (name, URL) is not in cfg. */
    for (size_t i = 0; i < p->n_workers; i++) {
        struct worker *w = p->workers[i];
        size_t j = 0;
        while (j < n_src && (next[j] || !poller_same_source(w, &src[j])))
            j++;
        if (j < n_src)
            next[j] = w;
        else
            leaving[n_leaving++] = w;
    }
    struct worker **abandoned = kt_calloc(n_leaving ? n_leaving : 1, sizeof *abandoned);
    size_t n_abandoned = workers_stop(leaving, n_leaving, POLLER_STOP_WAIT_MS, abandoned);
    poller_prune_zombies(p);
    poller_add_zombies(p, abandoned, n_abandoned);
    free(abandoned);
    free(leaving);

    /* 2. Configure: a source that stays keeps its token; others get new ones. */
    store_configure(p->store, c, poller_now(p->store));

    /* 3. Start workers for new sources; the rest take the new config. */
    for (size_t j = 0; j < n_src; j++) {
        if (next[j]) {
            worker_adopt(next[j], cfg);
            continue;
        }
        next[j] = worker_start(
            p->store, cfg, src[j].name, src[j].url, src[j].alert, poller_token(p->store, &src[j]),
            false, src[j].alert ? NULL : poller_zombie(p, src[j].name), p->changed, p->ctx);
    }
    free(src);
    free(p->workers);
    p->workers = next;
    p->n_workers = n_src;
    config_ref_put(p->cfg);
    p->cfg = config_ref_get(cfg);
}

void poller_refetch(struct poller *p, const char *feed)
{
    for (size_t i = 0; i < p->n_workers; i++) {
        struct worker *w = p->workers[i];
        if (feed && strcmp(w->name, feed) != 0)
            continue;
        pthread_mutex_lock(&w->mu);
        w->refetch = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
}

size_t poller_stop(struct poller *p, int wait_ms)
{
    if (!p)
        return 0;
    size_t n = workers_stop(p->workers, p->n_workers, wait_ms, NULL);
    free(p->workers);
    for (size_t i = 0; i < p->n_zombies; i++)
        worker_put(p->zombies[i]);
    free(p->zombies);
    config_ref_put(p->cfg);
    free(p);
    return n;
}

int poller_run_once(struct config_ref *cfg, struct store *store, const int *cancel)
{
    struct poller_src *src;
    size_t n = poller_sources(cfg->cfg, &src);
    struct worker **v = kt_calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = worker_start(store, cfg, src[i].name, src[i].url, src[i].alert,
                            poller_token(store, &src[i]), true, NULL, NULL, NULL);
    free(src);
    bool cancelled = false;
    for (size_t i = 0; i < n && !cancelled; i++) {
        /* Short waits, so a SIGTERM is seen within a tenth of a second. */
        while (!worker_wait_done(v[i], poller_ms() + 100))
            if (cancel && __atomic_load_n(cancel, __ATOMIC_RELAXED)) {
                cancelled = true;
                break;
            }
    }
    int ok = 0;
    for (size_t i = 0; i < n && !cancelled; i++) {
        ok += v[i]->rc == 0;
        worker_put(v[i]);
    }
    if (cancelled)
        workers_stop(v, n, POLLER_STOP_WAIT_MS, NULL);
    free(v);
    if (cancelled)
        return -1;
    store_expire(store, poller_now(store));
    return ok;
}
