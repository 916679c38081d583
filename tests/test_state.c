/* The journaled state overlay: reads through to the backend, snapshots and
 * reverts of every kind of change, EIP-2929 warm marks, EIP-1153 transient
 * storage, and the end-of-transaction rules (self-destructs, EIP-161). */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "vm/code_cache.h"
#include "base/keccak.h"
#include "state/memstate.h"
#include "state/state.h"
#include "base/trie.h"

static address addr(uint8_t last)
{
    address a = {{0}};
    a.b[0] = 0xaa;
    a.b[19] = last;
    return a;
}

static memstate *m;
static state_backend backend;

static void setup(void)
{
    m = memstate_new();
    u256 balance = u256_from_u64(1000);
    static const uint8_t code[] = {0x60, 0x01, 0x5b, 0x00};
    address a = addr(1);
    memstate_put_account(m, &a, 5, &balance, code, sizeof code);
    memstate_put_storage(m, &a, &(u256){{7, 0, 0, 0}}, &(u256){{70, 0, 0, 0}});
    backend = memstate_backend(m);
}

static void teardown(void) { memstate_free(m); }

START_TEST(reads_through_to_backend)
{
    state *s = state_new(&backend);
    address a = addr(1), b = addr(2);
    ck_assert(state_exists(s, &a));
    ck_assert(!state_exists(s, &b));
    ck_assert_uint_eq(state_get_nonce(s, &a), 5);
    ck_assert_uint_eq(state_get_balance(s, &a).w[0], 1000);
    ck_assert_uint_eq(state_get_storage(s, &a, &(u256){{7, 0, 0, 0}}).w[0], 70);
    { u256 z = state_get_storage(s, &a, &(u256){{8, 0, 0, 0}}); ck_assert(u256_is_zero(&z)); }
    const code_info *ci = state_get_code(s, &a);
    ck_assert_uint_eq(ci->code_len, 4);
    /* The JUMPDEST at 2 is a destination; the push data at 1 is not. */
    ck_assert(ci->jumpdest[0] & (1 << 2));
    ck_assert(!(ci->jumpdest[0] & (1 << 1)));
    /* Padding: reading past the end gives STOP. */
    ck_assert_uint_eq(ci->code[4], 0);
    ck_assert_uint_eq(state_get_code(s, &b)->code_len, 0);
    state_free(s);
}
END_TEST

START_TEST(revert_undoes_every_kind_of_change)
{
    state *s = state_new(&backend);
    address a = addr(1), b = addr(2);
    u256 key = u256_from_u64(7), one = u256_from_u64(1);
    state_snapshot snap = state_snapshot_take(s);
    state_set_nonce(s, &a, 9);
    state_add_balance(s, &b, &one);
    state_set_storage(s, &a, &key, &one);
    state_set_transient(s, &a, &key, &one);
    state_warm_account(s, &b);
    state_warm_slot(s, &a, &key);
    state_set_code(s, &b, (const uint8_t[]){0x00}, 1);
    state_add_log(s, &a, NULL, 0, NULL, 0);
    state_add_refund(s, 4800);
    ck_assert(state_exists(s, &b));
    state_revert(s, snap);
    ck_assert_uint_eq(state_get_nonce(s, &a), 5);
    ck_assert(!state_exists(s, &b));
    ck_assert_uint_eq(state_get_storage(s, &a, &key).w[0], 70);
    { u256 z = state_get_transient(s, &a, &key); ck_assert(u256_is_zero(&z)); }
    ck_assert(!state_is_warm_account(s, &b));
    ck_assert(!state_warm_slot(s, &a, &key)); /* was cold again */
    ck_assert_uint_eq(state_get_code(s, &b)->code_len, 0);
    ck_assert_uint_eq(state_log_count(s), 0);
    ck_assert_int_eq(state_get_refund(s), 0);
    state_free(s);
}
END_TEST

START_TEST(nested_snapshots)
{
    state *s = state_new(&backend);
    address a = addr(1);
    u256 key = u256_from_u64(1);
    state_set_storage(s, &a, &key, &(u256){{1, 0, 0, 0}});
    state_snapshot outer = state_snapshot_take(s);
    state_set_storage(s, &a, &key, &(u256){{2, 0, 0, 0}});
    state_snapshot inner = state_snapshot_take(s);
    state_set_storage(s, &a, &key, &(u256){{3, 0, 0, 0}});
    state_revert(s, inner);
    ck_assert_uint_eq(state_get_storage(s, &a, &key).w[0], 2);
    state_revert(s, outer);
    ck_assert_uint_eq(state_get_storage(s, &a, &key).w[0], 1);
    /* The original value is the one before the transaction. */
    ck_assert_uint_eq(state_get_original_storage(s, &a, &key).w[0], 0);
    state_free(s);
}
END_TEST

