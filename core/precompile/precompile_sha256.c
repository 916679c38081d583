/* 0x02 SHA-256 (libsodium). */
#include "precompile/precompile.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>

uint64_t pc_sha256_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in;
    (void)f;
    /* 60 + 12 per 32-byte word; at most 12 * 2^59 + 72 < 2^64. */
    uint64_t words = (uint64_t)len / 32 + (len % 32 != 0);
    return 60 + 12 * words;
}

static void sodium_setup(void)
{
    /* libsodium requires sodium_init() before use; it only fails when the
     * system has no entropy source, which the hash does not need, but a
     * library in that state is not one to trust. */
    if (sodium_init() < 0) abort();
}

bool pc_sha256_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sodium_setup);
    uint8_t digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, in, len);
    bytebuf_append(out, digest, sizeof digest);
    return true;
}
