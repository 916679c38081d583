/* Following the upstream's head (serve --follow): a background thread
 * polls the upstream's head (`latest` or `finalized`) and, for each new
 * block, takes its state changes from debug_traceBlockByNumber
 * (prestateTracer, diffMode) and applies the post values of the keys the
 * cache holds, the new head and the new pin in one SQLite transaction: a
 * call sees the state before or after a block, never a mix.
 *
 * Invariants. A key present in a transaction's `pre` but absent from its
 * `post` was cleared (a slot to zero; an account absent from `post` was
 * deleted). Keys the cache does not hold are left alone: they are fetched
 * at the new pin when asked. State changed outside transactions is not in
 * the traces: withdrawals are applied from the block's `withdrawals`, and
 * the system contracts (EIP-4788, 2935, 7002, 7251) are forgotten each block
 * (read again on demand). A fetch made at the old pin that completes after
 * the new block is applied is not cached (store.h).
 *
 * Reorgs. Each applied block keeps, in the same transaction, what the cache
 * held before the block changed it (store_live_undo_*, the last
 * FOLLOW_UNDO_KEEP blocks). A block whose parent hash is not the stored
 * head's, a head no longer the upstream's at its number, or an upstream
 * head below ours whose block is not the one we hold at its height (a
 * shorter branch) starts a walk back: the upstream's hash at each height is compared with the stored one
 * down to the first that matches (the common ancestor); then, in one
 * transaction, every dropped block is undone, newest first, and the
 * ancestor becomes the head and the pin; the new branch is applied block by
 * block after. An ancestor deeper than the kept records (or one missing)
 * drops the cached state instead (code and compiled programs stay, keyed by
 * hash) and pins the upstream's head.
 *
 * Drift. Every `drift_every` applied blocks, a sample of cached balances
 * and slots is compared with the upstream at the pin; a difference (state
 * changed outside any block's trace) is logged, counted, and drops the
 * cache. */
#ifndef JITEVM_FOLLOW_H
#define JITEVM_FOLLOW_H

#include <stdbool.h>

#include "store.h"
#include "upstream.h"

/* FOLLOW_DRIFT_CONFIRM_MS: the pause before a drift check asks again what differed. */
enum { FOLLOW_UNDO_KEEP = 128, FOLLOW_DRIFT_SAMPLE = 16, FOLLOW_DRIFT_CONFIRM_MS = 200 };

typedef struct {
    unsigned interval_ms; /* 0: 1000 */
    char tag[16];         /* "latest" (default) or "finalized" */
    uint64_t drift_every; /* applied blocks between drift checks; 0: none */
} follow_options;

/* Starts the thread. Fails, saying why, when the upstream does not serve
 * debug_traceBlockByNumber with prestateTracer. */
bool follow_start(store *s, upstream *u, const follow_options *o, store_error *err);
void follow_stop(void);

typedef struct {
    uint64_t blocks_applied, errors;
    uint64_t reorgs;              /* walked back over kept records */
    uint64_t blocks_undone;       /* by those walks */
    uint64_t cache_drops;         /* reorgs deeper than kept, and drift */
    uint64_t drift_checks, drift; /* checks made, differences found */
    uint64_t head, upstream_head; /* lag = upstream_head - head */
    uint64_t head_time, upstream_head_time; /* their timestamps */
    double last_apply_seconds;    /* time to apply the last block */
    bool polled;                  /* the upstream's head was read at least once */
} follow_stats;
/* false when not following. */
bool follow_get_stats(follow_stats *out);

#endif
