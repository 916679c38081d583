/* The JSON-RPC methods: argument decoding and the answers. Execution
 * (eth_call and friends) is in rpc_exec.c. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hexjson.h"
#include "base/keccak.h"
#include "rpc/rpc.h"
#include "rpc/methods_block.h"
#include "rpc/methods_state.h"
#include "rpc/methods_simulate.h"
#include "rpc/methods_trace.h"
#include "rpc/rpc_exec.h"
#include "rpc/rpc_params.h"

/* Argument i, or NULL when absent or JSON null (an omitted optional). */
static json_t *arg(json_t *params, size_t i)
{
    json_t *v = json_array_get(params, i);
    return v && !json_is_null(v) ? v : NULL;
}

static bool missing(rpc_error *err, size_t i)
{
    return rpc_fail(err, RPC_INVALID_PARAMS, "missing value for required argument %zu", i);
}

static bool bad_arg(rpc_error *err, size_t i, const param_error *pe)
{
    return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument %zu: %s", i, pe->msg);
}

static json_t *quantity(const u256 *v)
{
    char hex[HEX_U256_LEN];
    hex_from_u256(v, hex);
    return json_string(hex);
}

static json_t *quantity64(uint64_t v)
{
    u256 w = u256_from_u64(v);
    return quantity(&w);
}

/* The block argument at `i` (default "latest"). */
static bool block_arg(json_t *params, size_t i, block_selector *sel, rpc_error *err)
{
    json_t *v = arg(params, i);
    if (!v) {
        memset(sel, 0, sizeof *sel);
        sel->tag = BLOCK_LATEST;
        return true;
    }
    param_error pe;
    return p_block(v, sel, &pe) || bad_arg(err, i, &pe);
}

static bool address_arg(json_t *params, size_t i, address *a, rpc_error *err)
{
    json_t *v = arg(params, i);
    if (!v) return missing(err, i);
    param_error pe;
    return p_address(v, NULL, a, &pe) || bad_arg(err, i, &pe);
}

/* ------------------------------------------------ methods without state */

static json_t *m_chain_id(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)params, (void)err;
    u256 id = u256_from_u64(ctx->chain.chain_id);
    return rpc_result_quantity(ctx, &id);
}

static json_t *m_net_version(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)params, (void)err;
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, ctx->chain.chain_id);
    return json_string(s);
}

static json_t *m_client_version(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)ctx, (void)params, (void)err;
    return json_string("jitevm/v" JITEVM_VERSION "/linux-amd64/c11");
}

static json_t *m_sha3(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)ctx;
    json_t *v = arg(params, 0);
    if (!v) return missing(err, 0), NULL;
    bytebuf data = {0};
    param_error pe;
    if (!p_bytes(v, NULL, &data, &pe)) {
        bytebuf_free(&data);
        return bad_arg(err, 0, &pe), NULL;
    }
    hash32 h;
    keccak256(data.data, data.len, h.b);
    bytebuf_free(&data);
    char hex[HEX_HASH_LEN];
    hex_from_hash(&h, hex);
    return json_string(hex);
}

/* ------------------------------------------------------ head and fees */

static bool head(rpc_ctx *ctx, block_env *env, enum fork *f, rpc_error *err)
{
    block_selector latest = {.tag = BLOCK_LATEST};
    return resolve_head(ctx, &latest, env, f, err);
}

static json_t *m_block_number(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)params;
    block_env env;
    enum fork f;
    if (!head(ctx, &env, &f, err)) return NULL;
    return quantity64(env.number);
}

static json_t *m_gas_price(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)params;
    block_env env;
    enum fork f;
    if (!head(ctx, &env, &f, err)) return NULL;
    /* The suggested tip, plus the base fee where there is one. */
    u256 price = ctx->cfg->priority_fee;
    if (f >= FORK_LONDON) price = u256_add(&price, &env.base_fee);
    return quantity(&price);
}

static json_t *m_max_priority_fee(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)params, (void)err;
    return quantity(&ctx->cfg->priority_fee);
}

static json_t *m_blob_base_fee(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    (void)params;
    block_env env;
    enum fork f;
    if (!head(ctx, &env, &f, err)) return NULL;
    u256 fee = f >= FORK_CANCUN ? env.blob_base_fee : u256_zero();
    return quantity(&fee);
}

/* ------------------------------------------------------ account reads */

