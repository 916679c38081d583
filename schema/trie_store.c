/* The state trie kept in SQLite, brought up to date path by path. See
 * trie_store.h for the contract, schema/migrations/007_state_trie.sql for
 * the tables.
 *
 * What is stored, and why that is enough: every trie here has fixed-length
 * keys (hashed, 32 bytes), so every set of two or more keys sharing a prefix
 * P has exactly one topmost branch under P, at the keys' longest common
 * prefix; with no branch under P there is at most one key under P. The
 * stored branches (by path) and leaves (by key) thus determine every node:
 * an extension node is rebuilt from the path of the branch below it, a
 * leaf node from the leaf. The topmost branch under P is the first stored
 * path at or after P that starts with P (paths are one nibble per byte, so
 * a path sorts before every path below it).
 *
 * An update with a sorted set K of changed keys (expand): from the root
 * down, every stored branch on the path of a key of K is opened (and
 * dropped: it is rebuilt if it still exists); each of its children with no
 * key of K below becomes a piece as it is (its topmost branch, unchanged,
 * or its one leaf); the keys of K become leaf pieces (or vanish when
 * deleted). core/base/trie.c's trie_root_pieces hashes the pieces into the
 * new root and reports every branch it made. A branch no key of K passes
 * through keeps the same keys below it, so it stays right as stored. The
 * cost is the opened branches (the depth, ~log16 of the trie's size, per
 * key of K) times their 16 children.
 *
 * The overlay: what updates made, in memory, sorted by (kind, owner, path):
 * a node's new value or its removal. Reads merge it with SQLite: the
 * overlay's first live entry at or after P, and SQLite's first row at or
 * after P that the overlay neither replaces nor removes. Entries an update
 * adds are appended unsorted and sorted in at the end of the update (its
 * reads see the trie as it was before it, which is what expand needs). */
#include "trie_store.h"

#include <stdlib.h>
#include <string.h>

#include "base/keccak.h"
#include "base/rlp.h"

enum { KIND_BRANCH = 0, KIND_LEAF = 1 };

typedef struct {
    uint8_t kind, owner_len, path_len; /* leaf: path is the 32-byte key */
    bool deleted;
    uint32_t seq; /* later wins among entries for the same node */
    uint8_t owner[32];
    uint8_t path[TRIE_KEY_NIBBLES];
    size_t data_off, data_len; /* into arena */
} ov_entry;

enum {
    Q_BRANCH_FROM,
    Q_LEAF_FROM,
    Q_LEAVES_OF,
    Q_ACCOUNT,
    Q_SLOT,
    Q_DIRTY,
    Q_PUT_BRANCH,
    Q_DEL_BRANCH,
    Q_PUT_LEAF,
    Q_DEL_LEAF,
    Q_BUILT,
    Q_LIVE,
    Q_COUNT
};

static const char *const query_sql[Q_COUNT] = {
    [Q_BRANCH_FROM] = "SELECT path, node FROM trie_branch WHERE owner = ?1 AND path >= ?2 ORDER BY path",
    [Q_LEAF_FROM] = "SELECT key, value FROM trie_leaf WHERE owner = ?1 AND key >= ?2 ORDER BY key",
    [Q_LEAVES_OF] = "SELECT key FROM trie_leaf WHERE owner = ?1 ORDER BY key",
    [Q_ACCOUNT] = "SELECT nonce, balance, code_hash FROM account WHERE address = ?1",
    [Q_SLOT] = "SELECT value FROM storage WHERE address = ?1 AND slot = ?2",
    [Q_DIRTY] = "SELECT address, slot FROM trie_dirty ORDER BY address, slot",
    [Q_PUT_BRANCH] = "INSERT OR REPLACE INTO trie_branch (owner, path, node) VALUES (?1, ?2, ?3)",
    [Q_DEL_BRANCH] = "DELETE FROM trie_branch WHERE owner = ?1 AND path = ?2",
    [Q_PUT_LEAF] = "INSERT OR REPLACE INTO trie_leaf (owner, key, value) VALUES (?1, ?2, ?3)",
    [Q_DEL_LEAF] = "DELETE FROM trie_leaf WHERE owner = ?1 AND key = ?2",
    [Q_BUILT] = "SELECT built FROM trie_state WHERE id = 1",
    [Q_LIVE] = "SELECT 1 FROM live_upstream LIMIT 1",
};

struct trie_view {
    sqlite3 *db;
    const char *what;
    sqlite3_stmt *q[Q_COUNT];
    bool built, live;
    bool stored; /* trie_state.built, live or not */
    /* The overlay: entries[0 .. sorted) sorted, [sorted .. n) pending. */
    ov_entry *entries;
    size_t n, sorted, cap;
    uint32_t next_seq;
    bytebuf arena;
    bool failed; /* a database error inside an update */
    store_error error;
};

/* ------------------------------------------------------------ helpers */

static bool db_fail(trie_view *v, store_error *err)
{
    return store_fail(err, "%s: state trie: %s", v->what, sqlite3_errmsg(v->db));
}

static void note_failure(trie_view *v)
{
    if (v->failed) return;
    v->failed = true;
    db_fail(v, &v->error);
}

static int bind(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    /* SQLite stores a zero-length blob bound from NULL as NULL: bind "". */
    return sqlite3_bind_blob(st, i, n ? p : "", (int)n, SQLITE_TRANSIENT);
}

static bool step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
}

static void pack_nibbles(const uint8_t *nib, size_t n, uint8_t out[32])
{
    memset(out, 0, 32);
    for (size_t i = 0; i < n; i++) out[i / 2] |= (uint8_t)((i & 1) ? nib[i] : nib[i] << 4);
}

static bool key_has_prefix(const uint8_t key[32], const uint8_t *nib, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned k = (i & 1) ? key[i / 2] & 0x0f : key[i / 2] >> 4;
        if (k != nib[i]) return false;
    }
    return true;
}

static bool path_has_prefix(const uint8_t *path, size_t len, const uint8_t *nib, size_t n)
{
    if (len < n) return false;
    for (size_t i = 0; i < n; i++)
        if (path[i] != nib[i]) return false;
    return true;
}

