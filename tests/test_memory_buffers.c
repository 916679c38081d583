/* EVM memory buffers and the interpreter's stack (interp.c,
 * instr_memory.c). Both are 64-byte aligned, so that a stack word or a
 * memory word at a multiple of 32 never straddles two cache lines. A
 * buffer regrown past its capacity still reads zero past what the frame
 * wrote, also when an earlier call on the same buffers left bytes behind
 * (the memory_dirty rule). Buffers of 256 KiB and more are anonymous
 * mappings grown with mremap (neither zeroed nor copied): a buffer grown
 * from the heap into a mapping and then in place, on both engines, reads
 * back exactly what the frame wrote and zero elsewhere. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "testlib_evm.h"
#include "jit/jit.h"
#include "state/memstate.h"
#include "vm/evm_internal.h"

/* PUSH4 value; PUSH3 offset; MSTORE. */
static size_t put_mstore(uint8_t *code, size_t n, uint32_t value, uint32_t offset)
{
    const uint8_t part[] = {0x63, value >> 24, value >> 16, value >> 8, value,
                            0x62, offset >> 16, offset >> 8, offset, 0x52};
    memcpy(code + n, part, sizeof part);
    return n + sizeof part;
}

/* RETURN of memory [0, size). */
static size_t put_return(uint8_t *code, size_t n, uint32_t size)
{
    const uint8_t part[] = {0x62, size >> 16, size >> 8, size, 0x60, 0x00, 0xf3};
    memcpy(code + n, part, sizeof part);
    return n + sizeof part;
}

/* The memstate, state and evm the tests run on: TEST_CONTRACT and
 * TEST_SENDER funded, Cancun rules, on `engine`. */
typedef struct {
    memstate *m;
    state *st;
    evm *e;
} test_evm;

static test_evm test_evm_new(enum engine engine)
{
    test_evm t;
    t.m = memstate_new();
    u256 balance = u256_from_u64(1000000000);
    memstate_put_account(t.m, &TEST_CONTRACT, 1, &balance, NULL, 0);
    memstate_put_account(t.m, &TEST_SENDER, 0, &balance, NULL, 0);
    state_backend backend = memstate_backend(t.m);
    t.st = state_new(&backend);
    block_env block = {.number = 5, .timestamp = 1000, .gas_limit = 30000000};
    block.chain_id = u256_from_u64(1);
    block_env_default_blob_schedule(&block, FORK_CANCUN);
    t.e = evm_new(t.st, &block, FORK_CANCUN);
    evm_set_engine(t.e, engine);
    u256 price = u256_from_u64(10);
    evm_set_tx_context(t.e, &TEST_SENDER, &price, NULL, 0);
    return t;
}

static void test_evm_free(test_evm *t)
{
    evm_free(t->e);
    state_free(t->st);
    memstate_free(t->m);
}

/* Runs `code` as a call to TEST_CONTRACT; returns the result (status
 * checked: success). */
static exec_result run_code_on(evm *e, const uint8_t *code, size_t len)
{
    state_set_code(evm_state(e), &TEST_CONTRACT, code, len);
    message msg = {
        .kind = CALL_CALL,
        .gas = 20000000,
        .recipient = TEST_CONTRACT,
        .sender = TEST_SENDER,
        .code_address = TEST_CONTRACT,
    };
    exec_result r = evm_execute(e, &msg);
    ck_assert_int_eq(r.status, EXEC_SUCCESS);
    return r;
}

/* Runs `code` on `e` as a call to TEST_CONTRACT (its code replaced) and
 * checks the output: `size` bytes, zero but the words written, each
 * { offset, value } of `words`; then that the stack and memory buffers are
 * 64-byte aligned and, unless `expected_cap` is 0, the memory buffer's
 * capacity. */
