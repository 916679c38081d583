/* EVM memory buffers of 256 KiB and more (instr_memory.c) are anonymous
 * mappings grown with mremap: growing one neither zeroes nor copies. These
 * tests grow a buffer from the heap into a mapping and then in place, on
 * both engines, and check that the frame reads back exactly what it wrote,
 * zero elsewhere, also when an earlier call on the same buffers left bytes
 * behind (the memory_dirty rule), and that the buffer stays 64-byte
 * aligned. */
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

/* Runs `code` as a call to TEST_CONTRACT; checks the output is `size`
 * bytes, zero but the words written ({ offset, value } of `words`), and
 * the buffer's capacity and alignment. */
static void run_and_check(evm *e, const uint8_t *code, size_t len, uint32_t size, const uint32_t (*words)[2],
                          size_t n_words, size_t expected_cap)
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
    ck_assert_uint_eq((uintptr_t)b->memory % 64, 0);
    ck_assert_uint_eq(b->memory_cap, expected_cap);
}

static void grow_into_mapping(enum engine engine)
{
    memstate *m = memstate_new();
    u256 balance = u256_from_u64(1000000000);
    memstate_put_account(m, &TEST_CONTRACT, 1, &balance, NULL, 0);
    memstate_put_account(m, &TEST_SENDER, 0, &balance, NULL, 0);
    state_backend backend = memstate_backend(m);
    state *st = state_new(&backend);
    block_env block = {.number = 5, .timestamp = 1000, .gas_limit = 30000000};
    block.chain_id = u256_from_u64(1);
    block_env_default_blob_schedule(&block, FORK_CANCUN);
    evm *e = evm_new(st, &block, FORK_CANCUN);
    evm_set_engine(e, engine);
    u256 price = u256_from_u64(10);
    evm_set_tx_context(e, &TEST_SENDER, &price, NULL, 0);

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

    evm_free(e);
    state_free(st);
    memstate_free(m);
}

START_TEST(mapped_buffer_interp) { grow_into_mapping(ENGINE_INTERP); }
END_TEST

START_TEST(mapped_buffer_jit) { grow_into_mapping(ENGINE_JIT); }
END_TEST

int main(void)
{
    return TEST_RUN("memory_mapped", TEST_GROUP("mapped", 60, mapped_buffer_interp, mapped_buffer_jit));
}
