/*
 * background: see background.h.
 *
 * One mutex guards the mailbox (the slide and size asked for, the one
 * finished image); the decoder drops it for the work itself (reading the
 * directory, decoding, scaling). The structure is freed by whichever side
 * lets go last, so the kiosk can stop the decoder without waiting for the
 * image in hand.
 */
#include "background.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <SDL_image.h>
#include <png.h>

#include "log.h"
#include "util.h"

/* Files tried per slide at most: a directory of broken files does not
 * keep the decoder busy for long. */
#define BG_MAX_FILES 4096
/* Files whose failure was logged (per name, size and time): each is said
 * once, not every time it comes round. */
#define BG_MAX_BAD 64

struct bg_bad {
    char name[256];
    off_t size;
    time_t mtime;
};

struct background {
    pthread_mutex_t mu;
    pthread_cond_t wake, news;
    pthread_t thread;
    atomic_int refs;
    atomic_bool has_result;
    atomic_uint_least64_t decoded, skipped;

    /* mailbox (mu) */
    bool quit, busy, fresh; /* fresh: asked for since the decoder took it */
    int64_t want_k;
    int want_w, want_h;
    struct background_image result;
    bool has;

    /* set at start */
    char *path;
    enum background_fit fit;
    double slide_s;
    Uint32 format;
    bool is_dir; /* as the path was at start (a slideshow counts time) */

    /* the decoder's own */
    bool have_last;
    int64_t last_k;
    char last_name[256];
    struct bg_bad bad[BG_MAX_BAD];
    size_t n_bad;
    bool said_missing, said_empty;
};

static pthread_once_t bg_img_once = PTHREAD_ONCE_INIT;

static void bg_img_init(void)
{
    /* Loads the codecs once, before two threads (this decoder and the text
     * worker's logos) could race in IMG_Init. */
    IMG_Init(IMG_INIT_JPG | IMG_INIT_PNG);
}

void background_img_init(void)
{
    pthread_once(&bg_img_once, bg_img_init);
}

double background_lead(double slide_s)
{
    return slide_s / 2 < 2.0 ? slide_s / 2 : 2.0;
}

/* ---- decoding ---- */

/* A PNG through libpng's simplified API: SDL2_image's PNG loader lets
 * libpng print its own line on stderr for a broken file, beside ours. */
static SDL_Surface *bg_load_png(const char *path, char *err, size_t errlen)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) {
        kt_error(err, errlen, "%s", img.message);
        return NULL;
    }
    img.format = SDL_BYTEORDER == SDL_LIL_ENDIAN ? PNG_FORMAT_BGRA : PNG_FORMAT_ARGB;
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, (int)img.width, (int)img.height, 32,
                                                    SDL_PIXELFORMAT_ARGB8888);
    if (!s) {
        kt_error(err, errlen, "%s", SDL_GetError());
        png_image_free(&img);
        return NULL;
    }
    if (!png_image_finish_read(&img, NULL, s->pixels, s->pitch, NULL)) {
        kt_error(err, errlen, "%s", img.message);
        png_image_free(&img);
        SDL_FreeSurface(s);
        return NULL;
    }
    return s;
}

SDL_Surface *background_load(const char *path, char *err, size_t errlen)
{
    size_t n = strlen(path);
    if (n >= 4 && strcasecmp(path + n - 4, ".png") == 0)
        return bg_load_png(path, err, errlen);
    background_img_init();
    SDL_Surface *s = IMG_Load(path);
    if (!s)
        kt_error(err, errlen, "%s", IMG_GetError());
    return s;
}

/* path decoded, flattened onto black and scaled to w x h by fit. */
static SDL_Surface *bg_decode(const char *path, enum background_fit fit, Uint32 format, int w,
                              int h, char *err, size_t errlen)
{
    SDL_Surface *src = background_load(path, err, errlen);
    if (!src)
        return NULL;
    if (src->w <= 0 || src->h <= 0) {
        SDL_FreeSurface(src);
        kt_error(err, errlen, "empty image");
        return NULL;
    }
    /* Transparent parts show black, as around the image. */
    SDL_Surface *flat = SDL_CreateRGBSurfaceWithFormat(0, src->w, src->h, 32, format);
    SDL_Surface *out = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, format);
    if (!flat || !out) {
        kt_error(err, errlen, "%s", SDL_GetError());
        SDL_FreeSurface(src);
        SDL_FreeSurface(flat);
        SDL_FreeSurface(out);
        return NULL;
    }
    SDL_FillRect(flat, NULL, SDL_MapRGBA(flat->format, 0, 0, 0, 255));
    SDL_FillRect(out, NULL, SDL_MapRGBA(out->format, 0, 0, 0, 255));
    SDL_SetSurfaceBlendMode(src, SDL_BLENDMODE_BLEND);
    SDL_BlitSurface(src, NULL, flat, NULL);
    double sx = (double)w / src->w, sy = (double)h / src->h;
    SDL_Rect from = {0, 0, src->w, src->h}, to = {0, 0, w, h};
    if (fit == FIT_COVER) {
        double s = sx > sy ? sx : sy;
        from.w = (int)lround(w / s);
        from.h = (int)lround(h / s);
        from.w = from.w < 1 ? 1 : from.w > src->w ? src->w : from.w;
        from.h = from.h < 1 ? 1 : from.h > src->h ? src->h : from.h;
        from.x = (src->w - from.w) / 2;
        from.y = (src->h - from.h) / 2;
    } else {
        double s = sx < sy ? sx : sy;
        to.w = (int)lround(src->w * s);
        to.h = (int)lround(src->h * s);
        to.w = to.w < 1 ? 1 : to.w > w ? w : to.w;
        to.h = to.h < 1 ? 1 : to.h > h ? h : to.h;
        to.x = (w - to.w) / 2;
        to.y = (h - to.h) / 2;
    }
    SDL_FreeSurface(src);
    int rc = from.w == to.w && from.h == to.h ? SDL_BlitSurface(flat, &from, out, &to)
                                              : SDL_SoftStretchLinear(flat, &from, out, &to);
    SDL_FreeSurface(flat);
    if (rc < 0) {
        kt_error(err, errlen, "cannot scale: %s", SDL_GetError());
        SDL_FreeSurface(out);
        return NULL;
    }
    return out;
}

