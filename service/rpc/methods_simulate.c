/* eth_simulateV1 (ethereum/execution-apis, src/eth/execute.yaml), with
 * geth's behaviour: the parameters are read and checked, the chain of
 * simulated blocks is laid out (numbers and timestamps, gaps filled with
 * empty blocks 12 seconds apart), then each block runs in the core
 * (vm/block.h: system calls, transactions with the block's cumulative gas,
 * withdrawals) on one state that carries every change to the next block,
 * and the answer is written as geth writes it.
 *
 * What this file owns: parsing, the chain's layout, turning call arguments
 * into transactions (geth's sanitizeCall/CallDefaults), the error codes of
 * the spec's table, and the JSON. It executes nothing itself.
 *
 * Limits (geth's): at most SIMULATE_MAX_BLOCKS blocks past the head,
 * SIMULATE_MAX_CALLS_PER_BLOCK calls in a block and SIMULATE_MAX_CALLS in
 * all; the RPC gas cap is one budget for the whole request (each call's gas
 * is clamped to what is left, and takes what it used); the call timeout
 * covers the whole request.
 *
 * stateRoot is the stored state trie with the simulation's changes so far
 * applied in memory (store_state_root_after), so block hashes are geth's.
 * What is not as geth: in live mode stateRoot is zero (the database holds a
 * cache, not the state), and so are the block hashes built on it (the
 * head's hash is eth_getBlockByNumber's); the head's gasUsed, which the first block's
 * base fee under validation follows from, is known when the head came from
 * a node (imported or followed), else taken as 0. EIP-6110 deposits are
 * read from the logs of the deposit contract of the public network with
 * the chain's id (zero for any other chain, as geth's dev chain has it: a
 * genesis file's depositContractAddress is not kept in the database). */
#include "rpc/methods_simulate.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/format.h"
#include "base/keccak.h"
#include "base/params.h"
#include "base/rlp.h"
#include "base/trie.h"
#include "chains.h"
#include "hexjson.h"
#include "rpc/exec_run.h"
#include "rpc/json_values.h"
#include "rpc/methods_block.h"
#include "rpc/rpc_json.h"
#include "rpc/trace_tracers.h"
#include "vm/block.h"

enum {
    SIMULATE_MAX_BLOCKS = 256,
    SIMULATE_MAX_CALLS_PER_BLOCK = 5000,
    SIMULATE_MAX_CALLS = 10000,
    SIMULATE_TIMESTAMP_INCREMENT = 12,
    /* The spec's error table. */
    SIM_ERR_NONCE_TOO_LOW = -38010,
    SIM_ERR_NONCE_TOO_HIGH = -38011,
    SIM_ERR_BASE_FEE_TOO_LOW = -38012,
    SIM_ERR_INTRINSIC_GAS = -38013,
    SIM_ERR_INSUFFICIENT_FUNDS = -38014,
    SIM_ERR_BLOCK_GAS_LIMIT = -38015,
    SIM_ERR_BLOCK_NUMBER_ORDER = -38020,
    SIM_ERR_TIMESTAMP_ORDER = -38021,
    SIM_ERR_SENDER_NOT_EOA = -38024,
    SIM_ERR_INITCODE_SIZE = -38025,
    SIM_ERR_CLIENT_LIMIT = -38026,
    SIM_ERR_VM = -32015,
    SIM_ERR_TIMEOUT = -32016,
};

/* ------------------------------------------------------------ parameters */

typedef struct {
    block_overrides ov;
    bool has_state;
    override_set state;
    call_args *calls;
    size_t n_calls;
} sim_block;

typedef struct {
    sim_block *blocks;
    size_t n_blocks;
    bool trace_transfers, validation, full_tx;
} sim_opts;

static void sim_opts_free(sim_opts *o)
{
    for (size_t i = 0; i < o->n_blocks; i++) {
        sim_block *b = &o->blocks[i];
        block_overrides_free(&b->ov);
        if (b->has_state) override_free(&b->state);
        for (size_t k = 0; k < b->n_calls; k++) call_args_free(&b->calls[k]);
        free(b->calls);
    }
    free(o->blocks);
    memset(o, 0, sizeof *o);
}

static bool bad_payload(rpc_error *err, const param_error *pe)
{
    return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 0: %s", pe->msg);
}

static bool parse_block(const json_t *v, sim_block *b, param_error *pe)
{
    if (!json_is_object(v))
        return perr_set(pe, "json: cannot unmarshal %s into Go struct field simOpts.blockStateCalls of type ethapi.simBlock",
                        json_kind_go(v));
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m) {
        if (json_is_null(m)) continue;
        if (strcmp(key, "blockOverrides") == 0) {
            if (!block_overrides_parse(m, true, &b->ov, pe)) return false;
        } else if (strcmp(key, "stateOverrides") == 0) {
            b->has_state = true;
            if (!override_parse(m, &b->state, pe)) return false;
        } else if (strcmp(key, "calls") == 0) {
            if (!json_is_array(m))
                return perr_set(pe, "json: cannot unmarshal %s into Go struct field simBlock.blockStateCalls.calls of type []ethapi.TransactionArgs",
                                json_kind_go(m));
            b->n_calls = json_array_size(m);
            b->calls = xcalloc(b->n_calls ? b->n_calls : 1, sizeof *b->calls);
            size_t i;
            json_t *c;
            json_array_foreach(m, i, c) if (!p_call_args(c, &b->calls[i], pe)) return false;
        }
        /* Other members: ignored, as Go's decoder does for simBlock. */
    }
    return true;
}

