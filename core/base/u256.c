/* 256-bit word arithmetic with EVM semantics.
 *
 * Division is Knuth's algorithm D on 64-bit limbs. Quotient digits are
 * estimated with the Möller–Granlund reciprocal method ("Improved division by
 * invariant integers", 2011): one hardware division per long division to get
 * the divisor's reciprocal, then only multiplications per digit. The 3-by-2
 * estimate is never more than one too large, so at most one add-back step.
 * MULMOD and ADDMOD keep the last modulus's normalisation and reciprocal per
 * thread (struct modulus): contracts reduce by one prime over and over.
 *
 * The division family copies whole words (operands just written by 64-bit
 * stores, results read back by 64-bit loads): with SSE those copies are
 * 16-byte moves that miss store forwarding, ~20% of snailtracer. So the whole
 * file, the header's inline functions included, is compiled for general
 * registers only: a per-function target attribute also kept u256_lt,
 * u256_zero and limb_count from inlining (a target mismatch), ~60
 * instructions of calls per DIV. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("general-regs-only")
#endif
#include "base/u256.h"

typedef unsigned __int128 u128;

#define LIMB_MAX UINT64_MAX

/* ---- small helpers ------------------------------------------------------ */

static inline u256 negate(const u256 *a)
{
    u256 z = u256_zero();
    return u256_sub(&z, a);
}

static inline bool is_negative(const u256 *a) { return a->w[3] >> 63; }

/* Number of limbs up to and including the most significant non-zero one. */
static inline int limb_count(const uint64_t *w, int n)
{
    while (n > 0 && w[n - 1] == 0) n--;
    return n;
}

/* ---- multiplication ----------------------------------------------------- */

/* Full 512-bit product, limbs least significant first. */
#if defined(__x86_64__)
/* Column by column (product scanning): each of the sixteen products is
 * added into a three-limb accumulator whose low limb is then stored, and the
 * roles of the three registers rotate. GCC 12 made 179 instructions of the
 * 128-bit C form below (carries through 128-bit temporaries); this is 96. */
#define MAC(i, j, lo, mid, hi)                              \
    "movq " #i "(%[a]), %%rax\n\t"                          \
    "mulq " #j "(%[b])\n\t"                                 \
    "addq %%rax, %[" #lo "]\n\t"                            \
    "adcq %%rdx, %[" #mid "]\n\t"                           \
    "adcq $0, %[" #hi "]\n\t"
#define COLUMN_END(k, lo, next_hi)                          \
    "movq %[" #lo "], " #k "(%[p])\n\t"                     \
    "xorl %k[" #next_hi "], %k[" #next_hi "]\n\t"
static void mul_full_scanning(const u256 *a, const u256 *b, uint64_t p[8])
{
    uint64_t c0, c1, c2;
    /* volatile: the product goes to memory, the register outputs are dead. */
    __asm__ volatile("movq 0(%[a]), %%rax\n\t"
            "mulq 0(%[b])\n\t"
            "movq %%rax, %[c0]\n\t"
            "movq %%rdx, %[c1]\n\t"
            "xorl %k[c2], %k[c2]\n\t"
            COLUMN_END(0, c0, c0)
            MAC(0, 8, c1, c2, c0) MAC(8, 0, c1, c2, c0)
            COLUMN_END(8, c1, c1)
            MAC(0, 16, c2, c0, c1) MAC(8, 8, c2, c0, c1) MAC(16, 0, c2, c0, c1)
            COLUMN_END(16, c2, c2)
            MAC(0, 24, c0, c1, c2) MAC(8, 16, c0, c1, c2) MAC(16, 8, c0, c1, c2) MAC(24, 0, c0, c1, c2)
            COLUMN_END(24, c0, c0)
            MAC(8, 24, c1, c2, c0) MAC(16, 16, c1, c2, c0) MAC(24, 8, c1, c2, c0)
            COLUMN_END(32, c1, c1)
            MAC(16, 24, c2, c0, c1) MAC(24, 16, c2, c0, c1)
            COLUMN_END(40, c2, c2)
            MAC(24, 24, c0, c1, c2)
            "movq %[c0], 48(%[p])\n\t"
            "movq %[c1], 56(%[p])"
            : [c0] "=&r"(c0), [c1] "=&r"(c1), [c2] "=&r"(c2)
            : [a] "r"(a->w), [b] "r"(b->w), [p] "r"(p)
            : "rax", "rdx", "cc", "memory");
}
#undef MAC
#undef COLUMN_END

/* Row by row with BMI2's mulx, which takes one factor in rdx and leaves the
 * flags alone: a's limb stays in rdx for a row, the row's five limbs are
 * formed by one add/adc chain and added into the four-limb accumulator by a
 * second; the accumulator's low limb is then final. 59 instructions, the
 * sixteen 64-bit multiplications included (the scanning form: 96). */
#define ROW(i, c0, c1, c2, c3, r0, r1, r2, r3, r4)          \
    "movq " #i "(%[a]), %%rdx\n\t"                        \
    "mulxq 0(%[b]), %[" #r0 "], %[" #r1 "]\n\t"           \
    "mulxq 8(%[b]), %[t], %[" #r2 "]\n\t"                 \
    "addq %[t], %[" #r1 "]\n\t"                           \
    "mulxq 16(%[b]), %[t], %[" #r3 "]\n\t"                \
    "adcq %[t], %[" #r2 "]\n\t"                           \
    "mulxq 24(%[b]), %[t], %[" #r4 "]\n\t"                \
    "adcq %[t], %[" #r3 "]\n\t"                           \
    "adcq $0, %[" #r4 "]\n\t"                             \
    "addq %[" #r0 "], %[" #c0 "]\n\t"                     \
    "adcq %[" #r1 "], %[" #c1 "]\n\t"                     \
    "adcq %[" #r2 "], %[" #c2 "]\n\t"                     \
    "adcq %[" #r3 "], %[" #c3 "]\n\t"                     \
    "adcq $0, %[" #r4 "]\n\t"                             \
    "movq %[" #c0 "], " #i "(%[p])\n\t"
