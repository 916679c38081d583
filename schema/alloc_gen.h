/* A generated alloc of a given size, for the store's tests and benchmark:
 * deterministic from a seed, shaped like real state. Every 10th account is
 * a contract with code (a few distinct programs, shared as real contracts
 * share code) and storage; account 0 is a big contract holding a fifth of
 * all slots under small sequential keys (an array), the other contracts
 * share the rest under hashed keys (mappings). Balances, nonces and values
 * vary in size, zero included. */
#ifndef JITEVM_ALLOC_GEN_H
#define JITEVM_ALLOC_GEN_H

#include <stdio.h>

#include "state/state.h"

typedef struct {
    uint64_t seed;
    uint64_t accounts; /* at least 1 */
    uint64_t slots;
} alloc_gen;

typedef struct {
    void *ctx;
    void (*account)(void *ctx, const address *a, uint64_t nonce, const u256 *balance, const uint8_t *code,
                    size_t code_len);
    void (*slot)(void *ctx, const address *a, const u256 *key, const u256 *value);
} alloc_gen_sink;

/* Produces every account and slot: written as alloc JSON to `out` (may be
 * NULL), and given to `sink` (may be NULL). False on a write error. */
bool alloc_gen_run(const alloc_gen *g, FILE *out, const alloc_gen_sink *sink);

/* For picking reads of things that exist: account i's address, how many
 * slots it has, and the key of its slot k. */
address alloc_gen_address(const alloc_gen *g, uint64_t i);
uint64_t alloc_gen_slot_count(const alloc_gen *g, uint64_t i);
u256 alloc_gen_slot_key(const alloc_gen *g, uint64_t i, uint64_t k);

#endif
