/* The store's live-mode cache below the network, with a fetcher made of
 * plain tables (no upstream): a cold call's prefetch asks only for what
 * SQLite lacks, in one `many` call, and the reads then fetch nothing; the
 * record of the keys a call read; the undo records of applied blocks
 * (what the cache held comes back, a key the block touched but the cache
 * did not hold is forgotten, including a value fetched after the block);
 * and the drift check's sample of cached values. */
#include <check.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "base/keccak.h"
#include "base/trie.h"
#include "store.h"

static char tmp_dir[256], db_path[512];
static store *db;
static store_conn *conn;

/* The upstream's state: accounts 0xA1 (balance 100) and 0xA2 (absent);
 * slots of 0xA1: key k holds k * 10 (key 0 holds zero). */
static unsigned many_calls, single_fetches;

static address addr_of(uint8_t b)
{
    address a;
    memset(a.b, 0, 20);
    a.b[19] = b;
    return a;
}

static void upstream_account(const address *a, bool *exists, account_info *info)
{
    memset(info, 0, sizeof *info);
    info->code_hash = KECCAK_EMPTY;
    *exists = a->b[19] == 0xA1;
    if (*exists) info->balance = u256_from_u64(100);
}

static bool fake_account(void *ctx, const hash32 *at, const address *a, bool *exists, account_info *info,
                         uint8_t **code, size_t *code_len, bool *has_storage, store_error *err)
{
    (void)ctx, (void)at, (void)err;
    single_fetches++;
    upstream_account(a, exists, info);
    *has_storage = *exists; /* 0xA1's slots are not all zero */
    *code = NULL;
    *code_len = 0;
    return true;
}

static bool fake_slot(void *ctx, const hash32 *at, const address *a, const u256 *key, u256 *value, store_error *err)
{
    (void)ctx, (void)at, (void)a, (void)err;
    single_fetches++;
    u256 ten = u256_from_u64(10);
    *value = u256_mul(key, &ten);
    return true;
}

static bool fake_block_hash(void *ctx, const hash32 *at, uint64_t number, hash32 *out, bool *found, store_error *err)
{
    (void)ctx, (void)at, (void)number, (void)out, (void)err;
    *found = false;
    return true;
}

static bool fake_many(void *ctx, const hash32 *at, struct store_live_item *items, size_t n, unsigned *round_trips,
                      store_error *err)
{
    (void)ctx, (void)at, (void)err;
    many_calls++;
    *round_trips = 1;
    for (size_t i = 0; i < n; i++) {
        if (items[i].k.is_slot) {
            u256 ten = u256_from_u64(10);
            items[i].value = u256_mul(&items[i].k.key, &ten);
        } else {
            upstream_account(&items[i].k.a, &items[i].exists, &items[i].info);
            items[i].has_storage = items[i].exists;
        }
    }
    return true;
}

static void open_live_db(void)
{
    test_temp_dir(tmp_dir, sizeof tmp_dir, "test_live_store");
    snprintf(db_path, sizeof db_path, "%s/live.db", tmp_dir);
    conn = test_store_create(db_path, &db);
    store_live_pin pin = {.url = "http://127.0.0.1:1/", .block_number = 7};
    memset(pin.block_hash.b, 7, 32);
    store_error se;
    ck_assert_msg(store_set_live_pin(conn, &pin, &se), "%s", se.msg);
    store_fetcher f = {.account = fake_account, .slot = fake_slot, .block_hash = fake_block_hash, .many = fake_many};
    store_set_fetcher(db, &f);
    many_calls = single_fetches = 0;
}

static void close_live_db(void)
{
    store_set_fetcher(db, NULL);
    store_disconnect(conn);
    store_close(db);
    test_remove_dir(tmp_dir);
}

static store_live_key slot_key(uint8_t a, uint64_t k)
{
    return (store_live_key){.a = addr_of(a), .is_slot = true, .key = u256_from_u64(k)};
}

/* Reads through the backend in one snapshot, as a call does. */
static u256 read_slot(uint8_t a, uint64_t k)
{
    store_error se;
    ck_assert_msg(store_read_begin(conn, &se), "%s", se.msg);
    state_backend b = store_backend(conn);
    address ad = addr_of(a);
    u256 key = u256_from_u64(k), v;
    b.get_storage(b.ctx, &ad, &key, &v);
    store_read_end(conn);
    ck_assert(!store_take_error(conn, &se));
    return v;
}

static bool read_account(uint8_t a, account_info *info)
{
    store_error se;
    ck_assert_msg(store_read_begin(conn, &se), "%s", se.msg);
    state_backend b = store_backend(conn);
    address ad = addr_of(a);
    bool found = b.get_account(b.ctx, &ad, info);
    store_read_end(conn);
    ck_assert(!store_take_error(conn, &se));
    return found;
}

