/* The state trie kept in SQLite (schema/migrations/007_state_trie.sql) and
 * brought up to date by hashing only what changed.
 *
 * A view is the stored trie as one connection's transaction sees it, plus
 * an overlay in memory: the nodes that changes made since (the keys listed
 * in trie_dirty, then any the caller applies, such as a simulated block's)
 * have replaced or removed. Its root and proofs read through the overlay,
 * so a read snapshot that cannot write still answers exactly; a write
 * transaction may persist the overlay (trie_view_persist), which also
 * empties trie_dirty. Work is proportional to the keys changed times the
 * trie's depth, never to the state's size, except for the one full build
 * (trie_view_build) of a database whose trie was never built. */
#ifndef JITEVM_TRIE_STORE_H
#define JITEVM_TRIE_STORE_H

#include <sqlite3.h>

#include "base/trie.h"
#include "base/types.h"
#include "base/u256.h"
#include "state/state.h"
#include "store.h"

typedef struct trie_view trie_view;

/* Opens a view on `db` (inside the caller's transaction, read or write:
 * the view reads in it and keeps no transaction of its own). `what` names
 * the database in errors. NULL with err on a database error. */
trie_view *trie_view_open(sqlite3 *db, const char *what, store_error *err);
void trie_view_close(trie_view *v);
/* A view made again for reuse on its connection (its statements stay
 * prepared: preparing them was most of an eth_simulateV1 block's root):
 * the overlay emptied, the flags read again. */
bool trie_view_refresh(trie_view *v, store_error *err);
/* Every statement of the view reset (no read left open by it). */
void trie_view_idle(trie_view *v);

/* Whether the stored trie exists (built once in full, and kept up to date
 * since), and whether the database is live (a cache: it never has one). */
bool trie_view_built(const trie_view *v);
bool trie_view_live(const trie_view *v);

/* Builds the whole trie from the account and storage tables, replacing any
 * stored one, and marks it built (write transaction). */
bool trie_view_build(trie_view *v, store_error *err);
/* Removes a stored trie and its triggers (a database that became live:
 * its state is a cache from then on); write transaction. */
bool trie_view_drop(trie_view *v, store_error *err);
/* Applies the changes listed in trie_dirty to the overlay (values read from
 * the account and storage tables). */
bool trie_view_catch_up(trie_view *v, store_error *err);
/* Writes the overlay into the tables and empties trie_dirty (write
 * transaction, after trie_view_catch_up). */
bool trie_view_persist(trie_view *v, store_error *err);

/* A change to apply in memory only (a simulated block's): an account's new
 * fields (or its absence), or a slot's new value (zero: absent). */
typedef struct {
    address addr;
    bool is_slot;
    u256 slot;         /* is_slot: the slot's key */
    u256 value;        /* is_slot: the new value */
    bool exists;       /* !is_slot: the account exists after the change */
    bool wipe_storage; /* !is_slot: its storage was cleared first (slots after it in the list apply on top) */
    uint64_t nonce;
    u256 balance;
    hash32 code_hash;
} trie_change;
/* Applies `changes` (any order; for one key the last wins) to the overlay,
 * on top of what it holds. An account whose slots change but which has no
 * account change of its own keeps its fields and gets the new storage root. */
bool trie_view_apply(trie_view *v, const trie_change *changes, size_t n, store_error *err);

bool trie_view_root(trie_view *v, hash32 *root, store_error *err);
/* The storage root of an account (of its slots, whether or not it exists). */
bool trie_view_storage_root(trie_view *v, const address *a, hash32 *root, store_error *err);
/* EIP-1186 proofs as trie_prove gives them: the account's in the state
 * trie, and each of `n` hashed slot keys' in its storage trie. Proofs are
 * zero-initialised by the caller and freed with trie_proof_free. */
bool trie_view_prove(trie_view *v, const address *a, const uint8_t (*hashed_slots)[32], size_t n,
                     trie_proof *account_proof, trie_proof *storage_proofs, store_error *err);

#endif
