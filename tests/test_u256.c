/* u256 arithmetic checked against GMP on many deterministic pseudo-random
 * cases mixed with edge-case words. Signed operations are checked by reading
 * both operands as two's complement into signed mpz values. */
#include <check.h>
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "testlib.h"
#include "base/u256.h"

#define CASES 40000

/* ---- deterministic PRNG (splitmix64) ----------------------------------- */

static uint64_t rng_state;

static void rng_seed(uint64_t seed) { rng_state = seed; }

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rng_below(unsigned n) { return (unsigned)(rng() % n); }

/* ---- word generators ---------------------------------------------------- */

static u256 word(uint64_t w3, uint64_t w2, uint64_t w1, uint64_t w0)
{
    u256 r = {{w0, w1, w2, w3}};
    return r;
}

static u256 pow2(unsigned k)
{
    u256 r = u256_zero();
    if (k < 256) r.w[k / 64] = (uint64_t)1 << (k % 64);
    return r;
}

static u256 edge_word(void)
{
    static const uint64_t M = UINT64_MAX, H = 0x8000000000000000ull;
    switch (rng_below(20)) {
    case 0: return word(0, 0, 0, 0);
    case 1: return word(0, 0, 0, 1);
    case 2: return word(0, 0, 0, 2);
    case 3: return word(0, 0, 0, M);
    case 4: return word(0, 0, 1, 0);
    case 5: return word(0, 1, 0, 0);
    case 6: return word(H, 0, 0, 0);                     /* 2^255, also -2^255 */
    case 7: return word(H - 1, M, M, M);                 /* 2^255 - 1 */
    case 8: return word(M, M, M, M);                     /* 2^256 - 1 == -1 */
    case 9: return word(M, M, M, M - 1);                 /* -2 */
    case 10: return word(0, 0, M, M);                    /* 2^128 - 1 */
    case 11: return word(0, M, M, M);                    /* 2^192 - 1 */
    case 12: return word(1, 0, 0, 0);                    /* 2^192 */
    case 13: return word(H, 0, 0, 1);                    /* -2^255 + 1 */
    case 14: return word(0, 0, 0, H);                    /* 2^63 */
    case 15: return word(H, 0, 0, 0);
    case 16: return word(M, M, M, 0);
    case 17: { u256 p = pow2(rng_below(256)), one = u256_from_u64(1); return u256_sub(&p, &one); }
    case 18: { u256 p = pow2(rng_below(256)), one = u256_from_u64(1); return u256_add(&p, &one); }
    default: return pow2(rng_below(256));
    }
}

/* A limb from a small set of values that stress carries and the quotient
 * digit estimate of long division. */
static uint64_t pattern_limb(void)
{
    static const uint64_t limbs[] = {0, 1, 2, UINT64_MAX, UINT64_MAX - 1, 0x8000000000000000ull,
                                     0x7fffffffffffffffull, 0x8000000000000001ull, 0xffffffff00000000ull,
                                     0x00000000ffffffffull};
    if (rng_below(4) == 0) return rng();
    return limbs[rng_below(sizeof limbs / sizeof limbs[0])];
}

/* A random word with exactly `limbs` significant limbs (0..4). */
static u256 word_with_limbs(unsigned limbs)
{
    u256 r = u256_zero();
    for (unsigned i = 0; i < limbs; i++) r.w[i] = rng();
    if (limbs) {
        if (rng_below(2)) r.w[limbs - 1] >>= rng_below(64);
        if (r.w[limbs - 1] == 0) r.w[limbs - 1] = 1;
    }
    return r;
}

static u256 random_word(void)
{
    switch (rng_below(10)) {
    case 0:
    case 1: return edge_word();
    case 2:
    case 3: return word(rng(), rng(), rng(), rng());
    case 4:
    case 5: return word_with_limbs(1 + rng_below(4));
    case 6: return word(pattern_limb(), pattern_limb(), pattern_limb(), pattern_limb());
    case 7: { /* a small negative number */
        u256 s = word_with_limbs(rng_below(3)), z = u256_zero();
        return u256_sub(&z, &s);
    }
    case 8: { /* a few set bits */
        u256 r = u256_zero();
        for (unsigned n = 1 + rng_below(4); n; n--) {
            unsigned k = rng_below(256);
            r.w[k / 64] |= (uint64_t)1 << (k % 64);
        }
        return r;
    }
    default: { /* random bit length */
        u256 r = word(rng(), rng(), rng(), rng());
        unsigned keep = rng_below(257);
        u256 sh = u256_from_u64(256 - keep);
        return u256_shr(&sh, &r);
    }
    }
}

/* A second operand related to the first: equal, adjacent, a divisor of a
 * chosen limb length, or larger than it. */
