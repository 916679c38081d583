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
#if defined(__x86_64__)
/* One add/adc (sub/sbb) chain. The 128-bit additions below compile to that
 * in a small function, but inlined into the interpreter's one large
 * function GCC 12 spilled every 128-bit temporary to the stack (64
 * instructions for an ADD, 22 with this); the carry builtins kept a store
 * and reload per limb, or became setb/or chains (36). */
static inline u256 u256_add(const u256 *a, const u256 *b)
{
    uint64_t r0 = a->w[0], r1 = a->w[1], r2 = a->w[2], r3 = a->w[3];
    __asm__("addq %4, %0\n\tadcq %5, %1\n\tadcq %6, %2\n\tadcq %7, %3"
            : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3)
            : "rm"(b->w[0]), "rm"(b->w[1]), "rm"(b->w[2]), "rm"(b->w[3])
            : "cc");
    u256 r = {{r0, r1, r2, r3}};
    return r;
}
static inline u256 u256_sub(const u256 *a, const u256 *b)
{
    uint64_t r0 = a->w[0], r1 = a->w[1], r2 = a->w[2], r3 = a->w[3];
    __asm__("subq %4, %0\n\tsbbq %5, %1\n\tsbbq %6, %2\n\tsbbq %7, %3"
            : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3)
            : "rm"(b->w[0]), "rm"(b->w[1]), "rm"(b->w[2]), "rm"(b->w[3])
            : "cc");
    u256 r = {{r0, r1, r2, r3}};
    return r;
}
#else
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
#endif
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
#if defined(__x86_64__)
/* One mul/add/adc chain with the operands read from memory and only rax,
 * rdx and the four result limbs live: the 128-bit C form below, inlined
 * into the interpreter's one large function, spilled its temporaries (GCC
 * 12 -O2: the interpreter's whole MUL handler, checks and dispatch included,
 * was 74 instructions with 20 stack loads and stores, 54 with none now). */
static inline u256 u256_mul(const u256 *a, const u256 *b)
{
    uint64_t r0, r1, r2, r3;
    __asm__("movq %4, %%rax\n\t"
            "mulq %8\n\t"
            "movq %%rax, %0\n\t"
            "movq %%rdx, %1\n\t"
            "movq %4, %%rax\n\t"
            "mulq %9\n\t"
            "addq %%rax, %1\n\t"
            "adcq $0, %%rdx\n\t"
            "movq %%rdx, %2\n\t"
            "movq %4, %%rax\n\t"
            "mulq %10\n\t"
            "addq %%rax, %2\n\t"
            "adcq $0, %%rdx\n\t"
            "movq %%rdx, %3\n\t"
            "movq %4, %%rax\n\t"
            "imulq %11, %%rax\n\t"
            "addq %%rax, %3\n\t"
            "movq %5, %%rax\n\t"
            "mulq %8\n\t"
            "addq %%rax, %1\n\t"
            "adcq %%rdx, %2\n\t"
            "adcq $0, %3\n\t"
            "movq %5, %%rax\n\t"
            "mulq %9\n\t"
            "addq %%rax, %2\n\t"
            "adcq %%rdx, %3\n\t"
            "movq %5, %%rax\n\t"
            "imulq %10, %%rax\n\t"
            "addq %%rax, %3\n\t"
            "movq %6, %%rax\n\t"
            "mulq %8\n\t"
            "addq %%rax, %2\n\t"
            "adcq %%rdx, %3\n\t"
            "movq %6, %%rax\n\t"
            "imulq %9, %%rax\n\t"
            "addq %%rax, %3\n\t"
            "movq %7, %%rax\n\t"
            "imulq %8, %%rax\n\t"
            "addq %%rax, %3"
            : "=&r"(r0), "=&r"(r1), "=&r"(r2), "=&r"(r3)
            : "m"(a->w[0]), "m"(a->w[1]), "m"(a->w[2]), "m"(a->w[3]), "m"(b->w[0]), "m"(b->w[1]), "m"(b->w[2]),
              "m"(b->w[3])
            : "rax", "rdx", "cc");
    u256 r = {{r0, r1, r2, r3}};
    return r;
}
#else
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
#endif

/* lo shifted right by bits < 64, the vacated bits filled from hi's low
 * bits; and hi shifted left, filled from lo's high bits. On x86-64 one
 * shrd/shld each, all with the same count in cl (the portable form needs
 * two counts, which the interpreter's register pressure turned into
 * spills). */
