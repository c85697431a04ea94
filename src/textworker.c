/*
 * textworker: see textworker.h.
 *
 * One mutex guards the mailbox (the posted look, the lists, the want
 * list, the results); the worker drops it for the work itself (opening
 * fonts, shaping, rasterising), so a post or a take never waits for more
 * than a few pointer moves. The font set, the look in use and the
 * item in hand belong to the worker thread alone.
 *
 * The structure is freed by whichever of the two sides lets go last: the
 * caller may stop the worker without waiting for the item in hand (the
 * kiosk loop never waits on another thread), and the thread then cleans
 * up after itself.
 */
#include "textworker.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "font.h"
#include "alert.h"
#include "log.h"
#include "store.h"
#include "util.h"

/* Enough for what the render asks at once: the entries on screen and
 * those due in the next seconds, even short ones at the highest speed. */
#define TEXTWORKER_MAX_WANT 96

struct textworker_lookcopy {
    struct textworker_look look;
    char *font, *separator, *idle_text;
    struct logo_spec *logos; /* strings owned */
};

struct textworker_list {
    uint32_t serial;
    bool used;
    const struct store_snapshot *snap; /* NULL: the idle text */
};

struct textworker {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the worker waits for work */
    pthread_cond_t news; /* textworker_wait waits for results or idleness */
    pthread_t thread;
    atomic_int refs; /* the caller's and the thread's */
    atomic_bool has_results;
    atomic_uint_least64_t cpu_ns, items;

    /* mailbox (mu) */
    bool quit, paused, busy;
    bool trim;                               /* made something since it last gave memory back */
    struct textworker_lookcopy *posted_look; /* not taken by the worker yet */
    uint32_t look_posted;                    /* number of the latest look posted */
    uint32_t look_current;                   /* number of the look the worker uses */
    struct textworker_list lists[2];         /* [0] the newest */
    struct textworker_want want[TEXTWORKER_MAX_WANT];
    bool want_done[TEXTWORKER_MAX_WANT];
    size_t n_want;
    uint32_t want_look;
    uint64_t want_serial; /* bumped by each textworker_want */
    struct textworker_result *res_head, *res_tail;
    char *text_posted; /* a standalone text to make next (the clock), or NULL */
    uint64_t text_key;

    /* the worker thread's own */
    struct textworker_lookcopy *look;
    struct font_set *fs;
    struct logo_set *logos; /* the look's, at its line height */
    char *fs_font;
    int fs_px;
    bool warned;
};

static void textworker_lookcopy_free(struct textworker_lookcopy *c)
{
    if (!c)
        return;
    free(c->font);
    free(c->separator);
    free(c->idle_text);
    for (size_t i = 0; i < c->look.n_logos; i++) {
        free((char *)c->logos[i].feed);
        free((char *)c->logos[i].path);
    }
    free(c->logos);
    free(c);
}

void textworker_result_free(struct textworker_result *res)
{
    if (!res)
        return;
    SDL_FreeSurface(res->surface);
    free(res);
}

static void textworker_unref(struct textworker *w)
{
    if (atomic_fetch_sub(&w->refs, 1) != 1)
        return;
    for (struct textworker_result *r = w->res_head, *next; r; r = next) {
        next = r->next;
        textworker_result_free(r);
    }
    for (int i = 0; i < 2; i++)
        if (w->lists[i].used && w->lists[i].snap)
            store_snapshot_release(w->lists[i].snap);
    textworker_lookcopy_free(w->posted_look);
    free(w->text_posted);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->news);
    free(w);
}

/* ---- the work ---- */

/* Over an opaque background the text is drawn onto it once, here: frames
 * then copy opaque pixels instead of blending them (the same pixels;
 * blending was most of a software frame's cost, bench/README.md). */
static SDL_Surface *textworker_flatten(const struct textworker_look *look, SDL_Surface *s)
{
    if (look->bg.a != 255)
        return s;
    SDL_Surface *flat = SDL_CreateRGBSurfaceWithFormat(0, s->w, s->h, 32, look->format);
    if (!flat)
        return s;
    SDL_FillRect(flat, NULL, SDL_MapRGBA(flat->format, look->bg.r, look->bg.g, look->bg.b, 255));
    SDL_SetSurfaceBlendMode(s, SDL_BLENDMODE_BLEND);
    SDL_BlitSurface(s, NULL, flat, NULL);
    SDL_FreeSurface(s);
    return flat;
}

