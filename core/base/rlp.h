/* Recursive Length Prefix encoding and decoding. */
#ifndef JITEVM_RLP_H
#define JITEVM_RLP_H

#include "base/types.h"
#include "base/u256.h"

/* --- Encoding into a bytebuf. Lists are written by remembering where they
 * start and patching the header once the payload is known. */
void rlp_put_bytes(bytebuf *out, const uint8_t *p, size_t n);
void rlp_put_u64(bytebuf *out, uint64_t v);        /* minimal big-endian, 0 -> empty string */
void rlp_put_u256(bytebuf *out, const u256 *v);    /* minimal big-endian, 0 -> empty string */
size_t rlp_list_begin(bytebuf *out);               /* returns a mark for rlp_list_end */
void rlp_list_end(bytebuf *out, size_t mark);
/* Appends already-encoded RLP as is (an item inside a list). */
void rlp_put_raw(bytebuf *out, const uint8_t *p, size_t n);

/* --- Decoding. An item is a view into the input. */
typedef struct {
    const uint8_t *payload; /* the string bytes or the list payload */
    size_t payload_len;
    size_t total_len;       /* header + payload */
    int is_list;
} rlp_item;

/* Decodes the item at the start of [p, p+n). Returns 0 on success, -1 on
 * malformed or non-canonical input (e.g. a single byte < 0x80 wrapped in a
 * header, a length with leading zeros, a length past the end). */
int rlp_decode(const uint8_t *p, size_t n, rlp_item *out);
/* Iterates a list: `*pos` starts at 0; returns 1 and the next item, 0 at the
 * end, -1 on malformed input. */
int rlp_list_next(const rlp_item *list, size_t *pos, rlp_item *out);
/* rlp_decode, and the item must span all of [p, p+n) (no trailing bytes). */
int rlp_decode_exact(const uint8_t *p, size_t n, rlp_item *out);
/* Reads a string item as a canonical integer: at most 8 (32) bytes, no
 * leading zero byte (zero is the empty string). Returns 0 or -1. */
int rlp_item_u64(const rlp_item *item, uint64_t *v);
int rlp_item_u256(const rlp_item *item, u256 *v);

#endif
