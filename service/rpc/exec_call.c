/* eth_call and eth_estimateGas: one run, or geth's gas search over runs
 * (gasestimator: the allowance the sender can pay for, a first try at the
 * top, an optimistic guess from the gas used, then bisection to within
 * ESTIMATE_ERROR_RATIO). */
#include "rpc/exec_run.h"

#include <inttypes.h>
#include <stdlib.h>

#include "base/params.h"
#include "hexjson.h"

#define ESTIMATE_ERROR_RATIO 0.015      /* geth's estimateGasErrorRatio */

/* ------------------------------------------------------------ eth_call */

json_t *exec_call(rpc_ctx *ctx, exec_env *ee, const call_args *a, rpc_error *err)
{
    call_msg m;
    if (!call_msg_build(ctx, ee, a, &m, err)) return NULL;
    exec_arm_timeout(ctx);
    run_result r;
    run_message(ctx, ee, &m, m.gas, NULL, &r);
    json_t *result = NULL;
    if (r.kind == RUN_ABORTED) timeout_error(ctx, err);
    else if (r.kind == RUN_INVALID) rpc_fail(err, RPC_SERVER_ERROR, "err: %s (supplied gas %" PRIu64 ")", r.invalid, m.gas);
    else if (r.res.status != EXEC_SUCCESS) execution_failure(ctx, ee, &m, m.gas, &r, err);
    else {
        result = rpc_result_hex_bytes(ctx, r.res.output, r.res.output_len);
    }
    exec_disarm_timeout(ctx);
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
        u256 available = exec_balance_of(ee, &m.from);
        if (!u256_lt(&m.value, &available)) {
            rpc_fail(err, RPC_SERVER_ERROR, "insufficient funds for transfer");
            return NULL;
        }
        available = u256_sub(&available, &m.value);
        if (ee->fork >= FORK_CANCUN && m.n_blob_hashes > 0) {
            u256 blob_gas = u256_from_u64((uint64_t)m.n_blob_hashes * GAS_PER_BLOB), usage;
            bool overflow = !u256_mul_checked(&blob_gas, &m.blob_fee_cap, &usage);
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
    exec_arm_timeout(ctx);
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
    result = json_string_nocheck(hex);
done:
    exec_disarm_timeout(ctx);
    run_result_free(&r);
    return result;
}