START_TEST(prefetch_asks_once_for_what_sqlite_lacks)
{
    open_live_db();
    store_live_key keys[] = {{.a = addr_of(0xA1)}, {.a = addr_of(0xA2)}, slot_key(0xA1, 3), slot_key(0xA1, 0),
                             slot_key(0xA1, 3)};
    size_t fetched;
    store_error se;
    ck_assert_msg(store_live_prefetch(conn, keys, 5, &fetched, &se), "%s", se.msg);
    ck_assert_uint_eq(many_calls, 1);
    ck_assert_uint_eq(fetched, 4); /* the repeated key asked once */
    /* Everything now reads from SQLite: no single fetch. */
    account_info info;
    ck_assert(read_account(0xA1, &info));
    ck_assert_uint_eq(info.balance.w[0], 100);
    ck_assert(!read_account(0xA2, &info));
    ck_assert_uint_eq(read_slot(0xA1, 3).w[0], 30);
    u256 zero_slot = read_slot(0xA1, 0);
    ck_assert(u256_is_zero(&zero_slot));
    ck_assert_uint_eq(single_fetches, 0);
    /* Asked again: nothing to fetch, the fetcher is not called. */
    ck_assert_msg(store_live_prefetch(conn, keys, 5, &fetched, &se), "%s", se.msg);
    ck_assert_uint_eq(fetched, 0);
    ck_assert_uint_eq(many_calls, 1);
    /* A key not prefetched is fetched singly; the round trips count. */
    ck_assert_uint_eq(read_slot(0xA1, 9).w[0], 90);
    ck_assert_uint_eq(single_fetches, 1);
    store_live_stats st = store_get_live_stats(db);
    ck_assert_uint_eq(st.prefetches, 1);
    ck_assert_uint_eq(st.prefetched_keys, 4);
    close_live_db();
}
END_TEST

/* A prefetch that finds every key in SQLite leaves the slots it read in the
 * connection's slot cache for the call that follows; a commit by another
 * connection between the two (a followed block) is still seen by the call:
 * the cache is dated by SQLite's data_version, not trusted past a commit.
 * Zero slots (a fact) and slots of an account known absent read zero. */
START_TEST(a_prefetch_fills_the_slot_cache_that_a_commit_clears)
{
    open_live_db();
    store_live_key keys[] = {slot_key(0xA1, 3), slot_key(0xA1, 0), {.a = addr_of(0xA2)}, slot_key(0xA2, 5)};
    size_t fetched;
    store_error se;
    ck_assert_msg(store_live_prefetch(conn, keys, 3, &fetched, &se), "%s", se.msg);
    ck_assert_uint_eq(fetched, 3);
    /* 0xA2 is now known absent: its slots need no fetch (and read zero). */
    ck_assert_msg(store_live_prefetch(conn, keys, 4, &fetched, &se), "%s", se.msg);
    ck_assert_uint_eq(fetched, 0);
    ck_assert_uint_eq(read_slot(0xA1, 3).w[0], 30);
    u256 v = read_slot(0xA1, 0);
    ck_assert(u256_is_zero(&v));
    v = read_slot(0xA2, 5);
    ck_assert(u256_is_zero(&v));
    ck_assert_uint_eq(single_fetches, 0);

    store_conn *writer = store_connect(db, &se);
    ck_assert_msg(writer != NULL, "%s", se.msg);
    address a1 = addr_of(0xA1);
    u256 k3 = u256_from_u64(3);
    for (uint64_t next = 31; next <= 33; next++) {
        /* The cache filled, then the other connection commits, then the call reads. */
        ck_assert_msg(store_live_prefetch(conn, keys, 4, &fetched, &se), "%s", se.msg);
        ck_assert_uint_eq(fetched, 0);
        u256 value = u256_from_u64(next);
        ck_assert_msg(store_begin(writer, &se), "%s", se.msg);
        ck_assert_msg(store_set_storage(writer, &a1, &k3, &value, &se), "%s", se.msg);
        ck_assert_msg(store_commit(writer, &se), "%s", se.msg);
        ck_assert_uint_eq(read_slot(0xA1, 3).w[0], next);
    }
    /* And with no commit in between, the value the prefetch read. */
    ck_assert_msg(store_live_prefetch(conn, keys, 4, &fetched, &se), "%s", se.msg);
    ck_assert_uint_eq(read_slot(0xA1, 3).w[0], 33);
    /* A slot the cache held from an earlier snapshot, changed by a commit,
     * not among the prefetch's keys: the prefetch that moves the cache to
     * the new version drops it. */
    u256 k9 = u256_from_u64(9);
    for (uint64_t value9 = 90; value9 <= 91; value9++) {
        u256 value = u256_from_u64(value9);
        ck_assert_msg(store_begin(writer, &se), "%s", se.msg);
        ck_assert_msg(store_set_storage(writer, &a1, &k9, &value, &se), "%s", se.msg);
        ck_assert_msg(store_commit(writer, &se), "%s", se.msg);
        if (value9 == 90) ck_assert_uint_eq(read_slot(0xA1, 9).w[0], 90);
    }
    ck_assert_msg(store_live_prefetch(conn, keys, 4, &fetched, &se), "%s", se.msg);
    ck_assert_uint_eq(read_slot(0xA1, 9).w[0], 91);
    ck_assert_uint_eq(single_fetches, 0);
    store_disconnect(writer);
    close_live_db();
}
END_TEST

/* Keys learnt in the first batch (store_fetcher.more: an access list sent
 * with the accounts) come in one more batch: only those neither cached nor
 * just fetched, written with the rest in one transaction. */
static store_live_key more_keys[4];
static size_t n_more_keys, more_calls, second_batch_items;

