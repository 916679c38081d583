/* Account state as the engine sees it.
 *
 * Three parts:
 * - state_backend: where committed state is read from (an in-memory map for
 *   the state tests, SQLite for the service). Read-only, four calls.
 * - state: the journaled overlay an execution reads and writes through. Every
 *   change is journaled so that a call frame that fails is undone exactly;
 *   nothing reaches the backend until state_commit.
 * - state_sink: where state_commit writes the net changes of a transaction.
 */
#ifndef JITEVM_STATE_H
#define JITEVM_STATE_H

#include <stdatomic.h>

#include "base/fork.h"
#include "base/types.h"
#include "base/u256.h"

typedef struct {
    uint64_t nonce;
    u256 balance;
    hash32 code_hash; /* KECCAK_EMPTY when the account has no code */
} account_info;

typedef struct {
    void *ctx;
    /* The account at `addr`; false when it does not exist. */
    bool (*get_account)(void *ctx, const address *addr, account_info *out);
    /* The code with this hash. The bytes are copied before the next call
     * on the backend, so the pointer need only stay valid until then.
     * False when the hash is unknown. */
    bool (*get_code)(void *ctx, const hash32 *code_hash, const uint8_t **code, size_t *len);
    /* The value of a storage slot; zero when unset. */
    void (*get_storage)(void *ctx, const address *addr, const u256 *key, u256 *out);
    /* The hash of block `number`; false when unknown (BLOCKHASH gives 0). */
    bool (*get_block_hash)(void *ctx, uint64_t number, hash32 *out);
    /* Whether the account has any non-zero storage slot (EIP-7610 create
     * collisions). May be NULL: then no account is assumed to have storage. */
    bool (*has_storage)(void *ctx, const address *addr);
} state_backend;

/* Every backend knows the empty code (hash KECCAK_EMPTY) without storing it:
 * get_code implementations begin with this, which answers for that hash
 * (true, no bytes) and returns false for any other. */
bool state_backend_empty_code(const hash32 *code_hash, const uint8_t **code, size_t *len);

typedef struct {
    void *ctx;
    /* The account is removed with all its storage (self-destructed, or an
     * empty account cleared by EIP-161). Called before any other call for
     * the same address. */
    void (*delete_account)(void *ctx, const address *addr);
    /* The account's new nonce, balance and code (code is given whenever the
     * account exists; code_changed says whether it differs from before). */
    void (*put_account)(void *ctx, const address *addr, const account_info *info,
                        const uint8_t *code, size_t code_len, bool code_changed);
    /* A changed storage slot (zero value = delete the slot). */
    void (*put_storage)(void *ctx, const address *addr, const u256 *key, const u256 *value);
} state_sink;

/* An implementation names its calls PREFIX_get_account, PREFIX_get_code,
 * PREFIX_get_storage, PREFIX_get_block_hash and PREFIX_has_storage (a sink:
 * PREFIX_delete_account, PREFIX_put_account, PREFIX_put_storage) and builds
 * its backend or sink over ctx with these: the calls are listed here once,
 * and a call added to the interface is a compile error in every
 * implementation that lacks it (never a silent NULL). */