static u256 related_word(const u256 *a)
{
    u256 one = u256_from_u64(1);
    switch (rng_below(12)) {
    case 0: return *a;
    case 1: return u256_add(a, &one);
    case 2: return u256_sub(a, &one);
    case 3: return word_with_limbs(1 + rng_below(4));
    case 4: { /* a divisor with the same limb count and pattern limbs */
        u256 r = word(pattern_limb(), pattern_limb(), pattern_limb(), pattern_limb());
        unsigned limbs = 4 - u256_clz(a) / 64;
        for (unsigned i = limbs; i < 4; i++) r.w[i] = 0;
        return r;
    }
    case 5: { /* a shifted down by a few bits: quotient of a few bits */
        u256 sh = u256_from_u64(1 + rng_below(130));
        return u256_shr(&sh, a);
    }
    case 6: { /* a power of two (the shortcut for shifts and masks) */
        u256 one_ = u256_from_u64(1), k = u256_from_u64(rng_below(256));
        return u256_shl(&k, &one_);
    }
    default: return random_word();
    }
}

static u256 shift_amount(void)
{
    static const uint64_t edges[] = {0, 1, 7, 8, 63, 64, 65, 127, 128, 129, 191, 192, 255, 256, 257, 1000};
    switch (rng_below(6)) {
    case 0: return u256_from_u64(edges[rng_below(sizeof edges / sizeof edges[0])]);
    case 1: return random_word();
    default: return u256_from_u64(rng_below(300));
    }
}

/* ---- mpz conversions ---------------------------------------------------- */

static mpz_t two256, mask256;

static void mpz_consts_init(void)
{
    mpz_init(two256);
    mpz_init(mask256);
    mpz_ui_pow_ui(two256, 2, 256);
    mpz_sub_ui(mask256, two256, 1);
}

static void to_mpz(mpz_t z, const u256 *a) { mpz_import(z, 4, -1, sizeof(uint64_t), 0, 0, a->w); }

/* Two's complement reading. */
static void to_mpz_signed(mpz_t z, const u256 *a)
{
    to_mpz(z, a);
    if (a->w[3] >> 63) mpz_sub(z, z, two256);
}

/* Any integer, reduced modulo 2^256. */
static u256 from_mpz(const mpz_t z)
{
    mpz_t t;
    mpz_init(t);
    mpz_fdiv_r_2exp(t, z, 256);
    u256 r = u256_zero();
    size_t count = 0;
    mpz_export(r.w, &count, -1, sizeof(uint64_t), 0, 0, t);
    mpz_clear(t);
    return r;
}

static void hex(char out[67], const u256 *a)
{
    snprintf(out, 67, "0x%016llx%016llx%016llx%016llx", (unsigned long long)a->w[3], (unsigned long long)a->w[2],
             (unsigned long long)a->w[1], (unsigned long long)a->w[0]);
}

#define CHECK_WORD(got, want, name, a, b)                                                                      \
    do {                                                                                                       \
        if (!u256_eq(&(got), &(want))) {                                                                       \
            char ha[67], hb[67], hg[67], hw[67];                                                               \
            hex(ha, &(a)), hex(hb, &(b)), hex(hg, &(got)), hex(hw, &(want));                                   \
            ck_abort_msg("%s(%s, %s) = %s, want %s", name, ha, hb, hg, hw);                                    \
        }                                                                                                      \
    } while (0)

/* ---- operations against GMP --------------------------------------------- */

/* Each operation of two words is checked against a GMP function on the two
 * operands read as integers (unsigned, or two's complement where the row
 * says signed), its result reduced modulo 2^256. The EVM's rules for the
 * edges are the runner's: a zero divisor gives zero (zero_divisor rows),
 * and a shift by s >= 256 is a shift by 256 (0, or -1 for a negative SAR). */
typedef u256 (*binop_fn)(const u256 *, const u256 *);
typedef void (*gmp_binop)(mpz_ptr r, mpz_srcptr a, mpz_srcptr b);
typedef void (*gmp_shift)(mpz_ptr r, mpz_srcptr x, mp_bitcnt_t bits);

static void gmp_exp(mpz_ptr r, mpz_srcptr x, mpz_srcptr y) { mpz_powm(r, x, y, two256); }

/* SIGNEXTEND(b, x): for b < 31 the low 8(b+1) bits read as a signed number. */
static void gmp_signextend(mpz_ptr r, mpz_srcptr b, mpz_srcptr x)
{
    if (mpz_cmp_ui(b, 31) >= 0) {
        mpz_set(r, x);
        return;
    }
    unsigned long bits = 8 * (mpz_get_ui(b) + 1);
    mpz_fdiv_r_2exp(r, x, bits);
    if (mpz_tstbit(r, bits - 1)) {
        mpz_t p;
        mpz_init(p);
        mpz_ui_pow_ui(p, 2, bits);
        mpz_sub(r, r, p);
        mpz_clear(p);
    }
}

