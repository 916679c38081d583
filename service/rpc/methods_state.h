/* The state and configuration methods (methods_state.c): eth_getProof,
 * eth_getStorageValues and eth_config. Handlers for rpc_methods.c's table. */
#ifndef JITEVM_METHODS_STATE_H
#define JITEVM_METHODS_STATE_H

#include "rpc/rpc.h"

json_t *m_get_proof(rpc_ctx *ctx, json_t *params, rpc_error *err);
json_t *m_get_storage_values(rpc_ctx *ctx, json_t *params, rpc_error *err);
json_t *m_config(rpc_ctx *ctx, json_t *params, rpc_error *err);

#endif
