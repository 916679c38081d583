/* BN254 field tower, groups and the optimal ate pairing. See bn254.h.
 *
 * What is BN254's own lives here: the base field (Montgomery, 4 limbs), the
 * non-residue xi = 9 + i, the Frobenius and twist constants, the placement
 * of line values on this D-type twist, the Miller loop over the NAF of
 * 6u + 2 with its two Frobenius lines, the final exponentiation and the G2
 * subgroup test. The tower, the Miller-loop steps and the Jacobian point
 * arithmetic of G1 and G2 come from the templates shared with BLS12-381
 * (tower_impl.h, jacobian_impl.h), instantiated below over this field.
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

/* ------------------------------------------------------------------ */
/* The tower, Miller-loop steps and point arithmetic (generic parts)     */
/* ------------------------------------------------------------------ */

#define TOWER_TWIST_B3 TWIST_B3
#define TOWER_PUBLIC(name) bn254_##name
#define TOWER_PAIRING_G1 bn254_g1
#define TOWER_PAIRING_G2 bn254_g2
#define TOWER_FINAL_EXP bn254_final_exp
#include "precompile/tower_impl.h"

#define JAC_POINT bn254_g1
#define JAC_FIELD fp
#define JAC_NAME(name) g1_##name
#define JAC_PUBLIC(name) bn254_g1_##name
#define JAC_PUBLIC_DBL bn254_g1_dbl
#include "precompile/jacobian_impl.h"

#define JAC_POINT bn254_g2
#define JAC_FIELD fp2
#define JAC_NAME(name) g2_##name
#define JAC_PUBLIC(name) bn254_g2_##name
#define JAC_PUBLIC_DBL bn254_g2_dbl
#include "precompile/jacobian_impl.h"

static inline void fp12_frob1(fp12 *r, const fp12 *a) { fp12_frobenius_odd(r, a, FROB1); }
static inline void fp12_frob2(fp12 *r, const fp12 *a) { fp12_frobenius_even(r, a, FROB2); }
static inline void fp12_frob3(fp12 *r, const fp12 *a) { fp12_frobenius_odd(r, a, FROB3); }

/* ------------------------------------------------------------------ */
/* Miller loop                                                          */
/* ------------------------------------------------------------------ */

/* Per-pair data: P in the forms the lines need, Q affine, the running T. */
typedef struct {
    line_point p;
    fp2 qx, qy;
    twist_proj T;
} pair_state;

/* f <- f * line. On this D-type twist the line is cy + cx w + c w^3, that
 * is (cy, 0, 0) + (cx, c, 0) w. */
static void fp12_mul_line(fp12 *f, const line_coeffs *l)
{
    fp6 t0, t1, s;
    fp2 u;
    fp6_mul_fp2(&t0, &f->c0, &l->cy);
    fp6_mul_01(&t1, &f->c1, &l->cx, &l->c);
    fp6_add(&s, &f->c0, &f->c1);
    fp2_add(&u, &l->cy, &l->cx);
    fp6_mul_01(&s, &s, &u, &l->c);
    fp6_sub(&s, &s, &t0);
    fp6_sub(&f->c1, &s, &t1);
    fp6_mul_v(&t1, &t1);
    fp6_add(&f->c0, &t0, &t1);
}

