/* The state and block a call runs against, and the message it runs: the
 * head (cached per connection until the next commit to the database, or
 * outside a read snapshot for RPC_HEAD_CACHE_MS), geth's BlockOverrides and state overrides applied
 * over it, and CallDefaults/ToMessage turning call arguments into a
 * call_msg. Nothing here executes anything. */
#include "rpc/rpc_exec.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"

/* ------------------------------------------------------------ the block */

static bool store_failed(rpc_error *err, const store_error *se)
{
    return rpc_fail_store(err, se);
}

static _Atomic uint64_t write_generation;

uint64_t rpc_write_generation(void) { return atomic_load(&write_generation); }
void rpc_note_write(void) { atomic_fetch_add(&write_generation, 1); }

/* A block named by number: the head, or an error as geth words it. */
static bool at_number(uint64_t n, const block_env *head, rpc_error *err)
{
    if (n == head->number) return true;
    err->not_head = true;
    if (n > head->number) return rpc_fail(err, RPC_SERVER_ERROR, "header not found");
    return rpc_fail(err, RPC_SERVER_ERROR,
                    "historical state not available: block %" PRIu64 " is not the head (block %" PRIu64
                    "); this node keeps only the head state",
                    n, head->number);
}

bool resolve_head(rpc_ctx *ctx, const block_selector *sel, block_env *head, enum fork *f, rpc_error *err)
{
    /* In a read snapshot the head read in an earlier one holds while no
     * commit happened since (the snapshot's epoch); outside one (admin
     * methods), for RPC_HEAD_CACHE_MS. */
    uint64_t generation = rpc_write_generation(), epoch = store_snapshot_epoch(ctx->conn);
    uint64_t now = epoch ? 0 : monotonic_ns() / 1000000;
    bool fresh = epoch ? ctx->head_cache.epoch == epoch : now - ctx->head_cache.loaded_ms < RPC_HEAD_CACHE_MS;
    if (ctx->head_cache.valid && ctx->head_cache.generation == generation && fresh) {
        *head = ctx->head_cache.env;
    } else {
        store_error se;
        if (!store_get_head(ctx->conn, head, &se)) return store_failed(err, &se);
        ctx->head_cache.valid = true;
        ctx->head_cache.generation = generation;
        ctx->head_cache.epoch = epoch;
        ctx->head_cache.loaded_ms = epoch ? 0 : now;
        ctx->head_cache.env = *head;
        /* The chain (ctx->chain) changes only with the database, which
         * clears the cache (rpc_server.c). */
        ctx->head_cache.fork = chain_config_fork_at(&ctx->chain, head->number, head->timestamp);
        ctx->head_cache.has_state_root = false;
        ctx->head_cache.has_genesis_extras = false;
    }
    head->chain_id = u256_from_u64(ctx->chain.chain_id);
    *f = ctx->head_cache.fork;
    switch (sel->tag) {
    case BLOCK_LATEST:
    case BLOCK_PENDING: return true;
    case BLOCK_SAFE:
    case BLOCK_FINALIZED:
        /* One block here, the head: a dev chain's safe and finalized. A
         * live chain's are the upstream's, behind its head (mainnet's
         * finalized by about 64 blocks), never jitevm's head. */
        if (!rpc_live.upstream) return true;
        err->not_head = true;
        return rpc_fail(err, RPC_SERVER_ERROR,
                        "historical state not available: the %s block is the upstream's; this node keeps only the "
                        "head state (block %" PRIu64 ")",
                        sel->tag == BLOCK_SAFE ? "safe" : "finalized", head->number);
    case BLOCK_EARLIEST:
    case BLOCK_NUMBER:
        return at_number(sel->tag == BLOCK_EARLIEST ? 0 : sel->number, head, err);
    case BLOCK_HASH: {
        /* EIP-1898: geth answers a hash it does not know with "header for
         * hash not found"; a known block other than the head is history. */
        uint64_t n;
        bool found;
        store_error se;
        if (!store_find_block_number(ctx->conn, &sel->hash, &n, &found, &se)) return store_failed(err, &se);
        if (!found) {
            err->not_head = true; /* older than the hashes kept, or newer than the head */
            return rpc_fail(err, RPC_SERVER_ERROR, "header for hash not found");
        }
        return at_number(n, head, err);
    }
    }
    return true;
}

