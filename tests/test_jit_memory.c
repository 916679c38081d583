/* Compiled MLOAD and MSTORE at computed offsets against the interpreter:
 * memory growth done by the compiled code itself (the one-word and
 * multi-word cases, gas short by one, offsets past what it handles, a
 * buffer an earlier frame at the same depth left bytes in), and long code
 * without jumps, where each access is a call to a shared routine that also
 * hands over to the interpreter when the rest of the block cannot be paid.
 * Both engines must agree on status, gas, output and state, over sweeps of
 * the gas given, and the compiled side must have run compiled. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"
#include "testlib_evm.h"
#include "base/keccak.h"
#include "vm/opcodes.h"

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void run(const uint8_t *code, size_t len, int64_t gas, const uint8_t *calldata, size_t calldata_len,
                enum engine engine, test_outcome *out)
{
    test_call call = {.fork = FORK_CANCUN, .engine = engine, .gas = gas, .calldata = calldata,
                      .calldata_len = calldata_len};
    test_run_code(code, len, &call, out);
}

/* Both engines agree; returns the compiled run's outcome. */
static test_outcome check_same(const uint8_t *code, size_t len, int64_t gas, const uint8_t *calldata,
                               size_t calldata_len)
{
    test_outcome a, b;
    run(code, len, gas, calldata, calldata_len, ENGINE_INTERP, &a);
    run(code, len, gas, calldata, calldata_len, ENGINE_JIT, &b);
    if (!test_outcome_same(&a, &b)) {
        fprintf(stderr, "engines differ (gas %lld): interp %s gas %lld, jit %s gas %lld; code ", (long long)gas,
                exec_status_name(a.status), (long long)a.gas_left, exec_status_name(b.status), (long long)b.gas_left);
        for (size_t i = 0; i < len; i++) fprintf(stderr, "%02x", code[i]);
        fprintf(stderr, "\n");
        ck_abort_msg("the compiled program differs from the interpreter");
    }
    ck_assert_msg(b.frames_compiled >= 1, "the jit engine ran no frame compiled");
    return b;
}

static void put_push(uint8_t *code, size_t *n, uint64_t v)
{
    int bytes = 1;
    while (bytes < 8 && (v >> (8 * bytes))) bytes++;
    code[(*n)++] = (uint8_t)(OP_PUSH1 + bytes - 1);
    for (int i = bytes - 1; i >= 0; i--) code[(*n)++] = (uint8_t)(v >> (8 * i));
}

/* Offsets a memory access draws: in memory, a word past it, unaligned,
 * far (many words at once), and, when `huge`, past what compiled code
 * grows itself. */
static void put_offset(uint8_t *code, size_t *n, bool huge)
{
    uint64_t r = rnd() % (huge ? 100 : 90);
    if (r < 40) {
        put_push(code, n, rnd() % 1024); /* then computed: */
        put_push(code, n, rnd() % 64);
        code[(*n)++] = OP_ADD;
    } else if (r < 70) { /* the running offset under acc, a word (or 33 bytes) further */
        code[(*n)++] = OP_SWAP1;
        put_push(code, n, 32 + rnd() % 2);
        code[(*n)++] = OP_ADD, code[(*n)++] = OP_DUP1, code[(*n)++] = OP_SWAP2, code[(*n)++] = OP_SWAP1;
    } else if (r < 90) {
        put_push(code, n, 2048 + rnd() % 8192);
        code[(*n)++] = OP_PUSH0, code[(*n)++] = OP_ADD;
    } else if (r < 95) { /* 2^32 and more: the helper decides (out of gas) */
        put_push(code, n, ((uint64_t)1 << 32) - 32 + rnd() % 64);
        code[(*n)++] = OP_PUSH0, code[(*n)++] = OP_ADD;
    } else { /* a word above 64 bits */
        put_push(code, n, 1);
        put_push(code, n, 64 + rnd() % 8);
        code[(*n)++] = OP_SHL;
    }
}

/* Long code without a jump (compact accesses) of MLOADs and MSTOREs at
 * computed offsets, the loaded words folded into what is stored, then the
 * first 512 bytes of memory returned. */
