/*
 * api_token: see api_token.h.
 */
#include "api_token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int api_token_read(const char *path, char **token, char *err, size_t errlen)
{
    *token = NULL;
    /* one descriptor for the checks and the read: the file cannot be
     * swapped in between; O_NONBLOCK so a FIFO cannot stall start-up */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return kt_error(err, errlen, "token_file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return kt_error(err, errlen, "token_file %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return kt_error(err, errlen, "token_file %s: not a regular file", path);
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return kt_error(err, errlen,
                        "token_file %s: mode %04o lets group or others read or write it "
                        "(chmod 600 %s)",
                        path, (unsigned)(st.st_mode & 07777), path);
    }
    char buf[API_TOKEN_MAX + 2];
    size_t n = 0;
    while (n < sizeof buf) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return kt_error(err, errlen, "token_file %s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    while (n &&
           (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    if (n > API_TOKEN_MAX)
        return kt_error(err, errlen, "token_file %s: longer than %d characters", path,
                        API_TOKEN_MAX);
    for (size_t i = 0; i < n; i++) {
        if (buf[i] < 0x21 || buf[i] > 0x7e) {
            memset(buf, 0, sizeof buf);
            return kt_error(err, errlen,
                            "token_file %s: the token must be one line of visible ASCII "
                            "characters",
                            path);
        }
    }
    if (n < API_TOKEN_MIN) {
        memset(buf, 0, sizeof buf);
        return kt_error(err, errlen,
                        "token_file %s: %zu characters, at least %d (e.g. head -c 24 "
                        "/dev/urandom | base64 > %s)",
                        path, n, API_TOKEN_MIN, path);
    }
    *token = kt_strndup(buf, n);
    memset(buf, 0, sizeof buf);
    return 0;
}

bool api_token_equal(const char *given, size_t given_len, const char *token)
{
    size_t n = strlen(token);
    /* volatile: the compiler may not turn the loop into an early exit */
    volatile unsigned char diff = given_len != n;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)token[i] ^ (unsigned char)(i < given_len ? given[i] : 0);
    return diff == 0;
}
