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

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint64_t hash_address(const address *a)
{
    uint32_t tail;
    memcpy(&tail, a->b + 16, 4);
    return mix64(load64(a->b) ^ mix64(load64(a->b + 8) ^ mix64(tail)));
}

static uint64_t hash_u256(const u256 *k)
{
    return mix64(k->w[0] ^ mix64(k->w[1] ^ mix64(k->w[2] ^ mix64(k->w[3]))));
}

static uint64_t hash_hash32(const hash32 *h)
{
    return load64(h->b) ^ load64(h->b + 8); /* already uniformly distributed */
}

/* --- Storage: slot key -> non-zero value. A zero value marks an empty
 * bucket, which is why zero is never stored (zero means "unset"). */

typedef struct {
    u256 key;
    u256 value;
} slot;

typedef struct {
    slot *slots;
    size_t cap; /* a power of two, or 0 */
    size_t count;
} storage_map;

static size_t storage_find(const storage_map *m, const u256 *key)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash_u256(key) & mask;; i = (i + 1) & mask)
        if (u256_is_zero(&m->slots[i].value) || u256_eq(&m->slots[i].key, key)) return i;
}

static void storage_grow(storage_map *m)
{
    storage_map bigger = {xcalloc(m->cap ? m->cap * 2 : MIN_CAPACITY, sizeof(slot)),
                          m->cap ? m->cap * 2 : MIN_CAPACITY, m->count};
    for (size_t i = 0; i < m->cap; i++)
        if (!u256_is_zero(&m->slots[i].value))
            bigger.slots[storage_find(&bigger, &m->slots[i].key)] = m->slots[i];
    free(m->slots);
    *m = bigger;
}

static u256 storage_get(const storage_map *m, const u256 *key)
{
    if (m->count == 0) return u256_zero();
    return m->slots[storage_find(m, key)].value; /* zero when not found */
}

/* Backward-shift deletion: pulls later members of the probe run into the
 * hole so that every remaining key is still reachable from its home. */
static void storage_remove_at(storage_map *m, size_t hole)
{
    size_t mask = m->cap - 1;
    for (size_t i = (hole + 1) & mask; !u256_is_zero(&m->slots[i].value); i = (i + 1) & mask) {
        size_t home = hash_u256(&m->slots[i].key) & mask;
        /* The entry at i may move to the hole when its home is not within
         * the cyclic range (hole, i]. */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            m->slots[hole] = m->slots[i];
            hole = i;
        }
    }
    m->slots[hole].value = u256_zero();
    m->count--;
}

static void storage_set(storage_map *m, const u256 *key, const u256 *value)
{
    if (u256_is_zero(value)) {
        if (m->count == 0) return;
        size_t i = storage_find(m, key);
        if (!u256_is_zero(&m->slots[i].value)) storage_remove_at(m, i);
        return;
    }
    if ((m->count + 1) * LOAD_DEN > m->cap * LOAD_NUM) storage_grow(m);
    size_t i = storage_find(m, key);
    if (u256_is_zero(&m->slots[i].value)) {
        m->slots[i].key = *key;
        m->count++;
    }
    m->slots[i].value = *value;
}

/* --- Code store: code hash -> owned bytes. */

typedef struct {
    hash32 hash;
    uint8_t *code; /* NULL marks an empty bucket; empty code is never stored */
    size_t len;
} code_entry;

typedef struct {
    code_entry *entries;
    size_t cap;
    size_t count;
} code_store;

static size_t code_find(const code_store *s, const hash32 *h)
{
    size_t mask = s->cap - 1;
    for (size_t i = hash_hash32(h) & mask;; i = (i + 1) & mask)
        if (!s->entries[i].code || memcmp(s->entries[i].hash.b, h->b, 32) == 0) return i;
}

static void code_grow(code_store *s)
{
    code_store bigger = {xcalloc(s->cap ? s->cap * 2 : MIN_CAPACITY, sizeof(code_entry)),
                         s->cap ? s->cap * 2 : MIN_CAPACITY, s->count};
    for (size_t i = 0; i < s->cap; i++)
        if (s->entries[i].code) bigger.entries[code_find(&bigger, &s->entries[i].hash)] = s->entries[i];
    free(s->entries);
    *s = bigger;
}

