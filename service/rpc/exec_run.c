/* Running a call message the way geth's eth_call does: the transaction
 * the core runs for it, geth's pre-execution checks (tx.c's rules, applied
 * in geth's order and worded as geth words them), the run itself on a
 * fresh overlay, and geth's texts for what went wrong (VM errors, reverts,
 * timeouts). Shared by the method families (exec_call.c,
 * exec_access_list.c) through exec_run.h. */
#include "rpc/exec_run.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/format.h"
#include "hexjson.h"
#include "metrics.h"
#include "rpc/trace_tracers.h"
#include "vm/block.h"
#include "vm/opcodes.h"

void run_result_free(run_result *r)
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
    r->invalid = str_vprintf(NULL, fmt, ap);
    va_end(ap);
    r->kind = RUN_INVALID;
    return false;
}

u256 exec_balance_of(const exec_env *ee, const address *a)
{
    account_info info;
    if (!ee->backend.get_account(ee->backend.ctx, a, &info)) return u256_zero();
    return info.balance;
}

/* The transaction the core runs for a message. */
void to_transaction(const exec_env *ee, const call_msg *m, uint64_t gas, transaction *tx)
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

/* geth's words for a broken rule (from tx.c's tx_violation) in a call.
 * The have/want numbers are decimal, the sender checksummed, as geth
 * prints them. */
bool invalid_tx(run_result *r, const call_msg *m, const tx_violation *v)
{
    char from[43], have[80], want[80];
    address_checksum(&m->from, from);
    u256_to_dec(&v->have, have);
    u256_to_dec(&v->want, want);
    switch (v->rule) {
    case TX_PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS:
        return invalid(r, "max priority fee per gas higher than max fee per gas: address %s, maxPriorityFeePerGas: %s, maxFeePerGas: %s",
                       from, have, want);
    case TX_INSUFFICIENT_MAX_FEE_PER_GAS:
        return invalid(r, "max fee per gas less than block base fee: address %s, maxFeePerGas: %s, baseFee: %s", from, have, want);
    case TX_TYPE_3_TX_CONTRACT_CREATION: return invalid(r, "blob transaction of type create");
    case TX_TYPE_3_TX_ZERO_BLOBS: return invalid(r, "blob transaction missing blob hashes");
    case TX_TYPE_3_TX_BLOB_COUNT_EXCEEDED: return invalid(r, "blob transaction has too many blobs");
    case TX_TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH: return invalid(r, "blob %zu has invalid hash version", v->index);
    case TX_INSUFFICIENT_MAX_FEE_PER_BLOB_GAS:
        return invalid(r, "max fee per blob gas less than block blob gas fee: address %s blobGasFeeCap: %s, blobBaseFee: %s",
                       from, have, want);
    case TX_TYPE_4_TX_CONTRACT_CREATION:
        return invalid(r, "EIP-7702 transaction cannot be used to create contract (sender %s)", from);
    case TX_TYPE_4_EMPTY_AUTHORIZATION_LIST:
        return invalid(r, "EIP-7702 transaction with empty auth list (sender %s)", from);
    case TX_TYPE_1_TX_PRE_FORK:
    case TX_TYPE_2_TX_PRE_FORK:
    case TX_TYPE_3_TX_PRE_FORK:
    case TX_TYPE_4_TX_PRE_FORK: return invalid(r, "transaction type not supported");
    case TX_INITCODE_SIZE_EXCEEDED: return invalid(r, "max initcode size exceeded: code size %s limit %s", have, want);
    case TX_INSUFFICIENT_ACCOUNT_FUNDS:
        if (v->overflow)
            return invalid(r, "insufficient funds for gas * price + value: address %s required balance exceeds 256 bits", from);
        return invalid(r, "insufficient funds for gas * price + value: address %s have %s want %s", from, have, want);
    case TX_INTRINSIC_GAS_TOO_LOW:
        r->intrinsic = true;
        return invalid(r, "intrinsic gas too low: have %s, want %s", have, want);
    case TX_INTRINSIC_GAS_BELOW_FLOOR_GAS_COST:
        r->intrinsic = true;
        return invalid(r, "insufficient gas for floor data gas cost: have %s, want %s", have, want);
    case TX_GAS_LIMIT_EXCEEDS_MAXIMUM: return invalid(r, "transaction gas limit too high");
    default: return invalid(r, "%s", tx_error_name(v->rule)); /* no geth wording: the spec's name */
    }
}

