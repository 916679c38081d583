/* printf into a bytebuf or a new string (format.h). */
#include "base/format.h"

#include <stdio.h>

void bytebuf_vprintf(bytebuf *out, const char *fmt, va_list ap)
{
    va_list measure;
    va_copy(measure, ap);
    int n = vsnprintf(NULL, 0, fmt, measure);
    va_end(measure);
    if (n < 0) n = 0; /* an encoding error: append nothing */
    bytebuf_reserve(out, (size_t)n + 1);
    vsnprintf((char *)out->data + out->len, (size_t)n + 1, fmt, ap);
    out->len += (size_t)n;
    out->data[out->len] = '\0';
}

void bytebuf_printf(bytebuf *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bytebuf_vprintf(out, fmt, ap);
    va_end(ap);
}

char *str_vprintf(size_t *len, const char *fmt, va_list ap)
{
    bytebuf text = {0};
    bytebuf_vprintf(&text, fmt, ap);
    if (len) *len = text.len;
    return (char *)text.data;
}

char *str_printf(size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = str_vprintf(len, fmt, ap);
    va_end(ap);
    return s;
}
