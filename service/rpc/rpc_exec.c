#include "rpc/rpc_exec.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hexjson.h"
#include "base/keccak.h"
#include "base/params.h"
#include "metrics.h"
#include "vm/opcodes.h"
#include "precompile/precompile.h"
#include "base/rlp.h"

enum {
    MAX_ACCESS_LIST_ROUNDS = 32,
};
#define ESTIMATE_ERROR_RATIO 0.015      /* geth's estimateGasErrorRatio */

static char *xstrdup_printf(size_t *len, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *xstrdup_printf(size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (len) *len = (size_t)n;
    return s;
}

/* ------------------------------------------------------------ the block */

static bool store_failed(rpc_error *err, const store_error *se)
{
    return rpc_fail(err, RPC_SERVER_ERROR, "database error: %s", se->msg);
}

static _Atomic uint64_t write_generation;

uint64_t rpc_write_generation(void) { return atomic_load(&write_generation); }
void rpc_note_write(void) { atomic_fetch_add(&write_generation, 1); }

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool resolve_head(rpc_ctx *ctx, const block_selector *sel, block_env *head, enum fork *f, rpc_error *err)
{
    uint64_t generation = rpc_write_generation(), now = now_ms();
    if (ctx->head_cache.valid && ctx->head_cache.generation == generation &&
        now - ctx->head_cache.loaded_ms < RPC_HEAD_CACHE_MS) {
        *head = ctx->head_cache.env;
    } else {
        store_error se;
        if (!store_get_head(ctx->conn, head, &se)) return store_failed(err, &se);
        ctx->head_cache.valid = true;
        ctx->head_cache.generation = generation;
        ctx->head_cache.loaded_ms = now;
        ctx->head_cache.env = *head;
    }
    head->chain_id = u256_from_u64(ctx->chain.chain_id);
    *f = chain_config_fork_at(&ctx->chain, head->number, head->timestamp);
    switch (sel->tag) {
    case BLOCK_LATEST:
    case BLOCK_PENDING:
    case BLOCK_SAFE:
    case BLOCK_FINALIZED: return true;
    case BLOCK_EARLIEST:
    case BLOCK_NUMBER: {
        uint64_t n = sel->tag == BLOCK_EARLIEST ? 0 : sel->number;
        if (n == head->number) return true;
        if (n > head->number) return rpc_fail(err, RPC_SERVER_ERROR, "header not found");
        return rpc_fail(err, RPC_SERVER_ERROR,
                        "historical state not available: block %" PRIu64 " is not the head (block %" PRIu64
                        "); this node keeps only the head state",
                        n, head->number);
    }
    case BLOCK_HASH: {
        hash32 h;
        state_backend b = store_backend(ctx->conn);
        if (b.get_block_hash(b.ctx, head->number, &h) && memcmp(h.b, sel->hash.b, 32) == 0) return true;
        return rpc_fail(err, RPC_SERVER_ERROR, "header for hash not found");
    }
    }
    return true;
}

static bool block_override_error(rpc_error *err, int arg, const param_error *pe)
{
    return rpc_fail(err, RPC_INVALID_PARAMS, "invalid argument %d: %s", arg, pe->msg);
}

/* geth's BlockOverrides (with anvil's spellings as aliases). */
static bool apply_block_overrides(const json_t *v, int arg, block_env *env, rpc_error *err)
{
    param_error pe;
    if (!json_is_object(v)) {
        perr_set(&pe, "json: cannot unmarshal %s into Go value of type override.BlockOverrides", json_kind_go(v));
        return block_override_error(err, arg, &pe);
    }
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m) {
        if (json_is_null(m)) continue;
        field_ctx where = {"BlockOverrides", key};
        bool ok = true;
        u256 big;
        if (strcmp(key, "number") == 0) {
            ok = p_u256(m, &where, &big, &pe);
            if (ok && !u256_fits_u64(&big)) ok = perr_set(&pe, "block number override does not fit in 64 bits");
            if (ok) env->number = big.w[0];
        } else if (strcmp(key, "difficulty") == 0) ok = p_u256(m, &where, &env->difficulty, &pe);
        else if (strcmp(key, "time") == 0 || strcmp(key, "timestamp") == 0) ok = p_u64(m, &where, &env->timestamp, &pe);
        else if (strcmp(key, "gasLimit") == 0) ok = p_u64(m, &where, &env->gas_limit, &pe);
        else if (strcmp(key, "feeRecipient") == 0 || strcmp(key, "coinbase") == 0)
            ok = p_address(m, &where, &env->coinbase, &pe);
        else if (strcmp(key, "prevRandao") == 0 || strcmp(key, "random") == 0)
            ok = p_hash(m, &where, &env->prevrandao, &pe);
        else if (strcmp(key, "baseFeePerGas") == 0 || strcmp(key, "baseFee") == 0)
            ok = p_u256(m, &where, &env->base_fee, &pe);
        else if (strcmp(key, "blobBaseFee") == 0) ok = p_u256(m, &where, &env->blob_base_fee, &pe);
        else if (strcmp(key, "beaconRoot") == 0 || strcmp(key, "withdrawals") == 0)
            return rpc_fail(err, RPC_SERVER_ERROR, "block override \"%s\" is not supported for this RPC method", key);
        else ok = perr_set(&pe, "json: unknown field \"%s\"", key);
        if (!ok) return block_override_error(err, arg, &pe);
    }
    return true;
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
    if (block_ov) {
        /* Syntax first (on a scratch context), so that a bad override is
         * reported before any state problem, like geth's argument decoding. */
        block_env scratch = {0};
        if (!apply_block_overrides(block_ov, block_ov_arg, &scratch, err)) goto fail;
    }
    if (!resolve_head(ctx, sel, &ee->env, &ee->fork, err)) goto fail;
    if (block_ov) {
        if (!apply_block_overrides(block_ov, block_ov_arg, &ee->env, err)) goto fail;
        ee->fork = chain_config_fork_at(&ctx->chain, ee->env.number, ee->env.timestamp);
    }
    char msg[256];
    ee->overrides.no_precompile_table = !precompile_moves;
    if (!override_validate(&ee->overrides, ee->fork, msg, sizeof msg)) {
        rpc_fail(err, RPC_SERVER_ERROR, "%s", msg);
        goto fail;
    }
    ee->base = store_backend(ctx->conn);
    ee->backend = override_backend(&ee->overrides, &ee->base);
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

/* ------------------------------------------------------------- running */

enum run_kind { RUN_EXECUTED, RUN_INVALID, RUN_ABORTED };

typedef struct {
    enum run_kind kind;
    bool intrinsic; /* invalid because the gas is below the intrinsic cost */
    char *invalid;  /* geth's message (RUN_INVALID) */
    tx_result res;
    uint64_t peak_used; /* gas used before refunds (geth's MaxUsedGas) */
} run_result;

static void run_result_free(run_result *r)
{
    free(r->invalid);
    tx_result_free(&r->res);
    memset(r, 0, sizeof *r);
}

static bool invalid(run_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool invalid(run_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    r->invalid = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(r->invalid, (size_t)n + 1, fmt, ap);
    va_end(ap);
    r->kind = RUN_INVALID;
    return false;
}

static bool mul_overflows(const u256 *a, const u256 *b, u256 *out)
{
    /* a * b fits when the high half of the 512-bit product is zero. */
    unsigned __int128 t;
    uint64_t limbs[8] = {0};
    for (int i = 0; i < 4; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; j++) {
            t = (unsigned __int128)a->w[i] * b->w[j] + limbs[i + j] + carry;
            limbs[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        limbs[i + 4] = carry;
    }
    for (int i = 0; i < 4; i++) out->w[i] = limbs[i];
    return (limbs[4] | limbs[5] | limbs[6] | limbs[7]) != 0;
}

static bool add_overflows(const u256 *a, const u256 *b, u256 *out)
{
    *out = u256_add(a, b);
    return u256_lt(out, a);
}

static u256 balance_of(const exec_env *ee, const address *a)
{
    account_info info;
    if (!ee->backend.get_account(ee->backend.ctx, a, &info)) return u256_zero();
    return info.balance;
}

/* The transaction the core runs for a message. */
static void to_transaction(const exec_env *ee, const call_msg *m, uint64_t gas, transaction *tx)
{
    memset(tx, 0, sizeof *tx);
    tx->sender = m->from;
    tx->has_to = m->has_to;
    tx->to = m->to;
    tx->gas_limit = u256_from_u64(gas);
    tx->value = m->value;
    tx->data = m->data;
    tx->data_len = m->data_len;
    tx->access_list = m->access_list;
    tx->n_access_list = m->n_access_list;
    if (ee->fork >= FORK_LONDON) {
        tx->type = 2;
        tx->max_fee_per_gas = m->fee_cap;
        tx->max_priority_fee_per_gas = m->tip_cap;
    } else {
        tx->type = 0;
        tx->gas_price = m->gas_price;
    }
    /* Blob hashes only mean something from Cancun on; geth ignores them
     * before (after its shape checks). */
    if (m->has_blob_hashes && ee->fork >= FORK_CANCUN) {
        tx->type = 3;
        tx->blob_hashes = m->blob_hashes;
        tx->n_blob_hashes = m->n_blob_hashes;
        tx->max_fee_per_blob_gas = m->blob_fee_cap;
    }
    if (m->has_auths) {
        tx->type = 4;
        tx->authorizations = m->auths;
        tx->n_authorizations = m->n_auths;
    }
}

static const char *checksummed(const address *a, char out[43])
{
    address_checksum(a, out);
    return out;
}

/* geth's preCheck/buyGas/intrinsic checks for a call (nonce, EIP-3607 and
 * EIP-7825 skipped as SkipNonceChecks/SkipTransactionChecks do), in geth's
 * order and words. */
static bool precheck(const exec_env *ee, const block_env *env, const call_msg *m, uint64_t gas,
                     const transaction *tx, run_result *r)
{
    enum fork f = ee->fork;
    /* The sender's checksummed address is only for the error messages. */
    char from[43], a[80], b[80];
    if (f >= FORK_LONDON && !(u256_is_zero(&m->fee_cap) && u256_is_zero(&m->tip_cap))) {
        if (u256_lt(&m->fee_cap, &m->tip_cap)) {
            u256_to_dec(&m->tip_cap, a);
            u256_to_dec(&m->fee_cap, b);
            return invalid(r, "max priority fee per gas higher than max fee per gas: address %s, maxPriorityFeePerGas: %s, maxFeePerGas: %s",
                           checksummed(&m->from, from), a, b);
        }
        if (u256_lt(&m->fee_cap, &env->base_fee)) {
            u256_to_dec(&m->fee_cap, a);
            u256_to_dec(&env->base_fee, b);
            return invalid(r, "max fee per gas less than block base fee: address %s, maxFeePerGas: %s, baseFee: %s", checksummed(&m->from, from), a, b);
        }
    }
    if (m->has_blob_hashes) {
        if (!m->has_to) return invalid(r, "blob transaction of type create");
        if (m->n_blob_hashes == 0) return invalid(r, "blob transaction missing blob hashes");
        if (f >= FORK_OSAKA && m->n_blob_hashes > OSAKA_MAX_BLOBS_PER_TX) return invalid(r, "blob transaction has too many blobs");
        for (size_t i = 0; i < m->n_blob_hashes; i++)
            if (m->blob_hashes[i].b[0] != 0x01) return invalid(r, "blob %zu has invalid hash version", i);
    }
    uint64_t blob_gas = f >= FORK_CANCUN && m->has_blob_hashes ? (uint64_t)m->n_blob_hashes * GAS_PER_BLOB : 0;
    if (blob_gas && !u256_is_zero(&m->blob_fee_cap) && u256_lt(&m->blob_fee_cap, &env->blob_base_fee)) {
        u256_to_dec(&m->blob_fee_cap, a);
        u256_to_dec(&env->blob_base_fee, b);
        return invalid(r, "max fee per blob gas less than block blob gas fee: address %s blobGasFeeCap: %s, blobBaseFee: %s",
                       checksummed(&m->from, from), a, b);
    }
    if (m->has_auths) {
        if (!m->has_to) return invalid(r, "EIP-7702 transaction cannot be used to create contract (sender %s)", checksummed(&m->from, from));
        if (m->n_auths == 0) return invalid(r, "EIP-7702 transaction with empty auth list (sender %s)", checksummed(&m->from, from));
        if (f < FORK_PRAGUE) return invalid(r, "transaction type not supported");
    }
    if (!m->has_to && f >= FORK_SHANGHAI && m->data_len > MAX_INITCODE_SIZE)
        return invalid(r, "max initcode size exceeded: code size %zu limit %d", m->data_len, MAX_INITCODE_SIZE);

    /* buyGas */
    u256 gas_w = u256_from_u64(gas), want, t;
    bool overflow = mul_overflows(&gas_w, &m->fee_cap, &want) || mul_overflows(&gas_w, &m->gas_price, &t);
    overflow = overflow || add_overflows(&want, &m->value, &want);
    if (!overflow && blob_gas) {
        u256 bg = u256_from_u64(blob_gas), blob_cost;
        overflow = mul_overflows(&bg, &m->blob_fee_cap, &blob_cost) || add_overflows(&want, &blob_cost, &want) ||
                   mul_overflows(&bg, &env->blob_base_fee, &t);
    }
    if (overflow)
        return invalid(r, "insufficient funds for gas * price + value: address %s required balance exceeds 256 bits", checksummed(&m->from, from));
    u256 have = balance_of(ee, &m->from);
    if (u256_lt(&have, &want)) {
        u256_to_dec(&have, a);
        u256_to_dec(&want, b);
        return invalid(r, "insufficient funds for gas * price + value: address %s have %s want %s", checksummed(&m->from, from), a, b);
    }
    uint64_t intrinsic = tx_intrinsic_gas(tx, f);
    if (gas < intrinsic) {
        r->intrinsic = true;
        return invalid(r, "intrinsic gas too low: have %" PRIu64 ", want %" PRIu64, gas, intrinsic);
    }
    uint64_t floor = tx_floor_gas(tx, f);
    if (gas < floor) {
        r->intrinsic = true;
        return invalid(r, "insufficient gas for floor data gas cost: have %" PRIu64 ", want %" PRIu64, gas, floor);
    }
    return true;
}

/* Runs the message with `gas` on a fresh overlay of the env's state. */
static void run_message(rpc_ctx *ctx, const exec_env *ee, const call_msg *m, uint64_t gas, const tx_options *extra,
                        run_result *r)
{
    memset(r, 0, sizeof *r);
    if (ctx->abort_flag && *ctx->abort_flag) {
        r->kind = RUN_ABORTED;
        return;
    }
    block_env env = ee->env;
    /* geth lowers the base fee to 0 for a call without a gas price (and
     * the blob base fee for one without a blob fee cap), so that BASEFEE
     * reads 0 and the fee checks hold. */
    if (u256_is_zero(&m->gas_price)) env.base_fee = u256_zero();
    if (m->has_blob_hashes && u256_is_zero(&m->blob_fee_cap)) env.blob_base_fee = u256_zero();

    transaction tx;
    to_transaction(ee, m, gas, &tx);
    if (!precheck(ee, &env, m, gas, &tx, r)) return;

    tx_options opts = {0};
    if (extra) opts = *extra;
    /* geth's ToMessage(skipChecks): no nonce, EIP-3607 or EIP-7825 checks,
     * and the gas comes from the RPC gas cap, not from the block's limit
     * (GASLIMIT still reads the block's). */
    opts.skip_nonce_check = true;
    opts.skip_eoa_check = true;
    opts.skip_block_gas_limit = true;
    opts.skip_tx_gas_cap = true;
    opts.moved_precompiles = ee->overrides.moves;
    opts.n_moved_precompiles = ee->overrides.n_moves;
    opts.abort_flag = ctx->abort_flag;
    opts.engine = ctx->cfg->engine;
    state *st = state_new(&ee->backend);
    tx_execute(st, &env, &tx, ee->fork, &opts, &r->res);
    state_free(st);
    if (r->res.error != TX_OK) {
        /* The checks above mirror the core's; this is what is left. */
        invalid(r, "%s", r->res.error == TX_GAS_LIMIT_EXCEEDS_MAXIMUM ? "transaction gas limit too high"
                        : r->res.error >= TX_TYPE_1_TX_PRE_FORK && r->res.error <= TX_TYPE_4_TX_PRE_FORK
                            ? "transaction type not supported"
                            : tx_error_name(r->res.error));
        return;
    }
    if (r->res.status == EXEC_TIMEOUT || (ctx->abort_flag && *ctx->abort_flag)) {
        r->kind = RUN_ABORTED;
        return;
    }
    r->kind = RUN_EXECUTED;
    /* geth's MaxUsedGas: the gas used before refunds, raised to the
     * EIP-7623 floor from Prague on. */
    r->peak_used = r->res.gas_spent;
    if (ee->fork >= FORK_PRAGUE) {
        uint64_t floor = tx_floor_gas(&tx, ee->fork);
        if (r->peak_used < floor) r->peak_used = floor;
    }
    metrics_record_gas(r->res.gas_used);
}

/* The opcode a failing top frame stopped at (from an EIP-3155 trace). */
typedef struct {
    bool seen;
    uint8_t op;
    size_t stack_len;
} last_step;

static void record_step(void *ctx, const trace_step *s)
{
    last_step *l = ctx;
    if (s->depth != 1) return;
    l->seen = true;
    l->op = s->op;
    l->stack_len = s->stack_len;
}

/* geth's text for an execution error of the top frame. The errors that
 * name an opcode or stack sizes are found by running the message again
 * with a tracer (only on this failure path: tracing is slow). */
static char *vm_error_text(rpc_ctx *ctx, const exec_env *ee, const call_msg *m, uint64_t gas, enum exec_status status)
{
    switch (status) {
    case EXEC_INVALID_OPCODE:
    case EXEC_STACK_UNDERFLOW:
    case EXEC_STACK_OVERFLOW: {
        last_step l = {0};
        tracer t = {.ctx = &l, .on_step = record_step};
        tx_options opts = {.trace = &t};
        run_result again;
        run_message(ctx, ee, m, gas, &opts, &again);
        bool same = again.kind == RUN_EXECUTED && again.res.status == status && l.seen;
        run_result_free(&again);
        if (!same) break;
        const opcode_info *info = &opcode_table[l.op];
        if (status == EXEC_INVALID_OPCODE) {
            if (info->name) return xstrdup_printf(NULL, "invalid opcode: %s", info->name);
            return xstrdup_printf(NULL, "invalid opcode: opcode %#x not defined", l.op);
        }
        if (status == EXEC_STACK_UNDERFLOW)
            return xstrdup_printf(NULL, "stack underflow (%zu <=> %d)", l.stack_len, info->stack_in);
        return xstrdup_printf(NULL, "stack limit reached %zu (%d)", l.stack_len,
                              EVM_STACK_LIMIT + info->stack_in - info->stack_out);
    }
    default: break;
    }
    switch (status) {
    case EXEC_STACK_OVERFLOW: return xstrdup_printf(NULL, "stack limit reached %d", EVM_STACK_LIMIT);
    case EXEC_TIMEOUT: return xstrdup_printf(NULL, "execution aborted");
    default: return xstrdup_printf(NULL, "%s", exec_status_name(status));
    }
}

/* ------------------------------------------------------------ reverts */

static bool load_word_u64(const uint8_t *w, uint64_t *out)
{
    for (int i = 0; i < 24; i++)
        if (w[i]) return false;
    uint64_t v = 0;
    for (int i = 24; i < 32; i++) v = v << 8 | w[i];
    *out = v;
    return true;
}

bool revert_reason(const uint8_t *data, size_t len, char **reason, size_t *reason_len)
{
    static const uint8_t error_selector[4] = {0x08, 0xc3, 0x79, 0xa0}; /* Error(string) */
    static const uint8_t panic_selector[4] = {0x4e, 0x48, 0x7b, 0x71}; /* Panic(uint256) */
    if (len < 4) return false;
    const uint8_t *args = data + 4;
    size_t n = len - 4;
    if (memcmp(data, error_selector, 4) == 0) {
        /* ABI string: an offset word, then at the offset a length word and
         * the bytes. The same bounds checks as go-ethereum's decoder. */
        uint64_t offset, length;
        if (n < 32 || !load_word_u64(args, &offset) || offset > n || n - offset < 32) return false;
        if (!load_word_u64(args + offset, &length) || length > n - offset - 32) return false;
        *reason = xmalloc(length + 1);
        memcpy(*reason, args + offset + 32, length);
        (*reason)[length] = '\0';
        *reason_len = length;
        return true;
    }
    if (memcmp(data, panic_selector, 4) == 0) {
        if (n < 32) return false;
        static const struct {
            uint64_t code;
            const char *text;
        } panics[] = {
            {0x00, "generic panic"},
            {0x01, "assert(false)"},
            {0x11, "arithmetic underflow or overflow"},
            {0x12, "division or modulo by zero"},
            {0x21, "enum overflow"},
            {0x22, "invalid encoded storage byte array accessed"},
            {0x31, "out-of-bounds array access; popping on an empty array"},
            {0x32, "out-of-bounds access of an array or bytesN"},
            {0x41, "out of memory"},
            {0x51, "uninitialized function"},
        };
        uint64_t code;
        if (load_word_u64(args, &code))
            for (size_t i = 0; i < sizeof panics / sizeof panics[0]; i++)
                if (panics[i].code == code) {
                    *reason = xstrdup_printf(reason_len, "%s", panics[i].text);
                    return true;
                }
        u256 v = u256_load_be(args);
        char hex[HEX_U256_LEN];
        hex_from_u256(&v, hex);
        *reason = xstrdup_printf(reason_len, "unknown panic code: %s", hex);
        return true;
    }
    return false;
}

void revert_error(rpc_error *err, const uint8_t *data, size_t len)
{
    char *reason;
    size_t reason_len;
    if (revert_reason(data, len, &reason, &reason_len)) {
        static const char prefix[] = "execution reverted: ";
        char *msg = xmalloc(sizeof prefix + reason_len);
        memcpy(msg, prefix, sizeof prefix - 1);
        memcpy(msg + sizeof prefix - 1, reason, reason_len);
        msg[sizeof prefix - 1 + reason_len] = '\0';
        free(reason);
        rpc_fail_owned(err, RPC_EXECUTION_REVERTED, msg, sizeof prefix - 1 + reason_len);
    } else {
        rpc_fail(err, RPC_EXECUTION_REVERTED, "execution reverted");
    }
    free(err->data);
    err->data = hex_from_bytes(data, len);
}

static bool timeout_error(const rpc_ctx *ctx, rpc_error *err)
{
    if (ctx->shutting_down && *ctx->shutting_down)
        return rpc_fail(err, RPC_SERVER_ERROR, "execution aborted (the server is shutting down)");
    char d[32];
    format_go_duration(ctx->cfg->call_timeout_ms, d, sizeof d);
    return rpc_fail(err, RPC_SERVER_ERROR, "execution aborted (timeout = %s)", d);
}

/* An executed message's failure as geth reports it: code 3 for a revert,
 * -32000 and the VM error otherwise. */
static void execution_failure(rpc_ctx *ctx, const exec_env *ee, const call_msg *m, uint64_t gas, const run_result *r,
                              rpc_error *err)
{
    if (r->res.status == EXEC_REVERT) {
        revert_error(err, r->res.output, r->res.output_len);
        return;
    }
    size_t len = 0;
    char *text = vm_error_text(ctx, ee, m, gas, r->res.status);
    len = strlen(text);
    rpc_fail_owned(err, RPC_SERVER_ERROR, text, len);
}

static void arm(rpc_ctx *ctx)
{
    if (ctx->arm_timeout) ctx->arm_timeout(ctx);
}

static void disarm(rpc_ctx *ctx)
{
    if (ctx->disarm_timeout) ctx->disarm_timeout(ctx);
}

/* ------------------------------------------------------------ eth_call */

json_t *exec_call(rpc_ctx *ctx, exec_env *ee, const call_args *a, rpc_error *err)
{
    call_msg m;
    if (!call_msg_build(ctx, ee, a, &m, err)) return NULL;
    arm(ctx);
    run_result r;
    run_message(ctx, ee, &m, m.gas, NULL, &r);
    json_t *result = NULL;
    if (r.kind == RUN_ABORTED) timeout_error(ctx, err);
    else if (r.kind == RUN_INVALID) rpc_fail(err, RPC_SERVER_ERROR, "err: %s (supplied gas %" PRIu64 ")", r.invalid, m.gas);
    else if (r.res.status != EXEC_SUCCESS) execution_failure(ctx, ee, &m, m.gas, &r, err);
    else {
        char *hex = hex_from_bytes(r.res.output, r.res.output_len);
        result = json_string(hex);
        free(hex);
    }
    disarm(ctx);
    run_result_free(&r);
    return result;
}

/* ---------------------------------------------------- eth_estimateGas */

/* geth's gasestimator.execute: whether the message fails at this gas for
 * a reason more gas might fix. A false return is an error to give up on. */
static bool estimate_try(rpc_ctx *ctx, const exec_env *ee, call_msg *m, uint64_t gas, bool *failed, run_result *r,
                         rpc_error *err)
{
    run_message(ctx, ee, m, gas, NULL, r);
    if (r->kind == RUN_ABORTED) return timeout_error(ctx, err);
    if (r->kind == RUN_INVALID) {
        if (r->intrinsic) {
            *failed = true;
            return true;
        }
        return rpc_fail(err, RPC_SERVER_ERROR, "failed with %" PRIu64 " gas: %s", gas, r->invalid);
    }
    *failed = r->res.status != EXEC_SUCCESS;
    return true;
}

json_t *exec_estimate_gas(rpc_ctx *ctx, exec_env *ee, const call_args *args, rpc_error *err)
{
    /* geth sets a missing gas to 0 before the defaults, so that the cap
     * does not become the limit. */
    call_args a = *args;
    if (!a.has_gas) {
        a.has_gas = true;
        a.gas = 0;
    }
    call_msg m;
    if (!call_msg_build(ctx, ee, &a, &m, err)) return NULL;
    uint64_t hi = ee->env.gas_limit;
    if (m.gas >= TX_BASE_COST) hi = m.gas;
    if (ee->fork >= FORK_OSAKA && hi > OSAKA_TX_GAS_LIMIT_CAP) hi = OSAKA_TX_GAS_LIMIT_CAP;

    /* Cap by what the sender can pay for. */
    if (!u256_is_zero(&m.fee_cap)) {
        u256 available = balance_of(ee, &m.from);
        if (!u256_lt(&m.value, &available)) {
            rpc_fail(err, RPC_SERVER_ERROR, "insufficient funds for transfer");
            return NULL;
        }
        available = u256_sub(&available, &m.value);
        if (ee->fork >= FORK_CANCUN && m.n_blob_hashes > 0) {
            u256 blob_gas = u256_from_u64((uint64_t)m.n_blob_hashes * GAS_PER_BLOB), usage;
            bool overflow = mul_overflows(&blob_gas, &m.blob_fee_cap, &usage);
            if (overflow || !u256_lt(&usage, &available)) {
                rpc_fail(err, RPC_SERVER_ERROR, "insufficient funds for gas * price + value");
                return NULL;
            }
            available = u256_sub(&available, &usage);
        }
        u256 allowance = u256_div(&available, &m.fee_cap);
        if (u256_fits_u64(&allowance) && hi > allowance.w[0]) hi = allowance.w[0];
    }
    if (ctx->cfg->gas_cap && hi > ctx->cfg->gas_cap) hi = ctx->cfg->gas_cap;

    json_t *result = NULL;
    run_result r = {0};
    bool failed;
    arm(ctx);
    /* A plain transfer: try exactly 21000 first. */
    if (m.data_len == 0 && m.has_to) {
        account_info info;
        const uint8_t *code;
        size_t code_len = 0;
        if (ee->backend.get_account(ee->backend.ctx, &m.to, &info) &&
            !ee->backend.get_code(ee->backend.ctx, &info.code_hash, &code, &code_len))
            code_len = 0;
        if (code_len == 0) {
            run_message(ctx, ee, &m, TX_BASE_COST, NULL, &r);
            if (r.kind == RUN_EXECUTED && r.res.status == EXEC_SUCCESS) {
                result = json_string("0x5208");
                goto done;
            }
            if (r.kind == RUN_ABORTED) {
                timeout_error(ctx, err);
                goto done;
            }
            run_result_free(&r);
        }
    }
    /* At the highest allowance first: if that fails, nothing will do. */
    if (!estimate_try(ctx, ee, &m, hi, &failed, &r, err)) goto done;
    if (failed) {
        if (r.kind == RUN_EXECUTED && r.res.status != EXEC_OUT_OF_GAS) execution_failure(ctx, ee, &m, hi, &r, err);
        else rpc_fail(err, RPC_SERVER_ERROR, "gas required exceeds allowance (%" PRIu64 ")", hi);
        goto done;
    }
    uint64_t lo = r.res.gas_used - 1;
    /* Likely enough: what the first run used before refunds, plus the
     * stipend, scaled for the 63/64 rule. */
    uint64_t optimistic = (r.peak_used + GAS_CALL_STIPEND) * 64 / 63;
    run_result_free(&r);
    if (optimistic < hi) {
        if (!estimate_try(ctx, ee, &m, optimistic, &failed, &r, err)) goto done;
        run_result_free(&r);
        if (failed) lo = optimistic;
        else hi = optimistic;
    }
    while (lo + 1 < hi) {
        if ((double)(hi - lo) / (double)hi < ESTIMATE_ERROR_RATIO) break;
        uint64_t mid = lo + (hi - lo) / 2;
        if (mid > lo * 2) mid = lo * 2; /* most calls need far less than the cap: bisect low */
        if (!estimate_try(ctx, ee, &m, mid, &failed, &r, err)) goto done;
        run_result_free(&r);
        if (failed) lo = mid;
        else hi = mid;
    }
    char hex[HEX_U256_LEN];
    u256 est = u256_from_u64(hi);
    hex_from_u256(&est, hex);
    result = json_string(hex);
done:
    disarm(ctx);
    run_result_free(&r);
    return result;
}

/* ------------------------------------------------ eth_createAccessList */

typedef struct {
    address addr;
    bool has_key;
    u256 key;
} access_item;

typedef struct {
    access_item *items;
    size_t n, cap;
} access_set;

static void collect_access(void *ctx, const address *a, const u256 *key)
{
    access_set *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->items = xrealloc(s->items, s->cap * sizeof *s->items);
    }
    access_item *it = &s->items[s->n++];
    it->addr = *a;
    it->has_key = key != NULL;
    it->key = key ? *key : u256_zero();
}

static int compare_items(const void *pa, const void *pb)
{
    const access_item *a = pa, *b = pb;
    int c = memcmp(a->addr.b, b->addr.b, 20);
    if (c) return c;
    if (a->has_key != b->has_key) return a->has_key ? 1 : -1;
    for (int i = 3; i >= 0; i--)
        if (a->key.w[i] != b->key.w[i]) return a->key.w[i] < b->key.w[i] ? -1 : 1;
    return 0;
}

typedef struct {
    address *addrs;
    size_t n;
} address_list;

static bool address_in(const address_list *l, const address *a)
{
    for (size_t i = 0; i < l->n; i++)
        if (memcmp(l->addrs[i].b, a->b, 20) == 0) return true;
    return false;
}

/* The access list as geth's tracer would build it from the accounts and
 * slots warm at the end: excluded accounts (sender, recipient,
 * precompiles, authorities) only when they had slots read or written. */
typedef struct {
    access_list_entry *entries;
    size_t n;
    hash32 *keys;
} built_list;

static void built_list_free(built_list *l)
{
    free(l->entries);
    free(l->keys);
    memset(l, 0, sizeof *l);
}

static void build_list(access_set *s, const address_list *excluded, const address *coinbase, built_list *out)
{
    if (s->n) qsort(s->items, s->n, sizeof *s->items, compare_items);
    out->entries = xcalloc(s->n + 1, sizeof *out->entries);
    out->keys = xcalloc(s->n + 1, sizeof *out->keys);
    out->n = 0;
    size_t n_keys = 0;
    for (size_t i = 0; i < s->n;) {
        size_t j = i;
        bool has_slots = false;
        while (j < s->n && memcmp(s->items[j].addr.b, s->items[i].addr.b, 20) == 0) has_slots |= s->items[j++].has_key;
        const address *a = &s->items[i].addr;
        /* The coinbase is warm from Shanghai on whether or not the code
         * touched it; geth's tracer lists it only when touched, which the
         * warm set cannot tell apart: it is listed only with slots. */
        bool skip = !has_slots && (address_in(excluded, a) || (coinbase && memcmp(a->b, coinbase->b, 20) == 0));
        if (!skip) {
            access_list_entry *e = &out->entries[out->n++];
            e->addr = *a;
            e->keys = &out->keys[n_keys];
            for (size_t k = i; k < j; k++) {
                if (!s->items[k].has_key) continue;
                if (k > i && s->items[k - 1].has_key && u256_eq(&s->items[k - 1].key, &s->items[k].key)) continue;
                u256_store_be(out->keys[n_keys++].b, &s->items[k].key);
                e->n_keys++;
            }
        }
        i = j;
    }
}

static bool lists_equal(const built_list *a, const built_list *b)
{
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++) {
        if (memcmp(a->entries[i].addr.b, b->entries[i].addr.b, 20) || a->entries[i].n_keys != b->entries[i].n_keys)
            return false;
        if (a->entries[i].n_keys &&
            memcmp(a->entries[i].keys, b->entries[i].keys, a->entries[i].n_keys * sizeof(hash32)))
            return false;
    }
    return true;
}

/* The initial list: the caller's, without excluded accounts (as geth's
 * NewAccessListTracer), sorted and deduplicated. */
static void initial_list(const call_args *a, const address_list *excluded, built_list *out)
{
    access_set s = {0};
    for (size_t i = 0; i < a->n_access_list; i++) {
        const access_list_entry *e = &a->access_list[i];
        if (address_in(excluded, &e->addr)) continue;
        collect_access(&s, &e->addr, NULL);
        for (size_t k = 0; k < e->n_keys; k++) {
            u256 key = u256_load_be(e->keys[k].b);
            collect_access(&s, &e->addr, &key);
        }
    }
    address_list none = {0};
    build_list(&s, &none, NULL, out);
    free(s.items);
}

static json_t *list_to_json(const built_list *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++) {
        char hex[HEX_HASH_LEN];
        json_t *keys = json_array();
        for (size_t k = 0; k < l->entries[i].n_keys; k++) {
            hex_from_hash(&l->entries[i].keys[k], hex);
            json_array_append_new(keys, json_string(hex));
        }
        hex_from_address(&l->entries[i].addr, hex);
        json_t *obj = json_object();
        json_object_set_new(obj, "address", json_string(hex));
        json_object_set_new(obj, "storageKeys", keys);
        json_array_append_new(arr, obj);
    }
    return arr;
}

