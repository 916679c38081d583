/* libFuzzer harness for both execution tiers and the call machinery: the
 * input is a fork selector, calldata and contract code. The contract runs as
 * a message call (and may call itself, create, self-destruct...) on a small
 * state, once on the interpreter and once with every frame compiled. Checked
 * on every input: no crash or sanitizer report, gas left within [0, gas
 * given], a status the engine defines, and the two tiers agreeing on status,
 * gas, output and state root.
 * Build and run: make fuzz [FUZZ_TIME=seconds]. */
#include <stdlib.h>
#include <string.h>

#include "vm/evm.h"
#include "jit/jit.h"
#include "state/memstate.h"

#define FUZZ_GAS 2000000

typedef struct {
    enum exec_status status;
    int64_t gas_left;
    uint8_t output_hash[32];
    size_t output_len;
    hash32 root;
} outcome;

static void run(const uint8_t *code, size_t code_len, const uint8_t *calldata, size_t calldata_len, enum fork f,
                enum engine engine, outcome *out)
{
    memstate *m = memstate_new();
    address contract = {{0}}, sender = {{0}}, other = {{0}};
    contract.b[19] = 0xc0;
    sender.b[19] = 0x5e;
    other.b[19] = 0x07;
    u256 balance = u256_from_u64(1000000000);
    static const uint8_t other_code[] = {0x60, 0x01, 0x60, 0x00, 0x55, 0x33, 0xff}; /* SSTORE 0 1; SELFDESTRUCT(caller) */
    memstate_put_account(m, &contract, 1, &balance, code, code_len);
    memstate_put_account(m, &sender, 0, &balance, NULL, 0);
    memstate_put_account(m, &other, 1, &balance, other_code, sizeof other_code);
    state_backend b = memstate_backend(m);
    state *st = state_new(&b);
    block_env block = {.number = 5, .timestamp = 1000, .gas_limit = 30000000};
    block.chain_id = u256_from_u64(1);
    block.base_fee = u256_from_u64(7);
    block_env_default_blob_schedule(&block, f);
    evm *e = evm_new(st, &block, f);
    evm_set_engine(e, engine);
    u256 price = u256_from_u64(10);
    evm_set_tx_context(e, &sender, &price, NULL, 0);
    message msg = {
        .kind = CALL_CALL,
        .gas = FUZZ_GAS,
        .recipient = contract,
        .sender = sender,
        .code_address = contract,
        .value = u256_from_u64(1),
        .transfers_value = true,
        .input = calldata,
        .input_len = calldata_len,
    };
    exec_result r = evm_execute(e, &msg);
    memset(out, 0, sizeof *out); /* padding too: outcomes are compared with memcmp */
    if (r.gas_left < 0 || r.gas_left > FUZZ_GAS) abort();
    if (r.status > EXEC_TIMEOUT) abort();
    if (r.status != EXEC_SUCCESS && r.status != EXEC_REVERT && r.output_len) abort();
    out->status = r.status;
    out->gas_left = r.gas_left;
    out->output_len = r.output_len;
    memset(out->output_hash, 0, 32);
    for (size_t i = 0; i < r.output_len; i++) out->output_hash[i % 32] ^= r.output[i];
    state_finalize_tx(st, f);
    state_sink sink = memstate_sink(m);
    state_commit(st, &sink);
    memstate_root(m, &out->root);
    evm_free(e);
    state_free(st);
    memstate_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    enum fork f = (enum fork)(data[0] % FORK_COUNT);
    size_t calldata_len = data[1] % 65;
    data += 2;
    size -= 2;
    if (calldata_len > size) calldata_len = size;
    const uint8_t *calldata = data;
    const uint8_t *code = data + calldata_len;
    size_t code_len = size - calldata_len;
    outcome a, b;
    run(code, code_len, calldata, calldata_len, f, ENGINE_INTERP, &a);
    run(code, code_len, calldata, calldata_len, f, ENGINE_JIT, &b);
    if (memcmp(&a, &b, sizeof a) != 0) abort();
    return 0;
}