static void copy(void *dst, const void *src, size_t n)
{
    if (n) memcpy(dst, src, n);
}

/* SQLite's BLOB order: bytes, then length. */
static int blob_cmp(const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
    size_t m = la < lb ? la : lb;
    int c = m ? memcmp(a, b, m) : 0;
    if (c) return c;
    return (la > lb) - (la < lb);
}

/* ------------------------------------------------------------ overlay */

static int entry_key_cmp(const ov_entry *e, int kind, const uint8_t *owner, size_t owner_len, const uint8_t *path,
                         size_t path_len)
{
    if (e->kind != kind) return e->kind < kind ? -1 : 1;
    int c = blob_cmp(e->owner, e->owner_len, owner, owner_len);
    if (c) return c;
    return blob_cmp(e->path, e->path_len, path, path_len);
}

static int entry_cmp(const void *pa, const void *pb)
{
    const ov_entry *a = pa, *b = pb;
    int c = entry_key_cmp(a, b->kind, b->owner, b->owner_len, b->path, b->path_len);
    if (c) return c;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

static void ov_add(trie_view *v, int kind, const uint8_t *owner, size_t owner_len, const uint8_t *path,
                   size_t path_len, const uint8_t *data, size_t data_len, bool deleted)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 256;
        v->entries = xrealloc(v->entries, v->cap * sizeof *v->entries);
    }
    ov_entry *e = &v->entries[v->n++];
    memset(e, 0, sizeof *e);
    e->kind = (uint8_t)kind;
    e->owner_len = (uint8_t)owner_len;
    copy(e->owner, owner, owner_len);
    e->path_len = (uint8_t)path_len;
    copy(e->path, path, path_len);
    e->deleted = deleted;
    e->seq = v->next_seq++;
    e->data_off = v->arena.len;
    e->data_len = deleted ? 0 : data_len;
    if (!deleted) bytebuf_append(&v->arena, data, data_len);
}

/* Sorts the pending entries in; of several for one node the last stays. */
static void ov_merge(trie_view *v)
{
    if (v->sorted == v->n) return;
    qsort(v->entries, v->n, sizeof *v->entries, entry_cmp);
    size_t out = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (out > 0 &&
            entry_key_cmp(&v->entries[out - 1], v->entries[i].kind, v->entries[i].owner, v->entries[i].owner_len,
                          v->entries[i].path, v->entries[i].path_len) == 0)
            out--;
        v->entries[out++] = v->entries[i];
    }
    v->n = v->sorted = out;
}