static void gmp_byte(mpz_ptr r, mpz_srcptr i, mpz_srcptr x)
{
    if (mpz_cmp_ui(i, 32) >= 0) {
        mpz_set_ui(r, 0);
        return;
    }
    mpz_fdiv_q_2exp(r, x, 8 * (31 - mpz_get_ui(i)));
    mpz_fdiv_r_2exp(r, r, 8);
}

/* Operand generators, one per kind of operation. */
static void arithmetic_operands(u256 *a, u256 *b) /* related words, either order */
{
    *a = random_word();
    *b = related_word(a);
    if (rng_below(2)) {
        u256 t = *a;
        *a = *b;
        *b = t;
    }
}

static void shift_operands(u256 *s, u256 *x)
{
    *s = shift_amount();
    *x = random_word();
}

/* Exponents of every size, and bases that are small, powers of two or
 * random words. */
static void exp_operands(u256 *base, u256 *e)
{
    *base = rng_below(4) == 0 ? u256_from_u64(rng_below(20)) : random_word();
    *e = rng_below(3) == 0 ? u256_from_u64(rng_below(300)) : random_word();
}

static void signextend_operands(u256 *b, u256 *x)
{
    *b = rng_below(5) == 0 ? random_word() : u256_from_u64(rng_below(40));
    *x = random_word();
    if (rng_below(3) == 0) x->w[rng_below(4)] ^= (uint64_t)0x80 << (8 * rng_below(8)); /* flip a sign bit */
}

static void byte_operands(u256 *idx, u256 *x)
{
    *idx = rng_below(5) == 0 ? random_word() : u256_from_u64(rng_below(40));
    *x = random_word();
}

static const struct gmp_case {
    const char *name;
    binop_fn fn;
    void (*operands)(u256 *a, u256 *b);
    gmp_binop gmp;   /* want gmp(a, b), */
    gmp_shift shift; /* or shift(b, min(a, 256)) */
    bool signed_a, signed_b, zero_divisor;
} gmp_cases[] = {
    /* EVM SDIV truncates toward zero; SMOD's sign follows the dividend. */
    {"add", u256_add, arithmetic_operands, mpz_add, NULL, false, false, false},
    {"sub", u256_sub, arithmetic_operands, mpz_sub, NULL, false, false, false},
    {"mul", u256_mul, arithmetic_operands, mpz_mul, NULL, false, false, false},
    {"div", u256_div, arithmetic_operands, mpz_fdiv_q, NULL, false, false, true},
    {"mod", u256_mod, arithmetic_operands, mpz_fdiv_r, NULL, false, false, true},
    {"sdiv", u256_sdiv, arithmetic_operands, mpz_tdiv_q, NULL, true, true, true},
    {"smod", u256_smod, arithmetic_operands, mpz_tdiv_r, NULL, true, true, true},
    {"and", u256_and, arithmetic_operands, mpz_and, NULL, false, false, false},
    {"or", u256_or, arithmetic_operands, mpz_ior, NULL, false, false, false},
    {"xor", u256_xor, arithmetic_operands, mpz_xor, NULL, false, false, false},
    /* Arithmetic shift is floor division of the signed value by 2^s. */
    {"shl", u256_shl, shift_operands, NULL, mpz_mul_2exp, false, false, false},
    {"shr", u256_shr, shift_operands, NULL, mpz_fdiv_q_2exp, false, false, false},
    {"sar", u256_sar, shift_operands, NULL, mpz_fdiv_q_2exp, false, true, false},
    {"exp", u256_exp, exp_operands, gmp_exp, NULL, false, false, false},
    {"signextend", u256_signextend, signextend_operands, gmp_signextend, NULL, false, false, false},
    {"byte", u256_byte, byte_operands, gmp_byte, NULL, false, false, false},
};
#define N_GMP_CASES ((int)(sizeof gmp_cases / sizeof gmp_cases[0]))

/* One check per row (check's loop test, _i the row), CASES operand pairs
 * each, from the row's own seed (1 to 16). */
