/* Hex text, both ways: byte strings ("0x" and an even number of digits),
 * fixed-size values (addresses, hashes) and quantities ("0x" and a number),
 * decoded from text that need not be NUL-terminated, and encoded lowercase.
 *
 * The callers do not agree on what to accept: JSON-RPC follows geth's
 * hexutil (no leading zeros in a quantity, "" is no bytes, a length error
 * before a digit error), fixture files are laxer ("0x00" is a quantity),
 * an alloc may leave the "0x" off an address. Each such rule is a flag
 * below, so that every caller keeps its own rules through the one parser;
 * a caller turns the status into its own message. */
#ifndef JITEVM_HEX_H
#define JITEVM_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/types.h"
#include "base/u256.h"

/* What a parse found, in the order of the checks (see the flags for the
 * two orders of the length and digit checks). */
enum hex_status {
    HEX_OK,
    HEX_EMPTY,         /* "" */
    HEX_NO_PREFIX,     /* no "0x" (or "0X") */
    HEX_NO_DIGITS,     /* "0x" alone where a quantity needs a digit */
    HEX_LEADING_ZERO,  /* "0x01" with HEX_NO_LEADING_ZEROS */
    HEX_BAD_DIGIT,     /* a character that is not a hex digit */
    HEX_ODD_LENGTH,    /* a byte string with an odd number of digits */
    HEX_WRONG_LENGTH,  /* fixed-size data with another number of digits */
    HEX_TOO_BIG,       /* a quantity of more than the allowed bits or digits */
};

enum hex_flags {
    /* An empty text is a valid empty byte string (geth's checkText), not
     * an HEX_EMPTY error. */
    HEX_EMPTY_OK = 1 << 0,
    /* The "0x" may be left out (geth reads alloc addresses either way). */
    HEX_PREFIX_OPTIONAL = 1 << 1,
    /* geth's order: a length error (odd, wrong size, too many digits) is
     * reported before a bad digit. Without it, a bad digit comes first and
     * a length error means the text was all digits. */
    HEX_LENGTH_FIRST = 1 << 2,
    /* Quantities: "0x0" but not "0x01" (JSON-RPC). */
    HEX_NO_LEADING_ZEROS = 1 << 3,
    /* Quantities: at most 64 digits, leading zeros included, whatever the
     * value (the fixture parsers' rule: "0x" and 65 zeros is refused). */
    HEX_AT_MOST_64_DIGITS = 1 << 4,
};

/* Extra facts for a caller's message; any pointer to one may be NULL. */
typedef struct {
    size_t digits;  /* digits after the prefix (every character after it) */
    size_t bad_at;  /* with HEX_BAD_DIGIT: offset in the text of the first one */
} hex_detail;

/* Digit values plus one, 0 for a character that is not a hex digit: the
 * importer reads millions of digits, a table beats the comparisons. */
extern const uint8_t hex_digit_plus_one[256];

/* The value of a hex digit (either case), or -1. */
static inline int hex_digit_value(char c) { return (int)hex_digit_plus_one[(uint8_t)c] - 1; }

static inline bool hex_has_prefix(const char *s, size_t n)
{
    return n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
}

/* Byte strings: appends the bytes to `out` (which is untouched on an
 * error). */
enum hex_status hex_parse_bytes(const char *s, size_t n, unsigned flags, bytebuf *out, hex_detail *detail);
/* Exactly `size` bytes into out[0..size). */
enum hex_status hex_parse_fixed(const char *s, size_t n, unsigned flags, uint8_t *out, size_t size,
                                hex_detail *detail);
/* A quantity below 2^bits (bits: a multiple of 4 up to 256); leading zeros
 * do not count toward bits. The "0x" is always required. */
enum hex_status hex_parse_quantity(const char *s, size_t n, unsigned flags, unsigned bits, u256 *out,
                                   hex_detail *detail);

/* 2n lowercase digits, no prefix, no terminating NUL. */
void hex_encode(const uint8_t *p, size_t n, char *out);
/* The same digits written to a stream; false on a write error. */
bool hex_write(const uint8_t *p, size_t n, FILE *out);
/* "0x" and the minimal digits ("0x0" for zero), NUL-terminated; returns
 * its length. */
#define HEX_QUANTITY_LEN (2 + 64 + 1)
size_t hex_encode_quantity(const u256 *v, char out[HEX_QUANTITY_LEN]);

#endif
