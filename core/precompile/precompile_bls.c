/* The BLS12-381 precompiles of EIP-2537 (Prague), 0x0b..0x11: encoding,
 * validation and gas; the arithmetic is in bls12_381.c.
 *
 * Encoding: a field element is 64 bytes, 16 zero bytes then the value big
 * endian, and must be below p. G1 points are x || y (128 bytes), G2 points
 * x || y with each Fp2 coordinate c0 || c1 (256 bytes); all zeros is the
 * point at infinity. Every point must be on its curve; MSM and pairing
 * inputs must also be in the order-r subgroup (ADD inputs need not be).
 * Scalars are 32 bytes big endian, any value. Any violation, including a
 * wrong input length, fails the call. */
#include <stdlib.h>
#include <string.h>

#include "precompile/bls12_381.h"
#include "precompile/precompile.h"

#define FP_BYTES 64
#define FP_PADDING 16
#define G1_BYTES 128
#define G2_BYTES 256
#define SCALAR_BYTES 32
#define G1_MSM_PAIR_BYTES (G1_BYTES + SCALAR_BYTES)
#define G2_MSM_PAIR_BYTES (G2_BYTES + SCALAR_BYTES)
#define PAIRING_PAIR_BYTES (G1_BYTES + G2_BYTES)

#define GAS_G1_ADD 375
#define GAS_G2_ADD 600
#define GAS_G1_MUL 12000
#define GAS_G2_MUL 22500
#define GAS_MAP_FP_TO_G1 5500
#define GAS_MAP_FP2_TO_G2 23800
#define GAS_PAIRING_BASE 37700
#define GAS_PAIRING_PER_PAIR 32600
#define MSM_DISCOUNT_MULTIPLIER 1000

/* MSM discounts (per mille) for k = 1..128 pairs; beyond, the last value. */
#define MSM_DISCOUNT_PAIRS 128
static const uint16_t G1_MSM_DISCOUNT[MSM_DISCOUNT_PAIRS] = {
    1000, 949, 848, 797, 764, 750, 738, 728, 719, 712, 705, 698, 692, 687, 682, 677,
    673, 669, 665, 661, 658, 654, 651, 648, 645, 642, 640, 637, 635, 632, 630, 627,
    625, 623, 621, 619, 617, 615, 613, 611, 609, 608, 606, 604, 603, 601, 599, 598,
    596, 595, 593, 592, 591, 589, 588, 586, 585, 584, 582, 581, 580, 579, 577, 576,
    575, 574, 573, 572, 570, 569, 568, 567, 566, 565, 564, 563, 562, 561, 560, 559,
    558, 557, 556, 555, 554, 553, 552, 551, 550, 549, 548, 547, 547, 546, 545, 544,
    543, 542, 541, 540, 540, 539, 538, 537, 536, 536, 535, 534, 533, 532, 532, 531,
    530, 529, 528, 528, 527, 526, 525, 525, 524, 523, 522, 522, 521, 520, 520, 519};
static const uint16_t G2_MSM_DISCOUNT[MSM_DISCOUNT_PAIRS] = {
    1000, 1000, 923, 884, 855, 832, 812, 796, 782, 770, 759, 749, 740, 732, 724, 717,
    711, 704, 699, 693, 688, 683, 679, 674, 670, 666, 663, 659, 655, 652, 649, 646,
    643, 640, 637, 634, 632, 629, 627, 624, 622, 620, 618, 615, 613, 611, 609, 607,
    606, 604, 602, 600, 598, 597, 595, 593, 592, 590, 589, 587, 586, 584, 583, 582,
    580, 579, 578, 576, 575, 574, 573, 571, 570, 569, 568, 567, 566, 565, 563, 562,
    561, 560, 559, 558, 557, 556, 555, 554, 553, 552, 552, 551, 550, 549, 548, 547,
    546, 545, 545, 544, 543, 542, 541, 541, 540, 539, 538, 537, 537, 536, 535, 535,
    534, 533, 532, 532, 531, 530, 530, 529, 528, 528, 527, 526, 526, 525, 524, 524};

/* ---- decoding and encoding ---- */

static bool decode_fp(bls_fp *r, const uint8_t in[FP_BYTES])
{
    for (int i = 0; i < FP_PADDING; i++) {
        if (in[i]) return false;
    }
    return bls_fp_from_bytes(r, in + FP_PADDING);
}