static struct textworker_result *textworker_result_new(enum textworker_kind kind, uint32_t look)
{
    struct textworker_result *res = kt_calloc(1, sizeof *res);
    res->kind = kind;
    res->look = look;
    return res;
}

/* Opens the look's font unless it is the one open already. */
static void textworker_open_font(struct textworker *w, const struct textworker_look *look,
                                 struct textworker_result *res)
{
    if (w->fs && kt_str_eq(look->font, w->fs_font) && look->font_px == w->fs_px)
        return;
    char why[300];
    struct font_set *fs = font_set_open(look->font, look->font_px, why, sizeof why);
    if (!fs && w->fs) {
        snprintf(res->err, sizeof res->err, "%s (keeping %s)", why, font_set_main_path(w->fs));
        return;
    }
    if (!fs && look->fallback) {
        /* A typo in the path or family, a corrupt or unreadable file: the
         * screen shows its headlines in a default font rather than exit
         * into a restart loop. */
        static const char *const defaults[] = {"DejaVu Sans:bold", "sans-serif"};
        for (size_t i = 0; !fs && i < sizeof defaults / sizeof defaults[0]; i++) {
            char ignored[KT_ERR_MAX];
            fs = font_set_open(defaults[i], look->font_px, ignored, sizeof ignored);
            if (fs)
                snprintf(res->err, sizeof res->err, "%s; using \"%s\" instead", why, defaults[i]);
        }
    }
    if (!fs) {
        res->no_font = true;
        snprintf(res->err, sizeof res->err, "%s", why);
        return;
    }
    font_set_close(w->fs);
    w->fs = fs;
    free(w->fs_font);
    w->fs_font = kt_strdup(look->font);
    w->fs_px = look->font_px;
}

static struct textworker_result *textworker_make_look(struct textworker *w, uint32_t no)
{
    const struct textworker_look *look = &w->look->look;
    struct textworker_result *res = textworker_result_new(TEXTWORKER_LOOK, no);
    textworker_open_font(w, look, res);
    w->warned = false;
    if (!w->fs)
        return res;
    res->line_h = font_set_line_height(w->fs);
    logo_set_free(w->logos);
    w->logos = logo_set_load(look->logos, look->n_logos, res->line_h);
    res->opaque = look->bg.a == 255;
    snprintf(res->font_path, sizeof res->font_path, "%s", font_set_main_path(w->fs));
    if (look->separator && *look->separator) {
        struct text_span sp = {look->separator, look->fg};
        char err[KT_ERR_MAX];
        SDL_Surface *s = font_render_line(w->fs, &sp, 1, err, sizeof err);
        if (s) {
            res->sep_w = s->w;
            res->surface = textworker_flatten(look, s);
        } else {
            res->sep_w = font_measure_line(w->fs, &sp, 1);
            kt_log_warn("display: cannot draw the separator: %s", err);
        }
    }
    return res;
}

static size_t textworker_spans(const struct textworker_look *look,
                               const struct store_snapshot *snap, uint32_t index,
                               struct text_span sp[3])
{
    if (!snap) {
        sp[0] = (struct text_span){look->idle_text ? look->idle_text : "", look->fg};
        return 1;
    }
    size_t n = 0;
    if (look->alerts) {
        const struct alert *a = &snap->alerts[index];
        if (a->label && *a->label) {
            sp[n++] = (struct text_span){a->label, look->label};
            sp[n++] = (struct text_span){"  ", look->fg};
        }
        sp[n++] = (struct text_span){a->text ? a->text : "", look->fg};
        return n;
    }
    const struct headline *h = &snap->items[index];
    if (h->label && *h->label) {
        sp[n++] = (struct text_span){h->label, look->label};
        sp[n++] = (struct text_span){"  ", look->fg};
    }
    sp[n++] = (struct text_span){h->title ? h->title : "", look->fg};
    return n;
}

/* A headline of a feed with a logo: the logo in place of the label text,
 * the same gap, then the title. */
