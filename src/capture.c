/*
 * capture: see capture.h.
 *
 * `waiting` counts askers; the render thread copies a frame while it is
 * non-zero. Each delivered frame gets a sequence number, so an asker takes
 * only a frame delivered after it asked (the one on screen now, not an old
 * one left over).
 */
#include "capture.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

struct capture {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int waiting;  /* atomic read by the render thread; written under mu */
    uint64_t seq; /* of the last frame delivered (under mu) */
    uint8_t *px;  /* the last frame delivered, rows packed (under mu) */
    int w, h;
    bool closed; /* no more frames: askers return at once (under mu) */
};

struct capture *capture_new(void)
{
    struct capture *c = kt_calloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    return c;
}

void capture_free(struct capture *c)
{
    if (!c)
        return;
    free(c->px);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

void capture_close(struct capture *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->closed = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

bool capture_pending(struct capture *c)
{
    return c && __atomic_load_n(&c->waiting, __ATOMIC_ACQUIRE) > 0;
}

void capture_deliver(struct capture *c, const uint8_t *rgba, int w, int h, int pitch)
{
    if (!c || !rgba || w <= 0 || h <= 0 || pitch < w * 4)
        return;
    if (pthread_mutex_trylock(&c->mu) != 0)
        return; /* an asker holds it for a moment: the next frame will do */
    size_t row = (size_t)w * 4, size = row * (size_t)h;
    if (!c->px || c->w != w || c->h != h) {
        free(c->px);
        c->px = malloc(size);
        c->w = c->px ? w : 0;
        c->h = c->px ? h : 0;
    }
    if (c->px) {
        for (int y = 0; y < h; y++)
            memcpy(c->px + (size_t)y * row, rgba + (size_t)y * (size_t)pitch, row);
        c->seq++;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
}

int capture_request(struct capture *c, int timeout_ms, uint8_t **rgba, int *w, int *h)
{
    *rgba = NULL;
    *w = *h = 0;
    if (!c)
        return -1;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    uint64_t asked = c->seq;
    __atomic_add_fetch(&c->waiting, 1, __ATOMIC_ACQ_REL);
    int rc = 0;
    while (c->seq == asked && rc != ETIMEDOUT && !c->closed)
        rc = pthread_cond_timedwait(&c->cv, &c->mu, &until);
    __atomic_sub_fetch(&c->waiting, 1, __ATOMIC_ACQ_REL);
    int out = -1;
    if (c->seq != asked && c->px) {
        size_t size = (size_t)c->w * 4 * (size_t)c->h;
        *rgba = malloc(size);
        if (*rgba) {
            memcpy(*rgba, c->px, size);
            *w = c->w;
            *h = c->h;
            out = 0;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return out;
}
