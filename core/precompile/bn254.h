/* The BN254 (alt_bn128) pairing-friendly curve used by the EVM precompiles
 * 0x06..0x08 (EIP-196, EIP-197).
 *
 *   base field   Fp, p = 0x30644e72...d87cfd47 (254 bits)
 *   G1           E(Fp):  y^2 = x^3 + 3, prime order r (cofactor 1)
 *   G2           the r-torsion of the sextic twist E'(Fp2): y^2 = x^3 + 3/(9+i)
 *   towers       Fp2 = Fp[i]/(i^2+1), Fp6 = Fp2[v]/(v^3-(9+i)), Fp12 = Fp6[w]/(w^2-v)
 *
 * Field elements are kept in Montgomery form (a*2^256 mod p) on four 64-bit
 * limbs, least significant first. Nothing here is constant time: every input
 * of the precompiles is public. */
#ifndef JITEVM_BN254_H
#define JITEVM_BN254_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct { uint64_t l[4]; } bn254_fp;
typedef struct { bn254_fp c0, c1; } bn254_fp2;             /* c0 + c1*i */
typedef struct { bn254_fp2 c0, c1, c2; } bn254_fp6;        /* c0 + c1*v + c2*v^2 */
typedef struct { bn254_fp6 c0, c1; } bn254_fp12;           /* c0 + c1*w */

/* Points in Jacobian coordinates (x = X/Z^2, y = Y/Z^3); Z == 0 is the point
 * at infinity. */
typedef struct { bn254_fp x, y, z; } bn254_g1;
typedef struct { bn254_fp2 x, y, z; } bn254_g2;

/* Scalars are 256-bit integers on four limbs, least significant first. */
typedef struct { uint64_t l[4]; } bn254_scalar;

/* ---- Fp ---- */
/* Parses a 32-byte big-endian integer; false when it is >= p. */
bool bn254_fp_from_bytes(bn254_fp *r, const uint8_t in[32]);
void bn254_fp_to_bytes(uint8_t out[32], const bn254_fp *a);
void bn254_fp_from_u64(bn254_fp *r, uint64_t v);
void bn254_fp_add(bn254_fp *r, const bn254_fp *a, const bn254_fp *b);
void bn254_fp_sub(bn254_fp *r, const bn254_fp *a, const bn254_fp *b);
void bn254_fp_neg(bn254_fp *r, const bn254_fp *a);
void bn254_fp_mul(bn254_fp *r, const bn254_fp *a, const bn254_fp *b);
void bn254_fp_sqr(bn254_fp *r, const bn254_fp *a);
/* The inverse of zero is zero. */
void bn254_fp_inv(bn254_fp *r, const bn254_fp *a);
bool bn254_fp_eq(const bn254_fp *a, const bn254_fp *b);
bool bn254_fp_is_zero(const bn254_fp *a);

/* ---- Fp2 ---- */
void bn254_fp2_add(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b);
void bn254_fp2_sub(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b);
void bn254_fp2_mul(bn254_fp2 *r, const bn254_fp2 *a, const bn254_fp2 *b);
void bn254_fp2_sqr(bn254_fp2 *r, const bn254_fp2 *a);
void bn254_fp2_inv(bn254_fp2 *r, const bn254_fp2 *a);
bool bn254_fp2_eq(const bn254_fp2 *a, const bn254_fp2 *b);

/* ---- Fp12 ---- */
void bn254_fp12_one(bn254_fp12 *r);
bool bn254_fp12_is_one(const bn254_fp12 *a);
bool bn254_fp12_eq(const bn254_fp12 *a, const bn254_fp12 *b);
void bn254_fp12_mul(bn254_fp12 *r, const bn254_fp12 *a, const bn254_fp12 *b);
void bn254_fp12_sqr(bn254_fp12 *r, const bn254_fp12 *a);
void bn254_fp12_inv(bn254_fp12 *r, const bn254_fp12 *a);
/* a^(p^6): the inverse for elements of the cyclotomic subgroup. */
void bn254_fp12_conj(bn254_fp12 *r, const bn254_fp12 *a);
/* a^(p^k) for k = 1, 2, 3. */
void bn254_fp12_frobenius(bn254_fp12 *r, const bn254_fp12 *a, int k);
/* Squaring valid only for elements of the cyclotomic subgroup (after the
 * easy part of the final exponentiation). */