static bool parse_flag(const json_t *v, const char *name, bool *out, param_error *pe)
{
    if (!v || json_is_null(v)) return true;
    if (!json_is_boolean(v))
        return perr_set(pe, "json: cannot unmarshal %s into Go struct field simOpts.%s of type bool", json_kind_go(v), name);
    *out = json_is_true(v);
    return true;
}

static bool parse_opts(const json_t *v, sim_opts *o, rpc_error *err)
{
    param_error pe;
    if (!json_is_object(v)) {
        perr_set(&pe, "json: cannot unmarshal %s into Go value of type ethapi.simOpts", json_kind_go(v));
        return bad_payload(err, &pe);
    }
    const json_t *calls = json_object_get(v, "blockStateCalls");
    if (!parse_flag(json_object_get(v, "traceTransfers"), "traceTransfers", &o->trace_transfers, &pe) ||
        !parse_flag(json_object_get(v, "validation"), "validation", &o->validation, &pe) ||
        !parse_flag(json_object_get(v, "returnFullTransactions"), "returnFullTransactions", &o->full_tx, &pe))
        return bad_payload(err, &pe);
    if (calls && !json_is_null(calls) && !json_is_array(calls)) {
        perr_set(&pe, "json: cannot unmarshal %s into Go struct field simOpts.blockStateCalls of type []ethapi.simBlock",
                 json_kind_go(calls));
        return bad_payload(err, &pe);
    }
    size_t n = calls ? json_array_size(calls) : 0;
    if (n == 0) return rpc_fail(err, RPC_INVALID_PARAMS, "empty input");
    if (n > SIMULATE_MAX_BLOCKS) return rpc_fail(err, SIM_ERR_CLIENT_LIMIT, "too many blocks");
    o->blocks = xcalloc(n, sizeof *o->blocks);
    o->n_blocks = n;
    for (size_t i = 0; i < o->n_blocks; i++)
        if (!parse_block(json_array_get(calls, i), &o->blocks[i], &pe)) return bad_payload(err, &pe);
    size_t total = 0;
    for (size_t i = 0; i < o->n_blocks; i++) {
        if (o->blocks[i].n_calls > SIMULATE_MAX_CALLS_PER_BLOCK)
            return rpc_fail(err, SIM_ERR_CLIENT_LIMIT, "too many calls in block: %zu > %d", o->blocks[i].n_calls,
                            SIMULATE_MAX_CALLS_PER_BLOCK);
        total += o->blocks[i].n_calls;
        if (total > SIMULATE_MAX_CALLS)
            return rpc_fail(err, SIM_ERR_CLIENT_LIMIT, "too many calls: %zu > %d", total, SIMULATE_MAX_CALLS);
    }
    return true;
}

/* ------------------------------------------------------ the chain's layout */

/* One block to run: a requested one, or an empty one filling a gap. */
typedef struct {
    sim_block *src; /* NULL: a filler */
    uint64_t number, time;
} planned_block;

/* geth's sanitizeChain: numbers strictly increase (a missing one is the
 * previous plus one), at most SIMULATE_MAX_BLOCKS past the head, gaps are
 * filled; timestamps strictly increase (a missing one is the previous plus
 * 12). */
static bool plan_chain(const sim_opts *o, const block_env *head, planned_block **out, size_t *n_out, rpc_error *err)
{
    size_t cap = 16, n = 0;
    planned_block *plan = xcalloc(cap, sizeof *plan);
    uint64_t prev_number = head->number, prev_time = head->timestamp;
    for (size_t i = 0; i < o->n_blocks; i++) {
        const block_overrides *ov = &o->blocks[i].ov;
        uint64_t number = ov->has_number ? ov->number : prev_number + 1;
        if (number <= prev_number) {
            free(plan);
            return rpc_fail(err, SIM_ERR_BLOCK_NUMBER_ORDER, "block numbers must be in order: %" PRIu64 " <= %" PRIu64,
                            number, prev_number);
        }
        if (number - head->number > SIMULATE_MAX_BLOCKS) {
            free(plan);
            return rpc_fail(err, SIM_ERR_CLIENT_LIMIT, "too many blocks");
        }
        for (uint64_t fill = prev_number + 1; fill <= number; fill++) {
            if (n == cap) plan = xrealloc(plan, (cap *= 2) * sizeof *plan);
            if (fill < number) {
                prev_time += SIMULATE_TIMESTAMP_INCREMENT;
                plan[n++] = (planned_block){NULL, fill, prev_time};
                continue;
            }
            uint64_t t = prev_time + SIMULATE_TIMESTAMP_INCREMENT;
            if (ov->has_time) {
                t = ov->time;
                if (t <= prev_time) {
                    free(plan);
                    return rpc_fail(err, SIM_ERR_TIMESTAMP_ORDER,
                                    "block timestamps must be in order: %" PRIu64 " <= %" PRIu64, t, prev_time);
                }
            }
            prev_time = t;
            plan[n++] = (planned_block){&o->blocks[i], number, t};
        }
        prev_number = number;
    }
    *out = plan;
    *n_out = n;
    return true;
}

/* ------------------------------------------- BLOCKHASH of simulated blocks */

/* The store's backend, but the hashes of the blocks simulated so far for
 * numbers past the head (geth's simulated chain context). */
typedef struct {
    const state_backend *base;
    uint64_t head_number;
    const hash32 *hashes; /* hashes[i]: block head_number + 1 + i */
    size_t n;
} sim_chain;

