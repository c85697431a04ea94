/*
 * capture: a screenshot of the running screen for other threads (pure
 * pthread, no SDL). WAVE2 §4's interface, declared by the screen branch
 * for its render-side hook; the urgent branch implements it (capture.c).
 */
#ifndef KT_CAPTURE_H
#define KT_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

struct capture; /* one per app */
/* API/MQTT thread: asks for the next frame; waits at most timeout_ms.
 * On success *rgba is malloc'd w*h*4 bytes (R,G,B,A order) — caller frees. */
int capture_request(struct capture *c, int timeout_ms, uint8_t **rgba, int *w, int *h);
/* Render thread, once per frame: one atomic load. */
bool capture_pending(struct capture *c);
/* Render thread: hands over a copy; never blocks (trylock; drops when busy). */
void capture_deliver(struct capture *c, const uint8_t *rgba, int w, int h, int pitch);

#endif
