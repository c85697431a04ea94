/*
 * remote: see remote.h.
 *
 * The thread owns the fetch state (URL, validators, the text running);
 * the status fields are copied under the lock for other threads. The
 * local file is read again at each fetch: the remote document is always
 * laid over the local file as it is now, as a SIGHUP would.
 */
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cache.h"
#include "config.h"
#include "config_doc.h"
#include "fleet_conf.h"
#include "log.h"
#include "transport.h"
#include "util.h"

#define REMOTE_MAGIC "kiosk-ticker remote config 1\n"
#define REMOTE_MAX_BYTES (1024 * 1024) /* config_doc_load's bound on a file */

/* ---- the saved copy ---- */

struct remote_saved {
    char *url, *etag, *last_modified;
    char *text; /* the document as served */
    size_t len;
};

static void remote_saved_free(struct remote_saved *s)
{
    free(s->url);
    free(s->etag);
    free(s->last_modified);
    free(s->text);
    memset(s, 0, sizeof *s);
}

/* One "key: value\n" header line at *p; NULL value when empty. */
static int remote_header(const char **p, const char *end, const char *key, char **value)
{
    size_t kl = strlen(key);
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl || (size_t)(nl - *p) < kl + 1 || memcmp(*p, key, kl) != 0 || (*p)[kl] != ':')
        return -1;
    const char *v = *p + kl + 1;
    while (v < nl && *v == ' ')
        v++;
    *value = v < nl ? kt_strndup(v, (size_t)(nl - v)) : NULL;
    *p = nl + 1;
    return 0;
}

static int remote_saved_read(const char *path, struct remote_saved *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    char *data;
    size_t len;
    if (kt_read_file(path, REMOTE_MAX_BYTES + 4096, &data, &len, err, errlen) < 0)
        return -1;
    const char *p = data, *end = data + len;
    size_t ml = strlen(REMOTE_MAGIC);
    int rc = -1;
    if (len < ml || memcmp(p, REMOTE_MAGIC, ml) != 0) {
        kt_error(err, errlen, "%s: not a saved remote config", path);
        goto out;
    }
    p += ml;
    if (remote_header(&p, end, "url", &s->url) < 0 || !s->url ||
        remote_header(&p, end, "etag", &s->etag) < 0 ||
        remote_header(&p, end, "last-modified", &s->last_modified) < 0 || p >= end || *p != '\n') {
        kt_error(err, errlen, "%s: damaged header", path);
        goto out;
    }
    p++;
    s->len = (size_t)(end - p);
    s->text = kt_strndup(p, s->len);
    rc = 0;
out:
    free(data);
    if (rc < 0)
        remote_saved_free(s);
    return rc;
}

/* Atomically, as the cache is written (cache_write_file): a power cut
 * leaves the old copy or the new one, never half of one. */
static int remote_saved_write(const char *path, const struct remote_saved *s, char *err,
                              size_t errlen)
{
    struct kt_buf b;
    kt_buf_init(&b);
    kt_buf_printf(&b, "%surl: %s\netag: %s\nlast-modified: %s\n\n", REMOTE_MAGIC, s->url,
                  s->etag ? s->etag : "", s->last_modified ? s->last_modified : "");
    kt_buf_append(&b, s->text, s->len);
    int rc = cache_write_file(path, b.data, b.len, err, errlen);
    kt_buf_free(&b);
    return rc;
}

/* ---- the local file and the URL ---- */

struct remote_local {
    struct config_doc *doc;
    struct config *cfg; /* the local file alone */
    char *url;          /* config_url expanded; NULL when unset */
    char *saved_path;   /* the cache path + REMOTE_SAVED_SUFFIX */
    int64_t refresh;    /* seconds */
};

static void remote_local_free(struct remote_local *l)
{
    config_doc_free(l->doc);
    config_free(l->cfg);
    free(l->url);
    free(l->saved_path);
    memset(l, 0, sizeof *l);
}

