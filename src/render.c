/*
 * render: see render.h.
 *
 * Per frame: take what the text worker finished (an atomic load when it
 * finished nothing), advance the layout (scroll.c), upload at most one
 * finished headline into textures, fill the strip, copy the textures of
 * the entries on screen at sub-pixel positions, release the textures of
 * entries that have left, and tell the worker what is due next when that
 * changed. A steady frame allocates nothing, makes no system call and
 * never waits for the worker.
 *
 * Looking ahead in time, not pixels: the worker is asked for every
 * headline due within RENDER_AHEAD_S seconds at the current speed (so at
 * 5000 px/s ten thousand pixels ahead), so a headline is ready before it
 * enters at any speed; textures are made for what enters within
 * RENDER_UPLOAD_S. When one is not ready in time anyway (start-up, a new
 * font, a brand-new headline right after a new snapshot on a slow board):
 * nothing is drawn where it goes, the frame is not held, and the tape
 * waits for it at the screen's edge rather than let text appear
 * mid-screen (scroll.h); render_stats counts both.
 *
 * Texture cache: a slot holds one headline's textures, keyed by a key
 * that covers the headline's id and its label (everything it shows), so
 * entries kept on screen across a new snapshot find theirs, and a reload
 * that changes a label draws it again. A slot is split into tiles no
 * wider than the renderer's maximum texture width (2048 on a Raspberry Pi
 * 3's VC4): long headlines at big sizes exceed it.
 *
 * Alerts (struct render_alerts): a few lines, all kept while active, made
 * by their own worker as white text with alpha and tinted per severity
 * with a colour mod when copied; until a line is up, its colour band is
 * drawn. Rotation: one rotated copy per frame (rot_surf's changed rows in
 * software, rot_tex on a GPU; docs/screen.md has the figures against
 * pre-rotated tiles). The clock box's text is a TEXTWORKER_TEXT result,
 * asked for when the formatted text changes.
 */
#include "render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "background.h"
#include "alert.h"
#include "clock_format.h"
#include "config.h"
#include "log.h"
#include "overlay.h"
#include "render_probe.h"
#include "scroll.h"
#include "store.h"
#include "textworker.h"
#include "util.h"

#define RENDER_TILE_W 4096 /* when the renderer states no limit */
/* A frame uploads at most one tile of at most this many bytes: a long
 * headline (4,500 px at 40 px) is 860 KB, and creating and filling that
 * in one frame made it 14 times a plain frame's instructions. Tiles this
 * size keep every frame within twice the plain one (bench/README.md). */
#define RENDER_UPLOAD_BYTES (40 * 1024)
#define RENDER_MIN_TILE_W 64
#define RENDER_IDLE_ID 0x1d1e1d1e1d1e1d1eULL
/* Asked of the worker ahead of time: what enters in the next 2 s. A long
 * mixed-script headline costs ~13 M instructions, some 20 ms on a Pi Zero
 * 2 W core: 2 s leaves a margin of dozens of headlines. */
#define RENDER_AHEAD_S 2.0
/* Textures are made for what enters within half a second (at least 64
 * px): one upload per frame then always finishes in time. */
#define RENDER_UPLOAD_S 0.5
#define RENDER_MAX_WANT 96
#define RENDER_MAX_READY 96
/* One-shot modes wait for the worker this long at most (a first
 * fontconfig cache build on a slow SD card takes seconds). */
#define RENDER_SYNC_TIMEOUT_MS 60000
#define RENDER_MAX_ALERTS 16
#define RENDER_ROT_BLOCK 16

struct render_slot {
    uint64_t key;
    bool live;
    bool shown; /* drawn on screen at least once */
    int w, h;
    /* Software into a known surface, opaque: the worker's line itself,
     * copied row by row each frame; no texture, so nothing to upload. */
    SDL_Surface *direct;
    int tile_w;                        /* its tiles' width (the last may be narrower) */
    int n_tiles, n_up;                 /* tiles in all, uploaded so far (left to right) */
    SDL_Texture **tile;                /* n_tiles */
    struct textworker_result *pending; /* the line, until every tile is up */
    bool opaque;
    uint64_t used; /* last frame that needed it */
};

/* One active alert as the alert strip holds it: its whole line (white
 * text with alpha, tinted per severity when drawn) in tiles. Alerts are
 * few (RENDER_MAX_ALERTS), so all of them are kept while they are active. */
struct render_alert_item {
    uint64_t key;
    enum alert_severity sev;
    int32_t width; /* -1: not measured yet */
    int w, h, tile_w, n_tiles, n_up;
    SDL_Texture **tile;
    struct textworker_result *pending;
};

/* The alert strip (banner or takeover): its own text worker and look, so
 * the headlines' textures and place stay as they are while it shows. */
struct render_alerts {
    struct textworker *worker;
    uint32_t look_posted, look_gen;
    bool look_ready;
    int font_px, line_h, sep_w;
    SDL_Surface *sep_surf;
    SDL_Texture *sep_tex;
    const struct store_snapshot *snap; /* the list shown (a reference) */
    uint32_t serial;
    size_t n;
    struct render_alert_item it[RENDER_MAX_ALERTS];
    bool wanted;     /* the want list for this list and look is posted */
    bool look_stale; /* the look to post when alerts come */
    double t0;       /* when this list began to show */
    double head_off; /* the headlines' offset when the alerts took over */
    enum alert_mode mode;
    SDL_Color colors[ALERT_SEVERITY_COUNT][2];
};

struct render {
    SDL_Window *win; /* NULL when drawing into a surface */
    SDL_Renderer *ren;
    /* Software rendering straight into the window's surface, so a frame
     * sends only the strip to the screen (a fullscreen kiosk's strip is a
     * tenth of the window); NULL otherwise. */
    SDL_Surface *win_surf;
    SDL_Surface *target; /* render_open_surface's */
    bool full_update;    /* the whole strip must be drawn and sent */
    /* X11 paints the window around the strip black itself: the window
     * surface there is never drawn, sent, or even touched. */
    bool bg_by_window;
    /* Window surface, opaque background: the rows of the strip that text
     * has drawn into since the last full update. Only they change from
     * frame to frame, so only they are filled and sent (about half the
     * strip). banded: this frame does so. */
    int band_y0, band_y1;
    bool banded;
    bool failed; /* lost the renderer or has no font: display_run gives up */
    bool video_inited;
    char driver[32], renderer_name[32];
    int tile_w, tile_limit; /* widest texture the renderer takes; a test's limit */
    int up_tile_w;          /* tiles as uploaded: at most RENDER_UPLOAD_BYTES */
    bool whole_px;          /* the renderer truncates positions: floor them first */
    double refresh_hz;
    bool vsync;
    int size_w, size_h; /* --size override (window mode) */

    /* look, as last asked for */
    char *font_name;
    int font_px;
    char *separator, *idle_text;
    SDL_Color bg, fg, label;
    enum display_position position;
    enum scroll_direction direction;
    int height_cfg;
    double speed;
    bool snap_speed;
    enum display_mode mode;
    int screen;
    bool applied;

    /* the text worker */
    struct textworker *worker;
    bool sync;                      /* frames wait for the text they show (one-shots, tests) */
    bool warmup;                    /* nothing moves yet: upload whatever is ready */
    bool text_covers;               /* this frame's opaque text and separators cover the band */
    uint32_t look_posted, look_gen; /* look asked for, look in use */
    bool look_ready;
    char look_err[640];
    struct textworker_result *ready[RENDER_MAX_READY]; /* finished, not uploaded */
    uint64_t ready_seen[RENDER_MAX_READY];
    size_t n_ready;
    struct textworker_want want[RENDER_MAX_WANT];
    struct textworker_want posted[RENDER_MAX_WANT]; /* the last want list sent */
    size_t n_posted;
    uint64_t stamp;
    bool warned_sync;

    /* geometry */
    int w, h, strip_y, strip_h, text_y, line_h, origin;
    SDL_Surface *sep_surf; /* kept: textures can be lost */
    bool sep_opaque, sep_direct;
    SDL_Texture *sep_tex;
    int sep_w;

    /* what is shown */
    struct scroll_clock clock;
    struct scroll_layout layout;
    const struct store_snapshot *snap;
    bool idle;
    double last_hi; /* entry edge (tape) of the last frame drawn */
    bool drawn;
    bool complete; /* the last frame showed everything it should */

    struct render_slot *slots;
    size_t n_slots, cap_slots;
    size_t textures_alive, textures_max;
    uint64_t frame, uploads, results, created, destroyed, shown, not_ready_frames;

    render_copy_fn observe;
    void *observe_ctx;

    /* The background image (background.c; render_background_*). */
    struct background *bgi;
    char *bgi_path;
    enum background_fit bgi_fit;
    double bgi_slide;
    SDL_Texture *bgi_tex;             /* the slide on screen, or: */
    SDL_Surface *bgi_surf;            /* in software, drawn straight from it */
    int64_t bgi_shown;                /* its number */
    struct background_image bgi_next; /* decoded, not due yet (surface NULL: none) */
    int64_t bgi_asked;                /* last asked of the decoder, at size */
    int bgi_asked_w, bgi_asked_h;

    /* Feed logos (render_set_logos): a change is a new look. */
    struct logo_spec *logos;
    size_t n_logos;
    bool logos_changed;
    struct render_alerts al;
    bool present_whole; /* this frame drew the whole window (a takeover) */
    /* rotate: the frame (w x h) is drawn upright and copied turned onto
     * the panel (panel_w x panel_h): in software from rot_surf, on a GPU
     * from rot_tex. */
    int rotate; /* degrees clockwise: 0, 90, 180, 270 */
    int panel_w, panel_h;
    SDL_Surface *rot_surf;
    SDL_Texture *rot_tex;
    int rot_tw, rot_th;
    bool rot_all;      /* the next copy is the whole frame */
    SDL_Rect rot_sent; /* the panel's rectangle the last copy wrote */

    /* clock: a fixed box at one end of the strip; the tape runs in
     * [tx, tx + tw) beside it. Its text is made by the worker when it
     * changes (asked at most once a wall-clock second). */
    enum display_clock clock_pos;
    char *clock_fmt;
    char clock_text[CLOCK_FORMAT_MAX_TEXT + 1];
    int64_t clock_sec;              /* the wall second last formatted */
    uint64_t clock_key, clock_have; /* text asked for, text in hand */
    SDL_Surface *clock_surf;        /* drawn straight (software, opaque), or */
    SDL_Texture *clock_tex;
    int clock_tw, clock_th, clock_box;
    int64_t now_fixed; /* render_set_now: wall clock now_fixed at scroll time now_t */
    double now_t;
    int tx, tw;
    int clip_x0, clip_x1; /* columns copies may write (the tape's, or all) */
    bool clear_whole;     /* the next full update clears and sends the whole window */
};

static void render_make_separator(struct render *r);
static void render_textures_lost(struct render *r);
static void render_copy(struct render *r, SDL_Texture *t, SDL_Surface *surf, float x, float y,
                        float w, float h);
static void render_update_tape(struct render *r);

/* ---- textures ---- */

static void render_count_created(struct render *r)
{
    r->created++;
    if (++r->textures_alive > r->textures_max)
        r->textures_max = r->textures_alive;
}

static void render_destroy_texture(struct render *r, SDL_Texture **t)
{
    if (*t) {
        SDL_DestroyTexture(*t);
        *t = NULL;
        r->textures_alive--;
        r->destroyed++;
    }
}

static void render_slot_release(struct render *r, struct render_slot *s)
{
    for (int i = 0; i < s->n_up; i++)
        render_destroy_texture(r, &s->tile[i]);
    free(s->tile);
    s->tile = NULL;
    s->n_tiles = s->n_up = 0;
    textworker_result_free(s->pending);
    s->pending = NULL;
    SDL_FreeSurface(s->direct);
    s->direct = NULL;
    s->live = false;
}

static void render_flush_slots(struct render *r)
{
    for (size_t i = 0; i < r->n_slots; i++)
        if (r->slots[i].live)
            render_slot_release(r, &r->slots[i]);
    r->n_slots = 0;
}

static void render_ready_clear(struct render *r)
{
    for (size_t i = 0; i < r->n_ready; i++)
        textworker_result_free(r->ready[i]);
    r->n_ready = 0;
}

/* The surface the software renderer draws into (the window's, or the
 * caller's), or NULL for a GPU renderer. */
static SDL_Surface *render_target(const struct render *r)
{
    if (r->rot_surf)
        return r->rot_surf;
    return r->win_surf ? r->win_surf : r->target;
}

/* Opaque text is kept in the format of the surface drawn into (the
 * window's, often XRGB8888), so that copying it is a memcpy rather than a
 * conversion per pixel; ARGB8888 for a GPU. */
static Uint32 render_opaque_format(const struct render *r)
{
    const SDL_Surface *target = render_target(r);
    return target ? target->format->format : SDL_PIXELFORMAT_ARGB8888;
}

/* Can this line be drawn straight from its surface (no texture)? */
static bool render_can_direct(const struct render *r, const SDL_Surface *s, bool opaque)
{
    const SDL_Surface *target = render_target(r);
    return opaque && target && s->format->format == target->format->format && !SDL_MUSTLOCK(s);
}