/* The hash geth prints for a failed access-list run: the arguments as an
 * unsigned legacy transaction. */
static void legacy_tx_hash(const call_args *a, uint64_t nonce, uint64_t gas, char out[HEX_HASH_LEN])
{
    bytebuf enc = {0};
    size_t mark = rlp_list_begin(&enc);
    rlp_put_u64(&enc, nonce);
    rlp_put_u256(&enc, &a->gas_price); /* zero when absent */
    rlp_put_u64(&enc, gas);
    rlp_put_bytes(&enc, a->has_to ? a->to.b : NULL, a->has_to ? 20 : 0);
    rlp_put_u256(&enc, &a->value);
    const bytebuf *data = call_args_data(a);
    rlp_put_bytes(&enc, data->data, data->len);
    u256 zero = u256_zero();
    rlp_put_u256(&enc, &zero);
    rlp_put_u256(&enc, &zero);
    rlp_put_u256(&enc, &zero);
    rlp_list_end(&enc, mark);
    hash32 h;
    keccak256(enc.data, enc.len, h.b);
    bytebuf_free(&enc);
    hex_from_hash(&h, out);
}

/* geth's setFeeDefaults, used by eth_createAccessList: fill in the fees a
 * real transaction would carry. */
static bool fee_defaults(const rpc_ctx *ctx, const exec_env *ee, call_args *a, rpc_error *err)
{
    if (a->has_blob_fee && u256_is_zero(&a->max_fee_per_blob_gas))
        return rpc_fail(err, RPC_SERVER_ERROR, "maxFeePerBlobGas, if specified, must be non-zero");
    if (ee->fork >= FORK_CANCUN && a->has_blob_hashes && !a->has_blob_fee) {
        u256 two = u256_from_u64(2);
        a->max_fee_per_blob_gas = u256_mul(&ee->env.blob_base_fee, &two);
        a->has_blob_fee = true;
    }
    if (a->has_gas_price && (a->has_max_fee || a->has_max_priority))
        return rpc_fail(err, RPC_SERVER_ERROR, "both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified");
    if (a->has_gas_price && a->has_auths)
        return rpc_fail(err, RPC_SERVER_ERROR, "both gasPrice and authorizationList specified");
    char x[HEX_U256_LEN], y[HEX_U256_LEN];
    if (!a->has_gas_price && a->has_max_fee && a->has_max_priority) {
        if (u256_is_zero(&a->max_fee)) return rpc_fail(err, RPC_SERVER_ERROR, "maxFeePerGas must be non-zero");
        if (u256_lt(&a->max_fee, &a->max_priority)) {
            hex_from_u256(&a->max_fee, x);
            hex_from_u256(&a->max_priority, y);
            return rpc_fail(err, RPC_SERVER_ERROR, "maxFeePerGas (%s) < maxPriorityFeePerGas (%s)", x, y);
        }
        return true;
    }
    bool london = ee->fork >= FORK_LONDON;
    if (a->has_gas_price) {
        if (u256_is_zero(&a->gas_price) && london)
            return rpc_fail(err, RPC_SERVER_ERROR, "gasPrice must be non-zero after london fork");
        return true;
    }
    if (london) {
        if (!a->has_max_priority) {
            a->max_priority = ctx->cfg->priority_fee;
            a->has_max_priority = true;
        }
        if (!a->has_max_fee) {
            u256 two = u256_from_u64(2), twice = u256_mul(&ee->env.base_fee, &two);
            a->max_fee = u256_add(&a->max_priority, &twice);
            a->has_max_fee = true;
        }
        if (u256_lt(&a->max_fee, &a->max_priority)) {
            hex_from_u256(&a->max_fee, x);
            hex_from_u256(&a->max_priority, y);
            return rpc_fail(err, RPC_SERVER_ERROR, "maxFeePerGas (%s) < maxPriorityFeePerGas (%s)", x, y);
        }
        return true;
    }
    if (a->has_max_fee || a->has_max_priority)
        return rpc_fail(err, RPC_SERVER_ERROR, "maxFeePerGas and maxPriorityFeePerGas are not valid before London is active");
    a->gas_price = ctx->cfg->priority_fee;
    a->has_gas_price = true;
    return true;
}

