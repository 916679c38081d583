/* An in-memory account state: the backend the state tests and benchmarks
 * run on, and a sink that state_commit writes into. */
#ifndef JITEVM_MEMSTATE_H
#define JITEVM_MEMSTATE_H

#include "state/state.h"

typedef struct memstate memstate;

memstate *memstate_new(void);
void memstate_free(memstate *m);
/* Creates or replaces an account (code is copied; its hash is computed). */
void memstate_put_account(memstate *m, const address *a, uint64_t nonce, const u256 *balance,
                          const uint8_t *code, size_t code_len);
/* Sets a slot of an existing account (zero deletes it). */
void memstate_put_storage(memstate *m, const address *a, const u256 *key, const u256 *value);
void memstate_set_block_hash(memstate *m, uint64_t number, const hash32 *hash);

/* Views of the same memstate; valid while it lives. */
state_backend memstate_backend(memstate *m);
state_sink memstate_sink(memstate *m);

/* The state root: the secure Merkle-Patricia trie of every account
 * (keccak(address) -> rlp([nonce, balance, storage_root, code_hash])). */
void memstate_root(memstate *m, hash32 *root);

/* Iteration in unspecified order (for dumps and tests). */
size_t memstate_account_count(const memstate *m);

/* keccak256(rlp([[address, [topics...], data], ...])): the logs hash the
 * state tests check. */
void logs_hash(const log_entry *logs, size_t n, hash32 *out);

#endif
