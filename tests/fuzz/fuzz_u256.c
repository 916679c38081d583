/* libFuzzer harness for the division family of core/base/u256.c against
 * GMP: DIV, MOD, SDIV, SMOD, ADDMOD and MULMOD. The input is read as up to
 * three big-endian words a, b, m (short inputs padded with zeros); each
 * word's first byte may also stretch it (see shape()), so that words near a
 * modulus, all ones and powers of two are found without the fuzzer having to
 * guess 32 bytes. Every operation is run, then MULMOD and ADDMOD again after
 * one by another modulus (the per-thread modulus cache changing and coming
 * back). Checked: each result equals GMP's; abort() otherwise. */
#include <gmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/u256.h"

static void to_mpz(mpz_t z, const u256 *w) { mpz_import(z, 4, -1, sizeof(uint64_t), 0, 0, w->w); }

static void to_mpz_signed(mpz_t z, const u256 *w)
{
    to_mpz(z, w);
    if (w->w[3] >> 63) {
        mpz_t two256;
        mpz_init(two256);
        mpz_setbit(two256, 256);
        mpz_sub(z, z, two256);
        mpz_clear(two256);
    }
}

/* z mod 2^256, as a word (negative z wraps, as EVM words do). */
static u256 from_mpz(const mpz_t z)
{
    mpz_t t;
    mpz_init(t);
    mpz_fdiv_r_2exp(t, z, 256);
    u256 w = u256_zero();
    mpz_export(w.w, NULL, -1, sizeof(uint64_t), 0, 0, t);
    mpz_clear(t);
    return w;
}

static u256 read_word(const uint8_t *data, size_t size, size_t at)
{
    uint8_t buf[32] = {0};
    for (size_t i = 0; i < 32 && at + i < size; i++) buf[i] = data[at + i];
    return u256_load_be(buf);
}

/* The low bits of x's top byte choose a reshaping relative to ref: none, ref
 * minus or plus x's low byte, all ones minus it, or one bit. */
static u256 shape(const u256 *x, const u256 *ref)
{
    unsigned how = (unsigned)(x->w[3] >> 56) & 7;
    u256 small = u256_from_u64(x->w[0] & 0xff);
    switch (how) {
    case 1: return u256_sub(ref, &small);
    case 2: return u256_add(ref, &small);
    case 3: {
        u256 ones = {{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX}};
        return u256_sub(&ones, &small);
    }
    case 4: {
        u256 one = u256_from_u64(1), k = u256_from_u64(x->w[0] & 0xff);
        return u256_shl(&k, &one);
    }
    default: return *x;
    }
}

static void check(const char *name, const u256 *got, const mpz_t want_z, const u256 *a, const u256 *b,
                  const u256 *m)
{
    u256 want = from_mpz(want_z);
    if (u256_eq(got, &want)) return;
    fprintf(stderr, "%s: a %016lx%016lx%016lx%016lx b %016lx%016lx%016lx%016lx m %016lx%016lx%016lx%016lx\n", name,
            (unsigned long)a->w[3], (unsigned long)a->w[2], (unsigned long)a->w[1], (unsigned long)a->w[0],
            (unsigned long)b->w[3], (unsigned long)b->w[2], (unsigned long)b->w[1], (unsigned long)b->w[0],
            (unsigned long)m->w[3], (unsigned long)m->w[2], (unsigned long)m->w[1], (unsigned long)m->w[0]);
    abort();
}

static void check_modular(const u256 *a, const u256 *b, const u256 *m)
{
    mpz_t x, y, z, r;
    mpz_inits(x, y, z, r, NULL);
    to_mpz(x, a), to_mpz(y, b), to_mpz(z, m);
    u256 got = u256_mulmod(a, b, m);
    mpz_set_ui(r, 0);
    if (mpz_sgn(z)) mpz_mul(r, x, y), mpz_fdiv_r(r, r, z);
    check("mulmod", &got, r, a, b, m);
    got = u256_addmod(a, b, m);
    mpz_set_ui(r, 0);
    if (mpz_sgn(z)) mpz_add(r, x, y), mpz_fdiv_r(r, r, z);
    check("addmod", &got, r, a, b, m);
    mpz_clears(x, y, z, r, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u256 m0 = read_word(data, size, 64);
    u256 m = shape(&m0, &m0);
    u256 a0 = read_word(data, size, 0), b0 = read_word(data, size, 32);
    u256 a = shape(&a0, &m), b = shape(&b0, &m);

    mpz_t x, y, q, r;
    mpz_inits(x, y, q, r, NULL);
    to_mpz(x, &a), to_mpz(y, &b);
    mpz_set_ui(q, 0), mpz_set_ui(r, 0);
    if (mpz_sgn(y)) mpz_fdiv_qr(q, r, x, y);
    u256 got = u256_div(&a, &b);
    check("div", &got, q, &a, &b, &m);
    got = u256_mod(&a, &b);
    check("mod", &got, r, &a, &b, &m);
    to_mpz_signed(x, &a), to_mpz_signed(y, &b);
    mpz_set_ui(q, 0), mpz_set_ui(r, 0);
    if (mpz_sgn(y)) mpz_tdiv_qr(q, r, x, y); /* truncating, the remainder signed as the dividend */
    got = u256_sdiv(&a, &b);
    check("sdiv", &got, q, &a, &b, &m);
    got = u256_smod(&a, &b);
    check("smod", &got, r, &a, &b, &m);
    mpz_clears(x, y, q, r, NULL);

    check_modular(&a, &b, &m);
    /* Another modulus in between (b, then a), then m again. */
    check_modular(&a, &m, &b);
    check_modular(&a, &b, &m);
    check_modular(&b, &b, &a);
    check_modular(&b, &a, &m);
    return 0;
}