static void fake_more(void *ctx, store_live_key **keys, size_t *n)
{
    (void)ctx;
    more_calls++;
    *keys = malloc(sizeof more_keys);
    memcpy(*keys, more_keys, sizeof more_keys);
    *n = n_more_keys;
    n_more_keys = 0; /* handed over once, as live.c's carried access list */
}

static bool counting_many(void *ctx, const hash32 *at, struct store_live_item *items, size_t n, unsigned *round_trips,
                          store_error *err)
{
    if (many_calls == 2) second_batch_items = n; /* the test's second prefetch, its second batch */
    return fake_many(ctx, at, items, n, round_trips, err);
}

START_TEST(keys_learnt_in_the_first_batch_come_in_a_second)
{
    open_live_db();
    store_fetcher f = {.account = fake_account, .slot = fake_slot, .block_hash = fake_block_hash, .many = counting_many,
                       .more = fake_more};
    store_set_fetcher(db, &f);
    size_t fetched;
    store_error se;
    store_live_key cached = slot_key(0xA1, 5);
    ck_assert_msg(store_live_prefetch(conn, &cached, 1, &fetched, &se), "%s", se.msg);
    ck_assert_uint_eq(many_calls, 1);
    /* The first batch: the two accounts; learnt: a slot, 0xA1 again (just
     * fetched), the cached slot 5 and another slot: two more asked. */
    more_keys[0] = slot_key(0xA1, 4);
    more_keys[1] = (store_live_key){.a = addr_of(0xA1)};
    more_keys[2] = cached;
    more_keys[3] = slot_key(0xA1, 6);
    n_more_keys = 4;
    more_calls = 0;
    store_live_key keys[] = {{.a = addr_of(0xA1)}, {.a = addr_of(0xA2)}};
    ck_assert_msg(store_live_prefetch(conn, keys, 2, &fetched, &se), "%s", se.msg);
    ck_assert_uint_eq(more_calls, 1);
    ck_assert_uint_eq(many_calls, 3);
    ck_assert_uint_eq(second_batch_items, 2); /* slots 4 and 6 */
    ck_assert_uint_eq(fetched, 4);
    ck_assert_uint_eq(read_slot(0xA1, 4).w[0], 40);
    ck_assert_uint_eq(read_slot(0xA1, 6).w[0], 60);
    account_info info;
    ck_assert(read_account(0xA1, &info));
    ck_assert(!read_account(0xA2, &info));
    ck_assert_uint_eq(single_fetches, 0);
    store_live_stats st = store_get_live_stats(db);
    ck_assert_uint_eq(st.prefetches, 2);
    ck_assert_uint_eq(st.prefetched_keys, 5);
    /* Nothing learnt and nothing lacking: no batch, `more` not asked. */
    ck_assert_msg(store_live_prefetch(conn, keys, 2, &fetched, &se), "%s", se.msg);
    ck_assert_uint_eq(fetched, 0);
    ck_assert_uint_eq(many_calls, 3);
    ck_assert_uint_eq(more_calls, 1);
    close_live_db();
}
END_TEST

START_TEST(a_call_records_the_keys_it_read)
{
    open_live_db();
    address target = addr_of(0xA1);
    const uint8_t selector[4] = {0x70, 0xa0, 0x82, 0x31};
    store_live_key *keys;
    size_t n;
    bool found;
    store_error se;
    ck_assert(store_live_recorded(conn, &target, selector, 4, &keys, &n, &found, &se));
    ck_assert(!found);
    store_live_record_begin(conn, &target, selector, 4, true);
    ck_assert_msg(store_read_begin(conn, &se), "%s", se.msg);
    state_backend b = store_backend(conn);
    account_info info;
    u256 key = u256_from_u64(5), v;
    b.get_account(b.ctx, &target, &info);
    b.get_storage(b.ctx, &target, &key, &v);
    b.get_storage(b.ctx, &target, &key, &v);
    store_read_end(conn);
    ck_assert_msg(store_live_record_end(conn, &se), "%s", se.msg);
    ck_assert(store_live_recorded(conn, &target, selector, 4, &keys, &n, &found, &se));
    ck_assert(found);
    ck_assert_uint_eq(n, 2);
    ck_assert(!keys[0].is_slot && memcmp(keys[0].a.b, target.b, 20) == 0);
    ck_assert(keys[1].is_slot && keys[1].key.w[0] == 5);
    free(keys);
    /* Another selector has its own record (none). */
    ck_assert(store_live_recorded(conn, &target, selector, 2, &keys, &n, &found, &se));
    ck_assert(!found && n == 0);
    close_live_db();
}
END_TEST

/* A connection that may not wait on the network (an HTTP polling thread's):
 * a read or a prefetch that would fetch raises the caller's flag and fails
 * without calling the fetcher or counting a miss; a recorded call whose read
 * failed so keeps its record; a cached read still answers. Set back to
 * NULL, the same reads fetch. */
