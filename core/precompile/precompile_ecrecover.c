/* 0x01 ECRECOVER: the address that signed a hash (libsecp256k1). */
#include "precompile/precompile.h"

#include "base/keccak.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <string.h>

uint64_t pc_ecrecover_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in;
    (void)len;
    (void)f;
    return 3000;
}

/* The secp256k1 group order n, big-endian. */
static const uint8_t secp256k1_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

/* 0 < x < n for a 32-byte big-endian x. */
static bool in_scalar_range(const uint8_t x[32])
{
    static const uint8_t zero[32];
    return memcmp(x, zero, 32) != 0 && memcmp(x, secp256k1_n, 32) < 0;
}

bool pc_ecrecover_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    /* hash | v | r | s, each 32 bytes; missing input bytes read as zero. */
    uint8_t data[128] = {0};
    memcpy(data, in, len < sizeof data ? len : sizeof data);
    const uint8_t *hash = data, *v = data + 32, *r = data + 64, *s = data + 96;

    /* Every invalid input is a successful call with empty output. */
    static const uint8_t zero31[31];
    if (memcmp(v, zero31, 31) != 0 || (v[31] != 27 && v[31] != 28)) return true;
    /* Only 0 < r, s < n: no low-s rule for the precompile (that is EIP-2's
     * rule for transaction signatures). */
    if (!in_scalar_range(r) || !in_scalar_range(s)) return true;

    /* The static context suffices: recovery needs no signing tables, and it
     * is immutable, so this is thread-safe. */
    const secp256k1_context *ctx = secp256k1_context_static;
    secp256k1_ecdsa_recoverable_signature sig;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, r, v[31] - 27))
        return true;
    secp256k1_pubkey pubkey;
    if (!secp256k1_ecdsa_recover(ctx, &pubkey, &sig, hash)) return true;
    uint8_t point[65];
    size_t point_len = sizeof point;
    secp256k1_ec_pubkey_serialize(ctx, point, &point_len, &pubkey, SECP256K1_EC_UNCOMPRESSED);

    /* The address is the low 20 bytes of keccak256(x | y), left-padded. */
    uint8_t digest[32];
    keccak256(point + 1, 64, digest);
    memset(digest, 0, 12);
    bytebuf_append(out, digest, sizeof digest);
    return true;
}
