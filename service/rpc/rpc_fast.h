/* The common request shapes read straight from the body's text, without a
 * jansson tree: one eth_chainId, eth_getBalance or eth_call object whose
 * members and parameters are plain strings (a warm eth_call spent about a
 * sixth of its instructions building, reading and freeing the tree).
 *
 * The rule that keeps the answers the tree path's: rpc_fast_parse takes a
 * body only when the tree path would run the method on exactly these
 * values with no error in the envelope or the parameters (every member
 * known and given once, strings of printable ASCII without escapes, hex of
 * the strict form geth accepts, the head as the block). Anything else,
 * errors included, is not taken (false) and goes the tree's way, which
 * words it. What the method itself answers (a revert, a missing head)
 * comes from the same code on both paths. tests/test_rpc_fast.c checks
 * this by answering every input both ways and comparing the bytes. */
#ifndef JITEVM_RPC_FAST_H
#define JITEVM_RPC_FAST_H

#include <stdbool.h>
#include <stddef.h>

#include "rpc/rpc.h"
#include "rpc/rpc_params.h"

/* Call data up to this size is decoded into the request itself (no
 * allocation); longer data goes the tree's way. */
#define RPC_FAST_DATA_MAX 1024

typedef enum { RPC_FAST_CHAIN_ID, RPC_FAST_GET_BALANCE, RPC_FAST_CALL } rpc_fast_kind;

typedef struct {
    rpc_fast_kind kind;
    const rpc_method *method;
    const char *id; /* the id's JSON text as written (a number, a string with its quotes, null) */
    size_t id_len;
    /* eth_getBalance: the account. eth_call: the arguments; the sender's
     * and the target's text as written (the live warm memo's key: an
     * absent sender is ""), and the selector. */
    address account;
    call_args args;
    const char *from_text, *to_text;
    size_t from_len, to_len;
    uint8_t selector[4];
    size_t selector_len;
    uint8_t data[RPC_FAST_DATA_MAX];
} rpc_fast_request;

/* True when `text` is one of the shapes above (*r filled; it points into
 * `text`, which must outlive it); false: answer it the tree's way. */
bool rpc_fast_parse(const char *text, size_t len, rpc_fast_request *r);
/* The method's answer for a parsed request (rpc_dispatch.c runs it inside
 * the same checks, snapshot and metrics as the tree path). */
json_t *rpc_fast_run(rpc_ctx *ctx, const rpc_fast_request *r, rpc_error *err);
/* Answers a parsed request (as rpc_dispatch); NULL with *fell_back set
 * when it must be answered the tree's way after all (live mode: a call
 * the warm memo does not know), before anything was run or counted. */
char *rpc_dispatch_fast(rpc_ctx *ctx, const rpc_fast_request *r, size_t *len, bool *fell_back);

#endif
