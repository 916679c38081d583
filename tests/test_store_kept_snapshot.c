/* Kept read snapshots (store_keep_snapshots, schema/store.c): a reader that
 * keeps its snapshot between calls sees every commit made before its next
 * call, by another connection of the store, by another store handle on the
 * file, or by another process; a commit of several keys is seen whole or not
 * at all while a writer commits concurrently; a kept snapshot is ended
 * when it ages, when it is released, and before the reader's own write; and
 * an aged one left parked by an idle reader is ended by another thread (as
 * the server's guard does), which lets the WAL be checkpointed whole; the
 * coarse clock a snapshot's age is read from never goes back and keeps
 * within a tick of the fine one. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <sqlite3.h>
#include <unistd.h>

#include "testlib.h"
#include "store.h"
#include "base/clock.h"

static char tmp_dir[256], db_path[512];

static address addr_of(uint8_t b)
{
    address a;
    memset(a.b, 0, 20);
    a.b[19] = b;
    return a;
}

static uint64_t get_slot(store_conn *c, uint64_t k)
{
    state_backend b = store_backend(c);
    address ad = addr_of(0xA1);
    u256 key = u256_from_u64(k), v;
    b.get_storage(b.ctx, &ad, &key, &v);
    return v.w[0];
}

/* Slots 1 and 2 read in one snapshot, as one call reads them. */
static void read_pair(store_conn *c, uint64_t *one, uint64_t *two)
{
    store_error se;
    ck_assert_msg(store_read_begin(c, &se), "%s", se.msg);
    *one = get_slot(c, 1);
    *two = get_slot(c, 2);
    store_read_end(c);
    ck_assert(!store_take_error(c, &se));
}

static uint64_t read_one(store_conn *c)
{
    uint64_t one, two;
    read_pair(c, &one, &two);
    return one;
}

/* Slots 1 and 2 both set to v in one transaction, as a block is applied. */
static void write_pair(store_conn *c, uint64_t v)
{
    store_error se;
    address ad = addr_of(0xA1);
    u256 k1 = u256_from_u64(1), k2 = u256_from_u64(2), value = u256_from_u64(v);
    ck_assert_msg(store_begin(c, &se), "%s", se.msg);
    ck_assert_msg(store_set_storage(c, &ad, &k1, &value, &se), "%s", se.msg);
    ck_assert_msg(store_set_storage(c, &ad, &k2, &value, &se), "%s", se.msg);
    ck_assert_msg(store_commit(c, &se), "%s", se.msg);
}

/* A fresh database with a reader that keeps its snapshots and a writer:
 * two connections of one store. */
typedef struct {
    store *db;
    store_conn *reader, *writer;
} kept_db;

static kept_db open_kept(void)
{
    kept_db k;
    test_temp_dir(tmp_dir, sizeof tmp_dir, "test_store_kept_snapshot");
    snprintf(db_path, sizeof db_path, "%s/kept.db", tmp_dir);
    k.reader = test_store_create(db_path, &k.db);
    store_error se;
    k.writer = store_connect(k.db, &se);
    ck_assert_msg(k.writer != NULL, "%s", se.msg);
    store_keep_snapshots(k.reader, true);
    return k;
}

static void close_kept(kept_db *k)
{
    store_disconnect(k->writer);
    store_disconnect(k->reader);
    store_close(k->db);
    test_remove_dir(tmp_dir);
}

START_TEST(a_kept_snapshot_sees_every_commit)
{
    kept_db k = open_kept();
    store_conn *reader = k.reader, *writer = k.writer;
    store_error se;
    store *other = store_open(db_path, STORE_OPEN_EXISTING, &se);
    ck_assert_msg(other != NULL, "%s", se.msg);
    store_conn *other_writer = store_connect(other, &se);
    ck_assert_msg(other_writer != NULL, "%s", se.msg);

    write_pair(writer, 1);
    ck_assert_uint_eq(read_one(reader), 1); /* finds the WAL index: not kept */
    ck_assert(!store_snapshot_parked(reader));
    ck_assert_uint_eq(read_one(reader), 1);
    ck_assert(store_snapshot_parked(reader)); /* kept from here on */
    ck_assert_uint_eq(read_one(reader), 1);
    ck_assert(store_snapshot_parked(reader));
    /* Another connection of the store commits. */
    write_pair(writer, 2);
    ck_assert_uint_eq(read_one(reader), 2);
    ck_assert_uint_eq(read_one(reader), 2);
    /* Another store handle on the file. */
    write_pair(other_writer, 3);
    ck_assert_uint_eq(read_one(reader), 3);
    ck_assert_uint_eq(read_one(reader), 3);
    /* Another process. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        store *s = store_open(db_path, STORE_OPEN_EXISTING, &se);
        store_conn *c = s ? store_connect(s, &se) : NULL;
        if (!c) _exit(2);
        write_pair(c, 4);
        store_disconnect(c);
        store_close(s);
        _exit(0);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert(store_snapshot_parked(reader));
    ck_assert_uint_eq(read_one(reader), 4);
    ck_assert_uint_eq(read_one(reader), 4);
    /* The reader's own write releases the kept snapshot and is then seen. */
    ck_assert(store_snapshot_parked(reader));
    write_pair(reader, 5);
    ck_assert(!store_snapshot_parked(reader));
    ck_assert_uint_eq(read_one(reader), 5);
    /* settle keeps a current snapshot, ends a stale one. */
    ck_assert_uint_eq(read_one(reader), 5);
    store_snapshot_settle(reader);
    ck_assert(store_snapshot_parked(reader));
    write_pair(writer, 6);
    store_snapshot_settle(reader);
    ck_assert(!store_snapshot_parked(reader));
    ck_assert_uint_eq(read_one(reader), 6);
    /* An old one is not reused, even with no commit since. */
    ck_assert(store_snapshot_parked(reader));
    struct timespec nap = {0, (STORE_SNAPSHOT_MAX_MS + 50) * 1000000L};
    nanosleep(&nap, NULL);
    store_snapshot_settle(reader);
    ck_assert(!store_snapshot_parked(reader));
    ck_assert_uint_eq(read_one(reader), 6);
    /* Released, and no longer kept once turned off. */
    ck_assert(store_snapshot_parked(reader));
    store_snapshot_release(reader);
    ck_assert(!store_snapshot_parked(reader));
    store_keep_snapshots(reader, false);
    ck_assert_uint_eq(read_one(reader), 6);
    ck_assert(!store_snapshot_parked(reader));

    store_disconnect(other_writer);
    store_close(other);
    close_kept(&k);
}
END_TEST

