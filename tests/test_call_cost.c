/* What the fixed cost of a call was cut with must keep its meaning:
 * - the precompiles' warmth by a flag (state_warm_precompiles) answers as
 *   18 warm entries did: every active precompile of the fork and nothing
 *   else, visited, and gone at the end of the transaction and on reuse;
 * - the code cache's per-thread memo (hits without the lock) pins what a
 *   thread found only until that thread looks again after an eviction
 *   pass (or exits, or sets the budget itself), so evictable code is
 *   evicted; and threads finding, releasing and evicting the same entries
 *   at once never touch a freed one (run it under make asan);
 * - the recipient's existence and its touch in one lookup
 *   (state_exists_touch) answer as state_exists then state_touch, and a
 *   message call made with it keeps EIP-161's cases: nothing for a
 *   value-less call to an absent account, the account created by a call
 *   with value (and by any call before Spurious Dragon);
 * - a message executed again and again on one state, reverted after each
 *   (what bench's call/.../execute rows time), gives the same answer each
 *   time and leaves the state as it was;
 * - the frame counters, kept per thread and summed on read, count every
 *   frame of every thread, also of threads gone (whose tallies the next
 *   threads take up);
 * - the intrinsic gas and the EIP-7623 floor, from zero bytes counted
 *   eight at a time, are those of a byte-by-byte count for every data
 *   length and byte value (0x80 and 0x7f included: the word trick's edges),
 *   in every fork; and a rule kept after one broken in the same
 *   violation record reads TX_OK (kept sets only the rule);
 * - tx_execute reports the EIP-7623 floor it held a transaction to
 *   (floor_gas, which eth_call and eth_simulateV1 read instead of counting
 *   the data again): tx_floor_gas's, 0 before Prague;
 * - a transaction run with discard_state (eth_call's: the state is freed
 *   unseen) gives the result it gives without: status, gas used and
 *   refunded, gas spent, floor, output; only the state after it differs
 *   (the sender is not paid back, the coinbase not paid). */
#include <check.h>
#include <pthread.h>
#include <string.h>

#include "testlib.h"
#include "base/keccak.h"
#include "precompile/precompile.h"
#include "state/memstate.h"
#include "state/state.h"
#include "vm/code_cache.h"
#include "vm/evm.h"
#include "vm/tx.h"
#include "base/params.h"
#include "jit/jit.h"

static void count_visit(void *ctx, const address *a, const u256 *key)
{
    (void)key;
    size_t *counts = ctx;
    counts[0]++;
    if (precompile_is_active(a, FORK_CANCUN)) counts[1]++;
}

START_TEST(precompiles_warm_by_flag_as_by_entries)
{
    memstate *m = memstate_new();
    state_backend backend = memstate_backend(m);
    state *s = state_new(&backend);
    state_warm_precompiles(s, FORK_CANCUN);
    /* 0x01..0x0a are Cancun's (0x0a: EIP-4844); 0x0b on are Prague's. */
    for (uint16_t n = 1; n <= 0x0a; n++) {
        address a = test_address_n(n);
        ck_assert(state_is_warm_account(s, &a));
        ck_assert(state_warm_account(s, &a)); /* was warm */
    }
    address later = test_address_n(0x0b), p256 = test_address_n(0x100), zero = test_address_n(0),
            other = test_address_n(0x0a);
    other.b[0] = 1; /* not a short address */
    ck_assert(!state_is_warm_account(s, &later));
    ck_assert(!state_is_warm_account(s, &p256));
    ck_assert(!state_is_warm_account(s, &zero));
    ck_assert(!state_warm_account(s, &other)); /* cold, now warm by its entry */
    ck_assert(state_is_warm_account(s, &other));
    /* Visited: the 10 precompiles and the one entry. */
    size_t counts[2] = {0, 0};
    state_visit_warm(s, count_visit, counts);
    ck_assert_uint_eq(counts[0], 11);
    ck_assert_uint_eq(counts[1], 10);
    /* A revert does not cool them (they are warm from before any snapshot). */
    state_snapshot snap = state_snapshot_take(s);
    address sha = test_address_n(2);
    state_touch(s, &sha);
    state_revert(s, snap);
    ck_assert(state_is_warm_account(s, &sha));
    /* The end of the transaction cools everything. */
    state_finalize_tx(s, FORK_CANCUN);
    ck_assert(!state_is_warm_account(s, &sha));
    ck_assert(!state_is_warm_account(s, &other));
    state_warm_precompiles(s, FORK_PRAGUE);
    ck_assert(state_is_warm_account(s, &later));
    state_free(s);
    /* The thread's next state (the spare, reused) starts cold. */
    s = state_new(&backend);
    ck_assert(!state_is_warm_account(s, &sha));
    counts[0] = counts[1] = 0;
    state_visit_warm(s, count_visit, counts);
    ck_assert_uint_eq(counts[0], 0);
    state_free(s);
    memstate_free(m);
}
END_TEST

