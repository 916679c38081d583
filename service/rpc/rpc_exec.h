/* Executing calls for the RPC methods the way geth does, by method family:
 *   exec_env.c          the block context (head + block overrides), state
 *                       overrides, the message defaults (CallDefaults/ToMessage)
 *   exec_run.c          one run: geth's pre-execution checks (tx.c's rules
 *                       in geth's order and words), VM error and revert texts
 *   exec_call.c         eth_call and eth_estimateGas's search
 *   exec_access_list.c  eth_createAccessList's fixpoint
 * This header is what rpc_methods.c calls; exec_run.h is shared inside. */
#ifndef JITEVM_RPC_EXEC_H
#define JITEVM_RPC_EXEC_H

#include "rpc/overrides.h"
#include "rpc/rpc.h"
#include "rpc/rpc_params.h"
#include "vm/block.h"
#include "vm/tx.h"

/* geth's BlockOverrides, parsed (with anvil's spellings as aliases): which
 * fields are given and their values. */
typedef struct {
    bool has_number, has_time, has_gas_limit, has_coinbase, has_prevrandao, has_base_fee, has_blob_base_fee;
    bool has_difficulty, has_beacon_root, has_withdrawals;
    uint64_t number, time, gas_limit;
    u256 difficulty, base_fee, blob_base_fee;
    address coinbase;
    hash32 prevrandao, beacon_root;
    withdrawal *withdrawals;
    size_t n_withdrawals;
    bool unsupported; /* the failure is beaconRoot/withdrawals refused (geth: -32000) */
} block_overrides;

/* Parses `v`; `with_block_fields` accepts beaconRoot and withdrawals
 * (eth_simulateV1), otherwise they are refused as geth's eth_call does.
 * Free with block_overrides_free, also after a failure. */
bool block_overrides_parse(const json_t *v, bool with_block_fields, block_overrides *o, param_error *pe);
void block_overrides_free(block_overrides *o);

/* The state and block a call runs against. */
typedef struct {
    block_env env;   /* the head, with block overrides applied */
    enum fork fork;
    state_backend base;
    override_set overrides;
    state_backend backend; /* what executions read: the overrides over `base` */
} exec_env;

/* Reads the head, checks that `sel` names it, applies block overrides
 * (`block_ov`, argument `block_ov_arg`) and state overrides (`state_ov`,
 * argument `state_ov_arg`); either JSON may be NULL. `precompile_moves`
 * false refuses movePrecompileToAddress as geth's eth_createAccessList does. */
bool exec_env_open(rpc_ctx *ctx, const block_selector *sel, const json_t *state_ov, int state_ov_arg,
                   const json_t *block_ov, int block_ov_arg, bool precompile_moves, exec_env *ee, rpc_error *err);
void exec_env_close(exec_env *ee);
/* Reads the head and checks `sel` against it (no overrides). */
bool resolve_head(rpc_ctx *ctx, const block_selector *sel, block_env *head, enum fork *f, rpc_error *err);

/* geth's core.Message for a call. */
typedef struct {
    address from;
    bool has_to;
    address to;
    uint64_t gas;
    u256 value;
    const uint8_t *data;
    size_t data_len;
    u256 gas_price; /* the effective price (GASPRICE) */
    u256 fee_cap, tip_cap;
    const access_list_entry *access_list;
    size_t n_access_list;
    bool has_blob_hashes;
    const hash32 *blob_hashes;
    size_t n_blob_hashes;
    u256 blob_fee_cap;
    bool has_auths;
    const authorization *auths;
    size_t n_auths;
} call_msg;

/* CallDefaults + ToMessage: defaults, the gas cap, the fee fields. */
bool call_msg_build(const rpc_ctx *ctx, const exec_env *ee, const call_args *a, call_msg *m, rpc_error *err);

/* --- The methods' cores (params already parsed). */
json_t *exec_call(rpc_ctx *ctx, exec_env *ee, const call_args *a, rpc_error *err);
json_t *exec_estimate_gas(rpc_ctx *ctx, exec_env *ee, const call_args *a, rpc_error *err);
json_t *exec_create_access_list(rpc_ctx *ctx, exec_env *ee, call_args *a, rpc_error *err);

/* --- Pieces exposed for the unit tests. */
/* geth's abi.UnpackRevert: Error(string) and Panic(uint256) reasons.
 * Returns false when the data is neither; *reason is malloc'd. */
bool revert_reason(const uint8_t *data, size_t len, char **reason, size_t *reason_len);
/* Code 3 "execution reverted[: reason]" with the raw bytes as data. */
void revert_error(rpc_error *err, const uint8_t *data, size_t len);

#endif
