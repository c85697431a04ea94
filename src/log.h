/*
 * log: one line per event on stderr, prefixed with a syslog-style level
 * ("<3>" etc.) that journald understands when stderr is the journal, and a
 * plain word ("error:") on a terminal. Never called per frame.
 */
#ifndef KT_LOG_H
#define KT_LOG_H

#include <stdbool.h>

enum kt_log_level { KT_LOG_ERR = 3, KT_LOG_WARN = 4, KT_LOG_INFO = 6, KT_LOG_DEBUG = 7 };

void kt_log_set_level(enum kt_log_level max);
/* Whether stderr is the journal: JOURNAL_STREAM is set and names the
 * device and inode fd 2 has now. */
bool kt_log_to_journal(void);
void kt_log_msg(enum kt_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define kt_log_error(...) kt_log_msg(KT_LOG_ERR, __VA_ARGS__)
#define kt_log_warn(...) kt_log_msg(KT_LOG_WARN, __VA_ARGS__)
#define kt_log_info(...) kt_log_msg(KT_LOG_INFO, __VA_ARGS__)
#define kt_log_debug(...) kt_log_msg(KT_LOG_DEBUG, __VA_ARGS__)

#endif