START_TEST(test_against_gmp)
{
    const struct gmp_case *c = &gmp_cases[_i];
    mpz_t x, y, r;
    mpz_inits(x, y, r, NULL);
    rng_seed((uint64_t)_i + 1);
    for (int i = 0; i < CASES; i++) {
        u256 a, b;
        c->operands(&a, &b);
        (c->signed_a ? to_mpz_signed : to_mpz)(x, &a);
        (c->signed_b ? to_mpz_signed : to_mpz)(y, &b);
        if (c->shift)
            c->shift(r, y, mpz_cmp_ui(x, 256) >= 0 ? 256 : mpz_get_ui(x));
        else if (c->zero_divisor && mpz_sgn(y) == 0)
            mpz_set_ui(r, 0);
        else
            c->gmp(r, x, y);
        u256 want = from_mpz(r), got = c->fn(&a, &b);
        CHECK_WORD(got, want, c->name, a, b);
    }
    mpz_clears(x, y, r, NULL);
}
END_TEST

/* (a op b) mod m, the sum or product taken to 512 bits; m = 0 gives 0. */
static const struct {
    const char *name;
    u256 (*fn)(const u256 *, const u256 *, const u256 *);
    gmp_binop gmp;
} modops[] = {{"addmod", u256_addmod, mpz_add}, {"mulmod", u256_mulmod, mpz_mul}};

START_TEST(test_addmod_mulmod)
{
    mpz_t x, y, m, r;
    mpz_inits(x, y, m, r, NULL);
    rng_seed(17);
    for (int i = 0; i < 2 * CASES; i++) {
        u256 a = random_word();
        u256 b = related_word(&a);
        u256 mod;
        switch (rng_below(4)) {
        case 0: mod = related_word(&a); break;
        case 1: mod = word_with_limbs(rng_below(5)); break; /* includes zero */
        default: mod = random_word(); break;
        }
        to_mpz(x, &a), to_mpz(y, &b), to_mpz(m, &mod);
        for (size_t k = 0; k < sizeof modops / sizeof modops[0]; k++) {
            if (mpz_sgn(m) == 0) {
                mpz_set_ui(r, 0);
            } else {
                modops[k].gmp(r, x, y);
                mpz_fdiv_r(r, r, m);
            }
            u256 want = from_mpz(r);
            u256 got = modops[k].fn(&a, &b, &mod);
            if (!u256_eq(&got, &want)) {
                char ha[67], hb[67], hm[67], hg[67], hw[67];
                hex(ha, &a), hex(hb, &b), hex(hm, &mod), hex(hg, &got), hex(hw, &want);
                ck_abort_msg("%s(%s, %s, %s) = %s, want %s", modops[k].name, ha, hb, hm, hg, hw);
            }
        }
    }
    mpz_clears(x, y, m, r, NULL);
}
END_TEST

/* u256_divmod(a, b) against GMP's quotient q and remainder r; the wanted
 * words go to *wq and *wr when given. */
static void check_divmod(const u256 *a, const u256 *b, const mpz_t q, const mpz_t r, u256 *wq, u256 *wr)
{
    u256 want_q = from_mpz(q), want_r = from_mpz(r), gq, gr;
    u256_divmod(a, b, &gq, &gr);
    CHECK_WORD(gq, want_q, "divmod.quot", *a, *b);
    CHECK_WORD(gr, want_r, "divmod.rem", *a, *b);
    if (wq) *wq = want_q;
    if (wr) *wr = want_r;
}

START_TEST(test_divmod_together)
{
    /* divmod returns both halves at once, accepts NULL for either, and
     * tolerates its outputs aliasing its inputs. */
    mpz_t x, y, q, r;
    mpz_inits(x, y, q, r, NULL);
    rng_seed(18);
    for (int i = 0; i < CASES; i++) {
        u256 a = random_word();
        u256 b = related_word(&a);
        to_mpz(x, &a), to_mpz(y, &b);
        if (mpz_sgn(y) == 0) {
            mpz_set_ui(q, 0), mpz_set_ui(r, 0);
        } else {
            mpz_fdiv_qr(q, r, x, y);
        }
        u256 wq, wr, gq, gr;
        check_divmod(&a, &b, q, r, &wq, &wr);
        u256_divmod(&a, &b, &gq, NULL);
        CHECK_WORD(gq, wq, "divmod.quot only", a, b);
        u256_divmod(&a, &b, NULL, &gr);
        CHECK_WORD(gr, wr, "divmod.rem only", a, b);
        u256 ca = a, cb = b;
        u256_divmod(&ca, &cb, &ca, &cb);
        CHECK_WORD(ca, wq, "divmod.quot aliased", a, b);
        CHECK_WORD(cb, wr, "divmod.rem aliased", a, b);
    }
    mpz_clears(x, y, q, r, NULL);
}
END_TEST