START_TEST(a_deferring_connection_fetches_nothing)
{
    open_live_db();
    atomic_int deferred = 0;
    store_defer_fetches(conn, &deferred);
    store_error se;
    /* A prefetch of what SQLite lacks. */
    store_live_key keys[] = {{.a = addr_of(0xA1)}, slot_key(0xA1, 3)};
    size_t fetched;
    ck_assert(!store_live_prefetch(conn, keys, 2, &fetched, &se));
    ck_assert_int_eq(atomic_load(&deferred), 1);
    ck_assert_ptr_nonnull(strstr(se.msg, "left to a thread that may wait"));
    ck_assert_uint_eq(many_calls, 0);
    /* A caller about to fetch (a never-seen call) asks first: deferred the
     * same way; on a connection that may wait, not. */
    atomic_store(&deferred, 0);
    memset(&se, 0, sizeof se);
    ck_assert(store_live_fetch_deferred(conn, &se));
    ck_assert_int_eq(atomic_load(&deferred), 1);
    ck_assert_ptr_nonnull(strstr(se.msg, "left to a thread that may wait"));
    ck_assert(!store_take_error(conn, &se)); /* handed over, not left on the connection */
    store_defer_fetches(conn, NULL);
    ck_assert(!store_live_fetch_deferred(conn, &se));
    /* A call recorded with three keys (fetched while allowed)... */
    address target = addr_of(0xA1);
    const uint8_t selector[4] = {1, 2, 3, 4};
    store_live_key old_rec[3] = {{.a = target}, slot_key(0xA1, 1), slot_key(0xA1, 2)};
    atomic_store(&deferred, 0);
    store_defer_fetches(conn, NULL);
    ck_assert_msg(store_live_prefetch(conn, old_rec, 3, &fetched, &se), "%s", se.msg);
    ck_assert_uint_eq(many_calls, 1);
    store_live_record_begin(conn, &target, selector, 4, true);
    ck_assert(read_account(0xA1, &(account_info){0}));
    ck_assert_uint_eq(read_slot(0xA1, 1).w[0], 10);
    ck_assert_uint_eq(read_slot(0xA1, 2).w[0], 20);
    ck_assert_msg(store_live_record_end(conn, &se), "%s", se.msg);
    /* ... then again, deferring, with a read that would fetch: the record
     * is not replaced by the failed call's partial keys. */
    store_defer_fetches(conn, &deferred);
    store_live_stats before = store_get_live_stats(db);
    store_live_record_begin(conn, &target, selector, 4, true);
    ck_assert(store_read_begin(conn, &se));
    state_backend b = store_backend(conn);
    u256 key = u256_from_u64(9), v;
    b.get_storage(b.ctx, &target, &key, &v); /* not cached: deferred */
    store_read_end(conn);
    ck_assert_int_eq(atomic_load(&deferred), 1);
    ck_assert_msg(store_live_record_end(conn, &se), "%s", se.msg);
    ck_assert(store_take_error(conn, &se));
    store_live_key *rec;
    size_t n;
    bool found;
    ck_assert(store_live_recorded(conn, &target, selector, 4, &rec, &n, &found, &se));
    ck_assert(found);
    ck_assert_uint_eq(n, 3);
    free(rec);
    ck_assert_uint_eq(single_fetches, 0);
    store_live_stats st = store_get_live_stats(db);
    ck_assert_uint_eq(st.misses[LIVE_SLOT], before.misses[LIVE_SLOT]); /* counted where it is fetched */
    /* A cached read answers on a deferring connection. */
    atomic_store(&deferred, 0);
    ck_assert_uint_eq(read_slot(0xA1, 2).w[0], 20);
    ck_assert_int_eq(atomic_load(&deferred), 0);
    /* Fetching again once allowed. */
    store_defer_fetches(conn, NULL);
    ck_assert_uint_eq(read_slot(0xA1, 9).w[0], 90);
    ck_assert_uint_eq(single_fetches, 1);
    close_live_db();
}
END_TEST

