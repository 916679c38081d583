/* MULMOD and ADDMOD by a four-limb modulus (u256.c's reduce_by_4limbs and
 * its one-asm-block reduction step), checked against GMP:
 * - field primes (bn254's base and scalar fields, weierstrudel's modulus;
 *   secp256k1's; 2^255 - 19) with operands below the modulus (a product
 *   whose top half is below the modulus starts one step lower), at it, just
 *   above it and up to 2^256 - 1 (products near 2^512);
 * - moduli of every normalisation shift (top bit set down to 2^192 + 1) and
 *   limb patterns (zero, all ones, one) that push the 3-by-2 digit into its
 *   corrections and add-backs;
 * - the per-thread modulus cache: alternating moduli call by call, short
 *   and power-of-two moduli in between, and threads reducing by different
 *   moduli at once. */
#include <check.h>
#include <gmp.h>
#include <pthread.h>
#include <stdio.h>

#include "testlib.h"
#include "base/u256.h"

static _Thread_local uint64_t rng_state = 0x6d756c6d6f64;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void to_mpz(mpz_t z, const u256 *w) { mpz_import(z, 4, -1, sizeof(uint64_t), 0, 0, w->w); }

static u256 from_mpz(const mpz_t z)
{
    u256 w = u256_zero();
    mpz_export(w.w, NULL, -1, sizeof(uint64_t), 0, 0, z);
    return w;
}

static u256 word(uint64_t w3, uint64_t w2, uint64_t w1, uint64_t w0)
{
    u256 r = {{w0, w1, w2, w3}};
    return r;
}

static const u256 field_primes[] = {
    /* bn254 base field (weierstrudel, the alt_bn128 precompiles) */
    {{0x3c208c16d87cfd47ull, 0x97816a916871ca8dull, 0xb85045b68181585dull, 0x30644e72e131a029ull}},
    /* bn254 scalar field */
    {{0x43e1f593f0000001ull, 0x2833e84879b97091ull, 0xb85045b68181585dull, 0x30644e72e131a029ull}},
    /* secp256k1 base field and group order (top bit set: no shift) */
    {{0xfffffffefffffc2full, UINT64_MAX, UINT64_MAX, UINT64_MAX}},
    {{0xbfd25e8cd0364141ull, 0xbaaedce6af48a03bull, 0xfffffffffffffffeull, UINT64_MAX}},
    /* 2^255 - 19 */
    {{0xffffffffffffffedull, UINT64_MAX, UINT64_MAX, 0x7fffffffffffffffull}},
};
#define N_PRIMES (sizeof field_primes / sizeof field_primes[0])

/* Per-thread count of comparisons made, so that no test passes by checking
 * nothing. */
static _Thread_local long checked;

/* False (and a message to stderr) on a mismatch; a thread cannot call
 * ck_assert, so the tests assert on this. */
static bool agrees(const u256 *a, const u256 *b, const u256 *m)
{
    mpz_t x, y, z, r;
    mpz_inits(x, y, z, r, NULL);
    to_mpz(x, a), to_mpz(y, b), to_mpz(z, m);
    bool ok = true;
    for (int op = 0; op < 2; op++) {
        u256 want = u256_zero(), got;
        if (op == 0)
            mpz_mul(r, x, y);
        else
            mpz_add(r, x, y);
        if (mpz_sgn(z)) {
            mpz_fdiv_r(r, r, z);
            want = from_mpz(r);
        }
        got = op == 0 ? u256_mulmod(a, b, m) : u256_addmod(a, b, m);
        checked++;
        if (!u256_eq(&got, &want)) {
            fprintf(stderr,
                    "%s(%016lx%016lx%016lx%016lx, %016lx%016lx%016lx%016lx, %016lx%016lx%016lx%016lx) = "
                    "%016lx%016lx%016lx%016lx, want %016lx%016lx%016lx%016lx\n",
                    op == 0 ? "mulmod" : "addmod", (unsigned long)a->w[3], (unsigned long)a->w[2],
                    (unsigned long)a->w[1], (unsigned long)a->w[0], (unsigned long)b->w[3], (unsigned long)b->w[2],
                    (unsigned long)b->w[1], (unsigned long)b->w[0], (unsigned long)m->w[3], (unsigned long)m->w[2],
                    (unsigned long)m->w[1], (unsigned long)m->w[0], (unsigned long)got.w[3],
                    (unsigned long)got.w[2], (unsigned long)got.w[1], (unsigned long)got.w[0],
                    (unsigned long)want.w[3], (unsigned long)want.w[2], (unsigned long)want.w[1],
                    (unsigned long)want.w[0]);
            ok = false;
        }
    }
    mpz_clears(x, y, z, r, NULL);
    return ok;
}

