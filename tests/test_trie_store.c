/* The state trie kept in SQLite (schema/trie_store.c): after every step of
 * random inserts, updates and deletions (accounts, slots, code, accounts
 * deleted with their storage), the root and the proofs it gives, both
 * brought up to date on disk and computed in memory inside a read snapshot
 * with the changes not yet hashed in, equal core/base/trie.c's full build
 * over every account and slot, byte for byte. Also: changes applied in
 * memory only (trie_view_apply, what eth_simulateV1 uses) give the root the
 * same changes give once written, and write nothing, and so do a state's
 * net changes (store_state_root_after); a database whose
 * trie is missing is built in full once; a live database gets no trie and
 * its writes leave no trie_dirty rows. */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "base/keccak.h"
#include "base/rlp.h"
#include "base/trie.h"
#include "state/state.h"
#include "store.h"
#include "trie_store.h"

static char tmp_dir[256];
static void setup(void) { test_temp_dir(tmp_dir, sizeof tmp_dir, "test_trie_store"); }
static void teardown(void) { test_remove_dir(tmp_dir); }

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

#define N_ADDRS 200
#define N_SLOTS 48

static address pool_address(unsigned i)
{
    address a = {{0}};
    a.b[0] = 0xa0;
    a.b[18] = (uint8_t)(i >> 8);
    a.b[19] = (uint8_t)i;
    return a;
}

static u256 pool_slot(unsigned i) { return u256_from_u64(i * 7919u + 1); }

/* ---- the reference: the full build over what store_visit walks ---- */

typedef struct {
    address target;
    const uint8_t (*hashed)[32];
    size_t n;
    trie_proof *storage_proofs;
    hash32 storage_root;
    bool exists;
    trie_leaves accounts, storage;
    bytebuf rlp;
} reference;

static bool ref_slot(void *ctx, const address *a, const u256 *key, const u256 *value)
{
    (void)a;
    reference *r = ctx;
    uint8_t be[32], hashed[32];
    u256_store_be(be, key);
    keccak256(be, 32, hashed);
    r->rlp.len = 0;
    rlp_put_u256(&r->rlp, value);
    trie_leaves_add(&r->storage, hashed, r->rlp.data, r->rlp.len);
    return true;
}

static bool ref_account_end(void *ctx, const address *a, const account_info *info)
{
    reference *r = ctx;
    hash32 storage_root;
    trie_entry *e = trie_leaves_entries(&r->storage);
    if (memcmp(a->b, r->target.b, 20) == 0) {
        const uint8_t **keys = xcalloc(r->n + 1, sizeof *keys);
        size_t *lens = xcalloc(r->n + 1, sizeof *lens);
        for (size_t i = 0; i < r->n; i++) keys[i] = r->hashed[i], lens[i] = 32;
        trie_prove(e, r->storage.count, keys, lens, r->n, &storage_root, r->storage_proofs);
        free(keys);
        free(lens);
        r->exists = true;
        r->storage_root = storage_root;
    } else {
        trie_root(e, r->storage.count, &storage_root);
    }
    trie_leaves_clear(&r->storage);
    account_encode_rlp(&r->rlp, info->nonce, &info->balance, &storage_root, &info->code_hash);
    uint8_t hashed[32];
    keccak256(a->b, 20, hashed);
    trie_leaves_add(&r->accounts, hashed, r->rlp.data, r->rlp.len);
    return true;
}

/* The full build's root, and the target's proofs (inside the caller's
 * snapshot, if any). */
static void reference_build(store_conn *c, const address *target, const uint8_t (*hashed)[32], size_t n,
                            hash32 *root, trie_proof *account_proof, trie_proof *storage_proofs, bool *exists,
                            hash32 *storage_root)
{
    reference r = {.target = *target, .hashed = hashed, .n = n, .storage_proofs = storage_proofs};
    store_visitor v = {.ctx = &r, .slot = ref_slot, .account_end = ref_account_end};
    store_error se;
    ck_assert_msg(store_visit(c, NULL, &v, &se), "store_visit: %s", se.msg);
    uint8_t tk[32];
    keccak256(target->b, 20, tk);
    const uint8_t *tkp = tk;
    size_t tk_len = 32;
    trie_prove(trie_leaves_entries(&r.accounts), r.accounts.count, &tkp, &tk_len, 1, root, account_proof);
    *exists = r.exists;
    *storage_root = r.storage_root;
    trie_leaves_free(&r.accounts);
    trie_leaves_free(&r.storage);
    bytebuf_free(&r.rlp);
}