/* Code of 64 bytes of `fill`, its hash in *h. */
static void make_code(uint8_t fill, uint8_t code[64], hash32 *h)
{
    memset(code, fill, 64);
    keccak256(code, 64, h->b);
}

/* Whether the cache holds `h` (a find that takes nothing away: the
 * reference taken is given back at once). */
static bool cached(const hash32 *h)
{
    const code_info *ci = code_cache_find(h);
    if (ci) code_cache_release(ci);
    return ci != NULL;
}

START_TEST(own_memo_dropped_when_setting_the_budget)
{
    uint8_t code[64];
    hash32 h;
    make_code(0x5b, code, &h);
    const code_info *ci = code_cache_acquire(&h, code, sizeof code);
    code_cache_release(ci);
    ck_assert(cached(&h)); /* in this thread's memo now */
    code_cache_set_budget(0);
    code_cache_set_budget((size_t)64 << 20);
    ck_assert(!cached(&h));
}
END_TEST

/* A thread that found code and then waits holds it through an eviction
 * pass; after its next lookup the following pass evicts it; and a thread
 * that exits lets go of what it found. */
typedef struct {
    hash32 found, later;
    pthread_barrier_t step;
} holder_args;

static void *holder(void *arg)
{
    holder_args *a = arg;
    ck_assert(cached(&a->found));
    pthread_barrier_wait(&a->step); /* 1: found, held by the memo */
    pthread_barrier_wait(&a->step); /* 2: the main thread evicted */
    (void)cached(&a->later);        /* sees the new epoch: drops its memo */
    pthread_barrier_wait(&a->step); /* 3 */
    pthread_barrier_wait(&a->step); /* 4: the main thread checked */
    ck_assert(cached(&a->later));   /* held again, until this thread exits */
    return NULL;
}

START_TEST(other_threads_memos_let_go_after_an_eviction)
{
    uint8_t code[64];
    holder_args a;
    make_code(0x01, code, &a.found);
    code_cache_release(code_cache_acquire(&a.found, code, sizeof code));
    make_code(0x02, code, &a.later);
    code_cache_release(code_cache_acquire(&a.later, code, sizeof code));

    pthread_barrier_init(&a.step, NULL, 2);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, holder, &a), 0);
    pthread_barrier_wait(&a.step); /* 1 */
    code_cache_set_budget(0);      /* drops this thread's memo, then evicts */
    code_cache_set_budget((size_t)64 << 20);
    /* `found` survived, pinned by the other thread's memo; `later` went. */
    ck_assert_uint_eq(code_cache_get_stats().entries, 1);
    ck_assert(!cached(&a.later));
    pthread_barrier_wait(&a.step); /* 2 */
    pthread_barrier_wait(&a.step); /* 3: it dropped its memo */
    code_cache_set_budget(0);
    code_cache_set_budget((size_t)64 << 20);
    ck_assert_uint_eq(code_cache_get_stats().entries, 0);
    code_cache_release(code_cache_acquire(&a.later, code, sizeof code)); /* `later` back */
    pthread_barrier_wait(&a.step); /* 4: it finds `later` */
    pthread_join(t, NULL);         /* its memo is dropped at its exit */
    code_cache_set_budget(0);
    code_cache_set_budget((size_t)64 << 20);
    ck_assert_uint_eq(code_cache_get_stats().entries, 0);
    pthread_barrier_destroy(&a.step);
}
END_TEST