START_TEST(test_long_division_digit_cases)
{
    /* Dividends built as q*d + r with divisors whose limbs come from the
     * pattern set: these hit the quotient-digit overflow and add-back steps
     * of long division far more often than uniform random words. */
    mpz_t x, y, q, r, t;
    mpz_inits(x, y, q, r, t, NULL);
    rng_seed(19);
    for (int i = 0; i < 4 * CASES; i++) {
        unsigned dlen = 2 + rng_below(3);
        u256 d = u256_zero();
        for (unsigned k = 0; k < dlen; k++) d.w[k] = pattern_limb();
        if (d.w[dlen - 1] == 0) d.w[dlen - 1] = pattern_limb() | 1;
        u256 quot = u256_zero();
        for (unsigned k = 0; k <= 4 - dlen; k++) quot.w[k] = pattern_limb();
        to_mpz(y, &d);
        to_mpz(q, &quot);
        mpz_mul(x, q, y);
        u256 rem = word(pattern_limb(), pattern_limb(), pattern_limb(), pattern_limb());
        to_mpz(r, &rem);
        mpz_fdiv_r(r, r, y);
        mpz_add(x, x, r);
        if (mpz_cmp(x, mask256) > 0) mpz_fdiv_r_2exp(x, x, 256);
        u256 a = from_mpz(x);

        mpz_fdiv_qr(q, r, x, y);
        check_divmod(&a, &d, q, r, NULL, NULL);

        /* The same divisor against a 512-bit product. */
        u256 b = word(pattern_limb(), pattern_limb(), pattern_limb(), pattern_limb());
        to_mpz(t, &b);
        mpz_mul(t, t, x);
        mpz_fdiv_r(t, t, y);
        u256 want = from_mpz(t);
        u256 got = u256_mulmod(&a, &b, &d);
        CHECK_WORD(got, want, "mulmod", a, b);
    }
    mpz_clears(x, y, q, r, t, NULL);
}
END_TEST

/* A divisor shaped to stress long division: 1 to 4 significant limbs, the
 * top bit of its top limb set or clear, 2^k - 1 and 2^k + 1, limbs from the
 * pattern set, or zero. */
static u256 division_divisor(void)
{
    unsigned limbs = 1 + rng_below(4);
    switch (rng_below(8)) {
    case 0: return u256_zero();
    case 1: { u256 p = pow2(rng_below(256)), one = u256_from_u64(1); return u256_sub(&p, &one); }
    case 2: { u256 p = pow2(rng_below(256)), one = u256_from_u64(1); return u256_add(&p, &one); }
    case 3: { /* pattern limbs */
        u256 r = u256_zero();
        for (unsigned i = 0; i < limbs; i++) r.w[i] = pattern_limb();
        if (r.w[limbs - 1] == 0) r.w[limbs - 1] = 1;
        return r;
    }
    case 4: { /* top bit set: no normalisation shift */
        u256 r = word_with_limbs(limbs);
        r.w[limbs - 1] |= 0x8000000000000000ull;
        return r;
    }
    case 5: { /* top limb small: a large normalisation shift */
        u256 r = word_with_limbs(limbs);
        r.w[limbs - 1] = 1 + rng_below(3);
        return r;
    }
    default: return word_with_limbs(limbs);
    }
}

/* A dividend for divisor d: q * d + r with a quotient near a limb boundary
 * (2^64k +- small, all-ones limbs) and a remainder near 0 or near d, or a
 * word that agrees with d in its top limbs, or any word. Wraps mod 2^256. */
static u256 division_dividend(const u256 *d)
{
    switch (rng_below(4)) {
    case 0: {
        u256 q;
        switch (rng_below(4)) {
        case 0: q = pow2(64 * rng_below(4)); break;
        case 1: { u256 p = pow2(64 * (1 + rng_below(3))), one = u256_from_u64(1); q = u256_sub(&p, &one); break; }
        case 2: q = word(pattern_limb(), pattern_limb(), pattern_limb(), pattern_limb()); break;
        default: q = word_with_limbs(rng_below(5)); break;
        }
        u256 r = u256_from_u64(rng_below(3));
        if (rng_below(2) && !u256_is_zero(d)) r = u256_sub(d, &r); /* d, d-1, d-2 */
        u256 x = u256_mul(&q, d);
        return u256_add(&x, &r);
    }
    case 1: { /* the divisor's top limbs with other low limbs */
        u256 x = random_word();
        unsigned limbs = 4 - u256_clz(d) / 64;
        for (unsigned i = limbs > 2 ? limbs - 2 : 0; i < limbs; i++) x.w[i] = d->w[i];
        return x;
    }
    case 2: return related_word(d);
    default: return random_word();
    }
}

/* A million and more operations on division-shaped operands: DIV, MOD,
 * SDIV, SMOD, MUL (and the checked MUL), ADDMOD and MULMOD against GMP. Moduli repeat in runs,
 * as a contract reducing by one prime does, so the per-thread modulus
 * cache is hit, missed and replaced. */
