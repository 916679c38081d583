/* printf into memory the project owns: a new string, or the end of a
 * bytebuf. The one place that measures a format (vsnprintf with a NULL
 * buffer) and then writes it; every part (core, schema, service, tests)
 * uses these instead of its own copy. Allocation failure aborts, as
 * xmalloc does. */
#ifndef JITEVM_FORMAT_H
#define JITEVM_FORMAT_H

#include <stdarg.h>

#include "base/types.h"

/* Appends the formatted text to `out`; the byte after it is a NUL that
 * out->len does not count, so out->data is a C string while nothing else
 * is appended. */
void bytebuf_vprintf(bytebuf *out, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void bytebuf_printf(bytebuf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A new malloc'd string; its length (without the NUL) in *len unless len
 * is NULL. */
char *str_vprintf(size_t *len, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
char *str_printf(size_t *len, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