START_TEST(an_undone_block_restores_what_the_cache_held)
{
    open_live_db();
    store_live_key keys[] = {{.a = addr_of(0xA1)}, {.a = addr_of(0xA2)}, slot_key(0xA1, 3), slot_key(0xA1, 0)};
    size_t fetched;
    store_error se;
    ck_assert_msg(store_live_prefetch(conn, keys, 4, &fetched, &se), "%s", se.msg);
    /* Block 8 changes: slot 3 to 1, slot 0 to 2, a slot not held (4) to 5,
     * 0xA1's balance to 1, and creates 0xA2 (absent before). */
    ck_assert(store_begin(conn, &se));
    store_live_undo_begin(conn);
    address a1 = addr_of(0xA1), a2 = addr_of(0xA2);
    u256 k3 = u256_from_u64(3), k0 = u256_zero(), k4 = u256_from_u64(4);
    u256 one = u256_from_u64(1), two = u256_from_u64(2), five = u256_from_u64(5);
    ck_assert(store_live_apply_slot(conn, &a1, &k3, &one, &se));
    ck_assert(store_live_apply_slot(conn, &a1, &k0, &two, &se));
    ck_assert(store_live_apply_slot(conn, &a1, &k4, &five, &se));
    account_info info = {.balance = one, .code_hash = KECCAK_EMPTY};
    ck_assert(store_live_apply_account(conn, &a1, LIVE_BALANCE, &info, NULL, 0, &se));
    ck_assert(store_live_apply_account(conn, &a2, LIVE_BALANCE, &info, NULL, 0, &se));
    hash32 h8, h7;
    memset(h8.b, 8, 32);
    memset(h7.b, 7, 32);
    ck_assert_msg(store_live_undo_save(conn, 8, &h8, &h7, 128, &se), "%s", se.msg);
    store_live_pin pin = {.url = "http://127.0.0.1:1/", .block_number = 8, .block_hash = h8};
    ck_assert(store_set_live_pin(conn, &pin, &se));
    ck_assert_msg(store_commit(conn, &se), "%s", se.msg);
    ck_assert_uint_eq(read_slot(0xA1, 3).w[0], 1);
    ck_assert_uint_eq(read_slot(0xA1, 0).w[0], 2);
    /* Slot 4 fetched at block 8 (the fake upstream says 40). */
    ck_assert_uint_eq(read_slot(0xA1, 4).w[0], 40);
    unsigned fetches = single_fetches;

    /* A block never applied is not kept. */
    bool kept;
    ck_assert(store_begin(conn, &se));
    ck_assert(store_live_undo_block(conn, 9, &kept, &se));
    ck_assert(!kept);
    /* Undo block 8. */
    ck_assert_msg(store_live_undo_block(conn, 8, &kept, &se), "%s", se.msg);
    ck_assert(kept);
    pin.block_number = 7;
    pin.block_hash = h7;
    ck_assert(store_set_live_pin(conn, &pin, &se));
    ck_assert_msg(store_commit(conn, &se), "%s", se.msg);
    ck_assert_uint_eq(read_slot(0xA1, 3).w[0], 30);
    ck_assert_uint_eq(read_slot(0xA1, 0).w[0], 0);
    ck_assert(read_account(0xA1, &info));
    ck_assert_uint_eq(info.balance.w[0], 100);
    ck_assert(!read_account(0xA2, &info));
    ck_assert_uint_eq(single_fetches, fetches); /* all of that from SQLite */
    /* Slot 4 was touched by block 8 and not held before it: forgotten, so
     * it is fetched again at block 7. */
    ck_assert_uint_eq(read_slot(0xA1, 4).w[0], 40);
    ck_assert_uint_eq(single_fetches, fetches + 1);
    /* The record is gone once used. */
    ck_assert(store_begin(conn, &se));
    ck_assert(store_live_undo_block(conn, 8, &kept, &se));
    ck_assert(!kept);
    store_rollback(conn);
    close_live_db();
}
END_TEST

