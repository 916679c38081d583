/* DIV, MOD, SDIV and SMOD whose operands (magnitudes, for the signed ones)
 * both fit 128 bits, which u256.c divides with the compiler's 128-bit
 * division (snailtracer's fixed-point SDIVs), checked against GMP: random
 * limbs, limbs of 0, 1 and all ones, divisors of one and two limbs, the
 * dividend a multiple of the divisor plus or minus a little, and negative
 * operands of either sign. And the same at full width (Knuth D): divisors
 * of two to four limbs at every normalisation shift, dividends of one to
 * four limbs (mulDiv's DIVs by a wide denominator, swap_math). */
#include <check.h>
#include <gmp.h>

#include "testlib.h"
#include "base/u256.h"

static uint64_t rng_state = 0x64697631323862;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t limb(void)
{
    switch (rng() % 5) {
    case 0: return 0;
    case 1: return 1;
    case 2: return UINT64_MAX;
    case 3: return rng() >> (rng() % 64);
    default: return rng();
    }
}

static u256 neg(const u256 *x)
{
    u256 z = u256_zero();
    return u256_sub(&z, x);
}

static void to_mpz_signed(mpz_t z, const u256 *w)
{
    mpz_import(z, 4, -1, sizeof(uint64_t), 0, 0, w->w);
    if (w->w[3] >> 63) {
        mpz_t two256;
        mpz_init(two256);
        mpz_setbit(two256, 256);
        mpz_sub(z, z, two256);
        mpz_clear(two256);
    }
}

static u256 from_mpz(const mpz_t z) /* mod 2^256 */
{
    mpz_t t;
    mpz_init(t);
    mpz_fdiv_r_2exp(t, z, 256);
    u256 w = u256_zero();
    mpz_export(w.w, NULL, -1, sizeof(uint64_t), 0, 0, t);
    mpz_clear(t);
    return w;
}

static long checked;

static void check_one(const char *name, const u256 *got, const mpz_t want_z, const u256 *a, const u256 *b)
{
    u256 want = from_mpz(want_z);
    checked++;
    ck_assert_msg(u256_eq(got, &want), "%s(%016lx%016lx%016lx%016lx, %016lx%016lx%016lx%016lx) = ..%016lx%016lx, want ..%016lx%016lx",
                  name, (unsigned long)a->w[3], (unsigned long)a->w[2], (unsigned long)a->w[1],
                  (unsigned long)a->w[0], (unsigned long)b->w[3], (unsigned long)b->w[2], (unsigned long)b->w[1],
                  (unsigned long)b->w[0], (unsigned long)got->w[1], (unsigned long)got->w[0],
                  (unsigned long)want.w[1], (unsigned long)want.w[0]);
}

static void check_all(const u256 *a, const u256 *b)
{
    mpz_t x, y, q, r;
    mpz_inits(x, y, q, r, NULL);
    mpz_import(x, 4, -1, sizeof(uint64_t), 0, 0, a->w);
    mpz_import(y, 4, -1, sizeof(uint64_t), 0, 0, b->w);
    mpz_set_ui(q, 0), mpz_set_ui(r, 0);
    if (mpz_sgn(y)) mpz_fdiv_qr(q, r, x, y);
    u256 got = u256_div(a, b);
    check_one("div", &got, q, a, b);
    got = u256_mod(a, b);
    check_one("mod", &got, r, a, b);
    to_mpz_signed(x, a), to_mpz_signed(y, b);
    mpz_set_ui(q, 0), mpz_set_ui(r, 0);
    if (mpz_sgn(y)) mpz_tdiv_qr(q, r, x, y);
    got = u256_sdiv(a, b);
    check_one("sdiv", &got, q, a, b);
    got = u256_smod(a, b);
    check_one("smod", &got, r, a, b);
    mpz_clears(x, y, q, r, NULL);
}

START_TEST(test_within_128_bits)
{
    for (int i = 0; i < 300000; i++) {
        u256 b = {{limb(), rng() % 3 ? limb() : 0, 0, 0}};
        u256 a = {{limb(), limb(), 0, 0}};
        if (rng() % 3 == 0 && !u256_is_zero(&b)) {
            /* a = b * k + small, k one limb: remainders at 0 and b - 1. */
            u256 k = u256_from_u64(rng() >> (rng() % 64)), small = u256_from_u64(rng() % 3);
            u256 bk = u256_mul(&b, &k);
            if (bk.w[2] == 0 && bk.w[3] == 0) {
                a = rng() % 2 ? u256_add(&bk, &small) : u256_sub(&bk, &small);
                if (a.w[2] || a.w[3]) a = bk;
            }
        }
        /* Negative operands whose magnitudes fit 128 bits (SDIV, SMOD). */
        if (rng() % 3 == 0) a = neg(&a);
        if (rng() % 3 == 0) b = neg(&b);
        check_all(&a, &b);
        check_all(&b, &a);
    }
    ck_assert_int_ge(checked, 300000 * 8);
}
END_TEST

START_TEST(test_full_width)
{
    long before = checked;
    for (int i = 0; i < 300000; i++) {
        int dlen = 2 + (int)(rng() % 3), alen = 1 + (int)(rng() % 4);
        u256 a = u256_zero(), b = u256_zero();
        for (int j = 0; j < dlen; j++) b.w[j] = limb();
        b.w[dlen - 1] >>= rng() % 64; /* every normalisation shift */
        if (b.w[dlen - 1] == 0) b.w[dlen - 1] = 1 + rng() % 3;
        for (int j = 0; j < alen; j++) a.w[j] = limb();
        if (rng() % 3 == 0) {
            /* a = b * k + small: remainders at 0 and b - 1, and partial
             * remainders whose top limbs equal the divisor's. */
            u256 k = u256_from_u64(rng() >> (rng() % 64)), small = u256_from_u64(rng() % 3);
            if (rng() % 2) k.w[1] = rng() % 3 ? UINT64_MAX : rng();
            u256 bk = u256_mul(&b, &k);
            a = rng() % 2 ? u256_add(&bk, &small) : u256_sub(&bk, &small);
        }
        check_all(&a, &b);
    }
    ck_assert_int_ge(checked - before, 300000 * 4);
}
END_TEST

int main(void)
{
    return TEST_RUN("u256_div128", TEST_GROUP("against_gmp", 60, test_within_128_bits, test_full_width));
}
