/* What a message call's entry was cut with must keep its meaning:
 * - state_enter_call (the snapshot, the recipient's existence and touch,
 *   and its code, in one lookup) answers as state_snapshot_take,
 *   state_exists_touch and state_get_code did, on its first use of an
 *   account (not yet read, not yet analysed) and on its fast path, with a
 *   journal no longer than theirs (none for a contract's touch);
 * - a touch of an account holding code is not journaled, and no revert
 *   can tell: the touch of an account whose code a reverted creation set
 *   is undone with the creation (the account, empty again, survives the
 *   transaction), and an empty account's touch is journaled as before;
 * - no precompile of any fork sits above PRECOMPILE_ADDRESS_MAX (the
 *   bound evm.c tests before looking one up), and a precompile moved
 *   above it (eth_call's moves) still answers there;
 * - a call repeated on one state, reverted after each (bench's
 *   call/.../execute rows), answers the same each time on both engines. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "jit/jit.h"
#include "precompile/precompile.h"
#include "state/memstate.h"
#include "state/state.h"
#include "vm/evm.h"

static size_t journal_len(const state *s) { return state_snapshot_take(s).journal_len; }

/* ---- state_enter_call against the calls it replaces ---- */

START_TEST(enter_call_as_snapshot_exists_touch_get_code)
{
    static const uint8_t code[] = {0x60, 0x01, 0x00}; /* PUSH1 1, STOP */
    memstate *m = memstate_new();
    address contract = test_address_n(0xc0de), empty = test_address_n(0x500), absent = test_address_n(0x501);
    u256 zero = u256_zero();
    memstate_put_account(m, &contract, 1, &zero, code, sizeof code);
    memstate_put_account(m, &empty, 0, &zero, NULL, 0);
    state_backend backend = memstate_backend(m);
    for (int touch = 0; touch <= 1; touch++) {
        state *s = state_new(&backend);
        state *t = state_new(&backend); /* the same, through the old calls */
        /* Twice each: the first reads and analyses the account, the second
         * finds it as the last account (the fast path). */
        const address *order[] = {&contract, &contract, &empty, &empty, &absent, &absent, &contract};
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
            state_snapshot snap, want_snap = state_snapshot_take(t);
            bool exists = !state_exists(t, order[i]);
            const code_info *ci = state_enter_call(s, order[i], touch, &snap, &exists);
            bool want_exists = state_exists_touch(t, order[i], touch);
            ck_assert_int_eq(exists, want_exists);
            /* The journal as long, or shorter: a touch of the contract,
             * which holds code, adds no entry (not even its first). */
            ck_assert_uint_le(snap.journal_len, want_snap.journal_len);
            if (order[i] == &contract) ck_assert_uint_eq(journal_len(s), snap.journal_len);
            ck_assert_uint_eq(snap.log_count, want_snap.log_count);
            ck_assert_int_eq(snap.refund, want_snap.refund);
            if (want_exists) {
                const code_info *want = state_get_code(t, order[i]);
                ck_assert_ptr_nonnull(ci);
                ck_assert_uint_eq(ci->code_len, want->code_len);
                ck_assert(ci->code_len == 0 || memcmp(ci->code, want->code, ci->code_len) == 0);
                ck_assert(ci == state_get_code(s, order[i]));
            } else {
                ck_assert_ptr_null(ci);
            }
        }
        /* The empty account touched (when asked) and so removed at the end
         * of the transaction; the contract and absent account as they were. */
        state_finalize_tx(s, FORK_CANCUN);
        state_finalize_tx(t, FORK_CANCUN);
        ck_assert_int_eq(state_exists(s, &empty), !touch);
        ck_assert_int_eq(state_exists(t, &empty), !touch);
        ck_assert(state_exists(s, &contract));
        ck_assert(!state_exists(s, &absent));
        state_free(s);
        state_free(t);
    }
    memstate_free(m);
}
END_TEST

/* ---- touches of accounts holding code, unjournaled ---- */