START_TEST(test_division_shapes)
{
    mpz_t x, y, m, r, t;
    mpz_inits(x, y, m, r, t, NULL);
    rng_seed(22);
    u256 d = u256_zero();
    long checked = 0;
    for (int i = 0; i < 160000; i++) {
        if (rng_below(4) == 0) d = division_divisor();
        u256 a = division_dividend(&d);
        u256 b = rng_below(3) ? division_dividend(&d) : pow2(64 * rng_below(4));
        to_mpz(x, &a), to_mpz(y, &d);
        bool zero = mpz_sgn(y) == 0;

        /* Unsigned division and remainder of a by d. */
        if (zero) mpz_set_ui(t, 0), mpz_set_ui(r, 0);
        else mpz_fdiv_qr(t, r, x, y);
        u256 want = from_mpz(t), got = u256_div(&a, &d);
        CHECK_WORD(got, want, "div", a, d);
        want = from_mpz(r), got = u256_mod(&a, &d);
        CHECK_WORD(got, want, "mod", a, d);

        /* Signed, both operands as two's complement. */
        to_mpz_signed(x, &a), to_mpz_signed(y, &d);
        if (zero) mpz_set_ui(t, 0), mpz_set_ui(r, 0);
        else mpz_tdiv_qr(t, r, x, y);
        want = from_mpz(t), got = u256_sdiv(&a, &d);
        CHECK_WORD(got, want, "sdiv", a, d);
        want = from_mpz(r), got = u256_smod(&a, &d);
        CHECK_WORD(got, want, "smod", a, d);

        /* MUL, ADDMOD and MULMOD with d as the modulus. */
        to_mpz(x, &a), to_mpz(y, &b), to_mpz(m, &d);
        mpz_mul(t, x, y);
        mpz_fdiv_r_2exp(r, t, 256);
        want = from_mpz(r), got = u256_mul(&a, &b);
        CHECK_WORD(got, want, "mul", a, b);
        u256 checked_product;
        bool fits = u256_mul_checked(&a, &b, &checked_product);
        CHECK_WORD(checked_product, want, "mul_checked", a, b);
        ck_assert_int_eq(fits, mpz_sizeinbase(t, 2) <= 256);
        if (zero) mpz_set_ui(r, 0);
        else mpz_fdiv_r(r, t, m);
        want = from_mpz(r), got = u256_mulmod(&a, &b, &d);
        CHECK_WORD(got, want, "mulmod", a, b);
        mpz_add(t, x, y);
        if (zero) mpz_set_ui(r, 0);
        else mpz_fdiv_r(r, t, m);
        want = from_mpz(r), got = u256_addmod(&a, &b, &d);
        CHECK_WORD(got, want, "addmod", a, b);
        checked += 8;
    }
    ck_assert_int_ge(checked, 1000000);
    mpz_clears(x, y, m, r, t, NULL);
}
END_TEST

/* MULMOD and ADDMOD where a partial remainder's top two limbs equal the
 * modulus's: the quotient digit is then 2^64 - 1, outside the 3-by-2 step's
 * range, and takes its own path. a agrees with m in its top limbs and is
 * below m; times 2^64k the next step starts from a itself. */
START_TEST(test_mulmod_digit_overflow)
{
    mpz_t x, y, m, r;
    mpz_inits(x, y, m, r, NULL);
    rng_seed(23);
    for (int i = 0; i < 40000; i++) {
        u256 mod = word(rng() | (rng_below(2) ? 0x8000000000000000ull : 1), pattern_limb(), pattern_limb(),
                        pattern_limb());
        if (rng_below(2)) mod.w[3] >>= rng_below(63);
        if (mod.w[3] == 0) mod.w[3] = 1;
        u256 a = mod;
        /* Below m in the low limbs only (m's low limbs may be 0: then borrow
         * from the low limbs of a and keep the top limbs by going below). */
        u256 low = word(0, 0, rng_below(2) ? rng() : 0, 1 + rng_below(1000));
        if (u256_lt(&low, &mod)) a = u256_sub(&mod, &low);
        u256 b = pow2(64 * (1 + rng_below(3)));
        if (rng_below(3) == 0) b.w[0] = rng();
        to_mpz(x, &a), to_mpz(y, &b), to_mpz(m, &mod);
        mpz_mul(r, x, y);
        mpz_fdiv_r(r, r, m);
        u256 want = from_mpz(r), got = u256_mulmod(&a, &b, &mod);
        CHECK_WORD(got, want, "mulmod", a, b);
        u256 c = word(rng(), rng(), rng(), rng());
        if (u256_lt(&c, &mod)) c = u256_add(&c, &mod);
        to_mpz(y, &c);
        mpz_add(r, x, y);
        mpz_fdiv_r(r, r, m);
        want = from_mpz(r), got = u256_addmod(&a, &c, &mod);
        CHECK_WORD(got, want, "addmod", a, c);
    }
    mpz_clears(x, y, m, r, NULL);
}
END_TEST

