/*
 * png_encode: see png_encode.h. Encoded to memory in two calls (size, then bytes), as
 * libpng's simplified API asks.
 */
#include "png_encode.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int png_encode_rgba_pitch(const uint8_t *rgba, int w, int h, int pitch, struct kt_buf *out)
{
    if (!rgba || w <= 0 || h <= 0)
        return -1;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGBA;
    png_alloc_size_t size = 0;
    png_int_32 stride = pitch > 0 ? pitch : w * 4;
    if (!png_image_write_to_memory(&img, NULL, &size, 0, rgba, stride, NULL) || size == 0) {
        png_image_free(&img);
        return -1;
    }
    void *mem = malloc(size);
    if (!mem)
        return -1;
    if (!png_image_write_to_memory(&img, mem, &size, 0, rgba, stride, NULL)) {
        png_image_free(&img);
        free(mem);
        return -1;
    }
    kt_buf_append(out, mem, size);
    free(mem);
    return 0;
}

int png_encode_rgba(const uint8_t *rgba, int w, int h, struct kt_buf *out)
{
    return png_encode_rgba_pitch(rgba, w, h, 0, out);
}