START_TEST(ripemd_touch_survives_revert)
{
    state *s = state_new(&backend);
    address ripemd = {{0}};
    ripemd.b[19] = 3;
    state_create_account(s, &ripemd); /* an existing empty account, as on mainnet */
    state_finalize_tx(s, FORK_BYZANTIUM);
    state_snapshot snap = state_snapshot_take(s);
    state_touch(s, &ripemd);
    state_revert(s, snap);
    state_finalize_tx(s, FORK_BYZANTIUM);
    ck_assert(!state_exists(s, &ripemd));
    state_free(s);
}
END_TEST

START_TEST(finalize_clears_touched_empty_accounts_from_spurious_dragon)
{
    for (int f = FORK_HOMESTEAD; f <= FORK_SPURIOUS_DRAGON; f++) {
        state *s = state_new(&backend);
        address b = addr(2);
        state_create_account(s, &b);
        state_touch(s, &b);
        state_finalize_tx(s, (enum fork)f);
        ck_assert(state_exists(s, &b) == (f < FORK_SPURIOUS_DRAGON));
        state_free(s);
    }
}
END_TEST

START_TEST(selfdestruct_removes_account_and_storage)
{
    state *s = state_new(&backend);
    address a = addr(1);
    state_mark_destructed(s, &a);
    state_finalize_tx(s, FORK_LONDON);
    ck_assert(!state_exists(s, &a));
    { u256 z = state_get_storage(s, &a, &(u256){{7, 0, 0, 0}}); ck_assert(u256_is_zero(&z)); }
    /* The commit deletes it from the backend. */
    state_sink sink = memstate_sink(m);
    state_commit(s, &sink);
    state_free(s);
    account_info info;
    ck_assert(!backend.get_account(backend.ctx, &a, &info));
}
END_TEST

START_TEST(commit_writes_net_changes)
{
    state *s = state_new(&backend);
    address a = addr(1), c = addr(3);
    u256 key = u256_from_u64(7), v = u256_from_u64(71), hundred = u256_from_u64(100);
    state_set_storage(s, &a, &key, &v);
    state_add_balance(s, &c, &hundred);
    state_finalize_tx(s, FORK_CANCUN);
    state_sink sink = memstate_sink(m);
    state_commit(s, &sink);
    state_free(s);
    u256 got;
    backend.get_storage(backend.ctx, &a, &key, &got);
    ck_assert_uint_eq(got.w[0], 71);
    account_info info;
    ck_assert(backend.get_account(backend.ctx, &c, &info));
    ck_assert_uint_eq(info.balance.w[0], 100);
    ck_assert_mem_eq(info.code_hash.b, KECCAK_EMPTY.b, 32);
}
END_TEST

START_TEST(transient_storage_is_per_transaction)
{
    state *s = state_new(&backend);
    address a = addr(1);
    u256 key = u256_from_u64(1), v = u256_from_u64(5);
    state_set_transient(s, &a, &key, &v);
    ck_assert_uint_eq(state_get_transient(s, &a, &key).w[0], 5);
    state_finalize_tx(s, FORK_CANCUN);
    { u256 z = state_get_transient(s, &a, &key); ck_assert(u256_is_zero(&z)); }
    state_free(s);
}
END_TEST

START_TEST(many_slots_and_accounts)
{
    /* Exercise the index tables' growth paths. */
    state *s = state_new(&backend);
    for (uint32_t i = 0; i < 20000; i++) {
        address x = {{0}};
        memcpy(x.b, &i, 4);
        u256 key = u256_from_u64(i), val = u256_from_u64(i + 1);
        state_set_storage(s, &x, &key, &val);
    }
    for (uint32_t i = 0; i < 20000; i += 997) {
        address x = {{0}};
        memcpy(x.b, &i, 4);
        ck_assert_uint_eq(state_get_storage(s, &x, &(u256){{i, 0, 0, 0}}).w[0], i + 1);
    }
    state_free(s);
}
END_TEST

/* The code cache shares one analysis per code hash and evicts only what
 * nobody holds. */