START_TEST(test_compare_and_unary)
{
    mpz_t x, y, r;
    mpz_inits(x, y, r, NULL);
    rng_seed(20);
    for (int i = 0; i < CASES; i++) {
        u256 a = random_word();
        u256 b = related_word(&a);
        if (rng_below(2)) {
            u256 t = a;
            a = b;
            b = t;
        }
        to_mpz(x, &a), to_mpz(y, &b);
        ck_assert_int_eq(u256_lt(&a, &b), mpz_cmp(x, y) < 0);
        ck_assert_int_eq(u256_eq(&a, &b), mpz_cmp(x, y) == 0);
        ck_assert_int_eq(u256_is_zero(&a), mpz_sgn(x) == 0);
        ck_assert_int_eq(u256_fits_u64(&a), mpz_sizeinbase(x, 2) <= 64);

        unsigned bits = mpz_sgn(x) == 0 ? 0 : (unsigned)mpz_sizeinbase(x, 2);
        ck_assert_uint_eq(u256_clz(&a), 256 - bits);
        ck_assert_uint_eq(u256_byte_length(&a), (bits + 7) / 8);

        mpz_xor(r, x, mask256);
        u256 want = from_mpz(r), got = u256_not(&a);
        CHECK_WORD(got, want, "not", a, a);

        to_mpz_signed(x, &a), to_mpz_signed(y, &b);
        ck_assert_int_eq(u256_slt(&a, &b), mpz_cmp(x, y) < 0);
    }
    mpz_clears(x, y, r, NULL);
}
END_TEST

START_TEST(test_load_store)
{
    mpz_t x;
    mpz_init(x);
    rng_seed(21);
    for (int i = 0; i < CASES; i++) {
        uint8_t in[32], out[32];
        for (int k = 0; k < 32; k++) in[k] = (uint8_t)rng();
        if (rng_below(4) == 0) memset(in, rng_below(2) ? 0xff : 0x00, rng_below(33));

        u256 a = u256_load_be(in);
        mpz_import(x, 32, 1, 1, 0, 0, in);
        u256 want = from_mpz(x);
        CHECK_WORD(a, want, "load_be", a, a);
        u256_store_be(out, &a);
        ck_assert_mem_eq(out, in, 32);

        /* Store of an arbitrary word matches mpz's big-endian export. */
        u256 w = random_word();
        uint8_t expect[32] = {0};
        size_t count = 0;
        to_mpz(x, &w);
        uint8_t tmp[32];
        mpz_export(tmp, &count, 1, 1, 0, 0, x);
        memcpy(expect + 32 - count, tmp, count);
        u256_store_be(out, &w);
        ck_assert_mem_eq(out, expect, 32);

        unsigned n = rng_below(33);
        u256 an = u256_load_be_n(in, n);
        if (n)
            mpz_import(x, n, 1, 1, 0, 0, in);
        else
            mpz_set_ui(x, 0);
        want = from_mpz(x);
        CHECK_WORD(an, want, "load_be_n", an, an);
    }
    mpz_clear(x);
}
END_TEST

/* Every shift amount 0..300 (and amounts past 64 bits) of words with set
 * bits in every limb, against a bit-by-bit reference: each amount takes its
 * own whole-limb and in-limb parts, which random amounts may miss. */
static bool bit_of(const u256 *x, int i)
{
    return i >= 0 && i < 256 && (x->w[i / 64] >> (i % 64) & 1);
}

static u256 shift_by_bits(const u256 *x, int by, bool fill) /* by > 0: left */
{
    u256 r = u256_zero();
    for (int i = 0; i < 256; i++) {
        int from = i - by;
        bool b = from >= 256 ? fill : bit_of(x, from);
        if (b) r.w[i / 64] |= (uint64_t)1 << (i % 64);
    }
    return r;
}