START_TEST(touch_of_code_unjournaled_and_unobservable)
{
    static const uint8_t code[] = {0x00};
    memstate *m = memstate_new();
    address contract = test_address_n(0xc0de), empty = test_address_n(0x500);
    u256 zero = u256_zero();
    memstate_put_account(m, &contract, 1, &zero, code, sizeof code);
    memstate_put_account(m, &empty, 0, &zero, NULL, 0);
    state_backend backend = memstate_backend(m);
    state *s = state_new(&backend);

    /* An account holding code, analysed: its touch adds no entry. */
    (void)state_get_code(s, &contract);
    size_t before = journal_len(s);
    state_touch(s, &contract);
    ck_assert_uint_eq(journal_len(s), before);
    /* An empty account's touch is journaled, and undone by a revert. */
    state_snapshot snap = state_snapshot_take(s);
    state_touch(s, &empty);
    ck_assert_uint_eq(journal_len(s), before + 1);
    state_revert(s, snap);
    state_finalize_tx(s, FORK_CANCUN);
    ck_assert(state_exists(s, &empty));

    /* What a CREATE into the empty account does: touch it (journaled: no
     * code yet), set its code; then a call into it touches it again
     * (unjournaled: it holds code), and the whole is reverted. The account
     * is empty again and its touch undone with the creation's: it
     * survives the end of the transaction, as it would had every touch
     * been journaled. */
    state_snapshot before_create = state_snapshot_take(s);
    state_touch(s, &empty);
    state_set_code(s, &empty, code, sizeof code);
    ck_assert_uint_eq(state_get_code(s, &empty)->code_len, 1);
    state_snapshot before_call = state_snapshot_take(s);
    bool exists;
    state_snapshot call_snap;
    ck_assert_ptr_nonnull(state_enter_call(s, &empty, true, &call_snap, &exists));
    ck_assert(exists);
    ck_assert_uint_eq(journal_len(s), before_call.journal_len);
    state_revert(s, before_call);
    state_revert(s, before_create);
    ck_assert_uint_eq(state_get_code(s, &empty)->code_len, 0);
    state_finalize_tx(s, FORK_CANCUN);
    ck_assert(state_exists(s, &empty));

    /* Without the revert, the account keeps its code: touched or not, it
     * is not empty, and stays. */
    state_set_code(s, &empty, code, sizeof code);
    ck_assert_ptr_nonnull(state_enter_call(s, &empty, true, &call_snap, &exists));
    state_finalize_tx(s, FORK_CANCUN);
    ck_assert(state_exists(s, &empty));
    state_free(s);
    memstate_free(m);
}
END_TEST

/* ---- the precompile address bound ---- */

static void note_highest(void *ctx, const address *a)
{
    uint32_t *highest = ctx;
    uint32_t n = (uint32_t)a->b[16] << 24 | (uint32_t)a->b[17] << 16 | (uint32_t)a->b[18] << 8 | a->b[19];
    if (n > *highest) *highest = n;
}

START_TEST(no_precompile_above_the_bound)
{
    for (int f = 0; f < FORK_COUNT; f++) {
        uint32_t highest = 0;
        precompile_for_each_active((enum fork)f, note_highest, &highest);
        ck_assert_uint_le(highest, PRECOMPILE_ADDRESS_MAX);
        /* And by lookup, every short address up to 0xffff and a few wider. */
        for (uint32_t n = PRECOMPILE_ADDRESS_MAX + 1; n <= 0x10000; n++) {
            address a = test_address_n(n);
            ck_assert_msg(!precompile_is_active(&a, (enum fork)f), "0x%x active on fork %d", n, f);
        }
        address wide = test_address_n(0x01000001);
        ck_assert(!precompile_is_active(&wide, (enum fork)f));
    }
    /* The bound is met: the newest fork has a precompile at it. */
    address at = test_address_n(PRECOMPILE_ADDRESS_MAX);
    ck_assert(precompile_is_active(&at, (enum fork)(FORK_COUNT - 1)));
}
END_TEST

/* Identity (0x04) moved to 0x...c0de, above the bound: a call there runs
 * the precompile, a call to 0x04 runs the account's code (none). */
