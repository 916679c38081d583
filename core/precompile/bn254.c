/* BN254 field tower, groups and the optimal ate pairing. See bn254.h.
 *
 * Constants in Montgomery form were derived offline from p, u and
 * xi = 9 + i; the unit tests check them against their definitions (field
 * results against GMP, Frobenius maps against exponentiation by p^k, the
 * twist and generator against the published G2 generator). */
#include "precompile/bn254.h"

#include <string.h>
#include <x86intrin.h>

typedef unsigned __int128 u128;
typedef bn254_fp fp;
typedef bn254_fp2 fp2;
typedef bn254_fp6 fp6;
typedef bn254_fp12 fp12;

/* ------------------------------------------------------------------ */
/* Constants                                                            */
/* ------------------------------------------------------------------ */

static const fp P_MOD = {{0x3c208c16d87cfd47ULL, 0x97816a916871ca8dULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL}};
/* -p^-1 mod 2^64, for Montgomery reduction. */
#define P_INV 0x87d20782e4866389ULL
/* 2^256 mod p (one in Montgomery form), 2^512 mod p, 2^768 mod p. */
static const fp FP_ONE = {{0xd35d438dc58f0d9dULL, 0x0a78eb28f5c70b3dULL, 0x666ea36f7879462cULL, 0x0e0a77c19a07df2fULL}};
static const fp FP_R2 = {{0xf32cfc5b538afa89ULL, 0xb5e71911d44501fbULL, 0x47ab1eff0a417ff6ULL, 0x06d89f71cab8351fULL}};
static const fp FP_R3 = {{0xb1cd6dafda1530dfULL, 0x62f210e6a7283db6ULL, 0xef7f0b0c0ada0afbULL, 0x20fd6e902d592544ULL}};

/* 3 / xi and 9 / xi: the twist coefficient b' and 3b'. */
static const fp2 TWIST_B = {{{0x3bf938e377b802a8ULL, 0x020b1b273633535dULL, 0x26b7edf049755260ULL, 0x2514c6324384a86dULL}},
                            {{0x38e7ecccd1dcff67ULL, 0x65f0b37d93ce0d3eULL, 0xd749d0dd22ac00aaULL, 0x0141b9ce4a688d4dULL}}};
static const fp2 TWIST_B3 = {{{0x3baa927cb62e0d6aULL, 0xd71e7c52d1b664fdULL, 0x03873e63d95d4664ULL, 0x0e75b5b1082ab8f4ULL}},
                             {{0xaab7c6667596fe35ULL, 0x31d21a78bb6a27baULL, 0x85dd7297680401ffULL, 0x03c52d6adf39a7e9ULL}}};

/* Frobenius coefficients: FROB1[k] = xi^(k(p-1)/6), FROB2[k] = xi^(k(p^2-1)/6)
 * (in Fp, so only the real part is stored), FROB3[k] = xi^(k(p^3-1)/6),
 * for k = 1..5 (index k-1). Multiplying the coefficient of w^k by these
 * after conjugation is the p^n power map. */
static const fp2 FROB1[5] = {
    {{{0xaf9ba69633144907ULL, 0xca6b1d7387afb78aULL, 0x11bded5ef08a2087ULL, 0x02f34d751a1f3a7cULL}}, {{0xa222ae234c492d72ULL, 0xd00f02a4565de15bULL, 0xdc2ff3a253dfc926ULL, 0x10a75716b3899551ULL}}},
    {{{0xb5773b104563ab30ULL, 0x347f91c8a9aa6454ULL, 0x7a007127242e0991ULL, 0x1956bcd8118214ecULL}}, {{0x6e849f1ea0aa4757ULL, 0xaa1c7b6d89f89141ULL, 0xb6e713cdfae0ca3aULL, 0x26694fbb4e82ebc3ULL}}},
    {{{0xe4bbdd0c2936b629ULL, 0xbb30f162e133bacbULL, 0x31a9d1b6f9645366ULL, 0x253570bea500f8ddULL}}, {{0xa1d77ce45ffe77c7ULL, 0x07affd117826d1dbULL, 0x6d16bd27bb7edc6bULL, 0x2c87200285defeccULL}}},
    {{{0x7361d77f843abe92ULL, 0xa5bb2bd3273411fbULL, 0x9c941f314b3e2399ULL, 0x15df9cddbb9fd3ecULL}}, {{0x5dddfd154bd8c949ULL, 0x62cb29a5a4445b60ULL, 0x37bc870a0c7dd2b9ULL, 0x24830a9d3171f0fdULL}}},
    {{{0xc970692f41690fe7ULL, 0xe240342127694b0bULL, 0x32bee66b83c459e8ULL, 0x12aabced0ab08841ULL}}, {{0x0d485d2340aebfa9ULL, 0x05193418ab2fcc57ULL, 0xd3b0a40b8a4910f5ULL, 0x2f21ebb535d2925aULL}}},
};
static const fp FROB2[5] = {
    {{0xca8d800500fa1bf2ULL, 0xf0c5d61468b39769ULL, 0x0e201271ad0d4418ULL, 0x04290f65bad856e6ULL}},
    {{0x3350c88e13e80b9cULL, 0x7dce557cdb5e56b9ULL, 0x6001b4b8b615564aULL, 0x2682e617020217e0ULL}},
    {{0x68c3488912edefaaULL, 0x8d087f6872aabf4fULL, 0x51e1a24709081231ULL, 0x2259d6b14729c0faULL}},
    {{0x71930c11d782e155ULL, 0xa6bb947cffbe3323ULL, 0xaa303344d4741444ULL, 0x2c3b3f0d26594943ULL}},
    {{0x08cfc388c494f1abULL, 0x19b315148d1373d4ULL, 0x584e90fdcb6c0213ULL, 0x09e1685bdf2f8849ULL}},
};
static const fp2 FROB3[5] = {
    {{{0x365316184e46d97dULL, 0x0af7129ed4c96d9fULL, 0x659da72fca1009b5ULL, 0x08116d8983a20d23ULL}}, {{0xb1df4af7c39c1939ULL, 0x3d9f02878a73bf7fULL, 0x9b2220928caf0ae0ULL, 0x26684515eff054a6ULL}}},
    {{{0xc9af22f716ad6badULL, 0xb311782a4aa662b2ULL, 0x19eeaf64e248c7f4ULL, 0x20273e77e3439f82ULL}}, {{0xacc02860f7ce93acULL, 0x3933d5817ba76b4cULL, 0x69e6188b446c8467ULL, 0x0a46036d4417cc55ULL}}},
    {{{0x5764af0aaf46471eULL, 0xdc50792e873e0fc1ULL, 0x86a673ff881d04f6ULL, 0x0b2eddb43c30a74cULL}}, {{0x9a490f32787e8580ULL, 0x8fd16d7ff04af8b1ULL, 0x4b39888ec6027bf2ULL, 0x03dd2e705b52a15dULL}}},
    {{{0x448a93a57b6762dfULL, 0xbfd62df528fdeadfULL, 0xd858f5d00e9bd47aULL, 0x06b03d4d3476ec58ULL}}, {{0x2b19daf4bcc936d1ULL, 0xa1a54e7a56f4299fULL, 0xb533eee05adeaef1ULL, 0x170c812b84dda0b2ULL}}},
    {{{0xe0bc4b2275cf559fULL, 0xc238b945c154e60fULL, 0x803982a5929a7d5eULL, 0x15ce052df7e4a37eULL}}, {{0x2d28efbdbf3799a7ULL, 0x9b097e3c1ad60773ULL, 0x982d4113af4a535bULL, 0x24e18991e3056063ULL}}},
};

/* The G2 generator of EIP-197. */
static const fp2 G2_GEN_X = {{{0x8e83b5d102bc2026ULL, 0xdceb1935497b0172ULL, 0xfbb8264797811adfULL, 0x19573841af96503bULL}},
                             {{0xafb4737da84c6140ULL, 0x6043dd5a5802d8c4ULL, 0x09e950fc52a02f86ULL, 0x14fef0833aea7b6bULL}}};
static const fp2 G2_GEN_Y = {{{0x619dfa9d886be9f6ULL, 0xfe7fd297f59e9b78ULL, 0xff9e1a62231b7dfeULL, 0x28fd7eebae9e4206ULL}},
                             {{0x64095b56c71856eeULL, 0xdc57f922327d3cbbULL, 0x55f935be33351076ULL, 0x0da4a0e693fd6482ULL}}};

/* 6u+2 in non-adjacent form, most significant digit first, for the Miller
 * loop (u = 4965661367192848881 is the BN parameter). */
static const int8_t ATE_LOOP_NAF[66] = {
    1, 0, -1, 0, 1, 0, 0, 0, -1, 0, -1, 0, 0, 0, -1, 0, 1, 0, -1, 0, 0, -1, 0,
    0, 0, 0, 0, 1, 0, 0, -1, 0, 1, 0, 0, -1, 0, 0, 0, 0, -1, 0, 1, 0, 0, 0,
    -1, 0, -1, 0, 0, 1, 0, 0, 0, -1, 0, 0, -1, 0, 1, 0, 1, 0, 0, 0};
