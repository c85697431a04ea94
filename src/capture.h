/*
 * capture: the frame on screen, handed from the render thread to a thread
 * that asks for it (the control API's screenshot, the MQTT status). Plain
 * pthreads, no SDL: the render side reads its pixels itself and only
 * hands a copy over.
 *
 * The render thread never waits here: capture_pending is one atomic load,
 * and capture_deliver takes the lock with trylock and drops the frame when
 * it is busy (the asker then gets the next one, or times out).
 */
#ifndef KT_CAPTURE_H
#define KT_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

struct capture; /* one per app */

struct capture *capture_new(void);
/* Only once no thread uses it any more. */
void capture_free(struct capture *c);

/* API/MQTT thread: asks for the next frame; waits at most timeout_ms.
 * 0 on success, *rgba malloc'd w*h*4 bytes (R,G,B,A order), rows packed:
 * the caller frees. -1 on timeout (no frame drawn meanwhile). */
int capture_request(struct capture *c, int timeout_ms, uint8_t **rgba, int *w, int *h);
/* The render loop has ended: every asker, waiting now or later, gets -1 at
 * once (so a screenshot in flight cannot hold up the exit). */
void capture_close(struct capture *c);
/* Render thread, once per frame: one atomic load. */
bool capture_pending(struct capture *c);
/* Render thread: hands over a copy of w*h pixels (rows of pitch bytes);
 * never blocks (trylock; dropped when busy). */
void capture_deliver(struct capture *c, const uint8_t *rgba, int w, int h, int pitch);

#endif
