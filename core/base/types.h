/* Basic value types shared by every part of the core. */
#ifndef JITEVM_TYPES_H
#define JITEVM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct { uint8_t b[20]; } address;
typedef struct { uint8_t b[32]; } hash32;

/* A growable byte buffer. Zero-initialised is an empty buffer. */
typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} bytebuf;

/* Makes room for at least `extra` more bytes; aborts on allocation failure
 * (an out-of-memory condition is not recoverable for an executor). */
void bytebuf_reserve(bytebuf *b, size_t extra);
void bytebuf_append(bytebuf *b, const void *p, size_t n);
void bytebuf_push(bytebuf *b, uint8_t byte);
void bytebuf_free(bytebuf *b);

/* Allocation wrappers that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);

#endif
