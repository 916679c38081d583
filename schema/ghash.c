/* GHASH with VPCLMULQDQ (see ghash.h).
 *
 * The form of a block: its 16 bytes read big-endian as a 128-bit integer
 * (w[1] the high half), so that the coefficient of x^k of GCM's field
 * element is bit 127 - k. A carry-less product of two such integers then
 * holds the coefficient of x^k of the product at bit 254 - k: shifted left
 * by one, its high 128 bits are the product's low half (x^0..x^127) and its
 * low 128 bits the high half (x^128..x^255), each in the same form.
 * Reduction (mod P = x^128 + x^7 + x^2 + x + 1, x^128 = 1 + x + x^2 + x^7):
 * with L, M those halves, multiplying M by x^j is a right shift by j in
 * this form, and what falls off the end (the low j bits, moved to the top
 * by a left shift by 128 - j) is folded in once more; so
 *     F = M ^ M << 127 ^ M << 126 ^ M << 121,
 *     result = L ^ F ^ F >> 1 ^ F >> 2 ^ F >> 7.
 * Reduction is linear, so products are summed unreduced and reduced once
 * per GHASH_AGGREGATE blocks: Y' = (Y ^ X1) H^64 ^ X2 H^63 ^ ... ^ X64 H. */
#include "ghash.h"

#include <string.h>

#include <immintrin.h>

typedef unsigned __int128 u128;

bool ghash_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("pclmul");
}

/* Everything below runs only where ghash_available() said yes. */
#define SIMD __attribute__((target("avx512f,avx512bw,vpclmulqdq,pclmul,sse4.1")))

/* The reduced product from its unreduced 256-bit sum: lo, hi the products
 * of the low and of the high halves, mid the two cross products. */
SIMD static __m128i reduce(__m128i lo, __m128i mid, __m128i hi)
{
    uint64_t c0 = (uint64_t)_mm_cvtsi128_si64(lo), c1 = (uint64_t)_mm_extract_epi64(lo, 1);
    uint64_t c2 = (uint64_t)_mm_cvtsi128_si64(hi), c3 = (uint64_t)_mm_extract_epi64(hi, 1);
    c1 ^= (uint64_t)_mm_cvtsi128_si64(mid);
    c2 ^= (uint64_t)_mm_extract_epi64(mid, 1);
    /* Shifted left by one (the product has 255 bits). */
    uint64_t d3 = c3 << 1 | c2 >> 63, d2 = c2 << 1 | c1 >> 63, d1 = c1 << 1 | c0 >> 63, d0 = c0 << 1;
    u128 l = (u128)d3 << 64 | d2, m = (u128)d1 << 64 | d0;
    u128 f = m ^ m << 127 ^ m << 126 ^ m << 121;
    u128 r = l ^ f ^ f >> 1 ^ f >> 2 ^ f >> 7;
    return _mm_set_epi64x((long long)(uint64_t)(r >> 64), (long long)(uint64_t)r);
}

SIMD static __m128i mul(__m128i a, __m128i b)
{
    __m128i lo = _mm_clmulepi64_si128(a, b, 0x00), hi = _mm_clmulepi64_si128(a, b, 0x11);
    __m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01), _mm_clmulepi64_si128(a, b, 0x10));
    return reduce(lo, mid, hi);
}

SIMD static __m128i block_at(const uint8_t *p)
{
    const __m128i reverse = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), reverse);
}

SIMD static __m128i load_pow(const ghash_state *g, int i) { return _mm_load_si128((const __m128i *)g->pow[i]); }

