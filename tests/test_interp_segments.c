/* The interpreter's per-segment checks (interp.c, code_cache.h): a segment's
 * static gas and stack bounds are checked once where it is entered, and its
 * instructions then run unchecked. That must change nothing observable, so
 * each program here runs at every gas limit of a range twice: as the
 * service runs it (segments), and under a tracer (every instruction checked
 * one by one, as before segments), and both must agree on status, gas left,
 * output and state root. Where a figure is known independently (GAS's value,
 * a call's 63/64, SSTORE's stipend edge), it is checked too. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "testlib_evm.h"
#include "base/keccak.h"
#include "vm/code_cache.h"
#include "vm/opcodes.h"

static void run(const uint8_t *code, size_t len, int64_t gas, enum fork f, bool traced, test_outcome *out)
{
    static const uint8_t calldata[4] = {0xde, 0xad, 0xbe, 0xef};
    test_call call = {.fork = f, .engine = ENGINE_INTERP, .gas = gas, .calldata = calldata,
                      .calldata_len = sizeof calldata, .traced = traced};
    test_run_code(code, len, &call, out);
}

/* Runs `code` at every gas limit in [lo, hi) (step `step`) both ways;
 * returns how many runs succeeded (so a caller can see the range reached
 * both failure and success). */
static int agree_over_gas(const uint8_t *code, size_t len, enum fork f, int64_t lo, int64_t hi, int64_t step)
{
    int succeeded = 0;
    for (int64_t gas = lo; gas < hi; gas += step) {
        test_outcome seg, one_by_one;
        run(code, len, gas, f, false, &seg);
        run(code, len, gas, f, true, &one_by_one);
        if (!test_outcome_same(&seg, &one_by_one))
            ck_abort_msg("gas %lld: segments gave status %d, gas left %lld; one by one status %d, gas left %lld",
                         (long long)gas, seg.status, (long long)seg.gas_left, one_by_one.status,
                         (long long)one_by_one.gas_left);
        succeeded += seg.status == EXEC_SUCCESS;
    }
    return succeeded;
}

/* The segment records of `code` for `f` were made (the run took the
 * segment path, not only the checked one). */
static void assert_segments_used(const uint8_t *code, size_t len, enum fork f)
{
    hash32 h;
    keccak256(code, len, h.b);
    const code_info *ci = code_cache_find(&h);
    ck_assert_ptr_nonnull(ci);
    ck_assert_ptr_nonnull(atomic_load(&((code_info *)ci)->segments[f]));
    code_cache_release(ci);
}

/* A 32-byte big-endian word's hash, for an output of one word. */
static hash32 word_hash(uint64_t v)
{
    uint8_t w[32] = {0};
    for (int i = 0; i < 8; i++) w[31 - i] = (uint8_t)(v >> (8 * i));
    hash32 h;
    keccak256(w, 32, h.b);
    return h;
}

/* GAS in the middle of a segment pushes the exact gas left, not what is
 * left after the whole segment was paid. */
START_TEST(gas_reads_exact_in_a_segment)
{
    static const uint8_t code[] = {
        0x60, 0x01, 0x60, 0x02, 0x01, /* PUSH1 1 PUSH1 2 ADD: 9 */
        0x5a,                         /* GAS: 2 */
        0x60, 0x00, 0x52,             /* PUSH1 0 MSTORE: 3 + 3 + 3 (memory) */
        0x5b, 0x60, 0x20, 0x60, 0x00, /* JUMPDEST PUSH1 32 PUSH1 0: 7 */
        0xf3,                         /* RETURN */
    };
    for (int64_t gas = 100; gas < 200; gas += 7) {
        test_outcome out;
        run(code, sizeof code, gas, FORK_CANCUN, false, &out);
        ck_assert_int_eq(out.status, EXEC_SUCCESS);
        hash32 want = word_hash((uint64_t)(gas - 11));
        ck_assert_mem_eq(out.output_hash.b, want.b, 32);
        ck_assert_int_eq(out.gas_left, gas - 11 - 9 - 7);
    }
    assert_segments_used(code, sizeof code, FORK_CANCUN);
    ck_assert_int_gt(agree_over_gas(code, sizeof code, FORK_CANCUN, 0, 60, 1), 0);
}
END_TEST

