/*
 * util: small helpers shared by every module: a growable byte buffer,
 * allocation that aborts on out-of-memory, and bounded error strings.
 *
 * Out-of-memory aborts rather than propagating: on a kiosk board the
 * service manager restarts the process, which is the only sane recovery.
 */
#ifndef KT_UTIL_H
#define KT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Size of every caller-provided error buffer ("char err[KT_ERR_MAX]"). */
#define KT_ERR_MAX 512

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s); /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* snprintf into err (may be NULL); always returns -1 so callers can
 * "return kt_error(err, errlen, ...)". */
int kt_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Growable byte buffer, always NUL-terminated after data[len]. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};
void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the data to the caller (never NULL) and resets the buffer. */
char *buf_steal(struct buf *b);

/* Reads a whole file, refusing more than max bytes. 0 on success. */
int read_file(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen);

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_prefix_nocase(const char *s, const char *prefix);

#endif
