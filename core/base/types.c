#include "base/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "jitevm: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) out_of_memory(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

/* The growth, out of line: append and push test for room themselves, so
 * their common case makes no call. */
static __attribute__((noinline)) void bytebuf_grow(bytebuf *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < extra) cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void bytebuf_reserve(bytebuf *b, size_t extra)
{
    if (b->cap - b->len < extra) bytebuf_grow(b, extra);
}

void bytebuf_append(bytebuf *b, const void *p, size_t n)
{
    if (n == 0) return;
    if (b->cap - b->len < n) bytebuf_grow(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void bytebuf_push(bytebuf *b, uint8_t byte)
{
    if (b->cap == b->len) bytebuf_grow(b, 1);
    b->data[b->len++] = byte;
}

void bytebuf_free(bytebuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
