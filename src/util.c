/*
 * util: allocation, a growable buffer, bounded error strings, file reading.
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static void out_of_memory(void)
{
    fputs("<2>kiosk-ticker: out of memory\n", stderr);
    abort();
}

void *kt_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *kt_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *kt_realloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

char *kt_strdup(const char *s)
{
    return s ? kt_strndup(s, strlen(s)) : NULL;
}

char *kt_strndup(const char *s, size_t n)
{
    char *p = kt_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *kt_asprintf(const char *fmt, ...)
{
    struct kt_buf b;
    va_list ap;
    kt_buf_init(&b);
    va_start(ap, fmt);
    kt_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return kt_buf_steal(&b);
}

int kt_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void kt_buf_init(struct kt_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void kt_buf_free(struct kt_buf *b)
{
    free(b->data);
    kt_buf_init(b);
}

void kt_buf_reserve(struct kt_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = kt_realloc(b->data, cap);
    b->cap = cap;
}

void kt_buf_append(struct kt_buf *b, const void *data, size_t n)
{
    kt_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void kt_buf_puts(struct kt_buf *b, const char *s)
{
    kt_buf_append(b, s, strlen(s));
}

void kt_buf_putc(struct kt_buf *b, char c)
{
    kt_buf_append(b, &c, 1);
}

void kt_buf_vprintf(struct kt_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    if (n > 0) {
        kt_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
}

void kt_buf_printf(struct kt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *kt_buf_steal(struct kt_buf *b)
{
    if (!b->data)
        kt_buf_reserve(b, 0);
    b->data[b->len] = '\0';
    char *p = b->data;
    kt_buf_init(b);
    return p;
}

int kt_read_file(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO nobody writes to (or a device) must not
     * hang the caller; only regular files are read. A regular file on a
     * stalled network mount can still block in read(): callers on a worker
     * thread are abandoned then, never waited for (poller.c). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return kt_error(err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        return kt_error(err, errlen, "%s: %s", path, strerror(saved));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return kt_error(err, errlen, "%s: not a regular file (%s)", path,
                        S_ISDIR(st.st_mode)    ? "a directory"
                        : S_ISFIFO(st.st_mode) ? "a FIFO"
                        : S_ISSOCK(st.st_mode) ? "a socket"
                                               : "a device");
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return kt_error(err, errlen, "%s: larger than %zu bytes", path, max);
    }
    struct kt_buf b;
    kt_buf_init(&b);
    /* The size may change while we read (a file being rewritten): read to
     * the end, within max; room for the final empty read, so a file
     * that did not grow is read without a second allocation. */
    kt_buf_reserve(&b, (size_t)st.st_size + 65536);
    for (;;) {
        if (b.cap - b.len < 65536)
            kt_buf_reserve(&b, 65536);
        ssize_t n = read(fd, b.data + b.len, b.cap - b.len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            kt_buf_free(&b);
            return kt_error(err, errlen, "%s: %s", path, strerror(saved));
        }
        if (n == 0)
            break;
        b.len += (size_t)n;
        if (b.len > max) {
            close(fd);
            kt_buf_free(&b);
            return kt_error(err, errlen, "%s: larger than %zu bytes", path, max);
        }
    }
    close(fd);
    *len = b.len;
    *data = kt_buf_steal(&b);
    return 0;
}

bool kt_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool kt_str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

size_t kt_url_scheme_len(const char *url)
{
    size_t i = 0;
    if (!isalpha((unsigned char)url[0]))
        return 0;
    while (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.')
        i++;
    return (url[i] == ':' && i >= 2) ? i : 0;
}

bool kt_str_has_prefix_nocase(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}
