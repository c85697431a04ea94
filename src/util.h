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

void *kt_malloc(size_t n);
void *kt_calloc(size_t n, size_t size);
void *kt_realloc(void *p, size_t n);
char *kt_strdup(const char *s); /* NULL in, NULL out */
char *kt_strndup(const char *s, size_t n);
char *kt_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* snprintf into err (may be NULL); always returns -1 so callers can
 * "return kt_error(err, errlen, ...)". */
int kt_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Growable byte buffer, always NUL-terminated after data[len]. */
struct kt_buf {
    char *data;
    size_t len;
    size_t cap;
};
void kt_buf_init(struct kt_buf *b);
void kt_buf_free(struct kt_buf *b);
void kt_buf_reserve(struct kt_buf *b, size_t extra);
void kt_buf_append(struct kt_buf *b, const void *data, size_t n);
void kt_buf_puts(struct kt_buf *b, const char *s);
void kt_buf_putc(struct kt_buf *b, char c);
void kt_buf_printf(struct kt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kt_buf_vprintf(struct kt_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hands the data to the caller (never NULL) and resets the buffer. */
char *kt_buf_steal(struct kt_buf *b);

/* Reads a whole regular file (a FIFO, device or directory is refused
 * without blocking), refusing more than max bytes. 0 on success. */
int kt_read_file(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen);

bool kt_str_has_prefix(const char *s, const char *prefix);
/* Equal strings, NULL equal only to NULL. */
bool kt_str_eq(const char *a, const char *b);
/* Length of the RFC 3986 scheme at the start of url (ALPHA *( ALPHA /
 * DIGIT / "+" / "-" / "." ) before a ':'), or 0 when there is none. A
 * single letter is not taken as a scheme, so "C:..." names stay paths. */
size_t kt_url_scheme_len(const char *url);
bool kt_str_has_prefix_nocase(const char *s, const char *prefix);

#endif
