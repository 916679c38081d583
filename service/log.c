#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int current_level = JLOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error", "notice", "off"};

void log_set_level(enum log_level level) { atomic_store(&current_level, (int)level); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&current_level); }
bool log_enabled(enum log_level level) { return (int)level >= atomic_load_explicit(&current_level, memory_order_relaxed); }

int log_level_from_name(const char *name)
{
    for (int i = 0; i <= JLOG_OFF; i++)
        if (strcmp(name, level_names[i]) == 0) return i;
    if (strcmp(name, "warning") == 0) return JLOG_WARN;
    return -1;
}

const char *log_level_name(enum log_level level) { return level_names[level]; }

/* Repeated warnings and errors: each call site (its format string) may
 * write LOG_BURST lines per second; the lines over that are counted and
 * the count is reported by the site's next line that gets through. A
 * client that provokes one error line per request cannot flood the log. */
#define LOG_BURST 20
#define LOG_SITES 64
static struct {
    const char *fmt;
    time_t second;
    unsigned lines;
    uint64_t suppressed;
} sites[LOG_SITES];
static pthread_mutex_t sites_lock = PTHREAD_MUTEX_INITIALIZER;

/* False when the line must be dropped; *suppressed: the lines dropped at
 * this site since its last line. */
static bool log_admit(const char *fmt, time_t now, uint64_t *suppressed)
{
    *suppressed = 0;
    size_t h = ((uintptr_t)fmt >> 3) % LOG_SITES;
    pthread_mutex_lock(&sites_lock);
    if (sites[h].fmt != fmt) {
        sites[h].fmt = fmt; /* a colliding site takes the slot over */
        sites[h].second = now;
        sites[h].lines = 0;
        sites[h].suppressed = 0;
    }
    if (sites[h].second != now) {
        sites[h].second = now;
        sites[h].lines = 0;
    }
    bool ok = sites[h].lines < LOG_BURST;
    if (ok) {
        sites[h].lines++;
        *suppressed = sites[h].suppressed;
        sites[h].suppressed = 0;
    } else {
        sites[h].suppressed++;
    }
    pthread_mutex_unlock(&sites_lock);
    return ok;
}

uint64_t log_suppressed_total;

/* Control characters (newlines, terminal escapes) and DEL in a formatted
 * message become \xNN, so that client text cannot forge or hide lines. */
static size_t escape_controls(char *dst, size_t cap, const char *src, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c < 0x20 || c == 0x7f) {
            dst[k++] = '\\';
            dst[k++] = 'x';
            dst[k++] = hex[c >> 4];
            dst[k++] = hex[c & 15];
        } else {
            dst[k++] = (char)c;
        }
    }
    return k;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level) || level >= JLOG_OFF) return;
    uint64_t suppressed = 0;
    if ((level == JLOG_WARN || level == JLOG_ERROR) && !log_admit(fmt, time(NULL), &suppressed)) {
        atomic_fetch_add((_Atomic uint64_t *)&log_suppressed_total, 1);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    /* The line is built first and written with one call, so that lines from
     * different threads never interleave. */
    char line[2048];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     level_names[level]);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t msg_len = m < 0 ? 0 : (size_t)m < sizeof msg ? (size_t)m : sizeof msg - 1;
    size_t len = (size_t)n + escape_controls(line + n, sizeof line - (size_t)n - 64, msg, msg_len);
    if (suppressed)
        len += (size_t)snprintf(line + len, 64, " (%llu similar lines suppressed)", (unsigned long long)suppressed);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