static bool sc_get_account(void *ctx, const address *a, account_info *out)
{
    const sim_chain *c = ctx;
    return c->base->get_account(c->base->ctx, a, out);
}
static bool sc_get_code(void *ctx, const hash32 *h, const uint8_t **code, size_t *len)
{
    const sim_chain *c = ctx;
    return c->base->get_code(c->base->ctx, h, code, len);
}
static void sc_get_storage(void *ctx, const address *a, const u256 *key, u256 *out)
{
    const sim_chain *c = ctx;
    c->base->get_storage(c->base->ctx, a, key, out);
}
static bool sc_get_block_hash(void *ctx, uint64_t number, hash32 *out)
{
    const sim_chain *c = ctx;
    if (number <= c->head_number) return c->base->get_block_hash(c->base->ctx, number, out);
    uint64_t i = number - c->head_number - 1;
    if (i >= c->n) return false;
    *out = c->hashes[i];
    return true;
}
static bool sc_has_storage(void *ctx, const address *a)
{
    const sim_chain *c = ctx;
    return c->base->has_storage && c->base->has_storage(c->base->ctx, a);
}

/* ------------------------------------------------------------ the output */

/* The answer is written as JSON text as it is made (json_values.h's jt_*):
 * a jansson tree of a block of ten calls cost more to build, encode and
 * free than running them. */

static void write_log(bytebuf *out, const log_entry *l, size_t index, const hash32 *block_hash, uint64_t number,
                      uint64_t time, const hash32 *tx_hash, size_t tx_index)
{
    jt_open(out, NULL, '{');
    jt_address(out, "address", &l->addr);
    jt_open(out, "topics", '[');
    for (unsigned t = 0; t < l->n_topics; t++) jt_hash(out, NULL, &l->topics[t]);
    jt_close(out, ']');
    jt_data(out, "data", l->data, l->data_len);
    jt_u64(out, "blockNumber", number);
    jt_hash(out, "transactionHash", tx_hash);
    jt_u64(out, "transactionIndex", tx_index);
    jt_hash(out, "blockHash", block_hash);
    jt_u64(out, "blockTimestamp", time);
    jt_u64(out, "logIndex", index);
    jt_literal(out, "removed", "false");
    jt_close(out, '}');
}

/* A call's failure as geth reports it inside the result: code 3 with the
 * revert data, or -32015 and the VM error in geth's words (`vm_text`),
 * marked when the RPC gas cap had lowered the call's gas. */
static json_t *call_error_json(const tx_result *res, const char *vm_text, bool gas_capped)
{
    json_t *o = json_object();
    if (res->status == EXEC_REVERT) {
        rpc_error e = {0};
        revert_error(&e, res->output, res->output_len);
        json_object_set_new(o, "code", json_integer(e.code));
        json_object_set_new(o, "message", rpc_message_json(e.message, e.message_len));
        if (e.data) json_object_set_new(o, "data", json_string(e.data));
        rpc_error_clear(&e);
    } else {
        json_object_set_new(o, "code", json_integer(SIM_ERR_VM));
        char *text = str_printf(NULL, "%s%s", vm_text,
                                gas_capped ? " (gas limit was capped by the RPC server's global gas cap)" : "");
        json_object_set_new(o, "message", json_string(text));
        free(text);
    }
    return o;
}

/* What a block's answer needs of each of its transactions. */
typedef struct {
    transaction tx;
    address from;
    hash32 hash;
    bytebuf encoding;
    /* The call's result (its logs are the receipt's). */
    bool success;
    bytebuf return_data; /* empty when the call failed (a revert's data is in its error) */
    uint64_t gas_used, max_used_gas;
    json_t *error; /* NULL when it succeeded */
} sim_tx;

static void write_tx(bytebuf *out, const sim_tx *t, size_t index, const hash32 *block_hash, const block_env *env,
                     const u256 *chain_id)
{
    const transaction *tx = &t->tx;
    jt_open(out, NULL, '{');
    jt_hash(out, "blockHash", block_hash);
    jt_u64(out, "blockNumber", env->number);
    jt_u64(out, "blockTimestamp", env->timestamp);
    jt_address(out, "from", &t->from);
    jt_quantity(out, "gas", &tx->gas_limit);
    u256 price = tx->gas_price;
    if (tx->type >= 2) {
        /* The effective price: the tip over the base fee, up to the cap. */
        price = u256_add(&tx->max_priority_fee_per_gas, &env->base_fee);
        if (u256_lt(&tx->max_fee_per_gas, &price)) price = tx->max_fee_per_gas;
        jt_quantity(out, "maxFeePerGas", &tx->max_fee_per_gas);
        jt_quantity(out, "maxPriorityFeePerGas", &tx->max_priority_fee_per_gas);
    }
    jt_quantity(out, "gasPrice", &price);
    jt_hash(out, "hash", &t->hash);
    jt_data(out, "input", tx->data, tx->data_len);
    jt_quantity(out, "nonce", &tx->nonce);
    if (tx->has_to) jt_address(out, "to", &tx->to);
    else jt_literal(out, "to", "null");
    jt_u64(out, "transactionIndex", index);
    jt_quantity(out, "value", &tx->value);
    jt_u64(out, "type", (uint64_t)tx->type);
    if (tx->type > 0) {
        jt_open(out, "accessList", '[');
        for (size_t i = 0; i < tx->n_access_list; i++) {
            jt_open(out, NULL, '{');
            jt_address(out, "address", &tx->access_list[i].addr);
            jt_open(out, "storageKeys", '[');
            for (size_t k = 0; k < tx->access_list[i].n_keys; k++) jt_hash(out, NULL, &tx->access_list[i].keys[k]);
            jt_close(out, ']');
            jt_close(out, '}');
        }
        jt_close(out, ']');
        jt_quantity(out, "chainId", chain_id);
    }
    if (tx->type == 3) {
        jt_quantity(out, "maxFeePerBlobGas", &tx->max_fee_per_blob_gas);
        jt_open(out, "blobVersionedHashes", '[');
        for (size_t i = 0; i < tx->n_blob_hashes; i++) jt_hash(out, NULL, &tx->blob_hashes[i]);
        jt_close(out, ']');
    }
    if (tx->type == 4) {
        jt_open(out, "authorizationList", '[');
        for (size_t i = 0; i < tx->n_authorizations; i++) {
            const authorization *a = &tx->authorizations[i];
            jt_open(out, NULL, '{');
            jt_quantity(out, "chainId", &a->chain_id);
            jt_address(out, "address", &a->addr);
            jt_quantity(out, "nonce", &a->nonce);
            jt_quantity(out, "yParity", &a->y_parity);
            jt_quantity(out, "r", &a->r);
            jt_quantity(out, "s", &a->s);
            jt_close(out, '}');
        }
        jt_close(out, ']');
    }
    jt_literal(out, "v", "\"0x0\"");
    jt_literal(out, "r", "\"0x0\"");
    jt_literal(out, "s", "\"0x0\"");
    if (tx->type > 0) jt_literal(out, "yParity", "\"0x0\"");
    jt_close(out, '}');
}