static const code_entry *code_lookup(const code_store *s, const hash32 *h)
{
    if (s->count == 0) return NULL;
    const code_entry *e = &s->entries[code_find(s, h)];
    return e->code ? e : NULL;
}

/* Stores a copy of the code unless code with that hash is already known. */
static void code_add(code_store *s, const hash32 *h, const uint8_t *code, size_t len)
{
    if (len == 0 || code_lookup(s, h)) return;
    if ((s->count + 1) * LOAD_DEN > s->cap * LOAD_NUM) code_grow(s);
    code_entry *e = &s->entries[code_find(s, h)];
    e->hash = *h;
    e->code = xmalloc(len);
    memcpy(e->code, code, len);
    e->len = len;
    s->count++;
}

/* --- Accounts. */

typedef struct {
    bool used;
    address addr;
    hash32 addr_hash; /* keccak(address): the account's key in the state trie */
    uint64_t nonce;
    u256 balance;
    hash32 code_hash;
    storage_map storage;
    /* The storage root is cached until the storage changes. */
    bool storage_root_valid;
    hash32 storage_root;
} account;

typedef struct {
    account *accounts;
    size_t cap;
    size_t count;
} account_map;

static size_t account_find(const account_map *m, const address *a)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash_address(a) & mask;; i = (i + 1) & mask)
        if (!m->accounts[i].used || memcmp(m->accounts[i].addr.b, a->b, 20) == 0) return i;
}

static void account_grow(account_map *m)
{
    account_map bigger = {xcalloc(m->cap ? m->cap * 2 : MIN_CAPACITY, sizeof(account)),
                          m->cap ? m->cap * 2 : MIN_CAPACITY, m->count};
    for (size_t i = 0; i < m->cap; i++)
        if (m->accounts[i].used)
            bigger.accounts[account_find(&bigger, &m->accounts[i].addr)] = m->accounts[i];
    free(m->accounts);
    *m = bigger;
}

static account *account_lookup(const account_map *m, const address *a)
{
    if (m->count == 0) return NULL;
    account *acc = &m->accounts[account_find(m, a)];
    return acc->used ? acc : NULL;
}

/* The account at `a`, created empty (no code, no storage) when absent. */
static account *account_get_or_create(account_map *m, const address *a)
{
    account *acc = account_lookup(m, a);
    if (acc) return acc;
    if ((m->count + 1) * LOAD_DEN > m->cap * LOAD_NUM) account_grow(m);
    acc = &m->accounts[account_find(m, a)];
    memset(acc, 0, sizeof *acc);
    acc->used = true;
    acc->addr = *a;
    keccak256(a->b, 20, acc->addr_hash.b);
    acc->code_hash = KECCAK_EMPTY;
    m->count++;
    return acc;
}

static void account_remove(account_map *m, const address *a)
{
    if (m->count == 0) return;
    size_t mask = m->cap - 1;
    size_t hole = account_find(m, a);
    if (!m->accounts[hole].used) return;
    free(m->accounts[hole].storage.slots);
    for (size_t i = (hole + 1) & mask; m->accounts[i].used; i = (i + 1) & mask) {
        size_t home = hash_address(&m->accounts[i].addr) & mask;
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            m->accounts[hole] = m->accounts[i];
            hole = i;
        }
    }
    m->accounts[hole].used = false;
    m->count--;
}

/* --- Block hashes: a small map number -> hash. */

typedef struct {
    uint64_t number;
    hash32 hash;
    bool used;
} block_hash_entry;

typedef struct {
    block_hash_entry *entries;
    size_t cap;
    size_t count;
} block_hash_map;

static size_t block_hash_find(const block_hash_map *m, uint64_t number)
{
    size_t mask = m->cap - 1;
    for (size_t i = mix64(number) & mask;; i = (i + 1) & mask)
        if (!m->entries[i].used || m->entries[i].number == number) return i;
}

static void block_hash_grow(block_hash_map *m)
{
    block_hash_map bigger = {xcalloc(m->cap ? m->cap * 2 : MIN_CAPACITY, sizeof(block_hash_entry)),
                             m->cap ? m->cap * 2 : MIN_CAPACITY, m->count};
    for (size_t i = 0; i < m->cap; i++)
        if (m->entries[i].used)
            bigger.entries[block_hash_find(&bigger, m->entries[i].number)] = m->entries[i];
    free(m->entries);
    *m = bigger;
}

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
        if (m->accounts.accounts[i].used) free(m->accounts.accounts[i].storage.slots);
    free(m->accounts.accounts);
    for (size_t i = 0; i < m->codes.cap; i++) free(m->codes.entries[i].code);
    free(m->codes.entries);
    free(m->block_hashes.entries);
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
        u256_is_zero(value) ? account_lookup(&m->accounts, a) : account_get_or_create(&m->accounts, a);
    if (!acc) return;
    storage_set(&acc->storage, key, value);
    acc->storage_root_valid = false;
}

