/* The EIP-4844 point evaluation precompile (Cancun), 0x0a: checks a KZG
 * proof that the blob polynomial committed to evaluates to y at z.
 *
 * Input (exactly 192 bytes): versioned_hash (32) | z (32) | y (32) |
 * commitment (48) | proof (48). The versioned hash must be
 * 0x01 || sha256(commitment)[1:], z and y must be below the BLS modulus r,
 * commitment and proof must be valid compressed G1 points in the subgroup.
 * The proof holds when e(C - [y]G1, -G2) * e(proof, [tau]G2 - [z]G2) == 1;
 * the output is FIELD_ELEMENTS_PER_BLOB and BLS_MODULUS as two 32-byte
 * big-endian words. */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "precompile/bls12_381.h"
#include "precompile/precompile.h"

#define POINT_EVAL_INPUT_BYTES 192
#define GAS_POINT_EVALUATION 50000
#define VERSIONED_HASH_VERSION_KZG 0x01
#define FIELD_ELEMENTS_PER_BLOB 4096

/* BLS_MODULUS r, big endian. */
static const uint8_t BLS_MODULUS_BYTES[32] = {
    0x73, 0xed, 0xa7, 0x53, 0x29, 0x9d, 0x7d, 0x48, 0x33, 0x39, 0xd8, 0x08, 0x09, 0xa1, 0xd8, 0x05,
    0x53, 0xbd, 0xa4, 0x02, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01};

/* [tau]G2, g2_monomial[1] of the Ethereum KZG trusted setup, compressed
 * (the KZG_SETUP_G2_MONOMIAL_1 of execution-specs). */
static const uint8_t TRUSTED_SETUP_TAU_G2[96] = {
    0xb5, 0xbf, 0xd7, 0xdd, 0x8c, 0xde, 0xb1, 0x28, 0x84, 0x3b, 0xc2, 0x87, 0x23, 0x0a, 0xf3, 0x89,
    0x26, 0x18, 0x70, 0x75, 0xcb, 0xfb, 0xef, 0xa8, 0x10, 0x09, 0xa2, 0xce, 0x61, 0x5a, 0xc5, 0x3d,
    0x29, 0x14, 0xe5, 0x87, 0x0c, 0xb4, 0x52, 0xd2, 0xaf, 0xaa, 0xab, 0x24, 0xf3, 0x49, 0x9f, 0x72,
    0x18, 0x5c, 0xbf, 0xee, 0x53, 0x49, 0x27, 0x14, 0x73, 0x44, 0x29, 0xb7, 0xb3, 0x86, 0x08, 0xe2,
    0x39, 0x26, 0xc9, 0x11, 0xcc, 0xec, 0xea, 0xc9, 0xa3, 0x68, 0x51, 0x47, 0x7b, 0xa4, 0xc6, 0x0b,
    0x08, 0x70, 0x41, 0xde, 0x62, 0x10, 0x00, 0xed, 0xc9, 0x8e, 0xda, 0xda, 0x20, 0xc1, 0xde, 0xf2};

static bls_g2_affine tau_g2;
static pthread_once_t point_eval_once = PTHREAD_ONCE_INIT;

static void point_eval_init(void)
{
    if (sodium_init() < 0) abort();
    bls_g2_from_compressed(&tau_g2, TRUSTED_SETUP_TAU_G2);
}

/* Decodes a 32-byte big-endian integer below r. */
static bool decode_bls_field_element(bls_scalar *r, const uint8_t in[32])
{
    if (memcmp(in, BLS_MODULUS_BYTES, 32) >= 0) return false;
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++) v = (v << 8) | in[(3 - i) * 8 + j];
        r->l[i] = v;
    }
    return true;
}

static bool decode_kzg_g1(bls_g1_affine *r, const uint8_t in[48])
{
    return bls_g1_from_compressed(r, in) && bls_g1_affine_in_subgroup(r);
}

static bool versioned_hash_matches(const uint8_t versioned_hash[32], const uint8_t commitment[48])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, commitment, 48);
    h[0] = VERSIONED_HASH_VERSION_KZG;
    return memcmp(h, versioned_hash, 32) == 0;
}

/* r - y for 0 <= y < r: [r - y]G1 = -[y]G1. */
static void negate_mod_r(bls_scalar *out, const bls_scalar *y)
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t d = BLS_R.l[i] - y->l[i] - borrow;
        borrow = (BLS_R.l[i] < y->l[i]) || (BLS_R.l[i] - y->l[i] < borrow);
        out->l[i] = d;
    }
}

/* e(C - [y]G1, -G2) e(proof, [tau]G2 - [z]G2) == 1, rewritten with
 * e(proof, -[z]G2) = e([z]proof, -G2) as
 * e(C - [y]G1 + [z]proof, -G2) e(proof, [tau]G2) == 1, which needs no G2
 * scalar multiplication; [r - y]G1 + [z]proof is one two-point MSM. */
static bool kzg_proof_holds(const bls_g1_affine *commitment, const bls_scalar *z,
                            const bls_scalar *y, const bls_g1_affine *proof)
{
    bls_g1_affine points[2] = {BLS_G1_GENERATOR, *proof};
    bls_scalar scalars[2];
    negate_mod_r(&scalars[0], y);
    scalars[1] = *z;
    bls_g1 lhs;
    bls_g1_msm(&lhs, points, scalars, 2);
    bls_g1_add_affine(&lhs, &lhs, commitment);

    bls_g1_affine p[2];
    bls_g2_affine q[2];
    bls_g1_to_affine(&p[0], &lhs);
    q[0] = BLS_G2_GENERATOR;
    bls_fp2_neg(&q[0].y, &q[0].y);
    p[1] = *proof;
    q[1] = tau_g2;
    return bls_pairing_check(p, q, 2);
}

uint64_t pc_kzg_point_eval_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in, (void)len, (void)f;
    return GAS_POINT_EVALUATION;
}

bool pc_kzg_point_eval_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    if (len != POINT_EVAL_INPUT_BYTES) return false;
    pthread_once(&point_eval_once, point_eval_init);
    const uint8_t *versioned_hash = in, *z_bytes = in + 32, *y_bytes = in + 64;
    const uint8_t *commitment_bytes = in + 96, *proof_bytes = in + 144;
    if (!versioned_hash_matches(versioned_hash, commitment_bytes)) return false;
    bls_scalar z, y;
    bls_g1_affine commitment, proof;
    if (!decode_bls_field_element(&z, z_bytes) || !decode_bls_field_element(&y, y_bytes)) return false;
    if (!decode_kzg_g1(&commitment, commitment_bytes) || !decode_kzg_g1(&proof, proof_bytes)) return false;
    if (!kzg_proof_holds(&commitment, &z, &y, &proof)) return false;
    uint8_t word[32] = {0};
    word[30] = FIELD_ELEMENTS_PER_BLOB >> 8;
    word[31] = FIELD_ELEMENTS_PER_BLOB & 0xff;
    bytebuf_append(out, word, sizeof word);
    bytebuf_append(out, BLS_MODULUS_BYTES, sizeof BLS_MODULUS_BYTES);
    return true;
}