static void run_and_check(evm *e, const uint8_t *code, size_t len, uint32_t size, const uint32_t (*words)[2],
                          size_t n_words, size_t expected_cap)
{
    exec_result r = run_code_on(e, code, len);
    ck_assert_uint_eq(r.output_len, size);
    uint8_t *expected = calloc(1, size);
    ck_assert_ptr_nonnull(expected);
    for (size_t i = 0; i < n_words; i++) {
        const uint32_t off = words[i][0], v = words[i][1];
        expected[off + 28] = (uint8_t)(v >> 24);
        expected[off + 29] = (uint8_t)(v >> 16);
        expected[off + 30] = (uint8_t)(v >> 8);
        expected[off + 31] = (uint8_t)v;
    }
    for (uint32_t i = 0; i < size; i++)
        if (r.output[i] != expected[i]) ck_abort_msg("output byte %u: 0x%02x, expected 0x%02x", i, r.output[i], expected[i]);
    free(expected);
    const frame_buffers *b = evm_buffers(e, 0);
    ck_assert_uint_eq((uintptr_t)b->stack % 64, 0);
    ck_assert_uint_eq((uintptr_t)b->memory % 64, 0);
    if (expected_cap) ck_assert_uint_eq(b->memory_cap, expected_cap);
}

/* Leaves freed heap blocks of the buffer sizes full of 0xff bytes, so that
 * a buffer allocated from them and not zeroed shows up in the output. */
static void leave_dirty_heap(void)
{
    void *blocks[5];
    for (int i = 0; i < 5; i++) {
        const size_t size = ((size_t)4096 << i) + 64;
        blocks[i] = malloc(size);
        ck_assert_ptr_nonnull(blocks[i]);
        memset(blocks[i], 0xff, size);
    }
    for (int i = 0; i < 5; i++) free(blocks[i]);
}

START_TEST(buffers_aligned_and_zeroed_when_regrown)
{
    leave_dirty_heap();
    test_evm t = test_evm_new(ENGINE_INTERP);
    evm *e = t.e;

    /* Words written, each growing the memory past the buffer's capacity
     * (4 KiB at first, doubled as needed): copied to each new buffer. */
    static const uint32_t grown[][2] = {{0, 0x11223344}, {5000, 0x55667788}, {40000, 0x99aabbcc}};
    uint8_t code[128];
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) n = put_mstore(code, n, grown[i][1], grown[i][0]);
    n = put_return(code, n, 40032);
    run_and_check(e, code, n, 40032, grown, 3, 0);

    /* The same buffers again: what the first call left must read zero. */
    n = put_return(code, 0, 40032);
    run_and_check(e, code, n, 40032, NULL, 0, 0);

    /* Past the capacity from an empty frame on those dirty buffers: the
     * new buffer is zeroed past the frame's memory, not copied. */
    static const uint32_t far[][2] = {{300000, 0xdeadbeef}};
    n = put_mstore(code, 0, far[0][1], far[0][0]);
    n = put_return(code, n, 300032);
    run_and_check(e, code, n, 300032, far, 1, 0);

    test_evm_free(&t);
}
END_TEST

static void grow_into_mapping(enum engine engine)
{
    test_evm t = test_evm_new(engine);
    evm *e = t.e;

    /* From the heap (4 KiB, 128 KiB) into a mapping (512 KiB, copied),
     * then the mapping remapped (1 MiB): each word kept. */
    static const uint32_t grown[][2] = {
        {0, 0x11223344}, {100000, 0x55667788}, {300000, 0x99aabbcc}, {700000, 0xdeadbeef}};
    uint8_t code[128];
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) n = put_mstore(code, n, grown[i][1], grown[i][0]);
    n = put_return(code, n, 700032);
    run_and_check(e, code, n, 700032, grown, 4, (size_t)1 << 20);

    /* An empty frame on those dirty buffers grown past them (remapped to
     * 2 MiB): what the first call left reads zero, and so do the new pages. */
    static const uint32_t far[][2] = {{1500000, 0xcafef00d}};
    n = put_mstore(code, 0, far[0][1], far[0][0]);
    n = put_return(code, n, 1500032);
    run_and_check(e, code, n, 1500032, far, 1, (size_t)2 << 20);

    /* Within the mapping again: all zero. */
    n = put_return(code, 0, 1600000);
    run_and_check(e, code, n, 1600000, NULL, 0, (size_t)2 << 20);

    test_evm_free(&t);
}

START_TEST(mapped_buffer_interp) { grow_into_mapping(ENGINE_INTERP); }
END_TEST

START_TEST(mapped_buffer_jit) { grow_into_mapping(ENGINE_JIT); }
END_TEST


/* Fills memory [0, size) with 0xff words, from the top down (size a
 * multiple of 32, below 2^24): the first MSTORE grows it at once. */
