/* Service logging: one line per event on stderr, with a UTC timestamp and a
 * level, safe to call from any thread. Lines below the configured level are
 * dropped before formatting. */
#ifndef JITEVM_LOG_H
#define JITEVM_LOG_H

#include <stdbool.h>
#include <stdint.h>

/* NOTICE is for the few lines that must be seen whatever the level (the
 * startup summary with the listening address, shutdown): shown unless "off". */
enum log_level { JLOG_DEBUG, JLOG_INFO, JLOG_WARN, JLOG_ERROR, JLOG_NOTICE, JLOG_OFF };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);
/* "debug", "info", "warn", "error", "off" ("notice" too); -1 when unknown. */
int log_level_from_name(const char *name);
const char *log_level_name(enum log_level level);

/* One line. Control characters in the message are written as \xNN; a
 * warning or error call site writes at most 20 lines a second, and its
 * next line after that says how many it dropped (log_suppressed_total
 * counts them all). */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern uint64_t log_suppressed_total;

#define log_debug(...) (log_enabled(JLOG_DEBUG) ? log_msg(JLOG_DEBUG, __VA_ARGS__) : (void)0)
#define log_info(...) log_msg(JLOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(JLOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(JLOG_ERROR, __VA_ARGS__)
#define log_notice(...) log_msg(JLOG_NOTICE, __VA_ARGS__)

#endif