static struct textworker_result *textworker_make_logo_item(struct textworker *w,
                                                           const struct store_snapshot *snap,
                                                           const struct textworker_want *it,
                                                           const SDL_Surface *logo,
                                                           struct textworker_result *res)
{
    const struct textworker_look *look = &w->look->look;
    const char *title = snap->items[it->index].title;
    struct text_span gap = {"  ", look->fg}, sp = {title ? title : "", look->fg};
    int gap_w = font_measure_line(w->fs, &gap, 1);
    bool has_title = sp.text[0] != 0;
    if (it->measure_only) {
        res->measured_only = true;
        res->width = logo->w + (has_title ? gap_w + font_measure_line(w->fs, &sp, 1) : 0);
        return res;
    }
    char err[KT_ERR_MAX];
    SDL_Surface *line = has_title ? font_render_line(w->fs, &sp, 1, err, sizeof err) : NULL;
    if (has_title && !line && !w->warned) {
        kt_log_warn("display: cannot draw a headline: %s", err);
        w->warned = true;
    }
    SDL_Surface *s = logo_compose(logo, gap_w, line, font_set_line_height(w->fs));
    if (!s)
        return res;
    res->width = s->w;
    res->surface = textworker_flatten(look, s);
    return res;
}

static struct textworker_result *textworker_make_item(struct textworker *w,
                                                      const struct store_snapshot *snap,
                                                      const struct textworker_want *it)
{
    const struct textworker_look *look = &w->look->look;
    struct textworker_result *res = textworker_result_new(TEXTWORKER_ITEM, w->look_current);
    res->key = it->key;
    res->list = it->list;
    res->index = it->index;
    res->opaque = look->bg.a == 255;
    const SDL_Surface *logo = snap ? logo_set_find(w->logos, snap->items[it->index].feed) : NULL;
    if (logo && w->fs)
        return textworker_make_logo_item(w, snap, it, logo, res);
    struct text_span sp[3];
    size_t n = textworker_spans(look, snap, it->index, sp);
    bool empty = true;
    for (size_t i = 0; i < n; i++)
        empty = empty && !sp[i].text[0];
    if (empty || !w->fs)
        return res;
    if (it->measure_only) {
        res->measured_only = true;
        res->width = font_measure_line(w->fs, sp, n);
        return res;
    }
    char err[KT_ERR_MAX];
    SDL_Surface *s = font_render_line(w->fs, sp, n, err, sizeof err);
    if (!s) {
        /* Kept as blank space of its width: no retry (and no log line)
         * every time it comes round. */
        res->width = font_measure_line(w->fs, sp, n);
        if (!w->warned)
            kt_log_warn("display: cannot draw a headline: %s", err);
        w->warned = true;
        return res;
    }
    res->width = s->w;
    res->surface = textworker_flatten(look, s);
    return res;
}

/* A standalone text in fg on the look's background (the clock). */
static struct textworker_result *textworker_make_text(struct textworker *w, uint64_t key,
                                                      const char *text)
{
    const struct textworker_look *look = &w->look->look;
    struct textworker_result *res = textworker_result_new(TEXTWORKER_TEXT, w->look_current);
    res->key = key;
    res->opaque = look->bg.a == 255;
    if (!w->fs || !text[0])
        return res;
    struct text_span sp = {text, look->fg};
    char err[KT_ERR_MAX];
    SDL_Surface *s = font_render_line(w->fs, &sp, 1, err, sizeof err);
    if (!s) {
        res->width = font_measure_line(w->fs, &sp, 1);
        return res;
    }
    res->width = s->w;
    res->surface = textworker_flatten(look, s);
    return res;
}

/* ---- the thread ---- */

/* Made already and waiting to be taken (a width does for a width). */
static bool textworker_queued(const struct textworker *w, const struct textworker_want *it)
{
    for (const struct textworker_result *r = w->res_head; r; r = r->next)
        if (r->kind == TEXTWORKER_ITEM && r->key == it->key && r->look == w->look_current &&
            (it->measure_only || !r->measured_only))
            return true;
    return false;
}

/* The next wanted item to make, or -1. Under mu. */
static long textworker_pick(const struct textworker *w)
{
    if (w->paused || w->want_look != w->look_current)
        return -1;
    for (size_t i = 0; i < w->n_want; i++)
        if (!w->want_done[i] && !textworker_queued(w, &w->want[i]))
            return (long)i;
    return -1;
}

static bool textworker_idle(const struct textworker *w)
{
    return !w->busy && !w->posted_look && !(w->text_posted && !w->paused) && textworker_pick(w) < 0;
}

static void textworker_push(struct textworker *w, struct textworker_result *res)
{
    if (w->res_tail)
        w->res_tail->next = res;
    else
        w->res_head = res;
    w->res_tail = res;
    atomic_store(&w->has_results, true);
    pthread_cond_broadcast(&w->news);
}