START_TEST(precompile_moved_above_the_bound_answers)
{
    memstate *m = memstate_new();
    address sender = test_address_n(0x5e), identity = test_address_n(0x04), moved = test_address_n(0xc0de);
    u256 zero = u256_zero();
    memstate_put_account(m, &sender, 0, &zero, NULL, 0);
    state_backend backend = memstate_backend(m);
    state *s = state_new(&backend);
    evm *e = evm_new(s, test_block_env(), FORK_CANCUN);
    precompile_move moves[] = {{.from = identity, .to = moved}};
    evm_set_precompile_moves(e, moves, 1);
    static const uint8_t input[] = {1, 2, 3, 4, 5};
    message msg = {.kind = CALL_STATICCALL, .gas = 100000, .recipient = moved, .sender = sender,
                   .code_address = moved, .input = input, .input_len = sizeof input};
    exec_result r = evm_execute(e, &msg);
    ck_assert_int_eq(r.status, EXEC_SUCCESS);
    ck_assert_uint_eq(r.output_len, sizeof input);
    ck_assert_mem_eq(r.output, input, sizeof input);
    ck_assert_int_lt(r.gas_left, 100000); /* identity's gas charged */
    msg.recipient = msg.code_address = identity;
    r = evm_execute(e, &msg);
    ck_assert_int_eq(r.status, EXEC_SUCCESS);
    ck_assert_uint_eq(r.output_len, 0);
    ck_assert_int_eq(r.gas_left, 100000);
    evm_free(e);
    state_free(s);
    memstate_free(m);
}
END_TEST

/* ---- repeated calls on one state, reverted after each ---- */

/* PUSH1 1, PUSH1 2, ADD, PUSH1 0, SSTORE, PUSH1 0, SLOAD, PUSH1 0, MSTORE,
 * PUSH1 32, PUSH1 0, RETURN: stores 3, returns it. */
static const char *const STORE_AND_RETURN = "600160020160005560005460005260206000f3";

START_TEST(repeated_call_answers_alike_on_both_engines)
{
    size_t code_len;
    uint8_t *code = test_unhex_alloc(STORE_AND_RETURN, &code_len);
    memstate *m = memstate_new();
    address sender = test_address_n(0x5e), contract = test_address_n(0xc0de);
    u256 zero = u256_zero();
    memstate_put_account(m, &sender, 0, &zero, NULL, 0);
    memstate_put_account(m, &contract, 1, &zero, code, code_len);
    state_backend backend = memstate_backend(m);
    const int engines[] = {ENGINE_INTERP, ENGINE_JIT};
    for (size_t k = 0; k < 2; k++) {
        state *s = state_new(&backend);
        evm *e = evm_new(s, test_block_env(), FORK_CANCUN);
        evm_set_engine(e, engines[k]);
        message msg = {.kind = CALL_CALL, .gas = 100000, .recipient = contract, .sender = sender,
                       .code_address = contract, .transfers_value = true};
        state_snapshot snap = state_snapshot_take(s);
        int64_t first_gas = -1;
        for (int i = 0; i < 4; i++) {
            exec_result r = evm_execute(e, &msg);
            ck_assert_int_eq(r.status, EXEC_SUCCESS);
            ck_assert_uint_eq(r.output_len, 32);
            ck_assert_uint_eq(r.output[31], 3);
            if (first_gas < 0) first_gas = r.gas_left;
            ck_assert_int_eq(r.gas_left, first_gas); /* the slot was reverted: a fresh SSTORE each time */
            u256 key = u256_zero(), v = state_get_storage(s, &contract, &key);
            u256 three = u256_from_u64(3);
            ck_assert(u256_eq(&v, &three));
            state_revert(s, snap);
            v = state_get_storage(s, &contract, &key);
            ck_assert(u256_is_zero(&v));
        }
        evm_free(e);
        state_free(s);
    }
    free(code);
    memstate_free(m);
}
END_TEST

int main(void)
{
    return TEST_RUN("call_entry",
                    TEST_GROUP("state_enter_call", 0, enter_call_as_snapshot_exists_touch_get_code,
                               touch_of_code_unjournaled_and_unobservable),
                    TEST_GROUP("precompile bound", 60, no_precompile_above_the_bound,
                               precompile_moved_above_the_bound_answers),
                    TEST_GROUP("repeated calls", 0, repeated_call_answers_alike_on_both_engines));
}