/* A random value below m (by GMP; any value for m = 0), its top limbs
 * often close to m's. */
static u256 below(const u256 *m)
{
    u256 x = word(rng(), rng(), rng(), rng());
    if (rng() % 4 == 0) x.w[3] = m->w[3] ? m->w[3] - 1 : 0, x.w[2] = m->w[2];
    if (u256_is_zero(m)) return x;
    mpz_t z, d;
    mpz_inits(z, d, NULL);
    to_mpz(z, &x), to_mpz(d, m);
    mpz_fdiv_r(z, z, d);
    x = from_mpz(z);
    mpz_clears(z, d, NULL);
    return x;
}

/* An operand relative to m: below it (most often, as field arithmetic
 * keeps them), m - small, m, m + small, 2m mod 2^256, all ones, small. */
static u256 operand(const u256 *m)
{
    u256 k = u256_from_u64(rng() % 4);
    u256 ones = word(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX);
    switch (rng() % 10) {
    case 0: return u256_sub(m, &k);
    case 1: return *m;
    case 2: return u256_add(m, &k);
    case 3: return u256_add(m, m);
    case 4: return u256_sub(&ones, &k);
    case 5: return u256_from_u64(rng() % 1000);
    case 6: return word(rng(), rng(), rng(), rng());
    default: return below(m);
    }
}

START_TEST(test_field_primes)
{
    bool ok = true;
    long before = checked;
    for (size_t p = 0; p < N_PRIMES; p++) {
        const u256 *m = &field_primes[p];
        for (int i = 0; i < 60000 && ok; i++) {
            u256 a = operand(m), b = operand(m);
            ok = agrees(&a, &b, m);
        }
        /* Reduced operands only: every product takes the shortened start. */
        for (int i = 0; i < 20000 && ok; i++) {
            u256 a = below(m), b = below(m);
            ok = agrees(&a, &b, m);
        }
    }
    ck_assert_msg(ok, "a field prime's MULMOD or ADDMOD differs from GMP (stderr)");
    ck_assert_int_ge(checked - before, (long)N_PRIMES * 80000 * 2);
}
END_TEST

/* A limb that makes the 3-by-2 estimate and the subtraction borderline. */
static uint64_t pattern_limb(void)
{
    switch (rng() % 6) {
    case 0: return 0;
    case 1: return UINT64_MAX;
    case 2: return 1;
    case 3: return UINT64_MAX - rng() % 4;
    case 4: return (uint64_t)1 << 63;
    default: return rng();
    }
}

START_TEST(test_modulus_shapes)
{
    bool ok = true;
    long before = checked;
    for (int i = 0; i < 200000 && ok; i++) {
        u256 m = word(pattern_limb(), pattern_limb(), pattern_limb(), pattern_limb());
        m.w[3] >>= rng() % 64; /* every normalisation shift */
        if (m.w[3] == 0) m.w[3] = 1 + rng() % 3;
        u256 a, b;
        if (rng() % 2) {
            /* Operands sharing m's top limbs: partial remainders whose top
             * two limbs equal the divisor's (the digit 2^64 - 1) or sit just
             * below it. */
            u256 d = word(0, rng() % 2 ? rng() : 0, pattern_limb(), pattern_limb());
            a = u256_lt(&d, &m) ? u256_sub(&m, &d) : m;
            b = operand(&m);
            if (rng() % 2) b = word(0, 0, rng() % 3 == 0, (uint64_t)1 << (rng() % 64));
        } else {
            a = operand(&m), b = operand(&m);
        }
        ok = agrees(&a, &b, &m);
    }
    /* The fixed edges: 2^255, 2^255 + 1, 2^256 - 1, 2^192, 2^192 + 1, 1, 0,
     * each with the extreme operands. */
    u256 edges[] = {word((uint64_t)1 << 63, 0, 0, 0), word((uint64_t)1 << 63, 0, 0, 1),
                    word(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX), word(1, 0, 0, 0), word(1, 0, 0, 1),
                    u256_from_u64(1), u256_zero(), field_primes[0]};
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
        u256 ops[] = {u256_zero(), u256_from_u64(1), edges[e], word(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX),
                      word(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX - 1), word((uint64_t)1 << 63, 0, 0, 0)};
        size_t n = sizeof ops / sizeof ops[0];
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) ok = ok && agrees(&ops[i], &ops[j], &edges[e]);
    }
    ck_assert_msg(ok, "MULMOD or ADDMOD differs from GMP (stderr)");
    ck_assert_int_ge(checked - before, 400000);
}
END_TEST

