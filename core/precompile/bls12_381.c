/* BLS12-381 arithmetic: see bls12_381.h.
 *
 * What is BLS12-381's own lives here: the base field (Montgomery, 6 limbs,
 * with the mulx/adcx/adox product when the CPU has BMI2 and ADX), square
 * roots and signs, xi = 1 + u, the Frobenius, psi and twist constants, the
 * placement of line values on this M-type twist, the Miller loop over the
 * bits of |x|, the final exponentiation, the subgroup tests, cofactor
 * clearing and the map constants. The tower, the Miller-loop steps and the
 * Jacobian arithmetic (with MSM) come from the templates shared with BN254
 * (tower_impl.h, jacobian_impl.h); the map to the curve and compressed
 * decoding, the same for G1 and G2, from bls_group_impl.h. Formulas are the
 * standard ones (Explicit-Formulas Database, Costello-Lange-Naehrig /
 * Aranha et al. 2011, RFC 9380); derivations of the parts specific to this
 * tower are in the comments where they are used. */
#include "precompile/bls12_381.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/types.h"

typedef bls_fp fp;
typedef bls_fp2 fp2;
typedef bls_fp6 fp6;
typedef bls_fp12 fp12;

__extension__ typedef unsigned __int128 u128;

/* ======================================================================
 * Constants. Montgomery-form values were generated from their definitions
 * (given next to them); tests/test_bls12_381.c checks each one, directly
 * or through the operation that uses it.
 * ==================================================================== */

/* p, little-endian limbs (not Montgomery). */
static const uint64_t P[6] = {
    0xb9feffffffffaaabULL, 0x1eabfffeb153ffffULL, 0x6730d2a0f6b0f624ULL,
    0x64774b84f38512bfULL, 0x4b1ba7b6434bacd7ULL, 0x1a0111ea397fe69aULL};
/* -p^-1 mod 2^64. */
#define P_INV 0x89f3fffcfffcfffdULL
/* 2^384 mod p: the Montgomery form of 1. */
static const bls_fp FP_ONE = {{0x760900000002fffdULL, 0xebf4000bc40c0002ULL, 0x5f48985753c758baULL,
                               0x77ce585370525745ULL, 0x5c071a97a256ec6dULL, 0x15f65ec3fa80e493ULL}};
/* 2^768 mod p: multiplying by it converts into Montgomery form. */
static const uint64_t R2[6] = {
    0xf4df1f341c341746ULL, 0x0a76e6a609d104f1ULL, 0x8de5476c4c95b6d5ULL,
    0x67eb88a9939d83c0ULL, 0x9a793e85b519952dULL, 0x11988fe592cae3aaULL};
/* Exponents (plain integers). */
static const uint64_t P_MINUS_2[6] = {
    0xb9feffffffffaaa9ULL, 0x1eabfffeb153ffffULL, 0x6730d2a0f6b0f624ULL,
    0x64774b84f38512bfULL, 0x4b1ba7b6434bacd7ULL, 0x1a0111ea397fe69aULL};
static const uint64_t P_PLUS_1_DIV_4[6] = {
    0xee7fbfffffffeaabULL, 0x07aaffffac54ffffULL, 0xd9cc34a83dac3d89ULL,
    0xd91dd2e13ce144afULL, 0x92c6e9ed90d2eb35ULL, 0x0680447a8e5ff9a6ULL};
static const uint64_t P_MINUS_1_DIV_2[6] = {
    0xdcff7fffffffd555ULL, 0x0f55ffff58a9ffffULL, 0xb39869507b587b12ULL,
    0xb23ba5c279c2895fULL, 0x258dd3db21a5d66bULL, 0x0d0088f51cbff34dULL};

const bls_scalar BLS_R = {{0xffffffff00000001ULL, 0x53bda402fffe5bfeULL,
                           0x3339d80809a1d805ULL, 0x73eda753299d7d48ULL}};

/* The curve parameter x = -0xd201000000010000; the code uses |x| and
 * applies the sign separately. */
#define X_ABS 0xd201000000010000ULL

/* 4, the G1 curve constant b. */
static const bls_fp B_G1 = {{0xaa270000000cfff3ULL, 0x53cc0032fc34000aULL, 0x478fe97a6b0a807fULL,
                             0xb1d37ebee6ba24d7ULL, 0x8ec9733bbf78ab2fULL, 0x09d645513d83de7eULL}};
/* 4(1 + u), the G2 curve constant b'. */
static const bls_fp2 B_G2 = {
    {{0xaa270000000cfff3ULL, 0x53cc0032fc34000aULL, 0x478fe97a6b0a807fULL,
      0xb1d37ebee6ba24d7ULL, 0x8ec9733bbf78ab2fULL, 0x09d645513d83de7eULL}},
    {{0xaa270000000cfff3ULL, 0x53cc0032fc34000aULL, 0x478fe97a6b0a807fULL,
      0xb1d37ebee6ba24d7ULL, 0x8ec9733bbf78ab2fULL, 0x09d645513d83de7eULL}}};
/* 3b' = 12(1 + u), used by the Miller-loop doubling step. */
static const bls_fp2 THREE_B_G2 = {
    {{0x447600000027552eULL, 0xdcb8009a43480020ULL, 0x6f7ee9ce4a6e8b59ULL,
      0xb10330b7c0a95bc6ULL, 0x6140b1fcfb1e54b7ULL, 0x0381be097f0bb4e1ULL}},
    {{0x447600000027552eULL, 0xdcb8009a43480020ULL, 0x6f7ee9ce4a6e8b59ULL,
      0xb10330b7c0a95bc6ULL, 0x6140b1fcfb1e54b7ULL, 0x0381be097f0bb4e1ULL}}};

/* Frobenius coefficients gamma_k = (1+u)^(k(p-1)/6), k = 1..5: (g w^k)^p =
 * conj(g) gamma_k w^k, since w^6 = 1+u. */
static const bls_fp2 FROB_GAMMA[6] = {
    {{{0}}, {{0}}}, /* unused: k = 0 */
    {{{0x07089552b319d465ULL, 0xc6695f92b50a8313ULL, 0x97e83cccd117228fULL,
       0xa35baecab2dc29eeULL, 0x1ce393ea5daace4dULL, 0x08f2220fb0fb66ebULL}},
     {{0xb2f66aad4ce5d646ULL, 0x5842a06bfc497cecULL, 0xcf4895d42599d394ULL,
       0xc11b9cba40a8e8d0ULL, 0x2e3813cbe5a0de89ULL, 0x110eefda88847fafULL}}},
    {{{0}},
     {{0xcd03c9e48671f071ULL, 0x5dab22461fcda5d2ULL, 0x587042afd3851b95ULL,
       0x8eb60ebe01bacb9eULL, 0x03f97d6e83d050d2ULL, 0x18f0206554638741ULL}}},
    {{{0x7bcfa7a25aa30fdaULL, 0xdc17dec12a927e7cULL, 0x2f088dd86b4ebef1ULL,
       0xd1ca2087da74d4a7ULL, 0x2da2596696cebc1dULL, 0x0e2b7eedbbfd87d2ULL}},
     {{0x7bcfa7a25aa30fdaULL, 0xdc17dec12a927e7cULL, 0x2f088dd86b4ebef1ULL,
       0xd1ca2087da74d4a7ULL, 0x2da2596696cebc1dULL, 0x0e2b7eedbbfd87d2ULL}}},
    {{{0x890dc9e4867545c3ULL, 0x2af322533285a5d5ULL, 0x50880866309b7e2cULL,
       0xa20d1b8c7e881024ULL, 0x14e4f04fe2db9068ULL, 0x14e56d3f1564853aULL}},
     {{0}}},
    {{{0x82d83cf50dbce43fULL, 0xa2813e53df9d018fULL, 0xc6f0caa53c65e181ULL,
       0x7525cf528d50fe95ULL, 0x4a85ed50f4798a6bULL, 0x171da0fd6cf8eebdULL}},
     {{0x3726c30af242c66cULL, 0x7c2ac1aad1b6fe70ULL, 0xa04007fbba4b14a2ULL,
       0xef517c3266341429ULL, 0x0095ba654ed2226bULL, 0x02e370eccc86f7ddULL}}},
};

/* psi(x, y) = (conj(x) PSI_X, conj(y) PSI_Y) with PSI_X = (1+u)^-((p-1)/3)
 * and PSI_Y = (1+u)^-((p-1)/2): untwist to E(Fp12), Frobenius, twist back. */