/* u in non-adjacent form, most significant digit first, for the hard part
 * of the final exponentiation. */
static const int8_t U_NAF[63] = {
    1, 0, 0, 0, 1, 0, 1, 0, 0, -1, 0, 1, 0, 1, 0, -1, 0, 0, 1, 0, 1, 0, -1, 0,
    -1, 0, -1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, -1, 0, 1, 0, 0, 1,
    0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, -1, 0, 0, 0, 1};

/* ------------------------------------------------------------------ */
/* Fp                                                                   */
/* ------------------------------------------------------------------ */

/* Limb arithmetic uses the carry intrinsics so that the compiler emits
 * adc/sbb chains, and selects with masks: the conditional corrections of
 * modular add/sub are data dependent, and branches on them mispredict
 * (measured: a 2-pair pairing check went from 2.5 ms to 1.2 ms). */
typedef unsigned long long ull;

/* Subtracts p when a is in [p, 2p). */
static inline void fp_reduce_once(fp *a)
{
    ull s0, s1, s2, s3;
    unsigned char b = _subborrow_u64(0, a->l[0], P_MOD.l[0], &s0);
    b = _subborrow_u64(b, a->l[1], P_MOD.l[1], &s1);
    b = _subborrow_u64(b, a->l[2], P_MOD.l[2], &s2);
    b = _subborrow_u64(b, a->l[3], P_MOD.l[3], &s3);
    uint64_t keep = -(uint64_t)b; /* all ones when a < p */
    a->l[0] = (a->l[0] & keep) | (s0 & ~keep);
    a->l[1] = (a->l[1] & keep) | (s1 & ~keep);
    a->l[2] = (a->l[2] & keep) | (s2 & ~keep);
    a->l[3] = (a->l[3] & keep) | (s3 & ~keep);
}

static inline void fp_add(fp *r, const fp *a, const fp *b)
{
    /* p < 2^254, so the sum of two reduced values cannot carry out. */
    ull t0, t1, t2, t3;
    unsigned char c = _addcarry_u64(0, a->l[0], b->l[0], &t0);
    c = _addcarry_u64(c, a->l[1], b->l[1], &t1);
    c = _addcarry_u64(c, a->l[2], b->l[2], &t2);
    (void)_addcarry_u64(c, a->l[3], b->l[3], &t3);
    r->l[0] = t0;
    r->l[1] = t1;
    r->l[2] = t2;
    r->l[3] = t3;
    fp_reduce_once(r);
}

static inline void fp_sub(fp *r, const fp *a, const fp *b)
{
    ull t0, t1, t2, t3;
    unsigned char c = _subborrow_u64(0, a->l[0], b->l[0], &t0);
    c = _subborrow_u64(c, a->l[1], b->l[1], &t1);
    c = _subborrow_u64(c, a->l[2], b->l[2], &t2);
    c = _subborrow_u64(c, a->l[3], b->l[3], &t3);
    uint64_t m = -(uint64_t)c; /* add p back after a borrow */
    c = _addcarry_u64(0, t0, P_MOD.l[0] & m, &t0);
    c = _addcarry_u64(c, t1, P_MOD.l[1] & m, &t1);
    c = _addcarry_u64(c, t2, P_MOD.l[2] & m, &t2);
    (void)_addcarry_u64(c, t3, P_MOD.l[3] & m, &t3);
    r->l[0] = t0;
    r->l[1] = t1;
    r->l[2] = t2;
    r->l[3] = t3;
}

static inline void fp_dbl(fp *r, const fp *a) { fp_add(r, a, a); }

static inline bool fp_is_zero(const fp *a) { return (a->l[0] | a->l[1] | a->l[2] | a->l[3]) == 0; }

/* 0 - a: zero stays zero (no borrow), anything else becomes p - a. */
static inline void fp_neg(fp *r, const fp *a)
{
    static const fp zero = {{0, 0, 0, 0}};
    fp_sub(r, &zero, a);
}

static inline bool fp_eq(const fp *a, const fp *b)
{
    return ((a->l[0] ^ b->l[0]) | (a->l[1] ^ b->l[1]) | (a->l[2] ^ b->l[2]) | (a->l[3] ^ b->l[3])) == 0;
}

/* Montgomery product a*b/2^256 mod p (CIOS). Because the top limb of p is
 * below 2^62, the running sum never needs a fifth word. */
static inline void fp_mul(fp *r, const fp *a, const fp *b)
{
    const uint64_t p0 = P_MOD.l[0], p1 = P_MOD.l[1], p2 = P_MOD.l[2], p3 = P_MOD.l[3];
    const uint64_t a0 = a->l[0], a1 = a->l[1], a2 = a->l[2], a3 = a->l[3];
    uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        uint64_t bi = b->l[i];
        u128 A = (u128)a0 * bi + t0;
        t0 = (uint64_t)A;
        uint64_t m = t0 * P_INV;
        u128 C = (u128)m * p0 + t0;
        A = (u128)a1 * bi + t1 + (uint64_t)(A >> 64);
        t1 = (uint64_t)A;
        C = (u128)m * p1 + t1 + (uint64_t)(C >> 64);
        t0 = (uint64_t)C;
        A = (u128)a2 * bi + t2 + (uint64_t)(A >> 64);
        t2 = (uint64_t)A;
        C = (u128)m * p2 + t2 + (uint64_t)(C >> 64);
        t1 = (uint64_t)C;
        A = (u128)a3 * bi + t3 + (uint64_t)(A >> 64);
        t3 = (uint64_t)A;
        C = (u128)m * p3 + t3 + (uint64_t)(C >> 64);
        t2 = (uint64_t)C;
        t3 = (uint64_t)(C >> 64) + (uint64_t)(A >> 64);
    }
    r->l[0] = t0;
    r->l[1] = t1;
    r->l[2] = t2;
    r->l[3] = t3;
    fp_reduce_once(r);
}

static inline void fp_sqr(fp *r, const fp *a) { fp_mul(r, a, a); }

/* a/2 mod p: add p when a is odd (making it even), then shift. */
static inline void fp_half(fp *r, const fp *a)
{
    uint64_t m = -(a->l[0] & 1);
    ull t0, t1, t2, t3;
    unsigned char c = _addcarry_u64(0, a->l[0], P_MOD.l[0] & m, &t0);
    c = _addcarry_u64(c, a->l[1], P_MOD.l[1] & m, &t1);
    c = _addcarry_u64(c, a->l[2], P_MOD.l[2] & m, &t2);
    (void)_addcarry_u64(c, a->l[3], P_MOD.l[3] & m, &t3);
    /* a + p < 2^255: no carry out of the top limb */
    r->l[0] = (t0 >> 1) | (t1 << 63);
    r->l[1] = (t1 >> 1) | (t2 << 63);
    r->l[2] = (t2 >> 1) | (t3 << 63);
    r->l[3] = t3 >> 1;
}

static inline bool limbs_is_one(const uint64_t a[4]) { return a[0] == 1 && (a[1] | a[2] | a[3]) == 0; }

static inline void limbs_shr1(uint64_t a[4])
{
    a[0] = (a[0] >> 1) | (a[1] << 63);
    a[1] = (a[1] >> 1) | (a[2] << 63);
    a[2] = (a[2] >> 1) | (a[3] << 63);
    a[3] >>= 1;
}

static inline bool limbs_geq(const uint64_t a[4], const uint64_t b[4])
{
    for (int i = 3; i >= 0; i--)
        if (a[i] != b[i]) return a[i] > b[i];
    return true;
}

static inline void limbs_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 d = (u128)a[i] - b[i] - borrow;
        r[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
}

/* Inversion by the binary extended Euclidean algorithm (much faster than a
 * Fermat exponentiation; timing leaks are irrelevant for public inputs).
 * The input a*R inverts to a^-1*R^-1; one Montgomery product by R^3 turns
 * that into a^-1*R. Halving and subtraction mod p work on plain residues
 * as well as on Montgomery ones. */
static void fp_inv(fp *r, const fp *a)
{
    if (fp_is_zero(a)) {
        *r = *a;
        return;
    }
    fp u = *a, v = P_MOD, x1 = {{1, 0, 0, 0}}, x2 = {{0, 0, 0, 0}};
    /* Invariant: x1*a == u and x2*a == v (mod p). */
    while (!limbs_is_one(u.l) && !limbs_is_one(v.l)) {
        while ((u.l[0] & 1) == 0) {
            limbs_shr1(u.l);
            fp_half(&x1, &x1);
        }
        while ((v.l[0] & 1) == 0) {
            limbs_shr1(v.l);
            fp_half(&x2, &x2);
        }
        if (limbs_geq(u.l, v.l)) {
            limbs_sub(u.l, u.l, v.l);
            fp_sub(&x1, &x1, &x2);
        } else {
            limbs_sub(v.l, v.l, u.l);
            fp_sub(&x2, &x2, &x1);
        }
    }
    fp_mul(r, limbs_is_one(u.l) ? &x1 : &x2, &FP_R3);
}

