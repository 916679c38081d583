/* 0x03 RIPEMD-160 (OpenSSL libcrypto), left-padded to 32 bytes. */
#include "precompile/precompile.h"

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t pc_ripemd160_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in;
    (void)f;
    /* 600 + 120 per 32-byte word, saturating: 120 * 2^59 overflows. */
    uint64_t words = (uint64_t)len / 32 + (len % 32 != 0);
    if (words > (UINT64_MAX - 600) / 120) return UINT64_MAX;
    return 600 + 120 * words;
}

static EVP_MD *ripemd160_md;

/* The low-level RIPEMD160() is deprecated in OpenSSL 3. The EVP digest lives
 * in the default provider from 3.0.7 on and only in the "legacy" provider
 * before that, so fall back to loading the legacy provider. Fetched once:
 * an implicit fetch on every call costs a provider lookup. */
static void ripemd160_setup(void)
{
    ripemd160_md = EVP_MD_fetch(NULL, "RIPEMD160", NULL);
    if (!ripemd160_md && OSSL_PROVIDER_load(NULL, "legacy"))
        ripemd160_md = EVP_MD_fetch(NULL, "RIPEMD160", NULL);
    if (!ripemd160_md) {
        fprintf(stderr, "jitevm: OpenSSL provides no RIPEMD160 digest\n");
        abort();
    }
}

bool pc_ripemd160_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, ripemd160_setup);
    uint8_t word[32] = {0};
    unsigned int n = 0;
    /* Hashing memory cannot fail short of an allocation failure inside
     * OpenSSL, which (like ours) is not recoverable. */
    if (!EVP_Digest(in, len, word + 12, &n, ripemd160_md, NULL) || n != 20) abort();
    bytebuf_append(out, word, sizeof word);
    return true;
}