void bn254_fp12_cyclotomic_sqr(bn254_fp12 *r, const bn254_fp12 *a);
/* a^e for an exponent given as `nlimbs` limbs, least significant first. */
void bn254_fp12_pow(bn254_fp12 *r, const bn254_fp12 *a, const uint64_t *e, size_t nlimbs);

/* ---- G1 ---- */
void bn254_g1_set_infinity(bn254_g1 *r);
bool bn254_g1_is_infinity(const bn254_g1 *a);
void bn254_g1_generator(bn254_g1 *r);
/* Builds a point from affine coordinates; (0,0) is the point at infinity.
 * False when the point is not on the curve. */
bool bn254_g1_from_affine(bn254_g1 *r, const bn254_fp *x, const bn254_fp *y);
/* Affine coordinates; (0,0) for the point at infinity. */
void bn254_g1_to_affine(bn254_fp *x, bn254_fp *y, const bn254_g1 *a);
void bn254_g1_add(bn254_g1 *r, const bn254_g1 *a, const bn254_g1 *b);
void bn254_g1_dbl(bn254_g1 *r, const bn254_g1 *a);
void bn254_g1_neg(bn254_g1 *r, const bn254_g1 *a);
void bn254_g1_mul(bn254_g1 *r, const bn254_g1 *a, const bn254_scalar *k);
bool bn254_g1_eq(const bn254_g1 *a, const bn254_g1 *b);

/* ---- G2 (points of the twist) ---- */
void bn254_g2_set_infinity(bn254_g2 *r);
bool bn254_g2_is_infinity(const bn254_g2 *a);
void bn254_g2_generator(bn254_g2 *r);
/* Builds a twist point from affine coordinates; (0,0) is the point at
 * infinity. False when it is not on the twist. Subgroup membership is a
 * separate check (bn254_g2_in_subgroup). */
bool bn254_g2_from_affine(bn254_g2 *r, const bn254_fp2 *x, const bn254_fp2 *y);
void bn254_g2_to_affine(bn254_fp2 *x, bn254_fp2 *y, const bn254_g2 *a);
void bn254_g2_add(bn254_g2 *r, const bn254_g2 *a, const bn254_g2 *b);
void bn254_g2_dbl(bn254_g2 *r, const bn254_g2 *a);
void bn254_g2_neg(bn254_g2 *r, const bn254_g2 *a);
void bn254_g2_mul(bn254_g2 *r, const bn254_g2 *a, const bn254_scalar *k);
bool bn254_g2_eq(const bn254_g2 *a, const bn254_g2 *b);
/* True when a is in the order-r subgroup G2 ([r]a is the point at infinity),
 * decided with the endomorphism test, much cheaper than multiplying by r. */
bool bn254_g2_in_subgroup(const bn254_g2 *a);

/* ---- pairing ---- */
/* The product of the Miller loops of the optimal ate pairing over n pairs
 * (P[i] in G1, Q[i] in G2), before the final exponentiation. Pairs where
 * either point is at infinity contribute 1. */
void bn254_miller_loop(bn254_fp12 *f, const bn254_g1 *P, const bn254_g2 *Q, size_t n);
/* f^((p^12 - 1) / r). */
void bn254_final_exp(bn254_fp12 *r, const bn254_fp12 *f);
/* e(P, Q). */
void bn254_pairing(bn254_fp12 *r, const bn254_g1 *P, const bn254_g2 *Q);
/* True when the product of e(P[i], Q[i]) is 1. The points must be in G1/G2. */
bool bn254_pairing_check(const bn254_g1 *P, const bn254_g2 *Q, size_t n);

#endif