/* Decodes the address and block arguments and reads the account. */
static bool account_arg(rpc_ctx *ctx, json_t *params, size_t block_index, address *a, bool *exists,
                        account_info *info, rpc_error *err)
{
    block_selector sel;
    if (!address_arg(params, 0, a, err) || !block_arg(params, block_index, &sel, err)) return false;
    block_env env;
    enum fork f;
    if (!resolve_head(ctx, &sel, &env, &f, err)) return false;
    state_backend b = store_backend(ctx->conn);
    *exists = b.get_account(b.ctx, a, info);
    return true;
}

static json_t *m_get_balance(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    address a;
    account_info info;
    bool exists;
    if (!account_arg(ctx, params, 1, &a, &exists, &info, err)) return NULL;
    u256 zero = u256_zero();
    return rpc_result_quantity(ctx, exists ? &info.balance : &zero);
}

static json_t *m_get_transaction_count(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    address a;
    account_info info;
    bool exists;
    if (!account_arg(ctx, params, 1, &a, &exists, &info, err)) return NULL;
    return quantity64(exists ? info.nonce : 0);
}

static json_t *m_get_code(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    address a;
    account_info info;
    bool exists;
    if (!account_arg(ctx, params, 1, &a, &exists, &info, err)) return NULL;
    const uint8_t *code = NULL;
    size_t len = 0;
    state_backend b = store_backend(ctx->conn);
    if (!exists || !b.get_code(b.ctx, &info.code_hash, &code, &len)) len = 0;
    char *hex = hex_from_bytes(code, len);
    json_t *r = json_string(hex);
    free(hex);
    return r;
}

static json_t *m_get_storage_at(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    address a;
    block_selector sel;
    if (!address_arg(params, 0, &a, err)) return NULL;
    json_t *k = arg(params, 1);
    if (!k) return missing(err, 1), NULL;
    if (!json_is_string(k)) {
        rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 1: json: cannot unmarshal %s into Go value of type string",
                 json_kind_go(k));
        return NULL;
    }
    if (!block_arg(params, 2, &sel, err)) return NULL;
    block_env env;
    enum fork f;
    if (!resolve_head(ctx, &sel, &env, &f, err)) return NULL;
    u256 key, value;
    const char *why;
    if (!p_storage_key_text(json_string_value(k), &key, NULL, &why)) {
        /* geth quotes the key with %q; keys are printable here or refused. */
        json_t *quoted = json_string(json_string_value(k));
        char *q = json_dumps(quoted, JSON_ENCODE_ANY);
        rpc_fail(err, RPC_INVALID_PARAMS, "%s: %s", why, q);
        free(q);
        json_decref(quoted);
        return NULL;
    }
    state_backend b = store_backend(ctx->conn);
    b.get_storage(b.ctx, &a, &key, &value);
    hash32 h;
    u256_store_be(h.b, &value);
    char hex[HEX_HASH_LEN];
    hex_from_hash(&h, hex);
    return json_string(hex);
}

/* ------------------------------------------------------------ calls */

/* The transaction argument and the block: common to the call methods. */
static bool call_head_args(json_t *params, call_args *a, block_selector *sel, rpc_error *err)
{
    json_t *tx = arg(params, 0);
    if (!tx) return missing(err, 0);
    param_error pe;
    if (!p_call_args(tx, a, &pe)) return bad_arg(err, 0, &pe);
    return block_arg(params, 1, sel, err);
}

/* eth_call and eth_estimateGas: the same arguments (call object, block,
 * state overrides, block overrides), a different execution. */
static json_t *with_call_env(rpc_ctx *ctx, json_t *params, rpc_error *err,
                             json_t *(*run)(rpc_ctx *, exec_env *, const call_args *, rpc_error *))
{
    call_args a = {0};
    block_selector sel;
    exec_env ee;
    json_t *result = NULL;
    if (call_head_args(params, &a, &sel, err) &&
        exec_env_open(ctx, &sel, arg(params, 2), 2, arg(params, 3), 3, true, &ee, err)) {
        result = run(ctx, &ee, &a, err);
        exec_env_close(&ee);
    }
    call_args_free(&a);
    return result;
}

static json_t *m_call(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    return with_call_env(ctx, params, err, exec_call);
}

static json_t *m_estimate_gas(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    return with_call_env(ctx, params, err, exec_estimate_gas);
}

