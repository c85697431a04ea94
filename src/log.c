/*
 * log: see log.h. The "<N>" prefix carries the level when stderr is the
 * journal; elsewhere a word does.
 */
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static enum kt_log_level max_level = KT_LOG_INFO;

void kt_log_set_level(enum kt_log_level max)
{
    max_level = max;
}

/* systemd sets JOURNAL_STREAM=DEV:INO (decimal) to the device and inode of
 * the stream it connected to stderr. A child that inherited the variable
 * but not the stream (a terminal opened from a systemd user session, a
 * redirect to a file) must not write "<3>" to it, so the variable counts
 * only when fd 2 still is that stream. Checked per line, because logs are
 * rare and stderr can be redirected while running. */
bool kt_log_to_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    if (!js)
        return false;
    char *end;
    uintmax_t dev = strtoumax(js, &end, 10);
    if (end == js || *end != ':')
        return false;
    const char *ino_s = end + 1;
    uintmax_t ino = strtoumax(ino_s, &end, 10);
    if (end == ino_s || *end)
        return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void kt_log_msg(enum kt_log_level level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    static const char *const words[] = {[KT_LOG_ERR] = "error",
                                        [KT_LOG_WARN] = "warning",
                                        [KT_LOG_INFO] = "info",
                                        [KT_LOG_DEBUG] = "debug"};
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line: concurrent threads never interleave mid-line. */
    if (kt_log_to_journal())
        fprintf(stderr, "<%d>%s\n", (int)level, line);
    else
        fprintf(stderr, "kiosk-ticker: %s: %s\n", words[level], line);
}