/* Finders on several threads over more codes than a memo holds, while
 * the main thread keeps the budget tiny so that every insertion evicts:
 * every analysis found reads as its code while held. */
#define STRESS_CODES 24
#define STRESS_ROUNDS 3000
static hash32 stress_hash[STRESS_CODES];

static void *stress_finder(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    uint8_t code[64];
    for (int r = 0; r < STRESS_ROUNDS; r++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)(seed >> 16) % STRESS_CODES;
        memset(code, i + 1, sizeof code);
        const code_info *ci = code_cache_find(&stress_hash[i]);
        if (!ci) ci = code_cache_acquire(&stress_hash[i], code, sizeof code);
        ck_assert_uint_eq(ci->code_len, sizeof code);
        ck_assert_mem_eq(ci->code, code, sizeof code);
        ck_assert_mem_eq(ci->code_hash.b, stress_hash[i].b, 32);
        code_cache_release(ci);
    }
    return NULL;
}

START_TEST(finders_and_evictions_at_once)
{
    uint8_t code[64];
    for (int i = 0; i < STRESS_CODES; i++) make_code((uint8_t)(i + 1), code, &stress_hash[i]);
    code_cache_set_budget(2048); /* about 8 entries of 256 bytes */
    pthread_t t[3];
    for (uintptr_t k = 0; k < 3; k++) ck_assert_int_eq(pthread_create(&t[k], NULL, stress_finder, (void *)(k + 1)), 0);
    for (int r = 0; r < 200; r++) code_cache_set_budget(r % 2 ? 2048 : 512);
    for (int k = 0; k < 3; k++) pthread_join(t[k], NULL);
    ck_assert_uint_gt(code_cache_get_stats().evictions, 0);
    code_cache_set_budget((size_t)64 << 20);
}
END_TEST

/* ---- the recipient's existence and touch in one lookup ---- */

START_TEST(exists_touch_as_exists_then_touch)
{
    memstate *m = memstate_new();
    address empty = test_address_n(0x500), absent = test_address_n(0x501), funded = test_address_n(0x502);
    u256 zero = u256_zero(), one = u256_from_u64(1);
    memstate_put_account(m, &empty, 0, &zero, NULL, 0);
    memstate_put_account(m, &funded, 0, &one, NULL, 0);
    state_backend backend = memstate_backend(m);
    state *s = state_new(&backend);
    size_t before = state_snapshot_take(s).journal_len;
    /* Absent: false, and nothing journaled or touched. */
    ck_assert(!state_exists_touch(s, &absent, true));
    ck_assert_uint_eq(state_snapshot_take(s).journal_len, before);
    /* Existing, touch not asked: true, nothing journaled. */
    ck_assert(state_exists_touch(s, &empty, false));
    ck_assert_uint_eq(state_snapshot_take(s).journal_len, before);
    /* Existing and touched, then reverted: the touch is undone, so the
     * empty account survives the end of the transaction. */
    state_snapshot snap = state_snapshot_take(s);
    ck_assert(state_exists_touch(s, &empty, true));
    ck_assert_uint_eq(state_snapshot_take(s).journal_len, before + 1);
    ck_assert(state_exists_touch(s, &empty, true)); /* touched once only */
    ck_assert_uint_eq(state_snapshot_take(s).journal_len, before + 1);
    state_revert(s, snap);
    state_finalize_tx(s, FORK_CANCUN);
    ck_assert(state_exists(s, &empty));
    /* Touched and kept: the empty account is removed (EIP-161), the
     * funded one stays, the absent one was never created. */
    ck_assert(state_exists_touch(s, &empty, true));
    ck_assert(state_exists_touch(s, &funded, true));
    state_finalize_tx(s, FORK_CANCUN);
    ck_assert(!state_exists(s, &empty));
    ck_assert(state_exists(s, &funded));
    ck_assert(!state_exists(s, &absent));
    state_free(s);
    memstate_free(m);
}
END_TEST