static size_t put_fill_ff(uint8_t *code, uint32_t size)
{
    const uint8_t part[] = {
        0x62, size >> 16, size >> 8, size, /* PUSH3 size: i */
        0x5b,                              /* 4: JUMPDEST */
        0x60, 0x20, 0x90, 0x03,            /* i -= 32 */
        0x80, 0x60, 0x00, 0x19, 0x90, 0x52, /* MSTORE(i, ~0) */
        0x80, 0x60, 0x04, 0x57,            /* JUMPI(4, i) */
        0x00,                              /* STOP */
    };
    memcpy(code, part, sizeof part);
    return sizeof part;
}

/* Grows memory a word at a time up to `size` by MLOAD (ascending, size a
 * multiple of 32, below 2^24), ORs every word read, and returns that OR
 * as one word: zero when every new word read zero. */
static size_t put_grow_and_or(uint8_t *code, uint32_t size)
{
    const uint8_t part[] = {
        0x60, 0x00, 0x60, 0x00,             /* acc = 0, i = 0 */
        0x5b,                               /* 4: JUMPDEST */
        0x80, 0x51, 0x82, 0x17, 0x91, 0x50, /* acc |= MLOAD(i) */
        0x60, 0x20, 0x01,                   /* i += 32 */
        0x62, size >> 16, size >> 8, size,  /* PUSH3 size */
        0x81, 0x10, 0x60, 0x04, 0x57,       /* JUMPI(4, i < size) */
        0x50, 0x60, 0x00, 0x52,             /* MSTORE(0, acc) */
        0x60, 0x20, 0x60, 0x00, 0xf3,       /* RETURN(0, 32) */
    };
    memcpy(code, part, sizeof part);
    return sizeof part;
}

/* Memory grown a word at a time over bytes an earlier frame on the same
 * buffers left (0xff), within the buffer and past it: every new word reads
 * zero (growth clears ahead of the new size, in chunks, and what a frame
 * knows to be zero starts empty for the next frame), the same on both
 * engines and with the same gas, which the memory cost formula gives. */
static uint64_t grow_over_dirty(enum engine engine)
{
    test_evm t = test_evm_new(engine);
    evm *e = t.e;
    uint8_t code[64];
    uint64_t gas = 0;
    /* 20000 bytes: past several 4 KiB clearing chunks, not a multiple of
     * one; then 40000: past the 32 KiB buffer the first call left. */
    static const uint32_t sizes[] = {20000, 40000};
    for (size_t k = 0; k < 2; k++) {
        const uint32_t size = sizes[k] / 32 * 32;
        run_code_on(e, code, put_fill_ff(code, size));
        exec_result r = run_code_on(e, code, put_grow_and_or(code, size));
        ck_assert_uint_eq(r.output_len, 32);
        for (int i = 0; i < 32; i++)
            if (r.output[i]) ck_abort_msg("size %u: a grown word read 0x%02x (byte %d of the OR)", size, r.output[i], i);
        const uint64_t used = 20000000 - (uint64_t)r.gas_left;
        /* Per loop (size / 32 times): JUMPDEST 1, DUP1 3, MLOAD 3, DUP3 3,
         * OR 3, SWAP2 3, POP 2, PUSH1 3, ADD 3, PUSH3 3, DUP2 3, LT 3,
         * PUSH1 3, JUMPI 10 = 46; around it 2 PUSH1s, POP, PUSH1, MSTORE,
         * 2 PUSH1s, RETURN = 3+3+2+3+3+3+3+0 = 20; and the memory. */
        const uint64_t w = size / 32;
        ck_assert_uint_eq(used, 46 * w + 20 + 3 * w + w * w / 512);
        gas += used;
    }
    test_evm_free(&t);
    return gas;
}

START_TEST(grown_over_dirty_reads_zero)
{
    leave_dirty_heap();
    ck_assert_uint_eq(grow_over_dirty(ENGINE_INTERP), grow_over_dirty(ENGINE_JIT));
}
END_TEST

int main(void)
{
    return TEST_RUN("memory_buffers", TEST_GROUP("buffers", 60, buffers_aligned_and_zeroed_when_regrown),
                    TEST_GROUP("mapped", 60, mapped_buffer_interp, mapped_buffer_jit),
                    TEST_GROUP("zero_ahead", 60, grown_over_dirty_reads_zero));
}