static inline void fp_from_u64(fp *r, uint64_t v)
{
    fp t = {{v, 0, 0, 0}};
    fp_mul(r, &t, &FP_R2);
}

/* ------------------------------------------------------------------ */
/* Fp2 = Fp[i]/(i^2 + 1)                                                */
/* ------------------------------------------------------------------ */

static inline void fp2_add(fp2 *r, const fp2 *a, const fp2 *b)
{
    fp_add(&r->c0, &a->c0, &b->c0);
    fp_add(&r->c1, &a->c1, &b->c1);
}

static inline void fp2_sub(fp2 *r, const fp2 *a, const fp2 *b)
{
    fp_sub(&r->c0, &a->c0, &b->c0);
    fp_sub(&r->c1, &a->c1, &b->c1);
}

static inline void fp2_dbl(fp2 *r, const fp2 *a)
{
    fp_dbl(&r->c0, &a->c0);
    fp_dbl(&r->c1, &a->c1);
}

static inline void fp2_neg(fp2 *r, const fp2 *a)
{
    fp_neg(&r->c0, &a->c0);
    fp_neg(&r->c1, &a->c1);
}

static inline void fp2_conj(fp2 *r, const fp2 *a)
{
    r->c0 = a->c0;
    fp_neg(&r->c1, &a->c1);
}

static inline void fp2_half(fp2 *r, const fp2 *a)
{
    fp_half(&r->c0, &a->c0);
    fp_half(&r->c1, &a->c1);
}

static inline bool fp2_is_zero(const fp2 *a) { return fp_is_zero(&a->c0) && fp_is_zero(&a->c1); }
static inline bool fp2_eq(const fp2 *a, const fp2 *b) { return fp_eq(&a->c0, &b->c0) && fp_eq(&a->c1, &b->c1); }

static inline void fp2_set_zero(fp2 *r) { memset(r, 0, sizeof *r); }
static inline void fp2_set_one(fp2 *r)
{
    r->c0 = FP_ONE;
    memset(&r->c1, 0, sizeof r->c1);
}

/* Karatsuba: three base-field products. */
static inline void fp2_mul(fp2 *r, const fp2 *a, const fp2 *b)
{
    fp t0, t1, s0, s1;
    fp_mul(&t0, &a->c0, &b->c0);
    fp_mul(&t1, &a->c1, &b->c1);
    fp_add(&s0, &a->c0, &a->c1);
    fp_add(&s1, &b->c0, &b->c1);
    fp_mul(&s0, &s0, &s1);
    fp_sub(&r->c0, &t0, &t1);
    fp_sub(&s0, &s0, &t0);
    fp_sub(&r->c1, &s0, &t1);
}

/* (a0 + a1 i)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 i. */
static inline void fp2_sqr(fp2 *r, const fp2 *a)
{
    fp s, d, m;
    fp_add(&s, &a->c0, &a->c1);
    fp_sub(&d, &a->c0, &a->c1);
    fp_mul(&m, &a->c0, &a->c1);
    fp_mul(&r->c0, &s, &d);
    fp_dbl(&r->c1, &m);
}

static inline void fp2_mul_fp(fp2 *r, const fp2 *a, const fp *b)
{
    fp_mul(&r->c0, &a->c0, b);
    fp_mul(&r->c1, &a->c1, b);
}

/* a * xi with xi = 9 + i: (9 a0 - a1) + (a0 + 9 a1) i. */
static inline void fp2_mul_xi(fp2 *r, const fp2 *a)
{
    fp t0, t1;
    fp_dbl(&t0, &a->c0);
    fp_dbl(&t0, &t0);
    fp_dbl(&t0, &t0);
    fp_add(&t0, &t0, &a->c0);
    fp_dbl(&t1, &a->c1);
    fp_dbl(&t1, &t1);
    fp_dbl(&t1, &t1);
    fp_add(&t1, &t1, &a->c1);
    fp_sub(&t0, &t0, &a->c1);
    fp_add(&r->c1, &t1, &a->c0);
    r->c0 = t0;
}

static void fp2_inv(fp2 *r, const fp2 *a)
{
    fp t0, t1;
    fp_sqr(&t0, &a->c0);
    fp_sqr(&t1, &a->c1);
    fp_add(&t0, &t0, &t1);
    fp_inv(&t0, &t0);
    fp_mul(&r->c0, &a->c0, &t0);
    fp_mul(&t1, &a->c1, &t0);
    fp_neg(&r->c1, &t1);
}

/* ------------------------------------------------------------------ */
/* Fp6 = Fp2[v]/(v^3 - xi)                                              */
/* ------------------------------------------------------------------ */

static inline void fp6_add(fp6 *r, const fp6 *a, const fp6 *b)
{
    fp2_add(&r->c0, &a->c0, &b->c0);
    fp2_add(&r->c1, &a->c1, &b->c1);
    fp2_add(&r->c2, &a->c2, &b->c2);
}

static inline void fp6_sub(fp6 *r, const fp6 *a, const fp6 *b)
{
    fp2_sub(&r->c0, &a->c0, &b->c0);
    fp2_sub(&r->c1, &a->c1, &b->c1);
    fp2_sub(&r->c2, &a->c2, &b->c2);
}

static inline void fp6_neg(fp6 *r, const fp6 *a)
{
    fp2_neg(&r->c0, &a->c0);
    fp2_neg(&r->c1, &a->c1);
    fp2_neg(&r->c2, &a->c2);
}

/* a * v: (a0, a1, a2) -> (xi a2, a0, a1). */
static inline void fp6_mul_v(fp6 *r, const fp6 *a)
{
    fp2 t;
    fp2_mul_xi(&t, &a->c2);
    r->c2 = a->c1;
    r->c1 = a->c0;
    r->c0 = t;
}

/* Karatsuba-style product with six Fp2 multiplications. */
static void fp6_mul(fp6 *r, const fp6 *a, const fp6 *b)
{
    fp2 t0, t1, t2, s, u, c0, c1, c2;
    fp2_mul(&t0, &a->c0, &b->c0);
    fp2_mul(&t1, &a->c1, &b->c1);
    fp2_mul(&t2, &a->c2, &b->c2);
    /* c0 = ((a1 + a2)(b1 + b2) - t1 - t2) xi + t0 */
    fp2_add(&s, &a->c1, &a->c2);
    fp2_add(&u, &b->c1, &b->c2);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t1);
    fp2_sub(&s, &s, &t2);
    fp2_mul_xi(&s, &s);
    fp2_add(&c0, &s, &t0);
    /* c1 = (a0 + a1)(b0 + b1) - t0 - t1 + xi t2 */
    fp2_add(&s, &a->c0, &a->c1);
    fp2_add(&u, &b->c0, &b->c1);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t0);
    fp2_sub(&s, &s, &t1);
    fp2_mul_xi(&u, &t2);
    fp2_add(&c1, &s, &u);
    /* c2 = (a0 + a2)(b0 + b2) - t0 - t2 + t1 */
    fp2_add(&s, &a->c0, &a->c2);
    fp2_add(&u, &b->c0, &b->c2);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t0);
    fp2_sub(&s, &s, &t2);
    fp2_add(&c2, &s, &t1);
    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

/* Chung-Hasan squaring (SQR2): two squarings and three products fewer
 * than a general multiplication. */
static void fp6_sqr(fp6 *r, const fp6 *a)
{
    fp2 s0, s1, s2, s3, s4, t;
    fp2_sqr(&s0, &a->c0);
    fp2_mul(&s1, &a->c0, &a->c1);
    fp2_dbl(&s1, &s1);
    fp2_sub(&t, &a->c0, &a->c1);
    fp2_add(&t, &t, &a->c2);
    fp2_sqr(&s2, &t);
    fp2_mul(&s3, &a->c1, &a->c2);
    fp2_dbl(&s3, &s3);
    fp2_sqr(&s4, &a->c2);
    /* c0 = xi s3 + s0, c1 = xi s4 + s1, c2 = s1 + s2 + s3 - s0 - s4 */
    fp2_mul_xi(&t, &s3);
    fp2_add(&r->c0, &t, &s0);
    fp2_mul_xi(&t, &s4);
    fp2_add(&r->c1, &t, &s1);
    fp2_add(&t, &s1, &s2);
    fp2_add(&t, &t, &s3);
    fp2_sub(&t, &t, &s0);
    fp2_sub(&r->c2, &t, &s4);
}

/* a * (b0 + b1 v): the shape of a line function's w-part. */
static inline void fp6_mul_01(fp6 *r, const fp6 *a, const fp2 *b0, const fp2 *b1)
{
    fp2 t0, t1, s, u, c0, c1, c2;
    fp2_mul(&t0, &a->c0, b0);
    fp2_mul(&t1, &a->c1, b1);
    /* c0 = xi a2 b1 + t0 */
    fp2_mul(&s, &a->c2, b1);
    fp2_mul_xi(&s, &s);
    fp2_add(&c0, &s, &t0);
    /* c1 = (a0 + a1)(b0 + b1) - t0 - t1 */
    fp2_add(&s, &a->c0, &a->c1);
    fp2_add(&u, b0, b1);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t0);
    fp2_sub(&c1, &s, &t1);
    /* c2 = a2 b0 + t1 */
    fp2_mul(&s, &a->c2, b0);
    fp2_add(&c2, &s, &t1);
    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