static bool u256_is(const u256 *a, uint64_t v)
{
    u256 b = u256_from_u64(v);
    return u256_eq(a, &b);
}

static message call_to(const address *from, const address *to, uint64_t value)
{
    message msg = {.kind = CALL_CALL, .gas = 100000, .recipient = *to, .sender = *from,
                   .code_address = *to, .value = u256_from_u64(value), .transfers_value = true};
    return msg;
}

/* A call into an absent account: value-less, nothing happens from
 * Spurious Dragon on (no account, nothing journaled); with value, the
 * account is made; before Spurious Dragon, any call makes it. */
START_TEST(call_to_absent_account_keeps_eip161)
{
    memstate *m = memstate_new();
    address sender = test_address_n(0x5e), absent = test_address_n(0x777);
    u256 funds = u256_from_u64(1000);
    memstate_put_account(m, &sender, 0, &funds, NULL, 0);
    state_backend backend = memstate_backend(m);
    const enum fork forks[] = {FORK_HOMESTEAD, FORK_CANCUN};
    for (size_t i = 0; i < 2; i++) {
        for (uint64_t value = 0; value <= 5; value += 5) {
            state *s = state_new(&backend);
            evm *e = evm_new(s, test_block_env(), forks[i]);
            size_t before = state_snapshot_take(s).journal_len;
            message msg = call_to(&sender, &absent, value);
            exec_result r = evm_execute(e, &msg);
            ck_assert_int_eq(r.status, EXEC_SUCCESS);
            ck_assert_int_eq(r.gas_left, 100000);
            bool made = forks[i] < FORK_SPURIOUS_DRAGON || value > 0;
            ck_assert_msg(state_exists(s, &absent) == made, "fork %d value %d", (int)forks[i], (int)value);
            u256 bal = state_get_balance(s, &absent);
            ck_assert(u256_is(&bal, value));
            if (!made) ck_assert_uint_eq(state_snapshot_take(s).journal_len, before);
            evm_free(e);
            state_free(s);
        }
    }
    memstate_free(m);
}
END_TEST

/* The call/.../execute pattern: one state and evm, the message executed
 * and reverted many times. Code: SSTORE(0, CALLVALUE + SLOAD(0));
 * MSTORE(0, SLOAD(0)); RETURN(0, 32), called with 3 wei. */
START_TEST(execute_reverted_repeats)
{
    static const uint8_t code[] = {0x60, 0x00, 0x54, 0x34, 0x01, 0x60, 0x00, 0x55, /* SSTORE(0, SLOAD(0)+CALLVALUE) */
                                   0x60, 0x00, 0x54, 0x60, 0x00, 0x52,             /* MSTORE(0, SLOAD(0)) */
                                   0x60, 0x20, 0x60, 0x00, 0xf3};                  /* RETURN(0, 32) */
    memstate *m = memstate_new();
    address sender = test_address_n(0x5e), contract = test_address_n(0xc0de);
    u256 funds = u256_from_u64(1000), zero = u256_zero(), key = u256_zero(), stored = u256_from_u64(40);
    memstate_put_account(m, &sender, 0, &funds, NULL, 0);
    memstate_put_account(m, &contract, 1, &zero, code, sizeof code);
    memstate_put_storage(m, &contract, &key, &stored);
    state_backend backend = memstate_backend(m);
    for (int engine = ENGINE_INTERP; engine <= ENGINE_JIT; engine++) {
        state *s = state_new(&backend);
        evm *e = evm_new(s, test_block_env(), FORK_CANCUN);
        evm_set_engine(e, engine);
        message msg = call_to(&sender, &contract, 3);
        state_snapshot snap = state_snapshot_take(s);
        int64_t first_gas = -1;
        for (int i = 0; i < 50; i++) {
            exec_result r = evm_execute(e, &msg);
            ck_assert_int_eq(r.status, EXEC_SUCCESS);
            ck_assert_uint_eq(r.output_len, 32);
            ck_assert_uint_eq(r.output[31], 43);
            if (first_gas < 0) first_gas = r.gas_left;
            ck_assert_int_eq(r.gas_left, first_gas); /* the slot is warm in every round alike */
            u256 now = state_get_storage(s, &contract, &key), sb = state_get_balance(s, &sender);
            ck_assert(u256_is(&now, 43));
            ck_assert(u256_is(&sb, 997));
            state_revert(s, snap);
            now = state_get_storage(s, &contract, &key);
            sb = state_get_balance(s, &sender);
            u256 cb = state_get_balance(s, &contract);
            ck_assert(u256_eq(&now, &stored));
            ck_assert(u256_eq(&sb, &funds));
            ck_assert(u256_is_zero(&cb));
            ck_assert_uint_eq(state_snapshot_take(s).journal_len, snap.journal_len);
        }
        evm_free(e);
        state_free(s);
    }
    memstate_free(m);
}
END_TEST

