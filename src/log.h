/*
 * log: one line per event on stderr, prefixed with a syslog-style level
 * ("<3>" etc.) that journald understands when stderr is the journal, and a
 * plain word ("error:") on a terminal. Never called per frame.
 */
#ifndef KT_LOG_H
#define KT_LOG_H

enum log_level { LOG_ERR = 3, LOG_WARN = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

void log_set_level(enum log_level max);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
