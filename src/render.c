/*
 * render: see render.h.
 *
 * Per frame: advance the layout (scroll.c), clear, fill the strip, copy
 * the textures of the entries on screen at sub-pixel positions, release
 * the textures of entries that have left. Everything a frame touches is
 * preallocated; texture creation happens only when a headline enters.
 *
 * Texture cache: a slot holds one rasterised headline, keyed by headline
 * id and the serial of the list it was placed from (a new snapshot may
 * relabel an id, and entries kept on screen across a swap must still find
 * theirs). A slot is split into tiles no wider than the renderer's
 * maximum texture width (2048 on a Raspberry Pi 3's VC4): long headlines
 * at big sizes exceed it.
 */
#include "render.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <SDL_syswm.h>
#ifdef SDL_VIDEO_DRIVER_X11
#include <X11/Xatom.h>
#endif

#include "config.h"
#include "font.h"
#include "log.h"
#include "scroll.h"
#include "store.h"
#include "util.h"

#define RENDER_MAX_TILES 16
#define RENDER_TILE_W 4096 /* when the renderer states no limit */
#define RENDER_IDLE_ID 0x1d1e1d1e1d1e1d1eULL

struct render_slot {
    uint64_t id;
    uint32_t list;
    bool live;
    bool shown; /* drawn on screen at least once */
    int w, h, n_tiles;
    uint64_t used; /* last frame that needed it */
    SDL_Texture *tile[RENDER_MAX_TILES];
};

struct render_copy {
    SDL_Texture *tex;
    SDL_FRect dst;
};

struct render {
    SDL_Window *win; /* NULL when drawing into a surface */
    SDL_Renderer *ren;
    /* Software rendering straight into the window's surface, so a frame
     * sends only the strip to the screen (a fullscreen kiosk's strip is a
     * tenth of the window); NULL otherwise. */
    SDL_Surface *win_surf;
    SDL_Surface *target; /* render_open_surface's */
    bool full_update;    /* the whole window must be drawn and sent */
    /* Window surface, opaque background: the rows of the strip that text
     * has drawn into since the last full update. Only they change from
     * frame to frame, so only they are filled and sent (about half the
     * strip). banded: this frame does so. */
    int band_y0, band_y1;
    bool banded;
    bool failed; /* lost the renderer: display_run gives up */
    bool video_inited;
    char driver[32], renderer_name[32];
    int tile_w;
    bool whole_px; /* the renderer truncates positions: floor them first */
    double refresh_hz;
    bool vsync;
    int size_w, size_h; /* --size override (window mode) */

    /* look */
    struct font_set *font;
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

    /* geometry */
    int w, h, strip_y, strip_h, text_y, line_h, origin;
    SDL_Texture *sep_tex;
    int sep_w;

    /* what is shown */
    struct scroll_clock clock;
    struct scroll_layout layout;
    const struct store_snapshot *snap;
    bool idle;
    double last_hi; /* entry edge (tape) of the last frame drawn */
    bool drawn;

    struct render_slot *slots;
    size_t n_slots, cap_slots;
    size_t textures_alive, textures_max;
    uint64_t frame, rasterised, created, destroyed, shown;

    bool record;
    struct render_copy *rec;
    size_t n_rec, cap_rec;
};

static void render_make_separator(struct render *r);

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
    for (int i = 0; i < s->n_tiles; i++)
        render_destroy_texture(r, &s->tile[i]);
    s->n_tiles = 0;
    s->live = false;
}

static void render_flush_slots(struct render *r)
{
    for (size_t i = 0; i < r->n_slots; i++)
        if (r->slots[i].live)
            render_slot_release(r, &r->slots[i]);
    r->n_slots = 0;
}

/* The surface the software renderer draws into (the window's, or the
 * caller's), or NULL for a GPU renderer. */