static const bls_fp2 PSI_X = {
    {{0}},
    {{0x890dc9e4867545c3ULL, 0x2af322533285a5d5ULL, 0x50880866309b7e2cULL,
      0xa20d1b8c7e881024ULL, 0x14e4f04fe2db9068ULL, 0x14e56d3f1564853aULL}}};
static const bls_fp2 PSI_Y = {
    {{0x3e2f585da55c9ad1ULL, 0x4294213d86c18183ULL, 0x382844c88b623732ULL,
      0x92ad2afd19103e18ULL, 0x1d794e4fac7cf0b9ULL, 0x0bd592fc7d825ec8ULL}},
    {{0x7bcfa7a25aa30fdaULL, 0xdc17dec12a927e7cULL, 0x2f088dd86b4ebef1ULL,
      0xd1ca2087da74d4a7ULL, 0x2da2596696cebc1dULL, 0x0e2b7eedbbfd87d2ULL}}};

/* The cube root of unity beta (0x5f19672f...fffefffe) for which
 * (beta x, y) = [-x^2](x, y) on G1. */
static const bls_fp BETA = {{0x30f1361b798a64e8ULL, 0xf3b8ddab7ece5a2aULL, 0x16a8ca3ac61577f7ULL,
                             0xc26a2ff874fd029bULL, 0x3636b76660701c6eULL, 0x051ba4ab241b6160ULL}};

const bls_g1_affine BLS_G1_GENERATOR = {
    {{0x5cb38790fd530c16ULL, 0x7817fc679976fff5ULL, 0x154f95c7143ba1c1ULL,
      0xf0ae6acdf3d0e747ULL, 0xedce6ecc21dbf440ULL, 0x120177419e0bfb75ULL}},
    {{0xbaac93d50ce72271ULL, 0x8c22631a7918fd8eULL, 0xdd595f13570725ceULL,
      0x51ac582950405194ULL, 0x0e1c8c3fad0059c0ULL, 0x0bbc3efc5008a26aULL}},
    false};

const bls_g2_affine BLS_G2_GENERATOR = {
    {{{0xf5f28fa202940a10ULL, 0xb3f5fb2687b4961aULL, 0xa1a893b53e2ae580ULL,
       0x9894999d1a3caee9ULL, 0x6f67b7631863366bULL, 0x058191924350bcd7ULL}},
     {{0xa5a9c0759e23f606ULL, 0xaaa0c59dbccd60c3ULL, 0x3bb17e18e2867806ULL,
       0x1b1ab6cc8541b367ULL, 0xc2b6ed0ef2158547ULL, 0x11922a097360edf3ULL}}},
    {{{0x4c730af860494c4aULL, 0x597cfa1f5e369c5aULL, 0xe7e6856caa0a635aULL,
       0xbbefb5e96e0d495fULL, 0x07d3a975f0ef25a2ULL, 0x0083fd8e7e80dae5ULL}},
     {{0xadc0fc92df64b05dULL, 0x18aa270a2b1461dcULL, 0x86adac6a3be4eba0ULL,
       0x79495c4ec93da33aULL, 0xe7175850a43ccaedULL, 0x0b2bc2a163de1bf2ULL}}},
    false};

/* ======================================================================
 * Fp
 * ==================================================================== */

/* r = t mod p for t < 2p. */
static void fp_reduce_once(bls_fp *r, const uint64_t t[6])
{
    uint64_t d[6];
    uint64_t borrow = 0;
    #pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
        u128 diff = (u128)t[i] - P[i] - borrow;
        d[i] = (uint64_t)diff;
        borrow = (uint64_t)(diff >> 64) & 1;
    }
    memcpy(r->l, borrow ? t : d, sizeof r->l);
}

/* Montgomery product a*b/2^384 mod p, portable CIOS. */
static void mont_mul_portable(uint64_t r[6], const uint64_t a[6], const uint64_t b[6])
{
    uint64_t t[8] = {0};
    #pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
        u128 c = 0;
        #pragma GCC unroll 6
        for (int j = 0; j < 6; j++) {
            c += (u128)a[j] * b[i] + t[j];
            t[j] = (uint64_t)c;
            c >>= 64;
        }
        c += t[6];
        t[6] = (uint64_t)c;
        t[7] = (uint64_t)(c >> 64);
        uint64_t m = t[0] * P_INV;
        c = ((u128)m * P[0] + t[0]) >> 64;
        #pragma GCC unroll 6
        for (int j = 1; j < 6; j++) {
            c += (u128)m * P[j] + t[j];
            t[j - 1] = (uint64_t)c;
            c >>= 64;
        }
        c += t[6];
        t[5] = (uint64_t)c;
        t[6] = t[7] + (uint64_t)(c >> 64);
    }
    /* t < 2p < 2^384 here, so t[6] is zero. */
    bls_fp out;
    fp_reduce_once(&out, t);
    memcpy(r, out.l, sizeof out.l);
}

/* Build with -DBLS12_381_PORTABLE to test the portable path on x86-64. */
#if defined(__x86_64__) && !defined(BLS12_381_PORTABLE)
#define BLS_X86_64_ASM 1

/* p followed by -p^-1 mod 2^64, for the assembly below. */
static const uint64_t P_WITH_INV[7] = {
    0xb9feffffffffaaabULL, 0x1eabfffeb153ffffULL, 0x6730d2a0f6b0f624ULL,
    0x64774b84f38512bfULL, 0x4b1ba7b6434bacd7ULL, 0x1a0111ea397fe69aULL, P_INV};

/* The same CIOS product with mulx and the two carry chains of adcx/adox
 * (BMI2 + ADX): about twice the speed of the portable loop. The
 * accumulator t0..t6 rotates through r8..r14: after each reduction the
 * low word is zero and becomes the new top word. Since t < 2p after each
 * round and p < 2^381, no carry leaves t6. The result (< 2p) is stored,
 * p subtracted, and the stored value restored by cmov when that borrowed.
 * Reads of a and b all precede the stores, so r may alias them. */
