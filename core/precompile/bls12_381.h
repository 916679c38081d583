/* BLS12-381: the field tower, the groups G1 and G2, the optimal ate pairing
 * and the SSWU map to the curve, as the EIP-2537 and EIP-4844 precompiles
 * need them. All inputs are public, so nothing here is constant time.
 *
 * Field elements are kept in Montgomery form (a * 2^384 mod p) with
 * little-endian 64-bit limbs; byte conversions go through bls_fp_from_bytes
 * and bls_fp_to_bytes only. */
#ifndef JITEVM_BLS12_381_H
#define JITEVM_BLS12_381_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fp, p = 0x1a0111ea...ffffaaab (381 bits). */
typedef struct { uint64_t l[6]; } bls_fp;
/* Fp2 = Fp[u]/(u^2 + 1): c0 + c1*u. */
typedef struct { bls_fp c0, c1; } bls_fp2;
/* Fp6 = Fp2[v]/(v^3 - (1 + u)): c0 + c1*v + c2*v^2. */
typedef struct { bls_fp2 c0, c1, c2; } bls_fp6;
/* Fp12 = Fp6[w]/(w^2 - v): c0 + c1*w. */
typedef struct { bls_fp6 c0, c1; } bls_fp12;

/* Jacobian points: (X, Y, Z) stands for (X/Z^2, Y/Z^3); Z = 0 is infinity.
 * G1 lies on y^2 = x^3 + 4 over Fp, G2 on y^2 = x^3 + 4(1 + u) over Fp2. */
typedef struct { bls_fp x, y, z; } bls_g1;
typedef struct { bls_fp2 x, y, z; } bls_g2;
/* Affine points; when `infinity` is set, x and y are zero. */
typedef struct { bls_fp x, y; bool infinity; } bls_g1_affine;
typedef struct { bls_fp2 x, y; bool infinity; } bls_g2_affine;

/* Scalars are little-endian 64-bit limbs; MSM scalars are 4 limbs (256 bits). */
typedef struct { uint64_t l[4]; } bls_scalar;

extern const bls_g1_affine BLS_G1_GENERATOR;
extern const bls_g2_affine BLS_G2_GENERATOR;
/* The order r of G1 and G2 (255 bits). */
extern const bls_scalar BLS_R;

/* ---- Fp ---- */
/* Reads 48 big-endian bytes; false when the value is not below p. */
bool bls_fp_from_bytes(bls_fp *r, const uint8_t in[48]);
void bls_fp_to_bytes(uint8_t out[48], const bls_fp *a);
void bls_fp_from_u64(bls_fp *r, uint64_t v);
void bls_fp_zero(bls_fp *r);
void bls_fp_one(bls_fp *r);
bool bls_fp_is_zero(const bls_fp *a);
bool bls_fp_eq(const bls_fp *a, const bls_fp *b);
void bls_fp_add(bls_fp *r, const bls_fp *a, const bls_fp *b);
void bls_fp_sub(bls_fp *r, const bls_fp *a, const bls_fp *b);
void bls_fp_neg(bls_fp *r, const bls_fp *a);
void bls_fp_mul(bls_fp *r, const bls_fp *a, const bls_fp *b);
void bls_fp_sqr(bls_fp *r, const bls_fp *a);
/* a^e, e given as `n` little-endian limbs. */
void bls_fp_pow(bls_fp *r, const bls_fp *a, const uint64_t *e, size_t n);
/* 1/a; the inverse of zero is zero. */
void bls_fp_inv(bls_fp *r, const bls_fp *a);
/* A square root of a; false (r unspecified) when a is not a square. */
bool bls_fp_sqrt(bls_fp *r, const bls_fp *a);

/* ---- Fp2 ---- */
void bls_fp2_zero(bls_fp2 *r);
void bls_fp2_one(bls_fp2 *r);
bool bls_fp2_is_zero(const bls_fp2 *a);
bool bls_fp2_eq(const bls_fp2 *a, const bls_fp2 *b);
void bls_fp2_add(bls_fp2 *r, const bls_fp2 *a, const bls_fp2 *b);
void bls_fp2_sub(bls_fp2 *r, const bls_fp2 *a, const bls_fp2 *b);
void bls_fp2_neg(bls_fp2 *r, const bls_fp2 *a);
void bls_fp2_mul(bls_fp2 *r, const bls_fp2 *a, const bls_fp2 *b);
void bls_fp2_sqr(bls_fp2 *r, const bls_fp2 *a);
void bls_fp2_inv(bls_fp2 *r, const bls_fp2 *a);
void bls_fp2_pow(bls_fp2 *r, const bls_fp2 *a, const uint64_t *e, size_t n);
bool bls_fp2_sqrt(bls_fp2 *r, const bls_fp2 *a);

/* ---- Fp12 ---- */
void bls_fp12_one(bls_fp12 *r);
bool bls_fp12_is_one(const bls_fp12 *a);
bool bls_fp12_eq(const bls_fp12 *a, const bls_fp12 *b);
void bls_fp12_mul(bls_fp12 *r, const bls_fp12 *a, const bls_fp12 *b);
void bls_fp12_sqr(bls_fp12 *r, const bls_fp12 *a);
void bls_fp12_inv(bls_fp12 *r, const bls_fp12 *a);
void bls_fp12_conj(bls_fp12 *r, const bls_fp12 *a);
/* a^p. */
void bls_fp12_frobenius(bls_fp12 *r, const bls_fp12 *a);
void bls_fp12_pow(bls_fp12 *r, const bls_fp12 *a, const uint64_t *e, size_t n);