/* Running short of gas at every point of a segment, a loop's included:
 * the segment cannot be paid on entry, runs checked, and fails where the
 * one-by-one run fails. */
START_TEST(out_of_gas_anywhere_in_a_loop)
{
    static const uint8_t code[] = {
        0x60, 0x00,                   /* PUSH1 0 */
        0x5b,                         /* 2: JUMPDEST */
        0x60, 0x01, 0x01,             /* PUSH1 1 ADD */
        0x80, 0x60, 0x0a, 0x10,       /* DUP1 PUSH1 10 LT */
        0x60, 0x02, 0x57,             /* PUSH1 2 JUMPI */
        0x5b, 0x5b,                   /* JUMPDEST JUMPDEST (fall-through) */
        0x60, 0x00, 0x52,             /* PUSH1 0 MSTORE */
        0x60, 0x20, 0x60, 0x00, 0xf3, /* RETURN 32 bytes */
    };
    ck_assert_int_gt(agree_over_gas(code, sizeof code, FORK_CANCUN, 0, 400, 1), 0);
    ck_assert_int_gt(agree_over_gas(code, sizeof code, FORK_FRONTIER, 0, 400, 1), 0);
    assert_segments_used(code, sizeof code, FORK_CANCUN);
}
END_TEST

/* Memory growth charged by a helper in the middle of a segment: with the
 * rest of the segment prepaid, the helper still sees the exact gas, and
 * when what it charged leaves less than the rest, the rest runs checked. */
START_TEST(memory_growth_in_a_segment)
{
    static const uint8_t code[] = {
        0x60, 0x07, 0x61, 0x04, 0x00, 0x52,       /* MSTORE at 1024: 3 + 3 + 3 + 99 */
        0x61, 0x08, 0x00, 0x51,                   /* MLOAD at 2048: 3 + 3 + 96 */
        0x60, 0x01, 0x01, 0x60, 0x01, 0x01,       /* 12 more of static gas */
        0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, /* MSTORE 0, RETURN 32 bytes */
        0xf3,
    };
    ck_assert_int_gt(agree_over_gas(code, sizeof code, FORK_CANCUN, 0, 400, 1), 0);
}
END_TEST

/* Stack underflow and overflow inside a segment that can be paid: the
 * bounds fail on entry, so the segment runs checked and fails at the same
 * instruction with the same error. */
START_TEST(stack_bounds_fail_inside_a_segment)
{
    static const uint8_t underflow[] = {0x60, 0x01, 0x60, 0x02, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00};
    ck_assert_int_eq(agree_over_gas(underflow, sizeof underflow, FORK_CANCUN, 0, 40, 1), 0);
    test_outcome out;
    run(underflow, sizeof underflow, 100000, FORK_CANCUN, false, &out);
    ck_assert_int_eq(out.status, EXEC_STACK_UNDERFLOW);

    /* A loop of two pushes a round to the stack's limit; at the top a JUMPI
     * whose target segment needs more room than is left. */
    static const uint8_t overflow[] = {
        0x5b,             /* 0: JUMPDEST */
        0x60, 0x01,       /* PUSH1 1 */
        0x60, 0x01,       /* PUSH1 1 (the condition) */
        0x60, 0x00, 0x57, /* PUSH1 0 JUMPI: back to 0 */
    };
    run(overflow, sizeof overflow, 1000000, FORK_CANCUN, false, &out);
    ck_assert_int_eq(out.status, EXEC_STACK_OVERFLOW);
    ck_assert_int_eq(agree_over_gas(overflow, sizeof overflow, FORK_CANCUN, 20000, 30000, 997), 0);
}
END_TEST

/* A call in the middle of a segment forwards 63/64 of the exact gas, and
 * SSTORE's "more than 2300 left" test sees the exact gas: both would differ
 * with the segment's rest prepaid. GAS after the call is stored, so the
 * state root shows what the call left. */