static void textworker_account(struct textworker *w)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        atomic_store(&w->cpu_ns, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

static void *textworker_main(void *arg)
{
    struct textworker *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->quit) {
        if (w->posted_look) {
            struct textworker_lookcopy *next = w->posted_look;
            uint32_t no = w->look_posted;
            w->posted_look = NULL;
            w->busy = true;
            pthread_mutex_unlock(&w->mu);
            textworker_lookcopy_free(w->look);
            w->look = next;
            struct textworker_result *res = textworker_make_look(w, no);
            textworker_account(w);
            pthread_mutex_lock(&w->mu);
            w->busy = false;
            w->look_current = no;
            if (no == w->look_posted)
                textworker_push(w, res);
            else
                textworker_result_free(res); /* already replaced */
            continue;
        }
        if (w->text_posted && !w->paused && w->look) {
            char *text = w->text_posted;
            uint64_t key = w->text_key;
            w->text_posted = NULL;
            w->busy = true;
            pthread_mutex_unlock(&w->mu);
            struct textworker_result *res = textworker_make_text(w, key, text);
            free(text);
            textworker_account(w);
            pthread_mutex_lock(&w->mu);
            w->busy = false;
            w->trim = true;
            if (!w->posted_look && res->look == w->look_current)
                textworker_push(w, res);
            else
                textworker_result_free(res);
            continue;
        }
        long i = textworker_pick(w);
        if (i < 0) {
            pthread_cond_broadcast(&w->news); /* idle */
            if (w->trim) {
                /* Lines freed by the render thread go back to this thread's
                 * arena, and glibc keeps them: hand the pages back while
                 * idle (a strip needs a few lines, not the biggest burst). */
                w->trim = false;
                pthread_mutex_unlock(&w->mu);
                malloc_trim(0);
                pthread_mutex_lock(&w->mu);
                continue;
            }
            pthread_cond_wait(&w->wake, &w->mu);
            continue;
        }
        struct textworker_want it = w->want[i];
        uint64_t serial = w->want_serial;
        const struct store_snapshot *snap = NULL;
        bool found = false;
        for (int k = 0; k < 2 && !found; k++) {
            if (w->lists[k].used && w->lists[k].serial == it.list) {
                found = true;
                snap = w->lists[k].snap ? store_snapshot_retain(w->lists[k].snap) : NULL;
            }
        }
        size_t n_items = snap && w->look && w->look->look.alerts ? snap->n_alerts
                         : snap                                  ? snap->n
                                                                 : 1;
        if (!found || (snap && it.index >= n_items)) {
            w->want_done[i] = true; /* a list gone: nothing to make it from */
            if (snap)
                store_snapshot_release(snap);
            continue;
        }
        w->busy = true;
        pthread_mutex_unlock(&w->mu);
        struct textworker_result *res = textworker_make_item(w, snap, &it);
        if (snap)
            store_snapshot_release(snap);
        textworker_account(w);
        atomic_fetch_add(&w->items, 1);
        pthread_mutex_lock(&w->mu);
        w->busy = false;
        w->trim = true;
        if (w->want_serial == serial)
            w->want_done[i] = true;
        /* Pushed even when no longer wanted by the newest list: the render
         * drops what it does not need, and a repeated want finds it queued. */
        if (!w->posted_look && res->look == w->look_current)
            textworker_push(w, res);
        else
            textworker_result_free(res);
    }
    pthread_cond_broadcast(&w->news);
    pthread_mutex_unlock(&w->mu);
    font_set_close(w->fs);
    w->fs = NULL;
    logo_set_free(w->logos);
    w->logos = NULL;
    free(w->fs_font);
    textworker_lookcopy_free(w->look);
    w->look = NULL;
    textworker_unref(w);
    return NULL;
}

/* ---- the render thread's side ---- */

struct textworker *textworker_start(char *err, size_t errlen)
{
    struct textworker *w = kt_calloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->news, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&w->refs, 2);
    atomic_init(&w->has_results, false);
    atomic_init(&w->cpu_ns, 0);
    atomic_init(&w->items, 0);
    int rc = pthread_create(&w->thread, NULL, textworker_main, w);
    if (rc != 0) {
        kt_error(err, errlen, "cannot start the text worker: %s", strerror(rc));
        atomic_store(&w->refs, 1);
        textworker_unref(w);
        return NULL;
    }
    return w;
}

void textworker_stop(struct textworker *w, bool wait)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    if (wait)
        pthread_join(w->thread, NULL);
    else
        pthread_detach(w->thread);
    textworker_unref(w);
}

