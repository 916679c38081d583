/* Runs one piece of contract code as a message call on a small fresh state,
 * on a chosen engine, and reports status, gas, output, state root and how
 * the frames ran: the one "run this code" helper of the tests that compare
 * the tiers (test_jit.c, fuzz_interp.c). Core only, and no check: the
 * fuzzer (make fuzz) links neither check nor service nor schema.
 *
 * The state: TEST_CONTRACT (nonce 1, 10^9 wei, the code), TEST_SENDER
 * (10^9 wei, no code) and TEST_CALLEE (nonce 1, 10^9 wei, code
 * SSTORE(0, 1); SELFDESTRUCT(CALLER): something for the code to call). The
 * block: number 5, timestamp 1000, gas limit 30M, chain 1, base fee 7, the
 * fork's default blob schedule; gas price 10; origin and caller TEST_SENDER. */
#ifndef JITEVM_TESTLIB_EVM_H
#define JITEVM_TESTLIB_EVM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit/jit.h"
#include "vm/evm.h"

extern const address TEST_CONTRACT, TEST_SENDER, TEST_CALLEE;

typedef struct {
    enum fork fork;
    enum engine engine;
    int64_t gas;
    const uint8_t *calldata;
    size_t calldata_len;
    uint64_t value;               /* wei sent with the call, moved from TEST_SENDER */
    const atomic_int *abort_flag; /* polled by the engine; NULL for none */
    size_t memory_limit;          /* evm_set_memory_limit; 0 for none */
    bool traced;                  /* a tracer with an empty on_step: the interpreter
                                   * checks every instruction one by one */
} test_call;

typedef struct {
    enum exec_status status;
    int64_t gas_left;
    size_t output_len;
    hash32 output_hash; /* keccak-256 of the whole output */
    hash32 root;     /* the state root after the call, the transaction finalized */
    /* How this call's frames ran (the engine's counters before and after):
     * on the interpreter, compiled, and compiled frames handed to the
     * interpreter part way. */
    uint64_t frames_interp, frames_compiled, deopts;
} test_outcome;

void test_run_code(const uint8_t *code, size_t code_len, const test_call *call, test_outcome *out);
/* Whether a and b agree on status, gas left, the whole output (its length
 * and hash) and the state root; not on how their frames ran. */
bool test_outcome_same(const test_outcome *a, const test_outcome *b);

#endif
