/* eth_simulateV1 (methods_simulate.c): a handler for rpc_methods.c's table. */
#ifndef JITEVM_METHODS_SIMULATE_H
#define JITEVM_METHODS_SIMULATE_H

#include "rpc/rpc.h"

json_t *m_simulate_v1(rpc_ctx *ctx, json_t *params, rpc_error *err);

#endif