START_TEST(calls_and_sstore_see_exact_gas)
{
    static const uint8_t call_code[] = {
        0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, /* out, in, value 0 */
        0x60, 0x07,                                                 /* TEST_CALLEE */
        0x5a, 0xf1,                                                 /* GAS CALL */
        0x5a, 0x60, 0x01, 0x55,                                     /* SSTORE(1, GAS) */
        0x60, 0x02, 0x55,                                           /* SSTORE(2, success) */
        0x60, 0x01, 0x60, 0x01, 0x01, 0x50, 0x00,                   /* static gas after */
    };
    ck_assert_int_gt(agree_over_gas(call_code, sizeof call_code, FORK_CANCUN, 0, 70000, 97), 0);
    ck_assert_int_gt(agree_over_gas(call_code, sizeof call_code, FORK_ISTANBUL, 0, 70000, 89), 0);

    /* SSTORE's stipend test, with static gas after it in the segment:
     * around 2300 left at the SSTORE. */
    static const uint8_t sstore_code[] = {
        0x60, 0x00, 0x60, 0x00, 0x55,       /* SSTORE(0, 0): no change, cheap */
        0x60, 0x01, 0x60, 0x01, 0x01, 0x50, /* 11 of static gas after */
        0x60, 0x01, 0x60, 0x01, 0x01, 0x50, 0x00,
    };
    ck_assert_int_gt(agree_over_gas(sstore_code, sizeof sstore_code, FORK_ISTANBUL, 2250, 2400, 1), 0);
    ck_assert_int_gt(agree_over_gas(sstore_code, sizeof sstore_code, FORK_CANCUN, 2250, 2400, 1), 0);
    ck_assert_int_gt(agree_over_gas(sstore_code, sizeof sstore_code, FORK_CANCUN, 22000, 22500, 1), 0);
}
END_TEST

/* Push data is never a segment's start, and code whose last PUSH runs past
 * the end (into the padding's STOP) and JUMPI as the last byte (not taken:
 * the next segment is the padding) both run. */
START_TEST(code_edges)
{
    static const uint8_t truncated[] = {0x60, 0x00, 0x60, 0x00, 0x57, 0x61, 0xff};
    ck_assert_int_gt(agree_over_gas(truncated, sizeof truncated, FORK_CANCUN, 0, 30, 1), 0);
    static const uint8_t jumpi_last[] = {0x60, 0x00, 0x60, 0x00, 0x57};
    ck_assert_int_gt(agree_over_gas(jumpi_last, sizeof jumpi_last, FORK_CANCUN, 0, 30, 1), 0);
    /* A jump into PUSH data that reads 0x5b is refused. */
    static const uint8_t into_data[] = {0x60, 0x03, 0x56, 0x60, 0x5b, 0x00};
    test_outcome out;
    run(into_data, sizeof into_data, 1000, FORK_CANCUN, false, &out);
    ck_assert_int_eq(out.status, EXEC_BAD_JUMP);
    /* Undefined on the fork (PUSH0 before Shanghai) ends a segment. */
    static const uint8_t push0[] = {0x60, 0x01, 0x5f, 0x60, 0x01, 0x00};
    ck_assert_int_eq(agree_over_gas(push0, sizeof push0, FORK_LONDON, 0, 30, 1), 0);
    ck_assert_int_gt(agree_over_gas(push0, sizeof push0, FORK_SHANGHAI, 0, 30, 1), 0);
}
END_TEST

/* Runs of JUMPDESTs, stepped over at once in a checked segment (read 8
 * bytes at a time): every length 1..40 at every alignment, in a loop that
 * jumps back into the run and falling through, then PC (independently:
 * the offset after the run) and GAS; and a run that ends the code (the
 * padding stops it). Both ways over a range of gas, out of gas inside the
 * run included. */