static SDL_Surface *render_target(const struct render *r)
{
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

/* Over an opaque background, text is drawn onto that colour once, as it
 * is rasterised: its textures are then opaque and a frame copies them
 * instead of blending them (the same pixels; blending was most of a
 * software frame's cost once the fill was plain, bench/README.md).
 * Returns the new surface, or NULL to upload s as it is (with blending). */
static SDL_Surface *render_flatten(const struct render *r, SDL_Surface *s)
{
    if (r->bg.a != 255)
        return NULL;
    SDL_Surface *flat = SDL_CreateRGBSurfaceWithFormat(0, s->w, s->h, 32, render_opaque_format(r));
    if (!flat)
        return NULL;
    SDL_FillRect(flat, NULL, SDL_MapRGBA(flat->format, r->bg.r, r->bg.g, r->bg.b, 255));
    SDL_SetSurfaceBlendMode(s, SDL_BLENDMODE_BLEND);
    SDL_BlitSurface(s, NULL, flat, NULL);
    return flat;
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

/* Uploads a rasterised line into the slot's tiles. The surface is ARGB8888
 * (font.h promises it); anything else is converted first. */
static void render_slot_fill(struct render *r, struct render_slot *slot, SDL_Surface *s)
{
    SDL_Surface *conv = NULL;
    if (s->format->format != SDL_PIXELFORMAT_ARGB8888) {
        conv = SDL_ConvertSurfaceFormat(s, SDL_PIXELFORMAT_ARGB8888, 0);
        if (!conv)
            return;
        s = conv;
    }
    SDL_Surface *flat = render_flatten(r, s);
    if (flat)
        s = flat;
    int n = (s->w + r->tile_w - 1) / r->tile_w;
    if (n > RENDER_MAX_TILES) {
        kt_log_warn("display: a headline %d px wide is cut at %d px", s->w,
                    RENDER_MAX_TILES * r->tile_w);
        n = RENDER_MAX_TILES;
    }
    slot->w = s->w;
    slot->h = s->h;
    for (int i = 0; i < n; i++) {
        int x = i * r->tile_w;
        int w = s->w - x < r->tile_w ? s->w - x : r->tile_w;
        slot->tile[i] = render_upload(r, s, x, w, flat != NULL);
        if (!slot->tile[i])
            break;
        slot->n_tiles = i + 1;
    }
    SDL_FreeSurface(flat);
    SDL_FreeSurface(conv);
}

/* ---- text of an entry ---- */

static size_t render_spans(const struct render *r, size_t index, struct text_span sp[3])
{
    if (r->idle) {
        sp[0] = (struct text_span){r->idle_text ? r->idle_text : "", r->fg};
        return 1;
    }
    const struct headline *h = &r->snap->items[index];
    size_t n = 0;
    if (h->label && *h->label) {
        sp[n++] = (struct text_span){h->label, r->label};
        sp[n++] = (struct text_span){"  ", r->fg};
    }
    sp[n++] = (struct text_span){h->title ? h->title : "", r->fg};
    return n;
}

static bool render_spans_empty(const struct text_span *sp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sp[i].text[0])
            return false;
    return true;
}

static int32_t render_measure(void *ctx, size_t index)
{
    struct render *r = ctx;
    struct text_span sp[3];
    size_t n = render_spans(r, index, sp);
    if (render_spans_empty(sp, n))
        return 0;
    return font_measure_line(r->font, sp, n);
}

/* ---- slots ---- */

static struct render_slot *render_slot_find(struct render *r, struct scroll_entry *e)
{
    if (e->user >= 0 && (size_t)e->user < r->n_slots) {
        struct render_slot *s = &r->slots[e->user];
        if (s->live && s->id == e->id && s->list == e->list)
            return s;
    }
    for (size_t i = 0; i < r->n_slots; i++) {
        struct render_slot *s = &r->slots[i];
        if (s->live && s->id == e->id && s->list == e->list) {
            e->user = (int32_t)i;
            return s;
        }
    }
    return NULL;
}

static struct render_slot *render_slot_new(struct render *r)
{
    for (size_t i = 0; i < r->n_slots; i++)
        if (!r->slots[i].live)
            return &r->slots[i];
    if (r->n_slots == r->cap_slots) {
        /* Grows only while the most headlines ever on screen grows. */
        r->cap_slots = r->cap_slots ? r->cap_slots * 2 : 32;
        r->slots = kt_realloc(r->slots, r->cap_slots * sizeof *r->slots);
    }
    return &r->slots[r->n_slots++];
}

/* Rasterises the entry (its list must be the current one: older lists'
 * strings are gone, and their entries got their slots while on screen). */
static struct render_slot *render_rasterise(struct render *r, struct scroll_entry *e)
{
    if (e->list != r->layout.serial)
        return NULL;
    struct render_slot *slot = render_slot_new(r);
    size_t idx = (size_t)(slot - r->slots);
    memset(slot, 0, sizeof *slot);
    slot->id = e->id;
    slot->list = e->list;
    slot->live = true;
    e->user = (int32_t)idx;

    struct text_span sp[3];
    size_t n = render_spans(r, e->index, sp);
    if (render_spans_empty(sp, n))
        return slot; /* nothing to draw, nothing to rasterise */
    char err[KT_ERR_MAX];
    SDL_Surface *s = font_render_line(r->font, sp, n, err, sizeof err);
    r->rasterised++;
    if (!s) {
        /* Kept as an empty slot: no retry (and no log line) every frame. */
        kt_log_warn("display: cannot draw a headline: %s", err);
        return slot;
    }
    render_slot_fill(r, slot, s);
    SDL_FreeSurface(s);
    return slot;
}

/* ---- drawing ---- */

/* Copies a texture to dst. An opaque one drawn in software into a known
 * surface is copied row by row with memcpy, clipped to the strip: SDL's
 * own copy picks its loop by alignment, and on x86 the 8-byte loop it
 * mostly took was a quarter of the kiosk's CPU (bench/README.md). */
static void render_draw(struct render *r, SDL_Texture *t, const SDL_FRect *dst)
{
    SDL_Surface *target = render_target(r);
    SDL_BlendMode mode;
    Uint32 format;
    int access, tw, th;
    void *pixels;
    int pitch;
    if (!target || SDL_GetTextureBlendMode(t, &mode) < 0 || mode != SDL_BLENDMODE_NONE ||
        SDL_QueryTexture(t, &format, &access, &tw, &th) < 0 ||
        access != SDL_TEXTUREACCESS_STREAMING || format != target->format->format ||
        (float)tw != dst->w || (float)th != dst->h) {
        SDL_RenderCopyF(r->ren, t, NULL, dst);
        return;
    }
    int x = (int)floorf(dst->x), y = (int)floorf(dst->y), sx = 0, sy = 0, w = tw, h = th;
    int y_end = r->strip_y + r->strip_h < target->h ? r->strip_y + r->strip_h : target->h;
    if (x < 0) {
        sx = -x;
        w += x;
        x = 0;
    }
    if (x + w > target->w)
        w = target->w - x;
    if (y < r->strip_y) {
        sy = r->strip_y - y;
        h -= sy;
        y = r->strip_y;
    }
    if (y + h > y_end)
        h = y_end - y;
    if (w <= 0 || h <= 0 || SDL_LockTexture(t, NULL, &pixels, &pitch) < 0)
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
    SDL_UnlockTexture(t);
}

static void render_copy(struct render *r, SDL_Texture *t, float x, float y, float w, float h)
{
    /* SDL's software renderer truncates toward zero, which would move a
     * texture crossing the left edge by a pixel against its neighbours. */
    if (r->whole_px)
        x = floorf(x);
    SDL_FRect dst = {x, y, w, h};
    if (x >= (float)r->w || x + w <= 0)
        return;
    render_draw(r, t, &dst);
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
    if (r->record) {
        if (r->n_rec == r->cap_rec) {
            r->cap_rec = r->cap_rec ? r->cap_rec * 2 : 64;
            r->rec = kt_realloc(r->rec, r->cap_rec * sizeof *r->rec);
        }
        r->rec[r->n_rec++] = (struct render_copy){t, dst};
    }
}

static void render_background(struct render *r)
{
    SDL_Rect strip = {0, r->strip_y, r->w, r->strip_h};
    r->banded = r->win_surf && !r->full_update && r->bg.a == 255 && r->band_y1 > r->band_y0;
    if (!r->banded)
        r->band_y0 = r->band_y1 = 0; /* drawn whole: the copies make it again */
    SDL_SetRenderDrawBlendMode(r->ren, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(r->ren, 0, 0, 0, 255);
    /* Into the window surface, the black around the strip stays drawn;
     * a strip as high as the output leaves nothing around it to clear. */
    if ((!r->win_surf || r->full_update) && r->strip_h < r->h)
        SDL_RenderClear(r->ren);
    if (r->bg.a == 255) {
        /* An opaque background is one plain fill. Blending it over black
         * gives the same pixels, but SDL's software blended fill was 87 %
         * of a frame's instructions (bench/README.md). */
        SDL_Rect band = {0, r->band_y0, r->w, r->band_y1 - r->band_y0};
        SDL_SetRenderDrawColor(r->ren, r->bg.r, r->bg.g, r->bg.b, 255);
        SDL_RenderFillRect(r->ren, r->banded ? &band : &strip);
    } else {
        /* A translucent background blends over the black around it. */
        if (r->win_surf && !r->full_update)
            SDL_RenderFillRect(r->ren, &strip);
        SDL_SetRenderDrawBlendMode(r->ren, SDL_BLENDMODE_BLEND);
        SDL_SetRenderDrawColor(r->ren, r->bg.r, r->bg.g, r->bg.b, r->bg.a);
        SDL_RenderFillRect(r->ren, &strip);
    }
    /* Text never spills out of the strip, even in a strip lower than it. */
    SDL_RenderSetClipRect(r->ren, &strip);
    /* Now: render_draw writes into the surface directly, after the fill. */
    if (render_target(r))
        SDL_RenderFlush(r->ren);
}

double render_offset(const struct render *r, double t)
{
    double off = scroll_clock_offset(&r->clock, t);
    /* Snapped speed moves whole pixels per refresh: whole-pixel positions
     * then give perfectly even steps (crisper text). */
    return r->snap_speed && r->refresh_hz > 0 ? round(off) : off;
}

/* Screen x of tape coordinate u's column for something w px wide. */
static double render_screen_x(const struct render *r, double u, double off, double w)
{
    if (r->direction == DIR_RIGHT)
        return (double)r->w - (u - off) - w;
    return u - off;
}

void render_frame(struct render *r, double t)
{
    if (!r->ren)
        return;
    double lo = render_offset(r, t);
    double hi = lo + r->w;
    /* Look ahead half a second (at least 64 px) so a headline is usually
     * rasterised a few frames before it shows, one per frame. */
    double ahead = r->speed * 0.5 > 64 ? r->speed * 0.5 : 64;
    scroll_layout_advance(&r->layout, lo, hi + ahead);
    r->frame++;
    r->n_rec = 0;

    render_background(r);
    int budget = 1;
    struct scroll_layout *l = &r->layout;
    for (size_t i = 0; i < l->n; i++) {
        struct scroll_entry *e = &l->e[i];
        double end = (double)(e->start + e->width + l->gap);
        bool visible = (double)e->start < hi && end > lo;
        struct render_slot *slot = render_slot_find(r, e);
        if (!slot && (visible || budget > 0)) {
            if (!visible)
                budget--;
            slot = render_rasterise(r, e);
        }
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
            for (int k = 0; k < slot->n_tiles; k++) {
                int tw = slot->w - k * r->tile_w < r->tile_w ? slot->w - k * r->tile_w : r->tile_w;
                render_copy(r, slot->tile[k], (float)(x + (double)k * r->tile_w), y, (float)tw,
                            (float)slot->h);
            }
        }
        if (r->sep_tex) {
            double x = render_screen_x(r, (double)(e->start + e->width), lo, r->sep_w);
            render_copy(r, r->sep_tex, (float)x, y, (float)r->sep_w, (float)r->line_h);
        }
    }
    SDL_RenderSetClipRect(r->ren, NULL);

    /* Freed as soon as a headline has left (and its separator with it). */
    for (size_t i = 0; i < r->n_slots; i++)
        if (r->slots[i].live && r->slots[i].used != r->frame)
            render_slot_release(r, &r->slots[i]);
    while (r->n_slots > 0 && !r->slots[r->n_slots - 1].live)
        r->n_slots--;

    r->last_hi = hi;
    r->drawn = true;
}

void render_present(struct render *r)
{
    if (!r->ren)
        return;
    if (r->win_surf) {
        SDL_Rect strip = {0, r->strip_y, r->w, r->strip_h};
        SDL_Rect band = {0, r->band_y0, r->w, r->band_y1 - r->band_y0};
        if (r->full_update)
            SDL_UpdateWindowSurface(r->win);
        else
            SDL_UpdateWindowSurfaceRects(r->win, r->banded ? &band : &strip, 1);
        r->full_update = false;
        return;
    }
    SDL_RenderPresent(r->ren);
}

bool render_paced(const struct render *r)
{
    return !r->win_surf && r->vsync;
}

bool render_failed(const struct render *r)
{
    return r->failed;
}

/* The window surface is replaced on every resize: a new software renderer
 * for the new one, and the text rasterised again (textures belong to a
 * renderer). */
static void render_rebind_surface(struct render *r)
{
    render_flush_slots(r);
    render_destroy_texture(r, &r->sep_tex);
    SDL_DestroyRenderer(r->ren);
    r->win_surf = SDL_GetWindowSurface(r->win);
    r->ren = r->win_surf ? SDL_CreateSoftwareRenderer(r->win_surf) : NULL;
    if (!r->ren) {
        kt_log_error("display: lost the window surface: %s", SDL_GetError());
        r->failed = true;
        return;
    }
    r->full_update = true;
    render_make_separator(r);
    scroll_layout_reflow(&r->layout, r->drawn ? r->last_hi - r->w : 0, r->layout.gap);
}

void render_record(struct render *r, bool on)
{
    /* Reserved now so that the recorded frame allocates nothing: each
     * entry on screen makes at most its tiles and a separator copy. */
    size_t need = r->layout.n * (RENDER_MAX_TILES + 1) + 16;
    if (on && r->cap_rec < need) {
        r->cap_rec = need;
        r->rec = kt_realloc(r->rec, r->cap_rec * sizeof *r->rec);
    }
    r->record = on;
}

void render_replay(struct render *r)
{
    render_background(r);
    for (size_t i = 0; i < r->n_rec; i++)
        render_draw(r, r->rec[i].tex, &r->rec[i].dst);
    SDL_RenderSetClipRect(r->ren, NULL);
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
        ids[i] = r->idle ? RENDER_IDLE_ID : snap->items[i].id;
    /* The splice edge is the last frame drawn: everything kept has been
     * on screen, so has its textures; the old strings may go now. */
    scroll_layout_adopt(&r->layout, ids, n, r->drawn ? r->last_hi : -INFINITY);
    free(ids);
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

static void render_update_size(struct render *r)
{
    if (r->win)
        SDL_GetRendererOutputSize(r->ren, &r->w, &r->h);
}

static void render_update_geometry(struct render *r)
{
    render_update_size(r);
    r->line_h = font_set_line_height(r->font);
    int h = r->height_cfg > 0 ? r->height_cfg : r->line_h + r->line_h / 2;
    if (h > r->h)
        h = r->h;
    if (r->position == POS_FILL)
        h = r->h;
    r->strip_h = h;
    r->strip_y = r->position == POS_BOTTOM ? r->h - h : 0;
    r->text_y = r->strip_y + (h - r->line_h) / 2;
    /* The strip may have moved: draw and send everything once. */
    r->full_update = true;
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

static void render_make_separator(struct render *r)
{
    render_destroy_texture(r, &r->sep_tex);
    r->sep_w = 0;
    if (!r->separator || !*r->separator)
        return;
    struct text_span sp = {r->separator, r->fg};
    r->sep_w = font_measure_line(r->font, &sp, 1);
    char err[KT_ERR_MAX];
    SDL_Surface *s = font_render_line(r->font, &sp, 1, err, sizeof err);
    if (!s) {
        kt_log_warn("display: cannot draw the separator: %s", err);
        return;
    }
    SDL_Surface *flat = render_flatten(r, s);
    /* The separator is narrow: one texture, whatever the tile width. */
    r->sep_tex =
        render_upload(r, flat ? flat : s, 0, s->w < r->tile_w ? s->w : r->tile_w, flat != NULL);
    r->sep_w = s->w;
    SDL_FreeSurface(flat);
    SDL_FreeSurface(s);
}

static void render_apply_window(struct render *r, const struct cfg_display *d)
{
    if (!r->win)
        return;
    int screens = SDL_GetNumVideoDisplays();
    int screen = d->screen < screens ? d->screen : 0;
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

int render_apply(struct render *r, const struct cfg_display *d, double t, char *err, size_t errlen)
{
    int rc = 0;
    bool first = !r->applied;
    double off = first ? 0 : render_offset(r, t);
    bool font_changed = first || !kt_str_eq(d->font, r->font_name) || d->font_size != r->font_px;
    if (font_changed) {
        char why[KT_ERR_MAX];
        struct font_set *fs = font_set_open(d->font, d->font_size, why, sizeof why);
        if (!fs && first)
            return kt_error(err, errlen, "%s", why);
        if (!fs) {
            rc = kt_error(err, errlen, "%s (keeping %s)", why, font_set_main_path(r->font));
            font_changed = false;
        } else {
            font_set_close(r->font);
            r->font = fs;
            free(r->font_name);
            r->font_name = kt_strdup(d->font);
            r->font_px = d->font_size;
            kt_log_info("display: font %s at %d px (line height %d)", font_set_main_path(fs),
                        d->font_size, font_set_line_height(fs));
        }
    }
    bool text_changed = font_changed || !kt_str_eq(d->separator, r->separator) ||
                        !kt_str_eq(d->idle_text, r->idle_text) ||
                        !render_color_eq(render_color(d->foreground), r->fg) ||
                        !render_color_eq(render_color(d->label_color), r->label) ||
                        /* opaque text is drawn onto the background */
                        !render_color_eq(render_color(d->background), r->bg);
    free(r->separator);
    r->separator = kt_strdup(d->separator);
    free(r->idle_text);
    r->idle_text = kt_strdup(d->idle_text);
    r->bg = render_color(d->background);
    r->fg = render_color(d->foreground);
    r->label = render_color(d->label_color);
    r->position = d->position;
    r->direction = d->direction;
    r->height_cfg = d->height;

    render_apply_window(r, d);
    if (r->win && !r->win_surf && !first && d->vsync != r->vsync) {
        SDL_RenderSetVSync(r->ren, d->vsync);
        r->vsync = d->vsync;
    }
    render_update_geometry(r);

    if (text_changed) {
        render_flush_slots(r);
        render_make_separator(r);
        if (first) {
            /* The tape starts half a line in from the edge the text leaves by. */
            r->origin = r->line_h / 2;
            scroll_layout_init(&r->layout, r->origin, r->sep_w, render_measure, r);
        } else {
            /* New widths: the first headline on screen keeps its place. */
            scroll_layout_reflow(&r->layout, off, r->sep_w);
        }
    }
    r->speed = d->speed;
    r->snap_speed = d->snap_speed;
    if (first)
        scroll_clock_init(&r->clock, render_effective_speed(r));
    else
        scroll_clock_set_speed(&r->clock, t, render_effective_speed(r));
    r->applied = true;
    return rc;
}

void render_handle_event(struct render *r, const SDL_Event *ev)
{
    if (ev->type == SDL_RENDER_DEVICE_RESET) {
        /* The textures are gone with the device: rasterise again. */
        kt_log_warn("display: render device reset, redrawing the text");
        render_flush_slots(r);
        scroll_layout_reflow(&r->layout, r->drawn ? r->last_hi - r->w : 0, r->layout.gap);
        render_make_separator(r);
    } else if (ev->type == SDL_WINDOWEVENT && r->win &&
               ev->window.windowID == SDL_GetWindowID(r->win)) {
        if (ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED) {
            if (r->win_surf)
                render_rebind_surface(r);
            if (!r->ren)
                return;
            render_update_geometry(r);
            kt_log_info("display: output is now %dx%d", r->w, r->h);
        } else if (ev->window.event == SDL_WINDOWEVENT_DISPLAY_CHANGED) {
            render_update_refresh(r);
        } else if (ev->window.event == SDL_WINDOWEVENT_EXPOSED) {
            r->full_update = true;
        }
    }
}

/* ---- opening ---- */

static struct render *render_alloc(void)
{
    struct render *r = kt_calloc(1, sizeof *r);
    r->tile_w = RENDER_TILE_W;
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
        r->vsync = (info.flags & SDL_RENDERER_PRESENTVSYNC) != 0;
    }
}

struct render *render_open_surface(SDL_Surface *target, char *err, size_t errlen)
{
    struct render *r = render_alloc();
    r->ren = SDL_CreateSoftwareRenderer(target);
    if (!r->ren) {
        kt_error(err, errlen, "software renderer: %s", SDL_GetError());
        render_close(r);
        return NULL;
    }
    snprintf(r->driver, sizeof r->driver, "none");
    render_read_info(r);
    r->target = target;
    r->w = target->w;
    r->h = target->h;
    return r;
}

/* Is there a GPU that may do OpenGL in hardware? No DRM device at all, or
 * only display-only ones (VM and server consoles, USB and SPI panels),
 * means no: trying OpenGL then only loads Mesa's software rasteriser, and
 * Mesa stays mapped (tens of MB) even after the fallback. Unknown drivers
 * count as maybe: the GL_RENDERER check decides. */
static bool render_may_have_gpu(const char **why)
{
    static const char *const display_only[] = {"simpledrm",  "simple-framebuffer",
                                               "vkms",       "vgem",
                                               "bochs-drm",  "bochs",
                                               "cirrus",     "cirrus-qemu",
                                               "ast",        "mgag200",
                                               "hyperv_drm", "udl",
                                               "gm12u320",   "efifb",
                                               "vesafb"};
    DIR *d = opendir("/dev/dri");
    if (!d) {
        *why = "no GPU device in /dev/dri";
        return false;
    }
    bool any = false;
    struct dirent *de;
    while (!any && (de = readdir(d)))
        any = strncmp(de->d_name, "card", 4) == 0 || strncmp(de->d_name, "renderD", 7) == 0;
    closedir(d);
    if (!any) {
        *why = "no GPU device in /dev/dri";
        return false;
    }
    d = opendir("/sys/class/drm");
    if (!d) {
        *why = "GPU device found";
        return true;
    }
    bool maybe = false, seen = false;
    while (!maybe && (de = readdir(d))) {
        if (strncmp(de->d_name, "card", 4) != 0 || strchr(de->d_name, '-'))
            continue; /* connectors are card0-HDMI-A-1 and the like */
        char link[300], target[256];
        snprintf(link, sizeof link, "/sys/class/drm/%s/device/driver", de->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0) {
            maybe = true;
            continue;
        }
        target[n] = '\0';
        const char *name = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
        bool known2d = false;
        for (size_t i = 0; i < sizeof display_only / sizeof display_only[0]; i++)
            known2d |= strcmp(name, display_only[i]) == 0;
        seen = true;
        maybe = !known2d;
    }
    closedir(d);
    *why = maybe || !seen ? "GPU device found" : "display-only DRM devices";
    return maybe || !seen;
}

/* Name of the OpenGL implementation behind the current context, if any. */
static const char *render_gl_renderer(void)
{
    typedef const unsigned char *(*get_string_fn)(unsigned int);
    if (!SDL_GL_GetCurrentContext())
        return NULL;
    get_string_fn get_string = (get_string_fn)SDL_GL_GetProcAddress("glGetString");
    return get_string ? (const char *)get_string(0x1F01 /* GL_RENDERER */) : NULL;
}

static bool render_is_software_gl(const char *gl)
{
    static const char *const soft[] = {"llvmpipe", "softpipe", "swrast", "software"};
    if (!gl)
        return false;
    char low[256];
    size_t n = 0;
    for (; gl[n] && n < sizeof low - 1; n++)
        low[n] = (char)tolower((unsigned char)gl[n]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof soft / sizeof soft[0]; i++)
        if (strstr(low, soft[i]))
            return true;
    return false;
}

/* Does the X server have a window manager (the EWMH check window on its
 * root)? Asked through a hidden probe window; Xlib through dlsym, as SDL
 * has loaded it and the program need not link it. Unknown counts as yes. */
static bool render_x11_has_wm(void)
{
#ifdef SDL_VIDEO_DRIVER_X11
    typedef Atom (*intern_fn)(Display *, const char *, Bool);
    typedef Window (*root_fn)(Display *);
    typedef int (*prop_fn)(Display *, Window, Atom, long, long, Bool, Atom, Atom *, int *,
                           unsigned long *, unsigned long *, unsigned char **);
    typedef int (*free_fn)(void *);
    intern_fn intern = (intern_fn)dlsym(RTLD_DEFAULT, "XInternAtom");
    root_fn root = (root_fn)dlsym(RTLD_DEFAULT, "XDefaultRootWindow");
    prop_fn prop = (prop_fn)dlsym(RTLD_DEFAULT, "XGetWindowProperty");
    free_fn xfree = (free_fn)dlsym(RTLD_DEFAULT, "XFree");
    if (!intern || !root || !prop || !xfree)
        return true;
    SDL_Window *probe = SDL_CreateWindow("", 0, 0, 1, 1, SDL_WINDOW_HIDDEN);
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    bool wm = true;
    if (probe && SDL_GetWindowWMInfo(probe, &info) && info.subsystem == SDL_SYSWM_X11) {
        Display *dpy = info.info.x11.display;
        Atom check = intern(dpy, "_NET_SUPPORTING_WM_CHECK", True);
        Atom type = None;
        int format = 0;
        unsigned long n = 0, left = 0;
        unsigned char *data = NULL;
        if (check == None)
            wm = false; /* no EWMH window manager ever ran on this server */
        else if (prop(dpy, root(dpy), check, 0, 1, False, XA_WINDOW, &type, &format, &n, &left,
                      &data) == Success)
            wm = n == 1 && data;
        if (data)
            xfree(data);
    }
    if (probe)
        SDL_DestroyWindow(probe);
    return wm;
#else
    return true;
#endif
}

static SDL_Window *render_create_window(const struct render *r, const struct cfg_display *d,
                                        int screen)
{
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
        if (strcmp(r->driver, "x11") == 0 && !render_x11_has_wm())
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
    if (software && strcmp(r->driver, "x11") == 0)
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
}

struct render *render_open_window(const struct cfg_display *d, int width, int height, char *err,
                                  size_t errlen)
{
    struct render *r = render_alloc();
    r->size_w = width;
    r->size_h = height;
    /* A kiosk never blanks: SDL would otherwise allow the screensaver. */
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "0");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) < 0) {
        kt_error(err, errlen, "cannot start video: %s", SDL_GetError());
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
    if (strcmp(r->driver, "kmsdrm") == 0)
        /* On a Pi's KMS the GPU's native API is GLES 2; the user may still
         * choose with SDL_RENDER_DRIVER. */
        SDL_SetHintWithPriority(SDL_HINT_RENDER_DRIVER, "opengles2", SDL_HINT_DEFAULT);

    const char *want = getenv("KT_RENDERER");
    bool software;
    const char *why;
    if (want && strcmp(want, "software") == 0) {
        software = true;
        why = "KT_RENDERER=software";
    } else if (want && strcmp(want, "accelerated") == 0) {
        software = false;
        why = "KT_RENDERER=accelerated";
    } else if (strcmp(r->driver, "dummy") == 0 || strcmp(r->driver, "offscreen") == 0) {
        software = true;
        why = "no display hardware";
    } else {
        software = !render_may_have_gpu(&why);
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
    const char *gl = software ? NULL : render_gl_renderer();
    if (!software && !(want && strcmp(want, "accelerated") == 0) && render_is_software_gl(gl)) {
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
    render_flush_slots(r);
    render_destroy_texture(r, &r->sep_tex);
    free(r->slots);
    free(r->rec);
    if (r->applied)
        scroll_layout_free(&r->layout);
    if (r->snap)
        store_snapshot_release(r->snap);
    font_set_close(r->font);
    free(r->font_name);
    free(r->separator);
    free(r->idle_text);
    if (r->win)
        render_destroy_window(r);
    else if (r->ren)
        SDL_DestroyRenderer(r->ren);
    if (r->video_inited)
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
    free(r);
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
                               .rasterised = r->rasterised,
                               .textures_created = r->created,
                               .textures_destroyed = r->destroyed,
                               .placed = r->layout.placed,
                               .shown = r->shown,
                               .frames = r->frame};
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
                                  .origin = r->origin};
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