START_TEST(test_shift_every_amount)
{
    rng_seed(31);
    u256 values[8] = {word(~0ULL, ~0ULL, ~0ULL, ~0ULL), word(1, 0, 0, 0), word(0, 0, 0, 1ULL << 63),
                      word(0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x8000000000000001ULL, 0x7fffffffffffffffULL)};
    for (int i = 4; i < 8; i++) values[i] = word(rng() | (i % 2 ? 1ULL << 63 : 0), rng(), rng(), rng());
    for (int v = 0; v < 8; v++) {
        const u256 *x = &values[v];
        const bool negative = x->w[3] >> 63;
        for (int n = 0; n <= 300 + 3; n++) {
            u256 amount = u256_from_u64((uint64_t)n);
            if (n == 301) amount = u256_from_u64(1ULL << 40);
            if (n == 302) amount = word(0, 0, 1, 5); /* low limb small, not a small number */
            if (n == 303) amount = word(1, 0, 0, 0);
            const int by = n <= 300 ? n : 256;
            u256 want_shl = shift_by_bits(x, by, false), want_shr = shift_by_bits(x, -by, false),
                 want_sar = shift_by_bits(x, -by, negative);
            const u256 got_shl = u256_shl(&amount, x), got_shr = u256_shr(&amount, x), got_sar = u256_sar(&amount, x);
            CHECK_WORD(got_shl, want_shl, "shl", amount, *x);
            CHECK_WORD(got_shr, want_shr, "shr", amount, *x);
            CHECK_WORD(got_sar, want_sar, "sar", amount, *x);
        }
    }
}
END_TEST

START_TEST(test_evm_fixed_cases)
{
    /* Corner cases named by the EVM spec, spelled out. */
    u256 min = pow2(255), minus1 = word(UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX), zero = u256_zero();
    u256 r = u256_sdiv(&min, &minus1);
    ck_assert(u256_eq(&r, &min));
    r = u256_smod(&min, &minus1);
    ck_assert(u256_is_zero(&r));
    r = u256_div(&minus1, &zero);
    ck_assert(u256_is_zero(&r));
    r = u256_sdiv(&minus1, &zero);
    ck_assert(u256_is_zero(&r));
    r = u256_mulmod(&minus1, &minus1, &zero);
    ck_assert(u256_is_zero(&r));
    r = u256_addmod(&minus1, &minus1, &zero);
    ck_assert(u256_is_zero(&r));

    /* (2^256-1 + 2^256-1) mod 12 needs the 257th bit: 2^257 - 2 = 6 mod 12. */
    u256 twelve = u256_from_u64(12);
    r = u256_addmod(&minus1, &minus1, &twelve);
    ck_assert(u256_eq(&r, &(u256){{6, 0, 0, 0}}));
    /* (2^256-1)^2 mod 12 == 9 (2^256-1 = 3 mod 12). */
    r = u256_mulmod(&minus1, &minus1, &twelve);
    ck_assert(u256_eq(&r, &(u256){{9, 0, 0, 0}}));

    /* smod(-8, -3) == -2: the sign follows the dividend. */
    u256 m8 = u256_from_u64(8), m3 = u256_from_u64(3);
    m8 = u256_sub(&zero, &m8), m3 = u256_sub(&zero, &m3);
    r = u256_smod(&m8, &m3);
    u256 m2 = u256_from_u64(2);
    m2 = u256_sub(&zero, &m2);
    ck_assert(u256_eq(&r, &m2));

    u256 two = u256_from_u64(2), e255 = u256_from_u64(255), e256 = u256_from_u64(256);
    r = u256_exp(&two, &e255);
    ck_assert(u256_eq(&r, &min));
    r = u256_exp(&two, &e256);
    ck_assert(u256_is_zero(&r));
    r = u256_exp(&zero, &zero);
    ck_assert(u256_eq(&r, &(u256){{1, 0, 0, 0}}));

    u256 ff = u256_from_u64(0xff);
    r = u256_signextend(&zero, &ff);
    ck_assert(u256_eq(&r, &minus1));
    u256 b31 = u256_from_u64(31);
    r = u256_byte(&b31, &ff);
    ck_assert(u256_eq(&r, &ff));
    r = u256_byte(&zero, &min);
    ck_assert(u256_eq(&r, &(u256){{0x80, 0, 0, 0}}));

    r = u256_sar(&e256, &min);
    ck_assert(u256_eq(&r, &minus1));
    r = u256_sar(&minus1, &m8);
    ck_assert(u256_eq(&r, &minus1));
    r = u256_shl(&e255, &two);
    ck_assert(u256_is_zero(&r));

    ck_assert_uint_eq(u256_clz(&zero), 256);
    ck_assert_uint_eq(u256_clz(&min), 0);
    ck_assert_uint_eq(u256_byte_length(&zero), 0);
    ck_assert_uint_eq(u256_byte_length(&min), 32);
    ck_assert_uint_eq(u256_byte_length(&ff), 1);
}
END_TEST

int main(void)
{
    mpz_consts_init();
    return TEST_RUN("u256",
        {.name = "against_gmp", .timeout = 120, .loop = test_against_gmp, .loop_rows = N_GMP_CASES,
         .tests = TESTS(test_addmod_mulmod, test_divmod_together, test_long_division_digit_cases, test_division_shapes,
            test_mulmod_digit_overflow, test_compare_and_unary,
            test_load_store, test_evm_fixed_cases, test_shift_every_amount)});
}