static void mul_full_mulx(const u256 *a, const u256 *b, uint64_t p[8])
{
    uint64_t x0, x1, x2, x3, x4, x5, x6, x7, x8, t;
    /* volatile: the product goes to memory, the register outputs are dead. */
    __asm__ volatile(
        /* Row 0 is the accumulator itself: its low limb is p[0]. */
        "movq 0(%[a]), %%rdx\n\t"
        "mulxq 0(%[b]), %[t], %[x0]\n\t"
        "movq %[t], 0(%[p])\n\t"
        "mulxq 8(%[b]), %[t], %[x1]\n\t"
        "addq %[t], %[x0]\n\t"
        "mulxq 16(%[b]), %[t], %[x2]\n\t"
        "adcq %[t], %[x1]\n\t"
        "mulxq 24(%[b]), %[t], %[x3]\n\t"
        "adcq %[t], %[x2]\n\t"
        "adcq $0, %[x3]\n\t"
        /* Accumulator (x0..x3) holds limbs 1..4; each row frees its low
         * register and the row's top limb joins as the new high one. */
        ROW(8, x0, x1, x2, x3, x4, x5, x6, x7, x8)
        ROW(16, x1, x2, x3, x8, x0, x4, x5, x6, x7)
        ROW(24, x2, x3, x8, x7, x1, x0, x4, x5, x6)
        "movq %[x3], 32(%[p])\n\t"
        "movq %[x8], 40(%[p])\n\t"
        "movq %[x7], 48(%[p])\n\t"
        "movq %[x6], 56(%[p])"
        : [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), [x4] "=&r"(x4), [x5] "=&r"(x5),
          [x6] "=&r"(x6), [x7] "=&r"(x7), [x8] "=&r"(x8), [t] "=&r"(t)
        : [a] "r"(a->w), [b] "r"(b->w), [p] "r"(p)
        : "rdx", "cc", "memory");
}
#undef ROW

static void mul_full(const u256 *a, const u256 *b, uint64_t p[8])
{
    if (__builtin_cpu_supports("bmi2"))
        mul_full_mulx(a, b, p);
    else
        mul_full_scanning(a, b, p);
}
#else
/* Sixteen 64x64 products written out row by row. */
static void mul_full(const u256 *a, const u256 *b, uint64_t p[8])
{
    const uint64_t b0 = b->w[0], b1 = b->w[1], b2 = b->w[2], b3 = b->w[3];
    uint64_t p0, p1, p2, p3, p4, p5, p6, p7;
    u128 t;
    uint64_t ai = a->w[0];
    t = (u128)ai * b0;
    p0 = (uint64_t)t;
    t = (u128)ai * b1 + (uint64_t)(t >> 64);
    p1 = (uint64_t)t;
    t = (u128)ai * b2 + (uint64_t)(t >> 64);
    p2 = (uint64_t)t;
    t = (u128)ai * b3 + (uint64_t)(t >> 64);
    p3 = (uint64_t)t;
    p4 = (uint64_t)(t >> 64);
    /* Each further row adds a * b_j into p[i + j] with a running carry. */
#define MUL_ROW(ai, q0, q1, q2, q3, q4)                    \
    t = (u128)(ai) * b0 + q0;                              \
    q0 = (uint64_t)t;                                      \
    t = (u128)(ai) * b1 + q1 + (uint64_t)(t >> 64);        \
    q1 = (uint64_t)t;                                      \
    t = (u128)(ai) * b2 + q2 + (uint64_t)(t >> 64);        \
    q2 = (uint64_t)t;                                      \
    t = (u128)(ai) * b3 + q3 + (uint64_t)(t >> 64);        \
    q3 = (uint64_t)t;                                      \
    q4 = (uint64_t)(t >> 64);
    MUL_ROW(a->w[1], p1, p2, p3, p4, p5)
    MUL_ROW(a->w[2], p2, p3, p4, p5, p6)
    MUL_ROW(a->w[3], p3, p4, p5, p6, p7)
#undef MUL_ROW
    p[0] = p0, p[1] = p1, p[2] = p2, p[3] = p3, p[4] = p4, p[5] = p5, p[6] = p6, p[7] = p7;
}
#endif

bool u256_mul_checked(const u256 *a, const u256 *b, u256 *out)
{
    uint64_t p[8];
    mul_full(a, b, p);
    for (int i = 0; i < 4; i++) out->w[i] = p[i];
    return (p[4] | p[5] | p[6] | p[7]) == 0;
}

/* ---- division primitives ------------------------------------------------ */

/* (hi:lo) / d for hi < d; the quotient fits one limb. */
static inline uint64_t div_2by1_hw(uint64_t hi, uint64_t lo, uint64_t d)
{
#if defined(__x86_64__)
    uint64_t q, r;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d) : "cc");
    (void)r;
    return q;
#else
    return (uint64_t)((((u128)hi << 64) | lo) / d);
#endif
}

/* floor((2^128 - 1) / d) - 2^64 for normalised d (top bit set). */
static inline uint64_t reciprocal_2by1(uint64_t d) { return div_2by1_hw(~d, LIMB_MAX, d); }