static int remote_local_read(const char *path, struct remote_local *l, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->doc = config_doc_load(path, err, errlen);
    if (!l->doc)
        return -1;
    l->cfg = config_build(l->doc, err, errlen);
    if (!l->cfg) {
        remote_local_free(l);
        return -1;
    }
    const struct cfg_fleet *f = &l->cfg->fleet;
    l->refresh = f->config_refresh;
    l->saved_path = kt_asprintf("%s%s", l->cfg->cache, REMOTE_SAVED_SUFFIX);
    if (!f->config_url)
        return 0;
    char host[FLEET_NAME_MAX + 1] = "";
    char why[KT_ERR_MAX];
    if (fleet_conf_host_name(host, sizeof host, why, sizeof why) < 0 && !f->screen_id) {
        kt_error(err, errlen, "%s: config_url: %s", path, why);
        remote_local_free(l);
        return -1;
    }
    if (fleet_conf_expand_url(f->config_url, f->screen_id ? f->screen_id : host, host, &l->url, why,
                              sizeof why) < 0) {
        kt_error(err, errlen, "%s: config_url: %s", path, why);
        remote_local_free(l);
        return -1;
    }
    return 0;
}

/* The check of --check, with the URL as the remote sections' origin. */
static struct config *remote_build(const struct remote_local *l, const char *url, const char *text,
                                   size_t len, char *err, size_t errlen)
{
    struct config_doc *rdoc = config_doc_parse(text, len, url, err, errlen);
    if (!rdoc)
        return NULL;
    struct config_doc *merged = config_overlay(l->doc, rdoc);
    config_doc_free(rdoc);
    struct config *cfg = config_build(merged, err, errlen);
    config_doc_free(merged);
    return cfg;
}

struct config *remote_config_load(const char *path, char *err, size_t errlen)
{
    struct remote_local l;
    if (remote_local_read(path, &l, err, errlen) < 0)
        return NULL;
    struct config *out = NULL;
    struct remote_saved s;
    char why[KT_ERR_MAX];
    if (l.url && access(l.saved_path, F_OK) == 0) {
        if (remote_saved_read(l.saved_path, &s, why, sizeof why) < 0) {
            kt_log_warn("saved remote config ignored: %s", why);
        } else {
            if (strcmp(s.url, l.url) != 0)
                kt_log_info("saved remote config is for %s, not %s: not used", s.url, l.url);
            else if (!(out = remote_build(&l, s.url, s.text, s.len, why, sizeof why)))
                kt_log_warn("saved remote config ignored: %s", why);
            remote_saved_free(&s);
        }
    }
    if (!out) {
        out = l.cfg;
        l.cfg = NULL;
    }
    remote_local_free(&l);
    return out;
}

/* ---- the fetcher ---- */

struct remote {
    char *path;
    struct app *app; /* NULL in --fetch-once */
    const int *cancel;

    /* The thread's own. */
    char *url;          /* of the text running */
    char *etag, *lm;    /* its validators */
    uint64_t text_hash; /* of the text running; 0 = none (local only) */
    uint64_t bad_hash;  /* last invalid text, logged once */
    char last_err[KT_ERR_MAX];
    uint64_t rng;
    struct config *result; /* --fetch-once: the config to run */

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop; /* atomic, also the transfer's cancel flag */
    bool now; /* remote_refresh() asked */
    bool finished, abandoned;

    /* Status (under mu). */
    char *st_url, *st_etag, *st_lm;
    int64_t st_applied, st_checked;
    char st_error[KT_ERR_MAX];
    struct remote_stats stats;
};

