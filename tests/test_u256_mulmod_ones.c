/* MULMOD by 2^256 - 1 (Solidity's mulDiv idiom), which u256_mulmod takes
 * without division (the product's halves added, end-around carry), checked
 * against GMP: random operands, operands near the modulus and products whose
 * folded sum lands on the modulus itself or carries out; and the cached
 * modulus of other calls left as it was around it. */
#include <check.h>
#include <gmp.h>

#include "testlib.h"
#include "base/u256.h"

static uint64_t rng_state = 0x5eed;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void to_mpz(mpz_t z, const u256 *w)
{
    mpz_import(z, 4, -1, sizeof(uint64_t), 0, 0, w->w);
}

static u256 from_mpz(const mpz_t z)
{
    u256 w = u256_zero();
    mpz_export(w.w, NULL, -1, sizeof(uint64_t), 0, 0, z);
    return w;
}

/* A word of random shape: each limb random, zero, all ones, or small. */
static u256 word(void)
{
    u256 w;
    for (int i = 0; i < 4; i++) {
        switch (rng() % 4) {
        case 0: w.w[i] = 0; break;
        case 1: w.w[i] = UINT64_MAX; break;
        case 2: w.w[i] = rng() % 4; break;
        default: w.w[i] = rng(); break;
        }
    }
    return w;
}

static const u256 ones = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};

static void check_against_gmp(const u256 *a, const u256 *b, const u256 *m)
{
    mpz_t x, y, z, r;
    mpz_inits(x, y, z, r, NULL);
    to_mpz(x, a), to_mpz(y, b), to_mpz(z, m);
    mpz_mul(r, x, y);
    mpz_fdiv_r(r, r, z);
    u256 want = from_mpz(r), got = u256_mulmod(a, b, m);
    ck_assert_msg(u256_eq(&got, &want), "mulmod(%016lx..%016lx, %016lx..%016lx, m) = %016lx..%016lx, want %016lx..%016lx",
                  (unsigned long)a->w[3], (unsigned long)a->w[0], (unsigned long)b->w[3], (unsigned long)b->w[0],
                  (unsigned long)got.w[3], (unsigned long)got.w[0], (unsigned long)want.w[3],
                  (unsigned long)want.w[0]);
    mpz_clears(x, y, z, r, NULL);
}

START_TEST(test_random_and_shaped_operands)
{
    for (int i = 0; i < 100000; i++) {
        u256 a = word(), b = word();
        check_against_gmp(&a, &b, &ones);
    }
}
END_TEST

START_TEST(test_edges)
{
    /* m * m, m * 1, m * 0, (m - 1) * (m - 1) (= 1), 2^255 * 2 (= 1: the
     * carry folds into zero low bits), 2^128 * 2^128 (= 1). */
    u256 zero = u256_zero(), one = u256_from_u64(1), two = u256_from_u64(2);
    u256 m1 = ones;
    m1.w[0]--;
    u256 top = {{0, 0, 0, (uint64_t)1 << 63}}, mid = {{0, 0, 1, 0}};
    const u256 *pairs[][2] = {{&ones, &ones}, {&ones, &one}, {&ones, &zero}, {&m1, &m1},
                              {&top, &two}, {&mid, &mid}, {&one, &one}, {&m1, &one}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        check_against_gmp(pairs[i][0], pairs[i][1], &ones);
        check_against_gmp(pairs[i][1], pairs[i][0], &ones);
    }
    /* Products lo + hi == m exactly (result 0, not m): a = m - k, b = ...
     * found by search over small factors of m = 3 * 5 * 17 * 257 * ... */
    for (uint64_t k = 1; k < 2000; k++) {
        u256 a = u256_from_u64(k), b;
        /* b = m / k rounded both ways: a * b near m, lo + hi near m. */
        u256 kk = u256_from_u64(k);
        b = u256_div(&ones, &kk);
        check_against_gmp(&a, &b, &ones);
        u256 b1 = u256_add(&b, &one);
        check_against_gmp(&a, &b1, &ones);
    }
}
END_TEST

START_TEST(test_cached_modulus_kept)
{
    /* A prime modulus, then the all-ones one, then the prime again: the
     * second prime call must still see its own modulus. */
    u256 p = {{0x3c208c16d87cfd47ull, 0x97816a916871ca8dull, 0xb85045b68181585dull, 0x30644e72e131a029ull}};
    for (int i = 0; i < 1000; i++) {
        u256 a = word(), b = word();
        check_against_gmp(&a, &b, &p);
        check_against_gmp(&a, &b, &ones);
        check_against_gmp(&b, &a, &p);
    }
}
END_TEST

int main(void)
{
    return TEST_RUN("u256_mulmod_ones", TEST_GROUP("against_gmp", 60, test_random_and_shaped_operands, test_edges,
                                                   test_cached_modulus_kept));
}