START_TEST(jumpdest_runs_stepped_over)
{
    uint8_t code[128];
    for (size_t align = 0; align < 8; align++) {
        for (size_t run_len = 1; run_len <= 40; run_len++) {
            size_t n = 0;
            code[n++] = 0x60; /* PUSH1 2: the loop counter */
            code[n++] = 0x02;
            for (size_t i = 0; i < align; i++) code[n++] = 0x58; /* PC ... */
            for (size_t i = 0; i < align; i++) code[n++] = 0x50; /* ... POP */
            size_t run_at = n;
            for (size_t i = 0; i < run_len; i++) code[n++] = OP_JUMPDEST;
            /* counter - 1; back into the middle of the run while non-zero */
            const uint8_t loop[] = {0x60, 0x01, 0x90, 0x03, 0x80, 0x60, (uint8_t)(run_at + run_len / 2), 0x57};
            memcpy(code + n, loop, sizeof loop);
            n += sizeof loop;
            /* PC, GAS; RETURN both (the length byte is patched below) */
            size_t pc_at = n;
            const uint8_t tail[] = {0x58, 0x60, 0x00, 0x52, 0x5a, 0x60, 0x20, 0x52, 0x60, 0x40, 0x60, 0x00, 0xf3};
            memcpy(code + n, tail, sizeof tail);
            size_t return_len_at = n + 9;
            n += sizeof tail;
            ck_assert_int_gt(agree_over_gas(code, n, FORK_CANCUN, 0, 300, 1), 0);
            assert_segments_used(code, n, FORK_CANCUN);
            /* PC after the run reads its own offset (only the first word returned). */
            code[return_len_at] = 0x20;
            test_outcome out;
            run(code, n, 100000, FORK_CANCUN, false, &out);
            ck_assert_int_eq(out.status, EXEC_SUCCESS);
            hash32 want = word_hash(pc_at);
            ck_assert_mem_eq(out.output_hash.b, want.b, 32);
            /* A run that ends the code: the zero padding ends the read. */
            size_t end = run_at + run_len;
            ck_assert_int_gt(agree_over_gas(code, end, FORK_CANCUN, 0, 80, 1), 0);
        }
    }
}
END_TEST

/* PUSH2 then JUMP or JUMPI in a checked segment run as one (the target
 * from a register): targets valid and not (a JUMPDEST, push data reading
 * 0x5b, an ordinary instruction, the code's length, past it), JUMPI's
 * condition set only in its highest limb or zero, and at every gas limit
 * of a range (out of gas at the pair: the segment then runs checked),
 * against the one-by-one run; the status where known independently. */
START_TEST(push2_then_jump_pairs)
{
    enum { AT_DEST = 15, AT_DATA = 17, AT_OTHER = 18, CODE_LEN = 21 };
    static const uint16_t targets[] = {AT_DEST, AT_DATA, AT_OTHER, CODE_LEN, CODE_LEN + 1, 0x100, 0xffff};
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        for (int kind = 0; kind < 3; kind++) { /* JUMP, JUMPI taken, JUMPI not taken */
            uint8_t code[CODE_LEN] = {
                0x68, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, /* PUSH9 2^64 (JUMPI's condition) */
                0x61, 0, 0, 0x56,                   /* 10: PUSH2 target, JUMP or JUMPI */
                0x00,                               /* 14: STOP (JUMPI not taken) */
                0x5b, 0x60, 0x5b,                   /* 15: JUMPDEST PUSH1 0x5b (17: data) */
                0x60, 0x01, 0x00,                   /* 18: PUSH1 1 STOP */
            };
            if (kind == 0) memset(code, OP_JUMPDEST, 10); /* JUMP: no condition */
            if (kind == 2) code[1] = 0x00;                /* condition zero */
            code[11] = (uint8_t)(targets[t] >> 8);
            code[12] = (uint8_t)targets[t];
            code[13] = kind == 0 ? OP_JUMP : OP_JUMPI;
            int succeeded = agree_over_gas(code, sizeof code, FORK_CANCUN, 0, 60, 1);
            test_outcome out;
            run(code, sizeof code, 1000, FORK_CANCUN, false, &out);
            enum exec_status want = kind == 2 || targets[t] == AT_DEST ? EXEC_SUCCESS : EXEC_BAD_JUMP;
            ck_assert_msg(out.status == want, "target %u kind %d: status %d, want %d", targets[t], kind, out.status,
                          want);
            ck_assert_int_eq(succeeded > 0, want == EXEC_SUCCESS);
        }
    }
    /* Pairs in a loop, a JUMPI back while a counter runs down. */
    static const uint8_t loop[] = {
        0x60, 0x05,                   /* PUSH1 5 */
        0x5b,                         /* 2: JUMPDEST */
        0x60, 0x01, 0x90, 0x03,       /* counter - 1 */
        0x80, 0x61, 0x00, 0x02, 0x57, /* DUP1 PUSH2 2 JUMPI */
        0x61, 0x00, 0x11, 0x56,       /* PUSH2 17 JUMP */
        0x00,                         /* 16: STOP (skipped) */
        0x5b, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3, /* 17: RETURN the counter */
    };
    ck_assert_int_gt(agree_over_gas(loop, sizeof loop, FORK_CANCUN, 0, 200, 1), 0);
    test_outcome out;
    run(loop, sizeof loop, 1000, FORK_CANCUN, false, &out);
    ck_assert_int_eq(out.status, EXEC_SUCCESS);
    hash32 zero = word_hash(0);
    ck_assert_mem_eq(out.output_hash.b, zero.b, 32);
}
END_TEST