/* Reciprocal of the normalised two-limb divisor (d1:d0) for 3-by-2 division:
 * floor((2^192 - 1) / (d1:d0)) - 2^64. */
static uint64_t reciprocal_3by2(uint64_t d1, uint64_t d0)
{
    uint64_t v = reciprocal_2by1(d1);
    uint64_t p = d1 * v + d0;
    if (p < d0) {
        v--;
        if (p >= d1) {
            v--;
            p -= d1;
        }
        p -= d1;
    }
    u128 t = (u128)v * d0;
    uint64_t t1 = (uint64_t)(t >> 64), t0 = (uint64_t)t;
    p += t1;
    if (p < t1) {
        v--;
        if (p > d1 || (p == d1 && t0 >= d0)) v--;
    }
    return v;
}

/* (u1:u0) / d with u1 < d, d normalised, v = reciprocal_2by1(d). */
static inline uint64_t udivrem_2by1(uint64_t u1, uint64_t u0, uint64_t d, uint64_t v, uint64_t *rem)
{
    u128 q = (u128)v * u1 + (((u128)u1 << 64) | u0);
    uint64_t q1 = (uint64_t)(q >> 64) + 1, q0 = (uint64_t)q;
    uint64_t r = u0 - q1 * d;
    /* This first adjustment is taken unpredictably often: keep it branch
     * free. The second is rare. */
    uint64_t adjust = -(uint64_t)(r > q0);
    q1 += adjust;
    r += adjust & d;
    if (__builtin_expect(r >= d, 0)) {
        q1++;
        r -= d;
    }
    *rem = r;
    return q1;
}

/* (u2:u1:u0) / (d1:d0) with (u2:u1) < (d1:d0), divisor normalised,
 * v = reciprocal_3by2(d1, d0). Returns the quotient digit; the remainder
 * goes to (*r1:*r0). */
static inline uint64_t udivrem_3by2(uint64_t u2, uint64_t u1, uint64_t u0, uint64_t d1, uint64_t d0,
                                    uint64_t v, uint64_t *r1, uint64_t *r0)
{
    u128 q = (u128)v * u2 + (((u128)u2 << 64) | u1);
    uint64_t q1 = (uint64_t)(q >> 64), q0 = (uint64_t)q;
    u128 d = ((u128)d1 << 64) | d0;
    uint64_t rh = u1 - q1 * d1;
    u128 r = (((u128)rh << 64) | u0) - (u128)d0 * q1 - d;
    q1++;
    if ((uint64_t)(r >> 64) >= q0) {
        q1--;
        r += d;
    }
    if (__builtin_expect(r >= d, 0)) {
        q1++;
        r -= d;
    }
    *r1 = (uint64_t)(r >> 64);
    *r0 = (uint64_t)r;
    return q1;
}

/* r[0..n) -= q * d[0..n); returns the limb that must still be subtracted
 * at position n. */
static inline uint64_t submul(uint64_t *r, const uint64_t *d, int n, uint64_t q)
{
    uint64_t borrow = 0;
    for (int i = 0; i < n; i++) {
        u128 p = (u128)q * d[i] + borrow;
        uint64_t lo = (uint64_t)p, hi = (uint64_t)(p >> 64);
        uint64_t t = r[i] - lo;
        hi += t > r[i];
        r[i] = t;
        borrow = hi;
    }
    return borrow;
}