/* The first sorted entry at or after the key. */
static size_t ov_lower(const trie_view *v, int kind, const uint8_t *owner, size_t owner_len, const uint8_t *path,
                       size_t path_len)
{
    size_t lo = 0, hi = v->sorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry_key_cmp(&v->entries[mid], kind, owner, owner_len, path, path_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const ov_entry *ov_find(const trie_view *v, int kind, const uint8_t *owner, size_t owner_len,
                               const uint8_t *path, size_t path_len)
{
    size_t i = ov_lower(v, kind, owner, owner_len, path, path_len);
    if (i < v->sorted && entry_key_cmp(&v->entries[i], kind, owner, owner_len, path, path_len) == 0)
        return &v->entries[i];
    return NULL;
}

static bool same_owner(const ov_entry *e, int kind, const uint8_t *owner, size_t owner_len)
{
    return e->kind == kind && e->owner_len == owner_len && (owner_len == 0 || memcmp(e->owner, owner, owner_len) == 0);
}

/* -------------------------------------------------------------- reads */

/* A node read through the view: its path (or key) and data, copied. */
typedef struct {
    bool found;
    uint8_t path[TRIE_KEY_NIBBLES];
    size_t path_len;
    bytebuf data;
} node_read;

/* out becomes the overlay's entry e (a leaf's path is its 32-byte key). */
static void node_from_overlay(const trie_view *v, const ov_entry *e, node_read *out)
{
    out->found = true;
    copy(out->path, e->path, e->path_len);
    out->path_len = e->path_len;
    bytebuf_append(&out->data, v->arena.data + e->data_off, e->data_len);
}

/* The topmost branch under the nibbles `p` of a trie. */
static bool topmost_branch(trie_view *v, const uint8_t *owner, size_t owner_len, const uint8_t *p, size_t plen,
                           node_read *out)
{
    out->found = false;
    out->data.len = 0;
    const ov_entry *best = NULL;
    for (size_t i = ov_lower(v, KIND_BRANCH, owner, owner_len, p, plen); i < v->sorted; i++) {
        const ov_entry *e = &v->entries[i];
        if (!same_owner(e, KIND_BRANCH, owner, owner_len) || !path_has_prefix(e->path, e->path_len, p, plen)) break;
        if (!e->deleted) {
            best = e;
            break;
        }
    }
    sqlite3_stmt *st = v->q[Q_BRANCH_FROM];
    bind(st, 1, owner, owner_len);
    bind(st, 2, p, plen);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *path = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (len >= TRIE_KEY_NIBBLES || !path_has_prefix(path, len, p, plen)) break;
        if (best && blob_cmp(path, len, best->path, best->path_len) >= 0) break;
        if (ov_find(v, KIND_BRANCH, owner, owner_len, path, len)) continue; /* replaced or removed */
        out->found = true;
        copy(out->path, path, len);
        out->path_len = len;
        bytebuf_append(&out->data, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
        best = NULL;
        break;
    }
    bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    sqlite3_reset(st);
    if (!ok) return false;
    if (best) node_from_overlay(v, best, out);
    return true;
}

/* The first leaf under the nibbles `p` (the only one when no branch is). */
static bool leaf_under(trie_view *v, const uint8_t *owner, size_t owner_len, const uint8_t *p, size_t plen,
                       node_read *out)
{
    out->found = false;
    out->data.len = 0;
    uint8_t from[32];
    pack_nibbles(p, plen, from);
    const ov_entry *best = NULL;
    for (size_t i = ov_lower(v, KIND_LEAF, owner, owner_len, from, 32); i < v->sorted; i++) {
        const ov_entry *e = &v->entries[i];
        if (!same_owner(e, KIND_LEAF, owner, owner_len) || !key_has_prefix(e->path, p, plen)) break;
        if (!e->deleted) {
            best = e;
            break;
        }
    }
    sqlite3_stmt *st = v->q[Q_LEAF_FROM];
    bind(st, 1, owner, owner_len);
    bind(st, 2, from, 32);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *key = sqlite3_column_blob(st, 0);
        if (sqlite3_column_bytes(st, 0) != 32 || !key_has_prefix(key, p, plen)) break;
        if (best && memcmp(key, best->path, 32) >= 0) break;
        if (ov_find(v, KIND_LEAF, owner, owner_len, key, 32)) continue;
        out->found = true;
        memcpy(out->path, key, 32);
        out->path_len = 32;
        bytebuf_append(&out->data, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
        best = NULL;
        break;
    }
    bool ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    sqlite3_reset(st);
    if (!ok) return false;
    if (best) node_from_overlay(v, best, out);
    return true;
}

/* The root of a trie: the hash of its node at depth 0. */
static bool trie_root_of(trie_view *v, const uint8_t *owner, size_t owner_len, hash32 *root)
{
    node_read r = {0};
    bytebuf node = {0};
    bool ok = topmost_branch(v, owner, owner_len, NULL, 0, &r);
    if (ok && r.found) {
        if (r.path_len == 0)
            keccak256(r.data.data, r.data.len, root->b);
        else {
            trie_put_extension_node(&node, r.path, r.path_len, r.data.data, r.data.len);
            keccak256(node.data, node.len, root->b);
        }
    } else if (ok && (ok = leaf_under(v, owner, owner_len, NULL, 0, &r)) && r.found) {
        uint8_t nib[TRIE_KEY_NIBBLES];
        trie_key_nibbles(r.path, 32, nib);
        trie_put_leaf_node(&node, nib, TRIE_KEY_NIBBLES, r.data.data, r.data.len);
        keccak256(node.data, node.len, root->b);
    } else if (ok) {
        *root = TRIE_EMPTY_ROOT;
    }
    bytebuf_free(&r.data);
    bytebuf_free(&node);
    return ok;
}

/* ------------------------------------------------------------ updates */

/* A changed key of one trie: its key, nibbles, new value (empty: absent). */
typedef struct {
    uint8_t key[32];
    uint8_t nib[TRIE_KEY_NIBBLES];
    size_t value_off, value_len; /* into the update's values */
    uint32_t seq;
} key_change;

typedef struct {
    size_t path_off, path_len, data_off, data_len;
    bool subtree;
} piece_ref;

typedef struct {
    trie_view *v;
    const uint8_t *owner;
    size_t owner_len;
    const key_change *keys;
    const bytebuf *values;
    bytebuf arena; /* pieces' paths and data */
    piece_ref *pieces;
    size_t n_pieces, cap_pieces;
    node_read read;
} updater;

static void add_piece(updater *u, const uint8_t *path, size_t path_len, const uint8_t *data, size_t data_len,
                      bool subtree)
{
    if (u->n_pieces == u->cap_pieces) {
        u->cap_pieces = u->cap_pieces ? 2 * u->cap_pieces : 64;
        u->pieces = xrealloc(u->pieces, u->cap_pieces * sizeof *u->pieces);
    }
    piece_ref *p = &u->pieces[u->n_pieces++];
    p->path_off = u->arena.len;
    p->path_len = path_len;
    bytebuf_append(&u->arena, path, path_len);
    p->data_off = u->arena.len;
    p->data_len = data_len;
    bytebuf_append(&u->arena, data, data_len);
    p->subtree = subtree;
}

static void add_changed_leaf(updater *u, const key_change *k)
{
    if (k->value_len) add_piece(u, k->nib, TRIE_KEY_NIBBLES, u->values->data + k->value_off, k->value_len, false);
}

/* The pieces covering every key under the nibbles `p`, where keys [lo, hi)
 * (sorted, non-empty) changed. */
static bool expand(updater *u, const uint8_t *p, size_t plen, size_t lo, size_t hi)
{
    trie_view *v = u->v;
    if (!topmost_branch(v, u->owner, u->owner_len, p, plen, &u->read)) return false;
    if (!u->read.found) {
        if (!leaf_under(v, u->owner, u->owner_len, p, plen, &u->read)) return false;
        bool old = u->read.found;
        uint8_t old_key[32], old_nib[TRIE_KEY_NIBBLES];
        bytebuf old_value = {0};
        if (old) {
            memcpy(old_key, u->read.path, 32);
            trie_key_nibbles(old_key, 32, old_nib);
            bytebuf_append(&old_value, u->read.data.data, u->read.data.len);
        }
        size_t i = lo;
        for (; i < hi && (!old || memcmp(u->keys[i].key, old_key, 32) < 0); i++) add_changed_leaf(u, &u->keys[i]);
        if (old && !(i < hi && memcmp(u->keys[i].key, old_key, 32) == 0))
            add_piece(u, old_nib, TRIE_KEY_NIBBLES, old_value.data, old_value.len, false);
        for (; i < hi; i++) add_changed_leaf(u, &u->keys[i]);
        bytebuf_free(&old_value);
        return true;
    }
    /* A branch at c: opened, so dropped (the build adds it back if it stays). */
    uint8_t c[TRIE_KEY_NIBBLES];
    size_t clen = u->read.path_len;
    copy(c, u->read.path, clen);
    uint8_t branch[600];
    size_t branch_len = u->read.data.len;
    bool branch_ok = branch_len <= sizeof branch;
    if (branch_ok) memcpy(branch, u->read.data.data, branch_len);
    ov_add(v, KIND_BRANCH, u->owner, u->owner_len, c, clen, NULL, 0, true);

    size_t a = lo;
    while (a < hi && !path_has_prefix(u->keys[a].nib, TRIE_KEY_NIBBLES, c, clen) &&
           memcmp(u->keys[a].nib, c, clen) < 0)
        add_changed_leaf(u, &u->keys[a++]);
    size_t b = a;
    while (b < hi && path_has_prefix(u->keys[b].nib, TRIE_KEY_NIBBLES, c, clen)) b++;
    size_t i = a;
    for (unsigned nibble = 0; nibble < 16; nibble++) {
        size_t j = i;
        while (j < b && u->keys[j].nib[clen] == nibble) j++;
        c[clen] = (uint8_t)nibble;
        if (j > i) {
            if (!expand(u, c, clen + 1, i, j)) return false;
        } else if (!branch_ok || !trie_branch_child_empty(branch, branch_len, nibble)) {
            if (!topmost_branch(v, u->owner, u->owner_len, c, clen + 1, &u->read)) return false;
            if (u->read.found) {
                add_piece(u, u->read.path, u->read.path_len, u->read.data.data, u->read.data.len, true);
            } else {
                if (!leaf_under(v, u->owner, u->owner_len, c, clen + 1, &u->read)) return false;
                if (u->read.found) {
                    uint8_t nib[TRIE_KEY_NIBBLES];
                    trie_key_nibbles(u->read.path, 32, nib);
                    add_piece(u, nib, TRIE_KEY_NIBBLES, u->read.data.data, u->read.data.len, false);
                }
            }
        }
        i = j;
    }
    for (i = b; i < hi; i++) add_changed_leaf(u, &u->keys[i]);
    return true;
}

static void on_new_branch(void *ctx, const uint8_t *path, size_t path_len, const uint8_t *rlp, size_t rlp_len)
{
    updater *u = ctx;
    ov_add(u->v, KIND_BRANCH, u->owner, u->owner_len, path, path_len, rlp, rlp_len, false);
}

static int key_change_cmp(const void *pa, const void *pb)
{
    const key_change *a = pa, *b = pb;
    int c = memcmp(a->key, b->key, 32);
    if (c) return c;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Applies changed keys (any order; for a key the last wins) to one trie;
 * its new root. The overlay's new entries stay pending (ov_merge). */
static bool update_trie(trie_view *v, const uint8_t *owner, size_t owner_len, key_change *keys, size_t n,
                        const bytebuf *values, hash32 *root)
{
    if (n == 0) return trie_root_of(v, owner, owner_len, root);
    qsort(keys, n, sizeof *keys, key_change_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && memcmp(keys[m - 1].key, keys[i].key, 32) == 0) m--;
        keys[m++] = keys[i];
    }
    updater u = {.v = v, .owner = owner, .owner_len = owner_len, .keys = keys, .values = values};
    bool ok = expand(&u, NULL, 0, 0, m);
    if (ok) {
        trie_piece *pieces = xmalloc((u.n_pieces ? u.n_pieces : 1) * sizeof *pieces);
        for (size_t i = 0; i < u.n_pieces; i++) {
            const piece_ref *r = &u.pieces[i];
            pieces[i] = (trie_piece){u.arena.data + r->path_off, r->path_len, u.arena.data + r->data_off, r->data_len,
                                     r->subtree};
        }
        trie_root_pieces(pieces, u.n_pieces, on_new_branch, &u, root);
        free(pieces);
        for (size_t i = 0; i < m; i++)
            ov_add(v, KIND_LEAF, owner, owner_len, keys[i].key, 32, values->data + keys[i].value_off,
                   keys[i].value_len, keys[i].value_len == 0);
    }
    bytebuf_free(&u.arena);
    bytebuf_free(&u.read.data);
    free(u.pieces);
    return ok;
}

/* -------------------------------------------------- batches of changes */

/* One account's changes in a batch. */
typedef struct {
    address addr;
    bool account_changed, exists, wipe;
    uint64_t nonce;
    u256 balance;
    hash32 code_hash;
    key_change *slots;
    size_t n_slots, cap_slots;
} account_batch;

typedef struct {
    account_batch *accounts;
    size_t n, cap;
    bytebuf values;
    uint32_t seq;
} batch;

static account_batch *batch_account(batch *b, const address *a)
{
    /* Callers add an account's changes together (in address order). */
    if (b->n && memcmp(b->accounts[b->n - 1].addr.b, a->b, 20) == 0) return &b->accounts[b->n - 1];
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->accounts = xrealloc(b->accounts, b->cap * sizeof *b->accounts);
    }
    account_batch *ab = &b->accounts[b->n++];
    memset(ab, 0, sizeof *ab);
    ab->addr = *a;
    return ab;
}

static void batch_slot(batch *b, account_batch *ab, const uint8_t slot_be[32], const u256 *value)
{
    if (ab->n_slots == ab->cap_slots) {
        ab->cap_slots = ab->cap_slots ? 2 * ab->cap_slots : 8;
        ab->slots = xrealloc(ab->slots, ab->cap_slots * sizeof *ab->slots);
    }
    key_change *k = &ab->slots[ab->n_slots++];
    keccak256(slot_be, 32, k->key);
    trie_key_nibbles(k->key, 32, k->nib);
    k->seq = b->seq++;
    k->value_off = b->values.len;
    if (u256_is_zero(value)) {
        k->value_len = 0;
    } else {
        rlp_put_u256(&b->values, value);
        k->value_len = b->values.len - k->value_off;
    }
}

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->n; i++) free(b->accounts[i].slots);
    free(b->accounts);
    bytebuf_free(&b->values);
}