static void miller_loop(fp12 *f, pair_state *ps, size_t n)
{
    line_coeffs l;
    fp12_set_one(f);
    if (n == 0) return;
    for (size_t j = 0; j < n; j++) {
        ps[j].T.x = ps[j].qx;
        ps[j].T.y = ps[j].qy;
        fp2_set_one(&ps[j].T.z);
    }
    for (size_t i = 1; i < sizeof ATE_LOOP_NAF; i++) {
        if (i > 1) fp12_sqr(f, f);
        for (size_t j = 0; j < n; j++) {
            line_double(&l, &ps[j].T, &ps[j].p);
            fp12_mul_line(f, &l);
        }
        int d = ATE_LOOP_NAF[i];
        if (d == 0) continue;
        for (size_t j = 0; j < n; j++) {
            if (d > 0) {
                line_add(&l, &ps[j].T, &ps[j].qx, &ps[j].qy, &ps[j].p);
            } else {
                fp2 ny;
                fp2_neg(&ny, &ps[j].qy);
                line_add(&l, &ps[j].T, &ps[j].qx, &ny, &ps[j].p);
            }
            fp12_mul_line(f, &l);
        }
    }
    /* The two extra lines of the optimal ate pairing, through pi(Q) and
     * -pi^2(Q). On the twist, pi(x, y) = (conj(x) g2, conj(y) g3) with
     * g_k = xi^(k(p-1)/6); pi^2(x, y) = (x xi^((p^2-1)/3), -y). */
    for (size_t j = 0; j < n; j++) {
        fp2 x1, y1, x2;
        fp2_conj_mul(&x1, &ps[j].qx, &FROB1[1]);
        fp2_conj_mul(&y1, &ps[j].qy, &FROB1[2]);
        line_add(&l, &ps[j].T, &x1, &y1, &ps[j].p);
        fp12_mul_line(f, &l);
        fp2_mul_fp(&x2, &ps[j].qx, &FROB2[1]);
        /* -pi^2(Q) has y coordinate -(-y) = y. */
        line_add(&l, &ps[j].T, &x2, &ps[j].qy, &ps[j].p);
        fp12_mul_line(f, &l);
    }
}

/* Fills the per-pair state for every pair with neither point at infinity;
 * returns how many. `ps` must have room for n entries. */
static size_t prepare_pairs(pair_state *ps, const bn254_g1 *P, const bn254_g2 *Q, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (g1_is_infinity(&P[i]) || g2_is_infinity(&Q[i])) continue;
        pair_state *s = &ps[m++];
        fp x, y;
        g1_to_xy(&x, &y, &P[i]);
        line_point_set(&s->p, &x, &y);
        g2_to_xy(&s->qx, &s->qy, &Q[i]);
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

void bn254_g1_generator(bn254_g1 *r)
{
    fp x, y;
    fp_from_u64(&x, 1);
    fp_from_u64(&y, 2);
    g1_from_xy(r, &x, &y);
}

bool bn254_g1_from_affine(bn254_g1 *r, const bn254_fp *x, const bn254_fp *y)
{
    fp b;
    fp_from_u64(&b, 3);
    return g1_from_xy_checked(r, x, y, &b);
}

void bn254_g1_to_affine(bn254_fp *x, bn254_fp *y, const bn254_g1 *a) { g1_to_xy(x, y, a); }
void bn254_g1_mul(bn254_g1 *r, const bn254_g1 *a, const bn254_scalar *k) { g1_mul(r, a, k->l, 4); }

void bn254_g2_generator(bn254_g2 *r) { g2_from_xy(r, &G2_GEN_X, &G2_GEN_Y); }
bool bn254_g2_from_affine(bn254_g2 *r, const bn254_fp2 *x, const bn254_fp2 *y) { return g2_from_xy_checked(r, x, y, &TWIST_B); }
void bn254_g2_to_affine(bn254_fp2 *x, bn254_fp2 *y, const bn254_g2 *a) { g2_to_xy(x, y, a); }
void bn254_g2_mul(bn254_g2 *r, const bn254_g2 *a, const bn254_scalar *k) { g2_mul(r, a, k->l, 4); }

/* psi = untwist-Frobenius-twist: (x, y) -> (conj(x) xi^((p-1)/3),
 * conj(y) xi^((p-1)/2)); in Jacobian coordinates Z is just conjugated. */
static void g2_psi(bn254_g2 *r, const bn254_g2 *a)
{
    fp2_conj_mul(&r->x, &a->x, &FROB1[1]);
    fp2_conj_mul(&r->y, &a->y, &FROB1[2]);
    fp2_conj(&r->z, &a->z);
}

/* [u]a, with the NAF of u. */
static void g2_mul_u(bn254_g2 *r, const bn254_g2 *a)
{
    bn254_g2 acc = *a, neg;
    g2_neg(&neg, a);
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
    if (g2_is_infinity(a)) return true;
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
    return g2_eq(&lhs, &rhs);
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