enum { PAIRS = 1500 };

static void *writer_main(void *arg)
{
    store_conn *w = arg;
    for (uint64_t v = 1; v <= PAIRS; v++) write_pair(w, v);
    return NULL;
}

START_TEST(a_commit_is_seen_whole_while_a_writer_commits)
{
    kept_db k = open_kept();
    store_conn *reader = k.reader, *writer = k.writer;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, writer_main, writer), 0);
    uint64_t last = 0, reads = 0, one, two;
    do {
        read_pair(reader, &one, &two);
        ck_assert_msg(one == two, "a mix of two commits: slot 1 = %llu, slot 2 = %llu", (unsigned long long)one,
                      (unsigned long long)two);
        ck_assert_msg(one >= last, "went back from %llu to %llu", (unsigned long long)last, (unsigned long long)one);
        last = one;
        reads++;
    } while (one < PAIRS);
    pthread_join(t, NULL);
    ck_assert_uint_gt(reads, 1);
    ck_assert_uint_eq(read_one(reader), PAIRS);
    close_kept(&k);
}
END_TEST

/* PRAGMA wal_checkpoint(PASSIVE) from a connection of its own: whether every
 * frame of the WAL could be copied back (none pinned by a reader). */
static bool wal_checkpointed_whole(int *frames, int *done)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    /* A connection knows the file is in WAL mode once it has read it. */
    ck_assert_int_eq(sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL), SQLITE_OK);
    int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, frames, done);
    ck_assert_msg(rc == SQLITE_OK, "wal_checkpoint: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return *frames == *done;
}

/* The other thread: ends the reader's parked snapshot if it can no longer
 * be reused. The join is the hand-off that keeps the reader's thread off
 * its connection meanwhile (the server uses a per-thread mutex). */
static void *settle_main(void *arg)
{
    store_snapshot_settle(arg);
    return NULL;
}

START_TEST(an_idle_parked_snapshot_is_ended_by_another_thread)
{
    kept_db k = open_kept();
    store_conn *reader = k.reader, *writer = k.writer;
    write_pair(writer, 1);
    ck_assert_uint_eq(read_one(reader), 1);
    ck_assert_uint_eq(read_one(reader), 1);
    ck_assert(store_snapshot_parked(reader));
    /* Commits after the parked snapshot began: its mark pins their frames. */
    for (uint64_t v = 2; v <= 40; v++) write_pair(writer, v);
    int frames = 0, done = 0;
    ck_assert_msg(!wal_checkpointed_whole(&frames, &done), "a parked snapshot did not pin the WAL (%d of %d)", done,
                  frames);
    ck_assert_int_gt(frames, 0);
    /* Aged (and stale): another thread ends it while the reader idles. */
    struct timespec nap = {0, (STORE_SNAPSHOT_MAX_MS + 50) * 1000000L};
    nanosleep(&nap, NULL);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, settle_main, reader), 0);
    pthread_join(t, NULL);
    ck_assert(!store_snapshot_parked(reader));
    ck_assert_msg(wal_checkpointed_whole(&frames, &done), "WAL still pinned: %d of %d frames", done, frames);
    /* The reader's next call sees the last commit, on a snapshot kept again. */
    ck_assert_uint_eq(read_one(reader), 40);
    ck_assert(store_snapshot_parked(reader));
    /* A young, current parked snapshot is left alone. */
    ck_assert_int_eq(pthread_create(&t, NULL, settle_main, reader), 0);
    pthread_join(t, NULL);
    ck_assert(store_snapshot_parked(reader));
    close_kept(&k);
}
END_TEST

START_TEST(the_age_clock_follows_the_monotonic_clock)
{
    uint64_t last = monotonic_coarse_ns();
    for (int i = 0; i < 200000; i++) {
        uint64_t coarse = monotonic_coarse_ns(), fine = monotonic_ns();
        ck_assert_uint_ge(coarse, last);
        /* At most a tick behind (1 s: room for a preemption between the reads), never ahead. */
        ck_assert_uint_le(coarse, fine);
        ck_assert_uint_lt(fine - coarse, 1000000000u);
        last = coarse;
    }
}
END_TEST

int main(void)
{
    return TEST_RUN("store_kept_snapshot", TEST_GROUP("kept", 60, a_kept_snapshot_sees_every_commit,
                                                       a_commit_is_seen_whole_while_a_writer_commits,
                                                       an_idle_parked_snapshot_is_ended_by_another_thread,
                                                       the_age_clock_follows_the_monotonic_clock));
}