/* Each thread runs FRAME_CALLS calls of a one-STOP contract on the
 * interpreter, each its own state and evm, then exits. */
#define FRAME_CALLS 200
static memstate *frame_state;

static void *count_frames_thread(void *unused)
{
    (void)unused;
    state_backend backend = memstate_backend(frame_state);
    address sender = test_address_n(0x5e), contract = test_address_n(0xc0de);
    for (int i = 0; i < FRAME_CALLS; i++) {
        state *s = state_new(&backend);
        evm *e = evm_new(s, test_block_env(), FORK_CANCUN);
        evm_set_engine(e, ENGINE_INTERP);
        message msg = call_to(&sender, &contract, 0);
        exec_result r = evm_execute(e, &msg);
        if (r.status != EXEC_SUCCESS) return (void *)1;
        evm_free(e);
        state_free(s);
    }
    return NULL;
}

START_TEST(frame_counts_summed_over_threads)
{
    static const uint8_t stop[] = {0x00};
    frame_state = memstate_new();
    address sender = test_address_n(0x5e), contract = test_address_n(0xc0de);
    u256 zero = u256_zero();
    memstate_put_account(frame_state, &sender, 0, &zero, NULL, 0);
    memstate_put_account(frame_state, &contract, 1, &zero, stop, sizeof stop);
    uint64_t before = jit_get_stats().frames_interp;
    /* Two waves of three threads: the second takes up the first's tallies,
     * which must keep their counts. */
    for (int wave = 1; wave <= 2; wave++) {
        pthread_t t[3];
        for (int i = 0; i < 3; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, count_frames_thread, NULL), 0);
        for (int i = 0; i < 3; i++) {
            void *failed;
            pthread_join(t[i], &failed);
            ck_assert_ptr_null(failed);
        }
        ck_assert_uint_eq(jit_get_stats().frames_interp, before + (uint64_t)wave * 3 * FRAME_CALLS);
    }
    /* And this thread's own, read back at once. */
    ck_assert_ptr_null(count_frames_thread(NULL));
    ck_assert_uint_eq(jit_get_stats().frames_interp, before + 7 * FRAME_CALLS);
    memstate_free(frame_state);
}
END_TEST

/* The intrinsic gas and floor of tx, counted the plain way. */
static void plain_intrinsic(const transaction *tx, enum fork f, uint64_t *intrinsic, uint64_t *floor)
{
    uint64_t zeros = 0;
    for (size_t i = 0; i < tx->data_len; i++) zeros += tx->data[i] == 0;
    uint64_t nonzeros = tx->data_len - zeros;
    uint64_t gas = TX_BASE_COST + zeros * TX_DATA_ZERO_COST +
                   nonzeros * (f >= FORK_ISTANBUL ? TX_DATA_NONZERO_ISTANBUL : TX_DATA_NONZERO_FRONTIER);
    if (!tx->has_to && f >= FORK_HOMESTEAD) gas += TX_CREATE_COST;
    if (!tx->has_to && f >= FORK_SHANGHAI) gas += GAS_INITCODE_PER_WORD * ((tx->data_len + 31) / 32);
    *intrinsic = gas;
    *floor = f >= FORK_PRAGUE ? TX_BASE_COST + TX_FLOOR_PER_TOKEN * (zeros + 4 * nonzeros) : 0;
}