START_TEST(code_cache_shares_and_evicts_only_unreferenced)
{
    uint8_t code[64];
    hash32 h[40];
    const code_info *held = NULL;
    code_cache_set_budget(4096);
    for (int i = 0; i < 40; i++) {
        memset(code, i + 1, sizeof code);
        keccak256(code, sizeof code, h[i].b);
        const code_info *a = code_cache_acquire(&h[i], code, sizeof code);
        const code_info *b = code_cache_find(&h[i]);
        ck_assert_ptr_eq(a, b);
        ck_assert_mem_eq(a->code, code, sizeof code);
        code_cache_release(b);
        if (i == 0)
            held = a; /* keep the first one referenced */
        else
            code_cache_release(a);
    }
    ck_assert_uint_gt(code_cache_get_stats().evictions, 0);
    /* The held entry survived every eviction pass. */
    const code_info *again = code_cache_find(&h[0]);
    ck_assert_ptr_eq(again, held);
    memset(code, 1, sizeof code);
    ck_assert_mem_eq(again->code, code, sizeof code);
    code_cache_release(again);
    code_cache_release(held);
    code_cache_set_budget((size_t)64 << 20);
}
END_TEST

/* Touches entries first..last (a lookup each) on a thread of its own,
 * whose memo and its pins go when it ends. */
typedef struct {
    const hash32 *h;
    int first, last;
} touch_range;
static void *touch_entries(void *arg)
{
    const touch_range *r = arg;
    for (int i = r->first; i <= r->last; i++) {
        const code_info *ci = code_cache_find(&r->h[i]);
        ck_assert_ptr_nonnull(ci);
        code_cache_release(ci);
    }
    return NULL;
}

/* Over its budget, the cache drops the entries unused the longest: those
 * looked up since stay, however old, and the eviction keeps the newest
 * entries otherwise (a contract called all the time is not evicted for one
 * called once). */
START_TEST(code_cache_evicts_the_longest_unused_first)
{
    enum { N = 20, ENTRY = 2 * 64 + 64 }; /* code_cache_acquire charges 2 x len + 64 */
    uint8_t code[64];
    hash32 h[N + 1];
    code_cache_set_budget(0); /* empty, this thread's memo dropped */
    code_cache_set_budget(N * ENTRY);
    uint64_t evictions0 = code_cache_get_stats().evictions;
    for (int i = 0; i <= N; i++) {
        memset(code, 0x60 + i, sizeof code);
        keccak256(code, sizeof code, h[i].b);
    }
    /* N entries, exactly the budget, each added and let go (no memo pins
     * them: setting the budget drops this thread's). */
    for (int i = 0; i < N; i++) {
        memset(code, 0x60 + i, sizeof code);
        code_cache_release(code_cache_acquire(&h[i], code, sizeof code));
        code_cache_set_budget(N * ENTRY);
    }
    ck_assert_uint_eq(code_cache_get_stats().entries, N);
    ck_assert_uint_eq(code_cache_get_stats().evictions, evictions0);
    /* The five oldest are used again. */
    pthread_t t;
    touch_range r = {h, 0, 4};
    ck_assert_int_eq(pthread_create(&t, NULL, touch_entries, &r), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    /* One more goes over the budget: the cache drops to half (10 entries),
     * the 11 longest unused: 5..15. */
    memset(code, 0x60 + N, sizeof code);
    code_cache_release(code_cache_acquire(&h[N], code, sizeof code));
    code_cache_set_budget((size_t)64 << 20); /* drops the memo; nothing more evicted */
    ck_assert_uint_eq(code_cache_get_stats().evictions - evictions0, 11);
    for (int i = 0; i <= N; i++) {
        const code_info *ci = code_cache_find(&h[i]);
        if (i >= 5 && i <= 15)
            ck_assert_msg(ci == NULL, "entry %d (unused since it was added) was kept", i);
        else
            ck_assert_msg(ci != NULL, "entry %d (used lately) was evicted", i);
        if (ci) code_cache_release(ci);
    }
    code_cache_set_budget((size_t)64 << 20);
}
END_TEST

int main(void)
{
    return TEST_RUN("state",
        {.name = "journal", .setup = setup, .teardown = teardown,
         .tests = TESTS(reads_through_to_backend,
            revert_undoes_every_kind_of_change, nested_snapshots, ripemd_touch_survives_revert,
            finalize_clears_touched_empty_accounts_from_spurious_dragon,
            selfdestruct_removes_account_and_storage, commit_writes_net_changes,
            transient_storage_is_per_transaction, many_slots_and_accounts,
            code_cache_shares_and_evicts_only_unreferenced, code_cache_evicts_the_longest_unused_first)});
}
