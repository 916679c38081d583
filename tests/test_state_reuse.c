/* A freed state is kept, emptied, for the thread's next state_new: a state
 * taken from that spare must read exactly as a fresh one, however the
 * previous one grew (index tables cleared entry by entry or whole, arrays
 * past the spare limit dropped), and two live states must not share it. */
#include <check.h>
#include <string.h>

#include "testlib.h"
#include "state/memstate.h"
#include "state/state.h"

static address addr_n(uint32_t n)
{
    address a = {{0}};
    a.b[0] = 0xbb;
    a.b[16] = (uint8_t)(n >> 24);
    a.b[17] = (uint8_t)(n >> 16);
    a.b[18] = (uint8_t)(n >> 8);
    a.b[19] = (uint8_t)n;
    return a;
}

static memstate *m;
static state_backend backend;
static const address *backend_account;

static void setup(void)
{
    m = memstate_new();
    static address a;
    a = addr_n(1);
    backend_account = &a;
    u256 balance = u256_from_u64(1000);
    memstate_put_account(m, &a, 5, &balance, NULL, 0);
    memstate_put_storage(m, &a, &(u256){{7, 0, 0, 0}}, &(u256){{70, 0, 0, 0}});
    backend = memstate_backend(m);
}

static void teardown(void) { memstate_free(m); }

static void count_warm(void *ctx, const address *a, const u256 *key)
{
    (void)a;
    (void)key;
    ++*(size_t *)ctx;
}

/* Writes `n` accounts (balance, nonce, a slot, a transient slot, warm
 * marks, a log, a refund) into a state and frees it. */
static void fill_and_free(uint32_t n)
{
    state *s = state_new(&backend);
    for (uint32_t i = 0; i < n; i++) {
        address a = addr_n(1000 + i);
        u256 v = u256_from_u64(i + 1), key = u256_from_u64(i);
        state_set_balance(s, &a, &v);
        state_set_nonce(s, &a, i + 1);
        state_set_storage(s, &a, &key, &v);
        state_set_transient(s, &a, &key, &v);
        state_warm_account(s, &a);
        state_warm_slot(s, &a, &key);
    }
    u256 v = u256_from_u64(99);
    state_set_storage(s, backend_account, &(u256){{7, 0, 0, 0}}, &v);
    state_set_balance(s, backend_account, &v);
    state_add_log(s, backend_account, NULL, 0, (const uint8_t *)"abc", 3);
    state_add_refund(s, 4800);
    state_free(s);
}

/* A state that must look fresh: nothing of fill_and_free(n) shows. */
static void check_fresh(uint32_t n)
{
    state *s = state_new(&backend);
    state_snapshot snap = state_snapshot_take(s);
    ck_assert_uint_eq(snap.journal_len, 0);
    ck_assert_uint_eq(snap.log_count, 0);
    ck_assert_int_eq(snap.refund, 0);
    ck_assert_uint_eq(state_log_count(s), 0);
    size_t warm = 0;
    state_visit_warm(s, count_warm, &warm);
    ck_assert_uint_eq(warm, 0);
    ck_assert_uint_eq(state_get_balance(s, backend_account).w[0], 1000);
    ck_assert_uint_eq(state_get_nonce(s, backend_account), 5);
    ck_assert_uint_eq(state_get_storage(s, backend_account, &(u256){{7, 0, 0, 0}}).w[0], 70);
    for (uint32_t i = 0; i < n; i++) {
        address a = addr_n(1000 + i);
        u256 key = u256_from_u64(i);
        ck_assert(!state_exists(s, &a));
        ck_assert(!state_is_warm_account(s, &a));
        u256 v = state_get_storage(s, &a, &key);
        ck_assert(u256_is_zero(&v));
        v = state_get_transient(s, &a, &key);
        ck_assert(u256_is_zero(&v));
        ck_assert(!state_warm_slot(s, &a, &key)); /* was cold */
    }
    state_free(s);
}

START_TEST(reused_state_reads_as_fresh)
{
    fill_and_free(40);
    check_fresh(40);
    check_fresh(40);
}
END_TEST

/* A large table then a small use of it: the small use's cells are cleared
 * one by one, and every later lookup still finds its entries. */
START_TEST(sparse_clear_after_growth)
{
    fill_and_free(150); /* tables of 512 cells, under the spare limit */
    fill_and_free(3);
    check_fresh(150);
    /* Entries inserted into the cleared table are all found again. */
    state *s = state_new(&backend);
    for (uint32_t i = 0; i < 60; i++) {
        address a = addr_n(5000 + i);
        state_set_nonce(s, &a, i + 7);
    }
    for (uint32_t i = 0; i < 60; i++) {
        address a = addr_n(5000 + i);
        ck_assert_uint_eq(state_get_nonce(s, &a), i + 7);
    }
    state_free(s);
    check_fresh(150);
}
END_TEST

/* Arrays and tables past the spare limit are dropped, and the spare still
 * works. */
START_TEST(growth_past_the_spare_limit)
{
    fill_and_free(5000);
    check_fresh(5000);
    fill_and_free(10);
    check_fresh(10);
}
END_TEST

/* Two states alive at once are separate; freeing both keeps one. */
START_TEST(two_live_states_are_separate)
{
    fill_and_free(5);
    state *a = state_new(&backend), *b = state_new(&backend);
    ck_assert_ptr_ne(a, b);
    address x = addr_n(77);
    state_set_nonce(a, &x, 3);
    ck_assert(!state_exists(b, &x));
    ck_assert_uint_eq(state_get_nonce(a, &x), 3);
    state_free(a);
    state_free(b);
    check_fresh(5);
}
END_TEST

int main(void)
{
    return TEST_RUN("state_reuse",
        {.name = "spare", .setup = setup, .teardown = teardown,
         .tests = TESTS(reused_state_reads_as_fresh, sparse_clear_after_growth, growth_past_the_spare_limit,
                        two_live_states_are_separate)});
}