/* One entry of the block's "calls": the call's result and its logs. */
static bool write_call(bytebuf *out, const sim_tx *t, size_t index, const block_receipt *r, size_t first_log_seq,
                       const hash32 *block_hash, const block_env *env)
{
    jt_open(out, NULL, '{');
    jt_data(out, "returnData", t->return_data.data, t->return_data.len);
    jt_open(out, "logs", '[');
    for (size_t k = 0; k < r->n_logs; k++)
        write_log(out, &r->logs[k], r->logs[k].seq - first_log_seq, block_hash, env->number, env->timestamp, &t->hash,
                  index);
    jt_close(out, ']');
    jt_u64(out, "gasUsed", t->gas_used);
    jt_u64(out, "maxUsedGas", t->max_used_gas);
    jt_u64(out, "status", t->success ? 1 : 0);
    bool ok = !t->error || jt_value(out, "error", t->error);
    jt_close(out, '}');
    return ok;
}

/* ------------------------------------------------------------- the run */

typedef struct {
    rpc_ctx *ctx;
    const sim_opts *opts;
    state *st;
    uint64_t gas_pool; /* what is left of the RPC gas cap */
    u256 chain_id;
    /* EIP-6110's deposit contract, once a block needed it. */
    bool has_deposit_contract;
    address deposit_contract;
    transfer_logger *transfers;
    tracer transfer_tracer;
} simulation;

/* Looks up EIP-6110's deposit contract when a block first needs it: a
 * Prague block with logs (one without any has no deposits, whichever the
 * contract; reading the genesis row cost a tenth of a block of ten calls).
 * The one init kept (a genesis file's depositContractAddress, a public
 * network's), else a public network's by chain id (a database made before
 * 008), else zero (geth's default). */
static bool deposit_contract_known(simulation *s, const block_run *run, rpc_error *err)
{
    if (s->has_deposit_contract) return true;
    bool logs = false;
    for (size_t i = 0; i < run->n_receipts && !logs; i++) logs = run->receipts[i].n_logs > 0;
    if (!logs) return true;
    store_genesis gen;
    bool has_gen = false;
    store_error se;
    if (!store_get_genesis(s->ctx->conn, &gen, &has_gen, &se))
        return rpc_fail(err, RPC_SERVER_ERROR, "database error: %s", se.msg);
    const char *network = chain_builtin_by_chain_id(s->ctx->chain.chain_id);
    chain_spec spec;
    if (has_gen) s->deposit_contract = gen.deposit_contract;
    else if (network && chain_builtin(network, &spec) && spec.deposit_contract)
        hex_parse_fixed(spec.deposit_contract, strlen(spec.deposit_contract), 0, s->deposit_contract.b, 20, NULL);
    s->has_deposit_contract = true;
    return true;
}

/* A rule a transaction broke, as the spec's error table codes it, in
 * geth's words ("err: <reason> (supplied gas N)"). */