/* ---- the directory ---- */

static bool bg_is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.')
        return false;
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".svg"};
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (strcasecmp(dot, ext[i]) == 0)
            return true;
    return false;
}

static int bg_name_cmp(const void *a, const void *b)
{
    /* Byte order, not the locale's: the same order on every screen. */
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The image files of dir in name order (*n of them; NULL when none). */
static char **bg_list(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) && *n < BG_MAX_FILES) {
        if (!bg_is_image_name(e->d_name) || strlen(e->d_name) >= 256)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            v = kt_realloc(v, cap * sizeof *v);
        }
        v[(*n)++] = kt_strdup(e->d_name);
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, bg_name_cmp);
    return v;
}

static void bg_list_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Logs a file's failure once per name and version. */
static void bg_skip(struct background *b, const char *file, const char *name, const char *why)
{
    atomic_fetch_add(&b->skipped, 1);
    struct stat st;
    struct bg_bad key = {.size = -1};
    snprintf(key.name, sizeof key.name, "%s", name);
    if (stat(file, &st) == 0) {
        key.size = st.st_size;
        key.mtime = st.st_mtime;
    }
    for (size_t i = 0; i < b->n_bad; i++)
        if (strcmp(b->bad[i].name, key.name) == 0 && b->bad[i].size == key.size &&
            b->bad[i].mtime == key.mtime)
            return;
    kt_log_warn("background_image: cannot show %s: %s; skipped", file, why);
    if (b->n_bad == BG_MAX_BAD)
        memmove(b->bad, b->bad + 1, (BG_MAX_BAD - 1) * sizeof *b->bad);
    else
        b->n_bad++;
    b->bad[b->n_bad - 1] = key;
}

/* Where slide k starts in the listing: the file after slide last_k's by
 * the slides between (so a file added or removed shifts nothing before
 * it), or k's place from the start when there is no earlier slide. */
static size_t bg_first_index(const struct background *b, char **v, size_t n, int64_t k)
{
    if (!b->have_last || k < b->last_k)
        return (size_t)(k % (int64_t)n);
    size_t p = 0; /* names before last_name */
    while (p < n && strcmp(v[p], b->last_name) < 0)
        p++;
    bool present = p < n && strcmp(v[p], b->last_name) == 0;
    /* Gone: as if it were still between its neighbours. */
    int64_t base = present ? (int64_t)p : (int64_t)p - 1;
    int64_t idx = (base + (k - b->last_k)) % (int64_t)n;
    return (size_t)(idx < 0 ? idx + (int64_t)n : idx);
}

static SDL_Surface *bg_make(struct background *b, int64_t k, int w, int h, char *name,
                            size_t namelen)
{
    char err[KT_ERR_MAX];
    struct stat st;
    if (stat(b->path, &st) < 0) {
        if (!b->said_missing)
            kt_log_warn("background_image: %s: %s", b->path, strerror(errno));
        b->said_missing = true;
        return NULL;
    }
    b->said_missing = false;
    if (!S_ISDIR(st.st_mode)) {
        SDL_Surface *s = bg_decode(b->path, b->fit, b->format, w, h, err, sizeof err);
        if (!s)
            bg_skip(b, b->path, "", err);
        snprintf(name, namelen, "%s", b->path);
        return s;
    }
    size_t n;
    char **v = bg_list(b->path, &n);
    if (n == 0) {
        if (!b->said_empty)
            kt_log_warn("background_image: no PNG, JPEG or SVG files in %s", b->path);
        b->said_empty = true;
        return NULL;
    }
    b->said_empty = false;
    size_t first = bg_first_index(b, v, n, k);
    SDL_Surface *s = NULL;
    for (size_t i = 0; i < n && !s; i++) {
        const char *fname = v[(first + i) % n];
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", b->path, fname);
        s = bg_decode(file, b->fit, b->format, w, h, err, sizeof err);
        if (!s) {
            bg_skip(b, file, fname, err);
            continue;
        }
        b->have_last = true;
        b->last_k = k;
        snprintf(b->last_name, sizeof b->last_name, "%s", fname);
        snprintf(name, namelen, "%s", fname);
    }
    bg_list_free(v, n);
    return s;
}

