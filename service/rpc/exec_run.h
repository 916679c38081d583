/* Running call messages for the RPC method families (exec_call.c,
 * exec_access_list.c): one run on a fresh overlay of the env's state, and
 * geth's errors for its outcomes. Internal to service/rpc (exec_*.c). */
#ifndef JITEVM_EXEC_RUN_H
#define JITEVM_EXEC_RUN_H

#include "rpc/rpc_exec.h"

enum run_kind { RUN_EXECUTED, RUN_INVALID, RUN_ABORTED };

typedef struct {
    enum run_kind kind;
    bool intrinsic; /* invalid because the gas is below the intrinsic cost (or the floor) */
    char *invalid;  /* geth's message (RUN_INVALID) */
    tx_result res;
    uint64_t peak_used; /* gas used before refunds (geth's MaxUsedGas) */
} run_result;

void run_result_free(run_result *r);

/* Runs `m` with `gas` on a fresh overlay of the env's state, after geth's
 * pre-execution checks; `extra` (may be NULL) adds tracing or access
 * collection. Nothing is committed. */
void run_message(rpc_ctx *ctx, const exec_env *ee, const call_msg *m, uint64_t gas, const tx_options *extra,
                 run_result *r);

/* The transaction the core runs for `m` with `gas` (eth_simulateV1 too). */
void to_transaction(const exec_env *ee, const call_msg *m, uint64_t gas, transaction *tx);
/* geth's words for a broken rule: sets r->invalid (RUN_INVALID); false. */
bool invalid_tx(run_result *r, const call_msg *m, const tx_violation *v);

/* The sender's balance under the env (overrides included). */
u256 exec_balance_of(const exec_env *ee, const address *a);

/* geth's text for an execution error of the top frame (malloc'd); may run
 * the message again with a tracer to name the opcode. */
char *vm_error_text(rpc_ctx *ctx, const exec_env *ee, const call_msg *m, uint64_t gas, enum exec_status status);
/* An executed message's failure: code 3 for a revert, -32000 and the VM
 * error otherwise. */
void execution_failure(rpc_ctx *ctx, const exec_env *ee, const call_msg *m, uint64_t gas, const run_result *r,
                       rpc_error *err);
/* "execution aborted (timeout = ...)" or the shutdown variant; false. */
bool timeout_error(const rpc_ctx *ctx, rpc_error *err);

/* The call timeout's watch, around a method's runs. */
void exec_arm_timeout(rpc_ctx *ctx);
void exec_disarm_timeout(rpc_ctx *ctx);

#endif