/* Whether live_has_storage marks the address, read from the file. */
static bool marked(uint8_t a)
{
    sqlite3 *raw;
    sqlite3_stmt *st;
    ck_assert(sqlite3_open_v2(db_path, &raw, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    ck_assert(sqlite3_prepare_v2(raw, "SELECT 1 FROM live_has_storage WHERE address = ?1", -1, &st, NULL) == SQLITE_OK);
    address ad = addr_of(a);
    sqlite3_bind_blob(st, 1, ad.b, 20, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return found;
}

/* The marks "this account has storage" (EIP-7610's collision check) that a
 * block set or removed come back as they were when it is undone. */
START_TEST(an_undone_block_restores_the_storage_marks)
{
    open_live_db();
    store_live_key keys[] = {{.a = addr_of(0xA1)}, {.a = addr_of(0xA2)}};
    size_t fetched;
    store_error se;
    ck_assert_msg(store_live_prefetch(conn, keys, 2, &fetched, &se), "%s", se.msg);
    ck_assert(marked(0xA1) && !marked(0xA2)); /* the upstream's storage roots */
    /* Block 8 gives 0xA2 (absent before) a slot, and deletes 0xA1. */
    ck_assert(store_begin(conn, &se));
    store_live_undo_begin(conn);
    address a1 = addr_of(0xA1), a2 = addr_of(0xA2);
    u256 k1 = u256_from_u64(1), nine = u256_from_u64(9);
    ck_assert_msg(store_live_apply_slot(conn, &a2, &k1, &nine, &se), "%s", se.msg);
    ck_assert_msg(store_live_mark_storage(conn, &a2, &se), "%s", se.msg);
    ck_assert_msg(store_live_apply_account(conn, &a1, 0, NULL, NULL, 0, &se), "%s", se.msg);
    hash32 h8, h7;
    memset(h8.b, 8, 32);
    memset(h7.b, 7, 32);
    ck_assert_msg(store_live_undo_save(conn, 8, &h8, &h7, 128, &se), "%s", se.msg);
    store_live_pin pin = {.url = "http://127.0.0.1:1/", .block_number = 8, .block_hash = h8};
    ck_assert(store_set_live_pin(conn, &pin, &se));
    ck_assert_msg(store_commit(conn, &se), "%s", se.msg);
    ck_assert(!marked(0xA1) && marked(0xA2));
    /* Undo block 8: 0xA1 is marked again, 0xA2 no longer. */
    bool kept;
    ck_assert(store_begin(conn, &se));
    ck_assert_msg(store_live_undo_block(conn, 8, &kept, &se), "%s", se.msg);
    ck_assert(kept);
    pin.block_number = 7;
    pin.block_hash = h7;
    ck_assert(store_set_live_pin(conn, &pin, &se));
    ck_assert_msg(store_commit(conn, &se), "%s", se.msg);
    ck_assert_msg(marked(0xA1), "0xA1's mark was not restored");
    ck_assert_msg(!marked(0xA2), "0xA2's mark, set by the undone block, was kept");
    account_info info;
    ck_assert(read_account(0xA1, &info));
    ck_assert_uint_eq(info.balance.w[0], 100);
    ck_assert(!read_account(0xA2, &info));
    close_live_db();
}
END_TEST

START_TEST(undo_records_keep_a_window)
{
    open_live_db();
    store_error se;
    for (uint64_t n = 1; n <= 6; n++) {
        hash32 h, p;
        memset(h.b, (int)n, 32);
        memset(p.b, (int)n - 1, 32);
        ck_assert(store_begin(conn, &se));
        store_live_undo_begin(conn);
        ck_assert_msg(store_live_undo_save(conn, n, &h, &p, 3, &se), "%s", se.msg);
        ck_assert(store_commit(conn, &se));
    }
    bool kept;
    ck_assert(store_begin(conn, &se));
    for (uint64_t n = 1; n <= 6; n++) {
        ck_assert(store_live_undo_block(conn, n, &kept, &se));
        ck_assert_msg(kept == (n >= 4), "block %llu kept %d", (unsigned long long)n, kept);
    }
    store_rollback(conn);
    close_live_db();
}
END_TEST

/* The bytes of block `number`'s undo record, read from the file. */
static size_t undo_record_bytes(uint64_t number)
{
    sqlite3 *raw;
    sqlite3_stmt *st;
    ck_assert(sqlite3_open_v2(db_path, &raw, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    ck_assert(sqlite3_prepare_v2(raw, "SELECT length(undo) FROM live_block_undo WHERE number = ?1", -1, &st, NULL) ==
              SQLITE_OK);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)number);
    ck_assert(sqlite3_step(st) == SQLITE_ROW);
    size_t n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return n;
}

/* A slot key as Solidity's mappings make them: a 32-byte hash. */
static u256 hashed_key(uint64_t i)
{
    uint8_t in[8], h[32];
    for (int b = 0; b < 8; b++) in[b] = (uint8_t)(i >> (8 * b));
    keccak256(in, sizeof in, h);
    return u256_load_be(h);
}

/* Block `number` as a busy mainnet block writes a token: each of `n`
 * hashed slots written by two transactions (old and new values the size
 * of token balances, 8 bytes), the fee recipient's balance by every one. */
static void apply_busy_block(uint64_t number, size_t n, uint64_t base)
{
    store_error se;
    address token = addr_of(0xA1), fee_recipient = addr_of(0xC0);
    ck_assert(store_begin(conn, &se));
    store_live_undo_begin(conn);
    for (int tx = 0; tx < 2; tx++) {
        for (size_t i = 0; i < n; i++) {
            u256 k = hashed_key(i), v = u256_from_u64(base + 1000000000000000000ull + i * 7 + (uint64_t)tx);
            ck_assert_msg(store_live_apply_slot(conn, &token, &k, &v, &se), "%s", se.msg);
        }
        for (size_t t = 0; t < n / 10; t++) {
            account_info fee = {.balance = u256_from_u64(base + 5000000000000000000ull + t), .code_hash = KECCAK_EMPTY};
            ck_assert(store_live_apply_account(conn, &fee_recipient, LIVE_BALANCE, &fee, NULL, 0, &se));
        }
    }
    hash32 h, parent;
    memset(h.b, (int)number, 32);
    memset(parent.b, (int)number - 1, 32);
    ck_assert_msg(store_live_undo_save(conn, number, &h, &parent, 128, &se), "%s", se.msg);
    ck_assert_msg(store_commit(conn, &se), "%s", se.msg);
}

/* The size of an undo record per changed slot, on a block that writes
 * 1000 slots (half of them cached) twice each: printed for the README,
 * bounded here. Then the record restores what block 8 left. */
START_TEST(an_undo_record_is_compact)
{
    open_live_db();
    enum { N = 1000 };
    store_live_key *keys = calloc(N / 2 + 1, sizeof *keys);
    for (size_t i = 0; i < N / 2; i++) keys[i] = (store_live_key){.a = addr_of(0xA1), .is_slot = true, .key = hashed_key(i)};
    keys[N / 2] = (store_live_key){.a = addr_of(0xC0)};
    size_t fetched;
    store_error se;
    ck_assert_msg(store_live_prefetch(conn, keys, N / 2 + 1, &fetched, &se), "%s", se.msg);
    free(keys);
    apply_busy_block(8, N, 0);   /* the held slots now hold token-sized values */
    apply_busy_block(9, N, 100); /* the measured block */
    size_t bytes = undo_record_bytes(9);
    printf("live_store: undo record of a block writing %d slots (%d cached) twice each and one account %d times: "
           "%zu bytes, %.1f bytes per slot\n", N, N / 2, N / 5, bytes, (double)bytes / N);
    ck_assert_msg(bytes <= (size_t)N * 48, "%zu bytes for %d slots", bytes, N);
    /* Undone: block 8's values are back, and what was not held is not. */
    bool kept;
    ck_assert(store_begin(conn, &se));
    ck_assert_msg(store_live_undo_block(conn, 9, &kept, &se), "%s", se.msg);
    ck_assert(kept);
    ck_assert_msg(store_commit(conn, &se), "%s", se.msg);
    ck_assert_msg(store_read_begin(conn, &se), "%s", se.msg);
    state_backend b = store_backend(conn);
    address token = addr_of(0xA1);
    unsigned before = single_fetches + many_calls;
    for (size_t i = 0; i < N / 2; i++) {
        u256 k = hashed_key(i), v, want = u256_from_u64(1000000000000000000ull + i * 7 + 1);
        b.get_storage(b.ctx, &token, &k, &v);
        ck_assert_msg(u256_eq(&v, &want), "slot %zu", i);
    }
    store_read_end(conn);
    ck_assert(!store_take_error(conn, &se));
    ck_assert_uint_eq(single_fetches + many_calls, before); /* all of them cached */
    account_info info;
    ck_assert(read_account(0xC0, &info));
    ck_assert_uint_eq(info.balance.w[0], 5000000000000000000ull + N / 10 - 1);
    close_live_db();
}
END_TEST

/* A record written before the compact format (an 'A' or 'S' entry per
 * touch, restored newest first) still undoes its block. */
START_TEST(an_undo_record_of_the_old_format_still_undoes)
{
    open_live_db();
    store_live_key keys[] = {{.a = addr_of(0xA1)}, slot_key(0xA1, 3)};
    size_t fetched;
    store_error se;
    ck_assert_msg(store_live_prefetch(conn, keys, 2, &fetched, &se), "%s", se.msg);
    /* Block 8 wrote slot 3 twice (30 -> 31 -> 32) and 0xA1's balance
     * (100 -> 1); its record, as the old format wrote it. */
    ck_assert(store_begin(conn, &se));
    address a1 = addr_of(0xA1);
    u256 k3 = u256_from_u64(3), v32 = u256_from_u64(32);
    ck_assert(store_live_apply_slot(conn, &a1, &k3, &v32, &se));
    account_info info = {.balance = u256_from_u64(1), .code_hash = KECCAK_EMPTY};
    ck_assert(store_live_apply_account(conn, &a1, LIVE_BALANCE, &info, NULL, 0, &se));
    ck_assert(store_commit(conn, &se));
    uint8_t rec[2 * 86 + 94] = {0}, *e = rec;
    for (int touch = 0; touch < 2; touch++, e += 86) { /* 'S', held row, address, key, value */
        e[0] = 'S', e[1] = 1;
        memcpy(e + 2, a1.b, 20);
        e[22 + 31] = 3;
        e[54 + 31] = (uint8_t)(30 + touch);
    }
    e[0] = 'A', e[1] = 1; /* 'A', held row, address, nonce, balance, code hash */
    memcpy(e + 2, a1.b, 20);
    e[30 + 31] = 100;
    memcpy(e + 62, KECCAK_EMPTY.b, 32);
    sqlite3 *raw;
    sqlite3_stmt *st;
    ck_assert(sqlite3_open(db_path, &raw) == SQLITE_OK);
    ck_assert(sqlite3_prepare_v2(raw, "INSERT INTO live_block_undo (number, hash, parent_hash, undo) VALUES (8, ?1, ?1, ?2)",
                                 -1, &st, NULL) == SQLITE_OK);
    uint8_t h[32] = {8};
    sqlite3_bind_blob(st, 1, h, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, rec, sizeof rec, SQLITE_STATIC);
    ck_assert(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(raw);
    bool kept;
    ck_assert(store_begin(conn, &se));
    ck_assert_msg(store_live_undo_block(conn, 8, &kept, &se), "%s", se.msg);
    ck_assert(kept);
    ck_assert_msg(store_commit(conn, &se), "%s", se.msg);
    unsigned fetches = single_fetches;
    ck_assert_uint_eq(read_slot(0xA1, 3).w[0], 30); /* the oldest entry wins */
    ck_assert(read_account(0xA1, &info));
    ck_assert_uint_eq(info.balance.w[0], 100);
    ck_assert_uint_eq(single_fetches, fetches);
    close_live_db();
}
END_TEST

START_TEST(the_drift_sample_holds_cached_values)
{
    open_live_db();
    store_live_key keys[] = {{.a = addr_of(0xA1)}, slot_key(0xA1, 3), slot_key(0xA1, 4), slot_key(0xA1, 5)};
    size_t fetched, n;
    store_error se;
    ck_assert_msg(store_live_prefetch(conn, keys, 4, &fetched, &se), "%s", se.msg);
    store_live_key sample[16];
    u256 values[16];
    ck_assert_msg(store_live_sample(conn, sample, values, 16, &n, &se), "%s", se.msg);
    ck_assert_uint_ge(n, 2);
    bool account = false, slot = false;
    for (size_t i = 0; i < n; i++) {
        if (sample[i].is_slot) {
            slot = true;
            ck_assert_uint_eq(values[i].w[0], sample[i].key.w[0] * 10);
        } else {
            account = true;
            ck_assert_uint_eq(values[i].w[0], 100);
        }
    }
    ck_assert(account && slot);
    close_live_db();
}
END_TEST

/* Whether an account has storage is the upstream's word (its storage root),
 * not whether a slot of it happens to be cached. */
START_TEST(has_storage_comes_from_the_upstream)
{
    for (int via_prefetch = 0; via_prefetch < 2; via_prefetch++) {
        open_live_db();
        store_error se;
        if (via_prefetch) {
            store_live_key keys[] = {{.a = addr_of(0xA1)}, {.a = addr_of(0xA2)}};
            size_t fetched;
            ck_assert_msg(store_live_prefetch(conn, keys, 2, &fetched, &se), "%s", se.msg);
        }
        ck_assert(store_read_begin(conn, &se));
        state_backend b = store_backend(conn);
        address a1 = addr_of(0xA1), a2 = addr_of(0xA2);
        account_info info;
        b.get_account(b.ctx, &a1, &info);
        b.get_account(b.ctx, &a2, &info);
        ck_assert(b.has_storage(b.ctx, &a1)); /* no slot of it cached */
        ck_assert(!b.has_storage(b.ctx, &a2));
        store_read_end(conn);
        ck_assert(!store_take_error(conn, &se));
        ck_assert_uint_eq(single_fetches, via_prefetch ? 0 : 2);
        close_live_db();
    }
}
END_TEST

/* A fetcher that leaves storage roots pending (live.c: eth_getProof only
 * for accounts of nonce 0 and no code, EIP-7610) gets them asked in the
 * store's next batch, with the keys learnt in the first (one round trip for
 * both), and all of it written in one transaction. 0xA3 is empty (absent)
 * but holds storage: marked all the same. */
static size_t root_batch_items[4], root_batch_roots[4];

static bool root_pending_many(void *ctx, const hash32 *at, struct store_live_item *items, size_t n,
                              unsigned *round_trips, store_error *err)
{
    (void)ctx, (void)at, (void)err;
    *round_trips = 1;
    size_t call = many_calls++;
    if (call < 4) root_batch_items[call] = n, root_batch_roots[call] = 0;
    for (size_t i = 0; i < n; i++) {
        struct store_live_item *it = &items[i];
        if (it->k.is_slot) {
            u256 ten = u256_from_u64(10);
            it->value = u256_mul(&it->k.key, &ten);
        } else if (it->root_only) {
            if (call < 4) root_batch_roots[call]++;
            it->has_storage = it->k.a.b[19] == 0xA1 || it->k.a.b[19] == 0xA3;
        } else {
            upstream_account(&it->k.a, &it->exists, &it->info);
            it->root_pending = true; /* every account here has nonce 0 and no code */
        }
    }
    return true;
}

START_TEST(a_pending_storage_root_comes_with_the_next_batch)
{
    for (int with_more = 0; with_more < 2; with_more++) {
        open_live_db();
        store_fetcher f = {.account = fake_account, .slot = fake_slot, .block_hash = fake_block_hash,
                           .many = root_pending_many, .more = with_more ? fake_more : NULL};
        store_set_fetcher(db, &f);
        more_keys[0] = slot_key(0xA1, 4);
        n_more_keys = with_more;
        store_live_key keys[] = {{.a = addr_of(0xA1)}, {.a = addr_of(0xA2)}, {.a = addr_of(0xA3)}};
        size_t fetched;
        store_error se;
        ck_assert_msg(store_live_prefetch(conn, keys, 3, &fetched, &se), "%s", se.msg);
        ck_assert_uint_eq(many_calls, 2);
        ck_assert_uint_eq(root_batch_roots[0], 0);
        ck_assert_uint_eq(root_batch_items[1], 3 + (size_t)with_more); /* the three roots (and the slot) */
        ck_assert_uint_eq(root_batch_roots[1], 3);
        ck_assert_uint_eq(fetched, 3 + (size_t)with_more); /* roots are not keys */
        ck_assert(marked(0xA1));
        ck_assert(!marked(0xA2));
        ck_assert(marked(0xA3));
        ck_assert_msg(store_read_begin(conn, &se), "%s", se.msg);
        state_backend b = store_backend(conn);
        address a1 = addr_of(0xA1), a2 = addr_of(0xA2);
        account_info info;
        b.get_account(b.ctx, &a1, &info);
        b.get_account(b.ctx, &a2, &info);
        ck_assert(b.has_storage(b.ctx, &a1));
        ck_assert(!b.has_storage(b.ctx, &a2));
        store_read_end(conn);
        ck_assert(!store_take_error(conn, &se));
        ck_assert_uint_eq(single_fetches, 0);
        if (with_more) ck_assert_uint_eq(read_slot(0xA1, 4).w[0], 40);
        ck_assert_uint_eq(single_fetches, 0);
        close_live_db();
    }
}
END_TEST

int main(void)
{
    return TEST_RUN("live_store",
        TEST_GROUP("cache", 60, prefetch_asks_once_for_what_sqlite_lacks, a_prefetch_fills_the_slot_cache_that_a_commit_clears,
            a_call_records_the_keys_it_read,
            a_deferring_connection_fetches_nothing,
            an_undone_block_restores_what_the_cache_held, an_undone_block_restores_the_storage_marks,
            undo_records_keep_a_window, an_undo_record_is_compact,
            an_undo_record_of_the_old_format_still_undoes,
            the_drift_sample_holds_cached_values, has_storage_comes_from_the_upstream,
            keys_learnt_in_the_first_batch_come_in_a_second, a_pending_storage_root_comes_with_the_next_batch));
}
