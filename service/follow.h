/* Following the upstream's head (JITEVM_FOLLOW=1): a background thread
 * polls eth_blockNumber and, for each new block, takes its state changes
 * from debug_traceBlockByNumber (prestateTracer, diffMode) and applies the
 * post values of the keys the cache holds, the new head and the new pin in
 * one SQLite transaction: a call sees the state before or after a block,
 * never a mix.
 *
 * Invariants. A key present in a transaction's `pre` but absent from its
 * `post` was cleared (a slot to zero; an account absent from `post` was
 * deleted). Keys the cache does not hold are left alone: they are fetched
 * at the new pin when asked. State changed outside transactions is not in
 * the traces: withdrawals are applied from the block's `withdrawals`, and
 * the system contracts (EIP-4788, 2935, 7002, 7251) are forgotten each block
 * (read again on demand). A fetch made at the old pin that completes after
 * the new block is applied is not cached (store.h). A block whose parent
 * hash is not the stored head's is a reorg: the cached state is dropped
 * (code and compiled programs stay, keyed by hash) and the database is
 * pinned to the upstream's latest block; walking back over kept diffs is
 * not built. */
#ifndef JITEVM_FOLLOW_H
#define JITEVM_FOLLOW_H

#include <stdbool.h>

#include "store.h"
#include "upstream.h"

/* Starts the thread (interval in milliseconds; 0: 1000). Fails, saying
 * why, when the upstream does not serve debug_traceBlockByNumber. */
bool follow_start(store *s, upstream *u, unsigned interval_ms, store_error *err);
void follow_stop(void);

typedef struct {
    uint64_t blocks_applied, reorgs, errors;
    uint64_t head, upstream_head; /* lag = upstream_head - head */
    double last_apply_seconds;    /* time to apply the last block */
} follow_stats;
/* false when not following. */
bool follow_get_stats(follow_stats *out);

#endif
