/* An in-memory account state: open-addressing hash tables with linear
 * probing and backward-shift deletion (no tombstones, so lookups stay short
 * however many accounts come and go).
 *
 * Code lives in a separate store keyed by code hash and is never freed
 * before the memstate: state_backend.get_code promises that its pointer
 * stays valid as long as the backend does, even if the account that held
 * the code is deleted or given new code meanwhile. */
#include "state/memstate.h"

#include <stdlib.h>
#include <string.h>

#include "base/keccak.h"
#include "base/rlp.h"
#include "base/trie.h"

#define MIN_CAPACITY 8
/* Tables grow when more than 3/4 full. */
#define LOAD_NUM 3
#define LOAD_DEN 4

/* --- Hashing of keys. Fixture addresses and slots are often tiny numbers,
 * so every byte is mixed in (a plain truncation would cluster). */

/* One finalizer round over the three words, each first multiplied by its
 * own odd constant (a bijection, so a word's every byte still counts):
 * address_hash64's three rounds were ~20 instructions of every account
 * read. Nothing depends on the order this gives a table (memstate_root
 * sorts its leaves). */
static inline uint64_t hash_address(const address *a)
{
    uint32_t tail;
    memcpy(&tail, a->b + 16, 4);
    return hash_mix64((hash_load64(a->b) * 0x9e3779b97f4a7c15ULL) ^ (hash_load64(a->b + 8) * 0xc2b2ae3d27d4eb4fULL) ^
                      tail);
}

static inline uint64_t hash_u256(const u256 *k)
{
    return hash_mix64(k->w[0] ^ hash_mix64(k->w[1] ^ hash_mix64(k->w[2] ^ hash_mix64(k->w[3]))));
}

static inline uint64_t hash_hash32(const hash32 *h)
{
    return hash_load64(h->b) ^ hash_load64(h->b + 8); /* already uniformly distributed */
}

static inline uint64_t hash_u64(const uint64_t *n) { return hash_mix64(*n); }

static inline bool hash32_eq(const hash32 *a, const hash32 *b) { return memcmp(a->b, b->b, 32) == 0; }
static inline bool u64_eq(const uint64_t *a, const uint64_t *b) { return *a == *b; }

/* --- One open-addressing table, instantiated per entry type: linear
 * probing in a power-of-two array that grows past LOAD_NUM/LOAD_DEN full.
 * An entry type has a member `key` of type key_t; `entry_used` tells a
 * used bucket from an empty one, and an all-zero entry is empty (new
 * arrays are calloc'd); `entry_clear` empties a bucket. Everything is
 * static inline so that each instance compiles to code as direct as a
 * hand-written table. */