/* ---- G1 ---- */
void bls_g1_set_infinity(bls_g1 *r);
bool bls_g1_is_infinity(const bls_g1 *a);
void bls_g1_from_affine(bls_g1 *r, const bls_g1_affine *a);
void bls_g1_to_affine(bls_g1_affine *r, const bls_g1 *a);
bool bls_g1_eq(const bls_g1 *a, const bls_g1 *b);
void bls_g1_neg(bls_g1 *r, const bls_g1 *a);
void bls_g1_double(bls_g1 *r, const bls_g1 *a);
void bls_g1_add(bls_g1 *r, const bls_g1 *a, const bls_g1 *b);
void bls_g1_add_affine(bls_g1 *r, const bls_g1 *a, const bls_g1_affine *b);
/* a*k, k given as `n` little-endian limbs. */
void bls_g1_mul(bls_g1 *r, const bls_g1 *a, const uint64_t *k, size_t n);
bool bls_g1_affine_on_curve(const bls_g1_affine *a);
/* Membership in the order-r subgroup, by the endomorphism test
 * (beta*x, y) == [-x^2]P (Scott, "A note on group membership tests"). */
bool bls_g1_affine_in_subgroup(const bls_g1_affine *a);
/* sum of scalars[i] * points[i]. */
void bls_g1_msm(bls_g1 *r, const bls_g1_affine *points, const bls_scalar *scalars, size_t n);
/* RFC 9380 map_to_curve (SSWU on the 11-isogenous curve, then the isogeny)
 * followed by clear_cofactor: what MAP_FP_TO_G1 computes. */
void bls_g1_map_from_fp(bls_g1 *r, const bls_fp *u);
/* The 48-byte compressed (ZCash) encoding: flag bits, x < p, on the curve.
 * No subgroup check. False when the encoding is invalid. */
bool bls_g1_from_compressed(bls_g1_affine *r, const uint8_t in[48]);

/* ---- G2 ---- */
void bls_g2_set_infinity(bls_g2 *r);
bool bls_g2_is_infinity(const bls_g2 *a);
void bls_g2_from_affine(bls_g2 *r, const bls_g2_affine *a);
void bls_g2_to_affine(bls_g2_affine *r, const bls_g2 *a);
bool bls_g2_eq(const bls_g2 *a, const bls_g2 *b);
void bls_g2_neg(bls_g2 *r, const bls_g2 *a);
void bls_g2_double(bls_g2 *r, const bls_g2 *a);
void bls_g2_add(bls_g2 *r, const bls_g2 *a, const bls_g2 *b);
void bls_g2_add_affine(bls_g2 *r, const bls_g2 *a, const bls_g2_affine *b);
void bls_g2_mul(bls_g2 *r, const bls_g2 *a, const uint64_t *k, size_t n);
/* The untwist-Frobenius-twist endomorphism psi. */
void bls_g2_psi(bls_g2 *r, const bls_g2 *a);
bool bls_g2_affine_on_curve(const bls_g2_affine *a);
/* Membership in the order-r subgroup, by the test psi(P) == [x]P. */
bool bls_g2_affine_in_subgroup(const bls_g2_affine *a);
void bls_g2_msm(bls_g2 *r, const bls_g2_affine *points, const bls_scalar *scalars, size_t n);
/* h_eff * a, computed with psi as RFC 9380 appendix G.3 does. */
void bls_g2_clear_cofactor(bls_g2 *r, const bls_g2 *a);
/* RFC 9380 map_to_curve (SSWU on the 3-isogenous curve, then the isogeny)
 * followed by clear_cofactor: what MAP_FP2_TO_G2 computes. */
void bls_g2_map_from_fp2(bls_g2 *r, const bls_fp2 *u);
/* The 96-byte compressed (ZCash) encoding, x.c1 (carrying the flags) then
 * x.c0; the sign flag refers to y.c1, or to y.c0 when y.c1 is zero. No
 * subgroup check. False when the encoding is invalid. */
bool bls_g2_from_compressed(bls_g2_affine *r, const uint8_t in[96]);

/* ---- pairing ---- */
/* The product of the Miller loops f_{x,Q_i}(P_i), before the final
 * exponentiation; pairs with an infinity point contribute 1. */
void bls_miller_loop(bls_fp12 *r, const bls_g1_affine *p, const bls_g2_affine *q, size_t n);
/* f^(3 (p^12 - 1) / r): the cube of the usual final exponentiation, which
 * is just as non-degenerate and bilinear (3 does not divide r). */
void bls_final_exponentiation(bls_fp12 *r, const bls_fp12 *f);
void bls_pairing(bls_fp12 *r, const bls_g1_affine *p, const bls_g2_affine *q);
/* Whether prod e(p[i], q[i]) == 1. Points must be on their curves and in
 * their subgroups (not checked here). */
bool bls_pairing_check(const bls_g1_affine *p, const bls_g2_affine *q, size_t n);

#endif
