/* The per-connection cache of storage slots (schema/store.c): a slot read
 * in one snapshot is served from the cache in the next, and a commit by
 * another connection or by this one, or a rollback of this one's write,
 * makes the next snapshot read SQLite again. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"
#include "store.h"

static char tmp_dir[256], db_path[512];

static address addr_of(uint8_t b)
{
    address a;
    memset(a.b, 0, 20);
    a.b[19] = b;
    return a;
}

/* One slot read through the backend in its own snapshot, as a call does. */
static uint64_t read_slot(store_conn *c, uint8_t a, uint64_t k)
{
    store_error se;
    ck_assert_msg(store_read_begin(c, &se), "%s", se.msg);
    state_backend b = store_backend(c);
    address ad = addr_of(a);
    u256 key = u256_from_u64(k), v;
    b.get_storage(b.ctx, &ad, &key, &v);
    store_read_end(c);
    ck_assert(!store_take_error(c, &se));
    return v.w[0];
}

static void write_slot(store_conn *c, uint8_t a, uint64_t k, uint64_t v, bool commit)
{
    store_error se;
    address ad = addr_of(a);
    u256 key = u256_from_u64(k), value = u256_from_u64(v);
    ck_assert_msg(store_begin(c, &se), "%s", se.msg);
    ck_assert_msg(store_set_storage(c, &ad, &key, &value, &se), "%s", se.msg);
    if (commit) ck_assert_msg(store_commit(c, &se), "%s", se.msg);
    else store_rollback(c);
}

START_TEST(a_cached_slot_follows_every_commit)
{
    test_temp_dir(tmp_dir, sizeof tmp_dir, "test_store_slot_cache");
    snprintf(db_path, sizeof db_path, "%s/slots.db", tmp_dir);
    store *db;
    store_conn *reader = test_store_create(db_path, &db), *writer;
    store_error se;
    ck_assert_msg((writer = store_connect(db, &se)) != NULL, "%s", se.msg);

    write_slot(writer, 0xA1, 1, 10, true);
    ck_assert_uint_eq(read_slot(reader, 0xA1, 1), 10);
    ck_assert_uint_eq(read_slot(reader, 0xA1, 1), 10); /* from the cache */
    ck_assert_uint_eq(read_slot(reader, 0xA1, 2), 0);  /* an absent slot is cached as zero */
    /* Another connection commits: the reader sees the new values. */
    write_slot(writer, 0xA1, 1, 11, true);
    write_slot(writer, 0xA1, 2, 22, true);
    ck_assert_uint_eq(read_slot(reader, 0xA1, 1), 11);
    ck_assert_uint_eq(read_slot(reader, 0xA1, 2), 22);
    /* The reader's own write, committed, then one rolled back. */
    write_slot(reader, 0xA1, 1, 12, true);
    ck_assert_uint_eq(read_slot(reader, 0xA1, 1), 12);
    write_slot(reader, 0xA1, 1, 13, false);
    ck_assert_uint_eq(read_slot(reader, 0xA1, 1), 12);
    /* Slots of two addresses with the same key are told apart. */
    write_slot(writer, 0xA2, 1, 99, true);
    ck_assert_uint_eq(read_slot(reader, 0xA1, 1), 12);
    ck_assert_uint_eq(read_slot(reader, 0xA2, 1), 99);
    /* Deleted (written zero) by the other connection. */
    write_slot(writer, 0xA2, 1, 0, true);
    ck_assert_uint_eq(read_slot(reader, 0xA2, 1), 0);

    store_disconnect(writer);
    store_disconnect(reader);
    store_close(db);
    test_remove_dir(tmp_dir);
}
END_TEST

int main(void)
{
    return TEST_RUN("store_slot_cache", TEST_GROUP("cache", 30, a_cached_slot_follows_every_commit));
}
