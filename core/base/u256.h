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
/* Carry chains written out limb by limb (no loop over an array), so the
 * result stays in registers and is stored as four 64-bit words. */
static inline u256 u256_add(const u256 *a, const u256 *b)
{
    typedef unsigned __int128 u128_t;
    u256 r;
    u128_t t = (u128_t)a->w[0] + b->w[0];
    r.w[0] = (uint64_t)t;
    t = (u128_t)a->w[1] + b->w[1] + (uint64_t)(t >> 64);
    r.w[1] = (uint64_t)t;
    t = (u128_t)a->w[2] + b->w[2] + (uint64_t)(t >> 64);
    r.w[2] = (uint64_t)t;
    r.w[3] = a->w[3] + b->w[3] + (uint64_t)(t >> 64);
    return r;
}
static inline u256 u256_sub(const u256 *a, const u256 *b)
{
    typedef unsigned __int128 u128_t;
    u256 r;
    u128_t t = (u128_t)a->w[0] - b->w[0];
    r.w[0] = (uint64_t)t;
    t = (u128_t)a->w[1] - b->w[1] - (uint64_t)(t >> 127);
    r.w[1] = (uint64_t)t;
    t = (u128_t)a->w[2] - b->w[2] - (uint64_t)(t >> 127);
    r.w[2] = (uint64_t)t;
    r.w[3] = a->w[3] - b->w[3] - (uint64_t)(t >> 127);
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

/* ---- Inline: the operations the interpreter's hot loop uses. ---- */

static inline uint64_t u256_load_be64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

static inline void u256_store_be64(uint8_t *p, uint64_t v)
{
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}

/* Big-endian conversions. */
static inline u256 u256_load_be(const uint8_t in[32])
{
    u256 r = {{u256_load_be64(in + 24), u256_load_be64(in + 16), u256_load_be64(in + 8), u256_load_be64(in)}};
    return r;
}

static inline void u256_store_be(uint8_t out[32], const u256 *a)
{
    u256_store_be64(out, a->w[3]);
    u256_store_be64(out + 8, a->w[2]);
    u256_store_be64(out + 16, a->w[1]);
    u256_store_be64(out + 24, a->w[0]);
}

/* Reads `n` bytes as a right-aligned big-endian number (PUSHn). With a
 * constant n the loops unroll into whole-limb loads. A longer input is a
 * bigger number; modulo 2^256 only its last 32 bytes count. */
static inline u256 u256_load_be_n(const uint8_t *in, unsigned n)
{
    if (n > 32) {
        in += n - 32;
        n = 32;
    }
    u256 r = {{0, 0, 0, 0}};
    unsigned k = 0;
    while (n >= 8) {
        r.w[k++] = u256_load_be64(in + n - 8);
        n -= 8;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) v = v << 8 | in[i];
    if (k < 4) r.w[k] = v;
    return r;
}

/* The low 256 bits of a * b: six full 64x64 products and four low halves
 * that only reach the top limb. */
static inline u256 u256_mul(const u256 *a, const u256 *b)
{
    typedef unsigned __int128 u128_t;
    uint64_t x0 = a->w[0], x1 = a->w[1], x2 = a->w[2], x3 = a->w[3];
    uint64_t y0 = b->w[0], y1 = b->w[1], y2 = b->w[2], y3 = b->w[3];
    u128_t t = (u128_t)x0 * y0;
    uint64_t r0 = (uint64_t)t;
    t = (u128_t)x0 * y1 + (uint64_t)(t >> 64);
    uint64_t r1 = (uint64_t)t;
    t = (u128_t)x0 * y2 + (uint64_t)(t >> 64);
    uint64_t r2 = (uint64_t)t;
    uint64_t r3 = (uint64_t)(t >> 64) + x0 * y3 + x1 * y2 + x2 * y1 + x3 * y0;
    t = (u128_t)x1 * y0 + r1;
    r1 = (uint64_t)t;
    t = (u128_t)x1 * y1 + r2 + (uint64_t)(t >> 64);
    r2 = (uint64_t)t;
    r3 += (uint64_t)(t >> 64);
    t = (u128_t)x2 * y0 + r2;
    r2 = (uint64_t)t;
    r3 += (uint64_t)(t >> 64);
    u256 r = {{r0, r1, r2, r3}};
    return r;
}

/* x shifted right by n < 256 (limb-wise through a padded window, so no
 * branch on the shift amount), vacated bits filled with `fill`. */
static inline u256 u256_shift_right_small(const u256 *x, unsigned n, uint64_t fill)
{
    /* Limb by limb from x (no staging array: its 16-byte stores and 8-byte
     * reloads would stall on store forwarding). */
    unsigned limbs = n / 64, bits = n % 64;
    u256 r;
    for (unsigned i = 0; i < 4; i++) {
        unsigned src = i + limbs;
        uint64_t lo = src < 4 ? x->w[src] : fill;
        uint64_t hi = src + 1 < 4 ? x->w[src + 1] : fill;
        r.w[i] = (lo >> bits) | ((hi << 1) << (63 - bits));
    }
    return r;
}

static inline u256 u256_shift_left_small(const u256 *x, unsigned n)
{
    unsigned limbs = n / 64, bits = n % 64;
    u256 r;
    for (unsigned i = 0; i < 4; i++) {
        uint64_t hi = i >= limbs ? x->w[i - limbs] : 0;
        uint64_t lo = i >= limbs + 1 ? x->w[i - limbs - 1] : 0;
        r.w[i] = (hi << bits) | ((lo >> 1) >> (63 - bits));
    }
    return r;
}

/* Shifts with EVM semantics: amounts >= 256 give 0 (all ones for SAR of a
 * negative number). */
static inline u256 u256_shl(const u256 *shift, const u256 *x)
{
    if (!u256_fits_u64(shift) || shift->w[0] >= 256) return u256_zero();
    return u256_shift_left_small(x, (unsigned)shift->w[0]);
}

static inline u256 u256_shr(const u256 *shift, const u256 *x)
{
    if (!u256_fits_u64(shift) || shift->w[0] >= 256) return u256_zero();
    return u256_shift_right_small(x, (unsigned)shift->w[0], 0);
}

static inline u256 u256_sar(const u256 *shift, const u256 *x)
{
    uint64_t fill = (uint64_t)0 - (x->w[3] >> 63);
    if (!u256_fits_u64(shift) || shift->w[0] >= 256) {
        u256 r = {{fill, fill, fill, fill}};
        return r;
    }
    return u256_shift_right_small(x, (unsigned)shift->w[0], fill);
}

/* BYTE: index 0 is the most significant byte; >= 32 gives 0. */
static inline u256 u256_byte(const u256 *index, const u256 *x)
{
    if (!u256_fits_u64(index) || index->w[0] >= 32) return u256_zero();
    unsigned from_low = 31 - (unsigned)index->w[0];
    return u256_from_u64((x->w[from_low / 8] >> (from_low % 8 * 8)) & 0xff);
}

/* SIGNEXTEND from byte b (0 = least significant); b >= 31 leaves x.
 * Limb by limb, without copying *x whole: a 16-byte copy of a word just
 * written as 64-bit stores would stall on store forwarding. */
static inline u256 u256_signextend(const u256 *byte_index, const u256 *x)
{
    u256 r;
    if (!u256_fits_u64(byte_index) || byte_index->w[0] >= 31) {
        for (int i = 0; i < 4; i++) r.w[i] = x->w[i];
        return r;
    }
    unsigned sign_bit = (unsigned)byte_index->w[0] * 8 + 7;
    unsigned limb = sign_bit / 64, bit = sign_bit % 64;
    uint64_t fill = (uint64_t)0 - ((x->w[limb] >> bit) & 1);
    uint64_t keep = bit == 63 ? UINT64_MAX : ((uint64_t)1 << (bit + 1)) - 1;
    for (unsigned i = 0; i < 4; i++) {
        uint64_t w = x->w[i];
        r.w[i] = i < limb ? w : i == limb ? (w & keep) | (fill & ~keep) : fill;
    }
    return r;
}

/* Leading zero bits (256 for zero): EIP-7939 CLZ. */
static inline unsigned u256_clz(const u256 *x)
{
    if (x->w[3]) return (unsigned)__builtin_clzll(x->w[3]);
    if (x->w[2]) return 64 + (unsigned)__builtin_clzll(x->w[2]);
    if (x->w[1]) return 128 + (unsigned)__builtin_clzll(x->w[1]);
    if (x->w[0]) return 192 + (unsigned)__builtin_clzll(x->w[0]);
    return 256;
}

/* Number of significant bytes (0 for zero): EXP gas. */
static inline unsigned u256_byte_length(const u256 *x) { return (256 - u256_clz(x) + 7) / 8; }

/* ---- Out of line: division and exponentiation. ---- */
u256 u256_div(const u256 *a, const u256 *b);  /* b == 0 -> 0 */
u256 u256_mod(const u256 *a, const u256 *b);  /* b == 0 -> 0 */
u256 u256_sdiv(const u256 *a, const u256 *b); /* -2^255 / -1 == -2^255 */
u256 u256_smod(const u256 *a, const u256 *b); /* sign follows the dividend */
u256 u256_addmod(const u256 *a, const u256 *b, const u256 *m); /* 257-bit intermediate */
u256 u256_mulmod(const u256 *a, const u256 *b, const u256 *m); /* 512-bit intermediate */
u256 u256_exp(const u256 *base, const u256 *exponent);
/* Quotient and remainder together (the shared long division). */
void u256_divmod(const u256 *a, const u256 *b, u256 *quot, u256 *rem);

/* Checked arithmetic (fees and balances, not EVM words): *out = a op b,
 * and false when the exact result does not fit 256 bits (then *out holds
 * the result mod 2^256). `out` may be `a` or `b`. */
bool u256_mul_checked(const u256 *a, const u256 *b, u256 *out);
static inline bool u256_add_checked(const u256 *a, const u256 *b, u256 *out)
{
    u256 sum = u256_add(a, b); /* out may be a or b */
    bool fits = !u256_lt(&sum, a);
    *out = sum;
    return fits;
}

#endif