static bool tx_rejected(simulation *s, const block_run *run, const call_msg *m, const transaction *tx,
                        enum tx_error rule, rpc_error *err)
{
    char from[43], reason[600];
    address_checksum(&m->from, from);
    int code = RPC_INTERNAL_ERROR;
    tx_violation v = {.rule = rule};
    block_env env = run->env;
    switch (rule) {
    case TX_NONCE_MISMATCH_TOO_LOW:
    case TX_NONCE_MISMATCH_TOO_HIGH:
        code = rule == TX_NONCE_MISMATCH_TOO_LOW ? SIM_ERR_NONCE_TOO_LOW : SIM_ERR_NONCE_TOO_HIGH;
        snprintf(reason, sizeof reason, "nonce too %s: address %s, tx: %" PRIu64 " state: %" PRIu64,
                 rule == TX_NONCE_MISMATCH_TOO_LOW ? "low" : "high", from, tx->nonce.w[0],
                 state_get_nonce(s->st, &m->from));
        return rpc_fail(err, code, "err: %s (supplied gas %" PRIu64 ")", reason, tx->gas_limit.w[0]);
    case TX_NONCE_IS_MAX:
        return rpc_fail(err, RPC_INTERNAL_ERROR, "err: nonce has max value: address %s, nonce: %" PRIu64 " (supplied gas %" PRIu64 ")",
                        from, tx->nonce.w[0], tx->gas_limit.w[0]);
    case TX_GAS_ALLOWANCE_EXCEEDED:
        return rpc_fail(err, SIM_ERR_BLOCK_GAS_LIMIT, "block gas limit reached: remaining: %" PRIu64 ", required: %" PRIu64,
                        run->env.gas_limit - run->gas_used, tx->gas_limit.w[0]);
    case TX_INSUFFICIENT_MAX_FEE_PER_GAS:
        code = SIM_ERR_BASE_FEE_TOO_LOW;
        tx_check_fee_caps(tx, &env.base_fee, run->fork, &v);
        break;
    case TX_PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS:
        code = RPC_INVALID_PARAMS;
        tx_check_fee_caps(tx, &env.base_fee, run->fork, &v);
        break;
    case TX_INTRINSIC_GAS_TOO_LOW:
    case TX_INTRINSIC_GAS_BELOW_FLOOR_GAS_COST:
        code = SIM_ERR_INTRINSIC_GAS;
        tx_check_gas(tx, run->fork, &v);
        break;
    case TX_INSUFFICIENT_ACCOUNT_FUNDS: {
        code = SIM_ERR_INSUFFICIENT_FUNDS;
        u256 balance = state_get_balance(s->st, &m->from);
        tx_check_funds(tx, &balance, &v);
        break;
    }
    case TX_SENDER_NOT_EOA: code = SIM_ERR_SENDER_NOT_EOA; break;
    case TX_INITCODE_SIZE_EXCEEDED:
        code = SIM_ERR_INITCODE_SIZE;
        tx_check_initcode(tx, run->fork, &v);
        break;
    default: break;
    }
    if (v.rule == TX_OK) v.rule = rule; /* the check passes here: keep the core's verdict */
    run_result r = {0};
    invalid_tx(&r, m, &v);
    rpc_fail(err, code, "err: %s (supplied gas %" PRIu64 ")", r.invalid, tx->gas_limit.w[0]);
    run_result_free(&r);
    return false;
}

/* Applies a block's state overrides to the simulation's state; they are
 * then the block's pre-state. */
static bool apply_state_overrides(simulation *s, sim_block *b, enum fork f, rpc_error *err)
{
    if (!b->has_state) return true;
    char msg[256];
    if (!override_validate(&b->state, f, msg, sizeof msg)) return rpc_fail(err, RPC_SERVER_ERROR, "%s", msg);
    for (size_t i = 0; i < b->state.n; i++) {
        const override_account *acc = &b->state.accounts[i];
        /* A move alone changes no account. */
        if (acc->has_nonce || acc->has_balance || acc->has_code || acc->storage != OVERRIDE_STORAGE_NONE)
            state_create_account(s->st, &acc->addr);
        if (acc->has_nonce) state_set_nonce(s->st, &acc->addr, acc->nonce);
        if (acc->has_balance) state_set_balance(s->st, &acc->addr, &acc->balance);
        if (acc->has_code) state_set_code(s->st, &acc->addr, acc->code.data, acc->code.len);
        if (acc->storage == OVERRIDE_STORAGE_REPLACE) state_wipe_storage(s->st, &acc->addr);
        for (size_t k = 0; k < acc->n_slots; k++)
            state_set_storage(s->st, &acc->addr, &acc->slots[k].key, &acc->slots[k].value);
    }
    state_finalize_tx(s->st, f);
    return true;
}

/* The next block's context: what geth's makeHeaders and processBlock take
 * from the overrides, the parent, and (base fee, excess blob gas) the
 * parent's use. */
static void block_context(const simulation *s, const planned_block *p, const block_env *parent, enum fork parent_fork,
                          uint64_t parent_gas_used, uint64_t parent_blob_gas_used, block_env *env, enum fork *f)
{
    const block_overrides *ov = p->src ? &p->src->ov : NULL;
    *env = *parent;
    env->number = p->number;
    env->timestamp = p->time;
    memset(&env->prevrandao, 0, sizeof env->prevrandao);
    *f = chain_config_fork_at(&s->ctx->chain, env->number, env->timestamp);
    if (ov && ov->has_coinbase) env->coinbase = ov->coinbase;
    if (ov && ov->has_difficulty) env->difficulty = ov->difficulty;
    if (ov && ov->has_gas_limit) env->gas_limit = ov->gas_limit;
    if (ov && ov->has_prevrandao) env->prevrandao = ov->prevrandao;
    if (ov && ov->has_base_fee) env->base_fee = ov->base_fee;
    else if (*f >= FORK_LONDON)
        env->base_fee = s->opts->validation ? block_next_base_fee(parent, parent_gas_used) : u256_zero();
    if (*f >= FORK_CANCUN) {
        env->excess_blob_gas =
            parent_fork >= FORK_CANCUN ? block_next_excess_blob_gas(parent, parent_fork, parent_blob_gas_used) : 0;
        block_env_default_blob_schedule(env, *f);
        if (ov && ov->has_blob_base_fee) env->blob_base_fee = ov->blob_base_fee;
    }
}

typedef struct {
    block_env env;
    enum fork fork;
    hash32 hash;
    uint64_t gas_used, blob_gas_used;
} block_done;

/* eth_call's timeout message, with the spec's code for a timeout. */
static bool sim_timeout(const rpc_ctx *ctx, rpc_error *err)
{
    timeout_error(ctx, err);
    err->code = SIM_ERR_TIMEOUT;
    return false;
}