#define DEFINE_OPEN_TABLE(T, entry_t, key_t, hash_key, key_eq, entry_used, entry_clear)                      \
    typedef struct {                                                                                       \
        entry_t *at;                                                                                       \
        size_t cap; /* a power of two, or 0 */                                                             \
        size_t count;                                                                                      \
    } T;                                                                                                   \
                                                                                                           \
    /* The bucket holding `key`, or the empty one that ends its probe run. */                              \
    static inline size_t T##_find(const T *t, const key_t *key)                                            \
    {                                                                                                      \
        size_t mask = t->cap - 1;                                                                          \
        for (size_t i = hash_key(key) & mask;; i = (i + 1) & mask)                                         \
            if (!entry_used(&t->at[i]) || key_eq(&t->at[i].key, key)) return i;                           \
    }                                                                                                      \
                                                                                                           \
    static inline entry_t *T##_lookup(const T *t, const key_t *key)                                        \
    {                                                                                                      \
        if (t->count == 0) return NULL;                                                                    \
        entry_t *e = &t->at[T##_find(t, key)];                                                             \
        return entry_used(e) ? e : NULL;                                                                   \
    }                                                                                                      \
                                                                                                           \
    static inline void T##_grow(T *t)                                                                      \
    {                                                                                                      \
        size_t cap = t->cap ? t->cap * 2 : MIN_CAPACITY;                                                   \
        T bigger = {xcalloc(cap, sizeof(entry_t)), cap, t->count};                                         \
        for (size_t i = 0; i < t->cap; i++)                                                                \
            if (entry_used(&t->at[i])) bigger.at[T##_find(&bigger, &t->at[i].key)] = t->at[i];             \
        free(t->at);                                                                                       \
        *t = bigger;                                                                                       \
    }                                                                                                      \
                                                                                                           \
    /* The entry of `key`. When it was absent (*fresh), the entry is new    \
     * and counted, its key set: the caller makes it used. */                                              \
    static inline entry_t *T##_insert(T *t, const key_t *key, bool *fresh)                                 \
    {                                                                                                      \
        size_t i = 0;                                                                                      \
        if (t->cap) {                                                                                      \
            i = T##_find(t, key);                                                                          \
            *fresh = !entry_used(&t->at[i]);                                                               \
            if (!*fresh) return &t->at[i];                                                                 \
        }                                                                                                  \
        if ((t->count + 1) * LOAD_DEN > t->cap * LOAD_NUM) {                                               \
            T##_grow(t);                                                                                   \
            i = T##_find(t, key);                                                                          \
        }                                                                                                  \
        *fresh = true;                                                                                     \
        t->count++;                                                                                        \
        t->at[i].key = *key;                                                                               \
        return &t->at[i];                                                                                  \
    }                                                                                                      \
                                                                                                           \
    /* Backward-shift deletion: pulls later members of the probe run into  \
     * the hole so that every remaining key is still reachable from its    \
     * home bucket. */                                                                                     \
    static inline void T##_remove(T *t, entry_t *e)                                                        \
    {                                                                                                      \
        size_t mask = t->cap - 1, hole = (size_t)(e - t->at);                                              \
        for (size_t i = (hole + 1) & mask; entry_used(&t->at[i]); i = (i + 1) & mask) {                    \
            size_t home = hash_key(&t->at[i].key) & mask;                                                  \
            /* The entry at i may move to the hole when its home is not     \
             * within the cyclic range (hole, i]. */                                                       \
            if (((i - home) & mask) >= ((i - hole) & mask)) {                                              \
                t->at[hole] = t->at[i];                                                                    \
                hole = i;                                                                                  \
            }                                                                                              \
        }                                                                                                  \
        entry_clear(&t->at[hole]);                                                                         \
        t->count--;                                                                                        \
    }

/* --- Storage: slot key -> non-zero value. A zero value marks an empty
 * bucket, which is why zero is never stored (zero means "unset"). */

typedef struct {
    u256 key;
    u256 value;
} slot;

static inline bool slot_used(const slot *s) { return !u256_is_zero(&s->value); }
static inline void slot_clear(slot *s) { s->value = u256_zero(); }
DEFINE_OPEN_TABLE(storage_map, slot, u256, hash_u256, u256_eq, slot_used, slot_clear)

static u256 storage_get(const storage_map *m, const u256 *key)
{
    if (m->count == 0) return u256_zero();
    return m->at[storage_map_find(m, key)].value; /* zero when not found */
}

static void storage_set(storage_map *m, const u256 *key, const u256 *value)
{
    if (u256_is_zero(value)) {
        slot *s = storage_map_lookup(m, key);
        if (s) storage_map_remove(m, s);
        return;
    }
    bool fresh;
    storage_map_insert(m, key, &fresh)->value = *value;
}

/* --- Code store: code hash -> owned bytes. */

typedef struct {
    hash32 key;    /* the code hash */
    uint8_t *code; /* NULL marks an empty bucket; empty code is never stored */
    size_t len;
} code_entry;

static inline bool code_entry_used(const code_entry *e) { return e->code != NULL; }
static inline void code_entry_clear(code_entry *e) { e->code = NULL; }
DEFINE_OPEN_TABLE(code_store, code_entry, hash32, hash_hash32, hash32_eq, code_entry_used, code_entry_clear)

/* Stores a copy of the code unless code with that hash is already known. */
static void code_add(code_store *s, const hash32 *h, const uint8_t *code, size_t len)
{
    if (len == 0) return;
    bool fresh;
    code_entry *e = code_store_insert(s, h, &fresh);
    if (!fresh) return;
    e->code = xmalloc(len);
    memcpy(e->code, code, len);
    e->len = len;
}

/* --- Accounts. */

typedef struct {
    address key;
    bool used;
    hash32 addr_hash; /* keccak(address): the account's key in the state trie */
    uint64_t nonce;
    u256 balance;
    hash32 code_hash;
    storage_map storage;
    /* The storage root is cached until the storage changes. */
    bool storage_root_valid;
    hash32 storage_root;
} account;

static inline bool account_used(const account *a) { return a->used; }
static inline void account_clear(account *a) { a->used = false; }
DEFINE_OPEN_TABLE(account_map, account, address, hash_address, address_equal, account_used, account_clear)

/* The account at `a`, created empty (no code, no storage) when absent. */
static account *account_get_or_create(account_map *m, const address *a)
{
    bool fresh;
    account *acc = account_map_insert(m, a, &fresh);
    if (!fresh) return acc;
    memset(acc, 0, sizeof *acc);
    acc->key = *a;
    acc->used = true;
    keccak256(a->b, 20, acc->addr_hash.b);
    acc->code_hash = KECCAK_EMPTY;
    return acc;
}

static void account_remove(account_map *m, const address *a)
{
    account *acc = account_map_lookup(m, a);
    if (!acc) return;
    free(acc->storage.at);
    account_map_remove(m, acc);
}

/* --- Block hashes: a small map number -> hash. */

typedef struct {
    uint64_t key; /* the block number */
    hash32 hash;
    bool used;
} block_hash_entry;

static inline bool block_hash_used(const block_hash_entry *e) { return e->used; }
static inline void block_hash_clear(block_hash_entry *e) { e->used = false; }
DEFINE_OPEN_TABLE(block_hash_map, block_hash_entry, uint64_t, hash_u64, u64_eq, block_hash_used, block_hash_clear)

/* --- The memstate. */

struct memstate {
    account_map accounts;
    code_store codes;
    block_hash_map block_hashes;
};

memstate *memstate_new(void) { return xcalloc(1, sizeof(memstate)); }

void memstate_free(memstate *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->accounts.cap; i++)
        if (m->accounts.at[i].used) free(m->accounts.at[i].storage.at);
    free(m->accounts.at);
    for (size_t i = 0; i < m->codes.cap; i++) free(m->codes.at[i].code);
    free(m->codes.at);
    free(m->block_hashes.at);
    free(m);
}

/* Replaces nonce, balance and code; the storage is kept (removing an
 * account with its storage is memstate's delete_account). */
static void set_account(memstate *m, const address *a, uint64_t nonce, const u256 *balance,
                        const hash32 *code_hash, const uint8_t *code, size_t code_len)
{
    account *acc = account_get_or_create(&m->accounts, a);
    acc->nonce = nonce;
    acc->balance = *balance;
    acc->code_hash = *code_hash;
    code_add(&m->codes, code_hash, code, code_len);
}

void memstate_put_account(memstate *m, const address *a, uint64_t nonce, const u256 *balance,
                          const uint8_t *code, size_t code_len)
{
    hash32 code_hash = KECCAK_EMPTY;
    if (code_len) keccak256(code, code_len, code_hash.b);
    set_account(m, a, nonce, balance, &code_hash, code, code_len);
}

void memstate_put_storage(memstate *m, const address *a, const u256 *key, const u256 *value)
{
    account *acc =
        u256_is_zero(value) ? account_map_lookup(&m->accounts, a) : account_get_or_create(&m->accounts, a);
    if (!acc) return;
    storage_set(&acc->storage, key, value);
    acc->storage_root_valid = false;
}

void memstate_set_block_hash(memstate *m, uint64_t number, const hash32 *hash)
{
    bool fresh;
    block_hash_entry *e = block_hash_map_insert(&m->block_hashes, &number, &fresh);
    e->used = true;
    e->hash = *hash;
}

size_t memstate_account_count(const memstate *m) { return m->accounts.count; }

/* --- state_backend callbacks. */

static bool backend_get_account(void *ctx, const address *addr, account_info *out)
{
    const account *acc = account_map_lookup(&((memstate *)ctx)->accounts, addr);
    if (!acc) return false;
    out->nonce = acc->nonce;
    out->balance = acc->balance;
    out->code_hash = acc->code_hash;
    return true;
}

static bool backend_get_code(void *ctx, const hash32 *code_hash, const uint8_t **code, size_t *len)
{
    if (state_backend_empty_code(code_hash, code, len)) return true;
    const code_entry *e = code_store_lookup(&((memstate *)ctx)->codes, code_hash);
    if (!e) return false;
    *code = e->code;
    *len = e->len;
    return true;
}

static void backend_get_storage(void *ctx, const address *addr, const u256 *key, u256 *out)
{
    const account *acc = account_map_lookup(&((memstate *)ctx)->accounts, addr);
    *out = acc ? storage_get(&acc->storage, key) : u256_zero();
}

static bool backend_get_block_hash(void *ctx, uint64_t number, hash32 *out)
{
    const block_hash_entry *e = block_hash_map_lookup(&((memstate *)ctx)->block_hashes, &number);
    if (!e) return false;
    *out = e->hash;
    return true;
}

static bool backend_has_storage(void *ctx, const address *addr)
{
    const account *acc = account_map_lookup(&((memstate *)ctx)->accounts, addr);
    return acc && acc->storage.count > 0; /* only non-zero values are stored */
}

state_backend memstate_backend(memstate *m) { return STATE_BACKEND_OF(m, backend); }

/* --- state_sink callbacks. */

static void sink_delete_account(void *ctx, const address *addr)
{
    account_remove(&((memstate *)ctx)->accounts, addr);
}

/* The state hands over the code hash it already knows, so nothing is
 * re-hashed here. */
static void sink_put_account(void *ctx, const address *addr, const account_info *info, const uint8_t *code,
                             size_t code_len, bool code_changed)
{
    (void)code_changed; /* the code store ignores code it already holds */
    set_account(ctx, addr, info->nonce, &info->balance, &info->code_hash, code, code_len);
}

static void sink_put_storage(void *ctx, const address *addr, const u256 *key, const u256 *value)
{
    memstate_put_storage(ctx, addr, key, value);
}

state_sink memstate_sink(memstate *m) { return STATE_SINK_OF(m, sink); }

/* --- State root. */

/* A trie leaf built in place: the hashed key and the RLP value. */
typedef struct {
    uint8_t key[32];
    uint8_t value[128]; /* an account's RLP is at most 1+9+33+33+33 = 109 bytes */
    size_t value_len;
} leaf;

static void leaf_set_value(leaf *l, const bytebuf *rlp)
{
    memcpy(l->value, rlp->data, rlp->len);
    l->value_len = rlp->len;
}

static void root_of_leaves(leaf *leaves, size_t n, hash32 *root)
{
    trie_entry *entries = xmalloc(n * sizeof(trie_entry));
    for (size_t i = 0; i < n; i++)
        entries[i] = (trie_entry){leaves[i].key, 32, leaves[i].value, leaves[i].value_len};
    trie_root(entries, n, root);
    free(entries);
}

/* Secure trie of the slots: keccak(32-byte big-endian key) -> rlp(value). */
static void compute_storage_root(const storage_map *s, hash32 *root)
{
    leaf *leaves = xmalloc((s->count ? s->count : 1) * sizeof(leaf));
    bytebuf rlp = {0};
    size_t n = 0;
    for (size_t i = 0; i < s->cap; i++) {
        if (!slot_used(&s->at[i])) continue;
        uint8_t be[32];
        u256_store_be(be, &s->at[i].key);
        keccak256(be, 32, leaves[n].key);
        rlp.len = 0;
        rlp_put_u256(&rlp, &s->at[i].value);
        leaf_set_value(&leaves[n++], &rlp);
    }
    root_of_leaves(leaves, n, root);
    bytebuf_free(&rlp);
    free(leaves);
}

static void encode_account(account *acc, bytebuf *rlp)
{
    if (!acc->storage_root_valid) {
        compute_storage_root(&acc->storage, &acc->storage_root);
        acc->storage_root_valid = true;
    }
    account_encode_rlp(rlp, acc->nonce, &acc->balance, &acc->storage_root, &acc->code_hash);
}

void memstate_root(memstate *m, hash32 *root)
{
    account_map *am = &m->accounts;
    leaf *leaves = xmalloc((am->count ? am->count : 1) * sizeof(leaf));
    bytebuf rlp = {0};
    size_t n = 0;
    for (size_t i = 0; i < am->cap; i++) {
        account *acc = &am->at[i];
        if (!acc->used) continue;
        memcpy(leaves[n].key, acc->addr_hash.b, 32);
        encode_account(acc, &rlp);
        leaf_set_value(&leaves[n++], &rlp);
    }
    root_of_leaves(leaves, n, root);
    bytebuf_free(&rlp);
    free(leaves);
}

/* --- Logs hash. */

void logs_hash(const log_entry *logs, size_t n, hash32 *out)
{
    bytebuf rlp = {0};
    size_t all = rlp_list_begin(&rlp);
    for (size_t i = 0; i < n; i++) log_encode_rlp(&rlp, &logs[i]);
    rlp_list_end(&rlp, all);
    keccak256(rlp.data, rlp.len, out->b);
    bytebuf_free(&rlp);
}