/* Every stored slot of a trie becomes a deletion (a wiped storage). */
static bool batch_wipe(trie_view *v, batch *b, account_batch *ab, const uint8_t owner[32])
{
    key_change *old = ab->slots;
    size_t n_old = ab->n_slots;
    ab->slots = NULL;
    ab->n_slots = ab->cap_slots = 0;
    u256 zero = u256_zero();
    uint8_t dummy[32] = {0};
    /* Deletions first, then the slots given after the wipe (they win). */
    sqlite3_stmt *st = v->q[Q_LEAVES_OF];
    bind(st, 1, owner, 32);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *key = sqlite3_column_blob(st, 0);
        if (sqlite3_column_bytes(st, 0) != 32 || ov_find(v, KIND_LEAF, owner, 32, key, 32)) continue;
        batch_slot(b, ab, dummy, &zero);
        memcpy(ab->slots[ab->n_slots - 1].key, key, 32);
        trie_key_nibbles(key, 32, ab->slots[ab->n_slots - 1].nib);
    }
    bool ok = rc == SQLITE_DONE;
    sqlite3_reset(st);
    for (size_t i = ov_lower(v, KIND_LEAF, owner, 32, NULL, 0); ok && i < v->sorted; i++) {
        const ov_entry *e = &v->entries[i];
        if (!same_owner(e, KIND_LEAF, owner, 32)) break;
        if (e->deleted) continue;
        batch_slot(b, ab, dummy, &zero);
        memcpy(ab->slots[ab->n_slots - 1].key, e->path, 32);
        trie_key_nibbles(e->path, 32, ab->slots[ab->n_slots - 1].nib);
    }
    for (size_t i = 0; i < n_old; i++) {
        if (ab->n_slots == ab->cap_slots) {
            ab->cap_slots = ab->cap_slots ? 2 * ab->cap_slots : 8;
            ab->slots = xrealloc(ab->slots, ab->cap_slots * sizeof *ab->slots);
        }
        ab->slots[ab->n_slots] = old[i];
        ab->slots[ab->n_slots++].seq = b->seq++;
    }
    free(old);
    return ok;
}