static json_t *m_create_access_list(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    call_args a = {0};
    block_selector sel;
    exec_env ee;
    json_t *result = NULL;
    if (call_head_args(params, &a, &sel, err) && exec_env_open(ctx, &sel, arg(params, 2), 2, NULL, 0, false, &ee, err)) {
        result = exec_create_access_list(ctx, &ee, &a, err);
        exec_env_close(&ee);
    }
    call_args_free(&a);
    return result;
}

/* ------------------------------------------------------ admin writes */

static bool written(bool ok, const store_error *se, rpc_error *err)
{
    if (!ok) return rpc_fail_store(err, se);
    rpc_note_write();
    return true;
}

static bool admin_set_balance(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    address a;
    u256 balance;
    param_error pe;
    if (!address_arg(params, 0, &a, err)) return false;
    json_t *v = arg(params, 1);
    if (!v) return missing(err, 1);
    if (!p_u256(v, NULL, &balance, &pe)) return bad_arg(err, 1, &pe);
    store_error se;
    return written(store_set_balance(ctx->conn, &a, &balance, &se), &se, err);
}

static bool admin_set_nonce(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    address a;
    uint64_t nonce;
    param_error pe;
    if (!address_arg(params, 0, &a, err)) return false;
    json_t *v = arg(params, 1);
    if (!v) return missing(err, 1);
    if (!p_u64(v, NULL, &nonce, &pe)) return bad_arg(err, 1, &pe);
    store_error se;
    return written(store_set_nonce(ctx->conn, &a, nonce, &se), &se, err);
}

static bool admin_set_code(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    address a;
    param_error pe;
    if (!address_arg(params, 0, &a, err)) return false;
    json_t *v = arg(params, 1);
    if (!v) return missing(err, 1);
    bytebuf code = {0};
    bool ok = p_bytes(v, NULL, &code, &pe) || bad_arg(err, 1, &pe);
    if (ok) {
        store_error se;
        ok = written(store_set_code(ctx->conn, &a, code.data, code.len, &se), &se, err);
    }
    bytebuf_free(&code);
    return ok;
}

static bool admin_set_storage(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    address a;
    param_error pe;
    if (!address_arg(params, 0, &a, err)) return false;
    json_t *k = arg(params, 1), *v = arg(params, 2);
    if (!k) return missing(err, 1);
    /* The slot as a quantity or a 32-byte word (leading zeros allowed:
     * slots are often hashes). */
    u256 key;
    const char *why;
    const char *ks = json_is_string(k) ? json_string_value(k) : "";
    if (!(ks[0] == '0' && (ks[1] == 'x' || ks[1] == 'X')) || !ks[2] || !p_storage_key_text(ks, &key, NULL, &why))
        return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 1: expected a storage slot (a quantity or 32 bytes of hex)");
    if (!v) return missing(err, 2);
    hash32 value;
    if (!p_hash(v, NULL, &value, &pe)) return bad_arg(err, 2, &pe);
    u256 value_w = u256_load_be(value.b);
    store_error se;
    return written(store_set_storage(ctx->conn, &a, &key, &value_w, &se), &se, err);
}

/* jitevm_setBlock: changes fields of the head block context. */
static bool admin_set_block(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    json_t *v = arg(params, 0);
    if (!v) return missing(err, 0);
    param_error pe;
    if (!json_is_object(v)) {
        perr_set(&pe, "json: cannot unmarshal %s into Go value of type jitevm.BlockContext", json_kind_go(v));
        return bad_arg(err, 0, &pe);
    }
    block_env env;
    enum fork f;
    if (!head(ctx, &env, &f, err)) return false;
    hash32 hash, parent;
    bool has_hash = false, has_parent = false;
    const char *key;
    json_t *m;
    json_object_foreach(v, key, m) {
        field_ctx where = {"BlockContext", key};
        bool ok;
        if (strcmp(key, "number") == 0) ok = p_u64(m, &where, &env.number, &pe);
        else if (strcmp(key, "hash") == 0) ok = has_hash = p_hash(m, &where, &hash, &pe);
        else if (strcmp(key, "parentHash") == 0) ok = has_parent = p_hash(m, &where, &parent, &pe);
        else if (strcmp(key, "timestamp") == 0 || strcmp(key, "time") == 0) ok = p_u64(m, &where, &env.timestamp, &pe);
        else if (strcmp(key, "gasLimit") == 0) ok = p_u64(m, &where, &env.gas_limit, &pe);
        else if (strcmp(key, "coinbase") == 0 || strcmp(key, "feeRecipient") == 0) ok = p_address(m, &where, &env.coinbase, &pe);
        else if (strcmp(key, "baseFeePerGas") == 0) ok = p_u256(m, &where, &env.base_fee, &pe);
        else if (strcmp(key, "prevRandao") == 0) ok = p_hash(m, &where, &env.prevrandao, &pe);
        else if (strcmp(key, "difficulty") == 0) ok = p_u256(m, &where, &env.difficulty, &pe);
        else if (strcmp(key, "excessBlobGas") == 0) ok = p_u64(m, &where, &env.excess_blob_gas, &pe);
        else ok = perr_set(&pe, "json: unknown field \"%s\"", key);
        if (!ok) return bad_arg(err, 0, &pe);
    }
    if (has_parent && env.number == 0) return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 0: block 0 has no parent");
    /* The blob fields follow from excessBlobGas and the fork's schedule
     * when the head is read back; a new number drops the old head's hash
     * unless this call names the new one (store_set_head_block). */
    store_error se;
    return written(store_set_head_block(ctx->conn, &env, has_hash ? &hash : NULL, has_parent ? &parent : NULL, &se),
                   &se, err);
}

