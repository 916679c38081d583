/* Keccak-256 as Ethereum uses it (the original padding, 0x01, not SHA-3's 0x06). */
#ifndef JITEVM_KECCAK_H
#define JITEVM_KECCAK_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t state[25];
    uint8_t buf[136];
    size_t buf_len;
} keccak_ctx;

void keccak256_init(keccak_ctx *ctx);
void keccak256_update(keccak_ctx *ctx, const void *data, size_t len);
void keccak256_final(keccak_ctx *ctx, uint8_t out[32]);
/* One-shot hash. */
void keccak256(const void *data, size_t len, uint8_t out[32]);
/* The Keccak-f[1600] permutation (24 rounds). */
void keccak_f1600(uint64_t state[25]);
/* The same permutation always through the plain C path (keccak_f1600 may pick
 * a BMI1/BMI2 build of it at run time); exposed so tests cover both paths. */
void keccak_f1600_portable(uint64_t state[25]);

#endif