static bool parse_withdrawals(const json_t *v, block_overrides *o, param_error *pe)
{
    if (!json_is_array(v))
        return perr_set(pe, "json: cannot unmarshal %s into Go struct field BlockOverrides.withdrawals of type types.Withdrawals",
                        json_kind_go(v));
    o->has_withdrawals = true;
    o->n_withdrawals = json_array_size(v);
    o->withdrawals = xcalloc(o->n_withdrawals ? o->n_withdrawals : 1, sizeof *o->withdrawals);
    size_t i;
    json_t *w;
    json_array_foreach(v, i, w) {
        if (!json_is_object(w))
            return perr_set(pe, "json: cannot unmarshal %s into Go struct field BlockOverrides.withdrawals of type types.Withdrawal",
                            json_kind_go(w));
        withdrawal *out = &o->withdrawals[i];
        const char *key;
        json_t *m;
        json_object_foreach(w, key, m) {
            field_ctx where = {"Withdrawal", key};
            bool ok = true;
            if (strcmp(key, "index") == 0) ok = p_u64(m, &where, &out->index, pe);
            else if (strcmp(key, "validatorIndex") == 0) ok = p_u64(m, &where, &out->validator_index, pe);
            else if (strcmp(key, "address") == 0) ok = p_address(m, &where, &out->addr, pe);
            else if (strcmp(key, "amount") == 0) ok = p_u64(m, &where, &out->amount_gwei, pe);
            /* other members: ignored, as Go's decoder does for a Withdrawal */
            if (!ok) return false;
        }
    }
    return true;
}

bool block_overrides_parse(const json_t *v, bool with_block_fields, block_overrides *o, param_error *pe)
{
    memset(o, 0, sizeof *o);
    if (!json_is_object(v))
        return perr_set(pe, "json: cannot unmarshal %s into Go value of type override.BlockOverrides", json_kind_go(v));
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m) {
        if (json_is_null(m)) continue;
        field_ctx where = {"BlockOverrides", key};
        bool ok = true;
        if (strcmp(key, "number") == 0) {
            u256 big;
            ok = p_u256(m, &where, &big, pe);
            if (ok && !u256_fits_u64(&big)) ok = perr_set(pe, "block number override does not fit in 64 bits");
            o->number = big.w[0];
            o->has_number = ok;
        } else if (strcmp(key, "difficulty") == 0) ok = o->has_difficulty = p_u256(m, &where, &o->difficulty, pe);
        else if (strcmp(key, "time") == 0 || strcmp(key, "timestamp") == 0) ok = o->has_time = p_u64(m, &where, &o->time, pe);
        else if (strcmp(key, "gasLimit") == 0) ok = o->has_gas_limit = p_u64(m, &where, &o->gas_limit, pe);
        else if (strcmp(key, "feeRecipient") == 0 || strcmp(key, "coinbase") == 0)
            ok = o->has_coinbase = p_address(m, &where, &o->coinbase, pe);
        else if (strcmp(key, "prevRandao") == 0 || strcmp(key, "random") == 0)
            ok = o->has_prevrandao = p_hash(m, &where, &o->prevrandao, pe);
        else if (strcmp(key, "baseFeePerGas") == 0 || strcmp(key, "baseFee") == 0)
            ok = o->has_base_fee = p_u256(m, &where, &o->base_fee, pe);
        else if (strcmp(key, "blobBaseFee") == 0) ok = o->has_blob_base_fee = p_u256(m, &where, &o->blob_base_fee, pe);
        else if ((strcmp(key, "beaconRoot") == 0 || strcmp(key, "withdrawals") == 0) && !with_block_fields) {
            o->unsupported = true;
            return perr_set(pe, "block override \"%s\" is not supported for this RPC method", key);
        } else if (strcmp(key, "beaconRoot") == 0) ok = o->has_beacon_root = p_hash(m, &where, &o->beacon_root, pe);
        else if (strcmp(key, "withdrawals") == 0) ok = parse_withdrawals(m, o, pe);
        else ok = perr_set(pe, "json: unknown field \"%s\"", key);
        if (!ok) return false;
    }
    return true;
}

void block_overrides_free(block_overrides *o)
{
    free(o->withdrawals);
    memset(o, 0, sizeof *o);
}

/* geth's BlockOverrides.Apply for eth_call: the given fields replace the
 * head's. */
static void apply_block_overrides(const block_overrides *o, block_env *env)
{
    if (o->has_number) env->number = o->number;
    if (o->has_difficulty) env->difficulty = o->difficulty;
    if (o->has_time) env->timestamp = o->time;
    if (o->has_gas_limit) env->gas_limit = o->gas_limit;
    if (o->has_coinbase) env->coinbase = o->coinbase;
    if (o->has_prevrandao) env->prevrandao = o->prevrandao;
    if (o->has_base_fee) env->base_fee = o->base_fee;
    if (o->has_blob_base_fee) env->blob_base_fee = o->blob_base_fee;
}