static int account_batch_cmp(const void *pa, const void *pb)
{
    return memcmp(((const account_batch *)pa)->addr.b, ((const account_batch *)pb)->addr.b, 20);
}

/* Decodes an account leaf's fields (the storage root is replaced). */
static bool decode_account(const uint8_t *p, size_t n, uint64_t *nonce, u256 *balance, hash32 *code_hash)
{
    rlp_item list, item;
    size_t pos = 0;
    if (rlp_decode_exact(p, n, &list) != 0 || !list.is_list) return false;
    if (rlp_list_next(&list, &pos, &item) != 1 || rlp_item_u64(&item, nonce) != 0) return false;
    if (rlp_list_next(&list, &pos, &item) != 1 || rlp_item_u256(&item, balance) != 0) return false;
    if (rlp_list_next(&list, &pos, &item) != 1) return false;
    if (rlp_list_next(&list, &pos, &item) != 1 || item.payload_len != 32) return false;
    memcpy(code_hash->b, item.payload, 32);
    return true;
}

/* Applies a batch: each changed storage trie, then the account trie. */
static bool apply_batch(trie_view *v, batch *b, store_error *err)
{
    qsort(b->accounts, b->n, sizeof *b->accounts, account_batch_cmp);
    key_change *acc_keys = xmalloc((b->n ? b->n : 1) * sizeof *acc_keys);
    size_t n_acc = 0;
    bytebuf rlp = {0};
    node_read r = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < b->n; i++) {
        account_batch *ab = &b->accounts[i];
        uint8_t owner[32];
        keccak256(ab->addr.b, 20, owner);
        if (ab->wipe) ok = batch_wipe(v, b, ab, owner);
        hash32 storage_root;
        if (ok) ok = update_trie(v, owner, 32, ab->slots, ab->n_slots, &b->values, &storage_root);
        if (!ok) break;
        uint64_t nonce = ab->nonce;
        u256 balance = ab->balance;
        hash32 code_hash = ab->code_hash;
        bool exists = ab->exists;
        if (!ab->account_changed) {
            /* Only slots changed: the account keeps its fields. */
            uint8_t nib[TRIE_KEY_NIBBLES];
            trie_key_nibbles(owner, 32, nib);
            if (!(ok = leaf_under(v, NULL, 0, nib, TRIE_KEY_NIBBLES, &r))) break;
            exists = r.found;
            if (exists && !decode_account(r.data.data, r.data.len, &nonce, &balance, &code_hash)) {
                ok = store_fail(err, "%s: state trie: a malformed account leaf", v->what);
                break;
            }
        }
        key_change *k = &acc_keys[n_acc++];
        memcpy(k->key, owner, 32);
        trie_key_nibbles(owner, 32, k->nib);
        k->seq = (uint32_t)i;
        k->value_off = b->values.len;
        k->value_len = 0;
        if (exists) {
            rlp.len = 0;
            account_encode_rlp(&rlp, nonce, &balance, &storage_root, &code_hash);
            bytebuf_append(&b->values, rlp.data, rlp.len);
            k->value_len = rlp.len;
        }
    }
    hash32 root;
    if (ok) ok = update_trie(v, NULL, 0, acc_keys, n_acc, &b->values, &root);
    if (!ok && !err->msg[0]) db_fail(v, err);
    ov_merge(v);
    free(acc_keys);
    bytebuf_free(&rlp);
    bytebuf_free(&r.data);
    return ok;
}

/* -------------------------------------------------------------- views */

static bool query_flag(sqlite3_stmt *st, bool *out)
{
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) != 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

trie_view *trie_view_open(sqlite3 *db, const char *what, store_error *err)
{
    trie_view *v = xcalloc(1, sizeof *v);
    v->db = db;
    v->what = what;
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v2(db, query_sql[i], -1, &v->q[i], NULL) != SQLITE_OK) {
            db_fail(v, err);
            trie_view_close(v);
            return NULL;
        }
    }
    if (!trie_view_refresh(v, err)) {
        trie_view_close(v);
        return NULL;
    }
    return v;
}

bool trie_view_refresh(trie_view *v, store_error *err)
{
    for (int i = 0; i < Q_COUNT; i++) sqlite3_reset(v->q[i]);
    v->n = v->sorted = 0;
    v->next_seq = 0;
    v->arena.len = 0;
    v->failed = false;
    if (!query_flag(v->q[Q_BUILT], &v->built) || !query_flag(v->q[Q_LIVE], &v->live)) return db_fail(v, err);
    v->stored = v->built;
    if (v->live) v->built = false;
    return true;
}

