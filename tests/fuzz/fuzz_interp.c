/* libFuzzer harness for both execution tiers and the call machinery: the
 * input is a fork selector, calldata and contract code. The contract runs as
 * a message call with 1 wei (and may call TEST_CALLEE or itself, create,
 * self-destruct...) on the small state of testlib_evm.h, once on the
 * interpreter and once with --engine jit (every frame compiled first; code
 * the compiler refuses runs interpreted there too). Checked on every input:
 * no crash or sanitizer report, gas left within [0, gas given], a status
 * the engine defines, no output from an exceptional halt, and the two tiers
 * agreeing on status, gas left, the whole output and the state root. The
 * interpreter also runs under a tracer (every instruction checked one by
 * one, not per segment), with the same gas and with a small gas limit taken
 * from the input (out of gas part way), and must agree with itself.
 * Build and run: make fuzz [FUZZ_TIME=seconds]. */
#include <stdlib.h>

#include "testlib_evm.h"

#define FUZZ_GAS 2000000

/* ASan keeps every distinct stack it records (each allocation's and each
 * free's) for the life of the process. A stack that reaches into compiled
 * code is distinct for nearly every input: each input's program is new
 * code at a new address, and the helpers it calls allocate (memory, call
 * frames, return data). At ASan's default 30 frames that was ~1.5 KB of
 * ASan's own memory per input, never freed: the campaign's RSS grew ~100
 * MB a minute, to 3.4 GB in 30 minutes, while the engine's memory stayed
 * bounded (this harness built with gcc, no ASan, 600 K inputs: 87 MB RSS,
 * 49 mappings and the same heap in use once the code cache is emptied, at
 * every 100 K; tests/test_jit_footprint.c). Stacks start reaching compiled
 * frames at 6 frames, so 5 keep the distinct stacks to a few hundred
 * (measured: 275 after 20 K inputs, 383 after 100 K; at 6 frames 1,303 and
 * 5,104; at 30, 738 K after 40 K). A crash found is best replayed with full
 * stacks: ASAN_OPTIONS=malloc_context_size=30 (the environment overrides
 * this). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "malloc_context_size=5"; }

static void check_sane(const test_outcome *o)
{
    if (o->gas_left < 0 || o->gas_left > FUZZ_GAS) abort();
    if (o->status > EXEC_TIMEOUT) abort();
    if (o->status != EXEC_SUCCESS && o->status != EXEC_REVERT && o->output_len) abort();
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
    const uint8_t *code = data + calldata_len;
    size_t code_len = size - calldata_len;
    test_call call = {.fork = f, .engine = ENGINE_INTERP, .gas = FUZZ_GAS, .calldata = data,
                      .calldata_len = calldata_len, .value = 1};
    test_outcome a, b;
    test_run_code(code, code_len, &call, &a);
    call.engine = ENGINE_JIT;
    test_run_code(code, code_len, &call, &b);
    check_sane(&a);
    check_sane(&b);
    if (!test_outcome_same(&a, &b)) abort();

    test_outcome traced;
    call.engine = ENGINE_INTERP;
    call.traced = true;
    test_run_code(code, code_len, &call, &traced);
    if (!test_outcome_same(&a, &traced)) abort();
    call.gas = 21 + (int64_t)((code_len * 2654435761u + calldata_len * 40503u) % 30000);
    test_run_code(code, code_len, &call, &traced);
    call.traced = false;
    test_run_code(code, code_len, &call, &a);
    check_sane(&a);
    if (!test_outcome_same(&a, &traced)) abort();
    return 0;
}