json_t *exec_create_access_list(rpc_ctx *ctx, exec_env *ee, call_args *args, rpc_error *err)
{
    call_args a = *args; /* the defaults below change a copy; the buffers stay the caller's */
    if (!fee_defaults(ctx, ee, &a, err)) return NULL;
    if (!a.has_nonce) {
        account_info info;
        a.nonce = ee->backend.get_account(ee->backend.ctx, &a.from, &info) ? info.nonce : 0;
        a.has_nonce = true;
    }
    call_msg m;
    if (!call_msg_build(ctx, ee, &a, &m, err)) return NULL;

    address to = a.has_to ? a.to : create_address(&a.from, a.nonce);
    address_list excluded = {xcalloc(3 + 0x100 + a.n_auths, sizeof(address)), 0};
    excluded.addrs[excluded.n++] = a.from;
    excluded.addrs[excluded.n++] = to;
    for (unsigned p = 1; p <= 0x100; p++) {
        address pc = {{0}};
        pc.b[18] = (uint8_t)(p >> 8);
        pc.b[19] = (uint8_t)p;
        if (precompile_is_active(&pc, ee->fork)) excluded.addrs[excluded.n++] = pc;
    }
    u256 chain_id = u256_from_u64(ctx->chain.chain_id);
    for (size_t i = 0; i < a.n_auths; i++) {
        const authorization *auth = &a.auths[i];
        if (!u256_is_zero(&auth->chain_id) && !u256_eq(&auth->chain_id, &chain_id)) continue;
        if (!u256_fits_u64(&auth->nonce) || auth->nonce.w[0] == UINT64_MAX) continue;
        address authority;
        if (tx_recover_authority(auth, &authority)) excluded.addrs[excluded.n++] = authority;
    }
    json_t *result = NULL;
    built_list prev = {0}, next = {0};
    run_result r = {0};
    if ((uint64_t)a.n_auths > m.gas / PER_EMPTY_ACCOUNT_COST) {
        rpc_fail(err, RPC_SERVER_ERROR, "insufficient gas to process all authorizations");
        goto out;
    }
    initial_list(&a, &excluded, &prev);
    arm(ctx);
    for (int round = 0;; round++) {
        access_set seen = {0};
        tx_options opts = {.on_access = collect_access, .on_access_ctx = &seen};
        m.access_list = prev.entries;
        m.n_access_list = prev.n;
        run_message(ctx, ee, &m, m.gas, &opts, &r);
        if (r.kind == RUN_ABORTED) {
            free(seen.items);
            timeout_error(ctx, err);
            break;
        }
        if (r.kind == RUN_INVALID) {
            free(seen.items);
            char hash[HEX_HASH_LEN];
            legacy_tx_hash(&a, a.nonce, m.gas, hash);
            rpc_fail(err, RPC_SERVER_ERROR, "failed to apply transaction: %s err: %s", hash, r.invalid);
            break;
        }
        build_list(&seen, &excluded, &ee->env.coinbase, &next);
        free(seen.items);
        if (lists_equal(&prev, &next) || round + 1 == MAX_ACCESS_LIST_ROUNDS) {
            result = json_object();
            json_object_set_new(result, "accessList", list_to_json(&next));
            if (r.res.status != EXEC_SUCCESS) {
                char *text = r.res.status == EXEC_REVERT ? xstrdup_printf(NULL, "execution reverted")
                                                         : vm_error_text(ctx, ee, &m, m.gas, r.res.status);
                json_object_set_new(result, "error", json_string(text));
                free(text);
            }
            char hex[HEX_U256_LEN];
            u256 used = u256_from_u64(r.res.gas_used);
            hex_from_u256(&used, hex);
            json_object_set_new(result, "gasUsed", json_string(hex));
            break;
        }
        built_list_free(&prev);
        prev = next;
        memset(&next, 0, sizeof next);
        run_result_free(&r);
    }
    disarm(ctx);
out:
    run_result_free(&r);
    built_list_free(&prev);
    built_list_free(&next);
    free(excluded.addrs);
    return result;
}