/* A PUSH2 pair's target of two nonzero bytes, each of which counts: the
 * next instruction's address is made from the two immediate bytes apart
 * (interp.c), and a target with its bytes swapped (0x0102 / 0x0201) is also
 * a JUMPDEST here, whose block returns a word, while the right one goes on
 * to a JUMPDEST at the code's last byte (by JUMP, or JUMPI taken) and stops
 * there with no output. */
START_TEST(push2_jump_targets_past_one_byte)
{
    enum { CODE_LEN = 0x210 };
    for (int jumpi = 0; jumpi < 2; jumpi++) {
        uint8_t code[CODE_LEN] = {0x61, 0x01, 0x02, 0x56}; /* PUSH2 0x0102 JUMP; then STOPs */
        static const uint8_t right[] = {0x5b, 0x60, 0x01, 0x60, 0x00, 0x52, /* JUMPDEST, MSTORE 1 */
                                        0x60, 0x01, 0x61, (CODE_LEN - 1) >> 8, (CODE_LEN - 1) & 0xff, 0x56};
        static const uint8_t swapped[] = {0x5b, 0x60, 0x02, 0x60, 0x00, 0x52, /* JUMPDEST, MSTORE 2 */
                                          0x60, 0x20, 0x60, 0x00, 0xf3};    /* RETURN it */
        memcpy(code + 0x102, right, sizeof right);
        code[0x102 + sizeof right - 1] = jumpi ? OP_JUMPI : OP_JUMP; /* the 1 pushed first: JUMPI's condition */
        memcpy(code + 0x201, swapped, sizeof swapped);
        code[CODE_LEN - 1] = OP_JUMPDEST;
        ck_assert_int_gt(agree_over_gas(code, sizeof code, FORK_CANCUN, 0, 80, 1), 0);
        test_outcome out;
        run(code, sizeof code, 1000, FORK_CANCUN, false, &out);
        ck_assert_int_eq(out.status, EXEC_SUCCESS);
        hash32 empty;
        keccak256(NULL, 0, empty.b);
        ck_assert_mem_eq(out.output_hash.b, empty.b, 32);
        ck_assert_int_eq(out.gas_left, 1000 - (3 + 8) - (1 + 3 + 3 + 6) - (3 + 3 + (jumpi ? 10 : 8)) - 1);
        assert_segments_used(code, sizeof code, FORK_CANCUN);
    }
}
END_TEST

/* A jump to a target taken from the stack (not a PUSH2 pair: PUSH1, and a
 * word built by ADD) at the edges of the code's length, whose bound the
 * interpreter reads from memory: the last byte (a JUMPDEST), the length
 * itself (the padding's STOP, no JUMPDEST) and one past it; JUMP and JUMPI,
 * both ways over a range of gas, and the status. */