SIMD static __m128i fold4(__m512i v)
{
    __m256i h = _mm256_xor_si256(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    return _mm_xor_si128(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* `n` whole blocks at p into y. */
SIMD static __m128i blocks(const ghash_state *g, __m128i y, const uint8_t *p, size_t n)
{
    const __m512i reverse = _mm512_set_epi64(0x0001020304050607, 0x08090a0b0c0d0e0f, 0x0001020304050607,
                                             0x08090a0b0c0d0e0f, 0x0001020304050607, 0x08090a0b0c0d0e0f,
                                             0x0001020304050607, 0x08090a0b0c0d0e0f);
    for (; n >= GHASH_AGGREGATE; n -= GHASH_AGGREGATE, p += 16 * GHASH_AGGREGATE) {
        __m512i lo = _mm512_setzero_si512(), hi = lo, mid = lo;
        for (int q = 0; q < GHASH_AGGREGATE / 4; q++) {
            __m512i x = _mm512_shuffle_epi8(_mm512_loadu_si512((const void *)(p + 64 * q)), reverse);
            if (q == 0) x = _mm512_xor_si512(x, _mm512_inserti32x4(_mm512_setzero_si512(), y, 0));
            __m512i h = _mm512_load_si512((const void *)g->pow[4 * q]);
            lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128(x, h, 0x00));
            hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128(x, h, 0x11));
            mid = _mm512_xor_si512(mid, _mm512_xor_si512(_mm512_clmulepi64_epi128(x, h, 0x01),
                                                         _mm512_clmulepi64_epi128(x, h, 0x10)));
        }
        y = reduce(fold4(lo), fold4(mid), fold4(hi));
    }
    if (n) { /* the last n < 64 blocks: by H^n .. H^1 */
        __m128i lo = _mm_setzero_si128(), hi = lo, mid = lo;
        for (size_t j = 0; j < n; j++) {
            __m128i x = block_at(p + 16 * j);
            if (j == 0) x = _mm_xor_si128(x, y);
            __m128i h = load_pow(g, (int)(GHASH_AGGREGATE - n + j));
            lo = _mm_xor_si128(lo, _mm_clmulepi64_si128(x, h, 0x00));
            hi = _mm_xor_si128(hi, _mm_clmulepi64_si128(x, h, 0x11));
            mid = _mm_xor_si128(mid, _mm_xor_si128(_mm_clmulepi64_si128(x, h, 0x01), _mm_clmulepi64_si128(x, h, 0x10)));
        }
        y = reduce(lo, mid, hi);
    }
    return y;
}

SIMD void ghash_init(ghash_state *g, const uint8_t h[16])
{
    memset(g, 0, sizeof *g);
    __m128i key = block_at(h), power = key;
    for (int i = GHASH_AGGREGATE - 1; i >= 0; i--) {
        _mm_store_si128((__m128i *)g->pow[i], power);
        if (i) power = mul(power, key);
    }
}

SIMD void ghash_update(ghash_state *g, const uint8_t *p, size_t n)
{
    g->bytes += n;
    __m128i y = _mm_loadu_si128((const __m128i *)g->y);
    if (g->part_len) {
        size_t take = 16 - g->part_len < n ? 16 - g->part_len : n;
        memcpy(g->part + g->part_len, p, take);
        g->part_len += take;
        p += take, n -= take;
        if (g->part_len < 16) return;
        y = blocks(g, y, g->part, 1);
        g->part_len = 0;
    }
    y = blocks(g, y, p, n / 16);
    _mm_storeu_si128((__m128i *)g->y, y);
    memcpy(g->part, p + n / 16 * 16, n % 16);
    g->part_len = n % 16;
}

SIMD void ghash_final(ghash_state *g, uint8_t out[16])
{
    __m128i y = _mm_loadu_si128((const __m128i *)g->y);
    if (g->part_len) {
        memset(g->part + g->part_len, 0, 16 - g->part_len);
        y = blocks(g, y, g->part, 1);
    }
    uint8_t lengths[16] = {0}; /* the data's length in bits, big-endian; no ciphertext */
    uint64_t bits = g->bytes * 8;
    for (int i = 0; i < 8; i++) lengths[i] = (uint8_t)(bits >> (56 - 8 * i));
    y = blocks(g, y, lengths, 1);
    const __m128i reverse = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    _mm_storeu_si128((__m128i *)out, _mm_shuffle_epi8(y, reverse));
    explicit_bzero(g, sizeof *g);
}