static inline void fp6_mul_fp2(fp6 *r, const fp6 *a, const fp2 *b)
{
    fp2_mul(&r->c0, &a->c0, b);
    fp2_mul(&r->c1, &a->c1, b);
    fp2_mul(&r->c2, &a->c2, b);
}

static void fp6_inv(fp6 *r, const fp6 *a)
{
    fp2 A, B, C, t, F;
    /* A = a0^2 - xi a1 a2, B = xi a2^2 - a0 a1, C = a1^2 - a0 a2 */
    fp2_sqr(&A, &a->c0);
    fp2_mul(&t, &a->c1, &a->c2);
    fp2_mul_xi(&t, &t);
    fp2_sub(&A, &A, &t);
    fp2_sqr(&B, &a->c2);
    fp2_mul_xi(&B, &B);
    fp2_mul(&t, &a->c0, &a->c1);
    fp2_sub(&B, &B, &t);
    fp2_sqr(&C, &a->c1);
    fp2_mul(&t, &a->c0, &a->c2);
    fp2_sub(&C, &C, &t);
    /* F = a0 A + xi (a2 B + a1 C) is the norm to Fp2. */
    fp2_mul(&F, &a->c2, &B);
    fp2_mul(&t, &a->c1, &C);
    fp2_add(&F, &F, &t);
    fp2_mul_xi(&F, &F);
    fp2_mul(&t, &a->c0, &A);
    fp2_add(&F, &F, &t);
    fp2_inv(&F, &F);
    fp2_mul(&r->c0, &A, &F);
    fp2_mul(&r->c1, &B, &F);
    fp2_mul(&r->c2, &C, &F);
}

/* ------------------------------------------------------------------ */
/* Fp12 = Fp6[w]/(w^2 - v)                                              */
/* ------------------------------------------------------------------ */

static inline void fp12_set_one(fp12 *r)
{
    memset(r, 0, sizeof *r);
    r->c0.c0.c0 = FP_ONE;
}

static void fp12_mul(fp12 *r, const fp12 *a, const fp12 *b)
{
    fp6 t0, t1, s, u;
    fp6_mul(&t0, &a->c0, &b->c0);
    fp6_mul(&t1, &a->c1, &b->c1);
    fp6_add(&s, &a->c0, &a->c1);
    fp6_add(&u, &b->c0, &b->c1);
    fp6_mul(&s, &s, &u);
    fp6_sub(&s, &s, &t0);
    fp6_sub(&r->c1, &s, &t1);
    fp6_mul_v(&t1, &t1);
    fp6_add(&r->c0, &t0, &t1);
}

/* (a + b w)^2 = (a + b)(a + v b) - t - v t + 2 t w, with t = a b. */
static void fp12_sqr(fp12 *r, const fp12 *a)
{
    fp6 t, s, u, vt;
    fp6_mul(&t, &a->c0, &a->c1);
    fp6_add(&s, &a->c0, &a->c1);
    fp6_mul_v(&u, &a->c1);
    fp6_add(&u, &u, &a->c0);
    fp6_mul(&s, &s, &u);
    fp6_mul_v(&vt, &t);
    fp6_sub(&s, &s, &t);
    fp6_sub(&r->c0, &s, &vt);
    fp6_add(&r->c1, &t, &t);
}

static inline void fp12_conj(fp12 *r, const fp12 *a)
{
    r->c0 = a->c0;
    fp6_neg(&r->c1, &a->c1);
}

static void fp12_inv(fp12 *r, const fp12 *a)
{
    /* (a0 + a1 w)^-1 = (a0 - a1 w) / (a0^2 - v a1^2) */
    fp6 t0, t1;
    fp6_sqr(&t0, &a->c0);
    fp6_sqr(&t1, &a->c1);
    fp6_mul_v(&t1, &t1);
    fp6_sub(&t0, &t0, &t1);
    fp6_inv(&t0, &t0);
    fp6_mul(&r->c0, &a->c0, &t0);
    fp6_mul(&t1, &a->c1, &t0);
    fp6_neg(&r->c1, &t1);
}

/* The coefficients of w^0..w^5 are c0.c0, c1.c0, c0.c1, c1.c1, c0.c2, c1.c2;
 * the p-power map conjugates each and multiplies the w^k one by xi^(k(p-1)/6). */
static void fp12_frob1(fp12 *r, const fp12 *a)
{
    fp2_conj(&r->c0.c0, &a->c0.c0);
    fp2_conj(&r->c1.c0, &a->c1.c0);
    fp2_mul(&r->c1.c0, &r->c1.c0, &FROB1[0]);
    fp2_conj(&r->c0.c1, &a->c0.c1);
    fp2_mul(&r->c0.c1, &r->c0.c1, &FROB1[1]);
    fp2_conj(&r->c1.c1, &a->c1.c1);
    fp2_mul(&r->c1.c1, &r->c1.c1, &FROB1[2]);
    fp2_conj(&r->c0.c2, &a->c0.c2);
    fp2_mul(&r->c0.c2, &r->c0.c2, &FROB1[3]);
    fp2_conj(&r->c1.c2, &a->c1.c2);
    fp2_mul(&r->c1.c2, &r->c1.c2, &FROB1[4]);
}

static void fp12_frob2(fp12 *r, const fp12 *a)
{
    r->c0.c0 = a->c0.c0;
    fp2_mul_fp(&r->c1.c0, &a->c1.c0, &FROB2[0]);
    fp2_mul_fp(&r->c0.c1, &a->c0.c1, &FROB2[1]);
    fp2_mul_fp(&r->c1.c1, &a->c1.c1, &FROB2[2]);
    fp2_mul_fp(&r->c0.c2, &a->c0.c2, &FROB2[3]);
    fp2_mul_fp(&r->c1.c2, &a->c1.c2, &FROB2[4]);
}

static void fp12_frob3(fp12 *r, const fp12 *a)
{
    fp2_conj(&r->c0.c0, &a->c0.c0);
    fp2_conj(&r->c1.c0, &a->c1.c0);
    fp2_mul(&r->c1.c0, &r->c1.c0, &FROB3[0]);
    fp2_conj(&r->c0.c1, &a->c0.c1);
    fp2_mul(&r->c0.c1, &r->c0.c1, &FROB3[1]);
    fp2_conj(&r->c1.c1, &a->c1.c1);
    fp2_mul(&r->c1.c1, &r->c1.c1, &FROB3[2]);
    fp2_conj(&r->c0.c2, &a->c0.c2);
    fp2_mul(&r->c0.c2, &r->c0.c2, &FROB3[3]);
    fp2_conj(&r->c1.c2, &a->c1.c2);
    fp2_mul(&r->c1.c2, &r->c1.c2, &FROB3[4]);
}

/* Squaring in Fp4 = Fp2[T]/(T^2 - xi): (s0 + s1 T)^2. */
static inline void fp4_sqr(fp2 *r0, fp2 *r1, const fp2 *s0, const fp2 *s1)
{
    fp2 t0, t1, t;
    fp2_sqr(&t0, s0);
    fp2_sqr(&t1, s1);
    fp2_add(&t, s0, s1);
    fp2_sqr(&t, &t);
    fp2_sub(&t, &t, &t0);
    fp2_sub(r1, &t, &t1);
    fp2_mul_xi(&t1, &t1);
    fp2_add(r0, &t0, &t1);
}

/* Granger-Scott squaring for the cyclotomic subgroup. With T = w^3, Fp12 is
 * Fp4[w]/(w^3 - T) and an element is x0 + x1 w + x2 w^2 where
 * x0 = g0 + g3 T, x1 = g1 + g4 T, x2 = g2 + g5 T (g_k the w^k coefficient).
 * For cyclotomic elements:
 *   x0' = 3 x0^2 - 2 conj(x0), x1' = 3 T x2^2 + 2 conj(x1),
 *   x2' = 3 x1^2 - 2 conj(x2)   (conj: T -> -T). */
