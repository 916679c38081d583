/* state_load_warm_slot (SLOAD's one lookup for the warmth and the value):
 * the same as state_warm_slot then state_get_storage, journaled the same
 * way, across many slots (past the slot table's growth) and a revert. */
#include <check.h>
#include <stdlib.h>

#include "testlib.h"
#include "state/memstate.h"
#include "state/state.h"

START_TEST(load_warm_slot_matches_warm_then_get)
{
    memstate *m = memstate_new();
    const address a = {{0xaa}};
    u256 balance = u256_from_u64(1);
    memstate_put_account(m, &a, 1, &balance, NULL, 0);
    /* Committed values at even keys; odd keys are empty. */
    for (uint64_t k = 0; k < 200; k += 2) memstate_put_storage(m, &a, &(u256){{k, 0, 0, k}}, &(u256){{k + 1000, 0, 0, 0}});
    state_backend backend = memstate_backend(m);
    state *st = state_new(&backend);

    state_snapshot snap = state_snapshot_take(st);
    for (uint64_t k = 0; k < 200; k++) {
        const u256 key = {{k, 0, 0, k}};
        bool was_warm = true;
        u256 v = state_load_warm_slot(st, &a, &key, &was_warm);
        ck_assert(!was_warm);
        ck_assert_uint_eq(v.w[0], k % 2 ? 0 : k + 1000);
        v = state_load_warm_slot(st, &a, &key, &was_warm);
        ck_assert(was_warm);
        ck_assert_uint_eq(v.w[0], k % 2 ? 0 : k + 1000);
        ck_assert(state_warm_slot(st, &a, &key));
    }
    /* A written value is what the next load reads; the original stays. */
    const u256 key4 = {{4, 0, 0, 4}};
    state_set_storage(st, &a, &key4, &(u256){{99, 0, 0, 0}});
    bool was_warm = false;
    ck_assert_uint_eq(state_load_warm_slot(st, &a, &key4, &was_warm).w[0], 99);
    ck_assert(was_warm);
    ck_assert_uint_eq(state_get_original_storage(st, &a, &key4).w[0], 1004);

    /* The revert makes every slot cold again and undoes the write. */
    state_revert(st, snap);
    for (uint64_t k = 0; k < 200; k++) {
        const u256 key = {{k, 0, 0, k}};
        u256 v = state_load_warm_slot(st, &a, &key, &was_warm);
        ck_assert(!was_warm);
        ck_assert_uint_eq(v.w[0], k % 2 ? 0 : k + 1000);
    }
    state_free(st);
    memstate_free(m);
}
END_TEST

int main(void)
{
    return TEST_RUN("state_sload", TEST_GROUP("sload", 30, load_warm_slot_matches_warm_then_get));
}
