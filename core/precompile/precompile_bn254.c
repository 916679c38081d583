/* The alt_bn128 precompiles: 0x06 ECADD and 0x07 ECMUL (EIP-196), 0x08
 * pairing check (EIP-197), with the EIP-1108 prices from Istanbul on. */
#include "precompile/bn254.h"
#include "precompile/precompile.h"

#include <stdlib.h>
#include <string.h>

#define G1_BYTES 64
#define G2_BYTES 128
#define PAIR_BYTES (G1_BYTES + G2_BYTES)

/* Copies the input into a fixed-size buffer: short inputs are right-padded
 * with zeros, long ones truncated. */
static void fixed_input(uint8_t *buf, size_t size, const uint8_t *in, size_t len)
{
    size_t n = len < size ? len : size;
    if (n) memcpy(buf, in, n);
    memset(buf + n, 0, size - n);
}

/* A G1 point as two 32-byte big-endian coordinates; (0,0) is the point at
 * infinity. False for a coordinate >= p or a point off the curve. */
static bool read_g1(bn254_g1 *r, const uint8_t in[G1_BYTES])
{
    bn254_fp x, y;
    if (!bn254_fp_from_bytes(&x, in) || !bn254_fp_from_bytes(&y, in + 32)) return false;
    return bn254_g1_from_affine(r, &x, &y);
}

/* A G2 point encoded as (x_imag, x_real, y_imag, y_real); all zero is the
 * point at infinity. False for a coordinate >= p, a point off the twist, or
 * a point outside the order-r subgroup. */
static bool read_g2(bn254_g2 *r, const uint8_t in[G2_BYTES])
{
    bn254_fp2 x, y;
    if (!bn254_fp_from_bytes(&x.c1, in) || !bn254_fp_from_bytes(&x.c0, in + 32) ||
        !bn254_fp_from_bytes(&y.c1, in + 64) || !bn254_fp_from_bytes(&y.c0, in + 96))
        return false;
    if (!bn254_g2_from_affine(r, &x, &y)) return false;
    return bn254_g2_is_infinity(r) || bn254_g2_in_subgroup(r);
}

static void write_g1(bytebuf *out, const bn254_g1 *p)
{
    bn254_fp x, y;
    uint8_t buf[G1_BYTES];
    bn254_g1_to_affine(&x, &y, p);
    bn254_fp_to_bytes(buf, &x);
    bn254_fp_to_bytes(buf + 32, &y);
    bytebuf_append(out, buf, sizeof buf);
}

uint64_t pc_bn254_add_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in;
    (void)len;
    return f >= FORK_ISTANBUL ? 150 : 500;
}

bool pc_bn254_add_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    uint8_t buf[2 * G1_BYTES];
    bn254_g1 a, b, sum;
    fixed_input(buf, sizeof buf, in, len);
    if (!read_g1(&a, buf) || !read_g1(&b, buf + G1_BYTES)) return false;
    bn254_g1_add(&sum, &a, &b);
    write_g1(out, &sum);
    return true;
}

uint64_t pc_bn254_mul_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in;
    (void)len;
    return f >= FORK_ISTANBUL ? 6000 : 40000;
}

bool pc_bn254_mul_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    uint8_t buf[G1_BYTES + 32];
    bn254_g1 a, prod;
    bn254_scalar k;
    fixed_input(buf, sizeof buf, in, len);
    if (!read_g1(&a, buf)) return false;
    /* The scalar is a full 256-bit big-endian word, not reduced mod r. */
    for (int i = 0; i < 4; i++) {
        uint64_t w = 0;
        for (int j = 0; j < 8; j++) w = (w << 8) | buf[G1_BYTES + (3 - i) * 8 + j];
        k.l[i] = w;
    }
    bn254_g1_mul(&prod, &a, &k);
    write_g1(out, &prod);
    return true;
}

uint64_t pc_bn254_pairing_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in;
    uint64_t base = f >= FORK_ISTANBUL ? 45000 : 100000;
    uint64_t per_pair = f >= FORK_ISTANBUL ? 34000 : 80000;
    uint64_t pairs = len / PAIR_BYTES;
    if (pairs > (UINT64_MAX - base) / per_pair) return UINT64_MAX;
    return base + pairs * per_pair;
}

bool pc_bn254_pairing_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    if (len % PAIR_BYTES != 0) return false;
    size_t n = len / PAIR_BYTES;
    bn254_g1 *P = n ? xmalloc(n * sizeof *P) : NULL;
    bn254_g2 *Q = n ? xmalloc(n * sizeof *Q) : NULL;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const uint8_t *pair = in + i * PAIR_BYTES;
        ok = read_g1(&P[i], pair) && read_g2(&Q[i], pair + G1_BYTES);
    }
    /* Pairs with a point at infinity contribute 1; the check skips them. */
    if (ok) precompile_output_bool(out, bn254_pairing_check(P, Q, n));
    free(P);
    free(Q);
    return ok;
}
