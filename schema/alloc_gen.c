#include "alloc_gen.h"

#include <string.h>

#include "base/hex.h"
#include "base/keccak.h"

#define CONTRACT_EVERY 10
#define CODE_VARIANTS 7

/* splitmix64: a good 64-bit mix of (seed, stream, index). */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t rnd(const alloc_gen *g, uint64_t stream, uint64_t i, uint64_t j)
{
    return mix(mix(mix(g->seed ^ stream) ^ i) ^ j);
}

static uint64_t contracts(const alloc_gen *g)
{
    return (g->accounts + CONTRACT_EVERY - 1) / CONTRACT_EVERY;
}

address alloc_gen_address(const alloc_gen *g, uint64_t i)
{
    address a;
    for (int k = 0; k < 3; k++) {
        uint64_t v = rnd(g, 1, i, (uint64_t)k);
        memcpy(a.b + 8 * k, &v, k < 2 ? 8 : 4);
    }
    return a;
}

/* Account 0 holds a fifth of the slots; the other contracts (every 10th
 * account) split the rest, the first ones taking the remainder. */
uint64_t alloc_gen_slot_count(const alloc_gen *g, uint64_t i)
{
    if (i % CONTRACT_EVERY != 0 || i >= g->accounts) return 0;
    uint64_t big = contracts(g) > 1 ? g->slots / 5 : g->slots;
    if (i == 0) return big;
    uint64_t others = contracts(g) - 1, rest = g->slots - big, c = i / CONTRACT_EVERY - 1;
    return rest / others + (c < rest % others ? 1 : 0);
}

u256 alloc_gen_slot_key(const alloc_gen *g, uint64_t i, uint64_t k)
{
    if (i == 0) return u256_from_u64(k);
    u256 key = {{rnd(g, 2, i, k), rnd(g, 3, i, k), rnd(g, 4, i, k), rnd(g, 5, i, k)}};
    return key;
}

/* A value of 1 to 32 bytes (never zero: zero slots are not stored). */
static u256 value_of(const alloc_gen *g, uint64_t stream, uint64_t i, uint64_t k)
{
    uint64_t r = rnd(g, stream, i, k);
    unsigned bytes = 1 + (unsigned)(r % 32);
    u256 v = {{rnd(g, stream + 1, i, k), rnd(g, stream + 2, i, k), rnd(g, stream + 3, i, k),
               rnd(g, stream + 4, i, k)}};
    for (unsigned w = 0; w < 4; w++) {
        unsigned keep = bytes > 8 * w ? bytes - 8 * w : 0;
        if (keep < 8) v.w[w] &= keep ? (UINT64_MAX >> (64 - 8 * keep)) : 0;
    }
    if (u256_is_zero(&v)) v.w[0] = 1;
    return v;
}

static void quantity(FILE *out, const u256 *v)
{
    uint8_t be[32];
    u256_store_be(be, v);
    unsigned n = u256_byte_length(v);
    fputs("\"0x", out);
    if (n == 0)
        fputc('0', out);
    else
        hex_write(be + 32 - n, n, out);
    fputc('"', out);
}

bool alloc_gen_run(const alloc_gen *g, FILE *out, const alloc_gen_sink *sink)
{
    /* A few small programs; contract i runs variant i % CODE_VARIANTS. */
    uint8_t code[CODE_VARIANTS][64];
    size_t code_len[CODE_VARIANTS];
    for (int v = 0; v < CODE_VARIANTS; v++) {
        code_len[v] = 8 + (size_t)(rnd(g, 6, (uint64_t)v, 0) % 56);
        for (size_t b = 0; b < code_len[v]; b++) code[v][b] = (uint8_t)rnd(g, 7, (uint64_t)v, b);
    }
    if (out) fputs("{", out);
    for (uint64_t i = 0; i < g->accounts; i++) {
        address a = alloc_gen_address(g, i);
        uint64_t r = rnd(g, 8, i, 0);
        uint64_t nonce = r % 4 == 0 ? 0 : rnd(g, 9, i, 0) >> (r % 64);
        u256 balance = r % 5 == 0 ? u256_zero() : value_of(g, 10, i, 0);
        bool contract = i % CONTRACT_EVERY == 0;
        const uint8_t *c = contract ? code[i % CODE_VARIANTS] : NULL;
        size_t c_len = contract ? code_len[i % CODE_VARIANTS] : 0;
        if (sink && sink->account) sink->account(sink->ctx, &a, nonce, &balance, c, c_len);
        if (out) {
            fputs(i ? ",\n\"0x" : "\n\"0x", out);
            hex_write(a.b, 20, out);
            fputs("\":{\"nonce\":", out);
            u256 n = u256_from_u64(nonce);
            quantity(out, &n);
            fputs(",\"balance\":", out);
            quantity(out, &balance);
            if (c_len) {
                fputs(",\"code\":\"0x", out);
                hex_write(c, c_len, out);
                fputc('"', out);
            }
        }
        uint64_t slots = alloc_gen_slot_count(g, i);
        if (out && slots) fputs(",\"storage\":{", out);
        for (uint64_t k = 0; k < slots; k++) {
            u256 key = alloc_gen_slot_key(g, i, k), value = value_of(g, 20, i, k);
            if (sink && sink->slot) sink->slot(sink->ctx, &a, &key, &value);
            if (out) {
                uint8_t be[32];
                u256_store_be(be, &key);
                fputs(k ? ",\"0x" : "\"0x", out);
                hex_write(be, 32, out);
                fputs("\":", out);
                quantity(out, &value);
            }
        }
        if (out) fputs(slots ? "}}" : "}", out);
    }
    if (out) {
        fputs("\n}\n", out);
        if (fflush(out) != 0 || ferror(out)) return false;
    }
    return true;
}