bool exec_env_open(rpc_ctx *ctx, const block_selector *sel, const json_t *state_ov, int state_ov_arg,
                   const json_t *block_ov, int block_ov_arg, bool precompile_moves, exec_env *ee, rpc_error *err)
{
    memset(ee, 0, sizeof *ee);
    param_error pe;
    /* Parameters are checked before the state is touched, as geth decodes
     * all arguments first. */
    if (state_ov && !override_parse(state_ov, &ee->overrides, &pe)) {
        override_free(&ee->overrides);
        return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument %d: %s", state_ov_arg, pe.msg);
    }
    /* Syntax first, so that a bad override is reported before any state
     * problem, like geth's argument decoding. */
    block_overrides bo = {0};
    if (block_ov && !block_overrides_parse(block_ov, false, &bo, &pe)) {
        if (bo.unsupported) rpc_fail(err, RPC_SERVER_ERROR, "%s", pe.msg);
        else rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument %d: %s", block_ov_arg, pe.msg);
        block_overrides_free(&bo);
        goto fail;
    }
    if (!resolve_head(ctx, sel, &ee->env, &ee->fork, err)) goto fail;
    if (block_ov) {
        apply_block_overrides(&bo, &ee->env);
        ee->fork = chain_config_fork_at(&ctx->chain, ee->env.number, ee->env.timestamp);
    }
    char msg[256];
    ee->overrides.no_precompile_table = !precompile_moves;
    if (!override_validate(&ee->overrides, ee->fork, msg, sizeof msg)) {
        rpc_fail(err, RPC_SERVER_ERROR, "%s", msg);
        goto fail;
    }
    ee->base = store_backend(ctx->conn);
    /* Without an overridden account the wrapper would only pass every read
     * through (an indirect call more each; moves are the core's, by
     * ee->overrides.moves): the store's backend itself then. */
    ee->backend = ee->overrides.n ? override_backend(&ee->overrides, &ee->base) : ee->base;
    return true;
fail:
    override_free(&ee->overrides);
    return false;
}

void exec_env_close(exec_env *ee) { override_free(&ee->overrides); }

/* ---------------------------------------------------------- the message */

bool call_msg_build(const rpc_ctx *ctx, const exec_env *ee, const call_args *a, call_msg *m, rpc_error *err)
{
    memset(m, 0, sizeof *m);
    if (a->has_gas_price && (a->has_max_fee || a->has_max_priority))
        return rpc_fail(err, RPC_SERVER_ERROR, "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified");
    u256 chain_id = u256_from_u64(ctx->chain.chain_id);
    if (a->has_chain_id && !u256_eq(&a->chain_id, &chain_id)) {
        char have[80], want[80];
        u256_to_dec(&a->chain_id, have);
        u256_to_dec(&chain_id, want);
        return rpc_fail(err, RPC_SERVER_ERROR, "chainId does not match node's (have=%s, want=%s)", have, want);
    }
    if (a->has_data && a->has_input &&
        (a->data.len != a->input.len || (a->data.len && memcmp(a->data.data, a->input.data, a->data.len) != 0)))
        return rpc_fail(err, RPC_SERVER_ERROR,
                        "both \"data\" and \"input\" are set and not equal. Please use \"input\" to pass transaction call data");
    uint64_t cap = ctx->cfg->gas_cap;
    if (!a->has_gas) m->gas = cap ? cap : UINT64_MAX / 2;
    else m->gas = (cap && cap < a->gas) ? cap : a->gas;

    m->from = a->from; /* zero address when absent */
    m->has_to = a->has_to;
    m->to = a->to;
    m->value = a->value;
    const bytebuf *data = call_args_data(a);
    m->data = data->data;
    m->data_len = data->len;
    m->access_list = a->access_list;
    m->n_access_list = a->n_access_list;
    m->has_blob_hashes = a->has_blob_hashes;
    m->blob_hashes = a->blob_hashes;
    m->n_blob_hashes = a->n_blob_hashes;
    m->blob_fee_cap = a->max_fee_per_blob_gas;
    m->has_auths = a->has_auths;
    m->auths = a->auths;
    m->n_auths = a->n_auths;

    if (ee->fork < FORK_LONDON || a->has_gas_price) {
        /* No base fee (or the legacy field given): one price for all. */
        m->gas_price = m->fee_cap = m->tip_cap = a->gas_price;
    } else {
        m->fee_cap = a->max_fee;
        m->tip_cap = a->max_priority;
        m->gas_price = u256_zero();
        if (!u256_is_zero(&m->fee_cap) || !u256_is_zero(&m->tip_cap)) {
            m->gas_price = u256_add(&m->tip_cap, &ee->env.base_fee);
            if (u256_lt(&m->fee_cap, &m->gas_price) || u256_lt(&m->gas_price, &m->tip_cap)) m->gas_price = m->fee_cap;
        }
    }
    return true;
}
