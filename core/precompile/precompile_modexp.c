/* 0x05 MODEXP (EIP-198): base^exp mod modulus on big-endian integers of
 * caller-declared lengths. Gas: EIP-198 (Byzantium..Istanbul), EIP-2565
 * (Berlin..Prague), EIP-7883 (Osaka); Osaka also caps each length at 1024
 * bytes (EIP-7823).
 *
 * Input: base_len | exp_len | mod_len (32-byte big-endian words) | base |
 * exp | modulus. Bytes past the end of the input read as zero, so a declared
 * length can be far larger than the input: nothing here allocates from a
 * declared length without bounding it first. */
#include "precompile/precompile.h"

#include <gmp.h>
#include <string.h>

typedef unsigned __int128 u128;

/* Lengths are 256-bit words; values of 2^96 and above are clamped to 2^96.
 * The clamp changes no result: such a length puts the cost over 2^64 unless
 * the multiplication complexity is zero (then exp_len does not matter), and
 * offsets that large lie past any real input either way. */
#define MODEXP_LEN_CLAMP ((u128)1 << 96)
/* Osaka's (EIP-7823) bound on each of the three lengths. */
#define MODEXP_OSAKA_MAX_LEN 1024
/* Above this max(base_len, mod_len) the multiplication complexity alone
 * puts the cost over 2^64 on every fork (Byzantium: x^2/16/20 >= 2^71;
 * Berlin: (x/8)^2/3 >= 2^72), which also keeps the products below 2^128. */
#define MODEXP_GAS_MAX_LEN ((u128)1 << 40)
/* The largest output run will produce. A modulus over 16 MiB costs over
 * 10^11 gas on every fork, which no block can pay; the bound only keeps
 * run's memory bounded should it be called regardless. */
#define MODEXP_RUN_MAX_MOD_LEN ((u128)1 << 24)

/* The length word at `off` (0, 32 or 64), clamped. */
static u128 read_length(const uint8_t *in, size_t len, size_t off)
{
    uint8_t word[32] = {0};
    if (off < len) memcpy(word, in + off, len - off < 32 ? len - off : 32);
    for (int i = 0; i < 20; i++)
        if (word[i]) return MODEXP_LEN_CLAMP;
    u128 v = 0;
    for (int i = 20; i < 32; i++) v = v << 8 | word[i];
    return v;
}

/* How many of the `n` bytes at `off` lie inside the input (the rest read as
 * zero). */
static size_t present_bytes(size_t len, u128 off, u128 n)
{
    if (off >= len) return 0;
    size_t rest = len - (size_t)off;
    return n < rest ? (size_t)n : rest;
}

typedef struct {
    u128 base_len, exp_len, mod_len;
} modexp_lengths;

static modexp_lengths read_lengths(const uint8_t *in, size_t len)
{
    modexp_lengths l = {read_length(in, len, 0), read_length(in, len, 32), read_length(in, len, 64)};
    return l;
}

static bool over_osaka_bound(const modexp_lengths *l, enum fork f)
{
    return f >= FORK_OSAKA && (l->base_len > MODEXP_OSAKA_MAX_LEN || l->exp_len > MODEXP_OSAKA_MAX_LEN ||
                               l->mod_len > MODEXP_OSAKA_MAX_LEN);
}

/* The bit length of the exponent's head: its first min(32, exp_len) bytes
 * read as one big-endian integer. */
static unsigned exp_head_bit_length(const uint8_t *in, size_t len, const modexp_lengths *l)
{
    u128 off = 96 + l->base_len;
    size_t head_len = l->exp_len < 32 ? (size_t)l->exp_len : 32;
    size_t present = present_bytes(len, off, head_len);
    for (size_t i = 0; i < present; i++) {
        uint8_t b = in[(size_t)off + i];
        if (b) return (unsigned)(8 * (head_len - i - 1)) + (32 - (unsigned)__builtin_clz(b));
    }
    return 0;
}

/* The multiplication complexity of the fork's formula for max_len = x. */
static u128 mult_complexity(u128 x, enum fork f)
{
    if (f < FORK_BERLIN) { /* EIP-198 */
        if (x <= 64) return x * x;
        if (x <= 1024) return x * x / 4 + 96 * x - 3072;
        return x * x / 16 + 480 * x - 199680;
    }
    u128 words = (x + 7) / 8;
    if (f < FORK_OSAKA) return words * words; /* EIP-2565 */
    return x <= 32 ? 16 : 2 * words * words;  /* EIP-7883 */
}