START_TEST(intrinsic_gas_as_counted_byte_by_byte)
{
    static const uint8_t values[] = {0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x00, 0x00};
    uint8_t data[80];
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 400; round++) {
        size_t len = (size_t)round % sizeof data;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            data[i] = values[(seed >> 33) % sizeof values];
        }
        for (int to = 0; to <= 1; to++) {
            transaction tx = {.has_to = to, .data = len ? data : NULL, .data_len = len};
            for (int f = 0; f < FORK_COUNT; f++) {
                uint64_t want_gas, want_floor;
                plain_intrinsic(&tx, (enum fork)f, &want_gas, &want_floor);
                ck_assert_uint_eq(tx_intrinsic_gas(&tx, (enum fork)f), want_gas);
                ck_assert_uint_eq(tx_floor_gas(&tx, (enum fork)f), want_floor);
                /* tx_check_gas draws the line at the same two figures. */
                uint64_t need = want_gas > want_floor ? want_gas : want_floor;
                tx_violation v;
                tx.gas_limit = u256_from_u64(need);
                ck_assert(tx_check_gas(&tx, (enum fork)f, &v));
                ck_assert_int_eq(v.rule, TX_OK);
                tx.gas_limit = u256_from_u64(need - 1);
                ck_assert(!tx_check_gas(&tx, (enum fork)f, &v));
                ck_assert_int_eq(v.rule, want_gas > need - 1 ? TX_INTRINSIC_GAS_TOO_LOW
                                                             : TX_INTRINSIC_GAS_BELOW_FLOOR_GAS_COST);
                ck_assert_uint_eq(v.want.w[0], want_gas > need - 1 ? want_gas : want_floor);
                tx.gas_limit = u256_from_u64(need);
                ck_assert(tx_check_gas(&tx, (enum fork)f, &v));
                ck_assert_int_eq(v.rule, TX_OK);
            }
        }
    }
}
END_TEST

START_TEST(executed_transaction_reports_its_floor)
{
    address sender = test_address_n(0x5e), to = test_address_n(0xc0);
    static const uint8_t stop[1] = {0x00}, data[40] = {1, 2, 0, 0, 5, [39] = 9};
    for (int f = FORK_BERLIN; f < FORK_COUNT; f++) {
        memstate *m = memstate_new();
        u256 rich = u256_from_u64(1000000000000000000ull), zero = u256_zero();
        memstate_put_account(m, &sender, 0, &rich, NULL, 0);
        memstate_put_account(m, &to, 1, &zero, stop, sizeof stop);
        state_backend b = memstate_backend(m);
        state *st = state_new(&b);
        block_env block = {.number = 5, .timestamp = 1000, .gas_limit = 30000000};
        block.chain_id = u256_from_u64(1);
        block_env_default_blob_schedule(&block, (enum fork)f);
        transaction tx = {.sender = sender, .has_to = true, .to = to, .data = data, .data_len = sizeof data};
        tx.gas_limit = u256_from_u64(100000);
        tx.gas_price = u256_from_u64(1);
        tx_result res;
        tx_execute(st, &block, &tx, (enum fork)f, NULL, &res);
        ck_assert_int_eq(res.error, TX_OK);
        ck_assert_uint_eq(res.floor_gas, tx_floor_gas(&tx, (enum fork)f));
        ck_assert(f >= FORK_PRAGUE ? res.floor_gas > 21000 : res.floor_gas == 0);
        tx_result_free(&res);
        state_free(st);
        memstate_free(m);
    }
}
END_TEST

