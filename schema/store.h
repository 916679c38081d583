/* The SQLite store: account state, code, storage, the head block context,
 * the chain configuration and compiled programs, behind the core's
 * state_backend / state_sink interfaces.
 *
 * One `store` per database file (shared by all threads); one
 * `store_conn` per thread (SQLite connections are not shared across
 * threads here). Reads never block on the writer (WAL). Every write API
 * runs in one SQLite transaction: all or nothing. */
#ifndef JITEVM_STORE_H
#define JITEVM_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "vm/evm.h"
#include "state/state.h"

typedef struct store store;
typedef struct store_conn store_conn;

/* Error text for the caller to print: one line, no trailing newline. */
typedef struct {
    char msg[512];
} store_error;

/* Sets err (when not NULL) from a printf format, newlines made spaces so
 * that the message stays one line; returns false. */
bool store_fail(store_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum store_open_flags {
    STORE_OPEN_EXISTING = 0, /* fail when the file does not exist */
    STORE_OPEN_CREATE = 1,   /* create the file (and apply all migrations) */
    STORE_OPEN_READONLY = 2,
    /* With READONLY: SQLite's immutable open (no locks, no -shm/-wal), for
     * a file that nothing changes while it is open, such as a snapshot on a
     * read-only volume. Refused when a -wal file with content lies beside
     * it (its last commits would be missed: open it read-write once). */
    STORE_OPEN_IMMUTABLE = 4,
};

/* Opens the database, applies pending migrations (PRAGMA user_version), and
 * refuses a database whose version is newer than this binary's. NULL and
 * `err` set on failure (not SQLite, truncated, read-only directory, ...). */
store *store_open(const char *path, int flags, store_error *err);
void store_close(store *s);
/* The schema version this binary writes. */
int store_schema_version(void);

/* A connection for the calling thread. */
store_conn *store_connect(store *s, store_error *err);
void store_disconnect(store_conn *c);

/* Reads through this connection (state_backend callbacks). A code pointer
 * returned by get_code stays valid until the next call on the connection
 * (the core copies code into its own cache by hash). */
state_backend store_backend(store_conn *c);

/* --- Chain configuration: chain id and the fork schedule. A fork is
 * active from a block number (pre-merge forks) or a timestamp (Shanghai
 * on); forks absent from the schedule are never active. */
typedef struct {
    uint64_t chain_id;
    /* activation per fork; UINT64_MAX = not scheduled */
    uint64_t activation[FORK_COUNT];
    bool by_timestamp[FORK_COUNT];
} chain_config;

bool store_get_chain_config(store_conn *c, chain_config *out, store_error *err);
bool store_set_chain_config(store_conn *c, const chain_config *cfg, store_error *err);
/* The fork in force at (number, timestamp). */
enum fork chain_config_fork_at(const chain_config *cfg, uint64_t number, uint64_t timestamp);

/* --- The head block: the context every eth_call executes in. block_env's
 * blob fields are filled from excess_blob_gas and the fork's schedule. */
bool store_get_head(store_conn *c, block_env *out, store_error *err);
bool store_set_head(store_conn *c, const block_env *head, store_error *err);
/* Recent block hashes for BLOCKHASH (stored by number). */
bool store_set_block_hash(store_conn *c, uint64_t number, const hash32 *hash, store_error *err);

/* --- Writes. Either use the one-call helpers (each its own transaction),
 * or bracket several sink writes with store_begin / store_commit. */
bool store_begin(store_conn *c, store_error *err);
bool store_commit(store_conn *c, store_error *err);
void store_rollback(store_conn *c);
/* A sink that writes into the current transaction (store_begin first). */
state_sink store_sink(store_conn *c);

bool store_set_balance(store_conn *c, const address *a, const u256 *balance, store_error *err);
bool store_set_nonce(store_conn *c, const address *a, uint64_t nonce, store_error *err);
bool store_set_code(store_conn *c, const address *a, const uint8_t *code, size_t len, store_error *err);
bool store_set_storage(store_conn *c, const address *a, const u256 *key, const u256 *value, store_error *err);

/* --- Compiled programs (filled by the compiler): keyed by code hash,
 * compiler version and target; the blob is checked against its integrity
 * tag on load. */
bool store_put_program(store_conn *c, const hash32 *code_hash, int compiler_version, const char *target,
                       const uint8_t *blob, size_t len, const uint8_t tag[32], store_error *err);
/* Whether code with this hash is in the database (*found); false on a read error. */
bool store_has_code(store_conn *c, const hash32 *code_hash, bool *found, store_error *err);
/* Returns false when absent; *blob is malloc'd (caller frees). */
bool store_get_program(store_conn *c, const hash32 *code_hash, int compiler_version, const char *target,
                       uint8_t **blob, size_t *len, uint8_t tag[32], store_error *err);
/* The same without a copy: `use` is given SQLite's own buffer (valid only
 * during the call) and the row's tag; *used is what it returned. Returns
 * false when absent or on a read error (err says which). */
bool store_get_program_with(store_conn *c, const hash32 *code_hash, int compiler_version, const char *target,
                            bool (*use)(void *ctx, const uint8_t *blob, size_t len, const uint8_t tag[32]),
                            void *ctx, bool *used, store_error *err);

/* The same read straight into memory the reader places, with no copy in
 * between: `place` is given the blob's length and the row's tag and returns
 * where the blob goes (NULL: nothing is read); the blob is then read there
 * in pieces of at most `piece_bytes` (0: one piece), each handed to `piece`
 * once it is in place, in order; `piece` returning false stops the read.
 * Returns false when absent or on a read error (err says which: then the
 * placed memory may hold part of the blob). */
typedef struct {
    void *ctx;
    uint8_t *(*place)(void *ctx, size_t len, const uint8_t tag[32]);
    bool (*piece)(void *ctx, const uint8_t *at, size_t len);
    size_t piece_bytes;
} store_program_reader;
bool store_read_program(store_conn *c, const hash32 *code_hash, int compiler_version, const char *target,
                        const store_program_reader *r, store_error *err);

/* --- Whole-state operations. */
/* The state root of every account (secure trie, as the core computes it),
 * from the stored trie (schema/trie_store.h) when the database has one: on a
 * writable store outside a read snapshot it is first brought up to date on
 * disk (built in full the first time); otherwise it is computed from every
 * account and slot. */
bool store_state_root(store_conn *c, hash32 *root, store_error *err);
/* The stored trie as this connection's open snapshot (or write
 * transaction) sees it, with the changes not yet hashed in applied in
 * memory; hand it back with store_trie_view_done before the snapshot ends. NULL
 * with *available false when there is none (a live database, a trie never
 * built), and err->msg empty unless a database error said otherwise. */
struct trie_view *store_trie_view(store_conn *c, bool *available, store_error *err);
/* Hands a view from store_trie_view back to its connection, which keeps it
 * (statements prepared) for the next store_trie_view. */
void store_trie_view_done(store_conn *c, struct trie_view *v);
/* The state root of `st` (a state over this connection's backend, read in
 * its open snapshot): the stored trie with st's net changes applied in
 * memory, nothing written (eth_simulateV1's blocks). False, with *root
 * unchanged, where there is no stored trie (a live database). */
bool store_state_root_after(store_conn *c, state *st, hash32 *root, store_error *err);
/* Counts for summaries. */
bool store_counts(store_conn *c, uint64_t *accounts, uint64_t *slots, uint64_t *code_bytes, store_error *err);

/* ---------------------------------------------------------------------
 * Added by the store implementation (nothing above changed).
 */

/* --- Read snapshots. Reads between store_read_begin and store_read_end
 * see one consistent state (one SQLite read transaction: a commit made
 * meanwhile by another connection is not seen halfway), and are served
 * from the connection's cache of hot accounts, which is revalidated at
 * store_read_begin (PRAGMA data_version) and cleared after this
 * connection's own commits. Outside a snapshot every read goes to SQLite
 * and sees the latest commit. Not allowed inside store_begin/store_commit. */
bool store_read_begin(store_conn *c, store_error *err);
void store_read_end(store_conn *c);
/* Inside a read snapshot: a number that changes whenever what this
 * connection reads may have changed since its previous snapshot (a commit
 * by any connection: PRAGMA data_version, or this one's own), so that a
 * value read in one snapshot can be reused in a later one with the same
 * number. 0 outside a snapshot. */
uint64_t store_snapshot_epoch(const store_conn *c);
/* --- Kept snapshots (opt-in, for the HTTP threads' connections). With
 * store_keep_snapshots(c, true), store_read_end leaves the read transaction
 * open ("parked") and the next store_read_begin reuses it when no connection,
 * of this process or another, has committed since it began (the WAL index's
 * change counter is unchanged) and it is younger than STORE_SNAPSHOT_MAX_MS;
 * else it ends it and begins a new one. A request thus pays SQLite's read
 * lock (an fcntl and the shared-memory mutex) only after a commit. A call
 * still sees one commit, the latest when its snapshot is taken or reused.
 * A parked snapshot keeps the WAL from being restarted, so an idle holder
 * must end it: store_snapshot_release (called when a connection of the
 * thread closes), or store_snapshot_settle, which ends one that can no longer
 * be reused; both may be called from another thread while the caller keeps
 * the connection's own thread off it (SQLite is opened NOMUTEX: one thread
 * at a time), as the server's guard does every 100 ms. Outside
 * store_read_begin/_end, a connection that keeps snapshots must call
 * store_snapshot_settle before reading (it ends a stale parked snapshot), or
 * store_snapshot_release before a statement that must see the latest commit;
 * store_begin releases by itself. Read-only and immutable stores never park. */
#define STORE_SNAPSHOT_MAX_MS 200
void store_keep_snapshots(store_conn *c, bool on);
void store_snapshot_settle(store_conn *c);
void store_snapshot_release(store_conn *c);
/* Whether a kept snapshot is parked (open between two store_read_begin). */
bool store_snapshot_parked(const store_conn *c);

/* --- The state_backend and state_sink callbacks cannot return errors. A
 * SQLite failure inside one (I/O error, corrupt page) is kept here: true and
 * `err` filled when one happened since the last call (then the results read
 * meanwhile are not to be trusted). store_commit fails by itself when a
 * sink write failed. */
bool store_take_error(store_conn *c, store_error *err);

/* Removes every account, storage slot and code (compiled programs, the chain
 * and the head are kept): for an import that replaces the whole state. In
 * the current transaction, or its own. */
bool store_clear_state(store_conn *c, store_error *err);

/* --- Blob schedule overrides per fork (a genesis file's `blobSchedule`):
 * zero fields mean "the fork's default" (block_env_default_blob_schedule).
 * store_get_head applies the override of the fork in force. The fork must
 * be scheduled (store_set_chain_config resets every override). */
typedef struct {
    uint64_t target;
    uint64_t max;
    uint64_t update_fraction;
} blob_schedule;
bool store_set_blob_schedule(store_conn *c, enum fork f, const blob_schedule *bs, store_error *err);
/* False with `err` on a database error; an absent override reads as zeros. */
bool store_get_blob_schedule(store_conn *c, enum fork f, blob_schedule *out, store_error *err);

/* --- Blob-parameter-only forks (EIP-7892: "bpo1", "bpo2", ...), active
 * from a timestamp: the schedule of the latest one active at the head
 * applies when it is not older than the engine fork in force
 * (store_get_head does it). Replaced as a whole; store_set_chain_config
 * removes them. */
#define BLOB_FORK_NAME_MAX 16
typedef struct {
    char name[BLOB_FORK_NAME_MAX];
    uint64_t activation; /* timestamp */
    blob_schedule blob;  /* every field non-zero */
} blob_fork;
bool store_set_blob_forks(store_conn *c, const blob_fork *forks, size_t n, store_error *err);
/* In activation order; fails when there are more than `max`. */
bool store_get_blob_forks(store_conn *c, blob_fork *out, size_t max, size_t *n, store_error *err);

/* --- The genesis block's facts the schedule and head do not keep
 * (008_chain_genesis.sql): the header parts served while block 0 is the
 * head, the timestamp EIP-2124/7910 count from, EIP-6110's deposit
 * contract, and the block numbers EIP-2124's fork id counts. */
#define STORE_GENESIS_EXTRA_MAX 1024
#define STORE_FORKID_BLOCKS_MAX 32
typedef struct {
    uint64_t number, timestamp, nonce;
    uint8_t extra_data[STORE_GENESIS_EXTRA_MAX];
    size_t extra_data_len;
    bool has_deposit_contract; /* false: none known (the zero address) */
    address deposit_contract;
    /* Empty: the schedule's block-numbered activations count. */
    uint64_t forkid_blocks[STORE_FORKID_BLOCKS_MAX];
    size_t n_forkid_blocks;
} store_genesis;
/* Replaces the row and the fork-id block list (in the open transaction or
 * its own). */
bool store_set_genesis(store_conn *c, const store_genesis *g, store_error *err);
/* *found false for a database made before 008 (no row). */
bool store_get_genesis(store_conn *c, store_genesis *out, bool *found, store_error *err);

/* --- The head's identity. Its hash is the block hash stored at its number
 * and its parent hash the one at number - 1 (either may be unknown). A head
 * written at another number than the stored head's is a new block: every
 * stored hash from its number on is dropped first. `hash` and `parent_hash`
 * may be NULL (unknown); everything in one transaction. */
bool store_set_head_block(store_conn *c, const block_env *head, const hash32 *hash, const hash32 *parent_hash,
                          store_error *err);
/* What the head used of its gas limit and blob gas (0 when not known:
 * writing the head resets them), with the head's number to tell which head
 * they belong to. Set after store_set_head_block, in its transaction or
 * one of the caller's. */
bool store_get_head_usage(store_conn *c, uint64_t *number, uint64_t *gas_used, uint64_t *blob_gas_used,
                          store_error *err);
bool store_set_head_usage(store_conn *c, uint64_t gas_used, uint64_t blob_gas_used, store_error *err);
/* *found false when the hash of block `number` is not stored. */
bool store_get_block_hash(store_conn *c, uint64_t number, hash32 *out, bool *found, store_error *err);
/* The number of the stored block with this hash (EIP-1898 {blockHash}). */
bool store_find_block_number(store_conn *c, const hash32 *hash, uint64_t *number, bool *found, store_error *err);

/* One key of the live cache: an account, or one of its slots. */
typedef struct {
    address a;
    bool is_slot;
    u256 key;
} store_live_key;

/* A key with the upstream's answer (store_fetcher.many). */
struct store_live_item {
    store_live_key k;
    bool exists;       /* account: present and not empty */
    bool has_storage;  /* account: its storage root is not the empty trie's */
    /* account: has_storage is not known yet; the store asks it in its next
     * batch as a root_only item (the fetcher set this: the cheap requests
     * said nonce 0 and no code, the only case where storage decides a
     * CREATE collision, EIP-7610) and writes both in one transaction. */
    bool root_pending;
    bool root_only;    /* account: only has_storage is asked (the rest came in a batch before) */
    account_info info; /* account */
    uint8_t *code;     /* account: malloc'd (the store frees it), NULL for none */
    size_t code_len;
    u256 value; /* slot */
};

/* --- Live mode: a database pinned to an upstream node's block. The
 * backend (store_backend) reads SQLite first; what is missing there, and
 * not recorded as absent or zero, is asked of the fetcher, and the answer,
 * present or absent, is written to SQLite in one transaction (through a
 * second connection, so that a caller's read snapshot stays as it is) and
 * returned. A fetch that fails is kept as the connection's error
 * (store_take_error), writes nothing, and the read answers "absent": the
 * caller must fail the call. The fetcher lives in service/ (the network);
 * its callbacks run on the reading thread and must be thread-safe. */
typedef struct {
    void *ctx;
    /* Each asks at block `at` (the pinned block the reader's snapshot
     * sees). *exists false: the account is absent or empty. *code is
     * malloc'd (the store frees it), NULL when there is none. *has_storage:
     * its storage is not empty (false when the upstream cannot tell). */
    bool (*account)(void *ctx, const hash32 *at, const address *a, bool *exists, account_info *info, uint8_t **code,
                    size_t *code_len, bool *has_storage, store_error *err);
    bool (*slot)(void *ctx, const hash32 *at, const address *a, const u256 *key, u256 *value, store_error *err);
    /* *found false: the upstream has no such block. */
    bool (*block_hash)(void *ctx, const hash32 *at, uint64_t number, hash32 *out, bool *found, store_error *err);
    /* Many accounts and slots at once (store_live_prefetch): fills each
     * item's answer, all or nothing; *round_trips says how many upstream
     * round trips it took. It may leave an account's has_storage to the
     * next batch (root_pending), which then holds a root_only item for it.
     * NULL: prefetching is off. */
    bool (*many)(void *ctx, const hash32 *at, struct store_live_item *items, size_t n, unsigned *round_trips,
                 store_error *err);
    /* Optional: keys the last `many` on this thread learnt besides its
     * items (an access list carried in the same round trip). The prefetch
     * fetches those it lacks in one more batch and writes all of it in one
     * transaction. *keys malloc'd (NULL, 0: none). */
    void (*more)(void *ctx, store_live_key **keys, size_t *n);
} store_fetcher;
/* Set before the connections that use it read; NULL turns it off. */
void store_set_fetcher(store *s, const store_fetcher *f);
/* A connection whose thread must not wait on the network (an HTTP polling
 * thread: every connection it holds would wait too): with `flag` set, a
 * fetch it would make is not made; *flag is set to 1 (the caller's abort
 * flag: it runs the request again where waiting is allowed), the read
 * fails like a failed fetch, and no miss is counted. NULL: fetches wait. */
void store_defer_fetches(store_conn *c, atomic_int *flag);
/* For a caller that knows it is about to fetch (a never-seen call's access
 * list): on a connection that defers fetches, true with the deferral as
 * *err and the flag set, as the fetch itself would (without the reads
 * before it); false otherwise. */
bool store_live_fetch_deferred(store_conn *c, store_error *err);

typedef struct {
    char url[1024];
    uint64_t block_number;
    hash32 block_hash;
} store_live_pin;
bool store_set_live_pin(store_conn *c, const store_live_pin *pin, store_error *err);
/* *found false for a database that is not live. */
bool store_get_live_pin(store_conn *c, store_live_pin *out, bool *found, store_error *err);

/* Following the upstream: a fetched value is written only while the pin is
 * still the block it was fetched at (a value that arrives after the next
 * block was applied is returned to its caller, whose snapshot is at that
 * block, but not cached). The apply functions change only what the cache
 * holds (an account row or absence, a slot row or zero fact), in the open
 * write transaction: `info` NULL deletes the account (and its slots). A
 * partial account (only some fields known) is given as `fields`. */
enum { LIVE_BALANCE = 1, LIVE_NONCE = 2, LIVE_CODE = 4 };
bool store_live_apply_account(store_conn *c, const address *a, int fields, const account_info *info,
                              const uint8_t *code, size_t code_len, store_error *err);
bool store_live_apply_slot(store_conn *c, const address *a, const u256 *key, const u256 *value, store_error *err);
/* --- Cold calls. Before a call runs (outside a read snapshot): the keys
 * given that SQLite neither holds nor records as absent or zero are fetched
 * with the fetcher's `many`, in one batch, at the pin, and written in one
 * transaction (when the pin is still the block they were fetched at).
 * *fetched: how many keys were asked for. The round trips it took count
 * toward the next snapshot's (the call's) round trips. */
bool store_live_prefetch(store_conn *c, const store_live_key *keys, size_t n, size_t *fetched, store_error *err);
/* Adds `n` upstream round trips made for the next call (an access list
 * asked for it) to its count. */
void store_live_note_round_trips(store_conn *c, unsigned n);
/* The keys the last recorded call to (target, selector) read; *keys is
 * malloc'd (NULL and *n 0 when there is no record; *found says which). */
bool store_live_recorded(store_conn *c, const address *target, const uint8_t *selector, size_t selector_len,
                         store_live_key **keys, size_t *n, bool *found, store_error *err);
/* Records the keys the next read snapshot reads; store_live_record_end
 * (after store_read_end) stores them for (target, selector) when the call
 * fetched anything or `replace` is set (and none of its reads failed), and
 * stops recording. */
void store_live_record_begin(store_conn *c, const address *target, const uint8_t *selector, size_t selector_len,
                             bool replace);
bool store_live_record_end(store_conn *c, store_error *err);

/* --- Reorgs. While a block is applied (between store_live_undo_begin and
 * store_live_undo_save, in the same write transaction), the apply
 * functions note what the cache held before the block's first change of
 * each key (once per key: compact, store.c); save stores it
 * for block (number, hash, parent) and keeps the last `keep` blocks'.
 * store_live_undo_block restores what block `number` changed (in the open
 * transaction) and deletes its record; *found false when it is not kept. */
void store_live_undo_begin(store_conn *c);
bool store_live_undo_save(store_conn *c, uint64_t number, const hash32 *hash, const hash32 *parent, unsigned keep,
                          store_error *err);
bool store_live_undo_block(store_conn *c, uint64_t number, bool *found, store_error *err);
/* Every kept record dropped (after a drop of the whole cache). */
bool store_live_undo_clear(store_conn *c, store_error *err);

/* A withdrawal: adds `amount` to the balance when the account is held
 * (absent: it is created); nothing otherwise. */
bool store_live_add_balance(store_conn *c, const address *a, const u256 *amount, store_error *err);
/* Up to `max` cached keys picked at random (balances and slots, with their
 * cached values), for the drift check. */
bool store_live_sample(store_conn *c, store_live_key *keys, u256 *values, size_t max, size_t *n, store_error *err);

/* A block wrote a non-zero slot of this account: it has storage (noted
 * when the account is held; else its fetch asks). */
bool store_live_mark_storage(store_conn *c, const address *a, store_error *err);

/* Forgets one account: its row, slots and facts (read again on demand). */
bool store_live_forget(store_conn *c, const address *a, store_error *err);
/* Drops every cached account, slot and fact (code and programs stay): after
 * a reorg deeper than the diffs kept. In the open transaction. */
bool store_live_drop_cache(store_conn *c, store_error *err);

enum store_live_kind { LIVE_ACCOUNT, LIVE_SLOT, LIVE_BLOCK_HASH, LIVE_KIND_COUNT };
typedef struct {
    uint64_t hits[LIVE_KIND_COUNT];   /* answered from SQLite (a row or a recorded absence) */
    uint64_t misses[LIVE_KIND_COUNT]; /* fetched */
    uint64_t stale;                   /* fetched, not cached: the pin had moved */
    uint64_t calls_fetching;          /* read snapshots (calls) that fetched anything */
    uint64_t call_fetches;            /* ... and their upstream round trips (prefetch included) */
    uint64_t prefetches;              /* prefetch batches sent */
    uint64_t prefetched_keys;         /* keys they asked for */
} store_live_stats;
store_live_stats store_get_live_stats(const store *s);
const char *store_live_kind_name(enum store_live_kind k);

/* The store's name of a fork in the database ("tangerine_whistle"), and back
 * (-1 when unknown). */
const char *store_fork_db_name(enum fork f);
int store_fork_from_db_name(const char *name);

/* --- Iteration (dumps, the state root): every account in address order,
 * or only `only` when not NULL, each followed by its slots in key order,
 * all read in one snapshot. With want_code, `code` holds the account's code
 * during the call (else NULL). A callback returning false stops the walk:
 * store_visit then returns false with err->msg empty (the callback keeps
 * its own reason). */
typedef struct {
    void *ctx;
    bool want_code;
    bool (*account)(void *ctx, const address *a, const account_info *info, const uint8_t *code, size_t code_len);
    bool (*slot)(void *ctx, const address *a, const u256 *key, const u256 *value);
    bool (*account_end)(void *ctx, const address *a, const account_info *info);
} store_visitor;
bool store_visit(store_conn *c, const address *only, const store_visitor *v, store_error *err);

#endif