static void fp12_cyclotomic_sqr(fp12 *r, const fp12 *a)
{
    const fp2 *g0 = &a->c0.c0, *g1 = &a->c1.c0, *g2 = &a->c0.c1;
    const fp2 *g3 = &a->c1.c1, *g4 = &a->c0.c2, *g5 = &a->c1.c2;
    fp2 a0, a1, b0, b1, c0, c1, t;
    fp4_sqr(&a0, &a1, g0, g3); /* x0^2 */
    fp4_sqr(&b0, &b1, g1, g4); /* x1^2 */
    fp4_sqr(&c0, &c1, g2, g5); /* x2^2 */
    fp12 o;
    /* x0': g0' = 3 a0 - 2 g0, g3' = 3 a1 + 2 g3 */
    fp2_sub(&t, &a0, g0);
    fp2_dbl(&t, &t);
    fp2_add(&o.c0.c0, &t, &a0);
    fp2_add(&t, &a1, g3);
    fp2_dbl(&t, &t);
    fp2_add(&o.c1.c1, &t, &a1);
    /* x1': T x2^2 = xi c1 + c0 T; g1' = 3 xi c1 + 2 g1, g4' = 3 c0 - 2 g4 */
    fp2_mul_xi(&c1, &c1);
    fp2_add(&t, &c1, g1);
    fp2_dbl(&t, &t);
    fp2_add(&o.c1.c0, &t, &c1);
    fp2_sub(&t, &c0, g4);
    fp2_dbl(&t, &t);
    fp2_add(&o.c0.c2, &t, &c0);
    /* x2': g2' = 3 b0 - 2 g2, g5' = 3 b1 + 2 g5 */
    fp2_sub(&t, &b0, g2);
    fp2_dbl(&t, &t);
    fp2_add(&o.c0.c1, &t, &b0);
    fp2_add(&t, &b1, g5);
    fp2_dbl(&t, &t);
    fp2_add(&o.c1.c2, &t, &b1);
    *r = o;
}

static bool fp12_is_one(const fp12 *a)
{
    fp12 one;
    fp12_set_one(&one);
    return memcmp(a, &one, sizeof one) == 0;
}

/* ------------------------------------------------------------------ */
/* G1: y^2 = x^3 + 3 over Fp, Jacobian coordinates                      */
/* ------------------------------------------------------------------ */

static void g1_dbl(bn254_g1 *r, const bn254_g1 *a)
{
    if (fp_is_zero(&a->Z)) {
        *r = *a;
        return;
    }
    fp A, B, C, D, E, F, t, X3, Y3, Z3;
    fp_sqr(&A, &a->X);
    fp_sqr(&B, &a->Y);
    fp_sqr(&C, &B);
    fp_add(&t, &a->X, &B);
    fp_sqr(&t, &t);
    fp_sub(&t, &t, &A);
    fp_sub(&t, &t, &C);
    fp_dbl(&D, &t);
    fp_dbl(&E, &A);
    fp_add(&E, &E, &A);
    fp_sqr(&F, &E);
    fp_dbl(&t, &D);
    fp_sub(&X3, &F, &t);
    fp_sub(&t, &D, &X3);
    fp_mul(&Y3, &E, &t);
    fp_dbl(&C, &C);
    fp_dbl(&C, &C);
    fp_dbl(&C, &C);
    fp_sub(&Y3, &Y3, &C);
    fp_mul(&Z3, &a->Y, &a->Z);
    fp_dbl(&Z3, &Z3);
    r->X = X3;
    r->Y = Y3;
    r->Z = Z3;
}

static void g1_add(bn254_g1 *r, const bn254_g1 *a, const bn254_g1 *b)
{
    if (fp_is_zero(&a->Z)) {
        *r = *b;
        return;
    }
    if (fp_is_zero(&b->Z)) {
        *r = *a;
        return;
    }
    fp Z1Z1, Z2Z2, U1, U2, S1, S2, H, I, J, R, V, t, X3, Y3, Z3;
    fp_sqr(&Z1Z1, &a->Z);
    fp_sqr(&Z2Z2, &b->Z);
    fp_mul(&U1, &a->X, &Z2Z2);
    fp_mul(&U2, &b->X, &Z1Z1);
    fp_mul(&S1, &a->Y, &b->Z);
    fp_mul(&S1, &S1, &Z2Z2);
    fp_mul(&S2, &b->Y, &a->Z);
    fp_mul(&S2, &S2, &Z1Z1);
    fp_sub(&H, &U2, &U1);
    fp_sub(&R, &S2, &S1);
    if (fp_is_zero(&H)) {
        if (fp_is_zero(&R)) {
            g1_dbl(r, a);
        } else {
            memset(r, 0, sizeof *r);
        }
        return;
    }
    fp_dbl(&I, &H);
    fp_sqr(&I, &I);
    fp_mul(&J, &H, &I);
    fp_dbl(&R, &R);
    fp_mul(&V, &U1, &I);
    fp_sqr(&X3, &R);
    fp_sub(&X3, &X3, &J);
    fp_dbl(&t, &V);
    fp_sub(&X3, &X3, &t);
    fp_sub(&t, &V, &X3);
    fp_mul(&Y3, &R, &t);
    fp_mul(&t, &S1, &J);
    fp_dbl(&t, &t);
    fp_sub(&Y3, &Y3, &t);
    fp_add(&Z3, &a->Z, &b->Z);
    fp_sqr(&Z3, &Z3);
    fp_sub(&Z3, &Z3, &Z1Z1);
    fp_sub(&Z3, &Z3, &Z2Z2);
    fp_mul(&Z3, &Z3, &H);
    r->X = X3;
    r->Y = Y3;
    r->Z = Z3;
}

/* ------------------------------------------------------------------ */
/* G2: y^2 = x^3 + 3/xi over Fp2, Jacobian coordinates                  */
/* ------------------------------------------------------------------ */

static void g2_dbl(bn254_g2 *r, const bn254_g2 *a)
{
    if (fp2_is_zero(&a->Z)) {
        *r = *a;
        return;
    }
    fp2 A, B, C, D, E, F, t, X3, Y3, Z3;
    fp2_sqr(&A, &a->X);
    fp2_sqr(&B, &a->Y);
    fp2_sqr(&C, &B);
    fp2_add(&t, &a->X, &B);
    fp2_sqr(&t, &t);
    fp2_sub(&t, &t, &A);
    fp2_sub(&t, &t, &C);
    fp2_dbl(&D, &t);
    fp2_dbl(&E, &A);
    fp2_add(&E, &E, &A);
    fp2_sqr(&F, &E);
    fp2_dbl(&t, &D);
    fp2_sub(&X3, &F, &t);
    fp2_sub(&t, &D, &X3);
    fp2_mul(&Y3, &E, &t);
    fp2_dbl(&C, &C);
    fp2_dbl(&C, &C);
    fp2_dbl(&C, &C);
    fp2_sub(&Y3, &Y3, &C);
    fp2_mul(&Z3, &a->Y, &a->Z);
    fp2_dbl(&Z3, &Z3);
    r->X = X3;
    r->Y = Y3;
    r->Z = Z3;
}

static void g2_add(bn254_g2 *r, const bn254_g2 *a, const bn254_g2 *b)
{
    if (fp2_is_zero(&a->Z)) {
        *r = *b;
        return;
    }
    if (fp2_is_zero(&b->Z)) {
        *r = *a;
        return;
    }
    fp2 Z1Z1, Z2Z2, U1, U2, S1, S2, H, I, J, R, V, t, X3, Y3, Z3;
    fp2_sqr(&Z1Z1, &a->Z);
    fp2_sqr(&Z2Z2, &b->Z);
    fp2_mul(&U1, &a->X, &Z2Z2);
    fp2_mul(&U2, &b->X, &Z1Z1);
    fp2_mul(&S1, &a->Y, &b->Z);
    fp2_mul(&S1, &S1, &Z2Z2);
    fp2_mul(&S2, &b->Y, &a->Z);
    fp2_mul(&S2, &S2, &Z1Z1);
    fp2_sub(&H, &U2, &U1);
    fp2_sub(&R, &S2, &S1);
    if (fp2_is_zero(&H)) {
        if (fp2_is_zero(&R)) {
            g2_dbl(r, a);
        } else {
            memset(r, 0, sizeof *r);
        }
        return;
    }
    fp2_dbl(&I, &H);
    fp2_sqr(&I, &I);
    fp2_mul(&J, &H, &I);
    fp2_dbl(&R, &R);
    fp2_mul(&V, &U1, &I);
    fp2_sqr(&X3, &R);
    fp2_sub(&X3, &X3, &J);
    fp2_dbl(&t, &V);
    fp2_sub(&X3, &X3, &t);
    fp2_sub(&t, &V, &X3);
    fp2_mul(&Y3, &R, &t);
    fp2_mul(&t, &S1, &J);
    fp2_dbl(&t, &t);
    fp2_sub(&Y3, &Y3, &t);
    fp2_add(&Z3, &a->Z, &b->Z);
    fp2_sqr(&Z3, &Z3);
    fp2_sub(&Z3, &Z3, &Z1Z1);
    fp2_sub(&Z3, &Z3, &Z2Z2);
    fp2_mul(&Z3, &Z3, &H);
    r->X = X3;
    r->Y = Y3;
    r->Z = Z3;
}

/* Four-bit fixed-window scalar multiplication, shared in shape by G1/G2. */
static inline unsigned scalar_nibble(const bn254_scalar *k, int i)
{
    return (unsigned)(k->l[i / 16] >> ((i % 16) * 4)) & 15;
}

