/* The tests' "run this code" helper (see testlib_evm.h). */
#include "testlib_evm.h"

#include <string.h>

#include "base/keccak.h"
#include "state/memstate.h"

const address TEST_CONTRACT = {{[19] = 0xc0}};
const address TEST_SENDER = {{[19] = 0x5e}};
const address TEST_CALLEE = {{[19] = 0x07}};

static memstate *small_state(const uint8_t *code, size_t code_len)
{
    static const uint8_t callee_code[] = {0x60, 0x01, 0x60, 0x00, 0x55, 0x33, 0xff}; /* SSTORE(0, 1); SELFDESTRUCT(CALLER) */
    memstate *m = memstate_new();
    u256 balance = u256_from_u64(1000000000);
    memstate_put_account(m, &TEST_CONTRACT, 1, &balance, code, code_len);
    memstate_put_account(m, &TEST_SENDER, 0, &balance, NULL, 0);
    memstate_put_account(m, &TEST_CALLEE, 1, &balance, callee_code, sizeof callee_code);
    return m;
}

static void ignore_step(void *ctx, const trace_step *step)
{
    (void)ctx;
    (void)step;
}

void test_run_code(const uint8_t *code, size_t code_len, const test_call *call, test_outcome *out)
{
    memstate *m = small_state(code, code_len);
    state_backend b = memstate_backend(m);
    state *st = state_new(&b);
    block_env block = {.number = 5, .timestamp = 1000, .gas_limit = 30000000};
    block.chain_id = u256_from_u64(1);
    block.base_fee = u256_from_u64(7);
    block_env_default_blob_schedule(&block, call->fork);
    jit_stats before = jit_get_stats();
    evm *e = evm_new(st, &block, call->fork);
    evm_set_engine(e, call->engine);
    if (call->abort_flag) evm_set_abort_flag(e, call->abort_flag);
    evm_set_memory_limit(e, call->memory_limit);
    static const tracer step_tracer = {.on_step = ignore_step};
    if (call->traced) evm_set_tracer(e, &step_tracer);
    u256 price = u256_from_u64(10);
    evm_set_tx_context(e, &TEST_SENDER, &price, NULL, 0);
    message msg = {
        .kind = CALL_CALL,
        .gas = call->gas,
        .recipient = TEST_CONTRACT,
        .sender = TEST_SENDER,
        .code_address = TEST_CONTRACT,
        .value = u256_from_u64(call->value),
        .transfers_value = call->value != 0,
        .input = call->calldata,
        .input_len = call->calldata_len,
    };
    exec_result r = evm_execute(e, &msg);
    memset(out, 0, sizeof *out);
    out->status = r.status;
    out->gas_left = r.gas_left;
    out->output_len = r.output_len;
    keccak256(r.output_len ? r.output : (const uint8_t *)"", r.output_len, out->output_hash.b);
    state_finalize_tx(st, call->fork);
    state_sink sink = memstate_sink(m);
    state_commit(st, &sink);
    memstate_root(m, &out->root);
    evm_free(e); /* counts the frames into the engine's statistics */
    jit_stats after = jit_get_stats();
    out->frames_interp = after.frames_interp - before.frames_interp;
    out->frames_compiled = after.frames_compiled - before.frames_compiled;
    out->deopts = after.deopts - before.deopts;
    state_free(st);
    memstate_free(m);
}

bool test_outcome_same(const test_outcome *a, const test_outcome *b)
{
    return a->status == b->status && a->gas_left == b->gas_left && a->output_len == b->output_len &&
           memcmp(a->output_hash.b, b->output_hash.b, 32) == 0 &&
           memcmp(a->root.b, b->root.b, 32) == 0;
}