/* ---- the thread ---- */

static void bg_unref(struct background *b)
{
    if (atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    SDL_FreeSurface(b->result.surface);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->wake);
    pthread_cond_destroy(&b->news);
    free(b->path);
    free(b);
}

static void *bg_main(void *arg)
{
    struct background *b = arg;
    pthread_mutex_lock(&b->mu);
    while (!b->quit) {
        if (!b->fresh) {
            pthread_cond_broadcast(&b->news); /* idle */
            pthread_cond_wait(&b->wake, &b->mu);
            continue;
        }
        b->fresh = false;
        b->busy = true;
        int64_t k = b->want_k;
        int w = b->want_w, h = b->want_h;
        pthread_mutex_unlock(&b->mu);
        struct background_image img = {.slide = k, .w = w, .h = h};
        Uint64 t0 = SDL_GetPerformanceCounter();
        img.surface = bg_make(b, k, w, h, img.name, sizeof img.name);
        if (img.surface) {
            atomic_fetch_add(&b->decoded, 1);
            kt_log_debug("background_image: slide %lld: %s decoded and scaled to %dx%d in %.1f ms",
                         (long long)k, img.name, w, h,
                         (double)(SDL_GetPerformanceCounter() - t0) * 1e3 /
                             (double)SDL_GetPerformanceFrequency());
        }
        pthread_mutex_lock(&b->mu);
        b->busy = false;
        if (b->fresh || b->quit) {
            SDL_FreeSurface(img.surface); /* asked for something else meanwhile */
            continue;
        }
        /* Replaces an image not taken: never more than one waiting. */
        SDL_FreeSurface(b->result.surface);
        b->result = img;
        b->has = true;
        atomic_store(&b->has_result, true);
        pthread_cond_broadcast(&b->news);
    }
    pthread_mutex_unlock(&b->mu);
    bg_unref(b);
    return NULL;
}

struct background *background_start(const char *path, enum background_fit fit, double slide_s,
                                    Uint32 format, char *err, size_t errlen)
{
    struct background *b = kt_calloc(1, sizeof *b);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->wake, NULL);
    pthread_cond_init(&b->news, NULL);
    b->path = kt_strdup(path);
    b->fit = fit;
    b->slide_s = slide_s > 0 ? slide_s : 15;
    b->format = format;
    struct stat st;
    b->is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    /* A path that does not end in an image name is taken for a directory
     * still to come (its slides then count from the start). */
    if (stat(path, &st) < 0 && !bg_is_image_name(path))
        b->is_dir = true;
    atomic_init(&b->refs, 2);
    int rc = pthread_create(&b->thread, NULL, bg_main, b);
    if (rc != 0) {
        kt_error(err, errlen, "cannot start the image decoder: %s", strerror(rc));
        free(b->path);
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->wake);
        pthread_cond_destroy(&b->news);
        free(b);
        return NULL;
    }
    return b;
}

void background_stop(struct background *b, bool wait)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->quit = true;
    pthread_cond_broadcast(&b->wake);
    pthread_mutex_unlock(&b->mu);
    if (wait)
        pthread_join(b->thread, NULL);
    else
        pthread_detach(b->thread);
    bg_unref(b);
}

int64_t background_slide(const struct background *b, double t)
{
    if (!b->is_dir || !(t > 0))
        return 0;
    double k = floor(t / b->slide_s);
    return k < 9e15 ? (int64_t)k : (int64_t)9e15;
}

void background_want(struct background *b, int64_t k, int w, int h)
{
    pthread_mutex_lock(&b->mu);
    b->fresh = true;
    b->want_k = k;
    b->want_w = w;
    b->want_h = h;
    pthread_cond_signal(&b->wake);
    pthread_mutex_unlock(&b->mu);
}

bool background_ready(struct background *b)
{
    return atomic_load_explicit(&b->has_result, memory_order_acquire);
}

bool background_take(struct background *b, struct background_image *out)
{
    if (!background_ready(b))
        return false;
    pthread_mutex_lock(&b->mu);
    bool got = b->has;
    if (got) {
        *out = b->result;
        b->result.surface = NULL;
        b->has = false;
    }
    atomic_store(&b->has_result, false);
    pthread_mutex_unlock(&b->mu);
    return got;
}

int background_wait(struct background *b, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&b->mu);
    while (!b->has && (b->fresh || b->busy) && rc == 0)
        rc = pthread_cond_timedwait(&b->news, &b->mu, &until);
    pthread_mutex_unlock(&b->mu);
    return rc == 0 ? 0 : -1;
}

uint64_t background_decoded(struct background *b)
{
    return atomic_load(&b->decoded);
}

uint64_t background_skipped(struct background *b)
{
    return atomic_load(&b->skipped);
}