static void textworker_copy_logos(struct textworker_lookcopy *c, const struct textworker_look *look)
{
    c->logos = look->n_logos ? kt_calloc(look->n_logos, sizeof *c->logos) : NULL;
    for (size_t i = 0; i < look->n_logos; i++)
        c->logos[i] =
            (struct logo_spec){kt_strdup(look->logos[i].feed), kt_strdup(look->logos[i].path)};
    c->look.logos = c->logos;
}

uint32_t textworker_set_look(struct textworker *w, const struct textworker_look *look)
{
    struct textworker_lookcopy *c = kt_calloc(1, sizeof *c);
    c->look = *look;
    c->font = kt_strdup(look->font);
    c->separator = kt_strdup(look->separator);
    c->idle_text = kt_strdup(look->idle_text);
    c->look.font = c->font;
    c->look.separator = c->separator;
    c->look.idle_text = c->idle_text;
    textworker_copy_logos(c, look);
    pthread_mutex_lock(&w->mu);
    struct textworker_lookcopy *old = w->posted_look;
    w->posted_look = c;
    uint32_t no = ++w->look_posted;
    w->n_want = 0; /* made for the old look */
    w->want_serial++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    textworker_lookcopy_free(old);
    return no;
}

void textworker_set_list(struct textworker *w, uint32_t serial, const struct store_snapshot *snap)
{
    if (snap)
        store_snapshot_retain(snap);
    pthread_mutex_lock(&w->mu);
    struct textworker_list old = w->lists[1];
    w->lists[1] = w->lists[0];
    w->lists[0] = (struct textworker_list){.serial = serial, .used = true, .snap = snap};
    pthread_mutex_unlock(&w->mu);
    if (old.used && old.snap)
        store_snapshot_release(old.snap);
}

void textworker_set_text(struct textworker *w, uint64_t key, const char *text)
{
    char *copy = kt_strdup(text);
    pthread_mutex_lock(&w->mu);
    char *old = w->text_posted;
    w->text_posted = copy;
    w->text_key = key;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    free(old);
}

void textworker_want(struct textworker *w, uint32_t look, const struct textworker_want *v, size_t n)
{
    if (n > TEXTWORKER_MAX_WANT)
        n = TEXTWORKER_MAX_WANT;
    pthread_mutex_lock(&w->mu);
    memcpy(w->want, v, n * sizeof *v);
    memset(w->want_done, 0, n * sizeof *w->want_done);
    w->n_want = n;
    w->want_look = look;
    w->want_serial++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
}

bool textworker_has_results(struct textworker *w)
{
    return atomic_load_explicit(&w->has_results, memory_order_acquire);
}

struct textworker_result *textworker_take(struct textworker *w)
{
    pthread_mutex_lock(&w->mu);
    struct textworker_result *head = w->res_head;
    w->res_head = w->res_tail = NULL;
    atomic_store(&w->has_results, false);
    pthread_mutex_unlock(&w->mu);
    return head;
}

static void textworker_deadline(struct timespec *until, int timeout_ms)
{
    clock_gettime(CLOCK_MONOTONIC, until);
    until->tv_sec += timeout_ms / 1000;
    until->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until->tv_nsec >= 1000000000L) {
        until->tv_sec++;
        until->tv_nsec -= 1000000000L;
    }
}

static int textworker_wait_for(struct textworker *w, int timeout_ms, bool results)
{
    struct timespec until;
    textworker_deadline(&until, timeout_ms);
    int rc;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        if (results && w->res_head) {
            rc = 1;
            break;
        }
        if (textworker_idle(w) || w->quit) {
            rc = 0;
            break;
        }
        if (pthread_cond_timedwait(&w->news, &w->mu, &until) == ETIMEDOUT) {
            rc = results && w->res_head ? 1 : textworker_idle(w) ? 0 : -1;
            break;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int textworker_wait(struct textworker *w, int timeout_ms)
{
    return textworker_wait_for(w, timeout_ms, true);
}

int textworker_wait_idle(struct textworker *w, int timeout_ms)
{
    return textworker_wait_for(w, timeout_ms, false);
}

void textworker_pause(struct textworker *w, bool paused)
{
    pthread_mutex_lock(&w->mu);
    w->paused = paused;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
}

uint64_t textworker_cpu_ns(struct textworker *w)
{
    return atomic_load(&w->cpu_ns);
}

uint64_t textworker_items(struct textworker *w)
{
    return atomic_load(&w->items);
}