static void g1_mul(bn254_g1 *r, const bn254_g1 *a, const bn254_scalar *k)
{
    bn254_g1 table[16], acc;
    memset(&table[0], 0, sizeof table[0]);
    table[1] = *a;
    for (int i = 2; i < 16; i++) g1_add(&table[i], &table[i - 1], a);
    memset(&acc, 0, sizeof acc);
    for (int i = 63; i >= 0; i--) {
        for (int j = 0; j < 4; j++) g1_dbl(&acc, &acc);
        unsigned n = scalar_nibble(k, i);
        if (n) g1_add(&acc, &acc, &table[n]);
    }
    *r = acc;
}

static void g2_mul(bn254_g2 *r, const bn254_g2 *a, const bn254_scalar *k)
{
    bn254_g2 table[16], acc;
    memset(&table[0], 0, sizeof table[0]);
    table[1] = *a;
    for (int i = 2; i < 16; i++) g2_add(&table[i], &table[i - 1], a);
    memset(&acc, 0, sizeof acc);
    for (int i = 63; i >= 0; i--) {
        for (int j = 0; j < 4; j++) g2_dbl(&acc, &acc);
        unsigned n = scalar_nibble(k, i);
        if (n) g2_add(&acc, &acc, &table[n]);
    }
    *r = acc;
}

static void g2_to_affine(fp2 *x, fp2 *y, const bn254_g2 *a)
{
    if (fp2_is_zero(&a->Z)) {
        fp2_set_zero(x);
        fp2_set_zero(y);
        return;
    }
    fp2 one;
    fp2_set_one(&one);
    if (fp2_eq(&a->Z, &one)) {
        *x = a->X;
        *y = a->Y;
        return;
    }
    fp2 zi, zi2, zi3;
    fp2_inv(&zi, &a->Z);
    fp2_sqr(&zi2, &zi);
    fp2_mul(&zi3, &zi2, &zi);
    fp2_mul(x, &a->X, &zi2);
    fp2_mul(y, &a->Y, &zi3);
}

static void g1_to_affine(fp *x, fp *y, const bn254_g1 *a)
{
    if (fp_is_zero(&a->Z)) {
        memset(x, 0, sizeof *x);
        memset(y, 0, sizeof *y);
        return;
    }
    if (fp_eq(&a->Z, &FP_ONE)) {
        *x = a->X;
        *y = a->Y;
        return;
    }
    fp zi, zi2, zi3;
    fp_inv(&zi, &a->Z);
    fp_sqr(&zi2, &zi);
    fp_mul(&zi3, &zi2, &zi);
    fp_mul(x, &a->X, &zi2);
    fp_mul(y, &a->Y, &zi3);
}

/* ------------------------------------------------------------------ */
/* Miller loop                                                          */
/* ------------------------------------------------------------------ */

/* A line function evaluated at P, l0 + l1 w + l3 w^3, scaled by a factor in
 * Fp2 (which the final exponentiation removes). */
typedef struct { fp2 l0, l1, l3; } line;

/* The running point of the Miller loop, homogeneous projective coordinates
 * on the twist (x = X/Z, y = Y/Z). */
typedef struct { fp2 X, Y, Z; } g2_proj;

/* Per-pair data: P's coordinates in the forms the lines need, Q affine. */
typedef struct {
    fp xp3;    /* 3 xP */
    fp neg_xp; /* -xP */
    fp yp;     /* yP */
    fp neg_yp; /* -yP */
    fp2 qx, qy;
    g2_proj T;
} pair_state;

/* T <- 2T, and the tangent at T evaluated at P:
 *   l = -2YZ yP + 3X^2 xP w + (3b'Z^2 - Y^2) w^3. */
static void line_double(line *l, g2_proj *T, const pair_state *s)
{
    fp2 A, B, C, E, F, G, H, J, t, u;
    fp2_mul(&A, &T->X, &T->Y);
    fp2_half(&A, &A);
    fp2_sqr(&B, &T->Y);
    fp2_sqr(&C, &T->Z);
    fp2_mul(&E, &C, &TWIST_B3);
    fp2_dbl(&F, &E);
    fp2_add(&F, &F, &E);
    fp2_add(&G, &B, &F);
    fp2_half(&G, &G);
    fp2_add(&H, &T->Y, &T->Z);
    fp2_sqr(&H, &H);
    fp2_add(&t, &B, &C);
    fp2_sub(&H, &H, &t);
    fp2_sqr(&J, &T->X);
    /* line */
    fp2_mul_fp(&l->l0, &H, &s->neg_yp);
    fp2_mul_fp(&l->l1, &J, &s->xp3);
    fp2_sub(&l->l3, &E, &B);
    /* point: X3 = A (B - F), Y3 = G^2 - 3E^2, Z3 = B H */
    fp2_sub(&t, &B, &F);
    fp2_mul(&T->X, &A, &t);
    fp2_sqr(&t, &G);
    fp2_sqr(&u, &E);
    fp2_sub(&t, &t, &u);
    fp2_dbl(&u, &u);
    fp2_sub(&T->Y, &t, &u);
    fp2_mul(&T->Z, &B, &H);
}

/* T <- T + (x2, y2) (affine), and the line through them evaluated at P:
 *   l = (X - x2 Z) yP - (Y - y2 Z) xP w + ((Y - y2 Z) x2 - (X - x2 Z) y2) w^3. */
static void line_add(line *l, g2_proj *T, const fp2 *x2, const fp2 *y2, const pair_state *s)
{
    fp2 theta, lambda, C, D, E, F, G, H, t;
    fp2_mul(&t, y2, &T->Z);
    fp2_sub(&theta, &T->Y, &t);
    fp2_mul(&t, x2, &T->Z);
    fp2_sub(&lambda, &T->X, &t);
    /* line */
    fp2_mul_fp(&l->l0, &lambda, &s->yp);
    fp2_mul_fp(&l->l1, &theta, &s->neg_xp);
    fp2_mul(&t, &theta, x2);
    fp2_mul(&C, &lambda, y2);
    fp2_sub(&l->l3, &t, &C);
    /* point */
    fp2_sqr(&C, &theta);
    fp2_sqr(&D, &lambda);
    fp2_mul(&E, &lambda, &D);
    fp2_mul(&F, &T->Z, &C);
    fp2_mul(&G, &T->X, &D);
    fp2_add(&H, &E, &F);
    fp2_dbl(&t, &G);
    fp2_sub(&H, &H, &t);
    fp2_mul(&T->X, &lambda, &H);
    fp2_sub(&t, &G, &H);
    fp2_mul(&t, &theta, &t);
    fp2_mul(&C, &T->Y, &E);
    fp2_sub(&T->Y, &t, &C);
    fp2_mul(&T->Z, &T->Z, &E);
}

/* f <- f * (l0 + l1 w + l3 w^3): the line is (l0, 0, 0) + (l1, l3, 0) w. */
static void fp12_mul_line(fp12 *f, const line *l)
{
    fp6 t0, t1, s;
    fp2 u;
    fp6_mul_fp2(&t0, &f->c0, &l->l0);
    fp6_mul_01(&t1, &f->c1, &l->l1, &l->l3);
    fp6_add(&s, &f->c0, &f->c1);
    fp2_add(&u, &l->l0, &l->l1);
    fp6_mul_01(&s, &s, &u, &l->l3);
    fp6_sub(&s, &s, &t0);
    fp6_sub(&f->c1, &s, &t1);
    fp6_mul_v(&t1, &t1);
    fp6_add(&f->c0, &t0, &t1);
}

static void miller_loop(fp12 *f, pair_state *ps, size_t n)
{
    line l;
    fp12_set_one(f);
    if (n == 0) return;
    for (size_t j = 0; j < n; j++) {
        ps[j].T.X = ps[j].qx;
        ps[j].T.Y = ps[j].qy;
        fp2_set_one(&ps[j].T.Z);
    }
    for (size_t i = 1; i < sizeof ATE_LOOP_NAF; i++) {
        if (i > 1) fp12_sqr(f, f);
        for (size_t j = 0; j < n; j++) {
            line_double(&l, &ps[j].T, &ps[j]);
            fp12_mul_line(f, &l);
        }
        int d = ATE_LOOP_NAF[i];
        if (d == 0) continue;
        for (size_t j = 0; j < n; j++) {
            if (d > 0) {
                line_add(&l, &ps[j].T, &ps[j].qx, &ps[j].qy, &ps[j]);
            } else {
                fp2 ny;
                fp2_neg(&ny, &ps[j].qy);
                line_add(&l, &ps[j].T, &ps[j].qx, &ny, &ps[j]);
            }
            fp12_mul_line(f, &l);
        }
    }
    /* The two extra lines of the optimal ate pairing, through pi(Q) and
     * -pi^2(Q). On the twist, pi(x, y) = (conj(x) g2, conj(y) g3) with
     * g_k = xi^(k(p-1)/6); pi^2(x, y) = (x xi^((p^2-1)/3), -y). */
    for (size_t j = 0; j < n; j++) {
        fp2 x1, y1, x2;
        fp2_conj(&x1, &ps[j].qx);
        fp2_mul(&x1, &x1, &FROB1[1]);
        fp2_conj(&y1, &ps[j].qy);
        fp2_mul(&y1, &y1, &FROB1[2]);
        line_add(&l, &ps[j].T, &x1, &y1, &ps[j]);
        fp12_mul_line(f, &l);
        fp2_mul_fp(&x2, &ps[j].qx, &FROB2[1]);
        /* -pi^2(Q) has y coordinate -(-y) = y. */
        line_add(&l, &ps[j].T, &x2, &ps[j].qy, &ps[j]);
        fp12_mul_line(f, &l);
    }
}