static uint64_t remote_hash(const char *data, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static int64_t remote_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double remote_random(struct remote *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return (double)(r->rng >> 11) / (double)(1ULL << 53);
}

static void remote_set_status(struct remote *r, const char *error, bool applied)
{
    pthread_mutex_lock(&r->mu);
    free(r->st_url);
    free(r->st_etag);
    free(r->st_lm);
    r->st_url = kt_strdup(r->url);
    r->st_etag = kt_strdup(r->etag);
    r->st_lm = kt_strdup(r->lm);
    r->st_checked = (int64_t)time(NULL);
    if (applied)
        r->st_applied = r->st_checked;
    snprintf(r->st_error, sizeof r->st_error, "%s", error ? error : "");
    pthread_mutex_unlock(&r->mu);
}

static void remote_count(struct remote *r, unsigned long *counter)
{
    pthread_mutex_lock(&r->mu);
    (*counter)++;
    pthread_mutex_unlock(&r->mu);
}

/* A failure is logged when its reason is new. */
static void remote_fail(struct remote *r, const char *why)
{
    if (strcmp(why, r->last_err) != 0)
        kt_log_warn("remote config: %s", why);
    snprintf(r->last_err, sizeof r->last_err, "%s", why);
    remote_set_status(r, why, false);
}

/* Hands cfg to the app, unless stopping. Returns false when it was not. */
static bool remote_submit(struct remote *r, struct config *cfg)
{
    if (!r->app) {
        config_free(r->result);
        r->result = cfg;
        return true;
    }
    pthread_mutex_lock(&r->mu);
    bool ok = !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
    if (ok)
        app_submit_config(r->app, cfg);
    pthread_mutex_unlock(&r->mu);
    if (!ok)
        config_free(cfg);
    return ok;
}

/* Adopts the saved copy as what runs (as remote_config_load would). */
static void remote_adopt_saved(struct remote *r, const struct remote_local *l)
{
    struct remote_saved s;
    char why[KT_ERR_MAX];
    if (!l->url || access(l->saved_path, F_OK) != 0 ||
        remote_saved_read(l->saved_path, &s, why, sizeof why) < 0)
        return;
    if (strcmp(s.url, l->url) == 0) {
        struct config *cfg = remote_build(l, s.url, s.text, s.len, why, sizeof why);
        if (cfg) {
            free(r->url);
            free(r->etag);
            free(r->lm);
            r->url = kt_strdup(s.url);
            r->etag = kt_strdup(s.etag);
            r->lm = kt_strdup(s.last_modified);
            r->text_hash = remote_hash(s.text, s.len);
            config_free(cfg);
        }
    }
    remote_saved_free(&s);
}

/* One fetch. Returns 0 when the remote config is valid (applied,
 * unchanged or 304) or there is none, -1 otherwise. */
static int remote_cycle(struct remote *r, int64_t *refresh)
{
    char err[KT_ERR_MAX];
    struct remote_local l;
    if (remote_local_read(r->path, &l, err, sizeof err) < 0) {
        remote_fail(r, err);
        return -1;
    }
    *refresh = l.refresh;
    if (!l.url) {
        remote_local_free(&l);
        return 0;
    }
    if (!kt_str_eq(l.url, r->url)) {
        /* A new URL (SIGHUP changed config_url): no validators for it. */
        free(r->url);
        free(r->etag);
        free(r->lm);
        r->url = kt_strdup(l.url);
        r->etag = r->lm = NULL;
        r->text_hash = 0;
    }
    const struct config *c = l.cfg;
    struct transport_request req = {
        .url = l.url,
        .etag = r->etag,
        .last_modified = r->lm,
        .timeout = c->timeout,
        .connect_timeout = c->connect_timeout,
        .max_bytes = c->max_bytes < REMOTE_MAX_BYTES ? c->max_bytes : REMOTE_MAX_BYTES,
        .user_agent = c->user_agent,
        .ca_file = c->ca_file,
        .cancel = r->cancel,
    };
    struct transport_result res;
    memset(&res, 0, sizeof res);
    remote_count(r, &r->stats.fetches);
    int rc = -1;
    if (transport_get(&req, &res, err, sizeof err) < 0) {
        remote_count(r, &r->stats.failed);
        char why[KT_ERR_MAX];
        kt_error(why, sizeof why, "%s: %s", l.url, err);
        if (!__atomic_load_n(r->cancel, __ATOMIC_ACQUIRE))
            remote_fail(r, why);
        goto out;
    }
    r->last_err[0] = '\0';
    if (res.not_modified) {
        remote_count(r, &r->stats.not_modified);
        /* Validators are only ever those of a valid text: it still runs. */
        remote_set_status(r, NULL, false);
        rc = 0;
        goto out;
    }
    uint64_t h = remote_hash(res.body, res.len);
    if (h == r->text_hash) {
        /* The same text with new validators (a server restarted). */
        remote_count(r, &r->stats.unchanged);
        free(r->etag);
        free(r->lm);
        r->etag = kt_strdup(res.etag);
        r->lm = kt_strdup(res.last_modified);
        remote_set_status(r, NULL, false);
        rc = 0;
        goto out;
    }
    struct config *cfg = remote_build(&l, l.url, res.body, res.len, err, sizeof err);
    if (!cfg) {
        if (h != r->bad_hash) {
            remote_count(r, &r->stats.rejected);
            kt_log_error("remote config refused, keeping the running config: %s", err);
        }
        r->bad_hash = h;
        remote_set_status(r, err, false);
        goto out;
    }
    struct remote_saved s = {
        .url = l.url,
        .etag = res.etag,
        .last_modified = res.last_modified,
        .text = res.body,
        .len = res.len,
    };
    char why[KT_ERR_MAX];
    if (remote_saved_write(l.saved_path, &s, why, sizeof why) < 0)
        kt_log_warn("remote config not saved (the next boot runs the previous one): %s", why);
    if (!remote_submit(r, cfg))
        goto out;
    free(r->etag);
    free(r->lm);
    r->etag = kt_strdup(res.etag);
    r->lm = kt_strdup(res.last_modified);
    r->text_hash = h;
    r->bad_hash = 0;
    remote_count(r, &r->stats.applied);
    kt_log_info("remote config from %s applied%s%s", l.url, res.etag ? ", ETag " : "",
                res.etag ? res.etag : "");
    remote_set_status(r, NULL, true);
    rc = 0;
out:
    transport_result_free(&res);
    remote_local_free(&l);
    return rc;
}

static struct remote *remote_new(const char *path, struct app *app)
{
    struct remote *r = kt_calloc(1, sizeof *r);
    r->path = kt_strdup(path);
    r->app = app;
    r->cancel = &r->stop;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    r->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^
             (uint64_t)(uintptr_t)r;
    if (!r->rng)
        r->rng = 88172645463325252ULL;
    return r;
}

static void remote_free(struct remote *r)
{
    free(r->path);
    free(r->url);
    free(r->etag);
    free(r->lm);
    free(r->st_url);
    free(r->st_etag);
    free(r->st_lm);
    config_free(r->result);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

/* Test hook: KT_TEST_CONFIG_REFRESH_MS=N replaces config_refresh (whose
 * minimum is 30 s) so tests see several fetches in seconds. */
static int64_t remote_period_ms(int64_t refresh_s)
{
    const char *v = getenv("KT_TEST_CONFIG_REFRESH_MS");
    if (v && *v && strtol(v, NULL, 10) > 0)
        return strtol(v, NULL, 10);
    return (refresh_s > 0 ? refresh_s : 300) * 1000;
}

static void *remote_thread(void *arg)
{
    struct remote *r = arg;
    int64_t refresh = 300;
    int64_t due = remote_ms() + (int64_t)(remote_random(r) * REMOTE_FIRST_FETCH_MS);
    pthread_mutex_lock(&r->mu);
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        int64_t now = remote_ms();
        if (r->now) {
            /* Asked (the fleet's reload command, sent to every screen at
             * once): spread over REMOTE_PUSH_SPREAD_MS. */
            r->now = false;
            int64_t soon = now + (int64_t)(remote_random(r) * REMOTE_PUSH_SPREAD_MS);
            if (soon < due)
                due = soon;
            continue;
        }
        if (now < due) {
            struct timespec until = {(time_t)(due / 1000), (long)(due % 1000) * 1000000L};
            pthread_cond_timedwait(&r->cv, &r->mu, &until);
            continue;
        }
        pthread_mutex_unlock(&r->mu);
        remote_cycle(r, &refresh);
        int64_t period = remote_period_ms(refresh);
        /* Between half the period and all of it: within config_refresh,
         * and a fleet that started together drifts apart. */
        due = remote_ms() + period / 2 + (int64_t)(remote_random(r) * (double)(period / 2));
        pthread_mutex_lock(&r->mu);
    }
    r->finished = true;
    bool abandoned = r->abandoned;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (abandoned)
        remote_free(r);
    return NULL;
}

struct remote *remote_start(struct app *app, const char *path)
{
    if (!path)
        return NULL;
    struct remote_local l;
    char err[KT_ERR_MAX];
    if (remote_local_read(path, &l, err, sizeof err) < 0)
        return NULL; /* the boot config was read from it: reported there */
    if (!l.url) {
        remote_local_free(&l);
        return NULL;
    }
    struct remote *r = remote_new(path, app);
    remote_adopt_saved(r, &l);
    remote_set_status(r, NULL, r->text_hash != 0);
    remote_local_free(&l);
    if (pthread_create(&r->thread, NULL, remote_thread, r) != 0) {
        kt_log_error("remote config: cannot start its thread: %s", strerror(errno));
        remote_free(r);
        return NULL;
    }
    return r;
}

void remote_refresh(struct remote *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->now = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

void remote_stop(struct remote *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&r->cv);
    int64_t deadline = remote_ms() + REMOTE_STOP_MS;
    struct timespec until = {(time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000L};
    while (!r->finished && remote_ms() < deadline)
        pthread_cond_timedwait(&r->cv, &r->mu, &until);
    bool finished = r->finished;
    if (!finished)
        r->abandoned = true; /* the thread frees it when its transfer ends */
    pthread_mutex_unlock(&r->mu);
    if (finished) {
        pthread_join(r->thread, NULL);
        remote_free(r);
    } else {
        pthread_detach(r->thread);
    }
}

int remote_fetch_once(const char *path, struct config **cfg, const int *cancel)
{
    if (!path)
        return 0;
    struct remote_local l;
    char err[KT_ERR_MAX];
    if (remote_local_read(path, &l, err, sizeof err) < 0)
        return -1;
    bool on = l.url != NULL;
    struct remote *r = on ? remote_new(path, NULL) : NULL;
    if (r) {
        if (cancel)
            r->cancel = cancel;
        remote_adopt_saved(r, &l);
    }
    remote_local_free(&l);
    if (!r)
        return 0;
    int64_t refresh;
    int rc = remote_cycle(r, &refresh);
    if (r->result) {
        config_free(*cfg);
        *cfg = r->result;
        r->result = NULL;
    }
    remote_free(r);
    return rc;
}

static void remote_add_string(struct json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, v && *v ? json_object_new_string(v) : NULL);
}

void remote_status_json(struct remote *r, struct kt_buf *out)
{
    if (!r) {
        kt_buf_puts(out, "null");
        return;
    }
    struct json_object *o = json_object_new_object();
    pthread_mutex_lock(&r->mu);
    remote_add_string(o, "url", r->st_url);
    remote_add_string(o, "etag", r->st_etag);
    remote_add_string(o, "last_modified", r->st_lm);
    json_object_object_add(o, "applied",
                           r->st_applied ? json_object_new_int64(r->st_applied) : NULL);
    json_object_object_add(o, "checked",
                           r->st_checked ? json_object_new_int64(r->st_checked) : NULL);
    remote_add_string(o, "error", r->st_error);
    json_object_object_add(o, "fetches", json_object_new_int64((int64_t)r->stats.fetches));
    json_object_object_add(o, "not_modified",
                           json_object_new_int64((int64_t)r->stats.not_modified));
    json_object_object_add(o, "applied_count", json_object_new_int64((int64_t)r->stats.applied));
    json_object_object_add(o, "rejected", json_object_new_int64((int64_t)r->stats.rejected));
    pthread_mutex_unlock(&r->mu);
    kt_buf_puts(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

void remote_get_stats(struct remote *r, struct remote_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    pthread_mutex_unlock(&r->mu);
}