static void check_same_proof(const trie_proof *a, const trie_proof *b, const char *what, int step)
{
    ck_assert_msg(a->count == b->count, "step %d: %s: %zu nodes, the full build %zu", step, what, a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        size_t la, lb;
        const uint8_t *na = trie_proof_node(a, i, &la), *nb = trie_proof_node(b, i, &lb);
        ck_assert_msg(la == lb && memcmp(na, nb, la) == 0, "step %d: %s: node %zu differs", step, what, i);
    }
}

/* Compares the view's root and proofs for a few accounts and slots with
 * the full build's, inside one read snapshot. Returns the root. */
static hash32 check_view(store_conn *c, int step)
{
    store_error se;
    ck_assert_msg(store_read_begin(c, &se), "%s", se.msg);
    bool available;
    trie_view *v = store_trie_view(c, &available, &se);
    ck_assert_msg(available, "step %d: no trie view: %s", step, se.msg);
    hash32 root;
    ck_assert(trie_view_root(v, &root, &se));
    for (int probe = 0; probe < 4; probe++) {
        address a = pool_address((unsigned)(next_random() % (N_ADDRS + 10))); /* some never written */
        enum { N = 5 };
        uint8_t hashed[N][32];
        for (int i = 0; i < N; i++) {
            uint8_t be[32];
            u256 k = pool_slot((unsigned)(next_random() % (N_SLOTS + 4)));
            u256_store_be(be, &k);
            keccak256(be, 32, hashed[i]);
        }
        trie_proof ref_acc = {0}, acc = {0}, ref_st[N], st[N];
        memset(ref_st, 0, sizeof ref_st);
        memset(st, 0, sizeof st);
        hash32 ref_root, ref_sroot = {{0}}, sroot;
        bool exists;
        reference_build(c, &a, (const uint8_t(*)[32])hashed, N, &ref_root, &ref_acc, ref_st, &exists, &ref_sroot);
        ck_assert_msg(memcmp(ref_root.b, root.b, 32) == 0, "step %d: root differs from the full build", step);
        ck_assert(trie_view_prove(v, &a, (const uint8_t(*)[32])hashed, N, &acc, st, &se));
        check_same_proof(&acc, &ref_acc, "account proof", step);
        if (exists) {
            ck_assert(trie_view_storage_root(v, &a, &sroot, &se));
            ck_assert_msg(memcmp(sroot.b, ref_sroot.b, 32) == 0, "step %d: storage root differs", step);
            for (int i = 0; i < N; i++) check_same_proof(&st[i], &ref_st[i], "storage proof", step);
        }
        trie_proof_free(&acc);
        trie_proof_free(&ref_acc);
        for (int i = 0; i < N; i++) trie_proof_free(&st[i]), trie_proof_free(&ref_st[i]);
    }
    trie_view_close(v);
    store_read_end(c);
    return root;
}

