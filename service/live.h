/* Live mode: a database pinned to an upstream node's block, filled on
 * demand (the store's fetcher, store.h), and `init --fork-url`; the call
 * hooks (rpc_live): a cold call's prefetch before its snapshot, history
 * forwarded to the upstream, eth_getProof asked of the upstream at the pin
 * (checked against the pinned block's stateRoot), admin writes refused.
 *
 * Invariant: every value the fetcher hands the store was read from the
 * upstream at the pinned block, named by its hash (EIP-1898), so a value
 * fetched late is never from another block; a fetch that fails hands the
 * store nothing (it then fails the call, store_take_error). The prefetch is
 * only a hint: what it fetches is fetched as any miss would be (same block,
 * same writes), and what it misses is fetched key by key, so a wrong
 * prediction costs round trips, never a wrong answer. The network stays
 * here: core/ and schema/ see only the fetcher's callbacks. */
#ifndef JITEVM_LIVE_H
#define JITEVM_LIVE_H

#include <stdbool.h>

#include "base/types.h"
#include "block_header.h"
#include "config.h"
#include "store.h"
#include "upstream.h"

/* When the database is live, connects the store's fetcher to its upstream
 * (*is_live true), installs the call hooks (prefetch, forwarding, admin
 * writes refused: rpc_live) and starts following when cfg->follow; nothing
 * when it is not. One live database per process. */
bool live_attach(store *s, store_conn *c, const rpc_config *cfg, bool *is_live, store_error *err);
/* For /health: appends `,"live":{...}` (head, upstream head, lag) to out;
 * *lagging when following and the lag passes cfg->health_max_lag. */
void live_health(bytebuf *out, uint64_t max_lag, bool *lagging);
void live_detach(store *s);

/* SIGHUP's snapshot switch (rpc_server.c) asks before it switches to the
 * database `next`: true (refused, err says why) when this process is in live
 * mode or `next` is a live database. A live database is kept current by
 * its own process (fetches, the follower), not replaced under it: the
 * follower, the fetcher and the call hooks hold the open one, and a file
 * switched in would be served without them (its misses read as absent).
 * Restarting serve moves to another file at no cost (the cache is in it). */
bool live_refuses_switch(store_conn *next, store_error *err);

/* Prometheus text for /metrics (nothing when not live). */
void live_metrics_render(bytebuf *out);

/* For `init --fork-url`: the upstream's chain id and the block named by
 * `block` ("latest", "finalized", "safe" or a number), in one round trip. */
bool live_fetch_head(upstream *u, const char *block, uint64_t *chain_id, block_header *head, upstream_error *err);

#endif