/* Fills the per-pair state for every pair with neither point at infinity;
 * returns how many. `ps` must have room for n entries. */
static size_t prepare_pairs(pair_state *ps, const bn254_g1 *P, const bn254_g2 *Q, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (fp_is_zero(&P[i].Z) || fp2_is_zero(&Q[i].Z)) continue;
        pair_state *s = &ps[m++];
        fp x, y;
        g1_to_affine(&x, &y, &P[i]);
        fp_dbl(&s->xp3, &x);
        fp_add(&s->xp3, &s->xp3, &x);
        fp_neg(&s->neg_xp, &x);
        s->yp = y;
        fp_neg(&s->neg_yp, &y);
        g2_to_affine(&s->qx, &s->qy, &Q[i]);
    }
    return m;
}

/* ------------------------------------------------------------------ */
/* Final exponentiation                                                 */
/* ------------------------------------------------------------------ */

/* a^u for a cyclotomic a, with the NAF of u (a^-1 is the conjugate). */
static void cyclotomic_exp_u(fp12 *r, const fp12 *a)
{
    fp12 acc = *a, inv;
    fp12_conj(&inv, a);
    for (size_t i = 1; i < sizeof U_NAF; i++) {
        fp12_cyclotomic_sqr(&acc, &acc);
        if (U_NAF[i] > 0) fp12_mul(&acc, &acc, a);
        else if (U_NAF[i] < 0) fp12_mul(&acc, &acc, &inv);
    }
    *r = acc;
}

static void final_exp(fp12 *r, const fp12 *f)
{
    fp12 t, a, b;
    /* Easy part: f^((p^6 - 1)(p^2 + 1)), after which the value is in the
     * cyclotomic subgroup. */
    fp12_inv(&t, f);
    fp12_conj(&a, f);
    fp12_mul(&a, &a, &t);
    fp12_frob2(&t, &a);
    fp12_mul(&a, &a, &t);

    /* Hard part: a^((p^4 - p^2 + 1)/r), written in base p with coefficients
     * that are polynomials in u (Scott et al., "On the final exponentiation
     * for calculating pairings on ordinary elliptic curves") and evaluated
     * with a short addition chain over y0..y6. */
    fp12 fu, fu2, fu3, y0, y1, y2, y3, y4, y5, y6;
    cyclotomic_exp_u(&fu, &a);
    cyclotomic_exp_u(&fu2, &fu);
    cyclotomic_exp_u(&fu3, &fu2);

    fp12_frob1(&y0, &a);
    fp12_frob2(&t, &a);
    fp12_mul(&y0, &y0, &t);
    fp12_frob3(&t, &a);
    fp12_mul(&y0, &y0, &t);  /* y0 = a^p a^(p^2) a^(p^3) */
    fp12_conj(&y1, &a);      /* y1 = a^-1 */
    fp12_frob2(&y2, &fu2);   /* y2 = a^(u^2 p^2) */
    fp12_frob1(&y3, &fu);
    fp12_conj(&y3, &y3);     /* y3 = a^(-u p) */
    fp12_frob1(&t, &fu2);
    fp12_mul(&y4, &fu, &t);
    fp12_conj(&y4, &y4);     /* y4 = a^(-u - u^2 p) */
    fp12_conj(&y5, &fu2);    /* y5 = a^(-u^2) */
    fp12_frob1(&t, &fu3);
    fp12_mul(&y6, &fu3, &t);
    fp12_conj(&y6, &y6);     /* y6 = a^(-u^3 - u^3 p) */

    /* result = y0 y1^2 y2^6 y3^12 y4^18 y5^30 y6^36 */
    fp12_cyclotomic_sqr(&a, &y6);
    fp12_mul(&a, &a, &y4);
    fp12_mul(&a, &a, &y5);
    fp12_mul(&b, &y3, &y5);
    fp12_mul(&b, &b, &a);
    fp12_mul(&a, &a, &y2);
    fp12_cyclotomic_sqr(&b, &b);
    fp12_mul(&b, &b, &a);
    fp12_cyclotomic_sqr(&b, &b);
    fp12_mul(&a, &b, &y1);
    fp12_mul(&b, &b, &y0);
    fp12_cyclotomic_sqr(&a, &a);
    fp12_mul(r, &a, &b);
}

/* ------------------------------------------------------------------ */
/* Public API                                                           */
/* ------------------------------------------------------------------ */

bool bn254_fp_from_bytes(bn254_fp *r, const uint8_t in[32])
{
    fp t;
    for (int i = 0; i < 4; i++) {
        uint64_t w = 0;
        for (int j = 0; j < 8; j++) w = (w << 8) | in[(3 - i) * 8 + j];
        t.l[i] = w;
    }
    for (int i = 3; i >= 0; i--) {
        if (t.l[i] < P_MOD.l[i]) break;
        if (t.l[i] > P_MOD.l[i] || i == 0) return false;
    }
    fp_mul(r, &t, &FP_R2);
    return true;
}

void bn254_fp_to_bytes(uint8_t out[32], const bn254_fp *a)
{
    fp one = {{1, 0, 0, 0}}, t;
    fp_mul(&t, a, &one);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++) out[(3 - i) * 8 + j] = (uint8_t)(t.l[i] >> (56 - 8 * j));
}

void bn254_fp_from_u64(bn254_fp *r, uint64_t v) { fp_from_u64(r, v); }
void bn254_fp_add(bn254_fp *r, const bn254_fp *a, const bn254_fp *b) { fp_add(r, a, b); }
void bn254_fp_sub(bn254_fp *r, const bn254_fp *a, const bn254_fp *b) { fp_sub(r, a, b); }
void bn254_fp_neg(bn254_fp *r, const bn254_fp *a) { fp_neg(r, a); }
void bn254_fp_mul(bn254_fp *r, const bn254_fp *a, const bn254_fp *b) { fp_mul(r, a, b); }
void bn254_fp_sqr(bn254_fp *r, const bn254_fp *a) { fp_sqr(r, a); }
void bn254_fp_inv(bn254_fp *r, const bn254_fp *a) { fp_inv(r, a); }
bool bn254_fp_eq(const bn254_fp *a, const bn254_fp *b) { return fp_eq(a, b); }
bool bn254_fp_is_zero(const bn254_fp *a) { return fp_is_zero(a); }

void bn254_fp2_add(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b) { fp2_add(r, a, b); }
void bn254_fp2_sub(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b) { fp2_sub(r, a, b); }
void bn254_fp2_mul(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b) { fp2_mul(r, a, b); }
void bn254_fp2_sqr(bn254_fp2 *r, const bn254_fp2 *a) { fp2_sqr(r, a); }
void bn254_fp2_inv(bn254_fp2 *r, const bn254_fp2 *a) { fp2_inv(r, a); }
bool bn254_fp2_eq(const bn254_fp2 *a, const bn254_fp2 *b) { return fp2_eq(a, b); }

void bn254_fp12_one(bn254_fp12 *r) { fp12_set_one(r); }
bool bn254_fp12_is_one(const bn254_fp12 *a) { return fp12_is_one(a); }
bool bn254_fp12_eq(const bn254_fp12 *a, const bn254_fp12 *b) { return memcmp(a, b, sizeof *a) == 0; }
void bn254_fp12_mul(bn254_fp12 *r, const bn254_fp12 *a, const bn254_fp12 *b) { fp12_mul(r, a, b); }
void bn254_fp12_sqr(bn254_fp12 *r, const bn254_fp12 *a) { fp12_sqr(r, a); }
void bn254_fp12_inv(bn254_fp12 *r, const bn254_fp12 *a) { fp12_inv(r, a); }
void bn254_fp12_conj(bn254_fp12 *r, const bn254_fp12 *a) { fp12_conj(r, a); }
void bn254_fp12_cyclotomic_sqr(bn254_fp12 *r, const bn254_fp12 *a) { fp12_cyclotomic_sqr(r, a); }

void bn254_fp12_frobenius(bn254_fp12 *r, const bn254_fp12 *a, int k)
{
    switch (k) {
    case 1: fp12_frob1(r, a); break;
    case 2: fp12_frob2(r, a); break;
    case 3: fp12_frob3(r, a); break;
    default: *r = *a; break;
    }
}

void bn254_fp12_pow(bn254_fp12 *r, const bn254_fp12 *a, const uint64_t *e, size_t nlimbs)
{
    fp12 acc, base = *a;
    fp12_set_one(&acc);
    for (size_t i = nlimbs; i-- > 0;) {
        for (int b = 63; b >= 0; b--) {
            fp12_sqr(&acc, &acc);
            if ((e[i] >> b) & 1) fp12_mul(&acc, &acc, &base);
        }
    }
    *r = acc;
}

