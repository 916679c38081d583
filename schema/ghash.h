/* GHASH (the hash of AES-GCM, NIST SP 800-38D) over additional data only,
 * with VPCLMULQDQ on 512-bit registers: what GMAC spends its time on.
 * program_store.c uses it for its tags where the CPU has it, and
 * OpenSSL's GMAC elsewhere; the two give the same tags (tests compare
 * them). OpenSSL 3.0 hashes GMAC's data 16 bytes per multiply (AVX);
 * here 64 blocks are multiplied by H^64..H^1 and summed before one
 * reduction, four to a register. */
#ifndef JITEVM_GHASH_H
#define JITEVM_GHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GHASH_AGGREGATE 64 /* blocks per reduction */

typedef struct {
    /* H^64, H^63, ..., H^1, each as GHASH_BLOCK's integer (see ghash.c). */
    _Alignas(64) uint64_t pow[GHASH_AGGREGATE][2];
    uint64_t y[2];     /* the running value, same form */
    uint8_t part[16];  /* a block not yet complete */
    size_t part_len;
    uint64_t bytes;    /* fed in all */
} ghash_state;

/* Whether this CPU (and OS) runs this GHASH: AVX-512 F/BW and VPCLMULQDQ. */
bool ghash_available(void);
/* Starts a GHASH under hash key `h` (AES_K(0^128)). Only when available. */
void ghash_init(ghash_state *g, const uint8_t h[16]);
/* Feeds `n` bytes of additional data. */
void ghash_update(ghash_state *g, const uint8_t *p, size_t n);
/* GHASH of the data fed (zero-padded, then the length block: its bits,
 * and no ciphertext) into `out`; wipes the state. GMAC's tag is this XOR
 * AES_K(J0). */
void ghash_final(ghash_state *g, uint8_t out[16]);

#endif