static void mont_mul_adx(uint64_t r[6], const uint64_t a[6], const uint64_t b[6])
{
    register uint64_t *out __asm__("r15") = r;
    __asm__ volatile(
        "xorl %%r8d, %%r8d; xorl %%r9d, %%r9d; xorl %%r10d, %%r10d; xorl %%r11d, %%r11d; xorl %%r12d, %%r12d; xorl %%r13d, %%r13d; xorl %%r14d, %%r14d\n\t"
        "movq 0(%%rsi), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r8; adcxq %%rbx, %%r9\n\t"
        "mulxq 8(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r9; adcxq %%rbx, %%r10\n\t"
        "mulxq 16(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r10; adcxq %%rbx, %%r11\n\t"
        "mulxq 24(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r11; adcxq %%rbx, %%r12\n\t"
        "mulxq 32(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r12; adcxq %%rbx, %%r13\n\t"
        "mulxq 40(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r14\n\t"
        "movq %%r8, %%rdx; imulq 48(%%rcx), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r8; adcxq %%rbx, %%r9\n\t"
        "mulxq 8(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r9; adcxq %%rbx, %%r10\n\t"
        "mulxq 16(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r10; adcxq %%rbx, %%r11\n\t"
        "mulxq 24(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r11; adcxq %%rbx, %%r12\n\t"
        "mulxq 32(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r12; adcxq %%rbx, %%r13\n\t"
        "mulxq 40(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r14\n\t"
        "movq 8(%%rsi), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r9; adcxq %%rbx, %%r10\n\t"
        "mulxq 8(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r10; adcxq %%rbx, %%r11\n\t"
        "mulxq 16(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r11; adcxq %%rbx, %%r12\n\t"
        "mulxq 24(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r12; adcxq %%rbx, %%r13\n\t"
        "mulxq 32(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "mulxq 40(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r14; adcxq %%rbx, %%r8\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r8\n\t"
        "movq %%r9, %%rdx; imulq 48(%%rcx), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r9; adcxq %%rbx, %%r10\n\t"
        "mulxq 8(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r10; adcxq %%rbx, %%r11\n\t"
        "mulxq 16(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r11; adcxq %%rbx, %%r12\n\t"
        "mulxq 24(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r12; adcxq %%rbx, %%r13\n\t"
        "mulxq 32(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "mulxq 40(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r14; adcxq %%rbx, %%r8\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r8\n\t"
        "movq 16(%%rsi), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r10; adcxq %%rbx, %%r11\n\t"
        "mulxq 8(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r11; adcxq %%rbx, %%r12\n\t"
        "mulxq 16(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r12; adcxq %%rbx, %%r13\n\t"
        "mulxq 24(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "mulxq 32(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r14; adcxq %%rbx, %%r8\n\t"
        "mulxq 40(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r8; adcxq %%rbx, %%r9\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r9\n\t"
        "movq %%r10, %%rdx; imulq 48(%%rcx), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r10; adcxq %%rbx, %%r11\n\t"
        "mulxq 8(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r11; adcxq %%rbx, %%r12\n\t"
        "mulxq 16(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r12; adcxq %%rbx, %%r13\n\t"
        "mulxq 24(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "mulxq 32(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r14; adcxq %%rbx, %%r8\n\t"
        "mulxq 40(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r8; adcxq %%rbx, %%r9\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r9\n\t"
        "movq 24(%%rsi), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r11; adcxq %%rbx, %%r12\n\t"
        "mulxq 8(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r12; adcxq %%rbx, %%r13\n\t"
        "mulxq 16(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "mulxq 24(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r14; adcxq %%rbx, %%r8\n\t"
        "mulxq 32(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r8; adcxq %%rbx, %%r9\n\t"
        "mulxq 40(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r9; adcxq %%rbx, %%r10\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r10\n\t"
        "movq %%r11, %%rdx; imulq 48(%%rcx), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r11; adcxq %%rbx, %%r12\n\t"
        "mulxq 8(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r12; adcxq %%rbx, %%r13\n\t"
        "mulxq 16(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "mulxq 24(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r14; adcxq %%rbx, %%r8\n\t"
        "mulxq 32(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r8; adcxq %%rbx, %%r9\n\t"
        "mulxq 40(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r9; adcxq %%rbx, %%r10\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r10\n\t"
        "movq 32(%%rsi), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r12; adcxq %%rbx, %%r13\n\t"
        "mulxq 8(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "mulxq 16(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r14; adcxq %%rbx, %%r8\n\t"
        "mulxq 24(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r8; adcxq %%rbx, %%r9\n\t"
        "mulxq 32(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r9; adcxq %%rbx, %%r10\n\t"
        "mulxq 40(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r10; adcxq %%rbx, %%r11\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r11\n\t"
        "movq %%r12, %%rdx; imulq 48(%%rcx), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r12; adcxq %%rbx, %%r13\n\t"
        "mulxq 8(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "mulxq 16(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r14; adcxq %%rbx, %%r8\n\t"
        "mulxq 24(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r8; adcxq %%rbx, %%r9\n\t"
        "mulxq 32(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r9; adcxq %%rbx, %%r10\n\t"
        "mulxq 40(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r10; adcxq %%rbx, %%r11\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r11\n\t"
        "movq 40(%%rsi), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "mulxq 8(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r14; adcxq %%rbx, %%r8\n\t"
        "mulxq 16(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r8; adcxq %%rbx, %%r9\n\t"
        "mulxq 24(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r9; adcxq %%rbx, %%r10\n\t"
        "mulxq 32(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r10; adcxq %%rbx, %%r11\n\t"
        "mulxq 40(%%rdi), %%rax, %%rbx; adoxq %%rax, %%r11; adcxq %%rbx, %%r12\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r12\n\t"
        "movq %%r13, %%rdx; imulq 48(%%rcx), %%rdx\n\t"
        "xorl %%eax, %%eax\n\t"
        "mulxq 0(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r13; adcxq %%rbx, %%r14\n\t"
        "mulxq 8(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r14; adcxq %%rbx, %%r8\n\t"
        "mulxq 16(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r8; adcxq %%rbx, %%r9\n\t"
        "mulxq 24(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r9; adcxq %%rbx, %%r10\n\t"
        "mulxq 32(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r10; adcxq %%rbx, %%r11\n\t"
        "mulxq 40(%%rcx), %%rax, %%rbx; adoxq %%rax, %%r11; adcxq %%rbx, %%r12\n\t"
        "movl $0, %%eax; adoxq %%rax, %%r12\n\t"
        "movq %%r14, 0(%%r15); movq %%r8, 8(%%r15); movq %%r9, 16(%%r15); movq %%r10, 24(%%r15); movq %%r11, 32(%%r15); movq %%r12, 40(%%r15)\n\t"
        "subq 0(%%rcx), %%r14; sbbq 8(%%rcx), %%r8; sbbq 16(%%rcx), %%r9; sbbq 24(%%rcx), %%r10; sbbq 32(%%rcx), %%r11; sbbq 40(%%rcx), %%r12\n\t"
        "cmovcq 0(%%r15), %%r14; cmovcq 8(%%r15), %%r8; cmovcq 16(%%r15), %%r9; cmovcq 24(%%r15), %%r10; cmovcq 32(%%r15), %%r11; cmovcq 40(%%r15), %%r12\n\t"
        "movq %%r14, 0(%%r15); movq %%r8, 8(%%r15); movq %%r9, 16(%%r15); movq %%r10, 24(%%r15); movq %%r11, 32(%%r15); movq %%r12, 40(%%r15)\n\t"
        :
        : "D"(a), "S"(b), "c"(P_WITH_INV), "r"(out)
        : "rax", "rbx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "cc", "memory");
}
#endif

static void mont_mul(uint64_t r[6], const uint64_t a[6], const uint64_t b[6])
{
#ifdef BLS_X86_64_ASM
    if (__builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx")) {
        mont_mul_adx(r, a, b);
        return;
    }
#endif
    mont_mul_portable(r, a, b);
}
static inline bool fp_is_zero(const fp *a)
{
    uint64_t acc = 0;
    #pragma GCC unroll 6
    for (int i = 0; i < 6; i++) acc |= a->l[i];
    return acc == 0;
}

static inline bool fp_eq(const fp *a, const fp *b)
{
    return memcmp(a->l, b->l, sizeof a->l) == 0;
}

#ifdef BLS_X86_64_ASM
/* Add and subtract as adc/sbb chains (baseline x86-64). The sum is stored,
 * p subtracted, and the stored sum restored by cmov when that borrowed;
 * the difference gets p added back, the stored difference kept by cmov
 * when nothing borrowed. All reads of a and b precede the stores. */
static inline void fp_add(fp *r, const fp *a, const fp *b)
{
    uint64_t t[6], x;
    __asm__ volatile(
        "movq 0(%[a]), %[t0]; movq 8(%[a]), %[t1]; movq 16(%[a]), %[t2]; movq 24(%[a]), %[t3]; movq 32(%[a]), %[t4]; movq 40(%[a]), %[t5]\n\t"
        "addq 0(%[b]), %[t0]; adcq 8(%[b]), %[t1]; adcq 16(%[b]), %[t2]; adcq 24(%[b]), %[t3]; adcq 32(%[b]), %[t4]; adcq 40(%[b]), %[t5]\n\t"
        "movq %[t0], 0(%[r]); movq %[t1], 8(%[r]); movq %[t2], 16(%[r]); movq %[t3], 24(%[r]); movq %[t4], 32(%[r]); movq %[t5], 40(%[r])\n\t"
        "movabsq %[p0], %[x]; subq %[x], %[t0]; movabsq %[p1], %[x]; sbbq %[x], %[t1]\n\t"
        "movabsq %[p2], %[x]; sbbq %[x], %[t2]; movabsq %[p3], %[x]; sbbq %[x], %[t3]\n\t"
        "movabsq %[p4], %[x]; sbbq %[x], %[t4]; movabsq %[p5], %[x]; sbbq %[x], %[t5]\n\t"
        "cmovcq 0(%[r]), %[t0]; cmovcq 8(%[r]), %[t1]; cmovcq 16(%[r]), %[t2]; cmovcq 24(%[r]), %[t3]; cmovcq 32(%[r]), %[t4]; cmovcq 40(%[r]), %[t5]\n\t"
        "movq %[t0], 0(%[r]); movq %[t1], 8(%[r]); movq %[t2], 16(%[r]); movq %[t3], 24(%[r]); movq %[t4], 32(%[r]); movq %[t5], 40(%[r])\n\t"
        : [t0] "=&r"(t[0]), [t1] "=&r"(t[1]), [t2] "=&r"(t[2]), [t3] "=&r"(t[3]), [t4] "=&r"(t[4]), [t5] "=&r"(t[5]), [x] "=&r"(x)
        : [a] "r"(a->l), [b] "r"(b->l), [r] "r"(r->l),
          [p0] "i"(0xb9feffffffffaaabULL), [p1] "i"(0x1eabfffeb153ffffULL), [p2] "i"(0x6730d2a0f6b0f624ULL), [p3] "i"(0x64774b84f38512bfULL), [p4] "i"(0x4b1ba7b6434bacd7ULL), [p5] "i"(0x1a0111ea397fe69aULL)
        : "cc", "memory");
}

static inline void fp_sub(fp *r, const fp *a, const fp *b)
{
    uint64_t t[6], x, m;
    __asm__ volatile(
        "movq 0(%[a]), %[t0]; movq 8(%[a]), %[t1]; movq 16(%[a]), %[t2]; movq 24(%[a]), %[t3]; movq 32(%[a]), %[t4]; movq 40(%[a]), %[t5]\n\t"
        "subq 0(%[b]), %[t0]; sbbq 8(%[b]), %[t1]; sbbq 16(%[b]), %[t2]; sbbq 24(%[b]), %[t3]; sbbq 32(%[b]), %[t4]; sbbq 40(%[b]), %[t5]\n\t"
        "sbbq %[m], %[m]\n\t"
        "movq %[t0], 0(%[r]); movq %[t1], 8(%[r]); movq %[t2], 16(%[r]); movq %[t3], 24(%[r]); movq %[t4], 32(%[r]); movq %[t5], 40(%[r])\n\t"
        "movabsq %[p0], %[x]; addq %[x], %[t0]; movabsq %[p1], %[x]; adcq %[x], %[t1]\n\t"
        "movabsq %[p2], %[x]; adcq %[x], %[t2]; movabsq %[p3], %[x]; adcq %[x], %[t3]\n\t"
        "movabsq %[p4], %[x]; adcq %[x], %[t4]; movabsq %[p5], %[x]; adcq %[x], %[t5]\n\t"
        "testq %[m], %[m]\n\t"
        "cmovzq 0(%[r]), %[t0]; cmovzq 8(%[r]), %[t1]; cmovzq 16(%[r]), %[t2]; cmovzq 24(%[r]), %[t3]; cmovzq 32(%[r]), %[t4]; cmovzq 40(%[r]), %[t5]\n\t"
        "movq %[t0], 0(%[r]); movq %[t1], 8(%[r]); movq %[t2], 16(%[r]); movq %[t3], 24(%[r]); movq %[t4], 32(%[r]); movq %[t5], 40(%[r])\n\t"
        : [t0] "=&r"(t[0]), [t1] "=&r"(t[1]), [t2] "=&r"(t[2]), [t3] "=&r"(t[3]), [t4] "=&r"(t[4]), [t5] "=&r"(t[5]), [x] "=&r"(x), [m] "=&r"(m)
        : [a] "r"(a->l), [b] "r"(b->l), [r] "r"(r->l),
          [p0] "i"(0xb9feffffffffaaabULL), [p1] "i"(0x1eabfffeb153ffffULL), [p2] "i"(0x6730d2a0f6b0f624ULL), [p3] "i"(0x64774b84f38512bfULL), [p4] "i"(0x4b1ba7b6434bacd7ULL), [p5] "i"(0x1a0111ea397fe69aULL)
        : "cc", "memory");
}
#else
static inline void fp_add(fp *r, const fp *a, const fp *b)
{
    uint64_t t[6];
    uint64_t carry = 0;
    #pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
        u128 s = (u128)a->l[i] + b->l[i] + carry;
        t[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    fp_reduce_once(r, t); /* a + b < 2p < 2^384: no carry out */
}

static inline void fp_sub(fp *r, const fp *a, const fp *b)
{
    uint64_t t[6];
    uint64_t borrow = 0;
    #pragma GCC unroll 6
    for (int i = 0; i < 6; i++) {
        u128 d = (u128)a->l[i] - b->l[i] - borrow;
        t[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    if (borrow) {
        uint64_t carry = 0;
        #pragma GCC unroll 6
        for (int i = 0; i < 6; i++) {
            u128 s = (u128)t[i] + P[i] + carry;
            t[i] = (uint64_t)s;
            carry = (uint64_t)(s >> 64);
        }
    }
    memcpy(r->l, t, sizeof t);
}

#endif

static inline void fp_neg(fp *r, const fp *a)
{
    static const fp zero = {{0}};
    fp_sub(r, &zero, a);
}

static inline void fp_dbl(fp *r, const fp *a) { fp_add(r, a, a); }

static inline void fp_mul(fp *r, const fp *a, const fp *b) { mont_mul(r->l, a->l, b->l); }
static inline void fp_sqr(fp *r, const fp *a) { mont_mul(r->l, a->l, a->l); }

/* a/2: add p when odd, then shift (halving commutes with the Montgomery factor). */
static void fp_half(fp *r, const fp *a)
{
    uint64_t t[7];
    uint64_t carry = 0;
    bool odd = a->l[0] & 1;
    for (int i = 0; i < 6; i++) {
        u128 s = (u128)a->l[i] + (odd ? P[i] : 0) + carry;
        t[i] = (uint64_t)s;
        carry = (uint64_t)(s >> 64);
    }
    t[6] = carry;
    for (int i = 0; i < 6; i++) r->l[i] = (t[i] >> 1) | (t[i + 1] << 63);
}

static void fp_from_u64(fp *r, uint64_t v)
{
    uint64_t t[6] = {v, 0, 0, 0, 0, 0};
    mont_mul(r->l, t, R2);
}

static void fp_to_plain(uint64_t out[6], const fp *a)
{
    static const uint64_t one_plain[6] = {1, 0, 0, 0, 0, 0};
    mont_mul(out, a->l, one_plain);
}

static bool limbs_less(const uint64_t *a, const uint64_t *b, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        if (a[i] != b[i]) return a[i] < b[i];
    }
    return false;
}

bool bls_fp_from_bytes(fp *r, const uint8_t in[48])
{
    uint64_t t[6];
    for (int i = 0; i < 6; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++) v = (v << 8) | in[(5 - i) * 8 + j];
        t[i] = v;
    }
    if (!limbs_less(t, P, 6)) return false;
    mont_mul(r->l, t, R2);
    return true;
}

void bls_fp_to_bytes(uint8_t out[48], const fp *a)
{
    uint64_t t[6];
    fp_to_plain(t, a);
    for (int i = 0; i < 6; i++) {
        for (int j = 0; j < 8; j++) out[(5 - i) * 8 + j] = (uint8_t)(t[i] >> (56 - 8 * j));
    }
}

/* Index of the highest set bit of an n-limb number plus one; 0 for zero. */
static size_t limbs_bit_length(const uint64_t *e, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        if (e[i]) return i * 64 + 64 - (size_t)__builtin_clzll(e[i]);
    }
    return 0;
}

static unsigned exponent_bit(const uint64_t *e, size_t i) { return (unsigned)(e[i / 64] >> (i % 64)) & 1; }

/* Sliding windows of up to 5 bits over odd powers a, a^3, ..., a^31:
 * for a 381-bit exponent about 381 squarings and 70 products. */
static void fp_pow(fp *r, const fp *a, const uint64_t *e, size_t n)
{
    fp odd[16], a2, acc = FP_ONE;
    odd[0] = *a;
    fp_sqr(&a2, a);
    for (int i = 1; i < 16; i++) fp_mul(&odd[i], &odd[i - 1], &a2);
    size_t i = limbs_bit_length(e, n);
    while (i > 0) {
        if (!exponent_bit(e, i - 1)) {
            fp_sqr(&acc, &acc);
            i--;
            continue;
        }
        /* the longest window of at most 5 bits that ends in a set bit */
        size_t len = i < 5 ? i : 5;
        while (!exponent_bit(e, i - len)) len--;
        unsigned w = 0;
        for (size_t j = 0; j < len; j++) {
            fp_sqr(&acc, &acc);
            w = (w << 1) | exponent_bit(e, i - 1 - j);
        }
        fp_mul(&acc, &acc, &odd[w >> 1]);
        i -= len;
    }
    *r = acc;
}

static void fp_inv(fp *r, const fp *a) { fp_pow(r, a, P_MINUS_2, 6); }

/* p = 3 mod 4, so a^((p+1)/4) is a square root whenever one exists. */
static bool fp_sqrt(fp *r, const fp *a)
{
    fp s, check;
    fp_pow(&s, a, P_PLUS_1_DIV_4, 6);
    fp_sqr(&check, &s);
    if (!fp_eq(&check, a)) return false;
    *r = s;
    return true;
}

/* RFC 9380 sgn0 for Fp: the parity of the canonical value. */
static int fp_sgn0(const fp *a)
{
    uint64_t t[6];
    fp_to_plain(t, a);
    return (int)(t[0] & 1);
}

/* Whether the canonical value exceeds (p-1)/2 (the compressed-point sign). */
static bool fp_is_lexicographically_largest(const fp *a)
{
    uint64_t t[6];
    fp_to_plain(t, a);
    return limbs_less(P_MINUS_1_DIV_2, t, 6);
}

/* Parses a big-endian hex string of at most 96 digits (a table constant). */
static void fp_from_hex(fp *r, const char *hex)
{
    uint8_t be[48] = {0};
    size_t len = strlen(hex);
    for (size_t i = 0; i < len && i < 96; i++) {
        char c = hex[len - 1 - i];
        uint8_t v = (uint8_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        be[47 - i / 2] |= (uint8_t)(v << (4 * (i % 2)));
    }
    bls_fp_from_bytes(r, be);
}


/* ======================================================================
 * The tower Fp2 = Fp[u]/(u^2 + 1), Fp6 = Fp2[v]/(v^3 - xi), Fp12 =
 * Fp6[w]/(w^2 - v) with xi = 1 + u, the Miller-loop steps and the point
 * arithmetic of G1 and G2: the templates shared with BN254
 * ==================================================================== */

/* Times the Fp6 non-residue xi = 1 + u. */
static inline void fp2_mul_xi(fp2 *r, const fp2 *a)
{
    fp t;
    fp_sub(&t, &a->c0, &a->c1);
    fp_add(&r->c1, &a->c0, &a->c1);
    r->c0 = t;
}

#define TOWER_TWIST_B3 THREE_B_G2
#define TOWER_PUBLIC(name) bls_##name
#define TOWER_PAIRING_G1 bls_g1_affine
#define TOWER_PAIRING_G2 bls_g2_affine
#define TOWER_FINAL_EXP bls_final_exponentiation
#include "precompile/tower_impl.h"

/* ======================================================================
 * Fp2 square roots and signs
 * ==================================================================== */

static void fp2_pow(fp2 *r, const fp2 *a, const uint64_t *e, size_t n)
{
    fp2 acc, base = *a;
    fp2_set_one(&acc);
    for (size_t i = limbs_bit_length(e, n); i-- > 0;) {
        fp2_sqr(&acc, &acc);
        if ((e[i / 64] >> (i % 64)) & 1) fp2_mul(&acc, &acc, &base);
    }
    *r = acc;
}

/* Square root by the norm: for a = a0 + a1 u with a1 != 0, a root x0 + x1 u
 * has x0^2 = (a0 + sqrt(a0^2 + a1^2))/2 (one of the two signs) and
 * x1 = a1 / (2 x0). */
static bool fp2_sqrt(fp2 *r, const fp2 *a)
{
    fp2 cand;
    if (fp_is_zero(&a->c1)) {
        /* a is in Fp: its root is in Fp, or is a multiple of u (-1 is a non-square). */
        fp neg;
        if (fp_sqrt(&cand.c0, &a->c0)) {
            fp_set_zero(&cand.c1);
        } else {
            fp_neg(&neg, &a->c0);
            if (!fp_sqrt(&cand.c1, &neg)) return false;
            fp_set_zero(&cand.c0);
        }
        *r = cand;
        return true;
    }
    fp norm, t, s, x0sq;
    fp_sqr(&norm, &a->c0);
    fp_sqr(&t, &a->c1);
    fp_add(&norm, &norm, &t);
    if (!fp_sqrt(&s, &norm)) return false;
    fp_add(&x0sq, &a->c0, &s);
    fp_half(&x0sq, &x0sq);
    if (!fp_sqrt(&cand.c0, &x0sq)) {
        fp_sub(&x0sq, &a->c0, &s);
        fp_half(&x0sq, &x0sq);
        if (!fp_sqrt(&cand.c0, &x0sq)) return false;
    }
    fp_add(&t, &cand.c0, &cand.c0);
    fp_inv(&t, &t);
    fp_mul(&cand.c1, &a->c1, &t);
    fp2 check;
    fp2_sqr(&check, &cand);
    if (!fp2_eq(&check, a)) return false;
    *r = cand;
    return true;
}

/* RFC 9380 sgn0 for Fp2. */
static int fp2_sgn0(const fp2 *a)
{
    int sign0 = fp_sgn0(&a->c0);
    bool zero0 = fp_is_zero(&a->c0);
    int sign1 = fp_sgn0(&a->c1);
    return sign0 | (zero0 && sign1);
}
/* ======================================================================
 * Multi-scalar multiplication (Straus for few points, Pippenger with
 * unsigned buckets for many)
 * ==================================================================== */

/* The c-bit digit of a 256-bit scalar starting at bit `bit`. */
static unsigned scalar_digit(const bls_scalar *s, unsigned bit, unsigned c)
{
    unsigned limb = bit / 64, off = bit % 64;
    uint64_t v = s->l[limb] >> off;
    if (off + c > 64 && limb + 1 < 4) v |= s->l[limb + 1] << (64 - off);
    return (unsigned)(v & ((1u << c) - 1));
}

/* The bucket width for Pippenger, or 0 when Straus is cheaper. Costs in
 * full additions: Straus 14 (table) + 64 (one per 4-bit digit) per point;
 * Pippenger ceil(256/c) windows of n mixed additions (about 0.7 of a full
 * one) plus 2^(c+1) to sum the buckets. Doublings (256) are common. */
static unsigned msm_window_bits(size_t n)
{
    unsigned best = 0;
    double best_cost = 78.0 * (double)n;
    for (unsigned c = 1; c <= 12; c++) {
        double cost = (double)((256 + c - 1) / c) * (0.7 * (double)n + (double)(2u << c));
        if (cost < best_cost) {
            best_cost = cost;
            best = c;
        }
    }
    return best;
}

/* The 4-bit digit w (0..63) of a scalar. */
static unsigned scalar_nibble(const bls_scalar *s, unsigned w)
{
    return (unsigned)(s->l[w / 16] >> (4 * (w % 16))) & 15;
}


#define JAC_POINT bls_g1
#define JAC_FIELD fp
#define JAC_NAME(name) g1_##name
#define JAC_AFFINE bls_g1_affine
#define JAC_CURVE_B B_G1
#define JAC_SCALAR bls_scalar
#define JAC_PUBLIC(name) bls_g1_##name
#define JAC_PUBLIC_DBL bls_g1_double
#include "precompile/jacobian_impl.h"

#define JAC_POINT bls_g2
#define JAC_FIELD fp2
#define JAC_NAME(name) g2_##name
#define JAC_AFFINE bls_g2_affine
#define JAC_CURVE_B B_G2
#define JAC_SCALAR bls_scalar
#define JAC_PUBLIC(name) bls_g2_##name
#define JAC_PUBLIC_DBL bls_g2_double
#include "precompile/jacobian_impl.h"

/* a^p: c1 = b0 w + b1 w^3 + b2 w^5 and c0's v = w^2, v^2 = w^4 pick up
 * gamma_1..gamma_5. */
static inline void fp12_frobenius(fp12 *r, const fp12 *a) { fp12_frobenius_odd(r, a, &FROB_GAMMA[1]); }


/* ======================================================================
 * G1 and G2 operations particular to BLS12-381
 * ==================================================================== */

/* [|x|]a by double-and-add over the six set bits of |x|. */
static inline void g1_mul_by_x_abs(bls_g1 *r, const bls_g1 *a) { g1_mul_u64(r, a, X_ABS); }

bool bls_g1_affine_in_subgroup(const bls_g1_affine *a)
{
    if (a->infinity) return true;
    bls_g1 p, q, sigma;
    g1_from_affine(&p, a);
    g1_mul_by_x_abs(&q, &p);
    g1_mul_by_x_abs(&q, &q);
    /* sigma(P) = (beta x, y) must equal [-x^2]P = -q. */
    fp_mul(&sigma.x, &a->x, &BETA);
    fp_neg(&sigma.y, &a->y);
    sigma.z = FP_ONE;
    return g1_eq(&sigma, &q);
}

/* [x]a, x being negative. */
static void g2_mul_by_x(bls_g2 *r, const bls_g2 *a)
{
    g2_mul_u64(r, a, X_ABS);
    g2_neg(r, r);
}

/* In Jacobian coordinates conj(X/Z^2) = conj(X)/conj(Z)^2, so psi acts
 * coordinate-wise with Z conjugated. */
static void g2_psi(bls_g2 *r, const bls_g2 *a)
{
    fp2_conj_mul(&r->x, &a->x, &PSI_X);
    fp2_conj_mul(&r->y, &a->y, &PSI_Y);
    fp2_conj(&r->z, &a->z);
}

bool bls_g2_affine_in_subgroup(const bls_g2_affine *a)
{
    if (a->infinity) return true;
    bls_g2 p, psi, xp;
    g2_from_affine(&p, a);
    g2_psi(&psi, &p);
    g2_mul_by_x(&xp, &p);
    return g2_eq(&psi, &xp);
}

/* RFC 9380 appendix G.3 (Budroni-Pintore): h_eff P computed as
 * [x^2 - x - 1]P + [x - 1]psi(P) + psi^2(2P). */
static void g2_clear_cofactor(bls_g2 *r, const bls_g2 *a)
{
    bls_g2 t1, t2, t3;
    g2_mul_by_x(&t1, a);
    g2_psi(&t2, a);
    g2_dbl(&t3, a);
    g2_psi(&t3, &t3);
    g2_psi(&t3, &t3);
    g2_neg(&t2, &t2);
    g2_add(&t3, &t3, &t2); /* psi^2(2P) - psi(P) */
    g2_neg(&t2, &t2);
    g2_add(&t2, &t1, &t2);
    g2_mul_by_x(&t2, &t2);
    g2_add(&t3, &t3, &t2);
    g2_neg(&t1, &t1);
    g2_add(&t3, &t3, &t1);
    g2_neg(&t2, a);
    g2_add(r, &t3, &t2);
}

/* ======================================================================
 * Map to curve (RFC 9380 section 6.6.2 simplified SWU, section 6.6.3
 * isogenies; constants from section 8.8 and appendix E)
 * ==================================================================== */

/* E1': y^2 = x^3 + A x + B, Z = 11, 11-isogenous to E1. */
static const char *const ISO11_A = "144698a3b8e9433d693a02c96d4982b0ea985383ee66a8d8e8981aefd881ac98936f8da0e0f97f5cf428082d584c1d";
static const char *const ISO11_B = "12e2908d11688030018b12e8753eee3b2016c1f0f24f4070a0b9c14fcef35ef55a23215a316ceaa5d1cc48e98e172be0";
/* Isogeny polynomials, coefficient of x'^0 first (k_(i,0), k_(i,1), ...). */
static const char *const ISO11_X_NUM[12] = {
    "11a05f2b1e833340b809101dd99815856b303e88a2d7005ff2627b56cdb4e2c85610c2d5f2e62d6eaeac1662734649b7",
    "17294ed3e943ab2f0588bab22147a81c7c17e75b2f6a8417f565e33c70d1e86b4838f2a6f318c356e834eef1b3cb83bb",
    "d54005db97678ec1d1048c5d10a9a1bce032473295983e56878e501ec68e25c958c3e3d2a09729fe0179f9dac9edcb0",
    "1778e7166fcc6db74e0609d307e55412d7f5e4656a8dbf25f1b33289f1b330835336e25ce3107193c5b388641d9b6861",
    "e99726a3199f4436642b4b3e4118e5499db995a1257fb3f086eeb65982fac18985a286f301e77c451154ce9ac8895d9",
    "1630c3250d7313ff01d1201bf7a74ab5db3cb17dd952799b9ed3ab9097e68f90a0870d2dcae73d19cd13c1c66f652983",
    "d6ed6553fe44d296a3726c38ae652bfb11586264f0f8ce19008e218f9c86b2a8da25128c1052ecaddd7f225a139ed84",
    "17b81e7701abdbe2e8743884d1117e53356de5ab275b4db1a682c62ef0f2753339b7c8f8c8f475af9ccb5618e3f0c88e",
    "80d3cf1f9a78fc47b90b33563be990dc43b756ce79f5574a2c596c928c5d1de4fa295f296b74e956d71986a8497e317",
    "169b1f8e1bcfa7c42e0c37515d138f22dd2ecb803a0c5c99676314baf4bb1b7fa3190b2edc0327797f241067be390c9e",
    "10321da079ce07e272d8ec09d2565b0dfa7dccdde6787f96d50af36003b14866f69b771f8c285decca67df3f1605fb7b",
    "6e08c248e260e70bd1e962381edee3d31d79d7e22c837bc23c0bf1bc24c6b68c24b1b80b64d391fa9c8ba2e8ba2d229",
};
static const char *const ISO11_X_DEN[11] = {
    "8ca8d548cff19ae18b2e62f4bd3fa6f01d5ef4ba35b48ba9c9588617fc8ac62b558d681be343df8993cf9fa40d21b1c",
    "12561a5deb559c4348b4711298e536367041e8ca0cf0800c0126c2588c48bf5713daa8846cb026e9e5c8276ec82b3bff",
    "b2962fe57a3225e8137e629bff2991f6f89416f5a718cd1fca64e00b11aceacd6a3d0967c94fedcfcc239ba5cb83e19",
    "3425581a58ae2fec83aafef7c40eb545b08243f16b1655154cca8abc28d6fd04976d5243eecf5c4130de8938dc62cd8",
    "13a8e162022914a80a6f1d5f43e7a07dffdfc759a12062bb8d6b44e833b306da9bd29ba81f35781d539d395b3532a21e",
    "e7355f8e4e667b955390f7f0506c6e9395735e9ce9cad4d0a43bcef24b8982f7400d24bc4228f11c02df9a29f6304a5",
    "772caacf16936190f3e0c63e0596721570f5799af53a1894e2e073062aede9cea73b3538f0de06cec2574496ee84a3a",
    "14a7ac2a9d64a8b230b3f5b074cf01996e7f63c21bca68a81996e1cdf9822c580fa5b9489d11e2d311f7d99bbdcc5a5e",
    "a10ecf6ada54f825e920b3dafc7a3cce07f8d1d7161366b74100da67f39883503826692abba43704776ec3a79a1d641",
    "95fc13ab9e92ad4476d6e3eb3a56680f682b4ee96f7d03776df533978f31c1593174e4b4b7865002d6384d168ecdd0a",
    "1",
};
static const char *const ISO11_Y_NUM[16] = {
    "90d97c81ba24ee0259d1f094980dcfa11ad138e48a869522b52af6c956543d3cd0c7aee9b3ba3c2be9845719707bb33",
    "134996a104ee5811d51036d776fb46831223e96c254f383d0f906343eb67ad34d6c56711962fa8bfe097e75a2e41c696",
    "cc786baa966e66f4a384c86a3b49942552e2d658a31ce2c344be4b91400da7d26d521628b00523b8dfe240c72de1f6",
    "1f86376e8981c217898751ad8746757d42aa7b90eeb791c09e4a3ec03251cf9de405aba9ec61deca6355c77b0e5f4cb",
    "8cc03fdefe0ff135caf4fe2a21529c4195536fbe3ce50b879833fd221351adc2ee7f8dc099040a841b6daecf2e8fedb",
    "16603fca40634b6a2211e11db8f0a6a074a7d0d4afadb7bd76505c3d3ad5544e203f6326c95a807299b23ab13633a5f0",
    "4ab0b9bcfac1bbcb2c977d027796b3ce75bb8ca2be184cb5231413c4d634f3747a87ac2460f415ec961f8855fe9d6f2",
    "987c8d5333ab86fde9926bd2ca6c674170a05bfe3bdd81ffd038da6c26c842642f64550fedfe935a15e4ca31870fb29",
    "9fc4018bd96684be88c9e221e4da1bb8f3abd16679dc26c1e8b6e6a1f20cabe69d65201c78607a360370e577bdba587",
    "e1bba7a1186bdb5223abde7ada14a23c42a0ca7915af6fe06985e7ed1e4d43b9b3f7055dd4eba6f2bafaaebca731c30",
    "19713e47937cd1be0dfd0b8f1d43fb93cd2fcbcb6caf493fd1183e416389e61031bf3a5cce3fbafce813711ad011c132",
    "18b46a908f36f6deb918c143fed2edcc523559b8aaf0c2462e6bfe7f911f643249d9cdf41b44d606ce07c8a4d0074d8e",
    "b182cac101b9399d155096004f53f447aa7b12a3426b08ec02710e807b4633f06c851c1919211f20d4c04f00b971ef8",
    "245a394ad1eca9b72fc00ae7be315dc757b3b080d4c158013e6632d3c40659cc6cf90ad1c232a6442d9d3f5db980133",
    "5c129645e44cf1102a159f748c4a3fc5e673d81d7e86568d9ab0f5d396a7ce46ba1049b6579afb7866b1e715475224b",
    "15e6be4e990f03ce4ea50b3b42df2eb5cb181d8f84965a3957add4fa95af01b2b665027efec01c7704b456be69c8b604",
};
static const char *const ISO11_Y_DEN[16] = {
    "16112c4c3a9c98b252181140fad0eae9601a6de578980be6eec3232b5be72e7a07f3688ef60c206d01479253b03663c1",
    "1962d75c2381201e1a0cbd6c43c348b885c84ff731c4d59ca4a10356f453e01f78a4260763529e3532f6102c2e49a03d",
    "58df3306640da276faaae7d6e8eb15778c4855551ae7f310c35a5dd279cd2eca6757cd636f96f891e2538b53dbf67f2",
    "16b7d288798e5395f20d23bf89edb4d1d115c5dbddbcd30e123da489e726af41727364f2c28297ada8d26d98445f5416",
    "be0e079545f43e4b00cc912f8228ddcc6d19c9f0f69bbb0542eda0fc9dec916a20b15dc0fd2ededda39142311a5001d",
    "8d9e5297186db2d9fb266eaac783182b70152c65550d881c5ecd87b6f0f5a6449f38db9dfa9cce202c6477faaf9b7ac",
    "166007c08a99db2fc3ba8734ace9824b5eecfdfa8d0cf8ef5dd365bc400a0051d5fa9c01a58b1fb93d1a1399126a775c",
    "16a3ef08be3ea7ea03bcddfabba6ff6ee5a4375efa1f4fd7feb34fd206357132b920f5b00801dee460ee415a15812ed9",
    "1866c8ed336c61231a1be54fd1d74cc4f9fb0ce4c6af5920abc5750c4bf39b4852cfe2f7bb9248836b233d9d55535d4a",
    "167a55cda70a6e1cea820597d94a84903216f763e13d87bb5308592e7ea7d4fbc7385ea3d529b35e346ef48bb8913f55",
    "4d2f259eea405bd48f010a01ad2911d9c6dd039bb61a6290e591b36e636a5c871a5c29f4f83060400f8b49cba8f6aa8",
    "accbb67481d033ff5852c1e48c50c477f94ff8aefce42d28c0f9a88cea7913516f968986f7ebbea9684b529e2561092",
    "ad6b9514c767fe3c3613144b45f1496543346d98adf02267d5ceef9a00d9b8693000763e3b90ac11e99b138573345cc",
    "2660400eb2e4f3b628bdd0d53cd76f2bf565b94e72927c1cb748df27942480e420517bd8714cc80d1fadc1326ed06f7",
    "e0fa1d816ddc03e6b24255e0d7819c171c40f65e273b853324efcd6356caa205ca2f570f13497804415473a1d634b8f",
    "1",
};
static const char *const ISO3_X_NUM[4][2] = {
    {"5c759507e8e333ebb5b7a9a47d7ed8532c52d39fd3a042a88b58423c50ae15d5c2638e343d9c71c6238aaaaaaaa97d6", "5c759507e8e333ebb5b7a9a47d7ed8532c52d39fd3a042a88b58423c50ae15d5c2638e343d9c71c6238aaaaaaaa97d6"},
    {"0", "11560bf17baa99bc32126fced787c88f984f87adf7ae0c7f9a208c6b4f20a4181472aaa9cb8d555526a9ffffffffc71a"},
    {"11560bf17baa99bc32126fced787c88f984f87adf7ae0c7f9a208c6b4f20a4181472aaa9cb8d555526a9ffffffffc71e", "8ab05f8bdd54cde190937e76bc3e447cc27c3d6fbd7063fcd104635a790520c0a395554e5c6aaaa9354ffffffffe38d"},
    {"171d6541fa38ccfaed6dea691f5fb614cb14b4e7f4e810aa22d6108f142b85757098e38d0f671c7188e2aaaaaaaa5ed1", "0"},
};
static const char *const ISO3_X_DEN[4][2] = {
    {"0", "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaa63"},
    {"c", "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaa9f"},
    {"1", "0"},
    {"0", "0"},
};
static const char *const ISO3_Y_NUM[4][2] = {
    {"1530477c7ab4113b59a4c18b076d11930f7da5d4a07f649bf54439d87d27e500fc8c25ebf8c92f6812cfc71c71c6d706", "1530477c7ab4113b59a4c18b076d11930f7da5d4a07f649bf54439d87d27e500fc8c25ebf8c92f6812cfc71c71c6d706"},
    {"0", "5c759507e8e333ebb5b7a9a47d7ed8532c52d39fd3a042a88b58423c50ae15d5c2638e343d9c71c6238aaaaaaaa97be"},
    {"11560bf17baa99bc32126fced787c88f984f87adf7ae0c7f9a208c6b4f20a4181472aaa9cb8d555526a9ffffffffc71c", "8ab05f8bdd54cde190937e76bc3e447cc27c3d6fbd7063fcd104635a790520c0a395554e5c6aaaa9354ffffffffe38f"},
    {"124c9ad43b6cf79bfbf7043de3811ad0761b0f37a1e26286b0e977c69aa274524e79097a56dc4bd9e1b371c71c718b10", "0"},
};
static const char *const ISO3_Y_DEN[4][2] = {
    {"1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffa8fb", "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffa8fb"},
    {"0", "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffa9d3"},
    {"12", "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaa99"},
    {"1", "0"},
};

static struct {
    fp a, b, z, minus_b_over_a, b_over_za;
    fp x_num[12], x_den[11], y_num[16], y_den[16];
} g1_map;

/* E2': y^2 = x^3 + A x + B with A = 240u, B = 1012(1 + u), Z = -(2 + u). */
static struct {
    fp2 a, b, z, minus_b_over_a, b_over_za;
    fp2 x_num[4], x_den[4], y_num[4], y_den[4];
} g2_map;

static pthread_once_t map_constants_once = PTHREAD_ONCE_INIT;
static void map_constants_init(void);

static void fp2_from_hex(fp2 *r, const char *const hex[2])
{
    fp_from_hex(&r->c0, hex[0]);
    fp_from_hex(&r->c1, hex[1]);
}

/* The field hooks of bls_group_impl.h. */
static inline bool fp_read_be(fp *r, const uint8_t in[48]) { return bls_fp_from_bytes(r, in); }
static inline bool fp_is_largest(const fp *a) { return fp_is_lexicographically_largest(a); }

/* x.c1 then x.c0. */
static inline bool fp2_read_be(fp2 *r, const uint8_t in[96])
{
    return bls_fp_from_bytes(&r->c1, in) && bls_fp_from_bytes(&r->c0, in + 48);
}

/* The sign of y.c1, or of y.c0 when y.c1 is zero. */
static inline bool fp2_is_largest(const fp2 *a)
{
    return fp_is_lexicographically_largest(fp_is_zero(&a->c1) ? &a->c0 : &a->c1);
}

#define BG_POINT bls_g1
#define BG_AFFINE bls_g1_affine
#define BG_FIELD fp
#define BG_NAME(name) g1_##name
#define BG_BYTES 48
#define BG_CURVE_B B_G1
#define BG_MAP g1_map
#include "precompile/bls_group_impl.h"

#define BG_POINT bls_g2
#define BG_AFFINE bls_g2_affine
#define BG_FIELD fp2
#define BG_NAME(name) g2_##name
#define BG_BYTES 96
#define BG_CURVE_B B_G2
#define BG_MAP g2_map
#include "precompile/bls_group_impl.h"

static void map_constants_init(void)
{
    fp_from_hex(&g1_map.a, ISO11_A);
    fp_from_hex(&g1_map.b, ISO11_B);
    fp_from_u64(&g1_map.z, 11);
    g1_sswu_derive_constants();
    for (int i = 0; i < 12; i++) fp_from_hex(&g1_map.x_num[i], ISO11_X_NUM[i]);
    for (int i = 0; i < 11; i++) fp_from_hex(&g1_map.x_den[i], ISO11_X_DEN[i]);
    for (int i = 0; i < 16; i++) fp_from_hex(&g1_map.y_num[i], ISO11_Y_NUM[i]);
    for (int i = 0; i < 16; i++) fp_from_hex(&g1_map.y_den[i], ISO11_Y_DEN[i]);

    fp2_set_zero(&g2_map.a);
    fp_from_u64(&g2_map.a.c1, 240);
    fp_from_u64(&g2_map.b.c0, 1012);
    g2_map.b.c1 = g2_map.b.c0;
    fp2 two_plus_u;
    fp_from_u64(&two_plus_u.c0, 2);
    fp_from_u64(&two_plus_u.c1, 1);
    fp2_neg(&g2_map.z, &two_plus_u);
    g2_sswu_derive_constants();
    for (int i = 0; i < 4; i++) {
        fp2_from_hex(&g2_map.x_num[i], ISO3_X_NUM[i]);
        fp2_from_hex(&g2_map.x_den[i], ISO3_X_DEN[i]);
        fp2_from_hex(&g2_map.y_num[i], ISO3_Y_NUM[i]);
        fp2_from_hex(&g2_map.y_den[i], ISO3_Y_DEN[i]);
    }
}

/* clear_cofactor for G1: h_eff = 1 - x = |x| + 1. */
void bls_g1_map_from_fp(bls_g1 *r, const bls_fp *u)
{
    bls_g1 p, t;
    g1_map_to_curve(&p, u);
    g1_mul_by_x_abs(&t, &p);
    g1_add(r, &t, &p);
}

void bls_g2_map_from_fp2(bls_g2 *r, const bls_fp2 *u)
{
    bls_g2 p;
    g2_map_to_curve(&p, u);
    g2_clear_cofactor(r, &p);
}

bool bls_g1_from_compressed(bls_g1_affine *r, const uint8_t in[48]) { return g1_from_compressed(r, in); }
bool bls_g2_from_compressed(bls_g2_affine *r, const uint8_t in[96]) { return g2_from_compressed(r, in); }

/* ======================================================================
 * Pairing. With the M-type twist E': y^2 = x^3 + 4 xi, a twist point
 * (x', y') is (x'/w^2, y'/w^3) on E(Fp12). The tangent or chord line with
 * slope l' on E' evaluated at P = (xp, yp), times w^3 (killed by the final
 * exponentiation, as is any factor in Fp2), is
 *     (l' x_T - y_T) + (-l' xp) v + yp (v w),
 * so lines have three Fp2 coefficients at c0.c0, c0.c1 and c1.c1.
 * ==================================================================== */


/* f * line. On this M-type twist the line is c + cx v + cy v w, that is
 * (c, cx, 0) + (0, cy, 0) w. */
static void fp12_mul_line(fp12 *f, const line_coeffs *l)
{
    fp6 t0, t1, s;
    fp2 b1;
    fp6_mul_01(&t0, &f->c0, &l->c, &l->cx);
    fp6_mul_1(&t1, &f->c1, &l->cy);
    fp6_add(&s, &f->c0, &f->c1);
    fp2_add(&b1, &l->cx, &l->cy);
    fp6_mul_01(&s, &s, &l->c, &b1);
    fp6_sub(&s, &s, &t0);
    fp6_sub(&f->c1, &s, &t1);
    fp6_mul_v(&t1, &t1);
    fp6_add(&f->c0, &t0, &t1);
}

/* Per-pair data: P in the forms the lines need, Q affine, the running T. */
typedef struct {
    line_point p;
    const bls_g2_affine *q;
    twist_proj T;
} pair_state;

void bls_miller_loop(fp12 *r, const bls_g1_affine *p, const bls_g2_affine *q, size_t n)
{
    pair_state *ps = xmalloc((n ? n : 1) * sizeof *ps);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].infinity || q[i].infinity) continue;
        pair_state *s = &ps[m++];
        line_point_set(&s->p, &p[i].x, &p[i].y);
        s->q = &q[i];
        s->T.x = q[i].x;
        s->T.y = q[i].y;
        fp2_set_one(&s->T.z);
    }
    fp12 f;
    line_coeffs l;
    fp12_set_one(&f);
    for (int bit = 62; bit >= 0; bit--) {
        fp12_sqr(&f, &f);
        for (size_t j = 0; j < m; j++) {
            line_double(&l, &ps[j].T, &ps[j].p);
            fp12_mul_line(&f, &l);
        }
        if (!((X_ABS >> bit) & 1)) continue;
        for (size_t j = 0; j < m; j++) {
            line_add(&l, &ps[j].T, &ps[j].q->x, &ps[j].q->y, &ps[j].p);
            fp12_mul_line(&f, &l);
        }
    }
    /* x < 0: f_{x} is 1/f_{|x|} up to factors the final exponentiation
     * removes, and after the easy part the inverse is the conjugate. */
    fp12_conj(r, &f);
    free(ps);
}

/* a^x for a in the cyclotomic subgroup (x < 0, so conjugate a^|x|). */
static void fp12_cyclotomic_exp_by_x(fp12 *r, const fp12 *a)
{
    fp12 acc = *a;
    for (int i = 62; i >= 0; i--) {
        fp12_cyclotomic_sqr(&acc, &acc);
        if ((X_ABS >> i) & 1) fp12_mul(&acc, &acc, a);
    }
    fp12_conj(r, &acc);
}

/* Easy part f^((p^6 - 1)(p^2 + 1)); hard part by the identity
 * 3 (p^4 - p^2 + 1)/r = (x - 1)^2 (x + p) (x^2 + p^2 - 1) + 3
 * (Hayashida, Hayasaka, Teruya 2020). */
void bls_final_exponentiation(fp12 *r, const fp12 *f)
{
    fp12 t, u, a, b, c;
    fp12_inv(&u, f);
    fp12_conj(&t, f);
    fp12_mul(&t, &t, &u);
    fp12_frobenius(&u, &t);
    fp12_frobenius(&u, &u);
    fp12_mul(&t, &t, &u);
    /* a = t^((x - 1)^2) */
    fp12_cyclotomic_exp_by_x(&a, &t);
    fp12_conj(&u, &t);
    fp12_mul(&a, &a, &u);
    fp12_cyclotomic_exp_by_x(&u, &a);
    fp12_conj(&a, &a);
    fp12_mul(&a, &u, &a);
    /* b = a^(x + p) */
    fp12_cyclotomic_exp_by_x(&b, &a);
    fp12_frobenius(&u, &a);
    fp12_mul(&b, &b, &u);
    /* c = b^(x^2 + p^2 - 1) */
    fp12_cyclotomic_exp_by_x(&c, &b);
    fp12_cyclotomic_exp_by_x(&c, &c);
    fp12_frobenius(&u, &b);
    fp12_frobenius(&u, &u);
    fp12_mul(&c, &c, &u);
    fp12_conj(&u, &b);
    fp12_mul(&c, &c, &u);
    /* times t^3 */
    fp12_sqr(&u, &t);
    fp12_mul(&u, &u, &t);
    fp12_mul(r, &c, &u);
}

/* ======================================================================
 * The rest of the public API
 * ==================================================================== */

void bls_fp_from_u64(bls_fp *r, uint64_t v) { fp_from_u64(r, v); }
void bls_fp_zero(bls_fp *r) { fp_set_zero(r); }
void bls_fp_one(bls_fp *r) { fp_set_one(r); }
bool bls_fp_is_zero(const bls_fp *a) { return fp_is_zero(a); }
bool bls_fp_eq(const bls_fp *a, const bls_fp *b) { return fp_eq(a, b); }
void bls_fp_add(bls_fp *r, const bls_fp *a, const bls_fp *b) { fp_add(r, a, b); }
void bls_fp_sub(bls_fp *r, const bls_fp *a, const bls_fp *b) { fp_sub(r, a, b); }
void bls_fp_neg(bls_fp *r, const bls_fp *a) { fp_neg(r, a); }
void bls_fp_mul(bls_fp *r, const bls_fp *a, const bls_fp *b) { fp_mul(r, a, b); }
void bls_fp_sqr(bls_fp *r, const bls_fp *a) { fp_sqr(r, a); }
void bls_fp_pow(bls_fp *r, const bls_fp *a, const uint64_t *e, size_t n) { fp_pow(r, a, e, n); }
void bls_fp_inv(bls_fp *r, const bls_fp *a) { fp_inv(r, a); }
bool bls_fp_sqrt(bls_fp *r, const bls_fp *a) { return fp_sqrt(r, a); }

void bls_fp2_zero(bls_fp2 *r) { fp2_set_zero(r); }
void bls_fp2_one(bls_fp2 *r) { fp2_set_one(r); }
bool bls_fp2_is_zero(const bls_fp2 *a) { return fp2_is_zero(a); }
void bls_fp2_neg(bls_fp2 *r, const bls_fp2 *a) { fp2_neg(r, a); }
void bls_fp2_pow(bls_fp2 *r, const bls_fp2 *a, const uint64_t *e, size_t n) { fp2_pow(r, a, e, n); }
bool bls_fp2_sqrt(bls_fp2 *r, const bls_fp2 *a) { return fp2_sqrt(r, a); }

void bls_fp12_frobenius(bls_fp12 *r, const bls_fp12 *a) { fp12_frobenius(r, a); }

void bls_g2_psi(bls_g2 *r, const bls_g2 *a) { g2_psi(r, a); }
void bls_g2_clear_cofactor(bls_g2 *r, const bls_g2 *a) { g2_clear_cofactor(r, a); }