START_TEST(test_cache_switches)
{
    /* Each call a different modulus from the last: prime, other prime, a
     * three-limb modulus, a power of two, all ones, zero, then back. */
    const u256 others[] = {field_primes[0],    field_primes[2],  word(0, 0x1234, 0, 7), word(0, 0, 0, 1000003),
                           word(1, 0, 0, 0),   word(0, 0, 1, 0), word(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX),
                           u256_zero(),        field_primes[1]};
    size_t n = sizeof others / sizeof others[0];
    bool ok = true;
    long before = checked;
    for (int i = 0; i < 50000 && ok; i++) {
        const u256 *m = &others[rng() % n];
        u256 a = operand(m), b = operand(m);
        ok = agrees(&a, &b, m);
    }
    ck_assert_msg(ok, "a MULMOD or ADDMOD after a change of modulus differs from GMP (stderr)");
    ck_assert_int_ge(checked - before, 100000);
}
END_TEST

START_TEST(test_two_moduli_alternating)
{
    /* Two moduli in turn (both kept cached), then a third: pairs that
     * differ only in their lowest limb, so that answering from the other
     * entry shows; of two, three and four limbs (swap_math alternates
     * mulDiv's denominators). */
    bool ok = true;
    long before = checked;
    for (int i = 0; i < 20000 && ok; i++) {
        int limbs = 2 + (int)(rng() % 3);
        u256 m1 = u256_zero();
        for (int j = 0; j < limbs; j++) m1.w[j] = pattern_limb() | (j == limbs - 1);
        u256 m2 = m1, m3 = m1;
        m2.w[0] ^= 1 + rng() % 7, m3.w[0] ^= 8 + rng() % 7;
        const u256 *order[] = {&m1, &m2, &m1, &m2, &m2, &m1, &m3, &m1, &m3, &m2};
        for (size_t k = 0; k < sizeof order / sizeof order[0] && ok; k++) {
            u256 a = operand(order[k]), b = operand(order[k]);
            ok = agrees(&a, &b, order[k]);
        }
    }
    ck_assert_msg(ok, "a MULMOD or ADDMOD by one of two alternating moduli differs from GMP (stderr)");
    ck_assert_int_ge(checked - before, 400000);
}
END_TEST

/* Each thread reduces by its own prime: the cached modulus is per thread. */
static void *reduce_in_thread(void *arg)
{
    size_t which = (size_t)(uintptr_t)arg;
    rng_state = 0x1000 + which;
    const u256 *m = &field_primes[which % N_PRIMES];
    bool ok = true;
    for (int i = 0; i < 20000 && ok; i++) {
        u256 a = operand(m), b = operand(m);
        ok = agrees(&a, &b, m);
    }
    return (void *)(uintptr_t)(ok && checked == 40000);
}

START_TEST(test_threads_keep_their_modulus)
{
    pthread_t t[4];
    for (size_t i = 0; i < 4; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, reduce_in_thread, (void *)(uintptr_t)i), 0);
    for (size_t i = 0; i < 4; i++) {
        void *ok;
        ck_assert_int_eq(pthread_join(t[i], &ok), 0);
        ck_assert_msg(ok, "thread %zu: a result differs from GMP or fewer checks ran (stderr)", i);
    }
}
END_TEST

int main(void)
{
    return TEST_RUN("u256_modreduce", TEST_GROUP("against_gmp", 120, test_field_primes, test_modulus_shapes,
                                                 test_cache_switches, test_two_moduli_alternating,
                                                 test_threads_keep_their_modulus));
}