/* Runs one planned block; appends its answer to `out`. */
static bool run_block(simulation *s, const planned_block *p, const block_done *parent, block_done *done, bytebuf *out,
                      rpc_error *err)
{
    block_env env;
    enum fork f;
    block_context(s, p, &parent->env, parent->fork, parent->gas_used, parent->blob_gas_used, &env, &f);
    sim_block *src = p->src;
    if (src && !apply_state_overrides(s, src, f, err)) return false;
    hash32 beacon_root = {0};
    if (src && src->ov.has_beacon_root) beacon_root = src->ov.beacon_root;

    block_run run;
    block_run_begin(&run, s->st, &env, f, &parent->hash, &beacon_root, s->ctx->abort_flag);
    run.transfers = s->transfers;
    size_t n_calls = src ? src->n_calls : 0;
    sim_tx *txs = xcalloc(n_calls ? n_calls : 1, sizeof *txs);
    size_t n_txs = 0;
    bool ok = true;
    exec_env scratch = {.env = env, .fork = f};
    for (size_t i = 0; ok && i < n_calls; i++) {
        if (s->ctx->abort_flag && *s->ctx->abort_flag) {
            ok = sim_timeout(s->ctx, err);
            break;
        }
        const call_args *a = &src->calls[i];
        call_msg m;
        if (!call_msg_build(s->ctx, &scratch, a, &m, err)) {
            ok = false;
            break;
        }
        /* geth's sanitizeCall: the gas defaults to what the block has
         * left, must fit in it, and is clamped to what is left of the
         * request's budget (an empty budget gives 0 gas: the call is then
         * refused for its intrinsic gas, as geth's). */
        uint64_t remaining = env.gas_limit - run.gas_used;
        uint64_t gas = a->has_gas ? a->gas : remaining;
        if (gas > remaining) {
            ok = rpc_fail(err, SIM_ERR_BLOCK_GAS_LIMIT, "block gas limit reached: remaining: %" PRIu64 ", required: %" PRIu64,
                          remaining, gas);
            break;
        }
        bool gas_capped = gas > s->gas_pool;
        if (gas_capped) gas = s->gas_pool;
        sim_tx *t = &txs[n_txs];
        to_transaction(&scratch, &m, gas, &t->tx);
        /* The nonce the transaction carries (its hash); it is checked only
         * under validation, so otherwise the run does not see it (geth's
         * SkipNonceChecks: not even the "nonce has max value" rule). */
        u256 nonce = u256_from_u64(a->has_nonce ? a->nonce : state_get_nonce(s->st, &m.from));
        if (s->opts->validation) t->tx.nonce = nonce;
        t->from = m.from;
        tx_options o = {
            .skip_nonce_check = !s->opts->validation,
            .skip_eoa_check = true,    /* geth skips it even with validation */
            .skip_tx_gas_cap = true,   /* and EIP-7825's cap (the RPC gas cap rules) */
            .moved_precompiles = src->has_state ? src->state.moves : NULL,
            .n_moved_precompiles = src->has_state ? src->state.n_moves : 0,
            .abort_flag = s->ctx->abort_flag,
            .engine = s->ctx->cfg->engine,
            .trace = s->opts->trace_transfers ? &s->transfer_tracer : NULL,
        };
        tx_result res;
        block_run_tx(&run, &t->tx, !s->opts->validation, &o, &res);
        if (res.error != TX_OK) {
            ok = tx_rejected(s, &run, &m, &t->tx, res.error, err);
            tx_result_free(&res);
            break;
        }
        if (res.status == EXEC_TIMEOUT || (s->ctx->abort_flag && *s->ctx->abort_flag)) {
            ok = sim_timeout(s->ctx, err);
            tx_result_free(&res);
            break;
        }
        s->gas_pool -= res.gas_used < s->gas_pool ? res.gas_used : s->gas_pool;
        t->tx.nonce = nonce;
        block_tx_encode(&t->tx, &s->chain_id, &t->encoding);
        keccak256(t->encoding.data, t->encoding.len, t->hash.b);
        t->success = res.status == EXEC_SUCCESS;
        if (t->success) bytebuf_append(&t->return_data, res.output, res.output_len);
        t->gas_used = res.gas_used;
        /* geth's maxUsedGas: the gas used before refunds, at least the
         * EIP-7623 floor (what a gas limit must cover). */
        t->max_used_gas = res.gas_spent > res.floor_gas ? res.gas_spent : res.floor_gas;
        if (!t->success) {
            /* The errors geth words with the instruction (its opcode, the
             * stack's size, EIP-2200's sentry) need that instruction: the
             * call runs again, traced (failures only). */
            char *text = NULL;
            block_failed_step step;
            if (trace_error_names_step(res.status, f) && block_run_failed_step(&run, &t->tx, !s->opts->validation, &o, res.status, &step))
                text = trace_step_error_text(step.op, step.stack_len, step.gas, res.status, f);
            else if (res.status == EXEC_STACK_OVERFLOW)
                text = str_printf(NULL, "stack limit reached %d", EVM_STACK_LIMIT);
            else
                text = str_printf(NULL, "%s", exec_status_name(res.status));
            t->error = call_error_json(&res, text, gas_capped);
            free(text);
        }
        tx_result_free(&res);
        n_txs++;
    }
    /* geth's order: the requests (EIP-6110 deposits, the EIP-7002 and
     * EIP-7251 contracts), then the withdrawals; geth's words for a block
     * it refuses. */
    block_request_failure rf;
    if (ok && f >= FORK_PRAGUE && !deposit_contract_known(s, &run, err)) ok = false;
    if (ok && !block_run_requests(&run, &s->deposit_contract, s->ctx->abort_flag, &rf)) {
        const char *queue = rf.request_type == WITHDRAWAL_REQUEST_TYPE ? "withdrawal" : "consolidation";
        char at[43];
        address_checksum(&rf.contract, at);
        if (rf.error == BLOCK_REQUEST_BAD_DEPOSIT)
            ok = rpc_fail(err, RPC_SERVER_ERROR,
                          "failed to parse deposit logs: unable to parse deposit data: deposit wrong length: want %d, have %zu",
                          DEPOSIT_EVENT_DATA_SIZE, rf.deposit_data_len);
        else if (rf.error == BLOCK_REQUEST_NO_CODE)
            ok = rpc_fail(err, RPC_SERVER_ERROR, "failed to process %s queue: empty system contract: no code at %s", queue, at);
        else if (rf.status == EXEC_TIMEOUT)
            ok = sim_timeout(s->ctx, err);
        else
            ok = rpc_fail(err, RPC_SERVER_ERROR, "failed to process %s queue: system call failed to execute: %s", queue,
                          exec_status_name(rf.status));
    }
    if (ok && src && src->ov.n_withdrawals) block_run_withdrawals(&run, src->ov.withdrawals, src->ov.n_withdrawals);

    if (ok) {
        /* The header, then the hash the logs and transactions name. */
        block_header_fields h = {0};
        h.fork = f;
        h.parent_hash = parent->hash;
        h.coinbase = env.coinbase;
        bytebuf *items = xcalloc(n_txs + 1, sizeof *items);
        for (size_t i = 0; i < n_txs; i++) items[i] = txs[i].encoding;
        block_list_root(items, n_txs, &h.transactions_root);
        for (size_t i = 0; i < n_txs; i++) {
            items[i] = (bytebuf){0};
            block_receipt_encode(&run.receipts[i], &items[i]);
        }
        block_list_root(items, n_txs, &h.receipts_root);
        for (size_t i = 0; i < n_txs; i++) bytebuf_free(&items[i]);
        free(items);
        size_t n_w = src ? src->ov.n_withdrawals : 0;
        bytebuf *w_items = xcalloc(n_w + 1, sizeof *w_items);
        for (size_t i = 0; i < n_w; i++) block_withdrawal_encode(&src->ov.withdrawals[i], &w_items[i]);
        block_list_root(w_items, n_w, &h.withdrawals_root);
        memcpy(h.logs_bloom, run.bloom, sizeof h.logs_bloom);
        h.difficulty = env.difficulty;
        h.number = env.number;
        h.gas_limit = env.gas_limit;
        h.gas_used = run.gas_used;
        h.timestamp = env.timestamp;
        h.mix_hash = env.prevrandao;
        h.base_fee = env.base_fee;
        h.blob_gas_used = run.blob_gas_used;
        h.excess_blob_gas = env.excess_blob_gas;
        h.parent_beacon_root = beacon_root;
        h.requests_hash = run.requests_hash;
        store_state_root_after(s->ctx->conn, s->st, &h.state_root, NULL); /* stays zero in live mode */
        bytebuf header = {0};
        block_header_rlp(&h, &header);
        keccak256(header.data, header.len, done->hash.b);

        /* The block's RLP size: [header, transactions, ommers, withdrawals]. */
        bytebuf body = {0};
        size_t mark = rlp_list_begin(&body);
        rlp_put_raw(&body, header.data, header.len);
        size_t txl = rlp_list_begin(&body);
        for (size_t i = 0; i < n_txs; i++) {
            if (txs[i].tx.type > 0) rlp_put_bytes(&body, txs[i].encoding.data, txs[i].encoding.len);
            else rlp_put_raw(&body, txs[i].encoding.data, txs[i].encoding.len);
        }
        rlp_list_end(&body, txl);
        rlp_list_end(&body, rlp_list_begin(&body));
        if (f >= FORK_SHANGHAI) {
            size_t wl = rlp_list_begin(&body);
            for (size_t i = 0; i < n_w; i++) rlp_put_raw(&body, w_items[i].data, w_items[i].len);
            rlp_list_end(&body, wl);
        }
        rlp_list_end(&body, mark);
        size_t size = body.len;
        bytebuf_free(&body);
        bytebuf_free(&header);
        for (size_t i = 0; i < n_w; i++) bytebuf_free(&w_items[i]);
        free(w_items);

        jt_open(out, NULL, '{');
        jt_u64(out, "number", env.number);
        jt_hash(out, "hash", &done->hash);
        jt_hash(out, "parentHash", &parent->hash);
        jt_literal(out, "nonce", "\"0x0000000000000000\"");
        jt_hash(out, "mixHash", &env.prevrandao);
        jt_hash(out, "sha3Uncles", &KECCAK_EMPTY_LIST);
        jt_data(out, "logsBloom", h.logs_bloom, sizeof h.logs_bloom);
        jt_hash(out, "stateRoot", &h.state_root);
        jt_address(out, "miner", &env.coinbase);
        jt_quantity(out, "difficulty", &env.difficulty);
        jt_literal(out, "extraData", "\"0x\"");
        jt_u64(out, "size", size);
        jt_u64(out, "gasLimit", env.gas_limit);
        jt_u64(out, "gasUsed", run.gas_used);
        jt_u64(out, "timestamp", env.timestamp);
        jt_hash(out, "transactionsRoot", &h.transactions_root);
        jt_hash(out, "receiptsRoot", &h.receipts_root);
        if (f >= FORK_LONDON) jt_quantity(out, "baseFeePerGas", &env.base_fee);
        if (f >= FORK_SHANGHAI) {
            jt_hash(out, "withdrawalsRoot", &h.withdrawals_root);
            jt_open(out, "withdrawals", '[');
            for (size_t i = 0; i < n_w; i++) {
                const withdrawal *w = &src->ov.withdrawals[i];
                jt_open(out, NULL, '{');
                jt_u64(out, "index", w->index);
                jt_u64(out, "validatorIndex", w->validator_index);
                jt_address(out, "address", &w->addr);
                jt_u64(out, "amount", w->amount_gwei);
                jt_close(out, '}');
            }
            jt_close(out, ']');
        }
        if (f >= FORK_CANCUN) {
            jt_u64(out, "blobGasUsed", run.blob_gas_used);
            jt_u64(out, "excessBlobGas", env.excess_blob_gas);
            jt_hash(out, "parentBeaconBlockRoot", &beacon_root);
        }
        if (f >= FORK_PRAGUE) jt_hash(out, "requestsHash", &h.requests_hash);
        jt_literal(out, "uncles", "[]");
        jt_open(out, "transactions", '[');
        for (size_t i = 0; i < n_txs; i++) {
            if (s->opts->full_tx) write_tx(out, &txs[i], i, &done->hash, &env, &s->chain_id);
            else jt_hash(out, NULL, &txs[i].hash);
        }
        jt_close(out, ']');
        jt_open(out, "calls", '[');
        for (size_t i = 0; ok && i < n_txs; i++)
            if (!write_call(out, &txs[i], i, &run.receipts[i], run.first_log_seq, &done->hash, &env))
                ok = rpc_fail(err, RPC_INTERNAL_ERROR, "internal error: a call's error could not be encoded");
        jt_close(out, ']');
        jt_close(out, '}');
        done->env = env;
        done->fork = f;
        done->gas_used = run.gas_used;
        done->blob_gas_used = run.blob_gas_used;
    }
    for (size_t i = 0; i < n_calls; i++) {
        bytebuf_free(&txs[i].encoding);
        bytebuf_free(&txs[i].return_data);
        json_decref(txs[i].error);
    }
    free(txs);
    block_run_free(&run);
    return ok;
}