START_TEST(discarded_state_same_result)
{
    address sender = test_address_n(0x5e), to = test_address_n(0xc0), coinbase = test_address_n(0xcb);
    /* Clears slot 0 (a refund), then returns the word 42. */
    static const uint8_t code[] = {0x60, 0x00, 0x60, 0x00, 0x55, 0x60, 0x2a, 0x60, 0x00,
                                   0x52, 0x60, 0x20, 0x60, 0x00, 0xf3};
    static const uint8_t data[8] = {1, 0, 2};
    for (int f = FORK_BERLIN; f < FORK_COUNT; f++) {
        tx_result res[2];
        u256 sender_after[2], coinbase_after[2];
        for (int discard = 0; discard <= 1; discard++) {
            memstate *m = memstate_new();
            u256 rich = u256_from_u64(1000000000000000000ull), zero = u256_zero(), one = u256_from_u64(1);
            memstate_put_account(m, &sender, 0, &rich, NULL, 0);
            memstate_put_account(m, &to, 1, &zero, code, sizeof code);
            memstate_put_storage(m, &to, &zero, &one);
            state_backend b = memstate_backend(m);
            state *st = state_new(&b);
            block_env block = {.number = 5, .timestamp = 1000, .gas_limit = 30000000, .coinbase = coinbase};
            block.chain_id = u256_from_u64(1);
            block.base_fee = u256_from_u64(1);
            block_env_default_blob_schedule(&block, (enum fork)f);
            transaction tx = {.sender = sender, .has_to = true, .to = to, .data = data, .data_len = sizeof data};
            tx.gas_limit = u256_from_u64(100000);
            tx.gas_price = u256_from_u64(3);
            tx_options opts = {.discard_state = discard};
            tx_execute(st, &block, &tx, (enum fork)f, &opts, &res[discard]);
            ck_assert_int_eq(res[discard].error, TX_OK);
            sender_after[discard] = state_get_balance(st, &sender);
            coinbase_after[discard] = state_get_balance(st, &coinbase);
            state_free(st);
            memstate_free(m);
        }
        ck_assert_int_eq(res[0].status, EXEC_SUCCESS);
        ck_assert_int_eq(res[1].status, res[0].status);
        ck_assert_uint_gt(res[0].gas_refunded, 0);
        ck_assert_uint_eq(res[1].gas_used, res[0].gas_used);
        ck_assert_uint_eq(res[1].gas_refunded, res[0].gas_refunded);
        ck_assert_uint_eq(res[1].gas_spent, res[0].gas_spent);
        ck_assert_uint_eq(res[1].floor_gas, res[0].floor_gas);
        ck_assert_uint_eq(res[1].output_len, 32);
        ck_assert_uint_eq(res[0].output_len, 32);
        ck_assert_mem_eq(res[1].output, res[0].output, 32);
        ck_assert_int_eq(res[0].output[31], 42);
        /* The state differs only where nobody looks: the paid back gas and the fee. */
        ck_assert(u256_lt(&sender_after[1], &sender_after[0]));
        ck_assert(!u256_is_zero(&coinbase_after[0]) && u256_is_zero(&coinbase_after[1]));
        tx_result_free(&res[0]);
        tx_result_free(&res[1]);
    }
}
END_TEST

int main(void)
{
    return TEST_RUN("call_cost", TEST_GROUP("warm precompiles", 0, precompiles_warm_by_flag_as_by_entries),
                    TEST_GROUP("code cache memo", 60, own_memo_dropped_when_setting_the_budget,
                               other_threads_memos_let_go_after_an_eviction, finders_and_evictions_at_once),
                    TEST_GROUP("message call path", 0, exists_touch_as_exists_then_touch,
                               call_to_absent_account_keeps_eip161, execute_reverted_repeats),
                    TEST_GROUP("frame counters", 60, frame_counts_summed_over_threads),
                    TEST_GROUP("transaction rules", 0, intrinsic_gas_as_counted_byte_by_byte,
                               executed_transaction_reports_its_floor, discarded_state_same_result));
}
