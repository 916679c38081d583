/* 0x04 IDENTITY: returns its input. */
#include "precompile/precompile.h"

uint64_t pc_identity_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in;
    (void)f;
    /* 15 + 3 per 32-byte word; len / 32 * 3 cannot overflow, so neither can
     * the sum, the ceiling word included. */
    uint64_t words = (uint64_t)len / 32 + (len % 32 != 0);
    return 15 + 3 * words;
}

bool pc_identity_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    bytebuf_append(out, in, len);
    return true;
}