/* geth's preCheck/buyGas/intrinsic checks for a call, in geth's order:
 * tx.c's rules, without the nonce, EIP-3607 and EIP-7825 ones (geth's
 * SkipNonceChecks/SkipTransactionChecks). `env` is the block as the call
 * sees it (a zero gas price zeroes its base fee, so the fee caps hold). */
static bool precheck(const exec_env *ee, const block_env *env, const call_msg *m, const transaction *tx,
                     run_result *r)
{
    enum fork f = ee->fork;
    /* geth checks the blob fields of any message that has them, before
     * Cancun too; `blobs` is the transaction seen as a blob transaction. */
    transaction blobs; /* copied only for a message with blobs (a transaction is 336 bytes) */
    const transaction *payer = tx;
    if (m->has_blob_hashes) {
        blobs = *tx;
        blobs.type = 3;
        blobs.blob_hashes = m->blob_hashes;
        blobs.n_blob_hashes = m->n_blob_hashes;
        blobs.max_fee_per_blob_gas = m->blob_fee_cap;
        /* Blob gas is paid for from Cancun on. */
        if (f >= FORK_CANCUN) payer = &blobs;
    }
    u256 balance = exec_balance_of(ee, &m->from);
    tx_violation v;
    bool ok = tx_check_fee_caps(tx, &env->base_fee, f, &v) &&
              (!m->has_blob_hashes ||
               (tx_check_creation(&blobs, &v) && tx_check_blob_hashes(&blobs, f, &v) &&
                (f < FORK_CANCUN || tx_check_blob_fee(&blobs, &env->blob_base_fee, &v)))) &&
              (!m->has_auths ||
               (tx_check_creation(tx, &v) && tx_check_authorization_list(tx, &v) && tx_check_type(tx, f, &v))) &&
              tx_check_initcode(tx, f, &v) && tx_check_funds(payer, &balance, &v) && tx_check_gas(tx, f, &v);
    return ok || invalid_tx(r, m, &v);
}

