/* EVM memory limits apart from gas (evm_set_memory_limit, one execution's
 * frames together; evm_set_memory_budget, all executions of the process):
 * a refused expansion ends the whole execution with EXEC_MEMORY_LIMIT, on
 * the interpreter and on compiled code alike (both grow memory through
 * instr_memory.c), even when the frame that asked for the memory was a
 * child whose caller went on; within the limits nothing changes. */
#include <stdint.h>

#include "testlib.h"
#include "testlib_evm.h"
#include "vm/opcodes.h"

static const enum engine engines[] = {ENGINE_INTERP, ENGINE_JIT};

/* MLOAD at 16 MB: 16 MB of memory (32 MB allocated, the buffer doubling). */
static const uint8_t big_mload[] = {OP_PUSH4, 0x01, 0x00, 0x00, 0x00, OP_MLOAD, OP_STOP};

static test_outcome run(const uint8_t *code, size_t len, enum engine engine, size_t limit)
{
    test_call call = {.fork = FORK_CANCUN, .engine = engine, .gas = INT64_MAX / 4, .memory_limit = limit};
    test_outcome o;
    test_run_code(code, len, &call, &o);
    return o;
}

START_TEST(a_call_past_its_memory_limit_ends_with_the_limit)
{
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++) {
        test_outcome o = run(big_mload, sizeof big_mload, engines[i], (size_t)8 << 20);
        ck_assert_int_eq(o.status, EXEC_MEMORY_LIMIT);
        ck_assert_uint_eq(o.output_len, 0);
        o = run(big_mload, sizeof big_mload, engines[i], (size_t)64 << 20);
        ck_assert_int_eq(o.status, EXEC_SUCCESS);
    }
}
END_TEST

START_TEST(within_the_limit_the_outcome_is_unchanged)
{
    static const uint8_t code[] = {OP_PUSH1, 42, OP_PUSH2, 0x10, 0x00, OP_MSTORE, OP_PUSH1, 32, OP_PUSH2, 0x10, 0x00,
                                   OP_RETURN};
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++) {
        test_outcome limited = run(code, sizeof code, engines[i], 1 << 20), free_ = run(code, sizeof code, engines[i], 0);
        ck_assert_int_eq(limited.status, EXEC_SUCCESS);
        ck_assert(test_outcome_same(&limited, &free_));
    }
}
END_TEST

/* The caller CREATEs a contract whose init code does the big MLOAD: the
 * child halts, the caller goes on and returns 1, and still the execution
 * is answered EXEC_MEMORY_LIMIT (what ran after the refusal is no answer). */
START_TEST(a_child_refused_memory_ends_the_whole_execution)
{
    static const uint8_t code[] = {
        OP_PUSH7, OP_PUSH4, 0x01, 0x00, 0x00, 0x00, OP_MLOAD, OP_STOP, /* the init code, into memory[25, 32) */
        OP_PUSH1, 0, OP_MSTORE,
        OP_PUSH1, 7, OP_PUSH1, 25, OP_PUSH1, 0, OP_CREATE, OP_POP,
        OP_PUSH1, 1, OP_PUSH1, 0, OP_MSTORE, OP_PUSH1, 32, OP_PUSH1, 0, OP_RETURN,
    };
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++) {
        test_outcome o = run(code, sizeof code, engines[i], (size_t)8 << 20);
        ck_assert_int_eq(o.status, EXEC_MEMORY_LIMIT);
        o = run(code, sizeof code, engines[i], 0);
        ck_assert_int_eq(o.status, EXEC_SUCCESS);
        ck_assert_uint_eq(o.output_len, 32);
    }
}
END_TEST

START_TEST(the_process_budget_refuses_and_is_given_back)
{
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++) {
        evm_set_memory_budget((size_t)8 << 20);
        test_outcome o = run(big_mload, sizeof big_mload, engines[i], 0);
        ck_assert_int_eq(o.status, EXEC_MEMORY_LIMIT);
        /* Each execution's memory went back to the budget when it ended:
         * the same run fits once the budget allows it, again and again. */
        evm_set_memory_budget((size_t)40 << 20);
        for (int k = 0; k < 3; k++) {
            o = run(big_mload, sizeof big_mload, engines[i], 0);
            ck_assert_int_eq(o.status, EXEC_SUCCESS);
        }
        evm_set_memory_budget(0);
    }
}
END_TEST

int main(void)
{
    return TEST_RUN("memory_limit",
        TEST_GROUP("memory_limit", 120, a_call_past_its_memory_limit_ends_with_the_limit,
            within_the_limit_the_outcome_is_unchanged, a_child_refused_memory_ends_the_whole_execution,
            the_process_budget_refuses_and_is_given_back));
}
