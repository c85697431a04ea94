/*
 * log: see log.h. Under systemd (JOURNAL_STREAM set) the "<N>" prefix
 * carries the level; on a terminal a word does.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static enum log_level max_level = LOG_INFO;

void log_set_level(enum log_level max)
{
    max_level = max;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level > max_level)
        return;
    static const char *const words[] = {
        [LOG_ERR] = "error", [LOG_WARN] = "warning", [LOG_INFO] = "info", [LOG_DEBUG] = "debug"};
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line: concurrent threads never interleave mid-line. */
    if (getenv("JOURNAL_STREAM"))
        fprintf(stderr, "<%d>%s\n", (int)level, line);
    else
        fprintf(stderr, "kiosk-ticker: %s: %s\n", words[level], line);
}