static size_t straight_line_program(uint8_t *code, size_t min_len, bool huge)
{
    size_t n = 0;
    put_push(code, &n, 64); /* the running offset, kept at the bottom */
    put_push(code, &n, 0x5a5a);
    while (n < min_len) {
        put_offset(code, &n, huge && rnd() % 20 == 0);
        if (rnd() % 2) { /* acc' = acc ^ MLOAD(offset) */
            code[n++] = OP_MLOAD, code[n++] = OP_XOR;
        } else { /* MSTORE(offset, acc + 1) */
            code[n++] = OP_DUP2, code[n++] = OP_PUSH1, code[n++] = 1, code[n++] = OP_ADD;
            code[n++] = OP_SWAP1, code[n++] = OP_MSTORE;
        }
    }
    static const uint8_t tail[] = {OP_PUSH1, 0, OP_MSTORE, OP_PUSH2, 2, 0, OP_PUSH0, OP_RETURN};
    memcpy(code + n, tail, sizeof tail);
    return n + sizeof tail;
}

START_TEST(long_straight_line_code_with_memory_matches_the_interpreter)
{
    static uint8_t code[16384];
    int compiled_to_end = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        rng_state = 0x9e3779b97f4a7c15ull * seed;
        size_t n = straight_line_program(code, 3000, seed % 3 == 0); /* a third with offsets out of reach */
        /* Plenty, then gas that runs out at every kind of point: the
         * block's entry, a growth's cost, the rest of the block after a
         * growth (the routine's own hand-over), the helper. */
        test_outcome full = check_same(code, n, 30000000, NULL, 0);
        if (full.status == EXEC_SUCCESS && full.deopts == 0) compiled_to_end++;
        int64_t used = 30000000 - full.gas_left;
        for (int k = 1; k <= 40; k++) check_same(code, n, used * k / 40 + (int64_t)(rnd() % 50), NULL, 0);
        for (int64_t d = -3; d <= 3; d++) check_same(code, n, used + d, NULL, 0);
    }
    ck_assert_msg(compiled_to_end >= 4, "only %d of 12 programs ran to their end compiled", compiled_to_end);
}
END_TEST

/* Long straight-line code with memory at computed offsets is compiled (it
 * used to be left to the interpreter) into compact accesses. */
START_TEST(long_straight_line_code_with_memory_is_compiled)
{
    static uint8_t code[32768];
    size_t n = 0;
    code[n++] = OP_PUSH0, code[n++] = OP_CALLDATALOAD, code[n++] = OP_PUSH1, code[n++] = 32;
    while (n < 20000) { /* micro/memory_grow_mload's shape: DUP1 MLOAD POP DUP2 ADD */
        code[n++] = OP_DUP1, code[n++] = OP_MLOAD, code[n++] = OP_POP, code[n++] = OP_DUP2, code[n++] = OP_ADD;
    }
    code[n++] = OP_MSIZE, code[n++] = OP_PUSH0, code[n++] = OP_MSTORE;
    code[n++] = OP_PUSH1, code[n++] = 32, code[n++] = OP_PUSH0, code[n++] = OP_RETURN;
    for (int step = 0; step <= 32; step += 16) {
        uint8_t calldata[32] = {0};
        calldata[31] = (uint8_t)step; /* 0: no growth (offset 32 grown once); 16, 32: growth most accesses */
        test_outcome b = check_same(code, n, 10000000, calldata, sizeof calldata);
        ck_assert_int_eq(b.status, EXEC_SUCCESS);
        ck_assert_uint_eq(b.frames_compiled, 1);
        ck_assert_uint_eq(b.frames_interp, 0);
        ck_assert_uint_eq(b.deopts, 0);
    }
}
END_TEST

/* A frame grows memory over bytes an earlier frame at the same depth left
 * in the shared buffer: the new words must read zero. The code calls
 * itself twice (64 bytes of call data select the callee's part): the first
 * callee writes nonzero words far out, the second grows over them one word
 * and several words at a time, XORs what it reads, and returns it. */
