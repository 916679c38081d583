/* 256-bit unsigned words on four 64-bit limbs, least significant limb first.
 * Signed operations read the word as two's complement. Every operation here
 * has EVM semantics (division by zero gives zero, shifts >= 256 saturate). */
#ifndef JITEVM_U256_H
#define JITEVM_U256_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct { uint64_t w[4]; } u256;

static inline u256 u256_from_u64(uint64_t v) { u256 r = {{v, 0, 0, 0}}; return r; }
static inline u256 u256_zero(void) { u256 r = {{0, 0, 0, 0}}; return r; }
static inline bool u256_is_zero(const u256 *a) { return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0; }
static inline bool u256_eq(const u256 *a, const u256 *b)
{
    return ((a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) | (a->w[2] ^ b->w[2]) | (a->w[3] ^ b->w[3])) == 0;
}
/* True when the value fits in 64 bits. */
static inline bool u256_fits_u64(const u256 *a) { return (a->w[1] | a->w[2] | a->w[3]) == 0; }
static inline bool u256_lt(const u256 *a, const u256 *b)
{
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i];
    return false;
}
static inline bool u256_slt(const u256 *a, const u256 *b)
{
    bool an = a->w[3] >> 63, bn = b->w[3] >> 63;
    if (an != bn) return an;
    return u256_lt(a, b);
}
static inline u256 u256_add(const u256 *a, const u256 *b)
{
    u256 r;
    unsigned __int128 c = 0;
    for (int i = 0; i < 4; i++) {
        c += (unsigned __int128)a->w[i] + b->w[i];
        r.w[i] = (uint64_t)c;
        c >>= 64;
    }
    return r;
}
static inline u256 u256_sub(const u256 *a, const u256 *b)
{
    u256 r;
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t d = a->w[i] - b->w[i];
        uint64_t b1 = a->w[i] < b->w[i];
        r.w[i] = d - borrow;
        borrow = b1 | (d < borrow);
    }
    return r;
}
static inline u256 u256_and(const u256 *a, const u256 *b)
{
    u256 r = {{a->w[0] & b->w[0], a->w[1] & b->w[1], a->w[2] & b->w[2], a->w[3] & b->w[3]}};
    return r;
}
static inline u256 u256_or(const u256 *a, const u256 *b)
{
    u256 r = {{a->w[0] | b->w[0], a->w[1] | b->w[1], a->w[2] | b->w[2], a->w[3] | b->w[3]}};
    return r;
}
static inline u256 u256_xor(const u256 *a, const u256 *b)
{
    u256 r = {{a->w[0] ^ b->w[0], a->w[1] ^ b->w[1], a->w[2] ^ b->w[2], a->w[3] ^ b->w[3]}};
    return r;
}
static inline u256 u256_not(const u256 *a)
{
    u256 r = {{~a->w[0], ~a->w[1], ~a->w[2], ~a->w[3]}};
    return r;
}

/* Big-endian conversions. load_be_n reads `n` (0..32) bytes as a
 * right-aligned big-endian number (PUSHn, CALLDATALOAD tails). */
u256 u256_load_be(const uint8_t in[32]);
u256 u256_load_be_n(const uint8_t *in, unsigned n);
void u256_store_be(uint8_t out[32], const u256 *a);

/* Arithmetic with EVM semantics. */
u256 u256_mul(const u256 *a, const u256 *b);
u256 u256_div(const u256 *a, const u256 *b);  /* b == 0 -> 0 */
u256 u256_mod(const u256 *a, const u256 *b);  /* b == 0 -> 0 */
u256 u256_sdiv(const u256 *a, const u256 *b); /* -2^255 / -1 == -2^255 */
u256 u256_smod(const u256 *a, const u256 *b); /* sign follows the dividend */
u256 u256_addmod(const u256 *a, const u256 *b, const u256 *m); /* 257-bit intermediate */
u256 u256_mulmod(const u256 *a, const u256 *b, const u256 *m); /* 512-bit intermediate */
u256 u256_exp(const u256 *base, const u256 *exponent);
u256 u256_signextend(const u256 *byte_index, const u256 *x);
u256 u256_byte(const u256 *index, const u256 *x); /* index 0 = most significant byte */
u256 u256_shl(const u256 *shift, const u256 *x);
u256 u256_shr(const u256 *shift, const u256 *x);
u256 u256_sar(const u256 *shift, const u256 *x);
unsigned u256_clz(const u256 *x); /* 256 for zero */
/* Number of significant bytes (0 for zero): EXP gas. */
unsigned u256_byte_length(const u256 *x);
/* Quotient and remainder together (the shared long division). */
void u256_divmod(const u256 *a, const u256 *b, u256 *quot, u256 *rem);

#endif