/* Uploads surface columns [x, x + w) as one static texture. */
static SDL_Texture *render_upload(struct render *r, SDL_Surface *s, int x, int w, bool opaque)
{
    /* Opaque text drawn in software into a known surface is copied by
     * render_draw, which reads the texture's pixels (streaming access). */
    int access =
        opaque && render_target(r) ? SDL_TEXTUREACCESS_STREAMING : SDL_TEXTUREACCESS_STATIC;
    SDL_Texture *t = SDL_CreateTexture(r->ren, s->format->format, access, w, s->h);
    if (!t)
        return NULL;
    if (SDL_MUSTLOCK(s))
        SDL_LockSurface(s);
    SDL_UpdateTexture(t, NULL, (const Uint8 *)s->pixels + (size_t)x * s->format->BytesPerPixel,
                      s->pitch);
    if (SDL_MUSTLOCK(s))
        SDL_UnlockSurface(s);
    SDL_SetTextureBlendMode(t, opaque ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    render_count_created(r);
    return t;
}

/* Uploads the slot's next tile; frees the line once every tile is up. */
static void render_slot_upload_tile(struct render *r, struct render_slot *slot)
{
    SDL_Surface *s = slot->pending->surface;
    int x = slot->n_up * slot->tile_w;
    int w = s->w - x < slot->tile_w ? s->w - x : slot->tile_w;
    slot->tile[slot->n_up] = render_upload(r, s, x, w, slot->opaque);
    if (slot->tile[slot->n_up])
        slot->n_up++;
    else
        slot->n_tiles = slot->n_up; /* out of texture memory: shown cut */
    r->uploads++;
    if (slot->n_up == slot->n_tiles) {
        textworker_result_free(slot->pending);
        slot->pending = NULL;
    }
}

/* ---- keys ---- */

/* What an entry shows: the headline (its id covers feed, title and link)
 * and its label, which a reload may change under the same id. */
static uint64_t render_key(const struct headline *h)
{
    uint64_t k = h->id ^ 0x9e3779b97f4a7c15ULL;
    for (const unsigned char *p = (const unsigned char *)(h->label ? h->label : ""); *p; p++)
        k = (k ^ *p) * 0x100000001b3ULL;
    return k == RENDER_IDLE_ID ? k + 1 : k;
}

/* ---- slots and finished results ---- */

static struct render_slot *render_slot_by_key(struct render *r, uint64_t key)
{
    for (size_t i = 0; i < r->n_slots; i++)
        if (r->slots[i].live && r->slots[i].key == key)
            return &r->slots[i];
    return NULL;
}

static struct render_slot *render_slot_find(struct render *r, struct scroll_entry *e)
{
    if (e->user >= 0 && (size_t)e->user < r->n_slots) {
        struct render_slot *s = &r->slots[e->user];
        if (s->live && s->key == e->id)
            return s;
    }
    struct render_slot *s = render_slot_by_key(r, e->id);
    if (s)
        e->user = (int32_t)(s - r->slots);
    return s;
}

static struct render_slot *render_slot_new(struct render *r)
{
    for (size_t i = 0; i < r->n_slots; i++)
        if (!r->slots[i].live)
            return &r->slots[i];
    if (r->n_slots == r->cap_slots) {
        /* Grows only while the most headlines ever near the screen grows. */
        r->cap_slots = r->cap_slots ? r->cap_slots * 2 : 32;
        r->slots = kt_realloc(r->slots, r->cap_slots * sizeof *r->slots);
    }
    return &r->slots[r->n_slots++];
}

static long render_ready_index(const struct render *r, uint64_t key)
{
    for (size_t i = 0; i < r->n_ready; i++)
        if (r->ready[i]->key == key)
            return (long)i;
    return -1;
}

static void render_ready_remove(struct render *r, size_t i)
{
    r->ready[i] = r->ready[r->n_ready - 1];
    r->ready_seen[i] = r->ready_seen[r->n_ready - 1];
    r->n_ready--;
}

/* A finished result becomes the entry's slot; its tiles go up one per
 * upload, left to right, the first now. */
static void render_slot_from(struct render *r, struct scroll_entry *e, size_t ready_i)
{
    struct textworker_result *res = r->ready[ready_i];
    render_ready_remove(r, ready_i);
    struct render_slot *slot = render_slot_new(r);
    memset(slot, 0, sizeof *slot);
    slot->key = res->key;
    slot->live = true;
    slot->opaque = res->opaque;
    e->user = (int32_t)(slot - r->slots);
    if (!res->surface) {
        textworker_result_free(res);
        return; /* nothing to draw */
    }
    slot->w = res->surface->w;
    slot->h = res->surface->h;
    r->uploads++;
    if (render_can_direct(r, res->surface, res->opaque)) {
        slot->direct = res->surface;
        res->surface = NULL;
        textworker_result_free(res);
        return;
    }
    r->uploads--; /* counted per tile below */
    slot->tile_w = r->up_tile_w;
    slot->n_tiles = (slot->w + slot->tile_w - 1) / slot->tile_w;
    slot->tile = kt_calloc((size_t)slot->n_tiles, sizeof *slot->tile);
    slot->pending = res;
    render_slot_upload_tile(r, slot);
}

/* Uploads at most max tiles (1 per frame in the kiosk: an upload is a
 * frame's biggest extra cost): the next tile of what is placed and
 * finished, nearest the exit edge first. */
static void render_upload_next(struct render *r, size_t max)
{
    size_t done = 0;
    struct scroll_layout *l = &r->layout;
    for (size_t i = 0; i < l->n && done < max; i++) {
        struct scroll_entry *e = &l->e[i];
        struct render_slot *slot = render_slot_find(r, e);
        if (slot) {
            while (slot->pending && done < max) {
                render_slot_upload_tile(r, slot);
                done++;
            }
            continue;
        }
        long k = render_ready_index(r, e->id);
        if (k >= 0) {
            render_slot_from(r, e, (size_t)k);
            done++;
            struct render_slot *fresh = render_slot_find(r, e);
            while (fresh && fresh->pending && done < max) {
                render_slot_upload_tile(r, fresh);
                done++;
            }
        }
    }
}

/* ---- the clock box ---- */

static void render_clock_drop(struct render *r)
{
    render_destroy_texture(r, &r->clock_tex);
    SDL_FreeSurface(r->clock_surf);
    r->clock_surf = NULL;
    r->clock_have = 0;
}

/* The tape's columns: all of the strip but the clock's box. */
static void render_update_tape(struct render *r)
{
    int box = r->clock_pos != CLOCK_OFF ? r->clock_box : 0;
    box = box < r->w ? box : 0;
    r->tx = r->clock_pos == CLOCK_LEFT ? box : 0;
    r->tw = r->w - box;
    r->clip_x0 = 0;
    r->clip_x1 = r->w;
}

/* Asks the worker for the clock's text when it changed: formatted at
 * most once a wall-clock second (time() is read from the vDSO). */
static void render_clock_tick(struct render *r, double t)
{
    if (r->clock_pos == CLOCK_OFF || !r->clock_fmt)
        return;
    int64_t sec = r->now_fixed ? r->now_fixed + (int64_t)floor(t - r->now_t) : (int64_t)time(NULL);
    if (sec == r->clock_sec)
        return;
    r->clock_sec = sec;
    char text[CLOCK_FORMAT_MAX_TEXT + 1];
    clock_format_apply(r->clock_fmt, (time_t)sec, text, sizeof text);
    if (r->clock_key && strcmp(text, r->clock_text) == 0)
        return;
    snprintf(r->clock_text, sizeof r->clock_text, "%s", text);
    textworker_set_text(r->worker, ++r->clock_key, text);
}

/* The worker's clock text: kept as the box's content. The box only
 * grows (digits of most fonts are one width; a longer month name widens
 * it once), so the tape beside it does not move every minute. */
static void render_take_clock(struct render *r, struct textworker_result *res)
{
    if (res->look != r->look_gen || res->key != r->clock_key) {
        textworker_result_free(res);
        return;
    }
    render_clock_drop(r);
    r->clock_have = res->key;
    r->clock_tw = res->width;
    r->clock_th = res->surface ? res->surface->h : 0;
    if (res->surface && render_can_direct(r, res->surface, res->opaque)) {
        r->clock_surf = res->surface;
        res->surface = NULL;
    } else if (res->surface) {
        int w = res->surface->w < r->tile_w ? res->surface->w : r->tile_w;
        r->clock_tex = render_upload(r, res->surface, 0, w, res->opaque);
        r->clock_tw = w;
    }
    r->uploads++;
    int box = r->clock_tw + r->line_h;
    if (box > r->clock_box) {
        r->clock_box = box;
        render_update_tape(r);
    }
    /* the box is drawn whole: a shorter text leaves no trace */
    r->full_update = true;
    r->rot_all = true;
    textworker_result_free(res);
}

/* Draws the box's text (the strip's fill is its background). */
static void render_clock_draw(struct render *r)
{
    if (r->clock_pos == CLOCK_OFF || !r->clock_have || r->clock_box >= r->w)
        return;
    int x0 = r->clock_pos == CLOCK_LEFT ? 0 : r->w - r->clock_box;
    float x = (float)(x0 + (r->clock_box - r->clock_tw) / 2);
    if (r->clock_surf || r->clock_tex)
        render_copy(r, r->clock_tex, r->clock_surf, x, (float)r->text_y, (float)r->clock_tw,
                    (float)r->clock_th);
}

void render_set_now(struct render *r, int64_t now, double t)
{
    r->now_fixed = now;
    r->now_t = t;
    r->clock_sec = INT64_MIN;
}

/* ---- the worker's answers ---- */

double render_offset(const struct render *r, double t)
{
    double off = scroll_clock_offset(&r->clock, t);
    /* Snapped speed moves whole pixels per refresh: whole-pixel positions
     * then give perfectly even steps (crisper text). */
    return r->snap_speed && r->refresh_hz > 0 ? round(off) : off;
}

static void render_update_geometry(struct render *r);

static void render_update_tile_w(struct render *r)
{
    int bytes_per_col = (r->line_h > 0 ? r->line_h : 1) * 4;
    int w = RENDER_UPLOAD_BYTES / bytes_per_col;
    w = w < RENDER_MIN_TILE_W ? RENDER_MIN_TILE_W : w;
    r->up_tile_w = w < r->tile_w ? w : r->tile_w;
}

/* ---- mode = overlay (overlay.c) ---- */

/* The overlay window as high as the strip, once the font says how high. */
static void render_overlay_fit(struct render *r)
{
    if (!r->win || r->mode != MODE_OVERLAY || !r->line_h)
        return;
    int h = r->height_cfg > 0 ? r->height_cfg : r->line_h + r->line_h / 2;
    overlay_place(r->win, r->position == POS_TOP, r->screen, h);
}

/* A new look for an overlay: placed again (position, height, screen).
 * Its window's kind is fixed when it is made: to or from overlay needs a
 * restart. True when render_apply_window has nothing more to do. */
static bool render_overlay_apply(struct render *r, const struct cfg_display *d, int screen)
{
    if (!r->win || (d->mode != MODE_OVERLAY && r->mode != MODE_OVERLAY))
        return false;
    if (d->mode != r->mode) {
        kt_log_warn("display: mode = %s takes effect at the next start (the window is %s)",
                    d->mode == MODE_OVERLAY ? "overlay" : "fullscreen or window",
                    r->mode == MODE_OVERLAY ? "an overlay" : "not an overlay");
        return true;
    }
    r->screen = screen;
    r->position = d->position;
    r->height_cfg = d->height;
    render_overlay_fit(r);
    return true;
}

static void render_adopt_look(struct render *r, struct textworker_result *res, double t)
{
    if (res->look != r->look_posted) {
        textworker_result_free(res); /* replaced by a newer one already */
        return;
    }
    snprintf(r->look_err, sizeof r->look_err, "%s", res->err);
    if (res->no_font) {
        kt_log_error("display: %s", res->err);
        r->failed = !r->look_ready;
        r->look_gen = res->look;
        textworker_result_free(res);
        return;
    }
    if (res->err[0]) {
        if (r->look_ready)
            kt_log_error("display: %s", res->err);
        else
            kt_log_warn("display: %s", res->err);
    }
    bool first = !r->look_ready;
    double off = first ? 0 : render_offset(r, t);
    render_flush_slots(r);
    render_ready_clear(r);
    SDL_FreeSurface(r->sep_surf);
    r->sep_surf = res->surface;
    r->sep_opaque = res->opaque;
    res->surface = NULL;
    r->sep_w = res->sep_w;
    r->line_h = res->line_h;
    render_update_tile_w(r);
    r->look_gen = res->look;
    r->look_ready = true;
    r->n_posted = 0;
    /* the clock's text again, in the new look */
    render_clock_drop(r);
    r->clock_box = 0;
    r->clock_sec = INT64_MIN;
    r->clock_key++;
    r->clock_text[0] = '\0';
    render_make_separator(r);
    render_update_geometry(r);
    render_overlay_fit(r); /* images branch */
    if (first) {
        /* The tape starts half a line in from the edge the text leaves by. */
        r->origin = r->line_h / 2;
        scroll_layout_reset(&r->layout, r->origin, r->sep_w);
    } else {
        /* New widths: the first headline on screen keeps its place. */
        scroll_layout_reflow(&r->layout, off, r->sep_w);
    }
    kt_log_info("display: font %s at %d px (line height %d)", res->font_path, r->font_px,
                r->line_h);
    textworker_result_free(res);
}

/* A result taken satisfies its want: asking for that key again later (it
 * left and comes round again) is news for the worker. */
static void render_forget_posted(struct render *r, uint64_t key)
{
    for (size_t i = 0; i < r->n_posted; i++)
        if (r->posted[i].key == key) {
            r->posted[i] = r->posted[--r->n_posted];
            return;
        }
}

static void render_take_item(struct render *r, struct textworker_result *res)
{
    render_forget_posted(r, res->key);
    if (res->look != r->look_gen || !r->look_ready) {
        textworker_result_free(res);
        return;
    }
    r->results++;
    size_t idx = scroll_layout_find(&r->layout, res->key);
    if (idx != SCROLL_NONE)
        scroll_layout_set_width(&r->layout, idx, res->width);
    if (res->measured_only || render_slot_by_key(r, res->key) ||
        render_ready_index(r, res->key) >= 0 || r->n_ready == RENDER_MAX_READY) {
        textworker_result_free(res);
        return;
    }
    r->ready_seen[r->n_ready] = r->stamp;
    r->ready[r->n_ready++] = res;
}

static void render_collect(struct render *r, double t)
{
    if (!textworker_has_results(r->worker))
        return;
    struct textworker_result *res = textworker_take(r->worker);
    while (res) {
        struct textworker_result *next = res->next;
        res->next = NULL;
        if (res->kind == TEXTWORKER_LOOK)
            render_adopt_look(r, res, t);
        else if (res->kind == TEXTWORKER_TEXT)
            render_take_clock(r, res);
        else
            render_take_item(r, res);
        res = next;
    }
}

/* ---- what the worker should make next ---- */

static void render_want_add(struct render *r, size_t *n, uint32_t list, size_t index, uint64_t key,
                            bool measure_only)
{
    for (size_t i = 0; i < *n; i++)
        if (r->want[i].key == key)
            return;
    if (*n < RENDER_MAX_WANT)
        r->want[(*n)++] = (struct textworker_want){list, (uint32_t)index, key, measure_only};
}

/* Marks a finished result as still wanted; true if there is one. */
static bool render_ready_keep(struct render *r, uint64_t key)
{
    long k = render_ready_index(r, key);
    if (k < 0)
        return false;
    r->ready_seen[k] = r->stamp;
    return true;
}

/* The entries placed that have no textures yet, then the headlines due
 * within RENDER_AHEAD_S, in the order they come; posted when something
 * in it was not asked for last time. Finished results no longer due are
 * dropped (a speed change, a new list). */
static void render_request(struct render *r, double hi)
{
    struct scroll_layout *l = &r->layout;
    size_t n = 0;
    r->stamp++;
    for (size_t i = 0; i < l->n; i++) {
        struct scroll_entry *e = &l->e[i];
        if (render_slot_find(r, e) || render_ready_keep(r, e->id))
            continue;
        size_t index = e->list == l->serial ? e->index : scroll_layout_find(l, e->id);
        uint32_t list = e->list;
        if (index != SCROLL_NONE && e->list != l->serial)
            list = l->serial; /* kept from an older list, still in this one */
        else if (index == SCROLL_NONE)
            index = e->index; /* the older list's (the worker keeps it a while) */
        render_want_add(r, &n, list, index, e->id, false);
    }
    if (l->n_list > 0) {
        double lo = hi - r->tw, horizon = hi + fabs(r->clock.speed) * RENDER_AHEAD_S;
        /* A width not known yet counts as half a screen: fewer asked at
         * once, never a memory spike from counting unknowns as nothing. */
        int32_t guess = r->tw / 2 > 256 ? r->tw / 2 : 256;
        int64_t x = l->tail;
        size_t idx = l->next;
        for (size_t k = 0; k < l->n_list && (double)x < horizon && n < RENDER_MAX_WANT; k++) {
            uint64_t key = l->ids[idx];
            int32_t w = l->widths[idx];
            /* Behind the screen (a jump far ahead is stepping over it):
             * only its width is needed, to know where the tape is. */
            bool passed = (double)(x + (w >= 0 ? w : guess) + l->gap) <= lo;
            if (passed ? w < 0 : !render_slot_by_key(r, key) && !render_ready_keep(r, key))
                render_want_add(r, &n, l->serial, idx, key, passed);
            x += (w >= 0 ? w : guess) + l->gap;
            idx = (idx + 1) % l->n_list;
        }
    }
    for (size_t i = 0; i < r->n_ready;) {
        if (r->ready_seen[i] != r->stamp) {
            textworker_result_free(r->ready[i]);
            render_ready_remove(r, i);
        } else {
            i++;
        }
    }
    bool news = false;
    for (size_t i = 0; i < n && !news; i++) {
        bool asked = false;
        for (size_t j = 0; j < r->n_posted && !asked; j++)
            asked = r->posted[j].key == r->want[i].key &&
                    (r->want[i].measure_only || !r->posted[j].measure_only);
        news = !asked;
    }
    if (!news)
        return;
    textworker_want(r->worker, r->look_gen, r->want, n);
    memcpy(r->posted, r->want, n * sizeof *r->want);
    r->n_posted = n;
}

/* ---- the background image (background.c) ---- */

/* Starts (or restarts) the decoder when background_image, its fit or the
 * slide duration changed. */
static void render_background_apply(struct render *r, const struct cfg_display *d)
{
    double slide = (double)d->slide_duration;
    if (kt_str_eq(d->background_image, r->bgi_path) && d->background_fit == r->bgi_fit &&
        slide == r->bgi_slide)
        return;
    background_stop(r->bgi, r->sync);
    r->bgi = NULL;
    if (r->bgi_tex)
        SDL_DestroyTexture(r->bgi_tex);
    r->bgi_tex = NULL;
    SDL_FreeSurface(r->bgi_surf);
    r->bgi_surf = NULL;
    SDL_FreeSurface(r->bgi_next.surface);
    r->bgi_next.surface = NULL;
    r->bgi_asked_w = r->bgi_asked_h = 0;
    free(r->bgi_path);
    r->bgi_path = d->background_image ? kt_strdup(d->background_image) : NULL;
    r->bgi_fit = d->background_fit;
    r->bgi_slide = slide;
    r->full_update = true;
    if (!r->bgi_path)
        return;
    char err[KT_ERR_MAX];
    r->bgi =
        background_start(r->bgi_path, r->bgi_fit, slide, render_opaque_format(r), err, sizeof err);
    if (!r->bgi)
        kt_log_error("display: background_image: %s", err);
    /* The window's own black around the strip would hide the image. */
    r->bg_by_window = false;
}

/* The output around the strip: the image's area (w 0 when none). */
static SDL_Rect render_background_area(const struct render *r)
{
    if (r->strip_h >= r->h)
        return (SDL_Rect){0, 0, 0, 0};
    return (SDL_Rect){0, r->strip_y == 0 ? r->strip_h : 0, r->w, r->h - r->strip_h};
}

/* Before the strip: asks for the slide due (ahead of time in the kiosk),
 * takes what the decoder finished and uploads the due slide: one upload
 * per frame at most, none in a steady frame (two compares). */
static void render_background_update(struct render *r, double t)
{
    SDL_Rect a = render_background_area(r);
    if (!r->bgi || a.w <= 0 || a.h <= 0)
        return;
    int64_t now_k = background_slide(r->bgi, t);
    int64_t want_k = r->sync ? now_k : background_slide(r->bgi, t + background_lead(r->bgi_slide));
    if (want_k != r->bgi_asked || a.w != r->bgi_asked_w || a.h != r->bgi_asked_h) {
        bool shown = (r->bgi_tex || r->bgi_surf) && r->bgi_shown == want_k &&
                     a.w == r->bgi_asked_w && a.h == r->bgi_asked_h;
        if (!shown)
            background_want(r->bgi, want_k, a.w, a.h);
        r->bgi_asked = want_k;
        r->bgi_asked_w = a.w;
        r->bgi_asked_h = a.h;
        if (r->sync && !shown && background_wait(r->bgi, RENDER_SYNC_TIMEOUT_MS) < 0)
            kt_log_warn("display: background_image: not decoded after %d s",
                        RENDER_SYNC_TIMEOUT_MS / 1000);
    }
    struct background_image img;
    if (background_ready(r->bgi) && background_take(r->bgi, &img)) {
        if (img.surface) {
            SDL_FreeSurface(r->bgi_next.surface);
            r->bgi_next = img;
        }
        /* else: nothing readable for that slide: what is shown stays */
    }
    SDL_Surface *s = r->bgi_next.surface;
    if (!s || ((r->bgi_tex || r->bgi_surf) && r->bgi_next.slide > now_k))
        return; /* nothing new, or not due yet */
    SDL_Surface *target = render_target(r);
    if (target && s->format->format == target->format->format && !SDL_MUSTLOCK(s)) {
        /* Software into a known surface: no texture at all (creating one
         * copied 8 MB and cost up to 70 ms of the render thread). */
        if (r->bgi_tex)
            SDL_DestroyTexture(r->bgi_tex);
        r->bgi_tex = NULL;
        SDL_FreeSurface(r->bgi_surf);
        r->bgi_surf = s;
        r->bgi_shown = r->bgi_next.slide;
        r->bgi_next.surface = NULL;
        r->full_update = true;
        kt_log_debug("display: background %s (%dx%d)", r->bgi_next.name, s->w, s->h);
        return;
    }
    Uint64 t0 = SDL_GetPerformanceCounter();
    SDL_Texture *tex =
        SDL_CreateTexture(r->ren, s->format->format, SDL_TEXTUREACCESS_STATIC, s->w, s->h);
    if (!tex) {
        kt_log_warn("display: background_image: cannot upload %s: %s", r->bgi_next.name,
                    SDL_GetError());
    } else {
        SDL_UpdateTexture(tex, NULL, s->pixels, s->pitch);
        SDL_SetTextureBlendMode(tex, SDL_BLENDMODE_NONE);
        if (r->bgi_tex)
            SDL_DestroyTexture(r->bgi_tex);
        r->bgi_tex = tex;
        SDL_FreeSurface(r->bgi_surf);
        r->bgi_surf = NULL;
        r->bgi_shown = r->bgi_next.slide;
        kt_log_debug("display: background %s (%dx%d, uploaded in %.1f ms)", r->bgi_next.name, s->w,
                     s->h,
                     (double)(SDL_GetPerformanceCounter() - t0) * 1e3 /
                         (double)SDL_GetPerformanceFrequency());
    }
    SDL_FreeSurface(s);
    r->bgi_next.surface = NULL;
    r->full_update = true; /* drawn, and sent, once */
}

/* After the strip: one copy, where the output is redrawn this frame (a
 * window surface only on a full update: the rest of the time only the
 * strip changes). */
static void render_background_draw(struct render *r)
{
    SDL_Rect a = render_background_area(r);
    if ((!r->bgi_tex && !r->bgi_surf) || a.w <= 0 || a.h <= 0 || (r->win_surf && !r->full_update))
        return;
    SDL_Surface *target = render_target(r);
    SDL_Surface *s = r->bgi_surf;
    if (s && target && s->format->format == target->format->format) {
        /* Row by row: the surface was made at the area's size. */
        int w = s->w < a.w ? s->w : a.w, h = s->h < a.h ? s->h : a.h;
        w = a.x + w > target->w ? target->w - a.x : w;
        h = a.y + h > target->h ? target->h - a.y : h;
        if (SDL_MUSTLOCK(target))
            SDL_LockSurface(target);
        for (int y = 0; y < h; y++)
            memcpy((Uint8 *)target->pixels + (size_t)(a.y + y) * (size_t)target->pitch +
                       (size_t)a.x * 4,
                   (const Uint8 *)s->pixels + (size_t)y * (size_t)s->pitch, (size_t)w * 4);
        if (SDL_MUSTLOCK(target))
            SDL_UnlockSurface(target);
        return;
    }
    if (r->bgi_tex)
        SDL_RenderCopy(r->ren, r->bgi_tex, NULL, &a);
    if (target)
        SDL_RenderFlush(r->ren);
}

/* Textures lost (a device reset): the slide is asked for again. */
static void render_background_lost(struct render *r)
{
    if (r->bgi_tex)
        SDL_DestroyTexture(r->bgi_tex);
    r->bgi_tex = NULL;
    r->bgi_asked_w = r->bgi_asked_h = 0;
}

static void render_free_logos(struct render *r)
{
    for (size_t i = 0; i < r->n_logos; i++) {
        free((char *)r->logos[i].feed);
        free((char *)r->logos[i].path);
    }
    free(r->logos);
    r->logos = NULL;
    r->n_logos = 0;
}

void render_set_logos(struct render *r, const struct cfg_feed *feeds, size_t n)
{
    size_t k = 0;
    bool same = true;
    for (size_t i = 0; i < n; i++)
        if (feeds[i].logo) {
            same = same && k < r->n_logos && strcmp(r->logos[k].feed, feeds[i].name) == 0 &&
                   strcmp(r->logos[k].path, feeds[i].logo) == 0;
            k++;
        }
    if (same && k == r->n_logos)
        return;
    render_free_logos(r);
    r->logos = k ? kt_calloc(k, sizeof *r->logos) : NULL;
    for (size_t i = 0; i < n; i++)
        if (feeds[i].logo)
            r->logos[r->n_logos++] =
                (struct logo_spec){kt_strdup(feeds[i].name), kt_strdup(feeds[i].logo)};
    r->logos_changed = true; /* posted with the next render_apply */
}

static void render_background_close(struct render *r)
{
    background_stop(r->bgi, r->sync);
    if (r->bgi_tex)
        SDL_DestroyTexture(r->bgi_tex);
    SDL_FreeSurface(r->bgi_surf);
    SDL_FreeSurface(r->bgi_next.surface);
    free(r->bgi_path);
    render_free_logos(r);
}

/* ---- drawing ---- */

/* Copies h rows of w pixels from pixels (pitch bytes a row) to dst,
 * clipped to the strip and the target. */
static void render_copy_rows(struct render *r, const void *pixels, int pitch, int tw, int th,
                             const SDL_FRect *dst)
{
    SDL_Surface *target = render_target(r);
    int x = (int)floorf(dst->x), y = (int)floorf(dst->y), sx = 0, sy = 0, w = tw, h = th;
    int y_end = r->strip_y + r->strip_h < target->h ? r->strip_y + r->strip_h : target->h;
    int x_end = r->clip_x1 < target->w ? r->clip_x1 : target->w;
    if (x < r->clip_x0) {
        sx = r->clip_x0 - x;
        w -= sx;
        x = r->clip_x0;
    }
    if (x + w > x_end)
        w = x_end - x;
    if (y < r->strip_y) {
        sy = r->strip_y - y;
        h -= sy;
        y = r->strip_y;
    }
    if (y + h > y_end)
        h = y_end - y;
    if (w <= 0 || h <= 0)
        return;
    if (SDL_MUSTLOCK(target))
        SDL_LockSurface(target);
    size_t bpp = target->format->BytesPerPixel;
    const Uint8 *from = (const Uint8 *)pixels + (size_t)sy * (size_t)pitch + (size_t)sx * bpp;
    Uint8 *to = (Uint8 *)target->pixels + (size_t)y * (size_t)target->pitch + (size_t)x * bpp;
    for (int row = 0; row < h; row++)
        memcpy(to + (size_t)row * (size_t)target->pitch, from + (size_t)row * (size_t)pitch,
               (size_t)w * bpp);
    if (SDL_MUSTLOCK(target))
        SDL_UnlockSurface(target);
}

/* Draws a piece. A line drawn straight from its surface, or an opaque
 * texture drawn in software into a known surface, is copied row by row
 * with memcpy, clipped to the strip: SDL's own copy picks its loop by
 * alignment, and on x86 the 8-byte loop it mostly took was a quarter of
 * the kiosk's CPU (bench/README.md). */
void render_blit(struct render *r, const struct render_piece *p)
{
    if (p->surf) {
        render_copy_rows(r, p->surf->pixels, p->surf->pitch, p->surf->w, p->surf->h, &p->dst);
        return;
    }
    SDL_Surface *target = render_target(r);
    SDL_BlendMode mode;
    Uint32 format;
    int access, tw, th;
    void *pixels;
    int pitch;
    if (!target || SDL_GetTextureBlendMode(p->tex, &mode) < 0 || mode != SDL_BLENDMODE_NONE ||
        SDL_QueryTexture(p->tex, &format, &access, &tw, &th) < 0 ||
        access != SDL_TEXTUREACCESS_STREAMING || format != target->format->format ||
        (float)tw != p->dst.w || (float)th != p->dst.h) {
        SDL_RenderCopyF(r->ren, p->tex, NULL, &p->dst);
        return;
    }
    if (SDL_LockTexture(p->tex, NULL, &pixels, &pitch) < 0)
        return;
    render_copy_rows(r, pixels, pitch, tw, th, &p->dst);
    SDL_UnlockTexture(p->tex);
}

static void render_copy(struct render *r, SDL_Texture *t, SDL_Surface *surf, float x, float y,
                        float w, float h)
{
    /* SDL's software renderer truncates toward zero, which would move a
     * texture crossing the left edge by a pixel against its neighbours. */
    if (r->whole_px || surf)
        x = floorf(x);
    struct render_piece p = {t, surf, {x, y, w, h}};
    if (x >= (float)r->w || x + w <= 0)
        return;
    render_blit(r, &p);
    if (r->win_surf) {
        int y0 = (int)floorf(y), y1 = (int)ceilf(y + h);
        y0 = y0 > r->strip_y ? y0 : r->strip_y;
        y1 = y1 < r->strip_y + r->strip_h ? y1 : r->strip_y + r->strip_h;
        if (r->band_y1 <= r->band_y0) {
            r->band_y0 = y0;
            r->band_y1 = y1;
        } else {
            r->band_y0 = y0 < r->band_y0 ? y0 : r->band_y0;
            r->band_y1 = y1 > r->band_y1 ? y1 : r->band_y1;
        }
    }
    if (r->observe)
        r->observe(r->observe_ctx, &p);
}

/* An opaque fill of rows [y0, y1) of the software target: the first row
 * pixel by pixel, the others copied from it. SDL's own fill has SSE on
 * x86 but a plain loop on ARM, where it was two thirds of a frame's
 * instructions; glibc's memcpy is vectorised everywhere. */
static void render_fill_rows(struct render *r, SDL_Surface *target, int y0, int y1, Uint32 pixel)
{
    y0 = y0 < 0 ? 0 : y0;
    y1 = y1 > target->h ? target->h : y1;
    if (y1 <= y0 || target->format->BytesPerPixel != 4)
        return;
    if (SDL_MUSTLOCK(target))
        SDL_LockSurface(target);
    Uint8 *row0 = (Uint8 *)target->pixels + (size_t)y0 * (size_t)target->pitch;
    Uint32 *p = (Uint32 *)row0;
    for (int x = 0; x < r->w && x < target->w; x++)
        p[x] = pixel;
    size_t bytes = (size_t)(r->w < target->w ? r->w : target->w) * 4;
    for (int y = y0 + 1; y < y1; y++)
        memcpy((Uint8 *)target->pixels + (size_t)y * (size_t)target->pitch, row0, bytes);
    if (SDL_MUSTLOCK(target))
        SDL_UnlockSurface(target);
}

/* Where SDL's fill is SSE (x86), it stays: fewer instructions there. */
#if defined(__x86_64__) || defined(__i386__)
#define RENDER_SDL_FILL_IS_SIMD 1
#else
#define RENDER_SDL_FILL_IS_SIMD 0
#endif

void render_fill_strip(struct render *r)
{
    SDL_Rect strip = {0, r->strip_y, r->w, r->strip_h};
    r->banded = r->win_surf && !r->full_update && r->bg.a == 255 && r->band_y1 > r->band_y0;
    if (!r->banded)
        r->band_y0 = r->band_y1 = 0; /* drawn whole: the copies make it again */
    SDL_SetRenderDrawBlendMode(r->ren, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(r->ren, 0, 0, 0, 255);
    /* Into the window surface, the black around the strip stays drawn
     * (or is the X server's to paint); a strip as high as the output
     * leaves nothing around it to clear. */
    bool whole = !r->win_surf || (r->full_update && (!r->bg_by_window || r->clear_whole));
    /* (A GPU's back buffer holds an older frame: what a translucent strip
     * is blended over must be cleared even when nothing is around it.) */
    if (whole && (r->strip_h < r->h || r->bg.a != 255))
        SDL_RenderClear(r->ren);
    if (r->bg.a == 255 && r->banded && r->text_covers) {
        /* nothing to fill: the copies cover the band */
    } else if (r->bg.a == 255) {
        /* An opaque background is one plain fill. Blending it over black
         * gives the same pixels, but SDL's software blended fill was 87 %
         * of a frame's instructions (bench/README.md). */
        SDL_Rect band = {0, r->band_y0, r->w, r->band_y1 - r->band_y0};
        const SDL_Rect *fill = r->banded ? &band : &strip;
        SDL_Surface *target = render_target(r);
        if (target && target->format->BytesPerPixel == 4 && !RENDER_SDL_FILL_IS_SIMD) {
            SDL_RenderFlush(r->ren); /* the clear first */
            render_fill_rows(r, target, fill->y, fill->y + fill->h,
                             SDL_MapRGBA(target->format, r->bg.r, r->bg.g, r->bg.b, 255));
        } else {
            SDL_SetRenderDrawColor(r->ren, r->bg.r, r->bg.g, r->bg.b, 255);
            SDL_RenderFillRect(r->ren, fill);
        }
    } else {
        /* A translucent background blends over the black around it. */
        if (r->win_surf && (!r->full_update || r->bg_by_window))
            SDL_RenderFillRect(r->ren, &strip);
        SDL_SetRenderDrawBlendMode(r->ren, SDL_BLENDMODE_BLEND);
        SDL_SetRenderDrawColor(r->ren, r->bg.r, r->bg.g, r->bg.b, r->bg.a);
        SDL_RenderFillRect(r->ren, &strip);
    }
    /* Text never spills out of the strip, even in a strip lower than it,
     * nor into the clock's box. */
    SDL_Rect tape = {r->tx, r->strip_y, r->tw, r->strip_h};
    SDL_RenderSetClipRect(r->ren, &tape);
    r->clip_x0 = r->tx;
    r->clip_x1 = r->tx + r->tw;
    /* Now: render_blit writes into the surface directly, after the fill. */
    if (render_target(r))
        SDL_RenderFlush(r->ren);
}

void render_end_strip(struct render *r)
{
    r->clip_x0 = 0;
    r->clip_x1 = r->w;
    SDL_Rect strip = {0, r->strip_y, r->w, r->strip_h};
    SDL_RenderSetClipRect(r->ren, &strip);
    render_clock_draw(r);
    SDL_RenderSetClipRect(r->ren, NULL);
}

/* Before the first font is open there is nothing to draw: black. */
static void render_blank(struct render *r)
{
    if (r->win_surf && r->bg_by_window)
        return; /* the X server shows the window's black background */
    SDL_SetRenderDrawColor(r->ren, 0, 0, 0, 255);
    SDL_RenderClear(r->ren);
    if (r->win_surf)
        r->full_update = true;
}

/* Screen x of tape coordinate u's column for something w px wide. */
static double render_screen_x(const struct render *r, double u, double off, double w)
{
    if (r->direction == DIR_RIGHT)
        return (double)(r->tx + r->tw) - (u - off) - w;
    return (double)r->tx + u - off;
}

static double render_upload_ahead(const struct render *r)
{
    double ahead = fabs(r->clock.speed) * RENDER_UPLOAD_S;
    return ahead > 64 ? ahead : 64;
}

static void render_place(struct render *r, double t, size_t uploads)
{
    double lo = render_offset(r, t), hi = lo + r->tw;
    scroll_layout_advance(&r->layout, lo, hi, hi + render_upload_ahead(r));
    render_upload_next(r, uploads);
}

/* Everything placed has its textures, and nothing is missing up to the
 * look-ahead: what a one-shot frame waits for. */
static bool render_placed_done(struct render *r)
{
    if (r->layout.blocked)
        return false;
    if (r->clock_pos != CLOCK_OFF && r->clock_have != r->clock_key)
        return false;
    for (size_t i = 0; i < r->layout.n; i++)
        if (!render_slot_find(r, &r->layout.e[i]))
            return false;
    return true;
}

/* Sync mode: waits (bounded) for the worker to finish what the frame at t
 * shows. Never in the kiosk loop. */
static void render_settle(struct render *r, double t)
{
    Uint64 until = SDL_GetTicks64() + RENDER_SYNC_TIMEOUT_MS;
    for (;;) {
        render_collect(r, t);
        if (r->failed)
            return;
        bool look_done = r->look_gen == r->look_posted;
        if (r->look_ready && look_done) {
            render_place(r, t, SIZE_MAX);
            render_request(r, render_offset(r, t) + r->tw);
            if (render_placed_done(r))
                return;
        }
        Uint64 now = SDL_GetTicks64();
        int rc = now < until ? textworker_wait(r->worker, (int)(until - now)) : -1;
        if (rc == 0 && !textworker_has_results(r->worker) && look_done)
            return; /* the worker cannot make what is missing */
        if (rc < 0) {
            if (!r->warned_sync)
                kt_log_warn("display: the text is not ready after %d s: drawing without it",
                            RENDER_SYNC_TIMEOUT_MS / 1000);
            r->warned_sync = true;
            return;
        }
    }
}

/* Do opaque lines and separators, drawn whole, cover every column of
 * the screen? Then filling the text band first is wasted: every pixel of
 * it is copied over (the tape is contiguous: entries end to end, each
 * followed by its separator). Gaps (text not ready, the tape's start, an
 * idle strip) and anything blended need the fill. */
static bool render_text_covers(struct render *r, double lo, double hi)
{
    if (!render_target(r) || r->bg.a != 255 ||
        !(r->sep_direct || !r->separator || !r->separator[0]))
        return false;
    struct scroll_layout *l = &r->layout;
    double x = lo;
    for (size_t i = 0; i < l->n && x < hi; i++) {
        struct scroll_entry *e = &l->e[i];
        double end = (double)(e->start + e->width + l->gap);
        if (end <= x)
            continue;
        if ((double)e->start > x)
            return false; /* a gap */
        struct render_slot *slot = render_slot_find(r, e);
        if (!slot || !slot->direct || slot->w != e->width || slot->h != r->line_h)
            return false;
        x = end;
    }
    return x >= hi;
}

/* ---- alerts: the banner and the takeover ---- */

/* What an alert shows: a new text, label or severity is a new line. */
static uint64_t render_alert_key(const struct alert *a)
{
    uint64_t k = 0xcbf29ce484222325ULL ^ (uint64_t)a->severity;
    const char *parts[] = {a->source, a->id, a->label, a->text};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        for (const unsigned char *p = (const unsigned char *)(parts[i] ? parts[i] : ""); *p; p++)
            k = (k ^ *p) * 0x100000001b3ULL;
        k = (k ^ 0xff) * 0x100000001b3ULL;
    }
    return k;
}

static void render_alert_item_free(struct render *r, struct render_alert_item *it)
{
    for (int i = 0; i < it->n_up; i++)
        render_destroy_texture(r, &it->tile[i]);
    free(it->tile);
    textworker_result_free(it->pending);
    memset(it, 0, sizeof *it);
    it->width = -1;
}

static void render_alert_items_free(struct render *r)
{
    for (size_t i = 0; i < r->al.n; i++)
        render_alert_item_free(r, &r->al.it[i]);
}

/* Lines to be made again (a new look, lost textures): the list stays. */
static void render_alert_items_reset(struct render *r)
{
    for (size_t i = 0; i < r->al.n; i++) {
        uint64_t key = r->al.it[i].key;
        enum alert_severity sev = r->al.it[i].sev;
        render_alert_item_free(r, &r->al.it[i]);
        r->al.it[i].key = key;
        r->al.it[i].sev = sev;
    }
    r->al.wanted = false;
}

/* The takeover's text: large, but within the window (a sixth of its
 * height, at least the strip's size, at most four times it). */
static int render_alert_px(const struct render *r)
{
    if (r->al.mode != ALERT_MODE_TAKEOVER)
        return r->font_px;
    int px = r->h / 6;
    px = px > 4 * r->font_px ? 4 * r->font_px : px;
    return px < r->font_px ? r->font_px : px;
}

/* Posts the alert look when its font or size changed: white text keeping
 * its alpha, tinted with each severity's text colour when drawn. */
static void render_alert_post_look(struct render *r, bool force)
{
    int px = render_alert_px(r);
    if (force || px != r->al.font_px || !r->al.look_posted)
        r->al.look_stale = true;
    r->al.font_px = px;
    /* Opened when the first alert comes, not before: a kiosk that never
     * shows one holds no second font (its colour band shows meanwhile). */
    if (!r->al.look_stale || r->al.n == 0 || !r->font_name)
        return;
    r->al.look_stale = false;
    struct textworker_look look = {.font = r->font_name,
                                   .font_px = px,
                                   .fg = {255, 255, 255, 255},
                                   .label = {255, 255, 255, 255},
                                   .bg = {0, 0, 0, 0},
                                   .format = SDL_PIXELFORMAT_ARGB8888,
                                   .separator = r->separator,
                                   .idle_text = "",
                                   .fallback = true,
                                   .alerts = true};
    r->al.look_posted = textworker_set_look(r->al.worker, &look);
    r->al.wanted = false;
}

static void render_alert_take(struct render *r)
{
    if (!textworker_has_results(r->al.worker))
        return;
    struct textworker_result *res = textworker_take(r->al.worker);
    while (res) {
        struct textworker_result *next = res->next;
        res->next = NULL;
        if (res->kind == TEXTWORKER_LOOK) {
            if (res->look == r->al.look_posted && !res->no_font) {
                render_alert_items_reset(r);
                render_destroy_texture(r, &r->al.sep_tex);
                SDL_FreeSurface(r->al.sep_surf);
                r->al.sep_surf = res->surface;
                res->surface = NULL;
                r->al.sep_w = res->sep_w;
                r->al.line_h = res->line_h;
                r->al.look_gen = res->look;
                r->al.look_ready = true;
                r->al.wanted = false;
                if (r->al.sep_surf)
                    r->al.sep_tex = render_upload(
                        r, r->al.sep_surf, 0,
                        r->al.sep_surf->w < r->tile_w ? r->al.sep_surf->w : r->tile_w, false);
            }
        } else if (res->look == r->al.look_gen && res->list == r->al.serial &&
                   res->index < r->al.n && r->al.it[res->index].key == res->key &&
                   !r->al.it[res->index].pending && !r->al.it[res->index].n_tiles) {
            struct render_alert_item *it = &r->al.it[res->index];
            it->width = res->width;
            if (res->surface) {
                it->w = res->surface->w;
                it->h = res->surface->h;
                it->tile_w = r->up_tile_w > 0 ? r->up_tile_w : r->tile_w;
                it->n_tiles = (it->w + it->tile_w - 1) / it->tile_w;
                it->tile = kt_calloc((size_t)it->n_tiles, sizeof *it->tile);
                it->pending = res;
                res = next;
                continue;
            }
        }
        textworker_result_free(res);
        res = next;
    }
}

/* Uploads at most max tiles of the alert lines, first alert first. */
static void render_alert_upload(struct render *r, size_t max)
{
    size_t done = 0;
    for (size_t i = 0; i < r->al.n && done < max; i++) {
        struct render_alert_item *it = &r->al.it[i];
        while (it->pending && done < max) {
            SDL_Surface *s = it->pending->surface;
            int x = it->n_up * it->tile_w;
            int w = s->w - x < it->tile_w ? s->w - x : it->tile_w;
            it->tile[it->n_up] = render_upload(r, s, x, w, false);
            if (it->tile[it->n_up])
                it->n_up++;
            else
                it->n_tiles = it->n_up;
            r->uploads++;
            done++;
            if (it->n_up == it->n_tiles) {
                textworker_result_free(it->pending);
                it->pending = NULL;
            }
        }
    }
}

static bool render_alert_item_done(const struct render_alert_item *it)
{
    return it->width >= 0 && !it->pending;
}

static bool render_alerts_done(const struct render *r)
{
    if (!r->al.look_ready || r->al.look_gen != r->al.look_posted)
        return false;
    for (size_t i = 0; i < r->al.n; i++)
        if (!render_alert_item_done(&r->al.it[i]))
            return false;
    return true;
}

static void render_alert_want(struct render *r)
{
    if (r->al.wanted || !r->al.look_ready || r->al.look_gen != r->al.look_posted)
        return;
    struct textworker_want v[RENDER_MAX_ALERTS];
    for (size_t i = 0; i < r->al.n; i++)
        v[i] = (struct textworker_want){r->al.serial, (uint32_t)i, r->al.it[i].key, false};
    textworker_want(r->al.worker, r->al.look_gen, v, r->al.n);
    r->al.wanted = true;
}

/* Sync mode: waits (bounded) for the alert lines. */
static void render_alert_settle(struct render *r)
{
    Uint64 until = SDL_GetTicks64() + RENDER_SYNC_TIMEOUT_MS;
    for (;;) {
        render_alert_take(r);
        render_alert_want(r);
        render_alert_upload(r, SIZE_MAX);
        if (render_alerts_done(r))
            return;
        Uint64 now = SDL_GetTicks64();
        if (now >= until || textworker_wait(r->al.worker, (int)(until - now)) < 0)
            return;
    }
}

/* A new list of alerts (the snapshot's), at time t. The headlines stop
 * where they are when the first alert comes and go on from there when
 * the last one has gone; the same alerts in a new snapshot keep their
 * lines and their place. */
static void render_alerts_adopt(struct render *r, const struct store_snapshot *snap, double t)
{
    size_t n = snap->n_alerts < RENDER_MAX_ALERTS ? snap->n_alerts : RENDER_MAX_ALERTS;
    bool same = n == r->al.n;
    for (size_t i = 0; i < n && same; i++)
        same = r->al.it[i].key == render_alert_key(&snap->alerts[i]) &&
               r->al.it[i].sev == snap->alerts[i].severity;
    if (same && n > 0) {
        /* same lines: the worker keeps the old list's strings alive */
        store_snapshot_release(r->al.snap);
        r->al.snap = store_snapshot_retain(snap);
        return;
    }
    bool was = r->al.n > 0;
    render_alert_items_free(r);
    if (r->al.snap)
        store_snapshot_release(r->al.snap);
    r->al.snap = n ? store_snapshot_retain(snap) : NULL;
    r->al.n = n;
    r->al.serial++;
    for (size_t i = 0; i < n; i++) {
        r->al.it[i].key = render_alert_key(&snap->alerts[i]);
        r->al.it[i].sev = snap->alerts[i].severity;
        r->al.it[i].width = -1;
    }
    r->al.wanted = false;
    if (n) {
        textworker_set_list(r->al.worker, r->al.serial, snap);
        r->al.t0 = t;
        render_alert_post_look(r, false);
    }
    if (!was && n) {
        r->al.head_off = r->look_ready ? render_offset(r, t) : 0;
        kt_log_info("display: %zu alert%s active: showing %s", n, n == 1 ? "" : "s",
                    r->al.mode == ALERT_MODE_TAKEOVER ? "them over the whole window"
                                                      : "them in the strip");
    } else if (was && !n) {
        /* Resume: the offset at t is the one the alerts interrupted. */
        r->clock.t0 = t;
        r->clock.base = r->al.head_off;
        r->full_update = true;
        r->clear_whole = r->al.mode == ALERT_MODE_TAKEOVER;
        r->band_y0 = r->band_y1 = 0;
        kt_log_info("display: no alert active: the headlines go on");
    }
}

static void render_alert_fill(struct render *r, const SDL_Rect *rect, SDL_Color c)
{
    SDL_SetRenderDrawBlendMode(r->ren, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(r->ren, c.r, c.g, c.b, 255);
    SDL_RenderFillRect(r->ren, rect);
}

/* Draws alert line i (and its separator) with its left end at screen x,
 * its band [x, x + width + gap) in its colour. */
static void render_alert_draw_line(struct render *r, size_t i, double x, int y, int band_y,
                                   int band_h, bool separator)
{
    struct render_alert_item *it = &r->al.it[i];
    SDL_Color bg = r->al.colors[it->sev][0], fg = r->al.colors[it->sev][1];
    if (r->whole_px)
        x = floor(x);
    int gap = separator ? r->al.sep_w : 0;
    double bx = r->direction == DIR_RIGHT ? x - gap : x;
    SDL_Rect band = {(int)floor(bx), band_y, (int)ceil((double)(it->width + gap)) + 1, band_h};
    render_alert_fill(r, &band, bg);
    for (int k = 0; k < it->n_up; k++) {
        int w = it->w - k * it->tile_w < it->tile_w ? it->w - k * it->tile_w : it->tile_w;
        SDL_FRect dst = {(float)(x + (double)k * it->tile_w), (float)y, (float)w, (float)it->h};
        if (dst.x >= (float)r->w || dst.x + dst.w <= 0)
            continue;
        SDL_SetTextureColorMod(it->tile[k], fg.r, fg.g, fg.b);
        SDL_RenderCopyF(r->ren, it->tile[k], NULL, &dst);
    }
    if (r->al.sep_tex && gap > 0) {
        double sx = r->direction == DIR_RIGHT ? x - gap : x + it->width;
        SDL_FRect dst = {(float)sx, (float)y, (float)r->al.sep_w, (float)r->al.line_h};
        SDL_SetTextureColorMod(r->al.sep_tex, fg.r, fg.g, fg.b);
        SDL_RenderCopyF(r->ren, r->al.sep_tex, NULL, &dst);
    }
}

/* Screen x of the left end of a line whose tape start is u (offset off),
 * w px wide. */
static double render_alert_x(const struct render *r, double u, double off, double w)
{
    return r->direction == DIR_RIGHT ? (double)r->w - (u - off) - w : u - off;
}

/* Banner: the alerts one after another in the strip, looping, each on
 * its severity's colour; until their lines are ready, the band of the
 * most severe. */
static void render_alert_banner(struct render *r, double t)
{
    SDL_Rect strip = {0, r->strip_y, r->w, r->strip_h};
    render_alert_fill(r, &strip, r->al.colors[r->al.it[0].sev][0]);
    if (!render_alerts_done(r))
        return;
    SDL_RenderSetClipRect(r->ren, &strip);
    int64_t loop = 0;
    for (size_t i = 0; i < r->al.n; i++)
        loop += r->al.it[i].width + r->al.sep_w;
    if (loop <= 0)
        loop = 1;
    double off = fabs(r->clock.speed) * (t - r->al.t0);
    if (r->snap_speed && r->refresh_hz > 0)
        off = round(off);
    double origin = r->al.line_h / 2;
    int y = r->strip_y + (r->strip_h - r->al.line_h) / 2;
    /* The loop that holds the screen's exit edge, then on until the entry edge. */
    double u = origin + floor((off - origin) / (double)loop) * (double)loop;
    if (u > off)
        u = origin;
    for (int guard = 0; u < off + r->w && guard < 1000; guard++) {
        for (size_t i = 0; i < r->al.n && u < off + r->w; i++) {
            double w = r->al.it[i].width;
            if (u + w + r->al.sep_w > off)
                render_alert_draw_line(r, i, render_alert_x(r, u, off, w), y, r->strip_y,
                                       r->strip_h, true);
            u += w + r->al.sep_w;
        }
    }
    SDL_RenderSetClipRect(r->ren, NULL);
}

/* Takeover: the whole window, one row per alert (as many as fit), each
 * on its colour; a line that fits stands still in the middle, a longer
 * one scrolls. */
static void render_alert_takeover(struct render *r, double t)
{
    SDL_Rect all = {0, 0, r->w, r->h};
    render_alert_fill(r, &all, r->al.colors[r->al.it[0].sev][0]);
    if (!render_alerts_done(r))
        return;
    int lh = r->al.line_h > 0 ? r->al.line_h : 1;
    size_t rows = (size_t)(r->h / (lh + lh / 4));
    rows = rows < 1 ? 1 : rows > r->al.n ? r->al.n : rows;
    for (size_t i = 0; i < rows; i++) {
        int y0 = (int)((size_t)r->h * i / rows), y1 = (int)((size_t)r->h * (i + 1) / rows);
        SDL_Rect band = {0, y0, r->w, y1 - y0};
        render_alert_fill(r, &band, r->al.colors[r->al.it[i].sev][0]);
        SDL_RenderSetClipRect(r->ren, &band);
        int y = y0 + (y1 - y0 - lh) / 2;
        double w = r->al.it[i].width;
        if (w <= r->w - lh) {
            render_alert_draw_line(r, i, floor((r->w - w) / 2), y, y0, y1 - y0, false);
        } else {
            double loop = w + r->al.sep_w + lh;
            double off = fmod(fabs(r->clock.speed) * (t - r->al.t0), loop);
            if (r->snap_speed && r->refresh_hz > 0)
                off = round(off);
            for (double u = lh / 2.0 - loop; u < off + r->w; u += loop)
                if (u + loop > off)
                    render_alert_draw_line(r, i, render_alert_x(r, u, off, w), y, y0, y1 - y0,
                                           true);
        }
        SDL_RenderSetClipRect(r->ren, NULL);
    }
}

static void render_alert_frame(struct render *r, double t)
{
    if (r->sync)
        render_alert_settle(r);
    else
        render_alert_take(r);
    render_alert_want(r);
    render_alert_upload(r, r->sync || r->warmup ? SIZE_MAX : 1);
    /* Nothing of the headlines' is drawn: the window surface's band
     * bookkeeping starts again when they come back. */
    r->banded = false;
    r->band_y0 = r->band_y1 = 0;
    if (r->al.mode == ALERT_MODE_TAKEOVER) {
        render_alert_takeover(r, t);
        r->present_whole = true;
    } else {
        if (r->full_update && !(r->win_surf && r->bg_by_window)) {
            SDL_SetRenderDrawColor(r->ren, 0, 0, 0, 255);
            SDL_RenderClear(r->ren);
        } else if (!r->win_surf && r->strip_h < r->h) {
            SDL_SetRenderDrawColor(r->ren, 0, 0, 0, 255);
            SDL_RenderClear(r->ren);
        }
        render_alert_banner(r, t);
    }
    /* A surface's pixels are read after the frame (a screenshot, a capture). */
    SDL_RenderFlush(r->ren);
    r->complete = render_alerts_done(r);
    if (!r->complete)
        r->not_ready_frames++;
    /* The headlines' textures stay for their return. */
    for (size_t i = 0; i < r->n_slots; i++)
        r->slots[i].used = r->frame;
}

/* ---- rotation: one rotated copy of what was drawn ---- */

/* The panel's own surface (software), or NULL (a GPU). */
static SDL_Surface *render_panel_surface(const struct render *r)
{
    return r->win_surf ? r->win_surf : r->target;
}

static bool render_rot_swaps(const struct render *r)
{
    return r->rotate == 90 || r->rotate == 270;
}

/* A rectangle of the rotated frame, where it lands on the panel
 * (clockwise: rotate = 90 puts the frame's top along the panel's right). */
static SDL_Rect render_rot_rect(const struct render *r, SDL_Rect a)
{
    int pw = r->panel_w, ph = r->panel_h;
    switch (r->rotate) {
    case 90:
        return (SDL_Rect){pw - a.y - a.h, a.x, a.h, a.w};
    case 180:
        return (SDL_Rect){pw - a.x - a.w, ph - a.y - a.h, a.w, a.h};
    case 270:
        return (SDL_Rect){a.y, ph - a.x - a.w, a.h, a.w};
    default:
        return a;
    }
}

/* Software: rows [y0, y1) of the frame into the panel, turned. Rows of a
 * 90/270 frame become columns: the strip's rows only, once per frame. */
static void render_rot_copy_rows(struct render *r, int y0, int y1)
{
    SDL_Surface *src = r->rot_surf, *dst = render_panel_surface(r);
    y0 = y0 < 0 ? 0 : y0;
    y1 = y1 > src->h ? src->h : y1;
    if (y1 <= y0 || src->format->BytesPerPixel != 4 || dst->format->BytesPerPixel != 4)
        return;
    if (SDL_MUSTLOCK(dst))
        SDL_LockSurface(dst);
    int w = src->w < (render_rot_swaps(r) ? dst->h : dst->w) ? src->w
            : render_rot_swaps(r)                            ? dst->h
                                                             : dst->w;
    size_t dpitch = (size_t)dst->pitch / 4;
    Uint32 *d0 = dst->pixels;
    if (r->rotate == 180) {
        for (int y = y0; y < y1; y++) {
            const Uint32 *s = (const Uint32 *)((const Uint8 *)src->pixels + (size_t)y * src->pitch);
            Uint32 *d = d0 + (size_t)(dst->h - 1 - y) * dpitch + (size_t)(dst->w - 1);
            for (int x = 0; x < w; x++)
                d[-(ptrdiff_t)x] = s[x];
        }
    } else {
        /* Blocks of RENDER_ROT_BLOCK rows: each source column then becomes
         * a run of that many pixels in one panel row (a cache line),
         * instead of one pixel per panel row. */
        for (int yb = y0; yb < y1; yb += RENDER_ROT_BLOCK) {
            int n = y1 - yb < RENDER_ROT_BLOCK ? y1 - yb : RENDER_ROT_BLOCK;
            const Uint32 *s[RENDER_ROT_BLOCK];
            for (int k = 0; k < n; k++)
                s[k] = (const Uint32 *)((const Uint8 *)src->pixels + (size_t)(yb + k) * src->pitch);
            for (int x = 0; x < w; x++) {
                if (r->rotate == 90) {
                    /* (x, y) -> (pw - 1 - y, x) */
                    Uint32 *d = d0 + (size_t)x * dpitch + (size_t)(dst->w - yb - n);
                    for (int k = 0; k < n; k++)
                        d[n - 1 - k] = s[k][x];
                } else {
                    /* (x, y) -> (y, ph - 1 - x) */
                    Uint32 *d = d0 + (size_t)(dst->h - 1 - x) * dpitch + (size_t)yb;
                    for (int k = 0; k < n; k++)
                        d[k] = s[k][x];
                }
            }
        }
    }
    if (SDL_MUSTLOCK(dst))
        SDL_UnlockSurface(dst);
}

/* GPU: the frame is drawn into a target texture of its size. */
static void render_rot_begin(struct render *r)
{
    if (!r->rotate || render_panel_surface(r))
        return;
    if (r->rot_tex && (r->rot_tw != r->w || r->rot_th != r->h)) {
        SDL_DestroyTexture(r->rot_tex);
        r->rot_tex = NULL;
    }
    if (!r->rot_tex) {
        r->rot_tex = SDL_CreateTexture(r->ren, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_TARGET,
                                       r->w, r->h);
        if (!r->rot_tex) {
            kt_log_error("display: cannot rotate (no %dx%d render target): %s", r->w, r->h,
                         SDL_GetError());
            r->rotate = 0;
            r->w = r->panel_w;
            r->h = r->panel_h;
            return;
        }
        r->rot_tw = r->w;
        r->rot_th = r->h;
    }
    SDL_SetRenderTarget(r->ren, r->rot_tex);
}

/* The frame drawn onto the panel: the rows that changed (software), or
 * the texture copied turned (GPU). */
static void render_rot_end(struct render *r)
{
    if (!r->rotate)
        return;
    if (!render_panel_surface(r)) {
        if (!r->rot_tex)
            return;
        SDL_SetRenderTarget(r->ren, NULL);
        SDL_SetRenderDrawColor(r->ren, 0, 0, 0, 255);
        SDL_RenderClear(r->ren);
        SDL_FRect dst = {(float)(r->panel_w - r->w) / 2, (float)(r->panel_h - r->h) / 2,
                         (float)r->w, (float)r->h};
        SDL_RenderCopyExF(r->ren, r->rot_tex, NULL, &dst, r->rotate, NULL, SDL_FLIP_NONE);
        return;
    }
    SDL_RenderFlush(r->ren);
    SDL_Rect a;
    if (r->rot_all || r->present_whole || (r->full_update && r->win_surf))
        a = (SDL_Rect){0, 0, r->w, r->h};
    else if (r->banded)
        a = (SDL_Rect){0, r->band_y0, r->w, r->band_y1 - r->band_y0};
    else
        a = (SDL_Rect){0, r->strip_y, r->w, r->strip_h};
    render_rot_copy_rows(r, a.y, a.y + a.h);
    r->rot_sent = render_rot_rect(r, a);
    r->rot_all = false;
}

/* Makes the software renderer for the panel surface: into it, or, when
 * rotated, into a frame of the rotated size copied turned. */
static int render_sw_bind(struct render *r)
{
    SDL_Surface *panel = render_panel_surface(r);
    if (r->ren)
        SDL_DestroyRenderer(r->ren);
    r->ren = NULL;
    SDL_FreeSurface(r->rot_surf);
    r->rot_surf = NULL;
    r->panel_w = panel->w;
    r->panel_h = panel->h;
    SDL_Surface *into = panel;
    if (r->rotate) {
        int w = render_rot_swaps(r) ? panel->h : panel->w;
        int h = render_rot_swaps(r) ? panel->w : panel->h;
        r->rot_surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, panel->format->format);
        if (!r->rot_surf)
            return -1;
        into = r->rot_surf;
        r->rot_all = true;
    }
    r->ren = SDL_CreateSoftwareRenderer(into);
    return r->ren ? 0 : -1;
}

/* A new angle: the frame's size changes, and in software the renderer
 * (textures belong to it: the text is uploaded again). */
static void render_set_rotation(struct render *r, int deg)
{
    if (deg == r->rotate)
        return;
    r->rotate = deg;
    if (render_panel_surface(r)) {
        render_flush_slots(r);
        render_destroy_texture(r, &r->sep_tex);
        render_alert_items_reset(r);
        render_destroy_texture(r, &r->al.sep_tex);
        render_clock_drop(r);
        if (render_sw_bind(r) < 0) {
            kt_log_error("display: cannot rotate by %d degrees: %s", deg, SDL_GetError());
            r->failed = true;
            return;
        }
        render_textures_lost(r);
    } else if (r->rot_tex) {
        SDL_DestroyTexture(r->rot_tex);
        r->rot_tex = NULL;
    }
    r->full_update = true;
    r->rot_all = true;
    kt_log_info("display: drawing rotated by %d degrees", deg);
}

static void render_frame_upright(struct render *r, double t)
{
    if (!r->ren)
        return;
    r->present_whole = false;
    if (r->al.n > 0) {
        /* Headline results are taken (and kept) meanwhile. */
        render_collect(r, t);
        r->frame++;
        render_alert_frame(r, t);
        return;
    }
    if (r->look_ready)
        render_clock_tick(r, t);
    if (r->sync)
        render_settle(r, t);
    else
        render_collect(r, t);
    r->frame++;
    if (!r->look_ready) {
        render_blank(r);
        r->complete = false;
        return;
    }
    double lo = render_offset(r, t);
    double hi = lo + r->tw;
    render_place(r, t, r->sync || r->warmup ? SIZE_MAX : 1);
    r->text_covers = render_text_covers(r, lo, hi);

    render_background_update(r, t);
    render_fill_strip(r);
    bool missing = r->layout.blocked && (double)r->layout.tail < hi;
    struct scroll_layout *l = &r->layout;
    for (size_t i = 0; i < l->n; i++) {
        struct scroll_entry *e = &l->e[i];
        double end = (double)(e->start + e->width + l->gap);
        bool visible = (double)e->start < hi && end > lo;
        struct render_slot *slot = render_slot_find(r, e);
        if (slot)
            slot->used = r->frame;
        if (!visible)
            continue;
        float y = (float)r->text_y;
        if (slot) {
            if (!slot->shown) {
                slot->shown = true;
                r->shown++;
            }
            double x = render_screen_x(r, (double)e->start, lo, slot->w);
            int tw = slot->tile_w;
            if (slot->direct)
                render_copy(r, NULL, slot->direct, (float)x, y, (float)slot->w, (float)slot->h);
            for (int k = 0; k < slot->n_up; k++) {
                int w = slot->w - k * tw < tw ? slot->w - k * tw : tw;
                /* Right to left, the first tile is still the line's left end. */
                render_copy(r, slot->tile[k], NULL, (float)(x + (double)k * tw), y, (float)w,
                            (float)slot->h);
            }
            if (slot->n_up < slot->n_tiles &&
                x + (double)slot->n_up * tw < (double)(r->tx + r->tw) && x + slot->w > 0)
                missing = true; /* tiles still on their way, on screen */
        } else if ((double)e->start < hi && (double)(e->start + e->width) > lo) {
            missing = true; /* its place stays blank until it is ready */
        }
        if (r->sep_tex || r->sep_direct) {
            double x = render_screen_x(r, (double)(e->start + e->width), lo, r->sep_w);
            render_copy(r, r->sep_tex, r->sep_direct ? r->sep_surf : NULL, (float)x, y,
                        (float)r->sep_w, (float)r->line_h);
        }
    }
    render_end_strip(r);
    render_background_draw(r);
    if (missing)
        r->not_ready_frames++;
    r->complete = !missing;

    /* Freed as soon as a headline has left (and its separator with it). */
    for (size_t i = 0; i < r->n_slots; i++)
        if (r->slots[i].live && r->slots[i].used != r->frame)
            render_slot_release(r, &r->slots[i]);
    while (r->n_slots > 0 && !r->slots[r->n_slots - 1].live)
        r->n_slots--;

    render_request(r, hi);
    r->last_hi = hi;
    r->drawn = true;
}

void render_frame(struct render *r, double t)
{
    if (!r->ren)
        return;
    render_rot_begin(r);
    render_frame_upright(r, t);
    render_rot_end(r);
}

void render_present(struct render *r)
{
    if (!r->ren)
        return;
    if (r->win_surf && r->rotate) {
        if (r->rot_sent.w >= r->panel_w && r->rot_sent.h >= r->panel_h)
            SDL_UpdateWindowSurface(r->win);
        else if (r->rot_sent.w > 0 && r->rot_sent.h > 0)
            SDL_UpdateWindowSurfaceRects(r->win, &r->rot_sent, 1);
        r->full_update = false;
        r->clear_whole = false;
        return;
    }
    if (r->win_surf) {
        SDL_Rect strip = {0, r->strip_y, r->w, r->strip_h};
        SDL_Rect band = {0, r->band_y0, r->w, r->band_y1 - r->band_y0};
        if ((r->full_update && (!r->bg_by_window || r->clear_whole)) || r->present_whole)
            SDL_UpdateWindowSurface(r->win);
        else
            SDL_UpdateWindowSurfaceRects(r->win, r->banded ? &band : &strip, 1);
        r->full_update = false;
        r->clear_whole = false;
        return;
    }
    SDL_RenderPresent(r->ren);
}

void render_black(struct render *r)
{
    if (!r->ren)
        return;
    render_rot_begin(r);
    SDL_SetRenderDrawBlendMode(r->ren, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(r->ren, 0, 0, 0, 255);
    SDL_RenderClear(r->ren);
    SDL_RenderFlush(r->ren);
    /* all of it drawn and sent; the next frame draws everything again */
    r->present_whole = true;
    r->rot_all = true;
    render_rot_end(r);
    r->full_update = true;
    r->clear_whole = true;
    r->band_y0 = r->band_y1 = 0;
}

int render_read_rgba(struct render *r, uint8_t **buf, size_t *cap, int *w, int *h)
{
    SDL_Surface *panel = render_panel_surface(r);
    int pw = r->panel_w, ph = r->panel_h;
    if (!r->ren || pw <= 0 || ph <= 0)
        return -1;
    size_t need = (size_t)pw * (size_t)ph * 4;
    if (*cap < need) {
        free(*buf);
        *buf = kt_malloc(need);
        *cap = need;
    }
    int rc;
    if (panel) {
        /* software: the panel's own pixels (rotated frames included) */
        if (SDL_MUSTLOCK(panel))
            SDL_LockSurface(panel);
        rc = SDL_ConvertPixels(pw, ph, panel->format->format, panel->pixels, panel->pitch,
                               SDL_PIXELFORMAT_ABGR8888, *buf, pw * 4);
        if (SDL_MUSTLOCK(panel))
            SDL_UnlockSurface(panel);
    } else {
        rc = SDL_RenderReadPixels(r->ren, NULL, SDL_PIXELFORMAT_ABGR8888, *buf, pw * 4);
    }
    if (rc < 0)
        return -1;
    /* The screen is opaque, whatever alpha a surface kept where nothing
     * was blended. */
    for (size_t i = 3; i < need; i += 4)
        (*buf)[i] = 255;
    *w = pw;
    *h = ph;
    return 0;
}

int render_alert_severity(const struct render *r)
{
    return r->snap && r->snap->n_alerts > 0 ? (int)r->snap->alerts[0].severity : -1;
}

bool render_paced(const struct render *r)
{
    return !r->win_surf && r->vsync;
}

bool render_failed(const struct render *r)
{
    return r->failed;
}

bool render_ready(const struct render *r)
{
    return r->look_ready && r->complete;
}

/* Textures went with the renderer or the device: made again from the
 * worker (the tape does not move; what is on screen comes back in place). */
static void render_textures_lost(struct render *r)
{
    render_background_lost(r); /* images branch */
    render_flush_slots(r);
    render_clock_drop(r);
    r->clock_sec = INT64_MIN;
    r->clock_text[0] = '\0';
    if (r->rot_tex) {
        SDL_DestroyTexture(r->rot_tex);
        r->rot_tex = NULL;
    }
    render_alert_items_reset(r);
    render_destroy_texture(r, &r->al.sep_tex);
    if (r->al.sep_surf)
        r->al.sep_tex =
            render_upload(r, r->al.sep_surf, 0,
                          r->al.sep_surf->w < r->tile_w ? r->al.sep_surf->w : r->tile_w, false);
    render_make_separator(r);
    r->n_posted = 0;
}

/* The window surface is replaced on every resize: a new software renderer
 * for the new one, and the text uploaded again (textures belong to a
 * renderer). */
static void render_rebind_surface(struct render *r)
{
    render_flush_slots(r);
    render_destroy_texture(r, &r->sep_tex);
    render_alert_items_reset(r);
    render_destroy_texture(r, &r->al.sep_tex);
    render_clock_drop(r);
    r->win_surf = SDL_GetWindowSurface(r->win);
    if (!r->win_surf || render_sw_bind(r) < 0) {
        SDL_DestroyRenderer(r->ren);
        r->ren = NULL;
        kt_log_error("display: lost the window surface: %s", SDL_GetError());
        r->failed = true;
        return;
    }
    r->full_update = true;
    render_textures_lost(r);
}

void render_observe_copies(struct render *r, render_copy_fn fn, void *ctx)
{
    r->observe = fn;
    r->observe_ctx = ctx;
}

/* ---- snapshots ---- */

void render_adopt(struct render *r, const struct store_snapshot *snap, double t)
{
    if (r->snap)
        store_snapshot_release(r->snap);
    r->snap = snap;
    r->idle = snap->n == 0;
    size_t n = r->idle ? 1 : snap->n;
    uint64_t *ids = kt_malloc(n * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = r->idle ? RENDER_IDLE_ID : render_key(&snap->items[i]);
    /* The splice edge is the last frame drawn: everything kept has been
     * on screen. */
    scroll_layout_adopt(&r->layout, ids, n, r->drawn ? r->last_hi : -INFINITY);
    free(ids);
    textworker_set_list(r->worker, r->layout.serial, r->idle ? NULL : snap);
    r->n_posted = 0; /* indices are the new list's now */
    render_alerts_adopt(r, snap, t);
    if (r->idle)
        kt_log_info("display: no headlines yet, showing the idle text");
    else
        kt_log_info("display: showing %zu headlines (generation %llu)", snap->n,
                    (unsigned long long)snap->generation);
}

uint64_t render_generation(const struct render *r)
{
    return r->snap ? r->snap->generation : 0;
}

/* ---- look ---- */

static SDL_Color render_color(struct color c)
{
    return (SDL_Color){c.r, c.g, c.b, c.a};
}

static bool render_color_eq(SDL_Color a, SDL_Color b)
{
    return a.r == b.r && a.g == b.g && a.b == b.b && a.a == b.a;
}

/* The frame's size: the panel's, turned when rotated by 90 or 270. */
static void render_update_size(struct render *r)
{
    SDL_Surface *panel = render_panel_surface(r);
    if (panel) {
        r->panel_w = panel->w;
        r->panel_h = panel->h;
    } else if (r->win) {
        SDL_GetRendererOutputSize(r->ren, &r->panel_w, &r->panel_h);
    }
    r->w = render_rot_swaps(r) ? r->panel_h : r->panel_w;
    r->h = render_rot_swaps(r) ? r->panel_w : r->panel_h;
    render_update_tape(r);
}

static void render_update_geometry(struct render *r)
{
    render_update_size(r);
    int h = r->height_cfg > 0 ? r->height_cfg : r->line_h + r->line_h / 2;
    if (h > r->h)
        h = r->h;
    if (r->position == POS_FILL)
        h = r->h;
    r->strip_h = h;
    r->strip_y = r->position == POS_BOTTOM ? r->h - h : 0;
    r->text_y = r->strip_y + (h - r->line_h) / 2;
    render_update_tape(r);
    /* The strip may have moved: draw and send everything once. */
    r->full_update = true;
    r->rot_all = true;
}

static void render_update_refresh(struct render *r)
{
    r->refresh_hz = 0;
    if (!r->win)
        return;
    SDL_DisplayMode m;
    int idx = SDL_GetWindowDisplayIndex(r->win);
    if (idx >= 0 && SDL_GetCurrentDisplayMode(idx, &m) == 0 && m.refresh_rate > 0)
        r->refresh_hz = m.refresh_rate;
}

static double render_effective_speed(const struct render *r)
{
    return r->snap_speed ? scroll_snap_speed(r->speed, r->refresh_hz) : r->speed;
}

/* The separator's texture from the look's surface (made by the worker). */
static void render_make_separator(struct render *r)
{
    render_destroy_texture(r, &r->sep_tex);
    r->sep_direct = false;
    if (!r->sep_surf)
        return;
    SDL_Surface *s = r->sep_surf;
    r->sep_w = s->w;
    if (render_can_direct(r, s, r->sep_opaque)) {
        r->sep_direct = true;
        return;
    }
    /* The separator is narrow: one texture, whatever the tile width. */
    r->sep_tex = render_upload(r, s, 0, s->w < r->tile_w ? s->w : r->tile_w, r->sep_opaque);
    r->sep_w = s->w;
}

static void render_apply_window(struct render *r, const struct cfg_display *d)
{
    if (!r->win)
        return;
    int screens = SDL_GetNumVideoDisplays();
    int screen = d->screen < screens ? d->screen : 0;
    if (render_overlay_apply(r, d, screen)) /* images branch */
        return;
    if (d->mode == r->mode && screen == r->screen && d->mode == MODE_FULLSCREEN)
        return;
    if (d->mode == MODE_WINDOW) {
        int w = r->size_w > 0 ? r->size_w : d->width;
        int h = r->size_h > 0 ? r->size_h : d->height_window;
        int cw, ch;
        SDL_GetWindowSize(r->win, &cw, &ch);
        if (r->mode == MODE_WINDOW && screen == r->screen && cw == w && ch == h)
            return;
        SDL_SetWindowFullscreen(r->win, 0);
        SDL_SetWindowSize(r->win, w, h);
        SDL_SetWindowPosition(r->win, SDL_WINDOWPOS_CENTERED_DISPLAY(screen),
                              SDL_WINDOWPOS_CENTERED_DISPLAY(screen));
        kt_log_info("display: window %dx%d on screen %d", w, h, screen);
    } else {
        SDL_SetWindowFullscreen(r->win, 0);
        SDL_SetWindowPosition(r->win, SDL_WINDOWPOS_UNDEFINED_DISPLAY(screen),
                              SDL_WINDOWPOS_UNDEFINED_DISPLAY(screen));
        SDL_SetWindowFullscreen(r->win, SDL_WINDOW_FULLSCREEN_DESKTOP);
        kt_log_info("display: fullscreen on screen %d", screen);
    }
    r->mode = d->mode;
    r->screen = screen;
    render_update_refresh(r);
}

static void render_post_look(struct render *r, bool first)
{
    struct textworker_look look = {.font = r->font_name,
                                   .font_px = r->font_px,
                                   .fg = r->fg,
                                   .label = r->label,
                                   .bg = r->bg,
                                   .format = render_opaque_format(r),
                                   .separator = r->separator,
                                   .idle_text = r->idle_text,
                                   .fallback = first,
                                   .logos = r->logos,
                                   .n_logos = r->n_logos};
    r->logos_changed = false;
    r->look_posted = textworker_set_look(r->worker, &look);
    r->n_posted = 0;
}

/* Sync mode: the look just posted is in use (or failed) on return. */
static void render_wait_look(struct render *r, double t)
{
    Uint64 until = SDL_GetTicks64() + RENDER_SYNC_TIMEOUT_MS;
    while (r->look_gen != r->look_posted && SDL_GetTicks64() < until) {
        textworker_wait(r->worker, (int)(until - SDL_GetTicks64()));
        render_collect(r, t);
    }
}

int render_apply(struct render *r, const struct cfg_display *d, double t, char *err, size_t errlen)
{
    bool first = !r->applied;
    SDL_Color bg = render_color(d->background), fg = render_color(d->foreground),
              label = render_color(d->label_color);
    bool text_changed = first || !kt_str_eq(d->font, r->font_name) || d->font_size != r->font_px ||
                        !kt_str_eq(d->separator, r->separator) ||
                        !kt_str_eq(d->idle_text, r->idle_text) || !render_color_eq(fg, r->fg) ||
                        !render_color_eq(label, r->label) ||
                        /* opaque text is drawn onto the background */
                        !render_color_eq(bg, r->bg) || r->logos_changed;
    if (text_changed) {
        free(r->font_name);
        r->font_name = kt_strdup(d->font);
        r->font_px = d->font_size;
        free(r->separator);
        r->separator = kt_strdup(d->separator);
        free(r->idle_text);
        r->idle_text = kt_strdup(d->idle_text);
    }
    r->bg = bg;
    r->fg = fg;
    r->label = label;
    r->position = d->position;
    r->direction = d->direction;
    r->height_cfg = d->height;

    render_apply_window(r, d);
    render_set_rotation(r, (int)d->rotate * 90);
    if (d->clock != r->clock_pos || !kt_str_eq(d->clock_format, r->clock_fmt)) {
        free(r->clock_fmt);
        r->clock_fmt = kt_strdup(d->clock_format);
        r->clock_pos = d->clock;
        r->clock_sec = INT64_MIN;
        r->clock_text[0] = '\0';
        r->clock_key++;
        r->clock_box = 0;
        render_clock_drop(r);
        render_update_tape(r);
        r->full_update = true;
    }
    render_update_size(r);
    render_background_apply(r, d);
    if (r->win && !r->win_surf && !first && d->vsync != r->vsync) {
        SDL_RenderSetVSync(r->ren, d->vsync);
        r->vsync = d->vsync;
    }
    if (r->look_ready)
        render_update_geometry(r);
    if (text_changed)
        render_post_look(r, first);
    for (int sev = 0; sev < ALERT_SEVERITY_COUNT; sev++)
        for (int k = 0; k < 2; k++)
            r->al.colors[sev][k] = render_color(d->alert_colors[sev][k]);
    bool mode_changed = first || d->alert_mode != r->al.mode;
    r->al.mode = d->alert_mode;
    render_alert_post_look(r, text_changed || mode_changed);
    r->speed = d->speed;
    r->snap_speed = d->snap_speed;
    if (first)
        scroll_clock_init(&r->clock, render_effective_speed(r));
    else
        scroll_clock_set_speed(&r->clock, t, render_effective_speed(r));
    r->applied = true;
    if (text_changed && r->sync) {
        render_wait_look(r, t);
        if (r->look_gen != r->look_posted)
            return kt_error(err, errlen, "the font is not open after %d s",
                            RENDER_SYNC_TIMEOUT_MS / 1000);
        if (r->failed || (!first && r->look_err[0]))
            return kt_error(err, errlen, "%s", r->look_err);
    }
    return 0;
}

const char *render_look_error(const struct render *r)
{
    return r->look_err;
}

void render_handle_event(struct render *r, const SDL_Event *ev)
{
    if (ev->type == SDL_RENDER_DEVICE_RESET) {
        kt_log_warn("display: render device reset, uploading the text again");
        render_textures_lost(r);
    } else if (ev->type == SDL_RENDER_TARGETS_RESET) {
        /* Render targets only: the ticker draws none. */
        kt_log_debug("display: render targets reset");
    } else if (ev->type == SDL_WINDOWEVENT && r->win &&
               ev->window.windowID == SDL_GetWindowID(r->win)) {
        if (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
            if (r->win_surf)
                render_rebind_surface(r);
            if (!r->ren)
                return;
            render_update_geometry(r);
            render_alert_post_look(r, false);
            kt_log_info("display: output is now %dx%d", r->w, r->h);
        } else if (ev->window.event == SDL_WINDOWEVENT_DISPLAY_CHANGED) {
            render_update_refresh(r);
        } else if (ev->window.event == SDL_WINDOWEVENT_EXPOSED) {
            r->full_update = true;
        }
    }
}

/* ---- opening ---- */

static struct render *render_alloc(char *err, size_t errlen)
{
    struct render *r = kt_calloc(1, sizeof *r);
    r->tile_w = RENDER_TILE_W;
    scroll_layout_init(&r->layout, 0, 0, NULL, NULL);
    r->worker = textworker_start(err, errlen);
    r->al.worker = r->worker ? textworker_start(err, errlen) : NULL;
    if (!r->al.worker && r->worker) {
        textworker_stop(r->worker, true);
        r->worker = NULL;
    }
    if (!r->worker) {
        scroll_layout_free(&r->layout);
        free(r);
        return NULL;
    }
    return r;
}

static void render_read_info(struct render *r)
{
    SDL_RendererInfo info;
    if (SDL_GetRendererInfo(r->ren, &info) == 0) {
        snprintf(r->renderer_name, sizeof r->renderer_name, "%s", info.name);
        r->whole_px = strcmp(info.name, "software") == 0;
        if (info.max_texture_width > 0 && info.max_texture_width < r->tile_w)
            r->tile_w = info.max_texture_width;
        if (r->tile_limit > 0 && r->tile_limit < r->tile_w)
            r->tile_w = r->tile_limit;
        r->vsync = (info.flags & SDL_RENDERER_PRESENTVSYNC) != 0;
    }
}

struct render *render_open_surface(SDL_Surface *target, char *err, size_t errlen)
{
    struct render *r = render_alloc(err, errlen);
    if (!r)
        return NULL;
    render_set_sync(r, true);
    r->ren = SDL_CreateSoftwareRenderer(target);
    if (!r->ren) {
        kt_error(err, errlen, "software renderer: %s", SDL_GetError());
        render_close(r);
        return NULL;
    }
    snprintf(r->driver, sizeof r->driver, "none");
    render_read_info(r);
    r->target = target;
    render_update_size(r);
    return r;
}

static SDL_Window *render_create_window(const struct render *r, const struct cfg_display *d,
                                        int screen)
{
    if (d->mode == MODE_OVERLAY)
        return overlay_create(d, screen, overlay_initial_height(d)); /* images branch */
    if (d->mode == MODE_FULLSCREEN) {
        SDL_DisplayMode m;
        int w = 1280, h = 720;
        if (SDL_GetDesktopDisplayMode(screen, &m) == 0) {
            w = m.w;
            h = m.h;
        }
        Uint32 flags = SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_BORDERLESS;
        /* SDL 2.26 asks the window manager for fullscreen, then waits
         * 100 ms for the window to change. With no window manager (an X
         * server started for the kiosk alone) nothing ever does, and a
         * borderless window the size of the screen is the same thing,
         * shown 100 ms sooner (bench/README.md, start-up). */
        if (strcasecmp(r->driver, "x11") == 0 && !render_probe_x11_has_wm())
            flags = SDL_WINDOW_BORDERLESS;
        return SDL_CreateWindow("kiosk-ticker", SDL_WINDOWPOS_UNDEFINED_DISPLAY(screen),
                                SDL_WINDOWPOS_UNDEFINED_DISPLAY(screen), w, h, flags);
    }
    int w = r->size_w > 0 ? r->size_w : d->width;
    int h = r->size_h > 0 ? r->size_h : d->height_window;
    return SDL_CreateWindow("kiosk-ticker", SDL_WINDOWPOS_CENTERED_DISPLAY(screen),
                            SDL_WINDOWPOS_CENTERED_DISPLAY(screen), w, h, 0);
}

static int render_create_renderer(struct render *r, const struct cfg_display *d, int screen,
                                  bool software, char *err, size_t errlen)
{
    if (software && strcasecmp(r->driver, "x11") == 0)
        /* Draw straight into X shared memory, not through a GL texture. */
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    r->win = render_create_window(r, d, screen);
    if (!r->win)
        return kt_error(err, errlen, "cannot create the window: %s", SDL_GetError());
    if (software) {
        r->win_surf = SDL_GetWindowSurface(r->win);
        r->ren = r->win_surf ? SDL_CreateSoftwareRenderer(r->win_surf) : NULL;
        if (r->ren) {
            r->full_update = true;
            if (strcasecmp(r->driver, "x11") == 0)
                r->bg_by_window = render_probe_x11_black_background(r->win);
            return 0;
        }
        r->win_surf = NULL;
    }
    Uint32 flags = (software ? SDL_RENDERER_SOFTWARE : SDL_RENDERER_ACCELERATED) |
                   (d->vsync ? SDL_RENDERER_PRESENTVSYNC : 0);
    r->ren = SDL_CreateRenderer(r->win, -1, flags);
    if (!r->ren && software) {
        /* Some drivers only have a GL-backed framebuffer. */
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, NULL);
        r->ren = SDL_CreateRenderer(r->win, -1, flags);
    }
    if (!r->ren)
        return kt_error(err, errlen, "cannot create a %s renderer: %s",
                        software ? "software" : "accelerated", SDL_GetError());
    return 0;
}

static void render_destroy_window(struct render *r)
{
    if (r->ren)
        SDL_DestroyRenderer(r->ren);
    if (r->win)
        SDL_DestroyWindow(r->win);
    r->ren = NULL;
    r->win = NULL;
    r->win_surf = NULL;
    r->bg_by_window = false;
}

struct render *render_open_window(const struct cfg_display *d, int width, int height, char *err,
                                  size_t errlen)
{
    struct render *r = render_alloc(err, errlen);
    if (!r)
        return NULL;
    r->size_w = width;
    r->size_h = height;
    /* A kiosk never blanks: SDL would otherwise allow the screensaver. */
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "0");
    if (render_probe_video_init(err, errlen) < 0) {
        render_close(r);
        return NULL;
    }
    r->video_inited = true;
    snprintf(r->driver, sizeof r->driver, "%s", SDL_GetCurrentVideoDriver());
    SDL_DisableScreenSaver();

    int screens = SDL_GetNumVideoDisplays();
    int screen = d->screen;
    if (screen >= screens) {
        kt_log_warn("display: screen %d does not exist (%d found), using screen 0", screen,
                    screens);
        screen = 0;
    }
    /* SDL names this driver "KMSDRM": compare driver names without case. */
    if (strcasecmp(r->driver, "kmsdrm") == 0) {
        /* KMSDRM draws through EGL with OpenGL ES, the API of a Pi's GPU
         * (and of Mesa on GBM): SDL's desktop-OpenGL renderer cannot draw
         * there (the screen stays black), and SDL shows a software
         * window surface through a GL renderer too. Both default to GLES 2;
         * the user may still choose with SDL_RENDER_DRIVER and
         * SDL_FRAMEBUFFER_ACCELERATION. */
        SDL_SetHintWithPriority(SDL_HINT_RENDER_DRIVER, "opengles2", SDL_HINT_DEFAULT);
        SDL_SetHintWithPriority(SDL_HINT_FRAMEBUFFER_ACCELERATION, "opengles2", SDL_HINT_DEFAULT);
    }

    const char *want = getenv("KT_RENDERER");
    bool software;
    const char *why;
    if (want && strcmp(want, "software") == 0) {
        software = true;
        why = "KT_RENDERER=software";
    } else if (want && strcmp(want, "accelerated") == 0) {
        software = false;
        why = "KT_RENDERER=accelerated";
    } else if (strcasecmp(r->driver, "dummy") == 0 || strcasecmp(r->driver, "offscreen") == 0) {
        software = true;
        why = "no display hardware";
    } else {
        software = !render_probe_may_have_gpu(&why);
    }
    if (want && *want && strcmp(want, "software") != 0 && strcmp(want, "accelerated") != 0)
        kt_log_warn("display: KT_RENDERER=%s is neither software nor accelerated: ignored", want);

    if (render_create_renderer(r, d, screen, software, err, errlen) < 0) {
        if (software) {
            render_close(r);
            return NULL;
        }
        kt_log_warn("display: %s; trying software rendering", err);
        render_destroy_window(r);
        software = true;
        why = "accelerated renderer failed";
        if (render_create_renderer(r, d, screen, true, err, errlen) < 0) {
            render_close(r);
            return NULL;
        }
    }
    render_read_info(r);
    if (r->win_surf)
        r->vsync = false; /* presents return at once: display_run paces */
    const char *gl = software ? NULL : render_probe_gl_renderer();
    if (!software && !(want && strcmp(want, "accelerated") == 0) &&
        render_probe_is_software_gl(gl)) {
        /* Mesa's software GL costs several times the CPU and memory of
         * SDL's own software renderer for a scrolling strip. Start again
         * without GL (destroying the GL window unloads the GL library). */
        kt_log_info("display: OpenGL is %s (no GPU acceleration): using software rendering", gl);
        render_destroy_window(r);
        software = true;
        why = "software OpenGL";
        gl = NULL;
        if (render_create_renderer(r, d, screen, true, err, errlen) < 0) {
            render_close(r);
            return NULL;
        }
        r->tile_w = RENDER_TILE_W;
        render_read_info(r);
        if (r->win_surf)
            r->vsync = false;
    }
    SDL_ShowCursor(SDL_DISABLE);
    r->mode = d->mode;
    r->screen = screen;
    render_update_refresh(r);
    render_update_size(r);
    char hz[32] = "unknown";
    if (r->refresh_hz > 0)
        snprintf(hz, sizeof hz, "%.0f Hz", r->refresh_hz);
    kt_log_info("display: %dx%d %s on screen %d, video %s, renderer %s%s%s (%s)%s, refresh %s",
                r->w, r->h, d->mode == MODE_FULLSCREEN ? "fullscreen" : "window", screen, r->driver,
                r->renderer_name, gl ? " on " : "", gl ? gl : "", why,
                r->win_surf ? ", into the window surface"
                : r->vsync  ? ", vsync"
                            : "",
                hz);
    return r;
}

void render_close(struct render *r)
{
    if (!r)
        return;
    /* One-shots wait for the item in hand (a few ms); the kiosk never
     * waits for another thread: the worker then finishes on its own. */
    textworker_stop(r->worker, r->sync);
    render_background_close(r);
    textworker_stop(r->al.worker, r->sync);
    render_alert_items_free(r);
    render_destroy_texture(r, &r->al.sep_tex);
    SDL_FreeSurface(r->al.sep_surf);
    if (r->al.snap)
        store_snapshot_release(r->al.snap);
    render_ready_clear(r);
    render_flush_slots(r);
    render_destroy_texture(r, &r->sep_tex);
    SDL_FreeSurface(r->sep_surf);
    free(r->slots);
    scroll_layout_free(&r->layout);
    if (r->snap)
        store_snapshot_release(r->snap);
    free(r->font_name);
    free(r->separator);
    free(r->idle_text);
    render_clock_drop(r);
    free(r->clock_fmt);
    if (r->rot_tex)
        SDL_DestroyTexture(r->rot_tex);
    SDL_FreeSurface(r->rot_surf);
    if (r->win)
        render_destroy_window(r);
    else if (r->ren)
        SDL_DestroyRenderer(r->ren);
    if (r->video_inited)
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    free(r);
}

/* ---- modes, for one-shots, the benchmark and tests ---- */

void render_set_sync(struct render *r, bool sync)
{
    r->sync = sync;
    r->layout.patient = sync;
}

void render_set_warmup(struct render *r, bool on)
{
    r->warmup = on;
}

void render_wait_text(struct render *r, int timeout_ms)
{
    if (!textworker_has_results(r->worker))
        textworker_wait(r->worker, timeout_ms);
}

int render_wait_worker(struct render *r, int timeout_ms)
{
    return textworker_wait_idle(r->worker, timeout_ms);
}

void render_pause_worker(struct render *r, bool paused)
{
    textworker_pause(r->worker, paused);
}

void render_limit_texture_width(struct render *r, int px)
{
    r->tile_limit = px;
    if (px > 0 && px < r->tile_w) {
        r->tile_w = px;
        render_update_tile_w(r);
        render_textures_lost(r);
    }
}

/* ---- accessors ---- */

void render_get_stats(const struct render *r, struct render_stats *s)
{
    size_t live = 0;
    for (size_t i = 0; i < r->n_slots; i++)
        live += r->slots[i].live;
    *s = (struct render_stats){.textures_alive = r->textures_alive,
                               .textures_max = r->textures_max,
                               .slots_alive = live,
                               .ready = r->n_ready,
                               .results = r->results,
                               .uploads = r->uploads,
                               .textures_created = r->created,
                               .textures_destroyed = r->destroyed,
                               .placed = r->layout.placed,
                               .shown = r->shown,
                               .frames = r->frame,
                               .not_ready_frames = r->not_ready_frames,
                               .tape_waits = r->layout.waits,
                               .worker_items = textworker_items(r->worker),
                               .worker_cpu_ns = textworker_cpu_ns(r->worker)};
}

void render_get_geometry(const struct render *r, struct render_geometry *g)
{
    *g = (struct render_geometry){.w = r->w,
                                  .h = r->h,
                                  .strip_y = r->strip_y,
                                  .strip_h = r->strip_h,
                                  .text_y = r->text_y,
                                  .line_h = r->line_h,
                                  .gap = r->sep_w,
                                  .origin = r->origin,
                                  .tile_w = r->tile_w,
                                  .tape_x = r->tx,
                                  .tape_w = r->tw};
}

const struct scroll_layout *render_layout(const struct render *r)
{
    return &r->layout;
}

double render_refresh_hz(const struct render *r)
{
    return r->refresh_hz;
}

SDL_Renderer *render_sdl_renderer(const struct render *r)
{
    return r->ren;
}

SDL_Window *render_sdl_window(const struct render *r)
{
    return r->win;
}