#if defined(__x86_64__)
static inline uint64_t u256_funnel_right(uint64_t lo, uint64_t hi, unsigned bits)
{
    __asm__("shrdq %%cl, %1, %0" : "+r"(lo) : "r"(hi), "c"(bits) : "cc");
    return lo;
}
static inline uint64_t u256_funnel_left(uint64_t hi, uint64_t lo, unsigned bits)
{
    __asm__("shldq %%cl, %1, %0" : "+r"(hi) : "r"(lo), "c"(bits) : "cc");
    return hi;
}
#else
static inline uint64_t u256_funnel_right(uint64_t lo, uint64_t hi, unsigned bits)
{
    return (lo >> bits) | ((hi << 1) << (63 - bits)); /* no shift by 64 when bits is 0 */
}
static inline uint64_t u256_funnel_left(uint64_t hi, uint64_t lo, unsigned bits)
{
    return (hi << bits) | ((lo >> 1) >> (63 - bits));
}
#endif

/* x shifted right by n < 256, the vacated bits from `fill`: by whole limbs
 * in two steps (128 bits when n has that bit, then 64), each limb chosen
 * with a conditional move, then by n % 64 bits with funnel shifts. All in
 * registers and without a branch on the amount: the limbs laid out in a
 * memory window and read back at an offset put a store and a load on the
 * result's path (SHL was 9.7% of swap_math's interpreter time), and a loop
 * choosing limb by limb was 60 instructions with two branches per limb. */
static inline u256 u256_shift_right_small(const u256 *x, unsigned n, uint64_t fill)
{
    const bool by128 = n & 128, by64 = n & 64;
    const uint64_t a0 = by128 ? x->w[2] : x->w[0], a1 = by128 ? x->w[3] : x->w[1];
    const uint64_t a2 = by128 ? fill : x->w[2], a3 = by128 ? fill : x->w[3];
    const uint64_t b0 = by64 ? a1 : a0, b1 = by64 ? a2 : a1, b2 = by64 ? a3 : a2, b3 = by64 ? fill : a3;
    const unsigned bits = n % 64;
    u256 r = {{u256_funnel_right(b0, b1, bits), u256_funnel_right(b1, b2, bits), u256_funnel_right(b2, b3, bits),
               u256_funnel_right(b3, fill, bits)}};
    return r;
}

static inline u256 u256_shift_left_small(const u256 *x, unsigned n)
{
    const bool by128 = n & 128, by64 = n & 64;
    const uint64_t a0 = by128 ? 0 : x->w[0], a1 = by128 ? 0 : x->w[1];
    const uint64_t a2 = by128 ? x->w[0] : x->w[2], a3 = by128 ? x->w[1] : x->w[3];
    const uint64_t b0 = by64 ? 0 : a0, b1 = by64 ? a0 : a1, b2 = by64 ? a1 : a2, b3 = by64 ? a2 : a3;
    const unsigned bits = n % 64;
    u256 r = {{b0 << bits, u256_funnel_left(b1, b0, bits), u256_funnel_left(b2, b1, bits),
               u256_funnel_left(b3, b2, bits)}};
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

/* SIGNEXTEND from byte b (0 = least significant), in place; b >= 31
 * leaves x. The limb holding the sign bit is shifted so that the sign bit
 * is its top bit and shifted back arithmetically, then its sign fills the
 * limbs above: only the limbs that change are written, each as one 64-bit
 * store (the next instruction's loads forward from them). */
static inline void u256_signextend_in_place(const u256 *byte_index, u256 *x)
{
    if (!u256_fits_u64(byte_index) || byte_index->w[0] >= 31) return;
    unsigned b = (unsigned)byte_index->w[0], limb = b / 8, shift = 56 - (b % 8) * 8;
    int64_t extended = (int64_t)(x->w[limb] << shift) >> shift;
    x->w[limb] = (uint64_t)extended;
    for (unsigned i = limb + 1; i < 4; i++) x->w[i] = (uint64_t)(extended >> 63);
}
static inline u256 u256_signextend(const u256 *byte_index, const u256 *x)
{
    u256 r = {{x->w[0], x->w[1], x->w[2], x->w[3]}};
    u256_signextend_in_place(byte_index, &r);
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