/* What the head used of its gas and blob gas, which the first block's base
 * fee (under validation) and excess blob gas follow from; 0 when the
 * database does not know (a genesis head), or when the head it knows of is
 * another than `head` (written since this request read it). */
static bool head_usage(rpc_ctx *ctx, block_done *head, rpc_error *err)
{
    uint64_t number, gas_used, blob_gas_used;
    store_error se;
    if (!store_get_head_usage(ctx->conn, &number, &gas_used, &blob_gas_used, &se))
        return rpc_fail(err, RPC_SERVER_ERROR, "%s", se.msg);
    if (number == head->env.number) {
        head->gas_used = gas_used;
        head->blob_gas_used = blob_gas_used;
    }
    return true;
}

json_t *m_simulate_v1(rpc_ctx *ctx, json_t *params, rpc_error *err)
{
    json_t *payload = json_array_get(params, 0);
    if (!payload || json_is_null(payload)) {
        rpc_fail(err, RPC_INVALID_PARAMS, "missing value for required argument 0");
        return NULL;
    }
    sim_opts opts = {0};
    if (!parse_opts(payload, &opts, err)) {
        sim_opts_free(&opts);
        return NULL;
    }
    block_selector sel = {.tag = BLOCK_LATEST};
    json_t *sel_arg = json_array_get(params, 1);
    param_error pe;
    if (sel_arg && !json_is_null(sel_arg) && !p_block(sel_arg, &sel, &pe)) {
        sim_opts_free(&opts);
        rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument 1: %s", pe.msg);
        return NULL;
    }
    block_done head = {0};
    planned_block *plan = NULL;
    size_t n_plan = 0;
    if (!resolve_head(ctx, &sel, &head.env, &head.fork, err) || !plan_chain(&opts, &head.env, &plan, &n_plan, err)) {
        sim_opts_free(&opts);
        return NULL;
    }
    if (!head_block_hash(ctx, &head.hash, err) || !head_usage(ctx, &head, err)) {
        free(plan);
        sim_opts_free(&opts);
        return NULL;
    }
    state_backend base = store_backend(ctx->conn);
    hash32 *hashes = xcalloc(n_plan, sizeof *hashes);
    sim_chain chain = {.base = &base, .head_number = head.env.number, .hashes = hashes, .n = 0};
    state_backend backend = STATE_BACKEND_OF(&chain, sc);

    simulation s = {.ctx = ctx, .opts = &opts, .st = state_new(&backend)};
    s.gas_pool = ctx->cfg->gas_cap ? ctx->cfg->gas_cap : UINT64_MAX;
    s.chain_id = u256_from_u64(ctx->chain.chain_id);
    if (opts.trace_transfers) s.transfers = transfer_logger_new(&s.transfer_tracer);

    /* About what a block of a call or two takes, so that most answers
     * need no second allocation. */
    bytebuf text = {0};
    bytebuf_reserve(&text, 4096);
    jt_open(&text, NULL, '[');
    exec_arm_timeout(ctx);
    const block_done *parent = &head;
    block_done *done = xcalloc(n_plan, sizeof *done);
    bool ok = true;
    for (size_t i = 0; ok && i < n_plan; i++) {
        ok = run_block(&s, &plan[i], parent, &done[i], &text, err);
        if (!ok) break;
        hashes[chain.n++] = done[i].hash;
        parent = &done[i];
    }
    exec_disarm_timeout(ctx);
    jt_close(&text, ']');
    json_t *result = ok ? rpc_json_raw((const char *)text.data, text.len) : NULL;
    bytebuf_free(&text);
    free(done);
    transfer_logger_free(s.transfers);
    state_free(s.st);
    free(hashes);
    free(plan);
    sim_opts_free(&opts);
    return result;
}