/* Runs the message with `gas` on a fresh overlay of the env's state. */
void run_message(rpc_ctx *ctx, const exec_env *ee, const call_msg *m, uint64_t gas, const tx_options *extra,
                 run_result *r)
{
    memset(r, 0, sizeof *r);
    ctx->gas_budget_hit = false;
    if (ctx->abort_flag && *ctx->abort_flag) {
        r->kind = RUN_ABORTED;
        return;
    }
    /* The request's gas budget (a batch's calls share it, as geth's gas
     * cap is shared by eth_simulateV1's calls): a run gets at most what is
     * left; one that runs out of gas only because of it is stopped as by
     * a limit, not reported as the contract's out of gas. */
    bool budgeted = ctx->cfg->request_gas != 0;
    bool capped = budgeted && gas > ctx->gas_left;
    if (capped) gas = ctx->gas_left;
    if (budgeted && gas == 0) {
        ctx->gas_budget_hit = true;
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
    if (!precheck(ee, &env, m, &tx, r)) {
        if (capped && r->intrinsic) { /* what is left does not even cover the intrinsic gas */
            run_result_free(r);
            ctx->gas_budget_hit = true;
            r->kind = RUN_ABORTED;
        }
        return;
    }

    tx_options opts = {0};
    if (extra) opts = *extra;
    /* geth's ToMessage(skipChecks): no nonce, EIP-3607 or EIP-7825 checks,
     * and the gas comes from the RPC gas cap, not from the block's limit
     * (GASLIMIT still reads the block's). */
    opts.skip_nonce_check = true;
    opts.skip_eoa_check = true;
    opts.skip_block_gas_limit = true;
    opts.skip_tx_gas_cap = true;
    opts.discard_state = true; /* freed right after, unseen */
    opts.moved_precompiles = ee->overrides.moves;
    opts.n_moved_precompiles = ee->overrides.n_moves;
    opts.abort_flag = ctx->abort_flag;
    opts.engine = ctx->cfg->engine;
    opts.memory_limit = ctx->cfg->max_call_memory;
    state *st = state_new(&ee->backend);
    tx_execute(st, &env, &tx, ee->fork, &opts, &r->res);
    state_free(st);
    if (budgeted && r->res.error == TX_OK) {
        ctx->gas_left -= r->res.gas_spent < ctx->gas_left ? r->res.gas_spent : ctx->gas_left;
        if (capped && r->res.status == EXEC_OUT_OF_GAS) {
            ctx->gas_budget_hit = true;
            r->kind = RUN_ABORTED;
            return;
        }
    }
    if (r->res.error != TX_OK) {
        /* A rule precheck does not apply (the block's blob gas limit). */
        tx_violation v = {.rule = r->res.error};
        invalid_tx(r, m, &v);
        return;
    }
    if (r->res.status == EXEC_TIMEOUT || (ctx->abort_flag && *ctx->abort_flag)) {
        r->kind = RUN_ABORTED;
        return;
    }
    r->kind = RUN_EXECUTED;
    /* geth's MaxUsedGas: the gas used before refunds, raised to the
     * EIP-7623 floor from Prague on. */
    r->peak_used = r->res.gas_spent > r->res.floor_gas ? r->res.gas_spent : r->res.floor_gas;
    metrics_record_gas(r->res.gas_used);
}

/* geth's text for an execution error of the top frame. The errors that
 * name an opcode or stack sizes, and out of gas at EIP-2200's SSTORE
 * sentry, are found by running the message again with a tracer (only on
 * this failure path: tracing is slow); the wording is the tracers' own
 * (trace_step_error_text), so eth_call and debug_traceCall agree. */
char *vm_error_text(rpc_ctx *ctx, const exec_env *ee, const call_msg *m, uint64_t gas, enum exec_status status)
{
    if (trace_error_names_step(status, ee->fork)) {
        block_top_step l = {0};
        tracer t = {.ctx = &l, .on_step = block_record_top_step};
        tx_options opts = {.trace = &t};
        run_result again;
        run_message(ctx, ee, m, gas, &opts, &again);
        bool same = again.kind == RUN_EXECUTED && again.res.status == status && l.seen;
        run_result_free(&again);
        if (same) return trace_step_error_text(l.step.op, l.step.stack_len, l.step.gas, status, ee->fork);
    }
    switch (status) {
    case EXEC_STACK_OVERFLOW: return str_printf(NULL, "stack limit reached %d", EVM_STACK_LIMIT);
    case EXEC_TIMEOUT: return str_printf(NULL, "execution aborted");
    case EXEC_MEMORY_LIMIT:
        return str_printf(NULL, "memory limit reached: EVM memory of one call at most %zu bytes, of all running calls %zu",
                          ctx->cfg->max_call_memory, ctx->cfg->max_exec_memory);
    default: return str_printf(NULL, "%s", exec_status_name(status));
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
                    *reason = str_printf(reason_len, "%s", panics[i].text);
                    return true;
                }
        u256 v = u256_load_be(args);
        char hex[HEX_U256_LEN];
        hex_from_u256(&v, hex);
        *reason = str_printf(reason_len, "unknown panic code: %s", hex);
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

bool timeout_error(const rpc_ctx *ctx, rpc_error *err)
{
    if (ctx->gas_budget_hit)
        return rpc_fail(err, RPC_SERVER_ERROR, "request gas budget exhausted (%" PRIu64 " gas for the whole request)",
                        ctx->cfg->request_gas);
    if (ctx->shutting_down && *ctx->shutting_down)
        return rpc_fail(err, RPC_SERVER_ERROR, "execution aborted (the server is shutting down)");
    char d[32];
    format_go_duration(ctx->cfg->call_timeout_ms, d, sizeof d);
    return rpc_fail(err, RPC_SERVER_ERROR, "execution aborted (timeout = %s)", d);
}

/* An executed message's failure as geth reports it: code 3 for a revert,
 * -32000 and the VM error otherwise. */
void execution_failure(rpc_ctx *ctx, const exec_env *ee, const call_msg *m, uint64_t gas, const run_result *r,
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

void exec_arm_timeout(rpc_ctx *ctx)
{
    if (ctx->arm_timeout) ctx->arm_timeout(ctx);
}

void exec_disarm_timeout(rpc_ctx *ctx)
{
    if (ctx->disarm_timeout) ctx->disarm_timeout(ctx);
}
