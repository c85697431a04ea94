/*
 * log: see log.h. Under systemd (JOURNAL_STREAM set) the "<N>" prefix
 * carries the level; on a terminal a word does.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static enum kt_log_level max_level = KT_LOG_INFO;

void kt_log_set_level(enum kt_log_level max)
{
    max_level = max;
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
    if (getenv("JOURNAL_STREAM"))
        fprintf(stderr, "<%d>%s\n", (int)level, line);
    else
        fprintf(stderr, "kiosk-ticker: %s: %s\n", words[level], line);
}