/* r[0..n) += d[0..n), carry out dropped (it cancels a negative top). */
static inline void add_back(uint64_t *r, const uint64_t *d, int n)
{
    uint64_t carry = 0;
    for (int i = 0; i < n; i++) {
        u128 s = (u128)r[i] + d[i] + carry;
        r[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
}

/* Divides u[0..ulen) by the single limb d (non-zero); the quotient goes to
 * q[0..ulen) when q is non-null. Returns the remainder. */
static uint64_t divrem_by_limb(const uint64_t *u, int ulen, uint64_t d, uint64_t *q)
{
    unsigned s = (unsigned)__builtin_clzll(d);
    uint64_t dn = d << s;
    uint64_t v = reciprocal_2by1(dn);
    /* (x >> 1) >> (63 - s) is x >> (64 - s) without the undefined shift by
     * 64 when s == 0. */
    uint64_t r = (u[ulen - 1] >> 1) >> (63 - s);
    for (int i = ulen - 1; i > 0; i--) {
        uint64_t lo = (u[i] << s) | ((u[i - 1] >> 1) >> (63 - s));
        uint64_t qi = udivrem_2by1(r, lo, dn, v, &r);
        if (q) q[i] = qi;
    }
    uint64_t q0 = udivrem_2by1(r, u[0] << s, dn, v, &r);
    if (q) q[0] = q0;
    return r >> s;
}

/* Knuth D for a divisor of n >= 2 limbs. un[0..ulen] is the normalised
 * numerator with one extra top limb (ulen >= n); dn[0..n) the normalised
 * divisor. Leaves the normalised remainder in un[0..n) and writes
 * ulen - n + 1 quotient limbs to q when q is non-null. */
static inline __attribute__((always_inline)) void divrem_knuth(uint64_t *un, int ulen, const uint64_t *dn, int n,
                                                               uint64_t *q)
{
    const uint64_t d1 = dn[n - 1], d0 = dn[n - 2];
    /* Contracts reduce by the same modulus over and over (MULMOD by a field
     * prime): the reciprocal of its top limbs is kept per thread. */
    static _Thread_local uint64_t last_d1, last_d0, last_v;
    uint64_t v;
    if (d1 == last_d1 && d0 == last_d0 && last_d1) {
        v = last_v;
    } else {
        v = reciprocal_3by2(d1, d0);
        last_d1 = d1, last_d0 = d0, last_v = v;
    }

    for (int j = ulen - n; j >= 0; j--) {
        uint64_t u2 = un[j + n], u1 = un[j + n - 1], u0 = un[j + n - 2];
        uint64_t qhat;
        if (u2 == d1 && u1 == d0) {
            /* The 3-by-2 quotient would not fit a limb. The digit is then
             * exactly 2^64-1: with U the window and V the divisor,
             * U - (2^64-1)V = V - (2^64 V - U), and since the top two limbs
             * agree, 2^64 V - U < 2^(64(n-1)) <= V. The subtraction clears
             * the top limb. */
            qhat = LIMB_MAX;
            submul(un + j, dn, n, qhat);
        } else {
            uint64_t r1, r0;
            qhat = udivrem_3by2(u2, u1, u0, d1, d0, v, &r1, &r0);
            /* The top three limbs are already reduced to (r1:r0); only the
             * lower n-2 divisor limbs remain to subtract. */
            uint64_t borrow = submul(un + j, dn, n - 2, qhat);
            uint64_t b0 = r0 < borrow;
            r0 -= borrow;
            uint64_t b1 = r1 < b0;
            r1 -= b0;
            un[j + n - 2] = r0;
            un[j + n - 1] = r1;
            if (b1) {
                qhat--;
                add_back(un + j, dn, n);
            }
        }
        un[j + n] = 0;
        if (q) q[j] = qhat;
    }
}

/* General unsigned long division of u[0..ulen) (1 <= ulen <= 8) by
 * d[0..dlen) (dlen <= 4, top limb non-zero; d[dlen..4) are readable and
 * zero: d is a u256's limbs). Writes the ulen - dlen + 1
 * quotient limbs to quot when non-null and ulen >= dlen, and dlen remainder
 * limbs to rem. */
static void divrem_words(const uint64_t *u, int ulen, const uint64_t *d, int dlen, uint64_t *quot, uint64_t *rem)
{
    if (ulen < dlen) {
        for (int i = 0; i < dlen; i++) rem[i] = i < ulen ? u[i] : 0;
        return;
    }
    if (dlen == 1) {
        rem[0] = divrem_by_limb(u, ulen, d[0], quot);
        return;
    }

    /* Normalise so the divisor's top bit is set, by funnel shifts (one
     * shld each; the shift pairs they replace took ~12 instructions a limb
     * in loops that did not unroll, a quarter of a 4-by-3-limb DIV). d is
     * a whole word: all four of its limbs are normalised, unrolled, and
     * Knuth D reads the dlen it needs. */
    unsigned s = (unsigned)__builtin_clzll(d[dlen - 1]);
    uint64_t dn[4] = {d[0] << s, u256_funnel_left(d[1], d[0], s), u256_funnel_left(d[2], d[1], s),
                      u256_funnel_left(d[3], d[2], s)};
    uint64_t un[9];
    un[ulen] = u256_funnel_left(0, u[ulen - 1], s);
    for (int i = ulen - 1; i > 0; i--) un[i] = u256_funnel_left(u[i], u[i - 1], s);
    un[0] = u[0] << s;

    /* A constant divisor length lets the compiler unroll the inner loops. */
    switch (dlen) {
    case 2: divrem_knuth(un, ulen, dn, 2, quot); break;
    case 3: divrem_knuth(un, ulen, dn, 3, quot); break;
    default: divrem_knuth(un, ulen, dn, 4, quot); break;
    }

    for (int i = 0; i < dlen - 1; i++) rem[i] = u256_funnel_right(un[i], un[i + 1], s);
    rem[dlen - 1] = un[dlen - 1] >> s;
}

/* ---- division ----------------------------------------------------------- */


/* k when m == 2^k, else -1. Contracts divide and reduce by powers of two
 * for shifts and masks (sha1_divs, blake2b's ADDMOD 2^64): those need no
 * long division. */
static inline int power_of_two(const u256 *m)
{
    int k = -1;
    for (int i = 0; i < 4; i++) {
        uint64_t w = m->w[i];
        if (!w) continue;
        if (k >= 0 || (w & (w - 1))) return -1;
        k = i * 64 + __builtin_ctzll(w);
    }
    return k;
}

/* x >> k, k < 256 (u256.h's shift, in the division family's registers). */
static inline u256 high_bits(const u256 *x, int k)
{
    int limbs = k / 64, bits = k % 64;
    u256 r;
    for (int i = 0; i < 4; i++) {
        uint64_t lo = i + limbs < 4 ? x->w[i + limbs] : 0;
        uint64_t hi = i + limbs + 1 < 4 ? x->w[i + limbs + 1] : 0;
        r.w[i] = (lo >> bits) | ((hi << 1) << (63 - bits));
    }
    return r;
}

/* x mod 2^k, k < 256. */
static inline u256 low_bits(const u256 *x, int k)
{
    u256 r;
    for (int i = 0; i < 4; i++) {
        int bits = k - 64 * i;
        r.w[i] = bits >= 64 ? x->w[i] : bits <= 0 ? 0 : x->w[i] & (((uint64_t)1 << bits) - 1);
    }
    return r;
}


/* Quotient and remainder, inlined into each of the division opcodes so
 * that each keeps only the half it returns. The cheap cases first: a
 * divisor of one limb (hardware division when the dividend fits too), a
 * dividend below the divisor, a power of two. */
static inline __attribute__((always_inline)) void divmod_inline(const u256 *a, const u256 *b, u256 *q, u256 *r)
{
    *q = u256_zero(), *r = u256_zero();
    if (u256_fits_u64(b)) {
        uint64_t d = b->w[0];
        if (d == 0) return; /* EVM: x / 0 == x % 0 == 0 */
        if (u256_fits_u64(a)) {
            q->w[0] = a->w[0] / d;
            r->w[0] = a->w[0] % d;
            return;
        }
        if ((d & (d - 1)) == 0) {
            int k = __builtin_ctzll(d);
            *q = high_bits(a, k);
            r->w[0] = a->w[0] & (d - 1);
            return;
        }
        r->w[0] = divrem_by_limb(a->w, limb_count(a->w, 4), d, q->w);
        return;
    }
    if (u256_lt(a, b)) {
        *r = *a;
        return;
    }
    int k = power_of_two(b);
    if (k >= 0) {
        *q = high_bits(a, k);
        *r = low_bits(a, k);
        return;
    }
    if ((a->w[2] | a->w[3] | b->w[2] | b->w[3]) == 0) {
        /* Both within 128 bits (snailtracer's fixed-point SDIVs, every one;
         * a power of two, sha1_divs's, is cheaper still as shifts above):
         * the compiler's 128-bit division, one hardware divide for a
         * two-limb divisor, is about a third of Knuth D's instructions. */
        u128 x = (u128)a->w[1] << 64 | a->w[0], y = (u128)b->w[1] << 64 | b->w[0];
        u128 qq = x / y, rr = x - qq * y;
        q->w[0] = (uint64_t)qq, q->w[1] = (uint64_t)(qq >> 64);
        r->w[0] = (uint64_t)rr, r->w[1] = (uint64_t)(rr >> 64);
        return;
    }
    /* q and r are zero above the limbs divrem_words writes. */
    divrem_words(a->w, limb_count(a->w, 4), b->w, limb_count(b->w, 4), q->w, r->w);
}

void u256_divmod(const u256 *a, const u256 *b, u256 *quot, u256 *rem)
{
    u256 q, r;
    divmod_inline(a, b, &q, &r);
    if (quot) *quot = q;
    if (rem) *rem = r;
}

u256 u256_div(const u256 *a, const u256 *b)
{
    u256 q, r;
    divmod_inline(a, b, &q, &r);
    return q;
}

u256 u256_mod(const u256 *a, const u256 *b)
{
    u256 q, r;
    divmod_inline(a, b, &q, &r);
    return r;
}

u256 u256_sdiv(const u256 *a, const u256 *b)
{
    bool an = is_negative(a), bn = is_negative(b);
    u256 ua = an ? negate(a) : *a;
    u256 ub = bn ? negate(b) : *b;
    /* |-2^255| wraps to 2^255 itself, which read unsigned is the right
     * magnitude; -2^255 / -1 then comes out as 2^255 == -2^255. */
    u256 q, r;
    divmod_inline(&ua, &ub, &q, &r);
    return an != bn ? negate(&q) : q;
}

u256 u256_smod(const u256 *a, const u256 *b)
{
    bool an = is_negative(a);
    u256 ua = an ? negate(a) : *a;
    u256 ub = is_negative(b) ? negate(b) : *b;
    u256 q, r;
    divmod_inline(&ua, &ub, &q, &r);
    return an ? negate(&r) : r;
}

/* ---- reduction by a cached four-limb modulus --------------------------- */

/* A modulus prepared for reduction. Contracts reduce by the same modulus
 * call after call (MULMOD by a field prime: weierstrudel), so the last one
 * is kept per thread with its normalisation and reciprocal. */
struct modulus {
    uint64_t m[4];  /* as given; all zero (never looked up) means no entry */
    uint64_t dn[4]; /* m << shift, top bit set */
    uint64_t v;     /* reciprocal_3by2(dn[3], dn[2]) when dlen == 4 */
    unsigned shift;
    int dlen;       /* significant limbs of m */
    int log2;       /* k when m == 2^k, else -1 */
};

/* The last two moduli reduced by, per thread, the latest filled first:
 * mulDiv alternates MULMODs by two denominators (swap_math), which one
 * entry refilled every call (~100 instructions each). */
static _Thread_local struct modulus cached_moduli[2];

static inline bool modulus_is(const struct modulus *md, const u256 *m)
{
    return ((md->m[0] ^ m->w[0]) | (md->m[1] ^ m->w[1]) | (md->m[2] ^ m->w[2]) | (md->m[3] ^ m->w[3])) == 0;
}

/* Out of line: a new modulus is rare, the lookup below is inlined. m must
 * be non-zero. */
static __attribute__((noinline)) void modulus_fill(struct modulus *md, const u256 *m)
{
    int dlen = limb_count(m->w, 4);
    unsigned s = (unsigned)__builtin_clzll(m->w[dlen - 1]);
    for (int i = 0; i < 4; i++) {
        md->m[i] = m->w[i];
        md->dn[i] = i < dlen ? (m->w[i] << s) | (i ? (m->w[i - 1] >> 1) >> (63 - s) : 0) : 0;
    }
    md->shift = s;
    md->dlen = dlen;
    md->log2 = power_of_two(m);
    md->v = dlen == 4 ? reciprocal_3by2(md->dn[3], md->dn[2]) : 0;
}

/* The second entry, else a new first one (the old first kept second). */
static __attribute__((noinline)) const struct modulus *modulus_other(const u256 *m)
{
    if (modulus_is(&cached_moduli[1], m)) return &cached_moduli[1];
    cached_moduli[1] = cached_moduli[0];
    modulus_fill(&cached_moduli[0], m);
    return &cached_moduli[0];
}

/* m must be non-zero. A hit on the first entry is one four-word compare. */
static inline const struct modulus *modulus_prepare(const u256 *m)
{
    if (__builtin_expect(modulus_is(&cached_moduli[0], m), 1)) return &cached_moduli[0];
    return modulus_other(m);
}

/* One step of the reduction below: the five-limb window (n4:n3:n2:n1:n0),
 * whose top four limbs are below the normalised divisor D = md->dn, becomes
 * the window mod D, in (n3:n2:n1:n0). The quotient digit comes from the
 * 3-by-2 reciprocal division of (n4:n3:n2) by D's top two limbs (its
 * remainder replaces (n3:n2)); then the digit times D's two low limbs is
 * subtracted, with one add-back if that borrows. The quotient itself is not
 * needed. (n4:n3) must not equal D's top two limbs (the caller's rare case). */
#if defined(__x86_64__)
/* In one asm block: GCC 12 kept the 128-bit temporaries of the C form below
 * on the stack and branched on both 3-by-2 corrections (85 instructions a
 * step); this is 45, the first correction by cmov (taken unpredictably), the
 * second and the add-back by branches that are almost never taken. */
static inline __attribute__((always_inline)) void reduce_step(uint64_t *n0, uint64_t *n1, uint64_t *n2, uint64_t *n3,
                                                              uint64_t n4, const struct modulus *md)
{
    uint64_t w0 = *n0, w1 = *n1, w2 = *n2, w3 = *n3, q0, q1, t0, t1;
    __asm__("movq %[v], %%rax\n\t"
            "mulq %[n4]\n\t"
            "addq %[w3], %%rax\n\t"
            "adcq %[n4], %%rdx\n\t" /* (q1:q0) = v * n4 + (n4:n3) */
            "movq %%rax, %[q0]\n\t"
            "movq %%rdx, %[q1]\n\t"
            "imulq %[d3], %%rdx\n\t"
            "subq %%rdx, %[w3]\n\t" /* n3 - q1 * d3, mod 2^64 */
            "movq %[q1], %%rax\n\t"
            "mulq %[d2]\n\t"
            "subq %%rax, %[w2]\n\t"
            "sbbq %%rdx, %[w3]\n\t" /* (w3:w2) -= q1 * d2 */
            "subq %[d2], %[w2]\n\t"
            "sbbq %[d3], %[w3]\n\t" /* (w3:w2) -= (d3:d2): the remainder for digit q1 + 1 */
            "movq %[w2], %[t0]\n\t"
            "movq %[w3], %[t1]\n\t"
            "addq %[d2], %[t0]\n\t"
            "adcq %[d3], %[t1]\n\t" /* the remainder for digit q1 */
            "leaq 1(%[q1]), %%rdx\n\t"
            "cmpq %[q0], %[w3]\n\t"
            "cmovbq %%rdx, %[q1]\n\t" /* w3 < q0: the digit is q1 + 1 */
            "cmovaeq %[t0], %[w2]\n\t"
            "cmovaeq %[t1], %[w3]\n\t"
            "cmpq %[d2], %[w2]\n\t"
            "movq %[w3], %[t1]\n\t"
            "sbbq %[d3], %[t1]\n\t"
            "jb 1f\n\t" /* rarely, the remainder is still >= (d3:d2) */
            "addq $1, %[q1]\n\t"
            "subq %[d2], %[w2]\n\t"
            "sbbq %[d3], %[w3]\n"
            "1:\n\t"
            "movq %[q1], %%rax\n\t"
            "mulq %[d0]\n\t"
            "movq %%rax, %[t0]\n\t"
            "movq %%rdx, %[t1]\n\t"
            "movq %[q1], %%rax\n\t"
            "mulq %[d1]\n\t"
            "addq %%rax, %[t1]\n\t"
            "adcq $0, %%rdx\n\t" /* (rdx:t1:t0) = digit * (d1:d0) */
            "subq %[t0], %[w0]\n\t"
            "sbbq %[t1], %[w1]\n\t"
            "sbbq %%rdx, %[w2]\n\t"
            "sbbq $0, %[w3]\n\t"
            "jnc 2f\n\t" /* rarely, the digit was one too large */
            "addq %[d0], %[w0]\n\t"
            "adcq %[d1], %[w1]\n\t"
            "adcq %[d2], %[w2]\n\t"
            "adcq %[d3], %[w3]\n"
            "2:"
            : [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3), [q0] "=&r"(q0), [q1] "=&r"(q1),
              [t0] "=&r"(t0), [t1] "=&r"(t1)
            : [n4] "r"(n4), [v] "m"(md->v), [d0] "m"(md->dn[0]), [d1] "m"(md->dn[1]), [d2] "m"(md->dn[2]),
              [d3] "m"(md->dn[3])
            : "rax", "rdx", "cc");
    *n0 = w0, *n1 = w1, *n2 = w2, *n3 = w3;
}
#else
static inline void reduce_step(uint64_t *n0, uint64_t *n1, uint64_t *n2, uint64_t *n3, uint64_t n4,
                               const struct modulus *md)
{
    const uint64_t d0 = md->dn[0], d1 = md->dn[1], d2 = md->dn[2], d3 = md->dn[3];
    uint64_t x1, x0;
    uint64_t q = udivrem_3by2(n4, *n3, *n2, d3, d2, md->v, &x1, &x0);
    /* (x1:x0:n1:n0) -= q * (d1:d0), a three-limb product. */
    u128 lo = (u128)q * d0, hi = (u128)q * d1;
    u128 mid = (u128)(uint64_t)(lo >> 64) + (uint64_t)hi;
    uint64_t p0 = (uint64_t)lo, p1 = (uint64_t)mid, p2 = (uint64_t)(hi >> 64) + (uint64_t)(mid >> 64);
    uint64_t w0 = *n0 - p0, b0 = *n0 < p0;
    uint64_t w1 = *n1 - p1, b1 = *n1 < p1;
    b1 |= w1 < b0, w1 -= b0;
    uint64_t w2 = x0 - p2, b2 = x0 < p2;
    b2 |= w2 < b1, w2 -= b1;
    uint64_t w3 = x1 - b2;
    if (x1 < b2) { /* the digit was one too large: add the divisor back */
        u256 w = {{w0, w1, w2, w3}}, d = {{d0, d1, d2, d3}};
        w = u256_add(&w, &d);
        w0 = w.w[0], w1 = w.w[1], w2 = w.w[2], w3 = w.w[3];
    }
    *n0 = w0, *n1 = w1, *n2 = w2, *n3 = w3;
}
#endif

/* The window (r3:r2:r1:r0:w0), its top four limbs below the normalised
 * divisor, becomes its remainder in (r3:r2:r1:r0). */
static inline __attribute__((always_inline)) void reduce_digit(uint64_t *r3, uint64_t *r2, uint64_t *r1,
                                                               uint64_t *r0, uint64_t w0, const struct modulus *md)
{
    if (__builtin_expect(*r3 == md->dn[3] && *r2 == md->dn[2], 0)) {
        /* The digit is 2^64 - 1 (see divrem_knuth): the remainder is
         * W - 2^64 D + D, below D, so exact modulo 2^256. */
        u256 w = {{w0, *r0, *r1, 0}}, top_d = {{0, md->dn[0], md->dn[1], 0}};
        u256 d = {{md->dn[0], md->dn[1], md->dn[2], md->dn[3]}};
        w = u256_sub(&w, &top_d);
        w = u256_add(&w, &d);
        *r0 = w.w[0], *r1 = w.w[1], *r2 = w.w[2], *r3 = w.w[3];
        return;
    }
    uint64_t n0 = w0, n1 = *r0, n2 = *r1, n3 = *r2;
    reduce_step(&n0, &n1, &n2, &n3, *r3, md);
    *r0 = n0, *r1 = n1, *r2 = n2, *r3 = n3;
}

/* u[0..ulen) mod md's four-limb modulus, 4 <= ulen <= 8: Knuth D on the
 * numerator shifted left by md->shift, with the four-limb partial remainder
 * in locals; each step brings in the next limb (reduce_step). */
static void reduce_by_4limbs(const uint64_t *u, int ulen, const struct modulus *md, uint64_t rem[4])
{
    const unsigned s = md->shift;
    /* Limb i of u << s (the funnel shift also right for s == 0). */
#define NORM(i) ((i) ? u256_funnel_left(u[i], u[(i) - 1], s) : u[0] << s)
    /* The window starts as the normalised numerator's top four limbs, below
     * the divisor as the topmost is below 2^s <= 2^63 <= d3. When the
     * numerator's top four limbs are below the modulus (a product of two
     * reduced operands: every MULMOD of a field's elements), the window can
     * start one limb lower, its limb above being 0: one step fewer. */
    const uint64_t *top = u + ulen - 4;
    bool top_reduced = top[3] != md->m[3]   ? top[3] < md->m[3]
                       : top[2] != md->m[2] ? top[2] < md->m[2]
                       : top[1] != md->m[1] ? top[1] < md->m[1]
                                            : top[0] < md->m[0];
    uint64_t r3, r2, r1, r0;
    int j;
    if (top_reduced) {
        if (ulen == 4) { /* u < m already */
            memcpy(rem, u, 4 * sizeof *rem);
            return;
        }
        r3 = NORM(ulen - 1), r2 = NORM(ulen - 2), r1 = NORM(ulen - 3), r0 = NORM(ulen - 4);
        j = ulen - 5;
    } else {
        r3 = (u[ulen - 1] >> 1) >> (63 - s);
        r2 = NORM(ulen - 1), r1 = NORM(ulen - 2), r0 = NORM(ulen - 3);
        j = ulen - 4;
    }
    for (; j >= 0; j--) reduce_digit(&r3, &r2, &r1, &r0, NORM(j), md);
#undef NORM
    rem[0] = u256_funnel_right(r0, r1, s);
    rem[1] = u256_funnel_right(r1, r2, s);
    rem[2] = u256_funnel_right(r2, r3, s);
    rem[3] = r3 >> s;
}

/* reduce_by_4limbs for eight limbs whose top four are below the modulus
 * (a product of two reduced operands), with the four steps unrolled: the
 * limbs are read at constant offsets and the window rotates by renaming. */
static void reduce_8limbs_top_reduced(const uint64_t u[8], const struct modulus *md, uint64_t rem[4])
{
    const unsigned s = md->shift;
    uint64_t r3 = u256_funnel_left(u[7], u[6], s), r2 = u256_funnel_left(u[6], u[5], s);
    uint64_t r1 = u256_funnel_left(u[5], u[4], s), r0 = u256_funnel_left(u[4], u[3], s);
    reduce_digit(&r3, &r2, &r1, &r0, u256_funnel_left(u[3], u[2], s), md);
    reduce_digit(&r3, &r2, &r1, &r0, u256_funnel_left(u[2], u[1], s), md);
    reduce_digit(&r3, &r2, &r1, &r0, u256_funnel_left(u[1], u[0], s), md);
    reduce_digit(&r3, &r2, &r1, &r0, u[0] << s, md);
    rem[0] = u256_funnel_right(r0, r1, s);
    rem[1] = u256_funnel_right(r1, r2, s);
    rem[2] = u256_funnel_right(r2, r3, s);
    rem[3] = r3 >> s;
}

/* u[0..ulen) mod m for a prepared m, ulen <= 8. */
static u256 reduce(const uint64_t *u, int ulen, const u256 *m, const struct modulus *md)
{
    u256 r = u256_zero();
    if (ulen == 0) return r;
    if (md->dlen == 4 && ulen >= 4)
        reduce_by_4limbs(u, ulen, md, r.w);
    else
        divrem_words(u, ulen, m->w, md->dlen, NULL, r.w);
    return r;
}

u256 u256_addmod(const u256 *a, const u256 *b, const u256 *m)
{
    if (u256_is_zero(m)) return u256_zero();

    u256 s = u256_add(a, b);
    bool carry = u256_lt(&s, a);
    if (u256_lt(a, m) && u256_lt(b, m)) {
        /* Common case: a + b < 2m, one conditional subtraction suffices. */
        if (carry || !u256_lt(&s, m)) s = u256_sub(&s, m);
        return s;
    }
    const struct modulus *md = modulus_prepare(m);
    if (md->log2 >= 0) return low_bits(&s, md->log2); /* the carry out, 2^256, is 0 mod 2^k */
    uint64_t sum[5] = {s.w[0], s.w[1], s.w[2], s.w[3], carry};
    return reduce(sum, limb_count(sum, 5), m, md);
}

/* Every modulus but a four-limb one that is not a power of two (the field
 * primes), out of line so that the common case below keeps a short
 * prologue. */
static __attribute__((noinline)) u256 mulmod_other(const u256 *a, const u256 *b, const u256 *m)
{
    if (u256_is_zero(m)) return u256_zero();
    if ((m->w[0] & m->w[1] & m->w[2] & m->w[3]) == UINT64_MAX) {
        /* m = 2^256 - 1: mulmod(x, y, not(0)) is how Solidity's mulDiv
         * (Uniswap's FullMath, OpenZeppelin's Math) gets a product's high
         * half, every other MULMOD of swap_math. 2^256 is 1 modulo m, so
         * hi * 2^256 + lo is hi + lo: an add, no division (nor a change of
         * the cached modulus, which the call after uses). */
        uint64_t p[8];
        mul_full(a, b, p);
        u256 lo = {{p[0], p[1], p[2], p[3]}}, hi = {{p[4], p[5], p[6], p[7]}};
        u256 s = u256_add(&lo, &hi);
        if (u256_lt(&s, &lo)) { /* the carry, 2^256, is 1: s + 1 <= m as hi <= 2^256 - 2 */
            u256 one = u256_from_u64(1);
            s = u256_add(&s, &one);
        }
        if ((s.w[0] & s.w[1] & s.w[2] & s.w[3]) == UINT64_MAX) return u256_zero(); /* m itself */
        return s;
    }
    int k = power_of_two(m);
    if (k >= 0) { /* the product's bits from 2^256 up are 0 mod 2^k */
        /* Tested before the cached modulus, which it then leaves alone:
         * mulDiv by 2^96 (Uniswap's Q96) alternates with a MULMOD by the
         * denominator, and refilling the cache for each cost ~100
         * instructions a call. */
        u256 low = u256_mul(a, b);
        return low_bits(&low, k);
    }
    const struct modulus *md = modulus_prepare(m);
    uint64_t p[8];
    mul_full(a, b, p);
    return reduce(p, limb_count(p, 8), m, md);
}

u256 u256_mulmod(const u256 *a, const u256 *b, const u256 *m)
{
    if (m->w[3] != 0 && (m->w[0] & m->w[1] & m->w[2] & m->w[3]) != UINT64_MAX) {
        const struct modulus *md = modulus_prepare(m);
        if (md->log2 < 0) { /* a field prime: straight to the four-limb reduction */
            uint64_t p[8];
            mul_full(a, b, p);
            u256 r;
            if (p[7] != 0 && (p[7] != md->m[3] ? p[7] < md->m[3]
                              : p[6] != md->m[2] ? p[6] < md->m[2]
                              : p[5] != md->m[1] ? p[5] < md->m[1]
                                                 : p[4] < md->m[0]))
                reduce_8limbs_top_reduced(p, md, r.w);
            else /* a product of fewer than five limbs is reduced as four
                  * (its top four, the whole of it, then compared with m) */
                reduce_by_4limbs(p, 4 + limb_count(p + 4, 4), md, r.w);
            return r;
        }
    }
    return mulmod_other(a, b, m);
}

u256 u256_exp(const u256 *base, const u256 *exponent)
{
    unsigned bits = 256 - u256_clz(exponent);
    if (bits == 0) return u256_from_u64(1);
    if (u256_fits_u64(base)) {
        if (base->w[0] <= 1) return *base;
        if (base->w[0] == 2) { /* 2**n, common in compiled code */
            u256 one = u256_from_u64(1);
            return u256_shl(exponent, &one);
        }
    }

    /* Left to right: start from the top set bit, square for every lower bit
     * and multiply in the base where the bit is set. */
    u256 r = *base;
    for (int i = (int)bits - 2; i >= 0; i--) {
        r = u256_mul(&r, &r);
        if ((exponent->w[i / 64] >> (i % 64)) & 1) r = u256_mul(&r, base);
    }
    return r;
}