START_TEST(stack_jumps_at_the_code_length)
{
    enum { CODE_LEN = 9 };
    for (int delta = -1; delta <= 1; delta++) {
        for (int jumpi = 0; jumpi < 2; jumpi++) {
            uint8_t code[CODE_LEN] = {
                0x60, 0x01,                            /* PUSH1 1 (JUMPI's condition) */
                0x60, 0x00, 0x60, 0x00, 0x01,          /* PUSH1 a PUSH1 b ADD: the target */
                0x56,                                  /* 7: JUMP or JUMPI */
                0x5b,                                  /* 8: JUMPDEST, the last byte */
            };
            const int target = CODE_LEN - 1 + 1 + delta; /* 8, 9, 10 */
            code[3] = (uint8_t)(target - 3);
            code[5] = 3;
            code[7] = jumpi ? OP_JUMPI : OP_JUMP;
            agree_over_gas(code, sizeof code, FORK_CANCUN, 0, 40, 1);
            test_outcome out;
            run(code, sizeof code, 1000, FORK_CANCUN, false, &out);
            enum exec_status want = target == CODE_LEN - 1 ? EXEC_SUCCESS : EXEC_BAD_JUMP;
            ck_assert_msg(out.status == want, "target %d jumpi %d: status %d, want %d", target, jumpi, out.status,
                          want);
            assert_segments_used(code, sizeof code, FORK_CANCUN);
        }
    }
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random programs (pushes, arithmetic, memory, storage, GAS, calls,
 * jumps, the odd invalid byte) at random gas limits, both ways. Most jumps
 * go forward to a JUMPDEST (so that runs reach their end); some back (a
 * loop until the gas runs out). */
START_TEST(random_programs_agree)
{
    static const uint8_t ops[] = {
        OP_ADD, OP_MUL, OP_SUB, OP_DIV, OP_LT, OP_ISZERO, OP_AND, OP_POP, OP_DUP1, OP_DUP2, OP_SWAP1,
        OP_GAS, OP_PC, OP_MSIZE, OP_MLOAD, OP_MSTORE, OP_MSTORE8, OP_SLOAD, OP_SSTORE, OP_KECCAK256,
        OP_EXP, OP_JUMPDEST, OP_CALLDATALOAD, OP_LOG0, OP_BALANCE, OP_EXTCODESIZE, OP_TLOAD, OP_TSTORE,
    };
    uint8_t code[600];
    int succeeded = 0;
    for (int round = 0; round < 400; round++) {
        size_t n = 0, dests[64], jumps[64];
        int n_dests = 0, n_jumps = 0, height = 0; /* along the straight line; jumps may break it */
        while (n < sizeof code - 40) {
            uint64_t r = rnd() % 100;
            if (r < 35 || height < 4) {
                code[n++] = OP_PUSH1;
                code[n++] = (uint8_t)(rnd() % 4 == 0 ? rnd() : rnd() % 64);
                height++;
            } else if (r < 40 && n_dests < 64) {
                dests[n_dests++] = n;
                code[n++] = OP_JUMPDEST;
            } else if (r < 44 && n_jumps < 64) {
                code[n++] = OP_PUSH2;
                jumps[n_jumps++] = n;
                n += 2;
                code[n++] = rnd() % 2 ? OP_JUMPI : OP_JUMP;
                height -= code[n - 1] == OP_JUMPI;
            } else if (r < 45 && rnd() % 8 == 0) {
                code[n++] = rnd() % 2 ? 0xfe : 0x0c;
            } else if (r < 46) { /* CALL TEST_CALLEE with GAS */
                static const uint8_t c[] = {0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0x07, 0x5a, 0xf1};
                memcpy(code + n, c, sizeof c);
                n += sizeof c;
                height++;
            } else {
                uint8_t op = ops[rnd() % sizeof ops];
                if (opcode_table[op].stack_in > height) continue;
                code[n++] = op;
                height += opcode_table[op].stack_out - opcode_table[op].stack_in;
            }
        }
        size_t end = n;
        code[n++] = OP_JUMPDEST;
        code[n++] = OP_STOP;
        for (int j = 0; j < n_jumps; j++) {
            size_t target = end;
            if (rnd() % 10 == 0 && n_dests > 0) {
                target = dests[rnd() % (uint64_t)n_dests]; /* anywhere: maybe back */
            } else {
                for (int d = 0; d < n_dests; d++)
                    if (dests[d] > jumps[j] && rnd() % 3 == 0) { target = dests[d]; break; }
            }
            code[jumps[j]] = (uint8_t)(target >> 8);
            code[jumps[j] + 1] = (uint8_t)target;
        }
        int64_t gas = (int64_t)(rnd() % 80000);
        succeeded += agree_over_gas(code, n, rnd() % 2 ? FORK_CANCUN : FORK_ISTANBUL, gas, gas + 60, 3);
    }
    ck_assert_int_gt(succeeded, 0); /* some ran to their end, not only to a failure */
}
END_TEST

int main(void)
{
    return TEST_RUN("interp_segments",
                    TEST_GROUP("segments", 300, gas_reads_exact_in_a_segment, out_of_gas_anywhere_in_a_loop,
                               memory_growth_in_a_segment, stack_bounds_fail_inside_a_segment,
                               calls_and_sstore_see_exact_gas, code_edges, jumpdest_runs_stepped_over,
                               push2_then_jump_pairs, push2_jump_targets_past_one_byte, stack_jumps_at_the_code_length,
                               random_programs_agree));
}