void bn254_g1_set_infinity(bn254_g1 *r) { memset(r, 0, sizeof *r); }
bool bn254_g1_is_infinity(const bn254_g1 *a) { return fp_is_zero(&a->Z); }

void bn254_g1_generator(bn254_g1 *r)
{
    fp_from_u64(&r->X, 1);
    fp_from_u64(&r->Y, 2);
    r->Z = FP_ONE;
}

bool bn254_g1_from_affine(bn254_g1 *r, const bn254_fp *x, const bn254_fp *y)
{
    if (fp_is_zero(x) && fp_is_zero(y)) {
        memset(r, 0, sizeof *r);
        return true;
    }
    fp lhs, rhs, b;
    fp_sqr(&lhs, y);
    fp_sqr(&rhs, x);
    fp_mul(&rhs, &rhs, x);
    fp_from_u64(&b, 3);
    fp_add(&rhs, &rhs, &b);
    if (!fp_eq(&lhs, &rhs)) return false;
    r->X = *x;
    r->Y = *y;
    r->Z = FP_ONE;
    return true;
}

void bn254_g1_to_affine(bn254_fp *x, bn254_fp *y, const bn254_g1 *a) { g1_to_affine(x, y, a); }
void bn254_g1_add(bn254_g1 *r, const bn254_g1 *a, const bn254_g1 *b) { g1_add(r, a, b); }
void bn254_g1_dbl(bn254_g1 *r, const bn254_g1 *a) { g1_dbl(r, a); }

void bn254_g1_neg(bn254_g1 *r, const bn254_g1 *a)
{
    r->X = a->X;
    fp_neg(&r->Y, &a->Y);
    r->Z = a->Z;
}

void bn254_g1_mul(bn254_g1 *r, const bn254_g1 *a, const bn254_scalar *k) { g1_mul(r, a, k); }

bool bn254_g1_eq(const bn254_g1 *a, const bn254_g1 *b)
{
    bool ia = fp_is_zero(&a->Z), ib = fp_is_zero(&b->Z);
    if (ia || ib) return ia == ib;
    /* X1 Z2^2 == X2 Z1^2 and Y1 Z2^3 == Y2 Z1^3 */
    fp z1z1, z2z2, l, r, t;
    fp_sqr(&z1z1, &a->Z);
    fp_sqr(&z2z2, &b->Z);
    fp_mul(&l, &a->X, &z2z2);
    fp_mul(&r, &b->X, &z1z1);
    if (!fp_eq(&l, &r)) return false;
    fp_mul(&t, &z2z2, &b->Z);
    fp_mul(&l, &a->Y, &t);
    fp_mul(&t, &z1z1, &a->Z);
    fp_mul(&r, &b->Y, &t);
    return fp_eq(&l, &r);
}

void bn254_g2_set_infinity(bn254_g2 *r) { memset(r, 0, sizeof *r); }
bool bn254_g2_is_infinity(const bn254_g2 *a) { return fp2_is_zero(&a->Z); }

void bn254_g2_generator(bn254_g2 *r)
{
    r->X = G2_GEN_X;
    r->Y = G2_GEN_Y;
    fp2_set_one(&r->Z);
}

bool bn254_g2_from_affine(bn254_g2 *r, const bn254_fp2 *x, const bn254_fp2 *y)
{
    if (fp2_is_zero(x) && fp2_is_zero(y)) {
        memset(r, 0, sizeof *r);
        return true;
    }
    fp2 lhs, rhs;
    fp2_sqr(&lhs, y);
    fp2_sqr(&rhs, x);
    fp2_mul(&rhs, &rhs, x);
    fp2_add(&rhs, &rhs, &TWIST_B);
    if (!fp2_eq(&lhs, &rhs)) return false;
    r->X = *x;
    r->Y = *y;
    fp2_set_one(&r->Z);
    return true;
}

void bn254_g2_to_affine(bn254_fp2 *x, bn254_fp2 *y, const bn254_g2 *a) { g2_to_affine(x, y, a); }
void bn254_g2_add(bn254_g2 *r, const bn254_g2 *a, const bn254_g2 *b) { g2_add(r, a, b); }
void bn254_g2_dbl(bn254_g2 *r, const bn254_g2 *a) { g2_dbl(r, a); }

void bn254_g2_neg(bn254_g2 *r, const bn254_g2 *a)
{
    r->X = a->X;
    fp2_neg(&r->Y, &a->Y);
    r->Z = a->Z;
}

void bn254_g2_mul(bn254_g2 *r, const bn254_g2 *a, const bn254_scalar *k) { g2_mul(r, a, k); }

bool bn254_g2_eq(const bn254_g2 *a, const bn254_g2 *b)
{
    bool ia = fp2_is_zero(&a->Z), ib = fp2_is_zero(&b->Z);
    if (ia || ib) return ia == ib;
    fp2 z1z1, z2z2, l, r, t;
    fp2_sqr(&z1z1, &a->Z);
    fp2_sqr(&z2z2, &b->Z);
    fp2_mul(&l, &a->X, &z2z2);
    fp2_mul(&r, &b->X, &z1z1);
    if (!fp2_eq(&l, &r)) return false;
    fp2_mul(&t, &z2z2, &b->Z);
    fp2_mul(&l, &a->Y, &t);
    fp2_mul(&t, &z1z1, &a->Z);
    fp2_mul(&r, &b->Y, &t);
    return fp2_eq(&l, &r);
}

/* psi = untwist-Frobenius-twist: (x, y) -> (conj(x) xi^((p-1)/3),
 * conj(y) xi^((p-1)/2)); in Jacobian coordinates Z is just conjugated. */
static void g2_psi(bn254_g2 *r, const bn254_g2 *a)
{
    fp2_conj(&r->X, &a->X);
    fp2_mul(&r->X, &r->X, &FROB1[1]);
    fp2_conj(&r->Y, &a->Y);
    fp2_mul(&r->Y, &r->Y, &FROB1[2]);
    fp2_conj(&r->Z, &a->Z);
}

/* [u]a, with the NAF of u. */
static void g2_mul_u(bn254_g2 *r, const bn254_g2 *a)
{
    bn254_g2 acc = *a, neg;
    bn254_g2_neg(&neg, a);
    for (size_t i = 1; i < sizeof U_NAF; i++) {
        g2_dbl(&acc, &acc);
        if (U_NAF[i] > 0) g2_add(&acc, &acc, a);
        else if (U_NAF[i] < 0) g2_add(&acc, &acc, &neg);
    }
    *r = acc;
}

/* Membership in the order-r subgroup without a 254-bit multiplication: for
 * BN254, Q is in G2 iff [u+1]Q + psi([u]Q) + psi^2([u]Q) == psi^3([2u]Q)
 * (El Housni, Guillevic, Piellard, "Co-factor clearing and subgroup
 * membership testing on pairing-friendly curves", ePrint 2022/352 & 348;
 * the side conditions u != 4 mod 13 and u != 92 mod 97 hold). Measured
 * 0.06 ms per point against 0.19 ms for [r]Q; the unit tests compare the
 * two on points inside and outside G2. */
bool bn254_g2_in_subgroup(const bn254_g2 *a)
{
    if (fp2_is_zero(&a->Z)) return true;
    bn254_g2 uq, lhs, t, rhs;
    g2_mul_u(&uq, a);
    g2_add(&lhs, &uq, a);
    g2_psi(&t, &uq);
    g2_add(&lhs, &lhs, &t);
    g2_psi(&t, &t);
    g2_add(&lhs, &lhs, &t);
    g2_dbl(&rhs, &uq);
    g2_psi(&rhs, &rhs);
    g2_psi(&rhs, &rhs);
    g2_psi(&rhs, &rhs);
    return bn254_g2_eq(&lhs, &rhs);
}

/* Pairs handled per Miller-loop batch, so the state lives on the stack. */
#define PAIR_BATCH 16

void bn254_miller_loop(bn254_fp12 *f, const bn254_g1 *P, const bn254_g2 *Q, size_t n)
{
    pair_state ps[PAIR_BATCH];
    fp12 acc, part;
    fp12_set_one(&acc);
    for (size_t start = 0; start < n; start += PAIR_BATCH) {
        size_t cnt = n - start < PAIR_BATCH ? n - start : PAIR_BATCH;
        size_t m = prepare_pairs(ps, P + start, Q + start, cnt);
        if (m == 0) continue;
        miller_loop(&part, ps, m);
        fp12_mul(&acc, &acc, &part);
    }
    *f = acc;
}

void bn254_final_exp(bn254_fp12 *r, const bn254_fp12 *f) { final_exp(r, f); }

void bn254_pairing(bn254_fp12 *r, const bn254_g1 *P, const bn254_g2 *Q)
{
    fp12 f;
    bn254_miller_loop(&f, P, Q, 1);
    final_exp(r, &f);
}

bool bn254_pairing_check(const bn254_g1 *P, const bn254_g2 *Q, size_t n)
{
    fp12 f, r;
    bn254_miller_loop(&f, P, Q, n);
    final_exp(&r, &f);
    return fp12_is_one(&r);
}