void trie_view_idle(trie_view *v)
{
    for (int i = 0; i < Q_COUNT; i++) sqlite3_reset(v->q[i]);
}

void trie_view_close(trie_view *v)
{
    if (!v) return;
    for (int i = 0; i < Q_COUNT; i++) sqlite3_finalize(v->q[i]);
    free(v->entries);
    bytebuf_free(&v->arena);
    free(v);
}

bool trie_view_built(const trie_view *v) { return v->built; }

bool trie_view_drop(trie_view *v, store_error *err)
{
    if (!v->stored) return true;
    static const char sql[] =
        "DROP TRIGGER IF EXISTS trie_dirty_account_insert; DROP TRIGGER IF EXISTS trie_dirty_account_update;"
        "DROP TRIGGER IF EXISTS trie_dirty_account_delete; DROP TRIGGER IF EXISTS trie_dirty_storage_insert;"
        "DROP TRIGGER IF EXISTS trie_dirty_storage_update; DROP TRIGGER IF EXISTS trie_dirty_storage_delete;"
        "DELETE FROM trie_branch; DELETE FROM trie_leaf; DELETE FROM trie_dirty;"
        "UPDATE trie_state SET built = 0 WHERE id = 1;";
    if (sqlite3_exec(v->db, sql, NULL, NULL, NULL) != SQLITE_OK) return db_fail(v, err);
    v->stored = v->built = false;
    return true;
}
bool trie_view_live(const trie_view *v) { return v->live; }

static bool column_u256_min(sqlite3_stmt *st, int col, u256 *out)
{
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    if (n > 32) return false;
    uint8_t be[32] = {0};
    if (n) memcpy(be + 32 - n, sqlite3_column_blob(st, col), n);
    *out = u256_load_be(be);
    return true;
}

bool trie_view_catch_up(trie_view *v, store_error *err)
{
    if (!v->built) return store_fail(err, "%s: the state trie is not built", v->what);
    batch b = {0};
    sqlite3_stmt *dirty = v->q[Q_DIRTY];
    bool ok = true;
    int rc;
    while (ok && (rc = sqlite3_step(dirty)) == SQLITE_ROW) {
        address a;
        if (sqlite3_column_bytes(dirty, 0) != 20) continue;
        memcpy(a.b, sqlite3_column_blob(dirty, 0), 20);
        account_batch *ab = batch_account(&b, &a);
        int slot_len = sqlite3_column_bytes(dirty, 1);
        if (slot_len == 32) {
            uint8_t slot[32];
            memcpy(slot, sqlite3_column_blob(dirty, 1), 32);
            sqlite3_stmt *st = v->q[Q_SLOT];
            bind(st, 1, a.b, 20);
            bind(st, 2, slot, 32);
            u256 value = u256_zero();
            int src = sqlite3_step(st);
            if (src == SQLITE_ROW && !column_u256_min(st, 0, &value)) src = SQLITE_CORRUPT;
            sqlite3_reset(st);
            if (src != SQLITE_ROW && src != SQLITE_DONE) ok = false;
            batch_slot(&b, ab, slot, &value);
        }
        if (ab->account_changed) continue;
        /* Every dirty account is read again: its storage root may change. */
        sqlite3_stmt *st = v->q[Q_ACCOUNT];
        bind(st, 1, a.b, 20);
        int arc = sqlite3_step(st);
        ab->account_changed = true;
        ab->exists = arc == SQLITE_ROW;
        if (ab->exists) {
            ab->nonce = (uint64_t)sqlite3_column_int64(st, 0);
            ab->code_hash = KECCAK_EMPTY;
            if (!column_u256_min(st, 1, &ab->balance)) arc = SQLITE_CORRUPT;
            if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
                if (sqlite3_column_bytes(st, 2) != 32) arc = SQLITE_CORRUPT;
                else memcpy(ab->code_hash.b, sqlite3_column_blob(st, 2), 32);
            }
        }
        sqlite3_reset(st);
        if (arc != SQLITE_ROW && arc != SQLITE_DONE) ok = false;
    }
    if (ok && rc != SQLITE_DONE) ok = false;
    sqlite3_reset(dirty);
    err->msg[0] = '\0';
    if (!ok) db_fail(v, err);
    else if (b.n) ok = apply_batch(v, &b, err);
    batch_free(&b);
    return ok;
}

static int change_order_cmp(const void *pa, const void *pb, void *changes)
{
    const trie_change *c = changes;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int d = memcmp(c[a].addr.b, c[b].addr.b, 20);
    if (d) return d;
    return (a > b) - (a < b);
}