/* anvil answers null to the setters but true to setStorageAt; hardhat
 * answers true to all. */
#define ADMIN_METHOD(name, fn, anvil_result)                                   \
    static json_t *m_anvil_##name(rpc_ctx *ctx, json_t *params, rpc_error *err) \
    {                                                                            \
        return fn(ctx, params, err) ? (anvil_result) : NULL;                     \
    }                                                                            \
    static json_t *m_hardhat_##name(rpc_ctx *ctx, json_t *params, rpc_error *err) \
    {                                                                            \
        return fn(ctx, params, err) ? json_true() : NULL;                        \
    }
ADMIN_METHOD(set_balance, admin_set_balance, json_null())
ADMIN_METHOD(set_nonce, admin_set_nonce, json_null())
ADMIN_METHOD(set_code, admin_set_code, json_null())
ADMIN_METHOD(set_storage, admin_set_storage, json_true())
#undef ADMIN_METHOD

static json_t *m_set_block(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    return admin_set_block(ctx, params, err) ? json_true() : NULL;
}

/* ------------------------------------------------------------ the table */

const rpc_method rpc_methods[] = {
    {"eth_chainId", m_chain_id, RPC_INLINE, 0},
    {"net_version", m_net_version, RPC_INLINE, 0},
    {"web3_clientVersion", m_client_version, RPC_INLINE, 0},
    {"web3_sha3", m_sha3, RPC_INLINE, 1},
    {"eth_maxPriorityFeePerGas", m_max_priority_fee, RPC_INLINE, 0},
    {"eth_blockNumber", m_block_number, 0, 0},
    {"eth_gasPrice", m_gas_price, 0, 0},
    {"eth_blobBaseFee", m_blob_base_fee, 0, 0},
    {"eth_getBalance", m_get_balance, 0, 2},
    {"eth_getCode", m_get_code, 0, 2},
    {"eth_getStorageAt", m_get_storage_at, 0, 3},
    {"eth_getTransactionCount", m_get_transaction_count, RPC_FORWARD, 2}, /* live: "pending" is the upstream's pool */
    {"eth_call", m_call, 0, 4},
    {"eth_estimateGas", m_estimate_gas, 0, 4},
    {"eth_createAccessList", m_create_access_list, 0, 3},
    {"eth_getProof", m_get_proof, 0, 3},
    {"eth_getStorageValues", m_get_storage_values, 0, 2},
    {"eth_config", m_config, 0, 0},
    /* The head as a block, fees, the node, and history refused (methods_block.c). */
    {"eth_getBlockByNumber", m_get_block_by_number, RPC_FORWARD, 2},
    {"eth_getBlockByHash", m_get_block_by_hash, RPC_FORWARD, 2},
    {"eth_feeHistory", m_fee_history, RPC_FORWARD, 3},
    {"eth_syncing", m_syncing, RPC_INLINE, 0},
    {"eth_accounts", m_accounts, RPC_INLINE, 0},
    {"eth_getTransactionByHash", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_getTransactionByBlockHashAndIndex", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"eth_getTransactionByBlockNumberAndIndex", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"eth_getTransactionReceipt", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_getBlockReceipts", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_getBlockTransactionCountByHash", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_getBlockTransactionCountByNumber", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_getUncleByBlockHashAndIndex", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"eth_getUncleByBlockNumberAndIndex", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"eth_getUncleCountByBlockHash", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_getUncleCountByBlockNumber", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_getLogs", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_newFilter", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_newBlockFilter", m_history, RPC_INLINE | RPC_FORWARD, 0},
    {"eth_newPendingTransactionFilter", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_getFilterChanges", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_getFilterLogs", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_uninstallFilter", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_sendRawTransaction", m_send, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_sendRawTransactionSync", m_send, RPC_INLINE | RPC_FORWARD, 2}, /* EIP-7966 */
    /* History a node serves beyond the eth namespace: traces of mined
     * transactions and blocks, raw encodings, the transaction pool. Read
     * only; the upstream's other namespaces (admin, miner, personal,
     * anvil, evm, engine) are never passed on. */
    {"eth_getRawTransactionByHash", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"eth_getRawTransactionByBlockHashAndIndex", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"eth_getRawTransactionByBlockNumberAndIndex", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"debug_traceTransaction", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"debug_traceBlockByNumber", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"debug_traceBlockByHash", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"debug_getRawTransaction", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"debug_getRawReceipts", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"debug_getRawBlock", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"debug_getRawHeader", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"trace_transaction", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"trace_block", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"trace_filter", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"trace_get", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"trace_replayTransaction", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"trace_replayBlockTransactions", m_history, RPC_INLINE | RPC_FORWARD, 2},
    {"txpool_status", m_history, RPC_INLINE | RPC_FORWARD, 0},
    {"txpool_content", m_history, RPC_INLINE | RPC_FORWARD, 0},
    {"txpool_contentFrom", m_history, RPC_INLINE | RPC_FORWARD, 1},
    {"txpool_inspect", m_history, RPC_INLINE | RPC_FORWARD, 0},
    {"debug_traceCall", m_trace_call, 0, 3},
    {"eth_simulateV1", m_simulate_v1, 0, 2},
    {"anvil_setBalance", m_anvil_set_balance, RPC_ADMIN, 2},
    {"anvil_setNonce", m_anvil_set_nonce, RPC_ADMIN, 2},
    {"anvil_setCode", m_anvil_set_code, RPC_ADMIN, 2},
    {"anvil_setStorageAt", m_anvil_set_storage, RPC_ADMIN, 3},
    {"hardhat_setBalance", m_hardhat_set_balance, RPC_ADMIN, 2},
    {"hardhat_setNonce", m_hardhat_set_nonce, RPC_ADMIN, 2},
    {"hardhat_setCode", m_hardhat_set_code, RPC_ADMIN, 2},
    {"hardhat_setStorageAt", m_hardhat_set_storage, RPC_ADMIN, 3},
    {"jitevm_setBlock", m_set_block, RPC_ADMIN, 1},
};
const size_t rpc_n_methods = sizeof rpc_methods / sizeof rpc_methods[0];

/* Every request looks its method up several times (to route it, to check
 * it, to run it): a hash table instead of a scan of the names. */
#define METHOD_SLOTS 128
_Static_assert(sizeof rpc_methods / sizeof rpc_methods[0] <= METHOD_SLOTS * 3 / 4, "the method table outgrew its hash slots");
static const rpc_method *method_slots[METHOD_SLOTS];
static pthread_once_t method_slots_once = PTHREAD_ONCE_INIT;

static uint32_t method_hash(const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *name; name++) h = (h ^ (uint8_t)*name) * 16777619u;
    return h;
}

static void method_slots_fill(void)
{
    for (size_t i = 0; i < rpc_n_methods; i++) {
        uint32_t k = method_hash(rpc_methods[i].name) % METHOD_SLOTS;
        while (method_slots[k]) k = (k + 1) % METHOD_SLOTS;
        method_slots[k] = &rpc_methods[i];
    }
}

const rpc_method *rpc_find_method(const char *name)
{
    pthread_once(&method_slots_once, method_slots_fill);
    for (uint32_t k = method_hash(name) % METHOD_SLOTS; method_slots[k]; k = (k + 1) % METHOD_SLOTS)
        if (strcmp(method_slots[k]->name, name) == 0) return method_slots[k];
    return NULL;
}

const char *const *rpc_method_names(void)
{
    static const char *names[sizeof rpc_methods / sizeof rpc_methods[0]];
    for (size_t i = 0; i < rpc_n_methods; i++) names[i] = rpc_methods[i].name;
    return names;
}
