/* The block, fee, node and history methods (methods_block.c): the head as
 * a block, eth_feeHistory from the head, eth_syncing, eth_accounts, and the
 * refusals of history methods. Handlers for rpc_methods.c's table. */
#ifndef JITEVM_METHODS_BLOCK_H
#define JITEVM_METHODS_BLOCK_H

#include "rpc/rpc.h"

json_t *m_get_block_by_number(rpc_ctx *ctx, json_t *params, rpc_error *err);
json_t *m_get_block_by_hash(rpc_ctx *ctx, json_t *params, rpc_error *err);
json_t *m_fee_history(rpc_ctx *ctx, json_t *params, rpc_error *err);
json_t *m_syncing(rpc_ctx *ctx, json_t *params, rpc_error *err);
json_t *m_accounts(rpc_ctx *ctx, json_t *params, rpc_error *err);
/* The head's hash as eth_getBlockByNumber("latest") gives it (eth_simulateV1's
 * first parent). */
bool head_block_hash(rpc_ctx *ctx, hash32 *hash, rpc_error *err);
/* -32000: transactions, receipts, logs and filters are not kept. */
json_t *m_history(rpc_ctx *ctx, json_t *params, rpc_error *err);
/* -32000: transactions are not accepted. */
json_t *m_send(rpc_ctx *ctx, json_t *params, rpc_error *err);

#endif
