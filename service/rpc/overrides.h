/* eth_call state overrides: a state_backend that answers from a set of
 * overridden accounts first and otherwise from the store's backend. The
 * overrides are never written anywhere. */
#ifndef JITEVM_OVERRIDES_H
#define JITEVM_OVERRIDES_H

#include <jansson.h>

#include "vm/evm.h"
#include "base/fork.h"
#include "rpc/rpc_params.h"
#include "state/state.h"

typedef struct {
    u256 key;
    u256 value;
} override_slot;

enum override_storage { OVERRIDE_STORAGE_NONE, OVERRIDE_STORAGE_REPLACE /* "state" */, OVERRIDE_STORAGE_DIFF };

typedef struct {
    address addr;
    bool has_nonce, has_balance, has_code, has_move;
    bool state_and_diff; /* both given: refused by override_validate */
    uint64_t nonce;
    u256 balance;
    bytebuf code;
    hash32 code_hash;
    enum override_storage storage;
    override_slot *slots; /* sorted by key */
    size_t n_slots;
    address move_to;      /* movePrecompileToAddress */
} override_account;

typedef struct {
    override_account *accounts; /* sorted by address */
    size_t n;
    const state_backend *base;
    /* movePrecompileToAddress, as the core takes them (set by
     * override_validate): when two precompiles move to one address the one
     * geth applies last (the higher source address) comes first. */
    precompile_move *moves;
    size_t n_moves;
    /* geth's eth_createAccessList applies the overrides without its
     * precompile table, so every move is "not a precompile" there. */
    bool no_precompile_table;
} override_set;

/* Parses geth's StateOverride object ({address: {balance, nonce, code,
 * state, stateDiff, movePrecompileToAddress}}). */
bool override_parse(const json_t *v, override_set *out, param_error *e);
/* Checks the set against the fork (geth's StateOverride.Apply rules):
 * state and stateDiff together, movePrecompileToAddress from a non-precompile
 * or to an overridden account. Returns false with geth's message. On success
 * fills set->moves. */
bool override_validate(override_set *set, enum fork f, char *msg, size_t msg_len);
void override_free(override_set *set);

/* The backend for `set` over `base` (set->base is set). The set must
 * outlive the backend. */
state_backend override_backend(override_set *set, const state_backend *base);

#endif