bool trie_view_apply(trie_view *v, const trie_change *changes, size_t n, store_error *err)
{
    if (!v->built) return store_fail(err, "%s: the state trie is not built", v->what);
    batch b = {0};
    /* Grouped by address, in the given order within an address. */
    size_t *order = xmalloc((n ? n : 1) * sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = i;
    qsort_r(order, n, sizeof *order, change_order_cmp, (void *)changes);
    for (size_t o = 0; o < n; o++) {
        const trie_change *c = &changes[order[o]];
        account_batch *ab = batch_account(&b, &c->addr);
        if (c->is_slot) {
            uint8_t be[32];
            u256_store_be(be, &c->slot);
            batch_slot(&b, ab, be, &c->value);
            continue;
        }
        if (c->wipe_storage) {
            /* Slots given before the wipe are wiped with the rest. */
            ab->n_slots = 0;
            ab->wipe = true;
        }
        ab->account_changed = true;
        ab->exists = c->exists;
        ab->nonce = c->nonce;
        ab->balance = c->balance;
        ab->code_hash = c->code_hash;
    }
    free(order);
    err->msg[0] = '\0';
    bool ok = apply_batch(v, &b, err);
    batch_free(&b);
    return ok;
}

bool trie_view_persist(trie_view *v, store_error *err)
{
    ov_merge(v);
    bool ok = true;
    for (size_t i = 0; ok && i < v->n; i++) {
        const ov_entry *e = &v->entries[i];
        bool leaf = e->kind == KIND_LEAF;
        sqlite3_stmt *st = v->q[e->deleted ? (leaf ? Q_DEL_LEAF : Q_DEL_BRANCH) : (leaf ? Q_PUT_LEAF : Q_PUT_BRANCH)];
        bind(st, 1, e->owner, e->owner_len);
        bind(st, 2, e->path, e->path_len);
        if (!e->deleted) bind(st, 3, v->arena.data + e->data_off, e->data_len);
        ok = step_done(st);
    }
    if (ok) ok = sqlite3_exec(v->db, "DELETE FROM trie_dirty", NULL, NULL, NULL) == SQLITE_OK;
    if (!ok) return db_fail(v, err);
    v->n = v->sorted = 0;
    v->arena.len = 0;
    return true;
}

/* --------------------------------------------------------- full build */

typedef struct {
    trie_view *v;
    const uint8_t *owner;
    size_t owner_len;
} build_ctx;

static void on_built_branch(void *ctx, const uint8_t *path, size_t path_len, const uint8_t *rlp, size_t rlp_len)
{
    build_ctx *b = ctx;
    sqlite3_stmt *st = b->v->q[Q_PUT_BRANCH];
    bind(st, 1, b->owner, b->owner_len);
    bind(st, 2, path, path_len);
    bind(st, 3, rlp, rlp_len);
    if (!step_done(st)) note_failure(b->v);
}

static int entry32_cmp(const void *pa, const void *pb)
{
    return memcmp(((const trie_entry *)pa)->key, ((const trie_entry *)pb)->key, 32);
}

/* Stores the trie of a set of leaves (32-byte keys) and gives its root;
 * empties the set. */
static bool store_leaves(trie_view *v, const uint8_t *owner, size_t owner_len, trie_leaves *ls, hash32 *root)
{
    trie_entry *e = trie_leaves_entries(ls);
    size_t n = ls->count;
    if (n) qsort(e, n, sizeof *e, entry32_cmp); /* an empty set may have no array (UBSan: qsort(NULL, 0)) */
    uint8_t *nibs = xmalloc((n ? n : 1) * TRIE_KEY_NIBBLES);
    trie_piece *pieces = xmalloc((n ? n : 1) * sizeof *pieces);
    sqlite3_stmt *st = v->q[Q_PUT_LEAF];
    for (size_t i = 0; i < n; i++) {
        trie_key_nibbles(e[i].key, 32, nibs + i * TRIE_KEY_NIBBLES);
        pieces[i] = (trie_piece){nibs + i * TRIE_KEY_NIBBLES, TRIE_KEY_NIBBLES, e[i].value, e[i].value_len, false};
        bind(st, 1, owner, owner_len);
        bind(st, 2, e[i].key, 32);
        bind(st, 3, e[i].value, e[i].value_len);
        if (!step_done(st)) note_failure(v);
    }
    build_ctx b = {v, owner, owner_len};
    trie_root_pieces(pieces, n, on_built_branch, &b, root);
    free(nibs);
    free(pieces);
    trie_leaves_clear(ls);
    return !v->failed;
}

/* What keeps trie_dirty filled once the trie exists (007_state_trie.sql
 * says why they are made here). A REPLACE that overwrites a row fires the
 * insert trigger (recursive triggers are off, so not the delete one). */
static const char dirty_triggers_sql[] =
    "CREATE TRIGGER IF NOT EXISTS trie_dirty_account_insert AFTER INSERT ON account BEGIN "
    "INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (NEW.address, X''); END;"
    "CREATE TRIGGER IF NOT EXISTS trie_dirty_account_update AFTER UPDATE ON account BEGIN "
    "INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (OLD.address, X''); "
    "INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (NEW.address, X''); END;"
    "CREATE TRIGGER IF NOT EXISTS trie_dirty_account_delete AFTER DELETE ON account BEGIN "
    "INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (OLD.address, X''); END;"
    "CREATE TRIGGER IF NOT EXISTS trie_dirty_storage_insert AFTER INSERT ON storage BEGIN "
    "INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (NEW.address, NEW.slot); END;"
    "CREATE TRIGGER IF NOT EXISTS trie_dirty_storage_update AFTER UPDATE ON storage BEGIN "
    "INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (OLD.address, OLD.slot); "
    "INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (NEW.address, NEW.slot); END;"
    "CREATE TRIGGER IF NOT EXISTS trie_dirty_storage_delete AFTER DELETE ON storage BEGIN "
    "INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (OLD.address, OLD.slot); END;";

bool trie_view_build(trie_view *v, store_error *err)
{
    if (v->live) return store_fail(err, "%s: a live database keeps no state trie", v->what);
    if (sqlite3_exec(v->db, "DELETE FROM trie_branch; DELETE FROM trie_leaf; DELETE FROM trie_dirty;", NULL, NULL,
                     NULL) != SQLITE_OK)
        return db_fail(v, err);
    v->n = v->sorted = 0;
    v->arena.len = 0;
    v->failed = false;
    sqlite3_stmt *acc = NULL, *slots = NULL;
    if (sqlite3_prepare_v2(v->db, "SELECT address, nonce, balance, code_hash FROM account ORDER BY address", -1, &acc,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(v->db, "SELECT address, slot, value FROM storage ORDER BY address, slot", -1, &slots,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(acc);
        return db_fail(v, err);
    }
    trie_leaves accounts = {0}, storage = {0};
    bytebuf rlp = {0};
    bool ok = true;
    int arc = sqlite3_step(acc), src = sqlite3_step(slots);
    /* Storage tries are built for every address with slots (as an update
     * keeps them), account leaves for every account. */
    while (ok && (arc == SQLITE_ROW || src == SQLITE_ROW)) {
        address a;
        int cmp;
        if (arc == SQLITE_ROW && src == SQLITE_ROW)
            cmp = memcmp(sqlite3_column_blob(acc, 0), sqlite3_column_blob(slots, 0), 20);
        else
            cmp = arc == SQLITE_ROW ? -1 : 1;
        if (sqlite3_column_bytes(cmp <= 0 ? acc : slots, 0) != 20) {
            ok = store_fail(err, "%s: malformed state row", v->what);
            break;
        }
        memcpy(a.b, sqlite3_column_blob(cmp <= 0 ? acc : slots, 0), 20);
        uint8_t owner[32];
        keccak256(a.b, 20, owner);
        hash32 storage_root = TRIE_EMPTY_ROOT;
        if (cmp >= 0) {
            while (src == SQLITE_ROW && sqlite3_column_bytes(slots, 0) == 20 &&
                   memcmp(sqlite3_column_blob(slots, 0), a.b, 20) == 0) {
                u256 value;
                if (sqlite3_column_bytes(slots, 1) != 32 || !column_u256_min(slots, 2, &value)) {
                    ok = store_fail(err, "%s: malformed storage row", v->what);
                    break;
                }
                if (!u256_is_zero(&value)) {
                    uint8_t hashed[32];
                    keccak256(sqlite3_column_blob(slots, 1), 32, hashed);
                    rlp.len = 0;
                    rlp_put_u256(&rlp, &value);
                    trie_leaves_add(&storage, hashed, rlp.data, rlp.len);
                }
                src = sqlite3_step(slots);
            }
            if (ok) ok = store_leaves(v, owner, 32, &storage, &storage_root);
        }
        if (ok && cmp <= 0) {
            account_info info = {.code_hash = KECCAK_EMPTY};
            info.nonce = (uint64_t)sqlite3_column_int64(acc, 1);
            if (!column_u256_min(acc, 2, &info.balance) ||
                (sqlite3_column_type(acc, 3) != SQLITE_NULL && sqlite3_column_bytes(acc, 3) != 32)) {
                ok = store_fail(err, "%s: malformed account row", v->what);
                break;
            }
            if (sqlite3_column_type(acc, 3) != SQLITE_NULL) memcpy(info.code_hash.b, sqlite3_column_blob(acc, 3), 32);
            rlp.len = 0;
            account_encode_rlp(&rlp, info.nonce, &info.balance, &storage_root, &info.code_hash);
            trie_leaves_add(&accounts, owner, rlp.data, rlp.len);
            arc = sqlite3_step(acc);
        }
    }
    if (ok && ((arc != SQLITE_ROW && arc != SQLITE_DONE) || (src != SQLITE_ROW && src != SQLITE_DONE)))
        ok = db_fail(v, err);
    sqlite3_finalize(acc);
    sqlite3_finalize(slots);
    hash32 root;
    if (ok) ok = store_leaves(v, NULL, 0, &accounts, &root);
    if (ok && !(ok = sqlite3_exec(v->db, "UPDATE trie_state SET built = 1 WHERE id = 1", NULL, NULL, NULL) == SQLITE_OK))
        db_fail(v, err);
    if (ok && !(ok = sqlite3_exec(v->db, dirty_triggers_sql, NULL, NULL, NULL) == SQLITE_OK)) db_fail(v, err);
    if (!ok && v->failed) *err = v->error;
    if (ok) v->built = true;
    trie_leaves_free(&accounts);
    trie_leaves_free(&storage);
    bytebuf_free(&rlp);
    return ok;
}

/* ------------------------------------------------------- root, proofs */

bool trie_view_root(trie_view *v, hash32 *root, store_error *err)
{
    if (!trie_root_of(v, NULL, 0, root)) return db_fail(v, err);
    return true;
}

bool trie_view_storage_root(trie_view *v, const address *a, hash32 *root, store_error *err)
{
    uint8_t owner[32];
    keccak256(a->b, 20, owner);
    if (!trie_root_of(v, owner, 32, root)) return db_fail(v, err);
    return true;
}

/* The nodes on a key's path, root first, as trie_prove lists them. */
static bool prove_key(trie_view *v, const uint8_t *owner, size_t owner_len, const uint8_t key[32], trie_proof *proof)
{
    uint8_t nib[TRIE_KEY_NIBBLES];
    trie_key_nibbles(key, 32, nib);
    node_read r = {0};
    bytebuf node = {0};
    size_t depth = 0;
    bool ok = true;
    for (;;) {
        if (!(ok = topmost_branch(v, owner, owner_len, nib, depth, &r))) break;
        if (!r.found) {
            if (!(ok = leaf_under(v, owner, owner_len, nib, depth, &r)) || !r.found) break;
            uint8_t leaf_nib[TRIE_KEY_NIBBLES];
            trie_key_nibbles(r.path, 32, leaf_nib);
            node.len = 0;
            trie_put_leaf_node(&node, leaf_nib + depth, TRIE_KEY_NIBBLES - depth, r.data.data, r.data.len);
            if (depth == 0 || node.len >= 32) trie_proof_add(proof, node.data, node.len);
            break;
        }
        if (r.path_len > depth) {
            node.len = 0;
            trie_put_extension_node(&node, r.path + depth, r.path_len - depth, r.data.data, r.data.len);
            if (depth == 0 || node.len >= 32) trie_proof_add(proof, node.data, node.len);
            if (memcmp(r.path + depth, nib + depth, r.path_len - depth) != 0) break; /* diverges */
        }
        if (r.path_len == 0 || r.data.len >= 32) trie_proof_add(proof, r.data.data, r.data.len);
        if (trie_branch_child_empty(r.data.data, r.data.len, nib[r.path_len])) break;
        depth = r.path_len + 1;
    }
    bytebuf_free(&r.data);
    bytebuf_free(&node);
    return ok;
}

bool trie_view_prove(trie_view *v, const address *a, const uint8_t (*hashed_slots)[32], size_t n,
                     trie_proof *account_proof, trie_proof *storage_proofs, store_error *err)
{
    uint8_t owner[32];
    keccak256(a->b, 20, owner);
    if (!prove_key(v, NULL, 0, owner, account_proof)) return db_fail(v, err);
    for (size_t i = 0; i < n; i++)
        if (!prove_key(v, owner, 32, hashed_slots[i], &storage_proofs[i])) return db_fail(v, err);
    return true;
}