void memstate_set_block_hash(memstate *m, uint64_t number, const hash32 *hash)
{
    block_hash_map *bh = &m->block_hashes;
    if ((bh->count + 1) * LOAD_DEN > bh->cap * LOAD_NUM) block_hash_grow(bh);
    block_hash_entry *e = &bh->entries[block_hash_find(bh, number)];
    if (!e->used) bh->count++;
    e->used = true;
    e->number = number;
    e->hash = *hash;
}

size_t memstate_account_count(const memstate *m) { return m->accounts.count; }

/* --- state_backend callbacks. */

static bool backend_get_account(void *ctx, const address *addr, account_info *out)
{
    const account *acc = account_lookup(&((memstate *)ctx)->accounts, addr);
    if (!acc) return false;
    out->nonce = acc->nonce;
    out->balance = acc->balance;
    out->code_hash = acc->code_hash;
    return true;
}

static bool backend_get_code(void *ctx, const hash32 *code_hash, const uint8_t **code, size_t *len)
{
    static const uint8_t no_code[1];
    if (memcmp(code_hash->b, KECCAK_EMPTY.b, 32) == 0) {
        *code = no_code;
        *len = 0;
        return true;
    }
    const code_entry *e = code_lookup(&((memstate *)ctx)->codes, code_hash);
    if (!e) return false;
    *code = e->code;
    *len = e->len;
    return true;
}

static void backend_get_storage(void *ctx, const address *addr, const u256 *key, u256 *out)
{
    const account *acc = account_lookup(&((memstate *)ctx)->accounts, addr);
    *out = acc ? storage_get(&acc->storage, key) : u256_zero();
}

static bool backend_get_block_hash(void *ctx, uint64_t number, hash32 *out)
{
    const block_hash_map *bh = &((memstate *)ctx)->block_hashes;
    if (bh->count == 0) return false;
    const block_hash_entry *e = &bh->entries[block_hash_find(bh, number)];
    if (!e->used) return false;
    *out = e->hash;
    return true;
}

static bool backend_has_storage(void *ctx, const address *addr)
{
    const account *acc = account_lookup(&((memstate *)ctx)->accounts, addr);
    return acc && acc->storage.count > 0; /* only non-zero values are stored */
}

state_backend memstate_backend(memstate *m)
{
    state_backend b = {
        .ctx = m,
        .get_account = backend_get_account,
        .get_code = backend_get_code,
        .get_storage = backend_get_storage,
        .get_block_hash = backend_get_block_hash,
        .has_storage = backend_has_storage,
    };
    return b;
}

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

state_sink memstate_sink(memstate *m)
{
    state_sink s = {
        .ctx = m,
        .delete_account = sink_delete_account,
        .put_account = sink_put_account,
        .put_storage = sink_put_storage,
    };
    return s;
}

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
        if (u256_is_zero(&s->slots[i].value)) continue;
        uint8_t be[32];
        u256_store_be(be, &s->slots[i].key);
        keccak256(be, 32, leaves[n].key);
        rlp.len = 0;
        rlp_put_u256(&rlp, &s->slots[i].value);
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
        account *acc = &am->accounts[i];
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
    for (size_t i = 0; i < n; i++) {
        size_t one = rlp_list_begin(&rlp);
        rlp_put_bytes(&rlp, logs[i].addr.b, 20);
        size_t topics = rlp_list_begin(&rlp);
        for (unsigned t = 0; t < logs[i].n_topics; t++) rlp_put_bytes(&rlp, logs[i].topics[t].b, 32);
        rlp_list_end(&rlp, topics);
        rlp_put_bytes(&rlp, logs[i].data, logs[i].data_len);
        rlp_list_end(&rlp, one);
    }
    rlp_list_end(&rlp, all);
    keccak256(rlp.data, rlp.len, out->b);
    bytebuf_free(&rlp);
}