static void encode_fp(uint8_t out[FP_BYTES], const bls_fp *a)
{
    memset(out, 0, FP_PADDING);
    bls_fp_to_bytes(out + FP_PADDING, a);
}

static bool decode_fp2(bls_fp2 *r, const uint8_t in[2 * FP_BYTES])
{
    return decode_fp(&r->c0, in) && decode_fp(&r->c1, in + FP_BYTES);
}

static void encode_fp2(uint8_t out[2 * FP_BYTES], const bls_fp2 *a)
{
    encode_fp(out, &a->c0);
    encode_fp(out + FP_BYTES, &a->c1);
}

/* A G1 point on the curve (and in the subgroup when asked). */
static bool decode_g1(bls_g1_affine *r, const uint8_t in[G1_BYTES], bool subgroup_check)
{
    if (!decode_fp(&r->x, in) || !decode_fp(&r->y, in + FP_BYTES)) return false;
    r->infinity = bls_fp_is_zero(&r->x) && bls_fp_is_zero(&r->y);
    if (!bls_g1_affine_on_curve(r)) return false;
    return !subgroup_check || bls_g1_affine_in_subgroup(r);
}

static bool decode_g2(bls_g2_affine *r, const uint8_t in[G2_BYTES], bool subgroup_check)
{
    if (!decode_fp2(&r->x, in) || !decode_fp2(&r->y, in + 2 * FP_BYTES)) return false;
    r->infinity = bls_fp2_is_zero(&r->x) && bls_fp2_is_zero(&r->y);
    if (!bls_g2_affine_on_curve(r)) return false;
    return !subgroup_check || bls_g2_affine_in_subgroup(r);
}

static void decode_scalar(bls_scalar *r, const uint8_t in[SCALAR_BYTES])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++) v = (v << 8) | in[(3 - i) * 8 + j];
        r->l[i] = v;
    }
}

static void append_g1(bytebuf *out, const bls_g1 *p)
{
    uint8_t buf[G1_BYTES];
    bls_g1_affine a;
    bls_g1_to_affine(&a, p); /* infinity comes out as zeros */
    encode_fp(buf, &a.x);
    encode_fp(buf + FP_BYTES, &a.y);
    bytebuf_append(out, buf, sizeof buf);
}

static void append_g2(bytebuf *out, const bls_g2 *p)
{
    uint8_t buf[G2_BYTES];
    bls_g2_affine a;
    bls_g2_to_affine(&a, p);
    encode_fp2(buf, &a.x);
    encode_fp2(buf + 2 * FP_BYTES, &a.y);
    bytebuf_append(out, buf, sizeof buf);
}

/* ---- gas ---- */

/* k * mul_cost * discount(k) / 1000. A length that is not a positive
 * multiple of the pair size costs nothing here: the run rejects it, which
 * consumes all the gas anyway. */
static uint64_t msm_gas(size_t len, size_t pair_bytes, uint64_t mul_cost,
                        const uint16_t discount[MSM_DISCOUNT_PAIRS])
{
    if (len == 0 || len % pair_bytes != 0) return 0;
    size_t k = len / pair_bytes;
    uint64_t d = k <= MSM_DISCOUNT_PAIRS ? discount[k - 1] : discount[MSM_DISCOUNT_PAIRS - 1];
    __extension__ unsigned __int128 gas = (unsigned __int128)k * mul_cost * d / MSM_DISCOUNT_MULTIPLIER;
    return gas > UINT64_MAX ? UINT64_MAX : (uint64_t)gas;
}

uint64_t pc_bls_g1add_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in, (void)len, (void)f;
    return GAS_G1_ADD;
}

uint64_t pc_bls_g2add_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in, (void)len, (void)f;
    return GAS_G2_ADD;
}

uint64_t pc_bls_g1msm_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in, (void)f;
    return msm_gas(len, G1_MSM_PAIR_BYTES, GAS_G1_MUL, G1_MSM_DISCOUNT);
}

uint64_t pc_bls_g2msm_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in, (void)f;
    return msm_gas(len, G2_MSM_PAIR_BYTES, GAS_G2_MUL, G2_MSM_DISCOUNT);
}