static sqlite3_int64 count_rows(const char *path, const char *sql)
{
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    sqlite3_int64 n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* One random step of writes, through the sink as block application does. */
static void random_writes(store_conn *c, int ops)
{
    store_error se;
    ck_assert_msg(store_begin(c, &se), "%s", se.msg);
    state_sink sink = store_sink(c);
    for (int op = 0; op < ops; op++) {
        address a = pool_address((unsigned)(next_random() % N_ADDRS));
        unsigned kind = (unsigned)(next_random() % 10);
        if (kind < 3) {
            account_info info = {.nonce = next_random() % 5, .code_hash = KECCAK_EMPTY};
            info.balance = u256_from_u64(next_random() % 3 ? next_random() : 0);
            uint8_t code[4] = {0x60, (uint8_t)(next_random() % 4), 0x60, 0x00};
            bool with_code = next_random() % 4 == 0;
            if (with_code) keccak256(code, sizeof code, info.code_hash.b);
            sink.put_account(sink.ctx, &a, &info, with_code ? code : NULL, with_code ? sizeof code : 0, with_code);
        } else if (kind < 9) {
            u256 key = pool_slot((unsigned)(next_random() % N_SLOTS));
            u256 value = next_random() % 4 == 0 ? u256_zero() : u256_from_u64(next_random() >> (next_random() % 64));
            sink.put_storage(sink.ctx, &a, &key, &value);
        } else {
            sink.delete_account(sink.ctx, &a);
        }
    }
    ck_assert_msg(store_commit(c, &se), "%s", se.msg);
}

/* Incremental against the full build, on disk and in a read snapshot. */
START_TEST(incremental_matches_full_build)
{
    char path[512];
    snprintf(path, sizeof path, "%s/state.db", tmp_dir);
    store *s;
    store_conn *c = test_store_create(path, &s);
    store_error se;
    random_writes(c, 400); /* before the trie exists: built in full below */
    ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM trie_dirty"), 0);
    for (int step = 0; step < 40; step++) {
        hash32 root, again;
        ck_assert_msg(store_state_root(c, &root, &se), "%s", se.msg);
        ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM trie_dirty"), 0);
        hash32 viewed = check_view(c, step);
        ck_assert_mem_eq(root.b, viewed.b, 32);
        random_writes(c, 1 + (int)(next_random() % 40));
        if (step % 3 == 0) {
            ck_assert_int_gt(count_rows(path, "SELECT count(*) FROM trie_dirty"), 0);
            /* Not yet hashed in on disk: the snapshot's view applies them in memory. */
            again = check_view(c, 1000 + step);
            (void)again;
        }
    }
    /* Everything deleted: the empty root, and no node left. */
    ck_assert_msg(store_clear_state(c, &se), "%s", se.msg);
    hash32 root;
    ck_assert(store_state_root(c, &root, &se));
    ck_assert_mem_eq(root.b, TRIE_EMPTY_ROOT.b, 32);
    ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM trie_branch"), 0);
    ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM trie_leaf"), 0);
    store_disconnect(c);
    store_close(s);
}
END_TEST

/* Changes applied in memory give the root the same changes give once
 * written, and write nothing. */
START_TEST(apply_in_memory_matches_written)
{
    char path[512];
    snprintf(path, sizeof path, "%s/state.db", tmp_dir);
    store *s;
    store_conn *c = test_store_create(path, &s);
    store_error se;
    random_writes(c, 600);
    hash32 root;
    ck_assert(store_state_root(c, &root, &se));
    for (int step = 0; step < 20; step++) {
        enum { MAX = 40 };
        trie_change ch[MAX];
        size_t n = 1 + next_random() % MAX;
        for (size_t i = 0; i < n; i++) {
            memset(&ch[i], 0, sizeof ch[i]);
            ch[i].addr = pool_address((unsigned)(next_random() % N_ADDRS));
            unsigned kind = (unsigned)(next_random() % 10);
            if (kind < 6) {
                ch[i].is_slot = true;
                ch[i].slot = pool_slot((unsigned)(next_random() % N_SLOTS));
                ch[i].value = next_random() % 4 == 0 ? u256_zero() : u256_from_u64(next_random());
            } else {
                ch[i].exists = kind != 9;
                ch[i].wipe_storage = kind == 9 || kind == 8;
                ch[i].nonce = next_random() % 9;
                ch[i].balance = u256_from_u64(next_random());
                ch[i].code_hash = KECCAK_EMPTY;
            }
        }
        /* In memory first. */
        sqlite3_int64 branches = count_rows(path, "SELECT count(*) FROM trie_branch");
        ck_assert(store_read_begin(c, &se));
        bool available;
        trie_view *v = store_trie_view(c, &available, &se);
        ck_assert(available);
        ck_assert_msg(trie_view_apply(v, ch, n, &se), "%s", se.msg);
        hash32 applied;
        ck_assert(trie_view_root(v, &applied, &se));
        trie_view_close(v);
        store_read_end(c);
        ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM trie_branch"), branches);
        ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM trie_dirty"), 0);
        /* Then written, as a block would: a wipe deletes the account (and
         * storage) first, an account that exists keeps its slots written. */
        ck_assert(store_begin(c, &se));
        state_sink sink = store_sink(c);
        /* Per address in order, as trie_view_apply groups them. */
        for (unsigned ai = 0; ai < N_ADDRS; ai++) {
            address a = pool_address(ai);
            for (size_t i = 0; i < n; i++) {
                if (memcmp(ch[i].addr.b, a.b, 20) != 0) continue;
                if (ch[i].is_slot) {
                    sink.put_storage(sink.ctx, &a, &ch[i].slot, &ch[i].value);
                    continue;
                }
                if (ch[i].wipe_storage) sink.delete_account(sink.ctx, &a);
                if (ch[i].exists) {
                    account_info info = {.nonce = ch[i].nonce, .balance = ch[i].balance, .code_hash = KECCAK_EMPTY};
                    sink.put_account(sink.ctx, &a, &info, NULL, 0, false);
                } else if (!ch[i].wipe_storage) {
                    sink.delete_account(sink.ctx, &a);
                }
            }
        }
        ck_assert(store_commit(c, &se));
        /* An account that only got slots and does not exist has no leaf in
         * either; the full build agrees (slots of no account are no state). */
        hash32 written;
        ck_assert(store_state_root(c, &written, &se));
        ck_assert_msg(memcmp(applied.b, written.b, 32) == 0, "step %d: in-memory root differs from the written one",
                      step);
        check_view(c, step);
    }
    store_disconnect(c);
    store_close(s);
}
END_TEST

/* A state's net changes (what eth_simulateV1's blocks hold) give, in
 * memory, the root the same state gives once committed to the database:
 * balances, nonces, code, slots set and cleared, storage wiped (a state
 * override), accounts created and removed. */
START_TEST(state_changes_root_matches_commit)
{
    char path[512];
    snprintf(path, sizeof path, "%s/state.db", tmp_dir);
    store *s;
    store_conn *c = test_store_create(path, &s);
    store_error se;
    random_writes(c, 500);
    hash32 root;
    ck_assert(store_state_root(c, &root, &se));
    for (int step = 0; step < 15; step++) {
        state_backend b = store_backend(c);
        state *st = state_new(&b);
        for (int op = 0; op < 30; op++) {
            address a = pool_address((unsigned)(next_random() % (N_ADDRS + 5)));
            unsigned kind = (unsigned)(next_random() % 12);
            if (kind < 3) {
                u256 v = u256_from_u64(next_random());
                state_set_balance(st, &a, &v);
            } else if (kind < 4) {
                state_set_nonce(st, &a, state_get_nonce(st, &a) + 1);
            } else if (kind < 5) {
                uint8_t code[3] = {0x60, (uint8_t)step, 0x00};
                state_set_code(st, &a, code, sizeof code);
            } else if (kind < 10) {
                u256 k = pool_slot((unsigned)(next_random() % N_SLOTS));
                u256 v = next_random() % 3 == 0 ? u256_zero() : u256_from_u64(next_random());
                state_create_account(st, &a);
                state_set_storage(st, &a, &k, &v);
            } else if (kind < 11) {
                state_wipe_storage(st, &a);
            } else {
                state_mark_destructed(st, &a);
            }
            if (next_random() % 8 == 0) state_finalize_tx(st, FORK_CANCUN);
        }
        state_finalize_tx(st, FORK_CANCUN);
        hash32 simulated = {{0}}, committed;
        ck_assert(store_read_begin(c, &se));
        ck_assert_msg(store_state_root_after(c, st, &simulated, &se), "%s", se.msg);
        store_read_end(c);
        ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM trie_dirty"), 0);
        ck_assert(store_begin(c, &se));
        state_sink sink = store_sink(c);
        state_commit(st, &sink);
        ck_assert_msg(store_commit(c, &se), "%s", se.msg);
        state_free(st);
        ck_assert(store_state_root(c, &committed, &se));
        ck_assert_msg(memcmp(simulated.b, committed.b, 32) == 0, "step %d: the state's root differs once committed",
                      step);
        check_view(c, step);
    }
    store_disconnect(c);
    store_close(s);
}
END_TEST

/* A database whose trie is missing (as one made before migration 007) is
 * built once in full when opened read-write, if it holds 1,000 accounts or
 * more (a smaller one at its first root). */
START_TEST(missing_trie_is_built_at_open)
{
    char path[512];
    snprintf(path, sizeof path, "%s/state.db", tmp_dir);
    store *s;
    store_conn *c = test_store_create(path, &s);
    random_writes(c, 300);
    store_disconnect(c);
    store_close(s);
    store_error se;
    s = store_open(path, STORE_OPEN_EXISTING, &se);
    ck_assert_msg(s != NULL, "%s", se.msg);
    store_close(s);
    ck_assert_int_eq(count_rows(path, "SELECT built FROM trie_state"), 0); /* under 1,000 accounts */
    s = store_open(path, STORE_OPEN_EXISTING, &se);
    c = store_connect(s, &se);
    ck_assert(store_begin(c, &se));
    state_sink sink = store_sink(c);
    for (unsigned i = 0; i < 1200; i++) {
        address a = pool_address(1000 + i);
        account_info info = {.nonce = i, .balance = u256_from_u64(i + 1), .code_hash = KECCAK_EMPTY};
        sink.put_account(sink.ctx, &a, &info, NULL, 0, false);
    }
    ck_assert(store_commit(c, &se));
    store_disconnect(c);
    store_close(s);
    ck_assert_int_eq(count_rows(path, "SELECT built FROM trie_state"), 0);
    ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM trie_leaf"), 0);
    s = store_open(path, STORE_OPEN_EXISTING, &se);
    ck_assert_msg(s != NULL, "%s", se.msg);
    ck_assert_int_eq(count_rows(path, "SELECT built FROM trie_state"), 1);
    ck_assert_int_gt(count_rows(path, "SELECT count(*) FROM trie_leaf"), 0);
    c = store_connect(s, &se);
    check_view(c, 0);
    store_disconnect(c);
    store_close(s);
}
END_TEST

/* A live database holds a cache: no trie, and writes add no trie_dirty rows. */
START_TEST(live_database_has_no_trie)
{
    char path[512];
    snprintf(path, sizeof path, "%s/state.db", tmp_dir);
    store *s;
    store_conn *c = test_store_create(path, &s);
    random_writes(c, 50);
    hash32 root;
    store_error se;
    ck_assert(store_state_root(c, &root, &se)); /* built */
    store_disconnect(c);
    store_close(s);
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO live_upstream (id, url, block_number, block_hash) VALUES "
                                      "(1, 'http://127.0.0.1:1', 1, zeroblob(32))", NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "INSERT OR REPLACE INTO account (address, nonce, balance, code_hash) VALUES "
                                      "(zeroblob(20), 1, X'01', NULL); INSERT INTO storage VALUES "
                                      "(zeroblob(20), zeroblob(32), X'05')", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    /* Opened read-write, a database become live loses its trie and triggers. */
    s = store_open(path, STORE_OPEN_EXISTING, &se);
    ck_assert_msg(s != NULL, "%s", se.msg);
    ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM trie_leaf"), 0);
    ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), 0);
    ck_assert_int_eq(count_rows(path, "SELECT built FROM trie_state"), 0);
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "INSERT OR REPLACE INTO account (address, nonce, balance, code_hash) VALUES "
                                      "(zeroblob(20), 2, X'01', NULL); INSERT OR REPLACE INTO storage VALUES "
                                      "(zeroblob(20), zeroblob(32), X'06')", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ck_assert_int_eq(count_rows(path, "SELECT count(*) FROM trie_dirty"), 0);
    c = store_connect(s, &se);
    ck_assert(store_state_root(c, &root, &se)); /* the full walk: no trie is built */
    ck_assert_int_eq(count_rows(path, "SELECT built FROM trie_state"), 0);
    ck_assert(store_read_begin(c, &se));
    bool available = true;
    trie_view *v = store_trie_view(c, &available, &se);
    ck_assert(!available);
    ck_assert_ptr_null(v);
    ck_assert_str_eq(se.msg, "");
    store_read_end(c);
    store_disconnect(c);
    store_close(s);
}
END_TEST

int main(void)
{
    return TEST_RUN("trie_store",
        {"trie_store", 300, TESTS(incremental_matches_full_build, apply_in_memory_matches_written, state_changes_root_matches_commit,
                                  missing_trie_is_built_at_open, live_database_has_no_trie),
         setup, teardown, NULL, NULL, 0});
}
