/*
 * png_encode: RGBA pixels as a PNG in memory, through libpng's simplified API
 * (the screenshot of the control API and --screenshot share it). Pure
 * logic apart from libpng. (Not "png.h": that would shadow libpng's own
 * header for every file built with src/ on the include path.)
 */
#ifndef KT_PNG_ENCODE_H
#define KT_PNG_ENCODE_H

#include <stdint.h>

struct kt_buf;

/* Appends the PNG of w*h pixels, 4 bytes each in R,G,B,A order, rows of
 * pitch bytes (0 = w*4). 0, or -1 (nothing appended) when libpng fails. */
int png_encode_rgba_pitch(const uint8_t *rgba, int w, int h, int pitch, struct kt_buf *out);
/* The same with rows packed (pitch w*4). */
int png_encode_rgba(const uint8_t *rgba, int w, int h, struct kt_buf *out);

#endif