uint64_t pc_modexp_gas(const uint8_t *in, size_t len, enum fork f)
{
    modexp_lengths l = read_lengths(in, len);
    /* EIP-7823: the call fails whatever gas it has. */
    if (over_osaka_bound(&l, f)) return UINT64_MAX;
    u128 max_len = l.base_len > l.mod_len ? l.base_len : l.mod_len;
    if (max_len > MODEXP_GAS_MAX_LEN) return UINT64_MAX;

    /* Iterations: log2 of the exponent's head, plus 8 (EIP-7883: 16) per
     * exponent byte past the first 32; at least 1. */
    unsigned head_bits = exp_head_bit_length(in, len, &l);
    u128 head_log = head_bits ? head_bits - 1 : 0;
    u128 per_byte = f >= FORK_OSAKA ? 16 : 8;
    u128 count = l.exp_len <= 32 ? head_log : per_byte * (l.exp_len - 32) + head_log;
    u128 iterations = count ? count : 1;

    /* complexity < 2^81 and iterations < 2^101: the product may not fit. */
    u128 complexity = mult_complexity(max_len, f);
    if (complexity && iterations > ~(u128)0 / complexity) return UINT64_MAX;
    u128 cost = complexity * iterations;
    if (f < FORK_BERLIN) {
        cost /= 20;
    } else if (f < FORK_OSAKA) {
        cost /= 3;
        if (cost < 200) cost = 200;
    } else if (cost < 500) {
        cost = 500;
    }
    return cost >= UINT64_MAX ? UINT64_MAX : (uint64_t)cost;
}

bool pc_modexp_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    modexp_lengths l = read_lengths(in, len);
    if (over_osaka_bound(&l, f)) return false;
    /* The output has exactly mod_len bytes; with no modulus there is nothing
     * to compute (this is also the base_len == mod_len == 0 case, whatever
     * exp_len says). */
    if (l.mod_len == 0) return true;
    if (l.mod_len > MODEXP_RUN_MAX_MOD_LEN) return false;
    size_t mod_len = (size_t)l.mod_len;

    mpz_t m, b, e, r;
    mpz_inits(m, b, e, r, NULL);
    /* The modulus is its bytes inside the input followed by zero bytes for
     * the rest of mod_len. */
    u128 mod_off = 96 + l.base_len + l.exp_len;
    size_t mod_present = present_bytes(len, mod_off, l.mod_len);
    if (mod_present) mpz_import(m, mod_present, 1, 1, 1, 0, in + (size_t)mod_off);
    if (mpz_sgn(m) != 0) {
        mpz_mul_2exp(m, m, (mp_bitcnt_t)(8 * (mod_len - mod_present)));
        /* The modulus starts inside the input, so base and exponent, which
         * precede it, lie wholly inside it too. */
        size_t base_len = (size_t)l.base_len, exp_len = (size_t)l.exp_len;
        if (base_len) mpz_import(b, base_len, 1, 1, 1, 0, in + 96);
        if (exp_len) mpz_import(e, exp_len, 1, 1, 1, 0, in + 96 + base_len);
        mpz_mod(b, b, m);
        if (mpz_sgn(e) == 0) { /* x^0 = 1, reduced (to 0 when m = 1) */
            mpz_set_ui(r, 1);
            mpz_mod(r, r, m);
        } else {
            mpz_powm(r, b, e, m);
        }
    } /* else the modulus is 0 and so is the output */

    /* r < m < 256^mod_len: left-pad to exactly mod_len bytes. */
    size_t start = out->len;
    bytebuf_reserve(out, mod_len);
    memset(out->data + start, 0, mod_len);
    size_t r_len = mpz_sgn(r) ? (mpz_sizeinbase(r, 2) + 7) / 8 : 0;
    if (r_len) mpz_export(out->data + start + (mod_len - r_len), NULL, 1, 1, 1, 0, r);
    out->len = start + mod_len;
    mpz_clears(m, b, e, r, NULL);
    return true;
}