#define STATE_BACKEND_OF(ctx_, prefix)                                                                    \
    ((state_backend){.ctx = (ctx_), .get_account = prefix##_get_account, .get_code = prefix##_get_code, \
                     .get_storage = prefix##_get_storage, .get_block_hash = prefix##_get_block_hash,    \
                     .has_storage = prefix##_has_storage})
#define STATE_SINK_OF(ctx_, prefix)                                                                   \
    ((state_sink){.ctx = (ctx_), .delete_account = prefix##_delete_account,                         \
                  .put_account = prefix##_put_account, .put_storage = prefix##_put_storage})

typedef struct state state;

struct jit_program;
struct code_segment;

/* Code prepared for execution: padded copy + jump destination bitset.
 * Computed once per code (code_cache.h shares it between threads). */
typedef struct {
    const uint8_t *code;   /* code_len bytes followed by 33 zero bytes (STOP) */
    size_t code_len;
    const uint8_t *jumpdest; /* bit i set when code[i] is a JUMPDEST opcode (not push data) */
    hash32 code_hash;
    /* The compiler tier's state for this code, per fork: set once by the
     * compiler on whatever thread compiles (jit_runtime.c), so writable
     * through a const code_info. */
    struct jit_program *_Atomic compiled[FORK_COUNT];
    atomic_uchar compile_state[FORK_COUNT];
    /* The interpreter's segment records per fork (code_cache.h), made on
     * first use by whichever thread runs the code. */
    struct code_segment *_Atomic segments[FORK_COUNT];
    /* The code cache's entry holding this analysis (code_cache.c), so a
     * holder releases its reference without a lookup; NULL when the
     * analysis is not cached (initcode). */
    struct code_cache_entry *cache_entry;
} code_info;

/* Whether pc is a JUMPDEST instruction of the code (not push data, not
 * past the end): the one jump-destination check of both tiers. */
static inline bool code_is_jumpdest(const code_info *ci, uint64_t pc)
{
    return pc < ci->code_len && (ci->jumpdest[pc >> 3] >> (pc & 7) & 1);
}

/* Prepares code for execution (padding + jump destinations). */
code_info *code_info_new(const uint8_t *code, size_t len, const hash32 *code_hash);
/* Frees code_info_new's result and any programs compiled from it. */
void code_info_free(code_info *ci);

typedef struct {
    size_t journal_len;
    size_t log_count;
    int64_t refund;
} state_snapshot;

state *state_new(const state_backend *backend);
void state_free(state *s);

/* --- Accounts. An account that does not exist reads as empty. */
bool state_exists(state *s, const address *a);
/* EIP-161 "empty": nonce 0, balance 0, no code. */
bool state_is_empty(state *s, const address *a);
/* Exists and is not empty (EIP-161 "alive"). */
bool state_is_alive(state *s, const address *a);
uint64_t state_get_nonce(state *s, const address *a);
void state_set_nonce(state *s, const address *a, uint64_t nonce);
u256 state_get_balance(state *s, const address *a);
void state_set_balance(state *s, const address *a, const u256 *balance);
void state_add_balance(state *s, const address *a, const u256 *amount);
/* Returns false (and changes nothing) when the balance is too low. */
bool state_sub_balance(state *s, const address *a, const u256 *amount);
hash32 state_get_code_hash(state *s, const address *a); /* zero hash when the account does not exist */
/* The account's code, prepared for execution. Never NULL. */
const code_info *state_get_code(state *s, const address *a);
void state_set_code(state *s, const address *a, const uint8_t *code, size_t len);
/* Marks the account as existing (creates an empty account if absent). */
void state_create_account(state *s, const address *a);
/* EIP-161 touch: the account is checked for emptiness at the end of the tx. */
void state_touch(state *s, const address *a);
/* Whether `a` exists; when it does and `touch` is set, also state_touch
 * (one lookup for what every message call asks of its recipient). */
bool state_exists_touch(state *s, const address *a, bool touch);
/* A message call's entry into recipient `a` whose own code it runs (CALL
 * and STATICCALL, not delegated), in one lookup: *snap taken first, before
 * anything of the call; then state_exists_touch(s, a, touch) into *exists;
 * and, when `a` exists, its code as state_get_code gives it (NULL when it
 * does not: its code is empty, and the caller decides whether it is
 * created). */
const code_info *state_enter_call(state *s, const address *a, bool touch, state_snapshot *snap, bool *exists);

/* --- Storage. */
u256 state_get_storage(state *s, const address *a, const u256 *key);
/* The value at the start of the transaction (EIP-2200 "original"). */
u256 state_get_original_storage(state *s, const address *a, const u256 *key);
void state_set_storage(state *s, const address *a, const u256 *key, const u256 *value);
/* True when the account has any non-zero storage (EIP-7610 collision). */
bool state_has_storage(state *s, const address *a);
u256 state_get_transient(state *s, const address *a, const u256 *key);
void state_set_transient(state *s, const address *a, const u256 *key, const u256 *value);

/* --- EIP-2929 access lists. Each returns whether the item was warm and
 * marks it warm (journaled). */
bool state_warm_account(state *s, const address *a);
bool state_warm_slot(state *s, const address *a, const u256 *key);
/* SLOAD's two steps with one lookup: the slot's current value, the slot
 * marked warm (journaled), and *was_warm whether it already was. The same
 * as state_warm_slot then state_get_storage. */
u256 state_load_warm_slot(state *s, const address *a, const u256 *key, bool *was_warm);
bool state_is_warm_account(state *s, const address *a);
/* Marks every precompile active in fork `f` warm for the rest of the
 * transaction (EIP-2929's precompile rule) by a flag rather than an entry
 * per address: the warm-up of 18 accounts, their table growth and
 * journal was ~3,000 instructions of every eth_call. Not journaled (set
 * before the first snapshot); state_finalize_tx clears it. */
void state_warm_precompiles(state *s, enum fork f);
/* Calls fn for every warm account (key NULL) and every warm slot. */
void state_visit_warm(state *s, void (*fn)(void *ctx, const address *a, const u256 *key), void *ctx);

/* --- SELFDESTRUCT and CREATE bookkeeping. */
void state_mark_created(state *s, const address *a);  /* created in this tx (EIP-6780) */
bool state_created_in_tx(state *s, const address *a);
void state_mark_destructed(state *s, const address *a);
bool state_is_destructed(state *s, const address *a);

/* --- Logs. */
typedef struct {
    address addr;
    uint8_t n_topics;
    hash32 topics[4];
    uint8_t *data;
    size_t data_len;
    /* How many logs the state was given before this one, those a revert
     * took back included (eth_simulateV1's logIndex counts them, as geth's). */
    uint64_t seq;
} log_entry;
void state_add_log(state *s, const address *a, const hash32 *topics, unsigned n_topics,
                   const uint8_t *data, size_t len);
size_t state_log_count(const state *s);
/* Every log the state was given (the next log's seq): never rewound. */
uint64_t state_logs_added(const state *s);
const log_entry *state_logs(const state *s);
/* A log as receipts and the logs hash carry it: [address, [topics], data]. */
void log_encode_rlp(bytebuf *out, const log_entry *l);

/* --- Refund counter (signed during execution: EIP-2200 can subtract). */
void state_add_refund(state *s, int64_t delta);
int64_t state_get_refund(const state *s);

/* --- Snapshots: revert undoes every change since the snapshot, including
 * warm marks, logs and refunds (state_snapshot is declared above, with the
 * accounts: state_enter_call takes one). */
state_snapshot state_snapshot_take(const state *s);
void state_revert(state *s, state_snapshot snap);

/* Forgets every storage slot of the account (creating it if absent), as
 * a state override that replaces the whole storage does. Between
 * transactions only: it is not journaled. */
void state_wipe_storage(state *s, const address *a);

/* Ends the transaction: removes self-destructed accounts, and (from
 * Spurious Dragon on) touched accounts that are empty; then clears the
 * per-transaction data (warm sets, transient storage, created flags,
 * refunds, logs are kept until state_clear_logs). */
void state_finalize_tx(state *s, enum fork f);
/* Writes every net change since the state was created (or last commit) to
 * the sink, then forgets the journal. */
void state_commit(state *s, const state_sink *sink);
/* Gives the sink what state_commit would, and changes nothing (a
 * simulated block's state root is computed from it). */
void state_visit_changes(state *s, const state_sink *sink);
void state_clear_logs(state *s);

const state_backend *state_get_backend(const state *s);

/* An account's leaf in the state trie: rlp([nonce, balance, storage_root,
 * code_hash]), replacing the contents of `out`. */
void account_encode_rlp(bytebuf *out, uint64_t nonce, const u256 *balance, const hash32 *storage_root,
                        const hash32 *code_hash);

#endif