START_TEST(growth_over_an_earlier_frames_bytes_reads_zero)
{
    static uint8_t code[4096];
    size_t n = 0;
    /* CALLDATASIZE 64 EQ PUSH2 callee JUMPI */
    code[n++] = OP_CALLDATASIZE, code[n++] = OP_PUSH1, code[n++] = 64, code[n++] = OP_EQ;
    size_t callee_at = n + 1;
    code[n++] = OP_PUSH2, code[n++] = 0, code[n++] = 0, code[n++] = OP_JUMPI;
    /* The caller: two calls to itself, args [0, 64) of memory. */
    for (int k = 0; k < 2; k++) {
        put_push(code, &n, (uint64_t)k), code[n++] = OP_PUSH0, code[n++] = OP_MSTORE; /* word 0: which pass */
        put_push(code, &n, 0x20), code[n++] = OP_PUSH1, code[n++] = 32, code[n++] = OP_MSTORE;
        /* CALL(gas, self, 0, 0, 64, 0, 0) */
        code[n++] = OP_PUSH0, code[n++] = OP_PUSH0, code[n++] = OP_PUSH1, code[n++] = 64, code[n++] = OP_PUSH0;
        code[n++] = OP_PUSH0, code[n++] = OP_ADDRESS, code[n++] = OP_GAS, code[n++] = OP_CALL, code[n++] = OP_POP;
    }
    /* Return the second callee's output. */
    code[n++] = OP_RETURNDATASIZE, code[n++] = OP_PUSH0, code[n++] = OP_PUSH0, code[n++] = OP_RETURNDATACOPY;
    code[n++] = OP_RETURNDATASIZE, code[n++] = OP_PUSH0, code[n++] = OP_RETURN;
    code[callee_at] = (uint8_t)(n >> 8), code[callee_at + 1] = (uint8_t)n;
    code[n++] = OP_JUMPDEST;
    code[n++] = OP_PUSH0, code[n++] = OP_CALLDATALOAD; /* the pass */
    size_t reader_at = n + 1;
    code[n++] = OP_PUSH2, code[n++] = 0, code[n++] = 0, code[n++] = OP_JUMPI;
    /* Pass 0: nonzero words at offsets 64 .. 64 + 40 * 32, computed. */
    put_push(code, &n, 64);
    for (int i = 0; i < 40; i++) {
        code[n++] = OP_PUSH1, code[n++] = (uint8_t)(0xa1 + i), code[n++] = OP_NOT, code[n++] = OP_DUP2, code[n++] = OP_MSTORE;
        code[n++] = OP_PUSH1, code[n++] = 32, code[n++] = OP_ADD;
    }
    code[n++] = OP_STOP;
    code[reader_at] = (uint8_t)(n >> 8), code[reader_at + 1] = (uint8_t)n;
    code[n++] = OP_JUMPDEST;
    /* Pass 1: acc ^= MLOAD at offsets growing by one word, then by three
     * and unaligned (several words at once, the helper), computed from the
     * call data's second word (32). */
    code[n++] = OP_PUSH0; /* acc */
    code[n++] = OP_PUSH1, code[n++] = 32, code[n++] = OP_CALLDATALOAD; /* 32 */
    for (int i = 0; i < 30; i++) {
        uint64_t step = i < 12 ? 32 : 97;
        put_push(code, &n, step), code[n++] = OP_ADD;
        code[n++] = OP_DUP1, code[n++] = OP_MLOAD, code[n++] = OP_DUP3, code[n++] = OP_XOR;
        code[n++] = OP_SWAP2, code[n++] = OP_POP;
    }
    code[n++] = OP_POP, code[n++] = OP_MSIZE, code[n++] = OP_PUSH1, code[n++] = 32, code[n++] = OP_MSTORE;
    code[n++] = OP_PUSH0, code[n++] = OP_MSTORE, code[n++] = OP_PUSH1, code[n++] = 64, code[n++] = OP_PUSH0,
    code[n++] = OP_RETURN;
    test_outcome b = check_same(code, n, 1000000, NULL, 0);
    ck_assert_int_eq(b.status, EXEC_SUCCESS);
    ck_assert_uint_eq(b.output_len, 64);
    ck_assert_uint_ge(b.frames_compiled, 3);
    /* The reads came out zero: the output is acc = 0, then the memory
     * size (the last read at 32 + 12 * 32 + 18 * 97 = 2162: 69 words). */
    uint8_t expect[64] = {0};
    expect[62] = 0x08, expect[63] = 0xa0;
    hash32 h;
    keccak256(expect, sizeof expect, h.b);
    ck_assert_msg(memcmp(h.b, b.output_hash.b, 32) == 0, "the callee read an earlier frame's bytes");
}
END_TEST

int main(void)
{
    return TEST_RUN("jit_memory",
                    TEST_GROUP("jit_memory", 300, long_straight_line_code_with_memory_matches_the_interpreter,
                               long_straight_line_code_with_memory_is_compiled,
                               growth_over_an_earlier_frames_bytes_reads_zero));
}