uint64_t pc_bls_pairing_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in, (void)f;
    uint64_t k = len / PAIRING_PAIR_BYTES;
    if (k > (UINT64_MAX - GAS_PAIRING_BASE) / GAS_PAIRING_PER_PAIR) return UINT64_MAX;
    return GAS_PAIRING_PER_PAIR * k + GAS_PAIRING_BASE;
}

uint64_t pc_bls_map_fp_to_g1_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in, (void)len, (void)f;
    return GAS_MAP_FP_TO_G1;
}

uint64_t pc_bls_map_fp2_to_g2_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in, (void)len, (void)f;
    return GAS_MAP_FP2_TO_G2;
}

/* ---- runs ---- */

bool pc_bls_g1add_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    bls_g1_affine a, b;
    if (len != 2 * G1_BYTES) return false;
    if (!decode_g1(&a, in, false) || !decode_g1(&b, in + G1_BYTES, false)) return false;
    bls_g1 sum;
    bls_g1_from_affine(&sum, &a);
    bls_g1_add_affine(&sum, &sum, &b);
    append_g1(out, &sum);
    return true;
}

bool pc_bls_g2add_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    bls_g2_affine a, b;
    if (len != 2 * G2_BYTES) return false;
    if (!decode_g2(&a, in, false) || !decode_g2(&b, in + G2_BYTES, false)) return false;
    bls_g2 sum;
    bls_g2_from_affine(&sum, &a);
    bls_g2_add_affine(&sum, &sum, &b);
    append_g2(out, &sum);
    return true;
}

bool pc_bls_g1msm_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    if (len == 0 || len % G1_MSM_PAIR_BYTES != 0) return false;
    size_t k = len / G1_MSM_PAIR_BYTES;
    bls_g1_affine *points = xmalloc(k * sizeof *points);
    bls_scalar *scalars = xmalloc(k * sizeof *scalars);
    bool ok = true;
    for (size_t i = 0; i < k && ok; i++) {
        const uint8_t *pair = in + i * G1_MSM_PAIR_BYTES;
        ok = decode_g1(&points[i], pair, true);
        decode_scalar(&scalars[i], pair + G1_BYTES);
    }
    if (ok) {
        bls_g1 r;
        bls_g1_msm(&r, points, scalars, k);
        append_g1(out, &r);
    }
    free(scalars);
    free(points);
    return ok;
}

bool pc_bls_g2msm_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    if (len == 0 || len % G2_MSM_PAIR_BYTES != 0) return false;
    size_t k = len / G2_MSM_PAIR_BYTES;
    bls_g2_affine *points = xmalloc(k * sizeof *points);
    bls_scalar *scalars = xmalloc(k * sizeof *scalars);
    bool ok = true;
    for (size_t i = 0; i < k && ok; i++) {
        const uint8_t *pair = in + i * G2_MSM_PAIR_BYTES;
        ok = decode_g2(&points[i], pair, true);
        decode_scalar(&scalars[i], pair + G2_BYTES);
    }
    if (ok) {
        bls_g2 r;
        bls_g2_msm(&r, points, scalars, k);
        append_g2(out, &r);
    }
    free(scalars);
    free(points);
    return ok;
}

bool pc_bls_pairing_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    if (len == 0 || len % PAIRING_PAIR_BYTES != 0) return false;
    size_t k = len / PAIRING_PAIR_BYTES;
    bls_g1_affine *p = xmalloc(k * sizeof *p);
    bls_g2_affine *q = xmalloc(k * sizeof *q);
    bool ok = true;
    for (size_t i = 0; i < k && ok; i++) {
        const uint8_t *pair = in + i * PAIRING_PAIR_BYTES;
        ok = decode_g1(&p[i], pair, true) && decode_g2(&q[i], pair + G1_BYTES, true);
    }
    if (ok) precompile_output_bool(out, bls_pairing_check(p, q, k));
    free(q);
    free(p);
    return ok;
}

bool pc_bls_map_fp_to_g1_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    bls_fp u;
    if (len != FP_BYTES || !decode_fp(&u, in)) return false;
    bls_g1 r;
    bls_g1_map_from_fp(&r, &u);
    append_g1(out, &r);
    return true;
}

bool pc_bls_map_fp2_to_g2_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    bls_fp2 u;
    if (len != 2 * FP_BYTES || !decode_fp2(&u, in)) return false;
    bls_g2 r;
    bls_g2_map_from_fp2(&r, &u);
    append_g2(out, &r);
    return true;
}
