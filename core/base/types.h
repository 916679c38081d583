/* Basic value types shared by every part of the core. */
#ifndef JITEVM_TYPES_H
#define JITEVM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct { uint8_t b[20]; } address;
typedef struct { uint8_t b[32]; } hash32;

/* ---- hashing for tables and caches (not cryptographic) ---- */

/* MurmurHash3's 64-bit finalizer: every bit of x reaches every bit of the
 * result. */
static inline uint64_t hash_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* The 8 bytes at p as a host-order word (no alignment needed). */
static inline uint64_t hash_load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* An address's table hash. Every byte is mixed in: fixture addresses are
 * often tiny numbers, and a plain truncation would cluster. */
static inline uint64_t address_hash64(const address *a)
{
    uint32_t tail;
    memcpy(&tail, a->b + 16, 4);
    return hash_mix64(hash_load64(a->b) ^ hash_mix64(hash_load64(a->b + 8) ^ hash_mix64(tail)));
}

/* Whether two addresses are equal, by words (a memcmp call costs more on
 * every account lookup). */
static inline bool address_equal(const address *x, const address *y)
{
    uint64_t x0, x1, y0, y1;
    uint32_t x2, y2;
    memcpy(&x0, x->b, 8);
    memcpy(&x1, x->b + 8, 8);
    memcpy(&x2, x->b + 16, 4);
    memcpy(&y0, y->b, 8);
    memcpy(&y1, y->b + 8, 8);
    memcpy(&y2, y->b + 16, 4);
    return ((x0 ^ y0) | (x1 ^ y1) | (x2 ^ y2)) == 0;
}

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
